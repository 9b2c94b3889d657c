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
/// The most one user's sessions may hold together, so one user cannot
/// fill the server's share for everyone.
const MAX_USER_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Export,
    Import,
}

pub struct Item {
    pub bytes: zeroize::Zeroizing<Vec<u8>>,
    /// A file name, or what the page says about the file.
    pub name: String,
    /// A random id the page that offers the next step carries, so the step
    /// acts on the file that page showed (not on one put since, in another
    /// tab).
    pub id: String,
    at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Stash(Mutex<HashMap<(i64, String, Kind), Item>>);

/// The session's key: its user and its CSRF token (unique per session, so
/// a new sign-in of the same user does not find an old session's file).
fn key(who: &SignedIn, kind: Kind) -> (i64, String, Kind) {
    (who.session.user_id, who.session.csrf.clone(), kind)
}

/// Drop what has expired (every access sweeps, so nothing outlives its
/// 15 minutes by more than until the next request that uses the stash).
fn sweep(map: &mut HashMap<(i64, String, Kind), Item>, now: DateTime<Utc>) {
    map.retain(|_, e| now - e.at < Duration::minutes(KEEP_MINUTES));
}

/// Keep `bytes` for this session; its id, or `None` when the server (or
/// this user) holds too much already (the caller says "try again later").
pub fn put(
    app: &Shared,
    who: &SignedIn,
    kind: Kind,
    bytes: zeroize::Zeroizing<Vec<u8>>,
    name: String,
) -> Option<String> {
    let now = app.clock.now();
    let mut map = app.stash.0.lock().ok()?;
    sweep(&mut map, now);
    // The file this one replaces does not count; refused, it stays.
    let mine = key(who, kind);
    let others = map.iter().filter(|(k, _)| **k != mine);
    let (total, users) = others.fold((0, 0), |(t, u), (k, e)| {
        let n = e.bytes.len();
        (t + n, if k.0 == who.session.user_id { u + n } else { u })
    });
    if total + bytes.len() > MAX_TOTAL_BYTES || users + bytes.len() > MAX_USER_BYTES {
        return None;
    }
    let id = super::csrf::new_pre();
    map.insert(
        mine,
        Item {
            bytes,
            name,
            id: id.clone(),
            at: now,
        },
    );
    Some(id)
}

/// Take the session's file out, if it is the one with `id` (the import's
/// confirmation).
pub fn take(app: &Shared, who: &SignedIn, kind: Kind, id: &str) -> Option<Item> {
    let now = app.clock.now();
    let mut map = app.stash.0.lock().ok()?;
    sweep(&mut map, now);
    if !map
        .get(&key(who, kind))
        .is_some_and(|e| super::csrf::same(Some(id), &e.id))
    {
        return None;
    }
    map.remove(&key(who, kind))
}

/// A copy of the session's file (the export's download may be repeated).
pub fn copy(app: &Shared, who: &SignedIn, kind: Kind) -> Option<(Vec<u8>, String)> {
    let now = app.clock.now();
    let mut map = app.stash.0.lock().ok()?;
    sweep(&mut map, now);
    let e = map.get(&key(who, kind))?;
    Some((e.bytes.to_vec(), e.name.clone()))
}

/// Forget everything of a session that ends (sign-out).
pub fn forget(app: &Shared, user_id: i64, csrf: &str) {
    if let Ok(mut map) = app.stash.0.lock() {
        map.retain(|k, _| !(k.0 == user_id && k.1 == csrf));
    }
}
