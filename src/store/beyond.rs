//! SQL of SPEC section 13's registers: activities, referrals, budgets
//! (migration 10). Rules live in `crate::beyond`; this module only reads
//! and writes rows.

use chrono::NaiveDate;
use rusqlite::{named_params, Connection, OptionalExtension, Row};

use crate::codes::{ActivityKind, Decision, Gender, Referrer};
use crate::error::Result;
use crate::model::Municipality;

/// One activity (an occasion with head counts).
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: String,
    pub intervention: String,
    pub date: NaiveDate,
    pub kind: ActivityKind,
    pub women: u32,
    pub men: u32,
    pub unknown: u32,
    pub organisations: Option<u32>,
}

/// One referral and, once decided, its decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Referral {
    pub id: String,
    pub intervention: String,
    pub date: NaiveDate,
    pub gender: Gender,
    pub birth_year: Option<i32>,
    pub municipality: Option<Municipality>,
    pub referrer: Option<Referrer>,
    pub decision: Option<Decision>,
    pub decided: Option<NaiveDate>,
    pub enrolment: Option<String>,
}

/// A budget line: an intervention's budget and actual cost for a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    pub intervention: String,
    pub year: i32,
    pub budget: u64,
    pub actual: Option<u64>,
}

pub fn insert_activity(conn: &Connection, a: &Activity) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO activity (id, intervention, date, kind, women, men, unknown, organisations) \
         VALUES (:id, :iv, :date, :kind, :women, :men, :unknown, :orgs)",
    )?
    .execute(named_params! {
        ":id": a.id, ":iv": a.intervention, ":date": a.date.to_string(), ":kind": a.kind,
        ":women": a.women, ":men": a.men, ":unknown": a.unknown, ":orgs": a.organisations,
    })?;
    Ok(())
}

const ACTIVITY: &str = "id, intervention, date, kind, women, men, unknown, organisations";

fn activity_row(r: &Row) -> rusqlite::Result<Activity> {
    Ok(Activity {
        id: r.get(0)?,
        intervention: r.get(1)?,
        date: r.get(2)?,
        kind: r.get(3)?,
        women: r.get(4)?,
        men: r.get(5)?,
        unknown: r.get(6)?,
        organisations: r.get(7)?,
    })
}

/// Activities of the given interventions dated in `from..=to`, by date.
pub fn activities(
    conn: &Connection,
    codes: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Activity>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ACTIVITY} FROM activity WHERE intervention = :iv AND date BETWEEN :from AND :to ORDER BY date, id"
    ))?;
    let mut out = Vec::new();
    for code in codes {
        let rows = stmt.query_map(
            named_params! { ":iv": code, ":from": from.to_string(), ":to": to.to_string() },
            activity_row,
        )?;
        for r in rows {
            out.push(r?);
        }
    }
    out.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Ok(out)
}

/// Insert a referral as given, its decision included (the domain inserts
/// undecided ones; `generate` writes decided ones in bulk).
pub fn insert_referral(conn: &Connection, r: &Referral) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO referral (id, intervention, date, gender, birth_year, municipality, referrer, decision, decided, enrolment, start_date) \
         VALUES (:id, :iv, :date, :gender, :by, :m, :ref, :d, :decided, :e, \
                 (SELECT start_date FROM enrolment WHERE id = :e))",
    )?
    .execute(named_params! {
        ":id": r.id, ":iv": r.intervention, ":date": r.date.to_string(), ":gender": r.gender,
        ":by": r.birth_year, ":m": r.municipality, ":ref": r.referrer,
        ":d": r.decision, ":decided": r.decided.map(|d| d.to_string()), ":e": r.enrolment,
    })?;
    Ok(())
}

const REFERRAL: &str =
    "id, intervention, date, gender, birth_year, municipality, referrer, decision, decided, enrolment";

fn referral_row(r: &Row) -> rusqlite::Result<Referral> {
    Ok(Referral {
        id: r.get(0)?,
        intervention: r.get(1)?,
        date: r.get(2)?,
        gender: r.get(3)?,
        birth_year: r.get(4)?,
        municipality: r.get(5)?,
        referrer: r.get(6)?,
        decision: r.get(7)?,
        decided: r.get(8)?,
        enrolment: r.get(9)?,
    })
}

/// Referrals whose id starts with `prefix` (at most `limit`).
pub fn referrals_by_prefix(conn: &Connection, prefix: &str, limit: usize) -> Result<Vec<Referral>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REFERRAL} FROM referral WHERE id >= :lo AND id < :hi ORDER BY id"
    ))?;
    let rows = stmt.query_map(
        named_params! { ":lo": prefix, ":hi": format!("{prefix}~") },
        referral_row,
    )?;
    let mut out = Vec::new();
    for r in rows.take(limit) {
        out.push(r?);
    }
    Ok(out)
}

/// Referrals of the given interventions received in `from..=to`.
pub fn referrals(
    conn: &Connection,
    codes: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Referral>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REFERRAL} FROM referral WHERE intervention = :iv AND date BETWEEN :from AND :to"
    ))?;
    let mut out = Vec::new();
    for code in codes {
        let rows = stmt.query_map(
            named_params! { ":iv": code, ":from": from.to_string(), ":to": to.to_string() },
            referral_row,
        )?;
        for r in rows {
            out.push(r?);
        }
    }
    out.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Ok(out)
}

/// The referrals of the given interventions received in `from..=to`,
/// counted by referrer, municipality, gender, the decision they had by
/// `to` (`None`: undecided then) and, for those started by `to`, the days
/// from referral to start. Counted in SQL, from the covering index alone:
/// a national register has a hundred thousand referrals a year.
pub type ReferralCount = (
    Option<Referrer>,
    Option<Municipality>,
    Gender,
    Option<Decision>,
    Option<i64>,
    u64,
);

pub fn referral_counts(
    conn: &Connection,
    codes: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ReferralCount>> {
    let mut stmt = conn.prepare_cached(
        "SELECT referrer, municipality, gender, CASE WHEN decided <= :to THEN decision END, \
           CASE WHEN decision = 'started' AND decided <= :to \
             THEN CAST(julianday(start_date) - julianday(date) AS INTEGER) END, count(*) \
         FROM referral WHERE intervention = :iv AND date BETWEEN :from AND :to GROUP BY 1, 2, 3, 4, 5",
    )?;
    let mut out = Vec::new();
    for code in codes {
        let rows = stmt.query_map(
            named_params! { ":iv": code, ":from": from.to_string(), ":to": to.to_string() },
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get::<_, i64>(5)? as u64,
                ))
            },
        )?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Undecided referrals of one intervention, oldest first.
pub fn open_referrals(conn: &Connection, code: &str) -> Result<Vec<Referral>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {REFERRAL} FROM referral WHERE intervention = :iv AND decision IS NULL ORDER BY date, id"
    ))?;
    let rows = stmt.query_map(named_params! { ":iv": code }, referral_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Record a decision on an undecided referral; false when it was decided
/// meanwhile.
pub fn decide(
    conn: &Connection,
    id: &str,
    decision: Decision,
    date: NaiveDate,
    enrolment: Option<&str>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE referral SET decision = :d, decided = :date, enrolment = :e, \
         start_date = (SELECT start_date FROM enrolment WHERE id = :e) WHERE id = :id AND decision IS NULL",
        named_params! { ":d": decision, ":date": date.to_string(), ":e": enrolment, ":id": id },
    )?;
    Ok(n == 1)
}

/// The referral that became this enrolment, if any.
pub fn referral_of_enrolment(conn: &Connection, enrolment: &str) -> Result<Option<Referral>> {
    Ok(conn
        .query_row(
            &format!("SELECT {REFERRAL} FROM referral WHERE enrolment = :e"),
            named_params! { ":e": enrolment },
            referral_row,
        )
        .optional()?)
}

/// A referral whose enrolment is deleted by mistake goes back to
/// undecided rather than with it (erasure and retention delete it, by
/// the foreign key's cascade).
pub fn undecide_for_enrolment(conn: &Connection, enrolment: &str) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE referral SET decision = NULL, decided = NULL, enrolment = NULL, start_date = NULL WHERE enrolment = :e",
        named_params! { ":e": enrolment },
    )?)
}

/// Give the referral that became `enrolment` a new id (a withdrawal).
pub fn rekey_referral_of(conn: &Connection, enrolment: &str) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE referral SET id = :new WHERE enrolment = :e",
        named_params! { ":new": uuid::Uuid::new_v4().to_string(), ":e": enrolment },
    )?)
}

pub fn get_budget(conn: &Connection, code: &str, year: i32) -> Result<Option<Budget>> {
    Ok(conn
        .query_row(
            "SELECT intervention, year, budget, actual FROM budget WHERE intervention = :iv AND year = :y",
            named_params! { ":iv": code, ":y": year },
            budget_row,
        )
        .optional()?)
}

fn budget_row(r: &Row) -> rusqlite::Result<Budget> {
    Ok(Budget {
        intervention: r.get(0)?,
        year: r.get(1)?,
        budget: r.get::<_, i64>(2)? as u64,
        actual: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
    })
}

pub fn put_budget(conn: &Connection, b: &Budget, at: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO budget (intervention, year, budget, actual, set_at) VALUES (:iv, :y, :b, :a, :at) \
         ON CONFLICT (intervention, year) DO UPDATE SET budget = excluded.budget, actual = excluded.actual, set_at = excluded.set_at",
    )?
    .execute(
        named_params! {
            ":iv": b.intervention, ":y": b.year, ":b": b.budget as i64,
            ":a": b.actual.map(|v| v as i64), ":at": at,
        },
    )?;
    Ok(())
}

/// Every budget line of the given years, by intervention and year.
pub fn budgets(conn: &Connection, years: std::ops::RangeInclusive<i32>) -> Result<Vec<Budget>> {
    let mut stmt = conn.prepare_cached(
        "SELECT intervention, year, budget, actual FROM budget WHERE year BETWEEN :a AND :b ORDER BY intervention, year",
    )?;
    let rows = stmt.query_map(
        named_params! { ":a": years.start(), ":b": years.end() },
        budget_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Each started referral's enrolment and referral date (the quality
/// list's "start before its referral").
pub fn started_referrals(conn: &Connection) -> Result<Vec<(String, NaiveDate)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT enrolment, date FROM referral WHERE enrolment IS NOT NULL ORDER BY enrolment",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
