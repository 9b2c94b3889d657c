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

use super::goals::{Def, Goal, Targets};
use super::{of_ten, Duration, Indicator, Options, Period, Report, Row, Table};
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

/// The figures of one intervention (or, summed, of a parent's subtree).
#[derive(Default, Clone)]
struct PerIntervention {
    active: Pair,
    new: u64,
    exited: Pair,
    /// Active and not exited by the period's end (carried over).
    at_end: u64,
    /// Exited in the period at most 30 days after the start.
    early: u64,
    /// Per indicator of the report, per gender: (numerator, denominator).
    indicators: Vec<[(u64, u64); 2]>,
    /// Exits in the period by days from start to exit.
    days: Vec<u64>,
}

/// Exits at most this many days after the start are early exits.
pub const EARLY_EXIT_DAYS: i64 = 30;

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
    /// `years_in_support` of the new participants.
    years_new: Vec<Pair>,
    per: Vec<PerIntervention>,
    /// (intervention index, person key) of every active enrolment; sorted
    /// and deduplicated after the pass (cheaper than hashing every row).
    persons: Vec<(usize, u64)>,
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

/// What every scan of one report period shares.
struct Scan<'a> {
    index: FnvMap<&'a str, usize>,
    from: String,
    to: String,
    bands: &'a [(u32, u32)],
    months_band: u32,
    interventions: usize,
    goals: Vec<Goal>,
}

impl<'a> Scan<'a> {
    /// `individual` are the selected individual interventions, in table order.
    fn new(
        opts: &'a Options,
        period: Period,
        individual: &[&'a Intervention],
        defs: &[Def],
    ) -> Scan<'a> {
        Scan {
            index: individual
                .iter()
                .enumerate()
                .map(|(n, i)| (i.code.as_str(), n))
                .collect(),
            from: period.from.to_string(),
            to: period.to.to_string(),
            bands: &opts.age_bands,
            months_band: opts.months_band.max(1),
            interventions: individual.len(),
            goals: defs.iter().map(|d| d.goal).collect(),
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
            years_new: vec![[0; 2]; YearsInSupport::ALL.len() + 1],
            per: vec![
                PerIntervention {
                    indicators: vec![[(0, 0); 2]; scan.goals.len()],
                    ..PerIntervention::default()
                };
                scan.interventions
            ],
            persons: Vec::new(),
        }
    }

    /// Tally one enrolment of the scan: every active one counts in the
    /// active tables, new ones also by referrer, exited ones also in the
    /// exit tables and the indicators. Rows of unselected interventions
    /// are skipped, and so are rows not active in this scan's period (a
    /// scan with a comparison period reads the rows of both).
    fn add(&mut self, s: &Scan, r: &ScanRow, anonymous: &mut Anonymous) -> Result<()> {
        let Some(&iv) = r.text(Col::Intervention)?.and_then(|c| s.index.get(c)) else {
            return Ok(());
        };
        let start = r.text(Col::Start)?.unwrap_or("");
        let exit = r.text(Col::Exit)?;
        if start > s.to.as_str() || exit.is_some_and(|e| e < s.from.as_str()) {
            return Ok(());
        }
        let g = r
            .code::<Gender>(Col::Gender)?
            .ok_or_else(|| {
                Error::Database("an enrolment has no gender; run `sustrack check`".into())
            })?
            .index();
        let person = person_key(r, iv, anonymous)?;
        self.per[iv].active[g] += 1;
        self.persons.push((iv, person));
        let y = self.add_active(s, r, g, start)?;
        if start >= s.from.as_str() {
            self.per[iv].new += 1;
            let rf = r
                .code::<Referrer>(Col::Referrer)?
                .map_or(Referrer::ALL.len(), |c| c.index());
            self.referrer[rf][g] += 1;
            self.years_new[y][g] += 1;
        }
        match exit {
            Some(exit) if exit <= s.to.as_str() => self.add_exited(s, r, iv, g, start, exit)?,
            _ => self.per[iv].at_end += 1,
        }
        Ok(())
    }

    /// The tables of the active population: municipality, age, years in
    /// support, education. Returns the years-in-support row.
    fn add_active(&mut self, s: &Scan, r: &ScanRow, g: usize, start: &str) -> Result<usize> {
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
        Ok(y)
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
        let (start, exit) = (fast_date(start)?, fast_date(exit)?);
        let months = months_between(start, exit);
        let days = (exit - start).num_days().max(0);
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
            &s.goals,
            g,
            days,
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
        add(&mut self.years_new, &o.years_new);
        for (a, b) in self.per.iter_mut().zip(&o.per) {
            a.add(b);
        }
        self.persons.extend(o.persons);
    }

    /// Sort the persons for [`Tallies::unique`].
    fn finish(&mut self) {
        self.persons.sort_unstable();
        self.persons.dedup();
    }

    /// Distinct persons among the active enrolments of `members`
    /// (intervention indices, ascending).
    fn unique(&self, members: &[usize]) -> u64 {
        if let [one] = members {
            let lo = self.persons.partition_point(|&(iv, _)| iv < *one);
            let hi = self.persons.partition_point(|&(iv, _)| iv <= *one);
            return (hi - lo) as u64;
        }
        let mut ps: Vec<u64> = self
            .persons
            .iter()
            .filter(|(iv, _)| members.binary_search(iv).is_ok())
            .map(|&(_, p)| p)
            .collect();
        ps.sort_unstable();
        ps.dedup();
        ps.len() as u64
    }
}

impl PerIntervention {
    /// Count one exit: its time, whether it was early, and each indicator
    /// (an outcome goal over every exit; step progress and quality of
    /// life over those where it was answered).
    fn add_exit(
        &mut self,
        goals: &[Goal],
        g: usize,
        days: i64,
        outcome: Outcome,
        step: Option<StepProgress>,
        qol: Option<QualityOfLife>,
    ) {
        self.exited[g] += 1;
        self.early += (days <= EARLY_EXIT_DAYS) as u64;
        let d = days as usize;
        if self.days.len() <= d {
            self.days.resize(d + 1, 0);
        }
        self.days[d] += 1;
        for (goal, counts) in goals.iter().zip(&mut self.indicators) {
            let (hit, answered) = match goal {
                Goal::Outcomes(mask) => (mask & (1 << outcome.index()) != 0, true),
                Goal::Step => match step {
                    Some(StepProgress::Yes) => (true, true),
                    Some(StepProgress::No) => (false, true),
                    _ => (false, false),
                },
                Goal::Qol => match qol {
                    Some(QualityOfLife::Improved) => (true, true),
                    Some(QualityOfLife::Unchanged | QualityOfLife::Worse) => (false, true),
                    _ => (false, false),
                },
            };
            counts[g].0 += hit as u64;
            counts[g].1 += answered as u64;
        }
    }

    /// Add another intervention's (or part's) figures to these.
    fn add(&mut self, b: &PerIntervention) {
        for g in 0..2 {
            self.active[g] += b.active[g];
            self.exited[g] += b.exited[g];
        }
        self.new += b.new;
        self.at_end += b.at_end;
        self.early += b.early;
        if self.indicators.len() < b.indicators.len() {
            self.indicators.resize(b.indicators.len(), [(0, 0); 2]);
        }
        for (x, y) in self.indicators.iter_mut().zip(&b.indicators) {
            for g in 0..2 {
                x[g].0 += y[g].0;
                x[g].1 += y[g].1;
            }
        }
        if self.days.len() < b.days.len() {
            self.days.resize(b.days.len(), 0);
        }
        for (x, y) in self.days.iter_mut().zip(&b.days) {
            *x += y;
        }
    }

    fn active_total(&self) -> u64 {
        self.active[0] + self.active[1]
    }

    fn exited_total(&self) -> u64 {
        self.exited[0] + self.exited[1]
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
/// `part` of the scan, once for each period: one read of the rows active
/// in any of them.
fn scan(
    conn: &Connection,
    scans: &[Scan],
    range: Option<(&str, &str)>,
    part: u64,
) -> Result<Vec<Tallies>> {
    let mut ts: Vec<Tallies> = scans.iter().map(Tallies::new).collect();
    let mut anonymous: Vec<Anonymous> = (0..scans.len()).map(|_| Anonymous::new(part)).collect();
    let from = scans.iter().map(|s| s.from.as_str()).min().unwrap_or("");
    let to = scans.iter().map(|s| s.to.as_str()).max().unwrap_or("");
    report_scan::active_enrolments(conn, from, to, range, |r| {
        for ((s, t), a) in scans.iter().zip(&mut ts).zip(&mut anonymous) {
            t.add(s, &r, a)?;
        }
        Ok(())
    })?;
    Ok(ts)
}

/// Compute the report (without suppression) on one connection; with a
/// comparison period, its figures are merged in.
pub fn compute(conn: &Connection, opts: &Options) -> Result<Report> {
    Ok(super::compare::merge(compute_periods(conn, opts)?))
}

/// The report of the period and, when asked, of the comparison period,
/// each complete and unsuppressed, from one scan.
pub fn compute_periods(conn: &Connection, opts: &Options) -> Result<Vec<Report>> {
    compute_with(conn, opts, |s| scan(conn, s, None, 0))
}

/// [`compute_periods`] on snapshot connections that all see one state
/// ([`crate::store::Store::snapshot`]): the first reads interventions,
/// targets and volumes, and the others scan one share each of the
/// (random, uniformly spread) enrolment ids, one per core.
pub fn compute_on(mut readers: Vec<Connection>, opts: &Options) -> Result<Vec<Report>> {
    if readers.len() < 2 {
        let c = readers
            .pop()
            .ok_or_else(|| Error::Database("a report needs a connection".into()))?;
        return compute_periods(&c, opts);
    }
    let meta = readers.remove(0);
    let ranges = crate::store::enrolments::id_ranges(readers.len());
    let inputs: Vec<(Connection, (String, String))> = readers.into_iter().zip(ranges).collect();
    compute_with(&meta, opts, |s| {
        let mut parts = crate::parallel::run_each(inputs, |i, (c, (lo, hi))| {
            scan(&c, s, Some((&lo, &hi)), i as u64)
        })?
        .into_iter();
        let mut ts = parts.next().expect("one part at least");
        for p in parts {
            for (t, o) in ts.iter_mut().zip(p) {
                t.merge(o);
            }
        }
        Ok(ts)
    })
}

/// A line of the per-intervention tables: an intervention's own row, or a
/// parent's subtotal of itself and its descendants.
#[derive(Debug, Clone)]
enum Line {
    Own(usize),
    Subtotal {
        code: String,
        name: String,
        members: Vec<usize>,
    },
}

/// A line, its depth in the tree, and its figures.
struct Placed {
    line: Line,
    depth: u8,
    per: PerIntervention,
    unique: u64,
}

impl Placed {
    fn code<'a>(&'a self, individual: &[&'a Intervention]) -> &'a str {
        match &self.line {
            Line::Own(i) => &individual[*i].code,
            Line::Subtotal { code, .. } => code,
        }
    }

    fn subtotal(&self) -> bool {
        matches!(self.line, Line::Subtotal { .. })
    }
}

/// The selection in tree order: each intervention's own row (individual
/// ones), its children below it, and, after a parent's subtree, the
/// parent's subtotal when it has individual descendants.
fn layout(selection: &[Intervention], individual: &[&Intervention]) -> Vec<(Line, u8)> {
    let selected: HashSet<&str> = selection.iter().map(|i| i.code.as_str()).collect();
    let own = |code: &str| individual.iter().position(|i| i.code == code);
    fn visit(
        i: &Intervention,
        depth: u8,
        selection: &[Intervention],
        own: &dyn Fn(&str) -> Option<usize>,
        out: &mut Vec<(Line, u8)>,
    ) -> Vec<usize> {
        let mut members: Vec<usize> = own(&i.code).into_iter().collect();
        if let Some(n) = members.first() {
            out.push((Line::Own(*n), depth));
        }
        let mut descendants = Vec::new();
        if depth < 32 {
            for c in selection
                .iter()
                .filter(|c| c.parent.as_deref() == Some(i.code.as_str()))
            {
                descendants.extend(visit(c, depth + 1, selection, own, out));
            }
        }
        if !descendants.is_empty() {
            members.extend(descendants);
            members.sort_unstable();
            out.push((
                Line::Subtotal {
                    code: i.code.clone(),
                    name: i.name.clone(),
                    members: members.clone(),
                },
                depth,
            ));
        }
        members
    }
    let mut out = Vec::new();
    for root in selection
        .iter()
        .filter(|i| !i.parent.as_deref().is_some_and(|p| selected.contains(p)))
    {
        visit(root, 0, selection, &own, &mut out);
    }
    out
}

/// Resolve the selection, tally its enrolments with `run` (one tally per
/// period), and lay out each period's tables and indicators.
fn compute_with(
    conn: &Connection,
    opts: &Options,
    run: impl FnOnce(&[Scan]) -> Result<Vec<Tallies>>,
) -> Result<Vec<Report>> {
    let all = interventions::all(conn)?;
    let selection = resolve_selection(&all, &opts.interventions)?;
    let individual: Vec<&Intervention> = selection
        .iter()
        .filter(|i| i.kind == crate::codes::InterventionKind::Individual)
        .collect();
    let defs = super::goals::defs(conn)?;
    let periods: Vec<Period> = std::iter::once(opts.period).chain(opts.compare).collect();
    let scans: Vec<Scan> = periods
        .iter()
        .map(|&p| Scan::new(opts, p, &individual, &defs))
        .collect();
    let tallies = run(&scans)?;
    let layout = layout(&selection, &individual);
    let mut codes: Vec<String> = selection.iter().map(|i| i.code.clone()).collect();
    codes.sort();
    let mut reports = Vec::new();
    for ((mut t, s), period) in tallies.into_iter().zip(&scans).zip(&periods) {
        t.finish();
        let placed: Vec<Placed> = layout
            .iter()
            .map(|(line, depth)| {
                let members: &[usize] = match line {
                    Line::Own(i) => std::slice::from_ref(i),
                    Line::Subtotal { members, .. } => members,
                };
                let mut per = PerIntervention::default();
                for &m in members {
                    per.add(&t.per[m]);
                }
                Placed {
                    line: line.clone(),
                    depth: *depth,
                    unique: t.unique(members),
                    per,
                }
            })
            .collect();
        let mut overall = PerIntervention::default();
        for p in &t.per {
            overall.add(p);
        }
        overall.indicators.resize(defs.len(), [(0, 0); 2]);
        let all_members: Vec<usize> = (0..individual.len()).collect();
        let everyone = t.unique(&all_members);
        let volume = volume(conn, *period, &selection, opts.lang)?;
        let targets = Targets::load(conn, &all, chrono::Datelike::year(&period.to))?;
        let view = View {
            t: &t,
            individual: &individual,
            placed: &placed,
            overall: &overall,
            everyone,
            lang: opts.lang,
        };
        let mut report = Report {
            period: *period,
            interventions: codes.clone(),
            tables: tables(&view, s, volume),
            indicators: indicators(&view, &defs, &targets),
            durations: durations(&view),
            defs: defs.clone(),
            lang: opts.lang,
            suppress_below: None,
            compare: None,
            reach: None,
            waiting: None,
            cost: Vec::new(),
            beyond: true,
        };
        super::beyond::extend(conn, &selection, &mut report)?;
        reports.push(report);
    }
    Ok(reports)
}

/// What the table builders read.
struct View<'a> {
    t: &'a Tallies,
    individual: &'a [&'a Intervention],
    placed: &'a [Placed],
    overall: &'a PerIntervention,
    everyone: u64,
    lang: Lang,
}

impl View<'_> {
    fn label(&self, p: &Placed) -> String {
        match &p.line {
            Line::Own(i) => format!(
                "{} – {}",
                self.individual[*i].code, self.individual[*i].name
            ),
            Line::Subtotal { code, name, .. } => format!(
                "{code} – {name}, {}",
                self.lang
                    .pick("totalt med delinsatser", "total with sub-interventions")
            ),
        }
    }

    /// A per-intervention row with its tree position.
    fn row(&self, p: &Placed, values: Vec<Option<u64>>) -> Row {
        let mut row = Row::new(p.code(self.individual), &self.label(p), values);
        row.depth = p.depth;
        if let Line::Subtotal { members, .. } = &p.line {
            row.subtotal = Some(
                members
                    .iter()
                    .map(|&m| self.individual[m].code.clone())
                    .collect(),
            );
        }
        row
    }
}

/// The id of every table [`tables`] makes, in its order (a stored
/// report's table ids are read back against this list).
pub const TABLE_IDS: &[&str] = &[
    "participation",
    "intervention_gender",
    "volume",
    "municipality",
    "age",
    "months",
    "years_in_support",
    "years_in_support_new",
    "education",
    "referrer",
    "support_before_after",
    "support_transition",
    "outcome",
    "activities",
    "referrals",
    "referrals_municipality",
    "referrals_decision",
];

/// Every table of the report, in the order SPEC sections 6 and 12 list them.
fn tables(v: &View, s: &Scan, volume: Table) -> Vec<Table> {
    let (t, lang) = (v.t, v.lang);
    vec![
        participation(v),
        intervention_gender(v),
        volume,
        municipality(t, lang),
        age(t, s.bands, lang),
        months(t, s.months_band, lang),
        years_in_support(
            "years_in_support",
            lang.pick(
                "Tid i offentlig försörjning före insats",
                "Time in public support before start",
            ),
            &t.years,
            lang,
        ),
        years_in_support(
            "years_in_support_new",
            lang.pick(
                "Tid i offentlig försörjning före insats (nya deltagare)",
                "Time in public support before start (new participants)",
            ),
            &t.years_new,
            lang,
        ),
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

pub(super) fn gender_columns(lang: Lang) -> (Vec<String>, Vec<String>) {
    (
        SV_EN_GENDER_COLUMNS
            .iter()
            .map(|(s, e)| lang.pick(s, e).to_string())
            .collect(),
        vec!["woman".into(), "man".into(), "total".into()],
    )
}

pub(super) fn total_label(lang: Lang) -> String {
    lang.pick("Totalt", "Total").into()
}

fn pair_values(p: &Pair) -> Vec<Option<u64>> {
    vec![Some(p[0]), Some(p[1]), Some(p[0] + p[1])]
}

pub(super) fn pair_row(key: &str, label: &str, p: &Pair) -> Row {
    Row::new(key, label, pair_values(p))
}

/// The total row of a table: column sums of the rows that are not subtotals.
pub(super) fn column_sums(rows: &[Row], width: usize) -> Vec<Option<u64>> {
    (0..width)
        .map(|c| {
            Some(
                rows.iter()
                    .filter(|r| r.subtotal.is_none())
                    .map(|r| r.values[c].unwrap_or(0))
                    .sum(),
            )
        })
        .collect()
}

pub(super) fn gender_table(id: &'static str, title: &str, rows: Vec<Row>, lang: Lang) -> Table {
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
        compare_total: None,
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

/// Per intervention (and parent subtotal): active, new, exited, active at
/// the period's end, early exits, distinct persons.
fn participation(v: &View) -> Table {
    let lang = v.lang;
    let rows: Vec<Row> = v
        .placed
        .iter()
        .map(|p| {
            let f = &p.per;
            v.row(
                p,
                [
                    f.active_total(),
                    f.new,
                    f.exited_total(),
                    f.at_end,
                    f.early,
                    p.unique,
                ]
                .map(Some)
                .to_vec(),
            )
        })
        .collect();
    let mut total = column_sums(&rows, 5);
    total.push(Some(v.everyone));
    Table {
        id: "participation",
        title: lang
            .pick("Deltagare per insats", "Participants by intervention")
            .into(),
        columns: [
            ("Aktiva", "Active"),
            ("Nya", "New"),
            ("Avslutade", "Exited"),
            ("Kvar vid periodens slut", "Active at period end"),
            ("Avslutade inom 30 dagar", "Exited within 30 days"),
            ("Unika personer", "Unique persons"),
        ]
        .iter()
        .map(|(s, e)| lang.pick(s, e).to_string())
        .collect(),
        column_keys: PARTICIPATION_COLUMNS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        rows,
        total,
        total_label: total_label(lang),
        compare_total: None,
    }
}

/// The column keys of `participation`.
pub const PARTICIPATION_COLUMNS: [&str; 6] = [
    "active",
    "new",
    "exited",
    "active_at_end",
    "early_exits",
    "unique_persons",
];

/// Active participants by gender, per intervention and parent subtotal.
fn intervention_gender(v: &View) -> Table {
    let rows = v
        .placed
        .iter()
        .map(|p| v.row(p, pair_values(&p.per.active)))
        .collect();
    gender_table(
        "intervention_gender",
        v.lang.pick(
            "Deltagare per insats och kön",
            "Participants by intervention and gender",
        ),
        rows,
        v.lang,
    )
}

/// Volume interventions: monthly head counts summed over the months of the period.
fn volume(
    conn: &Connection,
    period: Period,
    selection: &[Intervention],
    lang: Lang,
) -> Result<Table> {
    let first = period.from.format("%Y-%m").to_string();
    let last = period.to.format("%Y-%m").to_string();
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

fn years_in_support(id: &'static str, title: &str, counts: &[Pair], lang: Lang) -> Table {
    let mut table = code_table::<YearsInSupport>(
        id,
        title,
        counts,
        Some(&counts[YearsInSupport::ALL.len()]),
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
            Row::new(
                c.code(),
                c.label(lang),
                [b[0], b[1], b[0] + b[1], a[0], a[1], a[0] + a[1]]
                    .iter()
                    .map(|&v| Some(v))
                    .collect(),
            )
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
        compare_total: None,
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
            Row::new(Support::ALL[i].code(), Support::ALL[i].label(lang), values)
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
        compare_total: None,
    }
}

/// The indicators: for each (standard, then förbund-defined) indicator,
/// every line with exits (an intervention's own, a parent's subtotal),
/// then the total; each for both genders, then women, then men.
fn indicators(v: &View, defs: &[Def], targets: &Targets) -> Vec<Indicator> {
    let mut out = Vec::new();
    for (k, def) in defs.iter().enumerate() {
        let mut contributing: Vec<Option<f64>> = Vec::new();
        for p in v.placed.iter().filter(|p| p.per.exited_total() > 0) {
            let code = p.code(v.individual);
            let target = targets.of(def, code);
            if !p.subtotal() {
                contributing.push(target);
            }
            push_gendered(
                &mut out,
                def,
                Some(code),
                p.subtotal(),
                p.per.indicators[k],
                target,
                v.lang,
            );
        }
        // The total's target: the förbund's own for the year, else the
        // one every contributing intervention shares.
        let target = targets.total(def).or(match contributing.first() {
            Some(&first) if contributing.iter().all(|&x| x == first) => first,
            _ => None,
        });
        push_gendered(
            &mut out,
            def,
            None,
            false,
            v.overall.indicators[k],
            target,
            v.lang,
        );
    }
    out
}

/// One indicator for both genders, then for women and for men.
fn push_gendered(
    out: &mut Vec<Indicator>,
    def: &Def,
    code: Option<&str>,
    subtotal: bool,
    counts: [(u64, u64); 2],
    target: Option<f64>,
    lang: Lang,
) {
    let [w, m] = counts;
    for (gender, (n, d)) in [
        (None, (w.0 + m.0, w.1 + m.1)),
        (Some("woman"), w),
        (Some("man"), m),
    ] {
        let mut i = indicator(&def.id, code.map(String::from), n, d, target, lang);
        i.name = def.name(lang).to_string();
        i.subtotal = subtotal;
        i.gender = gender;
        out.push(i);
    }
}

pub fn indicator(
    id: &str,
    intervention: Option<String>,
    n: u64,
    d: u64,
    target: Option<f64>,
    lang: Lang,
) -> Indicator {
    let share = (d > 0).then(|| n as f64 / d as f64);
    let ten = of_ten(n, d, lang);
    Indicator {
        id: id.to_string(),
        name: String::new(),
        intervention,
        subtotal: false,
        gender: None,
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
        compare: None,
    }
}

/// Time in the intervention of the exited: every line with exits, then
/// the total.
fn durations(v: &View) -> Vec<Duration> {
    let mut out: Vec<Duration> = v
        .placed
        .iter()
        .filter(|p| p.per.exited_total() > 0)
        .map(|p| duration(Some(p.code(v.individual).to_string()), p.subtotal(), &p.per))
        .collect();
    out.push(duration(None, false, v.overall));
    out
}

fn duration(intervention: Option<String>, subtotal: bool, per: &PerIntervention) -> Duration {
    let n = per.exited_total();
    let (mean, median) = mean_median(&per.days, n);
    Duration {
        intervention,
        subtotal,
        exited: Some(n),
        mean_days: mean,
        median_days: median,
        too_few: false,
        compare: None,
    }
}

/// Mean and median of a histogram (`counts[d]` values equal to `d`) of
/// `n` values; the median of an even count is the mean of the middle two.
pub fn mean_median(counts: &[u64], n: u64) -> (Option<f64>, Option<f64>) {
    if n == 0 {
        return (None, None);
    }
    let sum: u128 = counts
        .iter()
        .enumerate()
        .map(|(d, &c)| d as u128 * c as u128)
        .sum();
    // The values at ranks k (1-based).
    let at = |k: u64| -> u64 {
        let mut seen = 0;
        for (d, &c) in counts.iter().enumerate() {
            seen += c;
            if seen >= k {
                return d as u64;
            }
        }
        counts.len() as u64
    };
    let median = if n % 2 == 1 {
        at(n.div_ceil(2)) as f64
    } else {
        (at(n / 2) + at(n / 2 + 1)) as f64 / 2.0
    };
    (Some(sum as f64 / n as f64), Some(median))
}
