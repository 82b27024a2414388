//! The dashboards' figures, read from the summary tables that triggers keep current
//! (migrations/0009): a few thousand rows for the whole government, never the records.
//! The same queries serve a ministry (its [`ReadTx`] sees its own totals) and the
//! Office of the Chief Minister (every organization's, or the one it picked).

use bmms_shared::api::{BudgetFigures, Figures, OrgFigures, Place, TaskTotals, Totals};
use bmms_shared::psgc;
use bmms_shared::OrgId;

use crate::db::ReadTx;

/// Reads the figures of `org` (None: every organization `tx` can see).
pub async fn load(tx: &mut ReadTx, org: Option<OrgId>) -> sqlx::Result<Figures> {
    let assessments: Totals = sqlx::query_as(
        "select coalesce(sum(assessments), 0)::int8 as assessments, coalesce(sum(households), 0)::int8 as households,
                coalesce(sum(population), 0)::int8 as population
         from agg_assessments_month where ($1::uuid is null or org_id = $1)",
    )
    .bind(org)
    .fetch_one(&mut **tx)
    .await?;
    let assessments_by_status = sqlx::query_as(
        "select status, sum(assessments)::int8 as count from agg_assessments_month
         where ($1::uuid is null or org_id = $1) group by status having sum(assessments) > 0 order by status",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let places = |by_municipality: bool| {
        let (code, name) = if by_municipality { ("municipality_code", "municipality") } else { ("''", "''::text") };
        format!(
            "select nullif(province_code, '') as province_code, province, nullif({code}, '') as municipality_code,
                    {name} as municipality, sum(assessments)::int8 as assessments, sum(households)::int8 as households,
                    sum(population)::int8 as population, sum(latitude_sum) / nullif(sum(located), 0) as latitude,
                    sum(longitude_sum) / nullif(sum(located), 0) as longitude
             from agg_assessments_place where ($1::uuid is null or org_id = $1)
             group by 1, 2, 3, 4 having sum(assessments) > 0"
        )
    };
    let provinces = named(sqlx::query_as(&places(false)).bind(org).fetch_all(&mut **tx).await?);
    let municipalities = named(sqlx::query_as(&places(true)).bind(org).fetch_all(&mut **tx).await?);
    let assessments_by_month = sqlx::query_as(
        "select to_char(nullif(month, 'infinity'), 'YYYY-MM-DD') as month, sum(assessments)::int8 as count, 0::int8 as done
         from agg_assessments_month where ($1::uuid is null or org_id = $1)
         group by month having sum(assessments) > 0 order by month",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let needs = sqlx::query_as(
        "select sector, severity, sum(assessments)::int8 as assessments from agg_needs
         where ($1::uuid is null or org_id = $1) group by sector, severity having sum(assessments) > 0 order by sector, severity",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let tasks: TaskTotals = sqlx::query_as(
        "select coalesce(sum(tasks), 0)::int8 as tasks,
                (select coalesce(sum(tasks), 0)::int8 from agg_tasks_open_due
                 where ($1::uuid is null or org_id = $1) and due_date < current_date) as overdue,
                round(sum(progress_sum)::numeric / nullif(sum(progress_count), 0))::int8 as average_progress
         from agg_tasks_month where ($1::uuid is null or org_id = $1)",
    )
    .bind(org)
    .fetch_one(&mut **tx)
    .await?;
    let tasks_by_status = sqlx::query_as(
        "select status, sum(tasks)::int8 as count from agg_tasks_month
         where ($1::uuid is null or org_id = $1) group by status having sum(tasks) > 0 order by status",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let tasks_by_month = sqlx::query_as(
        "select to_char(nullif(month, 'infinity'), 'YYYY-MM-DD') as month, sum(tasks)::int8 as count,
                coalesce(sum(tasks) filter (where status = 'done'), 0)::int8 as done
         from agg_tasks_month where ($1::uuid is null or org_id = $1)
         group by month having sum(tasks) > 0 order by month",
    )
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    // This calendar year's budget if it was enacted, else the latest that was.
    let budget: Option<BudgetFigures> = sqlx::query_as(
        "select fiscal_year, sum(planned)::int8 as enacted, sum(released)::int8 as released,
                sum(obligated)::int8 as obligated, sum(disbursed)::int8 as disbursed
         from budget_execution_totals where ($1::uuid is null or moa_id = $1)
         group by fiscal_year order by fiscal_year = extract(year from current_date) desc, fiscal_year desc limit 1",
    )
    .bind(org)
    .fetch_optional(&mut **tx)
    .await?;
    let organizations = if org.is_none() { compare_organizations(tx).await? } else { Vec::new() };
    Ok(Figures {
        assessments,
        budget,
        assessments_by_status,
        provinces,
        municipalities,
        assessments_by_month,
        needs,
        tasks,
        tasks_by_status,
        tasks_by_month,
        organizations,
    })
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
