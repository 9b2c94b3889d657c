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
use crate::beyond::{self, DecisionInput, Referral, ReferralInput};
use crate::codes::{Code, Decision, Gender};
use crate::error::{Error, Field};
use crate::identity::Fingerprint;
use crate::model::Enrolment;
use crate::register::{self, ExitInput, ExitTarget, Participant, Person, StartInput};
use crate::store::beyond as beyond_store;
use crate::store::enrolments::{self as store, ParticipantKey};
use crate::store::interventions;

use super::parse::{
    ActivityRow, BudgetRow, Event, ExitRow, IndicatorRow, InterventionRow, ReferralRow, StartRow,
    TargetRow, VolumeRow, Who,
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
    /// Activities: how many were stored with a row's exact facts before
    /// this import, and how many rows of the file had them so far.
    activities_seen: HashMap<ActivityKey, (usize, usize)>,
    /// Referrals: those stored with a row's facts before this import
    /// that no earlier row of the file has matched yet.
    referrals_stored: HashMap<ReferralKey, Vec<Referral>>,
    /// Interventions the actor may register in, checked in this import.
    reachable: HashSet<String>,
    pub summary: Summary,
}

/// An activity's facts: two rows with the same are the same occasion
/// only as often as the file repeats them.
type ActivityKey = (String, NaiveDate, &'static str, u32, u32, u32, Option<u32>);

/// A referral's facts (a referral has no other identity in a file).
type ReferralKey = (
    String,
    NaiveDate,
    &'static str,
    Option<i32>,
    Option<String>,
    Option<&'static str>,
);

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
        | Outcomes | LabelSv | LabelEn | Target | Unknown | Organisations | Decision | Budget
        | Actual | Enrolment => field.name(),
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

/// Whether a stored referral is what a row says: the same decision (date
/// and enrolment) or, for a row without one, any.
fn same_decision_of(r: &Referral, d: &Option<(Decision, NaiveDate, Option<String>)>) -> bool {
    match d {
        None => true,
        Some((d, on, e)) => {
            r.decision == Some(*d)
                && r.decided == Some(*on)
                && match (&r.enrolment, e) {
                    (Some(stored), Some(given)) => {
                        stored.starts_with(&given.trim().to_ascii_lowercase())
                    }
                    (None, None) => true,
                    _ => false,
                }
        }
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
            activities_seen: HashMap::new(),
            referrals_stored: HashMap::new(),
            reachable: HashSet::new(),
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
            Event::Activity(row) => self.activity(row),
            Event::Referral(row) => self.referral(row),
            Event::Budget(row) => self.budget(row),
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

    /// The code of an intervention the actor may register in, checked
    /// before anything stored is compared with a row (one outside their
    /// own is unknown, in the domain's words); once per import.
    fn reachable(&mut self, line: u64, code: &str) -> Result<String, RowError> {
        let code = code.trim().to_ascii_uppercase();
        if !self.reachable.contains(&code) {
            let scope = register::require(self.actor, crate::actor::Action::Beyond)
                .map_err(|e| row_error(line, "intervention", e))?;
            register::intervention_in(self.conn, &scope, &code)
                .map_err(|e| row_error(line, "intervention", e))?;
            self.reachable.insert(code.clone());
        }
        Ok(code)
    }

    /// An activity through `activity add`. Re-importing a file adds
    /// nothing: the n-th row with the same facts (intervention, date,
    /// kind, counts) is skipped when at least n such activities were
    /// stored before the import.
    fn activity(&mut self, row: ActivityRow) -> Result<(), RowError> {
        let ActivityRow { line, input } = row;
        let code = self.reachable(line, &input.intervention)?;
        let key: ActivityKey = (
            code.clone(),
            input.date,
            input.kind.code(),
            input.women,
            input.men,
            input.unknown,
            input.organisations,
        );
        if !self.activities_seen.contains_key(&key) {
            let stored = beyond_store::activities(self.conn, &[code], input.date, input.date)
                .map_err(|e| row_error(line, "intervention", e))?
                .iter()
                .filter(|a| {
                    a.kind == input.kind
                        && (a.women, a.men, a.unknown, a.organisations)
                            == (input.women, input.men, input.unknown, input.organisations)
                })
                .count();
            self.activities_seen.insert(key.clone(), (stored, 0));
        }
        let seen = self.activities_seen.get_mut(&key).expect("inserted above");
        seen.1 += 1;
        if seen.1 <= seen.0 {
            self.summary.skipped += 1;
            return Ok(());
        }
        beyond::activity_add(self.conn, self.actor, self.today, input)
            .map_err(|e| row_error(line, "intervention", e))?;
        self.summary.activities += 1;
        Ok(())
    }

    /// A referral through `referral add` and, when the row has a decision,
    /// `referral decide` on the new referral: both or neither (a
    /// savepoint). Re-importing adds nothing: a row matches a referral
    /// stored before the import with the same facts (intervention, date,
    /// gender, birth year, municipality, referrer) that no earlier row
    /// matched; it is skipped when it says nothing else or the same
    /// decision, an undecided one gets the row's decision, another
    /// decision is a conflict.
    fn referral(&mut self, row: ReferralRow) -> Result<(), RowError> {
        let ReferralRow {
            line,
            input,
            decision,
        } = row;
        let code = self.reachable(line, &input.intervention)?;
        let key: ReferralKey = (
            code.clone(),
            input.date,
            input.gender.code(),
            input.birth_year,
            input.municipality.as_ref().map(|m| m.to_string()),
            input.referrer.map(|r| r.code()),
        );
        if !self.referrals_stored.contains_key(&key) {
            let stored: Vec<Referral> =
                beyond_store::referrals(self.conn, &[code], input.date, input.date)
                    .map_err(|e| row_error(line, "intervention", e))?
                    .into_iter()
                    .filter(|r| {
                        r.gender == input.gender
                            && r.birth_year == input.birth_year
                            && r.municipality == input.municipality
                            && r.referrer == input.referrer
                    })
                    .collect();
            self.referrals_stored.insert(key.clone(), stored);
        }
        let candidates = self.referrals_stored.get_mut(&key).expect("inserted above");
        // The stored referral this row is: one with the same decision, else
        // an undecided one, else (a conflict) any.
        let matched = candidates
            .iter()
            .position(|r| same_decision_of(r, &decision))
            .or_else(|| candidates.iter().position(|r| r.decision.is_none()))
            .or(if candidates.is_empty() { None } else { Some(0) });
        let existing = matched.map(|i| candidates.remove(i));
        match (existing, decision) {
            // A row without a decision matches any stored referral.
            (Some(r), d) if same_decision_of(&r, &d) => {
                self.summary.skipped += 1;
                Ok(())
            }
            (Some(r), Some((d, on, enrolment))) if r.decision.is_none() => {
                self.decide(line, &r.id, d, on, enrolment)?;
                self.summary.decisions += 1;
                Ok(())
            }
            (Some(r), _) => Err(conflict_fix(
                line,
                "decision",
                format!(
                    "referral {} received {} was decided {} on {}",
                    crate::model::short_id(&r.id),
                    r.date,
                    r.decision.map_or("-", |d| d.code()),
                    r.decided.map_or("-".into(), |d| d.to_string())
                ),
                "leave the decision out of the file",
            )),
            (None, decision) => {
                self.conn
                    .execute_batch("SAVEPOINT import_referral")
                    .map_err(|e| row_error(line, "intervention", e.into()))?;
                let done = self.add_referral(line, input, decision);
                let end = if done.is_ok() {
                    "RELEASE import_referral"
                } else {
                    "ROLLBACK TO import_referral; RELEASE import_referral"
                };
                self.conn
                    .execute_batch(end)
                    .map_err(|e| row_error(line, "intervention", e.into()))?;
                done
            }
        }
    }

    fn add_referral(
        &mut self,
        line: u64,
        input: ReferralInput,
        decision: Option<(Decision, NaiveDate, Option<String>)>,
    ) -> Result<(), RowError> {
        let r = beyond::referral_add(self.conn, self.actor, self.today, input)
            .map_err(|e| row_error(line, "intervention", e))?;
        if let Some((d, on, enrolment)) = decision {
            self.decide(line, &r.id, d, on, enrolment)?;
            self.summary.decisions += 1;
        }
        self.summary.referrals += 1;
        Ok(())
    }

    /// `referral decide`; a refusal names the decision's own columns.
    fn decide(
        &mut self,
        line: u64,
        id: &str,
        decision: Decision,
        date: NaiveDate,
        enrolment: Option<String>,
    ) -> Result<(), RowError> {
        let fallback = if enrolment.is_some() {
            "enrolment"
        } else {
            "decision"
        };
        let input = DecisionInput {
            referral: id.to_string(),
            decision,
            date,
            enrolment,
        };
        beyond::referral_decide(self.conn, self.actor, self.today, input).map_err(|e| {
            // The decision's date is its own column, not the referral's.
            if e.field() == Some(Field::Date) {
                RowError {
                    line,
                    column: "decision_date".into(),
                    reason: e.to_string(),
                }
            } else {
                row_error(line, fallback, e)
            }
        })?;
        Ok(())
    }

    /// A budget line through `budget set`: one stored with the same
    /// amounts is skipped, and an actual cost given for a line stored
    /// without one completes it; other stored amounts are a conflict
    /// (revise them with `budget set`), never overwritten.
    fn budget(&mut self, row: BudgetRow) -> Result<(), RowError> {
        let BudgetRow { line, input } = row;
        // Checked as the domain checks, before anything stored is compared.
        register::require(self.actor, crate::actor::Action::Budget)
            .map_err(|e| row_error(line, "intervention", e))?;
        let code = register::known_intervention(self.conn, &input.intervention)
            .map_err(|e| row_error(line, "intervention", e))?
            .code;
        let stored = beyond_store::get_budget(self.conn, &code, input.year)
            .map_err(|e| row_error(line, "year", e))?;
        if let Some(b) = stored {
            if b.budget == input.budget && (b.actual == input.actual || input.actual.is_none()) {
                self.summary.skipped += 1;
                return Ok(());
            }
            if b.budget != input.budget || b.actual.is_some() {
                let (column, what) = if b.budget != input.budget {
                    ("budget", format!("a budget of {} kr", b.budget))
                } else {
                    (
                        "actual",
                        format!("an actual cost of {} kr", b.actual.unwrap_or(0)),
                    )
                };
                return Err(conflict_fix(
                    line,
                    column,
                    format!("{code} {} is stored with {what}", input.year),
                    "revise it with `sustrack budget set`",
                ));
            }
        }
        beyond::budget_set(self.conn, self.actor, self.today, input)
            .map_err(|e| row_error(line, "intervention", e))?;
        self.summary.budgets += 1;
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
