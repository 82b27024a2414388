//! MANA assessment: the mapping and needs assessment of one community (barangay).

use super::fields::{FieldSpec, FieldType};
use std::sync::OnceLock;

/// The sectors whose needs an assessment rates.
pub const SECTORS: [(&str, &str); 7] = [
    ("education", "Education"),
    ("health", "Health"),
    ("livelihood", "Livelihood"),
    ("water_sanitation", "Water and sanitation"),
    ("infrastructure", "Infrastructure"),
    ("social_protection", "Social protection"),
    ("peace_order", "Peace and order"),
];

/// Population is counted by sex and by these age groups.
pub const AGE_GROUPS: [(&str, &str); 4] = [("0_4", "0–4"), ("5_17", "5–17"), ("18_59", "18–59"), ("60_plus", "60 and over")];

pub const STATUSES: &[&str] = &["draft", "submitted", "validated"];

/// The field of an assessment or a task that holds its photos (`crate::photos`).
pub const PHOTOS_FIELD: &str = "photo_hashes";
/// A record holds at most this many photos.
pub const MAX_PHOTOS: usize = 50;

fn text(max_chars: usize) -> FieldType {
    FieldType::Text { max_chars }
}

fn count(max: i64) -> FieldType {
    FieldType::Integer { min: 0, max }
}

/// Every field of a MANA assessment.
pub fn fields() -> &'static [FieldSpec] {
    static FIELDS: OnceLock<Vec<FieldSpec>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut fields = vec![
            // The place by its PSGC code, chosen from the list (which fills in the names
            // below; they stay editable): what lists and dashboards group by.
            FieldSpec::new("place_code", "Place (PSGC code)", FieldType::Place),
            FieldSpec::new("community", "Community (barangay)", text(120)),
            FieldSpec::new("municipality", "Municipality", text(120)),
            FieldSpec::new("province", "Province", text(120)),
            FieldSpec::new("gps.latitude", "Latitude", FieldType::Decimal { min: -90.0, max: 90.0 }),
            FieldSpec::new("gps.longitude", "Longitude", FieldType::Decimal { min: -180.0, max: 180.0 }),
            FieldSpec::new("gps.accuracy_m", "GPS accuracy (metres)", FieldType::Decimal { min: 0.0, max: 100_000.0 }),
            FieldSpec::new("assessment_date", "Assessment date", FieldType::Date),
            FieldSpec::new("team_members", "Team members", FieldType::TextList { max_items: 50, max_chars: 120 }),
            FieldSpec::new("households", "Households", count(1_000_000)),
            FieldSpec::new("ethnolinguistic_groups", "Ethnolinguistic groups", FieldType::TextList { max_items: 50, max_chars: 120 }),
            FieldSpec::new("priority_ranking", "Priority ranking of needs", FieldType::TextList { max_items: SECTORS.len(), max_chars: 40 }),
            FieldSpec::new("respondents", "Respondents", count(100_000)),
            // File names written by hand, from before the app took photos; kept for the
            // records that have them.
            FieldSpec::new("photos", "Photo file names (written by hand)", FieldType::TextList { max_items: 100, max_chars: 200 }),
            FieldSpec::new(PHOTOS_FIELD, "Photos", FieldType::Photos { max_items: MAX_PHOTOS }),
            FieldSpec::new("status", "Status", FieldType::Choice(STATUSES)),
            FieldSpec::new("notes", "Notes", text(10_000)),
        ];
        for (sex, sex_label) in [("female", "Female"), ("male", "Male")] {
            for (group, group_label) in AGE_GROUPS {
                fields.push(FieldSpec::new(
                    format!("population.{sex}.{group}"),
                    format!("{sex_label}, aged {group_label}"),
                    count(10_000_000),
                ));
            }
        }
        for (sector, label) in SECTORS {
            fields.push(FieldSpec::new(format!("needs.{sector}.severity"), format!("{label}: severity (1–5)"), FieldType::Integer { min: 1, max: 5 }));
            fields.push(FieldSpec::new(format!("needs.{sector}.notes"), format!("{label}: notes"), text(2_000)));
        }
        fields
    })
}
