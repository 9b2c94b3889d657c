//! The append-only audit trail. The schema's triggers refuse UPDATE and
//! DELETE; this module only ever inserts and reads, except for the one
//! migration that removed values from old entries ([`remove_values`]).
//!
//! An entry says who did what to which subject (an enrolment id, an
//! intervention code, a period) and, for a change, which fields it set:
//! never the values (dates, outcomes, municipality, counts about a person),
//! so that erasing a person leaves nothing about them here. Never a
//! personnummer or a fingerprint.

use rusqlite::{named_params, Connection};

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
    insert(conn, &actor.login, action, subject, detail)
}

fn insert(
    conn: &Connection,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: Option<&str>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, subject, detail) \
         VALUES (:at, :actor, :action, :subject, :detail)",
    )?
    .execute(named_params! {
        ":at": super::now_utc(),
        ":actor": actor,
        ":action": action,
        ":subject": subject,
        ":detail": detail,
    })?;
    Ok(())
}

/// One row of `SELECT id, at, actor, action, subject, detail`.
pub(crate) fn entry(r: &rusqlite::Row) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        subject: r.get(4)?,
        detail: r.get(5)?,
    })
}

/// The newest `limit` entries, newest first.
pub fn recent(conn: &Connection, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, actor, action, subject, detail FROM audit ORDER BY id DESC LIMIT :limit",
    )?;
    let rows = stmt.query_map(named_params! { ":limit": limit }, entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What the audit trail page asks for: each part optional.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// First day (UTC), inclusive.
    pub from: Option<chrono::NaiveDate>,
    /// Last day (UTC), inclusive.
    pub to: Option<chrono::NaiveDate>,
    /// The actor's login, exactly.
    pub login: Option<String>,
    /// The action, exactly (`start`, `report`, `sign-in`, ...).
    pub action: Option<String>,
    /// The subject starts with this (an enrolment id or its 8-character
    /// prefix, an intervention code, a login).
    pub subject: Option<String>,
    /// Entries older than this id only (the next page).
    pub before: Option<i64>,
}

/// The newest `limit` entries matching `f`, newest first.
pub fn search(conn: &Connection, f: &Filter, limit: u32) -> Result<Vec<AuditEntry>> {
    // `at` is `YYYY-MM-DDTHH:MM:SSZ`: text order is time order.
    let from = f.from.map(|d| format!("{d}T00:00:00Z"));
    let to =
        f.to.and_then(|d| d.succ_opt())
            .map(|d| format!("{d}T00:00:00Z"));
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    };
    let subject = f.subject.as_ref().map(|s| format!("{}%", escape(s)));
    // A page that showed enrolments records their short ids, space-separated
    // ("1f0e2a3b 9c8d7e6f"): an id, whole or a prefix, also matches one of
    // those words.
    let word = f
        .subject
        .as_ref()
        .map(|s| format!("% {}%", escape(crate::model::short_id(s))));
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor, action, subject, detail FROM audit \
         WHERE (:before IS NULL OR id < :before) \
           AND (:from IS NULL OR at >= :from) AND (:to IS NULL OR at < :to) \
           AND (:login IS NULL OR actor = :login) AND (:action IS NULL OR action = :action) \
           AND (:subject IS NULL OR subject LIKE :subject ESCAPE '\\' \
                OR (' ' || subject) LIKE :word ESCAPE '\\') \
         ORDER BY id DESC LIMIT :limit",
    )?;
    let rows = stmt.query_map(
        named_params! {
            ":before": f.before,
            ":from": from,
            ":to": to,
            ":login": f.login,
            ":action": f.action,
            ":subject": subject,
            ":word": word,
            ":limit": limit,
        },
        entry,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The actions the trail holds, for the page's filter.
pub fn actions(conn: &Connection) -> Result<Vec<String>> {
    // A skip through `audit_by_action`, one probe per distinct action,
    // however long the trail.
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE a(x) AS ( \
           SELECT min(action) FROM audit \
           UNION ALL SELECT (SELECT min(action) FROM audit WHERE action > a.x) FROM a WHERE a.x IS NOT NULL) \
         SELECT x FROM a WHERE x IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The detail an old entry should have had: field names instead of values.
/// `None` when the entry holds no values (it is left as it is).
pub fn without_values(action: &str, detail: Option<&str>) -> Option<Option<String>> {
    let d = detail?;
    // Only the shapes older versions wrote are rewritten: an entry already
    // listing field names is left alone, wherever this migration stands.
    let new = match action {
        // "intervention ALLIN, start 2021-01-10"
        "start" if d.starts_with("intervention ") && d.contains(", start ") => {
            Some("intervention, start_date".to_string())
        }
        // "exit 2021-03-01, outcome work"
        "exit" if d.starts_with("exit ") && d.contains(", outcome ") => {
            Some("exit_date, outcome".to_string())
        }
        // "person and 2 enrolment(s)": how many is about the person.
        "erase" => None,
        // "2021-03: 12 women, 7 men": the month names the row, as an id does.
        "volume add" | "volume replace" if d.contains(" women, ") => {
            let month = d.split(':').next().unwrap_or_default();
            Some(format!("{month}: women, men"))
        }
        // A path may hold a personnummer (`backup 19800315-2421.db`).
        "backup" => Some(crate::identity::scrub(d).into_owned()),
        _ => return None,
    };
    (new.as_deref() != Some(d)).then_some(new)
}

/// Remove values from every old entry, once, inside a migration: the
/// triggers that keep the trail append-only are dropped for the rewrite
/// and recreated as schema.sql made them. Records what it did as an entry
/// of its own (when there was anything to change). Returns how many entries changed.
pub fn remove_values(conn: &Connection) -> Result<usize> {
    let rows: Vec<(i64, String, Option<String>)> = {
        let mut stmt = conn.prepare("SELECT id, action, detail FROM audit ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;",
    )?;
    let mut n = 0;
    {
        let mut update = conn.prepare("UPDATE audit SET detail = :detail WHERE id = :id")?;
        for (id, action, detail) in &rows {
            if let Some(new) = without_values(action, detail.as_deref()) {
                update.execute(named_params! { ":detail": new, ":id": id })?;
                n += 1;
            }
        }
    }
    conn.execute_batch(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
         BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
         CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
         BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
    )?;
    // A new database has nothing to rewrite and nothing to say.
    if n > 0 {
        insert(
            conn,
            "sustrack",
            "migrate",
            None,
            Some(&format!(
                "audit trail: values removed from {n} earlier entries (only field names kept)"
            )),
        )?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn old_details_lose_their_values_and_new_ones_are_left() {
        let cases = [
            (
                "start",
                "intervention ALLIN, start 2021-01-10",
                Some(Some("intervention, start_date")),
            ),
            (
                "exit",
                "exit 2021-03-01, outcome work",
                Some(Some("exit_date, outcome")),
            ),
            ("erase", "person and 2 enrolment(s)", Some(None)),
            (
                "volume add",
                "2021-03: 12 women, 7 men",
                Some(Some("2021-03: women, men")),
            ),
            (
                "backup",
                "/tmp/19800315-2421.db",
                Some(Some("/tmp/<personnummer>.db")),
            ),
            ("edit", "referrer", None),
            ("start", "intervention, start_date, gender", None),
            ("exit", "exit_date, outcome", None),
            ("volume add", "2021-03: women, men", None),
            ("report", "2021-01-01..2021-12-31", None),
        ];
        for (action, detail, want) in cases {
            let got = without_values(action, Some(detail));
            let got = got.as_ref().map(|d| d.as_deref());
            assert_eq!(got, want, "{action}: {detail}");
        }
        assert_eq!(without_values("erase", None), None);
    }
}
