//! `sustrack check`: SQLite's own integrity and foreign-key checks plus the
//! domain rules, over data that may have been edited behind our back.
//! Findings name the enrolment (short id) and what is wrong; they never
//! name a person.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::codes::{
    Code, Education, Gender, Outcome, QualityOfLife, Referrer, StepProgress, Support,
    YearsInSupport,
};
use crate::error::Result;
use crate::kommun::{Kommun, Unmatched};
use crate::model::{parse_date, short_id};

/// (enrolment id, start date, exit date) as stored.
type Span = (String, String, Option<String>);

pub fn run(conn: &Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    for r in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let r = r?;
        if r != "ok" {
            out.push(format!("integrity: {r}"));
        }
    }
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    for r in stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (table, rowid, parent) = r?;
        out.push(format!(
            "foreign key: {table} row {} refers to a missing {parent}",
            rowid.map(|x| x.to_string()).unwrap_or_default()
        ));
    }

    // Domain rules, read as raw text so that damaged values are reported, not fatal.
    type Row = (
        String,
        String,
        Option<i64>,
        Option<String>,
        String,
        Option<String>,
        Vec<(String, Option<String>)>,
        Option<String>,
    );
    let mut stmt = conn.prepare(
        "SELECT id, intervention, person_id, local_id, start_date, exit_date, gender, support, years_in_support, \
         education, referrer, outcome, support_after, step_progress, quality_of_life, municipality \
         FROM enrolment ORDER BY start_date",
    )?;
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            let fields = [
                "gender",
                "support",
                "years_in_support",
                "education",
                "referrer",
                "outcome",
                "support_after",
                "step_progress",
                "quality_of_life",
            ];
            let mut codes = Vec::new();
            for (i, f) in fields.iter().enumerate() {
                codes.push((f.to_string(), r.get::<_, Option<String>>(6 + i)?));
            }
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                codes,
                r.get(15)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;

    let mut by_participant: HashMap<(String, String), Vec<Span>> = HashMap::new();
    for (id, intervention, person, local, start, exit, codes, municipality) in &rows {
        let sid = short_id(id);
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
        for (field, value) in codes {
            let Some(v) = value else {
                if field == "gender" {
                    out.push(format!("enrolment {sid}: gender is missing"));
                }
                continue;
            };
            let valid = match field.as_str() {
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
        if let Some(m) = municipality {
            if let Some(finding) = unmatched_municipality(sid, m) {
                out.push(finding);
            }
        }
        if exit.is_some() != codes[5].1.is_some() {
            out.push(format!(
                "enrolment {sid}: exit date and outcome must be both present or both absent"
            ));
        }
        let key = match (person, local) {
            (Some(p), _) => Some(format!("p{p}")),
            (None, Some(l)) => Some(format!("l{l}")),
            _ => None,
        };
        if let Some(k) = key {
            by_participant
                .entry((k, intervention.clone()))
                .or_default()
                .push((id.clone(), start.clone(), exit.clone()));
        }
    }
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
    out.extend(overlaps);
    Ok(out)
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
