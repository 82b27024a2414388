//! Supervisors hand out monitoring tasks: create one (PPA, site, due date, a checklist
//! from a template), assign or reassign it, and follow each officer's progress. A task is
//! an Automerge document like any other, written by the supervisor's desk actor, so the
//! officer's device receives a new or changed task as a delta at its next sync.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::policy;
use bmms_shared::records::fields::ChecklistItem;
use bmms_shared::records::{FieldValue, RecordKind};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::SignedIn;
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::extract::{ApiJson, ApiPath};
use crate::sync::desk_edit;

/// `POST /api/v1/tasks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    /// Chosen by the client, so that the same request sent twice creates one task; a new
    /// one when absent.
    #[serde(default)]
    pub id: Option<Uuid>,
    pub title: String,
    pub ppa: String,
    pub site: String,
    #[serde(default)]
    pub description: String,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    /// The officer's username.
    pub assignee: String,
    /// The checklist's items, e.g. from one of `bmms_shared::records::task::CHECKLIST_TEMPLATES`.
    #[serde(default)]
    pub checklist: Vec<String>,
}

/// `POST /api/v1/tasks/{id}/assign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    pub assignee: String,
}

/// The assignee must be an active field officer or supervisor of the organization.
async fn check_assignee(tx: &mut OrgTx, username: &str) -> Result<(), ApiError> {
    let found: Option<String> = sqlx::query_scalar(
        "select u.username from memberships m join users u on u.id = m.user_id
         where u.username = $1 and u.disabled_at is null and m.role in ('field_officer', 'supervisor')",
    )
    .bind(username.trim())
    .fetch_optional(&mut **tx)
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(ApiError::invalid_field(
            "assignee",
            format!("No active field officer or supervisor of your organization has the username \"{}\".", username.trim()),
        )),
    }
}

fn required(field: &str, value: &str, label: &str) -> Result<FieldValue, ApiError> {
    match value.trim() {
        "" => Err(ApiError::invalid_field(field, format!("Give the task a {label}."))),
        value => Ok(FieldValue::Text(value.to_owned())),
    }
}

pub async fn create(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<NewTask>, ApiError>) -> Result<(StatusCode, Json<Value>), ApiError> {
    signed_in.require_allowed(|role| policy::may_create(role, RecordKind::MonitoringTask))?;
    let ApiJson(task) = body?;
    let mut fields = vec![
        ("title", required("title", &task.title, "title")?),
        ("ppa", required("ppa", &task.ppa, "program, project or activity")?),
        ("site", required("site", &task.site, "site")?),
        ("due_date", FieldValue::Date(task.due_date.trim().to_owned())),
        ("assignee", FieldValue::Text(task.assignee.trim().to_owned())),
        ("progress_percent", FieldValue::Integer(0)),
    ];
    if !task.description.trim().is_empty() {
        fields.push(("description", FieldValue::Text(task.description.trim().to_owned())));
    }
    let checklist: Vec<ChecklistItem> =
        task.checklist.iter().filter(|t| !t.trim().is_empty()).map(|t| ChecklistItem { text: t.trim().to_owned(), done: false }).collect();
    if !checklist.is_empty() {
        fields.push(("checklist", FieldValue::Checklist(checklist)));
    }
    let id = task.id.unwrap_or_else(Uuid::new_v4);
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    check_assignee(&mut tx, &task.assignee).await?;
    let write = Box::new(move |doc: &mut automerge::AutoCommit| desk_edit::set_fields(doc, fields));
    if !desk_edit::create(&mut tx, id, RecordKind::MonitoringTask, signed_in.user_id(), write).await? {
        drop(tx);
        return already_created(&state, &signed_in, id, &task).await;
    }
    audit::append(&mut tx, Event {
        actor: &signed_in.actor(),
        action: "task.create",
        subject: format!("record:{id}"),
        details: json!({"title": task.title.trim(), "assignee": task.assignee.trim(), "due_date": task.due_date.trim()}),
    })
    .await?;
    tx.commit().await?;
    state.events.announce(signed_in.org_id(), Topic::Records);
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

/// The answer to a task whose id is taken: the same request sent again (a double click,
/// a retry) finds its task and changes nothing; the same id with other details is 409
/// (the first request's task stands); any other use of the id is refused without saying
/// whether it exists elsewhere.
async fn already_created(state: &AppState, signed_in: &SignedIn, id: Uuid, task: &NewTask) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    #[derive(sqlx::FromRow, PartialEq)]
    struct Details {
        title: Option<String>,
        ppa: Option<String>,
        site: Option<String>,
        assignee: Option<String>,
        due_date: Option<String>,
    }
    let stored: Option<Details> =
        sqlx::query_as("select title, ppa, site, assignee, to_char(due_date, 'YYYY-MM-DD') as due_date from monitoring_tasks where id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    let sent = Details {
        title: Some(task.title.trim().to_owned()),
        ppa: Some(task.ppa.trim().to_owned()),
        site: Some(task.site.trim().to_owned()),
        assignee: Some(task.assignee.trim().to_owned()),
        due_date: Some(task.due_date.trim().to_owned()),
    };
    match stored {
        Some(stored) if stored == sent => Ok((StatusCode::OK, Json(json!({"id": id})))),
        Some(_) => Err(ApiError::client(
            StatusCode::CONFLICT,
            "task_exists",
            "A task with this id was already created with other details; it is in the task list. Open the form again to create another.",
        )),
        None => Err(ApiError::invalid_field("id", bmms_shared::sync::memory_server::UNUSABLE_ID)),
    }
}

pub async fn assign(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<Uuid>,
    body: Result<ApiJson<Assign>, ApiError>,
) -> Result<Json<Value>, ApiError> {
    signed_in.require_allowed(|role| policy::may_write(role, RecordKind::MonitoringTask, "assignee"))?;
    let ApiJson(Assign { assignee }) = body?;
    let assignee = assignee.trim().to_owned();
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    let kind: Option<String> = sqlx::query_scalar("select kind from documents where id = $1").bind(id).fetch_optional(&mut *tx).await?;
    if kind.as_deref() != Some(RecordKind::MonitoringTask.as_str()) {
        return Err(ApiError::not_found("There is no such monitoring task in your organization."));
    }
    check_assignee(&mut tx, &assignee).await?;
    let value = FieldValue::Text(assignee.clone());
    desk_edit::edit(&mut tx, id, signed_in.user_id(), Box::new(move |doc| desk_edit::set_fields(doc, vec![("assignee", value)]))).await?;
    audit::append(&mut tx, Event {
        actor: &signed_in.actor(),
        action: "task.assign",
        subject: format!("record:{id}"),
        details: json!({"assignee": assignee}),
    })
    .await?;
    tx.commit().await?;
    state.events.announce(signed_in.org_id(), Topic::Records);
    Ok(Json(json!({"id": id, "assignee": assignee})))
}

/// `GET /api/v1/officers`: each field officer's and supervisor's tasks by status, the
/// overdue ones, and their average progress.
pub async fn progress(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Value>, ApiError> {
    signed_in.require_supervisor("see the officers' progress")?;
    let mut tx = OrgTx::begin(&state.db, signed_in.org_id()).await?;
    type Row = (String, String, String, i64, i64, i64, i64, i64, i64, Option<f64>);
    let rows: Vec<Row> = sqlx::query_as(
        "select u.username, u.display_name, m.role,
                count(t.id), count(t.id) filter (where t.status = 'todo'),
                count(t.id) filter (where t.status = 'in_progress'), count(t.id) filter (where t.status = 'blocked'),
                count(t.id) filter (where t.status = 'done'),
                count(t.id) filter (where t.status <> 'done' and t.due_date < current_date),
                avg(t.progress_percent)::float8
         from memberships m join users u on u.id = m.user_id
         left join monitoring_tasks t on t.assignee = u.username
         where m.role in ('field_officer', 'supervisor') and u.disabled_at is null
         group by u.username, u.display_name, m.role order by u.display_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|(username, name, role, total, todo, in_progress, blocked, done, overdue, progress)| {
            json!({"username": username, "display_name": name, "role": role, "tasks": total, "todo": todo,
                   "in_progress": in_progress, "blocked": blocked, "done": done, "overdue": overdue,
                   "average_progress": progress.map(|p| p.round() as i64)})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}
