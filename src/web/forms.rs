//! Form bodies and their errors. A body is read up to a limit (413
//! beyond), parsed as `application/x-www-form-urlencoded`, and kept as
//! sent so a refused form is shown again with what was entered. Errors are
//! collected per field for the error summary (GOV.UK pattern: a list at
//! the top linking to each field, the message again beside the field).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::codes::{Code, Lang};
use crate::error::Error;

use super::app::Shared;
use super::i18n::{self, Texts};
use super::pages;

/// The largest form body accepted (SPEC section 11: 64 KiB).
pub const FORM_LIMIT: usize = 64 * 1024;

/// The body's length as the request declares it, to refuse one that is
/// too large before reading it.
pub fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

pub struct Form {
    pairs: Vec<(String, String)>,
}

impl FromRequest<Shared> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, _: &Shared) -> Result<Self, Self::Rejection> {
        let lang = super::session::lang_of(req.headers());
        if declared_length(req.headers()).is_some_and(|n| n > FORM_LIMIT as u64) {
            return Err(pages::too_large(lang).into_response());
        }
        let body = axum::body::to_bytes(req.into_body(), FORM_LIMIT)
            .await
            .map_err(|_| pages::too_large(lang).into_response())?;
        Form::parse(&body).ok_or_else(|| pages::bad_request(lang).into_response())
    }
}

impl Form {
    fn parse(body: &Bytes) -> Option<Form> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
        Some(Form { pairs })
    }

    /// The first value sent for `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or("")
    }

    /// The value, or `None` when absent or empty.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name)).filter(|v| !v.is_empty())
    }

    /// A checkbox: sent (with any value but "false"/"0") means checked.
    pub fn checked(&self, name: &str) -> bool {
        self.pairs
            .iter()
            .any(|(k, v)| k == name && !matches!(v.as_str(), "" | "0" | "false" | "off"))
    }

    pub fn csrf(&self) -> Option<&str> {
        self.opt("csrf")
    }

    /// Every pair as sent.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// An empty form (for a page shown the first time).
    pub fn empty() -> Form {
        Form { pairs: Vec::new() }
    }

    pub fn with(pairs: Vec<(String, String)>) -> Form {
        Form { pairs }
    }

    /// A page's query string as a form (a report, a filter: bookmarkable
    /// pages take their options in the URL); one that cannot be read is
    /// empty.
    pub fn from_query(q: Option<&str>) -> Form {
        Form {
            pairs: q
                .and_then(|q| serde_urlencoded::from_str(q).ok())
                .unwrap_or_default(),
        }
    }

    /// Forget a value that must not be shown again (a password).
    pub fn forget(&mut self, name: &str) {
        self.pairs.retain(|(k, _)| k != name);
    }
}

pub struct FieldError {
    /// The form field's name (its input's `id`), or empty for the form.
    pub field: &'static str,
    pub message: String,
}

#[derive(Default)]
pub struct Errors {
    pub list: Vec<FieldError>,
}

impl Errors {
    pub fn new() -> Errors {
        Errors::default()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// A form page's status: 200, or 422 when something was refused.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// Add a message for a field (one per field: the first stays).
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if field.is_empty() || self.of(field).is_none() {
            self.list.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    /// Refuse a value: "Label 'value': what is accepted", the value shown
    /// as text (cut, invisible characters marked, never a personnummer).
    pub fn refuse(&mut self, field: &'static str, label: &str, value: &str, accepted: &str) {
        self.add(
            field,
            format!("{label} '{}': {accepted}", crate::model::shown_text(value)),
        );
    }

    /// The message shown beside `field`, if any.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// Record a domain error: `Invalid` names its field; a conflict (the
    /// overlap rule, an exit already registered) is a message for the
    /// whole form. Anything else is not the user's input and is returned.
    pub fn domain(&mut self, t: &Texts, e: Error) -> Result<(), Error> {
        match e {
            Error::Invalid {
                field: Some(f),
                reason,
            } => {
                let name = f.name();
                // A reason may quote the value given (a date, an amount):
                // one shaped like a personnummer is never shown.
                self.add(
                    name,
                    format!(
                        "{} {}",
                        i18n::label(t, name),
                        crate::identity::scrub(&reason)
                    ),
                );
                Ok(())
            }
            Error::Invalid {
                field: None,
                reason,
            }
            | Error::Conflict(reason) => {
                self.add("", crate::identity::scrub(&reason).into_owned());
                Ok(())
            }
            other => Err(other),
        }
    }
}

/// One option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The options of a code list, with a first "not given" option when the
/// field is optional; `current` is what the form holds (a code or a label
/// someone typed), matched as the parser would.
pub fn choices<C: Code>(lang: Lang, current: &str, optional: bool) -> Vec<Choice> {
    let t = i18n::texts(lang);
    let chosen = C::parse(current).ok();
    let mut out = Vec::with_capacity(C::ALL.len() + 1);
    if optional {
        out.push(Choice {
            value: String::new(),
            label: t.not_given.to_string(),
            selected: chosen.is_none(),
        });
    }
    for &c in C::ALL {
        out.push(Choice {
            value: c.code().to_string(),
            label: lang.pick(c.sv(), c.en()).to_string(),
            selected: chosen == Some(c),
        });
    }
    out
}

/// Parse an optional code field, recording a refusal in `errors`.
pub fn code_field<C: Code>(
    form: &Form,
    name: &'static str,
    t: &Texts,
    errors: &mut Errors,
) -> Option<C> {
    let v = form.opt(name)?;
    match C::parse(v) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.refuse(name, i18n::label(t, name), &e.value, &e.accepted);
            None
        }
    }
}
