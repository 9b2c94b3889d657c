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

/// A column of the scan: [`enrolments::COLUMNS`] but the id, in that
/// order (a report never shows an id, and each column read costs a copy
/// per row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
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

/// The names of the [`Col`] columns, in order.
fn columns() -> Vec<&'static str> {
    enrolments::COLUMNS
        .split(',')
        .map(str::trim)
        .filter(|&c| c != "id")
        .collect()
}

/// One enrolment of a scan, borrowed from the statement.
pub struct ScanRow<'r>(&'r Row<'r>);

impl<'r> ScanRow<'r> {
    #[inline]
    fn value(&self, c: Col) -> Result<ValueRef<'r>> {
        Ok(self.0.get_ref(c as usize)?)
    }

    /// A text column; `None` when NULL (or, in a damaged file, not text).
    #[inline]
    pub fn text(&self, c: Col) -> Result<Option<&'r str>> {
        Ok(match self.value(c)? {
            ValueRef::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        })
    }

    /// An integer column; `None` when NULL (or not an integer).
    #[inline]
    pub fn integer(&self, c: Col) -> Result<Option<i64>> {
        Ok(match self.value(c)? {
            ValueRef::Integer(i) => Some(i),
            _ => None,
        })
    }

    /// A code column: `None` when NULL, an error for an unknown code or a
    /// value that is not text.
    #[inline]
    pub fn code<C: Code>(&self, c: Col) -> Result<Option<C>> {
        match self.value(c)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => {
                let s = std::str::from_utf8(t).unwrap_or("");
                C::from_code(s)
                    .map(Some)
                    .ok_or_else(|| unknown_code::<C>(s))
            }
            _ => Err(not_text::<C>()),
        }
    }
}

#[cold]
fn unknown_code<C: Code>(s: &str) -> Error {
    Error::Database(format!(
        "unknown {} code '{s}' in the database; run `sustrack check`",
        C::FIELD
    ))
}

#[cold]
fn not_text<C: Code>() -> Error {
    Error::Database(format!(
        "a {} value in the database is not text; run `sustrack check`",
        C::FIELD
    ))
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
    // Unary `+` keeps SQLite from using an index on the dates (such as
    // `enrolment_by_intervention`, through a skip-scan): one sequential
    // scan of the table is what a report wants (see BENCHMARKS.md).
    const ACTIVE: &str = "+start_date <= :to AND (+exit_date IS NULL OR +exit_date >= :from)";
    let columns = columns().join(", ");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{Gender, InterventionKind, Outcome};
    use crate::identity::KdfProfile;
    use crate::model::Intervention;
    use crate::store::{interventions, Memory};

    fn db() -> Connection {
        let m = Memory::open(KdfProfile::Test).unwrap();
        for (code, kind) in [
            ("A", InterventionKind::Individual),
            ("V", InterventionKind::Volume),
        ] {
            interventions::insert(
                &m.conn,
                &Intervention {
                    code: code.into(),
                    name: code.into(),
                    parent: None,
                    kind,
                    target_work_studies: None,
                    target_step: None,
                    target_qol: None,
                },
            )
            .unwrap();
        }
        m.conn
    }

    /// An enrolment whose municipality is its id, so a scan shows which it read.
    fn enrol(conn: &Connection, id: &str, gender: &str, start: &str, exit: Option<&str>) {
        conn.execute(
            "INSERT INTO enrolment (id, intervention, gender, start_date, exit_date, outcome, birth_year, municipality) \
             VALUES (:id, 'A', :gender, :start, :exit, CASE WHEN :exit IS NULL THEN NULL ELSE 'work' END, 1990, :id)",
            named_params! {":id": id, ":gender": gender, ":start": start, ":exit": exit},
        )
        .unwrap();
    }

    fn ids(conn: &Connection, from: &str, to: &str, part: Option<(&str, &str)>) -> Vec<String> {
        let mut out = Vec::new();
        active_enrolments(conn, from, to, part, |r| {
            out.push(r.text(Col::Municipality)?.unwrap().to_string());
            Ok(())
        })
        .unwrap();
        out.sort();
        out
    }

    #[test]
    fn columns_name_the_positions_of_the_one_column_list() {
        let names = columns();
        let expect = [
            (Col::Intervention, "intervention"),
            (Col::PersonId, "person_id"),
            (Col::LocalId, "local_id"),
            (Col::Gender, "gender"),
            (Col::BirthYear, "birth_year"),
            (Col::Start, "start_date"),
            (Col::Exit, "exit_date"),
            (Col::Municipality, "municipality"),
            (Col::Support, "support"),
            (Col::YearsInSupport, "years_in_support"),
            (Col::Education, "education"),
            (Col::Referrer, "referrer"),
            (Col::Outcome, "outcome"),
            (Col::SupportAfter, "support_after"),
            (Col::StepProgress, "step_progress"),
            (Col::QualityOfLife, "quality_of_life"),
        ];
        assert_eq!(names.len(), expect.len());
        for (c, name) in expect {
            assert_eq!(names[c as usize], name, "{c:?}");
        }
    }

    #[test]
    fn scan_reads_the_active_population_whole_or_in_id_parts() {
        let conn = db();
        enrol(&conn, "0a", "woman", "2020-03-01", None); // active, still open
        enrol(&conn, "3b", "man", "2021-12-31", None); // starts on the last day
        enrol(&conn, "7c", "man", "2019-01-01", Some("2021-01-01")); // exits on the first day
        enrol(&conn, "9d", "woman", "2019-01-01", Some("2020-12-31")); // gone before
        enrol(&conn, "ce", "woman", "2022-01-01", None); // not yet started
        enrol(&conn, "ff", "woman", "2021-06-01", Some("2021-07-01"));
        let all = ids(&conn, "2021-01-01", "2021-12-31", None);
        assert_eq!(all, ["0a", "3b", "7c", "ff"]);
        let mut parts = Vec::new();
        for (lo, hi) in enrolments::id_ranges(3) {
            let part = ids(&conn, "2021-01-01", "2021-12-31", Some((&lo, &hi)));
            assert!(part.len() < all.len(), "{lo}..{hi} is only a part");
            parts.extend(part);
        }
        parts.sort();
        assert_eq!(parts, all);
    }

    #[test]
    fn scan_rows_decode_codes_and_refuse_damaged_ones() {
        let conn = db();
        enrol(&conn, "01", "woman", "2021-01-01", None);
        enrol(&conn, "02", "alien", "2021-01-01", None);
        let mut seen = Vec::new();
        let err = active_enrolments(&conn, "2021-01-01", "2021-12-31", None, |r| {
            assert_eq!(r.integer(Col::BirthYear)?, Some(1990));
            assert_eq!(r.integer(Col::PersonId)?, None);
            assert_eq!(r.text(Col::LocalId)?, None);
            assert_eq!(r.code::<Outcome>(Col::Outcome)?, None);
            seen.push(r.code::<Gender>(Col::Gender)?);
            Ok(())
        })
        .unwrap_err();
        assert_eq!(seen, [Some(Gender::Woman)]);
        let msg = err.to_string();
        assert!(msg.contains("unknown gender code 'alien'"), "{msg}");
        assert!(msg.contains("sustrack check"), "{msg}");
    }

    #[test]
    fn volume_sums_cover_the_months_asked_and_zero_without_any() {
        let conn = db();
        assert_eq!(
            volume_sums(&conn, "V", "2021-01", "2021-12").unwrap(),
            [0, 0]
        );
        for (month, w, m) in [("2020-12", 100, 100), ("2021-01", 3, 4), ("2021-12", 5, 6)] {
            conn.execute(
                "INSERT INTO volume (intervention, month, women, men) VALUES ('V', ?1, ?2, ?3)",
                (month, w, m),
            )
            .unwrap();
        }
        assert_eq!(
            volume_sums(&conn, "V", "2021-01", "2021-12").unwrap(),
            [8, 10]
        );
        assert_eq!(
            volume_sums(&conn, "A", "2021-01", "2021-12").unwrap(),
            [0, 0]
        );
    }
}
