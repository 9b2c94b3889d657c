//! The audit trail (admins, coordinators, auditors): filter by period,
//! login, action and subject (an enrolment id or prefix), 50 entries a
//! page (keyset paging on the entry id, so a page stays stable while new
//! entries arrive), or all matches as CSV. Each read is itself recorded.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

use crate::actor::Action;
use crate::error::Field;
use crate::model::parse_date;
use crate::store::audit::{AuditEntry, Filter};

use super::app::Shared;
use super::forms::{Choice, Errors, Form};
use super::i18n;
use super::pages::{self, render, Frame};
use super::session::SignedIn;

const PAGE: u32 = 50;
const CSV_MAX: u32 = 100_000;

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    frame: Frame,
    errors: Errors,
    from: String,
    to: String,
    login: String,
    enrolment: String,
    actions: Vec<Choice>,
    entries: Vec<AuditEntry>,
    csv_href: String,
    first_href: String,
    next_href: String,
}

/// The filter the query asks for; refusals named by field.
fn filter(form: &Form, known: &[String], t: &i18n::Texts, errors: &mut Errors) -> Filter {
    let lang = t.lang();
    let mut date = |name: &'static str, field: Field| {
        form.opt(name).and_then(|s| match parse_date(s, field) {
            Ok(d) => Some(d),
            Err(e) => {
                let _ = errors.domain(t, e);
                None
            }
        })
    };
    let (from, to) = (date("from", Field::From), date("to", Field::To));
    let text = |name: &str| form.opt(name).map(str::to_string);
    let subject = text("enrolment");
    // The trail never holds a personnummer, and a URL must never carry one.
    if subject
        .as_deref()
        .is_some_and(|s| matches!(crate::identity::scrub(s), std::borrow::Cow::Owned(_)))
    {
        errors.add(
            "enrolment",
            lang.pick(
                "Loggen innehåller aldrig personnummer: sök personen under Sök person och följ inskrivningens id.",
                "The trail never holds a personnummer: look the person up under Find a person and follow the enrolment's id.",
            ),
        );
    }
    // A login is checked as a login (which also refuses anything shaped
    // like a personnummer); the action must be one the trail holds.
    let login = text("login").and_then(|l| match crate::accounts::parse_login(&l) {
        Ok(l) => Some(l),
        Err(_) => {
            errors.add(
                "login",
                lang.pick(
                    "Användare: ange ett användarnamn (små bokstäver, siffror, punkt, _ och -)",
                    "User: enter a login (lower-case letters, digits, dot, _ and -)",
                ),
            );
            None
        }
    });
    let action = text("action").and_then(|a| {
        if known.contains(&a) {
            Some(a)
        } else {
            errors.add(
                "action",
                lang.pick(
                    "Händelse: välj en i listan",
                    "Action: choose one from the list",
                ),
            );
            None
        }
    });
    Filter {
        from,
        to,
        login,
        action,
        subject: if errors.of("enrolment").is_some() {
            None
        } else {
            subject
        },
        before: form.opt("before").and_then(|b| b.parse().ok()),
    }
}

/// A filter value to show again, unless it holds a personnummer.
fn unless_pnr(v: &str) -> String {
    match crate::identity::scrub(v) {
        std::borrow::Cow::Borrowed(_) => v.to_string(),
        std::borrow::Cow::Owned(_) => String::new(),
    }
}

fn query(form: &Form, extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<(String, String)> = form
        .pairs()
        .iter()
        .filter(|(k, v)| {
            !v.trim().is_empty()
                && !matches!(k.as_str(), "before" | "format")
                && !extra.iter().any(|(e, _)| e == k)
        })
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect();
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    format!(
        "/log?{}",
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    )
}

/// A cell a spreadsheet would not read as a formula: a refused sign-in
/// records the login as typed, so a cell may hold anything (`=HYPERLINK(..)`).
fn inert(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

fn csv(entries: &[AuditEntry]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["id", "at", "actor", "action", "subject", "detail"]);
    for e in entries {
        let _ = w.write_record([
            e.id.to_string().as_str(),
            &e.at,
            &inert(&e.actor),
            &inert(&e.action),
            &inert(e.subject.as_deref().unwrap_or("")),
            &inert(e.detail.as_deref().unwrap_or("")),
        ]);
    }
    w.into_inner().unwrap_or_default()
}

pub async fn page(State(app): State<Shared>, who: SignedIn, RawQuery(q): RawQuery) -> Response {
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !who.session.actor.may(Action::ReadAudit) {
        return pages::forbidden(lang);
    }
    let form = Form::from_query(q.as_deref());
    let known = match app.db(|conn| crate::store::audit::actions(conn)).await {
        Ok(a) => a,
        Err(e) => return pages::error(lang, &e),
    };
    let mut errors = Errors::new();
    let f = filter(&form, &known, t, &mut errors);
    let as_csv = match form.opt("format") {
        None => false,
        Some("csv") => true,
        Some(other) => {
            errors.refuse(
                "",
                i18n::label(t, "format"),
                other,
                lang.pick("giltigt format är csv", "accepted is csv"),
            );
            false
        }
    };
    let actor = who.session.actor.clone();
    let mut entries = Vec::new();
    if errors.is_empty() {
        let (limit, format) = if as_csv {
            (CSV_MAX, "csv")
        } else {
            (PAGE + 1, "web")
        };
        let f2 = f.clone();
        match app
            .db(move |conn| crate::register::log_search(conn, &actor, &f2, limit, format))
            .await
        {
            Ok(e) => entries = e,
            Err(e) => return pages::error(lang, &e),
        }
        if as_csv {
            return pages::attachment(csv(&entries), "text/csv; charset=utf-8", "sustrack-log.csv");
        }
    }
    let more = entries.len() > PAGE as usize;
    entries.truncate(PAGE as usize);
    let next_href = match (more, entries.last()) {
        (true, Some(e)) => query(&form, &[("before", e.id.to_string())]),
        _ => String::new(),
    };
    let first_href = if f.before.is_some() {
        query(&form, &[])
    } else {
        String::new()
    };
    let mut actions = vec![Choice {
        value: String::new(),
        label: lang.pick("Alla", "All").to_string(),
        selected: f.action.is_none(),
    }];
    actions.extend(known.into_iter().map(|a| Choice {
        selected: f.action.as_deref() == Some(a.as_str()),
        label: a.clone(),
        value: a,
    }));
    let status = errors.status();
    render(
        status,
        &LogPage {
            frame: Frame::signed_in(&who, lang.pick("Loggen", "Audit trail"), "/log"),
            csv_href: query(&form, &[("format", "csv".to_string())]),
            errors,
            from: form.get("from").to_string(),
            to: form.get("to").to_string(),
            login: unless_pnr(form.get("login")),
            enrolment: unless_pnr(form.get("enrolment")),
            actions,
            entries,
            first_href,
            next_href,
        },
    )
}
