//! Proposals of other organizations that name this one as a partner: read here, never
//! edited (PostgreSQL shows them to the partners named, and lets them write nothing).

use bmms_shared::api::{Items, PartnerProposal};
use bmms_shared::plans::proposal::pesos;
use leptos::prelude::*;

use crate::desk::{api, when};
use crate::text::t;

/// A field of the proposal's content as text, if it has one.
pub(super) fn field(content: &serde_json::Value, name: &str) -> Option<String> {
    match content.get(name)? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Array(items) => Some(items.iter().filter_map(|i| i.as_str()).collect::<Vec<_>>().join(", ")),
        other => Some(other.to_string()),
    }
}

#[component]
pub fn PartnerProposals() -> impl IntoView {
    let refresh = RwSignal::new(0u64);
    let list = RwSignal::new(None::<Result<Items<PartnerProposal>, String>>);
    api::keep_loaded(refresh, || "/api/v1/proposals/partnered".into(), list);
    view! {
        <section class="card desk" id="partner-proposals">
            <h1>{t().plans.partnered}</h1>
            <p>{t().plans.partnered_intro}</p>
            {move || match list.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p>{t().plans.partnered_none}</p> }.into_any(),
                Some(Ok(list)) => list.items.into_iter().map(|p| view! {
                    <article class="partnered" data-proposal=p.proposal_id.to_string()>
                        <h2>{p.title.clone().unwrap_or_else(|| t().untitled_proposal.to_owned())}</h2>
                        <p>{p.organization_code.clone()} " — " {p.organization_name.clone()} " · " {p.status.clone()}
                            " · " {pesos(p.total_cost)} " · " {when(&p.updated_at)}</p>
                        <dl>
                            {[("description", t().plans.description), ("goals", t().plans.goals), ("places", t().plans.place),
                              ("start_date", t().plans.start), ("end_date", t().plans.end)]
                                .into_iter()
                                .filter_map(|(name, label)| field(&p.content, name).map(|value| view! { <dt>{label}</dt><dd>{value}</dd> }))
                                .collect_view()}
                        </dl>
                    </article>
                }).collect_view().into_any(),
            }}
        </section>
    }
}
