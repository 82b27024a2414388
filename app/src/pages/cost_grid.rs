//! A proposal's cost as a grid: for the fiscal year chosen, its four quarters by expense
//! class (PS, MOOE, CO), typed in pesos and kept as whole centavos in the cells' own
//! fields (`cost.{year}.q{n}.{class}`), with the totals. Each cell stays a field of its
//! own, so two people changing the same cell offline make one conflict, which a
//! supervisor settles as any other.

use bmms_shared::plans::proposal::{centavos_of, cost_by_year_and_class, pesos};
use bmms_shared::records::ppa::{cost_field, EXPENSE_CLASSES, FISCAL_YEARS};
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::DocId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::form::{current, save, saved_note, Saved};
use crate::device::{self, Status};
use crate::text::t;

/// The centavos of a cell, if it has a cost.
fn cell(id: DocId, year: i32, quarter: u8, class: &str) -> Option<i64> {
    match current(id, &cost_field(year, quarter, class)) {
        Some(FieldValue::Integer(centavos)) => Some(centavos),
        _ => None,
    }
}

/// The grid; `read_only` when the person may not change the costs.
#[component]
pub fn CostGrid(id: DocId, read_only: bool) -> impl IntoView {
    let status = expect_context::<Status>();
    // Each year's cost by class, read from the document once per change, as the server
    // and the score read it.
    let by_year = Memo::new(move |_| {
        status.revision.track();
        device::read(|client| client.documents().get(&id).map(|local| cost_by_year_and_class(&local.doc()))).flatten().unwrap_or_default()
    });
    // The first year with a cost, else this year (within the years a proposal may cost).
    let first = by_year
        .get_untracked()
        .keys()
        .next()
        .copied()
        .unwrap_or_else(|| crate::browser::this_year().clamp(*FISCAL_YEARS.start(), *FISCAL_YEARS.end()));
    let year = RwSignal::new(first);
    let saved = RwSignal::new(Saved::Nothing);
    let classes = move || by_year.with(|costs| costs.get(&year.get()).copied().unwrap_or_default());
    let quarter_total = move |quarter: u8| {
        by_year.track();
        EXPENSE_CLASSES.iter().filter_map(|(class, _)| cell(id, year.get(), quarter, class)).sum::<i64>()
    };
    let all_years = move || by_year.with(|costs| costs.values().flatten().sum::<i64>());
    view! {
        <div class="field cost-grid">
            <label for="cost-year">{t().cost_year}</label>
            <select id="cost-year" on:change=move |ev| if let Ok(chosen) = event_target_value(&ev).parse() { year.set(chosen) }>
                {FISCAL_YEARS.map(|y| view! { <option value=y.to_string() selected=y == first>{y}</option> }).collect_view()}
            </select>
            <div class="scroll"><table class="desk-table">
                <caption>{t().cost_in_pesos}</caption>
                <thead><tr><th scope="col">{t().cost_quarter}</th>
                    {EXPENSE_CLASSES.iter().map(|(_, label)| view! { <th scope="col">{*label}</th> }).collect_view()}
                    <th scope="col">{t().cost_total}</th></tr></thead>
                <tbody>{(1..=4u8).map(|quarter| view! {
                    <tr><th scope="row">{format!("Q{quarter}")}</th>
                        {EXPENSE_CLASSES.iter().map(|(class, label)| view! {
                            <td><CostCell id=id year=year quarter=quarter class=class label=label read_only=read_only saved=saved /></td>
                        }).collect_view()}
                        <td>{move || pesos(quarter_total(quarter))}</td></tr>
                }).collect_view()}</tbody>
                <tfoot><tr><th scope="row">{t().cost_total}</th>
                    {(0..EXPENSE_CLASSES.len()).map(|at| view! { <td>{move || pesos(classes()[at])}</td> }).collect_view()}
                    <td id="cost-year-total">{move || pesos(classes().iter().sum())}</td></tr></tfoot>
            </table></div>
            <p id="cost-all-years">{move || (t().cost_all_years)(&pesos(all_years()))}</p>
            {move || saved_note(saved.get())}
        </div>
    }
}

/// One cell: the pesos of a quarter and class in the year shown.
#[component]
fn CostCell(id: DocId, year: RwSignal<i32>, quarter: u8, class: &'static str, label: &'static str, read_only: bool, saved: RwSignal<Saved>) -> impl IntoView {
    let status = expect_context::<Status>();
    let value = Memo::new(move |_| {
        status.revision.track();
        cell(id, year.get(), quarter, class)
    });
    let shown = move || value.get().map(|c| pesos(c).trim_start_matches('₱').to_owned()).unwrap_or_default();
    let on_change = move |typed: String| {
        let Some(spec) = RecordKind::PpaProposal.field(&cost_field(year.get_untracked(), quarter, class)) else { return };
        match centavos_of(&typed) {
            Err(_) => saved.set(Saved::Refused(t().cost_not_pesos.to_owned())),
            Ok(centavos) => spawn_local(async move { saved.set(save(status, id, spec, centavos.map(FieldValue::Integer)).await) }),
        }
    };
    view! {
        <input class="cost" inputmode="decimal" disabled=read_only
            aria-label=move || format!("Cost {} Q{quarter} {label} (pesos)", year.get())
            prop:value=shown on:change=move |ev| on_change(event_target_value(&ev)) />
    }
}
