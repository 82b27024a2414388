//! Second factors: which roles must have one, the clock they are checked by, and what is
//! stored of each user's (an authenticator app's sealed seed and recovery codes). The
//! routes (`routes::second_factor`) decide when to ask; this module checks and stores,
//! always inside the caller's transaction so that each change is audited with it.

use bmms_shared::Role;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

use super::factor_key::FactorKey;
use super::{recovery_codes, totp};

/// How long a second factor counts as fresh: certifying, approving a budget stage,
/// exporting whole datasets and changing factors ask for it again after this.
pub const STEP_UP_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How long a sign-in may wait halfway, between the password and the second factor.
pub const HALFWAY_SIGN_IN: Duration = Duration::from_secs(10 * 60);

/// How long an authenticator app being set up waits for its first code.
const SET_UP_EXPIRES: Duration = Duration::from_secs(30 * 60);

/// The roles whose members must have a second factor to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPolicy {
    /// In the order of [`Role::ALL`], each once.
    required: Vec<Role>,
}

impl Default for MfaPolicy {
    /// The roles that approve, certify, manage people or see everything.
    fn default() -> Self {
        use Role::*;
        MfaPolicy::of(&[OcmExecutive, OcmAnalyst, BpdaPlanner, MfbmBudgetOfficer, OrgAdmin, SystemAdmin])
    }
}

impl MfaPolicy {
    /// No role must have one (each user may still set one up).
    pub fn none() -> Self {
        MfaPolicy::of(&[])
    }

    /// Exactly these roles must.
    pub fn of(roles: &[Role]) -> Self {
        MfaPolicy { required: Role::ALL.into_iter().filter(|role| roles.contains(role)).collect() }
    }

    /// Whether a member with `role` must have a second factor.
    pub fn requires(&self, role: Role) -> bool {
        self.required.contains(&role)
    }
}

impl std::str::FromStr for MfaPolicy {
    type Err = bmms_shared::roles::UnknownRole;

    /// `none`, `default`, or role names separated by commas.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "default" => return Ok(MfaPolicy::default()),
            "none" | "" => return Ok(MfaPolicy::none()),
            _ => {}
        }
        let roles = text.split(',').map(|name| name.trim().parse()).collect::<Result<Vec<Role>, _>>()?;
        Ok(MfaPolicy::of(&roles))
    }
}

/// The wall clock second factors are checked by, which tests move forward instead of
/// waiting for the next 30-second code or for a second factor to age.
#[derive(Debug, Clone, Default)]
pub struct FactorClock {
    skipped_seconds: Arc<AtomicI64>,
}

impl FactorClock {
    /// Unix seconds.
    pub fn now(&self) -> i64 {
        Utc::now().timestamp() + self.skipped_seconds.load(Ordering::SeqCst)
    }

    /// Moves this clock forward, as if `by` had passed.
    pub fn advance(&self, by: Duration) {
        self.skipped_seconds.fetch_add(by.as_secs() as i64, Ordering::SeqCst);
    }
}

/// What second factors a user has.
#[derive(Debug, Clone, Default)]
pub struct Factors {
    pub totp_since: Option<DateTime<Utc>>,
    pub passkeys: i64,
    pub recovery_codes_left: i64,
}

impl Factors {
    /// The user has a second factor to give: an authenticator app or a passkey.
    pub fn any(&self) -> bool {
        self.totp_since.is_some() || self.passkeys > 0
    }
}

pub async fn of_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Factors> {
    let (totp_since, passkeys, recovery_codes_left) = sqlx::query_as(
        "select (select confirmed_at from user_totp where user_id = $1),
                (select count(*) from user_passkeys where user_id = $1),
                (select count(*) from user_recovery_codes where user_id = $1 and used_at is null)",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(Factors { totp_since, passkeys, recovery_codes_left })
}

/// Starts setting up an authenticator app: a new seed, kept sealed until the user types
/// a first code from it (the one already confirmed, if any, works until then).
/// `now`: the factor clock's, which the confirmation is measured by.
pub async fn start_totp(conn: &mut PgConnection, key: &FactorKey, now: i64, user_id: Uuid, username: &str) -> sqlx::Result<totp::Enrolment> {
    let secret = totp::new_secret();
    sqlx::query(
        "insert into user_totp_pending (user_id, secret_sealed, started_at) values ($1, $2, to_timestamp($3))
         on conflict (user_id) do update set secret_sealed = excluded.secret_sealed, started_at = excluded.started_at",
    )
    .bind(user_id)
    .bind(key.seal(user_id, &secret))
    .bind(now as f64)
    .execute(conn)
    .await?;
    Ok(totp::enrolment(&secret, username))
}

/// Why a code was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not the code of now, or already used.
    WrongCode,
    /// Nothing is being set up (confirming), or the user has no second factor (checking).
    NothingToCheck,
}

/// Confirms the app being set up with a code from it: it becomes the user's (replacing
/// any earlier one) and a new set of recovery codes is made, returned to be shown once.
pub async fn confirm_totp(conn: &mut PgConnection, key: &FactorKey, now: i64, user_id: Uuid, code: &str) -> anyhow::Result<Result<Vec<String>, Refused>> {
    let sealed: Option<(Vec<u8>, DateTime<Utc>)> =
        sqlx::query_as("select secret_sealed, started_at from user_totp_pending where user_id = $1 for update")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((sealed, started_at)) = sealed else {
        return Ok(Err(Refused::NothingToCheck));
    };
    if now - started_at.timestamp() > SET_UP_EXPIRES.as_secs() as i64 {
        return Ok(Err(Refused::NothingToCheck));
    }
    let secret = key.open(user_id, &sealed)?;
    let Some(step) = totp::accepts(&secret, code, now.max(0) as u64, 0) else {
        return Ok(Err(Refused::WrongCode));
    };
    sqlx::query(
        "insert into user_totp (user_id, secret_sealed, last_used_step) values ($1, $2, $3)
         on conflict (user_id) do update
             set secret_sealed = excluded.secret_sealed, last_used_step = excluded.last_used_step, confirmed_at = now()",
    )
    .bind(user_id)
    .bind(&sealed)
    .bind(step as i64)
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from user_totp_pending where user_id = $1").bind(user_id).execute(&mut *conn).await?;
    Ok(Ok(new_recovery_codes(conn, user_id).await?))
}

/// The recovery codes that come with a user's first passkey, to be shown once; none when
/// they have codes already (they keep theirs: a passkey added beside another factor
/// does not void what they wrote down for it).
pub async fn first_recovery_codes(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<String>> {
    let (has_codes,): (bool,) = sqlx::query_as("select exists (select from user_recovery_codes where user_id = $1)")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?;
    if has_codes {
        return Ok(Vec::new());
    }
    new_recovery_codes(conn, user_id).await
}

/// How a second factor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    Totp,
    Passkey,
    /// A recovery code, now spent; this many are left.
    RecoveryCode { left: i64 },
}

impl Used {
    pub fn as_str(self) -> &'static str {
        match self {
            Used::Totp => "totp",
            Used::Passkey => "passkey",
            Used::RecoveryCode { .. } => "recovery_code",
        }
    }
}

/// Checks a code given as a second factor: one from the user's authenticator app, or one
/// of their recovery codes (which also stand in for a lost passkey). Either is spent by
/// being taken. Concurrent checks of one user wait for each other (the rows are locked),
/// so one code cannot be taken twice at once.
pub async fn check(conn: &mut PgConnection, key: &FactorKey, now: i64, user_id: Uuid, code: &str) -> anyhow::Result<Result<Used, Refused>> {
    let totp: Option<(Vec<u8>, i64)> =
        sqlx::query_as("select secret_sealed, last_used_step from user_totp where user_id = $1 for update")
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
    if recovery_codes::looks_like_one(code) {
        let unused: Vec<(Vec<u8>,)> = sqlx::query_as(
            "select code_sha256 from user_recovery_codes where user_id = $1 and used_at is null order by code_sha256 for update",
        )
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
        if unused.is_empty() && totp.is_none() {
            return Ok(Err(Refused::NothingToCheck));
        }
        let unused: Vec<Vec<u8>> = unused.into_iter().map(|(digest,)| digest).collect();
        let Some(index) = recovery_codes::find(code, &unused) else {
            return Ok(Err(Refused::WrongCode));
        };
        sqlx::query("update user_recovery_codes set used_at = now() where user_id = $1 and code_sha256 = $2")
            .bind(user_id)
            .bind(&unused[index])
            .execute(&mut *conn)
            .await?;
        return Ok(Ok(Used::RecoveryCode { left: unused.len() as i64 - 1 }));
    }
    let Some((sealed, last_used_step)) = totp else {
        return Ok(Err(Refused::NothingToCheck));
    };
    let secret = key.open(user_id, &sealed)?;
    let Some(step) = totp::accepts(&secret, code, now.max(0) as u64, last_used_step.max(0) as u64) else {
        return Ok(Err(Refused::WrongCode));
    };
    sqlx::query("update user_totp set last_used_step = $2 where user_id = $1")
        .bind(user_id)
        .bind(step as i64)
        .execute(&mut *conn)
        .await?;
    Ok(Ok(Used::Totp))
}

/// A new set of recovery codes in place of the old (used or not), to be shown once.
pub async fn new_recovery_codes(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query("delete from user_recovery_codes where user_id = $1").bind(user_id).execute(&mut *conn).await?;
    let codes = recovery_codes::new_set();
    let digests: Vec<Vec<u8>> = codes.iter().map(|code| recovery_codes::digest(code)).collect();
    sqlx::query("insert into user_recovery_codes (user_id, code_sha256) select $1, unnest($2::bytea[])")
        .bind(user_id)
        .bind(&digests)
        .execute(conn)
        .await?;
    Ok(codes)
}

/// Makes changes to the user's second factors wait for each other until the transaction
/// ends, so that two removals at once cannot each leave the other's factor as the last.
pub async fn lock(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('second factors of ' || $1::text, 0))").bind(user_id).execute(conn).await?;
    Ok(())
}

/// Removes every second factor of the user (an administrator's reset, for a lost or
/// misused device): the authenticator app, the passkeys, the recovery codes, and the
/// links of sign-in services' accounts (which, like a passkey, let someone in).
pub async fn remove_all(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "with a as (delete from user_totp where user_id = $1),
              b as (delete from user_totp_pending where user_id = $1),
              c as (delete from user_passkeys where user_id = $1),
              d as (delete from user_sso_identities where user_id = $1)
         delete from user_recovery_codes where user_id = $1",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes the user's authenticator app (their own choice); the recovery codes go too
/// when no passkey is left for them to stand in for.
pub async fn remove_app(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "with a as (delete from user_totp where user_id = $1),
              b as (delete from user_totp_pending where user_id = $1)
         delete from user_recovery_codes where user_id = $1 and not exists (select from user_passkeys where user_id = $1)",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// After a passkey is removed: the recovery codes go when no second factor is left.
pub async fn drop_orphaned_recovery_codes(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "delete from user_recovery_codes where user_id = $1
             and not exists (select from user_passkeys where user_id = $1)
             and not exists (select from user_totp where user_id = $1)",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(())
}
