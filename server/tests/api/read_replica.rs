//! OCM's reads across organizations go to a streaming replica while it is fresh, and to
//! the primary while it lags: a primary and a real standby (pg_basebackup, streaming
//! replication) made for the test from the system's PostgreSQL binaries.

use bmms_server::app::AppState;
use bmms_server::db::embedded::{EmbeddedPostgres, OWNER};
use bmms_server::db::replica::Replica;
use bmms_server::db::{self, Db};
use bmms_shared::Role;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;
use std::str::FromStr;
use std::time::Duration;

use crate::helpers::{serve, test_settings, TestApp};
use crate::metrics::{samples, until, value};

/// A directory the `postgres` user can enter when the tests run as root.
fn reachable_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

async fn pool_on(cluster: &EmbeddedPostgres, app_role: bool) -> PgPool {
    let owner = PgConnectOptions::from_str(&cluster.url(OWNER, "postgres")).unwrap();
    let options = if app_role { db::app_connect_options(None, &owner).unwrap() } else { owner };
    PgPoolOptions::new().max_connections(2).connect_with(options).await.unwrap()
}

/// How many of OCM's reads each database answered: (replica, primary).
async fn reads(app: &TestApp) -> (f64, f64) {
    let samples = samples(&app.state.metrics.render(&app.state).await);
    let by = |database| value(&samples, "bmms_db_oversight_reads_total", &[("database", database)]);
    (by("replica"), by("primary"))
}

#[tokio::test]
async fn ocm_reads_go_to_a_fresh_replica_and_to_the_primary_while_it_lags() {
    let (primary_dir, standby_dir) = (reachable_dir(), reachable_dir());
    let (primary_path, standby_path) = (primary_dir.path().to_owned(), standby_dir.path().to_owned());
    let (primary, standby) = tokio::task::spawn_blocking(move || {
        let primary = EmbeddedPostgres::start(&primary_path, None).unwrap();
        let standby = primary.start_standby(&standby_path).expect("a streaming standby of the primary");
        (primary, standby)
    })
    .await
    .unwrap();
    let owner_options = PgConnectOptions::from_str(&primary.url(OWNER, "postgres")).unwrap();
    db::migrate(&owner_options).await.unwrap();
    let (owner, app_pool) = (pool_on(&primary, false).await, pool_on(&primary, true).await);
    let (standby_owner, replica_pool) = (pool_on(&standby, false).await, pool_on(&standby, true).await);

    let replica = Replica::new(Db::new(replica_pool), Duration::from_secs(1));
    let state = AppState::new(Db::new(app_pool), test_settings()).with_replica(replica);
    let app = serve(state, owner, owner_options).await;
    let replica = app.state.replica.clone().unwrap();
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("OCM", "olive", Role::OcmExecutive).await;
    let olive = app.sign_in("olive").await;
    let milg = app.org_id("MILG").await;
    let dashboard = format!("/api/v1/dashboard?org={}", milg.uuid());

    // Caught up: the dashboard of one organization is read on the replica.
    until("the replica is fresh", async || replica.if_fresh().is_some()).await;
    let answer = app.get(&dashboard, &olive).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(reads(&app).await, (1.0, 0.0), "(replica, primary)");

    // Replay paused while the primary writes: once the replica is more than a second
    // behind, it is left alone and the primary answers, with what was just written.
    sqlx::query("select pg_wal_replay_pause()").execute(&standby_owner).await.unwrap();
    app.create_user("MILG", "ben", Role::FieldOfficer).await;
    until("the lagging replica is left alone", async || replica.if_fresh().is_none()).await;
    assert_eq!(app.get(&dashboard, &olive).await.status(), 200);
    assert_eq!(reads(&app).await, (1.0, 1.0), "(replica, primary)");

    // Replay resumed: the replica catches up and is read again.
    sqlx::query("select pg_wal_replay_resume()").execute(&standby_owner).await.unwrap();
    until("the replica catches up", async || replica.if_fresh().is_some()).await;
    assert_eq!(app.get(&dashboard, &olive).await.status(), 200);
    assert_eq!(reads(&app).await, (2.0, 1.0), "(replica, primary)");
    drop(app);
    drop((standby, primary));
}
