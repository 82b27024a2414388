//! Text that leaves BMMS in a CSV file, made safe to open in a spreadsheet.
//!
//! A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
//! return, which some programs skip before one of those) as a formula: a community named
//! `=HYPERLINK(...)` would become a live link in a supervisor's copy of the export. As
//! OWASP recommends ("CSV Injection"), such a cell is written with a leading apostrophe,
//! which the spreadsheet shows as plain text; the CSV writer then quotes it as needed.
//! Only text people typed goes through here: numbers BMMS writes itself (a latitude of
//! -7.2) stay numbers. JSON and GeoJSON exports are not spreadsheets and stay unchanged.

use std::borrow::Cow;

/// `text` as a CSV cell a spreadsheet will not run.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::csv_text;

    #[test]
    fn cells_a_spreadsheet_would_run_are_written_as_text() {
        for formula in ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", "\t=1", "\r=1", "=HYPERLINK(\"http://x\")"] {
            assert_eq!(csv_text(formula), format!("'{formula}"), "{formula:?}");
        }
        for plain in ["Barangay Poblacion", "", "1+1", "O'Brien", " =1", "Datu Odin Sinsuat"] {
            assert_eq!(csv_text(plain), plain, "{plain:?}");
        }
    }
}

/// Whole centavos as a spreadsheet reads an amount of pesos: `150000.00`, `-0.05`.
pub fn pesos_number(centavos: i64) -> String {
    let sign = if centavos < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", centavos.unsigned_abs() / 100, centavos.unsigned_abs() % 100)
}
