//! Activities, referrals and budgets through the real server on a
//! loopback port (SPEC 13 for the roles of section 11): staff register
//! activities and referrals in their own interventions and decide them;
//! another intervention does not exist for them; coordinators set budgets.
//! Every refused form names its fields, writes nothing and answers 422;
//! a personnummer typed into any field is never shown again.

mod common;

use chrono::Datelike;
use common::web::World;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use sustrack::actor::Actor;
use sustrack::beyond::{self, ReferralInput};
use sustrack::codes::{Gender, InterventionKind};
use sustrack::store;

fn body(res: Response) -> (StatusCode, String) {
    let s = res.status();
    (s, res.text().unwrap())
}

/// A change answers 303 to a page of its own group (a reload does not
/// send it again); that page.
fn after(w: &World, c: &Client, res: Response, to: &str) -> String {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a change redirects");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(to), "{location} is not {to}…");
    let (status, html) = body(w.get(c, &location));
    assert_eq!(status, StatusCode::OK, "{location}");
    html
}

fn today() -> chrono::NaiveDate {
    chrono::Local::now().date_naive()
}

fn days_ago(n: u64) -> String {
    (today() - chrono::Days::new(n)).to_string()
}

/// Everything in the file (`common::dump`).
fn dump(w: &World) -> String {
    common::dump(&w.path)
}

/// The file without its audit trail, and the number of audit entries that
/// are not reads: what a refused decision must leave as it was (its form
/// page shows enrolments, and that read is recorded).
fn written(w: &World) -> String {
    let d = dump(w);
    let out: Vec<&str> = d
        .lines()
        .filter(|l| !l.starts_with("audit:") && !l.starts_with("audit_count:"))
        .collect();
    format!(
        "{}\nnon-read audit entries: {}",
        out.join("\n"),
        w.count("SELECT count(*) FROM audit WHERE action NOT IN ('list', 'referral list')")
    )
}

/// A referral registered by the file's owner (the CLI).
fn referral_in(w: &World, code: &str, date: chrono::NaiveDate) -> String {
    let mut conn = w.store.connect().unwrap();
    store::write(&mut conn, |tx| {
        beyond::referral_add(
            tx,
            &Actor::owner("cli:test"),
            today(),
            ReferralInput {
                intervention: code.into(),
                date,
                gender: Gender::Man,
                birth_year: Some(1985),
                municipality: None,
                referrer: None,
            },
        )
    })
    .unwrap()
    .id
}

/// A form as sent: (name, value) pairs.
type Fields<'a> = Vec<(&'a str, &'a str)>;

fn post(w: &World, c: &Client, path: &str, csrf: &str, form: &[(&str, &str)]) -> Response {
    let mut f = vec![("csrf", csrf)];
    f.extend(form.iter().copied());
    w.post(c, path, &f)
}

#[test]
fn staff_register_an_activity_and_a_referral_and_decide_it_started() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);

    // The nav leads there; the picker lists her intervention only.
    let (_, home) = body(w.get(&eva, "/"));
    assert!(home.contains("href=\"/activities\""), "{home}");
    assert!(!home.contains("href=\"/budgets\""), "staff set no budgets");
    let (status, html) = body(w.get(&eva, "/activities"));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("href=\"/activities/ALLIN\""), "{html}");
    assert!(!html.contains("/activities/BETA"), "{html}");

    // The referral form has no personnummer field.
    let (status, html) = body(w.get(&eva, "/activities/ALLIN"));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("action=\"/activities/ALLIN/referrals\""));
    assert!(
        !html.contains("name=\"pnr\""),
        "a referral holds no personnummer"
    );
    assert!(html.contains("Inga remisser väntar på beslut"), "{html}");

    // An activity.
    let res = post(
        &w,
        &eva,
        "/activities/ALLIN",
        &csrf,
        &[
            ("date", &days_ago(10)),
            ("kind", "seminar"),
            ("women", "5"),
            ("men", "3"),
            ("unknown", ""),
            ("organisations", "4"),
        ],
    );
    let html = after(&w, &eva, res, "/activities/ALLIN?done=activity");
    assert!(html.contains("Aktiviteten är registrerad."), "{html}");
    assert!(
        html.contains(&format!(
            "<th scope=\"row\">{}</th>\n    <td>Seminarium</td>",
            days_ago(10)
        )),
        "{html}"
    );
    assert_eq!(
        w.count("SELECT count(*) FROM activity WHERE intervention = 'ALLIN' AND women = 5 AND men = 3 AND unknown = 0 AND organisations = 4"),
        1
    );

    // A referral, dated before Anna's start (40 days ago).
    let res = post(
        &w,
        &eva,
        "/activities/ALLIN/referrals",
        &csrf,
        &[
            ("date", &days_ago(45)),
            ("gender", "woman"),
            ("birth_year", "1990"),
            ("municipality", "Vänersborg"),
            ("referrer", "af"),
        ],
    );
    let id: String = {
        let conn = w.store.connect().unwrap();
        conn.query_row("SELECT id FROM referral", [], |r| r.get(0))
            .unwrap()
    };
    let html = after(
        &w,
        &eva,
        res,
        &format!("/activities/ALLIN?done=referral&id={}", &id[..8]),
    );
    assert!(html.contains(&format!("Remissen {} är registrerad", &id[..8])));
    assert!(html.contains("Remisser som väntar på beslut (1)"), "{html}");
    assert!(
        html.contains(&format!("href=\"/referrals/{id}\"")),
        "{html}"
    );
    assert!(html.contains("Vänersborg") && html.contains("Arbetsförmedlingen"));
    assert_eq!(
        w.count("SELECT count(*) FROM referral WHERE gender = 'woman' AND birth_year = 1990 AND municipality = '1487' AND referrer = 'af' AND decision IS NULL"),
        1
    );

    // Its decision: the enrolments that started on or after it, by short
    // id and start date, never who.
    let (status, html) = body(w.get(&eva, &format!("/referrals/{id}")));
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("<option value=\"{}\"", w.in_a)),
        "{html}"
    );
    assert!(html.contains(&format!("{} – start {}", &w.in_a[..8], days_ago(40))));
    for pnr in [&w.anna.dashed, &w.anna.twelve, &w.anna.ten] {
        assert!(!html.contains(pnr.as_str()));
    }
    let res = post(
        &w,
        &eva,
        &format!("/referrals/{id}"),
        &csrf,
        &[
            ("decision", "started"),
            ("date", &days_ago(40)),
            ("enrolment", &w.in_a),
        ],
    );
    let html = after(&w, &eva, res, "/activities/ALLIN?done=decided");
    assert!(html.contains("Beslutet är registrerat."), "{html}");
    assert!(html.contains("Inga remisser väntar på beslut"), "{html}");
    assert!(!html.contains(&format!("/referrals/{id}")), "{html}");
    assert_eq!(
        w.count(&format!(
            "SELECT count(*) FROM referral WHERE decision = 'started' AND decided = '{}' AND enrolment = '{}'",
            days_ago(40),
            w.in_a
        )),
        1
    );
    // Decided once: the page says so and offers no form.
    let (status, html) = body(w.get(&eva, &format!("/referrals/{id}")));
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Beslutet är registrerat: Påbörjad insats"),
        "{html}"
    );
    assert!(!html.contains("name=\"decision\""));
    // Each change is in the trail, by her.
    for action in ["activity add", "referral add", "referral decide"] {
        let rows = w.audit_details(action);
        assert_eq!(rows.len(), 1, "{action}: {rows:?}");
        assert!(rows[0].starts_with("eva | "), "{action}: {rows:?}");
    }
    // English works too.
    let res = post(&w, &eva, "/lang", &csrf, &[("lang", "en"), ("back", "/")]);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = body(w.get(&eva, "/activities/ALLIN"));
    assert!(
        html.contains("Register an activity") && html.contains("Seminar"),
        "{html}"
    );
}

#[test]
fn another_intervention_does_not_exist_for_staff() {
    let w = World::new();
    let beta = referral_in(&w, "BETA", today() - chrono::Days::new(3));
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    let before = dump(&w);
    let (_, unknown) = body(w.get(&eva, "/activities/NOSUCH"));
    for path in [
        "/activities/BETA".to_string(),
        "/activities/PAR".to_string(),
        "/activities/NOSUCH".to_string(),
        format!("/referrals/{beta}"),
        format!("/referrals/{}", &beta[..8]),
    ] {
        let (status, html) = body(w.get(&eva, &path));
        assert_eq!(status, StatusCode::NOT_FOUND, "GET {path}");
        assert_eq!(
            html, unknown,
            "GET {path}: the same answer as an unknown code"
        );
        assert!(!html.contains(&beta[..8]));
    }
    // Valid and invalid values alike: not found, nothing written.
    for (path, form) in [
        (
            "/activities/BETA".to_string(),
            vec![
                ("date", days_ago(1)),
                ("kind", "seminar".into()),
                ("women", "2".into()),
            ],
        ),
        (
            "/activities/BETA".to_string(),
            vec![("date", "bad".into()), ("kind", "bad".into())],
        ),
        (
            "/activities/BETA/referrals".to_string(),
            vec![("date", days_ago(1)), ("gender", "man".into())],
        ),
        (
            "/activities/BETA/referrals".to_string(),
            vec![("date", "bad".into())],
        ),
        (
            format!("/referrals/{beta}"),
            vec![("decision", "declined".into()), ("date", days_ago(1))],
        ),
        (
            format!("/referrals/{beta}"),
            vec![("decision", "bad".into())],
        ),
    ] {
        let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, html) = body(post(&w, &eva, &path, &csrf, &f));
        assert_eq!(status, StatusCode::NOT_FOUND, "POST {path} {form:?}");
        assert!(
            !html.contains("BETA") && !html.contains(&beta[..8]),
            "{html}"
        );
    }
    assert_eq!(dump(&w), before, "nothing was written");
    // SPEC 11's role table: activities and referrals are staff's in their
    // own interventions and the coordinators' in all; admins and auditors
    // are refused.
    let c = w.sign_in("cecilia");
    for path in ["/activities/ALLIN", "/activities/BETA", "/activities"] {
        let (status, _) = body(w.get(&c, path));
        assert_eq!(status, StatusCode::OK, "cecilia {path}");
    }
    for login in ["adam", "greta"] {
        let c = w.sign_in(login);
        let (status, _) = body(w.get(&c, "/activities/ALLIN"));
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
        let (status, _) = body(w.get(&c, "/activities"));
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
    }
}

#[test]
fn bad_values_are_named_per_field_and_nothing_is_written() {
    let w = World::new();
    let open = referral_in(&w, "ALLIN", today() - chrono::Days::new(45));
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    let before = written(&w);
    let tomorrow = (today() + chrono::Days::new(1)).to_string();
    let d400 = days_ago(400);
    let cases: Vec<(&str, Fields, Vec<&str>, Vec<&str>)> = vec![
        (
            "/activities/ALLIN",
            vec![
                ("date", "2025-02-30"),
                ("kind", "dance"),
                ("women", "many"),
                ("men", "-1"),
                ("unknown", "100001"),
                ("organisations", "x"),
            ],
            vec![
                "activity_date",
                "kind",
                "women",
                "men",
                "unknown",
                "organisations",
            ],
            vec![
                "February 2025 has 28 days",
                "&#39;dance&#39;",
                "seminar",
                "&#39;many&#39;",
                "0 till 100 000",
            ],
        ),
        (
            "/activities/ALLIN",
            vec![("date", &tomorrow), ("kind", "training")],
            vec!["activity_date", "women"],
            vec!["is in the future", "Deltagare saknas"],
        ),
        (
            "/activities/ALLIN/referrals",
            vec![
                ("date", "yesterday"),
                ("birth_year", "19x"),
                ("municipality", "Atlantis"),
                ("referrer", "boss"),
            ],
            vec![
                "referral_date",
                "gender",
                "birth_year",
                "municipality",
                "referrer",
            ],
            vec![
                "yesterday&#39; is not a date",
                "Kön saknas",
                "&#39;boss&#39;",
                "Atlantis",
            ],
        ),
        (
            "/activities/ALLIN/referrals",
            vec![("date", &d400), ("gender", "man"), ("birth_year", "2099")],
            vec!["birth_year"],
            vec!["2099 is out of range"],
        ),
    ];
    for (path, form, fields, words) in &cases {
        let (status, html) = body(post(&w, &eva, path, &csrf, form));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {form:?}");
        for f in fields {
            assert!(
                html.contains(&format!("href=\"#{f}\"")),
                "{path} {form:?}: no error for {f}\n{html}"
            );
            assert!(html.contains(&format!("id=\"{f}\"")), "{f} is a field");
        }
        for word in words {
            assert!(html.contains(word), "{path} {form:?}: no {word:?}\n{html}");
        }
        // The values entered are kept.
        let (_, v) = form[0];
        assert!(html.contains(&format!("value=\"{v}\"")), "{v} kept");
        assert_eq!(written(&w), before, "{path} {form:?} wrote something");
    }

    // Decisions: the referral arrived 45 days ago; Anna (ALLIN) started 40
    // days ago, Bertil's enrolment is in BETA (not hers).
    let before = written(&w);
    let path = format!("/referrals/{open}");
    let in_b = w.in_b.clone();
    let in_a = w.in_a.clone();
    let d50 = days_ago(50);
    let d40 = days_ago(40);
    let cases: Vec<(Fields, &str, &str)> = vec![
        (
            vec![("decision", "maybe"), ("date", &d40)],
            "decision",
            "&#39;maybe&#39;",
        ),
        (vec![("date", &d40)], "decision", "Beslut saknas"),
        (vec![("decision", "declined")], "date", "Datum saknas"),
        (
            vec![("decision", "started"), ("date", &d40)],
            "enrolment",
            "välj den inskrivning som remissen blev",
        ),
        (
            vec![
                ("decision", "declined"),
                ("date", &d40),
                ("enrolment", &in_a),
            ],
            "enrolment",
            "bara när beslutet är påbörjad insats",
        ),
        (
            vec![("decision", "declined"), ("date", &d50)],
            "date",
            "before the referral&#39;s date",
        ),
        (
            vec![
                ("decision", "started"),
                ("date", &d40),
                ("enrolment", &in_b),
            ],
            "enrolment",
            "not an enrolment of this intervention",
        ),
    ];
    for (form, field, word) in &cases {
        let (status, html) = body(post(&w, &eva, &path, &csrf, form));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}\n{html}");
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "{form:?}: {html}"
        );
        assert!(html.contains(word), "{form:?}: no {word:?}\n{html}");
        assert!(!html.contains(&in_b[..8]), "BETA's enrolment is not shown");
        assert_eq!(written(&w), before, "{form:?} wrote something");
    }
    assert_eq!(
        w.count("SELECT count(*) FROM referral WHERE decision IS NOT NULL"),
        0
    );
}

#[test]
fn a_personnummer_typed_into_any_field_is_never_shown_again() {
    let w = World::new();
    let open = referral_in(&w, "ALLIN", today() - chrono::Days::new(45));
    let eva = w.sign_in("eva");
    let cecilia = w.sign_in("cecilia");
    let (csrf_e, csrf_c) = (w.csrf(&eva), w.csrf(&cecilia));
    let before = written(&w);
    let forms = [&w.anna.dashed, &w.anna.twelve, &w.anna.ten];
    let decide = format!("/referrals/{open}");
    let d40 = days_ago(40);
    let d1 = days_ago(1);
    let year = today().year().to_string();
    // Each form, valid but for the one field.
    let pages: Vec<(&Client, &str, &str, Fields)> = vec![
        (
            &eva,
            &csrf_e,
            "/activities/ALLIN",
            vec![
                ("date", &d1),
                ("kind", "seminar"),
                ("women", "1"),
                ("men", "1"),
                ("unknown", "0"),
                ("organisations", "1"),
            ],
        ),
        (
            &eva,
            &csrf_e,
            "/activities/ALLIN/referrals",
            vec![
                ("date", &d1),
                ("gender", "man"),
                ("birth_year", "1980"),
                ("municipality", "Vänersborg"),
                ("referrer", "af"),
            ],
        ),
        (
            &eva,
            &csrf_e,
            &decide,
            vec![
                ("decision", "started"),
                ("date", &d40),
                ("enrolment", &w.in_a),
            ],
        ),
        (
            &cecilia,
            &csrf_c,
            "/budgets",
            vec![
                ("intervention", "ALLIN"),
                ("year", &year),
                ("budget", "100000"),
                ("actual", "1000"),
            ],
        ),
    ];
    let mut tried = 0;
    for (c, csrf, path, valid) in &pages {
        for (field, _) in valid {
            for pnr in forms {
                let form: Vec<(&str, &str)> = valid
                    .iter()
                    .map(|&(k, v)| {
                        if k == *field {
                            (k, pnr.as_str())
                        } else {
                            (k, v)
                        }
                    })
                    .collect();
                let (status, html) = body(post(&w, c, path, csrf, &form));
                assert_eq!(
                    status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{path} {field}: {html}"
                );
                assert!(
                    html.contains(&format!("href=\"#{field}\""))
                        || html.contains(&format!(
                            "href=\"#{}_{field}\"",
                            if path.contains("referrals") {
                                "referral"
                            } else {
                                "activity"
                            }
                        )),
                    "{path} {field}: the field is named\n{html}"
                );
                let digits: String = pnr.chars().filter(char::is_ascii_digit).collect();
                for shown in forms {
                    assert!(!html.contains(shown.as_str()), "{path} {field}: {html}");
                }
                assert!(
                    !html.contains(&digits[digits.len() - 10..]),
                    "{path} {field}"
                );
                tried += 1;
            }
        }
    }
    assert_eq!(tried, 3 * (6 + 5 + 3 + 4));
    assert_eq!(written(&w), before, "nothing was written");
}

#[test]
fn coordinators_set_a_budget_and_see_it_and_staff_cannot() {
    let w = World::new();
    let cecilia = w.sign_in("cecilia");
    let csrf = w.csrf(&cecilia);
    let this = today().year();
    let (_, home) = body(w.get(&cecilia, "/"));
    assert!(home.contains("href=\"/budgets\""), "{home}");
    assert!(home.contains("href=\"/activities\""), "{home}");
    // Budgets are the coordinators' alone (SPEC 11): not the admin's.
    let adam = w.sign_in("adam");
    let (status, _) = body(w.get(&adam, "/budgets"));
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, html) = body(w.get(&cecilia, "/budgets"));
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!("<option value=\"{this}\" selected>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("Ingen insats har budget för {this}")),
        "{html}"
    );

    let y = this.to_string();
    let res = post(
        &w,
        &cecilia,
        "/budgets",
        &csrf,
        &[
            ("intervention", "ALLIN"),
            ("year", &y),
            ("budget", "1 250 000"),
            ("actual", ""),
        ],
    );
    let html = after(
        &w,
        &cecilia,
        res,
        &format!("/budgets?year={this}&done=set&intervention=ALLIN"),
    );
    assert!(
        html.contains(&format!("Budgeten för ALLIN {this} är sparad.")),
        "{html}"
    );
    assert!(html.contains("1\u{a0}250\u{a0}000"), "{html}");
    // Revised with the year's actual cost: it replaces the line.
    let res = post(
        &w,
        &cecilia,
        "/budgets",
        &csrf,
        &[
            ("intervention", "allin"),
            ("year", &y),
            ("budget", "1250000"),
            ("actual", "1 300 000 kr"),
        ],
    );
    let html = after(
        &w,
        &cecilia,
        res,
        &format!("/budgets?year={this}&done=replaced&intervention=ALLIN"),
    );
    assert!(html.contains("ersätter den tidigare"), "{html}");
    assert!(
        html.contains("1\u{a0}300\u{a0}000") && html.contains("+50\u{a0}000"),
        "{html}"
    );
    assert_eq!(
        w.count(&format!("SELECT count(*) FROM budget WHERE intervention = 'ALLIN' AND year = {this} AND budget = 1250000 AND actual = 1300000")),
        1
    );
    assert_eq!(w.audit_details("budget set").len(), 1);
    assert_eq!(w.audit_details("budget replace").len(), 1);
    // Another year's page does not show it; the revise link fills the form.
    let (_, html) = body(w.get(&cecilia, &format!("/budgets?year={}", this - 1)));
    assert!(!html.contains("1\u{a0}250\u{a0}000"), "{html}");
    let (_, html) = body(w.get(
        &cecilia,
        &format!("/budgets?year={this}&intervention=ALLIN"),
    ));
    assert!(
        html.contains("value=\"1 250 000\"") && html.contains("value=\"1 300 000\""),
        "{html}"
    );

    // Bad values: named, nothing written.
    let others = [
        ("eva", w.sign_in("eva")),
        ("greta", w.sign_in("greta")),
        ("adam", w.sign_in("adam")),
    ];
    let before = dump(&w);
    let next = (this + 1).to_string();
    for (form, fields, word) in [
        (
            vec![
                ("intervention", ""),
                ("year", "20x6"),
                ("budget", "lots"),
                ("actual", "-5"),
            ],
            vec!["intervention", "year", "budget", "actual"],
            "lots&#39; is not an amount",
        ),
        (
            vec![
                ("intervention", "ALLIN"),
                ("year", next.as_str()),
                ("budget", "100"),
                ("actual", "100"),
            ],
            vec!["actual"],
            "has not begun",
        ),
        (
            vec![
                ("intervention", "ALLIN"),
                ("year", "1900"),
                ("budget", "100"),
            ],
            vec!["year"],
            "1900 is out of range",
        ),
        (
            vec![
                ("intervention", "NOSUCH"),
                ("year", y.as_str()),
                ("budget", "100"),
            ],
            vec!["intervention"],
            "NOSUCH",
        ),
    ] {
        let (status, html) = body(post(&w, &cecilia, "/budgets", &csrf, &form));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        for f in fields {
            assert!(
                html.contains(&format!("href=\"#{f}\"")),
                "{form:?}: {f}\n{html}"
            );
        }
        assert!(html.contains(word), "{form:?}: no {word}\n{html}");
    }
    assert_eq!(dump(&w), before);

    // Staff and auditors cannot reach the page, nor send its form.
    for (login, c) in &others {
        let (status, _) = body(w.get(c, "/budgets"));
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
        let (status, _) = body(post(
            &w,
            c,
            "/budgets",
            &w.csrf(c),
            &[("intervention", "ALLIN"), ("year", &y), ("budget", "1")],
        ));
        assert_eq!(status, StatusCode::FORBIDDEN, "{login}");
    }
    assert_eq!(dump(&w), before);
}

#[test]
fn a_structural_intervention_takes_activities_only() {
    let w = World::new();
    {
        let mut conn = w.store.connect().unwrap();
        store::write(&mut conn, |tx| {
            let mut i = common::web::intervention("NAT", Some("ALLIN"));
            i.kind = InterventionKind::Structural;
            sustrack::register::intervention_add(tx, &Actor::owner("cli:test"), i)
        })
        .unwrap();
    }
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    let (status, html) = body(w.get(&eva, "/activities/NAT"));
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("action=\"/activities/NAT/referrals\""),
        "{html}"
    );
    assert!(html.contains("tar bara emot aktiviteter"), "{html}");
    let before = dump(&w);
    let (status, html) = body(post(
        &w,
        &eva,
        "/activities/NAT/referrals",
        &csrf,
        &[("date", &days_ago(1)), ("gender", "man")],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("tar inte emot remisser"), "{html}");
    assert_eq!(dump(&w), before);
    let res = post(
        &w,
        &eva,
        "/activities/NAT",
        &csrf,
        &[
            ("date", &days_ago(1)),
            ("kind", "network"),
            ("unknown", "12"),
        ],
    );
    let html = after(&w, &eva, res, "/activities/NAT?done=activity");
    assert!(html.contains("<td>Nätverksträff</td>"), "{html}");
}

#[test]
fn a_form_sent_after_the_session_ended_comes_back_filled_in() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    w.pass(31 * 60);
    let before = dump(&w);
    let d3 = days_ago(3);
    let res = post(
        &w,
        &eva,
        "/activities/ALLIN",
        &csrf,
        &[
            ("date", &d3),
            ("kind", "training"),
            ("women", "4"),
            ("men", &w.anna.dashed),
        ],
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?ended=1");
    assert_eq!(dump(&w), before, "nothing is saved");
    let res = w.try_sign_in(&eva, "eva", common::web::PASSWORD, true);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/activities/ALLIN");
    let (status, html) = body(w.get(&eva, "/activities/ALLIN"));
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "id=\"activity_date\" name=\"date\" type=\"text\" value=\"{d3}\""
        )),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"training\" selected>"),
        "{html}"
    );
    assert!(
        html.contains("id=\"women\" name=\"women\" type=\"text\" value=\"4\""),
        "{html}"
    );
    // A value shaped like a personnummer was not kept.
    assert!(
        html.contains("id=\"men\" name=\"men\" type=\"text\" value=\"\""),
        "{html}"
    );
    assert!(!html.contains(&w.anna.dashed) && !html.contains(&w.anna.ten));
    // The referral form is not the one filled in.
    assert!(html.contains("id=\"referral_date\" name=\"date\" type=\"text\" value=\"\""));
}

#[test]
fn the_undecided_referrals_shown_are_recorded_as_a_read() {
    let w = World::new();
    referral_in(&w, "ALLIN", today() - chrono::Days::new(3));
    let eva = w.sign_in("eva");
    let reads = || {
        w.count("SELECT count(*) FROM audit WHERE action = 'referral list' AND subject = 'ALLIN' AND actor = 'eva'")
    };
    // The overview shows counts only: no read recorded.
    let (status, _) = body(w.get(&eva, "/activities"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reads(), 0);
    let (status, html) = body(w.get(&eva, "/activities/ALLIN"));
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(reads(), 1);
}
