//! A bounded in-memory cache of recently synced documents, so that a document edited
//! again and again is not read from PostgreSQL and parsed for every batch. PostgreSQL
//! stays the truth: an entry is used only when its version equals the row's, read under
//! the row lock; entries are added only after the transaction that wrote them commits.

use automerge::AutoCommit;
use bmms_shared::records::RecordKind;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use bmms_shared::{DocId, OrgId};

struct Entry {
    version: i64,
    kind: RecordKind,
    doc: AutoCommit,
}

/// Documents by (organization, id).
pub struct DocumentCache {
    entries: Option<Mutex<LruCache<(OrgId, DocId), Entry>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for DocumentCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DocumentCache {{ hits: {}, misses: {} }}", self.hits(), self.misses())
    }
}

impl DocumentCache {
    /// Holds at most `capacity` documents; 0 turns the cache off.
    pub fn new(capacity: usize) -> Self {
        let entries = NonZeroUsize::new(capacity).map(|c| Mutex::new(LruCache::new(c)));
        DocumentCache { entries, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// A copy of the document if the cache holds exactly `version` of it.
    pub fn get(&self, org_id: OrgId, doc_id: DocId, version: i64) -> Option<(RecordKind, AutoCommit)> {
        let found = self.entries.as_ref().and_then(|entries| {
            let mut entries = entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            entries.get(&(org_id, doc_id)).filter(|e| e.version == version).map(|e| (e.kind, e.doc.clone()))
        });
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Remembers a committed version of a document.
    pub fn put(&self, org_id: OrgId, doc_id: DocId, version: i64, kind: RecordKind, doc: AutoCommit) {
        if let Some(entries) = &self.entries {
            let mut entries = entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            entries.put((org_id, doc_id), Entry { version, kind, doc });
        }
    }

    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}
