//! For the system administrator: the Organizations tab (create a ministry, office or
//! agency, rename one, deactivate and reactivate it), and the choice of which
//! organization the People and Audit log tabs show, where they act for any of them.
//! Everyone else's People and Audit log are their own organization's.

use bmms_shared::api::{ForOrganization, NewOrganization, OrganizationName, OrganizationSummary};
use bmms_shared::{OrgId, OrgKind, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::api::{self, Problem};
use super::csrf_token;
use crate::browser;
use crate::device::Status;
use crate::text::t;

/// The organization the People and Audit log tabs work on: `None` for the person's own.
/// One per desk, so that moving between the two tabs keeps the choice.
#[derive(Clone, Copy)]
pub struct ActingFor(RwSignal<Option<OrgId>>);

impl ActingFor {
    pub fn provide() {
        provide_context(ActingFor(RwSignal::new(None)));
    }

    /// The desk's choice, from the component's context (made with the component).
    pub fn here() -> ActingFor {
        use_context::<ActingFor>().unwrap_or_else(|| ActingFor(RwSignal::new(None)))
    }

    /// The organization chosen (`None`: one's own), tracked.
    pub fn org(self) -> Option<OrgId> {
        self.0.get()
    }

    /// `path` for the organization chosen, with `?org=` when it is another than one's
    /// own; tracked, so that a list reads again when the choice changes.
    pub fn address(self, path: &str) -> String {
        api::address(path, &ForOrganization { org: self.0.get() })
    }

    /// The same, for a change made now (not tracked).
    pub fn address_now(self, path: &str) -> String {
        api::address(path, &ForOrganization { org: self.0.get_untracked() })
    }
}

/// Every organization, by code; `refresh` reads them again.
fn organizations(refresh: RwSignal<u64>) -> RwSignal<Option<Result<Vec<OrganizationSummary>, String>>> {
    let list = RwSignal::new(None);
    api::keep_loaded(refresh, || "/api/v1/organizations".into(), list);
    list
}

/// Above the People and Audit log tabs, for the system administrator only: which
/// organization they show.
#[component]
pub fn OrganizationPicker() -> impl IntoView {
    let status = expect_context::<Status>();
    let acting = ActingFor::here();
    let me = status.me.get_untracked();
    if me.as_ref().map(|me| me.role) != Some(Role::SystemAdmin) {
        return ().into_any();
    }
    let own = me.map(|me| me.organization.id);
    let list = organizations(RwSignal::new(0));
    let choose = move |ev: leptos::ev::Event| {
        let chosen: Option<OrgId> = event_target_value(&ev).parse().ok().map(OrgId);
        acting.0.set(chosen.filter(|id| Some(*id) != own));
    };
    view! {
        <label class="picker">{t().organizations.acting_for}
            <select name="organization" on:change=choose>
                {move || list.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|o| {
                    let chosen = acting.0.get_untracked().or(own) == Some(o.id);
                    view! { <option value=o.id.uuid().to_string() selected=chosen>{format!("{} — {}", o.code, o.name)}</option> }
                }).collect_view()}
            </select>
        </label>
    }
    .into_any()
}

/// What a row's change is.
#[derive(Clone, Copy)]
enum Change {
    Deactivate,
    Reactivate,
}

/// The Organizations tab.
#[component]
pub fn Organizations() -> impl IntoView {
    let status = expect_context::<Status>();
    let refresh = RwSignal::new(0u64);
    let list = organizations(refresh);
    let problem = RwSignal::new(None::<Problem>);
    let renaming = RwSignal::new(None::<(OrgId, String)>);
    let done = move |answer: Result<OrganizationSummary, Problem>| {
        problem.set(answer.err());
        refresh.update(|n| *n += 1);
    };
    let change = move |id: OrgId, change: Change| {
        let path = match change {
            Change::Deactivate => format!("/api/v1/organizations/{}/deactivate", id.uuid()),
            Change::Reactivate => format!("/api/v1/organizations/{}/reactivate", id.uuid()),
        };
        spawn_local(async move { done(api::post::<OrganizationSummary>(&path, &csrf_token(status), &()).await) });
    };
    let save_name = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let Some((id, name)) = renaming.get_untracked() else { return };
        renaming.set(None);
        let path = format!("/api/v1/organizations/{}", id.uuid());
        spawn_local(async move { done(api::put::<OrganizationSummary>(&path, &csrf_token(status), &OrganizationName { name }).await) });
    };
    let text = t().organizations;
    let row = move |o: OrganizationSummary| {
        let (id, name) = (o.id, o.name.clone());
        // OCM, BPDA and MFBM exist once each, and always.
        let stays = o.kind != OrgKind::Moa || status.me.get_untracked().is_some_and(|me| me.organization.id == id);
        let code = o.code.clone();
        view! {
            <tr data-code=o.code.clone()>
                <th scope="row">{o.code.clone()}</th>
                <td>{move || match renaming.get() {
                    Some((editing, value)) if editing == id => view! {
                        <form class="inline" on:submit=save_name>
                            <input name="organization-name" required aria-label=text.name prop:value=value
                                on:input=move |ev| renaming.set(Some((id, event_target_value(&ev)))) />
                            <button class="small" type="submit">{text.save}</button>
                        </form>
                    }.into_any(),
                    _ => view! { <span>{name.clone()}</span> }.into_any(),
                }}</td>
                <td>{if o.deactivated { text.deactivated } else { text.active }}</td>
                <td class="actions">
                    <button class="small" on:click={let name = o.name.clone(); move |_| renaming.set(Some((id, name.clone())))}>{text.rename}</button>
                    {(!stays).then(|| if o.deactivated {
                        view! { <button class="small" on:click=move |_| change(id, Change::Reactivate)>{text.reactivate}</button> }.into_any()
                    } else {
                        let code = code.clone();
                        view! { <button class="small" on:click=move |_| if browser::confirm(&(text.confirm_deactivate)(&code)) { change(id, Change::Deactivate) }>{text.deactivate}</button> }.into_any()
                    })}
                </td>
            </tr>
        }
    };
    view! {
        <section class="card desk" id="organizations">
            <h1>{text.tab}</h1>
            <p class="hint">{text.intro}</p>
            {move || Problem::general(&problem.get(), &[]).map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {move || match list.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(all)) => view! {
                    <table class="desk-table" id="organizations-table">
                        <thead><tr>
                            <th scope="col">{text.code}</th><th scope="col">{text.name}</th>
                            <th scope="col">{text.state}</th><th scope="col">{text.actions}</th>
                        </tr></thead>
                        <tbody>{all.into_iter().map(row).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
            <NewOrganizationForm created=Callback::new(move |_| refresh.update(|n| *n += 1)) />
        </section>
    }
}

#[component]
fn NewOrganizationForm(created: Callback<OrganizationSummary>) -> impl IntoView {
    let status = expect_context::<Status>();
    let (code, name) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let problem = RwSignal::new(None::<Problem>);
    let busy = RwSignal::new(false);
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        busy.set(true);
        let body = NewOrganization { code: code.get_untracked(), name: name.get_untracked() };
        spawn_local(async move {
            match api::post::<OrganizationSummary>("/api/v1/organizations", &csrf_token(status), &body).await {
                Ok(organization) => {
                    code.set(String::new());
                    name.set(String::new());
                    problem.set(None);
                    created.run(organization);
                }
                Err(failed) => problem.set(Some(failed)),
            }
            busy.set(false);
        });
    };
    let text = t().organizations;
    let error_of = move |field: &'static str| move || Problem::about(&problem.get(), field).map(|m| view! { <span class="error" role="alert">{m}</span> });
    view! {
        <form class="desk-form" id="new-organization" on:submit=submit>
            <h2>{text.new_organization}</h2>
            <label>{text.code}
                <input name="code" required maxlength="16" autocapitalize="characters" prop:value=code on:input=move |ev| code.set(event_target_value(&ev)) />
                {error_of("code")}
            </label>
            <label>{text.name}
                <input name="name" required maxlength="200" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
                {error_of("name")}
            </label>
            {move || Problem::general(&problem.get(), &["code", "name"]).map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <button type="submit" disabled=busy>{text.add}</button>
        </form>
    }
}
