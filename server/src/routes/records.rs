//! Desktop reads of the organization's records: lists from the materialized tables (with
//! the records table's filters and sorting), one record with its current values and open
//! conflicts, and a record's history (who changed which field, when).

use axum::extract::State;
use axum::Json;
use bmms_shared::api::{AssessmentQuery, AssessmentRow, HistoryEntry, Page, Record, RecordConflict, RecordHistory};
use bmms_shared::records::{self, mana, RecordKind};
use bmms_shared::{DeviceId, DocId};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use sqlx::postgres::{PgArguments, Postgres};
use sqlx::query::QueryAs;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::extract::{paging, ApiPath, ApiQuery};
use crate::sync::{history, store};
use crate::wire::{maybe_date, timestamp};
use bmms_shared::records::json as values;

/// The `where` clause of the assessment filters; [`bind_filters`] binds `$1`..`$9`. A
/// place is a name typed in the records or a PSGC code; `$9` keeps only the records
/// without a code (the dashboards' groups of typed names).
pub const ASSESSMENT_FILTERS: &str = "($1::text is null or status = $1)
    and ($2::text is null or province = $2 or province_code = $2)
    and ($3::text is null or municipality = $3 or municipality_code = $3 or place_code = $3)
    and (not $9 or place_code is null)
    and ($4::date is null or assessment_date >= $4) and ($5::date is null or assessment_date <= $5)
    and ($6::text is null or (needs ->> $6)::int >= coalesce($7, 1))
    and ($8::text is null or community ilike '%' || $8 || '%')";

/// The filters of an [`AssessmentQuery`], checked, as the SQL binds them.
pub struct AssessmentFilters<'q> {
    query: &'q AssessmentQuery,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    /// Only the records without a PSGC place: a dashboard's place named by typed names
    /// holds those alone.
    pub uncoded_only: bool,
}

/// A date of the address's filters; one that is not a date is refused as serde refused
/// it when the query held dates.
fn filter_date(name: &str, text: Option<&String>) -> Result<Option<NaiveDate>, ApiError> {
    text.map(|text| {
        text.parse::<NaiveDate>().map_err(|err| {
            ApiError::bad_request(
                "invalid_query",
                format!("The address's filters are not valid: Failed to deserialize query string: {name}: {err}."),
            )
        })
    })
    .transpose()
}

impl<'q> AssessmentFilters<'q> {
    /// Refuses filters that cannot mean anything, with the field to fix.
    pub fn read(query: &'q AssessmentQuery) -> Result<Self, ApiError> {
        let filters = AssessmentFilters {
            query,
            from: filter_date("from", query.from.as_ref())?,
            to: filter_date("to", query.to.as_ref())?,
            uncoded_only: false,
        };
        filters.check()?;
        Ok(filters)
    }

    fn check(&self) -> Result<(), ApiError> {
        if let Some(sector) = &self.query.sector {
            if !mana::SECTORS.iter().any(|(s, _)| s == sector) {
                let known: Vec<&str> = mana::SECTORS.iter().map(|(s, _)| *s).collect();
                return Err(ApiError::invalid_field("sector", format!("Choose one of the sectors: {}.", known.join(", "))));
            }
        }
        if self.query.min_severity.is_some_and(|s| !(1..=5).contains(&s)) {
            return Err(ApiError::invalid_field("min_severity", "Severity goes from 1 to 5."));
        }
        // The range a record's date can have (`FieldType::Date`); PostgreSQL would refuse
        // some dates chrono reads, such as year -100000.
        for (name, date) in [("from", self.from), ("to", self.to)] {
            if date.is_some_and(|d| !(1900..=2100).contains(&chrono::Datelike::year(&d))) {
                return Err(ApiError::invalid_field(name, "Choose a date between 1900-01-01 and 2100-12-31."));
            }
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(ApiError::invalid_field("to", "The end of the date range comes before its start."));
            }
        }
        Ok(())
    }

    /// `order by` for the chosen column; only known columns reach the SQL.
    pub fn order_by(&self) -> Result<String, ApiError> {
        let column = match self.query.sort.as_deref().unwrap_or("updated_at") {
            "updated_at" => "updated_at",
            "assessment_date" => "assessment_date",
            "community" => "community",
            "municipality" => "municipality",
            "province" => "province",
            "place_code" => "place_code",
            "households" => "households",
            "population" => "population",
            "status" => "status",
            other => {
                return Err(ApiError::invalid_field(
                    "sort",
                    format!("Cannot sort by \"{other}\": choose updated_at, assessment_date, community, municipality, province, place_code, households, population or status."),
                ))
            }
        };
        let direction = match self.query.order.as_deref() {
            None if column == "updated_at" => "desc",
            None | Some("asc") => "asc",
            Some("desc") => "desc",
            Some(_) => return Err(ApiError::invalid_field("order", "The order is asc or desc.")),
        };
        Ok(format!("order by {column} {direction} nulls last, id"))
    }
}

/// Binds the filters of [`ASSESSMENT_FILTERS`].
pub fn bind_filters<'q, O>(query: QueryAs<'q, Postgres, O, PgArguments>, filters: &AssessmentFilters<'q>) -> QueryAs<'q, Postgres, O, PgArguments> {
    let asked = filters.query;
    query
        .bind(&asked.status)
        .bind(&asked.province)
        .bind(&asked.municipality)
        .bind(filters.from)
        .bind(filters.to)
        .bind(&asked.sector)
        .bind(asked.min_severity)
        .bind(asked.search.as_deref().map(|s| s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
        .bind(filters.uncoded_only)
}

/// `GET /api/v1/assessments?status=&province=&municipality=&from=&to=&sector=&min_severity=&search=&sort=&order=&limit=&offset=`
pub async fn list_assessments(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<AssessmentQuery>,
) -> Result<Json<Page<AssessmentRow>>, ApiError> {
    let caller = signed_in.require_member()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let page = assessment_page(&mut tx, &AssessmentFilters::read(&query)?).await?;
    tx.commit().await?;
    Ok(Json(page))
}

/// An assessment as the assessments table reads it.
#[derive(sqlx::FromRow)]
struct StoredAssessment {
    id: DocId,
    status: String,
    community: Option<String>,
    municipality: Option<String>,
    province: Option<String>,
    place_code: Option<String>,
    assessment_date: Option<NaiveDate>,
    households: Option<i32>,
    population: Option<i32>,
    needs: Value,
    /// Of the whole filtered list, not of this page.
    total: i64,
}

/// A page of the assessments `conn` can see, as `GET /api/v1/assessments` answers.
pub async fn assessment_page(conn: &mut sqlx::PgConnection, filters: &AssessmentFilters<'_>) -> Result<Page<AssessmentRow>, ApiError> {
    let (limit, offset) = paging::check(filters.query.limit, filters.query.offset)?;
    let sql = format!(
        "select id, status, community, municipality, province, place_code, assessment_date, households, population,
                needs, count(*) over () as total
         from mana_assessments where {ASSESSMENT_FILTERS} {} limit $10 offset $11",
        filters.order_by()?
    );
    let rows: Vec<StoredAssessment> = bind_filters(sqlx::query_as(&sql), filters).bind(limit).bind(offset).fetch_all(&mut *conn).await?;
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    let items = rows
        .into_iter()
        .map(|r| AssessmentRow {
            assessment_date: maybe_date(r.assessment_date),
            community: r.community,
            households: r.households,
            id: r.id,
            municipality: r.municipality,
            needs: r.needs,
            population: r.population,
            place_code: r.place_code,
            province: r.province,
            status: r.status,
        })
        .collect();
    Ok(Page { items, limit, offset, total })
}

/// `GET /api/v1/records/{id}`: every field's current value, and the open conflicts.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<DocId>) -> Result<Json<Record>, ApiError> {
    let caller = signed_in.require_member()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let stored = store::load_document(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("There is no such record in your organization."))?;
    let conflicts: Vec<OpenConflict> = sqlx::query_as(
        "select id, field, candidates, detected_at from conflicts where doc_id = $1 and resolved_at is null order by field",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(record(id, stored.kind, &stored.doc, conflicts)))
}

/// A conflict of the record that no supervisor has settled yet.
#[derive(sqlx::FromRow)]
struct OpenConflict {
    id: Uuid,
    field: String,
    candidates: Value,
    detected_at: DateTime<Utc>,
}

fn record(id: DocId, kind: RecordKind, doc: &automerge::AutoCommit, conflicts: Vec<OpenConflict>) -> Record {
    let mut fields = Map::new();
    let mut notes = Map::new();
    for spec in kind.fields() {
        if let Some(value) = records::get_field(doc, kind, &spec.name) {
            fields.insert(spec.name.clone(), values::to_json(&value));
        }
        if let Some(note) = records::resolution::note(doc, &spec.name) {
            notes.insert(spec.name.clone(), json!(note));
        }
    }
    let conflicts = conflicts
        .into_iter()
        .map(|c| RecordConflict { candidates: c.candidates, detected_at: timestamp(c.detected_at), field: c.field, id: c.id })
        .collect();
    Record { conflicts, fields, id, kind, resolutions: notes }
}

/// One change of a record's log, with who made it.
#[derive(sqlx::FromRow)]
struct LoggedChange {
    seq: i64,
    hash: Vec<u8>,
    device_id: DeviceId,
    display_name: String,
    created_at: DateTime<Utc>,
}

/// `GET /api/v1/records/{id}/history`: the record's changes, newest first (the last 500).
pub async fn history(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<DocId>) -> Result<Json<RecordHistory>, ApiError> {
    let caller = signed_in.require_desk()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let mut stored = store::load_document(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("There is no such record in your organization."))?;
    let log: Vec<LoggedChange> = sqlx::query_as(
        "select l.seq, l.hash, l.device_id, u.display_name, l.created_at from change_log l join users u on u.id = l.user_id
         where l.doc_id = $1 order by l.seq desc limit 500",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = log
        .into_iter()
        .map(|change| HistoryEntry {
            at: timestamp(change.created_at),
            by: change.display_name,
            // The nil device is a desk edit, made on no device.
            device_id: (!change.device_id.uuid().is_nil()).then_some(change.device_id),
            fields: history::fields_changed(&mut stored.doc, stored.kind, &change.hash),
            seq: change.seq,
        })
        .collect();
    Ok(Json(RecordHistory { id, items, kind: stored.kind }))
}
