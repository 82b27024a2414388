//! The ministry staff's records table: assessments filtered by place, status, date range
//! and sector need, sorted by any column, exported as CSV, JSON or GeoJSON with the same
//! filters; and one record's values and history (who changed which field, when).

use bmms_shared::api::{AssessmentQuery, AssessmentRow, ChangeKind, Page, Record, RecordHistory as History};
use bmms_shared::records::mana::{SECTORS, STATUSES};
use bmms_shared::records::FieldType;
use bmms_shared::DocId;
use leptos::prelude::*;
use serde_json::Value;

use super::address;
use super::api::{self, filled};
use super::live::Live;
use super::when;
use crate::pages::Screen;
use crate::text::t;

const PAGE: usize = 50;

/// The filters, one signal each, named as the API's query parameters.
#[derive(Clone, Copy)]
struct Filters {
    fields: [(&'static str, RwSignal<String>); 8],
    sort: RwSignal<(String, bool)>,
    offset: RwSignal<usize>,
}

impl Filters {
    /// The filters the address holds (none when it does not show the table).
    fn from_address() -> Self {
        let names = ["search", "municipality", "province", "status", "from", "to", "sector", "min_severity"];
        let param = |name: &str| address::records_param(name).unwrap_or_default();
        let sort = (address::records_param("sort").unwrap_or_else(|| "updated_at".into()), param("order") != "asc");
        Filters {
            fields: names.map(|n| (n, RwSignal::new(param(n)))),
            sort: RwSignal::new(sort),
            offset: RwSignal::new(param("offset").parse().unwrap_or(0)),
        }
    }

    /// What the address shows of them (tracked).
    fn address_pairs(&self) -> Vec<(&'static str, String)> {
        let (column, descending) = self.sort.get();
        let mut pairs: Vec<(&'static str, String)> = self.fields.iter().map(|(name, value)| (*name, value.get())).collect();
        pairs.push(("sort", column));
        pairs.push(("order", if descending { "desc" } else { "asc" }.into()));
        pairs.push(("offset", self.offset.get().to_string()));
        pairs
    }

    fn get(&self, name: &str) -> RwSignal<String> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, s)| *s).expect("a known filter")
    }

    /// The filters and the sort order, for the table and its exports (tracked).
    fn query(&self) -> AssessmentQuery {
        let (column, descending) = self.sort.get();
        let set = |name: &str| filled(&self.get(name).get());
        AssessmentQuery {
            search: set("search"),
            municipality: set("municipality"),
            province: set("province"),
            status: set("status"),
            from: set("from"),
            to: set("to"),
            sector: set("sector"),
            min_severity: set("min_severity").and_then(|n| n.parse().ok()),
            sort: Some(column),
            order: Some(if descending { "desc" } else { "asc" }.into()),
            ..AssessmentQuery::default()
        }
    }
}

#[component]
pub fn RecordsTable() -> impl IntoView {
    let live = expect_context::<Live>();
    let screen = expect_context::<RwSignal<Screen>>();
    let filters = Filters::from_address();
    // The address follows the table (`address::follow_screen` takes it out again).
    Effect::new(move |_| address::show_records(&filters.address_pairs()));
    let page = RwSignal::new(None::<Result<Page<AssessmentRow>, String>>);
    let path = move || {
        let query = AssessmentQuery { limit: PAGE as i64, offset: filters.offset.get() as i64, ..filters.query() };
        api::address("/api/v1/assessments", &query)
    };
    api::keep_loaded(live.records, path, page);
    let text_filter = move |name: &'static str, label: &'static str, kind: &'static str| {
        let value = filters.get(name);
        view! {
            <div class="filter">
                <label for=format!("filter-{name}")>{label}</label>
                <input id=format!("filter-{name}") type=kind prop:value=value
                    on:change=move |ev| { filters.offset.set(0); value.set(event_target_value(&ev)); } />
            </div>
        }
    };
    let choice_filter = move |name: &'static str, label: &'static str, options: Vec<(String, String)>| {
        let value = filters.get(name);
        view! {
            <div class="filter">
                <label for=format!("filter-{name}")>{label}</label>
                <select id=format!("filter-{name}") on:change=move |ev| { filters.offset.set(0); value.set(event_target_value(&ev)); }>
                    <option value="">{t().desk.any}</option>
                    {options.into_iter().map(|(v, l)| {
                        let selected = value.get_untracked() == v;
                        view! { <option value=v selected=selected>{l}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let header = move |column: &'static str, label: &'static str| {
        let arrow = move || match filters.sort.get() {
            (c, true) if c == column => " ▼",
            (c, false) if c == column => " ▲",
            _ => "",
        };
        view! {
            <th scope="col" aria-sort={move || match filters.sort.get() {
                (c, true) if c == column => "descending",
                (c, false) if c == column => "ascending",
                _ => "none",
            }}>
                <button class="sort" on:click=move |_| filters.sort.update(|(c, desc)| {
                    *desc = if c == column { !*desc } else { false };
                    *c = column.to_owned();
                })>{label}{arrow}</button>
            </th>
        }
    };
    let export = move |format: &'static str, label: &'static str| {
        view! { <a class="button export" download="" on:click=crate::pages::security::guard_download href=move || api::address("/api/v1/assessments/export", &AssessmentQuery { format: Some(format.into()), ..filters.query() })>{label}</a> }
    };
    view! {
        <section class="card desk" id="records-table">
            <h1>{t().desk.records}</h1>
            <div class="filters">
                {text_filter("search", t().desk.community, "search")}
                {text_filter("municipality", t().desk.municipality, "text")}
                {text_filter("province", t().desk.province, "text")}
                {choice_filter("status", t().filter_status, STATUSES.iter().map(|s| (s.to_string(), s.to_string())).collect())}
                {text_filter("from", t().desk.date_from, "date")}
                {text_filter("to", t().desk.date_to, "date")}
                {choice_filter("sector", t().desk.sector_need, SECTORS.iter().map(|(s, l)| (s.to_string(), l.to_string())).collect())}
                {choice_filter("min_severity", t().desk.min_severity, (1..=5).map(|n| (n.to_string(), format!("{n}+"))).collect())}
            </div>
            <p class="exports">{t().desk.export_filtered} " " {export("csv", "CSV")} " " {export("json", "JSON")} " " {export("geojson", "GeoJSON")}</p>
            {move || match page.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(page)) => {
                    let total = page.total as usize;
                    let offset = filters.offset.get_untracked();
                    view! {
                        <p id="records-count">{(t().shown_of)(page.items.len(), total)}</p>
                        <table class="desk-table">
                            <thead><tr>
                                {header("community", t().desk.community)}{header("municipality", t().desk.municipality)}
                                {header("province", t().desk.province)}{header("place_code", t().desk.psgc_code)}{header("status", t().filter_status)}
                                {header("assessment_date", t().desk.assessment_date)}{header("households", t().desk.households)}
                                {header("population", t().desk.population)}<th scope="col">{t().desk.top_need}</th>
                            </tr></thead>
                            <tbody>{page.items.into_iter().map(|row| {
                                let id = row.id;
                                view! {
                                    <tr>
                                        <th scope="row"><button class="link" on:click=move |_| screen.set(Screen::DeskRecord(id))>
                                            {row.community.clone().unwrap_or_else(|| t().untitled_assessment.to_owned())}</button></th>
                                        <td>{row.municipality.clone()}</td><td>{row.province.clone()}</td><td class="code">{row.place_code.clone()}</td><td>{row.status.clone()}</td>
                                        <td>{row.assessment_date.clone()}</td><td>{row.households}</td><td>{row.population}</td>
                                        <td>{top_need(&row.needs)}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                        <div class="pager">
                            <button disabled={offset == 0} on:click=move |_| filters.offset.update(|o| *o = o.saturating_sub(PAGE))>{t().desk.previous}</button>
                            <button disabled={offset + PAGE >= total} on:click=move |_| filters.offset.update(|o| *o += PAGE)>{t().desk.next}</button>
                        </div>
                    }.into_any()
                }
            }}
        </section>
    }
}

/// The most severe need, e.g. "Health 4".
fn top_need(needs: &Value) -> String {
    let Some(needs) = needs.as_object() else { return String::new() };
    needs
        .iter()
        .filter_map(|(sector, severity)| Some((severity.as_i64()?, sector)))
        .max()
        .map(|(severity, sector)| {
            let label = SECTORS.iter().find(|(s, _)| s == sector).map(|(_, l)| *l).unwrap_or(sector);
            format!("{label} {severity}")
        })
        .unwrap_or_default()
}

/// A value of the API as people read it.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(|i| i.get("text").unwrap_or(i).to_string().trim_matches('"').to_owned()).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// A record's photos, each opening whole in a new tab; one the phone has not sent yet
/// says so.
fn photos(value: &Value) -> impl IntoView {
    let names: Vec<String> = serde_json::from_value(value.clone()).unwrap_or_default();
    view! {
        <ul class="photo-list">{names.into_iter().enumerate().map(|(at, name)| {
            let missing = RwSignal::new(false);
            let (href, src) = (format!("/api/v1/photos/{name}"), format!("/api/v1/photos/{name}"));
            view! {
                <li><a href=href target="_blank" rel="noopener">
                    <img class="photo" src=src loading="lazy" width="160" height="120"
                        alt=(t().photos.photo_of)(at + 1) data-photo=name on:error=move |_| missing.set(true) />
                </a>
                {move || missing.get().then(|| view! { <small>{t().photos.on_its_way}</small> })}</li>
            }
        }).collect_view()}</ul>
    }
}

/// One record: its current values, then its history, newest first.
#[component]
pub fn RecordHistory(id: DocId) -> impl IntoView {
    let live = expect_context::<Live>();
    let screen = expect_context::<RwSignal<Screen>>();
    let history = RwSignal::new(None::<Result<History, String>>);
    let current = RwSignal::new(None::<Result<Record, String>>);
    api::keep_loaded(live.records, move || format!("/api/v1/records/{id}/history"), history);
    api::keep_loaded(live.records, move || format!("/api/v1/records/{id}"), current);
    view! {
        <section class="card desk" id="record-history">
            <button class="back" on:click=move |_| screen.set(Screen::Records)>{t().back}</button>
            {move || current.get().and_then(Result::ok).map(|record| view! {
                <dl class="record-values">{record.kind.fields().iter().filter_map(|spec| {
                    let value = record.fields.get(&spec.name)?;
                    let shown = match spec.ty {
                        FieldType::Photos { .. } => photos(value).into_any(),
                        _ => shown(value).into_any(),
                    };
                    Some(view! { <dt>{spec.label.clone()}</dt><dd>{shown}</dd> })
                }).collect_view()}</dl>
            })}
            <h1>{t().desk.history}</h1>
            {move || match history.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(history)) => view! {
                    <ol class="history">{history.items.into_iter().map(|entry| view! {
                        <li>
                            <strong>{when(&entry.at)}</strong> " — " {entry.by.clone()}
                            {entry.device_id.map(|d| format!(" ({})", (t().desk.from_device)(&d.uuid().simple().to_string()[..8])))}
                            <ul>{entry.fields.into_iter().map(|f| view! {
                                <li>{if f.kind == ChangeKind::Resolution { (t().desk.conflict_settled_on)(&f.label) } else { f.label.clone() }}
                                    {(f.kind != ChangeKind::Resolution).then(|| format!(": {}", f.value.clone().unwrap_or_else(|| t().desk.cleared.to_owned())))}</li>
                            }).collect_view()}</ul>
                        </li>
                    }).collect_view()}</ol>
                }.into_any(),
            }}
        </section>
    }
}
