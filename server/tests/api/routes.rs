//! Every route says who may call it: the router is walked route by route
//! (`bmms_server::routes::api_routes`, the table the router is built from), and each
//! signed-in route must refuse a request without a session, and its handler's first
//! statement must be one of the `SignedIn::require_…` checks. A route that writes must
//! apply OCM's read-only rule first (`require_writer`, or `require_allowed`, which
//! applies it). A new route without such a line fails here, with its name.

use axum::http::Method;
use bmms_server::routes::{api_routes, Access};
use std::path::Path;

use crate::helpers::{error_of, spawn_app};

/// The first statement of a signed-in handler: `signed_in.require_…(…)`, its `Caller`
/// kept or not.
fn takes_an_authorization_step(statement: &str) -> bool {
    let call = match statement.strip_prefix("let ") {
        Some(binding) => binding.split_once(" = ").map_or("", |(_, value)| value),
        None => statement,
    };
    call.starts_with("signed_in.require_")
}

/// Requests by a method other than GET that change no organization's data, and so are
/// open to read-only accounts: ending one's own session, and scoring a proposal outline
/// (a computation whose input is too large for an address).
/// A user's own second factors are theirs, not an organization's data, too.
const WRITES_OPEN_TO_READ_ONLY: [&str; 6] =
    ["/auth/logout", "/bdp/score", "/auth/second-factor", "/auth/second-factor/recovery-codes", "/auth/passkeys/{id}", "/auth/oidc/{id}/link"];

/// The sensitive actions, which ask for a fresh second factor right after the check of
/// who may call them (`signed_in.require_fresh_second_factor(&state)`): certifying,
/// approving a budget stage, exporting whole datasets, changing one's second factors, and
/// changing users.
const SENSITIVE: [(Method, &str); 27] = [
    (Method::POST, "/submissions/{id}/certify"),
    (Method::POST, "/budget-proposals/{year}/submit"),
    (Method::POST, "/budget-submissions/{year}/{code}/review"),
    (Method::POST, "/budget-approvals/{year}/{code}"),
    (Method::POST, "/expenditure-program/{year}/parliament"),
    (Method::GET, "/assessments/export"),
    (Method::GET, "/implementation/export"),
    (Method::GET, "/aip/export"),
    (Method::GET, "/expenditure-program/{year}/export"),
    (Method::GET, "/budget-monitoring/export"),
    (Method::GET, "/audit/export"),
    (Method::DELETE, "/auth/second-factor"),
    (Method::POST, "/auth/second-factor/recovery-codes"),
    (Method::DELETE, "/auth/passkeys/{id}"),
    (Method::POST, "/auth/oidc/{id}/link"),
    (Method::DELETE, "/auth/oidc/{id}/link"),
    (Method::POST, "/organizations"),
    (Method::PUT, "/organizations/{id}"),
    (Method::POST, "/organizations/{id}/deactivate"),
    (Method::POST, "/organizations/{id}/reactivate"),
    (Method::POST, "/users"),
    (Method::POST, "/users/{id}/set-up-link"),
    (Method::PUT, "/users/{id}/role"),
    (Method::POST, "/users/{id}/disable"),
    (Method::POST, "/users/{id}/enable"),
    (Method::POST, "/users/{id}/reset-second-factor"),
    (Method::DELETE, "/users/{id}/sessions"),
];

/// The writes OCM's accounts make, each OCM's own row, with the check that lets only OCM
/// through: an executive's approval of a budget, and the threshold of budget monitoring.
const OCM_OWN_DECISIONS: [(&str, &str); 2] = [
    ("/budget-approvals/{year}/{code}", "signed_in.require_executive_decision()"),
    ("/budget-monitoring/threshold", "signed_in.require_ocm_setting()"),
];

/// The first statement of a writing handler: the read-only rule, alone or inside the
/// policy check, or for OCM's own decisions the check that only OCM passes.
fn applies_the_read_only_rule(path: &str, statement: &str) -> bool {
    if let Some((_, check)) = OCM_OWN_DECISIONS.iter().find(|(own, _)| *own == path) {
        return statement.contains(check);
    }
    statement.contains("signed_in.require_writer()") || statement.contains("signed_in.require_allowed(")
}

/// The handler's signature and its first two statements, read from its source file.
fn handler_source(handler: &str) -> (String, String, String) {
    let path: Vec<&str> = handler.split("::").collect();
    let [crate_name, "routes", module, function] = path[..] else {
        panic!("{handler}: a handler lives in server/src/routes/<module>.rs");
    };
    assert_eq!(crate_name, "bmms_server", "{handler}");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes").join(format!("{module}.rs"));
    let source = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let start = source
        .find(&format!("pub async fn {function}("))
        .unwrap_or_else(|| panic!("{handler}: no `pub async fn {function}(` in {}", file.display()));
    // The body opens at the first line that ends with `{` after the signature.
    let body = start + source[start..].find("{\n").unwrap_or_else(|| panic!("{handler}: no body"));
    let signature = source[start..body].to_owned();
    let mut statements = source[body + 2..].lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with("//"));
    let first = statements.next().unwrap_or_default().to_owned();
    let second = statements.next().unwrap_or_default().to_owned();
    (signature, first, second)
}

#[test]
fn every_signed_in_handler_says_first_who_may_call_it() {
    let mut public = Vec::new();
    let mut sensitive = Vec::new();
    for route in api_routes() {
        let (signature, first, second) = handler_source(route.handler);
        if second == "signed_in.require_fresh_second_factor(&state).await?;" {
            sensitive.push((route.method.clone(), route.path));
        }
        let name = format!("{} /api/v1{} ({})", route.method, route.path, route.handler);
        match route.access {
            Access::SignedIn => {
                assert!(signature.contains("signed_in: SignedIn"), "{name} takes no `signed_in: SignedIn`");
                assert!(
                    takes_an_authorization_step(&first),
                    "{name}: its first statement must say who may call it (signed_in.require_member(), require_writer(), …), not `{first}`"
                );
                if route.method != Method::GET && !WRITES_OPEN_TO_READ_ONLY.contains(&route.path) {
                    assert!(
                        applies_the_read_only_rule(route.path, &first),
                        "{name} writes: its first statement must apply the read-only rule (signed_in.require_writer() or require_allowed(…)), not `{first}`"
                    );
                }
            }
            Access::SigningIn => {
                assert!(signature.contains("signing_in: SigningIn"), "{name} finishes a sign-in but takes no `signing_in: SigningIn`");
            }
            Access::Public => {
                assert!(!signature.contains("SignedIn"), "{name} is public but takes a session");
                public.push(route.path);
            }
        }
    }
    // Opening a route to anyone is a decision, made here for all to see.
    // Checking a certificate is public: MFBM, an auditor or a citizen holding one needs no account.
    // A set-up link's token is the credential of a person who has no password yet.
    // A passkey is the credential of a sign-in with a passkey alone.
    // A provider's sign-in comes back to its callback as a browser navigation.
    assert_eq!(
        public,
        [
            "/auth/login",
            "/auth/passkey-sign-in/challenge",
            "/auth/passkey-sign-in",
            "/auth/oidc",
            "/auth/oidc/{id}/start",
            "/auth/oidc/{id}/callback",
            "/auth/set-up",
            "/certifications/verify"
        ]
    );
    // Each sensitive action asks for a fresh second factor, and the list is complete.
    sensitive.sort_by_key(|(method, path)| (*path, method.to_string()));
    let mut expected = SENSITIVE.to_vec();
    expected.sort_by_key(|(method, path)| (*path, method.to_string()));
    assert_eq!(sensitive, expected);
}

#[test]
fn the_check_is_recognised_only_as_the_first_statement() {
    assert!(takes_an_authorization_step("let caller = signed_in.require_member()?;"));
    assert!(takes_an_authorization_step("signed_in.require_writer()?;"));
    assert!(!takes_an_authorization_step("let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;"));
    assert!(!takes_an_authorization_step("let ApiJson(body) = body?;"));
    assert!(applies_the_read_only_rule("/tasks", "let caller = signed_in.require_allowed(|role| policy::may_create(role, kind))?;"));
    assert!(!applies_the_read_only_rule("/tasks", "let caller = signed_in.require_supervisor(WHAT)?;"));
    assert!(!applies_the_read_only_rule("/tasks", "let caller = signed_in.require_executive_decision()?;"), "only OCM's own decision");
    assert!(applies_the_read_only_rule(OCM_OWN_DECISIONS[0].0, "let caller = signed_in.require_executive_decision()?;"));
    assert!(!applies_the_read_only_rule(OCM_OWN_DECISIONS[1].0, "let caller = signed_in.require_executive_decision()?;"), "each its own check");
}

#[tokio::test]
async fn every_signed_in_route_refuses_a_request_without_a_session() {
    let app = spawn_app().await;
    let routes = api_routes();
    assert!(routes.len() > 20, "the table lists every route");
    for route in routes.iter().filter(|r| r.access != Access::Public) {
        let path = format!("/api/v1{}", route.path.replace("{id}", &uuid::Uuid::nil().to_string()));
        let (status, code, _) = error_of(app.request(route.method.clone(), &path, None, None).await).await;
        assert_eq!((status, code.as_str()), (401, "not_signed_in"), "{} {path}", route.method);
    }
}
