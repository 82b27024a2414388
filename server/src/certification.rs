//! BPDA's signing key and the checking of certificates (their layout and signed text are
//! `bmms_shared::plans::certificate`).
//!
//! The secret half of the key lives in a file beside the server (`bmms serve
//! --certification-key`, created on first start, readable by its owner only); the public
//! half is written to `signing_keys` when the key first signs, so that anyone can check a
//! certificate later, after the key is replaced too. A certificate holds when its signature
//! matches under a key BMMS knows, BMMS issued exactly that certificate, and the proposal
//! is still the version certified.

use bmms_shared::plans::certificate::{Certificate, Verdict};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::path::Path;
use uuid::Uuid;

use crate::db::{Db, OrgTx};
use crate::error::ApiError;

/// SQL: whether the certification of submission `s` still holds: the proposal is still at
/// the version certified (or at the one the server left when it wrote the decision in),
/// and no later version was submitted. Kept on the submission's row by triggers
/// (migrations/0016).
pub const HOLDS: &str = "(s.decision = 'certified' and not s.proposal_changed and not s.superseded)";

/// BPDA's key, able to sign.
#[derive(Clone)]
pub struct Signer {
    key: SigningKey,
    key_id: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

/// The id of a public key: the first 16 hex digits of its SHA-256.
pub fn key_id_of(public: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(public.as_bytes())[..8])
}

impl Signer {
    fn from_key(key: SigningKey) -> Self {
        let key_id = key_id_of(&key.verifying_key());
        Signer { key, key_id }
    }

    /// A new random key.
    pub fn generate() -> Self {
        Signer::from_key(SigningKey::from_bytes(&crate::key_file::random_key()))
    }

    /// The key kept at `path` (64 hex digits), made there first if the file does not
    /// exist, readable by its owner only.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        let signer = Signer::from_key(SigningKey::from_bytes(&crate::key_file::load_or_create(path, "certification key")?));
        tracing::info!(key.id = %signer.key_id, "BPDA's certification key");
        Ok(signer)
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Writes the key's public half to `signing_keys` (once).
    pub async fn register(&self, conn: &mut PgConnection) -> sqlx::Result<()> {
        sqlx::query("insert into signing_keys (id, public_key) values ($1, $2) on conflict (id) do nothing")
            .bind(&self.key_id)
            .bind(self.key.verifying_key().as_bytes().as_slice())
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Signs `certificate` (its key id set to this key's first).
    pub fn sign(&self, certificate: &mut Certificate) {
        certificate.key_id = self.key_id.clone();
        certificate.signature = hex::encode(self.key.sign(certificate.signed_text().as_bytes()).to_bytes());
    }
}

fn verdict(signature_matches: bool, proposal_unchanged: bool, finding: impl Into<String>) -> Verdict {
    Verdict { valid: signature_matches && proposal_unchanged, signature_matches, proposal_unchanged, finding: finding.into() }
}

/// Whether `signature` (hex) is `public`'s over `certificate`'s signed text.
fn signature_matches(public: &[u8], certificate: &Certificate) -> bool {
    let Ok(public) = <[u8; 32]>::try_from(public).map_err(|_| ()).and_then(|b| VerifyingKey::from_bytes(&b).map_err(|_| ())) else {
        return false;
    };
    let Some(signature) = hex::decode(&certificate.signature).ok().and_then(|b| <[u8; 64]>::try_from(b).ok()) else {
        return false;
    };
    public.verify_strict(certificate.signed_text().as_bytes(), &Signature::from_bytes(&signature)).is_ok()
}

#[derive(sqlx::FromRow)]
struct Issued {
    certificate: sqlx::types::Json<Certificate>,
    holds: bool,
}

/// Checks `certificate` against BMMS's keys, its record of certifications and the
/// proposal as it stands; says which part failed, if one did.
pub async fn verify(db: &Db, certificate: &Certificate) -> Result<Verdict, ApiError> {
    let public: Option<Vec<u8>> =
        sqlx::query_scalar("select public_key from signing_keys where id = $1").bind(&certificate.key_id).fetch_optional(db.pool()).await?;
    let Some(public) = public else {
        return Ok(verdict(false, false, format!(
            "The certificate names a signing key ({}) that this BMMS does not have: BPDA did not sign it here.",
            certificate.key_id
        )));
    };
    if !signature_matches(&public, certificate) {
        return Ok(verdict(false, false, "The certificate was changed after BPDA signed it: its contents do not match its signature."));
    }
    // BPDA's own transaction reads its certification and where the submission stands.
    let bpda: Uuid = sqlx::query_scalar("select id from organizations where kind = 'bpda'").fetch_one(db.pool()).await?;
    let mut tx = OrgTx::begin(db, bpda.into()).await?;
    let issued: Option<Issued> = sqlx::query_as(&format!(
        "select d.certificate, {HOLDS} as holds
         from ppa_decisions d join ppa_submissions s on s.id = d.submission_id
         where d.id = $1 and d.decision = 'certified'"
    ))
    .bind(certificate.certification_id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(match issued {
        None => verdict(true, false, "The signature is BPDA's, but this BMMS has no record of the certification: it was not issued here."),
        Some(issued) if issued.certificate.0 != *certificate => {
            verdict(true, false, "The signature is BPDA's, but the certificate differs from the one BMMS issued.")
        }
        Some(issued) if !issued.holds => verdict(
            true,
            false,
            "The signature is BPDA's, but the proposal has changed since BPDA certified it: the certification is void.",
        ),
        Some(_) => verdict(true, true, format!(
            "Valid: BPDA certified version {} of this proposal at {}, and it has not changed since.",
            certificate.version,
            bmms_shared::plans::score::shown(certificate.score)
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_only_for_the_text_and_key_it_was_made_with() {
        let signer = Signer::generate();
        let mut certificate = Certificate {
            certification_id: Uuid::from_u128(1),
            proposal_id: bmms_shared::DocId(Uuid::from_u128(2)),
            organization_code: "MBHTE".into(),
            title: "Classrooms".into(),
            version: 1,
            heads: vec!["ab".into()],
            score: 8500,
            total_cost: 100,
            certified_at: "2026-12-04T10:00:00Z".into(),
            key_id: String::new(),
            signature: String::new(),
        };
        signer.sign(&mut certificate);
        let public = signer.key.verifying_key().to_bytes();
        assert!(signature_matches(&public, &certificate));
        let mut tampered = certificate.clone();
        tampered.total_cost = 1_000_000;
        assert!(!signature_matches(&public, &tampered));
        let other = Signer::generate().key.verifying_key().to_bytes();
        assert!(!signature_matches(&other, &certificate));
        let mut damaged = certificate.clone();
        damaged.signature = "zz".into();
        assert!(!signature_matches(&public, &damaged));
    }

    #[test]
    fn a_key_file_is_made_once_readable_by_its_owner_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/certification-key");
        let made = Signer::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let read = Signer::load_or_create(&path).unwrap();
        assert_eq!(made.key_id(), read.key_id());
        std::fs::write(&path, "not a key").unwrap();
        let err = Signer::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("is not a certification key"), "{err}");
    }
}
