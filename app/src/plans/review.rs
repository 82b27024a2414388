//! BPDA's review of one submitted proposal: what was submitted, its score component by
//! component (as computed, and as adjusted with the planner's reasons), and the decision:
//! certify (at 80.00 or more) or send back with reasons. MFBM's budget officers read the
//! same screen without the buttons. Online only, like the other desk screens.

use bmms_shared::api::{AdjustmentInput, ReturnInput, SubmissionReview};
use bmms_shared::plans::proposal::pesos;
use bmms_shared::plans::score::{hundredths, shown, CERTIFIABLE_AT};
use bmms_shared::plans::ComponentName;
use bmms_shared::policy;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::pages::proposal::DecisionView;
use super::partnered::field;
use crate::desk::api::{self, Problem};
use crate::desk::{csrf_token, when};
use crate::device::Status;
use crate::pages::Screen;
use crate::text::t;

#[component]
pub fn ReviewSubmission(id: Uuid) -> impl IntoView {
    let status = expect_context::<Status>();
    let screen = expect_context::<RwSignal<Screen>>();
    let reviews = status.me.get_untracked().is_some_and(|me| policy::may_review_proposals(me.role).is_ok());
    let refresh = RwSignal::new(0u64);
    let review = RwSignal::new(None::<Result<SubmissionReview, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/submissions/{id}"), review);
    let outcome = RwSignal::new(None::<Result<&'static str, String>>);
    let act = move |action: &'static str, body: serde_json::Value, done: &'static str| {
        let csrf = csrf_token(status);
        spawn_local(async move {
            let answer: Result<SubmissionReview, Problem> = api::post(&format!("/api/v1/submissions/{id}/{action}"), &csrf, &body).await;
            match answer {
                Ok(updated) => {
                    review.set(Some(Ok(updated)));
                    outcome.set(Some(Ok(done)));
                }
                Err(problem) => outcome.set(Some(Err(problem.message))),
            }
        });
    };

    let (component, value, reason) = (RwSignal::new(ComponentName::GoalMatch), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let adjust = move |_| {
        let Some(value) = hundredths(&value.get_untracked()) else {
            outcome.set(Some(Err(t().review.value_unreadable.to_owned())));
            return;
        };
        let input = AdjustmentInput { component: component.get_untracked(), value, reason: reason.get_untracked() };
        act("adjustments", serde_json::to_value(input).unwrap_or_default(), t().review.adjusted);
    };
    let reasons = RwSignal::new(String::new());
    let send_back = move |_| {
        let input = ReturnInput { reasons: reasons.get_untracked() };
        act("return", serde_json::to_value(input).unwrap_or_default(), t().review.returned_done);
    };
    let certify = move |_| act("certify", serde_json::Value::Null, t().review.certified_done);

    view! {
        <section class="card desk" id="submission-review">
            <button class="link" on:click=move |_| screen.set(Screen::ProposalQueue)>{t().review.back_to_queue}</button>
            {move || match review.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(r)) => {
                    let undecided = r.decision.is_none();
                    let certifiable = r.score.total >= CERTIFIABLE_AT;
                    view! {
                        <h1>{field(&r.content, "title").unwrap_or_else(|| t().untitled_proposal.to_owned())}</h1>
                        <p>{r.organization_code.clone()} " — " {r.organization_name.clone()} " · "
                            {(t().review.version)(r.version)} " · " {pesos(r.total_cost)} " · " {when(&r.submitted_at)}</p>
                        <dl>
                            {[("ppa_type", t().review.kind), ("description", t().plans.description), ("goals", t().plans.goals),
                              ("places", t().plans.place), ("beneficiaries", t().review.beneficiaries),
                              ("partners", t().review.partners), ("start_date", t().plans.start), ("end_date", t().plans.end)]
                                .into_iter()
                                .filter_map(|(name, label)| field(&r.content, name).map(|value| view! { <dt>{label}</dt><dd>{value}</dd> }))
                                .collect_view()}
                        </dl>
                        <h2 id="review-score">{(t().review.score_now)(&shown(r.score.total))}
                            {(r.score.total != r.computed_total).then(|| view! { " " <small>{(t().review.computed)(&shown(r.computed_total))}</small> })}</h2>
                        <table class="desk-table">
                            <thead><tr><th scope="col">{t().review.component}</th><th scope="col">{t().review.value}</th>
                                <th scope="col">{t().review.weighted}</th><th scope="col">{t().review.how}</th></tr></thead>
                            <tbody>{r.score.components.iter().map(|c| view! {
                                <tr data-component=format!("{:?}", c.name)>
                                    <th scope="row">{c.name.label()} " (" {c.weight} " %)"</th>
                                    <td>{shown(c.value)}</td><td>{shown(c.weighted)}</td><td>{c.explanation.clone()}</td>
                                </tr>
                            }).collect_view()}</tbody>
                        </table>
                        {(!r.adjustments.is_empty()).then(|| view! {
                            <h3>{t().review.adjustments}</h3>
                            <ul id="adjustments">{r.adjustments.iter().map(|a| view! {
                                <li>{a.component.label()} ": " {shown(a.from)} " → " {shown(a.to)} " — " {a.reason.clone()}
                                    " (" {a.adjusted_by.clone()} ", " {when(&a.adjusted_at)} ")"</li>
                            }).collect_view()}</ul>
                        })}
                        {r.decision.clone().map(|d| view! { <DecisionView decision=d /> })}
                        {(reviews && undecided).then(|| view! {
                            <fieldset class="review-actions">
                                <legend>{t().review.adjust}</legend>
                                <label>{t().review.component}
                                    <select id="adjust-component" on:change=move |ev| {
                                        let chosen = event_target_value(&ev);
                                        if let Some(name) = ComponentName::ALL.into_iter().find(|n| format!("{n:?}") == chosen) {
                                            component.set(name);
                                        }
                                    }>
                                        {ComponentName::ALL.into_iter().map(|n| view! { <option value=format!("{n:?}")>{n.label()}</option> }).collect_view()}
                                    </select></label>
                                <label>{t().review.new_value}
                                    <input id="adjust-value" inputmode="decimal" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) /></label>
                                <label>{t().review.reason}
                                    <textarea id="adjust-reason" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))></textarea></label>
                                <button id="adjust" on:click=adjust>{t().review.adjust}</button>
                            </fieldset>
                            <fieldset class="review-actions">
                                <legend>{t().review.decide}</legend>
                                <button class="primary" id="certify" disabled=!certifiable on:click=certify>{t().review.certify}</button>
                                {(!certifiable).then(|| view! { " " <small>{t().review.below_threshold}</small> })}
                                <label>{t().review.reasons}
                                    <textarea id="return-reasons" prop:value=reasons on:input=move |ev| reasons.set(event_target_value(&ev))></textarea></label>
                                <button id="send-back" on:click=send_back>{t().review.send_back}</button>
                            </fieldset>
                        })}
                    }.into_any()
                }
            }}
            {move || outcome.get().map(|o| match o {
                Ok(message) => view! { <p role="status" id="review-outcome">{message}</p> }.into_any(),
                Err(message) => view! { <p class="error" role="alert" id="review-outcome">{message}</p> }.into_any(),
            })}
        </section>
    }
}
