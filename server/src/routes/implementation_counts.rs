//! The counts of the implementation view: its PPAs by status and by organization, with
//! how many are at risk and their average progress. One pass over `ppa_implementation`
//! counts both ways.
//!
//! For OCM's whole-government view that pass reads every PPA submitted across the
//! government (about 60 ms at 88,000; docs/benchmarks.md), so its counts are kept in
//! memory for [`GovernmentCounts::FRESH`], as the dashboards' overview is: at most that old,
//! while the rows below them are read afresh each time.

use bmms_shared::api::{ImplementationQuery, OrganizationImplementation, StatusCount, STALLED_AFTER_DAYS};
use bmms_shared::records::ppa::STATUSES;
use bmms_shared::OrgId;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::implementation::{filters, AT_RISK};
use crate::db::ReadTx;
use crate::error::ApiError;

/// One organization's PPAs of one status.
#[derive(Debug, sqlx::FromRow)]
pub struct Counted {
    org_id: OrgId,
    code: String,
    name: String,
    status: String,
    ppas: i64,
    at_risk: i64,
    progress_sum: f64,
    with_tasks: i64,
}

/// Counts the view's PPAs of `org` (None: all `tx` sees) as `query` filters them.
pub async fn count(tx: &mut ReadTx, org: Option<OrgId>, query: &ImplementationQuery) -> Result<Vec<Counted>, ApiError> {
    Ok(sqlx::query_as(&format!(
        "with counted as (
             select i.org_id, i.status, count(*) as ppas, count(*) filter (where {AT_RISK}) as at_risk,
                    coalesce(sum(i.progress_sum::float8 / i.tasks) filter (where i.tasks > 0), 0) as progress_sum,
                    count(*) filter (where i.tasks > 0) as with_tasks
             from ppa_implementation i where {} group by 1, 2)
         select c.*, o.code, o.name from counted c join organizations o on o.id = c.org_id order by o.code, c.status",
        filters(query)
    ))
    .bind(STALLED_AFTER_DAYS)
    .bind(org)
    .bind(&query.goal)
    .fetch_all(&mut **tx)
    .await?)
}

/// The whole government's counts (no organization, no goal), recounted at most every
/// [`Self::FRESH`].
#[derive(Debug, Default)]
pub struct GovernmentCounts {
    latest: Mutex<Option<(Instant, Arc<Vec<Counted>>)>>,
}

impl GovernmentCounts {
    const FRESH: Duration = Duration::from_secs(10);

    /// The counts, recounted through `tx` (an oversight transaction) when older than
    /// [`Self::FRESH`].
    pub async fn get(&self, tx: &mut ReadTx) -> Result<Arc<Vec<Counted>>, ApiError> {
        if let Some((at, counted)) = self.latest.lock().expect("not poisoned").as_ref() {
            if at.elapsed() < Self::FRESH {
                return Ok(Arc::clone(counted));
            }
        }
        let started = Instant::now();
        let counted = Arc::new(count(tx, None, &ImplementationQuery::default()).await?);
        *self.latest.lock().expect("not poisoned") = Some((started, Arc::clone(&counted)));
        Ok(counted)
    }
}

/// The counts by status and by organization, and how many rows the view's status and
/// at-risk filters leave.
pub fn summarize(counted: &[Counted], query: &ImplementationQuery) -> (Vec<StatusCount>, Vec<OrganizationImplementation>, i64) {
    let mut by_status: Vec<StatusCount> = Vec::new();
    let mut by_organization: Vec<OrganizationImplementation> = Vec::new();
    let mut progress: Vec<(f64, i64)> = Vec::new();
    let mut total = 0;
    for c in counted {
        if query.status.as_deref().is_none_or(|s| s == c.status) {
            total += if query.at_risk { c.at_risk } else { c.ppas };
        }
        match by_status.iter_mut().find(|s| s.status == c.status) {
            Some(s) => {
                s.ppas += c.ppas;
                s.at_risk += c.at_risk;
            }
            None => by_status.push(StatusCount { status: c.status.clone(), ppas: c.ppas, at_risk: c.at_risk }),
        }
        if by_organization.last().is_none_or(|o| o.org_id != c.org_id) {
            by_organization.push(OrganizationImplementation {
                org_id: c.org_id,
                code: c.code.clone(),
                name: c.name.clone(),
                ppas: 0,
                at_risk: 0,
                average_progress: None,
            });
            progress.push((0.0, 0));
        }
        let (o, p) = (by_organization.last_mut().expect("pushed"), progress.last_mut().expect("pushed"));
        o.ppas += c.ppas;
        o.at_risk += c.at_risk;
        *p = (p.0 + c.progress_sum, p.1 + c.with_tasks);
        o.average_progress = (p.1 > 0).then(|| (p.0 / p.1 as f64).round() as i64);
    }
    by_status.sort_by_key(|s| STATUSES.iter().position(|known| *known == s.status));
    (by_status, by_organization, total)
}
