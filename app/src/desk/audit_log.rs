//! The Audit log tab, for an organization's administrator: the chain's check, the entries
//! filtered by who, what and when (newest first, a page at a time), and the export of
//! what is shown.

use bmms_shared::api::{AuditEntry, AuditPage, AuditQuery, AuditVerification};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::api;
use super::organizations::{ActingFor, OrganizationPicker};
use crate::text::{t, when};

#[component]
pub fn AuditLog() -> impl IntoView {
    let text = t().people;
    let (actor, action, from, to) = (RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let acting = ActingFor::here();
    let query = move || {
        let given = |s: RwSignal<String>| api::filled(&s.get());
        AuditQuery { actor: given(actor), action: given(action), from: given(from), to: given(to), org: acting.org(), ..AuditQuery::default() }
    };
    let verification = RwSignal::new(None::<Result<AuditVerification, String>>);
    api::keep_loaded(RwSignal::new(0), move || acting.address("/api/v1/audit/verify"), verification);
    // The pages read so far for the filters shown, and where the next one starts.
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let next = RwSignal::new(None::<i64>);
    let problem = RwSignal::new(None::<String>);
    // Only the answer to the latest request is shown: the page of filters since changed,
    // arriving late, must not fill the table under the new filters.
    let latest = api::Latest::new();
    let load = move |before: Option<i64>| {
        let address = api::address("/api/v1/audit", &AuditQuery { before, ..query() });
        let ticket = latest.next();
        spawn_local(async move {
            let answer = api::get::<AuditPage>(&address).await;
            if !latest.is(ticket) {
                return;
            }
            match answer {
                Ok(page) => {
                    problem.set(None);
                    next.set(page.next_before);
                    if before.is_some() {
                        entries.update(|all| all.extend(page.items));
                    } else {
                        entries.set(page.items);
                    }
                }
                Err(message) => problem.set(Some(message)),
            }
        });
    };
    Effect::new(move |_| {
        query();
        load(None);
    });
    let filter = move |label: &'static str, name: &'static str, kind: &'static str, value: RwSignal<String>| view! {
        <label>{label}
            <input name=name type=kind prop:value=value on:change=move |ev| value.set(event_target_value(&ev)) />
        </label>
    };
    let export = move |format: &'static str, label: &'static str| view! {
        <a class="button export" download="" on:click=crate::pages::security::guard_download
            href=move || api::address("/api/v1/audit/export", &AuditQuery { format: Some(format.into()), ..query() })>{label}</a>
    };
    view! {
        <section class="card desk" id="audit-log">
            <h1>{text.audit_tab}</h1>
            <p class="hint">{text.audit_intro}</p>
            <OrganizationPicker />
            {move || verification.get().map(|checked| match checked {
                Ok(v) => match v.broken_at {
                    None => view! { <p id="chain-state" role="status">{(text.chain_holds)(v.entries)}</p> }.into_any(),
                    Some(seq) => view! { <p id="chain-state" class="error" role="alert">{(text.chain_broken)(seq, v.reason.as_deref().unwrap_or_default())}</p> }.into_any(),
                },
                Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
            })}
            <div class="filters">
                {filter(text.audit_actor, "actor", "text", actor)}
                {filter(text.audit_action, "action", "text", action)}
                {filter(text.audit_from, "from", "date", from)}
                {filter(text.audit_to, "to", "date", to)}
            </div>
            <p class="exports">{text.export_filtered} " " {export("csv", "CSV")} " " {export("json", "JSON")}</p>
            {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            <table class="desk-table" id="audit-entries">
                <thead><tr>
                    <th scope="col">"#"</th><th scope="col">{text.audit_when}</th><th scope="col">{text.audit_who}</th>
                    <th scope="col">{text.audit_what}</th><th scope="col">{text.audit_subject}</th><th scope="col">{text.audit_details}</th>
                </tr></thead>
                <tbody>{move || entries.get().into_iter().map(|entry| view! {
                    <tr>
                        <td>{entry.seq}</td><td>{when(&entry.at)}</td><td>{entry.actor}</td>
                        <td>{entry.action}</td><td>{entry.subject}</td><td class="details"><code>{entry.details.to_string()}</code></td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
            {move || entries.get().is_empty().then(|| view! { <p>{text.audit_none}</p> })}
            {move || next.get().map(|before| view! {
                <button on:click=move |_| load(Some(before))>{text.audit_older}</button>
            })}
        </section>
    }
}
