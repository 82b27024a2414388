//! Sync with the app closed (issue 18): the app leaves one request of its outbox for the
//! service worker, which sends it and keeps the answer; the app takes that answer as the
//! answer to its own request when it runs again. What a user would notice: the edits the
//! worker sent are not waiting any more, nothing reaches the server twice, others' news is
//! on the device, and an answer the device has moved on from changes nothing.

use automerge::ActorId;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::sync::client::SyncClient;
use bmms_shared::sync::memory_server::MemoryServer;
use bmms_shared::{BatchId, DeviceId, DocId};
use uuid::Uuid;

fn device(server: &mut MemoryServer, n: u128) -> SyncClient {
    let device_id = DeviceId(Uuid::from_u128(n));
    let actor = ActorId::from(device_id.uuid().as_bytes().to_vec());
    server.register_device(device_id, actor.clone());
    SyncClient::new(device_id, actor)
}

fn set(client: &mut SyncClient, doc: DocId, community: &str) {
    client.edit(doc, |e| e.set("community", FieldValue::Text(community.into()))).expect("a valid edit");
}

/// Syncs `client` with `server` until nothing is left to send.
fn sync(client: &mut SyncClient, server: &mut MemoryServer) {
    while let Some((_, body)) = client.next_request(0, BatchId(Uuid::new_v4())) {
        let answer = server.handle(&body).expect("an answer");
        client.on_response(&answer).expect("a readable answer");
        if !client.has_unsent() {
            break;
        }
    }
}

#[test]
fn an_answer_the_worker_brought_back_counts_as_this_devices_own() {
    let mut server = MemoryServer::default();
    let mut officer = device(&mut server, 1);
    let mut colleague = device(&mut server, 2);
    let mine = officer.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    set(&mut officer, mine, "Poblacion");
    let theirs = colleague.create(DocId(Uuid::from_u128(11)), RecordKind::ManaAssessment);
    set(&mut colleague, theirs, "Bagumbayan");
    sync(&mut colleague, &mut server);

    // The app closes with two edits waiting; the worker sends them and keeps the answer.
    let request = officer.request_for_later(BatchId(Uuid::new_v4())).expect("edits wait");
    assert!(!officer.is_in_flight(), "leaving a request does not stop the app from sending");
    let answer = server.handle(&request).expect("an answer");
    assert_eq!(server.logged_hashes().len(), 4, "the officer's two changes and the colleague's two");

    // The app opens again and takes the worker's answer.
    let taken = officer.take_answer_for(&request, &answer).expect("a readable answer").expect("taken");
    assert_eq!(taken.acknowledged, 2);
    assert_eq!(officer.pending_count(), 0, "nothing waits any more");
    assert!(officer.documents().contains_key(&theirs), "the colleague's record came with the answer");
    // Its next exchange carries nothing, and nothing reached the server twice.
    let (_, next) = officer.next_request(0, BatchId(Uuid::new_v4())).expect("a poll");
    server.handle(&next).expect("an answer");
    assert_eq!(server.logged_hashes().len(), 4);
}

#[test]
fn an_answer_the_device_has_moved_on_from_changes_nothing() {
    let mut server = MemoryServer::default();
    let mut officer = device(&mut server, 1);
    let mine = officer.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    let request = officer.request_for_later(BatchId(Uuid::new_v4())).expect("edits wait");
    let answer = server.handle(&request).expect("an answer");
    // Meanwhile the app synced by itself, and was edited again.
    sync(&mut officer, &mut server);
    set(&mut officer, mine, "Poblacion");
    let cursor = officer.cursor();

    assert_eq!(officer.take_answer_for(&request, &answer).expect("a readable answer"), None);
    assert_eq!(officer.cursor(), cursor);
    assert_eq!(officer.pending_count(), 1, "the new edit still waits");
    // Bytes that are no answer are refused, and leave the device able to send.
    assert!(officer.take_answer_for(&officer.request_for_later(BatchId(Uuid::new_v4())).unwrap(), b"no answer").is_err());
    sync(&mut officer, &mut server);
    assert_eq!(officer.pending_count(), 0);
}

#[test]
fn the_request_left_carries_the_batch_in_flight_and_what_came_after() {
    let mut server = MemoryServer::default();
    let mut officer = device(&mut server, 1);
    let doc = officer.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    // An exchange whose answer was lost (the server stored its change), then one more edit.
    let (_, sent) = officer.next_request(0, BatchId(Uuid::new_v4())).expect("a request");
    server.handle(&sent).expect("an answer");
    officer.on_failure(0);
    set(&mut officer, doc, "Poblacion");

    let left = officer.request_for_later(BatchId(Uuid::new_v4())).expect("edits wait");
    let answer = server.handle(&left).expect("an answer");
    let taken = officer.take_answer_for(&left, &answer).expect("readable").expect("taken");
    assert_eq!(taken.acknowledged, 2, "both edits are acknowledged");
    assert_eq!(officer.pending_count(), 0);
    assert!(!officer.is_in_flight(), "the lost exchange is not sent again");
    assert_eq!(server.logged_hashes().len(), 2, "each change stored once");
}
