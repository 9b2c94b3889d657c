//! Sign-in with e-legitimation (issue 15) against a real OpenID Provider:
//! the certified `oidc-provider` package run by Node on a loopback port
//! (tests/oidc/provider.mjs), with a small proxy in front of it that alters
//! its answers for the cases a real provider never produces (a tampered,
//! expired, foreign or replayed ID token). sustrack runs as a real server;
//! the "browser" is an HTTP client with a cookie jar that follows every
//! redirect by hand and fills in the provider's login form.

mod common;

use std::time::{Duration, Instant};

use common::oidc::{Provider, LOA2, LOA3, LOA4};
use common::web::*;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use sustrack::accounts;
use sustrack::actor::{Actor, Role};
use sustrack::store;
use sustrack::web::OidcOptions;

/// A server whose e-ID broker is the test provider.
fn world(p: &Provider, configure: impl FnOnce(&mut OidcOptions)) -> World {
    let mut o = p.options();
    configure(&mut o);
    World::configured(move |opts| opts.oidc = Some(o))
}

fn location(res: &Response) -> String {
    res.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no Location in {}", res.status()))
        .to_str()
        .unwrap()
        .to_string()
}

fn absolute(base: &str, to: &str) -> String {
    if to.starts_with("http://") || to.starts_with("https://") {
        to.to_string()
    } else {
        format!("{base}{to}")
    }
}

/// The first form's `action` on the provider's login page.
fn form_action(html: &str) -> String {
    let at = html
        .find("action=\"")
        .expect("a form on the provider's page")
        + 8;
    let end = html[at..].find('"').unwrap();
    html[at..at + end].replace("&amp;", "&")
}

/// Start at `start` on sustrack, sign in at the provider as `login` with
/// `acr`, and return the callback URL the provider sends the browser to
/// (not yet opened).
fn at_provider(w: &World, p: &Provider, c: &Client, start: &str, login: &str, acr: &str) -> String {
    let res = w.get(c, start);
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{start} starts");
    let mut url = location(&res);
    assert!(
        url.starts_with(&p.issuer),
        "{start} goes to the provider: {url}"
    );
    for _ in 0..10 {
        let res = c.get(&url).send().unwrap();
        if res.status().is_redirection() {
            url = absolute(&p.issuer, &location(&res));
            continue;
        }
        assert_eq!(res.status(), StatusCode::OK, "provider page {url}");
        let action = absolute(&p.issuer, &form_action(&res.text().unwrap()));
        let mut res = c
            .post(&action)
            .form(&[("login", login), ("acr", acr)])
            .send()
            .unwrap();
        for _ in 0..10 {
            assert!(
                res.status().is_redirection(),
                "provider answered {}",
                res.status()
            );
            let to = absolute(&p.issuer, &location(&res));
            if to.starts_with(&w.url("/login/oidc/callback")) {
                return to;
            }
            res = c.get(&to).send().unwrap();
        }
        panic!("the provider never sent the browser back");
    }
    panic!("no login page at the provider");
}

/// The whole e-ID sign-in in one browser: sustrack's answer to the callback.
fn eid(w: &World, p: &Provider, c: &Client, start: &str, login: &str, acr: &str) -> Response {
    let back = at_provider(w, p, c, start, login, acr);
    c.get(&back).send().unwrap()
}

/// Is this browser signed in (its home page opens)?
fn signed_in(w: &World, c: &Client) -> bool {
    w.get(c, "/").status() == StatusCode::OK
}

/// The users page's confirm form for `login`, sent as the admin `c` sees
/// it (with the binding's time the page showed).
fn confirm(w: &World, c: &Client, login: &str) -> Response {
    let page = w.get(c, "/admin/users").text().unwrap();
    let action = format!("action=\"/admin/users/{login}/eid-confirm\"");
    let form = &page[page.find(&action).unwrap_or_else(|| panic!("no {action}"))..];
    let at = form.find("name=\"asserted_at\" value=\"").unwrap() + 26;
    let seen = &form[at..at + form[at..].find('"').unwrap()];
    let csrf = w.csrf(c);
    w.post(
        c,
        &format!("/admin/users/{login}/eid-confirm"),
        &[("csrf", csrf.as_str()), ("asserted_at", seen)],
    )
}

/// A server with the test provider as its broker where staff member nora
/// (ALLIN) signs in with the provider's account anna, bound and confirmed.
fn with_nora(p: &Provider, configure: impl FnOnce(&mut OidcOptions)) -> World {
    let w = world(p, configure);
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);
    bind_and_confirm(&w, p, &token, "nora", "anna");
    w
}

/// Bind `login`'s link to the provider account `who` and have adam confirm.
fn bind_and_confirm(w: &World, p: &Provider, token: &str, login: &str, who: &str) {
    let c = w.browser();
    let res = eid(w, p, &c, &format!("/enrol/{token}/oidc"), who, LOA3);
    assert_eq!(res.status(), StatusCode::OK);
    let adam = w.sign_in("adam");
    assert_eq!(confirm(w, &adam, login).status(), StatusCode::SEE_OTHER);
}

#[test]
fn an_e_id_is_bound_through_the_link_confirmed_by_an_admin_and_then_signs_in() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |_| {});
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);

    // The link offers the e-ID; staff get no password form beside it.
    let nora = w.browser();
    let page = w.get(&nora, &format!("/enrol/{token}")).text().unwrap();
    assert!(page.contains(&format!("/enrol/{token}/oidc")), "{page}");
    assert!(
        !page.contains("name=\"password\""),
        "staff choose no password: {page}"
    );
    let login_page = w.get(&nora, "/login").text().unwrap();
    assert!(login_page.contains("href=\"/login/oidc\""));
    let privacy = w.get(&nora, "/privacy").text().unwrap();
    assert!(
        privacy.contains("Du loggar in med e-legitimation"),
        "{privacy}"
    );

    // The start carries PKCE, state, nonce and the redirect URI.
    let res = w.get(&nora, &format!("/enrol/{token}/oidc"));
    let auth = location(&res);
    for part in [
        "response_type=code",
        "client_id=sustrack",
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "scope=openid+profile",
    ] {
        assert!(auth.contains(part), "{part} in {auth}");
    }
    let redirect = format!("redirect_uri={}", urlencode(&w.url("/login/oidc/callback")));
    assert!(auth.contains(&redirect), "{redirect} in {auth}");
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("sustrack_oidc="))
        .expect("the attempt's cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // Binding: the provider's name is shown, the link is used up.
    let res = eid(&w, &p, &nora, &format!("/enrol/{token}/oidc"), "anna", LOA3);
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().unwrap();
    assert!(
        page.contains("Anna Andersson") && page.contains("nora"),
        "{page}"
    );
    assert_eq!(
        w.get(&nora, &format!("/enrol/{token}")).status(),
        StatusCode::NOT_FOUND
    );
    assert!(!signed_in(&w, &nora), "binding does not sign in");

    // Waiting for the admin: refused, and said so.
    let res = eid(&w, &p, &nora, "/login/oidc", "anna", LOA3);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res
        .text()
        .unwrap()
        .contains("väntar på att en administratör"));
    assert!(!signed_in(&w, &nora));

    // The admin sees what the provider asserted, and confirms.
    let adam = w.sign_in("adam");
    let users = w.get(&adam, "/admin/users").text().unwrap();
    for shown in [
        "Anna Andersson",
        &p.issuer,
        LOA3,
        "/admin/users/nora/eid-confirm",
    ] {
        assert!(users.contains(shown), "{shown} on the users page");
    }
    let csrf = w.csrf(&adam);
    // A confirmation without the binding it was shown is refused.
    let blind = w.post(&adam, "/admin/users/nora/eid-confirm", &[("csrf", &csrf)]);
    assert_eq!(blind.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let at = w.count("SELECT count(*) FROM user_identity WHERE confirmed_at IS NULL");
    assert_eq!(at, 1, "still waiting");
    let res = confirm(&w, &adam, "nora");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let seen: String = w
        .store
        .connect()
        .unwrap()
        .query_row("SELECT asserted_at FROM user_identity", [], |r| r.get(0))
        .unwrap();
    let again = w.post(
        &adam,
        "/admin/users/nora/eid-confirm",
        &[("csrf", csrf.as_str()), ("asserted_at", seen.as_str())],
    );
    assert_eq!(
        again.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "confirmed once"
    );

    // Now the e-ID signs in: a session cookie, SameSite=Lax, the home page.
    let back = at_provider(&w, &p, &nora, "/login/oidc", "anna", LOA3);
    let res = nora.get(&back).send().unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/");
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("sustrack_session="))
        .expect("a session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let home = w.get(&nora, "/").text().unwrap();
    assert!(home.contains("nora"), "{home}");
    // Staff see their intervention; the role table holds as for passwords.
    assert_eq!(
        w.get(&nora, &format!("/enrolments/{}", w.in_a)).status(),
        StatusCode::OK
    );
    assert_eq!(
        w.get(&nora, &format!("/enrolments/{}", w.in_b)).status(),
        StatusCode::NOT_FOUND
    );

    // The audit trail has the binding, the confirmation and the sign-in
    // with its issuer and authentication context.
    let signs = w.audit_details("sign-in");
    let eid_sign_in = signs
        .iter()
        .find(|d| d.starts_with("nora |"))
        .expect("nora's sign-in");
    assert!(
        eid_sign_in.contains(&format!("issuer {}", p.issuer)),
        "{eid_sign_in}"
    );
    assert!(
        eid_sign_in.contains(&format!("acr {LOA3}")),
        "{eid_sign_in}"
    );
    assert_eq!(w.audit_details("e-ID binding requested").len(), 1);
    assert!(w.audit_details("user e-ID confirm")[0].starts_with("adam |"));

    // The callback cannot be used twice: no second session from it.
    let fresh = w.browser();
    let replayed = fresh.get(&back).send().unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(!signed_in(&w, &fresh));
    let replayed = nora.get(&back).send().unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);

    // Removing the e-ID ends nora's sessions at once; a reset gives a new
    // link whose binding is confirmed again.
    let res = w.post(&adam, "/admin/users/nora/eid-remove", &[("csrf", &csrf)]);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(!signed_in(&w, &nora));
    let res = eid(&w, &p, &nora, "/login/oidc", "anna", LOA3);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res
        .text()
        .unwrap()
        .contains("inte kopplad till något konto"));
}

#[test]
fn with_a_broker_only_the_admin_account_may_choose_a_password() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |_| {});
    let staff = w.add_user("olle", Role::Staff, &["ALLIN"]);
    let admin = w.add_user("berit", Role::Admin, &[]);
    let c = w.browser();
    let csrf = w.login_csrf(&c);
    let res = w.post(
        &c,
        &format!("/enrol/{staff}"),
        &[
            ("csrf", &csrf),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
            ("code", "123456"),
        ],
    );
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "no password for staff");
    let page = w.get(&c, &format!("/enrol/{admin}")).text().unwrap();
    assert!(page.contains("name=\"password\"") && page.contains(&format!("/enrol/{admin}/oidc")));
}

#[test]
fn tampered_expired_foreign_unsigned_and_replayed_id_tokens_are_refused() {
    let Some(p) = Provider::start() else { return };
    let w = with_nora(&p, |_| {});
    // A genuine sign-in first, so the proxy has an earlier token to replay.
    let c = w.browser();
    assert_eq!(
        eid(&w, &p, &c, "/login/oidc", "anna", LOA3).status(),
        StatusCode::SEE_OTHER
    );
    assert!(p.last_id_token().is_some());

    let before = w.count("SELECT count(*) FROM session");
    for (mode, reason) in [
        ("tamper", "Signature"),
        ("expired", "Expired"),
        ("aud", "audience"),
        ("nonce", "nonce"),
        ("iss", "issuer"),
        ("stale_auth", "authentication time"),
        ("alg_none", "signature"),
        ("replay", "nonce"),
    ] {
        p.mode(mode);
        let c = w.browser();
        let res = eid(&w, &p, &c, "/login/oidc", "anna", LOA3);
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{mode}");
        assert!(
            res.text().unwrap().contains("kunde inte godkännas"),
            "{mode}"
        );
        assert!(!signed_in(&w, &c), "{mode}: not signed in");
        let refused = w.audit_details("sign-in refused");
        let last = refused.last().unwrap();
        assert!(last.contains("answer not accepted"), "{mode}: {last}");
        assert!(
            last.to_lowercase().contains(&reason.to_lowercase()),
            "{mode}: {last}"
        );
    }
    assert_eq!(
        w.count("SELECT count(*) FROM session"),
        before,
        "no session made"
    );

    // The positive control: the same claims signed by the proxy's key are
    // accepted, so each refusal above was for its claim, not the key.
    p.mode("resign");
    let c = w.browser();
    assert_eq!(
        eid(&w, &p, &c, "/login/oidc", "anna", LOA3).status(),
        StatusCode::SEE_OTHER
    );
    assert!(signed_in(&w, &c));

    // A key the provider never publishes: refused, even after fetching the
    // keys again.
    p.mode("unknown_key");
    let c = w.browser();
    assert_eq!(
        eid(&w, &p, &c, "/login/oidc", "anna", LOA3).status(),
        StatusCode::FORBIDDEN
    );
    let last = w.audit_details("sign-in refused").pop().unwrap();
    assert!(last.contains("does not publish"), "{last}");
}

#[test]
fn a_provider_that_rotates_its_keys_is_followed_at_once() {
    let Some(p) = Provider::start() else { return };
    // The server fetches the provider's keys here and keeps them.
    let w = with_nora(&p, |_| {});
    // The provider starts signing with a key it published only now: the
    // server fetches the keys again instead of refusing for ten minutes.
    p.mode("rotate");
    let c = w.browser();
    assert_eq!(
        eid(&w, &p, &c, "/login/oidc", "anna", LOA3).status(),
        StatusCode::SEE_OTHER
    );
    assert!(signed_in(&w, &c));
}

#[test]
fn a_wrong_or_missing_state_or_another_browser_is_refused() {
    let Some(p) = Provider::start() else { return };
    let w = with_nora(&p, |_| {});

    // An attacker's own finished sign-in, opened in the victim's browser
    // (login CSRF): the attempt's cookie is not there.
    let attacker = w.browser();
    let back = at_provider(&w, &p, &attacker, "/login/oidc", "anna", LOA3);
    let victim = w.browser();
    assert_eq!(
        victim.get(&back).send().unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert!(!signed_in(&w, &victim));
    // Another browser's try does not spend the attempt (whoever learns a
    // state cannot cancel someone's sign-in): its own browser finishes it,
    // once.
    assert_eq!(
        attacker.get(&back).send().unwrap().status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        attacker.get(&back).send().unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // A state that was never issued, or none.
    let c = w.browser();
    let forged = back.replace("state=", "state=x");
    assert_eq!(
        c.get(&forged).send().unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let res = w.get(&c, "/login/oidc/callback?code=abc");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().unwrap().contains("Börja om"));

    // An answer that names another issuer (RFC 9207's iss): refused.
    let c = w.browser();
    let back = at_provider(&w, &p, &c, "/login/oidc", "anna", LOA3);
    assert!(back.contains("iss="), "the provider names itself: {back}");
    let iss = format!("iss={}", urlencode(&p.issuer).replace('+', "%20"));
    let mixed = if back.contains(&iss) {
        back.replace(&iss, "iss=https%3A%2F%2Fevil.example")
    } else {
        back.replace("iss=", "iss=https%3A%2F%2Fevil.example&x=")
    };
    assert_ne!(mixed, back);
    assert_eq!(
        c.get(&mixed).send().unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert!(!signed_in(&w, &c));

    // The right browser with another attempt's state: refused too.
    let one = at_provider(&w, &p, &c, "/login/oidc", "anna", LOA3);
    let other = w.browser();
    let two = at_provider(&w, &p, &other, "/login/oidc", "anna", LOA3);
    let state_of = |u: &str| {
        u.split("state=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_string()
    };
    let swapped = one.replace(&state_of(&one), &state_of(&two));
    assert_eq!(
        c.get(&swapped).send().unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert!(!signed_in(&w, &c));

    // Cancelling at the provider says so and signs nobody in.
    let c = w.browser();
    let res = w.get(&c, "/login/oidc");
    let mut url = location(&res);
    let page = loop {
        let r = c.get(&url).send().unwrap();
        if r.status().is_redirection() {
            url = absolute(&p.issuer, &location(&r));
        } else {
            break r.text().unwrap();
        }
    };
    let abort = page.find("/abort").map(|i| {
        let start = page[..i].rfind('"').unwrap() + 1;
        page[start..i + 6].to_string()
    });
    let mut res = c
        .post(absolute(&p.issuer, &abort.expect("a cancel form")))
        .send()
        .unwrap();
    while res.status().is_redirection() {
        res = c.get(absolute(&p.issuer, &location(&res))).send().unwrap();
    }
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().unwrap().contains("avbröt"));
    assert!(!signed_in(&w, &c));
}

#[test]
fn an_unknown_pending_or_disabled_e_id_is_refused() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |_| {});

    // Nobody is created by signing in.
    let users = w.count("SELECT count(*) FROM app_user");
    let c = w.browser();
    let res = eid(&w, &p, &c, "/login/oidc", "mallory", LOA3);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res
        .text()
        .unwrap()
        .contains("inte kopplad till något konto"));
    assert!(!signed_in(&w, &c));
    assert_eq!(w.count("SELECT count(*) FROM app_user"), users);
    let last = w.audit_details("sign-in refused").pop().unwrap();
    assert!(
        last.contains("no account has this e-ID") && last.contains(LOA3),
        "{last}"
    );

    // The same e-ID cannot be bound to a second account.
    let t1 = w.add_user("nora", Role::Staff, &["ALLIN"]);
    bind_and_confirm(&w, &p, &t1, "nora", "bertil");
    let t2 = w.add_user("nils", Role::Staff, &["ALLIN"]);
    let res = eid(
        &w,
        &p,
        &w.browser(),
        &format!("/enrol/{t2}/oidc"),
        "bertil",
        LOA3,
    );
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res
        .text()
        .unwrap()
        .contains("redan kopplad till ett annat konto"));
    assert_eq!(
        w.get(&w.browser(), &format!("/enrol/{t2}")).status(),
        StatusCode::OK
    );
    let last = w.audit_details("e-ID binding refused").pop().unwrap();
    assert!(
        last.starts_with("nils |") && last.contains("another account"),
        "{last}"
    );

    // Disabled: refused even with a valid ID token, and sessions ended.
    let nora = w.browser();
    assert_eq!(
        eid(&w, &p, &nora, "/login/oidc", "bertil", LOA3).status(),
        StatusCode::SEE_OTHER
    );
    let adam = w.sign_in("adam");
    let csrf = w.csrf(&adam);
    assert_eq!(
        w.post(&adam, "/admin/users/nora/disable", &[("csrf", &csrf)])
            .status(),
        StatusCode::SEE_OTHER
    );
    assert!(!signed_in(&w, &nora));
    let res = eid(&w, &p, &nora, "/login/oidc", "bertil", LOA3);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().unwrap().contains("avstängt"));
    let last = w.audit_details("sign-in refused").pop().unwrap();
    assert!(
        last.starts_with("nora |") && last.contains("disabled"),
        "{last}"
    );

    // An admin who enrolled with a password and then binds an e-ID through
    // a reset: the reset forgot the password, and the account signs in with
    // its e-ID only (the password guard itself is in tests/accounts.rs).
    let t3 = w.add_user("berit", Role::Admin, &[]);
    let c = w.browser();
    let csrf = w.login_csrf(&c);
    let now = w.now();
    let p_ = accounts::pending(&w.store.connect().unwrap(), now, &t3).unwrap();
    let res = w.post(
        &c,
        &format!("/enrol/{t3}"),
        &[
            ("csrf", &csrf),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
            ("code", &code_at(&p_.totp_secret_base32, now)),
        ],
    );
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "berit enrols with a password"
    );
    let mut conn = w.store.connect().unwrap();
    let t4 = store::write(&mut conn, |tx| {
        accounts::reset(tx, &Actor::owner("cli:test"), now, "berit")
    })
    .unwrap();
    bind_and_confirm(&w, &p, &t4.0, "berit", "cecilia");
    let c = w.browser();
    let res = w.try_sign_in(&c, "berit", PASSWORD, true);
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "the reset forgot the password"
    );
}

#[test]
fn a_required_authentication_context_is_enforced_at_binding_and_every_sign_in() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |o| o.acr = vec![LOA3.into(), LOA4.into()]);
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);

    // The request asks for the accepted contexts.
    let res = w.get(&w.browser(), "/login/oidc");
    assert!(location(&res).contains(&format!(
        "acr_values={}",
        urlencode(&format!("{LOA3} {LOA4}"))
    )));

    // Binding at loa2 is refused and the link stays usable.
    let c = w.browser();
    let res = eid(&w, &p, &c, &format!("/enrol/{token}/oidc"), "anna", LOA2);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().unwrap().contains("tillitsnivå"));
    assert_eq!(w.count("SELECT count(*) FROM user_identity"), 0);
    bind_and_confirm(&w, &p, &token, "nora", "anna");

    let c = w.browser();
    let res = eid(&w, &p, &c, "/login/oidc", "anna", LOA2);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!signed_in(&w, &c));
    let last = w.audit_details("sign-in refused").pop().unwrap();
    assert!(
        last.contains(LOA2) && last.contains("authentication context"),
        "{last}"
    );
    assert_eq!(
        eid(&w, &p, &c, "/login/oidc", "anna", LOA4).status(),
        StatusCode::SEE_OTHER
    );
    assert!(signed_in(&w, &c));
}

#[test]
fn a_provider_that_is_down_or_hangs_gives_a_clear_page_in_time() {
    let Some(p) = Provider::start() else { return };
    let timeout = Duration::from_secs(2);
    let w = with_nora(&p, |o| o.timeout = timeout);

    for mode in ["down", "hang"] {
        // The provider fails between the browser's visit and the token call.
        let c = w.browser();
        let back = at_provider(&w, &p, &c, "/login/oidc", "anna", LOA3);
        p.mode(mode);
        let started = Instant::now();
        let res = c.get(&back).send().unwrap();
        let took = started.elapsed();
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{mode}");
        assert!(res.text().unwrap().contains("går inte att nå"), "{mode}");
        assert!(took < timeout * 3, "{mode}: answered in {took:?}");
        assert!(!signed_in(&w, &c));
        // Whoever starts next is told at once, without a trip to the
        // provider, for fifteen seconds.
        p.mode("pass");
        let started = Instant::now();
        let res = w.get(&w.browser(), "/login/oidc");
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{mode}: next start");
        assert!(
            started.elapsed() < timeout / 2,
            "{mode}: {:?}",
            started.elapsed()
        );
        w.pass(16);
        assert_eq!(
            w.get(&w.browser(), "/login/oidc").status(),
            StatusCode::SEE_OTHER
        );
    }

    // A server that has never reached its provider (discovery fails).
    for mode in ["down", "hang"] {
        p.mode(mode);
        let fresh = world(&p, |o| o.timeout = timeout);
        let started = Instant::now();
        let res = fresh.get(&fresh.browser(), "/login/oidc");
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{mode}");
        assert!(
            started.elapsed() < timeout * 3,
            "{mode}: {:?}",
            started.elapsed()
        );
        // The next sign-in is told at once, not after another time-out.
        let started = Instant::now();
        let res = fresh.get(&fresh.browser(), "/login/oidc");
        assert_eq!(res.status(), StatusCode::BAD_GATEWAY, "{mode} again");
        assert!(
            started.elapsed() < timeout / 2,
            "{mode} again: {:?}",
            started.elapsed()
        );
        p.mode("pass");
    }
    // Nothing listening at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let gone = world(&p, |o| {
        o.issuer = format!("http://127.0.0.1:{port}");
        o.timeout = timeout;
    });
    let res = gone.get(&gone.browser(), "/login/oidc");
    assert_eq!(res.status(), StatusCode::BAD_GATEWAY);
    // The password sign-in still works for the break-glass admin.
    gone.sign_in("adam");
}

#[test]
fn a_subject_that_is_a_personnummer_never_reaches_the_file() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |_| {});
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);
    // Some brokers assert the personnummer as `sub` (and the test
    // provider names such an account by it too).
    let who = pnr("19791224", 381);
    bind_and_confirm(&w, &p, &token, "nora", &who.twelve);
    let c = w.browser();
    assert_eq!(
        eid(&w, &p, &c, "/login/oidc", &who.twelve, LOA3).status(),
        StatusCode::SEE_OTHER
    );
    let users = w.get(&w.sign_in("adam"), "/admin/users").text().unwrap();
    drop(c);
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let mut f = w.path.clone().into_os_string();
        f.push(suffix);
        if let Ok(b) = std::fs::read(&f) {
            bytes.extend(b);
        }
    }
    for form in [who.twelve.as_str(), &who.ten, &who.dashed, &who.twelve[2..]] {
        assert!(!contains(&bytes, form.as_bytes()), "{form} in the file");
        assert!(!users.contains(form), "{form} on the users page");
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_provider_error_is_named_and_extra_parameters_reach_it() {
    let Some(p) = Provider::start() else { return };
    // prompt=none: the provider must not show its login page, so it
    // answers at once with an error (login_required).
    let w = world(&p, |o| {
        o.extra_params = vec![("prompt".into(), "none".into())]
    });
    let c = w.browser();
    let res = w.get(&c, "/login/oidc");
    let mut url = location(&res);
    assert!(url.contains("prompt=none"), "{url}");
    let res = loop {
        let r = c.get(&url).send().unwrap();
        assert!(r.status().is_redirection(), "{}", r.status());
        url = absolute(&p.issuer, &location(&r));
        if url.starts_with(&w.url("/login/oidc/callback")) {
            break c.get(&url).send().unwrap();
        }
    };
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let page = res.text().unwrap();
    assert!(page.contains("(login_required)"), "{page}");
    assert!(!signed_in(&w, &c));
}

#[test]
fn a_form_sent_after_the_session_ended_waits_through_an_e_id_sign_in() {
    let Some(p) = Provider::start() else { return };
    let w = with_nora(&p, |_| {});
    let c = w.browser();
    let res = c
        .post(w.url("/start"))
        .header("Cookie", "sustrack_session=ended")
        .form(&[
            ("csrf", "stale"),
            ("intervention", "ALLIN"),
            ("pnr", w.anna.dashed.as_str()),
            ("consent", "yes"),
            ("date", "2021-05-05"),
        ])
        .send()
        .unwrap();
    assert_eq!(location(&res), "/login?ended=1");
    // The callback's answer leads back to the form by a link of ours (the
    // parked form's cookie is SameSite=Strict: a redirect that began at
    // the provider would not carry it in a browser).
    let res = eid(&w, &p, &c, "/login/oidc", "anna", LOA3);
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().unwrap();
    assert!(page.contains("id=\"continue\" href=\"/start\""), "{page}");
    let form = w.get(&c, "/start").text().unwrap();
    assert!(form.contains(r#"value="2021-05-05""#), "{form}");
    assert!(
        !form.contains(&w.anna.dashed),
        "the personnummer is not kept"
    );
}

#[test]
fn acr_values_asked_for_in_the_extra_parameters_are_enforced_and_a_fresh_login_is_asked() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |o| {
        o.extra_params = vec![("acr_values".into(), LOA4.into())];
    });
    let res = w.get(&w.browser(), "/login/oidc");
    let auth = location(&res);
    assert!(
        auth.contains(&format!("acr_values={}", urlencode(LOA4))),
        "{auth}"
    );
    assert!(auth.contains("prompt=login"), "{auth}");
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);
    // A user who edits the request and signs in at a lower level is refused.
    let res = eid(
        &w,
        &p,
        &w.browser(),
        &format!("/enrol/{token}/oidc"),
        "anna",
        LOA3,
    );
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = eid(
        &w,
        &p,
        &w.browser(),
        &format!("/enrol/{token}/oidc"),
        "anna",
        LOA4,
    );
    assert_eq!(res.status(), StatusCode::OK);
}

#[test]
fn a_binding_without_a_name_is_refused_and_the_link_still_works() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |_| {});
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);
    let res = eid(
        &w,
        &p,
        &w.browser(),
        &format!("/enrol/{token}/oidc"),
        "utan-namn",
        LOA3,
    );
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().unwrap().contains("inget namn"));
    assert_eq!(w.count("SELECT count(*) FROM user_identity"), 0);
    assert_eq!(
        w.get(&w.browser(), &format!("/enrol/{token}")).status(),
        StatusCode::OK
    );
}

#[test]
fn an_attempt_lasts_ten_minutes() {
    let Some(p) = Provider::start() else { return };
    let w = with_nora(&p, |_| {});
    let c = w.browser();
    let back = at_provider(&w, &p, &c, "/login/oidc", "anna", LOA3);
    w.pass(10 * 60 + 1);
    let res = c.get(&back).send().unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().unwrap().contains("tio minuter"));
    assert!(!signed_in(&w, &c));
}

#[test]
fn a_binding_is_started_from_the_enrolment_page_not_from_another_site() {
    let Some(p) = Provider::start() else { return };
    let w = world(&p, |_| {});
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);
    let c = w.browser();
    let path = format!("/enrol/{token}/oidc");
    for site in ["cross-site", "same-site"] {
        let res = c
            .get(w.url(&path))
            .header("Sec-Fetch-Site", site)
            .send()
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{site}");
        assert_eq!(
            location(&res),
            format!("/enrol/{token}"),
            "{site}: to the page"
        );
    }
    for site in ["same-origin", "none"] {
        let res = c
            .get(w.url(&path))
            .header("Sec-Fetch-Site", site)
            .send()
            .unwrap();
        assert!(
            location(&res).starts_with(&p.issuer),
            "{site}: to the provider"
        );
    }
}
