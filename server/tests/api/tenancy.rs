//! Row-level security as the app role: an organization sees and writes only its own rows.

use bmms_shared::OrgId;
use crate::helpers::spawn_app;
use bmms_server::db::OrgTx;
use bmms_shared::Role;
use sqlx::postgres::PgPoolOptions;
use uuid::Uuid;

async fn member_count(tx: &mut OrgTx) -> i64 {
    sqlx::query_scalar("select count(*) from memberships").fetch_one(&mut **tx).await.unwrap()
}

#[tokio::test]
async fn another_organizations_rows_are_invisible_and_unwritable() {
    let app = spawn_app().await;
    let (a, b) = (app.org_id("MILG").await, app.org_id("MOH").await);
    let ana = app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let ben = app.create_user("MOH", "ben", Role::FieldOfficer).await;

    let mut tx = OrgTx::begin(app.db(), a).await.unwrap();
    let visible: Vec<Uuid> = sqlx::query_scalar("select user_id from memberships").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(visible, vec![ana], "organization A sees only its own member");
    let audit_orgs: Vec<OrgId> = sqlx::query_scalar("select distinct org_id from audit_log").fetch_all(&mut *tx).await.unwrap();
    assert_eq!(audit_orgs, vec![a], "and only its own audit entries");

    // Moving A's membership into B, or writing a row for B, is refused by PostgreSQL.
    let moved = sqlx::query("update memberships set org_id = $1 where user_id = $2")
        .bind(b)
        .bind(ana)
        .execute(&mut *tx)
        .await;
    assert!(moved.unwrap_err().to_string().contains("row-level security"));
    drop(tx);

    // A user with no membership yet, so that only RLS can refuse the row.
    let carl = app.create_user("MOH", "carl", Role::FieldOfficer).await;
    sqlx::query("delete from memberships where user_id = $1").bind(carl).execute(&app.owner).await.unwrap();
    let mut tx = OrgTx::begin(app.db(), a).await.unwrap();
    let inserted = sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, 'supervisor')")
        .bind(b)
        .bind(carl)
        .execute(&mut *tx)
        .await;
    assert!(inserted.unwrap_err().to_string().contains("row-level security"));
    drop(tx);

    // Updating B's rows from A touches nothing: they are not there to update.
    let mut tx = OrgTx::begin(app.db(), a).await.unwrap();
    let changed = sqlx::query("update memberships set role = 'org_admin' where user_id = $1")
        .bind(ben)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 0);
    tx.commit().await.unwrap();
    let ben_role: String = sqlx::query_scalar("select role from memberships where user_id = $1")
        .bind(ben)
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(ben_role, "field_officer");
}

#[tokio::test]
async fn a_transaction_that_never_set_the_organization_fails_closed() {
    let app = spawn_app().await;
    let a = app.org_id("MILG").await;
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let carl = app.create_user("MILG", "carl", Role::FieldOfficer).await;
    sqlx::query("delete from memberships where user_id = $1").bind(carl).execute(&app.owner).await.unwrap();

    let mut tx = app.db().pool().begin().await.unwrap();
    let seen: i64 = sqlx::query_scalar("select count(*) from memberships").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(seen, 0, "no organization set: no tenant rows");
    let audit_seen: i64 = sqlx::query_scalar("select count(*) from audit_log").fetch_one(&mut *tx).await.unwrap();
    assert_eq!(audit_seen, 0);
    let inserted = sqlx::query("insert into memberships (org_id, user_id, role) values ($1, $2, 'supervisor')")
        .bind(a)
        .bind(carl)
        .execute(&mut *tx)
        .await;
    let err = inserted.unwrap_err().to_string();
    assert!(err.contains("row-level security"), "writing without an organization must fail: {err}");
}

#[tokio::test]
async fn one_pooled_connection_alternating_between_organizations_never_leaks() {
    let app = spawn_app().await;
    let (a, b) = (app.org_id("MILG").await, app.org_id("MOH").await);
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    app.create_user("MILG", "amy", Role::Supervisor).await;
    app.create_user("MOH", "ben", Role::FieldOfficer).await;

    let one = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(bmms_server::db::app_connect_options(None, &app.owner_options).unwrap())
        .await
        .unwrap();
    let db = bmms_server::db::Db::new(one);
    for round in 0..20 {
        let (org, expected) = if round % 2 == 0 { (a, 2) } else { (b, 1) };
        let mut tx = OrgTx::begin(&db, org).await.unwrap();
        assert_eq!(member_count(&mut tx).await, expected, "round {round}");
        // Half the rounds end in rollback, half in commit: neither may leave the org set.
        if round % 4 < 2 {
            tx.commit().await.unwrap();
        } else {
            drop(tx);
        }
        let leftover: i64 = sqlx::query_scalar("select count(*) from memberships").fetch_one(db.pool()).await.unwrap();
        assert_eq!(leftover, 0, "after round {round} the connection forgot the organization");
    }
}
