//! Enrolments and persons: plain functions over a connection, one
//! `from_row`, bound parameters only.

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::error::{Error, Result};
use crate::identity::Fingerprint;
use crate::model::{Enrolment, ExitFacts, StartFacts};

pub const COLUMNS: &str = "id, intervention, person_id, local_id, gender, birth_year, start_date, exit_date, \
     municipality, support, years_in_support, education, referrer, outcome, support_after, step_progress, quality_of_life";

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

pub fn insert(conn: &Connection, e: &Enrolment) -> Result<()> {
    conn.prepare_cached(&format!(
        "INSERT INTO enrolment ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    ))?
    .execute(params![
        e.id,
        e.intervention,
        e.person_id,
        e.local_id,
        e.gender,
        e.birth_year,
        e.start,
        e.exit,
        e.facts.municipality,
        e.facts.support,
        e.facts.years_in_support,
        e.facts.education,
        e.facts.referrer,
        e.outcome,
        e.after.support_after,
        e.after.step_progress,
        e.after.quality_of_life,
    ])?;
    Ok(())
}

/// Overwrite every mutable field of an existing enrolment.
pub fn update(conn: &Connection, e: &Enrolment) -> Result<()> {
    let n = conn
        .prepare_cached(
            "UPDATE enrolment SET gender = ?2, birth_year = ?3, start_date = ?4, exit_date = ?5, municipality = ?6, \
             support = ?7, years_in_support = ?8, education = ?9, referrer = ?10, outcome = ?11, support_after = ?12, \
             step_progress = ?13, quality_of_life = ?14 WHERE id = ?1",
        )?
        .execute(params![
            e.id,
            e.gender,
            e.birth_year,
            e.start,
            e.exit,
            e.facts.municipality,
            e.facts.support,
            e.facts.years_in_support,
            e.facts.education,
            e.facts.referrer,
            e.outcome,
            e.after.support_after,
            e.after.step_progress,
            e.after.quality_of_life,
        ])?;
    if n != 1 {
        return Err(Error::Database(format!(
            "enrolment {} vanished during the update",
            e.id
        )));
    }
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Enrolment>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM enrolment WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// Resolve a unique id prefix (at least 6 hex characters), as git does.
pub fn resolve_prefix(conn: &Connection, prefix: &str) -> Result<Enrolment> {
    let p = prefix.trim().to_ascii_lowercase();
    if p.len() < 6 || p.len() > 36 || !p.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return Err(Error::usage(format!(
            "invalid enrolment id '{prefix}': expected the id printed by `start` or a unique prefix of at least 6 characters"
        )));
    }
    // Range scan on the primary key: ids starting with p sort in [p, p + '~').
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM enrolment WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 2"
    ))?;
    let upper = format!("{p}~");
    let found: Vec<Enrolment> = stmt
        .query_map([&p, &upper], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    match found.len() {
        0 => Err(Error::usage(format!(
            "no enrolment with id '{prefix}' (see `sustrack show --pnr ...` for ids)"
        ))),
        1 => Ok(found.into_iter().next().expect("one element")),
        _ => Err(Error::usage(format!(
            "enrolment id '{prefix}' is ambiguous: it starts both {} and {}; give more characters",
            found[0].short_id(),
            found[1].short_id()
        ))),
    }
}

/// Every enrolment of one participant (by person or by anonymous local id) in one intervention.
pub fn of_participant(
    conn: &Connection,
    who: ParticipantKey<'_>,
    intervention: &str,
) -> Result<Vec<Enrolment>> {
    let (sql, key): (String, rusqlite::types::Value) = match who {
        ParticipantKey::Person(id) => (
            format!("SELECT {COLUMNS} FROM enrolment WHERE person_id = ?1 AND intervention = ?2 ORDER BY start_date"),
            id.into(),
        ),
        ParticipantKey::Local(l) => (
            format!("SELECT {COLUMNS} FROM enrolment WHERE local_id = ?1 AND intervention = ?2 ORDER BY start_date"),
            l.to_string().into(),
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![key, intervention], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, Copy)]
pub enum ParticipantKey<'a> {
    Person(i64),
    Local(&'a str),
}

pub fn of_person(conn: &Connection, person_id: i64) -> Result<Vec<Enrolment>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM enrolment WHERE person_id = ?1 ORDER BY start_date, intervention"
    ))?;
    let rows = stmt.query_map([person_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A person row: (id, gender code, birth year).
pub fn find_person(conn: &Connection, fp: &Fingerprint) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM person WHERE fingerprint = ?1")?
        .query_row([&fp.0[..]], |r| r.get(0))
        .optional()?)
}

pub fn insert_person(
    conn: &Connection,
    fp: &Fingerprint,
    gender: crate::codes::Gender,
    birth_year: i32,
    consent_date: NaiveDate,
) -> Result<i64> {
    conn.prepare_cached("INSERT INTO person (fingerprint, gender, birth_year, consent_date) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![&fp.0[..], gender, birth_year, consent_date])?;
    Ok(conn.last_insert_rowid())
}

/// Delete a person and (by cascade) all their enrolments; returns how many enrolments went.
pub fn erase_person(conn: &Connection, person_id: i64) -> Result<usize> {
    let n = conn.execute("DELETE FROM enrolment WHERE person_id = ?1", [person_id])?;
    conn.execute("DELETE FROM person WHERE id = ?1", [person_id])?;
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
