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

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::actor::{Actor, Role};
use crate::error::Result;
use crate::identity::Kdf;

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
    /// Has set a password and registered an authenticator.
    pub enrolled: bool,
    pub locked_until: Option<DateTime<Utc>>,
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

// ---- Administration (admin on the web, the owner on the CLI) ----

/// Add a user; returns the user and the enrolment link's token (valid
/// 72 h). Refuses: a login that exists, an empty role list, admin together
/// with staff, a grant to an unknown intervention, grants without the staff
/// role. Audited as `user add`.
pub fn add(
    _conn: &Connection,
    _actor: &Actor,
    _now: DateTime<Utc>,
    _u: NewUser,
) -> Result<(User, EnrolToken)> {
    todo!()
}

pub fn list(_conn: &Connection, _actor: &Actor) -> Result<Vec<User>> {
    todo!()
}

pub fn get(_conn: &Connection, _actor: &Actor, _login: &str) -> Result<User> {
    todo!()
}

/// Disable: ends the user's sessions at once. Audited.
pub fn disable(_conn: &Connection, _actor: &Actor, _login: &str) -> Result<()> {
    todo!()
}

/// Reset: forget password and authenticator, end sessions, clear a lock,
/// re-enable, and issue a new enrolment link. Audited.
pub fn reset(
    _conn: &Connection,
    _actor: &Actor,
    _now: DateTime<Utc>,
    _login: &str,
) -> Result<EnrolToken> {
    todo!()
}

pub fn grant(_conn: &Connection, _actor: &Actor, _login: &str, _intervention: &str) -> Result<()> {
    todo!()
}

pub fn revoke(_conn: &Connection, _actor: &Actor, _login: &str, _intervention: &str) -> Result<()> {
    todo!()
}

// ---- Enrolment (the one-time link) ----

/// The enrolment behind a token, or `NotFound` when it is unknown, used or
/// expired (one message for all three).
pub fn pending(_conn: &Connection, _now: DateTime<Utc>, _token: &str) -> Result<PendingEnrolment> {
    todo!()
}

/// Check a chosen password (at least 12 characters, both entries equal;
/// errors name `Field::Password` / `Field::PasswordAgain`) and hash it with
/// argon2id under `kdf`'s parameters. Slow: call off the request threads.
pub fn hash_new_password(
    _kdf: &Kdf,
    _password: &str,
    _password_again: &str,
) -> Result<HashedPassword> {
    todo!()
}

/// Finish an enrolment: the code must be current for the pending secret
/// (`Field::Totp` otherwise); stores password and secret, records the
/// code's step as used, consumes the token. Audited as `enrol`.
pub fn enrol(
    _conn: &Connection,
    _now: DateTime<Utc>,
    _token: &str,
    _password: HashedPassword,
    _code: &str,
) -> Result<()> {
    todo!()
}

// ---- Sign-in ----

/// The slow half of a sign-in: read the user and verify the password
/// (argon2id) without holding a write lock. Call off the request threads.
/// `password_alone` lets demo users (and only them) in without a code; the
/// server passes `true` only under `serve --demo`.
pub fn check_password(_conn: &Connection, _login: &str, _password: &str) -> Result<PasswordCheck> {
    todo!()
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
    _conn: &Connection,
    _now: DateTime<Utc>,
    _login: &str,
    _check: PasswordCheck,
    _code: &str,
    _password_alone: bool,
) -> Result<SignIn> {
    todo!()
}

// ---- Sessions ----

/// Start a session for a user who just signed in (a new id every time).
pub fn session_start(_conn: &Connection, _now: DateTime<Utc>, _user_id: i64) -> Result<NewSession> {
    todo!()
}

/// The session behind a cookie value, or `None` when unknown, idle for
/// 30 minutes, older than 12 hours, or its user is disabled (an ended
/// session is deleted). Refreshes `seen_at` (at most once a minute, so a
/// page view rarely writes). The actor carries the user's roles and grants
/// expanded over the intervention tree.
pub fn session_get(
    _conn: &Connection,
    _now: DateTime<Utc>,
    _cookie: &str,
) -> Result<Option<Session>> {
    todo!()
}

/// Sign out: delete the session. Audited as `sign-out`.
pub fn session_end(_conn: &Connection, _actor: &Actor, _cookie: &str) -> Result<()> {
    todo!()
}

// ---- Demo ----

/// Add a demo user who signs in with a password alone (`serve --demo` only,
/// in its temporary database); returns nothing secret beyond what the
/// caller chose.
pub fn add_demo(
    _conn: &Connection,
    _kdf: &Kdf,
    _login: &str,
    _roles: Vec<Role>,
    _grants: Vec<String>,
    _password: &str,
) -> Result<()> {
    todo!()
}

/// Grants expanded over the intervention tree (a parent covers its children).
pub fn expand_grants(_conn: &Connection, _grants: &[String]) -> Result<BTreeSet<String>> {
    todo!()
}
