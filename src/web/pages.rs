//! The frame every page shares (header, language switch, sign-out form,
//! demo banner), the error pages, and the few routes with no data:
//! `/healthz`, the stylesheet and the script.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::actor::Action;
use crate::codes::Lang;
use crate::error::Error;

use super::i18n::{self, Texts};
use super::session::SignedIn;

/// What the shared frame (`templates/base.html`) shows.
pub struct Frame {
    pub t: &'static Texts,
    pub title: String,
    /// For the sign-out and language forms.
    pub csrf: String,
    /// Display name of the signed-in user.
    pub user: Option<String>,
    pub demo: bool,
    /// A one-line confirmation (`saved=...`) or notice.
    pub notice: Option<&'static str>,
    pub can_register: bool,
    pub can_report: bool,
    /// Where the language switch returns to.
    pub back: String,
    /// RFC 3339 time the session ends if idle (for the warning script).
    pub idle_until: String,
    /// The desk pages this user's roles open, as (path, label).
    pub nav: Vec<(&'static str, &'static str)>,
}

impl Frame {
    /// The frame of a page for a signed-in user.
    pub fn signed_in(who: &SignedIn, title: impl Into<String>, back: &str) -> Frame {
        let s = &who.session;
        Frame {
            t: i18n::texts(who.lang),
            title: title.into(),
            csrf: s.csrf.clone(),
            user: Some(s.name.clone().unwrap_or_else(|| s.actor.login.clone())),
            demo: s.demo,
            notice: None,
            can_register: s.actor.may(Action::Register),
            can_report: s.actor.may(Action::Report),
            back: back.to_string(),
            idle_until: s.idle_until.to_rfc3339(),
            nav: nav(&s.actor, who.lang),
        }
    }

    /// The frame of a page shown before sign-in.
    pub fn visitor(
        lang: Lang,
        title: impl Into<String>,
        csrf: String,
        demo: bool,
        back: &str,
    ) -> Frame {
        Frame {
            t: i18n::texts(lang),
            title: title.into(),
            csrf,
            user: None,
            demo,
            notice: None,
            can_register: false,
            can_report: false,
            back: back.to_string(),
            idle_until: String::new(),
            nav: Vec::new(),
        }
    }

    /// The text in the page's language: both languages are written where
    /// the text is used.
    pub fn pick(&self, sv: &'static str, en: &'static str) -> &'static str {
        if self.t.lang_code == "sv" {
            sv
        } else {
            en
        }
    }

    pub fn with_notice(mut self, notice: Option<&'static str>) -> Frame {
        self.notice = notice;
        self
    }
}

/// The header's links beyond home, find and report, from the role table.
fn nav(actor: &crate::actor::Actor, lang: Lang) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if actor.may(Action::Beyond) {
        out.push((
            "/activities",
            lang.pick("Aktiviteter och remisser", "Activities and referrals"),
        ));
    }
    if actor.may(Action::Register) {
        out.push(("/rights", lang.pick("Personens rättigheter", "Rights")));
    }
    if actor.may(Action::Publish) {
        out.push(("/records", lang.pick("Publicering", "Publishing")));
    }
    if actor.may(Action::ReadEnrolments) {
        out.push(("/quality", lang.pick("Datakvalitet", "Data quality")));
    }
    if actor.may(Action::Export) {
        out.push(("/export", lang.pick("Export", "Export")));
    }
    if super::routes::may_import(actor) {
        out.push(("/import", lang.pick("Import", "Import")));
    }
    if actor.may(Action::ManageInterventions) {
        out.push((
            "/admin/interventions",
            lang.pick("Insatser", "Interventions"),
        ));
    }
    if actor.may(Action::Budget) {
        out.push(("/budgets", lang.pick("Budget", "Budgets")));
    }
    if actor.may(Action::ManageUsers) {
        out.push(("/admin/users", lang.pick("Användare", "Users")));
    }
    if actor.may(Action::ReadAudit) {
        out.push(("/log", lang.pick("Loggen", "Audit trail")));
    }
    if actor.may(Action::Backup) {
        out.push(("/admin/backup", lang.pick("Säkerhetskopia", "Backup")));
    }
    out
}

/// A file to download: its type, a file name, never cached.
pub fn attachment(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    // File names are built from codes and dates only; anything else is
    // replaced so the header stays one plain token.
    let safe: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Render a template as an HTML response with a status.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            eprintln!("sustrack serve: a page failed to render: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    heading_sv: &'static str,
    heading_en: &'static str,
    detail: String,
}

fn error_page(
    status: StatusCode,
    sv: &'static str,
    en: &'static str,
    detail: String,
    lang: Lang,
) -> Response {
    let frame = Frame::visitor(lang, lang.pick(sv, en), String::new(), false, "/");
    render(
        status,
        &ErrorPage {
            frame,
            heading_sv: sv,
            heading_en: en,
            detail,
        },
    )
}

/// The page for a domain error outside a form. A missing thing and a thing
/// outside the user's interventions look the same (404, SPEC section 11).
pub fn error(lang: Lang, e: &Error) -> Response {
    match e {
        Error::NotFound(_) => not_found_page(lang),
        Error::Forbidden(_) => forbidden(lang),
        Error::Invalid { .. } | Error::Conflict(_) => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Uppgifterna kunde inte sparas",
            "The request could not be carried out",
            e.to_string(),
            lang,
        ),
        _ => {
            // The message is scrubbed of anything like a personnummer by
            // `Error`'s Display; the page says nothing of the internals.
            eprintln!("sustrack serve: {e}");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Något gick fel på servern",
                "Something went wrong on the server",
                String::new(),
                lang,
            )
        }
    }
}

pub fn not_found_page(lang: Lang) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        "Sidan finns inte",
        "Page not found",
        String::new(),
        lang,
    )
}

/// An export this session made has expired (or none was made).
pub fn export_gone(lang: Lang) -> Response {
    error_page(
        StatusCode::GONE,
        "Filen finns inte längre",
        "The file is no longer kept",
        lang.pick(
            "En export sparas i 15 minuter efter att den gjorts. Gör exporten igen.",
            "An export is kept for 15 minutes after it was made. Make the export again.",
        )
        .to_string(),
        lang,
    )
}

pub fn forbidden(lang: Lang) -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Du har inte behörighet till den här sidan",
        "You do not have access to this page",
        String::new(),
        lang,
    )
}

/// A POST without a valid CSRF token, or from another site.
pub fn forbidden_csrf(lang: Lang) -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        "Formuläret kunde inte tas emot",
        "The form could not be accepted",
        lang.pick(
            "Formuläret var för gammalt eller kom från en annan webbplats. Gå tillbaka, ladda om sidan och försök igen.",
            "The form was too old or came from another site. Go back, reload the page and try again.",
        )
        .to_string(),
        lang,
    )
}

pub fn forbidden_cross_origin() -> Response {
    forbidden_csrf(Lang::Sv)
}

pub fn too_large(lang: Lang) -> Response {
    error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Det som skickades var för stort",
        "What was sent is too large",
        lang.pick(
            "Ett formulär får vara högst 64 KiB.",
            "A form may be at most 64 KiB.",
        )
        .to_string(),
        lang,
    )
}

pub fn too_large_upload(lang: Lang) -> Response {
    error_page(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Filen är för stor",
        "The file is too large",
        lang.pick(
            "En fil får vara högst 20 MiB. Dela upp den i flera filer och importera dem en i taget.",
            "A file may be at most 20 MiB. Split it into several files and import them one at a time.",
        )
        .to_string(),
        lang,
    )
}

pub fn bad_request(lang: Lang) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "Formuläret kunde inte läsas",
        "The form could not be read",
        String::new(),
        lang,
    )
}

pub async fn not_found(headers: axum::http::HeaderMap) -> Response {
    not_found_page(super::session::lang_of(&headers))
}

pub async fn method_not_allowed(headers: axum::http::HeaderMap) -> Response {
    let lang = super::session::lang_of(&headers);
    error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Sidan kan inte användas så",
        "This page cannot be used that way",
        String::new(),
        lang,
    )
}

pub async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "ok\n",
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../static/app.js"),
    )
        .into_response()
}
