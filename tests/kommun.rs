//! Municipalities as a code list, through the real binary: every spelling
//! of one kommun is one row, unknown names are refused with suggestions,
//! and the official name is what people read (issue 12, item 7).

mod common;

use common::{json_table, Env};

fn env() -> Env {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Alla in"]);
    env
}

fn start(env: &Env, municipality: &str) -> String {
    env.ok(&[
        "start",
        "--intervention",
        "ALLIN",
        "--date",
        "2021-03-01",
        "--anonymous",
        "--gender",
        "woman",
        "--municipality",
        municipality,
    ])
    .trim()
    .to_string()
}

fn municipality_rows(env: &Env) -> Vec<(String, String, serde_json::Value)> {
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["report", "--year", "2021", "--format", "json"])).unwrap();
    json_table(&v, "municipality")["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["label"].as_str().unwrap().to_string(),
                r["values"].clone(),
            )
        })
        .collect()
}

#[test]
fn every_spelling_of_vanersborg_is_one_row_with_the_official_name() {
    let env = env();
    start(&env, "vanersborg");
    start(&env, "Vänersborg");
    start(&env, "Va\u{0308}nersborg"); // decomposed, as macOS writes it
    start(&env, " VÄNERSBORGS  KOMMUN ");
    start(&env, "1487");
    assert_eq!(
        municipality_rows(&env),
        vec![(
            "1487".to_string(),
            "Vänersborg".to_string(),
            serde_json::json!([5, 0, 5])
        )]
    );
    let text = env.ok(&["report", "--year", "2021"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("Vänersborg") && l.ends_with(" 5")),
        "{text}"
    );
    assert!(
        !text.contains("vanersborg") && !text.contains("1487"),
        "{text}"
    );
}

#[test]
fn an_unknown_name_is_refused_with_the_nearest_and_nothing_is_written() {
    let env = env();
    let before = env.dump();
    let args = [
        "start",
        "--intervention",
        "ALLIN",
        "--date",
        "2021-03-01",
        "--anonymous",
        "--gender",
        "man",
        "--municipality",
    ];
    let err = env.fails(&[&args[..], &["Vänersbrg"]].concat(), 2);
    assert_eq!(
        err.trim_end().lines().last().unwrap(),
        "error: --municipality 'Vänersbrg' is not a kommun: did you mean Vänersborg (1487)? \
         Give a kommun's name or its four-digit kommunkod, e.g. Vänersborg or 1487"
    );
    let err = env.fails(&[&args[..], &["Häbo"]].concat(), 2);
    assert!(err.contains("could be Håbo (0305) or Habo (0643)"), "{err}");
    let err = env.fails(&[&args[..], &["9999"]].concat(), 2);
    assert!(err.contains("9999 is no kommun's kommunkod"), "{err}");
    let err = env.fails(&[&args[..], &["123"]].concat(), 2);
    assert!(err.contains("for Järfälla write 0123"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn import_and_edit_take_names_and_codes_through_the_same_parser() {
    let env = env();
    let file = env.path("reg.csv");
    std::fs::write(
        &file,
        "event,intervention,local_id,gender,date,Kommunkod\n\
         start,ALLIN,A1,K,2021-02-01,vanersborg\n\
         start,ALLIN,A2,M,2021-02-01,Va\u{0308}nersborg\n\
         start,ALLIN,A3,K,2021-02-01,0114\n\
         start,ALLIN,A4,M,2021-02-01,Upplands-Väsby\n",
    )
    .unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    assert_eq!(
        municipality_rows(&env),
        vec![
            (
                "0114".into(),
                "Upplands Väsby".into(),
                serde_json::json!([1, 1, 2])
            ),
            (
                "1487".into(),
                "Vänersborg".into(),
                serde_json::json!([1, 1, 2])
            ),
        ]
    );

    // An unknown name is an error on its line, and the file is refused whole.
    let bad = env.path("bad.csv");
    std::fs::write(
        &bad,
        "event,intervention,local_id,gender,date,kommun\n\
         start,ALLIN,B1,K,2021-02-01,Trollhättan\n\
         start,ALLIN,B2,K,2021-02-01,Trolhättan\n",
    )
    .unwrap();
    let before = env.dump();
    let err = env.fails(&["import", bad.to_str().unwrap()], 2);
    assert!(err.contains("Trollhättan (1488)"), "{err}");
    assert_eq!(env.dump(), before);

    let id = start(&env, "Mellerud");
    env.ok(&["edit", &id, "--municipality", "1492"]);
    let shown = env.ok(&["show", "--id", &id]);
    assert!(shown.contains("Åmål") && !shown.contains("1492"), "{shown}");
}

#[test]
fn export_writes_the_kommunkod() {
    let env = env();
    for i in 0..6 {
        env.ok(&[
            "start",
            "--intervention",
            "ALLIN",
            "--date",
            "2021-03-01",
            "--anonymous",
            "--gender",
            "woman",
            "--birth-year",
            "1990",
            "--municipality",
            if i % 2 == 0 {
                "Vänersborg"
            } else {
                "vanersborg"
            },
        ]);
    }
    let out = env.ok(&["export", "--year", "2021", "--k", "5"]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "municipality").unwrap();
    let values: Vec<&str> = lines.map(|l| l.split(',').nth(col).unwrap()).collect();
    assert_eq!(values, vec!["1487"; 6], "{out}");
}

#[test]
fn a_generated_register_uses_real_kommuner_only() {
    let env = Env::empty();
    env.ok(&["generate", "--enrolments", "2000"]);
    // check lists any stored municipality that is no kommunkod.
    let out = env.ok(&["check"]);
    assert!(out.starts_with("ok:"), "{out}");
    let rows = municipality_rows(&env);
    assert!(rows.len() > 20, "{rows:?}");
    for (key, label, _) in rows.iter().filter(|r| r.0 != "unknown") {
        let k = sustrack::kommun::Kommun::from_code(key).unwrap_or_else(|| panic!("{key}"));
        assert_eq!(k.name(), label);
    }
}
