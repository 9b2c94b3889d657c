//! The figures of SPEC section 12 against hand-computed expectations on a
//! small fixture with the boundaries: exits on day 30 and 31 (early exits),
//! a parent with two levels of children (subtotals), a person in two
//! interventions of one subtree, targets that change with the year (and a
//! period across years), a förbund-defined indicator, indicators by gender,
//! mean and median time, and comparison periods with and without data.
//! Then the same through the real binary, bad input included.

mod common;

use chrono::NaiveDate;
use sustrack::actor::Actor;
use sustrack::codes::*;
use sustrack::identity::{KdfProfile, Personnummer};
use sustrack::model::{ExitFacts, Intervention, StartFacts};
use sustrack::register::{self, ExitInput, ExitTarget, Participant, Person, StartInput};
use sustrack::report::{self, goals, Options, Period, Report};
use sustrack::store::Memory as Db;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    d("2026-11-23")
}

fn owner() -> Actor {
    Actor::owner("t")
}

fn add(db: &Db, code: &str, parent: Option<&str>, target: Option<f64>) {
    register::intervention_add(
        &db.conn,
        &owner(),
        Intervention {
            code: code.into(),
            name: format!("Insats {code}"),
            parent: parent.map(Into::into),
            kind: InterventionKind::Individual,
            target_work_studies: target,
            target_step: None,
            target_qol: None,
        },
    )
    .unwrap();
}

fn person(db: &Db, ymd: &str, serial: u32) -> Participant {
    let p = Personnummer::parse(&common::pnr(ymd, serial), today()).unwrap();
    Participant::Person(Person::identify(&p, &db.kdf, true, today()).unwrap())
}

fn start(db: &Db, iv: &str, who: Participant, date: &str, facts: StartFacts) -> String {
    let input = StartInput {
        intervention: iv.into(),
        participant: who,
        date: d(date),
        facts,
    };
    register::start(&db.conn, &owner(), today(), input)
        .unwrap()
        .id
}

fn exit(db: &Db, id: &str, date: &str, outcome: Outcome) {
    let input = ExitInput {
        date: d(date),
        outcome,
        after: ExitFacts::default(),
    };
    register::exit(
        &db.conn,
        &owner(),
        today(),
        &ExitTarget::Id(id.into()),
        input,
    )
    .unwrap();
}

/// ESF (standing target 50 %) has ESF-A below it and ESF-A1 below that;
/// SOLO stands alone (standing 30 %). Persons: p1 woman, p2 man (in ESF-A
/// and ESF-A1), p3 woman, p4 woman, p5 man, p6 woman.
///
/// - E1 ESF, p1: 2021-01-10 to 2021-02-09 (day 30: early), work; 0–1 years in support.
/// - E2 ESF-A, p2: 2021-01-10 to 2021-02-10 (day 31: not early), job seeking.
/// - E3 ESF-A1, p3: 2020-06-01 to 2021-06-01 (365 days), studies.
/// - E4 ESF-A1, p2: from 2021-03-01, open.
/// - E5 SOLO, p4: 2021-05-01 to 2021-05-15 (14 days: early), dropout.
/// - E6 SOLO, p5: 2020-03-01 to 2020-09-01 (184 days), work.
/// - E7 ESF, p6: 2022-01-10 to 2022-03-01 (50 days), work.
///
/// Targets: ESF 40 % for 2021 (its standing 50 % otherwise); the förbund's
/// total 30 % for 2021 and 60 % for 2022. Indicator `wsj`: work, studies or
/// job seeking.
fn fixture() -> Db {
    let db = Db::open(KdfProfile::Test).unwrap();
    add(&db, "ESF", None, Some(0.5));
    add(&db, "ESF-A", Some("ESF"), None);
    add(&db, "ESF-A1", Some("ESF-A"), None);
    add(&db, "SOLO", None, Some(0.3));
    let p2 = || person(&db, "19850101", 131);
    let e1 = start(
        &db,
        "ESF",
        person(&db, "19900101", 242),
        "2021-01-10",
        StartFacts {
            years_in_support: Some(YearsInSupport::UpTo1),
            ..StartFacts::default()
        },
    );
    exit(&db, &e1, "2021-02-09", Outcome::Work);
    let e2 = start(&db, "ESF-A", p2(), "2021-01-10", StartFacts::default());
    exit(&db, &e2, "2021-02-10", Outcome::JobSeeking);
    let e3 = start(
        &db,
        "ESF-A1",
        person(&db, "19800101", 242),
        "2020-06-01",
        StartFacts::default(),
    );
    exit(&db, &e3, "2021-06-01", Outcome::Studies);
    start(&db, "ESF-A1", p2(), "2021-03-01", StartFacts::default());
    let e5 = start(
        &db,
        "SOLO",
        person(&db, "19700101", 242),
        "2021-05-01",
        StartFacts::default(),
    );
    exit(&db, &e5, "2021-05-15", Outcome::Dropout);
    let e6 = start(
        &db,
        "SOLO",
        person(&db, "19600101", 131),
        "2020-03-01",
        StartFacts::default(),
    );
    exit(&db, &e6, "2020-09-01", Outcome::Work);
    let e7 = start(
        &db,
        "ESF",
        person(&db, "19950101", 242),
        "2022-01-10",
        StartFacts::default(),
    );
    exit(&db, &e7, "2022-03-01", Outcome::Work);
    let wos = |p: f64| vec![("work_or_studies".to_string(), p)];
    goals::target_set(&db.conn, &owner(), Some("ESF"), 2021, &wos(0.4)).unwrap();
    goals::target_set(&db.conn, &owner(), None, 2021, &wos(0.3)).unwrap();
    goals::target_set(&db.conn, &owner(), None, 2022, &wos(0.6)).unwrap();
    goals::indicator_add(
        &db.conn,
        &owner(),
        "wsj",
        "work,studies,job_seeking",
        "till arbete, studier eller arbetssökande",
        "to work, studies or job seeking",
        None,
    )
    .unwrap();
    db
}

fn report_of(db: &Db, period: Period, tweak: impl FnOnce(&mut Options)) -> Report {
    let mut opts = Options::new(period);
    tweak(&mut opts);
    report::build(&db.conn, &opts).unwrap()
}

fn year(y: i32) -> Period {
    Period::year(y).unwrap()
}

/// `(key, depth, values)` of every row (a subtotal as `KEY+`), then the total.
fn rows(r: &Report, id: &str) -> Vec<(String, u8, Vec<u64>)> {
    let t = r.table(id).unwrap();
    let mut out: Vec<_> = t
        .rows
        .iter()
        .map(|row| {
            let key = match row.subtotal {
                Some(_) => format!("{}+", row.key),
                None => row.key.clone(),
            };
            (
                key,
                row.depth,
                row.values.iter().map(|v| v.unwrap()).collect(),
            )
        })
        .collect();
    out.push((
        "total".into(),
        0,
        t.total.iter().map(|v| v.unwrap()).collect(),
    ));
    out
}

fn expect(r: &Report, id: &str, want: &[(&str, u8, &[u64])]) {
    let want: Vec<(String, u8, Vec<u64>)> = want
        .iter()
        .map(|(k, depth, v)| (k.to_string(), *depth, v.to_vec()))
        .collect();
    assert_eq!(rows(r, id), want, "table {id}");
}

#[test]
fn participation_has_subtotals_at_two_levels_and_the_new_columns() {
    let r = report_of(&fixture(), year(2021), |_| {});
    // Active, new, exited, active at the end, exited within 30 days, persons.
    expect(
        &r,
        "participation",
        &[
            ("ESF", 0, &[1, 1, 1, 0, 1, 1]),
            ("ESF-A", 1, &[1, 1, 1, 0, 0, 1]),
            ("ESF-A1", 2, &[2, 1, 1, 1, 0, 2]),
            // ESF-A and ESF-A1: p2 is in both, so 2 persons.
            ("ESF-A+", 1, &[3, 2, 2, 1, 0, 2]),
            ("ESF+", 0, &[4, 3, 3, 1, 1, 3]),
            ("SOLO", 0, &[1, 1, 1, 0, 1, 1]),
            ("total", 0, &[5, 4, 4, 1, 2, 4]),
        ],
    );
    let t = r.table("participation").unwrap();
    assert_eq!(
        t.subtotal("ESF").unwrap().subtotal.as_deref().unwrap(),
        ["ESF", "ESF-A", "ESF-A1"]
    );
    expect(
        &r,
        "intervention_gender",
        &[
            ("ESF", 0, &[1, 0, 1]),
            ("ESF-A", 1, &[0, 1, 1]),
            ("ESF-A1", 2, &[1, 1, 2]),
            ("ESF-A+", 1, &[1, 2, 3]),
            ("ESF+", 0, &[2, 2, 4]),
            ("SOLO", 0, &[1, 0, 1]),
            ("total", 0, &[3, 2, 5]),
        ],
    );
    // New in 2021: E1 (0-1 years), E2, E4, E5 (not given).
    let t = r.table("years_in_support_new").unwrap();
    let row = |k: &str| t.row(k).unwrap().values.clone();
    assert_eq!(row("0-1"), [Some(1), Some(0), Some(1)]);
    assert_eq!(row("unknown"), [Some(1), Some(2), Some(3)]);
    assert_eq!(t.total, [Some(2), Some(2), Some(4)]);
}

fn counts(r: &Report, id: &str, iv: Option<&str>, g: Option<&str>, sub: bool) -> (u64, u64) {
    let i = r
        .indicator(id, iv, g, sub)
        .unwrap_or_else(|| panic!("no indicator {id} {iv:?} {g:?} {sub}"));
    (i.numerator.unwrap(), i.denominator.unwrap())
}

#[test]
fn indicators_by_gender_with_subtotals_targets_and_an_own_indicator() {
    let r = report_of(&fixture(), year(2021), |_| {});
    let w = Some("woman");
    let m = Some("man");
    let wos = "work_or_studies";
    // (intervention, subtotal, both, women, men)
    for (iv, sub, all, women, men) in [
        (Some("ESF"), false, (1, 1), (1, 1), (0, 0)),
        (Some("ESF-A"), false, (0, 1), (0, 0), (0, 1)),
        (Some("ESF-A1"), false, (1, 1), (1, 1), (0, 0)),
        (Some("ESF-A"), true, (1, 2), (1, 1), (0, 1)),
        (Some("ESF"), true, (2, 3), (2, 2), (0, 1)),
        (Some("SOLO"), false, (0, 1), (0, 1), (0, 0)),
        (None, false, (2, 4), (2, 3), (0, 1)),
    ] {
        assert_eq!(counts(&r, wos, iv, None, sub), all, "{iv:?} {sub}");
        assert_eq!(counts(&r, wos, iv, w, sub), women, "{iv:?} {sub} women");
        assert_eq!(counts(&r, wos, iv, m, sub), men, "{iv:?} {sub} men");
    }
    // Targets of 2021: ESF's year target overrides its standing one and is
    // inherited by ESF-A and ESF-A1; SOLO keeps its standing one; the
    // total has the förbund's own.
    let target = |iv: Option<&str>, sub: bool| r.indicator(wos, iv, None, sub).unwrap().target;
    assert_eq!(target(Some("ESF"), false), Some(0.4));
    assert_eq!(target(Some("ESF-A1"), false), Some(0.4));
    assert_eq!(target(Some("ESF"), true), Some(0.4));
    assert_eq!(target(Some("SOLO"), false), Some(0.3));
    let total = r.indicator(wos, None, None, false).unwrap();
    assert_eq!(
        (total.target, total.met, total.phrase.as_deref()),
        (Some(0.3), Some(true), Some("5 av 10"))
    );
    // Women: 2 of 3, 6.67: "knappt 7 av 10", also against the total's target.
    let women = r.indicator(wos, None, w, false).unwrap();
    assert_eq!(
        (women.phrase.as_deref(), women.target, women.met),
        (Some("knappt 7 av 10"), Some(0.3), Some(true))
    );
    // The förbund's own: work, studies or job seeking.
    assert_eq!(counts(&r, "wsj", None, None, false), (3, 4));
    assert_eq!(counts(&r, "wsj", None, w, false), (2, 3));
    assert_eq!(counts(&r, "wsj", None, m, false), (1, 1));
    assert_eq!(counts(&r, "wsj", Some("ESF"), None, true), (3, 3));
    let own = r.indicator("wsj", None, None, false).unwrap();
    assert_eq!(
        (own.name.as_str(), own.phrase.as_deref(), own.target),
        (
            "till arbete, studier eller arbetssökande",
            Some("knappt 8 av 10"),
            None
        )
    );
    // Lines without exits have no indicator rows.
    assert!(r.indicator(wos, Some("ESF-A1"), None, true).is_none());
}

#[test]
fn targets_follow_the_year_and_a_period_across_years_uses_its_last() {
    let db = fixture();
    let wos = "work_or_studies";
    // 2022: ESF has no year target, so its standing 50 %; the total 60 %.
    let r = report_of(&db, year(2022), |_| {});
    assert_eq!(
        r.indicator(wos, Some("ESF"), None, false).unwrap().target,
        Some(0.5)
    );
    assert_eq!(
        r.indicator(wos, None, None, false).unwrap().target,
        Some(0.6)
    );
    let across = report_of(
        &db,
        Period::new(d("2021-07-01"), d("2022-06-30")).unwrap(),
        |_| {},
    );
    assert_eq!(
        across
            .indicator(wos, Some("ESF"), None, false)
            .unwrap()
            .target,
        Some(0.5)
    );
    assert_eq!(
        across.indicator(wos, None, None, false).unwrap().target,
        Some(0.6)
    );
    // 2020: no year targets at all: the standing ones, and for the total
    // none (SOLO's 30 % is the only contributor's, so it is shared).
    let r = report_of(&db, year(2020), |_| {});
    assert_eq!(
        r.indicator(wos, None, None, false).unwrap().target,
        Some(0.3)
    );
    // Replacing a year's target changes only that year.
    goals::target_set(&db.conn, &owner(), None, 2021, &[(wos.into(), 0.45)]).unwrap();
    let r = report_of(&db, year(2021), |_| {});
    assert_eq!(
        r.indicator(wos, None, None, false).unwrap().target,
        Some(0.45)
    );
    let r = report_of(&db, year(2022), |_| {});
    assert_eq!(
        r.indicator(wos, None, None, false).unwrap().target,
        Some(0.6)
    );
}

#[test]
fn mean_and_median_time_in_intervention() {
    let r = report_of(&fixture(), year(2021), |_| {});
    let time = |iv: Option<&str>, sub: bool| {
        let t = r
            .durations
            .iter()
            .find(|x| x.intervention.as_deref() == iv && x.subtotal == sub)
            .unwrap();
        (
            t.exited.unwrap(),
            t.mean_days.unwrap(),
            t.median_days.unwrap(),
        )
    };
    assert_eq!(time(Some("ESF"), false), (1, 30.0, 30.0));
    assert_eq!(time(Some("ESF-A"), true), (2, 198.0, 198.0)); // 31, 365
    assert_eq!(time(Some("ESF"), true), (3, 142.0, 31.0)); // 30, 31, 365
    assert_eq!(time(Some("SOLO"), false), (1, 14.0, 14.0));
    assert_eq!(time(None, false), (4, 110.0, 30.5)); // 14, 30, 31, 365
    let json = report::render::json::to_value(&r);
    let total = json["durations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["intervention"].is_null())
        .unwrap();
    assert_eq!(total["mean_weeks"], 15.7); // 110 / 7
    assert_eq!(total["median_weeks"], 4.4); // 30.5 / 7
    assert_eq!(total["mean_months"], 3.6); // 110 / 30.4375
    let text = String::from_utf8(report::render::render(&r, report::render::Format::Text).unwrap())
        .unwrap();
    assert!(
        text.contains("Tid i insats (avslutade under perioden)"),
        "{text}"
    );
}

#[test]
fn a_comparison_year_carries_every_figure_and_one_without_data_is_zero() {
    let db = fixture();
    let r = report_of(&db, year(2021), |o| o.compare = Some(year(2020)));
    let t = r.table("participation").unwrap();
    let cmp = |key: &str| -> Vec<u64> {
        t.row(key)
            .unwrap()
            .compare
            .as_ref()
            .unwrap()
            .iter()
            .map(|v| v.unwrap())
            .collect()
    };
    // 2020: E3 in ESF-A1 (still active at the end), E6 in SOLO (exited).
    assert_eq!(cmp("ESF"), [0, 0, 0, 0, 0, 0]);
    assert_eq!(cmp("ESF-A1"), [1, 1, 0, 1, 0, 1]);
    assert_eq!(cmp("SOLO"), [1, 1, 1, 0, 0, 1]);
    assert_eq!(
        t.compare_total.as_deref().unwrap(),
        [2, 2, 1, 1, 0, 2].map(Some)
    );
    let solo = r
        .indicator("work_or_studies", Some("SOLO"), None, false)
        .unwrap();
    let then = solo.compare.as_deref().unwrap();
    assert_eq!((then.numerator, then.denominator), (Some(1), Some(1)));
    let text = String::from_utf8(report::render::render(&r, report::render::Format::Text).unwrap())
        .unwrap();
    assert!(text.contains("Aktiva jmf 2020"), "{text}");

    // 2019 has no data: every comparison figure is zero, every share none.
    let r = report_of(&db, year(2021), |o| o.compare = Some(year(2019)));
    for t in &r.tables {
        for row in &t.rows {
            assert!(
                row.compare.as_ref().unwrap().iter().all(|v| *v == Some(0)),
                "{} {}",
                t.id,
                row.key
            );
        }
        assert!(t
            .compare_total
            .as_ref()
            .unwrap()
            .iter()
            .all(|v| *v == Some(0)));
    }
    for i in &r.indicators {
        let c = i.compare.as_deref().unwrap();
        assert_eq!(
            (c.numerator, c.denominator, c.share),
            (Some(0), Some(0), None)
        );
    }
    for t in &r.durations {
        let c = t.compare.as_deref().unwrap();
        assert_eq!((c.exited, c.mean_days), (Some(0), None));
    }
}

#[test]
fn suppression_hides_times_and_indicators_whose_counts_it_hides() {
    let r = report_of(&fixture(), year(2021), |o| o.suppress_below = Some(3));
    for t in &r.durations {
        if t.exited.is_none() {
            assert!(t.too_few && t.mean_days.is_none() && t.median_days.is_none());
        }
    }
    // Every exit count of this small register is 1 or 2: all hidden.
    assert!(r.durations.iter().all(|t| t.too_few), "{:?}", r.durations);
    let i = r.indicator("wsj", None, Some("man"), false).unwrap();
    assert!(i.too_few && i.phrase.is_none() && i.numerator.is_none());
}

// Through the real binary.

fn env_with_data() -> common::Env {
    let env = common::Env::new();
    for (code, parent) in [("ESF", None), ("ESF-A", Some("ESF")), ("SOLO", None)] {
        let mut args = vec!["intervention", "add", code, "--name", code];
        if let Some(p) = parent {
            args.extend(["--parent", p]);
        }
        env.ok(&args);
    }
    env
}

#[test]
fn targets_and_indicators_through_the_cli() {
    let env = env_with_data();
    let out = env.ok(&[
        "target",
        "set",
        "--year",
        "2021",
        "--work-or-studies",
        "40",
        "--step",
        "55",
    ]);
    assert!(
        out.contains("set 2 target(s) for the förbund's total, 2021"),
        "{out}"
    );
    env.ok(&[
        "target",
        "set",
        "--intervention",
        "esf",
        "--year",
        "2021",
        "--qol",
        "60 %",
    ]);
    env.ok(&[
        "indicator",
        "add",
        "wsj",
        "--outcomes",
        "work,studies,job_seeking",
        "--label-sv",
        "till arbete, studier eller arbetssökande",
        "--label-en",
        "to work, studies or job seeking",
        "--target",
        "50",
    ]);
    env.ok(&["target", "set", "--year", "2022", "--indicator", "wsj=55"]);
    let list = env.ok(&["target", "list"]);
    for line in [
        "2021  (total)       step_progress    55.0 %",
        "2021  (total)       work_or_studies  40.0 %",
        "2021  ESF           quality_of_life  60.0 %",
        "2022  (total)       wsj              55.0 %",
    ] {
        assert!(list.contains(line), "{line}\n{list}");
    }
    let list = env.ok(&["indicator", "list"]);
    assert!(list.contains("wsj  work,studies,job_seeking"), "{list}");
    let log = env.ok(&["log"]);
    assert!(
        log.contains("target set") && log.contains("indicator add"),
        "{log}"
    );
}

#[test]
fn bad_targets_and_indicators_are_refused_by_name_and_change_nothing() {
    let env = env_with_data();
    env.ok(&[
        "indicator",
        "add",
        "wsj",
        "--outcomes",
        "work",
        "--label-sv",
        "a",
        "--label-en",
        "b",
    ]);
    let before = env.dump();
    for (args, said) in [
        (
            vec!["target", "set", "--year", "2021", "--intervention", "NOPE", "--step", "5"],
            "NOPE",
        ),
        (
            vec!["target", "set", "--year", "12345", "--step", "5"],
            "--year 12345 is out of range",
        ),
        (
            vec!["target", "set", "--year", "2021", "--work-or-studies", "140"],
            "--work-or-studies '140' is not a target: expected a percentage from 0 to 100",
        ),
        (
            vec!["target", "set", "--year", "2021"],
            "no target given: give --work-or-studies, --step, --qol or --indicator ID=PCT",
        ),
        (
            vec!["target", "set", "--year", "2021", "--indicator", "nope=5"],
            "--indicator 'nope' is not an indicator: known are work_or_studies, step_progress, quality_of_life, wsj",
        ),
        (
            vec!["target", "set", "--year", "2021", "--indicator", "wsj"],
            "'wsj' is not ID=PCT",
        ),
        (
            vec!["indicator", "add", "Bad-Id", "--outcomes", "work", "--label-sv", "a", "--label-en", "b"],
            "ID 'Bad-Id' is not an indicator id",
        ),
        (
            vec!["indicator", "add", "x", "--outcomes", "work,holiday", "--label-sv", "a", "--label-en", "b"],
            "--outcomes 'holiday' is not an exit outcome: accepted are work, studies",
        ),
        (
            vec!["indicator", "add", "wsj", "--outcomes", "work", "--label-sv", "a", "--label-en", "b"],
            "indicator 'wsj' already exists",
        ),
        (
            vec!["indicator", "add", "work_or_studies", "--outcomes", "work", "--label-sv", "a", "--label-en", "b"],
            "is a standard indicator",
        ),
        (
            vec!["indicator", "add", "y", "--outcomes", "work", "--label-sv", " ", "--label-en", "b"],
            "--label-sv is empty or too long",
        ),
        (
            vec!["report", "--year", "2021", "--compare", "20"],
            "--compare 20 is not a year: expected a four-digit year, e.g. 2020",
        ),
        (
            vec!["report", "--year", "2021", "--compare-from", "2020-01-01", "--compare-to", "2019-01-01"],
            "--compare-to 2019-01-01 is before --compare-from 2020-01-01",
        ),
    ] {
        let err = env.fails(&args, 2);
        assert!(err.contains(said), "{args:?}: {err}");
    }
    assert_eq!(env.dump(), before, "a refused command wrote something");
}

#[test]
fn report_compare_through_the_binary_in_json() {
    let env = env_with_data();
    let p = common::pnr("19900101", 242);
    env.ok(&[
        "start",
        "--intervention",
        "ESF-A",
        "--pnr",
        &p,
        "--consent",
        "--date",
        "2020-05-01",
    ]);
    env.ok(&[
        "exit",
        "--intervention",
        "ESF-A",
        "--pnr",
        &p,
        "--date",
        "2021-03-01",
        "--outcome",
        "work",
    ]);
    let out = env.ok(&[
        "report",
        "--year",
        "2021",
        "--compare",
        "2020",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["compare_period"]["from"], "2020-01-01");
    let part = common::json_table(&v, "participation");
    let sub = part["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "ESF" && r["subtotal"] == true)
        .unwrap();
    assert_eq!(sub["values"], serde_json::json!([1, 0, 1, 0, 0, 1]));
    assert_eq!(sub["compare"], serde_json::json!([1, 1, 0, 1, 0, 1]));
    assert_eq!(sub["members"], serde_json::json!(["ESF", "ESF-A"]));
    assert!(!out.contains(&p), "no personnummer in a report");
}
