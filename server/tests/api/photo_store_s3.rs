//! Photos kept in S3-compatible storage (`BMMS_PHOTO_STORE=s3://bucket/prefix`) through a
//! real S3 server over HTTP: moto's, which `scripts/install-tools --for-tests` puts in
//! tools/s3-venv.

use crate::helpers::{free_port, spawn_app_with};
use crate::photos::{get_photo, officer, photo, upload};
use bmms_server::photo_store::PhotoStore;
use bmms_shared::{photos, DocId};
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use uuid::Uuid;

/// moto's S3 server on a port of its own, stopped when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_s3() -> S3Server {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/s3-venv/bin/python");
    assert!(python.exists(), "moto's S3 server is not installed: run scripts/install-tools --for-tests");
    let port = free_port();
    let mut child = Command::new(python)
        .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moto's server starts");
    let stderr = child.stderr.take().expect("piped");
    let server = S3Server { child, endpoint: format!("http://127.0.0.1:{port}") };
    // Ready once it says where it listens (werkzeug's "Running on http://...").
    let ready = tokio::task::spawn_blocking(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("Running on http") {
                return Ok(());
            }
            log.push_str(&line);
            log.push('\n');
        }
        Err(log)
    });
    match tokio::time::timeout(Duration::from_secs(60), ready).await {
        Ok(Ok(Ok(()))) => server,
        Ok(Ok(Err(log))) => panic!("moto's S3 server stopped:\n{log}"),
        _ => panic!("moto's S3 server did not start within 60 s"),
    }
}

#[tokio::test]
async fn photos_kept_in_s3_compatible_storage_are_served_whole() {
    let s3 = start_s3().await;
    let bucket = reqwest::Client::new().put(format!("{}/bmms-photos", s3.endpoint)).send().await.unwrap();
    assert!(bucket.status().is_success(), "the bucket is made: {}", bucket.status());
    let options = [
        ("aws_endpoint", s3.endpoint.as_str()),
        ("aws_allow_http", "true"),
        ("aws_access_key_id", "test"),
        ("aws_secret_access_key", "test"),
        ("aws_region", "us-east-1"),
    ];
    let store = PhotoStore::s3("s3://bmms-photos/field", &options).unwrap();
    let app = spawn_app_with(|settings| settings.photos = store).await;
    let ana = officer(&app, "MILG", "ana").await;
    let bytes = photo(&mut SmallRng::seed_from_u64(5), 3 * photos::CHUNK_BYTES + 17);
    let name = photos::name_of(&bytes);

    upload(&app.http, &app.base, &ana, &bytes, DocId(Uuid::new_v4())).await;
    let served = get_photo(&app, &ana, &name).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().as_ref(), bytes.as_slice(), "BMMS serves the photo from the bucket");
    // It is in the bucket, under the prefix and its organization: another server with the
    // same settings reads it; one without the prefix finds nothing there.
    let org = app.org_id("MILG").await;
    let again = PhotoStore::s3("s3://bmms-photos/field", &options).unwrap();
    assert_eq!(again.get(org, &name).await.unwrap().as_deref(), Some(bytes.as_slice()));
    let elsewhere = PhotoStore::s3("s3://bmms-photos", &options).unwrap();
    assert_eq!(elsewhere.get(org, &name).await.unwrap(), None);
    assert!(!elsewhere.holds(org, &name).await.unwrap());
}
