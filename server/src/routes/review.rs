//! BPDA's review of a submitted proposal. A planner opens a submission (its fields and
//! score as submitted), may set a score component by hand with a reason, then certifies
//! it (80.00 or more: a certificate signed with BPDA's key, bound to the proposal's id and
//! heads) or sends it back with reasons. Each submitted version is decided once. The
//! adjustments and decisions are BPDA's rows (migrations/0014); the proposing
//! organization reads those of its proposals, and its documents take the decision at its
//! next sync (`proposals::settle_decisions`). The certifications' list and their public
//! check are `routes/certifications.rs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{Adjustment, AdjustmentInput, Decision, ReturnInput, Standing, SubmissionReview};
use bmms_shared::plans::certificate::Certificate;
use bmms_shared::plans::score::{shown, CERTIFIABLE_AT, FULL};
use bmms_shared::plans::{Component, ComponentName, Score};
use bmms_shared::{policy, DocId, OrgId};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Caller, SignedIn};
use crate::certification::HOLDS;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::proposals::settle_decisions;
use crate::routes::proposals::no_such_proposal;
use crate::routes::extract::{ApiJson, ApiPath};
use crate::wire::timestamp;

/// The longest reason or list of reasons kept.
const MAX_REASON_CHARS: usize = 4_000;

fn no_such_submission() -> ApiError {
    ApiError::not_found("There is no such submitted proposal.")
}

#[derive(sqlx::FromRow)]
struct SubmissionRow {
    id: Uuid,
    org_id: Uuid,
    proposal_id: DocId,
    version: i32,
    heads: Vec<String>,
    code: String,
    name: String,
    content: serde_json::Value,
    score: i32,
    components: sqlx::types::Json<Vec<Component>>,
    total_cost: i64,
    submitted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct AdjustmentRow {
    component: sqlx::types::Json<ComponentName>,
    from_value: i32,
    to_value: i32,
    reason: String,
    display_name: String,
    adjusted_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    decision: String,
    reasons: String,
    display_name: String,
    decided_at: DateTime<Utc>,
    certificate: Option<sqlx::types::Json<Certificate>>,
    holds: Option<bool>,
}

/// A submission as read by whoever may (RLS decides: BPDA, MFBM, the proposing
/// organization), with the heads it was submitted at and the organization's id.
struct Loaded {
    review: SubmissionReview,
    org_id: OrgId,
    heads: Vec<String>,
}

async fn load(tx: &mut OrgTx, submission_id: Uuid) -> Result<Option<Loaded>, ApiError> {
    let row: Option<SubmissionRow> = sqlx::query_as(
        "select s.id, s.org_id, s.proposal_id, s.version, s.heads, o.code, o.name, c.content, s.score, c.components,
                s.total_cost, s.submitted_at
         from ppa_submissions s join organizations o on o.id = s.org_id
         join ppa_submission_contents c on c.submission_id = s.id
         where s.id = $1",
    )
    .bind(submission_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let adjustments: Vec<AdjustmentRow> = sqlx::query_as(
        "select to_jsonb(a.component) as component, a.from_value, a.to_value, a.reason, u.display_name, a.adjusted_at
         from ppa_adjustments a join users u on u.id = a.adjusted_by
         where a.submission_id = $1 order by a.adjusted_at, a.id",
    )
    .bind(submission_id)
    .fetch_all(&mut **tx)
    .await?;
    let decision: Option<DecisionRow> = sqlx::query_as(&format!(
        "select d.decision, d.reasons, u.display_name, d.decided_at, d.certificate,
                case when d.decision = 'certified' then {HOLDS} end as holds
         from ppa_decisions d join ppa_submissions s on s.id = d.submission_id join users u on u.id = d.decided_by
         where d.submission_id = $1"
    ))
    .bind(submission_id)
    .fetch_optional(&mut **tx)
    .await?;

    let mut score = Score::of(row.components.0);
    for a in &adjustments {
        let explanation = format!("Set by BPDA from {} to {}: {}", shown(a.from_value as u32), shown(a.to_value as u32), a.reason);
        score = score.adjusted(a.component.0, a.to_value as u32, explanation);
    }
    let review = SubmissionReview {
        submission_id: row.id,
        proposal_id: row.proposal_id,
        version: row.version,
        organization_code: row.code,
        organization_name: row.name,
        content: row.content,
        score,
        computed_total: row.score.max(0) as u32,
        adjustments: adjustments
            .into_iter()
            .map(|a| Adjustment {
                component: a.component.0,
                from: a.from_value as u32,
                to: a.to_value as u32,
                reason: a.reason,
                adjusted_by: a.display_name,
                adjusted_at: timestamp(a.adjusted_at),
            })
            .collect(),
        total_cost: row.total_cost,
        submitted_at: timestamp(row.submitted_at),
        decision: decision.map(|d| Decision {
            decision: d.decision,
            reasons: d.reasons,
            decided_by: d.display_name,
            decided_at: timestamp(d.decided_at),
            certificate: d.certificate.map(|c| c.0),
            current: d.holds.unwrap_or(false),
        }),
    };
    Ok(Some(Loaded { review, org_id: row.org_id.into(), heads: row.heads }))
}

/// The submission, not yet decided, for BPDA to act on; 409 once it is.
async fn undecided(tx: &mut OrgTx, submission_id: Uuid) -> Result<Loaded, ApiError> {
    let loaded = load(tx, submission_id).await?.ok_or_else(no_such_submission)?;
    if let Some(decision) = &loaded.review.decision {
        let day = decision.decided_at.get(..10).unwrap_or_default();
        let message = match decision.decision.as_str() {
            "certified" => format!(
                "BPDA already certified version {} of this proposal on {day}; a version is certified once.",
                loaded.review.version
            ),
            _ => format!(
                "BPDA already sent version {} of this proposal back on {day}; its organization submits a revised version.",
                loaded.review.version
            ),
        };
        return Err(ApiError::client(StatusCode::CONFLICT, "already_decided", message));
    }
    Ok(loaded)
}

fn checked_reason(text: &str, code: &'static str, missing: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::unprocessable(code, missing));
    }
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::unprocessable(code, format!("Keep it to {MAX_REASON_CHARS} characters.")));
    }
    Ok(text.to_owned())
}

async fn audited(tx: &mut OrgTx, caller: &Caller, action: &'static str, submission_id: Uuid, details: serde_json::Value) -> Result<(), ApiError> {
    audit::append(tx, Event { actor: &caller.actor(), action, subject: format!("ppa_submission:{submission_id}"), details }).await?;
    Ok(())
}

/// `GET /api/v1/submissions/{id}`: a submitted version, its score now and BPDA's decision.
pub async fn show(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<Json<SubmissionReview>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_read_submissions)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let loaded = load(&mut tx, id).await?.ok_or_else(no_such_submission)?;
    tx.commit().await?;
    Ok(Json(loaded.review))
}

/// `POST /api/v1/submissions/{id}/adjustments`: a planner sets one component by hand,
/// with the reason; the score is computed again.
pub async fn adjust(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<AdjustmentInput>, ApiError>,
) -> Result<Json<SubmissionReview>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_review_proposals)?;
    let ApiJson(input) = body?;
    if input.value > FULL {
        return Err(ApiError::invalid_field("value", format!("A component is at most {} (full); give a value from 0 to 10000 hundredths.", shown(FULL))));
    }
    let reason = checked_reason(&input.reason, "reason_required", "Say why you adjust the component: the reason is kept with the score and shown to the organization.")?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let loaded = undecided(&mut tx, id).await?;
    let from = loaded.review.score.component(input.component).map_or(0, |c| c.value);
    sqlx::query(
        "insert into ppa_adjustments (org_id, submission_id, proposal_org_id, component, from_value, to_value, reason, adjusted_by)
         values ($1, $2, $3, $4 #>> '{}', $5, $6, $7, $8)",
    )
    .bind(tx.org_id())
    .bind(id)
    .bind(loaded.org_id)
    .bind(sqlx::types::Json(input.component))
    .bind(from as i32)
    .bind(input.value as i32)
    .bind(&reason)
    .bind(caller.user_id)
    .execute(&mut *tx)
    .await?;
    audited(&mut tx, &caller, "proposal.adjust", id, json!({"component": input.component, "from": from, "to": input.value, "reason": reason})).await?;
    let loaded = load(&mut tx, id).await?.ok_or_else(no_such_submission)?;
    tx.commit().await?;
    Ok(Json(loaded.review))
}

/// Records BPDA's decision on `loaded`, audits it and tells the proposing organization.
async fn decide(
    state: &AppState,
    mut tx: OrgTx,
    caller: &Caller,
    loaded: Loaded,
    decision: &str,
    reasons: &str,
    certificate: Option<Certificate>,
    decided_at: DateTime<Utc>,
) -> Result<SubmissionReview, ApiError> {
    let id = certificate.as_ref().map_or_else(Uuid::new_v4, |c| c.certification_id);
    let review = &loaded.review;
    let inserted = sqlx::query(
        "insert into ppa_decisions (org_id, id, submission_id, proposal_org_id, proposal_id, decision, reasons, score,
                                    components, certificate, key_id, decided_by, decided_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(tx.org_id())
    .bind(id)
    .bind(review.submission_id)
    .bind(loaded.org_id)
    .bind(review.proposal_id)
    .bind(decision)
    .bind(reasons)
    .bind(review.score.total as i32)
    .bind(sqlx::types::Json(&review.score.components))
    .bind(certificate.as_ref().map(sqlx::types::Json))
    .bind(certificate.as_ref().map(|c| c.key_id.clone()))
    .bind(caller.user_id)
    .bind(decided_at)
    .execute(&mut *tx)
    .await;
    if let Err(sqlx::Error::Database(err)) = &inserted {
        if err.is_unique_violation() {
            // Another planner decided this version a moment ago.
            return Err(ApiError::client(StatusCode::CONFLICT, "already_decided", "BPDA has just decided this version; reload it to see how."));
        }
    }
    inserted?;
    let details = json!({"decision": id, "proposal": review.proposal_id, "version": review.version, "score": review.score.total, "reasons": reasons});
    audited(&mut tx, caller, if decision == "certified" { "proposal.certify" } else { "proposal.return" }, review.submission_id, details).await?;
    let decided = load(&mut tx, review.submission_id).await?.ok_or_else(no_such_submission)?;
    let reviewers: Vec<OrgId> = sqlx::query_scalar("select id from organizations where kind in ('bpda', 'mfbm')").fetch_all(&mut *tx).await?;
    tx.commit().await?;
    // The proposing organization's apps sync (and take the decision); BPDA's and MFBM's
    // screens of proposals refresh.
    for org_id in reviewers.into_iter().chain([loaded.org_id]) {
        state.events.announce(org_id, Topic::Records);
    }
    Ok(decided.review)
}

/// `POST /api/v1/submissions/{id}/return`: BPDA sends the version back with reasons; the
/// organization can edit the proposal again and submit a revised version.
pub async fn send_back(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<ReturnInput>, ApiError>,
) -> Result<Json<SubmissionReview>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_review_proposals)?;
    let ApiJson(input) = body?;
    let reasons = checked_reason(&input.reasons, "reasons_required", "Say what the organization should revise: the reasons go back with the proposal.")?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let loaded = undecided(&mut tx, id).await?;
    let review = decide(&state, tx, &caller, loaded, "returned", &reasons, None, Utc::now()).await?;
    Ok(Json(review))
}

/// `POST /api/v1/submissions/{id}/certify`: BPDA certifies the version at its score now
/// (80.00 or more), signing a certificate bound to the proposal's id and heads.
pub async fn certify(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<Uuid>) -> Result<(StatusCode, Json<SubmissionReview>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_review_proposals)?;
    signed_in.require_fresh_second_factor(&state).await?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let loaded = undecided(&mut tx, id).await?;
    let review = &loaded.review;
    if review.score.total < CERTIFIABLE_AT {
        return Err(ApiError::unprocessable(
            "below_threshold",
            format!(
                "Its score is {}; BPDA certifies at {} or more. Adjust a component (with your reason) or send the proposal back.",
                shown(review.score.total),
                shown(CERTIFIABLE_AT)
            ),
        ));
    }
    let signer = &state.settings.certification_key;
    signer.register(&mut tx).await?;
    // Whole seconds: the time as signed is the time as stored, to the digit.
    let certified_at = Utc::now().trunc_subsecs(0);
    let mut heads = loaded.heads.clone();
    heads.sort();
    let mut certificate = Certificate {
        certification_id: Uuid::new_v4(),
        proposal_id: review.proposal_id,
        organization_code: review.organization_code.clone(),
        title: review.content.get("title").and_then(|t| t.as_str()).unwrap_or_default().to_owned(),
        version: review.version,
        heads,
        score: review.score.total,
        total_cost: review.total_cost,
        certified_at: timestamp(certified_at),
        key_id: String::new(),
        signature: String::new(),
    };
    signer.sign(&mut certificate);
    let review = decide(&state, tx, &caller, loaded, "certified", "", Some(certificate), certified_at).await?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// `GET /api/v1/proposals/{id}/standing`: the organization's proposal with BPDA: its
/// latest submission and BPDA's decision, the certificate included. Writes a decision
/// not yet written into the proposal first.
pub async fn standing(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<DocId>) -> Result<Json<Standing>, ApiError> {
    let caller = signed_in.require_desk()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let exists: bool = sqlx::query_scalar("select exists (select 1 from ppa_proposals where org_id = $1 and id = $2)")
        .bind(tx.org_id())
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if !exists {
        return Err(no_such_proposal());
    }
    let settled = settle_decisions(&mut tx).await?;
    let latest: Option<Uuid> = sqlx::query_scalar("select id from ppa_submissions where org_id = $1 and proposal_id = $2 order by version desc limit 1")
        .bind(tx.org_id())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let submission = match latest {
        Some(submission_id) => load(&mut tx, submission_id).await?.map(|l| l.review),
        None => None,
    };
    tx.commit().await?;
    if settled > 0 {
        state.events.announce(caller.org_id, Topic::Records);
    }
    Ok(Json(Standing { submission }))
}
