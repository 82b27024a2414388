//! The supervisor's conflict queue: the open conflicts, several settled at once when the
//! same decision applies, and one conflict's values side by side.

use bmms_shared::api::{ConflictDetail as Detail, Items, QueuedConflict, Resolution, Resolve, ResolveMany};
use bmms_shared::records::{json, RecordKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;
use std::collections::BTreeSet;
use uuid::Uuid;

use super::api::{self, Problem};
use super::live::Live;
use super::{csrf_token, when};
use crate::device::Status;
use crate::pages::{parse_input, Screen};
use crate::text::t;

fn record_name(label: &Option<String>) -> String {
    label.clone().filter(|l| !l.is_empty()).unwrap_or_else(|| t().desk.unnamed_record.to_owned())
}

/// The candidates, as people read them: `3 | 4`.
fn candidates_shown(candidates: &Value) -> String {
    let shown = |value: &Value| value.as_str().map(str::to_owned).unwrap_or_else(|| value.to_string());
    match candidates {
        Value::Array(values) => values.iter().map(shown).collect::<Vec<_>>().join(" | "),
        other => shown(other),
    }
}

/// Reads what the supervisor typed as a value of the conflict's field, as the API's JSON.
fn typed_value(kind: RecordKind, field: &str, input: &str) -> Result<Value, Problem> {
    let spec = kind.field(field);
    let problem = |message: String| Problem { field: Some("value".into()), message };
    let spec = spec.ok_or_else(|| problem(t().desk.cannot_settle_here.to_owned()))?;
    match parse_input(spec, input).map_err(problem)? {
        Some(value) => Ok(json::to_json(&value)),
        None => Err(problem(t().desk.give_a_value.to_owned())),
    }
}

/// `GET /api/v1/conflicts`, read again at every live update.
#[component]
pub fn ConflictQueue() -> impl IntoView {
    let live = expect_context::<Live>();
    let screen = expect_context::<RwSignal<Screen>>();
    let queue = RwSignal::new(None::<Result<Items<QueuedConflict>, String>>);
    api::keep_loaded(live.conflicts, || "/api/v1/conflicts".into(), queue);
    let selected = RwSignal::new(BTreeSet::<Uuid>::new());
    let rows = move || queue.get().and_then(Result::ok).map(|q| q.items).unwrap_or_default();
    let chosen_rows = Memo::new(move |_| {
        let chosen = selected.get();
        rows().into_iter().filter(|r| chosen.contains(&r.id)).collect::<Vec<_>>()
    });
    view! {
        <section class="card desk" id="conflict-queue">
            <h1>{t().desk.conflicts}</h1>
            <p>{t().desk.conflicts_intro}</p>
            {move || match queue.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(queue)) if queue.items.is_empty() => view! { <p id="no-conflicts">{t().desk.no_conflicts}</p> }.into_any(),
                Some(Ok(Items { items: rows })) => view! {
                    <table class="desk-table">
                        <thead><tr>
                            <th scope="col"><span class="visually-hidden">{t().desk.select}</span></th>
                            <th scope="col">{t().desk.record}</th><th scope="col">{t().desk.field}</th>
                            <th scope="col">{t().desk.values}</th><th scope="col">{t().desk.detected}</th><th></th>
                        </tr></thead>
                        <tbody>{rows.into_iter().map(|row| {
                            let id = row.id;
                            view! {
                                <tr class="conflict-row">
                                    <td><input type="checkbox" aria-label=format!("{} {}", t().desk.select, row.field_label)
                                        prop:checked=move || selected.with(|s| s.contains(&id))
                                        on:change=move |ev| selected.update(|s| { if event_target_checked(&ev) { s.insert(id); } else { s.remove(&id); } }) /></td>
                                    <td>{record_name(&row.record_label)}</td>
                                    <td>{row.field_label.clone()}</td>
                                    <td>{candidates_shown(&row.candidates)}</td>
                                    <td>{when(&row.detected_at)}</td>
                                    <td><button class="open-conflict" on:click=move |_| screen.set(Screen::Conflict(id))>{t().desk.compare}</button></td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
            {move || (!chosen_rows.get().is_empty()).then(|| view! { <SettleMany rows=chosen_rows selected=selected /> })}
        </section>
    }
}

/// One decision for every selected conflict (all of one field).
#[component]
fn SettleMany(rows: Memo<Vec<QueuedConflict>>, selected: RwSignal<BTreeSet<Uuid>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let status = expect_context::<Status>();
    let value = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Problem>);
    let same_field = move || {
        let rows = rows.get();
        let first = rows.first().map(|r| (r.record_kind, r.field.clone()));
        first.filter(|f| rows.iter().all(|r| (r.record_kind, r.field.clone()) == *f))
    };
    let settle = move |_| {
        let Some((kind, field)) = same_field() else { return };
        let typed = match typed_value(kind, &field, &value.get_untracked()) {
            Ok(typed) => typed,
            Err(p) => return problem.set(Some(p)),
        };
        let ids: Vec<Uuid> = selected.get_untracked().into_iter().collect();
        let request = ResolveMany { ids, value: typed, reason: reason.get_untracked() };
        spawn_local(async move {
            match api::post::<Items<Resolution>>("/api/v1/conflicts/resolve", &csrf_token(status), &request).await {
                Ok(_) => {
                    problem.set(None);
                    selected.set(BTreeSet::new());
                    live.conflicts.update(|n| *n += 1);
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };
    view! {
        <div class="settle-many" role="group" aria-label=t().desk.settle_selected>
            <h2>{move || (t().desk.settle_n)(rows.get().len())}</h2>
            {move || match same_field() {
                None => view! { <p class="error">{t().desk.same_field_only}</p> }.into_any(),
                Some(_) => view! {
                    <label for="bulk-value">{t().desk.value_for_all}</label>
                    <input id="bulk-value" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
                    {move || problem.with(|p| Problem::about(p, "value")).map(|m| view! { <small class="error" role="alert">{m}</small> })}
                    <label for="bulk-reason">{t().desk.reason}</label>
                    <textarea id="bulk-reason" rows="2" prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                    {move || problem.with(|p| Problem::about(p, "reason")).map(|m| view! { <small class="error" role="alert">{m}</small> })}
                    {move || problem.with(|p| Problem::general(p, &["value", "reason"])).map(|m| view! { <p class="error" role="alert">{m}</p> })}
                    <button class="primary" on:click=settle>{t().desk.settle}</button>
                }.into_any(),
            }}
        </div>
    }
}

/// One conflict: every value side by side, and the decision.
#[component]
pub fn ConflictDetail(id: Uuid) -> impl IntoView {
    let live = expect_context::<Live>();
    let screen = expect_context::<RwSignal<Screen>>();
    let detail = RwSignal::new(None::<Result<Detail, String>>);
    api::keep_loaded(live.conflicts, move || format!("/api/v1/conflicts/{id}"), detail);
    view! {
        <section class="card desk" id="conflict-detail">
            <button class="back" on:click=move |_| screen.set(Screen::Conflicts)>{t().back}</button>
            {move || match detail.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(detail)) => view! { <Compare id=id detail=detail /> }.into_any(),
            }}
        </section>
    }
}

/// Which value the supervisor keeps: one of the written ones (by position), or their own.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Choice {
    None,
    Written(usize),
    Other,
}

#[component]
fn Compare(id: Uuid, detail: Detail) -> impl IntoView {
    let live = expect_context::<Live>();
    let status = expect_context::<Status>();
    let choice = RwSignal::new(Choice::None);
    let other = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Problem>);
    let (kind, field) = (detail.record_kind, detail.field.clone());
    let written = detail.values.clone();
    let settle = move |_| {
        let value = match choice.get_untracked() {
            Choice::Written(at) => Ok(written[at].value.clone().unwrap_or(Value::Null)),
            Choice::Other => typed_value(kind, &field, &other.get_untracked()),
            Choice::None => Err(Problem { field: Some("value".into()), message: t().desk.choose_a_value.to_owned() }),
        };
        let value = match value {
            Ok(value) => value,
            Err(p) => return problem.set(Some(p)),
        };
        let request = Resolve { value, reason: reason.get_untracked() };
        spawn_local(async move {
            match api::post::<Resolution>(&format!("/api/v1/conflicts/{id}/resolve"), &csrf_token(status), &request).await {
                Ok(_) => {
                    problem.set(None);
                    live.conflicts.update(|n| *n += 1);
                }
                Err(p) => problem.set(Some(p)),
            }
        });
    };
    let settled = detail.resolved.clone();
    view! {
        <h1>{detail.field_label.clone()} " — " {record_name(&detail.record_label)}</h1>
        <p>{(t().desk.detected_on)(&when(&detail.detected_at))}</p>
        {match settled {
            Some(s) => view! {
                <p class="settled" id="settled" role="status">
                    {(t().desk.settled_by)(&s.by.unwrap_or_default(), &when(&s.at), &s.value.unwrap_or_default(), &s.reason.unwrap_or_default())}
                </p>
            }.into_any(),
            None => view! {
                <fieldset class="side-by-side">
                    <legend>{t().desk.values_side_by_side}</legend>
                    {detail.values.iter().enumerate().map(|(at, w)| view! {
                        <label class="candidate">
                            <input type="radio" name="choice" on:change=move |_| choice.set(Choice::Written(at)) />
                            <strong class="candidate-value">{w.shown.clone()}</strong>
                            <span>{(t().desk.written_by)(&w.written_by.clone().unwrap_or_default())}</span>
                            <span>{w.device_id.map(|d| (t().desk.from_device)(&d.uuid().simple().to_string()[..8]))}</span>
                            <span>{w.received_at.as_deref().map(|r| (t().desk.reached_server)(&when(r)))}</span>
                            <span>{(t().desk.before)(w.before.as_deref().unwrap_or("—"))}</span>
                        </label>
                    }).collect_view()}
                    <label class="candidate">
                        <input type="radio" name="choice" id="choice-other" on:change=move |_| choice.set(Choice::Other) />
                        <strong>{t().desk.another_value}</strong>
                        <input id="other-value" aria-label=t().desk.another_value prop:value=other
                            on:input=move |ev| { other.set(event_target_value(&ev)); choice.set(Choice::Other); } />
                    </label>
                </fieldset>
                {move || problem.with(|p| Problem::about(p, "value")).map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <label for="reason">{t().desk.reason}</label>
                <textarea id="reason" rows="3" prop:value=reason on:input=move |ev| { reason.set(event_target_value(&ev)); problem.set(None); }></textarea>
                {move || problem.with(|p| Problem::about(p, "reason")).map(|m| view! { <small class="error" id="reason-error" role="alert">{m}</small> })}
                {move || problem.with(|p| Problem::general(p, &["value", "reason"])).map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <button class="primary" id="settle" on:click=settle>{t().desk.settle}</button>
            }.into_any(),
        }}
    }
}
