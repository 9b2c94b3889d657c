//! Beyond participants on the web (SPEC section 13 for the roles of
//! section 11):
//! - `/activities` (staff, their own interventions): pick an intervention;
//!   `/activities/CODE` holds the referrals waiting for a decision, a form
//!   to register a referral (never a personnummer: it precedes consent), a
//!   form to register an activity, and the last year's activities. An
//!   intervention of kind `structural` (or `volume`) takes activities only.
//! - `/referrals/ID` (staff): one referral and the form to decide it; for
//!   `started`, a choice of the intervention's enrolments that started on
//!   or after the referral date, by short id and start date only.
//! - `/budgets` (those who manage interventions): a year's budget lines and
//!   the form to set or revise an intervention's budget and actual cost.
//!
//! Every rule, scope check and audit entry is the domain's (`crate::beyond`);
//! here the forms are read (every mistake listed at once, named per field,
//! a value shaped like a personnummer never shown again), one transaction
//! runs per form, and a success answers 303.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate};

use crate::actor::Action;
use crate::beyond::{self, ActivityInput, BudgetInput, DecisionInput, ReferralInput};
use crate::codes::{ActivityKind, Code, Decision, Gender, InterventionKind, Lang, Referrer};
use crate::error::{Error, Field};
use crate::model::{not_future, parse_birth_year, parse_date, parse_municipality, parse_sek};
use crate::register;
use crate::store;

use super::app::Shared;
use super::csrf;
use super::forms::{choices, code_field, Choice, Errors, Form};
use super::i18n::{self, Texts};
use super::pages::{self, render, Frame};
use super::resume;
use super::session::SignedIn;

// ------------------------------------------------------------- helpers

/// The form as it may be shown again: a value shaped like a personnummer
/// (typed into the wrong field) is dropped, never echoed back.
fn kept(form: &Form) -> Form {
    Form::with(
        form.pairs()
            .iter()
            .filter(|(k, _)| k != "csrf")
            .map(|(k, v)| {
                let v = if crate::identity::scrub(v) == v.as_str() {
                    v.clone()
                } else {
                    String::new()
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

fn missing(t: &Texts, lang: Lang, field: &'static str, errors: &mut Errors) {
    errors.add(
        field,
        format!(
            "{} {}",
            i18n::label(t, field),
            lang.pick("saknas", "is missing")
        ),
    );
}

/// A value shaped like a personnummer has no place in these forms (a
/// referral precedes consent; counts, dates and amounts are not people):
/// each such field is refused without showing the value. `fields` are
/// (form name, id on the page).
fn no_pnr(form: &Form, fields: &[(&str, &'static str)], lang: Lang, errors: &mut Errors) {
    let t = i18n::texts(lang);
    for &(name, id) in fields {
        let v = form.get(name);
        if crate::identity::scrub(v) != v {
            errors.add(
                id,
                format!(
                    "{} {}",
                    i18n::label(t, id),
                    lang.pick(
                        "ser ut som ett personnummer och visas inte här. Personnummer registreras inte här: skriv bara det som fältet frågar efter.",
                        "looks like a personnummer and is not shown here. No personnummer is registered here: enter only what the field asks for.",
                    )
                ),
            );
        }
    }
}

/// A required date, not in the future. `id` is the field's id on the page.
fn date_field(
    form: &Form,
    id: &'static str,
    today: NaiveDate,
    t: &Texts,
    lang: Lang,
    errors: &mut Errors,
) -> Option<NaiveDate> {
    let Some(v) = form.opt("date") else {
        missing(t, lang, id, errors);
        return None;
    };
    match parse_date(v, Field::Date).and_then(|d| not_future(d, Field::Date, today).map(|()| d)) {
        Ok(d) => Some(d),
        Err(e) => {
            let _ = errors.domain(t, e);
            rename(errors, "date", id);
            None
        }
    }
}

/// Give the domain's field name its id on this page (two forms on one
/// page each have a `date`).
fn rename(errors: &mut Errors, from: &str, to: &'static str) {
    for e in errors.list.iter_mut() {
        if e.field == from {
            e.field = to;
        }
    }
}

/// A head count: empty is 0 (or `None` where it is optional).
fn count_field(
    form: &Form,
    name: &'static str,
    t: &Texts,
    lang: Lang,
    errors: &mut Errors,
) -> Option<u32> {
    let v = form.opt(name)?;
    match v.parse::<u32>() {
        Ok(n) if n <= beyond::MAX_HEADS => Some(n),
        _ => {
            errors.refuse(
                name,
                i18n::label(t, name),
                v,
                lang.pick(
                    "ange ett antal, ett heltal från 0 till 100 000 (tomt = 0)",
                    "enter a count, a whole number from 0 to 100,000 (empty = 0)",
                ),
            );
            None
        }
    }
}

/// Whole kronor with a space between thousands: `1 250 000`.
fn grouped(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    out
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// An intervention code as a path segment, or it cannot exist.
fn code_shape(code: &str) -> bool {
    !code.is_empty() && code.len() <= 32
}

/// A referral id (or prefix) as a path segment, or it cannot exist.
fn id_shape(id: &str) -> bool {
    (6..=36).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

/// The interventions this user registers in, for the picker.
fn own_interventions(
    conn: &rusqlite::Connection,
    actor: &crate::actor::Actor,
) -> crate::error::Result<Vec<crate::model::Intervention>> {
    let mut list = register::interventions_for(conn, actor)?;
    list.retain(|i| actor.may_in(Action::Beyond, &i.code));
    Ok(list)
}

// ------------------------------------------------------------- picker

struct Picked {
    code: String,
    name: String,
    kind: &'static str,
    takes_referrals: bool,
    waiting: usize,
}

#[derive(Template)]
#[template(path = "activities_home.html")]
struct HomePage {
    frame: Frame,
    interventions: Vec<Picked>,
}

/// `/activities`: the user's interventions, each with how many referrals
/// wait for a decision.
pub async fn home(State(app): State<Shared>, who: SignedIn) -> Response {
    let lang = who.lang;
    if !who.session.actor.may(Action::Beyond) {
        return pages::forbidden(lang);
    }
    let actor = who.session.actor.clone();
    let found = app
        .db(move |conn| {
            let mut out = Vec::new();
            for i in own_interventions(conn, &actor)? {
                let takes = i.kind == InterventionKind::Individual;
                let waiting = if takes {
                    beyond::undecided_count(conn, &actor, &i.code)?
                } else {
                    0
                };
                out.push(Picked {
                    kind: i.kind.label(lang),
                    code: i.code,
                    name: i.name,
                    takes_referrals: takes,
                    waiting,
                });
            }
            Ok(out)
        })
        .await;
    match found {
        Ok(interventions) => render(
            StatusCode::OK,
            &HomePage {
                frame: Frame::signed_in(
                    &who,
                    lang.pick("Aktiviteter och remisser", "Activities and referrals"),
                    "/activities",
                ),
                interventions,
            },
        ),
        Err(e) => pages::error(lang, &e),
    }
}

// ------------------------------------------------- one intervention

struct ActivityRow {
    date: String,
    kind: &'static str,
    women: u32,
    men: u32,
    unknown: u32,
    total: u32,
    organisations: String,
}

struct ReferralRow {
    id: String,
    short: String,
    date: String,
    gender: &'static str,
    birth_year: String,
    municipality: String,
    referrer: String,
    waiting_days: i64,
}

fn referral_row(r: &beyond::Referral, lang: Lang, today: NaiveDate) -> ReferralRow {
    ReferralRow {
        id: r.id.clone(),
        short: crate::model::short_id(&r.id).to_string(),
        date: r.date.to_string(),
        gender: r.gender.label(lang),
        birth_year: r.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        municipality: r
            .municipality
            .as_ref()
            .map(|m| m.label().to_string())
            .unwrap_or_default(),
        referrer: r
            .referrer
            .map(|c| c.label(lang).to_string())
            .unwrap_or_default(),
        waiting_days: (today - r.date).num_days(),
    }
}

#[derive(Template)]
#[template(path = "activities.html")]
struct ActivitiesPage {
    frame: Frame,
    errors: Errors,
    done: String,
    code: String,
    name: String,
    kind: &'static str,
    takes_referrals: bool,
    /// The referral form as entered (after a refusal), else empty.
    referral: Form,
    /// The activity form as entered (after a refusal), else empty.
    activity: Form,
    kinds: Vec<Choice>,
    gender: Vec<Choice>,
    referrer: Vec<Choice>,
    waiting: Vec<ReferralRow>,
    activities: Vec<ActivityRow>,
}

/// Which form of the page was sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sent {
    None,
    Activity,
    Referral,
}

async fn activities_page(
    app: &Shared,
    who: &SignedIn,
    code: &str,
    sent: Sent,
    form: Form,
    errors: Errors,
    done: String,
) -> Response {
    let lang = who.lang;
    let actor = who.session.actor.clone();
    let today = app.clock.today();
    let c = code.to_string();
    let found = app
        .db(move |conn| {
            // One transaction: the list and its audit entry.
            store::write(conn, |tx| {
                let scope = register::require(&actor, Action::Beyond)?;
                let i = register::intervention_in(tx, &scope, &c)?;
                let waiting = if i.kind == InterventionKind::Individual {
                    beyond::open_referrals(tx, &actor, &i.code)?
                } else {
                    Vec::new()
                };
                let acts = beyond::recent_activities(tx, &actor, &i.code, today)?;
                Ok((i, waiting, acts))
            })
        })
        .await;
    let (i, waiting, acts) = match found {
        Ok(x) => x,
        Err(e) => return pages::error(lang, &e),
    };
    let (activity, referral) = match sent {
        Sent::Activity => (kept(&form), Form::empty()),
        Sent::Referral => (Form::empty(), kept(&form)),
        Sent::None => (Form::empty(), Form::empty()),
    };
    let mut kinds = choices::<ActivityKind>(lang, activity.get("kind"), true);
    if let Some(first) = kinds.first_mut() {
        first.label = lang.pick("Välj typ", "Choose a kind").to_string();
    }
    let mut gender = choices::<Gender>(lang, referral.get("gender"), true);
    if let Some(first) = gender.first_mut() {
        first.label = lang.pick("Välj kön", "Choose a gender").to_string();
    }
    let status = errors.status();
    render(
        status,
        &ActivitiesPage {
            frame: Frame::signed_in(
                who,
                format!(
                    "{} – {} {}",
                    lang.pick("Aktiviteter och remisser", "Activities and referrals"),
                    i.code,
                    i.name
                ),
                &format!("/activities/{}", i.code),
            ),
            errors,
            done,
            takes_referrals: i.kind == InterventionKind::Individual,
            kind: i.kind.label(lang),
            code: i.code,
            name: i.name,
            kinds,
            gender,
            referrer: choices::<Referrer>(lang, referral.get("referrer"), true),
            referral,
            activity,
            waiting: waiting
                .iter()
                .map(|r| referral_row(r, lang, today))
                .collect(),
            activities: acts
                .iter()
                .map(|a| ActivityRow {
                    date: a.date.to_string(),
                    kind: a.kind.label(lang),
                    women: a.women,
                    men: a.men,
                    unknown: a.unknown,
                    total: a.women + a.men + a.unknown,
                    organisations: a.organisations.map(|n| n.to_string()).unwrap_or_default(),
                })
                .collect(),
        },
    )
}

/// `/activities/CODE`, and after a change (POST, then 303 here, so a
/// reload does not send it again) what was done: `?done=activity`,
/// `?done=referral&id=SHORT` or `?done=decided`.
pub async fn page(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let lang = who.lang;
    if !who.session.actor.may(Action::Beyond) {
        return pages::forbidden(lang);
    }
    if !code_shape(&code) {
        return pages::not_found_page(lang);
    }
    // A form sent after the session ended, filled in again.
    let path = format!("/activities/{code}");
    if let Some(form) = resume::take(&app, &headers, &path) {
        let sent = match form.get("form") {
            "referral" => Sent::Referral,
            _ => Sent::Activity,
        };
        return activities_page(&app, &who, &code, sent, form, Errors::new(), String::new()).await;
    }
    let form = Form::from_query(q.as_deref());
    let done = match (form.opt("done"), lang) {
        (Some("activity"), Lang::Sv) => "Aktiviteten är registrerad.".to_string(),
        (Some("activity"), Lang::En) => "The activity is registered.".to_string(),
        (Some("referral"), _) => {
            let id = form.get("id");
            let id = if id.len() == 8 && id_shape(id) {
                id
            } else {
                ""
            };
            match lang {
                Lang::Sv => format!("Remissen {id} är registrerad. Den väntar på beslut nedan."),
                Lang::En => {
                    format!("The referral {id} is registered. It waits for a decision below.")
                }
            }
        }
        (Some("decided"), Lang::Sv) => "Beslutet är registrerat.".to_string(),
        (Some("decided"), Lang::En) => "The decision is registered.".to_string(),
        _ => String::new(),
    };
    activities_page(
        &app,
        &who,
        &code,
        Sent::None,
        Form::empty(),
        Errors::new(),
        done,
    )
    .await
}

/// The gate every POST of this file passes: a live session (or the form
/// is parked for after signing in), its CSRF token, and the role.
// The page a request is refused with is the handler's answer as it is.
#[allow(clippy::result_large_err)]
fn gate(
    app: &Shared,
    who: Result<SignedIn, Response>,
    path: String,
    form: &Form,
    action: Action,
) -> Result<SignedIn, Response> {
    let who = match who {
        Ok(w) => w,
        Err(_) => return Err(resume::park(app, path, form)),
    };
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return Err(pages::forbidden_csrf(who.lang));
    }
    if !who.session.actor.may(action) {
        return Err(pages::forbidden(who.lang));
    }
    Ok(who)
}

/// A form posted to `/activities/CODE` (its `section`: activity or
/// referral): the signed-in user past the gate, and the intervention.
async fn posted_to(
    app: &Shared,
    who: Result<SignedIn, Response>,
    code: &str,
    form: &Form,
    section: &'static str,
) -> Result<(SignedIn, crate::model::Intervention), Response> {
    if !code_shape(code) {
        return Err(pages::not_found_page(Lang::Sv));
    }
    let who = gate(
        app,
        who,
        format!("/activities/{code}"),
        &parked(form, Some(section)),
        Action::Beyond,
    )?;
    let i = resolve(app, &who, code).await?;
    Ok((who, i))
}

/// The intervention of a POST, among the user's (one outside them is as
/// unknown as a code that does not exist: 404).
async fn resolve(
    app: &Shared,
    who: &SignedIn,
    code: &str,
) -> Result<crate::model::Intervention, Response> {
    if !code_shape(code) {
        return Err(pages::not_found_page(who.lang));
    }
    let actor = who.session.actor.clone();
    let c = code.to_string();
    app.db(move |conn| {
        let scope = register::require(&actor, Action::Beyond)?;
        register::intervention_in(conn, &scope, &c)
    })
    .await
    .map_err(|e| pages::error(who.lang, &e))
}

pub async fn activity_add(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let (who, i) = match posted_to(&app, who, &code, &form, "activity").await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    let today = app.clock.today();
    let mut errors = Errors::new();
    no_pnr(
        &form,
        &[
            ("date", "activity_date"),
            ("kind", "kind"),
            ("women", "women"),
            ("men", "men"),
            ("unknown", "unknown"),
            ("organisations", "organisations"),
        ],
        lang,
        &mut errors,
    );
    let date = date_field(&form, "activity_date", today, t, lang, &mut errors);
    let kind = code_field::<ActivityKind>(&form, "kind", t, &mut errors);
    if kind.is_none() && errors.of("kind").is_none() {
        missing(t, lang, "kind", &mut errors);
    }
    let women = count_field(&form, "women", t, lang, &mut errors);
    let men = count_field(&form, "men", t, lang, &mut errors);
    let unknown = count_field(&form, "unknown", t, lang, &mut errors);
    let organisations = count_field(&form, "organisations", t, lang, &mut errors);
    let heads = [&women, &men, &unknown]
        .iter()
        .map(|n| n.unwrap_or(0))
        .sum::<u32>();
    if heads == 0
        && ["women", "men", "unknown"]
            .iter()
            .all(|f| errors.of(f).is_none())
    {
        errors.add(
            "women",
            lang.pick(
                "Deltagare saknas: ange hur många kvinnor, män eller personer med okänt kön som deltog (minst en)",
                "Attendees are missing: enter how many women, men or people of unknown gender took part (at least one)",
            ),
        );
    }
    if !errors.is_empty() {
        return activities_page(
            &app,
            &who,
            &i.code,
            Sent::Activity,
            form,
            errors,
            String::new(),
        )
        .await;
    }
    let input = ActivityInput {
        intervention: i.code.clone(),
        date: date.expect("no errors: the date parsed"),
        kind: kind.expect("no errors: the kind parsed"),
        women: women.unwrap_or(0),
        men: men.unwrap_or(0),
        unknown: unknown.unwrap_or(0),
        organisations,
    };
    let actor = who.session.actor.clone();
    match app
        .db(move |conn| store::write(conn, |tx| beyond::activity_add(tx, &actor, today, input)))
        .await
    {
        Ok(a) => see_other(&format!("/activities/{}?done=activity", a.intervention)),
        Err(e) => {
            if let Err(other) = errors.domain(t, e) {
                return pages::error(lang, &other);
            }
            rename(&mut errors, "date", "activity_date");
            activities_page(
                &app,
                &who,
                &i.code,
                Sent::Activity,
                form,
                errors,
                String::new(),
            )
            .await
        }
    }
}

/// What is parked when the session ended before the form was sent: the
/// values (never one shaped like a personnummer), which of the page's
/// forms it was, and the CSRF token to check (`resume::park` drops it).
fn parked(form: &Form, which: Option<&str>) -> Form {
    let mut pairs: Vec<(String, String)> = kept(form)
        .pairs()
        .iter()
        .filter(|(k, _)| k != "form")
        .cloned()
        .collect();
    if let Some(w) = which {
        pairs.push(("form".into(), w.into()));
    }
    if let Some(c) = form.csrf() {
        pairs.push(("csrf".into(), c.into()));
    }
    Form::with(pairs)
}

pub async fn referral_add(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let (who, i) = match posted_to(&app, who, &code, &form, "referral").await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    let today = app.clock.today();
    let mut errors = Errors::new();
    if i.kind != InterventionKind::Individual {
        errors.add(
            "",
            match lang {
                Lang::Sv => format!(
                    "{} är en {} och tar inte emot remisser: en remiss gäller en insats med inskrivna deltagare. Registrera aktiviteter här.",
                    i.code,
                    i.kind.sv().to_lowercase()
                ),
                Lang::En => format!(
                    "{} is a {} intervention and takes no referrals: a referral is to an intervention with enrolments. Register activities here.",
                    i.code,
                    i.kind.en().to_lowercase()
                ),
            },
        );
        return activities_page(
            &app,
            &who,
            &i.code,
            Sent::Referral,
            form,
            errors,
            String::new(),
        )
        .await;
    }
    no_pnr(
        &form,
        &[
            ("date", "referral_date"),
            ("gender", "gender"),
            ("birth_year", "birth_year"),
            ("municipality", "municipality"),
            ("referrer", "referrer"),
        ],
        lang,
        &mut errors,
    );
    let date = date_field(&form, "referral_date", today, t, lang, &mut errors);
    let gender = code_field::<Gender>(&form, "gender", t, &mut errors);
    if gender.is_none() && errors.of("gender").is_none() {
        missing(t, lang, "gender", &mut errors);
    }
    let birth_year = form
        .opt("birth_year")
        .and_then(|y| match parse_birth_year(y, today) {
            Ok(y) => Some(y),
            Err(e) => {
                let _ = errors.domain(t, e);
                None
            }
        });
    let municipality = form
        .opt("municipality")
        .and_then(|m| match parse_municipality(m) {
            Ok(m) => Some(m),
            Err(e) => {
                let _ = errors.domain(t, e);
                None
            }
        });
    let referrer = code_field::<Referrer>(&form, "referrer", t, &mut errors);
    if !errors.is_empty() {
        return activities_page(
            &app,
            &who,
            &i.code,
            Sent::Referral,
            form,
            errors,
            String::new(),
        )
        .await;
    }
    let input = ReferralInput {
        intervention: i.code.clone(),
        date: date.expect("no errors: the date parsed"),
        gender: gender.expect("no errors: the gender parsed"),
        birth_year,
        municipality,
        referrer,
    };
    let actor = who.session.actor.clone();
    match app
        .db(move |conn| store::write(conn, |tx| beyond::referral_add(tx, &actor, today, input)))
        .await
    {
        Ok(r) => see_other(&format!(
            "/activities/{}?done=referral&id={}",
            r.intervention,
            crate::model::short_id(&r.id)
        )),
        Err(e) => {
            if let Err(other) = errors.domain(t, e) {
                return pages::error(lang, &other);
            }
            rename(&mut errors, "date", "referral_date");
            activities_page(
                &app,
                &who,
                &i.code,
                Sent::Referral,
                form,
                errors,
                String::new(),
            )
            .await
        }
    }
}

// ------------------------------------------------------ one referral

/// An enrolment the referral may have become: short id and start only.
struct Candidate {
    id: String,
    short: String,
    start: String,
}

#[derive(Template)]
#[template(path = "referral.html")]
struct ReferralPage {
    frame: Frame,
    errors: Errors,
    form: Form,
    r: ReferralRow,
    code: String,
    name: String,
    /// The decision already recorded, if any: (label, date).
    decided: Option<(&'static str, String)>,
    decisions: Vec<Choice>,
    candidates: Vec<Choice>,
    has_candidates: bool,
}

/// The referral (in the user's interventions) and, while undecided, the
/// enrolments of its intervention that started on or after its date: the
/// open ones and those that exited since (an enrolment that started after
/// the referral cannot have exited before it). Showing enrolments is a
/// read the domain records.
fn referral_and_candidates(
    conn: &mut rusqlite::Connection,
    actor: &crate::actor::Actor,
    id: &str,
    today: NaiveDate,
) -> crate::error::Result<(beyond::Referral, crate::model::Intervention, Vec<Candidate>)> {
    let scope = register::require(actor, Action::Beyond)?;
    let r = beyond::find_referral(conn, &scope, id)?;
    let i = register::known_intervention(conn, &r.intervention)?;
    if r.decision.is_some() {
        return Ok((r, i, Vec::new()));
    }
    let days = (today - r.date).num_days().max(0) as u32;
    let list = store::write(conn, |tx| {
        register::list_enrolments(tx, actor, &r.intervention, today, days)
    })?;
    let mut candidates: Vec<Candidate> = list
        .iter()
        .take(register::LIST_MAX)
        .filter(|e| e.start >= r.date)
        .map(|e| Candidate {
            id: e.id.clone(),
            short: e.short_id().to_string(),
            start: e.start.to_string(),
        })
        .collect();
    candidates.sort_by(|a, b| a.start.cmp(&b.start).then(a.short.cmp(&b.short)));
    Ok((r, i, candidates))
}

async fn referral_page(
    app: &Shared,
    who: &SignedIn,
    id: &str,
    form: Form,
    errors: Errors,
) -> Response {
    let lang = who.lang;
    let today = app.clock.today();
    let actor = who.session.actor.clone();
    let rid = id.to_string();
    let found = app
        .db(move |conn| referral_and_candidates(conn, &actor, &rid, today))
        .await;
    let (r, i, list) = match found {
        Ok(x) => x,
        Err(e) => return pages::error(lang, &e),
    };
    let form = kept(&form);
    let mut decisions = choices::<Decision>(lang, form.get("decision"), true);
    if let Some(first) = decisions.first_mut() {
        first.label = lang.pick("Välj beslut", "Choose a decision").to_string();
    }
    let chosen = form.get("enrolment");
    let mut candidates = vec![Choice {
        value: String::new(),
        label: lang
            .pick(
                "Ingen (beslutet är inte påbörjad insats)",
                "None (the decision is not started)",
            )
            .to_string(),
        selected: chosen.is_empty(),
    }];
    let has_candidates = !list.is_empty();
    for c in list {
        candidates.push(Choice {
            selected: !chosen.is_empty() && c.id.starts_with(&chosen.to_ascii_lowercase()),
            label: format!(
                "{} – {} {}",
                c.short,
                lang.pick("start", "started"),
                c.start
            ),
            value: c.id,
        });
    }
    let status = errors.status();
    let short = crate::model::short_id(&r.id).to_string();
    render(
        status,
        &ReferralPage {
            frame: Frame::signed_in(
                who,
                format!("{} {short}", lang.pick("Remiss", "Referral")),
                &format!("/referrals/{}", r.id),
            ),
            errors,
            form,
            decided: r
                .decision
                .zip(r.decided)
                .map(|(d, on)| (d.label(lang), on.to_string())),
            r: referral_row(&r, lang, today),
            code: i.code,
            name: i.name,
            decisions,
            candidates,
            has_candidates,
        },
    )
}

/// `/referrals/ID`: the referral and the form to decide it.
pub async fn referral(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !who.session.actor.may(Action::Beyond) {
        return pages::forbidden(who.lang);
    }
    if !id_shape(&id) {
        return pages::not_found_page(who.lang);
    }
    let form =
        resume::take(&app, &headers, &format!("/referrals/{id}")).unwrap_or_else(Form::empty);
    referral_page(&app, &who, &id, form, Errors::new()).await
}

pub async fn decide(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if !id_shape(&id) {
        return pages::not_found_page(Lang::Sv);
    }
    let who = match gate(
        &app,
        who,
        format!("/referrals/{id}"),
        &parked(&form, None),
        Action::Beyond,
    ) {
        Ok(w) => w,
        Err(res) => return res,
    };
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    let today = app.clock.today();
    let mut errors = Errors::new();
    no_pnr(
        &form,
        &[
            ("decision", "decision"),
            ("date", "date"),
            ("enrolment", "enrolment"),
        ],
        lang,
        &mut errors,
    );
    let decision = code_field::<Decision>(&form, "decision", t, &mut errors);
    if decision.is_none() && errors.of("decision").is_none() {
        missing(t, lang, "decision", &mut errors);
    }
    let date = date_field(&form, "date", today, t, lang, &mut errors);
    let enrolment = form.opt("enrolment").map(str::to_string);
    match (decision, &enrolment) {
        (Some(Decision::Started), None) => errors.add(
            "enrolment",
            lang.pick(
                "Inskrivning saknas: välj den inskrivning som remissen blev (registrera starten först om den inte finns i listan)",
                "Enrolment is missing: choose the enrolment the referral became (register the start first if it is not listed)",
            ),
        ),
        (Some(d), Some(_)) if d != Decision::Started => errors.add(
            "enrolment",
            lang.pick(
                "Inskrivning anges bara när beslutet är påbörjad insats: välj Ingen",
                "An enrolment is given only when the decision is started: choose None",
            ),
        ),
        _ => {}
    }
    if !errors.is_empty() {
        return referral_page(&app, &who, &id, form, errors).await;
    }
    let input = DecisionInput {
        referral: id.clone(),
        decision: decision.expect("no errors: the decision parsed"),
        date: date.expect("no errors: the date parsed"),
        enrolment,
    };
    let actor = who.session.actor.clone();
    let done = app
        .db(move |conn| {
            store::write(conn, |tx| {
                let scope = register::require(&actor, Action::Beyond)?;
                // The referral first: one outside the user's interventions
                // does not exist (404); past it, a missing enrolment is the
                // enrolment field's.
                beyond::find_referral(tx, &scope, &input.referral)?;
                let given = input.enrolment.is_some();
                match beyond::referral_decide(tx, &actor, today, input) {
                    Err(Error::NotFound(_)) if given => Err(Error::invalid(
                        Field::Enrolment,
                        "is not an enrolment of this intervention: choose one from the list",
                    )),
                    other => other,
                }
            })
        })
        .await;
    match done {
        Ok(r) => see_other(&format!("/activities/{}?done=decided", r.intervention)),
        Err(e) => {
            if let Err(other) = errors.domain(t, e) {
                return pages::error(lang, &other);
            }
            referral_page(&app, &who, &id, form, errors).await
        }
    }
}

// ------------------------------------------------------------ budgets

struct BudgetRow {
    code: String,
    name: String,
    budget: String,
    actual: String,
    deviation: String,
}

#[derive(Template)]
#[template(path = "budgets.html")]
struct BudgetsPage {
    frame: Frame,
    errors: Errors,
    done: String,
    year: i32,
    years: Vec<Choice>,
    rows: Vec<BudgetRow>,
    total_budget: String,
    total_actual: String,
    without: Vec<String>,
    form: Form,
    interventions: Vec<Choice>,
}

/// The years the picker offers: two ahead, eight back, and the one shown.
fn year_choices(this: i32, shown: i32) -> Vec<Choice> {
    let mut years: Vec<i32> = (this - 8..=this + 2).rev().collect();
    if !years.contains(&shown) {
        years.push(shown);
        years.sort_unstable_by(|a, b| b.cmp(a));
    }
    years
        .into_iter()
        .map(|y| Choice {
            value: y.to_string(),
            label: y.to_string(),
            selected: y == shown,
        })
        .collect()
}

fn deviation(budget: u64, actual: Option<u64>) -> String {
    match actual {
        None => String::new(),
        Some(a) if a >= budget => format!("+{}", grouped(a - budget)),
        Some(a) => format!("\u{2212}{}", grouped(budget - a)),
    }
}

async fn budgets_page(
    app: &Shared,
    who: &SignedIn,
    year: i32,
    form: Form,
    errors: Errors,
    done: String,
) -> Response {
    let lang = who.lang;
    let actor = who.session.actor.clone();
    let found = app
        .db(move |conn| {
            let lines = beyond::budgets(conn, &actor, year)?;
            let all = register::interventions_for(conn, &actor)?;
            Ok((lines, all))
        })
        .await;
    let (lines, all) = match found {
        Ok(x) => x,
        Err(e) => return pages::error(lang, &e),
    };
    let name_of = |code: &str| {
        all.iter()
            .find(|i| i.code == code)
            .map(|i| i.name.clone())
            .unwrap_or_default()
    };
    let rows = lines
        .iter()
        .map(|b| BudgetRow {
            code: b.intervention.clone(),
            name: name_of(&b.intervention),
            budget: grouped(b.budget),
            actual: b.actual.map(grouped).unwrap_or_default(),
            deviation: deviation(b.budget, b.actual),
        })
        .collect();
    let total_budget = grouped(lines.iter().map(|b| b.budget).sum());
    let total_actual = if lines.iter().any(|b| b.actual.is_some()) {
        grouped(lines.iter().filter_map(|b| b.actual).sum())
    } else {
        String::new()
    };
    let without = all
        .iter()
        .filter(|i| !lines.iter().any(|b| b.intervention == i.code))
        .map(|i| i.code.clone())
        .collect();
    let form = kept(&form);
    let current = form.get("intervention");
    let mut interventions = vec![Choice {
        value: String::new(),
        label: lang
            .pick("Välj insats", "Choose an intervention")
            .to_string(),
        selected: current.is_empty(),
    }];
    interventions.extend(all.iter().map(|i| Choice {
        value: i.code.clone(),
        label: format!("{} {}", i.code, i.name),
        selected: i.code.eq_ignore_ascii_case(current),
    }));
    let this = app.clock.today().year();
    render(
        errors.status(),
        &BudgetsPage {
            frame: Frame::signed_in(
                who,
                lang.pick("Budget och kostnader", "Budgets and costs"),
                "/budgets",
            ),
            errors,
            done,
            year,
            years: year_choices(this, year),
            rows,
            total_budget,
            total_actual,
            without,
            form,
            interventions,
        },
    )
}

/// The year of the page: `?year=`, else this year.
fn shown_year(form: &Form, this: i32) -> i32 {
    form.opt("year")
        .and_then(|y| y.parse::<i32>().ok())
        .filter(|y| (1990..=this + 2).contains(y))
        .unwrap_or(this)
}

/// `/budgets?year=Y`: the year's lines; `&intervention=CODE` fills the
/// form with that line to revise it; after a change (POST, then 303
/// here) `&done=set|replaced&intervention=CODE` says what was done.
pub async fn budgets(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let lang = who.lang;
    if !who.session.actor.may(Action::Budget) {
        return pages::forbidden(lang);
    }
    let this = app.clock.today().year();
    if let Some(form) = resume::take(&app, &headers, "/budgets") {
        let year = shown_year(&form, this);
        return budgets_page(&app, &who, year, form, Errors::new(), String::new()).await;
    }
    let query = Form::from_query(q.as_deref());
    let year = shown_year(&query, this);
    let code = query
        .opt("intervention")
        .filter(|c| c.len() <= 32)
        .map(str::to_ascii_uppercase);
    let actor = who.session.actor.clone();
    let line = match &code {
        Some(c) => {
            let c = c.clone();
            let found = app
                .db(move |conn| {
                    let known = register::interventions_for(conn, &actor)?
                        .into_iter()
                        .any(|i| i.code == c);
                    let line = beyond::budgets(conn, &actor, year)?
                        .into_iter()
                        .find(|b| b.intervention == c);
                    Ok((known, line))
                })
                .await;
            match found {
                Ok(x) => x,
                Err(e) => return pages::error(lang, &e),
            }
        }
        None => (false, None),
    };
    let (known, line) = line;
    let code = code.filter(|_| known);
    let done = match (query.opt("done"), &code) {
        (Some(d @ ("set" | "replaced")), Some(c)) => {
            match (lang, d) {
                (Lang::Sv, "set") => format!("Budgeten för {c} {year} är sparad."),
                (Lang::En, "set") => format!("The budget of {c} for {year} is saved."),
                (Lang::Sv, _) => {
                    format!("Budgeten för {c} {year} är ändrad; den nya ersätter den tidigare.")
                }
                (Lang::En, _) => {
                    format!("The budget of {c} for {year} is revised; the new one replaces the earlier.")
                }
            }
        }
        _ => String::new(),
    };
    let mut pairs = vec![("year".to_string(), year.to_string())];
    if done.is_empty() {
        if let Some(c) = &code {
            pairs.push(("intervention".into(), c.clone()));
            if let Some(b) = &line {
                pairs.push(("budget".into(), grouped(b.budget).replace('\u{a0}', " ")));
                if let Some(a) = b.actual {
                    pairs.push(("actual".into(), grouped(a).replace('\u{a0}', " ")));
                }
            }
        }
    }
    budgets_page(&app, &who, year, Form::with(pairs), Errors::new(), done).await
}

pub async fn budget_set(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    form: Form,
) -> Response {
    let who = match gate(
        &app,
        who,
        "/budgets".into(),
        &parked(&form, None),
        Action::Budget,
    ) {
        Ok(w) => w,
        Err(res) => return res,
    };
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    let today = app.clock.today();
    let this = today.year();
    let mut errors = Errors::new();
    no_pnr(
        &form,
        &[
            ("intervention", "intervention"),
            ("year", "year"),
            ("budget", "budget"),
            ("actual", "actual"),
        ],
        lang,
        &mut errors,
    );
    let intervention = form.get("intervention").to_string();
    if intervention.is_empty() {
        missing(t, lang, "intervention", &mut errors);
    }
    let year = match form.opt("year") {
        None => {
            missing(t, lang, "year", &mut errors);
            None
        }
        Some(y) => match y.parse::<i32>() {
            Ok(y) => Some(y),
            Err(_) => {
                errors.refuse(
                    "year",
                    t.year,
                    y,
                    &match lang {
                        Lang::Sv => format!(
                            "ange ett årtal med fyra siffror, från 1990 till {}",
                            this + 2
                        ),
                        Lang::En => format!("enter a four-digit year, from 1990 to {}", this + 2),
                    },
                );
                None
            }
        },
    };
    let budget = match form.opt("budget") {
        None => {
            missing(t, lang, "budget", &mut errors);
            None
        }
        Some(b) => parse_sek(b, Field::Budget)
            .map_err(|e| {
                let _ = errors.domain(t, e);
            })
            .ok(),
    };
    let actual = form.opt("actual").and_then(|a| {
        parse_sek(a, Field::Actual)
            .map_err(|e| {
                let _ = errors.domain(t, e);
            })
            .ok()
    });
    let shown = year
        .filter(|y| (1990..=this + 2).contains(y))
        .unwrap_or(this);
    if !errors.is_empty() {
        return budgets_page(&app, &who, shown, form, errors, String::new()).await;
    }
    let input = BudgetInput {
        intervention: intervention.clone(),
        year: year.expect("no errors: the year parsed"),
        budget: budget.expect("no errors: the budget parsed"),
        actual,
    };
    let actor = who.session.actor.clone();
    let code = intervention.trim().to_ascii_uppercase();
    match app
        .db(move |conn| store::write(conn, |tx| beyond::budget_set(tx, &actor, today, input)))
        .await
    {
        Ok(replaced) => see_other(&format!(
            "/budgets?year={}&done={}&intervention={}",
            year.expect("parsed"),
            if replaced { "replaced" } else { "set" },
            url_code(&code)
        )),
        Err(Error::NotFound(m)) => {
            // An unknown code is the intervention field's mistake here:
            // coordinators see every intervention.
            errors.add(
                "intervention",
                format!(
                    "{} {}",
                    t.intervention,
                    crate::identity::scrub(m.trim_start_matches("unknown intervention "))
                ),
            );
            budgets_page(&app, &who, shown, form, errors, String::new()).await
        }
        Err(e) => {
            if let Err(other) = errors.domain(t, e) {
                return pages::error(lang, &other);
            }
            budgets_page(&app, &who, shown, form, errors, String::new()).await
        }
    }
}

/// An intervention code for a query string (codes are letters, digits,
/// `-` and `_`; anything else is escaped).
fn url_code(code: &str) -> String {
    code.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
