//! Where whole photos are kept: a blob store behind one small interface (put and get by
//! organization and name), through the `object_store` crate. By default the files of a
//! folder (`photos` in the data directory); S3-compatible storage is the same interface
//! for scale. Photos under way stay in PostgreSQL (`photos.received`) until they are
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
        let store = LocalFileSystem::new_with_prefix(dir)?;
        Ok(PhotoStore { store: Arc::new(store) })
    }

    /// Keeps `bytes` as the photo `name` of `org`. Writing the same photo again is harmless:
    /// the name is the bytes' hash.
    pub async fn put(&self, org: OrgId, name: &str, bytes: Vec<u8>) -> object_store::Result<()> {
        self.store.put(&location(org, name), PutPayload::from(bytes)).await.map(|_| ())
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
