//! Renderers: each lays out a finished [`Report`]; none computes anything.
//!
//! Shared here: the cell texts (a suppressed count is `–`), percentages in
//! the report language's style, and the indicator lines, so every format
//! says the same thing the same way.

pub mod csv;
pub mod html;
pub mod json;
pub mod md;
pub mod text;
pub mod xlsx;

use chrono::Datelike;

use super::{Duration, Indicator, Report, Table};
use crate::codes::Lang;
use crate::error::Result;
use crate::invalid;

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Csv,
    Md,
    Json,
    Html,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" => Format::Text,
            "csv" => Format::Csv,
            "md" | "markdown" => Format::Md,
            "json" => Format::Json,
            "html" => Format::Html,
            "xlsx" | "excel" => Format::Xlsx,
            _ => {
                return Err(invalid!(
                    "invalid --format '{s}': accepted are text, csv, md, json, html, xlsx"
                ))
            }
        })
    }

    /// True for binary formats that should not go to a terminal.
    pub fn is_binary(self) -> bool {
        self == Format::Xlsx
    }
}

pub fn render(report: &Report, format: Format) -> Result<Vec<u8>> {
    Ok(match format {
        Format::Text => text::render(report).into_bytes(),
        Format::Csv => csv::render(report),
        Format::Md => md::render(report).into_bytes(),
        Format::Json => json::render(report).into_bytes(),
        Format::Html => html::render(report).into_bytes(),
        Format::Xlsx => xlsx::render(report)?,
    })
}

/// The dash shown for a suppressed count.
pub const SUPPRESSED: &str = "–";

pub fn count(v: Option<u64>) -> String {
    v.map(|v| v.to_string())
        .unwrap_or_else(|| SUPPRESSED.into())
}

/// A share as a percentage with one decimal, "21,3 %" (sv) or "21.3 %" (en).
pub fn percent(share: Option<f64>, lang: Lang) -> String {
    match share {
        Some(s) => {
            // Half up, as people round: 6.25 % is 6.3 %.
            let t = format!("{:.1} %", (s * 1000.0).round() / 10.0);
            if lang == Lang::Sv {
                t.replace('.', ",")
            } else {
                t
            }
        }
        None => SUPPRESSED.into(),
    }
}

/// What the comparison columns are called: "jmf 2020" for a whole
/// year, else "jmf 2020-01-01–2020-08-31" ("cf." in English).
pub fn compare_label(r: &Report) -> Option<String> {
    let c = r.compare?;
    let word = r.lang.pick("jmf", "cf.");
    let whole_year = c.from.ordinal() == 1
        && c.to.year() == c.from.year()
        && c.to.month() == 12
        && c.to.day() == 31;
    Some(if whole_year {
        format!("{word} {}", c.from.year())
    } else {
        format!("{word} {}–{}", c.from, c.to)
    })
}

/// A row label indented by its depth in the intervention tree (one em
/// space per level, which every format keeps).
pub fn indented(label: &str, depth: u8) -> String {
    format!("{}{label}", "\u{2003}".repeat(depth as usize))
}

/// Header and body cells of a table as text, including share columns
/// where the table has shares and the comparison period's columns where
/// the report has one. The first column is the row label; the last body
/// row is the total.
pub fn cells(t: &Table, r: &Report) -> (Vec<String>, Vec<Vec<String>>) {
    let lang = r.lang;
    let with_shares = t.rows.iter().any(|r| r.shares.is_some());
    let cmp = compare_label(r);
    let mut header = vec![t.title.clone()];
    header.extend(t.columns.iter().cloned());
    if with_shares {
        header.extend(t.columns.iter().map(|c| format!("{c} %")));
    }
    if let Some(label) = &cmp {
        header.extend(t.columns.iter().map(|c| format!("{c} {label}")));
    }
    let mut body = Vec::new();
    for row in &t.rows {
        let mut line = vec![indented(&row.label, row.depth)];
        line.extend(row.values.iter().map(|&v| count(v)));
        if with_shares {
            match &row.shares {
                Some(shares) => line.extend(shares.iter().map(|&s| percent(s, lang))),
                None => line.extend(row.values.iter().map(|_| SUPPRESSED.to_string())),
            }
        }
        if cmp.is_some() {
            let none = vec![None; row.values.len()];
            line.extend(
                row.compare
                    .as_ref()
                    .unwrap_or(&none)
                    .iter()
                    .map(|&v| count(v)),
            );
        }
        body.push(line);
    }
    let mut total = vec![t.total_label.clone()];
    total.extend(t.total.iter().map(|&v| count(v)));
    if with_shares {
        total.extend(t.total.iter().map(|v| percent(v.map(|_| 1.0), lang)));
    }
    if cmp.is_some() {
        let none = vec![None; t.total.len()];
        total.extend(
            t.compare_total
                .as_ref()
                .unwrap_or(&none)
                .iter()
                .map(|&v| count(v)),
        );
    }
    body.push(total);
    (header, body)
}

/// A target as "4 av 10" when it is a whole tenth, else as a percentage.
pub fn target_text(target: f64, lang: Lang) -> String {
    let tenths = target * 10.0;
    if (tenths - tenths.round()).abs() < 1e-9 {
        format!("{} {} 10", tenths.round() as u32, lang.pick("av", "in"))
    } else {
        percent(Some(target), lang)
    }
}

/// What a line of the indicators or times is about: an intervention, a
/// parent's subtotal, or the total.
fn line_name(intervention: &Option<String>, subtotal: bool, lang: Lang) -> String {
    match (intervention, subtotal) {
        (Some(code), false) => code.clone(),
        (Some(code), true) => format!(
            "{code} {}",
            lang.pick("totalt med delinsatser", "total with sub-interventions")
        ),
        (None, _) => lang.pick("Totalt", "Total").into(),
    }
}

/// The columns of the indicator table shared by text, md, csv, html, xlsx.
pub fn indicator_header(r: &Report) -> Vec<String> {
    let lang = r.lang;
    let mut h: Vec<String> = [
        ("Indikator", "Indicator"),
        ("Insats", "Intervention"),
        ("Kön", "Gender"),
        ("Resultat", "Result"),
        ("Antal", "Count"),
        ("Av", "Of"),
        ("Andel", "Share"),
        ("Mål", "Target"),
        ("Uppnått", "Met"),
    ]
    .iter()
    .map(|(s, e)| lang.pick(s, e).to_string())
    .collect();
    if let Some(label) = compare_label(r) {
        for (s, e) in [
            ("Resultat", "Result"),
            ("Antal", "Count"),
            ("Av", "Of"),
            ("Andel", "Share"),
        ] {
            h.push(format!("{} {label}", lang.pick(s, e)));
        }
    }
    h
}

fn gender_name(g: Option<&str>, lang: Lang) -> String {
    match g {
        Some("woman") => lang.pick("Kvinnor", "Women"),
        Some(_) => lang.pick("Män", "Men"),
        None => lang.pick("Alla", "All"),
    }
    .into()
}

/// Result, count, of and share of one indicator.
fn indicator_figures(i: &Indicator, lang: Lang) -> [String; 4] {
    let too_few = lang.pick("för få för att redovisa", "too few to report");
    [
        if i.too_few {
            too_few.into()
        } else {
            i.phrase.clone().unwrap_or_else(|| SUPPRESSED.into())
        },
        count(i.numerator),
        count(i.denominator),
        if i.share.is_some() {
            percent(i.share, lang)
        } else {
            SUPPRESSED.into()
        },
    ]
}

pub fn indicator_cells(i: &Indicator, r: &Report) -> Vec<String> {
    let lang = r.lang;
    let mut line = vec![
        i.name.clone(),
        line_name(&i.intervention, i.subtotal, lang),
        gender_name(i.gender, lang),
    ];
    line.extend(indicator_figures(i, lang));
    line.push(
        i.target
            .map(|t| target_text(t, lang))
            .unwrap_or_else(|| SUPPRESSED.into()),
    );
    line.push(
        match i.met {
            Some(true) => lang.pick("ja", "yes"),
            Some(false) => lang.pick("nej", "no"),
            None => SUPPRESSED,
        }
        .into(),
    );
    if r.compare.is_some() {
        match &i.compare {
            Some(c) => line.extend(indicator_figures(c, lang)),
            None => line.extend([SUPPRESSED; 4].map(String::from)),
        }
    }
    line
}

/// Title of the section on time in the intervention.
pub fn durations_title(lang: Lang) -> &'static str {
    lang.pick(
        "Tid i insats (avslutade under perioden)",
        "Time in intervention (exited in the period)",
    )
}

pub fn duration_header(r: &Report) -> Vec<String> {
    let lang = r.lang;
    let figures = [
        ("Avslutade", "Exited"),
        ("Medel, veckor", "Mean, weeks"),
        ("Median, veckor", "Median, weeks"),
        ("Medel, månader", "Mean, months"),
        ("Median, månader", "Median, months"),
    ];
    let mut h = vec![lang.pick("Insats", "Intervention").to_string()];
    h.extend(figures.iter().map(|(s, e)| lang.pick(s, e).to_string()));
    if let Some(label) = compare_label(r) {
        h.extend(
            figures
                .iter()
                .map(|(s, e)| format!("{} {label}", lang.pick(s, e))),
        );
    }
    h
}

/// A number of days as weeks or months with one decimal.
pub fn days_as(days: Option<f64>, per: f64, lang: Lang) -> String {
    match days {
        Some(d) => {
            let t = format!("{:.1}", (d / per * 10.0).round() / 10.0);
            if lang == Lang::Sv {
                t.replace('.', ",")
            } else {
                t
            }
        }
        None => SUPPRESSED.into(),
    }
}

fn duration_figures(d: &Duration, lang: Lang) -> [String; 5] {
    use crate::report::{DAYS_PER_MONTH, DAYS_PER_WEEK};
    [
        count(d.exited),
        days_as(d.mean_days, DAYS_PER_WEEK, lang),
        days_as(d.median_days, DAYS_PER_WEEK, lang),
        days_as(d.mean_days, DAYS_PER_MONTH, lang),
        days_as(d.median_days, DAYS_PER_MONTH, lang),
    ]
}

pub fn duration_cells(d: &Duration, r: &Report) -> Vec<String> {
    let lang = r.lang;
    let mut line = vec![line_name(&d.intervention, d.subtotal, lang)];
    line.extend(duration_figures(d, lang));
    if r.compare.is_some() {
        match &d.compare {
            Some(c) => line.extend(duration_figures(c, lang)),
            None => line.extend([SUPPRESSED; 5].map(String::from)),
        }
    }
    line
}

/// A section after the tables: id, title, header and rows.
pub type Section = (&'static str, String, Vec<String>, Vec<Vec<String>>);

/// The sections after the tables that every text format lays out alike:
/// `(id, title, header, rows)` of the indicators and the times, then
/// (when the report has them) the wait from referral to start, the reach
/// line and the cost per intervention (SPEC section 13).
pub fn sections(r: &Report) -> Vec<Section> {
    let mut out = vec![
        (
            "indicators",
            indicators_title(r.lang).to_string(),
            indicator_header(r),
            r.indicators.iter().map(|i| indicator_cells(i, r)).collect(),
        ),
        (
            "durations",
            durations_title(r.lang).to_string(),
            duration_header(r),
            r.durations.iter().map(|d| duration_cells(d, r)).collect(),
        ),
    ];
    out.extend(beyond_sections(r));
    out
}

/// Title, header and rows of the section 13 figures after the tables.
pub fn beyond_sections(r: &Report) -> Vec<Section> {
    let lang = r.lang;
    let pick = |pairs: &[(&str, &str)]| -> Vec<String> {
        pairs
            .iter()
            .map(|(s, e)| lang.pick(s, e).to_string())
            .collect()
    };
    let mut out = Vec::new();
    if let Some(w) = &r.waiting {
        let median = match (w.too_few, w.started, w.median_days) {
            (true, _, _) => lang
                .pick("för få för att redovisa", "too few to report")
                .into(),
            (_, Some(0), _) => lang.pick("ingen start", "no start").into(),
            (_, _, Some(d)) => days_as(Some(d), 1.0, lang),
            _ => SUPPRESSED.into(),
        };
        out.push((
            "waiting",
            lang.pick(
                "Väntetid från remiss till start (remisser inkomna under perioden)",
                "Wait from referral to start (referrals received in the period)",
            )
            .to_string(),
            pick(&[
                ("Urval", "Selection"),
                ("Startade", "Started"),
                ("Median, dagar", "Median, days"),
            ]),
            vec![vec![
                lang.pick("Totalt", "Total").to_string(),
                count(w.started),
                median,
            ]],
        ));
    }
    if let Some(x) = &r.reach {
        out.push((
            "reach",
            lang.pick(
                "Nådda personer totalt (en summa: samma person kan räknas mer än en gång)",
                "People reached in total (a sum: one person may be counted more than once)",
            )
            .to_string(),
            pick(&[
                ("Urval", "Selection"),
                ("Unika deltagare", "Unique participants"),
                ("Volyminsatser (antal)", "Volume head counts"),
                ("Deltagare i aktiviteter", "Activity attendees"),
                ("Nådda totalt", "Reached in total"),
            ]),
            vec![vec![
                lang.pick("Totalt", "Total").to_string(),
                count(x.participants),
                count(x.volume),
                count(x.attendees),
                count(x.total),
            ]],
        ));
    }
    if !r.cost.is_empty() {
        let years: Vec<String> = r.cost[0].years.iter().map(|y| y.to_string()).collect();
        let unknown = || lang.pick("ej känd", "not known").to_string();
        let sek = |v: Option<u64>| v.map_or_else(unknown, |v| kronor(v as i64, lang));
        let rows = r
            .cost
            .iter()
            .map(|c| {
                // Empty: not applicable or not known (never 0); `–`: hidden.
                let figure = |v: Option<u64>, hidden: bool, money: bool| match (v, hidden) {
                    (_, true) => SUPPRESSED.to_string(),
                    (Some(v), _) if money => kronor(v as i64, lang),
                    (Some(v), _) => v.to_string(),
                    (None, _) => String::new(),
                };
                vec![
                    c.label.clone(),
                    kronor(c.budget as i64, lang),
                    sek(c.actual),
                    c.deviation().map_or_else(unknown, |d| kronor(d, lang)),
                    figure(c.participants, c.too_few[0], false),
                    figure(c.per_participant, c.too_few[0], true),
                    figure(c.exits, c.too_few[1], false),
                    figure(c.per_exit, c.too_few[1], true),
                ]
            })
            .collect();
        out.push((
            "cost",
            format!(
                "{} {}",
                lang.pick(
                    "Kostnad per insats, kronor,",
                    "Cost per intervention, kronor,"
                ),
                years.join(", ")
            ),
            pick(&[
                ("Insats", "Intervention"),
                ("Budget", "Budget"),
                ("Utfall", "Actual cost"),
                ("Avvikelse (budget − utfall)", "Deviation (budget − actual)"),
                ("Deltagare", "Participants"),
                ("Kostnad per deltagare", "Cost per participant"),
                ("Till arbete eller studier", "To work or studies"),
                (
                    "Kostnad per avslut till arbete eller studier",
                    "Cost per exit to work or studies",
                ),
            ]),
            rows,
        ));
    }
    out
}

/// Whole kronor with thousands separated by a space ("1 250 000"), a
/// minus sign for a deficit.
pub fn kronor(v: i64, _lang: Lang) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{a0}');
        }
        out.push(c);
    }
    if v < 0 {
        format!("−{out}")
    } else {
        out
    }
}

/// The report heading: period and interventions.
pub fn heading(r: &Report) -> (String, String) {
    let lang = r.lang;
    let title = format!(
        "{} {} – {}",
        lang.pick("Uppföljning av deltagare", "Participant follow-up"),
        r.period.from,
        r.period.to
    );
    let mut sub = format!(
        "{}: {}",
        lang.pick("Insatser", "Interventions"),
        r.interventions.join(", ")
    );
    if let Some(n) = r.suppress_below {
        sub.push_str(&format!(
            "; {} {n} {}",
            lang.pick("antal under", "counts below"),
            lang.pick("visas som –", "shown as –")
        ));
    }
    (title, sub)
}

/// Title of the indicator section.
pub fn indicators_title(lang: Lang) -> &'static str {
    lang.pick(
        "Indikatorer (avslutade under perioden)",
        "Indicators (exited in the period)",
    )
}
