//! Monitoring tasks: the organization's task list, and supervisors hand them out: create one (PPA, site, due date, a checklist
//! from a template), assign or reassign it, and follow each officer's progress. A task is
//! an Automerge document like any other, written by the supervisor's desk actor, so the
//! officer's device receives a new or changed task as a delta at its next sync.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use bmms_shared::policy;
use bmms_shared::records::fields::ChecklistItem;
use bmms_shared::records::{FieldValue, RecordKind};
use bmms_shared::api::{Assign, Assigned, Items, MilestoneChoice, NewTask, OfficerProgress, Page, PpaChoice, TaskCreated, TaskQuery, TaskRow};
use bmms_shared::{DocId, Role};
use chrono::NaiveDate;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, Event};
use crate::auth::{Caller, SignedIn};
use crate::db::OrgTx;
use crate::error::ApiError;
use crate::events::Topic;
use crate::routes::extract::{paging, ApiJson, ApiPath, ApiQuery};
use crate::proposals::named_milestones;
use crate::sync::desk_edit;
use crate::wire::maybe_date;

/// The assignee must be an active field officer or supervisor of the organization.
async fn check_assignee(tx: &mut OrgTx, username: &str) -> Result<(), ApiError> {
    if username.trim().is_empty() {
        return Err(ApiError::invalid_field("assignee", "Choose the officer who does the task."));
    }
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

/// Every field a new task needs and lacks, named in one sentence, so that the supervisor
/// fills them all at once instead of one per click ("Give the task a title, the site and a
/// due date."). The first is the field the screen points at.
fn require_all(task: &NewTask) -> Result<(), ApiError> {
    let needed = [
        ("title", &task.title, "a title"),
        ("ppa", &task.ppa, "the program, project or activity it serves"),
        ("site", &task.site, "the site"),
        ("due_date", &task.due_date, "a due date"),
        ("assignee", &task.assignee, "the officer who does it"),
    ];
    let missing: Vec<(&str, &str)> =
        needed.into_iter().filter(|(_, value, _)| value.trim().is_empty()).map(|(field, _, words)| (field, words)).collect();
    let Some((first, _)) = missing.first() else { return Ok(()) };
    let words: Vec<&str> = missing.iter().map(|(_, words)| *words).collect();
    let listed = match words.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    Err(ApiError::invalid_field(*first, format!("Give the task {listed}.")))
}

fn text(value: &str) -> FieldValue {
    FieldValue::Text(value.trim().to_owned())
}

/// A task as the task list reads it.
#[derive(sqlx::FromRow)]
struct StoredTask {
    id: DocId,
    status: String,
    title: Option<String>,
    site: Option<String>,
    assignee: Option<String>,
    due_date: Option<NaiveDate>,
    progress_percent: Option<i32>,
    ppa_id: Option<DocId>,
    overdue: bool,
    /// Of the whole filtered list, not of this page.
    total: i64,
}

/// `GET /api/v1/tasks?status=&assignee=&limit=&offset=`
pub async fn list(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiQuery(query): ApiQuery<TaskQuery>,
) -> Result<Json<Page<TaskRow>>, ApiError> {
    let caller = signed_in.require_member()?;
    let (limit, offset) = paging::check(query.limit, query.offset)?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<StoredTask> = sqlx::query_as(
        "select id, status, title, site, assignee, due_date, progress_percent, ppa_id,
                coalesce(status <> 'done' and due_date < current_date, false) as overdue, count(*) over () as total
         from monitoring_tasks
         where ($1::text is null or status = $1) and ($2::text is null or assignee = $2)
         order by due_date nulls last, id limit $3 offset $4",
    )
    .bind(&query.status)
    .bind(&query.assignee)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let total = rows.first().map(|r| r.total).unwrap_or(0);
    let items = rows
        .into_iter()
        .map(|t| TaskRow {
            assignee: t.assignee,
            due_date: maybe_date(t.due_date),
            id: t.id,
            overdue: t.overdue,
            ppa_id: t.ppa_id,
            progress_percent: t.progress_percent,
            site: t.site,
            status: t.status,
            title: t.title,
        })
        .collect();
    Ok(Json(Page { items, limit, offset, total }))
}

/// `POST /api/v1/tasks`: a new task, assigned.
pub async fn create(State(state): State<AppState>, signed_in: SignedIn, body: Result<ApiJson<NewTask>, ApiError>) -> Result<(StatusCode, Json<TaskCreated>), ApiError> {
    let caller = signed_in.require_allowed(|role| policy::may_create(role, RecordKind::MonitoringTask))?;
    let ApiJson(mut task) = body?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    match task.ppa_id {
        Some(ppa_id) => task.ppa = monitored_ppa(&mut tx, ppa_id, task.ppa_milestone).await?,
        None if task.ppa_milestone.is_some() => {
            return Err(ApiError::invalid_field("ppa_milestone", "A milestone belongs to a PPA: choose the PPA the task monitors first."))
        }
        None => {}
    }
    require_all(&task)?;
    let mut fields = vec![
        ("title", text(&task.title)),
        ("ppa", text(&task.ppa)),
        ("site", text(&task.site)),
        ("due_date", FieldValue::Date(task.due_date.trim().to_owned())),
        ("assignee", text(&task.assignee)),
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
    if let Some(ppa_id) = task.ppa_id {
        fields.push(("ppa_id", FieldValue::Text(ppa_id.to_string())));
    }
    if let Some(n) = task.ppa_milestone {
        fields.push(("ppa_milestone", FieldValue::Integer(n.into())));
    }
    let id = task.id.unwrap_or_else(|| DocId::random());
    check_assignee(&mut tx, &task.assignee).await?;
    let write = Box::new(move |doc: &mut automerge::AutoCommit| desk_edit::set_fields(doc, fields));
    if !desk_edit::create(&mut tx, id, RecordKind::MonitoringTask, caller.user_id, write).await? {
        drop(tx);
        return already_created(&state, &caller, id, &task).await;
    }
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "task.create",
        subject: format!("record:{id}"),
        details: json!({"title": task.title.trim(), "assignee": task.assignee.trim(), "due_date": task.due_date.trim(), "ppa_id": task.ppa_id}),
    })
    .await?;
    tx.commit().await?;
    state.events.announce(caller.org_id, Topic::Records);
    Ok((StatusCode::CREATED, Json(TaskCreated { id })))
}

/// The answer to a task whose id is taken: the same request sent again (a double click,
/// a retry) finds its task and changes nothing; the same id with other details is 409
/// (the first request's task stands); any other use of the id is refused without saying
/// whether it exists elsewhere.
async fn already_created(state: &AppState, caller: &Caller, id: DocId, task: &NewTask) -> Result<(StatusCode, Json<TaskCreated>), ApiError> {
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    #[derive(sqlx::FromRow, PartialEq)]
    struct Details {
        title: Option<String>,
        ppa: Option<String>,
        ppa_id: Option<DocId>,
        site: Option<String>,
        assignee: Option<String>,
        due_date: Option<String>,
    }
    let stored: Option<Details> =
        sqlx::query_as("select title, ppa, ppa_id, site, assignee, to_char(due_date, 'YYYY-MM-DD') as due_date from monitoring_tasks where id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    let sent = Details {
        title: Some(task.title.trim().to_owned()),
        ppa: Some(task.ppa.trim().to_owned()),
        ppa_id: task.ppa_id,
        site: Some(task.site.trim().to_owned()),
        assignee: Some(task.assignee.trim().to_owned()),
        due_date: Some(task.due_date.trim().to_owned()),
    };
    match stored {
        Some(stored) if stored == sent => Ok((StatusCode::OK, Json(TaskCreated { id }))),
        Some(_) => Err(ApiError::client(
            StatusCode::CONFLICT,
            "task_exists",
            "A task with this id was already created with other details; it is in the task list. Open the form again to create another.",
        )),
        None => Err(ApiError::invalid_field("id", bmms_shared::sync::merge::UNUSABLE_ID)),
    }
}

/// The title of the PPA a new task is to monitor: one of the organization's submitted or
/// certified proposals (another organization's is not found, as if it did not exist).
async fn monitored_ppa(tx: &mut OrgTx, id: DocId, milestone: Option<u32>) -> Result<String, ApiError> {
    let found: Option<(Option<String>, serde_json::Value)> =
        sqlx::query_as("select title, content from ppa_proposals where id = $1 and status in ('submitted', 'certified')")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?;
    let Some((title, content)) = found else {
        return Err(ApiError::invalid_field(
            "ppa_id",
            "Choose one of your organization's submitted or certified PPAs; this one is not among them (a draft or a returned proposal cannot be monitored yet).",
        ));
    };
    if let Some(n) = milestone {
        if !named_milestones(&content).iter().any(|m| m.n == n) {
            return Err(ApiError::invalid_field("ppa_milestone", format!("The PPA has no milestone {n}; choose one of its milestones, or none.")));
        }
    }
    Ok(title.filter(|t| !t.trim().is_empty()).unwrap_or_else(|| "Untitled PPA".to_owned()))
}

/// `GET /api/v1/tasks/ppas`: the PPAs a new task may point at.
pub async fn ppa_choices(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Items<PpaChoice>>, ApiError> {
    let caller = signed_in.require_supervisor("hand out monitoring tasks")?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    // Only the milestones of each proposal's content travel: the desk asks again whenever
    // the organization's records change.
    let rows: Vec<(DocId, String, String, serde_json::Value)> = sqlx::query_as(
        "select id, status, coalesce(nullif(trim(title), ''), 'Untitled PPA'),
                (select coalesce(jsonb_object_agg(key, value), '{}') from jsonb_each(content) where key like 'milestone.%')
         from ppa_proposals where status in ('submitted', 'certified') order by 3, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let choice = |(id, status, title, content): (DocId, String, String, serde_json::Value)| {
        let milestones = named_milestones(&content)
            .into_iter()
            .filter(|m| m.done_on.is_none())
            .map(|m| MilestoneChoice { n: m.n, title: m.title.unwrap_or_else(|| format!("Milestone {}", m.n)), due: m.due })
            .collect();
        PpaChoice { id, status, title, milestones }
    };
    Ok(Json(Items { items: rows.into_iter().map(choice).collect() }))
}

pub async fn assign(
    State(state): State<AppState>,
    signed_in: SignedIn,
    ApiPath(id): ApiPath<DocId>,
    body: Result<ApiJson<Assign>, ApiError>,
) -> Result<Json<Assigned>, ApiError> {
    let caller = signed_in.require_allowed(|role| policy::may_write(role, RecordKind::MonitoringTask, "assignee"))?;
    let ApiJson(Assign { assignee }) = body?;
    let assignee = assignee.trim().to_owned();
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let kind: Option<String> = sqlx::query_scalar("select kind from documents where id = $1").bind(id).fetch_optional(&mut *tx).await?;
    if kind.as_deref() != Some(RecordKind::MonitoringTask.as_str()) {
        return Err(ApiError::not_found("There is no such monitoring task in your organization."));
    }
    check_assignee(&mut tx, &assignee).await?;
    let value = FieldValue::Text(assignee.clone());
    desk_edit::edit(&mut tx, id, caller.user_id, Box::new(move |doc| desk_edit::set_fields(doc, vec![("assignee", value)]))).await?;
    audit::append(&mut tx, Event {
        actor: &caller.actor(),
        action: "task.assign",
        subject: format!("record:{id}"),
        details: json!({"assignee": assignee}),
    })
    .await?;
    tx.commit().await?;
    state.events.announce(caller.org_id, Topic::Records);
    Ok(Json(Assigned { assignee, id }))
}

/// One officer's tasks, counted by status, as read.
#[derive(sqlx::FromRow)]
struct OfficerCounts {
    username: String,
    display_name: String,
    role: String,
    tasks: i64,
    todo: i64,
    in_progress: i64,
    blocked: i64,
    done: i64,
    overdue: i64,
    average_progress: Option<f64>,
}

/// `GET /api/v1/officers`: each field officer's and supervisor's tasks by status, the
/// overdue ones, and their average progress.
pub async fn progress(State(state): State<AppState>, signed_in: SignedIn) -> Result<Json<Items<OfficerProgress>>, ApiError> {
    let caller = signed_in.require_supervisor("see the officers' progress")?;
    let mut tx = OrgTx::begin(&state.db, caller.org_id).await?;
    let rows: Vec<OfficerCounts> = sqlx::query_as(
        "select u.username, u.display_name, m.role,
                count(t.id) as tasks, count(t.id) filter (where t.status = 'todo') as todo,
                count(t.id) filter (where t.status = 'in_progress') as in_progress,
                count(t.id) filter (where t.status = 'blocked') as blocked,
                count(t.id) filter (where t.status = 'done') as done,
                count(t.id) filter (where t.status <> 'done' and t.due_date < current_date) as overdue,
                avg(t.progress_percent)::float8 as average_progress
         from memberships m join users u on u.id = m.user_id
         left join monitoring_tasks t on t.assignee = u.username
         where m.role in ('field_officer', 'supervisor') and u.disabled_at is null
         group by u.username, u.display_name, m.role order by u.display_name",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let items = rows
        .into_iter()
        .map(|o| {
            let role: Role = o.role.parse().map_err(|e| ApiError::Internal(anyhow::Error::new(e)))?;
            Ok(OfficerProgress {
                average_progress: o.average_progress.map(|p| p.round() as i64),
                blocked: o.blocked,
                display_name: o.display_name,
                done: o.done,
                in_progress: o.in_progress,
                overdue: o.overdue,
                role,
                tasks: o.tasks,
                todo: o.todo,
                username: o.username,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(Items { items }))
}
