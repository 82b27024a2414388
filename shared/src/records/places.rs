//! Reference places offered as suggestions in forms: the provinces and the independent
//! areas of BARMM. Suggestions only: a record may name a place not listed here.

/// Provinces of BARMM, with Cotabato City and the Special Geographic Area.
pub const PROVINCES: [&str; 8] = [
    "Basilan",
    "Lanao del Sur",
    "Maguindanao del Norte",
    "Maguindanao del Sur",
    "Sulu",
    "Tawi-Tawi",
    "Cotabato City",
    "Special Geographic Area",
];

/// Suggestions for a field, by its name.
pub fn suggestions(field: &str) -> &'static [&'static str] {
    match field {
        "province" => &PROVINCES,
        _ => &[],
    }
}
