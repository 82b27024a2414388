//! BPDA's certifications once issued: MFBM (which budgets them) and BPDA list them, and
//! anyone holding a certificate checks it, without an account
//! (`crate::certification::verify`; the same as `bmms verify-certification`).

use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::Json;
use bmms_shared::api::{Certified, Items};
use bmms_shared::plans::certificate::{Certificate, Verdict};
use bmms_shared::policy;
use std::net::SocketAddr;

use crate::app::AppState;
use crate::auth::SignedIn;
use crate::certification::{self, HOLDS};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::routes::auth::client_address;
use crate::routes::extract::ApiJson;

#[derive(sqlx::FromRow)]
struct CertifiedRow {
    certificate: sqlx::types::Json<Certificate>,
    name: String,
    holds: bool,
}

/// `GET /api/v1/certifications`: every certification, newest first (at most 500), for
/// MFBM, which budgets them, and BPDA.
pub async fn list(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Items<Certified>>, ApiError> {
    let caller = signed_in.require_allowed(policy::may_read_submissions)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<CertifiedRow> = sqlx::query_as(&format!(
        "select d.certificate, o.name, {HOLDS} as holds
         from ppa_decisions d join ppa_submissions s on s.id = d.submission_id
         join organizations o on o.id = d.proposal_org_id
         where d.decision = 'certified' order by d.decided_at desc, d.id limit 500"
    ))
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = rows.into_iter().map(|r| Certified { certificate: r.certificate.0, organization_name: r.name, current: r.holds }).collect();
    Ok(Json(Items { items }))
}

/// `POST /api/v1/certifications/verify`: anyone checks a certificate (no session): the
/// signature, BMMS's record of it, and whether the proposal changed since. Limited per
/// client address, as it reads the database for anyone.
pub async fn verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<ApiJson<Certificate>, ApiError>,
) -> Result<Json<Verdict>, ApiError> {
    state.verify_limiter.check(client_address(&state, peer, &headers)).map_err(|retry_after| ApiError::TooManyRequests {
        code: "too_many_checks",
        message: "Too many certificate checks from this address; wait a moment.",
        retry_after,
    })?;
    let ApiJson(certificate) = body?;
    Ok(Json(certification::verify(&state.db, &certificate).await?))
}
