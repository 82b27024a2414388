//! MFBM's technical review at the desk: the budgets submitted for a fiscal year, each
//! with its total against its ceiling and what the compliance check finds now; one opened
//! in full, sent back with comments or recommended.

use bmms_shared::api::{BudgetProposal, BudgetSubmission, Items, ReviewBudget};
use bmms_shared::budget::compliance::{Severity, Violation};
use bmms_shared::plans::proposal::pesos;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::proposal::{findings, history, ppas_table};
use super::{year_select, year_signal};
use crate::desk::api::{self, Problem};
use crate::desk::csrf_token;
use crate::desk::live::Live;
use crate::device::Status;
use crate::text::{t, when};

#[component]
pub fn BudgetSubmissions() -> impl IntoView {
    let year = year_signal();
    let refresh = use_context::<Live>().map_or_else(|| RwSignal::new(0), |live| live.records);
    let list = RwSignal::new(None::<Result<Items<BudgetSubmission>, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/budget-submissions?year={}", year.get()), list);
    let open = RwSignal::new(None::<String>);
    // Another year closes the budget opened.
    Effect::new(move |_| {
        year.track();
        open.set(None);
    });
    view! {
        <section class="card desk" id="budget-submissions">
            <h1>{t().budget.submissions_title}</h1>
            <p>{t().budget.submissions_intro}</p>
            {year_select("submissions-year", year)}
            {move || match list.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p>{(t().budget.none_submitted)(year.get_untracked())}</p> }.into_any(),
                Some(Ok(list)) => { let findings = all_violations(&list.items); view! {
                    <table class="desk-table" id="submissions">
                        <thead><tr><th scope="col">{t().budget.organization}</th><th scope="col">{t().budget.total}</th>
                            <th scope="col">{t().budget.ceilings}</th><th scope="col">{t().budget.submitted}</th>
                            <th scope="col">{t().budget.compliance}</th><th scope="col">{t().budget.review}</th></tr></thead>
                        <tbody>{list.items.into_iter().map(|s| {
                            let code = s.organization_code.clone();
                            view! {
                                <tr data-organization=s.organization_code.clone()>
                                    <th scope="row"><button class="link" on:click=move |_| open.set(Some(code.clone()))>
                                        {s.organization_code.clone()}</button> " " <small>{s.organization_name}</small></th>
                                    <td>{pesos(s.total)}</td><td>{s.ceiling.map(pesos).unwrap_or_default()}</td>
                                    <td>{when(&s.submitted_at)} {s.late.then(|| view! { " " <span class="badge waiting">{t().budget.late}</span> })}</td>
                                    <td>{(t().budget.findings)(s.errors, s.warnings)}</td>
                                    <td>{s.review.unwrap_or_default()}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                    {findings}
                }.into_any() }
            }}
            {move || open.get().map(|code| view! { <SubmissionDetail year=year.get_untracked() code=code /> })}
        </section>
    }
}

/// Every submission's violations in one table, errors first, by organization.
fn all_violations(submissions: &[BudgetSubmission]) -> AnyView {
    let mut rows: Vec<(&str, &Violation)> = submissions.iter().flat_map(|s| s.violations.iter().map(|v| (s.organization_code.as_str(), v))).collect();
    rows.sort_by_key(|(code, v)| (v.severity != Severity::Error, *code));
    (!rows.is_empty()).then(|| view! {
        <table class="desk-table" id="all-violations">
            <caption>{t().budget.all_violations}</caption>
            <thead><tr><th scope="col">{t().budget.organization}</th><th scope="col">{t().budget.rule}</th><th scope="col">{t().budget.ppa}</th>
                <th scope="col">{t().budget.line}</th><th scope="col">{t().budget.finding}</th></tr></thead>
            <tbody>{rows.into_iter().map(|(code, v)| view! {
                <tr class=if v.severity == Severity::Error { "error" } else { "warning" } data-organization=code.to_owned() data-rule=v.rule.clone()>
                    <td>{code.to_owned()}</td><td>{v.rule.clone()}</td><td>{v.ppa_title.clone().unwrap_or_default()}</td>
                    <td>{v.line.clone().unwrap_or_default()}</td><td>{v.message.clone()}</td></tr>
            }).collect_view()}</tbody>
        </table>
    })
    .into_any()
}

/// One submitted budget in full, with the review form.
#[component]
fn SubmissionDetail(year: i32, code: String) -> impl IntoView {
    let status = expect_context::<Status>();
    let detail = RwSignal::new(None::<Result<BudgetProposal, String>>);
    let path = format!("/api/v1/budget-submissions/{year}/{code}");
    api::keep_loaded(RwSignal::new(0), { let path = path.clone(); move || path.clone() }, detail);
    let comments = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Problem>);
    let review_path = StoredValue::new(format!("{path}/review"));
    let decide = move |decision: &'static str| {
        let csrf = csrf_token(status);
        let path = review_path.get_value();
        let body = ReviewBudget { decision: decision.to_owned(), comments: comments.get_untracked() };
        spawn_local(async move {
            match api::post::<BudgetProposal>(&path, &csrf, &body).await {
                Ok(read) => {
                    problem.set(None);
                    detail.set(Some(Ok(read)));
                }
                Err(refused) => problem.set(Some(refused)),
            }
        });
    };
    view! {
        <article class="budget-submission" id="submission-detail" data-organization=code.clone()>
            {move || match detail.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(b)) => view! {
                    <h2>{(t().budget.submission_of)(&b.organization_code, b.fiscal_year)}</h2>
                    <p>{(t().budget.totals)(&pesos(b.total), &b.ceiling.as_ref().map(|c| pesos(c.total)).unwrap_or_default(), b.deadline.as_deref().unwrap_or("—"))}
                        {b.late_reason.clone().map(|r| view! { <br /><small>{(t().budget.late_because)(&r)}</small> })}</p>
                    {ppas_table(&b, None)}
                    {findings(&b)}
                    {history(&b)}
                }.into_any(),
            }}
            <div class="review-form">
                <label for="review-comments">{t().budget.review_comments}</label>
                <textarea id="review-comments" rows="3" prop:value=comments on:input=move |ev| comments.set(event_target_value(&ev))></textarea>
                {move || problem.get().map(|p| view! { <p class="error" role="alert" id="review-problem">{p.message}</p> })}
                <button id="review-return" on:click=move |_| decide("returned")>{t().budget.send_back}</button> " "
                <button class="primary" id="review-recommend" on:click=move |_| decide("recommended")>{t().budget.recommend}</button>
            </div>
        </article>
    }
}
