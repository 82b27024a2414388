//! What is new to this person since they last looked: a tab counts the items newer than
//! the newest one its screen showed them, remembered by this browser.

use leptos::prelude::*;

use crate::browser;

/// How many of `times` (RFC 3339, as the API sends them) are newer than what was last seen
/// under `key`.
pub fn unseen<'a>(key: &str, times: impl Iterator<Item = &'a str>) -> usize {
    let seen = browser::remembered(key).unwrap_or_default();
    times.filter(|at| *at > seen.as_str()).count()
}

/// Remembers the newest of `times` as seen under `key`.
pub fn mark_seen<'a>(key: &str, times: impl Iterator<Item = &'a str>) {
    if let Some(newest) = times.max() {
        browser::remember(key, newest);
    }
}

/// A tab that says how many items are new to this person while they are elsewhere.
#[component]
pub fn TabWithNews(
    id: &'static str,
    badge_id: &'static str,
    label: &'static str,
    #[prop(into)] new: Signal<usize>,
    current: Signal<bool>,
    new_count: fn(usize) -> String,
    open: Callback<()>,
) -> impl IntoView {
    view! {
        <button class="nav" id=id aria-current=move || current.get().then_some("page") on:click=move |_| open.run(())>
            {label}
            {move || (new.get() > 0 && !current.get()).then(|| view! { " " <span class="badge waiting" id=badge_id>{new_count(new.get())}</span> })}
        </button>
    }
}
