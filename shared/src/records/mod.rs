//! Records that field officers edit offline: each is one small Automerge document whose
//! root map holds one key per field (`households`, `needs.health.severity`, ...). The
//! schema of each kind is a list of [`FieldSpec`]s; every write goes through
//! [`RecordEditor::set`], which refuses a value the schema forbids, and every merged
//! document is checked again with [`validate`] (a device is never trusted).

pub mod fields;
pub mod json;
pub mod mana;
pub mod places;
pub mod ppa;
pub mod resolution;
pub mod task;

pub use fields::{FieldError, FieldSpec, FieldType, FieldValue};

use automerge::{AutoCommit, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use serde::{Deserialize, Serialize};

/// The schema version this build writes. A document with a higher version came from a
/// newer app and is refused rather than misread.
pub const SCHEMA_VERSION: u64 = 1;

const ID_KEY: &str = "id";
const KIND_KEY: &str = "kind";
const VERSION_KEY: &str = "schema_version";

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    // The order is the wire format's (postcard numbers the variants): add new kinds at
    // the end, with the protocol version that introduced them (`since_protocol`).
    ManaAssessment,
    MonitoringTask,
    PpaProposal,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::ManaAssessment => "mana_assessment",
            RecordKind::MonitoringTask => "monitoring_task",
            RecordKind::PpaProposal => "ppa_proposal",
        }
    }

    pub const ALL: [RecordKind; 3] = [RecordKind::ManaAssessment, RecordKind::MonitoringTask, RecordKind::PpaProposal];

    /// The kind named `s` (as stored), if any.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The sync protocol version that introduced this kind: an app speaking an older one
    /// could not read a document of it, so the server does not send it one.
    /// The newest protocol version that added a kind: a device whose cursor was read with
    /// an older one reads the log again from the start, which sends it what it lacks.
    pub fn newest_since() -> u8 {
        Self::ALL.into_iter().map(Self::since_protocol).max().unwrap_or(1)
    }

    pub fn since_protocol(self) -> u8 {
        match self {
            RecordKind::ManaAssessment | RecordKind::MonitoringTask => 1,
            RecordKind::PpaProposal => 2,
        }
    }

    /// The fields of this kind.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            RecordKind::ManaAssessment => mana::fields(),
            RecordKind::MonitoringTask => task::fields(),
            RecordKind::PpaProposal => ppa::fields(),
        }
    }

    /// The field named `name`, found through an index built once per kind: validating a
    /// proposal (some 190 fields) looks up each of its keys, on every sync.
    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        type Index = std::collections::HashMap<&'static str, &'static FieldSpec>;
        static INDEXES: std::sync::OnceLock<Vec<(RecordKind, Index)>> = std::sync::OnceLock::new();
        let indexes = INDEXES.get_or_init(|| {
            RecordKind::ALL.iter().map(|kind| (*kind, kind.fields().iter().map(|f| (f.name.as_str(), f)).collect())).collect()
        });
        indexes.iter().find(|(kind, _)| *kind == self).and_then(|(_, index)| index.get(name).copied())
    }
}

/// The changes `doc` has beyond `heads` (every change, for no heads), owned: Automerge 0.6
/// only lends them, and the callers keep them past their next use of the document.
pub fn changes_since(doc: &mut AutoCommit, heads: &[automerge::ChangeHash]) -> Vec<automerge::Change> {
    doc.get_changes(heads).into_iter().cloned().collect()
}

/// A new document of `kind` with id `id`, written by `actor`. The id is part of the
/// document, so no two documents share a change and changes cannot be moved between them.
pub fn new_document(id: crate::DocId, kind: RecordKind, actor: automerge::ActorId) -> AutoCommit {
    let mut doc = AutoCommit::new().with_actor(actor);
    // A fresh document is only ever created by one device, so these never conflict.
    let _ = automerge::transaction::Transactable::put(&mut doc, ROOT, ID_KEY, id.to_string());
    let _ = automerge::transaction::Transactable::put(&mut doc, ROOT, KIND_KEY, kind.as_str());
    let _ = automerge::transaction::Transactable::put(&mut doc, ROOT, VERSION_KEY, SCHEMA_VERSION);
    let _ = automerge::transaction::Transactable::put(&mut doc, ROOT, "status", kind.initial_status());
    doc
}

impl RecordKind {
    fn initial_status(self) -> &'static str {
        match self {
            RecordKind::ManaAssessment => "draft",
            RecordKind::MonitoringTask => "todo",
            RecordKind::PpaProposal => "draft",
        }
    }
}

/// Why a document as a whole is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("the document does not say what kind of record it is")]
    MissingKind,
    #[error("the document is a {found}, not a {expected}")]
    WrongKind { expected: &'static str, found: String },
    #[error("the document was made by a newer version of BMMS (schema {0}); update the app")]
    NewerSchema(u64),
    #[error("{0}")]
    Field(#[from] FieldError),
    #[error("the saved record is damaged and cannot be read")]
    Damaged,
}

/// Loads a saved document. Automerge can panic on damaged bytes (0.12 did, found by
/// `fuzz/load_document`); here that is an error, not a crash of the request.
pub fn load_saved(bytes: &[u8]) -> Result<AutoCommit, DocumentError> {
    match std::panic::catch_unwind(|| AutoCommit::load(bytes)) {
        Ok(Ok(doc)) => Ok(doc),
        _ => Err(DocumentError::Damaged),
    }
}

/// The kind a document says it is, and that its schema version is one we understand.
pub fn kind_of(doc: &AutoCommit) -> Result<RecordKind, DocumentError> {
    let kind = match doc.get(ROOT, KIND_KEY) {
        Ok(Some((Value::Scalar(s), _))) => match s.as_ref() {
            ScalarValue::Str(s) => RecordKind::parse(s).ok_or(DocumentError::MissingKind)?,
            _ => return Err(DocumentError::MissingKind),
        },
        _ => return Err(DocumentError::MissingKind),
    };
    let version = match doc.get(ROOT, VERSION_KEY) {
        Ok(Some((Value::Scalar(s), _))) => s.to_u64().unwrap_or(0),
        _ => 0,
    };
    if version > SCHEMA_VERSION {
        return Err(DocumentError::NewerSchema(version));
    }
    Ok(kind)
}

/// The id a document carries.
pub fn id_of(doc: &AutoCommit) -> Option<crate::DocId> {
    match doc.get(ROOT, ID_KEY) {
        Ok(Some((Value::Scalar(s), _))) => s.to_str()?.parse().ok(),
        _ => None,
    }
}

/// Checks every field of a (merged) document against its kind's schema. Where a field
/// holds conflicting values, each of them must be valid.
pub fn validate(doc: &AutoCommit, expected: RecordKind) -> Result<(), DocumentError> {
    let kind = kind_of(doc)?;
    if kind != expected {
        return Err(DocumentError::WrongKind { expected: expected.as_str(), found: kind.as_str().to_owned() });
    }
    for key in doc.keys(ROOT) {
        if key == ID_KEY || key == KIND_KEY || key == VERSION_KEY {
            // Written once, by the device that made the record: two values mean a forged
            // change, and the other value would be stored unchecked as a conflict.
            if doc.get_all(ROOT, key.as_str()).unwrap_or_default().len() > 1 {
                return Err(FieldError::new(&key, "was written twice; the record's identity cannot change".to_owned()).into());
            }
            continue;
        }
        if resolution::is_note_key(kind, &key) {
            for (value, _) in doc.get_all(ROOT, key.as_str()).unwrap_or_default() {
                resolution::check_note(&key, value.to_str())?;
            }
            continue;
        }
        let spec = kind.field(&key).ok_or_else(|| FieldError::unknown(&key))?;
        for (value, id) in doc.get_all(ROOT, key.as_str()).unwrap_or_default() {
            FieldValue::read(doc, spec, value, &id).and_then(|v| spec.check(&v))?;
        }
    }
    Ok(())
}

/// A field that holds more than one value because devices wrote it concurrently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: String,
    /// Every value, as people would read it.
    pub values: Vec<String>,
}

/// Every same-field conflict in the document, by field name. A list field written whole on
/// two devices is one conflict like any other field; inside a checklist, items are
/// compared field by field.
pub fn conflicts(doc: &AutoCommit) -> Vec<Conflict> {
    let mut found = Vec::new();
    collect_conflicts(doc, &ROOT, String::new(), &mut found);
    found
}

fn collect_conflicts(doc: &AutoCommit, obj: &automerge::ObjId, prefix: String, found: &mut Vec<Conflict>) {
    match doc.object_type(obj) {
        Ok(ObjType::Map) => {
            for key in doc.keys(obj) {
                let values = doc.get_all(obj, key.as_str()).unwrap_or_default();
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                if values.len() > 1 {
                    let shown = values.iter().map(|(v, id)| show(doc, v, id)).collect();
                    found.push(Conflict { field: path.clone(), values: shown });
                }
                if let Some((Value::Object(_), id)) = values.into_iter().next() {
                    collect_conflicts(doc, &id, path, found);
                }
            }
        }
        Ok(ObjType::List) => {
            for index in 0..doc.length(obj) {
                if let Ok(Some((Value::Object(_), id))) = doc.get(obj, index) {
                    collect_conflicts(doc, &id, format!("{prefix}[{index}]"), found);
                }
            }
        }
        _ => {}
    }
}

/// A value as people would read it.
pub fn shown_value(doc: &AutoCommit, value: &Value<'_>, id: &automerge::ObjId) -> String {
    show(doc, value, id)
}

fn show(doc: &AutoCommit, value: &Value<'_>, id: &automerge::ObjId) -> String {
    match value {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(s) => s.to_string(),
            other => other.to_string(),
        },
        Value::Object(ObjType::Text) => doc.text(id).unwrap_or_default(),
        Value::Object(_) => {
            let items: Vec<String> = doc.values(id).map(|(v, id)| show(doc, &v, &id)).collect();
            items.join(", ")
        }
    }
}

/// Writes to a record, each checked against the schema before it reaches the document.
pub struct RecordEditor<'a> {
    doc: &'a mut AutoCommit,
    kind: RecordKind,
}

impl<'a> RecordEditor<'a> {
    pub fn new(doc: &'a mut AutoCommit) -> Result<Self, DocumentError> {
        let kind = kind_of(doc)?;
        Ok(RecordEditor { doc, kind })
    }

    /// Sets `field` to `value`, or says why it may not.
    pub fn set(&mut self, field: &str, value: FieldValue) -> Result<(), FieldError> {
        let spec = self.kind.field(field).ok_or_else(|| FieldError::unknown(field))?;
        spec.check(&value)?;
        value.write(self.doc, spec).map_err(|e| FieldError::new(field, format!("could not be saved: {e}")))
    }

    /// Adds the photo named `name` to the photos field `field`, after those it holds. The
    /// list is written into, not replaced, so photos added on two devices are all kept (a
    /// conflict remains only when two devices began the list at once).
    pub fn add_photo(&mut self, field: &str, name: &str) -> Result<(), FieldError> {
        let spec = self.kind.field(field).ok_or_else(|| FieldError::unknown(field))?;
        let mut names = match get_field(self.doc, self.kind, field) {
            Some(FieldValue::TextList(names)) => names,
            _ => vec![],
        };
        if names.iter().any(|held| held == name) {
            return Ok(());
        }
        names.push(name.to_owned());
        spec.check(&FieldValue::TextList(names.clone()))?;
        let failed = |e: automerge::AutomergeError| FieldError::new(field, format!("could not be saved: {e}"));
        match self.doc.get(ROOT, field).map_err(failed)? {
            Some((Value::Object(ObjType::List), list)) => {
                let end = self.doc.length(&list);
                automerge::transaction::Transactable::insert(self.doc, &list, end, name).map_err(failed)
            }
            _ => FieldValue::TextList(names).write(self.doc, spec).map_err(failed),
        }
    }

    /// Takes the photo named `name` out of the photos field `field` (the photo itself stays
    /// on the server: the record's history still shows it).
    pub fn remove_photo(&mut self, field: &str, name: &str) -> Result<(), FieldError> {
        self.kind.field(field).ok_or_else(|| FieldError::unknown(field))?;
        let failed = |e: automerge::AutomergeError| FieldError::new(field, format!("could not be saved: {e}"));
        if let Some((Value::Object(ObjType::List), list)) = self.doc.get(ROOT, field).map_err(failed)? {
            let at = self.doc.values(&list).position(|(value, _)| value.to_str() == Some(name));
            if let Some(at) = at {
                automerge::transaction::Transactable::delete(self.doc, &list, at).map_err(failed)?;
            }
        }
        Ok(())
    }

    /// Empties `field`.
    pub fn clear(&mut self, field: &str) -> Result<(), FieldError> {
        self.kind.field(field).ok_or_else(|| FieldError::unknown(field))?;
        automerge::transaction::Transactable::delete(self.doc, ROOT, field)
            .map_err(|e| FieldError::new(field, format!("could not be cleared: {e}")))
    }
}

/// The current value of `field` (the winning one, where there is a conflict).
pub fn get(doc: &AutoCommit, field: &str) -> Option<FieldValue> {
    get_field(doc, kind_of(doc).ok()?, field)
}

/// Like [`get`], for a document whose kind the caller already knows: one lookup instead
/// of three, which counts when a list reads a few fields of thousands of records.
pub fn get_field(doc: &AutoCommit, kind: RecordKind, field: &str) -> Option<FieldValue> {
    let spec = kind.field(field)?;
    let (value, id) = doc.get(ROOT, field).ok()??;
    FieldValue::read(doc, spec, value, &id).ok()
}

/// The value of `field` as people would read it, as the document stood at `heads`.
pub fn shown_at(doc: &AutoCommit, field: &str, heads: &[automerge::ChangeHash]) -> Option<String> {
    let (value, id) = doc.get_at(ROOT, field, heads).ok()??;
    Some(show(doc, &value, &id))
}
