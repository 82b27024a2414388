//! What planning reads of a PPA proposal's document (`records::ppa`): the outline the
//! score takes, and its cost summed by fiscal year.

use automerge::AutoCommit;
use std::collections::BTreeMap;

use super::ProposalOutline;
use crate::records::ppa::{self, EXPENSE_CLASSES, FISCAL_YEARS, INDICATOR_SLOTS};
use crate::records::{get_field, json, FieldValue, RecordKind};

const KIND: RecordKind = RecordKind::PpaProposal;

fn texts(doc: &AutoCommit, field: &str) -> Vec<String> {
    match get_field(doc, KIND, field) {
        Some(FieldValue::TextList(items)) => items,
        _ => Vec::new(),
    }
}

fn text(doc: &AutoCommit, field: &str) -> Option<String> {
    match get_field(doc, KIND, field) {
        Some(FieldValue::Text(text)) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
        _ => None,
    }
}

fn integer(doc: &AutoCommit, field: &str) -> Option<i64> {
    match get_field(doc, KIND, field) {
        Some(FieldValue::Integer(n)) => Some(n),
        _ => None,
    }
}

/// The goals, promised contributions, places and beneficiaries of a proposal.
pub fn outline_of(doc: &AutoCommit) -> ProposalOutline {
    let mut indicators = BTreeMap::new();
    for n in 1..=INDICATOR_SLOTS {
        if let Some(code) = text(doc, &format!("indicator.{n}.code")) {
            let contribution = match get_field(doc, KIND, &format!("indicator.{n}.contribution")) {
                Some(FieldValue::Decimal(x)) => x,
                _ => 0.0,
            };
            indicators.insert(code, contribution);
        }
    }
    ProposalOutline {
        goals: texts(doc, "goals"),
        indicators,
        places: texts(doc, "places"),
        beneficiaries: integer(doc, "beneficiaries").unwrap_or(0),
    }
}

/// The proposal's cost by fiscal year and expense class (PS, MOOE, CO, in the order of
/// `EXPENSE_CLASSES`), in centavos, for the years that have any.
pub fn cost_by_year_and_class(doc: &AutoCommit) -> BTreeMap<i32, [i64; 3]> {
    let mut by_year = BTreeMap::new();
    for year in FISCAL_YEARS {
        let mut classes = [0i64; 3];
        for (at, (class, _)) in EXPENSE_CLASSES.iter().enumerate() {
            for quarter in 1..=4 {
                // Each cell is at most MAX_CELL_CENTAVOS: 120 of them cannot overflow.
                classes[at] += integer(doc, &ppa::cost_field(year, quarter, class)).unwrap_or(0);
            }
        }
        if classes.iter().sum::<i64>() > 0 {
            by_year.insert(year, classes);
        }
    }
    by_year
}

/// The proposal's cost by fiscal year, in centavos, for the years that have any.
pub fn cost_by_year(doc: &AutoCommit) -> BTreeMap<i32, i64> {
    cost_by_year_and_class(doc).into_iter().map(|(year, classes)| (year, classes.iter().sum())).collect()
}

/// Every field the proposal holds, as the API's JSON (field name → value): what BPDA
/// reviews and partner organizations read.
pub fn content_of(doc: &AutoCommit) -> serde_json::Value {
    let fields: serde_json::Map<String, serde_json::Value> = ppa::fields()
        .iter()
        .filter_map(|spec| Some((spec.name.clone(), json::to_json(&get_field(doc, KIND, &spec.name)?))))
        .collect();
    serde_json::Value::Object(fields)
}

/// Whole centavos as people read an amount: `₱1,234,567.89`.
pub fn pesos(centavos: i64) -> String {
    let sign = if centavos < 0 { "-" } else { "" };
    let centavos = centavos.unsigned_abs();
    let whole = (centavos / 100).to_string();
    let mut grouped = String::new();
    for (at, digit) in whole.chars().enumerate() {
        if at > 0 && (whole.len() - at) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}₱{grouped}.{:02}", centavos % 100)
}

/// Centavos as a headline reads them: "₱2.35 billion", "₱48.1 million", or in full below
/// a million pesos. Three significant digits; [`pesos`] for the exact amount.
pub fn pesos_rounded(centavos: i64) -> String {
    let amount = centavos as f64 / 100.0;
    let (scaled, word) = match amount.abs() {
        a if a >= 1e9 => (amount / 1e9, "billion"),
        a if a >= 1e6 => (amount / 1e6, "million"),
        _ => return pesos(centavos),
    };
    let decimals = if scaled.abs() >= 100.0 { 0 } else if scaled.abs() >= 10.0 { 1 } else { 2 };
    let sign = if scaled < 0.0 { "-" } else { "" };
    format!("{sign}₱{:.*} {word}", decimals, scaled.abs())
}

/// An amount that is not pesos as a person writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPesos;

/// Reads an amount typed in pesos ("150000", "150,000.50", "₱1,200.5") as whole centavos;
/// `None` for nothing typed. No more than two decimals, no sign, nothing else.
pub fn centavos_of(typed: &str) -> Result<Option<i64>, NotPesos> {
    let plain: String = typed.chars().filter(|c| !matches!(c, '₱' | ',' | ' ')).collect();
    if plain.is_empty() {
        return Ok(None);
    }
    let (whole, fraction) = plain.split_once('.').unwrap_or((&plain, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction) && fraction.len() <= 2) {
        return Err(NotPesos);
    }
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| NotPesos)?;
    let whole: i64 = whole.parse().map_err(|_| NotPesos)?;
    whole.checked_mul(100).and_then(|w| w.checked_add(cents)).map(Some).ok_or(NotPesos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{new_document, RecordEditor};
    use crate::DocId;

    #[test]
    fn pesos_typed_are_read_as_centavos() {
        for (typed, centavos) in [("150000", 15_000_000), ("150,000.5", 15_000_050), ("₱1,200.05", 120_005), (" 0.99 ", 99), ("7.", 700)] {
            assert_eq!(centavos_of(typed), Ok(Some(centavos)), "{typed}");
        }
        assert_eq!(centavos_of(""), Ok(None));
        for bad in ["-5", "1.234", "12a", "1e6", ".5", "99999999999999999999"] {
            assert_eq!(centavos_of(bad), Err(NotPesos), "{bad}");
        }
    }

    #[test]
    fn centavos_read_as_pesos() {
        assert_eq!(pesos(500_000_000), "₱5,000,000.00");
        assert_eq!(pesos(123_456_789), "₱1,234,567.89");
        assert_eq!(pesos(5), "₱0.05");
        assert_eq!(pesos(-150), "-₱1.50");
        assert_eq!(pesos_rounded(234_567_000_000), "₱2.35 billion");
        assert_eq!(pesos_rounded(4_812_345_600), "₱48.1 million");
        assert_eq!(pesos_rounded(123_400_000_000_000), "₱1234 billion");
        assert_eq!(pesos_rounded(-150_000_000), "-₱1.50 million");
        assert_eq!(pesos_rounded(99_999_999), "₱999,999.99");
    }

    #[test]
    fn the_outline_and_the_costs_are_read_from_the_fields() {
        let mut doc = new_document(DocId(uuid::Uuid::from_u128(1)), KIND, automerge::ActorId::from(vec![1u8; 16]));
        let mut editor = RecordEditor::new(&mut doc).unwrap();
        editor.set("goals", FieldValue::TextList(vec!["S1".into()])).unwrap();
        editor.set("indicator.1.code", FieldValue::Text("S1.1".into())).unwrap();
        editor.set("indicator.1.contribution", FieldValue::Decimal(2.5)).unwrap();
        editor.set("indicator.2.code", FieldValue::Text(" ".into())).unwrap();
        editor.set("places", FieldValue::TextList(vec!["1908801001".into()])).unwrap();
        editor.set("beneficiaries", FieldValue::Integer(1_200)).unwrap();
        editor.set(&ppa::cost_field(2026, 1, "mooe"), FieldValue::Integer(150_000_00)).unwrap();
        editor.set(&ppa::cost_field(2026, 3, "co"), FieldValue::Integer(2_000_000_00)).unwrap();
        editor.set(&ppa::cost_field(2027, 2, "ps"), FieldValue::Integer(99)).unwrap();
        assert!(editor.set(&ppa::cost_field(2026, 2, "ps"), FieldValue::Integer(-1)).is_err(), "no negative cost");
        assert!(editor.set(&ppa::cost_field(2026, 2, "ps"), FieldValue::Decimal(1.5)).is_err(), "whole centavos only");
        drop(editor);

        let outline = outline_of(&doc);
        assert_eq!(outline.goals, ["S1"]);
        assert_eq!(outline.indicators, BTreeMap::from([("S1.1".to_owned(), 2.5)]), "an empty slot promises nothing");
        assert_eq!((outline.places.len(), outline.beneficiaries), (1, 1_200));
        assert_eq!(cost_by_year(&doc), BTreeMap::from([(2026, 2_150_000_00), (2027, 99)]));
    }
}

/// The document's heads as hex, sorted: the version that a submission and a certification
/// name.
pub fn heads_of(doc: &mut AutoCommit) -> Vec<String> {
    let mut heads: Vec<String> = doc.get_heads().iter().map(|h| h.to_string()).collect();
    heads.sort();
    heads
}
