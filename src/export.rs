//! Pseudonymised export for evaluators (SPEC section 8).
//!
//! One CSV row per enrolment active in the period, with no personnummer,
//! fingerprint, birth year or exact date: age bands instead of birth years,
//! months instead of dates, and a pseudonym `BLAKE2b-MAC(key, fingerprint)`.
//! With a key file the pseudonyms are stable across exports; without one a
//! fresh random key is drawn and thrown away, so two exports cannot be
//! linked. Anonymous participants get a pseudonym of their enrolment id:
//! they are never linked, in the export as in the reports.
//!
//! k-anonymity over (intervention, gender, age band, municipality): rows in
//! groups smaller than k get municipality `*`; rows still in groups smaller
//! than k (counting every `*` row of the same intervention, gender and age
//! band) are left out.
//!
//! Memory stays modest at national scale: rows are read (on all cores) into
//! a compact form of about 40 bytes each, group sizes are counted, persons'
//! pseudonyms are computed once each in one pass over the person table, and
//! the rows are written. Rows come in enrolment-id order; the ids are random
//! (and the table is clustered on them), so the order reveals nothing about
//! registration dates.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::identity::{pseudonym, random_bytes};
use crate::invalid;
use crate::model::months_between;
use crate::report::compute::{fast_date, resolve_selection};
use crate::report::{default_age_bands, Period};
use crate::store::interventions;

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
    pub rows: u64,
    pub generalised: u64,
    pub left_out: u64,
}

pub struct ExportOptions {
    pub period: Period,
    pub interventions: Vec<String>,
    pub key: Vec<u8>,
    pub k: u32,
}

/// Read a key file made by `keygen` (64 hex digits).
pub fn read_key(path: &Path) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => invalid!(
            "no key file {}; make one with `sustrack keygen FILE`",
            path.display()
        ),
        _ => Error::io_text(format!("cannot read key file {}: {e}", path.display())),
    })?;
    let t = text.trim();
    let key: Option<Vec<u8>> = (t.len() == 64)
        .then(|| {
            (0..32)
                .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).ok())
                .collect()
        })
        .flatten();
    key.ok_or_else(|| invalid!("{} is not a sustrack key file (expected 64 hex digits, as written by `sustrack keygen`)", path.display()))
}

/// Write a new key file: 32 random bytes as hex, owner-only, never overwriting.
pub fn keygen(path: &Path) -> Result<()> {
    let mut f = crate::store::create_private_file(
        path,
        "keygen never overwrites a key (pseudonyms depend on it)",
    )?;
    let hex: String = random_bytes(32)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    f.write_all(format!("{hex}\n").as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// A fresh key for one export, never stored.
pub fn ephemeral_key() -> Vec<u8> {
    random_bytes(32)
}

fn age_band(bands: &[(u32, u32)], start_year: i64, birth_year: Option<i64>) -> (usize, String) {
    match birth_year {
        None => (bands.len() + 1, "unknown".into()),
        Some(by) => {
            let age = start_year - by;
            match bands
                .iter()
                .position(|&(lo, hi)| age >= lo as i64 && age <= hi as i64)
            {
                Some(i) => (i, format!("{}-{}", bands[i].0, bands[i].1)),
                None => (bands.len(), "other".into()),
            }
        }
    }
}

fn text(v: ValueRef<'_>) -> &str {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
        _ => "",
    }
}

const QUERY: &str = "SELECT id, intervention, gender, birth_year, start_date, exit_date, municipality, \
     support, years_in_support, education, referrer, outcome, support_after, step_progress, \
     quality_of_life, person_id \
     FROM enrolment WHERE start_date <= ?2 AND (exit_date IS NULL OR exit_date >= ?1) AND id >= ?3 AND id < ?4";

/// One export row, held compactly between reading and writing (about 40
/// bytes, so even a full national export stays well under 100 MB).
struct Compact {
    intervention: u32,
    /// Index into the part's municipality list; 0 = not recorded.
    municipality: u32,
    gender: u8,
    band: u8,
    /// Index into `CODE_COLUMNS`' code lists, +1; 0 = not recorded.
    codes: [u8; 8],
    start: (u16, u8),
    exit: Option<(u16, u8)>,
    months: u16,
    who: Who,
}

enum Who {
    /// While reading: the person row, replaced by its pseudonym.
    Person(i64),
    Pseudonym([u8; 16]),
}

/// The export's code columns, in output order: (column index in QUERY, codes).
fn code_index(column: usize, s: &str) -> u8 {
    fn find<C: Code>(s: &str) -> u8 {
        C::from_code(s).map_or(0, |c| c.index() as u8 + 1)
    }
    use crate::codes::*;
    match column {
        7 | 12 => find::<Support>(s),
        8 => find::<YearsInSupport>(s),
        9 => find::<Education>(s),
        10 => find::<Referrer>(s),
        11 => find::<Outcome>(s),
        13 => find::<StepProgress>(s),
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

/// Read one id range of the period's enrolments.
fn read_part(
    conn: &Connection,
    from: &str,
    to: &str,
    range: (&str, &str),
    selected: &HashMap<&str, u32>,
    key: &[u8],
) -> Result<(Vec<Compact>, Vec<String>)> {
    let bands = default_age_bands();
    let mut municipalities: Vec<String> = vec![String::new()];
    let mut muni_index: HashMap<String, u32> = HashMap::new();
    let mut out = Vec::new();
    let mut stmt = conn.prepare(QUERY)?;
    let mut rows = stmt.query(rusqlite::params![from, to, range.0, range.1])?;
    let ym = |s: &str| -> (u16, u8) {
        (
            s.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0),
            s.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0),
        )
    };
    while let Some(r) = rows.next()? {
        let Some(&iv) = selected.get(text(r.get_ref(1)?)) else {
            continue;
        };
        let start = text(r.get_ref(4)?);
        let exit = text(r.get_ref(5)?);
        let birth_year = r
            .get_ref(3)?
            .as_i64_or_null()
            .map_err(rusqlite::Error::from)?;
        let (band, _) = age_band(&bands, ym(start).0 as i64, birth_year);
        let m = text(r.get_ref(6)?);
        let municipality = if m.is_empty() {
            0
        } else if let Some(&i) = muni_index.get(m) {
            i
        } else {
            municipalities.push(m.to_string());
            muni_index.insert(m.to_string(), municipalities.len() as u32 - 1);
            municipalities.len() as u32 - 1
        };
        let mut codes = [0u8; 8];
        for (slot, column) in (7..=14).enumerate() {
            codes[slot] = code_index(column, text(r.get_ref(column)?));
        }
        let who = match r.get_ref(15)? {
            ValueRef::Integer(p) => Who::Person(p),
            _ => {
                let id = text(r.get_ref(0)?);
                let p = pseudonym(key, format!("anonymous enrolment {id}").as_bytes());
                let mut b = [0u8; 16];
                b.copy_from_slice(&p.as_bytes()[..16]);
                Who::Pseudonym(b)
            }
        };
        out.push(Compact {
            intervention: iv,
            municipality,
            gender: (text(r.get_ref(2)?) == "man") as u8,
            band: band as u8,
            codes,
            start: ym(start),
            exit: (!exit.is_empty()).then(|| ym(exit)),
            months: if exit.is_empty() {
                0
            } else {
                months_between(fast_date(start)?, fast_date(exit)?) as u16
            },
            who,
        });
    }
    drop(rows);
    // Pseudonyms of this part's persons: point look-ups in id order (so the
    // pages come in order), each person hashed once.
    let mut ids: Vec<i64> = out
        .iter()
        .filter_map(|r| {
            if let Who::Person(p) = r.who {
                Some(p)
            } else {
                None
            }
        })
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut lookup = conn.prepare("SELECT fingerprint FROM person WHERE id = ?1")?;
    let mut found: Vec<[u8; 16]> = Vec::with_capacity(ids.len());
    for &id in &ids {
        let fp: Vec<u8> = lookup
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| {
                Error::Database(
                    "an enrolment refers to a missing person; run `sustrack check`".into(),
                )
            })?;
        let mut b = [0u8; 16];
        b.copy_from_slice(&pseudonym(key, &fp).as_bytes()[..16]);
        found.push(b);
    }
    for r in &mut out {
        if let Who::Person(p) = r.who {
            let i = ids
                .binary_search(&p)
                .expect("every person id was looked up");
            r.who = Who::Pseudonym(found[i]);
        }
    }
    Ok((out, municipalities))
}

/// Write the export to `out`; returns the counts. With `path`, the reading
/// is spread over all cores, each core with its own read-only connection;
/// as for reports, call it while `conn` holds the write lock so all parts
/// read the same state.
pub fn export(
    conn: &Connection,
    path: Option<&Path>,
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
    let selected: HashMap<&str, u32> = selection
        .iter()
        .enumerate()
        .map(|(i, s)| (s.code.as_str(), i as u32))
        .collect();
    let from = opts.period.from.to_string();
    let to = opts.period.to.to_string();
    let k = opts.k as u64;

    // Read: the id space split over the cores (ids are random, so the parts
    // are even); the result keeps id order, which says nothing about dates.
    let parts = match path {
        Some(_) => std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 16),
        None => 1,
    };
    let ranges = crate::store::enrolments::id_ranges(parts);
    let read: Vec<(Vec<Compact>, Vec<String>)> = std::thread::scope(|sc| -> Result<_> {
        let handles: Vec<_> = ranges[1..]
            .iter()
            .map(|(lo, hi)| {
                let (selected, from, to) = (&selected, &from, &to);
                let path = path.expect("several parts only with a path");
                sc.spawn(move || -> Result<_> {
                    let c = Connection::open_with_flags(
                        path,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )?;
                    read_part(&c, from, to, (lo, hi), selected, &opts.key)
                })
            })
            .collect();
        let mut parts = vec![read_part(
            conn,
            &from,
            &to,
            (&ranges[0].0, &ranges[0].1),
            &selected,
            &opts.key,
        )?];
        for h in handles {
            parts.push(
                h.join()
                    .map_err(|_| Error::Database("an export worker thread panicked".into()))??,
            );
        }
        Ok(parts)
    })?;

    // One municipality numbering for all parts.
    let mut names: Vec<String> = vec![String::new()];
    let mut global: HashMap<String, u32> = HashMap::new();
    let mut rows: Vec<Compact> = Vec::with_capacity(read.iter().map(|p| p.0.len()).sum());
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

    // Group sizes over (intervention, gender, age band, municipality), and
    // with the municipality generalised.
    let group = |r: &Compact| -> (u64, u64) {
        let base = (((r.intervention as u64) * 2 + r.gender as u64) * 16 + r.band as u64) << 32;
        (base | (r.municipality as u64 + 1), base)
    };
    let mut exact: HashMap<u64, u64> = HashMap::new();
    for r in &rows {
        *exact.entry(group(r).0).or_default() += 1;
    }
    let mut generalised_sizes: HashMap<u64, u64> = HashMap::new();
    for (&key, &n) in &exact {
        if n < k {
            *generalised_sizes.entry(key & !0xffff_ffff).or_default() += n;
        }
    }

    let bands = default_age_bands();
    let band_names: Vec<String> = bands
        .iter()
        .map(|(lo, hi)| format!("{lo}-{hi}"))
        .chain(["other".to_string(), "unknown".to_string()])
        .collect();
    let codes: Vec<&str> = selection.iter().map(|i| i.code.as_str()).collect();
    // Format chunks of rows into CSV on all cores, and write them in order.
    let format_chunk = |chunk: &[Compact]| -> Result<(Vec<u8>, ExportSummary)> {
        let mut summary = ExportSummary::default();
        let mut w = csv::WriterBuilder::new().from_writer(Vec::with_capacity(chunk.len() * 140));
        for r in chunk {
            let (key, base) = group(r);
            let municipality = if exact[&key] >= k {
                names[r.municipality as usize].as_str()
            } else if generalised_sizes[&base] >= k {
                summary.generalised += 1;
                "*"
            } else {
                summary.left_out += 1;
                continue;
            };
            let Who::Pseudonym(pseudo) = &r.who else {
                unreachable!("read_part resolves every person to a pseudonym")
            };
            let mut months_buf = [0u8; 5];
            let months = if r.months == 0 {
                ""
            } else {
                digits(r.months, &mut months_buf)
            };
            let (start, exit) = (ym(r.start), r.exit.map(ym));
            let c = |slot: usize| code_text(slot, r.codes[slot]);
            w.write_record([
                std::str::from_utf8(pseudo).unwrap_or(""),
                codes[r.intervention as usize],
                if r.gender == 1 { "man" } else { "woman" },
                &band_names[r.band as usize],
                municipality,
                std::str::from_utf8(&start).unwrap_or(""),
                exit.as_ref()
                    .map_or("", |e| std::str::from_utf8(e).unwrap_or("")),
                months,
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
            summary.rows += 1;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::io_text(format!("cannot write the export: {e}")))?;
        Ok((bytes, summary))
    };
    let mut out = out;
    let mut header = csv::Writer::from_writer(Vec::new());
    header.write_record(HEADER).map_err(csv_error)?;
    out.write_all(
        &header
            .into_inner()
            .map_err(|e| Error::io_text(e.to_string()))?,
    )?;
    let mut summary = ExportSummary::default();
    const CHUNK: usize = 32_768;
    for batch in rows.chunks(CHUNK * parts) {
        let formatted: Vec<Result<(Vec<u8>, ExportSummary)>> = std::thread::scope(|sc| {
            let handles: Vec<_> = batch
                .chunks(CHUNK)
                .skip(1)
                .map(|c| sc.spawn(move || format_chunk(c)))
                .collect();
            let mut done = vec![format_chunk(batch.chunks(CHUNK).next().unwrap_or(&[]))];
            done.extend(handles.into_iter().map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::Database("an export worker thread panicked".into()))
                })
            }));
            done
        });
        for f in formatted {
            let (bytes, s) = f?;
            out.write_all(&bytes)?;
            summary.rows += s.rows;
            summary.generalised += s.generalised;
            summary.left_out += s.left_out;
        }
    }
    out.flush()?;
    Ok(summary)
}

/// `YYYY-MM` without allocating.
fn ym((y, m): (u16, u8)) -> [u8; 7] {
    let d = |v: u16| b'0' + (v % 10) as u8;
    [
        d(y / 1000),
        d(y / 100),
        d(y / 10),
        d(y),
        b'-',
        d(m as u16 / 10),
        d(m as u16),
    ]
}

/// A number's decimal digits in `buf`, without allocating.
fn digits(mut v: u16, buf: &mut [u8; 5]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

fn csv_error(e: csv::Error) -> Error {
    Error::io_text(format!("cannot write the export: {e}"))
}
