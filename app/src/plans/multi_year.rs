//! The organization's multi-year plan: its PPA proposals laid out by fiscal year under
//! the BDP goals they serve, with each goal's total by year, for ministry staff and their
//! supervisors to see what they propose, where, and when.

use bmms_shared::api::MultiYearPlan;
use bmms_shared::plans::proposal::pesos;
use leptos::prelude::*;

use crate::desk::api;
use crate::desk::live::Live;
use crate::text::t;

#[component]
pub fn MultiYearPlanView() -> impl IntoView {
    let live = expect_context::<Live>();
    let plan = RwSignal::new(None::<Result<MultiYearPlan, String>>);
    api::keep_loaded(live.records, || "/api/v1/proposals/plan".into(), plan);
    view! {
        <section class="card desk" id="multi-year-plan">
            <h1>{t().aip.our_plan}</h1>
            <p>{t().aip.our_plan_intro}</p>
            {move || match plan.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(plan)) if plan.goals.is_empty() => view! { <p>{t().aip.our_plan_empty}</p> }.into_any(),
                Some(Ok(plan)) => {
                    let years = plan.years.clone();
                    view! {
                        <table class="desk-table">
                            <thead><tr><th scope="col">{t().plans.title}</th><th scope="col">{t().aip.status}</th>
                                {years.iter().map(|y| view! { <th scope="col">{*y}</th> }).collect_view()}</tr></thead>
                            {plan.goals.into_iter().map(|goal| view! {
                                <tbody data-goal=goal.code.clone()>
                                    <tr class="goal"><th scope="rowgroup" colspan="2">
                                        {if goal.code.is_empty() { t().aip.no_goal.to_owned() } else { format!("{} {}", goal.code, goal.title) }}</th>
                                        {goal.by_year.iter().map(|c| view! { <td><strong>{pesos(*c)}</strong></td> }).collect_view()}</tr>
                                    {goal.proposals.into_iter().map(|line| view! {
                                        <tr><th scope="row">{line.title.unwrap_or_else(|| t().untitled_proposal.to_owned())}</th><td>{line.status}</td>
                                            {line.by_year.iter().map(|c| view! { <td>{pesos(*c)}</td> }).collect_view()}</tr>
                                    }).collect_view()}
                                </tbody>
                            }).collect_view()}
                        </table>
                    }.into_any()
                }
            }}
        </section>
    }
}
