//! Sign-in attempt limits, per account and per client address (governor's GCRA).
//! A guesser is slowed to a trickle; a person who mistypes a few times is not. The same
//! kind of limit per key ([`KeyedLimiter`]) holds back the other routes open to anyone
//! (checking a certificate, a set-up link) per address, and second-factor codes per user.

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How many attempts, refilled how fast.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub burst: u32,
    pub refill_every: Duration,
}

/// The limits of sign-in attempts.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub per_account: Limit,
    pub per_address: Limit,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            // Five tries at once, then one a minute.
            per_account: Limit { burst: 5, refill_every: Duration::from_secs(60) },
            // A municipal office behind one address may have many officers signing in.
            per_address: Limit { burst: 50, refill_every: Duration::from_secs(2) },
        }
    }
}

/// The monotonic clock of the limiter, which tests can move forward instead of sleeping.
#[derive(Debug, Clone)]
pub struct LimiterClock {
    start: Instant,
    skipped_nanos: Arc<AtomicU64>,
}

impl LimiterClock {
    fn new() -> Self {
        LimiterClock { start: Instant::now(), skipped_nanos: Arc::new(AtomicU64::new(0)) }
    }

    /// Moves this clock forward, as if `by` had passed.
    pub fn advance(&self, by: Duration) {
        self.skipped_nanos.fetch_add(by.as_nanos() as u64, Ordering::SeqCst);
    }
}

impl Clock for LimiterClock {
    type Instant = Nanos;
    fn now(&self) -> Nanos {
        Nanos::from(self.start.elapsed()) + Nanos::new(self.skipped_nanos.load(Ordering::SeqCst))
    }
}

type Keyed<K> = RateLimiter<K, DashMapStateStore<K>, LimiterClock, NoOpMiddleware<Nanos>>;

/// The sign-in limiters.
#[derive(Debug)]
pub struct LoginLimiter {
    per_account: Keyed<String>,
    per_address: Keyed<IpAddr>,
    clock: LimiterClock,
}

impl LoginLimiter {
    pub fn new(limits: LoginLimits) -> Self {
        let clock = LimiterClock::new();
        LoginLimiter {
            per_account: RateLimiter::new(quota(limits.per_account), DashMapStateStore::default(), clock.clone()),
            per_address: RateLimiter::new(quota(limits.per_address), DashMapStateStore::default(), clock.clone()),
            clock,
        }
    }

    /// Counts one attempt; `Err` holds how long to wait before the next one is allowed.
    pub fn check(&self, account: &str, address: IpAddr) -> Result<(), Duration> {
        let now = self.clock.now();
        let address_result = self.per_address.check_key(&address);
        let account_result = self.per_account.check_key(&account.to_owned());
        let wait = [address_result.err(), account_result.err()]
            .into_iter()
            .flatten()
            .map(|not_until| not_until.wait_time_from(now))
            .max();
        match wait {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    /// The limiter's clock (tests move it forward).
    pub fn clock(&self) -> &LimiterClock {
        &self.clock
    }

    /// Forgets keys whose limits have refilled; run now and then so memory stays flat.
    pub fn forget_idle(&self) {
        self.per_account.retain_recent();
        self.per_address.retain_recent();
    }
}

/// A limit per key alone: per client address for the public route that reads the
/// database (checking a certificate), per user for second-factor attempts.
#[derive(Debug)]
pub struct KeyedLimiter<K: std::hash::Hash + Eq + Clone> {
    per_key: Keyed<K>,
    clock: LimiterClock,
}

/// Certificate checks: a burst of 30 from one address, then one a second.
pub const CERTIFICATE_CHECKS: Limit = Limit { burst: 30, refill_every: Duration::from_secs(1) };

/// Set-up links tried from one address: a few at once (an office setting up several
/// people), then one every 6 seconds. The tokens are 256 bits; this spares the database.
pub const SET_UP_LINKS: Limit = Limit { burst: 20, refill_every: Duration::from_secs(6) };

/// Sign-ins begun from one address with a passkey or a sign-in service: as many as a busy
/// office's, then one every 3 seconds. Each keeps a row (a ceremony, a session) until used
/// or swept, and a service's start reads the provider's documents: this keeps them few.
pub const SIGN_IN_STARTS: Limit = Limit { burst: 30, refill_every: Duration::from_secs(3) };

/// Second-factor attempts of one user: ten at once, then one every 30 seconds, so that
/// guessing a six-digit code would take years while a person who mistypes is not held up.
pub const SECOND_FACTOR_ATTEMPTS: Limit = Limit { burst: 10, refill_every: Duration::from_secs(30) };

impl<K: std::hash::Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(limit: Limit) -> Self {
        let clock = LimiterClock::new();
        KeyedLimiter { per_key: RateLimiter::new(quota(limit), DashMapStateStore::default(), clock.clone()), clock }
    }

    /// Counts one request; `Err` holds how long to wait before the next one is allowed.
    pub fn check(&self, key: K) -> Result<(), Duration> {
        let now = self.clock.now();
        self.per_key.check_key(&key).map_err(|not_until| not_until.wait_time_from(now))
    }

    /// The limiter's clock (tests move it forward).
    pub fn clock(&self) -> &LimiterClock {
        &self.clock
    }

    /// Forgets keys whose limits have refilled.
    pub fn forget_idle(&self) {
        self.per_key.retain_recent();
    }
}

fn quota(limit: Limit) -> Quota {
    let burst = NonZeroU32::new(limit.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(limit.refill_every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_quick_attempt_on_one_account_waits_and_then_may_go() {
        let limiter = LoginLimiter::new(LoginLimits::default());
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..5 {
            assert!(limiter.check("ana", ip).is_ok());
        }
        let wait = limiter.check("ana", ip).unwrap_err();
        assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60), "{wait:?}");
        // Another account from the same address is not held back.
        assert!(limiter.check("ben", ip).is_ok());
        limiter.clock().advance(wait);
        assert!(limiter.check("ana", ip).is_ok());
    }
}
