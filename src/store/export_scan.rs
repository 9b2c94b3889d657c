//! The export's reads: the enrolments an export looks at, one id range at a
//! time, and the fingerprints of the persons it shows. Rows are handed to a
//! callback as borrowed text, so a national export allocates nothing per row
//! here; turning text into codes and refusing bad values is the export's job.

use rusqlite::types::ValueRef;
use rusqlite::{named_params, Connection, OptionalExtension};

use crate::error::{Error, Result};

/// One enrolment as the export reads it. Empty text is a missing value.
pub struct ScanRow<'a> {
    pub id: &'a str,
    pub intervention: &'a str,
    /// `None`: an anonymous enrolment.
    pub person_id: Option<i64>,
    /// The team's own id of an anonymous participant, if any.
    pub local_id: &'a str,
    pub gender: &'a str,
    pub birth_year: Option<i64>,
    pub start: &'a str,
    pub exit: &'a str,
    pub municipality: &'a str,
    /// support, years_in_support, education, referrer, outcome,
    /// support_after, step_progress, quality_of_life: the export's order.
    pub codes: [&'a str; 8],
}

const SELECT: &str = "SELECT id, intervention, person_id, local_id, gender, birth_year, start_date, exit_date, \
     municipality, support, years_in_support, education, referrer, outcome, support_after, step_progress, \
     quality_of_life FROM enrolment WHERE id >= :lo AND id < :hi";

/// Call `f` for every enrolment with an id in `[lo, hi)` (see
/// `enrolments::id_ranges`), in id order; with `period` (`from`, `to` as
/// `YYYY-MM-DD`) only those active in it.
pub fn scan(
    conn: &Connection,
    period: Option<(&str, &str)>,
    (lo, hi): (&str, &str),
    mut f: impl FnMut(ScanRow<'_>) -> Result<()>,
) -> Result<()> {
    let mut stmt;
    let mut rows = match period {
        Some((from, to)) => {
            stmt = conn.prepare(&format!(
                "{SELECT} AND +start_date <= :to AND (+exit_date IS NULL OR +exit_date >= :from)"
            ))?;
            stmt.query(named_params! {":lo": lo, ":hi": hi, ":from": from, ":to": to})?
        }
        None => {
            stmt = conn.prepare(SELECT)?;
            stmt.query(named_params! {":lo": lo, ":hi": hi})?
        }
    };
    while let Some(r) = rows.next()? {
        let t = |i: usize| -> Result<&str> { Ok(text(r.get_ref(i)?)) };
        let int = |i: usize| -> Result<Option<i64>> {
            Ok(r.get_ref(i)?
                .as_i64_or_null()
                .map_err(rusqlite::Error::from)?)
        };
        f(ScanRow {
            id: t(0)?,
            intervention: t(1)?,
            person_id: int(2)?,
            local_id: t(3)?,
            gender: t(4)?,
            birth_year: int(5)?,
            start: t(6)?,
            exit: t(7)?,
            municipality: t(8)?,
            codes: [
                t(9)?,
                t(10)?,
                t(11)?,
                t(12)?,
                t(13)?,
                t(14)?,
                t(15)?,
                t(16)?,
            ],
        })?;
    }
    Ok(())
}

/// Call `f` with each person's fingerprint, for `ids` in the order given
/// (ascending ids read the pages in order).
pub fn fingerprints(
    conn: &Connection,
    ids: &[i64],
    mut f: impl FnMut(i64, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare("SELECT fingerprint FROM person WHERE id = :id")?;
    for &id in ids {
        let fp: Vec<u8> = stmt
            .query_row(named_params! {":id": id}, |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                Error::Database(
                    "an enrolment refers to a missing person; run `sustrack check`".into(),
                )
            })?;
        f(id, &fp)?;
    }
    Ok(())
}

fn text(v: ValueRef<'_>) -> &str {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
        _ => "",
    }
}
