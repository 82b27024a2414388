//! The HTTP routes, one file per resource. Everything under `/api` answers JSON, errors
//! included (see [`crate::error`]).

pub mod aip;
pub mod audit_log;
pub mod auth;
pub mod bdp;
pub mod budget_approvals;
pub mod budget_calls;
pub mod budget_monitoring;
pub mod budget_proposals;
pub mod budget_reviews;
pub mod certifications;
pub mod conflicts;
pub mod dashboard;
pub mod devices;
pub mod download;
pub mod events;
pub mod expenditure_program;
pub mod exports;
pub mod extract;
pub mod health;
pub mod implementation;
pub mod implementation_counts;
pub mod ledger;
pub mod organizations;
pub mod people;
pub mod photos;
pub mod proposals;
pub mod records;
pub mod review;
pub mod scopes;
pub mod oidc;
pub mod passkeys;
pub mod second_factor;
pub mod static_files;
pub mod sync;
pub mod tasks;

use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::Router;

use crate::app::AppState;
use crate::error::{error_body, ApiError};

/// Who may reach a route before its handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: sign-in, which has no session yet.
    Public,
    /// A signed-in session; the handler's first statement is the `SignedIn::require_…`
    /// check that says which of them.
    SignedIn,
    /// A session past the password, signed in or halfway (`SigningIn`): the routes that
    /// finish a sign-in with a second factor.
    SigningIn,
}

/// One method of one API route, as [`api_routes`] lists them.
pub struct ApiRoute {
    pub method: Method,
    /// The path under `/api/v1`, with `{id}` for a path parameter.
    pub path: &'static str,
    /// The handler's Rust path (`bmms_server::routes::records::show`), so that a test can
    /// read its first lines.
    pub handler: &'static str,
    pub access: Access,
    route: MethodRouter<AppState>,
}

impl ApiRoute {
    fn new<H, T>(access: Access, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("an API route's method is a standard one");
        let name = std::any::type_name_of_val(&handler);
        ApiRoute { method, path, handler: name, access, route: on(filter, handler) }
    }

    fn public<H: Handler<T, AppState>, T: 'static>(method: Method, path: &'static str, handler: H) -> Self {
        Self::new(Access::Public, method, path, handler)
    }

    fn signed_in<H: Handler<T, AppState>, T: 'static>(method: Method, path: &'static str, handler: H) -> Self {
        Self::new(Access::SignedIn, method, path, handler)
    }

    fn signing_in<H: Handler<T, AppState>, T: 'static>(method: Method, path: &'static str, handler: H) -> Self {
        Self::new(Access::SigningIn, method, path, handler)
    }

    /// A larger body limit than the API's default, for this route alone.
    fn body_limit(mut self, bytes: usize) -> Self {
        self.route = self.route.layer(DefaultBodyLimit::max(bytes));
        self
    }
}

/// Every API route, one line each: the method, the path, the handler. The table is the
/// router (see [`api_router`]) and what server/tests/api/routes.rs walks.
pub fn api_routes() -> Vec<ApiRoute> {
    use Method as M;
    vec![
        ApiRoute::public(M::POST, "/auth/login", auth::login),
        ApiRoute::signed_in(M::POST, "/auth/logout", auth::logout),
        ApiRoute::signing_in(M::POST, "/auth/second-factor", second_factor::give),
        ApiRoute::signing_in(M::GET, "/auth/second-factor", second_factor::show),
        ApiRoute::signed_in(M::DELETE, "/auth/second-factor", second_factor::remove),
        ApiRoute::signing_in(M::POST, "/auth/second-factor/totp", second_factor::start_totp),
        ApiRoute::signing_in(M::POST, "/auth/second-factor/totp/confirm", second_factor::confirm_totp),
        ApiRoute::signed_in(M::POST, "/auth/second-factor/recovery-codes", second_factor::new_recovery_codes),
        ApiRoute::signing_in(M::POST, "/auth/second-factor/passkey", passkeys::give),
        ApiRoute::signing_in(M::POST, "/auth/passkeys/registration", passkeys::start_registration),
        ApiRoute::signing_in(M::POST, "/auth/passkeys", passkeys::add),
        ApiRoute::signing_in(M::POST, "/auth/passkeys/challenge", passkeys::challenge),
        ApiRoute::signed_in(M::PUT, "/auth/passkeys/{id}", passkeys::rename),
        ApiRoute::signed_in(M::DELETE, "/auth/passkeys/{id}", passkeys::remove),
        ApiRoute::public(M::POST, "/auth/passkey-sign-in/challenge", passkeys::sign_in_challenge),
        ApiRoute::public(M::POST, "/auth/passkey-sign-in", passkeys::sign_in),
        ApiRoute::public(M::GET, "/auth/oidc", oidc::list),
        ApiRoute::public(M::GET, "/auth/oidc/{id}/start", oidc::start),
        ApiRoute::public(M::GET, "/auth/oidc/{id}/callback", oidc::callback),
        ApiRoute::signing_in(M::GET, "/auth/signing-in", auth::signing_in),
        ApiRoute::signed_in(M::POST, "/auth/oidc/{id}/link", oidc::start_link),
        ApiRoute::signed_in(M::DELETE, "/auth/oidc/{id}/link", oidc::unlink),
        ApiRoute::public(M::POST, "/auth/set-up", people::choose_password),
        ApiRoute::signed_in(M::GET, "/me", auth::me),
        ApiRoute::signed_in(M::GET, "/users", people::list),
        ApiRoute::signed_in(M::POST, "/users", people::create),
        ApiRoute::signed_in(M::POST, "/users/{id}/set-up-link", people::new_set_up_link),
        ApiRoute::signed_in(M::PUT, "/users/{id}/role", people::change_role),
        ApiRoute::signed_in(M::POST, "/users/{id}/disable", people::disable),
        ApiRoute::signed_in(M::POST, "/users/{id}/enable", people::enable),
        ApiRoute::signed_in(M::POST, "/users/{id}/reset-second-factor", people::reset_second_factor),
        ApiRoute::signed_in(M::DELETE, "/users/{id}/sessions", people::end_sessions),
        ApiRoute::signed_in(M::GET, "/audit", audit_log::list),
        ApiRoute::signed_in(M::GET, "/audit/verify", audit_log::verify),
        ApiRoute::signed_in(M::GET, "/audit/export", audit_log::export),
        ApiRoute::signed_in(M::GET, "/organizations", organizations::list),
        ApiRoute::signed_in(M::GET, "/organizations/{id}", organizations::show),
        ApiRoute::signed_in(M::POST, "/organizations", organizations::create),
        ApiRoute::signed_in(M::PUT, "/organizations/{id}", organizations::rename),
        ApiRoute::signed_in(M::POST, "/organizations/{id}/deactivate", organizations::deactivate),
        ApiRoute::signed_in(M::POST, "/organizations/{id}/reactivate", organizations::reactivate),
        ApiRoute::signed_in(M::POST, "/devices", devices::register),
        ApiRoute::signed_in(M::GET, "/devices", devices::health),
        ApiRoute::signed_in(M::GET, "/assessments", records::list_assessments),
        ApiRoute::signed_in(M::GET, "/assessments/export", exports::assessments),
        ApiRoute::signed_in(M::GET, "/tasks", tasks::list),
        ApiRoute::signed_in(M::POST, "/tasks", tasks::create),
        ApiRoute::signed_in(M::POST, "/tasks/{id}/assign", tasks::assign),
        ApiRoute::signed_in(M::GET, "/tasks/ppas", tasks::ppa_choices),
        ApiRoute::signed_in(M::GET, "/officers", tasks::progress),
        ApiRoute::signed_in(M::GET, "/officers/{username}/areas", scopes::areas),
        ApiRoute::signed_in(M::PUT, "/officers/{username}/areas", scopes::set_areas),
        ApiRoute::signed_in(M::POST, "/records/{id}/pin", scopes::pin),
        ApiRoute::signed_in(M::DELETE, "/records/{id}/pin", scopes::unpin),
        ApiRoute::signed_in(M::GET, "/records/{id}", records::show),
        ApiRoute::signed_in(M::POST, "/photos", photos::announce),
        ApiRoute::signed_in(M::PATCH, "/photos/{sha256}", photos::chunk).body_limit(photos::MAX_CHUNK_BYTES),
        ApiRoute::signed_in(M::GET, "/photos/{sha256}", photos::show),
        ApiRoute::signed_in(M::GET, "/records/{id}/history", records::history),
        ApiRoute::signed_in(M::GET, "/conflicts", conflicts::list),
        ApiRoute::signed_in(M::POST, "/conflicts/resolve", conflicts::resolve_many),
        ApiRoute::signed_in(M::GET, "/conflicts/{id}", conflicts::show),
        ApiRoute::signed_in(M::POST, "/conflicts/{id}/resolve", conflicts::resolve),
        ApiRoute::signed_in(M::GET, "/events", events::stream),
        ApiRoute::signed_in(M::GET, "/dashboard", dashboard::show),
        ApiRoute::signed_in(M::GET, "/dashboard/records", dashboard::records),
        ApiRoute::signed_in(M::GET, "/bdp", bdp::show),
        ApiRoute::signed_in(M::PUT, "/bdp", bdp::put_settings),
        ApiRoute::signed_in(M::POST, "/bdp/score", bdp::score),
        ApiRoute::signed_in(M::POST, "/bdp/goals", bdp::create_goal),
        ApiRoute::signed_in(M::PUT, "/bdp/goals/{id}", bdp::update_goal),
        ApiRoute::signed_in(M::DELETE, "/bdp/goals/{id}", bdp::delete_goal),
        ApiRoute::signed_in(M::POST, "/bdp/indicators", bdp::create_indicator),
        ApiRoute::signed_in(M::PUT, "/bdp/indicators/{id}", bdp::update_indicator),
        ApiRoute::signed_in(M::DELETE, "/bdp/indicators/{id}", bdp::delete_indicator),
        ApiRoute::signed_in(M::PUT, "/bdp/priorities/{id}", bdp::put_priority),
        ApiRoute::signed_in(M::DELETE, "/bdp/priorities/{id}", bdp::delete_priority),
        ApiRoute::signed_in(M::GET, "/proposals/queue", proposals::queue),
        ApiRoute::signed_in(M::GET, "/proposals/partnered", proposals::partnered),
        ApiRoute::signed_in(M::GET, "/proposals/plan", proposals::plan),
        ApiRoute::signed_in(M::POST, "/proposals/{id}/submit", proposals::submit),
        ApiRoute::signed_in(M::GET, "/proposals/{id}/standing", review::standing),
        ApiRoute::signed_in(M::GET, "/proposals/{id}/implementation", implementation::of_proposal),
        ApiRoute::signed_in(M::GET, "/implementation", implementation::overview),
        ApiRoute::signed_in(M::GET, "/implementation/export", implementation::export),
        ApiRoute::signed_in(M::GET, "/submissions/{id}", review::show),
        ApiRoute::signed_in(M::POST, "/submissions/{id}/adjustments", review::adjust),
        ApiRoute::signed_in(M::POST, "/submissions/{id}/return", review::send_back),
        ApiRoute::signed_in(M::POST, "/submissions/{id}/certify", review::certify),
        ApiRoute::signed_in(M::GET, "/certifications", certifications::list),
        ApiRoute::signed_in(M::GET, "/aip", aip::show),
        ApiRoute::signed_in(M::GET, "/aip/export", aip::export),
        ApiRoute::public(M::POST, "/certifications/verify", certifications::verify),
        ApiRoute::signed_in(M::GET, "/budget-calls", budget_calls::list),
        ApiRoute::signed_in(M::POST, "/budget-calls", budget_calls::issue),
        ApiRoute::signed_in(M::PUT, "/budget-calls/{year}", budget_calls::amend),
        ApiRoute::signed_in(M::GET, "/budget-proposals/{year}", budget_proposals::show),
        ApiRoute::signed_in(M::POST, "/budget-proposals/{year}/ppas", budget_proposals::add_ppa),
        ApiRoute::signed_in(M::DELETE, "/budget-proposals/{year}/ppas/{proposal_id}", budget_proposals::remove_ppa),
        ApiRoute::signed_in(M::POST, "/budget-proposals/{year}/prepare", budget_proposals::prepare),
        ApiRoute::signed_in(M::POST, "/budget-proposals/{year}/reopen", budget_proposals::reopen),
        ApiRoute::signed_in(M::POST, "/budget-proposals/{year}/submit", budget_proposals::submit),
        ApiRoute::signed_in(M::GET, "/budget-submissions", budget_reviews::list),
        ApiRoute::signed_in(M::GET, "/budget-submissions/{year}/{code}", budget_reviews::show),
        ApiRoute::signed_in(M::POST, "/budget-submissions/{year}/{code}/review", budget_reviews::review),
        ApiRoute::signed_in(M::GET, "/budget-approvals", budget_approvals::list),
        ApiRoute::signed_in(M::POST, "/budget-approvals/{year}/{code}", budget_approvals::approve),
        ApiRoute::signed_in(M::GET, "/expenditure-program/{year}", expenditure_program::show),
        ApiRoute::signed_in(M::GET, "/expenditure-program/{year}/export", expenditure_program::export),
        ApiRoute::signed_in(M::POST, "/expenditure-program/{year}/parliament", expenditure_program::submit_to_parliament),
        ApiRoute::signed_in(M::GET, "/budget-monitoring", budget_monitoring::show),
        ApiRoute::signed_in(M::GET, "/budget-monitoring/export", budget_monitoring::export),
        ApiRoute::signed_in(M::PUT, "/budget-monitoring/threshold", budget_monitoring::set_threshold),
        ApiRoute::signed_in(M::GET, "/allotments", ledger::list),
        ApiRoute::signed_in(M::POST, "/allotments", ledger::release),
        ApiRoute::signed_in(M::GET, "/ledger", ledger::entries),
        ApiRoute::signed_in(M::POST, "/ledger", ledger::record),
        ApiRoute::signed_in(M::POST, "/ledger/{id}/reverse", ledger::reverse),
        ApiRoute::signed_in(M::POST, "/sync", sync::sync).body_limit(bmms_shared::sync::protocol::MAX_REQUEST_BYTES),
    ]
}

/// Routes under `/api`.
pub fn api_router() -> Router<AppState> {
    // Two methods of one path merge into one route.
    let v1 = api_routes().into_iter().fold(Router::new(), |router, api| router.route(api.path, api.route));
    Router::new()
        .nest("/v1", v1)
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(same_origin_writes))
}

async fn api_not_found() -> ApiError {
    ApiError::not_found("There is no such API route. The API is described in docs/api.md.")
}

async fn method_not_allowed() -> Response {
    error_body(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This API route does not accept that method.",
    )
}

/// Refuses writes sent by another site's page: a browser always names the page's origin
/// on cross-origin writes, and it must be our own. This is what protects sign-in, which
/// has no session (and so no CSRF token) yet.
async fn same_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        if let Some(origin) = request.headers().get(header::ORIGIN) {
            let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
            let origin_host = origin
                .to_str()
                .ok()
                .and_then(|o| o.split_once("://"))
                .map(|(_, rest)| rest.trim_end_matches('/'));
            if host.is_none() || origin_host != host {
                return ApiError::forbidden(
                    "cross_origin",
                    "This request came from another website and was refused.",
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}
