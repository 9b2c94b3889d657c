//! Interventions (insatser): codes, names, hierarchy, targets.

use rusqlite::{named_params, Connection, OptionalExtension, Row};

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
            "SELECT {COLUMNS} FROM intervention WHERE code = :code"
        ))?
        .query_row(named_params! { ":code": code }, from_row)
        .optional()?)
}

pub fn all(conn: &Connection) -> Result<Vec<Intervention>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM intervention ORDER BY code"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every intervention code, in order.
pub fn codes(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT code FROM intervention ORDER BY code")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert(conn: &Connection, i: &Intervention) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO intervention ({COLUMNS}, created_at) VALUES \
             (:code, :name, :parent, :kind, :target_work_studies, :target_step, :target_qol, :created_at)"
        ),
        named_params! {
            ":code": i.code,
            ":name": i.name,
            ":parent": i.parent,
            ":kind": i.kind,
            ":target_work_studies": i.target_work_studies,
            ":target_step": i.target_step,
            ":target_qol": i.target_qol,
            ":created_at": super::now_utc(),
        },
    )?;
    Ok(())
}

/// Change an intervention's name, parent, kind and targets (its code is
/// its identity and stays).
pub fn update(conn: &Connection, i: &Intervention) -> Result<()> {
    conn.execute(
        "UPDATE intervention SET name = :name, parent = :parent, kind = :kind, \
         target_work_studies = :target_work_studies, target_step = :target_step, \
         target_qol = :target_qol WHERE code = :code",
        named_params! {
            ":code": i.code,
            ":name": i.name,
            ":parent": i.parent,
            ":kind": i.kind,
            ":target_work_studies": i.target_work_studies,
            ":target_step": i.target_step,
            ":target_qol": i.target_qol,
        },
    )?;
    Ok(())
}

/// How many enrolments and volume months an intervention has (a kind
/// change is refused while it has any).
pub fn enrolment_count(conn: &Connection, code: &str) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT (SELECT count(*) FROM enrolment WHERE intervention = :code) \
                  + (SELECT count(*) FROM volume WHERE intervention = :code)",
        )?
        .query_row(named_params! { ":code": code }, |r| r.get(0))?)
}
