//! Files a signed-in user's request made and a later request of the same
//! session fetches: an export's CSV (shown with its counts first, then
//! downloaded) and an uploaded import between its dry run and its
//! confirmation (SPEC section 11). In memory only, tied to the session,
//! one per kind; gone after 15 minutes, at sign-out's next sweep, or when
//! the next one replaces it. A bound on the total keeps a flood of uploads
//! from exhausting memory.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::app::Shared;
use super::session::SignedIn;

const KEEP_MINUTES: i64 = 15;
/// The most all stashed files may hold together.
const MAX_TOTAL_BYTES: usize = 512 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Export,
    Import,
}

pub struct Item {
    pub bytes: zeroize::Zeroizing<Vec<u8>>,
    /// A file name, or what the page says about the file.
    pub name: String,
    at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Stash(Mutex<HashMap<(i64, String, Kind), Item>>);

/// The session's key: its user and its CSRF token (unique per session, so
/// a new sign-in of the same user does not find an old session's file).
fn key(who: &SignedIn, kind: Kind) -> (i64, String, Kind) {
    (who.session.user_id, who.session.csrf.clone(), kind)
}

/// Keep `bytes` for this session; false when the server holds too much
/// already (the caller says "try again later").
pub fn put(app: &Shared, who: &SignedIn, kind: Kind, bytes: Vec<u8>, name: String) -> bool {
    let now = app.clock.now();
    let Ok(mut map) = app.stash.0.lock() else {
        return false;
    };
    map.retain(|_, e| now - e.at < Duration::minutes(KEEP_MINUTES));
    map.remove(&key(who, kind));
    let total: usize = map.values().map(|e| e.bytes.len()).sum();
    if total + bytes.len() > MAX_TOTAL_BYTES {
        return false;
    }
    map.insert(
        key(who, kind),
        Item {
            bytes: zeroize::Zeroizing::new(bytes),
            name,
            at: now,
        },
    );
    true
}

/// Take the session's file out (the import's confirmation).
pub fn take(app: &Shared, who: &SignedIn, kind: Kind) -> Option<Item> {
    let now = app.clock.now();
    let mut map = app.stash.0.lock().ok()?;
    let e = map.remove(&key(who, kind))?;
    (now - e.at < Duration::minutes(KEEP_MINUTES)).then_some(e)
}

/// A copy of the session's file (the export's download may be repeated).
pub fn copy(app: &Shared, who: &SignedIn, kind: Kind) -> Option<(Vec<u8>, String)> {
    let now = app.clock.now();
    let map = app.stash.0.lock().ok()?;
    let e = map.get(&key(who, kind))?;
    (now - e.at < Duration::minutes(KEEP_MINUTES)).then(|| (e.bytes.to_vec(), e.name.clone()))
}
