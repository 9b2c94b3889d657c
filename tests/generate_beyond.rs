//! `sustrack generate` and SPEC section 13: the activities, referrals and
//! budgets it makes keep the domain's rules (the ones `activity add`,
//! `referral add`/`decide` and `budget set` enforce), and a seed gives the
//! same rows every time.

mod common;

use chrono::Datelike;
use common::Env;

fn generated(seed: &str) -> Env {
    let env = Env::empty();
    let out = env.run(&["generate", "--enrolments", "2000", "--seed", seed]);
    assert!(
        out.status.success(),
        "{}",
        common::describe(&["generate"], &out)
    );
    env
}

fn open(env: &Env) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(&env.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Every row of a table as text, in a fixed order.
fn rows(conn: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        out.push(
            (0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect::<Vec<_>>()
                .join(" | "),
        );
    }
    out
}

#[test]
fn generated_activities_referrals_and_budgets_keep_the_rules() {
    let env = generated("3");
    let c = open(&env);
    let none = |what: &str, sql: &str| {
        let n = count(&c, sql);
        assert_eq!(n, 0, "{n} {what}: {sql}");
    };

    // There is something of each, and of each kind.
    assert!(
        count(
            &c,
            "SELECT count(*) FROM intervention WHERE kind = 'structural'"
        ) >= 75
    );
    let referrals = count(&c, "SELECT count(*) FROM referral");
    let enrolments = count(&c, "SELECT count(*) FROM enrolment");
    assert!(referrals > enrolments / 2, "{referrals} referrals");
    for d in ["started", "declined", "returned", "withdrawn"] {
        assert!(
            count(
                &c,
                &format!("SELECT count(*) FROM referral WHERE decision = '{d}'")
            ) > 0,
            "no referral decided {d}"
        );
    }
    assert!(count(&c, "SELECT count(*) FROM referral WHERE decision IS NULL") > 0);
    // Most starts come from a referral.
    let started = count(
        &c,
        "SELECT count(*) FROM referral WHERE decision = 'started'",
    );
    assert!(started * 10 > enrolments * 7, "{started} of {enrolments}");
    for k in ["seminar", "training", "network", "information", "other"] {
        assert!(
            count(
                &c,
                &format!("SELECT count(*) FROM activity WHERE kind = '{k}'")
            ) > 0,
            "no activity of kind {k}"
        );
    }
    assert!(count(&c, "SELECT count(*) FROM budget WHERE actual IS NOT NULL") > 0);

    // A started referral is an enrolment of the same intervention starting
    // on or after the referral, decided in between, with the enrolment's
    // gender, birth year, municipality and referrer; one per enrolment.
    none(
        "started referrals without a matching enrolment",
        "SELECT count(*) FROM referral r LEFT JOIN enrolment e ON e.id = r.enrolment \
         WHERE r.decision = 'started' AND (e.id IS NULL OR e.intervention <> r.intervention \
           OR e.start_date < r.date OR r.decided > e.start_date \
           OR e.gender IS NOT r.gender OR e.birth_year IS NOT r.birth_year \
           OR e.municipality IS NOT r.municipality OR e.referrer IS NOT r.referrer)",
    );
    none(
        "enrolments that are the start of two referrals",
        "SELECT count(*) FROM (SELECT enrolment FROM referral WHERE enrolment IS NOT NULL \
         GROUP BY enrolment HAVING count(*) > 1)",
    );
    none(
        "referrals with an enrolment but not started, or decided without a date",
        "SELECT count(*) FROM referral WHERE (decision IS 'started') <> (enrolment IS NOT NULL) \
           OR (decision IS NULL) <> (decided IS NULL) OR decided < date",
    );
    // Referrals only to individual interventions; activities anywhere.
    none(
        "referrals to interventions that take none",
        "SELECT count(*) FROM referral r JOIN intervention i ON i.code = r.intervention \
         WHERE i.kind <> 'individual'",
    );
    none(
        "rows of a structural intervention that takes only activities",
        "SELECT (SELECT count(*) FROM enrolment e JOIN intervention i ON i.code = e.intervention WHERE i.kind = 'structural') \
              + (SELECT count(*) FROM volume v JOIN intervention i ON i.code = v.intervention WHERE i.kind = 'structural')",
    );
    none(
        "activities or budgets of unknown interventions",
        "SELECT (SELECT count(*) FROM activity WHERE intervention NOT IN (SELECT code FROM intervention)) \
              + (SELECT count(*) FROM budget WHERE intervention NOT IN (SELECT code FROM intervention))",
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM activity a JOIN intervention i ON i.code = a.intervention WHERE i.kind = 'structural'"
        ) > count(&c, "SELECT count(*) FROM activity") / 2,
        "most activities are structural work"
    );

    // Dates, counts and money within what the commands accept.
    let today = chrono::Local::now().date_naive();
    let t = today.to_string();
    none(
        "activities or referrals dated in the future, or decided in it",
        &format!(
            "SELECT (SELECT count(*) FROM activity WHERE date > '{t}') \
                  + (SELECT count(*) FROM referral WHERE date > '{t}' OR decided > '{t}')"
        ),
    );
    none(
        "dates that are not YYYY-MM-DD",
        "SELECT (SELECT count(*) FROM activity WHERE date(date) IS NOT date) \
              + (SELECT count(*) FROM referral WHERE date(date) IS NOT date OR date(decided) IS NOT decided)",
    );
    none(
        "activities with counts out of range",
        "SELECT count(*) FROM activity WHERE women NOT BETWEEN 0 AND 100000 OR men NOT BETWEEN 0 AND 100000 \
           OR unknown NOT BETWEEN 0 AND 100000 OR women + men + unknown = 0 \
           OR (organisations IS NOT NULL AND organisations NOT BETWEEN 0 AND 100000)",
    );
    none(
        "referrals with a birth year after their date or before 1900",
        "SELECT count(*) FROM referral WHERE birth_year > CAST(substr(date, 1, 4) AS INTEGER) OR birth_year < 1900",
    );
    none(
        "referrals with a gender that is no code",
        "SELECT count(*) FROM referral WHERE gender NOT IN ('woman', 'man')",
    );
    let year = today.year();
    none(
        "budget lines out of range or with an actual cost for a year not begun",
        &format!(
            "SELECT count(*) FROM budget WHERE year NOT BETWEEN 1990 AND {} \
               OR budget NOT BETWEEN 0 AND 1000000000000 \
               OR (actual IS NOT NULL AND (actual NOT BETWEEN 0 AND 1000000000000 OR year > {year}))",
            year + 2
        ),
    );
    // The register reads as of the end of its last year: no actual cost for
    // that year yet, and one for every year before it.
    let last: i64 = count(
        &c,
        "SELECT CAST(max(substr(start_date, 1, 4)) AS INTEGER) FROM enrolment",
    );
    none(
        "actual costs for the register's last year or later",
        &format!("SELECT count(*) FROM budget WHERE actual IS NOT NULL AND year >= {last}"),
    );
    none(
        "closed years without an actual cost",
        &format!("SELECT count(*) FROM budget WHERE actual IS NULL AND year < {last}"),
    );
    // Deviations of a few per cent.
    none(
        "actual costs more than ten per cent off the budget",
        "SELECT count(*) FROM budget WHERE actual IS NOT NULL AND abs(actual - budget) * 10 > budget",
    );

    // The file passes the register's own check.
    env.ok(&["check"]);
}

#[test]
fn a_seed_gives_the_same_activities_referrals_and_budgets() {
    let (a, b) = (generated("3"), generated("3"));
    let (a, b) = (open(&a), open(&b));
    for sql in [
        "SELECT * FROM activity ORDER BY id",
        "SELECT * FROM referral ORDER BY id",
        "SELECT * FROM budget ORDER BY intervention, year",
        "SELECT code, name, parent, kind, target_work_studies, target_step, target_qol FROM intervention ORDER BY code",
    ] {
        let (x, y) = (rows(&a, sql), rows(&b, sql));
        assert!(!x.is_empty(), "{sql}: no rows");
        assert_eq!(x, y, "{sql}");
    }
    // Another seed, another register.
    let c = generated("4");
    let c = open(&c);
    assert_ne!(
        rows(&a, "SELECT * FROM referral ORDER BY id"),
        rows(&c, "SELECT * FROM referral ORDER BY id")
    );
}
