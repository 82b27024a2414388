//! The fields of each document as a plain row (`mana_assessments`, `monitoring_tasks`),
//! written in the same transaction as the document, so lists and totals are plain SQL.

use automerge::AutoCommit;
use bmms_shared::records::{self, mana, FieldValue, RecordKind};
use uuid::Uuid;

use crate::db::OrgTx;

fn text(doc: &AutoCommit, field: &str) -> Option<String> {
    match records::get(doc, field)? {
        FieldValue::Text(s) | FieldValue::Choice(s) | FieldValue::Date(s) => Some(s),
        _ => None,
    }
}

fn int(doc: &AutoCommit, field: &str) -> Option<i32> {
    match records::get(doc, field)? {
        FieldValue::Integer(n) => i32::try_from(n).ok(),
        _ => None,
    }
}

fn decimal(doc: &AutoCommit, field: &str) -> Option<f64> {
    match records::get(doc, field)? {
        FieldValue::Decimal(x) => Some(x),
        _ => None,
    }
}

fn date(doc: &AutoCommit, field: &str) -> Option<chrono::NaiveDate> {
    text(doc, field)?.parse().ok()
}

/// Writes the document's row.
pub async fn materialize(tx: &mut OrgTx, doc_id: Uuid, kind: RecordKind, doc: &AutoCommit) -> sqlx::Result<()> {
    let org_id = tx.org_id();
    match kind {
        RecordKind::ManaAssessment => {
            let population: Option<i32> = {
                let counts: Vec<i32> = ["female", "male"]
                    .iter()
                    .flat_map(|sex| mana::AGE_GROUPS.iter().map(move |(group, _)| format!("population.{sex}.{group}")))
                    .filter_map(|field| int(doc, &field))
                    .collect();
                (!counts.is_empty()).then(|| counts.iter().sum())
            };
            sqlx::query(
                "insert into mana_assessments (org_id, id, status, community, municipality, province, latitude,
                     longitude, assessment_date, households, population, respondents)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 on conflict (org_id, id) do update set status = excluded.status, community = excluded.community,
                     municipality = excluded.municipality, province = excluded.province, latitude = excluded.latitude,
                     longitude = excluded.longitude, assessment_date = excluded.assessment_date,
                     households = excluded.households, population = excluded.population,
                     respondents = excluded.respondents, updated_at = now()",
            )
            .bind(org_id)
            .bind(doc_id)
            .bind(text(doc, "status").unwrap_or_else(|| "draft".into()))
            .bind(text(doc, "community"))
            .bind(text(doc, "municipality"))
            .bind(text(doc, "province"))
            .bind(decimal(doc, "gps.latitude"))
            .bind(decimal(doc, "gps.longitude"))
            .bind(date(doc, "assessment_date"))
            .bind(int(doc, "households"))
            .bind(population)
            .bind(int(doc, "respondents"))
            .execute(&mut **tx)
            .await?;
        }
        RecordKind::MonitoringTask => {
            sqlx::query(
                "insert into monitoring_tasks (org_id, id, status, title, ppa, site, assignee, due_date, progress_percent)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 on conflict (org_id, id) do update set status = excluded.status, title = excluded.title,
                     ppa = excluded.ppa, site = excluded.site, assignee = excluded.assignee,
                     due_date = excluded.due_date, progress_percent = excluded.progress_percent, updated_at = now()",
            )
            .bind(org_id)
            .bind(doc_id)
            .bind(text(doc, "status").unwrap_or_else(|| "todo".into()))
            .bind(text(doc, "title"))
            .bind(text(doc, "ppa"))
            .bind(text(doc, "site"))
            .bind(text(doc, "assignee"))
            .bind(date(doc, "due_date"))
            .bind(int(doc, "progress_percent"))
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}
