//! PPA proposal: a program, project or activity that a ministry, office or agency
//! proposes under the Bangsamoro Development Plan. Several staff write one together,
//! sometimes offline, so it is a record like any other: one Automerge document whose
//! root holds one key per field, so that two people changing the same cost cell
//! offline make one conflict, settled like any other, while changes to different
//! cells merge.
//!
//! The parts that repeat are slots with fixed names rather than lists, for that reason:
//! - the cost: `cost.{year}.q{quarter}.{class}`, whole centavos (never a float), for each
//!   fiscal year of [`FISCAL_YEARS`], quarter 1 to 4 and expense class of
//!   [`EXPENSE_CLASSES`];
//! - the indicators it promises to move: `indicator.{n}.code` (a BDP indicator's code)
//!   and `indicator.{n}.contribution` (in the indicator's unit), n from 1 to
//!   [`INDICATOR_SLOTS`];
//! - the milestones: `milestone.{n}.title`, `.due` and `.done_on` (empty until done), n
//!   from 1 to [`MILESTONE_SLOTS`].
//!
//! Widening the years or adding slots later adds fields, which older documents simply
//! lack. A proposal is submitted, sent back, and certified on the server (the desk),
//! never by a device: its status changes through sync only while it is a draft.

use super::fields::{FieldSpec, FieldType};
use std::ops::RangeInclusive;
use std::sync::OnceLock;

/// `draft` while the MOA writes it; `submitted` to BPDA (frozen); `returned` by BPDA
/// for revision (editable again); `certified` by BPDA.
pub const STATUSES: &[&str] = &["draft", "submitted", "returned", "certified"];

/// The statuses in which the MOA may change the proposal. A change to a certified one
/// voids its certification.
pub const EDITABLE: &[&str] = &["draft", "returned", "certified"];

pub const TYPES: &[&str] = &["program", "project", "activity"];

/// The sector a PPA belongs to, by which the Annual Investment Program groups it: the
/// sectors of the Philippine budget's functional classification (DBM, Budget of
/// Expenditures and Sources of Financing), less defense and debt service, which no
/// ministry proposes as a PPA.
pub const SECTORS: &[&str] = &["social_services", "economic_services", "general_public_services"];

/// A sector as its readers say it ("Social services"); "Not classified" for anything
/// else, such as the AIP's group of PPAs submitted before proposals had a sector.
pub fn sector_name(code: &str) -> &'static str {
    match code {
        "social_services" => "Social services",
        "economic_services" => "Economic services",
        "general_public_services" => "General public services",
        _ => "Not classified",
    }
}

/// The fiscal years a proposal's cost may fall in.
pub const FISCAL_YEARS: RangeInclusive<i32> = 2025..=2034;

/// Personnel services; maintenance and other operating expenses; capital outlay.
pub const EXPENSE_CLASSES: [(&str, &str); 3] = [("ps", "PS"), ("mooe", "MOOE"), ("co", "CO")];

pub const INDICATOR_SLOTS: usize = 10;
pub const MILESTONE_SLOTS: usize = 12;

/// The largest cost of one cell: ten billion pesos, in centavos.
pub const MAX_CELL_CENTAVOS: i64 = 1_000_000_000_000;

/// The field holding the cost of one year, quarter and class.
pub fn cost_field(year: i32, quarter: u8, class: &str) -> String {
    format!("cost.{year}.q{quarter}.{class}")
}

fn text(max_chars: usize) -> FieldType {
    FieldType::Text { max_chars }
}

/// Every field of a PPA proposal.
pub fn fields() -> &'static [FieldSpec] {
    static FIELDS: OnceLock<Vec<FieldSpec>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut fields = vec![
            FieldSpec::new("title", "Title", text(300)),
            FieldSpec::new("ppa_type", "Type", FieldType::Choice(TYPES)),
            FieldSpec::new("sector", "Sector", FieldType::Choice(SECTORS)),
            FieldSpec::new("description", "Description", text(10_000)),
            FieldSpec::new("status", "Status", FieldType::Choice(STATUSES)),
            FieldSpec::new("goals", "BDP goals served", FieldType::TextList { max_items: 10, max_chars: 16 }),
            FieldSpec::new("places", "Places (PSGC codes)", FieldType::TextList { max_items: 200, max_chars: 10 }),
            FieldSpec::new("beneficiaries", "Beneficiaries", FieldType::Integer { min: 0, max: 100_000_000 }),
            FieldSpec::new("beneficiary_groups", "Beneficiary groups", FieldType::TextList { max_items: 50, max_chars: 120 }),
            FieldSpec::new("partners", "Partner MOAs (codes)", FieldType::TextList { max_items: 20, max_chars: 16 }),
            FieldSpec::new("start_date", "Start", FieldType::Date),
            FieldSpec::new("end_date", "End", FieldType::Date),
        ];
        for n in 1..=INDICATOR_SLOTS {
            fields.push(FieldSpec::new(format!("indicator.{n}.code"), format!("Indicator {n}"), text(16)));
            fields.push(FieldSpec::new(
                format!("indicator.{n}.contribution"),
                format!("Indicator {n}: promised contribution"),
                FieldType::Decimal { min: 0.0, max: 1e12 },
            ));
        }
        for n in 1..=MILESTONE_SLOTS {
            fields.push(FieldSpec::new(format!("milestone.{n}.title"), format!("Milestone {n}"), text(200)));
            fields.push(FieldSpec::new(format!("milestone.{n}.due"), format!("Milestone {n}: due"), FieldType::Date));
            fields.push(FieldSpec::new(format!("milestone.{n}.done_on"), format!("Milestone {n}: done on"), FieldType::Date));
        }
        for year in FISCAL_YEARS {
            for quarter in 1..=4u8 {
                for (class, label) in EXPENSE_CLASSES {
                    fields.push(FieldSpec::new(
                        cost_field(year, quarter, class),
                        format!("Cost {year} Q{quarter} {label} (centavos)"),
                        FieldType::Integer { min: 0, max: MAX_CELL_CENTAVOS },
                    ));
                }
            }
        }
        fields
    })
}
