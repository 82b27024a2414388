//! The records table's place in the address bar (issue 19): its filters, sort and page
//! live in the URL's query (`?view=records&search=…`), so that a record's Back, a reload
//! and a link sent to a colleague show the same rows, and the exports match them. The
//! address changes in place (no new history entry for each filter).

use leptos::prelude::*;
use web_sys::UrlSearchParams;

use crate::pages::Screen;

/// The value of `view` while the records table is shown.
const RECORDS: &str = "records";

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|w| w.location())
}

fn params() -> Option<UrlSearchParams> {
    UrlSearchParams::new_with_str(&location()?.search().ok()?).ok()
}

/// True when the address shows the records table (a reload, or a link to it).
pub fn shows_records() -> bool {
    params().and_then(|p| p.get("view")).as_deref() == Some(RECORDS)
}

/// The value of `name` in the address, if it shows the records table.
pub fn records_param(name: &str) -> Option<String> {
    shows_records().then(|| params()?.get(name)).flatten()
}

/// Replaces the address's query with the records table's `pairs` (empty values left out).
pub fn show_records(pairs: &[(&str, String)]) {
    let query: Vec<String> = std::iter::once(("view", RECORDS.to_owned()))
        .chain(pairs.iter().filter(|(_, value)| !value.is_empty()).map(|(name, value)| (*name, value.clone())))
        .map(|(name, value)| format!("{name}={}", String::from(js_sys::encode_uri_component(&value))))
        .collect();
    replace(&format!("?{}", query.join("&")));
}

/// Takes the records table out of the address when the person leaves it for another
/// screen than one of its records (whose Back returns to it). Watched here, on the screen,
/// rather than when the table unmounts: the table is also drawn anew in place (when the
/// session is read at start, say), and must keep its address then.
pub fn follow_screen(screen: RwSignal<Screen>) {
    Effect::new(move |_| {
        if !matches!(screen.get(), Screen::Records | Screen::DeskRecord(_)) && shows_records() {
            replace("");
        }
    });
}

fn replace(query: &str) {
    let (Some(location), Some(history)) = (location(), web_sys::window().and_then(|w| w.history().ok())) else { return };
    let Ok(path) = location.pathname() else { return };
    let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("{path}{query}")));
}
