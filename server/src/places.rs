//! The places of BARMM by PSGC code (`shared/data/psgc-barmm.csv`, written by
//! `scripts/psgc-import` from PSA's list): the region, its provinces, the Special
//! Geographic Area, its cities and municipalities, and their barangays. Built into the
//! binary and read once.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One place of the list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Place {
    pub code: String,
    pub name: String,
    /// `region`, `province`, `special_geographic_area`, `city`, `municipality` or `barangay`.
    pub level: String,
    /// The place it belongs to (empty for the region).
    pub parent_code: String,
}

const LIST: &str = include_str!("../../shared/data/psgc-barmm.csv");

static PLACES: LazyLock<BTreeMap<String, Place>> = LazyLock::new(|| {
    csv::Reader::from_reader(LIST.as_bytes())
        .deserialize::<Place>()
        .map(|place| place.expect("shared/data/psgc-barmm.csv is checked by its tests"))
        .map(|place| (place.code.clone(), place))
        .collect()
});

/// The place with this code, if BARMM has one.
pub fn place(code: &str) -> Option<&'static Place> {
    PLACES.get(code)
}

/// The name of the place with this code, if BARMM has one.
pub fn name_of(code: &str) -> Option<&'static str> {
    place(code).map(|p| p.name.as_str())
}

/// The province the place lies in (or the Special Geographic Area, or an independent city
/// directly under the region): what the Annual Investment Program totals by.
pub fn province_of(code: &str) -> Option<&'static Place> {
    let mut at = place(code)?;
    while let Some(parent) = place(&at.parent_code).filter(|p| p.level != "region") {
        at = parent;
    }
    (at.level != "region").then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_reads_whole_and_every_place_lies_in_another_of_the_list() {
        let rows = LIST.lines().count() - 1;
        assert_eq!(PLACES.len(), rows, "no code twice");
        for place in PLACES.values() {
            assert!(bmms_shared::plans::psgc::is_code(&place.code), "{place:?}");
            if place.level != "region" {
                assert!(PLACES.contains_key(&place.parent_code), "{place:?}");
            }
        }
        assert_eq!(name_of("1900700000"), Some("Basilan"));
        assert_eq!(place("1900702001").map(|p| p.level.as_str()), Some("barangay"));
        assert_eq!(name_of("0906600000"), None, "Sulu is no longer part of BARMM in PSA's list");
    }

    #[test]
    fn a_place_is_totalled_under_its_province() {
        assert_eq!(province_of("1900702001").map(|p| p.name.as_str()), Some("Basilan"), "a barangay of Lamitan");
        assert_eq!(province_of("1900700000").map(|p| p.code.as_str()), Some("1900700000"), "a province is its own");
        assert!(province_of("1900000000").is_none(), "the region is in no province");
        assert!(province_of("0906600000").is_none());
    }
}
