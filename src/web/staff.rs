//! The staff member's pages (deltagaransvarig): home with their
//! interventions, an intervention's open and recent enrolments, start,
//! exit, edit, reopen, delete, and find by personnummer. Coordinators see
//! the lists and details read-only. The domain decides who may do what;
//! an enrolment outside the user's interventions is a 404 from it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::actor::Action;
use crate::codes::{
    Code, Education, Gender, Lang, Outcome, QualityOfLife, Referrer, StepProgress, Support,
    YearsInSupport,
};
use crate::error::{Error, Field};
use crate::identity::Personnummer;
use crate::model::{
    months_between, not_future, parse_birth_year, parse_date, parse_municipality, Enrolment,
    ExitFacts, Intervention, StartFacts,
};
use crate::register::{self, Edit, ExitInput, ExitTarget, Lookup, Participant, Person, StartInput};
use crate::store;

use super::app::Shared;
use super::csrf;
use super::forms::{choices, code_field, Choice, Errors, Form};
use super::i18n::{self, Texts};
use super::pages::{self, render, Frame};
use super::resume;
use super::session::SignedIn;

/// Days an exited enrolment stays on the intervention page.
const RECENT_DAYS: u32 = 90;

/// An enrolment as a table row or a detail page shows it.
pub struct Row {
    pub id: String,
    pub short: String,
    pub intervention: String,
    pub start: String,
    pub exit: String,
    pub gender: &'static str,
    pub birth_year: String,
    pub months: u32,
    pub outcome: String,
    pub identified: bool,
    pub municipality: String,
    pub support: String,
    pub years_in_support: String,
    pub education: String,
    pub referrer: String,
    pub support_after: String,
    pub step_progress: String,
    pub quality_of_life: String,
}

fn label<C: Code>(c: Option<C>, lang: Lang) -> String {
    c.map(|c| c.label(lang).to_string()).unwrap_or_default()
}

impl Row {
    pub fn of(e: &Enrolment, lang: Lang, today: NaiveDate) -> Row {
        Row {
            id: e.id.clone(),
            short: e.short_id().to_string(),
            intervention: e.intervention.clone(),
            start: e.start.to_string(),
            exit: e.exit.map(|d| d.to_string()).unwrap_or_default(),
            gender: e.gender.label(lang),
            birth_year: e.birth_year.map(|y| y.to_string()).unwrap_or_default(),
            months: months_between(e.start, e.exit.unwrap_or(today)),
            outcome: label(e.outcome, lang),
            identified: e.person_id.is_some(),
            municipality: e
                .facts
                .municipality
                .as_ref()
                .map(|m| m.label().to_string())
                .unwrap_or_default(),
            support: label(e.facts.support, lang),
            years_in_support: label(e.facts.years_in_support, lang),
            education: label(e.facts.education, lang),
            referrer: label(e.facts.referrer, lang),
            support_after: label(e.after.support_after, lang),
            step_progress: label(e.after.step_progress, lang),
            quality_of_life: label(e.after.quality_of_life, lang),
        }
    }
}

/// An enrolment id as a path segment: hex and dashes, or it cannot exist.
fn id_shape(id: &str) -> bool {
    (6..=36).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

#[derive(Deserialize, Default)]
pub struct Saved {
    saved: Option<String>,
}

fn saved_notice(t: &'static Texts, q: &Saved) -> Option<&'static str> {
    match q.saved.as_deref()? {
        "start" => Some(t.saved_start),
        "exit" => Some(t.saved_exit),
        "edit" => Some(t.saved_edit),
        "reopen" => Some(t.saved_reopen),
        "deleted" => Some(t.deleted),
        _ => None,
    }
}

// ---- Home ----

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
    interventions: Vec<Intervention>,
    sees_interventions: bool,
}

pub async fn home(State(app): State<Shared>, who: SignedIn, Query(q): Query<Saved>) -> Response {
    let actor = who.session.actor.clone();
    let sees = actor.may(Action::SeeInterventions) && actor.may(Action::ReadEnrolments);
    let list = if sees {
        match app
            .db(move |conn| register::interventions_for(conn, &actor))
            .await
        {
            Ok(l) => l,
            Err(e) => return pages::error(who.lang, &e),
        }
    } else {
        Vec::new()
    };
    let t = i18n::texts(who.lang);
    let frame = Frame::signed_in(&who, t.home, "/").with_notice(saved_notice(t, &q));
    render(
        StatusCode::OK,
        &HomePage {
            frame,
            interventions: list,
            sees_interventions: sees,
        },
    )
}

// ---- One intervention ----

#[derive(Template)]
#[template(path = "intervention.html")]
struct InterventionPage {
    frame: Frame,
    intervention: Intervention,
    open: Vec<Row>,
    exited: Vec<Row>,
    can_register: bool,
    /// More than `register::LIST_MAX` enrolments: the newest are shown.
    more: bool,
}

pub async fn intervention(
    State(app): State<Shared>,
    who: SignedIn,
    Path(code): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    if code.len() > 32 {
        return pages::not_found_page(who.lang);
    }
    let actor = who.session.actor.clone();
    let today = app.clock.today();
    let c = code.clone();
    let found = app
        .db(move |conn| {
            // The read is recorded (committed) before anything is shown.
            let list = store::write(conn, |tx| {
                register::list_enrolments(tx, &actor, &c, today, RECENT_DAYS)
            })?;
            let i = register::known_intervention(conn, &c)?;
            Ok((i, list))
        })
        .await;
    let (i, list) = match found {
        Ok(x) => x,
        Err(e) => return pages::error(who.lang, &e),
    };
    let more = list.len() > register::LIST_MAX;
    let (open, exited): (Vec<_>, Vec<_>) = list
        .iter()
        .take(register::LIST_MAX)
        .partition(|e| e.exit.is_none());
    let t = i18n::texts(who.lang);
    let can_register = who.session.actor.may_in(Action::Register, &i.code);
    let frame = Frame::signed_in(
        &who,
        format!("{} {}", i.code, i.name),
        &format!("/interventions/{}", i.code),
    )
    .with_notice(saved_notice(t, &q));
    render(
        StatusCode::OK,
        &InterventionPage {
            frame,
            open: open.iter().map(|e| Row::of(e, who.lang, today)).collect(),
            exited: exited.iter().map(|e| Row::of(e, who.lang, today)).collect(),
            more,
            intervention: i,
            can_register,
        },
    )
}

// ---- Start ----

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    frame: Frame,
    errors: Errors,
    form: Form,
    interventions: Vec<Choice>,
    gender: Vec<Choice>,
    support: Vec<Choice>,
    years_in_support: Vec<Choice>,
    education: Vec<Choice>,
    referrer: Vec<Choice>,
}

#[derive(Deserialize, Default)]
pub struct StartQuery {
    intervention: Option<String>,
}

/// The individual interventions the user may register in, as options.
async fn register_choices(
    app: &Shared,
    who: &SignedIn,
    current: &str,
) -> Result<Vec<Choice>, Error> {
    let actor = who.session.actor.clone();
    let list = app
        .db(move |conn| register::interventions_for(conn, &actor))
        .await?;
    let mut out = Vec::new();
    for i in list {
        if i.kind != crate::codes::InterventionKind::Individual
            || !who.session.actor.may_in(Action::Register, &i.code)
        {
            continue;
        }
        let selected = i.code.eq_ignore_ascii_case(current);
        out.push(Choice {
            label: format!("{} {}", i.code, i.name),
            value: i.code,
            selected,
        });
    }
    Ok(out)
}

async fn start_page(
    app: &Shared,
    who: &SignedIn,
    form: Form,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let lang = who.lang;
    let interventions = match register_choices(app, who, form.get("intervention")).await {
        Ok(c) => c,
        Err(e) => return pages::error(lang, &e),
    };
    let t = i18n::texts(lang);
    let page = StartPage {
        frame: Frame::signed_in(who, t.start_title, "/start"),
        interventions,
        gender: choices::<Gender>(lang, form.get("gender"), true),
        support: choices::<Support>(lang, form.get("support"), true),
        years_in_support: choices::<YearsInSupport>(lang, form.get("years_in_support"), true),
        education: choices::<Education>(lang, form.get("education"), true),
        referrer: choices::<Referrer>(lang, form.get("referrer"), true),
        errors,
        form,
    };
    render(status, &page)
}

pub async fn start_form(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    Query(q): Query<StartQuery>,
) -> Response {
    if !who.session.actor.may(Action::Register) {
        return pages::forbidden(who.lang);
    }
    if let Some(form) = resume::take(&app, &headers, "/start") {
        return start_page(&app, &who, form, Errors::new(), StatusCode::OK).await;
    }
    let mut pairs = Vec::new();
    if let Some(i) = q.intervention.filter(|i| i.len() <= 32) {
        pairs.push(("intervention".to_string(), i));
    }
    start_page(&app, &who, Form::with(pairs), Errors::new(), StatusCode::OK).await
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

fn date_field(
    form: &Form,
    name: &'static str,
    field: Field,
    today: NaiveDate,
    t: &Texts,
    lang: Lang,
    errors: &mut Errors,
) -> Option<NaiveDate> {
    let Some(v) = form.opt(name) else {
        missing(t, lang, name, errors);
        return None;
    };
    // The same checks the domain makes, made here too so every mistake in
    // the form is listed at once rather than one per attempt.
    match parse_date(v, field).and_then(|d| not_future(d, field, today).map(|()| d)) {
        Ok(d) => Some(d),
        Err(e) => {
            let _ = errors.domain(t, e);
            None
        }
    }
}

fn start_facts(form: &Form, t: &Texts, errors: &mut Errors) -> StartFacts {
    StartFacts {
        municipality: form
            .opt("municipality")
            .and_then(|m| match parse_municipality(m) {
                Ok(m) => Some(m),
                Err(e) => {
                    let _ = errors.domain(t, e);
                    None
                }
            }),
        support: code_field::<Support>(form, "support", t, errors),
        years_in_support: code_field::<YearsInSupport>(form, "years_in_support", t, errors),
        education: code_field::<Education>(form, "education", t, errors),
        referrer: code_field::<Referrer>(form, "referrer", t, errors),
    }
}

/// Map a domain error onto the form, or answer with its page.
fn refuse(errors: &mut Errors, t: &Texts, lang: Lang, e: Error) -> Option<Response> {
    errors
        .domain(t, e)
        .err()
        .map(|other| pages::error(lang, &other))
}

pub async fn start(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    mut form: Form,
) -> Response {
    let Ok(who) = who else {
        return resume::park(&app, "/start".into(), &form);
    };
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    let today = app.clock.today();
    let mut errors = Errors::new();
    let intervention = form.get("intervention").to_string();
    if intervention.is_empty() {
        missing(t, lang, "intervention", &mut errors);
    }
    let date = date_field(&form, "date", Field::Date, today, t, lang, &mut errors);
    let facts = start_facts(&form, t, &mut errors);
    let anonymous = form.checked("anonymous");
    let pnr = form.opt("pnr").map(str::to_string);
    let mut identity: Option<Personnummer> = None;
    let mut anonymous_participant = None;
    match (anonymous, &pnr) {
        (true, Some(_)) => errors.add(
            "pnr",
            lang.pick(
                "Personnummer ska lämnas tomt när deltagaren registreras anonymt",
                "Personnummer must be left empty when the participant is registered anonymously",
            ),
        ),
        (false, None) => errors.add(
            "pnr",
            lang.pick(
                "Personnummer saknas: skriv in det, eller kryssa i att deltagaren registreras anonymt",
                "Personnummer is missing: enter it, or tick that the participant is registered anonymously",
            ),
        ),
        (false, Some(p)) => {
            match Personnummer::parse(p, today) {
                Ok(n) => identity = Some(n),
                Err(e) => errors.add("pnr", format!("{} {e}", t.pnr)),
            }
            if !form.checked("consent") {
                errors.add(
                    "consent",
                    lang.pick(
                        "Samtycke krävs för att registrera med personnummer; utan samtycke, registrera deltagaren anonymt",
                        "Consent is required to register a personnummer; without it, register the participant anonymously",
                    ),
                );
            }
        }
        (true, None) => {
            let gender = code_field::<Gender>(&form, "gender", t, &mut errors);
            if gender.is_none() && errors.of("gender").is_none() {
                missing(t, lang, "gender", &mut errors);
            }
            let birth_year = form.opt("birth_year").and_then(|y| match parse_birth_year(y, today) {
                Ok(y) => Some(y),
                Err(e) => {
                    let _ = errors.domain(t, e);
                    None
                }
            });
            anonymous_participant = gender.map(|g| Participant::Anonymous {
                gender: g,
                birth_year,
                local_id: None,
            });
        }
    }
    if !errors.is_empty() {
        return start_page(&app, &who, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let date = date.expect("no errors: the date parsed");
    let actor = who.session.actor.clone();
    let consent = form.checked("consent");
    let kdf = app.store.kdf().clone();
    let input_intervention = intervention.clone();
    let result = app
        .hash(move |conn| {
            let participant = match (identity, anonymous_participant) {
                (Some(p), _) => Participant::Person(Person::identify(&p, &kdf, consent, today)?),
                (None, Some(a)) => a,
                (None, None) => return Err(Error::usage("no participant".into())),
            };
            let input = StartInput {
                intervention: input_intervention,
                participant,
                date,
                facts,
            };
            store::write(conn, |tx| register::start(tx, &actor, today, input))
        })
        .await;
    match result {
        Ok(e) => Redirect::to(&format!("/enrolments/{}?saved=start", e.id)).into_response(),
        Err(e) => match refuse(&mut errors, t, lang, e) {
            Some(page) => page,
            None => {
                // A valid number stays in its own field (SPEC 11) and
                // nowhere else; one the domain refused is not shown again.
                if errors.of("pnr").is_some() {
                    form.forget("pnr");
                }
                start_page(&app, &who, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        },
    }
}

// ---- One enrolment ----

#[derive(Template)]
#[template(path = "enrolment.html")]
struct EnrolmentPage {
    frame: Frame,
    e: Row,
    can_register: bool,
}

/// Show one enrolment (the read is audited by the domain).
async fn read_one(app: &Shared, who: &SignedIn, id: &str) -> Result<Enrolment, Response> {
    if !id_shape(id) {
        return Err(pages::not_found_page(who.lang));
    }
    let actor = who.session.actor.clone();
    let lookup = Lookup::Id(id.to_string());
    match app
        .db(move |conn| store::write(conn, |tx| register::show(tx, &actor, &lookup)))
        .await
    {
        Ok(mut list) if list.len() == 1 => Ok(list.remove(0)),
        Ok(_) => Err(pages::not_found_page(who.lang)),
        Err(e) => Err(pages::error(who.lang, &e)),
    }
}

pub async fn enrolment(
    State(app): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    let e = match read_one(&app, &who, &id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    let t = i18n::texts(who.lang);
    let can_register = who.session.actor.may_in(Action::Register, &e.intervention);
    let frame = Frame::signed_in(
        &who,
        format!("{} {}", t.enrolment, e.short_id()),
        &format!("/enrolments/{}", e.id),
    )
    .with_notice(saved_notice(t, &q));
    render(
        StatusCode::OK,
        &EnrolmentPage {
            frame,
            e: Row::of(&e, who.lang, app.clock.today()),
            can_register,
        },
    )
}

// ---- Exit ----

#[derive(Template)]
#[template(path = "exit.html")]
struct ExitPage {
    frame: Frame,
    errors: Errors,
    form: Form,
    e: Row,
    outcome: Vec<Choice>,
    support_after: Vec<Choice>,
    step_progress: Vec<Choice>,
    quality_of_life: Vec<Choice>,
}

fn exit_page(
    who: &SignedIn,
    e: &Enrolment,
    today: NaiveDate,
    form: Form,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let lang = who.lang;
    let t = i18n::texts(lang);
    let page = ExitPage {
        frame: Frame::signed_in(who, t.exit_title, &format!("/enrolments/{}/exit", e.id)),
        e: Row::of(e, lang, today),
        outcome: choices::<Outcome>(lang, form.get("outcome"), true),
        support_after: choices::<Support>(lang, form.get("support_after"), true),
        step_progress: choices::<StepProgress>(lang, form.get("step_progress"), true),
        quality_of_life: choices::<QualityOfLife>(lang, form.get("quality_of_life"), true),
        errors,
        form,
    };
    render(status, &page)
}

pub async fn exit_form(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let e = match read_one(&app, &who, &id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    if !who.session.actor.may_in(Action::Register, &e.intervention) {
        return pages::forbidden(who.lang);
    }
    let form = resume::take(&app, &headers, &format!("/enrolments/{id}/exit"));
    exit_page(
        &who,
        &e,
        app.clock.today(),
        form.unwrap_or_else(Form::empty),
        Errors::new(),
        StatusCode::OK,
    )
}

pub async fn exit(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    form: Form,
) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(_) if id_shape(form.get("enrolment")) => {
            return resume::park(
                &app,
                format!("/enrolments/{}/exit", form.get("enrolment")),
                &form,
            )
        }
        Err(res) => return res,
    };
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    let today = app.clock.today();
    let id = form.get("enrolment").to_string();
    let e = match read_one(&app, &who, &id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    if !who.session.actor.may_in(Action::Register, &e.intervention) {
        return pages::forbidden(lang);
    }
    let mut errors = Errors::new();
    let date = date_field(&form, "date", Field::Date, today, t, lang, &mut errors);
    let outcome = code_field::<Outcome>(&form, "outcome", t, &mut errors);
    if outcome.is_none() && errors.of("outcome").is_none() {
        missing(t, lang, "outcome", &mut errors);
    }
    let after = ExitFacts {
        support_after: code_field::<Support>(&form, "support_after", t, &mut errors),
        step_progress: code_field::<StepProgress>(&form, "step_progress", t, &mut errors),
        quality_of_life: code_field::<QualityOfLife>(&form, "quality_of_life", t, &mut errors),
    };
    if !errors.is_empty() {
        return exit_page(
            &who,
            &e,
            today,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let input = ExitInput {
        date: date.expect("parsed"),
        outcome: outcome.expect("parsed"),
        after,
    };
    let actor = who.session.actor.clone();
    let target = ExitTarget::Id(e.id.clone());
    match app
        .db(move |conn| store::write(conn, |tx| register::exit(tx, &actor, today, &target, input)))
        .await
    {
        Ok(x) => Redirect::to(&format!("/enrolments/{}?saved=exit", x.id)).into_response(),
        Err(err) => match refuse(&mut errors, t, lang, err) {
            Some(page) => page,
            None => exit_page(
                &who,
                &e,
                today,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        },
    }
}

// ---- Edit ----

#[derive(Template)]
#[template(path = "edit.html")]
struct EditPage {
    frame: Frame,
    errors: Errors,
    form: Form,
    e: Row,
    exited: bool,
    interventions: Vec<Choice>,
    gender: Vec<Choice>,
    support: Vec<Choice>,
    years_in_support: Vec<Choice>,
    education: Vec<Choice>,
    referrer: Vec<Choice>,
    outcome: Vec<Choice>,
    support_after: Vec<Choice>,
    step_progress: Vec<Choice>,
    quality_of_life: Vec<Choice>,
}

/// The form as it is first shown: the stored values.
fn form_of(e: &Enrolment) -> Form {
    let code = |c: Option<&'static str>| c.unwrap_or("").to_string();
    let pairs = vec![
        ("intervention", e.intervention.clone()),
        ("start_date", e.start.to_string()),
        (
            "exit_date",
            e.exit.map(|d| d.to_string()).unwrap_or_default(),
        ),
        ("outcome", code(e.outcome.map(|c| c.code()))),
        ("gender", e.gender.code().to_string()),
        (
            "birth_year",
            e.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        ),
        (
            "municipality",
            e.facts
                .municipality
                .as_ref()
                .map(|m| m.label().to_string())
                .unwrap_or_default(),
        ),
        ("support", code(e.facts.support.map(|c| c.code()))),
        (
            "years_in_support",
            code(e.facts.years_in_support.map(|c| c.code())),
        ),
        ("education", code(e.facts.education.map(|c| c.code()))),
        ("referrer", code(e.facts.referrer.map(|c| c.code()))),
        (
            "support_after",
            code(e.after.support_after.map(|c| c.code())),
        ),
        (
            "step_progress",
            code(e.after.step_progress.map(|c| c.code())),
        ),
        (
            "quality_of_life",
            code(e.after.quality_of_life.map(|c| c.code())),
        ),
    ];
    Form::with(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

async fn edit_page(
    app: &Shared,
    who: &SignedIn,
    e: &Enrolment,
    form: Form,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let lang = who.lang;
    let t = i18n::texts(lang);
    let interventions = match register_choices(app, who, form.get("intervention")).await {
        Ok(c) => c,
        Err(err) => return pages::error(lang, &err),
    };
    let page = EditPage {
        frame: Frame::signed_in(who, t.edit_title, &format!("/enrolments/{}/edit", e.id)),
        e: Row::of(e, lang, app.clock.today()),
        exited: e.exit.is_some(),
        interventions,
        gender: choices::<Gender>(lang, form.get("gender"), false),
        support: choices::<Support>(lang, form.get("support"), true),
        years_in_support: choices::<YearsInSupport>(lang, form.get("years_in_support"), true),
        education: choices::<Education>(lang, form.get("education"), true),
        referrer: choices::<Referrer>(lang, form.get("referrer"), true),
        outcome: choices::<Outcome>(lang, form.get("outcome"), false),
        support_after: choices::<Support>(lang, form.get("support_after"), true),
        step_progress: choices::<StepProgress>(lang, form.get("step_progress"), true),
        quality_of_life: choices::<QualityOfLife>(lang, form.get("quality_of_life"), true),
        errors,
        form,
    };
    render(status, &page)
}

pub async fn edit_form(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let e = match read_one(&app, &who, &id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    if !who.session.actor.may_in(Action::Register, &e.intervention) {
        return pages::forbidden(who.lang);
    }
    let form = resume::take(&app, &headers, &format!("/enrolments/{id}/edit"));
    let form = form.unwrap_or_else(|| form_of(&e));
    edit_page(&app, &who, &e, form, Errors::new(), StatusCode::OK).await
}

/// An optional code field as an edit: unchanged → None; emptied → Some(None).
fn edit_code<C: Code>(
    form: &Form,
    before: &Form,
    name: &'static str,
    t: &Texts,
    errors: &mut Errors,
) -> Option<Option<C>> {
    if form.get(name) == before.get(name) {
        return None;
    }
    Some(code_field::<C>(form, name, t, errors))
}

pub async fn edit(
    State(app): State<Shared>,
    who: Result<SignedIn, Response>,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    let who = match who {
        Ok(w) => w,
        Err(_) if id_shape(&id) => {
            return resume::park(&app, format!("/enrolments/{id}/edit"), &form)
        }
        Err(res) => return res,
    };
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    let today = app.clock.today();
    let e = match read_one(&app, &who, &id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    if !who.session.actor.may_in(Action::Register, &e.intervention) {
        return pages::forbidden(lang);
    }
    let before = form_of(&e);
    let changed = |name: &str| form.get(name) != before.get(name);
    let mut errors = Errors::new();
    let mut edit = Edit::default();
    if changed("intervention") {
        edit.intervention = Some(form.get("intervention").to_string());
    }
    if changed("start_date") {
        edit.start = date_field(
            &form,
            "start_date",
            Field::StartDate,
            today,
            t,
            lang,
            &mut errors,
        );
    }
    if e.exit.is_some() {
        if changed("exit_date") {
            edit.exit = date_field(
                &form,
                "exit_date",
                Field::ExitDate,
                today,
                t,
                lang,
                &mut errors,
            );
        }
        if changed("outcome") {
            edit.outcome = code_field::<Outcome>(&form, "outcome", t, &mut errors);
        }
        edit.support_after = edit_code(&form, &before, "support_after", t, &mut errors);
        edit.step_progress = edit_code(&form, &before, "step_progress", t, &mut errors);
        edit.quality_of_life = edit_code(&form, &before, "quality_of_life", t, &mut errors);
    }
    if e.person_id.is_none() {
        // Gender and birth year of an identified person come from the
        // personnummer and are not edited here.
        if changed("gender") {
            edit.gender = code_field::<Gender>(&form, "gender", t, &mut errors);
        }
        if changed("birth_year") {
            edit.birth_year =
                Some(
                    form.opt("birth_year")
                        .and_then(|y| match parse_birth_year(y, today) {
                            Ok(y) => Some(y),
                            Err(err) => {
                                let _ = errors.domain(t, err);
                                None
                            }
                        }),
                );
        }
    }
    if changed("municipality") {
        edit.municipality =
            Some(
                form.opt("municipality")
                    .and_then(|m| match parse_municipality(m) {
                        Ok(m) => Some(m),
                        Err(err) => {
                            let _ = errors.domain(t, err);
                            None
                        }
                    }),
            );
    }
    edit.support = edit_code(&form, &before, "support", t, &mut errors);
    edit.years_in_support = edit_code(&form, &before, "years_in_support", t, &mut errors);
    edit.education = edit_code(&form, &before, "education", t, &mut errors);
    edit.referrer = edit_code(&form, &before, "referrer", t, &mut errors);
    if errors.is_empty() && edit.fields().is_empty() {
        errors.add(
            "",
            lang.pick(
                "Inget är ändrat: ändra minst ett fält, eller avbryt.",
                "Nothing changed: change at least one field, or cancel.",
            ),
        );
    }
    if !errors.is_empty() {
        return edit_page(
            &app,
            &who,
            &e,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let actor = who.session.actor.clone();
    let eid = e.id.clone();
    match app
        .db(move |conn| store::write(conn, |tx| register::edit(tx, &actor, today, &eid, edit)))
        .await
    {
        Ok(x) => Redirect::to(&format!("/enrolments/{}?saved=edit", x.id)).into_response(),
        Err(err) => match refuse(&mut errors, t, lang, err) {
            Some(page) => page,
            None => {
                edit_page(
                    &app,
                    &who,
                    &e,
                    form,
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        },
    }
}

// ---- Reopen and delete ----

pub async fn reopen(
    State(app): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    if !id_shape(&id) {
        return pages::not_found_page(who.lang);
    }
    let actor = who.session.actor.clone();
    match app
        .db(move |conn| store::write(conn, |tx| register::reopen(tx, &actor, &id)))
        .await
    {
        Ok(e) => Redirect::to(&format!("/enrolments/{}?saved=reopen", e.id)).into_response(),
        Err(e) => pages::error(who.lang, &e),
    }
}

#[derive(Template)]
#[template(path = "delete.html")]
struct DeletePage {
    frame: Frame,
    e: Row,
}

pub async fn delete_form(
    State(app): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
) -> Response {
    let e = match read_one(&app, &who, &id).await {
        Ok(e) => e,
        Err(page) => return page,
    };
    if !who.session.actor.may_in(Action::Register, &e.intervention) {
        return pages::forbidden(who.lang);
    }
    let t = i18n::texts(who.lang);
    render(
        StatusCode::OK,
        &DeletePage {
            frame: Frame::signed_in(
                &who,
                t.delete_title,
                &format!("/enrolments/{}/delete", e.id),
            ),
            e: Row::of(&e, who.lang, app.clock.today()),
        },
    )
}

pub async fn delete(
    State(app): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Form,
) -> Response {
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    if !id_shape(&id) {
        return pages::not_found_page(who.lang);
    }
    let actor = who.session.actor.clone();
    match app
        .db(move |conn| store::write(conn, |tx| register::delete(tx, &actor, &id)))
        .await
    {
        Ok(d) => Redirect::to(&format!(
            "/interventions/{}?saved=deleted",
            d.enrolment.intervention
        ))
        .into_response(),
        Err(e) => pages::error(who.lang, &e),
    }
}

// ---- Find by personnummer ----

#[derive(Template)]
#[template(path = "find.html")]
struct FindPage {
    frame: Frame,
    errors: Errors,
    form: Form,
    searched: bool,
    found: Vec<Row>,
}

fn find_page(
    who: &SignedIn,
    form: Form,
    errors: Errors,
    searched: bool,
    found: Vec<Row>,
    status: StatusCode,
) -> Response {
    let t = i18n::texts(who.lang);
    render(
        status,
        &FindPage {
            frame: Frame::signed_in(who, t.find_title, "/find"),
            errors,
            form,
            searched,
            found,
        },
    )
}

pub async fn find_form(who: SignedIn) -> Response {
    if !who.session.actor.may(Action::Register) {
        return pages::forbidden(who.lang);
    }
    find_page(
        &who,
        Form::empty(),
        Errors::new(),
        false,
        Vec::new(),
        StatusCode::OK,
    )
}

pub async fn find(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(who.lang);
    }
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !who.session.actor.may(Action::Register) {
        return pages::forbidden(lang);
    }
    let today = app.clock.today();
    let mut errors = Errors::new();
    let pnr = match form.opt("pnr").map(|p| Personnummer::parse(p, today)) {
        None => {
            missing(t, lang, "pnr", &mut errors);
            None
        }
        Some(Err(e)) => {
            errors.add("pnr", format!("{} {e}", t.pnr));
            None
        }
        Some(Ok(p)) => Some(p),
    };
    let Some(pnr) = pnr else {
        return find_page(
            &who,
            form,
            errors,
            false,
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let actor = who.session.actor.clone();
    let kdf = app.store.kdf().clone();
    let found = app
        .hash(move |conn| {
            let fp = pnr.fingerprint(&kdf);
            store::write(conn, |tx| register::find(tx, &actor, &fp))
        })
        .await;
    let rows = match found {
        Ok(list) => list.iter().map(|e| Row::of(e, lang, today)).collect(),
        Err(e) => return pages::error(lang, &e),
    };
    // The number is not shown again: the result is about the person.
    let mut form = form;
    form.forget("pnr");
    find_page(&who, form, errors, true, rows, StatusCode::OK)
}
