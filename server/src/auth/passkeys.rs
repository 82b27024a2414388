//! Passkeys (WebAuthn, through webauthn-rs): adding one, and checking one, either as the
//! whole sign-in (a passkey alone: it verified the person, so it is both factors) or as
//! the second factor after a password or before a sensitive action.
//!
//! Each ceremony has two requests. The first makes a challenge and keeps webauthn-rs's
//! state of it in `passkey_ceremonies` under a random id, which the browser sends back
//! with its answer; the second takes (deletes) that state, so a challenge works once, and
//! within [`CEREMONY_EXPIRES`]. Like the other second factors, everything here runs in
//! the caller's transaction, so that each change is audited with it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use std::time::Duration;
use uuid::Uuid;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Credential, DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Url, Webauthn,
    WebauthnBuilder,
};

/// How long a ceremony waits for the browser's answer (the browser's own prompt gives up
/// sooner: webauthn-rs asks it for five minutes).
pub const CEREMONY_EXPIRES: Duration = Duration::from_secs(10 * 60);

/// Who the passkeys are for: BMMS at its public address. A passkey is bound to the host
/// name, so changing `BMMS_PUBLIC_URL` later makes every passkey stop working.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    webauthn: Webauthn,
}

impl RelyingParty {
    /// The relying party of BMMS served at `public_url`. On `localhost` (development and
    /// tests) any port is accepted, since the port is often chosen at start-up.
    pub fn at(public_url: &Url) -> anyhow::Result<RelyingParty> {
        let host = public_url
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("the public URL {public_url} has no host name for passkeys"))?;
        let webauthn = WebauthnBuilder::new(host, public_url)?
            .rp_name("BMMS")
            .allow_any_port(host == "localhost")
            .build()?;
        Ok(RelyingParty { webauthn })
    }
}

/// webauthn-rs's state of a ceremony in progress, as kept in `passkey_ceremonies`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "state", rename_all = "snake_case")]
enum Ceremony {
    Registration(PasskeyRegistration),
    SecondFactor(PasskeyAuthentication),
    SignIn(DiscoverableAuthentication),
}

impl Ceremony {
    fn kind(&self) -> &'static str {
        match self {
            Ceremony::Registration(_) => "registration",
            Ceremony::SecondFactor(_) => "second_factor",
            Ceremony::SignIn(_) => "sign_in",
        }
    }
}

/// Why a passkey was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No such ceremony: never begun, already finished, taken too long, or someone else's.
    NoCeremony,
    /// The browser's answer did not check out (wrong challenge, origin, signature, or no
    /// user verification).
    NotAccepted,
    /// The passkey is not one of the user's (or, signing in, of anyone's).
    UnknownPasskey,
    /// The passkey's signature counter went backwards: it may have been copied.
    PossiblyCopied,
    /// Adding: this passkey is registered already.
    AlreadyAdded,
}

/// One of a user's passkeys, as people see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: Uuid,
    pub name: String,
    pub backed_up: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

pub async fn of_user(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<PasskeyRow>> {
    sqlx::query_as(
        "select id, name, backed_up, created_at, last_used_at from user_passkeys where user_id = $1 order by created_at, id",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

async fn keep(conn: &mut PgConnection, user_id: Option<Uuid>, ceremony: &Ceremony) -> anyhow::Result<Uuid> {
    // Ceremonies left unfinished are swept as new ones begin.
    sqlx::query("delete from passkey_ceremonies where expires_at < now()").execute(&mut *conn).await?;
    let id = Uuid::new_v4();
    sqlx::query("insert into passkey_ceremonies (id, user_id, kind, state, expires_at) values ($1, $2, $3, $4, now() + $5)")
        .bind(id)
        .bind(user_id)
        .bind(ceremony.kind())
        .bind(serde_json::to_value(ceremony)?)
        .bind(CEREMONY_EXPIRES)
        .execute(conn)
        .await?;
    Ok(id)
}

/// Takes the ceremony `id` of `user_id` (`None`: a sign-in with a passkey alone), if it
/// is still waiting: it is deleted, so it cannot be finished twice.
async fn take(conn: &mut PgConnection, id: Uuid, user_id: Option<Uuid>) -> anyhow::Result<Option<Ceremony>> {
    let state: Option<serde_json::Value> = sqlx::query_scalar(
        "delete from passkey_ceremonies where id = $1 and user_id is not distinct from $2 and expires_at >= now() returning state",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    Ok(state.map(serde_json::from_value).transpose()?)
}

/// Begins adding a passkey for the user; the ones they have already are excluded, so the
/// browser does not register the same authenticator twice. The passkey is made
/// discoverable where the authenticator can, so that it signs in without a username.
pub async fn start_registration(
    conn: &mut PgConnection,
    party: &RelyingParty,
    user_id: Uuid,
    username: &str,
    display_name: &str,
) -> anyhow::Result<(Uuid, CreationChallengeResponse)> {
    let existing: Vec<Vec<u8>> = sqlx::query_scalar("select credential_id from user_passkeys where user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    let exclude = existing.into_iter().map(Into::into).collect::<Vec<_>>();
    let (mut options, state) =
        party.webauthn.start_passkey_registration(user_id, username, display_name, Some(exclude).filter(|e: &Vec<_>| !e.is_empty()))?;
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Preferred);
    }
    let id = keep(conn, Some(user_id), &Ceremony::Registration(state)).await?;
    Ok((id, options))
}

/// Finishes adding a passkey, named `name` by its owner.
pub async fn finish_registration(
    conn: &mut PgConnection,
    party: &RelyingParty,
    user_id: Uuid,
    ceremony: Uuid,
    name: &str,
    answer: &RegisterPublicKeyCredential,
) -> anyhow::Result<Result<PasskeyRow, Refused>> {
    let Some(Ceremony::Registration(state)) = take(conn, ceremony, Some(user_id)).await? else {
        return Ok(Err(Refused::NoCeremony));
    };
    let passkey = match party.webauthn.finish_passkey_registration(answer, &state) {
        Ok(passkey) => passkey,
        Err(error) => {
            tracing::info!(%error, "a passkey was not added");
            return Ok(Err(Refused::NotAccepted));
        }
    };
    let credential = Credential::from(passkey.clone());
    let added: Option<PasskeyRow> = sqlx::query_as(
        "insert into user_passkeys (id, user_id, credential_id, name, passkey, sign_count, backup_eligible, backed_up)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (credential_id) do nothing
         returning id, name, backed_up, created_at, last_used_at",
    )
    .bind(Uuid::new_v4())
    .bind(user_id)
    .bind(passkey.cred_id().as_ref())
    .bind(name)
    .bind(serde_json::to_value(&passkey)?)
    .bind(i64::from(credential.counter))
    .bind(credential.backup_eligible)
    .bind(credential.backup_state)
    .fetch_optional(conn)
    .await?;
    Ok(added.ok_or(Refused::AlreadyAdded))
}

/// Begins checking one of the user's passkeys as their second factor; `None` when they
/// have none.
pub async fn start_second_factor(
    conn: &mut PgConnection,
    party: &RelyingParty,
    user_id: Uuid,
) -> anyhow::Result<Option<(Uuid, RequestChallengeResponse)>> {
    let stored: Vec<serde_json::Value> = sqlx::query_scalar("select passkey from user_passkeys where user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    if stored.is_empty() {
        return Ok(None);
    }
    let passkeys = stored.into_iter().map(serde_json::from_value).collect::<Result<Vec<Passkey>, _>>()?;
    let (options, state) = party.webauthn.start_passkey_authentication(&passkeys)?;
    let id = keep(conn, Some(user_id), &Ceremony::SecondFactor(state)).await?;
    Ok(Some((id, options)))
}

/// Finishes checking a passkey as the user's second factor.
pub async fn finish_second_factor(
    conn: &mut PgConnection,
    party: &RelyingParty,
    user_id: Uuid,
    ceremony: Uuid,
    answer: &PublicKeyCredential,
) -> anyhow::Result<Result<(), Refused>> {
    let Some(Ceremony::SecondFactor(state)) = take(conn, ceremony, Some(user_id)).await? else {
        return Ok(Err(Refused::NoCeremony));
    };
    let result = match party.webauthn.finish_passkey_authentication(answer, &state) {
        Ok(result) => result,
        Err(error) => {
            tracing::info!(%error, "a passkey was not accepted");
            return Ok(Err(Refused::NotAccepted));
        }
    };
    record_use(conn, Some(user_id), &result).await.map(|used| used.map(|_| ()))
}

/// Begins a sign-in with a passkey alone: the browser offers whichever of its passkeys
/// for BMMS the person picks, and the passkey says who they are.
pub async fn start_sign_in(conn: &mut PgConnection, party: &RelyingParty) -> anyhow::Result<(Uuid, RequestChallengeResponse)> {
    let (mut options, state) = party.webauthn.start_discoverable_authentication()?;
    // webauthn-rs asks for the browser's autofill ("conditional") prompt; the app asks
    // from a button, where the browser's own dialog is wanted.
    options.mediation = None;
    let id = keep(conn, None, &Ceremony::SignIn(state)).await?;
    Ok((id, options))
}

/// Finishes a sign-in with a passkey alone: the user it belongs to.
pub async fn finish_sign_in(
    conn: &mut PgConnection,
    party: &RelyingParty,
    ceremony: Uuid,
    answer: &PublicKeyCredential,
) -> anyhow::Result<Result<Uuid, Refused>> {
    let Some(Ceremony::SignIn(state)) = take(conn, ceremony, None).await? else {
        return Ok(Err(Refused::NoCeremony));
    };
    let Ok((user_id, credential_id)) = party.webauthn.identify_discoverable_authentication(answer) else {
        return Ok(Err(Refused::UnknownPasskey));
    };
    let stored: Option<serde_json::Value> =
        sqlx::query_scalar("select passkey from user_passkeys where user_id = $1 and credential_id = $2")
            .bind(user_id)
            .bind(credential_id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(stored) = stored else {
        return Ok(Err(Refused::UnknownPasskey));
    };
    let passkey: Passkey = serde_json::from_value(stored)?;
    let result = match party.webauthn.finish_discoverable_authentication(answer, state, &[DiscoverableKey::from(&passkey)]) {
        Ok(result) => result,
        Err(error) => {
            tracing::info!(%error, "a passkey sign-in was not accepted");
            return Ok(Err(Refused::NotAccepted));
        }
    };
    record_use(conn, Some(user_id), &result).await
}

/// Stores what a use of a passkey reported (its counter, backup flags) and when it was
/// used. The row is locked and its counter checked again here, because two uses begun
/// at once were both checked against the counter of before.
async fn record_use(
    conn: &mut PgConnection,
    user_id: Option<Uuid>,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> anyhow::Result<Result<Uuid, Refused>> {
    let stored: Option<(Uuid, serde_json::Value, i64)> = sqlx::query_as(
        "select user_id, passkey, sign_count from user_passkeys
         where credential_id = $1 and ($2::uuid is null or user_id = $2) for update",
    )
    .bind(result.cred_id().as_ref())
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((owner, stored, sign_count)) = stored else {
        return Ok(Err(Refused::UnknownPasskey));
    };
    let counter = i64::from(result.counter());
    if counter > 0 && counter <= sign_count {
        tracing::warn!(user.id = %owner, "a passkey's signature counter went backwards: refused as possibly copied");
        return Ok(Err(Refused::PossiblyCopied));
    }
    let mut passkey: Passkey = serde_json::from_value(stored)?;
    passkey.update_credential(result);
    sqlx::query(
        "update user_passkeys set passkey = $2, sign_count = $3, backup_eligible = $4, backed_up = $5, last_used_at = now()
         where credential_id = $1",
    )
    .bind(result.cred_id().as_ref())
    .bind(serde_json::to_value(&passkey)?)
    .bind(counter.max(sign_count))
    .bind(result.backup_eligible())
    .bind(result.backup_state())
    .execute(conn)
    .await?;
    Ok(Ok(owner))
}

/// Renames one of the user's passkeys; `false` when they have no such passkey.
pub async fn rename(conn: &mut PgConnection, user_id: Uuid, id: Uuid, name: &str) -> sqlx::Result<bool> {
    let renamed = sqlx::query("update user_passkeys set name = $3 where user_id = $1 and id = $2")
        .bind(user_id)
        .bind(id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(renamed.rows_affected() == 1)
}

/// Removes one of the user's passkeys: its name, or `None` when they have no such passkey.
pub async fn remove(conn: &mut PgConnection, user_id: Uuid, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("delete from user_passkeys where user_id = $1 and id = $2 returning name")
        .bind(user_id)
        .bind(id)
        .fetch_optional(conn)
        .await
}
