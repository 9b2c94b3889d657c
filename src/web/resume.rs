//! A form sent after its session ended keeps its values (SPEC section 11):
//! the handler parks the form (without the personnummer and the stale CSRF
//! token) in memory under a random token set as a cookie, and sends the
//! user to sign in; after signing in they are taken back to the form, which
//! is filled in again for them to check and send. Nothing is saved
//! without that second send. Parked forms live 15 minutes, at most 200 at
//! once, and never touch the disk.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};

use super::app::Shared;
use super::forms::Form;
use super::session;

pub const COOKIE: &str = "sustrack_resume";
const KEEP_MINUTES: i64 = 15;
const MAX_PARKED: usize = 200;

struct Entry {
    path: String,
    pairs: Vec<(String, String)>,
    at: DateTime<Utc>,
}

#[derive(Default)]
pub struct Parked(Mutex<HashMap<String, Entry>>);

/// Fields never kept: the personnummer and the CSRF token.
const DROPPED: [&str; 2] = ["pnr", "csrf"];

/// Park `form` for `path` and answer with the way to the sign-in page.
pub fn park(app: &Shared, path: String, form: &Form) -> Response {
    let now = app.clock.now();
    let token = super::csrf::new_pre();
    if let Ok(mut map) = app.parked.0.lock() {
        map.retain(|_, e| now - e.at < Duration::minutes(KEEP_MINUTES));
        if map.len() < MAX_PARKED {
            let pairs = form
                .pairs()
                .iter()
                .filter(|(k, _)| !DROPPED.contains(&k.as_str()))
                .cloned()
                .collect();
            map.insert(
                token.clone(),
                Entry {
                    path,
                    pairs,
                    at: now,
                },
            );
        }
    }
    let mut res = Redirect::to("/login?ended=1").into_response();
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        session::set_cookie(app, COOKIE, &token, "Strict", Some(KEEP_MINUTES * 60)),
    );
    h.append(
        header::SET_COOKIE,
        session::clear_cookie(app, session::SESSION),
    );
    res
}

/// Where a parked form waits, for the redirect after signing in.
pub fn waiting_path(app: &Shared, headers: &HeaderMap) -> Option<String> {
    let token = session::cookie(headers, COOKIE)?;
    let map = app.parked.0.lock().ok()?;
    let e = map.get(token)?;
    (app.clock.now() - e.at < Duration::minutes(KEEP_MINUTES)).then(|| e.path.clone())
}

/// Take back the form parked for `path`, if this visitor has one.
pub fn take(app: &Shared, headers: &HeaderMap, path: &str) -> Option<Form> {
    let token = session::cookie(headers, COOKIE)?;
    let mut map = app.parked.0.lock().ok()?;
    if map.get(token).is_some_and(|e| e.path == path) {
        let e = map.remove(token)?;
        if app.clock.now() - e.at < Duration::minutes(KEEP_MINUTES) {
            return Some(Form::with(e.pairs));
        }
    }
    None
}
