//! A comparison period (`--compare`, SPEC section 12): the report of the
//! period with, beside every row, total, indicator and time figure, the
//! same figure in the comparison period ("47 deltagare (jmf 2020: 36)").
//!
//! Both periods are computed as complete reports (from one scan) and, for
//! publication, suppressed each on its own; then they are laid side by
//! side here. No identity links a count of one period with a count of the
//! other, so the system of linked figures of the two together falls apart
//! into the two periods' systems: suppressing each on its own is
//! suppressing them together. A row (or support column, or indicator)
//! that only one period has is shown with zeros in the other, which is
//! what that period's own report says by leaving it out.

use super::{Duration, Indicator, Report, Row, Table};

/// The report of the first period, carrying the second's figures (the
/// first unchanged when there is no second).
pub fn merge(mut reports: Vec<Report>) -> Report {
    let cmp = if reports.len() > 1 {
        reports.pop()
    } else {
        None
    };
    let mut main = reports.swap_remove(0);
    let Some(cmp) = cmp else {
        return main;
    };
    main.compare = Some(cmp.period);
    for t in &mut main.tables {
        if let Some(c) = cmp.tables.iter().find(|c| c.id == t.id) {
            merge_table(t, c);
        }
    }
    main.indicators = merge_keyed(
        std::mem::take(&mut main.indicators),
        &cmp.indicators,
        |i| (i.id.clone(), i.intervention.clone(), i.gender, i.subtotal),
        |i| {
            let mut z = i.clone();
            z.numerator = Some(0);
            z.denominator = Some(0);
            z.share = None;
            z.of_ten = None;
            z.phrase = None;
            z.met = None;
            z.too_few = false;
            z.compare = None;
            z
        },
        |i: &mut Indicator, c: Indicator| i.compare = Some(Box::new(c)),
    );
    main.durations = merge_keyed(
        std::mem::take(&mut main.durations),
        &cmp.durations,
        |d| (d.intervention.clone(), d.subtotal),
        |d| Duration {
            exited: Some(0),
            mean_days: None,
            median_days: None,
            too_few: false,
            compare: None,
            ..d.clone()
        },
        |d: &mut Duration, c: Duration| d.compare = Some(Box::new(c)),
    );
    main
}

/// The keys of `a` and `b` in one order that keeps each list's own order
/// (both follow one order: codes, bands, the tree), `a`'s first where
/// they do not say.
fn union_order<K: PartialEq + Clone>(a: &[K], b: &[K]) -> Vec<K> {
    let mut out: Vec<K> = Vec::with_capacity(a.len().max(b.len()));
    let mut j = 0;
    let take_b = |out: &mut Vec<K>, upto: usize, j: &mut usize| {
        for y in &b[*j..upto] {
            if !a.contains(y) && !out.contains(y) {
                out.push(y.clone());
            }
        }
        *j = upto;
    };
    for x in a {
        if let Some(p) = b[j..].iter().position(|y| y == x) {
            take_b(&mut out, j + p, &mut j);
            j += 1;
        }
        out.push(x.clone());
    }
    take_b(&mut out, b.len(), &mut j);
    out
}

/// Items of both periods by key: each of `main` carries its counterpart
/// in `cmp` (or a zero one), and those only `cmp` has join as zeros.
fn merge_keyed<T: Clone, K: PartialEq + Clone>(
    main: Vec<T>,
    cmp: &[T],
    key: impl Fn(&T) -> K,
    zero: impl Fn(&T) -> T,
    attach: impl Fn(&mut T, T),
) -> Vec<T> {
    let ka: Vec<K> = main.iter().map(&key).collect();
    let kb: Vec<K> = cmp.iter().map(&key).collect();
    union_order(&ka, &kb)
        .into_iter()
        .map(|k| {
            let a = ka.iter().position(|x| *x == k).map(|i| main[i].clone());
            let b = kb.iter().position(|x| *x == k).map(|i| cmp[i].clone());
            match (a, b) {
                (Some(mut a), Some(b)) => {
                    attach(&mut a, b);
                    a
                }
                (Some(mut a), None) => {
                    let z = zero(&a);
                    attach(&mut a, z);
                    a
                }
                (None, Some(b)) => {
                    let mut z = zero(&b);
                    attach(&mut z, b);
                    z
                }
                (None, None) => unreachable!("a key comes from one side"),
            }
        })
        .collect()
}

/// A table with the comparison period's values beside its own, on the
/// union of both periods' rows and columns.
fn merge_table(t: &mut Table, c: &Table) {
    let columns = union_order(&t.column_keys, &c.column_keys);
    let remap = |keys: &[String], values: &[Option<u64>]| -> Vec<Option<u64>> {
        columns
            .iter()
            .map(|k| {
                keys.iter()
                    .position(|x| x == k)
                    .map_or(Some(0), |i| values[i])
            })
            .collect()
    };
    let labels: Vec<String> = columns
        .iter()
        .map(|k| {
            let from = |t: &Table| {
                t.column_keys
                    .iter()
                    .position(|x| x == k)
                    .map(|i| t.columns[i].clone())
            };
            from(t).or_else(|| from(c)).unwrap_or_default()
        })
        .collect();
    let with_shares = t.rows.iter().chain(&c.rows).any(|r| r.shares.is_some());
    let key = |r: &Row| (r.key.clone(), r.subtotal.is_some());
    let ka: Vec<(String, bool)> = t.rows.iter().map(key).collect();
    let kb: Vec<(String, bool)> = c.rows.iter().map(key).collect();
    let zeros = vec![Some(0); columns.len()];
    let rows: Vec<Row> = union_order(&ka, &kb)
        .into_iter()
        .map(|k| {
            let a = ka.iter().position(|x| *x == k).map(|i| &t.rows[i]);
            let b = kb.iter().position(|x| *x == k).map(|i| &c.rows[i]);
            let mut row = a.or(b).expect("a key comes from one side").clone();
            row.values = a.map_or(zeros.clone(), |a| remap(&t.column_keys, &a.values));
            row.compare = Some(b.map_or(zeros.clone(), |b| remap(&c.column_keys, &b.values)));
            if a.is_none() {
                row.shares = None;
            }
            row
        })
        .collect();
    t.rows = rows;
    t.total = remap(&t.column_keys, &t.total);
    t.compare_total = Some(remap(&c.column_keys, &c.total));
    t.columns = labels;
    t.column_keys = columns;
    if with_shares {
        // A row only the comparison period has: 0 of the total.
        for row in t.rows.iter_mut().filter(|r| r.shares.is_none()) {
            row.shares = Some(
                t.total
                    .iter()
                    .map(|tot| tot.filter(|&n| n > 0).map(|_| 0.0))
                    .collect(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::union_order;

    #[test]
    fn union_keeps_both_orders() {
        let a = ["1-6", "7-12", "unknown"];
        let b = ["1-6", "7-12", "13-18", "unknown"];
        assert_eq!(union_order(&a, &b), ["1-6", "7-12", "13-18", "unknown"]);
        assert_eq!(union_order(&b, &a), ["1-6", "7-12", "13-18", "unknown"]);
        let a = ["Alingsås", "Borås", "total"];
        let b = ["Ale", "Borås", "Vara", "total"];
        assert_eq!(
            union_order(&a, &b),
            ["Alingsås", "Ale", "Borås", "Vara", "total"]
        );
        assert_eq!(union_order::<&str>(&[], &["x"]), ["x"]);
    }
}
