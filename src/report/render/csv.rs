//! CSV for Swedish Excel and LibreOffice: UTF-8 with BOM (so å, ä, ö
//! arrive intact), `;` as separator, one block per table separated by a
//! blank line. Counts are plain integers; percentages use the report
//! language's decimal mark.

use super::{cells, heading, sections};
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
            let (header, body) = cells(t, r);
            write(&[String::new()]);
            // The table's id (as in json) on its own line, for scripts.
            write(&[format!("[{}]", t.id)]);
            write(&header);
            for row in &body {
                write(row);
            }
        }
        for (id, title, header, body) in sections(r) {
            write(&[String::new()]);
            write(&[format!("[{id}]")]);
            write(&[title]);
            write(&header);
            for row in &body {
                write(row);
            }
        }
        w.flush().expect("writing to memory cannot fail");
    }
    out
}
