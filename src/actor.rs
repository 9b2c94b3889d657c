//! Who acts. Every domain call that changes or shows data takes an
//! [`Actor`]: the audit trail records its login, and its role decides what
//! it may do. The CLI acts as the owner of the database file (whoever can
//! write the file holds everything anyway, SPEC section 11); the server
//! passes its signed-in user.

use std::fmt;

/// A role of SPEC section 11's role table, plus the file's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    pub fn code(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Coordinator => "coordinator",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// As recorded in the audit trail (never a personnummer).
    pub login: String,
    pub role: Role,
}

impl Actor {
    /// The owner of the file, acting through the CLI.
    pub fn owner(login: impl Into<String>) -> Actor {
        Actor {
            login: login.into(),
            role: Role::Owner,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.login)
    }
}
