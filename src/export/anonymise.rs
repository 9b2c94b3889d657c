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
//! | time level | start, exit | months in intervention |
//! |---|---|---|
//! | month | `2021-03` | `7` |
//! | quarter | `2021-Q1` | band of 3, `7-9` |
//! | half-year | `2021-H1` | band of 6, `7-12` |
//! | year | `2021` | band of 12, `1-12` |
//! | hidden | `*` (exit empty while ongoing) | band of 12 |
//!
//! with the municipality shown, or `*` for every row of a person (below).
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
//! file, across exports. So the municipality is decided per person, shown
//! on all of a registered person's rows or on none: hidden when any of
//! their rows is in a group over (intervention, gender, age band,
//! municipality) of fewer than k persons, or, in a few further rounds, when
//! a row fails every time level with it. A person's rows with the
//! municipality hidden are grouped among themselves, so they often keep a
//! finer time level. After the last round a row that fails is left out,
//! never given a `*` its person's other rows do not have.
//!
//! With a key file the decisions are made over the whole register, every
//! period and intervention, so a row is shown the same way in every export
//! made with that key; rows whose group is then too small within the export
//! are left out, never coarsened further, as that would show one row two
//! ways. Exports made with one key from one state of the register reveal
//! together no more than each alone (see README's threat model for what a
//! later state can change).

use std::fmt::Write as _;

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

/// How finely start, exit and months in intervention are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Time {
    #[default]
    Month,
    Quarter,
    HalfYear,
    Year,
    /// Start and exit `*`: only whether the enrolment has ended shows.
    Hidden,
}

/// How much of a row's quasi-identifiers is shown; see the module note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Level {
    pub time: Time,
    /// `*` instead of the municipality.
    pub hide_municipality: bool,
}

impl Time {
    const ALL: [Time; 5] = [
        Time::Month,
        Time::Quarter,
        Time::HalfYear,
        Time::Year,
        Time::Hidden,
    ];

    /// A year and month as shown at this level.
    fn period_code(self, (y, m): (u16, u8)) -> u32 {
        let (y, m) = (y as u32, (m as u32).clamp(1, 12) - 1);
        match self {
            Time::Month => y * 12 + m,
            Time::Quarter => y * 4 + m / 3,
            Time::HalfYear => y * 2 + m / 6,
            Time::Year => y,
            Time::Hidden => 0,
        }
    }

    /// Width of the months-in-intervention bands at this level (1: exact).
    fn months_width(self) -> u16 {
        match self {
            Time::Month => 1,
            Time::Quarter => 3,
            Time::HalfYear => 6,
            Time::Year | Time::Hidden => 12,
        }
    }

    /// Append a start or exit month as shown: `2021-03`, `2021-Q1`,
    /// `2021-H1`, `2021` or `*`.
    pub fn write_period(self, out: &mut String, (y, m): (u16, u8)) {
        let m = (m as u32).clamp(1, 12);
        let _ = match self {
            Time::Month => write!(out, "{y:04}-{m:02}"),
            Time::Quarter => write!(out, "{y:04}-Q{}", (m - 1) / 3 + 1),
            Time::HalfYear => write!(out, "{y:04}-H{}", (m - 1) / 6 + 1),
            Time::Year => write!(out, "{y:04}"),
            Time::Hidden => write!(out, "*"),
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

/// Rounds that may hide more persons' municipality before failing rows
/// are left out (each round is one pass of the time levels).
const ROUNDS: usize = 3;

/// Decide every row's level for groups of at least `k` persons; returns the
/// rows to show (those with `in_export`) and the counts. The rows come back
/// in person order: the caller decides the order written.
///
/// Groups are found by sorting, not hashing: a row's group at every time
/// level lies within its group over (intervention, gender, age band,
/// municipality), so after one sort by that the time levels are tried on
/// small slices that stay in the cache.
pub fn anonymise(mut rows: Vec<Row>, k: u32) -> (Vec<Row>, ExportSummary) {
    let k = k.max(1);
    // One person's rows together, for deciding the municipality per person.
    rows.sort_unstable_by_key(|r| r.person);
    let mut placed: Vec<Option<Time>> = vec![Some(Time::Month); rows.len()];
    if k > 1 {
        let person = person_ordinals(&rows);
        let mut items = Vec::with_capacity(rows.len());
        let small = base_groups_below(&rows, &person, k, &mut items);
        hide_per_person(&mut rows, |i| small[i]);
        for round in 1..=ROUNDS {
            place(&rows, &person, k, &mut items, &mut placed);
            if round == ROUNDS || !hide_where_no_level_fits(&mut rows, &placed) {
                break;
            }
        }
        if rows.iter().any(|r| !r.in_export) {
            leave_out_small_groups_in_export(&rows, &person, k, &mut items, &mut placed);
        }
    }
    for (r, p) in rows.iter_mut().zip(&placed) {
        r.level.time = p.unwrap_or(Time::Hidden);
    }
    let mut summary = ExportSummary::default();
    let mut placed = placed.iter();
    rows.retain(|r| {
        let shown = placed.next().copied().flatten().is_some();
        if !r.in_export {
            return false;
        }
        if shown {
            summary.rows += 1;
            summary.coarsened += (r.level.time > Time::Month) as u64;
            summary.generalised += r.level.hide_municipality as u64;
        } else {
            summary.left_out += 1;
        }
        shown
    });
    (rows, summary)
}

/// A row as the grouping needs it, small so that sorting a million is fast.
#[derive(Clone, Copy)]
struct Item {
    /// (intervention, gender, age band, municipality or `*`).
    base: u64,
    /// The person's ordinal (rows are in person order).
    person: u32,
    row: u32,
    /// The group key within `base` at the time level being tried.
    key: u64,
}

/// Each row's person as 0, 1, 2, ... in row order.
fn person_ordinals(rows: &[Row]) -> Vec<u32> {
    let mut n = 0;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            n += (i > 0 && rows[i - 1].person != r.person) as u32;
            n
        })
        .collect()
}

fn base(r: &Row) -> u64 {
    let municipality = if r.level.hide_municipality {
        0xff_ffff
    } else {
        r.municipality as u64 & 0xff_ffff
    };
    (r.intervention as u64 & 0xff_ffff)
        | (r.man as u64) << 24
        | (r.band as u64 & 0xf) << 25
        | municipality << 29
}

/// A row's start, exit and months in intervention as shown at `time`.
fn time_key(r: &Row, time: Time) -> u64 {
    const ONGOING: u64 = (1 << 18) - 1;
    let code = |(y, m): (u16, u8)| time.period_code((y, m)) as u64 & ONGOING;
    let (exit, months) = match r.exit {
        None => (ONGOING, 0xffff),
        Some(e) => (
            code(e),
            ((r.months.max(1) - 1) / time.months_width()) as u64,
        ),
    };
    code(r.start) | exit << 18 | months << 36 | (time as u64) << 52
}

/// Sort `items` by (base, key, person) and call `f` with each run of one
/// (base, key) and its number of persons.
fn runs(items: &mut [Item], mut f: impl FnMut(&[Item], u32)) {
    items.sort_unstable_by_key(|it| (it.base, it.key, it.person));
    for run in items.chunk_by(|a, b| a.base == b.base && a.key == b.key) {
        let persons = 1 + run
            .windows(2)
            .filter(|w| w[0].person != w[1].person)
            .count();
        f(run, persons as u32);
    }
}

/// Whether each row is in a group over (intervention, gender, age band,
/// municipality) of fewer than `k` persons.
fn base_groups_below(rows: &[Row], person: &[u32], k: u32, items: &mut Vec<Item>) -> Vec<bool> {
    items.clear();
    items.extend(rows.iter().enumerate().map(|(i, r)| Item {
        base: base(r),
        person: person[i],
        row: i as u32,
        key: 0,
    }));
    let mut small = vec![false; rows.len()];
    runs(items, |run, n| {
        if n < k {
            run.iter().for_each(|it| small[it.row as usize] = true);
        }
    });
    small
}

/// Hide the municipality of persons a row of whom found no time level with
/// it; whether any was newly hidden.
fn hide_where_no_level_fits(rows: &mut [Row], placed: &[Option<Time>]) -> bool {
    let failed: Vec<bool> = rows
        .iter()
        .zip(placed)
        .map(|(r, p)| p.is_none() && !r.level.hide_municipality)
        .collect();
    let any = failed.contains(&true);
    if any {
        hide_per_person(rows, |i| failed[i]);
    }
    any
}

/// Hide the municipality on all rows of each registered person with a row
/// for which `hide(index)`, and on each anonymous row for which it holds.
fn hide_per_person(rows: &mut [Row], hide: impl Fn(usize) -> bool) {
    let mut start = 0;
    while start < rows.len() {
        let p = rows[start].person;
        let end = start + rows[start..].iter().take_while(|r| r.person == p).count();
        if matches!(p, Person::Registered(_)) {
            if (start..end).any(&hide) {
                for r in &mut rows[start..end] {
                    r.level.hide_municipality = true;
                }
            }
        } else {
            for (i, r) in rows[start..end].iter_mut().enumerate() {
                if hide(start + i) {
                    r.level.hide_municipality = true;
                }
            }
        }
        start = end;
    }
}

/// Each row at the finest time level whose group holds at least `k`
/// persons (with or without the municipality, as decided), or `None`.
fn place(rows: &[Row], person: &[u32], k: u32, items: &mut Vec<Item>, placed: &mut [Option<Time>]) {
    placed.iter_mut().for_each(|p| *p = None);
    items.clear();
    items.extend(rows.iter().enumerate().map(|(i, r)| Item {
        base: base(r),
        person: person[i],
        row: i as u32,
        key: 0,
    }));
    items.sort_unstable_by_key(|it| it.base);
    let mut pending: Vec<Item> = Vec::new();
    for slice in items.chunk_by_mut(|a, b| a.base == b.base) {
        pending.clear();
        pending.extend_from_slice(slice);
        for time in Time::ALL {
            for it in pending.iter_mut() {
                it.key = time_key(&rows[it.row as usize], time);
            }
            runs(&mut pending, |run, n| {
                if n >= k {
                    run.iter()
                        .for_each(|it| placed[it.row as usize] = Some(time));
                }
            });
            pending.retain(|it| placed[it.row as usize].is_none());
            if pending.is_empty() {
                break;
            }
        }
    }
}

/// With levels decided over more rows than the export shows: leave out the
/// export's rows whose group, within the export, holds fewer than `k`
/// persons.
fn leave_out_small_groups_in_export(
    rows: &[Row],
    person: &[u32],
    k: u32,
    items: &mut Vec<Item>,
    placed: &mut [Option<Time>],
) {
    items.clear();
    items.extend(rows.iter().enumerate().filter_map(|(i, r)| {
        let time = placed[i]?;
        r.in_export.then(|| Item {
            base: base(r),
            person: person[i],
            row: i as u32,
            key: time_key(r, time),
        })
    }));
    runs(items, |run, n| {
        if n < k {
            run.iter().for_each(|it| placed[it.row as usize] = None);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_months_as_each_level_shows_them() {
        let show = |t: Time| {
            let mut s = String::new();
            t.write_period(&mut s, (2021, 8));
            s.push(' ');
            t.write_months(&mut s, 7);
            s
        };
        assert_eq!(show(Time::Month), "2021-08 7");
        assert_eq!(show(Time::Quarter), "2021-Q3 7-9");
        assert_eq!(show(Time::HalfYear), "2021-H2 7-12");
        assert_eq!(show(Time::Year), "2021 1-12");
        assert_eq!(show(Time::Hidden), "* 1-12");
    }
}
