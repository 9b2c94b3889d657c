//! The one error type of the library, and how it maps to exit codes.
//!
//! `Invalid` is anything the user can fix by changing what they typed or
//! imported (exit code 2); everything else is a failure of the environment
//! or the database (exit code 1). Messages are one line, say what is wrong
//! and what would be accepted, and never contain a personnummer.

use crate::codes::CodeError;
use crate::identity::PnrError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad usage or invalid input: exit code 2. Shown with anything shaped
    /// like a personnummer masked, since it may quote what the user typed.
    #[error("{}", crate::identity::scrub(.0))]
    Invalid(String),
    /// The database file is missing, foreign, newer, or otherwise unusable: exit code 1.
    #[error("{0}")]
    Database(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Io(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) => 2,
            _ => 1,
        }
    }
}

impl From<CodeError> for Error {
    fn from(e: CodeError) -> Self {
        Error::Invalid(e.to_string())
    }
}

impl From<PnrError> for Error {
    fn from(e: PnrError) -> Self {
        Error::Invalid(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e.to_string())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for an `Error::Invalid` built with `format!`.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => { $crate::error::Error::Invalid(format!($($arg)*)) };
}
