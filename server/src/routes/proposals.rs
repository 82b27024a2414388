//! PPA proposals on their way to BPDA: a supervisor or the organization's administrator
//! submits one (its version frozen, its score recorded; BPDA's review is
//! `routes/review.rs`), and BPDA's planners (and MFBM's
//! budget officers) see every organization's submitted proposals in a queue; partner
//! organizations named in a proposal read it. Drafting is sync's, like any record
//! (`bmms_shared::records::ppa`).

use automerge::AutoCommit;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{Items, MultiYearPlan, PartnerProposal, PlanGoal, PlanLine, QueuedProposal, Submitted};
use bmms_shared::plans::{self, proposal};
use bmms_shared::records::{self, ppa, FieldValue, RecordKind};
use bmms_shared::{policy, DocId};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::bdp;
use bmms_shared::psgc;
use crate::certification::HOLDS;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::proposals::check_complete;
use crate::routes::extract::ApiPath;
use crate::sync::{desk_edit, store};
use crate::wire::timestamp;

pub(crate) fn no_such_proposal() -> ApiError {
    ApiError::not_found("There is no such proposal in your organization.")
}

/// Whether BPDA's latest certification of the organization's proposal `id` still holds.
async fn certification_holds(tx: &mut OrgTx, id: DocId) -> Result<bool, ApiError> {
    let holds: Option<bool> = sqlx::query_scalar(&format!(
        "select {HOLDS} from ppa_submissions s
         where s.org_id = $1 and s.proposal_id = $2 and s.decision = 'certified'
         order by s.version desc limit 1"
    ))
    .bind(tx.org_id())
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(holds.unwrap_or(false))
}

/// `POST /api/v1/proposals/{id}/submit`: BPDA receives this version. The proposal is
/// frozen (devices' edits are refused) until BPDA sends it back.
pub async fn submit(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<DocId>) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_submit_proposal)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let stored = store::load_document_for_update(&mut tx, id).await?.filter(|s| s.kind == RecordKind::PpaProposal).ok_or_else(no_such_proposal)?;
    let status = match records::get_field(&stored.doc, RecordKind::PpaProposal, "status") {
        Some(FieldValue::Choice(status)) => status,
        _ => "draft".to_owned(),
    };
    if !ppa::EDITABLE.contains(&status.as_str()) {
        let message = format!("This proposal is {status} already; BPDA has it. It can be submitted again once BPDA sends it back.");
        return Err(ApiError::client(StatusCode::CONFLICT, "already_submitted", message));
    }
    // A certified proposal goes to BPDA again only once an edit has voided its certification.
    if status == "certified" && certification_holds(&mut tx, id).await? {
        let message = "BPDA's certification of this proposal holds: there is nothing to submit. Change the proposal first (that voids the certification).";
        return Err(ApiError::client(StatusCode::CONFLICT, "already_certified", message));
    }
    // BPDA receives one version: values still in conflict would leave it to chance which.
    let open: i64 = sqlx::query_scalar("select count(*) from conflicts where doc_id = $1 and resolved_at is null").bind(id).fetch_one(&mut *tx).await?;
    if open > 0 {
        return Err(ApiError::client(
            StatusCode::CONFLICT,
            "open_conflicts",
            format!("This proposal has {open} field(s) in conflict; settle them (the conflict queue) before submitting it."),
        ));
    }
    let bdp = bdp::load(&mut tx).await?;
    check_complete(&stored.doc, &bdp)?;
    let outline = proposal::outline_of(&stored.doc);
    let score = plans::score(&bdp.for_scoring(), &outline);
    let costs = proposal::cost_by_year_and_class(&stored.doc);
    let total_cost: i64 = costs.values().flatten().sum();
    // What the Annual Investment Program reads (migrations/0015).
    let cost_by_year: serde_json::Map<String, serde_json::Value> = costs.iter().map(|(year, classes)| (year.to_string(), json!(classes))).collect();
    let mut provinces: Vec<String> = outline.places.iter().filter_map(|code| psgc::province_of(code)).map(|p| p.code.clone()).collect();
    provinces.sort();
    provinces.dedup();

    let freeze = Box::new(|doc: &mut AutoCommit| desk_edit::set_fields(doc, vec![("status", FieldValue::Choice("submitted".into()))]));
    let (_, mut frozen) = desk_edit::edit_stored(&mut tx, id, stored, caller.user_id, freeze).await?;
    let heads = proposal::heads_of(&mut frozen);
    let version: i32 = sqlx::query_scalar("select coalesce(max(version), 0) + 1 from ppa_submissions where proposal_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let content = proposal::content_of(&frozen);
    let text = |field: &str| content.get(field).and_then(|v| v.as_str()).map(str::to_owned);
    let (submission_id, submitted_at): (Uuid, DateTime<Utc>) = sqlx::query_as(
        "insert into ppa_submissions (org_id, proposal_id, version, heads, title, ppa_type, sector, score, total_cost, submitted_by,
                                      goals, provinces, cost_by_year)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning id, submitted_at",
    )
    .bind(tx.org_id())
    .bind(id)
    .bind(version)
    .bind(&heads)
    .bind(text("title"))
    .bind(text("ppa_type"))
    .bind(text("sector"))
    .bind(score.total as i32)
    .bind(total_cost)
    .bind(caller.user_id)
    .bind(&outline.goals)
    .bind(&provinces)
    .bind(serde_json::Value::Object(cost_by_year))
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("insert into ppa_submission_contents (org_id, submission_id, content, components) values ($1, $2, $3, $4)")
        .bind(tx.org_id())
        .bind(submission_id)
        .bind(&content)
        .bind(sqlx::types::Json(&score.components))
        .execute(&mut *tx)
        .await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "proposal.submit",
        subject: format!("record:{id}"),
        details: json!({"submission": submission_id, "version": version, "heads": heads, "score": score.total}),
    })
    .await?;
    tx.commit().await?;
    state.events.announce(caller.org_id, Topic::Records);
    Ok((StatusCode::CREATED, Json(Submitted { submission_id, proposal_id: id, version, score, submitted_at: timestamp(submitted_at) })))
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id: Uuid,
    proposal_id: DocId,
    version: i32,
    code: String,
    name: String,
    title: Option<String>,
    ppa_type: Option<String>,
    score: i32,
    total_cost: i64,
    submitted_at: DateTime<Utc>,
}

/// `GET /api/v1/proposals/queue`: every organization's proposals waiting for BPDA,
/// oldest first (at most 500).
pub async fn queue(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Items<QueuedProposal>>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_read_submissions)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    // BPDA and MFBM read every organization's submissions through their own select
    // policies (migrations/0012); nothing else of those organizations.
    let rows: Vec<PendingRow> = sqlx::query_as(
        "select s.id, s.proposal_id, s.version, o.code, o.name, s.title, s.ppa_type, s.score, s.total_cost, s.submitted_at
         from (select * from ppa_submissions where decision is null order by submitted_at, id limit 500) s
         join organizations o on o.id = s.org_id
         order by s.submitted_at, s.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(|r| QueuedProposal {
            submission_id: r.id,
            proposal_id: r.proposal_id,
            version: r.version,
            organization_code: r.code,
            organization_name: r.name,
            title: r.title.unwrap_or_default(),
            ppa_type: r.ppa_type,
            score: r.score.max(0) as u32,
            certifiable: r.score.max(0) as u32 >= plans::score::CERTIFIABLE_AT,
            total_cost: r.total_cost,
            submitted_at: timestamp(r.submitted_at),
        })
        .collect();
    Ok(Json(Items { items }))
}

#[derive(sqlx::FromRow)]
struct PartneredRow {
    id: DocId,
    code: String,
    name: String,
    title: Option<String>,
    status: String,
    total_cost: i64,
    content: serde_json::Value,
    updated_at: DateTime<Utc>,
}

/// `GET /api/v1/proposals/partnered`: other organizations' proposals that name the
/// caller's organization as a partner, newest first (at most 500), to read.
pub async fn partnered(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Items<PartnerProposal>>, ApiError> {
    let caller = signed_in.require_desk()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    // The partners' select policy (migrations/0013) shows these rows, and only to the
    // organizations a proposal names; the organization's own proposals are left out here.
    let rows: Vec<PartneredRow> = sqlx::query_as(
        "select p.id, o.code, o.name, p.title, p.status, p.total_cost, p.content, p.updated_at
         from ppa_proposals p join organizations o on o.id = p.org_id
         where p.org_id <> $1 order by p.updated_at desc, p.id limit 500",
    )
    .bind(tx.org_id())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(|r| PartnerProposal {
            proposal_id: r.id,
            organization_code: r.code,
            organization_name: r.name,
            title: r.title,
            status: r.status,
            total_cost: r.total_cost,
            content: r.content,
            updated_at: timestamp(r.updated_at),
        })
        .collect();
    Ok(Json(Items { items }))
}

#[derive(sqlx::FromRow)]
struct PlanRow {
    id: DocId,
    title: Option<String>,
    status: String,
    goals: Vec<String>,
    cost_by_year: sqlx::types::Json<std::collections::BTreeMap<i32, i64>>,
}

/// `GET /api/v1/proposals/plan`: the organization's proposals laid out by year under the
/// goals they serve (at most 2,000 proposals).
pub async fn plan(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<MultiYearPlan>, ApiError> {
    let caller = signed_in.require_desk()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<PlanRow> = sqlx::query_as(
        "select id, title, status, goals, cost_by_year from ppa_proposals where org_id = $1 order by title, id limit 2000",
    )
    .bind(tx.org_id())
    .fetch_all(&mut *tx)
    .await?;
    let bdp = bdp::load(&mut tx).await?;
    tx.commit().await?;

    let years: Vec<i32> = rows.iter().flat_map(|r| r.cost_by_year.0.keys().copied()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut goals: Vec<PlanGoal> = bdp
        .goals
        .iter()
        .map(|g| PlanGoal { code: g.code.clone(), title: g.title.clone(), proposals: Vec::new(), by_year: vec![0; years.len()] })
        .collect();
    let mut no_goal = PlanGoal { code: String::new(), title: String::new(), proposals: Vec::new(), by_year: vec![0; years.len()] };
    for row in rows {
        let by_year: Vec<i64> = years.iter().map(|y| row.cost_by_year.0.get(y).copied().unwrap_or(0)).collect();
        let line = PlanLine { proposal_id: row.id, title: row.title, status: row.status, by_year };
        // A goal the plan no longer has is shown as none.
        let mut placed = false;
        for goal in goals.iter_mut().filter(|g| row.goals.contains(&g.code)) {
            goal.by_year.iter_mut().zip(&line.by_year).for_each(|(total, cost)| *total += cost);
            goal.proposals.push(line.clone());
            placed = true;
        }
        if !placed {
            no_goal.by_year.iter_mut().zip(&line.by_year).for_each(|(total, cost)| *total += cost);
            no_goal.proposals.push(line);
        }
    }
    goals.retain(|g| !g.proposals.is_empty());
    if !no_goal.proposals.is_empty() {
        goals.push(no_goal);
    }
    Ok(Json(MultiYearPlan { years, goals }))
}
