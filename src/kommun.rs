//! Sweden's 290 kommuner and the one parser for a municipality as people
//! type it.
//!
//! The list is `data/kommuner.csv` (SCB's kommunkod, the official name, the
//! länskod), compiled into the binary. A municipality is stored as its
//! four-digit kommunkod, so every spelling of one kommun counts as one row.
//!
//! The parser accepts a four-digit kommunkod (three digits, what a
//! spreadsheet leaves of 0114, are refused saying "write 0114": "148" may
//! be 1487 missing a digit) or a name in any case, in either Unicode
//! normalisation (a decomposed "ä" from macOS or a copy-paste is the same
//! letter), with or without its diacritics, with hyphens or spaces between
//! words, and with a trailing "kommun" or "stad" ("Vänersborgs kommun",
//! "Göteborgs stad"); "Region Gotland" is Gotland. Two official names fold
//! to one string without diacritics (Habo 0643 and Håbo 0305), so an exact
//! spelling always wins over a folded one, and a spelling that could be
//! either (such as "Häbo") is refused naming both, never guessed.
//!
//! `Municipality` is what an enrolment holds: a kommun, or a name stored
//! before the code list (schema version 1) that matches no kommun, which is
//! kept as it was (SPEC section 14) until someone corrects it.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

const CSV: &str = include_str!("../data/kommuner.csv");

/// Names that are not a kommun's official name but say one exactly.
const ALIASES: &[(&str, &str)] = &[("Region Gotland", "0980")];

/// Endings that make a name "X kommun" or "X stad"; the genitive "s" before
/// them is tried away too ("Vänersborgs kommun").
const SUFFIXES: &[&str] = &[" kommun", " stad", " municipality"];

/// Longer input is refused without being quoted: the longest official name
/// has 14 characters, and a long cell is not worth echoing.
const MAX_QUOTED: usize = 40;

/// One of Sweden's kommuner. Only the list hands them out, so a `Kommun`
/// always has a valid code and its official name.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kommun {
    code: &'static str,
    name: &'static str,
    county: &'static str,
}

impl Kommun {
    /// The four-digit kommunkod, e.g. "1487".
    pub fn code(self) -> &'static str {
        self.code
    }

    /// The official name, e.g. "Vänersborg".
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The two-digit länskod, e.g. "14".
    pub fn county_code(self) -> &'static str {
        self.county
    }

    /// The kommun with this exact four-digit code.
    pub fn from_code(code: &str) -> Option<Kommun> {
        TABLE.by_code.get(code).map(|&i| TABLE.all[i])
    }

    /// A kommun from a name or a code as a person typed it (module note).
    pub fn parse(input: &str) -> Result<Kommun, Unmatched> {
        parse(input)
    }
}

impl fmt::Debug for Kommun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.code)
    }
}

impl fmt::Display for Kommun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Every kommun, in kommunkod order.
pub fn all() -> &'static [Kommun] {
    &TABLE.all
}

/// Why an input names no kommun. Its `Display` is one sentence that says
/// what would be accepted; it quotes the input only when that is short and
/// has no digits (a mistyped personnummer or birth date is never echoed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatched {
    Empty,
    /// Four digits that are no kommunkod.
    NoSuchCode(String),
    /// Three digits: a code a spreadsheet stripped of its leading zero,
    /// or a four-digit code missing a digit. Not guessed.
    ThreeDigits {
        input: String,
        padded: Option<Kommun>,
    },
    /// Digits, control characters or signs no kommun name has.
    NotAName,
    TooLong {
        chars: usize,
    },
    /// A spelling that folds to more than one kommun.
    Ambiguous {
        input: String,
        candidates: Vec<Kommun>,
    },
    /// No kommun by that name; the nearest names, best first (at most 3).
    Unknown {
        input: String,
        nearest: Vec<Kommun>,
    },
}

impl Unmatched {
    /// What to write instead, when there is a good guess ("did you mean
    /// Vänersborg (1487)?"), for messages that add their own context.
    pub fn hint(&self) -> Option<String> {
        match self {
            Unmatched::Ambiguous { candidates, .. } => {
                Some(format!("it could be {}", listed(candidates, "or")))
            }
            Unmatched::Unknown { nearest, .. } if !nearest.is_empty() => {
                Some(format!("did you mean {}?", listed(nearest, "or")))
            }
            _ => None,
        }
    }
}

fn listed(ks: &[Kommun], last: &str) -> String {
    let names: Vec<String> = ks
        .iter()
        .map(|k| format!("{} ({})", k.name, k.code))
        .collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., tail] => format!("{} {last} {tail}", init.join(", ")),
    }
}

const ACCEPTED: &str = "give a kommun's name or its four-digit kommunkod, e.g. Vänersborg or 1487";

impl fmt::Display for Unmatched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unmatched::Empty => write!(f, "the municipality is empty: {ACCEPTED}"),
            Unmatched::NoSuchCode(c) => write!(
                f,
                "{c} is no kommun's kommunkod; {ACCEPTED}"
            ),
            Unmatched::ThreeDigits { input, padded: Some(k) } => write!(
                f,
                "invalid municipality {input}: a kommunkod has four digits; for {} write {} \
                 (a spreadsheet drops the leading zero unless the column is formatted as text)",
                k.name, k.code
            ),
            Unmatched::ThreeDigits { input, padded: None } => write!(
                f,
                "invalid municipality {input}: a kommunkod has four digits; {ACCEPTED}"
            ),
            Unmatched::NotAName => write!(
                f,
                "invalid municipality (it has digits or signs no kommun name has, so it is not shown): {ACCEPTED}"
            ),
            Unmatched::TooLong { chars } => write!(
                f,
                "invalid municipality ({chars} characters, so it is not shown): {ACCEPTED}"
            ),
            Unmatched::Ambiguous { input, candidates } => write!(
                f,
                "municipality '{input}' could be {}: write it with its å, ä or ö, or give the kommunkod",
                listed(candidates, "or")
            ),
            Unmatched::Unknown { input, nearest } if nearest.is_empty() => write!(
                f,
                "'{input}' is none of Sweden's 290 kommuner; {ACCEPTED}"
            ),
            Unmatched::Unknown { input, nearest } => write!(
                f,
                "'{input}' is not a kommun: did you mean {}? {}",
                listed(nearest, "or"),
                upper_first(ACCEPTED)
            ),
        }
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What an enrolment holds: a kommun, or text stored before municipalities
/// were a code list that matches no kommun (kept as stored; `sustrack check`
/// lists it). Input is always parsed to a kommun: only the store reads the
/// second kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Municipality {
    Kommun(Kommun),
    Unmatched(String),
}

impl Municipality {
    /// Read a stored value: a kommunkod is a kommun, anything else is kept.
    pub fn from_stored(s: &str) -> Municipality {
        match Kommun::from_code(s) {
            Some(k) => Municipality::Kommun(k),
            None => Municipality::Unmatched(s.to_string()),
        }
    }

    /// What the database holds: the kommunkod, or the legacy text.
    pub fn stored(&self) -> &str {
        match self {
            Municipality::Kommun(k) => k.code,
            Municipality::Unmatched(s) => s,
        }
    }

    /// What people read: the official name, or the legacy text.
    pub fn label(&self) -> &str {
        match self {
            Municipality::Kommun(k) => k.name,
            Municipality::Unmatched(s) => s,
        }
    }
}

impl fmt::Display for Municipality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl rusqlite::types::ToSql for Municipality {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(self.stored()))
    }
}

impl rusqlite::types::FromSql for Municipality {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        Ok(Municipality::from_stored(v.as_str()?))
    }
}

struct Table {
    all: Vec<Kommun>,
    by_code: HashMap<&'static str, usize>,
    /// Exact spelling (case, normalisation, spacing aside): one kommun each.
    exact: HashMap<String, usize>,
    /// Without diacritics: Habo and Håbo share "habo".
    folded: HashMap<String, Vec<usize>>,
}

static TABLE: LazyLock<Table> = LazyLock::new(load);

fn load() -> Table {
    let mut all = Vec::with_capacity(290);
    // The file is ours and checked by the tests below; a broken copy is a
    // build mistake, not an input error.
    for line in CSV.lines().skip(1).filter(|l| !l.is_empty()) {
        let mut f = line.split(',');
        let (Some(code), Some(name), Some(county), None) = (f.next(), f.next(), f.next(), f.next())
        else {
            panic!("data/kommuner.csv: malformed line '{line}'");
        };
        all.push(Kommun { code, name, county });
    }
    all.sort_by_key(|k| k.code);
    let mut t = Table {
        by_code: all.iter().enumerate().map(|(i, k)| (k.code, i)).collect(),
        exact: HashMap::new(),
        folded: HashMap::new(),
        all,
    };
    let names = t.all.iter().enumerate().map(|(i, k)| (k.name, i));
    let aliases = ALIASES
        .iter()
        .map(|&(alias, code)| (alias, t.by_code[code]));
    for (name, i) in names.chain(aliases).collect::<Vec<_>>() {
        t.exact.insert(exact_key(name), i);
        let v = t.folded.entry(folded_key(name)).or_default();
        if !v.contains(&i) {
            v.push(i);
        }
    }
    t
}

fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}'
    )
}

/// Lower case, words separated by one space, hyphens as spaces.
fn words(s: impl Iterator<Item = char>) -> String {
    let spaced: String = s
        .map(|c| if is_dash(c) { ' ' } else { c })
        .flat_map(char::to_lowercase)
        .collect();
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The spelling as written, whatever its normalisation (NFC).
fn exact_key(s: &str) -> String {
    words(s.nfc())
}

/// The spelling without diacritics: compatibility decomposition (NFKD)
/// splits "å" into "a" and a combining ring, which is dropped; æ and ø have
/// no decomposition and are folded by hand (a Danish or Norwegian keyboard).
fn folded_key(s: &str) -> String {
    let folded = words(s.nfkd().filter(|&c| !is_combining_mark(c)));
    folded.replace('æ', "a").replace('ø', "o")
}

/// The key and the same key without "kommun"/"stad" (and a genitive "s").
fn variants(key: String) -> Vec<String> {
    let mut out = vec![key];
    let first = out[0].clone();
    for suffix in SUFFIXES {
        if let Some(base) = first.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            out.push(base.to_string());
            if let Some(stem) = base.strip_suffix('s').filter(|b| !b.is_empty()) {
                out.push(stem.to_string());
            }
        }
    }
    out
}

fn parse(input: &str) -> Result<Kommun, Unmatched> {
    let t = input.trim();
    if t.is_empty() {
        return Err(Unmatched::Empty);
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return match t.len() {
            4 => Kommun::from_code(t).ok_or_else(|| Unmatched::NoSuchCode(t.to_string())),
            // Excel reads 0114 as the number 114, but "148" may as well be
            // 1487 missing a digit: say which it would be, never guess.
            3 => Err(Unmatched::ThreeDigits {
                input: t.to_string(),
                padded: Kommun::from_code(&format!("0{t}")),
            }),
            _ => Err(Unmatched::NotAName),
        };
    }
    // Only letters, spaces and dashes are ever quoted back: no digits (a
    // mistyped personnummer or birth date), no control characters (a
    // terminal escape, a line break in a one-line message).
    let name_like = |c: char| {
        c.is_alphabetic()
            || is_combining_mark(c)
            || is_dash(c)
            || (c.is_whitespace() && !c.is_control())
    };
    if !t.chars().all(name_like) {
        return Err(Unmatched::NotAName);
    }
    let chars = t.chars().count();
    if chars > MAX_QUOTED {
        return Err(Unmatched::TooLong { chars });
    }
    let table = &*TABLE;
    let exact = variants(exact_key(t));
    if let Some(&i) = exact.iter().find_map(|k| table.exact.get(k)) {
        return Ok(table.all[i]);
    }
    let folded = variants(folded_key(t));
    if let Some(found) = folded.iter().find_map(|k| table.folded.get(k)) {
        return match found.as_slice() {
            [i] => Ok(table.all[*i]),
            many => Err(Unmatched::Ambiguous {
                input: t.nfc().collect(),
                candidates: many.iter().map(|&i| table.all[i]).collect(),
            }),
        };
    }
    Err(Unmatched::Unknown {
        input: t.nfc().collect(),
        nearest: nearest(&folded),
    })
}

/// Up to three kommuner whose folded names are within a few edits of the
/// input (about one edit in three characters), nearest first. Damerau
/// distance, so a swapped pair of letters is one slip.
fn nearest(variants: &[String]) -> Vec<Kommun> {
    let table = &*TABLE;
    let mut scored: Vec<(usize, Kommun)> = table
        .all
        .iter()
        .filter_map(|&k| {
            let name = folded_key(k.name);
            variants
                .iter()
                .filter_map(|v| {
                    let d = strsim::damerau_levenshtein(v, &name);
                    (d <= v.chars().count().div_ceil(3)).then_some(d)
                })
                .min()
                .map(|d| (d, k))
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(b.1.name)));
    // Only names about as near as the nearest: a one-letter slip is not
    // offered three names three edits away.
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .take_while(|s| s.0 <= best + 1)
        .take(3)
        .map(|(_, k)| k)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(s: &str) -> &'static str {
        parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")).code()
    }

    #[test]
    fn the_list_has_290_kommuner_with_distinct_four_digit_codes() {
        assert_eq!(all().len(), 290);
        assert_eq!(TABLE.by_code.len(), 290);
        for k in all() {
            assert!(k.code.len() == 4 && k.code.bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(&k.code[..2], k.county, "{k:?}");
            assert_eq!(Kommun::from_code(k.code), Some(*k));
        }
        assert_eq!(
            Kommun::from_code("1487").map(Kommun::name),
            Some("Vänersborg")
        );
    }

    #[test]
    fn every_name_and_code_round_trips_in_every_form() {
        for &k in all() {
            let n = k.name;
            let forms = [
                n.to_string(),
                n.to_lowercase(),
                n.to_uppercase(),
                n.nfd().collect(),
                format!("  {}  ", n.replace(' ', "   ")),
                n.replace('-', " "),
                n.replace(' ', "-"),
                format!("{n} kommun"),
                k.code.to_string(),
            ];
            for f in forms {
                assert_eq!(parse(&f), Ok(k), "{f:?}");
            }
            // Without diacritics, unless another kommun then has that exact name.
            let bare = folded_key(n);
            if TABLE.folded[&bare].len() == 1 {
                assert_eq!(parse(&bare), Ok(k), "{bare:?}");
            }
        }
    }

    #[test]
    fn three_spellings_of_vanersborg_are_one_kommun() {
        assert_eq!(code("Vänersborg"), "1487");
        assert_eq!(code("vanersborg"), "1487");
        assert_eq!(code("Va\u{0308}nersborg"), "1487"); // decomposed ä
        assert_eq!(code("VÄNERSBORG"), "1487");
        assert_eq!(code("Vänersborgs kommun"), "1487");
        assert_eq!(Kommun::parse("vanersborg").unwrap().name(), "Vänersborg");
    }

    #[test]
    fn names_with_spaces_hyphens_and_prefixes() {
        assert_eq!(code("upplands väsby"), "0114");
        assert_eq!(code("Upplands-Väsby"), "0114");
        assert_eq!(code("Upplands Bro"), "0139");
        assert_eq!(code("malung salen"), "2023");
        assert_eq!(code("Malung\u{2013}Sälen"), "2023"); // en dash
        assert_eq!(code("Gotland"), "0980");
        assert_eq!(code("Region Gotland"), "0980");
        assert_eq!(code("Gotlands kommun"), "0980");
        assert_eq!(code("Göteborgs Stad"), "1480");
        assert_eq!(code("goteborg"), "1480");
        assert_eq!(code("Malmö stad"), "1280");
        assert_eq!(code("Borås"), "1490");
        assert_eq!(code("Östra Göinge"), "1256");
        assert_eq!(code("ostra goinge"), "1256");
    }

    #[test]
    fn exact_spelling_wins_and_a_folded_one_that_could_be_two_is_refused() {
        assert_eq!(code("Habo"), "0643");
        assert_eq!(code("habo"), "0643");
        assert_eq!(code("Håbo"), "0305");
        assert_eq!(code("HA\u{030A}BO"), "0305");
        let e = parse("Häbo").unwrap_err();
        let Unmatched::Ambiguous { candidates, .. } = &e else {
            panic!("{e:?}")
        };
        let mut codes: Vec<_> = candidates.iter().map(|k| k.code()).collect();
        codes.sort();
        assert_eq!(codes, ["0305", "0643"]);
        let msg = e.to_string();
        assert!(
            msg.contains("Habo (0643)") && msg.contains("Håbo (0305)"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_names_are_refused_with_the_nearest_suggested() {
        let e = parse("Vänersbrg").unwrap_err();
        assert!(
            matches!(&e, Unmatched::Unknown { nearest, .. } if nearest[0].code() == "1487"),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "'Vänersbrg' is not a kommun: did you mean Vänersborg (1487)? \
             Give a kommun's name or its four-digit kommunkod, e.g. Vänersborg or 1487"
        );
        assert_eq!(e.hint().as_deref(), Some("did you mean Vänersborg (1487)?"));
        let e = parse("Trolhätan").unwrap_err();
        assert!(e.to_string().contains("Trollhättan (1488)"), "{e}");
        // At most three suggestions.
        let Unmatched::Unknown { nearest, .. } = parse("Ala").unwrap_err() else {
            panic!()
        };
        assert!((1..=3).contains(&nearest.len()), "{nearest:?}");
        // Nothing close: no guesses.
        let e = parse("Atlantis").unwrap_err();
        assert_eq!(
            e,
            Unmatched::Unknown {
                input: "Atlantis".into(),
                nearest: vec![]
            }
        );
        assert!(e.to_string().contains("none of Sweden's 290 kommuner"));
    }

    #[test]
    fn digits_are_codes_and_never_echoed_otherwise() {
        assert_eq!(
            parse("9999").unwrap_err().to_string(),
            "9999 is no kommun's kommunkod; \
             give a kommun's name or its four-digit kommunkod, e.g. Vänersborg or 1487"
        );
        for s in [
            "19121212-1212",
            "19910203",
            "Vänersborg 2",
            "12345",
            "Vä\u{1b}[31mnersborg",
            "Väners\nborg",
        ] {
            let e = parse(s).unwrap_err();
            assert_eq!(e, Unmatched::NotAName, "{s:?}");
            assert!(!e.to_string().contains(s));
        }
        assert_eq!(parse("  "), Err(Unmatched::Empty));
        // Three digits are not guessed, but the message says what to write.
        assert_eq!(
            parse("114").unwrap_err().to_string(),
            "invalid municipality 114: a kommunkod has four digits; for Upplands Väsby write 0114 \
             (a spreadsheet drops the leading zero unless the column is formatted as text)"
        );
        assert!(matches!(
            parse("148"),
            Err(Unmatched::ThreeDigits { padded: None, .. })
        ));
        let long = "x".repeat(1000);
        assert!(!parse(&long).unwrap_err().to_string().contains(&long));
    }

    #[test]
    fn stored_values_read_back_as_kommun_or_kept_text() {
        let v = Municipality::from_stored("1487");
        assert_eq!(v.stored(), "1487");
        assert_eq!(v.label(), "Vänersborg");
        let legacy = Municipality::from_stored("Atlantis");
        assert_eq!(legacy, Municipality::Unmatched("Atlantis".into()));
        assert_eq!(legacy.label(), "Atlantis");
        assert_eq!(legacy.stored(), "Atlantis");
    }
}
