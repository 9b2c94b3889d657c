//! The server's accounts (SPEC section 11, "Sign-in", "Sessions", the role
//! table): administration rules, the one-time enrolment link, sign-in with
//! password and TOTP, lockout and sessions, at library level with injected
//! time, and the `user` commands through the real binary.
//!
//! TOTP codes are computed here with totp-rs from the secret the enrolment
//! page shows, as an authenticator app would.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use common::Env;
use rusqlite::Connection;
use sustrack::accounts::{self, NewUser, SignIn};
use sustrack::actor::{Action, Actor, Role};
use sustrack::codes::InterventionKind;
use sustrack::error::{Error, Field};
use sustrack::identity::KdfProfile;
use sustrack::model::Intervention;
use sustrack::register;
use sustrack::store::{self, Memory};

const PASSWORD: &str = "correct horse battery";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 3, 8, 0, 0).unwrap()
}

fn owner() -> Actor {
    Actor::owner("cli:tester")
}

/// ESF > ALLIN > ALLIN-UNG, and OTHER beside them.
fn setup() -> Memory {
    let mut db = Memory::open(KdfProfile::Test).unwrap();
    for (code, parent) in [
        ("ESF", None),
        ("ALLIN", Some("ESF")),
        ("ALLIN-UNG", Some("ALLIN")),
        ("OTHER", None),
    ] {
        let i = Intervention {
            code: code.into(),
            name: format!("Insats {code}"),
            parent: parent.map(String::from),
            kind: InterventionKind::Individual,
            target_work_studies: None,
            target_step: None,
            target_qol: None,
        };
        store::write(&mut db.conn, |tx| {
            register::intervention_add(tx, &owner(), i)
        })
        .unwrap();
    }
    db
}

fn new_user(login: &str, roles: &[Role], grants: &[&str]) -> NewUser {
    NewUser {
        login: login.into(),
        name: None,
        roles: roles.to_vec(),
        grants: grants.iter().map(|s| s.to_string()).collect(),
    }
}

fn add(db: &mut Memory, actor: &Actor, u: NewUser) -> sustrack::error::Result<String> {
    store::write(&mut db.conn, |tx| accounts::add(tx, actor, t0(), u)).map(|(_, t)| t.0)
}

/// The code an authenticator app shows at `t` for a base32 secret.
fn code_at(secret_base32: &str, t: DateTime<Utc>) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(t.timestamp() as u64)
        .to_string()
}

/// Add and enrol a user at t0; returns the TOTP secret (base32).
fn enrolled(db: &mut Memory, login: &str, roles: &[Role], grants: &[&str]) -> String {
    let token = add(db, &owner(), new_user(login, roles, grants)).unwrap();
    enrol_with(db, &token, t0())
}

fn enrol_with(db: &mut Memory, token: &str, at: DateTime<Utc>) -> String {
    let p = accounts::pending(&db.conn, at, token).unwrap();
    let hashed = accounts::hash_new_password(&db.kdf, PASSWORD, PASSWORD).unwrap();
    let code = code_at(&p.totp_secret_base32, at);
    store::write(&mut db.conn, |tx| {
        accounts::enrol(tx, at, token, hashed, &code)
    })
    .unwrap();
    p.totp_secret_base32
}

fn sign_in_full(
    db: &mut Memory,
    now: DateTime<Utc>,
    login: &str,
    password: &str,
    code: &str,
    password_alone: bool,
) -> SignIn {
    let check = accounts::check_password(&db.conn, login, password).unwrap();
    store::write(&mut db.conn, |tx| {
        accounts::sign_in(tx, now, login, check, code, password_alone)
    })
    .unwrap()
}

fn sign_in(db: &mut Memory, now: DateTime<Utc>, login: &str, password: &str, code: &str) -> SignIn {
    sign_in_full(db, now, login, password, code, false)
}

fn accepted(s: &SignIn) -> bool {
    matches!(s, SignIn::Accepted { .. })
}

/// (actor, action, subject, detail) of every audit row after `from`.
fn audit_since(
    conn: &Connection,
    from: i64,
) -> Vec<(String, String, Option<String>, Option<String>)> {
    let mut stmt = conn
        .prepare("SELECT actor, action, subject, detail FROM audit WHERE id > ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([from], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn last_audit_id(conn: &Connection) -> i64 {
    conn.query_row("SELECT coalesce(max(id), 0) FROM audit", [], |r| r.get(0))
        .unwrap()
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn field(e: &Error) -> Option<Field> {
    e.field()
}

// ---- Administration ----

#[test]
fn add_checks_every_rule_and_writes_nothing_when_refused() {
    let mut db = setup();
    add(
        &mut db,
        &owner(),
        new_user("Anna.S", &[Role::Staff], &["allin"]),
    )
    .unwrap();
    let anna = accounts::get(&db.conn, &owner(), "anna.s").unwrap();
    assert_eq!(anna.login, "anna.s", "logins are lower-cased");
    assert_eq!(anna.grants, vec!["ALLIN".to_string()]);
    assert_eq!(anna.roles, vec![Role::Staff]);
    assert!(!anna.enrolled && !anna.disabled);

    let before = (
        count(&db.conn, "app_user"),
        count(&db.conn, "user_role"),
        count(&db.conn, "user_grant"),
        count(&db.conn, "enrol_token"),
        count(&db.conn, "audit"),
    );
    let refused: Vec<(NewUser, Option<Field>)> = vec![
        (
            new_user("ANNA.s", &[Role::Coordinator], &[]),
            Some(Field::Login),
        ),
        (
            new_user("bo", &[Role::Admin, Role::Staff], &[]),
            Some(Field::Role),
        ),
        (new_user("bo", &[], &[]), Some(Field::Role)),
        (new_user("bo", &[Role::Owner], &[]), Some(Field::Role)),
        (
            new_user("bo", &[Role::Coordinator], &["ALLIN"]),
            Some(Field::Intervention),
        ),
        (new_user("bo ek", &[Role::Staff], &[]), Some(Field::Login)),
        (new_user("", &[Role::Staff], &[]), Some(Field::Login)),
        (
            new_user(&"b".repeat(65), &[Role::Staff], &[]),
            Some(Field::Login),
        ),
        (
            new_user("197001011233", &[Role::Staff], &[]),
            Some(Field::Login),
        ),
        // A good user with one unknown intervention: nothing of it is kept.
        (new_user("bo", &[Role::Staff], &["ALLIN", "NOPE"]), None),
    ];
    for (u, want) in refused {
        let login = u.login.clone();
        let e = add(&mut db, &owner(), u).unwrap_err();
        assert_eq!(field(&e), want, "{login}: {e}");
        assert!(!e.to_string().contains("197001011233"), "{e}");
        if want.is_none() {
            assert!(matches!(e, Error::NotFound(_)), "{e}");
            assert!(e.to_string().contains("NOPE"), "{e}");
        }
    }
    let after = (
        count(&db.conn, "app_user"),
        count(&db.conn, "user_role"),
        count(&db.conn, "user_grant"),
        count(&db.conn, "enrol_token"),
        count(&db.conn, "audit"),
    );
    assert_eq!(before, after);
    // The longest login accepted, and every character allowed.
    add(
        &mut db,
        &owner(),
        new_user(&"b".repeat(64), &[Role::Auditor], &[]),
    )
    .unwrap();
    add(
        &mut db,
        &owner(),
        new_user("a.b_c-d@e.se", &[Role::Auditor], &[]),
    )
    .unwrap();
}

#[test]
fn only_the_admin_and_the_owner_manage_users() {
    let mut db = setup();
    enrolled(&mut db, "admin1", &[Role::Admin], &[]);
    enrolled(&mut db, "staff1", &[Role::Staff], &["ALLIN"]);
    let admin = Actor::user("admin1", vec![Role::Admin], Default::default());
    for who in [
        Actor::user("staff1", vec![Role::Staff], ["ALLIN".to_string()].into()),
        Actor::user(
            "c",
            vec![Role::Coordinator, Role::Auditor],
            Default::default(),
        ),
    ] {
        assert!(!who.may(Action::ManageUsers));
        let e = add(&mut db, &who, new_user("x", &[Role::Staff], &[])).unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
        assert!(matches!(
            accounts::list(&db.conn, &who),
            Err(Error::Forbidden(_))
        ));
        let e = store::write(&mut db.conn, |tx| accounts::disable(tx, &who, "admin1")).unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
        let e = store::write(&mut db.conn, |tx| {
            accounts::grant(tx, &who, "staff1", "OTHER")
        })
        .unwrap_err();
        assert!(matches!(e, Error::Forbidden(_)), "{e}");
    }
    add(&mut db, &admin, new_user("x", &[Role::Staff], &["OTHER"])).unwrap();
    assert_eq!(accounts::list(&db.conn, &admin).unwrap().len(), 3);
    // The admin neither disables nor grants to themselves.
    let e = store::write(&mut db.conn, |tx| accounts::disable(tx, &admin, "admin1")).unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    let e = store::write(&mut db.conn, |tx| {
        accounts::grant(tx, &admin, "admin1", "ALLIN")
    })
    .unwrap_err();
    assert!(matches!(e, Error::Forbidden(_)), "{e}");
    // The audit trail names the admin who acted.
    let rows = audit_since(&db.conn, 0);
    assert!(
        rows.contains(&(
            "admin1".into(),
            "user add".into(),
            Some("x".into()),
            Some("roles staff; interventions OTHER".into())
        )),
        "{rows:?}"
    );
}

#[test]
fn grants_go_only_to_staff_and_only_to_existing_interventions() {
    let mut db = setup();
    add(&mut db, &owner(), new_user("s", &[Role::Staff], &[])).unwrap();
    add(&mut db, &owner(), new_user("c", &[Role::Coordinator], &[])).unwrap();
    let grant = |db: &mut Memory, login: &str, code: &str| {
        store::write(&mut db.conn, |tx| {
            accounts::grant(tx, &owner(), login, code)
        })
    };
    let revoke = |db: &mut Memory, login: &str, code: &str| {
        store::write(&mut db.conn, |tx| {
            accounts::revoke(tx, &owner(), login, code)
        })
    };
    let e = grant(&mut db, "c", "ALLIN").unwrap_err();
    assert_eq!(e.field(), Some(Field::Intervention), "{e}");
    assert!(matches!(
        grant(&mut db, "s", "NOPE"),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        grant(&mut db, "nobody", "ALLIN"),
        Err(Error::NotFound(_))
    ));
    grant(&mut db, "s", "allin").unwrap();
    assert!(matches!(
        grant(&mut db, "s", "ALLIN"),
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        accounts::get(&db.conn, &owner(), "s").unwrap().grants,
        ["ALLIN"]
    );
    assert!(matches!(
        revoke(&mut db, "s", "OTHER"),
        Err(Error::NotFound(_))
    ));
    revoke(&mut db, "s", "ALLIN").unwrap();
    assert!(accounts::get(&db.conn, &owner(), "s")
        .unwrap()
        .grants
        .is_empty());
    let actions: Vec<String> = audit_since(&db.conn, 0).into_iter().map(|r| r.1).collect();
    assert_eq!(actions.iter().filter(|a| *a == "user grant").count(), 1);
    assert_eq!(actions.iter().filter(|a| *a == "user revoke").count(), 1);
}

// ---- Passwords and enrolment ----

#[test]
fn a_password_has_twelve_characters_and_is_typed_twice() {
    let db = setup();
    // Eleven characters in 22 bytes is too short: characters count.
    let e = accounts::hash_new_password(&db.kdf, &"å".repeat(11), &"å".repeat(11))
        .err()
        .unwrap();
    assert_eq!(e.field(), Some(Field::Password));
    assert!(
        e.to_string()
            .starts_with("must have at least 12 characters"),
        "{e}"
    );
    let e = accounts::hash_new_password(&db.kdf, PASSWORD, "correct horse battery!")
        .err()
        .unwrap();
    assert_eq!(e.field(), Some(Field::PasswordAgain));
    let a = accounts::hash_new_password(&db.kdf, &"å".repeat(12), &"å".repeat(12)).unwrap();
    let b = accounts::hash_new_password(&db.kdf, &"å".repeat(12), &"å".repeat(12)).unwrap();
    let (m, t, p) = KdfProfile::Test.params();
    assert!(
        a.0.starts_with(&format!("$argon2id$v=19$m={m},t={t},p={p}$")),
        "{}",
        a.0
    );
    assert_ne!(a.0, b.0, "each password has a salt of its own");
    assert!(!a.0.contains('å'));
}

#[test]
fn the_enrolment_link_shows_one_secret_takes_a_current_code_and_is_used_once() {
    let mut db = setup();
    let token = add(
        &mut db,
        &owner(),
        new_user("anna", &[Role::Staff], &["ALLIN"]),
    )
    .unwrap();
    assert_eq!(token.len(), 43, "256 bits in base64url without padding");
    assert!(token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    // Only the token's hash is stored.
    let stored: Vec<u8> = db
        .conn
        .query_row("SELECT token_hash FROM enrol_token", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&token));

    let p1 = accounts::pending(&db.conn, t0(), &token).unwrap();
    let p2 = accounts::pending(&db.conn, t0() + Duration::hours(1), &token).unwrap();
    assert_eq!(
        p1.totp_secret_base32, p2.totp_secret_base32,
        "a reload shows the same QR code"
    );
    assert_eq!(p1.totp_secret_base32.len(), 32, "160 bits");
    assert_eq!(p1.login, "anna");
    assert!(
        p1.otpauth_url.starts_with("otpauth://totp/sustrack:anna?"),
        "{}",
        p1.otpauth_url
    );
    assert!(p1
        .otpauth_url
        .contains(&format!("secret={}", p1.totp_secret_base32)));
    assert!(p1.otpauth_url.contains("issuer=sustrack"));

    let at = t0() + Duration::hours(2);
    let enrol = |db: &mut Memory, code: &str| {
        let hashed = accounts::hash_new_password(&db.kdf, PASSWORD, PASSWORD).unwrap();
        store::write(&mut db.conn, |tx| {
            accounts::enrol(tx, at, &token, hashed, code)
        })
    };
    // A wrong code, or one from ten minutes ago: refused, the link still works.
    for code in [
        "000000",
        &code_at(&p1.totp_secret_base32, at - Duration::minutes(10)),
        "abc",
    ] {
        let e = enrol(&mut db, code).unwrap_err();
        assert_eq!(e.field(), Some(Field::Totp), "{e}");
    }
    assert!(!accounts::get(&db.conn, &owner(), "anna").unwrap().enrolled);
    // The code of the step before is still accepted (clock drift), typed with a space.
    let code = code_at(&p1.totp_secret_base32, at - Duration::seconds(30));
    enrol(&mut db, &format!("{} {}", &code[..3], &code[3..])).unwrap();
    assert!(accounts::get(&db.conn, &owner(), "anna").unwrap().enrolled);
    let rows = audit_since(&db.conn, 0);
    assert_eq!(
        rows.last().unwrap(),
        &("anna".into(), "enrol".into(), Some("anna".into()), None)
    );

    // Used: the same answer as an unknown link.
    let used = accounts::pending(&db.conn, at, &token).unwrap_err();
    let unknown = accounts::pending(&db.conn, at, "no-such-token").unwrap_err();
    assert!(matches!(used, Error::NotFound(_)));
    assert_eq!(used.to_string(), unknown.to_string());
    let e = enrol(&mut db, &code_at(&p1.totp_secret_base32, at)).unwrap_err();
    assert_eq!(e.to_string(), unknown.to_string());
}

#[test]
fn an_enrolment_link_expires_after_72_hours() {
    let mut db = setup();
    let token = add(&mut db, &owner(), new_user("anna", &[Role::Staff], &[])).unwrap();
    let unknown = accounts::pending(&db.conn, t0(), "no-such-token").unwrap_err();
    let last = t0() + Duration::hours(72) - Duration::seconds(1);
    assert!(accounts::pending(&db.conn, last, &token).is_ok());
    let expired = t0() + Duration::hours(72);
    let e = accounts::pending(&db.conn, expired, &token).unwrap_err();
    assert!(matches!(e, Error::NotFound(_)));
    assert_eq!(e.to_string(), unknown.to_string());
    let p = accounts::pending(&db.conn, last, &token).unwrap();
    let hashed = accounts::hash_new_password(&db.kdf, PASSWORD, PASSWORD).unwrap();
    let code = code_at(&p.totp_secret_base32, expired);
    let e = store::write(&mut db.conn, |tx| {
        accounts::enrol(tx, expired, &token, hashed, &code)
    })
    .unwrap_err();
    assert_eq!(e.to_string(), unknown.to_string());
}

// ---- Sign-in ----

#[test]
fn sign_in_needs_the_password_and_a_current_code_used_once() {
    let mut db = setup();
    let secret = enrolled(&mut db, "anna", &[Role::Staff], &["ALLIN"]);
    let now = t0() + Duration::minutes(5);
    let code = code_at(&secret, now);
    assert!(!accepted(&sign_in(
        &mut db,
        now,
        "anna",
        "wrong password!!",
        &code
    )));
    assert!(!accepted(&sign_in(
        &mut db, now, "anna", PASSWORD, "123456"
    )));
    assert!(!accepted(&sign_in(&mut db, now, "anna", PASSWORD, "")));
    // A code two steps old is refused.
    let old = code_at(&secret, now - Duration::seconds(60));
    assert!(!accepted(&sign_in(&mut db, now, "anna", PASSWORD, &old)));
    // Login typed with capitals and spaces around it.
    let s = sign_in(&mut db, now, " Anna ", PASSWORD, &code);
    let id = accounts::get(&db.conn, &owner(), "anna").unwrap().id;
    assert!(
        matches!(s, SignIn::Accepted { user_id } if user_id == id),
        "{s:?}"
    );
    // The same code again, at once or within its window: a replay.
    assert!(!accepted(&sign_in(&mut db, now, "anna", PASSWORD, &code)));
    assert!(!accepted(&sign_in(
        &mut db,
        now + Duration::seconds(20),
        "anna",
        PASSWORD,
        &code
    )));
    // The code of the step before the one used is older: refused too.
    let before = code_at(&secret, now - Duration::seconds(30));
    assert!(!accepted(&sign_in(&mut db, now, "anna", PASSWORD, &before)));
    // The next step's code (the phone's clock a little ahead) is fine.
    let next = code_at(&secret, now + Duration::seconds(30));
    assert!(accepted(&sign_in(&mut db, now, "anna", PASSWORD, &next)));
    let actions: Vec<String> = audit_since(&db.conn, 0).into_iter().map(|r| r.1).collect();
    assert_eq!(actions.iter().filter(|a| *a == "sign-in").count(), 2);
    assert_eq!(
        actions.iter().filter(|a| *a == "sign-in refused").count(),
        7
    );
}

#[test]
fn an_unknown_login_and_a_wrong_password_look_the_same() {
    let mut db = setup();
    let secret = enrolled(&mut db, "anna", &[Role::Staff], &[]);
    let now = t0() + Duration::minutes(5);
    let code = code_at(&secret, now);
    let from = last_audit_id(&db.conn);
    let wrong = sign_in(&mut db, now, "anna", "wrong password!!", &code);
    let unknown = sign_in(&mut db, now, "bertil", PASSWORD, &code);
    assert_eq!(format!("{wrong:?}"), format!("{unknown:?}"));
    let check = accounts::check_password(&db.conn, "bertil", PASSWORD).unwrap();
    assert!(check.user_id.is_none() && !check.password_ok);
    let rows = audit_since(&db.conn, from);
    assert_eq!(
        rows,
        vec![
            ("anna".into(), "sign-in refused".into(), None, None),
            ("bertil".into(), "sign-in refused".into(), None, None),
        ]
    );
}

#[test]
fn a_personnummer_typed_as_login_never_reaches_the_audit_trail() {
    let mut db = setup();
    let from = last_audit_id(&db.conn);
    sign_in(&mut db, t0(), "19700101-1233", PASSWORD, "123456");
    sign_in(
        &mut db,
        t0(),
        &format!("{}197001011233", "x".repeat(60)),
        PASSWORD,
        "",
    );
    sign_in(&mut db, t0(), &"y".repeat(500), PASSWORD, "");
    let rows = audit_since(&db.conn, from);
    assert_eq!(rows.len(), 3);
    for (actor, action, ..) in &rows {
        assert_eq!(action, "sign-in refused");
        assert!(actor.chars().count() <= 64, "{actor}");
        assert!(
            actor.chars().filter(|c| c.is_ascii_digit()).count() < 10,
            "{actor}"
        );
    }
    assert_eq!(rows[0].0, "<personnummer>");
    assert_eq!(rows[2].0, "y".repeat(64));
}

#[test]
fn five_failures_lock_for_fifteen_minutes_and_success_resets_the_count() {
    let mut db = setup();
    let secret = enrolled(&mut db, "anna", &[Role::Staff], &[]);
    let mut now = t0() + Duration::minutes(1);
    let fail = |db: &mut Memory, now: DateTime<Utc>| {
        assert!(!accepted(&sign_in(
            db,
            now,
            "anna",
            "wrong password!!",
            &code_at(&secret, now)
        )));
    };
    // Four failures, a success, four more: the count started again, no lock.
    for _ in 0..4 {
        fail(&mut db, now);
    }
    now += Duration::minutes(1);
    assert!(accepted(&sign_in(
        &mut db,
        now,
        "anna",
        PASSWORD,
        &code_at(&secret, now)
    )));
    for _ in 0..4 {
        now += Duration::minutes(1);
        fail(&mut db, now);
    }
    assert!(accounts::get(&db.conn, &owner(), "anna")
        .unwrap()
        .locked_until
        .is_none());
    let from = last_audit_id(&db.conn);
    now += Duration::minutes(1);
    let locked_at = now;
    fail(&mut db, now);
    let rows = audit_since(&db.conn, from);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0],
        ("anna".into(), "sign-in refused".into(), None, None)
    );
    assert_eq!(rows[1].1, "lock");
    assert_eq!(rows[1].2.as_deref(), Some("anna"));
    let until = locked_at + Duration::minutes(15);
    assert_eq!(
        accounts::get(&db.conn, &owner(), "anna")
            .unwrap()
            .locked_until,
        Some(until)
    );
    // Locked: the right password and code are refused, the same way; more
    // failures neither extend the lock nor lock again.
    let t = locked_at + Duration::minutes(2);
    assert!(!accepted(&sign_in(
        &mut db,
        t,
        "anna",
        PASSWORD,
        &code_at(&secret, t)
    )));
    for i in 3..15 {
        fail(&mut db, locked_at + Duration::minutes(i));
    }
    let rows = audit_since(&db.conn, from);
    assert_eq!(rows.iter().filter(|r| r.1 == "lock").count(), 1);
    assert_eq!(
        accounts::get(&db.conn, &owner(), "anna")
            .unwrap()
            .locked_until,
        Some(until)
    );
    let t = until - Duration::seconds(1);
    assert!(!accepted(&sign_in(
        &mut db,
        t,
        "anna",
        PASSWORD,
        &code_at(&secret, t)
    )));
    // Fifteen minutes after the lock: in again.
    let t = until + Duration::seconds(30);
    assert!(accepted(&sign_in(
        &mut db,
        t,
        "anna",
        PASSWORD,
        &code_at(&secret, t)
    )));
    let u = accounts::get(&db.conn, &owner(), "anna").unwrap();
    assert!(u.locked_until.is_none());
}

#[test]
fn after_a_lock_runs_out_five_new_failures_lock_again() {
    let mut db = setup();
    let secret = enrolled(&mut db, "anna", &[Role::Staff], &[]);
    let t = t0() + Duration::minutes(1);
    for _ in 0..5 {
        sign_in(&mut db, t, "anna", "wrong password!!", "");
    }
    let after = t + Duration::minutes(16);
    for _ in 0..4 {
        sign_in(&mut db, after, "anna", "wrong password!!", "");
    }
    assert!(accepted(&sign_in(
        &mut db,
        after,
        "anna",
        PASSWORD,
        &code_at(&secret, after)
    )));
    for _ in 0..5 {
        sign_in(&mut db, after, "anna", "wrong password!!", "");
    }
    let until = accounts::get(&db.conn, &owner(), "anna")
        .unwrap()
        .locked_until;
    assert_eq!(until, Some(after + Duration::minutes(15)));
}

#[test]
fn disabled_and_not_enrolled_users_are_refused_with_the_right_password_and_code() {
    let mut db = setup();
    let secret = enrolled(&mut db, "anna", &[Role::Staff], &["ALLIN"]);
    let now = t0() + Duration::minutes(1);
    assert!(accepted(&sign_in(
        &mut db,
        now,
        "anna",
        PASSWORD,
        &code_at(&secret, now)
    )));
    let session = store::write(&mut db.conn, |tx| accounts::session_start(tx, now, 1)).unwrap();
    assert!(accounts::session_get(&db.conn, now, &session.cookie)
        .unwrap()
        .is_some());

    store::write(&mut db.conn, |tx| accounts::disable(tx, &owner(), "anna")).unwrap();
    assert_eq!(
        count(&db.conn, "session"),
        0,
        "disabling ends the sessions at once"
    );
    assert!(accounts::session_get(&db.conn, now, &session.cookie)
        .unwrap()
        .is_none());
    let t = now + Duration::minutes(1);
    assert!(!accepted(&sign_in(
        &mut db,
        t,
        "anna",
        PASSWORD,
        &code_at(&secret, t)
    )));
    assert!(accounts::get(&db.conn, &owner(), "anna").unwrap().disabled);

    // Reset re-enables, but the old password and authenticator are gone.
    let token = store::write(&mut db.conn, |tx| accounts::reset(tx, &owner(), t, "anna")).unwrap();
    let t = t + Duration::minutes(1);
    assert!(!accepted(&sign_in(
        &mut db,
        t,
        "anna",
        PASSWORD,
        &code_at(&secret, t)
    )));
    let u = accounts::get(&db.conn, &owner(), "anna").unwrap();
    assert!(!u.disabled && !u.enrolled);
    // The new link gives a new secret; with it, in again.
    let new_secret = enrol_with(&mut db, &token.0, t);
    assert_ne!(new_secret, secret);
    let t = t + Duration::minutes(1);
    assert!(accepted(&sign_in(
        &mut db,
        t,
        "anna",
        PASSWORD,
        &code_at(&new_secret, t)
    )));
    let actions: Vec<String> = audit_since(&db.conn, 0).into_iter().map(|r| r.1).collect();
    for a in ["user add", "enrol", "sign-in", "user disable", "user reset"] {
        assert!(actions.contains(&a.to_string()), "{a}: {actions:?}");
    }
}

#[test]
fn a_disabled_users_enrolment_link_stops_working_and_reset_clears_a_lock() {
    let mut db = setup();
    let token = add(&mut db, &owner(), new_user("anna", &[Role::Staff], &[])).unwrap();
    store::write(&mut db.conn, |tx| accounts::disable(tx, &owner(), "anna")).unwrap();
    assert!(matches!(
        accounts::pending(&db.conn, t0(), &token),
        Err(Error::NotFound(_))
    ));

    enrolled(&mut db, "bo", &[Role::Coordinator], &[]);
    for _ in 0..5 {
        sign_in(&mut db, t0(), "bo", "wrong password!!", "");
    }
    assert!(accounts::get(&db.conn, &owner(), "bo")
        .unwrap()
        .locked_until
        .is_some());
    store::write(&mut db.conn, |tx| accounts::reset(tx, &owner(), t0(), "bo")).unwrap();
    assert!(accounts::get(&db.conn, &owner(), "bo")
        .unwrap()
        .locked_until
        .is_none());
}

#[test]
fn demo_users_sign_in_with_a_password_alone_only_when_the_server_allows_it() {
    let mut db = setup();
    let secret = enrolled(&mut db, "anna", &[Role::Staff], &[]);
    let kdf = db.kdf.clone();
    store::write(&mut db.conn, |tx| {
        accounts::add_demo(tx, &kdf, "demo", vec![Role::Coordinator], vec![], "demo")
    })
    .unwrap();
    let now = t0() + Duration::minutes(1);
    assert!(accepted(&sign_in_full(
        &mut db, now, "demo", "demo", "", true
    )));
    assert!(!accepted(&sign_in_full(
        &mut db, now, "demo", "demo", "", false
    )));
    assert!(!accepted(&sign_in_full(
        &mut db, now, "demo", "wrong", "", true
    )));
    // A real user needs the code even when the server runs as a demo.
    assert!(!accepted(&sign_in_full(
        &mut db, now, "anna", PASSWORD, "", true
    )));
    assert!(accepted(&sign_in_full(
        &mut db,
        now,
        "anna",
        PASSWORD,
        &code_at(&secret, now),
        true
    )));
}

// ---- Sessions ----

#[test]
fn a_session_carries_roles_and_grants_expanded_two_levels_down() {
    let mut db = setup();
    enrolled(&mut db, "anna", &[Role::Staff], &["ESF"]);
    let id = accounts::get(&db.conn, &owner(), "anna").unwrap().id;
    let now = t0();
    let a = store::write(&mut db.conn, |tx| accounts::session_start(tx, now, id)).unwrap();
    let b = store::write(&mut db.conn, |tx| accounts::session_start(tx, now, id)).unwrap();
    assert_ne!(a.cookie, b.cookie, "a new id every time");
    assert_ne!(a.csrf, b.csrf);
    assert_eq!(a.cookie.len(), 43);
    // Only the id's hash is stored.
    let stored: Vec<u8> = db
        .conn
        .query_row("SELECT id_hash FROM session LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), 32);

    let s = accounts::session_get(&db.conn, now, &a.cookie)
        .unwrap()
        .unwrap();
    assert_eq!(s.user_id, id);
    assert_eq!(s.actor.login, "anna");
    assert_eq!(s.actor.roles, vec![Role::Staff]);
    for code in ["ESF", "ALLIN", "ALLIN-UNG"] {
        assert!(s.actor.may_in(Action::Register, code), "{code}");
    }
    assert!(!s.actor.may_in(Action::Register, "OTHER"));
    assert!(s.csrf_matches(&a.csrf));
    assert!(!s.csrf_matches(&b.csrf));
    assert!(!s.csrf_matches(""));
    assert!(!s.demo);
    assert_eq!(s.idle_until, now + Duration::minutes(30));
    assert!(accounts::session_get(&db.conn, now, "not-a-session")
        .unwrap()
        .is_none());

    // A revoked grant holds on the next request.
    store::write(&mut db.conn, |tx| {
        accounts::grant(tx, &owner(), "anna", "OTHER")
    })
    .unwrap();
    store::write(&mut db.conn, |tx| {
        accounts::revoke(tx, &owner(), "anna", "ESF")
    })
    .unwrap();
    let s = accounts::session_get(&db.conn, now, &a.cookie)
        .unwrap()
        .unwrap();
    assert_eq!(s.actor.grants, ["OTHER".to_string()].into());
    assert_eq!(
        accounts::expand_grants(&db.conn, &["ALLIN".into()]).unwrap(),
        ["ALLIN".to_string(), "ALLIN-UNG".into()].into()
    );
}

#[test]
fn sessions_end_after_30_idle_minutes_and_after_12_hours() {
    let mut db = setup();
    enrolled(&mut db, "anna", &[Role::Coordinator], &[]);
    let start = |db: &mut Memory, t| {
        store::write(&mut db.conn, |tx| accounts::session_start(tx, t, 1))
            .unwrap()
            .cookie
    };
    let get = |db: &Memory, t, c: &str| accounts::session_get(&db.conn, t, c).unwrap();
    let seen_at = |db: &Memory| -> String {
        db.conn
            .query_row("SELECT seen_at FROM session", [], |r| r.get(0))
            .unwrap()
    };

    // Idle: just under 30 minutes is fine, 30 minutes ends it for good.
    let c = start(&mut db, t0());
    assert!(get(&db, t0() + Duration::seconds(30 * 60 - 1), &c).is_some());
    let t = t0() + Duration::seconds(30 * 60 - 1);
    assert!(get(&db, t + Duration::minutes(30), &c).is_none());
    assert_eq!(count(&db.conn, "session"), 0, "an ended session is deleted");
    assert!(get(&db, t, &c).is_none());

    // Seen at most once a minute.
    let c = start(&mut db, t0());
    let first = seen_at(&db);
    get(&db, t0() + Duration::seconds(59), &c).unwrap();
    assert_eq!(seen_at(&db), first);
    let s = get(&db, t0() + Duration::seconds(60), &c).unwrap();
    assert_ne!(seen_at(&db), first);
    assert_eq!(
        s.idle_until,
        t0() + Duration::seconds(60) + Duration::minutes(30)
    );

    // Absolute: kept busy, it still ends 12 hours after it started.
    let mut t = t0();
    while t < t0() + Duration::hours(12) - Duration::minutes(20) {
        t += Duration::minutes(20);
        assert!(get(&db, t, &c).is_some(), "{t}");
    }
    assert!(get(&db, t0() + Duration::hours(12), &c).is_none());
}

#[test]
fn signing_out_ends_the_session_and_is_audited() {
    let mut db = setup();
    enrolled(&mut db, "anna", &[Role::Coordinator], &[]);
    let s = store::write(&mut db.conn, |tx| accounts::session_start(tx, t0(), 1)).unwrap();
    let actor = accounts::session_get(&db.conn, t0(), &s.cookie)
        .unwrap()
        .unwrap()
        .actor;
    let from = last_audit_id(&db.conn);
    store::write(&mut db.conn, |tx| {
        accounts::session_end(tx, &actor, &s.cookie)
    })
    .unwrap();
    assert!(accounts::session_get(&db.conn, t0(), &s.cookie)
        .unwrap()
        .is_none());
    assert_eq!(
        audit_since(&db.conn, from),
        vec![("anna".into(), "sign-out".into(), None, None)]
    );
}

// ---- The `user` commands ----

fn link_token(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("enrolment link"))
        .unwrap_or_else(|| panic!("no link in\n{out}"));
    let (label, link) = line.split_once(": ").unwrap();
    assert_eq!(label, "enrolment link (valid 72 hours, shown once)");
    let token = link
        .strip_prefix("/enrol/")
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(token.len(), 43, "{line}");
    token.to_string()
}

fn users_in(env: &Env) -> i64 {
    let conn = Connection::open(&env.db).unwrap();
    count(&conn, "app_user") + count(&conn, "user_grant") + count(&conn, "enrol_token")
}

#[test]
fn cli_user_add_prints_a_link_that_enrols() {
    let env = Env::new();
    env.ok(&["intervention", "add", "ESF", "--name", "ESF-projektet"]);
    env.ok(&[
        "intervention",
        "add",
        "ALLIN",
        "--name",
        "Alla in",
        "--parent",
        "ESF",
    ]);
    let out = env.ok(&[
        "user",
        "add",
        "Anna",
        "--role",
        "staff",
        "--intervention",
        "esf",
        "--name",
        "Anna Svensson",
    ]);
    assert!(
        out.starts_with("added user anna (Anna Svensson): roles staff; interventions ESF\n"),
        "{out}"
    );
    let token = link_token(&out);

    // The link leads to the enrolment page's data in the file itself.
    let actor = owner();
    let st = store::Store::open(&env.db, &actor).unwrap();
    let mut conn = st.connect().unwrap();
    let now = Utc::now();
    let p = accounts::pending(&conn, now, &token).unwrap();
    assert_eq!(p.login, "anna");
    assert_eq!(p.name.as_deref(), Some("Anna Svensson"));
    let hashed = accounts::hash_new_password(st.kdf(), PASSWORD, PASSWORD).unwrap();
    let code = code_at(&p.totp_secret_base32, now);
    store::write(&mut conn, |tx| {
        accounts::enrol(tx, now, &token, hashed, &code)
    })
    .unwrap();

    // With the public address, the whole link; an option beats the variable.
    let mut c = env.std_command(&["user", "add", "bo", "--role", "auditor"]);
    let out = c
        .env("SUSTRACK_PUBLIC_URL", "https://sus.example.se/")
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.lines().any(|l| l.starts_with(
            "enrolment link (valid 72 hours, shown once): https://sus.example.se/enrol/"
        )),
        "{out}"
    );
    let out = env.ok(&[
        "user",
        "add",
        "cilla",
        "--role",
        "coordinator",
        "--role",
        "admin",
        "--public-url",
        "http://localhost:8080",
    ]);
    assert!(out.contains(": http://localhost:8080/enrol/"), "{out}");

    let list = env.ok(&["user", "list"]);
    let row = |login: &str| {
        list.lines()
            .find(|l| l.starts_with(&format!("{login} ")))
            .unwrap_or_else(|| panic!("no {login} in\n{list}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert!(list.starts_with("login"), "{list}");
    assert_eq!(row("anna"), "anna Anna Svensson staff ESF enrolled -");
    assert_eq!(row("bo"), "bo - auditor - awaiting enrolment -");
    assert_eq!(
        row("cilla"),
        "cilla - admin, coordinator - awaiting enrolment -"
    );

    // Locked and disabled show as such.
    for _ in 0..5 {
        let check = accounts::check_password(&conn, "anna", "wrong password!!").unwrap();
        store::write(&mut conn, |tx| {
            accounts::sign_in(tx, Utc::now(), "anna", check, "", false)
        })
        .unwrap();
    }
    let list = env.ok(&["user", "list"]);
    assert!(
        list.lines().any(|l| l.starts_with("anna ")
            && l.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .ends_with("locked -")),
        "{list}"
    );
    assert_eq!(
        env.ok(&["user", "disable", "bo"]),
        "disabled user bo: their sessions have ended and they cannot sign in\n"
    );
    let list = env.ok(&["user", "list"]);
    assert!(
        list.lines().any(|l| l.starts_with("bo ")
            && l.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .ends_with("disabled -")),
        "{list}"
    );
}

#[test]
fn cli_user_errors_name_the_option_and_change_nothing() {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Alla in"]);
    env.ok(&["user", "add", "anna", "--role", "staff"]);
    let before = users_in(&env);
    let cases: &[(&[&str], &str)] = &[
        (
            &["user", "add", "bo", "--role", "admin", "--role", "staff"],
            "error: --role admin and staff never go together",
        ),
        (
            &["user", "add", "bo"],
            "error: --role is needed at least once",
        ),
        (
            &["user", "add", "bo", "--role", "boss"],
            "error: --role 'boss' is not a role: accepted are admin, coordinator, staff, auditor",
        ),
        (
            &["user", "add", "anna", "--role", "auditor"],
            "error: LOGIN 'anna' is taken",
        ),
        (
            &["user", "add", "Bo Ek", "--role", "auditor"],
            "error: LOGIN 'Bo Ek' is not a login",
        ),
        (
            &[
                "user",
                "add",
                "bo",
                "--role",
                "coordinator",
                "--intervention",
                "ALLIN",
            ],
            "error: --intervention is given only to users with the staff role",
        ),
        (
            &[
                "user",
                "add",
                "bo",
                "--role",
                "staff",
                "--intervention",
                "NOPE",
            ],
            "error: unknown intervention 'NOPE'",
        ),
        (
            &[
                "user",
                "add",
                "bo",
                "--role",
                "staff",
                "--public-url",
                "sus.example.se",
            ],
            "error: invalid --public-url",
        ),
        (
            &["user", "grant", "nobody", "--intervention", "ALLIN"],
            "error: no user 'nobody'",
        ),
        (
            &["user", "revoke", "anna", "--intervention", "ALLIN"],
            "error: 'anna' has no grant of intervention 'ALLIN'",
        ),
        (&["user", "disable", "nobody"], "error: no user 'nobody'"),
        (&["user", "reset", "nobody"], "error: no user 'nobody'"),
    ];
    for (args, want) in cases {
        let err = env.fails(args, 2);
        assert!(
            err.lines().any(|l| l.starts_with(want)),
            "sustrack {}: expected {want}\n{err}",
            args.join(" ")
        );
    }
    assert_eq!(users_in(&env), before);
}

#[test]
fn cli_reset_grant_revoke_and_the_audit_trail() {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Alla in"]);
    let first = link_token(&env.ok(&["user", "add", "anna", "--role", "staff"]));
    assert_eq!(
        env.ok(&["user", "grant", "anna", "--intervention", "allin"]),
        "granted ALLIN to anna (with its sub-interventions)\n"
    );
    let out = env.ok(&["user", "reset", "anna"]);
    assert!(out.starts_with("reset user anna: "), "{out}");
    let second = link_token(&out);
    assert_ne!(first, second);
    let conn = Connection::open(&env.db).unwrap();
    assert!(
        accounts::pending(&conn, Utc::now(), &first).is_err(),
        "the old link is void"
    );
    assert!(accounts::pending(&conn, Utc::now(), &second).is_ok());
    assert_eq!(
        env.ok(&["user", "revoke", "anna", "--intervention", "ALLIN"]),
        "revoked ALLIN from anna\n"
    );
    let rows = audit_since(&conn, 0);
    let mine: Vec<(&str, &str)> = rows
        .iter()
        .filter(|r| r.1.starts_with("user "))
        .map(|r| (r.0.as_str(), r.1.as_str()))
        .collect();
    assert_eq!(
        mine,
        [
            ("cli:tester", "user add"),
            ("cli:tester", "user grant"),
            ("cli:tester", "user reset"),
            ("cli:tester", "user revoke")
        ]
    );
    // Neither link is in the file or its audit trail.
    let dump = common::dump(&env.db);
    assert!(!dump.contains(&first) && !dump.contains(&second));
}

// ---- e-ID (OpenID Connect) rules, below the protocol ----

use sustrack::accounts::eid::{self, Asserted, BindRefusal, Binding, Refusal};

const ISSUER: &str = "https://broker.example.se";
const LOA3: &str = "http://id.elegnamnden.se/loa/1.0/loa3";

fn asserted(db: &Memory, sub: &str, acr: Option<&str>) -> Asserted {
    Asserted::new(
        &db.kdf,
        ISSUER,
        sub,
        Some(format!("Person {sub}")),
        acr.map(String::from),
    )
}

fn eid_sign_in(db: &mut Memory, a: &Asserted, accepted: &[String]) -> eid::SignIn {
    store::write(&mut db.conn, |tx| eid::sign_in(tx, a, accepted)).unwrap()
}

fn request(db: &mut Memory, token: &str, a: &Asserted) -> sustrack::error::Result<Binding> {
    store::write(&mut db.conn, |tx| {
        eid::request_binding(tx, t0(), token, a, &[])
    })
}

#[test]
fn an_e_id_binds_through_the_link_only_after_an_admin_confirms_it() {
    let mut db = setup();
    enrolled(&mut db, "adam", &[Role::Admin], &[]);
    let adam = store::write(&mut db.conn, |tx| {
        accounts::session_start(tx, t0(), 1).map(|_| ())
    });
    adam.unwrap();
    let admin = Actor::user("adam", vec![Role::Admin], Default::default());
    let token = add(
        &mut db,
        &owner(),
        new_user("nora", &[Role::Staff], &["ALLIN"]),
    )
    .unwrap();
    let anna = asserted(&db, "anna-sub", Some(LOA3));

    // Unknown before binding; nobody is created.
    let users = count(&db.conn, "app_user");
    assert!(matches!(
        eid_sign_in(&mut db, &anna, &[]),
        eid::SignIn::Refused(Refusal::Unknown)
    ));
    assert_eq!(count(&db.conn, "app_user"), users);

    assert_eq!(
        request(&mut db, &token, &anna).unwrap(),
        Binding::Requested {
            login: "nora".into()
        }
    );
    // The link is used up.
    assert!(matches!(
        request(&mut db, &token, &anna),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        eid_sign_in(&mut db, &anna, &[]),
        eid::SignIn::Refused(Refusal::Pending)
    ));
    let u = accounts::get(&db.conn, &owner(), "nora").unwrap();
    let e = u.eid.clone().unwrap();
    assert_eq!(
        (
            e.issuer.as_str(),
            e.name.as_deref(),
            e.acr.as_deref(),
            e.confirmed()
        ),
        (ISSUER, Some("Person anna-sub"), Some(LOA3), false)
    );
    assert!(!u.enrolled);

    // Staff and coordinators confirm nothing; the admin does, once.
    let coordinator = Actor::user("cecilia", vec![Role::Coordinator], Default::default());
    let refused = store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &coordinator, t0(), "nora", None)
    });
    assert!(matches!(refused, Err(Error::Forbidden(_))));
    store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &admin, t0(), "nora", None)
    })
    .unwrap();
    let twice = store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &admin, t0(), "nora", None)
    });
    assert!(matches!(twice, Err(Error::Conflict(_))));
    let u = accounts::get(&db.conn, &owner(), "nora").unwrap();
    assert!(u.enrolled && u.eid.as_ref().unwrap().confirmed());
    assert_eq!(u.eid.unwrap().confirmed_by.as_deref(), Some("adam"));

    let from = last_audit_id(&db.conn);
    let id = match eid_sign_in(&mut db, &anna, &[]) {
        eid::SignIn::Accepted { user_id } => user_id,
        other => panic!("{other:?}"),
    };
    assert_eq!(id, u.id);
    let rows = audit_since(&db.conn, from);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("nora", "sign-in")
    );
    let detail = rows[0].3.clone().unwrap();
    assert_eq!(detail, format!("e-ID; issuer {ISSUER}; acr {LOA3}"));

    // The same subject at another issuer is another e-ID.
    let elsewhere = Asserted::new(
        &db.kdf,
        "https://other.example.se",
        "anna-sub",
        anna.name.clone(),
        anna.acr.clone(),
    );
    assert!(matches!(
        eid_sign_in(&mut db, &elsewhere, &[]),
        eid::SignIn::Refused(Refusal::Unknown)
    ));

    // One account per e-ID.
    let t2 = add(
        &mut db,
        &owner(),
        new_user("nils", &[Role::Staff], &["ALLIN"]),
    )
    .unwrap();
    assert_eq!(
        request(&mut db, &t2, &anna).unwrap(),
        Binding::Refused(BindRefusal::Taken)
    );
    let refused = audit_since(&db.conn, last_audit_id(&db.conn) - 1);
    assert_eq!(
        (refused[0].0.as_str(), refused[0].1.as_str()),
        ("nils", "e-ID binding refused")
    );
    assert!(
        refused[0]
            .3
            .as_deref()
            .unwrap()
            .ends_with("bound to another account"),
        "{refused:?}"
    );
    assert!(
        accounts::pending(&db.conn, t0(), &t2).is_ok(),
        "the refused link still works"
    );

    // Disabled: refused with a valid assertion.
    store::write(&mut db.conn, |tx| accounts::disable(tx, &admin, "nora")).unwrap();
    assert!(matches!(
        eid_sign_in(&mut db, &anna, &[]),
        eid::SignIn::Refused(Refusal::Disabled)
    ));

    // A reset forgets the e-ID: the new link binds again, confirmed again.
    let t3 = store::write(&mut db.conn, |tx| accounts::reset(tx, &admin, t0(), "nora")).unwrap();
    assert!(accounts::get(&db.conn, &owner(), "nora")
        .unwrap()
        .eid
        .is_none());
    assert!(matches!(
        eid_sign_in(&mut db, &anna, &[]),
        eid::SignIn::Refused(Refusal::Unknown)
    ));
    request(&mut db, &t3.0, &anna).unwrap();
    store::write(&mut db.conn, |tx| eid::remove(tx, &admin, "nora")).unwrap();
    assert!(matches!(
        store::write(&mut db.conn, |tx| eid::remove(tx, &admin, "nora")),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn an_admin_confirms_no_own_e_id_and_a_bound_account_takes_no_password() {
    let mut db = setup();
    enrolled(&mut db, "berit", &[Role::Admin], &[]);
    let adam = Actor::user("adam", vec![Role::Admin], Default::default());
    let berit = Actor::user("berit", vec![Role::Admin], Default::default());
    let token = add(&mut db, &owner(), new_user("adam", &[Role::Admin], &[])).unwrap();
    let adam_eid = asserted(&db, "adam-sub", None);
    request(&mut db, &token, &adam_eid).unwrap();
    let own = store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &adam, t0(), "adam", None)
    });
    assert!(matches!(own, Err(Error::Forbidden(_))), "{own:?}");
    store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &berit, t0(), "adam", None)
    })
    .unwrap();

    // A password and authenticator beside a confirmed e-ID (as a file
    // from before the binding, or written by hand, could hold): the
    // password sign-in is refused with the right password and code, and
    // only because of the e-ID.
    let hashed = accounts::hash_new_password(&db.kdf, PASSWORD, PASSWORD).unwrap();
    let secret = [7u8; 20];
    let id: i64 = db
        .conn
        .query_row("SELECT id FROM app_user WHERE login = 'adam'", [], |r| {
            r.get(0)
        })
        .unwrap();
    store::accounts::set_credentials(&db.conn, id, &hashed.0, &secret, 0).unwrap();
    let base32 = data_encoding::BASE32_NOPAD.encode(&secret);
    let t1 = t0() + Duration::seconds(60);
    assert!(!accepted(&sign_in(
        &mut db,
        t1,
        "adam",
        PASSWORD,
        &code_at(&base32, t1)
    )));
    store::write(&mut db.conn, |tx| eid::remove(tx, &berit, "adam")).unwrap();
    let t2 = t1 + Duration::seconds(60);
    assert!(accepted(&sign_in(
        &mut db,
        t2,
        "adam",
        PASSWORD,
        &code_at(&base32, t2)
    )));
}

#[test]
fn a_stale_or_disabled_binding_is_not_confirmed() {
    let mut db = setup();
    let admin = Actor::owner("cli:tester");
    let token = add(
        &mut db,
        &owner(),
        new_user("nora", &[Role::Staff], &["ALLIN"]),
    )
    .unwrap();
    let first = asserted(&db, "first", None);
    request(&mut db, &token, &first).unwrap();
    let seen = accounts::get(&db.conn, &owner(), "nora")
        .unwrap()
        .eid
        .unwrap()
        .asserted_stamp();
    // A reset and another person's binding after the admin looked.
    let t1 = t0() + Duration::seconds(5);
    let token = store::write(&mut db.conn, |tx| accounts::reset(tx, &admin, t1, "nora")).unwrap();
    let other = asserted(&db, "second", None);
    store::write(&mut db.conn, |tx| {
        eid::request_binding(tx, t1, &token.0, &other, &[])
    })
    .unwrap();
    let stale = store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &admin, t1, "nora", Some(&seen))
    });
    assert!(matches!(stale, Err(Error::Conflict(_))), "{stale:?}");
    assert!(!accounts::get(&db.conn, &owner(), "nora").unwrap().enrolled);
    // A disabled account's binding is not confirmed either.
    store::write(&mut db.conn, |tx| accounts::disable(tx, &admin, "nora")).unwrap();
    let disabled = store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &admin, t1, "nora", None)
    });
    assert!(matches!(disabled, Err(Error::Conflict(_))), "{disabled:?}");
}

#[test]
fn a_required_authentication_context_holds_at_binding_and_sign_in() {
    let mut db = setup();
    let admin = Actor::owner("cli:tester");
    let token = add(
        &mut db,
        &owner(),
        new_user("nora", &[Role::Staff], &["ALLIN"]),
    )
    .unwrap();
    let accepted_acr = vec![LOA3.to_string()];
    for acr in [None, Some("http://id.elegnamnden.se/loa/1.0/loa2")] {
        let a = asserted(&db, "s", acr);
        let refused = store::write(&mut db.conn, |tx| {
            eid::request_binding(tx, t0(), &token, &a, &accepted_acr)
        });
        assert_eq!(
            refused.unwrap(),
            Binding::Refused(BindRefusal::Acr),
            "{acr:?}"
        );
    }
    assert_eq!(count(&db.conn, "user_identity"), 0);
    let good = asserted(&db, "s", Some(LOA3));
    store::write(&mut db.conn, |tx| {
        eid::request_binding(tx, t0(), &token, &good, &accepted_acr)
    })
    .unwrap();
    store::write(&mut db.conn, |tx| {
        eid::confirm(tx, &admin, t0(), "nora", None)
    })
    .unwrap();
    let without = asserted(&db, "s", None);
    assert!(matches!(
        eid_sign_in(&mut db, &without, &accepted_acr),
        eid::SignIn::Refused(Refusal::Acr)
    ));
    assert!(matches!(
        eid_sign_in(&mut db, &good, &accepted_acr),
        eid::SignIn::Accepted { .. }
    ));
}

#[test]
fn cli_lists_confirms_and_removes_an_e_id() {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Alla in"]);
    let out = env.ok(&[
        "user",
        "add",
        "nora",
        "--role",
        "staff",
        "--intervention",
        "ALLIN",
    ]);
    let token = link_token(&out);
    {
        let st = store::Store::open(&env.db, &owner()).unwrap();
        let mut conn = st.connect().unwrap();
        let a = Asserted::new(
            st.kdf(),
            ISSUER,
            "nora-sub",
            Some("Person nora-sub".into()),
            Some(LOA3.into()),
        );
        store::write(&mut conn, |tx| {
            eid::request_binding(tx, Utc::now(), &token, &a, &[])
        })
        .unwrap();
    }
    let list = env.ok(&["user", "list"]);
    assert!(
        list.contains(&format!(
            "awaiting confirmation: Person nora-sub ({ISSUER}, acr {LOA3})"
        )),
        "{list}"
    );
    let out = env.ok(&["user", "confirm-eid", "nora"]);
    assert!(out.contains("confirmed the e-ID of nora"), "{out}");
    let list = env.ok(&["user", "list"]);
    assert!(
        list.contains(&format!("Person nora-sub ({ISSUER}")),
        "{list}"
    );
    assert!(!list.contains("awaiting confirmation"), "{list}");
    assert!(list.contains("enrolled"), "{list}");
    env.ok(&["user", "remove-eid", "nora"]);
    let err = env.fails(&["user", "remove-eid", "nora"], 2);
    assert!(err.contains("'nora' has no e-ID"), "{err}");
}
