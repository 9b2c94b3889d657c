//! Properties of reports over random registers: every table adds up, the
//! tables agree with each other, and the one-pass computation equals a
//! straightforward reference computation written from the spec, so speed
//! never costs correctness.

mod attacker;

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate};
use proptest::prelude::*;
use sustrack::actor::Actor;
use sustrack::codes::*;
use sustrack::identity::{Fingerprint, KdfProfile};
use sustrack::model::{
    months_between, parse_municipality, Enrolment, ExitFacts, Intervention, StartFacts,
};
use sustrack::register::{self, ExitInput, ExitTarget, Participant, Person, StartInput};
use sustrack::report::{self, suppress, Options, Period, Report};
use sustrack::store::Memory as Db;

#[derive(Debug, Clone)]
struct Spec {
    intervention: usize,
    person: Option<u8>, // None: anonymous
    gender: bool,
    birth_year: Option<i32>,
    start: i64, // days after 2019-06-01
    length: Option<i64>,
    outcome: usize,
    support: Option<usize>,
    step: Option<usize>,
    qol: Option<usize>,
    municipality: Option<usize>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0usize..4,
        proptest::option::weighted(0.85, 0u8..12),
        any::<bool>(),
        proptest::option::weighted(0.9, 1940i32..2008),
        0i64..1000,
        proptest::option::weighted(0.7, 0i64..500),
        0usize..Outcome::ALL.len(),
        proptest::option::of(0usize..Support::ALL.len()),
        proptest::option::of(0usize..3),
        proptest::option::of(0usize..4),
        proptest::option::of(0usize..3),
    )
        .prop_map(
            |(
                intervention,
                person,
                gender,
                birth_year,
                start,
                length,
                outcome,
                support,
                step,
                qol,
                municipality,
            )| Spec {
                intervention,
                person,
                gender,
                birth_year,
                start,
                length,
                outcome,
                support,
                step,
                qol,
                municipality,
            },
        )
}

// P is a parent with two levels below it: C, and G under C.
const CODES: [&str; 4] = ["P", "C", "Q", "G"];
const PLACES: [&str; 3] = ["Ale", "Borås", "Åmål"];

fn build(specs: &[Spec]) -> Db {
    let db = Db::open(KdfProfile::Test).unwrap();
    for (code, parent, target) in [
        ("P", None, Some(0.4)),
        ("C", Some("P"), None),
        ("Q", None, Some(0.3)),
        ("G", Some("C"), None),
    ] {
        let i = Intervention {
            code: code.into(),
            name: code.into(),
            parent: parent.map(Into::into),
            kind: InterventionKind::Individual,
            target_work_studies: target,
            target_step: None,
            target_qol: None,
        };
        register::intervention_add(&db.conn, &Actor::owner("t"), i).unwrap();
    }
    // A förbund-defined indicator (SPEC section 12).
    report::goals::indicator_add(
        &db.conn,
        &Actor::owner("t"),
        "wsj",
        "work,studies,job_seeking",
        "arbete, studier eller arbetssökande",
        "work, studies or job seeking",
        Some(0.5),
    )
    .unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let base = NaiveDate::from_ymd_opt(2019, 6, 1).unwrap();
    for s in specs {
        let participant = match s.person {
            // Person n: a fixed fingerprint, gender and birth year derived from n.
            Some(n) => Participant::Person(
                Person::new(
                    Fingerprint([n; 32]),
                    if n % 2 == 0 {
                        Gender::Woman
                    } else {
                        Gender::Man
                    },
                    NaiveDate::from_ymd_opt(1950 + n as i32 * 4, 1, 1).unwrap(),
                    true,
                    today,
                )
                .unwrap(),
            ),
            None => Participant::Anonymous {
                gender: if s.gender { Gender::Woman } else { Gender::Man },
                birth_year: s.birth_year,
                local_id: None,
            },
        };
        let start = base + Duration::days(s.start);
        let input = StartInput {
            intervention: CODES[s.intervention].into(),
            participant,
            date: start,
            facts: StartFacts {
                municipality: s
                    .municipality
                    .map(|m| parse_municipality(PLACES[m]).unwrap()),
                support: s.support.map(|i| Support::ALL[i]),
                ..StartFacts::default()
            },
        };
        // Overlapping registrations are refused by the rules: skip them.
        let Ok(e) = register::start(&db.conn, &Actor::owner("t"), today, input) else {
            continue;
        };
        if let Some(len) = s.length {
            let exit = ExitInput {
                date: start + Duration::days(len),
                outcome: Outcome::ALL[s.outcome],
                after: ExitFacts {
                    support_after: s
                        .support
                        .map(|i| Support::ALL[(i + 3) % Support::ALL.len()]),
                    step_progress: s.step.map(|i| StepProgress::ALL[i]),
                    quality_of_life: s.qol.map(|i| QualityOfLife::ALL[i]),
                },
            };
            register::exit(
                &db.conn,
                &Actor::owner("t"),
                today,
                &ExitTarget::Id(e.id),
                exit,
            )
            .unwrap();
        }
    }
    db
}

fn all_enrolments(db: &Db) -> Vec<Enrolment> {
    let mut stmt = db
        .conn
        .prepare(&format!(
            "SELECT {} FROM enrolment",
            sustrack::store::enrolments::COLUMNS
        ))
        .unwrap();
    let rows = stmt
        .query_map([], sustrack::store::enrolments::from_row)
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

fn values(r: &Report, id: &str, key: &str) -> Vec<u64> {
    let t = r.table(id).unwrap();
    let v = if key == "total" {
        &t.total
    } else {
        &t.rows.iter().find(|r| r.key == key).unwrap().values
    };
    v.iter().map(|x| x.unwrap()).collect()
}

/// The spec, written as plainly as possible.
fn check_against_reference(db: &Db, r: &Report, period: Period) {
    let all = all_enrolments(db);
    let active: Vec<&Enrolment> = all
        .iter()
        .filter(|e| e.start <= period.to && e.exit.is_none_or(|x| x >= period.from))
        .collect();
    let exited: Vec<&&Enrolment> = active
        .iter()
        .filter(|e| e.exit.is_some_and(|x| x <= period.to))
        .collect();
    let new = active.iter().filter(|e| e.start >= period.from).count() as u64;
    let g = |e: &Enrolment| (e.gender == Gender::Man) as usize;

    // Participation totals: active, new, exited, still active at the end,
    // exited within 30 days, distinct persons.
    let unique: HashSet<String> = active
        .iter()
        .map(|e| e.person_id.map(|p| p.to_string()).unwrap_or(e.id.clone()))
        .collect();
    let at_end = active
        .iter()
        .filter(|e| e.exit.is_none_or(|x| x > period.to))
        .count() as u64;
    let days = |e: &Enrolment| (e.exit.unwrap() - e.start).num_days();
    let early = exited.iter().filter(|e| days(e) <= 30).count() as u64;
    assert_eq!(
        values(r, "participation", "total"),
        vec![
            active.len() as u64,
            new,
            exited.len() as u64,
            at_end,
            early,
            unique.len() as u64
        ]
    );
    // Time in the intervention of the exited: mean and median days.
    let mut all_days: Vec<i64> = exited.iter().map(|e| days(e)).collect();
    all_days.sort();
    let total_time = r
        .durations
        .iter()
        .find(|d| d.intervention.is_none())
        .unwrap();
    assert_eq!(total_time.exited, Some(all_days.len() as u64));
    if all_days.is_empty() {
        assert_eq!((total_time.mean_days, total_time.median_days), (None, None));
    } else {
        let n = all_days.len();
        let mean = all_days.iter().sum::<i64>() as f64 / n as f64;
        let median = if n % 2 == 1 {
            all_days[n / 2] as f64
        } else {
            (all_days[n / 2 - 1] + all_days[n / 2]) as f64 / 2.0
        };
        assert!((total_time.mean_days.unwrap() - mean).abs() < 1e-9);
        assert_eq!(total_time.median_days, Some(median));
    }
    // The förbund's own indicator, by gender.
    for (gender, want) in [
        (None, None),
        (Some("woman"), Some(Gender::Woman)),
        (Some("man"), Some(Gender::Man)),
    ] {
        let of = exited.iter().filter(|e| want.is_none_or(|g| e.gender == g));
        let hits = of
            .clone()
            .filter(|e| {
                matches!(
                    e.outcome,
                    Some(Outcome::Work | Outcome::Studies | Outcome::JobSeeking)
                )
            })
            .count() as u64;
        let i = r.indicator("wsj", None, gender, false).unwrap();
        assert_eq!(
            (i.numerator, i.denominator),
            (Some(hits), Some(of.count() as u64))
        );
        assert_eq!(i.target, Some(0.5));
    }

    // Age bands.
    for (lo, hi) in [(15, 29), (30, 44), (45, 59), (60, 74)] {
        let mut want = [0u64; 2];
        for e in &active {
            if let Some(by) = e.birth_year {
                let age = e.start.year() - by;
                if age >= lo && age <= hi {
                    want[g(e)] += 1;
                }
            }
        }
        assert_eq!(
            values(r, "age", &format!("{lo}-{hi}")),
            vec![want[0], want[1], want[0] + want[1]]
        );
    }

    // Months, by 6.
    let mut by_band = std::collections::BTreeMap::<u32, [u64; 2]>::new();
    for e in &exited {
        let m = months_between(e.start, e.exit.unwrap());
        by_band.entry((m - 1) / 6).or_default()[g(e)] += 1;
    }
    for (band, want) in by_band {
        let key = format!("{}-{}", band * 6 + 1, band * 6 + 6);
        assert_eq!(
            values(r, "months", &key),
            vec![want[0], want[1], want[0] + want[1]],
            "{key}"
        );
    }

    // Outcomes and the headline indicator.
    for o in Outcome::ALL {
        let mut want = [0u64; 2];
        for e in exited.iter().filter(|e| e.outcome == Some(*o)) {
            want[g(e)] += 1;
        }
        assert_eq!(
            values(r, "outcome", o.code()),
            vec![want[0], want[1], want[0] + want[1]]
        );
    }
    let ws = exited
        .iter()
        .filter(|e| matches!(e.outcome, Some(Outcome::Work | Outcome::Studies)))
        .count() as u64;
    let total = r
        .indicators
        .iter()
        .find(|i| i.id == "work_or_studies" && i.intervention.is_none())
        .unwrap();
    assert_eq!(
        (total.numerator, total.denominator),
        (Some(ws), Some(exited.len() as u64))
    );
    let step_den = exited
        .iter()
        .filter(|e| {
            matches!(
                e.after.step_progress,
                Some(StepProgress::Yes | StepProgress::No)
            )
        })
        .count() as u64;
    let step = r
        .indicators
        .iter()
        .find(|i| i.id == "step_progress" && i.intervention.is_none())
        .unwrap();
    assert_eq!(step.denominator, Some(step_den));
}

fn gender_tables_add_up(r: &Report) {
    for t in &r.tables {
        let width = t.total.len();
        let own: Vec<&sustrack::report::Row> =
            t.rows.iter().filter(|r| r.subtotal.is_none()).collect();
        let unique_column = t.id == "participation" && t.column_keys[width - 1] == "unique_persons";
        for c in 0..width {
            let sum: u64 = own.iter().map(|row| row.values[c].unwrap()).sum();
            if unique_column && c == width - 1 {
                // Unique persons: the total is at most the sum over interventions.
                assert!(t.total[c].unwrap() <= sum);
            } else {
                assert_eq!(t.total[c].unwrap(), sum, "{} column {c}", t.id);
            }
        }
        // A subtotal is the sum of its subtree's own rows (P: P, C, G; C: C, G).
        for sub in t.rows.iter().filter(|r| r.subtotal.is_some()) {
            let members = sub.subtotal.as_ref().unwrap();
            let want: Vec<&str> = match sub.key.as_str() {
                "P" => vec!["C", "G", "P"],
                "C" => vec!["C", "G"],
                k => panic!("unexpected subtotal {k}"),
            };
            let mut got: Vec<&str> = members.iter().map(String::as_str).collect();
            got.sort();
            assert_eq!(got, want, "{}: members of {}", t.id, sub.key);
            for c in 0..width {
                let sum: u64 = own
                    .iter()
                    .filter(|r| members.contains(&r.key))
                    .map(|r| r.values[c].unwrap())
                    .sum();
                if unique_column && c == width - 1 {
                    assert!(sub.values[c].unwrap() <= sum);
                } else {
                    assert_eq!(
                        sub.values[c].unwrap(),
                        sum,
                        "{} {} column {c}",
                        t.id,
                        sub.key
                    );
                }
            }
        }
        if t.column_keys == ["woman", "man", "total"] {
            for row in t
                .rows
                .iter()
                .chain(std::iter::once(&sustrack::report::Row::new(
                    "total",
                    "",
                    t.total.clone(),
                )))
            {
                assert_eq!(
                    row.values[0].unwrap() + row.values[1].unwrap(),
                    row.values[2].unwrap(),
                    "{} {}",
                    t.id,
                    row.key
                );
            }
        }
    }
    let active = values(r, "participation", "total")[0];
    for id in [
        "municipality",
        "age",
        "years_in_support",
        "education",
        "intervention_gender",
    ] {
        assert_eq!(values(r, id, "total")[2], active, "{id} total vs active");
    }
    let exited = values(r, "participation", "total")[2];
    for id in ["months", "outcome", "support_transition"] {
        assert_eq!(
            *values(r, id, "total").last().unwrap(),
            exited,
            "{id} total vs exited"
        );
    }
    assert_eq!(
        values(r, "referrer", "total")[2],
        values(r, "participation", "total")[1]
    );
    assert_eq!(
        values(r, "years_in_support_new", "total"),
        values(r, "referrer", "total")
    );
    let sba = values(r, "support_before_after", "total");
    assert_eq!((sba[2], sba[5]), (exited, exited));
    // Women + men agree across the active tables.
    let age = values(r, "age", "total");
    assert_eq!(values(r, "municipality", "total"), age);
    assert_eq!(values(r, "education", "total"), age);
    assert_eq!(values(r, "intervention_gender", "total"), age);
    // Each line's women and men add up to its both-genders indicator, and
    // the interventions' own lines to the total, for every indicator.
    let counts = |i: &sustrack::report::Indicator| (i.numerator.unwrap(), i.denominator.unwrap());
    for i in r.indicators.iter().filter(|i| i.gender.is_none()) {
        let w = counts(
            r.indicator(&i.id, i.intervention.as_deref(), Some("woman"), i.subtotal)
                .unwrap(),
        );
        let m = counts(
            r.indicator(&i.id, i.intervention.as_deref(), Some("man"), i.subtotal)
                .unwrap(),
        );
        assert_eq!(
            counts(i),
            (w.0 + m.0, w.1 + m.1),
            "{} {:?}",
            i.id,
            i.intervention
        );
    }
    for i in r.indicators.iter().filter(|i| i.intervention.is_none()) {
        let parts = r.indicators.iter().filter(|x| {
            x.id == i.id && x.gender == i.gender && x.intervention.is_some() && !x.subtotal
        });
        let sum = parts.fold((0, 0), |a, x| (a.0 + counts(x).0, a.1 + counts(x).1));
        assert_eq!(counts(i), sum, "{} {:?}", i.id, i.gender);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn tables_add_up_and_match_the_reference(specs in proptest::collection::vec(spec(), 0..60), year in 2019i32..2022) {
        let db = build(&specs);
        let period = Period::year(year).unwrap();
        let r = report::build(&db.conn, &Options::new(period)).unwrap();
        gender_tables_add_up(&r);
        check_against_reference(&db, &r, period);
    }

    /// SPEC section 12: without suppression, the comparison values equal a
    /// separate report of the comparison period (rows only one period has
    /// are zeros in the other).
    #[test]
    fn the_comparison_equals_a_report_of_its_period(specs in proptest::collection::vec(spec(), 0..60), year in 2019i32..2022, back in 1i32..3) {
        let db = build(&specs);
        let mut opts = Options::new(Period::year(year).unwrap());
        opts.compare = Some(Period::year(year - back).unwrap());
        let both = report::build(&db.conn, &opts).unwrap();
        let main = report::build(&db.conn, &Options::new(Period::year(year).unwrap())).unwrap();
        let then = report::build(&db.conn, &Options::new(Period::year(year - back).unwrap())).unwrap();
        compare_block_equals(&both, &main, &then);
    }

    #[test]
    fn suppression_hides_small_counts_and_keeps_the_rest(specs in proptest::collection::vec(spec(), 0..60), n in 3u32..7) {
        let db = build(&specs);
        let opts = Options::new(Period::year(2020).unwrap());
        let plain = report::build(&db.conn, &opts).unwrap();
        let mut hidden = plain.clone();
        suppress::apply(&mut hidden, n);
        for (p, h) in plain.tables.iter().zip(&hidden.tables) {
            let lines = p.rows.iter().map(|r| &r.values).chain(std::iter::once(&p.total))
                .zip(h.rows.iter().map(|r| &r.values).chain(std::iter::once(&h.total)));
            for (pv, hv) in lines {
                for (a, b) in pv.iter().zip(hv.iter()) {
                    // Shown values equal the plain report; small counts are hidden.
                    if let Some(x) = b {
                        prop_assert_eq!(Some(*x), *a);
                    }
                    let v = a.unwrap();
                    if v > 0 && v < n as u64 {
                        prop_assert!(b.is_none(), "{} kept a small count", p.id);
                    }
                }
            }
        }
        for (p, i) in plain.indicators.iter().zip(&hidden.indicators) {
            for (a, b) in [(p.numerator, i.numerator), (p.denominator, i.denominator)] {
                let v = a.unwrap();
                prop_assert!(b.is_none() || b == a);
                if v > 0 && v < n as u64 {
                    prop_assert!(b.is_none(), "an indicator kept a small count");
                }
            }
            let counts_hidden = i.numerator.is_none() || i.denominator.is_none();
            prop_assert_eq!(i.too_few, counts_hidden);
            if counts_hidden {
                prop_assert!(i.share.is_none() && i.of_ten.is_none() && i.phrase.is_none() && i.met.is_none());
            } else {
                prop_assert_eq!(i, p);
            }
        }
    }
}

proptest! {
    // Each case solves two small integer programs per hidden count (and a
    // report by gender, with subtotals and a förbund-defined indicator, has
    // several hundred counts): fewer cases keep the debug-build run near a
    // minute.
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// SPEC section 6: no hidden count follows from everything the report
    /// shows, across all its tables and indicators.
    #[test]
    fn an_attacker_determines_no_hidden_count(specs in proptest::collection::vec(spec(), 0..60), n in 3u32..7, year in 2019i32..2022) {
        let db = build(&specs);
        let opts = Options::new(Period::year(year).unwrap());
        let plain = report::build(&db.conn, &opts).unwrap();
        let mut hidden = plain.clone();
        suppress::apply(&mut hidden, n);
        let json = report::render::json::to_value(&hidden);
        let leaks = attacker::determined(&json, &report::render::json::to_value(&plain), n as u64);
        prop_assert!(leaks.is_empty(), "hidden counts the attacker pins down: {:?}", leaks);
    }
}

/// Every figure of `both` equals `main`'s, and its comparison figures equal
/// `then`'s, key by key; a row, column or indicator missing on one side is
/// zero there.
fn compare_block_equals(both: &Report, main: &Report, then: &Report) {
    assert_eq!(both.compare, Some(then.period));
    for t in &both.tables {
        let check = |side: &Report,
                     values: &dyn Fn(&sustrack::report::Row) -> Vec<Option<u64>>,
                     total: &[Option<u64>],
                     which: &str| {
            let s = side.table(t.id).unwrap();
            let at = |keys: &[String], vals: &[Option<u64>], k: &str| {
                keys.iter()
                    .position(|x| x == k)
                    .map_or(Some(0), |i| vals[i])
            };
            for row in &t.rows {
                let theirs = s
                    .rows
                    .iter()
                    .find(|r| r.key == row.key && r.subtotal.is_some() == row.subtotal.is_some());
                let ours = values(row);
                for (c, key) in t.column_keys.iter().enumerate() {
                    let want = theirs.map_or(Some(0), |r| at(&s.column_keys, &r.values, key));
                    assert_eq!(ours[c], want, "{which} {} {} {key}", t.id, row.key);
                }
            }
            for (c, key) in t.column_keys.iter().enumerate() {
                assert_eq!(
                    total[c],
                    at(&s.column_keys, &s.total, key),
                    "{which} {} total {key}",
                    t.id
                );
            }
            // Every row of the side's report is in the merged table.
            for r in &s.rows {
                assert!(
                    t.rows
                        .iter()
                        .any(|x| x.key == r.key && x.subtotal.is_some() == r.subtotal.is_some()),
                    "{which} {} lost row {}",
                    t.id,
                    r.key
                );
            }
        };
        check(main, &|r| r.values.clone(), &t.total, "main");
        check(
            then,
            &|r| r.compare.clone().unwrap(),
            t.compare_total.as_ref().unwrap(),
            "compare",
        );
    }
    let figures = |i: Option<&sustrack::report::Indicator>| {
        i.map_or((Some(0), Some(0), None), |i| {
            (i.numerator, i.denominator, i.phrase.clone())
        })
    };
    for i in &both.indicators {
        let key = (i.intervention.as_deref(), i.gender, i.subtotal);
        let m = main.indicator(&i.id, key.0, key.1, key.2);
        let c = then.indicator(&i.id, key.0, key.1, key.2);
        assert_eq!(figures(Some(i)), figures(m), "{} {:?}", i.id, key);
        assert_eq!(
            figures(i.compare.as_deref()),
            figures(c),
            "{} {:?} compare",
            i.id,
            key
        );
    }
    for side in [main, then] {
        for i in &side.indicators {
            assert!(both
                .indicator(&i.id, i.intervention.as_deref(), i.gender, i.subtotal)
                .is_some());
        }
    }
    for d in &both.durations {
        let pick = |r: &Report| {
            r.durations
                .iter()
                .find(|x| x.intervention == d.intervention && x.subtotal == d.subtotal)
                .cloned()
        };
        let c = d.compare.as_deref().unwrap();
        match pick(then) {
            Some(x) => assert_eq!(
                (c.exited, c.mean_days, c.median_days),
                (x.exited, x.mean_days, x.median_days)
            ),
            None => assert_eq!((c.exited, c.mean_days), (Some(0), None)),
        }
        match pick(main) {
            Some(x) => assert_eq!(
                (d.exited, d.mean_days, d.median_days),
                (x.exited, x.mean_days, x.median_days)
            ),
            None => assert_eq!((d.exited, d.mean_days), (Some(0), None)),
        }
    }
}

/// (intervention incl. K, day, kind, women, men, unknown, organisations)
type ActivitySpec = (usize, i64, usize, u32, u32, u32, Option<u32>);
/// (intervention, day, woman, referrer, municipality, decision and delay)
type ReferralSpec = (
    usize,
    i64,
    bool,
    Option<usize>,
    Option<usize>,
    Option<(usize, i64)>,
);

/// SPEC section 13's registers over a random register: activities,
/// referrals with decisions, budgets.
#[derive(Debug, Clone)]
struct Beyond {
    acts: Vec<ActivitySpec>,
    refs: Vec<ReferralSpec>,
    /// (intervention incl. K, year, budget, actual)
    budgets: Vec<(usize, i32, u64, Option<u64>)>,
}

fn beyond() -> impl Strategy<Value = Beyond> {
    (
        proptest::collection::vec(
            (
                0usize..5,
                0i64..1000,
                0usize..ActivityKind::ALL.len(),
                0u32..9,
                0u32..9,
                0u32..3,
                proptest::option::of(0u32..4),
            ),
            0..12,
        ),
        proptest::collection::vec(
            (
                0usize..4,
                0i64..1000,
                any::<bool>(),
                proptest::option::of(0usize..Referrer::ALL.len()),
                proptest::option::of(0usize..3),
                proptest::option::weighted(0.8, (0usize..Decision::ALL.len(), 0i64..90)),
            ),
            0..25,
        ),
        proptest::collection::vec(
            (
                0usize..5,
                2019i32..2023,
                0u64..2_000_000,
                proptest::option::weighted(0.7, 0u64..2_000_000),
            ),
            0..6,
        ),
    )
        .prop_map(|(acts, refs, budgets)| Beyond {
            acts,
            refs,
            budgets,
        })
}

/// `build`, plus a structural intervention K and the registers of `b`.
/// A `started` decision takes the first unclaimed enrolment of the
/// intervention starting on or after the referral date (else none).
fn build_beyond(specs: &[Spec], b: &Beyond) -> Db {
    use sustrack::beyond::{self, ActivityInput, BudgetInput, DecisionInput, ReferralInput};
    let db = build(specs);
    let owner = Actor::owner("t");
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let base = NaiveDate::from_ymd_opt(2019, 6, 1).unwrap();
    register::intervention_add(
        &db.conn,
        &owner,
        Intervention {
            code: "K".into(),
            name: "K".into(),
            parent: None,
            kind: InterventionKind::Structural,
            target_work_studies: None,
            target_step: None,
            target_qol: None,
        },
    )
    .unwrap();
    let code = |i: usize| if i < 4 { CODES[i] } else { "K" };
    for &(iv, day, kind, w, m, u, orgs) in &b.acts {
        beyond::activity_add(
            &db.conn,
            &owner,
            today,
            ActivityInput {
                intervention: code(iv).into(),
                date: base + Duration::days(day),
                kind: ActivityKind::ALL[kind],
                women: w + u32::from(w + m + u == 0),
                men: m,
                unknown: u,
                organisations: orgs,
            },
        )
        .unwrap();
    }
    let mut claimed: HashSet<String> = HashSet::new();
    let mut enrolments = all_enrolments(&db);
    enrolments.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    for &(iv, day, woman, referrer, place, decision) in &b.refs {
        let date = base + Duration::days(day);
        let r = beyond::referral_add(
            &db.conn,
            &owner,
            today,
            ReferralInput {
                intervention: CODES[iv].into(),
                date,
                gender: if woman { Gender::Woman } else { Gender::Man },
                birth_year: None,
                municipality: place.map(|m| parse_municipality(PLACES[m]).unwrap()),
                referrer: referrer.map(|i| Referrer::ALL[i]),
            },
        )
        .unwrap();
        let Some((d, delay)) = decision else { continue };
        let decision = Decision::ALL[d];
        let enrolment = if decision == Decision::Started {
            let Some(e) = enrolments.iter().find(|e| {
                e.intervention == CODES[iv] && e.start >= date && !claimed.contains(&e.id)
            }) else {
                continue;
            };
            claimed.insert(e.id.clone());
            Some(e.id.clone())
        } else {
            None
        };
        beyond::referral_decide(
            &db.conn,
            &owner,
            today,
            DecisionInput {
                referral: r.id,
                decision,
                date: (date + Duration::days(delay)).min(today),
                enrolment,
            },
        )
        .unwrap();
    }
    for &(iv, year, budget, actual) in &b.budgets {
        beyond::budget_set(
            &db.conn,
            &owner,
            today,
            BudgetInput {
                intervention: code(iv).into(),
                year,
                budget,
                actual,
            },
        )
        .unwrap();
    }
    db
}

/// The section 13 figures against a plain computation from the rows.
fn check_beyond(db: &Db, r: &Report, period: Period) {
    let conn = &db.conn;
    let within =
        |d: &str| d >= period.from.to_string().as_str() && d <= period.to.to_string().as_str();
    // Activities: occasions and attendees by gender.
    let mut stmt = conn
        .prepare("SELECT date, women, men, unknown, ifnull(organisations, 0) FROM activity")
        .unwrap();
    let acts: Vec<(String, u64, u64, u64, u64)> = stmt
        .query_map([], |x| {
            Ok((
                x.get::<_, String>(0)?,
                x.get::<_, i64>(1)? as u64,
                x.get::<_, i64>(2)? as u64,
                x.get::<_, i64>(3)? as u64,
                x.get::<_, i64>(4)? as u64,
            ))
        })
        .unwrap()
        .map(|x| x.unwrap())
        .filter(|a| within(&a.0))
        .collect();
    match r.table("activities") {
        None => assert!(acts.is_empty()),
        Some(t) => {
            let sum = |f: fn(&(String, u64, u64, u64, u64)) -> u64| acts.iter().map(f).sum::<u64>();
            let want = [
                acts.len() as u64,
                sum(|a| a.1),
                sum(|a| a.2),
                sum(|a| a.3),
                sum(|a| a.1 + a.2 + a.3),
                sum(|a| a.4),
            ];
            assert_eq!(t.total.iter().map(|v| v.unwrap()).collect::<Vec<_>>(), want);
            for row in &t.rows {
                let v: Vec<u64> = row.values.iter().map(|x| x.unwrap()).collect();
                assert_eq!(v[4], v[1] + v[2] + v[3], "{}", row.key);
                assert!(v[0] >= 1 && v[4] >= 1, "a row is shown only when non-empty");
            }
        }
    }
    // Referrals received in the period, their decisions by its end, and
    // the waits of those started.
    let mut stmt = conn
        .prepare("SELECT r.date, r.gender, r.decision, r.decided, e.start_date FROM referral r LEFT JOIN enrolment e ON e.id = r.enrolment")
        .unwrap();
    type Ref = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let refs: Vec<Ref> = stmt
        .query_map([], |x| {
            Ok((x.get(0)?, x.get(1)?, x.get(2)?, x.get(3)?, x.get(4)?))
        })
        .unwrap()
        .map(|x| x.unwrap())
        .filter(|x: &Ref| within(&x.0))
        .collect();
    let end = period.to.to_string();
    let by_end = |x: &Ref| x.3.as_deref().is_some_and(|d| d <= end.as_str());
    match r.table("referrals_decision") {
        None => assert!(refs.is_empty() && r.waiting.is_none()),
        Some(t) => {
            let women = refs.iter().filter(|x| x.1 == "woman").count() as u64;
            let total = [women, refs.len() as u64 - women, refs.len() as u64];
            for id in ["referrals", "referrals_municipality", "referrals_decision"] {
                assert_eq!(values(r, id, "total"), total, "{id}");
            }
            for d in Decision::ALL {
                let n = refs
                    .iter()
                    .filter(|x| by_end(x) && x.2.as_deref() == Some(d.code()))
                    .count() as u64;
                assert_eq!(values(r, "referrals_decision", d.code())[2], n, "{d}");
            }
            let undecided = refs.iter().filter(|x| !by_end(x)).count() as u64;
            assert_eq!(values(r, "referrals_decision", "undecided")[2], undecided);
            let mut waits: Vec<i64> = refs
                .iter()
                .filter(|x| by_end(x) && x.2.as_deref() == Some("started"))
                .map(|x| {
                    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
                    (d(x.4.as_deref().unwrap()) - d(&x.0)).num_days()
                })
                .collect();
            waits.sort();
            let w = r.waiting.as_ref().unwrap();
            assert_eq!(w.started, Some(waits.len() as u64));
            assert_eq!(
                values(r, "referrals_decision", "started")[2],
                waits.len() as u64
            );
            let median = match waits.len() {
                0 => None,
                n if n % 2 == 1 => Some(waits[n / 2] as f64),
                n => Some((waits[n / 2 - 1] + waits[n / 2]) as f64 / 2.0),
            };
            assert_eq!(w.median_days, median);
            assert!(t.column_keys == ["woman", "man", "total"]);
        }
    }
    // Reach is its three parts, each the figure its table shows.
    if let Some(x) = &r.reach {
        let parts = x.participants.unwrap() + x.volume.unwrap() + x.attendees.unwrap();
        assert_eq!(x.total, Some(parts));
        assert_eq!(x.participants, r.table("participation").unwrap().total[5]);
        assert_eq!(
            x.attendees,
            Some(r.table("activities").map_or(0, |t| t.total[4].unwrap()))
        );
    }
    // Cost: a cost per participant or exit only with a known actual cost
    // and a count above zero, rounded half up; never 0 for "unknown".
    for c in &r.cost {
        let Some(code) = &c.intervention else {
            continue;
        };
        // The intervention with its sub-interventions (P: C and G under it),
        // counted from the rows.
        let subtree: &[&str] = match code.as_str() {
            "P" => &["P", "C", "G"],
            "C" => &["C", "G"],
            "Q" => &["Q"],
            "G" => &["G"],
            _ => &[],
        };
        if code == "K" {
            assert_eq!(c.participants, None);
        } else {
            let active = all_enrolments(db)
                .iter()
                .filter(|e| subtree.contains(&e.intervention.as_str()))
                .filter(|e| e.start <= period.to && e.exit.is_none_or(|x| x >= period.from))
                .count() as u64;
            assert_eq!(c.participants, Some(active), "{code}");
        }
        for (count, per) in [(c.participants, c.per_participant), (c.exits, c.per_exit)] {
            match (c.actual, count) {
                (Some(a), Some(n)) if n > 0 => assert_eq!(per, Some((a + n / 2) / n)),
                _ => assert_eq!(per, None),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    /// SPEC section 13: the new tables add up and match the rows.
    #[test]
    fn the_beyond_figures_add_up(specs in proptest::collection::vec(spec(), 0..40), b in beyond(), year in 2019i32..2022) {
        let db = build_beyond(&specs, &b);
        let period = Period::year(year).unwrap();
        let r = report::build(&db.conn, &Options::new(period)).unwrap();
        gender_tables_add_up(&r);
        check_beyond(&db, &r, period);
        // A part of a year: the tables, no cost.
        let half = Period::new(period.from, NaiveDate::from_ymd_opt(year, 6, 30).unwrap()).unwrap();
        let r = report::build(&db.conn, &Options::new(half)).unwrap();
        check_beyond(&db, &r, half);
        prop_assert!(r.cost.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, .. ProptestConfig::default() })]

    /// The new figures join the one linked system: no hidden count
    /// follows from everything shown, reach and cost included; a cost per
    /// participant or exit goes with its count.
    #[test]
    fn suppression_covers_the_beyond_figures(specs in proptest::collection::vec(spec(), 0..40), b in beyond(), n in 3u32..7, year in 2019i32..2022) {
        let db = build_beyond(&specs, &b);
        let opts = Options::new(Period::year(year).unwrap());
        let plain = report::build(&db.conn, &opts).unwrap();
        let mut hidden = plain.clone();
        suppress::apply(&mut hidden, n);
        for (p, h) in plain.tables.iter().zip(&hidden.tables) {
            for (pv, hv) in p.rows.iter().map(|r| &r.values).chain(std::iter::once(&p.total))
                .zip(h.rows.iter().map(|r| &r.values).chain(std::iter::once(&h.total))) {
                for (c, (a, b)) in pv.iter().zip(hv).enumerate() {
                    if let Some(x) = b {
                        prop_assert_eq!(Some(*x), *a);
                    }
                    let v = a.unwrap();
                    let people = !sustrack::report::beyond::not_people(p.id, c);
                    if people && v > 0 && v < n as u64 {
                        prop_assert!(b.is_none(), "{} kept a small count", p.id);
                    }
                    if p.id == "activities" && c == 5 {
                        prop_assert_eq!(b, a, "organisations are never hidden");
                    }
                }
            }
        }
        for c in &hidden.cost {
            if c.participants.is_none() && c.too_few[0] {
                prop_assert!(c.per_participant.is_none());
            }
            if c.exits.is_none() && c.too_few[1] {
                prop_assert!(c.per_exit.is_none());
            }
            if let (Some(code), Some(x)) = (&c.intervention, c.exits) {
                // The exits shown are the indicator's numerator, shown.
                if let Some(i) = hidden.indicator("work_or_studies", Some(code), None, false) {
                    prop_assert_eq!(i.numerator, Some(x));
                }
            }
        }
        if let (Some(w), Some(t)) = (&hidden.waiting, hidden.table("referrals_decision")) {
            let started = t.rows.iter().find(|r| r.key == "started").unwrap().values[2];
            prop_assert_eq!(w.started, started);
        }
        let json = report::render::json::to_value(&hidden);
        let leaks = attacker::determined(&json, &report::render::json::to_value(&plain), n as u64);
        prop_assert!(leaks.is_empty(), "hidden counts the attacker pins down: {:?}\nreach {:?} plain {:?}\nactivities {:?}", leaks, hidden.reach, plain.reach, hidden.table("activities").map(|t| &t.total));
    }
}
