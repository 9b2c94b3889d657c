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

use super::{Indicator, Report, Table};
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

/// Header and body cells of a table as text, including share columns
/// where the table has shares. The first column is the row label; the
/// last body row is the total.
pub fn cells(t: &Table, lang: Lang) -> (Vec<String>, Vec<Vec<String>>) {
    let with_shares = t.rows.iter().any(|r| r.shares.is_some());
    let mut header = vec![t.title.clone()];
    header.extend(t.columns.iter().cloned());
    if with_shares {
        header.extend(t.columns.iter().map(|c| format!("{c} %")));
    }
    let mut body = Vec::new();
    for r in &t.rows {
        let mut line = vec![r.label.clone()];
        line.extend(r.values.iter().map(|&v| count(v)));
        if let Some(shares) = &r.shares {
            line.extend(shares.iter().map(|&s| percent(s, lang)));
        }
        body.push(line);
    }
    let mut total = vec![t.total_label.clone()];
    total.extend(t.total.iter().map(|&v| count(v)));
    if with_shares {
        total.extend(t.total.iter().map(|v| percent(v.map(|_| 1.0), lang)));
    }
    body.push(total);
    (header, body)
}

/// Indicator names.
pub fn indicator_name(id: &str, lang: Lang) -> &'static str {
    match id {
        "work_or_studies" => lang.pick("till arbete eller studier", "to work or studies"),
        "step_progress" => lang.pick("stegförflyttning", "step progress"),
        _ => lang.pick("ökad livskvalitet", "improved quality of life"),
    }
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

/// The columns of the indicator table shared by text, md, csv, html, xlsx.
pub fn indicator_header(lang: Lang) -> Vec<String> {
    [
        ("Indikator", "Indicator"),
        ("Insats", "Intervention"),
        ("Resultat", "Result"),
        ("Antal", "Count"),
        ("Av", "Of"),
        ("Andel", "Share"),
        ("Mål", "Target"),
        ("Uppnått", "Met"),
    ]
    .iter()
    .map(|(s, e)| lang.pick(s, e).to_string())
    .collect()
}

pub fn indicator_cells(i: &Indicator, lang: Lang) -> Vec<String> {
    let too_few = lang.pick("för få för att redovisa", "too few to report");
    vec![
        indicator_name(i.id, lang).to_string(),
        i.intervention
            .clone()
            .unwrap_or_else(|| lang.pick("Totalt", "Total").into()),
        if i.too_few {
            too_few.into()
        } else {
            i.phrase.clone().unwrap_or_else(|| "–".into())
        },
        count(i.numerator),
        count(i.denominator),
        if i.share.is_some() {
            percent(i.share, lang)
        } else {
            "–".into()
        },
        i.target
            .map(|t| target_text(t, lang))
            .unwrap_or_else(|| "–".into()),
        match i.met {
            Some(true) => lang.pick("ja", "yes").into(),
            Some(false) => lang.pick("nej", "no").into(),
            None => "–".into(),
        },
    ]
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
