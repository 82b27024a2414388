//! The People tab, for an organization's administrator (and the system administrator,
//! for the organization chosen above it): everyone in the organization with their role,
//! state, last sign-in, sessions and second factor; a new person
//! (who chooses their own password from a link shown here once); and the changes an
//! administrator makes. The server asks for a fresh second factor before each change
//! (the "Confirm it is you" dialog opens by itself).

use bmms_shared::api::{NewPerson, People as PeopleList, Person, RoleChange, SetUpLink};
use bmms_shared::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::api::{self, Problem};
use super::organizations::{ActingFor, OrganizationPicker};
use super::csrf_token;
use crate::browser;
use crate::device::Status;
use crate::text::{t, when};

/// The address a set-up link points at: the officer app, which shows the password form.
fn set_up_address(token: &str) -> String {
    let origin = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    format!("{origin}/#set-up={token}")
}

#[component]
pub fn People() -> impl IntoView {
    let refresh = RwSignal::new(0u64);
    let people = RwSignal::new(None::<Result<PeopleList, String>>);
    let acting = ActingFor::here();
    api::keep_loaded(refresh, move || acting.address("/api/v1/users"), people);
    // The last set-up link made here, shown until the next change.
    let link = RwSignal::new(None::<SetUpLink>);
    let problem = RwSignal::new(None::<Problem>);
    let roles = Memo::new(move |_| people.get().and_then(Result::ok).map(|list| list.grantable_roles).unwrap_or_default());
    let changed = Callback::new(move |made: Option<SetUpLink>| {
        link.set(made);
        problem.set(None);
        refresh.update(|n| *n += 1);
    });
    let text = t().people;
    view! {
        <section class="card desk" id="people">
            <h1>{text.tab}</h1>
            <p class="hint">{text.intro}</p>
            <OrganizationPicker />
            {move || link.get().map(|link| view! {
                <div class="card notice" id="set-up-link" role="status">
                    <p>{(text.link_for)(&link.person.display_name, &when(&link.expires_at))}</p>
                    <p><code>{set_up_address(&link.set_up_token)}</code></p>
                </div>
            })}
            {move || Problem::general(&problem.get(), &[]).map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || match people.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) => view! { <PeopleTable people=list.items roles=list.grantable_roles changed=changed problem=problem /> }.into_any(),
            }}
            // Drawn anew only when the roles it offers change, not at every reload of the
            // list, so that what is being typed stays.
            {move || (!roles.get().is_empty()).then(|| view! { <NewPersonForm roles=roles.get() changed=changed /> })}
        </section>
    }
}

/// A change to one person.
#[derive(Clone, Copy)]
enum Change {
    Role(Role),
    Disable,
    Enable,
    NewLink,
    RemoveAuthenticator,
    EndSessions,
}

#[component]
fn PeopleTable(people: Vec<Person>, roles: Vec<Role>, changed: Callback<Option<SetUpLink>>, problem: RwSignal<Option<Problem>>) -> impl IntoView {
    let status = expect_context::<Status>();
    let me = status.me.get_untracked().map(|me| me.user.id);
    let acting = ActingFor::here();
    let text = t().people;
    let change = move |id: Uuid, change: Change| {
        let at = move |what: &str| acting.address_now(&format!("/api/v1/users/{id}{what}"));
        spawn_local(async move {
            let csrf = csrf_token(status);
            let done = match change {
                Change::Role(role) => api::put::<Person>(&at("/role"), &csrf, &RoleChange { role }).await.map(|_| None),
                Change::Disable => api::post::<Person>(&at("/disable"), &csrf, &()).await.map(|_| None),
                Change::Enable => api::post::<Person>(&at("/enable"), &csrf, &()).await.map(|_| None),
                Change::NewLink => api::post::<SetUpLink>(&at("/set-up-link"), &csrf, &()).await.map(Some),
                Change::RemoveAuthenticator => api::post::<Person>(&at("/reset-second-factor"), &csrf, &()).await.map(|_| None),
                Change::EndSessions => api::delete(&at("/sessions"), &csrf).await.map(|_| None),
            };
            match done {
                Ok(link) => changed.run(link),
                Err(failed) => {
                    // Read the list again, so that it shows what is stored (a refused
                    // role is not left chosen in its box), and say why.
                    changed.run(None);
                    problem.set(Some(failed));
                }
            }
        });
    };
    view! {
        <table class="desk-table" id="people-table">
            <thead><tr>
                <th scope="col">{text.person}</th><th scope="col">{text.role}</th><th scope="col">{text.state}</th>
                <th scope="col">{text.last_sign_in}</th><th scope="col">{text.sessions}</th>
                <th scope="col">{text.authenticator}</th><th scope="col">{text.actions}</th>
            </tr></thead>
            <tbody>{people.into_iter().map(|person| {
                let id = person.id.uuid();
                let yourself = me == Some(person.id);
                let name = person.display_name.clone();
                let state = if person.disabled { text.disabled } else if person.set_up_pending { text.waiting_for_set_up } else { text.active };
                let roles = roles.clone();
                view! {
                    <tr data-username=person.username.clone()>
                        <th scope="row">{person.display_name.clone()} " (" {person.username.clone()} ")"</th>
                        <td><select aria-label=text.role disabled=yourself on:change=move |ev| if let Ok(role) = event_target_value(&ev).parse() { change(id, Change::Role(role)) }>
                            {roles.into_iter().map(|role| view! {
                                <option value=role.as_str() selected=role == person.role>{role.label()}</option>
                            }).collect_view()}
                        </select></td>
                        <td>{state}</td>
                        <td>{person.last_sign_in.as_deref().map(when).unwrap_or_else(|| text.never.to_owned())}</td>
                        <td>{person.active_sessions}</td>
                        <td>{if person.second_factor { text.yes } else { text.no }}</td>
                        <td class="actions">
                            {(!yourself).then(|| if person.disabled {
                                view! { <button class="small" on:click=move |_| change(id, Change::Enable)>{text.enable}</button> }.into_any()
                            } else {
                                let name = name.clone();
                                view! { <button class="small" on:click=move |_| {
                                    if browser::confirm(&(text.confirm_disable)(&name)) { change(id, Change::Disable) }
                                }>{text.disable}</button> }.into_any()
                            })}
                            {(!yourself).then(|| view! {
                                <button class="small" on:click=move |_| change(id, Change::NewLink)>{text.new_link}</button>
                            })}
                            {(person.second_factor && !yourself).then(|| view! {
                                <button class="small" on:click=move |_| change(id, Change::RemoveAuthenticator)>{text.remove_authenticator}</button>
                            })}
                            {(person.active_sessions > 0 && !yourself).then(|| view! {
                                <button class="small" on:click=move |_| change(id, Change::EndSessions)>{text.end_sessions}</button>
                            })}
                        </td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
}

#[component]
fn NewPersonForm(roles: Vec<Role>, changed: Callback<Option<SetUpLink>>) -> impl IntoView {
    let status = expect_context::<Status>();
    let (username, display_name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let role = RwSignal::new(roles.first().copied().unwrap_or(Role::FieldOfficer));
    let problem = RwSignal::new(None::<Problem>);
    let busy = RwSignal::new(false);
    let acting = ActingFor::here();
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        busy.set(true);
        let body = NewPerson { username: username.get_untracked(), display_name: display_name.get_untracked(), role: role.get_untracked() };
        let address = acting.address_now("/api/v1/users");
        spawn_local(async move {
            match api::post::<SetUpLink>(&address, &csrf_token(status), &body).await {
                Ok(link) => {
                    username.set(String::new());
                    display_name.set(String::new());
                    problem.set(None);
                    changed.run(Some(link));
                }
                Err(failed) => problem.set(Some(failed)),
            }
            busy.set(false);
        });
    };
    let text = t().people;
    let error_of = move |field: &'static str| move || Problem::about(&problem.get(), field).map(|m| view! { <span class="error" role="alert">{m}</span> });
    view! {
        <form class="desk-form" id="new-person" on:submit=submit>
            <h2>{text.new_person}</h2>
            <label>{text.username}
                <input name="username" required autocapitalize="none" prop:value=username on:input=move |ev| username.set(event_target_value(&ev)) />
                {error_of("username")}
            </label>
            <label>{text.display_name}
                <input name="display_name" required prop:value=display_name on:input=move |ev| display_name.set(event_target_value(&ev)) />
                {error_of("display_name")}
            </label>
            <label>{text.role}
                <select name="role" on:change=move |ev| if let Ok(r) = event_target_value(&ev).parse() { role.set(r) }>
                    {roles.into_iter().map(|r| view! { <option value=r.as_str()>{r.label()}</option> }).collect_view()}
                </select>
                {error_of("role")}
            </label>
            {move || Problem::general(&problem.get(), &["username", "display_name", "role"]).map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <button type="submit" disabled=busy>{text.add}</button>
        </form>
    }
}
