//! Test harness: the real binary in a fresh temporary directory. On
//! failure it prints the command, status, stdout and stderr.
#![allow(dead_code)]

pub mod oidc;
pub mod web;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: PathBuf,
}

impl Env {
    /// A fresh directory with an initialised database (test KDF profile).
    pub fn new() -> Env {
        let env = Env::empty();
        env.ok(&["init", "--kdf", "test"]);
        env
    }

    /// A fresh directory without a database.
    pub fn empty() -> Env {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("test.db");
        Env { dir, db }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, "")
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        Command::from_std(self.std_command(args))
            .write_stdin(stdin)
            .output()
            .expect("run sustrack")
    }

    /// The command `run` would run, to adjust (environment, uid, pipes)
    /// before running it.
    pub fn std_command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("sustrack"));
        c.current_dir(self.dir.path())
            .env_remove("SUSTRACK_DB")
            .env("USER", "tester")
            .arg("--db")
            .arg(&self.db)
            .args(args);
        c
    }

    /// Run, expect success, return stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        if !out.status.success() {
            panic!("{}", describe(args, &out));
        }
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Run, expect the given exit code, return stderr.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        if out.status.code() != Some(code) {
            panic!("expected exit code {code}\n{}", describe(args, &out));
        }
        let err = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert!(
            err.lines().any(|l| l.starts_with("error: ")),
            "no 'error: ' line\n{err}"
        );
        err
    }

    /// Every row of every table, as text: to show a command changed nothing.
    pub fn dump(&self) -> String {
        dump(&self.db)
    }
}

pub fn describe(args: &[&str], out: &Output) -> String {
    format!(
        "command: sustrack {}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn dump(db: &Path) -> String {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open");
    let mut out = String::new();
    for table in [
        "meta",
        "intervention",
        "person",
        "enrolment",
        "volume",
        "target",
        "indicator_def",
        "activity",
        "referral",
        "budget",
        "published",
        "audit_count",
        "audit",
    ] {
        // Tables a migration adds are absent from an older file.
        let exists: bool = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get::<_, i64>(0),
            )
            .expect("schema")
            > 0;
        if !exists {
            continue;
        }
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY 1"))
            .expect("prepare");
        let n = stmt.column_count();
        let mut rows = stmt.query([]).expect("query");
        while let Some(r) = rows.next().expect("row") {
            let cells: Vec<String> = (0..n).map(|i| cell(r.get_ref(i).expect("cell"))).collect();
            out.push_str(&format!("{table}: {}\n", cells.join(" | ")));
        }
    }
    out
}

/// A stored value as a reader sees it: text as text (so that a test's
/// `!dump.contains(...)` can fail), blobs in hex, NULL by name.
pub fn cell(v: rusqlite::types::ValueRef) -> String {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => "NULL".into(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => format!(
            "x'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

/// A synthetic personnummer `YYYYMMDD-NNNC` with a valid check digit.
/// `yyyymmdd` and a three-digit serial; odd last serial digit = man.
pub fn pnr(yyyymmdd: &str, serial: u32) -> String {
    let nine: Vec<u8> = format!("{}{serial:03}", &yyyymmdd[2..])
        .bytes()
        .map(|b| b - b'0')
        .collect();
    format!(
        "{yyyymmdd}-{serial:03}{}",
        sustrack::identity::luhn_check_digit(&nine)
    )
}

/// The table with this id in a report's JSON; panics naming it if absent.
pub fn json_table<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["tables"]
        .as_array()
        .expect("tables is an array")
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no table {id} in the report"))
}
