//! The SQL of devices and batches that an exchange runs before and after the merge: whose
//! device this is, whether this batch was seen before (and what it did then), and the
//! device's sync health as the supervisor's screen shows it.

use bmms_shared::sync::protocol::{self, Rejection, SyncRequest};
use bmms_shared::{DeviceId, DocId, UserId};
use serde::{Deserialize, Serialize};

use crate::db::OrgTx;
use crate::error::ApiError;

/// What a batch did, kept so that the same batch sent again gets the same answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outcome {
    pub acknowledged: Vec<DocId>,
    pub rejections: Vec<Rejection>,
}

/// One exchange per device at a time: a batch sent twice at once is applied once. The
/// lock is PostgreSQL's, so it holds across server replicas, until the transaction ends.
pub async fn lock_device(tx: &mut OrgTx, device_id: DeviceId) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('sync:' || $1::text, 0))")
        .bind(device_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The Automerge actor id of `user_id`'s device `device_id`; 403 if the organization has
/// no such device or it is someone else's.
pub async fn device_actor(tx: &mut OrgTx, device_id: DeviceId, user_id: UserId) -> Result<Vec<u8>, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Device {
        actor: Vec<u8>,
        user_id: UserId,
    }
    let device: Option<Device> = sqlx::query_as("select actor, user_id from devices where id = $1")
        .bind(device_id)
        .fetch_optional(&mut **tx)
        .await?;
    match device {
        Some(device) if device.user_id == user_id => Ok(device.actor),
        _ => Err(ApiError::forbidden(
            "unknown_device",
            "This device is not registered to you. Sign in again on this device; your changes are kept.",
        )),
    }
}

/// What the server knows of a batch before applying it.
pub enum Seen {
    /// Never: apply it.
    New,
    /// Applied before: answer as then, apply nothing.
    Before(Outcome),
    /// Its id was used before for other content (a digest of the body differs).
    WithOtherContent,
}

/// Whether the device's batch `request.batch_id`, whose body has the SHA-256 `digest`,
/// was applied before.
pub async fn seen(tx: &mut OrgTx, request: &SyncRequest, digest: &[u8]) -> Result<Seen, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Batch {
        body_sha256: Vec<u8>,
        outcome: Vec<u8>,
    }
    let earlier: Option<Batch> =
        sqlx::query_as("select body_sha256, outcome from sync_batches where device_id = $1 and batch_id = $2")
            .bind(request.device_id)
            .bind(request.batch_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(match earlier {
        None => Seen::New,
        Some(batch) if batch.body_sha256 != digest => Seen::WithOtherContent,
        Some(batch) => Seen::Before(protocol::decode::<Outcome>(&batch.outcome).map_err(|e| ApiError::Internal(e.into()))?),
    })
}

/// Keeps what a new batch did, for when it is sent again.
pub async fn remember(tx: &mut OrgTx, request: &SyncRequest, digest: &[u8], outcome: &Outcome) -> sqlx::Result<()> {
    sqlx::query("insert into sync_batches (org_id, device_id, batch_id, body_sha256, outcome) values ($1, $2, $3, $4, $5)")
        .bind(tx.org_id())
        .bind(request.device_id)
        .bind(request.batch_id)
        .bind(digest)
        .bind(protocol::encode(outcome))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Keeps the device's sync health after an exchange.
pub async fn record_contact(tx: &mut OrgTx, request: &SyncRequest, outcome: &Outcome) -> sqlx::Result<()> {
    let pending: usize = request.documents.iter().map(|d| d.changes.len()).sum();
    let refusal = outcome.rejections.first().map(|r| r.message.clone());
    sqlx::query(
        "update devices set last_contact_at = now(), last_sync_at = now(), pending_reported = $2,
             last_refusal = coalesce($3, last_refusal),
             last_refusal_at = case when $3::text is null then last_refusal_at else now() end
         where id = $1",
    )
    .bind(request.device_id)
    .bind(i32::try_from(pending).unwrap_or(i32::MAX))
    .bind(refusal)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps a refused batch's reason in the device's sync health, where the supervisor sees it.
pub async fn record_refusal(tx: &mut OrgTx, device_id: DeviceId, message: &str) -> sqlx::Result<()> {
    sqlx::query("update devices set last_contact_at = now(), last_refusal = $2, last_refusal_at = now() where id = $1")
        .bind(device_id)
        .bind(message)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
