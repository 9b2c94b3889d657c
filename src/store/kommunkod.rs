//! Migration 2: municipalities become kommunkoder.
//!
//! Version 1 stored the municipality as the name people typed (capitalised
//! per word), so one kommun could be stored as "Vänersborg" and
//! "Vanersborg". This migration reads each distinct stored name through the
//! same parser as input (`kommun`) and replaces it by the kommunkod. A name
//! that matches no kommun, or could be two, is kept exactly as stored (SPEC
//! section 14): `sustrack check` lists those with how to correct them.
//!
//! No constraint changes, so no table rebuild: one `UPDATE` per distinct
//! name, inside the migration's transaction. What it did is recorded in the
//! audit trail as counts (municipality names are not personal data, but
//! counts are all a reader needs), by "sustrack" itself: the person who
//! opened the file is in the "schema 1 -> 2" entry that follows.

use rusqlite::{named_params, Transaction};

use crate::actor::Actor;
use crate::error::Result;
use crate::kommun::Kommun;

pub fn migrate(tx: &Transaction) -> Result<()> {
    let names: Vec<(String, i64)> = tx
        .prepare(
            "SELECT municipality, count(*) FROM enrolment \
             WHERE municipality IS NOT NULL GROUP BY municipality",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if names.is_empty() {
        return Ok(());
    }
    let mut update =
        tx.prepare("UPDATE enrolment SET municipality = :code WHERE municipality = :name")?;
    let (mut mapped, mut mapped_rows, mut kept, mut kept_rows) = (0, 0, 0, 0);
    for (name, rows) in &names {
        match Kommun::parse(name) {
            Ok(k) => {
                if k.code() != name {
                    update.execute(named_params! {":code": k.code(), ":name": name})?;
                }
                mapped += 1;
                mapped_rows += rows;
            }
            Err(_) => {
                kept += 1;
                kept_rows += rows;
            }
        }
    }
    super::audit::record(
        tx,
        &Actor::owner("sustrack"),
        "migrate",
        Some("schema 2"),
        Some(&format!(
            "municipality names to kommunkod: {mapped_rows} enrolments ({mapped} spellings) mapped; \
             {kept_rows} enrolments ({kept} names) kept as stored, matching no kommun (listed by `sustrack check`)"
        )),
    )?;
    Ok(())
}
