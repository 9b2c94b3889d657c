//! `user add|list|disable|reset|grant|revoke|confirm-eid|remove-eid`: the server's accounts from
//! the command line, where the file's owner acts as administrator (SPEC
//! section 11). The rules are in `accounts.rs`; this parses and prints.
//!
//! An enrolment link is printed once and never stored in clear: the owner
//! passes it on to the user (SUSTRACK_PUBLIC_URL or `--public-url` makes
//! it a whole address; without it, a path the server's address goes before).

use chrono::Utc;
use clap::{Args, Subcommand};

use crate::accounts::{self, EnrolToken, NewUser, User};
use crate::actor::Role;
use crate::error::{Error, Field, Result};
use crate::invalid;

use super::emit;

#[derive(Subcommand, Debug)]
pub enum UserCmd {
    /// Add a user of the server and print their one-time enrolment link
    Add {
        /// a-z, 0-9, '.', '_', '@' and '-', at most 64 characters
        login: String,
        /// admin, coordinator, staff or auditor; may repeat (never admin with staff)
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// An intervention a staff member registers in (its sub-interventions too); may repeat
        #[arg(long = "intervention", value_name = "CODE")]
        interventions: Vec<String>,
        /// The user's name as pages show it
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        link: LinkArgs,
    },
    /// List the users with their roles, interventions and state
    List,
    /// Disable a user: their sessions end at once
    Disable { login: String },
    /// Forget a user's password, authenticator and e-ID, end their sessions, and print a new enrolment link
    Reset {
        login: String,
        #[command(flatten)]
        link: LinkArgs,
    },
    /// Give a staff member an intervention (its sub-interventions too)
    Grant {
        login: String,
        #[arg(long, value_name = "CODE")]
        intervention: String,
    },
    /// Take an intervention from a staff member
    Revoke {
        login: String,
        #[arg(long, value_name = "CODE")]
        intervention: String,
    },
    /// Confirm the e-ID a user signed in with through their enrolment link (check the name `user list` shows first)
    ConfirmEid { login: String },
    /// Remove a user's e-ID, requested or confirmed; their sessions end
    RemoveEid { login: String },
}

impl UserCmd {
    pub fn name(&self) -> &'static str {
        match self {
            UserCmd::Add { .. } => "user add",
            UserCmd::List => "user list",
            UserCmd::Disable { .. } => "user disable",
            UserCmd::Reset { .. } => "user reset",
            UserCmd::Grant { .. } => "user grant",
            UserCmd::Revoke { .. } => "user revoke",
            UserCmd::ConfirmEid { .. } => "user confirm-eid",
            UserCmd::RemoveEid { .. } => "user remove-eid",
        }
    }

    /// Only `list` leaves the file as it was.
    pub fn writes(&self) -> bool {
        !matches!(self, UserCmd::List)
    }
}

#[derive(Args, Debug)]
pub struct LinkArgs {
    /// The server's public address, to print the enrolment link in full
    #[arg(long, env = "SUSTRACK_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
}

pub fn run(db: &mut super::Ctx, cmd: UserCmd) -> Result<()> {
    match cmd {
        UserCmd::Add {
            login,
            roles,
            interventions,
            name,
            link,
        } => {
            let base = public_url(&link)?;
            let u = NewUser {
                login,
                name,
                roles: roles.iter().map(|r| parse_role(r)).collect::<Result<_>>()?,
                grants: interventions,
            };
            let (user, token) = db.write(|tx, actor| accounts::add(tx, actor, Utc::now(), u))?;
            say!("added user {}", describe(&user))?;
            print_link(base.as_deref(), &token)
        }
        UserCmd::List => list(db),
        UserCmd::Disable { login } => {
            db.write(|tx, actor| accounts::disable(tx, actor, &login))?;
            say!(
                "disabled user {}: their sessions have ended and they cannot sign in",
                login.trim().to_lowercase()
            )
        }
        UserCmd::Reset { login, link } => {
            let base = public_url(&link)?;
            let token = db.write(|tx, actor| accounts::reset(tx, actor, Utc::now(), &login))?;
            say!(
                "reset user {}: password, authenticator and e-ID forgotten, sessions ended; they enrol again through the new link",
                login.trim().to_lowercase()
            )?;
            print_link(base.as_deref(), &token)
        }
        UserCmd::Grant {
            login,
            intervention,
        } => {
            db.write(|tx, actor| accounts::grant(tx, actor, &login, &intervention))?;
            say!(
                "granted {} to {} (with its sub-interventions)",
                intervention.trim().to_ascii_uppercase(),
                login.trim().to_lowercase()
            )
        }
        UserCmd::Revoke {
            login,
            intervention,
        } => {
            db.write(|tx, actor| accounts::revoke(tx, actor, &login, &intervention))?;
            say!(
                "revoked {} from {}",
                intervention.trim().to_ascii_uppercase(),
                login.trim().to_lowercase()
            )
        }
        UserCmd::ConfirmEid { login } => {
            db.write(|tx, actor| accounts::eid::confirm(tx, actor, Utc::now(), &login, None))?;
            say!(
                "confirmed the e-ID of {}: they sign in with it from now on",
                login.trim().to_lowercase()
            )
        }
        UserCmd::RemoveEid { login } => {
            db.write(|tx, actor| accounts::eid::remove(tx, actor, &login))?;
            say!(
                "removed the e-ID of {}: their sessions have ended; `user reset` gives them a new link",
                login.trim().to_lowercase()
            )
        }
    }
}

fn list(db: &mut super::Ctx) -> Result<()> {
    let users = accounts::list(&db.conn, &db.actor)?;
    if users.is_empty() {
        return say!("no users yet; add one with `sustrack user add LOGIN --role ROLE`");
    }
    let now = Utc::now();
    let mut rows = vec![vec![
        "login".to_string(),
        "name".into(),
        "roles".into(),
        "interventions".into(),
        "state".into(),
        "e-ID".into(),
    ]];
    for u in users {
        let state = if u.disabled {
            "disabled"
        } else if u.locked_until.is_some_and(|t| t > now) {
            "locked"
        } else if u.enrolled {
            "enrolled"
        } else if u.eid.is_some() {
            "awaiting e-ID confirmation"
        } else {
            "awaiting enrolment"
        };
        rows.push(vec![
            u.login,
            u.name.unwrap_or_else(|| "-".into()),
            roles(&u.roles),
            if u.grants.is_empty() {
                "-".into()
            } else {
                u.grants.join(", ")
            },
            state.into(),
            match &u.eid {
                None => "-".into(),
                Some(e) => format!(
                    "{}{} ({}{})",
                    if e.confirmed() {
                        ""
                    } else {
                        "awaiting confirmation: "
                    },
                    e.name.as_deref().unwrap_or("no name asserted"),
                    e.issuer,
                    e.acr
                        .as_deref()
                        .map(|a| format!(", acr {a}"))
                        .unwrap_or_default()
                ),
            },
        ]);
    }
    emit(None, crate::report::render::text::grid(&rows).as_bytes())
}

fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| {
        Error::invalid(
            Field::Role,
            format!(
                "'{}' is not a role: accepted are admin, coordinator, staff, auditor",
                crate::model::shown_text(s)
            ),
        )
    })
}

/// The server's address without a trailing slash, if one was given.
fn public_url(link: &LinkArgs) -> Result<Option<String>> {
    let Some(url) = link.public_url.as_deref().map(str::trim) else {
        return Ok(None);
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !url.contains(char::is_whitespace) => {
            Ok(Some(url.trim_end_matches('/').to_string()))
        }
        _ => Err(invalid!(
            "invalid --public-url (or SUSTRACK_PUBLIC_URL) '{}': expected the server's address, e.g. https://sustrack.example.se",
            crate::model::shown_text(url)
        )),
    }
}

fn print_link(base: Option<&str>, token: &EnrolToken) -> Result<()> {
    say!(
        "enrolment link (valid {} hours, shown once): {}/enrol/{}",
        accounts::ENROL_VALID_HOURS,
        base.unwrap_or(""),
        token.0
    )
}

fn roles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// "anna (Anna Svensson): roles staff; interventions ALLIN"
fn describe(u: &User) -> String {
    let name = u
        .name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let grants = if u.grants.is_empty() {
        String::new()
    } else {
        format!("; interventions {}", u.grants.join(", "))
    };
    format!("{}{name}: roles {}{grants}", u.login, roles(&u.roles))
}
