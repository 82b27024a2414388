//! W8 budgets, at the size the budgets issue names: 44 organizations x 2,000 PPAs (W7's
//! proposals and submissions), each budgeted for 2026 by quarter and class, submitted,
//! recommended, approved and sent to Parliament; an allotment per PPA; 1,000,000 ledger
//! entries against them. Generated in SQL (as a data migration would), then measured
//! through the real server, warm: one organization's budget proposal with its compliance
//! check (2,000 PPAs), OCM's budget monitoring over every organization, and obligations
//! recorded by 20 writers at once on one allotment, which must never overdraw it.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dashboards::{percentiles, repeatedly, BENCH_ORGANIZATIONS};
use crate::harness::{Bench, Result, Session};
use crate::plans::{GENERATE as PLANS, PROPOSALS_PER_ORGANIZATION};

/// `$1`: the user who prepared (and released, reviewed...); `$2`: the head who submitted.
const GENERATE: &str = "
alter table ledger_entries disable trigger ledger_entries_move_balance;
insert into budget_calls (org_id, fiscal_year, message, issued_by, updated_by)
select id, 2026, 'The bench''s budget call.', $1, $1 from organizations where kind = 'mfbm';
insert into budget_call_deadlines (org_id, call_id, stage, due)
select c.org_id, c.id, s.stage, date '2025-03-01' + (s.n * 30)::int
from budget_calls c, unnest(array['ppa_preparation', 'bdp_certification', 'budget_submission', 'technical_review',
                                   'executive_approval', 'parliament_submission']) with ordinality as s(stage, n);
insert into budget_ceilings (org_id, call_id, moa_id, total)
select c.org_id, c.id, o.id, 100000000000000 from budget_calls c, bench_orgs o;
insert into budget_proposals (org_id, fiscal_year, status, prepared_by, prepared_at, submitted_by, submitted_at)
select o.id, 2026, 'submitted', $1, now(), $2, now() from bench_orgs o;
-- Each organization's latest submission of each of its proposals, as budgeted.
insert into budget_proposal_ppas (org_id, budget_proposal_id, proposal_id, submission_id, title, version, year_cost)
select s.org_id, b.id, s.proposal_id, s.id, coalesce(s.title, ''), s.version, 12 * 250000
from ppa_submissions s join budget_proposals b on b.org_id = s.org_id where not s.superseded;
insert into budget_lines (org_id, budget_proposal_id, proposal_id, quarter, class, amount)
select p.org_id, p.budget_proposal_id, p.proposal_id, q, c, 250000
from budget_proposal_ppas p, generate_series(1, 4) q, unnest(array['ps', 'mooe', 'co']) c;
insert into budget_reviews (org_id, budget_proposal_id, proposal_org_id, submitted_at, decision, comments, reviewed_by)
select (select id from organizations where kind = 'mfbm'), b.id, b.org_id, b.submitted_at, 'recommended', 'Bench.', $1 from budget_proposals b;
insert into budget_approvals (org_id, budget_proposal_id, proposal_org_id, submitted_at, approved_by)
select (select id from organizations where kind = 'ocm'), b.id, b.org_id, b.submitted_at, $1 from budget_proposals b;
insert into budget_parliament_submissions (org_id, fiscal_year, proposals, submitted_by)
select (select id from organizations where kind = 'mfbm'), 2026, array_agg(id), $1 from budget_proposals;
-- One allotment per PPA (Q1 MOOE), and twelve entries against each: eight obligations
-- and four disbursements, within it.
insert into allotments (org_id, fiscal_year, quarter, moa_id, proposal_id, class, amount, reference, released_by)
select (select id from organizations where kind = 'mfbm'), 2026, 1, p.org_id, p.proposal_id, 'mooe', 250000, 'SARO-' || p.proposal_id, $1
from budget_proposal_ppas p;
insert into ledger_entries (org_id, allotment_id, kind, amount, reference, recorded_by)
select a.moa_id, a.id, case when e <= 8 then 'obligation' else 'disbursement' end, 20000, 'E' || e, $1
from allotments a, generate_series(1, 12) e;
update ledger_balances b set obligated = t.obligated, disbursed = t.disbursed
from (select allotment_id, sum(amount) filter (where kind = 'obligation') as obligated,
             sum(amount) filter (where kind = 'disbursement') as disbursed
      from ledger_entries group by allotment_id) t
where t.allotment_id = b.allotment_id;
-- Budget monitoring's totals, as the entries' trigger (off for the bulk load) keeps them.
update budget_execution_totals t set obligated = s.obligated, disbursed = s.disbursed
from (select a.fiscal_year, a.moa_id, a.quarter, sum(b.obligated) as obligated, sum(b.disbursed) as disbursed
      from allotments a join ledger_balances b on b.allotment_id = a.id group by 1, 2, 3) s
where (t.fiscal_year, t.moa_id, t.quarter) = (s.fiscal_year, s.moa_id, s.quarter);
alter table ledger_entries enable trigger ledger_entries_move_balance;
analyze;
";

/// The figures of W8.
pub async fn w8_budgets(bench: Arc<Bench>) -> Result<Value> {
    bench.sign_in_as("MFBM", "bench.w8.mfbm", "mfbm_budget_officer").await?;
    let user: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'bench.w8.mfbm'").fetch_one(&bench.owner).await?;
    let executive = bench.sign_in_as("OCM", "bench.w8.executive", "ocm_executive").await?;
    let head: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'bench.w8.executive'").fetch_one(&bench.owner).await?;
    let started = Instant::now();
    let plans = BENCH_ORGANIZATIONS.to_owned() + &PLANS.replace("$1", &PROPOSALS_PER_ORGANIZATION.to_string()).replace("$2", &format!("'{user}'::uuid"));
    let budgets = GENERATE.replace("$1", &format!("'{user}'::uuid")).replace("$2", &format!("'{head}'::uuid"));
    // One script: the plans' temporary table of organizations lives on its connection.
    sqlx::raw_sql(&(plans + &budgets)).execute(&bench.owner).await?;
    for table in ["budget_lines", "budget_proposal_ppas", "allotments", "ledger_balances", "ledger_entries", "ppa_submissions"] {
        sqlx::query(&format!("vacuum analyze {table}")).execute(&bench.owner).await?;
    }
    let generated_seconds = started.elapsed().as_secs_f64();
    let count = |table: &'static str| {
        let owner = bench.owner.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}")).fetch_one(&owner).await }
    };
    let (lines, allotments, entries) = (count("budget_lines").await?, count("allotments").await?, count("ledger_entries").await?);
    println!("  generated in {generated_seconds:.0} s: {lines} budget lines, {allotments} allotments, {entries} ledger entries");

    // One organization's budget: its staff read it, with the compliance check.
    let (org_code, allotment): (String, uuid::Uuid) = sqlx::query_as(
        "select o.code, a.id from allotments a join organizations o on o.id = a.moa_id order by o.code limit 1",
    )
    .fetch_one(&bench.owner)
    .await?;
    let staff = bench.sign_in_as(&org_code, "bench.w8.staff", "supervisor").await?;
    let proposal = "/api/v1/budget-proposals/2026";
    let monitoring = "/api/v1/budget-monitoring?year=2026";
    repeatedly(&bench, &staff, proposal, 3).await?;
    repeatedly(&bench, &executive, monitoring, 5).await?;
    let compliance = percentiles(repeatedly(&bench, &staff, proposal, 20).await?);
    let overview = percentiles(repeatedly(&bench, &executive, monitoring, 100).await?);

    // Twenty writers at once on one allotment: a fresh one of ₱30,000, obligations of
    // ₱100 each, 20 rounds of 20: 300 fit, 100 are refused. Warm, as the other figures:
    // a first round on another allotment opens the client's and the server's connections.
    let fresh = |reference: &'static str| {
        sqlx::query_scalar::<_, uuid::Uuid>(
            "insert into allotments (org_id, fiscal_year, quarter, moa_id, proposal_id, class, amount, reference, released_by)
             select (select id from organizations where kind = 'mfbm'), 2026, 2, a.moa_id, a.proposal_id, 'co', 3000000, $3, $2
             from allotments a where a.id = $1 returning id",
        )
        .bind(allotment)
        .bind(user)
        .bind(reference)
        .fetch_one(&bench.owner)
    };
    let (warm_up, measured) = (fresh("SARO-W8-WARM").await?, fresh("SARO-W8").await?);
    obligations(&bench, &staff, warm_up, 1).await?;
    let (samples, statuses) = obligations(&bench, &staff, measured, 20).await?;
    let accepted = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 422).count();
    let (obligated, allotted): (i64, i64) =
        sqlx::query_as("select obligated, allotted from ledger_balances where allotment_id = $1").bind(measured).fetch_one(&bench.owner).await?;
    if obligated > allotted || accepted + refused != statuses.len() || obligated != accepted as i64 * 10000 {
        return Err(format!("the allotment was overdrawn or miscounted: {obligated} of {allotted}, {accepted} accepted, {refused} refused").into());
    }
    let mut sorted = samples.clone();
    sorted.sort();
    let p99 = (sorted[((sorted.len() as f64 - 1.0) * 0.99) as usize].as_secs_f64() * 10_000.0).round() / 10.0;
    let mut figures = percentiles(samples);
    figures["p99_ms"] = json!(p99);
    figures["accepted"] = json!(accepted);
    figures["refused"] = json!(refused);
    figures["obligated_of_allotted"] = json!(format!("{obligated} of {allotted}"));
    Ok(json!({
        "organizations": 44, "budget_lines": lines, "allotments": allotments, "ledger_entries": entries,
        "generated_seconds": generated_seconds.round(),
        "compliance_check_of_one_budget": compliance,
        "ocm_budget_monitoring": overview,
        "obligations_20_writers_one_allotment": figures,
    }))
}

/// `rounds` rounds of 20 obligations of ₱100 sent at once on `allotment`: how long each
/// took, and its status.
async fn obligations(bench: &Arc<Bench>, staff: &Session, allotment: uuid::Uuid, rounds: usize) -> Result<(Vec<Duration>, Vec<u16>)> {
    let mut samples: Vec<Duration> = Vec::new();
    let mut statuses: Vec<u16> = Vec::new();
    for round in 0..rounds {
        let requests = (0..20).map(|n| {
            let bench = bench.clone();
            async move {
                let body = json!({"allotment_id": allotment, "kind": "obligation", "amount": 10000, "reference": format!("W8-{round}-{n}")});
                let started = Instant::now();
                let answer = bench
                    .http
                    .post(format!("{}/api/v1/ledger", bench.direct))
                    .header("cookie", &staff.cookie)
                    .header("x-csrf-token", &staff.csrf)
                    .json(&body)
                    .send()
                    .await?;
                let status = answer.status().as_u16();
                answer.bytes().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>((started.elapsed(), status))
            }
        });
        for answer in futures_util::future::join_all(requests).await {
            let (took, status) = answer.map_err(|e| e.to_string())?;
            samples.push(took);
            statuses.push(status);
        }
    }
    Ok((samples, statuses))
}
