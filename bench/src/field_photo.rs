//! F4: a 300 KB photo sent over an emulated 2G link that drops three times (at 30 %, 55 %
//! and 80 % of the photo's bytes), with the app's upload (`bmms_shared::photos::Upload`):
//! announce, then 8 KiB chunks over fresh connections, asking where the server stands
//! after each failure. This client asks at once; the app waits for its next round first
//! (2 s after a first failure), which e2e/bench/field.mjs measures in the browser. The
//! figure is the share of the photo's bytes sent twice, and the time it took.

use bmms_shared::photos::{self, NewPhoto, PhotoProgress, Upload, CHECKSUM_HEADER, OFFSET_HEADER};
use bmms_shared::DocId;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

use crate::field::{fresh_connections, shaped_proxy, Counted, Link};
use crate::harness::{Bench, Result, Session};

/// The photo's size, as the app aims at.
const PHOTO_BYTES: usize = 300_000;
/// Where the link drops, as shares of the photo's bytes sent.
const DROPS: [f64; 3] = [0.30, 0.55, 0.80];

/// Sends one 300 KB photo of `session`'s over `link` with three drops.
pub async fn photo_over_dropping_link(bench: &Bench, session: &Session, link: Link) -> Result<Value> {
    let counted = Arc::new(Counted::default());
    let base = format!("http://{}", shaped_proxy(bench.direct.trim_start_matches("http://").to_owned(), link, counted.clone()).await?);
    let mut photo = vec![0u8; PHOTO_BYTES];
    rand::rngs::SmallRng::seed_from_u64(link.up_bits_per_s).fill_bytes(&mut photo);
    let name = photos::name_of(&photo);
    *counted.drops.lock().expect("not poisoned") = DROPS.iter().map(|share| (share * PHOTO_BYTES as f64) as u64).collect();

    let http = fresh_connections()?;
    let announcement = NewPhoto { sha256: name.clone(), size: PHOTO_BYTES as u64, media_type: "image/jpeg".into(), record: DocId(Uuid::new_v4()) };
    let mut upload = Upload::new(PHOTO_BYTES as u64);
    let (started, mut requests, mut failures) = (Instant::now(), 0, 0);
    while !upload.is_complete() {
        requests += 1;
        if requests > 200 {
            return Err("the photo did not get through in 200 requests".into());
        }
        let request = match upload.next_chunk(&photo) {
            None => http.post(format!("{base}/api/v1/photos")).json(&announcement),
            Some(chunk) => http
                .patch(format!("{base}/api/v1/photos/{name}"))
                .header(OFFSET_HEADER, chunk.offset)
                .header(CHECKSUM_HEADER, &chunk.checksum)
                .body(photo[chunk.range].to_vec()),
        };
        let answer = request.header("cookie", &session.cookie).header("x-csrf-token", &session.csrf).send().await;
        match answer {
            Ok(answer) if answer.status().is_success() => upload.on_progress(answer.json::<PhotoProgress>().await?),
            _ => {
                failures += 1;
                upload.on_failure();
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let resent = upload.bytes_sent - PHOTO_BYTES as u64;
    Ok(json!({
        "photo_bytes": PHOTO_BYTES,
        "drops": DROPS.len(),
        "failed_requests": failures,
        "requests": requests,
        "resent_bytes": resent,
        "resent_percent": (resent as f64 * 1000.0 / PHOTO_BYTES as f64).round() / 10.0,
        "seconds": (seconds * 10.0).round() / 10.0,
        "bytes_up": counted.up.load(Ordering::SeqCst),
        "bytes_down": counted.down.load(Ordering::SeqCst),
    }))
}
