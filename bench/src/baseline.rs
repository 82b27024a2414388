//! The same-run baseline beside every figure (issue 20): how fast this machine's database
//! and CPU were in this very run, so that a figure measured on a slower host can say so.
//! Two yardsticks:
//! - pgbench's TPC-B-like script on a scratch database of the same cluster, for 5 s with
//!   two clients: transactions per second;
//! - a fixed CPU-bound loop in this process, the best of five: milliseconds.
//! Measured after the workload, not before: filling and dropping pgbench's scratch
//! database left W5 about a tenth slower in A/B runs.

use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Instant;
use uuid::Uuid;

use crate::harness::{Bench, Result};

/// pgbench's TPC-B-like script on a scratch database: transactions per second.
async fn pgbench_tps(bench: &Bench, admin_url: &str) -> Result<f64> {
    let bin = ["/usr/lib/postgresql/15/bin/pgbench", "pgbench"]
        .into_iter()
        .find(|b| std::process::Command::new(b).arg("--version").output().is_ok())
        .ok_or("pgbench not found (Debian's postgresql package has it)")?;
    let name = format!("bmms_pgbench_{}", Uuid::new_v4().simple());
    let url = crate::database_url_named(admin_url, &name);
    let run = |args: &[&str]| -> Result<String> {
        let out = std::process::Command::new(bin).args(args).arg(&url).output()?;
        if !out.status.success() {
            return Err(format!("pgbench failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    sqlx::query(&format!("create database {name}")).execute(&bench.owner).await?;
    run(&["-i", "-s", "10", "-q"])?;
    let out = run(&["-T", "5", "-c", "2", "-j", "2"]);
    sqlx::query(&format!("drop database {name}")).execute(&bench.owner).await?;
    let tps: f64 = out?
        .lines()
        .find(|l| l.starts_with("tps"))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|n| n.parse().ok())
        .ok_or("pgbench printed no tps")?;
    Ok(tps.round())
}

/// A fixed amount of integer work (xorshift steps), the fastest of five runs, in ms.
fn cpu_loop_ms() -> f64 {
    let once = || {
        let started = Instant::now();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut sum: u64 = 0;
        for _ in 0..100_000_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            sum = sum.wrapping_add(x);
        }
        black_box(sum);
        started.elapsed().as_secs_f64() * 1000.0
    };
    let best = (0..5).map(|_| once()).fold(f64::INFINITY, f64::min);
    (best * 10.0).round() / 10.0
}

/// Both yardsticks, measured now.
pub async fn measure(bench: &Bench, admin_url: &str) -> Result<Value> {
    let tps = pgbench_tps(bench, admin_url).await?;
    Ok(json!({"pgbench_tps": tps, "pgbench": "tpcb-like, scale 10, 2 clients, 5 s", "cpu_loop_ms": cpu_loop_ms(), "cpu_loop": "100,000,000 xorshift steps, best of 5"}))
}

/// The baseline's rows for a section's table (columns: `columns` cells before the figure).
pub fn rows(baseline: &Value, columns: usize) -> String {
    let lead = "| baseline ".repeat(columns);
    format!(
        "{lead}| same-run baseline: pgbench TPC-B-like on the same cluster (scale 10, 2 clients, 5 s), right after | {} tps | |\n\
         {lead}| same-run baseline: a fixed CPU-bound loop (10⁸ xorshift steps, best of 5) | {} ms | |\n",
        baseline["pgbench_tps"], baseline["cpu_loop_ms"]
    )
}

/// `ms` in units of this run's CPU loop: a latency compared across machines.
pub fn in_cpu_loops(ms: &Value, baseline: &Value) -> String {
    let (ms, unit) = (ms.as_f64().unwrap_or(0.0), baseline["cpu_loop_ms"].as_f64().unwrap_or(1.0).max(0.1));
    format!("{:.3}", ms / unit)
}
