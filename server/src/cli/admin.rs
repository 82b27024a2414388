//! `bmms admin ...`: create organizations and users, reset passwords, disable users.

use anyhow::{bail, Context};
use bmms_shared::{OrgKind, Role};
use serde_json::json;
use bmms_shared::OrgId;
use uuid::Uuid;

use crate::audit::{self, Actor, Event};
use crate::auth::{password, session_store, users};
use crate::config::AdminCommand;
use crate::db::{Db, OrgTx};

pub async fn run(db: &Db, command: AdminCommand) -> anyhow::Result<()> {
    let actor = Actor::cli();
    match command {
        AdminCommand::CreateOrg { code, name, kind } => {
            let kind: OrgKind = kind.parse()?;
            let id = create_org(db, &actor, &code, &name, kind).await?;
            println!("created organization {code} ({name}), id {id}");
        }
        AdminCommand::CreateUser { org, username, display_name, role } => {
            let role: Role = role.parse()?;
            let password = password::generate();
            create_user(db, &actor, &org, &username, &display_name, role, &password).await?;
            println!("created {username} ({role}) in {org}; password, shown only now: {password}");
        }
        AdminCommand::ResetPassword { username } => {
            let password = password::generate();
            reset_password(db, &actor, &username, &password).await?;
            println!("new password for {username}, shown only now: {password}");
        }
        AdminCommand::DisableUser { username } => {
            let ended = disable_user(db, &actor, &username).await?;
            println!("disabled {username}; {ended} session(s) ended");
        }
        AdminCommand::ResetSecondFactor { username } => {
            reset_second_factor(db, &actor, &username).await?;
            println!("removed {username}'s passkeys, authenticator app and recovery codes; they set up a new one at their next sign-in if their role needs one");
        }
    }
    Ok(())
}

/// Creates an organization, audited in its own new chain.
pub async fn create_org(db: &Db, actor: &Actor, code: &str, name: &str, kind: OrgKind) -> anyhow::Result<OrgId> {
    let code = code.trim().to_uppercase();
    let id = OrgId(Uuid::new_v4());
    // The organization row is reference data (no RLS); its audit entry is tenant data.
    let mut tx = OrgTx::begin(db, id).await?;
    sqlx::query("insert into organizations (id, code, name, kind) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(&code)
        .bind(name.trim())
        .bind(kind.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| friendly(e, "an organization with that code or name already exists, or the code is not 2-16 capital letters, digits or dashes"))?;
    audit::append(&mut tx, Event {
        actor,
        action: "admin.create_organization",
        subject: format!("organization:{id}"),
        details: json!({ "code": code, "name": name.trim(), "kind": kind.as_str() }),
    })
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a user with one membership, audited in that organization's chain.
pub async fn create_user(
    db: &Db,
    actor: &Actor,
    org_code: &str,
    username: &str,
    display_name: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<Uuid> {
    if password.chars().count() < password::MIN_LENGTH {
        bail!("a password needs at least {} characters", password::MIN_LENGTH);
    }
    let (org_id, kind) = org_by_code(db, org_code).await?;
    if let Some(required) = role.required_org_kind() {
        if required != kind {
            bail!("the role {role} belongs in the {} organization, not in {org_code}", required.as_str().to_uppercase());
        }
    }
    let username = users::normalize_username(username);
    let hash = password::hash(password.to_owned()).await?;
    let user_id = Uuid::new_v4();
    let mut tx = OrgTx::begin(db, org_id).await?;
    sqlx::query("insert into users (id, username, display_name, password_hash) values ($1, $2, $3, $4)")
        .bind(user_id)
        .bind(&username)
        .bind(display_name.trim())
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(|e| friendly(e, "that username is taken, or it is not 3-64 lowercase letters, digits, dots, dashes or underscores"))?;
    sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, $3)")
        .bind(org_id)
        .bind(user_id)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await?;
    audit::append(&mut tx, Event {
        actor,
        action: "admin.create_user",
        subject: format!("user:{user_id}"),
        details: json!({ "username": username, "role": role.as_str() }),
    })
    .await?;
    tx.commit().await?;
    Ok(user_id)
}

/// Sets a new password and ends the user's sessions.
pub async fn reset_password(db: &Db, actor: &Actor, username: &str, password: &str) -> anyhow::Result<()> {
    let (user_id, mut tx) = user_tx(db, username).await?;
    let hash = password::hash(password.to_owned()).await?;
    sqlx::query("update users set password_hash = $2, updated_at = now() where id = $1")
        .bind(user_id)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
    session_store::end_sessions_of(&mut tx, user_id).await?;
    audit::append(&mut tx, Event { actor, action: "admin.reset_password", subject: format!("user:{user_id}"), details: json!({}) })
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Disables a user and ends every session of theirs; returns how many ended.
pub async fn disable_user(db: &Db, actor: &Actor, username: &str) -> anyhow::Result<u64> {
    let (user_id, mut tx) = user_tx(db, username).await?;
    sqlx::query("update users set disabled_at = coalesce(disabled_at, now()), updated_at = now() where id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let ended = session_store::end_sessions_of(&mut tx, user_id).await?;
    audit::append(&mut tx, Event {
        actor,
        action: "admin.disable_user",
        subject: format!("user:{user_id}"),
        details: json!({ "sessions_ended": ended }),
    })
    .await?;
    tx.commit().await?;
    Ok(ended)
}

/// Removes a user's second factors (a lost phone): their role's policy walks them through
/// setting up a new second factor at their next sign-in.
pub async fn reset_second_factor(db: &Db, actor: &Actor, username: &str) -> anyhow::Result<()> {
    let (user_id, mut tx) = user_tx(db, username).await?;
    crate::auth::second_factor::remove_all(&mut tx, user_id).await?;
    audit::append(&mut tx, Event {
        actor,
        action: "auth.second_factor_removed",
        subject: format!("user:{user_id}"),
        details: json!({ "by": "administrator" }),
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The user's id and a transaction in their organization.
async fn user_tx(db: &Db, username: &str) -> anyhow::Result<(Uuid, OrgTx)> {
    let user = users::find_by_username(db.pool(), username)
        .await?
        .with_context(|| format!("there is no user named {username}"))?;
    let (_, tx) = crate::db::tenancy::begin_for_member(db, user.id)
        .await?
        .with_context(|| format!("{username} belongs to no organization"))?;
    Ok((user.id, tx))
}

async fn org_by_code(db: &Db, code: &str) -> anyhow::Result<(OrgId, OrgKind)> {
    let row: Option<(OrgId, String)> = sqlx::query_as("select id, kind from organizations where code = $1")
        .bind(code.trim().to_uppercase())
        .fetch_optional(db.pool())
        .await?;
    let (id, kind) = row.with_context(|| format!("there is no organization with code {code}"))?;
    Ok((id, kind.parse()?))
}

/// Constraint violations become a sentence for the operator; other errors stay as they are.
fn friendly(err: sqlx::Error, sentence: &'static str) -> anyhow::Error {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() || db.is_check_violation() => {
            anyhow::anyhow!(sentence)
        }
        _ => err.into(),
    }
}
