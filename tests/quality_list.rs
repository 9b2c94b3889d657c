//! `check --quality` (SPEC section 15): each rule on a fixture with its
//! near misses at the boundaries, through the real binary; no identity in
//! the output; the list is recorded in the audit trail.

mod common;

use std::collections::BTreeSet;

use chrono::{Days, Months, NaiveDate};
use common::{pnr, Env};

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn start(env: &Env, iv: &str, p: &str, date: NaiveDate, full: bool) -> String {
    let d = date.to_string();
    let mut args = vec![
        "start",
        "--intervention",
        iv,
        "--pnr",
        p,
        "--consent",
        "--date",
        &d,
    ];
    if full {
        args.extend_from_slice(&[
            "--support",
            "sickness_benefit",
            "--education",
            "upper_secondary",
        ]);
    }
    env.ok(&args).trim().to_string()
}

fn sql(env: &Env, q: &str) {
    rusqlite::Connection::open(&env.db)
        .unwrap()
        .execute_batch(q)
        .unwrap();
}

/// (rule id, intervention, enrolment short id or "-") of every listed row.
fn listed(out: &str) -> BTreeSet<(String, String, String)> {
    let mut rule = String::new();
    let mut set = BTreeSet::new();
    for line in out.lines() {
        if let Some(open) = line.rfind(" (") {
            if line.ends_with(|c: char| c.is_ascii_digit()) && line.contains("): ") {
                rule = line[open + 2..line.rfind("): ").unwrap()].to_string();
                continue;
            }
        }
        let cells: Vec<&str> = line.split_whitespace().collect();
        if cells.len() >= 2
            && cells[0].starts_with(|c: char| c.is_ascii_uppercase())
            && cells[0]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            && !line.starts_with("---")
        {
            set.insert((rule.clone(), cells[0].to_string(), cells[1].to_string()));
        }
    }
    set
}

#[test]
fn each_rule_lists_what_it_should_and_not_its_near_misses() {
    let env = Env::new();
    let t = today();
    for (code, kind) in [
        ("ALLIN", "individual"),
        ("OLD", "individual"),
        ("EDGE", "individual"),
        ("EMPTY", "individual"),
        ("EMPTYOLD", "individual"),
        ("VOL", "volume"),
        ("VOLNEW", "volume"),
    ] {
        env.ok(&["intervention", "add", code, "--name", code, "--kind", kind]);
    }
    // A project whose own rows are none but whose sub-intervention
    // registers is not idle.
    env.ok(&["intervention", "add", "PROJ", "--name", "ESF-projekt"]);
    env.ok(&[
        "intervention",
        "add",
        "SUB",
        "--name",
        "Delinsats",
        "--parent",
        "PROJ",
    ]);
    let year_ago = format!("{}T08:00:00Z", t - Months::new(12));
    sql(
        &env,
        &format!(
            "UPDATE intervention SET created_at = '{year_ago}' WHERE code IN ('OLD', 'EDGE', 'EMPTYOLD', 'VOL', 'VOLNEW', 'PROJ', 'SUB')"
        ),
    );
    let people: Vec<String> = (0..10).map(|i| pnr("19800101", 100 + 2 * i)).collect();
    // Rule 1: open, started a day more than 24 months ago; its near miss
    // started exactly 24 months ago.
    let open_long = start(
        &env,
        "ALLIN",
        &people[0],
        t - Months::new(24) - Days::new(1),
        true,
    );
    let open_edge = start(&env, "ALLIN", &people[1], t - Months::new(24), true);
    // Rule 2: exited without support after (step progress given); its near
    // miss has both.
    let no_follow = start(&env, "ALLIN", &people[2], t - Days::new(60), true);
    let ex = (t - Days::new(10)).to_string();
    env.ok(&[
        "exit",
        "--id",
        &no_follow,
        "--date",
        &ex,
        "--outcome",
        "work",
        "--step-progress",
        "yes",
    ]);
    let followed = start(&env, "ALLIN", &people[3], t - Days::new(60), true);
    env.ok(&[
        "exit",
        "--id",
        &followed,
        "--date",
        &ex,
        "--outcome",
        "work",
        "--step-progress",
        "no",
        "--support-after",
        "none",
    ]);
    // Rule 3: a start without education (support given).
    let no_edu = start(&env, "ALLIN", &people[4], t - Days::new(30), false);
    env.ok(&["edit", &no_edu, "--support", "sickness_benefit"]);
    // Rule 4: a start dated tomorrow, as an old file or a hand edit leaves
    // it (the commands refuse future dates).
    let future = start(&env, "ALLIN", &people[5], t - Days::new(5), true);
    sql(
        &env,
        &format!(
            "UPDATE enrolment SET start_date = '{}' WHERE id = '{future}'",
            t + Days::new(1)
        ),
    );
    // Rule 5: OLD's latest registration is a day more than 6 months old,
    // EDGE's exactly 6 months; EMPTYOLD has none and was added a year ago,
    // EMPTY none but was added today; VOL's latest month is 7 months back,
    // VOLNEW's 6.
    start(
        &env,
        "OLD",
        &people[6],
        t - Months::new(6) - Days::new(1),
        true,
    );
    start(&env, "EDGE", &people[7], t - Months::new(6), true);
    start(&env, "SUB", &people[8], t - Days::new(3), true);
    let month = |m: u32| (t - Months::new(m)).format("%Y-%m").to_string();
    env.ok(&[
        "volume",
        "add",
        "--intervention",
        "VOL",
        "--month",
        &month(7),
        "--women",
        "3",
        "--men",
        "2",
    ]);
    env.ok(&[
        "volume",
        "add",
        "--intervention",
        "VOLNEW",
        "--month",
        &month(6),
        "--women",
        "3",
        "--men",
        "2",
    ]);

    let out = env.ok(&["check", "--quality"]);
    let s = |id: &str| id[..8].to_string();
    let r = |rule: &str, iv: &str, id: String| (rule.to_string(), iv.to_string(), id);
    let want: BTreeSet<_> = [
        r("open_over_24_months", "ALLIN", s(&open_long)),
        r("exit_without_follow_up", "ALLIN", s(&no_follow)),
        r("start_without_support_or_education", "ALLIN", s(&no_edu)),
        r("start_in_future", "ALLIN", s(&future)),
        r("intervention_idle_6_months", "OLD", "-".into()),
        r("intervention_idle_6_months", "EMPTYOLD", "-".into()),
        r("intervention_idle_6_months", "VOL", "-".into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(listed(&out), want, "{out}");
    assert!(!out.contains(&s(&open_edge)) && !out.contains(&s(&followed)));
    // What is missing is said.
    assert!(
        out.contains("försörjning efter avslut saknas") && out.contains("utbildning saknas"),
        "{out}"
    );
    assert!(!out.contains("stegförflyttning saknas"), "{out}");
    assert!(
        out.trim_end()
            .ends_with("7 att se över (ingen person visas; följ registreringens id)"),
        "{out}"
    );
    // No identity in any form.
    for p in &people {
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        assert!(!out.contains(p.as_str()) && !out.contains(&digits) && !out.contains(&digits[2..]));
    }
    assert!(!out.to_lowercase().contains("fingerprint"));
    // In English too, the same rows.
    let en = env.ok(&["check", "--quality", "--lang", "en"]);
    assert_eq!(listed(&en), want, "{en}");
    assert!(en.contains("Exit without follow-up answers"), "{en}");
    // Each list is recorded, with counts per rule and no ids.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let detail: String = conn
        .query_row(
            "SELECT detail FROM audit WHERE action = 'check-quality' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        detail,
        "open_over_24_months 1, exit_without_follow_up 1, start_without_support_or_education 1, start_in_future 1, intervention_idle_6_months 3"
    );
    // A bad language is named; the plain check is unchanged by the flag.
    let err = env.fails(&["check", "--quality", "--lang", "fi"], 2);
    assert!(err.contains("--lang") && err.contains("sv, en"), "{err}");
}

#[test]
fn an_empty_register_has_nothing_to_list() {
    let env = Env::new();
    let out = env.ok(&["check", "--quality"]);
    assert!(
        out.trim_end()
            .ends_with("0 att se över (ingen person visas; följ registreringens id)"),
        "{out}"
    );
    assert_eq!(listed(&out), BTreeSet::new());
}
