//! Where whole photos are kept: a blob store behind one small interface (put, get and
//! whether it holds one, by organization and name), through the `object_store` crate:
//! the files of a folder (`photos` in the data directory by default), or a bucket of
//! S3-compatible storage (`BMMS_PHOTO_STORE=s3://bucket/prefix`, configured by the usual
//! `AWS_*` variables) for deployments whose replicas share no filesystem. Photos under way stay in PostgreSQL (`photos.received`) until they are
//! whole and checked (routes/photos.rs), so the store only ever holds complete photos.

use bmms_shared::OrgId;
use bytes::Bytes;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct PhotoStore {
    store: Arc<dyn ObjectStore>,
}

impl PhotoStore {
    /// The store `BMMS_PHOTO_STORE` names: `s3://bucket` or `s3://bucket/prefix` (with the
    /// `AWS_*` variables of the environment), else a folder.
    pub fn at(spec: &str) -> anyhow::Result<Self> {
        if spec.starts_with("s3://") {
            Self::s3(spec, &[])
        } else {
            Self::in_directory(Path::new(spec))
        }
    }

    /// The bucket of `url` (`s3://bucket/prefix`), configured by the environment's `AWS_*`
    /// variables and then `options` (`aws_endpoint`, `aws_allow_http`, ...).
    pub fn s3(url: &str, options: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut builder = AmazonS3Builder::from_env().with_url(url);
        for (key, value) in options {
            builder = builder.with_config(key.parse::<AmazonS3ConfigKey>()?, *value);
        }
        let bucket = builder.build()?;
        let prefix = url.trim_start_matches("s3://").split_once('/').map(|(_, prefix)| prefix.trim_matches('/')).unwrap_or_default();
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() { Arc::new(bucket) } else { Arc::new(PrefixStore::new(bucket, prefix)) };
        Ok(PhotoStore { store })
    }

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
