//! CSRF tokens. A signed-in form carries the token stored with its session
//! (`accounts::Session::csrf`); the sign-in and enrolment forms, shown
//! before there is a session, carry a MAC of the visitor's `sustrack_pre`
//! cookie under a key the server draws at start. Both are compared in
//! constant time. Cross-origin POSTs are refused earlier, in `headers`.

use blake2::digest::{FixedOutput, KeyInit, Update};

use super::app::Shared;

/// The token for a visitor's pre-session cookie value.
pub fn pre_token(app: &Shared, pre_cookie: &str) -> String {
    let mut mac = blake2::Blake2bMac512::new_from_slice(&app.csrf_key).expect("a 32-byte key fits");
    mac.update(b"sustrack csrf v1\0");
    mac.update(pre_cookie.as_bytes());
    data_encoding::BASE64URL_NOPAD.encode(&mac.finalize_fixed()[..32])
}

/// Does `given` match `expected`? Constant time in the token's content.
pub fn same(given: Option<&str>, expected: &str) -> bool {
    let Some(given) = given else { return false };
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    if a.len() != b.len() || b.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new random pre-session cookie value.
pub fn new_pre() -> String {
    data_encoding::BASE64URL_NOPAD.encode(&crate::identity::random_bytes(32))
}
