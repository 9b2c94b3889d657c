//! A form sent after its session ended keeps its values, never the
//! personnummer, once the user has signed in again (SPEC section 11); and
//! nothing is saved until they send it again.

use sustrack::accounts;
use sustrack::actor::{Actor, Role};
use sustrack::codes::InterventionKind;
use sustrack::identity::KdfProfile;
use sustrack::model::Intervention;
use sustrack::register;
use sustrack::store::{self, Store};
use sustrack::web::{Options, Running};

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

fn count(store: &Store, sql: &str) -> i64 {
    store
        .connect()
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_form_sent_after_the_session_ended_comes_back_without_the_personnummer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let owner = Actor::owner("cli:test");
    let store = Store::create(&path, KdfProfile::Test, &owner).unwrap();
    let mut conn = store.connect().unwrap();
    store::write(&mut conn, |tx| {
        register::intervention_add(
            tx,
            &owner,
            Intervention {
                code: "ALLIN".into(),
                name: "Alla in".into(),
                parent: None,
                kind: InterventionKind::Individual,
                target_work_studies: None,
                target_step: None,
                target_qol: None,
            },
        )?;
        accounts::add_demo(
            tx,
            store.kdf(),
            "eva",
            vec![Role::Staff],
            vec!["ALLIN".into()],
            "a long demo password",
        )
    })
    .unwrap();
    drop(conn);
    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    opts.demo = true;
    let server = Running::start(Store::open(&path, &owner).unwrap(), opts).unwrap();
    let base = format!("http://{}", server.addr);
    let client = reqwest::blocking::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let enrolments_before = count(&store, "SELECT count(*) FROM enrolment");

    // The session has ended (here: there never was one); the form is sent.
    let res = client
        .post(format!("{base}/start"))
        .header("Cookie", "sustrack_session=ended")
        .form(&[
            ("csrf", "stale"),
            ("intervention", "ALLIN"),
            ("pnr", "19811218-9876"),
            ("consent", "yes"),
            ("date", "2021-05-05"),
            ("support", "sickness_benefit"),
        ])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?ended=1");
    assert_eq!(
        count(&store, "SELECT count(*) FROM enrolment"),
        enrolments_before
    );

    // Sign in again: back to the form.
    let login = client
        .get(format!("{base}/login?ended=1"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(login.contains("sessionen tog slut"), "{login}");
    let res = client
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf_of(&login).as_str()),
            ("login", "eva"),
            ("password", "a long demo password"),
            ("code", ""),
        ])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/start");
    let form = client
        .get(format!("{base}/start"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        form.contains(r#"id="date" name="date" type="text" value="2021-05-05""#),
        "{form}"
    );
    assert!(
        form.contains(r#"<option value="sickness_benefit" selected>"#),
        "{form}"
    );
    assert!(
        form.contains(r#"id="pnr" name="pnr" type="text" value="""#),
        "{form}"
    );
    assert!(
        !form.contains("19811218") && !form.contains("9876"),
        "{form}"
    );
    // Only once: a second visit shows an empty form.
    let again = client
        .get(format!("{base}/start"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        again.contains(r#"id="date" name="date" type="text" value="""#),
        "{again}"
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM enrolment"),
        enrolments_before
    );
}
