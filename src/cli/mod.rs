//! The command line: clap definitions, dispatch and printing.
//!
//! Each command group has its own file; this one holds the argument
//! structs and the dispatcher. Handlers parse what the user typed into
//! domain values (reporting bad values by option name), open the database,
//! call the domain in one transaction and print. No SQL here.
//!
//! Every line the program prints goes through [`say!`] (standard output)
//! or [`tell!`] (standard error), and every data output through [`Output`]:
//! a reader that went away (`sustrack log | head -1`) ends the output
//! quietly, never a panic, and the command still finishes (its audit row
//! included) and exits 0.

/// `println!` that treats a closed standard output as the end of output.
/// Evaluates to `Result<()>`: any other write failure is an error.
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::print_out(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics (standard error may be a closed pipe too).
macro_rules! tell {
    ($($arg:tt)*) => { $crate::cli::print_err(format_args!($($arg)*)) };
}

mod admin;
mod beyond;
mod data;
mod participants;
mod rights;
mod serve;
mod usage;
mod users;

pub use usage::{error_line, usage_error_line};
pub use users::UserCmd;

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::actor::Actor;
use crate::error::{Error, Field, Result};
use crate::identity::{scrub_path, KdfProfile, Personnummer};
use crate::invalid;
use crate::store::Store;

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
    /// Delete an enrolment registered by mistake (felregistrering); a person left with none goes too
    Delete {
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
    /// Withdrawn consent: keep the person's enrolments, counted as before,
    /// but forget who they are (the personnummer finds nothing any more)
    Withdraw {
        /// Personnummer or samordningsnummer (`-` reads it from standard input)
        #[arg(long)]
        pnr: String,
    },
    /// Register extract (registerutdrag): everything stored about a person
    /// and who has looked at or changed it
    Extract {
        /// Personnummer or samordningsnummer (`-` reads it from standard input)
        #[arg(long)]
        pnr: String,
        /// text or html (printable)
        #[arg(long, default_value = "text")]
        format: String,
        /// Write to this new file instead of standard output
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Retention (gallring): delete the enrolments that ended before a
    /// date and reduce old audit entries to counts
    Purge {
        /// Delete enrolments whose exit date is before this date (YYYY-MM-DD)
        #[arg(long, value_name = "DATE")]
        ended_before: String,
        /// Audit entries older than this many months are reduced to counts
        #[arg(long, value_name = "N", default_value_t = crate::rights::purge::AUDIT_MONTHS)]
        audit_months: u32,
        /// Show what would be deleted; delete nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Store a period's report as published (all figures, when, by whom)
    Publish {
        #[command(flatten)]
        period: PublishPeriod,
        /// Publish a period again (the earlier version is kept)
        #[arg(long)]
        force: bool,
    },
    /// Head counts for volume interventions
    #[command(subcommand)]
    Volume(VolumeCmd),
    /// Activities that reach people without an enrolment (competence days, network meetings)
    #[command(subcommand)]
    Activity(ActivityCmd),
    /// Referrals (remisser, ansökningar) and what became of them
    #[command(subcommand)]
    Referral(ReferralCmd),
    /// Budget and actual cost per intervention and year
    #[command(subcommand)]
    Budget(BudgetCmd),
    /// Targets per year, for an intervention or the förbund's total
    #[command(subcommand)]
    Target(TargetCmd),
    /// The förbund's own indicators (success = an exit outcome in a set)
    #[command(subcommand)]
    Indicator(IndicatorCmd),
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
    /// Check integrity and consistency; with --quality, list what needs
    /// attention (long-open enrolments, missing answers, idle interventions)
    Check {
        /// The data-quality list instead (by enrolment id, never a person)
        #[arg(long)]
        quality: bool,
        /// Language of the quality list: sv or en
        #[arg(long, default_value = "sv", requires = "quality")]
        lang: String,
    },
    /// Write a consistent copy of the database while others may be writing
    Backup { file: PathBuf },
    /// Show the 2021 report of the sample data (nothing is left on disk)
    Demo {
        #[arg(long, default_value = "sv")]
        lang: String,
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// The server's users: add, list, disable, reset, grant, revoke
    #[command(subcommand)]
    User(UserCmd),
    /// Create a synthetic register for training and benchmarks
    Generate {
        #[arg(long)]
        enrolments: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Profile new registrations in the file hash with (`default` to
        /// measure the server as it runs for real)
        #[arg(long, default_value = "test", value_parser = ["default", "test"])]
        kdf: String,
    },
    /// Run the web front end for staff and coordinators (SPEC section 11)
    Serve(ServeArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The address users reach, e.g. https://sustrack.example.se behind a reverse proxy
    #[arg(long)]
    pub public_url: Option<String>,
    /// TLS certificate chain (PEM)
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// Sample data in a temporary database with a demo user per role
    #[arg(long)]
    pub demo: bool,
    /// The förbund's public age key (age1...) web backups are encrypted to; its private half is kept offline
    #[arg(long)]
    pub backup_recipient: Option<String>,
    /// Where users report accessibility problems (an e-mail address or a web page), shown in the accessibility statement
    #[arg(long)]
    pub contact: Option<String>,
    /// Sign-in with e-legitimation: the OpenID Connect issuer of the förbund's broker (https://...)
    #[arg(long, value_name = "URL", requires_all = ["oidc_client_id", "oidc_client_secret_file"])]
    pub oidc_issuer: Option<String>,
    /// The client id the broker gave sustrack
    #[arg(long, value_name = "ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// A file whose first line is the client secret (owner-readable only; never on the command line)
    #[arg(long, value_name = "FILE", requires = "oidc_issuer")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Extra authorization parameters for the broker, e.g. "acr_values=http://id.elegnamnden.se/loa/1.0/loa3"
    #[arg(long, value_name = "PARAMS", requires = "oidc_issuer")]
    pub oidc_extra_params: Option<String>,
    /// An accepted authentication context (acr); repeat for several. Without it any is accepted
    #[arg(long = "oidc-acr", value_name = "ACR", requires = "oidc_issuer")]
    pub oidc_acr: Vec<String>,
    /// Seconds to wait for the broker on each call
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        requires = "oidc_issuer"
    )]
    pub oidc_timeout: u64,
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
pub enum TargetCmd {
    /// Set a year's targets (without --intervention: the förbund's own target for the total)
    Set {
        #[arg(long)]
        intervention: Option<String>,
        #[arg(long)]
        year: i32,
        /// Target share to work or studies, percent
        #[arg(long, value_name = "PCT")]
        work_or_studies: Option<String>,
        /// Target share with step progress, percent
        #[arg(long, value_name = "PCT")]
        step: Option<String>,
        /// Target share with improved quality of life, percent
        #[arg(long, value_name = "PCT")]
        qol: Option<String>,
        /// A förbund-defined indicator's target, ID=PCT; may repeat
        #[arg(long = "indicator", value_name = "ID=PCT")]
        indicators: Vec<String>,
    },
    /// List the targets set per year
    List,
}

#[derive(Subcommand, Debug)]
pub enum IndicatorCmd {
    /// Add an indicator: success is an exit outcome in --outcomes, of everyone who exited
    Add {
        /// Id, e.g. work_studies_or_seeking (lower-case letters, digits, _)
        id: String,
        /// Exit outcomes that count as success, e.g. work,studies,job_seeking
        #[arg(long)]
        outcomes: String,
        /// What it measures, in Swedish ("till arbete, studier eller arbetssökande")
        #[arg(long)]
        label_sv: String,
        /// What it measures, in English
        #[arg(long)]
        label_en: String,
        /// Standing target, percent
        #[arg(long, value_name = "PCT")]
        target: Option<String>,
    },
    /// List the förbund's own indicators
    List,
}

#[derive(Subcommand, Debug)]
pub enum ActivityCmd {
    /// Register one occasion with its head counts (no names, no personnummer)
    Add {
        #[arg(long)]
        intervention: String,
        /// YYYY-MM-DD
        #[arg(long)]
        date: String,
        /// seminar, training, network, information or other
        #[arg(long)]
        kind: String,
        #[arg(long, default_value_t = 0)]
        women: u32,
        #[arg(long, default_value_t = 0)]
        men: u32,
        /// Attendees whose gender is not known
        #[arg(long, default_value_t = 0)]
        unknown: u32,
        /// How many organisations took part
        #[arg(long)]
        organisations: Option<u32>,
    },
    /// The intervention's activities of the last twelve months, newest first
    List {
        #[arg(long)]
        intervention: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReferralCmd {
    /// Register a referral received; prints its id (never a personnummer)
    Add {
        #[arg(long)]
        intervention: String,
        /// The day it was received, YYYY-MM-DD
        #[arg(long)]
        date: String,
        #[arg(long)]
        gender: String,
        #[arg(long)]
        birth_year: Option<String>,
        #[arg(long)]
        municipality: Option<String>,
        /// af, fk, municipality, region, self or other
        #[arg(long)]
        referrer: Option<String>,
    },
    /// Record what became of a referral (once)
    Decide {
        /// The referral's id or a unique prefix
        referral: String,
        /// started, declined, returned (återremiss) or withdrawn
        #[arg(long)]
        decision: String,
        #[arg(long)]
        date: String,
        /// The enrolment it became (needed for started)
        #[arg(long)]
        enrolment: Option<String>,
    },
    /// The intervention's referrals without a decision, oldest first
    List {
        #[arg(long)]
        intervention: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum BudgetCmd {
    /// Set or revise an intervention's budget (and actual cost) for a year, in kronor
    Set {
        #[arg(long)]
        intervention: String,
        #[arg(long)]
        year: i32,
        #[arg(long)]
        budget: String,
        /// The actual cost, once the year's accounts are closed
        #[arg(long)]
        actual: Option<String>,
    },
    /// The budget lines of a year (default: this year)
    List {
        #[arg(long)]
        year: Option<i32>,
    },
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
    /// Municipality of residence at start: a kommun's name or its kommunkod, e.g. Vänersborg or 1487
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
    /// Move the enrolment to another intervention (same rules as a start there)
    #[arg(long)]
    pub intervention: Option<String>,
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

/// The period `publish` stores.
#[derive(Args, Debug)]
pub struct PublishPeriod {
    /// Calendar year
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub year: Option<i32>,
    /// First day (inclusive), YYYY-MM-DD
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day (inclusive), YYYY-MM-DD
    #[arg(long, requires = "from")]
    pub to: Option<String>,
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
    /// Also show every figure for this year ("jmf 2020")
    #[arg(long, value_name = "YEAR", conflicts_with_all = ["compare_from", "compare_to"])]
    pub compare: Option<i32>,
    /// First day of a comparison period (inclusive)
    #[arg(long, value_name = "DATE", requires = "compare_to")]
    pub compare_from: Option<String>,
    /// Last day of a comparison period (inclusive)
    #[arg(long, value_name = "DATE", requires = "compare_from")]
    pub compare_to: Option<String>,
    /// Write to this new file instead of standard output (`-`: standard output)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print the figures as published (`sustrack publish`), not as they are now
    #[arg(long)]
    pub published: bool,
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
    /// Write to this new file instead of standard output (`-`: standard output)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists
    #[arg(long, requires = "out")]
    pub force: bool,
}

impl Command {
    /// The command as the user types it: names it in messages, and picks
    /// the flag a domain field maps to ([`usage::flag`]).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Init { .. } => "init",
            Command::Intervention(InterventionCmd::Add { .. }) => "intervention add",
            Command::Intervention(InterventionCmd::List) => "intervention list",
            Command::Start(_) => "start",
            Command::Exit(_) => "exit",
            Command::Edit(_) => "edit",
            Command::Reopen { .. } => "reopen",
            Command::Delete { .. } => "delete",
            Command::Show(_) => "show",
            Command::Erase { .. } => "erase",
            Command::Withdraw { .. } => "withdraw",
            Command::Extract { .. } => "extract",
            Command::Purge { .. } => "purge",
            Command::Publish { .. } => "publish",
            Command::Volume(_) => "volume add",
            Command::Activity(ActivityCmd::Add { .. }) => "activity add",
            Command::Activity(ActivityCmd::List { .. }) => "activity list",
            Command::Referral(ReferralCmd::Add { .. }) => "referral add",
            Command::Referral(ReferralCmd::Decide { .. }) => "referral decide",
            Command::Referral(ReferralCmd::List { .. }) => "referral list",
            Command::Budget(BudgetCmd::Set { .. }) => "budget set",
            Command::Budget(BudgetCmd::List { .. }) => "budget list",
            Command::Target(TargetCmd::Set { .. }) => "target set",
            Command::Target(TargetCmd::List) => "target list",
            Command::Indicator(IndicatorCmd::Add { .. }) => "indicator add",
            Command::Indicator(IndicatorCmd::List) => "indicator list",
            Command::Import { .. } => "import",
            Command::Report(_) => "report",
            Command::Export(_) => "export",
            Command::Keygen { .. } => "keygen",
            Command::Log { .. } => "log",
            Command::Check { .. } => "check",
            Command::Backup { .. } => "backup",
            Command::Demo { .. } => "demo",
            Command::Generate { .. } => "generate",
            Command::Serve(_) => "serve",
            Command::User(c) => c.name(),
        }
    }
}

/// What a command needs of the database file (SPEC section 11: on a
/// read-only file, `check`, `intervention list` and `log` work; commands
/// that show participant data refuse, since the read cannot be recorded).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    AuditedRead,
    Write,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let actor = actor(cli.by.as_deref())?;
    let db_path = cli.db.as_path();
    let name = cli.command.name();
    let open = |access| open(db_path, &actor, name, access);
    use Access::*;
    match cli.command {
        Command::Init { kdf } => admin::init(db_path, &actor, &kdf),
        Command::Intervention(c @ InterventionCmd::List) => {
            admin::intervention(&mut open(Read)?, c)
        }
        Command::Intervention(c) => admin::intervention(&mut open(Write)?, c),
        Command::Start(a) => participants::start(&mut open(Write)?, a),
        Command::Exit(a) => participants::exit(&mut open(Write)?, a),
        Command::Edit(a) => participants::edit(&mut open(Write)?, a),
        Command::Reopen { enrolment } => participants::reopen(&mut open(Write)?, &enrolment),
        Command::Delete { enrolment } => participants::delete(&mut open(Write)?, &enrolment),
        Command::Show(a) => participants::show(&mut open(AuditedRead)?, a),
        Command::Erase { pnr } => participants::erase(&mut open(Write)?, &pnr),
        Command::Withdraw { pnr } => rights::withdraw(&mut open(Write)?, &pnr),
        Command::Extract { pnr, format, out } => {
            rights::extract(&mut open(AuditedRead)?, &pnr, &format, out.as_deref())
        }
        Command::Purge {
            ended_before,
            audit_months,
            dry_run,
        } => rights::purge(&mut open(Write)?, &ended_before, audit_months, dry_run),
        Command::Publish { period, force } => rights::publish(&mut open(Write)?, &period, force),
        Command::Volume(c) => participants::volume(&mut open(Write)?, c),
        Command::Activity(c) => beyond::activity(&mut open(Write)?, c),
        Command::Referral(c) => beyond::referral(&mut open(Write)?, c),
        Command::Budget(c @ BudgetCmd::List { .. }) => beyond::budget(&mut open(Read)?, c),
        Command::Budget(c) => beyond::budget(&mut open(Write)?, c),
        Command::Target(c @ TargetCmd::List) => admin::target(&mut open(Read)?, c),
        Command::Target(c) => admin::target(&mut open(Write)?, c),
        Command::Indicator(c @ IndicatorCmd::List) => admin::indicator(&mut open(Read)?, c),
        Command::Indicator(c) => admin::indicator(&mut open(Write)?, c),
        Command::Import { file, dry_run } => data::import(&mut open(Write)?, &file, dry_run),
        Command::Report(a) => data::report(&mut open(AuditedRead)?, a),
        Command::Export(a) => data::export(&mut open(AuditedRead)?, a),
        Command::Keygen { file } => data::keygen(&file),
        Command::Log { limit } => admin::log(&mut open(Read)?, limit),
        Command::Check {
            quality: true,
            lang,
        } => rights::quality(&mut open(Write)?, &lang),
        Command::Check { .. } => admin::check(&open(Read)?),
        Command::Backup { file } => admin::backup(&mut open(AuditedRead)?, &file),
        Command::Demo { lang, format } => data::demo(&lang, &format),
        Command::Generate {
            enrolments,
            seed,
            kdf,
        } => data::generate(db_path, &actor, enrolments, seed, &kdf),
        Command::Serve(a) => serve::serve(db_path, &actor, a),
        Command::User(c) => {
            let access = if c.writes() { Write } else { Read };
            users::run(&mut open(access)?, c)
        }
    }
}

/// What a command that uses the database works with: the opened store,
/// one connection, and the actor its changes and reads are recorded for.
pub(crate) struct Ctx {
    pub store: Store,
    pub conn: rusqlite::Connection,
    pub actor: Actor,
}

impl Ctx {
    /// One write transaction (see [`crate::store::write`]).
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction, &Actor) -> Result<T>,
    ) -> Result<T> {
        let actor = &self.actor;
        crate::store::write(&mut self.conn, |tx| f(tx, actor))
    }
}

/// Open the database for a command; refuse up front what a read-only file
/// cannot do, and warn when it uses the test KDF profile.
fn open(path: &Path, actor: &Actor, command: &str, access: Access) -> Result<Ctx> {
    let store = Store::open(path, actor)?;
    if store.read_only() && access != Access::Read {
        let shown = scrub_path(path);
        return Err(Error::Database(match access {
            Access::AuditedRead => format!(
                "{shown} is read-only, so this read could not be recorded in the audit trail, and `{command}` shows participant data only when it can record who saw it; ask the file's owner for write access (check, intervention list and log work on a read-only file)"
            ),
            _ => format!(
                "{shown} is read-only: `{command}` changes the register; ask the file's owner for write access (e.g. `chmod u+w {shown}` as its owner) or work on a writable copy"
            ),
        }));
    }
    let conn = store.connect()?;
    let db = Ctx {
        store,
        conn,
        actor: actor.clone(),
    };
    if db.store.kdf().profile == KdfProfile::Test {
        tell!(
            "warning: {} uses the test KDF profile (weak hashing); it is for tests and generated data, never for real data",
            scrub_path(path)
        );
    }
    Ok(db)
}

/// Who the audit trail records: the OS account (SPEC section 11: the CLI
/// acts as the file's owner, `cli:anna`), with `--by NAME` as a claim
/// beside it (`cli:anna (by Eva)`), since anyone can type any name.
fn actor(by: Option<&str>) -> Result<Actor> {
    let account = os_account();
    let login = match by {
        Some(name) => {
            let name = name.trim();
            if !is_user_name(name) {
                return Err(Error::invalid(
                    Field::By,
                    "expected a user name (letters, digits, space, . _ - @; at most 64 characters, fewer than ten digits)",
                ));
            }
            format!("cli:{account} (by {name})")
        }
        None => format!("cli:{account}"),
    };
    Ok(Actor::owner(login))
}

fn is_user_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || " ._-@".contains(c))
        && !crate::identity::could_hold_pnr(name)
}

/// The OS account: `$USER`, `$LOGNAME`, else the name of the process's
/// uid in the user database, else the uid itself. A value that is no
/// plausible user name (it could even be a personnummer) is passed over.
fn os_account() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .chain(account_of_uid())
        .find(|n| is_user_name(n))
        .unwrap_or_else(|| format!("uid {}", current_uid()))
}

#[cfg(unix)]
fn current_uid() -> u32 {
    // SAFETY: getuid has no preconditions and cannot fail.
    unsafe { libc::getuid() }
}

#[cfg(not(unix))]
fn current_uid() -> u32 {
    0
}

/// The user name of this process's uid, through the C library so that
/// accounts from LDAP or a domain (NSS), not only /etc/passwd, are found.
#[cfg(unix)]
fn account_of_uid() -> Option<String> {
    let uid = current_uid();
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: all-zero is a valid `passwd` (null pointers, zero ids); it is
    // only read after getpwuid_r reports success.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf` outlives the
    // strings that `pwd` points into, which are copied out below.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success pw_name is a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    name.to_str().ok().map(str::to_string)
}

#[cfg(not(unix))]
fn account_of_uid() -> Option<String> {
    None
}

/// Today's local date: the limit for "not in the future".
pub fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Read a personnummer argument; `-` reads one line from standard input so
/// the number stays out of shell history and the process list.
fn read_pnr(arg: &str) -> Result<Personnummer> {
    if arg == "-" {
        use std::io::{BufRead, Read};
        // Cleared when dropped; at most one short line is read (a
        // personnummer is 13 characters; stdin may be /dev/zero).
        let mut line = zeroize::Zeroizing::new(String::new());
        std::io::BufReader::new(std::io::stdin().lock().take(64)).read_line(&mut line)?;
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

/// Set once standard output is a closed pipe: nothing more is written there.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

fn quiet_on_broken_pipe(r: std::io::Result<()>) -> std::io::Result<()> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        r => r,
    }
}

/// One line to standard output (see [`say!`]).
pub(crate) fn print_out(args: fmt::Arguments) -> Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    quiet_on_broken_pipe(writeln!(out, "{args}").and_then(|_| out.flush()))
        .map_err(|e| Error::io_text(format!("cannot write to standard output: {e}")))
}

/// One line to standard error (see [`tell!`]); a failure there has nowhere
/// to be reported, so it is ignored.
pub fn print_err(args: fmt::Arguments) {
    let _ = writeln!(std::io::stderr().lock(), "{args}");
}

/// Write the whole output at once to standard output.
fn emit(out: Option<&Path>, bytes: &[u8]) -> Result<()> {
    let mut o = Output::new(out, false, None)?;
    o.write_all(bytes)?;
    o.finish()
}

/// Where a command's output goes. A file is written to a temporary file
/// beside it (owner-only) and renamed into place by `finish`, so a failed
/// command never leaves a half-written file. On stdout a closed pipe
/// (`sustrack report | head`) ends the output quietly.
pub(crate) enum Output {
    File {
        tmp: tempfile::NamedTempFile,
        path: PathBuf,
        force: bool,
    },
    Stdout(std::io::BufWriter<std::io::Stdout>),
}

impl Output {
    /// Standard output for no path or `-`; else a new regular file. Refused
    /// before anything is written: the open database or its `-wal`/`-shm`/
    /// `-journal` (by name or by inode, so links are caught), anything that
    /// is not a regular file (a directory, device, FIFO, socket), and an
    /// existing file unless `force`.
    pub(crate) fn new(out: Option<&Path>, force: bool, db: Option<&Path>) -> Result<Output> {
        let p = match out {
            None => return Ok(Output::Stdout(std::io::BufWriter::new(std::io::stdout()))),
            Some(p) if p.as_os_str() == "-" => {
                return Ok(Output::Stdout(std::io::BufWriter::new(std::io::stdout())))
            }
            Some(p) => p,
        };
        let shown = scrub_path(p);
        let refuse =
            |why: &str| Error::invalid(Field::Out, format!("{shown} {why}; nothing was written"));
        if p.as_os_str().is_empty() || p.file_name().is_none() {
            return Err(Error::invalid(Field::Out, "expected a file name"));
        }
        if let Some(db) = db {
            if is_database_file(p, db) {
                return Err(refuse(
                    "is the open database or one of its files; choose another file name",
                ));
            }
        }
        match std::fs::symlink_metadata(p) {
            Ok(_) => {
                let target = std::fs::metadata(p);
                if let Ok(m) = &target {
                    if !m.is_file() {
                        return Err(refuse(
                            "is not a regular file (a directory, device or pipe); --out writes a file: give a file name, or leave --out out to write to standard output",
                        ));
                    }
                }
                if !force {
                    return Err(refuse(
                        "already exists; give --force to replace it, or choose another file name",
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(p, e)),
        }
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| Error::io_text(format!("cannot write in {}: {e}", scrub_path(dir))))?;
        Ok(Output::File {
            tmp,
            path: p.to_path_buf(),
            force,
        })
    }

    pub(crate) fn finish(self) -> Result<()> {
        match self {
            Output::File {
                mut tmp,
                path,
                force,
            } => {
                tmp.flush()?;
                tmp.as_file().sync_all()?;
                // Without --force a file that appeared meanwhile is kept.
                let r = if force {
                    tmp.persist(&path).map(|_| ())
                } else {
                    tmp.persist_noclobber(&path).map(|_| ())
                };
                r.map_err(|e| {
                    Error::io_text(format!("cannot write {}: {}", scrub_path(&path), e.error))
                })
            }
            Output::Stdout(mut w) => Ok(quiet_on_broken_pipe(w.flush())?),
        }
    }
}

/// True when `out` names the database at `db` or one of SQLite's files
/// beside it, whether or not they exist yet.
fn is_database_file(out: &Path, db: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let sidecars = ["", "-wal", "-shm", "-journal"];
    let with = |p: &Path, suffix: &str| {
        let mut s = p.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    // Same inode: the file itself, a hard link, or a symbolic link to it.
    if let Ok(o) = std::fs::metadata(out) {
        for suffix in sidecars {
            if let Ok(d) = std::fs::metadata(with(db, suffix)) {
                if (o.dev(), o.ino()) == (d.dev(), d.ino()) {
                    return true;
                }
            }
        }
    }
    // Same name in the same directory (a sidecar that does not exist yet).
    let canonical = |p: &Path| -> Option<PathBuf> {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Some(dir.canonicalize().ok()?.join(p.file_name()?))
    };
    match (canonical(out), canonical(db)) {
        (Some(o), Some(d)) => sidecars.iter().any(|s| o == with(&d, s)),
        _ => false,
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::File { tmp, .. } => tmp.write(buf),
            Output::Stdout(_) if STDOUT_CLOSED.load(Ordering::Relaxed) => Ok(buf.len()),
            // The reader went away: swallow the rest quietly.
            Output::Stdout(w) => quiet_on_broken_pipe(w.write_all(buf)).map(|_| buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::File { tmp, .. } => tmp.flush(),
            Output::Stdout(_) if STDOUT_CLOSED.load(Ordering::Relaxed) => Ok(()),
            Output::Stdout(w) => quiet_on_broken_pipe(w.flush()),
        }
    }
}
