//! Field values as plain JSON for the desk screens and their API: text, dates and choices as strings,
//! numbers as numbers, lists as arrays.

use super::fields::ChecklistItem;
use super::{FieldError, FieldSpec, FieldType, FieldValue};
use serde_json::{json, Value};

pub fn to_json(value: &FieldValue) -> Value {
    match value {
        FieldValue::Text(s) | FieldValue::Date(s) | FieldValue::Choice(s) => json!(s),
        FieldValue::Integer(n) => json!(n),
        FieldValue::Decimal(x) => json!(x),
        FieldValue::TextList(items) => json!(items),
        FieldValue::Checklist(items) => json!(items),
    }
}

/// Reads a JSON value as the type `spec` holds, then checks it against the schema.
pub fn from_json(spec: &FieldSpec, value: &Value) -> Result<FieldValue, FieldError> {
    let wrong = |expected: &str| FieldError::new(&spec.name, format!("needs {expected}"));
    let parsed = match &spec.ty {
        FieldType::Text { .. } | FieldType::Place => FieldValue::Text(value.as_str().ok_or_else(|| wrong("text"))?.to_owned()),
        FieldType::Date => FieldValue::Date(value.as_str().ok_or_else(|| wrong("a date, YYYY-MM-DD"))?.to_owned()),
        FieldType::Choice(_) => FieldValue::Choice(value.as_str().ok_or_else(|| wrong("one of its choices"))?.to_owned()),
        FieldType::Integer { .. } => FieldValue::Integer(value.as_i64().ok_or_else(|| wrong("a whole number"))?),
        FieldType::Decimal { .. } => FieldValue::Decimal(value.as_f64().ok_or_else(|| wrong("a number"))?),
        FieldType::TextList { .. } | FieldType::Photos { .. } => FieldValue::TextList(
            serde_json::from_value(value.clone()).map_err(|_| wrong("a list of texts"))?,
        ),
        FieldType::Checklist { .. } => FieldValue::Checklist(
            serde_json::from_value::<Vec<ChecklistItem>>(value.clone()).map_err(|_| wrong("a list of {text, done} items"))?,
        ),
    };
    spec.check(&parsed)?;
    Ok(parsed)
}
