//! MFBM's form for a fiscal year's budget call: issued when the year has none, amended
//! (as a whole) when it has one. Ceilings are typed in pesos and sent in centavos; the
//! server checks the rest and names the part to correct.

use bmms_shared::api::{BudgetCall, BudgetCallInput, CeilingInput, OrganizationSummary};
use bmms_shared::budget::scheduled_stages;
use bmms_shared::plans::proposal::{centavos_of, pesos};
use bmms_shared::OrgKind;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeMap;

use super::{year_select, year_signal};
use crate::desk::api::{self, Problem};
use crate::desk::csrf_token;
use crate::device::Status;
use crate::text::t;

/// The classes of a ceiling as typed: the total, then PS, MOOE and CO.
const CLASSES: [&str; 4] = ["total", "PS", "MOOE", "CO"];

/// What is typed in the form.
#[derive(Clone, Default)]
struct Typed {
    message: String,
    deadlines: BTreeMap<String, String>,
    /// Organization code → the four amounts as typed.
    ceilings: BTreeMap<String, [String; 4]>,
}

impl Typed {
    fn of(call: &BudgetCall) -> Typed {
        let shown = |centavos: Option<i64>| centavos.map(|c| pesos(c).replace('₱', "")).unwrap_or_default();
        Typed {
            message: call.message.clone(),
            deadlines: call.deadlines.iter().map(|d| (d.stage.clone(), d.due.clone())).collect(),
            ceilings: call
                .ceilings
                .iter()
                .map(|c| (c.organization_code.clone(), [shown(Some(c.total)), shown(c.ps), shown(c.mooe), shown(c.co)]))
                .collect(),
        }
    }

    /// The body to send; the organization whose amounts are not pesos, if any.
    fn input(&self, fiscal_year: i32) -> Result<BudgetCallInput, String> {
        let mut ceilings = Vec::new();
        for (code, typed) in &self.ceilings {
            let amounts: Vec<Option<i64>> = typed.iter().map(|a| centavos_of(a)).collect::<Result<_, _>>().map_err(|_| (t().budget.not_pesos)(code))?;
            if let Some(total) = amounts[0] {
                ceilings.push(CeilingInput { organization_code: code.clone(), total, ps: amounts[1], mooe: amounts[2], co: amounts[3] });
            }
        }
        Ok(BudgetCallInput { fiscal_year, message: self.message.clone(), deadlines: self.deadlines.clone(), ceilings })
    }
}

#[component]
pub fn CallForm(calls: Signal<Vec<BudgetCall>>, refresh: RwSignal<u64>) -> impl IntoView {
    let status = expect_context::<Status>();
    let year = year_signal();
    let existing = Memo::new(move |_| calls.get().into_iter().find(|c| c.fiscal_year == year.get()));
    let typed = RwSignal::new(Typed::default());
    // Choosing a year that has a call fills the form with it, to amend.
    Effect::new(move |_| typed.set(existing.get().as_ref().map(Typed::of).unwrap_or_default()));
    let organizations = RwSignal::new(None::<Result<Vec<OrganizationSummary>, String>>);
    api::keep_loaded(RwSignal::new(0), || "/api/v1/organizations".into(), organizations);
    let moas = move || match organizations.get() {
        Some(Ok(all)) => all.into_iter().filter(|o| o.kind == OrgKind::Moa).collect(),
        _ => Vec::new(),
    };
    let problem = RwSignal::new(None::<Problem>);
    let outcome = RwSignal::new(None::<String>);

    let send = move |_| {
        let fiscal_year = year.get_untracked();
        let amending = existing.get_untracked().is_some();
        let input = match typed.get_untracked().input(fiscal_year) {
            Ok(input) => input,
            Err(message) => return problem.set(Some(Problem { field: Some("ceilings".into()), message })),
        };
        let csrf = csrf_token(status);
        spawn_local(async move {
            let sent: Result<BudgetCall, Problem> = if amending {
                api::put(&format!("/api/v1/budget-calls/{fiscal_year}"), &csrf, &input).await
            } else {
                api::post("/api/v1/budget-calls", &csrf, &input).await
            };
            match sent {
                Ok(_) => {
                    problem.set(None);
                    outcome.set(Some(if amending { (t().budget.amended_now)(fiscal_year) } else { (t().budget.issued_now)(fiscal_year) }));
                    refresh.update(|n| *n += 1);
                }
                Err(refused) => {
                    outcome.set(None);
                    problem.set(Some(refused));
                }
            }
        });
    };
    let about = move |field: &str| Problem::about(&problem.get(), field).map(|m| view! { <small class="error" role="alert">{m}</small> });

    view! {
        <form class="call-form" id="call-form" on:submit=|ev| ev.prevent_default()>
            <h2>{move || match existing.get() {
                Some(_) => (t().budget.amend_title)(year.get()),
                None => t().budget.issue_title.to_owned(),
            }}</h2>
            <p>{t().budget.issue_intro}</p>
            {year_select("call-year", year)}
            <label for="call-message">{t().budget.message}</label>
            <textarea id="call-message" rows="4" prop:value=move || typed.with(|t| t.message.clone())
                on:change=move |ev| typed.update(|t| t.message = event_target_value(&ev))></textarea>
            {move || about("message")}
            <fieldset class="plain calendar-dates">
                <legend>{t().budget.calendar}</legend>
                {scheduled_stages().map(|(stage, name)| view! {
                    <label>{name} " "
                        <input type="date" prop:value=move || typed.with(|t| t.deadlines.get(stage).cloned().unwrap_or_default())
                            on:change=move |ev| typed.update(|t| { t.deadlines.insert(stage.to_owned(), event_target_value(&ev)); }) />
                    </label>
                }).collect_view()}
            </fieldset>
            {move || about("deadlines")}
            <div class="scroll">
                <table class="desk-table ceiling-inputs">
                    <caption>{t().budget.ceilings_intro}</caption>
                    <thead><tr><th scope="col">{t().budget.organization}</th>
                        {CLASSES.map(|class| view! { <th scope="col">{if class == "total" { t().budget.total } else { class }}</th> }).collect_view()}</tr></thead>
                    <tbody>{move || moas().into_iter().map(|o| {
                        let code = o.code.clone();
                        view! {
                            <tr><th scope="row">{o.code.clone()}</th>
                                {(0..4).map(|at| {
                                    let (read, write) = (code.clone(), code.clone());
                                    view! { <td><input class="pesos" inputmode="decimal" aria-label=(t().budget.ceiling_of)(&code, CLASSES[at])
                                        prop:value=move || typed.with(|t| t.ceilings.get(&read).map(|a| a[at].clone()).unwrap_or_default())
                                        on:change=move |ev| typed.update(|t| t.ceilings.entry(write.clone()).or_default()[at] = event_target_value(&ev)) /></td> }
                                }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table>
            </div>
            {move || about("ceilings")}
            {move || Problem::general(&problem.get(), &["message", "deadlines", "ceilings"]).map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <button class="primary" id="call-send" on:click=send>{move || if existing.get().is_some() { t().budget.amend } else { t().budget.issue }}</button>
            {move || outcome.get().map(|m| view! { " " <span role="status" id="call-outcome">{m}</span> })}
        </form>
    }
}
