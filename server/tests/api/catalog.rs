//! The schema's safety net: whatever tables later migrations add, every one with an
//! org_id is under forced row-level security, and the app role has no way around it.

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_table_with_org_id_has_forced_row_level_security() {
    let app = spawn_app().await;
    let unprotected: Vec<String> = sqlx::query_scalar(
        "select c.relname::text
         from pg_class c
         join pg_namespace n on n.oid = c.relnamespace
         join pg_attribute a on a.attrelid = c.oid and a.attname = 'org_id' and not a.attisdropped
         where n.nspname not in ('pg_catalog', 'information_schema')
           and c.relkind in ('r', 'p')
           and not (c.relrowsecurity and c.relforcerowsecurity)",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(unprotected.is_empty(), "tables with org_id but without forced RLS: {unprotected:?}");

    let tenant_tables: i64 = sqlx::query_scalar(
        "select count(*) from pg_class c join pg_attribute a on a.attrelid = c.oid
         where a.attname = 'org_id' and c.relkind = 'r' and c.relforcerowsecurity",
    )
    .fetch_one(&app.owner)
    .await
    .unwrap();
    assert!(tenant_tables >= 2, "memberships and audit_log at least");
}

#[tokio::test]
async fn views_do_not_expose_tenant_tables() {
    // A view runs with its owner's rights and would step around RLS.
    let app = spawn_app().await;
    let views: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('v', 'm')",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(views.is_empty(), "views need a review for RLS bypass: {views:?}");
}

#[tokio::test]
async fn the_app_role_owns_nothing_and_cannot_bypass_rls() {
    let app = spawn_app().await;
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("select rolsuper, rolbypassrls from pg_roles where rolname = 'bmms_app'")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert!(!superuser && !bypass);
    let owned: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = 'bmms_app'
         union all
         select p.proname::text from pg_proc p join pg_roles r on r.oid = p.proowner where r.rolname = 'bmms_app'",
    )
    .fetch_all(&app.owner)
    .await
    .unwrap();
    assert!(owned.is_empty(), "bmms_app owns {owned:?}");
    let current: String = sqlx::query_scalar("select current_user::text").fetch_one(app.db().pool()).await.unwrap();
    assert_eq!(current, "bmms_app", "requests run as the app role");
}
