//! The development plan's framework (BPDA): its goals with their outcome indicators and
//! targets, and the priority areas. Everyone signed in reads it, since proposals are
//! scored against it; a BPDA planner also adds and changes goals and indicators and sets
//! priority areas here. Online only, like the other desk screens.

use bmms_shared::api::{Bdp, BdpGoal, BdpIndicator, BdpPriority, BdpSettings, GoalInput, IndicatorInput, PriorityInput, Target};
use bmms_shared::plans::PriorityLevel;
use bmms_shared::Role;
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::desk::api::{self, Problem};
use crate::desk::csrf_token;
use crate::device::Status;
use crate::text::t;

mod aip;
mod certified;
mod implementation;
mod multi_year;
mod partnered;
mod queue;
mod review;
pub use aip::AnnualInvestmentProgram;
pub use certified::{CertifiedProposals, CertifiedTab};
pub use implementation::ImplementationView;
pub use multi_year::MultiYearPlanView;
pub use partnered::PartnerProposals;
pub use queue::ProposalQueue;
pub use review::ReviewSubmission;

#[component]
pub fn DevelopmentPlan() -> impl IntoView {
    let status = expect_context::<Status>();
    let planner = status.me.get_untracked().is_some_and(|me| me.role == Role::BpdaPlanner);
    let refresh = RwSignal::new(0u64);
    let bdp = RwSignal::new(None::<Result<Bdp, String>>);
    api::keep_loaded(refresh, || "/api/v1/bdp".into(), bdp);
    let editing_goal = RwSignal::new(None::<BdpGoal>);
    let editing_indicator = RwSignal::new(None::<BdpIndicator>);
    let goals = Signal::derive(move || bdp.get().and_then(Result::ok).map(|b| b.goals).unwrap_or_default());
    let settings = Signal::derive(move || bdp.get().and_then(Result::ok).map(|b| b.settings));
    view! {
        <section class="card desk" id="development-plan">
            <h1>{t().plans.tab}</h1>
            {move || match bdp.get() {
                None => view! { <p>{t().loading}</p> }.into_any(),
                Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
                Some(Ok(bdp)) => view! { <Framework bdp=bdp planner=planner editing_goal=editing_goal editing_indicator=editing_indicator refresh=refresh /> }.into_any(),
            }}
            {planner.then(|| view! {
                <SettingsForm settings=settings refresh=refresh />
                <GoalForm editing=editing_goal refresh=refresh />
                <IndicatorForm goals=goals editing=editing_indicator refresh=refresh />
                <PriorityForm refresh=refresh />
            })}
        </section>
    }
}

fn level_label(level: PriorityLevel) -> &'static str {
    match level {
        PriorityLevel::High => t().plans.high,
        PriorityLevel::Medium => t().plans.medium,
        PriorityLevel::Low => t().plans.low,
    }
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 { format!("{value:.0}") } else { value.to_string() }
}

fn targets_text(targets: &[Target]) -> String {
    targets.iter().map(|target| format!("{}: {}", target.year, number(target.value))).collect::<Vec<_>>().join(", ")
}

/// `2025: 85, 2028: 92` as targets; None when it does not read so.
fn read_targets(text: &str) -> Option<Vec<Target>> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (year, value) = part.split_once(':')?;
            Some(Target { year: year.trim().parse().ok()?, value: value.trim().parse().ok()? })
        })
        .collect()
}

#[component]
fn Framework(
    bdp: Bdp,
    planner: bool,
    editing_goal: RwSignal<Option<BdpGoal>>,
    editing_indicator: RwSignal<Option<BdpIndicator>>,
    refresh: RwSignal<u64>,
) -> impl IntoView {
    let status = expect_context::<Status>();
    let problem = RwSignal::new(None::<String>);
    // Removes what `path` names (a priority area, a goal, an indicator).
    let remove = move |path: String| {
        spawn_local(async move {
            let answer = api::delete(&path, &csrf_token(status)).await;
            problem.set(answer.err().map(|p| p.message));
            refresh.update(|n| *n += 1);
        });
    };
    let settings = bdp.settings;
    view! {
        <h2 id="plan-title">{settings.title.clone()} " " <small>{(t().plans.period)(settings.first_year, settings.last_year)}</small>
            {settings.sample.then(|| view! { " " <span class="badge waiting">{t().plans.sample}</span> })}</h2>
        {settings.sample.then(|| view! { <p class="note" id="sample-note">{t().plans.sample_explained}</p> })}
        <p>{(t().plans.full_reach)(settings.full_reach)}</p>
        {move || problem.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        <h2>{t().plans.goals}</h2>
        {bdp.goals.is_empty().then(|| view! { <p>{t().plans.no_goals}</p> })}
        {bdp.goals.into_iter().map(|goal| view! {
            <article class="goal" data-code=goal.code.clone()>
                <h3>{goal.code.clone()} " — " {goal.title.clone()}
                    {planner.then(|| { let (goal, path) = (goal.clone(), format!("/api/v1/bdp/goals/{}", goal.id)); view! {
                        " " <button class="secondary" on:click=move |_| editing_goal.set(Some(goal.clone()))>{t().plans.edit}</button>
                        " " <button class="secondary" on:click=move |_| remove(path.clone())>{t().plans.remove}</button>
                    }})}</h3>
                <p>{goal.description.clone()}</p>
                <table class="desk-table indicators">
                    <thead><tr>
                        <th scope="col">{t().plans.code}</th><th scope="col">{t().plans.indicator}</th><th scope="col">{t().plans.unit}</th>
                        <th scope="col">{t().plans.baseline}</th><th scope="col">{t().plans.targets}</th>
                        {planner.then(|| view! { <th scope="col"></th> })}
                    </tr></thead>
                    <tbody>{goal.indicators.into_iter().map(|i| view! {
                        <tr data-code=i.code.clone()>
                            <th scope="row">{i.code.clone()}</th><td>{i.name.clone()}</td><td>{i.unit.clone()}</td>
                            <td>{i.baseline.map(number)}{i.baseline_year.map(|y| format!(" ({y})"))}</td>
                            <td class="targets">{targets_text(&i.targets)}</td>
                            {planner.then(|| { let (i, path) = (i.clone(), format!("/api/v1/bdp/indicators/{}", i.id)); view! {
                                <td><button class="secondary" on:click=move |_| editing_indicator.set(Some(i.clone()))>{t().plans.edit}</button>
                                    " " <button class="secondary" on:click=move |_| remove(path.clone())>{t().plans.remove}</button></td>
                            }})}
                        </tr>
                    }).collect_view()}</tbody>
                </table>
            </article>
        }).collect_view()}
        <h2>{t().plans.priorities}</h2>
        {bdp.priorities.is_empty().then(|| view! { <p>{t().plans.no_priorities}</p> })}
        <table class="desk-table" id="priorities">
            <thead><tr>
                <th scope="col">{t().plans.place}</th><th scope="col">{t().plans.psgc_code}</th><th scope="col">{t().plans.level}</th>
                <th scope="col">{t().plans.note}</th>{planner.then(|| view! { <th scope="col"></th> })}
            </tr></thead>
            <tbody>{bdp.priorities.into_iter().map(|p: BdpPriority| { let code = p.place_code.clone(); view! {
                <tr data-code=p.place_code.clone()>
                    <th scope="row">{p.place_name.clone()}</th><td>{p.place_code.clone()}</td>
                    <td class="level">{level_label(p.level)}</td><td>{p.note.clone()}</td>
                    {planner.then(|| view! { <td><button class="secondary" on:click=move |_| remove(format!("/api/v1/bdp/priorities/{code}"))>{t().plans.remove}</button></td> })}
                </tr>
            }}).collect_view()}</tbody>
        </table>
    }
}

/// Saves a form's body: a new item of `collection` (POST), or the item `id` (PUT).
async fn add_or_change<T: serde::de::DeserializeOwned>(collection: &str, id: Option<Uuid>, csrf: &str, body: &impl serde::Serialize) -> Result<T, Problem> {
    match id {
        Some(id) => api::put(&format!("{collection}/{id}"), csrf, body).await,
        None => api::post(collection, csrf, body).await,
    }
}

/// Shows how a form's save went, and reloads the plan after one that succeeded; true then.
fn finished<T>(answer: Result<T, Problem>, saved: RwSignal<bool>, problem: RwSignal<Option<Problem>>, refresh: RwSignal<u64>) -> bool {
    let ok = answer.is_ok();
    saved.set(ok);
    problem.set(answer.err());
    if ok {
        refresh.update(|n| *n += 1);
    }
    ok
}

/// A text input of a planning form, with the server's message about it beneath.
fn input(form: &'static str, id: &'static str, label: &'static str, value: RwSignal<String>, problem: RwSignal<Option<Problem>>) -> impl IntoView {
    view! {
        <div class="field">
            <label for=format!("{form}-{id}")>{label}</label>
            <input id=format!("{form}-{id}") type="text" prop:value=value on:input=move |ev| value.set(event_target_value(&ev)) />
            {move || problem.with(|p| Problem::about(p, id)).map(|m| view! { <small class="error" role="alert">{m}</small> })}
        </div>
    }
}

/// What a form shows beneath its fields: a message about no one field, or that it saved.
fn outcome(problem: RwSignal<Option<Problem>>, saved: RwSignal<bool>, fields: &'static [&'static str]) -> impl IntoView {
    view! {
        {move || problem.with(|p| Problem::general(p, fields)).map(|m| view! { <p class="error" role="alert">{m}</p> })}
        {move || saved.get().then(|| view! { <p role="status">{t().plans.saved}</p> })}
    }
}

#[component]
fn GoalForm(editing: RwSignal<Option<BdpGoal>>, refresh: RwSignal<u64>) -> impl IntoView {
    let status = expect_context::<Status>();
    let [code, title, description] = [(); 3].map(|_| RwSignal::new(String::new()));
    let (problem, saved) = (RwSignal::new(None::<Problem>), RwSignal::new(false));
    Effect::new(move |_| {
        let goal = editing.get();
        code.set(goal.as_ref().map(|g| g.code.clone()).unwrap_or_default());
        title.set(goal.as_ref().map(|g| g.title.clone()).unwrap_or_default());
        description.set(goal.map(|g| g.description).unwrap_or_default());
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = GoalInput { code: code.get_untracked(), title: title.get_untracked(), description: description.get_untracked() };
        let id = editing.get_untracked().map(|g| g.id);
        spawn_local(async move {
            let answer = add_or_change::<BdpGoal>("/api/v1/bdp/goals", id, &csrf_token(status), &body).await;
            if finished(answer, saved, problem, refresh) {
                editing.set(None);
            }
        });
    };
    view! {
        <form id="goal-form" on:submit=save>
            <h2>{move || editing.get().map(|g| (t().plans.edit_goal)(&g.code)).unwrap_or_else(|| t().plans.new_goal.to_owned())}</h2>
            {input("goal", "code", t().plans.code, code, problem)}
            {input("goal", "title", t().plans.title, title, problem)}
            {input("goal", "description", t().plans.description, description, problem)}
            {outcome(problem, saved, &["code", "title", "description"])}
            <button type="submit">{t().plans.save}</button>
            {move || editing.get().is_some().then(|| view! { " " <button type="button" class="secondary" on:click=move |_| editing.set(None)>{t().plans.cancel}</button> })}
        </form>
    }
}

#[component]
fn IndicatorForm(goals: Signal<Vec<BdpGoal>>, editing: RwSignal<Option<BdpIndicator>>, refresh: RwSignal<u64>) -> impl IntoView {
    let status = expect_context::<Status>();
    let [goal_id, code, name, unit, baseline, baseline_year, targets] = [(); 7].map(|_| RwSignal::new(String::new()));
    let (problem, saved) = (RwSignal::new(None::<Problem>), RwSignal::new(false));
    Effect::new(move |_| {
        let indicator = editing.get();
        let text = |f: fn(&BdpIndicator) -> String| indicator.as_ref().map(f).unwrap_or_default();
        goal_id.set(text(|i| i.goal_id.to_string()));
        code.set(text(|i| i.code.clone()));
        name.set(text(|i| i.name.clone()));
        unit.set(text(|i| i.unit.clone()));
        baseline.set(text(|i| i.baseline.map(number).unwrap_or_default()));
        baseline_year.set(text(|i| i.baseline_year.map(|y| y.to_string()).unwrap_or_default()));
        targets.set(text(|i| targets_text(&i.targets)));
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wrong = |field: &str, message: &str| problem.set(Some(Problem { field: Some(field.to_owned()), message: message.to_owned() }));
        let optional = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let Some(read) = read_targets(&targets.get_untracked()) else { return wrong("targets", t().plans.targets_unreadable) };
        let Ok(baseline) = optional(baseline.get_untracked()).map(|b| b.parse::<f64>()).transpose() else { return wrong("baseline", t().plans.not_a_number) };
        let Ok(baseline_year) = optional(baseline_year.get_untracked()).map(|y| y.parse::<i32>()).transpose() else { return wrong("baseline_year", t().plans.not_a_number) };
        let goal = goal_id.get_untracked().parse::<Uuid>().ok().or_else(|| goals.get_untracked().first().map(|g| g.id));
        let Some(goal_id) = goal else { return wrong("goal_id", t().plans.no_goals) };
        let body = IndicatorInput { goal_id, code: code.get_untracked(), name: name.get_untracked(), unit: unit.get_untracked(), baseline, baseline_year, targets: read };
        let id = editing.get_untracked().map(|i| i.id);
        spawn_local(async move {
            let answer = add_or_change::<BdpIndicator>("/api/v1/bdp/indicators", id, &csrf_token(status), &body).await;
            if finished(answer, saved, problem, refresh) {
                editing.set(None);
            }
        });
    };
    view! {
        <form id="indicator-form" on:submit=save>
            <h2>{move || editing.get().map(|i| (t().plans.edit_indicator)(&i.code)).unwrap_or_else(|| t().plans.new_indicator.to_owned())}</h2>
            <div class="field">
                <label for="indicator-goal_id">{t().plans.goal}</label>
                <select id="indicator-goal_id" on:change=move |ev| goal_id.set(event_target_value(&ev))>
                    {move || goals.get().into_iter().map(|g| { let id = g.id.to_string(); view! {
                        <option value=id.clone() selected=move || goal_id.get() == id>{g.code.clone()} " — " {g.title.clone()}</option>
                    }}).collect_view()}
                </select>
            </div>
            {input("indicator", "code", t().plans.code, code, problem)}
            {input("indicator", "name", t().plans.indicator, name, problem)}
            {input("indicator", "unit", t().plans.unit, unit, problem)}
            {input("indicator", "baseline", t().plans.baseline, baseline, problem)}
            {input("indicator", "baseline_year", t().plans.baseline_year, baseline_year, problem)}
            {input("indicator", "targets", t().plans.targets, targets, problem)}
            <small>{t().plans.targets_hint}</small>
            {outcome(problem, saved, &["code", "name", "unit", "baseline", "baseline_year", "targets"])}
            <button type="submit">{t().plans.save}</button>
            {move || editing.get().is_some().then(|| view! { " " <button type="button" class="secondary" on:click=move |_| editing.set(None)>{t().plans.cancel}</button> })}
        </form>
    }
}

#[component]
fn PriorityForm(refresh: RwSignal<u64>) -> impl IntoView {
    let status = expect_context::<Status>();
    let [place_code, note] = [(); 2].map(|_| RwSignal::new(String::new()));
    let level = RwSignal::new(PriorityLevel::High);
    let (problem, saved) = (RwSignal::new(None::<Problem>), RwSignal::new(false));
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let code = place_code.get_untracked().trim().to_owned();
        let body = PriorityInput { level: level.get_untracked(), note: note.get_untracked() };
        spawn_local(async move {
            let answer = api::put::<BdpPriority>(&format!("/api/v1/bdp/priorities/{}", String::from(js_sys::encode_uri_component(&code))), &csrf_token(status), &body).await;
            if finished(answer, saved, problem, refresh) {
                place_code.set(String::new());
                note.set(String::new());
            }
        });
    };
    view! {
        <form id="priority-form" on:submit=save>
            <h2>{t().plans.set_priority}</h2>
            {input("priority", "place_code", t().plans.psgc_code, place_code, problem)}
            <div class="field">
                <label for="priority-level">{t().plans.level}</label>
                <select id="priority-level" on:change=move |ev| level.set(PriorityLevel::parse(&event_target_value(&ev)).unwrap_or(PriorityLevel::High))>
                    {PriorityLevel::ALL.map(|l| view! { <option value=l.as_str()>{level_label(l)}</option> }).collect_view()}
                </select>
            </div>
            {input("priority", "note", t().plans.note, note, problem)}
            {outcome(problem, saved, &["place_code", "note"])}
            <button type="submit">{t().plans.save}</button>
        </form>
    }
}

/// The framework's name, period and full-reach count, and whether it is still the sample.
#[component]
fn SettingsForm(settings: Signal<Option<BdpSettings>>, refresh: RwSignal<u64>) -> impl IntoView {
    let status = expect_context::<Status>();
    let [title, first_year, last_year, full_reach] = [(); 4].map(|_| RwSignal::new(String::new()));
    let sample = RwSignal::new(false);
    let (problem, saved) = (RwSignal::new(None::<Problem>), RwSignal::new(false));
    Effect::new(move |_| {
        if let Some(now) = settings.get() {
            title.set(now.title);
            first_year.set(now.first_year.to_string());
            last_year.set(now.last_year.to_string());
            full_reach.set(now.full_reach.to_string());
            sample.set(now.sample);
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wrong = |field: &str| problem.set(Some(Problem { field: Some(field.to_owned()), message: t().plans.not_a_number.to_owned() }));
        let Ok(first) = first_year.get_untracked().trim().parse() else { return wrong("first_year") };
        let Ok(last) = last_year.get_untracked().trim().parse() else { return wrong("last_year") };
        let Ok(reach) = full_reach.get_untracked().trim().parse() else { return wrong("full_reach") };
        let body = BdpSettings { title: title.get_untracked(), first_year: first, last_year: last, full_reach: reach, sample: sample.get_untracked() };
        spawn_local(async move {
            let answer = api::put::<Bdp>("/api/v1/bdp", &csrf_token(status), &body).await;
            finished(answer, saved, problem, refresh);
        });
    };
    view! {
        <form id="settings-form" on:submit=save>
            <h2>{t().plans.settings}</h2>
            {input("settings", "title", t().plans.title, title, problem)}
            {input("settings", "first_year", t().plans.first_year, first_year, problem)}
            {input("settings", "last_year", t().plans.last_year, last_year, problem)}
            {input("settings", "full_reach", t().plans.full_reach_label, full_reach, problem)}
            <label><input type="checkbox" prop:checked=sample on:change=move |ev| sample.set(event_target_checked(&ev)) />
                " " {t().plans.still_sample}</label>
            {outcome(problem, saved, &["title", "first_year", "last_year", "full_reach"])}
            <button type="submit">{t().plans.save}</button>
        </form>
    }
}
