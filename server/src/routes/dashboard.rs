//! `GET /api/v1/dashboard`: the figures of one organization or, for the Office of the
//! Chief Minister, of the whole government; and `GET /api/v1/dashboard/records`, the
//! records behind a municipality's figures, for those who may drill down.
//!
//! Who sees what:
//! - OCM executives and analysts: every organization's totals (`?org=` narrows to one);
//! - everyone else: their own organization's totals only (another `org` is a 404);
//! - the records behind the totals: OCM analysts (any organization, read-only) and
//!   members of the organization; never OCM executives.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bmms_shared::api::{AssessmentQuery, AssessmentRow, Dashboard, DashboardOrganization, DashboardQuery, DrillQuery, Page};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use bmms_shared::{psgc, OrgId};

use crate::app::AppState;
use crate::auth::{Caller, SignedIn};
use crate::dashboard;
use crate::db::{Db, ReadTx};
use crate::error::ApiError;
use crate::routes::extract::ApiQuery;
use crate::routes::records::{assessment_page, AssessmentFilters};

/// A dashboard may be reused by the browser, after asking whether it changed.
const REVALIDATE: &str = "private, no-cache";

fn not_visible() -> ApiError {
    ApiError::not_found("There is no such organization among those you can see.")
}

/// The organization `id`, if it exists.
async fn organization(state: &AppState, id: OrgId) -> Result<DashboardOrganization, ApiError> {
    let row: Option<(String, String)> = sqlx::query_as("select code, name from organizations where id = $1")
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    let (code, name) = row.ok_or_else(not_visible)?;
    Ok(DashboardOrganization { code, id, name })
}

/// The organization a request may look at: OCM may pick any (or none: all of them);
/// everyone else gets their own.
async fn scope(state: &AppState, caller: &Caller, asked: Option<OrgId>) -> Result<(Option<OrgId>, Option<DashboardOrganization>), ApiError> {
    match caller.organization_to_open(asked).map_err(|_| not_visible())? {
        Some(id) => Ok((Some(id), Some(organization(state, id).await?))),
        None => Ok((None, None)),
    }
}

pub async fn show(
    State(state): State<AppState>,
    signed_in: SignedIn,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<DashboardQuery>,
) -> Result<Response, ApiError> {
    let caller = signed_in.require_member()?;
    let (org, organization) = scope(&state, &caller, query.org).await?;
    let body = match org {
        None => state.overview.get(|| state.oversight_db()).await?,
        Some(id) if !caller.role.oversees_all() => Arc::new(figures_body(ReadTx::organization(&state.db, id).await?, org, organization).await?),
        Some(_) => Arc::new(figures_body(ReadTx::oversight(&state.oversight_db()).await?, org, organization).await?),
    };
    // The tag is the body's digest: an unchanged dashboard is answered 304, with no body.
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(body.as_slice())[..16]));
    let headers_out = [
        (header::ETAG, HeaderValue::from_str(&etag).map_err(|e| ApiError::Internal(e.into()))?),
        (header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE)),
    ];
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, headers_out).into_response());
    }
    Ok((headers_out, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body.to_vec()).into_response())
}

/// The answer's body: the figures `tx` reads for `org`.
async fn figures_body(mut tx: ReadTx, org: Option<OrgId>, organization: Option<DashboardOrganization>) -> Result<Vec<u8>, ApiError> {
    let figures = dashboard::load(&mut tx, org).await?;
    tx.finish().await?;
    serde_json::to_vec(&Dashboard { figures, organization }).map_err(|e| ApiError::Internal(e.into()))
}

/// The government overview sums every organization's totals (tens of thousands of summary
/// rows at 1,000,000 records: about 100 ms), so it is computed at most every
/// [`Overview::FRESH`] and served from memory in between. An answer older than that is
/// still served while one request recomputes it in the background, and never one older
/// than [`Overview::STALE`]: the figures are at most a minute old, as the dashboards promise.
#[derive(Debug, Default)]
pub struct Overview {
    latest: Mutex<Option<(Instant, Arc<Vec<u8>>)>>,
    refreshing: AtomicBool,
}

impl Overview {
    const FRESH: Duration = Duration::from_secs(10);
    const STALE: Duration = Duration::from_secs(60);

    /// The overview; `db` chooses the database when it must be read (a replica, or the
    /// primary: [`AppState::oversight_db`]).
    async fn get(self: &Arc<Self>, db: impl FnOnce() -> Db) -> Result<Arc<Vec<u8>>, ApiError> {
        let latest = self.latest.lock().expect("not poisoned").clone();
        match latest {
            Some((at, body)) if at.elapsed() < Self::FRESH => Ok(body),
            Some((at, body)) if at.elapsed() < Self::STALE => {
                if !self.refreshing.swap(true, Ordering::SeqCst) {
                    let (overview, db) = (Arc::clone(self), db());
                    tokio::spawn(async move {
                        if let Err(err) = overview.compute(&db).await {
                            tracing::warn!(error = ?err, "could not refresh the government overview");
                        }
                        overview.refreshing.store(false, Ordering::SeqCst);
                    });
                }
                Ok(body)
            }
            _ => self.compute(&db()).await,
        }
    }

    async fn compute(&self, db: &Db) -> Result<Arc<Vec<u8>>, ApiError> {
        let started = Instant::now();
        let body = Arc::new(figures_body(ReadTx::oversight(db).await?, None, None).await?);
        *self.latest.lock().expect("not poisoned") = Some((started, Arc::clone(&body)));
        Ok(body)
    }
}

pub async fn records(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<DrillQuery>,
) -> Result<Json<Page<AssessmentRow>>, ApiError> {
    let caller = signed_in.require_drill_down()?;
    // Another organization is a 404 for a ministry user; for OCM, one that does not exist.
    let org = match (caller.role.oversees_all(), query.org) {
        (true, None) => return Err(ApiError::invalid_field("org", "Choose the organization whose records to open.")),
        (_, asked) => scope(&state, &caller, asked).await?.0.unwrap_or(caller.org_id),
    };
    // A place named by codes holds the assessments coded in it; one named by typed names
    // only those without a code, as the figures count them.
    let coded = [&query.province, &query.municipality].into_iter().flatten().any(|place| psgc::is_code(place));
    let asked = AssessmentQuery {
        status: query.status,
        province: query.province,
        municipality: query.municipality,
        sort: Some("community".into()),
        limit: query.limit,
        offset: query.offset,
        ..AssessmentQuery::default()
    };
    let mut filters = AssessmentFilters::read(&asked)?;
    filters.uncoded_only = !coded;
    let mut tx = ReadTx::organization(&state.db, org).await?;
    let page = assessment_page(&mut tx, &filters).await?;
    tx.finish().await?;
    Ok(Json(page))
}
