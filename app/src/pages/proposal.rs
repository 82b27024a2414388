//! A PPA proposal's own parts of its record form: the alignment score it would get now
//! against the development plan (computed on the device, by the same code as the
//! server's), submitting it to BPDA, and where it stands with BPDA (its decision and
//! certificate, which BPDA's and MFBM's screens show the same way).

use bmms_shared::api::{Decision, Standing};
use bmms_shared::plans::certificate::Certificate;
use bmms_shared::plans::proposal::{outline_of, pesos};
use bmms_shared::plans::score::shown;
use bmms_shared::plans;
use bmms_shared::records::{self, FieldValue};
use bmms_shared::sync::client::RecordSyncState;
use bmms_shared::{policy, DocId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::form::current;
use super::plan_pickers::KnownPlan;
use crate::browser;
use crate::device::{self, Status};
use crate::text::{t, when};

/// The score the proposal would get now, component by component, with what would raise
/// each, against the development plan as the device knows it ([`KnownPlan`]).
#[component]
pub fn ScorePreview(id: DocId) -> impl IntoView {
    let status = expect_context::<Status>();
    let KnownPlan(plan) = expect_context();
    let framework = Memo::new(move |_| plan.with(|plan| plan.as_ref().map(|bdp| bdp.for_scoring())));
    let score = Memo::new(move |_| {
        status.revision.track();
        let framework = framework.get()?;
        device::read(|client| client.documents().get(&id).map(|local| plans::score(&framework, &outline_of(local.doc())))).flatten()
    });
    view! {
        <section class="score-preview" id="score-preview">
            {move || match score.get() {
                None => view! { <p>{t().score_needs_connection}</p> }.into_any(),
                Some(score) => view! {
                    <h2>{(t().score_now)(&shown(score.total))} " "
                        <span class=if score.certifiable { "badge synced" } else { "badge waiting" }>
                            {if score.certifiable { t().certifiable } else { t().below_certifiable }}</span></h2>
                    <ul>{score.components.into_iter().map(|c| view! {
                        <li data-component=format!("{:?}", c.name)>
                            <strong>{c.name.label()} " " {shown(c.value)} " × " {c.weight} " %"</strong>
                            ": " {c.explanation}
                            {c.to_raise.map(|hint| view! { <br /><small>{hint}</small> })}
                        </li>
                    }).collect_view()}</ul>
                }.into_any(),
            }}
        </section>
    }
}

/// Submitting a proposal to BPDA, for those who may (online, with its edits synced: BPDA
/// receives the version the server holds).
#[component]
pub fn SubmitProposal(id: DocId, state: Memo<RecordSyncState>) -> impl IntoView {
    let status = expect_context::<Status>();
    let me = status.me.get_untracked();
    let may_submit = me.as_ref().is_some_and(|me| policy::may_submit_proposal(me.role).is_ok());
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let draft = Memo::new(move |_| {
        status.revision.track();
        matches!(current(id, "status"), Some(FieldValue::Choice(s)) if records::ppa::EDITABLE.contains(&s.as_str()))
    });
    let submit = move |_| {
        let csrf = status.me.get_untracked().map(|me| me.csrf_token).unwrap_or_default();
        spawn_local(async move {
            match crate::api::submit_proposal(&csrf, id).await {
                Ok(submitted) => {
                    outcome.set(Some(Ok((t().submitted_as)(submitted.version, &shown(submitted.score.total)))));
                    device::sync_now(status, true).await;
                }
                Err(problem) => outcome.set(Some(Err(problem.message))),
            }
        });
    };
    let blocked = move || {
        if !status.online.get() {
            Some(t().submit_needs_connection)
        } else if !matches!(state.get(), RecordSyncState::Synced) {
            Some(t().sync_before_submitting)
        } else {
            None
        }
    };
    may_submit.then(|| view! {
        <div class="submit-proposal">
            {move || draft.get().then(|| view! {
                <button class="primary" id="submit-proposal" disabled=move || blocked().is_some() on:click=submit>{t().submit_to_bpda}</button>
                {move || blocked().map(|why| view! { " " <small>{why}</small> })}
            })}
            {move || outcome.get().map(|o| match o {
                Ok(message) => view! { <p role="status" id="submit-outcome">{message}</p> }.into_any(),
                Err(message) => view! { <p class="error" role="alert" id="submit-outcome">{message}</p> }.into_any(),
            })}
        </div>
    })
}


/// Where the proposal stands with BPDA, read from the server when there is a connection
/// (again after each sync): waiting for review, sent back with BPDA's reasons, or
/// certified (void once it changed), with the score and BPDA's adjustments.
#[component]
pub fn ProposalStanding(id: DocId) -> impl IntoView {
    let status = expect_context::<Status>();
    let standing = RwSignal::new(None::<Standing>);
    Effect::new(move |_| {
        status.last_sync.track();
        if status.online.get() {
            spawn_local(async move {
                if let Ok(read) = crate::api::proposal_standing(id).await {
                    standing.set(Some(read));
                }
            });
        }
    });
    move || {
        let submission = standing.get()?.submission?;
        Some(view! {
            <section class="standing" id="proposal-standing">
                <h2>{t().with_bpda}</h2>
                <p>{(t().submitted_version)(submission.version, &when(&submission.submitted_at), &shown(submission.score.total))}</p>
                {(!submission.adjustments.is_empty()).then(|| view! {
                    <ul>{submission.adjustments.iter().map(|a| view! {
                        <li>{a.component.label()} ": " {shown(a.from)} " → " {shown(a.to)} " — " {a.reason.clone()}</li>
                    }).collect_view()}</ul>
                })}
                {match submission.decision {
                    Some(decision) => view! { <DecisionView decision=decision /> }.into_any(),
                    None => view! { <p>{t().waiting_for_bpda}</p> }.into_any(),
                }}
            </section>
        })
    }
}

/// BPDA's decision: the reasons of a return, or the certificate (void once the proposal
/// changed).
#[component]
pub fn DecisionView(decision: Decision) -> impl IntoView {
    view! {
        <div class="decision" id="decision" data-decision=decision.decision.clone()>
            {match decision.certificate {
                Some(certificate) => view! { <CertificateView certificate=certificate current=decision.current /> }.into_any(),
                None => view! {
                    <h3>{(t().review.returned_on)(&when(&decision.decided_at), &decision.decided_by)}</h3>
                    <p class="reasons">{decision.reasons.clone()}</p>
                }.into_any(),
            }}
        </div>
    }
}

/// A certificate as people read it, void or not, with its download.
#[component]
pub fn CertificateView(certificate: Certificate, current: bool) -> impl IntoView {
    let json = serde_json::to_string_pretty(&certificate).unwrap_or_default();
    let name = format!("certificate-{}-v{}.json", certificate.proposal_id, certificate.version);
    view! {
        <div class="certificate">
            <h3>{(t().review.certified_on)(&when(&certificate.certified_at), &shown(certificate.score))} " "
                {if current {
                    view! { <span class="badge synced" id="certification-current">{t().review.holds}</span> }.into_any()
                } else {
                    view! { <span class="badge refused" id="certification-void">{t().review.void}</span> }.into_any()
                }}</h3>
            {(!current).then(|| view! { <p class="warning">{t().review.void_explained}</p> })}
            <p>{(t().review.version)(certificate.version)} " · " {pesos(certificate.total_cost)} " · "
                {t().review.signed_with} " " <code>{certificate.key_id.clone()}</code></p>
            <button class="download-certificate" on:click=move |_| { let _ = browser::download(&name, json.as_bytes()); }>
                {t().review.download}</button>
        </div>
    }
}
