//! The audit log: an append-only hash chain per organization (migrations/0005).
//!
//! [`append`] is the one function every write path calls, inside the same [`OrgTx`] as
//! the change it records, so a change and its audit entry are stored together or not
//! at all. [`verify`] recomputes every chain and names the first entry that does not match.

use crate::db::{Db, OrgTx};
use anyhow::Context;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};
use bmms_shared::OrgId;
use uuid::Uuid;

/// The hash before an organization's first entry.
const GENESIS: [u8; 32] = [0; 32];

/// Who did something: a signed-in user, or an operator at the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<Uuid>,
    /// A username, or `cli:<system user>` for the admin CLI.
    pub name: String,
}

impl Actor {
    pub fn user(user_id: Uuid, username: &str) -> Self {
        Actor { user_id: Some(user_id), name: username.to_owned() }
    }

    /// The operator running the admin CLI, named after their system account.
    pub fn cli() -> Self {
        let who = std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .unwrap_or_else(|_| "unknown".into());
        Actor { user_id: None, name: format!("cli:{who}") }
    }
}

/// One thing that happened, e.g. action `auth.sign_in`, subject `user:<id>`.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub subject: String,
    pub details: Value,
}

/// A stored entry, as read back for verification.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Entry {
    pub org_id: OrgId,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_user_id: Option<Uuid>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: Value,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

impl Entry {
    /// True when the entry's hash is what its content and its previous hash make.
    pub(crate) fn hash_matches(&self) -> bool {
        self.hash == self.expected_hash(&self.prev_hash)
    }

    /// The hash this entry must carry, given the previous entry's hash.
    fn expected_hash(&self, prev_hash: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        // Length-prefixed fields, so that no two different entries hash the same bytes.
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(prev_hash);
        field(self.org_id.uuid().as_bytes());
        field(&self.seq.to_le_bytes());
        field(self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true).as_bytes());
        field(self.actor_user_id.map(|id| id.to_string()).unwrap_or_default().as_bytes());
        field(self.actor.as_bytes());
        field(self.action.as_bytes());
        field(self.subject.as_bytes());
        field(canonical_json(&self.details).as_bytes());
        hasher.finalize().into()
    }
}

/// The head of an organization's chain, locked by this transaction: what
/// `audit_chain_head` (migrations/0030) answers, `null`s for a chain not started yet.
/// A statement that must take the chain's lock together with other work (a ledger entry)
/// selects from that function itself, then appends with [`append_after`].
pub struct ChainHead {
    seq: i64,
    hash: Vec<u8>,
}

impl ChainHead {
    pub fn new(seq: Option<i64>, hash: Option<Vec<u8>>) -> Self {
        let (seq, hash) = seq.zip(hash).unwrap_or((0, GENESIS.to_vec()));
        ChainHead { seq, hash }
    }
}

/// Appends `event` to the chain of the transaction's organization.
pub async fn append(tx: &mut OrgTx, event: Event<'_>) -> anyhow::Result<i64> {
    // Locks the chain (one writer at a time, until commit or rollback) and reads its head.
    let (seq, hash) = sqlx::query_as("select seq, hash from audit_chain_head($1)").bind(tx.org_id()).fetch_one(&mut **tx).await?;
    append_after(tx, ChainHead::new(seq, hash), event).await
}

/// Appends `event` after `head`, which this transaction locked.
pub async fn append_after(tx: &mut OrgTx, head: ChainHead, event: Event<'_>) -> anyhow::Result<i64> {
    let org_id = tx.org_id();
    let ChainHead { seq: prev_seq, hash: prev_hash } = head;
    let mut entry = Entry {
        org_id,
        seq: prev_seq + 1,
        // PostgreSQL keeps microseconds; hash exactly what will be read back.
        at: Utc::now().duration_trunc(TimeDelta::microseconds(1))?,
        actor_user_id: event.actor.user_id,
        actor: event.actor.name.clone(),
        action: event.action.to_owned(),
        subject: event.subject,
        details: event.details,
        prev_hash,
        hash: Vec::new(),
    };
    entry.hash = entry.expected_hash(&entry.prev_hash).to_vec();
    sqlx::query(
        "insert into audit_log
             (org_id, seq, at, actor_user_id, actor, action, subject, details, prev_hash, hash)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(entry.org_id)
    .bind(entry.seq)
    .bind(entry.at)
    .bind(entry.actor_user_id)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.subject)
    .bind(&entry.details)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut **tx)
    .await
    .context("cannot append to the audit log")?;
    Ok(entry.seq)
}

/// The first entry of a chain that does not match, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub org_code: String,
    pub seq: i64,
    pub reason: &'static str,
}

/// What [`verify`] found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub organizations: usize,
    pub entries: usize,
    pub broken: Vec<Broken>,
}

/// Walks every organization's chain in order, each inside its own [`OrgTx`].
pub async fn verify(db: &Db) -> anyhow::Result<Report> {
    let orgs: Vec<(OrgId, String)> = sqlx::query_as("select id, code from organizations order by code")
        .fetch_all(db.pool())
        .await?;
    let mut report = Report { organizations: orgs.len(), ..Report::default() };
    for (org_id, code) in orgs {
        let mut tx = OrgTx::begin(db, org_id).await?;
        let (entries, broken) = verify_organization(&mut tx).await?;
        report.entries += entries;
        if let Some((seq, reason)) = broken {
            report.broken.push(Broken { org_code: code, seq, reason });
        }
    }
    Ok(report)
}

/// Walks the chain of the transaction's organization: how many entries it has, and the
/// first that does not match with why.
pub async fn verify_organization(tx: &mut OrgTx) -> anyhow::Result<(usize, Option<(i64, &'static str)>)> {
    let entries: Vec<Entry> = sqlx::query_as("select * from audit_log where org_id = $1 order by seq")
        .bind(tx.org_id())
        .fetch_all(&mut **tx)
        .await?;
    Ok((entries.len(), first_broken(&entries)))
}

fn first_broken(entries: &[Entry]) -> Option<(i64, &'static str)> {
    let mut prev_hash = GENESIS.to_vec();
    for (index, entry) in entries.iter().enumerate() {
        if entry.seq != index as i64 + 1 {
            return Some((entry.seq, "an entry before it is missing"));
        }
        if entry.prev_hash != prev_hash {
            return Some((entry.seq, "it does not point at the previous entry's hash"));
        }
        if entry.hash != entry.expected_hash(&prev_hash) {
            return Some((entry.seq, "its content does not match its hash"));
        }
        prev_hash = entry.hash.clone();
    }
    None
}

/// JSON with object keys sorted, so the hash does not depend on how PostgreSQL's jsonb
/// or serde_json happen to order them.
fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical_json(&map[k])))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        scalar => scalar.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn chain(n: i64) -> Vec<Entry> {
        let org_id = OrgId(Uuid::nil());
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|seq| {
                let mut e = Entry {
                    org_id,
                    seq,
                    at: DateTime::from_timestamp(1_700_000_000 + seq, 0).unwrap(),
                    actor_user_id: None,
                    actor: "cli:test".into(),
                    action: "test".into(),
                    subject: format!("thing:{seq}"),
                    details: json!({"b": 1, "a": [seq]}),
                    prev_hash: prev.clone(),
                    hash: vec![],
                };
                e.hash = e.expected_hash(&prev).to_vec();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(first_broken(&chain(5)), None);
    }

    #[test]
    fn a_changed_entry_is_named() {
        let mut entries = chain(5);
        entries[2].subject = "thing:forged".into();
        assert_eq!(first_broken(&entries).map(|b| b.0), Some(3));
    }

    #[test]
    fn a_removed_entry_is_noticed() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(first_broken(&entries).map(|b| b.0), Some(3));
    }

    #[test]
    fn key_order_does_not_change_the_hash() {
        assert_eq!(canonical_json(&json!({"b": 1, "a": {"d": 2, "c": 3}})), r#"{"a":{"c":3,"d":2},"b":1}"#);
    }
}
