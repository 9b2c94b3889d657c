//! The rules of registration: start, exit, edit, reopen, erase, volume.
//!
//! The CLI and the import both come here, so there is one copy of each
//! rule. Every function takes the open write transaction; if it returns an
//! error the caller drops the transaction and nothing is written. Each
//! change is recorded in the audit trail in the same transaction.
//!
//! Participants arrive already reduced by `identity`: a fingerprint with
//! gender and birth year, or an anonymous participant. No personnummer
//! reaches this module.

use chrono::NaiveDate;
use rusqlite::Connection;

use crate::actor::Actor;
use crate::codes::{Gender, InterventionKind, Outcome};
use crate::error::Result;
use crate::identity::Fingerprint;
use crate::invalid;
use crate::model::{Enrolment, ExitFacts, Intervention, StartFacts};
use crate::store::audit;
use crate::store::enrolments::{self as store, ParticipantKey};
use crate::store::interventions;

/// Who a registration is about.
#[derive(Debug, Clone)]
pub enum Participant {
    /// Identified by personnummer, with written consent.
    Person {
        fingerprint: Fingerprint,
        gender: Gender,
        birth_year: i32,
    },
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

/// Find an intervention that takes individual enrolments.
pub fn individual_intervention(conn: &Connection, code: &str) -> Result<Intervention> {
    let i = known_intervention(conn, code)?;
    if i.kind != InterventionKind::Individual {
        return Err(invalid!(
            "intervention '{}' is a volume intervention: register head counts with `sustrack volume add`, not enrolments",
            i.code
        ));
    }
    Ok(i)
}

pub fn known_intervention(conn: &Connection, code: &str) -> Result<Intervention> {
    let code = code.trim().to_ascii_uppercase();
    if let Some(i) = interventions::get(conn, &code)? {
        return Ok(i);
    }
    let known: Vec<String> = interventions::all(conn)?
        .into_iter()
        .map(|i| i.code)
        .collect();
    Err(if known.is_empty() {
        invalid!("unknown intervention '{code}': none exist yet; add one with `sustrack intervention add {code} --name ...`")
    } else {
        invalid!(
            "unknown intervention '{code}': known are {}",
            known.join(", ")
        )
    })
}

fn not_future(date: NaiveDate, what: &str, today: NaiveDate) -> Result<()> {
    if date > today {
        return Err(invalid!(
            "{what} {date} is in the future (today is {today})"
        ));
    }
    Ok(())
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
            return Err(match e.exit {
                None => invalid!(
                    "the participant already has an open enrolment {} in {} since {}; register its exit first",
                    e.short_id(),
                    e.intervention,
                    e.start
                ),
                Some(x) => invalid!(
                    "the dates overlap enrolment {} of the same participant in {} ({} to {}); a new enrolment must start after the previous exit",
                    e.short_id(),
                    e.intervention,
                    e.start,
                    x
                ),
            });
        }
    }
    Ok(())
}

fn siblings(conn: &Connection, e: &Enrolment) -> Result<Vec<Enrolment>> {
    match (e.person_id, &e.local_id) {
        (Some(p), _) => store::of_participant(conn, ParticipantKey::Person(p), &e.intervention),
        (None, Some(l)) => store::of_participant(conn, ParticipantKey::Local(l), &e.intervention),
        (None, None) => Ok(Vec::new()),
    }
}

/// Register a start; returns the new enrolment.
pub fn start(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    input: StartInput,
) -> Result<Enrolment> {
    let intervention = individual_intervention(conn, &input.intervention)?;
    not_future(input.date, "start date", today)?;
    // Every check comes before the first write, so a refused start leaves
    // nothing behind (the import relies on this).
    let (known_person, new_person, local_id, gender, birth_year) = match input.participant {
        Participant::Person {
            fingerprint,
            gender,
            birth_year,
        } => match store::find_person(conn, &fingerprint)? {
            Some(id) => (Some(id), None, None, gender, Some(birth_year)),
            None => (None, Some(fingerprint), None, gender, Some(birth_year)),
        },
        Participant::Anonymous {
            gender,
            birth_year,
            local_id,
        } => (None, None, local_id, gender, birth_year),
    };
    if let Some(by) = birth_year {
        if by > crate::model::year_of(input.date) {
            return Err(invalid!(
                "birth year {by} is after the start date {}",
                input.date
            ));
        }
    }
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
    if let (Some(fp), Some(by)) = (new_person, birth_year) {
        e.person_id = Some(store::insert_person(conn, &fp, gender, by, today)?);
    }
    store::insert(conn, &e)?;
    audit::record(
        conn,
        actor,
        "start",
        Some(&e.id),
        Some(&format!(
            "intervention {}, start {}",
            e.intervention, e.start
        )),
    )?;
    Ok(e)
}

/// Find the enrolment an exit (or a lookup) is about.
pub fn find_target(conn: &Connection, target: &ExitTarget) -> Result<Enrolment> {
    let (key, intervention, who) = match target {
        ExitTarget::Id(prefix) => return store::resolve_prefix(conn, prefix),
        ExitTarget::Person {
            fingerprint,
            intervention,
        } => {
            let id = store::find_person(conn, fingerprint)?
                .ok_or_else(|| invalid!("no person with that personnummer is registered"))?;
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
            format!("local id '{local_id}'"),
        ),
    };
    let intervention = known_intervention(conn, intervention)?;
    let all = store::of_participant(conn, key, &intervention.code)?;
    if let Some(open) = all.iter().find(|e| e.exit.is_none()) {
        return Ok(open.clone());
    }
    Err(match all.last() {
        Some(last) => invalid!(
            "{who} has no open enrolment in {}: the last one ({}) already exited on {}",
            intervention.code,
            last.short_id(),
            last.exit.map(|d| d.to_string()).unwrap_or_default()
        ),
        None => invalid!("{who} has no enrolment in {}", intervention.code),
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
    let mut e = find_target(conn, target)?;
    if let Some(x) = e.exit {
        return Err(invalid!(
            "enrolment {} already exited on {x}; use `sustrack edit` to correct it or `sustrack reopen` to undo the exit",
            e.short_id()
        ));
    }
    not_future(input.date, "exit date", today)?;
    if input.date < e.start {
        return Err(invalid!(
            "exit date {} is before the start date {} of enrolment {}",
            input.date,
            e.start,
            e.short_id()
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
        Some(&format!("exit {}, outcome {}", input.date, input.outcome)),
    )?;
    Ok(e)
}

/// A correction: every field that is `Some` replaces the stored value.
/// `Some(None)` clears an optional field.
#[derive(Debug, Clone, Default)]
pub struct Edit {
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
    fn changed_fields(&self) -> Vec<&'static str> {
        let mut f = Vec::new();
        macro_rules! note {
            ($($field:ident),*) => { $(if self.$field.is_some() { f.push(stringify!($field)); })* };
        }
        note!(
            start,
            exit,
            outcome,
            gender,
            birth_year,
            municipality,
            support,
            years_in_support,
            education,
            referrer,
            support_after,
            step_progress,
            quality_of_life
        );
        f
    }
}

pub fn edit(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    prefix: &str,
    edit: Edit,
) -> Result<Enrolment> {
    let mut e = store::resolve_prefix(conn, prefix)?;
    let fields = edit.changed_fields();
    if fields.is_empty() {
        return Err(invalid!(
            "nothing to change: give at least one field, e.g. --start-date, --exit-date, --outcome or --municipality"
        ));
    }
    if e.person_id.is_some() && (edit.gender.is_some() || edit.birth_year.is_some()) {
        return Err(invalid!(
            "gender and birth year of an identified participant come from the personnummer and cannot be edited"
        ));
    }
    if let Some(d) = edit.start {
        not_future(d, "start date", today)?;
        e.start = d;
    }
    if let Some(d) = edit.exit {
        not_future(d, "exit date", today)?;
        e.exit = Some(d);
    }
    if let Some(o) = edit.outcome {
        e.outcome = Some(o);
    }
    if e.exit.is_some() != e.outcome.is_some() {
        return Err(if e.exit.is_some() {
            invalid!("enrolment {} has no outcome: give --outcome with --exit-date (or use `sustrack exit`)", e.short_id())
        } else {
            invalid!("enrolment {} has not exited: give --exit-date with --outcome (or use `sustrack exit`)", e.short_id())
        });
    }
    if let Some(x) = e.exit {
        if x < e.start {
            return Err(invalid!(
                "exit date {x} would be before the start date {}",
                e.start
            ));
        }
    }
    if e.exit.is_none()
        && (matches!(edit.support_after, Some(Some(_)))
            || matches!(edit.step_progress, Some(Some(_)))
            || matches!(edit.quality_of_life, Some(Some(_))))
    {
        return Err(invalid!(
            "enrolment {} has not exited: exit fields can be set with `sustrack exit` or together with --exit-date",
            e.short_id()
        ));
    }
    if let Some(g) = edit.gender {
        e.gender = g;
    }
    if let Some(v) = edit.birth_year {
        e.birth_year = v;
    }
    if let Some(by) = e.birth_year {
        if by > crate::model::year_of(e.start) {
            return Err(invalid!(
                "birth year {by} would be after the start date {}",
                e.start
            ));
        }
    }
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
    check_no_overlap(&siblings(conn, &e)?, &e.id, e.start, e.exit)?;
    store::update(conn, &e)?;
    audit::record(conn, actor, "edit", Some(&e.id), Some(&fields.join(", ")))?;
    Ok(e)
}

/// Undo an exit.
pub fn reopen(conn: &Connection, actor: &Actor, prefix: &str) -> Result<Enrolment> {
    let mut e = store::resolve_prefix(conn, prefix)?;
    if e.exit.is_none() {
        return Err(invalid!(
            "enrolment {} has not exited; there is nothing to reopen",
            e.short_id()
        ));
    }
    e.exit = None;
    e.outcome = None;
    e.after = ExitFacts::default();
    check_no_overlap(&siblings(conn, &e)?, &e.id, e.start, None)?;
    store::update(conn, &e)?;
    audit::record(conn, actor, "reopen", Some(&e.id), None)?;
    Ok(e)
}

/// Right to erasure: the person and every enrolment. Returns the count.
pub fn erase(conn: &Connection, actor: &Actor, fingerprint: &Fingerprint) -> Result<usize> {
    let id = store::find_person(conn, fingerprint)?.ok_or_else(|| {
        invalid!("no person with that personnummer is registered; nothing was erased")
    })?;
    let n = store::erase_person(conn, id)?;
    audit::record(
        conn,
        actor,
        "erase",
        None,
        Some(&format!("person and {n} enrolment(s)")),
    )?;
    Ok(n)
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
    let VolumeCounts { month, women, men } = counts;
    let i = known_intervention(conn, code)?;
    if i.kind != InterventionKind::Volume {
        return Err(invalid!(
            "intervention '{}' takes individual enrolments: register participants with `sustrack start`, or add a volume intervention with --kind volume",
            i.code
        ));
    }
    let first = NaiveDate::from_ymd_opt(month.0, month.1, 1).expect("validated month");
    not_future(first, "month starting", today)?;
    let key = format!("{:04}-{:02}", month.0, month.1);
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM volume WHERE intervention = ?1 AND month = ?2)",
        (&i.code, &key),
        |r| r.get(0),
    )?;
    if exists && !replace {
        return Err(invalid!(
            "{} already has head counts for {key}; pass --replace to overwrite them",
            i.code
        ));
    }
    conn.execute(
        "INSERT INTO volume (intervention, month, women, men) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (intervention, month) DO UPDATE SET women = excluded.women, men = excluded.men",
        (&i.code, &key, women, men),
    )?;
    audit::record(
        conn,
        actor,
        if exists {
            "volume replace"
        } else {
            "volume add"
        },
        Some(&i.code),
        Some(&format!("{key}: {women} women, {men} men")),
    )?;
    Ok(())
}

/// Add an intervention.
pub fn intervention_add(conn: &Connection, actor: &Actor, i: Intervention) -> Result<()> {
    if interventions::get(conn, &i.code)?.is_some() {
        return Err(invalid!("intervention '{}' already exists", i.code));
    }
    if let Some(p) = &i.parent {
        known_intervention(conn, p)?;
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
