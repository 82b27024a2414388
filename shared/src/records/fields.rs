//! Field types, their values, and the checks that keep a value valid.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};
use serde::{Deserialize, Serialize};

/// What a field may hold.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    Text { max_chars: usize },
    Integer { min: i64, max: i64 },
    Decimal { min: f64, max: f64 },
    /// A calendar date, `YYYY-MM-DD`, between 1900 and 2100.
    Date,
    Choice(&'static [&'static str]),
    TextList { max_items: usize, max_chars: usize },
    /// Items of `{text, done}`.
    Checklist { max_items: usize },
    /// A barangay, city or municipality of BARMM by its PSGC code (`crate::psgc`), kept
    /// as text.
    Place,
    /// Photos by their names (`crate::photos`), kept as a list of text: the photos
    /// themselves travel apart from the record. A photo taken is inserted into the list
    /// ([`crate::records::RecordEditor::add_photo`]), so two devices adding photos to one
    /// record keep both.
    Photos { max_items: usize },
}

/// One field of a record kind.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub name: String,
    pub label: String,
    pub ty: FieldType,
}

impl FieldSpec {
    pub fn new(name: impl Into<String>, label: impl Into<String>, ty: FieldType) -> Self {
        FieldSpec { name: name.into(), label: label.into(), ty }
    }

    /// Says why `value` cannot go in this field, if it cannot.
    pub fn check(&self, value: &FieldValue) -> Result<(), FieldError> {
        let bad = |why: String| Err(FieldError::new(&self.name, why));
        if let Some(c) = value.texts().find_map(crate::plain_text::unusable_character) {
            return bad(crate::plain_text::unusable_message(c));
        }
        match (&self.ty, value) {
            (FieldType::Text { max_chars }, FieldValue::Text(s)) => {
                if s.chars().count() > *max_chars {
                    return bad(format!("is longer than {max_chars} characters"));
                }
            }
            (FieldType::Integer { min, max }, FieldValue::Integer(n)) => {
                if n < min || n > max {
                    return bad(format!("must be between {min} and {max}"));
                }
            }
            (FieldType::Decimal { min, max }, FieldValue::Decimal(x)) => {
                if !x.is_finite() || x < min || x > max {
                    return bad(format!("must be between {min} and {max}"));
                }
            }
            (FieldType::Date, FieldValue::Date(d)) => {
                if !is_plausible_date(d) {
                    return bad("must be a date between 1900-01-01 and 2100-12-31, written YYYY-MM-DD".into());
                }
            }
            (FieldType::Choice(options), FieldValue::Choice(c)) => {
                if !options.contains(&c.as_str()) {
                    return bad(format!("must be one of: {}", options.join(", ")));
                }
            }
            (FieldType::TextList { max_items, max_chars }, FieldValue::TextList(items)) => {
                if items.len() > *max_items {
                    return bad(format!("has more than {max_items} entries"));
                }
                if items.iter().any(|s| s.chars().count() > *max_chars) {
                    return bad(format!("has an entry longer than {max_chars} characters"));
                }
            }
            (FieldType::Photos { max_items }, FieldValue::TextList(names)) => {
                if names.len() > *max_items {
                    return bad(format!("has more than {max_items} photos"));
                }
                if names.iter().any(|name| !crate::photos::is_name(name)) {
                    return bad("must name each photo by its SHA-256 (64 lowercase hex digits)".into());
                }
            }
            (FieldType::Place, FieldValue::Text(code)) => {
                if !crate::psgc::place(code).is_some_and(|p| p.is_municipal() || p.level == "barangay") {
                    return bad(format!(
                        "must be the ten-digit PSGC code of a barangay, city or municipality of BARMM; \"{}\" is not one",
                        code.chars().take(20).collect::<String>()
                    ));
                }
            }
            (FieldType::Checklist { max_items }, FieldValue::Checklist(items)) => {
                if items.len() > *max_items {
                    return bad(format!("has more than {max_items} items"));
                }
                if items.iter().any(|i| i.text.chars().count() > 500) {
                    return bad("has an item longer than 500 characters".into());
                }
            }
            _ => return bad(format!("has the wrong type of value ({})", value.type_name())),
        }
        Ok(())
    }
}

/// A checklist item of a monitoring task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistItem {
    pub text: String,
    pub done: bool,
}

/// A value of a field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FieldValue {
    Text(String),
    Integer(i64),
    Decimal(f64),
    Date(String),
    Choice(String),
    TextList(Vec<String>),
    Checklist(Vec<ChecklistItem>),
}

impl FieldValue {
    fn type_name(&self) -> &'static str {
        match self {
            FieldValue::Text(_) => "text",
            FieldValue::Integer(_) => "whole number",
            FieldValue::Decimal(_) => "number",
            FieldValue::Date(_) => "date",
            FieldValue::Choice(_) => "choice",
            FieldValue::TextList(_) => "list",
            FieldValue::Checklist(_) => "checklist",
        }
    }

    /// Every piece of text the value holds.
    fn texts(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            FieldValue::Text(s) | FieldValue::Date(s) | FieldValue::Choice(s) => Box::new(std::iter::once(s.as_str())),
            FieldValue::Integer(_) | FieldValue::Decimal(_) => Box::new(std::iter::empty()),
            FieldValue::TextList(items) => Box::new(items.iter().map(String::as_str)),
            FieldValue::Checklist(items) => Box::new(items.iter().map(|i| i.text.as_str())),
        }
    }

    /// Reads a stored value as the type `spec` expects.
    pub(crate) fn read(doc: &AutoCommit, spec: &FieldSpec, value: Value<'_>, id: &ObjId) -> Result<Self, FieldError> {
        let wrong = || FieldError::new(&spec.name, "holds a value of the wrong type".to_owned());
        let scalar = match &value {
            Value::Scalar(s) => Some(s.as_ref().clone()),
            Value::Object(_) => None,
        };
        Ok(match (&spec.ty, scalar) {
            (FieldType::Text { .. } | FieldType::Place, Some(ScalarValue::Str(s))) => FieldValue::Text(s.to_string()),
            (FieldType::Date, Some(ScalarValue::Str(s))) => FieldValue::Date(s.to_string()),
            (FieldType::Choice(_), Some(ScalarValue::Str(s))) => FieldValue::Choice(s.to_string()),
            (FieldType::Integer { .. }, Some(ScalarValue::Int(n))) => FieldValue::Integer(n),
            (FieldType::Integer { .. }, Some(ScalarValue::Uint(n))) => FieldValue::Integer(i64::try_from(n).map_err(|_| wrong())?),
            (FieldType::Decimal { .. }, Some(ScalarValue::F64(x))) => FieldValue::Decimal(x),
            (FieldType::Decimal { .. }, Some(ScalarValue::Int(n))) => FieldValue::Decimal(n as f64),
            (FieldType::TextList { .. } | FieldType::Photos { .. }, None) => {
                let items = doc.values(id).map(|(v, _)| match v {
                    Value::Scalar(s) => match s.as_ref() {
                        ScalarValue::Str(s) => Ok(s.to_string()),
                        _ => Err(wrong()),
                    },
                    _ => Err(wrong()),
                });
                FieldValue::TextList(items.collect::<Result<_, _>>()?)
            }
            (FieldType::Checklist { .. }, None) => {
                let mut items = Vec::new();
                for (v, item) in doc.values(id) {
                    if !matches!(v, Value::Object(ObjType::Map)) {
                        return Err(wrong());
                    }
                    // Nothing but `text` and `done`: whatever else a device put in an item
                    // would be stored and shown (in a conflict) without any check.
                    if doc.keys(&item).any(|key| key != "text" && key != "done") {
                        return Err(wrong());
                    }
                    let text = match doc.get(&item, "text") {
                        Ok(Some((Value::Scalar(s), _))) => s.to_str().map(str::to_owned).ok_or_else(wrong)?,
                        _ => return Err(wrong()),
                    };
                    let mut done = false;
                    for (value, _) in doc.get_all(&item, "done").unwrap_or_default() {
                        match value {
                            Value::Scalar(s) => match s.as_ref() {
                                ScalarValue::Boolean(b) => done = done || *b,
                                _ => return Err(wrong()),
                            },
                            _ => return Err(wrong()),
                        }
                    }
                    if doc.get_all(&item, "text").unwrap_or_default().len() > 1 {
                        // Concurrent edits of one item's text: each must be valid text too.
                        for (value, _) in doc.get_all(&item, "text").unwrap_or_default() {
                            match value {
                                Value::Scalar(s) if s.to_str().is_some_and(|t| crate::plain_text::unusable_character(t).is_none()) => {}
                                _ => return Err(wrong()),
                            }
                        }
                    }
                    items.push(ChecklistItem { text, done });
                }
                FieldValue::Checklist(items)
            }
            _ => return Err(wrong()),
        })
    }

    /// Writes this value into the document's root under `spec.name`.
    pub(crate) fn write(&self, doc: &mut AutoCommit, spec: &FieldSpec) -> Result<(), automerge::AutomergeError> {
        let key = spec.name.as_str();
        match self {
            FieldValue::Text(s) | FieldValue::Date(s) | FieldValue::Choice(s) => doc.put(ROOT, key, s.as_str()),
            FieldValue::Integer(n) => doc.put(ROOT, key, *n),
            FieldValue::Decimal(x) => doc.put(ROOT, key, *x),
            FieldValue::TextList(items) => {
                let list = doc.put_object(ROOT, key, ObjType::List)?;
                for (at, item) in items.iter().enumerate() {
                    doc.insert(&list, at, item.as_str())?;
                }
                Ok(())
            }
            FieldValue::Checklist(items) => {
                let list = doc.put_object(ROOT, key, ObjType::List)?;
                for (at, item) in items.iter().enumerate() {
                    let map = doc.insert_object(&list, at, ObjType::Map)?;
                    doc.put(&map, "text", item.text.as_str())?;
                    doc.put(&map, "done", item.done)?;
                }
                Ok(())
            }
        }
    }
}

/// A field and what is wrong with it, in words a field officer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    /// `field` is shown as a person can read it: a key a hostile device sent may hold
    /// anything, and this sentence is stored and shown (the device's last refusal).
    pub fn new(field: &str, problem: String) -> Self {
        let mut shown: String = field.chars().take(100).map(|c| if crate::plain_text::is_unusable(c) { '\u{FFFD}' } else { c }).collect();
        if field.chars().count() > 100 {
            shown.push('…');
        }
        FieldError { field: shown, problem }
    }

    pub fn unknown(field: &str) -> Self {
        FieldError::new(field, "is not a field of this record".to_owned())
    }
}

fn is_plausible_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| s.get(range).and_then(|p| p.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2100).contains(&year) && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_a_barangay_city_or_municipality_of_the_list() {
        let spec = FieldSpec::new("place_code", "Place", FieldType::Place);
        let check = |code: &str| spec.check(&FieldValue::Text(code.into()));
        // A barangay of Lamitan, the City of Lamitan, the town of Lantawan (Basilan).
        for good in ["1900702001", "1900702000", "1900703000"] {
            assert!(check(good).is_ok(), "{good}");
        }
        // Basilan (a province), BARMM, a code of no place, Sulu (now Region IX), not a code.
        for bad in ["1900700000", "1900000000", "1900799999", "0906600000", "19007", "Lamitan"] {
            let refusal = check(bad).expect_err(bad);
            assert!(refusal.problem.contains("PSGC code of a barangay, city or municipality of BARMM"), "{}", refusal.problem);
        }
    }

    #[test]
    fn dates_must_be_real_and_plausible() {
        for good in ["2026-11-21", "2024-02-29", "1900-01-01"] {
            assert!(is_plausible_date(good), "{good}");
        }
        for bad in ["30000-01-01", "2026-02-30", "2025-02-29", "2026-13-01", "21-11-2026", "2026-1-1", ""] {
            assert!(!is_plausible_date(bad), "{bad}");
        }
    }
}
