//! The dashboards: for the Office of the Chief Minister the whole government (then one
//! organization, then the records of one of its municipalities, for analysts); for
//! everyone else their own organization. Read-only, online, from `GET /api/v1/dashboard`.

mod charts;
mod table;

use bmms_shared::api::{self as wire, AssessmentRow, DashboardQuery, DrillQuery, Page};
use bmms_shared::records::mana::SECTORS;
use bmms_shared::plans::proposal::pesos_rounded;
use bmms_shared::OrgId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::desk::api;
use crate::device::Status;
use crate::text::{share, t};
use charts::{Bars, CoverageMap, MonthLine, Spot};
use table::{Cell, DataTable};

/// Where in the drill-down the reader is: the organization (None: all of them), and a
/// municipality whose records are open.
#[derive(Clone, Debug, PartialEq, Default)]
struct Focus {
    org: Option<OrgId>,
    municipality: Option<wire::Place>,
}

fn count(n: Option<i64>) -> Cell {
    n.map(Cell::Number).unwrap_or(Cell::Missing)
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let status = expect_context::<Status>();
    let role = status.me.get_untracked().map(|me| me.role);
    let may_drill = role.is_some_and(|r| r.may_drill_down());
    let focus = RwSignal::new(Focus::default());
    let data = RwSignal::new(None::<Result<wire::Dashboard, String>>);
    Effect::new(move |_| {
        let path = api::address("/api/v1/dashboard", &DashboardQuery { org: focus.with(|f| f.org) });
        spawn_local(async move { data.set(Some(api::get::<wire::Dashboard>(&path).await)) });
    });
    view! {
        <section class="card desk dashboard" id="dashboard">
            {move || match data.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(response)) => view! { <Figures response=response focus=focus may_drill=may_drill /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn Figures(response: wire::Dashboard, focus: RwSignal<Focus>, may_drill: bool) -> impl IntoView {
    let d = t().dashboard;
    let f = response.figures;
    let heading = match &response.organization {
        Some(org) => format!("{} — {}", org.code, org.name),
        None => d.whole_government.to_owned(),
    };
    let across = response.organization.is_none();
    let oversees = expect_context::<Status>().me.get_untracked().is_some_and(|me| me.role.oversees_all());
    let organizations = f.organizations.clone();
    let municipalities = f.municipalities.clone();
    let org_id = response.organization.as_ref().map(|o| o.id);
    let severe: Vec<(String, i64)> = SECTORS
        .iter()
        .map(|(sector, label)| (label.to_string(), f.needs.iter().filter(|n| n.sector == *sector && n.severity >= 4).map(|n| n.assessments).sum()))
        .collect();
    let months: Vec<(String, i64)> = f.assessments_by_month.iter().filter_map(|m| Some((m.month.clone()?.get(..7)?.to_owned(), m.count))).collect();
    let spots: Vec<Spot> = f
        .municipalities
        .iter()
        .filter_map(|p| Some(Spot { name: format!("{}, {}", p.municipality, p.province), latitude: p.latitude?, longitude: p.longitude?, assessments: p.assessments }))
        .collect();
    view! {
        {(oversees && !across).then(|| view! {
            <button class="back" on:click=move |_| focus.set(Focus::default())>{d.back_to_government}</button>
        })}
        <h1>{heading}</h1>
        <div class="tiles">
            {f.budget.map(|b| view! {
                <Tile label={(d.budget_of)(b.fiscal_year)} value=pesos_rounded(b.enacted) />
                <Tile label=d.released value=pesos_rounded(b.released) />
                <Tile label=d.obligated value=pesos_rounded(b.obligated) />
                <Tile label=d.utilization value=share(b.obligated, b.released) />
            })}
            <Tile label=d.assessments value=f.assessments.assessments.to_string() />
            <Tile label=d.households value=f.assessments.households.to_string() />
            <Tile label=d.population value=f.assessments.population.to_string() />
            <Tile label=d.tasks value=f.tasks.tasks.to_string() />
            <Tile label=d.overdue value=f.tasks.overdue.to_string() />
            <Tile label=d.average_progress value=f.tasks.average_progress.map(|p| format!("{p} %")).unwrap_or_else(|| "—".into()) />
        </div>
        {across.then(|| view! {
            <DataTable id="organizations" caption=d.organizations.to_owned()
                headers=vec![d.code, d.name, d.assessments, d.households, d.population, d.tasks, d.done, d.overdue, d.average_progress]
                rows=organizations.iter().map(|o| vec![Cell::Text(o.code.clone()), Cell::Text(o.name.clone()), Cell::Number(o.assessments),
                    Cell::Number(o.households), Cell::Number(o.population), Cell::Number(o.tasks), Cell::Number(o.tasks_done),
                    Cell::Number(o.overdue), count(o.average_progress)]).collect()
                on_open=Callback::new(move |row: usize| focus.set(Focus { org: Some(organizations[row].id), municipality: None })) />
        })}
        <div class="charts">
            <CoverageMap title=d.coverage_map.to_owned() spots=spots />
            <Bars title=d.assessments_by_status.to_owned() bars=f.assessments_by_status.iter().map(|s| (s.status.clone(), s.count)).collect() />
            <Bars title=d.tasks_by_status.to_owned() bars=f.tasks_by_status.iter().map(|s| (s.status.replace('_', " "), s.count)).collect() />
            <Bars title=d.severe_needs.to_owned() bars=severe />
            <MonthLine title=d.assessments_by_month.to_owned() points=months />
        </div>
        <DataTable id="provinces" caption=d.provinces.to_owned() headers=vec![d.province, d.assessments, d.households, d.population]
            rows=f.provinces.iter().map(|p| vec![Cell::Text(p.province.clone()), Cell::Number(p.assessments), Cell::Number(p.households), Cell::Number(p.population)]).collect() />
        {
            let rows: Vec<Vec<Cell>> = municipalities.iter().map(|p| vec![Cell::Text(p.municipality.clone()), Cell::Text(p.province.clone()),
                Cell::Number(p.assessments), Cell::Number(p.households), Cell::Number(p.population)]).collect();
            let headers = vec![d.municipality, d.province, d.assessments, d.households, d.population];
            match (may_drill && !across, org_id) {
                (true, Some(org)) => view! {
                    <DataTable id="municipalities" caption=d.municipalities.to_owned() headers=headers rows=rows
                        on_open=Callback::new(move |row: usize| {
                            let place = municipalities[row].clone();
                            focus.update(|f| { f.org = Some(org); f.municipality = Some(place); });
                        }) />
                }.into_any(),
                _ => view! { <DataTable id="municipalities" caption=d.municipalities.to_owned() headers=headers rows=rows /> }.into_any(),
            }
        }
        {move || focus.get().municipality.zip(org_id).map(|(place, org)| view! { <Records org=org place=place /> })}
    }
}

#[component]
fn Tile(#[prop(into)] label: String, value: String) -> impl IntoView {
    view! { <div class="tile"><span class="tile-value">{value}</span><span class="tile-label">{label}</span></div> }
}

/// The assessments of one municipality of one organization (analysts and the
/// organization's own people), read-only.
#[component]
fn Records(org: OrgId, place: wire::Place) -> impl IntoView {
    let d = t().dashboard;
    let page = RwSignal::new(None::<Result<Page<AssessmentRow>, String>>);
    // By code where the figures counted by code, else by the names typed.
    let query = DrillQuery {
        org: Some(org),
        province: place.province_code.clone().or_else(|| api::filled(&place.province)),
        municipality: place.municipality_code.clone().or_else(|| api::filled(&place.municipality)),
        limit: 200,
        ..DrillQuery::default()
    };
    let path = api::address("/api/v1/dashboard/records", &query);
    spawn_local(async move { page.set(Some(api::get::<Page<AssessmentRow>>(&path).await)) });
    let caption = (d.records_of)(&place.municipality, &place.province);
    view! {
        {move || match page.get() {
            None => view! { <p>{t().loading}</p> }.into_any(),
            Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
            Some(Ok(page)) => view! {
                <p>{(t().shown_of)(page.items.len(), page.total as usize)}</p>
                <DataTable id="records" caption=caption.clone() headers=vec![d.community, d.status, d.assessed, d.households, d.population]
                    rows=page.items.iter().map(|r| vec![Cell::Text(r.community.clone().unwrap_or_default()), Cell::Text(r.status.clone()),
                        Cell::Text(r.assessment_date.clone().unwrap_or_default()), count(r.households.map(i64::from)),
                        count(r.population.map(i64::from))]).collect() />
            }.into_any(),
        }}
    }
}
