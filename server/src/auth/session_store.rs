//! tower-sessions records in PostgreSQL (migrations/0004). A store of our own rather
//! than tower-sessions-sqlx-store because it keeps the signed-in user's id in its own
//! column: disabling a user must end every session of theirs at once.

use async_trait::async_trait;
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use tower_sessions::SessionStore;
use uuid::Uuid;

use super::signed_in::{AUTH_KEY, HALFWAY_KEY};

/// Sessions in the `sessions` table.
#[derive(Debug, Clone)]
pub struct PgSessionStore {
    pool: PgPool,
}

impl PgSessionStore {
    pub fn new(pool: PgPool) -> Self {
        PgSessionStore { pool }
    }

    /// Deletes sessions past their expiry; run now and then.
    pub async fn delete_expired(&self) -> sqlx::Result<u64> {
        let done = sqlx::query("delete from sessions where expiry_date < now()")
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Ends every session of a user (they were disabled, or changed their password).
pub async fn end_sessions_of(conn: &mut sqlx::PgConnection, user_id: Uuid) -> sqlx::Result<u64> {
    let done = sqlx::query("delete from sessions where user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected())
}

/// Ends every session of the people of the transaction's organization (it was
/// deactivated): `memberships` shows a transaction its own organization's alone.
pub async fn end_sessions_of_organization(tx: &mut crate::db::OrgTx) -> sqlx::Result<u64> {
    let done = sqlx::query("delete from sessions where user_id in (select user_id from memberships)").execute(&mut **tx).await?;
    Ok(done.rows_affected())
}

/// The row key of a session: a hash of its id, so that a copy of the table (a backup, a
/// read replica) holds no id that could be replayed as a cookie.
fn key(id: &Id) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

/// Whose session this is: signed in, or halfway through signing in (so that disabling a
/// user, a new password or "sign out everywhere" ends a sign-in halfway too).
fn user_id_of(record: &Record) -> Option<Uuid> {
    let auth = match record.data.get(AUTH_KEY) {
        Some(auth) => auth,
        None => record.data.get(HALFWAY_KEY)?.get("auth")?,
    };
    serde_json::from_value(auth.get("user_id")?.clone()).ok()
}

fn backend(err: sqlx::Error) -> Error {
    Error::Backend(err.to_string())
}

/// Runs `sql` with the record's columns as $1 (key), $2 (user), $3 (data), $4 (expiry);
/// returns how many rows it touched.
async fn write(pool: &PgPool, sql: &'static str, record: &Record) -> Result<u64> {
    let data = serde_json::to_value(&record.data).map_err(|e| Error::Encode(e.to_string()))?;
    let done = sqlx::query(sql)
        .bind(key(&record.id))
        .bind(user_id_of(record))
        .bind(data)
        .bind(to_chrono(record.expiry_date))
        .execute(pool)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Every API request saves its session; one that holds nothing (a stranger's
        // request, an unknown cookie) is not worth a row.
        if record.data.is_empty() {
            return Ok(());
        }
        // A new id until it is unused; ids are 128 random bits, so this loops once.
        loop {
            let inserted = write(
                &self.pool,
                "insert into sessions (id, user_id, data, expiry_date) values ($1, $2, $3, $4)
                 on conflict (id) do nothing",
                record,
            )
            .await?;
            if inserted == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> Result<()> {
        // Only ever updates: a session deleted meanwhile (sign-out elsewhere, the user
        // disabled) must stay deleted, not be written back by a request that loaded it
        // before. New sessions go through `create`.
        let sql = "update sessions set user_id = $2, data = $3, expiry_date = $4 where id = $1";
        write(&self.pool, sql, record).await?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let row: Option<(serde_json::Value, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
            "select data, expiry_date from sessions where id = $1 and expiry_date > now()",
        )
        .bind(key(id))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        let Some((data, expiry)) = row else { return Ok(None) };
        Ok(Some(Record {
            id: *id,
            data: serde_json::from_value(data).map_err(|e| Error::Decode(e.to_string()))?,
            expiry_date: from_chrono(expiry),
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        sqlx::query("delete from sessions where id = $1")
            .bind(key(id))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

fn to_chrono(t: time::OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

fn from_chrono(t: chrono::DateTime<chrono::Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(t.timestamp_nanos_opt().unwrap_or(0) as i128)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}
