//! Suppression of small counts for published tables (`--suppress-below N`).
//!
//! Primary: every cell with 0 < n < N is hidden. Secondary: while some row
//! or column of the table (the total row and total column included) holds
//! exactly one hidden cell, hide one more cell in that line, the smallest
//! visible non-zero one (a zero if nothing else is left), so no hidden count
//! can be recovered by subtracting the visible ones from a total. Cells are
//! only ever added to the hidden set, so the loop ends.
//!
//! Shares are hidden with their cell and wherever their column total is
//! hidden (a share and its count would give the total back). Indicators
//! whose denominator is below N, or whose numerator or remainder is a small
//! nonzero count, are reported as too few.

use super::{Report, Table};

pub fn apply(report: &mut Report, n: u32) {
    let n = n as u64;
    for t in &mut report.tables {
        suppress_table(t, n);
    }
    for i in &mut report.indicators {
        // Too few when the denominator is small, and also when either part
        // (those who reached the goal, those who did not) is a small nonzero
        // count: with the denominator shown, it would give back a count the
        // outcome table hides.
        let small = |x: u64| x > 0 && x < n;
        let (num, den) = (i.numerator.unwrap_or(0), i.denominator.unwrap_or(0));
        if den < n || small(num) || small(den - num) {
            i.numerator = None;
            i.denominator = None;
            i.share = None;
            i.of_ten = None;
            i.phrase = None;
            i.met = None;
            i.too_few = true;
        }
    }
    report.suppress_below = Some(n as u32);
}

/// Suppress one table in place.
pub fn suppress_table(t: &mut Table, n: u64) {
    let width = t.total.len();
    // The matrix: data rows then the total row.
    let mut m: Vec<Vec<u64>> = t
        .rows
        .iter()
        .map(|r| r.values.iter().map(|v| v.unwrap_or(0)).collect())
        .collect();
    m.push(t.total.iter().map(|v| v.unwrap_or(0)).collect());
    // Blocks of columns that add up on their own: before and after are two
    // sums side by side; every other table but `participation` is one block
    // whose last column is the row sum (participation's columns do not add
    // across, so only the line rule applies there).
    let blocks: Vec<std::ops::Range<usize>> = if t.id == "support_before_after" {
        vec![0..3, 3..6]
    } else {
        std::iter::once(0..width).collect()
    };
    let additive = t.id != "participation";
    let mut hidden = vec![vec![false; width]; m.len()];
    for b in blocks {
        let sub: Vec<Vec<u64>> = m.iter().map(|r| r[b.clone()].to_vec()).collect();
        let mask = if additive {
            suppression_mask_additive(&sub, n)
        } else {
            suppression_mask(&sub, n)
        };
        for (r, row) in mask.iter().enumerate() {
            hidden[r][b.clone()].copy_from_slice(row);
        }
    }
    let last = m.len() - 1;
    for (r, row) in t.rows.iter_mut().enumerate() {
        for (c, v) in row.values.iter_mut().enumerate() {
            if hidden[r][c] {
                *v = None;
            }
        }
        if let Some(shares) = &mut row.shares {
            for (c, s) in shares.iter_mut().enumerate() {
                if hidden[r][c] || hidden[last][c] {
                    *s = None;
                }
            }
        }
    }
    for (c, v) in t.total.iter_mut().enumerate() {
        if hidden[last][c] {
            *v = None;
        }
    }
}

/// Which cells of a matrix to hide by the line rule alone.
pub fn suppression_mask(m: &[Vec<u64>], n: u64) -> Vec<Vec<bool>> {
    let mut hidden: Vec<Vec<bool>> = m
        .iter()
        .map(|r| r.iter().map(|&v| v > 0 && v < n).collect())
        .collect();
    extend_by_lines(m, &mut hidden);
    hidden
}

/// For a table whose last column is each row's sum and whose last row is
/// each column's sum: the line rule, then, while the visible cells and
/// these sums still determine some hidden cell (it can happen through
/// visible zeros across several lines), hide one more cell beside it.
pub fn suppression_mask_additive(m: &[Vec<u64>], n: u64) -> Vec<Vec<bool>> {
    let mut hidden = suppression_mask(m, n);
    while let Some((r, c)) = determined_cell(&hidden) {
        let in_row = pick(
            m[r].iter()
                .enumerate()
                .filter(|(j, _)| !hidden[r][*j])
                .map(|(j, &v)| (j, v)),
        );
        match in_row {
            Some(j) => hidden[r][j] = true,
            None => match pick(
                (0..m.len())
                    .filter(|&i| !hidden[i][c])
                    .map(|i| (i, m[i][c])),
            ) {
                Some(i) => hidden[i][c] = true,
                None => return hidden, // everything in its lines is hidden already
            },
        }
        extend_by_lines(m, &mut hidden);
    }
    hidden
}

/// A hidden cell whose value follows from the row and column sums alone,
/// if any: Gaussian elimination over the hidden cells.
pub fn determined_cell(hidden: &[Vec<bool>]) -> Option<(usize, usize)> {
    let rows = hidden.len();
    let width = hidden.first().map_or(0, |r| r.len());
    if rows < 2 || width < 2 {
        return None;
    }
    let vars: Vec<(usize, usize)> = (0..rows)
        .flat_map(|r| (0..width).map(move |c| (r, c)))
        .filter(|&(r, c)| hidden[r][c])
        .collect();
    let index = |r: usize, c: usize| vars.iter().position(|&v| v == (r, c));
    // One equation per line: the cells before the last minus the last = known.
    let mut eqs: Vec<Vec<f64>> = Vec::new();
    for r in 0..rows {
        let mut e = vec![0.0; vars.len()];
        for c in 0..width {
            if let Some(i) = index(r, c) {
                e[i] = if c == width - 1 { -1.0 } else { 1.0 };
            }
        }
        eqs.push(e);
    }
    for c in 0..width {
        let mut e = vec![0.0; vars.len()];
        for r in 0..rows {
            if let Some(i) = index(r, c) {
                e[i] = if r == rows - 1 { -1.0 } else { 1.0 };
            }
        }
        eqs.push(e);
    }
    // Reduced row echelon form.
    let mut lead = 0;
    let mut pivot_row = 0;
    while pivot_row < eqs.len() && lead < vars.len() {
        let Some(p) = (pivot_row..eqs.len()).find(|&i| eqs[i][lead].abs() > 1e-9) else {
            lead += 1;
            continue;
        };
        eqs.swap(pivot_row, p);
        let div = eqs[pivot_row][lead];
        for x in eqs[pivot_row].iter_mut() {
            *x /= div;
        }
        let pivot = eqs[pivot_row].clone();
        for (i, e) in eqs.iter_mut().enumerate() {
            if i != pivot_row && e[lead].abs() > 1e-9 {
                let f = e[lead];
                for (x, p) in e.iter_mut().zip(&pivot) {
                    *x -= f * p;
                }
            }
        }
        pivot_row += 1;
        lead += 1;
    }
    // A row with a single nonzero pins that variable.
    eqs.iter().find_map(|e| {
        let mut nz = e.iter().enumerate().filter(|(_, x)| x.abs() > 1e-9);
        match (nz.next(), nz.next()) {
            (Some((i, _)), None) => Some(vars[i]),
            _ => None,
        }
    })
}

/// The line rule: while some row or column holds exactly one hidden cell,
/// hide the smallest visible non-zero cell of that line (a zero if nothing
/// else is left).
fn extend_by_lines(m: &[Vec<u64>], hidden: &mut [Vec<bool>]) {
    if m.is_empty() {
        return;
    }
    let width = m.iter().map(|r| r.len()).max().unwrap_or(0);
    loop {
        let mut changed = false;
        for r in 0..m.len() {
            if hidden[r].iter().filter(|&&h| h).count() == 1 {
                if let Some(c) = pick(
                    m[r].iter()
                        .enumerate()
                        .filter(|(c, _)| !hidden[r][*c])
                        .map(|(c, &v)| (c, v)),
                ) {
                    hidden[r][c] = true;
                    changed = true;
                }
            }
        }
        for c in 0..width {
            let count = (0..m.len())
                .filter(|&r| hidden[r].get(c) == Some(&true))
                .count();
            if count == 1 {
                let candidates = (0..m.len())
                    .filter(|&r| c < m[r].len() && !hidden[r][c])
                    .map(|r| (r, m[r][c]));
                if let Some(r) = pick(candidates) {
                    hidden[r][c] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            return;
        }
    }
}

/// The smallest non-zero candidate, else the first zero.
fn pick(candidates: impl Iterator<Item = (usize, u64)>) -> Option<usize> {
    let all: Vec<(usize, u64)> = candidates.collect();
    all.iter()
        .filter(|(_, v)| *v > 0)
        .min_by_key(|(_, v)| *v)
        .or_else(|| all.first())
        .map(|(i, _)| *i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_ok(h: &[Vec<bool>]) -> bool {
        let rows_ok = h.iter().all(|r| r.iter().filter(|&&x| x).count() != 1);
        let width = h[0].len();
        let cols_ok = (0..width).all(|c| h.iter().filter(|r| r[c]).count() != 1);
        rows_ok && cols_ok
    }

    #[test]
    fn a_single_small_cell_takes_partners_with_it() {
        // Kvinnor, Män, Totalt; last row is the total row.
        let m = vec![vec![2, 10, 12], vec![8, 9, 17], vec![10, 19, 29]];
        let h = suppression_mask(&m, 3);
        assert!(h[0][0]);
        assert!(lines_ok(&h), "{h:?}");
        // Row 0 needs a second hidden cell; column 0 too.
        assert!(h[0].iter().filter(|&&x| x).count() >= 2);
    }

    #[test]
    fn nothing_small_hides_nothing() {
        let m = vec![vec![5, 10, 15], vec![0, 9, 9], vec![5, 19, 24]];
        let h = suppression_mask(&m, 3);
        assert!(h.iter().flatten().all(|&x| !x));
    }

    #[test]
    fn no_hidden_cell_follows_from_visible_zeros_and_sums() {
        // The reviewer's cross table: with the line rule alone the hidden 2
        // in the bottom-left could be solved from column 2 and the total column.
        let m = vec![
            vec![0, 2, 0, 2],
            vec![0, 6, 0, 6],
            vec![2, 2, 4, 8],
            vec![2, 10, 4, 16],
        ];
        let h = suppression_mask_additive(&m, 3);
        assert!(lines_ok(&h));
        assert_eq!(determined_cell(&h), None, "{h:?}");
        assert!(h[0][1] && h[2][0]);
    }

    proptest::proptest! {
        #[test]
        fn no_line_has_exactly_one_hidden_cell(
            cells in proptest::collection::vec(proptest::collection::vec(0u64..12, 2), 1..8),
            n in 1u64..6,
        ) {
            let mut m: Vec<Vec<u64>> = cells.iter().map(|r| vec![r[0], r[1], r[0] + r[1]]).collect();
            let total: Vec<u64> = (0..3).map(|c| m.iter().map(|r| r[c]).sum()).collect();
            m.push(total);
            let h = suppression_mask(&m, n);
            proptest::prop_assert!(lines_ok(&h));
            for (r, row) in m.iter().enumerate() {
                for (c, &v) in row.iter().enumerate() {
                    if v > 0 && v < n {
                        proptest::prop_assert!(h[r][c]);
                    }
                }
            }
        }
    }
}
