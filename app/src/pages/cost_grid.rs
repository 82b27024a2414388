//! A proposal's cost as a grid: for the fiscal year chosen, its four quarters by expense
//! class (PS, MOOE, CO), typed in pesos and kept as whole centavos in the cells' own
//! fields (`cost.{year}.q{n}.{class}`), with the totals. Each cell stays a field of its
//! own, so two people changing the same cell offline make one conflict, which a
//! supervisor settles as any other.

use bmms_shared::plans::proposal::{centavos_of, pesos};
use bmms_shared::records::ppa::{cost_field, EXPENSE_CLASSES, FISCAL_YEARS};
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::DocId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::form::{current, save, Saved};
use crate::device::Status;
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
    let revision = move || status.revision.track();
    // The first year with a cost, else this year (within the years a proposal may cost).
    let first = FISCAL_YEARS
        .clone()
        .find(|&year| (1..=4).any(|q| EXPENSE_CLASSES.iter().any(|(class, _)| cell(id, year, q, class).is_some())))
        .unwrap_or_else(|| crate::browser::this_year().clamp(*FISCAL_YEARS.start(), *FISCAL_YEARS.end()));
    let year = RwSignal::new(first);
    let saved = RwSignal::new(Saved::Nothing);
    let total = move |cells: &mut dyn Iterator<Item = (u8, &str)>| -> i64 {
        revision();
        cells.filter_map(|(q, class)| cell(id, year.get(), q, class)).sum()
    };
    let all_years = move || {
        revision();
        FISCAL_YEARS.clone().flat_map(|y| (1..=4u8).flat_map(move |q| EXPENSE_CLASSES.iter().map(move |(c, _)| (y, q, *c)))).filter_map(|(y, q, c)| cell(id, y, q, c)).sum::<i64>()
    };
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
                        <td>{move || pesos(total(&mut EXPENSE_CLASSES.iter().map(|(c, _)| (quarter, *c))))}</td></tr>
                }).collect_view()}</tbody>
                <tfoot><tr><th scope="row">{t().cost_total}</th>
                    {EXPENSE_CLASSES.iter().map(|(class, _)| view! {
                        <td>{move || pesos(total(&mut (1..=4u8).map(|q| (q, *class))))}</td>
                    }).collect_view()}
                    <td id="cost-year-total">{move || pesos(total(&mut (1..=4u8).flat_map(|q| EXPENSE_CLASSES.iter().map(move |(c, _)| (q, *c)))))}</td></tr></tfoot>
            </table></div>
            <p id="cost-all-years">{move || (t().cost_all_years)(&pesos(all_years()))}</p>
            {move || match saved.get() {
                Saved::Nothing => None,
                Saved::Saved => Some(view! { <small class="saved" role="status">{t().saved_on_device}</small> }.into_any()),
                Saved::Refused(problem) => Some(view! { <small class="error" role="alert">{(t().not_saved)(&problem)}</small> }.into_any()),
            }}
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
