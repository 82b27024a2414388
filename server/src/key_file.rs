//! Secret keys kept in files beside the server, never in the database: BPDA's
//! certification key and the key that seals second factors. A key is 32 random bytes
//! written as 64 hex digits, made on first start if the file is missing, readable by its
//! owner only. Losing the file loses what it protects, so the operator guide says to back
//! it up apart from the database.

use anyhow::Context;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// 32 fresh random bytes.
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::Rng::fill(&mut rand::rngs::OsRng, &mut key[..]);
    key
}

/// The key kept at `path`, made there first if the file does not exist. `what` names
/// the key in errors and in the log ("certification key").
pub fn load_or_create(path: &Path, what: &str) -> anyhow::Result<[u8; 32]> {
    match std::fs::read_to_string(path) {
        Ok(text) => hex::decode(text.trim())
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .with_context(|| format!("{} is not a {what} (64 hex digits); restore it from the backup", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = random_key();
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .with_context(|| format!("cannot create the {what} {}", path.display()))?;
            writeln!(file, "{}", hex::encode(key))?;
            file.sync_all()?;
            tracing::info!(path = %path.display(), "made a new {what}; back it up apart from the database");
            Ok(key)
        }
        Err(err) => Err(err).with_context(|| format!("cannot read the {what} {}", path.display())),
    }
}
