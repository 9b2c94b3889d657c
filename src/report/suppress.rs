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
//! whose denominator is below N are reported as too few.

use super::{Report, Table};

pub fn apply(report: &mut Report, n: u32) {
    let n = n as u64;
    for t in &mut report.tables {
        suppress_table(t, n);
    }
    for i in &mut report.indicators {
        if i.denominator.is_some_and(|d| d < n) {
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
    // The matrix: data rows then the total row.
    let mut m: Vec<Vec<u64>> = t
        .rows
        .iter()
        .map(|r| r.values.iter().map(|v| v.unwrap_or(0)).collect())
        .collect();
    m.push(t.total.iter().map(|v| v.unwrap_or(0)).collect());
    let hidden = suppression_mask(&m, n);
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

/// Which cells of a matrix to hide. Rows may not all be the same length
/// only if the caller is broken; lines are taken as given.
pub fn suppression_mask(m: &[Vec<u64>], n: u64) -> Vec<Vec<bool>> {
    let mut hidden: Vec<Vec<bool>> = m
        .iter()
        .map(|r| r.iter().map(|&v| v > 0 && v < n).collect())
        .collect();
    if m.is_empty() {
        return hidden;
    }
    let width = m.iter().map(|r| r.len()).max().unwrap_or(0);
    loop {
        let mut changed = false;
        // Rows.
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
        // Columns.
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
            return hidden;
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
