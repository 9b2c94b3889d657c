//! The report page: the same report as `sustrack report`, for the period
//! and interventions in the query (so a report URL can be bookmarked),
//! shown as accessible tables. Staff see their own interventions only; the
//! domain enforces that and records the read before it is shown.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Datelike;

use crate::actor::Action;
use crate::error::{Error, Field};
use crate::model::parse_date;
use crate::report::{self, Options, Period};

use super::app::Shared;
use super::forms::{Errors, Form};
use super::i18n;
use super::pages::{self, render, Frame};
use super::session::SignedIn;

/// The threshold this page uses unless told otherwise: a table meant for
/// publication hides counts below 5 (SPEC section 6).
const DEFAULT_SUPPRESS_BELOW: u32 = 5;

pub struct TableView {
    pub id: String,
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
    pub total_label: String,
    pub total: Vec<String>,
}

pub struct Pick {
    pub code: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    frame: Frame,
    errors: Errors,
    year: String,
    from: String,
    to: String,
    suppress_below: String,
    picks: Vec<Pick>,
    period: String,
    tables: Vec<TableView>,
    indicators: Vec<String>,
    shown: bool,
}

fn cell(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| "–".to_string())
}

pub async fn page(State(app): State<Shared>, who: SignedIn, RawQuery(q): RawQuery) -> Response {
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !who.session.actor.may(Action::Report) {
        return pages::forbidden(lang);
    }
    let pairs: Vec<(String, String)> = q
        .as_deref()
        .and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default();
    let form = Form::with(pairs.clone());
    let selected: Vec<String> = pairs
        .iter()
        .filter(|(k, v)| k == "intervention" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let mut errors = Errors::new();
    let today = app.clock.today();
    let default_year = today.year() - 1;
    let year = form.get("year").to_string();
    let period = if form.opt("from").is_some() || form.opt("to").is_some() {
        let from = form.opt("from").map(|s| parse_date(s, Field::From));
        let to = form.opt("to").map(|s| parse_date(s, Field::To));
        match (from, to) {
            (Some(Ok(f)), Some(Ok(t2))) => Period::new(f, t2)
                .map_err(|e| {
                    let _ = errors.domain(t, e);
                })
                .ok(),
            (f, t2) => {
                for (name, r) in [("from", f), ("to", t2)] {
                    match r {
                        Some(Err(e)) => {
                            let _ = errors.domain(t, e);
                        }
                        None => errors.add(
                            name,
                            format!("{name} {}", lang.pick("saknas", "is missing")),
                        ),
                        _ => {}
                    }
                }
                None
            }
        }
    } else {
        let y = if year.is_empty() {
            Ok(default_year)
        } else {
            year.parse::<i32>()
        };
        match y
            .map_err(|_| ())
            .and_then(|y| Period::year(y).map_err(|_| ()))
        {
            Ok(p) => Some(p),
            Err(()) => {
                errors.add(
                    "year",
                    format!(
                        "{} '{}': {}",
                        t.year,
                        crate::model::shown_text(&year),
                        lang.pick("ange ett årtal med fyra siffror", "enter a four-digit year")
                    ),
                );
                None
            }
        }
    };
    let suppress_below = match form.opt("suppress_below") {
        None => Some(DEFAULT_SUPPRESS_BELOW),
        Some("0") | Some("none") => None,
        Some(s) => match s.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.add(
                    "suppress_below",
                    format!(
                        "suppress_below '{}': {}",
                        crate::model::shown_text(s),
                        lang.pick(
                            "ange ett heltal, 3 eller mer, eller 0 för ingen",
                            "enter a whole number, 3 or more, or 0 for none"
                        )
                    ),
                );
                None
            }
        },
    };
    // The interventions the user may report on, as check boxes.
    let actor = who.session.actor.clone();
    let visible = match app
        .db(move |conn| crate::register::interventions_for(conn, &actor))
        .await
    {
        Ok(l) => l,
        Err(e) => return pages::error(lang, &e),
    };
    let picks = visible
        .iter()
        .filter(|i| who.session.actor.may_in(Action::Report, &i.code))
        .map(|i| Pick {
            checked: selected.iter().any(|s| s.eq_ignore_ascii_case(&i.code)),
            code: i.code.clone(),
            label: format!("{} {}", i.code, i.name),
        })
        .collect();
    let mut tables = Vec::new();
    let mut indicators = Vec::new();
    let mut period_text = String::new();
    let mut shown = false;
    if let (Some(p), true) = (period, errors.is_empty()) {
        let mut opts = Options::new(p);
        opts.interventions = selected.clone();
        opts.lang = lang;
        opts.suppress_below = suppress_below;
        let actor = who.session.actor.clone();
        let app2 = app.clone();
        let result =
            tokio::task::spawn_blocking(move || report::run(&app2.store, &actor, &opts, "web"))
                .await
                .map_err(|e| Error::Database(format!("the report task failed: {e}")))
                .and_then(|r| r);
        match result {
            Ok(r) => {
                shown = true;
                period_text = format!("{} – {}", r.period.from, r.period.to);
                for tb in &r.tables {
                    tables.push(TableView {
                        id: tb.id.to_string(),
                        title: tb.title.clone(),
                        columns: tb.columns.clone(),
                        rows: tb
                            .rows
                            .iter()
                            .map(|row| {
                                (
                                    row.label.clone(),
                                    row.values.iter().map(|v| cell(*v)).collect(),
                                )
                            })
                            .collect(),
                        total_label: tb.total_label.clone(),
                        total: tb.total.iter().map(|v| cell(*v)).collect(),
                    });
                }
                for i in &r.indicators {
                    let who = i
                        .intervention
                        .clone()
                        .unwrap_or_else(|| lang.pick("Totalt", "Total").to_string());
                    let text = match (&i.phrase, i.too_few) {
                        (_, true) => lang
                            .pick("för få för att redovisa", "too few to report")
                            .to_string(),
                        (Some(p), _) => {
                            format!("{p} ({} / {})", cell(i.numerator), cell(i.denominator))
                        }
                        (None, _) => "–".to_string(),
                    };
                    indicators.push(format!("{who}, {}: {text}", i.id));
                }
            }
            Err(e @ (Error::NotFound(_) | Error::Forbidden(_))) => return pages::error(lang, &e),
            Err(e) => {
                if let Err(other) = errors.domain(t, e) {
                    return pages::error(lang, &other);
                }
            }
        }
    }
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render(
        status,
        &ReportPage {
            frame: Frame::signed_in(&who, t.report_title, "/report"),
            errors,
            year: if year.is_empty() {
                default_year.to_string()
            } else {
                year
            },
            from: form.get("from").to_string(),
            to: form.get("to").to_string(),
            suppress_below: suppress_below
                .map(|n| n.to_string())
                .unwrap_or_else(|| "0".into()),
            picks,
            period: period_text,
            tables,
            indicators,
            shown,
        },
    )
}
