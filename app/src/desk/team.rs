//! Task assignment for supervisors: a new monitoring task from a checklist template, the
//! organization's tasks (overdue ones stand out) with reassignment, and each officer's
//! progress. Everything reloads when the server announces a change of records.

use bmms_shared::api::{Assign, Assigned, Items, NewTask as NewTaskBody, OfficerProgress as Officer, Page, PpaChoice, TaskCreated, TaskQuery, TaskRow};
use bmms_shared::records::task::CHECKLIST_TEMPLATES;
use bmms_shared::DocId;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::api::{self, Problem};
use super::csrf_token;
use super::live::Live;
use crate::device::Status;
use crate::text::t;

/// The task list as the team screen reads it.
type TaskPage = Page<TaskRow>;

#[component]
pub fn Team() -> impl IntoView {
    let live = expect_context::<Live>();
    let officers = RwSignal::new(None::<Result<Items<Officer>, String>>);
    let tasks = RwSignal::new(None::<Result<TaskPage, String>>);
    api::keep_loaded(live.records, || "/api/v1/officers".into(), officers);
    api::keep_loaded(live.records, || api::address("/api/v1/tasks", &TaskQuery { limit: 200, ..TaskQuery::default() }), tasks);
    let officer_list = Signal::derive(move || officers.get().and_then(Result::ok).map(|o| o.items).unwrap_or_default());
    view! {
        <section class="card desk" id="team">
            <h1>{t().desk.team}</h1>
            <h2>{t().desk.progress}</h2>
            {move || match officers.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(list)) => view! { <ProgressTable officers=list.items /> }.into_any(),
            }}
            <NewTask officers=officer_list />
            <super::areas::WhereOfficersWork officers=officer_list />
            <h2>{t().desk.all_tasks}</h2>
            {move || match tasks.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(page)) => view! { <TaskTable page=page officers=officer_list /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ProgressTable(officers: Vec<Officer>) -> impl IntoView {
    view! {
        <table class="desk-table" id="officer-progress">
            <thead><tr>
                <th scope="col">{t().desk.officer}</th><th scope="col">{t().tasks}</th><th scope="col">{t().desk.todo}</th>
                <th scope="col">{t().desk.in_progress}</th><th scope="col">{t().desk.blocked}</th><th scope="col">{t().desk.done}</th>
                <th scope="col">{t().overdue}</th><th scope="col">{t().desk.average_progress}</th>
            </tr></thead>
            <tbody>{officers.into_iter().map(|o| view! {
                <tr class:overdue={o.overdue > 0} data-username=o.username.clone()>
                    <th scope="row">{o.display_name.clone()} " (" {o.username.clone()} ")"</th>
                    <td>{o.tasks}</td><td>{o.todo}</td><td>{o.in_progress}</td><td>{o.blocked}</td>
                    <td class="done-count">{o.done}</td><td>{o.overdue}</td>
                    <td>{o.average_progress.map(|p| format!("{p} %")).unwrap_or_else(|| "—".into())}</td>
                </tr>
            }).collect_view()}</tbody>
        </table>
    }
}

#[component]
fn TaskTable(page: TaskPage, officers: Signal<Vec<Officer>>) -> impl IntoView {
    let status = expect_context::<Status>();
    let live = expect_context::<Live>();
    let problem = RwSignal::new(None::<String>);
    let reassign = move |id: DocId, assignee: String| {
        spawn_local(async move {
            let answer = api::post::<Assigned>(&format!("/api/v1/tasks/{id}/assign"), &csrf_token(status), &Assign { assignee }).await;
            problem.set(answer.err().map(|p| p.message));
            live.records.update(|n| *n += 1);
        });
    };
    view! {
        <p>{(t().shown_of)(page.items.len(), page.total as usize)}</p>
        {move || problem.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        <table class="desk-table" id="task-table">
            <thead><tr>
                <th scope="col">{t().desk.title}</th><th scope="col">{t().desk.site}</th><th scope="col">{t().desk.assigned_to}</th>
                <th scope="col">{t().desk.due_date}</th><th scope="col">{t().filter_status}</th><th scope="col">{t().desk.progress_percent}</th>
            </tr></thead>
            <tbody>{page.items.into_iter().map(|task| {
                let id = task.id;
                let assignee = task.assignee.clone().unwrap_or_default();
                view! {
                    <tr class:overdue=task.overdue data-title=task.title.clone().unwrap_or_default()>
                        <th scope="row">{task.title.clone().unwrap_or_else(|| t().untitled_task.to_owned())}
                            {task.overdue.then(|| view! { " " <span class="badge refused">{t().overdue}</span> })}</th>
                        <td>{task.site.clone()}</td>
                        <td><select aria-label=t().desk.assigned_to on:change=move |ev| reassign(id, event_target_value(&ev))>
                            {move || officers.get().into_iter().map(|o| {
                                let selected = o.username == assignee;
                                view! { <option value=o.username.clone() selected=selected>{o.display_name.clone()} " (" {o.username.clone()} ")"</option> }
                            }).collect_view()}
                        </select></td>
                        <td>{task.due_date.clone()}</td>
                        <td class="task-status">{task.status.replace('_', " ")}</td>
                        <td>{task.progress_percent.map(|p| format!("{p} %"))}</td>
                    </tr>
                }
            }).collect_view()}</tbody>
        </table>
    }
}

/// The form of a new task.
#[component]
fn NewTask(officers: Signal<Vec<Officer>>) -> impl IntoView {
    let status = expect_context::<Status>();
    let live = expect_context::<Live>();
    let fields = ["title", "ppa", "site", "description", "due_date", "assignee"].map(|_| RwSignal::new(String::new()));
    let [title, ppa, site, description, due_date, assignee] = fields;
    // The PPA is chosen from the organization's submitted and certified ones; a PPA not
    // in BMMS yet is typed, as before.
    let ppa_id = RwSignal::new(None::<DocId>);
    // A milestone of that PPA which the task checks (done with the task).
    let milestone = RwSignal::new(None::<u32>);
    let choices = RwSignal::new(None::<Result<Items<PpaChoice>, String>>);
    api::keep_loaded(live.records, || "/api/v1/tasks/ppas".to_owned(), choices);
    let template = RwSignal::new(CHECKLIST_TEMPLATES[0].0.to_owned());
    let problem = RwSignal::new(None::<Problem>);
    let created = RwSignal::new(None::<String>);
    // The task's id is chosen here, once per task: a request sent twice (a double click, a
    // retry after a lost answer) creates it once. A new id only after it was created.
    let task_id = RwSignal::new(DocId(Uuid::new_v4()));
    let sending = RwSignal::new(false);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        // What the last answer said no longer stands while this one is awaited.
        problem.set(None);
        created.set(None);
        let checklist: Vec<String> = CHECKLIST_TEMPLATES
            .iter()
            .find(|(name, _, _)| *name == template.get_untracked())
            .map(|(_, _, items)| items.iter().map(|item| item.to_string()).collect())
            .unwrap_or_default();
        let request = NewTaskBody {
            id: Some(task_id.get_untracked()),
            title: title.get_untracked(),
            ppa: ppa.get_untracked(),
            ppa_id: ppa_id.get_untracked(),
            ppa_milestone: milestone.get_untracked(),
            site: site.get_untracked(),
            description: description.get_untracked(),
            due_date: due_date.get_untracked(),
            assignee: assignee.get_untracked(),
            checklist,
        };
        spawn_local(async move {
            let answer = api::post::<TaskCreated>("/api/v1/tasks", &csrf_token(status), &request).await;
            sending.set(false);
            match answer {
                Ok(_) => {
                    task_id.set(DocId(Uuid::new_v4()));
                    problem.set(None);
                    created.set(Some((t().desk.task_created)(&assignee.get_untracked())));
                    [title, ppa, site, description].iter().for_each(|f| f.set(String::new()));
                    ppa_id.set(None);
                    milestone.set(None);
                    live.records.update(|n| *n += 1);
                }
                Err(p) => {
                    created.set(None);
                    problem.set(Some(p));
                }
            }
        });
    };
    let input = move |id: &'static str, label: &'static str, kind: &'static str, value: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=format!("task-{id}")>{label}</label>
                <input id=format!("task-{id}") type=kind prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
                {move || problem.with(|p| Problem::about(p, id)).map(|m| view! { <small class="error" role="alert">{m}</small> })}
            </div>
        }
    };
    view! {
        <form class="new-task" on:submit=create>
            <h2>{t().desk.new_task}</h2>
            {input("title", t().desk.title, "text", title)}
            <div class="field">
                <label for="task-ppa-id">{t().desk.ppa_monitored}</label>
                <select id="task-ppa-id" on:change=move |ev| { ppa_id.set(event_target_value(&ev).parse().ok()); milestone.set(None); }>
                    <option value="">{t().desk.ppa_typed}</option>
                    {move || choices.get().and_then(Result::ok).map(|c| c.items.into_iter().map(|p| view! {
                        <option value=p.id.to_string() selected=move || ppa_id.get() == Some(p.id)>{p.title} " (" {p.status} ")"</option>
                    }).collect_view())}
                </select>
                {move || problem.with(|p| Problem::about(p, "ppa_id")).map(|m| view! { <small class="error" role="alert">{m}</small> })}
            </div>
            {move || ppa_id.get().is_none().then(|| input("ppa", t().desk.ppa, "text", ppa))}
            {move || {
                let chosen = ppa_id.get()?;
                let milestones = choices.get()?.ok()?.items.into_iter().find(|p| p.id == chosen)?.milestones;
                (!milestones.is_empty()).then(|| view! {
                    <div class="field">
                        <label for="task-ppa-milestone">{t().desk.milestone_checked}</label>
                        <select id="task-ppa-milestone" on:change=move |ev| milestone.set(event_target_value(&ev).parse().ok())>
                            <option value="">{t().desk.no_milestone}</option>
                            {milestones.into_iter().map(|m| view! {
                                <option value=m.n.to_string()>{m.title} {m.due.map(|due| format!(" ({due})"))}</option>
                            }).collect_view()}
                        </select>
                        {move || problem.with(|p| Problem::about(p, "ppa_milestone")).map(|m| view! { <small class="error" role="alert">{m}</small> })}
                    </div>
                })
            }}
            {input("site", t().desk.site, "text", site)}
            {input("description", t().desk.description, "text", description)}
            {input("due_date", t().desk.due_date, "date", due_date)}
            <div class="field">
                <label for="task-assignee">{t().desk.assigned_to}</label>
                <select id="task-assignee" on:change=move |ev| assignee.set(event_target_value(&ev))>
                    <option value="">"—"</option>
                    {move || officers.get().into_iter().map(|o| view! {
                        <option value=o.username.clone()>{o.display_name.clone()} " (" {o.username.clone()} ")"</option>
                    }).collect_view()}
                </select>
                {move || problem.with(|p| Problem::about(p, "assignee")).map(|m| view! { <small class="error" role="alert">{m}</small> })}
            </div>
            <div class="field">
                <label for="task-template">{t().desk.checklist_template}</label>
                <select id="task-template" on:change=move |ev| template.set(event_target_value(&ev))>
                    {CHECKLIST_TEMPLATES.iter().map(|(name, label, _)| view! { <option value=*name>{*label}</option> }).collect_view()}
                </select>
                <ul class="template-items">{move || CHECKLIST_TEMPLATES.iter().find(|(name, _, _)| *name == template.get())
                    .map(|(_, _, items)| items.iter().map(|item| view! { <li>{*item}</li> }).collect_view())}</ul>
            </div>
            {move || problem.with(|p| Problem::general(p, &["title", "ppa", "ppa_id", "ppa_milestone", "site", "description", "due_date", "assignee"]))
                .map(|m| view! { <p class="error" role="alert">{m}</p> })}
            {move || created.get().map(|m| view! { <p class="saved" role="status" id="task-created">{m}</p> })}
            <button class="primary" type="submit" disabled=move || sending.get()>{t().desk.create_task}</button>
        </form>
    }
}
