//! Retention (gallring): `purge --ended-before DATE` deletes the
//! enrolments that ended before DATE and the persons left with none, and
//! reduces audit entries older than the retention period to counts per
//! month, actor and action. Published reports are stored apart and stay as
//! published.
//!
//! A dry run counts by the very conditions the deletions use (one
//! definition in `store::rights`) and changes nothing; the tests hold the
//! dry run's counts against the real run's.

use chrono::{Months, NaiveDate};
use rusqlite::Connection;

use crate::actor::{Action, Actor};
use crate::error::{Error, Field, Result};
use crate::register::require;
use crate::store::audit;
use crate::store::rights as stored;
pub use crate::store::rights::Purged;

/// How long audit entries are kept in full, unless `--audit-months` says.
pub const AUDIT_MONTHS: u32 = 36;

pub struct Purge {
    pub ended_before: NaiveDate,
    /// Audit entries older than this many months are reduced to counts.
    pub audit_months: u32,
    pub dry_run: bool,
}

pub fn purge(conn: &Connection, actor: &Actor, today: NaiveDate, p: &Purge) -> Result<Purged> {
    require(actor, Action::Publish)?;
    if p.ended_before > today {
        return Err(Error::invalid(
            Field::EndedBefore,
            format!(
                "{} is in the future: expected today ({today}) or earlier (a purge removes what has ended)",
                p.ended_before
            ),
        ));
    }
    if !(1..=1200).contains(&p.audit_months) {
        return Err(Error::invalid(
            Field::AuditMonths,
            format!(
                "{} is out of range: expected a number of months from 1 to 1200",
                p.audit_months
            ),
        ));
    }
    let audit_before = today
        .checked_sub_months(Months::new(p.audit_months))
        .ok_or_else(|| Error::invalid(Field::AuditMonths, "reaches before the calendar"))?;
    let audit_cut = format!("{audit_before}T00:00:00Z");
    let purged = if p.dry_run {
        stored::plan_ended_before(conn, p.ended_before, &audit_cut)?
    } else {
        let mut purged = stored::delete_ended_before(conn, p.ended_before)?;
        purged.audit_entries = stored::reduce_audit(conn, &audit_cut)?;
        purged
    };
    audit::record(
        conn,
        actor,
        if p.dry_run { "purge-dry-run" } else { "purge" },
        Some(&format!("ended before {}", p.ended_before)),
        Some(&format!(
            "{} enrolments, {} persons, {} audit entries before {audit_before} reduced to counts",
            purged.enrolments, purged.persons, purged.audit_entries
        )),
    )?;
    Ok(purged)
}
