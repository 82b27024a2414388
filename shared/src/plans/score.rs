//! BPDA's alignment score of a PPA proposal: how well it serves the Bangsamoro
//! Development Plan. Four components, weighted as the design gives them:
//!
//! | component | weight | value |
//! |---|---|---|
//! | strategic-goal match | 40 % | of the BDP goals the proposal names, the share it serves through one of the goal's own indicators |
//! | outcome-indicator coverage | 30 % | of the indicators of those goals, the share it promises a contribution to |
//! | geographic priority | 15 % | the mean, over its places, of the priority of the area each lies in (high 100, medium 60, low 30, none 0) |
//! | beneficiary reach | 15 % | its beneficiaries as a share of the framework's full-reach count, at most all of it |
//!
//! Every figure is a whole number of hundredths (`7999` is 79.99), computed with integer
//! arithmetic and rounded down at each step, so that the server and the app agree to the
//! last digit and 79.99 is never mistaken for 80. A proposal is certifiable at
//! [`CERTIFIABLE_AT`] (80.00) or more.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::psgc;

/// The lowest total BPDA certifies: 80.00, in hundredths.
pub const CERTIFIABLE_AT: u32 = 8_000;

/// A whole component, or the whole score: 100.00 in hundredths.
pub const FULL: u32 = 10_000;

/// The framework as scoring reads it: the BDP's goals with their indicators, the
/// priority areas, and how many beneficiaries earn a proposal full marks for reach.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Framework {
    pub goals: Vec<FrameworkGoal>,
    /// PSGC code of a province, city, municipality or barangay → its priority.
    pub priorities: BTreeMap<String, PriorityLevel>,
    pub full_reach: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkGoal {
    pub code: String,
    pub indicators: Vec<FrameworkIndicator>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameworkIndicator {
    pub code: String,
    pub name: String,
}

/// How much the BDP favours an area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorityLevel {
    Low,
    Medium,
    High,
}

impl PriorityLevel {
    pub const ALL: [PriorityLevel; 3] = [PriorityLevel::High, PriorityLevel::Medium, PriorityLevel::Low];

    /// A place in an area of this priority, in hundredths of the component.
    pub fn points(self) -> u32 {
        match self {
            PriorityLevel::High => FULL,
            PriorityLevel::Medium => 6_000,
            PriorityLevel::Low => 3_000,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PriorityLevel::High => "high",
            PriorityLevel::Medium => "medium",
            PriorityLevel::Low => "low",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.as_str() == text)
    }
}

/// What scoring reads of a proposal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProposalOutline {
    /// Codes of the BDP goals it says it serves.
    pub goals: Vec<String>,
    /// Indicator code → the contribution it promises, in the indicator's unit.
    pub indicators: BTreeMap<String, f64>,
    /// PSGC codes of its places.
    pub places: Vec<String>,
    pub beneficiaries: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentName {
    GoalMatch,
    IndicatorCoverage,
    GeographicPriority,
    BeneficiaryReach,
}

impl ComponentName {
    pub const ALL: [ComponentName; 4] =
        [ComponentName::GoalMatch, ComponentName::IndicatorCoverage, ComponentName::GeographicPriority, ComponentName::BeneficiaryReach];

    /// Its share of the total, in percent.
    pub fn weight(self) -> u32 {
        match self {
            ComponentName::GoalMatch => 40,
            ComponentName::IndicatorCoverage => 30,
            ComponentName::GeographicPriority | ComponentName::BeneficiaryReach => 15,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ComponentName::GoalMatch => "Strategic-goal match",
            ComponentName::IndicatorCoverage => "Outcome-indicator coverage",
            ComponentName::GeographicPriority => "Geographic priority",
            ComponentName::BeneficiaryReach => "Beneficiary reach",
        }
    }
}

/// One component: its value, what it adds to the total, how it was computed and what
/// would raise it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    pub name: ComponentName,
    /// Percent of the total this component weighs.
    pub weight: u32,
    /// Hundredths of the component, 0 to 10,000.
    pub value: u32,
    /// Hundredths of a point of the total: `value × weight / 100`, rounded down.
    pub weighted: u32,
    pub explanation: String,
    /// None when the component is full.
    pub to_raise: Option<String>,
}

impl Component {
    fn new(name: ComponentName, value: u32, explanation: String, to_raise: Option<String>) -> Self {
        let value = value.min(FULL);
        let to_raise = if value == FULL { None } else { to_raise };
        Component { name, weight: name.weight(), value, weighted: value * name.weight() / 100, explanation, to_raise }
    }
}

/// A proposal's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub components: Vec<Component>,
    /// Hundredths of a point: the sum of the weighted components.
    pub total: u32,
    /// `total` reaches [`CERTIFIABLE_AT`].
    pub certifiable: bool,
}

impl Score {
    /// The score of these components: their weighted values summed.
    pub fn of(components: Vec<Component>) -> Self {
        let total = components.iter().map(|c| c.weighted).sum();
        Score { components, total, certifiable: total >= CERTIFIABLE_AT }
    }

    /// The score with one component set by hand (a planner's adjustment), the total
    /// computed again.
    pub fn adjusted(mut self, name: ComponentName, value: u32, explanation: String) -> Self {
        for component in &mut self.components {
            if component.name == name {
                *component = Component::new(name, value, explanation.clone(), component.to_raise.clone());
            }
        }
        Score::of(self.components)
    }

    pub fn component(&self, name: ComponentName) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }
}

/// Hundredths written as people read them: `7999` → `79.99`.
pub fn shown(hundredths: u32) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Points as a person types them (`66.67`) in hundredths (`6667`): None unless 0 to 100
/// with at most two decimals.
pub fn hundredths(text: &str) -> Option<u32> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 2 || !whole.chars().chain(fraction.chars()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let value = whole.parse::<u32>().ok()?.checked_mul(100)? + format!("{fraction:0<2}").parse::<u32>().ok()?;
    (value <= FULL).then_some(value)
}

/// `part` of `whole`, in hundredths, rounded down; nothing of nothing is 0.
fn share(part: u64, whole: u64) -> u32 {
    if whole == 0 {
        return 0;
    }
    (part.min(whole) * u64::from(FULL) / whole) as u32
}

/// The score `proposal` gets against `framework`.
pub fn score(framework: &Framework, proposal: &ProposalOutline) -> Score {
    let goals: Vec<&FrameworkGoal> = framework.goals.iter().filter(|g| proposal.goals.contains(&g.code)).collect();
    let promised = |indicator: &FrameworkIndicator| proposal.indicators.get(&indicator.code).is_some_and(|c| *c > 0.0);
    Score::of(vec![goal_match(&goals, &promised), indicator_coverage(&goals, &promised), geographic_priority(framework, proposal), beneficiary_reach(framework, proposal)])
}

fn goal_match(goals: &[&FrameworkGoal], promised: &dyn Fn(&FrameworkIndicator) -> bool) -> Component {
    let name = ComponentName::GoalMatch;
    if goals.is_empty() {
        return Component::new(name, 0, "The proposal names no goal of the BDP.".into(), Some("Name the BDP goals the proposal serves.".into()));
    }
    let (served, unserved): (Vec<&&FrameworkGoal>, Vec<&&FrameworkGoal>) = goals.iter().partition(|g| g.indicators.iter().any(promised));
    let codes = |gs: &[&&FrameworkGoal]| gs.iter().map(|g| g.code.as_str()).collect::<Vec<_>>().join(", ");
    let explanation = format!(
        "{} of the {} goals it names {} served through one of the goal's indicators{}.",
        served.len(),
        goals.len(),
        if served.len() == 1 { "is" } else { "are" },
        if served.is_empty() { String::new() } else { format!(" ({})", codes(&served)) }
    );
    let to_raise = format!("Promise a contribution to an indicator of {}, or drop the goal.", codes(&unserved));
    Component::new(name, share(served.len() as u64, goals.len() as u64), explanation, Some(to_raise))
}

fn indicator_coverage(goals: &[&FrameworkGoal], promised: &dyn Fn(&FrameworkIndicator) -> bool) -> Component {
    let name = ComponentName::IndicatorCoverage;
    let indicators: Vec<&FrameworkIndicator> = goals.iter().flat_map(|g| &g.indicators).collect();
    if indicators.is_empty() {
        let to_raise = if goals.is_empty() { "Name the BDP goals the proposal serves." } else { "Name a goal of the BDP that has outcome indicators." };
        return Component::new(name, 0, "The goals it names have no indicators to cover.".into(), Some(to_raise.into()));
    }
    let (covered, open): (Vec<&FrameworkIndicator>, Vec<&FrameworkIndicator>) = indicators.iter().partition(|i| promised(i));
    let explanation = format!("It promises a contribution to {} of the {} indicators of its goals.", covered.len(), indicators.len());
    let mut missing: Vec<String> = open.iter().take(3).map(|i| format!("{} ({})", i.code, i.name)).collect();
    if open.len() > 3 {
        missing.push(format!("{} more", open.len() - 3));
    }
    let to_raise = format!("Promise a contribution to {}.", missing.join(", "));
    Component::new(name, share(covered.len() as u64, indicators.len() as u64), explanation, Some(to_raise))
}

fn geographic_priority(framework: &Framework, proposal: &ProposalOutline) -> Component {
    let name = ComponentName::GeographicPriority;
    if proposal.places.is_empty() {
        return Component::new(name, 0, "The proposal names no places.".into(), Some("Name the places where it will be carried out.".into()));
    }
    // Each place counts once (naming a place twice does not weigh it twice), at the
    // highest priority of the areas that hold it.
    let places: std::collections::BTreeSet<&String> = proposal.places.iter().collect();
    let levels: Vec<Option<PriorityLevel>> = places
        .into_iter()
        .map(|place| psgc::enclosing(place).iter().filter_map(|area| framework.priorities.get(area).copied()).max())
        .collect();
    let points: u64 = levels.iter().map(|l| u64::from(l.map_or(0, PriorityLevel::points))).sum();
    let value = (points / levels.len() as u64) as u32;
    let mut counts: Vec<String> = Vec::new();
    for level in PriorityLevel::ALL.map(Some).into_iter().chain([None]) {
        let n = levels.iter().filter(|l| **l == level).count();
        if n > 0 {
            counts.push(format!("{n} in {}", level.map_or("no priority area".to_owned(), |l| format!("a {} priority area", l.as_str()))));
        }
    }
    let explanation = format!("Of its {} places, {}: the mean is {}.", levels.len(), counts.join(", "), shown(value));
    Component::new(name, value, explanation, Some("Places in the BDP's high-priority areas raise this.".into()))
}

fn beneficiary_reach(framework: &Framework, proposal: &ProposalOutline) -> Component {
    let name = ComponentName::BeneficiaryReach;
    let reached = proposal.beneficiaries.max(0) as u64;
    let full = framework.full_reach.max(0) as u64;
    let explanation = format!("{reached} beneficiaries, of the {full} that earn full marks.");
    let to_raise = format!("{} more beneficiaries would earn full marks.", full.saturating_sub(reached));
    Component::new(name, share(reached, full), explanation, Some(to_raise))
}

#[cfg(test)]
mod tests;
