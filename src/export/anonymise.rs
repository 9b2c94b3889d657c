//! k-anonymity of the export: a pure function from the rows read to the rows
//! shown, with each row's level of detail decided (SPEC section 8).
//!
//! **Quasi-identifiers** are what an evaluator could know of someone from
//! elsewhere: intervention, gender, age band, municipality, and when the
//! enrolment started and ended. Start and exit month make most rows unique,
//! so they are quasi-identifiers too, and so is months in intervention (it
//! follows from them). Every row is shown at the finest level at which its
//! group holds at least k **persons**:
//!
//! | level | municipality | start, exit | months in intervention |
//! |---|---|---|---|
//! | month | shown | `2021-03` | `7` |
//! | quarter | shown | `2021-Q1` | band of 3, `7-9` |
//! | half-year | shown | `2021-H1` | band of 6, `7-12` |
//! | year | shown | `2021` | band of 12, `1-12` |
//! | year, no municipality | `*` | `2021` | band of 12 |
//!
//! A row that reaches no level is left out. A group at one level counts only
//! the rows that did not reach a finer one, so each group shown holds at
//! least k persons.
//!
//! **Persons, not rows.** One person's enrolments count once in a group, so
//! one person with three enrolments and two others is three, not five.
//! Anonymous enrolments are never linked (each has its own pseudonym), but
//! for counting, those of one intervention with the same `local_id` are
//! taken to be one person: the team's id is the only sign that they are,
//! and counting fewer persons is the safe side. Without a `local_id` an
//! anonymous enrolment counts as a person of its own; nothing more is known.
//!
//! **The pseudonym links a person's rows**, in one export and, with a key
//! file, across exports. So a person's municipality is shown on all of
//! their rows or on none: if any row of a person needs `*`, all of them get
//! it (repeated until nothing changes, since moving rows out of a group can
//! make it too small). With a key file the levels are decided over the whole
//! register, every period and intervention, so that a row is shown the same
//! way in every export made with that key; rows whose group is then too
//! small within the export are left out, never coarsened further, as that
//! would show one row two ways. Exports made with one key from one state of
//! the register reveal together no more than each alone (see README's threat
//! model for what a later state can change).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use super::ExportSummary;

/// Who a row belongs to, for counting persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Person {
    /// A registered person: their rows share a pseudonym.
    Registered(i64),
    /// Anonymous: a key per intervention and `local_id` (or per enrolment);
    /// the rows do not share a pseudonym.
    Anonymous(u64),
}

/// How much of a row's quasi-identifiers is shown; see the module note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Month,
    Quarter,
    HalfYear,
    Year,
    YearNoMunicipality,
    LeftOut,
}

impl Level {
    const SHOWN: [Level; 5] = [
        Level::Month,
        Level::Quarter,
        Level::HalfYear,
        Level::Year,
        Level::YearNoMunicipality,
    ];

    fn coarser(self) -> Level {
        match self {
            Level::Month => Level::Quarter,
            Level::Quarter => Level::HalfYear,
            Level::HalfYear => Level::Year,
            Level::Year => Level::YearNoMunicipality,
            _ => Level::LeftOut,
        }
    }

    pub fn shows_municipality(self) -> bool {
        self < Level::YearNoMunicipality
    }

    /// A year and month as shown at this level.
    fn period_code(self, (y, m): (u16, u8)) -> u32 {
        let (y, m) = (y as u32, (m as u32).clamp(1, 12) - 1);
        match self {
            Level::Month => y * 12 + m,
            Level::Quarter => y * 4 + m / 3,
            Level::HalfYear => y * 2 + m / 6,
            _ => y,
        }
    }

    /// Width of the months-in-intervention bands at this level (1: exact).
    fn months_width(self) -> u16 {
        match self {
            Level::Month => 1,
            Level::Quarter => 3,
            Level::HalfYear => 6,
            _ => 12,
        }
    }

    /// Append a start or exit month as shown: `2021-03`, `2021-Q1`,
    /// `2021-H1` or `2021`.
    pub fn write_period(self, out: &mut String, (y, m): (u16, u8)) {
        let m = (m as u32).clamp(1, 12);
        let _ = match self {
            Level::Month => write!(out, "{y:04}-{m:02}"),
            Level::Quarter => write!(out, "{y:04}-Q{}", (m - 1) / 3 + 1),
            Level::HalfYear => write!(out, "{y:04}-H{}", (m - 1) / 6 + 1),
            _ => write!(out, "{y:04}"),
        };
    }

    /// Append months in intervention as shown: exact or a band `7-12`.
    pub fn write_months(self, out: &mut String, months: u16) {
        let w = self.months_width();
        let _ = if w == 1 {
            write!(out, "{months}")
        } else {
            let lo = (months.max(1) - 1) / w * w + 1;
            write!(out, "{lo}-{}", lo + w - 1)
        };
    }
}

/// One enrolment between reading and writing, held compactly (a national
/// export keeps a million of them).
#[derive(Debug, Clone)]
pub struct Row {
    // Quasi-identifiers.
    /// Index into the export's intervention list.
    pub intervention: u32,
    pub man: bool,
    /// Index into the age bands; see `super::band_names`.
    pub band: u8,
    /// Index into the export's municipality list; 0 = not recorded.
    pub municipality: u32,
    /// (year, month).
    pub start: (u16, u8),
    pub exit: Option<(u16, u8)>,
    /// Months in intervention; 0 while ongoing.
    pub months: u16,
    // What decides.
    pub person: Person,
    /// False for a row read only to decide levels (a key file's whole
    /// register): it is never shown.
    pub in_export: bool,
    // Carried, not read here.
    /// Index into each code column's list, +1; 0 = not recorded.
    pub codes: [u8; 8],
    pub who: super::Who,
    /// Set by `anonymise`.
    pub level: Level,
}

/// Decide every row's level for groups of at least `k` persons; returns the
/// rows to show (those with `in_export`, in the order given) and the counts.
pub fn anonymise(mut rows: Vec<Row>, k: u32) -> (Vec<Row>, ExportSummary) {
    let k = k.max(1);
    // Rows in person order, so that one person's rows come together and a
    // group counts each person once with a single "last person" per group.
    let mut order: Vec<u32> = (0..rows.len() as u32).collect();
    order.sort_unstable_by_key(|&i| rows[i as usize].person);
    let mut floor = vec![Level::Month; rows.len()];
    let mut counts = Counts::default();
    loop {
        place(&mut rows, &order, k, &floor, &mut counts);
        if !hide_municipality_per_person(&rows, &order, &mut floor) {
            break;
        }
    }
    if rows.iter().any(|r| !r.in_export) {
        leave_out_small_groups_in_export(&mut rows, &order, k, &mut counts);
    }
    let mut summary = ExportSummary::default();
    rows.retain(|r| {
        if !r.in_export {
            return false;
        }
        match r.level {
            Level::LeftOut => summary.left_out += 1,
            l => {
                summary.rows += 1;
                summary.coarsened += (l > Level::Month) as u64;
                summary.generalised += (!l.shows_municipality()) as u64;
            }
        }
        r.level != Level::LeftOut
    });
    (rows, summary)
}

/// Group sizes in persons, by group key: (persons, last person counted).
type Counts = HashMap<u128, (u32, Option<Person>), BuildHasherDefault<Mix>>;

/// Each row at the finest level at or above its floor whose group holds at
/// least `k` persons.
fn place(rows: &mut [Row], order: &[u32], k: u32, floor: &[Level], counts: &mut Counts) {
    for (r, &f) in rows.iter_mut().zip(floor) {
        r.level = f;
    }
    if k == 1 {
        return;
    }
    for level in Level::SHOWN {
        count(rows, order, counts, |r| r.level == level);
        if counts.values().all(|&(n, _)| n >= k) {
            continue;
        }
        for r in rows.iter_mut() {
            if r.level == level && counts[&group(r, level)].0 < k {
                r.level = level.coarser();
            }
        }
    }
}

/// Count persons per group over the rows that `take` selects, each at its
/// own level.
fn count(rows: &[Row], order: &[u32], counts: &mut Counts, take: impl Fn(&Row) -> bool) {
    counts.clear();
    for &i in order {
        let r = &rows[i as usize];
        if !take(r) {
            continue;
        }
        let e = counts.entry(group(r, r.level)).or_insert((0, None));
        if e.1 != Some(r.person) {
            e.0 += 1;
            e.1 = Some(r.person);
        }
    }
}

/// Raise the floor of every row of a registered person some of whose rows
/// hide the municipality while others show it; whether anything changed.
fn hide_municipality_per_person(rows: &[Row], order: &[u32], floor: &mut [Level]) -> bool {
    let mut changed = false;
    for run in order.chunk_by(|&a, &b| rows[a as usize].person == rows[b as usize].person) {
        if !matches!(rows[run[0] as usize].person, Person::Registered(_)) || run.len() == 1 {
            continue;
        }
        let level = |i: &u32| rows[*i as usize].level;
        let hides = run.iter().any(|i| level(i) == Level::YearNoMunicipality);
        let shows = run.iter().any(|i| level(i).shows_municipality());
        if hides && shows {
            for &i in run {
                let f = &mut floor[i as usize];
                if *f < Level::YearNoMunicipality {
                    *f = Level::YearNoMunicipality;
                    changed = true;
                }
            }
        }
    }
    changed
}

/// With levels decided over more rows than the export shows: leave out the
/// export's rows whose group, within the export, holds fewer than `k`
/// persons.
fn leave_out_small_groups_in_export(rows: &mut [Row], order: &[u32], k: u32, counts: &mut Counts) {
    let shown = |r: &Row| r.in_export && r.level != Level::LeftOut;
    count(rows, order, counts, shown);
    for r in rows.iter_mut() {
        if shown(r) && counts[&group(r, r.level)].0 < k {
            r.level = Level::LeftOut;
        }
    }
}

/// A row's group at `level`: its quasi-identifiers as that level shows them.
fn group(r: &Row, level: Level) -> u128 {
    const ONGOING: u128 = (1 << 18) - 1;
    let municipality = if level.shows_municipality() {
        r.municipality as u128 & 0xff_ffff
    } else {
        0
    };
    let exit = r
        .exit
        .map_or(ONGOING, |e| level.period_code(e) as u128 & ONGOING);
    let months = if r.exit.is_none() {
        0xffff
    } else {
        (r.months.max(1) - 1) / level.months_width()
    } as u128;
    (level as u128)
        | (r.intervention as u128 & 0xff_ffff) << 3
        | (r.man as u128) << 27
        | (r.band as u128 & 0xf) << 28
        | municipality << 32
        | (level.period_code(r.start) as u128 & ONGOING) << 56
        | exit << 74
        | months << 92
}

/// A fast hasher for the group keys (they are not chosen by an adversary
/// who could aim for collisions: only the register's own values).
#[derive(Default)]
struct Mix(u64);

impl Hasher for Mix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_u128(&mut self, v: u128) {
        self.write_u64(v as u64);
        self.write_u64((v >> 64) as u64);
        self.0 ^= self.0 >> 29;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_months_as_each_level_shows_them() {
        let show = |l: Level| {
            let mut s = String::new();
            l.write_period(&mut s, (2021, 8));
            s.push(' ');
            l.write_months(&mut s, 7);
            s
        };
        assert_eq!(show(Level::Month), "2021-08 7");
        assert_eq!(show(Level::Quarter), "2021-Q3 7-9");
        assert_eq!(show(Level::HalfYear), "2021-H2 7-12");
        assert_eq!(show(Level::Year), "2021 1-12");
        assert_eq!(show(Level::YearNoMunicipality), "2021 1-12");
    }
}
