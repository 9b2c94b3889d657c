//! The three cross-table leaks of issue 12 item 3, each on a register made
//! to show it: a count hidden in one table must not be recoverable from
//! another table or an indicator of the same report (SPEC section 6).

mod attacker;

use chrono::NaiveDate;
use serde_json::Value;
use sustrack::actor::Actor;
use sustrack::codes::*;
use sustrack::identity::KdfProfile;
use sustrack::model::{ExitFacts, Intervention, StartFacts};
use sustrack::register::{self, ExitInput, ExitTarget, Participant, StartInput};
use sustrack::report::{self, render::json::to_value, suppress, Options, Period};
use sustrack::store::Memory as Db;

/// One participant: woman?, exited with this outcome (None: still active),
/// support at start and after exit, referrer.
struct P(bool, Option<Outcome>, Support, Support, Referrer);

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// The 2021 report of these participants, plain and suppressed below `n`.
fn reports(people: &[P], n: u32) -> (Value, Value) {
    let db = Db::open(KdfProfile::Test).unwrap();
    let iv = Intervention {
        code: "P".into(),
        name: "P".into(),
        parent: None,
        kind: InterventionKind::Individual,
        target_work_studies: Some(0.4),
        target_step: None,
        target_qol: None,
    };
    register::intervention_add(&db.conn, &Actor::owner("t"), iv).unwrap();
    let today = d("2026-01-01");
    for p in people {
        let input = StartInput {
            intervention: "P".into(),
            participant: Participant::Anonymous {
                gender: if p.0 { Gender::Woman } else { Gender::Man },
                birth_year: Some(1980),
                local_id: None,
            },
            date: d("2021-02-01"),
            facts: StartFacts {
                support: Some(p.2),
                referrer: Some(p.4),
                ..StartFacts::default()
            },
        };
        let e = register::start(&db.conn, &Actor::owner("t"), today, input).unwrap();
        if let Some(outcome) = p.1 {
            let exit = ExitInput {
                date: d("2021-08-01"),
                outcome,
                after: ExitFacts {
                    support_after: Some(p.3),
                    ..ExitFacts::default()
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
    let plain = report::build(&db.conn, &Options::new(Period::year(2021).unwrap())).unwrap();
    let mut hidden = plain.clone();
    suppress::apply(&mut hidden, n);
    (to_value(&plain), to_value(&hidden))
}

fn cell<'a>(r: &'a Value, table: &str, row: &str, col: usize) -> &'a Value {
    let t = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == table)
        .unwrap();
    if row == "total" {
        return &t["total"][col];
    }
    let r = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == row);
    &r.unwrap_or_else(|| panic!("no row {row} in {table}"))["values"][col]
}

fn total_indicator<'a>(r: &'a Value, id: &str) -> &'a Value {
    r["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id && i["intervention"].is_null())
        .unwrap()
}

fn no_leak(plain: &Value, hidden: &Value, n: u64) {
    let leaks = attacker::determined(hidden, plain, n);
    assert!(leaks.is_empty(), "the attacker pins down {leaks:?}");
}

#[test]
fn the_work_or_studies_numerator_does_not_give_back_hidden_studies() {
    use Outcome::*;
    use Support::None as No;
    let mut people = Vec::new();
    for i in 0..12 {
        people.push(P(i % 2 == 0, Some(Work), No, No, Referrer::Af));
    }
    people.push(P(true, Some(Studies), No, No, Referrer::Af));
    people.push(P(false, Some(Studies), No, No, Referrer::Af));
    for i in 0..8 {
        people.push(P(i % 2 == 0, Some(JobSeeking), No, No, Referrer::Af));
    }
    let (plain, hidden) = reports(&people, 5);
    assert!(cell(&hidden, "outcome", "studies", 2).is_null());
    // Numerator − work = studies: both may not be shown.
    let numerator = &total_indicator(&hidden, "work_or_studies")["numerator"];
    assert!(
        numerator.is_null() || cell(&hidden, "outcome", "work", 2).is_null(),
        "numerator {numerator} and work {} shown",
        cell(&hidden, "outcome", "work", 2)
    );
    no_leak(&plain, &hidden, 5);
}

#[test]
fn support_after_hidden_in_one_table_is_hidden_in_the_transition_table() {
    use Support::*;
    let mut people = Vec::new();
    let mut add = |count: usize, before: Support, after: Support| {
        for i in 0..count {
            people.push(P(
                i % 2 == 0,
                Some(Outcome::Work),
                before,
                after,
                Referrer::Fk,
            ));
        }
    };
    // After exit: wage 25, student finance 6 (3 + 3: hidden by gender),
    // social assistance 2. Table by table, the 6 was hidden in
    // support_before_after (partner of the 2 in its column) and shown as
    // the transition table's column total.
    add(20, SicknessBenefit, Wage);
    add(6, SicknessBenefit, StudentFinance);
    add(2, UnemploymentBenefit, SocialAssistance);
    add(5, UnemploymentBenefit, Wage);
    let (plain, hidden) = reports(&people, 5);
    let after = cell(&hidden, "support_before_after", "student_finance", 5);
    let column_total = {
        let t = hidden["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "support_transition")
            .unwrap();
        let c = t["column_keys"]
            .as_array()
            .unwrap()
            .iter()
            .position(|k| k == "student_finance")
            .unwrap();
        t["total"][c].clone()
    };
    assert!(after.is_null());
    assert!(
        column_total.is_null(),
        "the transition table shows {column_total}"
    );
    no_leak(&plain, &hidden, 5);
}

#[test]
fn the_new_participants_total_is_one_figure_in_both_tables() {
    use Support::None as No;
    // Two new women: the referrer table hides them, and with them the
    // new-participants total wherever it is shown.
    let mut people = vec![
        P(true, None, No, No, Referrer::Af),
        P(true, None, No, No, Referrer::Fk),
    ];
    for i in 0..10 {
        people.push(P(
            false,
            None,
            No,
            No,
            if i < 5 { Referrer::Af } else { Referrer::Fk },
        ));
    }
    let (plain, hidden) = reports(&people, 5);
    assert!(cell(&hidden, "referrer", "total", 0).is_null());
    assert_eq!(
        cell(&hidden, "referrer", "total", 2).is_null(),
        cell(&hidden, "participation", "total", 1).is_null(),
        "the new total is shown in one table and hidden in the other"
    );
    no_leak(&plain, &hidden, 5);
}
