//! The operator's key that seals second-factor secrets (TOTP seeds) before they are
//! stored: a copy of the database alone does not let anyone make a user's codes. It is
//! kept in a file beside the server (`bmms serve --factor-key`), like the certification
//! key; the sealing is XChaCha20-Poly1305, with the user's id as associated data so
//! that a sealed secret moved to another user's row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::path::Path;
use uuid::Uuid;

const NONCE_BYTES: usize = 24;

#[derive(Clone)]
pub struct FactorKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for FactorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FactorKey(..)")
    }
}

/// A sealed secret that does not open: the key file was replaced, or the row was altered.
#[derive(Debug, thiserror::Error)]
#[error("a stored second factor cannot be opened with this server's factor key (was the key file replaced?)")]
pub struct CannotOpen;

impl FactorKey {
    pub fn from_bytes(key: [u8; 32]) -> Self {
        FactorKey { cipher: XChaCha20Poly1305::new(&key.into()) }
    }

    /// A new random key (tests, and servers that keep no file).
    pub fn generate() -> Self {
        Self::from_bytes(crate::key_file::random_key())
    }

    /// The key kept at `path`, made there first if missing.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        Ok(Self::from_bytes(crate::key_file::load_or_create(path, "second-factor key")?))
    }

    /// `secret` sealed for `user`: a random nonce, then the ciphertext with its tag.
    pub fn seal(&self, user: Uuid, secret: &[u8]) -> Vec<u8> {
        let nonce_bytes: [u8; NONCE_BYTES] = rand::random();
        let nonce = XNonce::from(nonce_bytes);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: secret, aad: user.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any message of this size");
        [nonce_bytes.as_slice(), &sealed].concat()
    }

    /// What [`FactorKey::seal`] sealed for `user`.
    pub fn open(&self, user: Uuid, sealed: &[u8]) -> Result<Vec<u8>, CannotOpen> {
        if sealed.len() < NONCE_BYTES {
            return Err(CannotOpen);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: user.as_bytes() })
            .map_err(|_| CannotOpen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_user_only_and_with_its_key_only() {
        let key = FactorKey::generate();
        let (ana, ben) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let sealed = key.seal(ana, b"twenty bytes secret!");
        assert!(!sealed.windows(6).any(|w| w == b"twenty"), "the secret is not stored in the clear");
        assert_eq!(key.open(ana, &sealed).unwrap(), b"twenty bytes secret!");
        assert!(key.open(ben, &sealed).is_err(), "moved to another user's row, it does not open");
        assert!(FactorKey::generate().open(ana, &sealed).is_err(), "another key does not open it");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.open(ana, &altered).is_err());
        assert!(key.open(ana, &sealed[..10]).is_err());
    }
}
