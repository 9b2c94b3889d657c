//! The registration commands through the real binary: happy paths, every
//! refusal of SPEC section 3 (with the database unchanged), privacy of the
//! personnummer, file permissions, and refusal of foreign files.

mod common;

use common::{pnr, Env};

fn with_intervention() -> Env {
    let env = Env::new();
    env.ok(&[
        "intervention",
        "add",
        "ALLIN",
        "--name",
        "Allin",
        "--target-work-studies",
        "40",
    ]);
    env.ok(&[
        "intervention",
        "add",
        "SUB",
        "--name",
        "Delinsats",
        "--parent",
        "allin",
    ]);
    env.ok(&[
        "intervention",
        "add",
        "OPEN",
        "--name",
        "Öppen verksamhet",
        "--kind",
        "volume",
    ]);
    env
}

fn start(env: &Env, p: &str, date: &str) -> String {
    let id = env.ok(&[
        "start",
        "--intervention",
        "ALLIN",
        "--pnr",
        p,
        "--consent",
        "--date",
        date,
    ]);
    let id = id.trim().to_string();
    assert_eq!(id.len(), 36, "{id}");
    id
}

#[test]
fn init_creates_an_owner_only_file_and_never_overwrites() {
    let env = Env::new();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&env.db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let before = std::fs::read(&env.db).unwrap();
    let err = env.fails(&["init"], 2);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&env.db).unwrap(), before);
}

#[test]
fn wal_and_shm_files_are_owner_only_too() {
    let env = with_intervention();
    start(&env, &pnr("19850612", 242), "2021-01-10");
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["-wal", "-shm"] {
        let p = format!("{}{suffix}", env.db.display());
        if let Ok(m) = std::fs::metadata(&p) {
            assert_eq!(m.permissions().mode() & 0o077, 0, "{p}");
        }
    }
}

#[test]
fn a_missing_database_says_how_to_create_one() {
    let env = Env::empty();
    let err = env.fails(&["intervention", "list"], 1);
    assert!(err.contains("sustrack init"), "{err}");
    assert!(!env.db.exists());
}

#[test]
fn interventions_are_added_listed_and_checked() {
    let env = with_intervention();
    let list = env.ok(&["intervention", "list"]);
    assert!(list.contains("ALLIN") && list.contains("40 %"), "{list}");
    assert!(list.contains("SUB") && list.contains("Delinsats"), "{list}");
    let before = env.dump();
    for (args, needle) in [
        (
            vec!["intervention", "add", "ALLIN", "--name", "Again"],
            "already exists",
        ),
        (
            vec![
                "intervention",
                "add",
                "X1",
                "--name",
                "X",
                "--parent",
                "NOPE",
            ],
            "unknown intervention 'NOPE'",
        ),
        (
            vec!["intervention", "add", "bad code!", "--name", "X"],
            "not an intervention code",
        ),
        (
            vec![
                "intervention",
                "add",
                "X2",
                "--name",
                "X",
                "--kind",
                "group",
            ],
            "invalid --kind 'group'",
        ),
        (
            vec![
                "intervention",
                "add",
                "X3",
                "--name",
                "X",
                "--target-work-studies",
                "140",
            ],
            "percentage from 0 to 100",
        ),
    ] {
        let err = env.fails(&args, 2);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn start_exit_show_with_personnummer() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let id = start(&env, &p, "2021-01-10");
    let shown = env.ok(&["show", "--pnr", &p]);
    assert!(
        shown.contains(&id[..8]) && shown.contains("2021-01-10") && shown.contains("Kvinna"),
        "{shown}"
    );
    // The 10-digit form finds the same person.
    let ten = format!("{}{}", &p[2..8], &p[8..]);
    let out = env.ok(&[
        "exit",
        "--intervention",
        "ALLIN",
        "--pnr",
        &ten,
        "--date",
        "20210601",
        "--outcome",
        "Arbete",
        "--step-progress",
        "ja",
        "--quality-of-life",
        "improved",
        "--support-after",
        "Lön",
    ]);
    assert!(out.contains("exited"), "{out}");
    let shown = env.ok(&["show", "--id", &id[..6]]);
    assert!(
        shown.contains("2021-06-01") && shown.contains("work") && shown.contains("wage"),
        "{shown}"
    );
}

#[test]
fn anonymous_start_and_exit_by_id() {
    let env = with_intervention();
    let id = env.ok(&[
        "start",
        "--intervention",
        "SUB",
        "--anonymous",
        "--gender",
        "M",
        "--birth-year",
        "1990",
        "--date",
        "2021-02-01",
        "--municipality",
        "vänersborg",
        "--support",
        "forsorjningsstod",
        "--years-in-support",
        "1-3",
        "--education",
        "Gymnasial",
        "--referrer",
        "af",
    ]);
    let id = id.trim();
    env.ok(&[
        "exit",
        "--id",
        &id[..8],
        "--date",
        "2021-03-01",
        "--outcome",
        "studies",
    ]);
    let shown = env.ok(&["show", "--id", id]);
    assert!(
        shown.contains("Vänersborg")
            && shown.contains("social_assistance")
            && shown.contains("Man"),
        "{shown}"
    );
}

#[test]
fn each_refusal_names_the_problem_and_writes_nothing() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let id = start(&env, &p, "2021-01-10");
    let q = pnr("19700101", 123);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        // A date in the future.
        (
            vec![
                "start",
                "--intervention",
                "ALLIN",
                "--pnr",
                &q,
                "--consent",
                "--date",
                "2999-01-01",
            ],
            "in the future",
        ),
        // A second open enrolment of the same person in the same intervention.
        (
            vec![
                "start",
                "--intervention",
                "ALLIN",
                "--pnr",
                &p,
                "--consent",
                "--date",
                "2021-02-01",
            ],
            "already has an open enrolment",
        ),
        // An exit before its start.
        (
            vec![
                "exit",
                "--id",
                &id,
                "--date",
                "2021-01-09",
                "--outcome",
                "work",
            ],
            "before the start date",
        ),
        // An exit of an unknown enrolment.
        (
            vec![
                "exit",
                "--id",
                "abcdef12",
                "--date",
                "2021-02-01",
                "--outcome",
                "work",
            ],
            "no enrolment with id",
        ),
        (
            vec![
                "exit",
                "--intervention",
                "ALLIN",
                "--pnr",
                &q,
                "--date",
                "2021-02-01",
                "--outcome",
                "work",
            ],
            "no person",
        ),
        // Bad values, each named with what is accepted.
        (
            vec![
                "start",
                "--intervention",
                "ALLIN",
                "--pnr",
                &q,
                "--consent",
                "--date",
                "2021-13-01",
            ],
            "YYYY-MM-DD",
        ),
        (
            vec![
                "start",
                "--intervention",
                "ALLIN",
                "--pnr",
                &q,
                "--consent",
                "--date",
                "2021-01-01",
                "--support",
                "salary2",
            ],
            "accepted are",
        ),
        (
            vec![
                "start",
                "--intervention",
                "NOPE",
                "--pnr",
                &q,
                "--consent",
                "--date",
                "2021-01-01",
            ],
            "known are",
        ),
        (
            vec![
                "start",
                "--intervention",
                "OPEN",
                "--pnr",
                &q,
                "--consent",
                "--date",
                "2021-01-01",
            ],
            "volume intervention",
        ),
        (
            vec![
                "start",
                "--intervention",
                "ALLIN",
                "--pnr",
                "19700101-1234",
                "--consent",
                "--date",
                "2021-01-01",
            ],
            "check digit",
        ),
        (
            vec![
                "start",
                "--intervention",
                "ALLIN",
                "--anonymous",
                "--gender",
                "X",
                "--date",
                "2021-01-01",
            ],
            "invalid --gender 'X'",
        ),
        (
            vec![
                "start",
                "--intervention",
                "ALLIN",
                "--pnr",
                &q,
                "--consent",
                "--date",
                "2021-01-01",
                "--municipality",
                "123",
            ],
            "municipality",
        ),
        (
            vec![
                "exit",
                "--id",
                "abc",
                "--date",
                "2021-02-01",
                "--outcome",
                "work",
            ],
            "at least 6",
        ),
        (
            vec![
                "exit",
                "--id",
                &id,
                "--date",
                "2021-02-01",
                "--outcome",
                "holiday",
            ],
            "invalid --outcome 'holiday'",
        ),
        (vec!["reopen", &id], "has not exited"),
        (vec!["edit", &id], "nothing to change"),
        (vec!["edit", &id, "--outcome", "work"], "has not exited"),
        (
            vec![
                "volume",
                "add",
                "--intervention",
                "ALLIN",
                "--month",
                "2021-01",
                "--women",
                "1",
                "--men",
                "1",
            ],
            "individual enrolments",
        ),
        (
            vec![
                "volume",
                "add",
                "--intervention",
                "OPEN",
                "--month",
                "2021-13",
                "--women",
                "1",
                "--men",
                "1",
            ],
            "YYYY-MM",
        ),
        (
            vec!["report", "--year", "2021", "--format", "pdf"],
            "accepted are text, csv",
        ),
        (
            vec!["report", "--from", "2021-05-01", "--to", "2021-01-01"],
            "before --from",
        ),
    ];
    for (args, needle) in cases {
        let before = env.dump();
        let err = env.fails(&args, 2);
        assert!(err.contains(needle), "{args:?}\n{err}");
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{err}"
        );
        assert_eq!(env.dump(), before, "{args:?} changed the database");
    }
    // Exited twice.
    env.ok(&[
        "exit",
        "--id",
        &id,
        "--date",
        "2021-03-01",
        "--outcome",
        "work",
    ]);
    let before = env.dump();
    let err = env.fails(
        &[
            "exit",
            "--id",
            &id,
            "--date",
            "2021-04-01",
            "--outcome",
            "work",
        ],
        2,
    );
    assert!(err.contains("already exited"), "{err}");
    let err = env.fails(
        &[
            "exit",
            "--intervention",
            "ALLIN",
            "--pnr",
            &p,
            "--date",
            "2021-04-01",
            "--outcome",
            "work",
        ],
        2,
    );
    assert!(err.contains("no open enrolment"), "{err}");
    // A new enrolment overlapping the closed one.
    let err = env.fails(
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--pnr",
            &p,
            "--consent",
            "--date",
            "2021-02-15",
        ],
        2,
    );
    assert!(err.contains("overlap"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn usage_errors_exit_2() {
    let env = with_intervention();
    let before = env.dump();
    // --pnr without --consent, and an unknown command, are refused by the parser.
    let p = pnr("19850612", 242);
    let out = env.run(&[
        "start",
        "--intervention",
        "ALLIN",
        "--pnr",
        &p,
        "--date",
        "2021-01-01",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(env.run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(env.dump(), before);
}

#[test]
fn edit_reopen_and_re_enrolment() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let id = start(&env, &p, "2021-01-10");
    env.ok(&[
        "exit",
        "--id",
        &id,
        "--date",
        "2021-03-01",
        "--outcome",
        "dropout",
    ]);
    env.ok(&[
        "edit",
        &id,
        "--start-date",
        "2021-01-05",
        "--outcome",
        "work",
        "--municipality",
        "Mellerud",
    ]);
    let shown = env.ok(&["show", "--id", &id]);
    assert!(
        shown.contains("2021-01-05") && shown.contains("work") && shown.contains("Mellerud"),
        "{shown}"
    );
    // Clearing an optional field with an empty value.
    env.ok(&["edit", &id, "--municipality", ""]);
    assert!(!env.ok(&["show", "--id", &id]).contains("Mellerud"));
    let err = env.fails(&["edit", &id, "--exit-date", "2021-01-01"], 2);
    assert!(err.contains("before the start date"), "{err}");
    // Re-enrolment after the exit is fine; reopening the first would now overlap.
    let second = start(&env, &p, "2021-04-01");
    let err = env.fails(&["reopen", &id], 2);
    assert!(err.contains("already has an open enrolment"), "{err}");
    env.ok(&[
        "exit",
        "--id",
        &second,
        "--date",
        "2021-05-01",
        "--outcome",
        "work",
    ]);
    env.ok(&["edit", &second, "--start-date", "2021-03-02"]);
    let err = env.fails(&["edit", &second, "--start-date", "2021-02-01"], 2);
    assert!(err.contains("overlap"), "{err}");
    env.ok(&["reopen", &second]);
    let shown = env.ok(&["show", "--id", &second]);
    assert!(!shown.contains("2021-05-01"), "{shown}");
}

#[test]
fn erase_removes_the_person_and_every_enrolment() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    start(&env, &p, "2021-01-10");
    env.ok(&[
        "start",
        "--intervention",
        "SUB",
        "--pnr",
        &p,
        "--consent",
        "--date",
        "2021-02-10",
    ]);
    let other = pnr("19700101", 123);
    let kept = start(&env, &other, "2021-01-10");
    let out = env.ok(&["erase", "--pnr", &p]);
    assert!(out.contains("2 enrolment"), "{out}");
    let err = env.fails(&["show", "--pnr", &p], 2);
    assert!(err.contains("no person"), "{err}");
    assert!(env.ok(&["show", "--id", &kept]).contains(&kept[..8]));
    let dump = env.dump();
    assert_eq!(
        dump.lines().filter(|l| l.starts_with("enrolment:")).count(),
        1
    );
    assert_eq!(dump.lines().filter(|l| l.starts_with("person:")).count(), 1);
}

#[test]
fn volume_counts_are_registered_once_unless_replaced() {
    let env = with_intervention();
    env.ok(&[
        "volume",
        "add",
        "--intervention",
        "OPEN",
        "--month",
        "2021-03",
        "--women",
        "12",
        "--men",
        "7",
    ]);
    let before = env.dump();
    let err = env.fails(
        &[
            "volume",
            "add",
            "--intervention",
            "OPEN",
            "--month",
            "2021-03",
            "--women",
            "1",
            "--men",
            "1",
        ],
        2,
    );
    assert!(err.contains("--replace"), "{err}");
    assert_eq!(env.dump(), before);
    env.ok(&[
        "volume",
        "add",
        "--intervention",
        "OPEN",
        "--month",
        "2021-03",
        "--women",
        "13",
        "--men",
        "7",
        "--replace",
    ]);
    let json = env.ok(&["report", "--year", "2021", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let volume = common::json_table(&v, "volume");
    assert_eq!(volume["total"], serde_json::json!([13, 7, 20]));
}

#[test]
fn the_audit_trail_records_every_change_and_refuses_edits() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let id = start(&env, &p, "2021-01-10");
    let out = env.run(&[
        "--by",
        "Anna Coordinator",
        "exit",
        "--id",
        &id,
        "--date",
        "2021-02-01",
        "--outcome",
        "work",
    ]);
    assert!(out.status.success());
    env.ok(&["report", "--year", "2021"]);
    let log = env.ok(&["log", "--limit", "5"]);
    assert!(
        log.contains("report") && log.contains("2021-01-01..2021-12-31"),
        "{log}"
    );
    assert!(
        log.contains("Anna Coordinator") && log.contains("exit") && log.contains(&id),
        "{log}"
    );
    assert!(log.contains("tester"), "{log}");
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    for sql in ["UPDATE audit SET actor = 'x'", "DELETE FROM audit"] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{err}");
    }
    // --by must not be a personnummer.
    let err = env.fails(&["--by", &p, "log"], 2);
    assert!(!err.contains(&p[..8]), "{err}");
}

#[test]
fn check_and_backup() {
    let env = with_intervention();
    start(&env, &pnr("19850612", 242), "2021-01-10");
    assert!(env.ok(&["check"]).contains("ok"));
    let copy = env.path("copy.db");
    env.ok(&["backup", copy.to_str().unwrap()]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = assert_cmd::Command::cargo_bin("sustrack")
        .unwrap()
        .args(["--db", copy.to_str().unwrap(), "check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        common::describe(&["check"], &out)
    );
    assert_eq!(
        common::dump(&copy)
            .lines()
            .filter(|l| l.starts_with("enrolment:"))
            .count(),
        1
    );
    // Never overwrites.
    let err = env.fails(&["backup", copy.to_str().unwrap()], 2);
    assert!(err.contains("already exists"), "{err}");
}

/// The personnummer given to `start` must not occur anywhere: not in the
/// database file, its WAL, the audit log, or any command's output.
#[test]
fn a_personnummer_never_leaves_the_command_line() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let digits12 = p.replace('-', "");
    let digits10 = digits12[2..].to_string();
    let mut outputs = String::new();
    let mut run = |args: &[&str]| {
        let out = env.run(args);
        outputs.push_str(&String::from_utf8_lossy(&out.stdout));
        outputs.push_str(&String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "start",
        "--intervention",
        "ALLIN",
        "--pnr",
        &p,
        "--consent",
        "--date",
        "2021-01-10",
    ]);
    run(&[
        "start",
        "--intervention",
        "ALLIN",
        "--pnr",
        &p,
        "--consent",
        "--date",
        "2021-01-11",
    ]); // refused
    run(&["show", "--pnr", &p]);
    run(&[
        "exit",
        "--intervention",
        "ALLIN",
        "--pnr",
        &digits10,
        "--date",
        "2021-02-01",
        "--outcome",
        "work",
    ]);
    run(&[
        "exit",
        "--intervention",
        "ALLIN",
        "--pnr",
        &digits10,
        "--date",
        "2021-02-01",
        "--outcome",
        "work",
    ]); // refused
    run(&["log"]);
    run(&["report", "--year", "2021", "--format", "json"]);
    run(&["export", "--year", "2021", "--k", "1"]);
    run(&["check"]);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(env.dir.path()).unwrap() {
        files.push(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let needles = [p.as_str(), digits12.as_str(), digits10.as_str(), &p[2..]];
    for n in needles {
        assert!(!outputs.contains(n), "output contains {n}");
        for f in &files {
            assert!(
                !f.windows(n.len()).any(|w| w == n.as_bytes()),
                "a file contains the personnummer"
            );
        }
    }
    assert!(!files.is_empty());
}

#[test]
fn pnr_from_standard_input_stays_out_of_the_process_list() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let out = env.run_stdin(
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--pnr",
            "-",
            "--consent",
            "--date",
            "2021-01-10",
        ],
        &format!("{p}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        common::describe(&["start"], &out)
    );
    assert!(env.ok(&["show", "--pnr", &p]).contains("2021-01-10"));
}

fn refused_unchanged(env: &Env, bytes: &[u8], needle: &str) {
    std::fs::write(&env.db, bytes).unwrap();
    let err = env.fails(&["intervention", "list"], 1);
    assert!(err.contains(needle), "{err}");
    assert_eq!(
        std::fs::read(&env.db).unwrap(),
        bytes,
        "the refused file was modified"
    );
    assert!(!std::path::Path::new(&format!("{}-wal", env.db.display())).exists());
}

#[test]
fn foreign_and_newer_files_are_refused_and_left_byte_identical() {
    let env = Env::empty();
    refused_unchanged(&env, b"name;value\nnot a database\n", "not an SQLite file");
    refused_unchanged(&env, b"", "not an SQLite file");

    // An unrelated SQLite database.
    let other = env.path("other.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    refused_unchanged(
        &env,
        &std::fs::read(&other).unwrap(),
        "not a sustrack database",
    );

    // A sustrack database from a newer version.
    let newer = Env::new();
    {
        let c = rusqlite::Connection::open(&newer.db).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        c.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    refused_unchanged(
        &env,
        &std::fs::read(&newer.db).unwrap(),
        "newer than this sustrack",
    );
}

#[test]
fn commands_have_help_text() {
    let env = Env::empty();
    let help = env.ok(&["--help"]);
    for cmd in [
        "init",
        "intervention",
        "start",
        "exit",
        "edit",
        "reopen",
        "show",
        "erase",
        "volume",
        "import",
        "report",
        "export",
        "keygen",
        "log",
        "check",
        "backup",
        "demo",
        "generate",
    ] {
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{cmd} ")))
            .unwrap_or_else(|| panic!("{cmd} missing\n{help}"));
        assert!(
            line.split_whitespace().count() > 1,
            "{cmd} has no help text"
        );
    }
    assert!(help.contains("Exit codes"), "{help}");
}

/// Findings of a review, kept fixed: a personnummer in the wrong place is
/// never echoed (by clap, by --by, by a value check), and dates are strict.
#[test]
fn a_personnummer_in_the_wrong_place_is_never_echoed() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    // clap quotes an unexpected argument (here a forgotten --pnr): masked.
    let out = env.run(&["erase", &p]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains(&p[..8]) && err.contains("<personnummer>"),
        "{err}"
    );
    let err = env.fails(&["--by", &format!("anna {p}"), "log"], 2);
    assert!(!err.contains(&p[..8]), "{err}");
    let spaced = p.replace('-', " ");
    let err = env.fails(
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--anonymous",
            "--gender",
            "K",
            "--date",
            "2021-01-01",
            "--municipality",
            &spaced,
        ],
        2,
    );
    assert!(
        !err.contains(&p[..8]) && err.contains("municipality"),
        "{err}"
    );
    let before = env.dump();
    for bad in ["-001-01-01", "+202-01-01", "1899-12-31", "2021-1-011"] {
        let arg = format!("--date={bad}");
        let err = env.fails(
            &[
                "start",
                "--intervention",
                "ALLIN",
                "--anonymous",
                "--gender",
                "K",
                &arg,
            ],
            2,
        );
        assert!(err.contains("YYYY-MM-DD"), "{bad}: {err}");
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn delete_removes_a_mistaken_enrolment_and_then_the_person() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let wrong = start(&env, &p, "2021-01-10");
    let right = env
        .ok(&[
            "start",
            "--intervention",
            "SUB",
            "--pnr",
            &p,
            "--consent",
            "--date",
            "2021-01-10",
        ])
        .trim()
        .to_string();
    let before = env.dump();
    let err = env.fails(&["delete", "abcdef12"], 2);
    assert!(err.contains("no enrolment with id"), "{err}");
    assert_eq!(env.dump(), before);
    let out = env.ok(&["delete", &wrong[..8]]);
    assert!(
        out.contains(&wrong[..8]) && !out.contains("removed"),
        "{out}"
    );
    let shown = env.ok(&["show", "--pnr", &p]);
    assert!(
        shown.contains(&right[..8]) && !shown.contains(&wrong[..8]),
        "{shown}"
    );
    // The last enrolment takes the person (fingerprint) with it.
    let out = env.ok(&["delete", &right]);
    assert!(out.contains("removed"), "{out}");
    let err = env.fails(&["show", "--pnr", &p], 2);
    assert!(err.contains("no person"), "{err}");
    let dump = env.dump();
    assert!(!dump.lines().any(|l| l.starts_with("person:")), "{dump}");
    let log = env.ok(&["log", "--limit", "4"]);
    assert!(log.contains("delete") && log.contains(&wrong), "{log}");
}

#[test]
fn edit_moves_an_enrolment_to_another_intervention_under_the_start_rules() {
    let env = with_intervention();
    let p = pnr("19850612", 242);
    let id = start(&env, &p, "2021-01-10");
    env.ok(&[
        "start",
        "--intervention",
        "SUB",
        "--pnr",
        &p,
        "--consent",
        "--date",
        "2021-01-01",
    ]);
    let before = env.dump();
    for (code, needle) in [
        ("SUB", "already has an open enrolment"),
        ("OPEN", "volume intervention"),
        ("NOPE", "unknown intervention 'NOPE'"),
    ] {
        let err = env.fails(&["edit", &id, "--intervention", code], 2);
        assert!(err.contains(needle), "{code}: {err}");
        assert_eq!(env.dump(), before);
    }
    let other = env
        .ok(&[
            "start",
            "--intervention",
            "ALLIN",
            "--anonymous",
            "--gender",
            "K",
            "--date",
            "2021-02-01",
        ])
        .trim()
        .to_string();
    env.ok(&["edit", &other, "--intervention", "sub"]);
    assert!(env.ok(&["show", "--id", &other]).contains("SUB"));
}

#[test]
fn a_day_the_month_does_not_have_is_named() {
    let env = with_intervention();
    let before = env.dump();
    let err = env.fails(
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--anonymous",
            "--gender",
            "K",
            "--date",
            "2021-02-30",
        ],
        2,
    );
    assert!(err.contains("February 2021 has 28 days"), "{err}");
    assert!(!err.contains("YYYY"), "not a format error: {err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn a_start_before_the_birth_is_refused() {
    let env = with_intervention();
    let before = env.dump();
    let p = pnr("20150612", 242);
    let args = |date: &'static str| {
        vec![
            "start".to_string(),
            "--intervention".into(),
            "ALLIN".into(),
            "--pnr".into(),
            p.clone(),
            "--consent".into(),
            "--date".into(),
            date.into(),
        ]
    };
    let a = args("2015-06-11");
    let err = env.fails(&a.iter().map(String::as_str).collect::<Vec<_>>(), 2);
    assert!(err.contains("before the participant's birth date"), "{err}");
    assert!(!err.contains("0612"), "{err}");
    let err = env.fails(
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--anonymous",
            "--gender",
            "K",
            "--birth-year",
            "2016",
            "--date",
            "2015-12-31",
        ],
        2,
    );
    assert!(
        err.contains("before the participant's birth year 2016"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
    let a = args("2015-06-12");
    env.ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn an_unknown_intervention_suggests_the_nearest_codes_not_all() {
    let env = with_intervention();
    for n in 0..12 {
        let code = format!("PROJ{n:02}");
        env.ok(&["intervention", "add", &code, "--name", "Projekt"]);
    }
    let err = env.fails(
        &[
            "start",
            "--intervention",
            "ALIN",
            "--anonymous",
            "--gender",
            "K",
            "--date",
            "2021-01-01",
        ],
        2,
    );
    assert!(err.contains("did you mean ALLIN?"), "{err}");
    assert!(!err.contains("PROJ") && !err.contains("known are"), "{err}");
}

#[test]
fn intervention_names_refuse_control_characters_and_md_escapes_markup() {
    let env = Env::new();
    let before = env.dump();
    for bad in [
        "Red \u{1b}[31malert",
        "Two\nlines",
        "Bidi \u{202e}txet",
        "Zero\u{200b}width",
    ] {
        let err = env.fails(&["intervention", "add", "BAD", "--name", bad], 2);
        assert!(err.contains("U+"), "{bad:?}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{err}"
        );
        assert_eq!(
            err.lines().filter(|l| !l.starts_with("warning:")).count(),
            1,
            "{err}"
        );
    }
    assert_eq!(env.dump(), before);
    // Visible markup is a legal name; md shows it as text.
    env.ok(&[
        "intervention",
        "add",
        "X1",
        "--name",
        "A|B <script>alert(1)</script> `x` *y*",
    ]);
    env.ok(&[
        "start",
        "--intervention",
        "X1",
        "--anonymous",
        "--gender",
        "K",
        "--date",
        "2021-01-10",
    ]);
    let md = env.ok(&["report", "--year", "2021", "--format", "md"]);
    assert!(!md.contains("<script>"), "{md}");
    assert!(md.contains("&lt;script&gt;"), "{md}");
    assert!(md.contains("A\\|B") && md.contains("\\`x\\`"), "{md}");
    // Every line of a table has as many cells as its header.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let cells = |l: &str| l.replace("\\|", "").matches('|').count();
        let first = cells(table.lines().next().unwrap());
        for l in table.lines() {
            assert_eq!(cells(l), first, "{l}\n{table}");
        }
    }
}
