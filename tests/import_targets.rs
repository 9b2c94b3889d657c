//! Importing targets per year and förbund-defined indicators (SPEC
//! sections 7 and 12) through the real binary, and the role check through
//! the library.

mod common;

use common::Env;
use sustrack::store::targets::{StoredIndicator, YearTarget};

fn env() -> Env {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    env.ok(&["intervention", "add", "KRAFT", "--name", "Kraft"]);
    env
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Write `text` as a file in the environment; return its path as text.
fn write(env: &Env, name: &str, text: &str) -> String {
    let file = env.path(name);
    std::fs::write(&file, text).unwrap();
    file.to_str().unwrap().to_string()
}

fn conn(env: &Env) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(&env.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
}

fn targets(env: &Env) -> Vec<YearTarget> {
    sustrack::store::targets::all(&conn(env)).unwrap()
}

fn indicators(env: &Env) -> Vec<StoredIndicator> {
    sustrack::store::targets::indicators(&conn(env)).unwrap()
}

/// A percentage as the import stores it.
fn pct(p: f64) -> f64 {
    p / 100.0
}

fn target(intervention: Option<&str>, year: i32, indicator: &str, share: f64) -> YearTarget {
    YearTarget {
        intervention: intervention.map(str::to_string),
        year,
        indicator: indicator.into(),
        share,
    }
}

fn indicator(id: &str, outcomes: &str, sv: &str, en: &str, t: Option<f64>) -> StoredIndicator {
    StoredIndicator {
        id: id.into(),
        outcomes: outcomes.into(),
        label_sv: sv.into(),
        label_en: en.into(),
        target: t,
    }
}

/// Every table but the audit trail, as text.
fn dump_without_audit(env: &Env) -> String {
    env.dump()
        .lines()
        .filter(|l| !l.starts_with("audit:"))
        .collect::<Vec<_>>()
        .join("\n")
}

// ------------------------------------------------------------ targets per year

#[test]
fn targets_in_swedish_from_excel_and_in_english_from_libreoffice() {
    let env = env();
    // Windows-1252, semicolons, CRLF, "40 %", "50,5", a blank line,
    // trailing empty columns, an empty intervention for the total.
    let out = env.ok(&["import", &fixture("targets_sv.csv")]);
    assert!(out.contains("3 rows: 5 targets"), "{out}");
    // UTF-8 with BOM, commas, a quoted "40,5", a lower-case code, "(total)".
    let out = env.ok(&["import", &fixture("targets_en.csv")]);
    assert!(out.contains("2 rows: 2 targets"), "{out}");
    assert_eq!(
        targets(&env),
        vec![
            target(None, 2024, "work_or_studies", pct(45.0)),
            target(Some("ALLIN"), 2024, "quality_of_life", pct(50.5)),
            target(Some("ALLIN"), 2024, "step_progress", pct(60.0)),
            target(Some("ALLIN"), 2024, "work_or_studies", pct(40.0)),
            target(Some("KRAFT"), 2024, "step_progress", pct(35.0)),
            target(None, 2025, "step_progress", pct(55.0)),
            target(Some("ALLIN"), 2025, "work_or_studies", pct(40.5)),
        ]
    );
    let list = env.ok(&["target", "list"]);
    let lines: Vec<Vec<&str>> = list
        .lines()
        .skip(2)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        vec![
            vec!["2024", "(total)", "work_or_studies", "45.0", "%"],
            vec!["2024", "ALLIN", "quality_of_life", "50.5", "%"],
            vec!["2024", "ALLIN", "step_progress", "60.0", "%"],
            vec!["2024", "ALLIN", "work_or_studies", "40.0", "%"],
            vec!["2024", "KRAFT", "step_progress", "35.0", "%"],
            vec!["2025", "(total)", "step_progress", "55.0", "%"],
            vec!["2025", "ALLIN", "work_or_studies", "40.5", "%"],
        ],
        "{list}"
    );
}

#[test]
fn targets_reimport_is_a_no_op_a_new_target_is_added_and_another_value_is_a_conflict() {
    let env = env();
    env.ok(&["import", &fixture("targets_sv.csv")]);
    let before = targets(&env);
    let out = env.ok(&["import", &fixture("targets_sv.csv")]);
    assert!(out.contains("nothing to do: all 3 rows"), "{out}");
    assert_eq!(targets(&env), before);

    // The stored 40 % again, and a qol target not yet set: only that is added.
    let file = write(
        &env,
        "more.csv",
        "intervention,year,work_or_studies,qol\nKRAFT,2024,,70\nALLIN,2024,40,50.5\n",
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("2 rows: 1 targets, 1 skipped"), "{out}");
    let mut expected = before.clone();
    expected.insert(4, target(Some("KRAFT"), 2024, "quality_of_life", pct(70.0)));
    assert_eq!(targets(&env), expected);

    // Another value for a stored target is never overwritten.
    let file = write(
        &env,
        "changed.csv",
        "intervention;year;step\nALLIN;2024;65\nKRAFT;2025;10\n",
    );
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains(
            "line 2, column step: conflicts with what is stored: the 2024 target for step_progress of ALLIN is 60.0 %, not 65.0 %"
        ),
        "{err}"
    );
    assert!(err.contains("1 invalid row(s)"), "{err}");
    assert_eq!(
        targets(&env),
        expected,
        "the good row was not written either"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn a_bad_targets_file_is_refused_as_a_whole_naming_each_line_and_column() {
    let env = env();
    let file = write(
        &env,
        "bad.csv",
        "intervention,year,work_or_studies,step,qol\n\
         ALLIN,2024,40,,\n\
         NOPE,2024,40,,\n\
         ALLIN,12345,40,,\n\
         KRAFT,2024,140,,\n\
         KRAFT,2025,,,\n\
         KRAFT,20x5,,30,\n\
         KRAFT,2026,,,ja\n\
         ,,50,,\n\
         ALL IN,2026,50,,\n",
    );
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    for needle in [
        "line 3, column intervention: unknown intervention 'NOPE'",
        "line 4, column year: 12345 is out of range: expected a four-digit year",
        "line 5, column work_or_studies: '140' is not a target: expected a percentage from 0 to 100",
        "line 6, column work_or_studies: no target on this row: give at least one of work_or_studies, step, qol",
        "line 7, column year: '20x5' is not a year: expected a four-digit year",
        "line 8, column qol: 'ja' is not a target",
        "line 9, column year: the year is required",
        "line 10, column intervention:",
        "8 invalid row(s)",
    ] {
        assert!(err.contains(needle), "missing '{needle}' in\n{err}");
    }
    assert!(!err.contains("line 2,"), "{err}");
    assert_eq!(targets(&env), vec![], "nothing written, not even line 2");
    assert_eq!(env.dump(), before);
}

#[test]
fn targets_dry_run_writes_nothing() {
    let env = env();
    let before = env.dump();
    let out = env.ok(&["import", &fixture("targets_sv.csv"), "--dry-run"]);
    assert!(
        out.contains("dry run, nothing written: 3 rows: 5 targets"),
        "{out}"
    );
    assert_eq!(targets(&env), vec![]);
    assert_eq!(env.dump(), before);
}

#[test]
fn the_targets_header_is_told_apart_from_the_other_kinds() {
    let env = env();
    // `stegförflyttning` and `livskvalitet` are registration columns too;
    // beside `år` they are the targets.
    let file = write(
        &env,
        "sv.csv",
        "insats;år;stegförflyttning;livskvalitet\nALLIN;2024;60;50\n",
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("2 targets"), "{out}");
    assert_eq!(
        targets(&env),
        vec![
            target(Some("ALLIN"), 2024, "quality_of_life", pct(50.0)),
            target(Some("ALLIN"), 2024, "step_progress", pct(60.0)),
        ]
    );
    // A volume header with a year and a target column is not a volume file
    // with columns ignored: the foreign columns are refused.
    let before = env.dump();
    let file = write(
        &env,
        "mixed.csv",
        "intervention,year,month,women,men,step\nALLIN,2024,2024-01,3,4,50\n",
    );
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 1, column month: column 'month' does not belong in a targets file: its columns are intervention, year, work_or_studies, step, qol"),
        "{err}"
    );
    assert!(err.contains("line 1, column women:"), "{err}");
    // A year without a target column is no kind of file.
    let file = write(&env, "year.csv", "intervention,year\nALLIN,2024\n");
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("unrecognised header (a year but no target column)"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
    // A volume file is still a volume file.
    env.ok(&[
        "intervention",
        "add",
        "GRUPP",
        "--name",
        "Grupp",
        "--kind",
        "volume",
    ]);
    let file = write(
        &env,
        "volume.csv",
        "insats;månad;kvinnor;män\nGRUPP;2024-01;3;4\n",
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("1 volume months"), "{out}");
    assert_eq!(targets(&env).len(), 2);
}

// ------------------------------------------------------ förbund-defined indicators

#[test]
fn indicators_in_swedish_from_excel_and_in_english_from_libreoffice() {
    let env = env();
    // Windows-1252, semicolons: `|` and `/` separate outcomes, Swedish
    // labels and an alias with a `/` in it (arbete/anställning) are read.
    let out = env.ok(&["import", &fixture("indicators_sv.csv")]);
    assert!(out.contains("2 rows: 2 indicators"), "{out}");
    // UTF-8, commas: a quoted comma list, quoted labels with commas, "40,5".
    let out = env.ok(&["import", &fixture("indicators_en.csv")]);
    assert!(out.contains("2 rows: 2 indicators"), "{out}");
    assert_eq!(
        indicators(&env),
        vec![
            indicator(
                "arbete_el_sokande",
                "work,studies,job_seeking",
                "till arbete, studier eller arbetssökande",
                "to work, studies or job seeking",
                Some(pct(50.0)),
            ),
            indicator(
                "rehab",
                "medical_rehab",
                "medicinsk rehabilitering",
                "medical rehabilitation",
                None,
            ),
            indicator(
                "vocational",
                "other_vocational,medical_rehab",
                "arbetslivsinriktad insats eller rehabilitering",
                "vocational intervention or rehabilitation",
                None,
            ),
            indicator(
                "work_studies_or_seeking",
                "work,studies,job_seeking",
                "till arbete, studier eller arbetssökande",
                "to work, studies or job seeking",
                Some(pct(40.5)),
            ),
        ]
    );
    let list = env.ok(&["indicator", "list"]);
    assert!(
        list.lines().any(|l| l.starts_with("vocational ")
            && l.contains("other_vocational,medical_rehab")
            && l.trim_end().ends_with('-')),
        "{list}"
    );
    assert!(
        list.lines()
            .any(|l| l.starts_with("work_studies_or_seeking ") && l.contains("40.5 %")),
        "{list}"
    );
    assert_eq!(list.lines().count(), 6, "{list}");
}

#[test]
fn indicators_reimport_is_a_no_op_and_another_definition_is_a_conflict() {
    let env = env();
    env.ok(&["import", &fixture("indicators_sv.csv")]);
    let stored = indicators(&env);
    let before = dump_without_audit(&env);
    let out = env.ok(&["import", &fixture("indicators_sv.csv")]);
    assert!(out.contains("nothing to do: all 2 rows"), "{out}");
    assert_eq!(indicators(&env), stored);
    assert_eq!(dump_without_audit(&env), before);
    // The same set of outcomes in another order and spelling is the same.
    let file = write(
        &env,
        "same.csv",
        "indicator,outcomes,label_sv,label_en,target\n\
         arbete_el_sokande,job_seeking/work/studies,\"till arbete, studier eller arbetssökande\",\"to work, studies or job seeking\",50\n",
    );
    let out = env.ok(&["import", &file]);
    assert!(out.contains("nothing to do"), "{out}");
    // Another definition under a stored id: each difference named by its column.
    let file = write(
        &env,
        "changed.csv",
        "indicator;outcomes;label_sv;label_en;target\n\
         arbete_el_sokande;work|studies;till arbete, studier eller arbetssökande;to work, studies or job seeking;50\n\
         rehab;medical_rehab;medicinsk rehabilitering;medical rehabilitation;30\n\
         rehab;medical_rehab;rehabilitering;medical rehabilitation;\n\
         new_one;dropout;avbrott;dropout;\n",
    );
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    for needle in [
        "line 2, column outcomes: conflicts with what is stored: indicator 'arbete_el_sokande' is stored with outcomes work,studies,job_seeking",
        "line 3, column target: conflicts with what is stored: indicator 'rehab' is stored with the target (none)",
        "line 4, column label_sv: conflicts with what is stored",
        "3 invalid row(s)",
    ] {
        assert!(err.contains(needle), "missing '{needle}' in\n{err}");
    }
    assert_eq!(indicators(&env), stored, "new_one was not written either");
    assert_eq!(env.dump(), before);
}

#[test]
fn a_bad_indicators_file_is_refused_as_a_whole_naming_each_line_and_column() {
    let env = env();
    let file = write(
        &env,
        "bad.csv",
        "indicator,outcomes,label_sv,label_en,target\n\
         fine,work,arbete,work,\n\
         Bad-Id,work,arbete,work,\n\
         holiday_rate,work|holiday,semester,holiday,\n\
         work_or_studies,work,arbete,work,\n\
         too_high,work,arbete,work,140\n\
         split,work,studies,arbete,work\n\
         no_label,work,,work,\n\
         long_label,work,arbete,work,\n\
         empty,\" | \",tomt,empty,\n",
    );
    // The Swedish label over 120 characters (the domain's limit).
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "long_label,work,arbete",
        &format!("long_label,work,{}", "a".repeat(121)),
    );
    std::fs::write(&file, text).unwrap();
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    for needle in [
        "line 3, column indicator: 'Bad-Id' is not an indicator id",
        "line 4, column outcomes: 'holiday' is not an exit outcome: accepted are work, studies, job_seeking",
        "line 5, column indicator: 'work_or_studies' is a standard indicator",
        "line 6, column target: '140' is not a target: expected a percentage from 0 to 100",
        "line 7, column outcomes: the list of outcomes seems split over several columns",
        "line 8, column label_sv: the Swedish label is required",
        "line 9, column label_sv: is empty or too long",
        "line 10, column outcomes: is empty: expected one or more exit outcomes",
        "8 invalid row(s)",
    ] {
        assert!(err.contains(needle), "missing '{needle}' in\n{err}");
    }
    assert!(!err.contains("line 2,"), "{err}");
    assert_eq!(indicators(&env), vec![], "nothing written, not even line 2");
    assert_eq!(env.dump(), before);

    // An unquoted list in a header without target spills beyond the header.
    let file = write(
        &env,
        "unquoted.csv",
        "indikator,utfall,etikett_sv,etikett_en\nx,work,studies,a,b\n",
    );
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 2, column #5: a value beyond the header, which names 4 columns: name the column in the header or remove the value (an outcomes list with commas must be quoted"),
        "{err}"
    );
    // The labels are required columns.
    let file = write(&env, "short.csv", "indicator,outcomes\nx,work\n");
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 1, column label_sv: the header has no 'label_sv' column"),
        "{err}"
    );
    assert_eq!(indicators(&env), vec![]);
}

#[test]
fn indicators_dry_run_writes_nothing() {
    let env = env();
    let before = env.dump();
    let out = env.ok(&["import", &fixture("indicators_en.csv"), "--dry-run"]);
    assert!(
        out.contains("dry run, nothing written: 2 rows: 2 indicators"),
        "{out}"
    );
    assert_eq!(indicators(&env), vec![]);
    assert_eq!(env.dump(), before);
}

// ------------------------------------------------------------ who may import

#[test]
fn staff_may_not_import_targets_or_indicators_but_a_coordinator_may() {
    use sustrack::actor::{Actor, Role};
    use sustrack::identity::KdfProfile;
    use sustrack::import::{import, Failure, Options};
    let mut db = sustrack::store::Memory::open(KdfProfile::Test).unwrap();
    sustrack::register::intervention_add(
        &db.conn,
        &Actor::owner("t"),
        sustrack::model::Intervention {
            code: "ALLIN".into(),
            name: "Allin".into(),
            parent: None,
            kind: sustrack::codes::InterventionKind::Individual,
            target_work_studies: None,
            target_step: None,
            target_qol: None,
        },
    )
    .unwrap();
    let opts = Options {
        dry_run: false,
        today: chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
        progress: false,
    };
    let grants = std::iter::once("ALLIN".to_string()).collect();
    let staff = Actor::user("s", vec![Role::Staff], grants);
    let coordinator = Actor::user("c", vec![Role::Coordinator], Default::default());
    let files = [
        "intervention,year,work_or_studies\nALLIN,2024,40\n,2024,30\n",
        "indicator,outcomes,label_sv,label_en\nseeking,job_seeking,arbetssökande,job seeking\n",
    ];
    for file in files {
        match import(&mut db.conn, &db.kdf, &staff, file.as_bytes(), &opts) {
            Err(Failure::Fatal(sustrack::error::Error::Forbidden(_))) => {}
            other => panic!("staff imported {file:?}: {other:?}"),
        }
    }
    // Even a dry run, which would say what is stored.
    let dry = Options {
        dry_run: true,
        ..opts
    };
    assert!(matches!(
        import(&mut db.conn, &db.kdf, &staff, files[1].as_bytes(), &dry),
        Err(Failure::Fatal(sustrack::error::Error::Forbidden(_)))
    ));
    let stored = |conn: &rusqlite::Connection| {
        (
            sustrack::store::targets::all(conn).unwrap().len(),
            sustrack::store::targets::indicators(conn).unwrap().len(),
        )
    };
    assert_eq!(stored(&db.conn), (0, 0));
    for file in files {
        import(&mut db.conn, &db.kdf, &coordinator, file.as_bytes(), &opts).unwrap();
    }
    assert_eq!(stored(&db.conn), (2, 1));
}
