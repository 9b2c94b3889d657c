//! The reads a report makes (SPEC section 6): the one scan of the
//! enrolments active in a period, and the monthly volume head counts.
//! (Interventions and their targets come from [`super::interventions`].)
//!
//! The scan selects [`enrolments::COLUMNS`], the one list of enrolment
//! columns, and hands each row to the caller as a [`ScanRow`]: a borrowed
//! view read column by column ([`Col`]), so a pass over a million rows
//! allocates nothing here. Stored codes are decoded on the way out, and a
//! value that is not what the schema promises (text where a code belongs,
//! a known code) is a database error that points at `sustrack check`.

use rusqlite::types::ValueRef;
use rusqlite::{named_params, Connection, Row};

use super::enrolments;
use crate::codes::Code;
use crate::error::{Error, Result};

/// A column of [`enrolments::COLUMNS`], by its position in that list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Id,
    Intervention,
    PersonId,
    LocalId,
    Gender,
    BirthYear,
    Start,
    Exit,
    Municipality,
    Support,
    YearsInSupport,
    Education,
    Referrer,
    Outcome,
    SupportAfter,
    StepProgress,
    QualityOfLife,
}

/// One enrolment of a scan, borrowed from the statement.
pub struct ScanRow<'r>(&'r Row<'r>);

impl<'r> ScanRow<'r> {
    fn value(&self, c: Col) -> Result<ValueRef<'r>> {
        Ok(self.0.get_ref(c as usize)?)
    }

    /// A text column; `None` when NULL (or, in a damaged file, not text).
    pub fn text(&self, c: Col) -> Result<Option<&'r str>> {
        Ok(match self.value(c)? {
            ValueRef::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        })
    }

    /// An integer column; `None` when NULL (or not an integer).
    pub fn integer(&self, c: Col) -> Result<Option<i64>> {
        Ok(match self.value(c)? {
            ValueRef::Integer(i) => Some(i),
            _ => None,
        })
    }

    /// A code column: `None` when NULL, an error for an unknown code or a
    /// value that is not text.
    pub fn code<C: Code>(&self, c: Col) -> Result<Option<C>> {
        match self.value(c)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => {
                let s = std::str::from_utf8(t).unwrap_or("");
                C::from_code(s).map(Some).ok_or_else(|| {
                    Error::Database(format!(
                        "unknown {} code '{s}' in the database; run `sustrack check`",
                        C::FIELD
                    ))
                })
            }
            _ => Err(Error::Database(format!(
                "a {} value in the database is not text; run `sustrack check`",
                C::FIELD
            ))),
        }
    }
}

/// Call `each` for every enrolment active in `from..=to` (dates as
/// `YYYY-MM-DD`): started by `to` and not exited before `from`. With `ids`,
/// only enrolments whose id lies in `[lo, hi)` (one part of a parallel
/// scan, see [`enrolments::id_ranges`]). Rows come in id order.
pub fn active_enrolments(
    conn: &Connection,
    from: &str,
    to: &str,
    ids: Option<(&str, &str)>,
    mut each: impl FnMut(ScanRow<'_>) -> Result<()>,
) -> Result<()> {
    const ACTIVE: &str = "start_date <= :to AND (exit_date IS NULL OR exit_date >= :from)";
    let columns = enrolments::COLUMNS;
    let part = if ids.is_some() {
        " AND id >= :lo AND id < :hi"
    } else {
        ""
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {columns} FROM enrolment WHERE {ACTIVE}{part}"
    ))?;
    let mut rows = match ids {
        Some((lo, hi)) => {
            stmt.query(named_params! {":from": from, ":to": to, ":lo": lo, ":hi": hi})?
        }
        None => stmt.query(named_params! {":from": from, ":to": to})?,
    };
    while let Some(r) = rows.next()? {
        each(ScanRow(r))?;
    }
    Ok(())
}

/// Women and men of one volume intervention, summed over the months
/// `first..=last` (`YYYY-MM`); zeros when nothing was recorded.
pub fn volume_sums(
    conn: &Connection,
    intervention: &str,
    first: &str,
    last: &str,
) -> Result<[u64; 2]> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(SUM(women), 0), COALESCE(SUM(men), 0) FROM volume \
             WHERE intervention = :intervention AND month BETWEEN :first AND :last",
        )?
        .query_row(
            named_params! {":intervention": intervention, ":first": first, ":last": last},
            |r| Ok([r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64]),
        )?)
}
