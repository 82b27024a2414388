//! The execution of the enacted budget at the desk, online only: MFBM releases allotments
//! of the expenditure program; a ministry sees its allotments with what it obligated and
//! disbursed against each (and the rate), records obligations and disbursements, and
//! reverses an entry to correct it. The server holds every limit and says, with the
//! figures, what an entry would cross.

use bmms_shared::api::{Allotment, ExpenditureProgram, Items, LedgerLine, RecordEntry, ReleaseAllotment, ReverseEntry};
use bmms_shared::plans::proposal::{centavos_of, pesos};
use bmms_shared::records::ppa::FISCAL_YEARS;
use bmms_shared::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::year_select;
use crate::desk::api::{self, Problem};
use crate::desk::csrf_token;
use crate::desk::live::Live;
use crate::device::Status;
use crate::text::{share, t, when};

/// Sends `body` to `path`; on success bumps `refresh`, on refusal says why in `problem`.
fn send<B: serde::Serialize + 'static>(status: Status, path: String, body: B, refresh: RwSignal<u64>, problem: RwSignal<Option<Problem>>) {
    let csrf = csrf_token(status);
    spawn_local(async move {
        match api::post::<serde_json::Value>(&path, &csrf, &body).await {
            Ok(_) => {
                problem.set(None);
                refresh.update(|n| *n += 1);
            }
            Err(refused) => problem.set(Some(refused)),
        }
    });
}

#[component]
pub fn Ledger() -> impl IntoView {
    let status = expect_context::<Status>();
    let releases = status.me.get_untracked().is_some_and(|me| me.role == Role::MfbmBudgetOfficer);
    let this_year = js_sys::Date::new_0().get_full_year() as i32;
    let year = RwSignal::new(this_year.clamp(*FISCAL_YEARS.start(), *FISCAL_YEARS.end()));
    let refresh = use_context::<Live>().map_or_else(|| RwSignal::new(0), |live| live.records);
    let allotments = RwSignal::new(None::<Result<Items<Allotment>, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/allotments?year={}", year.get()), allotments);
    let problem = RwSignal::new(None::<Problem>);
    let open = RwSignal::new(None::<Uuid>);
    // Another year closes the allotment opened.
    Effect::new(move |_| {
        year.track();
        open.set(None);
    });
    view! {
        <section class="card desk" id="ledger">
            <h1>{t().budget.ledger_title}</h1>
            <p>{t().budget.ledger_intro}</p>
            {year_select("ledger-year", year)}
            {releases.then(|| view! { <ReleaseForm year=year refresh=refresh problem=problem /> })}
            {move || problem.get().map(|p| view! { <p class="error" role="alert" id="ledger-problem">{p.message}</p> })}
            {move || match allotments.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) if list.items.is_empty() => view! { <p>{t().budget.no_allotments}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="desk-table" id="allotments">
                        <thead><tr><th scope="col">{t().budget.allotment}</th><th scope="col">{t().budget.organization}</th>
                            <th scope="col">{t().budget.allotted}</th><th scope="col">{t().budget.obligated}</th>
                            <th scope="col">{t().budget.disbursed}</th><th scope="col">{t().budget.utilization}</th></tr></thead>
                        <tbody>{list.items.into_iter().map(|a| {
                            let id = a.id;
                            view! {
                                <tr data-reference=a.reference.clone()>
                                    <th scope="row"><button class="link" on:click=move |_| open.set(Some(id))>{a.reference.clone()}</button>
                                        " " <small>{format!("Q{} {}", a.quarter, a.class.to_uppercase())}</small></th>
                                    <td>{a.organization_code}</td><td>{pesos(a.allotted)}</td><td>{pesos(a.obligated)}</td><td>{pesos(a.disbursed)}</td>
                                    <td>{share(a.obligated, a.allotted)} " / " {share(a.disbursed, a.allotted)}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
            {move || open.get().map(|id| view! { <Entries allotment=id records=!releases refresh=refresh problem=problem /> })}
        </section>
    }
}

/// MFBM's release of an allotment: a line of the expenditure program, a quarter, an amount.
#[component]
fn ReleaseForm(year: RwSignal<i32>, refresh: RwSignal<u64>, problem: RwSignal<Option<Problem>>) -> impl IntoView {
    let status = expect_context::<Status>();
    let program = RwSignal::new(None::<Result<ExpenditureProgram, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/expenditure-program/{}", year.get()), program);
    let (line, quarter, amount, reference) = (RwSignal::new(0usize), RwSignal::new(1i16), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let release = move |_| {
        let Some(Ok(p)) = program.get_untracked() else { return };
        let Some(chosen) = p.lines.get(line.get_untracked()).cloned() else { return };
        let amount = match centavos_of(&amount.get_untracked()) {
            Ok(Some(centavos)) => centavos,
            _ => return problem.set(Some(Problem { field: Some("amount".into()), message: t().budget.amount_in_pesos.to_owned() })),
        };
        let body = ReleaseAllotment {
            fiscal_year: year.get_untracked(),
            quarter: quarter.get_untracked(),
            organization_code: chosen.organization_code,
            proposal_id: chosen.proposal_id,
            class: chosen.class.to_lowercase(),
            amount,
            reference: reference.get_untracked(),
        };
        send(status, "/api/v1/allotments".into(), body, refresh, problem);
    };
    view! {
        <form class="release-form" id="release-form" on:submit=|ev| ev.prevent_default()>
            <h2>{t().budget.release_title}</h2>
            <label>{t().budget.program_line} " "
                <select id="release-line" on:change=move |ev| line.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {move || match program.get() {
                        Some(Ok(p)) => p.lines.into_iter().enumerate().map(|(at, l)| view! {
                            <option value=at.to_string()>{format!("{} · {} · {} · {}", l.organization_code, l.title, l.class, pesos(l.total))}</option>
                        }).collect_view().into_any(),
                        _ => view! { <option value="">{t().budget.no_program}</option> }.into_any(),
                    }}
                </select></label>
            <label>{t().budget.quarter} " "
                <select id="release-quarter" on:change=move |ev| quarter.set(event_target_value(&ev).parse().unwrap_or(1))>
                    {(1..=4).map(|q| view! { <option value=q.to_string()>{format!("Q{q}")}</option> }).collect_view()}
                </select></label>
            <label>{t().budget.amount_pesos} " " <input id="release-amount" inputmode="decimal" prop:value=amount on:input=move |ev| amount.set(event_target_value(&ev)) /></label>
            <label>{t().budget.saro} " " <input id="release-reference" prop:value=reference on:input=move |ev| reference.set(event_target_value(&ev)) /></label>
            <button class="primary" id="release-send" on:click=release>{t().budget.release}</button>
        </form>
    }
}

/// An allotment's entries; for the organization, the form to record one and reversals.
#[component]
fn Entries(allotment: Uuid, records: bool, refresh: RwSignal<u64>, problem: RwSignal<Option<Problem>>) -> impl IntoView {
    let status = expect_context::<Status>();
    let lines = RwSignal::new(None::<Result<Items<LedgerLine>, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/ledger?allotment_id={allotment}"), lines);
    let (kind, amount, reference) = (RwSignal::new("obligation".to_owned()), RwSignal::new(String::new()), RwSignal::new(String::new()));
    let record = move |_| {
        let amount = match centavos_of(&amount.get_untracked()) {
            Ok(Some(centavos)) => centavos,
            _ => return problem.set(Some(Problem { field: Some("amount".into()), message: t().budget.amount_in_pesos.to_owned() })),
        };
        let body = RecordEntry { allotment_id: allotment, kind: kind.get_untracked(), amount, reference: reference.get_untracked() };
        send(status, "/api/v1/ledger".into(), body, refresh, problem);
    };
    let reverse = move |id: i64| {
        let reason = web_sys::window().and_then(|w| w.prompt_with_message(t().budget.reverse_why).ok().flatten()).unwrap_or_default();
        send(status, format!("/api/v1/ledger/{id}/reverse"), ReverseEntry { reason }, refresh, problem);
    };
    view! {
        <article class="ledger-entries" id="ledger-entries">
            <h2>{t().budget.entries}</h2>
            {records.then(|| view! {
                <form class="record-form" id="record-form" on:submit=|ev| ev.prevent_default()>
                    <select id="record-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        <option value="obligation">{t().budget.obligation}</option>
                        <option value="disbursement">{t().budget.disbursement}</option>
                    </select>
                    " " <label>{t().budget.amount_pesos} " " <input id="record-amount" inputmode="decimal" prop:value=amount on:input=move |ev| amount.set(event_target_value(&ev)) /></label>
                    " " <label>{t().budget.document_number} " " <input id="record-reference" prop:value=reference on:input=move |ev| reference.set(event_target_value(&ev)) /></label>
                    " " <button class="primary" id="record-send" on:click=record>{t().budget.record}</button>
                </form>
            })}
            {move || match lines.get() {
                Some(Ok(list)) => view! {
                    <table class="desk-table" id="entries">
                        <tbody>{list.items.into_iter().map(|l| {
                            let id = l.id;
                            let reversible = records && !l.reversed && l.reverses.is_none();
                            view! {
                                <tr data-entry=l.id.to_string()><td>{l.kind}</td><td>{l.reference}</td><td>{pesos(l.amount)}</td>
                                    <td>{l.recorded_by} " " {when(&l.recorded_at)} {l.reason.map(|r| format!(" — {r}"))}</td>
                                    <td>{reversible.then(|| view! { <button class="small" on:click=move |_| reverse(id)>{t().budget.reverse}</button> })}</td></tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
                _ => view! { <p>{t().loading}</p> }.into_any(),
            }}
        </article>
    }
}
