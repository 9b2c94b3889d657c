//! Pages for everyone, signed in or not, with no data: the accessibility
//! statement (tillgänglighetsredogörelse, as DIGG's template asks under
//! lag 2018:1937) and how the register protects the data (README's threat
//! model in plain words).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::app::Shared;
use super::pages::{render, Frame};
use super::session::{self, SignedIn};

/// When the statement was last assessed (the automated axe-core checks
/// of the browser tests run on every build; this date is the manual
/// review of the statement itself).
const ASSESSED: &str = "2026-12-04";

#[derive(Template)]
#[template(path = "accessibility.html")]
struct Accessibility {
    frame: Frame,
    contact: String,
    assessed: String,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct Privacy {
    frame: Frame,
    /// Sign-in goes through an e-ID broker.
    eid: bool,
}

/// The frame as the reader has it: with the menu, the language switch
/// and sign-out when signed in, the plain one otherwise.
fn frame(
    app: &Shared,
    who: &Result<SignedIn, Response>,
    headers: &HeaderMap,
    sv: &str,
    en: &str,
    back: &str,
) -> Frame {
    match who {
        Ok(w) => Frame::signed_in(w, w.lang.pick(sv, en), back),
        Err(_) => {
            let lang = session::lang_of(headers);
            Frame::visitor(lang, lang.pick(sv, en), String::new(), app.demo, back)
        }
    }
}

pub async fn accessibility(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    headers: HeaderMap,
) -> Response {
    render(
        StatusCode::OK,
        &Accessibility {
            frame: frame(
                &app,
                &who,
                &headers,
                "Tillgänglighetsredogörelse",
                "Accessibility statement",
                "/accessibility",
            ),
            contact: app.contact.clone().unwrap_or_default(),
            assessed: ASSESSED.into(),
        },
    )
}

pub async fn privacy(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    headers: HeaderMap,
) -> Response {
    render(
        StatusCode::OK,
        &Privacy {
            frame: frame(
                &app,
                &who,
                &headers,
                "Så skyddar vi uppgifterna",
                "How the data is protected",
                "/privacy",
            ),
            eid: app.oidc.is_some(),
        },
    )
}
