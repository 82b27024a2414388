//! Hand-made proposals whose score is known, component by component.

use super::*;

fn indicator(code: &str) -> FrameworkIndicator {
    FrameworkIndicator { code: code.into(), name: format!("Indicator {code}") }
}

/// Goals G1 (indicators G1.1, G1.2), G2 (G2.1, G2.2, G2.3) and G3 (G3.1); Maguindanao del
/// Sur's province a high priority, one municipality of Lanao del Sur a medium one; full
/// reach at 2,000 beneficiaries.
fn framework() -> Framework {
    Framework {
        goals: vec![
            FrameworkGoal { code: "G1".into(), indicators: vec![indicator("G1.1"), indicator("G1.2")] },
            FrameworkGoal { code: "G2".into(), indicators: vec![indicator("G2.1"), indicator("G2.2"), indicator("G2.3")] },
            FrameworkGoal { code: "G3".into(), indicators: vec![indicator("G3.1")] },
        ],
        priorities: BTreeMap::from([("1908800000".into(), PriorityLevel::High), ("1903601000".into(), PriorityLevel::Medium)]),
        full_reach: 2_000,
    }
}

fn promises(codes: &[&str]) -> BTreeMap<String, f64> {
    codes.iter().map(|c| (c.to_string(), 1.0)).collect()
}

fn value(score: &Score, name: ComponentName) -> (u32, u32) {
    let c = score.component(name).expect("every component is scored");
    (c.value, c.weighted)
}

#[test]
fn the_weights_are_the_designs_and_add_up_to_the_whole() {
    let weights: Vec<u32> = ComponentName::ALL.iter().map(|c| c.weight()).collect();
    assert_eq!(weights, [40, 30, 15, 15]);
    assert_eq!(weights.iter().sum::<u32>(), 100);
}

#[test]
fn a_proposal_serving_its_goals_fully_in_priority_areas_scores_100() {
    let proposal = ProposalOutline {
        goals: vec!["G1".into()],
        indicators: promises(&["G1.1", "G1.2"]),
        places: vec!["1908801001".into()],
        beneficiaries: 5_000,
    };
    let score = score(&framework(), &proposal);
    assert_eq!((score.total, score.certifiable), (FULL, true));
    assert!(score.components.iter().all(|c| c.to_raise.is_none()), "{score:?}");
}

#[test]
fn goal_match_is_the_share_of_named_goals_served_through_their_own_indicators() {
    // G1 and G2 served; G3 named without any of its indicators; G9 is no BDP goal.
    let proposal = ProposalOutline { goals: vec!["G1".into(), "G2".into(), "G3".into(), "G9".into()], indicators: promises(&["G1.1", "G2.1"]), ..Default::default() };
    let score = score(&framework(), &proposal);
    assert_eq!(value(&score, ComponentName::GoalMatch), (6_666, 2_666));
    let c = score.component(ComponentName::GoalMatch).unwrap();
    assert_eq!(c.explanation, "2 of the 3 goals it names are served through one of the goal's indicators (G1, G2).");
    assert_eq!(c.to_raise.as_deref(), Some("Promise a contribution to an indicator of G3, or drop the goal."));
}

#[test]
fn indicator_coverage_is_the_share_of_the_goals_indicators_promised_something() {
    // G1 and G2 hold five indicators; three are promised more than nothing.
    let mut indicators = promises(&["G1.1", "G2.1", "G2.3"]);
    indicators.insert("G2.2".into(), 0.0);
    let proposal = ProposalOutline { goals: vec!["G1".into(), "G2".into()], indicators, ..Default::default() };
    let score = score(&framework(), &proposal);
    assert_eq!(value(&score, ComponentName::IndicatorCoverage), (6_000, 1_800));
    let c = score.component(ComponentName::IndicatorCoverage).unwrap();
    assert_eq!(c.to_raise.as_deref(), Some("Promise a contribution to G1.2 (Indicator G1.2), G2.2 (Indicator G2.2)."));
}

#[test]
fn geographic_priority_is_the_mean_over_places_of_the_highest_area_holding_each() {
    // A barangay of the high-priority province (100), a barangay of the medium-priority
    // municipality (60), a place in no priority area (0): 160 / 3 = 53.33.
    let proposal = ProposalOutline { places: vec!["1908801001".into(), "1903601005".into(), "1900700000".into()], ..Default::default() };
    let score = score(&framework(), &proposal);
    assert_eq!(value(&score, ComponentName::GeographicPriority), (5_333, 799));
    assert_eq!(
        score.component(ComponentName::GeographicPriority).unwrap().explanation,
        "Of its 3 places, 1 in a high priority area, 1 in a medium priority area, 1 in no priority area: the mean is 53.33."
    );
}

#[test]
fn a_place_named_twice_counts_once() {
    let once = ProposalOutline { places: vec!["1908801001".into(), "1900700000".into()], ..Default::default() };
    let padded = ProposalOutline { places: [vec!["1908801001".to_owned(); 50], vec!["1900700000".into()]].concat(), ..Default::default() };
    let value = |p: &ProposalOutline| score(&framework(), p).component(ComponentName::GeographicPriority).unwrap().value;
    assert_eq!((value(&once), value(&padded)), (5_000, 5_000));
}

#[test]
fn beneficiary_reach_is_the_share_of_full_reach_at_most_all_of_it() {
    let reach = |beneficiaries| value(&score(&framework(), &ProposalOutline { beneficiaries, ..Default::default() }), ComponentName::BeneficiaryReach);
    assert_eq!(reach(1_200), (6_000, 900));
    assert_eq!(reach(2_000), (FULL, 1_500));
    assert_eq!(reach(1_000_000), (FULL, 1_500));
    assert_eq!(reach(-5), (0, 0));
}

#[test]
fn an_empty_proposal_scores_nothing_and_says_what_to_add() {
    let score = score(&framework(), &ProposalOutline::default());
    assert_eq!((score.total, score.certifiable), (0, false));
    assert!(score.components.iter().all(|c| c.to_raise.is_some()), "{score:?}");
}

/// Goals and indicators full (70.00), no places, and a reach that adds 9.99 or 10.00.
fn with_reach(beneficiaries: i64) -> Score {
    let framework = Framework { full_reach: 10_000, ..framework() };
    let proposal = ProposalOutline { goals: vec!["G3".into()], indicators: promises(&["G3.1"]), places: Vec::new(), beneficiaries };
    score(&framework, &proposal)
}

#[test]
fn certification_takes_80_00_and_79_99_is_not_enough() {
    let below = with_reach(6_660);
    assert_eq!((shown(below.total), below.certifiable), ("79.99".to_owned(), false));
    let at = with_reach(6_667);
    assert_eq!((shown(at.total), at.certifiable), ("80.00".to_owned(), true));
}

#[test]
fn an_adjusted_component_changes_the_total() {
    let adjusted = with_reach(6_660).adjusted(ComponentName::GeographicPriority, 1_000, "Conflict-affected area, per BPDA memo 12".into());
    assert_eq!(value(&adjusted, ComponentName::GeographicPriority), (1_000, 150));
    assert_eq!((adjusted.total, adjusted.certifiable), (8_149, true));
}

#[test]
fn points_as_typed_become_hundredths() {
    assert_eq!(hundredths("66.67"), Some(6667));
    assert_eq!(hundredths("66.6"), Some(6660));
    assert_eq!(hundredths(" 100 "), Some(10_000));
    assert_eq!(hundredths("0"), Some(0));
    for bad in ["", ".5", "100.01", "1.234", "-1", "1e2", "5,5", "99999999999"] {
        assert_eq!(hundredths(bad), None, "{bad}");
    }
}
