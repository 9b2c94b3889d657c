//! Signing in and out, the one-time enrolment link, and the language
//! switch. The rules (passwords, TOTP, lockout, sessions) are in
//! `accounts`; argon2id runs through `App::hash`, off the request threads
//! and bounded.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::accounts::{self, SignIn};
use crate::codes::Lang;
use crate::error::Error;
use crate::store;

use super::app::Shared;
use super::csrf;
use super::forms::{Errors, Form};
use super::i18n::{self};
use super::pages::{self, render, Frame};
use super::session::{self, SignedIn, Visitor};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    errors: Errors,
    login: String,
    code_hint: &'static str,
    /// Offer sign-in with e-legitimation (`serve --oidc-issuer`).
    eid: bool,
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    ended: Option<String>,
    out: Option<String>,
    enrolled: Option<String>,
}

/// The pre-session cookie: the visitor's, or a new one to set.
fn pre_cookie(v: &Visitor) -> (String, bool) {
    match &v.pre {
        Some(p) => (p.clone(), false),
        None => (csrf::new_pre(), true),
    }
}

fn with_pre(app: &Shared, mut res: Response, pre: &str, new: bool) -> Response {
    if new {
        res.headers_mut().append(
            header::SET_COOKIE,
            session::set_cookie(app, session::PRE, pre, "Strict", None),
        );
    }
    res
}

fn login_page(
    app: &Shared,
    v: &Visitor,
    status: StatusCode,
    errors: Errors,
    login: &str,
    notice: Option<&'static str>,
) -> Response {
    let (pre, new) = pre_cookie(v);
    let t = i18n::texts(v.lang);
    let page = LoginPage {
        frame: Frame::visitor(
            v.lang,
            t.sign_in,
            csrf::pre_token(app, &pre),
            app.demo,
            "/login",
        )
        .with_notice(notice),
        errors,
        login: login.chars().take(64).collect(),
        code_hint: if app.demo {
            t.code_hint_demo
        } else {
            t.code_hint
        },
        eid: app.oidc.is_some(),
    };
    with_pre(app, render(status, &page), &pre, new)
}

pub async fn login_form(
    State(app): State<Shared>,
    v: Visitor,
    Query(q): Query<LoginQuery>,
) -> Response {
    let t = i18n::texts(v.lang);
    let notice = if q.ended.is_some() {
        Some(t.session_ended)
    } else if q.out.is_some() {
        Some(t.signed_out)
    } else if q.enrolled.is_some() {
        Some(t.enrol_done)
    } else {
        None
    };
    login_page(&app, &v, StatusCode::OK, Errors::new(), "", notice)
}

/// Is the form's token the one bound to this visitor's pre-session cookie?
fn pre_csrf_ok(app: &Shared, v: &Visitor, form: &Form) -> bool {
    v.pre
        .as_deref()
        .is_some_and(|pre| csrf::same(form.csrf(), &csrf::pre_token(app, pre)))
}

pub async fn login(
    State(app): State<Shared>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    form: Form,
) -> Response {
    if !pre_csrf_ok(&app, &v, &form) {
        return pages::forbidden_csrf(v.lang);
    }
    let t = i18n::texts(v.lang);
    let login = form.get("login").to_string();
    let password = form.get("password").to_string();
    let code = form.get("code").to_string();
    let now = app.clock.now();
    let l = login.clone();
    let checked = app
        .hash(move |conn| accounts::check_password(conn, &l, &password))
        .await;
    let demo = app.demo;
    let l = login.clone();
    let result = match checked {
        Ok(check) => {
            app.db(move |conn| {
                store::write(conn, |tx| {
                    match accounts::sign_in(tx, now, &l, check, &code, demo)? {
                        SignIn::Accepted { user_id } => {
                            accounts::session_start(tx, now, user_id).map(Some)
                        }
                        SignIn::Refused => Ok(None),
                    }
                })
            })
            .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(Some(new)) => {
            // Back to a form that was sent after its session ended, if any.
            let next = super::resume::waiting_path(&app, &headers).unwrap_or_else(|| "/".into());
            let mut res = Redirect::to(&next).into_response();
            session::start_session(&app, &mut res, &new.cookie);
            res
        }
        Ok(None) => {
            let mut errors = Errors::new();
            errors.add("", t.sign_in_refused);
            // The login is kept (people mistype the code far more often
            // than the name); the password and code never are.
            login_page(
                &app,
                &v,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                &identity_safe(&login),
                None,
            )
        }
        Err(e) => pages::error(v.lang, &e),
    }
}

/// A login field re-shown: never a personnummer someone typed there.
fn identity_safe(s: &str) -> String {
    if crate::identity::could_hold_pnr(s) {
        String::new()
    } else {
        s.to_string()
    }
}

pub async fn logout(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let actor = who.session.actor.clone();
    let cookie = who.cookie.clone();
    if let Err(e) = app
        .db(move |conn| store::write(conn, |tx| accounts::session_end(tx, &actor, &cookie)))
        .await
    {
        return pages::error(who.lang, &e);
    }
    // The session's files in memory (an uploaded import, an export) go
    // with it.
    super::stash::forget(&app, who.session.user_id, &who.session.csrf);
    super::import::forget(&app, who.session.user_id, &who.session.csrf);
    let mut res = Redirect::to("/login?out=1").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        session::clear_cookie(&app, session::SESSION),
    );
    res
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    frame: Frame,
    errors: Errors,
    token: String,
    login: String,
    secret: String,
    otpauth: String,
    qr_data_uri: String,
    /// Offer binding an e-ID (`serve --oidc-issuer`).
    eid: bool,
    /// Offer a password and authenticator: without a broker, and with one
    /// for admins only (the break-glass account).
    password: bool,
}

/// Tokens are base64url; anything else cannot be one (and is not echoed).
pub(super) fn token_shape(token: &str) -> bool {
    (20..=64).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn qr_data_uri(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color>()
                .min_dimensions(220, 220)
                .quiet_zone(true)
                .build();
            format!(
                "data:image/svg+xml;base64,{}",
                data_encoding::BASE64.encode(svg.as_bytes())
            )
        }
        Err(_) => String::new(),
    }
}

async fn enrol_page(
    app: &Shared,
    v: &Visitor,
    token: String,
    status: StatusCode,
    errors: Errors,
) -> Response {
    if !token_shape(&token) {
        return link_unknown(v.lang);
    }
    let now = app.clock.now();
    let tk = token.clone();
    let pending = match app.db(move |conn| accounts::pending(conn, now, &tk)).await {
        Ok(p) => p,
        Err(Error::NotFound(_)) => return link_unknown(v.lang),
        Err(e) => return pages::error(v.lang, &e),
    };
    let (pre, new) = pre_cookie(v);
    let t = i18n::texts(v.lang);
    let page = EnrolPage {
        frame: Frame::visitor(
            v.lang,
            t.enrol_title,
            csrf::pre_token(app, &pre),
            app.demo,
            "/login",
        ),
        errors,
        token,
        login: pending.login.clone(),
        qr_data_uri: qr_data_uri(&pending.otpauth_url),
        secret: pending.totp_secret_base32.clone(),
        otpauth: pending.otpauth_url.clone(),
        eid: app.oidc.is_some(),
        password: accounts::password_allowed(&pending.roles, app.oidc.is_some()),
    };
    with_pre(app, render(status, &page), &pre, new)
}

/// An unknown, used or expired link: one answer for all three.
fn link_unknown(lang: Lang) -> Response {
    pages::not_found_page(lang)
}

pub async fn enrol_form(
    State(app): State<Shared>,
    v: Visitor,
    Path(token): Path<String>,
) -> Response {
    enrol_page(&app, &v, token, StatusCode::OK, Errors::new()).await
}

pub async fn enrol(
    State(app): State<Shared>,
    v: Visitor,
    Path(token): Path<String>,
    form: Form,
) -> Response {
    if !pre_csrf_ok(&app, &v, &form) {
        return pages::forbidden_csrf(v.lang);
    }
    if !token_shape(&token) {
        return link_unknown(v.lang);
    }
    let t = i18n::texts(v.lang);
    let kdf = app.store.kdf().clone();
    let (pw, again) = (
        form.get("password").to_string(),
        form.get("password_again").to_string(),
    );
    let hashed = app
        .hash(move |_| accounts::hash_new_password(&kdf, &pw, &again))
        .await;
    let mut errors = Errors::new();
    let hashed = match hashed {
        Ok(h) => Some(h),
        Err(e) => match errors.domain(t, e) {
            Ok(()) => None,
            Err(other) => return pages::error(v.lang, &other),
        },
    };
    if form.opt("code").is_none() {
        errors.add(
            "code",
            format!(
                "{} {}",
                t.code,
                v.lang.pick(
                    "saknas: skriv in de sex siffrorna från appen",
                    "is missing: enter the six digits from the app"
                )
            ),
        );
    }
    let Some(hashed) = hashed.filter(|_| errors.is_empty()) else {
        return enrol_page(&app, &v, token, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
    };
    let now = app.clock.now();
    let code = form.get("code").to_string();
    let tk = token.clone();
    let broker = app.oidc.is_some();
    let done = app
        .db(move |conn| {
            store::write(conn, |tx| {
                // With a broker only an admin account takes a password: a
                // staff link that is sent one answers as an unknown link.
                let roles = accounts::pending(tx, now, &tk)?.roles;
                if !accounts::password_allowed(&roles, broker) {
                    return Err(Error::NotFound("no password for this account".into()));
                }
                accounts::enrol(tx, now, &tk, hashed, &code)
            })
        })
        .await;
    match done {
        Ok(()) => Redirect::to("/login?enrolled=1").into_response(),
        Err(Error::NotFound(_)) => link_unknown(v.lang),
        Err(e) => match errors.domain(t, e) {
            Ok(()) => enrol_page(&app, &v, token, StatusCode::UNPROCESSABLE_ENTITY, errors).await,
            Err(other) => pages::error(v.lang, &other),
        },
    }
}

/// A path of ours to return to after switching language.
fn local_path(back: &str) -> &str {
    let ok = back.starts_with('/')
        && !back.starts_with("//")
        && back.len() <= 200
        && !back.contains('\\')
        && back.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        back
    } else {
        "/"
    }
}

pub async fn lang(State(app): State<Shared>, v: Visitor, form: Form) -> Response {
    let mut ok = pre_csrf_ok(&app, &v, &form);
    if !ok {
        if let Some(cookie) = v.session.clone() {
            let now = app.clock.now();
            if let Ok(Some(s)) = app
                .db(move |conn| accounts::session_get(conn, now, &cookie))
                .await
            {
                ok = csrf::same(form.csrf(), &s.csrf);
            }
        }
    }
    if !ok {
        return pages::forbidden_csrf(v.lang);
    }
    let lang = if form.get("lang") == "en" { "en" } else { "sv" };
    let mut res = Redirect::to(local_path(form.get("back"))).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{}={lang}; Path=/; SameSite=Lax; Max-Age=31536000{}",
            session::LANG,
            if app.secure { "; Secure" } else { "" }
        ))
        .expect("ascii"),
    );
    res
}
