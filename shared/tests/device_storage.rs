//! What the app keeps in IndexedDB between sessions: a device restored from its stored
//! records holds the same documents and outbox, and goes on syncing as if never closed.
//! Also the officer's last resort (export and import of unsynced edits) and the fix of a
//! refused record.

use automerge::ActorId;
use bmms_shared::records::{self, FieldValue, RecordKind};
use bmms_shared::sync::client::{RecordSyncState, StoredRecord, SyncClient};
use bmms_shared::sync::memory_server::MemoryServer;
use bmms_shared::sync::protocol;
use bmms_shared::{BatchId, DeviceId, DocId};
use uuid::Uuid;

fn actor() -> ActorId {
    ActorId::from(vec![9u8; 16])
}

/// Saves what the client says is unsaved into `store`, as the app does after each step.
fn save(client: &mut SyncClient, store: &mut std::collections::BTreeMap<DocId, Vec<u8>>) {
    let (ids, _) = client.take_unsaved();
    for id in ids {
        let record = client.stored_record(id).expect("an unsaved record exists");
        store.insert(id, protocol::encode(&record));
    }
}

fn restore(client: &SyncClient, store: &std::collections::BTreeMap<DocId, Vec<u8>>) -> SyncClient {
    let records: Vec<StoredRecord> = store.values().map(|b| protocol::decode(b).unwrap()).collect();
    SyncClient::restore(client.device_id(), actor(), client.cursor(), records).unwrap()
}

#[test]
fn a_restored_device_has_its_records_and_outbox_and_syncs_them_once() {
    let mut server = MemoryServer::default();
    let device_id = DeviceId(Uuid::from_u128(1));
    server.register_device(device_id, actor());
    let mut client = SyncClient::new(device_id, actor());
    let mut store = Default::default();

    let synced = client.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    client.edit(synced, |e| e.set("community", FieldValue::Text("Poblacion".into()))).unwrap();
    let (_, body) = client.next_request(0, BatchId(Uuid::from_u128(100))).unwrap();
    client.on_response(&server.handle(&body).unwrap()).unwrap();
    save(&mut client, &mut store);
    assert_eq!(client.record_state(synced), RecordSyncState::Synced);

    // Offline: a new record and an edit of the synced one; then the app is closed.
    let fresh = client.create(DocId(Uuid::from_u128(11)), RecordKind::MonitoringTask);
    client.edit(fresh, |e| e.set("progress_percent", FieldValue::Integer(40))).unwrap();
    client.edit(synced, |e| e.set("households", FieldValue::Integer(120))).unwrap();
    save(&mut client, &mut store);

    let mut reopened = restore(&client, &store);
    assert_eq!(reopened.pending_count(), client.pending_count());
    assert_eq!(reopened.record_state(fresh), RecordSyncState::Waiting(2));
    assert_eq!(records::get(&reopened.documents()[&synced].doc(), "households"), Some(FieldValue::Integer(120)));
    assert_eq!(reopened.take_unsaved(), (vec![], false), "nothing to write right after loading");

    let (_, body) = reopened.next_request(0, BatchId(Uuid::from_u128(101))).unwrap();
    let summary = reopened.on_response(&server.handle(&body).unwrap()).unwrap();
    assert_eq!(summary.acknowledged, 3);
    assert_eq!(reopened.pending_count(), 0);
    let (saved, cursor_moved) = reopened.take_unsaved();
    assert_eq!(saved, vec![synced, fresh], "both records changed state and must be written");
    assert!(cursor_moved);
    let on_server = server.document(synced).unwrap();
    assert_eq!(records::get(on_server, "households"), Some(FieldValue::Integer(120)));
    assert_eq!(server.logged_hashes().len(), server.logged_hashes().iter().collect::<std::collections::BTreeSet<_>>().len());
}

#[test]
fn an_import_file_with_a_damaged_record_is_refused_whole() {
    let mut client = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor());
    let doc = client.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    let mut exported = client.export_unsynced();
    exported[0].document = vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3];
    let mut elsewhere = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor());
    assert!(elsewhere.import_unsynced(exported).is_err());
    assert!(!elsewhere.documents().contains_key(&doc));
    assert_eq!(elsewhere.pending_count(), 0);
}

#[test]
fn exported_unsynced_edits_come_back_once() {
    let mut client = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor());
    let doc = client.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    client.edit(doc, |e| e.set("respondents", FieldValue::Integer(12))).unwrap();
    let exported = protocol::encode(&client.export_unsynced());

    // Imported into an empty device (the browser's storage was cleared): all come back.
    let mut emptied = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor());
    let records: Vec<StoredRecord> = protocol::decode(&exported).unwrap();
    assert_eq!(emptied.import_unsynced(records.clone()).unwrap(), 2);
    assert_eq!(records::get(&emptied.documents()[&doc].doc(), "respondents"), Some(FieldValue::Integer(12)));
    // Imported again: nothing doubles.
    assert_eq!(emptied.import_unsynced(records).unwrap(), 0);
    assert_eq!(emptied.pending_count(), 2);
}

#[test]
fn a_refused_record_is_sent_again_once_the_officer_edits_it() {
    let mut server = MemoryServer::default();
    let device_id = DeviceId(Uuid::from_u128(1));
    server.register_device(device_id, actor());
    let mut client = SyncClient::new(device_id, actor());
    let doc = client.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    // A value the schema forbids, as an older or faulty app could write it.
    client
        .edit_unchecked(doc, |d| {
            automerge::transaction::Transactable::put(d, automerge::ROOT, "households", -4).unwrap();
        })
        .unwrap();
    let (_, body) = client.next_request(0, BatchId(Uuid::from_u128(100))).unwrap();
    client.on_response(&server.handle(&body).unwrap()).unwrap();
    let RecordSyncState::Refused(rejection) = client.record_state(doc) else { panic!("not refused") };
    assert!(rejection.message.contains("households"), "{}", rejection.message);
    // Nothing new to send while the record waits for its fix.
    let (_, body) = client.next_request(0, BatchId(Uuid::from_u128(101))).unwrap();
    let request: protocol::SyncRequest = protocol::decode(&body).unwrap();
    assert!(request.documents.is_empty());
    client.on_response(&server.handle(&body).unwrap()).unwrap();

    client.edit(doc, |e| e.set("households", FieldValue::Integer(4))).unwrap();
    assert_eq!(client.record_state(doc), RecordSyncState::Waiting(3));
    let (_, body) = client.next_request(0, BatchId(Uuid::from_u128(102))).unwrap();
    client.on_response(&server.handle(&body).unwrap()).unwrap();
    assert_eq!(client.record_state(doc), RecordSyncState::Synced);
    assert_eq!(records::get(server.document(doc).unwrap(), "households"), Some(FieldValue::Integer(4)));
}

#[test]
fn a_stored_record_that_no_longer_loads_is_repaired_from_the_server_with_its_unsent_edits() {
    let mut server = MemoryServer::default();
    let (mine, theirs) = (DeviceId(Uuid::from_u128(1)), DeviceId(Uuid::from_u128(2)));
    server.register_device(mine, actor());
    server.register_device(theirs, ActorId::from(vec![7u8; 16]));
    let mut client = SyncClient::new(mine, actor());
    let mut other = SyncClient::new(theirs, ActorId::from(vec![7u8; 16]));
    let mut store = Default::default();
    let doc = client.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    let (_, body) = client.next_request(0, BatchId(Uuid::from_u128(100))).unwrap();
    client.on_response(&server.handle(&body).unwrap()).unwrap();
    let (_, body) = other.next_request(0, BatchId(Uuid::from_u128(200))).unwrap();
    other.on_response(&server.handle(&body).unwrap()).unwrap();
    // An edit waits on this device; the other device changes another field meanwhile.
    client.edit(doc, |e| e.set("households", FieldValue::Integer(40))).unwrap();
    save(&mut client, &mut store);
    other.edit(doc, |e| e.set("community", FieldValue::Text("Poblacion".into()))).unwrap();
    let (_, body) = other.next_request(0, BatchId(Uuid::from_u128(201))).unwrap();
    other.on_response(&server.handle(&body).unwrap()).unwrap();

    // The stored document is damaged; its unsent change is not.
    let mut damaged: StoredRecord = protocol::decode(&store[&doc]).unwrap();
    damaged.document = vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3];
    store.insert(doc, protocol::encode(&damaged));
    let mut reopened = restore(&client, &store);

    // The news is mere changes, which the damaged copy cannot take: the device asks for
    // everything again, which comes whole and repairs it.
    for batch in [300, 301] {
        let (_, body) = reopened.next_request(0, BatchId(Uuid::from_u128(batch))).unwrap();
        reopened.on_response(&server.handle(&body).unwrap()).unwrap();
    }
    let repaired = reopened.documents()[&doc].doc();
    assert_eq!(records::get(repaired, "community"), Some(FieldValue::Text("Poblacion".into())));
    assert_eq!(records::get(repaired, "households"), Some(FieldValue::Integer(40)), "its own edit is kept");
    assert_eq!(reopened.pending_count(), 0, "and reached the server");
    reopened.edit(doc, |e| e.set("respondents", FieldValue::Integer(9))).unwrap();
}

#[test]
fn a_stored_record_that_no_longer_loads_is_kept_as_stored_and_the_others_open() {
    let mut client = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor());
    let mut store = Default::default();
    let good = client.create(DocId(Uuid::from_u128(10)), RecordKind::ManaAssessment);
    client.edit(good, |e| e.set("community", FieldValue::Text("Poblacion".into()))).unwrap();
    let bad = client.create(DocId(Uuid::from_u128(11)), RecordKind::ManaAssessment);
    save(&mut client, &mut store);
    // The stored document of `bad` is damaged on the device (its unsent changes are not).
    let mut damaged: StoredRecord = protocol::decode(&store[&bad]).unwrap();
    damaged.document = vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3];
    store.insert(bad, protocol::encode(&damaged));

    let mut reopened = restore(&client, &store);
    assert_eq!(records::get(reopened.documents()[&good].doc(), "community"), Some(FieldValue::Text("Poblacion".into())));
    assert_eq!(records::get(reopened.documents()[&bad].doc(), "community"), None, "reads as empty");
    assert!(reopened.edit(bad, |e| e.set("community", FieldValue::Text("Tamontaka".into()))).is_err());
    assert_eq!(reopened.stored_record(bad).unwrap().document, damaged.document, "never overwritten");
    assert_eq!(reopened.pending_count(), client.pending_count(), "its unsent changes stay queued");
    reopened.edit(good, |e| e.set("households", FieldValue::Integer(40))).unwrap();
}
