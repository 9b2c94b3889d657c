//! The advisory lock `serve` holds beside the database (`FILE.serve.lock`,
//! SPEC section 11): one server per file, and a CLI command that would
//! migrate the schema under a running server refuses ("stop the server
//! first"). `flock` locks die with the process, so a crashed server never
//! leaves a stale lock behind.

use std::fs::{File, OpenOptions};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::identity::scrub_path;

pub struct ServeLock {
    _file: File,
}

pub fn lock_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".serve.lock");
    PathBuf::from(p)
}

fn open(db: &Path) -> Result<File> {
    let path = lock_path(db);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))
}

fn try_lock(f: &File) -> bool {
    // SAFETY: flock on a file descriptor we own; no memory is shared.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

impl ServeLock {
    /// Take the lock for a server's lifetime, or say who holds it.
    pub fn acquire(db: &Path) -> Result<ServeLock> {
        let f = open(db)?;
        if !try_lock(&f) {
            return Err(Error::Conflict(format!(
                "another `sustrack serve` is already serving {}; one server per database file",
                scrub_path(db)
            )));
        }
        Ok(ServeLock { _file: f })
    }
}

/// Is a server running on this file? (Probes by taking the lock briefly.)
pub fn held(db: &Path) -> bool {
    if !lock_path(db).exists() {
        return false;
    }
    match open(db) {
        Ok(f) => !try_lock(&f),
        Err(_) => false,
    }
}
