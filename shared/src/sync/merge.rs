//! The merge rules every server applies to a device's changes, with no storage in sight:
//! [`read_changes`] counts and decodes a document's changes and checks that the device
//! made them; [`merge_changes`] merges them into the stored document (or a new one) and
//! checks the result against the schema. The PostgreSQL server (`server/src/sync/merge.rs`)
//! and the in-memory test server ([`super::memory_server`]) both call them, so that what
//! the property tests prove of one holds of the other.

use automerge::{ActorId, AutoCommit, Change};

use super::bounds::MAX_OPERATIONS_PER_REQUEST;
use super::operations::{operations_in_change, Uncountable};
use super::protocol::{DocumentChanges, Rejection, RejectionCode};
use crate::records::{self, DocumentError, RecordKind};

/// A document after a device's changes were merged into it.
#[derive(Debug)]
pub struct Merged {
    pub doc: AutoCommit,
    /// The changes that were new to the server, in the order applied.
    pub new_changes: Vec<Change>,
    pub conflicts: Vec<records::Conflict>,
    /// The document saved, as it was checked to load again.
    pub saved: Vec<u8>,
}

/// Merges `incoming` into the stored document (or a new one), refusing it whole if any
/// change does not decode, was made by another actor than the device's, or leaves the
/// document outside its schema: [`read_changes`], then [`merge_changes`].
pub fn merge_document(
    stored: Option<(&AutoCommit, RecordKind)>,
    incoming: &DocumentChanges,
    device_actor: &ActorId,
) -> Result<Merged, Rejection> {
    let mut operations_left = MAX_OPERATIONS_PER_REQUEST as u64;
    let changes = read_changes(incoming, device_actor, &mut operations_left)?;
    merge_changes(stored, incoming, changes)
}

/// The one refusal for a record id that cannot be used here, whatever the reason (it is
/// another organization's, or another kind of record's, or the changes name another id):
/// the same words for all, so that the answer does not tell whether an id exists
/// elsewhere.
pub const UNUSABLE_ID: &str = "This record's id cannot be used on the server. Copy what it holds into a new record.";

/// Decodes a document's incoming changes and checks that the device made them. Each
/// change's operations are counted first, from its bytes, and taken from
/// `operations_left`, the request's allowance ([`operations_in_change`]): Automerge walks
/// every operation a change claims when it decodes it, and a few bytes can claim billions.
/// A change must come as it was made ([`Change::raw_bytes`]): Automerge would inflate a
/// compressed one without bound.
pub fn read_changes(incoming: &DocumentChanges, device_actor: &ActorId, operations_left: &mut u64) -> Result<Vec<Change>, Rejection> {
    let refuse = |code, message: String| Rejection { doc_id: incoming.doc_id, code, message };
    let mut changes = Vec::with_capacity(incoming.changes.len());
    for bytes in &incoming.changes {
        let damaged = || refuse(RejectionCode::Undecodable, "A change to this record is damaged and could not be read. Keep the record; support can recover it.".into());
        match operations_in_change(bytes, *operations_left) {
            Ok(operations) => *operations_left -= operations,
            Err(Uncountable::Damaged) => return Err(damaged()),
            Err(Uncountable::TooMany) => {
                return Err(refuse(
                    RejectionCode::Invalid,
                    format!("The changes to this record hold more than {MAX_OPERATIONS_PER_REQUEST} edit operations, more than one sync may carry."),
                ))
            }
        }
        let change = Change::from_bytes(bytes.clone()).map_err(|_| damaged())?;
        if change.actor_id() != device_actor {
            return Err(refuse(RejectionCode::WrongActor, "A change to this record was not made on this device.".into()));
        }
        changes.push(change);
    }
    Ok(changes)
}

/// Merges decoded changes (see [`read_changes`]) into the stored document or a new one,
/// and checks the result against the schema.
pub fn merge_changes(stored: Option<(&AutoCommit, RecordKind)>, incoming: &DocumentChanges, changes: Vec<Change>) -> Result<Merged, Rejection> {
    let refuse = |code, message: String| Rejection { doc_id: incoming.doc_id, code, message };
    if let Some((_, kind)) = stored {
        if kind != incoming.kind {
            return Err(refuse(RejectionCode::NotYours, UNUSABLE_ID.into()));
        }
    }
    let mut doc = match stored {
        Some((doc, _)) => doc.clone(),
        None => AutoCommit::new(),
    };
    // Changes the server already has, or that the batch repeats, count once.
    let mut seen = std::collections::HashSet::new();
    let new_changes: Vec<Change> = changes
        .into_iter()
        .filter(|c| doc.get_change_by_hash(&c.hash()).is_none() && seen.insert(c.hash()))
        .collect();
    let damaged = || refuse(RejectionCode::Undecodable, "The changes to this record are damaged and could not be applied.".into());
    // Some damaged changes that still decode make Automerge panic (found by
    // tests/hostile_bytes.rs). The merge works on a copy, so a panic leaves nothing
    // half-done: it becomes a refusal of this document, not a failed request.
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.apply_changes(new_changes.clone())));
    if !matches!(applied, Ok(Ok(()))) {
        return Err(damaged());
    }
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(refuse(RejectionCode::Undecodable, "Some earlier changes to this record have not reached the server yet; sync again.".into()));
    }
    records::validate(&doc, incoming.kind).map_err(|err| match err {
        DocumentError::NewerSchema(version) => refuse(
            RejectionCode::NewerSchema,
            format!("This record was made by a newer version of BMMS (schema {version}). Update the app, then sync again."),
        ),
        DocumentError::WrongKind { .. } => refuse(RejectionCode::NotYours, UNUSABLE_ID.into()),
        other => refuse(RejectionCode::Invalid, format!("This record cannot be saved: {other}.")),
    })?;
    // Changes copied from another record would otherwise land here.
    if records::id_of(&doc) != Some(incoming.doc_id) {
        return Err(refuse(RejectionCode::NotYours, UNUSABLE_ID.into()));
    }
    // What is accepted must load again as it is. Automerge 0.6 applies some damaged changes
    // without complaint and would save a document that no longer loads: an operation on an
    // object that does not exist (it only warns), or a device's change that skips a number
    // of its sequence (which would also make a later `get_changes` panic).
    let saved = doc.save();
    let reloaded_heads = records::load_saved(&saved).map(|mut reloaded| reloaded.get_heads());
    if reloaded_heads.ok() != Some(doc.get_heads()) {
        return Err(damaged());
    }
    let conflicts = records::conflicts(&doc);
    Ok(Merged { doc, new_changes, conflicts, saved })
}
