//! Participants' rights and the register's records on the web (SPEC
//! section 15, for the roles of section 11):
//! - `/rights` (staff, persons in their interventions): the register
//!   extract, withdrawn consent, erasure. The personnummer is typed into
//!   a POST form, never put in a URL, and not shown again.
//! - `/records` (coordinators): publish a period, the published periods
//!   and how many of their figures differ now, the published report as a
//!   file, and retention (purge) that always shows its dry run first.
//!
//! Every action is the domain's (`rights`, `register::erase`), one
//! transaction each, recorded in the audit trail (auditors see them there).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use crate::actor::Action;
use crate::codes::Lang;
use crate::error::{Error, Field};
use crate::identity::Personnummer;
use crate::model::parse_date;
use crate::report::{render::Format, Options, Period};
use crate::rights::{self, extract, publish, purge};
use crate::store;

use super::app::Shared;
use super::csrf;
use super::forms::{Errors, Form};
use super::i18n;
use super::pages::{self, render, Frame};
use super::session::SignedIn;

// ---------------------------------------------------------------- staff

#[derive(Template)]
#[template(path = "rights.html")]
struct RightsPage {
    frame: Frame,
    errors: Errors,
    /// What was done, for the status message.
    done: String,
}

#[derive(Template)]
#[template(path = "extract.html")]
struct ExtractPage {
    frame: Frame,
    x: extract::Extract,
    gender: &'static str,
    enrolments: Vec<Vec<(&'static str, String)>>,
    /// The extract's texts, the CLI's own (`rights::extract`).
    title: &'static str,
    about: &'static str,
    partial: &'static str,
    not_listed: &'static str,
    trail: Vec<[String; 4]>,
}

fn rights_page(who: &SignedIn, errors: Errors, done: String) -> Response {
    let status = errors.status();
    render(
        status,
        &RightsPage {
            frame: Frame::signed_in(
                who,
                who.lang
                    .pick("Personens rättigheter", "The person's rights"),
                "/rights",
            ),
            errors,
            done,
        },
    )
}

/// The form, and after a withdrawal or an erasure (POST, then 303 here,
/// so a reload does not send it again) what was done: `?done=withdraw&n=2`.
/// Only a count travels in the URL, never who.
pub async fn rights_form(who: SignedIn, RawQuery(q): RawQuery) -> Response {
    if !who.session.actor.may(Action::Register) {
        return pages::forbidden(who.lang);
    }
    let form = Form::from_query(q.as_deref());
    let n: Option<usize> = form.opt("n").and_then(|n| n.parse().ok());
    let done = match (form.opt("done"), n, who.lang) {
        (Some("withdraw"), Some(n), Lang::Sv) => format!("Samtycket är återkallat. Personens {n} deltaganden finns kvar utan identitet och räknas i rapporterna som förut; personnumret hittar dem inte längre."),
        (Some("withdraw"), Some(n), Lang::En) => format!("Consent is withdrawn. The person's {n} enrolments remain without identity and count in reports as before; the personnummer no longer finds them."),
        (Some("erase"), Some(n), Lang::Sv) => format!("Personen och {n} deltaganden är raderade."),
        (Some("erase"), Some(n), Lang::En) => format!("The person and {n} enrolments are erased."),
        _ => String::new(),
    };
    rights_page(&who, Errors::new(), done)
}

fn see_other(to: &str) -> Response {
    axum::response::Redirect::to(to).into_response()
}

/// What the staff member asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum What {
    Extract,
    Withdraw,
    Erase,
}

pub async fn rights(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !who.session.actor.may(Action::Register) {
        return pages::forbidden(lang);
    }
    let mut errors = Errors::new();
    let what = match form.opt("what") {
        Some("extract") => Some(What::Extract),
        Some("withdraw") => Some(What::Withdraw),
        Some("erase") => Some(What::Erase),
        other => {
            errors.refuse(
                "",
                lang.pick("Åtgärden", "The action"),
                other.unwrap_or(""),
                lang.pick(
                    "välj registerutdrag, återkalla samtycke eller radera",
                    "choose extract, withdraw consent or erase",
                ),
            );
            None
        }
    };
    let today = app.clock.today();
    let pnr = match form.opt("pnr").map(|p| Personnummer::parse(p, today)) {
        None => {
            errors.add(
                "pnr",
                format!("{} {}", t.pnr, lang.pick("saknas", "is missing")),
            );
            None
        }
        Some(Err(e)) => {
            errors.add("pnr", format!("{} {e}", t.pnr));
            None
        }
        Some(Ok(p)) => Some(p),
    };
    if matches!(what, Some(What::Withdraw | What::Erase)) && !form.checked("confirm") {
        errors.add(
            "confirm",
            lang.pick(
                "Bekräfta att personen själv har begärt det här (kryssrutan)",
                "Confirm that the person has asked for this themselves (the checkbox)",
            ),
        );
    }
    let (Some(what), Some(pnr), true) = (what, pnr, errors.is_empty()) else {
        return rights_page(&who, errors, String::new());
    };
    let actor = who.session.actor.clone();
    let kdf = app.store.kdf().clone();
    let done = app
        .hash(move |conn| {
            let fp = pnr.fingerprint(&kdf);
            let out = store::write(conn, |tx| match what {
                What::Extract => extract::extract(tx, &actor, &fp).map(Done::Extract),
                What::Withdraw => rights::withdraw(tx, &actor, &fp).map(Done::Withdrawn),
                What::Erase => crate::register::erase(tx, &actor, &fp).map(Done::Erased),
            });
            if matches!(out, Ok(Done::Withdrawn(_) | Done::Erased(_))) {
                store::rights::truncate_wal(conn);
            }
            out
        })
        .await;
    match done {
        Ok(Done::Extract(x)) => extract_page(&who, x),
        Ok(Done::Withdrawn(n)) => see_other(&format!("/rights?done=withdraw&n={n}")),
        Ok(Done::Erased(n)) => see_other(&format!("/rights?done=erase&n={n}")),
        Err(Error::NotFound(_)) => {
            errors.add(
                "pnr",
                lang.pick(
                    "Personnummer: ingen person med det numret finns i dina insatser; inget ändrades",
                    "Personnummer: no person with that number is in your interventions; nothing was changed",
                ),
            );
            rights_page(&who, errors, String::new())
        }
        Err(e) => pages::error(lang, &e),
    }
}

enum Done {
    Extract(extract::Extract),
    Withdrawn(usize),
    Erased(usize),
}

fn extract_page(who: &SignedIn, x: extract::Extract) -> Response {
    let enrolments = (0..x.enrolments.len()).map(|n| x.fields(n)).collect();
    let trail = x
        .trail
        .iter()
        .map(|e| {
            [
                e.at.clone(),
                e.actor.clone(),
                extract::action_sv(&e.action).to_string(),
                e.subject.clone().unwrap_or_default(),
            ]
        })
        .collect();
    render(
        StatusCode::OK,
        &ExtractPage {
            frame: Frame::signed_in(who, "Registerutdrag", "/rights"),
            gender: crate::codes::Code::sv(x.gender),
            title: extract::TITLE,
            about: extract::ABOUT,
            partial: extract::PARTIAL,
            not_listed: extract::NOT_LISTED,
            x,
            enrolments,
            trail,
        },
    )
}

// ----------------------------------------------------------- coordinator

/// One published period as the page lists it.
struct PublishedRow {
    period: String,
    from: String,
    to: String,
    at: String,
    by: String,
    differing: usize,
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    frame: Frame,
    errors: Errors,
    done: String,
    year: String,
    published: Vec<PublishedRow>,
    ended_before: String,
    audit_months: String,
    /// The dry run of the purge asked for, awaiting confirmation.
    plan: Option<purge::Purged>,
}

struct RecordsForm {
    errors: Errors,
    done: String,
    year: String,
    ended_before: String,
    audit_months: String,
    plan: Option<purge::Purged>,
}

impl RecordsForm {
    fn new(today: NaiveDate) -> RecordsForm {
        RecordsForm {
            errors: Errors::new(),
            done: String::new(),
            year: (chrono::Datelike::year(&today) - 1).to_string(),
            ended_before: String::new(),
            audit_months: purge::AUDIT_MONTHS.to_string(),
            plan: None,
        }
    }
}

async fn records_page(app: &Shared, who: &SignedIn, f: RecordsForm) -> Response {
    let lang = who.lang;
    let listed = app
        .heavy({
            let app = app.clone();
            move || {
                let conn = app.store.connect()?;
                publish::all_differences(&conn)
            }
        })
        .await;
    let published = match listed {
        Ok(list) => list
            .into_iter()
            .map(|(p, stamp, diffs)| PublishedRow {
                period: period_label(p),
                from: p.from.to_string(),
                to: p.to.to_string(),
                at: stamp.at,
                by: stamp.by,
                differing: diffs.len(),
            })
            .collect(),
        Err(e) => return pages::error(lang, &e),
    };
    let status = f.errors.status();
    render(
        status,
        &RecordsPage {
            frame: Frame::signed_in(
                who,
                lang.pick("Register och publicering", "Records and publishing"),
                "/records",
            ),
            errors: f.errors,
            done: f.done,
            year: f.year,
            published,
            ended_before: f.ended_before,
            audit_months: f.audit_months,
            plan: f.plan,
        },
    )
}

/// "2021" for a calendar year, else "2021-01-01 – 2021-08-31".
fn period_label(p: Period) -> String {
    use chrono::Datelike;
    if p.from.month() == 1
        && p.from.day() == 1
        && p.to.month() == 12
        && p.to.day() == 31
        && p.from.year() == p.to.year()
    {
        p.from.year().to_string()
    } else {
        format!("{} – {}", p.from, p.to)
    }
}

/// The page, and after a publication or a purge (POST, then 303 here, so
/// a reload does not send it again) what was done:
/// `?published=2021-01-01_2021-12-31[&again=1]` or
/// `?purged=ENROLMENTS_PERSONS_AUDIT&before=DATE` (counts and dates only).
pub async fn records(State(app): State<Shared>, who: SignedIn, RawQuery(q): RawQuery) -> Response {
    let lang = who.lang;
    if !who.session.actor.may(Action::Publish) {
        return pages::forbidden(lang);
    }
    let mut f = RecordsForm::new(app.clock.today());
    let form = Form::from_query(q.as_deref());
    let date = |s: &str| parse_date(s, Field::From).ok();
    if let Some(period) = form
        .opt("published")
        .and_then(|p| p.split_once('_'))
        .and_then(|(a, b)| Period::new(date(a)?, date(b)?).ok())
    {
        let again = form.opt("again") == Some("1");
        f.done = match (lang, again) {
            (Lang::Sv, false) => format!("{} är publicerad.", period_label(period)),
            (Lang::En, false) => format!("{} is published.", period_label(period)),
            (Lang::Sv, true) => format!(
                "{} är publicerad igen; den tidigare versionen finns kvar.",
                period_label(period)
            ),
            (Lang::En, true) => format!(
                "{} is published again; the earlier version is kept.",
                period_label(period)
            ),
        };
    }
    let counts: Option<Vec<usize>> = form
        .opt("purged")
        .map(|p| {
            p.split('_')
                .map(|n| n.parse().ok())
                .collect::<Option<Vec<_>>>()
        })
        .unwrap_or(None);
    if let (Some([e, p, a]), Some(before)) = (counts.as_deref(), form.opt("before").and_then(date))
    {
        f.done = match lang {
            Lang::Sv => format!(
                "Gallrat: {e} deltaganden som avslutades före {before}, {p} personer utan andra deltaganden och {a} loggposter (nu räknade per månad). Publicerade rapporter är oförändrade."
            ),
            Lang::En => format!(
                "Purged: {e} enrolments that ended before {before}, {p} persons with no other enrolment and {a} audit entries (now counted per month). Published reports are unchanged."
            ),
        };
    }
    records_page(&app, &who, f).await
}

/// The period of the publish form: a year, or from and to.
fn form_period(form: &Form, lang: Lang, errors: &mut Errors) -> Option<Period> {
    let t = i18n::texts(lang);
    match (form.opt("year"), form.opt("from"), form.opt("to")) {
        (Some(y), None, None) => match y.trim().parse::<i32>().ok().map(Period::year) {
            Some(Ok(p)) => Some(p),
            _ => {
                errors.refuse(
                    "year",
                    t.year,
                    y,
                    lang.pick(
                        "ange ett årtal med fyra siffror, till exempel 2021",
                        "enter a four-digit year, e.g. 2021",
                    ),
                );
                None
            }
        },
        (None, Some(f), Some(to)) => {
            let f = parse_date(f, Field::From)
                .map_err(|e| errors.domain(t, e))
                .ok();
            let to = parse_date(to, Field::To)
                .map_err(|e| errors.domain(t, e))
                .ok();
            match (f, to) {
                (Some(f), Some(to)) => match Period::new(f, to) {
                    Ok(p) => Some(p),
                    Err(_) => {
                        errors.add(
                            "to",
                            lang.pick("Till: ligger före Från", "To: is before From"),
                        );
                        None
                    }
                },
                _ => None,
            }
        }
        _ => {
            errors.add(
                "year",
                lang.pick(
                    "År: ange ett år, eller både Från och Till",
                    "Year: enter a year, or both From and To",
                ),
            );
            None
        }
    }
}

pub async fn publish_period(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let lang = who.lang;
    if !who.session.actor.may(Action::Publish) {
        return pages::forbidden(lang);
    }
    let mut f = RecordsForm::new(app.clock.today());
    f.year = form.get("year").to_string();
    let Some(period) = form_period(&form, lang, &mut f.errors) else {
        return records_page(&app, &who, f).await;
    };
    let force = form.checked("force");
    let actor = who.session.actor.clone();
    let app2 = app.clone();
    let done = app
        .heavy(move || {
            let mut conn = app2.store.connect()?;
            store::write(&mut conn, |tx| {
                // Said in the page's words before the domain refuses it.
                let earlier = store::rights::published(tx, period.from, period.to)?;
                match (earlier, force) {
                    (Some(e), false) => Ok(Err((e.at, e.by))),
                    _ => publish::publish(tx, &actor, period, force).map(Ok),
                }
            })
        })
        .await;
    match done {
        Ok(Ok(earlier)) => {
            return see_other(&format!(
                "/records?published={}_{}{}",
                period.from,
                period.to,
                if earlier.is_some() { "&again=1" } else { "" }
            ))
        }
        Ok(Err((at, by))) => f.errors.add(
            "force",
            match lang {
                Lang::Sv => format!("{} publicerades redan {at} av {by}. Kryssa i Publicera igen för att publicera en ny version (den tidigare sparas).", period_label(period)),
                Lang::En => format!("{} was already published {at} by {by}. Tick Publish again to publish a new version (the earlier one is kept).", period_label(period)),
            },
        ),
        Err(e) => {
            if let Err(e) = f.errors.domain(i18n::texts(lang), e) {
                return pages::error(lang, &e);
            }
        }
    }
    records_page(&app, &who, f).await
}

pub async fn purge_run(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !who.session.actor.may(Action::Publish) {
        return pages::forbidden(lang);
    }
    let today = app.clock.today();
    let mut f = RecordsForm::new(today);
    f.ended_before = form.get("ended_before").to_string();
    let ended_before = match form.opt("ended_before") {
        None => {
            f.errors.add(
                "ended_before",
                format!(
                    "{} {}",
                    i18n::label(t, "ended_before"),
                    lang.pick("saknas", "is missing")
                ),
            );
            None
        }
        Some(s) => parse_date(s, Field::EndedBefore)
            .map_err(|e| {
                let _ = f.errors.domain(t, e);
            })
            .ok(),
    };
    // The trail's retention is not the web's to shorten: a form that could
    // reduce last month's entries to counts would let a coordinator erase
    // their own tracks. The CLI (the file's owner) may choose.
    let audit_months = purge::AUDIT_MONTHS;
    let Some(ended_before) = ended_before else {
        return records_page(&app, &who, f).await;
    };
    // The real run only after the dry run was shown: its confirm button
    // carries the same values.
    let dry_run = !form.checked("confirm");
    let p = purge::Purge {
        ended_before,
        audit_months,
        dry_run,
    };
    let actor = who.session.actor.clone();
    let app2 = app.clone();
    let done = app
        .heavy(move || {
            let mut conn = app2.store.connect()?;
            let out = store::write(&mut conn, |tx| purge::purge(tx, &actor, today, &p))?;
            if !dry_run {
                store::rights::truncate_wal(&conn);
            }
            Ok(out)
        })
        .await;
    match done {
        Ok(plan) if dry_run => f.plan = Some(plan),
        Ok(done) => {
            return see_other(&format!(
                "/records?purged={}_{}_{}&before={ended_before}",
                done.enrolments, done.persons, done.audit_entries
            ))
        }
        Err(e) => {
            if let Err(e) = f.errors.domain(t, e) {
                return pages::error(lang, &e);
            }
        }
    }
    records_page(&app, &who, f).await
}

/// `/records/published?from=..&to=..&format=..&suppress_below=..`: the
/// figures as published, as a file.
pub async fn published_file(
    State(app): State<Shared>,
    who: SignedIn,
    RawQuery(q): RawQuery,
) -> Response {
    let lang = who.lang;
    if !who.session.actor.may(Action::Publish) {
        return pages::forbidden(lang);
    }
    let form = Form::from_query(q.as_deref());
    let dates = (
        form.opt("from")
            .and_then(|s| parse_date(s, Field::From).ok()),
        form.opt("to").and_then(|s| parse_date(s, Field::To).ok()),
    );
    // Each refusal names the value given (cut, never a personnummer).
    let refuse = |field, given: &str, what: &str| {
        pages::error(
            lang,
            &Error::invalid(
                field,
                format!("'{}' {what}", crate::model::shown_text(given)),
            ),
        )
    };
    let format = match form.opt("format").unwrap_or("xlsx") {
        "xlsx" => Format::Xlsx,
        "html" => Format::Html,
        "csv" => Format::Csv,
        "json" => Format::Json,
        other => {
            return refuse(
                Field::Format,
                other,
                "is not a format here: accepted are xlsx, html, csv, json",
            )
        }
    };
    let (Some(from), Some(to)) = dates else {
        let (field, given) = if dates.0.is_none() {
            (Field::From, form.get("from"))
        } else {
            (Field::To, form.get("to"))
        };
        return refuse(
            field,
            given,
            "is not a date: expected the published period's first (from) and last (to) day, YYYY-MM-DD",
        );
    };
    let Ok(period) = Period::new(from, to) else {
        return refuse(Field::To, form.get("to"), "is before from");
    };
    let mut opts = Options::new(period);
    opts.lang = lang;
    opts.suppress_below = match form.opt("suppress_below") {
        Some("0") | Some("") => None,
        Some(n) => match n.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                return refuse(
                    Field::SuppressBelow,
                    n,
                    "is not a number: expected a whole number, 3 or more (0: none)",
                )
            }
        },
        None => Some(super::report::DEFAULT_SUPPRESS_BELOW),
    };
    let actor = who.session.actor.clone();
    let app2 = app.clone();
    let made = app
        .heavy(move || {
            let mut conn = app2.store.connect()?;
            let (r, _) =
                store::write(&mut conn, |tx| publish::published_report(tx, &actor, &opts))?;
            crate::report::render::render(&r, format)
        })
        .await;
    match made {
        Ok(bytes) => {
            let (ctype, ext) = super::report::content_type(format);
            let name = super::report::file_name("sustrack-publicerad", &period, &[], ext);
            pages::attachment(bytes, ctype, &name)
        }
        Err(e) => pages::error(lang, &e),
    }
}

// ------------------------------------------------------------- quality

/// One rule of the quality page and what it lists.
struct QualityGroup {
    id: &'static str,
    label: &'static str,
    rows: Vec<rights::quality::Finding>,
}

#[derive(Template)]
#[template(path = "quality.html")]
struct QualityPage {
    frame: Frame,
    groups: Vec<QualityGroup>,
    total: usize,
}

/// `/quality`: the data-quality worklist (coordinators all, staff their
/// own interventions), each enrolment linked by its id.
pub async fn quality(State(app): State<Shared>, who: SignedIn) -> Response {
    let lang = who.lang;
    if !who.session.actor.may(Action::ReadEnrolments) {
        return pages::forbidden(lang);
    }
    let actor = who.session.actor.clone();
    let today = app.clock.today();
    let found = app
        .db(move |conn| store::write(conn, |tx| rights::quality::quality(tx, &actor, today, lang)))
        .await;
    let found = match found {
        Ok(f) => f,
        Err(e) => return pages::error(lang, &e),
    };
    let total = found.len();
    let groups = rights::quality::RULES
        .iter()
        .map(|&id| QualityGroup {
            id,
            label: rights::quality::rule_label(id, lang),
            rows: found.iter().filter(|f| f.rule == id).cloned().collect(),
        })
        .collect();
    render(
        StatusCode::OK,
        &QualityPage {
            frame: Frame::signed_in(&who, lang.pick("Datakvalitet", "Data quality"), "/quality"),
            groups,
            total,
        },
    )
}
