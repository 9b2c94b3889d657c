//! Markdown (GitHub-flavoured tables), for wikis and documents.
//!
//! Every text from the register (intervention names, municipalities) is
//! escaped: a stored `|` or newline cannot break a table, and `<script>`,
//! backticks or emphasis marks come out as the characters they are, not
//! as markup.

use super::{cells, heading, sections};
use crate::report::Report;

/// Text as Markdown shows it literally: HTML's specials as entities,
/// Markdown's punctuation backslash-escaped, and control or invisible
/// characters (a newline ends a table row) as spaces.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if crate::model::is_invisible(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Rows of already escaped cells.
fn table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (n, r) in rows.iter().enumerate() {
        out.push_str("| ");
        out.push_str(&r.join(" | "));
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
    let mut out = format!("# {}\n\n{}\n", escape(&title), escape(&sub));
    let escaped = |row: Vec<String>| row.iter().map(|c| escape(c)).collect::<Vec<_>>();
    for t in &r.tables {
        if t.id == "volume" && t.rows.is_empty() {
            continue;
        }
        let (header, body) = cells(t, r);
        let mut body: Vec<Vec<String>> = body.into_iter().map(escaped).collect();
        if let Some(last) = body.last_mut() {
            last[0] = format!("**{}**", last[0]);
        }
        let mut rows = vec![escaped(header)];
        rows.extend(body);
        out.push_str(&format!("\n## {}\n\n", escape(&t.title)));
        out.push_str(&table(&rows));
    }
    for (_, title, header, body) in sections(r) {
        out.push_str(&format!("\n## {}\n\n", escape(&title)));
        let mut rows = vec![escaped(header)];
        rows.extend(body.into_iter().map(escaped));
        out.push_str(&table(&rows));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_and_line_breaks_come_out_as_text() {
        assert_eq!(
            escape("a|b <script>x</script>"),
            "a\\|b &lt;script&gt;x&lt;/script&gt;"
        );
        assert_eq!(escape("`code` *em* _u_"), "\\`code\\` \\*em\\* \\_u\\_");
        assert_eq!(escape("two\nlines\u{202e}"), "two lines ");
        assert_eq!(escape("Öppen – 15–29, 40 %"), "Öppen – 15–29, 40 %");
    }
}
