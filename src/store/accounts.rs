//! Users, roles, grants, enrolment links and sessions (migration 4): the
//! SQL behind `accounts.rs`, which owns every rule.
//!
//! Times are stored as UTC RFC 3339 text at second precision
//! (`2025-01-31T08:00:00Z`): fixed width, so SQL compares them as text.
//! Secrets that would let someone in (enrolment tokens, session ids) are
//! only ever seen here as their hashes.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rusqlite::{named_params, Connection, OptionalExtension, Row};

use crate::error::{Error, Result};

/// A stored instant, as every column of these tables holds it.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn instant(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
        })
}

fn opt_instant(s: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    s.as_deref().map(instant).transpose()
}

/// A user's row, secrets included: for `accounts.rs` only.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub totp_secret: Option<Vec<u8>>,
    pub totp_last_step: i64,
    pub disabled: bool,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub demo: bool,
}

const USER_COLUMNS: &str = "id, login, name, password_hash, totp_secret, totp_last_step, \
                            disabled, failed_logins, locked_until, demo";

fn user_from_row(r: &Row) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        id: r.get(0)?,
        login: r.get(1)?,
        name: r.get(2)?,
        password_hash: r.get(3)?,
        totp_secret: r.get(4)?,
        totp_last_step: r.get(5)?,
        disabled: r.get(6)?,
        failed_logins: r.get(7)?,
        locked_until: opt_instant(r.get(8)?)?,
        demo: r.get(9)?,
    })
}

pub fn user_by_login(conn: &Connection, login: &str) -> Result<Option<UserRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM app_user WHERE login = :login"
        ))?
        .query_row(named_params! { ":login": login }, user_from_row)
        .optional()?)
}

pub fn user_by_id(conn: &Connection, id: i64) -> Result<Option<UserRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM app_user WHERE id = :id"
        ))?
        .query_row(named_params! { ":id": id }, user_from_row)
        .optional()?)
}

pub fn all_users(conn: &Connection) -> Result<Vec<UserRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM app_user ORDER BY login"
    ))?;
    let rows = stmt.query_map([], user_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Role codes, in the role table's order.
pub fn roles(conn: &Connection, user_id: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role FROM user_role WHERE user_id = :id ORDER BY \
         CASE role WHEN 'admin' THEN 1 WHEN 'coordinator' THEN 2 WHEN 'staff' THEN 3 ELSE 4 END",
    )?;
    let rows = stmt.query_map(named_params! { ":id": user_id }, |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Granted intervention codes as granted (not expanded).
pub fn grants(conn: &Connection, user_id: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT intervention FROM user_grant WHERE user_id = :id ORDER BY intervention",
    )?;
    let rows = stmt.query_map(named_params! { ":id": user_id }, |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub struct NewUserRow<'a> {
    pub login: &'a str,
    pub name: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub demo: bool,
    pub created_at: DateTime<Utc>,
}

pub fn insert_user(conn: &Connection, u: &NewUserRow) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO app_user (login, name, password_hash, demo, created_at) \
         VALUES (:login, :name, :password_hash, :demo, :created_at)",
    )?
    .execute(named_params! {
        ":login": u.login,
        ":name": u.name,
        ":password_hash": u.password_hash,
        ":demo": u.demo,
        ":created_at": stamp(u.created_at),
    })?;
    Ok(conn.last_insert_rowid())
}

pub fn insert_role(conn: &Connection, user_id: i64, role: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO user_role (user_id, role) VALUES (:id, :role)")?
        .execute(named_params! { ":id": user_id, ":role": role })?;
    Ok(())
}

/// False when the grant existed already.
pub fn insert_grant(conn: &Connection, user_id: i64, intervention: &str) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO user_grant (user_id, intervention) VALUES (:id, :code)",
        )?
        .execute(named_params! { ":id": user_id, ":code": intervention })?;
    Ok(n == 1)
}

/// False when there was no such grant.
pub fn delete_grant(conn: &Connection, user_id: i64, intervention: &str) -> Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM user_grant WHERE user_id = :id AND intervention = :code")?
        .execute(named_params! { ":id": user_id, ":code": intervention })?;
    Ok(n == 1)
}

pub fn set_disabled(conn: &Connection, user_id: i64, disabled: bool) -> Result<()> {
    conn.prepare_cached("UPDATE app_user SET disabled = :d WHERE id = :id")?
        .execute(named_params! { ":id": user_id, ":d": disabled })?;
    Ok(())
}

/// Forget password and authenticator, clear a lock, re-enable (a reset).
pub fn clear_credentials(conn: &Connection, user_id: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE app_user SET password_hash = NULL, totp_secret = NULL, totp_last_step = 0, \
         disabled = 0, failed_logins = 0, locked_until = NULL WHERE id = :id",
    )?
    .execute(named_params! { ":id": user_id })?;
    Ok(())
}

/// Store what an enrolment chose; `step` is the code's step, now used.
pub fn set_credentials(
    conn: &Connection,
    user_id: i64,
    password_hash: &str,
    totp_secret: &[u8],
    step: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE app_user SET password_hash = :hash, totp_secret = :secret, totp_last_step = :step, \
         failed_logins = 0, locked_until = NULL WHERE id = :id",
    )?
    .execute(named_params! {
        ":id": user_id,
        ":hash": password_hash,
        ":secret": totp_secret,
        ":step": step,
    })?;
    Ok(())
}

/// The failure count and lock after a refused sign-in.
pub fn set_failures(
    conn: &Connection,
    user_id: i64,
    failed: u32,
    locked_until: Option<DateTime<Utc>>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE app_user SET failed_logins = :failed, locked_until = :locked WHERE id = :id",
    )?
    .execute(named_params! {
        ":id": user_id,
        ":failed": failed,
        ":locked": locked_until.map(stamp),
    })?;
    Ok(())
}

/// A sign-in accepted: the counter and lock are cleared and, when a code
/// was given, its step becomes the last one used.
pub fn signed_in(conn: &Connection, user_id: i64, step: Option<i64>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE app_user SET failed_logins = 0, locked_until = NULL, \
         totp_last_step = coalesce(:step, totp_last_step) WHERE id = :id",
    )?
    .execute(named_params! { ":id": user_id, ":step": step })?;
    Ok(())
}

// ---- Enrolment links ----

pub fn insert_enrol_token(
    conn: &Connection,
    token_hash: &[u8; 32],
    user_id: i64,
    totp_secret: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO enrol_token (token_hash, user_id, totp_secret, expires_at) \
         VALUES (:hash, :user, :secret, :expires)",
    )?
    .execute(named_params! {
        ":hash": &token_hash[..],
        ":user": user_id,
        ":secret": totp_secret,
        ":expires": stamp(expires_at),
    })?;
    Ok(())
}

/// A link that is still valid at `now`: (user id, TOTP secret offered).
pub fn valid_enrol_token(
    conn: &Connection,
    token_hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id, totp_secret FROM enrol_token \
             WHERE token_hash = :hash AND expires_at > :now",
        )?
        .query_row(
            named_params! { ":hash": &token_hash[..], ":now": stamp(now) },
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Every link of a user (used, replaced, or the user disabled).
pub fn delete_enrol_tokens(conn: &Connection, user_id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM enrol_token WHERE user_id = :id")?
        .execute(named_params! { ":id": user_id })?;
    Ok(())
}

/// Users with a link still valid at `now`.
pub fn users_with_valid_link(conn: &Connection, now: DateTime<Utc>) -> Result<BTreeSet<i64>> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT user_id FROM enrol_token WHERE expires_at > :now")?;
    let rows = stmt.query_map(named_params! { ":now": stamp(now) }, |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// ---- Sessions ----

pub struct SessionRow {
    pub user_id: i64,
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
}

pub fn insert_session(
    conn: &Connection,
    id_hash: &[u8; 32],
    user_id: i64,
    csrf: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO session (id_hash, user_id, csrf, created_at, seen_at) \
         VALUES (:hash, :user, :csrf, :now, :now)",
    )?
    .execute(named_params! {
        ":hash": &id_hash[..],
        ":user": user_id,
        ":csrf": csrf,
        ":now": stamp(now),
    })?;
    Ok(())
}

pub fn session(conn: &Connection, id_hash: &[u8; 32]) -> Result<Option<SessionRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id, csrf, created_at, seen_at FROM session WHERE id_hash = :hash",
        )?
        .query_row(named_params! { ":hash": &id_hash[..] }, |r| {
            Ok(SessionRow {
                user_id: r.get(0)?,
                csrf: r.get(1)?,
                created_at: instant(&r.get::<_, String>(2)?)?,
                seen_at: instant(&r.get::<_, String>(3)?)?,
            })
        })
        .optional()?)
}

pub fn touch_session(conn: &Connection, id_hash: &[u8; 32], now: DateTime<Utc>) -> Result<()> {
    conn.prepare_cached("UPDATE session SET seen_at = :now WHERE id_hash = :hash")?
        .execute(named_params! { ":hash": &id_hash[..], ":now": stamp(now) })?;
    Ok(())
}

/// True when there was such a session.
pub fn delete_session(conn: &Connection, id_hash: &[u8; 32]) -> Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM session WHERE id_hash = :hash")?
        .execute(named_params! { ":hash": &id_hash[..] })?;
    Ok(n == 1)
}

pub fn delete_sessions_of(conn: &Connection, user_id: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM session WHERE user_id = :id")?
        .execute(named_params! { ":id": user_id })?)
}

/// Sessions last seen at or before `idle_cut` or started at or before
/// `absolute_cut`: ended, whether or not anyone asks for them again.
pub fn delete_ended_sessions(
    conn: &Connection,
    idle_cut: DateTime<Utc>,
    absolute_cut: DateTime<Utc>,
) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM session WHERE seen_at <= :idle OR created_at <= :absolute")?
        .execute(named_params! { ":idle": stamp(idle_cut), ":absolute": stamp(absolute_cut) })?)
}

// ---- Interventions and the database's KDF ----

/// `codes` with every intervention below them, any depth. UNION (not
/// UNION ALL) stops at codes already reached, so even a damaged tree with
/// a cycle ends.
pub fn with_descendants(conn: &Connection, codes: &[String]) -> Result<BTreeSet<String>> {
    if codes.is_empty() {
        return Ok(BTreeSet::new());
    }
    let json = serde_json::to_string(codes).map_err(|e| Error::Database(e.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "WITH RECURSIVE tree(code) AS ( \
             SELECT code FROM intervention WHERE code IN (SELECT value FROM json_each(:codes)) \
             UNION \
             SELECT i.code FROM intervention i JOIN tree t ON i.parent = t.code) \
         SELECT code FROM tree",
    )?;
    let rows = stmt.query_map(named_params! { ":codes": json }, |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The database's argon2id parameters (m KiB, t, p), for a sign-in that
/// must cost the same whether or not the login exists.
pub fn kdf_params(conn: &Connection) -> Result<(u32, u32, u32)> {
    let get = |k: &str| -> Result<u32> {
        let v: Option<String> = conn
            .prepare_cached("SELECT value FROM meta WHERE key = :k")?
            .query_row(named_params! { ":k": k }, |r| r.get(0))
            .optional()?;
        v.and_then(|v| v.parse().ok()).ok_or_else(|| {
            Error::Database(format!(
                "database setting '{k}' is missing or damaged; run `sustrack check`"
            ))
        })
    };
    Ok((get("kdf_m_kib")?, get("kdf_t")?, get("kdf_p")?))
}

// ---- e-ID identities (migration 7) ----

/// A user's bound e-ID: pending until an admin confirms it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub user_id: i64,
    pub issuer: String,
    pub name: Option<String>,
    pub acr: Option<String>,
    pub asserted_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<String>,
}

const IDENTITY_COLUMNS: &str =
    "user_id, issuer, name, acr, asserted_at, confirmed_at, confirmed_by";

fn identity_from_row(r: &Row) -> rusqlite::Result<IdentityRow> {
    Ok(IdentityRow {
        user_id: r.get(0)?,
        issuer: r.get(1)?,
        name: r.get(2)?,
        acr: r.get(3)?,
        asserted_at: instant(&r.get::<_, String>(4)?)?,
        confirmed_at: opt_instant(r.get(5)?)?,
        confirmed_by: r.get(6)?,
    })
}

pub fn identity_of_user(conn: &Connection, user_id: i64) -> Result<Option<IdentityRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {IDENTITY_COLUMNS} FROM user_identity WHERE user_id = :id"
        ))?
        .query_row(named_params! { ":id": user_id }, identity_from_row)
        .optional()?)
}

pub fn identity_by_subject(
    conn: &Connection,
    subject_hash: &[u8; 32],
) -> Result<Option<IdentityRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {IDENTITY_COLUMNS} FROM user_identity WHERE subject_hash = :h"
        ))?
        .query_row(named_params! { ":h": &subject_hash[..] }, identity_from_row)
        .optional()?)
}

/// Record an e-ID asserted through an enrolment link, waiting for an
/// admin's confirmation (replaces whatever the user had).
pub fn set_pending_identity(
    conn: &Connection,
    user_id: i64,
    subject_hash: &[u8; 32],
    issuer: &str,
    name: Option<&str>,
    acr: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    delete_identity(conn, user_id)?;
    conn.prepare_cached(
        "INSERT INTO user_identity (user_id, subject_hash, issuer, name, acr, asserted_at) \
         VALUES (:id, :h, :issuer, :name, :acr, :at)",
    )?
    .execute(named_params! {
        ":id": user_id,
        ":h": &subject_hash[..],
        ":issuer": issuer,
        ":name": name,
        ":acr": acr,
        ":at": stamp(now),
    })?;
    Ok(())
}

pub fn confirm_identity(
    conn: &Connection,
    user_id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE user_identity SET confirmed_at = :at, confirmed_by = :by \
             WHERE user_id = :id AND confirmed_at IS NULL",
        )?
        .execute(named_params! { ":id": user_id, ":by": by, ":at": stamp(now) })?;
    Ok(n == 1)
}

pub fn delete_identity(conn: &Connection, user_id: i64) -> Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM user_identity WHERE user_id = :id")?
        .execute(named_params! { ":id": user_id })?;
    Ok(n == 1)
}
