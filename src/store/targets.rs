//! Targets per year and förbund-defined indicators (SPEC section 12).

use rusqlite::{named_params, Connection, OptionalExtension};

use crate::error::Result;

/// One stored year target: `intervention` `None` is the förbund's own
/// target for the total.
#[derive(Debug, Clone, PartialEq)]
pub struct YearTarget {
    pub intervention: Option<String>,
    pub year: i32,
    pub indicator: String,
    pub share: f64,
}

/// A stored förbund-defined indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredIndicator {
    pub id: String,
    /// Outcome codes, comma-separated.
    pub outcomes: String,
    pub label_sv: String,
    pub label_en: String,
    pub target: Option<f64>,
}

/// Set (or replace) one year target.
pub fn set(conn: &Connection, t: &YearTarget) -> Result<()> {
    conn.execute(
        "DELETE FROM target WHERE ifnull(intervention, '') = ifnull(:i, '') \
         AND year = :y AND indicator = :k",
        named_params! { ":i": t.intervention, ":y": t.year, ":k": t.indicator },
    )?;
    conn.execute(
        "INSERT INTO target (intervention, year, indicator, share, set_at) \
         VALUES (:i, :y, :k, :s, :at)",
        named_params! {
            ":i": t.intervention, ":y": t.year, ":k": t.indicator,
            ":s": t.share, ":at": super::now_utc(),
        },
    )?;
    Ok(())
}

/// Every target of one year.
pub fn of_year(conn: &Connection, year: i32) -> Result<Vec<YearTarget>> {
    let mut stmt = conn.prepare_cached(
        "SELECT intervention, year, indicator, share FROM target WHERE year = ?1 \
         ORDER BY ifnull(intervention, ''), indicator",
    )?;
    let rows = stmt.query_map([year], target_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every target, by year.
pub fn all(conn: &Connection) -> Result<Vec<YearTarget>> {
    let mut stmt = conn.prepare(
        "SELECT intervention, year, indicator, share FROM target \
         ORDER BY year, ifnull(intervention, ''), indicator",
    )?;
    let rows = stmt.query_map([], target_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn target_from_row(r: &rusqlite::Row) -> rusqlite::Result<YearTarget> {
    Ok(YearTarget {
        intervention: r.get(0)?,
        year: r.get(1)?,
        indicator: r.get(2)?,
        share: r.get(3)?,
    })
}

pub fn indicator_get(conn: &Connection, id: &str) -> Result<Option<StoredIndicator>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, outcomes, label_sv, label_en, target FROM indicator_def WHERE id = ?1",
        )?
        .query_row([id], from_row)
        .optional()?)
}

pub fn indicators(conn: &Connection) -> Result<Vec<StoredIndicator>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, outcomes, label_sv, label_en, target FROM indicator_def ORDER BY id",
    )?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<StoredIndicator> {
    Ok(StoredIndicator {
        id: r.get(0)?,
        outcomes: r.get(1)?,
        label_sv: r.get(2)?,
        label_en: r.get(3)?,
        target: r.get(4)?,
    })
}

pub fn indicator_insert(conn: &Connection, d: &StoredIndicator) -> Result<()> {
    conn.execute(
        "INSERT INTO indicator_def (id, outcomes, label_sv, label_en, target, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![
            d.id,
            d.outcomes,
            d.label_sv,
            d.label_en,
            d.target,
            super::now_utc()
        ],
    )?;
    Ok(())
}
