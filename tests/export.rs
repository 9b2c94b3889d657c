//! The evaluator export (SPEC section 8) and keygen.

mod common;

use std::collections::HashMap;

use common::{pnr, Env};
use proptest::prelude::*;

fn populated() -> (Env, Vec<String>) {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    let mut csv = String::from("event,intervention,pnr,consent,date,municipality,outcome\n");
    let mut pnrs = Vec::new();
    for i in 0..24u32 {
        let p = pnr(
            &format!("198{}0{}1{}", i % 3, 1 + i % 9, i % 10),
            200 + i * 3,
        );
        let place = if i < 20 { "Vänersborg" } else { "Åmål" };
        csv.push_str(&format!(
            "start,ALLIN,{p},ja,2021-0{}-1{},{place},\n",
            1 + i % 6,
            i % 10
        ));
        if i % 2 == 0 {
            csv.push_str(&format!("exit,ALLIN,{p},,2021-11-2{},,work\n", i % 10));
        }
        pnrs.push(p);
    }
    let file = env.path("reg.csv");
    std::fs::write(&file, csv).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    (env, pnrs)
}

fn export(env: &Env, extra: &[&str]) -> (Vec<HashMap<String, String>>, String, String) {
    let mut args = vec!["export", "--year", "2021"];
    args.extend_from_slice(extra);
    let out = env.run(&args);
    assert!(out.status.success(), "{}", common::describe(&args, &out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    let rows = r
        .records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    (rows, text, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn no_identity_or_exact_date_in_the_export() {
    let (env, pnrs) = populated();
    let (rows, text, stderr) = export(&env, &["--k", "1"]);
    assert_eq!(rows.len(), 24);
    assert_eq!(
        text.lines().next().unwrap(),
        sustrack::export::HEADER.join(",")
    );
    for p in &pnrs {
        let digits = p.replace('-', "");
        for needle in [p.as_str(), &digits, &digits[2..], &p[..8], &p[2..8]] {
            assert!(!text.contains(needle), "the export contains {needle}");
        }
    }
    assert!(
        !text.contains("2021-11-2") && !text.contains("2021-01-1"),
        "an exact date leaked"
    );
    assert!(!text.contains("198"), "a birth year leaked");
    for r in &rows {
        assert_eq!(r["start_month"].len(), 7);
        assert!(
            r["age_band"] == "30-44" || r["age_band"] == "other",
            "{r:?}"
        );
        assert_eq!(r["pseudonym"].len(), 16);
    }
    // No fingerprint either: compare with the stored ones.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let mut stmt = conn.prepare("SELECT fingerprint FROM person").unwrap();
    let fps: Vec<Vec<u8>> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(fps.len(), 24);
    for fp in fps {
        let hex: String = fp.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!text.to_lowercase().contains(&hex[..16]));
    }
    assert!(stderr.contains("exported 24 rows"), "{stderr}");
    assert!(env.ok(&["log"]).contains("export"));
}

#[test]
fn pseudonyms_are_stable_with_a_key_and_unlinkable_without() {
    let (env, _) = populated();
    let key = env.path("k.key");
    env.ok(&["keygen", key.to_str().unwrap()]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let err = env.fails(&["keygen", key.to_str().unwrap()], 2);
    assert!(err.contains("never overwrites"), "{err}");

    let pseudonyms = |extra: &[&str]| {
        let (rows, _, _) = export(&env, extra);
        let mut p: Vec<String> = rows.iter().map(|r| r["pseudonym"].clone()).collect();
        p.sort();
        p
    };
    let k = key.to_str().unwrap();
    let a = pseudonyms(&["--k", "1", "--key-file", k]);
    let b = pseudonyms(&["--k", "1", "--key-file", k]);
    assert_eq!(a, b);
    let c = pseudonyms(&["--k", "1"]);
    let d = pseudonyms(&["--k", "1"]);
    assert!(a.iter().all(|x| !c.contains(x)));
    assert!(c.iter().all(|x| !d.contains(x)));
    std::fs::write(env.path("bad.key"), "nope").unwrap();
    let err = env.fails(
        &[
            "export",
            "--year",
            "2021",
            "--key-file",
            env.path("bad.key").to_str().unwrap(),
        ],
        2,
    );
    assert!(err.contains("not a sustrack key file"), "{err}");
}

#[test]
fn small_groups_are_generalised_then_left_out() {
    let (env, _) = populated();
    // Ages: birth years 1980-1982, starts 2021: ages 39-41, band 30-44. Genders vary.
    let (rows, _, stderr) = export(&env, &["--k", "5"]);
    let mut groups: HashMap<(String, String, String, String), usize> = HashMap::new();
    for r in &rows {
        *groups
            .entry((
                r["intervention"].clone(),
                r["gender"].clone(),
                r["age_band"].clone(),
                r["municipality"].clone(),
            ))
            .or_default() += 1;
    }
    assert!(groups.values().all(|&n| n >= 5), "{groups:?}");
    // The municipality column holds the kommunkod: Vänersborg is 1487.
    assert!(rows.iter().any(|r| r["municipality"] == "1487"), "{rows:?}");
    // The four Åmål (1492) rows are too few alone: generalised (or left out), never shown.
    assert!(rows.iter().all(|r| r["municipality"] != "1492"));
    assert!(
        stderr.contains("generalised") && stderr.contains("left out"),
        "{stderr}"
    );
}

/// The quasi-identifiers as an export row shows them: the group a row is in.
const QUASI: [&str; 7] = [
    "intervention",
    "gender",
    "age_band",
    "municipality",
    "start_month",
    "exit_month",
    "months_in_intervention",
];

fn group_of(r: &HashMap<String, String>) -> Vec<String> {
    QUASI.iter().map(|c| r[*c].clone()).collect()
}

/// Persons per group: registered persons share a pseudonym; each anonymous
/// row has its own, so counting pseudonyms counts anonymous rows as persons
/// (which they are in these registers: every local_id differs).
fn persons_per_group(rows: &[HashMap<String, String>]) -> HashMap<Vec<String>, usize> {
    let mut groups: HashMap<Vec<String>, std::collections::HashSet<String>> = HashMap::new();
    for r in rows {
        groups
            .entry(group_of(r))
            .or_default()
            .insert(r["pseudonym"].clone());
    }
    groups.into_iter().map(|(g, p)| (g, p.len())).collect()
}

fn left_out(stderr: &str) -> usize {
    stderr
        .split(", ")
        .find_map(|s| s.strip_suffix(" rows left out\n"))
        .unwrap_or_else(|| panic!("no count left out in {stderr}"))
        .trim()
        .parse()
        .unwrap()
}

fn import(env: &Env, csv: &str) {
    let file = env.path("import.csv");
    std::fs::write(&file, csv).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
}

#[test]
fn k_counts_persons_not_rows() {
    // One man with three enrolments in a year and two other men, all alike
    // but for the months: five rows, three persons.
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    let mut csv = String::from("event,intervention,pnr,consent,date,municipality,outcome\n");
    let one = pnr("19800101", 11);
    for (s, e) in [("02", "03"), ("05", "06"), ("08", "09")] {
        csv.push_str(&format!("start,ALLIN,{one},ja,2021-{s}-01,Ale,\n"));
        csv.push_str(&format!("exit,ALLIN,{one},,2021-{e}-15,,work\n"));
    }
    for serial in [21, 31] {
        let p = pnr("19800202", serial);
        csv.push_str(&format!("start,ALLIN,{p},ja,2021-04-01,Ale,\n"));
        csv.push_str(&format!("exit,ALLIN,{p},,2021-05-15,,work\n"));
    }
    import(&env, &csv);
    let (rows, _, stderr) = export(&env, &["--k", "5"]);
    assert!(rows.is_empty(), "three persons passed k = 5: {rows:?}");
    assert_eq!(left_out(&stderr), 5, "{stderr}");
    // Three persons make a group of three: the May enrolment and the two
    // others, all in the second quarter. The other two of the one man's
    // enrolments are one person, left out.
    let (rows, _, stderr) = export(&env, &["--k", "3"]);
    assert_eq!(rows.len(), 3, "{stderr}");
    for r in &rows {
        assert_eq!(
            (
                r["start_month"].as_str(),
                r["exit_month"].as_str(),
                r["months_in_intervention"].as_str()
            ),
            ("2021-Q2", "2021-Q2", "1-3"),
            "{r:?}"
        );
    }
    assert_eq!(left_out(&stderr), 2);
    assert!(
        stderr.contains("start and exit coarser than a month in 3 rows"),
        "{stderr}"
    );
}

#[test]
fn start_and_exit_month_are_shown_only_for_groups_of_k() {
    // Five persons who started and ended in the same months: shown to the
    // month. A sixth, alone in their months, is shown to the quarter only
    // with others of that quarter, else coarser.
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    let mut csv = String::from("event,intervention,pnr,consent,date,municipality,outcome\n");
    for serial in [11, 21, 31, 41, 51] {
        let p = pnr("19800101", serial);
        csv.push_str(&format!("start,ALLIN,{p},ja,2021-02-03,Ale,\n"));
        csv.push_str(&format!("exit,ALLIN,{p},,2021-08-20,,work\n"));
    }
    let lone = pnr("19800101", 61);
    csv.push_str(&format!("start,ALLIN,{lone},ja,2021-03-03,Ale,\n"));
    csv.push_str(&format!("exit,ALLIN,{lone},,2021-09-20,,work\n"));
    import(&env, &csv);
    let (rows, _, stderr) = export(&env, &["--k", "5"]);
    let months: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["start_month"].as_str(),
                r["exit_month"].as_str(),
                r["months_in_intervention"].as_str(),
            )
        })
        .collect();
    assert_eq!(months, vec![("2021-02", "2021-08", "7"); 5], "{stderr}");
    assert_eq!(left_out(&stderr), 1);
    // With k = 1 nothing is coarsened.
    let (rows, _, _) = export(&env, &["--k", "1"]);
    assert!(rows.iter().any(|r| r["start_month"] == "2021-03"));
}

/// Two periods' exports with one key file, joined on the pseudonym: a
/// municipality hidden in one is shown in neither, and a row in both is
/// shown the same way in both.
fn assert_exports_reveal_no_more_together(
    a: &[HashMap<String, String>],
    b: &[HashMap<String, String>],
) {
    let hidden: std::collections::HashSet<&str> = a
        .iter()
        .chain(b)
        .filter(|r| r["municipality"] == "*")
        .map(|r| r["pseudonym"].as_str())
        .collect();
    for r in a.iter().chain(b) {
        assert!(
            r["municipality"] == "*" || !hidden.contains(r["pseudonym"].as_str()),
            "{} hides the municipality in one row and shows it in another: {r:?}",
            r["pseudonym"]
        );
    }
    // Each (pseudonym, intervention) is one enrolment in these registers.
    let by_enrolment =
        |rows: &[HashMap<String, String>]| -> HashMap<(String, String), HashMap<String, String>> {
            rows.iter()
                .map(|r| {
                    (
                        (r["pseudonym"].clone(), r["intervention"].clone()),
                        r.clone(),
                    )
                })
                .collect()
        };
    let (ea, eb) = (by_enrolment(a), by_enrolment(b));
    for (key, ra) in &ea {
        if let Some(rb) = eb.get(key) {
            assert_eq!(ra, rb, "one enrolment shown two ways");
        }
    }
}

fn export_years(env: &Env, key: &str, k: &str) -> [Vec<HashMap<String, String>>; 2] {
    ["2021", "2022"].map(|year| {
        let out = env.run(&["export", "--year", year, "--k", k, "--key-file", key]);
        assert!(
            out.status.success(),
            "{}",
            common::describe(&["export"], &out)
        );
        csv::Reader::from_reader(&out.stdout[..])
            .deserialize()
            .map(|r| r.unwrap())
            .collect()
    })
}

#[test]
fn exports_with_one_key_reveal_together_no_more_than_each_alone() {
    // Three Åmål women are alone in A in 2021 (their municipality is
    // hidden there) but among eight Åmål women in B in 2022.
    let env = Env::new();
    env.ok(&["intervention", "add", "A", "--name", "A"]);
    env.ok(&["intervention", "add", "B", "--name", "B"]);
    let mut csv = String::from("event,intervention,pnr,consent,date,municipality,outcome\n");
    let women: Vec<String> = (0..10).map(|i| pnr("19800101", 100 + i * 10)).collect();
    let places = ["Åmål", "Åmål", "Åmål", "Ale", "Kil"];
    for (p, place) in women.iter().zip(places) {
        csv.push_str(&format!(
            "start,A,{p},ja,2021-02-01,{place},\nexit,A,{p},,2021-10-01,,work\n"
        ));
    }
    for p in women[..3].iter().chain(&women[5..10]) {
        csv.push_str(&format!(
            "start,B,{p},ja,2022-03-01,Åmål,\nexit,B,{p},,2022-09-01,,work\n"
        ));
    }
    import(&env, &csv);
    let key = env.path("k.key");
    env.ok(&["keygen", key.to_str().unwrap()]);
    let [a, b] = export_years(&env, key.to_str().unwrap(), "5");
    assert!(a.iter().any(|r| r["municipality"] == "*"), "{a:?}");
    // Åmål is kommun 1492; its five women who are only in B keep it.
    assert_eq!(
        b.iter().filter(|r| r["municipality"] == "1492").count(),
        5,
        "{b:?}"
    );
    assert_exports_reveal_no_more_together(&a, &b);
    for rows in [&a, &b] {
        assert!(persons_per_group(rows).values().all(|&n| n >= 5));
    }
}

#[test]
fn a_malformed_key_file_is_refused_without_echoing_it() {
    let (env, _) = populated();
    let hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd";
    for (name, content) in [
        // 64 bytes, a two-byte character across the second pair of digits:
        // once a panic that printed the key.
        ("multibyte.key", format!("0é{}", &hex[1..]).into_bytes()),
        ("latin1.key", [&[0xe9u8, 0xe9][..], hex.as_bytes()].concat()),
        ("short.key", b"abc".to_vec()),
    ] {
        let path = env.path(name);
        std::fs::write(&path, &content).unwrap();
        let out = env.run(&[
            "export",
            "--year",
            "2021",
            "--key-file",
            path.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(out.stdout.is_empty());
        assert!(err.contains("not a sustrack key file"), "{name}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains(&hex[..16]),
            "{name}: {err}"
        );
        assert_eq!(
            err.lines().filter(|l| l.starts_with("error")).count(),
            1,
            "{err}"
        );
    }
    // The library says the same.
    let e = sustrack::export::read_key(&env.path("multibyte.key")).unwrap_err();
    assert!(!e.to_string().contains(&hex[..16]), "{e}");
}

#[test]
fn an_unknown_stored_gender_is_refused_not_taken_for_woman() {
    let (env, _) = populated();
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let id: String = conn
        .query_row("SELECT id FROM enrolment ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute("UPDATE enrolment SET gender = 'x' WHERE id = ?1", [&id])
        .unwrap();
    drop(conn);
    let out_file = env.path("out.csv");
    let out = env.run(&[
        "export",
        "--year",
        "2021",
        "--k",
        "1",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error: enrolment") && err.contains(&id[..8]) && err.contains("gender"),
        "{err}"
    );
    assert!(!out_file.exists(), "an export was written");
    // The library refuses it too.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let e =
        sustrack::export::export(&conn, None, &options(2021, 1, false), Vec::new()).unwrap_err();
    assert!(e.to_string().contains(&id[..8]), "{e}");
}

fn options(year: i32, k: u32, kept: bool) -> sustrack::export::ExportOptions {
    use chrono::NaiveDate;
    sustrack::export::ExportOptions {
        period: sustrack::report::Period {
            from: NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
        },
        interventions: vec![],
        key: vec![7; 32],
        key_is_kept: kept,
        k,
    }
}

#[test]
fn the_library_export_counts_persons_and_summarises() {
    let (env, _) = populated();
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let mut out = Vec::new();
    let s = sustrack::export::export(&conn, None, &options(2021, 5, false), &mut out).unwrap();
    let rows: Vec<HashMap<String, String>> = csv::Reader::from_reader(&out[..])
        .deserialize()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(s.rows as usize, rows.len());
    assert_eq!(s.rows + s.left_out, 24);
    assert_eq!(
        s.generalised as usize,
        rows.iter().filter(|r| r["municipality"] == "*").count()
    );
    let to_the_month = |m: &str| m.len() == 7 && m.as_bytes()[5].is_ascii_digit();
    assert_eq!(
        s.coarsened as usize,
        rows.iter()
            .filter(|r| !to_the_month(&r["start_month"]))
            .count()
    );
    assert!(persons_per_group(&rows).values().all(|&n| n >= 5));
}

mod anonymise {
    use sustrack::export::{anonymise, Level, Person, Row, Time, Who};

    fn row(person: Person, municipality: u32, start: u8, exit: u8) -> Row {
        Row {
            intervention: 0,
            man: false,
            band: 1,
            municipality,
            start: (2021, start),
            exit: Some((2021, exit)),
            months: (exit - start + 1) as u16,
            person,
            in_export: true,
            codes: [0; 8],
            who: Who::Pseudonym([b'A'; 16]),
            level: Level::default(),
        }
    }

    #[test]
    fn one_person_three_times_and_two_others_are_three() {
        let one = Person::Registered(1);
        let rows = vec![
            row(one, 1, 2, 3),
            row(one, 1, 5, 6),
            row(one, 1, 8, 9),
            row(Person::Registered(2), 1, 4, 5),
            row(Person::Registered(3), 1, 4, 5),
        ];
        let (shown, s) = anonymise(rows.clone(), 5);
        assert!(shown.is_empty());
        assert_eq!((s.rows, s.left_out), (0, 5));
        // At k = 3 the May row and the two others make a group of three
        // persons in the second quarter; the other two are one person.
        let (shown, s) = anonymise(rows.clone(), 3);
        assert_eq!((s.rows, s.coarsened, s.left_out), (3, 3, 2));
        assert!(shown.iter().all(|r| r.level.time == Time::Quarter
            && r.start == (2021, r.start.1)
            && (4..=5).contains(&r.start.1)));
        // Anonymous enrolments with one local_id key are one person too.
        let anon = |p| row(Person::Anonymous(p), 1, 4, 5);
        let (_, s) = anonymise(vec![anon(9), anon(9), anon(9), anon(8), anon(7)], 5);
        assert_eq!(s.left_out, 5);
        let (_, s) = anonymise(vec![anon(1), anon(2), anon(3), anon(4), anon(5)], 5);
        assert_eq!((s.rows, s.coarsened), (5, 0));
    }

    #[test]
    fn a_person_shows_one_municipality_on_all_rows_or_on_none() {
        // Person 1 is in a big group of municipality 1 and alone from
        // municipality 2 (with four others from elsewhere) in another
        // intervention: hidden there, so hidden on every row.
        let mut rows: Vec<Row> = (1..=6)
            .map(|p| row(Person::Registered(p), 1, 2, 4))
            .collect();
        for (p, m) in [(1, 2), (20, 3), (21, 4), (22, 5), (23, 6)] {
            let mut r = row(Person::Registered(p), m, 2, 4);
            r.intervention = 1;
            rows.push(r);
        }
        let (shown, _) = anonymise(rows, 5);
        // Its row in the first intervention is then alone without the
        // municipality, and left out.
        let levels: Vec<(u32, Level)> = shown
            .iter()
            .filter(|r| r.person == Person::Registered(1))
            .map(|r| (r.intervention, r.level))
            .collect();
        assert_eq!(
            levels,
            vec![(
                1,
                Level {
                    time: Time::Month,
                    hide_municipality: true
                }
            )],
            "{shown:?}"
        );
        // Moving person 1 out leaves five in the first group, still shown.
        assert_eq!(
            shown
                .iter()
                .filter(|r| r.intervention == 0 && r.level == Level::default())
                .count(),
            5
        );
    }

    #[test]
    fn rows_read_only_to_decide_are_never_shown_and_small_export_groups_left_out() {
        let mut rows: Vec<Row> = (1..=5)
            .map(|p| row(Person::Registered(p), 1, 2, 4))
            .collect();
        for r in &mut rows[2..] {
            r.in_export = false;
        }
        let (shown, s) = anonymise(rows, 5);
        assert!(shown.is_empty(), "{shown:?}");
        assert_eq!((s.rows, s.left_out), (0, 2));
    }
}

/// A random register: persons (by personnummer, with consent) with one to
/// three enrolments over 2021-2022 in two interventions, and anonymous
/// enrolments, in four municipalities.
fn random_register(n: usize, seed: u64) -> (Env, usize, usize) {
    let env = Env::new();
    env.ok(&["intervention", "add", "P", "--name", "P"]);
    env.ok(&["intervention", "add", "Q", "--name", "Q"]);
    let mut csv = String::from(
        "event,intervention,pnr,consent,local_id,gender,birth_year,date,municipality,outcome\n",
    );
    let mut x = seed;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    let (mut in_2021, mut in_2022) = (0, 0);
    let mut count = |start: (u64, u64), exit: Option<(u64, u64)>| {
        in_2021 += (start.0 == 2021) as usize;
        in_2022 += (start.0 == 2022 || exit.is_none_or(|e| e.0 >= 2022)) as usize;
    };
    // Start and exit, some exits in the next year: those rows are in both
    // years' exports.
    let mut dates = |next: &mut dyn FnMut(u64) -> u64| {
        let start = (2021 + next(2), 1 + next(6));
        let exit = (next(3) > 0).then(|| {
            let m = start.1 + next(12);
            (start.0 + m / 12, 1 + m % 12)
        });
        count(start, exit);
        (
            format!("{}-{:02}-{:02}", start.0, start.1, 1 + next(28)),
            exit.map(|e| format!("{}-{:02}-28", e.0, e.1)),
        )
    };
    for i in 0..n {
        let place = ["Ale", "Borås", "Åmål", "Kil"][next(4) as usize];
        if next(4) == 0 {
            let iv = if next(2) == 0 { "P" } else { "Q" };
            let g = if next(2) == 0 { "K" } else { "M" };
            let by = 1960 + next(40);
            let (s, e) = dates(&mut next);
            csv.push_str(&format!("start,{iv},,,L{i},{g},{by},{s},{place},\n"));
            if let Some(e) = &e {
                csv.push_str(&format!("exit,{iv},,,L{i},,,{e},,work\n"));
            }
        } else {
            // A person in P and, sometimes, in Q as well, at other times
            // (one enrolment per intervention, so a pseudonym and an
            // intervention name one enrolment).
            let p = pnr(
                &format!("19{}0{}1{}", 60 + next(40), 1 + next(9), next(10)),
                100 + i as u32,
            );
            for iv in ["P", "Q"] {
                if iv == "Q" && next(2) == 0 {
                    continue;
                }
                let (s, e) = dates(&mut next);
                csv.push_str(&format!("start,{iv},{p},ja,,,,{s},{place},\n"));
                if let Some(e) = &e {
                    csv.push_str(&format!("exit,{iv},{p},,,,,{e},,work\n"));
                }
            }
        }
    }
    import(&env, &csv);
    (env, in_2021, in_2022)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, .. ProptestConfig::default() })]
    /// Every group of every export holds at least k persons, rows are only
    /// ever shown or left out, and two periods' exports with one key reveal
    /// together no more than each alone.
    #[test]
    fn every_export_group_holds_at_least_k_persons(n in 0usize..120, seed in any::<u64>(), k in 1u32..7) {
        let (env, in_2021, in_2022) = random_register(n, seed);
        let (rows, _, stderr) = export(&env, &["--k", &k.to_string()]);
        let groups = persons_per_group(&rows);
        prop_assert!(groups.values().all(|&c| c >= k as usize), "{:?}", groups);
        prop_assert_eq!(rows.len() + left_out(&stderr), in_2021);

        let key = env.path("k.key");
        env.ok(&["keygen", key.to_str().unwrap()]);
        let [a, b] = export_years(&env, key.to_str().unwrap(), &k.to_string());
        prop_assert!(a.len() <= in_2021 && b.len() <= in_2022);
        for rows in [&a, &b] {
            let groups = persons_per_group(rows);
            prop_assert!(groups.values().all(|&c| c >= k as usize), "{:?}", groups);
        }
        assert_exports_reveal_no_more_together(&a, &b);
    }
}

/// A key file is a small regular file: a device is refused at once instead
/// of being read without end (`--key-file /dev/zero` grew until killed).
#[test]
fn a_key_file_that_is_a_device_is_refused_at_once() {
    let env = common::Env::new();
    let err = env.fails(&["export", "--year", "2021", "--key-file", "/dev/zero"], 2);
    assert!(err.contains("/dev/zero is not a regular file"), "{err}");
}
