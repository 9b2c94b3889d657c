//! The data-quality list (`check --quality`, SPEC section 15): what needs
//! the coordinator's attention, named by enrolment (short id) and
//! intervention, never by person. A worklist, not an integrity failure.
//!
//! Rules, each with a stable id:
//! - `open_over_24_months`: no exit, and started more than 24 calendar
//!   months ago (an enrolment started exactly 24 months ago today is not
//!   listed yet);
//! - `exit_without_follow_up`: exited without support-after or
//!   step-progress answers (which one is said);
//! - `start_without_support_or_education`: no support or no education at
//!   start (which one is said);
//! - `start_in_future`: a start dated after today, or before the date of
//!   the referral it came from (SPEC 15's "in the future of their
//!   referral": `referral decide` refuses that, but a later edit of the
//!   start date can make it so);
//! - `intervention_idle_6_months`: an intervention with no registration
//!   within the last 6 calendar months: no start, exit, activity,
//!   referral or decision dated then (a date after today counts as
//!   today), no volume month reaching into
//!   them, and none in its sub-interventions either (an ESF project whose
//!   sub-interventions register is not idle). One with none at all counts
//!   from when it was added.
//!
//! Staff see their own interventions; coordinators all.

use chrono::{Months, NaiveDate};
use rusqlite::Connection;

use crate::actor::{Action, Actor};
use crate::codes::Lang;
use crate::error::Result;
use crate::model::short_id;
use crate::register::require;
use crate::store::{audit, rights as stored};

/// The rules in the order the list shows them.
pub const RULES: [&str; 5] = [
    "open_over_24_months",
    "exit_without_follow_up",
    "start_without_support_or_education",
    "start_in_future",
    "intervention_idle_6_months",
];

/// What a rule means, in the list's language.
pub fn rule_label(rule: &str, lang: Lang) -> &'static str {
    match rule {
        "open_over_24_months" => lang.pick(
            "Pågående i mer än 24 månader",
            "Open for more than 24 months",
        ),
        "exit_without_follow_up" => lang.pick(
            "Avslut utan uppföljningssvar",
            "Exit without follow-up answers",
        ),
        "start_without_support_or_education" => lang.pick(
            "Start utan försörjning eller utbildning",
            "Start without support or education",
        ),
        "start_in_future" => lang.pick(
            "Start framåt i tiden eller före remissen",
            "Start in the future or before its referral",
        ),
        "intervention_idle_6_months" => lang.pick(
            "Insats utan registreringar i 6 månader",
            "Intervention without registrations for 6 months",
        ),
        _ => "?",
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub intervention: String,
    /// The enrolment's short id (none for an intervention's finding).
    pub enrolment: Option<String>,
    pub detail: String,
}

pub fn quality(
    conn: &Connection,
    actor: &Actor,
    today: NaiveDate,
    lang: Lang,
) -> Result<Vec<Finding>> {
    let scope = require(actor, Action::ReadEnrolments)?;
    let long_ago = today - Months::new(24);
    let idle_since = today - Months::new(6);
    let mut out: Vec<Finding> = Vec::new();
    let finding = |rule, e: &stored::QualityRow, detail: String| Finding {
        rule,
        intervention: e.intervention.clone(),
        enrolment: Some(short_id(&e.id).to_string()),
        detail,
    };
    let missing = |pairs: &[(bool, &'static str, &'static str)]| -> String {
        pairs
            .iter()
            .filter(|(has, _, _)| !has)
            .map(|&(_, sv, en)| lang.pick(sv, en))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let referred: std::collections::HashMap<String, NaiveDate> =
        crate::store::beyond::started_referrals(conn)?
            .into_iter()
            .collect();
    for e in stored::quality_rows(conn)? {
        if !scope.covers(&e.intervention) {
            continue;
        }
        if e.exit.is_none() && e.start < long_ago {
            out.push(finding(
                RULES[0],
                &e,
                format!("{} {}", lang.pick("start", "started"), e.start),
            ));
        }
        if e.exit.is_some() && !(e.support_after && e.step_progress) {
            let m = missing(&[
                (
                    e.support_after,
                    "försörjning efter avslut saknas",
                    "support after exit missing",
                ),
                (
                    e.step_progress,
                    "stegförflyttning saknas",
                    "step progress missing",
                ),
            ]);
            out.push(finding(RULES[1], &e, m));
        }
        if !(e.support && e.education) {
            let m = missing(&[
                (e.support, "försörjning saknas", "support missing"),
                (e.education, "utbildning saknas", "education missing"),
            ]);
            out.push(finding(RULES[2], &e, m));
        }
        if e.start > today {
            out.push(finding(
                RULES[3],
                &e,
                format!("{} {}", lang.pick("start", "starts"), e.start),
            ));
        } else if let Some(&referral) = referred.get(&e.id).filter(|&&d| e.start < d) {
            out.push(finding(
                RULES[3],
                &e,
                format!(
                    "{} {}, {} {referral}",
                    lang.pick("start", "starts"),
                    e.start,
                    lang.pick("remiss", "referral")
                ),
            ));
        }
    }
    // Each intervention's latest registration: a start or exit (never
    // later than today), or a volume month (as its last day); a parent
    // takes its sub-interventions' too, so an ESF project whose
    // sub-interventions register is not idle.
    let activity = stored::intervention_activity(conn)?;
    let mut last: std::collections::HashMap<String, NaiveDate> = std::collections::HashMap::new();
    for a in &activity {
        let month_end = a.month.as_deref().and_then(|m| {
            NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                .ok()
                .map(|d| d + Months::new(1) - chrono::Days::new(1))
        });
        let own = [a.latest.map(|d| d.min(today)), month_end]
            .into_iter()
            .flatten()
            .max();
        let Some(mut d) = own else { continue };
        // Up the tree (a cycle cannot be stored; the bound is a guard).
        let mut code = Some(a.code.clone());
        for _ in 0..=activity.len() {
            let Some(c) = code else { break };
            let e = last.entry(c.clone()).or_insert(d);
            *e = (*e).max(d);
            d = *e;
            code = activity
                .iter()
                .find(|x| x.code == c)
                .and_then(|x| x.parent.clone());
        }
    }
    for a in &activity {
        if !scope.covers(&a.code) {
            continue;
        }
        let detail = match last.get(&a.code) {
            Some(&d) if d >= idle_since => continue,
            Some(d) => format!(
                "{} {d}",
                lang.pick("senaste registrering", "latest registration")
            ),
            None if a.added.as_str() >= idle_since.to_string().as_str() => continue,
            None => lang
                .pick("inga registreringar", "no registrations")
                .to_string(),
        };
        out.push(Finding {
            rule: RULES[4],
            intervention: a.code.clone(),
            enrolment: None,
            detail,
        });
    }
    out.sort_by_key(|f| RULES.iter().position(|&r| r == f.rule));
    let counts: Vec<String> = RULES
        .iter()
        .map(|r| format!("{r} {}", out.iter().filter(|f| f.rule == *r).count()))
        .collect();
    audit::record(conn, actor, "check-quality", None, Some(&counts.join(", ")))?;
    Ok(out)
}
