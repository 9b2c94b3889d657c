//! One self-contained HTML file for the annual report and the board: no
//! scripts, fonts, stylesheets or images from anywhere else, so it opens
//! offline and can be mailed as it is.
//!
//! Each table is a real `<table>` (caption, `th` with `scope`) so it can be
//! pasted into a document and read by a screen reader, followed by a bar
//! chart in inline SVG. The charts must survive black-and-white printing:
//! the two series differ by fill (solid versus hatched), not by colour, and
//! every bar carries its number as a direct label. The indicators open the
//! report as short headlines ("2 av 10 till arbete eller studier — mål 4
//! av 10") and close it as a full table.
//!
//! Cell texts come from the shared helpers in `render`, so the numbers,
//! percentages and the `–` of a suppressed cell read exactly as in the
//! other formats.

use std::fmt::Write as _;

use super::{cells, count, heading, sections, target_text, SUPPRESSED};
use crate::codes::Lang;
use crate::report::{Indicator, Report, Table};

/// Escape text for HTML element content and attribute values alike.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
@page { size: A4; margin: 16mm 15mm 18mm; }
* { box-sizing: border-box; }
html { font-size: 15px; -webkit-text-size-adjust: 100%; print-color-adjust: exact; -webkit-print-color-adjust: exact; }
body {
  margin: 0; background: #fff; color: #1f2328;
  font: 1rem/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
        "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif;
}
main { max-width: 860px; margin: 0 auto; padding: 40px 28px 56px; }
header { border-bottom: 2px solid #1f2328; padding-bottom: 14px; margin-bottom: 28px; }
h1 { font-size: 1.65rem; line-height: 1.2; margin: 0 0 6px; font-weight: 700; letter-spacing: -0.01em; }
h2 { font-size: 1.15rem; margin: 0 0 12px; font-weight: 700; }
.sub { margin: 0; color: #57606a; }
.nowrap { white-space: nowrap; }
.block { margin: 0 0 40px; break-inside: avoid; page-break-inside: avoid; }
.kpis { list-style: none; margin: 0; padding: 0; display: grid;
        grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: 12px; }
.kpi { border: 1px solid #d0d7de; border-left: 5px solid #1f2328; border-radius: 4px;
       padding: 12px 14px; break-inside: avoid; }
.kpi span { display: block; }
.kpi-value { font-size: 1.5rem; font-weight: 700; line-height: 1.15; font-variant-numeric: tabular-nums; }
.kpi-name { font-weight: 600; margin-bottom: 6px; }
.kpi-target, .kpi-count { color: #57606a; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
.kpi-target strong { color: #1f2328; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-size: 1.15rem; font-weight: 700;
          padding: 0 0 10px; color: #1f2328; }
th, td { padding: 5px 10px; border-bottom: 1px solid #d8dee4; vertical-align: top; }
thead th, thead td { border-bottom: 2px solid #1f2328; font-weight: 600; vertical-align: bottom;
           text-align: left; font-size: 0.9rem; }
thead th.num { text-align: right; }
tbody th { text-align: left; font-weight: 400; }
.num { text-align: right; white-space: nowrap; }
td.num { width: 5.5em; }
thead th.num { white-space: normal; min-width: 4.5em; }
/* Cross tables: many columns, so the column headers stand on end. */
table.wide { font-size: 0.9rem; }
table.wide td.num { width: auto; }
table.wide thead th.num { min-width: 0; padding: 6px 6px; vertical-align: bottom; }
table.wide thead th.num span { writing-mode: vertical-rl; transform: rotate(180deg);
  display: inline-block; text-align: left; white-space: nowrap; line-height: 1.2; }
td.suppressed { color: #57606a; }
tr.total th, tr.total td { font-weight: 700; border-top: 2px solid #1f2328; border-bottom: 0; }
tbody tr:nth-child(even):not(.total) { background: #f6f8fa; }
table.indicators th, table.indicators td { white-space: nowrap; }
table.indicators td.num { width: auto; }
table.indicators tr.total th, table.indicators tr.total td { border-bottom: 1px solid #1f2328; }
figure { margin: 14px 0 0; }
svg { display: block; width: 100%; height: auto; }
.chart-text { font-family: inherit; fill: #1f2328; }
.chart-num { font-variant-numeric: tabular-nums; }
.note { color: #57606a; font-size: 0.85rem; margin: 8px 0 0; }
footer, .report-note { color: #57606a; font-size: 0.8rem; border-top: 1px solid #d0d7de; padding-top: 10px; }
@media print {
  html { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  header { margin-bottom: 18px; }
  .block { margin-bottom: 22px; }
  tbody tr:nth-child(even):not(.total) { background: none; }
}
"#;

pub fn render(r: &Report) -> String {
    let lang = r.lang;
    let (title, sub) = heading(r);
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n\
         <header>\n<h1>{}</h1>\n<p class=\"sub\">{}</p>\n</header>\n",
        lang.pick("sv", "en"),
        esc(&title),
        keep_dates_whole(&esc(&title), r),
        esc(&sub)
    );
    out.push_str(&body(r));
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// The report below its heading: headlines, each table with its chart,
/// the indicators and the closing note. The web's report page shows this
/// inside its own page, styled by the application's stylesheet (its CSP
/// allows no inline style, so nothing here carries one).
pub fn body(r: &Report) -> String {
    let lang = r.lang;
    let mut out = String::new();
    headlines(&mut out, r);
    for t in &r.tables {
        if t.id == "volume" && t.rows.is_empty() {
            continue;
        }
        table_section(&mut out, t, r);
    }
    for (id, title, header, rows) in sections(r) {
        let totals: Vec<bool> = match id {
            "indicators" => r
                .indicators
                .iter()
                .map(|i| i.intervention.is_none() && i.gender.is_none())
                .collect(),
            "durations" => r
                .durations
                .iter()
                .map(|d| d.intervention.is_none())
                .collect(),
            "cost" => r.cost.iter().map(|c| c.intervention.is_none()).collect(),
            _ => vec![false; rows.len()],
        };
        figure_section(&mut out, id, &title, &header, &rows, &totals);
    }
    let _ = writeln!(
        out,
        "<footer class=\"report-note\">{}</footer>",
        esc(lang.pick(
            "Tabellerna räknar inskrivningar; en person i två insatser räknas två gånger utom i kolumnen Unika personer.",
            "Tables count enrolments; a person in two interventions counts twice except in the Unique persons column."
        ))
    );
    out
}

/// Keep each date of the period on one line in a heading ("2021-12-31",
/// not "2021-" and "12-31").
fn keep_dates_whole(html: &str, r: &Report) -> String {
    let mut out = html.to_string();
    let mut dates = vec![r.period.from.to_string(), r.period.to.to_string()];
    dates.dedup();
    for d in dates {
        out = out.replace(&d, &format!("<span class=\"nowrap\">{d}</span>"));
    }
    out
}

/// The indicators over the whole selection as short headline cards.
fn headlines(out: &mut String, r: &Report) {
    let lang = r.lang;
    let totals: Vec<&Indicator> = r
        .indicators
        .iter()
        .filter(|i| i.intervention.is_none() && i.gender.is_none())
        .collect();
    if totals.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section class=\"block\" aria-labelledby=\"headlines\">\n<h2 id=\"headlines\">{}</h2>\n<ul class=\"kpis\">\n",
        esc(lang.pick(
            "I korthet (avslutade under perioden, alla insatser i rapporten)",
            "At a glance (exited in the period, all interventions in the report)"
        ))
    );
    for i in totals {
        let value = match (&i.phrase, i.too_few) {
            (Some(p), false) => p.clone(),
            _ => SUPPRESSED.to_string(),
        };
        let _ = write!(
            out,
            "<li class=\"kpi\"><span class=\"kpi-value\">{}</span> <span class=\"kpi-name\">{}</span>",
            esc(&value),
            esc(&i.name)
        );
        if let Some(t) = i.target {
            let met = match i.met {
                Some(true) => format!(" (<strong>{}</strong>)", lang.pick("uppnått", "met")),
                Some(false) => {
                    format!(" (<strong>{}</strong>)", lang.pick("ej uppnått", "not met"))
                }
                None => String::new(),
            };
            let _ = write!(
                out,
                " <span class=\"kpi-target\">— {} {}{met}</span>",
                lang.pick("mål", "target"),
                esc(&target_text(t, lang))
            );
        }
        let detail = if i.too_few {
            lang.pick("för få för att redovisa", "too few to report")
                .to_string()
        } else {
            match (i.numerator, i.denominator) {
                (Some(n), Some(d)) => format!(
                    "{n} {} {d} {}",
                    lang.pick("av", "of"),
                    lang.pick("avslutade med känt svar", "exited with a known answer")
                ),
                _ => String::new(),
            }
        };
        if !detail.is_empty() {
            let _ = write!(out, " <span class=\"kpi-count\">{}</span>", esc(&detail));
        }
        if let (Some(c), Some(label)) = (&i.compare, super::compare_label(r)) {
            let then = match (&c.phrase, c.too_few) {
                (Some(p), false) => p.clone(),
                _ => SUPPRESSED.to_string(),
            };
            let _ = write!(
                out,
                " <span class=\"kpi-count\">({})</span>",
                esc(&format!("{label}: {then}"))
            );
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n</section>\n");
}

/// Tables with more columns than this (label included) get upright column
/// headers so they fit an A4 page: in practice the support cross table.
const WIDE: usize = 8;

/// One table with its chart, kept together on a printed page.
fn table_section(out: &mut String, t: &Table, r: &Report) {
    let lang = r.lang;
    let id = esc(t.id);
    let (header, body) = cells(t, r);
    let _ = write!(
        out,
        "<section class=\"block\" id=\"table-{id}\" aria-labelledby=\"caption-{id}\">\n\
         <table{}>\n<caption id=\"caption-{id}\">{}</caption>\n<thead>\n<tr><td></td>",
        if header.len() > WIDE {
            " class=\"wide\""
        } else {
            ""
        },
        esc(&t.title)
    );
    for h in header.iter().skip(1) {
        let _ = write!(
            out,
            "<th scope=\"col\" class=\"num\"><span>{}</span></th>",
            // "Kvinnor %" must not break before the sign.
            esc(h).replace(" %", "\u{a0}%")
        );
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    let last = body.len().saturating_sub(1);
    for (n, line) in body.iter().enumerate() {
        out.push_str(if n == last {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        let _ = write!(out, "<th scope=\"row\">{}</th>", esc(&line[0]));
        for c in &line[1..] {
            let class = if c == SUPPRESSED {
                "num suppressed"
            } else {
                "num"
            };
            let _ = write!(out, "<td class=\"{class}\">{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n<figure>\n");
    out.push_str(&chart(t, lang));
    out.push_str("</figure>\n");
    if t.rows
        .iter()
        .flat_map(|r| &r.values)
        .chain(&t.total)
        .any(|v| v.is_none())
    {
        let _ = writeln!(
            out,
            "<p class=\"note\">{}</p>",
            esc(lang.pick(
                "– = för litet antal för att redovisas.",
                "– = count too small to report."
            ))
        );
    }
    out.push_str("</section>\n");
}

/// The columns a table's chart shows: women and men side by side where the
/// table is by gender, otherwise the one or two columns that say most.
fn series(t: &Table) -> Vec<usize> {
    let pos = |k: &str| t.column_keys.iter().position(|c| c == k);
    let pairs = [("woman", "man"), ("total_before", "total_after")];
    for (a, b) in pairs {
        if let (Some(a), Some(b)) = (pos(a), pos(b)) {
            return vec![a, b];
        }
    }
    for k in ["active", "total"] {
        if let Some(i) = pos(k) {
            return vec![i];
        }
    }
    if t.columns.is_empty() {
        Vec::new()
    } else {
        vec![0]
    }
}

/// A round axis step giving about five gridlines up to `max`.
fn axis_step(max: u64) -> u64 {
    let raw = (max.max(1) as f64 / 5.0).max(1.0);
    let mag = 10f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    step.round().max(1.0) as u64
}

/// Cut a label to `max` characters with an ellipsis; the full text stays in
/// the table and in the bar's `<title>`.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Approximate width in pixels of 13 px sans-serif text, so the label
/// column of a chart fits its labels without measuring fonts.
fn text_width(s: &str) -> f64 {
    s.chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' => 3.6,
            'f' | 't' | 'r' | ' ' | '(' | ')' | '-' | '/' => 4.8,
            'm' | 'w' => 11.0,
            'M' | 'W' | '–' | '—' => 12.0,
            c if c.is_uppercase() => 9.2,
            c if c.is_ascii_digit() => 8.0,
            _ => 7.6,
        })
        .sum()
}

/// Fill of series `n`: solid dark for the first, diagonal hatching for the
/// second, so the two stay apart in greyscale print.
fn fill(t: &Table, n: usize) -> String {
    if n == 0 {
        "#2d3b4e".to_string()
    } else {
        format!("url(#hatch-{})", esc(t.id))
    }
}

/// A horizontal grouped bar chart of the table's body rows (not the total).
fn chart(t: &Table, lang: Lang) -> String {
    const WIDTH: f64 = 860.0;
    const BAR: f64 = 15.0;
    const GAP: f64 = 3.0;
    const GROUP_PAD: f64 = 12.0;
    const LEGEND: f64 = 30.0;
    const AXIS: f64 = 26.0;
    const LABEL_CHARS: usize = 34;

    let s = series(t);
    let names: Vec<&str> = s.iter().map(|&c| t.columns[c].as_str()).collect();
    let id = esc(t.id);
    let described = format!("{}: {}", lang.pick("Stapeldiagram", "Bar chart"), t.title)
        + &format!(" ({})", names.join(", "));

    // Rows labelled "CODE – name" (interventions) are charted by their
    // code when the names would not fit; the table above has the names.
    let by_key = t.rows.iter().any(|r| r.label.chars().count() > LABEL_CHARS)
        && t.rows
            .iter()
            .all(|r| r.label.starts_with(&format!("{} – ", r.key)));
    let label = |r: &crate::report::Row| {
        if by_key {
            r.key.clone()
        } else {
            shorten(&r.label, LABEL_CHARS)
        }
    };
    let longest = t
        .rows
        .iter()
        .map(|r| text_width(&label(r)))
        .fold(0.0, f64::max);
    let label_w = (longest + 18.0).clamp(90.0, 280.0);
    let x0 = label_w;
    // Room at the right for the direct label of the longest bar.
    let plot_w = WIDTH - x0 - 48.0;
    let bar_h = if s.len() > 1 { BAR } else { BAR + 4.0 };
    let group_h = s.len() as f64 * bar_h + (s.len().saturating_sub(1)) as f64 * GAP + GROUP_PAD;
    let rows = t.rows.len().max(1);
    let height = LEGEND + rows as f64 * group_h + AXIS;

    let max = t
        .rows
        .iter()
        .flat_map(|r| s.iter().filter_map(|&c| r.values.get(c).copied().flatten()))
        .max()
        .unwrap_or(0);
    let step = axis_step(max);
    let top = (max.div_ceil(step)).max(1) * step;
    let scale = |v: u64| v as f64 / top as f64 * plot_w;

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg viewBox=\"0 0 {WIDTH} {height}\" \
         role=\"img\" aria-labelledby=\"chart-title-{id}\" font-size=\"13\" \
         font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, 'Liberation Sans', sans-serif\">\n\
         <title id=\"chart-title-{id}\">{}</title>\n\
         <defs><pattern id=\"hatch-{id}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#2d3b4e\" stroke-width=\"2.4\"/></pattern></defs>\n",
        esc(&described)
    );
    // Legend: a swatch and the column name per series.
    let mut lx = x0;
    for (n, name) in names.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<rect x=\"{lx}\" y=\"6\" width=\"16\" height=\"12\" fill=\"{}\" stroke=\"#2d3b4e\" stroke-width=\"1\"/>\
             <text class=\"chart-text\" x=\"{}\" y=\"16.5\">{}</text>",
            fill(t, n),
            lx + 22.0,
            esc(name)
        );
        lx += 22.0 + text_width(name) + 26.0;
    }
    // Gridlines and axis numbers.
    let plot_top = LEGEND;
    let plot_bottom = height - AXIS;
    let mut v = 0;
    while v <= top {
        let x = x0 + scale(v);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{plot_top}\" x2=\"{x:.1}\" y2=\"{plot_bottom}\" stroke=\"{}\" stroke-width=\"1\"/>\
             <text class=\"chart-text\" x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">{v}</text>",
            if v == 0 { "#1f2328" } else { "#d8dee4" },
            plot_bottom + 16.0
        );
        v += step;
    }
    if t.rows.is_empty() {
        let _ = writeln!(
            svg,
            "<text class=\"chart-text\" x=\"{}\" y=\"{}\" fill=\"#57606a\">{}</text>",
            x0 + 8.0,
            plot_top + group_h / 2.0 + 4.0,
            esc(lang.pick("Inga uppgifter under perioden", "No data in the period"))
        );
    }
    for (g, row) in t.rows.iter().enumerate() {
        let gy = plot_top + g as f64 * group_h + GROUP_PAD / 2.0;
        let block = group_h - GROUP_PAD;
        let _ = writeln!(
            svg,
            "<g><title>{}</title><text class=\"chart-text\" x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            esc(&row.label),
            x0 - 10.0,
            gy + block / 2.0 + 4.5,
            esc(&label(row))
        );
        for (n, &c) in s.iter().enumerate() {
            let y = gy + n as f64 * (bar_h + GAP);
            let value = row.values.get(c).copied().flatten();
            let w = value.map(scale).unwrap_or(0.0);
            if value.is_some_and(|v| v > 0) {
                let _ = write!(
                    svg,
                    "<rect x=\"{x0}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{}\" stroke=\"#2d3b4e\" stroke-width=\"1\"/>",
                    fill(t, n)
                );
            }
            let _ = writeln!(
                svg,
                "<text class=\"chart-text chart-num\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
                x0 + w + 5.0,
                y + bar_h / 2.0 + 4.0,
                esc(&count(value))
            );
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// The indicators (per intervention, subtotal and in total, by gender)
/// or the times in the intervention, as a table.
fn figure_section(
    out: &mut String,
    id: &str,
    title: &str,
    header: &[String],
    rows: &[Vec<String>],
    totals: &[bool],
) {
    let _ = write!(
        out,
        "<section class=\"block\" id=\"{id}\" aria-labelledby=\"caption-{id}\">\n\
         <table class=\"indicators\">\n<caption id=\"caption-{id}\">{}</caption>\n<thead>\n<tr>",
        esc(title)
    );
    // A column of counts, shares, phrases of numbers is numeric.
    let numeric = |c: usize| {
        c > 0
            && !rows.is_empty()
            && rows.iter().all(|r| {
                r.get(c).is_some_and(|s| {
                    s.chars()
                        .all(|ch| ch.is_ascii_digit() || " ,.%–-".contains(ch))
                })
            })
    };
    for (c, h) in header.iter().enumerate() {
        let class = if numeric(c) { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", esc(h));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for (line, &total) in rows.iter().zip(totals) {
        out.push_str(if total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        let _ = write!(out, "<th scope=\"row\">{}</th>", esc(&line[0]));
        for (c, cell) in line.iter().enumerate().skip(1) {
            let class = if numeric(c) { " class=\"num\"" } else { "" };
            let _ = write!(out, "<td{class}>{}</td>", esc(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }

    #[test]
    fn axis_steps_are_round() {
        assert_eq!(axis_step(0), 1);
        assert_eq!(axis_step(4), 1);
        assert_eq!(axis_step(12), 5);
        assert_eq!(axis_step(27), 10);
        assert_eq!(axis_step(190), 50);
        assert_eq!(axis_step(1000), 200);
    }

    #[test]
    fn long_labels_are_shortened() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}
