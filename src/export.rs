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
//! Memory stays flat at national scale: pass 1 counts group sizes over
//! compact keys, pass 2 streams rows straight to the writer. Rows come in
//! table order, which is the order of the random enrolment ids (the table is
//! clustered on them), so the order reveals nothing about registration dates.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::codes::Code;
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
        _ => Error::Io(format!("cannot read key file {}: {e}", path.display())),
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
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => invalid!(
            "{} already exists; keygen never overwrites a key (pseudonyms depend on it)",
            path.display()
        ),
        _ => Error::Io(format!("cannot create {}: {e}", path.display())),
    })?;
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

const QUERY: &str =
    "SELECT id, intervention, gender, birth_year, start_date, exit_date, municipality, \
     support, years_in_support, education, referrer, outcome, support_after, step_progress, \
     quality_of_life, person_id \
     FROM enrolment WHERE start_date <= ?2 AND (exit_date IS NULL OR exit_date >= ?1)";

/// Write the export to `out`; returns the counts.
pub fn export(conn: &Connection, opts: &ExportOptions, out: impl Write) -> Result<ExportSummary> {
    if opts.k == 0 {
        return Err(invalid!(
            "invalid --k 0: expected 1 or more (1 applies no grouping)"
        ));
    }
    let all = interventions::all(conn)?;
    let selection = resolve_selection(&all, &opts.interventions)?;
    let selected: HashMap<&str, u64> = selection
        .iter()
        .enumerate()
        .map(|(i, s)| (s.code.as_str(), i as u64))
        .collect();
    let bands = default_age_bands();
    let from = opts.period.from.to_string();
    let to = opts.period.to.to_string();
    let k = opts.k as u64;

    // Compact group key: intervention, gender, age band, municipality (0 = '*').
    let mut municipalities: HashMap<String, u64> = HashMap::new();
    let mut group_key = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Option<(u64, u64)>> {
        let Some(&iv) = selected.get(text(r.get_ref(1)?)) else {
            return Ok(None);
        };
        let g = (text(r.get_ref(2)?) == "man") as u64;
        let start_year = text(r.get_ref(4)?)
            .get(0..4)
            .and_then(|y| y.parse().ok())
            .unwrap_or(0);
        let (band, _) = age_band(&bands, start_year, r.get_ref(3)?.as_i64_or_null()?);
        let m = text(r.get_ref(6)?);
        let mi = match municipalities.get(m) {
            Some(&i) => i,
            None => {
                let next = municipalities.len() as u64 + 1;
                municipalities.insert(m.to_string(), next);
                next
            }
        };
        let base = ((iv * 2 + g) * 16 + band as u64) << 32;
        Ok(Some((base | mi, base)))
    };

    // Pass 1: group sizes, exact and with municipality generalised, and
    // the persons whose pseudonyms are needed.
    let mut exact: HashMap<u64, u64> = HashMap::new();
    let mut pseudonyms: HashMap<i64, String> = HashMap::new();
    let mut stmt = conn.prepare(QUERY)?;
    {
        let mut rows = stmt.query([&from, &to])?;
        while let Some(r) = rows.next()? {
            if let Some((key, _)) = group_key(r)? {
                *exact.entry(key).or_default() += 1;
                if let ValueRef::Integer(p) = r.get_ref(15)? {
                    pseudonyms.insert(p, String::new());
                }
            }
        }
    }
    // One sequential pass over persons instead of a lookup per row; each
    // person's pseudonym is computed once.
    {
        let mut persons = conn.prepare("SELECT id, fingerprint FROM person")?;
        let mut rows = persons.query([])?;
        while let Some(r) = rows.next()? {
            if let Some(slot) = pseudonyms.get_mut(&r.get::<_, i64>(0)?) {
                if let ValueRef::Blob(fp) = r.get_ref(1)? {
                    *slot = pseudonym(&opts.key, fp);
                }
            }
        }
    }
    let mut generalised_sizes: HashMap<u64, u64> = HashMap::new();
    for (&key, &n) in &exact {
        if n < k {
            *generalised_sizes.entry(key & !0xffff_ffff).or_default() += n;
        }
    }

    // Pass 2: stream the rows.
    let mut w = csv::WriterBuilder::new().from_writer(out);
    w.write_record(HEADER).map_err(csv_error)?;
    let mut summary = ExportSummary::default();
    let mut rows = stmt.query([&from, &to])?;
    while let Some(r) = rows.next()? {
        let Some((key, base)) = group_key(r)? else {
            continue;
        };
        let municipality = if exact[&key] >= k {
            text(r.get_ref(6)?).to_string()
        } else if generalised_sizes[&base] >= k {
            summary.generalised += 1;
            "*".to_string()
        } else {
            summary.left_out += 1;
            continue;
        };
        let id = text(r.get_ref(0)?);
        let pseudo = match r.get_ref(15)? {
            ValueRef::Integer(p) => pseudonyms.get(&p).cloned().unwrap_or_default(),
            _ => pseudonym(&opts.key, format!("anonymous enrolment {id}").as_bytes()),
        };
        if pseudo.is_empty() {
            return Err(Error::Database(format!(
                "enrolment {} refers to a missing person; run `sustrack check`",
                crate::model::short_id(id)
            )));
        }
        let start = text(r.get_ref(4)?);
        let exit = text(r.get_ref(5)?);
        let start_year = start.get(0..4).and_then(|y| y.parse().ok()).unwrap_or(0);
        let birth_year = r
            .get_ref(3)?
            .as_i64_or_null()
            .map_err(rusqlite::Error::from)?;
        let (_, band) = age_band(&bands, start_year, birth_year);
        let months = if exit.is_empty() {
            String::new()
        } else {
            months_between(fast_date(start)?, fast_date(exit)?).to_string()
        };
        let gender = crate::codes::Gender::from_code(text(r.get_ref(2)?))
            .map(|g| g.code())
            .unwrap_or("");
        w.write_record([
            pseudo.as_str(),
            text(r.get_ref(1)?),
            gender,
            &band,
            &municipality,
            start.get(0..7).unwrap_or(""),
            exit.get(0..7).unwrap_or(""),
            &months,
            text(r.get_ref(7)?),
            text(r.get_ref(8)?),
            text(r.get_ref(9)?),
            text(r.get_ref(10)?),
            text(r.get_ref(11)?),
            text(r.get_ref(12)?),
            text(r.get_ref(13)?),
            text(r.get_ref(14)?),
        ])
        .map_err(csv_error)?;
        summary.rows += 1;
    }
    w.flush()?;
    Ok(summary)
}

fn csv_error(e: csv::Error) -> Error {
    Error::Io(format!("cannot write the export: {e}"))
}
