//! `start`, `exit`, `edit`, `reopen`, `delete`, `show`, `erase`, `volume add`:
//! parse what was typed, call `register`, print. The rules (consent,
//! ranges, overlaps) and the audit entries are the domain's.

use crate::codes::{Code, Gender, Lang, Outcome};
use crate::error::{Error, Field, Result};
use crate::invalid;
use crate::model::{
    parse_birth_year, parse_date, parse_month, parse_municipality, ExitFacts, StartFacts,
};
use crate::register::{self, Edit, ExitInput, ExitTarget, Lookup, Participant, Person, StartInput};

use super::{
    emit, opt_code, read_pnr, today, EditArgs, ExitArgs, ExitFactArgs, ShowArgs, StartArgs,
    StartFactArgs, VolumeCmd,
};

fn start_facts(a: &StartFactArgs) -> Result<StartFacts> {
    Ok(StartFacts {
        municipality: a
            .municipality
            .as_deref()
            .map(parse_municipality)
            .transpose()?,
        support: opt_code(&a.support, "support")?,
        years_in_support: opt_code(&a.years_in_support, "years-in-support")?,
        education: opt_code(&a.education, "education")?,
        referrer: opt_code(&a.referrer, "referrer")?,
    })
}

fn exit_facts(a: &ExitFactArgs) -> Result<ExitFacts> {
    Ok(ExitFacts {
        support_after: opt_code(&a.support_after, "support-after")?,
        step_progress: opt_code(&a.step_progress, "step-progress")?,
        quality_of_life: opt_code(&a.quality_of_life, "quality-of-life")?,
    })
}

pub fn start(db: &mut super::Ctx, a: StartArgs) -> Result<()> {
    let today = today();
    let participant = match (&a.pnr, a.anonymous) {
        (Some(p), false) => Participant::Person(Person::identify(
            &read_pnr(p)?,
            db.store.kdf(),
            a.consent,
            today,
        )?),
        (None, true) => Participant::Anonymous {
            gender: opt_code::<Gender>(&a.gender, "gender")?
                .ok_or_else(|| invalid!("--anonymous needs --gender (woman/K or man/M)"))?,
            birth_year: a
                .birth_year
                .as_deref()
                .map(|y| parse_birth_year(y, today))
                .transpose()?,
            local_id: None,
        },
        _ => {
            return Err(invalid!(
                "give either --pnr PNR --consent, or --anonymous --gender G"
            ))
        }
    };
    let input = StartInput {
        intervention: a.intervention,
        participant,
        date: parse_date(&a.date, Field::Date)?,
        facts: start_facts(&a.facts)?,
    };
    let e = db.write(|tx, actor| register::start(tx, actor, today, input))?;
    say!("{}", e.id)?;
    Ok(())
}

pub fn exit(db: &mut super::Ctx, a: ExitArgs) -> Result<()> {
    let today = today();
    let target = match (&a.id, &a.pnr, &a.intervention) {
        (Some(id), None, None) => ExitTarget::Id(id.clone()),
        (None, Some(p), Some(i)) => ExitTarget::Person {
            fingerprint: read_pnr(p)?.fingerprint(db.store.kdf()),
            intervention: i.clone(),
        },
        _ => {
            return Err(invalid!(
                "give either --id ENROLMENT, or --intervention CODE --pnr PNR"
            ))
        }
    };
    let input = ExitInput {
        date: parse_date(&a.date, Field::Date)?,
        outcome: opt_code::<Outcome>(&Some(a.outcome), "outcome")?.expect("required"),
        after: exit_facts(&a.facts)?,
    };
    let e = db.write(|tx, actor| register::exit(tx, actor, today, &target, input))?;
    say!(
        "exited {} on {}",
        e.short_id(),
        e.exit.map(|d| d.to_string()).unwrap_or_default()
    )?;
    Ok(())
}

/// `--field ""` clears an optional field; anything else must parse.
fn clearable<T>(
    v: &Option<String>,
    parse: impl Fn(&String) -> Result<T>,
) -> Result<Option<Option<T>>> {
    match v {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(Some(None)),
        Some(s) => Ok(Some(Some(parse(s)?))),
    }
}

fn clearable_code<C: crate::codes::Code>(
    v: &Option<String>,
    option: &str,
) -> Result<Option<Option<C>>> {
    clearable(v, |s| {
        Ok(opt_code::<C>(&Some(s.clone()), option)?.expect("a value was given"))
    })
}

pub fn edit(db: &mut super::Ctx, a: EditArgs) -> Result<()> {
    let today = today();
    let e = Edit {
        intervention: a.intervention.clone(),
        start: a
            .start_date
            .as_deref()
            .map(|s| parse_date(s, Field::StartDate))
            .transpose()?,
        exit: a
            .exit_date
            .as_deref()
            .map(|s| parse_date(s, Field::ExitDate))
            .transpose()?,
        outcome: opt_code(&a.outcome, "outcome")?,
        gender: opt_code(&a.gender, "gender")?,
        birth_year: clearable(&a.birth_year, |s| parse_birth_year(s, today))?,
        municipality: clearable(&a.start.municipality, |s| parse_municipality(s))?,
        support: clearable_code(&a.start.support, "support")?,
        years_in_support: clearable_code(&a.start.years_in_support, "years-in-support")?,
        education: clearable_code(&a.start.education, "education")?,
        referrer: clearable_code(&a.start.referrer, "referrer")?,
        support_after: clearable_code(&a.exit.support_after, "support-after")?,
        step_progress: clearable_code(&a.exit.step_progress, "step-progress")?,
        quality_of_life: clearable_code(&a.exit.quality_of_life, "quality-of-life")?,
    };
    let e = db.write(|tx, actor| register::edit(tx, actor, today, &a.enrolment, e))?;
    say!("updated {}", e.short_id())?;
    Ok(())
}

pub fn reopen(db: &mut super::Ctx, id: &str) -> Result<()> {
    let e = db.write(|tx, actor| register::reopen(tx, actor, id))?;
    say!("reopened {}", e.short_id())?;
    Ok(())
}

pub fn delete(db: &mut super::Ctx, id: &str) -> Result<()> {
    let d = db.write(|tx, actor| register::delete(tx, actor, id))?;
    if d.person_removed {
        println!(
            "deleted {} (the person had no other enrolment and was removed too)",
            d.enrolment.short_id()
        );
    } else {
        println!("deleted {}", d.enrolment.short_id());
    }
    Ok(())
}

pub fn show(db: &mut super::Ctx, a: ShowArgs) -> Result<()> {
    let lookup = match (&a.pnr, &a.id) {
        (Some(p), _) => Lookup::Person(read_pnr(p)?.fingerprint(db.store.kdf())),
        (None, Some(id)) => Lookup::Id(id.clone()),
        _ => return Err(invalid!("give --pnr PNR or --id ENROLMENT")),
    };
    let list = db.write(|tx, actor| register::show(tx, actor, &lookup))?;
    let lang = Lang::Sv;
    let label = |v: Option<&'static str>| v.unwrap_or("-").to_string();
    let mut rows = vec![[
        "id",
        "intervention",
        "gender",
        "born",
        "start",
        "exit",
        "municipality",
        "support",
        "years",
        "education",
        "referrer",
        "outcome",
        "support after",
        "step",
        "quality of life",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for e in &list {
        rows.push(vec![
            e.short_id().to_string(),
            e.intervention.clone(),
            e.gender.label(lang).into(),
            e.birth_year
                .map(|y| y.to_string())
                .unwrap_or_else(|| "-".into()),
            e.start.to_string(),
            e.exit.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            e.facts
                .municipality
                .as_ref()
                .map_or("-".into(), |m| m.label().to_string()),
            label(e.facts.support.map(|c| c.code())),
            label(e.facts.years_in_support.map(|c| c.code())),
            label(e.facts.education.map(|c| c.code())),
            label(e.facts.referrer.map(|c| c.code())),
            label(e.outcome.map(|c| c.code())),
            label(e.after.support_after.map(|c| c.code())),
            label(e.after.step_progress.map(|c| c.code())),
            label(e.after.quality_of_life.map(|c| c.code())),
        ]);
    }
    emit(None, crate::report::render::text::grid(&rows).as_bytes())
}

pub fn erase(db: &mut super::Ctx, pnr: &str) -> Result<()> {
    let fp = read_pnr(pnr)?.fingerprint(db.store.kdf());
    let n = db.write(|tx, actor| register::erase(tx, actor, &fp))?;
    say!("erased the person and {n} enrolment(s)")?;
    Ok(())
}

pub fn volume(db: &mut super::Ctx, cmd: VolumeCmd) -> Result<()> {
    let VolumeCmd::Add {
        intervention,
        month,
        women,
        men,
        replace,
    } = cmd;
    let m = parse_month(&month)?;
    let today = today();
    db.write(|tx, actor| {
        register::volume_add(
            tx,
            actor,
            today,
            &intervention,
            register::VolumeCounts {
                month: m,
                women,
                men,
            },
            replace,
        )
    })
    .map_err(|e| match e {
        // The one conflict of a volume: the month is registered already.
        Error::Conflict(m) => Error::Conflict(format!("{m} (pass --replace)")),
        e => e,
    })?;
    say!(
        "registered {women} women and {men} men in {} for {month}",
        intervention.to_ascii_uppercase()
    )?;
    Ok(())
}
