//! The database: where it is (a private cluster or DATABASE_URL), migrations, and the
//! application's connection pool.
//!
//! Two roles are involved. The owner (DATABASE_URL, or the private cluster's superuser)
//! runs migrations and nothing else. Every request runs as `bmms_app`, which owns no
//! table and cannot bypass row-level security; tenant tables are reached through
//! [`OrgTx`], the transaction that set the organization first.

pub mod embedded;
pub mod oversight;
pub mod replica;
pub mod tenancy;

pub use oversight::ReadTx;
pub use tenancy::OrgTx;

use crate::config::DatabaseArgs;
use anyhow::Context;
use embedded::EmbeddedPostgres;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use prometheus_client::metrics::histogram::Histogram;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Instant;

/// The schema, compiled into the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Runs a transaction's work again, once, when PostgreSQL aborted it for a deadlock or a
/// serialization failure: the transaction was rolled back whole, so running it again
/// changes nothing twice. Locks are taken in one order everywhere (documents by id, then
/// their conflicts, then the organization's counter, its summary rows and its audit
/// chain: see `sync::apply` and `routes::conflicts`), so this is a safety net.
pub async fn retry_once<T, F, Fut>(mut work: F) -> Result<T, crate::error::ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::error::ApiError>>,
{
    match work().await {
        Err(err) if err.is_transient_conflict() => {
            tracing::warn!("a transaction was aborted by a deadlock or serialization failure; running it again");
            work().await
        }
        done => done,
    }
}

/// The login role of request traffic (see migrations/0001).
pub const APP_ROLE: &str = "bmms_app";

/// The application's pool, connected as `bmms_app`.
#[derive(Debug, Clone)]
pub struct Db {
    pool: PgPool,
    /// How long [`Db::begin_with`] took: mostly the wait for a free connection when the
    /// pool is busy (the metrics' `bmms_db_begin_seconds`).
    begin_seconds: Histogram,
}

impl Db {
    /// Wraps a pool that is connected as the app role.
    pub fn new(pool: PgPool) -> Self {
        Db { pool, begin_seconds: crate::metrics::begin_histogram() }
    }

    /// Takes a connection and begins a transaction with `statement` (a `begin` and the
    /// settings of the transaction, in one round trip), timing both.
    pub async fn begin_with(&self, statement: String) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
        let started = Instant::now();
        let tx = self.pool.begin_with(statement).await;
        self.begin_seconds.observe(started.elapsed().as_secs_f64());
        tx
    }

    /// The histogram [`Db::begin_with`] fills, for the metrics' registry.
    pub fn begin_seconds(&self) -> Histogram {
        self.begin_seconds.clone()
    }

    /// For the tables that are not tenant data (users, sessions, organizations).
    /// Tenant tables answer nothing here: without `app.org_id`, RLS hides every row.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// True when the database answers and every migration in this binary has run.
    pub async fn is_ready(&self) -> bool {
        let applied: Result<i64, _> =
            sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
                .fetch_one(&self.pool)
                .await;
        matches!(applied, Ok(n) if n as usize >= MIGRATOR.iter().count())
    }
}

/// An open database, and the private cluster behind it if BMMS runs one. Dropping it
/// stops that cluster.
#[derive(Debug)]
pub struct Database {
    pub db: Db,
    pub embedded: Option<EmbeddedPostgres>,
}

/// Finds or starts the database, runs migrations as the owner and connects as the app role.
pub async fn open(args: &DatabaseArgs, max_connections: u32) -> anyhow::Result<Database> {
    let (owner_url, embedded) = match &args.database_url {
        Some(url) => (url.clone(), None),
        None => {
            let data_dir = args.data_dir.clone();
            let bin_dir = args.pg_bin_dir.clone();
            let cluster = tokio::task::spawn_blocking(move || {
                EmbeddedPostgres::start(&data_dir, bin_dir.as_deref())
            })
            .await??;
            (cluster.url(embedded::OWNER, embedded::DATABASE), Some(cluster))
        }
    };
    let owner = PgConnectOptions::from_str(&owner_url).context("DATABASE_URL is not a PostgreSQL URL")?;
    create_database_if_missing(&owner).await?;
    migrate(&owner).await?;
    let app_options = app_connect_options(args.app_database_url.as_deref(), &owner)?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .connect_with(app_options)
        .await
        .context("cannot connect as the bmms_app role")?;
    Ok(Database { db: Db::new(pool), embedded })
}

/// Runs every pending migration as the owner role.
pub async fn migrate(owner: &PgConnectOptions) -> anyhow::Result<()> {
    let mut conn = PgConnection::connect_with(owner)
        .await
        .context("cannot connect to PostgreSQL as the owner role (DATABASE_URL)")?;
    MIGRATOR.run(&mut conn).await.context("migrations failed")?;
    conn.close().await?;
    Ok(())
}

/// How the app role connects: BMMS_APP_DATABASE_URL if given, else the owner's URL
/// with the user changed to `bmms_app` (which works with trust or peer authentication,
/// as in the private cluster; elsewhere set BMMS_APP_DATABASE_URL with a password).
pub fn app_connect_options(
    app_url: Option<&str>,
    owner: &PgConnectOptions,
) -> anyhow::Result<PgConnectOptions> {
    let options = match app_url {
        Some(url) => PgConnectOptions::from_str(url).context("BMMS_APP_DATABASE_URL is not a PostgreSQL URL")?,
        None => owner.clone().username(APP_ROLE).password(""),
    };
    Ok(options
        .application_name("bmms")
        .log_statements(tracing::log::LevelFilter::Trace))
}

/// Creates the database DATABASE_URL names when the server has none by that name yet
/// (a first start), connecting to the `postgres` maintenance database to do it.
async fn create_database_if_missing(owner: &PgConnectOptions) -> anyhow::Result<()> {
    let Some(name) = owner.get_database().map(str::to_owned) else { return Ok(()) };
    match PgConnection::connect_with(owner).await {
        Ok(conn) => return Ok(conn.close().await?),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {}
        Err(e) => return Err(anyhow::Error::new(e).context("cannot connect to PostgreSQL (DATABASE_URL)")),
    }
    tracing::info!(database = %name, "creating the database");
    let mut conn = PgConnection::connect_with(&owner.clone().database("postgres")).await?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    sqlx::query(&format!("create database {quoted}")).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}
