//! Phase 1: the header and each row, read into typed events without
//! touching the database. Every cell error names the column of the cell
//! that was being parsed (the reason comes from the parser of that cell).

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::beyond::{ActivityInput, BudgetInput, ReferralInput};
use crate::codes::{fold, ActivityKind, Code, Decision, Gender, InterventionKind, Outcome};
use crate::error::{Error, Field};
use crate::identity::{self, Personnummer};
use crate::model::{
    parse_birth_year, parse_intervention_code, parse_intervention_name, parse_month,
    parse_municipality, parse_past_date, parse_percent, parse_sek, ExitFacts, Intervention,
    StartFacts,
};
use crate::report::goals;

use super::read::Record;
use super::{Failure, FileKind, RowError, RowErrors};

/// The most columns a header may name (registrations use 17).
pub const MAX_COLUMNS: usize = 64;

/// The longest cell read (the longest field, an intervention name, takes 120).
pub const MAX_CELL_CHARS: usize = 200;

/// How much of a cell an error message quotes.
const QUOTED_CHARS: usize = 40;

/// A cell as an error message may quote it: anything shaped like a
/// personnummer masked first, then cut to 40 characters.
pub fn shown(cell: &str) -> String {
    let s = identity::scrub(cell);
    if s.chars().count() <= QUOTED_CHARS {
        return s.into_owned();
    }
    let mut t: String = s.chars().take(QUOTED_CHARS).collect();
    t.push('…');
    t
}

/// Canonical header names and the aliases people write.
const HEADERS: &[(&str, &[&str])] = &[
    ("event", &["händelse", "handelse", "typ", "type"]),
    ("intervention", &["insats", "insatskod"]),
    (
        "pnr",
        &["personnummer", "personnr", "pnr", "samordningsnummer"],
    ),
    ("consent", &["samtycke"]),
    (
        "local_id",
        &[
            "lokalt_id",
            "lokal_id",
            "löpnummer",
            "lopnummer",
            "deltagar_id",
            "id",
        ],
    ),
    ("gender", &["kön", "kon", "sex"]),
    ("birth_year", &["födelseår", "fodelsear", "född", "fodd"]),
    ("date", &["datum"]),
    ("municipality", &["kommun", "kommunkod"]),
    (
        "support",
        &[
            "försörjning",
            "forsorjning",
            "försörjning_före",
            "forsorjning_fore",
        ],
    ),
    (
        "years_in_support",
        &[
            "tid_i_försörjning",
            "tid_i_forsorjning",
            "år_i_försörjning",
            "ar_i_forsorjning",
        ],
    ),
    (
        "education",
        &["utbildning", "utbildningsnivå", "utbildningsniva"],
    ),
    ("referrer", &["remittent"]),
    ("outcome", &["utfall", "avslutsorsak", "resultat"]),
    ("support_after", &["försörjning_efter", "forsorjning_efter"]),
    ("step_progress", &["stegförflyttning", "stegforflyttning"]),
    ("quality_of_life", &["livskvalitet"]),
    ("code", &["kod"]),
    ("name", &["namn"]),
    (
        "parent",
        &["förälder", "foralder", "huvudinsats", "projekt"],
    ),
    (
        "kind",
        &[
            "typ_av_insats",
            "slag",
            "aktivitet",
            "aktivitetstyp",
            "activity",
            "activity_kind",
        ],
    ),
    (
        "target_work_studies",
        &["mål_arbete_studier", "mal_arbete_studier"],
    ),
    (
        "target_step",
        &["mål_stegförflyttning", "mal_stegforflyttning"],
    ),
    ("target_qol", &["mål_livskvalitet", "mal_livskvalitet"]),
    ("month", &["månad", "manad"]),
    ("women", &["kvinnor"]),
    ("men", &["män", "man"]),
    // Targets per year (with `intervention`). `stegförflyttning` and
    // `livskvalitet` name the registration columns step_progress and
    // quality_of_life; in a targets file they are its step and qol
    // columns (see `TARGET_NAMES`).
    ("year", &["år", "årtal"]),
    (
        "work_or_studies",
        &[
            "arbete_studier",
            "arbete eller studier",
            "till arbete eller studier",
            "work_studies",
        ],
    ),
    ("step", &["steg"]),
    ("qol", &[]),
    // Förbund-defined indicators. `utfall` names the registration column
    // outcome; in an indicators file it is its outcomes column.
    ("indicator", &["indikator", "indicator_id", "indikator_id"]),
    ("outcomes", &["avslutsorsaker"]),
    (
        "label_sv",
        &[
            "etikett_sv",
            "benämning",
            "benämning_sv",
            "namn_sv",
            "name_sv",
        ],
    ),
    (
        "label_en",
        &["etikett_en", "benämning_en", "namn_en", "name_en"],
    ),
    ("target", &["mål", "målvärde"]),
    // Activities (SPEC section 13, with `intervention`, `date`, `kind`,
    // `women`, `men`). `typ` names the registration column event; in an
    // activities file it is its kind column (see `ACTIVITY_NAMES`).
    (
        "unknown",
        &[
            "okänt kön",
            "okänt",
            "okänd",
            "okänt_kön",
            "unknown_gender",
            "ej angivet kön",
        ],
    ),
    (
        "organisations",
        &[
            "organisationer",
            "antal organisationer",
            "organizations",
            "organisation",
        ],
    ),
    // Referrals (with `intervention`, `gender`, `birth_year`,
    // `municipality`, `referrer`): `received` is read as the file's date.
    (
        "received",
        &[
            "remissdatum",
            "inkommen",
            "inkom",
            "inkommet",
            "mottagen",
            "referral_date",
            "received_date",
        ],
    ),
    ("decision", &["beslut"]),
    (
        "decision_date",
        &["beslutsdatum", "beslutad", "decided", "beslut_datum"],
    ),
    (
        "enrolment",
        &[
            "inskrivning",
            "inskrivnings_id",
            "enrolment_id",
            "enrollment",
            "enrollment_id",
        ],
    ),
    // Budgets (with `intervention`, `year`). `utfall` names the
    // registration column outcome; in a budgets file it is its actual
    // column (see `BUDGET_NAMES`).
    ("budget", &["budgeterat", "budgetbelopp", "budget_sek"]),
    (
        "actual",
        &[
            "faktisk kostnad",
            "faktisk_kostnad",
            "actual_cost",
            "utfall_sek",
        ],
    ),
];

/// The columns of a targets file, as the indicator each sets and the
/// domain field that names it.
const TARGET_COLUMNS: [(&str, &str, Field); 3] = [
    ("work_or_studies", "work_or_studies", Field::WorkOrStudies),
    ("step", "step_progress", Field::Step),
    ("qol", "quality_of_life", Field::Qol),
];

/// What other kinds' column names mean in a targets file: the indicator
/// ids and the interventions file's standing-target columns name the
/// year's targets (so `stegförflyttning` and `livskvalitet` work too).
const TARGET_NAMES: &[(&str, &str)] = &[
    ("step_progress", "step"),
    ("quality_of_life", "qol"),
    ("target_work_studies", "work_or_studies"),
    ("target_step", "step"),
    ("target_qol", "qol"),
];

/// What other kinds' column names mean in an indicators file (`utfall`).
const INDICATOR_NAMES: &[(&str, &str)] = &[("outcome", "outcomes")];

/// What other kinds' column names mean in an activities file (`typ`).
const ACTIVITY_NAMES: &[(&str, &str)] = &[("event", "kind")];

/// What other kinds' column names mean in a referrals file (`remissdatum`).
const REFERRAL_NAMES: &[(&str, &str)] = &[("received", "date")];

/// What other kinds' column names mean in a budgets file (`utfall`).
const BUDGET_NAMES: &[(&str, &str)] = &[("outcome", "actual")];

/// The columns a targets and an indicators file may have (the older kinds
/// ignore columns of other kinds; these two refuse them).
const TARGETS_ALLOWED: &[&str] = &["intervention", "year", "work_or_studies", "step", "qol"];
const INDICATORS_ALLOWED: &[&str] = &["indicator", "outcomes", "label_sv", "label_en", "target"];
const ACTIVITIES_ALLOWED: &[&str] = &[
    "intervention",
    "date",
    "kind",
    "women",
    "men",
    "unknown",
    "organisations",
];
const REFERRALS_ALLOWED: &[&str] = &[
    "intervention",
    "date",
    "gender",
    "birth_year",
    "municipality",
    "referrer",
    "decision",
    "decision_date",
    "enrolment",
];
const BUDGETS_ALLOWED: &[&str] = &["intervention", "year", "budget", "actual"];

fn header_key(name: &str) -> String {
    fold(name).replace([' ', '-'], "_")
}

fn canonical_header(name: &str) -> Option<&'static str> {
    let k = header_key(name);
    HEADERS
        .iter()
        .find(|(c, aliases)| *c == k || aliases.iter().any(|a| header_key(a) == k))
        .map(|(c, _)| *c)
}

/// What the header says: the kind of file and where each column is.
pub(super) struct Layout {
    pub kind: FileKind,
    columns: HashMap<&'static str, usize>,
    /// The header's names as written, by position.
    names: Vec<String>,
}

/// Read the header record.
pub(super) fn layout(header: &Record) -> Result<Layout, Failure> {
    let line = header.line;
    let width = header
        .cells
        .iter()
        .rposition(|c| !c.trim().is_empty())
        .map_or(0, |i| i + 1);
    if width > MAX_COLUMNS {
        return Err(Failure::Fatal(Error::usage(format!(
            "line {line}: the header has {width} columns; at most {MAX_COLUMNS} are accepted \
             (a registrations file needs at most {}): is this the right file?",
            17
        ))));
    }
    let mut errors = RowErrors::default();
    let mut columns = HashMap::new();
    let names: Vec<String> = header.cells[..width]
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    // An unnamed column must stay empty (checked per row).
    let mut canon: Vec<Option<&'static str>> = names
        .iter()
        .map(|n| (!n.is_empty()).then(|| canonical_header(n)).flatten())
        .collect();
    let kind = kind_of(&canon)?;
    let renames = match kind {
        FileKind::Targets => TARGET_NAMES,
        FileKind::Indicators => INDICATOR_NAMES,
        FileKind::Activities => ACTIVITY_NAMES,
        FileKind::Referrals => REFERRAL_NAMES,
        FileKind::Budgets => BUDGET_NAMES,
        _ => &[],
    };
    for c in canon.iter_mut().flatten() {
        if let Some((_, to)) = renames.iter().find(|(from, _)| from == c) {
            *c = to;
        }
    }
    let allowed = match kind {
        FileKind::Targets => Some(("targets", TARGETS_ALLOWED)),
        FileKind::Indicators => Some(("indicators", INDICATORS_ALLOWED)),
        FileKind::Activities => Some(("activities", ACTIVITIES_ALLOWED)),
        FileKind::Referrals => Some(("referrals", REFERRALS_ALLOWED)),
        FileKind::Budgets => Some(("budgets", BUDGETS_ALLOWED)),
        _ => None,
    };
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        match canon[i] {
            Some(c) if columns.contains_key(c) => errors.push(RowError {
                line,
                column: shown(name),
                reason: format!("column '{c}' appears twice"),
            }),
            // A referral precedes consent: a file of them never holds a
            // personnummer, whatever the rest of it says. The column is
            // named; no value of it is read.
            Some("pnr") if kind == FileKind::Referrals => errors.push(RowError {
                line,
                column: shown(name),
                reason: format!(
                    "a referrals file never holds a personnummer (a referral precedes consent): \
                     remove the column '{}' and its values; a file of starts and exits \
                     needs an event column",
                    shown(name)
                ),
            }),
            Some(c) => match allowed {
                Some((what, cols)) if !cols.contains(&c) => errors.push(RowError {
                    line,
                    column: shown(name),
                    reason: format!(
                        "column '{}' does not belong in {} {what} file: its columns are {}",
                        shown(name),
                        if what.starts_with(['a', 'i']) {
                            "an"
                        } else {
                            "a"
                        },
                        cols.join(", ")
                    ) + if kind == FileKind::Referrals {
                        " (a file of starts and exits needs an event column)"
                    } else {
                        ""
                    },
                }),
                _ => {
                    columns.insert(c, i);
                }
            },
            None => errors.push(RowError {
                line,
                column: shown(name),
                reason: format!(
                    "unknown column '{}': accepted are {}",
                    shown(name),
                    HEADERS
                        .iter()
                        .map(|(c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }
    let has = |c: &str| columns.contains_key(c);
    let required: &[&str] = match kind {
        FileKind::Registrations => &["intervention", "date"],
        FileKind::Interventions => &[],
        FileKind::Volume => &["intervention", "women", "men"],
        // `year` and a target column recognised the file.
        FileKind::Targets => &[],
        FileKind::Indicators => &["outcomes", "label_sv", "label_en"],
        FileKind::Activities => &["intervention", "date", "kind", "women", "men"],
        FileKind::Referrals => &["intervention", "date", "gender"],
        FileKind::Budgets => &["intervention", "year", "budget"],
    };
    for r in required {
        if !has(r) {
            errors.push(RowError {
                line,
                column: (*r).into(),
                reason: format!("the header has no '{r}' column"),
            });
        }
    }
    if !errors.is_empty() {
        return Err(Failure::Rows(errors));
    }
    Ok(Layout {
        kind,
        columns,
        names,
    })
}

/// The kind of file a header's columns (canonical names, by position)
/// make. A registrations file has `event`; an interventions file `code`
/// and `name`; a targets file `year` with a target column (never in a
/// volume file, which has `month`, nor in an interventions file, whose
/// standing targets carry no year); an indicators file `indicator`; a
/// volume file `month`.
fn kind_of(canon: &[Option<&str>]) -> Result<FileKind, Failure> {
    let has = |c: &str| canon.contains(&Some(c));
    let target_column = TARGET_COLUMNS.iter().map(|(c, _, _)| *c).any(has)
        || TARGET_NAMES.iter().map(|(from, _)| *from).any(has);
    // Head counts by gender with a date (not a month): an activities file,
    // whose kind column may be headed `typ` (read as event elsewhere).
    let activity = (has("women") || has("men") || has("unknown"))
        && !has("month")
        && (has("date") || has("kind") || has("event"));
    // A referrals file has no event; it has referral-only columns, or the
    // facts about a person that a registrations file has with an event.
    let referral = ["received", "decision", "decision_date", "enrolment"]
        .into_iter()
        .any(has)
        || (has("intervention")
            && ["gender", "birth_year", "referrer", "municipality"]
                .into_iter()
                .any(has));
    Ok(if activity {
        FileKind::Activities
    } else if has("event") {
        FileKind::Registrations
    } else if has("code") && has("name") {
        FileKind::Interventions
    } else if has("budget") {
        FileKind::Budgets
    } else if has("year") && target_column {
        FileKind::Targets
    } else if has("indicator") {
        FileKind::Indicators
    } else if has("month") {
        FileKind::Volume
    } else if referral {
        FileKind::Referrals
    } else {
        let hint = if has("year") {
            " (a year but no target column)"
        } else {
            ""
        };
        return Err(Failure::Fatal(Error::usage(format!(
            "unrecognised header{hint}: a registrations file needs the columns event, intervention and date \
             (an interventions file: code, name; a volume file: intervention, month, women, men; \
             a targets file: intervention, year and one or more of work_or_studies, step, qol; \
             an indicators file: indicator, outcomes, label_sv, label_en and optionally target; \
             an activities file: intervention, date, kind, women, men and optionally unknown, organisations; \
             a referrals file: intervention, date, gender and optionally birth_year, municipality, referrer, \
             decision, decision_date, enrolment; \
             a budgets file: intervention, year, budget and optionally actual)"
        ))));
    })
}

/// Who a registration row is about.
#[derive(Debug)]
pub(super) enum Who {
    /// Index into the batch's personnummer list (hashed together before
    /// the batch is applied), with the facts read off the number.
    Pnr {
        index: usize,
        gender: Gender,
        birth_date: NaiveDate,
        /// The row's consent column said yes (only starts need it).
        consent: bool,
    },
    Local {
        local_id: String,
        gender: Option<Gender>,
        birth_year: Option<i32>,
    },
}

#[derive(Debug)]
pub(super) struct StartRow {
    pub line: u64,
    pub intervention: String,
    pub who: Who,
    pub date: NaiveDate,
    pub facts: StartFacts,
}

#[derive(Debug)]
pub(super) struct ExitRow {
    pub line: u64,
    pub intervention: String,
    pub who: Who,
    pub date: NaiveDate,
    pub outcome: Outcome,
    pub after: ExitFacts,
}

#[derive(Debug)]
pub(super) struct InterventionRow {
    pub line: u64,
    pub intervention: Intervention,
}

#[derive(Debug)]
pub(super) struct VolumeRow {
    pub line: u64,
    pub intervention: String,
    pub month: (i32, u32),
    pub women: u32,
    pub men: u32,
}

/// One row of a targets file: a year's targets for an intervention, or
/// (`None`) for the förbund's total.
#[derive(Debug)]
pub(super) struct TargetRow {
    pub line: u64,
    pub intervention: Option<String>,
    pub year: i32,
    /// (indicator id, share from 0 to 1, canonical column), at least one.
    pub shares: Vec<(&'static str, f64, &'static str)>,
}

/// One row of an indicators file.
#[derive(Debug)]
pub(super) struct IndicatorRow {
    pub line: u64,
    pub id: String,
    /// Distinct, in the order given.
    pub outcomes: Vec<Outcome>,
    pub label_sv: String,
    pub label_en: String,
    pub target: Option<f64>,
}

/// One row of an activities file (as `activity add`).
#[derive(Debug)]
pub(super) struct ActivityRow {
    pub line: u64,
    pub input: ActivityInput,
}

/// One row of a referrals file (as `referral add`, then `referral
/// decide` when the row has a decision).
#[derive(Debug)]
pub(super) struct ReferralRow {
    pub line: u64,
    pub input: ReferralInput,
    /// The decision, its date and (for `started`) the enrolment id.
    pub decision: Option<(Decision, NaiveDate, Option<String>)>,
}

/// One row of a budgets file (as `budget set`).
#[derive(Debug)]
pub(super) struct BudgetRow {
    pub line: u64,
    pub input: BudgetInput,
}

#[derive(Debug)]
pub(super) enum Event {
    Start(StartRow),
    Exit(ExitRow),
    Intervention(InterventionRow),
    Volume(VolumeRow),
    Target(TargetRow),
    Indicator(IndicatorRow),
    Activity(ActivityRow),
    Referral(ReferralRow),
    Budget(BudgetRow),
}

/// Rows read but not yet applied.
#[derive(Default)]
pub(super) struct Batch {
    pub events: Vec<Event>,
    /// Zeroed when dropped (see `identity::Personnummer`).
    pub pnrs: Vec<Personnummer>,
}

/// Read one non-blank record into `batch`, or its errors into `errors`.
pub(super) fn row(
    layout: &Layout,
    rec: &Record,
    today: NaiveDate,
    batch: &mut Batch,
    errors: &mut Vec<RowError>,
) {
    let before = errors.len();
    for (i, cell) in rec.cells.iter().enumerate() {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        match layout.names.get(i) {
            None => errors.push(RowError {
                line: rec.line,
                column: format!("#{}", i + 1),
                reason: format!(
                    "a value beyond the header, which names {} columns: name the column in the header or remove the value{}",
                    layout.names.len(),
                    if layout.kind == FileKind::Indicators { OUTCOMES_SPLIT } else { "" }
                ),
            }),
            Some(n) if n.is_empty() => errors.push(RowError {
                line: rec.line,
                column: format!("#{}", i + 1),
                reason: "a value in a column the header does not name: name the column or remove the value".into(),
            }),
            Some(n) if cell.len() > MAX_CELL_CHARS && cell.chars().count() > MAX_CELL_CHARS => {
                errors.push(RowError {
                    line: rec.line,
                    column: shown(n),
                    reason: format!(
                        "the value '{}' is {} characters long; at most {MAX_CELL_CHARS} are accepted",
                        shown(cell),
                        cell.chars().count()
                    ),
                })
            }
            Some(_) => {}
        }
    }
    if errors.len() > before {
        return;
    }
    let mut cells = Cells {
        line: rec.line,
        cells: &rec.cells,
        layout,
        errors,
    };
    let event = match layout.kind {
        FileKind::Registrations => registration(&mut cells, today, &mut batch.pnrs),
        FileKind::Interventions => intervention_row(&mut cells),
        FileKind::Volume => volume_row(&mut cells),
        FileKind::Targets => target_row(&mut cells),
        FileKind::Indicators => indicator_row(&mut cells),
        FileKind::Activities => activity_row(&mut cells, today),
        FileKind::Referrals => referral_row(&mut cells, today),
        FileKind::Budgets => budget_row(&mut cells),
    };
    if errors.len() == before {
        if let Some(ev) = event {
            batch.events.push(ev);
        }
    }
}

/// A row of cells addressed by canonical column name.
struct Cells<'a> {
    line: u64,
    cells: &'a [String],
    layout: &'a Layout,
    errors: &'a mut Vec<RowError>,
}

impl<'a> Cells<'a> {
    /// The trimmed cell, `None` when the column is absent or the cell empty.
    fn get(&self, col: &str) -> Option<&'a str> {
        let cells: &'a [String] = self.cells;
        let i = *self.layout.columns.get(col)?;
        cells.get(i).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    fn error(&mut self, col: &str, reason: impl Into<String>) {
        let column = match self.layout.columns.get(col) {
            Some(&i) => shown(&self.layout.names[i]),
            None => col.to_string(),
        };
        self.errors.push(RowError {
            line: self.line,
            column,
            reason: reason.into(),
        });
    }

    /// Parse an optional cell; a bad value is recorded against this cell's
    /// column and read as absent.
    fn parse<T>(&mut self, col: &str, f: impl FnOnce(&str) -> Result<T, String>) -> Option<T> {
        let v = self.get(col)?;
        match f(v) {
            Ok(x) => Some(x),
            Err(reason) => {
                // The reason may quote the cell: never in full when long.
                let reason = if v.chars().count() > QUOTED_CHARS {
                    reason.replace(v, &shown(v))
                } else {
                    reason
                };
                self.error(col, reason);
                None
            }
        }
    }

    fn required<T>(
        &mut self,
        col: &str,
        what: &str,
        f: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if self.get(col).is_none() {
            self.error(col, format!("{what} is required"));
            return None;
        }
        self.parse(col, f)
    }

    /// A required code cell.
    fn required_code<C: Code>(&mut self, col: &str, what: &str) -> Option<C> {
        if self.get(col).is_none() {
            self.error(col, format!("{what} is required"));
            return None;
        }
        self.code(col)
    }

    fn code<C: Code>(&mut self, col: &str) -> Option<C> {
        self.parse(col, |s| {
            C::parse(s)
                .map_err(|e| format!("invalid value '{}': accepted are {}", e.value, e.accepted))
        })
    }
}

/// The reason of a cell parser's refusal (the column is the cell's own).
fn reason(e: Error) -> String {
    e.to_string()
}

fn registration(c: &mut Cells, today: NaiveDate, pnrs: &mut Vec<Personnummer>) -> Option<Event> {
    let is_start = c.required("event", "the event (start or exit)", |s| {
        match fold(s).as_str() {
            "start" | "inskrivning" | "in" => Ok(true),
            "exit" | "avslut" | "slut" | "utskrivning" | "ut" => Ok(false),
            _ => Err(format!(
                "invalid event '{s}': accepted are start, exit (avslut)"
            )),
        }
    });
    let intervention = c.required("intervention", "the intervention code", |s| {
        parse_intervention_code(s).map_err(reason)
    });
    let date = c.required("date", "the date", |s| {
        parse_past_date(s, Field::Date, today).map_err(reason)
    });
    let pnr = c.parse("pnr", |s| {
        Personnummer::parse(s, today).map_err(|e| e.to_string())
    });
    let local = c.get("local_id").map(str::to_string);
    let is_start = is_start?;
    let who = match (pnr, local, c.get("pnr").is_some()) {
        (Some(_), Some(_), _) => {
            c.error("local_id", "give either pnr or local_id, not both");
            return None;
        }
        (Some(p), None, _) => {
            // Whether consent was given is read here; the domain decides
            // what a start without it gets (a refusal naming the column).
            let consent = matches!(
                c.get("consent").map(fold).as_deref(),
                Some("yes" | "ja" | "j" | "y" | "1" | "x")
            );
            // Gender and birth year come from the number; a cell that says
            // otherwise is a mistake somewhere on the row, never ignored.
            if let Some(g) = c.code::<Gender>("gender") {
                if g != p.gender() {
                    c.error("gender", "contradicts the personnummer's gender: leave gender empty on rows with pnr");
                    return None;
                }
            }
            if let Some(y) = c.parse("birth_year", |s| parse_birth_year(s, today).map_err(reason)) {
                if y != p.birth_year() {
                    c.error("birth_year", "contradicts the personnummer's birth year: leave birth_year empty on rows with pnr");
                    return None;
                }
            }
            let who = Who::Pnr {
                index: pnrs.len(),
                gender: p.gender(),
                birth_date: p.birth_date(),
                consent,
            };
            pnrs.push(p);
            who
        }
        (None, _, true) => return None, // the pnr error is already recorded
        (None, Some(l), false) => {
            let valid = l.chars().count() <= 40
                && l.chars()
                    .all(|ch| ch.is_alphanumeric() || "-_./".contains(ch));
            if !valid {
                c.error(
                    "local_id",
                    "invalid local_id: expected at most 40 letters, digits, '-', '_', '.' or '/'",
                );
                return None;
            }
            if identity::holds_birth_date(&l) {
                c.error("local_id", "a local_id must not hold a birth date (YYYYMMDD or YYMMDD): with gender and municipality it points at one person; use the team's own short code");
                return None;
            }
            if identity::could_hold_pnr(&l) {
                c.error("local_id", "a local_id must not hold ten or more digits (it could be a personnummer); use the team's own short code, and put a personnummer in the pnr column (with consent)");
                return None;
            }
            let gender = c.code::<Gender>("gender");
            if is_start && gender.is_none() && c.get("gender").is_none() {
                c.error(
                    "gender",
                    "an anonymous start (no pnr) needs gender (K or M)",
                );
            }
            let birth_year = c.parse("birth_year", |s| parse_birth_year(s, today).map_err(reason));
            Who::Local {
                local_id: l,
                gender,
                birth_year,
            }
        }
        (None, None, false) => {
            c.error(
                "pnr",
                "each row needs pnr (with consent) or, for anonymous participants, local_id",
            );
            return None;
        }
    };
    if is_start {
        let facts = StartFacts {
            municipality: c.parse("municipality", |s| parse_municipality(s).map_err(reason)),
            support: c.code("support"),
            years_in_support: c.code("years_in_support"),
            education: c.code("education"),
            referrer: c.code("referrer"),
        };
        Some(Event::Start(StartRow {
            line: c.line,
            intervention: intervention?,
            who,
            date: date?,
            facts,
        }))
    } else {
        let outcome = if c.get("outcome").is_none() {
            c.error("outcome", "an exit needs an outcome, e.g. work (Arbete), studies (Studier), dropout (Avbrott)");
            None
        } else {
            c.code::<Outcome>("outcome")
        };
        let after = ExitFacts {
            support_after: c.code("support_after"),
            step_progress: c.code("step_progress"),
            quality_of_life: c.code("quality_of_life"),
        };
        Some(Event::Exit(ExitRow {
            line: c.line,
            intervention: intervention?,
            who,
            date: date?,
            outcome: outcome?,
            after,
        }))
    }
}

fn intervention_row(c: &mut Cells) -> Option<Event> {
    let code = c.required("code", "the intervention code", |s| {
        parse_intervention_code(s).map_err(reason)
    });
    let name = c.required("name", "the name", |s| {
        parse_intervention_name(s).map_err(reason)
    });
    let parent = c.parse("parent", |s| parse_intervention_code(s).map_err(reason));
    let kind = c
        .code::<InterventionKind>("kind")
        .unwrap_or(InterventionKind::Individual);
    let pct = |c: &mut Cells, col: &str, field: Field| {
        c.parse(col, |s| parse_percent(s, field).map_err(reason))
    };
    let (tw, ts, tq) = (
        pct(c, "target_work_studies", Field::TargetWorkStudies),
        pct(c, "target_step", Field::TargetStep),
        pct(c, "target_qol", Field::TargetQol),
    );
    Some(Event::Intervention(InterventionRow {
        line: c.line,
        intervention: Intervention {
            code: code?,
            name: name?,
            parent,
            kind,
            target_work_studies: tw,
            target_step: ts,
            target_qol: tq,
        },
    }))
}

fn volume_row(c: &mut Cells) -> Option<Event> {
    let intervention = c.required("intervention", "the intervention code", |s| {
        parse_intervention_code(s).map_err(reason)
    });
    let month = c.required("month", "the month (YYYY-MM)", |s| {
        parse_month(s).map_err(reason)
    });
    let count = |c: &mut Cells, col: &str| {
        c.required(col, "a head count", |s| {
            s.parse::<u32>()
                .map_err(|_| format!("invalid count '{s}': expected a whole number, 0 or more"))
        })
    };
    let (women, men) = (count(c, "women"), count(c, "men"));
    Some(Event::Volume(VolumeRow {
        line: c.line,
        intervention: intervention?,
        month: month?,
        women: women?,
        men: men?,
    }))
}

/// Why an indicators row may have too many cells.
const OUTCOMES_SPLIT: &str =
    " (an outcomes list with commas must be quoted in a comma-separated file, \
     e.g. \"work,studies\", or written work|studies)";

/// The cell that names the förbund's total in a targets file: an empty
/// cell, or `(total)` as `target list` shows it (no intervention code has
/// parentheses).
fn is_total(s: &str) -> bool {
    matches!(fold(s).as_str(), "" | "(total)" | "(totalt)")
}

/// A year as written in a targets file; its range is the domain's rule.
fn parse_year(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(y) if s.trim().chars().all(|c| c.is_ascii_digit()) => Ok(y),
        _ => Err(format!(
            "'{s}' is not a year: expected a four-digit year, e.g. 2024"
        )),
    }
}

fn target_row(c: &mut Cells) -> Option<Event> {
    // `None`: a refused code (recorded); `Some(None)`: the total.
    let intervention = match c.get("intervention") {
        Some(s) if !is_total(s) => c
            .parse("intervention", |s| {
                parse_intervention_code(s).map_err(reason)
            })
            .map(Some),
        _ => Some(None),
    };
    let year = c.required("year", "the year", parse_year);
    let mut shares = Vec::new();
    let mut given = false;
    for (col, id, field) in TARGET_COLUMNS {
        given |= c.get(col).is_some();
        if let Some(share) = c.parse(col, |s| parse_percent(s, field).map_err(reason)) {
            shares.push((id, share, col));
        }
    }
    if !given {
        // Named after the header's first target column.
        let first = TARGET_COLUMNS
            .iter()
            .filter_map(|(col, _, _)| Some((*c.layout.columns.get(col)?, *col)))
            .min()
            .map_or("work_or_studies", |(_, col)| col);
        c.error(
            first,
            "no target on this row: give at least one of work_or_studies, step, qol \
             (a percentage from 0 to 100, e.g. 40)",
        );
        return None;
    }
    // A refused percentage is recorded: the row is dropped (see `row`).
    Some(Event::Target(TargetRow {
        line: c.line,
        intervention: intervention?,
        year: year?,
        shares,
    }))
}

/// An outcomes cell as outcomes. Forgiving about how the list is
/// separated: `,` (quoted in a comma-separated file), `|`, `;` or `/`; an
/// item that is itself an outcome with a `/` in it (`arbete/anställning`)
/// stays whole. Codes and Swedish or English labels are accepted.
pub(super) fn parse_outcome_list(s: &str) -> Result<Vec<Outcome>, String> {
    let mut items: Vec<&str> = Vec::new();
    for part in s.split([',', '|', ';']).map(str::trim) {
        if part.is_empty() || Outcome::parse(part).is_ok() {
            items.push(part);
        } else {
            items.extend(part.split('/').map(str::trim));
        }
    }
    // The items, comma-separated, are what the domain parses.
    goals::parse_outcomes(&items.join(",")).map_err(reason)
}

fn indicator_row(c: &mut Cells) -> Option<Event> {
    let id = c.required("indicator", "the indicator id", |s| {
        goals::parse_indicator_id(s).map_err(reason)
    });
    let outcomes = c.required(
        "outcomes",
        "the outcomes (e.g. work,studies,job_seeking)",
        parse_outcome_list,
    );
    let label = |c: &mut Cells, col: &str, what: &str| {
        c.required(col, what, |s| Ok::<_, String>(s.to_string()))
    };
    let label_sv = label(c, "label_sv", "the Swedish label");
    let label_en = label(c, "label_en", "the English label");
    // A comma-separated list left unquoted spills into the next columns:
    // an outcome code where the Swedish label should be (a Swedish label
    // is never an English code; an English label may well be "work").
    if label_sv.as_deref().and_then(Outcome::from_code).is_some() {
        c.error(
            "outcomes",
            format!("the list of outcomes seems split over several columns{OUTCOMES_SPLIT}"),
        );
        return None;
    }
    let target = c.parse("target", |s| {
        parse_percent(s, Field::Target).map_err(reason)
    });
    Some(Event::Indicator(IndicatorRow {
        line: c.line,
        id: id?,
        outcomes: outcomes?,
        label_sv: label_sv?,
        label_en: label_en?,
        target,
    }))
}

/// A head count of an activity (its upper bound is the domain's rule).
fn parse_count(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .map_err(|_| format!("invalid count '{s}': expected a whole number, 0 or more"))
}

fn activity_row(c: &mut Cells, today: NaiveDate) -> Option<Event> {
    let intervention = c.required("intervention", "the intervention code", |s| {
        parse_intervention_code(s).map_err(reason)
    });
    let date = c.required("date", "the date", |s| {
        parse_past_date(s, Field::Date, today).map_err(reason)
    });
    let kind = c.required_code::<ActivityKind>(
        "kind",
        "the kind of activity (seminar, training, network, information, other)",
    );
    let women = c.required("women", "the number of women (0 or more)", parse_count);
    let men = c.required("men", "the number of men (0 or more)", parse_count);
    let unknown = c.parse("unknown", parse_count);
    let organisations = c.parse("organisations", parse_count);
    Some(Event::Activity(ActivityRow {
        line: c.line,
        input: ActivityInput {
            intervention: intervention?,
            date: date?,
            kind: kind?,
            women: women?,
            men: men?,
            unknown: unknown.unwrap_or(0),
            organisations,
        },
    }))
}

fn referral_row(c: &mut Cells, today: NaiveDate) -> Option<Event> {
    // A referral precedes consent: a personnummer in any cell (a birth
    // year column holding the whole number, say) refuses the row, and
    // the cell is never quoted.
    let mut columns: Vec<(&'static str, usize)> =
        c.layout.columns.iter().map(|(k, v)| (*k, *v)).collect();
    columns.sort_by_key(|(_, i)| *i);
    let mut pnr_seen = false;
    for (col, _) in columns {
        if let Some(v) = c.get(col) {
            // An enrolment id is hex with many digits; only a number shaped
            // like a personnummer is refused there.
            let digits = col != "enrolment" && identity::could_hold_pnr(v);
            if digits || identity::scrub(v) != v {
                c.error(
                    col,
                    "holds what looks like a personnummer, which a referral never holds \
                     (it precedes consent): remove it",
                );
                pnr_seen = true;
            }
        }
    }
    if pnr_seen {
        return None;
    }
    let intervention = c.required("intervention", "the intervention code", |s| {
        parse_intervention_code(s).map_err(reason)
    });
    let date = c.required("date", "the date the referral was received", |s| {
        parse_past_date(s, Field::Date, today).map_err(reason)
    });
    let gender = c.required_code::<Gender>("gender", "the gender (K or M)");
    let birth_year = c.parse("birth_year", |s| parse_birth_year(s, today).map_err(reason));
    let municipality = c.parse("municipality", |s| parse_municipality(s).map_err(reason));
    let referrer = c.code("referrer");
    let decision = c.code::<Decision>("decision");
    let decided = c.parse("decision_date", |s| {
        parse_past_date(s, Field::Date, today).map_err(reason)
    });
    let enrolment = c.get("enrolment").map(str::to_string);
    let decision = match (c.get("decision").is_some(), decision, decided) {
        (false, _, _) => {
            if c.get("decision_date").is_some() {
                c.error(
                    "decision_date",
                    "a decision date needs a decision (started, declined, returned, withdrawn)",
                );
            }
            if c.get("enrolment").is_some() {
                c.error(
                    "enrolment",
                    "is only given with the decision started: give the decision too, or leave it out",
                );
            }
            None
        }
        (true, Some(d), Some(on)) => Some((d, on, enrolment)),
        (true, Some(_), None) if c.get("decision_date").is_none() => {
            c.error(
                "decision_date",
                "is required with a decision: the date it was made (YYYY-MM-DD)",
            );
            return None;
        }
        // A refused cell is recorded: the row is dropped (see `row`).
        (true, _, _) => return None,
    };
    Some(Event::Referral(ReferralRow {
        line: c.line,
        input: ReferralInput {
            intervention: intervention?,
            date: date?,
            gender: gender?,
            birth_year,
            municipality,
            referrer,
        },
        decision,
    }))
}

fn budget_row(c: &mut Cells) -> Option<Event> {
    let intervention = c.required("intervention", "the intervention code", |s| {
        parse_intervention_code(s).map_err(reason)
    });
    let year = c.required("year", "the year", parse_year);
    let budget = c.required("budget", "the budget in kronor", |s| {
        parse_sek(s, Field::Budget).map_err(reason)
    });
    let actual = c.parse("actual", |s| parse_sek(s, Field::Actual).map_err(reason));
    Some(Event::Budget(BudgetRow {
        line: c.line,
        input: BudgetInput {
            intervention: intervention?,
            year: year?,
            budget: budget?,
            actual,
        },
    }))
}
