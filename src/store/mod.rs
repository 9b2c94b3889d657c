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
//! 3. Migrations (`migrations.rs`) are an append-only list; migration 1 is
//!    `schema.sql`. They run inside one `BEGIN EXCLUSIVE` transaction that
//!    also re-reads the version, so two processes upgrading at once cannot
//!    both apply one. Never remove, edit or reorder a migration.
//! 4. A file this account may read but not write is opened read-only:
//!    reading works (SPEC section 11: `check`, `intervention list`, `log`),
//!    and every write, audit records of reads included, is refused by
//!    [`write`] with a message saying so, never SQLite's "attempt to write
//!    a readonly database". A read-only file that needs migrating is refused.
//! 5. Opening happens once per process ([`Store::open`]); the store then
//!    hands out connections ([`Store::connect`]) and consistent read
//!    snapshots for parallel scans ([`Store::snapshot`]). The actor is not
//!    part of the store: each domain call takes the [`Actor`] it acts for.
//!
//! All SQL of the program lives under this module.
//!
//! New files are created owner-only (0600) before SQLite touches them;
//! SQLite gives the `-wal` and `-shm` files the same mode.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod beyond;
pub mod check;
pub mod enrolments;
pub mod export_scan;
pub mod import;
pub mod interventions;
mod kommunkod;
pub mod migrations;
pub mod report_scan;
pub mod rights;
pub mod serve_lock;
pub mod targets;
pub mod volume;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::identity::{scrub, scrub_path, Kdf, KdfProfile};

pub use migrations::SCHEMA_VERSION;

/// "SUST", stored in the SQLite header so a foreign database is recognised.
pub const APPLICATION_ID: i32 = 0x5355_5354;

/// An opened, migrated sustrack database. Opening (checks, migrations,
/// reading the KDF parameters) happens once; after that the store hands
/// out configured connections, one per command in the CLI or one per
/// request in a server, and read snapshots for reports and exports.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    kdf: Kdf,
    read_only: bool,
}

impl Store {
    /// Create a new database at `path`; refuses to overwrite anything.
    pub fn create(path: &Path, profile: KdfProfile, actor: &Actor) -> Result<Store> {
        let refuse = || {
            Error::usage(format!(
                "{} already exists; sustrack init never overwrites a file (choose another database path)",
                scrub_path(path)
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
            .map_err(|e| Error::io(dir, format!("cannot create a file there: {e}")))?;
        {
            let mut conn = Connection::open(tmp.path())?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            configure(&conn)?;
            let kdf = Kdf::new_random(profile);
            migrations::upgrade(&mut conn, |tx| {
                migrations::migrate(tx)?;
                write_kdf(tx, &kdf)?;
                audit::record(
                    tx,
                    actor,
                    "init",
                    None,
                    Some(&format!("kdf {}", profile.name())),
                )
            })?;
            // Closing checkpoints the log into the file and removes it.
            conn.close().map_err(|(_, e)| e)?;
        }
        tmp.persist_noclobber(path).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                refuse()
            } else {
                Error::io(path, format!("cannot create it: {}", e.error))
            }
        })?;
        Store::open(path, actor)
    }

    /// Open an existing sustrack database, migrating it if it is older.
    pub fn open(path: &Path, actor: &Actor) -> Result<Store> {
        inspect(path)?;
        let read_only = !writable(path)?;
        let mut conn = Connection::open_with_flags(path, flags(read_only))?;
        configure(&conn)?;
        let version: i32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| unreadable(path, read_only, e))?;
        // The file may have changed since `inspect` looked.
        refuse_version(path, version)?;
        if version < SCHEMA_VERSION && read_only {
            return Err(Error::Database(format!(
                "{} is read-only and has schema version {version}; this sustrack must upgrade it to {SCHEMA_VERSION}, which needs write access (the file was not modified)",
                scrub_path(path)
            )));
        }
        if version < SCHEMA_VERSION && serve_lock::held(path) {
            return Err(Error::Conflict(format!(
                "{} has schema version {version} and this sustrack would upgrade it to {SCHEMA_VERSION} while `sustrack serve` is running on it: stop the server first (the file was not modified)",
                scrub_path(path)
            )));
        }
        if version < SCHEMA_VERSION {
            migrations::upgrade(&mut conn, |tx| {
                let from = migrations::migrate(tx)?;
                if from < SCHEMA_VERSION {
                    audit::record(
                        tx,
                        actor,
                        "migrate",
                        None,
                        Some(&format!("schema {from} -> {SCHEMA_VERSION}")),
                    )?;
                }
                Ok(())
            })?;
        }
        let kdf = read_kdf(&conn)?;
        Ok(Store {
            path: path.to_path_buf(),
            kdf,
            read_only,
        })
    }

    /// True when this account may read the file but not write it.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The fingerprint parameters of this database.
    pub fn kdf(&self) -> &Kdf {
        &self.kdf
    }

    /// A new connection with the pragmas every command relies on
    /// (read-only when the file is).
    pub fn connect(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(&self.path, flags(self.read_only))?;
        configure(&conn)?;
        Ok(conn)
    }

    /// `n` read-only connections, each inside a read transaction, that all
    /// see one and the same committed state, for a report or export that
    /// scans in parallel. The write lock is held only while the readers
    /// open their transactions (SQLite's WAL gives each its snapshot at its
    /// first read), then released: a registration made during a long scan
    /// is not blocked by it. Dropping a connection ends its transaction.
    pub fn snapshot(&self, n: usize) -> Result<Vec<Connection>> {
        let gate = self.connect()?;
        gate.execute_batch("BEGIN IMMEDIATE")?;
        let readers = (0..n.max(1))
            .map(|_| -> Result<Connection> {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                c.busy_timeout(std::time::Duration::from_secs(60))?;
                c.pragma_update(None, "cache_size", -16_384)?;
                c.execute_batch("BEGIN DEFERRED")?;
                // The first read fixes the snapshot.
                c.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
                Ok(c)
            })
            .collect::<Result<Vec<_>>>();
        gate.execute_batch("ROLLBACK")?;
        readers
    }
}

/// Run `f` in one write transaction: all of it is committed or none.
/// `IMMEDIATE` takes the write lock up front, so concurrent writers wait
/// (busy timeout) instead of failing on a lock upgrade.
pub fn write<T>(conn: &mut Connection, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        let path = conn.path().map(|p| scrub(p).into_owned());
        return Err(Error::Database(format!(
            "{} is read-only for this account: nothing can be changed or recorded in its audit trail (reads that show participant data are recorded too); ask the file's owner for write access or work on a writable copy",
            path.as_deref().unwrap_or("the database")
        )));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// Refresh the query planner's statistics (after a bulk load).
pub fn analyze(conn: &Connection) -> Result<()> {
    conn.execute_batch("ANALYZE")?;
    Ok(())
}

/// An in-memory database on one connection, for tests of the domain.
pub struct Memory {
    pub conn: Connection,
    pub kdf: Kdf,
}

impl Memory {
    pub fn open(profile: KdfProfile) -> Result<Memory> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        let kdf = Kdf::new_random(profile);
        migrations::upgrade(&mut conn, |tx| {
            migrations::migrate(tx)?;
            write_kdf(tx, &kdf)
        })?;
        Ok(Memory { conn, kdf })
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

/// An owner-only temporary directory beside the database `conn` holds
/// (the same disk and permissions as the file itself), removed when
/// dropped.
pub fn private_temp_dir(conn: &Connection) -> Result<tempfile::TempDir> {
    let db = conn
        .path()
        .filter(|p| !p.is_empty())
        .map(std::path::PathBuf::from)
        .ok_or_else(|| Error::Database("the database has no file".into()))?;
    let dir = db.parent().unwrap_or(Path::new("."));
    let d = tempfile::Builder::new()
        .prefix(".sustrack-tmp-")
        .tempdir_in(dir)
        .map_err(|e| Error::io(dir, format!("cannot make a temporary directory: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700));
    }
    Ok(d)
}

/// Remove temporary directories [`private_temp_dir`] left beside the
/// database `db` by a process that died before it could (a plain backup
/// copy must not outlive its request).
pub fn remove_stale_temp_dirs(db: &Path) {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name()
            .to_string_lossy()
            .starts_with(".sustrack-tmp-")
            && e.file_type().is_ok_and(|t| t.is_dir())
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
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
            Error::usage(format!("{} already exists; {why}", scrub_path(path)))
        }
        _ => Error::io_text(format!("cannot create {}: {e}", scrub_path(path))),
    })
}

/// Refuse anything that is not a sustrack database this program understands,
/// without modifying it.
fn inspect(path: &Path) -> Result<()> {
    use std::io::Read;
    let shown = scrub_path(path);
    // Looked at before opening: opening a FIFO would block, a directory
    // reads as an error that names no path.
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {
            return Err(Error::Database(format!(
                "{shown} is a directory, not a database file; point --db (or SUSTRACK_DB) at a sustrack database file inside it, or create one with `sustrack init`"
            )))
        }
        Ok(m) if !m.is_file() => {
            return Err(Error::Database(format!(
                "{shown} is not a regular file (a device, pipe or socket), so not a sustrack database; it was not touched"
            )))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Database(format!(
                "no database at {shown}; create one with `sustrack init` or point --db (or SUSTRACK_DB) at an existing one"
            )))
        }
        Err(e) => return Err(Error::io_text(format!("cannot read {shown}: {e}"))),
    }
    let mut header = [0u8; 100];
    let n = std::fs::File::open(path)
        .and_then(|f| f.take(100).read(&mut header))
        .map_err(|e| Error::io_text(format!("cannot read {shown}: {e}")))?;
    if n < 100 || &header[..16] != b"SQLite format 3\0" {
        return Err(Error::Database(format!(
            "{shown} is not a sustrack database (not an SQLite file); it was not modified"
        )));
    }
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let (app, version) = if wal.exists() {
        // The write-ahead log may hold newer values than the file's header:
        // ask SQLite (read-only; the sidecar files exist already).
        let ro = Connection::open_with_flags(path, flags(true))?;
        let read = |pragma: &str| -> Result<i32> {
            ro.pragma_query_value(None, pragma, |r| r.get(0))
                .map_err(|e| {
                    Error::Database(format!(
                        "{shown} cannot be read as SQLite ({}); it was not modified",
                        sqlite_reason(&e)
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
    refuse_version(path, version)
}

/// Refuse a schema version this program cannot use. Version 0 with
/// sustrack's mark cannot come from `init` (which sets both in one
/// transaction): an empty or damaged file, never "upgraded" into one.
fn refuse_version(path: &Path, version: i32) -> Result<()> {
    if version < 1 {
        return Err(Error::Database(format!(
            "{} is marked as a sustrack database but has no schema (version {version}): it is empty or damaged and was not modified; restore it from a backup, or create a new database with `sustrack init`",
            scrub_path(path)
        )));
    }
    if version > SCHEMA_VERSION {
        return Err(Error::Database(format!(
            "{} has schema version {version}, newer than this sustrack understands ({SCHEMA_VERSION}); \
             upgrade sustrack (the file was not modified)",
            scrub_path(path)
        )));
    }
    Ok(())
}

/// Whether this account may write the file (root may write a file whose
/// mode says read-only; a read-only file system refuses everyone).
fn writable(path: &Path) -> Result<bool> {
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(_) => Ok(true),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Ok(false)
        }
        Err(e) => Err(Error::io_text(format!(
            "cannot open {}: {e}",
            scrub_path(path)
        ))),
    }
}

fn flags(read_only: bool) -> OpenFlags {
    let access = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    access | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// A database that cannot even be read. Read-only, SQLite still needs the
/// `-shm` index beside a WAL-mode file and cannot create it in a directory
/// this account may not write: say so rather than "readonly database".
fn unreadable(path: &Path, read_only: bool, e: rusqlite::Error) -> Error {
    let shown = scrub_path(path);
    if read_only {
        Error::Database(format!(
            "{shown} is read-only and cannot be read here: SQLite needs to create {shown}-shm beside it and this account may not write that directory; copy the file to a directory you can write, or ask its owner for access"
        ))
    } else {
        Error::Database(format!("{shown} cannot be read ({})", sqlite_reason(&e)))
    }
}

/// SQLite's reason without the SQL text rusqlite quotes.
fn sqlite_reason(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        e => e.to_string(),
    }
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
