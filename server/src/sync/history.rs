//! A record's history for the desk: which fields each logged change wrote, and the
//! value it left there.

use automerge::{AutoCommit, ChangeHash, PatchAction, Prop};
use bmms_shared::records::resolution::NOTE_PREFIX;
use bmms_shared::records::{self, RecordKind};
use bmms_shared::api::{ChangeKind, ChangedField};
use std::collections::BTreeSet;

/// The fields the change with `hash` wrote, in field order.
pub fn fields_changed(doc: &mut AutoCommit, kind: RecordKind, hash: &[u8]) -> Vec<ChangedField> {
    let Ok(hash) = ChangeHash::try_from(hash) else { return Vec::new() };
    let Some(deps) = doc.get_change_by_hash(&hash).map(|c| c.deps().to_vec()) else { return Vec::new() };
    let mut keys = BTreeSet::new();
    for patch in doc.diff(&deps, &[hash]) {
        // A write inside a list or text is a change of the root field holding it.
        let key = match (patch.path.first(), &patch.action) {
            (Some((_, Prop::Map(key))), _) => key.clone(),
            (None, PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key }) => key.clone(),
            _ => continue,
        };
        keys.insert(key);
    }
    keys.into_iter()
        .filter_map(|key| {
            let (field, what) = match key.strip_prefix(NOTE_PREFIX) {
                Some(field) => (field, ChangeKind::Resolution),
                None => (key.as_str(), ChangeKind::Value),
            };
            let spec = kind.field(field)?;
            Some(ChangedField {
                field: field.to_owned(),
                kind: what,
                label: spec.label.clone(),
                value: records::shown_at(doc, &key, &[hash]),
            })
        })
        .collect()
}
