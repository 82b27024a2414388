//! BPDA's queue: every organization's proposals waiting for review, oldest first, with
//! the score each had when it was submitted; a planner opens one to review it. MFBM's
//! budget officers read it too.

use bmms_shared::api::{Items, QueuedProposal};
use bmms_shared::plans::proposal::pesos;
use bmms_shared::plans::score::shown;
use leptos::prelude::*;

use crate::desk::api;
use crate::desk::live::Live;
use crate::desk::when;
use crate::pages::Screen;
use crate::text::t;

#[component]
pub fn ProposalQueue() -> impl IntoView {
    let screen = expect_context::<RwSignal<Screen>>();
    let live = expect_context::<Live>();
    let queue = RwSignal::new(None::<Result<Items<QueuedProposal>, String>>);
    api::keep_loaded(live.records, || "/api/v1/proposals/queue".into(), queue);
    view! {
        <section class="card desk" id="proposal-queue">
            <h1>{t().plans.queue}</h1>
            <p>{t().plans.queue_intro}</p>
            {move || match queue.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p>{t().plans.queue_empty}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="desk-table">
                        <thead><tr>
                            <th scope="col">{t().plans.title}</th><th scope="col">{t().organization}</th>
                            <th scope="col">{t().plans.score}</th><th scope="col">{t().plans.cost}</th>
                            <th scope="col">{t().plans.submitted}</th>
                        </tr></thead>
                        <tbody>{list.items.into_iter().map(|p| view! {
                            <tr data-proposal=p.proposal_id.to_string()>
                                <th scope="row"><button class="link open-review" on:click=move |_| screen.set(Screen::Review(p.submission_id))>{p.title.clone()}</button> " " <small>{p.ppa_type.clone()} {(p.version > 1).then(|| format!(" · v{}", p.version))}</small></th>
                                <td>{p.organization_code.clone()} " — " {p.organization_name.clone()}</td>
                                <td class="score">{shown(p.score)}
                                    {(!p.certifiable).then(|| view! { " " <span class="badge refused">{t().plans.below_80}</span> })}</td>
                                <td>{pesos(p.total_cost)}</td>
                                <td>{when(&p.submitted_at)}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
