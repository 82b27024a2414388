//! The dashboards' figures, read from the summary tables that triggers keep current
//! (migrations/0009): a few thousand rows for the whole government, never the records.
//! The same queries serve a ministry (its [`ReadTx`] sees its own totals) and the
//! Office of the Chief Minister (every organization's, or the one it picked).

use bmms_shared::api::{BudgetFigures, ByMonth, ByStatus, Date, Figures, OrgFigures, Place, TaskTotals, Totals};
use bmms_shared::psgc;
use bmms_shared::OrgId;
use std::collections::BTreeMap;

use crate::db::ReadTx;

/// One month and status of a summary table, summed over the organizations asked: from
/// these few rows come the table's totals, its counts by status and its counts by month,
/// in one query instead of three (each query is a round trip, and reads the same rows).
#[derive(sqlx::FromRow)]
struct MonthAndStatus {
    month: Option<Date>,
    status: String,
    count: i64,
    /// Assessments: households; tasks: the sum of their progress.
    first_sum: i64,
    /// Assessments: population; tasks: how many report progress.
    second_sum: i64,
}

/// A municipality's summary with the sums behind its mean GPS point, so that provinces
/// can be summed from municipalities rather than read again.
#[derive(sqlx::FromRow)]
struct PlaceSums {
    province_code: Option<String>,
    province: String,
    municipality_code: Option<String>,
    municipality: String,
    assessments: i64,
    households: i64,
    population: i64,
    located: i64,
    latitude_sum: f64,
    longitude_sum: f64,
}

/// Reads the figures of `org` (None: every organization `tx` can see).
pub async fn load(tx: &mut ReadTx, org: Option<OrgId>) -> sqlx::Result<Figures> {
    // One organization's rows by `org_id = $1`, which the summary tables' keys begin with.
    // Not `($1 is null or org_id = $1)`: PostgreSQL plans a prepared statement generically
    // after a few runs, and that plan reads every organization's rows whichever is asked
    // (about 3x slower at 1,000,000 records; docs/benchmarks.md, Dashboards).
    let (of_org, of_moa) = match org {
        Some(_) => ("org_id = $1", "moa_id = $1"),
        None => ("$1::uuid is null", "$1::uuid is null"),
    };
    let assessment_rows: Vec<MonthAndStatus> = sqlx::query_as(&format!(
        "select to_char(nullif(month, 'infinity'), 'YYYY-MM-DD') as month, status, sum(assessments)::int8 as count,
                sum(households)::int8 as first_sum, sum(population)::int8 as second_sum
         from agg_assessments_month where {of_org} group by month, status",
    ))
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let places: Vec<PlaceSums> = sqlx::query_as(&format!(
        "select nullif(province_code, '') as province_code, province, nullif(municipality_code, '') as municipality_code,
                municipality, sum(assessments)::int8 as assessments, sum(households)::int8 as households,
                sum(population)::int8 as population, sum(located)::int8 as located,
                sum(latitude_sum)::float8 as latitude_sum, sum(longitude_sum)::float8 as longitude_sum
         from agg_assessments_place where {of_org}
         group by 1, 2, 3, 4 having sum(assessments) > 0",
    ))
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let needs = sqlx::query_as(&format!(
        "select sector, severity, sum(assessments)::int8 as assessments from agg_needs
         where {of_org} group by sector, severity having sum(assessments) > 0 order by sector, severity",
    ))
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let task_rows: Vec<MonthAndStatus> = sqlx::query_as(&format!(
        "select to_char(nullif(month, 'infinity'), 'YYYY-MM-DD') as month, status, sum(tasks)::int8 as count,
                sum(progress_sum)::int8 as first_sum, sum(progress_count)::int8 as second_sum
         from agg_tasks_month where {of_org} group by month, status",
    ))
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let overdue: i64 = sqlx::query_scalar(&format!(
        "select coalesce(sum(tasks), 0)::int8 from agg_tasks_open_due where {of_org} and due_date < current_date"
    ))
    .bind(org)
    .fetch_one(&mut **tx)
    .await?;
    // This calendar year's budget if it was enacted, else the latest that was.
    let budget: Option<BudgetFigures> = sqlx::query_as(&format!(
        "select fiscal_year, sum(planned)::int8 as enacted, sum(released)::int8 as released,
                sum(obligated)::int8 as obligated, sum(disbursed)::int8 as disbursed
         from budget_execution_totals where {of_moa}
         group by fiscal_year order by fiscal_year = extract(year from current_date) desc, fiscal_year desc limit 1",
    ))
    .bind(org)
    .fetch_optional(&mut **tx)
    .await?;
    let organizations = if org.is_none() { compare_organizations(tx).await? } else { Vec::new() };
    let sum = |rows: &[MonthAndStatus], of: fn(&MonthAndStatus) -> i64| rows.iter().map(of).sum::<i64>();
    let progress_count = sum(&task_rows, |r| r.second_sum);
    Ok(Figures {
        assessments: Totals {
            assessments: sum(&assessment_rows, |r| r.count),
            households: sum(&assessment_rows, |r| r.first_sum),
            population: sum(&assessment_rows, |r| r.second_sum),
        },
        budget,
        assessments_by_status: by_status(&assessment_rows),
        provinces: named(provinces_of(&places)),
        municipalities: named(places.into_iter().map(PlaceSums::into_place).collect()),
        assessments_by_month: by_month(&assessment_rows, None),
        needs,
        tasks: TaskTotals {
            tasks: sum(&task_rows, |r| r.count),
            overdue,
            // Rounded half away from zero, as PostgreSQL rounds a numeric.
            average_progress: (progress_count > 0)
                .then(|| (sum(&task_rows, |r| r.first_sum) as f64 / progress_count as f64).round() as i64),
        },
        tasks_by_status: by_status(&task_rows),
        tasks_by_month: by_month(&task_rows, Some("done")),
        organizations,
    })
}

/// The count of each status that has any, in the order of the statuses' names.
fn by_status(rows: &[MonthAndStatus]) -> Vec<ByStatus> {
    let mut counts: BTreeMap<&str, i64> = BTreeMap::new();
    for row in rows {
        *counts.entry(&row.status).or_default() += row.count;
    }
    counts.into_iter().filter(|(_, count)| *count > 0).map(|(status, count)| ByStatus { status: status.to_owned(), count }).collect()
}

/// The count of each month that has any, in order, undated last; with how many are of the
/// status `done`, if given.
fn by_month(rows: &[MonthAndStatus], done: Option<&str>) -> Vec<ByMonth> {
    let mut months: BTreeMap<(bool, Option<&Date>), (i64, i64)> = BTreeMap::new();
    for row in rows {
        let month = months.entry((row.month.is_none(), row.month.as_ref())).or_default();
        month.0 += row.count;
        if done == Some(row.status.as_str()) {
            month.1 += row.count;
        }
    }
    months
        .into_iter()
        .filter(|(_, (count, _))| *count > 0)
        .map(|((_, month), (count, done))| ByMonth { month: month.cloned(), count, done })
        .collect()
}

/// Each province's sums, from its municipalities'.
fn provinces_of(municipalities: &[PlaceSums]) -> Vec<Place> {
    let mut provinces: BTreeMap<(Option<&str>, &str), PlaceSums> = BTreeMap::new();
    for m in municipalities {
        let province = provinces.entry((m.province_code.as_deref(), &m.province)).or_insert_with(|| PlaceSums {
            province_code: m.province_code.clone(),
            province: m.province.clone(),
            municipality_code: None,
            municipality: String::new(),
            assessments: 0,
            households: 0,
            population: 0,
            located: 0,
            latitude_sum: 0.0,
            longitude_sum: 0.0,
        });
        province.assessments += m.assessments;
        province.households += m.households;
        province.population += m.population;
        province.located += m.located;
        province.latitude_sum += m.latitude_sum;
        province.longitude_sum += m.longitude_sum;
    }
    provinces.into_values().map(PlaceSums::into_place).collect()
}

impl PlaceSums {
    fn into_place(self) -> Place {
        let mean = |sum: f64| (self.located > 0).then(|| sum / self.located as f64);
        Place {
            latitude: mean(self.latitude_sum),
            longitude: mean(self.longitude_sum),
            province_code: self.province_code,
            province: self.province,
            municipality_code: self.municipality_code,
            municipality: self.municipality,
            assessments: self.assessments,
            households: self.households,
            population: self.population,
        }
    }
}

/// Names the places that have PSGC codes as PSA names them, and sorts them by name.
fn named(mut places: Vec<Place>) -> Vec<Place> {
    for place in &mut places {
        if let Some(name) = place.province_code.as_deref().and_then(psgc::name_of) {
            place.province = name.to_owned();
        }
        if let Some(name) = place.municipality_code.as_deref().and_then(psgc::name_of) {
            place.municipality = name.to_owned();
        }
    }
    places.sort_by(|a, b| (&a.province, &a.municipality, &a.province_code).cmp(&(&b.province, &b.municipality, &b.province_code)));
    places
}

/// Every organization `tx` can see the totals of, side by side (ministries, offices and
/// agencies only: the three with special powers hold no field records).
async fn compare_organizations(tx: &mut ReadTx) -> sqlx::Result<Vec<OrgFigures>> {
    sqlx::query_as(
        "with a as (select org_id, sum(assessments) as assessments, sum(households) as households,
                           sum(population) as population
                    from agg_assessments_month group by org_id),
              t as (select org_id, sum(tasks) as tasks, sum(tasks) filter (where status = 'done') as done,
                           round(sum(progress_sum)::numeric / nullif(sum(progress_count), 0)) as progress
                    from agg_tasks_month group by org_id),
              o as (select org_id, sum(tasks) as overdue from agg_tasks_open_due where due_date < current_date group by org_id)
         select org.id, org.code, org.name, coalesce(a.assessments, 0)::int8 as assessments,
                coalesce(a.households, 0)::int8 as households, coalesce(a.population, 0)::int8 as population,
                coalesce(t.tasks, 0)::int8 as tasks, coalesce(t.done, 0)::int8 as tasks_done,
                coalesce(o.overdue, 0)::int8 as overdue, t.progress::int8 as average_progress
         from organizations org
         left join a on a.org_id = org.id left join t on t.org_id = org.id left join o on o.org_id = org.id
         where org.kind = 'moa'
         order by org.code",
    )
    .fetch_all(&mut **tx)
    .await
}
