//! Places by their Philippine Standard Geographic Code: ten digits, `RR PPP MM BBB`
//! (region, province, city or municipality, barangay), where the trailing groups of a
//! larger place are zeros. So a place's province and municipality can be read from its
//! code alone, without the list of places.

/// Is `code` written as a PSGC code (ten digits)? Whether the place exists is a question
/// for the list of places (`shared/data/psgc-barmm.csv`).
pub fn is_code(code: &str) -> bool {
    code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit())
}

/// The place itself and every larger place that holds it, smallest first: a barangay,
/// its city or municipality, its province, its region. Empty for a code that is not one.
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
    fn a_barangay_lies_in_its_municipality_province_and_region() {
        // Dicalongan, a barangay of Ampatuan, Maguindanao del Sur.
        assert_eq!(enclosing("1908801001"), ["1908801001", "1908801000", "1908800000", "1900000000"]);
        assert_eq!(enclosing("1908800000"), ["1908800000", "1900000000"]);
        assert_eq!(enclosing("1900000000"), ["1900000000"]);
        assert!(enclosing("19038").is_empty());
        assert!(enclosing("19038010a1").is_empty());
    }
}
