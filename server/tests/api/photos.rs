//! Photos of records over real HTTP and PostgreSQL (docs/sync-protocol.md, "Photos"): a
//! photo goes up in chunks that resume where the server stands, even through a link
//! that drops at random (replay one run with BMMS_PHOTO_SEED=<seed>); a damaged chunk or
//! photo is refused and sent again; a photo of another organization is never served.

use crate::helpers::{error_of, spawn_app, Browser, TestApp};
use bmms_shared::photos::{self, PhotoProgress, Upload, CHECKSUM_HEADER, CHUNK_BYTES, OFFSET_HEADER};
use bmms_shared::{DocId, Role};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use reqwest::header::{CONTENT_TYPE, COOKIE};
use serde_json::json;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use std::sync::{Arc, Mutex};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use uuid::Uuid;

/// A photo's worth of bytes (random, so nothing compresses them on the way).
pub(crate) fn photo(rng: &mut SmallRng, size: usize) -> Vec<u8> {
    let mut bytes = vec![0; size];
    rng.fill_bytes(&mut bytes);
    bytes
}

fn new_photo(bytes: &[u8], record: DocId) -> serde_json::Value {
    json!({"sha256": photos::name_of(bytes), "size": bytes.len(), "media_type": "image/jpeg", "record": record})
}

async fn announce(http: &reqwest::Client, base: &str, browser: &Browser, bytes: &[u8], record: DocId) -> reqwest::Result<reqwest::Response> {
    http.post(format!("{base}/api/v1/photos"))
        .header(COOKIE, &browser.cookie)
        .header("x-csrf-token", &browser.csrf)
        .header(CONTENT_TYPE, "application/json")
        .body(new_photo(bytes, record).to_string())
        .send()
        .await
}

async fn send_chunk(
    http: &reqwest::Client,
    base: &str,
    browser: &Browser,
    name: &str,
    offset: u64,
    checksum: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    http.patch(format!("{base}/api/v1/photos/{name}"))
        .header(COOKIE, &browser.cookie)
        .header("x-csrf-token", &browser.csrf)
        .header(OFFSET_HEADER, offset)
        .header(CHECKSUM_HEADER, checksum)
        .body(body)
        .send()
        .await
}

/// Sends `bytes` as the app does: announce, then chunks, asking again after any failure.
/// Returns the bytes put on the wire.
pub(crate) async fn upload(http: &reqwest::Client, base: &str, browser: &Browser, bytes: &[u8], record: DocId) -> u64 {
    let name = photos::name_of(bytes);
    let mut upload = Upload::new(bytes.len() as u64);
    for _ in 0..500 {
        let answer = match upload.next_chunk(bytes) {
            None => announce(http, base, browser, bytes, record).await,
            Some(chunk) => send_chunk(http, base, browser, &name, chunk.offset, &chunk.checksum, bytes[chunk.range].to_vec()).await,
        };
        let progress = match answer {
            Ok(answer) if answer.status() == 200 => answer.json::<PhotoProgress>().await.ok(),
            _ => None,
        };
        match progress {
            Some(progress) => upload.on_progress(progress),
            None => upload.on_failure(),
        }
        if upload.is_complete() {
            return upload.bytes_sent;
        }
    }
    panic!("the photo did not get through in 500 requests");
}

pub(crate) async fn get_photo(app: &TestApp, browser: &Browser, name: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/photos/{name}"), browser).await
}

pub(crate) async fn officer(app: &TestApp, org: &str, username: &str) -> Browser {
    app.create_user(org, username, Role::FieldOfficer).await;
    app.sign_in(username).await
}

#[tokio::test]
async fn a_photo_sent_in_chunks_is_served_whole_to_the_organization_only() {
    let app = spawn_app().await;
    let ana = officer(&app, "MILG", "ana").await;
    app.create_user("MILG", "sofia", Role::Supervisor).await;
    let sofia = app.sign_in("sofia").await;
    let other = officer(&app, "MOH", "omar").await;
    let bytes = photo(&mut SmallRng::seed_from_u64(1), 3 * CHUNK_BYTES + 1_000);
    let name = photos::name_of(&bytes);

    // Not there before it is whole: a half-sent photo is nobody's to see.
    let first = announce(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await.unwrap();
    assert_eq!(first.json::<PhotoProgress>().await.unwrap(), PhotoProgress { offset: 0, complete: false });
    let chunk = &bytes[..CHUNK_BYTES];
    let answer = send_chunk(&app.http, &app.base, &ana, &name, 0, &photos::name_of(chunk), chunk.to_vec()).await.unwrap();
    assert_eq!(answer.json::<PhotoProgress>().await.unwrap().offset, CHUNK_BYTES as u64);
    assert_eq!(get_photo(&app, &sofia, &name).await.status(), 404);

    upload(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await;
    let served = get_photo(&app, &sofia, &name).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()[CONTENT_TYPE], "image/jpeg");
    assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice(), "the supervisor sees the officer's photo, byte for byte");

    // Another organization's officer knows the name and still gets nothing, even by
    // naming the organization.
    let (status, _, _) = error_of(get_photo(&app, &other, &name).await).await;
    assert_eq!(status, 404);
    let milg = app.org_id("MILG").await;
    assert_eq!(app.get(&format!("/api/v1/photos/{name}?org={milg}"), &other).await.status(), 404);
    // Announcing it again in the other organization does not reveal it: that upload starts at 0.
    let theirs = announce(&app.http, &app.base, &other, &bytes, DocId(Uuid::new_v4())).await.unwrap();
    assert_eq!(theirs.json::<PhotoProgress>().await.unwrap(), PhotoProgress { offset: 0, complete: false });
    // Announcing it again where it is whole says so at once: nothing is sent twice.
    let again = announce(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await.unwrap();
    assert_eq!(again.json::<PhotoProgress>().await.unwrap(), PhotoProgress { offset: bytes.len() as u64, complete: true });
}

#[tokio::test]
async fn a_damaged_chunk_or_photo_is_refused_and_sent_again() {
    let app = spawn_app().await;
    let ana = officer(&app, "MILG", "ana").await;
    let bytes = photo(&mut SmallRng::seed_from_u64(2), 2 * CHUNK_BYTES);
    let name = photos::name_of(&bytes);
    announce(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await.unwrap();

    // A bit flipped on the way: the chunk's checksum no longer matches.
    let chunk = &bytes[..CHUNK_BYTES];
    let mut damaged = chunk.to_vec();
    damaged[100] ^= 1;
    let answer = send_chunk(&app.http, &app.base, &ana, &name, 0, &photos::name_of(chunk), damaged).await.unwrap();
    let (status, code, message) = error_of(answer).await;
    assert_eq!((status, code.as_str()), (422, "chunk_damaged"), "{message}");
    // A chunk from the wrong place: the server says where it stands.
    let later = &bytes[CHUNK_BYTES..];
    let answer = send_chunk(&app.http, &app.base, &ana, &name, CHUNK_BYTES as u64, &photos::name_of(later), later.to_vec()).await.unwrap();
    let (status, code, message) = error_of(answer).await;
    assert_eq!((status, code.as_str()), (409, "offset_mismatch"));
    assert!(message.contains("holds 0 bytes"), "{message}");

    // Chunks that each match their checksum but make up other bytes than the name says:
    // the whole photo is refused and dropped, and the next upload starts from nothing.
    let other = photo(&mut SmallRng::seed_from_u64(3), 2 * CHUNK_BYTES);
    for at in [0, CHUNK_BYTES] {
        let chunk = &other[at..at + CHUNK_BYTES];
        let answer = send_chunk(&app.http, &app.base, &ana, &name, at as u64, &photos::name_of(chunk), chunk.to_vec()).await.unwrap();
        if at == 0 {
            assert_eq!(answer.status(), 200);
        } else {
            let (status, code, _) = error_of(answer).await;
            assert_eq!((status, code.as_str()), (422, "photo_damaged"));
        }
    }
    let restart = announce(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await.unwrap();
    assert_eq!(restart.json::<PhotoProgress>().await.unwrap(), PhotoProgress { offset: 0, complete: false });
    upload(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await;
    assert_eq!(get_photo(&app, &ana, &name).await.bytes().await.unwrap().as_ref(), bytes.as_slice());
}

#[tokio::test]
async fn what_a_photo_may_be_is_said_plainly() {
    let app = spawn_app().await;
    let ana = officer(&app, "MILG", "ana").await;
    let record = DocId(Uuid::new_v4());
    let cases = [
        (json!({"sha256": "abc", "size": 10, "media_type": "image/jpeg", "record": record}), "sha256"),
        (json!({"sha256": photos::name_of(b"x"), "size": 3 * 1024 * 1024, "media_type": "image/jpeg", "record": record}), "size"),
        (json!({"sha256": photos::name_of(b"x"), "size": 1, "media_type": "image/svg+xml", "record": record}), "media_type"),
    ];
    for (body, field) in cases {
        let answer = app.request(reqwest::Method::POST, "/api/v1/photos", Some(&ana), Some(body)).await;
        let status = answer.status();
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!((status.as_u16(), body["field"].as_str()), (422, Some(field)), "{body}");
    }
    // A chunk of a photo nobody announced, and one without its checksum.
    let name = photos::name_of(b"never announced");
    let answer = send_chunk(&app.http, &app.base, &ana, &name, 0, &photos::name_of(b"x"), b"x".to_vec()).await.unwrap();
    assert_eq!(error_of(answer).await.0, 404);
    let answer = app.http.patch(format!("{}/api/v1/photos/{name}", app.base)).header(COOKIE, &ana.cookie).header("x-csrf-token", &ana.csrf).body("x").send().await.unwrap();
    let (status, code, _) = error_of(answer).await;
    assert_eq!((status, code.as_str()), (400, "offset_missing"));
}

/// Forwards connections to `upstream`, each cut after a random number of bytes (in either
/// direction, up to four chunks' worth), as a 2G link drops again and again.
async fn cutting_proxy(upstream: SocketAddr, seed: u64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut rng = SmallRng::seed_from_u64(seed);
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let cut_after = rng.gen_range(0..4 * CHUNK_BYTES);
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(upstream).await else { return };
                let ((client_read, client_write), (server_read, server_write)) = (inbound.into_split(), outbound.into_split());
                let left = Arc::new(Mutex::new(cut_after));
                // Whichever side ends first ends the connection, as a dropped link does.
                tokio::select! {
                    _ = pipe(client_read, server_write, left.clone()) => {}
                    _ = pipe(server_read, client_write, left) => {}
                }
            });
        }
    });
    address
}

/// Copies bytes until either end closes or the connection's bytes `left` run out.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, left: Arc<Mutex<usize>>) {
    let mut buffer = vec![0; 4096];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let allowed = {
            let mut left = left.lock().unwrap();
            let allowed = n.min(*left);
            *left -= allowed;
            allowed
        };
        if to.write_all(&buffer[..allowed]).await.is_err() || allowed < n {
            return;
        }
    }
}

#[tokio::test]
async fn photos_get_through_a_link_that_drops_at_random_and_arrive_whole() {
    let seed = std::env::var("BMMS_PHOTO_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261207);
    eprintln!("photo upload through a dropping link: BMMS_PHOTO_SEED={seed}");
    let app = spawn_app().await;
    let ana = officer(&app, "MILG", "ana").await;
    let upstream: SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    let proxy = cutting_proxy(upstream, seed).await;
    // A client that gives up on a silent link, as the app's fetch does.
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();
    let mut rng = SmallRng::seed_from_u64(seed);
    let (mut photo_bytes, mut wire_bytes) = (0, 0);
    for _ in 0..4 {
        let size = rng.gen_range(1..6 * CHUNK_BYTES);
        let bytes = photo(&mut rng, size);
        let sent = upload(&http, &format!("http://{proxy}"), &ana, &bytes, DocId(Uuid::new_v4())).await;
        assert!(sent >= bytes.len() as u64);
        (photo_bytes, wire_bytes) = (photo_bytes + bytes.len() as u64, wire_bytes + sent);
        let served = get_photo(&app, &ana, &photos::name_of(&bytes)).await;
        assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice(), "the photo arrived whole (BMMS_PHOTO_SEED={seed})");
    }
    assert!(wire_bytes > photo_bytes, "the link dropped chunks on their way (BMMS_PHOTO_SEED={seed})");
    let (held, stored, chunks_left): (i64, i64, i64) =
        sqlx::query_as("select count(*), count(*) filter (where stored), (select count(*) from photo_chunks) from photos")
            .fetch_one(&app.owner)
            .await
            .unwrap();
    assert_eq!((held, stored, chunks_left), (4, 4, 0), "every photo is stored, and nothing of its upload is left behind");
}

#[tokio::test]
async fn unfinished_uploads_are_bounded_and_forgotten_after_30_days() {
    let app = spawn_app().await;
    let ana = officer(&app, "MILG", "ana").await;
    let mut rng = SmallRng::seed_from_u64(4);
    let mut begun = Vec::new();
    for _ in 0..50 {
        let bytes = photo(&mut rng, 100);
        assert_eq!(announce(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await.unwrap().status(), 200);
        begun.push(bytes);
    }
    let fifty_first = photo(&mut rng, 100);
    let answer = announce(&app.http, &app.base, &ana, &fifty_first, DocId(Uuid::new_v4())).await.unwrap();
    let (status, code, message) = error_of(answer).await;
    assert_eq!((status, code.as_str()), (422, "too_many_unfinished"), "{message}");
    // Finishing one makes room; so does one left for 30 days, which is then forgotten.
    upload(&app.http, &app.base, &ana, &begun[0], DocId(Uuid::new_v4())).await;
    sqlx::query("update photos set created_at = now() - interval '31 days' where sha256 = $1")
        .bind(photos::name_of(&begun[1]))
        .execute(&app.owner)
        .await
        .unwrap();
    for bytes in [&fifty_first, &photo(&mut rng, 100)] {
        assert_eq!(announce(&app.http, &app.base, &ana, bytes, DocId(Uuid::new_v4())).await.unwrap().status(), 200);
    }
    let forgotten: i64 = sqlx::query_scalar("select count(*) from photos where sha256 = $1")
        .bind(photos::name_of(&begun[1]))
        .fetch_one(&app.owner)
        .await
        .unwrap();
    assert_eq!(forgotten, 0);
}
