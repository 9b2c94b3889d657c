//! The command line: clap definitions, dispatch and printing.
//!
//! Each command group has its own file; this one holds the argument
//! structs and the dispatcher. Handlers parse what the user typed into
//! domain values (reporting bad values by option name), open the database,
//! call the domain in one transaction and print. No SQL here.

mod admin;
mod data;
mod participants;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::identity::{KdfProfile, Personnummer};
use crate::invalid;
use crate::store::Db;

#[derive(Parser, Debug)]
#[command(
    name = "sustrack",
    version,
    about = "Participant follow-up for samordningsförbund: registrations, annual-report tables, pseudonymised exports",
    after_help = "Exit codes: 0 success, 1 failure (database, file system), 2 bad usage or invalid input.\n\
                  Start with `sustrack demo` to see the yearly report on sample data."
)]
pub struct Cli {
    /// Database file
    #[arg(
        long,
        global = true,
        env = "SUSTRACK_DB",
        default_value = "sustrack.db"
    )]
    pub db: PathBuf,
    /// Name recorded in the audit trail instead of the OS user
    #[arg(long, global = true)]
    pub by: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a new, empty database (owner-only permissions)
    Init {
        /// Key-derivation profile: `default` for real data, `test` only for tests and generated data
        #[arg(long, default_value = "default", value_parser = ["default", "test"])]
        kdf: String,
    },
    /// Add or list interventions (insatser)
    #[command(subcommand)]
    Intervention(InterventionCmd),
    /// Register a participant's start in an intervention; prints the enrolment id
    Start(StartArgs),
    /// Register an exit (avslut)
    Exit(ExitArgs),
    /// Correct a registered enrolment
    Edit(EditArgs),
    /// Undo an exit
    Reopen {
        /// Enrolment id (or a unique prefix of at least 6 characters)
        enrolment: String,
    },
    /// Show a person's enrolments, or one enrolment
    Show(ShowArgs),
    /// Erase a person and all their enrolments (right to erasure)
    Erase {
        /// Personnummer or samordningsnummer (`-` reads it from standard input)
        #[arg(long)]
        pnr: String,
    },
    /// Head counts for volume interventions
    #[command(subcommand)]
    Volume(VolumeCmd),
    /// Import registrations (or interventions, or volumes) from a CSV file
    Import {
        file: PathBuf,
        /// Validate and report, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// The tables and indicators of the annual report
    Report(ReportArgs),
    /// Pseudonymised CSV for evaluators, one row per enrolment
    Export(ExportArgs),
    /// Create a key file for stable export pseudonyms
    Keygen { file: PathBuf },
    /// Show the audit trail, newest first
    Log {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Check integrity and consistency
    Check,
    /// Write a consistent copy of the database while others may be writing
    Backup { file: PathBuf },
    /// Show the 2021 report of the sample data (nothing is left on disk)
    Demo {
        #[arg(long, default_value = "sv")]
        lang: String,
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Create a synthetic register for training and benchmarks
    Generate {
        #[arg(long)]
        enrolments: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum InterventionCmd {
    /// Add an intervention
    Add {
        /// Short code, e.g. ALLIN (A-Z, 0-9, _ and -)
        code: String,
        #[arg(long)]
        name: String,
        /// Parent intervention (e.g. an ESF project for its sub-interventions)
        #[arg(long)]
        parent: Option<String>,
        /// `individual` (enrolments) or `volume` (head counts per month)
        #[arg(long, default_value = "individual")]
        kind: String,
        /// Target share to work or studies, percent
        #[arg(long, value_name = "PCT")]
        target_work_studies: Option<String>,
        /// Target share with step progress, percent
        #[arg(long, value_name = "PCT")]
        target_step: Option<String>,
        /// Target share with improved quality of life, percent
        #[arg(long, value_name = "PCT")]
        target_qol: Option<String>,
    },
    /// List interventions
    List,
}

#[derive(Subcommand, Debug)]
pub enum VolumeCmd {
    /// Register head counts for one month
    Add {
        #[arg(long)]
        intervention: String,
        /// YYYY-MM
        #[arg(long)]
        month: String,
        #[arg(long)]
        women: u32,
        #[arg(long)]
        men: u32,
        /// Overwrite counts already registered for that month
        #[arg(long)]
        replace: bool,
    },
}

/// The facts recorded at start; shared by `start` and `edit`.
#[derive(Args, Debug, Default)]
pub struct StartFactArgs {
    /// Municipality of residence at start (kommun)
    #[arg(long)]
    pub municipality: Option<String>,
    /// Support at start (e.g. sickness_benefit, Försörjningsstöd)
    #[arg(long)]
    pub support: Option<String>,
    /// Years in public support before start: 0-1, 1-3, 3-6, 6-9, 9+, na
    #[arg(long, value_name = "BAND")]
    pub years_in_support: Option<String>,
    /// compulsory, upper_secondary, post_secondary, none_or_unknown
    #[arg(long)]
    pub education: Option<String>,
    /// af, fk, municipality, region, self, other
    #[arg(long)]
    pub referrer: Option<String>,
}

/// The facts recorded at exit besides the outcome; shared by `exit` and `edit`.
#[derive(Args, Debug, Default)]
pub struct ExitFactArgs {
    /// Support after exit
    #[arg(long)]
    pub support_after: Option<String>,
    /// yes, no, unknown
    #[arg(long)]
    pub step_progress: Option<String>,
    /// improved, unchanged, worse, unknown
    #[arg(long)]
    pub quality_of_life: Option<String>,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    #[arg(long)]
    pub intervention: String,
    /// Personnummer or samordningsnummer (`-` reads it from standard input)
    #[arg(long, requires = "consent", conflicts_with_all = ["anonymous", "gender", "birth_year"])]
    pub pnr: Option<String>,
    /// The participant has given written consent to registration
    #[arg(long)]
    pub consent: bool,
    /// Register without identity (no consent, or protected identity)
    #[arg(long, requires = "gender")]
    pub anonymous: bool,
    /// woman (K) or man (M); for anonymous participants
    #[arg(long)]
    pub gender: Option<String>,
    /// For anonymous participants, if known
    #[arg(long)]
    pub birth_year: Option<String>,
    /// Start date, YYYY-MM-DD
    #[arg(long)]
    pub date: String,
    #[command(flatten)]
    pub facts: StartFactArgs,
}

#[derive(Args, Debug)]
pub struct ExitArgs {
    #[arg(long, requires = "pnr")]
    pub intervention: Option<String>,
    #[arg(long, requires = "intervention", conflicts_with = "id")]
    pub pnr: Option<String>,
    /// Enrolment id (or a unique prefix of at least 6 characters)
    #[arg(long)]
    pub id: Option<String>,
    /// Exit date, YYYY-MM-DD
    #[arg(long)]
    pub date: String,
    /// work, studies, job_seeking, other_vocational, medical_rehab, sickness_compensation, parental_leave, moved, dropout, other
    #[arg(long)]
    pub outcome: String,
    #[command(flatten)]
    pub facts: ExitFactArgs,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// Enrolment id (or a unique prefix of at least 6 characters)
    pub enrolment: String,
    #[arg(long)]
    pub start_date: Option<String>,
    #[arg(long)]
    pub exit_date: Option<String>,
    #[arg(long)]
    pub outcome: Option<String>,
    /// Anonymous participants only
    #[arg(long)]
    pub gender: Option<String>,
    /// Anonymous participants only; empty clears it
    #[arg(long)]
    pub birth_year: Option<String>,
    #[command(flatten)]
    pub start: StartFactArgs,
    #[command(flatten)]
    pub exit: ExitFactArgs,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    #[arg(long, conflicts_with = "id", required_unless_present = "id")]
    pub pnr: Option<String>,
    #[arg(long)]
    pub id: Option<String>,
}

/// Period selection shared by `report` and `export`.
#[derive(Args, Debug, Clone)]
pub struct PeriodArgs {
    /// Calendar year (YYYY-01-01 to YYYY-12-31)
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub year: Option<i32>,
    /// First day of the period (inclusive)
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day of the period (inclusive)
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Only these interventions (and their children); may repeat
    #[arg(long = "intervention")]
    pub interventions: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// text, csv, md, json, html, xlsx
    #[arg(long, default_value = "text")]
    pub format: String,
    /// sv or en
    #[arg(long, default_value = "sv")]
    pub lang: String,
    /// Hide counts below N (and enough others that none can be recovered)
    #[arg(long, value_name = "N")]
    pub suppress_below: Option<u32>,
    /// Age bands, e.g. 15-29,30-44,45-59,60-74
    #[arg(long, value_name = "LIST")]
    pub age_bands: Option<String>,
    /// Width of the months-in-intervention bands
    #[arg(long, value_name = "N", default_value_t = 6)]
    pub months_band: u32,
    /// Write to this file instead of standard output
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Key file from `sustrack keygen` for pseudonyms that are stable across exports
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Minimum group size in persons over (intervention, gender, age band, municipality, start, exit)
    #[arg(long, default_value_t = 5)]
    pub k: u32,
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let actor = actor(cli.by.as_deref())?;
    let db_path = cli.db.as_path();
    match cli.command {
        Command::Init { kdf } => admin::init(db_path, &actor, &kdf),
        Command::Intervention(c) => admin::intervention(&mut open(db_path, &actor)?, c),
        Command::Start(a) => participants::start(&mut open(db_path, &actor)?, a),
        Command::Exit(a) => participants::exit(&mut open(db_path, &actor)?, a),
        Command::Edit(a) => participants::edit(&mut open(db_path, &actor)?, a),
        Command::Reopen { enrolment } => {
            participants::reopen(&mut open(db_path, &actor)?, &enrolment)
        }
        Command::Show(a) => participants::show(&mut open(db_path, &actor)?, a),
        Command::Erase { pnr } => participants::erase(&mut open(db_path, &actor)?, &pnr),
        Command::Volume(c) => participants::volume(&mut open(db_path, &actor)?, c),
        Command::Import { file, dry_run } => {
            data::import(&mut open(db_path, &actor)?, &file, dry_run)
        }
        Command::Report(a) => data::report(&mut open(db_path, &actor)?, a),
        Command::Export(a) => data::export(&mut open(db_path, &actor)?, a),
        Command::Keygen { file } => data::keygen(&file),
        Command::Log { limit } => admin::log(&open(db_path, &actor)?, limit),
        Command::Check => admin::check(&open(db_path, &actor)?),
        Command::Backup { file } => admin::backup(&mut open(db_path, &actor)?, &file),
        Command::Demo { lang, format } => data::demo(&lang, &format),
        Command::Generate { enrolments, seed } => data::generate(db_path, &actor, enrolments, seed),
    }
}

/// Open the database and warn when it uses the test KDF profile.
fn open(path: &Path, actor: &str) -> Result<Db> {
    let db = Db::open(path, actor)?;
    if db.kdf.profile == KdfProfile::Test {
        eprintln!(
            "warning: {} uses the test KDF profile (weak hashing); it is for tests and generated data, never for real data",
            path.display()
        );
    }
    Ok(db)
}

/// Who the audit trail records.
fn actor(by: Option<&str>) -> Result<String> {
    if let Some(name) = by {
        let name = name.trim();
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || " ._-@".contains(c))
            && !crate::identity::could_hold_pnr(name);
        if !ok {
            return Err(invalid!(
                "invalid --by '{}': expected a user name (letters, digits, space, . _ - @; at most 64 characters, fewer than ten digits)",
                crate::identity::scrub(name)
            ));
        }
        return Ok(name.to_string());
    }
    Ok(std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into()))
}

/// Today's local date: the limit for "not in the future".
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Read a personnummer argument; `-` reads one line from standard input so
/// the number stays out of shell history and the process list.
fn read_pnr(arg: &str) -> Result<Personnummer> {
    if arg == "-" {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(Personnummer::parse(line.trim(), today())?)
    } else {
        Ok(Personnummer::parse(arg, today())?)
    }
}

/// Parse an optional code option, naming the option in errors.
fn opt_code<C: crate::codes::Code>(v: &Option<String>, option: &str) -> Result<Option<C>> {
    v.as_deref()
        .map(|s| {
            C::parse(s).map_err(|e| {
                invalid!(
                    "invalid --{option} '{}': accepted are {}",
                    e.value,
                    e.accepted
                )
            })
        })
        .transpose()
}

/// Write the whole output at once to stdout or a file.
fn emit(out: Option<&Path>, bytes: &[u8]) -> Result<()> {
    let mut o = Output::new(out)?;
    o.write_all(bytes)?;
    o.finish()
}

/// Where a command's output goes. A file is written to a temporary file
/// beside it (owner-only) and renamed into place by `finish`, so a failed
/// command never leaves a half-written file. On stdout a closed pipe
/// (`sustrack report | head`) is not an error.
pub(crate) enum Output {
    File(tempfile::NamedTempFile, PathBuf),
    Stdout(std::io::BufWriter<std::io::Stdout>),
}

impl Output {
    pub(crate) fn new(out: Option<&Path>) -> Result<Output> {
        Ok(match out {
            Some(p) => {
                let dir = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let tmp = tempfile::NamedTempFile::new_in(dir)
                    .map_err(|e| Error::Io(format!("cannot write in {}: {e}", dir.display())))?;
                Output::File(tmp, p.to_path_buf())
            }
            None => Output::Stdout(std::io::BufWriter::new(std::io::stdout())),
        })
    }

    pub(crate) fn finish(self) -> Result<()> {
        match self {
            Output::File(mut tmp, path) => {
                tmp.flush()?;
                tmp.as_file().sync_all()?;
                tmp.persist(&path).map_err(|e| {
                    Error::Io(format!("cannot write {}: {}", path.display(), e.error))
                })?;
                Ok(())
            }
            Output::Stdout(mut w) => match w.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => Ok(r?),
            },
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = match self {
            Output::File(f, _) => f.write(buf),
            Output::Stdout(w) => w.write(buf),
        };
        match r {
            // The reader went away: swallow the rest quietly.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            r => r,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::File(f, _) => f.flush(),
            Output::Stdout(w) => match w.flush() {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => r,
            },
        }
    }
}
