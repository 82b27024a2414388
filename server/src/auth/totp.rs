//! One-time codes from an authenticator app (TOTP, RFC 6238: six digits, 30-second
//! steps, HMAC-SHA1, which is what every authenticator app reads from a QR code). The
//! codes themselves come from the `totp-rs` crate; what is ours is the rule that a code
//! works once: the server remembers the newest step a code was accepted for and takes
//! only later ones, so a code seen over someone's shoulder is spent already.
//!
//! Time is passed in, so tests choose it (and the server's [`super::second_factor::FactorClock`]).

use qrcode::render::svg;
use qrcode::QrCode;
use totp_rs::{Algorithm, TOTP};

/// Seconds per code.
pub const STEP_SECONDS: u64 = 30;
/// Codes of this many steps before and after now are accepted too: a phone's clock a
/// little off, or a code typed as it changed.
const SKEW_STEPS: u64 = 1;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;
/// The name authenticator apps show above the code.
const ISSUER: &str = "BMMS";

fn totp(secret: &[u8], account: &str) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, 6, SKEW_STEPS as u8, STEP_SECONDS, secret.to_vec(), Some(ISSUER.to_owned()), account.to_owned())
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    let bytes: [u8; SECRET_BYTES] = rand::random();
    bytes.to_vec()
}

/// The 30-second step `unix_seconds` falls in.
pub fn step_of(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The code an authenticator app shows at `unix_seconds`.
pub fn code_at(secret: &[u8], unix_seconds: u64) -> String {
    totp(secret, "").generate(unix_seconds)
}

/// The step whose code `code` is, if it is the code of a step near `unix_seconds` that is
/// later than `last_used_step` (the newest step a code was already accepted for).
pub fn accepts(secret: &[u8], code: &str, unix_seconds: u64, last_used_step: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_seconds);
    let totp = totp(secret, "");
    // Every candidate is computed and compared in constant time, so the time taken
    // does not tell which step matched.
    let mut accepted = None;
    for step in now.saturating_sub(SKEW_STEPS)..=now + SKEW_STEPS {
        let expected = totp.generate(step * STEP_SECONDS);
        let same: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into();
        if same && step > last_used_step && accepted.is_none() {
            accepted = Some(step);
        }
    }
    accepted
}

/// What a person needs to add the secret to an authenticator app: the `otpauth://` link,
/// its QR code drawn as SVG here (no outside service sees the secret), and the secret in
/// base32 for typing in by hand.
pub struct Enrolment {
    pub otpauth_uri: String,
    pub qr_svg: String,
    pub secret_base32: String,
}

pub fn enrolment(secret: &[u8], account: &str) -> Enrolment {
    // An issuer or account with ':' makes totp-rs's link ambiguous; usernames have none.
    let totp = totp(secret, &account.replace(':', "."));
    let otpauth_uri = totp.get_url();
    let qr_svg = QrCode::new(otpauth_uri.as_bytes())
        .map(|code| code.render::<svg::Color>().min_dimensions(200, 200).quiet_zone(true).build())
        .unwrap_or_default();
    Enrolment { otpauth_uri, qr_svg, secret_base32: totp.get_secret_base32() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's test secret and its SHA-1 vectors (Appendix B), last six digits.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_are_those_of_rfc_6238() {
        for (time, code) in [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")] {
            assert_eq!(code_at(RFC_SECRET, time), code, "at {time}");
        }
    }

    #[test]
    fn a_code_works_once_in_its_window_and_not_outside_it() {
        let now = 1_234_567_890;
        let code = code_at(RFC_SECRET, now);
        let step = accepts(RFC_SECRET, &code, now, 0).expect("the current code is accepted");
        assert_eq!(step, step_of(now));
        assert_eq!(accepts(RFC_SECRET, &code, now, step), None, "not twice");
        // A step either side is accepted (a phone's clock a little off)...
        assert!(accepts(RFC_SECRET, &code, now + STEP_SECONDS, 0).is_some());
        assert!(accepts(RFC_SECRET, &code, now - STEP_SECONDS, 0).is_some());
        // ...two steps away is not.
        assert_eq!(accepts(RFC_SECRET, &code, now + 2 * STEP_SECONDS, 0), None);
        assert_eq!(accepts(RFC_SECRET, &code, now - 2 * STEP_SECONDS, 0), None);
        // After a later code was used, an earlier one is spent too.
        let next = code_at(RFC_SECRET, now + STEP_SECONDS);
        let next_step = accepts(RFC_SECRET, &next, now, step).expect("the next step's code, once");
        assert_eq!(accepts(RFC_SECRET, &code_at(RFC_SECRET, now - STEP_SECONDS), now, next_step), None);
    }

    #[test]
    fn only_six_digits_are_a_code() {
        let now = 1_234_567_890;
        let code = code_at(RFC_SECRET, now);
        assert!(accepts(RFC_SECRET, &format!(" {code} "), now, 0).is_some(), "spaces around it are forgiven");
        for wrong in ["", "12345", "1234567", "abcdef", "00592４"] {
            assert_eq!(accepts(RFC_SECRET, wrong, now, 0), None, "{wrong:?}");
        }
        assert_eq!(accepts(b"another secret of 20b", &code, now, 0), None);
    }

    #[test]
    fn the_enrolment_names_bmms_and_the_user_and_draws_the_qr_code_here() {
        let enrolment = enrolment(RFC_SECRET, "ana.reyes");
        assert!(enrolment.otpauth_uri.starts_with("otpauth://totp/BMMS:ana.reyes?"), "{}", enrolment.otpauth_uri);
        assert!(enrolment.otpauth_uri.contains(&format!("secret={}", enrolment.secret_base32)));
        assert_eq!(enrolment.secret_base32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(enrolment.qr_svg.contains("<svg") && !enrolment.qr_svg.contains("href"), "an SVG drawn here, linking nowhere");
    }
}
