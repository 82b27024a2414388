//! BPDA's certificate of a PPA proposal: a statement that BPDA certified one exact version
//! of one proposal (its id and Automerge heads) at a score, and the Ed25519 signature of
//! that statement by BPDA's key. The server signs ([`Certificate::signed_text`] is what the
//! key signs); anyone holding the certificate checks it against the proposal
//! (`bmms verify-certification`, or `POST /api/v1/certifications/verify`).
//!
//! The signed text is plain lines in a fixed order, not JSON, so that checking it needs no
//! agreement on how JSON is written: the same fields always make the same bytes.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::DocId;

/// The first line of every signed text; a later layout gets a new one.
pub const FORMAT: &str = "BMMS PPA certification 1";

/// A certificate as BPDA issues it and as it is handed on (to MFBM, an auditor, the public).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub certification_id: Uuid,
    pub proposal_id: DocId,
    /// The proposing organization's code.
    pub organization_code: String,
    /// The proposal's title as certified.
    pub title: String,
    /// Which submission of the proposal: 1 the first, 2 after it was sent back once, …
    pub version: i32,
    /// The proposal's Automerge heads at that version, sorted.
    pub heads: Vec<String>,
    /// Hundredths of a point (8000 is 80.00), adjustments included.
    pub score: u32,
    /// Whole centavos.
    pub total_cost: i64,
    /// RFC 3339, UTC.
    pub certified_at: String,
    /// Which of BMMS's keys signed it: the first 16 hex digits of the SHA-256 of its public key.
    pub key_id: String,
    /// The Ed25519 signature of [`Certificate::signed_text`], 128 hex digits.
    pub signature: String,
}

impl Certificate {
    /// The bytes the key signs: every field but the signature, one a line. The title is
    /// written as a JSON string, so that a line break in it cannot pass for another field.
    pub fn signed_text(&self) -> String {
        let title = serde_json::to_string(&self.title).unwrap_or_default();
        format!(
            "{FORMAT}\ncertification: {}\nproposal: {}\norganization: {}\ntitle: {title}\nversion: {}\nheads: {}\nscore: {}\ntotal_cost_centavos: {}\ncertified_at: {}\nkey: {}\n",
            self.certification_id,
            self.proposal_id,
            self.organization_code,
            self.version,
            self.heads.join(","),
            self.score,
            self.total_cost,
            self.certified_at,
            self.key_id,
        )
    }
}

/// What checking a certificate found, for a person to read: whether it holds, and if not,
/// which part failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The signature is BPDA's and the certificate is the one BMMS issued, and the
    /// proposal is still the version certified.
    pub valid: bool,
    /// The signature matches the certificate's contents under a key BMMS knows.
    pub signature_matches: bool,
    /// The proposal is still at the certified version (no edit since voided it).
    pub proposal_unchanged: bool,
    /// One sentence: what holds, or what failed.
    pub finding: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate() -> Certificate {
        Certificate {
            certification_id: Uuid::from_u128(1),
            proposal_id: DocId(Uuid::from_u128(2)),
            organization_code: "MBHTE".into(),
            title: "Classrooms\nversion: 9".into(),
            version: 1,
            heads: vec!["aa".into(), "bb".into()],
            score: 8000,
            total_cost: 150_000_000,
            certified_at: "2026-12-04T10:00:00Z".into(),
            key_id: "0123456789abcdef".into(),
            signature: String::new(),
        }
    }

    #[test]
    fn every_field_but_the_signature_is_signed_and_a_title_cannot_forge_a_line() {
        let original = certificate();
        let text = original.signed_text();
        assert!(text.starts_with(FORMAT));
        assert_eq!(text.lines().filter(|l| l.starts_with("version: ")).count(), 1, "{text}");
        assert!(text.contains("title: \"Classrooms\\nversion: 9\""), "{text}");
        let changes: [fn(&mut Certificate); 10] = [
            |c| c.certification_id = Uuid::from_u128(9),
            |c| c.proposal_id = DocId(Uuid::from_u128(9)),
            |c| c.organization_code = "MOH".into(),
            |c| c.title = "Roads".into(),
            |c| c.version = 2,
            |c| c.heads = vec!["aa".into()],
            |c| c.score = 9000,
            |c| c.total_cost = 1,
            |c| c.certified_at = "2026-12-05T10:00:00Z".into(),
            |c| c.key_id = "fedcba9876543210".into(),
        ];
        for change in changes {
            let mut changed = original.clone();
            change(&mut changed);
            assert_ne!(changed.signed_text(), text);
        }
        let mut resigned = original.clone();
        resigned.signature = "00".repeat(64);
        assert_eq!(resigned.signed_text(), text, "the signature is not part of what is signed");
    }
}
