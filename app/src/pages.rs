//! The pages: sign-in, and who is signed in.

use bmms_shared::api::{LoginRequest, Me};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;

/// The whole app: asks the server who is signed in, then shows the right page.
#[component]
pub fn App() -> impl IntoView {
    let me = RwSignal::new(None::<Me>);
    let loaded = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::me().await {
            Ok(found) => me.set(found),
            Err(message) => problem.set(Some(message)),
        }
        loaded.set(true);
    });
    view! {
        <header class="bar"><strong>"BMMS"</strong>" Bangsamoro Ministerial Management System"</header>
        <main>
            {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || match (loaded.get(), me.get()) {
                (false, _) => view! { <p>"Loading…"</p> }.into_any(),
                (true, Some(signed_in)) => view! { <SignedIn me=signed_in on_out=me /> }.into_any(),
                (true, None) => view! { <SignIn on_in=me /> }.into_any(),
            }}
        </main>
    }
}

/// The sign-in form.
#[component]
fn SignIn(on_in: RwSignal<Option<Me>>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        busy.set(true);
        error.set(None);
        let request = LoginRequest { username: username.get_untracked(), password: password.get_untracked() };
        spawn_local(async move {
            match api::login(&request).await {
                Ok(me) => on_in.set(Some(me)),
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card" on:submit=submit>
            <h1>"Sign in"</h1>
            <label>"Username"
                <input name="username" autocomplete="username" required
                    prop:value=username on:input=move |ev| username.set(event_target_value(&ev)) />
            </label>
            <label>"Password"
                <input name="password" type="password" autocomplete="current-password" required
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev)) />
            </label>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" disabled=busy>"Sign in"</button>
        </form>
    }
}

/// Who is signed in, for which organization and role.
#[component]
fn SignedIn(me: Me, on_out: RwSignal<Option<Me>>) -> impl IntoView {
    let csrf_token = me.csrf_token.clone();
    let error = RwSignal::new(None::<String>);
    let sign_out = move |_| {
        let csrf_token = csrf_token.clone();
        spawn_local(async move {
            match api::logout(&csrf_token).await {
                Ok(()) => on_out.set(None),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <section class="card" id="signed-in">
            <h1>"Signed in as " {me.user.display_name.clone()}</h1>
            <dl>
                <dt>"Username"</dt><dd id="username">{me.user.username.clone()}</dd>
                <dt>"Organization"</dt><dd id="organization">{format!("{} — {}", me.organization.code, me.organization.name)}</dd>
                <dt>"Role"</dt><dd id="role">{me.role.label()}</dd>
            </dl>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button on:click=sign_out>"Sign out"</button>
        </section>
    }
}
