//! The execution ledger over real HTTP and PostgreSQL: MFBM releases allotments of the
//! enacted budget, up to what it appropriates; the ministry obligates and disburses
//! against them; twenty obligations at once on one allotment never overdraw it; a
//! reversal corrects an entry once; and random sequences of entries and reversals, run
//! concurrently, leave every balance equal to a recomputation from the entries, with no
//! limit crossed. Replay one sequence with BMMS_LEDGER_SEED=<seed>.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::budget_proposals::{fiscal_year, submitted_budget, Ministry};
use crate::helpers::{error_of, Browser};

/// The enacted budget: MOH's, recommended, approved by OCM and submitted to Parliament.
async fn enacted() -> (Ministry, Value) {
    let m = submitted_budget().await;
    let year = fiscal_year();
    let review = json!({"decision": "recommended", "comments": "Within the ceiling."});
    assert_eq!(m.app.request(Method::POST, &format!("/api/v1/budget-submissions/{year}/MOH/review"), Some(&m.mara), Some(review)).await.status(), 201);
    m.app.create_user("OCM", "olive", bmms_shared::Role::OcmExecutive).await;
    let olive = m.app.sign_in("olive").await;
    assert_eq!(m.app.request(Method::POST, &format!("/api/v1/budget-approvals/{year}/MOH"), Some(&olive), None).await.status(), 201);
    let program = m.app.request(Method::POST, &format!("/api/v1/expenditure-program/{year}/parliament"), Some(&m.mara), None).await;
    assert_eq!(program.status(), 201);
    let program: Value = program.json().await.unwrap();
    (m, program)
}

fn release(program: &Value, class: &str, quarter: i64, amount: i64) -> Value {
    json!({"fiscal_year": fiscal_year(), "quarter": quarter, "organization_code": "MOH", "proposal_id": program["lines"][0]["proposal_id"],
           "class": class, "amount": amount, "reference": format!("SARO-{quarter}-{class}")})
}

async fn post(m: &Ministry, who: &Browser, path: &str, body: Value) -> reqwest::Response {
    m.app.request(Method::POST, path, Some(who), Some(body)).await
}

async fn set_threshold(m: &Ministry, who: &Browser, threshold: i64) -> reqwest::Response {
    m.app.request(Method::PUT, "/api/v1/budget-monitoring/threshold", Some(who), Some(json!({"threshold": threshold}))).await
}

fn entry(allotment: &str, kind: &str, amount: i64, reference: &str) -> Value {
    json!({"allotment_id": allotment, "kind": kind, "amount": amount, "reference": reference})
}

#[tokio::test]
async fn allotments_follow_the_enacted_budget_and_twenty_obligations_at_once_never_overdraw_one() {
    let (m, program) = enacted().await;
    // The PPA's MOOE is ₱300,000 (Q2); release ₱200,000 of it.
    let released = post(&m, &m.mara, "/api/v1/allotments", release(&program, "mooe", 2, 200_000_00)).await;
    assert_eq!(released.status(), 201);
    let allotment: Value = released.json().await.unwrap();
    let id = allotment["id"].as_str().unwrap().to_owned();
    let (status, _, message) = error_of(post(&m, &m.mara, "/api/v1/allotments", release(&program, "mooe", 3, 100_000_01)).await).await;
    assert_eq!(status, 422);
    assert!(message.contains("release at most ₱100,000.00"), "{message}");
    assert_eq!(error_of(post(&m, &m.mara, "/api/v1/allotments", release(&program, "ps", 1, 1)).await).await.1, "not_appropriated");
    assert_eq!(error_of(post(&m, &m.hana, "/api/v1/allotments", release(&program, "mooe", 1, 1)).await).await.1, "not_allowed");

    // Twenty obligations of ₱15,000 at once: thirteen fit in ₱200,000.
    let attempts = (0..20).map(|n| {
        let (app, who, body) = (&m.app, m.sofia.clone(), entry(&id, "obligation", 15_000_00, &format!("ORS-{n}")));
        async move { app.request(Method::POST, "/api/v1/ledger", Some(&who), Some(body)).await.status().as_u16() }
    });
    let mut statuses = futures_util::future::join_all(attempts).await;
    statuses.sort();
    assert_eq!(statuses, [[201; 13].as_slice(), [422; 7].as_slice()].concat());
    let listed: Value = m.app.get(&format!("/api/v1/allotments?year={}", fiscal_year()), &m.sofia).await.json().await.unwrap();
    assert_eq!((listed["items"][0]["allotted"].as_i64(), listed["items"][0]["obligated"].as_i64()), (Some(200_000_00), Some(195_000_00)));

    // Disbursements stay within obligations; a reversal corrects an entry, once.
    let (status, code, message) = error_of(post(&m, &m.sofia, "/api/v1/ledger", entry(&id, "disbursement", 195_000_01, "DV-1")).await).await;
    assert_eq!((status, code.as_str()), (422, "over_obligation"), "{message}");
    let paid: Value = post(&m, &m.sofia, "/api/v1/ledger", entry(&id, "disbursement", 100_000_00, "DV-1")).await.json().await.unwrap();
    assert_eq!(paid["balance"]["disbursed"].as_i64(), Some(100_000_00));
    let obligation: i64 = sqlx::query_scalar("select min(id) from ledger_entries where kind = 'obligation'").fetch_one(&m.app.owner).await.unwrap();
    let reverse = format!("/api/v1/ledger/{obligation}/reverse");
    let reversed: Value = post(&m, &m.sofia, &reverse, json!({"reason": "Recorded twice."})).await.json().await.unwrap();
    assert_eq!((reversed["amount"].as_i64(), reversed["balance"]["obligated"].as_i64()), (Some(-15_000_00), Some(180_000_00)));
    assert_eq!(error_of(post(&m, &m.sofia, &reverse, json!({"reason": "Again."})).await).await.1, "already_reversed");
    let reversal = reversed["id"].as_i64().unwrap();
    assert_eq!(error_of(post(&m, &m.sofia, &format!("/api/v1/ledger/{reversal}/reverse"), json!({"reason": "Undo."})).await).await.0, 404);
    assert_eq!(error_of(post(&m, &m.sofia, &reverse, json!({"reason": " "})).await).await.0, 422);
    for bad in [entry(&id, "refund", 1, "X"), entry(&id, "obligation", 0, "X"), entry(&id, "obligation", -5, "X"), entry(&id, "obligation", 1, " ")] {
        assert_eq!(error_of(post(&m, &m.sofia, "/api/v1/ledger", bad.clone()).await).await.0, 422, "{bad}");
    }
    // Another ministry has no such allotment; OCM reads but records nothing.
    m.app.create_user("MILG", "milo", bmms_shared::Role::OrgAdmin).await;
    let milo = m.app.sign_in("milo").await;
    assert_eq!(error_of(post(&m, &milo, "/api/v1/ledger", entry(&id, "obligation", 1, "ORS-X")).await).await.0, 404);
    let olive = m.app.sign_in("olive").await;
    assert_eq!(error_of(post(&m, &olive, "/api/v1/ledger", entry(&id, "obligation", 1, "ORS-X")).await).await.1, "read_only_role");
    // Monitoring: OCM sees the enacted budget against what was released, obligated and
    // disbursed; MOH sees its own; MILG, with no budget, nothing.
    let year = fiscal_year();
    let monitoring: Value = m.app.get(&format!("/api/v1/budget-monitoring?year={year}"), &olive).await.json().await.unwrap();
    let totals = &monitoring["totals"];
    assert_eq!(
        (totals["planned"].as_i64(), totals["released"].as_i64(), totals["obligated"].as_i64(), totals["disbursed"].as_i64()),
        (Some(1_300_000_00), Some(200_000_00), Some(180_000_00), Some(100_000_00))
    );
    assert_eq!((monitoring["by_quarter"][1]["planned"].as_i64(), monitoring["by_quarter"][1]["released"].as_i64()), (Some(300_000_00), Some(200_000_00)));
    let own: Value = m.app.get(&format!("/api/v1/budget-monitoring?year={year}"), &m.sofia).await.json().await.unwrap();
    assert_eq!(own["by_organization"].as_array().unwrap().len(), 1);
    let other: Value = m.app.get(&format!("/api/v1/budget-monitoring?year={year}"), &milo).await.json().await.unwrap();
    assert_eq!(other["by_organization"], json!([]), "another ministry sees nothing of MOH's");
    assert_eq!(error_of(m.app.get(&format!("/api/v1/budget-monitoring?year={year}&threshold=101"), &olive).await).await.0, 422);
    let csv = m.app.get(&format!("/api/v1/budget-monitoring/export?year={year}&format=csv"), &olive).await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(csv.lines().nth(2).unwrap().ends_with(",2,300000.00,200000.00,180000.00,100000.00"), "{csv}");
    // OCM sets the alerts' threshold for everyone who reads monitoring; nobody else may.
    assert_eq!(set_threshold(&m, &olive, 95).await.status(), 200);
    let own: Value = m.app.get(&format!("/api/v1/budget-monitoring?year={year}"), &m.sofia).await.json().await.unwrap();
    assert_eq!(own["threshold"], 95, "MOH's monitoring alerts at OCM's threshold");
    assert_eq!(error_of(set_threshold(&m, &m.sofia, 10).await).await.1, "not_allowed");
    assert_eq!(error_of(set_threshold(&m, &olive, 101).await).await.0, 422);
    // The dashboards' first tiles: the budget of the government for OCM, of MOH for MOH,
    // none for a ministry without one.
    let budget = |dashboard: Value| dashboard["figures"]["budget"].clone();
    let executed = json!({"fiscal_year": year, "enacted": 1_300_000_00, "released": 200_000_00, "obligated": 180_000_00, "disbursed": 100_000_00});
    assert_eq!(budget(m.app.get("/api/v1/dashboard", &olive).await.json().await.unwrap()), executed);
    assert_eq!(budget(m.app.get("/api/v1/dashboard", &m.sofia).await.json().await.unwrap()), executed);
    assert_eq!(budget(m.app.get("/api/v1/dashboard", &milo).await.json().await.unwrap()), Value::Null);

    // Entries are never edited: the application's role may not.
    let edited = sqlx::query("update ledger_entries set amount = 1").execute(m.app.db().pool()).await;
    assert!(edited.is_err(), "an entry is corrected by a reversal, not an edit");
}

#[tokio::test]
async fn random_concurrent_entries_and_reversals_keep_every_balance_equal_to_its_entries() {
    let seed: u64 = std::env::var("BMMS_LEDGER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261207);
    let (m, program) = enacted().await;
    let mut allotments = Vec::new();
    for (class, quarter, amount) in [("mooe", 2, 120_000_00), ("co", 3, 400_000_00), ("co", 4, 300_000_00)] {
        let released: Value = post(&m, &m.mara, "/api/v1/allotments", release(&program, class, quarter, amount)).await.json().await.unwrap();
        allotments.push(released["id"].as_str().unwrap().to_owned());
    }
    let mut rng = SmallRng::seed_from_u64(seed);
    for round in 0..12 {
        // Eight requests at once: entries of random kinds and sizes, and reversals of
        // earlier entries (some already reversed, some reversals themselves).
        let recorded: Vec<i64> = sqlx::query_scalar("select id from ledger_entries").fetch_all(&m.app.owner).await.unwrap();
        let requests: Vec<(String, Value)> = (0..8)
            .map(|n| {
                if !recorded.is_empty() && rng.gen_bool(0.25) {
                    let id = recorded[rng.gen_range(0..recorded.len())];
                    (format!("/api/v1/ledger/{id}/reverse"), json!({"reason": format!("seed {seed} round {round} #{n}")}))
                } else {
                    let allotment = &allotments[rng.gen_range(0..allotments.len())];
                    let kind = if rng.gen_bool(0.5) { "obligation" } else { "disbursement" };
                    (("/api/v1/ledger").to_owned(), entry(allotment, kind, rng.gen_range(1..60_000_00), &format!("R{round}-{n}")))
                }
            })
            .collect();
        let answers = futures_util::future::join_all(requests.iter().map(|(path, body)| {
            let (app, who) = (&m.app, m.sofia.clone());
            async move { app.request(Method::POST, path, Some(&who), Some(body.clone())).await.status().as_u16() }
        }))
        .await;
        assert!(answers.iter().all(|s| matches!(s, 201 | 404 | 409 | 422)), "seed {seed} round {round}: {answers:?}");
    }
    let recomputed: Vec<(String, bool)> = sqlx::query_as(
        "select b.allotment_id::text,
                b.obligated = coalesce((select sum(amount) from ledger_entries e where e.allotment_id = b.allotment_id and kind = 'obligation'), 0)
            and b.disbursed = coalesce((select sum(amount) from ledger_entries e where e.allotment_id = b.allotment_id and kind = 'disbursement'), 0)
            and 0 <= b.disbursed and b.disbursed <= b.obligated and b.obligated <= b.allotted
         from ledger_balances b",
    )
    .fetch_all(&m.app.owner)
    .await
    .unwrap();
    assert_eq!(recomputed.len(), 3);
    for (allotment, holds) in recomputed {
        assert!(holds, "seed {seed}: allotment {allotment}'s balance is not its entries' sum within its limits");
    }
    // Budget monitoring's totals (kept by triggers) are the balances' sums, each quarter.
    let quarters: Vec<(i16, bool)> = sqlx::query_as(
        "select t.quarter, (t.released, t.obligated, t.disbursed) = (s.allotted, s.obligated, s.disbursed)
         from budget_execution_totals t,
              lateral (select sum(b.allotted) as allotted, sum(b.obligated) as obligated, sum(b.disbursed) as disbursed
                       from allotments a join ledger_balances b on b.allotment_id = a.id where a.quarter = t.quarter and a.moa_id = t.moa_id) s
         where t.released > 0 order by 1",
    )
    .fetch_all(&m.app.owner)
    .await
    .unwrap();
    assert_eq!(quarters.iter().map(|(q, _)| *q).collect::<Vec<_>>(), [2, 3, 4], "seed {seed}: the released quarters");
    for (quarter, holds) in quarters {
        assert!(holds, "seed {seed}: the totals of Q{quarter} are not the sums of its balances");
    }
    // Each entry and reversal is in MOH's audit chain, unbroken.
    let audited: i64 = sqlx::query_scalar("select count(*) from audit_log where action in ('ledger.record', 'ledger.reverse')").fetch_one(&m.app.owner).await.unwrap();
    let report = bmms_server::audit::verify(m.app.db()).await.unwrap();
    assert!(report.broken.is_empty(), "seed {seed}: {:?}", report.broken);
    let entries: i64 = sqlx::query_scalar("select count(*) from ledger_entries").fetch_one(&m.app.owner).await.unwrap();
    assert_eq!(audited, entries, "seed {seed}: every entry audited");
    assert!(entries > 10, "seed {seed}: the sequence recorded something ({entries} entries)");
}
