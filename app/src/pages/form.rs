//! One record, every field of its schema, each saved on the device when the officer
//! leaves it. The form is drawn from the schema (`bmms_shared::records`), so a field
//! added there appears here with its label and checks.

use bmms_shared::policy;
use bmms_shared::records::fields::ChecklistItem;
use bmms_shared::records::{self, FieldSpec, FieldType, FieldValue, RecordKind};
use bmms_shared::sync::client::RecordSyncState;
use leptos::prelude::*;
use leptos::task::spawn_local;
use bmms_shared::DocId;

use super::lists::badge;
use super::cost_grid::CostGrid;
use super::photo_field::PhotoField;
use super::place_picker::{PlaceAdder, PlacePicker};
use bmms_shared::records::ppa::{cost_field, FISCAL_YEARS};
use super::plan_pickers::{self, GoalAdder, IndicatorName, INDICATOR_LIST};
use super::proposal;
use super::Screen;
use crate::browser;
use crate::device::{self, Status};
use crate::text::t;

/// What one field's editor says after the officer left it.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Saved {
    Nothing,
    Saved,
    Refused(String),
}

pub(super) fn current(id: DocId, field: &str) -> Option<FieldValue> {
    device::read(|client| client.documents().get(&id).and_then(|local| records::get(&local.doc(), field))).flatten()
}

fn kind_of(id: DocId) -> Option<RecordKind> {
    device::read(|client| client.documents().get(&id).map(|local| local.kind)).flatten()
}

/// What a field says after it was last saved: nothing yet, saved, or why not.
pub(super) fn saved_note(saved: Saved) -> Option<AnyView> {
    match saved {
        Saved::Nothing => None,
        Saved::Saved => Some(view! { <small class="saved" role="status">{t().saved_on_device}</small> }.into_any()),
        Saved::Refused(problem) => Some(view! { <small class="error" role="alert">{(t().not_saved)(&problem)}</small> }.into_any()),
    }
}

/// Saves `value` (or clears the field) on the device; says how it went.
pub(super) async fn save(status: Status, id: DocId, spec: &'static FieldSpec, value: Option<FieldValue>) -> Saved {
    if let Some(value) = &value {
        if let Err(err) = spec.check(value) {
            return Saved::Refused(err.problem);
        }
    }
    let name = spec.name.as_str();
    let result = device::edit(status, id, move |editor| match value {
        Some(value) => editor.set(name, value),
        None => editor.clear(name),
    })
    .await;
    match result {
        Ok(()) => Saved::Saved,
        Err(message) => Saved::Refused(message),
    }
}

/// Reads what someone typed as a value of `spec`'s type; `Ok(None)` for an empty field.
pub fn parse_input(spec: &FieldSpec, input: &str) -> Result<Option<FieldValue>, String> {
    let input = input.trim();
    if input.is_empty() {
        return Ok(None);
    }
    Ok(Some(match &spec.ty {
        FieldType::Text { .. } | FieldType::Place => FieldValue::Text(input.to_owned()),
        FieldType::Date => FieldValue::Date(input.to_owned()),
        FieldType::Choice(_) => FieldValue::Choice(input.to_owned()),
        FieldType::Integer { .. } => FieldValue::Integer(input.parse().map_err(|_| t().not_a_number.to_owned())?),
        FieldType::Decimal { .. } => FieldValue::Decimal(input.parse().map_err(|_| t().not_a_number.to_owned())?),
        // Photos are taken, not typed (`photo_field`); names one per line otherwise.
        FieldType::TextList { .. } | FieldType::Photos { .. } => FieldValue::TextList(
            input.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect(),
        ),
        FieldType::Checklist { .. } => return Err(t().not_a_number.to_owned()),
    }))
}

/// How a stored value is shown in its input.
fn shown(value: Option<FieldValue>) -> String {
    match value {
        None => String::new(),
        Some(FieldValue::Text(s) | FieldValue::Date(s) | FieldValue::Choice(s)) => s,
        Some(FieldValue::Integer(n)) => n.to_string(),
        Some(FieldValue::Decimal(x)) => x.to_string(),
        Some(FieldValue::TextList(items)) => items.join("\n"),
        Some(FieldValue::Checklist(items)) => items.iter().map(|i| i.text.clone()).collect::<Vec<_>>().join("\n"),
    }
}

/// One record's form.
#[component]
pub fn RecordForm(id: DocId) -> impl IntoView {
    let status = expect_context::<Status>();
    let screen = expect_context::<RwSignal<Screen>>();
    let Some(kind) = kind_of(id) else {
        return view! { <p class="error">{t().no_records}</p> }.into_any();
    };
    if kind == RecordKind::PpaProposal {
        plan_pickers::provide_known_plan();
    }
    let state = Memo::new(move |_| {
        status.revision.track();
        device::read(|client| client.record_state(id)).unwrap_or(RecordSyncState::Synced)
    });
    let heading = match kind {
        RecordKind::ManaAssessment => t().assessment,
        RecordKind::MonitoringTask => t().task,
        RecordKind::PpaProposal => t().proposal,
    };
    let has_gps = kind.field("gps.latitude").is_some() || kind.field("location.latitude").is_some();
    view! {
        <section class="card record-form">
            <button class="back" on:click=move |_| screen.set(Screen::List(kind))>{t().back}</button>
            <h1>{heading} " " {move || state.with(|s| badge(s).into_any())}</h1>
            {move || match state.get() {
                RecordSyncState::Refused(rejection) => Some(view! {
                    <div class="refused" role="alert">
                        <p id="refusal-reason">{rejection.message}</p>
                        <p>{t().refused_how_to_fix}</p>
                    </div>
                }.into_any()),
                RecordSyncState::InConflict(conflicts) => Some(view! {
                    <div class="conflict" role="status">
                        <p>{t().conflict_explained}</p>
                        <ul>{conflicts.into_iter().map(|c| view! {
                            <li>{label_of(kind, &c.field)} ": " {c.values.join(" | ")}</li>
                        }).collect_view()}</ul>
                    </div>
                }.into_any()),
                _ => None,
            }}
            {(kind == RecordKind::PpaProposal).then(|| view! {
                <plan_pickers::IndicatorList id=id />
                <proposal::ScorePreview id=id />
                <proposal::SubmitProposal id=id state=state />
                <proposal::ProposalStanding id=id />
                <super::ppa_progress::PpaProgress id=id />
            })}
            {has_gps.then(|| view! { <GpsCapture id=id kind=kind /> })}
            {kind.fields().iter().filter(|spec| !is_cost_cell(kind, spec)).map(|spec| match spec.ty {
                FieldType::Photos { .. } => view! { <PhotoField id=id kind=kind spec=spec /> }.into_any(),
                _ => view! { <Field id=id kind=kind spec=spec /> }.into_any(),
            }).collect_view()}
            {(kind == RecordKind::PpaProposal).then(|| {
                let role = status.me.get_untracked().map(|me| me.role);
                let read_only = role.is_some_and(|role| policy::may_write(role, kind, &cost_field(*FISCAL_YEARS.start(), 1, "ps")).is_err());
                view! { <CostGrid id=id read_only=read_only /> }
            })}
        </section>
    }
    .into_any()
}

/// A proposal's indicator codes are offered from the plan ([`plan_pickers`]).
fn is_indicator_code(kind: RecordKind, spec: &FieldSpec) -> bool {
    kind == RecordKind::PpaProposal && spec.name.starts_with("indicator.") && spec.name.ends_with(".code")
}

/// A proposal's cost cells are typed in their grid ([`CostGrid`]), in pesos, not one by one.
fn is_cost_cell(kind: RecordKind, spec: &FieldSpec) -> bool {
    kind == RecordKind::PpaProposal && spec.name.starts_with("cost.")
}

fn label_of(kind: RecordKind, field: &str) -> String {
    kind.field(field).map(|spec| spec.label.clone()).unwrap_or_else(|| field.to_owned())
}

/// One field: its input, and what happened when it was last saved.
#[component]
fn Field(id: DocId, kind: RecordKind, spec: &'static FieldSpec) -> impl IntoView {
    let status = expect_context::<Status>();
    // What the person may not change is shown, not offered: the server would refuse it
    // (the one policy, `bmms_shared::policy`).
    let role = status.me.get_untracked().map(|me| me.role);
    let read_only = role.is_some_and(|role| policy::may_write(role, kind, &spec.name).is_err());
    let may_move_to = move |to: &str| {
        let from = match current(id, "status") {
            Some(FieldValue::Choice(from)) => Some(from),
            _ => None,
        };
        role.is_none_or(|role| policy::may_move(role, kind, from.as_deref(), to).is_ok())
    };
    let saved = RwSignal::new(Saved::Nothing);
    // Re-read when records change (a sync brought news), but only touch the input when
    // this field's value changed, so typing elsewhere is never disturbed.
    let value = Memo::new(move |_| {
        status.revision.track();
        current(id, &spec.name)
    });
    // A supervisor's decision on a conflict of this field, from the device's own copy.
    let resolved = Memo::new(move |_| {
        status.revision.track();
        device::read(|client| client.documents().get(&id).and_then(|local| records::resolution::note(&local.doc(), &spec.name))).flatten()
    });
    let on_change = move |input: String| {
        let parsed = parse_input(spec, &input);
        spawn_local(async move {
            saved.set(match parsed {
                Ok(value) => save(status, id, spec, value).await,
                Err(problem) => Saved::Refused(problem),
            });
        });
    };
    let input_id = format!("field-{}", spec.name.replace('.', "-"));
    let indicator = is_indicator_code(kind, spec);
    let input = match &spec.ty {
        FieldType::Choice(options) => view! {
            <select id=input_id.clone() on:change=move |ev| on_change(event_target_value(&ev))
                prop:value=move || shown(value.get())>
                <option value="">"—"</option>
                {options.iter().map(|o| {
                    let hidden = spec.name == "status" && !may_move_to(o);
                    view! { <option value=*o disabled=hidden>{o.replace('_', " ")}</option> }
                }).collect_view()}
            </select>
        }
        .into_any(),
        FieldType::Checklist { .. } => view! { <Checklist id=id spec=spec saved=saved /> }.into_any(),
        FieldType::Place => view! { <PlacePicker id=id input_id=input_id.clone() saved=saved /> }.into_any(),
        FieldType::TextList { .. } => view! {
            <textarea id=input_id.clone() rows="3" aria-describedby=format!("{input_id}-hint")
                on:change=move |ev| on_change(event_target_value(&ev)) prop:value=move || shown(value.get())></textarea>
            <small id=format!("{input_id}-hint")>{t().one_per_line}</small>
            {(kind == RecordKind::PpaProposal && spec.name == "places").then(|| view! {
                <PlaceAdder id=id spec=spec input_id=input_id.clone() saved=saved />
            })}
            {(kind == RecordKind::PpaProposal && spec.name == "goals").then(|| view! { <GoalAdder id=id spec=spec saved=saved /> })}
        }
        .into_any(),
        FieldType::Text { max_chars } if *max_chars > 200 => view! {
            <textarea id=input_id.clone() rows="3" maxlength=max_chars.to_string()
                on:change=move |ev| on_change(event_target_value(&ev)) prop:value=move || shown(value.get())></textarea>
        }
        .into_any(),
        ty => {
            let (kind, step) = match ty {
                FieldType::Integer { .. } => ("number", Some("1")),
                FieldType::Decimal { .. } => ("number", Some("any")),
                FieldType::Date => ("date", None),
                _ => ("text", None),
            };
            // Typing stops at the field's limit, rather than the text being refused (and
            // lost) when the officer leaves the field.
            let max_length = match ty {
                FieldType::Text { max_chars } => Some(max_chars.to_string()),
                _ => None,
            };
            let suggestions = records::places::suggestions(&spec.name);
            let list_id = format!("{input_id}-suggestions");
            let list = if indicator { Some(INDICATOR_LIST.to_owned()) } else { (!suggestions.is_empty()).then(|| list_id.clone()) };
            view! {
                <input id=input_id.clone() type=kind step=step inputmode=(kind == "number").then_some("decimal") list=list maxlength=max_length
                    on:change=move |ev| on_change(event_target_value(&ev)) prop:value=move || shown(value.get()) />
                {(!suggestions.is_empty()).then(|| view! {
                    <datalist id=list_id.clone()>
                        {suggestions.iter().map(|place| view! { <option value=*place></option> }).collect_view()}
                    </datalist>
                })}
                {indicator.then(|| view! { <IndicatorName id=id field=spec.name.as_str() /> })}
            }
            .into_any()
        }
    };
    view! {
        <div class="field">
            <label for=input_id.clone()>{spec.label.clone()}</label>
            <fieldset class="plain" disabled=read_only>{input}</fieldset>
            {(spec.name == "photos").then(|| view! { <small>{t().photos_later}</small> })}
            {move || resolved.get().map(|note| view! { <small class="resolved" role="note">{(t().resolved_by)(&note.by, &note.reason)}</small> })}
            {move || saved_note(saved.get())}
        </div>
    }
}

/// A task's checklist: tick items, add and remove them.
#[component]
fn Checklist(id: DocId, spec: &'static FieldSpec, saved: RwSignal<Saved>) -> impl IntoView {
    let status = expect_context::<Status>();
    let items = Memo::new(move |_| {
        status.revision.track();
        match current(id, &spec.name) {
            Some(FieldValue::Checklist(items)) => items,
            _ => vec![],
        }
    });
    let new_item = RwSignal::new(String::new());
    let write = move |items: Vec<ChecklistItem>| {
        spawn_local(async move { saved.set(save(status, id, spec, Some(FieldValue::Checklist(items))).await) });
    };
    view! {
        <ul class="checklist">
            {move || items.get().into_iter().enumerate().map(|(at, item)| view! {
                <li>
                    <label>
                        <input type="checkbox" prop:checked=item.done on:change=move |ev| {
                            let mut all = items.get_untracked();
                            all[at].done = event_target_checked(&ev);
                            write(all);
                        } />
                        {item.text.clone()}
                    </label>
                    <button class="small" on:click=move |_| {
                        let mut all = items.get_untracked();
                        all.remove(at);
                        write(all);
                    }>{t().remove}</button>
                </li>
            }).collect_view()}
        </ul>
        <div class="add-item">
            <input aria-label=t().new_item prop:value=new_item on:input=move |ev| new_item.set(event_target_value(&ev)) />
            <button on:click=move |_| {
                let text = new_item.get_untracked().trim().to_owned();
                if text.is_empty() {
                    return;
                }
                let mut all = items.get_untracked();
                all.push(ChecklistItem { text, done: false });
                new_item.set(String::new());
                write(all);
            }>{t().add_item}</button>
        </div>
    }
}

/// Fills the record's latitude, longitude (and accuracy) from the device's GPS.
#[component]
fn GpsCapture(id: DocId, kind: RecordKind) -> impl IntoView {
    let status = expect_context::<Status>();
    let message = RwSignal::new(None::<String>);
    let capture = move |_| {
        message.set(Some(t().gps_reading.to_owned()));
        spawn_local(async move {
            let position = match browser::position().await {
                Ok(position) => position,
                Err(why) => return message.set(Some((t().gps_failed)(&why))),
            };
            let prefix = if kind.field("gps.latitude").is_some() { "gps" } else { "location" };
            let result = device::edit(status, id, move |editor| {
                editor.set(&format!("{prefix}.latitude"), FieldValue::Decimal(position.latitude))?;
                editor.set(&format!("{prefix}.longitude"), FieldValue::Decimal(position.longitude))?;
                if kind.field("gps.accuracy_m").is_some() {
                    editor.set("gps.accuracy_m", FieldValue::Decimal(position.accuracy_m))?;
                }
                Ok(())
            })
            .await;
            message.set(Some(match result {
                Ok(()) => (t().gps_accuracy)(position.accuracy_m),
                Err(why) => (t().gps_failed)(&why),
            }));
        });
    };
    view! {
        <div class="gps">
            <button on:click=capture>{t().capture_gps}</button>
            {move || message.get().map(|m| view! { <span role="status">{m}</span> })}
        </div>
    }
}
