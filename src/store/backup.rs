//! A consistent online copy of the database.

use std::path::Path;

use rusqlite::{named_params, Connection};

use crate::error::Result;

/// Copy the database into `file` (which must be empty or absent). `VACUUM
/// INTO` reads one consistent snapshot, however busy other writers are;
/// it cannot run inside a transaction.
pub fn vacuum_into(conn: &Connection, file: &Path) -> Result<()> {
    conn.execute(
        "VACUUM INTO :file",
        named_params! { ":file": file.to_string_lossy() },
    )?;
    Ok(())
}
