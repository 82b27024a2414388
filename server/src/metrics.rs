//! What the server counts for its operators, as Prometheus reads it: `GET /metrics` on a
//! listen address of its own (`--metrics-listen`), never on the public one, since the
//! figures tell how busy each ministry's sync is and how often sign-in fails.
//!
//! Counters and histograms are moved where things happen (a request answered, a sync
//! exchange, a failed sign-in, a budget decision); the gauges of what is open now (the
//! database pool, sessions, live-event streams) are read at each scrape. Names, labels
//! and what each means: docs/operator-guide.md, "Metrics and alerts". Labels take only a
//! few values each (a route as the router declares it, never the path as sent), so that
//! no caller can make the series grow without bound.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bmms_shared::budget::compliance::{self, Severity};
use bmms_shared::sync::protocol::{RejectionCode, SyncRequest, SyncResponse};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::AppState;

/// The route label of an answer that no API route gave: the app's files, and unknown
/// addresses.
pub const OTHER_ROUTE: &str = "other";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    stage: &'static str,
    decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
    severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatabaseLabels {
    database: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latencies from 1 ms to about 16 s.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Changes in one sync batch, 1 to 4,096.
fn batch_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

/// A budget's wait for a decision: an hour to about 85 days.
fn decision_wait_histogram() -> Histogram {
    Histogram::new(exponential_buckets(3600.0, 2.0, 12))
}

/// Getting a database connection and beginning a transaction: 0.1 ms to about 3 s.
pub fn begin_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// Every series the server keeps, registered under the `bmms_` prefix.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Histograms<RouteLabels>,
    sync_exchanges: Counter,
    sync_batch_changes: Histogram,
    sync_documents_received: Counter,
    sync_documents_acknowledged: Counter,
    sync_documents_sent: Counter,
    sync_refusals: Family<CodeLabels, Counter>,
    conflicts_opened: Counter,
    sign_in_failures: Family<ReasonLabels, Counter>,
    budget_moves: Family<StatusLabels, Counter>,
    budget_decisions: Family<DecisionLabels, Counter>,
    budget_decision_wait: Histograms<StageLabels>,
    compliance_violations: Family<RuleLabels, Counter>,
    pool_connections: Family<StateLabels, Gauge>,
    pool_max: Gauge,
    oversight_reads: Family<DatabaseLabels, Counter>,
    sessions: Gauge,
    event_streams: Gauge,
}

impl Metrics {
    /// The registry, with the database's own histogram of beginning transactions
    /// ([`crate::db::Db::begin_seconds`]).
    pub fn new(db_begin_seconds: Histogram) -> Self {
        let mut metrics = Metrics {
            registry: Registry::with_prefix("bmms"),
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(seconds_histogram),
            sync_exchanges: Counter::default(),
            sync_batch_changes: batch_histogram(),
            sync_documents_received: Counter::default(),
            sync_documents_acknowledged: Counter::default(),
            sync_documents_sent: Counter::default(),
            sync_refusals: Family::default(),
            conflicts_opened: Counter::default(),
            sign_in_failures: Family::default(),
            budget_moves: Family::default(),
            budget_decisions: Family::default(),
            budget_decision_wait: Family::new_with_constructor(decision_wait_histogram),
            compliance_violations: Family::default(),
            pool_connections: Family::default(),
            pool_max: Gauge::default(),
            oversight_reads: Family::default(),
            sessions: Gauge::default(),
            event_streams: Gauge::default(),
        };
        let r = &mut metrics.registry;
        r.register("http_requests", "HTTP requests answered, by route as declared and status", metrics.requests.clone());
        r.register("http_request_duration_seconds", "Time to answer (to the headers), by route", metrics.request_seconds.clone());
        r.register("sync_exchanges", "Sync exchanges answered", metrics.sync_exchanges.clone());
        r.register("sync_batch_changes", "Changes sent in one sync exchange", metrics.sync_batch_changes.clone());
        r.register("sync_documents_received", "Documents devices sent changes of", metrics.sync_documents_received.clone());
        r.register("sync_documents_acknowledged", "Documents whose sent changes were stored", metrics.sync_documents_acknowledged.clone());
        r.register("sync_documents_sent", "Documents sent to devices (changes by others)", metrics.sync_documents_sent.clone());
        r.register("sync_refusals", "Documents refused in sync, by reason (not_yours: another organization's)", metrics.sync_refusals.clone());
        r.register("conflicts_opened", "Same-field conflicts opened by sync", metrics.conflicts_opened.clone());
        r.register("sign_in_failures", "Failed sign-ins, by reason", metrics.sign_in_failures.clone());
        r.register("budget_moves", "Ministries' moves of their budget proposals, by the stage reached", metrics.budget_moves.clone());
        r.register("budget_decisions", "MFBM's reviews and OCM's approvals of budgets, by decision", metrics.budget_decisions.clone());
        r.register("budget_decision_wait_seconds", "Time from a budget's submission to a decision on it", metrics.budget_decision_wait.clone());
        r.register("budget_compliance_violations", "Compliance findings at each try to sign or submit a budget, by rule", metrics.compliance_violations.clone());
        r.register("db_begin_seconds", "Time to get a database connection and begin (waiting for the pool, under load)", db_begin_seconds);
        r.register("db_pool_connections", "Database connections open, idle or in use", metrics.pool_connections.clone());
        r.register("db_pool_max_connections", "Largest number of database connections", metrics.pool_max.clone());
        r.register("db_oversight_reads", "OCM's reads across organizations, by the database that answered (replica or primary)", metrics.oversight_reads.clone());
        r.register("sessions", "Sessions not expired", metrics.sessions.clone());
        r.register("event_streams", "Live-update streams open to desk screens", metrics.event_streams.clone());
        metrics.start_at_zero();
        metrics
    }

    /// Every label set known in advance, at 0: a series that appears only with its first
    /// event leaves `rate()` and the alerts blind to that first one.
    fn start_at_zero(&self) {
        for code in RejectionCode::ALL {
            drop(self.sync_refusals.get_or_create(&CodeLabels { code: code.as_str() }));
        }
        for reason in ["wrong_credentials", "too_many_attempts", "no_organization", "wrong_second_factor", "address_not_allowed"] {
            drop(self.sign_in_failures.get_or_create(&ReasonLabels { reason }));
        }
        for status in ["prepared", "submitted", "preparing"] {
            drop(self.budget_moves.get_or_create(&StatusLabels { status: status.to_owned() }));
        }
        for (stage, decision) in [("review", "recommended"), ("review", "returned"), ("approval", "approved")] {
            drop(self.budget_decisions.get_or_create(&DecisionLabels { stage, decision: decision.to_owned() }));
            drop(self.budget_decision_wait.get_or_create(&StageLabels { stage }));
        }
        for database in ["replica", "primary"] {
            drop(self.oversight_reads.get_or_create(&DatabaseLabels { database }));
        }
        for rule in compliance::RULES {
            drop(self.compliance_violations.get_or_create(&RuleLabels { rule: rule.id.to_owned(), severity: severity_name(rule.severity) }));
        }
    }

    /// One answer of the public listener.
    pub fn request(&self, method: &Method, route: &str, status: StatusCode, took: Duration) {
        let (method, route) = (method.as_str().to_owned(), route.to_owned());
        self.request_seconds.get_or_create(&RouteLabels { method: method.clone(), route: route.clone() }).observe(took.as_secs_f64());
        self.requests.get_or_create(&RequestLabels { method, route, status: status.as_u16().to_string() }).inc();
    }

    /// One sync exchange answered (a batch sent again counts again).
    pub fn sync_exchange(&self, request: &SyncRequest, response: &SyncResponse, conflicts_opened: u64) {
        self.sync_exchanges.inc();
        self.sync_batch_changes.observe(request.documents.iter().map(|d| d.changes.len()).sum::<usize>() as f64);
        self.sync_documents_received.inc_by(request.documents.len() as u64);
        self.sync_documents_acknowledged.inc_by(response.acknowledged.len() as u64);
        self.sync_documents_sent.inc_by(response.updates.len() as u64);
        for rejection in &response.rejections {
            self.sync_refusals.get_or_create(&CodeLabels { code: rejection.code.as_str() }).inc();
        }
        self.conflicts_opened.inc_by(conflicts_opened);
    }

    /// One of OCM's reads across organizations, answered by `database` (replica, primary).
    pub fn oversight_read(&self, database: &'static str) {
        self.oversight_reads.get_or_create(&DatabaseLabels { database }).inc();
    }

    /// A sign-in refused: `wrong_credentials` (no such user, a wrong password, a disabled
    /// account: the caller is told the same), `too_many_attempts`, `no_organization`
    /// (an account that belongs to none: a set-up mistake), `wrong_second_factor` (a code
    /// that was not right or was spent, at sign-in or a step-up), or `address_not_allowed`
    /// (an OCM account from outside the networks the operator allowed).
    pub fn sign_in_failed(&self, reason: &'static str) {
        self.sign_in_failures.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// A ministry moved its budget proposal to `status` (prepared, submitted, or back to
    /// preparing).
    pub fn budget_moved(&self, status: &str) {
        self.budget_moves.get_or_create(&StatusLabels { status: status.to_owned() }).inc();
    }

    /// A decision on a budget at `stage` (review, approval), on its submission of
    /// `submitted_at`.
    pub fn budget_decided(&self, stage: &'static str, decision: &str, submitted_at: DateTime<Utc>) {
        let waited = (Utc::now() - submitted_at).to_std().unwrap_or_default();
        self.budget_decisions.get_or_create(&DecisionLabels { stage, decision: decision.to_owned() }).inc();
        self.budget_decision_wait.get_or_create(&StageLabels { stage }).observe(waited.as_secs_f64());
    }

    /// What the compliance check found on a budget someone tried to sign or submit.
    pub fn compliance_found(&self, rule: &str, severity: Severity) {
        self.compliance_violations.get_or_create(&RuleLabels { rule: rule.to_owned(), severity: severity_name(severity) }).inc();
    }

    /// Reads what is open now, then writes every series in the text format.
    pub async fn render(&self, state: &AppState) -> String {
        let pool = state.db.pool();
        let (open, idle) = (i64::from(pool.size()), pool.num_idle() as i64);
        self.pool_connections.get_or_create(&StateLabels { state: "idle" }).set(idle);
        self.pool_connections.get_or_create(&StateLabels { state: "in_use" }).set(open - idle);
        self.pool_max.set(i64::from(pool.options().get_max_connections()));
        self.event_streams.set(state.events.open_streams() as i64);
        // Sessions are not tenant data (every organization's are in one table, by hashed id).
        match sqlx::query_scalar::<_, i64>("select count(*) from sessions where expiry_date > now()").fetch_one(pool).await {
            Ok(sessions) => {
                self.sessions.set(sessions);
            }
            Err(err) => tracing::warn!(error = %err, "metrics: could not count sessions"),
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The metrics listener's one route.
pub fn router(state: AppState) -> Router {
    Router::new().route("/metrics", get(serve_metrics)).with_state(state)
}

async fn serve_metrics(State(state): State<AppState>) -> Response {
    let text = state.metrics.render(&state).await;
    let content_type = HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// Counts every answer of the public listener, with the time it took to its headers.
/// The route comes from [`tell_route`] on the response: outside the router it is not
/// known yet.
pub async fn count_requests(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let response = next.run(request).await;
    let route = response.extensions().get::<MatchedPath>().map_or(OTHER_ROUTE, MatchedPath::as_str);
    metrics.request(&method, route, response.status(), started.elapsed());
    response
}

/// Passes the route the router matched out on the response, for [`count_requests`].
pub async fn tell_route(request: Request, next: Next) -> Response {
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(request).await;
    if let Some(matched) = matched {
        response.extensions_mut().insert(matched);
    }
    response
}
