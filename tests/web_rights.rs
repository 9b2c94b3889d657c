//! Participants' rights and the register's records through the real
//! server on a loopback port (SPEC 15 for the roles of section 11): staff
//! take an extract, withdraw consent and erase for persons in their own
//! interventions only; coordinators publish and purge (dry run first);
//! auditors see it all in the trail.

mod common;

use common::web::World;
use reqwest::StatusCode;

fn body(res: reqwest::blocking::Response) -> (StatusCode, String) {
    let s = res.status();
    (s, res.text().unwrap())
}

/// A change answers 303 (a reload does not send it again); the page it
/// leads to, with what was done.
fn after(
    w: &World,
    c: &reqwest::blocking::Client,
    res: reqwest::blocking::Response,
) -> (StatusCode, String) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a change redirects");
    let to = res.headers()["location"].to_str().unwrap().to_string();
    // Counts and dates only: never who.
    assert!(
        to.starts_with("/rights?done=") || to.starts_with("/records?"),
        "{to}"
    );
    body(w.get(c, &to))
}

#[test]
fn staff_take_an_extract_of_a_person_in_their_intervention_only() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    let (status, html) = body(w.post(
        &eva,
        "/rights",
        &[
            ("csrf", &csrf),
            ("pnr", &w.anna.dashed),
            ("what", "extract"),
        ],
    ));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Registerutdrag ur sustrack"), "{html}");
    assert!(html.contains(&w.in_a), "her enrolment id is listed");
    assert!(html.contains("Insats</dt><dd>ALLIN"), "{html}");
    assert!(html.contains("registrerade start"), "{html}");
    assert!(html.contains("tog registerutdrag"), "{html}");
    // The number is never echoed, in any form.
    for form in [&w.anna.dashed, &w.anna.twelve, &w.anna.ten] {
        assert!(
            !html.contains(form.as_str()),
            "the personnummer is on the page"
        );
    }
    // Staff see their own interventions only: the extract says so, and
    // Bertil (in BETA, not eva's) does not exist for her.
    assert!(html.contains("Utdraget omfattar de insatser"), "{html}");
    let before = w.state();
    let (status, html) = body(w.post(
        &eva,
        "/rights",
        &[
            ("csrf", &csrf),
            ("pnr", &w.bertil.dashed),
            ("what", "extract"),
        ],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("ingen person med det numret finns i dina insatser"),
        "{html}"
    );
    assert!(!html.contains(&w.in_b[..8]));
    assert_eq!(w.state(), before);
    // The extract is recorded with her enrolment's short id, never a number.
    let details = w.count("SELECT count(*) FROM audit WHERE action = 'extract'");
    assert_eq!(details, 1);
    // Coordinators, admins and auditors cannot use the page at all.
    for login in ["cecilia", "adam", "greta"] {
        let c = w.sign_in(login);
        let res = w.post(
            &c,
            "/rights",
            &[
                ("csrf", &w.csrf(&c)),
                ("pnr", &w.anna.dashed),
                ("what", "extract"),
            ],
        );
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{login}");
    }
}

#[test]
fn withdraw_and_erase_need_a_confirmation_and_name_every_bad_value() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    let before = w.state();
    for (form, field) in [
        (
            vec![("pnr", w.anna.dashed.as_str()), ("what", "withdraw")],
            "#confirm",
        ),
        (
            vec![("pnr", w.anna.dashed.as_str()), ("what", "erase")],
            "#confirm",
        ),
        (
            vec![
                ("pnr", "19800101-1234"),
                ("what", "withdraw"),
                ("confirm", "yes"),
            ],
            "#pnr",
        ),
        (vec![("what", "extract")], "#pnr"),
    ] {
        let mut f = vec![("csrf", csrf.as_str())];
        f.extend(form.iter().copied());
        let (status, html) = body(w.post(&eva, "/rights", &f));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
        assert!(
            html.contains(&format!("href=\"{field}\"")),
            "{form:?}: {html}"
        );
        assert!(!html.contains("19800101-1234") && !html.contains(&w.anna.dashed));
    }
    let (status, html) = body(w.post(
        &eva,
        "/rights",
        &[("csrf", &csrf), ("pnr", &w.anna.dashed), ("what", "launch")],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("launch") && html.contains("registerutdrag"),
        "{html}"
    );
    assert_eq!(w.state(), before);

    // Withdrawn: the enrolment stays (counted), the person is not found.
    let enrolments = w.count("SELECT count(*) FROM enrolment");
    let (status, html) = after(
        &w,
        &eva,
        w.post(
            &eva,
            "/rights",
            &[
                ("csrf", &csrf),
                ("pnr", &w.anna.dashed),
                ("what", "withdraw"),
                ("confirm", "yes"),
            ],
        ),
    );
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Samtycket är återkallat"), "{html}");
    assert_eq!(w.count("SELECT count(*) FROM enrolment"), enrolments);
    assert_eq!(
        w.count(&format!(
            "SELECT count(*) FROM enrolment WHERE id = '{}'",
            w.in_a
        )),
        0,
        "the enrolment has a new id"
    );
    let (status, html) = body(w.post(&eva, "/find", &[("csrf", &csrf), ("pnr", &w.anna.dashed)]));
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("/enrolments/"),
        "withdrawn, yet found: {html}"
    );

    // Erase: sven erases Bertil (in BETA); the person and enrolment go.
    let sven = w.sign_in("sven");
    let (status, html) = after(
        &w,
        &sven,
        w.post(
            &sven,
            "/rights",
            &[
                ("csrf", &w.csrf(&sven)),
                ("pnr", &w.bertil.dashed),
                ("what", "erase"),
                ("confirm", "yes"),
            ],
        ),
    );
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("är raderade"), "{html}");
    assert_eq!(w.count("SELECT count(*) FROM enrolment"), enrolments - 1);
    // Auditors see both in the trail.
    let greta = w.sign_in("greta");
    let (_, log) = body(w.get(&greta, "/log"));
    assert!(log.contains("withdraw") && log.contains("erase"), "{log}");
}

#[test]
fn coordinators_publish_see_differences_and_download_the_published_figures() {
    let w = World::new();
    let cecilia = w.sign_in("cecilia");
    let csrf = w.csrf(&cecilia);
    let year = chrono::Datelike::year(&(chrono::Local::now().date_naive() - chrono::Days::new(40)))
        .to_string();
    let (status, html) = body(w.get(&cecilia, "/records"));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Ingen period är publicerad än"), "{html}");
    let (status, html) = after(
        &w,
        &cecilia,
        w.post(
            &cecilia,
            "/records/publish",
            &[("csrf", &csrf), ("year", &year)],
        ),
    );
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("{year} är publicerad")), "{html}");
    assert!(html.contains("<td class=\"num\">0</td>"), "{html}");
    // Again without "publish again": refused, saying when and by whom.
    let before = w.count("SELECT count(*) FROM published");
    let (status, html) = body(w.post(
        &cecilia,
        "/records/publish",
        &[("csrf", &csrf), ("year", &year)],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("publicerades redan") && html.contains("av cecilia"),
        "{html}"
    );
    assert_eq!(w.count("SELECT count(*) FROM published"), before);
    // A bad year is named.
    let (status, html) = body(w.post(
        &cecilia,
        "/records/publish",
        &[("csrf", &csrf), ("year", "20x1")],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("href=\"#year\"") && html.contains("20x1"),
        "{html}"
    );
    // A late exit: the report page and the records page say figures differ.
    let eva = w.sign_in("eva");
    let res = w.post(
        &eva,
        "/exit",
        &[
            ("csrf", &w.csrf(&eva)),
            ("enrolment", &w.in_a),
            (
                "date",
                &(chrono::Local::now().date_naive() - chrono::Days::new(1)).to_string(),
            ),
            ("outcome", "work"),
        ],
    );
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    let (_, html) = body(w.get(&cecilia, &format!("/report?year={year}&suppress_below=")));
    assert!(html.contains("siffror skiljer sig nu"), "{html}");
    let (_, html) = body(w.get(&cecilia, "/records"));
    assert!(!html.contains("<td class=\"num\">0</td>"), "{html}");
    // The published figures, as a file: the exit is not in them.
    let res = w.get(
        &cecilia,
        &format!(
            "/records/published?from={year}-01-01&to={year}-12-31&format=json&suppress_below=0"
        ),
    );
    assert_eq!(res.status(), StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&res.text().unwrap()).unwrap();
    let part = common::json_table(&v, "participation");
    assert_eq!(part["total"][2], 0, "exited as published: {part}");
    // A bad format or period is named.
    for (q, given) in [
        ("from=2021-01-01&to=2021-12-31&format=pdf", "'pdf'"),
        ("from=2021-13-01&to=2021-12-31", "'2021-13-01'"),
        ("from=2021-01-01", "''"),
        ("from=2021-01-01&to=2021-12-31&suppress_below=few", "'few'"),
    ] {
        let (status, html) = body(w.get(&cecilia, &format!("/records/published?{q}")));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert!(
            html.contains(&given.replace('\'', "&#39;")) || html.contains(given),
            "{q}: {html}"
        );
    }
    // Staff get neither the page nor the file.
    assert_eq!(w.get(&eva, "/records").status(), StatusCode::FORBIDDEN);
    assert_eq!(
        w.get(
            &eva,
            &format!("/records/published?from={year}-01-01&to={year}-12-31")
        )
        .status(),
        StatusCode::FORBIDDEN
    );
}

#[test]
fn purge_on_the_web_shows_its_dry_run_first_and_refuses_a_future_date() {
    let w = World::new();
    let cecilia = w.sign_in("cecilia");
    let csrf = w.csrf(&cecilia);
    let before = w.state();
    let (status, html) = body(w.post(
        &cecilia,
        "/records/purge",
        &[("csrf", &csrf), ("ended_before", "2999-01-01")],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("href=\"#ended_before\"") && html.contains("2999-01-01"),
        "{html}"
    );
    assert_eq!(w.state(), before);
    // The trail's retention is not the web's to choose: a posted value
    // is ignored and the default stands.
    let (status, html) = body(w.post(
        &cecilia,
        "/records/purge",
        &[
            ("csrf", &csrf),
            ("ended_before", "2021-01-01"),
            ("audit_months", "1"),
        ],
    ));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("äldre än 36 månader"), "{html}");
    // Close Anna's enrolment, then purge what ended before tomorrow.
    let eva = w.sign_in("eva");
    let today = chrono::Local::now().date_naive();
    w.post(
        &eva,
        "/exit",
        &[
            ("csrf", &w.csrf(&eva)),
            ("enrolment", &w.in_a),
            ("date", &(today - chrono::Days::new(2)).to_string()),
            ("outcome", "work"),
        ],
    );
    let cut = today.to_string();
    let (status, html) = body(w.post(
        &cecilia,
        "/records/purge",
        &[("csrf", &csrf), ("ended_before", &cut)],
    ));
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Det här skulle tas bort"), "{html}");
    assert!(html.contains("ALLIN: 1"), "{html}");
    assert_eq!(
        w.count("SELECT count(*) FROM enrolment"),
        2,
        "a dry run removes nothing"
    );
    let (status, html) = after(
        &w,
        &cecilia,
        w.post(
            &cecilia,
            "/records/purge",
            &[("csrf", &csrf), ("ended_before", &cut), ("confirm", "yes")],
        ),
    );
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Gallrat: 1 deltaganden"), "{html}");
    assert_eq!(w.count("SELECT count(*) FROM enrolment"), 1);
    assert_eq!(
        w.count("SELECT count(*) FROM enrolment WHERE exit_date IS NULL"),
        1
    );
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action IN ('purge', 'purge-dry-run')"),
        3
    );
}

#[test]
fn the_quality_page_lists_by_enrolment_for_each_role_its_own() {
    let w = World::new();
    // Both seeded enrolments started 40 days ago without support or
    // education.
    let cecilia = w.sign_in("cecilia");
    let (status, html) = body(w.get(&cecilia, "/quality"));
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Start utan försörjning eller utbildning (2)"),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/enrolments/{}\"", &w.in_a[..8])),
        "{html}"
    );
    assert!(html.contains(&w.in_b[..8]), "{html}");
    // Staff see their own intervention's only.
    let eva = w.sign_in("eva");
    let (status, html) = body(w.get(&eva, "/quality"));
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&w.in_a[..8]) && !html.contains(&w.in_b[..8]),
        "{html}"
    );
    // No person on it, and the look is recorded.
    for p in [&w.anna, &w.bertil] {
        assert!(!html.contains(&p.dashed) && !html.contains(&p.twelve) && !html.contains(&p.ten));
    }
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'check-quality'"),
        2
    );
    // Admins and auditors have no enrolments to look into.
    for login in ["adam", "greta"] {
        let c = w.sign_in(login);
        assert_eq!(
            w.get(&c, "/quality").status(),
            StatusCode::FORBIDDEN,
            "{login}"
        );
    }
}

/// Anna in BETA too (outside eva's ALLIN), looked up by the file's owner,
/// whose look-up names both her enrolments in one audit entry.
fn anna_in_beta(w: &World) -> String {
    use sustrack::register::{self, Lookup, Participant, Person, StartInput};
    let owner = sustrack::actor::Actor::owner("cli:test");
    let today = chrono::Local::now().date_naive();
    let mut conn = w.store.connect().unwrap();
    sustrack::store::write(&mut conn, |tx| {
        let p = sustrack::identity::Personnummer::parse(&w.anna.dashed, today).unwrap();
        let person = Person::identify(&p, w.store.kdf(), true, today)?;
        let e = register::start(
            tx,
            &owner,
            today,
            StartInput {
                intervention: "BETA".into(),
                participant: Participant::Person(person),
                date: today - chrono::Days::new(20),
                facts: Default::default(),
            },
        )?;
        let fp = p.fingerprint(w.store.kdf());
        register::show(tx, &owner, &Lookup::Person(fp))?;
        Ok(e.id)
    })
    .unwrap()
}

#[test]
fn staff_learn_nothing_of_the_persons_enrolments_outside_their_interventions() {
    let w = World::new();
    let beta = anna_in_beta(&w);
    let shown = w.count(&format!(
        "SELECT count(*) FROM audit WHERE action = 'show' AND subject LIKE '%{}%' AND subject LIKE '%{}%'",
        &beta[..8],
        &w.in_a[..8]
    ));
    assert_eq!(shown, 1, "the owner's look-up names both");
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    // The extract lists the owner's look-up, naming only her ALLIN one.
    let (status, html) = body(w.post(
        &eva,
        "/rights",
        &[
            ("csrf", &csrf),
            ("pnr", &w.anna.dashed),
            ("what", "extract"),
        ],
    ));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Deltagande 1 av 1"), "{html}");
    assert!(html.contains("visade uppgifterna"), "{html}");
    assert!(
        !html.contains(&beta[..8]),
        "BETA's enrolment leaked: {html}"
    );
    // Withdrawing tells her of her own intervention's enrolment only.
    let (status, html) = after(
        &w,
        &eva,
        w.post(
            &eva,
            "/rights",
            &[
                ("csrf", &csrf),
                ("pnr", &w.anna.dashed),
                ("what", "withdraw"),
                ("confirm", "yes"),
            ],
        ),
    );
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Personens 1 deltaganden"), "{html}");
    // Both enrolments are withdrawn (consent is to the register), and
    // both still count.
    assert_eq!(w.count("SELECT count(*) FROM enrolment"), 3);
}
