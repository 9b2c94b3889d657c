//! Enrolments and persons: plain functions over a connection, one
//! definition of the enrolment columns, named parameters only.

use chrono::NaiveDate;
use std::sync::LazyLock;

use rusqlite::{named_params, Connection, OptionalExtension, Row, ToSql};

use crate::actor::Scope;
use crate::error::{Error, Field, Result};
use crate::identity::Fingerprint;
use crate::model::{Enrolment, ExitFacts, StartFacts};

/// The enrolment columns in `from_row` order: the one definition every
/// statement here is built from. Each column is bound by a parameter of
/// its own name (`:start_date`).
pub const COLUMNS: &str = "id, intervention, person_id, local_id, gender, birth_year, start_date, exit_date, \
     municipality, support, years_in_support, education, referrer, outcome, support_after, step_progress, quality_of_life";

fn names() -> impl Iterator<Item = &'static str> {
    COLUMNS.split(',').map(str::trim)
}

static INSERT: LazyLock<String> = LazyLock::new(|| {
    let values: Vec<String> = names().map(|c| format!(":{c}")).collect();
    format!(
        "INSERT INTO enrolment ({COLUMNS}) VALUES ({})",
        values.join(", ")
    )
});

static UPDATE: LazyLock<String> = LazyLock::new(|| {
    let set: Vec<String> = names()
        .filter(|&c| c != "id")
        .map(|c| format!("{c} = :{c}"))
        .collect();
    format!("UPDATE enrolment SET {} WHERE id = :id", set.join(", "))
});

pub fn from_row(r: &Row) -> rusqlite::Result<Enrolment> {
    Ok(Enrolment {
        id: r.get(0)?,
        intervention: r.get(1)?,
        person_id: r.get(2)?,
        local_id: r.get(3)?,
        gender: r.get(4)?,
        birth_year: r.get(5)?,
        start: r.get(6)?,
        exit: r.get(7)?,
        facts: StartFacts {
            municipality: r.get(8)?,
            support: r.get(9)?,
            years_in_support: r.get(10)?,
            education: r.get(11)?,
            referrer: r.get(12)?,
        },
        outcome: r.get(13)?,
        after: ExitFacts {
            support_after: r.get(14)?,
            step_progress: r.get(15)?,
            quality_of_life: r.get(16)?,
        },
    })
}

/// Every column of `e`, bound by name.
fn bind(e: &Enrolment) -> [(&'static str, &dyn ToSql); 17] {
    [
        (":id", &e.id),
        (":intervention", &e.intervention),
        (":person_id", &e.person_id),
        (":local_id", &e.local_id),
        (":gender", &e.gender),
        (":birth_year", &e.birth_year),
        (":start_date", &e.start),
        (":exit_date", &e.exit),
        (":municipality", &e.facts.municipality),
        (":support", &e.facts.support),
        (":years_in_support", &e.facts.years_in_support),
        (":education", &e.facts.education),
        (":referrer", &e.facts.referrer),
        (":outcome", &e.outcome),
        (":support_after", &e.after.support_after),
        (":step_progress", &e.after.step_progress),
        (":quality_of_life", &e.after.quality_of_life),
    ]
}

pub fn insert(conn: &Connection, e: &Enrolment) -> Result<()> {
    conn.prepare_cached(&INSERT)?.execute(&bind(e)[..])?;
    Ok(())
}

/// Overwrite every field of an existing enrolment but its id.
pub fn update(conn: &Connection, e: &Enrolment) -> Result<()> {
    let n = conn.prepare_cached(&UPDATE)?.execute(&bind(e)[..])?;
    if n != 1 {
        return Err(Error::Database(format!(
            "enrolment {} vanished during the update",
            e.id
        )));
    }
    Ok(())
}

/// Delete one enrolment; false when there was none with that id.
pub fn delete(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM enrolment WHERE id = :id")?
        .execute(named_params! { ":id": id })?
        == 1)
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Enrolment>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM enrolment WHERE id = :id"))?
        .query_row(named_params! { ":id": id }, from_row)
        .optional()?)
}

/// Resolve a unique id prefix (at least 6 hex characters), as git does,
/// among the enrolments `scope` reaches. An enrolment outside it does not
/// exist here: it is neither found nor makes a visible one ambiguous, and
/// the message for it is that of an id nobody has.
pub fn resolve_prefix(conn: &Connection, prefix: &str, scope: &Scope) -> Result<Enrolment> {
    let p = prefix.trim().to_ascii_lowercase();
    if p.len() < 6 || p.len() > 36 || !p.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(Error::invalid(
            Field::Enrolment,
            format!(
                "'{}' is not an enrolment id: expected the id printed at the start or a unique prefix of at least 6 characters",
                crate::model::shown_text(prefix)
            ),
        ));
    }
    // Range scan on the primary key: ids starting with p sort in [p, p + '~').
    // The scope is applied to the rows as they come rather than in SQL: six
    // hex characters leave about one row in 16 million, so a scoped actor
    // reads a handful of rows at most, and the owner still stops at two.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM enrolment WHERE id >= :lo AND id < :hi ORDER BY id"
    ))?;
    let upper = format!("{p}~");
    let found: Vec<Enrolment> = stmt
        .query_map(named_params! { ":lo": p, ":hi": upper }, from_row)?
        .filter(|r| r.as_ref().map_or(true, |e| scope.covers(&e.intervention)))
        .take(2)
        .collect::<rusqlite::Result<_>>()?;
    match found.len() {
        0 => Err(Error::NotFound(format!("no enrolment with id '{p}'"))),
        1 => Ok(found.into_iter().next().expect("one element")),
        _ => Err(Error::invalid(
            Field::Enrolment,
            format!(
                "'{p}' is ambiguous: it starts both {} and {}; give more characters",
                found[0].short_id(),
                found[1].short_id()
            ),
        )),
    }
}

/// The enrolments of one intervention that are open or exited on or after
/// `since`, newest start first (a staff member's list of their participants).
///
/// No index covers the intervention with the exit date, so this reads the
/// whole table once (about a fifth of a second for a million enrolments;
/// an index on `(intervention, exit_date)` would make it a range read).
pub fn open_or_exited_since(
    conn: &Connection,
    intervention: &str,
    since: NaiveDate,
    limit: usize,
) -> Result<Vec<Enrolment>> {
    // Two range look-ups in `enrolment_by_intervention` (migration 5): the
    // open ones (exit_date IS NULL) and the recent exits.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM enrolment WHERE intervention = :intervention \
         AND (exit_date IS NULL OR exit_date >= :since) ORDER BY start_date DESC, id LIMIT :limit"
    ))?;
    let rows = stmt.query_map(
        named_params! { ":intervention": intervention, ":since": since, ":limit": limit as i64 },
        from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every enrolment of one participant (by person or by anonymous local id) in one intervention.
pub fn of_participant(
    conn: &Connection,
    who: ParticipantKey<'_>,
    intervention: &str,
) -> Result<Vec<Enrolment>> {
    let column = match who {
        ParticipantKey::Person(_) => "person_id",
        ParticipantKey::Local(_) => "local_id",
    };
    let key: &dyn ToSql = match &who {
        ParticipantKey::Person(id) => id,
        ParticipantKey::Local(l) => l,
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM enrolment WHERE {column} = :who AND intervention = :intervention ORDER BY start_date"
    ))?;
    let rows = stmt.query_map(
        named_params! { ":who": key, ":intervention": intervention },
        from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Copy)]
pub enum ParticipantKey<'a> {
    Person(i64),
    Local(&'a str),
}

pub fn of_person(conn: &Connection, person_id: i64) -> Result<Vec<Enrolment>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM enrolment WHERE person_id = :person ORDER BY start_date, intervention"
    ))?;
    let rows = stmt.query_map(named_params! { ":person": person_id }, from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The person row with this fingerprint, if any.
pub fn find_person(conn: &Connection, fp: &Fingerprint) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM person WHERE fingerprint = :fp")?
        .query_row(named_params! { ":fp": &fp.0[..] }, |r| r.get(0))
        .optional()?)
}

pub fn insert_person(
    conn: &Connection,
    fp: &Fingerprint,
    gender: crate::codes::Gender,
    birth_year: i32,
    consent_date: NaiveDate,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO person (fingerprint, gender, birth_year, consent_date) \
         VALUES (:fp, :gender, :birth_year, :consent_date)",
    )?
    .execute(named_params! {
        ":fp": &fp.0[..],
        ":gender": gender,
        ":birth_year": birth_year,
        ":consent_date": consent_date,
    })?;
    Ok(conn.last_insert_rowid())
}

/// Delete a person who has no enrolment left; true if one was deleted.
pub fn delete_person_if_unenrolled(conn: &Connection, person_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM person WHERE id = :person \
             AND NOT EXISTS (SELECT 1 FROM enrolment WHERE person_id = :person)",
        )?
        .execute(named_params! { ":person": person_id })?
        == 1)
}

/// Delete a person and all their enrolments; returns how many enrolments went.
pub fn erase_person(conn: &Connection, person_id: i64) -> Result<usize> {
    let n = conn.execute(
        "DELETE FROM enrolment WHERE person_id = :person",
        named_params! { ":person": person_id },
    )?;
    conn.execute(
        "DELETE FROM person WHERE id = :person",
        named_params! { ":person": person_id },
    )?;
    Ok(n)
}

/// Split the enrolment id space (random lower-case hex uuids) into `parts`
/// contiguous ranges `[lo, hi)`, for scans spread over several cores.
pub fn id_ranges(parts: usize) -> Vec<(String, String)> {
    let parts = parts.clamp(1, 16);
    let bound = |i: usize| match i {
        0 => String::new(),
        i if i == parts => "~".to_string(),
        i => format!("{:x}", i * 16 / parts),
    };
    (0..parts).map(|i| (bound(i), bound(i + 1))).collect()
}
