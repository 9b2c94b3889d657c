//! Beyond participants (SPEC section 13): activities that reach people
//! without an enrolment, referrals and what became of them, and money per
//! intervention and year. Every rule is here, whatever front end calls
//! (CLI, import, web); the SQL is in `store::beyond`.
//!
//! - An activity is a dated occasion of one kind with head counts by
//!   gender (unknown gender its own count) and, optionally, how many
//!   organisations took part. Staff record them (and referrals) for their
//!   interventions, coordinators for all (`Action::Beyond`).
//!   An intervention of kind `structural` takes only activities.
//! - A referral precedes consent, so it never holds a personnummer or a
//!   fingerprint: gender, birth year, municipality and referrer only. Its
//!   decision `started` names the enrolment it became, which must be in
//!   the same intervention and start on or after the referral date.
//! - A budget line is an intervention's budget and (once known) actual
//!   cost for a calendar year, in whole kronor; coordinators set them
//!   (`Action::Budget`).

use chrono::{Datelike, NaiveDate};
use rusqlite::Connection;

use crate::actor::{Action, Actor, Scope};
use crate::codes::{ActivityKind, Code, Decision, Gender, InterventionKind, Referrer};
use crate::error::{Error, Field, Result};
use crate::model::{not_future, Municipality};
use crate::register::{intervention_in, require};
use crate::store::{self, audit, beyond};

pub use crate::store::beyond::{Activity, Budget, Referral};

/// The most people one occasion may count in one column.
pub const MAX_HEADS: u32 = 100_000;

/// What staff record about an occasion.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityInput {
    pub intervention: String,
    pub date: NaiveDate,
    pub kind: ActivityKind,
    pub women: u32,
    pub men: u32,
    pub unknown: u32,
    pub organisations: Option<u32>,
}

/// Register an activity; returns it with its new id.
pub fn activity_add(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    input: ActivityInput,
) -> Result<Activity> {
    let scope = require(actor, Action::Beyond)?;
    let i = intervention_in(conn, &scope, &input.intervention)?;
    not_future(input.date, Field::Date, today)?;
    for (n, field) in [
        (input.women, Field::Women),
        (input.men, Field::Men),
        (input.unknown, Field::Unknown),
        (input.organisations.unwrap_or(0), Field::Organisations),
    ] {
        if n > MAX_HEADS {
            return Err(Error::invalid(
                field,
                format!("{n} is out of range: expected a count from 0 to {MAX_HEADS}"),
            ));
        }
    }
    if input.women + input.men + input.unknown == 0 {
        return Err(Error::invalid(
            Field::Women,
            "an activity needs at least one attendee: count women, men or those of unknown gender",
        ));
    }
    let a = Activity {
        id: uuid::Uuid::new_v4().to_string(),
        intervention: i.code.clone(),
        date: input.date,
        kind: input.kind,
        women: input.women,
        men: input.men,
        unknown: input.unknown,
        organisations: input.organisations,
    };
    beyond::insert_activity(conn, &a)?;
    audit::record(
        conn,
        actor,
        "activity add",
        Some(&a.id),
        Some(&format!("intervention {}; date, kind, counts", i.code)),
    )?;
    Ok(a)
}

/// What staff record when a referral arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferralInput {
    pub intervention: String,
    pub date: NaiveDate,
    pub gender: Gender,
    pub birth_year: Option<i32>,
    pub municipality: Option<Municipality>,
    pub referrer: Option<Referrer>,
}

/// Register a referral; returns it with its new id. Only interventions
/// that take enrolments take referrals (a referral becomes one).
pub fn referral_add(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    input: ReferralInput,
) -> Result<Referral> {
    let scope = require(actor, Action::Beyond)?;
    let i = intervention_in(conn, &scope, &input.intervention)?;
    if i.kind != InterventionKind::Individual {
        return Err(Error::invalid(
            Field::Intervention,
            format!(
                "'{}' is a {} intervention and takes no referrals: a referral is to an intervention with enrolments",
                i.code,
                i.kind.en().to_lowercase()
            ),
        ));
    }
    not_future(input.date, Field::Date, today)?;
    if let Some(y) = input.birth_year {
        crate::model::check_birth_year(y, today)?;
        if y > input.date.year() {
            return Err(Error::invalid(
                Field::BirthYear,
                format!(
                    "{y} is after the referral's date {}: expected a year up to {}",
                    input.date,
                    input.date.year()
                ),
            ));
        }
    }
    let r = Referral {
        id: uuid::Uuid::new_v4().to_string(),
        intervention: i.code.clone(),
        date: input.date,
        gender: input.gender,
        birth_year: input.birth_year,
        municipality: input.municipality,
        referrer: input.referrer,
        decision: None,
        decided: None,
        enrolment: None,
    };
    beyond::insert_referral(conn, &r)?;
    audit::record(
        conn,
        actor,
        "referral add",
        Some(&r.id),
        Some(&format!(
            "intervention {}; date, gender, birth_year, municipality, referrer",
            i.code
        )),
    )?;
    Ok(r)
}

/// A referral by its id or a unique prefix of at least 6 characters,
/// among those `scope` reaches (one outside it does not exist).
pub fn find_referral(conn: &Connection, scope: &Scope, prefix: &str) -> Result<Referral> {
    let p = prefix.trim().to_ascii_lowercase();
    if p.len() < 6 || p.len() > 36 || !p.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(Error::invalid(
            Field::Referral,
            format!(
                "'{}' is not a referral id: expected the id printed by `referral add` or a unique prefix of at least 6 characters",
                crate::model::shown_text(prefix)
            ),
        ));
    }
    let found: Vec<Referral> = beyond::referrals_by_prefix(conn, &p, 64)?
        .into_iter()
        .filter(|r| scope.covers(&r.intervention))
        .take(2)
        .collect();
    match found.len() {
        0 => Err(Error::NotFound(format!("no referral with id '{p}'"))),
        1 => Ok(found.into_iter().next().expect("one")),
        _ => Err(Error::invalid(
            Field::Referral,
            format!("'{p}' is ambiguous: more than one referral id starts with it; give more characters"),
        )),
    }
}

/// A decision on a referral.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionInput {
    pub referral: String,
    pub decision: Decision,
    pub date: NaiveDate,
    /// The enrolment a `started` referral became (id or unique prefix).
    pub enrolment: Option<String>,
}

/// Decide a referral, once. `started` needs the enrolment it became: in
/// the same intervention, starting on or after the referral date, and not
/// already another referral's. Other decisions take no enrolment.
pub fn referral_decide(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    input: DecisionInput,
) -> Result<Referral> {
    let scope = require(actor, Action::Beyond)?;
    let mut r = find_referral(conn, &scope, &input.referral)?;
    if let (Some(d), Some(on)) = (r.decision, r.decided) {
        return Err(Error::Conflict(format!(
            "referral {} was already decided ({}) on {on}; a decision is recorded once",
            crate::model::short_id(&r.id),
            d.code()
        )));
    }
    not_future(input.date, Field::Date, today)?;
    if input.date < r.date {
        return Err(Error::invalid(
            Field::Date,
            format!(
                "{} is before the referral's date {}: a decision is made on or after it",
                input.date, r.date
            ),
        ));
    }
    let enrolment = match (input.decision, &input.enrolment) {
        (Decision::Started, None) => return Err(Error::invalid(
            Field::Enrolment,
            "is needed for the decision started: give the id of the enrolment the referral became",
        )),
        (Decision::Started, Some(prefix)) => {
            let e = store::enrolments::resolve_prefix(conn, prefix, &scope)?;
            if e.intervention != r.intervention {
                return Err(Error::invalid(
                    Field::Enrolment,
                    format!(
                        "{} is an enrolment in {}, but the referral is to {}: expected an enrolment of the same intervention",
                        e.short_id(),
                        e.intervention,
                        r.intervention
                    ),
                ));
            }
            if e.start < r.date {
                return Err(Error::invalid(
                    Field::Enrolment,
                    format!(
                        "{} started on {}, before the referral's date {}: expected an enrolment that starts on or after it",
                        e.short_id(),
                        e.start,
                        r.date
                    ),
                ));
            }
            if let Some(other) = beyond::referral_of_enrolment(conn, &e.id)? {
                return Err(Error::Conflict(format!(
                    "enrolment {} is already the start of referral {}",
                    e.short_id(),
                    crate::model::short_id(&other.id)
                )));
            }
            Some(e.id)
        }
        (d, Some(_)) => {
            return Err(Error::invalid(
                Field::Enrolment,
                format!(
                    "is only given for the decision started, not {}: leave it out",
                    d.code()
                ),
            ))
        }
        (_, None) => None,
    };
    if !beyond::decide(
        conn,
        &r.id,
        input.decision,
        input.date,
        enrolment.as_deref(),
    )? {
        return Err(Error::Conflict(format!(
            "referral {} was decided meanwhile",
            crate::model::short_id(&r.id)
        )));
    }
    audit::record(
        conn,
        actor,
        "referral decide",
        Some(&r.id),
        Some(&format!("decision {}; date", input.decision.code())),
    )?;
    r.decision = Some(input.decision);
    r.decided = Some(input.date);
    r.enrolment = enrolment;
    Ok(r)
}

/// Undecided referrals of one intervention, oldest first. The read is
/// recorded in the audit trail (a referral's gender, birth year and
/// municipality are facts about a person, though about no one named).
pub fn open_referrals(conn: &Connection, actor: &Actor, code: &str) -> Result<Vec<Referral>> {
    let scope = require(actor, Action::Beyond)?;
    let i = intervention_in(conn, &scope, code)?;
    let list = beyond::open_referrals(conn, &i.code)?;
    audit::record(conn, actor, "referral list", Some(&i.code), None)?;
    Ok(list)
}

/// How many of one intervention's referrals wait for a decision (a count,
/// not recorded).
pub fn undecided_count(conn: &Connection, actor: &Actor, code: &str) -> Result<usize> {
    let scope = require(actor, Action::Beyond)?;
    let i = intervention_in(conn, &scope, code)?;
    Ok(beyond::open_referrals(conn, &i.code)?.len())
}

/// The latest activities of one intervention (for its page).
pub fn recent_activities(
    conn: &Connection,
    actor: &Actor,
    code: &str,
    today: NaiveDate,
) -> Result<Vec<Activity>> {
    let scope = require(actor, Action::Beyond)?;
    let i = intervention_in(conn, &scope, code)?;
    let from = today - chrono::Duration::days(366);
    let mut list = beyond::activities(conn, std::slice::from_ref(&i.code), from, today)?;
    list.reverse();
    Ok(list)
}

/// What a coordinator sets for an intervention and year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetInput {
    pub intervention: String,
    pub year: i32,
    pub budget: u64,
    pub actual: Option<u64>,
}

/// Set (or revise) an intervention's budget and actual cost for a year.
/// Returns true when it replaced an earlier line. A year may be budgeted
/// up to two years ahead; an actual cost only for a year that has begun.
pub fn budget_set(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    input: BudgetInput,
) -> Result<bool> {
    require(actor, Action::Budget)?;
    let i = crate::register::known_intervention(conn, &input.intervention)?;
    let this = today.year();
    if !(1990..=this + 2).contains(&input.year) {
        return Err(Error::invalid(
            Field::Year,
            format!(
                "{} is out of range: expected a year from 1990 to {}",
                input.year,
                this + 2
            ),
        ));
    }
    for (v, field) in [
        (Some(input.budget), Field::Budget),
        (input.actual, Field::Actual),
    ] {
        if let Some(v) = v.filter(|&v| v > 1_000_000_000_000) {
            return Err(Error::invalid(
                field,
                format!("{v} kronor is out of range: expected at most 1 000 000 000 000"),
            ));
        }
    }
    if input.actual.is_some() && input.year > this {
        return Err(Error::invalid(
            Field::Actual,
            format!(
                "cannot be known for {}, a year that has not begun (today is {today}): leave it out until the year's accounts are closed",
                input.year
            ),
        ));
    }
    let existed = beyond::get_budget(conn, &i.code, input.year)?.is_some();
    beyond::put_budget(
        conn,
        &Budget {
            intervention: i.code.clone(),
            year: input.year,
            budget: input.budget,
            actual: input.actual,
        },
        &store::now_utc(),
    )?;
    audit::record(
        conn,
        actor,
        if existed {
            "budget replace"
        } else {
            "budget set"
        },
        Some(&i.code),
        Some(&format!(
            "year {}; budget{}",
            input.year,
            if input.actual.is_some() {
                ", actual"
            } else {
                ""
            }
        )),
    )?;
    Ok(existed)
}

/// Budget lines of one year for the interventions `actor` sees.
pub fn budgets(conn: &Connection, actor: &Actor, year: i32) -> Result<Vec<Budget>> {
    let scope = require(actor, Action::Budget)?;
    Ok(beyond::budgets(conn, year..=year)?
        .into_iter()
        .filter(|b| scope.covers(&b.intervention))
        .collect())
}
