//! Participants' rights and the register's records (issue 17, SPEC
//! section 15) through the real binary: withdraw, extract, purge, publish
//! and `report --published`, each with its refusals.

mod common;

use common::{dump, pnr, Env};

/// Two interventions and three persons:
/// - Anna (woman, 1980): ALLIN 2021-02-01..2021-06-15 with every field,
///   corrected once and shown once; BALDER from 2021-09-01, open.
/// - Bertil (man, 1975): ALLIN 2021-03-01..2021-04-10, in Kiruna.
/// - Cecilia (woman, 1990): ALLIN 2020-05-01..2020-08-01.
struct Fixture {
    env: Env,
    anna: String,
    bertil: String,
    cecilia: String,
    anna_ids: Vec<String>,
    bertil_id: String,
}

fn start(env: &Env, iv: &str, p: &str, date: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "start",
        "--intervention",
        iv,
        "--pnr",
        p,
        "--consent",
        "--date",
        date,
    ];
    args.extend_from_slice(extra);
    env.ok(&args).trim().to_string()
}

fn fixture() -> Fixture {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    env.ok(&["intervention", "add", "BALDER", "--name", "Balder"]);
    let (anna, bertil, cecilia) = (
        pnr("19800315", 242),
        pnr("19750101", 113),
        pnr("19900520", 222),
    );
    let a1 = start(
        &env,
        "ALLIN",
        &anna,
        "2021-02-01",
        &[
            "--municipality",
            "Vänersborg",
            "--support",
            "sickness_benefit",
            "--years-in-support",
            "1-3",
            "--education",
            "upper_secondary",
            "--referrer",
            "fk",
        ],
    );
    env.ok(&[
        "exit",
        "--id",
        &a1,
        "--date",
        "2021-06-15",
        "--outcome",
        "work",
        "--support-after",
        "none",
        "--step-progress",
        "yes",
        "--quality-of-life",
        "improved",
    ]);
    env.ok(&["edit", &a1, "--referrer", "af"]);
    env.ok(&["show", "--id", &a1]);
    let a2 = start(&env, "BALDER", &anna, "2021-09-01", &[]);
    let b1 = start(
        &env,
        "ALLIN",
        &bertil,
        "2021-03-01",
        &["--municipality", "Kiruna", "--education", "post_secondary"],
    );
    env.ok(&[
        "exit",
        "--id",
        &b1,
        "--date",
        "2021-04-10",
        "--outcome",
        "studies",
    ]);
    env.ok(&["show", "--id", &b1]);
    let c1 = start(&env, "ALLIN", &cecilia, "2020-05-01", &[]);
    env.ok(&[
        "exit",
        "--id",
        &c1,
        "--date",
        "2020-08-01",
        "--outcome",
        "dropout",
    ]);
    Fixture {
        env,
        anna,
        bertil,
        cecilia,
        anna_ids: vec![a1, a2],
        bertil_id: b1,
    }
}

/// Every report the tests compare: both years, several shapes, as JSON.
fn reports(env: &Env) -> Vec<String> {
    let mut out = Vec::new();
    for year in ["2020", "2021"] {
        for extra in [
            &[][..],
            &["--intervention", "ALLIN"][..],
            &["--lang", "en"][..],
            &["--age-bands", "15-39,40-64"][..],
        ] {
            let mut args = vec!["report", "--year", year, "--format", "json"];
            args.extend_from_slice(extra);
            out.push(env.ok(&args));
        }
    }
    out
}

fn fingerprints(db: &std::path::Path) -> Vec<Vec<u8>> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT fingerprint FROM person ORDER BY id")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.map(|r| r.unwrap()).collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The raw bytes of the database and, if present, its log.
fn file_bytes(env: &Env) -> Vec<u8> {
    let mut bytes = std::fs::read(&env.db).unwrap();
    let wal = env.db.with_extension("db-wal");
    if let Ok(w) = std::fs::read(wal) {
        bytes.extend(w);
    }
    bytes
}

#[test]
fn withdrawn_consent_keeps_every_count_and_forgets_the_person() {
    let f = fixture();
    let env = &f.env;
    let before = reports(env);
    let prints_before = fingerprints(&env.db);
    assert_eq!(prints_before.len(), 3);
    // Anna is the first person registered.
    let annas = prints_before[0].clone();
    assert!(contains(&file_bytes(env), &annas));

    let out = env.ok(&["withdraw", "--pnr", &f.anna]);
    assert!(out.contains("2 enrolment(s)"), "{out}");

    // Every report gives the same figures as before.
    assert_eq!(reports(env), before);
    // The fingerprint is gone from the file, byte for byte; the others stay.
    let bytes = file_bytes(env);
    assert!(
        !contains(&bytes, &annas),
        "Anna's fingerprint is still in the file"
    );
    assert!(contains(&bytes, &prints_before[1]));
    // Nor does any of her old enrolment ids lead anywhere.
    for id in &f.anna_ids {
        env.fails(&["show", "--id", id], 2);
    }
    // The person cannot be found, followed or withdrawn again.
    for args in [
        &["show", "--pnr", &f.anna][..],
        &["extract", "--pnr", &f.anna][..],
        &["withdraw", "--pnr", &f.anna][..],
        &["erase", "--pnr", &f.anna][..],
        &[
            "exit",
            "--intervention",
            "BALDER",
            "--pnr",
            &f.anna,
            "--date",
            "2021-10-01",
            "--outcome",
            "work",
        ][..],
    ] {
        let err = env.fails(args, 2);
        assert!(err.contains("no person"), "{err}");
    }
    // The withdrawal is in the audit trail, without a person in it.
    let log = env.ok(&["log", "--limit", "30"]);
    assert!(log.contains("withdraw"), "{log}");
    // A new consent registers a new person, not the old one.
    start(env, "ALLIN", &f.anna, "2022-01-10", &[]);
    assert_eq!(fingerprints(&env.db).len(), 4);
}

#[test]
fn withdraw_of_an_unknown_person_is_refused_and_writes_nothing() {
    let f = fixture();
    let env = &f.env;
    let before = env.dump();
    let err = env.fails(&["withdraw", "--pnr", &pnr("19600101", 125)], 2);
    assert!(
        err.contains("no person") && err.contains("nothing was changed"),
        "{err}"
    );
    let err = env.fails(&["withdraw", "--pnr", "19600101-1234"], 2);
    assert!(err.contains("--pnr") && !err.contains("19600101"), "{err}");
    assert_eq!(env.dump(), before);
}

#[test]
fn the_extract_holds_every_field_and_every_audit_entry_about_the_person_and_nothing_else() {
    let f = fixture();
    let env = &f.env;
    let text = env.ok(&["extract", "--pnr", &f.anna]);
    // Every field of both enrolments, in Swedish.
    for want in [
        "Kön: Kvinna",
        "Födelseår: 1980",
        "Deltagande 1 av 2",
        "Deltagande 2 av 2",
        "Insats: ALLIN",
        "Insats: BALDER",
        "Startdatum: 2021-02-01",
        "Avslutsdatum: 2021-06-15",
        "Startdatum: 2021-09-01",
        "Kommun: Vänersborg",
        "Försörjning vid start: Sjukpenning",
        "Tid i offentlig försörjning: 1–3 år",
        "Remitterande aktör: Arbetsförmedlingen",
        "Försörjning efter avslut: Ingen offentlig försörjning",
        "Utbildning: Gymnasial",
        "Avslut till: Arbete",
        "Stegförflyttning: Ja",
        "Livskvalitet: Förbättrad",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    for id in &f.anna_ids {
        assert!(text.contains(id), "{id} missing");
    }
    // Every audit entry that names her enrolments, and only those: the
    // trail as the database has it, checked against the extract's table.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT at, actor, action, subject FROM audit WHERE subject IS NOT NULL ORDER BY id",
        )
        .unwrap();
    let entries: Vec<(String, String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let about_anna = |s: &str| {
        f.anna_ids
            .iter()
            .any(|id| s.split(' ').any(|w| w == id || w == &id[..8]))
    };
    let trail = text
        .split("Vem som har registrerat")
        .nth(1)
        .expect("the trail section");
    let listed = trail
        .lines()
        .filter(|l| l.starts_with("20"))
        .collect::<Vec<_>>();
    let expected: Vec<_> = entries.iter().filter(|e| about_anna(&e.3)).collect();
    // start, exit, edit, show of the first; start of the second; the extract.
    assert_eq!(expected.len(), 6, "{expected:?}");
    assert_eq!(listed.len(), expected.len(), "{trail}");
    for (line, e) in listed.iter().zip(&expected) {
        assert!(
            line.contains(&e.0) && line.contains(&e.1) && line.contains(&e.3),
            "{line} / {e:?}"
        );
    }
    for action in [
        "registrerade start",
        "registrerade avslut",
        "rättade uppgifter",
        "visade uppgifterna",
        "tog registerutdrag",
    ] {
        assert!(trail.contains(action), "{action} missing in {trail}");
    }
    // Nothing about anyone else: not Bertil's id, municipality or
    // education, not Cecilia's dates; no personnummer at all.
    for other in [
        &f.bertil_id[..8],
        "Kiruna",
        "Eftergymnasial",
        "2021-03-01",
        "2020-05-01",
        "2020-08-01",
    ] {
        assert!(!text.contains(other), "{other} leaked into\n{text}");
    }
    for p in [&f.anna, &f.bertil, &f.cecilia] {
        assert!(
            !text.contains(&p[..8]) && !text.contains(&p[2..]),
            "a personnummer in the extract"
        );
    }
    // The HTML extract has the same content, printable.
    let html = env.ok(&["extract", "--pnr", &f.anna, "--format", "html"]);
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("lang=\"sv\""));
    assert!(html.contains("Vänersborg") && !html.contains("Kiruna"));
    // Each extract is recorded, naming her enrolments, never a person.
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'extract'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);
    // Written to a file, the same as on standard output (but for the new
    // entry of its own).
    let file = env.path("utdrag.txt");
    env.ok(&[
        "extract",
        "--pnr",
        &f.bertil,
        "--out",
        file.to_str().unwrap(),
    ]);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("Kiruna") && !saved.contains("Vänersborg"));
}

#[test]
fn extract_refuses_an_unknown_person_a_bad_format_and_an_existing_file() {
    let f = fixture();
    let env = &f.env;
    let before = env.dump();
    let err = env.fails(&["extract", "--pnr", &pnr("19600101", 125)], 2);
    assert!(err.contains("no person"), "{err}");
    let err = env.fails(&["extract", "--pnr", &f.anna, "--format", "pdf"], 2);
    assert!(
        err.contains("--format") && err.contains("text, html"),
        "{err}"
    );
    let file = env.path("finns.txt");
    std::fs::write(&file, "keep me").unwrap();
    env.fails(
        &["extract", "--pnr", &f.anna, "--out", file.to_str().unwrap()],
        2,
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    assert_eq!(env.dump(), before);
}

fn count(env: &Env, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn publish_then_a_correction_is_counted_and_the_published_figures_stay() {
    let f = fixture();
    let env = &f.env;
    let published_json = env.ok(&["report", "--year", "2021", "--format", "json"]);
    let published_text = env.ok(&["report", "--year", "2021"]);
    let out = env.ok(&["publish", "--year", "2021"]);
    assert!(out.contains("published 2021-01-01..2021-12-31"), "{out}");
    // As published, the report says so and nothing differs.
    let res = env.run(&["report", "--year", "2021"]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("as published"), "{err}");
    // A late exit for Anna's open enrolment in BALDER on 2021-12-20 to
    // work. By hand, the 2021 figures that change: participation BALDER
    // and total exited (2) and active at end (2); intervention outcome
    // table: work for BALDER's woman... counted below from the JSON.
    env.ok(&[
        "exit",
        "--id",
        &f.anna_ids[1],
        "--date",
        "2021-12-20",
        "--outcome",
        "work",
    ]);
    let now_json = env.ok(&["report", "--year", "2021", "--format", "json"]);
    let expected = changed_figures(&published_json, &now_json);
    assert!(expected > 0);
    let res = env.run(&["report", "--year", "2021"]);
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains(&format!("{expected} figure(s) differ")),
        "expected {expected}: {err}"
    );
    // `check` lists them and still passes.
    let check = env.ok(&["check"]);
    assert!(
        check.contains(&format!("{expected} figure(s) differ")),
        "{check}"
    );
    assert!(
        check.contains("\n  participation/BALDER/exited\n"),
        "{check}"
    );
    // By name only: the values are a report's, shown by recorded reads.
    assert!(!check.contains("->"), "{check}");
    // `report --published` prints the old figures, in every format.
    assert_eq!(
        env.ok(&["report", "--year", "2021", "--published"]),
        published_text
    );
    let old: serde_json::Value = serde_json::from_str(&env.ok(&[
        "report",
        "--year",
        "2021",
        "--published",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        old,
        serde_json::from_str::<serde_json::Value>(&published_json).unwrap()
    );
    // Publishing again is refused, saying when and by whom; --force keeps
    // the earlier version.
    let before = env.dump();
    let err = env.fails(&["publish", "--year", "2021"], 2);
    assert!(
        err.contains("was published") && err.contains("by cli:tester") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(env.dump(), before);
    env.ok(&["publish", "--year", "2021", "--force"]);
    assert_eq!(count(env, "SELECT count(*) FROM published"), 2);
    let res = env.run(&["report", "--year", "2021"]);
    assert!(String::from_utf8_lossy(&res.stderr).contains("as published"));
    assert_eq!(
        env.ok(&[
            "report",
            "--year",
            "2021",
            "--published",
            "--format",
            "json"
        ]),
        now_json
    );
}

/// How many figures (cells, indicator counts, times) differ between two
/// JSON reports of one period, with a figure only one has counted as zero.
fn changed_figures(a: &str, b: &str) -> usize {
    use std::collections::BTreeMap;
    fn flat(s: &str) -> BTreeMap<String, serde_json::Value> {
        let v: serde_json::Value = serde_json::from_str(s).unwrap();
        let mut out = BTreeMap::new();
        for t in v["tables"].as_array().unwrap() {
            let keys = t["column_keys"].as_array().unwrap();
            for r in t["rows"].as_array().unwrap() {
                let sub = if r.get("subtotal").is_some() { "+" } else { "" };
                for (k, x) in keys.iter().zip(r["values"].as_array().unwrap()) {
                    out.insert(format!("{}/{}{sub}/{}", t["id"], r["key"], k), x.clone());
                }
            }
            for (k, x) in keys.iter().zip(t["total"].as_array().unwrap()) {
                out.insert(format!("{}/total/{}", t["id"], k), x.clone());
            }
        }
        for i in v["indicators"].as_array().unwrap() {
            let key = format!(
                "{}/{}/{}/{}",
                i["id"], i["intervention"], i["gender"], i["subtotal"]
            );
            out.insert(format!("{key}/n"), i["numerator"].clone());
            out.insert(format!("{key}/d"), i["denominator"].clone());
        }
        for d in v["durations"].as_array().unwrap() {
            let key = format!("{}/{}", d["intervention"], d["subtotal"]);
            for f in ["exited", "mean_days", "median_days"] {
                out.insert(format!("{key}/{f}"), d[f].clone());
            }
        }
        out
    }
    let (x, y) = (flat(a), flat(b));
    let zero = serde_json::json!(0);
    let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.iter()
        .filter(|k| {
            let (p, q) = (x.get(**k), y.get(**k));
            let norm = |v: Option<&serde_json::Value>| match v {
                None if k.ends_with("_days") => serde_json::Value::Null,
                None => zero.clone(),
                Some(v) => v.clone(),
            };
            norm(p) != norm(q)
        })
        .count()
}

#[test]
fn report_published_refuses_what_the_publication_does_not_hold() {
    let f = fixture();
    let env = &f.env;
    let err = env.fails(&["report", "--year", "2021", "--published"], 2);
    assert!(err.contains("has not been published"), "{err}");
    env.ok(&["publish", "--year", "2021"]);
    for (extra, what) in [
        (&["--intervention", "ALLIN"][..], "--intervention"),
        (&["--compare", "2020"][..], "--compare"),
        (&["--months-band", "3"][..], "--months-band"),
    ] {
        let mut args = vec!["report", "--year", "2021", "--published"];
        args.extend_from_slice(extra);
        let err = env.fails(&args, 2);
        assert!(err.contains("--published") && err.contains(what), "{err}");
    }
    // Suppression applies to the published figures as to any report.
    let hidden = env.ok(&[
        "report",
        "--year",
        "2021",
        "--published",
        "--suppress-below",
        "3",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&hidden).unwrap();
    assert_eq!(v["suppress_below"], 3);
    assert!(hidden.contains("null"), "{hidden}");
}

#[test]
fn purge_dry_run_equals_the_real_run_and_published_reports_stay() {
    let f = fixture();
    let env = &f.env;
    env.ok(&["publish", "--year", "2020"]);
    env.ok(&["publish", "--year", "2021"]);
    let published_2020 = env.ok(&[
        "report",
        "--year",
        "2020",
        "--published",
        "--format",
        "json",
    ]);
    let published_2021 = env.ok(&[
        "report",
        "--year",
        "2021",
        "--published",
        "--format",
        "json",
    ]);
    // Ended before 2021-05-01: Cecilia's (2020-08-01, her only one, so she
    // goes too) and Bertil's (2021-04-10, his only one). Anna's first
    // ended 2021-06-15 and stays; her open one is never touched.
    let prints = fingerprints(&env.db);
    let before = env.dump();
    let dry = env.ok(&["purge", "--ended-before", "2021-05-01", "--dry-run"]);
    let without_audit = |d: &str| {
        d.lines()
            .filter(|l| !l.starts_with("audit:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_audit(&env.dump()), without_audit(&before));
    assert!(
        dry.contains("would delete 2 enrolment(s)") && dry.contains("2 person(s)"),
        "{dry}"
    );
    let real = env.ok(&["purge", "--ended-before", "2021-05-01"]);
    assert!(
        real.contains("deleted 2 enrolment(s)") && real.contains("2 person(s)"),
        "{real}"
    );
    // The same table and counts, word for word but for the verb.
    let table = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("ALLIN"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(table(&dry), table(&real));
    assert_eq!(table(&real), vec!["ALLIN                  2".to_string()]);
    assert_eq!(count(env, "SELECT count(*) FROM enrolment"), 2);
    assert_eq!(count(env, "SELECT count(*) FROM person"), 1);
    // Their fingerprints are gone from the file, byte for byte (deleted
    // rows are overwritten, not left in free pages).
    let bytes = file_bytes(env);
    assert!(contains(&bytes, &prints[0]));
    assert!(!contains(&bytes, &prints[1]) && !contains(&bytes, &prints[2]));
    // Cecilia and Bertil are gone; Anna is still there.
    env.fails(&["show", "--pnr", &f.cecilia], 2);
    env.fails(&["show", "--pnr", &f.bertil], 2);
    assert!(env.ok(&["show", "--pnr", &f.anna]).contains("BALDER"));
    // Published reports are unchanged; the 2020 report now differs.
    assert_eq!(
        env.ok(&[
            "report",
            "--year",
            "2020",
            "--published",
            "--format",
            "json"
        ]),
        published_2020
    );
    assert_eq!(
        env.ok(&[
            "report",
            "--year",
            "2021",
            "--published",
            "--format",
            "json"
        ]),
        published_2021
    );
    let res = env.run(&["report", "--year", "2020"]);
    assert!(String::from_utf8_lossy(&res.stderr).contains("differ"));
    // And the register passes its check.
    let check = env.ok(&["check"]);
    assert!(check.contains("ok: integrity"), "{check}");
}

#[test]
fn purge_refuses_a_future_date_and_bad_values_and_writes_nothing() {
    let f = fixture();
    let env = &f.env;
    let before = env.dump();
    for (args, want) in [
        (
            &["purge", "--ended-before", "2999-01-01"][..],
            "--ended-before 2999-01-01 is in the future",
        ),
        (
            &["purge", "--ended-before", "2021-02-30"][..],
            "--ended-before",
        ),
        (
            &[
                "purge",
                "--ended-before",
                "2021-01-01",
                "--audit-months",
                "0",
            ][..],
            "--audit-months",
        ),
    ] {
        let err = env.fails(args, 2);
        assert!(err.contains(want), "{want}: {err}");
    }
    assert_eq!(env.dump(), before);
    // A purge that finds nothing deletes nothing and says so.
    let out = env.ok(&["purge", "--ended-before", "2019-01-01"]);
    assert!(out.contains("deleted 0 enrolment(s)"), "{out}");
    assert_eq!(count(env, "SELECT count(*) FROM enrolment"), 4);
}

#[test]
fn purge_reduces_old_audit_entries_to_counts_and_the_trail_stays_append_only() {
    let f = fixture();
    let env = &f.env;
    {
        let conn = rusqlite::Connection::open(&env.db).unwrap();
        for (at, actor, action) in [
            ("2019-03-02T10:00:00Z", "eva", "show"),
            ("2019-03-20T10:00:00Z", "eva", "show"),
            ("2019-03-21T10:00:00Z", "olle", "start"),
            ("2019-04-01T10:00:00Z", "eva", "show"),
        ] {
            conn.execute(
                "INSERT INTO audit (at, actor, action, subject) VALUES (?1, ?2, ?3, 'abcdef12')",
                [at, actor, action],
            )
            .unwrap();
        }
        // Outside a purge, the trail refuses deletes and updates.
        assert!(conn
            .execute("DELETE FROM audit WHERE actor = 'eva'", [])
            .is_err());
        assert!(conn.execute("UPDATE audit SET actor = 'x'", []).is_err());
    }
    let dry = env.ok(&[
        "purge",
        "--ended-before",
        "2019-01-01",
        "--audit-months",
        "24",
        "--dry-run",
    ]);
    assert!(dry.contains("reduce 4 audit entries"), "{dry}");
    let total = count(env, "SELECT count(*) FROM audit");
    let out = env.ok(&[
        "purge",
        "--ended-before",
        "2019-01-01",
        "--audit-months",
        "24",
    ]);
    assert!(out.contains("reduced 4 audit entries"), "{out}");
    assert_eq!(count(env, "SELECT count(*) FROM audit"), total - 4 + 1);
    assert_eq!(
        count(env, "SELECT count(*) FROM audit WHERE at < '2020'"),
        0
    );
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let counts: Vec<(String, String, String, i64)> = conn
        .prepare("SELECT month, actor, action, count FROM audit_count ORDER BY 1, 2, 3")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let c = |m: &str, a: &str, x: &str, n| (m.to_string(), a.to_string(), x.to_string(), n);
    assert_eq!(
        counts,
        vec![
            c("2019-03", "eva", "show", 2),
            c("2019-03", "olle", "start", 1),
            c("2019-04", "eva", "show", 1)
        ]
    );
    // The permission to delete ended with the purge.
    assert!(conn.execute("DELETE FROM audit", []).is_err());
    assert_eq!(count(env, "SELECT count(*) FROM audit_reduction"), 0);
    drop(conn);
    let _ = dump(&env.db);
}

/// The numbers of a purge's summary line: enrolments, the cut's date
/// parts, persons, audit entries, months.
fn purge_counts(out: &str) -> Vec<u64> {
    let line = out.lines().last().unwrap();
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect()
}

#[test]
fn on_a_generated_register_each_dry_run_equals_its_real_run() {
    let env = Env::empty();
    let out = env.run(&[
        "generate",
        "--enrolments",
        "3000",
        "--seed",
        "7",
        "--kdf",
        "test",
    ]);
    assert!(
        out.status.success(),
        "{}",
        common::describe(&["generate"], &out)
    );
    for cut in ["2016-07-01", "2019-01-01", "2021-06-15"] {
        let dry = env.ok(&["purge", "--ended-before", cut, "--dry-run"]);
        let enrolments = count(&env, "SELECT count(*) FROM enrolment");
        let persons = count(&env, "SELECT count(*) FROM person");
        let real = env.ok(&["purge", "--ended-before", cut]);
        let table = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("enrolment(s)"))
                .map(String::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(table(&dry), table(&real), "{cut}");
        let (d, r) = (purge_counts(&dry), purge_counts(&real));
        assert_eq!(d, r, "{cut}: {dry} / {real}");
        // And the counts are what left the file.
        assert!(r[0] > 0, "{cut} purged nothing: {real}");
        assert_eq!(
            count(&env, "SELECT count(*) FROM enrolment"),
            enrolments - r[0] as i64,
            "{cut}"
        );
        assert_eq!(
            count(&env, "SELECT count(*) FROM person"),
            persons - r[4] as i64,
            "{cut}"
        );
    }
    env.ok(&["check"]);
}
