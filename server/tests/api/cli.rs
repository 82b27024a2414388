//! The admin commands, as an operator runs them.

use crate::helpers::spawn_app;
use bmms_server::audit::Actor;
use bmms_server::cli::{admin, demo};
use bmms_shared::{OrgKind, Role};

#[tokio::test]
async fn the_bangsamoro_organizations_are_seeded() {
    let app = spawn_app().await;
    let codes: Vec<String> = sqlx::query_scalar("select code from organizations").fetch_all(&app.owner).await.unwrap();
    for code in ["OCM", "BPDA", "MFBM", "OOBC", "MILG", "MOH", "MBHTE", "MSSD"] {
        assert!(codes.iter().any(|c| c == code), "{code} is missing");
    }
    assert!(codes.len() >= 40, "{} organizations", codes.len());
}

#[tokio::test]
async fn demo_users_of_every_role_can_sign_in() {
    let app = spawn_app().await;
    demo::run(app.db()).await.unwrap();
    let roles: Vec<String> = sqlx::query_scalar("select distinct role from memberships").fetch_all(&app.owner).await.unwrap();
    for role in Role::ALL {
        assert!(roles.contains(&role.as_str().to_owned()), "no demo user has {role}");
    }
    // Running it again changes nothing.
    demo::run(app.db()).await.unwrap();
    assert_eq!(app.count("users").await, demo::DEMO_USERS.len() as i64);
    // A demo password is printed, not stored: reset one to sign in with a known one.
    let username = demo::demo_username("OCM", Role::OcmExecutive);
    admin::reset_password(app.db(), &Actor::cli(), &username, crate::helpers::PASSWORD).await.unwrap();
    let browser = app.sign_in(&username).await;
    let me: serde_json::Value = app.get("/api/v1/me", &browser).await.json().await.unwrap();
    assert_eq!(me["organization"]["code"], "OCM");
    assert_eq!(me["role"], "ocm_executive");
}

#[tokio::test]
async fn a_new_organization_and_its_users_work_and_are_audited() {
    let app = spawn_app().await;
    admin::create_org(app.db(), &Actor::cli(), "BTEST", "Bangsamoro Test Office", OrgKind::Moa).await.unwrap();
    app.create_user("BTEST", "tess", Role::OrgAdmin).await;
    let browser = app.sign_in("tess").await;
    let me: serde_json::Value = app.get("/api/v1/me", &browser).await.json().await.unwrap();
    assert_eq!(me["organization"]["name"], "Bangsamoro Test Office");
    let report = bmms_server::audit::verify(app.db()).await.unwrap();
    assert!(report.broken.is_empty());
    // An organization's administrator sets up an authenticator app at the first sign-in.
    assert_eq!(report.entries, 5, "organization, user, password accepted, authenticator app set up, sign-in");
}

#[tokio::test]
async fn operator_mistakes_get_sentences_not_database_errors() {
    let app = spawn_app().await;
    let actor = Actor::cli();
    let duplicate = admin::create_org(app.db(), &actor, "MILG", "Another Ministry", OrgKind::Moa).await.unwrap_err();
    assert!(duplicate.to_string().contains("already exists"), "{duplicate}");
    let wrong_org = admin::create_user(app.db(), &actor, "MILG", "exec", "Exec", Role::OcmExecutive, "a long password 12").await.unwrap_err();
    assert!(wrong_org.to_string().contains("OCM"), "{wrong_org}");
    let no_org = admin::create_user(app.db(), &actor, "NOPE", "ana", "Ana", Role::FieldOfficer, "a long password 12").await.unwrap_err();
    assert!(no_org.to_string().contains("no organization with code NOPE"), "{no_org}");
    let short = admin::create_user(app.db(), &actor, "MILG", "ana", "Ana", Role::FieldOfficer, "short").await.unwrap_err();
    assert!(short.to_string().contains("at least"), "{short}");
    app.create_user("MILG", "ana", Role::FieldOfficer).await;
    let taken = admin::create_user(app.db(), &actor, "MOH", "ana", "Ana", Role::FieldOfficer, "a long password 12").await.unwrap_err();
    assert!(taken.to_string().contains("taken"), "{taken}");
    let nobody = admin::disable_user(app.db(), &actor, "nobody").await.unwrap_err();
    assert!(nobody.to_string().contains("no user named nobody"), "{nobody}");
}

#[tokio::test]
async fn bmms_audit_verify_names_the_tampered_entry_and_fails() {
    let app = spawn_app().await;
    app.create_user("MOH", "ana", Role::FieldOfficer).await;
    app.sign_in("ana").await;
    let url = app.owner_url();
    let verify = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_bmms"))
            .args(["audit", "verify"])
            .env("DATABASE_URL", &url)
            .output()
            .unwrap()
    };
    let intact = verify();
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("every chain is intact"));

    sqlx::query("update audit_log set actor = 'someone else' where seq = 2").execute(&app.owner).await.unwrap();
    let broken = verify();
    assert!(!broken.status.success());
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(out.contains("BROKEN  MOH entry #2: its content does not match its hash"), "{out}");
}
