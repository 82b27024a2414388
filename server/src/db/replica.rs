//! A streaming replica of the database for OCM's reads across organizations (the
//! dashboards and the implementation view): they are the heaviest reads and may be a few
//! seconds old, so they can leave the primary to the writes.
//!
//! The replica is used only while it is fresh: checked every second, it must have
//! replayed everything the primary had written a moment before, or have replayed a
//! transaction within the bound (`--replica-max-lag-seconds`). A replica that lags or
//! does not answer is left alone until it catches up, and the reads go to the primary.
//! Row-level security is the same there: the replica is a copy of the same database.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::Db;

#[derive(Debug)]
pub struct Replica {
    db: Db,
    max_lag: Duration,
    fresh: AtomicBool,
}

impl Replica {
    /// A replica reached through `db` (connected as the app role), trusted while it lags
    /// by at most `max_lag`. Not used until its first check.
    pub fn new(db: Db, max_lag: Duration) -> Self {
        Replica { db, max_lag, fresh: AtomicBool::new(false) }
    }

    /// The replica, when it is fresh enough to read from.
    pub fn if_fresh(&self) -> Option<&Db> {
        self.fresh.load(Ordering::SeqCst).then_some(&self.db)
    }

    /// Checks the replica against `primary` once, and keeps the verdict until the next.
    pub async fn check(&self, primary: &Db) -> bool {
        let fresh = match self.lag_within_bound(primary).await {
            Ok(fresh) => fresh,
            Err(err) => {
                tracing::warn!(error = %err, "the read replica does not answer; reading from the primary");
                false
            }
        };
        if self.fresh.swap(fresh, Ordering::SeqCst) != fresh {
            tracing::info!(fresh, "the read replica is {}", if fresh { "fresh: OCM's reads go to it" } else { "behind: OCM's reads go to the primary" });
        }
        fresh
    }

    /// Whether the replica has replayed what the primary had written just before (an idle
    /// primary writes nothing more), or a transaction within `max_lag` (a busy one).
    async fn lag_within_bound(&self, primary: &Db) -> Result<bool, sqlx::Error> {
        let written: String = sqlx::query_scalar("select pg_current_wal_lsn()::text").fetch_one(primary.pool()).await?;
        let (in_recovery, caught_up, seconds_behind): (bool, Option<bool>, Option<f64>) = sqlx::query_as(
            "select pg_is_in_recovery(), pg_last_wal_replay_lsn() >= $1::pg_lsn,
                    extract(epoch from now() - pg_last_xact_replay_timestamp())::float8",
        )
        .bind(written)
        .fetch_one(self.db.pool())
        .await?;
        // A promoted replica takes writes of its own: it is no longer a copy of this primary.
        Ok(in_recovery && (caught_up == Some(true) || seconds_behind.is_some_and(|s| s <= self.max_lag.as_secs_f64())))
    }

    /// Checks every second, for as long as the server runs.
    pub fn watch(self: Arc<Self>, primary: Db) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(1));
            loop {
                every.tick().await;
                self.check(&primary).await;
            }
        });
    }
}
