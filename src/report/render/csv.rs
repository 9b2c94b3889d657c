//! CSV for Swedish Excel and LibreOffice: UTF-8 with BOM (so å, ä, ö
//! arrive intact), `;` as separator, one block per table separated by a
//! blank line. Counts are plain integers; percentages use the report
//! language's decimal mark.

use super::{cells, heading, indicator_cells, indicator_header, indicators_title};
use crate::report::Report;

pub fn render(r: &Report) -> Vec<u8> {
    let mut out: Vec<u8> = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let (title, sub) = heading(r);
        let mut write =
            |rec: &[String]| w.write_record(rec).expect("writing to memory cannot fail");
        write(&[title]);
        write(&[sub]);
        for t in &r.tables {
            let (header, body) = cells(t, r.lang);
            write(&[String::new()]);
            // The table's id (as in json) on its own line, for scripts.
            write(&[format!("[{}]", t.id)]);
            write(&header);
            for row in &body {
                write(row);
            }
        }
        write(&[String::new()]);
        write(&["[indicators]".to_string()]);
        write(&[indicators_title(r.lang).to_string()]);
        write(&indicator_header(r.lang));
        for i in &r.indicators {
            write(&indicator_cells(i, r.lang));
        }
        w.flush().expect("writing to memory cannot fail");
    }
    out
}
