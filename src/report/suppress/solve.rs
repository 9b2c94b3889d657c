//! Which hidden counts the reader can still work out.
//!
//! A hidden count is safe when a second whole-number assignment of all
//! unknown counts fits everything the reader knows (every shown figure,
//! every identity, each count's bounds) and gives it another value. The
//! search for that second assignment is an integer program solved by
//! `microlp` (branch and bound over the simplex), once per direction
//! (one more, one less than the true value). The solver works in floating
//! point, so its answer is only a candidate: it is rounded and checked
//! exactly, in integers, against every bound and identity. A count is
//! declared safe only with such a checked witness, so a numerical slip can
//! only make suppression hide more, never leak. Each witness also clears
//! every other count it moves, which keeps the number of solves small.
//!
//! The unknowns fall apart into independent groups (linked only through
//! shown figures, which are constants); each group is solved on its own.
//! Within a group, counts the identities pin (an identity with one unknown
//! left; bounds through the identities that close on a value) are found
//! first, exactly and without a search. They are constants in every
//! solution, so the rest of the group falls apart again into smaller
//! parts, each searched on its own within the tightened bounds.
//!
//! `cheap` asks for the pinned counts only: a cheap answer lists counts
//! that are determined, but says nothing of the others.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use microlp::{ComparisonOp, OptimizationDirection, Problem, SolveOptions};

use super::system::System;

/// Branch-and-bound nodes allowed per search: a search that runs out
/// finds no witness, so the count is treated as determined (safe side).
const NODE_LIMIT: u64 = 2_000;

/// Goals searched together when all at once moved none.
const BATCH: usize = 16;

/// The counts in `required` (each unknown: `known[v]` false) that the
/// reader can determine, given upper bounds `ub` for the unknowns; with
/// `cheap`, only those pinned without a search.
pub fn determined(
    sys: &System,
    known: &[bool],
    ub: &[u64],
    required: &[usize],
    cheap: bool,
) -> Vec<usize> {
    let n = sys.value.len();
    // Group the unknowns: union over the sums they share.
    let mut parent: Vec<usize> = (0..n).collect();
    for s in &sys.sums {
        let unknown = s.parts.iter().chain(std::iter::once(&s.total));
        join(&mut parent, unknown.copied().filter(|&v| !known[v]));
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for &v in required {
        groups.entry(root(&mut parent, v)).or_default().push(v);
    }
    let mut group_sums: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, s) in sys.sums.iter().enumerate() {
        if let Some(&v) = s
            .parts
            .iter()
            .chain(std::iter::once(&s.total))
            .find(|&&v| !known[v])
        {
            let r = root(&mut parent, v);
            if groups.contains_key(&r) {
                group_sums.entry(r).or_default().push(i);
            }
        }
    }
    let mut out = Vec::new();
    let mut keys: Vec<usize> = groups.keys().copied().collect();
    keys.sort_unstable();
    for r in keys {
        let sums = group_sums.remove(&r).unwrap_or_default();
        out.extend(Group::new(sys, known, ub, &sums).determined(&groups[&r], cheap));
    }
    out.sort_unstable();
    out
}

/// One independent group of unknowns and the identities over them.
struct Group<'a> {
    sys: &'a System,
    /// Unknown variables of the group, in a fixed order.
    vars: Vec<usize>,
    lb: Vec<i64>,
    ub: Vec<i64>,
    /// Each identity as coefficients over `vars` and a constant right side.
    rows: Vec<(Vec<(usize, i64)>, i64)>,
}

impl<'a> Group<'a> {
    fn new(sys: &'a System, known: &[bool], ub: &[u64], sums: &[usize]) -> Group<'a> {
        let mut index: HashMap<usize, usize> = HashMap::new();
        let mut vars = Vec::new();
        let mut rows = Vec::new();
        for &i in sums {
            let s = &sys.sums[i];
            let mut coef: Vec<(usize, i64)> = Vec::new();
            let mut rhs = 0i64;
            let terms = s
                .parts
                .iter()
                .map(|&p| (p, 1i64))
                .chain(std::iter::once((s.total, -1i64)));
            for (v, c) in terms {
                if known[v] {
                    rhs -= c * sys.value[v] as i64;
                } else {
                    let k = *index.entry(v).or_insert_with(|| {
                        vars.push(v);
                        vars.len() - 1
                    });
                    match coef.iter_mut().find(|(j, _)| *j == k) {
                        Some((_, x)) => *x += c,
                        None => coef.push((k, c)),
                    }
                }
            }
            coef.retain(|&(_, c)| c != 0);
            rows.push((coef, rhs));
        }
        let lb = vars.iter().map(|&v| sys.lb[v] as i64).collect();
        let ub = vars.iter().map(|&v| ub[v] as i64).collect();
        Group {
            sys,
            vars,
            lb,
            ub,
            rows,
        }
    }

    /// Each unknown's true value, and the position of each system
    /// variable among the group's unknowns.
    fn truth_and_index(&self) -> (Vec<i64>, HashMap<usize, usize>) {
        let truth = self
            .vars
            .iter()
            .map(|&v| self.sys.value[v] as i64)
            .collect();
        let local = self.vars.iter().enumerate().map(|(k, &v)| (v, k)).collect();
        (truth, local)
    }

    fn determined(&self, required: &[usize], cheap: bool) -> Vec<usize> {
        let (truth, local) = self.truth_and_index();
        let mut open: BTreeSet<usize> = required
            .iter()
            .map(|v| match local.get(v) {
                Some(&k) => k,
                // In no identity at all: free within its own bounds.
                None => usize::MAX,
            })
            .collect();
        // An unknown in no identity is free within its bounds, which the
        // caller only asks about when they leave room.
        open.remove(&usize::MAX);
        let mut out: Vec<usize> = Vec::new();
        // Counts the identities fix without a search: an identity left with
        // one unfixed count fixes it, and so on (exact, and far cheaper than
        // a failed search over the whole group).
        let fixed = self.fixed_by_propagation();
        for k in fixed.iter().enumerate().filter(|(_, &f)| f).map(|(k, _)| k) {
            if open.remove(&k) {
                out.push(self.vars[k]);
            }
        }
        // Counts the identities and bounds pin together (three counts of at
        // least 1 under a total of at most 3): bounds implied for every
        // whole-number solution, so one that closes on a value is that
        // value. Exact, and it spares the searches that would fail.
        if open.is_empty() {
            return out;
        }
        let (lo, hi) = self.implied_bounds(&fixed, &truth);
        open.retain(|&k| {
            let pinned = lo[k] >= hi[k];
            if pinned {
                out.push(self.vars[k]);
            }
            !pinned
        });
        if cheap {
            return out;
        }
        // A pinned count is a constant in every solution: with the pinned
        // ones taken out, the rest falls apart into smaller groups, each
        // searched on its own and within the tightened bounds (exact: the
        // whole-number solutions are the same).
        let free: Vec<bool> = lo.iter().zip(&hi).map(|(l, h)| l < h).collect();
        let mut parent: Vec<usize> = (0..self.vars.len()).collect();
        for (coef, _) in &self.rows {
            join(
                &mut parent,
                coef.iter().map(|&(j, _)| j).filter(|&j| free[j]),
            );
        }
        let mut parts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &k in &open {
            parts.entry(root(&mut parent, k)).or_default().push(k);
        }
        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for k in (0..self.vars.len()).filter(|&k| free[k]) {
            let r = root(&mut parent, k);
            if parts.contains_key(&r) {
                members.entry(r).or_default().push(k);
            }
        }
        for (r, goals) in parts {
            let sub = self.restrict(&members[&r], &lo, &hi, &truth);
            let goals: Vec<usize> = goals.iter().map(|&k| self.vars[k]).collect();
            out.extend(sub.search(&goals));
        }
        out
    }

    /// The group of `members` (free unknowns), the others at their (pinned)
    /// true values, within bounds `lo`..`hi`.
    fn restrict(&self, members: &[usize], lo: &[i64], hi: &[i64], truth: &[i64]) -> Group<'a> {
        let mut index = vec![usize::MAX; self.vars.len()];
        for (i, &k) in members.iter().enumerate() {
            index[k] = i;
        }
        let rows = self
            .rows
            .iter()
            .filter(|(coef, _)| coef.iter().any(|&(j, _)| index[j] != usize::MAX))
            .map(|(coef, rhs)| {
                let mut rhs = *rhs;
                let mut own = Vec::new();
                for &(j, c) in coef {
                    if index[j] == usize::MAX {
                        rhs -= c * truth[j];
                    } else {
                        own.push((index[j], c));
                    }
                }
                (own, rhs)
            })
            .collect();
        Group {
            sys: self.sys,
            vars: members.iter().map(|&k| self.vars[k]).collect(),
            lb: members.iter().map(|&k| lo[k]).collect(),
            ub: members.iter().map(|&k| hi[k]).collect(),
            rows,
        }
    }

    /// Search a witness for each of `goals` (variables of the system, all
    /// in this group).
    fn search(&self, goals: &[usize]) -> Vec<usize> {
        let (truth, local) = self.truth_and_index();
        let mut open: BTreeSet<usize> = goals.iter().map(|v| local[v]).collect();
        let mut out = Vec::new();
        // First move everything still open at once, up then down, for as
        // long as that clears counts: each witness usually clears many, so
        // few counts are left for a search of their own.
        loop {
            let before = open.len();
            for step in [1i64, -1] {
                if open.is_empty() {
                    break;
                }
                let goal: Vec<usize> = open.iter().copied().collect();
                if let Some(w) = self.witness(&truth, &goal, step) {
                    open.retain(|&j| w[j] == truth[j]);
                }
            }
            if open.is_empty() || open.len() == before {
                break;
            }
        }
        // Then in batches: where the answer for all at once moves none (the
        // solver stops at its node limit with a poor solution, or the goals
        // can only move against each other), a smaller set often moves
        // together, which spares a search each. A set no larger than a
        // batch was just tried whole.
        if open.len() > BATCH {
            let todo: Vec<usize> = open.iter().copied().collect();
            for batch in todo.chunks(BATCH) {
                for step in [1i64, -1] {
                    let goal: Vec<usize> =
                        batch.iter().copied().filter(|j| open.contains(j)).collect();
                    if goal.len() < 2 {
                        break;
                    }
                    if let Some(w) = self.witness(&truth, &goal, step) {
                        open.retain(|&j| w[j] == truth[j]);
                    }
                }
            }
        }
        while let Some(&k) = open.iter().next() {
            open.remove(&k);
            let witness = [1i64, -1]
                .iter()
                .find_map(|&step| self.witness(&truth, &[k], step));
            match witness {
                Some(w) => open.retain(|&j| w[j] == truth[j]),
                None => out.push(self.vars[k]),
            }
        }
        out
    }

    /// The unknowns pinned by the identities alone: repeatedly, an identity
    /// with exactly one unknown not yet pinned pins that one. (Bounds that
    /// meet pin a count too.)
    fn fixed_by_propagation(&self) -> Vec<bool> {
        let mut fixed: Vec<bool> = self.lb.iter().zip(&self.ub).map(|(l, h)| l >= h).collect();
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); self.vars.len()];
        for (r, (coef, _)) in self.rows.iter().enumerate() {
            for &(j, _) in coef {
                rows_of[j].push(r);
            }
        }
        let mut queue: Vec<usize> = (0..self.rows.len()).collect();
        while let Some(r) = queue.pop() {
            let mut free = self.rows[r].0.iter().filter(|&&(j, _)| !fixed[j]);
            if let (Some(&(j, _)), None) = (free.next(), free.next()) {
                fixed[j] = true;
                queue.extend(rows_of[j].iter().copied());
            }
        }
        fixed
    }

    /// Bounds every whole-number solution keeps: each identity
    /// `sum c_j x_j = rhs` bounds each of its counts by the others' bounds,
    /// repeated until nothing tightens (or a round limit: stopping early
    /// only leaves bounds looser, which is safe).
    fn implied_bounds(&self, fixed: &[bool], truth: &[i64]) -> (Vec<i64>, Vec<i64>) {
        let (mut lo, mut hi) = (self.lb.clone(), self.ub.clone());
        for k in (0..fixed.len()).filter(|&k| fixed[k]) {
            (lo[k], hi[k]) = (truth[k], truth[k]);
        }
        for _ in 0..50 {
            let mut changed = false;
            for (coef, rhs) in &self.rows {
                // The least and most the whole left side can be.
                let (mut min, mut max) = (0i64, 0i64);
                for &(j, c) in coef {
                    let (a, b) = (c * lo[j], c * hi[j]);
                    min += a.min(b);
                    max += a.max(b);
                }
                for &(j, c) in coef {
                    let (a, b) = (c * lo[j], c * hi[j]);
                    // c x_j = rhs - (the rest), the rest within these:
                    let rest_min = min - a.min(b);
                    let rest_max = max - a.max(b);
                    let (t_lo, t_hi) = (rhs - rest_max, rhs - rest_min);
                    let (new_lo, new_hi) = if c > 0 {
                        (div_ceil(t_lo, c), div_floor(t_hi, c))
                    } else {
                        (div_ceil(t_hi, c), div_floor(t_lo, c))
                    };
                    if new_lo > lo[j] {
                        lo[j] = new_lo;
                        changed = true;
                    }
                    if new_hi < hi[j] {
                        hi[j] = new_hi;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        (lo, hi)
    }

    /// A checked whole-number assignment other than the truth. With one
    /// goal variable it must move by `step` or further in that direction;
    /// with several, as many as can move by one in that direction, none
    /// moving the other way (the answer may move none: then it clears
    /// nothing).
    fn witness(&self, truth: &[i64], goal: &[usize], step: i64) -> Option<Vec<i64>> {
        let (mut lo, mut hi) = (self.lb.clone(), self.ub.clone());
        if let [k] = goal {
            let k = *k;
            if step > 0 {
                lo[k] = truth[k] + 1;
            } else {
                hi[k] = truth[k] - 1;
            }
            if lo[k] > hi[k] {
                return None;
            }
        }
        let mut p = Problem::new(OptimizationDirection::Minimize);
        let vars: Vec<microlp::Variable> = (0..self.vars.len())
            .map(|j| {
                // One goal: the least move suffices. Several: the marks
                // below carry the objective.
                let obj = match goal {
                    [k] if *k == j => step as f64,
                    _ => 0.0,
                };
                let clamp = |x: i64| x.clamp(0, i32::MAX as i64) as i32;
                p.add_integer_var(obj, (clamp(lo[j]), clamp(hi[j])))
            })
            .collect();
        for (coef, rhs) in &self.rows {
            let expr: Vec<(microlp::Variable, f64)> =
                coef.iter().map(|&(j, c)| (vars[j], c as f64)).collect();
            p.add_constraint(expr.as_slice(), ComparisonOp::Eq, *rhs as f64);
        }
        // Several goals: as many as can move by one (a mark of at most 1
        // for each, earned only by moving it in the step's direction).
        // The marks keep every goal from moving the other way, so goals
        // that can only move against each other (the cells of a table
        // cycle) move only in a search of their own. Letting marks go
        // negative instead (a cost for moving the other way) was tried:
        // slower on the national register.
        if goal.len() > 1 {
            for &j in goal {
                let moved = p.add_var(-1.0, (0.0, 1.0));
                p.add_constraint(
                    [(vars[j], step as f64), (moved, -1.0)].as_slice(),
                    ComparisonOp::Ge,
                    (step * truth[j]) as f64,
                );
            }
        }
        let mut options = SolveOptions::default();
        options.node_limit = Some(NODE_LIMIT);
        let outcome = p.solve_with(options);
        let outcome = outcome.ok()?;
        let solution = outcome.solution()?;
        let x: Vec<i64> = vars
            .iter()
            .map(|&v| solution.var_value_raw(v).round() as i64)
            .collect();
        self.check(&x, &lo, &hi).then_some(x)
    }

    /// Exactly, in integers: within bounds and every identity holds.
    fn check(&self, x: &[i64], lo: &[i64], hi: &[i64]) -> bool {
        x.iter()
            .zip(lo.iter().zip(hi))
            .all(|(v, (l, h))| l <= v && v <= h)
            && self
                .rows
                .iter()
                .all(|(coef, rhs)| coef.iter().map(|&(j, c)| c * x[j]).sum::<i64>() == *rhs)
    }
}

/// The representative of `v`'s set (union-find with path halving).
fn root(p: &mut [usize], mut v: usize) -> usize {
    while p[v] != v {
        p[v] = p[p[v]];
        v = p[v];
    }
    v
}

/// Put `items` into one set.
fn join(p: &mut [usize], mut items: impl Iterator<Item = usize>) {
    let Some(first) = items.next() else { return };
    for v in items {
        let (a, b) = (root(p, first), root(p, v));
        p[b] = a;
    }
}

/// `a / b` rounded up (towards +infinity), for `b != 0`.
fn div_ceil(a: i64, b: i64) -> i64 {
    let (q, r) = (a / b, a % b);
    if r != 0 && ((r > 0) == (b > 0)) {
        q + 1
    } else {
        q
    }
}

/// `a / b` rounded down (towards -infinity), for `b != 0`.
fn div_floor(a: i64, b: i64) -> i64 {
    let (q, r) = (a / b, a % b);
    if r != 0 && ((r > 0) != (b > 0)) {
        q - 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::suppress::system::Sum;

    /// A system of published counts with the given identities
    /// (`total = Σ parts`).
    fn system(value: Vec<u64>, sums: &[(usize, &[usize])]) -> System {
        let n = value.len();
        System {
            value,
            lb: vec![0; n],
            published: vec![true; n],
            counted: vec![false; n],
            pinned: vec![false; n],
            exempt: vec![false; n],
            sums: sums
                .iter()
                .map(|&(total, parts)| Sum {
                    total,
                    parts: parts.to_vec(),
                })
                .collect(),
            cells: Vec::new(),
            indicators: Vec::new(),
            durations: Vec::new(),
            reach: None,
            waiting: None,
            cost: Vec::new(),
        }
    }

    #[test]
    fn a_cheap_answer_lists_only_what_is_proved_without_a_search() {
        // Unknown x = 2 and y = 1 with x + y = 3 and x = y + 1 (both shown
        // constants): no identity has one unknown left and the bounds do
        // not close, yet the two identities together fix both. Beside them
        // a 2x2 table with all four cells hidden, whose cells can move.
        //   0: x, 1: y, 2: A = 3, 3: B = 1
        //   4..=7: cells p q / r t, 8..=11: row and column totals
        let sys = system(
            vec![2, 1, 3, 1, 2, 3, 4, 1, 5, 5, 6, 4],
            &[
                (2, &[0, 1]),
                (0, &[1, 3]),
                (8, &[4, 5]),
                (9, &[6, 7]),
                (10, &[4, 6]),
                (11, &[5, 7]),
            ],
        );
        let known: Vec<bool> = (0..12).map(|v| !(v <= 1 || (4..=7).contains(&v))).collect();
        let ub = vec![100; 12];
        let required = [0, 1, 4, 5, 6, 7];
        assert_eq!(
            determined(&sys, &known, &ub, &required, true),
            Vec::<usize>::new()
        );
        assert_eq!(determined(&sys, &known, &ub, &required, false), vec![0, 1]);
        // Showing y leaves x alone in its identities: the cheap proof
        // finds it.
        let mut known = known;
        known[1] = true;
        assert_eq!(
            determined(&sys, &known, &ub, &[0, 4, 5, 6, 7], true),
            vec![0]
        );
        // One cell of the table shown pins the other three without a search.
        known[4] = true;
        assert_eq!(
            determined(&sys, &known, &ub, &[0, 5, 6, 7], true),
            vec![0, 5, 6, 7]
        );
    }

    #[test]
    fn division_rounds_towards_the_named_side() {
        for (a, b) in [
            (7, 2),
            (-7, 2),
            (7, -2),
            (-7, -2),
            (6, 3),
            (-6, 3),
            (0, 5),
            (1, -1),
        ] {
            let exact = a as f64 / b as f64;
            assert_eq!(div_ceil(a, b), exact.ceil() as i64, "{a}/{b}");
            assert_eq!(div_floor(a, b), exact.floor() as i64, "{a}/{b}");
        }
    }
}
