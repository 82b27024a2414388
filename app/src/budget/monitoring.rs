//! Budget monitoring at the desk: for a fiscal year, the enacted budget against what was
//! released, obligated and disbursed, in all, by quarter (the trend against plan) and by
//! organization (each opened to its quarters), with the alerts of organizations whose
//! obligations at a quarter's end were below a threshold this browser remembers. OCM and
//! MFBM see every organization; a ministry its own.

use bmms_shared::api::{BudgetMonitoring, Utilization};
use bmms_shared::plans::proposal::pesos;
use leptos::prelude::*;

use super::{year_select, year_signal};
use crate::browser;
use crate::desk::api;
use crate::desk::live::Live;
use crate::text::t;

/// Where this browser keeps the alert threshold its user set.
const THRESHOLD_KEY: &str = "bmms.utilization_threshold";

fn percent(part: i64, of: i64) -> String {
    if of == 0 {
        return "—".to_owned();
    }
    format!("{:.1} %", part as f64 * 100.0 / of as f64)
}

/// Planned, released, obligated, disbursed, the rates of obligation and disbursement
/// against releases, and the variance of releases against plan.
fn cells(u: &Utilization) -> impl IntoView {
    view! {
        <td>{pesos(u.planned)}</td><td>{pesos(u.released)}</td><td>{pesos(u.obligated)}</td><td>{pesos(u.disbursed)}</td>
        <td>{percent(u.obligated, u.released)}</td><td>{percent(u.disbursed, u.released)}</td><td>{pesos(u.released - u.planned)}</td>
    }
}

fn header(first: &'static str) -> impl IntoView {
    view! {
        <thead><tr><th scope="col">{first}</th><th scope="col">{t().budget.planned}</th><th scope="col">{t().budget.allotted}</th>
            <th scope="col">{t().budget.obligated}</th><th scope="col">{t().budget.disbursed}</th><th scope="col">{t().budget.obligation_rate}</th>
            <th scope="col">{t().budget.disbursement_rate}</th><th scope="col">{t().budget.variance}</th></tr></thead>
    }
}

#[component]
pub fn BudgetMonitoringView() -> impl IntoView {
    let year = year_signal();
    let threshold = RwSignal::new(browser::remembered(THRESHOLD_KEY).and_then(|t| t.parse::<u32>().ok()).unwrap_or(50));
    let refresh = use_context::<Live>().map_or_else(|| RwSignal::new(0), |live| live.records);
    let read = RwSignal::new(None::<Result<BudgetMonitoring, String>>);
    let query = move || format!("year={}&threshold={}", year.get(), threshold.get());
    api::keep_loaded(refresh, move || format!("/api/v1/budget-monitoring?{}", query()), read);
    let open = RwSignal::new(None::<String>);
    let set_threshold = move |ev: leptos::ev::Event| {
        if let Ok(chosen) = event_target_value(&ev).parse::<u32>() {
            let chosen = chosen.min(100);
            browser::remember(THRESHOLD_KEY, &chosen.to_string());
            threshold.set(chosen);
        }
    };
    view! {
        <section class="card desk" id="budget-monitoring">
            <h1>{t().budget.monitoring_title}</h1>
            <p>{t().budget.monitoring_intro}</p>
            {year_select("monitoring-year", year)}
            " " <label>{t().budget.threshold} " "
                <input id="monitoring-threshold" type="number" min="0" max="100" prop:value=move || threshold.get().to_string()
                    on:change=set_threshold /></label>
            " " <a class="button" href=move || format!("/api/v1/budget-monitoring/export?{}&format=csv", query())>{t().aip.download_csv}</a>
            " " <a class="button" href=move || format!("/api/v1/budget-monitoring/export?{}&format=json", query())>{t().aip.download_json}</a>
            {move || match read.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(m)) => view! {
                    <p id="monitoring-totals"><strong>{(t().budget.monitoring_totals)(&pesos(m.totals.planned), &pesos(m.totals.released),
                        &pesos(m.totals.obligated), &pesos(m.totals.disbursed))}</strong></p>
                    {(!m.alerts.is_empty()).then(|| view! {
                        <ul class="alerts" id="monitoring-alerts">{m.alerts.iter().map(|a| view! { <li class="warning">{a.message.clone()}</li> }).collect_view()}</ul>
                    })}
                    <table class="desk-table" id="monitoring-quarters">
                        <caption>{t().budget.by_quarter}</caption>
                        {header(t().budget.quarter)}
                        <tbody>{m.by_quarter.iter().enumerate().map(|(at, q)| view! { <tr><th scope="row">{format!("Q{}", at + 1)}</th>{cells(q)}</tr> }).collect_view()}</tbody>
                    </table>
                    <table class="desk-table" id="monitoring-organizations">
                        <caption>{t().budget.by_organization}</caption>
                        {header(t().budget.organization)}
                        <tbody>{m.by_organization.into_iter().map(|o| {
                            let code = o.organization_code.clone();
                            let shown = code.clone();
                            view! {
                                <tr data-organization=o.organization_code.clone()>
                                    <th scope="row"><button class="link" on:click=move |_| open.update(|open| *open = if open.as_deref() == Some(&code) { None } else { Some(code.clone()) })>
                                        {o.organization_code.clone()}</button> " " <small>{o.organization_name.clone()}</small></th>
                                    {cells(&o.utilization)}
                                </tr>
                                {move || (open.get().as_deref() == Some(shown.as_str())).then(|| o.by_quarter.iter().enumerate().map(|(at, q)| view! {
                                    <tr class="drill"><td>{format!("· Q{}", at + 1)}</td>{cells(q)}</tr>
                                }).collect_view())}
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
