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
