//! Where whole photos are kept: a blob store behind one small interface (put, get and
//! whether it holds one, by organization and name), through the `object_store` crate,
//! whose other stores (S3-compatible storage among them) would fit behind the same
//! interface; this build keeps the files of a folder (`photos` in the data directory,
//! `BMMS_PHOTO_DIR`). Photos under way stay in PostgreSQL (`photos.received`) until they are
//! whole and checked (routes/photos.rs), so the store only ever holds complete photos.

use bmms_shared::OrgId;
use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct PhotoStore {
    store: Arc<dyn ObjectStore>,
}

impl PhotoStore {
    /// The files of `dir`, created if missing.
    pub fn in_directory(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).map_err(|err| anyhow::anyhow!("cannot make the photo folder {}: {err}", dir.display()))?;
        // A photo is marked stored in PostgreSQL right after it is written: it must be on
        // disk by then, or a power cut could leave the mark without the photo.
        let store = LocalFileSystem::new_with_prefix(dir)?.with_fsync(true);
        Ok(PhotoStore { store: Arc::new(store) })
    }

    /// Keeps `bytes` as the photo `name` of `org`. Writing the same photo again is harmless:
    /// the name is the bytes' hash.
    pub async fn put(&self, org: OrgId, name: &str, bytes: Vec<u8>) -> object_store::Result<()> {
        self.store.put(&location(org, name), PutPayload::from(bytes)).await.map(|_| ())
    }

    /// Whether the store has the photo `name` of `org`.
    pub async fn holds(&self, org: OrgId, name: &str) -> object_store::Result<bool> {
        match self.store.head(&location(org, name)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The photo `name` of `org`, if the store has it.
    pub async fn get(&self, org: OrgId, name: &str) -> object_store::Result<Option<Bytes>> {
        match self.store.get(&location(org, name)).await {
            Ok(found) => found.bytes().await.map(Some),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// `org/ab/abcdef…`: each organization apart, and no folder with more than a few
/// thousand files.
fn location(org: OrgId, name: &str) -> StorePath {
    StorePath::from(format!("{org}/{}/{name}", &name[..2]))
}
