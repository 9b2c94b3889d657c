//! Where a personnummer stops.
//!
//! A [`Personnummer`] is parsed from what the user typed, checked (Luhn, real
//! calendar date, not in the future) and immediately reduced to the three
//! facts the rest of the program may know: legal gender, birth year and a
//! [`Fingerprint`] (argon2id of the normalised 12-digit number under a
//! per-database salt). Nothing outside this module can read the digits:
//! `Debug` and `Display` are redacted and there is no accessor. Error
//! messages describe what is wrong with the number without repeating it.
//!
//! Pseudonyms for evaluator exports are keyed BLAKE2b MACs of the
//! fingerprint, so they can be recomputed only by someone holding both the
//! database and the key file.
//!
//! We do not use the `personnummer` crate: its type prints the number in
//! `Display`/`Debug` and keeps formatted copies around, its century rule for
//! 10-digit numbers differs from Skatteverket's "+ means 100 or older"
//! rule at the boundary, and what we need is sixty lines we can audit.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use blake2::digest::{FixedOutput, KeyInit, Update};
use chrono::{Datelike, NaiveDate};

use crate::codes::Gender;
use zeroize::{Zeroize, Zeroizing};

/// A checked Swedish personnummer or samordningsnummer. Never printed.
pub struct Personnummer {
    /// Normalised 12 digits, `YYYYMMDDNNNC` (samordningsnummer keep day + 60).
    digits: [u8; 12],
    birth_year: i32,
    gender: Gender,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not a valid personnummer: {0} (the number itself is never shown; expected YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD-NNNN or YYMMDD+NNNN)")]
pub struct PnrError(pub &'static str);

impl fmt::Debug for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personnummer(<redacted>)")
    }
}

impl fmt::Display for Personnummer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<personnummer>")
    }
}

impl Drop for Personnummer {
    fn drop(&mut self) {
        // Best effort: do not leave the digits in freed memory.
        self.digits.zeroize();
    }
}

impl Personnummer {
    /// Parse and check a personnummer or samordningsnummer, relative to `today`.
    pub fn parse(input: &str, today: NaiveDate) -> Result<Personnummer, PnrError> {
        let s = input.trim();
        let mut digits = Zeroizing::new(Vec::with_capacity(12));
        let mut sep: Option<(usize, char)> = None;
        for c in s.chars() {
            match c {
                '0'..='9' => digits.push(c as u8 - b'0'),
                '-' | '+' if sep.is_none() => sep = Some((digits.len(), c)),
                '-' | '+' => return Err(PnrError("more than one separator")),
                _ => return Err(PnrError("only digits and one '-' or '+' are allowed")),
            }
        }
        if digits.len() != 10 && digits.len() != 12 {
            return Err(PnrError("wrong number of digits (need 10 or 12)"));
        }
        if let Some((pos, _)) = sep {
            if pos != digits.len() - 4 {
                return Err(PnrError(
                    "the separator must stand before the last four digits",
                ));
            }
        }
        let plus = matches!(sep, Some((_, '+')));
        let num = |d: &[u8]| d.iter().fold(0i32, |a, &x| a * 10 + x as i32);
        let (year, rest) = if digits.len() == 12 {
            (num(&digits[0..4]), &digits[2..])
        } else {
            let yy = num(&digits[0..2]);
            let month = num(&digits[2..4]) as u32;
            let day = num(&digits[4..6]) as u32;
            let day = if day > 60 { day - 60 } else { day };
            // The latest year ending in yy whose birthday is not after today;
            // '+' marks someone who has turned 100.
            let mut y = today.year() - (today.year() - yy).rem_euclid(100);
            if let Some(d) = NaiveDate::from_ymd_opt(y, month, day) {
                if d > today {
                    y -= 100;
                }
            }
            if plus {
                y -= 100;
            }
            (y, &digits[..])
        };
        if luhn_check_digit(&rest[..9]) != rest[9] {
            return Err(PnrError("the check digit does not match (typo?)"));
        }
        let month = num(&rest[2..4]) as u32;
        let raw_day = num(&rest[4..6]) as u32;
        let day = if raw_day > 60 { raw_day - 60 } else { raw_day };
        let birth = NaiveDate::from_ymd_opt(year, month, day)
            .ok_or(PnrError("the date part is not a real calendar date"))?;
        if birth > today {
            return Err(PnrError("the birth date is in the future"));
        }
        if today.year() - year > 130 {
            return Err(PnrError("the birth year is more than 130 years ago"));
        }
        let mut out = [0u8; 12];
        let century = [(year / 1000) as u8, (year / 100 % 10) as u8];
        out[..2].copy_from_slice(&century);
        out[2..].copy_from_slice(rest);
        let gender = if rest[8] % 2 == 1 {
            Gender::Man
        } else {
            Gender::Woman
        };
        Ok(Personnummer {
            digits: out,
            birth_year: year,
            gender,
        })
    }

    pub fn birth_year(&self) -> i32 {
        self.birth_year
    }

    /// The birth date (a samordningsnummer's day less 60): registration
    /// refuses a start before it, before the number is reduced to a year.
    pub fn birth_date(&self) -> NaiveDate {
        let two = |i: usize| (self.digits[i] * 10 + self.digits[i + 1]) as u32;
        let day = two(6);
        NaiveDate::from_ymd_opt(
            self.birth_year,
            two(4),
            if day > 60 { day - 60 } else { day },
        )
        .expect("checked by parse")
    }

    /// Legal gender from the second-to-last digit (odd: man, even: woman).
    pub fn gender(&self) -> Gender {
        self.gender
    }

    /// The fingerprint under this database's salt and parameters.
    pub fn fingerprint(&self, kdf: &Kdf) -> Fingerprint {
        let mut text = [0u8; 12];
        for (t, d) in text.iter_mut().zip(self.digits.iter()) {
            *t = b'0' + d;
        }
        let fp = kdf.hash(&text);
        text.zeroize();
        fp
    }
}

/// The Luhn check digit of nine digits `YYMMDDNNN` (values 0-9), as
/// Skatteverket defines it for personnummer. Public so that tests and tools
/// can make synthetic numbers.
pub fn luhn_check_digit(nine: &[u8]) -> u8 {
    let sum: u32 = nine
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let v = if i % 2 == 0 { d as u32 * 2 } else { d as u32 };
            v / 10 + v % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The argon2id parameters and salt of one database.
#[derive(Clone)]
pub struct Kdf {
    pub profile: KdfProfile,
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
    pub salt: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KdfProfile {
    /// SPEC defaults: m = 19456 KiB, t = 2, p = 1.
    Default,
    /// Cheap parameters for test suites and generated data. Never for real data.
    Test,
}

impl KdfProfile {
    pub fn name(self) -> &'static str {
        match self {
            KdfProfile::Default => "default",
            KdfProfile::Test => "test",
        }
    }
    pub fn parse(s: &str) -> Option<KdfProfile> {
        match s {
            "default" => Some(KdfProfile::Default),
            "test" => Some(KdfProfile::Test),
            _ => None,
        }
    }
    /// (m KiB, t, p)
    pub fn params(self) -> (u32, u32, u32) {
        match self {
            KdfProfile::Default => (19456, 2, 1),
            KdfProfile::Test => (8, 1, 1),
        }
    }
}

impl Kdf {
    pub fn new_random(profile: KdfProfile) -> Kdf {
        let (m_kib, t, p) = profile.params();
        Kdf {
            profile,
            m_kib,
            t,
            p,
            salt: random_bytes(16),
        }
    }

    pub(crate) fn hash(&self, input: &[u8]) -> Fingerprint {
        let params = Params::new(self.m_kib, self.t, self.p, Some(32))
            .expect("argon2 parameters were validated when stored");
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = [0u8; 32];
        argon
            .hash_password_into(input, &self.salt, &mut out)
            .expect("argon2 hashing with validated parameters cannot fail");
        Fingerprint(out)
    }

    /// Check stored parameters before they are used.
    pub fn validate(&self) -> Result<(), String> {
        Params::new(self.m_kib, self.t, self.p, Some(32))
            .map(|_| ())
            .map_err(|e| format!("stored argon2 parameters are invalid: {e}"))?;
        if self.salt.len() < 8 {
            return Err("stored salt is too short".into());
        }
        Ok(())
    }
}

/// The fingerprints one command has computed, so that the same number is
/// never hashed twice in it (SPEC section 5), even when an import hashes its
/// rows batch by batch. Numbers are remembered by a BLAKE2b-MAC tag under a
/// random key that lives only as long as the cache: no copy of the digits
/// is kept, and the tags mean nothing once the command ends.
pub struct FingerprintCache {
    key: Zeroizing<Vec<u8>>,
    seen: std::collections::HashMap<[u8; 16], Fingerprint>,
}

impl Default for FingerprintCache {
    fn default() -> Self {
        FingerprintCache {
            key: Zeroizing::new(random_bytes(32)),
            seen: std::collections::HashMap::new(),
        }
    }
}

impl FingerprintCache {
    fn tag(&self, p: &Personnummer) -> [u8; 16] {
        let mut mac = blake2::Blake2bMac512::new_from_slice(&self.key).expect("a 32-byte key fits");
        mac.update(&p.digits);
        let out = mac.finalize_fixed();
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&out[..16]);
        tag
    }

    /// Fingerprints of `pnrs`, in order; only numbers this cache has not
    /// seen are hashed (on all cores).
    pub fn fingerprints(&mut self, pnrs: &[Personnummer], kdf: &Kdf) -> Vec<Fingerprint> {
        let tags: Vec<[u8; 16]> = pnrs.iter().map(|p| self.tag(p)).collect();
        let mut new: Vec<usize> = Vec::new();
        let mut queued = std::collections::HashSet::new();
        for (i, t) in tags.iter().enumerate() {
            if !self.seen.contains_key(t) && queued.insert(*t) {
                new.push(i);
            }
        }
        let refs: Vec<&Personnummer> = new.iter().map(|&i| &pnrs[i]).collect();
        for (&i, fp) in new.iter().zip(fingerprints_parallel(&refs, kdf)) {
            self.seen.insert(tags[i], fp);
        }
        tags.iter().map(|t| self.seen[t]).collect()
    }
}

fn fingerprints_parallel(pnrs: &[&Personnummer], kdf: &Kdf) -> Vec<Fingerprint> {
    let threads = crate::parallel::workers(pnrs.len());
    let chunk = pnrs.len().div_ceil(threads).max(1);
    crate::parallel::run_each(pnrs.chunks(chunk).collect(), |_, c| {
        Ok(c.iter().map(|p| p.fingerprint(kdf)).collect::<Vec<_>>())
    })
    .expect("hashing cannot fail")
    .into_iter()
    .flatten()
    .collect()
}

/// argon2id output identifying a person within one database.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprint(<redacted>)")
    }
}

/// Random bytes from the OS.
pub fn random_bytes(n: usize) -> Vec<u8> {
    use rand::TryRng;
    let mut v = vec![0u8; n];
    rand::rngs::SysRng
        .try_fill_bytes(&mut v)
        .expect("the operating system's random source is available");
    v
}

/// `BLAKE2b-MAC(key, data)`, truncated to 80 bits and base32-encoded
/// (16 characters, no padding).
pub fn pseudonym(key: &[u8], data: &[u8]) -> String {
    let mut mac = blake2::Blake2bMac512::new_from_slice(key).expect("key length 1..=64 bytes");
    mac.update(data);
    let out = mac.finalize_fixed();
    data_encoding::BASE32_NOPAD.encode(&out[..10])
}

/// Mask anything that could be a personnummer or samordningsnummer in a
/// message that quotes what a user typed, so that a number put in the wrong
/// column or option is never printed back. A candidate is a run of digit
/// groups joined by up to three characters that are neither letters nor
/// digits (`-`, `+`, space, `_`, `.`, `/`, a dash; whatever stands around it)
/// in which consecutive groups hold 10 or 12 digits whose date part is a
/// real date (day + 60 for a samordningsnummer); the whole run is masked.
/// The check digit is not required: a mistyped number still points at a
/// person. Plain numbers (`5000000000`, `-1`, `4294967295`), dates, ids and
/// counts stay readable, so a message about them still says what was wrong.
pub fn scrub(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    let mut copied = 0;
    for (start, end, groups) in digit_runs(text) {
        if joined_groups(&groups).any(|d| is_pnr_shaped(&d)) {
            out.push_str(&text[copied..start]);
            out.push_str("<personnummer>");
            copied = end;
        }
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    std::borrow::Cow::Owned(out)
}

/// A path as shown in messages and recorded in the audit trail: a file
/// named after a person (`19800315-2421.db`) is not named in clear.
pub fn scrub_path(path: &std::path::Path) -> String {
    scrub(&path.to_string_lossy()).into_owned()
}

/// True when `s` holds a birth date (`YYYYMMDD` or `YYMMDD`, alone or
/// among other characters, with or without separators): refused where an
/// anonymous participant's own id is expected, since a birth date plus
/// gender and municipality nearly identifies a person.
pub fn holds_birth_date(s: &str) -> bool {
    digit_runs(s).any(|(_, _, groups)| {
        joined_groups(&groups).any(|d| match d.len() {
            6 => plausible_date(None, &d[0..2], &d[2..4], &d[4..6], false),
            8 => plausible_date(Some(&d[0..4]), &d[0..2], &d[4..6], &d[6..8], false),
            _ => false,
        })
    })
}

/// Maximal runs of digit groups separated by up to three characters that
/// are neither letters nor digits (`-`, `+`, space, `_`, `.`, `/`, `–`,
/// `" - "`, ...; not `,`, `;` or `:`, which separate items of a message):
/// (byte start, byte end, groups). Digits are read after
/// Unicode compatibility normalisation, so full-width `１９８０...` counts.
fn digit_runs(text: &str) -> impl Iterator<Item = (usize, usize, Vec<String>)> + '_ {
    use unicode_normalization::UnicodeNormalization;
    // (byte offset, byte length, the digit it stands for, letter or digit)
    let chars: Vec<(usize, usize, Option<char>, bool)> = text
        .char_indices()
        .map(|(at, c)| {
            let digit = if c.is_ascii_digit() {
                Some(c)
            } else if c.is_ascii() || is_marker_digit(c) {
                // A superscript or circled digit reads as a footnote mark
                // after a number ("19800315-2421²"), not as part of it: it
                // ends the run (it is alphanumeric) without joining it.
                None
            } else {
                let mut n = std::iter::once(c).nfkc();
                match (n.next(), n.next()) {
                    (Some(d), None) if d.is_ascii_digit() => Some(d),
                    _ => None,
                }
            };
            (at, c.len_utf8(), digit, c.is_alphanumeric())
        })
        .collect();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < chars.len() && chars[i].2.is_none() {
            i += 1;
        }
        if i >= chars.len() {
            return None;
        }
        let start = chars[i].0;
        let mut groups = Vec::new();
        loop {
            let mut g = String::new();
            while let Some(d) = chars.get(i).and_then(|c| c.2) {
                g.push(d);
                i += 1;
            }
            groups.push(g);
            let mut j = i;
            while j < chars.len()
                && j - i < 3
                && chars[j].2.is_none()
                && !chars[j].3
                && !matches!(text.as_bytes()[chars[j].0], b',' | b';' | b':')
            {
                j += 1;
            }
            if j > i && chars.get(j).is_some_and(|c| c.2.is_some()) {
                i = j;
            } else {
                break;
            }
        }
        let last = &chars[i - 1];
        Some((start, last.0 + last.1, groups))
    })
}

/// Digits that NFKC maps to ASCII digits but that mark rather than count:
/// superscripts, subscripts and enclosed (circled) digits.
fn is_marker_digit(c: char) -> bool {
    matches!(c, '\u{B2}' | '\u{B3}' | '\u{B9}' | '\u{2070}'..='\u{209F}' | '\u{2460}'..='\u{24FF}' | '\u{2776}'..='\u{2793}')
}

/// The digits of every sequence of consecutive groups.
fn joined_groups(groups: &[String]) -> impl Iterator<Item = String> + '_ {
    (0..groups.len()).flat_map(move |a| (a..groups.len()).map(move |z| groups[a..=z].concat()))
}

/// 10 or 12 digits whose date part could be a birth date (or a
/// samordningsnummer's day + 60).
fn is_pnr_shaped(d: &str) -> bool {
    match d.len() {
        10 => plausible_date(None, &d[0..2], &d[2..4], &d[4..6], true),
        12 => plausible_date(Some(&d[0..4]), &d[2..4], &d[4..6], &d[6..8], true),
        _ => false,
    }
}

/// A real calendar date. Without the century (`year4` None) February 29
/// counts when some century makes the year a leap year.
fn plausible_date(year4: Option<&str>, yy: &str, mm: &str, dd: &str, coordination: bool) -> bool {
    let n = |s: &str| s.parse::<u32>().ok();
    let (Some(yy), Some(month), Some(mut day)) = (n(yy), n(mm), n(dd)) else {
        return false;
    };
    if coordination && day > 60 {
        day -= 60;
    }
    let year = match year4.and_then(n) {
        Some(y) if (1800..=2299).contains(&y) => y as i32,
        Some(_) => return false,
        // 2000 + yy is a leap year exactly when yy % 4 == 0.
        None => 2000 + yy as i32,
    };
    NaiveDate::from_ymd_opt(year, month, day).is_some()
}

/// True when `s` holds ten or more digits (ignoring everything else): it
/// could be a personnummer, so it is refused where a user name or a local
/// id is expected.
pub fn could_hold_pnr(s: &str) -> bool {
    s.chars().filter(|c| c.is_ascii_digit()).count() >= 10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    // Skatteverket's published test numbers (synthetic).
    const P12: &str = "19121212-1212";

    #[test]
    fn the_cache_hashes_a_number_once_across_batches() {
        let kdf = Kdf::new_random(KdfProfile::Test);
        let p = |s: &str| Personnummer::parse(s, today()).unwrap();
        let mut cache = FingerprintCache::default();
        let first = cache.fingerprints(&[p(P12), p("191212121212")], &kdf);
        assert_eq!(cache.seen.len(), 1, "one person, two spellings: one hash");
        let second = cache.fingerprints(&[p("121212+1212"), p("121212-1212")], &kdf);
        assert_eq!(cache.seen.len(), 2, "only the new number was hashed");
        assert_eq!(first[0], first[1]);
        assert_eq!(second[0], first[0]);
        assert_eq!(second[1], p("121212-1212").fingerprint(&kdf));
        assert_ne!(second[1], first[0]);
    }

    #[test]
    fn forms_normalise_to_one_person() {
        let kdf = Kdf::new_random(KdfProfile::Test);
        let a = Personnummer::parse(P12, today()).unwrap();
        let b = Personnummer::parse("191212121212", today()).unwrap();
        let c = Personnummer::parse("121212+1212", today()).unwrap();
        assert_eq!(a.fingerprint(&kdf), b.fingerprint(&kdf));
        assert_eq!(a.fingerprint(&kdf), c.fingerprint(&kdf));
        assert_eq!(a.birth_year(), 1912);
        assert_eq!(a.gender(), Gender::Man);
        // Without '+', a 10-digit 121212 means 2012.
        let d = Personnummer::parse("121212-1212", today()).unwrap();
        assert_eq!(d.birth_year(), 2012);
        assert_ne!(a.fingerprint(&kdf), d.fingerprint(&kdf));
    }

    #[test]
    fn samordningsnummer_and_gender() {
        // 1990-03-71 (day 11 + 60); check digit computed for the test.
        let p = Personnummer::parse(&with_check("900371239"), today()).unwrap();
        assert_eq!(p.birth_year(), 1990);
        assert_eq!(p.gender(), Gender::Man);
        let w = Personnummer::parse(&with_check("850101242"), today()).unwrap();
        assert_eq!(w.gender(), Gender::Woman);
    }

    #[test]
    fn refusals_never_repeat_the_number() {
        for bad in [
            "19121212-1213",
            "1912121212",
            "19121312-1212",
            "abc",
            "20991212-1212",
            "1212-121212",
            "",
        ] {
            let e = Personnummer::parse(bad, today()).unwrap_err().to_string();
            let digits: String = bad.chars().filter(|c| c.is_ascii_digit()).collect();
            if digits.len() >= 6 {
                assert!(!e.contains(&digits), "{e}");
                assert!(!e.contains(&digits[..6]), "{e}");
            }
        }
        let p = Personnummer::parse(P12, today()).unwrap();
        assert_eq!(
            format!("{p:?} {p}"),
            "Personnummer(<redacted>) <personnummer>"
        );
    }

    #[test]
    fn scrub_masks_personnummer_shapes_but_not_ids_or_dates() {
        assert_eq!(
            scrub("invalid date '19850630-1236': expected"),
            "invalid date '<personnummer>': expected"
        );
        assert_eq!(
            scrub("x 8506301236 y 198506301236"),
            "x <personnummer> y <personnummer>"
        );
        assert_eq!(scrub("850630+1236"), "<personnummer>");
        assert_eq!(scrub("a 19121212 1212 b"), "a <personnummer> b");
        assert_eq!(scrub("P19121212-1212x"), "P<personnummer>x");
        let kept = "enrolment 512689ae on 2021-03-01, 1234 rows, line 123456";
        assert_eq!(scrub(kept), kept);
        assert_eq!(scrub("line 12, column date"), "line 12, column date");
        // Plain numbers are no personnummer: their date part is no date.
        let plain = "5000000000 is not in 0..=4294967295; -1; 123456789012";
        assert_eq!(scrub(plain), plain);
        // A samordningsnummer (day + 60), and a number next to another.
        assert_eq!(scrub("900371-2391"), "<personnummer>");
        assert_eq!(scrub("line 4 850630-1236 5"), "line <personnummer>");
        // Any separator a person may type or paste, and full-width digits.
        for typed in [
            "19800315_2421",
            "19800315/2421",
            "800315.2421",
            "19800315 - 2421",
            "19800315  2421",
            "19800315–2421",
            "１９８００３１５－２４２１",
            "/tmp/bk_19800315_2421.db",
        ] {
            assert!(
                scrub(typed).contains("<personnummer>") && !scrub(typed).contains("2421"),
                "{typed} -> {}",
                scrub(typed)
            );
        }
    }

    #[test]
    fn birth_dates_are_found_in_any_form() {
        for s in ["19910203", "910203", "1991-02-03", "ab910203", "x-91.02.03"] {
            assert!(holds_birth_date(s), "{s}");
        }
        for s in ["T-2021-0001", "123456", "A17", "20211301", "team 7"] {
            assert!(!holds_birth_date(s), "{s}");
        }
    }

    #[test]
    fn pseudonyms_depend_on_key() {
        let a = pseudonym(&[1; 32], b"x");
        assert_eq!(a, pseudonym(&[1; 32], b"x"));
        assert_ne!(a, pseudonym(&[2; 32], b"x"));
        assert_eq!(a.len(), 16);
    }

    /// Append the Luhn check digit to nine digits (YYMMDDNNN).
    pub(crate) fn with_check(nine: &str) -> String {
        let digits: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
        format!("{nine}{}", luhn_check_digit(&digits))
    }
}
