//! Importing spreadsheets (SPEC section 7).
//!
//! Files come from Excel and LibreOffice, so reading is forgiving: UTF-8
//! with or without BOM, UTF-16 with BOM, or Windows-1252 (Swedish Excel's
//! plain "CSV"); `,`, `;` or tab, sniffed from the header line; CRLF; quoted
//! fields; blank lines and trailing empty columns; Swedish or English
//! header names and code labels.
//!
//! Three kinds of file are recognised by their header: registrations
//! (`event,intervention,...`), interventions (`code,name,...`) and volume
//! head counts (`intervention,month,women,men`).
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
//! Each distinct personnummer in the file is hashed once, on all cores,
//! before phase 2.

use std::collections::HashMap;
use std::fmt;

use chrono::NaiveDate;
use rusqlite::{Connection, TransactionBehavior};

use crate::actor::Actor;
use crate::codes::{fold, Code, Gender, InterventionKind, Outcome};
use crate::error::Error;
use crate::identity::{self, Fingerprint, Personnummer};
use crate::model::{
    parse_birth_year, parse_intervention_code, parse_month, parse_municipality, parse_past_date,
    parse_percent, Enrolment, ExitFacts, Intervention, StartFacts,
};
use crate::register::{self, ExitInput, ExitTarget, Participant, StartInput};
use crate::store::enrolments::{self as store, ParticipantKey};
use crate::store::{audit, interventions};
use rusqlite::Connection as DbConnection;

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

/// Why an import wrote nothing.
#[derive(Debug)]
pub enum Failure {
    /// Invalid rows, every one of them.
    Rows(Vec<RowError>),
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
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    pub starts: u64,
    pub exits: u64,
    pub interventions: u64,
    pub volumes: u64,
    /// Rows already stored exactly as given.
    pub skipped: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows: ", self.rows)?;
        let mut parts = Vec::new();
        if self.starts + self.exits > 0 || (self.interventions == 0 && self.volumes == 0) {
            parts.push(format!("{} starts", self.starts));
            parts.push(format!("{} exits", self.exits));
        }
        if self.interventions > 0 {
            parts.push(format!("{} interventions", self.interventions));
        }
        if self.volumes > 0 {
            parts.push(format!("{} volume months", self.volumes));
        }
        parts.push(format!("{} skipped as already present", self.skipped));
        f.write_str(&parts.join(", "))
    }
}

/// Turn file bytes into text: BOM-marked UTF-8/UTF-16, else UTF-8, else Windows-1252.
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom_len..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The delimiter of the first non-blank line: `;`, `,` or tab, outside quotes.
pub fn sniff_delimiter(text: &str) -> u8 {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => counts[0] += 1,
            ',' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(1);
    if counts[best] == 0 {
        return b',';
    }
    [b';', b',', b'\t'][best]
}

/// Canonical header names and the aliases people write.
const HEADERS: &[(&str, &[&str])] = &[
    ("event", &["händelse", "handelse", "typ", "type"]),
    ("intervention", &["insats", "insatskod"]),
    (
        "pnr",
        &["personnummer", "personnr", "pnr", "samordningsnummer"],
    ),
    ("consent", &["samtycke"]),
    (
        "local_id",
        &[
            "lokalt_id",
            "lokal_id",
            "löpnummer",
            "lopnummer",
            "deltagar_id",
            "id",
        ],
    ),
    ("gender", &["kön", "kon", "sex"]),
    ("birth_year", &["födelseår", "fodelsear", "född", "fodd"]),
    ("date", &["datum"]),
    ("municipality", &["kommun", "kommunkod"]),
    (
        "support",
        &[
            "försörjning",
            "forsorjning",
            "försörjning_före",
            "forsorjning_fore",
        ],
    ),
    (
        "years_in_support",
        &[
            "tid_i_försörjning",
            "tid_i_forsorjning",
            "år_i_försörjning",
            "ar_i_forsorjning",
        ],
    ),
    (
        "education",
        &["utbildning", "utbildningsnivå", "utbildningsniva"],
    ),
    ("referrer", &["remittent"]),
    ("outcome", &["utfall", "avslutsorsak", "resultat"]),
    ("support_after", &["försörjning_efter", "forsorjning_efter"]),
    ("step_progress", &["stegförflyttning", "stegforflyttning"]),
    ("quality_of_life", &["livskvalitet"]),
    ("code", &["kod"]),
    ("name", &["namn"]),
    (
        "parent",
        &["förälder", "foralder", "huvudinsats", "projekt"],
    ),
    ("kind", &["typ_av_insats", "slag"]),
    (
        "target_work_studies",
        &["mål_arbete_studier", "mal_arbete_studier"],
    ),
    (
        "target_step",
        &["mål_stegförflyttning", "mal_stegforflyttning"],
    ),
    ("target_qol", &["mål_livskvalitet", "mal_livskvalitet"]),
    ("month", &["månad", "manad"]),
    ("women", &["kvinnor"]),
    ("men", &["män", "man"]),
];

fn header_key(name: &str) -> String {
    fold(name).replace([' ', '-'], "_")
}

fn canonical_header(name: &str) -> Option<&'static str> {
    let k = header_key(name);
    HEADERS
        .iter()
        .find(|(c, aliases)| *c == k || aliases.iter().any(|a| header_key(a) == k))
        .map(|(c, _)| *c)
}

/// A row of cells addressed by canonical column name.
struct Cells<'a> {
    line: u64,
    record: &'a csv::StringRecord,
    columns: &'a HashMap<&'static str, (usize, String)>,
    errors: &'a mut Vec<RowError>,
}

impl Cells<'_> {
    /// The trimmed cell, `None` when the column is absent or the cell empty.
    fn get(&self, col: &str) -> Option<&str> {
        let (i, _) = self.columns.get(col)?;
        self.record.get(*i).map(str::trim).filter(|s| !s.is_empty())
    }

    fn column_name(&self, col: &str) -> String {
        self.columns
            .get(col)
            .map(|(_, n)| n.clone())
            .unwrap_or_else(|| col.to_string())
    }

    fn error(&mut self, col: &str, reason: impl Into<String>) {
        let column = self.column_name(col);
        self.errors.push(RowError {
            line: self.line,
            column,
            reason: reason.into(),
        });
    }

    /// Parse an optional cell; a bad value is recorded and read as absent.
    fn parse<T>(&mut self, col: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let v = self.get(col)?.to_string();
        match f(&v) {
            Ok(x) => Some(x),
            Err(e) => {
                self.error(col, e);
                None
            }
        }
    }

    fn required<T>(
        &mut self,
        col: &str,
        what: &str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if self.get(col).is_none() {
            self.error(col, format!("{what} is required"));
            return None;
        }
        self.parse(col, f)
    }

    fn code<C: Code>(&mut self, col: &str) -> Option<C> {
        self.parse(col, |s| {
            C::parse(s)
                .map_err(|e| format!("invalid value '{}': accepted are {}", e.value, e.accepted))
        })
    }
}

fn msg(e: Error) -> String {
    e.to_string()
}

#[derive(Debug)]
enum Who {
    /// Index into the personnummer list (hashed in bulk before phase 2),
    /// with the facts read off the number.
    Pnr {
        index: usize,
        gender: Gender,
        birth_year: i32,
    },
    Local {
        local_id: String,
        gender: Option<Gender>,
        birth_year: Option<i32>,
    },
}

#[derive(Debug)]
enum Event {
    Start {
        line: u64,
        intervention: String,
        who: Who,
        date: NaiveDate,
        facts: StartFacts,
    },
    Exit {
        line: u64,
        intervention: String,
        who: Who,
        date: NaiveDate,
        outcome: Outcome,
        after: ExitFacts,
    },
    Intervention {
        line: u64,
        intervention: Intervention,
    },
    Volume {
        line: u64,
        intervention: String,
        month: (i32, u32),
        women: u32,
        men: u32,
    },
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
    conn: &mut DbConnection,
    kdf: &identity::Kdf,
    actor: &Actor,
    bytes: &[u8],
    opts: &Options,
) -> Result<Summary, Failure> {
    let text = decode(bytes);
    let (kind, events, pnrs, mut errors) = parse(&text, opts.today)?;
    let fingerprints = identity::fingerprints(&pnrs, kdf);
    drop(pnrs);

    let mut summary = Summary {
        rows: events.len() as u64,
        ..Summary::default()
    };
    // A big import touches pages all over the enrolment table; a larger page
    // cache keeps SQLite from spilling (and rewriting) them to the WAL
    // before the commit.
    conn.pragma_update(None, "cache_size", -262_144)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let bar = if opts.progress && events.len() > 1000 {
        let b = indicatif::ProgressBar::new(events.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} rows ({per_sec}, {eta} left)",
            )
            .expect("valid template"),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    // Interventions already checked in this import.
    let mut known = std::collections::HashSet::new();
    for (n, ev) in events.into_iter().enumerate() {
        if n % 256 == 0 {
            bar.set_position(n as u64);
        }
        // `register` checks every rule before it writes, so a refused row
        // leaves nothing behind and later rows are checked as if it were absent.
        if let Err(e) = apply(
            &tx,
            actor,
            opts.today,
            ev,
            &fingerprints,
            &mut known,
            &mut summary,
        ) {
            errors.push(e);
        }
    }
    bar.finish_and_clear();
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(Failure::Rows(errors));
    }
    if opts.dry_run {
        return Ok(summary); // dropping `tx` rolls everything back
    }
    audit::record(
        &tx,
        actor,
        "import",
        None,
        Some(&format!("{kind:?}: {summary}").to_lowercase()),
    )?;
    tx.commit()?;
    Ok(summary)
}

type Parsed = (FileKind, Vec<Event>, Vec<Personnummer>, Vec<RowError>);

/// Phase 1: read and check every row, touching no database.
fn parse(text: &str, today: NaiveDate) -> Result<Parsed, Failure> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_delimiter(text))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let mut errors = Vec::new();
    let is_blank = |r: &csv::StringRecord| r.iter().all(|c| c.trim().is_empty());

    // Header.
    let (header, header_line) = loop {
        match records.next() {
            None => return Err(Failure::Fatal(Error::usage("the file is empty: expected a header line such as event,intervention,pnr,consent,local_id,gender,birth_year,date,...".into()))),
            Some(Err(e)) => return Err(Failure::Fatal(Error::usage(format!("cannot read the file as CSV: {e}")))),
            Some(Ok(r)) if is_blank(&r) => continue,
            Some(Ok(r)) => {
                let line = r.position().map_or(1, |p| p.line());
                break (r, line);
            }
        }
    };
    let mut columns: HashMap<&'static str, (usize, String)> = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        if name.is_empty() {
            continue; // trailing empty columns from spreadsheets
        }
        match canonical_header(name) {
            Some(c) if columns.contains_key(c) => errors.push(RowError {
                line: header_line,
                column: name.into(),
                reason: format!("column '{c}' appears twice"),
            }),
            Some(c) => {
                columns.insert(c, (i, name.to_string()));
            }
            None => errors.push(RowError {
                line: header_line,
                column: name.into(),
                reason: format!(
                    "unknown column '{name}': accepted are {}",
                    HEADERS
                        .iter()
                        .map(|(c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }
    let has = |c: &str| columns.contains_key(c);
    let kind = if has("event") {
        FileKind::Registrations
    } else if has("code") && has("name") {
        FileKind::Interventions
    } else if has("month") {
        FileKind::Volume
    } else {
        return Err(Failure::Fatal(Error::usage(
            "unrecognised header: a registrations file needs the columns event, intervention and date \
             (an interventions file: code, name; a volume file: intervention, month, women, men)"
                .into(),
        )));
    };
    let required: &[&str] = match kind {
        FileKind::Registrations => &["intervention", "date"],
        FileKind::Interventions => &[],
        FileKind::Volume => &["intervention", "women", "men"],
    };
    for r in required {
        if !has(r) {
            errors.push(RowError {
                line: header_line,
                column: (*r).into(),
                reason: format!("the header has no '{r}' column"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Rows(errors));
    }

    let mut events = Vec::new();
    let mut pnrs = Vec::new();
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    column: "-".into(),
                    reason: format!("unreadable CSV: {e}"),
                });
                continue;
            }
        };
        if is_blank(&rec) {
            continue;
        }
        let line = rec.position().map_or(0, |p| p.line());
        let before = errors.len();
        let mut cells = Cells {
            line,
            record: &rec,
            columns: &columns,
            errors: &mut errors,
        };
        let event = match kind {
            FileKind::Registrations => registration(&mut cells, today, &mut pnrs),
            FileKind::Interventions => intervention_row(&mut cells),
            FileKind::Volume => volume_row(&mut cells),
        };
        if errors.len() == before {
            if let Some(ev) = event {
                events.push(ev);
            }
        }
    }
    Ok((kind, events, pnrs, errors))
}

fn registration(c: &mut Cells, today: NaiveDate, pnrs: &mut Vec<Personnummer>) -> Option<Event> {
    let is_start = c.required("event", "the event (start or exit)", |s| {
        match fold(s).as_str() {
            "start" | "inskrivning" | "in" => Ok(true),
            "exit" | "avslut" | "slut" | "utskrivning" | "ut" => Ok(false),
            _ => Err(format!(
                "invalid event '{s}': accepted are start, exit (avslut)"
            )),
        }
    });
    let intervention = c.required("intervention", "the intervention code", |s| {
        parse_intervention_code(s).map_err(msg)
    });
    let date = c.required("date", "the date", |s| {
        parse_past_date(s, "date", today).map_err(msg)
    });
    let pnr = c.parse("pnr", |s| {
        Personnummer::parse(s, today).map_err(|e| e.to_string())
    });
    let local = c.get("local_id").map(str::to_string);
    let is_start = is_start?;
    let who = match (pnr, local, c.get("pnr").is_some()) {
        (Some(_), Some(_), _) => {
            c.error("local_id", "give either pnr or local_id, not both");
            return None;
        }
        (Some(p), None, _) => {
            if is_start {
                let consent = c.get("consent").map(fold);
                if !matches!(
                    consent.as_deref(),
                    Some("yes" | "ja" | "j" | "y" | "1" | "x")
                ) {
                    c.error(
                        "consent",
                        "a start with pnr needs consent = yes (ja); without written consent leave pnr empty and use local_id",
                    );
                    return None;
                }
            }
            let who = Who::Pnr {
                index: pnrs.len(),
                gender: p.gender(),
                birth_year: p.birth_year(),
            };
            pnrs.push(p);
            who
        }
        (None, _, true) => return None, // the pnr error is already recorded
        (None, Some(l), false) => {
            let valid = l.chars().count() <= 40
                && l.chars()
                    .all(|ch| ch.is_alphanumeric() || "-_./".contains(ch));
            if !valid {
                c.error(
                    "local_id",
                    "invalid local_id: expected at most 40 letters, digits, '-', '_', '.' or '/'",
                );
                return None;
            }
            if identity::could_hold_pnr(&l) {
                c.error("local_id", "a local_id must not hold ten or more digits (it could be a personnummer); use the team's own short code, and put a personnummer in the pnr column (with consent)");
                return None;
            }
            if identity::holds_birth_date(&l) {
                c.error("local_id", "a local_id must not hold a birth date (YYYYMMDD or YYMMDD): with gender and municipality it points at one person; use the team's own short code");
                return None;
            }
            let gender = c.code::<Gender>("gender");
            if is_start && gender.is_none() && c.get("gender").is_none() {
                c.error(
                    "gender",
                    "an anonymous start (no pnr) needs gender (K or M)",
                );
            }
            let birth_year = c.parse("birth_year", |s| parse_birth_year(s, today).map_err(msg));
            Who::Local {
                local_id: l,
                gender,
                birth_year,
            }
        }
        (None, None, false) => {
            c.error(
                "pnr",
                "each row needs pnr (with consent) or, for anonymous participants, local_id",
            );
            return None;
        }
    };
    if is_start {
        let facts = StartFacts {
            municipality: c.parse("municipality", |s| parse_municipality(s).map_err(msg)),
            support: c.code("support"),
            years_in_support: c.code("years_in_support"),
            education: c.code("education"),
            referrer: c.code("referrer"),
        };
        Some(Event::Start {
            line: c.line,
            intervention: intervention?,
            who,
            date: date?,
            facts,
        })
    } else {
        let outcome = if c.get("outcome").is_none() {
            c.error("outcome", "an exit needs an outcome, e.g. work (Arbete), studies (Studier), dropout (Avbrott)");
            None
        } else {
            c.code::<Outcome>("outcome")
        };
        let after = ExitFacts {
            support_after: c.code("support_after"),
            step_progress: c.code("step_progress"),
            quality_of_life: c.code("quality_of_life"),
        };
        Some(Event::Exit {
            line: c.line,
            intervention: intervention?,
            who,
            date: date?,
            outcome: outcome?,
            after,
        })
    }
}

fn intervention_row(c: &mut Cells) -> Option<Event> {
    let code = c.required("code", "the intervention code", |s| {
        parse_intervention_code(s).map_err(msg)
    });
    let name = c.required("name", "the name", |s| {
        if s.chars().count() <= 120 {
            Ok(s.to_string())
        } else {
            Err("the name is longer than 120 characters".into())
        }
    });
    let parent = c.parse("parent", |s| parse_intervention_code(s).map_err(msg));
    let kind = c
        .code::<InterventionKind>("kind")
        .unwrap_or(InterventionKind::Individual);
    let pct = |c: &mut Cells, col: &str| c.parse(col, |s| parse_percent(s, col).map_err(msg));
    let (tw, ts, tq) = (
        pct(c, "target_work_studies"),
        pct(c, "target_step"),
        pct(c, "target_qol"),
    );
    Some(Event::Intervention {
        line: c.line,
        intervention: Intervention {
            code: code?,
            name: name?,
            parent,
            kind,
            target_work_studies: tw,
            target_step: ts,
            target_qol: tq,
        },
    })
}

fn volume_row(c: &mut Cells) -> Option<Event> {
    let intervention = c.required("intervention", "the intervention code", |s| {
        parse_intervention_code(s).map_err(msg)
    });
    let month = c.required("month", "the month (YYYY-MM)", |s| {
        parse_month(s).map_err(msg)
    });
    let count = |c: &mut Cells, col: &str| {
        c.required(col, "a head count", |s| {
            s.parse::<u32>()
                .map_err(|_| format!("invalid count '{s}': expected a whole number, 0 or more"))
        })
    };
    let (women, men) = (count(c, "women"), count(c, "men"));
    Some(Event::Volume {
        line: c.line,
        intervention: intervention?,
        month: month?,
        women: women?,
        men: men?,
    })
}

/// Phase 2 for one row.
fn apply(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    ev: Event,
    fps: &[Fingerprint],
    known: &mut std::collections::HashSet<String>,
    summary: &mut Summary,
) -> Result<(), RowError> {
    let line = match &ev {
        Event::Start { line, .. }
        | Event::Exit { line, .. }
        | Event::Intervention { line, .. }
        | Event::Volume { line, .. } => *line,
    };
    let err = |column: &str, e: Error| RowError {
        line,
        column: column.into(),
        reason: e.to_string(),
    };
    let conflict = |column: &str, what: String| RowError {
        line,
        column: column.into(),
        reason: format!(
            "conflicts with what is stored: {what}; correct the file or use `sustrack edit`"
        ),
    };
    match ev {
        Event::Start {
            intervention,
            who,
            date,
            facts,
            ..
        } => {
            if !known.contains(&intervention) {
                register::individual_intervention(conn, &intervention)
                    .map_err(|e| err("intervention", e))?;
                known.insert(intervention.clone());
            }
            let participant = match &who {
                Who::Pnr {
                    index,
                    gender,
                    birth_year,
                } => Participant::Person {
                    fingerprint: fps[*index],
                    gender: *gender,
                    birth_year: *birth_year,
                },
                Who::Local {
                    local_id,
                    gender,
                    birth_year,
                } => Participant::Anonymous {
                    gender: gender.unwrap_or(Gender::Woman),
                    birth_year: *birth_year,
                    local_id: Some(local_id.clone()),
                },
            };
            let (gender, birth_year) = match &participant {
                Participant::Person {
                    gender, birth_year, ..
                } => (*gender, Some(*birth_year)),
                Participant::Anonymous {
                    gender, birth_year, ..
                } => (*gender, *birth_year),
            };
            let input = StartInput {
                intervention: intervention.clone(),
                participant,
                date,
                facts: facts.clone(),
            };
            // The common case first; the re-import check runs only when the rules refuse.
            if let Err(refused) = register::start(conn, actor, today, input) {
                let stored = stored_enrolments(conn, &who, &intervention, fps)
                    .map_err(|e| err("date", e))?;
                let Some(e) = stored.iter().find(|e| e.start == date) else {
                    return Err(err("date", refused));
                };
                if e.facts != facts || e.gender != gender || e.birth_year != birth_year {
                    return Err(conflict(
                        "date",
                        format!(
                            "enrolment {} starting {} has other start facts",
                            e.short_id(),
                            e.start
                        ),
                    ));
                }
                summary.skipped += 1;
                return Ok(());
            }
            summary.starts += 1;
        }
        Event::Exit {
            intervention,
            who,
            date,
            outcome,
            after,
            ..
        } => {
            if !known.contains(&intervention) {
                register::individual_intervention(conn, &intervention)
                    .map_err(|e| err("intervention", e))?;
                known.insert(intervention.clone());
            }
            let (who_column, target) = match &who {
                Who::Pnr { index, .. } => (
                    "pnr",
                    ExitTarget::Person {
                        fingerprint: fps[*index],
                        intervention: intervention.clone(),
                    },
                ),
                Who::Local { local_id, .. } => (
                    "local_id",
                    ExitTarget::Local {
                        local_id: local_id.clone(),
                        intervention: intervention.clone(),
                    },
                ),
            };
            let input = ExitInput {
                date,
                outcome,
                after: after.clone(),
            };
            if let Err(refused) = register::exit(conn, actor, today, &target, input) {
                // Already stored (a re-import)? Then it must match exactly.
                let stored = stored_enrolments(conn, &who, &intervention, fps)
                    .map_err(|e| err(who_column, e))?;
                let Some(e) = stored.iter().find(|e| e.exit == Some(date)) else {
                    let text = refused.to_string();
                    let about_who = ["no person", "no open enrolment", "has no enrolment"]
                        .iter()
                        .any(|n| text.contains(n));
                    let text = if text.contains("has no enrolment") {
                        format!("{text} (is the start row missing?)")
                    } else {
                        text
                    };
                    return Err(err(
                        if about_who { who_column } else { "date" },
                        Error::usage(text),
                    ));
                };
                if e.outcome != Some(outcome) || e.after != after {
                    return Err(conflict(
                        "outcome",
                        format!(
                            "enrolment {} exited {} with other exit facts",
                            e.short_id(),
                            date
                        ),
                    ));
                }
                summary.skipped += 1;
                return Ok(());
            }
            summary.exits += 1;
        }
        Event::Intervention {
            intervention: i, ..
        } => match interventions::get(conn, &i.code).map_err(|e| err("code", e))? {
            Some(stored) if stored == i => summary.skipped += 1,
            Some(_) => {
                return Err(conflict(
                    "code",
                    format!("intervention {} is stored with other details", i.code),
                ))
            }
            None => {
                let column = if i.parent.is_some() { "parent" } else { "code" };
                register::intervention_add(conn, actor, i).map_err(|e| err(column, e))?;
                summary.interventions += 1;
            }
        },
        Event::Volume {
            intervention,
            month,
            women,
            men,
            ..
        } => {
            let key = format!("{:04}-{:02}", month.0, month.1);
            let stored: Option<(u32, u32)> = conn
                .query_row(
                    "SELECT women, men FROM volume WHERE intervention = ?1 AND month = ?2",
                    (&intervention, &key),
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .ok();
            match stored {
                Some(s) if s == (women, men) => summary.skipped += 1,
                Some(_) => {
                    return Err(conflict(
                        "women",
                        format!("{intervention} {key} is stored with other head counts"),
                    ))
                }
                None => {
                    register::volume_add(
                        conn,
                        actor,
                        today,
                        &intervention,
                        register::VolumeCounts { month, women, men },
                        false,
                    )
                    .map_err(|e| err("intervention", e))?;
                    summary.volumes += 1;
                }
            }
        }
    }
    Ok(())
}

/// The stored enrolments of a row's participant in the intervention.
fn stored_enrolments(
    conn: &Connection,
    who: &Who,
    intervention: &str,
    fps: &[Fingerprint],
) -> crate::error::Result<Vec<Enrolment>> {
    match who {
        Who::Pnr { index, .. } => match store::find_person(conn, &fps[*index])? {
            Some(id) => store::of_participant(conn, ParticipantKey::Person(id), intervention),
            None => Ok(Vec::new()),
        },
        Who::Local { local_id, .. } => {
            store::of_participant(conn, ParticipantKey::Local(local_id), intervention)
        }
    }
}
