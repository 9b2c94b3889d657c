//! Plain domain types shared by the store, the rules, reports and exports,
//! and the small parsers for values users type (dates, months, years,
//! municipalities, percentages).

use chrono::{Datelike, NaiveDate};

use crate::codes::{
    Education, Gender, InterventionKind, Outcome, QualityOfLife, Referrer, StepProgress, Support,
    YearsInSupport,
};
use crate::error::{Error, Field, Result};
pub use crate::kommun::{Kommun, Municipality};

/// One enrolment (one participant in one intervention, start to exit).
#[derive(Debug, Clone, PartialEq)]
pub struct Enrolment {
    pub id: String,
    pub intervention: String,
    /// `None` for anonymous participants.
    pub person_id: Option<i64>,
    pub local_id: Option<String>,
    pub gender: Gender,
    pub birth_year: Option<i32>,
    pub start: NaiveDate,
    pub exit: Option<NaiveDate>,
    pub facts: StartFacts,
    pub outcome: Option<Outcome>,
    pub after: ExitFacts,
}

/// What staff record at start (all optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartFacts {
    pub municipality: Option<Municipality>,
    pub support: Option<Support>,
    pub years_in_support: Option<YearsInSupport>,
    pub education: Option<Education>,
    pub referrer: Option<Referrer>,
}

/// What staff record at exit besides the outcome (all optional).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExitFacts {
    pub support_after: Option<Support>,
    pub step_progress: Option<StepProgress>,
    pub quality_of_life: Option<QualityOfLife>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Intervention {
    pub code: String,
    pub name: String,
    pub parent: Option<String>,
    pub kind: InterventionKind,
    pub target_work_studies: Option<f64>,
    pub target_step: Option<f64>,
    pub target_qol: Option<f64>,
}

impl Enrolment {
    /// The first 8 characters of the id, as lists print it.
    pub fn short_id(&self) -> &str {
        short_id(&self.id)
    }
}

pub fn short_id(id: &str) -> &str {
    // By characters: `check` shows ids that may have been damaged.
    id.char_indices().nth(8).map_or(id, |(i, _)| &id[..i])
}

/// Months in intervention: ceil(days / 30.4375), at least 1 (SPEC section 6).
pub fn months_between(start: NaiveDate, exit: NaiveDate) -> u32 {
    let days = (exit - start).num_days().max(0) as f64;
    ((days / 30.4375).ceil() as u32).max(1)
}

/// Parse `YYYY-MM-DD` or `YYYYMMDD` (from 1900). `field` is the domain
/// field the date is for; a day the month does not have is named as such.
pub fn parse_date(s: &str, field: Field) -> Result<NaiveDate> {
    let t = s.trim().as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        t.get(r)?.iter().try_fold(0u32, |a, &c| {
            c.is_ascii_digit().then(|| a * 10 + (c - b'0') as u32)
        })
    };
    // Exactly YYYYMMDD or YYYY-MM-DD: no signs, no short years.
    let (y, m, d) = match t.len() {
        8 => (digits(0..4), digits(4..6), digits(6..8)),
        10 if t[4] == b'-' && t[7] == b'-' => (digits(0..4), digits(5..7), digits(8..10)),
        _ => (None, None, None),
    };
    let shape = || {
        Error::invalid(
            field,
            format!("'{s}' is not a date: expected YYYY-MM-DD or YYYYMMDD (from 1900)"),
        )
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(shape());
    };
    if y < 1900 || !(1..=12).contains(&m) || d == 0 {
        return Err(shape());
    }
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| {
        let days = days_in_month(y as i32, m);
        Error::invalid(
            field,
            format!(
                "'{s}' is not a date: {} {y} has {days} days",
                MONTHS[m as usize - 1]
            ),
        )
    })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn days_in_month(y: i32, m: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|&d| NaiveDate::from_ymd_opt(y, m, d).is_some())
        .expect("every month has 28 days")
}

/// A date that must not be after `today`.
pub fn parse_past_date(s: &str, field: Field, today: NaiveDate) -> Result<NaiveDate> {
    let d = parse_date(s, field)?;
    not_future(d, field, today)?;
    Ok(d)
}

/// Refuse a date after `today`.
pub fn not_future(d: NaiveDate, field: Field, today: NaiveDate) -> Result<()> {
    if d > today {
        return Err(Error::invalid(
            field,
            format!("{d} is in the future (today is {today})"),
        ));
    }
    Ok(())
}

/// Parse `YYYY-MM` for volume registrations.
pub fn parse_month(s: &str) -> Result<(i32, u32)> {
    let t = s.trim();
    let ok = t.len() == 7 && t.as_bytes()[4] == b'-';
    let y = t.get(0..4).and_then(|y| y.parse::<i32>().ok());
    let m = t.get(5..7).and_then(|m| m.parse::<u32>().ok());
    match (ok, y, m) {
        (true, Some(y), Some(m)) if (1..=12).contains(&m) && (1900..=9999).contains(&y) => {
            Ok((y, m))
        }
        _ => Err(Error::invalid(
            Field::Month,
            format!("'{s}' is not a month: expected YYYY-MM, e.g. 2021-03"),
        )),
    }
}

/// A birth year for anonymous participants: 1900 up to this year.
pub fn parse_birth_year(s: &str, today: NaiveDate) -> Result<i32> {
    match s.trim().parse::<i32>() {
        Ok(y) => check_birth_year(y, today),
        // Anything longer than a year may be a birth date: never echoed.
        Err(_) if s.trim().chars().count() > 4 => Err(Error::invalid(
            Field::BirthYear,
            format!(
                "is not a year: expected a four-digit year from 1900 to {}",
                today.year()
            ),
        )),
        Err(_) => Err(Error::invalid(
            Field::BirthYear,
            format!(
                "'{}' is not a year: expected a four-digit year from 1900 to {}",
                s.trim(),
                today.year()
            ),
        )),
    }
}

/// The range of a birth year: 1900 up to this year.
pub fn check_birth_year(y: i32, today: NaiveDate) -> Result<i32> {
    if (1900..=today.year()).contains(&y) {
        return Ok(y);
    }
    let shown = if (-9999..=9999).contains(&y) {
        format!("{y} is out of range")
    } else {
        "is not a year".to_string()
    };
    Err(Error::invalid(
        Field::BirthYear,
        format!(
            "{shown}: expected a four-digit year from 1900 to {}",
            today.year()
        ),
    ))
}

/// A municipality as typed: a kommun's name (any case, normalisation or
/// diacritics) or its kommunkod; see `kommun` for what is accepted.
pub fn parse_municipality(s: &str) -> Result<Municipality> {
    Kommun::parse(s)
        .map(Municipality::Kommun)
        .map_err(|e| Error::invalid(Field::Municipality, e.to_string()))
}

/// A target given in percent (0-100), stored as a fraction.
pub fn parse_percent(s: &str, field: Field) -> Result<f64> {
    let t = s.trim().trim_end_matches('%').trim().replace(',', ".");
    match t.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v / 100.0),
        _ => Err(Error::invalid(
            field,
            format!("'{s}' is not a target: expected a percentage from 0 to 100, e.g. 40"),
        )),
    }
}

/// An amount of money in whole kronor as people type it: `1250000`,
/// `1 250 000`, `1 250 000 kr`, `1250000,00` (öre must be zero). Up to a
/// million million kronor.
pub fn parse_sek(s: &str, field: Field) -> Result<u64> {
    let err = || {
        Error::invalid(
            field,
            format!(
                "'{}' is not an amount: expected whole kronor, e.g. 1250000 or 1 250 000 kr",
                shown_text(s)
            ),
        )
    };
    let mut t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}'))
        .collect();
    for suffix in ["kr", "KR", "Kr", "SEK", "sek", ":-"] {
        if let Some(rest) = t.strip_suffix(suffix) {
            t = rest.to_string();
            break;
        }
    }
    if let Some((whole, ore)) = t.split_once([',', '.']) {
        if ore.is_empty() || ore.len() > 2 || !ore.chars().all(|c| c == '0') {
            return Err(err());
        }
        t = whole.to_string();
    }
    if t.is_empty() || t.len() > 13 || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(err());
    }
    let v: u64 = t.parse().map_err(|_| err())?;
    if v > 1_000_000_000_000 {
        return Err(Error::invalid(
            field,
            format!("{v} kronor is out of range: expected at most 1 000 000 000 000"),
        ));
    }
    Ok(v)
}

/// The range of a stored target: a fraction from 0 to 1 (0-100 %).
pub fn check_target(v: Option<f64>, field: Field) -> Result<()> {
    match v {
        Some(x) if !(0.0..=1.0).contains(&x) => Err(Error::invalid(
            field,
            format!(
                "{:.0} % is out of range: expected a percentage from 0 to 100",
                x * 100.0
            ),
        )),
        _ => Ok(()),
    }
}

/// An intervention code: letters, digits, `_` and `-`, upper-cased.
pub fn parse_intervention_code(s: &str) -> Result<String> {
    let t = s.trim().to_ascii_uppercase();
    let valid = !t.is_empty()
        && t.len() <= 32
        && t.starts_with(|c: char| c.is_ascii_alphanumeric())
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid && could_identify(&t) {
        return Err(Error::invalid(
            Field::Code,
            "holds a personnummer or a birth date: a code is printed in every list, report and export; use a short name such as ALLIN",
        ));
    }
    if valid {
        Ok(t)
    } else {
        Err(Error::invalid(
            Field::Code,
            format!(
                "'{}' is not an intervention code: expected 1-32 characters A-Z, 0-9, '_' or '-', e.g. ALLIN",
                shown_text(s)
            ),
        ))
    }
}

/// An intervention's name: 1 to 120 visible characters. Control characters
/// (terminal escapes, newlines) and invisible format characters (bidi
/// overrides, zero-width spaces) are refused: a name is printed in
/// terminals, tables and web pages, and must look like what it is.
pub fn parse_intervention_name(s: &str) -> Result<String> {
    if let Some(c) = s.chars().find(|&c| is_invisible(c)) {
        return Err(Error::invalid(
            Field::Name,
            format!(
                "contains the control or invisible character U+{:04X}: use visible characters only",
                c as u32
            ),
        ));
    }
    let name = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 120 {
        return Err(Error::invalid(Field::Name, "must have 1 to 120 characters"));
    }
    if crate::identity::scrub(&name) != name {
        return Err(Error::invalid(
            Field::Name,
            "holds a personnummer: a name is printed in every list, report and export; name the intervention, not a person",
        ));
    }
    Ok(name)
}

/// A code that would be stored and printed in clear but could name a
/// person: anything `scrub` would mask, or a birth date.
fn could_identify(s: &str) -> bool {
    crate::identity::scrub(s) != s || crate::identity::holds_birth_date(s)
}

/// A control character (Unicode Cc), a line or paragraph separator, or a
/// format character (Cf: bidi controls, zero-width characters, tags) that
/// changes how text around it looks while being invisible itself.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
            | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
            | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFFB | 0x0600..=0x0605 | 0x06DD | 0x070F
            | 0x08E2 | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// What the user typed, for an error message: shortened, with invisible
/// characters shown as `?` so a message cannot carry a terminal escape.
pub fn shown_text(s: &str) -> String {
    // Masked before it is cut: a number straddling the cut would no longer
    // be recognised as one.
    let s = &*crate::identity::scrub(s);
    let mut out: String = s
        .chars()
        .take(40)
        .map(|c| if is_invisible(c) { '?' } else { c })
        .collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// The year of a date, for age computations.
pub fn year_of(d: NaiveDate) -> i32 {
    d.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s, Field::Date).unwrap()
    }

    #[test]
    fn months_follow_the_spec_boundaries() {
        assert_eq!(months_between(d("2021-01-01"), d("2021-01-01")), 1);
        assert_eq!(months_between(d("2021-01-01"), d("2021-01-31")), 1); // 30 days
        assert_eq!(months_between(d("2021-01-01"), d("2021-02-01")), 2); // 31 days > 30.4375
        assert_eq!(months_between(d("2021-01-01"), d("2021-03-03")), 3); // 61 days
        assert_eq!(months_between(d("2021-01-01"), d("2021-07-02")), 6); // 182 days = 5.98
    }

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(d("20210305"), d("2021-03-05"));
        let e = parse_date("5/3/2021", Field::Date).unwrap_err();
        assert_eq!(e.field(), Some(Field::Date));
        assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
        let today = d("2026-11-23");
        assert!(parse_past_date("2026-11-24", Field::Date, today).is_err());
        assert!(parse_past_date("2026-11-23", Field::Date, today).is_ok());
    }

    #[test]
    fn a_day_the_month_lacks_is_named() {
        for (s, want) in [
            ("2021-02-30", "February 2021 has 28 days"),
            ("2020-02-30", "February 2020 has 29 days"),
            ("20210431", "April 2021 has 30 days"),
        ] {
            let e = parse_date(s, Field::ExitDate).unwrap_err();
            assert_eq!(e.field(), Some(Field::ExitDate));
            assert!(e.to_string().contains(want), "{s}: {e}");
            assert!(!e.to_string().contains("--"), "{e}");
        }
        // A month that does not exist is a format error.
        let e = parse_date("2021-13-01", Field::Date).unwrap_err();
        assert!(e.to_string().contains("YYYY-MM-DD"), "{e}");
    }

    #[test]
    fn names_refuse_control_and_invisible_characters() {
        assert_eq!(
            parse_intervention_name("  Steg  för steg ").unwrap(),
            "Steg för steg"
        );
        for bad in [
            "a\u{1b}[31mred",
            "two\nlines",
            "tab\there",
            "rtl\u{202e}gnp",
            "zero\u{200b}width",
            "\u{feff}bom",
        ] {
            let e = parse_intervention_name(bad).unwrap_err();
            assert_eq!(e.field(), Some(Field::Name), "{bad:?}");
            assert!(e.to_string().contains("U+"), "{e}");
        }
        assert!(parse_intervention_name(&"x".repeat(121)).is_err());
        assert!(parse_intervention_name("   ").is_err());
    }

    #[test]
    fn municipalities_are_kommuner() {
        let code = |s: &str| match parse_municipality(s).unwrap() {
            Municipality::Kommun(k) => k.code(),
            m => panic!("{m:?}"),
        };
        assert_eq!(code("  vänersborg "), "1487");
        assert_eq!(code("UPPLANDS VÄSBY"), "0114");
        assert_eq!(code("malung-sälen"), "2023");
        let err = |s: &str| parse_municipality(s).unwrap_err().to_string();
        assert!(!err("19121212-1212").contains("1212"));
        assert!(err("").contains("empty"));
        assert!(err("Vänersbrg").contains("Vänersborg (1487)"));
        assert_eq!(
            parse_municipality("x").unwrap_err().field(),
            Some(Field::Municipality)
        );
    }
}
