//! Sync benchmarks against the real server (a `bmms serve` process) and PostgreSQL on
//! loopback, through a byte-counting TCP proxy so that HTTP framing is counted. Prints
//! a table and JSON, and writes both into docs/benchmarks.md. Run with `scripts/bench`.
//!
//! W1 reconnect: 500 documents on a device, 5 fields edited in each of 50 offline, one sync.
//! W2 conflict storm: 5 devices, 20 shared documents, 30 % of fields edited on several.
//! W3 cold start: a new device receives 1,000 and then 10,000 documents.
//! W4 hot documents: 5 devices keep editing 20 documents, with and without the document cache.
//! W5 load: 1,000 devices, each 5 documents x 5 edits, 50 at a time.
//! (W6 dashboards, H1/H2 hostile input, W7 plans, W8 budgets and the field figures over an
//! emulated 2G link run alone: BMMS_BENCH_ONLY.)

mod ab;
mod baseline;
mod budget;
mod dashboards;
mod field;
mod field_photo;
mod field_week;
mod harness;
mod hostile;
mod plans;
mod workloads;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::Arc;
use tokio::io::AsyncBufReadExt;
use uuid::Uuid;

use harness::{proxy, Bench, Result, Wire};
use workloads::{w1_reconnect, w2_conflict_storm, w3_cold_start, w4_hot_documents, w5_load};

#[tokio::main]
async fn main() -> Result<()> {
    let admin_url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL (scripts/bench does)")?;
    let bmms = std::env::var("BMMS_BIN").unwrap_or_else(|_| "target/release/bmms".into());
    let name = format!("bmms_bench_{}", Uuid::new_v4().simple());
    let database_url = database_url_named(&admin_url, &name);

    let (mut server, bench) = launch(&bmms, &database_url, 5_000).await?;
    // The same database behind a second server that keeps no documents in memory, to see
    // what the cache is worth (W4).
    let (mut uncached_server, uncached) = launch(&bmms, &database_url, 0).await?;

    let mut rng = SmallRng::seed_from_u64(2026);
    // BMMS_BENCH_ONLY=dashboards runs only W6 (issue 6), prints it and writes its own section.
    if std::env::var("BMMS_BENCH_ONLY").as_deref() == Ok("dashboards") {
        println!("W6 dashboards (generating 2,000,000 rows) ...");
        let mut w6 = dashboards::w6_dashboards(bench.clone()).await?;
        w6["baseline"] = baseline::measure(&bench, &admin_url).await?;
        let table = dashboards_table(&w6);
        println!("\n{table}\n{}", serde_json::to_string_pretty(&w6)?);
        write_section("dashboard-bench", "Dashboards (issue 6)", "BMMS_BENCH_ONLY=dashboards scripts/bench", &table, &w6)?;
        server.kill().await.ok();
        uncached_server.kill().await.ok();
        return Ok(());
    }
    // BMMS_BENCH_ONLY=budgets runs only W8 (issue 15), prints it and writes its own section.
    if std::env::var("BMMS_BENCH_ONLY").as_deref() == Ok("budgets") {
        uncached_server.kill().await.ok();
        println!("W8 budgets (generating 88,000 budgeted PPAs and 1,000,000 ledger entries) ...");
        let mut w8 = budget::w8_budgets(bench.clone()).await?;
        w8["baseline"] = baseline::measure(&bench, &admin_url).await?;
        let o = &w8["obligations_20_writers_one_allotment"];
        let table = format!(
            "| figure | measured | target |\n|---|---|---|\n\
             | data | {} organizations, {} budget lines, {} allotments, {} ledger entries | |\n\
             | one organization's budget (2,000 PPAs) with its compliance check, p50 / p95 | {} ms / {} ms | ≤ 200 ms |\n\
             | OCM's budget monitoring (every organization, by quarter, alerts) p50 / p95, warm | {} ms / {} ms | p95 ≤ 50 ms |\n\
             | recording an obligation, 20 writers at once on one allotment, p50 / p95 / p99 | {} ms / {} ms / {} ms | p99 ≤ 50 ms |\n\
             | of which accepted / refused (the allotment fits 300), obligated at the end | {} / {} ({}) | never an overdraw |\n\
             {}",
            w8["organizations"], w8["budget_lines"], w8["allotments"], w8["ledger_entries"],
            w8["compliance_check_of_one_budget"]["p50_ms"], w8["compliance_check_of_one_budget"]["p95_ms"],
            w8["ocm_budget_monitoring"]["p50_ms"], w8["ocm_budget_monitoring"]["p95_ms"],
            o["p50_ms"], o["p95_ms"], o["p99_ms"], o["accepted"], o["refused"], o["obligated_of_allotted"],
            baseline::rows(&w8["baseline"], 0),
        );
        println!("\n{table}\n{}", serde_json::to_string_pretty(&w8)?);
        write_section("budgets-server-bench", "Budgets through the server (issue 15)", "BMMS_BENCH_ONLY=budgets scripts/bench", &table, &w8)?;
        server.kill().await.ok();
        return Ok(());
    }

    // BMMS_BENCH_ONLY=field runs only the field figures (issue 18) over an emulated 2G link.
    if std::env::var("BMMS_BENCH_ONLY").as_deref() == Ok("field") {
        uncached_server.kill().await.ok();
        println!("Field figures (seeding 100,000 assessments, then 2G and slow 2G) ...");
        let mut figures = field::field_figures(bench.clone()).await?;
        figures["baseline"] = baseline::measure(&bench, &admin_url).await?;
        let table = format!("{}\n{}", field::table(&figures), baseline::rows(&figures["baseline"], 1));
        println!("\n{table}\n{}", serde_json::to_string_pretty(&figures)?);
        write_section("field-bench", "Field sync over 2G (issue 18)", "BMMS_BENCH_ONLY=field scripts/bench", &table, &figures)?;
        server.kill().await.ok();
        return Ok(());
    }
    // BMMS_BENCH_ONLY=plans runs only W7 (issue 14), prints it and writes its own section.
    if std::env::var("BMMS_BENCH_ONLY").as_deref() == Ok("plans") {
        uncached_server.kill().await.ok();
        println!("W7 plans (generating 88,000 proposals) ...");
        let mut w7 = plans::w7_plans(bench.clone()).await?;
        w7["baseline"] = baseline::measure(&bench, &admin_url).await?;
        let table = format!(
            "| figure | measured | target |\n|---|---|---|\n\
             | data | {} organizations, {} proposals (10 indicators, 20 budget lines each), {} submissions, {} decisions; {} PPAs in the 2026 AIP | |\n\
             | BPDA's queue p50 / p95, warm | {} ms / {} ms | p95 ≤ 100 ms |\n\
             | the AIP for 2026 (totals over every PPA, the 500 largest listed) p50 / p95, warm | {} ms / {} ms | p95 ≤ 100 ms |\n\
             | one submission's review p50 / p95 | {} ms / {} ms | |\n\
             | scoring one proposal server-side (`POST /bdp/score`, over HTTP) p50 / p95 | {} ms / {} ms | ≤ 5 ms |\n\
             | the AIP's CSV export (every PPA) p50 / max | {} ms / {} ms | |\n\
             | OCM's implementation view ({} tasks pointing at PPAs; every organization, the 50 late ones first) p50 / p95, warm | {} ms / {} ms | p95 ≤ 50 ms |\n\
             | the same, certified and at risk only | {} ms / {} ms | p95 ≤ 50 ms |\n\
             | one PPA's implementation, opened by an analyst | {} ms / {} ms | |\n\
             {}",
            w7["organizations"], w7["proposals"], w7["submissions"], w7["decisions"], w7["aip_2026_ppas"],
            w7["queue"]["p50_ms"], w7["queue"]["p95_ms"], w7["aip"]["p50_ms"], w7["aip"]["p95_ms"],
            w7["review"]["p50_ms"], w7["review"]["p95_ms"], w7["score"]["p50_ms"], w7["score"]["p95_ms"],
            w7["aip_csv_export"]["p50_ms"], w7["aip_csv_export"]["max_ms"],
            w7["tasks_pointing_at_ppas"], w7["implementation"]["p50_ms"], w7["implementation"]["p95_ms"],
            w7["implementation_at_risk_certified"]["p50_ms"], w7["implementation_at_risk_certified"]["p95_ms"],
            w7["implementation_of_one_ppa"]["p50_ms"], w7["implementation_of_one_ppa"]["p95_ms"],
            baseline::rows(&w7["baseline"], 0),
        );
        println!("\n{table}\n{}", serde_json::to_string_pretty(&w7)?);
        write_section("plans-server-bench", "Plans through the server (issue 14)", "BMMS_BENCH_ONLY=plans scripts/bench", &table, &w7)?;
        server.kill().await.ok();
        return Ok(());
    }
    // BMMS_BENCH_ONLY=hostile runs H1 and H2 (issue 12) with a pgbench baseline, prints
    // them and writes their own section.
    if std::env::var("BMMS_BENCH_ONLY").as_deref() == Ok("hostile") {
        uncached_server.kill().await.ok();
        println!("H1 hostile bodies ...");
        let h1 = hostile::h1_hostile_bodies(bench.clone()).await?;
        println!("H2 stalled exports ...");
        let h2 = hostile::h2_stalled_exports(bench.clone()).await?;
        let baseline = baseline::measure(&bench, &admin_url).await?;
        let results = json!({"h1_hostile_bodies": h1, "h2_stalled_exports": h2, "baseline": baseline});
        let table = format!(
            "| workload | figure | measured | target |\n|---|---|---|---|\n\
             | H1 hostile bodies | server peak RSS, 8 bombs at once x 10 rounds | {} MB (before: {} MB) | ≤ 300 MB |\n\
             | H1 hostile bodies | `/healthz` p50 / p99 meanwhile | {} ms / {} ms ({} answers, {} failed) | p99 ≤ 50 ms |\n\
             | H2 stalled exports | another organization's requests p50 / p99, 10 exports unread | {} ms / {} ms | p99 ≤ 500 ms |\n\
             {}",
            h1["server_rss_peak_mb"], h1["server_rss_before_mb"], h1["healthz_p50_ms"], h1["healthz_p99_ms"], h1["healthz_answers"],
            h1["healthz_failures"], h2["other_p50_ms"], h2["other_p99_ms"], baseline::rows(&baseline, 1),
        );
        println!("\n{table}\n{}", serde_json::to_string_pretty(&results)?);
        write_section("hostile-bench", "Hostile input and slow clients (issue 12)", "BMMS_BENCH_ONLY=hostile scripts/bench", &table, &results)?;
        server.kill().await.ok();
        return Ok(());
    }
    // BMMS_BENCH_ONLY=w5 runs just the load test, prints it and writes nothing (for tuning).
    if std::env::var("BMMS_BENCH_ONLY").as_deref() == Ok("w5") {
        let w5 = w5_load(bench.clone(), w5_sessions(&bench).await?).await?;
        let baseline = baseline::measure(&bench, &admin_url).await?;
        println!("{}", serde_json::to_string_pretty(&json!({"w5_load": w5, "baseline": baseline}))?);
        return Ok(());
    }
    println!("W1 reconnect ...");
    let w1_session = bench.sign_in("MILG", "bench.w1").await?;
    let w1 = w1_reconnect(&bench, &w1_session).await?;
    println!("W2 conflict storm ...");
    // A field officer and a supervisor: a supervisor's devices hold the whole organization,
    // so both receive the 20 records one of them makes (an officer holds only their scope).
    let w2_sessions = vec![bench.sign_in("MOH", "bench.w2a").await?, bench.sign_in_as("MOH", "bench.w2b", "supervisor").await?];
    let w2 = w2_conflict_storm(&bench, &w2_sessions, &mut rng).await?;
    println!("W3 cold start ...");
    let w3 = w3_cold_start(&bench, &bench.sign_in("MSSD", "bench.w3").await?).await?;
    println!("W4 hot documents ...");
    let (w4a, w4b) = (bench.sign_in("MHSD", "bench.w4a").await?, uncached.sign_in("MHSD", "bench.w4b").await?);
    let w4 = w4_hot_documents((&bench, &w4a), (&uncached, &w4b)).await?;
    uncached_server.kill().await.ok();
    println!("W5 load ...");
    let w5 = w5_load(bench.clone(), w5_sessions(&bench).await?).await?;
    // The same cluster's pgbench figure, measured in this run: W5 is best compared across
    // machines as a ratio to it. After W5, not before: the scratch database it fills and
    // drops left W5 about a tenth slower in A/B runs.
    let baseline = baseline::measure(&bench, &admin_url).await?;

    let results = json!({"w1_reconnect": w1, "w2_conflict_storm": w2, "w3_cold_start": w3, "w4_hot_documents": w4, "w5_load": w5, "baseline": baseline});
    let table = format!(
        "| workload | figure | measured | target |\n|---|---|---|---|\n\
         | W1 reconnect | HTTP round trips | {} | 1 |\n\
         | W1 reconnect | bytes on the wire per dirty document (up + down, with HTTP framing) | {} ({} up, {} down) | ≤ 400 |\n\
         | W1 reconnect | server CPU per edit | {} ms | |\n\
         | W2 conflict storm | same-field conflicts surfaced | {} of {} ({} %) | 100 % |\n\
         | W2 conflict storm | false conflicts | {} | 0 |\n\
         | W3 cold start | 1,000 documents | {} bytes ({} per document), {} s | |\n\
         | W3 cold start | 10,000 documents | {} bytes ({} per document), {} s | |\n\
         | W4 hot documents | server CPU per edit, with / without the document cache | {} ms / {} ms | |\n\
         | W4 hot documents | exchange latency median, with / without the document cache: without against with, its bootstrap 95 % interval, the verdict against 10 % | {} ms / {} ms: {} % [{} %, {} %], {} | |\n\
         | W5 load | edits per second | {} | ≥ 5,000 |\n\
         | W5 load | latency p50 / p99 | {} ms / {} ms | p99 < 250 ms |\n\
         | W5 load | PostgreSQL WAL bytes per edit | {} | |\n\
         | W5 load | edits per second / the same run's pgbench tps | {:.2} | |\n\
         {}",
        w1["round_trips"], w1["bytes_per_dirty_document"], w1["bytes_up_per_dirty_document"], w1["bytes_down_per_dirty_document"],
        w1["server_cpu_ms_per_edit"],
        w2["surfaced"], w2["true_conflicts"], w2["surfaced_percent"], w2["false_conflicts"],
        w3[0]["bytes_down"], w3[0]["bytes_per_document"], w3[0]["seconds"],
        w3[1]["bytes_down"], w3[1]["bytes_per_document"], w3[1]["seconds"],
        w4["with_cache"]["server_cpu_ms_per_edit"], w4["without_cache"]["server_cpu_ms_per_edit"],
        w4["with_cache"]["p50_ms"], w4["without_cache"]["p50_ms"], w4["exchange_latency"]["difference_percent"],
        w4["exchange_latency"]["interval_95_percent"][0], w4["exchange_latency"]["interval_95_percent"][1], w4["exchange_latency"]["verdict"].as_str().unwrap_or("?"),
        w5["edits_per_second"], w5["p50_ms"], w5["p99_ms"], w5["postgres_wal_bytes_per_edit"],
        w5["edits_per_second"].as_f64().unwrap_or(0.0) / baseline["pgbench_tps"].as_f64().unwrap_or(1.0).max(1.0),
        baseline::rows(&baseline, 1),
    );
    println!("\n{table}\n{}", serde_json::to_string_pretty(&results)?);
    write_report(&table, &results)?;
    server.kill().await.ok();
    Ok(())
}

/// Starts `bmms serve` on the database, keeping `cache_entries` documents in memory, and
/// a byte-counting proxy in front of it.
async fn launch(bmms: &str, database_url: &str, cache_entries: usize) -> Result<(tokio::process::Child, Arc<Bench>)> {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let mut server = tokio::process::Command::new(bmms)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", database_url)
        .env("BMMS_DOCUMENT_CACHE_ENTRIES", cache_entries.to_string())
        // W5 plays 100 phones of each of its ten accounts, 50 syncing at once: more than
        // the per-user limit lets one account have (phones of real officers are one or
        // two per account). The limit is not what W5 measures.
        .env("BMMS_SYNCS_PER_USER", "64")
        // The benchmarks' OCM, BPDA and MFBM accounts sign in with a password alone: what
        // they measure comes after sign-in, and a second factor is not part of it.
        .env("BMMS_MFA_ROLES", "none")
        .env("BMMS_LOG", "warn,bmms=info")
        // Photos of the field figures go with the system's temporary files, not the checkout.
        .env("BMMS_PHOTO_STORE", std::env::temp_dir().join(format!("bmms-bench-photos-{port}")))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = tokio::io::BufReader::new(server.stderr.take().ok_or("no stderr")?).lines();
    while let Some(line) = lines.next_line().await? {
        if line.contains("BMMS is listening") {
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let wire = Arc::new(Wire::default());
    let base = format!("http://{}", proxy(format!("127.0.0.1:{port}"), wire.clone()).await?);
    let owner = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(database_url).await?;
    let bench = Arc::new(Bench {
        base,
        direct: format!("http://127.0.0.1:{port}"),
        wire,
        http: reqwest::Client::builder().pool_max_idle_per_host(64).build()?,
        bmms: bmms.to_owned(),
        database_url: database_url.to_owned(),
        server_pid: server.id().ok_or("no server pid")?,
        owner,
    });
    Ok((server, bench))
}

/// One officer in each of ten ministries: W5's devices are spread over them.
async fn w5_sessions(bench: &Bench) -> Result<Vec<harness::Session>> {
    let mut sessions = Vec::new();
    for org in ["MAFAR", "MBHTE", "MENRE", "MHSD", "MOLE", "MPW", "MOST", "MTIT", "MOTC", "MIPA"] {
        sessions.push(bench.sign_in(org, &format!("bench.w5.{}", org.to_lowercase())).await?);
    }
    Ok(sessions)
}

/// `admin_url` (a PostgreSQL URL) with its database replaced by `name`.
pub fn database_url_named(admin_url: &str, name: &str) -> String {
    let (head, query) = admin_url.split_once('?').map(|(h, q)| (h.to_owned(), format!("?{q}"))).unwrap_or((admin_url.to_owned(), String::new()));
    let base = head.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(head);
    format!("{base}/{name}{query}")
}

/// Replaces the sync section of docs/benchmarks.md with these figures.
fn write_report(table: &str, results: &Value) -> Result<()> {
    write_section("sync-bench", "Sync (issue 3)", "scripts/bench", table, results)
}

fn dashboards_table(w6: &Value) -> String {
    let (warm, cost) = (&w6["warm"], &w6["keeping_totals_current"]);
    format!(
        "| figure | measured | target |\n|---|---|---|\n\
         | data | {} organizations, {} assessments, {} tasks; {} summary rows | |\n\
         | dashboard API p95, warm: government overview / one organization (OCM) / a ministry's own | {} ms / {} ms / {} ms | ≤ 50 ms |\n\
         | dashboard API p95 during / right after a burst of 400 syncs | {} ms / {} ms | ≤ 200 ms |\n\
         | median sync exchange (5 edits) with / without keeping totals current: the difference, its bootstrap 95 % interval, the verdict | {} ms / {} ms: {} % [{} %, {} %], {} | ≤ 10 % |\n\
         | dashboard API p95, warm, in the same run's CPU loops: overview / one organization / a ministry's own | {} / {} / {} | |\n\
         {}",
        w6["organizations"], w6["assessments"], w6["tasks"], w6["summary_rows"],
        warm["government_overview"]["p95_ms"], warm["largest_organization"]["p95_ms"], warm["ministry_own"]["p95_ms"],
        w6["after_burst"]["during"]["p95_ms"], w6["after_burst"]["right_after"]["p95_ms"],
        cost["median_b"], cost["median_a"], cost["difference_percent"], cost["interval_95_percent"][0], cost["interval_95_percent"][1], cost["verdict"].as_str().unwrap_or("none"),
        baseline::in_cpu_loops(&warm["government_overview"]["p95_ms"], &w6["baseline"]),
        baseline::in_cpu_loops(&warm["largest_organization"]["p95_ms"], &w6["baseline"]),
        baseline::in_cpu_loops(&warm["ministry_own"]["p95_ms"], &w6["baseline"]),
        baseline::rows(&w6["baseline"], 0),
    )
}

/// Replaces the section `marker` of docs/benchmarks.md with these figures.
fn write_section(marker: &str, title: &str, command: &str, table: &str, results: &Value) -> Result<()> {
    let path = "docs/benchmarks.md";
    let existing = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let start = format!("<!-- {marker}:start -->");
    let end = format!("<!-- {marker}:end -->");
    let section = format!(
        "{start}\n## {title}\n\nMeasured with `{command}` on {} (2 cores, 24 GiB), server in release mode, \
         PostgreSQL on the same machine, traffic through a loopback byte-counting proxy (W5's straight to the server).\n\n{table}\n```json\n{}\n```\n{end}",
        chrono::Utc::now().format("%Y-%m-%d"),
        serde_json::to_string_pretty(results)?
    );
    let updated = match (existing.find(&start), existing.find(&end)) {
        (Some(a), Some(b)) => format!("{}{}{}", &existing[..a], section, &existing[b + end.len()..]),
        _ => format!("{}\n{}\n", existing.trim_end(), section),
    };
    std::fs::write(path, updated)?;
    Ok(())
}
