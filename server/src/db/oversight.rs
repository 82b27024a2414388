//! Read-only transactions for the dashboards.
//!
//! [`ReadTx::organization`] is an [`OrgTx`] that PostgreSQL also holds to read-only: what
//! a ministry user sees of their own organization, and what an OCM analyst opens when
//! drilling down into one organization's records.
//!
//! [`ReadTx::oversight`] is the Office of the Chief Minister's view across organizations:
//! read-only, and with `app.oversight` set, which opens exactly one more door — the
//! select policy of the summary tables (`agg_*`, migrations/0009). Every record table
//! still answers nothing, because no organization is set. Only callers that checked
//! [`bmms_shared::Role::oversees_all`] open one.

use bmms_shared::OrgId;
use sqlx::{PgConnection, Postgres, Transaction};
use std::ops::{Deref, DerefMut};

use super::{Db, OrgTx};

/// A read-only transaction over one organization or, for oversight, over every
/// organization's totals.
#[derive(Debug)]
pub enum ReadTx {
    Organization(OrgTx),
    Oversight(Transaction<'static, Postgres>),
}

impl ReadTx {
    pub async fn organization(db: &Db, org_id: OrgId) -> Result<Self, sqlx::Error> {
        Ok(ReadTx::Organization(OrgTx::begin_read_only(db, org_id).await?))
    }

    pub async fn oversight(db: &Db) -> Result<Self, sqlx::Error> {
        // One round trip, as for an OrgTx; `true`: the setting ends with the transaction.
        let tx = db.begin_with("begin read only; select set_config('app.oversight', 'on', true)".into()).await?;
        Ok(ReadTx::Oversight(tx))
    }

    /// Ends the transaction (there is nothing to keep).
    pub async fn finish(self) -> Result<(), sqlx::Error> {
        match self {
            ReadTx::Organization(tx) => tx.commit().await,
            ReadTx::Oversight(tx) => tx.rollback().await,
        }
    }
}

impl Deref for ReadTx {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match self {
            ReadTx::Organization(tx) => tx,
            ReadTx::Oversight(tx) => tx,
        }
    }
}

impl DerefMut for ReadTx {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            ReadTx::Organization(tx) => tx,
            ReadTx::Oversight(tx) => tx,
        }
    }
}
