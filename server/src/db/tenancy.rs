//! The one way to tenant data: [`OrgTx`], a transaction that began by setting
//! `app.org_id`. Row-level security on every table with an `org_id` column compares
//! against that setting (migrations/0001), so what an `OrgTx` can read and write is
//! exactly its organization's rows, enforced by PostgreSQL rather than by each query.

use bmms_shared::{OrgId, Role};
use sqlx::{PgConnection, Postgres, Transaction};
use std::ops::{Deref, DerefMut};
use uuid::Uuid;

use super::Db;

/// A transaction scoped to one organization. Dereferences to the connection, so queries
/// run on it with `.execute(&mut *tx)`; nothing is stored unless [`OrgTx::commit`] is called.
#[derive(Debug)]
pub struct OrgTx {
    tx: Transaction<'static, Postgres>,
    org_id: OrgId,
}

impl OrgTx {
    /// Begins a transaction in which only `org_id`'s tenant rows exist.
    pub async fn begin(db: &Db, org_id: OrgId) -> Result<Self, sqlx::Error> {
        Self::begin_as(db, org_id, "begin").await
    }

    /// Begins a transaction that PostgreSQL holds to reading `org_id`'s rows.
    pub async fn begin_read_only(db: &Db, org_id: OrgId) -> Result<Self, sqlx::Error> {
        Self::begin_as(db, org_id, "begin read only").await
    }

    async fn begin_as(db: &Db, org_id: OrgId, begin: &str) -> Result<Self, sqlx::Error> {
        // One round trip for both: every request pays it, and a write that waits on a lock
        // has the writers behind it wait for its round trips too. `true`: local to this
        // transaction, so the pooled connection forgets it afterwards. The id is written
        // into the statement (a simple query has no parameters) as its UUID prints: hex
        // digits and dashes only.
        let begin = format!("{begin}; select set_config('app.org_id', '{}', true)", org_id.uuid());
        let tx = db.begin_with(begin).await?;
        Ok(OrgTx { tx, org_id })
    }

    /// The organization this transaction is scoped to.
    pub fn org_id(&self) -> OrgId {
        self.org_id
    }

    /// Stores everything done in the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl Deref for OrgTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        &self.tx
    }
}

impl DerefMut for OrgTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// A user's place in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    pub org_id: OrgId,
    pub role: Role,
}

/// Signing in: reads the user's own membership (the only tenant row a transaction
/// without an organization may see, by the `memberships_own_read` policy) and returns
/// an [`OrgTx`] for that organization, in which the sign-in is then audited.
pub async fn begin_for_member(
    db: &Db,
    user_id: Uuid,
) -> anyhow::Result<Option<(Membership, OrgTx)>> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("select set_config('app.user_id', $1, true)")
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    let row: Option<(OrgId, String)> =
        sqlx::query_as("select org_id, role from memberships where user_id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((org_id, role)) = row else {
        return Ok(None);
    };
    let membership = Membership { org_id, role: role.parse()? };
    sqlx::query("select set_config('app.user_id', '', true), set_config('app.org_id', $1, true)")
        .bind(org_id.to_string())
        .execute(&mut *tx)
        .await?;
    Ok(Some((membership, OrgTx { tx, org_id })))
}
