//! W7 plans, at the size the plans issue names: 44 organizations x 2,000 PPA proposals,
//! each with 10 indicators and 20 budget lines, all submitted to BPDA: a fifth sent back
//! once and submitted again, and of the latest versions about half certified and the rest
//! waiting. The rows are generated in SQL (as a data migration would), then measured
//! through the real server, warm, as BPDA's planner: the queue, one submission's review,
//! the year's Annual Investment Program and its CSV export, and scoring a proposal
//! (`POST /bdp/score`: the framework read from PostgreSQL, then the score); and as OCM,
//! the implementation view with two monitoring tasks pointing at every other PPA.

use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Instant;

use crate::dashboards::{percentiles, repeatedly, BENCH_ORGANIZATIONS};
use crate::harness::{Bench, Result};

pub const PROPOSALS_PER_ORGANIZATION: i64 = 2_000;

/// `$1`: proposals per organization; `$2`: the user who submits and decides.
pub const GENERATE: &str = "
-- The AIP's totals are summed once at the end, as a data migration would: a trigger adding
-- each of 100,000 rows to the same few totals in one transaction would take minutes.
alter table ppa_submissions disable trigger ppa_submissions_aip;
insert into signing_keys (id, public_key) values ('00000000000000be', decode(repeat('be', 32), 'hex'));
create temporary table bench_ppas as
select o.id as org_id, gen_random_uuid() as id, g, o.n,
       (array['S1', 'S2', 'S3'])[1 + g % 3] as goal,
       (array['1908801001', '1903601001', '1900702001', '1908703000'])[1 + (g + o.n) % 4] as place,
       (array['1908800000', '1903600000', '1900700000', '1908700000'])[1 + (g + o.n) % 4] as province,
       array[md5(o.n || '-' || g)] as heads
from bench_orgs o cross join generate_series(1, $1) g;
create temporary table bench_content as
select id, jsonb_build_object('title', 'PPA ' || n || '-' || g, 'ppa_type', (array['program', 'project', 'activity'])[1 + g % 3],
           'sector', (array['social_services', 'economic_services', 'general_public_services'])[1 + g % 3],
           'description', 'A generated proposal.', 'goals', jsonb_build_array(goal), 'places', jsonb_build_array(place),
           'beneficiaries', 100 + g % 3000)
         || (select jsonb_object_agg('indicator.' || i || '.code', goal || '.' || (1 + i % 2)) from generate_series(1, 10) i)
         || (select jsonb_object_agg('indicator.' || i || '.contribution', i) from generate_series(1, 10) i)
         || (select jsonb_object_agg('cost.' || (2026 + c % 3) || '.q' || (1 + c % 4) || '.' || (array['ps', 'mooe', 'co'])[1 + c % 3],
                                     100000 * (1 + (g + c) % 50)) from generate_series(0, 19) c)
         || jsonb_build_object('milestone.1.title', 'Works started', 'milestone.1.due', (date '2026-01-15' + g % 700)::text,
                               'milestone.2.title', 'Works finished', 'milestone.2.due', (date '2026-09-01' + g % 900)::text) as content
from bench_ppas;
insert into ppa_proposals (org_id, id, status, title, ppa_type, goals, places, beneficiaries, total_cost, cost_by_year, content, heads,
                           start_date, end_date)
select p.org_id, p.id, case when p.g % 5 in (1, 2) then 'certified' else 'submitted' end, c.content ->> 'title', c.content ->> 'ppa_type',
       array[p.goal], array[p.place], 100 + p.g % 3000, 0, '{}', c.content, p.heads, date '2026-01-01', date '2027-06-30' + p.g % 365
from bench_ppas p join bench_content c on c.id = p.id;
-- Monitoring tasks point at half of the PPAs, two each, changed over the last 30 days.
insert into monitoring_tasks (org_id, id, status, title, ppa, site, due_date, progress_percent, ppa_id, updated_at)
select p.org_id, gen_random_uuid(), (array['todo', 'in_progress', 'done'])[1 + (p.g + t) % 3], 'Visit ' || t, 'PPA ' || p.g, 'Site',
       date '2026-03-01' + (p.g * t) % 500, (p.g * 7 + t) % 101, p.id, now() - interval '1 day' * ((p.g + t) % 30)
from bench_ppas p cross join generate_series(1, 2) t where p.g % 2 = 0;
-- Version 1 of every proposal; a fifth were sent back and came again as version 2.
insert into ppa_submissions (org_id, proposal_id, version, heads, title, ppa_type, sector, score, total_cost, submitted_by, submitted_at,
                             goals, provinces, cost_by_year)
select p.org_id, p.id, v, case when v = 1 and p.g % 5 = 0 then array[md5('v1' || p.n || '-' || p.g)] else p.heads end,
       c.content ->> 'title', c.content ->> 'ppa_type', c.content ->> 'sector', 7000 + p.g % 3000, 6000000, $2, now() - interval '1 hour' * (p.g + v),
       array[p.goal], array[p.province],
       jsonb_build_object('2026', jsonb_build_array(2000000, 2000000, 1000000), '2027', jsonb_build_array(500000, 500000, 0))
from bench_ppas p join bench_content c on c.id = p.id
cross join generate_series(1, 2) v where v = 1 or p.g % 5 = 0;
insert into ppa_submission_contents (org_id, submission_id, content, components)
select s.org_id, s.id, c.content, '[]' from ppa_submissions s join bench_content c on c.id = s.proposal_id;
insert into ppa_decisions (org_id, submission_id, proposal_org_id, proposal_id, decision, reasons, score, components,
                           certificate, key_id, decided_by)
select (select id from organizations where kind = 'bpda'), s.id, s.org_id, s.proposal_id,
       case when s.version = 1 and p.g % 5 = 0 then 'returned' else 'certified' end,
       case when s.version = 1 and p.g % 5 = 0 then 'Revise the costs.' else '' end, 8500, '[]',
       case when s.version = 1 and p.g % 5 = 0 then null else '{}'::jsonb end,
       case when s.version = 1 and p.g % 5 = 0 then null else '00000000000000be' end, $2
from ppa_submissions s join bench_ppas p on p.id = s.proposal_id
where (s.version = 1 and p.g % 5 = 0) or p.g % 5 in (1, 2);
alter table ppa_submissions enable trigger ppa_submissions_aip;
select aip_rebuild();
analyze;
";

pub async fn w7_plans(bench: Arc<Bench>) -> Result<Value> {
    let planner = bench.sign_in_as("BPDA", "bench.w7.planner", "bpda_planner").await?;
    let user: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'bench.w7.planner'").fetch_one(&bench.owner).await?;
    let started = Instant::now();
    let script = BENCH_ORGANIZATIONS.to_owned()
        + &GENERATE.replace("$1", &PROPOSALS_PER_ORGANIZATION.to_string()).replace("$2", &format!("'{user}'::uuid"));
    sqlx::raw_sql(&script).execute(&bench.owner).await?;
    // As autovacuum leaves the tables in use: the triggers' updates cleaned up.
    for table in ["ppa_submissions", "ppa_submission_contents", "ppa_decisions", "ppa_proposals", "monitoring_tasks", "ppa_implementation", "aip_lines", "aip_totals"] {
        sqlx::query(&format!("vacuum analyze {table}")).execute(&bench.owner).await?;
    }
    let generated_seconds = started.elapsed().as_secs_f64();
    let count = |table: &'static str| {
        let owner = bench.owner.clone();
        async move { sqlx::query_scalar::<_, i64>(&format!("select count(*) from {table}")).fetch_one(&owner).await }
    };
    let (proposals, submissions, decisions) = (count("ppa_proposals").await?, count("ppa_submissions").await?, count("ppa_decisions").await?);
    println!("  generated in {generated_seconds:.0} s: {proposals} proposals, {submissions} submissions, {decisions} decisions");

    let pending: uuid::Uuid = sqlx::query_scalar(
        "select s.id from ppa_submissions s where not exists (select 1 from ppa_decisions d where d.submission_id = s.id) limit 1",
    )
    .fetch_one(&bench.owner)
    .await?;
    let review = format!("/api/v1/submissions/{pending}");
    let aip = "/api/v1/aip?year=2026";
    for path in ["/api/v1/proposals/queue", aip, review.as_str()] {
        repeatedly(&bench, &planner, path, 5).await?;
    }
    let score = score_requests(&bench, &planner, 200).await?;
    // OCM's implementation view, as an executive (every organization) and an analyst
    // opening one PPA.
    let executive = bench.sign_in_as("OCM", "bench.w7.executive", "ocm_executive").await?;
    let analyst = bench.sign_in_as("OCM", "bench.w7.analyst", "ocm_analyst").await?;
    let (tracked_org, tracked): (uuid::Uuid, uuid::Uuid) =
        sqlx::query_as("select org_id, ppa_id from monitoring_tasks where ppa_id is not null limit 1").fetch_one(&bench.owner).await?;
    let opened = format!("/api/v1/proposals/{tracked}/implementation?org={tracked_org}");
    let implementation = "/api/v1/implementation";
    let at_risk = "/api/v1/implementation?at_risk=true&status=certified";
    for (who, path) in [(&executive, implementation), (&executive, at_risk), (&analyst, opened.as_str())] {
        repeatedly(&bench, who, path, 5).await?;
    }
    let aip_answer: Value = bench.http.get(format!("{}{aip}", bench.base)).header("cookie", &planner.cookie).send().await?.json().await?;
    Ok(json!({
        "organizations": 44, "proposals": proposals, "submissions": submissions, "decisions": decisions,
        "indicators_per_proposal": 10, "budget_lines_per_proposal": 20, "generated_seconds": generated_seconds.round(),
        "aip_2026_ppas": aip_answer["rows_total"],
        "queue": percentiles(repeatedly(&bench, &planner, "/api/v1/proposals/queue", 100).await?),
        "review": percentiles(repeatedly(&bench, &planner, &review, 100).await?),
        "aip": percentiles(repeatedly(&bench, &planner, aip, 100).await?),
        "aip_csv_export": percentiles(repeatedly(&bench, &planner, "/api/v1/aip/export?year=2026&format=csv", 10).await?),
        "score": score,
        "implementation": percentiles(repeatedly(&bench, &executive, implementation, 100).await?),
        "implementation_at_risk_certified": percentiles(repeatedly(&bench, &executive, at_risk, 100).await?),
        "implementation_of_one_ppa": percentiles(repeatedly(&bench, &analyst, &opened, 100).await?),
        "tasks_pointing_at_ppas": count("monitoring_tasks").await?,
    }))
}

/// `POST /api/v1/bdp/score` of a proposal of 3 goals, 10 indicators and 20 places.
async fn score_requests(bench: &Bench, session: &crate::harness::Session, times: usize) -> Result<Value> {
    let outline = json!({
        "goals": ["S1", "S2", "S3"],
        "indicators": (1..=10).map(|i| (format!("S{}.{}", 1 + i % 3, 1 + i % 2), json!(i))).collect::<serde_json::Map<_, _>>(),
        "places": (1..=20).map(|i| format!("19088010{i:02}")).collect::<Vec<_>>(),
        "beneficiaries": 1500,
    });
    let mut samples = Vec::with_capacity(times);
    for _ in 0..times {
        let started = Instant::now();
        let response = bench
            .http
            .post(format!("{}/api/v1/bdp/score", bench.base))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .json(&outline)
            .send()
            .await?;
        let status = response.status();
        response.bytes().await?;
        if !status.is_success() {
            return Err(format!("POST /api/v1/bdp/score answered {status}").into());
        }
        samples.push(started.elapsed());
    }
    Ok(percentiles(samples))
}
