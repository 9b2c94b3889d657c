//! Hostile input (SPEC sections 5 and 7): whatever bytes or text reach a
//! parser or the import, the answer is a value or a clean error, never a
//! panic; a failed import writes nothing; and a refused personnummer is
//! never repeated back.
//!
//! Arbitrary bytes rarely get past a CSV header, so besides plain
//! `any::<Vec<u8>>()` the import is fed files built from a grammar: real
//! and junk header names, `,`/`;`/tab, BOM, CRLF, Windows-1252, quoting
//! that is right or wrong, and cells drawn from valid values, near misses
//! and arbitrary text. That reaches phase 2 (the database rules) often.
//!
//! Proptest's failure persistence is off: the tree is shared and the
//! regressions that matter are written out as named tests below.

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use proptest::test_runner::Config;

use sustrack::actor::Actor;
use sustrack::codes::{
    Code, Education, Gender, InterventionKind, Outcome, QualityOfLife, Referrer, StepProgress,
    Support, YearsInSupport,
};
use sustrack::identity::{KdfProfile, Personnummer};
use sustrack::import::{self, decode, sniff_delimiter, Failure, Options};
use sustrack::model::{parse_date, parse_month, parse_municipality, Intervention};
use sustrack::store::Memory as Db;

/// Cases per property. Parsers are cheap; an import builds a database.
/// `PROPTEST_CASES` overrides both, for a deeper run.
const PARSER_CASES: u32 = 2000;
const IMPORT_CASES: u32 = 400;

fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
}

/// Append the Luhn check digit to nine digits (YYMMDDNNN).
fn with_check(nine: &str) -> String {
    let digits: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
    format!("{nine}{}", sustrack::identity::luhn_check_digit(&digits))
}

/// A valid synthetic personnummer `YYYYMMDD-NNNC` for birth date `d`, serial `n`.
fn pnr_for(d: NaiveDate, serial: u32) -> String {
    let ten = with_check(&format!("{}{:03}", d.format("%y%m%d"), serial % 1000));
    format!("{}{}-{}", d.year() / 100, &ten[..6], &ten[6..])
}

/// Has someone born on `d` turned 100 by `today()` (then a 10-digit number takes '+')?
fn turned_100(d: NaiveDate) -> bool {
    let hundredth = NaiveDate::from_ymd_opt(d.year() + 100, d.month(), d.day())
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(d.year() + 100, 3, 1).unwrap());
    hundredth <= today()
}

/// Valid personnummer and samordningsnummer in every accepted form.
fn valid_pnr() -> impl Strategy<Value = String> {
    (0i64..(130 * 365), 0u32..1000, 0u8..4, any::<bool>()).prop_map(|(days, serial, form, samo)| {
        let d = today() - chrono::Duration::days(days + 1);
        let twelve = pnr_for(d, serial);
        let twelve = if samo {
            // Day + 60; the Luhn digit is over the shifted day.
            let nine = format!(
                "{}{:02}{:03}",
                d.format("%y%m"),
                d.day() + 60,
                serial % 1000
            );
            let ten = with_check(&nine);
            format!("{}{}-{}", d.year() / 100, &ten[..6], &ten[6..])
        } else {
            twelve
        };
        match form {
            0 => twelve,
            1 => twelve.replace('-', ""),
            // 10 digits: '+' for those who have turned 100.
            2 if turned_100(d) => format!("{}+{}", &twelve[2..8], &twelve[9..]),
            _ => twelve[2..].to_string(),
        }
    })
}

/// Near misses: a valid number with one character changed, dropped or added.
fn mutated_pnr() -> impl Strategy<Value = String> {
    (
        valid_pnr(),
        any::<prop::sample::Index>(),
        0u8..3,
        "[0-9+\\- a]",
    )
        .prop_map(|(p, at, how, c)| {
            let mut chars: Vec<char> = p.chars().collect();
            let i = at.index(chars.len() + 1);
            let ch = c.chars().next().unwrap();
            match how {
                0 if i < chars.len() => chars[i] = ch,
                1 if i < chars.len() => {
                    chars.remove(i);
                }
                _ => chars.insert(i.min(chars.len()), ch),
            }
            chars.into_iter().collect()
        })
}

fn pnr_input() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9+\\- ]{0,16}",
        "[0-9]{10}|[0-9]{12}|[0-9]{6}[-+][0-9]{4}|[0-9]{8}-[0-9]{4}",
        valid_pnr(),
        mutated_pnr(),
    ]
}

/// The digits a personnummer error may contain: those of its fixed text
/// ("need 10 or 12", "more than 130 years ago"), never the caller's.
fn assert_no_input_digits(input: &str, message: &str) {
    let runs: Vec<&str> = message
        .split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
        .collect();
    for r in &runs {
        assert!(
            ["10", "12", "130"].contains(r),
            "error message has digits '{r}' not from its fixed text: {message:?} (input {input:?})"
        );
    }
    let digits: String = input.chars().filter(char::is_ascii_digit).collect();
    if digits.len() >= 4 {
        for w in digits.as_bytes().windows(4) {
            let w = std::str::from_utf8(w).unwrap();
            assert!(
                !message.contains(w),
                "error message repeats input digits {w}: {message:?}"
            );
        }
    }
}

fn assert_codes_roundtrip<C: Code + std::fmt::Debug>(s: &str) {
    if let Ok(v) = C::parse(s) {
        assert_eq!(C::parse(v.code()).ok(), Some(v), "{s:?}");
        assert_eq!(C::from_code(v.code()), Some(v));
    } else {
        let e = C::parse(s).unwrap_err();
        assert_eq!(e.value, s);
        assert!(!e.accepted.is_empty());
    }
}

// ---------------------------------------------------------------- parsers

proptest! {
    #![proptest_config(config(PARSER_CASES))]

    #[test]
    fn personnummer_parser_never_panics_nor_repeats_the_number(s in pnr_input()) {
        match Personnummer::parse(&s, today()) {
            Ok(p) => {
                let y = p.birth_year();
                prop_assert!((today().year() - 130..=today().year()).contains(&y), "{y}");
                prop_assert_eq!(format!("{p:?} {p}"), "Personnummer(<redacted>) <personnummer>");
            }
            Err(e) => {
                assert_no_input_digits(&s, &e.to_string());
                // The library error the CLI prints is the same text.
                let lib: sustrack::error::Error = e.into();
                assert_no_input_digits(&s, &lib.to_string());
            }
        }
    }

    #[test]
    fn valid_personnummer_are_accepted(s in valid_pnr()) {
        let p = Personnummer::parse(&s, today());
        prop_assert!(p.is_ok(), "{s}: {:?}", p.err());
    }

    #[test]
    fn personnummer_parser_on_bytes(b in any::<Vec<u8>>()) {
        let s = String::from_utf8_lossy(&b);
        if let Err(e) = Personnummer::parse(&s, today()) {
            assert_no_input_digits(&s, &e.to_string());
        }
    }

    #[test]
    fn dates_parse_or_refuse(s in prop_oneof![
        any::<String>(),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}",
        "[ 0-9\\-+/.]{0,12}",
    ]) {
        if let Ok(d) = parse_date(&s, sustrack::error::Field::Date) {
            let t = s.trim();
            prop_assert!(
                d.format("%Y-%m-%d").to_string() == t || d.format("%Y%m%d").to_string() == t,
                "{s:?} -> {d}"
            );
        } else {
            let e = parse_date(&s, sustrack::error::Field::Date).unwrap_err().to_string();
            // Either the shape is wrong, or the day is past the month's end.
            prop_assert!(e.contains("YYYY-MM-DD") || e.contains(" days"), "{e}");
        }
    }

    /// Month strings, restricted to ASCII: see
    /// `month_parser_survives_multibyte_text` for the non-ASCII case.
    #[test]
    fn months_parse_or_refuse(s in prop_oneof![
        "[ -~]{0,10}",
        "[0-9]{4}-[0-9]{2}",
        "[0-9\\- ]{5,9}",
    ]) {
        if let Ok((y, m)) = parse_month(&s) {
            prop_assert!((1..=12).contains(&m));
            prop_assert_eq!(format!("{y:04}-{m:02}"), s.trim());
        }
    }

    #[test]
    fn municipalities_parse_or_refuse(s in prop_oneof![
        any::<String>(),
        "[a-zåäöA-ZÅÄÖ \\-]{0,45}",
        proptest::sample::select(sustrack::kommun::all().to_vec())
            .prop_map(|k| format!(" {} ", k.name().to_uppercase())),
    ]) {
        match parse_municipality(&s) {
            // Whatever was typed, the official name and the code read back
            // as the same kommun: one municipality, one row.
            Ok(m) => {
                prop_assert_eq!(parse_municipality(m.label()).ok(), Some(m.clone()));
                prop_assert_eq!(parse_municipality(m.stored()).ok(), Some(m.clone()));
            }
            // A refusal is one line that quotes no digits.
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(!msg.contains('\n'));
                if s.chars().any(|c| c.is_ascii_digit()) && s.trim().chars().count() > 4 {
                    prop_assert!(!msg.contains(s.trim()), "{}", msg);
                }
            }
        }
    }

    #[test]
    fn codes_parse_or_refuse(s in prop_oneof![
        any::<String>(),
        "[a-zA-ZåäöÅÄÖé_ \\-–/+<>0-9]{0,25}",
    ]) {
        assert_codes_roundtrip::<Gender>(&s);
        assert_codes_roundtrip::<Support>(&s);
        assert_codes_roundtrip::<YearsInSupport>(&s);
        assert_codes_roundtrip::<Education>(&s);
        assert_codes_roundtrip::<Referrer>(&s);
        assert_codes_roundtrip::<Outcome>(&s);
        assert_codes_roundtrip::<StepProgress>(&s);
        assert_codes_roundtrip::<QualityOfLife>(&s);
        assert_codes_roundtrip::<InterventionKind>(&s);
    }

    #[test]
    fn decode_and_sniff_any_bytes(b in any::<Vec<u8>>()) {
        let text = decode(&b);
        // Plain UTF-8 without a BOM comes back unchanged.
        if let Ok(s) = std::str::from_utf8(&b) {
            if !s.starts_with('\u{feff}') {
                prop_assert_eq!(&text, s);
            }
        }
        prop_assert!([b',', b';', b'\t'].contains(&sniff_delimiter(&text)));
    }

    #[test]
    fn sniff_any_text(s in any::<String>()) {
        prop_assert!([b',', b';', b'\t'].contains(&sniff_delimiter(&s)));
    }
}

// ----------------------------------------------------------------- import

/// A fresh in-memory database with an individual intervention `T` and a
/// volume intervention `V`.
fn fresh_db() -> Db {
    let db = Db::open(KdfProfile::Test).unwrap();
    for (code, kind) in [
        ("T", InterventionKind::Individual),
        ("V", InterventionKind::Volume),
    ] {
        sustrack::register::intervention_add(
            &db.conn,
            &Actor::owner("t"),
            Intervention {
                code: code.into(),
                name: format!("test {code}"),
                parent: None,
                kind,
                target_work_studies: None,
                target_step: None,
                target_qol: None,
            },
        )
        .unwrap();
    }
    db
}

fn count(db: &Db, sql: &str) -> i64 {
    db.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Everything an import may write besides what `fresh_db` holds.
fn written(db: &Db) -> (i64, i64, i64, i64, i64) {
    (
        count(db, "SELECT count(*) FROM enrolment"),
        count(db, "SELECT count(*) FROM person"),
        count(db, "SELECT count(*) FROM volume"),
        count(db, "SELECT count(*) FROM intervention"),
        count(db, "SELECT count(*) FROM audit"),
    )
}

/// Import `bytes` into a fresh database and check the contract: a summary
/// or a clean failure, and after a failure (or a dry run) nothing written.
fn import_checked(bytes: &[u8], dry_run: bool) -> Result<import::Summary, Failure> {
    let mut db = fresh_db();
    let before = written(&db);
    let opts = Options {
        dry_run,
        today: today(),
        progress: false,
    };
    let r = import::import(&mut db.conn, &db.kdf, &Actor::owner("t"), bytes, &opts);
    match &r {
        Ok(s) if !dry_run => {
            let (enrolments, ..) = written(&db);
            assert_eq!(enrolments as u64, s.starts, "summary {s:?}");
        }
        Ok(_) => assert_eq!(written(&db), before, "a dry run wrote something"),
        Err(Failure::Rows(rows)) => {
            assert!(!rows.is_empty());
            for e in rows {
                assert!(e.line >= 1, "{e}");
                assert!(!e.reason.is_empty(), "{e}");
            }
            assert_eq!(written(&db), before, "a failed import wrote something");
        }
        Err(Failure::Fatal(e)) => {
            assert!(!e.to_string().is_empty());
            assert_eq!(written(&db), before, "a failed import wrote something");
        }
    }
    r
}

const REG_HEADER: &[&str] = &[
    "event",
    "intervention",
    "pnr",
    "consent",
    "local_id",
    "gender",
    "birth_year",
    "date",
    "municipality",
    "support",
    "years_in_support",
    "education",
    "referrer",
    "outcome",
    "support_after",
    "step_progress",
    "quality_of_life",
];

/// The canonical column a header name stands for ("junk" if none).
fn canonical(name: &str) -> &'static str {
    let aliases: &[(&str, &'static str)] = &[
        ("händelse", "event"),
        ("insats", "intervention"),
        ("personnummer", "pnr"),
        ("samtycke", "consent"),
        ("datum", "date"),
        ("kommun", "municipality"),
        ("utfall", "outcome"),
        ("lopnummer", "local_id"),
        ("kön", "gender"),
    ];
    let n = name.trim().to_lowercase();
    if let Some((_, c)) = aliases.iter().find(|(a, _)| *a == n) {
        return c;
    }
    REG_HEADER
        .iter()
        .chain(&[
            "code",
            "name",
            "parent",
            "kind",
            "target_work_studies",
            "month",
            "women",
            "men",
        ])
        .find(|c| **c == n)
        .copied()
        .unwrap_or("junk")
}

/// Three people with personnummer (consent given), three anonymous local ids.
fn people() -> Vec<String> {
    let mut v: Vec<String> = (0..3)
        .map(|i| {
            pnr_for(
                NaiveDate::from_ymd_opt(1970 + i, 3, 14).unwrap(),
                100 + i as u32,
            )
        })
        .collect();
    v.extend(["L1", "L2", "L3"].map(String::from));
    v
}

/// A row that makes sense: a start or exit of one of `people()`, valid
/// codes, past dates. Such rows still meet the rules of phase 2 (an exit
/// without a start, a second open enrolment, an exit before its start).
fn good_row(columns: &[&'static str]) -> BoxedStrategy<Vec<String>> {
    let columns = columns.to_vec();
    (
        any::<bool>(),
        0usize..6,
        0usize..4,
        prop::collection::vec(0usize..4, columns.len()),
    )
        .prop_map(move |(is_start, who, date, picks)| {
            let people = people();
            let anonymous = who >= 3;
            let choose = |i: usize, v: &[&str]| v[picks[i] % v.len()].to_string();
            columns
                .iter()
                .enumerate()
                .map(|(i, c)| match *c {
                    "event" => choose(
                        i,
                        if is_start {
                            &["start", "Start", "in"]
                        } else {
                            &["exit", "avslut"]
                        },
                    ),
                    "intervention" | "parent" => choose(i, &["T", "t", " T "]),
                    "pnr" if !anonymous => people[who].clone(),
                    "local_id" if anonymous => people[who].clone(),
                    "consent" if is_start && !anonymous => choose(i, &["yes", "ja", "x"]),
                    "gender" if anonymous => choose(i, &["K", "M", "Kvinna", "man"]),
                    "birth_year" if anonymous => choose(i, &["1980", "1990", "", "2001"]),
                    "date" => ["2021-01-05", "20210301", "2021-06-30", "2022-02-01"][date].into(),
                    "municipality" if is_start => {
                        choose(i, &["Vänersborg", "malung-sälen", "", "Trollhättan"])
                    }
                    "support" if is_start => {
                        choose(i, &["social_assistance", "Försörjningsstöd", "wage", ""])
                    }
                    "years_in_support" if is_start => choose(i, &["0-1", "9+", "1–3", "na"]),
                    "education" if is_start => {
                        choose(i, &["compulsory", "Gymnasial", "högskola", ""])
                    }
                    "referrer" if is_start => choose(i, &["af", "fk", "Kommun", "egen"]),
                    "outcome" if !is_start => choose(i, &["work", "Arbete", "studies", "avbrott"]),
                    "support_after" if !is_start => choose(i, &["wage", "", "Studiemedel", "none"]),
                    "step_progress" if !is_start => choose(i, &["yes", "nej", "okänt", ""]),
                    "quality_of_life" if !is_start => {
                        choose(i, &["improved", "sämre", "samma", ""])
                    }
                    "code" => choose(i, &["NEW1", "NEW2", "T", "new-3"]),
                    "name" => choose(i, &["Ny insats", "test T", "Å", "x"]),
                    "kind" => choose(i, &["individual", "volym", "", "grupp"]),
                    "target_work_studies" => choose(i, &["40", "40 %", "", "12,5"]),
                    "month" => choose(i, &["2021-01", "2021-02", "2021-03", "2021-01"]),
                    "women" | "men" => choose(i, &["0", "3", "12", "1"]),
                    _ => String::new(),
                })
                .collect()
        })
        .boxed()
}

/// Cells worth trying in each column: valid values, near misses, junk.
fn cell_for(column: &str) -> BoxedStrategy<String> {
    let pick = |v: &[&str]| {
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        prop::sample::select(v).boxed()
    };
    let valid = match column {
        "event" => pick(&["start", "exit", "avslut", "Start", "in", "ut"]),
        "intervention" | "parent" | "code" => pick(&["T", "t", " T ", "V", "NOPE", "T-1", "-X"]),
        "pnr" => prop_oneof![valid_pnr(), mutated_pnr()].boxed(),
        "consent" => pick(&["yes", "ja", "no", "x", "1"]),
        "local_id" => pick(&["L1", "L2", "L3", "a/b", "19121212-1212"]),
        "gender" => pick(&["K", "M", "woman", "man", "Kvinna", "?"]),
        "birth_year" => pick(&["1980", "1899", "2030", "19x0"]),
        "date" | "month" => pick(&[
            "2021-01-05",
            "2021-03-01",
            "20210601",
            "2022-02-30",
            "2099-01-01",
            "2021-02",
            "2021-13",
            "2099-01",
        ]),
        "municipality" | "name" => pick(&["Vänersborg", "malung-sälen", "x1", "Trollhättan"]),
        "support" | "support_after" => {
            pick(&["social_assistance", "Försörjningsstöd", "wage", "fbs"])
        }
        "years_in_support" => pick(&["0-1", "9+", "1–3", "na", "10"]),
        "education" => pick(&["compulsory", "Gymnasial", "högskola"]),
        "referrer" => pick(&["af", "fk", "Kommun", "egen"]),
        "outcome" => pick(&["work", "Arbete", "studies", "holiday", "avbrott"]),
        "step_progress" => pick(&["yes", "nej", "okänt"]),
        "quality_of_life" => pick(&["improved", "sämre", "samma"]),
        "kind" => pick(&["individual", "volume", "both"]),
        "target_work_studies" => pick(&["40", "101", "-1", "NaN", "inf"]),
        "women" | "men" => pick(&["0", "3", "-1", "4294967296", "1.5"]),
        _ => pick(&["x", ""]),
    };
    // Non-ASCII junk is kept out of month cells: see
    // `month_parser_survives_multibyte_text`.
    let junk = if column == "month" {
        "[ -~]{0,10}".boxed()
    } else {
        prop_oneof![any::<String>(), "[ -~]{0,10}"].boxed()
    };
    prop_oneof![6 => valid, 2 => Just(String::new()), 1 => junk].boxed()
}

fn hostile_row(columns: &[&'static str]) -> BoxedStrategy<Vec<String>> {
    columns
        .iter()
        .map(|c| cell_for(c))
        .collect::<Vec<_>>()
        .boxed()
}

/// Put a cell in a CSV line: quoted properly, or raw (which may break the
/// row, on purpose).
fn render_cell(cell: &str, quote: u8, delimiter: char) -> String {
    match quote {
        0 => format!("\"{}\"", cell.replace('"', "\"\"")),
        1 | 2 if cell.contains([delimiter, '"', '\n', '\r']) => {
            format!("\"{}\"", cell.replace('"', "\"\""))
        }
        _ => cell.to_string(),
    }
}

#[derive(Debug, Clone)]
struct CsvFile {
    bytes: Vec<u8>,
}

/// A file in one of the three kinds (registrations, interventions,
/// volumes), with hostile variations in header, framing and cells.
fn csv_file() -> impl Strategy<Value = CsvFile> {
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let header = prop_oneof![
        4 => Just(names(REG_HEADER)),
        // A shuffled subset of the registration columns.
        2 => prop::sample::subsequence(REG_HEADER.to_vec(), 3..=REG_HEADER.len())
            .prop_shuffle()
            .prop_map(move |v| names(&v)),
        1 => Just(names(&["händelse", "Insats", "personnummer", "samtycke", "datum", "kommun",
                          "utfall", "lopnummer", "kön"])),
        1 => Just(names(&["intervention", "month", "women", "men"])),
        1 => Just(names(&["code", "name", "parent", "kind", "target_work_studies"])),
        1 => prop::collection::vec("[ -~]{0,8}", 1..5),
    ];
    header
        .prop_flat_map(|h| {
            let columns: Vec<&'static str> = h.iter().map(|n| canonical(n)).collect();
            let row = prop_oneof![
                6 => good_row(&columns),
                1 => hostile_row(&columns),
            ];
            (
                Just(h),
                // (cells, quoting: 0 all quoted, 1-2 as needed, 3 raw; trailing empty columns)
                prop::collection::vec((row, 0u8..4, 0usize..3), 0..8),
                prop::sample::select(vec![',', ';', '\t']),
                0u8..3,        // encoding: 0 UTF-8, 1 UTF-8 with BOM, 2 Windows-1252
                any::<bool>(), // CRLF
                0usize..3,     // blank lines and trailing empty columns
            )
        })
        .prop_map(|(header, rows, delimiter, encoding, crlf, padding)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let sep = delimiter.to_string();
            let line = |cells: &[String], quote: u8| {
                cells
                    .iter()
                    .map(|c| render_cell(c, quote, delimiter))
                    .collect::<Vec<_>>()
                    .join(&sep)
            };
            let mut text = eol.repeat(padding % 2);
            text.push_str(&line(&header, 1));
            text.push_str(&sep.repeat(padding));
            text.push_str(eol);
            for (cells, quote, pad) in rows {
                text.push_str(&line(&cells, quote));
                text.push_str(&sep.repeat(pad));
                text.push_str(eol);
                if pad == 2 {
                    text.push_str(eol);
                }
            }
            let bytes = match encoding {
                0 => text.into_bytes(),
                1 => {
                    let mut b = vec![0xEF, 0xBB, 0xBF];
                    b.extend(text.into_bytes());
                    b
                }
                _ => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
            };
            CsvFile { bytes }
        })
}

proptest! {
    #![proptest_config(config(IMPORT_CASES))]

    #[test]
    fn import_of_arbitrary_bytes_is_clean(b in any::<Vec<u8>>(), dry in any::<bool>()) {
        let _ = import_checked(&b, dry);
    }

    #[test]
    fn import_of_hostile_csv_is_clean(f in csv_file(), dry in any::<bool>()) {
        let _ = import_checked(&f.bytes, dry);
    }

    /// Prefixes of a valid file (a file cut off mid-write, mid-quote,
    /// mid-character) import or fail cleanly.
    #[test]
    fn import_of_truncated_files_is_clean(f in csv_file(), cut in any::<prop::sample::Index>()) {
        let n = cut.index(f.bytes.len() + 1);
        let _ = import_checked(&f.bytes[..n], false);
    }
}

/// The import reaches its rules and its writes, not only its error paths:
/// a share of the generated files import successfully. Without this the
/// properties above could pass by rejecting everything at the header.
#[test]
fn hostile_csv_generator_reaches_phase_two() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut rows_rejected, mut fatal) = (0, 0, 0);
    for _ in 0..300 {
        let f = csv_file().new_tree(&mut runner).unwrap().current();
        match import_checked(&f.bytes, false) {
            Ok(s) if s.starts + s.exits + s.volumes + s.interventions > 0 => ok += 1,
            Ok(_) => {}
            Err(Failure::Rows(_)) => rows_rejected += 1,
            Err(Failure::Fatal(_)) => fatal += 1,
        }
    }
    eprintln!("phase two: ok {ok}, rows rejected {rows_rejected}, fatal {fatal}");
    assert!(
        ok >= 5,
        "only {ok} of 300 files imported something (rows rejected {rows_rejected}, fatal {fatal})"
    );
    assert!(rows_rejected >= 30, "{rows_rejected}");
}

// ------------------------------------------------------ named regressions

#[test]
fn personnummer_errors_name_no_digits() {
    let p = pnr_for(NaiveDate::from_ymd_opt(1985, 6, 30).unwrap(), 123);
    let mut bad_check = p.clone();
    let last = bad_check.pop().unwrap();
    bad_check.push(if last == '9' {
        '0'
    } else {
        (last as u8 + 1) as char
    });
    for bad in [
        bad_check.as_str(),
        &p[..p.len() - 1],
        &format!("{p}-"),
        &format!("{}+{}", &p[2..8], &p[9..]),
        &format!("x{p}"),
        "20991212-1212",
    ] {
        let e = Personnummer::parse(bad, today()).unwrap_err().to_string();
        assert_no_input_digits(bad, &e);
    }
}

#[test]
fn import_of_bom_crlf_windows_1252_file() {
    let text =
        "\u{feff}event;intervention;pnr;consent;local_id;gender;date;municipality;outcome;;\r\n\
                start;T;;;L1;K;2021-01-05;Vänersborg;;;\r\n\
                \r\n\
                exit;T;;;L1;;2021-06-05;;Arbete;;\r\n";
    let s = import_checked(text.as_bytes(), false).unwrap();
    assert_eq!((s.starts, s.exits), (1, 1));
    let cp1252 = encoding_rs::WINDOWS_1252
        .encode(text.trim_start_matches('\u{feff}'))
        .0
        .into_owned();
    assert!(std::str::from_utf8(&cp1252).is_err());
    let s = import_checked(&cp1252, false).unwrap();
    assert_eq!((s.starts, s.exits), (1, 1));
}

/// `parse_month` slices the string by byte offset after checking only its
/// byte length, so a 7-byte string with a multi-byte character across
/// offset 4 or 5 panics ("byte index 4 is not a char boundary"). Through
/// `import`, one such cell in the month column of a volume file takes the
/// whole process down. Ignored until src/model.rs is fixed; run with
/// `cargo test --test hostile_input -- --ignored`.
#[test]

fn month_parser_survives_multibyte_text() {
    for s in ["202é01", "2021-é", "é2021-1", "2021-1é", "ö-ö-ö"] {
        let r = std::panic::catch_unwind(|| parse_month(s).is_ok());
        assert!(r.is_ok(), "parse_month({s:?}) panicked");
    }
    let file = "intervention,month,women,men\nV,202é01,1,1\n";
    let r = std::panic::catch_unwind(|| import_checked(file.as_bytes(), false).is_ok());
    assert!(
        r.is_ok(),
        "import of a volume file with month 202é01 panicked"
    );
    // What the fuzzer found (fuzz/, 85 s in): Windows-1252 text, whose
    // non-breaking space 0xA0 decodes to two bytes of UTF-8.
    let cp1252: &[u8] = b"intervention,month,women,men\nV,202\xa001,1,1\n";
    let r = std::panic::catch_unwind(|| import_checked(cp1252, false).is_ok());
    assert!(
        r.is_ok(),
        "import of a Windows-1252 volume file with month 202<NBSP>01 panicked"
    );
}

/// A personnummer that lands in the wrong column (a shifted row, a
/// misnamed header) must not be echoed on stderr by the error for that
/// column (SPEC 5: never printed in clear). `sustrack --by` already masks
/// one as `<personnummer>`; the import's cell errors do not.
#[test]

fn import_errors_never_echo_a_personnummer() {
    let p = pnr_for(NaiveDate::from_ymd_opt(1985, 6, 30).unwrap(), 123);
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    let mut leaks = Vec::new();
    for column in [
        "date",
        "municipality",
        "gender",
        "birth_year",
        "support",
        "years_in_support",
        "education",
        "referrer",
        "intervention",
    ] {
        let mut header = vec!["event", "intervention", "local_id", "gender", "date"];
        let mut cells = vec!["start", "T", "L1", "K", "2021-01-05"];
        match header.iter().position(|h| *h == column) {
            Some(i) => cells[i] = &p,
            None => {
                header.push(column);
                cells.push(&p);
            }
        }
        let file = format!("{}\n{}\n", header.join(","), cells.join(","));
        let Err(Failure::Rows(rows)) = import_checked(file.as_bytes(), false) else {
            panic!("a personnummer in column {column} was accepted");
        };
        for e in rows {
            let shown = e.to_string();
            let shown_digits: String = shown.chars().filter(char::is_ascii_digit).collect();
            if shown_digits.contains(&digits[2..]) {
                leaks.push(shown);
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "errors that show the personnummer:\n{}",
        leaks.join("\n")
    );
}
