//! Export keys: the key file made by `keygen` (32 random bytes as 64 hex
//! digits, owner-only) and the one-off key of an export without one.
//!
//! A key file's content is never put in a message: a malformed file is
//! refused by saying what shape was expected, not what was found.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::identity::random_bytes;
use crate::invalid;

/// Read a key file made by `keygen` (64 hex digits, surrounding whitespace
/// allowed).
pub fn read_key(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let shown = crate::identity::scrub_path(path);
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => {
            invalid!("no key file {shown}; make one with `sustrack keygen FILE`")
        }
        _ => Error::io(path, format!("cannot read the key file: {e}")),
    })?;
    // A key file is a small regular file: never read a device, a FIFO or
    // anything large to its end (`--key-file /dev/zero` would not stop).
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(invalid!(
            "{shown} is not a regular file: give the key file written by `sustrack keygen`"
        ));
    }
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(256));
    file.take(256)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, format!("cannot read the key file: {e}")))?;
    parse_key(&bytes).ok_or_else(|| {
        invalid!(
            "{shown} is not a sustrack key file (expected 64 hex digits, as written by `sustrack keygen`)"
        )
    })
}

/// The key in a key file's bytes; `None` for anything but 64 hex digits.
/// Works on bytes, so no text (a multi-byte character, invalid UTF-8) can
/// make it fail any other way.
pub fn parse_key(bytes: &[u8]) -> Option<Vec<u8>> {
    let t = bytes.trim_ascii();
    if t.len() != 64 {
        return None;
    }
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    t.chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// Write a new key file: 32 random bytes as hex, owner-only, never overwriting.
pub fn keygen(path: &Path) -> Result<()> {
    let mut f = crate::store::create_private_file(
        path,
        "keygen never overwrites a key (pseudonyms depend on it)",
    )?;
    let hex: String = random_bytes(32)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    f.write_all(format!("{hex}\n").as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// A fresh key for one export, never stored.
pub fn ephemeral_key() -> Vec<u8> {
    random_bytes(32)
}

#[cfg(test)]
mod tests {
    use super::parse_key;

    #[test]
    fn only_64_hex_digits_are_a_key() {
        let good = "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789";
        assert_eq!(
            parse_key(format!(" {good}\n").as_bytes()).unwrap().len(),
            32
        );
        // 64 bytes with a two-byte character across a pair of digits: once
        // a panic on a char boundary, whose message printed the key.
        let multi = format!("0é{}", &good[3..]);
        assert_eq!(multi.len(), 64);
        assert_eq!(parse_key(multi.as_bytes()), None);
        assert_eq!(parse_key(&[0xff; 64]), None);
        assert_eq!(parse_key(&good.as_bytes()[1..]), None);
        assert_eq!(parse_key(format!("{}g", &good[1..]).as_bytes()), None);
        assert_eq!(parse_key(format!("+{}", &good[1..]).as_bytes()), None);
    }
}
