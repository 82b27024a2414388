//! `spawn_app()`: a fresh database, migrated, and the server on 127.0.0.1:0.

use bmms_shared::OrgId;
use bmms_server::app::{AppState, Settings};
use bmms_server::audit::Actor;
use bmms_server::auth::totp;
use bmms_server::cli::admin;
use bmms_server::db::{self, Db};
use bmms_shared::Role;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use reqwest::{Method, Response};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;
use uuid::Uuid;

/// A password every test user gets.
pub const PASSWORD: &str = "a long test password 1";

/// Where the test server's passkeys say they were used (any port of localhost is taken).
pub const PASSKEY_ORIGIN: &str = "http://localhost:8080";

pub struct TestApp {
    pub base: String,
    /// The authenticator apps of the users the helpers set one up for: their secrets,
    /// and the newest 30-second step whose code was used.
    authenticators: std::sync::Mutex<std::collections::HashMap<String, Authenticator>>,
    database_name: String,
    pub state: AppState,
    /// Connected as the owner role, which can do what the app role cannot.
    pub owner: PgPool,
    pub owner_options: PgConnectOptions,
    pub http: reqwest::Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// A user's authenticator app, as a test holds it.
#[derive(Debug, Clone)]
pub struct Authenticator {
    pub secret: Vec<u8>,
    last_step: u64,
}

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Debug, Clone)]
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

pub fn admin_options() -> PgConnectOptions {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    PgConnectOptions::from_str(&url).expect("DATABASE_URL is a PostgreSQL URL")
}

/// A free loopback port, for a program the test starts that binds it itself.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_through(configure, |options| async move { options }).await
}

/// A server whose requests reach the database the way `route` says (through a
/// [`crate::chaos_proxy::ChaosProxy`], say); requests give up on a connection after ten seconds.
pub async fn spawn_app_through<F, Fut>(configure: impl FnOnce(&mut Settings), route: F) -> TestApp
where
    F: FnOnce(PgConnectOptions) -> Fut,
    Fut: std::future::Future<Output = PgConnectOptions>,
{
    let name = format!("bmms_test_{}", Uuid::new_v4().simple());
    let admin = admin_options();
    let mut conn = PgConnection::connect_with(&admin).await.expect("PostgreSQL is reachable (set DATABASE_URL)");
    sqlx::query(&format!("create database {name}")).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();

    let owner_options = admin.database(&name);
    db::migrate(&owner_options).await.expect("migrations run");
    let owner = PgPoolOptions::new().max_connections(2).connect_with(owner_options.clone()).await.unwrap();
    let app_pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(route(db::app_connect_options(None, &owner_options).unwrap()).await)
        .await
        .unwrap();

    let mut settings = test_settings();
    configure(&mut settings);
    let state = AppState::new(Db::new(app_pool), settings);
    let mut app = serve(state, owner, owner_options).await;
    app.database_name = name;
    app
}

/// The settings every test server starts from.
pub fn test_settings() -> Settings {
    Settings {
        dist_dir: PathBuf::from("/nonexistent"),
        secure_cookies: true,
        session_idle: Duration::from_secs(3600),
        session_max: Duration::from_secs(7 * 24 * 3600),
        trust_forwarded_for: false,
        login_limits: Default::default(),
        document_cache_entries: 100,
        syncs_per_user: 4,
        certification_key: bmms_server::certification::Signer::generate(),
        factor_key: bmms_server::auth::factor_key::FactorKey::generate(),
        mfa_policy: Default::default(),
        ocm_networks: Default::default(),
        passkeys: bmms_server::auth::passkeys::RelyingParty::at(&PASSKEY_ORIGIN.parse().unwrap()).unwrap(),
        public_url: PASSKEY_ORIGIN.to_owned(),
        oidc_providers: Vec::new(),
        photos: bmms_server::photo_store::PhotoStore::in_directory(&std::env::temp_dir().join(format!("bmms-test-photos-{}", Uuid::new_v4().simple())))
            .unwrap(),
    }
}

/// Serves `state` on a loopback port; `owner` reaches its database as the owner. The
/// database is left as it is when the app is dropped.
pub async fn serve(state: AppState, owner: PgPool, owner_options: PgConnectOptions) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(bmms_server::app::serve(listener, state.clone(), async {
        let _ = rx.await;
    }));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    TestApp { base, authenticators: Default::default(), database_name: String::new(), state, owner, owner_options, http, _shutdown: tx }
}

impl TestApp {
    /// Another server on `app`'s database (a replica behind a load balancer), answering at
    /// `base`. Dropping it leaves the database to `app`.
    pub fn sharing_database_with(app: &TestApp, base: String, state: AppState) -> TestApp {
        let (tx, _) = tokio::sync::oneshot::channel::<()>();
        TestApp {
            base,
            authenticators: Default::default(),
            database_name: String::new(),
            state,
            owner: app.owner.clone(),
            owner_options: app.owner_options.clone(),
            http: app.http.clone(),
            _shutdown: tx,
        }
    }
}

impl Drop for TestApp {
    /// Drops the test's database, so that runs against a shared server leave nothing behind.
    fn drop(&mut self) {
        if self.database_name.is_empty() {
            return;
        }
        let name = self.database_name.clone();
        // Drop cannot await, and the test's runtime is busy ending: use a runtime of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let mut conn = PgConnection::connect_with(&admin_options()).await.ok()?;
                sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut conn).await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("note: could not drop the test database {}", self.database_name);
        }
    }
}

impl TestApp {
    /// A DATABASE_URL for the test's database, for running the `bmms` binary on it.
    pub fn owner_url(&self) -> String {
        let mut url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        // Replace the database name: the path part between the authority and the query.
        let query = url.find('?').map(|at| url.split_off(at)).unwrap_or_default();
        let path_at = url.find("://").map(|s| s + 3).and_then(|s| url[s..].find('/').map(|p| s + p)).unwrap_or(url.len());
        url.truncate(path_at);
        format!("{url}/{}{query}", self.database_name)
    }

    pub fn db(&self) -> &Db {
        &self.state.db
    }

    /// The id of an organization by code.
    pub async fn org_id(&self, code: &str) -> OrgId {
        sqlx::query_scalar("select id from organizations where code = $1")
            .bind(code)
            .fetch_one(&self.owner)
            .await
            .unwrap()
    }

    /// Creates a user through the admin code path, with [`PASSWORD`].
    pub async fn create_user(&self, org: &str, username: &str, role: Role) -> Uuid {
        admin::create_user(self.db(), &Actor::cli(), org, username, "Test Person", role, PASSWORD)
            .await
            .unwrap()
    }

    /// POSTs a login and returns the raw answer.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in and returns the browser state, panicking if sign-in fails. A user whose
    /// role needs a second factor sets up an authenticator app the first time (as the app
    /// walks them through it) and gives a code from it every time.
    pub async fn sign_in(&self, username: &str) -> Browser {
        let (step, halfway) = self.password_step(username).await;
        match step["step"].as_str().unwrap() {
            "signed_in" => halfway,
            "second_factor" => {
                let code = self.next_code(username);
                let response = self.request(Method::POST, "/api/v1/auth/second-factor", Some(&halfway), Some(serde_json::json!({ "code": code }))).await;
                assert_eq!(response.status(), 200, "the second factor of {username} was refused");
                Browser { cookie: session_cookie(&response).expect("a new session id"), csrf: halfway.csrf }
            }
            "set_up_second_factor" => self.set_up_authenticator(username, &halfway).await.0,
            other => panic!("unknown sign-in step {other}"),
        }
    }

    /// Logs in with the password alone: the step the server answered ([`SignInStep`] as
    /// JSON) and the session, signed in or halfway.
    ///
    /// [`SignInStep`]: bmms_shared::api::SignInStep
    pub async fn password_step(&self, username: &str) -> (serde_json::Value, Browser) {
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), 200, "the password of {username} was refused");
        let cookie = session_cookie(&response).expect("sign-in sets the session cookie");
        let step: serde_json::Value = response.json().await.unwrap();
        let browser = Browser { cookie, csrf: step["csrf_token"].as_str().unwrap().to_owned() };
        (step, browser)
    }

    /// Sets up an authenticator app for the session `browser` (halfway through a sign-in
    /// or signed in); returns the session after it and the recovery codes shown.
    pub async fn set_up_authenticator(&self, username: &str, browser: &Browser) -> (Browser, Vec<String>) {
        let response = self.request(Method::POST, "/api/v1/auth/second-factor/totp", Some(browser), None).await;
        assert_eq!(response.status(), 200, "setting up an authenticator app for {username}");
        let set_up: serde_json::Value = response.json().await.unwrap();
        let secret = totp_rs::Secret::Encoded(set_up["secret"].as_str().unwrap().to_owned()).to_bytes().unwrap();
        self.authenticators.lock().unwrap().insert(username.to_owned(), Authenticator { secret, last_step: 0 });
        let code = self.next_code(username);
        let response = self.request(Method::POST, "/api/v1/auth/second-factor/totp/confirm", Some(browser), Some(serde_json::json!({ "code": code }))).await;
        assert_eq!(response.status(), 200, "confirming the authenticator app of {username}");
        let cookie = session_cookie(&response).unwrap_or_else(|| browser.cookie.clone());
        let confirmed: serde_json::Value = response.json().await.unwrap();
        let codes = confirmed["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        (Browser { cookie, csrf: browser.csrf.clone() }, codes)
    }

    /// A code `username`'s authenticator app shows, one the server has not taken yet: the
    /// server takes codes of the step before and after now too, so the factor clock
    /// moves on only when a user has used all three.
    pub fn next_code(&self, username: &str) -> String {
        let mut authenticators = self.authenticators.lock().unwrap();
        let authenticator = authenticators.get_mut(username).unwrap_or_else(|| panic!("{username} has no authenticator app here"));
        let clock = &self.state.factor_clock;
        let step = |now: i64| now as u64 / totp::STEP_SECONDS;
        let candidate = loop {
            let candidate = (authenticator.last_step + 1).max(step(clock.now()) - 1);
            if candidate <= step(clock.now()) + 1 {
                break candidate;
            }
            clock.advance(Duration::from_secs(totp::STEP_SECONDS));
        };
        authenticator.last_step = candidate;
        totp::code_at(&authenticator.secret, candidate * totp::STEP_SECONDS)
    }

    /// A request carrying the browser's cookie and, for writes, its CSRF token.
    pub async fn request(&self, method: Method, path: &str, browser: Option<&Browser>, body: Option<serde_json::Value>) -> Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(browser) = browser {
            request = request.header(COOKIE, &browser.cookie).header("x-csrf-token", &browser.csrf);
        }
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.to_string());
        }
        request.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, browser: &Browser) -> Response {
        self.request(Method::GET, path, Some(browser), None).await
    }

    /// How many rows `table` holds, seen by the owner (RLS does not hide them from it here,
    /// because every test database is owned by a superuser).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("select count(*) from {table}")).fetch_one(&self.owner).await.unwrap()
    }
}

/// `name=value` of the session cookie a response set.
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("bmms_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The API's error body; panics if the answer is not one.
pub async fn error_of(response: Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("error answers are JSON");
    (status, body["error"].as_str().expect("an error code").to_owned(), body["message"].as_str().expect("a message").to_owned())
}
