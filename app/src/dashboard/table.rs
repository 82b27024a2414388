//! A dashboard table: sortable by any column, and downloadable as CSV or JSON exactly as
//! it is shown (same columns, same rows, same order).

use leptos::prelude::*;
use serde_json::{Map, Value};
use std::cmp::Ordering;

use crate::browser;
use crate::text::t;

/// A cell: shown as text, sorted as a number when it is one.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Number(i64),
    Missing,
}

impl Cell {
    fn shown(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(n) => n.to_string(),
            Cell::Missing => String::new(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(s) => Value::String(s.clone()),
            Cell::Number(n) => Value::from(*n),
            Cell::Missing => Value::Null,
        }
    }

    fn compare(&self, other: &Cell) -> Ordering {
        match (self, other) {
            (Cell::Number(a), Cell::Number(b)) => a.cmp(b),
            (Cell::Missing, Cell::Missing) => Ordering::Equal,
            (Cell::Missing, _) => Ordering::Less,
            (_, Cell::Missing) => Ordering::Greater,
            (a, b) => a.shown().to_lowercase().cmp(&b.shown().to_lowercase()),
        }
    }
}

/// The positions of the rows in the order shown (a stable sort: ties keep their order).
fn order_of(rows: &[Vec<Cell>], sort: Option<(usize, bool)>) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..rows.len()).collect();
    if let Some((column, descending)) = sort {
        positions.sort_by(|a, b| {
            let order = rows[*a][column].compare(&rows[*b][column]);
            if descending { order.reverse() } else { order }
        });
    }
    positions
}

/// The table as CSV; text cells are neutralized so that a spreadsheet shows them rather
/// than running them (`bmms_shared::spreadsheet`), numbers stay numbers.
fn csv_of(headers: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let _ = writer.write_record(headers);
    for row in rows {
        let cells = row.iter().map(|cell| match cell {
            Cell::Text(text) => bmms_shared::spreadsheet::csv_text(text).into_owned(),
            other => other.shown(),
        });
        let _ = writer.write_record(cells);
    }
    writer.into_inner().unwrap_or_default()
}

fn json_of(headers: &[&str], rows: &[Vec<Cell>]) -> Vec<u8> {
    let objects: Vec<Value> = rows
        .iter()
        .map(|row| Value::Object(headers.iter().zip(row).map(|(h, c)| (h.to_string(), c.json())).collect::<Map<_, _>>()))
        .collect();
    serde_json::to_vec_pretty(&objects).unwrap_or_default()
}

/// `on_open(row)` makes the first cell of each row a button (drill-down).
#[component]
pub fn DataTable(
    id: &'static str,
    caption: String,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
    #[prop(optional)] on_open: Option<Callback<usize>>,
) -> impl IntoView {
    let sort = RwSignal::new(None::<(usize, bool)>);
    let order = Memo::new({
        let rows = rows.clone();
        move |_| order_of(&rows, sort.get())
    });
    let shown = Memo::new({
        let rows = rows.clone();
        move |_| order.get().into_iter().map(|i| rows[i].clone()).collect::<Vec<_>>()
    });
    let download = {
        let headers = headers.clone();
        move |format: &'static str| {
            let rows = shown.get_untracked();
            let (bytes, extension) = if format == "csv" { (csv_of(&headers, &rows), "csv") } else { (json_of(&headers, &rows), "json") };
            let _ = browser::download(&format!("bmms-{id}.{extension}"), &bytes);
        }
    };
    let download_json = download.clone();
    view! {
        <div class="dashboard-table" id=id>
            <div class="table-tools">
                <strong>{caption.clone()}</strong>
                <button class="small export-csv" on:click=move |_| download("csv")>{t().dashboard.export_csv}</button>
                <button class="small export-json" on:click=move |_| download_json("json")>{t().dashboard.export_json}</button>
            </div>
            <table class="desk-table">
                <caption class="visually-hidden">{caption}</caption>
                <thead><tr>{headers.iter().enumerate().map(|(column, header)| view! {
                    <th scope="col" aria-sort={move || match sort.get() {
                        Some((c, true)) if c == column => "descending",
                        Some((c, false)) if c == column => "ascending",
                        _ => "none",
                    }}>
                        <button class="sort" on:click=move |_| sort.update(|s| *s = match *s {
                            Some((c, false)) if c == column => Some((column, true)),
                            _ => Some((column, false)),
                        })>{*header}</button>
                    </th>
                }).collect_view()}</tr></thead>
                <tbody>{move || shown.get().into_iter().zip(order.get()).map(|(row, original)| view! {
                    <tr>{row.into_iter().enumerate().map(|(column, cell)| match (column, on_open) {
                        (0, Some(open)) => view! {
                            <th scope="row"><button class="link" on:click=move |_| open.run(original)>{cell.shown()}</button></th>
                        }.into_any(),
                        (0, None) => view! { <th scope="row">{cell.shown()}</th> }.into_any(),
                        _ => view! { <td>{cell.shown()}</td> }.into_any(),
                    }).collect_view()}</tr>
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}
