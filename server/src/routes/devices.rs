//! The devices that sync: `POST /api/v1/devices` registers the one a user is on, and
//! `GET /api/v1/devices` is sync health, for supervisors. Per officer and device: the last
//! contact, the last exchange the server answered, how many changes the device had
//! waiting when it last called, its last refusal, and whether it has gone quiet.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use chrono::{DateTime, Utc};
use bmms_shared::api::{DeviceHealth, DeviceHealthList, DeviceRegistration, HealthQuery};
use bmms_shared::DeviceId;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::ApiQuery;
use crate::wire::{maybe_timestamp, timestamp};

/// The header that makes a registration sent twice register one device.
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// `POST /api/v1/devices`: a new device for the signed-in user. With an `Idempotency-Key`
/// header (the app sends one per page), the same key from the same user always names the
/// same device: a registration sent twice, or retried after a lost answer, registers one
/// device and answers with it each time.
pub async fn register(State(state): State<AppState>, signed_in: SignedIn, headers: HeaderMap) -> Result<Json<DeviceRegistration>, ApiError> {
    let caller = signed_in.require_writer()?;
    let device_id = match headers.get(IDEMPOTENCY_KEY) {
        None => DeviceId::random(),
        Some(key) => {
            let key = key.to_str().ok().filter(|k| !k.is_empty() && k.len() <= 128).ok_or_else(|| {
                ApiError::bad_request("invalid_idempotency_key", "The Idempotency-Key header must be 1 to 128 visible characters.")
            })?;
            // Derived, so that nothing needs remembering: one key of one user, one device.
            let digest = Sha256::digest(format!("bmms-device:{}:{key}", caller.user_id));
            DeviceId(Uuid::from_slice(&digest[..16]).map_err(|e| ApiError::Internal(e.into()))?)
        }
    };
    let actor = Uuid::new_v4().as_bytes().to_vec();
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let inserted: Option<DeviceId> = sqlx::query_scalar(
        "insert into devices (org_id, id, user_id, actor) values ($1, $2, $3, $4) on conflict (org_id, id) do nothing returning id",
    )
    .bind(tx.org_id())
    .bind(device_id)
    .bind(caller.user_id)
    .bind(&actor)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_none() {
        // Registered before with this key: the same device, as it was.
        let actor: Vec<u8> = sqlx::query_scalar("select actor from devices where id = $1 and user_id = $2")
            .bind(device_id)
            .bind(caller.user_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        return Ok(Json(DeviceRegistration { device_id, actor: hex::encode(actor) }));
    }
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "device.register",
        subject: format!("device:{device_id}"),
        details: json!({}),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(DeviceRegistration { device_id, actor: hex::encode(actor) }))
}

/// A device as sync health lists it.
#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: DeviceId,
    username: String,
    display_name: String,
    created_at: DateTime<Utc>,
    last_contact_at: Option<DateTime<Utc>>,
    last_sync_at: Option<DateTime<Utc>>,
    pending_reported: Option<i32>,
    last_refusal: Option<String>,
    last_refusal_at: Option<DateTime<Utc>>,
    quiet: bool,
}

pub async fn health(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<HealthQuery>,
) -> Result<Json<DeviceHealthList>, ApiError> {
    let caller = signed_in.require_supervisor("see the officers' devices")?;
    if !(1..=365).contains(&query.not_seen_days) {
        return Err(ApiError::invalid_field("not_seen_days", "Choose between 1 and 365 days."));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<DeviceRow> = sqlx::query_as(
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
    let items = rows
        .into_iter()
        .map(|d| DeviceHealth {
            device_id: d.id,
            display_name: d.display_name,
            last_contact_at: maybe_timestamp(d.last_contact_at),
            last_refusal: d.last_refusal,
            last_refusal_at: maybe_timestamp(d.last_refusal_at),
            last_sync_at: maybe_timestamp(d.last_sync_at),
            pending_reported: d.pending_reported,
            quiet: d.quiet,
            registered_at: timestamp(d.created_at),
            username: d.username,
        })
        .collect();
    Ok(Json(DeviceHealthList { items, not_seen_days: query.not_seen_days }))
}
