//! The rules of registration: start, exit, edit, reopen, delete, erase,
//! volume, interventions; and the reads that show registered data (show,
//! log, backup), each recorded in the audit trail.
//!
//! The CLI, the import and (later) the web server all come here, so there
//! is one copy of each rule: consent, every range (dates not in the future,
//! not before the participant's birth, birth years, targets, names), the
//! overlap rule. Input is typed; errors name the domain [`Field`] that was
//! wrong (never a CLI flag), and a missing thing is `NotFound`, a clash
//! with what is stored `Conflict`. Every function takes the open write
//! transaction; if it returns an error the caller drops the transaction and
//! nothing is written. Each change, and each read that shows data, is
//! recorded in the audit trail in the same transaction, with the names of
//! the fields it set and never their values (`store::audit`).
//!
//! Every function asks the [`Actor`] first (SPEC section 11's role table,
//! [`Actor::scope`]): a role without the action is `Forbidden` before
//! anything is read; an enrolment, person or intervention outside the
//! actor's interventions does not exist for them, and is answered with the
//! very `NotFound` text an unknown one gets (a 404, never a 403), so
//! neither the answer nor its wording tells that it exists elsewhere.
//!
//! Participants arrive as a [`Person`] (built here from a personnummer and
//! the consent, then reduced to a fingerprint, gender and birth year) or
//! anonymous. No personnummer is stored or kept by this module.

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use rusqlite::Connection;

use crate::actor::{Action, Actor, Scope};
use crate::codes::Code as _;
use crate::codes::{Gender, InterventionKind, Outcome};
use crate::error::{Error, Field, Result};
use crate::identity::{Fingerprint, Kdf, Personnummer};
use crate::model::{
    check_birth_year, check_target, not_future, parse_intervention_code, parse_intervention_name,
    shown_text, Enrolment, ExitFacts, Intervention, StartFacts,
};
use crate::store::audit::{self, AuditEntry};
use crate::store::enrolments::{self as store, ParticipantKey};
use crate::store::{interventions, volume};

/// A participant identified by personnummer who has given written consent.
/// Only [`Person::identify`] and [`Person::new`] make one, and both refuse
/// without consent: a registration with a personnummer cannot skip it.
#[derive(Debug, Clone)]
pub struct Person {
    fingerprint: Fingerprint,
    gender: Gender,
    birth_date: NaiveDate,
    consent_date: NaiveDate,
}

impl Person {
    /// Reduce a personnummer to what is stored, with the consent given
    /// `today`. Consent is checked before the (slow) fingerprint.
    pub fn identify(
        pnr: &Personnummer,
        kdf: &Kdf,
        consent: bool,
        today: NaiveDate,
    ) -> Result<Person> {
        require_consent(consent)?;
        Person::new(
            pnr.fingerprint(kdf),
            pnr.gender(),
            pnr.birth_date(),
            consent,
            today,
        )
    }

    /// A person whose fingerprint was computed elsewhere (an import hashes a
    /// file's numbers in parallel). `birth_date` is the personnummer's.
    pub fn new(
        fingerprint: Fingerprint,
        gender: Gender,
        birth_date: NaiveDate,
        consent: bool,
        today: NaiveDate,
    ) -> Result<Person> {
        require_consent(consent)?;
        Ok(Person {
            fingerprint,
            gender,
            birth_date,
            consent_date: today,
        })
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    pub fn gender(&self) -> Gender {
        self.gender
    }

    pub fn birth_year(&self) -> i32 {
        self.birth_date.year()
    }

    pub fn consent_date(&self) -> NaiveDate {
        self.consent_date
    }
}

fn require_consent(consent: bool) -> Result<()> {
    if consent {
        return Ok(());
    }
    Err(Error::invalid(
        Field::Consent,
        "is required to register a personnummer (the participant's written consent); \
         without it register the participant anonymously",
    ))
}

/// Who a registration is about.
#[derive(Debug, Clone)]
pub enum Participant {
    /// Identified by personnummer, with written consent.
    Person(Person),
    /// Counted but never matched across enrolments; `local_id` (from imports)
    /// matches a start to its exit.
    Anonymous {
        gender: Gender,
        birth_year: Option<i32>,
        local_id: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct StartInput {
    pub intervention: String,
    pub participant: Participant,
    pub date: NaiveDate,
    pub facts: StartFacts,
}

#[derive(Debug, Clone)]
pub struct ExitInput {
    pub date: NaiveDate,
    pub outcome: Outcome,
    pub after: ExitFacts,
}

/// Which enrolment an exit is about.
#[derive(Debug, Clone)]
pub enum ExitTarget {
    Id(String),
    Person {
        fingerprint: Fingerprint,
        intervention: String,
    },
    Local {
        local_id: String,
        intervention: String,
    },
}

/// What `show` looks up.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Every enrolment of a person.
    Person(Fingerprint),
    /// One enrolment, by id or unique prefix.
    Id(String),
}

/// The interventions `action` reaches for `actor`; `Forbidden` when none
/// of the actor's roles allows the action at all.
pub fn require(actor: &Actor, action: Action) -> Result<Scope> {
    actor.scope(action).ok_or_else(|| {
        Error::Forbidden(format!(
            "your role does not allow {}",
            match action {
                Action::Register =>
                    "registering participants (starts, exits, corrections, look-ups by personnummer, erasure): \
                     that is for the staff of the intervention",
                Action::ReadEnrolments => "seeing enrolments",
                Action::Report => "reports",
                Action::Export => "the evaluator export",
                Action::SeeInterventions => "seeing the interventions",
                Action::ManageInterventions => "adding or changing interventions and head counts",
                Action::ManageUsers => "managing users",
                Action::ReadAudit => "reading the audit trail",
                Action::Backup => "backups",
                Action::Publish => "publishing, retention (purge) and the data-quality list: that is for the coordinators",
                Action::Beyond => "activities and referrals: that is for the staff of the intervention and the coordinators",
                Action::Budget => "budgets and costs: that is for the coordinators",
            }
        ))
    })
}

/// Find an intervention that takes individual enrolments.
pub fn individual_intervention(conn: &Connection, code: &str) -> Result<Intervention> {
    individual(known_intervention(conn, code)?)
}

/// An intervention that `action` reaches for `actor`, by code.
pub fn intervention_for(
    conn: &Connection,
    actor: &Actor,
    action: Action,
    code: &str,
) -> Result<Intervention> {
    intervention_in(conn, &require(actor, action)?, code)
}

/// Refuse a volume or structural intervention where enrolments are meant.
fn individual(i: Intervention) -> Result<Intervention> {
    let what = match i.kind {
        InterventionKind::Individual => return Ok(i),
        InterventionKind::Volume => "a volume intervention: register head counts for it",
        InterventionKind::Structural => {
            "a structural intervention, which takes only activities: register activities for it"
        }
    };
    Err(Error::invalid(
        Field::Intervention,
        format!("'{}' is {what}, not enrolments", i.code),
    ))
}

/// Find an intervention by code; an unknown code is answered with the
/// nearest known ones (or all of them, when there are few).
pub fn known_intervention(conn: &Connection, code: &str) -> Result<Intervention> {
    intervention_in(conn, &Scope::All, code)
}

/// Find an intervention by code among those `scope` reaches. One outside
/// it is unknown, in the same words, and only codes inside it are suggested.
pub fn intervention_in(conn: &Connection, scope: &Scope, code: &str) -> Result<Intervention> {
    let code = code.trim().to_ascii_uppercase();
    match interventions::get(conn, &code)?.filter(|i| scope.covers(&i.code)) {
        Some(i) => Ok(i),
        None => Err(unknown_intervention(conn, scope, &code)?),
    }
}

/// The `NotFound` for a code that is unknown, or outside `scope`: the same
/// words either way, suggesting only codes inside `scope`.
pub fn unknown_intervention(conn: &Connection, scope: &Scope, code: &str) -> Result<Error> {
    let code = code.trim().to_ascii_uppercase();
    let mut known = interventions::codes(conn)?;
    known.retain(|c| scope.covers(c));
    let hint = match scope {
        Scope::Only(_) if known.is_empty() => "no intervention is granted to you".to_string(),
        _ => suggest(&code, &known),
    };
    Ok(Error::NotFound(format!(
        "unknown intervention '{}': {hint}",
        shown_text(&code)
    )))
}

/// A person by fingerprint, when `scope` reaches at least one of their
/// enrolments: for a scoped actor a person enrolled only elsewhere is as
/// unknown as one never registered.
pub(crate) fn person_in(conn: &Connection, fp: &Fingerprint, scope: &Scope) -> Result<Option<i64>> {
    let Some(id) = store::find_person(conn, fp)? else {
        return Ok(None);
    };
    let seen = match scope {
        Scope::All => true,
        Scope::Only(_) => store::of_person(conn, id)?
            .iter()
            .any(|e| scope.covers(&e.intervention)),
    };
    Ok(seen.then_some(id))
}

fn unknown_person() -> Error {
    Error::NotFound("no person with that personnummer is registered".into())
}

/// At most this many codes are listed in full.
const FEW: usize = 6;

/// What to say about an unknown code given the known ones.
fn suggest(code: &str, known: &[String]) -> String {
    if known.is_empty() {
        return "no interventions exist yet; add one first".into();
    }
    if known.len() <= FEW {
        return format!("known are {}", known.join(", "));
    }
    let scored: Vec<(usize, &String)> = known.iter().map(|k| (distance(code, k), k)).collect();
    let best = scored.iter().map(|(d, _)| *d).min().unwrap_or(usize::MAX);
    // Close means a typo or two: a third of the code's length, at least 2.
    if best > (code.chars().count() / 3).max(2) {
        return format!(
            "no known code is close to it ({} interventions exist; list them to choose)",
            known.len()
        );
    }
    let near: Vec<&str> = scored
        .iter()
        .filter(|(d, _)| *d == best)
        .take(3)
        .map(|(_, k)| k.as_str())
        .collect();
    format!("did you mean {}?", near.join(" or "))
}

/// Levenshtein distance by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// Refuse an interval that overlaps another enrolment of the same participant
/// in the same intervention.
fn check_no_overlap(
    others: &[Enrolment],
    skip_id: &str,
    start: NaiveDate,
    exit: Option<NaiveDate>,
) -> Result<()> {
    let end = exit.unwrap_or(NaiveDate::MAX);
    for e in others.iter().filter(|e| e.id != skip_id) {
        let e_end = e.exit.unwrap_or(NaiveDate::MAX);
        if e.start <= end && start <= e_end {
            return Err(Error::Conflict(match e.exit {
                None => format!(
                    "the participant already has an open enrolment {} in {} since {}; register its exit first",
                    e.short_id(),
                    e.intervention,
                    e.start
                ),
                Some(x) => format!(
                    "the dates overlap enrolment {} of the same participant in {} ({} to {}); a new enrolment must start after the previous exit",
                    e.short_id(),
                    e.intervention,
                    e.start,
                    x
                ),
            }));
        }
    }
    Ok(())
}

/// The other enrolments of `e`'s participant in `e`'s intervention.
fn siblings(conn: &Connection, e: &Enrolment) -> Result<Vec<Enrolment>> {
    match (e.person_id, &e.local_id) {
        (Some(p), _) => store::of_participant(conn, ParticipantKey::Person(p), &e.intervention),
        (None, Some(l)) => store::of_participant(conn, ParticipantKey::Local(l), &e.intervention),
        (None, None) => Ok(Vec::new()),
    }
}

/// A start (or a corrected start) before the birth year is refused.
fn not_before_birth_year(start: NaiveDate, birth_year: Option<i32>, field: Field) -> Result<()> {
    match birth_year {
        Some(by) if start.year() < by => Err(Error::invalid(
            field,
            format!("{start} is before the participant's birth year {by}"),
        )),
        _ => Ok(()),
    }
}

/// A local id (the team's own code for an anonymous participant): short,
/// plain, and never anything that could hold a personnummer.
fn check_local_id(l: &str) -> Result<()> {
    let plain = !l.is_empty()
        && l.chars().count() <= 40
        && l.chars()
            .all(|ch| ch.is_alphanumeric() || "-_./".contains(ch));
    if !plain {
        return Err(Error::invalid(
            Field::LocalId,
            "must have at most 40 letters, digits, '-', '_', '.' or '/'",
        ));
    }
    if crate::identity::could_hold_pnr(l) {
        return Err(Error::invalid(
            Field::LocalId,
            "must not hold ten or more digits (it could be a personnummer); use the team's own short code",
        ));
    }
    Ok(())
}

/// The names of the start fields a new enrolment sets, for the audit trail.
fn start_fields(e: &Enrolment) -> String {
    let mut f = vec![Field::Intervention, Field::StartDate, Field::Gender];
    let set = [
        (e.birth_year.is_some(), Field::BirthYear),
        (e.facts.municipality.is_some(), Field::Municipality),
        (e.facts.support.is_some(), Field::Support),
        (e.facts.years_in_support.is_some(), Field::YearsInSupport),
        (e.facts.education.is_some(), Field::Education),
        (e.facts.referrer.is_some(), Field::Referrer),
    ];
    f.extend(set.iter().filter(|(on, _)| *on).map(|(_, f)| *f));
    names(&f)
}

fn exit_fields(after: &ExitFacts) -> String {
    let mut f = vec![Field::ExitDate, Field::Outcome];
    let set = [
        (after.support_after.is_some(), Field::SupportAfter),
        (after.step_progress.is_some(), Field::StepProgress),
        (after.quality_of_life.is_some(), Field::QualityOfLife),
    ];
    f.extend(set.iter().filter(|(on, _)| *on).map(|(_, f)| *f));
    names(&f)
}

fn names(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Register a start; returns the new enrolment.
pub fn start(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    input: StartInput,
) -> Result<Enrolment> {
    let intervention = individual(intervention_for(
        conn,
        actor,
        Action::Register,
        &input.intervention,
    )?)?;
    not_future(input.date, Field::Date, today)?;
    // Every check comes before the first write, so a refused start leaves
    // nothing behind (the import relies on this).
    let (known_person, new_person, local_id, gender, birth_year) = match input.participant {
        Participant::Person(p) => {
            if input.date < p.birth_date {
                // The birth date itself is not repeated: it is part of the number.
                return Err(Error::invalid(
                    Field::Date,
                    format!(
                        "{} is before the participant's birth date (from the personnummer)",
                        input.date
                    ),
                ));
            }
            let (gender, birth_year) = (p.gender, p.birth_year());
            match store::find_person(conn, &p.fingerprint)? {
                Some(id) => (Some(id), None, None, gender, Some(birth_year)),
                None => (None, Some(p), None, gender, Some(birth_year)),
            }
        }
        Participant::Anonymous {
            gender,
            birth_year,
            local_id,
        } => {
            if let Some(by) = birth_year {
                check_birth_year(by, today)?;
            }
            if let Some(l) = &local_id {
                check_local_id(l)?;
            }
            (None, None, local_id, gender, birth_year)
        }
    };
    not_before_birth_year(input.date, birth_year, Field::Date)?;
    let mut e = Enrolment {
        id: uuid::Uuid::new_v4().to_string(),
        intervention: intervention.code,
        person_id: known_person,
        local_id,
        gender,
        birth_year,
        start: input.date,
        exit: None,
        facts: input.facts,
        outcome: None,
        after: ExitFacts::default(),
    };
    // A person seen for the first time has no other enrolments to overlap.
    check_no_overlap(&siblings(conn, &e)?, &e.id, e.start, None)?;
    if let Some(p) = new_person {
        e.person_id = Some(store::insert_person(
            conn,
            &p.fingerprint,
            p.gender,
            p.birth_year(),
            p.consent_date,
        )?);
    }
    store::insert(conn, &e)?;
    audit::record(conn, actor, "start", Some(&e.id), Some(&start_fields(&e)))?;
    Ok(e)
}

/// Find the enrolment an exit (or a lookup) is about, among those the
/// actor may register in.
pub fn find_target(conn: &Connection, actor: &Actor, target: &ExitTarget) -> Result<Enrolment> {
    let scope = require(actor, Action::Register)?;
    let (key, intervention, who) = match target {
        ExitTarget::Id(prefix) => return store::resolve_prefix(conn, prefix, &scope),
        ExitTarget::Person {
            fingerprint,
            intervention,
        } => {
            let id = person_in(conn, fingerprint, &scope)?.ok_or_else(unknown_person)?;
            (
                ParticipantKey::Person(id),
                intervention,
                "the person".to_string(),
            )
        }
        ExitTarget::Local {
            local_id,
            intervention,
        } => (
            ParticipantKey::Local(local_id),
            intervention,
            format!("local id '{}'", shown_text(local_id)),
        ),
    };
    let intervention = intervention_in(conn, &scope, intervention)?;
    let all = store::of_participant(conn, key, &intervention.code)?;
    if let Some(open) = all.iter().find(|e| e.exit.is_none()) {
        return Ok(open.clone());
    }
    Err(match all.last() {
        Some(last) => Error::Conflict(format!(
            "{who} has no open enrolment in {}: the last one ({}) already exited on {}",
            intervention.code,
            last.short_id(),
            last.exit.map(|d| d.to_string()).unwrap_or_default()
        )),
        None => Error::NotFound(format!("{who} has no enrolment in {}", intervention.code)),
    })
}

/// Register an exit; returns the updated enrolment.
pub fn exit(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    target: &ExitTarget,
    input: ExitInput,
) -> Result<Enrolment> {
    let mut e = find_target(conn, actor, target)?;
    if let Some(x) = e.exit {
        return Err(Error::Conflict(format!(
            "enrolment {} already exited on {x}; correct the exit with an edit, or reopen the enrolment to undo it",
            e.short_id()
        )));
    }
    not_future(input.date, Field::Date, today)?;
    if input.date < e.start {
        return Err(Error::invalid(
            Field::Date,
            format!(
                "{} is before the start date {} of enrolment {}",
                input.date,
                e.start,
                e.short_id()
            ),
        ));
    }
    e.exit = Some(input.date);
    e.outcome = Some(input.outcome);
    e.after = input.after;
    store::update(conn, &e)?;
    audit::record(
        conn,
        actor,
        "exit",
        Some(&e.id),
        Some(&exit_fields(&e.after)),
    )?;
    Ok(e)
}

/// A correction: every field that is `Some` replaces the stored value.
/// `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// Move the enrolment to another intervention (same rules as a start there).
    pub intervention: Option<String>,
    pub start: Option<NaiveDate>,
    pub exit: Option<NaiveDate>,
    pub outcome: Option<Outcome>,
    pub gender: Option<Gender>,
    pub birth_year: Option<Option<i32>>,
    pub municipality: Option<Option<crate::model::Municipality>>,
    pub support: Option<Option<crate::codes::Support>>,
    pub years_in_support: Option<Option<crate::codes::YearsInSupport>>,
    pub education: Option<Option<crate::codes::Education>>,
    pub referrer: Option<Option<crate::codes::Referrer>>,
    pub support_after: Option<Option<crate::codes::Support>>,
    pub step_progress: Option<Option<crate::codes::StepProgress>>,
    pub quality_of_life: Option<Option<crate::codes::QualityOfLife>>,
}

impl Edit {
    /// The fields this edit sets, as the audit trail names them.
    pub fn fields(&self) -> Vec<Field> {
        let set = [
            (self.intervention.is_some(), Field::Intervention),
            (self.start.is_some(), Field::StartDate),
            (self.exit.is_some(), Field::ExitDate),
            (self.outcome.is_some(), Field::Outcome),
            (self.gender.is_some(), Field::Gender),
            (self.birth_year.is_some(), Field::BirthYear),
            (self.municipality.is_some(), Field::Municipality),
            (self.support.is_some(), Field::Support),
            (self.years_in_support.is_some(), Field::YearsInSupport),
            (self.education.is_some(), Field::Education),
            (self.referrer.is_some(), Field::Referrer),
            (self.support_after.is_some(), Field::SupportAfter),
            (self.step_progress.is_some(), Field::StepProgress),
            (self.quality_of_life.is_some(), Field::QualityOfLife),
        ];
        set.iter().filter(|(on, _)| *on).map(|(_, f)| *f).collect()
    }
}

pub fn edit(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    prefix: &str,
    edit: Edit,
) -> Result<Enrolment> {
    let scope = require(actor, Action::Register)?;
    let mut e = store::resolve_prefix(conn, prefix, &scope)?;
    let fields = edit.fields();
    if fields.is_empty() {
        return Err(Error::usage(
            "nothing to change: give at least one field to correct, e.g. the start date, exit date, outcome or municipality".into(),
        ));
    }
    if e.person_id.is_some() {
        for (given, field) in [
            (edit.gender.is_some(), Field::Gender),
            (edit.birth_year.is_some(), Field::BirthYear),
        ] {
            if given {
                return Err(Error::invalid(
                    field,
                    "of an identified participant comes from the personnummer and cannot be edited",
                ));
            }
        }
    }
    if let Some(code) = &edit.intervention {
        // The new intervention must be the actor's too.
        let to = individual(intervention_in(conn, &scope, code)?)?.code;
        // A referral's start is in the referral's intervention: moving it
        // would count a start where no referral was made.
        if to != e.intervention {
            if let Some(r) = crate::store::beyond::referral_of_enrolment(conn, &e.id)? {
                return Err(Error::invalid(
                    Field::Intervention,
                    format!(
                        "cannot move enrolment {} to {to}: it is the start of referral {} to {}; register the start in {to} anew (and delete this one, which makes the referral undecided again)",
                        e.short_id(),
                        crate::model::short_id(&r.id),
                        r.intervention
                    ),
                ));
            }
        }
        e.intervention = to;
    }
    if let Some(d) = edit.start {
        not_future(d, Field::StartDate, today)?;
        e.start = d;
    }
    if let Some(d) = edit.exit {
        not_future(d, Field::ExitDate, today)?;
        e.exit = Some(d);
    }
    if let Some(o) = edit.outcome {
        e.outcome = Some(o);
    }
    if e.exit.is_some() != e.outcome.is_some() {
        return Err(if e.exit.is_some() {
            Error::invalid(
                Field::Outcome,
                format!(
                    "is missing: enrolment {} has no outcome, give one with the exit date",
                    e.short_id()
                ),
            )
        } else {
            Error::invalid(
                Field::ExitDate,
                format!(
                    "is missing: enrolment {} has not exited, give an exit date with the outcome",
                    e.short_id()
                ),
            )
        });
    }
    if let Some(x) = e.exit {
        if x < e.start {
            return Err(Error::invalid(
                if edit.exit.is_some() {
                    Field::ExitDate
                } else {
                    Field::StartDate
                },
                format!("exit date {x} would be before the start date {}", e.start),
            ));
        }
    }
    if e.exit.is_none() {
        for (set, field) in [
            (
                matches!(edit.support_after, Some(Some(_))),
                Field::SupportAfter,
            ),
            (
                matches!(edit.step_progress, Some(Some(_))),
                Field::StepProgress,
            ),
            (
                matches!(edit.quality_of_life, Some(Some(_))),
                Field::QualityOfLife,
            ),
        ] {
            if set {
                return Err(Error::invalid(
                    field,
                    format!(
                        "cannot be set: enrolment {} has not exited (register the exit, or give an exit date too)",
                        e.short_id()
                    ),
                ));
            }
        }
    }
    if let Some(g) = edit.gender {
        e.gender = g;
    }
    if let Some(v) = edit.birth_year {
        if let Some(by) = v {
            check_birth_year(by, today)?;
        }
        e.birth_year = v;
    }
    not_before_birth_year(
        e.start,
        e.birth_year,
        if edit.start.is_some() {
            Field::StartDate
        } else {
            Field::BirthYear
        },
    )?;
    macro_rules! apply {
        ($($field:ident => $target:expr),*) => { $(if let Some(v) = edit.$field { $target = v; })* };
    }
    apply!(
        municipality => e.facts.municipality,
        support => e.facts.support,
        years_in_support => e.facts.years_in_support,
        education => e.facts.education,
        referrer => e.facts.referrer,
        support_after => e.after.support_after,
        step_progress => e.after.step_progress,
        quality_of_life => e.after.quality_of_life
    );
    // Siblings in the (possibly new) intervention.
    check_no_overlap(&siblings(conn, &e)?, &e.id, e.start, e.exit)?;
    store::update(conn, &e)?;
    audit::record(conn, actor, "edit", Some(&e.id), Some(&names(&fields)))?;
    Ok(e)
}

/// Undo an exit.
pub fn reopen(conn: &Connection, actor: &Actor, prefix: &str) -> Result<Enrolment> {
    let scope = require(actor, Action::Register)?;
    let mut e = store::resolve_prefix(conn, prefix, &scope)?;
    if e.exit.is_none() {
        return Err(Error::Conflict(format!(
            "enrolment {} has not exited; there is nothing to reopen",
            e.short_id()
        )));
    }
    e.exit = None;
    e.outcome = None;
    e.after = ExitFacts::default();
    check_no_overlap(&siblings(conn, &e)?, &e.id, e.start, None)?;
    store::update(conn, &e)?;
    audit::record(conn, actor, "reopen", Some(&e.id), None)?;
    Ok(e)
}

/// What `delete` removed.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub enrolment: Enrolment,
    /// The person had no other enrolment and was removed with it.
    pub person_removed: bool,
}

/// Remove an enrolment registered by mistake (SUS's "felregistrering").
/// Nothing is asked of the participant's other enrolments. A person left
/// with no enrolment is removed too: a fingerprint that counts nowhere is
/// only a trace of someone who was never meant to be registered.
pub fn delete(conn: &Connection, actor: &Actor, prefix: &str) -> Result<Deleted> {
    let scope = require(actor, Action::Register)?;
    let e = store::resolve_prefix(conn, prefix, &scope)?;
    // A referral that became this enrolment is undecided again: the
    // referral happened, the start was the mistake.
    if let Some(r) = crate::store::beyond::referral_of_enrolment(conn, &e.id)? {
        crate::store::beyond::undecide_for_enrolment(conn, &e.id)?;
        audit::record(
            conn,
            actor,
            "referral undecide",
            Some(&r.id),
            Some("its start was deleted"),
        )?;
    }
    if !store::delete(conn, &e.id)? {
        return Err(Error::Database(format!(
            "enrolment {} vanished during the delete",
            e.short_id()
        )));
    }
    let person_removed = match e.person_id {
        Some(p) => store::delete_person_if_unenrolled(conn, p)?,
        None => false,
    };
    audit::record(conn, actor, "delete", Some(&e.id), None)?;
    Ok(Deleted {
        enrolment: e,
        person_removed,
    })
}

/// Right to erasure: the person and every enrolment. Returns the count.
/// The audit entry says only that an erasure happened: which enrolments,
/// and how many, would describe the person. Staff may erase a person
/// enrolled in one of their interventions; the erasure then takes every
/// enrolment of the person, as the right to erasure asks.
pub fn erase(conn: &Connection, actor: &Actor, fingerprint: &Fingerprint) -> Result<usize> {
    let scope = require(actor, Action::Register)?;
    let id = person_in(conn, fingerprint, &scope)?.ok_or_else(|| {
        Error::NotFound("no person with that personnummer is registered; nothing was erased".into())
    })?;
    // The count returned is the actor's own interventions': the rest of
    // the register does not exist for them.
    let seen = store::of_person(conn, id)?
        .iter()
        .filter(|e| scope.covers(&e.intervention))
        .count();
    store::erase_person(conn, id)?;
    audit::record(conn, actor, "erase", None, None)?;
    Ok(seen)
}

/// The enrolments of a person, or one enrolment, that the actor may see;
/// the read is recorded.
pub fn show(conn: &Connection, actor: &Actor, lookup: &Lookup) -> Result<Vec<Enrolment>> {
    let scope = require(actor, Action::ReadEnrolments)?;
    let list = match lookup {
        Lookup::Person(fp) => {
            let person = person_in(conn, fp, &scope)?.ok_or_else(unknown_person)?;
            let mut list = store::of_person(conn, person)?;
            list.retain(|e| scope.covers(&e.intervention));
            list
        }
        Lookup::Id(prefix) => vec![store::resolve_prefix(conn, prefix, &scope)?],
    };
    let subjects: Vec<&str> = list.iter().map(|e| e.short_id()).collect();
    audit::record(conn, actor, "show", Some(&subjects.join(" ")), None)?;
    Ok(list)
}

/// A look-up by personnummer (the web's "find"): the person's enrolments
/// in the actor's own interventions, possibly none. Unlike `show`, a miss
/// is an answer, not an error, so the look-up itself is recorded either
/// way (`find`, with the enrolments shown); an unknown person and one
/// outside the actor's interventions give the same empty answer.
pub fn find(conn: &Connection, actor: &Actor, fingerprint: &Fingerprint) -> Result<Vec<Enrolment>> {
    let scope = require(actor, Action::Register)?;
    let list = match person_in(conn, fingerprint, &scope)? {
        Some(person) => {
            let mut list = store::of_person(conn, person)?;
            list.retain(|e| scope.covers(&e.intervention));
            list
        }
        None => Vec::new(),
    };
    let subjects: Vec<&str> = list.iter().map(|e| e.short_id()).collect();
    let subjects = subjects.join(" ");
    let subject = Some(subjects.as_str()).filter(|s| !s.is_empty());
    audit::record(conn, actor, "find", subject, None)?;
    Ok(list)
}

/// The most enrolments one intervention page lists.
pub const LIST_MAX: usize = 1000;

/// The enrolments of one intervention a staff page lists: the open ones
/// and those that exited in the last `recent_days` days, newest start
/// first. The read is recorded (`list`, with the intervention as subject).
///
/// At most [`LIST_MAX`] + 1 are returned (a caller shows `LIST_MAX` and
/// says there are more); the index of migration 5 finds them without
/// reading the rest of the register.
pub fn list_enrolments(
    conn: &Connection,
    actor: &Actor,
    intervention: &str,
    today: NaiveDate,
    recent_days: u32,
) -> Result<Vec<Enrolment>> {
    let i = intervention_for(conn, actor, Action::ReadEnrolments, intervention)?;
    let since = today
        .checked_sub_days(chrono::Days::new(recent_days.into()))
        .unwrap_or(NaiveDate::MIN);
    let list = store::open_or_exited_since(conn, &i.code, since, LIST_MAX + 1)?;
    audit::record(
        conn,
        actor,
        "list",
        Some(&i.code),
        Some(&format!("open, and exited since {since}")),
    )?;
    Ok(list)
}

/// The interventions the actor may see (staff: their own), by code. Codes,
/// names and targets hold no participant data, so the read is not recorded.
pub fn interventions_for(conn: &Connection, actor: &Actor) -> Result<Vec<Intervention>> {
    let scope = require(actor, Action::SeeInterventions)?;
    let mut all = interventions::all(conn)?;
    all.retain(|i| scope.covers(&i.code));
    Ok(all)
}

/// Entries of the audit trail matching a filter, newest first, at most
/// `limit`. The read is recorded with its filter, after the read (the
/// entries shown are those that were there).
pub fn log_search(
    conn: &Connection,
    actor: &Actor,
    filter: &audit::Filter,
    limit: u32,
    format: &str,
) -> Result<Vec<AuditEntry>> {
    require(actor, Action::ReadAudit)?;
    let entries = audit::search(conn, filter, limit)?;
    let mut parts = vec![format!("limit {limit}"), format!("format {format}")];
    for (name, v) in [
        ("from", filter.from.map(|d| d.to_string())),
        ("to", filter.to.map(|d| d.to_string())),
        ("login", filter.login.clone()),
        ("action", filter.action.clone()),
        ("subject", filter.subject.clone()),
        ("before", filter.before.map(|b| b.to_string())),
    ] {
        if let Some(v) = v {
            parts.push(format!("{name} {v}"));
        }
    }
    audit::record(conn, actor, "log", None, Some(&parts.join("; ")))?;
    Ok(entries)
}

/// The newest `limit` entries of the audit trail, newest first. Reading
/// the trail shows who looked at whom, so it is itself recorded (after
/// the read: the entries shown are those that were there).
pub fn log(conn: &Connection, actor: &Actor, limit: u32) -> Result<Vec<AuditEntry>> {
    require(actor, Action::ReadAudit)?;
    let entries = audit::recent(conn, limit)?;
    audit::record(conn, actor, "log", None, Some(&format!("limit {limit}")))?;
    Ok(entries)
}

/// A consistent copy of the whole register in `file`, which must not
/// exist. The copy is recorded (committed first, so no copy exists that the
/// trail does not know of); a failed copy leaves no file behind.
pub fn backup(conn: &mut Connection, actor: &Actor, file: &Path) -> Result<()> {
    require(actor, Action::Backup)?;
    // An empty owner-only file first: VACUUM INTO accepts an empty file and
    // the copy keeps our permissions; an existing file is never overwritten.
    crate::store::create_private_file(file, "a backup never overwrites a file")?;
    // The path may hold a personnummer: the trail never does.
    let shown = crate::identity::scrub(&file.to_string_lossy()).into_owned();
    let result = crate::store::write(conn, |tx| {
        audit::record(tx, actor, "backup", None, Some(&shown))
    })
    .and_then(|_| crate::store::backup::vacuum_into(conn, file));
    if result.is_err() {
        let _ = std::fs::remove_file(file);
    }
    result
}

/// Head counts of one volume intervention for one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolumeCounts {
    pub month: (i32, u32),
    pub women: u32,
    pub men: u32,
}

/// Register head counts for a volume intervention and month. Refuses to
/// replace an existing month unless `replace`.
pub fn volume_add(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    code: &str,
    counts: VolumeCounts,
    replace: bool,
) -> Result<()> {
    require(actor, Action::ManageInterventions)?;
    let VolumeCounts { month, women, men } = counts;
    let i = known_intervention(conn, code)?;
    match i.kind {
        InterventionKind::Volume => {}
        InterventionKind::Individual => {
            return Err(Error::invalid(
                Field::Intervention,
                format!(
                    "'{}' takes individual enrolments: register its participants one by one, or add a volume intervention",
                    i.code
                ),
            ))
        }
        InterventionKind::Structural => {
            return Err(Error::invalid(
                Field::Intervention,
                format!(
                    "'{}' is a structural intervention, which takes only activities: register an activity, or add a volume intervention",
                    i.code
                ),
            ))
        }
    }
    let first = NaiveDate::from_ymd_opt(month.0, month.1, 1).ok_or_else(|| {
        Error::invalid(
            Field::Month,
            format!("{}-{} is not a month", month.0, month.1),
        )
    })?;
    not_future(first, Field::Month, today)?;
    let key = format!("{:04}-{:02}", month.0, month.1);
    let exists = volume::get(conn, &i.code, &key)?.is_some();
    if exists && !replace {
        return Err(Error::Conflict(format!(
            "{} already has head counts for {key}; replacing them must be asked for explicitly",
            i.code
        )));
    }
    volume::put(conn, &i.code, &key, women, men)?;
    audit::record(
        conn,
        actor,
        if exists {
            "volume replace"
        } else {
            "volume add"
        },
        Some(&i.code),
        Some(&format!("{key}: women, men")),
    )?;
    Ok(())
}

/// Add an intervention. The code, the name and the targets are checked
/// here whatever front end sent them.
pub fn intervention_add(conn: &Connection, actor: &Actor, mut i: Intervention) -> Result<()> {
    require(actor, Action::ManageInterventions)?;
    i.code = parse_intervention_code(&i.code)?;
    i.name = parse_intervention_name(&i.name)?;
    check_target(i.target_work_studies, Field::TargetWorkStudies)?;
    check_target(i.target_step, Field::TargetStep)?;
    check_target(i.target_qol, Field::TargetQol)?;
    if interventions::get(conn, &i.code)?.is_some() {
        return Err(Error::Conflict(format!(
            "intervention '{}' already exists",
            i.code
        )));
    }
    if let Some(p) = &i.parent {
        i.parent = Some(
            known_intervention(conn, p)
                .map_err(|e| match e {
                    Error::NotFound(m) => Error::NotFound(format!("parent: {m}")),
                    e => e,
                })?
                .code,
        );
    }
    interventions::insert(conn, &i)?;
    audit::record(
        conn,
        actor,
        "intervention add",
        Some(&i.code),
        Some(&i.name),
    )?;
    Ok(())
}

/// Change an intervention's name, parent, kind and targets. Refused: an
/// unknown intervention or parent, a parent that is the intervention
/// itself or one of its descendants (the tree must stay a tree), and a
/// change of kind while enrolments or volumes are registered under the
/// old kind. Audited with the fields changed (never values about people:
/// there are none here, but the trail's rule is kept).
pub fn intervention_edit(conn: &Connection, actor: &Actor, mut i: Intervention) -> Result<()> {
    require(actor, Action::ManageInterventions)?;
    let old = known_intervention(conn, &i.code)?;
    i.code = old.code.clone();
    i.name = parse_intervention_name(&i.name)?;
    check_target(i.target_work_studies, Field::TargetWorkStudies)?;
    check_target(i.target_step, Field::TargetStep)?;
    check_target(i.target_qol, Field::TargetQol)?;
    if let Some(p) = &i.parent {
        let parent = known_intervention(conn, p).map_err(|e| match e {
            Error::NotFound(m) => Error::NotFound(format!("parent: {m}")),
            e => e,
        })?;
        // Walk up from the new parent: meeting the intervention itself
        // would close a cycle.
        let all = interventions::all(conn)?;
        let mut at = Some(parent.code.clone());
        while let Some(code) = at {
            if code == i.code {
                return Err(Error::invalid(
                    Field::Parent,
                    format!(
                        "'{}' is {} itself or lies under it: choose a parent outside its own tree",
                        parent.code, i.code
                    ),
                ));
            }
            at = all
                .iter()
                .find(|x| x.code == code)
                .and_then(|x| x.parent.clone());
        }
        i.parent = Some(parent.code);
    }
    if i.kind != old.kind && interventions::enrolment_count(conn, &i.code)? > 0 {
        return Err(Error::invalid(
            Field::Kind,
            format!(
                "cannot change from {} while {} has enrolments or volume months: they were registered as {}",
                old.kind.code(),
                i.code,
                old.kind.code()
            ),
        ));
    }
    let mut changed = Vec::new();
    if i.name != old.name {
        changed.push("name");
    }
    if i.parent != old.parent {
        changed.push("parent");
    }
    if i.kind != old.kind {
        changed.push("kind");
    }
    if i.target_work_studies != old.target_work_studies {
        changed.push("target_work_studies");
    }
    if i.target_step != old.target_step {
        changed.push("target_step");
    }
    if i.target_qol != old.target_qol {
        changed.push("target_qol");
    }
    if changed.is_empty() {
        return Ok(());
    }
    interventions::update(conn, &i)?;
    audit::record(
        conn,
        actor,
        "intervention edit",
        Some(&i.code),
        Some(&changed.join(",")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(distance("ALLIN", "ALLIN"), 0);
        assert_eq!(distance("ALIN", "ALLIN"), 1);
        assert_eq!(distance("KITTEN", "SITTING"), 3);
        assert_eq!(distance("", "ABC"), 3);
    }

    #[test]
    fn suggestions_name_the_nearest_codes_only() {
        let known: Vec<String> = (0..30).map(|n| format!("PROJ{n:02}")).collect();
        let s = suggest("PROJ7", &known);
        assert!(s.starts_with("did you mean PROJ07"), "{s}");
        assert!(!s.contains("PROJ29"), "{s}");
        let s = suggest("ZZZZZZZZZ", &known);
        assert!(s.contains("no known code is close"), "{s}");
        let few: Vec<String> = ["A", "B"].map(String::from).to_vec();
        assert_eq!(suggest("C", &few), "known are A, B");
    }
}
