//! Resources no client can hold for long: how much CPU-heavy work runs at once, and how
//! many exchanges and exports one user may have open. Each limit is listed in
//! docs/security.md.

use bmms_shared::UserId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};


use crate::error::ApiError;

/// Exports one user may be downloading at once.
pub const EXPORTS_PER_USER: usize = 2;
/// What a refused client is told to wait.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Every limit of the server, shared by its handlers.
#[derive(Debug)]
pub struct Limits {
    pub cpu: CpuPool,
    pub syncs: PerUser,
    pub exports: PerUser,
    /// Sync exchanges that may hold a database connection at once. An exchange keeps its
    /// transaction open while its documents merge on the [`CpuPool`], so without this
    /// bound, exchanges waiting for a core could take every connection, and sign-ins
    /// and other requests would wait for one.
    pub sync_transactions: Gate,
}

impl Limits {
    /// `syncs_per_user`: sync exchanges one user may have in progress (a setting, since
    /// the load benchmark plays many phones of one account at once).
    /// `db_connections`: the size of the request pool, of which syncs may hold all but
    /// the one the live events' listener keeps: then a sync waiting for a core holds at
    /// most that many, and other requests get the next one a sync releases (a sync's
    /// transaction lasts milliseconds). Keeping one more aside cost W5 about a tenth of
    /// its throughput (docs/benchmarks.md).
    pub fn new(syncs_per_user: usize, db_connections: usize) -> Self {
        Limits {
            cpu: CpuPool::new(std::thread::available_parallelism().map_or(2, |n| n.get())),
            syncs: PerUser::new(syncs_per_user.max(1), "sync_busy", "This account already has sync exchanges in progress."),
            exports: PerUser::new(EXPORTS_PER_USER, "exports_busy", "This account already has downloads in progress."),
            sync_transactions: Gate::new(db_connections.saturating_sub(1).max(1)),
        }
    }
}

/// A bounded number of holders at once; the others wait their turn, up to
/// [`GATE_WAIT`], then get 503 with `Retry-After`.
#[derive(Debug)]
pub struct Gate {
    permits: Arc<Semaphore>,
}

/// How long a request waits at a [`Gate`] before it is told to come back.
const GATE_WAIT: Duration = Duration::from_secs(30);

impl Gate {
    pub fn new(holders: usize) -> Self {
        Gate { permits: Arc::new(Semaphore::new(holders.max(1))) }
    }

    /// A place, held until the permit drops.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        match tokio::time::timeout(GATE_WAIT, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(closed)) => Err(ApiError::Internal(closed.into())),
            Err(_) => Err(ApiError::Unavailable {
                message: "The server is busy with other devices' syncs; nothing was changed.",
                retry_after: RETRY_AFTER,
            }),
        }
    }
}

/// Below this much input, merging and loading documents run where the request is (see
/// [`CpuPool::run_sized`]): a millisecond or two of work at most, which costs less than
/// handing it to another thread (in the W5 load benchmark, handing every exchange over
/// cost about a tenth more server CPU per request, docs/benchmarks.md).
const INLINE_BYTES: usize = 32 * 1024;

/// At most this many operations, all changes together, in an exchange that merges inline
/// (W5's exchanges hold about 50).
pub const INLINE_OPERATIONS: u64 = 2_000;

/// Below this many bytes (inflated), decoding a sync request and encoding its answer run
/// where the request is: DEFLATE and postcard go through that in well under a millisecond.
pub const INLINE_CODEC_BYTES: usize = 256 * 1024;

/// Runs CPU-heavy work (decoding, merging and saving documents) on the blocking threads,
/// at most one job per core at a time, so that the async threads stay free to answer
/// (`/healthz`, sign-in, other organizations) and memory stays bounded by what a few
/// jobs hold, however many requests arrive.
#[derive(Debug)]
pub struct CpuPool {
    permits: Arc<Semaphore>,
}

impl CpuPool {
    pub fn new(jobs: usize) -> Self {
        CpuPool { permits: Arc::new(Semaphore::new(jobs.max(1))) }
    }

    /// Runs `job`, whose size is about `bytes` of input: a small one at once, where the
    /// request is (handing it to another thread would cost more than it; a phone's usual
    /// exchange is a few kilobytes), a larger one on a blocking thread when a core is free.
    pub async fn run_sized<R: Send + 'static>(&self, bytes: usize, job: impl FnOnce() -> R + Send + 'static) -> Result<R, ApiError> {
        if bytes < INLINE_BYTES {
            return Ok(job());
        }
        self.run(job).await
    }

    /// Runs `job` when a core is free; a panic in it is an internal error, not a crash.
    /// The job holds its core until it ends, even if the request that asked for it has
    /// gone (a client that hangs up cannot free a core for more jobs).
    pub async fn run<R: Send + 'static>(&self, job: impl FnOnce() -> R + Send + 'static) -> Result<R, ApiError> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.map_err(|e| ApiError::Internal(e.into()))?;
        let held = move || {
            let _permit = permit;
            job()
        };
        tokio::task::spawn_blocking(held).await.map_err(|e| ApiError::Internal(anyhow::anyhow!("a CPU job failed: {e}")))
    }
}

/// How many of one kind of request each user may have in progress.
#[derive(Debug)]
pub struct PerUser {
    max: usize,
    code: &'static str,
    message: &'static str,
    open: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl PerUser {
    fn new(max: usize, code: &'static str, message: &'static str) -> Self {
        PerUser { max, code, message, open: Arc::default() }
    }

    /// A place for `user`'s request, held until the guard drops; 429 with `Retry-After`
    /// when they already have as many as allowed.
    pub fn enter(&self, user: UserId) -> Result<Slot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(user).or_insert(0);
        if *count >= self.max {
            return Err(ApiError::TooManyRequests { code: self.code, message: self.message, retry_after: RETRY_AFTER });
        }
        *count += 1;
        Ok(Slot { user, open: Arc::clone(&self.open) })
    }
}

/// One request's place in a [`PerUser`] limit.
#[derive(Debug)]
pub struct Slot {
    user: UserId,
    open: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_as_many_slots_as_allowed_and_more_once_one_ends() {
        let limit = PerUser::new(2, "busy", "Busy.");
        let (ana, ben) = (UserId(uuid::Uuid::from_u128(1)), UserId(uuid::Uuid::from_u128(2)));
        let first = limit.enter(ana).unwrap();
        let _second = limit.enter(ana).unwrap();
        assert!(matches!(limit.enter(ana), Err(ApiError::TooManyRequests { .. })));
        let _other_user = limit.enter(ben).unwrap();
        drop(first);
        assert!(limit.enter(ana).is_ok());
    }
}
