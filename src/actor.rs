//! Who acts, and what they may do. Every domain call that changes or shows
//! data takes an [`Actor`]: the audit trail records its login, and its roles
//! and grants decide what it may do (SPEC section 11's role table, written
//! once here as [`Actor::scope`]). The CLI acts as the owner of the database
//! file (whoever can write the file holds everything anyway); the server
//! passes its signed-in user, read from the database on every request.

use std::collections::BTreeSet;
use std::fmt;

/// A role of SPEC section 11's role table, plus the file's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The CLI: the local administrator of the file, outside the role table.
    Owner,
    Admin,
    Coordinator,
    /// Deltagaransvarig: registers participants in their own interventions.
    Staff,
    /// Granskare: reads the audit trail.
    Auditor,
}

impl Role {
    /// The roles a user account can hold (the owner is not one).
    pub const USER_ROLES: [Role; 4] = [Role::Admin, Role::Coordinator, Role::Staff, Role::Auditor];

    pub fn code(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }

    /// A user role from its code (`owner` is not a user role).
    pub fn parse(s: &str) -> Option<Role> {
        Role::USER_ROLES
            .into_iter()
            .find(|r| r.code().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What an actor asks to do: one line of SPEC section 11's role table each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start, exit, edit, reopen, delete, find by personnummer, erase,
    /// import of registrations: staff, in their own interventions.
    Register,
    /// Enrolment lists and details: coordinators all, staff their own.
    ReadEnrolments,
    /// Reports in every format: coordinators all, staff their own.
    Report,
    /// The evaluator export: coordinators.
    Export,
    /// See the interventions: admin and coordinators all, staff their own.
    SeeInterventions,
    /// Add and change interventions, targets, volumes: admin, coordinators.
    ManageInterventions,
    /// Users, roles and grants: admin.
    ManageUsers,
    /// The audit trail: admin, coordinators, auditors.
    ReadAudit,
    /// A copy of the whole register: admin.
    Backup,
    /// Publish a period's report, retention (purge) and the data-quality
    /// list over the whole register: coordinators.
    Publish,
    /// Activities and referrals (SPEC 13): coordinators all, staff their own.
    Beyond,
    /// Budgets and costs (SPEC 13): coordinators.
    Budget,
}

/// Which interventions an action reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    /// These codes (grants with their descendants already expanded).
    Only(BTreeSet<String>),
}

impl Scope {
    pub fn covers(&self, intervention: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(codes) => codes.contains(intervention),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// As recorded in the audit trail (never a personnummer).
    pub login: String,
    pub roles: Vec<Role>,
    /// The interventions granted to the user, each with its descendants
    /// (a grant on a parent covers its children). Empty for the owner.
    pub grants: BTreeSet<String>,
}

impl Actor {
    /// The owner of the file, acting through the CLI.
    pub fn owner(login: impl Into<String>) -> Actor {
        Actor {
            login: login.into(),
            roles: vec![Role::Owner],
            grants: BTreeSet::new(),
        }
    }

    /// A signed-in user with their roles and expanded grants.
    pub fn user(login: impl Into<String>, roles: Vec<Role>, grants: BTreeSet<String>) -> Actor {
        Actor {
            login: login.into(),
            roles,
            grants,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_owner(&self) -> bool {
        self.has(Role::Owner)
    }

    /// The interventions `action` reaches for this actor, or `None` when
    /// the action is outside every role the actor holds. This match is the
    /// role table of SPEC section 11; nothing else decides access.
    pub fn scope(&self, action: Action) -> Option<Scope> {
        use Action::*;
        if self.is_owner() {
            return Some(Scope::All);
        }
        let own = || Scope::Only(self.grants.clone());
        let staff = self.has(Role::Staff);
        let coordinator = self.has(Role::Coordinator);
        let admin = self.has(Role::Admin);
        match action {
            Register => staff.then(own),
            ReadEnrolments | Report => {
                if coordinator {
                    Some(Scope::All)
                } else if staff {
                    Some(own())
                } else {
                    None
                }
            }
            Export => coordinator.then_some(Scope::All),
            SeeInterventions => {
                if coordinator || admin {
                    Some(Scope::All)
                } else if staff {
                    Some(own())
                } else {
                    None
                }
            }
            ManageInterventions => (coordinator || admin).then_some(Scope::All),
            ManageUsers | Backup => admin.then_some(Scope::All),
            Publish | Budget => coordinator.then_some(Scope::All),
            Beyond => {
                if coordinator {
                    Some(Scope::All)
                } else if staff {
                    Some(own())
                } else {
                    None
                }
            }
            ReadAudit => (admin || coordinator || self.has(Role::Auditor)).then_some(Scope::All),
        }
    }

    /// May the actor do `action` at all?
    pub fn may(&self, action: Action) -> bool {
        self.scope(action).is_some()
    }

    /// May the actor do `action` in `intervention`?
    pub fn may_in(&self, action: Action, intervention: &str) -> bool {
        self.scope(action).is_some_and(|s| s.covers(intervention))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(roles: &[Role], grants: &[&str]) -> Actor {
        Actor::user(
            "u",
            roles.to_vec(),
            grants.iter().map(|s| s.to_string()).collect(),
        )
    }

    #[test]
    fn the_role_table() {
        let staff = user(&[Role::Staff], &["A"]);
        assert!(staff.may_in(Action::Register, "A"));
        assert!(!staff.may_in(Action::Register, "B"));
        assert!(staff.may_in(Action::Report, "A"));
        assert!(!staff.may(Action::Export));
        assert!(!staff.may(Action::ReadAudit));
        assert!(!staff.may(Action::ManageUsers));

        let coord = user(&[Role::Coordinator], &[]);
        assert!(!coord.may(Action::Register));
        assert!(coord.may_in(Action::ReadEnrolments, "B"));
        assert!(coord.may(Action::Export));
        assert!(coord.may(Action::ReadAudit));

        let admin = user(&[Role::Admin], &[]);
        assert!(!admin.may(Action::ReadEnrolments));
        assert!(!admin.may(Action::Report));
        assert!(admin.may(Action::ManageUsers));
        assert!(admin.may(Action::Backup));

        let auditor = user(&[Role::Auditor], &[]);
        assert!(auditor.may(Action::ReadAudit));
        assert!(!auditor.may(Action::ReadEnrolments));
        assert!(!auditor.may(Action::SeeInterventions));

        assert!(Actor::owner("cli:x").may_in(Action::Register, "ANY"));
        assert_eq!(Role::parse("Staff"), Some(Role::Staff));
        assert_eq!(Role::parse("owner"), None);
    }
}
