//! The annual-report tables and indicators (SPEC section 6).
//!
//! A report is data first: [`Report`] holds every table and indicator as
//! numbers with stable keys. [`compute`] fills it in one pass over the
//! period's enrolments, [`suppress`] hides small counts for publication,
//! and the renderers in [`render`] only lay out what is already decided.
//! Tests assert on the data; renderers are small and separately tested.

pub mod beyond;
pub mod compare;
pub mod compute;
pub mod goals;
pub mod render;
pub mod suppress;

use chrono::NaiveDate;

use std::borrow::Cow;

use crate::actor::{Action, Actor, Scope};
use serde::{Deserialize, Deserializer, Serialize};

use crate::codes::Lang;
use crate::error::{Error, Field, Result};
use crate::invalid;
use crate::store::{audit, Store};

/// An inclusive period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn year(y: i32) -> Result<Period> {
        match (
            NaiveDate::from_ymd_opt(y, 1, 1),
            NaiveDate::from_ymd_opt(y, 12, 31),
        ) {
            (Some(from), Some(to)) if (1900..=9999).contains(&y) => Ok(Period { from, to }),
            _ => Err(invalid!("invalid --year '{y}': expected a four-digit year")),
        }
    }

    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period> {
        if to < from {
            return Err(invalid!(
                "--to {to} is before --from {from}: the period must run forwards"
            ));
        }
        Ok(Period { from, to })
    }
}

/// Options that shape a report.
#[derive(Debug, Clone)]
pub struct Options {
    pub period: Period,
    /// Selected interventions (children are included by `compute`); empty = all.
    pub interventions: Vec<String>,
    pub lang: Lang,
    pub age_bands: Vec<(u32, u32)>,
    pub months_band: u32,
    pub suppress_below: Option<u32>,
    /// A comparison period (`--compare YEAR`, SPEC section 12): every row,
    /// total, indicator and time figure also carries its value there.
    pub compare: Option<Period>,
}

impl Options {
    pub fn new(period: Period) -> Options {
        Options {
            period,
            interventions: Vec::new(),
            lang: Lang::Sv,
            age_bands: default_age_bands(),
            months_band: 6,
            suppress_below: None,
            compare: None,
        }
    }

    /// The ranges every front end gets checked here, whoever built the
    /// options: a band of 1 to 120 months, a threshold that hides something.
    pub fn validate(&self) -> Result<()> {
        if !(1..=120).contains(&self.months_band) {
            return Err(Error::invalid(
                Field::MonthsBand,
                format!(
                    "{} is out of range: expected a number of months from 1 to 120",
                    self.months_band
                ),
            ));
        }
        if let Some(n) = self.suppress_below {
            // Below 3 a hidden count could only be 1 (SPEC section 6: the
            // reader knows a small count lies in 1..=N-1).
            if n < 3 {
                return Err(Error::invalid(
                    Field::SuppressBelow,
                    format!("{n} cannot protect anything: expected 3 or more (below 3 a hidden count could only be 1)"),
                ));
            }
        }
        Ok(())
    }
}

pub fn default_age_bands() -> Vec<(u32, u32)> {
    vec![(15, 29), (30, 44), (45, 59), (60, 74)]
}

/// Parse `15-29,30-44,...`: ascending, non-overlapping, each low <= high.
pub fn parse_age_bands(s: &str) -> Result<Vec<(u32, u32)>> {
    let err = || {
        invalid!("invalid --age-bands '{s}': expected ascending, non-overlapping bands like 15-29,30-44,45-59,60-74")
    };
    let mut out: Vec<(u32, u32)> = Vec::new();
    for part in s.split(',') {
        let part = part.trim().replace('–', "-");
        let (a, b) = part.split_once('-').ok_or_else(err)?;
        let (a, b): (u32, u32) = (
            a.trim().parse().map_err(|_| err())?,
            b.trim().parse().map_err(|_| err())?,
        );
        if a > b || b > 150 || out.last().is_some_and(|&(_, prev)| a <= prev) {
            return Err(err());
        }
        out.push((a, b));
    }
    if out.is_empty() {
        return Err(err());
    }
    Ok(out)
}

/// A complete report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub period: Period,
    /// Every intervention included (selection plus children), sorted.
    pub interventions: Vec<String>,
    pub tables: Vec<Table>,
    pub indicators: Vec<Indicator>,
    pub lang: Lang,
    pub suppress_below: Option<u32>,
    /// Time in the intervention of the exited, per intervention, subtotal
    /// and in total (SPEC section 12).
    pub durations: Vec<Duration>,
    /// What each indicator of the report measures.
    pub defs: Vec<goals::Def>,
    /// The comparison period, when the report carries one.
    pub compare: Option<Period>,
    /// People reached in total (SPEC section 13), when the selection has
    /// activities or volume head counts in the period.
    #[serde(default)]
    pub reach: Option<beyond::Reach>,
    /// Days from referral to start, when the period has referrals.
    #[serde(default)]
    pub waiting: Option<beyond::Waiting>,
    /// Budget and actual cost per intervention, for the calendar years
    /// the period covers whole; empty without budget lines.
    #[serde(default)]
    pub cost: Vec<beyond::CostLine>,
    /// True for a report computed with section 13's figures; false for one
    /// published before they existed (its differences leave them out).
    #[serde(default)]
    pub beyond: bool,
}

impl Report {
    pub fn table(&self, id: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.id == id)
    }

    /// An indicator by id, intervention (`None` = the total), gender
    /// (`None` = both) and whether it is a parent's subtotal.
    pub fn indicator(
        &self,
        id: &str,
        intervention: Option<&str>,
        gender: Option<&str>,
        subtotal: bool,
    ) -> Option<&Indicator> {
        self.indicators.iter().find(|i| {
            i.id == id
                && i.intervention.as_deref() == intervention
                && i.gender == gender
                && i.subtotal == subtotal
        })
    }
}

impl Table {
    /// A row that is not a subtotal, by key.
    pub fn row(&self, key: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.key == key && r.subtotal.is_none())
    }

    /// A parent's subtotal row, by the parent's code.
    pub fn subtotal(&self, key: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.key == key && r.subtotal.is_some())
    }
}

/// One table: rows of counts, a total row, all cells `None` when suppressed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    #[serde(deserialize_with = "interned")]
    pub id: Key,
    pub title: String,
    pub columns: Vec<String>,
    /// Stable keys of the columns (gender codes, `total`, support codes, ...).
    pub column_keys: Vec<String>,
    pub rows: Vec<Row>,
    pub total: Vec<Option<u64>>,
    /// Label of the total row ("Totalt" / "Total").
    pub total_label: String,
    /// The comparison period's total row.
    pub compare_total: Option<Vec<Option<u64>>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub label: String,
    pub values: Vec<Option<u64>>,
    /// Share of the column total, same order as `values` (only the
    /// `years_in_support` tables).
    pub shares: Option<Vec<Option<f64>>>,
    /// A parent's subtotal: the keys of the rows it adds up (its own and
    /// its descendants'). Subtotal rows are left out of the total row.
    pub subtotal: Option<Vec<String>>,
    /// Depth in the intervention tree (renderings indent by it).
    pub depth: u8,
    /// The comparison period's values, same order as `values`.
    pub compare: Option<Vec<Option<u64>>>,
}

impl Row {
    pub fn new(key: &str, label: &str, values: Vec<Option<u64>>) -> Row {
        Row {
            key: key.into(),
            label: label.into(),
            values,
            shares: None,
            subtotal: None,
            depth: 0,
            compare: None,
        }
    }
}

/// One headline indicator ("x av 10 ...").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// `work_or_studies`, `step_progress`, `quality_of_life` or the id of
    /// a förbund-defined indicator.
    pub id: String,
    /// What it measures, in the report's language ("till arbete eller studier").
    pub name: String,
    /// `None` for the total over the selection.
    pub intervention: Option<String>,
    /// True for a parent's subtotal (itself and its descendants).
    pub subtotal: bool,
    /// `woman` or `man`; `None` for both.
    #[serde(deserialize_with = "gender_key")]
    pub gender: Option<Key>,
    pub numerator: Option<u64>,
    pub denominator: Option<u64>,
    pub share: Option<f64>,
    pub of_ten: Option<u32>,
    pub phrase: Option<String>,
    pub target: Option<f64>,
    pub met: Option<bool>,
    /// True when its counts are hidden by suppression.
    pub too_few: bool,
    /// The same indicator in the comparison period.
    pub compare: Option<Box<Indicator>>,
}

/// Time in the intervention of those who exited in the period: mean and
/// median of the days from start to exit, shown in weeks (days / 7) and
/// months (days / 30.4375).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Duration {
    /// `None` for the total over the selection.
    pub intervention: Option<String>,
    pub subtotal: bool,
    /// How many exited (the population of the figures).
    pub exited: Option<u64>,
    pub mean_days: Option<f64>,
    pub median_days: Option<f64>,
    /// True when hidden by suppression (its count is).
    pub too_few: bool,
    pub compare: Option<Box<Duration>>,
}

/// A fixed key (a table id, a gender). An alias, so that serde does not
/// take the field for one borrowed from its input.
pub type Key = &'static str;

/// A table id read back from a stored (published) report: one of the ids
/// `compute` writes, else refused.
fn interned<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<&'static str, D::Error> {
    let s = String::deserialize(d)?;
    compute::TABLE_IDS
        .iter()
        .copied()
        .find(|&id| id == s)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown table id {s:?}")))
}

fn gender_key<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<&'static str>, D::Error> {
    match Option::<String>::deserialize(d)?.as_deref() {
        None => Ok(None),
        Some("woman") => Ok(Some("woman")),
        Some("man") => Ok(Some("man")),
        Some(s) => Err(serde::de::Error::custom(format!("unknown gender {s:?}"))),
    }
}

pub const DAYS_PER_WEEK: f64 = 7.0;
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// "x av 10" with drygt/knappt, computed exactly in integers:
/// of_ten = round half up (10 n / d); "drygt" when 10 n / d is at least 0.15
/// above it, "knappt" when at least 0.15 below.
pub fn of_ten(numerator: u64, denominator: u64, lang: Lang) -> Option<(u32, String)> {
    if denominator == 0 {
        return None;
    }
    let x = 10 * numerator as i128;
    let d = denominator as i128;
    let k = (2 * x + d) / (2 * d);
    let diff = x - k * d; // (10n/d - k) * d
    let qualifier = if 100 * diff >= 15 * d {
        lang.pick("drygt ", "just over ")
    } else if -100 * diff >= 15 * d {
        lang.pick("knappt ", "just under ")
    } else {
        ""
    };
    let phrase = format!("{qualifier}{k} {} 10", lang.pick("av", "in"));
    Some((k as u32, phrase))
}

/// Compute a report and apply suppression when asked.
pub fn build(conn: &rusqlite::Connection, opts: &Options) -> Result<Report> {
    opts.validate()?;
    finish(compute::compute_periods(conn, opts)?, opts)
}

/// A report as a front end asks for it: the read is recorded in the audit
/// trail (period, selection, suppression, and the format the caller will
/// render it in) and committed first, in a short write of its own; then the
/// tables are computed from one consistent snapshot on all cores, without
/// holding the write lock, so registrations go on meanwhile.
///
/// A staff member's report covers their own interventions only: see
/// [`within_scope`].
pub fn run(store: &Store, actor: &Actor, opts: &Options, format: &str) -> Result<Report> {
    let scope = crate::register::require(actor, Action::Report)?;
    opts.validate()?;
    let mut conn = store.connect()?;
    let all = crate::store::interventions::all(&conn)?;
    let opts = &within_scope(&conn, &scope, &all, opts)?;
    // A refused selection (an unknown intervention) is no report made:
    // check it before the read is recorded.
    compute::resolve_selection(&all, &opts.interventions)?;
    crate::store::write(&mut conn, |tx| {
        audit::record(
            tx,
            actor,
            "report",
            Some(&format!("{}..{}", opts.period.from, opts.period.to)),
            Some(&describe(opts, format)),
        )
    })?;
    drop(conn);
    let readers = store.snapshot(crate::parallel::workers(16) + 1)?;
    finish(compute::compute_on(readers, opts)?, opts)
}

/// The options with the selection a scoped actor may have. No selection
/// means their own interventions (never "all"); a named intervention
/// outside their scope is unknown, in the words an unknown code gets. A
/// selection takes its children with it ([`compute::resolve_selection`]),
/// so each of those must be in scope too: grants come expanded over the
/// tree, and should a child have been added since the actor's grants were
/// read, the selection is refused rather than show the child's figures.
fn within_scope<'o>(
    conn: &rusqlite::Connection,
    scope: &Scope,
    all: &[crate::model::Intervention],
    opts: &'o Options,
) -> Result<Cow<'o, Options>> {
    let Scope::Only(granted) = scope else {
        return Ok(Cow::Borrowed(opts));
    };
    let selected: Vec<String> = if opts.interventions.is_empty() {
        all.iter()
            .filter(|i| granted.contains(&i.code))
            .map(|i| i.code.clone())
            .collect()
    } else {
        opts.interventions
            .iter()
            .map(|c| crate::register::intervention_in(conn, scope, c).map(|i| i.code))
            .collect::<Result<_>>()?
    };
    if selected.is_empty() {
        return Err(Error::NotFound(
            "no intervention is granted to you, so there is nothing to report".into(),
        ));
    }
    for code in &selected {
        let covered = compute::resolve_selection(all, std::slice::from_ref(code))?;
        if covered.iter().any(|i| !scope.covers(&i.code)) {
            return Err(crate::register::unknown_intervention(conn, scope, code)?);
        }
    }
    Ok(Cow::Owned(Options {
        interventions: selected,
        ..opts.clone()
    }))
}

/// What the audit trail says about a report's options.
pub fn describe(opts: &Options, format: &str) -> String {
    format!(
        "interventions {}; format {format}; lang {}; suppress below {}; age bands {}; months band {}{}",
        if opts.interventions.is_empty() {
            "all".into()
        } else {
            opts.interventions.join(",")
        },
        opts.lang.pick("sv", "en"),
        opts.suppress_below
            .map_or("none".to_string(), |n| n.to_string()),
        opts.age_bands
            .iter()
            .map(|(a, b)| format!("{a}-{b}"))
            .collect::<Vec<_>>()
            .join(","),
        opts.months_band,
        opts.compare
            .map(|c| format!("; compare {}..{}", c.from, c.to))
            .unwrap_or_default()
    )
}

/// Suppress each period's report on its own (see [`compare`] for why that
/// is suppressing them together) and lay them side by side.
fn finish(mut reports: Vec<Report>, opts: &Options) -> Result<Report> {
    if let Some(n) = opts.suppress_below {
        for r in &mut reports {
            suppress::apply(r, n);
        }
    }
    Ok(compare::merge(reports))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of_ten_rounds_half_up_with_qualifiers() {
        let p = |n, d| of_ten(n, d, Lang::Sv).unwrap();
        assert_eq!(p(29, 136), (2, "2 av 10".into())); // 2.13
        assert_eq!(p(1, 4), (3, "knappt 3 av 10".into())); // 2.5 rounds up, 0.5 below
        assert_eq!(p(24, 100), (2, "drygt 2 av 10".into())); // 2.4
        assert_eq!(p(215, 1000), (2, "drygt 2 av 10".into())); // exactly 0.15 above
        assert_eq!(p(214, 1000), (2, "2 av 10".into()));
        assert_eq!(p(285, 1000), (3, "knappt 3 av 10".into())); // exactly 0.15 below
        assert_eq!(p(286, 1000), (3, "3 av 10".into()));
        assert_eq!(p(0, 5), (0, "0 av 10".into()));
        assert_eq!(p(5, 5), (10, "10 av 10".into()));
        assert_eq!(of_ten(1, 4, Lang::En).unwrap().1, "just under 3 in 10");
        assert!(of_ten(0, 0, Lang::Sv).is_none());
    }

    #[test]
    fn age_bands_parse_and_refuse() {
        assert_eq!(
            parse_age_bands("15-29,30-44").unwrap(),
            vec![(15, 29), (30, 44)]
        );
        assert_eq!(
            parse_age_bands("16–24, 25-64").unwrap(),
            vec![(16, 24), (25, 64)]
        );
        for bad in ["", "15-29,29-40", "30-20", "a-b", "15"] {
            assert!(parse_age_bands(bad).is_err(), "{bad}");
        }
    }
}
