//! The cost of a sign-in to the server, e-ID against password (issue 15;
//! BENCHMARKS.md "e-ID sign-in"):
//!
//!     cargo run --release --example eid_sign_in [N]
//!
//! One release server over a register with the default KDF profile (as a
//! förbund runs it), a real OpenID Provider (tests/oidc/provider.mjs, Node)
//! on loopback, and N sign-ins of each kind, one after another, timed as a
//! client on loopback sees them:
//!
//! - password: `POST /login` with password and a fresh TOTP code (N users,
//!   each signing in once, since a code is accepted once): argon2id runs.
//! - e-ID: `GET /login/oidc/callback` with the provider's code, the part of
//!   an e-ID sign-in the server does (the token request to the provider,
//!   the ID token's checks, the session). The browser's visit to the
//!   provider before it is not the server's work and is not counted.

#[path = "../tests/common/oidc.rs"]
#[allow(dead_code)]
mod oidc;

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::blocking::Client;
use sustrack::accounts::{self, eid, NewUser};
use sustrack::actor::{Actor, Role};
use sustrack::identity::KdfProfile;
use sustrack::store::{self, Store};
use sustrack::web::{Options, Running};

const PASSWORD: &str = "correct horse battery staple";

fn code_at(secret: &str, t: chrono::DateTime<Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(t.timestamp() as u64)
        .to_string()
}

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

fn location(res: &reqwest::blocking::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

fn summary(name: &str, mut v: Vec<Duration>) -> f64 {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(v[v.len() / 2]);
    println!(
        "{name:<9} n={:<4} median {:>6.1} ms   p90 {:>6.1} ms   max {:>6.1} ms",
        v.len(),
        median,
        ms(v[v.len() * 9 / 10]),
        ms(*v.last().unwrap())
    );
    median
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("N"))
        .unwrap_or(40);
    let p = oidc::Provider::start().expect("the OpenID Provider (node, npm ci)");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let owner = Actor::owner("cli:bench");
    let st = Store::create(&path, KdfProfile::Default, &owner).unwrap();
    let mut conn = st.connect().unwrap();
    // Enrolled a few TOTP steps ago, so the code each signs in with now
    // is a later one (a code is accepted once).
    let now = Utc::now() - chrono::Duration::seconds(90);

    // N password users (enrolled as the enrolment page would), one e-ID user.
    let mut secrets = Vec::new();
    for i in 0..n {
        let login = format!("user{i}");
        let (_, token) = store::write(&mut conn, |tx| {
            accounts::add(
                tx,
                &owner,
                now,
                NewUser {
                    login: login.clone(),
                    name: None,
                    roles: vec![Role::Auditor],
                    grants: vec![],
                },
            )
        })
        .unwrap();
        let pending = accounts::pending(&conn, now, &token.0).unwrap();
        let hashed = accounts::hash_new_password(st.kdf(), PASSWORD, PASSWORD).unwrap();
        let code = code_at(&pending.totp_secret_base32, now);
        store::write(&mut conn, |tx| {
            accounts::enrol(tx, now, &token.0, hashed, &code)
        })
        .unwrap();
        secrets.push((login, pending.totp_secret_base32));
    }
    let (_, token) = store::write(&mut conn, |tx| {
        accounts::add(
            tx,
            &owner,
            now,
            NewUser {
                login: "nora".into(),
                name: None,
                roles: vec![Role::Auditor],
                grants: vec![],
            },
        )
    })
    .unwrap();
    let anna = eid::Asserted::new(
        st.kdf(),
        &p.issuer,
        "anna",
        Some("Anna Andersson".into()),
        None,
    );
    store::write(&mut conn, |tx| {
        eid::request_binding(tx, now, &token.0, &anna, &[])?;
        eid::confirm(tx, &owner, now, "nora", None)
    })
    .unwrap();
    drop(conn);

    let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
    let mut o = p.options();
    o.timeout = Duration::from_secs(10);
    opts.oidc = Some(o);
    let server = Running::start(Store::open(&path, &owner).unwrap(), opts).unwrap();
    let base = format!("http://{}", server.addr);
    println!(
        "machine: {} cores; KDF default (m=19456 KiB, t=2); provider oidc-provider 8.8.1 on Node; {n} sign-ins of each kind",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );

    let mut password = Vec::new();
    for (login, secret) in &secrets {
        let c = browser();
        let csrf = csrf_of(
            &c.get(format!("{base}/login"))
                .send()
                .unwrap()
                .text()
                .unwrap(),
        );
        let form = [
            ("csrf", csrf.as_str()),
            ("login", login.as_str()),
            ("password", PASSWORD),
            ("code", &code_at(secret, Utc::now())),
        ];
        let t = Instant::now();
        let res = c.post(format!("{base}/login")).form(&form).send().unwrap();
        password.push(t.elapsed());
        assert_eq!(res.status(), 303, "{login} signs in");
    }

    let mut callback = Vec::new();
    let mut whole = Vec::new();
    for _ in 0..n + 1 {
        let c = browser();
        let t0 = Instant::now();
        let mut url = location(&c.get(format!("{base}/login/oidc")).send().unwrap());
        let back = loop {
            let res = c.get(&url).send().unwrap();
            if res.status().is_redirection() {
                url = location(&res);
                if !url.starts_with("http") {
                    url = format!("{}{url}", p.issuer);
                }
                continue;
            }
            let html = res.text().unwrap();
            let at = html.find("action=\"").unwrap() + 8;
            let action = format!(
                "{}{}",
                p.issuer,
                &html[at..at + html[at..].find('"').unwrap()]
            );
            let mut res = c.post(&action).form(&[("login", "anna")]).send().unwrap();
            loop {
                let to = location(&res);
                let to = if to.starts_with("http") {
                    to
                } else {
                    format!("{}{to}", p.issuer)
                };
                if to.starts_with(&format!("{base}/login/oidc/callback")) {
                    break;
                }
                res = c.get(&to).send().unwrap();
            }
            break location(&res);
        };
        let t = Instant::now();
        let res = c.get(&back).send().unwrap();
        let done = t.elapsed();
        assert_eq!(res.status(), 303, "nora signs in with e-ID");
        callback.push(done);
        whole.push(t0.elapsed());
    }
    // The first e-ID sign-in is a warm-up (its start fetched the provider's
    // metadata and keys, and the provider's first token request is slow).
    callback.remove(0);
    whole.remove(0);
    let pw = summary("password", password);
    let cb = summary("e-ID", callback);
    summary("e-ID flow", whole);
    println!(
        "ratio e-ID callback / password sign-in (medians): {:.2}",
        cb / pw
    );
}
