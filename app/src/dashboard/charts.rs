//! Charts drawn in SVG by the app itself (no chart library, no outside tile server): bars,
//! a line over months, and a map of provinces and municipalities from their centres.

use bmms_shared::records::places::PROVINCE_CENTRES;
use leptos::prelude::*;

/// Horizontal bars, one per (label, value), scaled to the largest.
#[component]
pub fn Bars(title: String, bars: Vec<(String, i64)>) -> impl IntoView {
    let max = bars.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let height = 26 * bars.len().max(1);
    view! {
        <figure class="chart">
            <figcaption>{title.clone()}</figcaption>
            <svg role="img" aria-label=title viewBox=format!("0 0 400 {height}") width="100%">
                {bars.into_iter().enumerate().map(|(i, (label, value))| {
                    let y = i * 26;
                    let width = (value as f64 / max * 220.0).max(1.0);
                    view! {
                        <text x="0" y=y + 17 class="chart-label">{label}</text>
                        <rect x="140" y=y + 4 width=format!("{width:.1}") height="18" class="bar"></rect>
                        <text x=format!("{:.1}", 146.0 + width) y=y + 17 class="chart-value">{value}</text>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
}

/// A line of counts over months (`YYYY-MM` labels), with the first and last month named.
#[component]
pub fn MonthLine(title: String, points: Vec<(String, i64)>) -> impl IntoView {
    let max = points.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1) as f64;
    let step = if points.len() > 1 { 360.0 / (points.len() - 1) as f64 } else { 0.0 };
    let coords: Vec<(f64, f64)> = points.iter().enumerate().map(|(i, (_, v))| (20.0 + i as f64 * step, 130.0 - *v as f64 / max * 110.0)).collect();
    let line = coords.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ");
    let first = points.first().map(|p| p.0.clone()).unwrap_or_default();
    let last = points.last().map(|p| p.0.clone()).unwrap_or_default();
    view! {
        <figure class="chart">
            <figcaption>{title.clone()}</figcaption>
            <svg role="img" aria-label=title viewBox="0 0 400 160" width="100%">
                <line x1="20" y1="130" x2="380" y2="130" class="axis"></line>
                <polyline points=line class="line"></polyline>
                {coords.iter().zip(&points).map(|((x, y), (month, value))| view! {
                    <circle cx=format!("{x:.1}") cy=format!("{y:.1}") r="3" class="dot"><title>{format!("{month}: {value}")}</title></circle>
                }).collect_view()}
                <text x="20" y="150" class="chart-label">{first}</text>
                <text x="380" y="150" text-anchor="end" class="chart-label">{last}</text>
                <text x="20" y="14" class="chart-value">{format!("max {}", max as i64)}</text>
            </svg>
        </figure>
    }
}

/// A place on the map: its name, centre and how many assessments it has.
#[derive(Clone, Debug, PartialEq)]
pub struct Spot {
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    pub assessments: i64,
}

/// The region from 4.5° to 8.5° N and 119.5° to 125.5° E, provinces named at their
/// centres, municipalities as circles sized by their assessments.
#[component]
pub fn CoverageMap(title: String, spots: Vec<Spot>) -> impl IntoView {
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 400.0;
    let project = |lat: f64, lon: f64| (((lon - 119.5) / 6.0 * WIDTH).clamp(0.0, WIDTH), ((8.5 - lat) / 4.0 * HEIGHT).clamp(0.0, HEIGHT));
    let max = spots.iter().map(|s| s.assessments).max().unwrap_or(0).max(1) as f64;
    view! {
        <figure class="chart map">
            <figcaption>{title.clone()}</figcaption>
            <svg role="img" aria-label=title viewBox=format!("0 0 {WIDTH} {HEIGHT}") width="100%">
                <rect width=WIDTH height=HEIGHT class="sea"></rect>
                {spots.into_iter().map(|spot| {
                    let (x, y) = project(spot.latitude, spot.longitude);
                    let r = 3.0 + (spot.assessments as f64 / max).sqrt() * 14.0;
                    view! {
                        <circle cx=format!("{x:.1}") cy=format!("{y:.1}") r=format!("{r:.1}") class="spot">
                            <title>{format!("{}: {}", spot.name, spot.assessments)}</title>
                        </circle>
                    }
                }).collect_view()}
                {PROVINCE_CENTRES.iter().map(|(name, lat, lon)| {
                    let (x, y) = project(*lat, *lon);
                    view! { <text x=format!("{x:.1}") y=format!("{y:.1}") text-anchor="middle" class="province-label">{*name}</text> }
                }).collect_view()}
            </svg>
        </figure>
    }
}
