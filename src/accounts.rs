//! The server's accounts: users, roles and grants, the one-time enrolment
//! link, sign-in with password and TOTP, lockout and sessions (SPEC section
//! 11). Front ends (the `user` CLI commands, the web server) parse and call;
//! every rule is here and all SQL is in `store::accounts`.
//!
//! Time comes in as `now` so the server's clock can be injected in tests.
//! Every function that writes takes the open write transaction (as
//! `register.rs` does) and records what it did in the audit trail; the
//! slow parts (argon2id) run before the write transaction, and the caller
//! runs them off its request threads.
//!
//! Secrets. Passwords are argon2id PHC strings under the database's KDF
//! parameters with a salt of their own. Enrolment tokens and session ids
//! are 256 random bits (base64url) stored as their BLAKE2b-256 hash, so a
//! copy of the file lets nobody in; looking a hash up by equality leaks
//! nothing about the value. The TOTP secret (160 random bits) is stored as
//! it is: checking a code needs it.
//!
//! Sign-in says one thing whatever was wrong, and leaves the same audit
//! row (`sign-in refused`, actor = the login as typed, no detail) for an
//! unknown login as for a wrong password; an unknown login costs one
//! argon2id computation like a known one. Five failures in a row lock the
//! account for 15 minutes and reset the counter. Attempts while locked are
//! refused and audited but neither counted nor extend the lock: extending
//! it would let anyone who knows a login keep its owner out for ever with
//! one request every quarter of an hour, and counting them would only
//! re-lock at expiry what is locked already. A code is accepted once: its
//! step must be later than the last step accepted for the user.

pub mod eid;

use std::collections::BTreeSet;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use blake2::Digest;
use chrono::{DateTime, Duration, Utc};
use data_encoding::BASE64URL_NOPAD;
use rusqlite::Connection;

use crate::actor::{Action, Actor, Role};
use crate::error::{Error, Field, Result};
use crate::identity::{could_hold_pnr, random_bytes, scrub, Kdf};
use crate::register::known_intervention;
use crate::store::accounts::{self as db, UserRow};
use crate::store::audit;

/// How long an enrolment link stays valid.
pub const ENROL_VALID_HOURS: i64 = 72;
/// Idle and absolute session timeouts.
pub const SESSION_IDLE_MINUTES: i64 = 30;
pub const SESSION_ABSOLUTE_HOURS: i64 = 12;
/// Failed sign-ins in a row that lock the account, and for how long.
pub const LOCK_AFTER_FAILURES: u32 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// The shortest password accepted.
pub const PASSWORD_MIN_CHARS: usize = 12;

/// A user as the admin sees it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub roles: Vec<Role>,
    /// Granted intervention codes as granted (not expanded).
    pub grants: Vec<String>,
    pub disabled: bool,
    /// Can sign in: has set a password and registered an authenticator,
    /// or has a confirmed e-ID.
    pub enrolled: bool,
    pub locked_until: Option<DateTime<Utc>>,
    /// The e-ID bound to the account, or waiting for an admin's confirmation.
    pub eid: Option<eid::Eid>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: String,
    pub name: Option<String>,
    pub roles: Vec<Role>,
    pub grants: Vec<String>,
}

/// The secret part of an enrolment link, shown once (`/enrol/TOKEN`).
#[derive(Debug, Clone)]
pub struct EnrolToken(pub String);

/// What the enrolment page shows before the user has chosen a password.
#[derive(Debug, Clone)]
pub struct PendingEnrolment {
    pub login: String,
    pub name: Option<String>,
    pub roles: Vec<Role>,
    /// Base32 TOTP secret, for the `otpauth://` link and the QR code.
    pub totp_secret_base32: String,
    /// `otpauth://totp/sustrack:LOGIN?secret=...&issuer=sustrack`
    pub otpauth_url: String,
}

/// A password checked and hashed, ready to be stored (the slow part of
/// enrolment, done before the write transaction).
pub struct HashedPassword(pub String);

/// The outcome of a sign-in attempt. `Refused` is the same whatever was
/// wrong (unknown login, wrong password, wrong or replayed code, locked,
/// disabled, not enrolled): the page says one thing.
#[derive(Debug)]
pub enum SignIn {
    Accepted { user_id: i64 },
    Refused,
}

/// A new session: the cookie value (256 random bits, base64url) and the
/// CSRF token bound to it. Only the cookie value's hash is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie: String,
    pub csrf: String,
}

/// A live session, read on every request.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub actor: Actor,
    pub name: Option<String>,
    pub csrf: String,
    /// When it ends if idle (for the page's warning).
    pub idle_until: DateTime<Utc>,
    /// Demo user (serve --demo).
    pub demo: bool,
}

impl Session {
    /// Whether a form's `csrf` field is this session's token (compared in
    /// constant time).
    pub fn csrf_matches(&self, given: &str) -> bool {
        same_secret(self.csrf.as_bytes(), given.as_bytes())
    }
}

// ---- Administration (admin on the web, the owner on the CLI) ----

/// Add a user; returns the user and the enrolment link's token (valid
/// 72 h). Refuses: a login that exists, an empty role list, admin together
/// with staff, a grant to an unknown intervention, grants without the staff
/// role. Audited as `user add`.
pub fn add(
    conn: &Connection,
    actor: &Actor,
    now: DateTime<Utc>,
    u: NewUser,
) -> Result<(User, EnrolToken)> {
    may_manage(actor)?;
    let id = insert_user(conn, &u, None, false, now)?;
    let token = new_enrol_token(conn, id, now)?;
    let user = user_of(conn, &row_by_id(conn, id)?)?;
    audit::record(
        conn,
        actor,
        "user add",
        Some(&user.login),
        Some(&roles_and_grants(&user)),
    )?;
    Ok((user, token))
}

pub fn list(conn: &Connection, actor: &Actor) -> Result<Vec<User>> {
    may_manage(actor)?;
    db::all_users(conn)?
        .iter()
        .map(|r| user_of(conn, r))
        .collect()
}

pub fn get(conn: &Connection, actor: &Actor, login: &str) -> Result<User> {
    may_manage(actor)?;
    user_of(conn, &existing(conn, login)?)
}

/// Disable: ends the user's sessions at once. Audited.
pub fn disable(conn: &Connection, actor: &Actor, login: &str) -> Result<()> {
    may_manage(actor)?;
    let u = existing(conn, login)?;
    if !actor.is_owner() && actor.login == u.login {
        return Err(Error::Forbidden(
            "you cannot disable your own account; another administrator can".into(),
        ));
    }
    db::set_disabled(conn, u.id, true)?;
    let ended = db::delete_sessions_of(conn, u.id)?;
    // A link sent before must not re-open the account behind the admin's back.
    db::delete_enrol_tokens(conn, u.id)?;
    audit::record(
        conn,
        actor,
        "user disable",
        Some(&u.login),
        Some(&format!("{ended} session(s) ended")),
    )
}

/// Reset: forget password, authenticator and e-ID, end sessions, clear a
/// lock, re-enable, and issue a new enrolment link. Audited.
pub fn reset(
    conn: &Connection,
    actor: &Actor,
    now: DateTime<Utc>,
    login: &str,
) -> Result<EnrolToken> {
    may_manage(actor)?;
    let u = existing(conn, login)?;
    db::clear_credentials(conn, u.id)?;
    // The new link binds a new e-ID (confirmed again by an admin).
    db::delete_identity(conn, u.id)?;
    let ended = db::delete_sessions_of(conn, u.id)?;
    db::delete_enrol_tokens(conn, u.id)?;
    let token = new_enrol_token(conn, u.id, now)?;
    audit::record(
        conn,
        actor,
        "user reset",
        Some(&u.login),
        Some(&format!("{ended} session(s) ended; new enrolment link")),
    )?;
    Ok(token)
}

pub fn grant(conn: &Connection, actor: &Actor, login: &str, intervention: &str) -> Result<()> {
    may_manage(actor)?;
    let u = existing(conn, login)?;
    if !actor.is_owner() && actor.login == u.login {
        return Err(Error::Forbidden(
            "you cannot grant interventions to yourself; another administrator can".into(),
        ));
    }
    if !has_role(conn, u.id, Role::Staff)? {
        return Err(Error::invalid(
            Field::Intervention,
            format!(
                "is given only to users with the staff role, and '{}' is not staff",
                u.login
            ),
        ));
    }
    let code = known_intervention(conn, intervention)?.code;
    if !db::insert_grant(conn, u.id, &code)? {
        return Err(Error::Conflict(format!(
            "'{}' has intervention {code} already",
            u.login
        )));
    }
    audit::record(conn, actor, "user grant", Some(&u.login), Some(&code))
}

pub fn revoke(conn: &Connection, actor: &Actor, login: &str, intervention: &str) -> Result<()> {
    may_manage(actor)?;
    let u = existing(conn, login)?;
    let code = intervention.trim().to_ascii_uppercase();
    if !db::delete_grant(conn, u.id, &code)? {
        let held = db::grants(conn, u.id)?;
        return Err(Error::NotFound(format!(
            "'{}' has no grant of intervention '{}' ({})",
            u.login,
            crate::model::shown_text(&code),
            if held.is_empty() {
                "they have none".to_string()
            } else {
                format!("they have {}", held.join(", "))
            }
        )));
    }
    // Sessions read grants on every request: the change holds at once.
    audit::record(conn, actor, "user revoke", Some(&u.login), Some(&code))
}

// ---- Enrolment (the one-time link) ----

/// The enrolment behind a token, or `NotFound` when it is unknown, used or
/// expired (one message for all three).
pub fn pending(conn: &Connection, now: DateTime<Utc>, token: &str) -> Result<PendingEnrolment> {
    let (user, secret) = enrolment_of(conn, now, token)?;
    let totp = totp(&secret, &user.login)?;
    Ok(PendingEnrolment {
        login: user.login.clone(),
        name: user.name.clone(),
        roles: roles_of(conn, user.id)?,
        totp_secret_base32: totp.secret().to_base32(),
        otpauth_url: totp
            .to_url()
            .map_err(|e| Error::Database(format!("cannot make the otpauth link: {e}")))?,
    })
}

/// Check a chosen password (at least 12 characters, both entries equal;
/// errors name `Field::Password` / `Field::PasswordAgain`) and hash it with
/// argon2id under `kdf`'s parameters. Slow: call off the request threads.
pub fn hash_new_password(
    kdf: &Kdf,
    password: &str,
    password_again: &str,
) -> Result<HashedPassword> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Err(Error::invalid(
            Field::Password,
            format!(
                "must have at least {PASSWORD_MIN_CHARS} characters (it has {n}); a few words make a long password that is easy to remember"
            ),
        ));
    }
    if !same_secret(password.as_bytes(), password_again.as_bytes()) {
        return Err(Error::invalid(
            Field::PasswordAgain,
            "is not the same as the password; type the same password in both fields",
        ));
    }
    hash_password(kdf, password)
}

/// Whether an enrolment may choose a password and authenticator: always
/// without an e-ID broker; with one (`broker`), only an admin account (the
/// break-glass account for when the broker is down). Everyone else binds
/// an e-ID.
pub fn password_allowed(roles: &[Role], broker: bool) -> bool {
    !broker || roles.contains(&Role::Admin)
}

/// Finish an enrolment: the code must be current for the pending secret
/// (`Field::Totp` otherwise); stores password and secret, records the
/// code's step as used, consumes the token. Audited as `enrol`.
pub fn enrol(
    conn: &Connection,
    now: DateTime<Utc>,
    token: &str,
    password: HashedPassword,
    code: &str,
) -> Result<()> {
    let (user, secret) = enrolment_of(conn, now, token)?;
    let step = code_step(&secret, code, now, user.totp_last_step).ok_or_else(|| {
        Error::invalid(
            Field::Totp,
            "is not the authenticator app's current code: add the account to the app (scan the QR code or type the key), then type the 6 digits it shows now",
        )
    })?;
    db::set_credentials(conn, user.id, &password.0, &secret, step)?;
    db::delete_enrol_tokens(conn, user.id)?;
    audit::record(
        conn,
        &as_actor(&user.login),
        "enrol",
        Some(&user.login),
        None,
    )
}

// ---- Sign-in ----

/// The slow half of a sign-in: read the user and verify the password
/// (argon2id) without holding a write lock. Call off the request threads.
/// `password_alone` lets demo users (and only them) in without a code; the
/// server passes `true` only under `serve --demo`.
pub fn check_password(conn: &Connection, login: &str, password: &str) -> Result<PasswordCheck> {
    let user = db::user_by_login(conn, &normal_login(login))?;
    let stored = user
        .as_ref()
        .and_then(|u| u.password_hash.as_deref())
        .and_then(|h| PasswordHash::new(h).ok());
    let password_ok =
        match &stored {
            Some(hash) => Argon2::default()
                .verify_password(password.as_bytes(), hash)
                .is_ok(),
            None => {
                // No such user, or none enrolled yet: spend what a verification
                // costs, so the answer's timing does not tell whether it exists.
                let (m, t, p) = db::kdf_params(conn)?;
                let params = Params::new(m, t, p, Some(32))
                    .map_err(|e| Error::Database(format!("damaged KDF parameters: {e}")))?;
                let mut out = [0u8; 32];
                let _ = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                    .hash_password_into(password.as_bytes(), b"sustrack: no such user", &mut out);
                false
            }
        };
    Ok(PasswordCheck {
        user_id: user.map(|u| u.id),
        password_ok,
    })
}

/// The result of [`check_password`], consumed by [`sign_in`].
pub struct PasswordCheck {
    pub user_id: Option<i64>,
    pub password_ok: bool,
}

/// The fast half, in the write transaction: lockout, disabled, the TOTP
/// code (current step ±1, and only a step later than the last accepted
/// one), failure counting (5 in a row lock for 15 minutes) and the audit
/// rows (`sign-in`, `sign-in refused`, `lock`) under the login tried
/// (an unknown login is recorded as such, never echoed beyond 64 chars).
pub fn sign_in(
    conn: &Connection,
    now: DateTime<Utc>,
    login: &str,
    check: PasswordCheck,
    code: &str,
    password_alone: bool,
) -> Result<SignIn> {
    let tried = as_actor(&shown_login(login));
    let refused = || -> Result<SignIn> {
        audit::record(conn, &tried, "sign-in refused", None, None)?;
        Ok(SignIn::Refused)
    };
    let Some(u) = db::user_by_login(conn, &normal_login(login))? else {
        return refused();
    };
    // An account bound to an e-ID signs in with it alone.
    if u.disabled || u.locked_until.is_some_and(|t| t > now) || eid::bound(conn, u.id)? {
        return refused();
    }
    let password_ok = check.password_ok && check.user_id == Some(u.id);
    let accepted_step = if !password_ok {
        None
    } else if u.demo && password_alone && u.password_hash.is_some() {
        Some(None)
    } else {
        u.totp_secret
            .as_deref()
            .filter(|_| u.password_hash.is_some())
            .and_then(|s| code_step(s, code, now, u.totp_last_step))
            .map(Some)
    };
    match accepted_step {
        Some(step) => {
            db::signed_in(conn, u.id, step)?;
            audit::record(conn, &as_actor(&u.login), "sign-in", None, None)?;
            Ok(SignIn::Accepted { user_id: u.id })
        }
        None => {
            // A lock that has run out counts from zero (reset when it was set).
            let failed = u.failed_logins + 1;
            let out = refused()?;
            if failed >= LOCK_AFTER_FAILURES {
                let until = now + Duration::minutes(LOCK_MINUTES);
                db::set_failures(conn, u.id, 0, Some(until))?;
                audit::record(
                    conn,
                    &tried,
                    "lock",
                    Some(&u.login),
                    Some(&format!(
                        "{failed} failed sign-ins in a row; locked until {}",
                        db::stamp(until)
                    )),
                )?;
            } else {
                db::set_failures(conn, u.id, failed, None)?;
            }
            Ok(out)
        }
    }
}

// ---- Sessions ----

/// Start a session for a user who just signed in (a new id every time).
pub fn session_start(conn: &Connection, now: DateTime<Utc>, user_id: i64) -> Result<NewSession> {
    // Ended sessions nobody came back for go here, so the table stays small.
    db::delete_ended_sessions(
        conn,
        now - Duration::minutes(SESSION_IDLE_MINUTES),
        now - Duration::hours(SESSION_ABSOLUTE_HOURS),
    )?;
    let cookie = new_secret();
    let csrf = new_secret();
    db::insert_session(conn, &digest(&cookie), user_id, &csrf, now)?;
    Ok(NewSession { cookie, csrf })
}

/// The session behind a cookie value, or `None` when unknown, idle for
/// 30 minutes, older than 12 hours, or its user is disabled (an ended
/// session is deleted). Refreshes `seen_at` (at most once a minute, so a
/// page view rarely writes). The actor carries the user's roles and grants
/// expanded over the intervention tree.
pub fn session_get(conn: &Connection, now: DateTime<Utc>, cookie: &str) -> Result<Option<Session>> {
    let hash = digest(cookie);
    let Some(s) = db::session(conn, &hash)? else {
        return Ok(None);
    };
    let user = db::user_by_id(conn, s.user_id)?;
    let ended = now - s.seen_at >= Duration::minutes(SESSION_IDLE_MINUTES)
        || now - s.created_at >= Duration::hours(SESSION_ABSOLUTE_HOURS);
    let user = match user {
        Some(u) if !u.disabled && !ended => u,
        _ => {
            db::delete_session(conn, &hash)?;
            return Ok(None);
        }
    };
    let seen = if now - s.seen_at >= Duration::minutes(1) {
        db::touch_session(conn, &hash, now)?;
        now
    } else {
        s.seen_at
    };
    let roles = roles_of(conn, user.id)?;
    let grants = expand_grants(conn, &db::grants(conn, user.id)?)?;
    Ok(Some(Session {
        user_id: user.id,
        actor: Actor::user(user.login.clone(), roles, grants),
        name: user.name,
        csrf: s.csrf,
        idle_until: seen + Duration::minutes(SESSION_IDLE_MINUTES),
        demo: user.demo,
    }))
}

/// Sign out: delete the session. Audited as `sign-out`.
pub fn session_end(conn: &Connection, actor: &Actor, cookie: &str) -> Result<()> {
    if db::delete_session(conn, &digest(cookie))? {
        audit::record(conn, actor, "sign-out", None, None)?;
    }
    Ok(())
}

// ---- Demo ----

/// Add a demo user who signs in with a password alone (`serve --demo` only,
/// in its temporary database); returns nothing secret beyond what the
/// caller chose.
pub fn add_demo(
    conn: &Connection,
    kdf: &Kdf,
    login: &str,
    roles: Vec<Role>,
    grants: Vec<String>,
    password: &str,
) -> Result<()> {
    let hashed = hash_password(kdf, password)?;
    let u = NewUser {
        login: login.to_string(),
        name: None,
        roles,
        grants,
    };
    let id = insert_user(conn, &u, Some(&hashed.0), true, Utc::now())?;
    let user = user_of(conn, &row_by_id(conn, id)?)?;
    audit::record(
        conn,
        &Actor::owner("serve --demo"),
        "user add",
        Some(&user.login),
        Some(&format!("demo; {}", roles_and_grants(&user))),
    )
}

/// Grants expanded over the intervention tree (a parent covers its children).
pub fn expand_grants(conn: &Connection, grants: &[String]) -> Result<BTreeSet<String>> {
    db::with_descendants(conn, grants)
}

// ---- Rules and helpers ----

fn may_manage(actor: &Actor) -> Result<()> {
    if actor.may(Action::ManageUsers) {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "managing users, roles and grants needs the admin role".into(),
        ))
    }
}

/// Validate and insert a user with roles and grants (no audit).
fn insert_user(
    conn: &Connection,
    u: &NewUser,
    password_hash: Option<&str>,
    demo: bool,
    now: DateTime<Utc>,
) -> Result<i64> {
    let login = parse_login(&u.login)?;
    let name = parse_name(u.name.as_deref())?;
    let roles = parse_roles(&u.roles)?;
    if !u.grants.is_empty() && !roles.contains(&Role::Staff) {
        return Err(Error::invalid(
            Field::Intervention,
            "is given only to users with the staff role (interventions are what a staff member registers in)",
        ));
    }
    let mut grants = BTreeSet::new();
    for g in &u.grants {
        grants.insert(known_intervention(conn, g)?.code);
    }
    if db::user_by_login(conn, &login)?.is_some() {
        return Err(Error::invalid(
            Field::Login,
            format!("'{login}' is taken by another user; choose another login"),
        ));
    }
    let id = db::insert_user(
        conn,
        &db::NewUserRow {
            login: &login,
            name: name.as_deref(),
            password_hash,
            demo,
            created_at: now,
        },
    )?;
    for r in &roles {
        db::insert_role(conn, id, r.code())?;
    }
    for g in &grants {
        db::insert_grant(conn, id, g)?;
    }
    Ok(id)
}

/// A login: 1-64 characters of a-z, 0-9, `.`, `_`, `@`, `-`, lower-cased.
pub fn parse_login(s: &str) -> Result<String> {
    let login = s.trim().to_lowercase();
    let valid = (1..=64).contains(&login.chars().count())
        && login
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._@-".contains(c));
    if !valid {
        return Err(Error::invalid(
            Field::Login,
            format!(
                "'{}' is not a login: expected 1-64 characters a-z, 0-9, '.', '_', '@' or '-', e.g. anna.svensson",
                crate::model::shown_text(s)
            ),
        ));
    }
    if could_hold_pnr(&login) {
        return Err(Error::invalid(
            Field::Login,
            "holds a personnummer or something like one: a login is shown in the audit trail and on every page; use a name such as anna.svensson",
        ));
    }
    Ok(login)
}

fn parse_name(s: Option<&str>) -> Result<Option<String>> {
    let Some(name) = s.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > 120 {
        return Err(Error::invalid(
            Field::Name,
            "must have at most 120 characters",
        ));
    }
    if could_hold_pnr(name) || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            Field::Name,
            "must be a name to show, without a personnummer or control characters",
        ));
    }
    Ok(Some(name.to_string()))
}

/// At least one user role, never admin with staff (SUS's rule, SPEC 11).
fn parse_roles(roles: &[Role]) -> Result<Vec<Role>> {
    let roles: BTreeSet<Role> = roles.iter().copied().collect();
    if roles.is_empty() {
        return Err(Error::invalid(
            Field::Role,
            "is needed at least once: admin, coordinator, staff or auditor",
        ));
    }
    if let Some(r) = roles.iter().find(|r| !Role::USER_ROLES.contains(r)) {
        return Err(Error::invalid(
            Field::Role,
            format!("'{r}' is not a user role: accepted are admin, coordinator, staff, auditor"),
        ));
    }
    if roles.contains(&Role::Admin) && roles.contains(&Role::Staff) {
        return Err(Error::invalid(
            Field::Role,
            "admin and staff never go together: whoever manages the accounts sees no participants; give them two accounts",
        ));
    }
    Ok(roles.into_iter().collect())
}

fn existing(conn: &Connection, login: &str) -> Result<UserRow> {
    db::user_by_login(conn, &normal_login(login))?.ok_or_else(|| {
        Error::NotFound(format!(
            "no user '{}'; list them with `user list`",
            crate::model::shown_text(login.trim())
        ))
    })
}

fn row_by_id(conn: &Connection, id: i64) -> Result<UserRow> {
    db::user_by_id(conn, id)?.ok_or_else(|| Error::NotFound(format!("no user with id {id}")))
}

fn roles_of(conn: &Connection, user_id: i64) -> Result<Vec<Role>> {
    Ok(db::roles(conn, user_id)?
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect())
}

fn has_role(conn: &Connection, user_id: i64, role: Role) -> Result<bool> {
    Ok(roles_of(conn, user_id)?.contains(&role))
}

fn user_of(conn: &Connection, r: &UserRow) -> Result<User> {
    let eid = eid::of_user(conn, r.id)?;
    Ok(User {
        id: r.id,
        login: r.login.clone(),
        name: r.name.clone(),
        roles: roles_of(conn, r.id)?,
        grants: db::grants(conn, r.id)?,
        disabled: r.disabled,
        enrolled: (r.password_hash.is_some() && (r.totp_secret.is_some() || r.demo))
            || eid.as_ref().is_some_and(eid::Eid::confirmed),
        locked_until: r.locked_until,
        eid,
    })
}

/// "roles staff; interventions A, B" for the audit trail.
fn roles_and_grants(u: &User) -> String {
    let roles: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
    let mut s = format!("roles {}", roles.join(", "));
    if !u.grants.is_empty() {
        s.push_str(&format!("; interventions {}", u.grants.join(", ")));
    }
    s
}

/// A new enrolment link for a user, with the TOTP secret its page offers.
fn new_enrol_token(conn: &Connection, user_id: i64, now: DateTime<Utc>) -> Result<EnrolToken> {
    let token = new_secret();
    let secret = random_bytes(20);
    db::insert_enrol_token(
        conn,
        &digest(&token),
        user_id,
        &secret,
        now + Duration::hours(ENROL_VALID_HOURS),
    )?;
    Ok(EnrolToken(token))
}

/// The user and offered secret behind a valid link.
fn enrolment_of(conn: &Connection, now: DateTime<Utc>, token: &str) -> Result<(UserRow, Vec<u8>)> {
    let gone = || {
        Error::NotFound(
            "this enrolment link is unknown, used or expired; ask your administrator for a new one"
                .into(),
        )
    };
    let (user_id, secret) =
        db::valid_enrol_token(conn, &digest(token.trim()), now)?.ok_or_else(gone)?;
    let user = db::user_by_id(conn, user_id)?.ok_or_else(gone)?;
    if user.disabled {
        return Err(gone());
    }
    Ok((user, secret))
}

fn hash_password(kdf: &Kdf, password: &str) -> Result<HashedPassword> {
    let params = Params::new(kdf.m_kib, kdf.t, kdf.p, None)
        .map_err(|e| Error::Database(format!("damaged KDF parameters: {e}")))?;
    let salt = SaltString::encode_b64(&random_bytes(16))
        .map_err(|e| Error::Database(format!("cannot encode a salt: {e}")))?;
    let phc = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| Error::Database(format!("cannot hash the password: {e}")))?;
    Ok(HashedPassword(phc.to_string()))
}

/// TOTP as the authenticator app is told: SHA-1, 6 digits, 30 s steps.
fn totp(secret: &[u8], login: &str) -> Result<totp_rs::Totp> {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(TOTP_STEP_SECONDS)
        .with_skew(0)
        .with_secret(secret.to_vec())
        .with_account_name(login)
        .with_issuer(Some("sustrack"))
        .build()
        .map_err(|e| Error::Database(format!("damaged authenticator secret: {e}")))
}

const TOTP_STEP_SECONDS: u64 = 30;

/// The step of `code` when it is the code of the current step or one
/// either side and later than `last_step` (a code is used once).
fn code_step(secret: &[u8], code: &str, now: DateTime<Utc>, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = totp(secret, "x").ok()?;
    let current = now.timestamp().div_euclid(TOTP_STEP_SECONDS as i64);
    // All three are computed whatever matches (Token compares in constant
    // time), so the time taken does not say which step a code was for.
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let usable = step > last_step && step >= 0;
        let matches = totp.check(&code, step as u64 * TOTP_STEP_SECONDS).is_some();
        if usable && matches && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// 256 random bits, base64url without padding.
fn new_secret() -> String {
    BASE64URL_NOPAD.encode(&random_bytes(32))
}

type Blake2b256 = blake2::Blake2b<blake2::digest::consts::U32>;

/// How a token or session id is stored and looked up.
fn digest(secret: &str) -> [u8; 32] {
    Blake2b256::digest(secret.as_bytes()).into()
}

/// Equal secrets, compared in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A login as looked up: logins are stored lower-case.
fn normal_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// A login as typed, fit for the audit trail: at most 64 characters, no
/// control characters, and a personnummer typed there masked.
fn shown_login(login: &str) -> String {
    // Masked before it is cut, so a number cut in two is still masked.
    let head: String = normal_login(login)
        .chars()
        .take(128)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    scrub(&head).chars().take(64).collect()
}

/// 256 random bits, base64url: for a front end's own one-time values
/// (the e-ID attempt's browser cookie).
pub fn new_random_secret() -> String {
    new_secret()
}

/// The BLAKE2b-256 of a secret, as secrets are kept.
pub fn digest_of(secret: &str) -> [u8; 32] {
    digest(secret)
}

/// Whether `secret` hashes to `kept`, in constant time.
pub fn same_digest(kept: &[u8; 32], secret: &str) -> bool {
    same_secret(kept, &digest(secret))
}

/// An actor that is only a name in the audit trail: someone not (yet)
/// signed in.
pub fn visitor_actor(name: &str) -> Actor {
    as_actor(&shown_login(name))
}

/// An actor that is only a name in the audit trail (the person signing in).
fn as_actor(login: &str) -> Actor {
    Actor::user(login, Vec::new(), BTreeSet::new())
}
