//! Hostile sync requests at the decoder: a compression bomb, lists that claim more than
//! they hold, and requests past each bound. Each is refused, and the memory decoding takes
//! is measured by an allocation counter: a decoder that sized anything from a count the
//! client sent, or read past a bound, would fail here (the bomb below cost about 800 MB
//! before the bounds).

use bmms_shared::records::RecordKind;
use bmms_shared::sync::bounds::{self, Limit};
use bmms_shared::sync::protocol::{self, DocumentChanges, ProtocolError, SyncRequest, MAX_REQUEST_BYTES};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use bmms_shared::{BatchId, DeviceId, DocId};
use uuid::Uuid;

/// Counts the bytes this thread has allocated and not freed, and the most it reached:
/// the tests of this file run in parallel threads, each measuring only its own decoding.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + layout.size() as isize);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|live| live.set(live.get() - layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    // Grown in place where the system allocator can (large blocks are remapped), so it
    // counts as the difference, as resident memory does.
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = LIVE.try_with(|live| {
            live.set(live.get() + new_size as isize - layout.size() as isize);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(live.get())));
        });
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Decodes `body` as the server does; returns the answer and the most memory decoding
/// held at once beyond what was held before.
fn decode_measured(body: &[u8]) -> (Result<SyncRequest, ProtocolError>, usize) {
    let before = LIVE.with(Cell::get);
    PEAK.with(|peak| peak.set(before));
    let answer = protocol::decode_request(body);
    let peak = PEAK.with(Cell::get) - before;
    (answer, peak.max(0) as usize)
}

const MIB: usize = 1024 * 1024;

/// A request of one document whose change list claims `count` changes, followed by
/// `present` empty ones, as postcard writes it (the body, before the two header bytes).
fn one_document_claiming(count: u64, present: usize) -> Vec<u8> {
    let request = SyncRequest {
        device_id: DeviceId(Uuid::from_u128(1)),
        batch_id: BatchId(Uuid::from_u128(2)),
        cursor: 0,
        documents: vec![DocumentChanges { doc_id: DocId(Uuid::from_u128(3)), kind: RecordKind::ManaAssessment, changes: vec![] }],
        scope_version: 0,
    };
    let mut body = postcard::to_allocvec(&request).unwrap();
    assert_eq!(body.pop(), Some(0), "the scope version is the last byte");
    assert_eq!(body.pop(), Some(0), "the change count comes before it");
    body.extend(varint(count));
    body.resize(body.len() + present, 0);
    body.push(0); // the scope version
    body
}

fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn deflated(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(vec![protocol::PROTOCOL_VERSION, 1], flate2::Compression::best());
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

fn plain(body: &[u8]) -> Vec<u8> {
    [&[protocol::PROTOCOL_VERSION, 0][..], body].concat()
}

#[test]
fn a_compression_bomb_of_empty_changes_is_refused_within_a_small_bound() {
    // What was seen: a body of a few tens of KB that inflates to tens of millions of
    // empty changes, each a whole `Vec` once decoded.
    let count = 40_000_000;
    let bomb = deflated(&one_document_claiming(count, count as usize));
    assert!(bomb.len() < MAX_REQUEST_BYTES / 4, "the bomb is small on the wire: {} bytes", bomb.len());
    let (answer, peak) = decode_measured(&bomb);
    assert_eq!(answer, Err(ProtocolError::TooLarge(Limit::InflatedBytes)));
    assert!(peak <= bounds::MAX_INFLATED_BYTES + MIB, "decoding held {} MiB", peak / MIB);
}

#[test]
fn a_bomb_that_fits_the_inflated_bound_is_refused_by_its_count_before_it_is_read() {
    let count = 5_000_000;
    let bomb = deflated(&one_document_claiming(count, count as usize));
    let (answer, peak) = decode_measured(&bomb);
    assert_eq!(answer, Err(ProtocolError::TooLarge(Limit::Changes)));
    // The inflated body (5 MB) and nothing sized from the count.
    assert!(peak < 2 * 5 * MIB, "decoding held {} MiB", peak / MIB);
}

#[test]
fn a_list_that_claims_more_than_the_message_holds_is_damaged_and_costs_nothing() {
    for claim in [u64::MAX >> 1, 1 << 40, 90_000] {
        let (answer, peak) = decode_measured(&plain(&one_document_claiming(claim, 10)));
        assert_eq!(answer, Err(ProtocolError::Malformed), "claim {claim}");
        assert!(peak < 64 * 1024, "claim {claim}: decoding held {peak} bytes");
    }
}

#[test]
fn every_bound_is_refused_by_name_and_a_request_within_them_is_read() {
    let request = |documents: usize, changes_each: usize, change_bytes: usize| SyncRequest {
        device_id: DeviceId(Uuid::from_u128(1)),
        batch_id: BatchId(Uuid::from_u128(2)),
        cursor: 0,
        documents: (0..documents)
            .map(|i| DocumentChanges {
                doc_id: DocId(Uuid::from_u128(i as u128)),
                kind: RecordKind::MonitoringTask,
                changes: vec![vec![7; change_bytes]; changes_each],
            })
            .collect(),
        scope_version: 0,
    };
    let decode = |r: &SyncRequest| protocol::decode_request(&protocol::encode(r));
    let too_many_documents = request(bounds::MAX_DOCUMENTS_PER_REQUEST + 1, 1, 1);
    assert_eq!(decode(&too_many_documents), Err(ProtocolError::TooLarge(Limit::Documents)));
    // The change budget is shared by the documents of a request.
    let too_many_changes = request(2, bounds::MAX_CHANGES_PER_REQUEST / 2 + 1, 1);
    assert_eq!(decode(&too_many_changes), Err(ProtocolError::TooLarge(Limit::Changes)));
    let too_big_a_change = request(1, 1, bounds::MAX_CHANGE_BYTES + 1);
    assert_eq!(decode(&too_big_a_change), Err(ProtocolError::TooLarge(Limit::ChangeBytes)));
    // At the bounds, everything is read as it was sent.
    let at_the_bounds = request(2, bounds::MAX_CHANGES_PER_REQUEST / 2, 1);
    assert_eq!(decode(&at_the_bounds), Ok(at_the_bounds.clone()));
    // The generic decoder refuses the same, without the reason.
    assert!(protocol::decode::<SyncRequest>(&protocol::encode(&too_many_documents)).is_err());
    // What the app is told.
    let message = ProtocolError::TooLarge(Limit::Documents).to_string();
    assert!(message.contains("more than 10000 records") && message.contains("smaller batches"), "{message}");
}

/// Syncs `client` with `server` until nothing is left to send; returns the request bodies.
fn sync_everything(client: &mut bmms_shared::sync::client::SyncClient, server: &mut bmms_shared::sync::memory_server::MemoryServer) -> Vec<Vec<u8>> {
    let mut bodies = Vec::new();
    let mut now = 0;
    while client.has_unsent() {
        now += 1;
        let (_, body) = client.next_request(now, BatchId(Uuid::new_v4())).unwrap();
        let answer = server.handle(&body).unwrap();
        client.on_response(&answer).unwrap();
        bodies.push(body);
        assert!(bodies.len() < 50, "the backlog drains");
    }
    bodies
}

#[test]
fn a_backlog_past_one_requests_bounds_goes_out_in_several_that_fit() {
    use bmms_shared::records::FieldValue;
    use bmms_shared::sync::client::SyncClient;
    use bmms_shared::sync::memory_server::MemoryServer;
    let actor = automerge::ActorId::from(vec![9u8; 16]);
    let mut server = MemoryServer::default();
    server.register_device(DeviceId(Uuid::from_u128(1)), actor.clone());

    // More records than a request may hold.
    let mut client = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor.clone());
    for i in 0..bounds::MAX_DOCUMENTS_PER_REQUEST as u128 + 500 {
        client.create(DocId(Uuid::from_u128(1_000 + i)), RecordKind::ManaAssessment);
    }
    let bodies = sync_everything(&mut client, &mut server);
    assert_eq!(bodies.len(), 2);
    assert_eq!(server.document_ids().len(), bounds::MAX_DOCUMENTS_PER_REQUEST + 500, "every record arrived");

    // One record whose changes are more bytes than a request body may be.
    let mut client = SyncClient::new(DeviceId(Uuid::from_u128(1)), actor);
    let doc = client.create(DocId(Uuid::from_u128(7)), RecordKind::MonitoringTask);
    for i in 0..700 {
        let notes = format!("{i:05} {}", "visit notes ".repeat(800));
        client.edit(doc, |e| e.set("observations", FieldValue::Text(notes))).unwrap();
    }
    let bodies = sync_everything(&mut client, &mut server);
    assert!(bodies.len() >= 2, "split into {} requests", bodies.len());
    for body in &bodies {
        assert!(body.len() <= MAX_REQUEST_BYTES, "{} bytes", body.len());
        assert!(protocol::decode_request(body).is_ok());
    }
    assert!(!client.has_unsent());
}
