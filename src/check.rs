//! `sustrack check`: SQLite's own integrity and foreign-key checks plus the
//! domain rules, over data that may have been edited behind our back.
//! Findings name the enrolment (short id) and what is wrong; they never
//! name a person.
//!
//! The reads are in `store::check`; here each rule is one function over
//! the stored rows, run in the order the findings are listed.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::codes::{
    Code, Education, Gender, Outcome, QualityOfLife, Referrer, StepProgress, Support,
    YearsInSupport,
};
use crate::error::Result;
use crate::kommun::{Kommun, Unmatched};
use crate::model::{parse_date, short_id};
use crate::store::check::{self as stored, StoredEnrolment};

/// (enrolment id, start date, exit date) as stored.
type Span = (String, String, Option<String>);

/// Each participant's enrolments in one intervention, in start order.
type ByParticipant = HashMap<(String, String), Vec<Span>>;

pub fn run(conn: &Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    integrity(conn, &mut out)?;
    foreign_keys(conn, &mut out)?;

    // Domain rules, read as raw text so that damaged values are reported, not fatal.
    let rows = stored::enrolments(conn)?;
    let mut by_participant = ByParticipant::new();
    for row in &rows {
        let sid = short_id(&row.id);
        dates(row, sid, &mut out);
        codes(row, sid, &mut out);
        if let Some(finding) = row
            .municipality
            .as_deref()
            .and_then(|m| unmatched_municipality(sid, m))
        {
            out.push(finding);
        }
        exit_and_outcome(row, sid, &mut out);
        participant(row, &mut by_participant);
    }
    out.extend(overlaps(by_participant));
    Ok(out)
}

fn integrity(conn: &Connection, out: &mut Vec<String>) -> Result<()> {
    for r in stored::integrity(conn)? {
        out.push(format!("integrity: {r}"));
    }
    Ok(())
}

fn foreign_keys(conn: &Connection, out: &mut Vec<String>) -> Result<()> {
    for (table, rowid, parent) in stored::foreign_keys(conn)? {
        out.push(format!(
            "foreign key: {table} row {} refers to a missing {parent}",
            rowid.map(|x| x.to_string()).unwrap_or_default()
        ));
    }
    Ok(())
}

/// Start and exit are valid dates, and the exit is not before the start.
fn dates(row: &StoredEnrolment, sid: &str, out: &mut Vec<String>) {
    let (start, exit) = (&row.start, &row.exit);
    // Stored dates are always YYYY-MM-DD; the reports read nothing else.
    let stored = |d: &str| {
        if d.len() == 10 {
            parse_date(d, crate::error::Field::Date)
        } else {
            Err(crate::invalid!("not YYYY-MM-DD"))
        }
    };
    let s = stored(start);
    if s.is_err() {
        out.push(format!(
            "enrolment {sid}: start date '{start}' is not a valid date"
        ));
    }
    if let Some(x) = exit {
        match (stored(x), &s) {
            (Err(_), _) => out.push(format!(
                "enrolment {sid}: exit date '{x}' is not a valid date"
            )),
            (Ok(xd), Ok(sd)) if xd < *sd => {
                out.push(format!("enrolment {sid}: exit {x} is before start {start}"))
            }
            _ => {}
        }
    }
}

/// Every code is known; gender is present.
fn codes(row: &StoredEnrolment, sid: &str, out: &mut Vec<String>) {
    for (field, value) in &row.codes {
        let Some(v) = value else {
            if *field == "gender" {
                out.push(format!("enrolment {sid}: gender is missing"));
            }
            continue;
        };
        let valid = match *field {
            "gender" => Gender::from_code(v).is_some(),
            "support" | "support_after" => Support::from_code(v).is_some(),
            "years_in_support" => YearsInSupport::from_code(v).is_some(),
            "education" => Education::from_code(v).is_some(),
            "referrer" => Referrer::from_code(v).is_some(),
            "outcome" => Outcome::from_code(v).is_some(),
            "step_progress" => StepProgress::from_code(v).is_some(),
            _ => QualityOfLife::from_code(v).is_some(),
        };
        if !valid {
            out.push(format!("enrolment {sid}: unknown {field} code '{v}'"));
        }
    }
}

/// An exit date and an outcome come together.
fn exit_and_outcome(row: &StoredEnrolment, sid: &str, out: &mut Vec<String>) {
    if row.exit.is_some() != row.codes[5].1.is_some() {
        out.push(format!(
            "enrolment {sid}: exit date and outcome must be both present or both absent"
        ));
    }
}

/// File the enrolment under its participant (person or local id), for the
/// overlap rule; enrolments with neither cannot overlap.
fn participant(row: &StoredEnrolment, by_participant: &mut ByParticipant) {
    let key = match (row.person_id, &row.local_id) {
        (Some(p), _) => Some(format!("p{p}")),
        (None, Some(l)) => Some(format!("l{l}")),
        _ => None,
    };
    if let Some(k) = key {
        by_participant
            .entry((k, row.intervention.clone()))
            .or_default()
            .push((row.id.clone(), row.start.clone(), row.exit.clone()));
    }
}

/// One participant's enrolments in one intervention do not overlap.
fn overlaps(by_participant: ByParticipant) -> Vec<String> {
    let mut overlaps = Vec::new();
    for ((_, intervention), list) in by_participant {
        // Sorted by start (query order); each must end before the next starts.
        for w in list.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            let a_end = a.2.as_deref().unwrap_or("9999-99-99");
            if b.1.as_str() <= a_end {
                overlaps.push(format!(
                    "enrolments {} and {} of one participant in {intervention} overlap",
                    short_id(&a.0),
                    short_id(&b.0)
                ));
            }
        }
    }
    overlaps.sort();
    overlaps
}

/// A stored municipality that is no kommunkod: a name kept by migration 2
/// because it matched no kommun (SPEC section 14), or a value written
/// behind our back. Says what it might be and how to correct it.
fn unmatched_municipality(sid: &str, stored: &str) -> Option<String> {
    if Kommun::from_code(stored).is_some() {
        return None;
    }
    // Quoted only if it is something a person could have typed as a name:
    // a damaged value may hold anything.
    let (shown, hint) = match Kommun::parse(stored) {
        Ok(k) => (
            format!("'{stored}'"),
            format!("; it reads as {} ({})", k.name(), k.code()),
        ),
        Err(e @ (Unmatched::Ambiguous { .. } | Unmatched::Unknown { .. })) => (
            format!("'{stored}'"),
            e.hint().map(|h| format!("; {h}")).unwrap_or_default(),
        ),
        Err(_) => ("value".to_string(), String::new()),
    };
    Some(format!(
        "enrolment {sid}: municipality {shown} is not one of Sweden's kommuner: correct it with \
         `sustrack edit {sid} --municipality NAME` (NAME a kommun's name or kommunkod{hint})"
    ))
}
