//! The server over HTTP, as a browser uses it: a real server on a loopback
//! port (`web::Running`), real accounts with password and TOTP, a cookie
//! jar per user, no redirects followed. The role × route matrix is walked
//! from `web::ROUTES`, so a route cannot be added without being tested for
//! every role. Time is the server's injectable clock (`Clock::shifted`).

mod common;

use common::web::*;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use std::sync::Arc;
use sustrack::accounts::{self, NewUser};
use sustrack::actor::{Actor, Role};
use sustrack::store;
use sustrack::web::{Page, Who, ROUTES};

/// A path of the route table with its placeholders filled.
fn concrete(w: &World, path: &str, token: &str) -> String {
    // A referral in ALLIN when the test made one, else an id of the right
    // shape that names none.
    let referral: String = w
        .store
        .connect()
        .unwrap()
        .query_row("SELECT id FROM referral ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap_or_else(|_| "00000000-0000-4000-8000-000000000000".into());
    path.replace("{id}", &w.in_a)
        .replace("{referral}", &referral)
        .replace("{code}", "ALLIN")
        .replace("{token}", token)
        .replace("{login}", "newbie")
        // Not `reset` or `disable`: they would void the enrolment link
        // the later roles' requests use.
        .replace("{action}", "grant")
}

/// A plausible form for each POST route (validity does not matter here,
/// only who may send it).
fn body_for(w: &World, path: &str) -> Vec<(String, String)> {
    let v = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    match path {
        "/start" => v(&[
            ("intervention", "ALLIN"),
            ("anonymous", "yes"),
            ("gender", "woman"),
            ("date", "2020-01-01"),
        ]),
        "/exit" => v(&[
            ("enrolment", &w.in_a),
            ("date", "2099-01-01"),
            ("outcome", "work"),
        ]),
        "/find" => v(&[("pnr", &w.anna.dashed)]),
        "/rights" => v(&[("pnr", &w.anna.dashed), ("what", "extract")]),
        "/records/publish" => v(&[("year", "2020")]),
        "/records/purge" => v(&[("ended_before", "2000-01-01")]),
        "/lang" => v(&[("lang", "en"), ("back", "/")]),
        "/login" => v(&[("login", "nobody"), ("password", "x"), ("code", "1")]),
        p if p.starts_with("/enrol/") => v(&[
            ("password", "short"),
            ("password_again", "short"),
            ("code", "1"),
        ]),
        p if p.ends_with("/edit") => v(&[("start_date", "2099-01-01")]),
        "/activities/ALLIN" => v(&[("date", "2099-01-01"), ("kind", "seminar"), ("women", "1")]),
        "/activities/ALLIN/referrals" => v(&[("date", "2099-01-01"), ("gender", "man")]),
        p if p.starts_with("/referrals/") => v(&[("decision", "declined"), ("date", "2099-01-01")]),
        "/budgets" => v(&[
            ("intervention", "ALLIN"),
            ("year", "2020"),
            ("budget", "1 000"),
        ]),
        _ => Vec::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who2 {
    Anonymous,
    Admin,
    Coordinator,
    Staff,
    Auditor,
}

fn login_of(who: Who2) -> Option<&'static str> {
    match who {
        Who2::Anonymous => None,
        Who2::Admin => Some("adam"),
        Who2::Coordinator => Some("cecilia"),
        Who2::Staff => Some("eva"),
        Who2::Auditor => Some("greta"),
    }
}

/// What a role may do on a route, from the route table's `Who` and SPEC
/// 11's role table. Exhaustive: a new `Who` fails to compile here.
fn allowed(route: Who, who: Who2) -> bool {
    match route {
        Who::Anyone => true,
        Who::SignedIn => who != Who2::Anonymous,
        Who::Register => who == Who2::Staff,
        Who::ReadEnrolments | Who::Report => matches!(who, Who2::Staff | Who2::Coordinator),
        Who::Export | Who::Publish | Who::Budget => who == Who2::Coordinator,
        Who::Beyond => matches!(who, Who2::Staff | Who2::Coordinator),
        Who::Import => matches!(who, Who2::Staff | Who2::Coordinator | Who2::Admin),
        Who::ManageInterventions => matches!(who, Who2::Admin | Who2::Coordinator),
        Who::ManageUsers | Who::Backup => who == Who2::Admin,
        Who::ReadAudit => matches!(who, Who2::Admin | Who2::Coordinator | Who2::Auditor),
    }
}

fn assert_headers(res: &Response, what: &str) {
    let h = res.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    let html = h
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
    if html {
        assert_eq!(h["cache-control"], "no-store", "{what}");
    }
}

#[test]
fn every_route_for_every_role() {
    let w = World::new();
    let mut conn = w.store.connect().unwrap();
    let owner = Actor::owner("cli:test");
    let (_, token) = store::write(&mut conn, |tx| {
        accounts::add(
            tx,
            &owner,
            w.now(),
            NewUser {
                login: "newbie".into(),
                name: None,
                roles: vec![Role::Staff],
                grants: vec![],
            },
        )
    })
    .unwrap();
    // A referral in ALLIN for the `/referrals/{referral}` routes.
    store::write(&mut conn, |tx| {
        sustrack::beyond::referral_add(
            tx,
            &owner,
            w.now().date_naive(),
            sustrack::beyond::ReferralInput {
                intervention: "ALLIN".into(),
                date: w.now().date_naive(),
                gender: sustrack::codes::Gender::Woman,
                birth_year: None,
                municipality: None,
                referrer: None,
            },
        )
    })
    .unwrap();
    let mut checked = 0;
    for who in [
        Who2::Anonymous,
        Who2::Admin,
        Who2::Coordinator,
        Who2::Staff,
        Who2::Auditor,
    ] {
        let c = match login_of(who) {
            Some(l) => w.sign_in(l),
            None => w.browser(),
        };
        // Signing out last, so every other route runs signed in.
        let order = ROUTES
            .iter()
            .filter(|r| r.path != "/logout")
            .chain(ROUTES.iter().filter(|r| r.path == "/logout"));
        for route in order {
            let path = concrete(&w, route.path, &token.0);
            let what = format!("{who:?} {} {path}", route.method);
            let res = if route.method == "GET" {
                w.get(&c, &path)
            } else {
                // The sign-in and enrolment forms are shown before there is
                // a session: their token is bound to the pre-session cookie.
                let before_sign_in = path == "/login" || path.starts_with("/enrol/");
                let csrf = if who == Who2::Anonymous || before_sign_in {
                    w.login_csrf(&c)
                } else {
                    w.csrf(&c)
                };
                let mut form = body_for(&w, &path);
                form.push(("csrf".into(), csrf));
                c.post(w.url(&path)).form(&form).send().unwrap()
            };
            let status = res.status();
            assert_headers(&res, &what);
            assert!(status.as_u16() < 500, "{what}: {status}");
            if matches!(
                route.page,
                Page::EidStart | Page::EidEnrol | Page::EidCallback
            ) {
                // This server has no e-ID broker: the e-ID routes do not
                // exist for anyone (tests/web_oidc.rs runs them with one).
                assert_eq!(status, StatusCode::NOT_FOUND, "{what}");
            } else if allowed(route.who, who) {
                assert!(
                    ![StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status),
                    "{what}: allowed, yet {status}"
                );
            } else if who == Who2::Anonymous {
                assert_eq!(status, StatusCode::SEE_OTHER, "{what}");
                let to = res.headers()["location"].to_str().unwrap();
                assert!(to.starts_with("/login"), "{what}: to {to}");
            } else {
                assert!(
                    [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND].contains(&status),
                    "{what}: not allowed, yet {status}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTES.len() * 5);
}

#[test]
fn staff_of_one_intervention_cannot_reach_another_ones_enrolments() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let before = w.state();
    let b = w.in_b.clone();
    let prefix = &b[..8];
    for path in [
        format!("/enrolments/{b}"),
        format!("/enrolments/{prefix}"),
        format!("/enrolments/{b}/exit"),
        format!("/enrolments/{b}/edit"),
        format!("/enrolments/{b}/delete"),
        "/interventions/BETA".to_string(),
        "/interventions/PAR".to_string(),
        "/report?year=2024&intervention=BETA".to_string(),
        "/report?year=2024&intervention=PAR".to_string(),
    ] {
        let res = w.get(&eva, &path);
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "GET {path}");
        let body = res.text().unwrap();
        assert!(!body.contains(&b[..8]), "GET {path} shows the id");
    }
    let csrf = w.csrf(&eva);
    for (path, form) in [
        (
            "/exit".to_string(),
            vec![
                ("enrolment", b.as_str()),
                ("date", "2024-01-01"),
                ("outcome", "work"),
            ],
        ),
        (format!("/enrolments/{b}/reopen"), vec![]),
        (format!("/enrolments/{b}/delete"), vec![]),
        (format!("/enrolments/{prefix}/delete"), vec![]),
        (
            format!("/enrolments/{b}/edit"),
            vec![("start_date", "2020-01-01")],
        ),
        (
            "/start".to_string(),
            vec![
                ("intervention", "BETA"),
                ("anonymous", "yes"),
                ("gender", "man"),
                ("date", "2020-01-01"),
            ],
        ),
    ] {
        let mut form = form;
        form.push(("csrf", &csrf));
        let res = w.post(&eva, &path, &form);
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "POST {path}");
    }
    // By personnummer: Bertil is in BETA only; Eva finds nothing.
    let res = w.post(&eva, "/find", &[("csrf", &csrf), ("pnr", &w.bertil.dashed)]);
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().unwrap();
    assert!(!body.contains(&b[..8]), "{body}");
    assert!(
        body.contains("inga inskrivningar i dina insatser"),
        "{body}"
    );
    assert_eq!(w.state(), before, "nothing written");
    // Her own is there, by full id and by prefix.
    let mine = w.get(&eva, &format!("/enrolments/{}", &w.in_a[..8]));
    assert_eq!(mine.status(), StatusCode::OK);
    // And Sven (staff of BETA) sees Bertil's.
    let sven = w.sign_in("sven");
    assert_eq!(
        w.get(&sven, &format!("/enrolments/{b}")).status(),
        StatusCode::OK
    );
}

#[test]
fn a_post_without_a_valid_csrf_token_or_from_another_site_is_refused() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let other = w.sign_in("sven");
    let foreign = w.csrf(&other);
    let mine = w.csrf(&eva);
    let before = w.state();
    for route in ROUTES.iter().filter(|r| r.method == "POST") {
        let path = concrete(&w, route.path, "x".repeat(43).as_str());
        let form = body_for(&w, &path);
        let send = |csrf: Option<&str>, headers: &[(&str, &str)]| {
            let mut f = form.clone();
            if let Some(c) = csrf {
                f.push(("csrf".into(), c.into()));
            }
            let mut req = eva.post(w.url(&path)).form(&f);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            req.send().unwrap()
        };
        let what = format!("POST {path}");
        assert_eq!(
            send(None, &[]).status(),
            StatusCode::FORBIDDEN,
            "{what} without csrf"
        );
        assert_eq!(
            send(Some(&foreign), &[]).status(),
            StatusCode::FORBIDDEN,
            "{what} with another session's csrf"
        );
        assert_eq!(
            send(Some(&mine), &[("Origin", "https://evil.example")]).status(),
            StatusCode::FORBIDDEN,
            "{what} from another origin"
        );
        assert_eq!(
            send(Some(&mine), &[("Sec-Fetch-Site", "cross-site")]).status(),
            StatusCode::FORBIDDEN,
            "{what} marked cross-site"
        );
    }
    assert_eq!(w.state(), before, "nothing written");
    // The same token from this origin works (Origin: null is what browsers
    // send under Referrer-Policy: no-referrer).
    let res = eva
        .post(w.url("/lang"))
        .header("Origin", "null")
        .header("Sec-Fetch-Site", "same-origin")
        .form(&[("csrf", mine.as_str()), ("lang", "en"), ("back", "/")])
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

fn session_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sustrack_session=") && !v.starts_with("sustrack_session=;"))
        .map(|v| v["sustrack_session=".len()..v.find(';').unwrap()].to_string())
}

#[test]
fn sessions_are_new_at_sign_in_and_end_on_sign_out_idle_age_and_disable() {
    let w = World::new();
    // Fixation: a cookie planted before sign-in names nothing afterwards.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let planted = "plantedbyanattackeraaaaaaaaaaaaaaaaaaaaaaaaa";
    jar.add_cookie_str(
        &format!("sustrack_session={planted}; Path=/"),
        &w.url("/").parse().unwrap(),
    );
    let c = Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = w.try_sign_in(&c, "eva", PASSWORD, true);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let issued = session_cookie(&res).expect("a session cookie");
    assert_ne!(issued, planted);
    let raw = data_encoding::BASE64URL_NOPAD
        .decode(issued.as_bytes())
        .unwrap();
    assert_eq!(raw.len(), 32, "256 random bits");
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    // The stored id is a hash: the cookie's bytes are not in the table.
    let hex: String = raw.iter().map(|b| format!("{b:02X}")).collect();
    assert_eq!(
        w.count(&format!(
            "SELECT count(*) FROM session WHERE id_hash = X'{hex}'"
        )),
        0
    );
    assert!(w.count("SELECT count(*) FROM session") >= 1);
    assert_eq!(w.get(&c, "/").status(), StatusCode::OK);

    // Sign out: the old cookie is worth nothing.
    let csrf = w.csrf(&c);
    let res = w.post(&c, "/logout", &[("csrf", &csrf)]);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let replay = w.browser();
    let res = replay
        .get(w.url("/"))
        .header("Cookie", format!("sustrack_session={issued}"))
        .send()
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a signed-out session");

    // Idle for 30 minutes ends it; activity within keeps it.
    let c = w.sign_in("eva");
    w.pass(29 * 60);
    assert_eq!(w.get(&c, "/").status(), StatusCode::OK, "29 minutes idle");
    w.pass(31 * 60);
    let res = w.get(&c, "/");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "31 minutes idle");
    assert_eq!(res.headers()["location"], "/login?ended=1");

    // Absolute: 12 hours, however active.
    let c = w.sign_in("eva");
    for _ in 0..(12 * 3) {
        w.pass(20 * 60);
        if w.get(&c, "/").status() != StatusCode::OK {
            break;
        }
    }
    assert_eq!(
        w.get(&c, "/").status(),
        StatusCode::SEE_OTHER,
        "after 12 hours"
    );

    // Disabling a user ends their session at once.
    let c = w.sign_in("eva");
    assert_eq!(w.get(&c, "/").status(), StatusCode::OK);
    let mut conn = w.store.connect().unwrap();
    store::write(&mut conn, |tx| {
        accounts::disable(tx, &Actor::owner("cli:test"), "eva")
    })
    .unwrap();
    assert_eq!(w.get(&c, "/").status(), StatusCode::SEE_OTHER, "disabled");
}

/// The page without its per-visitor CSRF token.
fn without_csrf(html: &str) -> String {
    match html.find("name=\"csrf\" value=\"") {
        Some(at) => {
            let end = at + 19 + html[at + 19..].find('"').unwrap();
            format!("{}{}", &html[..at], &html[end..])
        }
        None => html.to_string(),
    }
}

#[test]
fn five_failures_lock_for_fifteen_minutes_and_say_nothing_about_who_exists() {
    let w = World::new();
    let c = w.browser();
    let unknown = w.try_sign_in(&c, "nosuchuser", "wrong password!", true);
    let unknown_status = unknown.status();
    let unknown_body = without_csrf(&unknown.text().unwrap()).replace("nosuchuser", "LOGIN");
    let wrong = w.try_sign_in(&c, "eva", "wrong password!", true);
    assert_eq!(wrong.status(), unknown_status);
    let wrong_body = without_csrf(&wrong.text().unwrap()).replace("eva", "LOGIN");
    assert_eq!(wrong_body, unknown_body, "the same page for both");
    assert_eq!(unknown_status, StatusCode::UNPROCESSABLE_ENTITY);
    for _ in 0..4 {
        assert_eq!(
            w.try_sign_in(&c, "eva", "wrong password!", true).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    // Locked: the right password and code are refused, with the same page.
    let locked = w.try_sign_in(&c, "eva", PASSWORD, true);
    assert_eq!(locked.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        without_csrf(&locked.text().unwrap()).replace("eva", "LOGIN"),
        unknown_body
    );
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'lock'"),
        1
    );
    w.pass(15 * 60);
    assert_eq!(
        w.try_sign_in(&c, "eva", PASSWORD, true).status(),
        StatusCode::SEE_OTHER
    );

    // A code is accepted once: the same code again (same step) is refused.
    let c2 = w.browser();
    let csrf = w.login_csrf(&c2);
    let code = code_at(w.secret("cecilia"), w.now());
    let first = w.post(
        &c2,
        "/login",
        &[
            ("csrf", &csrf),
            ("login", "cecilia"),
            ("password", PASSWORD),
            ("code", &code),
        ],
    );
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let c3 = w.browser();
    let csrf = w.login_csrf(&c3);
    let replay = w.post(
        &c3,
        "/login",
        &[
            ("csrf", &csrf),
            ("login", "cecilia"),
            ("password", PASSWORD),
            ("code", &code),
        ],
    );
    assert_eq!(
        replay.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a replayed code"
    );
}

#[test]
fn limits_unknown_routes_and_wrong_methods_get_clear_pages_with_headers() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    let before = w.state();
    let big = "x".repeat(65 * 1024);
    let res = w.post(&eva, "/start", &[("csrf", &csrf), ("municipality", &big)]);
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_headers(&res, "413");
    assert!(res.text().unwrap().contains("64 KiB"));
    // The server closes a connection whose body it refused to read: the
    // next requests go on a new one, as a browser's would.
    let eva = w.sign_in("eva");
    let res = w.get(&eva, "/no/such/page");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_headers(&res, "404");
    assert!(res.text().unwrap().contains("Sidan finns inte"));
    for (method, path) in [
        ("DELETE", "/start"),
        ("GET", "/logout"),
        ("PUT", "/login"),
        ("GET", "/exit"),
    ] {
        let res = eva
            .request(method.parse().unwrap(), w.url(path))
            .send()
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_headers(&res, &format!("405 {method} {path}"));
    }
    let health = w.get(&w.browser(), "/healthz");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().unwrap(), "ok\n");
    assert_eq!(w.state(), before);
}

#[test]
fn a_personnummer_is_only_ever_in_its_own_form_field() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let csrf = w.csrf(&eva);
    let new = pnr("19851224", 789);
    let mut bodies = Vec::new();
    let mut locations = Vec::new();
    // A mistake first: the number comes back in its field, and only there.
    let res = w.post(
        &eva,
        "/start",
        &[
            ("csrf", &csrf),
            ("intervention", "ALLIN"),
            ("pnr", &new.dashed),
            ("date", "2024-01-01"),
        ],
    );
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = res.text().unwrap();
    assert_eq!(refused.matches(&new.dashed).count(), 1, "{refused}");
    assert!(refused.contains(&format!(r#"name="pnr" type="text" value="{}""#, new.dashed)));
    assert!(refused.contains(r##"<a href="#consent">"##), "{refused}");
    // Then right.
    let res = w.post(
        &eva,
        "/start",
        &[
            ("csrf", &csrf),
            ("intervention", "ALLIN"),
            ("pnr", &new.dashed),
            ("consent", "yes"),
            ("date", "2024-01-01"),
        ],
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    locations.push(to.clone());
    for path in [
        to.as_str(),
        "/",
        "/interventions/ALLIN",
        "/find",
        "/report?year=2024",
    ] {
        let res = w.get(&eva, path);
        if let Some(l) = res.headers().get("location") {
            locations.push(l.to_str().unwrap().to_string());
        }
        bodies.push(res.text().unwrap());
    }
    let res = w.post(&eva, "/find", &[("csrf", &csrf), ("pnr", &new.twelve)]);
    let found = res.text().unwrap();
    assert!(
        found.contains(&to["/enrolments/".len()..to.find('?').unwrap()][..8]),
        "found: {found}"
    );
    bodies.push(found);
    for p in [&new, &w.anna] {
        for spelling in [&p.twelve, &p.dashed, &p.ten] {
            for b in &bodies {
                assert!(!b.contains(spelling.as_str()), "a page shows {spelling}");
            }
            for l in &locations {
                assert!(
                    !l.contains(spelling.as_str()),
                    "a redirect carries {spelling}"
                );
            }
        }
    }
    drop(w.server);
    // Nor in the database file, its WAL, or the audit trail.
    for file in [w.path.clone(), w.path.with_extension("db-wal")] {
        if let Ok(bytes) = std::fs::read(&file) {
            let text = String::from_utf8_lossy(&bytes);
            for spelling in [&new.twelve, &new.dashed, &new.ten] {
                assert!(
                    !text.contains(spelling.as_str()),
                    "{} holds {spelling}",
                    file.display()
                );
            }
        }
    }
}
