//! How long the alignment score (`bmms_shared::plans::score`) takes for one proposal
//! against a framework of the BDP's size or larger: 40 goals of 10 indicators each and
//! 2,000 priority areas, a proposal naming 10 goals, promising 10 indicators and working
//! in 50 places. Prints the figures and writes them to docs/benchmarks.md.
//!
//! Run: `cargo run --release -p bmms-shared --example score_bench`

use bmms_shared::plans::{score, Framework, FrameworkGoal, FrameworkIndicator, PriorityLevel, ProposalOutline};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use std::time::Instant;

const RUNS: usize = 20_000;

fn framework(rng: &mut SmallRng) -> Framework {
    let goals = (1..=40)
        .map(|g| FrameworkGoal {
            code: format!("G{g}"),
            indicators: (1..=10).map(|i| FrameworkIndicator { code: format!("G{g}.{i}"), name: format!("Indicator {i} of goal {g}") }).collect(),
        })
        .collect();
    let mut priorities = BTreeMap::new();
    while priorities.len() < 2_000 {
        let code = format!("190{:02}{:02}{:03}", rng.gen_range(1..99), rng.gen_range(1..99), rng.gen_range(0..300));
        let level = PriorityLevel::ALL[rng.gen_range(0..3)];
        priorities.insert(code, level);
    }
    Framework { goals, priorities, full_reach: 5_000 }
}

fn proposal(rng: &mut SmallRng) -> ProposalOutline {
    let goals: Vec<String> = (0..10).map(|_| format!("G{}", rng.gen_range(1..=40))).collect();
    let indicators = goals.iter().map(|g| (format!("{g}.{}", rng.gen_range(1..=10)), rng.gen_range(0.5..100.0))).collect();
    let places = (0..50).map(|_| format!("190{:02}{:02}{:03}", rng.gen_range(1..99), rng.gen_range(1..99), rng.gen_range(0..300))).collect();
    ProposalOutline { goals, indicators, places, beneficiaries: rng.gen_range(100..10_000) }
}

fn main() {
    let mut rng = SmallRng::seed_from_u64(2026);
    let framework = framework(&mut rng);
    let proposals: Vec<ProposalOutline> = (0..RUNS).map(|_| proposal(&mut rng)).collect();
    let mut micros: Vec<f64> = Vec::with_capacity(RUNS);
    let mut certifiable = 0;
    for outline in &proposals {
        let started = Instant::now();
        let result = score(&framework, outline);
        micros.push(started.elapsed().as_secs_f64() * 1e6);
        certifiable += usize::from(result.certifiable);
    }
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q).round() as usize];
    let table = format!(
        "| scoring one proposal | p50 | p95 | p99 | max |\n|---|---|---|---|---|\n| {RUNS} proposals (seed 2026; {certifiable} certifiable) | {:.1} µs | {:.1} µs | {:.1} µs | {:.1} µs |\n",
        at(0.5),
        at(0.95),
        at(0.99),
        micros[micros.len() - 1]
    );
    println!("{table}");
    write_section(&table);
}

/// Replaces the section between this benchmark's markers in docs/benchmarks.md.
fn write_section(table: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/benchmarks.md");
    let existing = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let (start, end) = ("<!-- plans-bench:start -->", "<!-- plans-bench:end -->");
    let section = format!(
        "{start}\n## Plans (issue 14)\n\nThe alignment score alone, in release mode, measured with \
         `cargo run --release -p bmms-shared --example score_bench`: a framework of 40 goals x 10 indicators and 2,000 \
         priority areas; each proposal names 10 goals, promises 10 indicators and lists 50 places. The target is 5 ms \
         server-side per proposal; the server's figure (reading the framework from PostgreSQL, then scoring) comes with \
         the proposal queue.\n\n{table}{end}"
    );
    let updated = match (existing.find(start), existing.find(end)) {
        (Some(a), Some(b)) => format!("{}{}{}", &existing[..a], section, &existing[b + end.len()..]),
        _ => format!("{}\n\n{}\n", existing.trim_end(), section),
    };
    std::fs::write(path, updated).expect("docs/benchmarks.md is writable");
}
