//! Markdown (GitHub-flavoured tables), for wikis and documents.

use super::{cells, heading, indicator_cells, indicator_header, indicators_title};
use crate::report::Report;

fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}

fn table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (n, r) in rows.iter().enumerate() {
        out.push_str("| ");
        out.push_str(&r.iter().map(|c| escape(c)).collect::<Vec<_>>().join(" | "));
        out.push_str(" |\n");
        if n == 0 {
            out.push('|');
            for c in 0..r.len() {
                out.push_str(if c == 0 { " --- |" } else { " ---: |" });
            }
            out.push('\n');
        }
    }
    out
}

pub fn render(r: &Report) -> String {
    let (title, sub) = heading(r);
    let mut out = format!("# {title}\n\n{sub}\n");
    for t in &r.tables {
        if t.id == "volume" && t.rows.is_empty() {
            continue;
        }
        let (header, mut body) = cells(t, r.lang);
        if let Some(last) = body.last_mut() {
            last[0] = format!("**{}**", last[0]);
        }
        let mut rows = vec![header];
        rows.extend(body);
        out.push_str(&format!("\n## {}\n\n", t.title));
        out.push_str(&table(&rows));
    }
    out.push_str(&format!("\n## {}\n\n", indicators_title(r.lang)));
    let mut rows = vec![indicator_header(r.lang)];
    rows.extend(r.indicators.iter().map(|i| indicator_cells(i, r.lang)));
    out.push_str(&table(&rows));
    out
}
