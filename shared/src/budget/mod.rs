//! Budgets (MFBM's part of BMMS): the stages of a fiscal year's budget preparation, as
//! the budget call's calendar and each organization's budget proposal name them, and the
//! compliance rules a budget proposal is checked against ([`compliance`]).

pub mod compliance;

/// The seven stages of a fiscal year's budget, in order, with their names for people.
/// The budget call opens the year; its calendar gives a deadline for each of the others.
pub const STAGES: [(&str, &str); 7] = [
    ("budget_call", "Budget call issuance"),
    ("ppa_preparation", "PPA preparation"),
    ("bdp_certification", "BDP certification"),
    ("budget_submission", "Budget submission"),
    ("technical_review", "Technical review"),
    ("executive_approval", "Executive approval"),
    ("parliament_submission", "Parliament submission"),
];

/// The stages that have a deadline in the budget call's calendar: all but the call itself.
pub fn scheduled_stages() -> impl Iterator<Item = (&'static str, &'static str)> {
    STAGES.into_iter().skip(1)
}

/// A stage's name for people ("Technical review"), or the code itself if it is unknown.
pub fn stage_name(code: &str) -> &str {
    STAGES.iter().find(|(c, _)| *c == code).map_or(code, |(_, name)| name)
}

/// The largest ceiling MFBM may set for one organization: a trillion pesos, in centavos.
pub const MAX_CEILING_CENTAVOS: i64 = 100_000_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calendar_schedules_every_stage_after_the_call_in_order() {
        let scheduled: Vec<&str> = scheduled_stages().map(|(code, _)| code).collect();
        assert_eq!(scheduled, ["ppa_preparation", "bdp_certification", "budget_submission", "technical_review", "executive_approval", "parliament_submission"]);
        assert_eq!(stage_name("technical_review"), "Technical review");
        assert_eq!(stage_name("elsewhere"), "elsewhere");
    }
}
