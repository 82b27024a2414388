//! Who is asking: passwords, second factors, sessions, the signed-in extractor with its
//! CSRF check, and the sign-in rate limits.

pub mod allowed_networks;
pub mod caller;
pub mod factor_key;
pub mod limiter;
pub mod oidc;
pub mod passkeys;
pub mod password;
pub mod recovery_codes;
pub mod second_factor;
pub mod session_store;
pub mod signed_in;
pub mod totp;
pub mod users;

pub use caller::Caller;
pub use signed_in::{SessionAuth, SignedIn, SigningIn, AUTH_KEY};
