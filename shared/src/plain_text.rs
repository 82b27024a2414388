//! Which characters text from people may hold. PostgreSQL cannot store NUL in text at all
//! (a synced field with one made the whole batch fail), and the other control characters
//! have no place in a form field: they come from a damaged file or a hostile client, and
//! would break CSV and logs. The two bidirectional overrides are refused because they
//! make text read differently from what it holds (a name that displays reversed); the
//! marks and isolates that Arabic-script names need (U+200E, U+200F, U+2066–U+2069) are
//! fine.

/// The first character of `text` that no field may hold, if any.
pub fn unusable_character(text: &str) -> Option<char> {
    text.chars().find(|&c| is_unusable(c))
}

/// Whether no field may hold `c`.
pub fn is_unusable(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        '\u{202D}' | '\u{202E}' => true,
        c => c.is_control(),
    }
}

/// A sentence part naming the character, e.g. "contains the control character U+0000,
/// which cannot be stored".
pub fn unusable_message(c: char) -> String {
    format!("contains the character U+{:04X}, which text in BMMS cannot hold; remove it", c as u32)
}

#[cfg(test)]
mod tests {
    use super::unusable_character;

    #[test]
    fn control_characters_and_overrides_are_refused_and_real_text_is_not() {
        for (text, bad) in [("a\0b", '\0'), ("\u{7}", '\u{7}'), ("x\u{7f}", '\u{7f}'), ("\u{85}", '\u{85}'), ("abc\u{202E}cba", '\u{202E}')] {
            assert_eq!(unusable_character(text), Some(bad), "{text:?}");
        }
        for text in ["Barangay Poblacion", "line one\nline two\ttab\r\n", "Sultan Kudarat", "مرحبا \u{200F}", "\u{2067}علي\u{2069} Datu", "ñ é ü", "😀"] {
            assert_eq!(unusable_character(text), None, "{text:?}");
        }
    }
}
