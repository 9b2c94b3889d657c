//! Plain domain types shared by the store, the rules, reports and exports,
//! and the small parsers for values users type (dates, months, years,
//! municipalities, percentages).

use chrono::{Datelike, NaiveDate};

use crate::codes::{
    Education, Gender, InterventionKind, Outcome, QualityOfLife, Referrer, StepProgress, Support,
    YearsInSupport,
};
use crate::error::{Error, Field, Result};
use crate::invalid;
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

/// Parse `YYYY-MM-DD` or `YYYYMMDD`. `field` names the option in errors.
pub fn parse_date(s: &str, field: &str) -> Result<NaiveDate> {
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
    match (y, m, d) {
        (Some(y), Some(m), Some(d)) if y >= 1900 => NaiveDate::from_ymd_opt(y as i32, m, d),
        _ => None,
    }
    .ok_or_else(|| {
        invalid!("invalid {field} '{s}': expected a date as YYYY-MM-DD or YYYYMMDD (from 1900)")
    })
}

/// A date that must not be after `today`.
pub fn parse_past_date(s: &str, field: &str, today: NaiveDate) -> Result<NaiveDate> {
    let d = parse_date(s, field)?;
    if d > today {
        return Err(invalid!(
            "invalid {field} '{s}': it is in the future (today is {today})"
        ));
    }
    Ok(d)
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
        _ => Err(invalid!(
            "invalid month '{s}': expected YYYY-MM, e.g. 2021-03"
        )),
    }
}

/// A birth year for anonymous participants: 1900 up to this year.
pub fn parse_birth_year(s: &str, today: NaiveDate) -> Result<i32> {
    match s.trim().parse::<i32>() {
        Ok(y) if (1900..=today.year()).contains(&y) => Ok(y),
        // The value is not repeated: it may be a whole birth date.
        _ => Err(Error::invalid(
            Field::BirthYear,
            format!("expected a four-digit year from 1900 to {}", today.year()),
        )),
    }
}

/// A municipality as typed: a kommun's name (any case, normalisation or
/// diacritics) or its kommunkod; see `kommun` for what is accepted.
pub fn parse_municipality(s: &str) -> Result<Municipality> {
    Kommun::parse(s)
        .map(Municipality::Kommun)
        .map_err(|e| Error::invalid(Field::Municipality, e.to_string()))
}

/// A target given in percent (0-100), stored as a fraction.
pub fn parse_percent(s: &str, field: &str) -> Result<f64> {
    let t = s.trim().trim_end_matches('%').trim().replace(',', ".");
    match t.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v / 100.0),
        _ => Err(invalid!(
            "invalid {field} '{s}': expected a percentage from 0 to 100, e.g. 40"
        )),
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
    if valid {
        Ok(t)
    } else {
        Err(invalid!(
            "invalid intervention code '{s}': expected 1-32 characters A-Z, 0-9, '_' or '-', e.g. ALLIN"
        ))
    }
}

/// The year of a date, for age computations.
pub fn year_of(d: NaiveDate) -> i32 {
    d.year()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s, "date").unwrap()
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
        assert!(parse_date("2021-02-30", "--date")
            .unwrap_err()
            .to_string()
            .contains("--date '2021-02-30'"));
        assert!(parse_date("5/3/2021", "--date").is_err());
        let today = d("2026-11-23");
        assert!(parse_past_date("2026-11-24", "--date", today).is_err());
        assert!(parse_past_date("2026-11-23", "--date", today).is_ok());
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
