//! BPDA's certifications: MFBM's budget officers (who budget what BPDA certifies) and
//! BPDA's planners see every one here, newest first, those certified since their last
//! look marked new; the tab says how many are new. A certificate can be downloaded and
//! checked by anyone (`POST /api/v1/certifications/verify`, `bmms verify-certification`).

use bmms_shared::api::{Certified, Items};
use leptos::prelude::*;

use crate::browser;
use crate::desk::api;
use crate::desk::live::Live;
use crate::desk::news::{mark_seen, unseen, TabWithNews};
use crate::pages::proposal::CertificateView;
use crate::text::t;

/// Where this browser keeps the newest certification time its user has seen.
const SEEN_KEY: &str = "bmms.certifications_seen";

/// The certifications, kept loaded and refreshed with the server's live updates.
fn certifications() -> RwSignal<Option<Result<Items<Certified>, String>>> {
    let live = expect_context::<Live>();
    let list = RwSignal::new(None);
    api::keep_loaded(live.records, || "/api/v1/certifications".into(), list);
    list
}

/// The tab of the certifications, with how many are new to this user.
#[component]
pub fn CertifiedTab(current: Signal<bool>, open: Callback<()>) -> impl IntoView {
    let list = certifications();
    let new = Signal::derive(move || match list.get() {
        Some(Ok(list)) => unseen(SEEN_KEY, list.items.iter().map(|c| c.certificate.certified_at.as_str())),
        _ => 0,
    });
    view! {
        <TabWithNews id="certified-tab" badge_id="certified-new" label=t().review.certified_tab new=new current=current
            new_count=t().review.new_count open=open />
    }
}

#[component]
pub fn CertifiedProposals() -> impl IntoView {
    let list = certifications();
    let seen = browser::remembered(SEEN_KEY).unwrap_or_default();
    // Seen once shown: the tab's count starts again from here.
    Effect::new(move |_| {
        if let Some(Ok(list)) = list.get() {
            mark_seen(SEEN_KEY, list.items.iter().map(|c| c.certificate.certified_at.as_str()));
        }
    });
    view! {
        <section class="card desk" id="certified-proposals">
            <h1>{t().review.certified_tab}</h1>
            <p>{t().review.certified_intro}</p>
            {move || match list.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p>{t().review.none_certified}</p> }.into_any(),
                Some(Ok(list)) => list.items.into_iter().map(|c| {
                    let new = c.certificate.certified_at.as_str() > seen.as_str();
                    let proposal = c.certificate.proposal_id.to_string();
                    view! {
                        <article class="certified" data-proposal=proposal>
                            <h2>{c.certificate.title.clone()} {new.then(|| view! { " " <span class="badge waiting">{t().review.new}</span> })}</h2>
                            <p>{c.certificate.organization_code.clone()} " — " {c.organization_name.clone()}</p>
                            <CertificateView certificate=c.certificate current=c.current />
                        </article>
                    }
                }).collect_view().into_any(),
            }}
        </section>
    }
}
