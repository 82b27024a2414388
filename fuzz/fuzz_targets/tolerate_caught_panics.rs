//! Shared by the targets: BMMS catches the panics Automerge 0.12 raises on some damaged
//! input and turns them into errors; libFuzzer's panic hook would abort on those caught
//! panics too. This sets the hook aside while `run` runs. A panic that escapes `run`
//! still reaches libFuzzer and is reported.

pub fn run_tolerating_caught_panics(run: impl FnOnce() + std::panic::UnwindSafe) {
    let libfuzzer_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let escaped = std::panic::catch_unwind(run);
    std::panic::set_hook(libfuzzer_hook);
    if let Err(panic) = escaped {
        std::panic::resume_unwind(panic);
    }
}
