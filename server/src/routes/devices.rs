//! `GET /api/v1/devices`: sync health, for supervisors. Per officer and device: the last
//! contact, the last exchange the server answered, how many changes the device had
//! waiting when it last called, its last refusal, and whether it has gone quiet.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::ApiQuery;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthQuery {
    /// A device not heard from for this many days is flagged (default 3).
    #[serde(default = "default_days")]
    pub not_seen_days: i32,
    /// Only the flagged devices.
    #[serde(default)]
    pub quiet_only: bool,
}

fn default_days() -> i32 {
    3
}

pub async fn health(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<HealthQuery>,
) -> Result<Json<Value>, ApiError> {
    signed_in.require_supervisor("see the officers' devices")?;
    if !(1..=365).contains(&query.not_seen_days) {
        return Err(ApiError::invalid_field("not_seen_days", "Choose between 1 and 365 days."));
    }
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    type Row = (Uuid, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<i32>, Option<String>, Option<DateTime<Utc>>, bool);
    let rows: Vec<Row> = sqlx::query_as(
        "select * from (
             select d.id, u.username, u.display_name, d.created_at, d.last_contact_at, d.last_sync_at,
                    d.pending_reported, d.last_refusal, d.last_refusal_at,
                    coalesce(d.last_contact_at, d.created_at) < now() - make_interval(days => $1) as quiet
             from devices d join users u on u.id = d.user_id
         ) devices
         where not $2 or quiet
         order by quiet desc, last_contact_at nulls first, display_name",
    )
    .bind(query.not_seen_days)
    .bind(query.quiet_only)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(id, username, name, registered, contact, sync, pending, refusal, refusal_at, quiet)| {
            json!({"device_id": id, "username": username, "display_name": name, "registered_at": registered,
                   "last_contact_at": contact, "last_sync_at": sync, "pending_reported": pending,
                   "last_refusal": refusal, "last_refusal_at": refusal_at, "quiet": quiet})
        })
        .collect();
    Ok(Json(json!({"items": items, "not_seen_days": query.not_seen_days})))
}
