//! `activity add|list`, `referral add|decide|list`, `budget set|list`
//! (SPEC section 13): parse what was typed, call `beyond`, print.

use chrono::Datelike;

use crate::beyond::{self, ActivityInput, BudgetInput, DecisionInput, ReferralInput};
use crate::codes::{ActivityKind, Code, Decision, Gender, Lang};
use crate::error::{Field, Result};
use crate::invalid;
use crate::model::{parse_birth_year, parse_date, parse_municipality, parse_sek, short_id};
use crate::report::render::text::grid;

use super::{opt_code, today, ActivityCmd, BudgetCmd, ReferralCmd};

pub fn activity(db: &mut super::Ctx, cmd: ActivityCmd) -> Result<()> {
    match cmd {
        ActivityCmd::Add {
            intervention,
            date,
            kind,
            women,
            men,
            unknown,
            organisations,
        } => {
            let input = ActivityInput {
                intervention,
                date: parse_date(&date, Field::Date)?,
                kind: opt_code::<ActivityKind>(&Some(kind), "kind")?.expect("given"),
                women,
                men,
                unknown,
                organisations,
            };
            let today = today();
            let a = db.write(|tx, actor| beyond::activity_add(tx, actor, today, input))?;
            say!(
                "{}\nregistered a {} in {} on {}: {} attendee(s)",
                a.id,
                a.kind.label(Lang::En).to_lowercase(),
                a.intervention,
                a.date,
                a.women + a.men + a.unknown
            )
        }
        ActivityCmd::List { intervention } => {
            let today = today();
            // Head counts only: not recorded as a read.
            let list = beyond::recent_activities(&db.conn, &db.actor, &intervention, today)?;
            let mut rows = vec![[
                "id",
                "date",
                "kind",
                "women",
                "men",
                "unknown",
                "organisations",
            ]
            .map(String::from)
            .to_vec()];
            for a in list {
                rows.push(vec![
                    short_id(&a.id).to_string(),
                    a.date.to_string(),
                    a.kind.code().to_string(),
                    a.women.to_string(),
                    a.men.to_string(),
                    a.unknown.to_string(),
                    a.organisations.map_or("-".into(), |n| n.to_string()),
                ]);
            }
            super::emit(None, grid(&rows).as_bytes())
        }
    }
}

pub fn referral(db: &mut super::Ctx, cmd: ReferralCmd) -> Result<()> {
    let today = today();
    match cmd {
        ReferralCmd::Add {
            intervention,
            date,
            gender,
            birth_year,
            municipality,
            referrer,
        } => {
            let input = ReferralInput {
                intervention,
                date: parse_date(&date, Field::Date)?,
                gender: opt_code::<Gender>(&Some(gender), "gender")?.expect("given"),
                birth_year: birth_year
                    .as_deref()
                    .map(|y| parse_birth_year(y, today))
                    .transpose()?,
                municipality: municipality
                    .as_deref()
                    .map(parse_municipality)
                    .transpose()?,
                referrer: opt_code(&referrer, "referrer")?,
            };
            let r = db.write(|tx, actor| beyond::referral_add(tx, actor, today, input))?;
            say!(
                "{}\nregistered a referral to {} received {}",
                r.id,
                r.intervention,
                r.date
            )
        }
        ReferralCmd::Decide {
            referral,
            decision,
            date,
            enrolment,
        } => {
            let input = DecisionInput {
                referral,
                decision: opt_code::<Decision>(&Some(decision), "decision")?.expect("given"),
                date: parse_date(&date, Field::Date)?,
                enrolment,
            };
            let r = db.write(|tx, actor| beyond::referral_decide(tx, actor, today, input))?;
            say!(
                "referral {} decided: {} on {}",
                short_id(&r.id),
                r.decision.map_or("-", |d| d.code()),
                r.decided.map_or("-".into(), |d| d.to_string())
            )
        }
        ReferralCmd::List { intervention } => {
            let list = db.write(|tx, actor| beyond::open_referrals(tx, actor, &intervention))?;
            let mut rows = vec![[
                "id",
                "received",
                "gender",
                "born",
                "municipality",
                "referrer",
            ]
            .map(String::from)
            .to_vec()];
            for r in list {
                rows.push(vec![
                    short_id(&r.id).to_string(),
                    r.date.to_string(),
                    r.gender.code().to_string(),
                    r.birth_year.map_or("-".into(), |y| y.to_string()),
                    r.municipality
                        .as_ref()
                        .map_or("-".into(), |m| m.label().to_string()),
                    r.referrer.map_or("-", |c| c.code()).to_string(),
                ]);
            }
            super::emit(None, grid(&rows).as_bytes())
        }
    }
}

pub fn budget(db: &mut super::Ctx, cmd: BudgetCmd) -> Result<()> {
    let today = today();
    match cmd {
        BudgetCmd::Set {
            intervention,
            year,
            budget,
            actual,
        } => {
            let input = BudgetInput {
                intervention,
                year,
                budget: parse_sek(&budget, Field::Budget)?,
                actual: actual
                    .as_deref()
                    .map(|a| parse_sek(a, Field::Actual))
                    .transpose()?,
            };
            let code = input.intervention.to_ascii_uppercase();
            let replaced = db.write(|tx, actor| beyond::budget_set(tx, actor, today, input))?;
            say!(
                "{} the budget of {code} for {year}",
                if replaced { "revised" } else { "set" }
            )
        }
        BudgetCmd::List { year } => {
            let year = year.unwrap_or(today.year());
            if !(1900..=9999).contains(&year) {
                return Err(invalid!(
                    "invalid --year '{year}': expected a four-digit year"
                ));
            }
            let list = beyond::budgets(&db.conn, &db.actor, year)?;
            if list.is_empty() {
                return say!("no budgets for {year}; set one with `sustrack budget set --intervention CODE --year {year} --budget SEK`");
            }
            let mut rows = vec![["intervention", "year", "budget", "actual"]
                .map(String::from)
                .to_vec()];
            for b in list {
                rows.push(vec![
                    b.intervention,
                    b.year.to_string(),
                    b.budget.to_string(),
                    b.actual.map_or("-".into(), |a| a.to_string()),
                ]);
            }
            super::emit(None, grid(&rows).as_bytes())
        }
    }
}
