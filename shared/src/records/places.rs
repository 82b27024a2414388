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

/// Approximate centre (latitude, longitude) of each province or area, for drawing the
/// dashboards' map without a tile server. Municipalities are drawn at the mean GPS point
/// of their assessments.
pub const PROVINCE_CENTRES: [(&str, f64, f64); 8] = [
    ("Basilan", 6.55, 122.05),
    ("Lanao del Sur", 7.85, 124.35),
    ("Maguindanao del Norte", 7.25, 124.3),
    ("Maguindanao del Sur", 6.9, 124.55),
    ("Sulu", 5.97, 121.0),
    ("Tawi-Tawi", 5.2, 120.05),
    ("Cotabato City", 7.22, 124.25),
    ("Special Geographic Area", 7.05, 124.75),
];
