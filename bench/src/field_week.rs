//! F5: a week offline (issue 18). The officer's phone made 2,000 edits on 300 of its
//! records; they go out over the emulated link as the app sends them: in batches within
//! the server's bounds, each exchange over a fresh connection, the batch in flight sent
//! again after a failure once the app's backoff is over (2 s, doubling). The link drops
//! three times while the edits go up. The figure is the time until the server
//! acknowledged every edit, unattended.
//!
//! The week's 200 photos (300 KB each, 60 MB) are not sent here: at 50 kbit/s up that is
//! hours. Photos go one after another, each as F4 sends one (`field_photo.rs`), so their
//! time is projected from F4's: 200 times its time, with its drops.

use bmms_shared::records::FieldValue;
use bmms_shared::BatchId;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::field::{fresh_connections, post_sync, shaped_proxy, Counted, Link};
use crate::harness::{Bench, Device, Result};

const RECORDS: usize = 300;
const EDITS: usize = 2_000;
const PHOTOS: f64 = 200.0;
/// Where the link drops, as shares of the first batch's bytes.
const DROPS: [f64; 3] = [0.30, 0.55, 0.80];

/// Makes the week's edits on `phone` and sends them over `link`; `photo` is F4's figure
/// on the same link.
pub async fn week_offline(bench: &Bench, phone: &mut Device, link: Link, photo: &Value) -> Result<Value> {
    let mut rng = rand::rngs::SmallRng::seed_from_u64(link.up_bits_per_s);
    let docs: Vec<_> = phone.client.documents().keys().copied().take(RECORDS).collect();
    for edit in 0..EDITS {
        let doc = docs[rng.gen_range(0..docs.len())];
        let value = match rng.gen_range(0..3) {
            0 => ("households", FieldValue::Integer(rng.gen_range(10..500))),
            1 => ("respondents", FieldValue::Integer(rng.gen_range(1..60))),
            _ => ("notes", FieldValue::Text(format!("Day {} of the week: visit {edit}, {} families met.", edit * 7 / EDITS + 1, rng.gen_range(1..40)))),
        };
        phone.client.edit(doc, |e| e.set(value.0, value.1))?;
    }
    let counted = Arc::new(Counted::default());
    let base = format!("http://{}", shaped_proxy(bench.direct.trim_start_matches("http://").to_owned(), link, counted.clone()).await?);
    let http = fresh_connections()?;
    let (started, mut exchanges, mut failures) = (Instant::now(), 0, 0);
    let mut now = 0u64;
    while phone.client.has_unsent() {
        exchanges += 1;
        if exchanges > 100 {
            return Err(format!("{} edits still unsent after 100 exchanges", phone.client.sendable_count()).into());
        }
        let Some((_, body)) = phone.client.next_request(now, BatchId(Uuid::new_v4())) else {
            return Err("the client had nothing due".into());
        };
        if exchanges == 1 {
            let at = counted.up.load(Ordering::SeqCst);
            *counted.drops.lock().expect("not poisoned") = DROPS.iter().map(|share| at + (share * body.len() as f64) as u64).collect();
        }
        let answered = post_sync(&http, &base, &phone.session, body).await.ok();
        match answered {
            Some(answer) => {
                phone.client.on_response(&answer)?;
            }
            None => {
                // As the app: the same batch again once the backoff is over.
                failures += 1;
                let before = now;
                phone.client.on_failure(now);
                while phone.client.next_request(now, BatchId(Uuid::new_v4())).is_none() {
                    now += 100;
                }
                tokio::time::sleep(Duration::from_millis(now - before)).await;
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let photo_seconds = photo["seconds"].as_f64().unwrap_or(f64::NAN);
    Ok(json!({
        "records": RECORDS,
        "edits": EDITS,
        "drops": DROPS.len(),
        "exchanges": exchanges,
        "failed_exchanges": failures,
        "seconds": (seconds * 10.0).round() / 10.0,
        "bytes_up": counted.up.load(Ordering::SeqCst),
        "bytes_down": counted.down.load(Ordering::SeqCst),
        "photos": PHOTOS,
        "photos_projected_hours": (PHOTOS * photo_seconds / 360.0).round() / 10.0,
    }))
}
