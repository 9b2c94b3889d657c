//! The schema's history: an append-only list of migrations, applied in
//! order inside the opening transaction (`PRAGMA user_version` is the
//! number applied). Never remove, edit or reorder an entry: append one.
//!
//! A migration is SQL, or Rust where it must compute (mapping stored
//! values onto a code list, rewriting old audit rows once). One that changes
//! a table's constraints rebuilds the table as SQLite's documentation
//! describes (foreign keys off outside the transaction, copy,
//! `foreign_key_check` before commit). Each version has an upgrade test
//! from a fixture of the version before.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::Result;

pub enum Migration {
    Sql(&'static str),
    Rust(fn(&Transaction) -> Result<()>),
}

pub const MIGRATIONS: &[Migration] = &[
    // 1: the first schema.
    Migration::Sql(include_str!("../../schema.sql")),
    // 2: municipality names become kommunkoder.
    Migration::Rust(super::kommunkod::migrate),
    // 3: the audit trail keeps who did what to which id and which fields,
    // never the values: old entries lose theirs, once. Touches only the
    // audit table, so it holds wherever it stands in this list.
    Migration::Rust(audit_without_values),
    // 4: the server's users, roles, grants, enrolment links and sessions.
    Migration::Sql(include_str!("v4_accounts.sql")),
    // 5: the staff page's list of an intervention's open and recent
    // enrolments without reading the whole register. Reports and exports
    // keep their one sequential scan (their date conditions are written
    // `+start_date`, which no index serves).
    Migration::Sql("CREATE INDEX enrolment_by_intervention ON enrolment(intervention, exit_date);"),
    // 6: the audit trail page's list of actions and its action filter
    // without reading the whole trail (which grows by a row per page view).
    Migration::Sql("CREATE INDEX audit_by_action ON audit(action);"),
    // 7: e-ID sign-in (OpenID Connect): a user's bound identity.
    Migration::Sql(include_str!("v7_identity.sql")),
    // 8: targets per year and förbund-defined indicators.
    Migration::Sql(include_str!("v8_targets.sql")),
    // 9: published reports, audit entries reduced to counts (purge).
    Migration::Sql(include_str!("v9_rights.sql")),
    // 10: interventions of kind `structural` (a rebuild of the table),
    // activities, referrals and budgets.
    Migration::Sql(include_str!("v10_beyond.sql")),
];

fn audit_without_values(tx: &Transaction) -> Result<()> {
    super::audit::remove_values(tx).map(|_| ())
}

/// The schema version this program writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// Run `f` (which migrates) in one exclusive transaction with foreign
/// keys off, as a table rebuild needs (the pragma has no effect inside a
/// transaction, so it is set around it); before the commit every foreign
/// key is checked, so a migration cannot leave a dangling reference.
pub fn upgrade<T>(conn: &mut Connection, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let result = (|| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        let value = f(&tx)?;
        let dangling: Vec<(String, String, i64)> = tx
            .prepare(
                "SELECT \"table\", parent, count(*) FROM pragma_foreign_key_check GROUP BY 1, 2",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if !dangling.is_empty() {
            let which: Vec<String> = dangling
                .iter()
                .map(|(t, p, n)| format!("{n} row(s) of {t} name a missing {p}"))
                .collect();
            return Err(crate::error::Error::Database(format!(
                "this file holds references to rows that do not exist ({}), so it cannot be upgraded; nothing was changed. Restore a backup, or ask for help repairing the file",
                which.join(", ")
            )));
        }
        tx.commit()?;
        Ok(value)
    })();
    conn.pragma_update(None, "foreign_keys", "ON")?;
    result
}

/// Apply every migration the database lacks; returns the version it had.
pub fn migrate(tx: &Transaction) -> Result<i32> {
    let version: i32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, m) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        match m {
            Migration::Sql(sql) => tx.execute_batch(sql)?,
            Migration::Rust(f) => f(tx)?,
        }
        tx.pragma_update(None, "user_version", (i + 1) as i32)?;
    }
    tx.pragma_update(None, "application_id", super::APPLICATION_ID)?;
    Ok(version)
}
