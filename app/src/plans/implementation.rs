//! The implementation view: the PPAs submitted to BPDA, the late ones first, with their
//! progress against their timeline, counted by status and by organization. OCM sees every
//! organization's (its analysts open a PPA to see its milestones and tasks); a ministry
//! its own.

use bmms_shared::api::{Implementation, ImplementationQuery, ImplementationRow};
use bmms_shared::{DocId, OrgId};
use leptos::prelude::*;

use crate::desk::api;
use crate::desk::live::Live;
use crate::device::Status;
use crate::pages::ppa_progress::PpaProgress;
use crate::text::t;

/// The statuses a PPA in the view can have.
const STATUSES: [&str; 3] = ["submitted", "returned", "certified"];

#[component]
pub fn ImplementationView() -> impl IntoView {
    let status = expect_context::<Status>();
    let role = status.me.get_untracked().map(|me| me.role);
    // OCM's analysts open a PPA of any organization; a ministry's members their own.
    let opens_ppas = role.is_some_and(|r| r.may_drill_down());
    // OCM has no live updates (it changes nothing); the view is read when opened.
    let refresh = use_context::<Live>().map(|live| live.records).unwrap_or_else(|| RwSignal::new(0));
    let query = RwSignal::new(ImplementationQuery::default());
    let view_read = RwSignal::new(None::<Result<Implementation, String>>);
    api::keep_loaded(refresh, move || api::address("/api/v1/implementation", &query.get()), view_read);
    let opened = RwSignal::new(None::<(OrgId, DocId)>);
    let download = move |format: &str| {
        let mut export = query.get();
        (export.limit, export.offset, export.format) = (ImplementationQuery::default().limit, 0, Some(format.to_owned()));
        api::address("/api/v1/implementation/export", &export)
    };
    let tx = t().implementation;
    view! {
        <section class="card desk" id="implementation">
            <h1>{tx.title}</h1>
            <p>{tx.intro}</p>
            <div class="filters">
                <label>{tx.status} " "
                    <select id="implementation-status" on:change=move |ev| query.update(|q| q.status = api::filled(&event_target_value(&ev)))>
                        <option value="">{tx.all_statuses}</option>
                        {STATUSES.map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                    </select></label>
                " " <label><input type="checkbox" id="implementation-at-risk"
                    on:change=move |ev| query.update(|q| q.at_risk = event_target_checked(&ev)) /> " " {tx.at_risk_only}</label>
                " " <a class="button" id="implementation-csv" href=move || download("csv")>{tx.download_csv}</a>
                " " <a class="button" href=move || download("json")>{tx.download_json}</a>
            </div>
            {move || match view_read.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(read)) => view! {
                    <ul class="counts" id="implementation-by-status">{read.by_status.into_iter().map(|s| view! {
                        <li data-status=s.status.clone()><strong>{s.status.clone()}</strong> ": " {(tx.ppas)(s.ppas, s.at_risk)}</li>
                    }).collect_view()}</ul>
                    {organizations(read.by_organization, query)}
                    {rows(read.rows.items, read.rows.total, opens_ppas, opened)}
                }.into_any(),
            }}
            {move || opened.get().map(|(org, id)| view! { <PpaProgress id=id org=org /> })}
        </section>
    }
}

/// Each organization's PPAs; choosing one narrows the view to it.
fn organizations(by_organization: Vec<bmms_shared::api::OrganizationImplementation>, query: RwSignal<ImplementationQuery>) -> impl IntoView {
    let tx = t().implementation;
    (by_organization.len() > 1 || query.with(|q| q.org.is_some())).then(|| view! {
        <table class="desk-table" id="implementation-by-organization">
            <caption>{tx.by_organization} " "
                {query.with(|q| q.org.is_some()).then(|| view! {
                    <button class="link" on:click=move |_| query.update(|q| q.org = None)>{tx.all_organizations}</button>
                })}</caption>
            <thead><tr><th scope="col">{t().organization}</th><th scope="col">{tx.at_risk}</th>
                <th scope="col">{tx.average_progress}</th></tr></thead>
            <tbody>{by_organization.into_iter().map(|o| view! {
                <tr><th scope="row"><button class="link" on:click=move |_| query.update(|q| q.org = Some(o.org_id))>
                        {o.code} " — " {o.name}</button></th>
                    <td>{(tx.ppas)(o.ppas, o.at_risk)}</td>
                    <td>{o.average_progress.map(|p| format!("{p} %"))}</td></tr>
            }).collect_view()}</tbody>
        </table>
    })
}

fn rows(items: Vec<ImplementationRow>, total: i64, opens_ppas: bool, opened: RwSignal<Option<(OrgId, DocId)>>) -> impl IntoView {
    let tx = t().implementation;
    if items.is_empty() {
        return view! { <p id="implementation-empty">{tx.empty}</p> }.into_any();
    }
    let shown = items.len();
    view! {
        <p>{(tx.shown)(shown, total)}</p>
        <table class="desk-table" id="implementation-rows">
            <thead><tr>
                <th scope="col">{t().plans.title}</th><th scope="col">{t().organization}</th><th scope="col">{tx.status}</th>
                <th scope="col">{tx.average_progress}</th><th scope="col">{tx.milestones}</th><th scope="col">{tx.late_since}</th>
            </tr></thead>
            <tbody>{items.into_iter().map(|r| view! {
                <tr data-proposal=r.proposal_id.to_string() data-at-risk=r.at_risk.to_string()>
                    <th scope="row">
                        {if opens_ppas {
                            let (org, id) = (r.org_id, r.proposal_id);
                            view! { <button class="link open-ppa" on:click=move |_| opened.set(Some((org, id)))>{r.title.clone()}</button> }.into_any()
                        } else {
                            view! { <span>{r.title.clone()}</span> }.into_any()
                        }}
                        {r.at_risk.then(|| view! { " " <span class="badge refused">{tx.at_risk}</span> })}
                    </th>
                    <td>{r.org_code}</td>
                    <td>{r.status}{r.certification_void.then(|| view! { " " <span class="badge refused">{tx.certification_void}</span> })}</td>
                    <td class="progress">{r.progress_percent.map(|p| format!("{p} %"))}
                        {r.expected_percent.map(|e| view! { <br /><small>{(tx.expected)(e)}</small> })}</td>
                    <td>{format!("{} / {}", r.milestones_done, r.milestones)}
                        {(r.overdue_milestones > 0).then(|| view! { " " <small class="error">{format!("{} {}", r.overdue_milestones, tx.overdue.to_lowercase())}</small> })}</td>
                    <td>{r.late_since}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
    .into_any()
}
