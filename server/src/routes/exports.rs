//! `GET /api/v1/assessments/export?format=csv|json|geojson&<the table's filters>`: the
//! filtered assessments as a download. The matching ids are read first, in the chosen
//! order; then rows are read a page at a time, each page in a short transaction of its
//! own, and sent in chunks. So 100,000 rows never sit in memory at once, and no database
//! connection is held while the client takes its time to read: a client that stops
//! reading holds only its few chunks and its place in the per-user export limit, until
//! [`SEND_TIMEOUT`] ends its download.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bmms_shared::records::mana;
use bmms_shared::spreadsheet::csv_text;
use chrono::{DateTime, NaiveDate, Utc};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use bmms_shared::OrgId;
use serde::Serialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::db::{Db, OrgTx};
use crate::error::ApiError;
use crate::routes::extract::ApiQuery;
use crate::routes::records::{bind_filters, AssessmentFilters, ASSESSMENT_FILTERS};
use bmms_shared::api::AssessmentQuery;

/// Bytes gathered before a chunk goes out.
const CHUNK_BYTES: usize = 64 * 1024;
/// Rows read in one transaction.
const PAGE_ROWS: usize = 1_000;
/// How long a download waits for the client to take the next chunk before it ends.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// An assessment as the export writes it; JSON keeps these names.
#[derive(sqlx::FromRow, Serialize)]
struct Row {
    id: Uuid,
    status: String,
    community: Option<String>,
    municipality: Option<String>,
    province: Option<String>,
    place_code: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    assessment_date: Option<NaiveDate>,
    households: Option<i32>,
    population: Option<i32>,
    respondents: Option<i32>,
    needs: Value,
    updated_at: DateTime<Utc>,
    /// The addresses of its photos (whole once the officer's phone has sent them).
    photos: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Csv,
    Json,
    GeoJson,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::GeoJson => "application/geo+json",
        }
    }
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::GeoJson => "geojson",
        }
    }
}

const COLUMNS: [&str; 13] = [
    "id", "status", "community", "municipality", "province", "place_code", "latitude", "longitude", "assessment_date", "households",
    "population", "respondents", "updated_at",
];

pub async fn assessments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<AssessmentQuery>,
) -> Result<Response, ApiError> {
    let caller = signed_in.require_desk()?;
    signed_in.require_fresh_second_factor(&state).await?;
    let filters = AssessmentFilters::read(&query)?;
    let format = match query.format.as_deref().unwrap_or("csv") {
        "csv" => Format::Csv,
        "json" => Format::Json,
        "geojson" => Format::GeoJson,
        _ => return Err(ApiError::invalid_field("format", "Export as csv, json or geojson.")),
    };
    let slot = state.limits.exports.enter(caller.user_id)?;
    let ids_sql = format!("select id from mana_assessments where {ASSESSMENT_FILTERS} {}", filters.order_by()?);
    // Before the answer starts, so that a database that is down is an error status, not
    // an empty download.
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let ids: Vec<(Uuid,)> = bind_filters(sqlx::query_as(&ids_sql), &filters).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let (db, org_id, public_url) = (state.db.clone(), caller.org_id, state.settings.public_url.clone());
    let (sender, receiver) = mpsc::channel::<Bytes>(4);
    let complete = Arc::new(AtomicBool::new(false));
    let finished = Arc::clone(&complete);
    tokio::spawn(async move {
        let ids: Vec<Uuid> = ids.into_iter().map(|(id,)| id).collect();
        match stream_rows(&db, org_id, &ids, format, &public_url, &sender).await {
            Ok(true) => finished.store(true, Ordering::Release),
            Ok(false) => {}
            Err(err) => tracing::error!(error = %err, "assessment export failed part-way"),
        }
    });
    // The body holds the user's export slot for as long as the connection takes it. A
    // download that did not finish (a database error, a client that stopped reading)
    // ends in an error, so that the connection is cut and the client sees a broken
    // download, never a file that looks whole but lacks rows. Fused: the compression
    // layer polls once more after the end.
    let chunks = futures_util::stream::unfold(Some((receiver, slot)), move |state| {
        let complete = Arc::clone(&complete);
        async move {
            let (mut receiver, slot) = state?;
            match receiver.recv().await {
                Some(chunk) => Some((Ok(chunk), Some((receiver, slot)))),
                None if complete.load(Ordering::Acquire) => None,
                None => Some((Err(std::io::Error::other("the export was cut off")), None)),
            }
        }
    });
    let body = Body::from_stream(chunks.fuse());
    let filename = format!("attachment; filename=\"assessments-{}.{}\"", Utc::now().format("%Y-%m-%d"), format.extension());
    let disposition = HeaderValue::from_str(&filename).map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type())), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

/// The columns of a row, in the order of [`Row`]; the rows of one page of `$1`'s ids,
/// in its order.
const PAGE_SQL: &str = "select m.id, m.status, m.community, m.municipality, m.province, m.place_code, m.latitude, m.longitude,
        m.assessment_date, m.households, m.population, m.respondents, m.needs, m.updated_at,
        array(select $2 || '/api/v1/photos/' || name from jsonb_array_elements_text(m.photos) name) as photos
    from unnest($1::uuid[]) with ordinality as page(id, n) join mana_assessments m on m.id = page.id
    order by page.n";

/// Sends the rows of `ids`; true when every byte went to the client.
/// Photos are listed by their addresses under `public_url`.
async fn stream_rows(
    db: &Db,
    org_id: OrgId,
    ids: &[Uuid],
    format: Format,
    public_url: &str,
    sender: &mpsc::Sender<Bytes>,
) -> anyhow::Result<bool> {
    let mut out = Vec::with_capacity(CHUNK_BYTES * 2);
    let sectors: Vec<&str> = mana::SECTORS.iter().map(|(s, _)| *s).collect();
    match format {
        Format::Csv => {
            let mut header = csv::Writer::from_writer(Vec::new());
            let columns = COLUMNS.iter().map(|c| c.to_string()).chain(sectors.iter().map(|s| need_column(s)));
            header.write_record(columns.chain(["photos".to_owned()]))?;
            out.extend(header.into_inner()?);
        }
        Format::Json => out.extend_from_slice(b"["),
        Format::GeoJson => out.extend_from_slice(br#"{"type":"FeatureCollection","features":["#),
    }
    let mut first = true;
    for page in ids.chunks(PAGE_ROWS) {
        let mut tx = OrgTx::begin(db, org_id).await?;
        let rows: Vec<Row> = sqlx::query_as(PAGE_SQL).bind(page).bind(public_url).fetch_all(&mut *tx).await?;
        tx.commit().await?;
        for row in &rows {
            match format {
                Format::Csv => write_csv_row(&mut out, row, &sectors)?,
                Format::Json | Format::GeoJson => {
                    if !first {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut out, &if format == Format::Json { row_json(row) } else { feature(row) })?;
                }
            }
            first = false;
            if out.len() >= CHUNK_BYTES && !send(sender, std::mem::take(&mut out)).await {
                return Ok(false);
            }
        }
    }
    match format {
        Format::Csv => {}
        Format::Json => out.extend_from_slice(b"]"),
        Format::GeoJson => out.extend_from_slice(b"]}"),
    }
    Ok(send(sender, out).await)
}

/// Hands a chunk to the client's connection; false when the client went away or has not
/// read for [`SEND_TIMEOUT`] (its download then ends there).
async fn send(sender: &mpsc::Sender<Bytes>, chunk: Vec<u8>) -> bool {
    match tokio::time::timeout(SEND_TIMEOUT, sender.send(Bytes::from(chunk))).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            tracing::warn!("an export's client stopped reading; its download was ended");
            false
        }
    }
}

fn need_column(sector: &str) -> String {
    format!("need_{sector}_severity")
}

fn write_csv_row(out: &mut Vec<u8>, row: &Row, sectors: &[&str]) -> anyhow::Result<()> {
    // Typed by people, so neutralized for spreadsheets (see `bmms_shared::spreadsheet`).
    let text = |v: &Option<String>| csv_text(v.as_deref().unwrap_or_default()).into_owned();
    let num = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_default();
    let float = |v: Option<f64>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut record = vec![
        row.id.to_string(),
        csv_text(&row.status).into_owned(),
        text(&row.community),
        text(&row.municipality),
        text(&row.province),
        row.place_code.clone().unwrap_or_default(),
        float(row.latitude),
        float(row.longitude),
        row.assessment_date.map(|d| d.to_string()).unwrap_or_default(),
        num(row.households),
        num(row.population),
        num(row.respondents),
        row.updated_at.to_rfc3339(),
    ];
    record.extend(sectors.iter().map(|s| row.needs.get(*s).map(|v| v.to_string()).unwrap_or_default()));
    record.push(row.photos.join(" "));
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    writer.write_record(&record)?;
    writer.flush()?;
    Ok(())
}

fn row_json(row: &Row) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// A GeoJSON feature; an assessment without a GPS point has a null geometry (still valid
/// GeoJSON), so the export holds the same rows as the others.
fn feature(row: &Row) -> Value {
    let mut properties = row_json(row);
    let (lat, lon) = (row.latitude, row.longitude);
    if let Some(map) = properties.as_object_mut() {
        map.remove("latitude");
        map.remove("longitude");
    }
    let geometry = match (lat, lon) {
        (Some(lat), Some(lon)) => json!({"type": "Point", "coordinates": [lon, lat]}),
        _ => Value::Null,
    };
    json!({"type": "Feature", "id": row.id, "geometry": geometry, "properties": properties})
}
