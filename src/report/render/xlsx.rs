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

use super::{cells, heading, indicator_cells, indicator_header, indicators_title, SUPPRESSED};
use crate::error::{Error, Result};
use crate::report::{Report, Table};

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

/// Column widths in characters: the label column fits its longest label,
/// the others their header (wrapped at 18) or their widest number.
fn set_widths(ws: &mut Worksheet, rows: &[Vec<String>]) -> Result<(), XlsxError> {
    let width = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    for c in 0..width {
        let longest = rows
            .iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        let w = if c == 0 {
            (longest as f64 + 2.0).clamp(14.0, 60.0)
        } else {
            (longest as f64 + 2.0).clamp(9.0, 20.0)
        };
        ws.set_column_width(c as u16, w)?;
    }
    Ok(())
}

fn table_sheet(ws: &mut Worksheet, t: &Table, r: &Report, s: &Styles) -> Result<(), XlsxError> {
    ws.set_name(sheet_name(t.id))?;
    // Header and label texts are shared with the other formats; the
    // numbers are written from the table itself so they stay numbers.
    let (header, body) = cells(t, r.lang);
    ws.write_string_with_format(0, 0, &t.title, &s.title)?;
    ws.write_string_with_format(1, 0, "", &s.header_label)?;
    for (c, h) in header.iter().enumerate().skip(1) {
        ws.write_string_with_format(1, c as u16, h, &s.header)?;
    }
    let width = t.columns.len() as u16;
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
    footnote(ws, row + 2, r, s)?;
    let mut all = vec![header];
    all.extend(body);
    set_widths(ws, &all)?;
    ws.set_freeze_panes(2, 1)?;
    Ok(())
}

/// The report heading under a sheet's table.
fn footnote(ws: &mut Worksheet, row: u32, r: &Report, s: &Styles) -> Result<(), XlsxError> {
    let (title, sub) = heading(r);
    ws.write_string_with_format(row, 0, title, &s.note)?;
    ws.write_string_with_format(row + 1, 0, sub, &s.note)?;
    Ok(())
}

/// Indicator columns: 3 count, 4 of, 5 share and 6 target are numbers.
fn indicator_sheet(ws: &mut Worksheet, r: &Report, s: &Styles) -> Result<(), XlsxError> {
    let lang = r.lang;
    ws.set_name("indicators")?;
    ws.write_string_with_format(0, 0, indicators_title(lang), &s.title)?;
    let header = indicator_header(lang);
    for (c, h) in header.iter().enumerate() {
        let f = if (3..=6).contains(&c) {
            &s.header
        } else {
            &s.header_label
        };
        ws.write_string_with_format(1, c as u16, h, f)?;
    }
    let plain = Format::new();
    let mut lines = vec![header];
    for (n, i) in r.indicators.iter().enumerate() {
        let row = 2 + n as u32;
        let line = indicator_cells(i, lang);
        let total = i.intervention.is_none();
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
        for c in [0usize, 1, 2, 7] {
            ws.write_string_with_format(row, c as u16, &line[c], text)?;
        }
        write_count(ws, row, 3, i.numerator, number, right)?;
        write_count(ws, row, 4, i.denominator, number, right)?;
        for (col, v) in [(5u16, i.share), (6, i.target)] {
            match v {
                Some(x) => ws.write_number_with_format(row, col, x, percent)?,
                None => ws.write_string_with_format(row, col, SUPPRESSED, right)?,
            };
        }
        lines.push(line);
    }
    footnote(ws, 2 + r.indicators.len() as u32 + 1, r, s)?;
    set_widths(ws, &lines)?;
    ws.set_column_width(0, 26)?;
    ws.set_freeze_panes(2, 0)?;
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
