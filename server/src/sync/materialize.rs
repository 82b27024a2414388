//! The fields of each document as a plain row (`mana_assessments`, `monitoring_tasks`,
//! `ppa_proposals`),
//! written in the same transaction as the document, so lists and totals are plain SQL.
//! A sync batch writes the rows of all its documents in one statement per kind.

use automerge::AutoCommit;
use bmms_shared::plans::proposal;
use bmms_shared::records::{self, mana, FieldValue, RecordKind};
use chrono::NaiveDate;
use bmms_shared::DocId;

use crate::db::OrgTx;

/// The rows of a set of documents, column by column, ready to be written at once.
#[derive(Debug, Default)]
pub struct Rows {
    assessments: Assessments,
    tasks: Tasks,
    proposals: Proposals,
}

#[derive(Debug, Default)]
struct Assessments {
    id: Vec<DocId>,
    status: Vec<String>,
    community: Vec<Option<String>>,
    municipality: Vec<Option<String>>,
    province: Vec<Option<String>>,
    place_code: Vec<Option<String>>,
    latitude: Vec<Option<f64>>,
    longitude: Vec<Option<f64>>,
    assessment_date: Vec<Option<NaiveDate>>,
    households: Vec<Option<i32>>,
    population: Vec<Option<i32>>,
    respondents: Vec<Option<i32>>,
    needs: Vec<serde_json::Value>,
    /// The names of its photos, as a JSON array.
    photos: Vec<serde_json::Value>,
}

#[derive(Debug, Default)]
struct Tasks {
    id: Vec<DocId>,
    status: Vec<String>,
    title: Vec<Option<String>>,
    ppa: Vec<Option<String>>,
    ppa_id: Vec<Option<DocId>>,
    ppa_milestone: Vec<Option<i32>>,
    site: Vec<Option<String>>,
    assignee: Vec<Option<String>>,
    due_date: Vec<Option<NaiveDate>>,
    progress_percent: Vec<Option<i32>>,
}

#[derive(Debug, Default)]
struct Proposals {
    id: Vec<DocId>,
    status: Vec<String>,
    title: Vec<Option<String>>,
    ppa_type: Vec<Option<String>>,
    /// The lists as JSON arrays: PostgreSQL's `unnest` would flatten arrays of arrays.
    goals: Vec<serde_json::Value>,
    places: Vec<serde_json::Value>,
    partners: Vec<serde_json::Value>,
    beneficiaries: Vec<Option<i32>>,
    start_date: Vec<Option<NaiveDate>>,
    end_date: Vec<Option<NaiveDate>>,
    total_cost: Vec<i64>,
    cost_by_year: Vec<serde_json::Value>,
    content: Vec<serde_json::Value>,
    /// The document's heads, sorted (a certification holds while they are its own).
    heads: Vec<serde_json::Value>,
}

/// One document's fields, read with its kind known (one lookup per field).
struct Reader<'a> {
    doc: &'a AutoCommit,
    kind: RecordKind,
}

impl Reader<'_> {
    fn text(&self, field: &str) -> Option<String> {
        match records::get_field(self.doc, self.kind, field)? {
            FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Date(s) => Some(s),
            _ => None,
        }
    }

    fn int(&self, field: &str) -> Option<i32> {
        match records::get_field(self.doc, self.kind, field)? {
            FieldValue::Integer(n) => i32::try_from(n).ok(),
            _ => None,
        }
    }

    fn decimal(&self, field: &str) -> Option<f64> {
        match records::get_field(self.doc, self.kind, field)? {
            FieldValue::Decimal(x) => Some(x),
            _ => None,
        }
    }

    fn date(&self, field: &str) -> Option<NaiveDate> {
        self.text(field)?.parse().ok()
    }

    fn list(&self, field: &str) -> serde_json::Value {
        match records::get_field(self.doc, self.kind, field) {
            Some(FieldValue::TextList(items)) => items.into(),
            _ => serde_json::Value::Array(Vec::new()),
        }
    }
}

impl Rows {
    /// Adds the row of one document (mutable only to read its heads).
    pub fn add(&mut self, doc_id: DocId, kind: RecordKind, doc: &mut AutoCommit) {
        if kind == RecordKind::PpaProposal {
            self.proposals.heads.push(proposal::heads_of(doc).into());
        }
        let doc = &*doc;
        let r = Reader { doc, kind };
        match kind {
            RecordKind::ManaAssessment => {
                let counts: Vec<i32> = ["female", "male"]
                    .iter()
                    .flat_map(|sex| mana::AGE_GROUPS.iter().map(move |(group, _)| format!("population.{sex}.{group}")))
                    .filter_map(|field| r.int(&field))
                    .collect();
                let needs: serde_json::Map<String, serde_json::Value> = mana::SECTORS
                    .iter()
                    .filter_map(|(sector, _)| Some((sector.to_string(), r.int(&format!("needs.{sector}.severity"))?.into())))
                    .collect();
                let a = &mut self.assessments;
                a.id.push(doc_id);
                a.status.push(r.text("status").unwrap_or_else(|| "draft".into()));
                a.community.push(r.text("community"));
                a.municipality.push(r.text("municipality"));
                a.province.push(r.text("province"));
                a.place_code.push(r.text("place_code"));
                a.latitude.push(r.decimal("gps.latitude"));
                a.longitude.push(r.decimal("gps.longitude"));
                a.assessment_date.push(r.date("assessment_date"));
                a.households.push(r.int("households"));
                a.population.push((!counts.is_empty()).then(|| counts.iter().sum()));
                a.respondents.push(r.int("respondents"));
                a.needs.push(serde_json::Value::Object(needs));
                a.photos.push(r.list(mana::PHOTOS_FIELD));
            }
            RecordKind::MonitoringTask => {
                let t = &mut self.tasks;
                t.id.push(doc_id);
                t.status.push(r.text("status").unwrap_or_else(|| "todo".into()));
                t.title.push(r.text("title"));
                t.ppa.push(r.text("ppa"));
                t.ppa_id.push(r.text("ppa_id").and_then(|id| id.parse().ok()));
                t.ppa_milestone.push(r.int("ppa_milestone"));
                t.site.push(r.text("site"));
                t.assignee.push(r.text("assignee"));
                t.due_date.push(r.date("due_date"));
                t.progress_percent.push(r.int("progress_percent"));
            }
            RecordKind::PpaProposal => {
                let by_year = proposal::cost_by_year(doc);
                let p = &mut self.proposals;
                p.id.push(doc_id);
                p.status.push(r.text("status").unwrap_or_else(|| "draft".into()));
                p.title.push(r.text("title"));
                p.ppa_type.push(r.text("ppa_type"));
                p.goals.push(r.list("goals"));
                p.places.push(r.list("places"));
                // Organization codes are capitals; a partner typed `milg ` is MILG.
                let partners = match r.list("partners") {
                    serde_json::Value::Array(codes) => codes.iter().filter_map(|c| c.as_str()).map(|c| serde_json::Value::String(c.trim().to_uppercase())).collect(),
                    other => other,
                };
                p.partners.push(partners);
                p.beneficiaries.push(r.int("beneficiaries"));
                p.start_date.push(r.date("start_date"));
                p.end_date.push(r.date("end_date"));
                p.total_cost.push(by_year.values().sum());
                p.cost_by_year.push(by_year.into_iter().map(|(year, centavos)| (year.to_string(), centavos.into())).collect::<serde_json::Map<_, _>>().into());
                p.content.push(proposal::content_of(doc));
            }
        }
    }

    /// Writes every row added, one statement per kind.
    pub async fn write(self, tx: &mut OrgTx) -> sqlx::Result<()> {
        let org_id = tx.org_id();
        let a = self.assessments;
        if !a.id.is_empty() {
            sqlx::query(
                "insert into mana_assessments (org_id, id, status, community, municipality, province, latitude,
                     longitude, assessment_date, households, population, respondents, needs, place_code, photos)
                 select $1, * from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[],
                     $8::float8[], $9::date[], $10::int4[], $11::int4[], $12::int4[], $13::jsonb[], $14::text[], $15::jsonb[])
                 on conflict (org_id, id) do update set status = excluded.status, community = excluded.community,
                     municipality = excluded.municipality, province = excluded.province, place_code = excluded.place_code,
                     latitude = excluded.latitude,
                     longitude = excluded.longitude, assessment_date = excluded.assessment_date,
                     households = excluded.households, population = excluded.population,
                     respondents = excluded.respondents, needs = excluded.needs, photos = excluded.photos, updated_at = now()",
            )
            .bind(org_id)
            .bind(&a.id)
            .bind(&a.status)
            .bind(&a.community)
            .bind(&a.municipality)
            .bind(&a.province)
            .bind(&a.latitude)
            .bind(&a.longitude)
            .bind(&a.assessment_date)
            .bind(&a.households)
            .bind(&a.population)
            .bind(&a.respondents)
            .bind(&a.needs)
            .bind(&a.place_code)
            .bind(&a.photos)
            .execute(&mut **tx)
            .await?;
        }
        let t = self.tasks;
        if !t.id.is_empty() {
            sqlx::query(
                "insert into monitoring_tasks (org_id, id, status, title, ppa, site, assignee, due_date, progress_percent, ppa_id,
                     ppa_milestone)
                 select $1, * from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::date[], $9::int4[], $10::uuid[], $11::int4[])
                 on conflict (org_id, id) do update set status = excluded.status, title = excluded.title,
                     ppa = excluded.ppa, ppa_id = excluded.ppa_id, ppa_milestone = excluded.ppa_milestone,
                     site = excluded.site, assignee = excluded.assignee,
                     due_date = excluded.due_date, progress_percent = excluded.progress_percent, updated_at = now()",
            )
            .bind(org_id)
            .bind(&t.id)
            .bind(&t.status)
            .bind(&t.title)
            .bind(&t.ppa)
            .bind(&t.site)
            .bind(&t.assignee)
            .bind(&t.due_date)
            .bind(&t.progress_percent)
            .bind(&t.ppa_id)
            .bind(&t.ppa_milestone)
            .execute(&mut **tx)
            .await?;
        }
        let p = self.proposals;
        if !p.id.is_empty() {
            let list = |column: &str| format!("array(select jsonb_array_elements_text({column}))");
            sqlx::query(&format!(
                "insert into ppa_proposals (org_id, id, status, title, ppa_type, goals, places, partners, beneficiaries,
                     start_date, end_date, total_cost, cost_by_year, content, heads)
                 select $1, id, status, title, ppa_type, {}, {}, {}, beneficiaries, start_date, end_date, total_cost,
                     cost_by_year, content, {}
                 from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::jsonb[],
                     $9::int4[], $10::date[], $11::date[], $12::int8[], $13::jsonb[], $14::jsonb[], $15::jsonb[])
                     as r (id, status, title, ppa_type, goals, places, partners, beneficiaries, start_date, end_date,
                           total_cost, cost_by_year, content, heads)
                 on conflict (org_id, id) do update set status = excluded.status, title = excluded.title,
                     ppa_type = excluded.ppa_type, goals = excluded.goals, places = excluded.places,
                     partners = excluded.partners, beneficiaries = excluded.beneficiaries,
                     start_date = excluded.start_date, end_date = excluded.end_date, total_cost = excluded.total_cost,
                     cost_by_year = excluded.cost_by_year, content = excluded.content, heads = excluded.heads,
                     updated_at = now()",
                list("goals"),
                list("places"),
                list("partners"),
                list("heads")
            ))
            .bind(org_id)
            .bind(&p.id)
            .bind(&p.status)
            .bind(&p.title)
            .bind(&p.ppa_type)
            .bind(&p.goals)
            .bind(&p.places)
            .bind(&p.partners)
            .bind(&p.beneficiaries)
            .bind(&p.start_date)
            .bind(&p.end_date)
            .bind(&p.total_cost)
            .bind(&p.cost_by_year)
            .bind(&p.content)
            .bind(&p.heads)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

/// Writes one document's row.
pub async fn materialize(tx: &mut OrgTx, doc_id: DocId, kind: RecordKind, doc: &mut AutoCommit) -> sqlx::Result<()> {
    let mut rows = Rows::default();
    rows.add(doc_id, kind, doc);
    rows.write(tx).await
}
