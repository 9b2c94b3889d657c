//! The import's own statements: what the rules in `register` do not
//! already ask for a row.

use rusqlite::{named_params, Connection, OptionalExtension};

use crate::error::Result;

/// The stored head counts `(women, men)` of one volume month, if any.
pub fn volume_counts(
    conn: &Connection,
    intervention: &str,
    month: &str,
) -> Result<Option<(u32, u32)>> {
    Ok(conn
        .prepare_cached(
            "SELECT women, men FROM volume WHERE intervention = :intervention AND month = :month",
        )?
        .query_row(
            named_params! { ":intervention": intervention, ":month": month },
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Settings for one large write transaction: a big import touches pages all
/// over the enrolment table, and a larger page cache (64 MiB, allocated
/// only as used) keeps SQLite from spilling and rewriting them in the WAL
/// before the commit.
pub fn prepare_bulk_write(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(())
}
