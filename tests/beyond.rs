//! SPEC section 13 through the binary: activities, referrals and money.
//! One fixture, every figure computed by hand in the comments; the bad
//! paths each leave the database byte for byte as it was.

mod attacker;
mod common;

use common::Env;
use serde_json::Value;

/// The first line of `ok`'s output: the id a registration prints.
fn id(out: &str) -> String {
    out.lines().next().unwrap().trim().to_string()
}

struct Fixture {
    env: Env,
    /// Referral ids r1..r8 (index 0 = r1).
    r: Vec<String>,
}

/// Interventions A, B (individual), K (structural), V (volume).
///
/// Activities in 2025: K seminar 20/5/2 (4 organisations) and 10/0/0, K
/// network 3/1/0 (2 organisations), A information 4/4/0; outside 2025: K
/// seminar 2024-12-31, K training 2026-01-01.
///
/// Referrals (gender, referrer, municipality -> decision):
/// r1 A 2025-01-10 K af Mellerud -> started 01-20, e1 starts 01-20 (10 days)
/// r2 A 2025-02-01 M fk Vänersborg -> started 03-01, e2 starts 03-04 (31)
/// r3 A 2025-03-01 K - - -> declined 03-15
/// r4 B 2025-04-01 K af Mellerud -> returned 04-10
/// r5 B 2025-06-01 M self Mellerud -> withdrawn 06-05
/// r6 A 2025-12-01 K af - -> started 2026-01-05, e3 (after 2025's end)
/// r7 A 2024-12-20 K - - -> started 2025-01-02, e4 (received in 2024)
/// r8 B 2025-07-01 K region - -> started 07-15, e5 starts 08-14 (44)
///
/// Enrolments: e1 A 2025-01-20 K exit 06-30 work; e2 A 2025-03-04 M open;
/// e3 A 2026-01-05 K open; e4 A 2025-01-02 K exit 12-01 studies; e5 B
/// 2025-08-14 K exit 10-01 dropout. Volume V 2025-03: 5 women, 6 men.
///
/// Budgets 2025: A 1 000 000 (actual 900 000), B 500 000 (no actual),
/// K 200 000 (actual 210 000).
fn fixture() -> Fixture {
    let env = Env::new();
    for (code, kind) in [
        ("A", "individual"),
        ("B", "individual"),
        ("K", "structural"),
        ("V", "volume"),
    ] {
        env.ok(&[
            "intervention",
            "add",
            code,
            "--name",
            &format!("Insats {code}"),
            "--kind",
            kind,
        ]);
    }
    for (iv, date, kind, w, m, u, orgs) in [
        ("K", "2025-03-10", "seminar", "20", "5", "2", Some("4")),
        ("K", "2025-09-01", "Seminarium", "10", "0", "0", None),
        ("K", "2025-05-05", "nätverksträff", "3", "1", "0", Some("2")),
        ("A", "2025-02-01", "information", "4", "4", "0", None),
        ("K", "2024-12-31", "seminar", "50", "50", "0", None),
        ("K", "2026-01-01", "training", "7", "7", "0", None),
    ] {
        let mut args = vec![
            "activity",
            "add",
            "--intervention",
            iv,
            "--date",
            date,
            "--kind",
            kind,
            "--women",
            w,
            "--men",
            m,
            "--unknown",
            u,
        ];
        if let Some(o) = orgs {
            args.extend(["--organisations", o]);
        }
        env.ok(&args);
    }
    let start = |iv: &str, date: &str, gender: &str| {
        id(&env.ok(&[
            "start",
            "--intervention",
            iv,
            "--date",
            date,
            "--anonymous",
            "--gender",
            gender,
            "--birth-year",
            "1990",
        ]))
    };
    let e = [
        start("A", "2025-01-20", "K"),
        start("A", "2025-03-04", "M"),
        start("A", "2026-01-05", "K"),
        start("A", "2025-01-02", "K"),
        start("B", "2025-08-14", "K"),
    ];
    for (i, date, outcome) in [
        (0, "2025-06-30", "work"),
        (3, "2025-12-01", "studies"),
        (4, "2025-10-01", "dropout"),
    ] {
        env.ok(&["exit", "--id", &e[i], "--date", date, "--outcome", outcome]);
    }
    let mut r = Vec::new();
    for (iv, date, g, referrer, municipality) in [
        ("A", "2025-01-10", "K", Some("af"), Some("Mellerud")),
        ("A", "2025-02-01", "M", Some("fk"), Some("Vänersborg")),
        ("A", "2025-03-01", "K", None, None),
        ("B", "2025-04-01", "K", Some("af"), Some("Mellerud")),
        ("B", "2025-06-01", "M", Some("egen anmälan"), Some("1461")),
        ("A", "2025-12-01", "K", Some("af"), None),
        ("A", "2024-12-20", "K", None, None),
        ("B", "2025-07-01", "kvinna", Some("region"), None),
    ] {
        let mut args = vec![
            "referral",
            "add",
            "--intervention",
            iv,
            "--date",
            date,
            "--gender",
            g,
        ];
        if let Some(x) = referrer {
            args.extend(["--referrer", x]);
        }
        if let Some(x) = municipality {
            args.extend(["--municipality", x]);
        }
        r.push(id(&env.ok(&args)));
    }
    let decide = |r: &str, decision: &str, date: &str, e: Option<&str>| {
        let mut args = vec![
            "referral",
            "decide",
            r,
            "--decision",
            decision,
            "--date",
            date,
        ];
        if let Some(e) = e {
            args.extend(["--enrolment", e]);
        }
        env.ok(&args);
    };
    decide(&r[0], "started", "2025-01-20", Some(&e[0]));
    decide(&r[1], "started", "2025-03-01", Some(&e[1][..8]));
    decide(&r[2], "declined", "2025-03-15", None);
    decide(&r[3][..8], "återremiss", "2025-04-10", None);
    decide(&r[4], "withdrawn", "2025-06-05", None);
    decide(&r[5], "started", "2026-01-05", Some(&e[2]));
    decide(&r[6], "started", "2025-01-02", Some(&e[3]));
    decide(&r[7], "started", "2025-07-15", Some(&e[4]));
    env.ok(&[
        "volume",
        "add",
        "--intervention",
        "V",
        "--month",
        "2025-03",
        "--women",
        "5",
        "--men",
        "6",
    ]);
    env.ok(&[
        "budget",
        "set",
        "--intervention",
        "A",
        "--year",
        "2025",
        "--budget",
        "1 000 000 kr",
        "--actual",
        "900000",
    ]);
    env.ok(&[
        "budget",
        "set",
        "--intervention",
        "B",
        "--year",
        "2025",
        "--budget",
        "500000",
    ]);
    env.ok(&[
        "budget",
        "set",
        "--intervention",
        "K",
        "--year",
        "2025",
        "--budget",
        "200000",
        "--actual",
        "210 000",
    ]);
    Fixture { env, r }
}

fn json_report(env: &Env, args: &[&str]) -> Value {
    let mut all = vec!["report", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str(&env.ok(&all)).unwrap()
}

fn table<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("no table {id}"))
}

/// `(key, values)` of each row, then `("total", total)`.
fn rows(t: &Value) -> Vec<(String, Vec<i64>)> {
    let vals = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap_or(-1))
            .collect::<Vec<_>>()
    };
    let mut out: Vec<(String, Vec<i64>)> = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_string(), vals(&r["values"])))
        .collect();
    out.push(("total".into(), vals(&t["total"])));
    out
}

fn owned(x: &[(&str, &[i64])]) -> Vec<(String, Vec<i64>)> {
    x.iter().map(|(k, v)| (k.to_string(), v.to_vec())).collect()
}

#[test]
fn the_tables_match_the_hand_computed_figures() {
    let f = fixture();
    let r = json_report(&f.env, &["--year", "2025"]);
    // Rows by intervention, then kind in code-list order (seminar before
    // network); columns occasions, women, men, unknown, total,
    // organisations.
    assert_eq!(
        rows(table(&r, "activities")),
        owned(&[
            ("A/information", &[1, 4, 4, 0, 8, 0]),
            ("K/seminar", &[2, 30, 5, 2, 37, 4]),
            ("K/network", &[1, 3, 1, 0, 4, 2]),
            ("total", &[4, 37, 10, 2, 49, 6]),
        ])
    );
    // Received in 2025: r1-r6 and r8 (r7 came in 2024). Women r1 r3 r4 r6
    // r8, men r2 r5.
    assert_eq!(
        rows(table(&r, "referrals")),
        owned(&[
            ("af", &[3, 0, 3]),
            ("fk", &[0, 1, 1]),
            ("region", &[1, 0, 1]),
            ("self", &[0, 1, 1]),
            ("unknown", &[1, 0, 1]),
            ("total", &[5, 2, 7]),
        ])
    );
    assert_eq!(
        rows(table(&r, "referrals_municipality")),
        owned(&[
            ("1461", &[2, 1, 3]),
            ("1487", &[0, 1, 1]),
            ("unknown", &[3, 0, 3]),
            ("total", &[5, 2, 7]),
        ])
    );
    // As decided by 2025-12-31: r6's start came in 2026, so it is undecided.
    assert_eq!(
        rows(table(&r, "referrals_decision")),
        owned(&[
            ("started", &[2, 1, 3]),
            ("declined", &[1, 0, 1]),
            ("returned", &[1, 0, 1]),
            ("withdrawn", &[0, 1, 1]),
            ("undecided", &[1, 0, 1]),
            ("total", &[5, 2, 7]),
        ])
    );
    // Waits 10, 31, 44: the median is 31.
    assert_eq!(r["waiting"]["started"], 3);
    assert_eq!(r["waiting"]["median_days"], 31.0);
    // Unique participants in 2025: e1 e2 e4 (A) and e5 (B), four anonymous
    // enrolments; volume 5 + 6; attendees 49. 4 + 11 + 49 = 64.
    assert_eq!(table(&r, "participation")["total"][5], 4);
    assert_eq!(
        r["reach"],
        serde_json::json!({
            "participants": 4, "volume": 11, "attendees": 49, "total": 64,
            "note": "a sum: one person may be counted more than once"
        })
    );
    // Cost: A has 3 participants (e1 e2 e4) and 2 exits to work or
    // studies (e1 work, e4 studies): 900 000 / 3 and 900 000 / 2. B's
    // actual cost is not known: no cost per participant, not 0. K is
    // structural: no participants; 10 000 over budget. The total's actual
    // cost is unknown while B's is.
    let cost = r["cost"].as_array().unwrap();
    let line = |iv: Option<&str>| {
        cost.iter()
            .find(|c| c["intervention"].as_str() == iv)
            .unwrap_or_else(|| panic!("no cost line {iv:?}"))
    };
    let a = line(Some("A"));
    assert_eq!(
        (
            &a["budget"],
            &a["actual"],
            &a["deviation"],
            &a["participants"],
            &a["per_participant"],
            &a["exits_work_or_studies"],
            &a["per_exit"]
        ),
        (
            &1_000_000.into(),
            &900_000.into(),
            &100_000.into(),
            &3.into(),
            &300_000.into(),
            &2.into(),
            &450_000.into()
        )
    );
    let b = line(Some("B"));
    assert_eq!(b["actual"], Value::Null);
    assert_eq!(b["participants"], 1);
    assert_eq!(b["per_participant"], Value::Null);
    assert_eq!(b["exits_work_or_studies"], 0);
    assert_eq!(b["per_exit"], Value::Null);
    let k = line(Some("K"));
    assert_eq!(
        (&k["deviation"], &k["participants"]),
        (&(-10_000).into(), &Value::Null)
    );
    let total = line(None);
    assert_eq!(
        (&total["budget"], &total["actual"]),
        (&1_700_000.into(), &Value::Null)
    );
    assert!(
        cost.iter().all(|c| c["intervention"] != "V"),
        "V has no budget"
    );

    // The text says the same: B's cost per participant is not shown, and
    // never as 0; the reach line says it may count a person twice.
    let text = f.env.ok(&["report", "--year", "2025"]);
    let b_line = text
        .lines()
        .find(|l| l.starts_with("B – Insats B") && l.contains("500"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(b_line.contains("ej känd"), "{b_line}");
    let cells: Vec<&str> = b_line
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        !cells.contains(&"0 kr") && cells.iter().filter(|c| **c == "0").count() == 1,
        "{cells:?}"
    );
    assert!(
        text.contains("samma person kan räknas mer än en gång"),
        "{text}"
    );
    let en = f.env.ok(&["report", "--year", "2025", "--lang", "en"]);
    assert!(en.contains("not known") && en.contains("Returned"), "{en}");
}

#[test]
fn the_median_wait_at_its_boundaries() {
    let f = fixture();
    // Jan-Mar: r1 (10 days) and r2 (31) started by the end, r3 declined:
    // an even count, the mean of the middle two.
    let r = json_report(&f.env, &["--from", "2025-01-01", "--to", "2025-03-31"]);
    assert_eq!(r["waiting"]["started"], 2);
    assert_eq!(r["waiting"]["median_days"], 20.5);
    // Jan-Feb: r2 was decided on 1 March, after the period: one start.
    let r = json_report(&f.env, &["--from", "2025-01-01", "--to", "2025-02-28"]);
    assert_eq!(r["waiting"]["started"], 1);
    assert_eq!(r["waiting"]["median_days"], 10.0);
    assert_eq!(
        rows(table(&r, "referrals_decision"))[4],
        ("undecided".to_string(), vec![0, 1, 1])
    );
    // Apr-Jun: r4 returned, r5 withdrawn: no start, no median (not 0).
    let r = json_report(&f.env, &["--from", "2025-04-01", "--to", "2025-06-30"]);
    assert_eq!(r["waiting"]["started"], 0);
    assert_eq!(r["waiting"]["median_days"], Value::Null);
    let text = f
        .env
        .ok(&["report", "--from", "2025-04-01", "--to", "2025-06-30"]);
    assert!(text.contains("ingen start"), "{text}");
    // No referrals at all: no referral tables and no wait.
    let r = json_report(&f.env, &["--year", "2023"]);
    assert!(r.get("waiting").is_none());
    assert!(r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["id"] != "referrals"));
    // A part of a year covers no whole budget year: no cost lines.
    let r = json_report(&f.env, &["--from", "2025-01-01", "--to", "2025-08-31"]);
    assert!(r.get("cost").is_none(), "{}", r["cost"]);
}

#[test]
fn every_format_carries_the_new_figures() {
    let f = fixture();
    let dir = f.env.dir.path();
    for format in ["text", "csv", "md", "html", "xlsx"] {
        let out = dir.join(format!("r.{format}"));
        let o = out.to_str().unwrap();
        f.env
            .ok(&["report", "--year", "2025", "--format", format, "--out", o]);
        let bytes = std::fs::read(&out).unwrap();
        if format == "xlsx" {
            // The workbook has a sheet for each table and section, and
            // the kronor are numbers to compute with.
            use calamine::Reader;
            let mut wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
            let names = wb.sheet_names();
            for sheet in [
                "activities",
                "referrals_decision",
                "waiting",
                "reach",
                "cost",
            ] {
                assert!(
                    names.iter().any(|n| n == sheet),
                    "{format}: no sheet {sheet} in {names:?}"
                );
            }
            let cost = wb.worksheet_range("cost").unwrap();
            let numbers: Vec<f64> = cost
                .rows()
                .flat_map(|r| {
                    r.iter().filter_map(|c| match c {
                        calamine::Data::Float(f) => Some(*f),
                        _ => None,
                    })
                })
                .collect();
            assert!(
                numbers.contains(&900_000.0) && numbers.contains(&-10_000.0),
                "{numbers:?}"
            );
            continue;
        }
        let s = String::from_utf8(bytes).unwrap();
        for needle in [
            "Nätverksträff",
            "Återremiss",
            "Väntetid",
            "Nådda",
            "Kostnad per deltagare",
        ] {
            assert!(s.contains(needle), "{format}: no {needle}\n{s}");
        }
    }
}

#[test]
fn suppression_hides_what_would_give_a_small_count_away() {
    let f = fixture();
    let r = json_report(&f.env, &["--year", "2025", "--suppress-below", "5"]);
    // B's one participant is hidden; so is its cost per participant (the
    // actual cost over it would give the count), even though unknown.
    let cost = r["cost"].as_array().unwrap();
    let a = cost.iter().find(|c| c["intervention"] == "A").unwrap();
    assert_eq!(a["participants"], Value::Null, "3 < 5");
    assert_eq!(a["per_participant"], Value::Null);
    assert_eq!(a["too_few"], true);
    // The four unique participants are hidden, so reach (a sum of shown
    // totals) cannot show them by subtraction: its total or another part
    // goes too.
    let reach = &r["reach"];
    assert_eq!(reach["participants"], Value::Null);
    let hidden = ["volume", "attendees", "total"]
        .iter()
        .filter(|k| reach[**k].is_null())
        .count();
    assert!(hidden >= 1, "{reach}");
    // Three starts are too few: the wait goes with them.
    assert_eq!(r["waiting"]["too_few"], true);
    assert_eq!(r["waiting"]["median_days"], Value::Null);
    // Organisations are not people: never hidden. Every count of people
    // shown is 0 or at least 5 (occasions are not people: any value).
    let acts = rows(table(&r, "activities"));
    assert_eq!(acts[3].1[5], 6, "{acts:?}");
    for (key, v) in &acts {
        for &x in &v[1..5] {
            assert!(x == -1 || x == 0 || x >= 5, "{key}: {v:?}");
        }
    }
    // The unknown-gender total (2) is hidden.
    assert_eq!(acts[3].1[3], -1, "{acts:?}");
    // Nothing hidden follows from everything shown, the new figures
    // included.
    let plain = json_report(&f.env, &["--year", "2025"]);
    let leaks = attacker::determined(&r, &plain, 5);
    assert!(leaks.is_empty(), "{leaks:?}");
    let referral_total = &table(&r, "referrals_decision")["total"];
    let by_referrer = &table(&r, "referrals")["total"];
    assert_eq!(referral_total, by_referrer, "one total, one suppression");
}

#[test]
fn bad_input_is_refused_by_name_and_writes_nothing() {
    let f = fixture();
    let env = &f.env;
    let before = env.dump();
    let pnr = "19800315-2421";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "activity",
                "add",
                "--intervention",
                "K",
                "--date",
                "2025-01-01",
                "--kind",
                "party",
                "--women",
                "1",
            ],
            "invalid --kind 'party': accepted are seminar",
        ),
        (
            vec![
                "activity",
                "add",
                "--intervention",
                "K",
                "--date",
                "2025-01-01",
                "--kind",
                "seminar",
            ],
            "--women an activity needs at least one attendee",
        ),
        (
            vec![
                "activity",
                "add",
                "--intervention",
                "K",
                "--date",
                "2025-01-01",
                "--kind",
                "seminar",
                "--men",
                "100001",
            ],
            "--men 100001 is out of range",
        ),
        (
            vec![
                "activity",
                "add",
                "--intervention",
                "K",
                "--date",
                "2099-01-01",
                "--kind",
                "seminar",
                "--men",
                "1",
            ],
            "--date 2099-01-01 is in the future",
        ),
        (
            vec![
                "activity",
                "add",
                "--intervention",
                "NOPE",
                "--date",
                "2025-01-01",
                "--kind",
                "seminar",
                "--men",
                "1",
            ],
            "NOPE",
        ),
        (
            vec![
                "referral",
                "add",
                "--intervention",
                "K",
                "--date",
                "2025-01-01",
                "--gender",
                "K",
            ],
            "--intervention 'K' is a structural intervention and takes no referrals",
        ),
        (
            vec![
                "referral",
                "add",
                "--intervention",
                "V",
                "--date",
                "2025-01-01",
                "--gender",
                "K",
            ],
            "takes no referrals",
        ),
        (
            vec![
                "referral",
                "add",
                "--intervention",
                "A",
                "--date",
                "2025-01-01",
                "--gender",
                "X",
            ],
            "invalid --gender 'X'",
        ),
        (
            vec![
                "referral",
                "add",
                "--intervention",
                "A",
                "--date",
                "2025-01-01",
                "--gender",
                "K",
                "--birth-year",
                pnr,
            ],
            "--birth-year is not a year",
        ),
        (
            vec![
                "referral",
                "add",
                "--intervention",
                "A",
                "--date",
                "2025-01-01",
                "--gender",
                "K",
                "--pnr",
                pnr,
            ],
            "--pnr",
        ),
        (
            vec![
                "referral",
                "decide",
                &f.r[0],
                "--decision",
                "declined",
                "--date",
                "2025-02-01",
            ],
            "was already decided (started) on 2025-01-20",
        ),
        (
            vec![
                "referral",
                "decide",
                "zzzzzz",
                "--decision",
                "declined",
                "--date",
                "2025-02-01",
            ],
            "REFERRAL 'zzzzzz' is not a referral id",
        ),
        (
            vec![
                "referral",
                "decide",
                "abcdef",
                "--decision",
                "declined",
                "--date",
                "2025-02-01",
            ],
            "no referral with id 'abcdef'",
        ),
        (
            vec![
                "start",
                "--intervention",
                "K",
                "--date",
                "2025-01-01",
                "--anonymous",
                "--gender",
                "K",
            ],
            "structural intervention, which takes only activities",
        ),
        (
            vec![
                "volume",
                "add",
                "--intervention",
                "K",
                "--month",
                "2025-01",
                "--women",
                "1",
                "--men",
                "1",
            ],
            "structural intervention, which takes only activities",
        ),
        (
            vec![
                "budget",
                "set",
                "--intervention",
                "A",
                "--year",
                "2025",
                "--budget",
                "12,50 kr",
            ],
            "--budget '12,50 kr' is not an amount: expected whole kronor",
        ),
        (
            vec![
                "budget",
                "set",
                "--intervention",
                "A",
                "--year",
                "2099",
                "--budget",
                "1",
            ],
            "--year 2099 is out of range",
        ),
        (
            vec![
                "budget",
                "set",
                "--intervention",
                "A",
                "--year",
                "2028",
                "--budget",
                "1",
                "--actual",
                "1",
            ],
            "--actual cannot be known for 2028",
        ),
        (
            vec![
                "budget",
                "set",
                "--intervention",
                "NOPE",
                "--year",
                "2025",
                "--budget",
                "1",
            ],
            "NOPE",
        ),
    ];
    for (args, expected) in &cases {
        let err = env.fails(args, 2);
        assert!(err.contains(expected), "{args:?}\n{err}");
        assert!(
            !err.contains(pnr) && !err.contains("198003152421") && !err.contains("8003152421"),
            "{err}"
        );
        assert_eq!(env.dump(), before, "{args:?} wrote something");
    }
}

#[test]
fn a_started_decision_must_point_at_a_fitting_enrolment() {
    let env = Env::new();
    for code in ["A", "B"] {
        env.ok(&["intervention", "add", code, "--name", code]);
    }
    let start = |iv: &str, date: &str| {
        id(&env.ok(&[
            "start",
            "--intervention",
            iv,
            "--date",
            date,
            "--anonymous",
            "--gender",
            "M",
        ]))
    };
    let in_b = start("B", "2025-05-01");
    let early = start("A", "2025-04-30");
    let fine = start("A", "2025-05-01");
    let r = id(&env.ok(&[
        "referral",
        "add",
        "--intervention",
        "A",
        "--date",
        "2025-05-01",
        "--gender",
        "M",
    ]));
    let other = id(&env.ok(&[
        "referral",
        "add",
        "--intervention",
        "A",
        "--date",
        "2025-05-01",
        "--gender",
        "M",
    ]));
    let before = env.dump();
    let decide = |e: Option<&str>, decision: &str, date: &str| {
        let mut args = vec![
            "referral",
            "decide",
            &r,
            "--decision",
            decision,
            "--date",
            date,
        ];
        if let Some(e) = e {
            args.extend(["--enrolment", e]);
        }
        env.fails(&args, 2)
    };
    for (e, decision, date, expected) in [
        (
            None,
            "started",
            "2025-05-01",
            "--enrolment is needed for the decision started",
        ),
        (
            Some(in_b.as_str()),
            "started",
            "2025-05-01",
            "is an enrolment in B, but the referral is to A",
        ),
        (
            Some(early.as_str()),
            "started",
            "2025-05-01",
            "started on 2025-04-30, before the referral's date 2025-05-01",
        ),
        (
            Some(fine.as_str()),
            "declined",
            "2025-05-01",
            "--enrolment is only given for the decision started",
        ),
        (
            Some(fine.as_str()),
            "started",
            "2025-04-30",
            "--date 2025-04-30 is before the referral's date",
        ),
        (
            Some("ffffffff"),
            "started",
            "2025-05-01",
            "no enrolment with id 'ffffffff'",
        ),
    ] {
        let err = decide(e, decision, date);
        assert!(err.contains(expected), "{err}");
        assert_eq!(env.dump(), before);
    }
    // The boundary: an enrolment starting on the referral date is fine.
    env.ok(&[
        "referral",
        "decide",
        &r,
        "--decision",
        "started",
        "--date",
        "2025-05-01",
        "--enrolment",
        &fine,
    ]);
    // One enrolment is one referral's start.
    let before = env.dump();
    let err = env.fails(
        &[
            "referral",
            "decide",
            &other,
            "--decision",
            "started",
            "--date",
            "2025-05-02",
            "--enrolment",
            &fine,
        ],
        2,
    );
    assert!(err.contains("is already the start of referral"), "{err}");
    assert_eq!(env.dump(), before);
    // Deleting the enrolment (a mistake) makes the referral undecided again.
    env.ok(&["delete", &fine]);
    assert!(env
        .ok(&["referral", "list", "--intervention", "A"])
        .contains(&r[..8]));
}

#[test]
fn a_referral_holds_no_identity_and_a_withdrawal_rekeys_it() {
    let env = Env::new();
    env.ok(&["intervention", "add", "A", "--name", "A"]);
    let pnr = "19750101-1139";
    let e = id(&env.ok(&[
        "start",
        "--intervention",
        "A",
        "--date",
        "2025-05-02",
        "--pnr",
        pnr,
        "--consent",
    ]));
    let r = id(&env.ok(&[
        "referral",
        "add",
        "--intervention",
        "A",
        "--date",
        "2025-05-01",
        "--gender",
        "M",
        "--birth-year",
        "1975",
    ]));
    env.ok(&[
        "referral",
        "decide",
        &r,
        "--decision",
        "started",
        "--date",
        "2025-05-02",
        "--enrolment",
        &e,
    ]);
    // The referral table has no column that could hold an identity.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('referral')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        columns,
        [
            "id",
            "intervention",
            "date",
            "gender",
            "birth_year",
            "municipality",
            "referrer",
            "decision",
            "decided",
            "enrolment",
            "start_date"
        ]
    );
    drop(conn);
    // The register extract shows the referral that became the person's
    // start, and its entries in the trail.
    let x = env.ok(&["extract", "--pnr", pnr]);
    assert!(
        x.contains("Remiss mottagen: 2025-05-01")
            || x.contains("Remiss mottagen") && x.contains("2025-05-01"),
        "{x}"
    );
    assert!(
        x.contains(&r) && x.contains("registrerade beslut om remiss"),
        "{x}"
    );
    env.ok(&["withdraw", "--pnr", pnr]);
    // Neither the old referral id nor the old enrolment id leads anywhere;
    // the referral still counts, as started.
    env.fails(
        &[
            "referral",
            "decide",
            &r,
            "--decision",
            "declined",
            "--date",
            "2025-06-01",
        ],
        2,
    );
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let (rid, eid): (String, String) = conn
        .query_row("SELECT id, enrolment FROM referral", [], |x| {
            Ok((x.get(0)?, x.get(1)?))
        })
        .unwrap();
    assert_ne!(rid, r);
    assert_ne!(eid, e);
    let start: String = conn
        .query_row(
            "SELECT start_date FROM enrolment WHERE id = ?1",
            [&eid],
            |x| x.get(0),
        )
        .unwrap();
    assert_eq!(start, "2025-05-02");
    drop(conn);
    let report = json_report(&env, &["--year", "2025"]);
    assert_eq!(report["waiting"]["median_days"], 1.0);
    // Erasure takes the referral that became the person's enrolment.
    let env2 = Env::new();
    env2.ok(&["intervention", "add", "A", "--name", "A"]);
    let e = id(&env2.ok(&[
        "start",
        "--intervention",
        "A",
        "--date",
        "2025-05-02",
        "--pnr",
        pnr,
        "--consent",
    ]));
    let r = id(&env2.ok(&[
        "referral",
        "add",
        "--intervention",
        "A",
        "--date",
        "2025-05-01",
        "--gender",
        "M",
    ]));
    env2.ok(&[
        "referral",
        "decide",
        &r,
        "--decision",
        "started",
        "--date",
        "2025-05-02",
        "--enrolment",
        &e,
    ]);
    env2.ok(&["erase", "--pnr", pnr]);
    let conn = rusqlite::Connection::open(&env2.db).unwrap();
    let left: i64 = conn
        .query_row("SELECT count(*) FROM referral", [], |x| x.get(0))
        .unwrap();
    assert_eq!(left, 0, "the referral went with the erasure");
}

#[test]
fn the_quality_list_knows_referrals_and_activities() {
    let env = Env::new();
    env.ok(&["intervention", "add", "A", "--name", "A"]);
    env.ok(&[
        "intervention",
        "add",
        "K",
        "--name",
        "K",
        "--kind",
        "structural",
    ]);
    let today = chrono::Local::now().date_naive();
    let d = |days: i64| (today - chrono::Duration::days(days)).to_string();
    // K registers only activities: recent ones keep it off the idle list.
    env.ok(&[
        "activity",
        "add",
        "--intervention",
        "K",
        "--date",
        &d(10),
        "--kind",
        "network",
        "--women",
        "3",
    ]);
    let e = id(&env.ok(&[
        "start",
        "--intervention",
        "A",
        "--date",
        &d(20),
        "--anonymous",
        "--gender",
        "K",
        "--support",
        "wage",
        "--education",
        "upper_secondary",
    ]));
    let r = id(&env.ok(&[
        "referral",
        "add",
        "--intervention",
        "A",
        "--date",
        &d(20),
        "--gender",
        "K",
    ]));
    env.ok(&[
        "referral",
        "decide",
        &r,
        "--decision",
        "started",
        "--date",
        &d(20),
        "--enrolment",
        &e,
    ]);
    let list = env.ok(&["check", "--quality", "--lang", "en"]);
    assert!(list.contains("(intervention_idle_6_months): 0"), "{list}");
    assert!(list.contains("(start_in_future): 0"), "{list}");
    // An edit moves the start before the referral: listed.
    env.ok(&["edit", &e, "--start-date", &d(25)]);
    let list = env.ok(&["check", "--quality", "--lang", "en"]);
    let line = list
        .lines()
        .find(|l| l.contains(&e[..8]) && l.contains("referral"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(line.contains(&d(20)), "{line}");
}

#[test]
fn a_started_referral_keeps_its_start_in_its_intervention() {
    let env = Env::new();
    for code in ["A", "B"] {
        env.ok(&["intervention", "add", code, "--name", code]);
    }
    let e = id(&env.ok(&[
        "start",
        "--intervention",
        "A",
        "--date",
        "2025-05-02",
        "--anonymous",
        "--gender",
        "K",
    ]));
    let r = id(&env.ok(&[
        "referral",
        "add",
        "--intervention",
        "A",
        "--date",
        "2025-05-01",
        "--gender",
        "K",
    ]));
    env.ok(&[
        "referral",
        "decide",
        &r,
        "--decision",
        "started",
        "--date",
        "2025-05-02",
        "--enrolment",
        &e,
    ]);
    // The wait follows a corrected start date (the referral keeps a copy
    // of it, by trigger).
    assert_eq!(
        json_report(&env, &["--year", "2025"])["waiting"]["median_days"],
        1.0
    );
    env.ok(&["edit", &e, "--start-date", "2025-05-11"]);
    assert_eq!(
        json_report(&env, &["--year", "2025"])["waiting"]["median_days"],
        10.0
    );
    let before = env.dump();
    let err = env.fails(&["edit", &e, "--intervention", "B"], 2);
    assert!(err.contains("it is the start of referral"), "{err}");
    assert_eq!(env.dump(), before);
    // Deleting the start makes the referral undecided again, and says so
    // in the trail.
    env.ok(&["delete", &e]);
    let log = env.ok(&["log", "--limit", "3"]);
    assert!(
        log.contains("referral undecide") && log.contains(&r[..8]),
        "{log}"
    );
}

#[test]
fn cost_covers_whole_years_and_a_parent_with_its_children() {
    let env = Env::new();
    env.ok(&["intervention", "add", "P", "--name", "P"]);
    env.ok(&["intervention", "add", "C", "--name", "C", "--parent", "P"]);
    let start = |iv: &str, date: &str| {
        id(&env.ok(&[
            "start",
            "--intervention",
            iv,
            "--date",
            date,
            "--anonymous",
            "--gender",
            "K",
        ]))
    };
    start("P", "2025-02-01");
    for day in ["2025-03-01", "2025-03-02", "2025-03-03"] {
        start("C", day);
    }
    let early = start("C", "2024-08-01");
    env.ok(&[
        "exit",
        "--id",
        &early,
        "--date",
        "2024-09-01",
        "--outcome",
        "work",
    ]);
    env.ok(&[
        "budget",
        "set",
        "--intervention",
        "P",
        "--year",
        "2025",
        "--budget",
        "800000",
        "--actual",
        "800000",
    ]);
    // P includes C: 4 participants in 2025, 200 000 each.
    let r = json_report(&env, &["--year", "2025"]);
    let p = &r["cost"][0];
    assert_eq!(
        (&p["intervention"], &p["participants"]),
        (&"P".into(), &4.into())
    );
    assert_eq!(p["per_participant"], 200_000);
    // 18 months are not whole years: no cost, rather than 2025's money
    // over 18 months' participants and exits.
    let r = json_report(&env, &["--from", "2024-07-01", "--to", "2025-12-31"]);
    assert!(r.get("cost").is_none(), "{}", r["cost"]);
    // Two whole years: both years' lines, the participants of both.
    env.ok(&[
        "budget",
        "set",
        "--intervention",
        "P",
        "--year",
        "2024",
        "--budget",
        "100000",
        "--actual",
        "100000",
    ]);
    let r = json_report(&env, &["--from", "2024-01-01", "--to", "2025-12-31"]);
    let p = &r["cost"][0];
    assert_eq!(
        (
            &p["budget"],
            &p["participants"],
            &p["exits_work_or_studies"]
        ),
        (&900_000.into(), &5.into(), &1.into())
    );
    assert_eq!(p["per_exit"], 900_000);
}

#[test]
fn four_occasions_of_one_each_do_not_give_the_attendees_away() {
    let env = Env::new();
    env.ok(&[
        "intervention",
        "add",
        "K",
        "--name",
        "K",
        "--kind",
        "structural",
    ]);
    for day in ["2025-03-01", "2025-04-01", "2025-05-01", "2025-06-01"] {
        env.ok(&[
            "activity",
            "add",
            "--intervention",
            "K",
            "--date",
            day,
            "--kind",
            "seminar",
            "--women",
            "1",
        ]);
    }
    let plain = json_report(&env, &["--year", "2025"]);
    let hidden = json_report(&env, &["--year", "2025", "--suppress-below", "5"]);
    // Four occasions, each with at least one attendee, and fewer than 5
    // attendees: shown occasions would pin the hidden attendees at 4, so
    // they go too.
    assert_eq!(table(&plain, "activities")["total"][0], 4);
    let leaks = attacker::determined(&hidden, &plain, 5);
    assert!(
        leaks.is_empty(),
        "{leaks:?}\n{}",
        table(&hidden, "activities")
    );
}

#[test]
fn a_report_published_before_section_13_shows_no_false_differences() {
    use sustrack::report::{Options, Period};
    let f = fixture();
    let conn = rusqlite::Connection::open(&f.env.db).unwrap();
    let now = sustrack::report::build(&conn, &Options::new(Period::year(2025).unwrap())).unwrap();
    // As an older sustrack stored it: none of section 13's figures.
    let mut old: sustrack::report::Report = serde_json::from_value({
        let mut v = serde_json::to_value(&now).unwrap();
        let o = v.as_object_mut().unwrap();
        for k in ["reach", "waiting", "cost", "beyond"] {
            o.remove(k);
        }
        v
    })
    .unwrap();
    old.tables
        .retain(|t| !t.id.starts_with("referrals") && t.id != "activities");
    assert!(!old.beyond && old.reach.is_none());
    assert!(sustrack::rights::publish::differences(&old, &now).is_empty());
    // A publication with them is compared figure by figure.
    let mut changed = now.clone();
    changed.reach.as_mut().unwrap().total = Some(1);
    let d = sustrack::rights::publish::differences(&changed, &now);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].key, "reach/total");
}
