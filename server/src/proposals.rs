//! A PPA proposal on the server's side: what it must hold before BPDA receives it
//! ([`check_complete`], checked against the development plan and the list of places: each
//! missing or wrong part is refused with the field it is about and a sentence that says
//! what to do), BPDA's decisions written into the proposing organization's documents
//! ([`settle_decisions`]), and the milestones its stored content names
//! ([`named_milestones`]).

use automerge::AutoCommit;
use bmms_shared::api::{Bdp, Milestone};
use bmms_shared::records::ppa::MILESTONE_SLOTS;
use bmms_shared::plans::proposal;
use bmms_shared::records::{get_field, FieldValue, RecordKind};
use bmms_shared::{DocId, UserId};

use crate::db::OrgTx;
use crate::error::ApiError;
use bmms_shared::psgc;
use crate::sync::{desk_edit, store};

const KIND: RecordKind = RecordKind::PpaProposal;

fn filled(doc: &AutoCommit, field: &str) -> Option<FieldValue> {
    match get_field(doc, KIND, field)? {
        FieldValue::Text(text) if text.trim().is_empty() => None,
        FieldValue::TextList(items) if items.is_empty() => None,
        value => Some(value),
    }
}

fn missing(field: &str, what: &str) -> ApiError {
    ApiError::invalid_field(field, format!("Give the proposal {what} before submitting it."))
}

/// Refuses a proposal that BPDA could not review as it stands, naming the first part to
/// complete or correct.
pub fn check_complete(doc: &AutoCommit, bdp: &Bdp) -> Result<(), ApiError> {
    for (field, what) in [
        ("title", "a title"),
        ("ppa_type", "a type (program, project or activity)"),
        ("sector", "a sector (social, economic or general public services)"),
        ("description", "a description"),
    ] {
        filled(doc, field).ok_or_else(|| missing(field, what))?;
    }
    let outline = proposal::outline_of(doc);
    if outline.goals.is_empty() {
        return Err(missing("goals", "the BDP goals it serves"));
    }
    for goal in &outline.goals {
        if !bdp.goals.iter().any(|g| &g.code == goal) {
            return Err(ApiError::invalid_field("goals", format!("{goal} is not a goal of the development plan; choose among its goals.")));
        }
    }
    if outline.indicators.is_empty() {
        return Err(missing("indicators", "at least one outcome indicator it will move"));
    }
    for (code, contribution) in &outline.indicators {
        let Some(goal) = bdp.goals.iter().find(|g| g.indicators.iter().any(|i| &i.code == code)) else {
            return Err(ApiError::invalid_field("indicators", format!("{code} is not an indicator of the development plan; choose one of its goals' indicators.")));
        };
        if !outline.goals.contains(&goal.code) {
            return Err(ApiError::invalid_field("indicators", format!("{code} is an indicator of goal {}, which the proposal does not name.", goal.code)));
        }
        if *contribution <= 0.0 {
            return Err(ApiError::invalid_field("indicators", format!("Say what the proposal contributes to {code} (more than 0).")));
        }
    }
    if outline.places.is_empty() {
        return Err(missing("places", "its places (PSGC codes)"));
    }
    if let Some(unknown) = outline.places.iter().find(|code| psgc::name_of(code).is_none()) {
        return Err(ApiError::invalid_field("places", format!("No place of BARMM has the PSGC code \"{unknown}\"; correct it or remove it.")));
    }
    if outline.beneficiaries <= 0 {
        return Err(missing("beneficiaries", "the number of its beneficiaries"));
    }
    let date = |field: &str| match filled(doc, field) {
        Some(FieldValue::Date(day)) => Ok(day),
        _ => Err(missing(field, if field == "start_date" { "a start date" } else { "an end date" })),
    };
    let (start, end) = (date("start_date")?, date("end_date")?);
    if end < start {
        return Err(ApiError::invalid_field("end_date", "The proposal ends before it starts."));
    }
    if proposal::cost_by_year(doc).is_empty() {
        return Err(missing("cost", "its cost by fiscal year, quarter and expense class"));
    }
    Ok(())
}

/// Writes BPDA's decisions into this organization's proposals that BPDA has decided on
/// but that still say "submitted": the status becomes `returned` or `certified`, as a
/// change by the planner who decided, so it reaches every device at its next sync and a
/// returned proposal can be edited again. BPDA's decision is its own row (it writes
/// nothing of another organization's); this follow-up runs in the proposing
/// organization's own transaction, at each of its syncs and when its staff look at a
/// proposal's standing, and does nothing the second time. Returns how many it settled.
pub async fn settle_decisions(tx: &mut OrgTx) -> Result<usize, ApiError> {
    let decided: Vec<(DocId, String, UserId)> = sqlx::query_as(
        "select p.id, d.decision, d.decided_by
         from ppa_proposals p
         join ppa_submissions s on s.org_id = p.org_id and s.proposal_id = p.id
         join ppa_decisions d on d.submission_id = s.id
         where p.org_id = $1 and p.status = 'submitted'
           and s.version = (select max(l.version) from ppa_submissions l where l.proposal_id = p.id)",
    )
    .bind(tx.org_id())
    .fetch_all(&mut **tx)
    .await?;
    let mut settled = 0;
    for (id, decision, decided_by) in decided {
        let Some(stored) = store::load_document_for_update(tx, id).await? else { continue };
        // Another exchange may have settled it while this one waited for the lock.
        if !matches!(get_field(&stored.doc, KIND, "status"), Some(FieldValue::Choice(s)) if s == "submitted") {
            continue;
        }
        let write = Box::new(move |doc: &mut AutoCommit| desk_edit::set_fields(doc, vec![("status", FieldValue::Choice(decision))]));
        desk_edit::write_stored(tx, id, stored, decided_by, write).await?;
        sqlx::query("update ppa_proposals set settled_heads = heads where org_id = $1 and id = $2").bind(tx.org_id()).bind(id).execute(&mut **tx).await?;
        settled += 1;
    }
    Ok(settled)
}

/// The milestones a proposal's content names (a title or a due date), as it says them:
/// done when it says so, checked by no task, not overdue.
pub fn named_milestones(content: &serde_json::Value) -> Vec<Milestone> {
    let text = |key: String| content.get(&key).and_then(|v| v.as_str()).map(str::to_owned);
    (1..=MILESTONE_SLOTS as u32)
        .filter_map(|n| {
            let (title, due) = (text(format!("milestone.{n}.title")), text(format!("milestone.{n}.due")));
            (title.is_some() || due.is_some()).then(|| Milestone {
                n,
                title,
                due,
                done_on: text(format!("milestone.{n}.done_on")),
                checked_by: None,
                overdue: false,
            })
        })
        .collect()
}
