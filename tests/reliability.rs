//! Reliability (SPEC section 9), tested against the real binary:
//!
//! - several processes registering at once: none fails, none loses a
//!   write, and the audit trail holds exactly one entry per change;
//! - an import killed with SIGKILL at random moments leaves the database
//!   as before or as after the import, never in between, and `check` passes;
//! - `backup` taken while another process writes is a consistent database;
//! - a database newer than the program, or not ours, is refused and left
//!   byte-identical; a version-1 database keeps every row;
//! - the audit trail refuses UPDATE and DELETE at the SQL level;
//! - `check` finds and names inconsistencies planted behind the program's
//!   back.
//!
//! Tests run the binary in a fresh temporary directory; on failure the
//! harness prints the command, its status, stdout and stderr. The KDF
//! profile is `test`, so hashing is cheap. Randomness (kill moments) comes
//! from a seed printed by the test; set `RELIABILITY_SEED` to replay one.

// The kill test reads /proc; elsewhere its helpers go unused.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rusqlite::Connection;
use sustrack::store::SCHEMA_VERSION;

const BIN: &str = env!("CARGO_BIN_EXE_sustrack");

/// A database in a fresh temporary directory.
struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Env {
    /// `init --kdf test` and the given interventions.
    fn new(interventions: &[&str]) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("track.db");
        let env = Env { dir, db };
        env.ok(&["init", "--kdf", "test"]);
        for code in interventions {
            env.ok(&[
                "intervention",
                "add",
                code,
                "--name",
                &format!("Insats {code}"),
            ]);
        }
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, db: &Path, args: &[&str]) -> Command {
        cmd(db, args)
    }

    fn run(&self, args: &[&str]) -> Output {
        run_on(&self.db, args)
    }

    /// Run and require success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        ok_on(&self.db, args)
    }

    fn conn(&self) -> Connection {
        Connection::open(&self.db).unwrap()
    }
}

fn cmd(db: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--db")
        .arg(db)
        .args(args)
        .env_remove("SUSTRACK_DB")
        .env("USER", "reliability")
        .stdin(Stdio::null());
    c
}

fn run_on(db: &Path, args: &[&str]) -> Output {
    cmd(db, args).output().expect("spawn sustrack")
}

fn describe(db: &Path, args: &[&str], out: &Output) -> String {
    format!(
        "command: sustrack --db {} {}\nstatus: {}\nstdout:\n{}\nstderr:\n{}",
        db.display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok_on(db: &Path, args: &[&str]) -> String {
    let out = run_on(db, args);
    assert!(out.status.success(), "{}", describe(db, args, &out));
    String::from_utf8(out.stdout).unwrap()
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// `SELECT action, count(*) FROM audit GROUP BY action`, sorted.
fn audit_counts(conn: &Connection) -> Vec<(String, i64)> {
    let mut stmt = conn
        .prepare("SELECT action, count(*) FROM audit GROUP BY action ORDER BY action")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<(String, i64)>>>()
        .unwrap();
    rows
}

fn audit(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = pairs.iter().map(|(a, n)| (a.to_string(), *n)).collect();
    v.sort();
    v
}

/// Append the Luhn check digit to nine digits (YYMMDDNNN).
fn with_check(nine: &str) -> String {
    let digits: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
    format!("{nine}{}", sustrack::identity::luhn_check_digit(&digits))
}

/// The `n`-th synthetic personnummer, `YYYYMMDD-NNNC`: a thousand serials
/// per birth date from 1960-01-01 on.
fn pnr(n: u32) -> String {
    let birth = chrono::NaiveDate::from_ymd_opt(1960, 1, 1).unwrap()
        + chrono::Duration::days((n / 1000) as i64);
    let ten = with_check(&format!("{}{:03}", birth.format("%y%m%d"), n % 1000));
    format!(
        "{}{}-{}",
        &birth.format("%Y").to_string()[..2],
        &ten[..6],
        &ten[6..]
    )
}

/// The `total` row of one table in `report --format json`.
fn report_total(json: &str, table: &str) -> Vec<i64> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let t = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == table)
        .unwrap_or_else(|| panic!("no table {table} in {json}"));
    t["total"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

// ------------------------------------------------------------ concurrency

const WORKERS: u32 = 8;
const PERSONS_PER_WORKER: u32 = 10;

/// Eight processes at a time register starts and exits into one database,
/// each worker for its own participants (half with personnummer, exited
/// by personnummer; half anonymous, exited by enrolment id).
#[test]
fn concurrent_registrations_lose_nothing() {
    let env = Arc::new(Env::new(&["CONC"]));
    let barrier = Arc::new(Barrier::new(WORKERS as usize));
    let started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let env = Arc::clone(&env);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                let mut failures = Vec::new();
                let mut check = |args: &[&str]| -> String {
                    let out = env.run(args);
                    if !out.status.success() {
                        failures.push(describe(&env.db, args, &out));
                    }
                    String::from_utf8_lossy(&out.stdout).trim().to_string()
                };
                for k in 0..PERSONS_PER_WORKER {
                    let day = chrono::NaiveDate::from_ymd_opt(2021, 1, 4).unwrap()
                        + chrono::Duration::days((k * 15 + w) as i64);
                    let start = day.to_string();
                    let exit = (day + chrono::Duration::days(120)).to_string();
                    if k % 2 == 0 {
                        let p = pnr(w * 100 + k);
                        check(&[
                            "start",
                            "--intervention",
                            "CONC",
                            "--pnr",
                            &p,
                            "--consent",
                            "--date",
                            &start,
                            "--support",
                            "social_assistance",
                        ]);
                        check(&[
                            "exit",
                            "--intervention",
                            "CONC",
                            "--pnr",
                            &p,
                            "--date",
                            &exit,
                            "--outcome",
                            "work",
                        ]);
                    } else {
                        let gender = if w % 2 == 0 { "K" } else { "M" };
                        let id = check(&[
                            "start",
                            "--intervention",
                            "CONC",
                            "--anonymous",
                            "--gender",
                            gender,
                            "--date",
                            &start,
                        ]);
                        check(&["exit", "--id", &id, "--date", &exit, "--outcome", "studies"]);
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = workers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    eprintln!(
        "{} processes in {} concurrent streams took {:.1?}",
        WORKERS * PERSONS_PER_WORKER * 2,
        WORKERS,
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} commands failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );

    let n = (WORKERS * PERSONS_PER_WORKER) as i64;
    let conn = env.conn();
    assert_eq!(count(&conn, "SELECT count(*) FROM enrolment"), n);
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM enrolment WHERE exit_date IS NOT NULL"
        ),
        n
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM person"), n / 2);
    assert_eq!(
        audit_counts(&conn),
        audit(&[
            ("init", 1),
            ("intervention add", 1),
            ("start", n),
            ("exit", n)
        ])
    );
    // Every change's audit entry names its enrolment, once.
    assert_eq!(
        count(
            &conn,
            "SELECT count(DISTINCT subject) FROM audit WHERE action IN ('start', 'exit') \
             AND subject IN (SELECT id FROM enrolment)"
        ),
        n
    );
    drop(conn);

    let json = env.ok(&["report", "--year", "2021", "--format", "json"]);
    let total = report_total(&json, "participation");
    assert_eq!(&total[..3], &[n, n, n], "active, new, exited: {json}");
    assert_eq!(report_total(&json, "outcome").last(), Some(&n));
    env.ok(&["check"]);
    assert_eq!(
        audit_counts(&env.conn()),
        audit(&[
            ("init", 1),
            ("intervention add", 1),
            ("start", n),
            ("exit", n),
            ("report", 1)
        ])
    );
}

/// Eight processes start the same person in the same intervention at the
/// same moment: exactly one wins, the others are refused cleanly (exit
/// code 2, the rule's message), and nothing is duplicated.
#[test]
fn racing_starts_of_one_person_make_one_enrolment() {
    let env = Arc::new(Env::new(&["RACE"]));
    let p = pnr(777);
    let children: Vec<Child> = (0..WORKERS)
        .map(|_| {
            env.cmd(
                &env.db,
                &[
                    "start",
                    "--intervention",
                    "RACE",
                    "--pnr",
                    &p,
                    "--consent",
                    "--date",
                    "2021-03-01",
                ],
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let winners = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(winners, 1, "{:#?}", outs);
    for o in outs.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains("already has an open enrolment"), "{err}");
    }
    let conn = env.conn();
    assert_eq!(count(&conn, "SELECT count(*) FROM enrolment"), 1);
    assert_eq!(count(&conn, "SELECT count(*) FROM person"), 1);
    assert_eq!(
        audit_counts(&conn),
        audit(&[("init", 1), ("intervention add", 1), ("start", 1)])
    );
}

// ---------------------------------------------------------------- crashes

const KILLS: usize = 20;

/// Rows in the big import: 20,000 in release builds, 10,000 in debug
/// builds (so twenty-two kills stay quick); `RELIABILITY_IMPORT_ROWS`
/// overrides. Each participant has a start row and an exit row; a tenth
/// are identified by personnummer, the rest anonymous (local id): argon2,
/// even in the test profile, is a fifth of a debug build's import time.
fn import_participants() -> u32 {
    let rows = std::env::var("RELIABILITY_IMPORT_ROWS")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(if cfg!(debug_assertions) {
            10_000
        } else {
            20_000
        });
    (rows / 2).max(100)
}

fn big_import_csv(participants: u32) -> String {
    let mut s = String::from(
        "event,intervention,pnr,consent,local_id,gender,birth_year,date,municipality,support,\
         years_in_support,education,referrer,outcome,support_after,step_progress,quality_of_life\n",
    );
    let who = |i: u32| {
        if i.is_multiple_of(10) {
            (pnr(i), String::new())
        } else {
            (String::new(), format!("L{i}"))
        }
    };
    for i in 0..participants {
        let (p, local) = who(i);
        let (consent, gender) = if p.is_empty() { ("", "K") } else { ("yes", "") };
        s.push_str(&format!(
            "start,BIG,{p},{consent},{local},{gender},,2020-{:02}-{:02},Vänersborg,social_assistance,1-3,compulsory,af,,,,\n",
            1 + i % 12,
            1 + i % 28
        ));
    }
    for i in 0..participants {
        let (p, local) = who(i);
        s.push_str(&format!(
            "exit,BIG,{p},,{local},,,2021-{:02}-{:02},,,,,,work,wage,yes,improved\n",
            1 + i % 12,
            1 + i % 28
        ));
    }
    s
}

fn seed() -> u64 {
    std::env::var("RELIABILITY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random())
}

/// What a killed (or finished) import left behind: `check` passes and the
/// import is wholly there or wholly absent. Returns whether it is there.
fn assert_all_or_nothing(db: &Path, n: u32, what: &str) -> bool {
    let n = n as i64;
    // `check` first: it is the first to open the file after the kill, so it
    // also exercises recovery of the write-ahead log.
    let out = run_on(db, &["check"]);
    assert!(
        out.status.success(),
        "{what}\n{}",
        describe(db, &["check"], &out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok:"));
    let conn = Connection::open(db).unwrap();
    let enrolments = count(&conn, "SELECT count(*) FROM enrolment");
    let exited = count(
        &conn,
        "SELECT count(*) FROM enrolment WHERE exit_date IS NOT NULL",
    );
    let persons = count(&conn, "SELECT count(*) FROM person");
    let audit = audit_counts(&conn);
    let there = enrolments == n;
    if there {
        assert_eq!((exited, persons), (n, n / 10), "{what}");
        assert_eq!(
            audit,
            audit_with_base(&[("import", 1), ("start", n), ("exit", n)]),
            "{what}"
        );
    } else {
        assert_eq!(
            (enrolments, exited, persons),
            (0, 0, 0),
            "{what}: half an import"
        );
        assert_eq!(audit, audit_with_base(&[]), "{what}");
    }
    there
}

fn audit_with_base(extra: &[(&str, i64)]) -> Vec<(String, i64)> {
    let mut v = vec![("init", 1), ("intervention add", 1)];
    v.extend_from_slice(extra);
    audit(&v)
}

/// CPU time used so far by a running (or exited, not yet reaped) process,
/// in clock ticks, all threads together; `None` once it is reaped. The
/// second value is true when it has exited (a zombie).
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> Option<(u64, bool)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses: state is the
    // first, utime and stime the 12th and 13th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((ticks, f[0] == "Z"))
}

/// When to kill an import.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// Once it has used this many clock ticks of CPU.
    Cpu(u64),
    /// As soon as its write-ahead log holds at least this many bytes: the
    /// commit (or a cache spill) is writing pages.
    Wal(u64),
}

/// Run one import and kill it at `moment`; returns whether the process
/// had finished first and how many bytes its WAL held when it died.
#[cfg(target_os = "linux")]
fn import_and_kill(db: &Path, csv: &str, moment: Moment) -> (bool, u64) {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    let mut child = cmd(db, &["import", csv])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let poll = Duration::from_micros(match moment {
        Moment::Cpu(_) => 2000,
        Moment::Wal(_) => 200,
    });
    while let Some((ticks, exited)) = cpu_ticks(child.id()) {
        let due = match moment {
            Moment::Cpu(t) => ticks >= t,
            Moment::Wal(bytes) => std::fs::metadata(&wal).is_ok_and(|m| m.len() >= bytes),
        };
        if exited || due {
            break;
        }
        std::thread::sleep(poll);
    }
    child.kill().unwrap(); // SIGKILL; harmless if it already exited
    let status = child.wait().unwrap();
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
    (status.success(), wal_bytes)
}

/// A 20,000-row import (10,000 in debug builds) is killed with SIGKILL at twenty random moments
/// spread over its work, and three more times while its commit writes; each time the database is exactly as before the import or
/// exactly as after it, and `check` passes.
///
/// Moments are measured in the CPU time the import has used, not wall
/// time: the machine is shared, and wall time varied by half between runs
/// while CPU time stayed within a few percent. That also lets two victims
/// run at once.
#[test]
#[cfg(target_os = "linux")]
fn killed_import_is_all_or_nothing() {
    let env = Env::new(&["BIG"]);
    let n = import_participants();
    let csv = env.path("big.csv");
    std::fs::write(&csv, big_import_csv(n)).unwrap();
    let csv = csv.to_str().unwrap().to_string();
    // The template is closed (no -wal beside it), so a byte copy is a database.
    let template = env.db.clone();
    let fresh = |name: &str| {
        let p = env.path(name);
        std::fs::copy(&template, &p).unwrap();
        p
    };

    // Measure complete imports, two at once as the victims will run; each
    // must be wholly there. The quicker sets the scale.
    let measured: Vec<(u64, Duration, u64)> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|run| {
                let db = fresh(&format!("full{run}.db"));
                let csv = &csv;
                s.spawn(move || {
                    let t = Instant::now();
                    let mut child = cmd(&db, &["import", csv])
                        .stdout(Stdio::null())
                        .spawn()
                        .unwrap();
                    let wal = PathBuf::from(format!("{}-wal", db.display()));
                    let (mut ticks, mut wal_max) = (0, 0);
                    while let Some((now, exited)) = cpu_ticks(child.id()) {
                        ticks = now;
                        if exited {
                            break;
                        }
                        if let Ok(m) = std::fs::metadata(&wal) {
                            wal_max = wal_max.max(m.len());
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    assert!(child.wait().unwrap().success());
                    let wall = t.elapsed();
                    assert!(assert_all_or_nothing(&db, n, "complete import"));
                    (ticks, wall, wal_max)
                })
            })
            .collect();
        runs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let (total, wall, _) = measured.iter().copied().min().unwrap();
    // The largest the WAL was seen: about what the commit writes.
    let wal_max = measured.iter().map(|m| m.2).max().unwrap();
    assert!(
        total >= 20,
        "the import used only {total} clock ticks: too quick to aim at"
    );

    let seed = seed();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    eprintln!(
        "import of {} rows: {wall:.2?} wall, {total} ticks CPU, WAL up to {wal_max} bytes; \
         {KILLS} kills + 3 in the commit (RELIABILITY_SEED={seed})",
        n * 2
    );
    // One random moment in each twentieth of the work, then three in the
    // commit: its first page, half of it, all of it.
    let mut moments: Vec<Moment> = (0..KILLS)
        .map(|i| {
            let f = (i as f64 + rng.random::<f64>()) / KILLS as f64;
            Moment::Cpu(((total as f64) * f) as u64)
        })
        .collect();
    moments.extend([
        Moment::Wal(1),
        Moment::Wal(wal_max / 2),
        Moment::Wal(wal_max),
    ]);

    // Two victims at a time, each in its own database.
    let results = std::sync::Mutex::new(Vec::new());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(&moment) = moments.get(i) else { break };
                let db = fresh(&format!("kill{i}.db"));
                let (finished, wal) = import_and_kill(&db, &csv, moment);
                let what =
                    format!("kill {i} at {moment:?} (finished: {finished}, WAL {wal} bytes)");
                let there = assert_all_or_nothing(&db, n, &what);
                std::fs::remove_file(&db).unwrap();
                let outcome = match (finished, wal > 0, there) {
                    (true, _, _) => "finished before the kill",
                    (false, false, false) => "killed before writing: absent",
                    (false, true, false) => "killed with uncommitted WAL frames: absent",
                    (false, true, true) => "killed after commit, recovered from WAL: present",
                    (false, false, true) => "killed after commit and checkpoint: present",
                };
                let at = match moment {
                    Moment::Cpu(t) => format!("{:.0}%", t as f64 * 100.0 / total as f64),
                    Moment::Wal(b) => format!("WAL {b} B"),
                };
                results.lock().unwrap().push((outcome, at));
            });
        }
    });
    let mut outcomes: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (outcome, at) in results.into_inner().unwrap() {
        outcomes.entry(outcome).or_default().push(at);
    }
    for (outcome, at) in &outcomes {
        eprintln!("  {outcome}: {} ({})", at.len(), at.join(" "));
    }
    assert!(
        outcomes.keys().any(|o| o.ends_with("absent")),
        "no kill landed before the commit: the import was not exercised"
    );
}

/// `backup` taken while another process keeps registering is a consistent
/// database: it opens with `--db`, passes `check`, and every enrolment in
/// it has its audit entry (no change is half in the copy).
#[test]
fn backup_during_writes_is_consistent() {
    const STARTS: usize = 40;
    let env = Arc::new(Env::new(&["BAK"]));
    let writer = {
        let env = Arc::clone(&env);
        std::thread::spawn(move || {
            for i in 0..STARTS {
                let date = format!("2021-{:02}-{:02}", 1 + i % 12, 1 + i % 28);
                env.ok(&[
                    "start",
                    "--intervention",
                    "BAK",
                    "--anonymous",
                    "--gender",
                    "M",
                    "--date",
                    &date,
                ]);
            }
        })
    };
    let mut backups = Vec::new();
    let mut i = 0;
    while !writer.is_finished() || backups.len() < 2 {
        let file = env.path(&format!("backup{i}.db"));
        env.ok(&["backup", file.to_str().unwrap()]);
        backups.push(file);
        i += 1;
        std::thread::sleep(Duration::from_millis(150));
    }
    writer.join().unwrap();

    let mut seen = Vec::new();
    for b in &backups {
        let out = ok_on(b, &["check"]);
        assert!(out.starts_with("ok:"), "{out}");
        let conn = Connection::open(b).unwrap();
        let enrolments = count(&conn, "SELECT count(*) FROM enrolment");
        assert_eq!(
            enrolments,
            count(&conn, "SELECT count(*) FROM audit WHERE action = 'start'"),
            "{}",
            b.display()
        );
        assert_eq!(
            count(&conn, "PRAGMA user_version"),
            i64::from(SCHEMA_VERSION)
        );
        seen.push(enrolments);
    }
    eprintln!(
        "{} backups during {STARTS} starts held {seen:?} enrolments",
        backups.len()
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(
        count(&env.conn(), "SELECT count(*) FROM enrolment"),
        STARTS as i64
    );
    // Backups never overwrite.
    let out = env.run(&["backup", backups[0].to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

// ------------------------------------------------------ schema and audit

/// Every row of every table, as text: the audit trail in insertion order,
/// other tables sorted.
fn dump(db: &Path) -> Vec<(String, Vec<String>)> {
    let conn = Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            // Sorted here: some tables are WITHOUT ROWID.
            let order = if t == "audit" { " ORDER BY id" } else { "" };
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM \"{t}\"{order}"))
                .unwrap();
            let n = stmt.column_count();
            let mut rows = stmt
                .query_map([], |r| {
                    let cells: Vec<String> = (0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect();
                    Ok(cells.join("|"))
                })
                .unwrap()
                .collect::<rusqlite::Result<Vec<String>>>()
                .unwrap();
            if t != "audit" {
                rows.sort();
            }
            (t, rows)
        })
        .collect()
}

/// A database at the current schema version (what `init` writes) with data
/// in every table opens, and commands that read it keep every row; only the
/// audit trail grows, at its end. Upgrades from older versions are in
/// tests/migrate.rs.
#[test]
fn current_schema_database_keeps_every_row() {
    let env = Env::new(&["OLD"]);
    env.ok(&[
        "intervention",
        "add",
        "VOL",
        "--name",
        "Volym",
        "--kind",
        "volume",
    ]);
    env.ok(&[
        "intervention",
        "add",
        "SUB",
        "--name",
        "Del",
        "--parent",
        "OLD",
        "--target-work-studies",
        "40",
    ]);
    let a = env.ok(&[
        "start",
        "--intervention",
        "OLD",
        "--pnr",
        &pnr(1),
        "--consent",
        "--date",
        "2020-02-03",
        "--municipality",
        "Mellerud",
    ]);
    env.ok(&[
        "exit",
        "--id",
        a.trim(),
        "--date",
        "2020-09-01",
        "--outcome",
        "studies",
        "--step-progress",
        "yes",
    ]);
    env.ok(&[
        "start",
        "--intervention",
        "SUB",
        "--anonymous",
        "--gender",
        "K",
        "--birth-year",
        "1990",
        "--date",
        "2021-01-04",
    ]);
    env.ok(&[
        "volume",
        "add",
        "--intervention",
        "VOL",
        "--month",
        "2021-01",
        "--women",
        "3",
        "--men",
        "2",
    ]);
    let added = env.ok(&[
        "user",
        "add",
        "eva",
        "--role",
        "staff",
        "--intervention",
        "SUB",
    ]);
    let token = added
        .trim_end()
        .rsplit("/enrol/")
        .next()
        .unwrap()
        .to_string();
    // An e-ID binding waiting for an admin (the web's e-ID sign-in through
    // the link makes it; the library call is the same), and a second user
    // whose link stays open.
    {
        let owner = sustrack::actor::Actor::owner("cli:reliability");
        let st = sustrack::store::Store::open(&env.db, &owner).unwrap();
        let mut conn = st.connect().unwrap();
        let a = sustrack::accounts::eid::Asserted::new(
            st.kdf(),
            "https://broker.example.se",
            "eva-sub",
            Some("Eva Ek".into()),
            None,
        );
        sustrack::store::write(&mut conn, |tx| {
            sustrack::accounts::eid::request_binding(tx, chrono::Utc::now(), &token, &a, &[])
        })
        .unwrap();
    }
    env.ok(&["user", "add", "olle", "--role", "auditor"]);
    env.ok(&["target", "set", "--year", "2021", "--work-or-studies", "40"]);
    env.ok(&[
        "indicator",
        "add",
        "wsj",
        "--outcomes",
        "work,studies,job_seeking",
        "--label-sv",
        "arbete, studier eller arbetssökande",
        "--label-en",
        "work, studies or seeking",
    ]);
    env.ok(&["publish", "--year", "2020"]);
    // Migration 10: an activity, a referral that became the start above,
    // a budget.
    env.ok(&[
        "activity",
        "add",
        "--intervention",
        "VOL",
        "--date",
        "2021-02-01",
        "--kind",
        "network",
        "--women",
        "4",
        "--men",
        "2",
    ]);
    let referral = env.ok(&[
        "referral",
        "add",
        "--intervention",
        "OLD",
        "--date",
        "2020-01-20",
        "--gender",
        "M",
    ]);
    env.ok(&[
        "referral",
        "decide",
        referral.lines().next().unwrap(),
        "--decision",
        "started",
        "--date",
        "2020-02-03",
        "--enrolment",
        a.trim(),
    ]);
    env.ok(&[
        "budget",
        "set",
        "--intervention",
        "OLD",
        "--year",
        "2021",
        "--budget",
        "100000",
        "--actual",
        "90000",
    ]);
    let conn = env.conn();
    assert_eq!(
        count(&conn, "PRAGMA user_version"),
        i64::from(SCHEMA_VERSION)
    );
    // Audit entries a purge reduced to counts (made directly: a purge
    // reduces only entries older than a month).
    conn.execute(
        "INSERT INTO audit_count (month, actor, action, count) VALUES ('2019-03', 'eva', 'show', 2)",
        [],
    )
    .unwrap();
    drop(conn);
    let before = dump(&env.db);
    // Sessions exist only while someone is signed in to the server; the
    // audit-reduction mark only inside a purge's transaction.
    assert!(
        before
            .iter()
            .all(|(t, rows)| !rows.is_empty() || t == "session" || t == "audit_reduction"),
        "{before:?}"
    );

    env.ok(&["check"]);
    env.ok(&["log", "--limit", "5"]);
    env.ok(&["intervention", "list"]);
    env.ok(&["report", "--year", "2020", "--format", "json"]);
    env.ok(&["show", "--id", &a.trim()[..8]]);

    let after = dump(&env.db);
    for ((t, old), (t2, new)) in before.iter().zip(&after) {
        assert_eq!(t, t2);
        if t == "audit" {
            assert_eq!(&new[..old.len()], &old[..], "audit rows changed");
            assert!(new.len() > old.len());
        } else if t != "sqlite_sequence" {
            assert_eq!(old, new, "table {t} changed");
        }
    }
    assert_eq!(
        count(&env.conn(), "PRAGMA user_version"),
        i64::from(SCHEMA_VERSION)
    );
}

/// Everything in a directory, names and contents, except SQLite's `-shm`
/// and `-wal` sidecar files (see `refused_database_leaves_no_sidecar_files`).
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .filter(|(name, _)| !name.ends_with("-shm") && !name.ends_with("-wal"))
        .collect();
    v.sort();
    v
}

/// A write-ahead log beside a refused file must hold nothing that could
/// later be replayed into it.
fn assert_no_pending_wal(db: &Path) {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    if let Ok(m) = std::fs::metadata(&wal) {
        assert_eq!(m.len(), 0, "{} holds frames", wal.display());
    }
}

/// Commands that would write, read or copy a database.
fn every_kind_of_command(dir: &Path) -> Vec<Vec<String>> {
    let csv = dir.join("in.csv");
    std::fs::write(
        &csv,
        "event,intervention,local_id,gender,date\nstart,NEW,L1,K,2021-01-01\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap().to_string();
    let bak = dir.join("copy.db").to_str().unwrap().to_string();
    [
        vec!["check"],
        vec!["log"],
        vec!["intervention", "list"],
        vec!["intervention", "add", "X", "--name", "X"],
        vec![
            "start",
            "--intervention",
            "NEW",
            "--anonymous",
            "--gender",
            "K",
            "--date",
            "2021-01-01",
        ],
        vec!["import", &csv],
        vec!["report", "--year", "2021"],
        vec!["export", "--year", "2021"],
        vec!["reopen", "abcdef12"],
        vec!["backup", &bak],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect()
}

fn assert_refused_unchanged(db: &Path, expect: &str) {
    let dir = db.parent().unwrap();
    let commands = every_kind_of_command(dir);
    let before = snapshot(dir);
    for args in &commands {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_on(db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{}", describe(db, &args, &out));
        assert!(err.contains(expect), "{}", describe(db, &args, &out));
        assert!(
            err.contains("not modified"),
            "{}",
            describe(db, &args, &out)
        );
        assert!(
            snapshot(dir) == before,
            "{} changed the directory",
            args.join(" ")
        );
        assert_no_pending_wal(db);
    }
}

/// A database from a newer sustrack is refused by every command and left
/// byte-identical (no -wal or -shm file appears either).
#[test]
fn newer_schema_is_refused_and_left_byte_identical() {
    let env = Env::new(&["NEW"]);
    env.ok(&[
        "start",
        "--intervention",
        "NEW",
        "--anonymous",
        "--gender",
        "K",
        "--date",
        "2021-01-01",
    ]);
    let conn = env.conn();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    assert_refused_unchanged(&env.db, "newer than this sustrack");
}

/// Refusing a database should leave nothing behind, not even the empty
/// `-wal` and the `-shm` that SQLite creates when `inspect` (src/store/mod.rs)
/// opens a WAL-mode file read-only; a read-only connection never removes them.
#[test]

fn refused_database_leaves_no_sidecar_files() {
    let env = Env::new(&["NEW"]);
    env.conn()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let names = || {
        let mut v: Vec<String> = std::fs::read_dir(env.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = names();
    assert_eq!(env.run(&["check"]).status.code(), Some(1));
    assert_eq!(names(), before);
}

/// Files that are not sustrack databases are refused and never modified.
#[test]
fn foreign_files_are_refused_and_left_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "event,intervention\nthis is not a database\n").unwrap();
    assert_refused_unchanged(&text, "not an SQLite file");
    std::fs::remove_file(&text).unwrap();

    let other = dir.path().join("other.db");
    let conn = Connection::open(&other).unwrap();
    conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(conn);
    assert_refused_unchanged(&other, "not a sustrack database");
}

/// The audit trail is append-only in the database itself, not only in the
/// program: UPDATE and DELETE through any SQLite client fail.
#[test]
fn audit_trail_refuses_update_and_delete() {
    let env = Env::new(&["AUD"]);
    env.ok(&[
        "start",
        "--intervention",
        "AUD",
        "--anonymous",
        "--gender",
        "M",
        "--date",
        "2021-05-05",
    ]);
    let conn = env.conn();
    let before = audit_counts(&conn);
    for sql in [
        "UPDATE audit SET actor = 'someone else'",
        "UPDATE audit SET action = 'nothing' WHERE action = 'start'",
        "DELETE FROM audit",
        "DELETE FROM audit WHERE action = 'start'",
    ] {
        let e = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(e.contains("append-only"), "{sql}: {e}");
    }
    assert_eq!(audit_counts(&conn), before);
}

// ------------------------------------------------------------------ check

fn short(id: &str) -> &str {
    &id[..8]
}

/// `check` finds and names inconsistencies planted with a plain SQLite
/// client: an exit before its start, overlapping enrolments of one person
/// in one intervention, an unknown code.
#[test]
fn check_names_planted_inconsistencies() {
    let env = Env::new(&["CHK"]);
    let start = |p: u32, date: &str| {
        env.ok(&[
            "start",
            "--intervention",
            "CHK",
            "--pnr",
            &pnr(p),
            "--consent",
            "--date",
            date,
        ])
        .trim()
        .to_string()
    };
    let a = start(1, "2021-01-10");
    env.ok(&[
        "exit",
        "--id",
        &a,
        "--date",
        "2021-06-01",
        "--outcome",
        "work",
    ]);
    let b = start(2, "2021-02-01");
    env.ok(&[
        "exit",
        "--id",
        &b,
        "--date",
        "2021-08-01",
        "--outcome",
        "dropout",
    ]);
    let c = start(3, "2021-03-01");
    env.ok(&[
        "exit",
        "--id",
        &c,
        "--date",
        "2021-04-01",
        "--outcome",
        "studies",
    ]);
    assert!(env.ok(&["check"]).starts_with("ok:"));

    let conn = env.conn();
    conn.pragma_update(None, "ignore_check_constraints", "ON")
        .unwrap();
    conn.execute(
        "UPDATE enrolment SET exit_date = '2020-12-01' WHERE id = ?1",
        [&a],
    )
    .unwrap();
    let overlapping = "0b1e7a9c-0000-4000-8000-000000000001";
    conn.execute(
        "INSERT INTO enrolment (id, intervention, person_id, gender, birth_year, start_date) \
         SELECT ?1, intervention, person_id, gender, birth_year, '2021-05-01' \
         FROM enrolment WHERE id = ?2",
        [overlapping, &b],
    )
    .unwrap();
    conn.execute(
        "UPDATE enrolment SET outcome = 'holiday' WHERE id = ?1",
        [&c],
    )
    .unwrap();
    drop(conn);

    let out = env.run(&["check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = describe(&env.db, &["check"], &out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        stdout.contains(&format!(
            "enrolment {}: exit 2020-12-01 is before start 2021-01-10",
            short(&a)
        )),
        "{report}"
    );
    assert!(
        stdout.contains(&format!(
            "enrolments {} and {} of one participant in CHK overlap",
            short(&b),
            short(overlapping)
        )),
        "{report}"
    );
    assert!(
        stdout.contains(&format!(
            "enrolment {}: unknown outcome code 'holiday'",
            short(&c)
        )),
        "{report}"
    );
    // SQLite's own integrity check also sees the CHECK constraint broken by
    // the planted exit date; nothing else may be reported.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| !l.starts_with("integrity: CHECK constraint failed"))
            .count(),
        3,
        "{report}"
    );
    let summary = format!("check found {} problem(s)", lines.len());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&summary),
        "{report}"
    );
}

/// `check` exists for data edited behind the program's back, so a damaged
/// enrolment id must be reported, not crash it. `model::short_id` slices
/// the id at byte 8, which panics inside a multi-byte character.
#[test]

fn check_survives_a_damaged_enrolment_id() {
    let env = Env::new(&["CHK"]);
    env.conn()
        .execute(
            "INSERT INTO enrolment (id, intervention, gender, start_date) \
             VALUES ('aååååå-0000', 'CHK', 'x', '2021-01-01')",
            [],
        )
        .unwrap();
    let out = env.run(&["check"]);
    let report = describe(&env.db, &["check"], &out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("unknown gender code 'x'"),
        "{report}"
    );
}
