//! A document on the device, loaded from its saved bytes only when first used: a phone
//! with thousands of records opens its lists without loading every one of them (the app
//! keeps a small summary of each record for its lists).

use automerge::{ActorId, AutoCommit};
use std::cell::{Cell, OnceCell};

use crate::records::{self, Conflict, DocumentError, RecordKind};

/// A document on the device.
#[derive(Debug, Clone)]
pub struct LocalDocument {
    pub kind: RecordKind,
    /// Open conflicts, as the server last reported them.
    pub conflicts: Vec<Conflict>,
    /// The document as stored (`AutoCommit::save`), as long as nothing changed it since.
    saved: Option<Vec<u8>>,
    doc: OnceCell<AutoCommit>,
    /// The stored bytes did not load. They are kept as they are, never overwritten.
    damaged: Cell<bool>,
}

impl LocalDocument {
    pub(super) fn new(kind: RecordKind, doc: AutoCommit) -> Self {
        LocalDocument { kind, conflicts: vec![], saved: None, doc: OnceCell::from(doc), damaged: Cell::new(false) }
    }

    /// A stored document, loaded on first use.
    pub(super) fn stored(kind: RecordKind, saved: Vec<u8>, conflicts: Vec<Conflict>) -> Self {
        LocalDocument { kind, conflicts, saved: Some(saved), doc: OnceCell::new(), damaged: Cell::new(false) }
    }

    /// True while the document is exactly what was read from storage at start (it may
    /// not even be loaded yet): what was stored about it still holds.
    pub fn is_as_stored(&self) -> bool {
        self.saved.is_some()
    }

    /// The document, loaded on first use. A stored document that does not load reads as
    /// empty (and refuses edits); its bytes stay stored as they were.
    pub fn doc(&self) -> &AutoCommit {
        self.doc.get_or_init(|| match self.saved.as_deref().map(records::load_saved) {
            Some(Ok(doc)) => doc,
            Some(Err(_)) => {
                self.damaged.set(true);
                AutoCommit::new()
            }
            None => AutoCommit::new(),
        })
    }

    /// The document to change, carrying this device's actor. The stored bytes are
    /// outdated from here on.
    pub(super) fn doc_mut(&mut self, actor: &ActorId) -> Result<&mut AutoCommit, DocumentError> {
        self.doc();
        if self.damaged.get() {
            return Err(DocumentError::Damaged);
        }
        self.saved = None;
        let doc = self.doc.get_mut().expect("loaded just above");
        if doc.get_actor() != actor {
            doc.set_actor(actor.clone());
        }
        Ok(doc)
    }

    /// The bytes to store: those read at start when nothing changed the document since
    /// (damaged ones included), else a new save.
    pub(super) fn save(&mut self) -> Vec<u8> {
        match (&self.saved, self.doc.get_mut()) {
            (Some(saved), _) => saved.clone(),
            (None, Some(doc)) => doc.save(),
            (None, None) => AutoCommit::new().save(),
        }
    }
}
