//! Lists of the records on this device, with search and filters, and the badge that
//! says where each record stands with the server.

use bmms_shared::records::{self, RecordKind};
use bmms_shared::sync::client::{LocalDocument, RecordSyncState, SyncClient};
use std::cell::RefCell;
use std::collections::HashMap;
use leptos::prelude::*;
use leptos::task::spawn_local;
use bmms_shared::DocId;

use super::Screen;
use crate::browser;
use crate::device::{self, Status};
use crate::text::t;

/// A list shows at most this many rows; search narrows it.
const MAX_ROWS: usize = 200;

/// One row of a list.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    id: DocId,
    title: String,
    detail: String,
    status: String,
    due_date: Option<String>,
    assignee: Option<String>,
    state: RecordSyncState,
}

thread_local! {
    /// Rows already read, with the record version they were read at: reading thousands of
    /// documents again for every keystroke in the search box would be too slow on a phone.
    static ROWS: RefCell<HashMap<DocId, (u64, Row)>> = RefCell::new(HashMap::new());
}

fn row(client: &SyncClient, id: DocId, local: &LocalDocument) -> Row {
    let kind = local.kind;
    let summary = device::summary::current(id, local);
    let text = |field| summary.get(field);
    let joined = |parts: Vec<Option<String>>| parts.into_iter().flatten().collect::<Vec<_>>().join(", ");
    let (title, detail) = match kind {
        RecordKind::ManaAssessment => (
            text("community").unwrap_or_else(|| t().untitled_assessment.to_owned()),
            joined(vec![text("municipality"), text("province"), text("assessment_date")]),
        ),
        RecordKind::MonitoringTask => (
            text("title").unwrap_or_else(|| t().untitled_task.to_owned()),
            joined(vec![text("site"), text("due_date").map(|d| (t().due)(&d))]),
        ),
        RecordKind::PpaProposal => (
            text("title").unwrap_or_else(|| t().untitled_proposal.to_owned()),
            joined(vec![text("ppa_type"), text("start_date")]),
        ),
    };
    Row {
        id,
        title,
        detail,
        status: text("status").unwrap_or_default(),
        due_date: text("due_date"),
        assignee: text("assignee"),
        state: client.record_state(id),
    }
}

fn rows(kind: RecordKind) -> Vec<Row> {
    device::read(|client| {
        ROWS.with_borrow_mut(|cache| {
            let mut rows: Vec<Row> = client
                .documents()
                .iter()
                .filter(|(_, local)| local.kind == kind)
                .map(|(id, local)| {
                    let version = device::record_version(*id);
                    match cache.get(id) {
                        Some((seen, row)) if *seen == version => row.clone(),
                        _ => {
                            let row = row(client, *id, local);
                            cache.insert(*id, (version, row.clone()));
                            row
                        }
                    }
                })
                .collect();
            rows.sort_by_cached_key(|row| row.title.to_lowercase());
            rows
        })
    })
    .unwrap_or_default()
}

/// Which tasks to show.
#[derive(Clone, Copy, PartialEq)]
enum TaskFilter {
    All,
    Mine,
    DueSoon,
    Overdue,
}

/// The records of one kind on this device.
#[component]
pub fn RecordList(kind: RecordKind) -> impl IntoView {
    let status = expect_context::<Status>();
    let screen = expect_context::<RwSignal<Screen>>();
    let search = RwSignal::new(String::new());
    let status_filter = RwSignal::new(String::new());
    let task_filter = RwSignal::new(TaskFilter::All);
    let error = RwSignal::new(None::<String>);
    let (heading, new_label, statuses) = match kind {
        RecordKind::ManaAssessment => (t().assessments, t().new_assessment, records::mana::STATUSES),
        RecordKind::MonitoringTask => (t().tasks, t().new_task, records::task::STATUSES),
        RecordKind::PpaProposal => (t().proposals, t().new_proposal, records::ppa::STATUSES),
    };
    let all_rows = Memo::new(move |_| {
        status.revision.track();
        rows(kind)
    });
    let shown = Memo::new(move |_| {
        let needle = search.get().to_lowercase();
        let wanted_status = status_filter.get();
        let filter = task_filter.get();
        let me = status.me.get().map(|me| me.user.username).unwrap_or_default();
        let (today, soon) = (browser::today(), browser::in_days(7));
        let open = |row: &Row| row.status != "done";
        all_rows.with(|rows| {
            let matching: Vec<Row> = rows
                .iter()
                .filter(|row| needle.is_empty() || row.title.to_lowercase().contains(&needle) || row.detail.to_lowercase().contains(&needle))
                .filter(|row| wanted_status.is_empty() || row.status == wanted_status)
                .filter(|row| match filter {
                    TaskFilter::All => true,
                    TaskFilter::Mine => row.assignee.as_deref() == Some(me.as_str()),
                    TaskFilter::DueSoon => open(row) && row.due_date.as_ref().is_some_and(|d| *d >= today && *d <= soon),
                    TaskFilter::Overdue => open(row) && row.due_date.as_ref().is_some_and(|d| *d < today),
                })
                .cloned()
                .collect();
            (matching.len(), matching.into_iter().take(MAX_ROWS).collect::<Vec<_>>())
        })
    });
    // Offered only to who may (the one policy, `bmms_shared::policy`); the server would refuse it.
    let may_create = status.me.get_untracked().is_none_or(|me| bmms_shared::policy::may_create(me.role, kind).is_ok());
    let create = move |_| {
        spawn_local(async move {
            match device::create(status, kind).await {
                Ok(id) => screen.set(Screen::Record(id)),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    let task_filters = [
        (TaskFilter::All, t().all_tasks),
        (TaskFilter::Mine, t().my_tasks),
        (TaskFilter::DueSoon, t().due_soon),
        (TaskFilter::Overdue, t().overdue),
    ];
    view! {
        <section class="card list" aria-label=heading>
            <h2>{heading}</h2>
            <div class="filters">
                {may_create.then(|| view! { <button class="primary" on:click=create>{new_label}</button> })}
                <label>{t().search}
                    <input type="search" prop:value=search on:input=move |ev| search.set(event_target_value(&ev)) />
                </label>
                <label>{t().filter_status}
                    <select on:change=move |ev| status_filter.set(event_target_value(&ev))>
                        <option value="">{t().any_status}</option>
                        {statuses.iter().map(|s| view! { <option value=*s>{s.replace('_', " ")}</option> }).collect_view()}
                    </select>
                </label>
                {(kind == RecordKind::MonitoringTask).then(|| view! {
                    <div role="group" class="chips">
                        {task_filters.into_iter().map(|(filter, label)| view! {
                            <button aria-pressed=move || (task_filter.get() == filter).to_string()
                                on:click=move |_| task_filter.set(filter)>{label}</button>
                        }).collect_view()}
                    </div>
                })}
            </div>
            {move || error.get().map(|message| view! { <p class="error" role="alert">{message}</p> })}
            {(kind == RecordKind::ManaAssessment).then(|| view! { <super::beyond::BeyondThisPhone search=search /> })}
            {move || {
                let (total, rows) = shown.get();
                if total == 0 {
                    return view! { <p class="empty">{t().no_records}</p> }.into_any();
                }
                let today = browser::today();
                view! {
                    <ul class="records">
                        {rows.into_iter().map(|row| {
                            let overdue = row.status != "done" && row.due_date.as_ref().is_some_and(|d| *d < today);
                            let id = row.id;
                            view! {
                                <li class:overdue=overdue>
                                    <button class="record" on:click=move |_| screen.set(Screen::Record(id))>
                                        <strong>{row.title}</strong>
                                        <span class="detail">{row.detail}</span>
                                        <span class="status">{row.status.replace('_', " ")}</span>
                                        {badge(&row.state)}
                                    </button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {(total > MAX_ROWS).then(|| view! { <p class="hint">{(t().shown_of)(MAX_ROWS, total)}</p> })}
                }.into_any()
            }}
        </section>
    }
}

/// The badge of a record: synced, waiting, refused or in conflict.
pub fn badge(state: &RecordSyncState) -> impl IntoView {
    let (class, label) = match state {
        RecordSyncState::Synced => ("badge synced", t().badge_synced),
        RecordSyncState::Waiting(_) => ("badge waiting", t().badge_waiting),
        RecordSyncState::Refused(_) => ("badge refused", t().badge_refused),
        RecordSyncState::InConflict(_) => ("badge conflict", t().badge_conflict),
    };
    view! { <span class=class>{label}</span> }
}
