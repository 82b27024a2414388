//! Any bytes as a saved document (what a device receives as a snapshot): loading it and
//! reading it as a record must end in a value or an error, never a crash.
#![no_main]

use bmms_shared::records::{self, RecordKind};
use libfuzzer_sys::fuzz_target;

mod tolerate_caught_panics;

fuzz_target!(|bytes: &[u8]| {
    tolerate_caught_panics::run_tolerating_caught_panics(|| exercise(bytes));
});

fn exercise(bytes: &[u8]) {
    if let Ok(doc) = records::load_saved(bytes) {
        let _ = records::validate(&doc, RecordKind::ManaAssessment);
        let _ = records::conflicts(&doc);
        let _ = records::get(&doc, "households");
    }
}
