//! An attacker on a suppressed report: from its JSON alone (plus which
//! hidden cells were primarily suppressed, whose values it knows lie in
//! 1..=N-1), it writes every identity between the report's figures across
//! all tables and indicators, and for each hidden count looks for the
//! smallest and largest whole-number value it can take. Written apart
//! from `src/report/suppress` on purpose, from SPEC section 6.
//!
//! The bounds are integer programs solved by microlp; each answer is
//! checked exactly in integers before it counts, so a hidden count is
//! reported undetermined only with two checked assignments that differ.
#![allow(dead_code)]

use microlp::{ComparisonOp, OptimizationDirection, Problem};
use serde_json::Value;

/// A figure: shown (a constant) or hidden (variable index).
#[derive(Clone, Copy, Debug)]
enum Fig {
    Shown(i64),
    Hidden(usize),
}

#[derive(Default)]
struct Model {
    /// (what, lower, upper) per variable.
    vars: Vec<(String, i64, i64)>,
    /// Σ c·fig (== 0 when `eq`, <= 0 otherwise).
    rows: Vec<(Vec<(Fig, i64)>, bool)>,
}

impl Model {
    fn fig(&mut self, v: &Value, what: String, primary: bool, n: i64, big: i64) -> Fig {
        match v.as_u64() {
            Some(x) => Fig::Shown(x as i64),
            None => {
                let (lo, hi) = if primary { (1, n - 1) } else { (0, big) };
                self.vars.push((what, lo, hi));
                Fig::Hidden(self.vars.len() - 1)
            }
        }
    }
    fn aux(&mut self, what: &str, big: i64) -> Fig {
        self.vars.push((what.into(), 0, big));
        Fig::Hidden(self.vars.len() - 1)
    }
    /// total = Σ parts
    fn sum(&mut self, total: Fig, parts: &[Fig]) {
        let mut r: Vec<(Fig, i64)> = parts.iter().map(|&p| (p, 1)).collect();
        r.push((total, -1));
        self.rows.push((r, true));
    }
    fn eq(&mut self, a: Fig, b: Fig) {
        self.rows.push((vec![(a, 1), (b, -1)], true));
    }
    fn le(&mut self, a: Fig, b: Fig) {
        self.rows.push((vec![(a, 1), (b, -1)], false));
    }
}

/// Every hidden count the attacker can pin down, as "what in lo..=hi".
/// `plain` is the same report unsuppressed (to know the primary cells).
///
/// Left out: counts pinned by the primary cells' bounds alone (three
/// primary cells of at least 1 under a primary total of at most 3), which
/// no choice of further hidden cells could protect: they are pinned even
/// when every count of the report is hidden.
pub fn determined(suppressed: &Value, plain: &Value, n: u64) -> Vec<String> {
    let found = solve_all(&model(suppressed, plain, n), None);
    if found.is_empty() {
        return found;
    }
    let mut blank = plain.clone();
    for t in blank["tables"].as_array_mut().unwrap() {
        for r in t["rows"].as_array_mut().unwrap() {
            for v in r["values"].as_array_mut().unwrap() {
                *v = Value::Null;
            }
        }
        for v in t["total"].as_array_mut().unwrap() {
            *v = Value::Null;
        }
    }
    for i in blank["indicators"].as_array_mut().unwrap() {
        i["numerator"] = Value::Null;
        i["denominator"] = Value::Null;
    }
    let names: Vec<String> = found
        .iter()
        .map(|f| f.split(' ').next().unwrap().to_string())
        .collect();
    let inherent = solve_all(&model(&blank, plain, n), Some(&names));
    found
        .into_iter()
        .filter(|f| {
            !inherent
                .iter()
                .any(|i| i.split(' ').next() == f.split(' ').next())
        })
        .collect()
}

fn model(suppressed: &Value, plain: &Value, n: u64) -> Model {
    let n = n as i64;
    let big = 4 * plain["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t["total"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|v| v.as_i64())
                .sum::<i64>()
        })
        .sum::<i64>()
        + n;
    let mut m = Model::default();
    let tables = suppressed["tables"].as_array().unwrap();
    let plain_tables = plain["tables"].as_array().unwrap();
    // figs[t][row][col], the total row last.
    let mut figs: Vec<Vec<Vec<Fig>>> = Vec::new();
    for (t, pt) in tables.iter().zip(plain_tables) {
        let id = t["id"].as_str().unwrap();
        let lines: Vec<(&Value, &Value, String)> = t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .zip(pt["rows"].as_array().unwrap())
            .map(|(r, p)| {
                (
                    &r["values"],
                    &p["values"],
                    r["key"].as_str().unwrap().to_string(),
                )
            })
            .chain(std::iter::once((
                &t["total"],
                &pt["total"],
                "total".to_string(),
            )))
            .collect();
        let mut table = Vec::new();
        for (vals, pvals, key) in lines {
            let row: Vec<Fig> = vals
                .as_array()
                .unwrap()
                .iter()
                .zip(pvals.as_array().unwrap())
                .enumerate()
                .map(|(c, (v, p))| {
                    let p = p.as_i64().unwrap();
                    m.fig(v, format!("{id}/{key}/{c}"), p > 0 && p < n, n, big)
                })
                .collect();
            table.push(row);
        }
        figs.push(table);
    }
    let find = |id: &str| tables.iter().position(|t| t["id"] == id);
    let key_row = |t: usize, key: &str| {
        tables[t]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .position(|r| r["key"] == key)
    };
    // Inside each table.
    for (t, table) in tables.iter().enumerate() {
        let id = table["id"].as_str().unwrap();
        let f = figs[t].clone();
        let last = f.len() - 1;
        let width = f[last].len();
        let additive_columns = if id == "participation" { 3 } else { width };
        for c in 0..additive_columns {
            let parts: Vec<Fig> = f[..last].iter().map(|r| r[c]).collect();
            m.sum(f[last][c], &parts);
        }
        let keys: Vec<&str> = table["column_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        for r in &f {
            match id {
                "participation" => {}
                "support_before_after" => {
                    m.sum(r[2], &[r[0], r[1]]);
                    m.sum(r[5], &[r[3], r[4]]);
                }
                "support_transition" => m.sum(r[width - 1], &r[..width - 1]),
                _ => {
                    assert_eq!(keys, ["woman", "man", "total"], "{id}");
                    m.sum(r[2], &[r[0], r[1]]);
                }
            }
        }
        if id == "participation" {
            let unique_total = f[last][3];
            let uniques: Vec<Fig> = f[..last].iter().map(|r| r[3]).collect();
            for r in &f[..last] {
                m.le(r[3], r[0]);
                m.le(r[3], unique_total);
            }
            if !uniques.is_empty() {
                let s = m.aux("sum of unique", big);
                m.sum(s, &uniques);
                m.le(unique_total, s);
            }
        }
    }
    // Across tables.
    let total = |t: usize| figs[t].last().unwrap().clone();
    let part = find("participation").unwrap();
    let active = total(find("age").unwrap());
    for id in ["municipality", "years_in_support", "education"] {
        let other = total(find(id).unwrap());
        for c in 0..3 {
            m.eq(active[c], other[c]);
        }
    }
    m.eq(active[2], total(part)[0]);
    let referrer = total(find("referrer").unwrap());
    m.eq(referrer[2], total(part)[1]);
    let exited = total(find("outcome").unwrap());
    let months = total(find("months").unwrap());
    let sba_t = find("support_before_after").unwrap();
    let sba = total(sba_t);
    for c in 0..3 {
        m.eq(exited[c], months[c]);
        m.eq(exited[c], sba[c]);
        m.eq(exited[c], sba[c + 3]);
    }
    m.eq(exited[2], total(part)[2]);
    let tr = find("support_transition").unwrap();
    let trt = total(tr);
    m.eq(exited[2], *trt.last().unwrap());
    let width = trt.len();
    for (r, row) in tables[tr]["rows"].as_array().unwrap().iter().enumerate() {
        let s = key_row(sba_t, row["key"].as_str().unwrap()).unwrap();
        m.eq(figs[tr][r][width - 1], figs[sba_t][s][2]);
    }
    for (c, key) in tables[tr]["column_keys"].as_array().unwrap()[..width - 1]
        .iter()
        .enumerate()
    {
        let s = key_row(sba_t, key.as_str().unwrap()).unwrap();
        m.eq(trt[c], figs[sba_t][s][5]);
    }
    // Indicators.
    let outcome = find("outcome").unwrap();
    let plain_ind = plain["indicators"].as_array().unwrap();
    for id in ["work_or_studies", "step_progress", "quality_of_life"] {
        let mut nums = Vec::new();
        let mut dens = Vec::new();
        let mut total_fig = None;
        for (i, p) in suppressed["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .zip(plain_ind)
            .filter(|(i, _)| i["id"] == id)
        {
            let who = i["intervention"].as_str().unwrap_or("total").to_string();
            let prim = |k: &str| {
                let v = p[k].as_i64().unwrap();
                v > 0 && v < n
            };
            let num = m.fig(
                &i["numerator"],
                format!("{id}/{who}/num"),
                prim("numerator"),
                n,
                big,
            );
            let den = m.fig(
                &i["denominator"],
                format!("{id}/{who}/den"),
                prim("denominator"),
                n,
                big,
            );
            m.le(num, den);
            let population = match i["intervention"].as_str() {
                Some(code) => {
                    nums.push(num);
                    dens.push(den);
                    figs[part][key_row(part, code).unwrap()][2]
                }
                None => {
                    total_fig = Some((num, den));
                    exited[2]
                }
            };
            if id == "work_or_studies" {
                m.eq(den, population);
            } else {
                m.le(den, population);
            }
        }
        let (num, den) = total_fig.unwrap();
        m.sum(num, &nums);
        m.sum(den, &dens);
        if id == "work_or_studies" {
            let work = figs[outcome][key_row(outcome, "work").unwrap()][2];
            let studies = figs[outcome][key_row(outcome, "studies").unwrap()][2];
            m.sum(num, &[work, studies]);
        }
    }
    m
}

/// The hidden counts (all, or those named) whose checked extremes meet.
/// Every checked assignment found is kept: a count that two of them set
/// differently is undetermined without a search of its own.
fn solve_all(m: &Model, only: Option<&[String]>) -> Vec<String> {
    let mut pool: Vec<Vec<i64>> = Vec::new();
    let mut out = Vec::new();
    for k in 0..m.vars.len() {
        let name = &m.vars[k].0;
        if name.starts_with("sum of") || only.is_some_and(|o| !o.contains(name)) {
            continue;
        }
        let moves = |pool: &[Vec<i64>]| pool.iter().any(|p| p[k] != pool[0][k]);
        let mut ends = Vec::new();
        for dir in [
            OptimizationDirection::Maximize,
            OptimizationDirection::Minimize,
        ] {
            if moves(&pool) {
                break;
            }
            let x = extreme(m, k, dir);
            ends.push(x.as_ref().map(|x| x[k]));
            pool.extend(x);
        }
        if !moves(&pool) {
            out.push(format!("{name} in {ends:?}"));
        }
    }
    out
}

/// A checked optimal whole-number assignment for variable `k`.
fn extreme(m: &Model, k: usize, dir: OptimizationDirection) -> Option<Vec<i64>> {
    let mut p = Problem::new(dir);
    let vars: Vec<microlp::Variable> = m
        .vars
        .iter()
        .enumerate()
        .map(|(j, (_, lo, hi))| {
            p.add_integer_var(if j == k { 1.0 } else { 0.0 }, (*lo as i32, *hi as i32))
        })
        .collect();
    for (row, eq) in &m.rows {
        let mut rhs = 0.0;
        let mut expr: Vec<(microlp::Variable, f64)> = Vec::new();
        for &(f, c) in row {
            match f {
                Fig::Shown(x) => rhs -= (c * x) as f64,
                Fig::Hidden(j) => expr.push((vars[j], c as f64)),
            }
        }
        if expr.is_empty() {
            assert!(
                if *eq { rhs == 0.0 } else { rhs >= 0.0 },
                "shown figures disagree"
            );
            continue;
        }
        let op = if *eq {
            ComparisonOp::Eq
        } else {
            ComparisonOp::Le
        };
        p.add_constraint(expr.as_slice(), op, rhs);
    }
    let sol = p.solve().ok()?.into_solution().ok()?;
    let x: Vec<i64> = vars
        .iter()
        .map(|&v| sol.var_value_raw(v).round() as i64)
        .collect();
    // Check exactly.
    let ok = m
        .vars
        .iter()
        .zip(&x)
        .all(|((_, lo, hi), v)| lo <= v && v <= hi)
        && m.rows.iter().all(|(row, eq)| {
            let s: i64 = row
                .iter()
                .map(|&(f, c)| {
                    c * match f {
                        Fig::Shown(v) => v,
                        Fig::Hidden(j) => x[j],
                    }
                })
                .sum();
            if *eq {
                s == 0
            } else {
                s <= 0
            }
        });
    ok.then_some(x)
}
