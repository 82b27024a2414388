//! Users and memberships: the queries shared by sign-in, `/me` and the admin CLI.

use bmms_shared::api::{OrganizationSummary, UserSummary};
use bmms_shared::UserId;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::OrgTx;

/// A user row as sign-in needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub disabled: bool,
}

impl UserRecord {
    pub fn summary(&self) -> UserSummary {
        UserSummary { id: UserId(self.id), username: self.username.clone(), display_name: self.display_name.clone() }
    }
}

/// Usernames are kept lowercase; people may type them in any case.
pub fn normalize_username(username: &str) -> String {
    username.trim().to_lowercase()
}

pub async fn find_by_username(pool: &PgPool, username: &str) -> sqlx::Result<Option<UserRecord>> {
    sqlx::query_as(
        "select id, username, display_name, password_hash, disabled_at is not null as disabled
         from users where username = $1",
    )
    .bind(normalize_username(username))
    .fetch_optional(pool)
    .await
}

/// By id, on the pool or inside a transaction the request already holds (taking a second
/// connection while holding one would exhaust the pool in a rush).
pub async fn find_by_id<'e>(executor: impl sqlx::PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<UserRecord>> {
    sqlx::query_as(
        "select id, username, display_name, password_hash, disabled_at is not null as disabled
         from users where id = $1",
    )
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// The organization an [`OrgTx`] is scoped to.
pub async fn organization(tx: &mut OrgTx) -> Result<OrganizationSummary, crate::error::ApiError> {
    let org_id = tx.org_id();
    // Only an organization named in the address (the system administrator's `?org=`)
    // can be missing.
    crate::routes::organizations::find(tx, org_id)
        .await?
        .ok_or_else(|| crate::error::ApiError::not_found("There is no organization with that id."))
}

/// Records that the user finished signing in now (shown to their administrator).
pub async fn signed_in_now(conn: &mut sqlx::PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update users set last_sign_in_at = now() where id = $1").bind(id).execute(conn).await?;
    Ok(())
}
