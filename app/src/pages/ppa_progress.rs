//! How a PPA is being carried out, on its proposal's page (and in OCM's implementation
//! view, for analysts): its progress from the monitoring tasks that point at it against
//! the share of its timeline that has passed, its milestones, its tasks, and why it is at
//! risk. Read from the server when there is a connection, again after each sync.

use bmms_shared::api::{Milestone, PpaImplementation, PpaTask};
use bmms_shared::{DocId, OrgId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::device::Status;
use crate::text::t;

#[component]
pub fn PpaProgress(id: DocId, #[prop(optional)] org: Option<OrgId>) -> impl IntoView {
    let status = expect_context::<Status>();
    let read = RwSignal::new(None::<PpaImplementation>);
    Effect::new(move |_| {
        status.last_sync.track();
        if status.online.get() {
            spawn_local(async move {
                if let Ok(answer) = crate::api::ppa_implementation(id, org).await {
                    read.set(Some(answer));
                }
            });
        }
    });
    move || {
        let ppa = read.get()?;
        // A draft with no task has nothing to show yet.
        (ppa.status != "draft" || !ppa.tasks.is_empty()).then(|| view! { <Implementation ppa=ppa /> })
    }
}

#[component]
fn Implementation(ppa: PpaImplementation) -> impl IntoView {
    let t = t().implementation;
    view! {
        <section class="implementation" id="ppa-implementation">
            <h2>{t.of_ppa}</h2>
            {match ppa.progress_percent {
                Some(progress) => view! {
                    <p id="ppa-progress"><progress max="100" value=progress></progress> " " {(t.progress)(progress)}
                        {ppa.expected_percent.map(|e| format!(" ({})", (t.expected)(e)))}</p>
                }.into_any(),
                None => view! { <p id="ppa-progress">{t.no_progress}</p> }.into_any(),
            }}
            {if ppa.risks.is_empty() {
                view! { <p class="saved" id="ppa-risks">{t.on_track}</p> }.into_any()
            } else {
                view! { <ul class="warning" id="ppa-risks">{ppa.risks.into_iter().map(|r| view! { <li>{r}</li> }).collect_view()}</ul> }.into_any()
            }}
            {(!ppa.milestones.is_empty()).then(|| milestones(ppa.milestones))}
            {(!ppa.tasks.is_empty()).then(|| tasks(ppa.tasks))}
        </section>
    }
}

fn flag(on: bool, label: &'static str) -> Option<impl IntoView> {
    on.then(|| view! { " " <span class="badge refused">{label}</span> })
}

fn milestones(milestones: Vec<Milestone>) -> impl IntoView {
    let t = t().implementation;
    view! {
        <table class="desk-table" id="ppa-milestones">
            <caption>{t.milestones}</caption>
            <thead><tr><th scope="col">{t.milestone}</th><th scope="col">{t.due}</th><th scope="col">{t.done_on}</th></tr></thead>
            <tbody>{milestones.into_iter().map(|m| view! {
                <tr data-overdue=m.overdue.to_string()>
                    <th scope="row">{m.title.unwrap_or_else(|| format!("{} {}", t.milestone, m.n))}</th>
                    <td>{m.due}{flag(m.overdue, t.overdue)}</td>
                    <td>{m.done_on}{m.checked_by.map(|_| view! { " " <span class="badge">{t.by_task}</span> })}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}

fn tasks(tasks: Vec<PpaTask>) -> impl IntoView {
    let t = t().implementation;
    view! {
        <table class="desk-table" id="ppa-tasks">
            <caption>{t.tasks}</caption>
            <thead><tr><th scope="col">{crate::text::t().task}</th><th scope="col">{t.assignee}</th><th scope="col">{t.status}</th>
                <th scope="col">{t.due}</th><th scope="col">"%"</th></tr></thead>
            <tbody>{tasks.into_iter().map(|task| view! {
                <tr data-task=task.id.to_string()>
                    <th scope="row">{task.title}{task.milestone.map(|n| format!(" ({} {n})", t.milestone))}</th><td>{task.assignee}</td>
                    <td>{task.status}{flag(task.stalled, t.stalled)}</td>
                    <td>{task.due_date}{flag(task.overdue, t.overdue)}</td>
                    <td>{task.progress_percent}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}
