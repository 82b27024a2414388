//! The Annual Investment Program of a year, for BPDA's planners and MFBM's budget
//! officers: the totals by goal, sector, province and organization, then every PPA with its cost
//! by expense class, and the downloads (CSV for spreadsheets, JSON for programs).

use bmms_shared::api::{Aip, AipTotal};
use bmms_shared::plans::proposal::pesos;
use bmms_shared::plans::score::shown;
use bmms_shared::records::ppa::FISCAL_YEARS;
use leptos::prelude::*;

use crate::desk::api;
use crate::desk::live::Live;
use crate::text::t;

/// One group's totals; a group is named by its code and name ("S2 Health"), or by its
/// name alone where the code is only for programs (a sector).
fn totals_table(id: &'static str, caption: &'static str, totals: Vec<AipTotal>, with_code: bool) -> impl IntoView {
    view! {
        <table class="desk-table" id=id>
            <caption>{caption}</caption>
            <thead><tr><th scope="col">{t().aip.group}</th><th scope="col">{t().aip.ppas}</th>
                <th scope="col">{t().aip.certified}</th><th scope="col">{t().aip.pending}</th></tr></thead>
            <tbody>{totals.into_iter().map(|total| view! {
                <tr><th scope="row">{with_code.then(|| format!("{} ", total.code))}{total.name}</th><td>{total.ppas}</td>
                    <td>{pesos(total.certified)}</td><td>{pesos(total.pending)}</td></tr>
            }).collect_view()}</tbody>
        </table>
    }
}

#[component]
pub fn AnnualInvestmentProgram() -> impl IntoView {
    let live = expect_context::<Live>();
    let this_year = js_sys::Date::new_0().get_full_year() as i32;
    let year = RwSignal::new(this_year.clamp(*FISCAL_YEARS.start(), *FISCAL_YEARS.end()));
    let aip = RwSignal::new(None::<Result<Aip, String>>);
    api::keep_loaded(live.records, move || format!("/api/v1/aip?year={}", year.get()), aip);
    view! {
        <section class="card desk" id="aip">
            <h1>{t().aip.title}</h1>
            <p>{t().aip.intro}</p>
            <label>{t().aip.year} " "
                <select id="aip-year" on:change=move |ev| if let Ok(chosen) = event_target_value(&ev).parse() { year.set(chosen) }>
                    {FISCAL_YEARS.map(|y| view! { <option value=y.to_string() selected=move || year.get() == y>{y}</option> }).collect_view()}
                </select></label>
            " " <a class="button" id="aip-csv" on:click=crate::pages::security::guard_download href=move || format!("/api/v1/aip/export?year={}&format=csv", year.get())>{t().aip.download_csv}</a>
            " " <a class="button" on:click=crate::pages::security::guard_download href=move || format!("/api/v1/aip/export?year={}&format=json", year.get())>{t().aip.download_json}</a>
            {move || match aip.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(aip)) if aip.rows.is_empty() => view! { <p>{(t().aip.empty)(aip.year)}</p> }.into_any(),
                Some(Ok(aip)) => view! {
                    <p id="aip-totals">{(t().aip.totals)(aip.rows_total as usize, &pesos(aip.certified), &pesos(aip.pending))}</p>
                    {(aip.rows.len() < aip.rows_total as usize).then(|| view! { <p>{(t().aip.first_rows)(aip.rows.len())}</p> })}
                    {totals_table("aip-by-goal", t().aip.by_goal, aip.by_goal, true)}
                    {totals_table("aip-by-sector", t().aip.by_sector, aip.by_sector, false)}
                    {totals_table("aip-by-province", t().aip.by_province, aip.by_province, true)}
                    {totals_table("aip-by-organization", t().aip.by_organization, aip.by_organization, true)}
                    <table class="desk-table" id="aip-rows">
                        <caption>{t().aip.ppas_of_year}</caption>
                        <thead><tr>
                            <th scope="col">{t().plans.title}</th><th scope="col">{t().organization}</th>
                            <th scope="col">{t().aip.status}</th><th scope="col">{t().plans.score}</th>
                            <th scope="col">"PS"</th><th scope="col">"MOOE"</th><th scope="col">"CO"</th><th scope="col">{t().aip.total}</th>
                        </tr></thead>
                        <tbody>{aip.rows.into_iter().map(|r| view! {
                            <tr data-proposal=r.proposal_id.to_string()>
                                <th scope="row">{r.title} " " <small>{r.ppa_type} " · " {r.goals.join(", ")}</small></th>
                                <td>{r.organization_code}</td><td>{r.status}</td><td>{shown(r.score)}</td>
                                <td>{pesos(r.ps)}</td><td>{pesos(r.mooe)}</td><td>{pesos(r.co)}</td><td>{pesos(r.total)}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
