//! The compliance rules of a budget proposal, kept as data ([`RULES`]: an id, what it asks
//! in words a budget officer uses, a severity and its basis), and the check that lists
//! every violation of them ([`check`]): with the rule, the PPA and the line it is about.
//! An error blocks the proposal's submission; a warning informs.
//!
//! The check is a pure function of what the server read, so that each rule can be tested
//! on a proposal that breaks it alone.

use serde::{Deserialize, Serialize};

use crate::api::Ceiling;
use crate::DocId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks the submission.
    Error,
    /// Informs; the submission goes ahead, flagged.
    Warning,
}

/// One rule: an id that never changes, what it asks, how much it weighs and where it
/// comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: &'static str,
    pub description: &'static str,
    pub severity: Severity,
    pub basis: &'static str,
}

pub const CERTIFIED: &str = "BC-1";
pub const WITHIN_CEILING: &str = "BC-2";
pub const WITHIN_CLASS_CEILING: &str = "BC-3";
pub const QUARTERS_ADD_UP: &str = "BC-4";
pub const WHOLE_CENTAVOS: &str = "BC-5";
pub const REQUIRED_PARTS: &str = "BC-6";
pub const ON_TIME: &str = "BC-7";

/// Every rule a budget proposal is checked against.
pub const RULES: [Rule; 7] = [
    Rule {
        id: CERTIFIED,
        description: "Every PPA in the budget is certified by BPDA, at the version being budgeted, and the certification still holds.",
        severity: Severity::Error,
        basis: "MFBM budgets what BPDA certified: a certification is bound to one version of the PPA and void once it changes (BMMS design brief, Plans and budgets, steps 3 and 4).",
    },
    Rule {
        id: WITHIN_CEILING,
        description: "The budget's total is within the organization's indicative ceiling.",
        severity: Severity::Error,
        basis: "MFBM's budget call for the fiscal year: the indicative ceiling it sets for each ministry, office or agency.",
    },
    Rule {
        id: WITHIN_CLASS_CEILING,
        description: "Each expense class (PS, MOOE, CO) is within its ceiling, where the budget call sets one.",
        severity: Severity::Error,
        basis: "MFBM's budget call for the fiscal year: the ceilings by expense class it sets for some organizations.",
    },
    Rule {
        id: QUARTERS_ADD_UP,
        description: "Each PPA's four quarters add up to its cost for the year as BPDA certified it.",
        severity: Severity::Error,
        basis: "A PPA's yearly cost is the sum of its quarterly cost by class (the PPA proposal's cost grid); the budget takes both from the certified version.",
    },
    Rule {
        id: WHOLE_CENTAVOS,
        description: "No amount is negative; every amount is in whole centavos.",
        severity: Severity::Error,
        basis: "Money is kept as whole centavos, never a fraction and never below zero (BMMS design brief, Plans and budgets, step 1).",
    },
    Rule {
        id: REQUIRED_PARTS,
        description: "The budget holds at least one PPA, and each PPA has a title and a cost in the fiscal year.",
        severity: Severity::Error,
        basis: "A budget proposal gathers the organization's PPAs with their costs for the year (MFBM's budget call).",
    },
    Rule {
        id: ON_TIME,
        description: "The budget is submitted by the budget submission deadline; a late one needs a reason and is flagged.",
        severity: Severity::Warning,
        basis: "MFBM's budget call for the fiscal year: its calendar's deadline for budget submission.",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The classes of a line, in the order of a PPA's `lines`.
pub const CLASSES: [&str; 3] = ["PS", "MOOE", "CO"];

/// One PPA of a budget proposal, as the check reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetedPpa {
    pub proposal_id: DocId,
    pub title: String,
    /// The version being budgeted.
    pub version: i32,
    /// BPDA certified that version, it is the PPA's latest, and the PPA has not changed since.
    pub certification_holds: bool,
    /// The fiscal year's cost as the certified version states it, in centavos.
    pub year_cost: i64,
    /// The year's cost by quarter (1 to 4) and class ([`CLASSES`]), in centavos.
    pub lines: [[i64; 3]; 4],
}

impl BudgetedPpa {
    pub fn total(&self) -> i64 {
        self.lines.iter().flatten().sum()
    }
}

/// What the check reads of a budget proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetDraft {
    pub ppas: Vec<BudgetedPpa>,
    /// The organization's ceiling in the year's call, if it has one.
    pub ceiling: Option<Ceiling>,
    /// Whether it is after the budget submission deadline now.
    pub late: bool,
    /// Why it is late, as the organization says.
    pub late_reason: Option<String>,
}

/// One violation: the rule, the PPA and the line it is about (where it is about one), and
/// a sentence that says what is wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    pub severity: Severity,
    pub proposal_id: Option<DocId>,
    pub ppa_title: Option<String>,
    /// "Q2 MOOE", where the violation is about one line.
    pub line: Option<String>,
    pub message: String,
}

fn violation(rule: &'static str, ppa: Option<&BudgetedPpa>, line: Option<String>, message: String) -> Violation {
    Violation {
        rule: rule.to_owned(),
        severity: self::rule(rule).map_or(Severity::Error, |r| r.severity),
        proposal_id: ppa.map(|p| p.proposal_id),
        ppa_title: ppa.map(|p| p.title.clone()),
        line,
        message,
    }
}

fn pesos(centavos: i64) -> String {
    crate::plans::proposal::pesos(centavos)
}

/// Every violation of [`RULES`] by the draft, PPA by PPA and then the whole.
pub fn check(draft: &BudgetDraft) -> Vec<Violation> {
    let mut found = Vec::new();
    if draft.ppas.is_empty() {
        found.push(violation(REQUIRED_PARTS, None, None, "The budget holds no PPA yet; add the organization's certified PPAs.".into()));
    }
    for ppa in &draft.ppas {
        if !ppa.certification_holds {
            let message = format!("Version {} of \"{}\" is not certified by BPDA, or its certification no longer holds; budget its certified version.", ppa.version, ppa.title);
            found.push(violation(CERTIFIED, Some(ppa), None, message));
        }
        if ppa.title.trim().is_empty() {
            found.push(violation(REQUIRED_PARTS, Some(ppa), None, "A PPA has no title.".into()));
        }
        if ppa.total() == 0 && ppa.year_cost == 0 {
            found.push(violation(REQUIRED_PARTS, Some(ppa), None, format!("\"{}\" has no cost in this fiscal year; remove it or budget another year.", ppa.title)));
        }
        for (quarter, classes) in ppa.lines.iter().enumerate() {
            for (class, amount) in CLASSES.iter().zip(classes) {
                if *amount < 0 {
                    let line = format!("Q{} {class}", quarter + 1);
                    found.push(violation(WHOLE_CENTAVOS, Some(ppa), Some(line.clone()), format!("{line} of \"{}\" is negative ({}).", ppa.title, pesos(*amount))));
                }
            }
        }
        if ppa.total() != ppa.year_cost {
            let message = format!("The quarters of \"{}\" add up to {}, but its certified cost for the year is {}.", ppa.title, pesos(ppa.total()), pesos(ppa.year_cost));
            found.push(violation(QUARTERS_ADD_UP, Some(ppa), None, message));
        }
    }
    if let Some(ceiling) = &draft.ceiling {
        let total: i64 = draft.ppas.iter().map(BudgetedPpa::total).sum();
        if total > ceiling.total {
            let message = format!("The budget's total, {}, is above the ceiling of {} by {}.", pesos(total), pesos(ceiling.total), pesos(total - ceiling.total));
            found.push(violation(WITHIN_CEILING, None, None, message));
        }
        for (at, (class, limit)) in CLASSES.iter().zip([ceiling.ps, ceiling.mooe, ceiling.co]).enumerate() {
            let Some(limit) = limit else { continue };
            let spent: i64 = draft.ppas.iter().flat_map(|p| p.lines.iter().map(move |q| q[at])).sum();
            if spent > limit {
                let message = format!("{class} comes to {}, above its ceiling of {} by {}.", pesos(spent), pesos(limit), pesos(spent - limit));
                found.push(violation(WITHIN_CLASS_CEILING, None, Some(class.to_string()), message));
            }
        }
    }
    if draft.late {
        let message = match draft.late_reason.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(reason) => format!("Submitted after the budget submission deadline: {reason}"),
            None => "The budget submission deadline has passed; say why when submitting.".to_owned(),
        };
        found.push(violation(ON_TIME, None, None, message));
    }
    found
}

/// Whether any violation blocks the submission.
pub fn blocks(violations: &[Violation]) -> bool {
    violations.iter().any(|v| v.severity == Severity::Error)
}

#[cfg(test)]
mod tests;
