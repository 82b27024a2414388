//! A ministry's budget proposal for a fiscal year, at its desk: the certified PPAs it
//! budgets with their cost by quarter and class, the totals against the ceiling, what the
//! compliance check finds (each violation with its rule, PPA and line), and the moves:
//! add or remove a PPA, sign as preparer, reopen, and, for the head, submit to MFBM.

use bmms_shared::api::{AddToBudget, BudgetProposal, SubmitBudget};
use bmms_shared::budget::compliance::Severity;
use bmms_shared::plans::proposal::pesos;
use bmms_shared::{policy, DocId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{year_select, year_signal};
use crate::desk::api::{self, Problem};
use crate::desk::csrf_token;
use crate::desk::live::Live;
use crate::device::Status;
use crate::text::{t, when};

/// A move of the proposal: its path under the year's proposal, and its body.
enum Move {
    Add(DocId),
    Remove(DocId),
    Prepare,
    Reopen,
    Submit(Option<String>),
}

#[component]
pub fn BudgetProposalView() -> impl IntoView {
    let status = expect_context::<Status>();
    let may_submit = status.me.get_untracked().is_some_and(|me| policy::may_submit_budget(me.role).is_ok());
    let year = year_signal();
    let refresh = use_context::<Live>().map_or_else(|| RwSignal::new(0), |live| live.records);
    let budget = RwSignal::new(None::<Result<BudgetProposal, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/budget-proposals/{}", year.get()), budget);
    let problem = RwSignal::new(None::<Problem>);
    let late_reason = RwSignal::new(String::new());

    let act = move |action: Move| {
        let csrf = csrf_token(status);
        let base = format!("/api/v1/budget-proposals/{}", year.get_untracked());
        spawn_local(async move {
            let answer: Result<BudgetProposal, Problem> = match action {
                Move::Add(proposal_id) => api::post(&format!("{base}/ppas"), &csrf, &AddToBudget { proposal_id }).await,
                Move::Remove(proposal_id) => match api::delete(&format!("{base}/ppas/{proposal_id}"), &csrf).await {
                    Ok(()) => api::get(&base).await.map_err(|message| Problem { field: None, message }),
                    Err(problem) => Err(problem),
                },
                Move::Prepare => api::post(&format!("{base}/prepare"), &csrf, &()).await,
                Move::Reopen => api::post(&format!("{base}/reopen"), &csrf, &()).await,
                Move::Submit(late_reason) => api::post(&format!("{base}/submit"), &csrf, &SubmitBudget { late_reason }).await,
            };
            match answer {
                Ok(read) => {
                    problem.set(None);
                    budget.set(Some(Ok(read)));
                }
                Err(refused) => problem.set(Some(refused)),
            }
        });
    };

    view! {
        <section class="card desk" id="budget-proposal">
            <h1>{t().budget.proposal_title}</h1>
            <p>{t().budget.proposal_intro}</p>
            {year_select("budget-year", year)}
            {move || problem.get().map(|p| view! { <p class="error" role="alert" id="budget-problem">{p.message}</p> })}
            {move || match budget.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p role="status">{message}</p> }.into_any(),
                Some(Ok(b)) => {
                    let preparing = b.status == "preparing";
                    let blocked = b.violations.iter().any(|v| v.severity == Severity::Error);
                    view! {
                        <p id="budget-status"><strong>{(t().budget.status_line)(stage_of(&b))}</strong>
                            {b.prepared_by.clone().map(|by| format!(" · {}", (t().budget.prepared_by)(&by, &when(b.prepared_at.as_deref().unwrap_or_default()))))}
                            {b.submitted_by.clone().map(|by| format!(" · {}", (t().budget.submitted_by)(&by, &when(b.submitted_at.as_deref().unwrap_or_default()))))}</p>
                        <p id="budget-totals">{(t().budget.totals)(&pesos(b.total), &b.ceiling.as_ref().map(|c| pesos(c.total)).unwrap_or_else(|| t().budget.not_set.to_owned()),
                            b.deadline.as_deref().unwrap_or("—"))}</p>
                        {ppas_table(&b, preparing.then_some(Callback::new(move |id| act(Move::Remove(id)))))}
                        {(preparing && !b.candidates.is_empty()).then(|| view! {
                            <ul class="candidates" id="budget-candidates">{b.candidates.iter().map(|c| {
                                let id = c.proposal_id;
                                view! { <li>{c.title.clone()} " " <small>{pesos(c.year_cost)}</small> " "
                                    <button class="small" on:click=move |_| act(Move::Add(id))>{t().budget.add}</button></li> }
                            }).collect_view()}</ul>
                        })}
                        {findings(&b)}
                        <div class="budget-moves">
                            {preparing.then(|| view! {
                                <button class="primary" id="budget-prepare" disabled=blocked on:click=move |_| act(Move::Prepare)>{t().budget.prepare}</button>
                            })}
                            {(b.status == "prepared").then(|| view! {
                                <button id="budget-reopen" on:click=move |_| act(Move::Reopen)>{t().budget.reopen}</button>
                                {may_submit.then(|| view! {
                                    " " <label>{t().budget.late_reason} " "
                                        <input id="budget-late-reason" prop:value=late_reason on:input=move |ev| late_reason.set(event_target_value(&ev)) /></label>
                                    " " <button class="primary" id="budget-submit" on:click=move |_| {
                                        let reason = Some(late_reason.get_untracked()).filter(|r| !r.trim().is_empty());
                                        act(Move::Submit(reason))
                                    }>{t().budget.submit}</button>
                                })}
                            })}
                        </div>
                        {history(&b)}
                    }.into_any()
                }
            }}
        </section>
    }
}

/// The budget's PPAs with their cost by class; with `remove`, a button to take each out.
pub(super) fn ppas_table(b: &BudgetProposal, remove: Option<Callback<DocId>>) -> impl IntoView {
    view! {
        <table class="desk-table" id="budget-ppas">
            <caption>{t().budget.ppas}</caption>
            <thead><tr><th scope="col">{t().plans.title}</th><th scope="col">"PS"</th><th scope="col">"MOOE"</th><th scope="col">"CO"</th>
                <th scope="col">{t().budget.total}</th><th scope="col"></th></tr></thead>
            <tbody>{b.ppas.iter().map(|p| {
                let class_total = |c: usize| pesos(p.lines.iter().map(|q| q[c]).sum());
                let id = p.proposal_id;
                view! {
                    <tr data-proposal=id.to_string()>
                        <th scope="row">{p.title.clone()} " " <small>{(t().budget.version)(p.version)}</small>
                            {(!p.certification_holds).then(|| view! { " " <span class="badge refused">{t().budget.not_certified}</span> })}</th>
                        <td>{class_total(0)}</td><td>{class_total(1)}</td><td>{class_total(2)}</td><td>{pesos(p.total)}</td>
                        <td>{remove.map(|remove| view! { <button class="small" on:click=move |_| remove.run(id)>{t().remove}</button> })}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
}

/// What the compliance check finds: each violation with its rule, PPA and line.
pub(super) fn findings(b: &BudgetProposal) -> impl IntoView {
    view! {
        <h2>{t().budget.compliance}</h2>
        {if b.violations.is_empty() {
            view! { <p id="budget-compliant">{t().budget.compliant}</p> }.into_any()
        } else {
            view! { <ul id="budget-violations">{b.violations.iter().map(|v| view! {
                <li class=if v.severity == Severity::Error { "error" } else { "warning" } data-rule=v.rule.clone()>
                    <strong>{v.rule.clone()}</strong> " " {v.ppa_title.clone().map(|t| format!("{t}: "))}
                    {v.line.clone().map(|l| format!("{l}: "))} {v.message.clone()}</li>
            }).collect_view()}</ul> }.into_any()
        }}
    }
}

/// MFBM's latest review, and every move of the budget.
pub(super) fn history(b: &BudgetProposal) -> impl IntoView {
    view! {
        {b.review.clone().map(|r| view! {
            <p class="budget-review" id="budget-review" data-decision=r.decision.clone()>
                <strong>{(t().budget.reviewed)(&r.decision, &r.reviewed_by, &when(&r.reviewed_at))}</strong> " " {r.comments}</p>
        })}
        {(!b.history.is_empty()).then(|| view! {
            <h2>{t().budget.history}</h2>
            <ol id="budget-history">{b.history.iter().map(|h| view! {
                <li>{(t().budget.moved)(&h.from_status, &h.to_status, &h.moved_by, &when(&h.moved_at))}</li>
            }).collect_view()}</ol>
        })}
    }
}

/// Where the budget stands, as its status line says it: the status of its own row, or the
/// stage MFBM, OCM and Parliament have taken it to since it was submitted.
fn stage_of(b: &BudgetProposal) -> &str {
    match () {
        _ if b.in_parliament_at.is_some() => "in_parliament",
        _ if b.approved_at.is_some() => "approved",
        _ if b.status == "submitted" && b.review.as_ref().is_some_and(|r| r.decision == "recommended") => "recommended",
        _ => &b.status,
    }
}
