//! The database out of reach for a moment: requests answer 503 with `Retry-After`, and
//! nobody is signed out by it.

use crate::chaos_proxy::{ChaosProxy, Upstream};
use crate::helpers::{admin_options, error_of, spawn_app_through};
use bmms_shared::Role;
use reqwest::header::RETRY_AFTER;
use sqlx::postgres::PgConnectOptions;

#[tokio::test]
async fn a_session_lookup_while_the_database_is_down_answers_503_and_the_session_survives() {
    let proxy = ChaosProxy::start(Upstream::of(&admin_options())).await;
    let port = proxy.addr.port();
    let app = spawn_app_through(
        |_| {},
        |options| async move {
            let mut through = PgConnectOptions::new().host("127.0.0.1").port(port).username(options.get_username()).password("");
            if let Some(database) = options.get_database() {
                through = through.database(database);
            }
            through
        },
    )
    .await;
    app.create_user("MILG", "ana", Role::Supervisor).await;
    let ana = app.sign_in("ana").await;
    assert_eq!(app.get("/api/v1/me", &ana).await.status(), 200);

    proxy.break_all();
    let answer = app.get("/api/v1/me", &ana).await;
    assert!(answer.headers().get(RETRY_AFTER).is_some(), "says when to come back");
    let (status, code, message) = error_of(answer).await;
    assert_eq!((status, code.as_str()), (503, "unavailable"), "{message}");
    assert!(message.contains("still signed in"), "{message}");

    proxy.mend();
    assert_eq!(app.get("/api/v1/me", &ana).await.status(), 200, "the session is still good");
    assert_eq!(app.count("sessions").await, 1);
}
