//! The people of an organization, for its administrator: the list, a new user (who
//! chooses their password from a one-time set-up link), a new link, a role, disabling and
//! re-enabling, removing a lost device's second factors, and ending someone's sessions. Every
//! change asks for a fresh second factor and is audited. Another organization's user is
//! not found (row-level security on memberships; see `crate::people`).
//!
//! Also the public end of a set-up link: choosing the password.

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use bmms_shared::api::{ForOrganization, NewPerson, PasswordChosen, People, Person, RoleChange, SetUpLink, SetUpPassword};
use bmms_shared::{policy, Role};
use serde_json::json;
use std::net::SocketAddr;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{password, second_factor, session_store, users, Caller, SignedIn};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::people;
use crate::routes::extract::{ApiJson, ApiPath, ApiQuery};

/// The user `id` of the caller's organization, or 404.
async fn member(tx: &mut OrgTx, id: Uuid) -> Result<Person, ApiError> {
    people::find(tx, id).await?.ok_or_else(|| ApiError::not_found("No user of this organization has this id."))
}

/// The user `id` of the caller's organization, if the administrator may change their
/// account: not one whose role is beyond what the administrator may give (a system
/// administrator, whom a set-up link or a removed second factor would hand over).
async fn changeable(tx: &mut OrgTx, id: Uuid) -> Result<Person, ApiError> {
    let person = member(tx, id).await?;
    let kind = users::organization(tx).await?.kind;
    if !policy::grantable_roles(kind).contains(&person.role) {
        return Err(ApiError::forbidden(
            "beyond_your_roles",
            format!("{} is a {}: only the operator changes that account.", person.display_name, person.role.label()),
        ));
    }
    Ok(person)
}

/// Refuses a change an administrator may not make to their own account, which could
/// leave the organization without one.
fn not_yourself(caller: &Caller, id: Uuid, what: &str) -> Result<(), ApiError> {
    if caller.user_id.uuid() == id {
        return Err(ApiError::client(StatusCode::CONFLICT, "not_yourself", format!("You cannot {what} your own account; ask another administrator.")));
    }
    Ok(())
}

/// Refuses (422, on `role`) a role the organization's kind does not have.
async fn grantable(tx: &mut OrgTx, role: Role) -> Result<(), ApiError> {
    let organization = users::organization(tx).await?;
    let roles = policy::grantable_roles(organization.kind);
    if !roles.contains(&role) {
        let names: Vec<&str> = roles.iter().map(|r| r.label()).collect();
        return Err(ApiError::invalid_field("role", format!("{} can have these roles: {}.", organization.code, names.join(", "))));
    }
    Ok(())
}

async fn audit_of(tx: &mut OrgTx, caller: &Caller, action: &str, user: Uuid, details: serde_json::Value) -> Result<(), ApiError> {
    audit::append(tx, Event { actor: &caller.actor(), action, subject: format!("user:{user}"), details }).await?;
    Ok(())
}

/// Audits the change just made to `user`, stores it, and answers the person as they are now.
async fn changed(mut tx: OrgTx, caller: &Caller, action: &str, user: Uuid, details: serde_json::Value) -> Result<Json<Person>, ApiError> {
    audit_of(&mut tx, caller, action, user, details).await?;
    let person = member(&mut tx, user).await?;
    tx.commit().await?;
    Ok(Json(person))
}

/// `GET /api/v1/users`: the organization's people and the roles its administrator may give.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(scope): ApiQuery<ForOrganization>) -> Result<Json<People>, ApiError> {
    let caller = signed_in.require_permitted(policy::may_manage_people)?;
    let mut tx = OrgTx::begin_read_only(&state.db, caller.acting_for(scope.org)?).await?;
    let items = people::list(&mut tx).await?;
    let kind = users::organization(&mut tx).await?.kind;
    tx.commit().await?;
    Ok(Json(People { items, grantable_roles: policy::grantable_roles(kind) }))
}

/// `POST /api/v1/users`: a new user of the organization, with a set-up link (shown once)
/// instead of a password typed by the administrator.
pub async fn create(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(scope): ApiQuery<ForOrganization>,
    body: Result<ApiJson<NewPerson>, ApiError>,
) -> Result<(StatusCode, Json<SetUpLink>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_people)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let ApiJson(NewPerson { username, display_name, role }) = body?;
    let username = users::normalize_username(&username);
    if !people::is_valid_username(&username) {
        return Err(ApiError::invalid_field("username", "A username is 3 to 64 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit."));
    }
    let display_name = display_name.trim().to_owned();
    if display_name.is_empty() || display_name.chars().count() > 200 || display_name.chars().any(char::is_control) {
        return Err(ApiError::invalid_field("display_name", "Give the person's name as it should appear, up to 200 characters."));
    }
    // Nobody knows this password: the person chooses theirs with the link.
    let unknown_password = password::hash(password::generate()).await?;
    let mut tx = OrgTx::begin(&state.db, caller.acting_for(scope.org)?).await?;
    grantable(&mut tx, role).await?;
    let id = people::create(&mut tx, &username, &display_name, role, &unknown_password).await.map_err(|err| {
        ApiError::unless_unique(err, || ApiError::invalid_field("username", format!("The username {username} is taken; choose another.")))
    })?;
    let (token, expires_at) = people::new_set_up_link(&mut tx, id).await?;
    audit_of(&mut tx, &caller, "people.create_user", id, json!({ "username": username, "role": role })).await?;
    let person = member(&mut tx, id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(SetUpLink { person, set_up_token: token, expires_at: expires_at.to_rfc3339() })))
}

/// `POST /api/v1/users/{id}/set-up-link`: a new set-up link (a forgotten password, or an
/// expired link); the old password works until the link is used.
pub async fn new_set_up_link(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(scope): ApiQuery<ForOrganization>, ApiPath(id): ApiPath<Uuid>) -> Result<Json<SetUpLink>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_people)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.acting_for(scope.org)?).await?;
    changeable(&mut tx, id).await?;
    let (token, expires_at) = people::new_set_up_link(&mut tx, id).await?;
    audit_of(&mut tx, &caller, "people.new_set_up_link", id, json!({})).await?;
    let person = member(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(SetUpLink { person, set_up_token: token, expires_at: expires_at.to_rfc3339() }))
}

/// `PUT /api/v1/users/{id}/role`: another of the organization's roles, from their next
/// sign-in (their sessions end).
pub async fn change_role(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(scope): ApiQuery<ForOrganization>,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<RoleChange>, ApiError>,
) -> Result<Json<Person>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_people)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let ApiJson(RoleChange { role }) = body?;
    not_yourself(&caller, id, "change the role of")?;
    let mut tx = OrgTx::begin(&state.db, caller.acting_for(scope.org)?).await?;
    let before = changeable(&mut tx, id).await?;
    grantable(&mut tx, role).await?;
    people::set_role(&mut tx, id, role).await?;
    // A session keeps the role it signed in with: they sign in again with the new one.
    let ended = session_store::end_sessions_of(&mut tx, id).await?;
    changed(tx, &caller, "people.change_role", id, json!({ "from": before.role, "to": role, "sessions_ended": ended })).await
}

/// `POST /api/v1/users/{id}/disable`: they cannot sign in, and their sessions end now.
pub async fn disable(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(scope): ApiQuery<ForOrganization>, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Person>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_people)?;
    signed_in.require_fresh_second_factor(&state).await?;
    not_yourself(&caller, id, "disable")?;
    let mut tx = OrgTx::begin(&state.db, caller.acting_for(scope.org)?).await?;
    changeable(&mut tx, id).await?;
    let ended = people::set_disabled(&mut tx, id, true).await?;
    changed(tx, &caller, "people.disable_user", id, json!({ "sessions_ended": ended })).await
}

/// `POST /api/v1/users/{id}/enable`: a disabled user may sign in again.
pub async fn enable(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(scope): ApiQuery<ForOrganization>, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Person>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_people)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.acting_for(scope.org)?).await?;
    changeable(&mut tx, id).await?;
    people::set_disabled(&mut tx, id, false).await?;
    changed(tx, &caller, "people.enable_user", id, json!({})).await
}

/// `POST /api/v1/users/{id}/reset-second-factor`: removes their passkeys, authenticator app and
/// recovery codes (a lost phone); their role's policy has them set up a new one.
pub async fn reset_second_factor(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(scope): ApiQuery<ForOrganization>, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Person>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_people)?;
    signed_in.require_fresh_second_factor(&state).await?;
    not_yourself(&caller, id, "reset the second factor of")?;
    let mut tx = OrgTx::begin(&state.db, caller.acting_for(scope.org)?).await?;
    changeable(&mut tx, id).await?;
    second_factor::remove_all(&mut tx, id).await?;
    changed(tx, &caller, "auth.second_factor_removed", id, json!({ "by": "administrator" })).await
}

/// `DELETE /api/v1/users/{id}/sessions`: signs them out everywhere. An officer's edits
/// waiting on a phone stay there and sync after they sign in again.
pub async fn end_sessions(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(scope): ApiQuery<ForOrganization>, ApiPath(id): ApiPath<Uuid>) -> Result<Json<Person>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_manage_people)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.acting_for(scope.org)?).await?;
    changeable(&mut tx, id).await?;
    let ended = session_store::end_sessions_of(&mut tx, id).await?;
    changed(tx, &caller, "people.end_sessions", id, json!({ "sessions_ended": ended })).await
}

/// `POST /api/v1/auth/set-up`: the password chosen with a set-up link's token. The link
/// is spent, every session of the user ends, and they sign in with the new password.
pub async fn choose_password(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(SetUpPassword { token, password: chosen }): ApiJson<SetUpPassword>,
) -> Result<Json<PasswordChosen>, ApiError> {
    let address = super::auth::client_address(&state, peer, &headers);
    state.set_up_limiter.check(address).map_err(|retry_after| ApiError::TooManyRequests {
        code: "too_many_attempts",
        message: "Too many set-up links tried from this address.",
        retry_after,
    })?;
    if chosen.chars().count() < password::MIN_LENGTH || chosen.len() > 1024 {
        return Err(ApiError::invalid_field("password", format!("Choose a password of at least {} characters: a few words you will remember make a good one.", password::MIN_LENGTH)));
    }
    let unknown_link = || ApiError::client(StatusCode::GONE, "set_up_link_unknown", "This set-up link has been used, has expired, or is not whole. Ask your administrator for a new one.");
    let mut conn = state.db.pool().acquire().await?;
    let (user, username) = people::set_up_link_user(&mut conn, &token).await?.ok_or_else(unknown_link)?;
    drop(conn);
    let hash = password::hash(chosen).await?;
    let (_, mut tx) = crate::db::tenancy::begin_for_member(&state.db, user).await?.ok_or_else(unknown_link)?;
    // Spent once: of two requests with one token, the second finds no row to delete.
    let spent = sqlx::query("delete from user_set_up_links where user_id = $1 and token_sha256 = $2")
        .bind(user)
        .bind(people::token_digest(&token))
        .execute(&mut *tx)
        .await?;
    if spent.rows_affected() == 0 {
        return Err(unknown_link());
    }
    sqlx::query("update users set password_hash = $2, updated_at = now() where id = $1").bind(user).bind(hash).execute(&mut *tx).await?;
    session_store::end_sessions_of(&mut tx, user).await?;
    audit::append(&mut tx, Event {
        actor: &audit::Actor::user(user, &username),
        action: "auth.password_chosen",
        subject: format!("user:{user}"),
        details: json!({ "client_address": address.to_string() }),
    })
    .await?;
    tx.commit().await?;
    Ok(Json(PasswordChosen { username }))
}
