//! Second factors in the app: the passkey or code asked at sign-in, adding a passkey,
//! setting up an authenticator app (the QR code the server drew), the recovery codes
//! shown once, the "Confirm it is you" dialog that sensitive actions open, and the
//! Security page.
//!
//! A sensitive action refused for want of a fresh second factor (403
//! `second_factor_needed`, read in `api::problem`) opens the dialog; the person gives a
//! code and does the action again. A download link cannot be refused that way (the
//! browser would show the error as a page), so a link to a whole-dataset export asks the
//! server first ([`guard_download`]) and downloads only when no code is wanted.

use bmms_shared::api::{Me, PasskeyAdded, RecoveryCodes, SecondFactors, TotpSetUp};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::cell::Cell;

use crate::api::{self, Problem};
use crate::device::Status;
use super::passkeys::{AddPasskeyPanel, PasskeyList, UsePasskey};
use crate::passkey;
use crate::text::t;

/// What a change on the Security page answers: the second factors as they are now (or
/// why not), and a sentence to show when it went through.
pub(super) type FactorsChanged = Callback<(Result<SecondFactors, Problem>, Option<&'static str>)>;

/// The "Confirm it is you" dialog's state: one per app, kept where `api` (which has no
/// component context) and the dialog both reach it.
#[derive(Clone, Copy)]
pub struct StepUp {
    asking: RwSignal<bool>,
}

thread_local! {
    static STEP_UP: Cell<Option<StepUp>> = const { Cell::new(None) };
}

impl StepUp {
    /// Made once by the app, before any screen.
    pub fn provide() {
        STEP_UP.set(Some(StepUp { asking: RwSignal::new(false) }));
    }
}

/// Opens the "Confirm it is you" dialog.
pub fn ask_step_up() {
    if let Some(step_up) = STEP_UP.get() {
        step_up.asking.set(true);
    }
}

/// For a link to a whole-dataset export: asks the server whether a code is wanted first;
/// if so the dialog opens (and the person starts the download again), if not the
/// download starts.
#[cfg_attr(not(feature = "desk"), allow(dead_code))] // The exports are the desk's.
pub fn guard_download(event: leptos::ev::MouseEvent) {
    use wasm_bindgen::JsCast;
    let Some(link) = event.current_target().and_then(|t| t.dyn_into::<web_sys::HtmlAnchorElement>().ok()) else { return };
    event.prevent_default();
    let href = link.href();
    spawn_local(async move {
        let wanted = api::second_factors().await.is_ok_and(|f| f.any() && f.fresh_for_seconds == 0);
        if wanted {
            ask_step_up();
        } else if let Some(window) = web_sys::window() {
            let _ = window.location().assign(&href);
        }
    });
}

/// A code input and its button; `submit` gets the code typed.
#[component]
fn CodeInput(#[prop(into)] label: String, busy: RwSignal<bool>, problem: RwSignal<Option<String>>, submit: Callback<String>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submit.run(code.get_untracked());
    };
    view! {
        <form class="code-form" on:submit=on_submit>
            <label>{label}
                <input name="code" autocomplete="one-time-code" inputmode="text" required maxlength="20" autocapitalize="none"
                    prop:value=code on:input=move |ev| code.set(event_target_value(&ev)) />
            </label>
            {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <button type="submit" disabled=busy>{t().security.confirm}</button>
        </form>
    }
}

/// What a one-input form (a code, a new password) runs: `send` what was typed; `done`
/// with the answer, or the server's sentence shown under the input.
pub(crate) fn on_send<T: 'static, Fut>(
    busy: RwSignal<bool>,
    problem: RwSignal<Option<String>>,
    send: impl Fn(String) -> Fut + Copy + Send + Sync + 'static,
    done: impl Fn(T) + Copy + Send + Sync + 'static,
) -> Callback<String>
where
    Fut: std::future::Future<Output = Result<T, Problem>> + 'static,
{
    Callback::new(move |code: String| {
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            match send(code).await {
                Ok(answer) => done(answer),
                Err(failed) => problem.set(Some(failed.message)),
            }
            busy.set(false);
        });
    })
}

/// The second factor asked for: the person's passkey where they have one (and the
/// browser can use it), and the code input (an authenticator app's code, or a
/// recovery code, which stands in for a lost passkey).
#[component]
fn PasskeyOrCode(#[prop(into)] csrf_token: Signal<String>, has_app: bool, has_passkey: bool, given: Callback<Me>) -> impl IntoView {
    let (busy, problem) = (RwSignal::new(false), RwSignal::new(None::<String>));
    let send = move |code| async move { api::give_second_factor(&csrf_token.get_untracked(), code).await };
    let submit = on_send(busy, problem, send, move |me| given.run(me));
    let passkey = has_passkey && passkey::supported();
    let text = t().security;
    view! {
        {passkey.then(|| view! { <UsePasskey csrf_token=csrf_token busy=busy problem=problem given=given /> })}
        <p>{match (passkey, has_app) {
            (false, _) => text.code_asked,
            (true, true) => text.or_code,
            (true, false) => text.or_recovery_code,
        }}</p>
        <CodeInput label=text.code busy=busy problem=problem submit=submit />
    }
}

/// The second step of a sign-in: a passkey, a code from the authenticator app, or a
/// recovery code.
#[component]
pub fn SecondFactorStep(csrf_token: String, has_app: bool, has_passkey: bool, signed_in: Callback<Me>) -> impl IntoView {
    view! {
        <div id="second-factor">
            <PasskeyOrCode csrf_token=csrf_token has_app=has_app has_passkey=has_passkey given=signed_in />
        </div>
    }
}

/// Setting up an authenticator app: the QR code, the key to type instead, and the first
/// code from the app; `confirmed` gets the recovery codes (and the person, when this
/// finished a sign-in).
#[component]
pub fn TotpSetUpPanel(csrf_token: String, confirmed: Callback<RecoveryCodes>) -> impl IntoView {
    let csrf_token = StoredValue::new(csrf_token);
    let set_up = RwSignal::new(None::<Result<TotpSetUp, String>>);
    spawn_local(async move {
        set_up.set(Some(api::start_totp(&csrf_token.get_value()).await.map_err(|p| p.message)));
    });
    let (busy, problem) = (RwSignal::new(false), RwSignal::new(None::<String>));
    let send = move |code| async move { api::confirm_totp(&csrf_token.get_value(), code).await };
    let submit = on_send(busy, problem, send, move |codes| confirmed.run(codes));
    view! {
        <div id="totp-set-up">
            <p>{t().security.set_up_steps}</p>
            {move || match set_up.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(set_up)) => view! {
                    <div class="qr" role="img" aria-label=t().security.set_up_title inner_html=set_up.qr_svg></div>
                    <p>{t().security.cannot_scan} " " <code id="totp-secret">{set_up.secret}</code></p>
                    <CodeInput label=t().security.first_code busy=busy problem=problem submit=submit />
                }.into_any(),
            }}
        </div>
    }
}

/// The recovery codes, shown once, until the person says they saved them.
#[component]
pub fn RecoveryCodesPanel(codes: Vec<String>, done: Callback<()>) -> impl IntoView {
    view! {
        <div id="recovery-codes" class="card">
            <h2>{t().security.recovery_title}</h2>
            <p>{t().security.recovery_explained}</p>
            <ul class="codes">{codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}</ul>
            <button on:click=move |_| done.run(())>{t().security.recovery_saved}</button>
        </div>
    }
}

/// "Confirm it is you": opened by a sensitive action that wants a fresh second factor.
#[component]
pub fn StepUpDialog() -> impl IntoView {
    let status = expect_context::<Status>();
    let Some(step_up) = STEP_UP.get() else { return ().into_any() };
    let done = RwSignal::new(false);
    // Which second factors the person has, read each time the dialog opens.
    let factors = RwSignal::new(None::<SecondFactors>);
    Effect::new(move |_| {
        if step_up.asking.get() {
            factors.set(None);
            spawn_local(async move { factors.set(api::second_factors().await.ok()) });
        }
    });
    let csrf_token = Signal::derive(move || status.me.get().map(|me| me.csrf_token).unwrap_or_default());
    let given = Callback::new(move |_: Me| {
        step_up.asking.set(false);
        done.set(true);
    });
    view! {
        {move || done.get().then(|| view! {
            <p class="banner" role="status" id="step-up-done">{t().security.step_up_done} " "
                <button class="small" on:click=move |_| done.set(false)>"×"</button></p>
        })}
        {move || step_up.asking.get().then(|| view! {
            <div class="dialog-backdrop">
                <section class="card dialog" role="dialog" aria-modal="true" aria-labelledby="step-up-title" id="step-up">
                    <h2 id="step-up-title">{t().security.step_up_title}</h2>
                    <p>{t().security.step_up_explained}</p>
                    {move || factors.get().map(|f| view! {
                        <PasskeyOrCode csrf_token=csrf_token has_app=f.totp_since.is_some() has_passkey=!f.passkeys.is_empty() given=given />
                    })}
                    <button class="secondary" on:click=move |_| step_up.asking.set(false)>{t().security.cancel}</button>
                </section>
            </div>
        })}
    }
    .into_any()
}

/// The sign-in services the operator configured, with the person's links to them.
#[component]
fn SignInServices(linked: Vec<String>, changed: FactorsChanged) -> impl IntoView {
    let status = expect_context::<Status>();
    let csrf_token = move || status.me.get_untracked().map(|me| me.csrf_token).unwrap_or_default();
    let services = RwSignal::new(Vec::new());
    spawn_local(async move { services.set(api::sso_providers().await.unwrap_or_default()) });
    let problem = RwSignal::new(None::<String>);
    let linked = StoredValue::new(linked);
    let text = t().security;
    move || {
        let services = services.get();
        (!services.is_empty()).then(|| view! {
            <h2>{text.services_title}</h2>
            <p class="hint">{text.services_explained}</p>
            {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <ul id="sign-in-services">{services.into_iter().map(|service| {
                let id = StoredValue::new(service.id.clone());
                let is_linked = linked.with_value(|l| l.contains(&service.id));
                let link = move |_| spawn_local(async move {
                    match api::link_sso(&csrf_token(), &id.get_value()).await {
                        Ok(start) => {
                            if let Some(window) = web_sys::window() {
                                let _ = window.location().assign(&start.url);
                            }
                        }
                        Err(failed) => problem.set(Some(failed.message)),
                    }
                });
                let unlink = move |_| spawn_local(async move {
                    match api::unlink_sso(&csrf_token(), &id.get_value()).await {
                        Ok(_) => changed.run((api::second_factors().await, None)),
                        Err(failed) => changed.run((Err(failed), None)),
                    }
                });
                view! {
                    <li data-service=service.id.clone()>
                        {if is_linked {
                            view! { <strong>{(text.linked)(&service.label)}</strong> " " <button class="small" on:click=unlink>{text.unlink}</button> }.into_any()
                        } else {
                            view! { <button on:click=link>{(text.link)(&service.label)}</button> }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}</ul>
        })
    }
}

/// What the Security page is showing besides the status.
#[derive(Clone)]
enum Showing {
    Status,
    SettingUp,
    AddingPasskey,
    Codes(Vec<String>),
}

/// The Security page: the person's passkeys, authenticator app and recovery codes.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let status = expect_context::<Status>();
    let factors = RwSignal::new(None::<Result<SecondFactors, String>>);
    let showing = RwSignal::new(Showing::Status);
    let notice = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            let loaded = api::second_factors().await;
            factors.set(Some(loaded.map_err(|p| p.message)));
        });
    };
    reload();
    let csrf_token = move || status.me.get_untracked().map(|me| me.csrf_token).unwrap_or_default();
    let failed = move |problem: Problem| notice.set(Some(problem.message));
    let new_codes = move |_| {
        spawn_local(async move {
            match api::new_recovery_codes(&csrf_token()).await {
                Ok(codes) => showing.set(Showing::Codes(codes.recovery_codes)),
                Err(problem) => failed(problem),
            }
        });
    };
    let remove = move |_| {
        spawn_local(async move {
            match api::remove_second_factor(&csrf_token()).await {
                Ok(_) => {
                    notice.set(Some(t().security.removed.to_owned()));
                    reload();
                }
                Err(problem) => failed(problem),
            }
        });
    };
    let text = t().security;
    view! {
        <section class="card" id="security">
            <h1>{text.title}</h1>
            {move || notice.get().map(|message| view! { <p role="status">{message}</p> })}
            {move || match showing.get() {
                Showing::SettingUp => view! {
                    <TotpSetUpPanel csrf_token=csrf_token() confirmed=Callback::new(move |codes: RecoveryCodes| {
                        showing.set(Showing::Codes(codes.recovery_codes));
                        reload();
                    }) />
                }.into_any(),
                Showing::AddingPasskey => view! {
                    <AddPasskeyPanel csrf_token=Signal::derive(csrf_token) added=Callback::new(move |added: PasskeyAdded| {
                        notice.set(Some(t().security.passkey_added.to_owned()));
                        showing.set(if added.recovery_codes.is_empty() { Showing::Status } else { Showing::Codes(added.recovery_codes) });
                        reload();
                    }) />
                }.into_any(),
                Showing::Codes(codes) => view! {
                    <RecoveryCodesPanel codes=codes done=Callback::new(move |_| showing.set(Showing::Status)) />
                }.into_any(),
                Showing::Status => match factors.get() {
                    None => view! { <p>{t().loading}</p> }.into_any(),
                    Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                    Some(Ok(f)) => {
                        let has_app = f.totp_since.is_some();
                        let has_any = f.any();
                        let factors_changed = Callback::new(move |(answer, done): (Result<SecondFactors, Problem>, Option<&'static str>)| match answer {
                            Ok(now) => {
                                notice.set(done.map(str::to_owned));
                                factors.set(Some(Ok(now)));
                            }
                            Err(problem) => failed(problem),
                        });
                        view! {
                            <h2>{text.passkeys_title}</h2>
                            <p class="hint">{text.passkeys_explained}</p>
                            <PasskeyList passkeys=f.passkeys.clone() changed=factors_changed />
                            <div class="actions">
                                <button id="add-a-passkey" on:click=move |_| showing.set(Showing::AddingPasskey)>{text.add_passkey}</button>
                            </div>
                            <SignInServices linked=f.linked_services.clone() changed=factors_changed />
                            <h2>{text.app_title}</h2>
                            <p id="second-factor-state">{match &f.totp_since {
                                Some(since) => (text.app_since)(&crate::text::when(since)),
                                None if has_any => text.no_app.to_owned(),
                                None => text.password_alone.to_owned(),
                            }}</p>
                            <p>{if f.required_by_role { text.required } else { text.optional }}</p>
                            {has_any.then(|| view! { <p id="codes-left">{(text.codes_left)(f.recovery_codes_left)}</p> })}
                            <div class="actions">
                                <button id="set-up-app" on:click=move |_| showing.set(Showing::SettingUp)>
                                    {if has_app { text.replace } else { text.set_up }}</button>
                                {has_any.then(|| view! { <button on:click=new_codes>{text.new_codes}</button> })}
                                {(has_app && (!f.required_by_role || !f.passkeys.is_empty())).then(|| view! {
                                    <button class="secondary" on:click=remove>{text.remove}</button>
                                })}
                            </div>
                        }.into_any()
                    }
                },
            }}
        </section>
    }
}
