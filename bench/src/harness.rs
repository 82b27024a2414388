//! The measuring kit: a byte-counting loopback proxy in front of the server, and a
//! client that signs in, registers devices and syncs them over real HTTP.

use bmms_shared::DeviceId;
use bmms_shared::BatchId;
use automerge::ActorId;
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::protocol::CONTENT_TYPE;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const TEXT_FIELDS: [&str; 10] = [
    "community", "municipality", "province", "notes", "needs.health.notes", "needs.education.notes",
    "needs.livelihood.notes", "needs.water_sanitation.notes", "needs.infrastructure.notes", "needs.peace_order.notes",
];

/// Bytes that crossed the proxy, each way.
#[derive(Default)]
pub struct Wire {
    pub up: AtomicU64,
    pub down: AtomicU64,
    pub requests: AtomicU64,
}

impl Wire {
    pub fn reset(&self) {
        self.up.store(0, Ordering::SeqCst);
        self.down.store(0, Ordering::SeqCst);
        self.requests.store(0, Ordering::SeqCst);
    }
}

/// Forwards loopback connections to the server, counting bytes.
pub async fn proxy(server: String, wire: Arc<Wire>) -> Result<String> {
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

/// Runs `job` on every item, each in a task of its own and at most `at_once` at a time (as
/// that many phones would); the results come back in the items' order.
pub async fn at_most<I, T, Fut>(at_once: usize, items: impl IntoIterator<Item = I>, job: impl Fn(I) -> Fut) -> Result<Vec<T>>
where
    Fut: std::future::Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(at_once));
    let mut tasks = Vec::new();
    for item in items {
        let permit = semaphore.clone().acquire_owned().await?;
        let work = job(item);
        tasks.push(tokio::spawn(async move {
            let result = work.await;
            drop(permit);
            result
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await??);
    }
    Ok(results)
}

/// Signs `username` in at `base` with `http`; the session.
pub async fn log_in(http: &reqwest::Client, base: &str, username: &str, password: &str) -> Result<Session> {
    let response = http.post(format!("{base}/api/v1/auth/login")).json(&json!({"username": username, "password": password})).send().await?;
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

pub struct Bench {
    /// The server's address through the byte-counting proxy.
    pub base: String,
    /// The server's own address, for load that needs no byte counts.
    pub direct: String,
    pub wire: Arc<Wire>,
    pub http: reqwest::Client,
    pub bmms: String,
    pub database_url: String,
    pub server_pid: u32,
    pub owner: sqlx::PgPool,
}

/// A signed-in session.
#[derive(Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub struct Device {
    pub session: Session,
    pub client: SyncClient,
    pub now: u64,
}

impl Bench {
    pub fn create_user(&self, org: &str, username: &str, role: &str) -> Result<String> {
        let out = std::process::Command::new(&self.bmms)
            .args(["admin", "create-user", "--org", org, "--username", username, "--display-name", "Bench", "--role", role])
            .env("DATABASE_URL", &self.database_url)
            .output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(text.split("shown only now: ").nth(1).ok_or("create-user printed no password")?.trim().to_owned())
    }

    pub async fn sign_in(&self, org: &str, username: &str) -> Result<Session> {
        self.sign_in_as(org, username, "field_officer").await
    }

    /// A new user of `org` with `role`, signed in.
    pub async fn sign_in_as(&self, org: &str, username: &str, role: &str) -> Result<Session> {
        let password = self.create_user(org, username, role)?;
        log_in(&self.http, &self.base, username, &password).await
    }

    pub async fn device(&self, session: &Session) -> Result<Device> {
        let response = self
            .http
            .post(format!("{}/api/v1/devices", self.base))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .send()
            .await?;
        let body: Value = response.json().await?;
        let device_id: DeviceId = body["device_id"].as_str().ok_or("no device id")?.parse()?;
        let actor = ActorId::from(hex::decode(body["actor"].as_str().ok_or("no actor")?)?);
        Ok(Device { session: session.clone(), client: SyncClient::new(device_id, actor), now: 0 })
    }

    /// One exchange; returns its latency.
    pub async fn sync(&self, device: &mut Device) -> Result<Duration> {
        self.exchange(device, true).await
    }

    /// One exchange whose answer is only checked, not merged into the device's documents:
    /// for load tests, where merging would take the CPU the server is measured on.
    pub async fn sync_without_applying(&self, device: &mut Device) -> Result<Duration> {
        self.exchange(device, false).await
    }

    async fn exchange(&self, device: &mut Device, apply: bool) -> Result<Duration> {
        let body = Self::prepare(device)?;
        let (latency, answer) = self.post(&device.session, body).await?;
        if apply {
            device.client.on_response(&answer)?;
        } else {
            Self::check(&answer)?;
        }
        Ok(latency)
    }

    /// The device's next request body, as the phone would build it.
    pub fn prepare(device: &mut Device) -> Result<Vec<u8>> {
        device.now += 1_000_000;
        let (_, body) = device.client.next_request(device.now, BatchId(Uuid::new_v4())).ok_or("nothing due")?;
        Ok(body)
    }

    /// Sends one request body through the proxy; returns the latency and the answer's bytes.
    pub async fn post(&self, session: &Session, body: Vec<u8>) -> Result<(Duration, Vec<u8>)> {
        self.post_to(&self.base, session, body).await
    }

    /// Sends one request body to `base`; returns the latency and the answer's bytes.
    pub async fn post_to(&self, base: &str, session: &Session, body: Vec<u8>) -> Result<(Duration, Vec<u8>)> {
        let started = Instant::now();
        let response = self
            .http
            .post(format!("{base}/api/v1/sync"))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf)
            .header("content-type", CONTENT_TYPE)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let bytes = response.bytes().await?.to_vec();
        let elapsed = started.elapsed();
        self.wire.requests.fetch_add(1, Ordering::SeqCst);
        if !status.is_success() {
            return Err(format!("sync answered {status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
        Ok((elapsed, bytes))
    }

    /// Reads an answer without merging it: it must decode and refuse nothing.
    pub fn check(answer: &[u8]) -> Result<()> {
        let answer: bmms_shared::sync::protocol::SyncResponse = bmms_shared::sync::protocol::decode(answer)?;
        if !answer.rejections.is_empty() {
            return Err(format!("the server refused {} documents", answer.rejections.len()).into());
        }
        Ok(())
    }

    /// CPU seconds the server process has used.
    pub fn server_cpu(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.server_pid)).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
            + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
        ticks / 100.0
    }

    /// Vacuums and checkpoints the database, as pgbench does before a run, so that a load
    /// test does not pay for the cleanup and the dirty pages the workloads before it left.
    pub async fn settle(&self) -> Result<()> {
        sqlx::query("vacuum analyze").execute(&self.owner).await?;
        sqlx::query("checkpoint").execute(&self.owner).await?;
        Ok(())
    }

    pub async fn wal_lsn(&self) -> Result<String> {
        Ok(sqlx::query_scalar("select pg_current_wal_lsn()::text").fetch_one(&self.owner).await?)
    }

    pub async fn wal_bytes_since(&self, lsn: &str) -> Result<f64> {
        let bytes: sqlx::types::BigDecimal = sqlx::query_scalar("select pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)")
            .bind(lsn)
            .fetch_one(&self.owner)
            .await?;
        Ok(bytes.to_string().parse()?)
    }
}

