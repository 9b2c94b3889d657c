//! The append-only audit trail. The schema's triggers refuse UPDATE and
//! DELETE; this module only ever inserts and reads. Subjects are enrolment
//! ids, intervention codes or periods, never a personnummer or fingerprint.

use rusqlite::Connection;

use crate::actor::Actor;
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: Option<String>,
}

pub fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, subject, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute((super::now_utc(), &actor.login, action, subject, detail))?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(AuditEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            detail: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
