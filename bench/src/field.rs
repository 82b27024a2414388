//! Field figures (issue 18) over an emulated 2G link: the kernel's netem is not available
//! here, so a shaping proxy on loopback delays what crosses it as the link would. Each
//! direction is a queue: a chunk leaves after the ones before it have been serialized at
//! the link's rate, and arrives half a round trip later; a new connection costs one round
//! trip before its first byte (TCP's handshake), as a phone's after waking. Every request
//! goes over a fresh connection. No TLS (its handshake would add one or two round trips).
//!
//! F1 one dirty record, F2 fifty, F3 an officer's first sign-in whose scope holds 2,000
//! of the organization's 100,000 assessments (sign-in, device registration, first sync),
//! F4 a 300 KB photo over a link that drops three times (`field_photo.rs`), F5 a week
//! offline: 2,000 edits on 300 records over a link that drops three times, and the
//! projected time of its 200 photos (`field_week.rs`).

use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::DocId;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::harness::{at_most, log_in, Bench, Device, Result};

/// A link as issue 18 profiles one (its "2G" and "slow 2G").
#[derive(Clone, Copy)]
pub struct Link {
    pub name: &'static str,
    pub up_bits_per_s: u64,
    pub down_bits_per_s: u64,
    pub rtt: Duration,
}

pub const TWO_G: Link = Link { name: "2G", up_bits_per_s: 50_000, down_bits_per_s: 100_000, rtt: Duration::from_millis(600) };
pub const SLOW_TWO_G: Link = Link { name: "slow 2G", up_bits_per_s: 35_000, down_bits_per_s: 32_000, rtt: Duration::from_millis(1_300) };

/// Bytes each way through a shaped proxy since the last reset, and where the link drops.
#[derive(Default)]
pub(crate) struct Counted {
    pub up: AtomicU64,
    pub down: AtomicU64,
    /// Counts of bytes up at which the link drops, soonest first: the connection that
    /// carries that byte is cut both ways, as when a phone loses its signal.
    pub drops: std::sync::Mutex<Vec<u64>>,
}

impl Counted {
    /// Whether the link drops now that `up` bytes went up (each drop happens once).
    fn drops_at(&self, up: u64) -> bool {
        let mut drops = self.drops.lock().expect("not poisoned");
        let due = drops.first().is_some_and(|at| up >= *at);
        if due {
            drops.remove(0);
        }
        due
    }
}

/// Starts a shaping proxy for `link` in front of `server`; returns its address.
pub(crate) async fn shaped_proxy(server: String, link: Link, counted: Arc<Counted>) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (server, counted) = (server.clone(), counted.clone());
            tokio::spawn(async move {
                // The handshake: SYN out, SYN-ACK back.
                tokio::time::sleep(link.rtt).await;
                let Ok(upstream) = tokio::net::TcpStream::connect(&server).await else { return };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = upstream.into_split();
                let up = tokio::spawn(shaped(client_read, server_write, link.up_bits_per_s, link.rtt / 2, counted.clone(), true));
                let down = tokio::spawn(shaped(server_read, client_write, link.down_bits_per_s, link.rtt / 2, counted, false));
                // A dropped link carries nothing more either way.
                if matches!(up.await, Ok(Ended::Dropped)) {
                    down.abort();
                } else {
                    let _ = down.await;
                }
            });
        }
    });
    Ok(address)
}

/// How one direction of a shaped connection ended.
enum Ended {
    /// Its sender closed it.
    Closed,
    /// The link dropped it ([`Counted::drops`]).
    Dropped,
}

/// One direction of a shaped connection.
async fn shaped(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    bits_per_s: u64,
    latency: Duration,
    counted: Arc<Counted>,
    upward: bool,
) -> Ended {
    let (queue, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<(Vec<u8>, tokio::time::Instant)>();
    let deliver = tokio::spawn(async move {
        while let Some((chunk, at)) = arrivals.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    });
    // When the link is free again: a chunk waits for the ones before it.
    let mut free_at = tokio::time::Instant::now();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let counter = if upward { &counted.up } else { &counted.down };
        let total = counter.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
        if upward && counted.drops_at(total) {
            // What was on its way is lost with the link.
            deliver.abort();
            return Ended::Dropped;
        }
        let serialization = Duration::from_secs_f64(n as f64 * 8.0 / bits_per_s as f64);
        free_at = free_at.max(tokio::time::Instant::now()) + serialization;
        if queue.send((buffer[..n].to_vec(), free_at + latency)).is_err() {
            break;
        }
    }
    drop(queue);
    let _ = deliver.await;
    Ended::Closed
}

/// A client that opens a new connection for every request, as a phone waking up does.
pub(crate) fn fresh_connections() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().pool_max_idle_per_host(0).build()?)
}

/// Makes `count` assessments at barangays of `municipality` (a PSGC code of a city or
/// municipality, whose barangays are tried in turn) and syncs them, 1,000 at a time, on
/// the server's own address.
async fn seed(bench: &Bench, device: &mut Device, municipality: &str, count: usize) -> Result<Vec<DocId>> {
    let barangays: Vec<String> = bmms_shared::psgc::within(municipality).map(|p| p.code.clone()).collect();
    let mut made = Vec::with_capacity(count);
    while made.len() < count {
        for _ in 0..1_000.min(count - made.len()) {
            let doc = device.client.create(DocId(Uuid::new_v4()), RecordKind::ManaAssessment);
            let place = barangays[made.len() % barangays.len()].clone();
            let community = format!("Sitio {}", made.len());
            device.client.edit(doc, |e| {
                e.set("place_code", FieldValue::Text(place))?;
                e.set("community", FieldValue::Text(community))?;
                e.set("households", FieldValue::Integer(40))
            })?;
            made.push(doc);
        }
        let body = Bench::prepare(device)?;
        let (_, answer) = bench.post_to(&bench.direct, &device.session, body).await?;
        device.client.on_response(&answer)?;
    }
    Ok(made)
}

/// Posts one sync request of `session`'s to `base` with `http`; returns the answer's bytes.
pub(crate) async fn post_sync(http: &reqwest::Client, base: &str, session: &crate::harness::Session, body: Vec<u8>) -> Result<Vec<u8>> {
    let response = http
        .post(format!("{base}/api/v1/sync"))
        .header("cookie", &session.cookie)
        .header("x-csrf-token", &session.csrf)
        .header("content-type", bmms_shared::sync::protocol::CONTENT_TYPE)
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let answer = response.bytes().await?;
    if !status.is_success() {
        return Err(format!("sync answered {status}").into());
    }
    Ok(answer.to_vec())
}

/// One sync of `device` over `base` with `http`; the answer is taken.
async fn sync_over(http: &reqwest::Client, base: &str, device: &mut Device) -> Result<()> {
    let body = Bench::prepare(device)?;
    let answer = post_sync(http, base, &device.session, body).await?;
    device.client.on_response(&answer)?;
    Ok(())
}

fn figure(started: Instant, counted: &Counted) -> Value {
    json!({
        "seconds": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        "bytes_up": counted.up.swap(0, Ordering::SeqCst),
        "bytes_down": counted.down.swap(0, Ordering::SeqCst),
    })
}

pub async fn field_figures(bench: Arc<Bench>) -> Result<Value> {
    // 100,000 assessments in MILG: 2,000 in the City of Lamitan, the rest in twelve other
    // municipalities; made by seeding officers, 50,000 each, at a few at once.
    let others = ["1900703000", "1900704000", "1900705000", "1900706000", "1900707000", "1900708000", "1900709000", "1900710000", "1900711000", "1900712000", "1903601000", "1903602000"];
    let mut plan: Vec<(&str, usize)> = vec![("1900702000", 2_000)];
    plan.extend(others.iter().enumerate().map(|(i, m)| (*m, 98_000 / others.len() + usize::from(i < 98_000 % others.len()))));
    let seeded_at = Instant::now();
    let seeders: Vec<(usize, (&'static str, usize))> = plan.into_iter().enumerate().collect();
    let bench_for_seeding = bench.clone();
    let counts = at_most(2, seeders, move |(i, (municipality, count))| {
        let bench = bench_for_seeding.clone();
        async move {
            let session = bench.sign_in("MILG", &format!("bench.seeder{i}")).await?;
            let mut device = bench.device(&session).await?;
            Ok(seed(&bench, &mut device, municipality, count).await?.len())
        }
    })
    .await?;
    let seeded: usize = counts.iter().sum();
    let seeding_seconds = seeded_at.elapsed().as_secs_f64().round();

    // The officer, given the City of Lamitan by a supervisor.
    let password = bench.create_user("MILG", "bench.field", "field_officer")?;
    let supervisor = bench.sign_in_as("MILG", "bench.field.supervisor", "supervisor").await?;
    let areas = bench
        .http
        .put(format!("{}/api/v1/officers/bench.field/areas", bench.direct))
        .header("cookie", &supervisor.cookie)
        .header("x-csrf-token", &supervisor.csrf)
        .json(&json!({"municipalities": ["1900702000"]}))
        .send()
        .await?;
    if !areas.status().is_success() {
        return Err(format!("giving the officer Lamitan answered {}", areas.status()).into());
    }

    let http = fresh_connections()?;
    let mut results = json!({"assessments": seeded, "seeding_seconds": seeding_seconds});
    for (run, link) in [TWO_G, SLOW_TWO_G].into_iter().enumerate() {
        let counted = Arc::new(Counted::default());
        let base = format!("http://{}", shaped_proxy(bench.direct.trim_start_matches("http://").to_owned(), link, counted.clone()).await?);

        // F3: sign in, register this phone, first sync.
        let started = Instant::now();
        let session = log_in(&http, &base, "bench.field", &password).await?;
        let registered: Value = http
            .post(format!("{base}/api/v1/devices"))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .send()
            .await?
            .json()
            .await?;
        let device_id = registered["device_id"].as_str().ok_or("no device id")?.parse()?;
        let actor = automerge::ActorId::from(hex::decode(registered["actor"].as_str().ok_or("no actor")?)?);
        let mut phone = Device { session, client: bmms_shared::sync::client::SyncClient::new(device_id, actor), now: 0 };
        sync_over(&http, &base, &mut phone).await?;
        let first_sign_in = figure(started, &counted);
        let held = phone.client.documents().len();
        if held != 2_000 {
            return Err(format!("the officer's phone holds {held} records, not Lamitan's 2,000").into());
        }

        // F1 and F2: dirty records, one exchange each.
        let docs: Vec<DocId> = phone.client.documents().keys().copied().collect();
        // Each link's phone writes notes of its own (writing the value a record holds
        // already makes no change).
        let dirty = |phone: &mut Device, n: usize, round: usize| -> Result<()> {
            for doc in docs.iter().take(n) {
                phone.client.edit(*doc, |e| e.set("notes", FieldValue::Text(format!("visited again: run {run}, round {round}"))))?;
            }
            Ok(())
        };
        dirty(&mut phone, 1, 1)?;
        let started = Instant::now();
        sync_over(&http, &base, &mut phone).await?;
        let one = figure(started, &counted);
        dirty(&mut phone, 50, 2)?;
        let started = Instant::now();
        sync_over(&http, &base, &mut phone).await?;
        let fifty = figure(started, &counted);
        let sent = fifty["bytes_up"].as_u64().unwrap_or(0);
        if phone.client.pending_count() != 0 || sent < 50 * 30 {
            return Err(format!("the 50 edits did not all go out ({sent} bytes up)").into());
        }
        let photo = crate::field_photo::photo_over_dropping_link(&bench, &phone.session, link).await?;
        let week = crate::field_week::week_offline(&bench, &mut phone, link, &photo).await?;
        results[link.name] = json!({
            "first_sign_in_2000_of_100000": first_sign_in,
            "one_dirty_record": one,
            "fifty_dirty_records": fifty,
            "photo_300kb_three_drops": photo,
            "week_offline": week,
        });
    }
    Ok(results)
}

/// The table docs/benchmarks.md shows.
pub fn table(f: &Value) -> String {
    let kb = |v: &Value| format!("{:.1} KB", (v["bytes_up"].as_f64().unwrap_or(0.0) + v["bytes_down"].as_f64().unwrap_or(0.0)) / 1000.0);
    let s = |v: &Value| format!("{:.2} s", v["seconds"].as_f64().unwrap_or(f64::NAN));
    let mut rows = vec![
        "| figure | 2G (50/100 kbit/s, 600 ms) | slow 2G (35/32 kbit/s, 1,300 ms) | target (2G) |".to_owned(),
        "|---|---|---|---|".to_owned(),
    ];
    let (a, b) = (&f["2G"], &f["slow 2G"]);
    for (name, key, target) in [
        ("one dirty record synced, fresh connection", "one_dirty_record", "≤ 2 s"),
        ("50 dirty records synced, fresh connection", "fifty_dirty_records", "≤ 5 s"),
        ("first sign-in (sign-in, device, first sync): 2,000 of 100,000 assessments", "first_sign_in_2000_of_100000", "≤ 500 KB, ≤ 60 s"),
    ] {
        rows.push(format!("| {name} | {} ({}) | {} ({}) | {target} |", s(&a[key]), kb(&a[key]), s(&b[key]), kb(&b[key])));
    }
    let photo = |v: &Value| {
        let v = &v["photo_300kb_three_drops"];
        format!("{} % re-sent, {:.1} s ({})", v["resent_percent"], v["seconds"].as_f64().unwrap_or(f64::NAN), kb(v))
    };
    rows.push(format!("| a 300 KB photo, the link dropping three times (8 KiB chunks, fresh connections; a cut chunk counted whole) | {} | {} | ≤ 10 % re-sent |", photo(a), photo(b)));
    let week = |v: &Value| {
        let v = &v["week_offline"];
        format!("{:.1} s ({}, {} exchanges); photos: {} h projected", v["seconds"].as_f64().unwrap_or(f64::NAN), kb(v), v["exchanges"], v["photos_projected_hours"])
    };
    rows.push(format!(
        "| a week offline: 2,000 edits on 300 records, the link dropping three times, unattended; its 200 photos projected as 200 × the photo above | {} | {} | completes; report the time |",
        week(a),
        week(b)
    ));
    rows.join("\n")
}
