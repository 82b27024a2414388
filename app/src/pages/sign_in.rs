//! Signing in, signing in again after a session ended offline, and signing out.

use bmms_shared::api::LoginRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::device::{self, Status};
use crate::text::t;
use crate::api;

/// The sign-in form, for a first sign-in on this device.
#[component]
pub fn SignIn() -> impl IntoView {
    view! {
        <section class="card">
            <h1>{t().sign_in}</h1>
            <CredentialsForm />
            <p class="hint">{t().sign_in_needs_network}</p>
        </section>
    }
}

/// Shown above the records when the session ended: the officer's edits stay queued
/// until they sign in again, then sync under their name.
#[component]
pub fn SignInAgain() -> impl IntoView {
    let status = expect_context::<Status>();
    view! {
        <section class="card warning" id="sign-in-again">
            <p role="alert">{move || (t().session_expired)(status.pending.get() + status.refused.get())}</p>
            <CredentialsForm />
        </section>
    }
}

#[component]
fn CredentialsForm() -> impl IntoView {
    let status = expect_context::<Status>();
    let username = RwSignal::new(status.me.get_untracked().map(|me| me.user.username).unwrap_or_default());
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
                Ok(me) => {
                    password.set(String::new());
                    device::signed_in(status, me).await;
                }
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };
    view! {
        <form on:submit=submit>
            <label>{t().username}
                <input name="username" autocomplete="username" required autocapitalize="none"
                    prop:value=username on:input=move |ev| username.set(event_target_value(&ev)) />
            </label>
            <label>{t().password}
                <input name="password" type="password" autocomplete="current-password" required
                    prop:value=password on:input=move |ev| password.set(event_target_value(&ev)) />
            </label>
            {move || error.get().or_else(|| status.last_error.get().filter(|_| status.me.get().is_none()))
                .map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" disabled=busy>{t().sign_in}</button>
        </form>
    }
}

/// Signs out, warning first when edits have not reached the server.
#[component]
pub fn SignOut() -> impl IntoView {
    let status = expect_context::<Status>();
    let error = RwSignal::new(None::<String>);
    let sign_out = move |_| {
        let pending = status.pending.get_untracked() + status.refused.get_untracked();
        if pending > 0 && !browser::confirm(&(t().sign_out_unsynced)(pending)) {
            return;
        }
        spawn_local(async move {
            if let Err(message) = device::sign_out(status).await {
                error.set(Some(message));
            }
        });
    };
    view! {
        {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
        <button on:click=sign_out>{t().sign_out}</button>
    }
}
