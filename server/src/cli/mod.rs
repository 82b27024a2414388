//! The operator's commands: organizations, users, demo data, and audit verification.
//! Each runs as the app role inside an [`OrgTx`](crate::db::OrgTx) and audits itself in
//! the same transaction, exactly like a request would.

pub mod admin;
pub mod demo;

pub use admin::run as run_admin;
pub use demo::run as run_demo;

use crate::audit;
use crate::db::Db;

/// `bmms audit verify`: prints what it checked; fails if any chain is broken.
/// `bmms verify-certification FILE`: prints what checking the certificate found; fails
/// unless it holds.
pub async fn run_verify_certification(db: &Db, file: &std::path::Path) -> anyhow::Result<()> {
    use anyhow::Context;
    let text = if file == std::path::Path::new("-") {
        std::io::read_to_string(std::io::stdin()).context("cannot read the certificate from standard input")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let certificate: bmms_shared::plans::certificate::Certificate =
        serde_json::from_str(&text).context("this is not a BMMS certificate (its JSON does not have a certificate's fields)")?;
    let verdict = crate::certification::verify(db, &certificate).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    println!("{}", verdict.finding);
    if verdict.valid {
        Ok(())
    } else {
        anyhow::bail!("the certificate does not hold")
    }
}

pub async fn run_audit_verify(db: &Db) -> anyhow::Result<()> {
    let report = audit::verify(db).await?;
    for broken in &report.broken {
        println!(
            "BROKEN  {} entry #{}: {}",
            broken.org_code, broken.seq, broken.reason
        );
    }
    println!(
        "checked {} entries in {} organizations: {}",
        report.entries,
        report.organizations,
        if report.broken.is_empty() { "every chain is intact".to_owned() } else { format!("{} broken", report.broken.len()) }
    );
    if report.broken.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("the audit log has been altered")
    }
}

/// `bmms audit archive`: prints the file and what it holds of each organization.
pub async fn run_audit_archive(db: &Db, dir: &std::path::Path, before: Option<chrono::DateTime<chrono::Utc>>) -> anyhow::Result<()> {
    use chrono::{Datelike, TimeZone, Utc};
    let before = before.unwrap_or_else(|| {
        let now = Utc::now();
        Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now)
    });
    let archived = crate::audit_archive::archive(db, dir, before).await?;
    let Some(file) = archived.file else {
        println!("nothing to archive before {before}: every older entry is archived already");
        return Ok(());
    };
    for part in &archived.parts {
        println!("{:<10} entries #{} to #{}", part.organization, part.first_seq, part.last_seq);
    }
    println!("archived to {} (read-only); keep a copy off this machine", file.display());
    Ok(())
}

/// `bmms audit verify-archive FILE`
pub async fn run_audit_verify_archive(db: &Db, file: &std::path::Path) -> anyhow::Result<()> {
    let parts = crate::audit_archive::verify_archive(db, file).await?;
    for part in &parts {
        println!("{:<10} entries #{} to #{}: intact", part.organization, part.first_seq, part.last_seq);
    }
    println!("{} is the archive the database recorded, and every entry in it is intact", file.display());
    Ok(())
}
