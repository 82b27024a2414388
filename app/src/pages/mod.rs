//! The screens. [`App`] opens the device's storage, shows the sign-in form or the
//! signed-in app, and keeps the sync status bar on every screen.

mod device_page;
mod form;
mod lists;
mod sign_in;

use bmms_shared::records::RecordKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::browser;
use crate::device::{self, Status};
use crate::text::t;

/// Where the officer is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Screen {
    Home,
    List(RecordKind),
    Record(Uuid),
    Device,
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let status = Status::new();
    let screen = RwSignal::new(Screen::Home);
    provide_context(status);
    provide_context(screen);

    spawn_local(device::start(status));
    let _ = window_event_listener(leptos::ev::online, move |_| device::came_online(status));
    let _ = window_event_listener(leptos::ev::offline, move |_| {
        status.online.set(false);
        browser::request_background_sync();
    });
    browser::on_update_ready(move || status.update_ready.set(true));
    // A phone may kill a hidden browser: what is typed in the focused field is saved first.
    browser::on_hidden(browser::leave_focused_field);
    browser::on_background_sync(move || device::came_online(status));
    let _ = set_interval_with_handle(move || device::tick(status), std::time::Duration::from_secs(5));

    view! {
        <header class="bar">
            <strong>{t().app_name}</strong>
            <span class="title">" " {t().app_title}</span>
        </header>
        {move || status.update_ready.get().then(|| view! {
            <div class="banner" role="status">
                {t().update_ready} " "
                <button on:click=|_| browser::apply_update()>{t().update_now}</button>
            </div>
        })}
        <main>
            {move || match (status.loaded.get(), status.me.get().is_some()) {
                _ if status.other_window.get() => view! {
                    <p class="card warning" role="alert">{t().other_window}</p>
                }.into_any(),
                (false, _) => view! { <p>{t().loading}</p> }.into_any(),
                (true, false) => view! { <sign_in::SignIn /> }.into_any(),
                (true, true) => view! { <SignedIn /> }.into_any(),
            }}
        </main>
    }
}

/// The app for a signed-in person (or one whose session ended while offline).
#[component]
fn SignedIn() -> impl IntoView {
    let status = expect_context::<Status>();
    let screen = expect_context::<RwSignal<Screen>>();
    let nav = move |to: Screen, label: &'static str| {
        view! {
            <button class="nav" aria-current=move || (screen.get() == to).then_some("page")
                on:click=move |_| screen.set(to)>{label}</button>
        }
    };
    view! {
        <SyncBar />
        {move || status.session_expired.get().then(|| view! { <sign_in::SignInAgain /> })}
        <nav class="tabs">
            {nav(Screen::Home, t().home)}
            {nav(Screen::List(RecordKind::ManaAssessment), t().assessments)}
            {nav(Screen::List(RecordKind::MonitoringTask), t().tasks)}
            {nav(Screen::Device, t().device)}
        </nav>
        {move || match screen.get() {
            Screen::Home => view! { <Home /> }.into_any(),
            Screen::List(kind) => view! { <lists::RecordList kind=kind /> }.into_any(),
            Screen::Record(id) => view! { <form::RecordForm id=id /> }.into_any(),
            Screen::Device => view! { <device_page::DevicePage /> }.into_any(),
        }}
    }
}

/// Online or not, what waits, when the last sync was, and "Sync now".
#[component]
fn SyncBar() -> impl IntoView {
    let status = expect_context::<Status>();
    view! {
        <section class="sync-bar" aria-label="Sync">
            <span class=move || if status.online.get() { "online" } else { "offline" } id="network">
                {move || if status.online.get() { t().online } else { t().offline }}
            </span>
            <span id="pending" role="status">
                {move || match (status.pending.get(), status.refused.get()) {
                    (0, 0) => t().all_synced.to_owned(),
                    (0, _) => String::new(),
                    (n, _) => (t().waiting_to_sync)(n),
                }}
            </span>
            {move || match status.refused.get() {
                0 => None,
                n => Some(view! { <span id="refused" class="error">{(t().refused_count)(n)}</span> }),
            }}
            <span id="last-sync">
                {move || match status.last_sync.get() {
                    Some(when) => (t().last_synced)(&when),
                    None => t().never_synced.to_owned(),
                }}
            </span>
            {move || status.syncing.get().then(|| view! { <progress aria-label=t().syncing></progress> })}
            <button on:click=move |_| spawn_local(device::sync_now(status, true)) disabled=move || status.syncing.get()>
                {move || if status.syncing.get() { t().syncing } else { t().sync_now }}
            </button>
            {move || status.last_error.get().map(|message| view! {
                <p class="error" role="alert">{(t().sync_failed)(&message)}</p>
            })}
        </section>
    }
}

/// The start screen: who is signed in, and their records.
#[component]
fn Home() -> impl IntoView {
    let status = expect_context::<Status>();
    view! {
        <section class="card" id="signed-in">
            {move || status.me.get().map(|me| view! {
                <h1>{t().signed_in_as} " " {me.user.display_name.clone()}</h1>
                <dl>
                    <dt>{t().username}</dt><dd id="username">{me.user.username.clone()}</dd>
                    <dt>{t().organization}</dt><dd id="organization">{format!("{} — {}", me.organization.code, me.organization.name)}</dd>
                    <dt>{t().role}</dt><dd id="role">{me.role.label()}</dd>
                </dl>
            })}
            <sign_in::SignOut />
        </section>
        <lists::RecordList kind=RecordKind::MonitoringTask />
        <lists::RecordList kind=RecordKind::ManaAssessment />
    }
}
