//! A field officer's device holds its scope, not the whole organization: the assessments
//! of the municipalities a supervisor gave the officer, the tasks assigned to them, the
//! records they created and those they pinned in the last 30 days (the SQL function `officer_scope`, migration 0037). Other
//! roles' devices hold the whole organization, as before.
//!
//! The server remembers what it told each scoped device it holds (`device_scope`), and
//! each exchange sends the difference: records that entered the scope come whole,
//! records that left it are named in `removed`. Every answer that carries such news
//! raises the device's scope version; the device echoes the last version it took, so a
//! lost answer's news is sent again. docs/sync-protocol.md, "Sync scope", tells the rules.

use bmms_shared::sync::protocol::{DocumentUpdate, UpdateContent};
use bmms_shared::records::RecordKind;
use bmms_shared::{DeviceId, DocId, Role, UserId};
use std::collections::BTreeSet;

use crate::db::OrgTx;

/// Whether devices of `role` hold a scope rather than the whole organization.
pub fn is_scoped(role: Role) -> bool {
    role == Role::FieldOfficer
}

/// The scope news of one exchange, already recorded in `device_scope`.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// Records to send whole: new to the device's scope, or sent in an answer the device
    /// did not take.
    pub whole: Vec<DocId>,
    /// Records that left the scope (the device drops those without unsent changes).
    pub removed: Vec<DocId>,
    /// The device holds nothing the server knows of: `whole` is its entire scope.
    pub complete: bool,
    /// The scope version this answer carries.
    pub version: u64,
    /// The version up to which `device_scope` rows count as on the device.
    pub delivered_up_to: u64,
}

/// Compares the officer's scope with what their device holds, records the news as sent
/// and returns it. `cursor` and `taken` are the request's: a device at cursor 0 holds
/// nothing known. An app older than protocol 3 echoes no version; what it was sent
/// counts as taken (it reads everything again, whole, once it updates).
pub async fn reconcile(tx: &mut OrgTx, device_id: DeviceId, officer: UserId, cursor: u64, taken: u64, speaks: u8) -> sqlx::Result<Reconciled> {
    // The device's word is taken for what it holds: a version it was never given only
    // keeps news from itself. Kept far from overflowing.
    let taken = taken.min(i64::MAX as u64 / 2);
    let delivered_up_to = match (cursor, speaks) {
        (0, _) => 0,
        (_, version) if version < 3 => i64::MAX as u64,
        _ => taken,
    };
    let news: Vec<(DocId, bool)> = sqlx::query_as(
        "with held as (
             select doc_id, present, version from device_scope where device_id = $1
         ), scope as (
             select id from officer_scope($2) id
         )
         select s.id, true from scope s
         where not exists (select 1 from held h where h.doc_id = s.id and h.present and h.version <= $3)
         union all
         select h.doc_id, false from held h
         where not exists (select 1 from scope s where s.id = h.doc_id) and (h.present or h.version > $3)",
    )
    .bind(device_id)
    .bind(officer)
    .bind(delivered_up_to as i64)
    .fetch_all(&mut **tx)
    .await?;
    let (whole, removed): (Vec<_>, Vec<_>) = news.into_iter().partition(|(_, whole)| *whole);
    let whole: Vec<DocId> = whole.into_iter().map(|(id, _)| id).collect();
    let removed: Vec<DocId> = removed.into_iter().map(|(id, _)| id).collect();
    let held_any: bool = sqlx::query_scalar(
        "select exists (select 1 from device_scope where device_id = $1 and present and version <= $2)",
    )
    .bind(device_id)
    .bind(delivered_up_to as i64)
    .fetch_one(&mut **tx)
    .await?;
    // Removals the device took are forgotten.
    sqlx::query("delete from device_scope where device_id = $1 and not present and version <= $2")
        .bind(device_id)
        .bind(delivered_up_to as i64)
        .execute(&mut **tx)
        .await?;
    let mut reconciled =
        Reconciled { complete: !held_any, version: taken, delivered_up_to, ..Reconciled::default() };
    // A device's first scoped answer raises its version too, so that a device which took
    // any scoped answer echoes at least 1 (`forget` relies on it).
    if !whole.is_empty() || !removed.is_empty() || taken == 0 {
        let raised: i64 = sqlx::query_scalar("update devices set scope_version = greatest(scope_version, $2) + 1 where id = $1 returning scope_version")
            .bind(device_id)
            .bind(taken as i64)
            .fetch_one(&mut **tx)
            .await?;
        reconciled.version = raised as u64;
        sqlx::query(
            "insert into device_scope (org_id, device_id, doc_id, present, version)
             select $1, $2, t.id, t.present, $5 from unnest($3::uuid[], $4::bool[]) as t(id, present)
             on conflict (org_id, device_id, doc_id) do update set present = excluded.present, version = excluded.version",
        )
        .bind(tx.org_id())
        .bind(device_id)
        .bind(whole.iter().chain(&removed).collect::<Vec<_>>())
        .bind(whole.iter().map(|_| true).chain(removed.iter().map(|_| false)).collect::<Vec<_>>())
        .bind(reconciled.version as i64)
        .execute(&mut **tx)
        .await?;
    }
    reconciled.whole = whole;
    reconciled.removed = removed;
    Ok(reconciled)
}

/// Which of `ids` the officer's scope holds now.
pub async fn holds(tx: &mut OrgTx, officer: UserId, ids: &[DocId]) -> sqlx::Result<BTreeSet<DocId>> {
    let held: Vec<DocId> = sqlx::query_scalar("select id from officer_scope($1) id where id = any($2)")
        .bind(officer)
        .bind(ids)
        .fetch_all(&mut **tx)
        .await?;
    Ok(held.into_iter().collect())
}

/// What the device sent and the server accepted: those in its scope (`held`) are on the
/// device, so later news of them comes as changes (a row already there is left as it
/// is); those outside it (`outside`) are named in the answer, and recorded as removed,
/// so that a record that comes back into the scope is sent whole.
pub async fn settle_sent(tx: &mut OrgTx, device_id: DeviceId, held: &[DocId], outside: &[DocId], version: u64) -> sqlx::Result<()> {
    if held.is_empty() && outside.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "with held as (
             insert into device_scope (org_id, device_id, doc_id, present, version)
             select $1, $2, id, true, $5 from unnest($3::uuid[]) id
             on conflict do nothing
         )
         insert into device_scope (org_id, device_id, doc_id, present, version)
         select $1, $2, id, false, $5 from unnest($4::uuid[]) id
         on conflict (org_id, device_id, doc_id) do update set present = false, version = excluded.version",
    )
    .bind(tx.org_id())
    .bind(device_id)
    .bind(held)
    .bind(outside)
    .bind(version as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A device of a role that holds the whole organization: what it was told it holds as a
/// scoped device is forgotten. True when it took a scoped answer and no unscoped one
/// since (it echoes a scope version: every scoped answer carries 1 or more, every
/// unscoped one 0): it may have dropped records, so it is sent everything whole. A
/// device that echoes 0 never dropped anything since its cursor.
pub async fn forget(tx: &mut OrgTx, device_id: DeviceId, taken: u64) -> sqlx::Result<bool> {
    if taken == 0 {
        return Ok(false);
    }
    sqlx::query("delete from device_scope where device_id = $1").bind(device_id).execute(&mut **tx).await?;
    Ok(true)
}

/// The records `ids` as whole documents, for a device that does not hold them.
pub async fn whole_documents(tx: &mut OrgTx, ids: &[DocId]) -> sqlx::Result<Vec<DocumentUpdate>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(DocId, String, Vec<u8>)> =
        sqlx::query_as("select id, kind, data from documents where id = any($1) order by id").bind(ids).fetch_all(&mut **tx).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(doc_id, kind, data)| {
            Some(DocumentUpdate { doc_id, kind: RecordKind::parse(&kind)?, content: UpdateContent::Snapshot(data) })
        })
        .collect())
}
