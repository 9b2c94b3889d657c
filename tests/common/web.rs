//! A real server on a loopback port over a register with interventions
//! PAR → {ALLIN, BETA} and OTHER, an enrolled user per role, and a browser
//! (a cookie jar, no redirects followed) per user: the web tests' world.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use sustrack::accounts::{self, NewUser};
use sustrack::actor::{Actor, Role};
use sustrack::codes::InterventionKind;
use sustrack::identity::{luhn_check_digit, KdfProfile, Personnummer};
use sustrack::model::{Intervention, StartFacts};
use sustrack::register::{self, Participant, Person, StartInput};
use sustrack::store::{self, Store};
use sustrack::web::{Clock, Options, Running};

pub const PASSWORD: &str = "correct horse battery staple";

/// A synthetic personnummer (valid check digit) in its usual spellings.
pub struct Pnr {
    pub twelve: String,
    pub dashed: String,
    pub ten: String,
}

pub fn pnr(yyyymmdd: &str, serial: u32) -> Pnr {
    let nine: Vec<u8> = format!("{}{serial:03}", &yyyymmdd[2..])
        .bytes()
        .map(|b| b - b'0')
        .collect();
    let last = format!("{serial:03}{}", luhn_check_digit(&nine));
    Pnr {
        twelve: format!("{yyyymmdd}{last}"),
        dashed: format!("{yyyymmdd}-{last}"),
        ten: format!("{}{last}", &yyyymmdd[2..]),
    }
}

pub struct User {
    pub login: &'static str,
    pub secret: String,
}

/// The register the tests run against: interventions PAR → {ALLIN, BETA}
/// and OTHER; one enrolment in ALLIN (Anna) and one in BETA (Bertil); an
/// enrolled user per role; staff `eva` has ALLIN only.
pub struct World {
    pub _dir: tempfile::TempDir,
    pub path: std::path::PathBuf,
    pub store: Store,
    pub server: Running,
    pub base: String,
    pub shift: Arc<AtomicI64>,
    pub users: Vec<User>,
    pub in_a: String,
    pub in_b: String,
    pub anna: Pnr,
    pub bertil: Pnr,
}

pub fn intervention(code: &str, parent: Option<&str>) -> Intervention {
    Intervention {
        code: code.into(),
        name: format!("Insats {code}"),
        parent: parent.map(str::to_string),
        kind: InterventionKind::Individual,
        target_work_studies: None,
        target_step: None,
        target_qol: None,
    }
}

pub fn code_at(secret: &str, t: DateTime<Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(t.timestamp() as u64)
        .to_string()
}

impl World {
    pub fn new() -> World {
        World::configured(|_| {})
    }

    /// The same world with the server's options changed first (an e-ID
    /// broker, say).
    pub fn configured(configure: impl FnOnce(&mut Options)) -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.db");
        let owner = Actor::owner("cli:test");
        let store = Store::create(&path, KdfProfile::Test, &owner).unwrap();
        let mut conn = store.connect().unwrap();
        let today = chrono::Local::now().date_naive();
        let anna = pnr("19800101", 123);
        let bertil = pnr("19900202", 456);
        let (in_a, in_b) = store::write(&mut conn, |tx| {
            for (c, p) in [
                ("PAR", None),
                ("ALLIN", Some("PAR")),
                ("BETA", Some("PAR")),
                ("OTHER", None),
            ] {
                register::intervention_add(tx, &owner, intervention(c, p))?;
            }
            let mut ids = Vec::new();
            for (code, who) in [("ALLIN", &anna), ("BETA", &bertil)] {
                let p = Personnummer::parse(&who.dashed, today).unwrap();
                let person = Person::identify(&p, store.kdf(), true, today)?;
                let e = register::start(
                    tx,
                    &owner,
                    today,
                    StartInput {
                        intervention: code.into(),
                        participant: Participant::Person(person),
                        date: today - chrono::Days::new(40),
                        facts: StartFacts::default(),
                    },
                )?;
                ids.push(e.id);
            }
            Ok((ids[0].clone(), ids[1].clone()))
        })
        .unwrap();
        drop(conn);
        World::finish(dir, path, store, in_a, in_b, anna, bertil, configure)
    }

    /// A register made by `sustrack generate` (`n` enrolments, test KDF),
    /// with the same users; `in_a`/`in_b` are empty and Anna and Bertil
    /// are not in it.
    pub fn generated(n: u64, seed: u64) -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.db");
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("sustrack"))
            .args(["generate", "--kdf", "test", "--seed", &seed.to_string()])
            .arg("--enrolments")
            .arg(n.to_string())
            .arg("--db")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let owner = Actor::owner("cli:test");
        let store = Store::open(&path, &owner).unwrap();
        World::finish(
            dir,
            path,
            store,
            String::new(),
            String::new(),
            pnr("19800101", 123),
            pnr("19900202", 456),
            |_| {},
        )
    }

    /// Add the users and start the server.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        dir: tempfile::TempDir,
        path: std::path::PathBuf,
        store: Store,
        in_a: String,
        in_b: String,
        anna: Pnr,
        bertil: Pnr,
        configure: impl FnOnce(&mut Options),
    ) -> World {
        let owner = Actor::owner("cli:test");
        let mut conn = store.connect().unwrap();
        let all = store::interventions::all(&conn).unwrap();
        let staff_grant = |code: &str| {
            if all.iter().any(|i| i.code == code) {
                code.to_string()
            } else {
                all[0].code.clone()
            }
        };
        let now = Utc::now();
        let mut users = Vec::new();
        for (login, role, grants) in [
            ("adam", Role::Admin, vec![]),
            ("cecilia", Role::Coordinator, vec![]),
            ("eva", Role::Staff, vec![staff_grant("ALLIN")]),
            ("greta", Role::Auditor, vec![]),
            ("sven", Role::Staff, vec![staff_grant("BETA")]),
        ] {
            let (_, token) = store::write(&mut conn, |tx| {
                accounts::add(
                    tx,
                    &owner,
                    now,
                    NewUser {
                        login: login.into(),
                        name: None,
                        roles: vec![role],
                        grants,
                    },
                )
            })
            .unwrap();
            let p = accounts::pending(&conn, now, &token.0).unwrap();
            let hashed = accounts::hash_new_password(store.kdf(), PASSWORD, PASSWORD).unwrap();
            let code = code_at(&p.totp_secret_base32, now);
            store::write(&mut conn, |tx| {
                accounts::enrol(tx, now, &token.0, hashed, &code)
            })
            .unwrap();
            users.push(User {
                login,
                secret: p.totp_secret_base32,
            });
        }
        drop(conn);
        let shift = Arc::new(AtomicI64::new(0));
        let mut opts = Options::new("127.0.0.1:0".parse().unwrap());
        opts.clock = Clock::shifted(shift.clone());
        opts.backup_recipient = Some(recovery_key().to_public().to_string());
        configure(&mut opts);
        let server = Running::start(Store::open(&path, &owner).unwrap(), opts).unwrap();
        let base = format!("http://{}", server.addr);
        World {
            _dir: dir,
            path,
            store,
            server,
            base,
            shift,
            users,
            in_a,
            in_b,
            anna,
            bertil,
        }
    }

    /// Add a user as the file's owner; returns the enrolment link's token.
    pub fn add_user(&self, login: &str, role: Role, grants: &[&str]) -> String {
        let mut conn = self.store.connect().unwrap();
        let (_, token) = store::write(&mut conn, |tx| {
            accounts::add(
                tx,
                &Actor::owner("cli:test"),
                self.now(),
                NewUser {
                    login: login.into(),
                    name: None,
                    roles: vec![role],
                    grants: grants.iter().map(|g| g.to_string()).collect(),
                },
            )
        })
        .unwrap();
        token.0
    }

    /// `actor | detail` of the audit rows with this action, oldest first.
    pub fn audit_details(&self, action: &str) -> Vec<String> {
        let conn = self.store.connect().unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT actor || ' | ' || ifnull(detail, '') FROM audit WHERE action = ?1 ORDER BY id",
            )
            .unwrap();
        stmt.query_map([action], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::seconds(self.shift.load(Ordering::SeqCst))
    }

    /// Move the server's clock forward.
    pub fn pass(&self, seconds: i64) {
        self.shift.fetch_add(seconds, Ordering::SeqCst);
    }

    pub fn secret(&self, login: &str) -> &str {
        &self.users.iter().find(|u| u.login == login).unwrap().secret
    }

    /// A fresh browser: cookies kept, redirects not followed.
    pub fn browser(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn get(&self, c: &Client, path: &str) -> Response {
        c.get(self.url(path)).send().unwrap()
    }

    pub fn post(&self, c: &Client, path: &str, form: &[(&str, &str)]) -> Response {
        c.post(self.url(path)).form(form).send().unwrap()
    }

    /// The login form's CSRF token (sets the pre-session cookie).
    pub fn login_csrf(&self, c: &Client) -> String {
        csrf_of(&self.get(c, "/login").text().unwrap())
    }

    /// Sign in with password and a fresh code (the clock moves one TOTP
    /// step first, since a code is accepted once).
    pub fn sign_in(&self, login: &str) -> Client {
        let c = self.browser();
        let res = self.try_sign_in(&c, login, PASSWORD, true);
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{login} signs in");
        c
    }

    pub fn try_sign_in(&self, c: &Client, login: &str, password: &str, fresh: bool) -> Response {
        if fresh {
            self.pass(30);
        }
        let csrf = self.login_csrf(c);
        let code = self
            .users
            .iter()
            .find(|u| u.login == login)
            .map(|u| code_at(&u.secret, self.now()))
            .unwrap_or_else(|| "123456".into());
        self.post(
            c,
            "/login",
            &[
                ("csrf", &csrf),
                ("login", login),
                ("password", password),
                ("code", &code),
            ],
        )
    }

    /// The CSRF token of a signed-in user's pages.
    pub fn csrf(&self, c: &Client) -> String {
        csrf_of(&self.get(c, "/").text().unwrap())
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.store
            .connect()
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap()
    }

    /// Everything a refused request must leave as it was.
    pub fn state(&self) -> String {
        let conn = self.store.connect().unwrap();
        let mut out = String::new();
        for sql in [
            "SELECT group_concat(id || intervention || start_date || ifnull(exit_date, '-'), ';') FROM enrolment",
            "SELECT group_concat(login || disabled || failed_logins, ';') FROM app_user",
            "SELECT group_concat(id, ';') FROM person",
            "SELECT count(*) FROM audit WHERE action NOT IN ('list', 'show', 'report', 'find', 'sign-in')",
        ] {
            let v: Option<String> = conn
                .query_row(sql, [], |r| r.get::<_, Option<rusqlite::types::Value>>(0))
                .unwrap()
                .map(|v| format!("{v:?}"));
            out.push_str(&format!("{v:?}\n"));
        }
        out
    }
}

/// The förbund's recovery key of these tests (its private half decrypts
/// the web backup).
pub fn recovery_key() -> age::x25519::Identity {
    use std::str::FromStr;
    static KEY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let s = KEY.get_or_init(|| {
        use age::secrecy::ExposeSecret;
        age::x25519::Identity::generate()
            .to_string()
            .expose_secret()
            .to_string()
    });
    age::x25519::Identity::from_str(s).unwrap()
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {html}"))
        + 19;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}
