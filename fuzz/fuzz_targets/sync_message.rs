//! Any bytes as a sync request body: decoding, then merging each document as the server
//! would, must end in a value or an error, never a crash.
#![no_main]

use bmms_shared::sync::memory_server::merge_document;
use bmms_shared::sync::protocol::{self, SyncRequest, SyncResponse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // merge_document catches the panics Automerge 0.12 raises on some damaged changes and
    // refuses the document; libFuzzer's hook would abort on those caught panics too, so it
    // is set aside here. A panic that escapes still aborts and is reported.
    let libfuzzer_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let escaped = std::panic::catch_unwind(|| exercise(bytes));
    std::panic::set_hook(libfuzzer_hook);
    if let Err(panic) = escaped {
        std::panic::resume_unwind(panic);
    }
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
