//! Any bytes as a sync request body: decoding, then merging each document as the server
//! would, must end in a value or an error, never a crash.
#![no_main]

use bmms_shared::sync::merge::merge_document;
use bmms_shared::sync::protocol::{self, SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

mod tolerate_caught_panics;

fuzz_target!(|bytes: &[u8]| {
    tolerate_caught_panics::run_tolerating_caught_panics(|| exercise(bytes));
});

fn exercise(bytes: &[u8]) {
    let _ = protocol::decode::<SyncResponse>(bytes);
    if let Ok(request) = protocol::decode::<SyncRequest>(bytes) {
        let actor = automerge::ActorId::from(vec![7u8; 16]);
        for document in &request.documents {
            let _ = merge_document(None, document, &actor);
        }
    }
}
