//! Participants' rights and the register's records (SPEC section 15):
//! withdrawn consent, the register extract, retention (`purge`),
//! publishing a period's report, and the data-quality list (`quality`).
//!
//! Each call is one transaction of the caller's (`store::write`) and
//! records itself in the audit trail; none prints or stores a personnummer.

pub mod extract;
pub mod publish;
pub mod purge;
pub mod quality;

use rusqlite::Connection;

use crate::actor::{Action, Actor};
use crate::error::{Error, Result};
use crate::identity::{random_bytes, Fingerprint};
use crate::register::{person_in, require};
use crate::store::{audit, rights as stored};

/// Withdrawn consent: the person's enrolments stay in the register, with
/// gender and birth year, and are counted in every report as before (they
/// still belong to one person, so "unique persons" does not change); but
/// the fingerprint is replaced by random bytes and every enrolment gets a
/// new id, so the personnummer finds nothing any more and no earlier id,
/// audit entry or export pseudonym leads to them. Returns the enrolments
/// in the actor's interventions (all of them for a coordinator or the CLI).
///
/// Staff may withdraw a person they find in their interventions; the
/// withdrawal covers the person's whole registration (consent is given to
/// the register, not to one intervention), as `erase` does.
pub fn withdraw(conn: &Connection, actor: &Actor, fingerprint: &Fingerprint) -> Result<usize> {
    let scope = require(actor, Action::Register)?;
    let person = person_in(conn, fingerprint, &scope)?.ok_or_else(|| {
        Error::NotFound(
            "no person with that personnummer is registered; nothing was changed".into(),
        )
    })?;
    // What the actor is told counts their own interventions only: the
    // rest of the register does not exist for them.
    let seen = crate::store::enrolments::of_person(conn, person)?
        .iter()
        .filter(|e| scope.covers(&e.intervention))
        .count();
    let mut random = [0u8; 32];
    random.copy_from_slice(&random_bytes(32));
    let n = stored::forget_person(conn, person, &random)?;
    audit::record(
        conn,
        actor,
        "withdraw",
        None,
        Some(&format!("{n} enrolments kept without identity")),
    )?;
    Ok(seen)
}
