//! Reading and writing documents, the change log and conflicts, always inside an [`OrgTx`].

use automerge::{AutoCommit, Change};
use bmms_shared::records::{Conflict, RecordKind};
use bmms_shared::sync::protocol::{DocumentConflicts, DocumentUpdate, UpdateContent};
use std::collections::{BTreeMap, BTreeSet};
use bmms_shared::{DeviceId, DocId, UserId};

use crate::db::OrgTx;
use crate::error::ApiError;
use crate::limits::CpuPool;
use crate::sync::cache::DocumentCache;

/// A stored document.
pub struct StoredDocument {
    pub kind: RecordKind,
    pub doc: AutoCommit,
    /// Bumped at every save (see [`DocumentCache`]).
    pub version: i64,
}

/// Loads a document to change it, locking its row until the transaction ends, so that
/// two batches merging into the same document one after the other both count.
pub async fn load_document_for_update(tx: &mut OrgTx, doc_id: DocId) -> anyhow::Result<Option<StoredDocument>> {
    load(tx, doc_id, "select kind, data, version from documents where id = $1 for update").await
}

/// Loads the documents of a batch, locking their rows (as above): versions first, then
/// the bytes of only those the cache does not hold at that version, which are parsed on
/// the CPU pool (Automerge's load is the costly part, and grows with a document's
/// operations, not its bytes).
pub async fn load_documents_for_update(
    tx: &mut OrgTx,
    ids: &[DocId],
    cache: &DocumentCache,
    cpu: &CpuPool,
) -> Result<BTreeMap<DocId, StoredDocument>, ApiError> {
    let org_id = tx.org_id();
    let rows: Vec<(DocId, String, i64)> =
        sqlx::query_as("select id, kind, version from documents where id = any($1) order by id for update")
            .bind(ids)
            .fetch_all(&mut **tx)
            .await?;
    let mut documents = BTreeMap::new();
    let mut missing = Vec::new();
    for (id, kind, version) in rows {
        match cache.get(org_id, id, version) {
            Some((kind, doc)) => {
                documents.insert(id, StoredDocument { kind, doc, version });
            }
            None => missing.push((id, kind, version)),
        }
    }
    if !missing.is_empty() {
        let missing_ids: Vec<DocId> = missing.iter().map(|m| m.0).collect();
        let data: BTreeMap<DocId, Vec<u8>> = sqlx::query_as::<_, (DocId, Vec<u8>)>("select id, data from documents where id = any($1)")
            .bind(&missing_ids)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
        // Always on the pool: a small saved document can hold many operations.
        let loaded = cpu
            .run(move || -> anyhow::Result<Vec<(DocId, StoredDocument)>> {
                let mut loaded = Vec::with_capacity(missing.len());
                for (id, kind, version) in missing {
                    let kind = RecordKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("stored document {id} has kind {kind}"))?;
                    let bytes = data.get(&id).ok_or_else(|| anyhow::anyhow!("stored document {id} vanished"))?;
                    loaded.push((id, StoredDocument { kind, doc: bmms_shared::records::load_saved(bytes)?, version }));
                }
                Ok(loaded)
            })
            .await??;
        documents.extend(loaded);
    }
    Ok(documents)
}

/// Loads a document to read it.
pub async fn load_document(tx: &mut OrgTx, doc_id: DocId) -> anyhow::Result<Option<StoredDocument>> {
    load(tx, doc_id, "select kind, data, version from documents where id = $1").await
}

/// A document as its row keeps it.
#[derive(sqlx::FromRow)]
struct SavedDocument {
    kind: String,
    data: Vec<u8>,
    version: i64,
}

async fn load(tx: &mut OrgTx, doc_id: DocId, sql: &'static str) -> anyhow::Result<Option<StoredDocument>> {
    let row: Option<SavedDocument> = sqlx::query_as(sql).bind(doc_id).fetch_optional(&mut **tx).await?;
    let Some(SavedDocument { kind, data, version }) = row else { return Ok(None) };
    let kind = RecordKind::parse(&kind).ok_or_else(|| anyhow::anyhow!("stored document {doc_id} has kind {kind}"))?;
    Ok(Some(StoredDocument { kind, doc: bmms_shared::records::load_saved(&data)?, version }))
}

/// The newest sequence number of the organization's change log.
pub async fn head(tx: &mut OrgTx) -> anyhow::Result<u64> {
    let seq: Option<i64> = sqlx::query_scalar("select last_seq from org_sequences where org_id = $1")
        .bind(tx.org_id())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(seq.unwrap_or(0) as u64)
}

/// A change to log, with its place in what is logged together (1, 2, …).
pub struct LogEntry {
    pub offset: u64,
    pub doc_id: DocId,
    pub change: Change,
}

/// Logs `entries` under the organization's next sequence numbers, and sets the first
/// number of each new document in `first_offsets` (by the offset of its first change),
/// in one statement; returns the number before the first one taken. The row lock on the
/// organization's counter, held to commit, keeps numbers in commit order, so a reader
/// never sees a number before the ones below it: callers take it as late as they can.
/// Places skipped in `entries` (a document refused late) leave their numbers unused:
/// readers only need the order, not a gapless log.
pub async fn log_changes(
    tx: &mut OrgTx,
    entries: &[LogEntry],
    first_offsets: &[(DocId, u64)],
    device_id: DeviceId,
    user_id: UserId,
) -> sqlx::Result<u64> {
    let offsets: Vec<i64> = entries.iter().map(|e| e.offset as i64).collect();
    let doc_ids: Vec<DocId> = entries.iter().map(|e| e.doc_id).collect();
    let hashes: Vec<Vec<u8>> = entries.iter().map(|e| e.change.hash().0.to_vec()).collect();
    let actors: Vec<Vec<u8>> = entries.iter().map(|e| e.change.actor_id().to_bytes().to_vec()).collect();
    let bytes: Vec<&[u8]> = entries.iter().map(|e| e.change.raw_bytes()).collect();
    let (new_ids, new_offsets): (Vec<DocId>, Vec<i64>) = first_offsets.iter().map(|(id, o)| (*id, *o as i64)).unzip();
    // As many numbers as the highest place: places of refused documents are left unused.
    let count = entries.iter().map(|e| e.offset).max().unwrap_or(0);
    let base: i64 = sqlx::query_scalar(
        "with reserved as (
             insert into org_sequences (org_id, last_seq) values ($1, $2)
             on conflict (org_id) do update set last_seq = org_sequences.last_seq + excluded.last_seq
             returning last_seq - $2 as base
         ), logged as (
             insert into change_log (org_id, seq, doc_id, hash, actor, bytes, device_id, user_id)
             select $1, reserved.base + t.o, t.d, t.h, t.a, t.b, $3, $4
             from reserved, unnest($5::bigint[], $6::uuid[], $7::bytea[], $8::bytea[], $9::bytea[]) as t(o, d, h, a, b)
         ), numbered as (
             update documents set first_seq = reserved.base + f.o
             from reserved, unnest($10::uuid[], $11::bigint[]) as f(id, o)
             where documents.id = f.id
         )
         select base from reserved",
    )
    .bind(tx.org_id())
    .bind(count as i64)
    .bind(device_id)
    .bind(user_id)
    .bind(&offsets)
    .bind(&doc_ids)
    .bind(&hashes)
    .bind(&actors)
    .bind(&bytes)
    .bind(&new_ids)
    .bind(&new_offsets)
    .fetch_one(&mut **tx)
    .await?;
    Ok(base as u64)
}

/// Logs `changes` of one document with fresh sequence numbers; returns the first.
pub async fn append_changes(
    tx: &mut OrgTx,
    doc_id: DocId,
    changes: &[Change],
    device_id: DeviceId,
    user_id: UserId,
) -> sqlx::Result<Option<u64>> {
    if changes.is_empty() {
        return Ok(None);
    }
    let entries: Vec<LogEntry> = changes
        .iter()
        .enumerate()
        .map(|(i, change)| LogEntry { offset: i as u64 + 1, doc_id, change: change.clone() })
        .collect();
    let base = log_changes(tx, &entries, &[], device_id, user_id).await?;
    Ok(Some(base + 1))
}

/// Stores new documents `(id, kind, saved bytes, first sequence number)` in one statement;
/// returns the ids stored. An id missing from the answer is already another
/// organization's: document ids are unique across organizations.
pub async fn insert_documents(tx: &mut OrgTx, documents: &[(DocId, RecordKind, Vec<u8>, u64)], created_by: UserId) -> sqlx::Result<BTreeSet<DocId>> {
    if documents.is_empty() {
        return Ok(BTreeSet::new());
    }
    let ids: Vec<DocId> = documents.iter().map(|d| d.0).collect();
    let kinds: Vec<&str> = documents.iter().map(|d| d.1.as_str()).collect();
    let data: Vec<&[u8]> = documents.iter().map(|d| d.2.as_slice()).collect();
    let seqs: Vec<i64> = documents.iter().map(|d| d.3 as i64).collect();
    let stored: Vec<DocId> = sqlx::query_scalar(
        "insert into documents (org_id, id, kind, data, first_seq, created_by)
         select $1, t.*, $6 from unnest($2::uuid[], $3::text[], $4::bytea[], $5::int8[]) t
         on conflict do nothing returning id",
    )
    .bind(tx.org_id())
    .bind(&ids)
    .bind(&kinds)
    .bind(&data)
    .bind(&seqs)
    .bind(created_by)
    .fetch_all(&mut **tx)
    .await?;
    Ok(stored.into_iter().collect())
}

/// Stores a changed document over its row; returns its new version.
pub async fn save_document(tx: &mut OrgTx, doc_id: DocId, data: &[u8]) -> sqlx::Result<i64> {
    sqlx::query_scalar("update documents set data = $2, version = version + 1, updated_at = now() where id = $1 returning version")
        .bind(doc_id)
        .bind(data)
        .fetch_one(&mut **tx)
        .await
}

/// Makes the open conflicts of a document match what its merged state holds: new ones
/// are opened, changed ones updated, and ones a later write settled are closed. Returns
/// how many were opened.
pub async fn refresh_conflicts(tx: &mut OrgTx, doc_id: DocId, conflicts: &[Conflict]) -> anyhow::Result<u64> {
    let org_id = tx.org_id();
    let fields: Vec<String> = conflicts.iter().map(|c| c.field.clone()).collect();
    sqlx::query(
        "update conflicts set resolved_at = now(), resolution = 'settled by a later edit'
         where org_id = $1 and doc_id = $2 and resolved_at is null and not (field = any($3))",
    )
    .bind(org_id)
    .bind(doc_id)
    .bind(&fields)
    .execute(&mut **tx)
    .await?;
    let mut opened = 0;
    for conflict in conflicts {
        // `xmax = 0`: the row is new (an update of an open conflict sets xmax).
        let inserted: bool = sqlx::query_scalar(
            "insert into conflicts (org_id, doc_id, field, candidates) values ($1, $2, $3, $4)
             on conflict (org_id, doc_id, field) where resolved_at is null
             do update set candidates = excluded.candidates
             returning xmax = 0",
        )
        .bind(org_id)
        .bind(doc_id)
        .bind(&conflict.field)
        .bind(serde_json::to_value(&conflict.values)?)
        .fetch_one(&mut **tx)
        .await?;
        opened += u64::from(inserted);
    }
    Ok(opened)
}

/// Open conflicts of the given documents.
pub async fn open_conflicts(tx: &mut OrgTx, doc_ids: &[DocId]) -> anyhow::Result<Vec<DocumentConflicts>> {
    let rows: Vec<(DocId, String, serde_json::Value)> = sqlx::query_as(
        "select doc_id, field, candidates from conflicts
         where resolved_at is null and doc_id = any($1) order by doc_id, field",
    )
    .bind(doc_ids)
    .fetch_all(&mut **tx)
    .await?;
    let mut by_doc: BTreeMap<DocId, Vec<Conflict>> = BTreeMap::new();
    for (doc_id, field, candidates) in rows {
        let values = serde_json::from_value(candidates)?;
        by_doc.entry(doc_id).or_default().push(Conflict { field, values });
    }
    Ok(by_doc.into_iter().map(|(doc_id, conflicts)| DocumentConflicts { doc_id, conflicts }).collect())
}

/// A document others changed since a device's cursor.
#[derive(sqlx::FromRow)]
struct ChangedDocument {
    id: DocId,
    kind: String,
    /// The whole saved document, for a device that never had it (created after its cursor).
    snapshot: Option<Vec<u8>>,
}

/// Which documents a device holds, for [`updates_since`].
#[derive(Debug, Clone, Copy)]
pub enum Holding {
    /// Every document of the organization up to its cursor.
    Organization,
    /// A scoped device (`scope.rs`): the documents `device_scope` says it took, in
    /// answers up to this scope version.
    Scope(DeviceId, u64),
}

/// What a device with `cursor` lacks, up to `head`, leaving out its own changes: whole
/// documents it has never had, changes for the others. A scoped device is sent only the
/// changes of documents it holds (`scope.rs` sends it the others whole).
pub async fn updates_since(tx: &mut OrgTx, cursor: u64, head: u64, actor: &[u8], holding: Holding) -> anyhow::Result<Vec<DocumentUpdate>> {
    let (scoped_device, taken) = match holding {
        Holding::Organization => (None, 0),
        Holding::Scope(device_id, taken) => (Some(device_id), taken as i64),
    };
    // Which documents others changed, with the whole saved document for those this device
    // never had (created after its cursor), in one statement. Its shape keeps the plan linear
    // whatever the statistics say: the log's range by sequence number first, then one probe
    // per document by id (`order by seq` makes the log's primary key, by sequence number, the
    // index to read; `offset 0` keeps PostgreSQL from turning the join around). A plain
    // `id in (...)` became a nested loop over the whole log for each document when the
    // statistics were taken while the organization was still empty: 138 ms for 500
    // documents instead of 8 (docs/benchmarks.md, W5).
    let changed: Vec<ChangedDocument> = sqlx::query_as(
        "with news as materialized (
             select doc_id from change_log where seq > $1 and seq <= $2 and actor <> $3 order by seq
         )
         select d.id, d.kind, case when d.first_seq > $1 and $4::uuid is null then d.data end as snapshot
         from (select distinct doc_id from news) n
         cross join lateral (select id, kind, first_seq, data from documents where id = n.doc_id offset 0) d
         where $4::uuid is null or exists (
             select 1 from device_scope s where s.device_id = $4 and s.doc_id = n.doc_id and s.present and s.version <= $5
         )",
    )
    .bind(cursor as i64)
    .bind(head as i64)
    .bind(actor)
    .bind(scoped_device)
    .bind(taken)
    .fetch_all(&mut **tx)
    .await?;
    let known_ids: Vec<DocId> = changed.iter().filter(|d| d.snapshot.is_none()).map(|d| d.id).collect();
    let mut changes: BTreeMap<DocId, Vec<Vec<u8>>> = BTreeMap::new();
    if !known_ids.is_empty() {
        let rows: Vec<(DocId, Vec<u8>)> = sqlx::query_as(
            "select doc_id, bytes from change_log
             where seq > $1 and seq <= $2 and actor <> $3 and doc_id = any($4) order by seq",
        )
        .bind(cursor as i64)
        .bind(head as i64)
        .bind(actor)
        .bind(&known_ids)
        .fetch_all(&mut **tx)
        .await?;
        for (doc_id, bytes) in rows {
            changes.entry(doc_id).or_default().push(bytes);
        }
    }
    let mut updates = Vec::with_capacity(changed.len());
    for ChangedDocument { id: doc_id, kind, snapshot } in changed {
        let Some(kind) = RecordKind::parse(&kind) else { continue };
        let content = match snapshot {
            Some(data) => UpdateContent::Snapshot(data),
            None => UpdateContent::Changes(changes.remove(&doc_id).unwrap_or_default()),
        };
        updates.push(DocumentUpdate { doc_id, kind, content });
    }
    updates.sort_by_key(|u| u.doc_id);
    Ok(updates)
}
