//! What the people involved see of a settled conflict. A supervisor's decision is an
//! ordinary change to the field; beside it, the same change writes a note under
//! `resolved.<field>` (who, when, why), so every device shows "resolved by NAME: reason"
//! from its own copy of the record, offline.
//!
//! Also here: the concurrent values of a field with the change that wrote each, and the
//! value the field held before, for the supervisor's side-by-side view.

use automerge::{AutoCommit, ChangeHash, ObjId, ReadDoc, ROOT};
use serde::{Deserialize, Serialize};

use super::{show, FieldError, FieldSpec, FieldValue, RecordKind};

/// Keys that hold resolution notes start with this, followed by the field's name.
pub const NOTE_PREFIX: &str = "resolved.";

/// Longest note kept, in characters (the reason is limited to 1,000 by the server).
const MAX_NOTE_CHARS: usize = 2_000;

/// Who settled a field's conflict, when (server time, RFC 3339) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionNote {
    pub by: String,
    pub at: String,
    pub reason: String,
}

/// The note under `key`, if the key is a resolution note of a field of `kind`.
pub(super) fn is_note_key(kind: RecordKind, key: &str) -> bool {
    key.strip_prefix(NOTE_PREFIX).is_some_and(|field| kind.field(field).is_some())
}

/// Checks a stored note: a short JSON text of the right shape (a device is not trusted).
pub(super) fn check_note(key: &str, text: Option<&str>) -> Result<(), FieldError> {
    let bad = || FieldError::new(key, "is not a valid resolution note".to_owned());
    let text = text.ok_or_else(bad)?;
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(bad());
    }
    serde_json::from_str::<ResolutionNote>(text).map(|_| ()).map_err(|_| bad())
}

/// The latest resolution note of `field`, if a supervisor settled a conflict there.
pub fn note(doc: &AutoCommit, field: &str) -> Option<ResolutionNote> {
    let key = format!("{NOTE_PREFIX}{field}");
    let (value, _) = doc.get(ROOT, key.as_str()).ok()??;
    serde_json::from_str(value.to_str()?).ok()
}

/// Writes the note of `field` (the caller commits it with the chosen value).
pub fn write_note(doc: &mut AutoCommit, field: &str, note: &ResolutionNote) -> Result<(), automerge::AutomergeError> {
    let text = serde_json::to_string(note).expect("a note serializes");
    automerge::transaction::Transactable::put(doc, ROOT, format!("{NOTE_PREFIX}{field}"), text)
}

/// True if `actor` wrote any resolution note in `doc`: only the server writes them, for a
/// supervisor's decision, so a device that does is refused.
pub fn written_by(doc: &AutoCommit, actor: &automerge::ActorId) -> bool {
    doc.keys(ROOT).filter(|key| key.starts_with(NOTE_PREFIX)).any(|key| {
        doc.get_all(ROOT, key.as_str())
            .unwrap_or_default()
            .iter()
            .any(|(_, id)| matches!(id, ObjId::Id(_, writer, _) if writer == actor))
    })
}

/// One of the values a field holds concurrently, with the change that wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConcurrentValue {
    /// The value, typed by the field's schema (None if it does not read as one).
    pub value: Option<FieldValue>,
    pub shown: String,
    pub change: Option<ChangeHash>,
    /// The field's value as the writer saw it just before (None: it was empty).
    pub before: Option<String>,
}

/// Every value `field` holds now (one, or several in a conflict), each with the change
/// that wrote it and the value it replaced.
pub fn concurrent_values(doc: &mut AutoCommit, spec: Option<&FieldSpec>, field: &str) -> Vec<ConcurrentValue> {
    // Every change of the document (owned), before borrowing its values.
    let changes = super::changes_since(doc, &[]);
    let doc: &AutoCommit = doc;
    let values = doc.get_all(ROOT, field).unwrap_or_default();
    values
        .iter()
        .map(|(value, id)| {
            let change = match id {
                ObjId::Id(counter, actor, _) => changes.iter().find(|c| {
                    c.actor_id() == actor && (c.start_op().get()..c.start_op().get() + c.len() as u64).contains(counter)
                }),
                ObjId::Root => None,
            };
            let before = change.and_then(|c| {
                let (value, id) = doc.get_at(ROOT, field, c.deps()).ok()??;
                Some(show(doc, &value, &id))
            });
            let typed = spec.and_then(|spec| FieldValue::read(doc, spec, value.clone(), id).ok());
            ConcurrentValue { value: typed, shown: show(doc, value, id), change: change.map(|c| c.hash()), before }
        })
        .collect()
}
