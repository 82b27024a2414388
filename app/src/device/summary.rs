//! The few fields a list shows of each record (its summary), stored beside the record:
//! with thousands of records on a phone, the lists open from these summaries, and a
//! record's Automerge document is loaded only when the record is opened, edited or synced.

use bmms_shared::records::{self, FieldValue};
use bmms_shared::sync::client::LocalDocument;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::HashMap;
use bmms_shared::DocId;

/// The fields the lists show or filter on, of every kind of record.
const LIST_FIELDS: [&str; 11] = [
    "community", "municipality", "province", "assessment_date", "title", "site", "due_date", "status", "assignee", "ppa_type",
    "start_date",
];

/// What a list shows of one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub doc_id: DocId,
    /// (field, value as text) for the list fields the record has.
    fields: Vec<(String, String)>,
}

impl Summary {
    /// The summary of a record as it is now (loads its document).
    pub fn of(doc_id: DocId, local: &LocalDocument) -> Summary {
        let fields = LIST_FIELDS
            .iter()
            .filter_map(|field| {
                let text = match records::get_field(local.doc(), local.kind, field)? {
                    FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Date(s) => s,
                    FieldValue::Integer(n) => n.to_string(),
                    _ => return None,
                };
                Some((field.to_string(), text))
            })
            .collect();
        Summary { doc_id, fields }
    }

    /// One field's value as text.
    pub fn get(&self, field: &str) -> Option<String> {
        self.fields.iter().find(|(name, _)| name == field).map(|(_, value)| value.clone())
    }
}

thread_local! {
    /// The summaries as storage holds them: read at start, then as written since.
    static STORED: RefCell<HashMap<DocId, Summary>> = RefCell::new(HashMap::new());
}

/// Keeps the summaries read from storage at start.
pub(super) fn remember_stored(summaries: Vec<Summary>) {
    STORED.set(summaries.into_iter().map(|s| (s.doc_id, s)).collect());
}

/// The record's summary: the stored one while the record is as it was stored, else made
/// from its document.
pub fn current(doc_id: DocId, local: &LocalDocument) -> Summary {
    let stored = local.is_as_stored().then(|| STORED.with_borrow(|stored| stored.get(&doc_id).cloned())).flatten();
    stored.unwrap_or_else(|| Summary::of(doc_id, local))
}

/// The summaries to write with these records: those that differ from the stored one (most
/// edits change no listed field, and then nothing is written). [`written`] counts them as
/// stored once their write has committed.
pub(super) fn to_store(client: &bmms_shared::sync::client::SyncClient, ids: &[DocId]) -> Vec<Summary> {
    let documents = client.documents();
    STORED.with_borrow(|stored| {
        let mut changed = Vec::new();
        for (id, local) in ids.iter().filter_map(|id| Some((*id, documents.get(id)?))) {
            if local.is_as_stored() && stored.contains_key(&id) {
                continue;
            }
            let summary = Summary::of(id, local);
            if stored.get(&id) != Some(&summary) {
                changed.push(summary);
            }
        }
        changed
    })
}

/// These summaries are in storage now, and the `removed` records' are gone from it.
pub(super) fn written(summaries: Vec<Summary>, removed: &[DocId]) {
    STORED.with_borrow_mut(|stored| {
        stored.extend(summaries.into_iter().map(|s| (s.doc_id, s)));
        for doc_id in removed {
            stored.remove(doc_id);
        }
    });
}
