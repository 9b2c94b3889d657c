//! Report tables and indicators against hand-computed expectations
//! (SPEC section 6), including the boundaries: start on the last day of
//! the period, exit on the first, exit the day after, exactly 30/31/61 days,
//! ages on band edges, a person in two interventions, a re-enrolment, an
//! anonymous participant and a child intervention.

mod common;

use chrono::NaiveDate;
use sustrack::actor::Actor;
use sustrack::codes::*;
use sustrack::identity::{KdfProfile, Personnummer};
use sustrack::model::{ExitFacts, Intervention, StartFacts};
use sustrack::register::{self, ExitInput, ExitTarget, Participant, Person, StartInput};
use sustrack::report::{self, Options, Period, Report};
use sustrack::store::{Memory as Db, Store};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn today() -> NaiveDate {
    d("2026-11-23")
}

fn add(db: &Db, code: &str, parent: Option<&str>, target: Option<f64>) {
    register::intervention_add(
        &db.conn,
        &Actor::owner("t"),
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

fn person(db: &Db, p: &str) -> Participant {
    let p = Personnummer::parse(p, today()).unwrap();
    Participant::Person(Person::identify(&p, &db.kdf, true, today()).unwrap())
}

struct Fixture {
    db: Db,
}

impl Fixture {
    fn start(&self, iv: &str, who: Participant, date: &str, facts: StartFacts) -> String {
        let input = StartInput {
            intervention: iv.into(),
            participant: who,
            date: d(date),
            facts,
        };
        register::start(&self.db.conn, &Actor::owner("t"), today(), input)
            .unwrap()
            .id
    }

    fn exit(&self, id: &str, date: &str, outcome: Outcome, after: ExitFacts) {
        let input = ExitInput {
            date: d(date),
            outcome,
            after,
        };
        register::exit(
            &self.db.conn,
            &Actor::owner("t"),
            today(),
            &ExitTarget::Id(id.into()),
            input,
        )
        .unwrap();
    }
}

fn facts(
    municipality: Option<&str>,
    support: Option<Support>,
    referrer: Option<Referrer>,
) -> StartFacts {
    StartFacts {
        municipality: municipality.map(|m| sustrack::model::parse_municipality(m).unwrap()),
        support,
        referrer,
        ..StartFacts::default()
    }
}

fn after(
    support_after: Option<Support>,
    step: Option<StepProgress>,
    qol: Option<QualityOfLife>,
) -> ExitFacts {
    ExitFacts {
        support_after,
        step_progress: step,
        quality_of_life: qol,
    }
}

/// The fixture of the module comment. E1..E12 as in the comments.
fn fixture() -> Fixture {
    let db = Db::open(KdfProfile::Test).unwrap();
    add(&db, "A", None, Some(0.4));
    add(&db, "A1", Some("A"), None);
    add(&db, "B", None, None);
    let f = Fixture { db };
    let p = |ymd: &str, serial: u32| person(&f.db, &common::pnr(ymd, serial));
    let none = StartFacts::default;
    // E1: p1 woman 1990, A, starts on the last day of the period.
    let mut e1 = facts(Some("Vänersborg"), None, Some(Referrer::Af));
    e1.years_in_support = Some(YearsInSupport::UpTo1);
    e1.education = Some(Education::PostSecondary);
    f.start("A", p("19900101", 242), "2021-12-31", e1);
    // E2: p2 man 1992, A, exits on the first day of the period (214 days: 8 months).
    let e2 = f.start(
        "A",
        p("19920101", 131),
        "2020-06-01",
        facts(Some("Åmål"), Some(Support::SocialAssistance), None),
    );
    f.exit(
        &e2,
        "2021-01-01",
        Outcome::Work,
        after(Some(Support::Wage), None, None),
    );
    // E3: p3 woman 1991, A, exits the day after the period.
    let e3 = f.start(
        "A",
        p("19910101", 242),
        "2021-03-01",
        facts(None, None, Some(Referrer::Fk)),
    );
    f.exit(&e3, "2022-01-01", Outcome::Other, ExitFacts::default());
    // E4: p4 man 1976 in B, exactly 30 days (1 month); age 45 on the band edge.
    let p4 = "19760101";
    let e4 = f.start(
        "B",
        p(p4, 131),
        "2021-01-01",
        facts(None, Some(Support::SicknessBenefit), None),
    );
    f.exit(
        &e4,
        "2021-01-31",
        Outcome::Studies,
        after(
            Some(Support::StudentFinance),
            Some(StepProgress::Yes),
            Some(QualityOfLife::Improved),
        ),
    );
    // E5: p4 again, in the child intervention A1: a person in two interventions. 30 days.
    let e5 = f.start("A1", p(p4, 131), "2021-02-01", none());
    f.exit(
        &e5,
        "2021-03-03",
        Outcome::JobSeeking,
        after(None, Some(StepProgress::Unknown), None),
    );
    // E6: p5 woman 2006 (age 15, band edge), B, exactly 31 days (2 months).
    let p5 = "20060101";
    let e6 = f.start(
        "B",
        p(p5, 242),
        "2021-01-01",
        facts(None, Some(Support::SocialAssistance), None),
    );
    f.exit(
        &e6,
        "2021-02-01",
        Outcome::Dropout,
        after(
            Some(Support::SocialAssistance),
            Some(StepProgress::No),
            None,
        ),
    );
    // E7: p5 re-enrolled in B, exactly 61 days (3 months).
    let e7 = f.start(
        "B",
        p(p5, 242),
        "2021-03-01",
        facts(None, Some(Support::SocialAssistance), None),
    );
    f.exit(
        &e7,
        "2021-05-01",
        Outcome::Work,
        after(Some(Support::Wage), None, Some(QualityOfLife::Unchanged)),
    );
    // E8: an anonymous woman without birth year in A1.
    let anon = Participant::Anonymous {
        gender: Gender::Woman,
        birth_year: None,
        local_id: None,
    };
    f.start("A1", anon, "2021-06-01", none());
    // E9: p6 man 1945, B since 2019 (age 74 at start: last year of the top band).
    let mut e9 = facts(Some("Öckerö"), None, None);
    e9.years_in_support = Some(YearsInSupport::Over9);
    f.start("B", p("19450101", 131), "2019-01-01", e9);
    // E10: p9 man 1944, A1 since 2019 (age 75: outside the bands).
    f.start("A1", p("19440101", 131), "2019-05-05", none());
    // E11: p7 woman, A, exited the day before the period: not active.
    let e11 = f.start("A", p("19500101", 242), "2020-01-01", none());
    f.exit(&e11, "2020-12-31", Outcome::Work, ExitFacts::default());
    // E12: p8 man, A, starts the day after the period: not active.
    f.start("A", p("19600101", 131), "2022-01-01", none());
    f
}

fn report_2021(f: &Fixture, tweak: impl FnOnce(&mut Options)) -> Report {
    let mut opts = Options::new(Period::year(2021).unwrap());
    tweak(&mut opts);
    report::build(&f.db.conn, &opts).unwrap()
}

/// `(key, values)` of every row (a parent's subtotal as `KEY subtotal`),
/// then `("total", total)`.
fn rows(r: &Report, id: &str) -> Vec<(String, Vec<Option<u64>>)> {
    let t = r.table(id).unwrap_or_else(|| panic!("no table {id}"));
    let mut out: Vec<_> = t
        .rows
        .iter()
        .map(|r| match r.subtotal {
            Some(_) => (format!("{} subtotal", r.key), r.values.clone()),
            None => (r.key.clone(), r.values.clone()),
        })
        .collect();
    out.push(("total".into(), t.total.clone()));
    out
}

fn expect(r: &Report, id: &str, want: &[(&str, &[u64])]) {
    let got = rows(r, id);
    let want: Vec<(String, Vec<Option<u64>>)> = want
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|&x| Some(x)).collect()))
        .collect();
    assert_eq!(got, want, "table {id}");
}

#[test]
fn participation_counts_active_new_exited_and_unique_persons() {
    let r = report_2021(&fixture(), |_| {});
    expect(
        &r,
        "participation",
        // Columns: active, new, exited, active at the end (carried over),
        // exited within 30 days of the start (E4 and E5 on day 30 are, E6
        // on day 31 is not), unique persons (p4 is in A1 and B).
        &[
            ("A", &[3, 2, 1, 2, 0, 3]),
            ("A1", &[3, 2, 1, 2, 1, 3]),
            ("A subtotal", &[6, 4, 2, 4, 1, 6]),
            ("B", &[4, 3, 3, 1, 1, 3]),
            ("total", &[10, 7, 5, 5, 2, 8]),
        ],
    );
    assert_eq!(r.interventions, vec!["A", "A1", "B"]);
}

#[test]
fn age_bands_with_edges_other_and_unknown() {
    let r = report_2021(&fixture(), |_| {});
    expect(
        &r,
        "age",
        &[
            ("15-29", &[2, 1, 3]),
            ("30-44", &[2, 0, 2]),
            ("45-59", &[0, 2, 2]),
            ("60-74", &[0, 1, 1]),
            ("other", &[0, 1, 1]),
            ("unknown", &[1, 0, 1]),
            ("total", &[5, 5, 10]),
        ],
    );
    let r = report_2021(&fixture(), |o| o.age_bands = vec![(15, 44), (45, 80)]);
    expect(
        &r,
        "age",
        &[
            ("15-44", &[4, 1, 5]),
            ("45-80", &[0, 4, 4]),
            ("unknown", &[1, 0, 1]),
            ("total", &[5, 5, 10]),
        ],
    );
}

#[test]
fn months_in_intervention_at_30_31_and_61_days() {
    let r = report_2021(&fixture(), |_| {});
    expect(
        &r,
        "months",
        &[
            ("1-6", &[2, 2, 4]),
            ("7-12", &[0, 1, 1]),
            ("total", &[2, 3, 5]),
        ],
    );
    let r = report_2021(&fixture(), |o| o.months_band = 1);
    expect(
        &r,
        "months",
        &[
            ("1-1", &[0, 2, 2]), // 30 days twice
            ("2-2", &[1, 0, 1]), // 31 days
            ("3-3", &[1, 0, 1]), // 61 days
            ("4-4", &[0, 0, 0]),
            ("5-5", &[0, 0, 0]),
            ("6-6", &[0, 0, 0]),
            ("7-7", &[0, 0, 0]),
            ("8-8", &[0, 1, 1]), // 214 days
            ("total", &[2, 3, 5]),
        ],
    );
}

#[test]
fn municipality_sorted_the_swedish_way_with_unknown_last() {
    let r = report_2021(&fixture(), |_| {});
    expect(
        &r,
        "municipality",
        &[
            ("1487", &[1, 0, 1]),
            ("1492", &[0, 1, 1]),
            ("1407", &[0, 1, 1]),
            ("unknown", &[4, 3, 7]),
            ("total", &[5, 5, 10]),
        ],
    );
    // Keyed by kommunkod, labelled and ordered by the official name (Öckerö,
    // 1407, comes last in Swedish order though first by code).
    let labels: Vec<&str> = r
        .table("municipality")
        .unwrap()
        .rows
        .iter()
        .map(|r| r.label.as_str())
        .collect();
    assert_eq!(labels, ["Vänersborg", "Åmål", "Öckerö", "Okänd"]);
}

#[test]
fn referrer_counts_new_enrolments_only() {
    let r = report_2021(&fixture(), |_| {});
    expect(
        &r,
        "referrer",
        &[
            ("af", &[1, 0, 1]),
            ("fk", &[1, 0, 1]),
            ("municipality", &[0, 0, 0]),
            ("region", &[0, 0, 0]),
            ("self", &[0, 0, 0]),
            ("other", &[0, 0, 0]),
            ("unknown", &[3, 2, 5]),
            ("total", &[5, 2, 7]),
        ],
    );
}

#[test]
fn years_in_support_with_shares() {
    let r = report_2021(&fixture(), |_| {});
    let t = r.table("years_in_support").unwrap();
    let first = &t.rows[0];
    assert_eq!(first.key, "0-1");
    assert_eq!(first.values, vec![Some(1), Some(0), Some(1)]);
    assert_eq!(
        first.shares.as_ref().unwrap(),
        &vec![Some(0.2), Some(0.0), Some(0.1)]
    );
    let unknown = t.rows.iter().find(|r| r.key == "unknown").unwrap();
    assert_eq!(unknown.values, vec![Some(4), Some(4), Some(8)]);
    assert_eq!(t.total, vec![Some(5), Some(5), Some(10)]);
}

#[test]
fn education_counts_missing_as_none_or_unknown() {
    let r = report_2021(&fixture(), |_| {});
    expect(
        &r,
        "education",
        &[
            ("none_or_unknown", &[4, 5, 9]),
            ("compulsory", &[0, 0, 0]),
            ("upper_secondary", &[0, 0, 0]),
            ("post_secondary", &[1, 0, 1]),
            ("total", &[5, 5, 10]),
        ],
    );
}

#[test]
fn outcome_and_support_before_and_after_count_exits_in_the_period() {
    let r = report_2021(&fixture(), |_| {});
    let outcome = rows(&r, "outcome");
    let get = |rows: &[(String, Vec<Option<u64>>)], k: &str| {
        rows.iter().find(|(key, _)| key == k).unwrap().1.clone()
    };
    assert_eq!(get(&outcome, "work"), vec![Some(1), Some(1), Some(2)]);
    assert_eq!(get(&outcome, "studies"), vec![Some(0), Some(1), Some(1)]);
    assert_eq!(
        get(&outcome, "job_seeking"),
        vec![Some(0), Some(1), Some(1)]
    );
    assert_eq!(get(&outcome, "dropout"), vec![Some(1), Some(0), Some(1)]);
    assert_eq!(get(&outcome, "other"), vec![Some(0), Some(0), Some(0)]); // E3 exits after the period
    assert_eq!(get(&outcome, "total"), vec![Some(2), Some(3), Some(5)]);

    let sba = rows(&r, "support_before_after");
    let s = |v: [u64; 6]| v.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    assert_eq!(get(&sba, "social_assistance"), s([2, 1, 3, 1, 0, 1]));
    assert_eq!(get(&sba, "sickness_benefit"), s([0, 1, 1, 0, 0, 0]));
    assert_eq!(get(&sba, "wage"), s([0, 0, 0, 1, 1, 2]));
    assert_eq!(get(&sba, "student_finance"), s([0, 0, 0, 0, 1, 1]));
    assert_eq!(get(&sba, "unknown"), s([0, 1, 1, 0, 1, 1]));
    assert_eq!(get(&sba, "total"), s([2, 3, 5, 2, 3, 5]));

    let t = r.table("support_transition").unwrap();
    assert_eq!(
        t.column_keys,
        vec![
            "sickness_benefit",
            "social_assistance",
            "wage",
            "student_finance",
            "unknown",
            "total"
        ]
    );
    let tr = rows(&r, "support_transition");
    let v = |x: [u64; 6]| x.iter().map(|&x| Some(x)).collect::<Vec<_>>();
    assert_eq!(get(&tr, "sickness_benefit"), v([0, 0, 0, 1, 0, 1]));
    assert_eq!(get(&tr, "social_assistance"), v([0, 1, 2, 0, 0, 3]));
    assert_eq!(get(&tr, "wage"), v([0, 0, 0, 0, 0, 0]));
    assert_eq!(get(&tr, "unknown"), v([0, 0, 0, 0, 1, 1]));
    assert_eq!(get(&tr, "total"), v([0, 1, 2, 1, 1, 5]));
}

#[test]
fn indicators_per_intervention_and_in_total() {
    let r = report_2021(&fixture(), |_| {});
    let ind = |id: &str, iv: Option<&str>| {
        r.indicators
            .iter()
            .find(|i| i.id == id && i.intervention.as_deref() == iv)
            .unwrap_or_else(|| panic!("{id} {iv:?}"))
            .clone()
    };
    let t = ind("work_or_studies", None);
    assert_eq!(
        (t.numerator, t.denominator, t.of_ten),
        (Some(3), Some(5), Some(6))
    );
    assert_eq!(t.phrase.as_deref(), Some("6 av 10"));
    assert_eq!(t.target, None, "A and B have different targets");
    let a = ind("work_or_studies", Some("A"));
    assert_eq!(
        (a.numerator, a.denominator, a.target, a.met),
        (Some(1), Some(1), Some(0.4), Some(true))
    );
    let a1 = ind("work_or_studies", Some("A1"));
    assert_eq!(
        (a1.numerator, a1.denominator, a1.target, a1.met),
        (Some(0), Some(1), Some(0.4), Some(false)),
        "A1 inherits A's target"
    );
    let b = ind("work_or_studies", Some("B"));
    assert_eq!((b.numerator, b.denominator), (Some(2), Some(3)));
    assert_eq!(b.phrase.as_deref(), Some("knappt 7 av 10"));
    // Unknown and missing answers are left out of the denominator.
    let s = ind("step_progress", None);
    assert_eq!(
        (s.numerator, s.denominator, s.of_ten),
        (Some(1), Some(2), Some(5))
    );
    let q = ind("quality_of_life", None);
    assert_eq!((q.numerator, q.denominator), (Some(1), Some(2)));
}

#[test]
fn selecting_a_parent_includes_its_children() {
    let r = report_2021(&fixture(), |o| o.interventions = vec!["a".into()]);
    assert_eq!(r.interventions, vec!["A", "A1"]);
    expect(
        &r,
        "participation",
        // Columns: active, new, exited, active at the end, exited within
        // 30 days, unique persons. A's subtotal is A and A1.
        &[
            ("A", &[3, 2, 1, 2, 0, 3]),
            ("A1", &[3, 2, 1, 2, 1, 3]),
            ("A subtotal", &[6, 4, 2, 4, 1, 6]),
            ("total", &[6, 4, 2, 4, 1, 6]),
        ],
    );
    let t = r
        .indicators
        .iter()
        .find(|i| i.id == "work_or_studies" && i.intervention.is_none())
        .unwrap();
    assert_eq!(
        (t.numerator, t.denominator, t.target, t.met),
        (Some(1), Some(2), Some(0.4), Some(true))
    );
    let r = report_2021(&fixture(), |o| o.interventions = vec!["A1".into()]);
    assert_eq!(r.interventions, vec!["A1"]);
    let err = report::build(&fixture().db.conn, &{
        let mut o = Options::new(Period::year(2021).unwrap());
        o.interventions = vec!["NOPE".into()];
        o
    })
    .unwrap_err();
    assert!(err.to_string().contains("known are A, A1, B"), "{err}");
}

#[test]
fn a_from_to_period_is_inclusive() {
    let f = fixture();
    let mut opts = Options::new(Period::new(d("2021-01-31"), d("2021-01-31")).unwrap());
    opts.interventions = vec!["B".into()];
    let r = report::build(&f.db.conn, &opts).unwrap();
    // Active on 31 January: E4 (exits that day), E6, E9.
    expect(
        &r,
        "participation",
        &[("B", &[3, 0, 1, 2, 1, 3]), ("total", &[3, 0, 1, 2, 1, 3])],
    );
}

#[test]
fn english_labels() {
    let r = report_2021(&fixture(), |o| o.lang = Lang::En);
    let age = r.table("age").unwrap();
    assert_eq!(age.title, "Age band");
    assert_eq!(age.columns, vec!["Women", "Men", "Total"]);
    assert!(age.rows.iter().any(|r| r.label == "Other"));
    let b = r
        .indicators
        .iter()
        .find(|i| i.intervention.as_deref() == Some("B") && i.id == "work_or_studies")
        .unwrap();
    assert_eq!(b.phrase.as_deref(), Some("just under 7 in 10"));
}

#[test]
fn json_has_the_spec_shape() {
    let r = report_2021(&fixture(), |_| {});
    let v = sustrack::report::render::json::to_value(&r);
    assert_eq!(
        v["period"],
        serde_json::json!({"from": "2021-01-01", "to": "2021-12-31"})
    );
    let age = common::json_table(&v, "age");
    assert_eq!(age["title"], "Åldersintervall");
    assert_eq!(
        age["columns"],
        serde_json::json!(["Kvinnor", "Män", "Totalt"])
    );
    assert_eq!(
        age["rows"][0],
        serde_json::json!({"key": "15-29", "label": "15–29", "values": [2, 1, 3]})
    );
    assert_eq!(age["total"], serde_json::json!([5, 5, 10]));
    let ws = v["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "work_or_studies" && i["intervention"].is_null())
        .unwrap();
    assert_eq!(ws["share"], serde_json::json!(0.6));
    assert_eq!(ws["of_ten"], 6);
    assert_eq!(ws["phrase"], "6 av 10");
    let yis = common::json_table(&v, "years_in_support");
    assert_eq!(yis["rows"][0]["shares"], serde_json::json!([0.2, 0.0, 0.1]));
}

#[test]
fn renderings_through_the_binary() {
    // The same fixture in a file, reported by the real binary.
    let env = common::Env::new();
    env.ok(&[
        "intervention",
        "add",
        "A",
        "--name",
        "Insats A",
        "--target-work-studies",
        "40",
    ]);
    let p = common::pnr("19900101", 242);
    let id = env.ok(&[
        "start",
        "--intervention",
        "A",
        "--pnr",
        &p,
        "--consent",
        "--date",
        "2021-02-01",
    ]);
    env.ok(&[
        "exit",
        "--id",
        id.trim(),
        "--date",
        "2021-03-01",
        "--outcome",
        "work",
    ]);
    let csv = env
        .run(&["report", "--year", "2021", "--format", "csv"])
        .stdout;
    assert!(csv.starts_with("\u{feff}".as_bytes()), "BOM");
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.contains("Åldersintervall;Kvinnor;Män;Totalt\r\n"),
        "{text}"
    );
    assert!(text.contains("30–44;1;0;1\r\n"), "{text}");
    let md = env.ok(&["report", "--year", "2021", "--format", "md", "--lang", "en"]);
    assert!(md.contains("| Age band | Women | Men | Total |"), "{md}");
    let out = env.path("r.json");
    env.ok(&[
        "report",
        "--year",
        "2021",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["indicators"][0]["phrase"], "10 av 10");
    let text = env.ok(&["report", "--year", "2021"]);
    assert!(
        text.contains("till arbete eller studier") && text.contains("10 av 10"),
        "{text}"
    );
}

#[test]
fn the_parallel_scan_equals_the_single_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let actor = Actor::owner("t");
    let store = Store::create(&path, KdfProfile::Test, &actor).unwrap();
    sustrack::demo::load(&store, &actor).unwrap();
    for year in [2019, 2020, 2021] {
        let opts = Options::new(Period::year(year).unwrap());
        let one = report::build(&store.connect().unwrap(), &opts).unwrap();
        let all = report::run(&store, &actor, &opts, "json").unwrap();
        assert_eq!(one, all, "{year}");
        assert!(one.table("participation").unwrap().total[0].unwrap() > 50);
    }
}

/// A report reads a snapshot without the write lock: a registration made
/// while the snapshot is open commits at once (no busy wait), and the
/// snapshot's readers all still see the state from before it.
#[test]
fn a_snapshot_does_not_block_a_registration_and_stays_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let actor = Actor::owner("t");
    let store = Store::create(&path, KdfProfile::Test, &actor).unwrap();
    sustrack::demo::load(&store, &actor).unwrap();
    let count = |c: &rusqlite::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM enrolment", [], |r| r.get(0))
            .unwrap()
    };
    let readers = store.snapshot(3).unwrap();
    let before = count(&readers[0]);
    let mut writer = store.connect().unwrap();
    writer
        .busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    let added = sustrack::store::write(&mut writer, |tx| {
        register::start(
            tx,
            &actor,
            today(),
            StartInput {
                intervention: "ARBTEAM".into(),
                participant: Participant::Anonymous {
                    gender: Gender::Woman,
                    birth_year: Some(1990),
                    local_id: None,
                },
                date: today(),
                facts: Default::default(),
            },
        )
    });
    assert!(added.is_ok(), "the write was blocked: {added:?}");
    for r in &readers {
        assert_eq!(count(r), before, "a reader saw the later registration");
    }
    drop(readers);
    assert_eq!(count(&store.connect().unwrap()), before + 1);
}
