//! Places of BARMM by their Philippine Standard Geographic Code: ten digits,
//! `RR PPP MM BBB` (region, province, city or municipality, barangay), where the trailing
//! groups of a larger place are zeros. So a place's province and municipality can be read
//! from its code alone.
//!
//! The list itself (`shared/data/psgc-barmm.csv`, written by `scripts/psgc-import` from
//! PSA's masterlist) is built into the server and the app alike and read once: the
//! region, its provinces, the Special Geographic Area, its cities and municipalities, and
//! their barangays. The app offers it as a picker that works offline; the server checks
//! every code it is sent against it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One place of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub code: String,
    pub name: String,
    /// `region`, `province`, `special_geographic_area`, `city`, `municipality` or `barangay`.
    pub level: String,
    /// The place it belongs to (empty for the region).
    pub parent_code: String,
}

impl Place {
    /// A city or a municipality: what holds barangays.
    pub fn is_municipal(&self) -> bool {
        matches!(self.level.as_str(), "city" | "municipality")
    }
}

const LIST: &str = include_str!("../data/psgc-barmm.csv");

/// Every place by code, and the codes of each place's places (by name).
struct Places {
    by_code: BTreeMap<String, Place>,
    children: BTreeMap<String, Vec<String>>,
}

static PLACES: LazyLock<Places> = LazyLock::new(|| {
    // Read field by field rather than through serde: the app carries this code too, and
    // csv's serde reader would add to every phone's first download.
    let by_code: BTreeMap<String, Place> = csv::Reader::from_reader(LIST.as_bytes())
        .records()
        .map(|record| record.expect("shared/data/psgc-barmm.csv is checked by its tests"))
        .map(|r| Place { code: r[0].to_owned(), name: r[1].to_owned(), level: r[2].to_owned(), parent_code: r[3].to_owned() })
        .map(|place| (place.code.clone(), place))
        .collect();
    let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for place in by_code.values().filter(|p| !p.parent_code.is_empty()) {
        children.entry(place.parent_code.clone()).or_default().push(place.code.clone());
    }
    for codes in children.values_mut() {
        codes.sort_by_key(|code| by_code[code].name.to_lowercase());
    }
    Places { by_code, children }
});

/// The code of BARMM itself.
pub const REGION: &str = "1900000000";

/// Is `code` written as a PSGC code (ten digits)? Whether the place exists is for
/// [`place`] to say.
pub fn is_code(code: &str) -> bool {
    code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The place with this code, if BARMM has one.
pub fn place(code: &str) -> Option<&'static Place> {
    PLACES.by_code.get(code)
}

/// The name of the place with this code, if BARMM has one.
pub fn name_of(code: &str) -> Option<&'static str> {
    place(code).map(|p| p.name.as_str())
}

/// The places that `code` holds, by name: a province's cities and municipalities, a
/// municipality's barangays; the region's provinces and the Special Geographic Area.
pub fn within(code: &str) -> impl Iterator<Item = &'static Place> {
    PLACES.children.get(code).into_iter().flatten().filter_map(|code| place(code))
}

/// The province the place lies in (or the Special Geographic Area): what the Annual
/// Investment Program and the dashboards total by. Cotabato City lies in Maguindanao del
/// Norte by its code, as in PSGC.
pub fn province_of(code: &str) -> Option<&'static Place> {
    let mut at = place(code)?;
    while let Some(parent) = place(&at.parent_code).filter(|p| p.level != "region") {
        at = parent;
    }
    (at.level != "region").then_some(at)
}

/// The city or municipality the place lies in (itself, if it is one).
pub fn municipality_of(code: &str) -> Option<&'static Place> {
    let at = place(code)?;
    if at.is_municipal() {
        return Some(at);
    }
    place(&at.parent_code).filter(|p| p.is_municipal())
}

/// The place itself and every larger place that holds it, smallest first: a barangay,
/// its city or municipality, its province, its region. Read from the code alone; empty
/// for a code that is not one.
pub fn enclosing(code: &str) -> Vec<String> {
    if !is_code(code) {
        return Vec::new();
    }
    let mut places = vec![code.to_owned()];
    // The barangay, municipality and province groups end at these digits.
    for keep in [7, 5, 2] {
        let larger = format!("{}{}", &code[..keep], "0".repeat(10 - keep));
        if !places.contains(&larger) {
            places.push(larger);
        }
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_reads_whole_and_every_place_lies_in_another_of_the_list() {
        let rows = LIST.lines().count() - 1;
        assert_eq!(PLACES.by_code.len(), rows, "no code twice");
        for place in PLACES.by_code.values() {
            assert!(is_code(&place.code), "{place:?}");
            if place.level != "region" {
                assert!(PLACES.by_code.contains_key(&place.parent_code), "{place:?}");
                assert!(enclosing(&place.code).contains(&place.parent_code), "the parent is read from the code: {place:?}");
            }
        }
        assert_eq!(name_of("1900700000"), Some("Basilan"));
        assert_eq!(place("1900702001").map(|p| p.level.as_str()), Some("barangay"));
        assert_eq!(name_of("0906600000"), None, "Sulu is no longer part of BARMM in PSA's list");
    }

    #[test]
    fn a_place_lies_in_its_municipality_and_province() {
        assert_eq!(province_of("1900702001").map(|p| p.name.as_str()), Some("Basilan"), "a barangay of Lamitan");
        assert_eq!(municipality_of("1900702001").map(|p| p.name.as_str()), Some("City of Lamitan"));
        assert_eq!(municipality_of("1900702000").map(|p| p.code.as_str()), Some("1900702000"), "a city is its own");
        assert!(municipality_of("1900700000").is_none(), "a province lies in no municipality");
        assert_eq!(province_of("1900700000").map(|p| p.code.as_str()), Some("1900700000"), "a province is its own");
        assert!(province_of(REGION).is_none(), "the region is in no province");
        assert!(province_of("0906600000").is_none());
    }

    #[test]
    fn the_picker_walks_from_the_region_to_a_barangay() {
        let provinces: Vec<&str> = within(REGION).map(|p| p.name.as_str()).collect();
        assert_eq!(provinces, ["Basilan", "Lanao del Sur", "Maguindanao del Norte", "Maguindanao del Sur", "Special Geographic Area", "Tawi-Tawi"]);
        assert!(within("1900700000").all(Place::is_municipal));
        assert!(within("1900700000").any(|p| p.name == "City of Lamitan"));
        assert!(within("1900702000").all(|p| p.level == "barangay" && p.parent_code == "1900702000"));
        assert_eq!(within("1900702001").count(), 0, "a barangay holds nothing");
    }

    #[test]
    fn a_barangay_lies_in_its_municipality_province_and_region() {
        // Dicalongan, a barangay of Ampatuan, Maguindanao del Sur.
        assert_eq!(enclosing("1908801001"), ["1908801001", "1908801000", "1908800000", "1900000000"]);
        assert_eq!(enclosing("1908800000"), ["1908800000", "1900000000"]);
        assert_eq!(enclosing("1900000000"), ["1900000000"]);
        assert!(enclosing("19038").is_empty());
        assert!(enclosing("19038010a1").is_empty());
    }
}
