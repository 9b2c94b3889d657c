//! Cookies and the signed-in user. A handler that needs a user asks for a
//! [`SignedIn`]; one that serves anyone asks for a [`Visitor`]. The session
//! is read from the database on every request (`accounts::session_get`), so
//! disabling a user or signing out ends it at once.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};

use crate::accounts::{self, Session};
use crate::codes::Lang;

use super::app::Shared;
use super::pages;

pub const SESSION: &str = "sustrack_session";
/// Before sign-in: a random value the login and enrolment forms' CSRF
/// token is bound to.
pub const PRE: &str = "sustrack_pre";
pub const LANG: &str = "sustrack_lang";

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// A `Set-Cookie` value with the attributes every cookie of ours has.
pub fn set_cookie(
    app: &Shared,
    name: &str,
    value: &str,
    same_site: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if app.secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).expect("cookie values are base64url")
}

pub fn clear_cookie(app: &Shared, name: &str) -> HeaderValue {
    set_cookie(app, name, "", "Lax", Some(0))
}

/// A sign-in's answer (password or e-ID) gets the new session's cookie and
/// loses the pre-session one. A new session id at every sign-in: a cookie
/// planted before it (session fixation) names nothing.
pub fn start_session(app: &Shared, res: &mut Response, session_cookie: &str) {
    let h = res.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(app, SESSION, session_cookie, "Lax", None),
    );
    h.append(header::SET_COOKIE, clear_cookie(app, PRE));
}

pub fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG) {
        Some("en") => Lang::En,
        _ => Lang::Sv,
    }
}

/// Anyone: the language and the cookies a sign-in page needs.
pub struct Visitor {
    pub lang: Lang,
    pub pre: Option<String>,
    pub session: Option<String>,
}

impl FromRequestParts<Shared> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &Shared) -> Result<Self, Self::Rejection> {
        Ok(Visitor {
            lang: lang_of(&parts.headers),
            pre: cookie(&parts.headers, PRE).map(str::to_string),
            session: cookie(&parts.headers, SESSION).map(str::to_string),
        })
    }
}

/// A signed-in user with a live session.
pub struct SignedIn {
    pub session: Session,
    pub cookie: String,
    pub lang: Lang,
}

impl FromRequestParts<Shared> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let Some(cookie) = cookie(&parts.headers, SESSION).map(str::to_string) else {
            return Err(Redirect::to("/login").into_response());
        };
        let now = app.clock.now();
        let c = cookie.clone();
        match app
            .db(move |conn| accounts::session_get(conn, now, &c))
            .await
        {
            Ok(Some(session)) => Ok(SignedIn {
                session,
                cookie,
                lang,
            }),
            Ok(None) => {
                let mut res = Redirect::to("/login?ended=1").into_response();
                res.headers_mut()
                    .insert(header::SET_COOKIE, clear_cookie(app, SESSION));
                Err(res)
            }
            Err(e) => Err(pages::error(lang, &e)),
        }
    }
}
