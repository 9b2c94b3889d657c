//! Aligned plain text for the terminal.

use super::{cells, heading, sections};
use crate::report::Report;

/// True for cells that read as numbers (counts, percentages, the suppression dash).
fn numeric(cell: &str) -> bool {
    !cell.is_empty()
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || " ,.%–-\u{a0}−".contains(c))
}

/// Lay out rows as aligned columns, with a rule under the header row.
/// Columns of numbers are right-aligned, all others left-aligned.
pub fn grid(rows: &[Vec<String>]) -> String {
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let right: Vec<bool> = (0..width)
        .map(|c| {
            c > 0
                && rows
                    .iter()
                    .skip(1)
                    .filter_map(|r| r.get(c))
                    .filter(|s| !s.is_empty())
                    .all(|s| numeric(s))
        })
        .collect();
    let mut out = String::new();
    for (n, r) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = " ".repeat(widths[c].saturating_sub(cell.chars().count()));
            if c > 0 {
                line.push_str("  ");
            }
            if right[c] {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if n == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * width.saturating_sub(1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

pub fn render(r: &Report) -> String {
    let (title, sub) = heading(r);
    let mut out = format!("{title}\n{sub}\n");
    for t in &r.tables {
        if t.id == "volume" && t.rows.is_empty() {
            continue;
        }
        let (header, body) = cells(t, r);
        let mut rows = vec![header];
        rows.extend(body);
        out.push('\n');
        out.push_str(&grid(&rows));
    }
    for (_, title, header, body) in sections(r) {
        out.push('\n');
        out.push_str(&title);
        out.push('\n');
        let mut rows = vec![header];
        rows.extend(body);
        out.push_str(&grid(&rows));
    }
    out
}
