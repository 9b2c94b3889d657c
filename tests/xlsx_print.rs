//! How the XLSX workbook prints (`print_setup` in src/report/render/xlsx.rs),
//! read from the sheets' XML: every sheet on A4, one page wide and as many
//! pages down as it takes, landscape exactly for the wide tables, the header
//! row repeated on each page, the table's title (left) and the period (right)
//! in the page header and page numbers in the footer.
//!
//! The workbook is the real binary's `demo --format xlsx`. No zip crate is a
//! direct dependency (calamine's is not reachable from here), so the archive
//! is read by a small stored/deflate reader at the bottom of this file.

use std::collections::BTreeMap;
use std::process::Command;

/// The demo's report period (`sustrack demo` shows 2021).
const DEMO_PERIOD: &str = "2021-01-01 – 2021-12-31";

/// A sheet prints landscape when its header row (the label cell and one cell
/// per column of figures) has more cells than this: more than five columns of
/// figures. `participation` (label + 6 figures) is such a table: portrait it
/// would print at about half size.
const LANDSCAPE_ABOVE_CELLS: usize = 6;

fn sustrack(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_sustrack"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sustrack {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn demo_xlsx() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let bytes = sustrack(dir.path(), &["demo", "--format", "xlsx"]);
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip file");
    bytes
}

#[test]
fn every_demo_sheet_prints_on_a4_one_page_wide_with_header_and_footer() {
    let book = Book::read(&demo_xlsx());
    assert!(book.sheets.len() >= 10, "sheets: {:?}", book.names());
    let problems = print_problems(&book, DEMO_PERIOD);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The wide tables do print landscape, the narrow ones portrait.
    for (name, landscape) in [
        ("participation", true),
        ("support_transition", true),
        ("indicators", true),
        ("age", false),
        ("outcome", false),
    ] {
        let sheet = book.sheet(name);
        assert_eq!(
            attr(&sheet.page_setup(), "orientation").as_deref(),
            Some(if landscape { "landscape" } else { "portrait" }),
            "{name}"
        );
    }
}

/// The check is not vacuous: a workbook written without any print setup, and
/// one with a setup that is wrong in each respect, fail it for every reason.
#[test]
fn the_check_rejects_a_workbook_without_the_print_setup() {
    use rust_xlsxwriter::Workbook;
    let mut wb = Workbook::new();
    // Bare: no print setup at all.
    let ws = wb.add_worksheet().set_name("bare").unwrap();
    ws.write_string(0, 0, "Bare").unwrap();
    for c in 0..8u16 {
        ws.write_string(1, c, "h").unwrap();
    }
    // Wrong: letter paper, two pages wide and one tall, a wide table in portrait,
    // the title missing from the header, no page numbers, no print titles.
    let ws = wb.add_worksheet().set_name("wrong").unwrap();
    ws.write_string(0, 0, "Wrong").unwrap();
    for c in 0..8u16 {
        ws.write_string(1, c, "h").unwrap();
    }
    ws.set_paper_size(1);
    ws.set_portrait();
    ws.set_print_fit_to_pages(2, 1);
    ws.set_header(format!("&LSomething else&R{DEMO_PERIOD}"));
    ws.set_footer("&LNo page numbers");
    let book = Book::read(&wb.save_to_buffer().unwrap());
    let problems = print_problems(&book, DEMO_PERIOD).join("\n");
    for expected in [
        "bare: no <pageSetup>",
        "bare: no <pageSetUpPr fitToPage=\"1\"/>",
        "bare: no page header",
        "bare: no page footer",
        "bare: no print titles",
        "wrong: paperSize Some(\"1\"), not 9 (A4)",
        "wrong: fitToWidth Some(\"2\"), not 1",
        "wrong: fitToHeight None, not 0",
        "wrong: 8 header cells but orientation Some(\"portrait\"), not landscape",
        "wrong: the page header's left part \"Something else\" lacks the title \"Wrong\"",
        "wrong: the footer \"&LNo page numbers\" lacks &P or &N",
        "wrong: no print titles",
    ] {
        assert!(
            problems.contains(expected),
            "missing {expected:?} in:\n{problems}"
        );
    }
}

/// A register of realistic size: `generate` makes 449 interventions, and the
/// list of them (which the footer and each sheet's footnote repeat) is
/// thousands of characters long.
///
/// Two faults this guards against, both seen in LibreOffice's PDF of a
/// generated register: rust_xlsxwriter drops a page footer longer than
/// Excel's 255 characters (page numbers and all; only a line on stderr says
/// so), and an unwrapped footnote listing hundreds of interventions
/// overflows far to the right of the table, so fit-to-width shrank every
/// sheet to a few percent (56 pages of microscopic print).
#[test]
fn a_register_with_hundreds_of_interventions_keeps_footer_and_width() {
    let dir = tempfile::tempdir().unwrap();
    sustrack(
        dir.path(),
        &["--db", "g.db", "generate", "--enrolments", "200"],
    );
    let bytes = sustrack(
        dir.path(),
        &[
            "--db",
            "g.db",
            "report",
            "--year",
            "2021",
            "--compare",
            "2020",
            "--format",
            "xlsx",
        ],
    );
    let book = Book::read(&bytes);
    let mut problems = print_problems(&book, "2021-01-01 – 2021-12-31");
    problems.extend(overflow_problems(&book));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// The checks.

/// Everything wrong with the print setup of `book`, one line each.
fn print_problems(book: &Book, period: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let print_titles = book.print_titles();
    for (index, sheet) in book.sheets.iter().enumerate() {
        let name = &sheet.name;
        let mut problem = |p: String| problems.push(format!("{name}: {p}"));
        let setup = sheet.page_setup();
        if setup.is_empty() {
            problem("no <pageSetup>".into());
        } else {
            let paper = attr(&setup, "paperSize");
            if paper.as_deref() != Some("9") {
                problem(format!("paperSize {paper:?}, not 9 (A4)"));
            }
            // fitToWidth defaults to 1 in the schema (and rust_xlsxwriter
            // leaves the default out), so absent means one page wide.
            let wide = attr(&setup, "fitToWidth");
            if wide.as_deref().unwrap_or("1") != "1" {
                problem(format!("fitToWidth {wide:?}, not 1"));
            }
            let tall = attr(&setup, "fitToHeight");
            if tall.as_deref() != Some("0") {
                problem(format!("fitToHeight {tall:?}, not 0"));
            }
            let cells = sheet.header_cells();
            let want = if cells > LANDSCAPE_ABOVE_CELLS {
                "landscape"
            } else {
                "portrait"
            };
            let orientation = attr(&setup, "orientation");
            if orientation.as_deref() != Some(want) {
                problem(format!(
                    "{cells} header cells but orientation {orientation:?}, not {want}"
                ));
            }
        }
        let fit = element(&sheet.xml, "sheetPr")
            .map(|pr| {
                element(&pr, "pageSetUpPr")
                    .is_some_and(|p| attr(&p, "fitToPage").as_deref() == Some("1"))
            })
            .unwrap_or(false);
        if !fit {
            problem("no <pageSetUpPr fitToPage=\"1\"/> in <sheetPr>".into());
        }
        match text_of(&sheet.xml, "oddHeader") {
            None => problem("no page header (<oddHeader>)".into()),
            Some(header) => {
                let sections = sections(&header);
                let title = book.cell_text(sheet, "A1").unwrap_or_default();
                if title.is_empty() || !sections.left.contains(&title) {
                    problem(format!(
                        "the page header's left part {:?} lacks the title {title:?}",
                        sections.left
                    ));
                }
                if !sections.right.contains(period) {
                    problem(format!(
                        "the page header's right part {:?} lacks the period {period:?}",
                        sections.right
                    ));
                }
            }
        }
        match text_of(&sheet.xml, "oddFooter") {
            None => problem("no page footer (<oddFooter>)".into()),
            Some(footer) => {
                if !(footer.contains("&P") && footer.contains("&N")) {
                    problem(format!("the footer {footer:?} lacks &P or &N"));
                }
            }
        }
        // The header row (row 2) repeats on every page.
        let quoted = format!("'{}'!$2:$2", name.replace('\'', "''"));
        let plain = format!("{name}!$2:$2");
        match print_titles.get(&index) {
            Some(range) if *range == plain || *range == quoted => {}
            Some(range) => problem(format!("print titles {range:?}, not {plain:?}")),
            None => problem("no print titles (_xlnm.Print_Titles)".into()),
        }
    }
    problems
}

/// Text in column A longer than the whole table is wide (or than 120
/// characters, about a portrait A4 page, for a narrow table) overflows to
/// the right when printed and so widens the page that fit-to-width shrinks
/// (unless the cell is merged across the table, where it wraps).
fn overflow_problems(book: &Book) -> Vec<String> {
    let mut problems = Vec::new();
    for sheet in &book.sheets {
        let width: f64 = sheet.column_widths().iter().sum::<f64>().max(120.0);
        let merged = sheet.merged_from();
        for (cell, text) in book.column_a_texts(sheet) {
            if cell == "A1" || merged.contains(&cell) {
                continue;
            }
            let chars = text.chars().count();
            if chars as f64 > width {
                problems.push(format!(
                    "{}: {cell} holds {chars} characters, wider than the table ({width:.0})",
                    sheet.name
                ));
            }
        }
    }
    problems
}

/// The left, centre and right parts of a page header or footer, with the
/// formatting codes (`&"font,style"`, `&12`, `&B`, ...) taken out, `&&` as
/// `&`, and the field codes `&P`, `&N`, ... kept.
#[derive(Debug, Default)]
#[allow(dead_code)] // `center` is parsed but not checked
struct Sections {
    left: String,
    center: String,
    right: String,
}

fn sections(s: &str) -> Sections {
    let mut out = Sections::default();
    let mut part = 'C';
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let mut emit = |text: &str, part: char| match part {
            'L' => out.left.push_str(text),
            'R' => out.right.push_str(text),
            _ => out.center.push_str(text),
        };
        if c != '&' {
            emit(&c.to_string(), part);
            continue;
        }
        match chars.next() {
            Some('&') => emit("&", part),
            Some(p @ ('L' | 'C' | 'R')) => part = p,
            Some('"') => {
                for c in chars.by_ref() {
                    if c == '"' {
                        break;
                    }
                }
            }
            Some(d) if d.is_ascii_digit() => {
                while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                }
            }
            Some('K') => {
                for _ in 0..6 {
                    chars.next();
                }
            }
            Some(f @ ('P' | 'N' | 'D' | 'T' | 'F' | 'A' | 'Z' | 'G')) => {
                emit(&format!("&{f}"), part)
            }
            _ => {} // &B, &I, &U, &E, &S, &X, &Y: style toggles
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The workbook's parts.

struct Sheet {
    name: String,
    xml: String,
}

struct Book {
    sheets: Vec<Sheet>,
    workbook: String,
    shared: Vec<String>,
}

impl Book {
    fn read(bytes: &[u8]) -> Book {
        let files = unzip(bytes);
        let text = |name: &str| -> String {
            let data = files
                .get(name)
                .unwrap_or_else(|| panic!("no {name} in the workbook"));
            String::from_utf8(data.clone()).unwrap()
        };
        let workbook = text("xl/workbook.xml");
        let rels = text("xl/_rels/workbook.xml.rels");
        let targets: BTreeMap<String, String> = elements(&rels, "Relationship")
            .iter()
            .map(|r| (attr(r, "Id").unwrap(), attr(r, "Target").unwrap()))
            .collect();
        let sheets = elements(&workbook, "sheet")
            .iter()
            .map(|s| {
                let name = unescape(&attr(s, "name").unwrap());
                let target = &targets[&attr(s, "r:id").unwrap()];
                let path = match target.strip_prefix('/') {
                    Some(absolute) => absolute.to_string(),
                    None => format!("xl/{target}"),
                };
                Sheet {
                    name,
                    xml: text(&path),
                }
            })
            .collect();
        let shared = files
            .get("xl/sharedStrings.xml")
            .map(|d| {
                let xml = String::from_utf8(d.clone()).unwrap();
                blocks(&xml, "si")
                    .iter()
                    .map(|si| {
                        blocks(si, "t")
                            .iter()
                            .map(|t| unescape(t))
                            .collect::<String>()
                    })
                    .collect()
            })
            .unwrap_or_default();
        Book {
            sheets,
            workbook,
            shared,
        }
    }

    fn names(&self) -> Vec<&str> {
        self.sheets.iter().map(|s| s.name.as_str()).collect()
    }

    fn sheet(&self, name: &str) -> &Sheet {
        self.sheets
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no sheet {name} in {:?}", self.names()))
    }

    /// `_xlnm.Print_Titles` by the sheet's position.
    fn print_titles(&self) -> BTreeMap<usize, String> {
        let mut titles = BTreeMap::new();
        for (open, body) in open_and_body(&self.workbook, "definedName") {
            if attr(&open, "name").as_deref() == Some("_xlnm.Print_Titles") {
                if let Some(id) = attr(&open, "localSheetId").and_then(|i| i.parse().ok()) {
                    titles.insert(id, unescape(&body));
                }
            }
        }
        titles
    }

    fn cell_string(&self, cell_open: &str, body: &str) -> Option<String> {
        match attr(cell_open, "t").as_deref() {
            Some("s") => {
                let i: usize = text_of(body, "v")?.parse().ok()?;
                self.shared.get(i).cloned()
            }
            Some("inlineStr") => Some(blocks(body, "t").iter().map(|t| unescape(t)).collect()),
            Some("str") => text_of(body, "v"),
            _ => None,
        }
    }

    fn cell_text(&self, sheet: &Sheet, cell: &str) -> Option<String> {
        open_and_body(&sheet.xml, "c")
            .into_iter()
            .find(|(open, _)| attr(open, "r").as_deref() == Some(cell))
            .and_then(|(open, body)| self.cell_string(&open, &body))
    }

    /// (cell reference, text) of the text cells in column A.
    fn column_a_texts(&self, sheet: &Sheet) -> Vec<(String, String)> {
        open_and_body(&sheet.xml, "c")
            .into_iter()
            .filter_map(|(open, body)| {
                let r = attr(&open, "r")?;
                let row = r.strip_prefix('A')?;
                if !row.chars().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                Some((r, self.cell_string(&open, &body)?))
            })
            .collect()
    }
}

impl Sheet {
    fn page_setup(&self) -> String {
        element(&self.xml, "pageSetup").unwrap_or_default()
    }

    /// Cells in the header row (row 2), the label cell included.
    fn header_cells(&self) -> usize {
        open_and_body(&self.xml, "row")
            .into_iter()
            .find(|(open, _)| attr(open, "r").as_deref() == Some("2"))
            .map(|(_, body)| elements(&body, "c").len())
            .unwrap_or(0)
    }

    fn column_widths(&self) -> Vec<f64> {
        let mut widths = Vec::new();
        for col in elements(&self.xml, "col") {
            let n = |k: &str| attr(&col, k).and_then(|v| v.parse::<f64>().ok());
            let (Some(min), Some(max), Some(w)) = (n("min"), n("max"), n("width")) else {
                continue;
            };
            for _ in min as usize..=max as usize {
                widths.push(w);
            }
        }
        widths
    }

    /// The top-left cells of merged ranges.
    fn merged_from(&self) -> Vec<String> {
        elements(&self.xml, "mergeCell")
            .iter()
            .filter_map(|m| attr(m, "ref")?.split(':').next().map(String::from))
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Just enough XML: the workbook's parts are machine-written, without
// comments or CDATA.

/// The opening tags `<name ...>` / `<name .../>` (not `<names...`).
fn elements(xml: &str, name: &str) -> Vec<String> {
    let open = format!("<{name}");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find(&open) {
        let after = &rest[at + open.len()..];
        let boundary = after.chars().next();
        let end = after
            .find('>')
            .map(|e| at + open.len() + e + 1)
            .unwrap_or(rest.len());
        if matches!(boundary, Some(' ' | '>' | '/' | '\n' | '\t' | '\r')) {
            out.push(rest[at..end].to_string());
        }
        rest = &rest[end..];
    }
    out
}

fn element(xml: &str, name: &str) -> Option<String> {
    // For <sheetPr>, the whole element (its children matter).
    let open = elements(xml, name).into_iter().next()?;
    if open.ends_with("/>") {
        return Some(open);
    }
    let start = xml.find(&open)?;
    let close = format!("</{name}>");
    let end = xml[start..].find(&close).map(|e| start + e + close.len())?;
    Some(xml[start..end].to_string())
}

/// (opening tag, raw inner text) of each `<name>` element; empty inner
/// text for a self-closing one.
fn open_and_body(xml: &str, name: &str) -> Vec<(String, String)> {
    let close = format!("</{name}>");
    let mut out = Vec::new();
    let mut rest = xml;
    for open in elements(xml, name) {
        let Some(at) = rest.find(&open) else { break };
        rest = &rest[at + open.len()..];
        if open.ends_with("/>") {
            out.push((open, String::new()));
            continue;
        }
        let end = rest.find(&close).unwrap_or(rest.len());
        out.push((open, rest[..end].to_string()));
        rest = &rest[end..];
    }
    out
}

fn blocks(xml: &str, name: &str) -> Vec<String> {
    open_and_body(xml, name)
        .into_iter()
        .map(|(_, b)| b)
        .collect()
}

fn text_of(xml: &str, name: &str) -> Option<String> {
    open_and_body(xml, name)
        .into_iter()
        .next()
        .map(|(_, body)| unescape(&body))
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

// ---------------------------------------------------------------------------
// Just enough zip: the central directory, stored and deflated entries.

fn u16_at(b: &[u8], i: usize) -> usize {
    u16::from_le_bytes([b[i], b[i + 1]]) as usize
}

fn u32_at(b: &[u8], i: usize) -> usize {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize
}

fn unzip(b: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let eocd = (0..=b.len().saturating_sub(22))
        .rev()
        .find(|&i| b[i..i + 4] == [0x50, 0x4b, 0x05, 0x06])
        .expect("no end of central directory: not a zip file");
    let entries = u16_at(b, eocd + 10);
    let mut at = u32_at(b, eocd + 16);
    let mut files = BTreeMap::new();
    for _ in 0..entries {
        assert_eq!(
            b[at..at + 4],
            [0x50, 0x4b, 0x01, 0x02],
            "central directory entry"
        );
        let method = u16_at(b, at + 10);
        let packed = u32_at(b, at + 20);
        let size = u32_at(b, at + 24);
        let (name_len, extra, comment) =
            (u16_at(b, at + 28), u16_at(b, at + 30), u16_at(b, at + 32));
        let local = u32_at(b, at + 42);
        let name = String::from_utf8(b[at + 46..at + 46 + name_len].to_vec()).unwrap();
        at += 46 + name_len + extra + comment;
        assert_eq!(
            b[local..local + 4],
            [0x50, 0x4b, 0x03, 0x04],
            "local header of {name}"
        );
        let data = local + 30 + u16_at(b, local + 26) + u16_at(b, local + 28);
        let raw = &b[data..data + packed];
        let content = match method {
            0 => raw.to_vec(),
            8 => inflate(raw),
            m => panic!("{name}: compression method {m}"),
        };
        assert_eq!(content.len(), size, "{name}: size");
        files.insert(name, content);
    }
    files
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl Bits<'_> {
    fn take(&mut self, n: u32) -> u32 {
        while self.count < n {
            let byte = *self.data.get(self.pos).expect("deflate stream ends early");
            self.pos += 1;
            self.buf |= u32::from(byte) << self.count;
            self.count += 8;
        }
        let v = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.count -= n;
        v
    }
}

/// A canonical Huffman code: how many codes of each length, and the
/// symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut counts = [0u16; 16];
        for &l in lengths {
            counts[l as usize] += 1;
        }
        counts[0] = 0;
        let mut offsets = [0usize; 16];
        for l in 1..15 {
            offsets[l + 1] = offsets[l] + counts[l] as usize;
        }
        let mut symbols = vec![0u16; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbols[offsets[l as usize]] = s as u16;
                offsets[l as usize] += 1;
            }
        }
        Huffman { counts, symbols }
    }

    fn decode(&self, bits: &mut Bits) -> u16 {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.take(1) as i32;
            let count = i32::from(self.counts[len]);
            if code - first < count {
                return self.symbols[(index + code - first) as usize];
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        panic!("invalid Huffman code in deflate stream")
    }
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Raw DEFLATE (RFC 1951).
fn inflate(data: &[u8]) -> Vec<u8> {
    let mut bits = Bits {
        data,
        pos: 0,
        buf: 0,
        count: 0,
    };
    let mut out = Vec::new();
    loop {
        let last = bits.take(1) == 1;
        match bits.take(2) {
            0 => {
                // Stored: to the byte boundary, then LEN, NLEN, the bytes.
                bits.buf = 0;
                bits.count = 0;
                let at = bits.pos;
                let len = u16_at(data, at);
                out.extend_from_slice(&data[at + 4..at + 4 + len]);
                bits.pos = at + 4 + len;
            }
            1 => {
                let mut lengths = [0u8; 288];
                lengths[..144].fill(8);
                lengths[144..256].fill(9);
                lengths[256..280].fill(7);
                lengths[280..].fill(8);
                let lit = Huffman::new(&lengths);
                let dist = Huffman::new(&[5u8; 30]);
                codes(&mut bits, &mut out, &lit, &dist);
            }
            2 => {
                let nlen = bits.take(5) as usize + 257;
                let ndist = bits.take(5) as usize + 1;
                let ncode = bits.take(4) as usize + 4;
                const ORDER: [usize; 19] = [
                    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                ];
                let mut code_lengths = [0u8; 19];
                for &i in &ORDER[..ncode] {
                    code_lengths[i] = bits.take(3) as u8;
                }
                let code = Huffman::new(&code_lengths);
                let mut lengths = Vec::with_capacity(nlen + ndist);
                while lengths.len() < nlen + ndist {
                    match code.decode(&mut bits) {
                        s @ 0..=15 => lengths.push(s as u8),
                        16 => {
                            let prev = *lengths.last().expect("repeat with no previous length");
                            let n = 3 + bits.take(2);
                            lengths.extend((0..n).map(|_| prev));
                        }
                        17 => {
                            let n = 3 + bits.take(3);
                            lengths.extend((0..n).map(|_| 0));
                        }
                        _ => {
                            let n = 11 + bits.take(7);
                            lengths.extend((0..n).map(|_| 0));
                        }
                    }
                }
                let lit = Huffman::new(&lengths[..nlen]);
                let dist = Huffman::new(&lengths[nlen..]);
                codes(&mut bits, &mut out, &lit, &dist);
            }
            _ => panic!("invalid deflate block type"),
        }
        if last {
            return out;
        }
    }
}

fn codes(bits: &mut Bits, out: &mut Vec<u8>, lit: &Huffman, dist: &Huffman) {
    loop {
        let symbol = lit.decode(bits) as usize;
        match symbol {
            0..=255 => out.push(symbol as u8),
            256 => return,
            _ => {
                let i = symbol - 257;
                let len = LENGTH_BASE[i] as usize + bits.take(u32::from(LENGTH_EXTRA[i])) as usize;
                let d = dist.decode(bits) as usize;
                let back = DIST_BASE[d] as usize + bits.take(u32::from(DIST_EXTRA[d])) as usize;
                let start = out.len().checked_sub(back).expect("distance too far back");
                for k in 0..len {
                    out.push(out[start + k]);
                }
            }
        }
    }
}

#[test]
fn the_zip_reader_reads_what_rust_xlsxwriter_writes() {
    // A sheet big enough for dynamic Huffman blocks and long back references.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for r in 0..2000u32 {
        ws.write_string(r, 0, format!("row {r} {}", "x".repeat((r % 97) as usize)))
            .unwrap();
        ws.write_number(r, 1, f64::from(r) * 1.5).unwrap();
    }
    let files = unzip(&wb.save_to_buffer().unwrap());
    let sheet = String::from_utf8(files["xl/worksheets/sheet1.xml"].clone()).unwrap();
    assert!(
        sheet.contains("<c r=\"B2000\"><v>2998.5</v></c>"),
        "{}",
        &sheet[sheet.len() - 300..]
    );
    let shared = String::from_utf8(files["xl/sharedStrings.xml"].clone()).unwrap();
    assert!(shared.contains(&format!("row 1999 {}", "x".repeat(1999 % 97))));
}
