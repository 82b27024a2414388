//! Live updates: one `EventSource` on `/api/v1/events` while a desk user is signed in.
//! Each event only bumps a counter; the screens that show that topic track the counter
//! and read the API again, so a supervisor's queue never needs a reload.

use leptos::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// One counter per topic of the server's events.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    pub records: RwSignal<u64>,
    pub conflicts: RwSignal<u64>,
    pub devices: RwSignal<u64>,
}

thread_local! {
    static SOURCE: RefCell<Option<web_sys::EventSource>> = const { RefCell::new(None) };
}

impl Live {
    /// Counters that move with the server's events; the stream opens once per page.
    pub fn start() -> Self {
        let live = Live { records: RwSignal::new(0), conflicts: RwSignal::new(0), devices: RwSignal::new(0) };
        SOURCE.with(|source| {
            if let Some(old) = source.borrow_mut().take() {
                old.close();
            }
            // The browser reconnects by itself after a dropped connection.
            let Ok(events) = web_sys::EventSource::new("/api/v1/events") else { return };
            let topics = [("records", vec![live.records]), ("conflicts", vec![live.conflicts]), ("devices", vec![live.devices])];
            for (name, counters) in topics.into_iter().chain([("everything", vec![live.records, live.conflicts, live.devices])]) {
                let bump = Closure::<dyn Fn()>::new(move || counters.iter().for_each(|c| c.update(|n| *n += 1)));
                let _ = events.add_event_listener_with_callback(name, bump.as_ref().unchecked_ref());
                bump.forget();
            }
            *source.borrow_mut() = Some(events);
        });
        live
    }

    /// Closes the stream (at sign-out).
    pub fn stop() {
        SOURCE.with(|source| {
            if let Some(events) = source.borrow_mut().take() {
                events.close();
            }
        });
    }
}
