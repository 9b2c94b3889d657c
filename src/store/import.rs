//! The import's own statements: what the rules in `register` do not
//! already ask for a row.

use rusqlite::Connection;

use crate::error::Result;

/// Settings for one large write transaction: a big import touches pages all
/// over the enrolment table, and a larger page cache (64 MiB, allocated
/// only as used) keeps SQLite from spilling and rewriting them in the WAL
/// before the commit.
pub fn prepare_bulk_write(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "cache_size", -65_536)?;
    Ok(())
}
