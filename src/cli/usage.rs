//! The CLI's words for errors: one line `error: ...` for clap's usage
//! errors (rendered here from the error's kind and context, not clap's
//! several-line text), and the flag each domain [`Field`] is typed as.
//!
//! Everything here passes through `identity::scrub`: clap quotes what the
//! user typed, which may be a personnummer in the wrong place.

use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::error::{Error, Field};
use crate::identity::scrub;

/// The flag (or positional argument) through which `command` takes
/// `field`. Most fields are `--` and their name in kebab case; the
/// exceptions are the fields a command takes under another name.
pub fn flag(command: &str, field: Field) -> String {
    match (command, field) {
        ("start", Field::StartDate) | ("exit", Field::ExitDate) => "--date".into(),
        ("exit" | "show", Field::Enrolment) => "--id".into(),
        ("referral decide", Field::Enrolment) => "--enrolment".into(),
        ("referral decide", Field::Referral) => "REFERRAL".into(),
        (_, Field::Enrolment) => "ENROLMENT".into(),
        ("intervention add", Field::Code) => "CODE".into(),
        ("indicator add", Field::Indicator) => "ID".into(),
        ("import" | "keygen" | "backup", Field::Out | Field::KeyFile) => "FILE".into(),
        (c, Field::Login) if c.starts_with("user ") => "LOGIN".into(),
        (c, Field::Role) if c.starts_with("user ") => "--role".into(),
        // Fields only an import file or the server has keep their name.
        (
            _,
            Field::LocalId
            | Field::Event
            | Field::Login
            | Field::Role
            | Field::Password
            | Field::PasswordAgain
            | Field::Totp,
        ) => field.name().into(),
        (_, f) => format!("--{}", f.name().replace('_', "-")),
    }
}

/// The one line main prints for a failed command (without `error: `):
/// `--flag reason` when one field was wrong (domain reasons are written to
/// read after the field's name), else the message.
pub fn error_line(command: &str, e: &Error) -> String {
    let text = match e {
        Error::Invalid {
            field: Some(f),
            reason,
        } => format!("{} {}", flag(command, *f), scrub(reason)),
        // rusqlite quotes the whole SQL text of a failing batch.
        Error::Sqlite(rusqlite::Error::SqlInputError { msg, .. }) => {
            format!("database error: {}", scrub(msg))
        }
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ReadOnly =>
        {
            "the database file is read-only for this account; ask its owner for write access or work on a writable copy".into()
        }
        e => e.to_string(),
    };
    one_line(&text)
}

/// clap's error as one line (without `error: `), naming the fix and the
/// help to read. `None` for help and version, which clap prints itself.
pub fn usage_error_line(e: &clap::Error) -> Option<String> {
    let kind = e.kind();
    if matches!(
        kind,
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let get = |k: ContextKind| -> Option<String> {
        match e.get(k)? {
            ContextValue::String(s) => Some(s.clone()),
            ContextValue::Strings(v) => Some(v.join(", ")),
            ContextValue::StyledStr(s) => Some(s.to_string()),
            ContextValue::StyledStrs(v) => Some(
                v.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ContextValue::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let strings = |k: ContextKind| -> Vec<String> {
        match e.get(k) {
            Some(ContextValue::Strings(v)) => v.clone(),
            Some(ContextValue::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    // "--k <K>" -> "--k"
    let bare = |a: String| a.split_whitespace().next().unwrap_or_default().to_string();
    let arg = get(ContextKind::InvalidArg).map(bare);
    let value = get(ContextKind::InvalidValue);
    let suggested = get(ContextKind::SuggestedArg)
        .or_else(|| get(ContextKind::SuggestedValue))
        .or_else(|| get(ContextKind::SuggestedSubcommand));
    let did_you_mean = suggested
        .map(|s| format!("; did you mean {}?", bare(s)))
        .unwrap_or_default();
    let line = match (kind, arg, value) {
        (ErrorKind::UnknownArgument, Some(a), _) if a.starts_with('-') => {
            format!("unknown option {a}{did_you_mean}")
        }
        (ErrorKind::UnknownArgument, Some(a), _) => {
            format!("unexpected argument '{a}'{did_you_mean}")
        }
        (ErrorKind::InvalidSubcommand, _, _) => format!(
            "unknown command '{}'{did_you_mean}",
            get(ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        (ErrorKind::InvalidValue, Some(a), Some(v)) if v.is_empty() => {
            format!("{a} needs a value")
        }
        (ErrorKind::InvalidValue, Some(a), Some(v)) => {
            let valid = strings(ContextKind::ValidValue);
            let accepted = if valid.is_empty() {
                String::new()
            } else {
                format!(": accepted are {}", valid.join(", "))
            };
            format!("invalid {a} '{v}'{accepted}{did_you_mean}")
        }
        (ErrorKind::ValueValidation, Some(a), Some(v)) => {
            let why = std::error::Error::source(e)
                .map(|s| number_reason(&s.to_string()))
                .unwrap_or_else(|| "not accepted".into());
            format!("invalid {a} '{v}': {why}")
        }
        (ErrorKind::MissingRequiredArgument, _, _) => format!(
            "missing {}",
            strings(ContextKind::InvalidArg)
                .into_iter()
                .map(bare)
                .collect::<Vec<_>>()
                .join(" and ")
        ),
        (ErrorKind::ArgumentConflict, Some(a), _) => match get(ContextKind::PriorArg).map(bare) {
            Some(prior) if prior == *a => format!("{a} is given twice; give it once"),
            Some(prior) => format!("{a} cannot be used with {prior}"),
            None => format!("{a} cannot be used here"),
        },
        (ErrorKind::MissingSubcommand, _, _) => "a command is missing".into(),
        (ErrorKind::InvalidUtf8, _, _) => "an argument is not valid UTF-8".into(),
        // Anything else: clap's own first line.
        _ => e
            .render()
            .to_string()
            .lines()
            .next()
            .unwrap_or("invalid usage")
            .trim_start_matches("error: ")
            .to_string(),
    };
    let help = command_path(e)
        .map(|c| format!(" (see `{c} --help`)"))
        .unwrap_or_default();
    Some(one_line(&format!("{line}{help}")))
}

/// clap's reason for a number it could not take, in the user's terms.
fn number_reason(source: &str) -> String {
    // "5000000000 is not in 0..=4294967295"
    if let Some((_, range)) = source.split_once(" is not in ") {
        if let Some((lo, hi)) = range.split_once("..=") {
            return format!("expected a whole number from {lo} to {hi}");
        }
    }
    if source.contains("invalid digit") || source.contains("empty string") {
        return "expected a whole number".into();
    }
    source.to_string()
}

/// `sustrack report` from the usage line clap attaches, so the hint names
/// the help of the command that was typed.
fn command_path(e: &clap::Error) -> Option<String> {
    let usage = match e.get(ContextKind::Usage)? {
        ContextValue::StyledStr(s) => s.to_string(),
        _ => return None,
    };
    let words: Vec<&str> = usage
        .trim_start()
        .trim_start_matches("Usage:")
        .split_whitespace()
        .take_while(|w| !w.starts_with(['-', '[', '<']))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Masked and on one line, whatever the message held.
fn one_line(text: &str) -> String {
    scrub(text)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_map_to_the_flag_of_each_command() {
        assert_eq!(flag("start", Field::Date), "--date");
        assert_eq!(flag("start", Field::StartDate), "--date");
        assert_eq!(flag("edit", Field::StartDate), "--start-date");
        assert_eq!(flag("edit", Field::ExitDate), "--exit-date");
        assert_eq!(flag("exit", Field::ExitDate), "--date");
        assert_eq!(flag("start", Field::BirthYear), "--birth-year");
        assert_eq!(flag("exit", Field::Enrolment), "--id");
        assert_eq!(flag("edit", Field::Enrolment), "ENROLMENT");
        assert_eq!(flag("report", Field::MonthsBand), "--months-band");
        assert_eq!(flag("export", Field::K), "--k");
        assert_eq!(flag("intervention add", Field::Code), "CODE");
    }
}
