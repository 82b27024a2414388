//! Each rule on a budget that breaks it and no other; a budget that breaks none.

use super::*;
use uuid::Uuid;

/// A certified PPA costing ₱1,000 a quarter in MOOE and ₱500 in CO in Q4.
fn ppa(title: &str) -> BudgetedPpa {
    let mut lines = [[0, 100_000, 0]; 4];
    lines[3][2] = 50_000;
    BudgetedPpa { proposal_id: DocId(Uuid::from_u128(title.len() as u128)), title: title.into(), version: 1, certification_holds: true, year_cost: 450_000, lines }
}

fn ceiling(total: i64, ps: Option<i64>, mooe: Option<i64>, co: Option<i64>) -> Option<Ceiling> {
    Some(Ceiling { organization_code: "MOH".into(), organization_name: "Ministry of Health".into(), total, ps, mooe, co })
}

/// Two PPAs (₱9,000 in all: ₱8,000 MOOE, ₱1,000 CO) under a ₱10,000 ceiling, on time.
fn compliant() -> BudgetDraft {
    BudgetDraft {
        ppas: vec![ppa("Health stations"), ppa("Midwives' training")],
        ceiling: ceiling(1_000_000, Some(0), None, Some(100_000)),
        late: false,
        late_reason: None,
    }
}

fn rules_broken(draft: &BudgetDraft) -> Vec<String> {
    check(draft).into_iter().map(|v| v.rule).collect()
}

#[test]
fn a_compliant_budget_breaks_no_rule() {
    assert_eq!(check(&compliant()), []);
}

#[test]
fn each_rule_is_broken_alone_with_the_ppa_and_line_it_is_about() {
    let mut uncertified = compliant();
    uncertified.ppas[1].certification_holds = false;
    let mut above_ceiling = compliant();
    above_ceiling.ceiling = ceiling(899_999, None, None, None);
    let mut above_class = compliant();
    above_class.ceiling = ceiling(1_000_000, None, Some(799_999), None);
    let mut not_adding_up = compliant();
    not_adding_up.ppas[0].year_cost = 450_001;
    let mut negative = compliant();
    negative.ppas[0].lines[1][1] = -100;
    negative.ppas[0].year_cost = 450_000 - 100_100;
    let mut empty = compliant();
    empty.ppas.clear();
    let mut late = compliant();
    late.late = true;

    let cases: [(&str, BudgetDraft, &str); 7] = [
        ("uncertified", uncertified, CERTIFIED),
        ("above the ceiling", above_ceiling, WITHIN_CEILING),
        ("above a class ceiling", above_class, WITHIN_CLASS_CEILING),
        ("quarters not adding up", not_adding_up, QUARTERS_ADD_UP),
        ("a negative line", negative, WHOLE_CENTAVOS),
        ("no PPA", empty, REQUIRED_PARTS),
        ("late", late, ON_TIME),
    ];
    for (case, draft, rule) in cases {
        assert_eq!(rules_broken(&draft), [rule], "{case}");
        let violation = &check(&draft)[0];
        assert!(violation.message.ends_with('.'), "{case}: {}", violation.message);
        assert!(self::rule(rule).is_some(), "{rule} is one of the rules");
    }

    let mut draft = compliant();
    draft.ppas[1].certification_holds = false;
    assert_eq!(check(&draft)[0].ppa_title.as_deref(), Some("Midwives' training"), "the PPA is named");
    let mut draft = compliant();
    draft.ppas[0].lines[1][1] = -100;
    draft.ppas[0].year_cost -= 100_100;
    assert_eq!(check(&draft)[0].line.as_deref(), Some("Q2 MOOE"), "and the line");
}

#[test]
fn the_ceiling_is_a_limit_that_may_be_reached_and_the_late_warning_does_not_block() {
    let mut at_the_ceiling = compliant();
    at_the_ceiling.ceiling = ceiling(900_000, Some(0), Some(800_000), Some(100_000));
    assert_eq!(check(&at_the_ceiling), []);

    let mut late = compliant();
    late.late = true;
    late.late_reason = Some("The regional board met late.".into());
    let found = check(&late);
    assert_eq!(found[0].severity, Severity::Warning);
    assert!(found[0].message.contains("The regional board met late."));
    assert!(!blocks(&found), "a warning informs");
    let mut uncertified = compliant();
    uncertified.ppas[0].certification_holds = false;
    assert!(blocks(&check(&uncertified)), "an error blocks");
}

#[test]
fn every_rule_has_an_id_a_description_and_a_basis() {
    let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), RULES.len());
    assert!(RULES.iter().all(|r| r.description.ends_with('.') && r.basis.len() > 20));
}
