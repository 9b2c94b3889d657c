//! Importing activities, referrals and budgets (SPEC section 13, "import
//! from CSV like registrations") through the real binary: each kind by
//! its own header set, in English or Swedish; all-or-nothing with every
//! bad row named by line and column; `--dry-run` writes nothing; a
//! referrals file never takes a personnummer; the rules of `referral
//! decide` hold for a row with a decision.

mod common;

use chrono::{Datelike, Duration, Local, NaiveDate};
use common::Env;

/// Two people with synthetic numbers (never real ones).
const ANNA: &str = "19800315-2421";
const BO: &str = "19750101-1139";

fn today() -> NaiveDate {
    Local::now().date_naive()
}

/// A date `n` days before today, as the files write it. Activity lists
/// show the last year, so the files' dates follow the clock.
fn ago(n: i64) -> String {
    (today() - Duration::days(n)).to_string()
}

/// Last year: a year that has begun, so an actual cost may be known.
fn last_year() -> i32 {
    today().year() - 1
}

fn env() -> Env {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    env.ok(&["intervention", "add", "SUB", "--name", "Subinsats"]);
    env
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let p = env.path(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// Rows of a table, each as its cells joined with `|` (columns in order).
fn rows(env: &Env, sql: &str) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(&env.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut out = Vec::new();
    let mut q = stmt.query([]).unwrap();
    while let Some(r) = q.next().unwrap() {
        let cells: Vec<String> = (0..n)
            .map(|i| match r.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Null => "-".to_string(),
                rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                v => format!("{v:?}"),
            })
            .collect();
        out.push(cells.join("|"));
    }
    out
}

/// What the last import recorded in the audit trail.
fn import_audit(env: &Env) -> String {
    let found = rows(
        env,
        "SELECT detail FROM audit WHERE action = 'import' ORDER BY rowid DESC LIMIT 1",
    );
    found.into_iter().next().unwrap_or_default()
}

/// Run and return (exit code, stdout, stderr).
fn run(env: &Env, args: &[&str]) -> (Option<i32>, String, String) {
    let out = env.run(args);
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Forms of a number that must never be shown.
fn assert_no_pnr(text: &str, pnr: &str) {
    let digits: String = pnr.chars().filter(|c| c.is_ascii_digit()).collect();
    for form in [pnr.to_string(), digits.clone(), digits[2..].to_string()] {
        assert!(!text.contains(&form), "{form} shown:\n{text}");
    }
    assert!(!text.contains(&pnr[2..]), "{pnr} shown:\n{text}");
}

fn start(env: &Env, intervention: &str, pnr: &str, date: &str) -> String {
    let id = env.ok(&[
        "start",
        "--intervention",
        intervention,
        "--pnr",
        pnr,
        "--consent",
        "--date",
        date,
    ]);
    let id = id.trim().to_string();
    assert_eq!(id.len(), 36, "{id}");
    id
}

// ---------------------------------------------------------------- activities

#[test]
fn activities_file_in_english_is_imported_listed_audited_and_reimported_as_a_no_op() {
    let env = env();
    let (d1, d2) = (ago(20), ago(10));
    let file = write(
        &env,
        "activities.csv",
        &format!(
            "intervention,date,kind,women,men,unknown,organisations\n\
             ALLIN,{d1},seminar,12,8,1,4\n\
             allin,{d2},network,3,2,,\n"
        ),
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("2 rows: 2 activities"), "{out}");
    assert_eq!(
        rows(
            &env,
            "SELECT intervention, date, kind, women, men, unknown, organisations FROM activity ORDER BY date"
        ),
        vec![
            format!("ALLIN|{d1}|seminar|12|8|1|4"),
            format!("ALLIN|{d2}|network|3|2|0|-"),
        ]
    );
    let audit = import_audit(&env);
    assert!(
        audit.starts_with("activities: 2 rows: 2 activities"),
        "{audit}"
    );
    let list = env.ok(&["activity", "list", "--intervention", "ALLIN"]);
    assert!(list.contains(&d1) && list.contains("seminar"), "{list}");
    assert!(list.contains(&d2) && list.contains("network"), "{list}");

    // The same file again: nothing added, and it says so.
    let before: Vec<String> = rows(&env, "SELECT * FROM activity ORDER BY id");
    let out = env.ok(&["import", &file]);
    assert!(out.contains("already present"), "{out}");
    assert_eq!(rows(&env, "SELECT * FROM activity ORDER BY id"), before);
}

#[test]
fn activities_file_with_swedish_headers_and_labels_semicolons() {
    let env = env();
    let (d1, d2, d3) = (ago(30), ago(29), ago(28));
    // Swedish Excel: semicolons, Swedish headers and labels; the same
    // occasion twice in the file is two occasions.
    let file = write(
        &env,
        "aktiviteter.csv",
        &format!(
            "Insats;Datum;Typ;Kvinnor;Män;Okänt kön;Organisationer\n\
             ALLIN;{d1};Seminarium;10;5;0;3\n\
             ALLIN;{d2};Nätverksträff;4;4;2;\n\
             ALLIN;{d3};Utbildning;1;0;;\n\
             ALLIN;{d3};Utbildning;1;0;;\n"
        ),
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("4 rows: 4 activities"), "{out}");
    assert_eq!(
        rows(
            &env,
            "SELECT kind, women, men, unknown, organisations FROM activity ORDER BY date, kind"
        ),
        vec![
            "seminar|10|5|0|3",
            "network|4|4|2|-",
            "training|1|0|0|-",
            "training|1|0|0|-",
        ]
    );
    // `aktivitet` and `okänd` are headers too.
    let file = write(
        &env,
        "aktiviteter2.csv",
        &format!("insats,datum,aktivitet,kvinnor,man,okänd\nSUB,{d1},info,0,0,7\n"),
    );
    env.ok(&["import", &file]);
    assert_eq!(
        rows(
            &env,
            "SELECT kind, unknown FROM activity WHERE intervention = 'SUB'"
        ),
        vec!["information|7"]
    );
}

#[test]
fn an_activities_file_with_bad_rows_writes_nothing_and_names_each_row_and_column() {
    let env = env();
    let d = ago(5);
    let file = write(
        &env,
        "bad.csv",
        &format!(
            "insats;datum;typ;kvinnor;män\n\
             ALLIN;{d};seminarium;3;4\n\
             ALLIN;{d};fest;3;4\n\
             ALLIN;{d};nätverk;många;4\n\
             NOSUCH;{d};annat;1;1\n\
             ALLIN;{d};annat;0;0\n\
             ALLIN;{d};annat;2;2\n"
        ),
    );
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 3, column typ: invalid value 'fest': accepted are"),
        "{err}"
    );
    assert!(err.contains("seminar"), "what is accepted is said: {err}");
    assert!(
        err.contains("line 4, column kvinnor: invalid count 'många'"),
        "{err}"
    );
    assert!(err.contains("line 5, column intervention:"), "{err}");
    assert!(
        err.contains("line 6, column women:") && err.contains("at least one attendee"),
        "{err}"
    );
    assert!(
        !err.contains("line 2,") && !err.contains("line 7,"),
        "{err}"
    );
    assert!(err.contains("4 invalid row(s)"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert_eq!(env.dump(), before, "a refused file wrote something");
}

#[test]
fn an_activities_dry_run_reports_and_writes_nothing() {
    let env = env();
    let file = write(
        &env,
        "a.csv",
        &format!(
            "intervention,date,kind,women,men\nALLIN,{},training,5,5\n",
            ago(3)
        ),
    );
    let before = env.dump();
    let out = env.ok(&["import", "--dry-run", &file]);
    assert!(
        out.contains("dry run, nothing written") && out.contains("1 activities"),
        "{out}"
    );
    assert_eq!(env.dump(), before);
}

// ----------------------------------------------------------------- referrals

#[test]
fn referrals_file_in_swedish_is_imported_and_listed() {
    let env = env();
    let (d1, d2) = (ago(40), ago(35));
    let file = write(
        &env,
        "remisser.csv",
        &format!(
            "Insats;Remissdatum;Kön;Födelseår;Kommun;Remittent\n\
             ALLIN;{d1};K;1990;Vänersborg;Arbetsförmedlingen\n\
             ALLIN;{d2};M;;;\n"
        ),
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("2 rows: 2 referrals"), "{out}");
    assert_eq!(
        rows(
            &env,
            "SELECT intervention, date, gender, birth_year, municipality, referrer, decision FROM referral ORDER BY date"
        ),
        vec![
            format!("ALLIN|{d1}|woman|1990|1487|af|-"),
            format!("ALLIN|{d2}|man|-|-|-|-"),
        ]
    );
    let list = env.ok(&["referral", "list", "--intervention", "ALLIN"]);
    assert!(list.contains(&d1) && list.contains(&d2), "{list}");
    assert!(
        list.contains("1990") && list.contains("Vänersborg"),
        "{list}"
    );
    let audit = import_audit(&env);
    assert!(audit.contains("referrals: 2 rows: 2 referrals"), "{audit}");
    // Again: nothing new.
    let out = env.ok(&["import", &file]);
    assert!(out.contains("already present"), "{out}");
    assert_eq!(rows(&env, "SELECT count(*) FROM referral"), vec!["2"]);
}

#[test]
fn referral_rows_with_decisions_are_registered_and_decided_together() {
    let env = env();
    let (received, started, decided) = (ago(50), ago(30), ago(31));
    let enrolment = start(&env, "ALLIN", ANNA, &started);
    let file = write(
        &env,
        "decided.csv",
        &format!(
            "intervention,date,gender,birth_year,referrer,decision,decision_date,enrolment\n\
             ALLIN,{received},K,1980,af,started,{decided},{}\n\
             ALLIN,{received},M,1975,,Avslag,{decided},\n\
             ALLIN,{received},M,1971,,återremiss,{decided},\n\
             ALLIN,{received},K,,,,,\n",
            &enrolment[..8]
        ),
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("4 referrals, 3 decisions"), "{out}");
    assert_eq!(
        rows(
            &env,
            "SELECT birth_year, decision, decided, enrolment FROM referral ORDER BY birth_year"
        ),
        vec![
            "-|-|-|-".to_string(),
            format!("1971|returned|{decided}|-"),
            format!("1975|declined|{decided}|-"),
            format!("1980|started|{decided}|{enrolment}"),
        ]
    );
    // Only the undecided one is still open.
    let list = env.ok(&["referral", "list", "--intervention", "ALLIN"]);
    assert_eq!(
        list.lines().filter(|l| l.contains(&received)).count(),
        1,
        "{list}"
    );

    // A file of received referrals imported first and again with decisions
    // filled in: the second import decides the stored referral.
    let env = super_env_with_open_referral(&received);
    let bo = start(&env, "ALLIN", BO, &started);
    let file = write(
        &env,
        "later.csv",
        &format!(
            "intervention,date,gender,decision,decision_date,enrolment\n\
             ALLIN,{received},M,started,{decided},{bo}\n"
        ),
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("1 decisions"), "{out}");
    assert_eq!(
        rows(&env, "SELECT count(*), decision, enrolment FROM referral"),
        vec![format!("1|started|{bo}")]
    );
    // And once more: already present.
    let out = env.ok(&["import", &file]);
    assert!(out.contains("already present"), "{out}");
}

fn super_env_with_open_referral(received: &str) -> Env {
    let env = env();
    let file = write(
        &env,
        "received.csv",
        &format!("intervention,date,gender\nALLIN,{received},M\n"),
    );
    env.ok(&["import", &file]);
    env
}

#[test]
fn a_started_decision_must_name_an_enrolment_of_the_same_intervention_starting_on_or_after_the_referral(
) {
    let env = env();
    let received = ago(40);
    // Bo started in SUB, the other intervention; Anna in ALLIN before the
    // referral arrived.
    let in_sub = start(&env, "SUB", BO, &ago(20));
    let too_early = start(&env, "ALLIN", ANNA, &ago(60));
    let file = write(
        &env,
        "wrong.csv",
        &format!(
            "insats,datum,kön,beslut,beslutsdatum,inskrivning\n\
             ALLIN,{received},K,avslag,{d},\n\
             ALLIN,{received},M,started,{d},{in_sub}\n\
             ALLIN,{received},K,started,{d},{too_early}\n\
             ALLIN,{received},K,started,{d},\n\
             ALLIN,{received},K,declined,{early},\n",
            d = ago(10),
            early = ago(41),
        ),
    );
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 3, column enrolment:")
            && err.contains(
                "but the referral is to ALLIN: expected an enrolment of the same intervention"
            ),
        "{err}"
    );
    assert!(
        err.contains("line 4, column enrolment:")
            && err.contains("before the referral's date")
            && err.contains("expected an enrolment that starts on or after it"),
        "{err}"
    );
    assert!(err.contains("line 5, column enrolment:"), "{err}");
    assert!(
        err.contains("line 6, column decision_date:") && err.contains("on or after it"),
        "{err}"
    );
    assert!(!err.contains("line 2,"), "{err}");
    assert_eq!(env.dump(), before, "a refused file wrote something");
    assert_no_pnr(&err, ANNA);
    assert_no_pnr(&err, BO);
}

#[test]
fn a_referrals_file_with_a_personnummer_column_is_refused_without_showing_a_number() {
    let env = env();
    let d = ago(10);
    let before = env.dump();
    for (name, header) in [
        ("pnr.csv", "intervention,date,gender,pnr"),
        (
            "personnummer.csv",
            "Insats;Remissdatum;Personnummer;Kön;Beslut",
        ),
    ] {
        let sep = if header.contains(';') { ";" } else { "," };
        let row = if sep == ";" {
            format!("ALLIN;{d};{ANNA};K;\n")
        } else {
            format!("ALLIN,{d},K,{ANNA}\n")
        };
        let file = write(&env, name, &format!("{header}\n{row}"));
        for args in [
            vec!["import", file.as_str()],
            vec!["import", "--dry-run", file.as_str()],
        ] {
            let (code, out, err) = run(&env, &args);
            assert_eq!(code, Some(2), "{out}{err}");
            let column = header
                .rsplit(sep)
                .find(|c| c.to_lowercase().starts_with('p'));
            let column = column.unwrap();
            assert!(
                err.contains(&format!("line 1, column {column}:"))
                    && err.contains("never holds a personnummer"),
                "{err}"
            );
            assert_no_pnr(&out, ANNA);
            assert_no_pnr(&err, ANNA);
        }
    }
    assert_eq!(env.dump(), before);
}

#[test]
fn a_personnummer_in_any_cell_of_a_referrals_file_refuses_the_row_unshown() {
    let env = env();
    let d = ago(10);
    let digits = ANNA.replace('-', "");
    let file = write(
        &env,
        "cells.csv",
        &format!(
            "intervention,date,gender,birth_year,municipality,referrer,enrolment\n\
             ALLIN,{d},K,1990,,,\n\
             ALLIN,{d},K,{ANNA},,,\n\
             ALLIN,{d},K,,{digits},,\n\
             ALLIN,{d},K,,,{BO},\n\
             ALLIN,{d},K,,,,{}\n",
            &digits[2..]
        ),
    );
    let before = env.dump();
    let (code, out, err) = run(&env, &["import", &file]);
    assert_eq!(code, Some(2), "{out}{err}");
    for (line, column) in [
        (3, "birth_year"),
        (4, "municipality"),
        (5, "referrer"),
        (6, "enrolment"),
    ] {
        assert!(
            err.contains(&format!(
                "line {line}, column {column}: holds what looks like a personnummer"
            )),
            "{err}"
        );
    }
    assert!(!err.contains("line 2,"), "{err}");
    assert_no_pnr(&format!("{out}{err}"), ANNA);
    assert_no_pnr(&format!("{out}{err}"), BO);
    assert_eq!(env.dump(), before);
}

#[test]
fn a_referrals_dry_run_and_a_bad_row_write_nothing() {
    let env = env();
    let d = ago(10);
    let good = write(
        &env,
        "good.csv",
        &format!("intervention,date,gender\nALLIN,{d},K\nALLIN,{d},M\n"),
    );
    let before = env.dump();
    let out = env.ok(&["import", "--dry-run", &good]);
    assert!(
        out.contains("dry run, nothing written") && out.contains("2 referrals"),
        "{out}"
    );
    assert_eq!(env.dump(), before);

    let bad = write(
        &env,
        "bad.csv",
        &format!(
            "intervention;datum;kön;födelseår;beslut\n\
             ALLIN;{d};K;1990;\n\
             ALLIN;{d};X;1990;\n\
             ALLIN;{d};M;1990;kanske\n\
             ALLIN;{d};M;1990;avslag\n"
        ),
    );
    let err = env.fails(&["import", &bad], 2);
    assert!(
        err.contains("line 3, column kön: invalid value 'X': accepted are"),
        "{err}"
    );
    assert!(
        err.contains("line 4, column beslut: invalid value 'kanske': accepted are")
            && err.contains("started"),
        "{err}"
    );
    assert!(
        err.contains("line 5, column decision_date: is required with a decision"),
        "{err}"
    );
    assert!(!err.contains("line 2,"), "{err}");
    assert_eq!(env.dump(), before);
}

// ------------------------------------------------------------------- budgets

#[test]
fn budgets_file_with_swedish_headers_and_amounts_in_kronor() {
    let env = env();
    let y = last_year();
    let file = write(
        &env,
        "budget.csv",
        &format!(
            "Insats;År;Budget;Utfall\n\
             ALLIN;{y};1 250 000 kr;1 100 000\n\
             SUB;{y};300000;\n\
             ALLIN;{};2 000 000 kr;\n",
            y + 1
        ),
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("3 rows: 3 budgets"), "{out}");
    let list = env.ok(&["budget", "list", "--year", &y.to_string()]);
    assert!(
        list.lines()
            .any(|l| l.contains("ALLIN") && l.contains("1250000") && l.contains("1100000")),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.contains("SUB") && l.contains("300000")),
        "{list}"
    );
    assert_eq!(
        rows(
            &env,
            "SELECT intervention, year, budget, actual FROM budget ORDER BY intervention, year"
        ),
        vec![
            format!("ALLIN|{y}|1250000|1100000"),
            format!("ALLIN|{}|2000000|-", y + 1),
            format!("SUB|{y}|300000|-"),
        ]
    );
    let audit = import_audit(&env);
    assert!(audit.contains("budgets: 3 rows: 3 budgets"), "{audit}");

    // English headers, `faktisk kostnad` too: the same amounts are skipped,
    // a late actual cost completes its line, another budget is a conflict.
    let again = write(
        &env,
        "again.csv",
        &format!("intervention,year,budget,faktisk kostnad\nALLIN,{y},1250000,1100000\nSUB,{y},300000,280000\n"),
    );
    let out = env.ok(&["import", &again]);
    assert!(
        out.contains("1 budgets") && out.contains("1 skipped"),
        "{out}"
    );
    assert_eq!(
        rows(&env, "SELECT actual FROM budget WHERE intervention = 'SUB'"),
        vec!["280000"]
    );
    let conflict = write(
        &env,
        "conflict.csv",
        &format!("intervention,year,budget\nALLIN,{y},999\n"),
    );
    let before = env.dump();
    let err = env.fails(&["import", &conflict], 2);
    assert!(
        err.contains("line 2, column budget: conflicts with what is stored")
            && err.contains("budget set"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn a_budgets_file_with_a_bad_row_writes_nothing_and_a_dry_run_neither() {
    let env = env();
    let y = last_year();
    let file = write(
        &env,
        "bad.csv",
        &format!(
            "intervention,year,budget,actual\n\
             ALLIN,{y},100000,\n\
             SUB,{y},mycket,\n\
             SUB,tjugo,100,\n\
             SUB,{},100,50\n\
             NOSUCH,{y},100,\n",
            y + 2
        ),
    );
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 3, column budget: 'mycket' is not an amount: expected whole kronor"),
        "{err}"
    );
    assert!(
        err.contains("line 4, column year: 'tjugo' is not a year"),
        "{err}"
    );
    assert!(
        err.contains("line 5, column actual:") && err.contains("has not begun"),
        "{err}"
    );
    assert!(err.contains("line 6, column intervention:"), "{err}");
    assert!(!err.contains("line 2,"), "{err}");
    assert_eq!(env.dump(), before);

    let good = write(
        &env,
        "good.csv",
        &format!("intervention,year,budget\nALLIN,{y},100000\n"),
    );
    let out = env.ok(&["import", "--dry-run", &good]);
    assert!(
        out.contains("dry run, nothing written") && out.contains("1 budgets"),
        "{out}"
    );
    assert_eq!(env.dump(), before);
    assert!(env
        .ok(&["budget", "list", "--year", &y.to_string()])
        .contains("no budgets"));
}

// --------------------------------------------------------------------- roles

#[test]
fn staff_import_activities_and_referrals_for_their_own_interventions_only_and_no_budgets() {
    use sustrack::actor::{Actor, Role};
    use sustrack::codes::InterventionKind;
    use sustrack::identity::KdfProfile;
    use sustrack::import::{self, Failure, Options};
    use sustrack::model::Intervention;
    use sustrack::store::{self, Memory};

    let mut db = Memory::open(KdfProfile::Test).unwrap();
    let owner = Actor::owner("cli:test");
    for code in ["ALLIN", "SUB"] {
        store::write(&mut db.conn, |tx| {
            sustrack::register::intervention_add(
                tx,
                &owner,
                Intervention {
                    code: code.into(),
                    name: format!("Insats {code}"),
                    parent: None,
                    kind: InterventionKind::Individual,
                    target_work_studies: None,
                    target_step: None,
                    target_qol: None,
                },
            )
        })
        .unwrap();
    }
    let staff = Actor::user(
        "staff",
        vec![Role::Staff],
        ["ALLIN".to_string()].into_iter().collect(),
    );
    let coordinator = Actor::user("coord", vec![Role::Coordinator], Default::default());
    let opts = Options {
        dry_run: false,
        today: today(),
        progress: false,
    };
    let d = ago(5);
    let mut import = |actor: &Actor, text: String| {
        import::import(&mut db.conn, &db.kdf, actor, text.as_bytes(), &opts)
    };
    let s = import(
        &staff,
        format!("intervention,date,kind,women,men\nALLIN,{d},seminar,1,1\n"),
    )
    .unwrap();
    assert_eq!(s.activities, 1);
    let s = import(&staff, format!("intervention,date,gender\nALLIN,{d},K\n")).unwrap();
    assert_eq!(s.referrals, 1);
    // Another intervention does not exist for them.
    match import(
        &staff,
        format!("intervention,date,kind,women,men\nSUB,{d},seminar,1,1\n"),
    ) {
        Err(Failure::Rows(rows)) => {
            assert_eq!(rows.len(), 1);
            assert_eq!((rows[0].line, rows[0].column.as_str()), (2, "intervention"));
        }
        other => panic!("{other:?}"),
    }
    match import(&staff, format!("intervention,date,gender\nSUB,{d},M\n")) {
        Err(Failure::Rows(rows)) => assert_eq!(rows[0].column, "intervention"),
        other => panic!("{other:?}"),
    }
    // Budgets are the coordinators'.
    let budget = format!("intervention,year,budget\nALLIN,{},1000\n", last_year());
    assert!(matches!(
        import(&staff, budget.clone()),
        Err(Failure::Fatal(sustrack::error::Error::Forbidden(_)))
    ));
    assert_eq!(import(&coordinator, budget).unwrap().budgets, 1);
}
