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
    if let Some(reach) = blank.get_mut("reach") {
        for k in ["participants", "volume", "attendees", "total"] {
            reach[k] = Value::Null;
        }
    }
    if let Some(cost) = blank.get_mut("cost").and_then(|c| c.as_array_mut()) {
        for c in cost {
            c["participants"] = Value::Null;
        }
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
                    // An activity's occasions and organisations are not
                    // counts of people: never primary.
                    let people = !(id == "activities" && (c == 0 || c == 5));
                    m.fig(
                        v,
                        format!("{id}/{key}/{c}"),
                        people && p > 0 && p < n,
                        n,
                        big,
                    )
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
            .position(|r| r["key"] == key && r.get("subtotal").is_none())
    };
    let sub_row = |t: usize, key: &str| {
        tables[t]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .position(|r| r["key"] == key && r.get("subtotal").is_some())
    };
    let is_sub = |t: usize, r: usize| tables[t]["rows"][r].get("subtotal").is_some();
    // Inside each table: rows that are not subtotals add up to the total;
    // a subtotal is the sum of its members' rows (SPEC section 12).
    for (t, table) in tables.iter().enumerate() {
        let id = table["id"].as_str().unwrap();
        let f = figs[t].clone();
        let last = f.len() - 1;
        let width = f[last].len();
        let additive_columns = if id == "participation" { 5 } else { width };
        let own: Vec<usize> = (0..last).filter(|&r| !is_sub(t, r)).collect();
        for (c, &total) in f[last].iter().enumerate().take(additive_columns) {
            let parts: Vec<Fig> = own.iter().map(|&r| f[r][c]).collect();
            m.sum(total, &parts);
        }
        for r in (0..last).filter(|&r| is_sub(t, r)) {
            let members: Vec<usize> = table["rows"][r]["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| key_row(t, k.as_str().unwrap()).unwrap())
                .collect();
            for (c, &sub) in f[r].iter().enumerate().take(additive_columns) {
                let parts: Vec<Fig> = members.iter().map(|&x| f[x][c]).collect();
                m.sum(sub, &parts);
            }
            if id == "participation" {
                // Distinct persons of a subtree: at least each member's, at
                // most their sum, at most its enrolments and the whole's.
                let s = m.aux("sum of members' unique", big);
                let uniques: Vec<Fig> = members.iter().map(|&x| f[x][5]).collect();
                m.sum(s, &uniques);
                m.le(f[r][5], s);
                for &x in &members {
                    m.le(f[x][5], f[r][5]);
                }
                m.le(f[r][5], f[last][5]);
            }
        }
        let keys: Vec<&str> = table["column_keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap())
            .collect();
        for r in &f {
            match id {
                "participation" => {
                    // Active = exited + still active at the end; early exits
                    // are some of the exits; persons at most enrolments.
                    m.sum(r[0], &[r[2], r[3]]);
                    m.le(r[4], r[2]);
                    m.le(r[5], r[0]);
                }
                "support_before_after" => {
                    m.sum(r[2], &[r[0], r[1]]);
                    m.sum(r[5], &[r[3], r[4]]);
                }
                "support_transition" => m.sum(r[width - 1], &r[..width - 1]),
                // Occasions (0) and organisations (5) are not people;
                // attendees in total are women, men and unknown.
                "activities" => {
                    m.sum(r[4], &[r[1], r[2], r[3]]);
                    // Each occasion had at least one attendee.
                    m.le(r[0], r[4]);
                }
                _ => {
                    assert_eq!(keys, ["woman", "man", "total"], "{id}");
                    m.sum(r[2], &[r[0], r[1]]);
                }
            }
        }
        if id == "participation" {
            let unique_total = f[last][5];
            let uniques: Vec<Fig> = own.iter().map(|&r| f[r][5]).collect();
            for &r in &own {
                m.le(f[r][5], unique_total);
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
    for id in [
        "municipality",
        "years_in_support",
        "education",
        "intervention_gender",
    ] {
        let other = total(find(id).unwrap());
        for c in 0..3 {
            m.eq(active[c], other[c]);
        }
    }
    m.eq(active[2], total(part)[0]);
    let ig = find("intervention_gender").unwrap();
    for r in 0..figs[part].len() - 1 {
        let key = tables[part]["rows"][r]["key"].as_str().unwrap();
        let q = if is_sub(part, r) {
            sub_row(ig, key)
        } else {
            key_row(ig, key)
        }
        .unwrap();
        m.eq(figs[part][r][0], figs[ig][q][2]);
    }
    let referrer = total(find("referrer").unwrap());
    let new_years = total(find("years_in_support_new").unwrap());
    for c in 0..3 {
        m.eq(referrer[c], new_years[c]);
    }
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
    // SPEC section 13: the three referral tables count the same
    // referrals; reach is the sum of unique participants, volume head
    // counts and activity attendees; a cost line's participants are the
    // participation table's active enrolments.
    let referral_totals: Vec<Vec<Fig>> =
        ["referrals", "referrals_municipality", "referrals_decision"]
            .iter()
            .filter_map(|id| find(id).map(total))
            .collect();
    for pair in referral_totals.windows(2) {
        for (&a, &b) in pair[0].iter().zip(&pair[1]).take(3) {
            m.eq(a, b);
        }
    }
    if let Some(reach) = suppressed.get("reach") {
        let p = &plain["reach"];
        let fig = |m: &mut Model, k: &str| {
            let v = p[k].as_i64().unwrap();
            m.fig(&reach[k], format!("reach/{k}"), v > 0 && v < n, n, big)
        };
        let (pa, vo, at, to) = (
            fig(&mut m, "participants"),
            fig(&mut m, "volume"),
            fig(&mut m, "attendees"),
            fig(&mut m, "total"),
        );
        m.sum(to, &[pa, vo, at]);
        m.eq(pa, total(part)[5]);
        if let Some(v) = find("volume") {
            m.eq(vo, total(v)[2]);
        }
        if let Some(a) = find("activities") {
            m.eq(at, total(a)[4]);
        }
    }
    if let Some(cost) = suppressed.get("cost").and_then(|c| c.as_array()) {
        for c in cost {
            let (Some(code), Some(x)) = (c["intervention"].as_str(), c["participants"].as_i64())
            else {
                continue;
            };
            if let Some(r) = key_row(part, code) {
                m.eq(figs[part][r][0], Fig::Shown(x));
            }
        }
    }
    // Indicators: one (numerator, denominator) per indicator, line
    // (intervention or subtotal or total) and gender (both, women, men).
    let outcome = find("outcome").unwrap();
    let inds = suppressed["indicators"].as_array().unwrap();
    let plain_ind = plain["indicators"].as_array().unwrap();
    type Line = (String, Option<String>, bool, Option<String>);
    let mut pairs: Vec<(Line, (Fig, Fig))> = Vec::new();
    for (i, p) in inds.iter().zip(plain_ind) {
        let id = i["id"].as_str().unwrap().to_string();
        let who = i["intervention"].as_str().map(String::from);
        let sub = i.get("subtotal").is_some();
        let gender = i["gender"].as_str().map(String::from);
        let name = format!(
            "{id}/{}{}/{}",
            who.as_deref().unwrap_or("total"),
            if sub { "+" } else { "" },
            gender.as_deref().unwrap_or("all")
        );
        let prim = |k: &str| {
            let v = p[k].as_i64().unwrap();
            v > 0 && v < n
        };
        let num = m.fig(
            &i["numerator"],
            format!("{name}/num"),
            prim("numerator"),
            n,
            big,
        );
        let den = m.fig(
            &i["denominator"],
            format!("{name}/den"),
            prim("denominator"),
            n,
            big,
        );
        m.le(num, den);
        pairs.push(((id, who, sub, gender), (num, den)));
    }
    let get = |id: &str, who: &Option<String>, sub: bool, g: &Option<String>| {
        pairs
            .iter()
            .find(|(k, _)| k.0 == id && &k.1 == who && k.2 == sub && &k.3 == g)
            .map(|p| p.1)
    };
    let genders = [None, Some("woman".to_string()), Some("man".to_string())];
    for ((id, who, sub, g), (num, den)) in &pairs {
        let ind = inds.iter().find(|i| i["id"] == id.as_str()).unwrap();
        let outcomes: Option<Vec<&str>> = ind.get("outcomes").map(|o| {
            o.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap())
                .collect()
        });
        // The exits this line stands on: shown for an intervention or
        // subtotal (both genders) and for the total by gender; else the
        // work-or-studies denominator of the same line.
        let shown = match (who, g) {
            (Some(code), None) => {
                let r = if *sub {
                    sub_row(part, code)
                } else {
                    key_row(part, code)
                };
                Some(figs[part][r.unwrap()][2])
            }
            (None, None) => Some(exited[2]),
            (None, Some(g)) => Some(exited[if g == "woman" { 0 } else { 1 }]),
            (Some(_), Some(_)) => None,
        };
        let population = shown.or_else(|| get("work_or_studies", who, *sub, g).map(|p| p.1));
        if let Some(pop) = population {
            if outcomes.is_some() {
                m.eq(*den, pop);
            } else {
                m.le(*den, pop);
            }
        }
        if g.is_none() {
            if let (Some(w), Some(mn)) = (
                get(id, who, *sub, &genders[1]),
                get(id, who, *sub, &genders[2]),
            ) {
                m.sum(*num, &[w.0, mn.0]);
                m.sum(*den, &[w.1, mn.1]);
            }
        }
        if who.is_none() {
            // The total: the interventions' own lines add up to it, and an
            // outcome goal's numerator is the outcome rows in the goal.
            let parts: Vec<(Fig, Fig)> = pairs
                .iter()
                .filter(|(k, _)| &k.0 == id && k.1.is_some() && !k.2 && &k.3 == g)
                .map(|p| p.1)
                .collect();
            m.sum(*num, &parts.iter().map(|p| p.0).collect::<Vec<_>>());
            m.sum(*den, &parts.iter().map(|p| p.1).collect::<Vec<_>>());
            if let Some(codes) = &outcomes {
                let col = match g.as_deref() {
                    Some("woman") => 0,
                    Some(_) => 1,
                    None => 2,
                };
                let rows: Vec<Fig> = codes
                    .iter()
                    .map(|c| figs[outcome][key_row(outcome, c).unwrap()][col])
                    .collect();
                m.sum(*num, &rows);
            }
        } else if *sub {
            let code = who.as_deref().unwrap();
            let members: Vec<String> = tables[part]["rows"][sub_row(part, code).unwrap()]
                ["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap().to_string())
                .collect();
            let parts: Vec<(Fig, Fig)> = members
                .iter()
                .filter_map(|c| get(id, &Some(c.clone()), false, g))
                .collect();
            m.sum(*num, &parts.iter().map(|p| p.0).collect::<Vec<_>>());
            m.sum(*den, &parts.iter().map(|p| p.1).collect::<Vec<_>>());
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
        // One coefficient per variable (a figure may appear twice).
        let mut coef: std::collections::BTreeMap<usize, i64> = Default::default();
        for &(f, c) in row {
            match f {
                Fig::Shown(x) => rhs -= (c * x) as f64,
                Fig::Hidden(j) => *coef.entry(j).or_default() += c,
            }
        }
        let expr: Vec<(microlp::Variable, f64)> = coef
            .into_iter()
            .filter(|&(_, c)| c != 0)
            .map(|(j, c)| (vars[j], c as f64))
            .collect();
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
