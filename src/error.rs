//! The one error type of the library, and how it maps to exit codes.
//!
//! The domain speaks in its own words and each front end translates:
//! `Invalid` names the domain [`Field`] that was wrong (`Field::Date`,
//! `Field::Outcome`, ...) and a reason that reads after the field's name;
//! the CLI shows the field as its flag (`--date`), the import as its column,
//! the web as its form field. No reason names a CLI flag. `NotFound`,
//! `Conflict` and `Forbidden` are their own variants so a front end can
//! answer 404/409/403 (or 404 where a thing must not be seen to exist).
//!
//! Exit codes: anything the user can fix by changing what they typed or
//! imported is 2 (`Invalid`, `NotFound`, `Conflict`, `Forbidden`); a failure
//! of the environment or the database is 1. Messages are one line, say what
//! is wrong and what would be accepted, and never contain a personnummer
//! (every user-facing text passes through `identity::scrub`).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::codes::CodeError;
use crate::identity::PnrError;

/// A field of the domain's input. `name()` is the snake_case name used by
/// the web forms and the canonical CSV headers; the CLI maps it to a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    // Registration
    Intervention,
    Enrolment,
    Pnr,
    Consent,
    Anonymous,
    LocalId,
    Gender,
    BirthYear,
    Date,
    StartDate,
    ExitDate,
    Municipality,
    Support,
    YearsInSupport,
    Education,
    Referrer,
    Outcome,
    SupportAfter,
    StepProgress,
    QualityOfLife,
    Event,
    // Interventions and volumes
    Code,
    Name,
    Parent,
    Kind,
    TargetWorkStudies,
    TargetStep,
    TargetQol,
    Month,
    Women,
    Men,
    // Reports and exports
    Year,
    From,
    To,
    Format,
    Lang,
    SuppressBelow,
    AgeBands,
    MonthsBand,
    Compare,
    CompareFrom,
    CompareTo,
    // Targets and förbund-defined indicators
    Indicator,
    Outcomes,
    LabelSv,
    LabelEn,
    Target,
    WorkOrStudies,
    Step,
    Qol,
    // Participants' rights and records
    EndedBefore,
    AuditMonths,
    Published,
    K,
    KeyFile,
    Out,
    Limit,
    // Activities, referrals and money
    Unknown,
    Organisations,
    Referral,
    Decision,
    Budget,
    Actual,
    // Administration
    By,
    Kdf,
    Enrolments,
    Seed,
    Login,
    Role,
    // Sign-in
    Password,
    PasswordAgain,
    /// The authenticator's one-time code (form field `code`).
    Totp,
}

impl Field {
    /// The domain name: snake_case, as in web forms and CSV headers.
    pub fn name(self) -> &'static str {
        use Field::*;
        match self {
            Intervention => "intervention",
            Enrolment => "enrolment",
            Pnr => "pnr",
            Consent => "consent",
            Anonymous => "anonymous",
            LocalId => "local_id",
            Gender => "gender",
            BirthYear => "birth_year",
            Date => "date",
            StartDate => "start_date",
            ExitDate => "exit_date",
            Municipality => "municipality",
            Support => "support",
            YearsInSupport => "years_in_support",
            Education => "education",
            Referrer => "referrer",
            Outcome => "outcome",
            SupportAfter => "support_after",
            StepProgress => "step_progress",
            QualityOfLife => "quality_of_life",
            Event => "event",
            Code => "code",
            Name => "name",
            Parent => "parent",
            Kind => "kind",
            TargetWorkStudies => "target_work_studies",
            TargetStep => "target_step",
            TargetQol => "target_qol",
            Month => "month",
            Women => "women",
            Men => "men",
            Year => "year",
            From => "from",
            To => "to",
            Format => "format",
            Lang => "lang",
            SuppressBelow => "suppress_below",
            AgeBands => "age_bands",
            MonthsBand => "months_band",
            Compare => "compare",
            CompareFrom => "compare_from",
            CompareTo => "compare_to",
            Indicator => "indicator",
            Outcomes => "outcomes",
            LabelSv => "label_sv",
            LabelEn => "label_en",
            Target => "target",
            WorkOrStudies => "work_or_studies",
            Step => "step",
            Qol => "qol",
            EndedBefore => "ended_before",
            AuditMonths => "audit_months",
            Published => "published",
            K => "k",
            KeyFile => "key_file",
            Out => "out",
            Limit => "limit",
            Unknown => "unknown",
            Organisations => "organisations",
            Referral => "referral",
            Decision => "decision",
            Budget => "budget",
            Actual => "actual",
            By => "by",
            Kdf => "kdf",
            Enrolments => "enrolments",
            Seed => "seed",
            Login => "login",
            Role => "role",
            Password => "password",
            PasswordAgain => "password_again",
            Totp => "code",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad usage or invalid input: exit code 2. `field` names what was
    /// wrong when one field was; `reason` reads after the field's name.
    /// Shown with anything shaped like a personnummer masked, since it may
    /// quote what the user typed.
    #[error("{}", crate::identity::scrub(.reason))]
    Invalid {
        field: Option<Field>,
        reason: String,
    },
    /// The thing asked for does not exist (or, for a user whose role does
    /// not reach it, must not be seen to exist): exit code 2.
    #[error("{}", crate::identity::scrub(.0))]
    NotFound(String),
    /// The request contradicts what is stored (an overlap, an exit of an
    /// exited enrolment, a duplicate): exit code 2.
    #[error("{}", crate::identity::scrub(.0))]
    Conflict(String),
    /// The actor's role does not allow this: exit code 2.
    #[error("{}", crate::identity::scrub(.0))]
    Forbidden(String),
    /// The database file is missing, foreign, newer, or otherwise unusable: exit code 1.
    #[error("{}", crate::identity::scrub(.0))]
    Database(String),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file could not be read or written; `path` names it when known.
    #[error("{}", crate::identity::scrub(&io_message(.path.as_deref(), .message)))]
    Io {
        path: Option<PathBuf>,
        message: String,
    },
}

fn io_message(path: Option<&Path>, message: &str) -> String {
    match path {
        Some(p) => format!("{}: {message}", p.display()),
        None => message.to_string(),
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid { .. }
            | Error::NotFound(_)
            | Error::Conflict(_)
            | Error::Forbidden(_) => 2,
            _ => 1,
        }
    }

    /// Invalid input in one field.
    pub fn invalid(field: Field, reason: impl Into<String>) -> Error {
        Error::Invalid {
            field: Some(field),
            reason: reason.into(),
        }
    }

    /// Invalid input not tied to one field (a combination of fields).
    pub fn usage(reason: String) -> Error {
        Error::Invalid {
            field: None,
            reason,
        }
    }

    /// An I/O failure on a named file.
    pub fn io(path: &Path, e: impl fmt::Display) -> Error {
        Error::Io {
            path: Some(path.to_path_buf()),
            message: e.to_string(),
        }
    }

    /// An I/O failure described in words (the path, if any, is in them).
    pub fn io_text(message: String) -> Error {
        Error::Io {
            path: None,
            message,
        }
    }

    /// The field an `Invalid` error is about.
    pub fn field(&self) -> Option<Field> {
        match self {
            Error::Invalid { field, .. } => *field,
            _ => None,
        }
    }

    /// Attach a field to an `Invalid` error that has none yet.
    pub fn in_field(self, f: Field) -> Error {
        match self {
            Error::Invalid {
                field: None,
                reason,
            } => Error::Invalid {
                field: Some(f),
                reason,
            },
            e => e,
        }
    }
}

impl From<CodeError> for Error {
    fn from(e: CodeError) -> Self {
        Error::Invalid {
            field: None,
            reason: e.to_string(),
        }
    }
}

impl From<PnrError> for Error {
    fn from(e: PnrError) -> Self {
        Error::Invalid {
            field: Some(Field::Pnr),
            reason: e.to_string(),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io {
            path: None,
            message: e.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for an `Error::Invalid` without a field, built with `format!`.
/// Prefer `Error::invalid(Field::X, ...)` where one field is at fault.
#[macro_export]
macro_rules! invalid {
    ($($arg:tt)*) => { $crate::error::Error::usage(format!($($arg)*)) };
}
