//! Reading an import file as a stream of CSV records, each with the
//! physical line it starts on.
//!
//! The file is never held whole: it is read in 64 KiB chunks, split into
//! physical lines (`\n`, `\r\n` or a lone `\r` ends one; line 1 is the
//! first line of the file, blank lines count), and lines are joined into a
//! record only while a quoted cell spans them. Bounds keep a wrong or
//! hostile file from taking the machine: a record may hold at most
//! [`MAX_RECORD_BYTES`] (64 KiB), which also bounds its number of cells.
//! `/dev/zero` stops at its first 64 KiB.
//!
//! Encoding: a UTF-8 BOM is dropped; a UTF-16 BOM (what Excel's "Unicode
//! text" writes) turns on a streaming UTF-16 to UTF-8 decoder; without a
//! BOM the encoding is decided per line: a line that is valid UTF-8 is
//! read as UTF-8, any other as Windows-1252 (Swedish Excel's plain "CSV").
//! Per line rather than from a prefix because a Windows-1252 file may hold
//! its first å on line 100,000, and a Windows-1252 line that is also valid
//! UTF-8 would need byte pairs such as "Ã¥", which Swedish text does not
//! have. The delimiter is sniffed from the first non-blank line.
//!
//! Buffers that held file text (personnummer among it) are zeroed when
//! they are reused or dropped.

use std::io::{self, Read};

use zeroize::Zeroize;

/// The longest record (one row, or one row whose quoted cell spans lines).
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

const CHUNK: usize = 64 * 1024;

/// Why reading stopped.
#[derive(Debug)]
pub enum ReadError {
    /// The record starting on this line exceeds [`MAX_RECORD_BYTES`].
    TooLong {
        line: u64,
    },
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// One CSV record: its cells (untrimmed) and the line it starts on.
#[derive(Debug, Default)]
pub struct Record {
    pub line: u64,
    pub cells: Vec<String>,
}

impl Record {
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(|c| c.trim().is_empty())
    }

    fn clear(&mut self) {
        for c in &mut self.cells {
            c.zeroize();
        }
        self.cells.clear();
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        self.clear();
    }
}

/// A stream of records from any reader.
pub struct Records<'r> {
    input: Box<dyn Read + 'r>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// The last line ended with `\r`: a `\n` right after it ends nothing.
    after_cr: bool,
    /// Physical lines read so far.
    line: u64,
    /// Bytes taken from the input so far (for a progress bar).
    pub bytes: u64,
    raw: Vec<u8>,
    text: String,
    delimiter: Option<u8>,
}

impl Drop for Records<'_> {
    fn drop(&mut self) {
        self.buf.zeroize();
        self.raw.zeroize();
        self.text.zeroize();
    }
}

impl<'r> Records<'r> {
    /// Start reading; looks at the first bytes for a byte-order mark.
    pub fn new(mut input: impl Read + 'r) -> io::Result<Records<'r>> {
        let mut head = [0u8; 3];
        let mut n = 0;
        while n < head.len() {
            match input.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let (bom, skip) = match encoding_rs::Encoding::for_bom(&head[..n]) {
            Some((enc, len)) => (Some(enc), len),
            None => (None, 0),
        };
        let rest = io::Cursor::new(head[skip..n].to_vec()).chain(input);
        let input: Box<dyn Read + 'r> = match bom {
            Some(enc) if enc != encoding_rs::UTF_8 => Box::new(Utf16ToUtf8::new(rest, enc)),
            _ => Box::new(rest),
        };
        Ok(Records {
            input,
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            after_cr: false,
            line: 0,
            bytes: 0,
            raw: Vec::new(),
            text: String::new(),
            delimiter: None,
        })
    }

    /// Read the next physical line into `self.text`; false at the end.
    /// `limit` is what the record may still take.
    fn next_line(&mut self, limit: usize, record_line: u64) -> Result<bool, ReadError> {
        self.raw.zeroize();
        let mut ended = false;
        let mut any = false;
        while !ended {
            if self.pos == self.len {
                if self.eof {
                    break;
                }
                self.fill()?;
                continue;
            }
            let avail = &self.buf[self.pos..self.len];
            if self.after_cr {
                self.after_cr = false;
                if avail[0] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            any = true;
            let end = avail.iter().position(|&b| b == b'\n' || b == b'\r');
            let take = end.unwrap_or(avail.len());
            if self.raw.len() + take > limit {
                let line = if record_line == 0 {
                    self.line + 1
                } else {
                    record_line
                };
                return Err(ReadError::TooLong { line });
            }
            self.raw.extend_from_slice(&avail[..take]);
            if let Some(e) = end {
                self.after_cr = avail[e] == b'\r';
                self.pos += e + 1;
                ended = true;
            } else {
                self.pos = self.len;
            }
        }
        if !any {
            return Ok(false);
        }
        self.line += 1;
        self.text.zeroize();
        match std::str::from_utf8(&self.raw) {
            Ok(s) => self.text.push_str(s),
            Err(_) => {
                let (s, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&self.raw);
                self.text.push_str(&s);
                if let std::borrow::Cow::Owned(mut o) = s {
                    o.zeroize();
                }
            }
        }
        Ok(true)
    }

    fn fill(&mut self) -> io::Result<()> {
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    self.pos = 0;
                    self.len = 0;
                    return Ok(());
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    self.bytes += n as u64;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The next record into `rec` (cleared first); false at the end of the
    /// file. Blank lines before the first record are skipped; later ones
    /// come back as blank records.
    pub fn next_into(&mut self, rec: &mut Record) -> Result<bool, ReadError> {
        rec.clear();
        rec.line = 0;
        let mut used = 0usize;
        let mut cell = String::new();
        let mut quoted = false;
        let mut at_start = true;
        loop {
            if !self.next_line(MAX_RECORD_BYTES - used, rec.line)? {
                if rec.line == 0 {
                    return Ok(false);
                }
                // An unclosed quote at the end of the file: keep what was read.
                rec.cells.push(std::mem::take(&mut cell));
                return Ok(true);
            }
            used += self.raw.len() + 1;
            if rec.line == 0 {
                rec.line = self.line;
            }
            let delimiter = match self.delimiter {
                Some(d) => d,
                None if self.text.trim().is_empty() => {
                    rec.line = 0;
                    used = 0;
                    continue;
                }
                None => *self.delimiter.insert(sniff_delimiter(&self.text)),
            };
            let mut chars = self.text.chars().peekable();
            while let Some(c) = chars.next() {
                if quoted {
                    if c == '"' {
                        if chars.peek() == Some(&'"') {
                            chars.next();
                            cell.push('"');
                        } else {
                            quoted = false;
                        }
                    } else {
                        cell.push(c);
                    }
                } else if c as u32 == delimiter as u32 {
                    rec.cells.push(std::mem::take(&mut cell));
                    at_start = true;
                } else if c == '"' && at_start {
                    quoted = true;
                    at_start = false;
                } else {
                    cell.push(c);
                    at_start = false;
                }
            }
            if quoted {
                cell.push('\n');
                continue;
            }
            rec.cells.push(cell);
            return Ok(true);
        }
    }
}

/// Turn file bytes into text, as a whole: BOM-marked UTF-8/UTF-16, else
/// UTF-8, else Windows-1252. (The import itself decides per line, above.)
pub fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom_len..])
            .0
            .into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The delimiter of the first non-blank line: `;`, `,` or tab, outside quotes.
pub fn sniff_delimiter(text: &str) -> u8 {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => counts[0] += 1,
            ',' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(1);
    if counts[best] == 0 {
        return b',';
    }
    [b';', b',', b'\t'][best]
}

/// UTF-16 (either byte order) in, UTF-8 out, a chunk at a time.
struct Utf16ToUtf8<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    inbuf: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    in_eof: bool,
    done: bool,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
}

impl<R: Read> Utf16ToUtf8<R> {
    fn new(inner: R, enc: &'static encoding_rs::Encoding) -> Self {
        Utf16ToUtf8 {
            inner,
            decoder: enc.new_decoder_without_bom_handling(),
            inbuf: vec![0; CHUNK],
            in_pos: 0,
            in_len: 0,
            in_eof: false,
            done: false,
            out: vec![0; 2 * CHUNK],
            out_pos: 0,
            out_len: 0,
        }
    }
}

impl<R> Drop for Utf16ToUtf8<R> {
    fn drop(&mut self) {
        self.inbuf.zeroize();
        self.out.zeroize();
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out_len {
            if self.done {
                return Ok(0);
            }
            if self.in_pos == self.in_len && !self.in_eof {
                let n = self.inner.read(&mut self.inbuf)?;
                self.in_pos = 0;
                self.in_len = n;
                self.in_eof = n == 0;
            }
            let (result, read, written, _) = self.decoder.decode_to_utf8(
                &self.inbuf[self.in_pos..self.in_len],
                &mut self.out,
                self.in_eof,
            );
            self.in_pos += read;
            self.out_pos = 0;
            self.out_len = written;
            if self.in_eof && result == encoding_rs::CoderResult::InputEmpty {
                self.done = true;
            }
        }
        let n = dst.len().min(self.out_len - self.out_pos);
        dst[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<(u64, Vec<String>)> {
        let mut r = Records::new(bytes).unwrap();
        let mut rec = Record::default();
        let mut out = Vec::new();
        while r.next_into(&mut rec).unwrap() {
            out.push((rec.line, rec.cells.clone()));
        }
        out
    }

    #[test]
    fn lines_are_physical_lines_whatever_ends_them() {
        let v = all(b"\r\na;b\r\n1;2\r\n\r\n\r\n3;\"x\r\ny\"\r\n4;5\r6;7\n");
        let lines: Vec<u64> = v.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 6, 8, 9]);
        assert_eq!(v[4].1, vec!["3", "x\ny"]);
        assert_eq!(v[6].1, vec!["6", "7"]);
    }

    #[test]
    fn encodings_per_line_and_utf16() {
        // Line 2 is Windows-1252, line 3 UTF-8.
        let v = all(b"a,b\nV\xe4nersborg,x\n\xc3\xa5,y\n");
        assert_eq!(v[1].1, vec!["Vänersborg", "x"]);
        assert_eq!(v[2].1, vec!["å", "y"]);
        let mut utf16 = vec![0xff, 0xfe];
        for u in "a;b\r\nå;\"c\"\r\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let v = all(&utf16);
        assert_eq!(
            v,
            vec![
                (1, vec!["a".into(), "b".into()]),
                (2, vec!["å".into(), "c".into()])
            ]
        );
        assert_eq!(all(b"\xef\xbb\xbfx,y\n")[0].1, vec!["x", "y"]);
    }

    #[test]
    fn a_record_longer_than_the_limit_stops_the_reader() {
        let mut long = b"a,b\n1,2\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 1));
        let mut r = Records::new(&long[..]).unwrap();
        let mut rec = Record::default();
        assert!(r.next_into(&mut rec).unwrap());
        assert!(r.next_into(&mut rec).unwrap());
        assert!(matches!(
            r.next_into(&mut rec),
            Err(ReadError::TooLong { line: 3 })
        ));
    }
}
