//! `init`, `intervention`, `log`, `check`, `backup`.

use std::path::Path;

use crate::codes::{Code, InterventionKind};
use crate::error::{Error, Field, Result};
use crate::identity::{scrub_path, KdfProfile};
use crate::model::{parse_intervention_code, parse_percent, Intervention};
use crate::store::interventions;
use crate::{check as checks, invalid, register};

use super::{emit, IndicatorCmd, InterventionCmd, TargetCmd};

pub fn init(path: &Path, actor: &crate::actor::Actor, kdf: &str) -> Result<()> {
    let profile = KdfProfile::parse(kdf)
        .ok_or_else(|| invalid!("invalid --kdf '{kdf}': accepted are default, test"))?;
    crate::store::Store::create(path, profile, actor)?;
    say!(
        "created {} (owner-only permissions, KDF profile {})",
        scrub_path(path),
        profile.name()
    )?;
    if profile == KdfProfile::Test {
        tell!("warning: the test KDF profile is for tests and generated data, never for real data");
    }
    Ok(())
}

/// A parent is parsed as a code; its error names the parent field.
fn as_parent(e: Error) -> Error {
    match e {
        Error::Invalid { reason, .. } => Error::invalid(Field::Parent, reason),
        e => e,
    }
}

pub fn intervention(db: &mut super::Ctx, cmd: InterventionCmd) -> Result<()> {
    match cmd {
        InterventionCmd::Add {
            code,
            name,
            parent,
            kind,
            target_work_studies,
            target_step,
            target_qol,
        } => {
            let pct = |v: &Option<String>, field: Field| {
                v.as_deref().map(|s| parse_percent(s, field)).transpose()
            };
            let i = Intervention {
                code: parse_intervention_code(&code)?,
                name,
                parent: parent
                    .as_deref()
                    .map(|p| parse_intervention_code(p).map_err(as_parent))
                    .transpose()?,
                kind: InterventionKind::parse(&kind).map_err(|e| {
                    invalid!(
                        "invalid --kind '{}': accepted are individual, volume",
                        e.value
                    )
                })?,
                target_work_studies: pct(&target_work_studies, Field::TargetWorkStudies)?,
                target_step: pct(&target_step, Field::TargetStep)?,
                target_qol: pct(&target_qol, Field::TargetQol)?,
            };
            let code = i.code.clone();
            db.write(|tx, actor| register::intervention_add(tx, actor, i))?;
            say!("added intervention {code}")
        }
        InterventionCmd::List => {
            let list = interventions::all(&db.conn)?;
            if list.is_empty() {
                return say!("no interventions yet; add one with `sustrack intervention add CODE --name NAME`");
            }
            let pct = |v: Option<f64>| {
                v.map(|x| format!("{:.0} %", x * 100.0))
                    .unwrap_or_else(|| "-".into())
            };
            let mut rows = vec![vec![
                "code".to_string(),
                "name".into(),
                "parent".into(),
                "kind".into(),
                "target work/studies".into(),
                "target step".into(),
                "target qol".into(),
            ]];
            for i in list {
                rows.push(vec![
                    i.code,
                    i.name,
                    i.parent.unwrap_or_else(|| "-".into()),
                    i.kind.code().into(),
                    pct(i.target_work_studies),
                    pct(i.target_step),
                    pct(i.target_qol),
                ]);
            }
            emit(None, crate::report::render::text::grid(&rows).as_bytes())
        }
    }
}

pub fn log(db: &mut super::Ctx, limit: u32) -> Result<()> {
    // Reading the trail is itself recorded; on a read-only file (SPEC 11:
    // `log` works there) it cannot be, and the reader is told so.
    let entries = if db.store.read_only() {
        tell!(
            "note: the file is read-only, so this reading of the audit trail is not recorded in it"
        );
        crate::store::audit::recent(&db.conn, limit)?
    } else {
        db.write(|tx, actor| register::log(tx, actor, limit))?
    };
    let mut rows = vec![vec![
        "#".to_string(),
        "time (UTC)".into(),
        "by".into(),
        "action".into(),
        "subject".into(),
        "detail".into(),
    ]];
    for e in entries {
        rows.push(vec![
            e.id.to_string(),
            e.at,
            e.actor,
            e.action,
            e.subject.unwrap_or_default(),
            e.detail.unwrap_or_default(),
        ]);
    }
    emit(None, crate::report::render::text::grid(&rows).as_bytes())
}

pub fn check(db: &super::Ctx) -> Result<()> {
    let findings = checks::run(&db.conn)?;
    // Figures that differ from a published report are allowed (a late
    // exit, a correction, a purge): listed by name, not problems. The
    // values are report figures, and a report is a recorded read: `report`
    // and `report --published` show them.
    for (period, stamp, diffs) in crate::rights::publish::all_differences(&db.conn)? {
        if diffs.is_empty() {
            say!(
                "published {}..{} ({} by {}): every figure as published",
                period.from,
                period.to,
                stamp.at,
                stamp.by
            )?;
            continue;
        }
        say!(
            "published {}..{} ({} by {}): {} figure(s) differ now (`report` and `report --published` show them):",
            period.from,
            period.to,
            stamp.at,
            stamp.by,
            diffs.len()
        )?;
        for d in &diffs {
            say!("  {}", d.key)?;
        }
    }
    if findings.is_empty() {
        return say!("ok: integrity, foreign keys and domain rules all pass");
    }
    for f in &findings {
        say!("{f}")?;
    }
    Err(Error::Database(format!(
        "check found {} problem(s), listed above",
        findings.len()
    )))
}

pub fn backup(db: &mut super::Ctx, file: &Path) -> Result<()> {
    register::backup(&mut db.conn, &db.actor, file)?;
    say!("backup written to {}", scrub_path(file))
}

/// `target set` and `target list`.
pub fn target(db: &mut super::Ctx, cmd: TargetCmd) -> Result<()> {
    use crate::report::goals;
    match cmd {
        TargetCmd::Set {
            intervention,
            year,
            work_or_studies,
            step,
            qol,
            indicators,
        } => {
            let mut shares: Vec<(String, f64)> = Vec::new();
            for (id, v, field) in [
                ("work_or_studies", &work_or_studies, Field::WorkOrStudies),
                ("step_progress", &step, Field::Step),
                ("quality_of_life", &qol, Field::Qol),
            ] {
                if let Some(v) = v {
                    shares.push((id.into(), parse_percent(v, field)?));
                }
            }
            for pair in &indicators {
                let (id, pct) = pair.split_once('=').ok_or_else(|| {
                    Error::invalid(
                        Field::Indicator,
                        format!("'{pair}' is not ID=PCT: expected e.g. work_studies_or_seeking=50"),
                    )
                })?;
                shares.push((
                    goals::parse_indicator_id(id)?,
                    parse_percent(pct, Field::Indicator)?,
                ));
            }
            let what = intervention
                .clone()
                .unwrap_or_else(|| "the förbund's total".into());
            db.write(|tx, actor| {
                goals::target_set(tx, actor, intervention.as_deref(), year, &shares)
            })?;
            say!("set {} target(s) for {what}, {year}", shares.len())
        }
        TargetCmd::List => {
            let list = crate::store::targets::all(&db.conn)?;
            if list.is_empty() {
                return say!("no targets per year yet; set one with `sustrack target set --year YYYY --work-or-studies PCT`");
            }
            let mut rows = vec![vec![
                "year".to_string(),
                "intervention".into(),
                "indicator".into(),
                "target".into(),
            ]];
            for t in list {
                rows.push(vec![
                    t.year.to_string(),
                    t.intervention.unwrap_or_else(|| "(total)".into()),
                    t.indicator,
                    format!("{:.1} %", t.share * 100.0),
                ]);
            }
            emit(None, crate::report::render::text::grid(&rows).as_bytes())
        }
    }
}

/// `indicator add` and `indicator list`.
pub fn indicator(db: &mut super::Ctx, cmd: IndicatorCmd) -> Result<()> {
    use crate::report::goals;
    match cmd {
        IndicatorCmd::Add {
            id,
            outcomes,
            label_sv,
            label_en,
            target,
        } => {
            let target = target
                .as_deref()
                .map(|t| parse_percent(t, Field::Target))
                .transpose()?;
            db.write(|tx, actor| {
                goals::indicator_add(tx, actor, &id, &outcomes, &label_sv, &label_en, target)
            })?;
            say!("added indicator {}", id.trim())
        }
        IndicatorCmd::List => {
            let list = crate::store::targets::indicators(&db.conn)?;
            if list.is_empty() {
                return say!("no indicators of the förbund's own yet; add one with `sustrack indicator add ID --outcomes work,studies,job_seeking --label-sv TEXT --label-en TEXT`");
            }
            let mut rows = vec![vec![
                "id".to_string(),
                "outcomes".into(),
                "label (sv)".into(),
                "label (en)".into(),
                "target".into(),
            ]];
            for d in list {
                rows.push(vec![
                    d.id,
                    d.outcomes,
                    d.label_sv,
                    d.label_en,
                    d.target
                        .map(|t| format!("{:.1} %", t * 100.0))
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
            emit(None, crate::report::render::text::grid(&rows).as_bytes())
        }
    }
}
