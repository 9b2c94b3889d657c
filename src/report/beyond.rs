//! The report's figures beyond participants (SPEC section 13): the tables
//! `activities`, `referrals` (by referrer × gender), `referrals_municipality`
//! and `referrals_decision`, the median wait from referral to start, the
//! reach line, and the cost per intervention.
//!
//! Definitions (each decided here, once):
//! - An activity counts in the period of its date. Its row is the
//!   intervention and kind; occasions and organisations are not counts of
//!   people (never suppressed), attendees by gender are.
//! - A referral counts in the period it was received. Its decision is the
//!   one recorded by the period's end (a decision dated later is still
//!   "undecided" in this period), so a published period keeps its figures.
//! - The wait is the days from the referral's date to the start of the
//!   enrolment it became, over the period's referrals decided `started` by
//!   its end; the median of an even count is the mean of the middle two.
//! - Reach = unique participants + volume head counts + activity
//!   attendees: a sum that may count one person more than once, and
//!   labelled so.
//! - Cost: for a period of whole calendar years (a `--year` report: that
//!   year), the budget lines of those years, per intervention with a
//!   budget. The participants are the intervention's active enrolments,
//!   its sub-interventions' included (the participation table's figure or
//!   subtotal) and the exits to work or studies its indicator's count (or
//!   subtotal); a cost per participant or per exit is shown only
//!   when the actual cost is known and the count is not zero (never as 0).

use std::collections::BTreeMap;

use chrono::Datelike;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::compute::{column_sums, gender_table, pair_row, total_label};
use super::{Period, Report, Row, Table};
use crate::codes::{ActivityKind, Code, Decision, Gender, Lang, Referrer};
use crate::error::Result;
use crate::model::Intervention;
use crate::store::beyond as store;

/// Reach: everyone the selection's work touched in the period, summed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    pub participants: Option<u64>,
    pub volume: Option<u64>,
    pub attendees: Option<u64>,
    pub total: Option<u64>,
}

/// Days from referral to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waiting {
    /// The referrals of the period that became starts by its end.
    pub started: Option<u64>,
    pub median_days: Option<f64>,
    /// True when hidden by suppression (its count is).
    pub too_few: bool,
}

/// One intervention's money for the years the period covers whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostLine {
    /// `None` for the total line (money only).
    pub intervention: Option<String>,
    pub label: String,
    /// The calendar years summed.
    pub years: Vec<i32>,
    pub budget: u64,
    /// `None` while any of the years' actual cost is not known.
    pub actual: Option<u64>,
    /// Active participants (enrolments) in the period, sub-interventions
    /// included.
    pub participants: Option<u64>,
    pub per_participant: Option<u64>,
    /// Exits to work or studies in the period.
    pub exits: Option<u64>,
    pub per_exit: Option<u64>,
    /// Hidden by suppression: the participants (and the cost per
    /// participant), the exits (and the cost per exit).
    #[serde(default)]
    pub too_few: [bool; 2],
}

impl CostLine {
    /// Budget minus actual cost (positive: under budget).
    pub fn deviation(&self) -> Option<i64> {
        self.actual.map(|a| self.budget as i64 - a as i64)
    }
}

pub const ACTIVITY_COLUMNS: [&str; 6] = [
    "occasions",
    "woman",
    "man",
    "unknown",
    "total",
    "organisations",
];
/// The columns of `activities` that do not count people.
pub fn not_people(table: &str, col: usize) -> bool {
    table == "activities" && (col == 0 || col == 5)
}

/// Whether a published figure's key (see `rights::publish::figures`) is
/// one of section 13's.
pub fn is_beyond_figure(key: &str) -> bool {
    let family = key.split('/').next().unwrap_or("");
    matches!(
        family,
        "activities"
            | "referrals"
            | "referrals_municipality"
            | "referrals_decision"
            | "reach"
            | "waiting"
            | "cost"
    )
}

/// Add the period's section 13 figures to a computed report of `selection`.
pub fn extend(conn: &Connection, selection: &[Intervention], report: &mut Report) -> Result<()> {
    let lang = report.lang;
    let p = report.period;
    let codes: Vec<String> = selection.iter().map(|i| i.code.clone()).collect();
    let names: BTreeMap<&str, &str> = selection
        .iter()
        .map(|i| (i.code.as_str(), i.name.as_str()))
        .collect();
    let acts = store::activities(conn, &codes, p.from, p.to)?;
    if !acts.is_empty() {
        report.tables.push(activities(&acts, &names, lang));
    }
    let refs = store::referral_counts(conn, &codes, p.from, p.to)?;
    if !refs.is_empty() {
        report.tables.extend(referral_tables(&refs, lang));
        let waits = refs
            .iter()
            .filter(|r| r.3 == Some(Decision::Started))
            .filter_map(|r| Some((r.4?, r.5)))
            .collect();
        report.waiting = Some(waiting(waits));
    }
    let volume_total = report
        .table("volume")
        .filter(|t| !t.rows.is_empty())
        .and_then(|t| t.total[2]);
    if !acts.is_empty() || volume_total.is_some() {
        let participants = report.table("participation").and_then(|t| t.total[5]);
        let attendees = report.table("activities").map_or(Some(0), |t| t.total[4]);
        let volume = volume_total.or(Some(0));
        report.reach = Some(Reach {
            participants,
            volume,
            attendees,
            total: Some(participants.unwrap_or(0) + volume.unwrap_or(0) + attendees.unwrap_or(0)),
        });
    }
    report.cost = cost(conn, selection, report)?;
    Ok(())
}

fn activities(acts: &[store::Activity], names: &BTreeMap<&str, &str>, lang: Lang) -> Table {
    // (intervention, kind) -> [occasions, women, men, unknown, total, organisations]
    let mut per: BTreeMap<(String, usize), [u64; 6]> = BTreeMap::new();
    for a in acts {
        let v = per
            .entry((a.intervention.clone(), a.kind.index()))
            .or_default();
        v[0] += 1;
        v[1] += a.women as u64;
        v[2] += a.men as u64;
        v[3] += a.unknown as u64;
        v[4] += (a.women + a.men + a.unknown) as u64;
        v[5] += a.organisations.unwrap_or(0) as u64;
    }
    let rows: Vec<Row> = per
        .iter()
        .map(|((code, kind), v)| {
            let kind = ActivityKind::ALL[*kind];
            Row::new(
                &format!("{code}/{}", kind.code()),
                &format!(
                    "{code} – {}: {}",
                    names.get(code.as_str()).copied().unwrap_or(""),
                    kind.label(lang)
                ),
                v.iter().map(|&x| Some(x)).collect(),
            )
        })
        .collect();
    let total = column_sums(&rows, 6);
    Table {
        id: "activities",
        title: lang
            .pick(
                "Aktiviteter (tillfällen och deltagare, utan inskrivning)",
                "Activities (occasions and attendees, without enrolment)",
            )
            .into(),
        columns: [
            ("Tillfällen", "Occasions"),
            ("Kvinnor", "Women"),
            ("Män", "Men"),
            ("Okänt kön", "Gender unknown"),
            ("Deltagare totalt", "Attendees in total"),
            ("Organisationer", "Organisations"),
        ]
        .iter()
        .map(|(s, e)| lang.pick(s, e).to_string())
        .collect(),
        column_keys: ACTIVITY_COLUMNS.iter().map(|s| s.to_string()).collect(),
        rows,
        total,
        total_label: total_label(lang),
        compare_total: None,
    }
}

fn add(into: &mut [u64; 2], gender: Gender, n: u64) {
    match gender {
        Gender::Woman => into[0] += n,
        Gender::Man => into[1] += n,
    }
}

/// The three referral tables from the counts by referrer, municipality,
/// gender and decision at the period's end.
fn referral_tables(refs: &[store::ReferralCount], lang: Lang) -> Vec<Table> {
    let unknown = lang.pick("Okänd", "Unknown");
    // By referrer, in code order; unknown last, each shown when non-empty.
    let mut by_referrer = vec![[0u64; 2]; Referrer::ALL.len() + 1];
    let mut by_municipality: BTreeMap<(Vec<u32>, String, String), [u64; 2]> = BTreeMap::new();
    let mut by_decision = vec![[0u64; 2]; Decision::ALL.len() + 1];
    let mut no_municipality = [0u64; 2];
    for (referrer, municipality, gender, decision, _, n) in refs {
        let (g, n) = (*gender, *n);
        add(
            &mut by_referrer[referrer.map_or(Referrer::ALL.len(), |c| c.index())],
            g,
            n,
        );
        match municipality {
            Some(m) => add(
                by_municipality
                    .entry((
                        super::compute::swedish_key(m.label()),
                        m.stored().to_string(),
                        m.label().to_string(),
                    ))
                    .or_default(),
                g,
                n,
            ),
            None => add(&mut no_municipality, g, n),
        }
        add(
            &mut by_decision[decision.map_or(Decision::ALL.len(), |d| d.index())],
            g,
            n,
        );
    }
    let mut referrer_rows: Vec<Row> = Vec::new();
    for (i, v) in by_referrer.iter().enumerate() {
        if v[0] + v[1] == 0 {
            continue;
        }
        let (key, label) = match Referrer::ALL.get(i) {
            Some(c) => (c.code(), c.label(lang)),
            None => ("unknown", unknown),
        };
        referrer_rows.push(pair_row(key, label, v));
    }
    let mut municipality_rows: Vec<Row> = by_municipality
        .iter()
        .map(|((_, key, label), v)| pair_row(key, label, v))
        .collect();
    if no_municipality[0] + no_municipality[1] > 0 {
        municipality_rows.push(pair_row("unknown", unknown, &no_municipality));
    }
    let decision_rows: Vec<Row> = by_decision
        .iter()
        .enumerate()
        .map(|(i, v)| match Decision::ALL.get(i) {
            Some(d) => pair_row(d.code(), d.label(lang), v),
            None => pair_row(
                "undecided",
                lang.pick(
                    "Ej beslutad vid periodens slut",
                    "Undecided at the period's end",
                ),
                v,
            ),
        })
        .collect();
    vec![
        gender_table(
            "referrals",
            lang.pick(
                "Remisser och ansökningar inkomna under perioden, per remittent",
                "Referrals received in the period, by referrer",
            ),
            referrer_rows,
            lang,
        ),
        gender_table(
            "referrals_municipality",
            lang.pick(
                "Remisser inkomna under perioden, per kommun",
                "Referrals received in the period, by municipality",
            ),
            municipality_rows,
            lang,
        ),
        gender_table(
            "referrals_decision",
            lang.pick(
                "Remisser inkomna under perioden, per beslut (återremiss = skickad tillbaka)",
                "Referrals received in the period, by decision (returned = sent back)",
            ),
            decision_rows,
            lang,
        ),
    ]
}

/// The median of a histogram of waits (days, how many); `None` when
/// empty. The median of an even count is the mean of the middle two.
pub fn median_of(mut hist: Vec<(i64, u64)>) -> Option<f64> {
    hist.sort_unstable();
    let n: u64 = hist.iter().map(|h| h.1).sum();
    if n == 0 {
        return None;
    }
    // The k-th smallest value (0-based).
    let nth = |k: u64| {
        let mut seen = 0;
        for &(d, c) in &hist {
            seen += c;
            if seen > k {
                return d;
            }
        }
        unreachable!("k < n")
    };
    Some(if n % 2 == 1 {
        nth(n / 2) as f64
    } else {
        (nth(n / 2 - 1) + nth(n / 2)) as f64 / 2.0
    })
}

fn waiting(hist: Vec<(i64, u64)>) -> Waiting {
    Waiting {
        started: Some(hist.iter().map(|h| h.1).sum()),
        median_days: median_of(hist),
        too_few: false,
    }
}

/// The calendar years of `p` when it is whole calendar years (1 January
/// to 31 December), else none: budgets are per year, and the participants
/// and exits the cost is divided by must cover the same days.
pub fn whole_years(p: Period) -> Vec<i32> {
    let whole = (p.from.month(), p.from.day()) == (1, 1) && (p.to.month(), p.to.day()) == (12, 31);
    if !whole {
        return Vec::new();
    }
    (p.from.year()..=p.to.year()).collect()
}

fn cost(conn: &Connection, selection: &[Intervention], r: &Report) -> Result<Vec<CostLine>> {
    let years = whole_years(r.period);
    let (Some(&first), Some(&last)) = (years.first(), years.last()) else {
        return Ok(Vec::new());
    };
    let lang = r.lang;
    let mut per: BTreeMap<String, (u64, Option<u64>, usize)> = BTreeMap::new();
    for b in store::budgets(conn, first..=last)? {
        if !selection.iter().any(|i| i.code == b.intervention) {
            continue;
        }
        let e = per.entry(b.intervention.clone()).or_insert((0, Some(0), 0));
        e.0 += b.budget;
        e.1 = e.1.zip(b.actual).map(|(a, b)| a + b);
        e.2 += 1;
    }
    let mut lines = Vec::new();
    for i in selection {
        let Some(&(budget, actual, n)) = per.get(&i.code) else {
            continue;
        };
        // An actual cost is known only when every year's is.
        let actual = actual.filter(|_| n == years.len());
        // An intervention includes its sub-interventions (SPEC 6): a
        // parent's line divides by its subtotal.
        let part = r.table("participation");
        let subtotal = part.is_some_and(|t| t.subtotal(&i.code).is_some());
        let participants = part
            .and_then(|t| {
                if subtotal {
                    t.subtotal(&i.code)
                } else {
                    t.row(&i.code)
                }
            })
            .and_then(|row| row.values[0]);
        let exits = r
            .indicator("work_or_studies", Some(&i.code), None, subtotal)
            .and_then(|x| x.numerator)
            .or_else(|| participants.map(|_| 0));
        let per_count = |count: Option<u64>| match (actual, count) {
            (Some(a), Some(c)) if c > 0 => Some((a + c / 2) / c),
            _ => None,
        };
        lines.push(CostLine {
            intervention: Some(i.code.clone()),
            label: format!("{} – {}", i.code, i.name),
            years: years.clone(),
            budget,
            actual,
            participants,
            per_participant: per_count(participants),
            exits,
            per_exit: per_count(exits),
            too_few: [false; 2],
        });
    }
    if !lines.is_empty() {
        let budget = lines.iter().map(|l| l.budget).sum();
        let actual = lines.iter().try_fold(0u64, |s, l| l.actual.map(|a| s + a));
        lines.push(CostLine {
            intervention: None,
            label: total_label(lang),
            years,
            budget,
            actual,
            participants: None,
            per_participant: None,
            exits: None,
            per_exit: None,
            too_few: [false; 2],
        });
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_a_histogram() {
        assert_eq!(median_of(vec![]), None);
        assert_eq!(median_of(vec![(5, 0)]), None);
        assert_eq!(median_of(vec![(10, 1)]), Some(10.0));
        // 10, 31: even, the mean of the middle two.
        assert_eq!(median_of(vec![(31, 1), (10, 1)]), Some(20.5));
        // 3, 3, 3, 8: the middle two are 3 and 3.
        assert_eq!(median_of(vec![(8, 1), (3, 3)]), Some(3.0));
        // 1, 2, 2, 9, 9, 9: the middle two are 2 and 9.
        assert_eq!(median_of(vec![(9, 3), (1, 1), (2, 2)]), Some(5.5));
    }
}
