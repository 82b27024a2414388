//! The CPU-heavy half of applying a sync batch, with no database in sight: each
//! document's changes decoded within the request's allowance of operations, merged into
//! its stored state, and checked against the one policy of who may do what. `apply.rs`
//! runs it on the CPU pool between loading the documents and writing them.

use bmms_shared::policy;
use bmms_shared::sync::bounds::MAX_OPERATIONS_PER_REQUEST;
use bmms_shared::sync::merge::{merge_changes, read_changes, Merged};
use bmms_shared::sync::protocol::{DocumentChanges, Rejection, RejectionCode, SyncRequest};
use std::collections::BTreeMap;
use bmms_shared::DocId;

use crate::sync::store;

/// A stored document (if any) and what merging the device's changes into it gave.
pub type DocumentMerge = (Option<store::StoredDocument>, Result<Merged, Rejection>);

/// The CPU-heavy half of applying a batch: decodes every document's changes within the
/// request's allowance of operations (`bounds::MAX_OPERATIONS_PER_REQUEST`, counted from
/// the bytes before Automerge reads them), merges each into its stored state, and checks
/// what the device did against the one policy of who may do what. One result per
/// document of the request, in its order.
pub fn merge_batch(
    request: &SyncRequest,
    mut stored: BTreeMap<DocId, store::StoredDocument>,
    actor: &automerge::ActorId,
    role: bmms_shared::Role,
) -> Vec<DocumentMerge> {
    let mut operations_left = MAX_OPERATIONS_PER_REQUEST as u64;
    let merges = request.documents.iter().map(|incoming| {
        let before = stored.remove(&incoming.doc_id);
        let merged = read_changes(incoming, actor, &mut operations_left)
            .and_then(|changes| merge_changes(before.as_ref().map(|s| (&s.doc, s.kind)), incoming, changes))
            .and_then(|merged| allowed(role, actor, incoming, before.as_ref().map(|s| &s.doc), merged));
        (before, merged)
    });
    merges.collect()
}

/// A merged document, if the device's person may do what its changes did: the same
/// rules as the routes' (`bmms_shared::policy`), and no resolution notes, which only a
/// supervisor's decision at the desk writes.
fn allowed(
    role: bmms_shared::Role,
    actor: &automerge::ActorId,
    incoming: &DocumentChanges,
    before: Option<&automerge::AutoCommit>,
    merged: Merged,
) -> Result<Merged, Rejection> {
    let refuse = |message: String| Rejection { doc_id: incoming.doc_id, code: RejectionCode::NotAllowed, message };
    policy::check_change(role, incoming.kind, before, &merged.doc).map_err(|denied| refuse(denied.0))?;
    if bmms_shared::records::resolution::written_by(&merged.doc, actor) {
        return Err(refuse("A note that a conflict was settled can only come from a supervisor's decision at the desk.".into()));
    }
    Ok(merged)
}

