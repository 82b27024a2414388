//! The Bangsamoro Development Plan's framework as the database keeps it
//! (migrations/0010): read whole, for `GET /api/v1/bdp` and for scoring, and the few
//! reads and writes its routes (`routes/bdp.rs`) share.

use bmms_shared::api::{Bdp, BdpGoal, BdpIndicator, BdpPriority, BdpSettings, Target};
use bmms_shared::plans::PriorityLevel;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::OrgTx;
use crate::error::ApiError;
use bmms_shared::psgc;
use crate::wire::timestamp;

#[derive(sqlx::FromRow)]
struct SettingsRow {
    title: String,
    first_year: i32,
    last_year: i32,
    full_reach: i32,
    sample: bool,
}

#[derive(sqlx::FromRow)]
struct GoalRow {
    id: Uuid,
    code: String,
    title: String,
    description: String,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct IndicatorRow {
    id: Uuid,
    goal_id: Uuid,
    code: String,
    name: String,
    unit: String,
    baseline: Option<f64>,
    baseline_year: Option<i32>,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    indicator_id: Uuid,
    year: i32,
    target: f64,
}

#[derive(sqlx::FromRow)]
struct PriorityRow {
    place_code: String,
    level: String,
    note: String,
}

/// The whole framework, as `GET /api/v1/bdp` answers it.
pub async fn load(conn: &mut PgConnection) -> Result<Bdp, ApiError> {
    let settings: SettingsRow = sqlx::query_as("select title, first_year, last_year, full_reach, sample from bdp_framework")
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the BDP framework has no settings row")))?;
    let goals: Vec<GoalRow> = sqlx::query_as("select id, code, title, description, updated_at from bdp_goals order by code").fetch_all(&mut *conn).await?;
    let indicators: Vec<IndicatorRow> =
        sqlx::query_as("select id, goal_id, code, name, unit, baseline, baseline_year, updated_at from bdp_indicators order by code")
            .fetch_all(&mut *conn)
            .await?;
    let targets: Vec<TargetRow> =
        sqlx::query_as("select indicator_id, year, target from bdp_indicator_targets order by year").fetch_all(&mut *conn).await?;
    let priorities: Vec<PriorityRow> =
        sqlx::query_as("select place_code, level, note from bdp_priorities order by place_code").fetch_all(&mut *conn).await?;
    let indicator = |i: &IndicatorRow| BdpIndicator {
        id: i.id,
        goal_id: i.goal_id,
        code: i.code.clone(),
        name: i.name.clone(),
        unit: i.unit.clone(),
        baseline: i.baseline,
        baseline_year: i.baseline_year,
        targets: targets.iter().filter(|t| t.indicator_id == i.id).map(|t| Target { year: t.year, value: t.target }).collect(),
        updated_at: timestamp(i.updated_at),
    };
    Ok(Bdp {
        settings: BdpSettings {
            title: settings.title,
            first_year: settings.first_year,
            last_year: settings.last_year,
            full_reach: settings.full_reach.into(),
            sample: settings.sample,
        },
        goals: goals
            .into_iter()
            .map(|g| BdpGoal {
                indicators: indicators.iter().filter(|i| i.goal_id == g.id).map(indicator).collect(),
                id: g.id,
                code: g.code,
                title: g.title,
                description: g.description,
                updated_at: timestamp(g.updated_at),
            })
            .collect(),
        priorities: priorities
            .into_iter()
            .map(|p| BdpPriority {
                place_name: psgc::name_of(&p.place_code).unwrap_or_default().to_owned(),
                level: PriorityLevel::parse(&p.level).unwrap_or(PriorityLevel::Low),
                place_code: p.place_code,
                note: p.note,
            })
            .collect(),
    })
}

pub async fn goal_of(tx: &mut OrgTx, id: Uuid) -> Result<BdpGoal, ApiError> {
    let bdp = load(tx).await?;
    bdp.goals.into_iter().find(|g| g.id == id).ok_or_else(|| ApiError::not_found("There is no such goal in the development plan."))
}

pub async fn indicator_of(tx: &mut OrgTx, id: Uuid) -> Result<BdpIndicator, ApiError> {
    let bdp = load(tx).await?;
    bdp.goals
        .into_iter()
        .flat_map(|g| g.indicators)
        .find(|i| i.id == id)
        .ok_or_else(|| ApiError::not_found("There is no such indicator in the development plan."))
}

pub async fn check_goal_exists(tx: &mut OrgTx, goal_id: Uuid) -> Result<(), ApiError> {
    let found: Option<Uuid> = sqlx::query_scalar("select id from bdp_goals where id = $1").bind(goal_id).fetch_optional(&mut **tx).await?;
    found.map(|_| ()).ok_or_else(|| ApiError::invalid_field("goal_id", "There is no such goal in the development plan; choose one of its goals."))
}

pub async fn save_targets(tx: &mut OrgTx, indicator_id: Uuid, targets: &[Target]) -> Result<(), ApiError> {
    for target in targets {
        sqlx::query("insert into bdp_indicator_targets (org_id, indicator_id, year, target) values ($1, $2, $3, $4)")
            .bind(tx.org_id())
            .bind(indicator_id)
            .bind(target.year)
            .bind(target.value)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

