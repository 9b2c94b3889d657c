//! The store: the one place that opens a database file.
//!
//! Opening is careful because the file holds sensitive data and may not be
//! ours at all:
//!
//! 1. A file that does not start with the SQLite header, an SQLite file
//!    whose `application_id` is not sustrack's, or a sustrack file with a
//!    schema newer than this program (`PRAGMA user_version`) is refused.
//!    These checks run over a read-only connection, so a refused file is
//!    left byte-identical.
//! 2. The read-write connection sets the pragmas every command relies on:
//!    WAL (readers never block the writer), foreign keys, full sync (a
//!    crash or power cut never loses a committed registration), and a busy
//!    timeout so several staff can register at once.
//! 3. Migrations are an append-only list; migration 1 is `schema.sql`. They
//!    run inside one `BEGIN EXCLUSIVE` transaction that also re-reads the
//!    version, so two processes upgrading at once cannot both apply one.
//!    Never remove, edit or reorder a migration: append a new one.
//!
//! New files are created owner-only (0600) before SQLite touches them;
//! SQLite gives the `-wal` and `-shm` files the same mode.

pub mod audit;
pub mod enrolments;
pub mod export_scan;
pub mod interventions;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::error::{Error, Result};
use crate::identity::{Kdf, KdfProfile};

/// "SUST", stored in the SQLite header so a foreign database is recognised.
pub const APPLICATION_ID: i32 = 0x5355_5354;

/// Append-only: see the module note.
const MIGRATIONS: &[&str] = &[include_str!("../../schema.sql")];

/// The schema version this program writes.
pub const SCHEMA_VERSION: i32 = MIGRATIONS.len() as i32;

/// An open sustrack database.
pub struct Db {
    pub conn: Connection,
    pub kdf: Kdf,
    pub path: PathBuf,
    /// Who is recorded in the audit trail (the OS user or `--by`).
    pub actor: String,
}

impl Db {
    /// Create a new database at `path`; refuses to overwrite anything.
    pub fn create(path: &Path, profile: KdfProfile, actor: &str) -> Result<Db> {
        let refuse = || {
            Error::Invalid(format!(
                "{} already exists; sustrack init never overwrites a file (choose another --db path)",
                path.display()
            ))
        };
        if path.exists() {
            return Err(refuse());
        }
        // Built complete in an owner-only temporary file beside the target
        // and moved into place without overwriting: a crash during `init`
        // never leaves a half-made database under the user's name.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".sustrack-init-")
            .tempfile_in(dir)
            .map_err(|e| Error::Io(format!("cannot create a file in {}: {e}", dir.display())))?;
        {
            let mut conn = Connection::open(tmp.path())?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            configure(&conn)?;
            let kdf = Kdf::new_random(profile);
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            migrate(&tx)?;
            write_kdf(&tx, &kdf)?;
            audit::record(
                &tx,
                actor,
                "init",
                None,
                Some(&format!("kdf {}", profile.name())),
            )?;
            tx.commit()?;
            // Closing checkpoints the log into the file and removes it.
            conn.close().map_err(|(_, e)| e)?;
        }
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                refuse()
            } else {
                Error::Io(format!("cannot create {}: {}", path.display(), e.error))
            }
        })?;
        Db::open(path, actor)
    }

    /// Open an existing sustrack database, migrating it if it is older.
    pub fn open(path: &Path, actor: &str) -> Result<Db> {
        inspect(path)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&conn)?;
        let version: i32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        // The file may have changed since `inspect` looked.
        refuse_newer(path, version)?;
        if version < SCHEMA_VERSION {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            migrate(&tx)?;
            audit::record(
                &tx,
                actor,
                "migrate",
                None,
                Some(&format!("schema {version} -> {SCHEMA_VERSION}")),
            )?;
            tx.commit()?;
        }
        let kdf = read_kdf(&conn)?;
        Ok(Db {
            conn,
            kdf,
            path: path.to_path_buf(),
            actor: actor.to_string(),
        })
    }

    /// An in-memory database for unit tests.
    pub fn open_in_memory(profile: KdfProfile) -> Result<Db> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        let kdf = Kdf::new_random(profile);
        let tx = conn.transaction()?;
        migrate(&tx)?;
        write_kdf(&tx, &kdf)?;
        tx.commit()?;
        Ok(Db {
            conn,
            kdf,
            path: PathBuf::from(":memory:"),
            actor: "test".into(),
        })
    }

    /// Run `f` in one write transaction: all of it is committed or none.
    /// `IMMEDIATE` takes the write lock up front, so concurrent writers wait
    /// (busy timeout) instead of failing on a lock upgrade.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction, &str) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx, &self.actor)?;
        tx.commit()?;
        Ok(out)
    }
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(60))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 16 MiB of page cache (allocated only as used). Reports and exports
    // scan once, sequentially, so a larger cache would only raise memory use.
    conn.pragma_update(None, "cache_size", -16_384)?;
    // Savepoints (one per imported row) keep their undo copies in memory
    // rather than in a temporary file.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Erased people and corrected values are overwritten with zeros, not
    // left in free pages of the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

/// Create a new owner-only (0600) file; never overwrites. `why` finishes
/// the message when the file exists ("sustrack init never overwrites a file").
pub fn create_private_file(path: &Path, why: &str) -> Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            Error::Invalid(format!("{} already exists; {why}", path.display()))
        }
        _ => Error::Io(format!("cannot create {}: {e}", path.display())),
    })
}

/// Refuse anything that is not a sustrack database this program understands,
/// without modifying it.
fn inspect(path: &Path) -> Result<()> {
    use std::io::Read;
    let shown = path.display();
    let mut header = [0u8; 100];
    let n = match std::fs::File::open(path) {
        Ok(f) => f.take(100).read(&mut header)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Database(format!(
                "no database at {shown}; create one with `sustrack init` or point --db (or SUSTRACK_DB) at an existing one"
            )))
        }
        Err(e) => return Err(Error::Io(format!("cannot read {shown}: {e}"))),
    };
    if n < 100 || &header[..16] != b"SQLite format 3\0" {
        return Err(Error::Database(format!(
            "{shown} is not a sustrack database (not an SQLite file); it was not modified"
        )));
    }
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let (app, version) = if wal.exists() {
        // The write-ahead log may hold newer values than the file's header:
        // ask SQLite (read-only; the sidecar files exist already).
        let ro = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let read = |pragma: &str| -> Result<i32> {
            ro.pragma_query_value(None, pragma, |r| r.get(0))
                .map_err(|e| {
                    Error::Database(format!(
                        "{shown} cannot be read as SQLite ({e}); it was not modified"
                    ))
                })
        };
        (read("application_id")?, read("user_version")?)
    } else {
        // No log: the header is authoritative, and reading it with plain file
        // I/O leaves no -wal or -shm file behind beside a file we refuse.
        let be = |at: usize| {
            i32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
        };
        (be(68), be(60))
    };
    if app != APPLICATION_ID {
        return Err(Error::Database(format!(
            "{shown} is an SQLite database but not a sustrack database; refusing to use it (it was not modified)"
        )));
    }
    refuse_newer(path, version)
}

fn refuse_newer(path: &Path, version: i32) -> Result<()> {
    if version > SCHEMA_VERSION {
        return Err(Error::Database(format!(
            "{} has schema version {version}, newer than this sustrack understands ({SCHEMA_VERSION}); \
             upgrade sustrack (the file was not modified)",
            path.display()
        )));
    }
    Ok(())
}

fn migrate(tx: &Transaction) -> Result<()> {
    let version: i32 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i32)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    Ok(())
}

fn write_kdf(tx: &Transaction, kdf: &Kdf) -> Result<()> {
    let salt: String = kdf.salt.iter().map(|b| format!("{b:02x}")).collect();
    for (k, v) in [
        ("kdf_profile", kdf.profile.name().to_string()),
        ("kdf_m_kib", kdf.m_kib.to_string()),
        ("kdf_t", kdf.t.to_string()),
        ("kdf_p", kdf.p.to_string()),
        ("salt", salt),
        ("created_at", now_utc()),
    ] {
        tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", (k, v))?;
    }
    Ok(())
}

fn read_kdf(conn: &Connection) -> Result<Kdf> {
    let get = |k: &str| -> Result<String> {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                Error::Database(format!(
                    "database is missing its '{k}' setting; run `sustrack check`"
                ))
            })
    };
    let bad = |k: &str| {
        Error::Database(format!(
            "database setting '{k}' is damaged; run `sustrack check`"
        ))
    };
    let profile = KdfProfile::parse(&get("kdf_profile")?).ok_or_else(|| bad("kdf_profile"))?;
    let num = |k: &str| -> Result<u32> { get(k)?.parse().map_err(|_| bad(k)) };
    let salt_hex = get("salt")?;
    let salt = (0..salt_hex.len())
        .step_by(2)
        .map(|i| {
            salt_hex
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| bad("salt"))?;
    let kdf = Kdf {
        profile,
        m_kib: num("kdf_m_kib")?,
        t: num("kdf_t")?,
        p: num("kdf_p")?,
        salt,
    };
    kdf.validate().map_err(Error::Database)?;
    Ok(kdf)
}

/// Current UTC time, RFC 3339, second precision.
pub fn now_utc() -> String {
    use chrono::{Datelike, Timelike};
    // Formatted by hand: an import writes one audit entry per row.
    let t = chrono::Utc::now();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
