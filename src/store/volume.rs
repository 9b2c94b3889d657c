//! Head counts of volume interventions, one row per intervention and month.

use rusqlite::{named_params, Connection, OptionalExtension};

use crate::error::Result;

/// The stored (women, men) of one intervention and month (`YYYY-MM`).
pub fn get(conn: &Connection, intervention: &str, month: &str) -> Result<Option<(u32, u32)>> {
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

/// Store the head counts of one month, replacing what was there.
pub fn put(conn: &Connection, intervention: &str, month: &str, women: u32, men: u32) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO volume (intervention, month, women, men) VALUES (:intervention, :month, :women, :men) \
         ON CONFLICT (intervention, month) DO UPDATE SET women = excluded.women, men = excluded.men",
    )?
    .execute(named_params! {
        ":intervention": intervention,
        ":month": month,
        ":women": women,
        ":men": men,
    })?;
    Ok(())
}
