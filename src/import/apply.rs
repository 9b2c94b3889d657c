//! Phase 2: each event through `register`, one function per kind of row.
//!
//! `register` checks every rule before it writes, so a refused row leaves
//! nothing behind and later rows are checked as if it were absent. A row
//! the rules refuse may be a re-import: if the same facts are stored it is
//! skipped, if other facts are stored under the same participant,
//! intervention and date it is a conflict.
//!
//! Which column an error names follows from which step failed, never from
//! the wording of the error: the intervention check, finding the
//! participant's open enrolment, or the rules of the registration itself.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rusqlite::Connection;

use crate::actor::Actor;
use crate::codes::{Code, Gender};
use crate::error::{Error, Field};
use crate::identity::Fingerprint;
use crate::model::Enrolment;
use crate::register::{self, ExitInput, ExitTarget, Participant, Person, StartInput};
use crate::store::enrolments::{self as store, ParticipantKey};
use crate::store::interventions;

use super::parse::{
    Event, ExitRow, IndicatorRow, InterventionRow, StartRow, TargetRow, VolumeRow, Who,
};
use super::{RowError, Summary};

/// Enrolments started by this import and still open, remembered so that
/// their exits skip three look-ups; bounded so a huge file stays small.
const OPEN_REMEMBERED: usize = 100_000;

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Person(Fingerprint),
    Local(String),
}

pub(super) struct Applier<'c> {
    conn: &'c Connection,
    actor: &'c Actor,
    today: NaiveDate,
    /// Individual interventions already checked in this import.
    known: HashSet<String>,
    /// (participant, intervention) -> id of the open enrolment this import started.
    open: HashMap<(Key, String), String>,
    pub summary: Summary,
}

/// A refusal as a row error: the column of the field the domain names,
/// else `column` (the cell of the step that failed).
fn row_error(line: u64, column: &str, e: Error) -> RowError {
    RowError {
        line,
        column: e.field().and_then(column_of).unwrap_or(column).into(),
        reason: e.to_string(),
    }
}

/// The CSV column of a domain field, if the import has one.
fn column_of(field: Field) -> Option<&'static str> {
    use Field::*;
    Some(match field {
        Date | StartDate | ExitDate => "date",
        Intervention | Pnr | Consent | LocalId | Gender | BirthYear | Municipality | Support
        | YearsInSupport | Education | Referrer | Outcome | SupportAfter | StepProgress
        | QualityOfLife | Event | Code | Name | Parent | Kind | TargetWorkStudies | TargetStep
        | TargetQol | Month | Women | Men | Year | WorkOrStudies | Step | Qol | Indicator
        | Outcomes | LabelSv | LabelEn | Target => field.name(),
        _ => return None,
    })
}

fn conflict(line: u64, column: &str, what: String) -> RowError {
    conflict_fix(line, column, what, "use `sustrack edit`")
}

/// A conflict with what is stored, and the command that changes it.
fn conflict_fix(line: u64, column: &str, what: String, fix: &str) -> RowError {
    RowError {
        line,
        column: column.into(),
        reason: format!("conflicts with what is stored: {what}; correct the file or {fix}"),
    }
}

/// Two shares equal to well within what a percentage cell can say.
fn same_share(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

fn key(who: &Who, fps: &[Fingerprint]) -> Key {
    match who {
        Who::Pnr { index, .. } => Key::Person(fps[*index]),
        Who::Local { local_id, .. } => Key::Local(local_id.clone()),
    }
}

impl<'c> Applier<'c> {
    pub fn new(conn: &'c Connection, actor: &'c Actor, today: NaiveDate) -> Self {
        Applier {
            conn,
            actor,
            today,
            known: HashSet::new(),
            open: HashMap::new(),
            summary: Summary::default(),
        }
    }

    /// Apply one event; `fps` are the fingerprints of its batch.
    pub fn apply(&mut self, ev: Event, fps: &[Fingerprint]) -> Result<(), RowError> {
        match ev {
            Event::Start(row) => self.start(row, fps),
            Event::Exit(row) => self.exit(row, fps),
            Event::Intervention(row) => self.intervention(row),
            Event::Volume(row) => self.volume(row),
            Event::Target(row) => self.target(row),
            Event::Indicator(row) => self.indicator(row),
        }
    }

    fn check_individual(&mut self, line: u64, code: &str) -> Result<(), RowError> {
        if !self.known.contains(code) {
            register::individual_intervention(self.conn, code)
                .map_err(|e| row_error(line, "intervention", e))?;
            self.known.insert(code.to_string());
        }
        Ok(())
    }

    fn start(&mut self, row: StartRow, fps: &[Fingerprint]) -> Result<(), RowError> {
        let StartRow {
            line,
            intervention,
            who,
            date,
            facts,
        } = row;
        self.check_individual(line, &intervention)?;
        let participant = match &who {
            Who::Pnr {
                index,
                gender,
                birth_date,
                consent,
            } => Participant::Person(
                Person::new(fps[*index], *gender, *birth_date, *consent, self.today)
                    .map_err(|e| row_error(line, "consent", e))?,
            ),
            Who::Local {
                local_id,
                gender,
                birth_year,
            } => Participant::Anonymous {
                gender: gender.unwrap_or(Gender::Woman),
                birth_year: *birth_year,
                local_id: Some(local_id.clone()),
            },
        };
        let (gender, birth_year) = match &participant {
            Participant::Person(p) => (p.gender(), Some(p.birth_year())),
            Participant::Anonymous {
                gender, birth_year, ..
            } => (*gender, *birth_year),
        };
        let input = StartInput {
            intervention: intervention.clone(),
            participant,
            date,
            facts: facts.clone(),
        };
        // The common case first; the re-import check runs only when the rules refuse.
        match register::start(self.conn, self.actor, self.today, input) {
            Ok(e) => {
                if self.open.len() >= OPEN_REMEMBERED {
                    self.open.clear();
                }
                self.open.insert((key(&who, fps), intervention), e.id);
                self.summary.starts += 1;
                Ok(())
            }
            // The intervention exists (checked above) but lies outside
            // the actor's interventions: for them it is unknown.
            Err(refused @ Error::NotFound(_)) => Err(row_error(line, "intervention", refused)),
            Err(refused) => {
                // The intervention was checked above and the participant
                // needs no look-up to start: the rules refused the dates.
                let stored = self
                    .stored(&who, &intervention, fps)
                    .map_err(|e| row_error(line, "date", e))?;
                let Some(e) = stored.iter().find(|e| e.start == date) else {
                    return Err(row_error(line, "date", refused));
                };
                if e.facts != facts || e.gender != gender || e.birth_year != birth_year {
                    return Err(conflict(
                        line,
                        "date",
                        format!(
                            "enrolment {} starting {} has other start facts",
                            e.short_id(),
                            e.start
                        ),
                    ));
                }
                self.summary.skipped += 1;
                Ok(())
            }
        }
    }

    fn exit(&mut self, row: ExitRow, fps: &[Fingerprint]) -> Result<(), RowError> {
        let ExitRow {
            line,
            intervention,
            who,
            date,
            outcome,
            after,
        } = row;
        self.check_individual(line, &intervention)?;
        let (who_column, by_who) = match &who {
            Who::Pnr { index, .. } => (
                "pnr",
                ExitTarget::Person {
                    fingerprint: fps[*index],
                    intervention: intervention.clone(),
                },
            ),
            Who::Local { local_id, .. } => (
                "local_id",
                ExitTarget::Local {
                    local_id: local_id.clone(),
                    intervention: intervention.clone(),
                },
            ),
        };
        let open_key = (key(&who, fps), intervention.clone());
        let target = match self.open.get(&open_key) {
            Some(id) => ExitTarget::Id(id.clone()),
            None => by_who.clone(),
        };
        let input = ExitInput {
            date,
            outcome,
            after: after.clone(),
        };
        let refused = match register::exit(self.conn, self.actor, self.today, &target, input) {
            Ok(_) => {
                self.open.remove(&open_key);
                self.summary.exits += 1;
                return Ok(());
            }
            Err(refused) => refused,
        };
        // Already stored (a re-import)? Then it must match exactly.
        let stored = self
            .stored(&who, &intervention, fps)
            .map_err(|e| row_error(line, who_column, e))?;
        if let Some(e) = stored.iter().find(|e| e.exit == Some(date)) {
            if e.outcome != Some(outcome) || e.after != after {
                return Err(conflict(
                    line,
                    "outcome",
                    format!(
                        "enrolment {} exited {} with other exit facts",
                        e.short_id(),
                        date
                    ),
                ));
            }
            self.summary.skipped += 1;
            return Ok(());
        }
        // Which step refused: finding the participant's open enrolment (the
        // pnr or local_id cell), or the exit's own rules (the date cell).
        if register::find_target(self.conn, self.actor, &by_who).is_err() {
            let mut e = row_error(line, who_column, refused);
            if stored.is_empty() {
                e.reason.push_str(" (is the start row missing?)");
            }
            return Err(e);
        }
        Err(row_error(line, "date", refused))
    }

    fn intervention(&mut self, row: InterventionRow) -> Result<(), RowError> {
        let InterventionRow {
            line,
            intervention: i,
        } = row;
        match interventions::get(self.conn, &i.code).map_err(|e| row_error(line, "code", e))? {
            Some(stored) if stored == i => self.summary.skipped += 1,
            Some(_) => {
                return Err(conflict(
                    line,
                    "code",
                    format!("intervention {} is stored with other details", i.code),
                ))
            }
            None => {
                // The code is new (just checked), so a refusal is about the parent.
                let column = if i.parent.is_some() { "parent" } else { "code" };
                register::intervention_add(self.conn, self.actor, i)
                    .map_err(|e| row_error(line, column, e))?;
                self.summary.interventions += 1;
            }
        }
        Ok(())
    }

    fn volume(&mut self, row: VolumeRow) -> Result<(), RowError> {
        let VolumeRow {
            line,
            intervention,
            month,
            women,
            men,
        } = row;
        let key = format!("{:04}-{:02}", month.0, month.1);
        let stored = crate::store::volume::get(self.conn, &intervention, &key)
            .map_err(|e| row_error(line, "intervention", e))?;
        match stored {
            Some(s) if s == (women, men) => self.summary.skipped += 1,
            Some(_) => {
                return Err(conflict(
                    line,
                    "women",
                    format!("{intervention} {key} is stored with other head counts"),
                ))
            }
            None => {
                register::volume_add(
                    self.conn,
                    self.actor,
                    self.today,
                    &intervention,
                    register::VolumeCounts { month, women, men },
                    false,
                )
                .map_err(|e| row_error(line, "intervention", e))?;
                self.summary.volumes += 1;
            }
        }
        Ok(())
    }

    /// A year's targets through `target set`: those stored with the same
    /// value are skipped, another stored value is a conflict.
    fn target(&mut self, row: TargetRow) -> Result<(), RowError> {
        let TargetRow {
            line,
            intervention,
            year,
            shares,
        } = row;
        let stored = crate::store::targets::of_year(self.conn, year)
            .map_err(|e| row_error(line, "year", e))?;
        let mut new = Vec::new();
        for (id, share, column) in shares {
            let same_key = |t: &&crate::store::targets::YearTarget| {
                t.intervention == intervention && t.indicator == id
            };
            match stored.iter().find(same_key) {
                Some(t) if same_share(t.share, share) => {}
                Some(t) => {
                    return Err(conflict_fix(
                        line,
                        column,
                        format!(
                            "the {year} target for {id} of {} is {}, not {}",
                            intervention.as_deref().unwrap_or("the total"),
                            percent(t.share),
                            percent(share)
                        ),
                        "change it with `sustrack target set`",
                    ))
                }
                None => new.push((id.to_string(), share)),
            }
        }
        if new.is_empty() {
            self.summary.skipped += 1;
            return Ok(());
        }
        // The targets' own values were checked when read: the domain may
        // refuse the intervention (unknown) or the year (out of range).
        crate::report::goals::target_set(
            self.conn,
            self.actor,
            intervention.as_deref(),
            year,
            &new,
        )
        .map_err(|e| row_error(line, "intervention", e))?;
        self.summary.targets += new.len() as u64;
        Ok(())
    }

    /// A förbund-defined indicator through `indicator add`: one stored
    /// exactly as given is skipped, another under the same id a conflict.
    fn indicator(&mut self, row: IndicatorRow) -> Result<(), RowError> {
        use crate::report::goals::{self, Goal};
        let IndicatorRow {
            line,
            id,
            outcomes,
            label_sv,
            label_en,
            target,
        } = row;
        let stored = crate::store::targets::indicator_get(self.conn, &id)
            .map_err(|e| row_error(line, "indicator", e))?;
        if let Some(s) = stored {
            let same_outcomes = goals::parse_outcomes(&s.outcomes)
                .is_ok_and(|o| Goal::mask(&o) == Goal::mask(&outcomes));
            let differs = if !same_outcomes {
                Some(("outcomes", format!("outcomes {}", s.outcomes)))
            } else if s.label_sv != label_sv {
                Some(("label_sv", format!("the Swedish label '{}'", s.label_sv)))
            } else if s.label_en != label_en {
                Some(("label_en", format!("the English label '{}'", s.label_en)))
            } else if !match (s.target, target) {
                (Some(a), Some(b)) => same_share(a, b),
                (a, b) => a.is_none() && b.is_none(),
            } {
                Some((
                    "target",
                    format!(
                        "the target {}",
                        s.target.map_or_else(|| "(none)".to_string(), percent)
                    ),
                ))
            } else {
                None
            };
            return match differs {
                None => {
                    self.summary.skipped += 1;
                    Ok(())
                }
                Some((column, what)) => Err(conflict_fix(
                    line,
                    column,
                    format!("indicator '{id}' is stored with {what}"),
                    "give the new definition another id",
                )),
            };
        }
        let codes = outcomes
            .iter()
            .map(|o| o.code())
            .collect::<Vec<_>>()
            .join(",");
        // The id was read as an id: a refusal names the field it is about,
        // else the id (a standard indicator's id).
        goals::indicator_add(
            self.conn, self.actor, &id, &codes, &label_sv, &label_en, target,
        )
        .map_err(|e| row_error(line, "indicator", e))?;
        self.summary.indicators += 1;
        Ok(())
    }

    /// The stored enrolments of a row's participant in the intervention.
    fn stored(
        &self,
        who: &Who,
        intervention: &str,
        fps: &[Fingerprint],
    ) -> crate::error::Result<Vec<Enrolment>> {
        match who {
            Who::Pnr { index, .. } => match store::find_person(self.conn, &fps[*index])? {
                Some(id) => {
                    store::of_participant(self.conn, ParticipantKey::Person(id), intervention)
                }
                None => Ok(Vec::new()),
            },
            Who::Local { local_id, .. } => {
                store::of_participant(self.conn, ParticipantKey::Local(local_id), intervention)
            }
        }
    }
}
