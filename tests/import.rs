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
        serde_json::json!([4, 4, 3, 4])
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
        "line 9, column date: exit date 2020-12-01 is before the start date",
        "line 10, column pnr: invalid personnummer: the check digit",
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
