//! The people of an organization, as its administrator manages them (`routes/people.rs`)
//! and as a new user takes up their account with a set-up link.
//!
//! Users are platform rows (no `org_id`); which organization a user belongs to is their
//! membership, a tenant row. Every query here starts from `memberships` inside the
//! caller's [`OrgTx`], so row-level security keeps an administrator to their own
//! organization's people: another organization's user is simply not found.

use bmms_shared::api::Person;
use bmms_shared::{Role, UserId};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::OrgTx;

/// How long a set-up link works.
pub const SET_UP_LINK_LIFETIME: Duration = Duration::hours(72);

/// The columns of a [`Person`], from `memberships m join users u`.
const PERSON: &str = "u.id, u.username, u.display_name, m.role, u.disabled_at is not null as disabled, u.last_sign_in_at,
    (select count(*) from sessions s where s.user_id = u.id and s.expiry_date > now()) as active_sessions,
    (exists (select 1 from user_totp t where t.user_id = u.id)
        or exists (select 1 from user_passkeys p where p.user_id = u.id)) as second_factor,
    exists (select 1 from user_set_up_links l where l.user_id = u.id and l.expires_at > now()) as set_up_pending";

#[derive(sqlx::FromRow)]
struct PersonRow {
    id: Uuid,
    username: String,
    display_name: String,
    role: String,
    disabled: bool,
    last_sign_in_at: Option<DateTime<Utc>>,
    active_sessions: i64,
    second_factor: bool,
    set_up_pending: bool,
}

impl PersonRow {
    fn person(self) -> sqlx::Result<Person> {
        Ok(Person {
            id: UserId(self.id),
            username: self.username,
            display_name: self.display_name,
            role: self.role.parse().map_err(|e: bmms_shared::roles::UnknownRole| sqlx::Error::Decode(e.into()))?,
            disabled: self.disabled,
            last_sign_in: crate::wire::maybe_timestamp(self.last_sign_in_at),
            active_sessions: self.active_sessions,
            second_factor: self.second_factor,
            set_up_pending: self.set_up_pending,
        })
    }
}

/// Everyone in the transaction's organization, by username.
pub async fn list(tx: &mut OrgTx) -> sqlx::Result<Vec<Person>> {
    let rows: Vec<PersonRow> = sqlx::query_as(&format!("select {PERSON} from memberships m join users u on u.id = m.user_id order by u.username"))
        .fetch_all(&mut **tx)
        .await?;
    rows.into_iter().map(PersonRow::person).collect()
}

/// One user of the transaction's organization, if `id` is one.
pub async fn find(tx: &mut OrgTx, id: Uuid) -> sqlx::Result<Option<Person>> {
    let row: Option<PersonRow> =
        sqlx::query_as(&format!("select {PERSON} from memberships m join users u on u.id = m.user_id where m.user_id = $1"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    row.map(PersonRow::person).transpose()
}

/// A username people may have: 3 to 64 lowercase letters, digits, dots, dashes or
/// underscores, starting with a letter or digit (as the `users` table checks).
pub fn is_valid_username(username: &str) -> bool {
    let mut chars = username.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    first_ok && rest_ok && (3..=64).contains(&username.len())
}

/// Adds a user to the transaction's organization with `role`. Their password is a long
/// random one nobody knows: they choose their own with a set-up link.
pub async fn create(tx: &mut OrgTx, username: &str, display_name: &str, role: Role, password_hash: &str) -> sqlx::Result<Uuid> {
    let id = Uuid::new_v4();
    sqlx::query("insert into users (id, username, display_name, password_hash) values ($1, $2, $3, $4)")
        .bind(id)
        .bind(username)
        .bind(display_name)
        .bind(password_hash)
        .execute(&mut **tx)
        .await?;
    let org_id = tx.org_id();
    sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, $3)")
        .bind(org_id)
        .bind(id)
        .bind(role.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

/// A new set-up link for `user` (replacing any earlier one): its token, to show once.
pub async fn new_set_up_link(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<(String, DateTime<Utc>)> {
    let token = hex::encode(crate::key_file::random_key());
    let expires_at = Utc::now() + SET_UP_LINK_LIFETIME;
    sqlx::query(
        "insert into user_set_up_links (user_id, token_sha256, expires_at) values ($1, $2, $3)
         on conflict (user_id) do update set token_sha256 = excluded.token_sha256, expires_at = excluded.expires_at, created_at = now()",
    )
    .bind(user)
    .bind(token_digest(&token))
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok((token, expires_at))
}

pub fn token_digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

/// The user (id and username) whose unexpired set-up link has `token`, if any.
pub async fn set_up_link_user(conn: &mut PgConnection, token: &str) -> sqlx::Result<Option<(Uuid, String)>> {
    sqlx::query_as(
        "select l.user_id, u.username from user_set_up_links l join users u on u.id = l.user_id
         where l.token_sha256 = $1 and l.expires_at > now()",
    )
    .bind(token_digest(token))
    .fetch_optional(conn)
    .await
}

pub async fn set_role(tx: &mut OrgTx, user: Uuid, role: Role) -> sqlx::Result<()> {
    sqlx::query("update memberships set role = $2 where user_id = $1").bind(user).bind(role.as_str()).execute(&mut **tx).await?;
    Ok(())
}

/// Disables or re-enables a user; disabling ends every session of theirs (how many it
/// ended is returned).
pub async fn set_disabled(tx: &mut OrgTx, user: Uuid, disabled: bool) -> sqlx::Result<u64> {
    sqlx::query("update users set disabled_at = case when $2 then coalesce(disabled_at, now()) end, updated_at = now() where id = $1")
        .bind(user)
        .bind(disabled)
        .execute(&mut **tx)
        .await?;
    if disabled {
        return crate::auth::session_store::end_sessions_of(tx, user).await;
    }
    Ok(0)
}
