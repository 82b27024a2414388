//! The budget (MFBM's part of BMMS), at the desk: MFBM's budget call for each fiscal
//! year, which every organization reads as soon as it is issued (its tab counts calls
//! issued or amended since this person last looked), with the calendar of the budget's
//! stages and the ceilings the reader may see. MFBM's budget officers issue and amend
//! calls here ([`call_form`]). Online only, like the other desk screens.

mod call_form;
mod ledger;
mod monitoring;
mod program;
mod proposal;
mod review;

pub use ledger::Ledger;
pub use monitoring::BudgetMonitoringView;
pub use program::{BudgetApprovals, ExpenditureProgramView};
pub use proposal::BudgetProposalView;
pub use review::BudgetSubmissions;

use bmms_shared::api::{BudgetCall, Ceiling, Items};
use bmms_shared::plans::proposal::pesos;
use bmms_shared::records::ppa::FISCAL_YEARS;
use bmms_shared::Role;
use leptos::prelude::*;

use crate::desk::api;
use crate::desk::live::Live;
use crate::desk::news::{mark_seen, unseen, TabWithNews};
use crate::device::Status;
use crate::text::{t, when};

/// Where this browser keeps the newest call its user has seen.
const SEEN_KEY: &str = "bmms.budget_calls_seen";

/// The calls, kept loaded: refreshed with the server's live updates where this person's
/// screens have them, and after MFBM's own issue or amendment.
fn budget_calls() -> (RwSignal<u64>, RwSignal<Option<Result<Items<BudgetCall>, String>>>) {
    let refresh = use_context::<Live>().map_or_else(|| RwSignal::new(0), |live| live.records);
    let list = RwSignal::new(None);
    api::keep_loaded(refresh, || "/api/v1/budget-calls".into(), list);
    (refresh, list)
}

fn changed_at(call: &BudgetCall) -> &str {
    call.updated_at.as_str()
}

/// The budget call's tab, with how many calls are new (or amended) to this person.
#[component]
pub fn BudgetCallTab(current: Signal<bool>, open: Callback<()>) -> impl IntoView {
    let (_, list) = budget_calls();
    let new = Signal::derive(move || match list.get() {
        Some(Ok(list)) => unseen(SEEN_KEY, list.items.iter().map(changed_at)),
        _ => 0,
    });
    view! {
        <TabWithNews id="budget-call-tab" badge_id="budget-call-new" label=t().budget.call_tab new=new current=current
            new_count=t().review.new_count open=open />
    }
}

fn amount(centavos: Option<i64>) -> String {
    centavos.map(pesos).unwrap_or_else(|| t().budget.not_set.to_owned())
}

fn ceilings_table(ceilings: Vec<Ceiling>) -> impl IntoView {
    view! {
        <table class="desk-table ceilings">
            <caption>{t().budget.ceilings}</caption>
            <thead><tr><th scope="col">{t().budget.organization}</th><th scope="col">{t().budget.total}</th>
                <th scope="col">"PS"</th><th scope="col">"MOOE"</th><th scope="col">"CO"</th></tr></thead>
            <tbody>{ceilings.into_iter().map(|c| view! {
                <tr data-organization=c.organization_code.clone()>
                    <th scope="row">{c.organization_code.clone()} " " <small>{c.organization_name}</small></th>
                    <td>{pesos(c.total)}</td><td>{amount(c.ps)}</td><td>{amount(c.mooe)}</td><td>{amount(c.co)}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}

/// One year's call as its readers see it.
fn call_view(call: BudgetCall, new: bool, sees_all: bool) -> impl IntoView {
    let amended = call.updated_at != call.issued_at;
    let ceilings = match (sees_all, call.ceilings.first()) {
        (true, _) => ceilings_table(call.ceilings.clone()).into_any(),
        (false, Some(own)) => {
            let classes: Vec<String> = [("PS", own.ps), ("MOOE", own.mooe), ("CO", own.co)]
                .into_iter()
                .filter_map(|(class, centavos)| Some(format!("{class} {}", pesos(centavos?))))
                .collect();
            view! {
                <p class="our-ceiling"><strong>{t().budget.our_ceiling} ": " {pesos(own.total)}</strong>
                    {(!classes.is_empty()).then(|| format!(" ({})", classes.join(", ")))}</p>
            }
            .into_any()
        }
        (false, None) => view! { <p>{t().budget.no_ceiling}</p> }.into_any(),
    };
    view! {
        <article class="budget-call" data-year=call.fiscal_year.to_string()>
            <h2>{(t().budget.call_for)(call.fiscal_year)} {new.then(|| view! { " " <span class="badge waiting">{t().budget.new}</span> })}</h2>
            <p><small>{(t().budget.issued)(&call.issued_by, &when(&call.issued_at))}
                {amended.then(|| format!("; {}", (t().budget.amended)(&call.updated_by, &when(&call.updated_at))))}</small></p>
            <p class="message">{call.message.clone()}</p>
            <table class="desk-table calendar">
                <caption>{t().budget.calendar}</caption>
                <thead><tr><th scope="col">{t().budget.stage}</th><th scope="col">{t().budget.due}</th></tr></thead>
                <tbody>{call.deadlines.iter().map(|d| view! {
                    <tr data-stage=d.stage.clone()><th scope="row">{d.name.clone()}</th><td>{d.due.clone()}</td></tr>
                }).collect_view()}</tbody>
            </table>
            {ceilings}
        </article>
    }
}

/// The budget calls, newest year first; MFBM's budget officers also issue and amend them.
#[component]
pub fn BudgetCalls() -> impl IntoView {
    let status = expect_context::<Status>();
    let role = status.me.get_untracked().map(|me| me.role);
    let issues = role == Some(Role::MfbmBudgetOfficer);
    let sees_all = role.is_some_and(|r| r == Role::MfbmBudgetOfficer || r.oversees_all());
    let (refresh, list) = budget_calls();
    let seen = crate::browser::remembered(SEEN_KEY).unwrap_or_default();
    // Seen once shown: the tab's count starts again from here.
    Effect::new(move |_| {
        if let Some(Ok(list)) = list.get() {
            mark_seen(SEEN_KEY, list.items.iter().map(changed_at));
        }
    });
    let calls = Signal::derive(move || match list.get() {
        Some(Ok(list)) => list.items,
        _ => Vec::new(),
    });
    view! {
        <section class="card desk" id="budget-calls">
            <h1>{t().budget.calls_title}</h1>
            <p>{t().budget.calls_intro}</p>
            {issues.then(|| view! { <call_form::CallForm calls=calls refresh=refresh /> })}
            {move || match list.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p>{t().budget.no_call}</p> }.into_any(),
                Some(Ok(list)) => list.items.into_iter().map(|call| {
                    let new = changed_at(&call) > seen.as_str();
                    call_view(call, new, sees_all)
                }).collect_view().into_any(),
            }}
        </section>
    }
}

/// The fiscal year a budget screen opens at: next year's (the one being prepared).
pub(crate) fn year_signal() -> RwSignal<i32> {
    let this_year = js_sys::Date::new_0().get_full_year() as i32;
    RwSignal::new((this_year + 1).clamp(*FISCAL_YEARS.start(), *FISCAL_YEARS.end()))
}

pub(crate) fn year_select(id: &'static str, year: RwSignal<i32>) -> impl IntoView {
    view! {
        <label>{t().budget.fiscal_year} " "
            <select id=id on:change=move |ev| if let Ok(chosen) = event_target_value(&ev).parse() { year.set(chosen) }>
                {FISCAL_YEARS.map(|y| view! { <option value=y.to_string() selected=move || year.get() == y>{y}</option> }).collect_view()}
            </select></label>
    }
}
