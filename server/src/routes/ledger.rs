//! The execution of an enacted budget (migrations/0028), online only:
//! - MFBM releases an allotment for a quarter, to an organization, for one PPA and class
//!   of the budget it submitted to Parliament, up to what that budget appropriates;
//! - the organization records obligations against its allotments and disbursements
//!   against its obligations, and corrects one by reversing it.
//!
//! Each entry is written in one statement that locks its allotment's balance and takes
//! it only within the balance's limits; one that would cross them is told, with the
//! figures, what would be crossed. The balance's checks in PostgreSQL hold the limits
//! whatever happens here.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::api::{Allotment, Items, LedgerEntry, LedgerLine, LedgerQuery, RecordEntry, ReleaseAllotment, ReverseEntry};
use bmms_shared::plans::proposal::pesos;
use bmms_shared::{policy, DocId, OrgId};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::budget::CLASSES;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::budget_reviews::YearQuery;
use crate::routes::extract::{ApiJson, ApiPath, ApiQuery};
use crate::wire::timestamp;

#[derive(sqlx::FromRow)]
struct AllotmentRow {
    id: Uuid,
    fiscal_year: i32,
    quarter: i16,
    code: String,
    proposal_id: DocId,
    class: String,
    reference: String,
    released_at: DateTime<Utc>,
    allotted: i64,
    obligated: i64,
    disbursed: i64,
}

impl From<AllotmentRow> for Allotment {
    fn from(r: AllotmentRow) -> Self {
        Allotment {
            id: r.id,
            fiscal_year: r.fiscal_year,
            quarter: r.quarter,
            organization_code: r.code,
            proposal_id: r.proposal_id,
            class: r.class,
            reference: r.reference,
            released_at: timestamp(r.released_at),
            allotted: r.allotted,
            obligated: r.obligated,
            disbursed: r.disbursed,
        }
    }
}

const ALLOTMENTS: &str = "select a.id, a.fiscal_year, a.quarter, o.code, a.proposal_id, a.class, a.reference, a.released_at,
        b.allotted, b.obligated, b.disbursed
    from allotments a join organizations o on o.id = a.moa_id join ledger_balances b on b.allotment_id = a.id";

fn check_reference(reference: &str) -> Result<String, ApiError> {
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().count() > 60 {
        return Err(ApiError::invalid_field("reference", "Give the document's number, up to 60 characters."));
    }
    Ok(reference.to_owned())
}

/// `GET /api/v1/allotments?year=`: the year's allotments with their balances: the
/// organization's own, or every one for MFBM and OCM.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<YearQuery>) -> Result<Json<Items<Allotment>>, ApiError> {
    let caller = signed_in.require_member()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<AllotmentRow> = sqlx::query_as(&format!("{ALLOTMENTS} where a.fiscal_year = $1 order by o.code, a.quarter, a.released_at"))
        .bind(query.year)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(Items { items: rows.into_iter().map(Allotment::from).collect() }))
}

/// `GET /api/v1/ledger?allotment_id=`: an allotment's entries, oldest first, as the caller
/// may read them (the organization's own; MFBM and OCM every organization's).
pub async fn entries(State(state): State<AppState>, signed_in: SignedIn, ApiQuery(query): ApiQuery<LedgerQuery>) -> Result<Json<Items<LedgerLine>>, ApiError> {
    let caller = signed_in.require_member()?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<(i64, String, i64, String, Option<i64>, Option<String>, bool, String, DateTime<Utc>)> = sqlx::query_as(
        "select e.id, e.kind, e.amount, e.reference, e.reverses, e.reason,
                exists (select 1 from ledger_entries r where r.reverses = e.id), u.display_name, e.recorded_at
         from ledger_entries e join users u on u.id = e.recorded_by where e.allotment_id = $1 order by e.id",
    )
    .bind(query.allotment_id)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(|(id, kind, amount, reference, reverses, reason, reversed, recorded_by, at)| LedgerLine {
            id,
            kind,
            amount,
            reference,
            reverses,
            reason,
            reversed,
            recorded_by,
            recorded_at: timestamp(at),
        })
        .collect();
    Ok(Json(Items { items }))
}

/// `POST /api/v1/allotments`: MFBM releases an allotment of the enacted budget.
pub async fn release(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<ReleaseAllotment>, ApiError>) -> Result<(StatusCode, Json<Allotment>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_release_allotments)?;
    let ApiJson(release) = body?;
    let reference = check_reference(&release.reference)?;
    if !(1..=4).contains(&release.quarter) {
        return Err(ApiError::invalid_field("quarter", "Choose a quarter from 1 to 4."));
    }
    if !CLASSES.contains(&release.class.as_str()) {
        return Err(ApiError::invalid_field("class", "Choose the expense class: ps, mooe or co."));
    }
    if release.amount <= 0 {
        return Err(ApiError::invalid_field("amount", "Release more than 0 centavos."));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let moa: Option<OrgId> = sqlx::query_scalar("select id from organizations where code = $1 and kind = 'moa'")
        .bind(release.organization_code.trim())
        .fetch_optional(&mut *tx)
        .await?;
    let moa = moa.ok_or_else(|| ApiError::invalid_field("organization_code", format!("There is no ministry, office or agency {}.", release.organization_code)))?;
    // One release at a time per PPA and class, so that two cannot both fit the appropriation.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("allotment:{}:{}:{}", release.fiscal_year, release.proposal_id, release.class))
        .execute(&mut *tx)
        .await?;
    // What the budget submitted to Parliament appropriates for this PPA and class.
    let appropriated: Option<i64> = sqlx::query_scalar(
        "select sum(l.amount)::int8 from budget_parliament_submissions p
         join budget_proposals b on b.id = any(p.proposals) and b.org_id = $2
         join budget_lines l on l.budget_proposal_id = b.id and l.proposal_id = $3 and l.class = $4
         where p.fiscal_year = $1",
    )
    .bind(release.fiscal_year)
    .bind(moa)
    .bind(release.proposal_id)
    .bind(&release.class)
    .fetch_one(&mut *tx)
    .await?;
    let Some(appropriated) = appropriated.filter(|a| *a > 0) else {
        let message = format!("This PPA and class are not in {}'s budget for {} as submitted to Parliament: allotments follow the enacted budget.", release.organization_code, release.fiscal_year);
        return Err(ApiError::client(StatusCode::CONFLICT, "not_appropriated", message));
    };
    let released: i64 = sqlx::query_scalar("select coalesce(sum(amount), 0)::int8 from allotments where fiscal_year = $1 and proposal_id = $2 and class = $3")
        .bind(release.fiscal_year)
        .bind(release.proposal_id)
        .bind(&release.class)
        .fetch_one(&mut *tx)
        .await?;
    if released + release.amount > appropriated {
        let message = format!(
            "{} is released already of the {} appropriated; release at most {}.",
            pesos(released),
            pesos(appropriated),
            pesos(appropriated - released)
        );
        return Err(ApiError::invalid_field("amount", message));
    }
    let id: Uuid = sqlx::query_scalar(
        "insert into allotments (org_id, fiscal_year, quarter, moa_id, proposal_id, class, amount, reference, released_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(tx.org_id())
    .bind(release.fiscal_year)
    .bind(release.quarter)
    .bind(moa)
    .bind(release.proposal_id)
    .bind(&release.class)
    .bind(release.amount)
    .bind(&reference)
    .bind(caller.user_id)
    .fetch_one(&mut *tx)
    .await?;
    let details = json!({"allotment": id, "fiscal_year": release.fiscal_year, "quarter": release.quarter, "organization": release.organization_code,
                         "ppa": release.proposal_id, "class": release.class, "amount": release.amount, "reference": reference});
    audit::append(&mut tx, Event { actor: &caller.actor(), action: "allotment.release", subject: format!("allotment:{id}"), details }).await?;
    let row: AllotmentRow = sqlx::query_as(&format!("{ALLOTMENTS} where a.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Writes a ledger entry in one statement: locks the organization's allotment's balance
/// and its audit chain, and inserts the entry if it keeps within the balance's limits
/// (the checks the balance's constraints make, migrations/0028, so that an entry beyond
/// them is not written rather than failing the transaction); answers the allotment with
/// its balance before, the chain's head, and the entry if written. Entries on one
/// allotment, and every audited write of the organization, wait on these locks until
/// commit, so all that follows them is the audit entry and the commit.
/// `$1` allotment, `$2` organization, `$3` kind, `$4` amount, `$5` reference,
/// `$6` the entry reversed, `$7` the reason, `$8` who.
fn write_entry_statement() -> String {
    format!(
        "with locked as ({ALLOTMENTS} where a.id = $1 and b.org_id = $2 for update of b),
         moved as (
             select allotted, obligated + case when $3 = 'obligation' then $4::int8 else 0 end as obligated,
                    disbursed + case when $3 = 'disbursement' then $4::int8 else 0 end as disbursed
             from locked
         ),
         head as (select seq, hash from audit_chain_head($2)),
         entry as (
             insert into ledger_entries (org_id, allotment_id, kind, amount, reference, reverses, reason, recorded_by)
             select $2, $1, $3, $4, $5, $6, $7, $8 from moved
             where 0 <= disbursed and disbursed <= obligated and obligated <= allotted
             returning id, recorded_at
         )
         select locked.*, head.seq, head.hash, entry.id as entry_id, entry.recorded_at
         from locked cross join head left join entry on true"
    )
}

#[derive(sqlx::FromRow)]
struct Written {
    #[sqlx(flatten)]
    allotment: AllotmentRow,
    seq: Option<i64>,
    hash: Option<Vec<u8>>,
    entry_id: Option<i64>,
    recorded_at: Option<DateTime<Utc>>,
}

fn within_limits(kind: &str, amount: i64, balance: &AllotmentRow) -> Result<(), ApiError> {
    let (allotted, obligated, disbursed) = (balance.allotted, balance.obligated, balance.disbursed);
    let (new_obligated, new_disbursed) = if kind == "obligation" { (obligated + amount, disbursed) } else { (obligated, disbursed + amount) };
    if new_obligated > allotted {
        let message = format!("Obligations would come to {} against an allotment of {}; obligate at most {}.", pesos(new_obligated), pesos(allotted), pesos(allotted - obligated));
        return Err(ApiError::unprocessable("over_allotment", message));
    }
    if new_disbursed > new_obligated {
        let message = if kind == "obligation" {
            format!("{} is disbursed against these obligations; reverse disbursements first.", pesos(disbursed))
        } else {
            format!("Disbursements would come to {} against obligations of {}; disburse at most {}.", pesos(new_disbursed), pesos(obligated), pesos(obligated - disbursed))
        };
        return Err(ApiError::unprocessable("over_obligation", message));
    }
    if new_disbursed < 0 || new_obligated < 0 {
        return Err(ApiError::unprocessable("below_zero", "That would take the ledger below zero."));
    }
    Ok(())
}

/// Writes an entry (a reversal when `reverses`) on the organization's `allotment`, and
/// answers it with the balance after; an entry beyond the balance's limits is refused
/// with the figures, and nothing is written.
async fn write_entry(tx: &mut OrgTx, caller: &crate::auth::Caller, allotment: Uuid, kind: &str, amount: i64, reference: &str, reverses: Option<(i64, &str)>) -> Result<LedgerEntry, ApiError> {
    let written: Option<Written> = sqlx::query_as(&write_entry_statement())
        .bind(allotment)
        .bind(tx.org_id())
        .bind(kind)
        .bind(amount)
        .bind(reference)
        .bind(reverses.map(|(id, _)| id))
        .bind(reverses.map(|(_, reason)| reason))
        .bind(caller.user_id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|err| ApiError::unless_unique(err, already_reversed))?;
    let Written { mut allotment, seq, hash, entry_id, recorded_at } = written.ok_or_else(|| ApiError::not_found("Your organization has no such allotment."))?;
    let (Some(id), Some(at)) = (entry_id, recorded_at) else {
        within_limits(kind, amount, &allotment)?;
        return Err(ApiError::Internal(anyhow::anyhow!("a ledger entry within its limits was not written")));
    };
    let action = if reverses.is_some() { "ledger.reverse" } else { "ledger.record" };
    let details = json!({"entry": id, "allotment": allotment.id, "kind": kind, "amount": amount, "reference": reference, "reverses": reverses.map(|(id, _)| id)});
    let event = Event { actor: &caller.actor(), action, subject: format!("allotment:{}", allotment.id), details };
    audit::append_after(tx, audit::ChainHead::new(seq, hash), event).await?;
    // The entry's trigger moved the balance by exactly this, under the lock.
    if kind == "obligation" {
        allotment.obligated += amount;
    } else {
        allotment.disbursed += amount;
    }
    Ok(LedgerEntry {
        id,
        allotment_id: allotment.id,
        kind: kind.to_owned(),
        amount,
        reference: reference.to_owned(),
        reverses: reverses.map(|(id, _)| id),
        reason: reverses.map(|(_, reason)| reason.to_owned()),
        recorded_at: timestamp(at),
        balance: allotment.into(),
    })
}

fn already_reversed() -> ApiError {
    ApiError::client(StatusCode::CONFLICT, "already_reversed", "This entry is reversed already.")
}

/// `POST /api/v1/ledger`: an obligation or a disbursement against an allotment.
pub async fn record(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<RecordEntry>, ApiError>) -> Result<(StatusCode, Json<LedgerEntry>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_record_ledger)?;
    let ApiJson(entry) = body?;
    if !matches!(entry.kind.as_str(), "obligation" | "disbursement") {
        return Err(ApiError::invalid_field("kind", "Record an obligation or a disbursement."));
    }
    if entry.amount <= 0 {
        return Err(ApiError::invalid_field("amount", "Record more than 0 centavos; correct an entry by reversing it."));
    }
    let reference = check_reference(&entry.reference)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let written = write_entry(&mut tx, &caller, entry.allotment_id, &entry.kind, entry.amount, &reference, None).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(written)))
}

/// `POST /api/v1/ledger/{id}/reverse`: the entry's reversal, once.
pub async fn reverse(State(state): State<AppState>, signed_in: SignedIn, ApiPath(id): ApiPath<i64>, body: Result<ApiJson<ReverseEntry>, ApiError>) -> Result<(StatusCode, Json<LedgerEntry>), ApiError> {
    let caller = signed_in.require_allowed(policy::may_record_ledger)?;
    let ApiJson(ReverseEntry { reason }) = body?;
    let reason = reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 2000 {
        return Err(ApiError::invalid_field("reason", "Say why the entry is reversed, up to 2,000 characters."));
    }
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let original: Option<(Uuid, String, i64, String, bool)> = sqlx::query_as(
        "select e.allotment_id, e.kind, e.amount, e.reference, exists (select 1 from ledger_entries r where r.reverses = e.id)
         from ledger_entries e where e.id = $1 and e.org_id = $2 and e.reverses is null",
    )
    .bind(id)
    .bind(tx.org_id())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((allotment, kind, amount, reference, reversed)) = original else {
        return Err(ApiError::not_found("Your organization has no such entry to reverse (a reversal is not reversed)."));
    };
    if reversed {
        return Err(already_reversed());
    }
    // Another reversal of it that commits first makes this one's insert a unique
    // violation, answered the same.
    let written = write_entry(&mut tx, &caller, allotment, &kind, -amount, &reference, Some((id, &reason))).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(written)))
}
