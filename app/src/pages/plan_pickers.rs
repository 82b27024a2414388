//! The development plan as a proposal's form uses it: the goals and indicators to choose
//! from (by title, not by code alone) and the framework the score preview reads.
//!
//! The plan is read from the server once a session, when there is a connection, and kept
//! in the browser's storage, so that a phone that read it once shows the pickers and the
//! score offline too. Typed codes still work without it: the server checks them at
//! submission.

use bmms_shared::api::Bdp;
use bmms_shared::records::{FieldSpec, FieldValue};
use bmms_shared::DocId;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::form::{current, save, Saved};
use crate::browser;
use crate::device::Status;
use crate::text::t;

/// Where the plan is kept between sessions.
const STORED: &str = "bmms-bdp";

thread_local! {
    /// Whether the plan was read from the server this session: opening another proposal
    /// asks no more.
    static READ_THIS_SESSION: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The development plan as this device knows it, for a proposal's form and its parts
/// (in the form's context).
#[derive(Clone, Copy)]
pub struct KnownPlan(pub RwSignal<Option<Bdp>>);

/// Puts the plan in the context of a proposal's form: the stored copy at once, then the
/// server's when there is a connection (once a session).
pub fn provide_known_plan() {
    let status = expect_context::<Status>();
    let plan = RwSignal::new(browser::remembered(STORED).and_then(|json| serde_json::from_str::<Bdp>(&json).ok()));
    Effect::new(move |_| {
        if status.online.get() && !READ_THIS_SESSION.get() {
            spawn_local(async move {
                if let Ok(bdp) = crate::api::bdp().await {
                    READ_THIS_SESSION.set(true);
                    if let Ok(json) = serde_json::to_string(&bdp) {
                        browser::remember(STORED, &json);
                    }
                    plan.set(Some(bdp));
                }
            });
        }
    });
    provide_context(KnownPlan(plan));
}

/// A goal's code as a person reads it: "S2: Health for all".
fn describe_goal(plan: Option<&Bdp>, code: &str) -> String {
    match plan.map(|bdp| bdp.goals.iter().find(|g| g.code == code)) {
        Some(Some(goal)) => format!("{code}: {}", goal.title),
        Some(None) => format!("{code}: {}", t().not_a_goal),
        None => code.to_owned(),
    }
}

/// Under a proposal's goals: each code with its title, and a choice among the plan's
/// other goals to add.
#[component]
pub fn GoalAdder(id: DocId, spec: &'static FieldSpec, saved: RwSignal<Saved>) -> impl IntoView {
    let status = expect_context::<Status>();
    let KnownPlan(plan) = expect_context();
    let codes = Memo::new(move |_| {
        status.revision.track();
        match current(id, &spec.name) {
            Some(FieldValue::TextList(codes)) => codes,
            _ => Vec::new(),
        }
    });
    let chosen = RwSignal::new(String::new());
    let add = move |_| {
        let code = chosen.get_untracked();
        let mut all = codes.get_untracked();
        if !code.is_empty() && !all.contains(&code) {
            all.push(code);
            chosen.set(String::new());
            spawn_local(async move { saved.set(save(status, id, spec, Some(FieldValue::TextList(all))).await) });
        }
    };
    view! {
        <ul class="goal-names">{move || codes.get().iter().map(|code| view! {
            <li>{plan.with(|plan| describe_goal(plan.as_ref(), code))}</li>
        }).collect_view()}</ul>
        {move || plan.get().map(|bdp| view! {
            <div class="goal-picker">
                <select aria-label=t().goal_to_add prop:value=chosen on:change=move |ev| chosen.set(event_target_value(&ev))>
                    <option value="">{t().choose_goal}</option>
                    {bdp.goals.into_iter().filter(|g| !codes.get().contains(&g.code)).map(|g| view! {
                        <option value=g.code.clone()>{format!("{}: {}", g.code, g.title)}</option>
                    }).collect_view()}
                </select>
                " " <button type="button" class="small" on:click=add disabled=move || chosen.get().is_empty()>{t().add_goal}</button>
            </div>
        })}
    }
}

/// The id of the list of the plan's indicators that each indicator's input offers.
pub const INDICATOR_LIST: &str = "bdp-indicators";

/// The plan's indicators to choose from in a proposal's indicator inputs: those of the
/// goals it names first, each labelled with its name and goal.
#[component]
pub fn IndicatorList(id: DocId) -> impl IntoView {
    let status = expect_context::<Status>();
    let KnownPlan(plan) = expect_context();
    let options = Memo::new(move |_| {
        status.revision.track();
        let named = match current(id, "goals") {
            Some(FieldValue::TextList(codes)) => codes,
            _ => Vec::new(),
        };
        let mut options: Vec<(bool, String, String)> = plan.with(|plan| {
            plan.iter()
                .flat_map(|bdp| &bdp.goals)
                .flat_map(|goal| {
                    let other_goal = !named.contains(&goal.code);
                    goal.indicators.iter().map(move |i| (other_goal, i.code.clone(), format!("{} ({})", i.name, goal.code)))
                })
                .collect()
        });
        options.sort();
        options
    });
    view! {
        <datalist id=INDICATOR_LIST>
            {move || options.get().into_iter().map(|(_, code, label)| view! { <option value=code label=label></option> }).collect_view()}
        </datalist>
    }
}

/// Under an indicator's input: the name and unit of the indicator its code names.
#[component]
pub fn IndicatorName(id: DocId, field: &'static str) -> impl IntoView {
    let status = expect_context::<Status>();
    let KnownPlan(plan) = expect_context();
    move || {
        status.revision.track();
        let Some(FieldValue::Text(code)) = current(id, field) else { return None };
        plan.with(|plan| {
            let bdp = plan.as_ref()?;
            let named = bdp.goals.iter().flat_map(|g| g.indicators.iter().map(move |i| (g, i))).find(|(_, i)| i.code == code.trim());
            Some(match named {
                Some((goal, indicator)) if indicator.unit.is_empty() => format!("{}: {} ({})", indicator.code, indicator.name, goal.code),
                Some((goal, indicator)) => format!("{}: {}, in {} ({})", indicator.code, indicator.name, indicator.unit, goal.code),
                None => format!("{}: {}", code.trim(), t().not_an_indicator),
            })
        })
        .map(|line| view! { <small class="indicator-name">{line}</small> })
    }
}
