//! Budget monitoring at the desk: for a fiscal year, the enacted budget against what was
//! released, obligated and disbursed, in all, by quarter (the trend against plan) and by
//! organization (each opened to its quarters), with the alerts of organizations whose
//! obligations at a quarter's end were below the threshold OCM sets for everyone (OCM
//! changes it here). OCM and MFBM see every organization; a ministry its own.

use bmms_shared::api::{AlertThreshold, BudgetMonitoring, Utilization};
use bmms_shared::policy;
use bmms_shared::plans::proposal::pesos;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{year_select, year_signal};
use crate::desk::api::{self, Problem};
use crate::desk::csrf_token;
use crate::desk::live::Live;
use crate::device::Status;
use crate::text::{share, t};

/// Planned, released, obligated, disbursed, the rates of obligation and disbursement
/// against releases, and the variance of releases against plan.
fn cells(u: &Utilization) -> impl IntoView {
    view! {
        <td>{pesos(u.planned)}</td><td>{pesos(u.released)}</td><td>{pesos(u.obligated)}</td><td>{pesos(u.disbursed)}</td>
        <td>{share(u.obligated, u.released)}</td><td>{share(u.disbursed, u.released)}</td><td>{pesos(u.released - u.planned)}</td>
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
    let status = expect_context::<Status>();
    let sets_threshold = status.me.get_untracked().is_some_and(|me| policy::may_set_alert_threshold(me.role).is_ok());
    let refresh = use_context::<Live>().map_or_else(|| RwSignal::new(0), |live| live.records);
    let read = RwSignal::new(None::<Result<BudgetMonitoring, String>>);
    api::keep_loaded(refresh, move || format!("/api/v1/budget-monitoring?year={}", year.get()), read);
    let open = RwSignal::new(None::<String>);
    let problem = RwSignal::new(None::<String>);
    // OCM's threshold, for everyone: saved at once, then the alerts are read again.
    let set_threshold = move |ev: leptos::ev::Event| {
        let Ok(threshold) = event_target_value(&ev).trim().parse::<u32>() else {
            return problem.set(Some(t().budget.threshold_hint.to_owned()));
        };
        let csrf = csrf_token(status);
        spawn_local(async move {
            let saved: Result<AlertThreshold, Problem> = api::put("/api/v1/budget-monitoring/threshold", &csrf, &AlertThreshold { threshold }).await;
            problem.set(saved.err().map(|p| p.message));
            refresh.update(|n| *n += 1);
        });
    };
    let threshold = move || read.with(|r| r.as_ref().and_then(|r| r.as_ref().ok()).map(|m| m.threshold));
    let query = move || format!("year={}", year.get());
    view! {
        <section class="card desk" id="budget-monitoring">
            <h1>{t().budget.monitoring_title}</h1>
            <p>{t().budget.monitoring_intro}</p>
            {year_select("monitoring-year", year)}
            {move || threshold().map(|value| if sets_threshold {
                view! { " " <label>{t().budget.threshold} " "
                    <input id="monitoring-threshold" type="number" min="0" max="100" prop:value=value.to_string() on:change=set_threshold /></label> }.into_any()
            } else {
                view! { " " <span id="monitoring-threshold">{(t().budget.threshold_set)(value)}</span> }.into_any()
            })}
            {move || problem.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            " " <a class="button" on:click=crate::pages::security::guard_download href=move || format!("/api/v1/budget-monitoring/export?{}&format=csv", query())>{t().aip.download_csv}</a>
            " " <a class="button" on:click=crate::pages::security::guard_download href=move || format!("/api/v1/budget-monitoring/export?{}&format=json", query())>{t().aip.download_json}</a>
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
