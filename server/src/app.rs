//! The application: its shared state, its router with every layer, and [`serve`], which
//! the binary and the tests both call with a listener and a shutdown signal.

use axum::extract::DefaultBodyLimit;
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::auth::allowed_networks::AllowedNetworks;
use crate::auth::factor_key::FactorKey;
use crate::auth::passkeys::RelyingParty;
use crate::auth::limiter::{self, KeyedLimiter, LoginLimiter, LoginLimits};
use crate::auth::second_factor::{FactorClock, MfaPolicy};
use crate::auth::session_store::PgSessionStore;
use crate::config::ServeArgs;
use crate::certification::Signer;
use crate::db::replica::Replica;
use crate::db::Db;
use crate::events::Hub;
use crate::limits::Limits;
use crate::metrics::{self, Metrics};
use crate::routes::dashboard::Overview;
use crate::routes::implementation_counts::GovernmentCounts;
use crate::routes;
use crate::sync::cache::DocumentCache;

/// Largest JSON body the API accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Settings the handlers read.
#[derive(Debug, Clone)]
pub struct Settings {
    pub dist_dir: PathBuf,
    pub secure_cookies: bool,
    pub session_idle: Duration,
    pub session_max: Duration,
    pub trust_forwarded_for: bool,
    pub login_limits: LoginLimits,
    /// How many synced documents to keep in memory (0: none).
    pub document_cache_entries: usize,
    /// Sync exchanges one user may have in progress at once.
    pub syncs_per_user: usize,
    /// BPDA's key, which signs certifications.
    pub certification_key: Signer,
    /// The key that seals second-factor secrets.
    pub factor_key: FactorKey,
    /// The roles that must have a second factor.
    pub mfa_policy: MfaPolicy,
    /// Where OCM's accounts may work from.
    pub ocm_networks: AllowedNetworks,
    /// Who passkeys are made for: BMMS at its public address.
    pub passkeys: RelyingParty,
    /// The address people open BMMS at, without a trailing slash.
    pub public_url: String,
    /// The OpenID Connect providers people may sign in with.
    pub oidc_providers: Vec<crate::auth::oidc::Provider>,
    /// Where whole photos are kept.
    pub photos: crate::photo_store::PhotoStore,
}

impl Settings {
    pub fn from_args(
        args: &ServeArgs,
        certification_key: Signer,
        factor_key: FactorKey,
        photos: crate::photo_store::PhotoStore,
    ) -> anyhow::Result<Self> {
        let public_url = match &args.public_url {
            Some(url) => url.clone(),
            None => format!("http://localhost:{}", args.listen.port()).parse()?,
        };
        Ok(Settings {
            dist_dir: args.dist_dir.clone(),
            secure_cookies: !args.insecure_cookies,
            session_idle: Duration::from_secs(args.session_idle_minutes.max(1) as u64 * 60),
            session_max: Duration::from_secs(args.session_max_hours.max(1) as u64 * 3600),
            trust_forwarded_for: args.trust_forwarded_for,
            login_limits: LoginLimits::default(),
            document_cache_entries: args.document_cache_entries,
            syncs_per_user: args.syncs_per_user,
            certification_key,
            factor_key,
            mfa_policy: args.mfa_roles.clone(),
            ocm_networks: args.ocm_allowed_networks.clone(),
            passkeys: RelyingParty::at(&public_url)?,
            public_url: public_url.as_str().trim_end_matches('/').to_owned(),
            oidc_providers: match &args.oidc_providers {
                Some(path) => crate::auth::oidc::Provider::load_all(path)?,
                None => Vec::new(),
            },
            photos,
        })
    }

    /// `__Host-` binds the cookie to this exact origin; browsers only accept it with Secure.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-bmms_session"
        } else {
            "bmms_session"
        }
    }
}

/// Everything a handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub login_limiter: Arc<LoginLimiter>,
    /// Certificate checks per client address (the public `POST /certifications/verify`).
    pub verify_limiter: Arc<KeyedLimiter<std::net::IpAddr>>,
    /// Set-up links tried per client address (the public `POST /auth/set-up`).
    pub set_up_limiter: Arc<KeyedLimiter<std::net::IpAddr>>,
    /// Sign-ins begun per client address with a passkey or a sign-in service (the public
    /// `POST /auth/passkey-sign-in/challenge` and `GET /auth/oidc/{id}/start`).
    pub sign_in_start_limiter: Arc<KeyedLimiter<std::net::IpAddr>>,
    /// Second-factor attempts per user.
    pub factor_limiter: Arc<KeyedLimiter<bmms_shared::UserId>>,
    /// The clock second factors are checked by (tests move it).
    pub factor_clock: FactorClock,
    pub documents: Arc<DocumentCache>,
    /// Live updates for the desk screens.
    pub events: Arc<Hub>,
    /// The government overview, recomputed at most every few seconds.
    pub overview: Arc<Overview>,
    /// The counts of OCM's implementation view, the same way.
    pub implementation_counts: Arc<GovernmentCounts>,
    /// CPU-heavy work and what each user may have in progress (see [`Limits`]).
    pub limits: Arc<Limits>,
    /// What the operators' `GET /metrics` shows.
    pub metrics: Arc<Metrics>,
    /// A streaming replica for OCM's reads across organizations, if one is configured.
    pub replica: Option<Arc<Replica>>,
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> Self {
        let login_limiter = Arc::new(LoginLimiter::new(settings.login_limits));
        let documents = Arc::new(DocumentCache::new(settings.document_cache_entries));
        let (events, overview) = (Arc::new(Hub::default()), Arc::new(Overview::default()));
        let limits = Arc::new(Limits::new(settings.syncs_per_user, db.pool().options().get_max_connections() as usize));
        let verify_limiter = Arc::new(KeyedLimiter::new(limiter::CERTIFICATE_CHECKS));
        let factor_limiter = Arc::new(KeyedLimiter::new(limiter::SECOND_FACTOR_ATTEMPTS));
        let set_up_limiter = Arc::new(KeyedLimiter::new(limiter::SET_UP_LINKS));
        let sign_in_start_limiter = Arc::new(KeyedLimiter::new(limiter::SIGN_IN_STARTS));
        let implementation_counts = Arc::new(GovernmentCounts::default());
        let metrics = Arc::new(Metrics::new(db.begin_seconds()));
        AppState { db, settings: Arc::new(settings), login_limiter, verify_limiter, set_up_limiter, sign_in_start_limiter, factor_limiter, factor_clock: FactorClock::default(), documents, events, overview, implementation_counts, limits, metrics, replica: None }
    }

    /// Sends OCM's reads across organizations to `replica` while it is fresh.
    pub fn with_replica(mut self, replica: Replica) -> Self {
        self.replica = Some(Arc::new(replica));
        self
    }

    /// Where OCM's reads across organizations go now: the replica while it is fresh, the
    /// primary otherwise.
    pub fn oversight_db(&self) -> Db {
        match self.replica.as_ref().and_then(|r| r.if_fresh()) {
            Some(replica) => {
                self.metrics.oversight_read("replica");
                replica.clone()
            }
            None => {
                self.metrics.oversight_read("primary");
                self.db.clone()
            }
        }
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let settings = &state.settings;
    let sessions = SessionManagerLayer::new(PgSessionStore::new(state.db.pool().clone()))
        .with_name(settings.session_cookie_name())
        .with_secure(settings.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        // Saved when changed: `SignedIn` changes a session in use every few minutes, which
        // moves its idle deadline (not on every request: a sync would cost a write more).
        .with_expiry(Expiry::OnInactivity(
            time::Duration::try_from(settings.session_idle).unwrap_or(time::Duration::HOUR),
        ));

    let api = routes::api_router()
        .route_layer(axum::middleware::from_fn(metrics::tell_route))
        .layer(sessions)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));

    Router::new()
        .nest("/api", api)
        .merge(routes::health::router().route_layer(axum::middleware::from_fn(metrics::tell_route)))
        .fallback_service(routes::static_files::service(&settings.dist_dir))
        .layer(axum::middleware::from_fn(routes::static_files::cache_headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(CatchPanicLayer::custom(|_| crate::error::internal_error_response()))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state.settings), security_headers))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&state.metrics), metrics::count_requests))
        .with_state(state)
}

/// Headers every answer carries: no framing of BMMS by other sites (clickjacking), no
/// content-type guessing, no full addresses leaked to other sites. Over HTTPS, HSTS too:
/// browsers then refuse plain http for this host for a year, so a café's network cannot
/// strip TLS. BMMS itself speaks plain HTTP behind a TLS proxy, so HTTPS is what a
/// trusted proxy says in `X-Forwarded-Proto` (with `BMMS_TRUST_FORWARDED_FOR`).
async fn security_headers(
    axum::extract::State(settings): axum::extract::State<Arc<Settings>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{header, HeaderValue};
    let https = settings.trust_forwarded_for
        && request.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    spawn_housekeeping(state.clone());
    if let Some(replica) = &state.replica {
        Arc::clone(replica).watch(state.db.clone());
    }
    state.events.start(state.db.pool().clone());
    let events = Arc::clone(&state.events);
    // Open event streams never end by themselves: close them first, so that shutdown
    // does not wait for them.
    let shutdown = async move {
        shutdown.await;
        events.close();
    };
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Serves the operators' `GET /metrics` until `shutdown` completes: on a listener of its
/// own, so that the public address never shows it.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, metrics::router(state)).with_graceful_shutdown(shutdown).await
}

/// Expired sessions and idle limiter keys are cleared every few minutes.
fn spawn_housekeeping(state: AppState) {
    let store = PgSessionStore::new(state.db.pool().clone());
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(300));
        loop {
            every.tick().await;
            if let Err(err) = store.delete_expired().await {
                tracing::warn!(error = %err, "could not delete expired sessions");
            }
            state.login_limiter.forget_idle();
            state.verify_limiter.forget_idle();
            state.factor_limiter.forget_idle();
            state.set_up_limiter.forget_idle();
            state.sign_in_start_limiter.forget_idle();
        }
    });
}
