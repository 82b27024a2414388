//! Archives of the audit log: `bmms audit archive` copies every organization's entries
//! not archived yet, up to a moment (by default the start of the current month), into a
//! new file of JSON lines that is then made read-only, and records in each
//! organization's own chain what it archived: the file, its SHA-256 and the chain's
//! head at that point (`audit.archived`). The entries stay in the database; an archive
//! is what must exist before any retention policy may ever remove them.
//!
//! `bmms audit verify-archive` checks a file against itself (each entry's hash, each
//! link) and against that record, so a copy kept elsewhere can be trusted later.

use anyhow::{bail, Context};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use uuid::Uuid;

use crate::audit::{self, Actor, Entry, Event};
use crate::db::{Db, OrgTx};
use bmms_shared::OrgId;

/// The action of the entry that records an archive.
pub const ARCHIVED: &str = "audit.archived";

/// One entry as an archive file keeps it: everything its hash covers, hashes in hex.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ArchivedEntry {
    organization: String,
    org_id: Uuid,
    seq: i64,
    at: DateTime<Utc>,
    actor_user_id: Option<Uuid>,
    actor: String,
    action: String,
    subject: String,
    details: Value,
    prev_hash: String,
    hash: String,
}

impl ArchivedEntry {
    fn of(organization: &str, entry: &Entry) -> Self {
        ArchivedEntry {
            organization: organization.to_owned(),
            org_id: entry.org_id.uuid(),
            seq: entry.seq,
            at: entry.at,
            actor_user_id: entry.actor_user_id,
            actor: entry.actor.clone(),
            action: entry.action.clone(),
            subject: entry.subject.clone(),
            details: entry.details.clone(),
            prev_hash: hex::encode(&entry.prev_hash),
            hash: hex::encode(&entry.hash),
        }
    }

    fn entry(&self) -> anyhow::Result<Entry> {
        Ok(Entry {
            org_id: OrgId(self.org_id),
            seq: self.seq,
            at: self.at,
            actor_user_id: self.actor_user_id,
            actor: self.actor.clone(),
            action: self.action.clone(),
            subject: self.subject.clone(),
            details: self.details.clone(),
            prev_hash: hex::decode(&self.prev_hash).context("a previous hash that is not hex")?,
            hash: hex::decode(&self.hash).context("a hash that is not hex")?,
        })
    }
}

/// What one organization's part of an archive holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub organization: String,
    pub first_seq: i64,
    pub last_seq: i64,
}

/// What [`archive`] wrote.
#[derive(Debug, Clone)]
pub struct Archived {
    /// None when there was nothing new to archive.
    pub file: Option<PathBuf>,
    pub parts: Vec<Part>,
}

/// Archives every entry not archived yet and older than `before` into a new file in
/// `dir`, then records the archive in each organization's chain.
pub async fn archive(db: &Db, dir: &Path, before: DateTime<Utc>) -> anyhow::Result<Archived> {
    if before > Utc::now() {
        bail!("archive up to a moment that has passed: entries before {before} may still be written");
    }
    // An archive of an altered chain would carry the alteration on as if it were true.
    let report = audit::verify(db).await?;
    if let Some(broken) = report.broken.first() {
        bail!("the audit log has been altered ({} entry #{}: {}); run `bmms audit verify` and archive nothing", broken.org_code, broken.seq, broken.reason);
    }
    let orgs: Vec<(OrgId, String)> = sqlx::query_as("select id, code from organizations order by code").fetch_all(db.pool()).await?;
    let mut lines = String::new();
    let mut parts = Vec::new();
    let mut heads = Vec::new();
    for (org_id, code) in orgs {
        let mut tx = OrgTx::begin_read_only(db, org_id).await?;
        let after = last_archived_seq(&mut tx).await?;
        // In order of the chain, up to the first entry at or after `before`, so that each
        // archive continues exactly where the last one ended.
        let entries: Vec<Entry> = sqlx::query_as("select * from audit_log where org_id = $1 and seq > $2 order by seq")
            .bind(org_id)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let taken: Vec<&Entry> = entries.iter().take_while(|e| e.at < before).collect();
        let (Some(first), Some(last)) = (taken.first(), taken.last()) else { continue };
        for entry in &taken {
            lines.push_str(&serde_json::to_string(&ArchivedEntry::of(&code, entry))?);
            lines.push('\n');
        }
        parts.push(Part { organization: code, first_seq: first.seq, last_seq: last.seq });
        heads.push((org_id, hex::encode(&last.hash)));
    }
    if parts.is_empty() {
        return Ok(Archived { file: None, parts });
    }

    // Named after the moment (to the microsecond when it has a fraction of a second).
    let moment = if before.timestamp_subsec_micros() == 0 { "%Y-%m-%dT%H%M%SZ" } else { "%Y-%m-%dT%H%M%S%.6fZ" };
    let file = dir.join(format!("bmms-audit-until-{}.jsonl", before.format(moment)));
    write_read_only(&file, lines.as_bytes())?;
    let sha256 = hex::encode(Sha256::digest(lines.as_bytes()));
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
    for (part, (org_id, head)) in parts.iter().zip(heads) {
        let mut tx = OrgTx::begin(db, org_id).await?;
        let details = json!({
            "file": name, "sha256": sha256, "before": before.to_rfc3339_opts(SecondsFormat::Micros, true),
            "first_seq": part.first_seq, "last_seq": part.last_seq, "head_hash": head,
        });
        audit::append(&mut tx, Event { actor: &Actor::cli(), action: ARCHIVED, subject: format!("archive:{name}"), details }).await?;
        tx.commit().await?;
    }
    Ok(Archived { file: Some(file), parts })
}

/// The last sequence number an earlier archive of this organization took (0: none).
async fn last_archived_seq(tx: &mut OrgTx) -> anyhow::Result<i64> {
    let details: Option<Value> =
        sqlx::query_scalar("select details from audit_log where org_id = $1 and action = $2 order by seq desc limit 1")
            .bind(tx.org_id())
            .bind(ARCHIVED)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(details.and_then(|d| d["last_seq"].as_i64()).unwrap_or(0))
}

/// Writes a new file (never over an existing one), to disk, then takes away every write
/// permission: the archive is not to change.
fn write_read_only(file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(file)
        .with_context(|| format!("cannot create the archive {} (an archive up to the same moment exists already?)", file.display()))?;
    out.write_all(bytes)?;
    out.sync_all()?;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o444))?;
    Ok(())
}

/// Checks an archive file: each organization's entries link and hash as the chain says,
/// and the file is byte for byte the one the database recorded archiving.
pub async fn verify_archive(db: &Db, file: &Path) -> anyhow::Result<Vec<Part>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let mut by_org: BTreeMap<Uuid, Vec<ArchivedEntry>> = BTreeMap::new();
    for (number, line) in String::from_utf8(bytes)?.lines().enumerate() {
        let entry: ArchivedEntry = serde_json::from_str(line).with_context(|| format!("line {} is not an archived entry", number + 1))?;
        by_org.entry(entry.org_id).or_default().push(entry);
    }
    // First every entry against the chain, so that an altered entry is named as such
    // whichever organization comes first; then each part against its record.
    for entries in by_org.values() {
        let code = &entries[0].organization;
        for pair in entries.windows(2) {
            if pair[1].seq != pair[0].seq + 1 || pair[1].prev_hash != pair[0].hash {
                bail!("{code} entry #{}: an entry before it is missing from the archive", pair[1].seq);
            }
        }
        for archived in entries {
            if !archived.entry()?.hash_matches() {
                bail!("{code} entry #{}: its content does not match its hash", archived.seq);
            }
        }
    }
    let mut parts = Vec::new();
    for (org_id, entries) in by_org {
        let code = entries[0].organization.clone();
        let (first, last) = (&entries[0], &entries[entries.len() - 1]);
        let mut tx = OrgTx::begin_read_only(db, OrgId(org_id)).await?;
        let recorded: Option<Value> = sqlx::query_scalar("select details from audit_log where org_id = $1 and action = $2 and subject = $3")
            .bind(org_id)
            .bind(ARCHIVED)
            .bind(format!("archive:{name}"))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        let Some(recorded) = recorded else { bail!("{code} has no record of archiving {name}") };
        let expected = (Some(sha256.as_str()), Some(first.seq), Some(last.seq), Some(last.hash.as_str()));
        let found = (recorded["sha256"].as_str(), recorded["first_seq"].as_i64(), recorded["last_seq"].as_i64(), recorded["head_hash"].as_str());
        if found != expected {
            bail!("{code}: the file is not the one archived as {name} (the recorded SHA-256, entries or chain head differ)");
        }
        parts.push(Part { organization: code, first_seq: first.seq, last_seq: last.seq });
    }
    // In the file's order, by organization code.
    parts.sort_by(|a, b| a.organization.cmp(&b.organization));
    Ok(parts)
}
