//! Sign-in with e-legitimation (OpenID Connect; SPEC section 11, issue 15):
//! the rules, not the protocol. The web front end validates the identity
//! provider's ID token (signature, issuer, audience, expiry, nonce) and
//! hands over what it asserted; here that assertion is bound to an
//! account, confirmed by an admin, and signed in with.
//!
//! - Nobody gets an account by signing in. An admin adds the user; the
//!   user's one-time enrolment link lets one e-ID sign-in *request* the
//!   binding (the link is used up), and an admin confirms it after seeing
//!   the name and issuer the provider asserted. Only then does that e-ID
//!   sign in, and the account no longer takes a password.
//! - The subject is kept only as an argon2id hash of issuer and `sub` under
//!   the database's salt and parameters, as a participant's personnummer
//!   is (SPEC section 5): sign-in needs equality only, and a broker's `sub`
//!   may be a personnummer, which a fast hash would give away to whoever
//!   holds a copy of the file. [`Asserted::new`] hashes (slow: call it off
//!   the request threads); nothing here ever sees `sub` itself.
//! - An e-ID sign-in is two factors (the provider's), so no code is asked.
//!   The password lockout does not apply to it: a bound account takes no
//!   password, so failed password attempts on its login are someone else's
//!   and must not keep its owner out.
//! - When the förbund requires authentication contexts (`acr`), an
//!   assertion without one of them is refused at binding and at every
//!   sign-in.
//! - Every outcome (binding requested or refused, confirmed, removed,
//!   sign-in accepted or refused) is in the audit trail with the issuer and
//!   the `acr`.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::actor::Actor;
use crate::error::{Error, Result};
use crate::identity::{scrub, Kdf};
use crate::store::accounts as db;
use crate::store::audit;

use super::{as_actor, enrolment_of, existing, may_manage};

/// What the identity provider asserted in a validated ID token, with its
/// subject already hashed.
#[derive(Debug, Clone)]
pub struct Asserted {
    /// `iss`, as validated.
    pub issuer: String,
    /// argon2id("sustrack e-ID", NUL, issuer, NUL, sub) under the
    /// database's salt.
    subject_key: SubjectKey,
    /// `name` (or given and family name), as the provider gave it.
    pub name: Option<String>,
    /// `acr`: the authentication context (e.g. `http://id.elegnamnden.se/loa/1.0/loa3`).
    pub acr: Option<String>,
}

/// The hash an e-ID is known by (never printed).
#[derive(Clone, PartialEq, Eq)]
struct SubjectKey([u8; 32]);

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

impl Asserted {
    /// Hash the subject (argon2id: slow, run it off the request threads)
    /// and keep the rest. `subject` is not kept.
    pub fn new(
        kdf: &Kdf,
        issuer: &str,
        subject: &str,
        name: Option<String>,
        acr: Option<String>,
    ) -> Asserted {
        let mut input = Vec::with_capacity(issuer.len() + subject.len() + 16);
        input.extend_from_slice(b"sustrack e-ID\0");
        input.extend_from_slice(issuer.as_bytes());
        input.push(0);
        input.extend_from_slice(subject.as_bytes());
        let key = kdf.hash(&input).0;
        zeroize::Zeroize::zeroize(&mut input);
        Asserted {
            issuer: issuer.to_string(),
            subject_key: SubjectKey(key),
            name,
            acr,
        }
    }
}

/// A user's e-ID as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eid {
    pub issuer: String,
    /// The name the provider asserted when the binding was requested.
    pub name: Option<String>,
    pub acr: Option<String>,
    pub asserted_at: DateTime<Utc>,
    /// `None` while waiting for an admin.
    pub confirmed_at: Option<DateTime<Utc>>,
    pub confirmed_by: Option<String>,
}

impl Eid {
    pub fn confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }

    /// When the binding was requested, as [`confirm`]'s `seen` takes it.
    pub fn asserted_stamp(&self) -> String {
        db::stamp(self.asserted_at)
    }
}

/// Why an e-ID sign-in was refused (the page may say which: the person
/// proved who they are, so it tells them nothing about anyone else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No account is bound to this e-ID.
    Unknown,
    /// Bound through a link, not yet confirmed by an admin.
    Pending,
    /// The account is disabled.
    Disabled,
    /// The authentication context is not one the förbund accepts.
    Acr,
}

#[derive(Debug)]
pub enum SignIn {
    Accepted { user_id: i64 },
    Refused(Refusal),
}

/// The e-ID bound (or waiting to be) to a user.
pub fn of_user(conn: &Connection, user_id: i64) -> Result<Option<Eid>> {
    Ok(db::identity_of_user(conn, user_id)?.map(|r| Eid {
        issuer: r.issuer,
        name: r.name,
        acr: r.acr,
        asserted_at: r.asserted_at,
        confirmed_at: r.confirmed_at,
        confirmed_by: r.confirmed_by,
    }))
}

/// Has the user a confirmed e-ID (and so no password sign-in)?
pub fn bound(conn: &Connection, user_id: i64) -> Result<bool> {
    Ok(db::identity_of_user(conn, user_id)?.is_some_and(|r| r.confirmed_at.is_some()))
}

/// Why a binding through a link was refused (the link stays usable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindRefusal {
    /// The provider asserted no name: the admin would have nothing to
    /// confirm against.
    NoName,
    /// Not an accepted authentication context.
    Acr,
    /// The e-ID is bound (or waiting) on another account.
    Taken,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Binding {
    /// Waiting for an admin; the account's login.
    Requested {
        login: String,
    },
    Refused(BindRefusal),
}

/// An e-ID sign-in through an enrolment link: the binding waits for an
/// admin, and the link is used up. `NotFound` for an unknown, used or
/// expired link (nothing written); a refusal (no name asserted, an `acr`
/// outside `accepted`, an e-ID on another account) leaves the link as it
/// was and is recorded in the audit trail, as is the request.
pub fn request_binding(
    conn: &Connection,
    now: DateTime<Utc>,
    token: &str,
    a: &Asserted,
    accepted: &[String],
) -> Result<Binding> {
    let (user, _) = enrolment_of(conn, now, token)?;
    let hash = subject_hash(a);
    let taken = db::identity_by_subject(conn, &hash)?.is_some_and(|other| other.user_id != user.id);
    let refusal = if shown_name(a).is_none() {
        Some((BindRefusal::NoName, "no name asserted"))
    } else if !acr_accepted(a, accepted) {
        Some((BindRefusal::Acr, "not an accepted authentication context"))
    } else if taken {
        Some((BindRefusal::Taken, "this e-ID is bound to another account"))
    } else {
        None
    };
    if let Some((refusal, why)) = refusal {
        audit::record(
            conn,
            &as_actor(&user.login),
            "e-ID binding refused",
            Some(&user.login),
            Some(&format!("{}; {why}", context(a))),
        )?;
        return Ok(Binding::Refused(refusal));
    }
    db::set_pending_identity(
        conn,
        user.id,
        &hash,
        &shown(&a.issuer, 300),
        shown_name(a).as_deref(),
        a.acr.as_deref().map(|s| shown(s, 200)).as_deref(),
        now,
    )?;
    db::delete_enrol_tokens(conn, user.id)?;
    audit::record(
        conn,
        &as_actor(&user.login),
        "e-ID binding requested",
        Some(&user.login),
        Some(&context(a)),
    )?;
    Ok(Binding::Requested { login: user.login })
}

/// An admin confirms a requested binding (never their own: another admin
/// or the file's owner does that; never a disabled account's). `seen` is
/// when the binding the admin looked at was requested (the users page
/// sends it): if another has replaced it since, nothing is confirmed.
/// Audited.
pub fn confirm(
    conn: &Connection,
    actor: &Actor,
    now: DateTime<Utc>,
    login: &str,
    seen: Option<&str>,
) -> Result<()> {
    may_manage(actor)?;
    let u = existing(conn, login)?;
    if !actor.is_owner() && actor.login == u.login {
        return Err(Error::Forbidden(
            "you cannot confirm your own e-ID; another administrator can".into(),
        ));
    }
    if u.disabled {
        return Err(Error::Conflict(format!(
            "'{}' is disabled; a new enrolment link (reset) re-enables the account and binds an e-ID afresh",
            u.login
        )));
    }
    let Some(id) = db::identity_of_user(conn, u.id)? else {
        return Err(Error::NotFound(format!(
            "'{}' has no e-ID waiting for confirmation",
            u.login
        )));
    };
    if seen.is_some_and(|seen| seen != db::stamp(id.asserted_at)) {
        return Err(Error::Conflict(format!(
            "the e-ID waiting on '{}' changed after the page was shown; look at the name again before confirming",
            u.login
        )));
    }
    if !db::confirm_identity(conn, u.id, &actor.login, now)? {
        return Err(Error::Conflict(format!(
            "the e-ID of '{}' is confirmed already",
            u.login
        )));
    }
    audit::record(
        conn,
        actor,
        "user e-ID confirm",
        Some(&u.login),
        Some(&format!("issuer {}", id.issuer)),
    )
}

/// An admin removes a user's e-ID, requested or confirmed; the user signs
/// in again only after a new link (`reset`). Ends the user's sessions.
pub fn remove(conn: &Connection, actor: &Actor, login: &str) -> Result<()> {
    may_manage(actor)?;
    let u = existing(conn, login)?;
    if !db::delete_identity(conn, u.id)? {
        return Err(Error::NotFound(format!("'{}' has no e-ID", u.login)));
    }
    let ended = db::delete_sessions_of(conn, u.id)?;
    audit::record(
        conn,
        actor,
        "user e-ID remove",
        Some(&u.login),
        Some(&format!("{ended} session(s) ended")),
    )
}

/// Sign in with a validated assertion. Refused (and audited) when no
/// confirmed binding has this e-ID, the account is disabled, or the `acr`
/// is not accepted.
pub fn sign_in(conn: &Connection, a: &Asserted, accepted: &[String]) -> Result<SignIn> {
    let found = db::identity_by_subject(conn, &subject_hash(a))?;
    let user = match &found {
        Some(id) => db::user_by_id(conn, id.user_id)?,
        None => None,
    };
    let (refusal, actor) = match (&found, &user) {
        (Some(id), Some(u)) => {
            let refusal = if u.disabled {
                Some(Refusal::Disabled)
            } else if id.confirmed_at.is_none() {
                Some(Refusal::Pending)
            } else if !acr_accepted(a, accepted) {
                Some(Refusal::Acr)
            } else {
                None
            };
            (refusal, as_actor(&u.login))
        }
        _ => (Some(Refusal::Unknown), as_actor("e-id")),
    };
    match (refusal, user) {
        (None, Some(u)) => {
            db::signed_in(conn, u.id, None)?;
            audit::record(conn, &actor, "sign-in", None, Some(&context(a)))?;
            Ok(SignIn::Accepted { user_id: u.id })
        }
        (refusal, _) => {
            let refusal = refusal.unwrap_or(Refusal::Unknown);
            let why = match refusal {
                Refusal::Unknown => "no account has this e-ID",
                Refusal::Pending => "e-ID not yet confirmed by an admin",
                Refusal::Disabled => "account disabled",
                Refusal::Acr => "not an accepted authentication context",
            };
            audit::record(
                conn,
                &actor,
                "sign-in refused",
                None,
                Some(&format!("{}; {why}", context(a))),
            )?;
            Ok(SignIn::Refused(refusal))
        }
    }
}

fn acr_accepted(a: &Asserted, accepted: &[String]) -> bool {
    accepted.is_empty() || a.acr.as_ref().is_some_and(|acr| accepted.contains(acr))
}

/// "e-ID; issuer https://...; acr ..." for the audit trail (never `sub`).
fn context(a: &Asserted) -> String {
    format!(
        "e-ID; issuer {}; acr {}",
        shown(&a.issuer, 300),
        a.acr
            .as_deref()
            .map(|s| shown(s, 200))
            .unwrap_or_else(|| "none".into())
    )
}

fn subject_hash(a: &Asserted) -> [u8; 32] {
    a.subject_key.0
}

/// Text from the provider, as kept and shown: no control characters, no
/// personnummer, at most `max` characters.
fn shown(s: &str, max: usize) -> String {
    let clean: String = s
        .chars()
        .take(max * 2)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    scrub(clean.trim()).chars().take(max).collect()
}

fn shown_name(a: &Asserted) -> Option<String> {
    a.name
        .as_deref()
        .map(|n| shown(n, 120))
        .filter(|n| !n.is_empty())
}
