//! Passkeys in the app: the "Use your passkey" button (at sign-in and in "Confirm it is
//! you"), adding one, and the Security page's list of them. The browser's side of each
//! ceremony is `crate::passkey`; the rest of the second factors are `super::security`.

use bmms_shared::api::{Me, NewPasskey, PasskeyAdded, PasskeySummary};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::security::FactorsChanged;
use crate::api;
use crate::device::Status;
use crate::passkey::{self, Ask};
use crate::text::t;

/// Runs what a passkey button starts: `busy` meanwhile, the person's sentence in
/// `problem` when it fails, `done` with the server's answer.
pub(super) fn run_passkey<T: 'static, Fut>(busy: RwSignal<bool>, problem: RwSignal<Option<String>>, run: impl FnOnce() -> Fut + 'static, done: impl FnOnce(T) + 'static)
where
    Fut: std::future::Future<Output = Result<T, String>> + 'static,
{
    busy.set(true);
    problem.set(None);
    spawn_local(async move {
        match run().await {
            Ok(answer) => done(answer),
            Err(message) => problem.set(Some(message)),
        }
        busy.set(false);
    });
}

/// "Use your passkey": gives one of the person's passkeys as the second factor;
/// `given` with the person once the server took it.
#[component]
pub(super) fn UsePasskey(#[prop(into)] csrf_token: Signal<String>, busy: RwSignal<bool>, problem: RwSignal<Option<String>>, given: Callback<Me>) -> impl IntoView {
    let click = move |_| {
        let csrf_token = csrf_token.get_untracked();
        let run = move || async move {
            let answer = passkey::answer(api::passkey_challenge(&csrf_token).await, Ask::Use).await?;
            api::give_passkey(&csrf_token, &answer).await.map_err(String::from)
        };
        run_passkey(busy, problem, run, move |me| given.run(me));
    };
    view! { <button type="button" id="use-passkey" disabled=busy on:click=click>{t().security.use_passkey}</button> }
}

/// Adding a passkey: its name, then the browser's prompt; `added` with what the server
/// kept (and the recovery codes, when it is the person's first second factor).
#[component]
pub fn AddPasskeyPanel(#[prop(into)] csrf_token: Signal<String>, added: Callback<PasskeyAdded>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let (busy, problem) = (RwSignal::new(false), RwSignal::new(None::<String>));
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        if !passkey::supported() {
            problem.set(Some(t().security.passkey_unsupported.to_owned()));
            return;
        }
        let (csrf_token, name) = (csrf_token.get_untracked(), name.get_untracked());
        let run = move || async move {
            let answer = passkey::answer(api::start_passkey_registration(&csrf_token).await, Ask::Make).await?;
            let new = NewPasskey { ceremony: answer.ceremony, name, credential: answer.credential };
            api::add_passkey(&csrf_token, &new).await.map_err(String::from)
        };
        run_passkey(busy, problem, run, move |answer| added.run(answer));
    };
    let text = t().security;
    view! {
        <form id="add-passkey" class="code-form" on:submit=submit>
            <label>{text.passkey_name}
                <input name="passkey-name" required maxlength="60" placeholder="My phone"
                    prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" disabled=busy>{text.add_passkey}</button>
        </form>
    }
}

/// The person's passkeys: each with its name, when it was added and last used, and
/// whether it is synced; renamed and removed here.
#[component]
pub(super) fn PasskeyList(passkeys: Vec<PasskeySummary>, changed: FactorsChanged) -> impl IntoView {
    let status = expect_context::<Status>();
    let csrf_token = move || status.me.get_untracked().map(|me| me.csrf_token).unwrap_or_default();
    let renaming = RwSignal::new(None::<(uuid::Uuid, String)>);
    let text = t().security;
    if passkeys.is_empty() {
        return view! { <p id="no-passkeys">{text.no_passkeys}</p> }.into_any();
    }
    let rows = passkeys.into_iter().map(|p| {
        let id = p.id;
        let name = StoredValue::new(p.name.clone());
        let about = format!(
            "{}, {}, {}",
            (text.passkey_added_on)(&crate::text::when(&p.added_at)),
            p.last_used_at.as_deref().map_or(text.passkey_not_used.to_owned(), |at| (text.passkey_last_used)(&crate::text::when(at))),
            if p.synced { text.passkey_synced } else { text.passkey_one_device },
        );
        let save = move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let Some((_, name)) = renaming.get_untracked() else { return };
            renaming.set(None);
            spawn_local(async move { changed.run((api::rename_passkey(&csrf_token(), id, name).await, None)) });
        };
        let remove = move |_| {
            spawn_local(async move { changed.run((api::remove_passkey(&csrf_token(), id).await, Some(text.passkey_removed))) })
        };
        view! {
            <li class="passkey">
                {move || match renaming.get() {
                    Some((editing, value)) if editing == id => view! {
                        <form class="inline" on:submit=save>
                            <input name="passkey-name" required maxlength="60" aria-label=text.passkey_name prop:value=value
                                on:input=move |ev| renaming.set(Some((id, event_target_value(&ev)))) />
                            <button type="submit">{text.save}</button>
                        </form>
                    }.into_any(),
                    _ => view! { <strong class="passkey-name">{name.get_value()}</strong> }.into_any(),
                }}
                <span class="hint">{about.clone()}</span>
                <div class="actions">
                    <button class="small" on:click=move |_| renaming.set(Some((id, name.get_value())))>{text.rename}</button>
                    <button class="small" on:click=remove>{text.remove_passkey}</button>
                </div>
            </li>
        }
    }).collect_view();
    view! { <ul id="passkeys">{rows}</ul> }.into_any()
}
