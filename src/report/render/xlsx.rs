//! One XLSX workbook: a sheet per table, named by its stable id (`age`,
//! `support_before_after`, ...), and an `indicators` sheet.
//!
//! Each sheet reads top-down as the board sees it: the table title, the
//! header row, the body rows, the total row in bold, and after a blank row
//! the report heading (period, interventions, suppression) so a sheet
//! copied on its own still says where it came from. Counts and shares are
//! stored as numbers (shares with a percentage format) so coordinators can
//! compute with them; a suppressed cell is the text `–`, never a number.

use rust_xlsxwriter::{DocProperties, Format, FormatBorder, Workbook, Worksheet, XlsxError};

use super::{
    cells, duration_header, durations_title, heading, indicator_cells, indicator_header,
    indicators_title, SUPPRESSED,
};
use crate::error::{Error, Result};
use crate::report::{Report, Table};
use crate::report::{DAYS_PER_MONTH, DAYS_PER_WEEK};

fn xlsx_error(e: XlsxError) -> Error {
    Error::io_text(format!("could not write the xlsx workbook: {e}"))
}

/// A sheet name Excel accepts: at most 31 characters, none of `[]:*?/\`.
pub fn sheet_name(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if cleaned.trim().is_empty() {
        "sheet".into()
    } else {
        cleaned
    }
}

struct Styles {
    title: Format,
    header: Format,
    header_label: Format,
    total_label: Format,
    total_number: Format,
    total_text: Format,
    total_percent: Format,
    number: Format,
    text_right: Format,
    percent: Format,
    note: Format,
}

impl Styles {
    fn new() -> Styles {
        let bold = Format::new().set_bold();
        let total = bold.clone().set_border_top(FormatBorder::Thin);
        let right = rust_xlsxwriter::FormatAlign::Right;
        Styles {
            title: Format::new().set_bold().set_font_size(13),
            header: bold
                .clone()
                .set_align(right)
                .set_text_wrap()
                .set_border_bottom(FormatBorder::Thin),
            header_label: bold.clone().set_border_bottom(FormatBorder::Thin),
            total_label: total.clone(),
            total_number: total.clone().set_num_format("0"),
            total_text: total.clone().set_align(right),
            total_percent: total.set_num_format("0.0%"),
            number: Format::new().set_num_format("0"),
            text_right: Format::new().set_align(right),
            percent: Format::new().set_num_format("0.0%"),
            note: Format::new().set_italic(),
        }
    }
}

/// A count, or `–` when suppressed.
fn write_count(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    v: Option<u64>,
    number: &Format,
    text: &Format,
) -> Result<(), XlsxError> {
    match v {
        Some(v) => ws.write_number_with_format(row, col, v as f64, number)?,
        None => ws.write_string_with_format(row, col, SUPPRESSED, text)?,
    };
    Ok(())
}

/// Column widths in characters: the label column fits its longest label
/// (not the sheet's title above it), the others their widest number or
/// the longest word of their header (which wraps). Returns the table's
/// whole width, which the footnote under it keeps within.
fn set_widths(
    ws: &mut Worksheet,
    header: &[String],
    body: &[Vec<String>],
) -> Result<f64, XlsxError> {
    let width = body
        .iter()
        .map(|r| r.len())
        .max()
        .unwrap_or(0)
        .max(header.len());
    let mut whole = 0.0;
    for c in 0..width {
        let longest = body
            .iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        let word = header
            .get(c)
            .filter(|_| c > 0)
            .and_then(|h| h.split_whitespace().map(|w| w.chars().count()).max())
            .unwrap_or(0);
        let w = if c == 0 {
            (longest as f64 + 2.0).clamp(14.0, 60.0)
        } else {
            (longest.max(word) as f64 + 2.0).clamp(9.0, 26.0)
        };
        ws.set_column_width(c as u16, w)?;
        whole += w;
    }
    Ok(whole)
}

/// Excel's limit on a page header or footer; a longer one is dropped.
const HEADER_FOOTER_MAX: usize = 255;

/// The report's scope line (interventions, suppression) shortened until
/// `fits`: interventions listed while they fit, the rest counted; the
/// suppression note is always kept.
fn scope(r: &Report, fits: impl Fn(&str) -> bool) -> String {
    let (_, full) = heading(r);
    if fits(&full) {
        return full;
    }
    let lang = r.lang;
    let tail = r.suppress_below.map_or(String::new(), |n| {
        format!(
            "; {} {n} {}",
            lang.pick("antal under", "counts below"),
            lang.pick("visas som –", "shown as –")
        )
    });
    let head = format!("{}: ", lang.pick("Insatser", "Interventions"));
    let total = r.interventions.len();
    let mut best = format!("{head}{total} {}{tail}", lang.pick("st.", "in all"));
    for k in 1..total {
        let c = format!(
            "{head}{} … (+{} {}){tail}",
            r.interventions[..k].join(", "),
            total - k,
            lang.pick("till", "more")
        );
        if !fits(&c) {
            break;
        }
        best = c;
    }
    best
}

fn table_sheet(ws: &mut Worksheet, t: &Table, r: &Report, s: &Styles) -> Result<(), XlsxError> {
    ws.set_name(sheet_name(t.id))?;
    // Header and label texts are shared with the other formats; the
    // numbers are written from the table itself so they stay numbers.
    let (header, body) = cells(t, r);
    ws.write_string_with_format(0, 0, &t.title, &s.title)?;
    ws.write_string_with_format(1, 0, "", &s.header_label)?;
    for (c, h) in header.iter().enumerate().skip(1) {
        ws.write_string_with_format(1, c as u16, h, &s.header)?;
    }
    let width = t.columns.len() as u16;
    let with_shares = t.rows.iter().any(|r| r.shares.is_some());
    let compare_at = 1 + width + if with_shares { width } else { 0 };
    let mut row = 2u32;
    for (line, data) in body.iter().zip(&t.rows) {
        ws.write_string(row, 0, &line[0])?;
        for (c, &v) in data.values.iter().enumerate() {
            write_count(ws, row, 1 + c as u16, v, &s.number, &s.text_right)?;
        }
        if let Some(shares) = &data.shares {
            for (c, &share) in shares.iter().enumerate() {
                let col = 1 + width + c as u16;
                match share {
                    Some(x) => ws.write_number_with_format(row, col, x, &s.percent)?,
                    None => ws.write_string_with_format(row, col, SUPPRESSED, &s.text_right)?,
                };
            }
        }
        if let Some(cmp) = &data.compare {
            for (c, &v) in cmp.iter().enumerate() {
                write_count(ws, row, compare_at + c as u16, v, &s.number, &s.text_right)?;
            }
        }
        row += 1;
    }
    ws.write_string_with_format(row, 0, &t.total_label, &s.total_label)?;
    for (c, &v) in t.total.iter().enumerate() {
        write_count(ws, row, 1 + c as u16, v, &s.total_number, &s.total_text)?;
    }
    if t.rows.iter().any(|r| r.shares.is_some()) {
        for (c, &v) in t.total.iter().enumerate() {
            let col = 1 + width + c as u16;
            match v {
                Some(_) => ws.write_number_with_format(row, col, 1.0, &s.total_percent)?,
                None => ws.write_string_with_format(row, col, SUPPRESSED, &s.total_text)?,
            };
        }
    }
    if let Some(cmp) = &t.compare_total {
        for (c, &v) in cmp.iter().enumerate() {
            write_count(
                ws,
                row,
                compare_at + c as u16,
                v,
                &s.total_number,
                &s.total_text,
            )?;
        }
    }
    let width = set_widths(ws, &header, &body)?;
    footnote(ws, row + 2, r, s, width)?;
    print_setup(ws, &t.title, r, header.len())?;
    ws.set_freeze_panes(2, 1)?;
    Ok(())
}

/// Escape text for a page header (`&` starts a code there).
fn header_text(s: &str) -> String {
    s.replace('&', "&&")
}

/// How a sheet prints: A4, as wide as the page (one page across, as many
/// down as it takes), landscape when the table has more than five columns
/// of figures, the column header repeated on every page, and the sheet's
/// title (left) and the report's period (right) in the page header.
fn print_setup(
    ws: &mut Worksheet,
    title: &str,
    r: &Report,
    columns: usize,
) -> Result<(), XlsxError> {
    ws.set_paper_size(9);
    if columns > 6 {
        ws.set_landscape();
    } else {
        ws.set_portrait();
    }
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(1, 1)?;
    ws.set_margins(0.5, 0.5, 0.7, 0.6, 0.3, 0.3);
    ws.set_header(format!(
        "&L&\"-,Bold\"{}&R{} – {}",
        header_text(title),
        r.period.from,
        r.period.to
    ));
    let right = format!("&R{} &P / &N", r.lang.pick("Sida", "Page"));
    let footer = |s: &str| format!("&L{}{right}", header_text(s));
    let left = scope(r, |s| footer(s).encode_utf16().count() <= HEADER_FOOTER_MAX);
    ws.set_footer(footer(&left));
    Ok(())
}

/// The report heading under a sheet's table, its scope line no wider than
/// the table (a long list of interventions would shrink the printed page).
fn footnote(
    ws: &mut Worksheet,
    row: u32,
    r: &Report,
    s: &Styles,
    width: f64,
) -> Result<(), XlsxError> {
    let (title, _) = heading(r);
    ws.write_string_with_format(row, 0, title, &s.note)?;
    let sub = scope(r, |t| t.chars().count() as f64 <= width.max(120.0));
    ws.write_string_with_format(row + 1, 0, sub, &s.note)?;
    Ok(())
}

/// Indicator columns: 4 count, 5 of, 6 share and 7 target are numbers,
/// and so are the comparison's count, of and share (10 to 12).
fn indicator_sheet(ws: &mut Worksheet, r: &Report, s: &Styles) -> Result<(), XlsxError> {
    let lang = r.lang;
    ws.set_name("indicators")?;
    ws.write_string_with_format(0, 0, indicators_title(lang), &s.title)?;
    let header = indicator_header(r);
    let numeric = |c: usize| (4..=7).contains(&c) || (10..=12).contains(&c);
    for (c, h) in header.iter().enumerate() {
        let f = if numeric(c) {
            &s.header
        } else {
            &s.header_label
        };
        ws.write_string_with_format(1, c as u16, h, f)?;
    }
    let plain = Format::new();
    let mut lines = vec![header.clone()];
    for (n, i) in r.indicators.iter().enumerate() {
        let row = 2 + n as u32;
        let line = indicator_cells(i, r);
        let total = i.intervention.is_none() && i.gender.is_none();
        let (text, number, right, percent) = if total {
            (
                &s.total_label,
                &s.total_number,
                &s.total_text,
                &s.total_percent,
            )
        } else {
            (&plain, &s.number, &s.text_right, &s.percent)
        };
        for (c, cell) in line.iter().enumerate().filter(|(c, _)| !numeric(*c)) {
            ws.write_string_with_format(row, c as u16, cell, text)?;
        }
        let mut figures = vec![(4u16, i.numerator, i.denominator, i.share)];
        if let Some(c) = &i.compare {
            figures.push((10, c.numerator, c.denominator, c.share));
        }
        for (at, num, den, share) in figures {
            write_count(ws, row, at, num, number, right)?;
            write_count(ws, row, at + 1, den, number, right)?;
            match share {
                Some(x) => ws.write_number_with_format(row, at + 2, x, percent)?,
                None => ws.write_string_with_format(row, at + 2, SUPPRESSED, right)?,
            };
        }
        match i.target {
            Some(x) => ws.write_number_with_format(row, 7, x, percent)?,
            None => ws.write_string_with_format(row, 7, SUPPRESSED, right)?,
        };
        lines.push(line);
    }
    let width = set_widths(ws, &header, &lines[1..])?;
    footnote(ws, 2 + r.indicators.len() as u32 + 1, r, s, width)?;
    print_setup(ws, indicators_title(lang), r, header.len())?;
    ws.set_column_width(0, 26)?;
    ws.set_freeze_panes(2, 0)?;
    Ok(())
}

/// Time in the intervention: exits, then mean and median in weeks and in
/// months (numbers with one decimal), and the same for the comparison.
fn duration_sheet(ws: &mut Worksheet, r: &Report, s: &Styles) -> Result<(), XlsxError> {
    let lang = r.lang;
    ws.set_name("durations")?;
    ws.write_string_with_format(0, 0, durations_title(lang), &s.title)?;
    let header = duration_header(r);
    for (c, h) in header.iter().enumerate() {
        let f = if c > 0 { &s.header } else { &s.header_label };
        ws.write_string_with_format(1, c as u16, h, f)?;
    }
    let one = Format::new().set_num_format("0.0");
    let mut lines = vec![header.clone()];
    for (n, d) in r.durations.iter().enumerate() {
        let row = 2 + n as u32;
        let line = super::duration_cells(d, r);
        ws.write_string(row, 0, &line[0])?;
        let mut blocks = vec![(1u16, d)];
        if let Some(c) = &d.compare {
            blocks.push((6, c));
        }
        for (at, x) in blocks {
            write_count(ws, row, at, x.exited, &s.number, &s.text_right)?;
            for (k, v) in [
                x.mean_days.map(|v| v / DAYS_PER_WEEK),
                x.median_days.map(|v| v / DAYS_PER_WEEK),
                x.mean_days.map(|v| v / DAYS_PER_MONTH),
                x.median_days.map(|v| v / DAYS_PER_MONTH),
            ]
            .into_iter()
            .enumerate()
            {
                let col = at + 1 + k as u16;
                match v {
                    Some(v) => {
                        ws.write_number_with_format(row, col, (v * 10.0).round() / 10.0, &one)?
                    }
                    None => ws.write_string_with_format(row, col, SUPPRESSED, &s.text_right)?,
                };
            }
        }
        lines.push(line);
    }
    let width = set_widths(ws, &header, &lines[1..])?;
    footnote(ws, 2 + r.durations.len() as u32 + 1, r, s, width)?;
    print_setup(ws, durations_title(lang), r, header.len())?;
    ws.set_freeze_panes(2, 1)?;
    Ok(())
}

/// A section 13 figure (wait, reach, cost) on a sheet of its own: whole
/// numbers (kronor, counts) are stored as numbers, anything else as text.
fn section_sheet(
    ws: &mut Worksheet,
    (id, title, header, rows): &super::Section,
    r: &Report,
    s: &Styles,
) -> Result<(), XlsxError> {
    ws.set_name(*id)?;
    ws.write_string_with_format(0, 0, title, &s.title)?;
    for (c, h) in header.iter().enumerate() {
        let f = if c > 0 { &s.header } else { &s.header_label };
        ws.write_string_with_format(1, c as u16, h, f)?;
    }
    let money = Format::new().set_num_format("#,##0");
    for (n, line) in rows.iter().enumerate() {
        let row = 2 + n as u32;
        for (c, cell) in line.iter().enumerate() {
            let plain: String = cell
                .chars()
                .filter(|&ch| ch != '\u{a0}')
                .map(|ch| if ch == '−' { '-' } else { ch })
                .collect();
            match plain.parse::<i64>() {
                Ok(v) if c > 0 => ws.write_number_with_format(row, c as u16, v as f64, &money)?,
                _ if c > 0 => ws.write_string_with_format(row, c as u16, cell, &s.text_right)?,
                _ => ws.write_string(row, c as u16, cell)?,
            };
        }
    }
    let width = set_widths(ws, header, rows)?;
    footnote(ws, 2 + rows.len() as u32 + 1, r, s, width)?;
    print_setup(ws, title, r, header.len())?;
    ws.set_freeze_panes(2, 1)?;
    Ok(())
}

fn workbook(r: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let (title, sub) = heading(r);
    wb.set_properties(
        &DocProperties::new()
            .set_title(&title)
            .set_subject(&sub)
            .set_company("sustrack"),
    );
    let styles = Styles::new();
    for t in &r.tables {
        if t.id == "volume" && t.rows.is_empty() {
            continue;
        }
        table_sheet(wb.add_worksheet(), t, r, &styles)?;
    }
    indicator_sheet(wb.add_worksheet(), r, &styles)?;
    duration_sheet(wb.add_worksheet(), r, &styles)?;
    for section in super::beyond_sections(r) {
        section_sheet(wb.add_worksheet(), &section, r, &styles)?;
    }
    wb.save_to_buffer()
}

pub fn render(r: &Report) -> Result<Vec<u8>> {
    workbook(r).map_err(xlsx_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_are_valid_for_excel() {
        assert_eq!(sheet_name("support_before_after"), "support_before_after");
        assert_eq!(sheet_name("a[b]:c*d?e/f\\g"), "a_b__c_d_e_f_g");
        assert_eq!(sheet_name(&"x".repeat(40)).chars().count(), 31);
    }
}
