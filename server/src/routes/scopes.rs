//! What a field officer's devices hold (docs/sync-protocol.md, "Sync scope"): a
//! supervisor gives each officer their municipalities, and anyone pins a record to keep
//! it on their devices beyond their scope (a supervisor may pin one for an officer). The
//! next sync brings what entered a scope and removes what left it (`sync/scope.rs`).

use axum::extract::State;
use axum::Json;
use bmms_shared::api::{OfficerAreas, Pin, Pinned};
use bmms_shared::{psgc, DocId, UserId};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Caller, SignedIn};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::extract::{ApiJson, ApiPath};
use crate::wire::timestamp;

/// An officer works in at most this many municipalities.
const MAX_AREAS: usize = 100;
/// How long a pin keeps a record on a device (also in `officer_scope`, migration 0037).
const PIN_DAYS: i64 = 30;
/// A person keeps at most this many records by pins: a phone holds a scope, not the
/// organization pinned record by record.
const MAX_PINS: i64 = 500;

/// The field officer of the caller's organization with this username.
async fn field_officer(tx: &mut OrgTx, username: &str) -> Result<UserId, ApiError> {
    let found: Option<UserId> = sqlx::query_scalar(
        "select u.id from memberships m join users u on u.id = m.user_id where u.username = $1 and m.role = 'field_officer'",
    )
    .bind(username)
    .fetch_optional(&mut **tx)
    .await?;
    found.ok_or_else(|| ApiError::not_found(format!("Your organization has no field officer with the username \"{username}\".")))
}

/// `GET /api/v1/officers/{username}/areas`.
pub async fn areas(State(state): State<AppState>, signed_in: SignedIn, ApiPath(username): ApiPath<String>) -> Result<Json<OfficerAreas>, ApiError> {
    let caller = signed_in.require_supervisor("see where officers work")?;
    let mut tx = OrgTx::begin_read_only(&state.db, caller.org_id).await?;
    let officer = field_officer(&mut tx, &username).await?;
    let municipalities = sqlx::query_scalar("select municipality_code from officer_areas where user_id = $1 order by municipality_code")
        .bind(officer)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(OfficerAreas { municipalities }))
}

/// `PUT /api/v1/officers/{username}/areas`: replaces the officer's municipalities.
pub async fn set_areas(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(username): ApiPath<String>,
    body: Result<ApiJson<OfficerAreas>, ApiError>,
) -> Result<Json<OfficerAreas>, ApiError> {
    signed_in.require_writer()?;
    let caller = signed_in.require_supervisor("give officers their municipalities")?;
    let ApiJson(OfficerAreas { mut municipalities }) = body?;
    municipalities.sort();
    municipalities.dedup();
    if municipalities.len() > MAX_AREAS {
        return Err(ApiError::invalid_field("municipalities", format!("An officer works in at most {MAX_AREAS} municipalities.")));
    }
    if let Some(wrong) = municipalities.iter().find(|code| !psgc::place(code).is_some_and(|p| p.is_municipal())) {
        return Err(ApiError::invalid_field(
            "municipalities",
            format!("\"{wrong}\" is not the code of a city or municipality of BARMM (shared/data/psgc-barmm.csv)."),
        ));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let officer = field_officer(&mut tx, &username).await?;
    // Two supervisors saving at once take turns (the second replaces the first's list).
    lock(&mut tx, "areas", officer).await?;
    sqlx::query("delete from officer_areas where user_id = $1").bind(officer).execute(&mut *tx).await?;
    sqlx::query(
        "insert into officer_areas (org_id, user_id, municipality_code, given_by) select $1, $2, code, $3 from unnest($4::text[]) code",
    )
    .bind(tx.org_id())
    .bind(officer)
    .bind(caller.user_id)
    .bind(&municipalities)
    .execute(&mut *tx)
    .await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "officer.areas",
        subject: format!("user:{officer}"),
        details: json!({"username": username, "municipalities": municipalities}),
    })
    .await?;
    tx.commit().await?;
    state.events.announce(caller.org_id, Topic::Devices);
    Ok(Json(OfficerAreas { municipalities }))
}

/// Until the transaction ends, the one change of `what` of `user` in progress.
async fn lock(tx: &mut OrgTx, what: &str, user: UserId) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1 || ':' || $2::text, 0))")
        .bind(what)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whose devices a pin is for: the caller's, or a supervisor's officer's.
async fn pin_holder(tx: &mut OrgTx, signed_in: &SignedIn, caller: &Caller, pin: &Pin) -> Result<UserId, ApiError> {
    match &pin.officer {
        None => Ok(caller.user_id),
        Some(username) => {
            signed_in.require_supervisor("keep a record on an officer's phone")?;
            field_officer(tx, username).await
        }
    }
}

async fn require_record(tx: &mut OrgTx, id: DocId) -> Result<(), ApiError> {
    let exists: bool = sqlx::query_scalar("select exists (select 1 from documents where id = $1)").bind(id).fetch_one(&mut **tx).await?;
    if !exists {
        return Err(ApiError::not_found("There is no such record in your organization."));
    }
    Ok(())
}

/// `POST /api/v1/records/{id}/pin`: keeps the record on the holder's devices for 30 days
/// from now (pinning again renews it).
pub async fn pin(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<DocId>,
    body: Result<ApiJson<Pin>, ApiError>,
) -> Result<Json<Pinned>, ApiError> {
    let caller = signed_in.require_writer()?;
    let ApiJson(pin) = body?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let holder = pin_holder(&mut tx, &signed_in, &caller, &pin).await?;
    require_record(&mut tx, id).await?;
    // Pins of one person are counted one request at a time.
    lock(&mut tx, "pins", holder).await?;
    let pinned: i64 = sqlx::query_scalar(
        "select count(*) from record_pins where user_id = $1 and doc_id <> $2 and pinned_at > now() - make_interval(days => $3)",
    )
    .bind(holder)
    .bind(id)
    .bind(PIN_DAYS as i32)
    .fetch_one(&mut *tx)
    .await?;
    if pinned >= MAX_PINS {
        return Err(ApiError::invalid_field(
            "pin",
            format!("At most {MAX_PINS} records can be kept on a phone beyond its scope. Stop keeping some, or ask a supervisor for the municipality."),
        ));
    }
    let pinned_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into record_pins (org_id, user_id, doc_id) values ($1, $2, $3)
         on conflict (org_id, user_id, doc_id) do update set pinned_at = now() returning pinned_at",
    )
    .bind(tx.org_id())
    .bind(holder)
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "record.pin",
        subject: format!("record:{id}"),
        details: json!({"for": holder}),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(Pinned { until: timestamp(pinned_at + chrono::Duration::days(PIN_DAYS)) }))
}

/// `DELETE /api/v1/records/{id}/pin`: the signed-in person's pin ends; the record leaves
/// their devices at the next sync unless their scope holds it otherwise.
pub async fn unpin(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<DocId>) -> Result<axum::http::StatusCode, ApiError> {
    let caller = signed_in.require_writer()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let removed = sqlx::query("delete from record_pins where user_id = $1 and doc_id = $2")
        .bind(caller.user_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed > 0 {
        audit::append(&mut tx, Event { actor: &caller.actor(), action: "record.unpin", subject: format!("record:{id}"), details: json!({}) })
            .await?;
    }
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
