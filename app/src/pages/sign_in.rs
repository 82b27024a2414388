//! Signing in, signing in again after a session ended offline, and signing out.

use bmms_shared::api::{LoginRequest, Me, PasskeyAdded, PasswordChosen, RecoveryCodes, SetUpPassword, SignInStep};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::device::{self, Status};
use crate::pages::passkeys::AddPasskeyPanel;
use crate::pages::security::{on_send, RecoveryCodesPanel, SecondFactorStep, TotpSetUpPanel};
use crate::passkey::{self, Ask};
use crate::text::t;
use crate::api;

/// The sign-in form, for a first sign-in on this device; or, opened from a set-up link
/// (`#set-up=<token>`), the form to choose one's password first.
#[component]
pub fn SignIn() -> impl IntoView {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    let set_up_token = RwSignal::new(hash.strip_prefix("#set-up=").map(str::to_owned));
    let chosen = RwSignal::new(None::<String>);
    let done = Callback::new(move |username: String| {
        chosen.set(Some(username));
        set_up_token.set(None);
    });
    move || match set_up_token.get() {
        Some(token) => view! { <ChoosePassword token=token done=done /> }.into_any(),
        None => view! {
            <section class="card">
                <h1>{t().sign_in}</h1>
                {move || chosen.get().map(|username| view! { <p role="status" id="password-chosen">{(t().people.password_chosen)(&username)}</p> })}
                <CredentialsForm />
                <SignInServices />
                <p class="hint">{t().sign_in_needs_network}</p>
            </section>
        }.into_any(),
    }
}

/// "Sign in with …" for each sign-in service (OpenID Connect) the operator configured:
/// links, since the browser goes to the service and comes back.
#[component]
fn SignInServices() -> impl IntoView {
    let services = RwSignal::new(Vec::new());
    spawn_local(async move { services.set(api::sso_providers().await.unwrap_or_default()) });
    // Back to the desk afterwards when signing in there.
    let to = if browser::at_desk() { "desk" } else { "app" };
    move || {
        services.get().into_iter().map(|service| view! {
            <p><a class="button secondary" href=format!("/api/v1/auth/oidc/{}/start?to={to}", service.id)>
                {(t().security.sign_in_with)(&service.label)}</a></p>
        }).collect_view()
    }
}

/// Choosing one's password with a set-up link; `done` with the username once it is set (the link is spent,
/// and taken out of the address so that a reload does not try it again).
#[component]
fn ChoosePassword(token: String, done: Callback<String>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let token = StoredValue::new(token);
    let send = move |password| async move { api::choose_password(&SetUpPassword { token: token.get_value(), password }).await };
    let chosen = on_send(busy, problem, send, move |chosen: PasswordChosen| {
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("./"));
        }
        done.run(chosen.username);
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        chosen.run(password.get_untracked());
    };
    let text = t().people;
    view! {
        <section class="card" id="choose-password">
            <h1>{text.choose_password_title}</h1>
            <p>{text.choose_password_intro}</p>
            <form on:submit=submit>
                <label>{text.new_password}
                    <input name="new-password" type="password" autocomplete="new-password" required minlength="12"
                        prop:value=password on:input=move |ev| password.set(event_target_value(&ev)) />
                </label>
                {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
                <button type="submit" disabled=busy>{text.set_password}</button>
            </form>
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

/// Where a sign-in is after the password.
#[derive(Clone)]
enum Next {
    Password,
    /// A passkey, a code from the authenticator app, or a recovery code.
    Code { csrf_token: String, has_app: bool, has_passkey: bool },
    /// The role needs a second factor and there is none: set one up.
    SetUp(String, bmms_shared::Role),
    /// Set up: the recovery codes to save before going on.
    SaveCodes(Vec<String>, Me),
}

#[component]
fn CredentialsForm() -> impl IntoView {
    let status = expect_context::<Status>();
    let username = RwSignal::new(status.me.get_untracked().map(|me| me.user.username).unwrap_or_default());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let next = RwSignal::new(Next::Password);
    let signed_in = Callback::new(move |me: Me| spawn_local(device::signed_in(status, me)));
    // Back from a sign-in service (`#signing-in`): on to the second factor, or signed in.
    if browser::take_hash("#signing-in") {
        spawn_local(async move {
            match api::signing_in().await {
                Ok(SignInStep::SignedIn(me)) => device::signed_in(status, me).await,
                Ok(SignInStep::SecondFactor { csrf_token, has_app, has_passkey }) => next.set(Next::Code { csrf_token, has_app, has_passkey }),
                Ok(SignInStep::SetUpSecondFactor { csrf_token, role }) => next.set(Next::SetUp(csrf_token, role)),
                Err(problem) => error.set(Some(problem.message)),
            }
        });
    }
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        busy.set(true);
        error.set(None);
        let request = LoginRequest { username: username.get_untracked(), password: password.get_untracked() };
        spawn_local(async move {
            match api::login(&request).await {
                Ok(step) => {
                    password.set(String::new());
                    match step {
                        SignInStep::SignedIn(me) => device::signed_in(status, me).await,
                        SignInStep::SecondFactor { csrf_token, has_app, has_passkey } => {
                            next.set(Next::Code { csrf_token, has_app, has_passkey })
                        }
                        SignInStep::SetUpSecondFactor { csrf_token, role } => next.set(Next::SetUp(csrf_token, role)),
                    }
                }
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };
    let set_up_done = Callback::new(move |codes: RecoveryCodes| {
        if let Some(me) = codes.signed_in {
            next.set(Next::SaveCodes(codes.recovery_codes, me));
        }
    });
    let passkey_added = Callback::new(move |added: PasskeyAdded| {
        if let Some(me) = added.signed_in {
            next.set(Next::SaveCodes(added.recovery_codes, me));
        }
    });
    // A passkey alone signs in: it verified the person on a device they hold.
    let with_passkey = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let signed = async {
                let answer = passkey::answer(api::passkey_sign_in_challenge().await, Ask::Use).await?;
                api::passkey_sign_in(&answer).await.map_err(String::from)
            };
            match signed.await {
                Ok(SignInStep::SignedIn(me)) => device::signed_in(status, me).await,
                Ok(_) => error.set(Some(t().security.passkey_unsupported.to_owned())),
                Err(message) => error.set(Some(message)),
            }
            busy.set(false);
        });
    };
    move || match next.get() {
        Next::Code { csrf_token, has_app, has_passkey } => {
            view! { <SecondFactorStep csrf_token=csrf_token has_app=has_app has_passkey=has_passkey signed_in=signed_in /> }.into_any()
        }
        Next::SetUp(csrf_token, role) => view! {
            <h2>{t().security.set_up_title}</h2>
            <p>{(t().security.set_up_why)(role.label())}</p>
            {passkey::supported().then(|| view! {
                <AddPasskeyPanel csrf_token=csrf_token.clone() added=passkey_added />
                <p>{t().security.set_up_app_instead}</p>
            })}
            <TotpSetUpPanel csrf_token=csrf_token confirmed=set_up_done />
        }.into_any(),
        Next::SaveCodes(codes, me) => {
            let me = StoredValue::new(me);
            view! { <RecoveryCodesPanel codes=codes done=Callback::new(move |_| signed_in.run(me.get_value())) /> }.into_any()
        }
        Next::Password => view! {
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
                <div class="actions">
                    <button type="submit" disabled=busy>{t().sign_in}</button>
                    {passkey::supported().then(|| view! {
                        <button type="button" class="secondary" id="passkey-sign-in" disabled=busy on:click=with_passkey>
                            {t().security.passkey_sign_in}</button>
                    })}
                </div>
            </form>
        }.into_any(),
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
