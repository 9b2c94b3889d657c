//! Issue 12's CLI defects, kept fixed, through the real binary: `--out`
//! never replaces what it must not, paths never carry a personnummer into
//! messages or the audit trail, a closed pipe is no panic, usage errors are
//! one line, read-only and empty files get clear messages, and the audit
//! trail names the OS account.

mod common;

use std::process::Stdio;

use common::{pnr, Env};
use proptest::prelude::*;
use sustrack::identity::scrub;

fn with_data() -> Env {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    for (i, day) in ["2021-01-10", "2021-02-10", "2021-03-10"]
        .iter()
        .enumerate()
    {
        env.ok(&[
            "start",
            "--intervention",
            "ALLIN",
            "--pnr",
            &pnr("19850612", 240 + i as u32),
            "--consent",
            "--date",
            day,
        ]);
    }
    env
}

/// stderr as one string, asserting it is exactly one `error: ` line.
fn one_error_line(env: &Env, args: &[&str], code: i32) -> String {
    let err = env.fails(args, code);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("warning: "))
        .collect();
    assert_eq!(lines.len(), 1, "not one line:\n{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    lines[0].to_string()
}

#[test]
fn out_never_replaces_the_database_a_device_a_fifo_or_an_existing_file() {
    let env = with_data();
    let db = env.db.to_str().unwrap().to_string();
    let before = std::fs::read(&env.db).unwrap();
    let audit_before = env.dump();
    let wal = format!("{db}-wal");
    let shm = format!("{db}-shm");
    let dir = env.dir.path().to_str().unwrap().to_string();
    let fifo = env.path("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let fifo = fifo.to_str().unwrap().to_string();
    // A symbolic link to the database is the database.
    let link = env.path("link.db");
    std::os::unix::fs::symlink(&env.db, &link).unwrap();
    let link = link.to_str().unwrap().to_string();
    for target in [&db, &wal, &shm, &link, "/dev/null", &fifo, &dir] {
        for cmd in ["report", "export"] {
            // --force replaces a file, never one of these.
            for force in [&[][..], &["--force"]] {
                let mut args = vec![cmd, "--year", "2021", "--out", target];
                args.extend_from_slice(force);
                let line = one_error_line(&env, &args, 2);
                assert!(line.starts_with("error: --out "), "{line}");
            }
        }
    }
    assert_eq!(
        std::fs::read(&env.db).unwrap(),
        before,
        "the database changed"
    );
    assert_eq!(env.dump(), audit_before, "a refused command was recorded");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());

    // An existing file is kept unless --force.
    let old = env.path("old.csv");
    std::fs::write(&old, "keep me").unwrap();
    let old_s = old.to_str().unwrap();
    for cmd in ["report", "export"] {
        let line = one_error_line(&env, &[cmd, "--year", "2021", "--out", old_s], 2);
        assert!(line.contains("--force"), "{line}");
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "keep me");
    }
    env.ok(&["export", "--year", "2021", "--out", old_s, "--force"]);
    assert_ne!(std::fs::read_to_string(&old).unwrap(), "keep me");
    // `-` and no --out write to standard output.
    let dash = env.ok(&["report", "--year", "2021", "--format", "csv", "--out", "-"]);
    let plain = env.ok(&["report", "--year", "2021", "--format", "csv"]);
    assert!(!dash.is_empty());
    assert_eq!(dash, plain);
    assert!(!env.path("-").exists());
}

#[test]
fn a_personnummer_in_a_path_reaches_neither_the_audit_trail_nor_a_message() {
    let env = with_data();
    let p = "19800315-2421";
    let copy = env.path(&format!("{p}.db"));
    let out = env.ok(&["backup", copy.to_str().unwrap()]);
    assert!(!out.contains("19800315"), "{out}");
    assert!(!env.dump().contains("19800315"), "the audit trail holds it");
    assert!(!env.ok(&["log"]).contains("19800315"));
    // As --db, missing and present.
    let missing = Env::empty();
    let named = missing.path(&format!("{p}x.db"));
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("sustrack"))
        .args(["--db", named.to_str().unwrap(), "log"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("19800315") && err.contains("no database"),
        "{err}"
    );
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("sustrack"))
        .args(["--db", copy.to_str().unwrap(), "report", "--year", "2021"])
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && !all.contains("19800315"), "{all}");
    // A birth date typed as a birth year is not echoed.
    let line = one_error_line(
        &env,
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--anonymous",
            "--gender",
            "K",
            "--birth-year",
            "19910203",
            "--date",
            "2021-01-01",
        ],
        2,
    );
    assert!(line.starts_with("error: --birth-year "), "{line}");
    assert!(!line.contains("910203"), "{line}");
}

#[test]
fn plain_numbers_are_not_masked_as_personnummer() {
    let env = with_data();
    let line = one_error_line(&env, &["export", "--year", "2021", "--k", "5000000000"], 2);
    assert!(
        line.contains("5000000000") && !line.contains("<personnummer>"),
        "{line}"
    );
    let line = one_error_line(&env, &["report", "--year", "2021", "--months-band=-1"], 2);
    assert!(
        line.contains("-1") && !line.contains("<personnummer>"),
        "{line}"
    );
}

/// Every form of a valid personnummer or samordningsnummer.
fn forms() -> impl Strategy<Value = (String, String)> {
    (
        1900i32..2026,
        1u32..=12,
        1u32..=28,
        0u32..1000,
        any::<bool>(),
        0usize..6,
    )
        .prop_map(|(y, m, d, serial, coordination, form)| {
            let day = if coordination { d + 60 } else { d };
            let twelve = format!("{y:04}{m:02}{day:02}{serial:03}");
            let nine: Vec<u8> = twelve[2..11].bytes().map(|b| b - b'0').collect();
            let c = sustrack::identity::luhn_check_digit(&nine);
            let (date8, date6, tail) = (&twelve[..8], &twelve[2..8], format!("{serial:03}{c}"));
            let shown = match form {
                0 => format!("{date8}-{tail}"),
                1 => format!("{date8}{tail}"),
                2 => format!("{date6}-{tail}"),
                3 => format!("{date6}+{tail}"),
                4 => format!("{date6}{tail}"),
                _ => format!("{date8} {tail}"),
            };
            (shown, format!("{date6}{tail}"))
        })
}

proptest! {
    #[test]
    fn every_personnummer_is_masked_wherever_it_stands(
        (p, ten) in forms(),
        before in "[^0-9]{0,12}",
        after in "[^0-9]{0,12}",
        line in 0u32..100_000,
    ) {
        for text in [
            format!("{before}{p}{after}"),
            format!("line {line} {p} {after}"),
            format!("{before}'{p}', {line}"),
        ] {
            let s = scrub(&text);
            let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
            prop_assert!(!digits.contains(&ten[..6]) || !digits.contains(&ten[6..]), "{s}");
            prop_assert!(s.contains("<personnummer>"), "{s}");
        }
    }

    #[test]
    fn numbers_that_are_no_personnummer_stay_readable(
        n in any::<i64>(),
        yy in 0u32..100,
        bad_month in prop_oneof![Just(0u32), 13u32..100],
        rest in 0u32..1_000_000,
    ) {
        let digits = n.unsigned_abs().to_string().len();
        if digits != 10 && digits != 12 {
            let text = format!("{n} is not in 0..=4294967295");
            prop_assert_eq!(scrub(&text).into_owned(), text.clone());
        }
        let ten = format!("{yy:02}{bad_month:02}{rest:06}");
        prop_assert_eq!(scrub(&ten).into_owned(), ten.clone());
        for fixed in ["5000000000", "-1", "4294967295", "18446744073709551615"] {
            prop_assert_eq!(scrub(fixed).into_owned(), fixed.to_string());
        }
    }
}

#[test]
fn a_local_id_that_is_a_birth_date_is_refused() {
    let env = with_data();
    let before = env.dump();
    for id in ["19910203", "910203"] {
        let file = env.path("anon.csv");
        std::fs::write(
            &file,
            format!("event,intervention,local_id,gender,date\nstart,ALLIN,{id},K,2021-01-05\n"),
        )
        .unwrap();
        let out = env.run(&["import", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{id}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("birth date"), "{err}");
        assert!(!err.contains(id), "{err}");
    }
    assert_eq!(env.dump(), before);
}

/// Run with standard output (and standard error) closed before the
/// program writes: it must not panic (exit 101) but end quietly with 0.
fn with_closed_pipe(env: &Env, args: &[&str], close_stderr: bool) {
    let mut c = env.std_command(args);
    c.stdout(Stdio::piped()).stdin(Stdio::null());
    c.stderr(if close_stderr {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = c.spawn().unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "sustrack {}", args.join(" "));
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let env = with_data();
    let id = env.ok(&["show", "--pnr", &pnr("19850612", 240)]);
    assert!(!id.is_empty());
    for args in [
        &["log"][..],
        &["intervention", "list"],
        &["check"],
        &["report", "--year", "2021"],
        &["show", "--pnr", &pnr("19850612", 240)],
        &["export", "--year", "2021", "--k", "1"],
    ] {
        with_closed_pipe(&env, args, false);
        with_closed_pipe(&env, args, true);
    }
    with_closed_pipe(
        &env,
        &["intervention", "add", "NEW", "--name", "New"],
        false,
    );
    with_closed_pipe(
        &env,
        &["intervention", "add", "NEW2", "--name", "New"],
        true,
    );
}

#[test]
fn usage_errors_are_one_line_with_the_fix() {
    let env = with_data();
    let line = one_error_line(&env, &["report", "--yaer", "2021"], 2);
    assert_eq!(
        line,
        "error: unknown option --yaer; did you mean --year? (see `sustrack report --help`)"
    );
    let p = pnr("19850612", 242);
    let line = one_error_line(
        &env,
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--pnr",
            &p,
            "--date",
            "2021-01-01",
        ],
        2,
    );
    assert!(
        line.contains("--consent") && line.contains("sustrack start --help"),
        "{line}"
    );
    let line = one_error_line(&env, &["report", "--year", "2021", "--format", "xml"], 2);
    assert!(line.contains("text, csv"), "{line}");
    let line = one_error_line(&env, &["frobnicate"], 2);
    assert!(line.contains("frobnicate"), "{line}");
    // A domain field is named by the command's flag.
    let line = one_error_line(&env, &["report", "--year", "2021", "--months-band", "0"], 2);
    assert!(line.starts_with("error: --months-band "), "{line}");
    let line = one_error_line(&env, &["generate", "--enrolments", "0"], 2);
    assert!(line.starts_with("error: --enrolments "), "{line}");
}

#[test]
fn a_directory_as_db_is_named_as_one() {
    let env = Env::empty();
    std::fs::create_dir(&env.db).unwrap();
    let line = one_error_line(&env, &["log"], 1);
    assert!(
        line.contains(env.db.to_str().unwrap()) && line.contains("directory"),
        "{line}"
    );
}

#[test]
fn a_file_with_schema_version_0_gets_a_clear_message_and_is_not_modified() {
    let env = Env::empty();
    {
        let c = rusqlite::Connection::open(&env.db).unwrap();
        c.pragma_update(None, "application_id", sustrack::store::APPLICATION_ID)
            .unwrap();
        c.execute_batch("CREATE TABLE meta (x)").unwrap();
    }
    let bytes = std::fs::read(&env.db).unwrap();
    let line = one_error_line(&env, &["intervention", "list"], 1);
    assert!(
        line.contains("version 0") && !line.contains("CREATE"),
        "{line}"
    );
    assert_eq!(std::fs::read(&env.db).unwrap(), bytes);
    // Nothing in it at all but the mark.
    std::fs::remove_file(&env.db).unwrap();
    {
        let c = rusqlite::Connection::open(&env.db).unwrap();
        c.pragma_update(None, "application_id", sustrack::store::APPLICATION_ID)
            .unwrap();
    }
    let bytes = std::fs::read(&env.db).unwrap();
    let line = one_error_line(&env, &["log"], 1);
    assert!(line.contains("version 0"), "{line}");
    assert_eq!(std::fs::read(&env.db).unwrap(), bytes);
}

/// Make the database read-only for the account the test runs it as:
/// root may write any file, so as root the binary runs as `nobody`.
fn run_read_only(env: &Env, args: &[&str]) -> std::process::Output {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let mut c = env.std_command(args);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        for suffix in ["", "-wal", "-shm"] {
            let f = format!("{}{suffix}", env.db.display());
            if std::path::Path::new(&f).exists() {
                std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
        // SQLite creates the -shm index beside a WAL file it reads.
        std::fs::set_permissions(env.dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        c.uid(65534).gid(65534);
    } else {
        std::fs::set_permissions(&env.db, std::fs::Permissions::from_mode(0o444)).unwrap();
    }
    c.output().unwrap()
}

#[test]
fn a_read_only_file_is_read_and_says_what_it_cannot_do() {
    let env = with_data();
    let before = env.dump();
    for args in [&["check"][..], &["intervention", "list"], &["log"]] {
        let out = run_read_only(&env, args);
        assert!(out.status.success(), "{}", common::describe(args, &out));
    }
    for args in [
        &["show", "--pnr", &pnr("19850612", 240)][..],
        &["report", "--year", "2021"],
        &["export", "--year", "2021"],
    ] {
        let out = run_read_only(&env, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("could not be recorded in the audit trail"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    for args in [
        &["intervention", "add", "NEW", "--name", "New"][..],
        &[
            "start",
            "--intervention",
            "ALLIN",
            "--anonymous",
            "--gender",
            "K",
            "--date",
            "2021-05-01",
        ],
    ] {
        let out = run_read_only(&env, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("read-only") && !err.contains("readonly database"),
            "{err}"
        );
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn the_audit_trail_names_the_os_account_and_by_as_a_claim() {
    let env = with_data();
    let mut c = env.std_command(&["--by", "Eva", "intervention", "add", "BY", "--name", "By"]);
    assert!(c.status().unwrap().success());
    let mut c = env.std_command(&["intervention", "add", "NOUSER", "--name", "No user"]);
    c.env_remove("USER").env_remove("LOGNAME");
    assert!(c.status().unwrap().success());
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let actor_of = |subject: &str| -> String {
        conn.query_row(
            "SELECT actor FROM audit WHERE subject = ?1",
            [subject],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(actor_of("BY"), "cli:tester (by Eva)");
    let no_user = actor_of("NOUSER");
    assert!(!no_user.contains("unknown"), "{no_user}");
    // The account of this process's uid, as the user database names it.
    let me = String::from_utf8(
        std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(no_user.contains(&format!("cli:{}", me.trim())), "{no_user}");
}

#[test]
fn a_small_k_is_accepted_with_a_warning() {
    let env = with_data();
    let out = env.run(&["export", "--year", "2021", "--k", "2"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning: --k 2 is below 5"), "{err}");
    let out = env.run(&["export", "--year", "2021", "--k", "5"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("below 5"));
}

/// A report refused for its selection is no report made: the audit trail
/// does not record one.
#[test]
fn a_refused_report_is_not_recorded_as_made() {
    let env = Env::new();
    let before = env.ok(&["log", "--limit", "100"]);
    env.fails(&["report", "--year", "2021", "--intervention", "NOPE"], 2);
    let after = env.ok(&["log", "--limit", "100"]);
    assert!(!after.contains(" report "), "{after}");
    assert!(before.contains("init"), "{before}");
}

/// An option given twice says so; a bad parent code names --parent.
#[test]
fn an_option_given_twice_and_a_bad_parent_name_their_flag() {
    let env = Env::new();
    let db = env.db.to_str().unwrap().to_string();
    let line = one_error_line(&env, &["--db", &db, "log"], 2);
    assert!(line.contains("--db is given twice"), "{line}");
    let line = one_error_line(
        &env,
        &[
            "intervention",
            "add",
            "A9",
            "--name",
            "x",
            "--parent",
            "bad code!",
        ],
        2,
    );
    assert!(line.starts_with("error: --parent 'bad code!'"), "{line}");
}
