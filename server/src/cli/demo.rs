//! `bmms demo`: one demo user for every role, spread over several organizations, so
//! that every screen can be tried. Passwords are random and printed once.

use bmms_shared::Role;

use crate::audit::Actor;
use crate::auth::{password, users};
use crate::cli::admin::create_user;
use crate::db::Db;

/// (organization code, role) of every demo user.
pub const DEMO_USERS: &[(&str, Role)] = &[
    ("MILG", Role::FieldOfficer),
    ("MILG", Role::Supervisor),
    ("MILG", Role::MinistryStaff),
    ("MILG", Role::OrgAdmin),
    ("MOH", Role::FieldOfficer),
    ("MOH", Role::Supervisor),
    ("MOH", Role::MinistryStaff),
    ("MOH", Role::OrgAdmin),
    ("OCM", Role::OcmExecutive),
    ("OCM", Role::OcmAnalyst),
    ("OCM", Role::SystemAdmin),
    ("BPDA", Role::BpdaPlanner),
    ("MFBM", Role::MfbmBudgetOfficer),
];

/// The demo username for an organization and role, e.g. `demo.milg.field_officer`.
pub fn demo_username(org: &str, role: Role) -> String {
    format!("demo.{}.{}", org.to_lowercase(), role.as_str())
}

pub async fn run(db: &Db) -> anyhow::Result<()> {
    let (first_org, first_role) = DEMO_USERS[0];
    if users::find_by_username(db.pool(), &demo_username(first_org, first_role)).await?.is_some() {
        println!(
            "The demo users already exist; their passwords were printed when they were made.\n\
             Give one a new password with: bmms admin reset-password --username {}",
            demo_username(first_org, first_role)
        );
        return Ok(());
    }
    let actor = Actor::cli();
    println!("Demo users (passwords are shown only this once):\n");
    println!("  {:<34} {:<22} {}", "username", "role", "password");
    for &(org, role) in DEMO_USERS {
        let username = demo_username(org, role);
        let password = password::generate();
        let display_name = format!("Demo {} ({org})", role.label());
        create_user(db, &actor, org, &username, &display_name, role, &password).await?;
        println!("  {username:<34} {:<22} {password}", role.as_str());
    }
    println!();
    Ok(())
}
