//! Comparing two variants of the same thing (issue 20): totals kept on or off, say.
//! - The caller runs a warm-up of each and throws it away, then many short blocks of each
//!   in a seeded random order ([`block_order`]), so that drift over the run (checkpoints,
//!   caches, a neighbour on the host) falls on both variants alike.
//! - [`compare`] gives the medians, the difference of B against A in percent, and a
//!   bootstrap 95 % interval of that difference (seeded, so that a run can be replayed).
//! - A verdict only when the interval lies wholly on one side of the threshold.

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

/// `blocks` blocks of each variant (false: A, true: B), in a random order drawn from `seed`.
pub fn block_order(blocks: usize, seed: u64) -> Vec<bool> {
    let mut order: Vec<bool> = (0..blocks).flat_map(|_| [false, true]).collect();
    order.shuffle(&mut SmallRng::seed_from_u64(seed));
    order
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0 }
}

fn sorted(samples: &[f64]) -> Vec<f64> {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// B against A: how much larger B's median is than A's, in percent, with a bootstrap 95 %
/// interval (2,000 resamples of each side from `seed`), and whether that interval lies
/// below `threshold_percent` ("within"), above it ("beyond"), or across it ("undecided").
pub fn compare(a: &[f64], b: &[f64], threshold_percent: f64, seed: u64) -> Value {
    let (median_a, median_b) = (median(&sorted(a)), median(&sorted(b)));
    let percent = |a: f64, b: f64| (b - a) / a * 100.0;
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut resample = |from: &[f64]| median(&sorted(&(0..from.len()).map(|_| from[rng.gen_range(0..from.len())]).collect::<Vec<_>>()));
    let mut differences: Vec<f64> = (0..2000).map(|_| percent(resample(a), resample(b))).collect();
    differences.sort_by(f64::total_cmp);
    let (low, high) = (differences[50], differences[1949]);
    let verdict = if high < threshold_percent {
        "within"
    } else if low > threshold_percent {
        "beyond"
    } else {
        "undecided"
    };
    let round = |x: f64| (x * 10.0).round() / 10.0;
    json!({
        "median_a": (median_a * 100.0).round() / 100.0, "median_b": (median_b * 100.0).round() / 100.0,
        "samples_a": a.len(), "samples_b": b.len(),
        "difference_percent": round(percent(median_a, median_b)), "interval_95_percent": [round(low), round(high)],
        "threshold_percent": threshold_percent, "verdict": verdict, "seed": seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_interleaves_as_many_blocks_of_each_and_replays_from_its_seed() {
        let order = block_order(20, 7);
        assert_eq!(order.iter().filter(|b| **b).count(), 20);
        assert_eq!(order.len(), 40);
        assert_eq!(order, block_order(20, 7));
        assert_ne!(order, block_order(20, 8));
    }

    #[test]
    fn a_clear_difference_gets_a_verdict_and_a_small_one_against_noise_does_not() {
        let mut rng = SmallRng::seed_from_u64(1);
        let noisy = |rng: &mut SmallRng, centre: f64| (0..200).map(|_| centre + rng.gen_range(-1.0..1.0)).collect::<Vec<f64>>();
        let (a, b) = (noisy(&mut rng, 10.0), noisy(&mut rng, 13.0));
        assert_eq!(compare(&a, &b, 10.0, 3)["verdict"], "beyond", "30 % more is beyond 10 %");
        assert_eq!(compare(&a, &b, 50.0, 3)["verdict"], "within", "30 % more is within 50 %");
        let (c, d) = (noisy(&mut rng, 10.0), noisy(&mut rng, 10.0));
        let same = compare(&c, &d, 0.0, 3);
        assert_eq!(same["verdict"], "undecided", "no difference cannot be told from 0 %: {same}");
        let interval = same["interval_95_percent"].as_array().unwrap();
        assert!(interval[0].as_f64().unwrap() < 0.0 && interval[1].as_f64().unwrap() > 0.0, "{same}");
    }
}
