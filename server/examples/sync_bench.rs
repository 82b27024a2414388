//! Sync benchmarks against the real server (a `bmms serve` process) and PostgreSQL on
//! loopback, through a byte-counting TCP proxy so that HTTP framing is counted. Prints
//! a table and JSON, and writes both into docs/benchmarks.md. Run with `scripts/bench`.
//!
//! W1 reconnect: 500 documents on a device, 5 fields edited in each of 50 offline, one sync.
//! W2 conflict storm: 5 devices, 20 shared documents, 30 % of fields edited on several.
//! W3 cold start: a new device receives 1,000 and then 10,000 documents.
//! W5 load: 1,000 devices, each 5 documents x 5 edits, 50 at a time.

use automerge::ActorId;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::protocol::CONTENT_TYPE;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use uuid::Uuid;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const TEXT_FIELDS: [&str; 10] = [
    "community", "municipality", "province", "notes", "needs.health.notes", "needs.education.notes",
    "needs.livelihood.notes", "needs.water_sanitation.notes", "needs.infrastructure.notes", "needs.peace_order.notes",
];

/// Bytes that crossed the proxy, each way.
#[derive(Default)]
struct Wire {
    up: AtomicU64,
    down: AtomicU64,
    requests: AtomicU64,
}

impl Wire {
    fn reset(&self) {
        self.up.store(0, Ordering::SeqCst);
        self.down.store(0, Ordering::SeqCst);
        self.requests.store(0, Ordering::SeqCst);
    }
}

/// Forwards loopback connections to the server, counting bytes.
async fn proxy(server: String, wire: Arc<Wire>) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let server = server.clone();
            let wire = wire.clone();
            tokio::spawn(async move {
                let Ok(upstream) = tokio::net::TcpStream::connect(&server).await else { return };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = upstream.into_split();
                // Count as bytes pass, not at close: connections are kept alive between exchanges.
                let up = tokio::spawn(pump(client_read, server_write, wire.clone(), true));
                let down = tokio::spawn(pump(server_read, client_write, wire, false));
                let _ = tokio::join!(up, down);
            });
        }
    });
    Ok(address)
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    wire: Arc<Wire>,
    upward: bool,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let counter = if upward { &wire.up } else { &wire.down };
        counter.fetch_add(n as u64, Ordering::SeqCst);
        if to.write_all(&buffer[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

struct Bench {
    base: String,
    wire: Arc<Wire>,
    http: reqwest::Client,
    bmms: String,
    database_url: String,
    server_pid: u32,
    owner: sqlx::PgPool,
}

/// A signed-in session.
#[derive(Clone)]
struct Session {
    cookie: String,
    csrf: String,
}

struct Device {
    session: Session,
    client: SyncClient,
    now: u64,
}

impl Bench {
    fn create_user(&self, org: &str, username: &str) -> Result<String> {
        let out = std::process::Command::new(&self.bmms)
            .args(["admin", "create-user", "--org", org, "--username", username, "--display-name", "Bench", "--role", "field_officer"])
            .env("DATABASE_URL", &self.database_url)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.split("shown only now: ").nth(1).ok_or("create-user printed no password")?.trim().to_owned())
    }

    async fn sign_in(&self, org: &str, username: &str) -> Result<Session> {
        let password = self.create_user(org, username)?;
        let response = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.contains("bmms_session="))
            .and_then(|v| v.split(';').next())
            .ok_or("no session cookie")?
            .to_owned();
        let me: Value = response.json().await?;
        Ok(Session { cookie, csrf: me["csrf_token"].as_str().unwrap_or_default().to_owned() })
    }

    async fn device(&self, session: &Session) -> Result<Device> {
        let response = self
            .http
            .post(format!("{}/api/v1/devices", self.base))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .send()
            .await?;
        let body: Value = response.json().await?;
        let device_id: Uuid = body["device_id"].as_str().ok_or("no device id")?.parse()?;
        let actor = ActorId::from(hex::decode(body["actor"].as_str().ok_or("no actor")?)?);
        Ok(Device { session: session.clone(), client: SyncClient::new(device_id, actor), now: 0 })
    }

    /// One exchange; returns its latency.
    async fn sync(&self, device: &mut Device) -> Result<Duration> {
        device.now += 1_000_000;
        let (_, body) = device.client.next_request(device.now, Uuid::new_v4()).ok_or("nothing due")?;
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{}/api/v1/sync", self.base))
            .header("cookie", &device.session.cookie)
            .header("x-csrf-token", &device.session.csrf)
            .header("content-type", CONTENT_TYPE)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let elapsed = started.elapsed();
        self.wire.requests.fetch_add(1, Ordering::SeqCst);
        if !status.is_success() {
            return Err(format!("sync answered {status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
        device.client.on_response(&bytes)?;
        Ok(elapsed)
    }

    /// CPU seconds the server process has used.
    fn server_cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.server_pid)).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
        ticks / 100.0
    }

    async fn wal_lsn(&self) -> Result<String> {
        Ok(sqlx::query_scalar("select pg_current_wal_lsn()::text").fetch_one(&self.owner).await?)
    }

    async fn wal_bytes_since(&self, lsn: &str) -> Result<f64> {
        let bytes: sqlx::types::BigDecimal = sqlx::query_scalar("select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)")
            .bind(lsn)
            .fetch_one(&self.owner)
            .await?;
        Ok(bytes.to_string().parse()?)
    }
}

fn edit(device: &mut Device, doc: Uuid, field: &str, value: String) {
    device.client.edit(doc, |e| e.set(field, FieldValue::Text(value))).expect("a valid edit");
}

async fn w1_reconnect(bench: &Bench, session: &Session) -> Result<Value> {
    let mut device = bench.device(session).await?;
    let docs: Vec<Uuid> = (0..500).map(|_| device.client.create(Uuid::new_v4(), RecordKind::ManaAssessment)).collect();
    for (i, doc) in docs.iter().enumerate() {
        edit(&mut device, *doc, "community", format!("Barangay {i}"));
    }
    bench.sync(&mut device).await?;
    for doc in &docs[..50] {
        for field in &TEXT_FIELDS[..5] {
            edit(&mut device, *doc, field, format!("{field} seen on the visit of 21 November"));
        }
    }
    bench.wire.reset();
    let cpu = bench.server_cpu();
    bench.sync(&mut device).await?;
    let cpu = bench.server_cpu() - cpu;
    assert_eq!(device.client.pending_count(), 0);
    let up = bench.wire.up.load(Ordering::SeqCst) as f64;
    let down = bench.wire.down.load(Ordering::SeqCst) as f64;
    Ok(json!({
        "round_trips": bench.wire.requests.load(Ordering::SeqCst),
        "bytes_up_per_dirty_document": (up / 50.0).round(),
        "bytes_down_per_dirty_document": (down / 50.0).round(),
        "bytes_per_dirty_document": ((up + down) / 50.0).round(),
        "server_cpu_ms_per_edit": (cpu * 1000.0 / 250.0 * 100.0).round() / 100.0,
    }))
}

async fn w2_conflict_storm(bench: &Bench, sessions: &[Session], rng: &mut SmallRng) -> Result<Value> {
    let mut devices = Vec::new();
    for i in 0..5 {
        devices.push(bench.device(&sessions[i % sessions.len()]).await?);
    }
    let docs: Vec<Uuid> = (0..20).map(|_| devices[0].client.create(Uuid::new_v4(), RecordKind::ManaAssessment)).collect();
    bench.sync(&mut devices[0]).await?;
    for device in devices.iter_mut().skip(1) {
        bench.sync(device).await?;
    }
    let mut truly_concurrent = std::collections::BTreeSet::new();
    for doc in &docs {
        for field in TEXT_FIELDS {
            let writers: Vec<usize> = if rng.gen_bool(0.3) {
                let n = rng.gen_range(2..=5);
                let mut all: Vec<usize> = (0..5).collect();
                for i in 0..n {
                    let j = rng.gen_range(i..5);
                    all.swap(i, j);
                }
                all.truncate(n);
                truly_concurrent.insert((*doc, field.to_owned()));
                all
            } else {
                vec![rng.gen_range(0..5)]
            };
            for w in writers {
                edit(&mut devices[w], *doc, field, format!("device {w} says {}", rng.gen::<u32>()));
            }
        }
    }
    for _round in 0..2 {
        for device in devices.iter_mut() {
            bench.sync(device).await?;
        }
    }
    let ids: Vec<Uuid> = docs.clone();
    let surfaced: Vec<(Uuid, String)> =
        sqlx::query_as("select doc_id, field from conflicts where resolved_at is null and doc_id = any($1)")
            .bind(&ids)
            .fetch_all(&bench.owner)
            .await?;
    let surfaced: std::collections::BTreeSet<(Uuid, String)> = surfaced.into_iter().collect();
    let found = surfaced.intersection(&truly_concurrent).count();
    let false_ones = surfaced.difference(&truly_concurrent).count();
    Ok(json!({
        "true_conflicts": truly_concurrent.len(),
        "surfaced": surfaced.len(),
        "surfaced_percent": (found as f64 * 100.0 / truly_concurrent.len().max(1) as f64).round(),
        "false_conflicts": false_ones,
    }))
}

async fn w3_cold_start(bench: &Bench, session: &Session) -> Result<Value> {
    let mut writer = bench.device(session).await?;
    let mut results = Vec::new();
    let mut made = 0;
    for target in [1_000, 10_000] {
        while made < target {
            for _ in 0..500 {
                let doc = writer.client.create(Uuid::new_v4(), RecordKind::ManaAssessment);
                edit(&mut writer, doc, "community", format!("Barangay {made}"));
                edit(&mut writer, doc, "municipality", "Datu Odin Sinsuat".into());
                made += 1;
            }
            bench.sync(&mut writer).await?;
        }
        let mut fresh = bench.device(session).await?;
        bench.wire.reset();
        let started = Instant::now();
        bench.sync(&mut fresh).await?;
        let elapsed = started.elapsed();
        assert!(fresh.client.documents().len() >= target, "the new device has every document");
        let down = bench.wire.down.load(Ordering::SeqCst);
        results.push(json!({
            "documents": target,
            "bytes_down": down,
            "bytes_per_document": down / target as u64,
            "seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
        }));
    }
    Ok(json!(results))
}

async fn w5_load(bench: Arc<Bench>, sessions: Vec<Session>) -> Result<Value> {
    let mut devices = Vec::new();
    for i in 0..1_000 {
        let mut device = bench.device(&sessions[i % sessions.len()]).await?;
        for _ in 0..5 {
            let doc = device.client.create(Uuid::new_v4(), RecordKind::ManaAssessment);
            for field in &TEXT_FIELDS[..5] {
                edit(&mut device, doc, field, format!("{field} from device {i}"));
            }
        }
        devices.push(device);
    }
    let lsn = bench.wal_lsn().await?;
    let started = Instant::now();
    let latencies = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(50));
    let mut tasks = Vec::new();
    for mut device in devices {
        let permit = semaphore.clone().acquire_owned().await?;
        let bench = bench.clone();
        let latencies = latencies.clone();
        tasks.push(tokio::spawn(async move {
            let latency = bench.sync(&mut device).await;
            drop(permit);
            if let Ok(latency) = latency {
                latencies.lock().await.push(latency);
            }
            latency.map(|_| ()).map_err(|e| e.to_string())
        }));
    }
    for task in tasks {
        task.await?.map_err(|e| e.to_string())?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let edits = 1_000.0 * 25.0;
    let mut latencies = latencies.lock().await.clone();
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    let wal = bench.wal_bytes_since(&lsn).await?;
    Ok(json!({
        "devices": 1_000,
        "edits": edits,
        "edits_per_second": (edits / elapsed).round(),
        "p50_ms": percentile(0.50).round(),
        "p99_ms": percentile(0.99).round(),
        "postgres_wal_bytes_per_edit": (wal / edits).round(),
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let admin_url = std::env::var("DATABASE_URL").map_err(|_| "set DATABASE_URL (scripts/bench does)")?;
    let bmms = std::env::var("BMMS_BIN").unwrap_or_else(|_| "target/release/bmms".into());
    let name = format!("bmms_bench_{}", Uuid::new_v4().simple());
    let database_url = {
        let (head, query) = admin_url.split_once('?').map(|(h, q)| (h.to_owned(), format!("?{q}"))).unwrap_or((admin_url.clone(), String::new()));
        let base = head.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap_or(head);
        format!("{base}/{name}{query}")
    };

    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let mut server = tokio::process::Command::new(&bmms)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--db-max-connections", "24"])
        .env("DATABASE_URL", &database_url)
        .env("BMMS_LOG", "warn,bmms=info")
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
    let owner = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&database_url).await?;
    let bench = Arc::new(Bench {
        base,
        wire,
        http: reqwest::Client::builder().pool_max_idle_per_host(64).build()?,
        bmms,
        database_url,
        server_pid: server.id().ok_or("no server pid")?,
        owner,
    });

    let mut rng = SmallRng::seed_from_u64(2026);
    println!("W1 reconnect ...");
    let w1_session = bench.sign_in("MILG", "bench.w1").await?;
    let w1 = w1_reconnect(&bench, &w1_session).await?;
    println!("W2 conflict storm ...");
    let w2_sessions = vec![bench.sign_in("MOH", "bench.w2a").await?, bench.sign_in("MOH", "bench.w2b").await?];
    let w2 = w2_conflict_storm(&bench, &w2_sessions, &mut rng).await?;
    println!("W3 cold start ...");
    let w3 = w3_cold_start(&bench, &bench.sign_in("MSSD", "bench.w3").await?).await?;
    println!("W5 load ...");
    let orgs = ["MAFAR", "MBHTE", "MENRE", "MHSD", "MOLE", "MPW", "MOST", "MTIT", "MOTC", "MIPA"];
    let mut w5_sessions = Vec::new();
    for org in orgs {
        w5_sessions.push(bench.sign_in(org, &format!("bench.w5.{}", org.to_lowercase())).await?);
    }
    let w5 = w5_load(bench.clone(), w5_sessions).await?;

    let results = json!({"w1_reconnect": w1, "w2_conflict_storm": w2, "w3_cold_start": w3, "w5_load": w5});
    let table = format!(
        "| workload | figure | measured | target |\n|---|---|---|---|\n\
         | W1 reconnect | HTTP round trips | {} | 1 |\n\
         | W1 reconnect | bytes on the wire per dirty document (up + down, with HTTP framing) | {} ({} up, {} down) | ≤ 400 |\n\
         | W1 reconnect | server CPU per edit | {} ms | |\n\
         | W2 conflict storm | same-field conflicts surfaced | {} of {} ({} %) | 100 % |\n\
         | W2 conflict storm | false conflicts | {} | 0 |\n\
         | W3 cold start | 1,000 documents | {} bytes ({} per document), {} s | |\n\
         | W3 cold start | 10,000 documents | {} bytes ({} per document), {} s | |\n\
         | W5 load | edits per second | {} | ≥ 5,000 |\n\
         | W5 load | latency p50 / p99 | {} ms / {} ms | p99 < 250 ms |\n\
         | W5 load | PostgreSQL WAL bytes per edit | {} | |\n",
        w1["round_trips"], w1["bytes_per_dirty_document"], w1["bytes_up_per_dirty_document"], w1["bytes_down_per_dirty_document"],
        w1["server_cpu_ms_per_edit"],
        w2["surfaced"], w2["true_conflicts"], w2["surfaced_percent"], w2["false_conflicts"],
        w3[0]["bytes_down"], w3[0]["bytes_per_document"], w3[0]["seconds"],
        w3[1]["bytes_down"], w3[1]["bytes_per_document"], w3[1]["seconds"],
        w5["edits_per_second"], w5["p50_ms"], w5["p99_ms"], w5["postgres_wal_bytes_per_edit"],
    );
    println!("\n{table}\n{}", serde_json::to_string_pretty(&results)?);
    write_report(&table, &results)?;
    server.kill().await.ok();
    Ok(())
}

/// Replaces the sync section of docs/benchmarks.md with these figures.
fn write_report(table: &str, results: &Value) -> Result<()> {
    let path = "docs/benchmarks.md";
    let existing = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let start = "<!-- sync-bench:start -->";
    let end = "<!-- sync-bench:end -->";
    let section = format!(
        "{start}\n## Sync (issue 3)\n\nMeasured with `scripts/bench` on {} (2 cores, 24 GiB), server in release mode, \
         PostgreSQL on the same machine, traffic through a loopback byte-counting proxy.\n\n{table}\n```json\n{}\n```\n{end}",
        chrono::Utc::now().format("%Y-%m-%d"),
        serde_json::to_string_pretty(results)?
    );
    let updated = match (existing.find(start), existing.find(end)) {
        (Some(a), Some(b)) => format!("{}{}{}", &existing[..a], section, &existing[b + end.len()..]),
        _ => format!("{}\n{}\n", existing.trim_end(), section),
    };
    std::fs::write(path, updated)?;
    Ok(())
}
