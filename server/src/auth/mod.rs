//! Who is asking: passwords, sessions, the signed-in extractor with its CSRF check,
//! and the sign-in rate limits.

pub mod caller;
pub mod limiter;
pub mod password;
pub mod session_store;
pub mod signed_in;
pub mod users;

pub use caller::Caller;
pub use signed_in::{SessionAuth, SignedIn, AUTH_KEY};
