//! Recovery codes: ten single-use codes shown once when a second factor is set up, for
//! the day the phone with the authenticator app is lost. Each is 10 characters from an
//! alphabet without look-alikes (about 50 bits), written `xxxxx-xxxxx`. Only their
//! SHA-256 is stored: they are random, not chosen by people, so a slow hash would add
//! nothing. A code given is compared with every unused one in constant time.

use rand::Rng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How many codes a set holds.
pub const PER_SET: usize = 10;
/// Lowercase letters and digits, without 0/o, 1/l/i.
const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const LENGTH: usize = 10;

/// A new set of codes, as the person is shown them.
pub fn new_set() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..PER_SET)
        .map(|_| {
            let chars: String = (0..LENGTH).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}", &chars[..LENGTH / 2], &chars[LENGTH / 2..])
        })
        .collect()
}

/// The code as typed, reduced to what is compared: case, spaces and dashes forgiven.
fn normalized(typed: &str) -> String {
    typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

/// Whether `typed` is shaped like a recovery code (rather than a six-digit code).
pub fn looks_like_one(typed: &str) -> bool {
    normalized(typed).len() == LENGTH
}

/// What is stored of a code.
pub fn digest(code: &str) -> Vec<u8> {
    Sha256::digest(normalized(code).as_bytes()).to_vec()
}

/// The index in `unused` (stored digests) of the code `typed`, if it is one of them.
/// Every digest is compared, each in constant time.
pub fn find(typed: &str, unused: &[Vec<u8>]) -> Option<usize> {
    let given = digest(typed);
    let mut found = None;
    for (index, stored) in unused.iter().enumerate() {
        if bool::from(stored.ct_eq(&given)) && found.is_none() {
            found = Some(index);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_different_codes_that_read_back_however_they_are_typed() {
        let set = new_set();
        assert_eq!(set.len(), PER_SET);
        assert_eq!(set.iter().collect::<std::collections::HashSet<_>>().len(), PER_SET);
        let stored: Vec<Vec<u8>> = set.iter().map(|c| digest(c)).collect();
        for (index, code) in set.iter().enumerate() {
            assert_eq!(code.len(), 11, "{code}");
            assert!(looks_like_one(code));
            assert_eq!(find(code, &stored), Some(index));
            assert_eq!(find(&format!(" {} ", code.to_uppercase().replace('-', " ")), &stored), Some(index));
        }
        assert_eq!(find("abcde-fghjk", &stored), None);
        assert!(!looks_like_one("123456"));
    }
}
