//! Computing a report: one query, one pass.
//!
//! Every table draws on the same population (enrolments active in the
//! period, in the selected interventions), so the period's enrolments are
//! read once and each row feeds every tally at once: there is no query per
//! table. Codes are matched on the borrowed text SQLite hands out, so the
//! pass allocates only for municipalities and person sets.
//!
//! Populations (SPEC section 6): *active* = start <= to and (no exit or
//! exit >= from); *new* = start in the period; *exited* = exit in the period.
//!
//! The shape, in the order a report runs:
//! - `compute_with` resolves the selection and fixes what every part of
//!   the scan shares (`Scan`);
//! - `scan` reads one part's rows from `store::report_scan` (the SQL lives in
//!   the store) and tallies each in `Tallies::add`, which splits into the
//!   active tables (`Tallies::add_active`), the referrer of a new one, and
//!   the exit tables and indicators (`Tallies::add_exited`);
//! - `compute_on` runs one part per core on a snapshot and merges them
//!   (`Tallies::merge`); `Tallies::finish` counts distinct persons;
//! - `tables` builds each table from the tallies, one function per table,
//!   and `indicators` the headline shares against their targets.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use chrono::NaiveDate;
use rusqlite::Connection;

use super::{of_ten, Indicator, Options, Report, Row, Table};
use crate::codes::{
    Code, Education, Gender, Lang, Outcome, QualityOfLife, Referrer, StepProgress, Support,
    YearsInSupport,
};
use crate::error::{Error, Result};
use crate::invalid;
use crate::model::{months_between, Intervention, Municipality};
use crate::store::interventions;
use crate::store::report_scan::{self, Col, ScanRow};

const SV_EN_GENDER_COLUMNS: [(&str, &str); 3] =
    [("Kvinnor", "Women"), ("Män", "Men"), ("Totalt", "Total")];

/// The interventions a selection covers: the named ones and all their
/// descendants; everything when nothing is named.
pub fn resolve_selection(all: &[Intervention], selected: &[String]) -> Result<Vec<Intervention>> {
    if selected.is_empty() {
        return Ok(all.to_vec());
    }
    let mut included: HashSet<String> = HashSet::new();
    for s in selected {
        let code = s.trim().to_ascii_uppercase();
        if !all.iter().any(|i| i.code == code) {
            let known: Vec<&str> = all.iter().map(|i| i.code.as_str()).collect();
            return Err(invalid!(
                "unknown --intervention '{s}': known are {}",
                known.join(", ")
            ));
        }
        included.insert(code);
    }
    // Add children until nothing changes (the hierarchy is shallow).
    loop {
        let before = included.len();
        for i in all {
            if i.parent.as_ref().is_some_and(|p| included.contains(p)) {
                included.insert(i.code.clone());
            }
        }
        if included.len() == before {
            break;
        }
    }
    Ok(all
        .iter()
        .filter(|i| included.contains(&i.code))
        .cloned()
        .collect())
}

/// FNV-1a, for the maps the scan consults on every row (intervention
/// codes, municipality names): keys are a few bytes from our own file, so
/// a keyed hash would only cost time (SipHash was a few per cent of a
/// report). The order of a map never reaches a table.
#[derive(Clone, Copy)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type FnvMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// Gender-split counts for one row.
type Pair = [u64; 2];

#[derive(Default, Clone)]
struct PerIntervention {
    active: u64,
    new: u64,
    exited: u64,
    /// Distinct persons, filled in after the pass.
    unique: u64,
    /// work_or_studies, step_progress, quality_of_life: (numerator, denominator)
    indicators: [(u64, u64); 3],
}

struct Tallies {
    municipality: FnvMap<String, Pair>,
    municipality_unknown: Pair,
    age: Vec<Pair>, // bands, then other, then unknown
    months: Vec<Pair>,
    years: Vec<Pair>, // codes, then unknown
    education: Vec<Pair>,
    referrer: Vec<Pair>, // codes, then unknown
    before: Vec<Pair>,
    after: Vec<Pair>,
    transition: Vec<Vec<u64>>,
    outcome: Vec<Pair>,
    per: Vec<PerIntervention>,
    /// (intervention index, person key) of every active enrolment; sorted
    /// and deduplicated after the pass (cheaper than hashing every row).
    persons: Vec<(usize, u64)>,
    all_unique: u64,
}

/// Parse a stored `YYYY-MM-DD` without the generic format machinery.
pub fn fast_date(s: &str) -> Result<NaiveDate> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |a, &c| {
            c.is_ascii_digit().then(|| a * 10 + (c - b'0') as u32)
        })
    };
    (b.len() == 10)
        .then(|| {
            Some(NaiveDate::from_ymd_opt(
                num(0..4)? as i32,
                num(5..7)?,
                num(8..10)?,
            ))
        })
        .flatten()
        .flatten()
        .ok_or_else(|| {
            Error::Database(format!(
                "damaged date '{s}' in the database; run `sustrack check`"
            ))
        })
}

/// What every scan of one report shares.
struct Scan<'a> {
    index: FnvMap<&'a str, usize>,
    from: String,
    to: String,
    bands: &'a [(u32, u32)],
    months_band: u32,
    interventions: usize,
}

impl<'a> Scan<'a> {
    /// `individual` are the selected individual interventions, in table order.
    fn new(opts: &'a Options, individual: &[&'a Intervention]) -> Scan<'a> {
        Scan {
            index: individual
                .iter()
                .enumerate()
                .map(|(n, i)| (i.code.as_str(), n))
                .collect(),
            from: opts.period.from.to_string(),
            to: opts.period.to.to_string(),
            bands: &opts.age_bands,
            months_band: opts.months_band.max(1),
            interventions: individual.len(),
        }
    }
}

impl Tallies {
    fn new(scan: &Scan) -> Tallies {
        let n_support = Support::ALL.len();
        Tallies {
            municipality: FnvMap::default(),
            municipality_unknown: [0; 2],
            age: vec![[0; 2]; scan.bands.len() + 2],
            months: Vec::new(),
            years: vec![[0; 2]; YearsInSupport::ALL.len() + 1],
            education: vec![[0; 2]; Education::ALL.len()],
            referrer: vec![[0; 2]; Referrer::ALL.len() + 1],
            before: vec![[0; 2]; n_support],
            after: vec![[0; 2]; n_support],
            transition: vec![vec![0; n_support]; n_support],
            outcome: vec![[0; 2]; Outcome::ALL.len()],
            per: vec![PerIntervention::default(); scan.interventions],
            persons: Vec::new(),
            all_unique: 0,
        }
    }

    /// Tally one enrolment of the scan: every active one counts in the
    /// active tables, new ones also by referrer, exited ones also in the
    /// exit tables and the indicators. Rows of unselected interventions
    /// are skipped.
    fn add(&mut self, s: &Scan, r: &ScanRow, anonymous: &mut Anonymous) -> Result<()> {
        let Some(&iv) = r.text(Col::Intervention)?.and_then(|c| s.index.get(c)) else {
            return Ok(());
        };
        let g = r
            .code::<Gender>(Col::Gender)?
            .ok_or_else(|| {
                Error::Database("an enrolment has no gender; run `sustrack check`".into())
            })?
            .index();
        let start = r.text(Col::Start)?.unwrap_or("");
        let exit = r.text(Col::Exit)?;
        let person = person_key(r, iv, anonymous)?;
        self.per[iv].active += 1;
        self.persons.push((iv, person));
        self.add_active(s, r, g, start)?;
        if start >= s.from.as_str() {
            self.per[iv].new += 1;
            let rf = r
                .code::<Referrer>(Col::Referrer)?
                .map_or(Referrer::ALL.len(), |c| c.index());
            self.referrer[rf][g] += 1;
        }
        match exit {
            Some(exit) if exit <= s.to.as_str() => self.add_exited(s, r, iv, g, start, exit)?,
            _ => {}
        }
        Ok(())
    }

    /// The tables of the active population: municipality, age, years in
    /// support, education.
    fn add_active(&mut self, s: &Scan, r: &ScanRow, g: usize, start: &str) -> Result<()> {
        match r.text(Col::Municipality)? {
            Some(m) => match self.municipality.get_mut(m) {
                Some(c) => c[g] += 1,
                None => {
                    let mut c = [0; 2];
                    c[g] = 1;
                    self.municipality.insert(m.to_string(), c);
                }
            },
            None => self.municipality_unknown[g] += 1,
        }
        let age_row = match r.integer(Col::BirthYear)? {
            Some(by) => {
                let age = start
                    .get(0..4)
                    .and_then(|y| y.parse::<i64>().ok())
                    .unwrap_or(0)
                    - by;
                s.bands
                    .iter()
                    .position(|&(lo, hi)| age >= lo as i64 && age <= hi as i64)
                    .unwrap_or(s.bands.len())
            }
            None => s.bands.len() + 1,
        };
        self.age[age_row][g] += 1;
        let y = r
            .code::<YearsInSupport>(Col::YearsInSupport)?
            .map_or(YearsInSupport::ALL.len(), |c| c.index());
        self.years[y][g] += 1;
        let e = r
            .code::<Education>(Col::Education)?
            .unwrap_or(Education::NoneOrUnknown)
            .index();
        self.education[e][g] += 1;
        Ok(())
    }

    /// The tables of the exited population (months in the intervention,
    /// support before and after, outcome) and the indicators.
    fn add_exited(
        &mut self,
        s: &Scan,
        r: &ScanRow,
        iv: usize,
        g: usize,
        start: &str,
        exit: &str,
    ) -> Result<()> {
        let months = months_between(fast_date(start)?, fast_date(exit)?);
        let band = ((months - 1) / s.months_band) as usize;
        if self.months.len() <= band {
            self.months.resize(band + 1, [0; 2]);
        }
        self.months[band][g] += 1;
        let before = r
            .code::<Support>(Col::Support)?
            .unwrap_or(Support::Unknown)
            .index();
        let after = r
            .code::<Support>(Col::SupportAfter)?
            .unwrap_or(Support::Unknown)
            .index();
        self.before[before][g] += 1;
        self.after[after][g] += 1;
        self.transition[before][after] += 1;
        let outcome = r.code::<Outcome>(Col::Outcome)?.ok_or_else(|| {
            Error::Database("an exited enrolment has no outcome; run `sustrack check`".into())
        })?;
        self.outcome[outcome.index()][g] += 1;
        self.per[iv].add_exit(
            outcome,
            r.code::<StepProgress>(Col::StepProgress)?,
            r.code::<QualityOfLife>(Col::QualityOfLife)?,
        );
        Ok(())
    }

    /// Add another part's counts to these.
    fn merge(&mut self, o: Tallies) {
        fn add(a: &mut [Pair], b: &[Pair]) {
            for (x, y) in a.iter_mut().zip(b) {
                x[0] += y[0];
                x[1] += y[1];
            }
        }
        for (m, c) in o.municipality {
            let e = self.municipality.entry(m).or_insert([0; 2]);
            e[0] += c[0];
            e[1] += c[1];
        }
        add(
            std::slice::from_mut(&mut self.municipality_unknown),
            &[o.municipality_unknown],
        );
        add(&mut self.age, &o.age);
        if self.months.len() < o.months.len() {
            self.months.resize(o.months.len(), [0; 2]);
        }
        add(&mut self.months, &o.months);
        add(&mut self.years, &o.years);
        add(&mut self.education, &o.education);
        add(&mut self.referrer, &o.referrer);
        add(&mut self.before, &o.before);
        add(&mut self.after, &o.after);
        for (a, b) in self.transition.iter_mut().zip(&o.transition) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        add(&mut self.outcome, &o.outcome);
        for (a, b) in self.per.iter_mut().zip(&o.per) {
            a.active += b.active;
            a.new += b.new;
            a.exited += b.exited;
            for k in 0..3 {
                a.indicators[k].0 += b.indicators[k].0;
                a.indicators[k].1 += b.indicators[k].1;
            }
        }
        self.persons.extend(o.persons);
    }

    /// Count distinct persons, per intervention and overall.
    fn finish(&mut self) {
        self.persons.sort_unstable();
        self.persons.dedup();
        for &(iv, _) in &self.persons {
            self.per[iv].unique += 1;
        }
        let mut everyone: Vec<u64> = self.persons.iter().map(|&(_, p)| p).collect();
        everyone.sort_unstable();
        everyone.dedup();
        self.all_unique = everyone.len() as u64;
    }
}

impl PerIntervention {
    /// Count one exit and its indicators: work or studies over every exit,
    /// step progress and quality of life over those where it was answered.
    fn add_exit(
        &mut self,
        outcome: Outcome,
        step: Option<StepProgress>,
        qol: Option<QualityOfLife>,
    ) {
        self.exited += 1;
        self.indicators[0].0 += outcome.is_work_or_studies() as u64;
        self.indicators[0].1 += 1;
        match step {
            Some(StepProgress::Yes) => {
                self.indicators[1].0 += 1;
                self.indicators[1].1 += 1
            }
            Some(StepProgress::No) => self.indicators[1].1 += 1,
            _ => {}
        }
        match qol {
            Some(QualityOfLife::Improved) => {
                self.indicators[2].0 += 1;
                self.indicators[2].1 += 1
            }
            Some(QualityOfLife::Unchanged | QualityOfLife::Worse) => self.indicators[2].1 += 1,
            _ => {}
        }
    }
}

/// Keys for enrolments with neither person nor local id: each counts as a
/// person of its own. `part` keeps the keys of different parts of a
/// parallel scan apart.
struct Anonymous(u64);

impl Anonymous {
    fn new(part: u64) -> Anonymous {
        Anonymous((1 << 62) + (part << 40))
    }

    fn next(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// Who, for unique persons: the person id, or (intervention, local id), or
/// the enrolment itself.
fn person_key(r: &ScanRow, iv: usize, anonymous: &mut Anonymous) -> Result<u64> {
    Ok(match (r.integer(Col::PersonId)?, r.text(Col::LocalId)?) {
        (Some(p), _) => p as u64,
        (_, Some(local)) => local_key(iv, local),
        _ => anonymous.next(),
    })
}

/// A person key for anonymous participants with a local id: the same in
/// every part of a parallel scan, and disjoint from person ids (top bit set).
fn local_key(iv: usize, local: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (iv, local).hash(&mut h);
    (1 << 63) | (h.finish() >> 1)
}

/// Tally the enrolments whose id lies in `range` (all when `None`) as part
/// `part` of the scan.
fn scan(conn: &Connection, s: &Scan, range: Option<(&str, &str)>, part: u64) -> Result<Tallies> {
    let mut t = Tallies::new(s);
    let mut anonymous = Anonymous::new(part);
    report_scan::active_enrolments(conn, &s.from, &s.to, range, |r| {
        t.add(s, &r, &mut anonymous)
    })?;
    Ok(t)
}

/// Compute the report (without suppression) on one connection.
pub fn compute(conn: &Connection, opts: &Options) -> Result<Report> {
    compute_with(conn, opts, |s| scan(conn, s, None, 0))
}

/// Compute the report on snapshot connections that all see one state
/// ([`crate::store::Store::snapshot`]): the first reads interventions,
/// targets and volumes, and the others scan one share each of the
/// (random, uniformly spread) enrolment ids, one per core.
pub fn compute_on(mut readers: Vec<Connection>, opts: &Options) -> Result<Report> {
    if readers.len() < 2 {
        let c = readers
            .pop()
            .ok_or_else(|| Error::Database("a report needs a connection".into()))?;
        return compute(&c, opts);
    }
    let meta = readers.remove(0);
    let ranges = crate::store::enrolments::id_ranges(readers.len());
    let inputs: Vec<(Connection, (String, String))> = readers.into_iter().zip(ranges).collect();
    compute_with(&meta, opts, |s| {
        let mut parts = crate::parallel::run_each(inputs, |i, (c, (lo, hi))| {
            scan(&c, s, Some((&lo, &hi)), i as u64)
        })?
        .into_iter();
        let mut t = parts.next().expect("one part at least");
        for p in parts {
            t.merge(p);
        }
        Ok(t)
    })
}

/// Resolve the selection, tally its enrolments with `run`, and lay out
/// the tables and indicators.
fn compute_with(
    conn: &Connection,
    opts: &Options,
    run: impl FnOnce(&Scan) -> Result<Tallies>,
) -> Result<Report> {
    let all = interventions::all(conn)?;
    let selection = resolve_selection(&all, &opts.interventions)?;
    let individual: Vec<&Intervention> = selection
        .iter()
        .filter(|i| i.kind == crate::codes::InterventionKind::Individual)
        .collect();
    let s = Scan::new(opts, &individual);
    let mut t = run(&s)?;
    t.finish();
    let volume = volume(conn, opts, &selection, opts.lang)?;
    let tables = tables(&t, &s, &individual, volume, opts.lang);
    let indicators = indicators(&t, &individual, &all, opts.lang);
    let mut codes: Vec<String> = selection.iter().map(|i| i.code.clone()).collect();
    codes.sort();
    Ok(Report {
        period: opts.period,
        interventions: codes,
        tables,
        indicators,
        lang: opts.lang,
        suppress_below: None,
    })
}

/// Every table of the report, in the order SPEC section 6 lists them.
fn tables(
    t: &Tallies,
    s: &Scan,
    individual: &[&Intervention],
    volume: Table,
    lang: Lang,
) -> Vec<Table> {
    vec![
        participation(t, individual, lang),
        volume,
        municipality(t, lang),
        age(t, s.bands, lang),
        months(t, s.months_band, lang),
        years_in_support(t, lang),
        code_table::<Education>(
            "education",
            lang.pick("Utbildningsnivå", "Education"),
            &t.education,
            None,
            lang,
        ),
        code_table::<Referrer>(
            "referrer",
            lang.pick("Remittent (nya deltagare)", "Referrer (new participants)"),
            &t.referrer,
            Some(&t.referrer[Referrer::ALL.len()]),
            lang,
        ),
        support_before_after(t, lang),
        support_transition(t, lang),
        code_table::<Outcome>(
            "outcome",
            lang.pick("Vad hände vid avslut", "Outcome at exit"),
            &t.outcome,
            None,
            lang,
        ),
    ]
}

fn gender_columns(lang: Lang) -> (Vec<String>, Vec<String>) {
    (
        SV_EN_GENDER_COLUMNS
            .iter()
            .map(|(s, e)| lang.pick(s, e).to_string())
            .collect(),
        vec!["woman".into(), "man".into(), "total".into()],
    )
}

fn total_label(lang: Lang) -> String {
    lang.pick("Totalt", "Total").into()
}

fn pair_row(key: &str, label: &str, p: &Pair) -> Row {
    Row {
        key: key.into(),
        label: label.into(),
        values: vec![Some(p[0]), Some(p[1]), Some(p[0] + p[1])],
        shares: None,
    }
}

/// The total row of a table: column sums.
fn column_sums(rows: &[Row], width: usize) -> Vec<Option<u64>> {
    (0..width)
        .map(|c| Some(rows.iter().map(|r| r.values[c].unwrap_or(0)).sum()))
        .collect()
}

fn gender_table(id: &'static str, title: &str, rows: Vec<Row>, lang: Lang) -> Table {
    let (columns, column_keys) = gender_columns(lang);
    let total = column_sums(&rows, 3);
    Table {
        id,
        title: title.into(),
        columns,
        column_keys,
        rows,
        total,
        total_label: total_label(lang),
    }
}

/// A table with one row per code, plus an `unknown` row for missing values when non-empty.
fn code_table<C: Code>(
    id: &'static str,
    title: &str,
    counts: &[Pair],
    unknown: Option<&Pair>,
    lang: Lang,
) -> Table {
    let mut rows: Vec<Row> = C::ALL
        .iter()
        .zip(counts)
        .map(|(c, p)| pair_row(c.code(), c.label(lang), p))
        .collect();
    if let Some(u) = unknown.filter(|u| u[0] + u[1] > 0) {
        rows.push(pair_row("unknown", lang.pick("Okänd", "Unknown"), u));
    }
    gender_table(id, title, rows, lang)
}

fn participation(t: &Tallies, individual: &[&Intervention], lang: Lang) -> Table {
    let rows: Vec<Row> = individual
        .iter()
        .zip(&t.per)
        .map(|(i, p)| Row {
            key: i.code.clone(),
            label: format!("{} – {}", i.code, i.name),
            values: vec![Some(p.active), Some(p.new), Some(p.exited), Some(p.unique)],
            shares: None,
        })
        .collect();
    let mut total = column_sums(&rows, 3);
    total.push(Some(t.all_unique));
    Table {
        id: "participation",
        title: lang
            .pick("Deltagare per insats", "Participants by intervention")
            .into(),
        columns: [
            ("Aktiva", "Active"),
            ("Nya", "New"),
            ("Avslutade", "Exited"),
            ("Unika personer", "Unique persons"),
        ]
        .iter()
        .map(|(s, e)| lang.pick(s, e).to_string())
        .collect(),
        column_keys: vec![
            "active".into(),
            "new".into(),
            "exited".into(),
            "unique_persons".into(),
        ],
        rows,
        total,
        total_label: total_label(lang),
    }
}

/// Volume interventions: monthly head counts summed over the months of the period.
fn volume(
    conn: &Connection,
    opts: &Options,
    selection: &[Intervention],
    lang: Lang,
) -> Result<Table> {
    let first = opts.period.from.format("%Y-%m").to_string();
    let last = opts.period.to.format("%Y-%m").to_string();
    let mut rows = Vec::new();
    for i in selection
        .iter()
        .filter(|i| i.kind == crate::codes::InterventionKind::Volume)
    {
        let p: Pair = report_scan::volume_sums(conn, &i.code, &first, &last)?;
        rows.push(pair_row(&i.code, &format!("{} – {}", i.code, i.name), &p));
    }
    Ok(gender_table(
        "volume",
        lang.pick(
            "Volyminsatser (summa av månadsvisa antal)",
            "Volume interventions (sum of monthly head counts)",
        ),
        rows,
        lang,
    ))
}

/// Sort key that puts Å, Ä, Ö after Z, as Swedish readers expect.
pub fn swedish_key(s: &str) -> Vec<u32> {
    s.chars()
        .flat_map(|c| c.to_lowercase())
        .map(|c| match c {
            'å' => 'z' as u32 + 1,
            'ä' | 'æ' => 'z' as u32 + 2,
            'ö' | 'ø' => 'z' as u32 + 3,
            'é' | 'è' => 'e' as u32,
            c => c as u32,
        })
        .collect()
}

/// Keyed by the stored value: a kommunkod (stable when a name changes), or
/// a legacy name that matches no kommun, shown as stored.
fn municipality(t: &Tallies, lang: Lang) -> Table {
    let mut keyed: Vec<(&String, Municipality)> = t
        .municipality
        .keys()
        .map(|k| (k, Municipality::from_stored(k)))
        .collect();
    keyed.sort_by_cached_key(|(_, m)| swedish_key(m.label()));
    let mut rows: Vec<Row> = keyed
        .iter()
        .map(|(k, m)| pair_row(k, m.label(), &t.municipality[*k]))
        .collect();
    if t.municipality_unknown != [0, 0] {
        rows.push(pair_row(
            "unknown",
            lang.pick("Okänd", "Unknown"),
            &t.municipality_unknown,
        ));
    }
    gender_table(
        "municipality",
        lang.pick("Kommun", "Municipality"),
        rows,
        lang,
    )
}

fn age(t: &Tallies, bands: &[(u32, u32)], lang: Lang) -> Table {
    let mut rows: Vec<Row> = bands
        .iter()
        .zip(&t.age)
        .map(|(&(lo, hi), p)| pair_row(&format!("{lo}-{hi}"), &format!("{lo}–{hi}"), p))
        .collect();
    let other = &t.age[bands.len()];
    if other[0] + other[1] > 0 {
        rows.push(pair_row("other", lang.pick("Övriga", "Other"), other));
    }
    let unknown = &t.age[bands.len() + 1];
    if unknown[0] + unknown[1] > 0 {
        rows.push(pair_row("unknown", lang.pick("Okänd", "Unknown"), unknown));
    }
    gender_table("age", lang.pick("Åldersintervall", "Age band"), rows, lang)
}

fn months(t: &Tallies, band: u32, lang: Lang) -> Table {
    let n = t.months.len().max(1);
    let rows = (0..n)
        .map(|b| {
            let (lo, hi) = (b as u32 * band + 1, (b as u32 + 1) * band);
            let p = t.months.get(b).copied().unwrap_or([0; 2]);
            pair_row(&format!("{lo}-{hi}"), &format!("{lo}–{hi}"), &p)
        })
        .collect();
    gender_table(
        "months",
        lang.pick(
            "Antal månader i insats (avslutade)",
            "Months in intervention (exited)",
        ),
        rows,
        lang,
    )
}

fn years_in_support(t: &Tallies, lang: Lang) -> Table {
    let mut table = code_table::<YearsInSupport>(
        "years_in_support",
        lang.pick(
            "Tid i offentlig försörjning före insats",
            "Time in public support before start",
        ),
        &t.years,
        Some(&t.years[YearsInSupport::ALL.len()]),
        lang,
    );
    add_shares(&mut table);
    table
}

/// Each value's share of its column total (`None` where the total is 0).
pub fn add_shares(table: &mut Table) {
    let totals = table.total.clone();
    for row in &mut table.rows {
        row.shares = Some(
            row.values
                .iter()
                .zip(&totals)
                .map(|(v, t)| match (v, t) {
                    (Some(v), Some(t)) if *t > 0 => Some(*v as f64 / *t as f64),
                    _ => None,
                })
                .collect(),
        );
    }
}

fn support_before_after(t: &Tallies, lang: Lang) -> Table {
    let rows: Vec<Row> = Support::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (b, a) = (t.before[i], t.after[i]);
            Row {
                key: c.code().into(),
                label: c.label(lang).into(),
                values: [b[0], b[1], b[0] + b[1], a[0], a[1], a[0] + a[1]]
                    .iter()
                    .map(|&v| Some(v))
                    .collect(),
                shares: None,
            }
        })
        .collect();
    let total = column_sums(&rows, 6);
    Table {
        id: "support_before_after",
        title: lang
            .pick(
                "Försörjning före resp. efter insats",
                "Support before and after",
            )
            .into(),
        columns: [
            ("Kvinnor före", "Women before"),
            ("Män före", "Men before"),
            ("Totalt före", "Total before"),
            ("Kvinnor efter", "Women after"),
            ("Män efter", "Men after"),
            ("Totalt efter", "Total after"),
        ]
        .iter()
        .map(|(s, e)| lang.pick(s, e).to_string())
        .collect(),
        column_keys: [
            "woman_before",
            "man_before",
            "total_before",
            "woman_after",
            "man_after",
            "total_after",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows,
        total,
        total_label: total_label(lang),
    }
}

/// Support at start (rows) by support after exit (columns); only codes that occur.
fn support_transition(t: &Tallies, lang: Lang) -> Table {
    let used: Vec<usize> = (0..Support::ALL.len())
        .filter(|&i| {
            t.transition[i].iter().sum::<u64>() > 0 || t.transition.iter().any(|r| r[i] > 0)
        })
        .collect();
    let rows: Vec<Row> = used
        .iter()
        .map(|&i| {
            let mut values: Vec<Option<u64>> =
                used.iter().map(|&j| Some(t.transition[i][j])).collect();
            values.push(Some(t.transition[i].iter().sum()));
            Row {
                key: Support::ALL[i].code().into(),
                label: Support::ALL[i].label(lang).into(),
                values,
                shares: None,
            }
        })
        .collect();
    let total = column_sums(&rows, used.len() + 1);
    let mut columns: Vec<String> = used
        .iter()
        .map(|&j| Support::ALL[j].label(lang).to_string())
        .collect();
    columns.push(total_label(lang));
    let mut column_keys: Vec<String> = used
        .iter()
        .map(|&j| Support::ALL[j].code().to_string())
        .collect();
    column_keys.push("total".into());
    Table {
        id: "support_transition",
        title: lang
            .pick(
                "Försörjning vid start (rader) och efter avslut (kolumner)",
                "Support at start (rows) and after exit (columns)",
            )
            .into(),
        columns,
        column_keys,
        rows,
        total,
        total_label: total_label(lang),
    }
}

/// The target of an intervention: its own, else its nearest ancestor's.
fn inherited_target(
    all: &[Intervention],
    code: &str,
    pick: fn(&Intervention) -> Option<f64>,
) -> Option<f64> {
    let mut current = all.iter().find(|i| i.code == code);
    let mut hops = 0;
    while let Some(i) = current {
        if let Some(t) = pick(i) {
            return Some(t);
        }
        hops += 1;
        if hops > 64 {
            return None;
        }
        current = i
            .parent
            .as_ref()
            .and_then(|p| all.iter().find(|x| &x.code == p));
    }
    None
}

pub const INDICATOR_IDS: [&str; 3] = ["work_or_studies", "step_progress", "quality_of_life"];

fn indicators(
    t: &Tallies,
    individual: &[&Intervention],
    all: &[Intervention],
    lang: Lang,
) -> Vec<Indicator> {
    let pickers: [fn(&Intervention) -> Option<f64>; 3] = [
        |i| i.target_work_studies,
        |i| i.target_step,
        |i| i.target_qol,
    ];
    let mut out = Vec::new();
    for (k, id) in INDICATOR_IDS.iter().enumerate() {
        let mut total = (0, 0);
        let mut targets: Vec<Option<f64>> = Vec::new();
        for (i, per) in individual.iter().zip(&t.per) {
            let (n, d) = per.indicators[k];
            if per.exited == 0 {
                continue;
            }
            total.0 += n;
            total.1 += d;
            let target = inherited_target(all, &i.code, pickers[k]);
            targets.push(target);
            out.push(indicator(id, Some(i.code.clone()), n, d, target, lang));
        }
        // The total has a target only when every contributing intervention shares it.
        let target = match targets.first() {
            Some(&first) if targets.iter().all(|&x| x == first) => first,
            _ => None,
        };
        out.push(indicator(id, None, total.0, total.1, target, lang));
    }
    out
}

pub fn indicator(
    id: &'static str,
    intervention: Option<String>,
    n: u64,
    d: u64,
    target: Option<f64>,
    lang: Lang,
) -> Indicator {
    let share = (d > 0).then(|| n as f64 / d as f64);
    let ten = of_ten(n, d, lang);
    Indicator {
        id,
        intervention,
        numerator: Some(n),
        denominator: Some(d),
        share,
        of_ten: ten.as_ref().map(|t| t.0),
        phrase: ten.map(|t| t.1),
        target,
        met: match (share, target) {
            (Some(s), Some(t)) => Some(s + 1e-12 >= t),
            _ => None,
        },
        too_few: false,
    }
}
