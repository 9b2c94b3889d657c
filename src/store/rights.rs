//! The SQL of participants' rights and the register's records (SPEC
//! section 15): forgetting a person's fingerprint, what is stored about a
//! person, retention (purge) and published reports.

use chrono::NaiveDate;
use rusqlite::{named_params, Connection, OptionalExtension};

use super::audit::AuditEntry;
use crate::codes::Gender;
use crate::error::Result;

/// Replace a person's fingerprint with `random` (so no personnummer finds
/// them again) and give each of their enrolments a new id (so nothing
/// recorded under the old ids follows them). Returns the enrolments.
pub fn forget_person(conn: &Connection, person: i64, random: &[u8; 32]) -> Result<usize> {
    conn.execute(
        "UPDATE person SET fingerprint = :fp WHERE id = :person",
        named_params! { ":fp": &random[..], ":person": person },
    )?;
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM enrolment WHERE person_id = :person")?
        .query_map(named_params! { ":person": person }, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare("UPDATE enrolment SET id = :new WHERE id = :old")?;
    for old in &ids {
        let new = uuid::Uuid::new_v4().to_string();
        stmt.execute(named_params! { ":new": new, ":old": old })?;
        // The referral that became the enrolment followed it (the foreign
        // key cascades); it gets a new id too, so an old audit entry that
        // names both leads nowhere.
        super::beyond::rekey_referral_of(conn, &new)?;
    }
    Ok(ids.len())
}

/// What the person row holds besides the fingerprint.
pub fn person_facts(conn: &Connection, person: i64) -> Result<(Gender, i32, NaiveDate)> {
    Ok(conn.query_row(
        "SELECT gender, birth_year, consent_date FROM person WHERE id = :person",
        named_params! { ":person": person },
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

/// Audit entries whose subject names one of `ids` (a full enrolment id or
/// its 8-character short form, as a whole word), oldest first. Each
/// entry's subject keeps only those words: an entry may name other
/// enrolments too (a look-up over a wider scope), and they are not the
/// reader's to see. A short id another enrolment now shares is matched
/// only in full (reads record short ids, changes full ones).
pub fn audit_about(conn: &Connection, ids: &[String]) -> Result<Vec<AuditEntry>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut shared = conn.prepare_cached(
        "SELECT count(*) FROM enrolment WHERE id >= :short AND id < :short || 'g'",
    )?;
    let mut shorts: Vec<&str> = Vec::new();
    for id in ids {
        let short = crate::model::short_id(id);
        let n: i64 = shared.query_row(named_params! { ":short": short }, |r| r.get(0))?;
        if n <= 1 {
            shorts.push(short);
        }
    }
    let needles: Vec<&str> = ids.iter().map(|id| crate::model::short_id(id)).collect();
    // One scan; SQLite narrows to subjects holding a short id, Rust checks
    // whole words.
    let cond: Vec<String> = (0..shorts.len())
        .map(|i| format!("instr(subject, ?{}) > 0", i + 1))
        .collect();
    let sql = format!(
        "SELECT id, at, actor, action, subject, detail FROM audit WHERE subject IS NOT NULL AND ({}) ORDER BY id",
        cond.join(" OR ")
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(
        rusqlite::params_from_iter(needles.iter()),
        super::audit::entry,
    )?;
    let mut out = Vec::new();
    for e in rows {
        let mut e = e?;
        let kept: Vec<&str> = e
            .subject
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .filter(|w| ids.iter().any(|id| w == id) || shorts.contains(w))
            .collect();
        if !kept.is_empty() {
            e.subject = Some(kept.join(" "));
            out.push(e);
        }
    }
    Ok(out)
}

/// What a purge of the enrolments ended before a date removes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Per intervention: enrolments removed.
    pub by_intervention: Vec<(String, usize)>,
    pub enrolments: usize,
    /// Persons left with no enrolment, removed too.
    pub persons: usize,
    /// Audit entries reduced to counts.
    pub audit_entries: usize,
}

/// The enrolments ended before `before`, per intervention. The one
/// definition of what a purge deletes: an exit date before the date.
const ENDED: &str = "exit_date IS NOT NULL AND exit_date < :before";

fn ended_by_intervention(conn: &Connection, before: &str) -> Result<Vec<(String, usize)>> {
    Ok(conn
        .prepare(&format!(
            "SELECT intervention, count(*) FROM enrolment WHERE {ENDED} GROUP BY intervention ORDER BY intervention"
        ))?
        .query_map(named_params! { ":before": before }, |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as usize))
        })?
        .collect::<rusqlite::Result<_>>()?)
}

/// What [`delete_ended_before`] and [`reduce_audit`] would remove, counted
/// by the same conditions without changing anything (a dry run).
pub fn plan_ended_before(
    conn: &Connection,
    before: NaiveDate,
    audit_before: &str,
) -> Result<Purged> {
    let before = before.to_string();
    let by_intervention = ended_by_intervention(conn, &before)?;
    // Persons with an enrolment that goes and none that stays.
    let persons: i64 = conn.query_row(
        &format!(
            "SELECT count(*) FROM (SELECT person_id FROM enrolment WHERE person_id IS NOT NULL \
             GROUP BY person_id HAVING count(*) = sum({ENDED}))"
        ),
        named_params! { ":before": before },
        |r| r.get(0),
    )?;
    let audit: i64 = conn.query_row(
        "SELECT count(*) FROM audit WHERE at < :before",
        named_params! { ":before": audit_before },
        |r| r.get(0),
    )?;
    Ok(Purged {
        enrolments: by_intervention.iter().map(|(_, n)| n).sum(),
        by_intervention,
        persons: persons as usize,
        audit_entries: audit as usize,
    })
}

/// Delete the enrolments that ended before `before` and the persons left
/// with none. Open enrolments are never touched.
pub fn delete_ended_before(conn: &Connection, before: NaiveDate) -> Result<Purged> {
    let before = before.to_string();
    let by_intervention = ended_by_intervention(conn, &before)?;
    conn.execute_batch("CREATE TEMP TABLE IF NOT EXISTS purge_person (id INTEGER PRIMARY KEY)")?;
    conn.execute("DELETE FROM temp.purge_person", [])?;
    conn.execute(
        &format!("INSERT OR IGNORE INTO temp.purge_person SELECT person_id FROM enrolment WHERE person_id IS NOT NULL AND {ENDED}"),
        named_params! { ":before": before },
    )?;
    let enrolments = conn.execute(
        &format!("DELETE FROM enrolment WHERE {ENDED}"),
        named_params! { ":before": before },
    )?;
    let persons = conn.execute(
        "DELETE FROM person WHERE id IN (SELECT id FROM temp.purge_person) \
         AND NOT EXISTS (SELECT 1 FROM enrolment WHERE person_id = person.id)",
        [],
    )?;
    conn.execute("DELETE FROM temp.purge_person", [])?;
    Ok(Purged {
        by_intervention,
        enrolments,
        persons,
        audit_entries: 0,
    })
}

/// Reduce the audit entries made before `before` (UTC RFC 3339 text) to
/// counts per month, actor and action. Returns the entries removed.
pub fn reduce_audit(conn: &Connection, before: &str) -> Result<usize> {
    conn.execute(
        "INSERT INTO audit_count (month, actor, action, count) \
         SELECT substr(at, 1, 7), actor, action, count(*) FROM audit WHERE at < :before \
         GROUP BY 1, 2, 3 \
         ON CONFLICT (month, actor, action) DO UPDATE SET count = count + excluded.count",
        named_params! { ":before": before },
    )?;
    conn.execute("INSERT INTO audit_reduction (active) VALUES (1)", [])?;
    let n = conn.execute(
        "DELETE FROM audit WHERE at < :before",
        named_params! { ":before": before },
    )?;
    conn.execute("DELETE FROM audit_reduction", [])?;
    Ok(n)
}

/// One published version of a period's report.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub at: String,
    pub by: String,
    pub report_sv: String,
    pub report_en: String,
}

fn published_row(r: &rusqlite::Row) -> rusqlite::Result<Published> {
    Ok(Published {
        id: r.get(0)?,
        from: r.get(1)?,
        to: r.get(2)?,
        at: r.get(3)?,
        by: r.get(4)?,
        report_sv: r.get(5)?,
        report_en: r.get(6)?,
    })
}

const PUBLISHED: &str =
    "SELECT id, period_from, period_to, published_at, published_by, report_sv, report_en FROM published";

/// The newest published version of exactly this period.
pub fn published(conn: &Connection, from: NaiveDate, to: NaiveDate) -> Result<Option<Published>> {
    Ok(conn
        .prepare_cached(&format!(
            "{PUBLISHED} WHERE period_from = :from AND period_to = :to ORDER BY id DESC LIMIT 1"
        ))?
        .query_row(named_params! { ":from": from, ":to": to }, published_row)
        .optional()?)
}

/// The newest version of every published period.
pub fn all_published(conn: &Connection) -> Result<Vec<Published>> {
    let mut stmt = conn.prepare(&format!(
        "{PUBLISHED} WHERE id IN (SELECT max(id) FROM published GROUP BY period_from, period_to) \
         ORDER BY period_from, period_to"
    ))?;
    let rows = stmt.query_map([], published_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn insert_published(
    conn: &Connection,
    from: NaiveDate,
    to: NaiveDate,
    by: &str,
    sv: &str,
    en: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO published (period_from, period_to, published_at, published_by, format, report_sv, report_en) \
         VALUES (:from, :to, :at, :by, 1, :sv, :en)",
        named_params! {
            ":from": from, ":to": to, ":at": super::now_utc(), ":by": by, ":sv": sv, ":en": en,
        },
    )?;
    Ok(())
}

/// Best effort: move the write-ahead log into the file and truncate it, so
/// that values just overwritten (with `secure_delete`) do not linger in the
/// log's older frames. A reader holding an old snapshot (a long report in
/// a server) can keep it from completing; the log is then reset by the
/// next checkpoint that can.
pub fn truncate_wal(conn: &Connection) {
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}

/// One enrolment as the data-quality list reads it (no person in it).
#[derive(Debug, Clone, PartialEq)]
pub struct QualityRow {
    pub id: String,
    pub intervention: String,
    pub start: NaiveDate,
    pub exit: Option<NaiveDate>,
    pub support: bool,
    pub education: bool,
    pub support_after: bool,
    pub step_progress: bool,
}

/// Every enrolment, with which answers it has (the caller keeps those in
/// the actor's scope).
pub fn quality_rows(conn: &Connection) -> Result<Vec<QualityRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, intervention, start_date, exit_date, support IS NOT NULL, education IS NOT NULL, \
         support_after IS NOT NULL, step_progress IS NOT NULL FROM enrolment ORDER BY intervention, start_date, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(QualityRow {
            id: r.get(0)?,
            intervention: r.get(1)?,
            start: r.get(2)?,
            exit: r.get(3)?,
            support: r.get(4)?,
            education: r.get(5)?,
            support_after: r.get(6)?,
            step_progress: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An intervention's latest registrations, for the data-quality list.
pub struct Activity {
    pub code: String,
    /// When it was added (UTC date, `YYYY-MM-DD`).
    pub added: String,
    /// Its latest start or exit date.
    pub latest: Option<NaiveDate>,
    /// Its latest volume month (`YYYY-MM`).
    pub month: Option<String>,
    pub parent: Option<String>,
}

/// Every intervention's [`Activity`], by code.
pub fn intervention_activity(conn: &Connection) -> Result<Vec<Activity>> {
    let mut stmt = conn.prepare(
        "SELECT i.code, substr(i.created_at, 1, 10), \
           (SELECT max(d) FROM ( \
              SELECT max(max(start_date, ifnull(exit_date, start_date))) AS d FROM enrolment e WHERE e.intervention = i.code \
              UNION ALL SELECT max(date) FROM activity a WHERE a.intervention = i.code \
              UNION ALL SELECT max(max(date, ifnull(decided, date))) FROM referral r WHERE r.intervention = i.code)), \
           (SELECT max(month) FROM volume v WHERE v.intervention = i.code), i.parent \
         FROM intervention i ORDER BY i.code",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Activity {
            code: r.get(0)?,
            added: r.get(1)?,
            latest: r.get(2)?,
            month: r.get(3)?,
            parent: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
