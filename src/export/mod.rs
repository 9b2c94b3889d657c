//! Pseudonymised export for evaluators (SPEC section 8): reading, the
//! pseudonyms, and writing the CSV; k-anonymity is `anonymise`, key files
//! are `key`.
//!
//! One CSV row per enrolment active in the period, with no personnummer,
//! fingerprint, birth year or exact date: age bands instead of birth years,
//! months (or coarser, see `anonymise`) instead of dates, and a pseudonym
//! `BLAKE2b-MAC(key, fingerprint)`. With a key file the pseudonyms are
//! stable across exports; without one a fresh random key is drawn and thrown
//! away, so two exports cannot be linked. Anonymous participants get a
//! pseudonym of their enrolment id: they are never linked, in the export as
//! in the reports.
//!
//! The steps, each its own function: `read` (on all cores, into compact
//! rows; with a key file the whole register, so that levels are decided
//! the same way for every export with that key), `anonymise` (pure),
//! `pseudonymise` (each shown person's fingerprint read and hashed once, on
//! all cores), `write_csv` (formatted in chunks on all cores, written in
//! order). Rows are written in pseudonym order, which is random, so the
//! order reveals nothing about registration dates.

mod anonymise;
mod key;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;

use rusqlite::Connection;

pub use anonymise::{anonymise, Level, Person, Row, Time};
pub use key::{ephemeral_key, keygen, parse_key, read_key};

use crate::error::{Error, Result};
use crate::identity::pseudonym;
use crate::invalid;
use crate::model::months_between;
use crate::report::compute::{fast_date, resolve_selection};
use crate::report::{default_age_bands, Period};
use crate::store::export_scan::{self, ScanRow};
use crate::store::{enrolments, interventions};

pub const HEADER: [&str; 16] = [
    "pseudonym",
    "intervention",
    "gender",
    "age_band",
    "municipality",
    "start_month",
    "exit_month",
    "months_in_intervention",
    "support",
    "years_in_support",
    "education",
    "referrer",
    "outcome",
    "support_after",
    "step_progress",
    "quality_of_life",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Rows written.
    pub rows: u64,
    /// Rows written with start and exit coarser than a month.
    pub coarsened: u64,
    /// Rows written with municipality `*`.
    pub generalised: u64,
    pub left_out: u64,
}

pub struct ExportOptions {
    pub period: Period,
    pub interventions: Vec<String>,
    pub key: Vec<u8>,
    /// The key is kept (a key file), so this export can be joined with
    /// others made with it: levels are decided over the whole register.
    pub key_is_kept: bool,
    pub k: u32,
}

/// Who a row is, until its pseudonym is known.
#[derive(Debug, Clone)]
pub enum Who {
    /// A registered person's row (the person table's id).
    Person(i64),
    /// The pseudonym, 16 base32 characters.
    Pseudonym([u8; 16]),
}

impl Who {
    fn sort_key(&self) -> [u8; 16] {
        match self {
            Who::Pseudonym(p) => *p,
            Who::Person(_) => [0; 16],
        }
    }
}

/// Snapshot connections for the workers of one export (see [`run`]).
pub type Pool = std::sync::Mutex<Vec<Connection>>;

fn take(pool: &Pool) -> Result<Connection> {
    pool.lock()
        .map_err(|_| Error::Database("an export worker thread panicked".into()))?
        .pop()
        .ok_or_else(|| Error::Database("the export ran out of reader connections".into()))
}

/// An export as a front end asks for it: read on all cores from one
/// consistent snapshot, without holding the write lock (registrations go
/// on meanwhile), written to `out`; then the export is recorded in the
/// audit trail (period, selection, k, counts, kind of pseudonyms) in a short
/// write of its own. The caller puts `out` in place only after this
/// returns, so no export exists that the audit trail does not know of.
pub fn run(
    store: &crate::store::Store,
    actor: &crate::actor::Actor,
    opts: &ExportOptions,
    out: impl Write,
) -> Result<ExportSummary> {
    // Coordinators (and the owner) only: refused before anything is read.
    crate::register::require(actor, crate::actor::Action::Export)?;
    let parts = crate::parallel::workers(16);
    // One for the interventions, then one per part for reading and one
    // per part for hashing.
    let mut readers = store.snapshot(2 * parts + 1)?;
    let main = readers.pop().expect("snapshot gives at least one reader");
    let pool = Pool::new(readers);
    let summary = export(&main, Some(&pool), opts, out)?;
    drop((main, pool));
    let mut conn = store.connect()?;
    crate::store::write(&mut conn, |tx| {
        crate::store::audit::record(
            tx,
            actor,
            "export",
            Some(&format!("{}..{}", opts.period.from, opts.period.to)),
            Some(&format!(
                "interventions {}; k = {} persons; {} rows, {} with dates coarsened, {} with municipality generalised, {} left out; {}",
                if opts.interventions.is_empty() {
                    "all".into()
                } else {
                    opts.interventions.join(",")
                },
                opts.k,
                summary.rows,
                summary.coarsened,
                summary.generalised,
                summary.left_out,
                if opts.key_is_kept {
                    "stable pseudonyms (key file)"
                } else {
                    "one-off pseudonyms"
                }
            )),
        )
    })?;
    Ok(summary)
}

/// Write the export to `out`; returns the counts. With `pool` (connections
/// of one snapshot, see [`run`]), reading and hashing are spread over all
/// cores; without it everything runs on `conn`.
pub fn export(
    conn: &Connection,
    pool: Option<&Pool>,
    opts: &ExportOptions,
    out: impl Write,
) -> Result<ExportSummary> {
    if opts.k == 0 {
        return Err(invalid!(
            "invalid --k 0: expected 1 or more (1 applies no grouping)"
        ));
    }
    let all = interventions::all(conn)?;
    let selection = resolve_selection(&all, &opts.interventions)?;
    let codes: Vec<&str> = selection
        .iter()
        .map(|i| i.code.as_str())
        .chain(
            all.iter()
                .map(|i| i.code.as_str())
                .filter(|c| !selection.iter().any(|s| s.code == *c)),
        )
        .collect();
    let parts = match pool {
        Some(_) => crate::parallel::workers(16),
        None => 1,
    };
    let input = Input {
        interventions: codes
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, (i as u32, i < selection.len())))
            .collect(),
        from: opts.period.from.to_string(),
        to: opts.period.to.to_string(),
        whole_register: opts.key_is_kept,
        key: &opts.key,
    };
    let (rows, municipalities) = read(conn, pool, parts, &input)?;
    let (rows, summary) = anonymise(rows, opts.k);
    let mut rows = pseudonymise(conn, pool, parts, rows, &opts.key)?;
    // In pseudonym order: random, so it says nothing of when anyone was
    // registered, and a person's rows stand together.
    rows.sort_unstable_by_key(|r| r.who.sort_key());
    write_csv(&rows, &codes, &municipalities, parts, out)?;
    Ok(summary)
}

/// What `read` needs to know.
struct Input<'a> {
    /// Code -> (index, in the selection).
    interventions: HashMap<&'a str, (u32, bool)>,
    from: String,
    to: String,
    /// Read every enrolment, marking those outside the export.
    whole_register: bool,
    key: &'a [u8],
}

/// Read the rows (split by id range over `parts` workers), with one
/// municipality numbering for all (index 0: not recorded).
fn read(
    conn: &Connection,
    pool: Option<&Pool>,
    parts: usize,
    input: &Input,
) -> Result<(Vec<Row>, Vec<String>)> {
    let ranges = enrolments::id_ranges(parts);
    let read: Vec<(Vec<Row>, Vec<String>)> = match pool {
        None => vec![read_part(conn, (&ranges[0].0, &ranges[0].1), input)?],
        Some(pool) => {
            let inputs = ranges
                .into_iter()
                .map(|r| Ok((take(pool)?, r)))
                .collect::<Result<Vec<_>>>()?;
            crate::parallel::run_each(inputs, |_, (c, (lo, hi))| read_part(&c, (&lo, &hi), input))?
        }
    };

    let mut names: Vec<String> = vec![String::new()];
    let mut global: HashMap<String, u32> = HashMap::new();
    let mut rows: Vec<Row> = Vec::with_capacity(read.iter().map(|p| p.0.len()).sum());
    for (part, local_names) in read {
        let map: Vec<u32> = local_names
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                if i == 0 {
                    return 0;
                }
                *global.entry(n.clone()).or_insert_with(|| {
                    names.push(n);
                    names.len() as u32 - 1
                })
            })
            .collect();
        rows.extend(part.into_iter().map(|mut r| {
            r.municipality = map[r.municipality as usize];
            r
        }));
    }
    Ok((rows, names))
}

/// Read one id range, with the part's own municipality numbering.
fn read_part(
    conn: &Connection,
    range: (&str, &str),
    input: &Input,
) -> Result<(Vec<Row>, Vec<String>)> {
    let bands = default_age_bands();
    let mut municipalities: Vec<String> = vec![String::new()];
    let mut muni_index: HashMap<String, u32> = HashMap::new();
    let mut out = Vec::new();
    let period = (!input.whole_register).then_some((input.from.as_str(), input.to.as_str()));
    export_scan::scan(conn, period, range, |r: ScanRow<'_>| {
        let Some(&(intervention, selected)) = input.interventions.get(r.intervention) else {
            return Ok(());
        };
        let in_export = selected
            && r.start <= input.to.as_str()
            && (r.exit.is_empty() || r.exit >= input.from.as_str());
        if !in_export && !input.whole_register {
            return Ok(());
        }
        let short = || r.id.get(..8).unwrap_or(r.id);
        let man = match r.gender {
            "man" => true,
            "woman" => false,
            _ => {
                return Err(Error::Database(format!(
                    "enrolment {} has a stored gender that is neither woman nor man; \
                     nothing was exported (`sustrack check` lists such values)",
                    short()
                )))
            }
        };
        let start = ym(r.start);
        let municipality = if r.municipality.is_empty() {
            0
        } else if let Some(&i) = muni_index.get(r.municipality) {
            i
        } else {
            municipalities.push(r.municipality.to_string());
            muni_index.insert(r.municipality.to_string(), municipalities.len() as u32 - 1);
            municipalities.len() as u32 - 1
        };
        let mut codes = [0u8; 8];
        for (slot, text) in r.codes.iter().enumerate() {
            codes[slot] = code_index(slot, text);
        }
        let (person, who) = match r.person_id {
            Some(p) => (Person::Registered(p), Who::Person(p)),
            None => {
                // One person per intervention and local_id, else per enrolment.
                let mut h = std::collections::hash_map::DefaultHasher::new();
                match r.local_id {
                    "" => ("enrolment", r.id).hash(&mut h),
                    local => ("local", r.intervention, local).hash(&mut h),
                }
                let mut b = [0u8; 16];
                if in_export {
                    let p = pseudonym(
                        input.key,
                        format!("anonymous enrolment {}", r.id).as_bytes(),
                    );
                    b.copy_from_slice(&p.as_bytes()[..16]);
                }
                (Person::Anonymous(h.finish()), Who::Pseudonym(b))
            }
        };
        out.push(Row {
            intervention,
            man,
            band: age_band(&bands, start.0 as i64, r.birth_year),
            municipality,
            start,
            exit: (!r.exit.is_empty()).then(|| ym(r.exit)),
            months: if r.exit.is_empty() {
                0
            } else {
                months_between(fast_date(r.start)?, fast_date(r.exit)?).min(u16::MAX as u32) as u16
            },
            person,
            in_export,
            codes,
            who,
            level: Level::default(),
        });
        Ok(())
    })?;
    Ok((out, municipalities))
}

/// Replace every person by their pseudonym: each person's fingerprint read
/// and hashed once, the persons split over `parts` workers in id order.
fn pseudonymise(
    conn: &Connection,
    pool: Option<&Pool>,
    parts: usize,
    mut rows: Vec<Row>,
    key: &[u8],
) -> Result<Vec<Row>> {
    let mut ids: Vec<i64> = rows
        .iter()
        .filter_map(|r| match r.who {
            Who::Person(p) => Some(p),
            Who::Pseudonym(_) => None,
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let hash = |conn: &Connection, ids: &[i64]| -> Result<Vec<[u8; 16]>> {
        let mut found = Vec::with_capacity(ids.len());
        export_scan::fingerprints(conn, ids, |_, fp| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&pseudonym(key, fp).as_bytes()[..16]);
            found.push(b);
            Ok(())
        })?;
        Ok(found)
    };
    let chunk = ids.len().div_ceil(parts).max(1);
    let found: Vec<[u8; 16]> = match pool {
        None => hash(conn, &ids)?,
        Some(pool) => {
            let inputs = ids
                .chunks(chunk)
                .map(|c| Ok((take(pool)?, c)))
                .collect::<Result<Vec<_>>>()?;
            crate::parallel::run_each(inputs, |_, (c, ids)| hash(&c, ids))?
                .into_iter()
                .flatten()
                .collect()
        }
    };
    for r in &mut rows {
        if let Who::Person(p) = r.who {
            let i = ids
                .binary_search(&p)
                .expect("every person id was looked up");
            r.who = Who::Pseudonym(found[i]);
        }
    }
    Ok(rows)
}

/// Write the header and the rows as CSV, formatted in chunks on `parts`
/// cores and written in order.
fn write_csv(
    rows: &[Row],
    interventions: &[&str],
    municipalities: &[String],
    parts: usize,
    mut out: impl Write,
) -> Result<()> {
    let bands = band_names();
    let format_chunk = |chunk: &[Row]| -> Result<Vec<u8>> {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(chunk.len() * 140));
        let (mut start, mut exit, mut months) = (String::new(), String::new(), String::new());
        for r in chunk {
            let Who::Pseudonym(pseudo) = &r.who else {
                unreachable!("pseudonymise resolves every person")
            };
            let time = r.level.time;
            start.clear();
            exit.clear();
            months.clear();
            time.write_period(&mut start, r.start);
            if let Some(e) = r.exit {
                time.write_period(&mut exit, e);
                time.write_months(&mut months, r.months);
            }
            let c = |slot: usize| code_text(slot, r.codes[slot]);
            w.write_record([
                std::str::from_utf8(pseudo).unwrap_or(""),
                interventions[r.intervention as usize],
                if r.man { "man" } else { "woman" },
                &bands[r.band as usize],
                if r.level.hide_municipality {
                    "*"
                } else {
                    municipalities[r.municipality as usize].as_str()
                },
                &start,
                &exit,
                &months,
                c(0),
                c(1),
                c(2),
                c(3),
                c(4),
                c(5),
                c(6),
                c(7),
            ])
            .map_err(csv_error)?;
        }
        w.into_inner()
            .map_err(|e| Error::io_text(format!("cannot write the export: {e}")))
    };
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(HEADER).map_err(csv_error)?;
    out.write_all(
        &header
            .into_inner()
            .map_err(|e| Error::io_text(e.to_string()))?,
    )?;
    const CHUNK: usize = 32_768;
    for batch in rows.chunks(CHUNK * parts) {
        let formatted =
            crate::parallel::run_each(batch.chunks(CHUNK).collect(), |_, c| format_chunk(c))?;
        for f in formatted {
            out.write_all(&f)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The age bands' names by index: the bands, then `other`, then `unknown`.
pub fn band_names() -> Vec<String> {
    default_age_bands()
        .iter()
        .map(|(lo, hi)| format!("{lo}-{hi}"))
        .chain(["other".to_string(), "unknown".to_string()])
        .collect()
}

fn age_band(bands: &[(u32, u32)], start_year: i64, birth_year: Option<i64>) -> u8 {
    let i = match birth_year {
        None => bands.len() + 1,
        Some(by) => {
            let age = start_year - by;
            bands
                .iter()
                .position(|&(lo, hi)| age >= lo as i64 && age <= hi as i64)
                .unwrap_or(bands.len())
        }
    };
    i as u8
}

/// `YYYY-MM...` as (year, month); zeros for what is not there.
fn ym(s: &str) -> (u16, u8) {
    (
        s.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0),
        s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0),
    )
}

/// A code column's value as its index in the code list, +1 (0: none).
fn code_index(slot: usize, s: &str) -> u8 {
    fn find<C: Code>(s: &str) -> u8 {
        C::from_code(s).map_or(0, |c| c.index() as u8 + 1)
    }
    use crate::codes::*;
    match slot {
        0 | 5 => find::<Support>(s),
        1 => find::<YearsInSupport>(s),
        2 => find::<Education>(s),
        3 => find::<Referrer>(s),
        4 => find::<Outcome>(s),
        6 => find::<StepProgress>(s),
        _ => find::<QualityOfLife>(s),
    }
}

fn code_text(slot: usize, v: u8) -> &'static str {
    fn get<C: Code>(v: u8) -> &'static str {
        if v == 0 {
            ""
        } else {
            C::ALL[v as usize - 1].code()
        }
    }
    use crate::codes::*;
    match slot {
        0 | 5 => get::<Support>(v),
        1 => get::<YearsInSupport>(v),
        2 => get::<Education>(v),
        3 => get::<Referrer>(v),
        4 => get::<Outcome>(v),
        6 => get::<StepProgress>(v),
        _ => get::<QualityOfLife>(v),
    }
}

fn csv_error(e: csv::Error) -> Error {
    Error::io_text(format!("cannot write the export: {e}"))
}
