//! `bmms`: the server and its admin commands. See `bmms --help`.

use anyhow::Context;
use bmms_server::app::{self, AppState, Settings};
use bmms_server::auth::factor_key::FactorKey;
use bmms_server::certification::Signer;
use bmms_server::config::{Cli, Command, DbCommand, ServeArgs};
use bmms_server::db::replica::Replica;
use bmms_server::db::{self, embedded::EmbeddedPostgres};
use std::str::FromStr;
use bmms_server::{cli, config::AuditCommand};
use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr: human-readable on a terminal, JSON lines otherwise (for collectors).
fn init_tracing() {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_env("BMMS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::io::stderr().is_terminal() {
        builder.init();
    } else {
        builder.json().init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let command = cli.command.unwrap_or(Command::Serve(ServeArgs::default()));
    match command {
        Command::Db(DbCommand::Start) => {
            let cluster = tokio::task::spawn_blocking({
                let args = cli.database.clone();
                move || EmbeddedPostgres::start(&args.data_dir, args.pg_bin_dir.as_deref())
            })
            .await??;
            println!("{}", cluster.url(db::embedded::OWNER, "postgres"));
            // Leave it running for whoever asked; `bmms db stop` ends it.
            std::mem::forget(cluster);
            Ok(())
        }
        Command::Db(DbCommand::Stop) => {
            EmbeddedPostgres::stop_in(&cli.database.data_dir, cli.database.pg_bin_dir.as_deref())
        }
        Command::Serve(args) => serve(cli.database, args).await,
        Command::Admin(admin) => {
            let database = db::open(&cli.database, 2).await?;
            cli::run_admin(&database.db, admin).await
        }
        Command::Demo => {
            let database = db::open(&cli.database, 2).await?;
            cli::run_demo(&database.db).await
        }
        Command::Audit(AuditCommand::Verify) => {
            let database = db::open(&cli.database, 2).await?;
            cli::run_audit_verify(&database.db).await
        }
        Command::Audit(AuditCommand::Archive { dir, before }) => {
            let database = db::open(&cli.database, 2).await?;
            cli::run_audit_archive(&database.db, &dir, before).await
        }
        Command::Audit(AuditCommand::VerifyArchive { file }) => {
            let database = db::open(&cli.database, 2).await?;
            cli::run_audit_verify_archive(&database.db, &file).await
        }
        Command::VerifyCertification { file } => {
            let database = db::open(&cli.database, 2).await?;
            cli::run_verify_certification(&database.db, &file).await
        }
    }
}

async fn serve(database_args: bmms_server::config::DatabaseArgs, args: ServeArgs) -> anyhow::Result<()> {
    let database = db::open(&database_args, args.db_max_connections).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let key_path = args.certification_key.clone().unwrap_or_else(|| database_args.data_dir.join("certification-key"));
    let factor_key_path = args.factor_key.clone().unwrap_or_else(|| database_args.data_dir.join("factor-key"));
    let photos = match &args.photo_store {
        Some(spec) => bmms_server::photo_store::PhotoStore::at(spec)?,
        None => bmms_server::photo_store::PhotoStore::in_directory(&database_args.data_dir.join("photos"))?,
    };
    let settings =
        Settings::from_args(&args, Signer::load_or_create(&key_path)?, FactorKey::load_or_create(&factor_key_path)?, photos)?;
    if !settings.dist_dir.join("index.html").exists() {
        tracing::warn!(dist = %settings.dist_dir.display(), "the app is not built here; run scripts/build-app");
    }
    let mut state = AppState::new(database.db.clone(), settings);
    if let Some(url) = &args.replica_database_url {
        // Lazily: a replica that is down at start must not keep BMMS from starting.
        let options = sqlx::postgres::PgConnectOptions::from_str(url).context("BMMS_REPLICA_DATABASE_URL is not a PostgreSQL URL")?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(args.db_max_connections)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_lazy_with(options.application_name("bmms"));
        let max_lag = std::time::Duration::from_secs(args.replica_max_lag_seconds);
        state = state.with_replica(Replica::new(db::Db::new(pool), max_lag));
        tracing::info!("OCM's reads across organizations go to the read replica while it lags at most {max_lag:?}");
    }
    if let Some(address) = args.metrics_listen {
        let metrics = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("cannot listen for metrics on {address}"))?;
        tracing::info!(address = %address, "metrics for Prometheus at http://{address}/metrics");
        // It stops with the process; nothing of it needs to finish.
        tokio::spawn(app::serve_metrics(metrics, state.clone(), std::future::pending()));
    }
    tracing::info!(address = %args.listen, "BMMS is listening on http://{}", args.listen);
    app::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped taking requests; shutting down");
    drop(database); // stops the private PostgreSQL, if we started it
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM (what orchestrators send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
