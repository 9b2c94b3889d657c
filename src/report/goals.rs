//! What the indicators measure and what they aim at (SPEC sections 6 and
//! 12): the three standard indicators, the förbund's own (success = an exit
//! outcome in a set), and the targets a report compares them with.
//!
//! A target is looked up, for an intervention, as: its target for the
//! report's year, else its standing target (set with the intervention),
//! else its parent's (by the same rule), else a förbund-defined
//! indicator's own target. The total row uses the förbund's target for the
//! year (`target set` without `--intervention`), else a förbund-defined
//! indicator's own target, else the target every contributing
//! intervention shares (none when they differ). A period across years uses
//! its last year's targets.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::actor::{Action, Actor};
use crate::codes::{Code, Lang, Outcome};
use crate::error::{Error, Field, Result};
use crate::model::{check_target, Intervention};
use crate::store::audit;
use crate::store::targets::{self, StoredIndicator, YearTarget};

/// The standard indicators' ids, in report order.
pub const STANDARD: [&str; 3] = ["work_or_studies", "step_progress", "quality_of_life"];

/// What counts as success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Goal {
    /// The exit outcome is one of these (a bit per `Outcome::ALL` index).
    Outcomes(u32),
    /// Step progress answered yes (of those answered yes or no).
    Step,
    /// Quality of life improved (of those answered).
    Qol,
}

impl Goal {
    pub fn mask(outcomes: &[Outcome]) -> u32 {
        outcomes.iter().fold(0, |m, o| m | 1 << o.index())
    }
}

/// One indicator the report computes.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Def {
    pub id: String,
    pub name_sv: String,
    pub name_en: String,
    pub goal: Goal,
    /// A förbund-defined indicator's own target.
    pub target: Option<f64>,
}

impl Def {
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.name_sv, &self.name_en)
    }

    fn standard(id: &str, sv: &str, en: &str, goal: Goal) -> Def {
        Def {
            id: id.into(),
            name_sv: sv.into(),
            name_en: en.into(),
            goal,
            target: None,
        }
    }

    /// The standing target an intervention carries for this indicator.
    fn standing(&self, i: &Intervention) -> Option<f64> {
        match self.id.as_str() {
            "work_or_studies" => i.target_work_studies,
            "step_progress" => i.target_step,
            "quality_of_life" => i.target_qol,
            _ => None,
        }
    }
}

/// The standard three, then the förbund's own in id order.
pub fn defs(conn: &Connection) -> Result<Vec<Def>> {
    let mut out = vec![
        Def::standard(
            "work_or_studies",
            "till arbete eller studier",
            "to work or studies",
            Goal::Outcomes(Goal::mask(&[Outcome::Work, Outcome::Studies])),
        ),
        Def::standard(
            "step_progress",
            "stegförflyttning",
            "step progress",
            Goal::Step,
        ),
        Def::standard(
            "quality_of_life",
            "ökad livskvalitet",
            "improved quality of life",
            Goal::Qol,
        ),
    ];
    for s in targets::indicators(conn)? {
        let outcomes = parse_outcomes(&s.outcomes).map_err(|_| {
            Error::Database(format!(
                "indicator '{}' has a damaged outcome list; run `sustrack check`",
                s.id
            ))
        })?;
        out.push(Def {
            id: s.id,
            name_sv: s.label_sv,
            name_en: s.label_en,
            goal: Goal::Outcomes(Goal::mask(&outcomes)),
            target: s.target,
        });
    }
    Ok(out)
}

/// `work,studies,job_seeking` (codes or Swedish labels) as outcomes.
pub fn parse_outcomes(s: &str) -> Result<Vec<Outcome>> {
    let mut out: Vec<Outcome> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let o = Outcome::parse(part).map_err(|_| {
            Error::invalid(
                Field::Outcomes,
                format!(
                    "'{part}' is not an exit outcome: accepted are {}",
                    Outcome::ALL
                        .iter()
                        .map(|o| o.code())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        if !out.contains(&o) {
            out.push(o);
        }
    }
    if out.is_empty() {
        return Err(Error::invalid(
            Field::Outcomes,
            "is empty: expected one or more exit outcomes, e.g. work,studies,job_seeking",
        ));
    }
    Ok(out)
}

/// The targets a report of a period ending in `year` uses.
pub struct Targets<'a> {
    all: &'a [Intervention],
    year: HashMap<(Option<String>, String), f64>,
}

impl<'a> Targets<'a> {
    pub fn load(conn: &Connection, all: &'a [Intervention], year: i32) -> Result<Targets<'a>> {
        Ok(Targets {
            all,
            year: targets::of_year(conn, year)?
                .into_iter()
                .map(|t| ((t.intervention, t.indicator), t.share))
                .collect(),
        })
    }

    /// An intervention's target: its year's, its standing, its parent's,
    /// the indicator's own.
    pub fn of(&self, def: &Def, code: &str) -> Option<f64> {
        let mut current = self.all.iter().find(|i| i.code == code);
        let mut hops = 0;
        while let Some(i) = current {
            let own = self
                .year
                .get(&(Some(i.code.clone()), def.id.clone()))
                .copied()
                .or_else(|| def.standing(i));
            if own.is_some() {
                return own;
            }
            hops += 1;
            if hops > 64 {
                break;
            }
            current = i
                .parent
                .as_ref()
                .and_then(|p| self.all.iter().find(|x| &x.code == p));
        }
        def.target
    }

    /// The förbund's own target for the total row, if set for the year.
    pub fn total(&self, def: &Def) -> Option<f64> {
        self.year
            .get(&(None, def.id.clone()))
            .copied()
            .or(def.target)
    }
}

/// `target set`: one year's targets for an intervention (or, without one,
/// for the förbund's total). Each given indicator's target is set or
/// replaced; the others stay as they were. Coordinators and admins.
pub fn target_set(
    conn: &Connection,
    actor: &Actor,
    intervention: Option<&str>,
    year: i32,
    shares: &[(String, f64)],
) -> Result<()> {
    crate::register::require(actor, Action::ManageInterventions)?;
    if !(1900..=9999).contains(&year) {
        return Err(Error::invalid(
            Field::Year,
            format!("{year} is out of range: expected a four-digit year"),
        ));
    }
    if shares.is_empty() {
        return Err(crate::invalid!(
            "no target given: give --work-or-studies, --step, --qol or --indicator ID=PCT"
        ));
    }
    let code = intervention
        .map(|c| crate::register::known_intervention(conn, c).map(|i| i.code))
        .transpose()?;
    let known = defs(conn)?;
    for (id, share) in shares {
        if !known.iter().any(|d| &d.id == id) {
            return Err(Error::invalid(
                Field::Indicator,
                format!(
                    "'{id}' is not an indicator: known are {}",
                    known
                        .iter()
                        .map(|d| d.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        check_target(Some(*share), Field::Target)?;
        targets::set(
            conn,
            &YearTarget {
                intervention: code.clone(),
                year,
                indicator: id.clone(),
                share: *share,
            },
        )?;
    }
    audit::record(
        conn,
        actor,
        "target set",
        Some(code.as_deref().unwrap_or("total")),
        Some(&format!(
            "year {year}; {}",
            shares
                .iter()
                .map(|(id, s)| format!("{id} {:.1} %", s * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    )?;
    Ok(())
}

/// An indicator id: a lower-case letter, then lower-case letters, digits
/// and `_`, at most 40 characters.
pub fn parse_indicator_id(s: &str) -> Result<String> {
    let id = s.trim();
    let ok = id.len() <= 40
        && id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(Error::invalid(
            Field::Indicator,
            format!("'{s}' is not an indicator id: expected a lower-case letter, then lower-case letters, digits and _, at most 40, e.g. work_studies_or_seeking"),
        ));
    }
    Ok(id.to_string())
}

fn label(s: &str, field: Field) -> Result<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 120 || t.chars().any(char::is_control) {
        return Err(Error::invalid(
            field,
            "is empty or too long: expected a label of 1 to 120 characters, e.g. 'till arbete, studier eller arbetssökande'",
        ));
    }
    Ok(t.to_string())
}

/// `indicator add`: a förbund-defined indicator. Coordinators and admins.
pub fn indicator_add(
    conn: &Connection,
    actor: &Actor,
    id: &str,
    outcomes: &str,
    label_sv: &str,
    label_en: &str,
    target: Option<f64>,
) -> Result<()> {
    crate::register::require(actor, Action::ManageInterventions)?;
    let id = parse_indicator_id(id)?;
    if STANDARD.contains(&id.as_str()) {
        return Err(Error::Conflict(format!(
            "'{id}' is a standard indicator: choose another id"
        )));
    }
    if targets::indicator_get(conn, &id)?.is_some() {
        return Err(Error::Conflict(format!("indicator '{id}' already exists")));
    }
    let list = parse_outcomes(outcomes)?;
    check_target(target, Field::Target)?;
    let d = StoredIndicator {
        id: id.clone(),
        outcomes: list.iter().map(|o| o.code()).collect::<Vec<_>>().join(","),
        label_sv: label(label_sv, Field::LabelSv)?,
        label_en: label(label_en, Field::LabelEn)?,
        target,
    };
    targets::indicator_insert(conn, &d)?;
    audit::record(
        conn,
        actor,
        "indicator add",
        Some(&id),
        Some(&format!("outcomes {}", d.outcomes)),
    )?;
    Ok(())
}
