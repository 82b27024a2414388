//! The end of a year's budget, at the desk: OCM's list of the budgets MFBM recommended,
//! which an OCM executive approves; and the expenditure program of the approved budgets
//! (organization × PPA × expense class × quarter, with totals), printable and downloadable,
//! which MFBM submits to Parliament.

use bmms_shared::api::{BudgetForApproval, ExpenditureProgram, Items};
use bmms_shared::plans::proposal::pesos;
use bmms_shared::{policy, Role};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::desk::api::{self, Problem};
use crate::desk::csrf_token;
use crate::desk::live::Live;
use crate::device::Status;
use super::{year_select, year_signal};
use crate::text::{t, when};

fn refresh() -> RwSignal<u64> {
    use_context::<Live>().map_or_else(|| RwSignal::new(0), |live| live.records)
}

/// OCM: the budgets MFBM recommended for a year; an executive approves each.
#[component]
pub fn BudgetApprovals() -> impl IntoView {
    let status = expect_context::<Status>();
    let approves = status.me.get_untracked().is_some_and(|me| policy::may_approve_budgets(me.role).is_ok());
    let year = year_signal();
    let refresh = refresh();
    let list = RwSignal::new(None::<Result<Items<BudgetForApproval>, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/budget-approvals?year={}", year.get()), list);
    let problem = RwSignal::new(None::<Problem>);
    let approve = move |code: String| {
        let csrf = csrf_token(status);
        let path = format!("/api/v1/budget-approvals/{}/{code}", year.get_untracked());
        spawn_local(async move {
            match api::post::<serde_json::Value>(&path, &csrf, &()).await {
                Ok(_) => {
                    problem.set(None);
                    refresh.update(|n| *n += 1);
                }
                Err(refused) => problem.set(Some(refused)),
            }
        });
    };
    view! {
        <section class="card desk" id="budget-approvals">
            <h1>{t().budget.approvals_title}</h1>
            <p>{t().budget.approvals_intro}</p>
            {year_select("approvals-year", year)}
            {move || problem.get().map(|p| view! { <p class="error" role="alert">{p.message}</p> })}
            {move || match list.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p>{(t().budget.none_recommended)(year.get_untracked())}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="desk-table" id="approvals">
                        <thead><tr><th scope="col">{t().budget.organization}</th><th scope="col">{t().budget.total}</th>
                            <th scope="col">{t().budget.ceilings}</th><th scope="col">{t().budget.review}</th><th scope="col"></th></tr></thead>
                        <tbody>{list.items.into_iter().map(|b| {
                            let code = b.organization_code.clone();
                            view! {
                                <tr data-organization=b.organization_code.clone()>
                                    <th scope="row">{b.organization_code.clone()} " " <small>{b.organization_name}</small></th>
                                    <td>{pesos(b.total)}</td><td>{b.ceiling.map(pesos).unwrap_or_default()}</td>
                                    <td>{(t().budget.reviewed)("recommended", &b.recommended_by, &when(&b.recommended_at))} " " {b.comments}</td>
                                    <td>{match (b.approved_by, b.approved_at) {
                                        (Some(by), Some(at)) => view! { <span class="badge synced">{(t().budget.approved)(&by, &when(&at))}</span> }.into_any(),
                                        _ if approves => view! { <button class="primary small" on:click=move |_| approve(code.clone())>{t().budget.approve}</button> }.into_any(),
                                        _ => view! { <span>{t().budget.awaiting_approval}</span> }.into_any(),
                                    }}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// MFBM and OCM: the expenditure program of a year; MFBM submits it to Parliament.
#[component]
pub fn ExpenditureProgramView() -> impl IntoView {
    let status = expect_context::<Status>();
    let submits = status.me.get_untracked().is_some_and(|me| me.role == Role::MfbmBudgetOfficer);
    let year = year_signal();
    let refresh = refresh();
    let program = RwSignal::new(None::<Result<ExpenditureProgram, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/expenditure-program/{}", year.get()), program);
    let problem = RwSignal::new(None::<Problem>);
    let to_parliament = move |_| {
        let csrf = csrf_token(status);
        let path = format!("/api/v1/expenditure-program/{}/parliament", year.get_untracked());
        spawn_local(async move {
            match api::post::<ExpenditureProgram>(&path, &csrf, &()).await {
                Ok(read) => {
                    problem.set(None);
                    program.set(Some(Ok(read)));
                }
                Err(refused) => problem.set(Some(refused)),
            }
        });
    };
    view! {
        <section class="card desk printable" id="expenditure-program">
            <h1>{move || (t().budget.program_title)(year.get())}</h1>
            <p class="no-print">{t().budget.program_intro}</p>
            <div class="no-print">
                {year_select("program-year", year)}
                " " <a class="button" id="program-csv" on:click=crate::pages::security::guard_download href=move || format!("/api/v1/expenditure-program/{}/export?format=csv", year.get())>{t().aip.download_csv}</a>
                " " <a class="button" on:click=crate::pages::security::guard_download href=move || format!("/api/v1/expenditure-program/{}/export?format=json", year.get())>{t().aip.download_json}</a>
                " " <button on:click=|_| { let _ = web_sys::window().map(|w| w.print()); }>{t().budget.print}</button>
            </div>
            {move || problem.get().map(|p| view! { <p class="error" role="alert" id="program-problem">{p.message}</p> })}
            {move || match program.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(p)) => view! {
                    <p id="program-state">{match (p.submitted_to_parliament_by.clone(), p.submitted_to_parliament_at.clone()) {
                        (Some(by), Some(at)) => (t().budget.in_parliament)(&by, &when(&at)),
                        _ => t().budget.not_in_parliament.to_owned(),
                    }}
                    {(submits && p.submitted_to_parliament_at.is_none()).then(|| view! {
                        " " <button class="primary no-print" id="to-parliament" on:click=to_parliament>{t().budget.submit_to_parliament}</button>
                    })}</p>
                    <p id="program-total"><strong>{(t().budget.program_total)(&pesos(p.total))}</strong>
                        " (PS " {pesos(p.by_class[0])} ", MOOE " {pesos(p.by_class[1])} ", CO " {pesos(p.by_class[2])} ")"</p>
                    <table class="desk-table" id="program-lines">
                        <thead><tr><th scope="col">{t().budget.organization}</th><th scope="col">{t().plans.title}</th><th scope="col">{t().budget.class}</th>
                            <th scope="col">"Q1"</th><th scope="col">"Q2"</th><th scope="col">"Q3"</th><th scope="col">"Q4"</th><th scope="col">{t().budget.total}</th></tr></thead>
                        <tbody>{p.lines.into_iter().map(|l| view! {
                            <tr><td>{l.organization_code}</td><th scope="row">{l.title}</th><td>{l.class}</td>
                                {l.quarters.map(|a| view! { <td>{pesos(a)}</td> })}<td>{pesos(l.total)}</td></tr>
                        }).collect_view()}</tbody>
                        <tfoot>
                            {p.by_organization.into_iter().map(|o| view! {
                                <tr><th scope="row" colspan="7">{o.organization_code} " " {o.organization_name}</th><td>{pesos(o.total)}</td></tr>
                            }).collect_view()}
                            <tr><th scope="row" colspan="3">{t().budget.total}</th>{p.by_quarter.map(|a| view! { <td>{pesos(a)}</td> })}<td>{pesos(p.total)}</td></tr>
                        </tfoot>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
