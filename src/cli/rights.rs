//! `withdraw`, `extract`, `purge`, `publish` (SPEC section 15): parse,
//! call `rights`, print.

use std::io::Write;
use std::path::Path;

use crate::error::{Field, Result};
use crate::invalid;
use crate::model::parse_date;
use crate::rights::{self, extract, publish, purge};

use super::{read_pnr, today, Output, PublishPeriod};

pub fn withdraw(db: &mut super::Ctx, pnr: &str) -> Result<()> {
    let fp = read_pnr(pnr)?.fingerprint(db.store.kdf());
    let n = db.write(|tx, actor| rights::withdraw(tx, actor, &fp))?;
    crate::store::rights::truncate_wal(&db.conn);
    say!(
        "consent withdrawn: {n} enrolment(s) kept without identity (still counted in reports); the personnummer no longer finds them"
    )?;
    Ok(())
}

pub fn extract(db: &mut super::Ctx, pnr: &str, format: &str, out: Option<&Path>) -> Result<()> {
    let html = match format.trim().to_ascii_lowercase().as_str() {
        "text" | "txt" => false,
        "html" => true,
        other => {
            return Err(crate::error::Error::invalid(
                Field::Format,
                format!("'{other}' is not an extract format: accepted are text, html"),
            ))
        }
    };
    let fp = read_pnr(pnr)?.fingerprint(db.store.kdf());
    // Refused before anything is read or recorded.
    let mut sink = Output::new(out, false, Some(db.store.path()))?;
    let x = db.write(|tx, actor| extract::extract(tx, actor, &fp))?;
    let bytes = if html {
        extract::html(&x)
    } else {
        extract::text(&x)
    };
    sink.write_all(bytes.as_bytes())?;
    sink.finish()
}

pub fn purge(
    db: &mut super::Ctx,
    ended_before: &str,
    audit_months: u32,
    dry_run: bool,
) -> Result<()> {
    let p = purge::Purge {
        ended_before: parse_date(ended_before, Field::EndedBefore)?,
        audit_months,
        dry_run,
    };
    let today = today();
    let done = db.write(|tx, actor| purge::purge(tx, actor, today, &p))?;
    if !dry_run {
        crate::store::rights::truncate_wal(&db.conn);
    }
    let mut rows = vec![vec!["intervention".to_string(), "enrolments".to_string()]];
    for (code, n) in &done.by_intervention {
        rows.push(vec![code.clone(), n.to_string()]);
    }
    if done.enrolments > 0 {
        super::emit(None, crate::report::render::text::grid(&rows).as_bytes())?;
    }
    say!(
        "{} {} enrolment(s) that ended before {}, {} person(s) left with none, and reduce{} {} audit entries older than {} months to counts{}",
        if dry_run { "dry run: would delete" } else { "deleted" },
        done.enrolments,
        p.ended_before,
        done.persons,
        if dry_run { "" } else { "d" },
        done.audit_entries,
        audit_months,
        if dry_run { "; nothing was changed" } else { "; published reports are unchanged" }
    )?;
    Ok(())
}

pub fn publish(db: &mut super::Ctx, a: &PublishPeriod, force: bool) -> Result<()> {
    let period = super::data::period_of(a.year, &a.from, &a.to)?;
    let earlier = db.write(|tx, actor| publish::publish(tx, actor, period, force))?;
    match earlier {
        Some(e) => say!(
            "published {}..{} again; the version of {} by {} is kept",
            period.from,
            period.to,
            e.at,
            e.by
        ),
        None => say!("published {}..{}", period.from, period.to),
    }
}

/// `check --quality`: the worklist, grouped by rule, with a count each.
pub fn quality(db: &mut super::Ctx, lang: &str) -> Result<()> {
    let lang = crate::codes::Lang::parse(lang)
        .map_err(|_| invalid!("invalid --lang '{lang}': accepted are sv, en"))?;
    let today = today();
    let found = db.write(|tx, actor| rights::quality::quality(tx, actor, today, lang))?;
    for rule in rights::quality::RULES {
        let of_rule: Vec<_> = found.iter().filter(|f| f.rule == rule).collect();
        say!(
            "{} ({rule}): {}",
            rights::quality::rule_label(rule, lang),
            of_rule.len()
        )?;
        if of_rule.is_empty() {
            continue;
        }
        let mut rows = vec![vec![
            lang.pick("insats", "intervention").to_string(),
            lang.pick("registrering", "enrolment").to_string(),
            lang.pick("vad", "what").to_string(),
        ]];
        for f in of_rule {
            rows.push(vec![
                f.intervention.clone(),
                f.enrolment.clone().unwrap_or_else(|| "-".into()),
                f.detail.clone(),
            ]);
        }
        super::emit(None, crate::report::render::text::grid(&rows).as_bytes())?;
    }
    say!(
        "{} {}",
        found.len(),
        lang.pick(
            "att se över (ingen person visas; följ registreringens id)",
            "to look into (no person is shown; follow the enrolment id)"
        )
    )
}
