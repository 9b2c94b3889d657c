//! Interventions (insatser): codes, names, hierarchy, targets.

use rusqlite::{Connection, OptionalExtension, Row};

use crate::error::Result;
use crate::model::Intervention;

const COLUMNS: &str = "code, name, parent, kind, target_work_studies, target_step, target_qol";

fn from_row(r: &Row) -> rusqlite::Result<Intervention> {
    Ok(Intervention {
        code: r.get(0)?,
        name: r.get(1)?,
        parent: r.get(2)?,
        kind: r.get(3)?,
        target_work_studies: r.get(4)?,
        target_step: r.get(5)?,
        target_qol: r.get(6)?,
    })
}

pub fn get(conn: &Connection, code: &str) -> Result<Option<Intervention>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM intervention WHERE code = ?1"
        ))?
        .query_row([code], from_row)
        .optional()?)
}

pub fn all(conn: &Connection) -> Result<Vec<Intervention>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM intervention ORDER BY code"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert(conn: &Connection, i: &Intervention) -> Result<()> {
    conn.execute(
        &format!("INSERT INTO intervention ({COLUMNS}, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        (
            &i.code,
            &i.name,
            &i.parent,
            i.kind,
            i.target_work_studies,
            i.target_step,
            i.target_qol,
            super::now_utc(),
        ),
    )?;
    Ok(())
}
