//! Importing spreadsheets through the real binary (SPEC section 7).

mod common;

use common::{pnr, Env};

fn env() -> Env {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    env
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn json_report(env: &Env) -> serde_json::Value {
    serde_json::from_str(&env.ok(&["report", "--year", "2021", "--format", "json"])).unwrap()
}

fn table_total(v: &serde_json::Value, id: &str) -> serde_json::Value {
    common::json_table(v, id)["total"].clone()
}

#[test]
fn swedish_excel_then_libreoffice_files_and_local_ids_across_files() {
    let env = env();
    let out = env.ok(&["import", &fixture("excel_sv.csv")]);
    assert!(out.contains("3 starts, 1 exits"), "{out}");
    // å, ä, ö arrived intact from Windows-1252, and Swedish labels became codes.
    let v = json_report(&env);
    let muni = common::json_table(&v, "municipality");
    let keys: Vec<&str> = muni["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .collect();
    // Rows are keyed by kommunkod and labelled with the official name.
    assert_eq!(keys, vec!["1461", "1487", "1492"]);
    let labels: Vec<&str> = muni["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["Mellerud", "Vänersborg", "Åmål"]);
    let yis = common::json_table(&v, "years_in_support");
    assert_eq!(
        yis["rows"][1]["values"],
        serde_json::json!([1, 0, 1]),
        "1–3 år"
    );

    // The LibreOffice file exits the Excel file's participants, the anonymous one by local_id.
    let out = env.ok(&["import", &fixture("libreoffice.csv")]);
    assert!(out.contains("1 starts, 2 exits"), "{out}");
    let v = json_report(&env);
    assert_eq!(
        table_total(&v, "participation"),
        // Active, new, exited, still active at the end, exited
        // within 30 days (none), persons.
        serde_json::json!([4, 4, 3, 1, 0, 4])
    );
    let outcome = common::json_table(&v, "outcome");
    let get = |k: &str| {
        outcome["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == k)
            .unwrap()["values"]
            .clone()
    };
    assert_eq!(get("work"), serde_json::json!([1, 0, 1])); // 19800315-2421: second-to-last digit 2, a woman
    assert_eq!(get("dropout"), serde_json::json!([1, 0, 1]));
    assert!(env.ok(&["check"]).contains("ok"));
}

#[test]
fn reimport_changes_nothing_and_says_so() {
    let env = env();
    env.ok(&["import", &fixture("excel_sv.csv")]);
    let before = common::dump(&env.db);
    let out = env.ok(&["import", &fixture("excel_sv.csv")]);
    assert!(out.contains("already present"), "{out}");
    let after = common::dump(&env.db);
    // Only the audit trail may grow (nothing is recorded for a no-op import).
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("audit:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&before), strip(&after));
}

#[test]
fn a_conflicting_row_is_an_error_not_skipped() {
    let env = env();
    env.ok(&["import", &fixture("excel_sv.csv")]);
    let a = pnr("19800315", 242);
    let file = env.path("conflict.csv");
    std::fs::write(
        &file,
        format!("event,intervention,pnr,date,outcome\nexit,ALLIN,{a},2021-09-30,dropout\n"),
    )
    .unwrap();
    let before = env.dump();
    let err = env.fails(&["import", file.to_str().unwrap()], 2);
    assert!(
        err.contains("line 2, column outcome: conflicts with what is stored"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn every_bad_row_is_reported_and_nothing_is_written() {
    let env = env();
    let a = pnr("19800315", 242);
    let b = pnr("19750101", 131);
    let mut csv =
        String::from("event;intervention;pnr;consent;local_id;gender;date;outcome;support\n");
    csv.push_str(&format!("start;ALLIN;{a};ja;;;2021-01-01;;sjukpenning\n")); // fine
    csv.push_str(&format!("start;ALLIN;{b};;;;2021-01-01;;\n")); // line 3: no consent
    csv.push_str("start;ALLIN;;;L1;;2021-01-01;;\n"); // line 4: anonymous without gender
    csv.push_str("start;ALLIN;;;L2;K;2021-02-30;;\n"); // line 5: no such date
    csv.push_str("start;ALLIN;;;L3;K;2021-02-01;;lottery\n"); // line 6: bad code
    csv.push_str("start;NOPE;;;L4;K;2021-02-01;;\n"); // line 7: unknown intervention
    csv.push_str("fly;ALLIN;;;L5;K;2021-02-01;;\n"); // line 8: bad event
    csv.push_str(&format!("exit;ALLIN;{a};;;;2020-12-01;work;\n")); // line 9: exit before start
    csv.push_str("start;ALLIN;19800315-2420;ja;;;2021-01-01;;\n"); // line 10: bad check digit
    csv.push_str("start;ALLIN;;;19800315-2421;K;2021-01-01;;\n"); // line 11: a pnr as local id
    csv.push_str(&format!("start;ALLIN;{b};ja;;;2021-03-01;;\n")); // fine
    csv.push_str(&format!("start;ALLIN;{b};ja;;;2021-04-01;;\n")); // line 13: second open enrolment
    let file = env.path("bad.csv");
    std::fs::write(&file, csv).unwrap();
    let before = env.dump();
    let err = env.fails(&["import", file.to_str().unwrap()], 2);
    for needle in [
        "line 3, column consent",
        "line 4, column gender",
        "line 5, column date",
        "line 6, column support: invalid value 'lottery'",
        "line 7, column intervention: unknown intervention 'NOPE'",
        "line 8, column event: invalid event 'fly'",
        "line 9, column date: 2020-12-01 is before the start date",
        "line 10, column pnr: is not a valid personnummer: the check digit",
        "line 11, column local_id",
        "line 13, column date: the participant already has an open enrolment",
        "10 invalid row(s)",
    ] {
        assert!(err.contains(needle), "missing '{needle}' in\n{err}");
    }
    assert!(
        !err.contains("19800315-242"),
        "a personnummer was echoed\n{err}"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn an_error_on_the_last_row_leaves_the_database_untouched() {
    let env = env();
    let mut csv = String::from("event,intervention,local_id,gender,date\n");
    for i in 0..300 {
        csv.push_str(&format!("start,ALLIN,L{i},K,2021-01-01\n"));
    }
    csv.push_str("start,ALLIN,L9999,K,2021-01-32\n");
    let file = env.path("last.csv");
    std::fs::write(&file, csv).unwrap();
    let before = env.dump();
    let err = env.fails(&["import", file.to_str().unwrap()], 2);
    assert!(err.contains("line 302, column date"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn dry_run_validates_without_writing() {
    let env = env();
    let before = env.dump();
    let out = env.ok(&["import", &fixture("excel_sv.csv"), "--dry-run"]);
    assert!(out.contains("dry run") && out.contains("3 starts"), "{out}");
    assert_eq!(env.dump(), before);
}

#[test]
fn interventions_and_volume_files_from_the_sample_data() {
    let env = Env::new();
    let root = env!("CARGO_MANIFEST_DIR");
    let out = env.ok(&["import", &format!("{root}/sample_data/interventions.csv")]);
    assert!(out.contains("7 interventions"), "{out}");
    let out = env.ok(&["import", &format!("{root}/sample_data/volume.csv")]);
    assert!(out.contains("24 volume months"), "{out}");
    let out = env.ok(&["import", &format!("{root}/sample_data/interventions.csv")]);
    assert!(out.contains("nothing to do"), "{out}");
    let list = env.ok(&["intervention", "list"]);
    assert!(
        list.contains("VAGEN-UNG") && list.contains("Hälsostöd i vardagen"),
        "{list}"
    );
}

#[test]
fn headers_and_encodings() {
    use sustrack::import::{decode, sniff_delimiter};
    assert_eq!(decode(b"\xef\xbb\xbfkommun\n"), "kommun\n");
    assert_eq!(decode(b"V\xe4nersborg"), "Vänersborg");
    assert_eq!(decode(&[0xff, 0xfe, b'a', 0, b'\xe5', 0]), "aå");
    assert_eq!(sniff_delimiter("a;b;c\n1,2;3"), b';');
    assert_eq!(sniff_delimiter("a,b,c"), b',');
    assert_eq!(sniff_delimiter("\"a;b\",c,d"), b',');
    assert_eq!(sniff_delimiter("a\tb"), b'\t');
    let env = env();
    let file = env.path("h.csv");
    std::fs::write(&file, "event,intervention,date,colour\n").unwrap();
    let err = env.fails(&["import", file.to_str().unwrap()], 2);
    assert!(
        err.contains("line 1, column colour: unknown column 'colour'"),
        "{err}"
    );
    std::fs::write(&file, "").unwrap();
    let err = env.fails(&["import", file.to_str().unwrap()], 2);
    assert!(err.contains("empty"), "{err}");
    let err = env.fails(&["import", "/nonexistent.csv"], 2);
    assert!(err.contains("no file"), "{err}");
}

// ------------------------------------------------ line numbers and bounds (issue 12, items 8 and 9)

/// Write `bytes` as a file in the environment; return its path as text.
fn write(env: &Env, name: &str, bytes: &[u8]) -> String {
    let file = env.path(name);
    std::fs::write(&file, bytes).unwrap();
    file.to_str().unwrap().to_string()
}

#[test]
fn line_numbers_are_physical_lines_in_crlf_files_with_blank_lines() {
    let env = env();
    // What Excel writes: CRLF, a blank line before the header, blank lines
    // between rows, and a quoted cell over two lines.
    let csv = "\r\n\
               event;intervention;local_id;gender;date;municipality\r\n\
               start;ALLIN;L1;K;2021-01-01;Vänersborg\r\n\
               \r\n\
               ;;;;;\r\n\
               start;ALLIN;L2;K;2021-01-32;\r\n\
               start;ALLIN;L3;K;2021-01-05;\"Väners\r\nborg 2\"\r\n\
               start;ALLIN;L4;X;2021-01-05;\r\n";
    let file = write(&env, "excel.csv", csv.as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 6, column date: '2021-01-32' is not a date: January 2021 has 31 days"),
        "{err}"
    );
    assert!(err.contains("line 7, column municipality"), "{err}");
    assert!(err.contains("line 9, column gender"), "{err}");
    assert!(err.contains("3 invalid row(s)"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn import_of_dev_zero_stops_at_once_with_a_clear_error() {
    let env = env();
    let before = env.dump();
    let started = std::time::Instant::now();
    let out = assert_cmd::Command::cargo_bin("sustrack")
        .unwrap()
        .env_remove("SUSTRACK_DB")
        .arg("--db")
        .arg(&env.db)
        .args(["import", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: line 1 is longer than 64 KiB"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn a_row_longer_than_64_kib_is_refused_naming_its_line() {
    let env = env();
    let mut csv =
        String::from("event,intervention,local_id,gender,date\n\nstart,ALLIN,L1,K,2021-01-01\n");
    csv.push_str(&format!(
        "start,ALLIN,L2,K,2021-01-01,{}\n",
        "x".repeat(70_000)
    ));
    let file = write(&env, "long.csv", csv.as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(err.contains("error: line 4 is longer than 64 KiB"), "{err}");
    assert!(err.len() < 400, "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn a_huge_cell_is_never_echoed_in_full_nor_a_personnummer_in_it() {
    let env = env();
    let a = pnr("19800315", 242);
    let cell = format!("{a}{}", "Å".repeat(10_000));
    let csv = format!(
        "event,intervention,local_id,gender,date,municipality\nstart,ALLIN,L1,K,2021-01-01,{cell}\nstart,ALLIN,L2,K,2021-01-01,{}\n",
        "Vänersborg".repeat(5)
    );
    let file = write(&env, "cell.csv", csv.as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(err.contains("line 2, column municipality"), "{err}");
    assert!(err.contains("line 3, column municipality"), "{err}");
    assert!(err.len() < 1500, "{} bytes of errors:\n{err}", err.len());
    assert!(
        !err.contains("ÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅÅ"),
        "{err}"
    );
    let digits: String = a.chars().filter(char::is_ascii_digit).collect();
    let shown: String = err.chars().filter(char::is_ascii_digit).collect();
    assert!(
        !shown.contains(&digits[2..8]),
        "a personnummer leaked:\n{err}"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn a_header_with_thousands_of_columns_is_one_error() {
    let env = env();
    let mut header = String::from("event,intervention,date");
    for i in 0..5_000 {
        header.push_str(&format!(",c{i}"));
    }
    let file = write(&env, "wide.csv", format!("{header}\n").as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("the header has 5003 columns; at most 64 are accepted"),
        "{err}"
    );
    assert!(err.lines().count() <= 3, "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn the_first_100_errors_are_listed_and_the_rest_counted() {
    let env = env();
    let mut csv = String::from("event,intervention,local_id,gender,date\n");
    for i in 0..250 {
        csv.push_str(&format!("start,ALLIN,L{i},K,2021-13-01\n"));
    }
    let file = write(&env, "many.csv", csv.as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    let listed = err.lines().filter(|l| l.starts_with("line ")).count();
    assert_eq!(listed, 100, "{err}");
    assert!(err.contains("line 2, column date") && err.contains("line 101, column date"));
    assert!(!err.contains("line 102, column date"), "{err}");
    assert!(err.contains("150 more invalid row(s)"), "{err}");
    assert!(err.contains("250 invalid row(s)"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn a_value_beyond_the_header_is_an_error_naming_its_line() {
    let env = env();
    let csv = "event,intervention,local_id,gender,date,,\n\
               start,ALLIN,L1,K,2021-01-01,,\n\
               \"\",\n\
               start,ALLIN,L2,K,2021-01-01,,,,\n\
               start,ALLIN,L3,K,2021-01-01,,,,forgotten\n\
               start,ALLIN,L4,K,2021-01-01,note\n";
    let file = write(&env, "beyond.csv", csv.as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 5, column #9: a value beyond the header"),
        "{err}"
    );
    assert!(
        err.contains("line 6, column #6: a value beyond the header"),
        "{err}"
    );
    assert!(err.contains("2 invalid row(s)"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn windows_1252_is_recognised_after_the_first_chunk() {
    let env = env();
    // 120,000 bytes of ASCII rows, then a row in Windows-1252.
    let mut csv = b"event,intervention,local_id,gender,date,municipality\n".to_vec();
    let mut n = 0;
    while csv.len() < 120_000 {
        csv.extend_from_slice(format!("start,ALLIN,A{n},K,2021-01-01,Mellerud\n").as_bytes());
        n += 1;
    }
    csv.extend_from_slice(b"start,ALLIN,LAST,M,2021-01-01,V\xe4nersborg\n");
    let file = write(&env, "late.csv", &csv);
    let out = env.ok(&["import", &file]);
    assert!(out.contains(&format!("{} starts", n + 1)), "{out}");
    let v = json_report(&env);
    let muni = common::json_table(&v, "municipality");
    assert!(muni.to_string().contains("Vänersborg"), "{muni}");
}

#[test]
fn an_exit_without_its_start_names_the_participant_column() {
    let env = env();
    let csv = "event,intervention,local_id,gender,date,outcome\n\
               exit,ALLIN,L9,,2021-03-01,work\n\
               start,ALLIN,L1,K,2021-01-01,\n\
               exit,ALLIN,L1,,2020-03-01,work\n";
    let file = write(&env, "exit.csv", csv.as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(
        err.contains("line 2, column local_id: local id 'L9' has no enrolment in ALLIN (is the start row missing?)"),
        "{err}"
    );
    assert!(
        err.contains("line 4, column date: 2020-03-01 is before the start date 2021-01-01"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
}

#[test]
fn the_library_streams_any_reader_and_counts_unlisted_errors() {
    use sustrack::identity::KdfProfile;
    use sustrack::import::{import_from, Failure, Options, LISTED_ERRORS};
    let mut db = sustrack::store::Memory::open(KdfProfile::Test).unwrap();
    let actor = sustrack::actor::Actor::owner("t");
    sustrack::register::intervention_add(
        &db.conn,
        &actor,
        sustrack::model::Intervention {
            code: "T".into(),
            name: "t".into(),
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
    // 20,000 rows (more than one batch) from a reader that is never a slice.
    let rows = (0..20_000).map(|i| format!("start,T,L{i},K,2021-01-01\n"));
    let text: String = std::iter::once("event,intervention,local_id,gender,date\n".to_string())
        .chain(rows)
        .collect();
    let s = import_from(
        &mut db.conn,
        &db.kdf,
        &actor,
        std::io::Cursor::new(text.clone()),
        None,
        &opts,
    )
    .unwrap();
    assert_eq!((s.rows, s.starts), (20_000, 20_000));
    // Imported again with a bad date every 50 rows: every one is counted.
    let bad = text.replace("L49,K,2021-01-01", "L49,K,2021-01-99");
    let bad: String = bad
        .lines()
        .enumerate()
        .map(|(n, l)| if n > 0 && n % 50 == 0 { l.replace("2021-01-01", "2021-02-30") } else { l.to_string() } + "\n")
        .collect();
    let Err(Failure::Rows(errors)) =
        import_from(&mut db.conn, &db.kdf, &actor, bad.as_bytes(), None, &opts)
    else {
        panic!("bad dates were accepted");
    };
    assert_eq!(errors.len(), LISTED_ERRORS);
    assert_eq!(errors.total(), 400);
    assert_eq!(errors[0].line, 51);
    assert!(errors.windows(2).all(|w| w[0].line < w[1].line));
}

/// On a row with a personnummer, gender and birth year come from the
/// number: a cell that contradicts it is an error, never silently dropped.
#[test]
fn a_gender_or_birth_year_that_contradicts_the_personnummer_is_refused() {
    let env = env();
    // Serial 242: the second-to-last digit 4 is even, a woman born 1980.
    let woman = pnr("19800315", 242);
    let csv = format!(
        "event,intervention,pnr,consent,gender,birth_year,date\n\
         start,ALLIN,{woman},ja,M,,2021-01-04\n\
         start,ALLIN,{woman},ja,,1970,2021-01-04\n\
         start,ALLIN,{woman},ja,K,1980,2021-01-04\n"
    );
    let file = write(&env, "contradict.csv", csv.as_bytes());
    let before = env.dump();
    let err = env.fails(&["import", &file], 2);
    assert!(err.contains("line 2, column gender: contradicts"), "{err}");
    assert!(
        err.contains("line 3, column birth_year: contradicts"),
        "{err}"
    );
    assert!(!err.contains("line 4"), "{err}");
    assert_eq!(env.dump(), before);
}
