//! Any bytes as a saved document (what a device receives as a snapshot): loading it and
//! reading it as a record must end in a value or an error, never a crash.
#![no_main]

use bmms_shared::records::{self, RecordKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    // records::load_saved catches the panics Automerge 0.12 raises on some damaged saved
    // documents; libFuzzer's hook would abort on those caught panics too, so it is set
    // aside here. A panic that escapes still aborts and is reported.
    let libfuzzer_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let escaped = std::panic::catch_unwind(|| exercise(bytes));
    std::panic::set_hook(libfuzzer_hook);
    if let Err(panic) = escaped {
        std::panic::resume_unwind(panic);
    }
});

fn exercise(bytes: &[u8]) {
    if let Ok(doc) = records::load_saved(bytes) {
        let _ = records::validate(&doc, RecordKind::ManaAssessment);
        let _ = records::conflicts(&doc);
        let _ = records::get(&doc, "households");
    }
}
