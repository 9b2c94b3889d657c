//! The reads of `sustrack check`: SQLite's own integrity and foreign-key
//! checks, and every enrolment as raw stored text, so that damaged values
//! reach the domain rules (`crate::check`) as findings, not as errors.

use rusqlite::Connection;

use crate::error::Result;

/// The code columns `check` validates, in the order it reports them.
pub const CODE_COLUMNS: [&str; 9] = [
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

/// One enrolment as stored, nothing parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEnrolment {
    pub id: String,
    pub intervention: String,
    pub person_id: Option<i64>,
    pub local_id: Option<String>,
    pub start: String,
    pub exit: Option<String>,
    /// (column, value) for each of [`CODE_COLUMNS`], in that order.
    pub codes: Vec<(&'static str, Option<String>)>,
    /// A kommunkod, or a legacy name that matched no kommun.
    pub municipality: Option<String>,
}

/// What `PRAGMA integrity_check` finds (nothing when the file is sound).
pub fn integrity(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let mut out = Vec::new();
    for r in stmt.query_map([], |r| r.get::<_, String>(0))? {
        let r = r?;
        if r != "ok" {
            out.push(r);
        }
    }
    Ok(out)
}

/// What `PRAGMA foreign_key_check` finds: (table, rowid, parent table).
pub fn foreign_keys(conn: &Connection) -> Result<Vec<(String, Option<i64>, String)>> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every enrolment, ordered by start date (the overlap rule relies on it).
pub fn enrolments(conn: &Connection) -> Result<Vec<StoredEnrolment>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT id, intervention, person_id, local_id, start_date, exit_date, {}, municipality \
         FROM enrolment ORDER BY start_date",
        CODE_COLUMNS.join(", ")
    ))?;
    let rows = stmt.query_map([], |r| {
        let mut codes = Vec::with_capacity(CODE_COLUMNS.len());
        for (i, f) in CODE_COLUMNS.iter().enumerate() {
            codes.push((*f, r.get::<_, Option<String>>(6 + i)?));
        }
        Ok(StoredEnrolment {
            id: r.get(0)?,
            intervention: r.get(1)?,
            person_id: r.get(2)?,
            local_id: r.get(3)?,
            start: r.get(4)?,
            exit: r.get(5)?,
            municipality: r.get(6 + CODE_COLUMNS.len())?,
            codes,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
