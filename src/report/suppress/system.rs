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

use crate::report::Report;

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
    pub sums: Vec<Sum>,
    /// `cells[table][row][column]`; the row after the last data row is the total row.
    pub cells: Vec<Vec<Vec<usize>>>,
    /// `(numerator, denominator)` of each indicator, in report order.
    pub indicators: Vec<(usize, usize)>,
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

    fn finish(mut self, cells: Vec<Vec<Vec<usize>>>, indicators: Vec<(usize, usize)>) -> System {
        let n = self.value.len();
        let roots: Vec<usize> = (0..n).map(|v| self.root(v)).collect();
        let mut lb = vec![0; n];
        let mut pinned = vec![false; n];
        let mut published = vec![false; n];
        for (v, &r) in roots.iter().enumerate() {
            lb[r] = lb[r].max(self.lb[v]);
            pinned[r] |= self.pinned[v];
            published[r] |= self.published[v];
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
        }
    }
}

/// Build the system of a report that has not been suppressed yet.
pub fn build(report: &Report) -> System {
    let mut b = Builder {
        value: Vec::new(),
        lb: Vec::new(),
        published: Vec::new(),
        counted: Vec::new(),
        pinned: Vec::new(),
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
    let table = |id: &str| report.tables.iter().position(|t| t.id == id);
    let row = |t: usize, key: &str| report.tables[t].rows.iter().position(|r| r.key == key);
    let total_row = |t: usize| report.tables[t].rows.len();

    // Within each table: rows and columns add up.
    for (ti, t) in report.tables.iter().enumerate() {
        let c = &cells[ti];
        let width = t.total.len();
        let last = c.len() - 1;
        let columns = if t.id == "participation" { 3 } else { width };
        for col in 0..columns {
            let parts = c[..last].iter().map(|r| r[col]).collect();
            b.sum(c[last][col], parts);
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
        } else if t.id == "participation" {
            // Unique persons: each at most the intervention's active
            // enrolments; the total at least each row and at most their sum.
            let unique_total = c[last][3];
            let v = report.tables[ti].total[3].unwrap_or(0);
            let mut rows_sum = Vec::new();
            for r in &c[..last] {
                let (active, unique) = (r[0], r[3]);
                let s = b.aux(b.value[active] - b.value[unique]);
                b.sum(active, vec![unique, s]);
                let s = b.aux(v - b.value[unique]);
                b.sum(unique_total, vec![unique, s]);
                rows_sum.push(unique);
            }
            if !rows_sum.is_empty() {
                let sum: u64 = rows_sum.iter().map(|&u| b.value[u]).sum();
                let all = b.aux(sum);
                b.sum(all, rows_sum);
                let s = b.aux(sum - v);
                b.sum(all, vec![unique_total, s]);
            }
        }
        // Rows shown only when non-empty.
        for (r, row) in t.rows.iter().enumerate() {
            let shown_if_nonempty = match t.id {
                "municipality" => true,
                "age" => row.key == "other" || row.key == "unknown",
                "years_in_support" | "referrer" | "education" => row.key == "unknown",
                "months" => t.rows.len() > 1 && r == t.rows.len() - 1,
                _ => false,
            };
            if shown_if_nonempty {
                b.lb[c[r][2]] = 1;
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
        &["municipality", "age", "years_in_support", "education"],
        std::slice::from_ref(&g),
    );
    let new = link_totals(&mut b, &["referrer"], std::slice::from_ref(&g));
    let exited = link_totals(&mut b, &["months", "outcome"], std::slice::from_ref(&g));
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

    // Indicators: numerators and denominators per intervention add up to
    // the total's; the goal's complement is a count of people.
    let mut indicators = Vec::new();
    let exits_of = |code: &str| -> Option<usize> {
        let p = participation?;
        Some(cells[p][row(p, code)?][2])
    };
    let mut with_indicators: Vec<&str> = Vec::new();
    // Per indicator id: (numerator, denominator) per intervention, and the total's.
    type Pairs = (Vec<(usize, usize)>, Option<(usize, usize)>);
    let mut groups: BTreeMap<&str, Pairs> = BTreeMap::new();
    for i in &report.indicators {
        let num = b.var(i.numerator.expect("unsuppressed"), true);
        let den = b.var(i.denominator.expect("unsuppressed"), true);
        indicators.push((num, den));
        let fail = b.aux(b.value[den] - b.value[num]);
        b.counted[fail] = true;
        b.sum(den, vec![num, fail]);
        let population = match &i.intervention {
            Some(code) => {
                with_indicators.push(code);
                groups.entry(i.id).or_default().0.push((num, den));
                exits_of(code)
            }
            None => {
                groups.entry(i.id).or_default().1 = Some((num, den));
                exited.as_ref().map(|e| e[2])
            }
        };
        if let Some(pop) = population {
            if i.id == "work_or_studies" {
                b.same(pop, den);
            } else {
                let unknown = b.aux(b.value[pop] - b.value[den]);
                b.sum(pop, vec![den, unknown]);
            }
        }
        if i.id == "work_or_studies" && i.intervention.is_none() {
            if let Some(o) = table("outcome") {
                let parts: Vec<usize> = ["work", "studies"]
                    .iter()
                    .filter_map(|k| row(o, k))
                    .map(|r| cells[o][r][2])
                    .collect();
                b.sum(num, parts);
            }
        }
    }
    for (per, total) in groups.into_values() {
        if let Some((num, den)) = total {
            b.sum(num, per.iter().map(|p| p.0).collect());
            b.sum(den, per.iter().map(|p| p.1).collect());
        }
    }
    // An intervention without indicator rows had no exits in the period.
    if let Some(p) = participation {
        if !report.indicators.is_empty() {
            for (r, row) in report.tables[p].rows.iter().enumerate() {
                if !with_indicators.contains(&row.key.as_str()) {
                    b.pinned[cells[p][r][2]] = true;
                }
            }
        }
    }
    b.finish(cells, indicators)
}

fn row_of(report: &Report, t: usize, key: &str) -> Option<usize> {
    report.tables[t].rows.iter().position(|r| r.key == key)
}
