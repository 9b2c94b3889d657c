//! The report as one system of linked figures: every count the report
//! shows is a variable, a figure shown in two places (the active total in
//! four tables and in `participation`, an intervention's exits in
//! `participation` and as its work-or-studies denominator, ...) is one
//! variable, and every identity between figures is a [`Sum`]. Unknown
//! counts that the identities need but the report never shows (those who
//! did not reach an indicator's goal, unknown answers, slack in the
//! unique-person bounds) are auxiliary variables.
//!
//! The reader also learns from the report's shape: a row shown only when
//! non-empty (a municipality, "Övriga", "Okänd", the last months band, a
//! support code in `support_transition`) is at least 1, and a figure whose
//! absence says it is zero (an intervention without indicator rows has no
//! exits; a support code missing from `support_transition` was nobody's)
//! is known ("pinned") whether shown or not.

use std::collections::BTreeMap;

use crate::codes::{Code, Outcome};
use crate::report::{Report, Table};

/// `total = Σ parts`, over variable indices.
#[derive(Debug, Clone)]
pub struct Sum {
    pub total: usize,
    pub parts: Vec<usize>,
}

/// Where a table cell's or indicator's count lives in the system.
#[derive(Debug, Clone)]
pub struct System {
    /// The true count of each variable.
    pub value: Vec<u64>,
    /// The least value the reader knows a variable has (before suppression).
    pub lb: Vec<u64>,
    /// False for auxiliary variables, which the report never shows.
    pub published: Vec<bool>,
    /// Auxiliary counts of people that suppression treats like cells
    /// (those who did not reach an indicator's goal).
    pub counted: Vec<bool>,
    /// Known to the reader from the report's shape: never worth hiding.
    pub pinned: Vec<bool>,
    /// Not a count of people (an activity's occasions): never hidden for
    /// being small, but hidden when it would give a count of people away.
    pub exempt: Vec<bool>,
    pub sums: Vec<Sum>,
    /// `cells[table][row][column]`; the row after the last data row is the total row.
    pub cells: Vec<Vec<Vec<usize>>>,
    /// `(numerator, denominator)` of each indicator, in report order.
    pub indicators: Vec<(usize, usize)>,
    /// The exits each time figure stands on, in report order.
    pub durations: Vec<Option<usize>>,
    /// The reach line: participants, volume, attendees, total (SPEC 13).
    pub reach: Option<[usize; 4]>,
    /// The started referrals the wait stands on.
    pub waiting: Option<usize>,
    /// Each cost line's participants and exits to work or studies.
    pub cost: Vec<[Option<usize>; 2]>,
}

impl System {
    /// The sums each variable takes part in.
    pub fn sums_of(&self) -> Vec<Vec<usize>> {
        let mut of = vec![Vec::new(); self.value.len()];
        for (i, s) in self.sums.iter().enumerate() {
            for &v in s.parts.iter().chain(std::iter::once(&s.total)) {
                if of[v].last() != Some(&i) {
                    of[v].push(i);
                }
            }
        }
        of
    }
}

struct Builder {
    value: Vec<u64>,
    lb: Vec<u64>,
    published: Vec<bool>,
    counted: Vec<bool>,
    pinned: Vec<bool>,
    exempt: Vec<bool>,
    sums: Vec<Sum>,
    parent: Vec<usize>,
}

impl Builder {
    fn var(&mut self, value: u64, published: bool) -> usize {
        self.value.push(value);
        self.lb.push(0);
        self.published.push(published);
        self.counted.push(false);
        self.pinned.push(false);
        self.exempt.push(false);
        self.parent.push(self.parent.len());
        self.value.len() - 1
    }

    fn aux(&mut self, value: u64) -> usize {
        self.var(value, false)
    }

    fn root(&mut self, mut v: usize) -> usize {
        while self.parent[v] != v {
            self.parent[v] = self.parent[self.parent[v]];
            v = self.parent[v];
        }
        v
    }

    /// The same figure shown in two places.
    fn same(&mut self, a: usize, b: usize) {
        debug_assert_eq!(self.value[a], self.value[b], "linked figures differ");
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.parent[b] = a;
        }
    }

    fn sum(&mut self, total: usize, parts: Vec<usize>) {
        debug_assert_eq!(
            self.value[total],
            parts.iter().map(|&p| self.value[p]).sum::<u64>(),
            "a sum that does not add up"
        );
        self.sums.push(Sum { total, parts });
    }

    fn finish(
        mut self,
        cells: Vec<Vec<Vec<usize>>>,
        indicators: Vec<(usize, usize)>,
        durations: Vec<Option<usize>>,
        beyond: Beyond,
    ) -> System {
        let n = self.value.len();
        let roots: Vec<usize> = (0..n).map(|v| self.root(v)).collect();
        let mut lb = vec![0; n];
        let mut pinned = vec![false; n];
        let mut published = vec![false; n];
        let mut exempt = vec![true; n];
        for (v, &r) in roots.iter().enumerate() {
            lb[r] = lb[r].max(self.lb[v]);
            pinned[r] |= self.pinned[v];
            published[r] |= self.published[v];
            exempt[r] &= self.exempt[v];
        }
        let mut sums: Vec<Sum> = self
            .sums
            .into_iter()
            .map(|s| Sum {
                total: roots[s.total],
                parts: s.parts.into_iter().map(|p| roots[p]).collect(),
            })
            .collect();
        // A total known to be zero makes each of its parts a known zero.
        loop {
            let mut changed = false;
            for s in &sums {
                if pinned[s.total] && self.value[s.total] == 0 {
                    for &p in &s.parts {
                        changed |= !pinned[p];
                        pinned[p] = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        sums.retain(|s| !(s.parts.len() == 1 && s.parts[0] == s.total));
        System {
            value: self.value,
            lb,
            published,
            counted: self.counted,
            pinned,
            exempt,
            sums,
            cells: cells
                .into_iter()
                .map(|t| {
                    t.into_iter()
                        .map(|r| r.into_iter().map(|v| roots[v]).collect())
                        .collect()
                })
                .collect(),
            indicators: indicators
                .into_iter()
                .map(|(a, b)| (roots[a], roots[b]))
                .collect(),
            durations: durations.into_iter().map(|d| d.map(|v| roots[v])).collect(),
            reach: beyond.reach.map(|r| r.map(|v| roots[v])),
            waiting: beyond.waiting.map(|v| roots[v]),
            cost: beyond
                .cost
                .into_iter()
                .map(|c| c.map(|v| v.map(|v| roots[v])))
                .collect(),
        }
    }
}

/// An indicator line: id, intervention (`None`: the total), subtotal, gender.
type IndicatorKey = (String, Option<String>, bool, Option<&'static str>);

/// Where the section 13 figures outside the tables live.
#[derive(Default)]
struct Beyond {
    reach: Option<[usize; 4]>,
    waiting: Option<usize>,
    cost: Vec<[Option<usize>; 2]>,
}

/// Build the system of a report that has not been suppressed yet.
pub fn build(report: &Report) -> System {
    let mut b = Builder {
        value: Vec::new(),
        lb: Vec::new(),
        published: Vec::new(),
        counted: Vec::new(),
        pinned: Vec::new(),
        exempt: Vec::new(),
        sums: Vec::new(),
        parent: Vec::new(),
    };
    // One variable per cell, total row last.
    let cells: Vec<Vec<Vec<usize>>> = report
        .tables
        .iter()
        .map(|t| {
            t.rows
                .iter()
                .map(|r| &r.values)
                .chain(std::iter::once(&t.total))
                .map(|vals| {
                    vals.iter()
                        .map(|v| b.var(v.expect("suppress an unsuppressed report"), true))
                        .collect()
                })
                .collect()
        })
        .collect();
    // Occasions and organisations are not counts of people: never hidden
    // for being small. Organisations are in no identity with people and
    // are never hidden; occasions bound the attendees (each had at least
    // one), so they are hidden when they would give attendees away.
    for (t, c) in report.tables.iter().zip(&cells) {
        for r in c {
            for (col, &v) in r.iter().enumerate() {
                if crate::report::beyond::not_people(t.id, col) {
                    b.exempt[v] = true;
                    if col != 0 {
                        b.published[v] = false;
                    }
                }
            }
        }
    }
    let table = |id: &str| report.tables.iter().position(|t| t.id == id);
    let row = |t: usize, key: &str| report.tables[t].rows.iter().position(|r| r.key == key);
    let total_row = |t: usize| report.tables[t].rows.len();

    // Within each table: rows and columns add up (subtotal rows are not
    // part of a column's sum; each is the sum of its members' rows).
    for (ti, t) in report.tables.iter().enumerate() {
        let c = &cells[ti];
        let width = t.total.len();
        let last = c.len() - 1;
        let participation = t.id == "participation";
        // participation's last column, distinct persons, does not add up.
        let columns = if participation { width - 1 } else { width };
        for (col, &total) in c[last].iter().enumerate().take(columns) {
            if crate::report::beyond::not_people(t.id, col) && col != 0 {
                continue;
            }
            let parts = t
                .rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.subtotal.is_none())
                .map(|(r, _)| c[r][col])
                .collect();
            b.sum(total, parts);
        }
        for (r, row) in t.rows.iter().enumerate() {
            if let Some(members) = &row.subtotal {
                let rows: Vec<usize> = members.iter().filter_map(|k| own_row(t, k)).collect();
                for (col, &sub) in
                    c[r].iter().enumerate().take(columns).filter(|&(col, _)| {
                        !crate::report::beyond::not_people(t.id, col) || col == 0
                    })
                {
                    b.sum(sub, rows.iter().map(|&m| c[m][col]).collect());
                }
            }
        }
        if t.column_keys == ["woman", "man", "total"] {
            for r in c {
                b.sum(r[2], vec![r[0], r[1]]);
            }
        } else if t.id == "support_before_after" {
            for r in c {
                b.sum(r[2], vec![r[0], r[1]]);
                b.sum(r[5], vec![r[3], r[4]]);
            }
        } else if t.id == "support_transition" {
            for r in c {
                b.sum(r[width - 1], r[..width - 1].to_vec());
            }
        } else if participation {
            participation_bounds(&mut b, t, c);
        } else if t.id == "activities" {
            // Attendees in total are women, men and those of unknown
            // gender, and at least the occasions (each had one).
            for r in c {
                b.sum(r[4], vec![r[1], r[2], r[3]]);
                let slack = b.aux(b.value[r[4]] - b.value[r[0]]);
                b.sum(r[4], vec![r[0], slack]);
            }
        }
        // Rows shown only when non-empty.
        for (r, row) in t.rows.iter().enumerate() {
            let shown_if_nonempty = match t.id {
                "municipality" => true,
                "age" => row.key == "other" || row.key == "unknown",
                "years_in_support" | "years_in_support_new" | "referrer" | "education" => {
                    row.key == "unknown"
                }
                "months" => t.rows.len() > 1 && r == t.rows.len() - 1,
                "referrals" | "referrals_municipality" => true,
                _ => false,
            };
            if shown_if_nonempty {
                b.lb[c[r][2]] = 1;
            }
            // A row of activities has at least one occasion and attendee.
            if t.id == "activities" {
                b.lb[c[r][0]] = 1;
                b.lb[c[r][4]] = 1;
            }
        }
    }

    // Figures shown in several tables.
    let link_totals = |b: &mut Builder, ids: &[&str], cols: &[std::ops::Range<usize>]| {
        let mut first: Option<Vec<usize>> = None;
        for id in ids {
            let Some(t) = table(id) else { continue };
            for range in cols {
                if range.end > report.tables[t].total.len() {
                    continue;
                }
                let vars: Vec<usize> = cells[t][total_row(t)][range.clone()].to_vec();
                match &first {
                    None => first = Some(vars),
                    Some(f) => {
                        for (&a, &v) in f.iter().zip(&vars) {
                            b.same(a, v);
                        }
                    }
                }
            }
        }
        first
    };
    let g = 0..3;
    let active = link_totals(
        &mut b,
        &[
            "intervention_gender",
            "municipality",
            "age",
            "years_in_support",
            "education",
        ],
        std::slice::from_ref(&g),
    );
    let new = link_totals(
        &mut b,
        &["referrer", "years_in_support_new"],
        std::slice::from_ref(&g),
    );
    let exited = link_totals(&mut b, &["months", "outcome"], std::slice::from_ref(&g));
    // The three referral tables count the same referrals.
    link_totals(
        &mut b,
        &["referrals", "referrals_municipality", "referrals_decision"],
        std::slice::from_ref(&g),
    );
    let exited =
        exited.or_else(|| link_totals(&mut b, &["support_before_after"], std::slice::from_ref(&g)));
    if let (Some(e), Some(t)) = (&exited, table("support_before_after")) {
        for r in [0..3, 3..6] {
            for (&a, &v) in e.iter().zip(&cells[t][total_row(t)][r]) {
                b.same(a, v);
            }
        }
    }
    let participation = table("participation");
    if let Some(p) = participation {
        let tot = &cells[p][total_row(p)];
        for (col, figure) in [(0, &active), (1, &new), (2, &exited)] {
            if let Some(f) = figure {
                b.same(f[2], tot[col]);
            }
        }
        // Each intervention's (and subtotal's) active participants by gender.
        if let Some(ig) = table("intervention_gender") {
            for (r, row) in report.tables[p].rows.iter().enumerate() {
                if let Some(q) = report.tables[ig].rows.iter().position(|x| {
                    x.key == row.key && x.subtotal.is_some() == row.subtotal.is_some()
                }) {
                    b.same(cells[p][r][0], cells[ig][q][2]);
                }
            }
        }
    }
    if let (Some(tr), Some(sba)) = (table("support_transition"), table("support_before_after")) {
        let t = &report.tables[tr];
        let width = t.total.len();
        if let Some(e) = &exited {
            b.same(e[2], cells[tr][total_row(tr)][width - 1]);
        }
        for (r, row) in t.rows.iter().enumerate() {
            if let Some(s) = row_of(report, sba, &row.key) {
                b.same(cells[tr][r][width - 1], cells[sba][s][2]);
            }
        }
        for (col, key) in t.column_keys[..width - 1].iter().enumerate() {
            if let Some(s) = row_of(report, sba, key) {
                b.same(cells[tr][total_row(tr)][col], cells[sba][s][5]);
            }
        }
        // A support code absent from the transition table was nobody's,
        // before or after; one present was someone's.
        for (s, row) in report.tables[sba].rows.iter().enumerate() {
            let (before, after) = (cells[sba][s][2], cells[sba][s][5]);
            if t.rows.iter().any(|r| r.key == row.key) {
                let either = b.aux(b.value[before] + b.value[after]);
                b.lb[either] = 1;
                b.sum(either, vec![before, after]);
            } else {
                b.pinned[before] = true;
                b.pinned[after] = true;
            }
        }
    }

    // Indicators. Each is a (numerator, denominator) pair; the goal's
    // complement is a count of people. Women and men add up to both; the
    // interventions add up to the total and each parent's members to its
    // subtotal. An outcome goal's denominator is the exits (of the
    // intervention, of its women or men: the work-or-studies row), and
    // the total's numerator is the outcome table's rows in the goal;
    // an answered question's denominator is at most the exits.
    let exits_of = |code: &str, subtotal: bool| -> Option<usize> {
        let p = participation?;
        let r = report.tables[p]
            .rows
            .iter()
            .position(|x| x.key == code && x.subtotal.is_some() == subtotal)?;
        Some(cells[p][r][2])
    };
    let mut indicators = Vec::new();
    let mut vars: BTreeMap<IndicatorKey, (usize, usize)> = BTreeMap::new();
    for i in &report.indicators {
        let num = b.var(i.numerator.expect("unsuppressed"), true);
        let den = b.var(i.denominator.expect("unsuppressed"), true);
        indicators.push((num, den));
        let fail = b.aux(b.value[den] - b.value[num]);
        b.counted[fail] = true;
        b.sum(den, vec![num, fail]);
        vars.insert(
            (i.id.clone(), i.intervention.clone(), i.subtotal, i.gender),
            (num, den),
        );
    }
    // The exits each (intervention, subtotal, gender) line stands on.
    let mut exits: BTreeMap<(Option<String>, bool, Option<&'static str>), usize> = BTreeMap::new();
    for ((id, iv, sub, gender), &(_, den)) in &vars {
        if id != "work_or_studies" {
            continue;
        }
        let shown = match (iv, gender) {
            (Some(code), None) => exits_of(code, *sub),
            (None, None) => exited.as_ref().map(|e| e[2]),
            (None, Some(g)) => exited.as_ref().map(|e| e[gender_index(g)]),
            (Some(_), Some(_)) => None,
        };
        if let Some(pop) = shown {
            b.same(pop, den);
        }
        exits.insert((iv.clone(), *sub, *gender), den);
    }
    let outcome_table = table("outcome");
    for def in &report.defs {
        let outcome_goal = match def.goal {
            crate::report::goals::Goal::Outcomes(mask) => Some(mask),
            _ => None,
        };
        let of = |iv: &Option<String>, sub: bool, g: Option<&'static str>| {
            vars.get(&(def.id.clone(), iv.clone(), sub, g)).copied()
        };
        let lines: Vec<(Option<String>, bool)> = vars
            .keys()
            .filter(|k| k.0 == def.id && k.3.is_none())
            .map(|k| (k.1.clone(), k.2))
            .collect();
        for (iv, sub) in &lines {
            let Some(both) = of(iv, *sub, None) else {
                continue;
            };
            if let (Some(w), Some(m)) = (of(iv, *sub, Some("woman")), of(iv, *sub, Some("man"))) {
                b.sum(both.0, vec![w.0, m.0]);
                b.sum(both.1, vec![w.1, m.1]);
            }
            for g in [None, Some("woman"), Some("man")] {
                let (Some((num, den)), Some(&pop)) =
                    (of(iv, *sub, g), exits.get(&(iv.clone(), *sub, g)))
                else {
                    continue;
                };
                if outcome_goal.is_some() {
                    b.same(pop, den);
                } else {
                    let unknown = b.aux(b.value[pop] - b.value[den]);
                    b.sum(pop, vec![den, unknown]);
                }
                // The total's numerator: the outcome rows in the goal.
                if let (Some(mask), None, Some(o)) = (outcome_goal, iv, outcome_table) {
                    let col = g.map_or(2, gender_index);
                    let parts: Vec<usize> = Outcome::ALL
                        .iter()
                        .filter(|c| mask & (1 << c.index()) != 0)
                        .filter_map(|c| row(o, c.code()))
                        .map(|r| cells[o][r][col])
                        .collect();
                    b.sum(num, parts);
                }
            }
        }
        // Interventions add up to the total, members to a subtotal.
        for g in [None, Some("woman"), Some("man")] {
            let own: Vec<(String, (usize, usize))> = lines
                .iter()
                .filter(|(iv, sub)| iv.is_some() && !sub)
                .filter_map(|(iv, _)| Some((iv.clone()?, of(iv, false, g)?)))
                .collect();
            if let Some((num, den)) = of(&None, false, g) {
                b.sum(num, own.iter().map(|p| p.1 .0).collect());
                b.sum(den, own.iter().map(|p| p.1 .1).collect());
            }
            for (iv, sub) in lines.iter().filter(|(_, sub)| *sub) {
                let (Some((num, den)), Some(members)) = (
                    of(iv, *sub, g),
                    iv.as_deref()
                        .and_then(|code| subtotal_members(report, code)),
                ) else {
                    continue;
                };
                let parts: Vec<(usize, usize)> = own
                    .iter()
                    .filter(|(code, _)| members.contains(code))
                    .map(|p| p.1)
                    .collect();
                b.sum(num, parts.iter().map(|p| p.0).collect());
                b.sum(den, parts.iter().map(|p| p.1).collect());
            }
        }
    }
    // An intervention (or subtotal) without indicator rows had no exits
    // in the period.
    if let Some(p) = participation {
        if !report.indicators.is_empty() {
            for (r, row) in report.tables[p].rows.iter().enumerate() {
                let key = (Some(row.key.clone()), row.subtotal.is_some(), None);
                if !exits.contains_key(&key) {
                    b.pinned[cells[p][r][2]] = true;
                }
            }
        }
    }
    // The time figures stand on their exits.
    let durations = report
        .durations
        .iter()
        .map(|d| match &d.intervention {
            Some(code) => exits_of(code, d.subtotal),
            None => exited.as_ref().map(|e| e[2]),
        })
        .collect();
    let beyond = beyond_figures(&mut b, report, &cells, &vars);
    b.finish(cells, indicators, durations, beyond)
}

/// The reach line is a sum of shown totals; the wait stands on the
/// started referrals; a cost line's participants and exits are the
/// participation table's and the work-or-studies indicator's figures.
fn beyond_figures(
    b: &mut Builder,
    report: &Report,
    cells: &[Vec<Vec<usize>>],
    vars: &BTreeMap<IndicatorKey, (usize, usize)>,
) -> Beyond {
    let table = |id: &str| report.tables.iter().position(|t| t.id == id);
    let total_cell = |id: &str, col: usize| -> Option<usize> {
        let t = table(id)?;
        cells[t].last()?.get(col).copied()
    };
    let mut out = Beyond::default();
    if let Some(x) = &report.reach {
        let participants = total_cell("participation", 5);
        let volume = total_cell("volume", 2).filter(|_| x.volume.unwrap_or(0) > 0);
        let attendees = total_cell("activities", 4);
        if let Some(participants) = participants {
            // A part without a table is a shown zero: a known constant,
            // left out of the sum.
            let parts: Vec<usize> = [Some(participants), volume, attendees]
                .into_iter()
                .flatten()
                .collect();
            let value = parts.iter().map(|&v| b.value[v]).sum();
            let total = b.var(value, true);
            b.sum(total, parts);
            let zero = b.var(0, true);
            b.pinned[zero] = true;
            out.reach = Some([
                participants,
                volume.unwrap_or(zero),
                attendees.unwrap_or(zero),
                total,
            ]);
        }
    }
    if report.waiting.is_some() {
        out.waiting = table("referrals_decision").and_then(|t| {
            let r = report.tables[t]
                .rows
                .iter()
                .position(|r| r.key == "started")?;
            Some(cells[t][r][2])
        });
    }
    let participation = table("participation");
    out.cost = report
        .cost
        .iter()
        .map(|c| {
            let Some(code) = &c.intervention else {
                return [None, None];
            };
            // A parent's line stands on its subtotal.
            let subtotal = participation.is_some_and(|p| report.tables[p].subtotal(code).is_some());
            let participants = participation.and_then(|p| {
                let r = report.tables[p]
                    .rows
                    .iter()
                    .position(|r| &r.key == code && r.subtotal.is_some() == subtotal)?;
                Some(cells[p][r][0])
            });
            let exits = vars
                .get(&(
                    "work_or_studies".to_string(),
                    Some(code.clone()),
                    subtotal,
                    None,
                ))
                .map(|&(num, _)| num);
            [participants, exits]
        })
        .collect();
    out
}

fn gender_index(g: &str) -> usize {
    if g == "woman" {
        0
    } else {
        1
    }
}

/// The row of an intervention's own figures (not a subtotal).
fn own_row(t: &Table, key: &str) -> Option<usize> {
    t.rows
        .iter()
        .position(|r| r.key == key && r.subtotal.is_none())
}

/// The codes a parent's subtotal adds up.
fn subtotal_members<'r>(report: &'r Report, code: &str) -> Option<&'r Vec<String>> {
    report
        .table("participation")?
        .subtotal(code)?
        .subtotal
        .as_ref()
}

/// participation: each line's active are its exited and those still
/// active at the end; early exits are some of the exited; distinct
/// persons are at most the active enrolments, at least each row's and at
/// most their sum in the total (and likewise in a subtotal).
fn participation_bounds(b: &mut Builder, t: &Table, c: &[Vec<usize>]) {
    let last = c.len() - 1;
    for r in c {
        let (active, exited, at_end, early, unique) = (r[0], r[2], r[3], r[4], r[5]);
        b.sum(active, vec![exited, at_end]);
        let s = b.aux(b.value[exited] - b.value[early]);
        b.sum(exited, vec![early, s]);
        let s = b.aux(b.value[active] - b.value[unique]);
        b.sum(active, vec![unique, s]);
    }
    let bounded = |b: &mut Builder, whole: usize, rows: &[usize]| {
        let w = b.value[whole];
        for &u in rows {
            let s = b.aux(w - b.value[u]);
            b.sum(whole, vec![u, s]);
        }
        if !rows.is_empty() {
            let sum: u64 = rows.iter().map(|&u| b.value[u]).sum();
            let all = b.aux(sum);
            b.sum(all, rows.to_vec());
            let s = b.aux(sum - w);
            b.sum(all, vec![whole, s]);
        }
    };
    let own: Vec<usize> = t
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.subtotal.is_none())
        .map(|(r, _)| c[r][5])
        .collect();
    bounded(b, c[last][5], &own);
    for (r, row) in t.rows.iter().enumerate() {
        if let Some(members) = &row.subtotal {
            let rows: Vec<usize> = members
                .iter()
                .filter_map(|k| own_row(t, k))
                .map(|m| c[m][5])
                .collect();
            bounded(b, c[r][5], &rows);
            // The whole selection's persons include the subtotal's.
            let s = b.aux(b.value[c[last][5]] - b.value[c[r][5]]);
            b.sum(c[last][5], vec![c[r][5], s]);
        }
    }
}

fn row_of(report: &Report, t: usize, key: &str) -> Option<usize> {
    own_row(&report.tables[t], key)
}
