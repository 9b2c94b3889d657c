//! Importing spreadsheets (SPEC section 7).
//!
//! Files come from Excel and LibreOffice, so reading is forgiving: UTF-8
//! with or without BOM, UTF-16 with BOM, or Windows-1252 (Swedish Excel's
//! plain "CSV"); `,`, `;` or tab, sniffed from the header line; CRLF; quoted
//! fields; blank lines and trailing empty columns; Swedish or English
//! header names and code labels.
//!
//! Eight kinds of file are recognised by their header: activities
//! (`intervention,date,kind,women,men[,unknown,organisations]`),
//! registrations (`event,intervention,...`), interventions
//! (`code,name,...`), budgets (`intervention,year,budget[,actual]`),
//! targets per year (`intervention,year,work_or_studies,step,qol`),
//! förbund-defined indicators (`indicator,outcomes,label_sv,label_en
//! [,target]`), volume head counts (`intervention,month,women,men`) and
//! referrals (`intervention,date,gender[,birth_year,municipality,referrer,
//! decision,decision_date,enrolment]`), in that order of precedence: an
//! activities file is the one with head counts by gender and a date or a
//! kind (not a month), a budgets file the one with `budget`, a targets
//! file the one with `year` and a target column, an indicators file the
//! one with `indicator`, a referrals file one without `event` that has a
//! referral's own columns (`decision`, `decision_date`, `enrolment`, a
//! received date) or a person's facts (`gender`, `birth_year`, `referrer`,
//! `municipality`). The targets, indicators, activities, referrals and
//! budgets files refuse columns of other kinds.
//!
//! Targets (SPEC section 12, as `target set`): one row per intervention and
//! year; an empty (or `(total)`) intervention is the förbund's own target
//! for the total row. Each of `work_or_studies` (`arbete_studier`, `arbete
//! eller studier`), `step` (`stegförflyttning`, `steg`) and `qol`
//! (`livskvalitet`) is a percentage (`40`, `40 %`, `40,5`) or empty (not
//! set); a row without any is an error. `år` is `year`, `insats` is
//! `intervention`; the indicator ids `step_progress` and `quality_of_life`
//! and the interventions file's `target_*` names are read as the targets
//! too. A row whose targets are stored with the same values is skipped;
//! another value stored for the same intervention, year and indicator is a
//! conflict (change it with `target set`), never overwritten.
//!
//! Indicators (SPEC section 12, as `indicator add`): `indicator`
//! (`indikator`), `outcomes` (`utfall`), `label_sv` (`etikett_sv`,
//! `benämning`), `label_en` (`etikett_en`) and an optional `target`
//! (`mål`). The outcomes cell is a list of outcome codes or labels
//! separated by `,` (quoted in a comma-separated file), `|`, `;` or `/`; it
//! is stored as codes joined by commas. A definition stored exactly as
//! given (the same set of outcomes, labels and target) is skipped; another
//! definition under the same id is a conflict.
//!
//! Activities, referrals and budgets (SPEC section 13) are imported as
//! `activity add`, `referral add` (then `referral decide`) and `budget
//! set`, each row through `crate::beyond` with its rules and audit:
//!
//! - Activities: `intervention` (`insats`), `date` (`datum`), `kind`
//!   (`typ`, `aktivitet`: seminar, training, network, information, other,
//!   or their Swedish labels), `women` (`kvinnor`), `men` (`män`), and
//!   optionally `unknown` (`okänt kön`, `okänd`, default 0) and
//!   `organisations` (`organisationer`). The n-th row with the same facts
//!   is skipped when n such activities were stored before the import, so
//!   a file imported twice counts its occasions once.
//! - Referrals: `intervention`, `date` (`datum`, `remissdatum`,
//!   `inkommen`), `gender` (`kön`), and optionally `birth_year`
//!   (`födelseår`), `municipality` (`kommun`), `referrer` (`remittent`),
//!   `decision` (`beslut`), `decision_date` (`beslutsdatum`) and
//!   `enrolment` (the id, or a unique prefix, of the enrolment a `started`
//!   referral became). A row with a decision is registered and decided
//!   together (both or neither). A referral precedes consent: a referrals
//!   file with a personnummer column (`pnr`, `personnummer`, ...) is
//!   refused whole, naming the column, and a cell that looks like a
//!   personnummer refuses its row without being quoted. A row matches a
//!   referral stored before the import with the same facts (intervention,
//!   date, gender, birth year, municipality, referrer): it is skipped when
//!   it adds nothing, an undecided one gets the row's decision, another
//!   decision is a conflict.
//! - Budgets: `intervention`, `year` (`år`), `budget` and optionally
//!   `actual` (`utfall`, `faktisk kostnad`), in whole kronor (`1250000`,
//!   `1 250 000 kr`). A line stored with the same amounts is skipped; an
//!   actual cost given for a line stored without one completes it; other
//!   stored amounts are a conflict (revise them with `budget set`).
//!
//! Registrations, activities and referrals need the right to register
//! (staff, for their own interventions: the domain checks each row's
//! intervention); the other kinds are for those who manage interventions
//! (coordinators and admins).
//!
//! The import is all-or-nothing and runs in two phases. Phase 1 parses
//! every row without touching the database and collects every error. Phase
//! 2 applies the rows in file order through `register` (the same rules as
//! `start` and `exit`) inside one transaction. `register` checks every rule
//! before it writes, so a refused row leaves nothing behind and the rows
//! after it are still checked (every error is reported, not just the
//! first). Any error, or `--dry-run`, and the transaction is rolled back.
//!
//! Idempotence: a row that is already stored exactly as given is skipped;
//! a row that matches a stored enrolment by participant, intervention and
//! date but differs in its facts is a conflict (an error), never silently
//! overwritten.
//!
//! The file is streamed (`read`): phases 1 and 2 alternate over batches
//! of [`BATCH_ROWS`] rows, all inside the one transaction, so memory stays
//! bounded however long the file. Each distinct personnummer of a batch is
//! hashed once, on all cores, before the batch is applied.
//!
//! Bounds: a row (record) of at most 64 KiB, a header of at most 64
//! columns, a cell of at most 200 characters; errors quote at most 40
//! characters of a cell, with anything shaped like a personnummer masked;
//! at most [`LISTED_ERRORS`] errors are listed, the rest counted.

mod apply;
mod parse;
mod read;

use std::fmt;
use std::io::Read;

use chrono::NaiveDate;
use rusqlite::{Connection, TransactionBehavior};

use crate::actor::Actor;
use crate::error::Error;
use crate::identity::{self, Kdf};
use crate::store::{audit, import as import_store};

pub use parse::{MAX_CELL_CHARS, MAX_COLUMNS};
pub use read::{decode, sniff_delimiter, MAX_RECORD_BYTES};

/// Rows read, hashed and applied together.
pub const BATCH_ROWS: usize = 8192;

/// Errors listed in full; the rest are counted.
pub const LISTED_ERRORS: usize = 100;

/// One rejected cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub column: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cells are quoted in reasons: mask a personnummer in the wrong column.
        write!(
            f,
            "line {}, column {}: {}",
            self.line,
            crate::identity::scrub(&self.column),
            crate::identity::scrub(&self.reason)
        )
    }
}

/// The errors of an import: the first [`LISTED_ERRORS`] in line order,
/// and how many more there were.
#[derive(Debug, Default)]
pub struct RowErrors {
    pub listed: Vec<RowError>,
    pub unlisted: u64,
}

impl RowErrors {
    pub fn push(&mut self, e: RowError) {
        if self.listed.len() < LISTED_ERRORS {
            self.listed.push(e);
        } else {
            self.unlisted += 1;
        }
    }

    /// Every error, listed or not.
    pub fn total(&self) -> u64 {
        self.listed.len() as u64 + self.unlisted
    }
}

impl std::ops::Deref for RowErrors {
    type Target = Vec<RowError>;
    fn deref(&self) -> &Vec<RowError> {
        &self.listed
    }
}

impl IntoIterator for RowErrors {
    type Item = RowError;
    type IntoIter = std::vec::IntoIter<RowError>;
    fn into_iter(self) -> Self::IntoIter {
        self.listed.into_iter()
    }
}

impl<'a> IntoIterator for &'a RowErrors {
    type Item = &'a RowError;
    type IntoIter = std::slice::Iter<'a, RowError>;
    fn into_iter(self) -> Self::IntoIter {
        self.listed.iter()
    }
}

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum Failure {
    /// Invalid rows: the first [`LISTED_ERRORS`] and a count of the rest.
    Rows(RowErrors),
    /// The file or the database could not be used at all.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Fatal(e)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Self {
        Failure::Fatal(e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Registrations,
    Interventions,
    Volume,
    /// Targets per year.
    Targets,
    /// Förbund-defined indicators.
    Indicators,
    /// Activities (SPEC section 13).
    Activities,
    /// Referrals and their decisions (SPEC section 13).
    Referrals,
    /// Budgets and actual costs per intervention and year (SPEC section 13).
    Budgets,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    pub starts: u64,
    pub exits: u64,
    pub interventions: u64,
    pub volumes: u64,
    /// Year targets set (a row sets one to three).
    pub targets: u64,
    /// Förbund-defined indicators added.
    pub indicators: u64,
    /// Activities added.
    pub activities: u64,
    /// Referrals added.
    pub referrals: u64,
    /// Decisions recorded on referrals (new or already stored).
    pub decisions: u64,
    /// Budget lines set (or, for an actual cost given late, completed).
    pub budgets: u64,
    /// Rows already stored exactly as given.
    pub skipped: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows: ", self.rows)?;
        let mut parts = Vec::new();
        let others = self.interventions
            + self.volumes
            + self.targets
            + self.indicators
            + self.activities
            + self.referrals
            + self.decisions
            + self.budgets;
        if self.starts + self.exits > 0 || others == 0 {
            parts.push(format!("{} starts", self.starts));
            parts.push(format!("{} exits", self.exits));
        }
        if self.interventions > 0 {
            parts.push(format!("{} interventions", self.interventions));
        }
        if self.volumes > 0 {
            parts.push(format!("{} volume months", self.volumes));
        }
        if self.targets > 0 {
            parts.push(format!("{} targets", self.targets));
        }
        if self.indicators > 0 {
            parts.push(format!("{} indicators", self.indicators));
        }
        if self.activities > 0 {
            parts.push(format!("{} activities", self.activities));
        }
        if self.referrals > 0 {
            parts.push(format!("{} referrals", self.referrals));
        }
        if self.decisions > 0 {
            parts.push(format!("{} decisions", self.decisions));
        }
        if self.budgets > 0 {
            parts.push(format!("{} budgets", self.budgets));
        }
        parts.push(format!("{} skipped as already present", self.skipped));
        f.write_str(&parts.join(", "))
    }
}

/// Options for one import.
pub struct Options {
    pub dry_run: bool,
    pub today: NaiveDate,
    /// Show a progress bar (the CLI passes "stderr is a terminal").
    pub progress: bool,
}

/// Import one file's bytes into the database.
pub fn import(
    conn: &mut Connection,
    kdf: &Kdf,
    actor: &Actor,
    bytes: &[u8],
    opts: &Options,
) -> Result<Summary, Failure> {
    import_from(conn, kdf, actor, bytes, Some(bytes.len() as u64), opts)
}

/// Import a file read as a stream; `size` (in bytes, if known) scales the
/// progress bar.
pub fn import_from(
    conn: &mut Connection,
    kdf: &Kdf,
    actor: &Actor,
    input: impl Read,
    size: Option<u64>,
    opts: &Options,
) -> Result<Summary, Failure> {
    let mut cache = identity::FingerprintCache::default();
    import_cached(conn, kdf, actor, input, size, opts, &mut cache)
}

/// Hash every personnummer of a file held in memory, before any lock is
/// taken (the slow part: argon2id, on all cores), so that the import's
/// write transaction, which holds up every other writer, only does the
/// SQL. The server imports this way; the CLI streams (`import_from`).
pub fn prehash(
    bytes: impl Read,
    kdf: &Kdf,
    today: NaiveDate,
) -> Result<identity::FingerprintCache, Failure> {
    let mut cache = identity::FingerprintCache::default();
    let mut records = read::Records::new(bytes).map_err(read_failure)?;
    let mut rec = read::Record::default();
    let Some(header) = header(&mut records, &mut rec)? else {
        return Ok(cache);
    };
    let Ok(layout) = parse::layout(&header) else {
        // The import proper reports the header's errors.
        return Ok(cache);
    };
    let mut errors = Vec::new();
    while let Some(batch) = next_batch(&mut records, &mut rec, &layout, today, &mut errors)? {
        errors.clear();
        cache.fingerprints(&batch.pnrs, kdf);
    }
    Ok(cache)
}

/// The first line that is not blank: the header; `None` for an empty file.
fn header(
    records: &mut read::Records<'_>,
    rec: &mut read::Record,
) -> Result<Option<read::Record>, Failure> {
    loop {
        if !records.next_into(rec).map_err(too_long)? {
            return Ok(None);
        }
        if !rec.is_blank() {
            return Ok(Some(std::mem::take(rec)));
        }
    }
}

/// The next [`BATCH_ROWS`] rows parsed into a batch, refused cells into
/// `errors`; `None` at the end of the file.
fn next_batch(
    records: &mut read::Records<'_>,
    rec: &mut read::Record,
    layout: &parse::Layout,
    today: NaiveDate,
    errors: &mut Vec<RowError>,
) -> Result<Option<parse::Batch>, Failure> {
    let mut batch = parse::Batch::default();
    let mut any = false;
    while batch.events.len() < BATCH_ROWS {
        if !records.next_into(rec).map_err(too_long)? {
            break;
        }
        any = true;
        if !rec.is_blank() {
            parse::row(layout, rec, today, &mut batch, errors);
        }
    }
    Ok(any.then_some(batch))
}

/// [`import_from`] with a cache that may already hold the file's
/// fingerprints ([`prehash`]).
pub fn import_cached(
    conn: &mut Connection,
    kdf: &Kdf,
    actor: &Actor,
    input: impl Read,
    size: Option<u64>,
    opts: &Options,
    cache: &mut identity::FingerprintCache,
) -> Result<Summary, Failure> {
    let mut records = read::Records::new(input).map_err(read_failure)?;
    let mut rec = read::Record::default();
    let Some(header) = header(&mut records, &mut rec)? else {
        return Err(Failure::Fatal(Error::usage("the file is empty: expected a header line such as event,intervention,pnr,consent,local_id,gender,birth_year,date,...".into())));
    };
    let layout = parse::layout(&header)?;
    drop(header);
    // Registrations carry personnummer: only those who register may import
    // them (SPEC section 11), and nobody else may learn from the import's
    // answers ("already present") whether a person is enrolled.
    // The other kinds (interventions, targets, volumes) are for those who
    // manage interventions; checked before any row is compared with what
    // is stored, so nobody learns a stored count from the answer.
    crate::register::require(
        actor,
        match layout.kind {
            // Activities and referrals are staff's, for their own
            // interventions (the domain checks each row's intervention).
            FileKind::Registrations => crate::actor::Action::Register,
            FileKind::Activities | FileKind::Referrals => crate::actor::Action::Beyond,
            FileKind::Budgets => crate::actor::Action::Budget,
            FileKind::Interventions
            | FileKind::Volume
            | FileKind::Targets
            | FileKind::Indicators => crate::actor::Action::ManageInterventions,
        },
    )?;

    import_store::prepare_bulk_write(conn)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let bar = progress_bar(opts.progress, size);
    let mut applier = apply::Applier::new(&tx, actor, opts.today);
    let mut errors = RowErrors::default();
    let mut rows = 0u64;
    let mut read_batch = |errors: &mut Vec<RowError>| -> Result<Option<parse::Batch>, Failure> {
        let batch = next_batch(&mut records, &mut rec, &layout, opts.today, errors)?;
        bar.set_position(records.bytes);
        Ok(batch)
    };
    // Errors of the batch being read (phase 1) and of the batch being applied.
    let mut read_errors = Vec::new();
    let mut current = read_batch(&mut read_errors)?;
    // One cache for the whole import: a number in several batches (a start
    // and, far below, its exit) is still hashed once.
    let mut fingerprints = match &current {
        Some(b) => cache.fingerprints(&b.pnrs, kdf),
        None => Vec::new(),
    };
    while let Some(mut batch) = current.take() {
        drop(std::mem::take(&mut batch.pnrs));
        let mut batch_errors = std::mem::take(&mut read_errors);
        // The next batch is read first, then hashed on other threads while
        // this one is applied: the KDF and SQLite overlap.
        let next = read_batch(&mut read_errors)?;
        let next_fingerprints = std::thread::scope(|s| {
            let hashing = next
                .as_ref()
                .map(|b| s.spawn(|| cache.fingerprints(&b.pnrs, kdf)));
            rows += batch.events.len() as u64;
            for ev in batch.events {
                if let Err(e) = applier.apply(ev, &fingerprints) {
                    batch_errors.push(e);
                }
            }
            hashing.map(|h| h.join().expect("hashing thread panicked"))
        });
        batch_errors.sort_by_key(|e| e.line);
        for e in batch_errors {
            errors.push(e);
        }
        current = next;
        fingerprints = next_fingerprints.unwrap_or_default();
    }
    bar.finish_and_clear();
    let mut summary = std::mem::take(&mut applier.summary);
    summary.rows = rows;
    drop(applier);
    if !errors.is_empty() {
        return Err(Failure::Rows(errors)); // dropping `tx` rolls everything back
    }
    if opts.dry_run {
        return Ok(summary);
    }
    audit::record(
        &tx,
        actor,
        "import",
        None,
        Some(&format!("{:?}: {summary}", layout.kind).to_lowercase()),
    )?;
    tx.commit()?;
    Ok(summary)
}

fn progress_bar(show: bool, size: Option<u64>) -> indicatif::ProgressBar {
    match size {
        Some(n) if show && n > 100_000 => {
            let b = indicatif::ProgressBar::new(n);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
                )
                .expect("valid template"),
            );
            b
        }
        _ => indicatif::ProgressBar::hidden(),
    }
}

fn read_failure(e: std::io::Error) -> Failure {
    Failure::Fatal(Error::io_text(format!("cannot read the file: {e}")))
}

fn too_long(e: read::ReadError) -> Failure {
    match e {
        read::ReadError::TooLong { line } => Failure::Fatal(Error::usage(format!(
            "line {line} is longer than {} KiB, the most one row may take: is this a CSV file of registrations, interventions, volumes, targets, indicators, activities, referrals or budgets?",
            MAX_RECORD_BYTES / 1024
        ))),
        read::ReadError::Io(e) => read_failure(e),
    }
}
