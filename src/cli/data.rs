//! `import`, `report`, `export`, `keygen`, `demo`, `generate`.

use std::io::IsTerminal;
use std::path::Path;

use crate::codes::Lang;
use crate::error::{Error, Result};
use crate::invalid;
use crate::model::parse_date;
use crate::report::{self, render::Format, Options, Period};
use crate::store::{audit, Db};

use super::{emit, ExportArgs, PeriodArgs, ReportArgs};

pub fn period(a: &PeriodArgs) -> Result<Period> {
    match (a.year, &a.from, &a.to) {
        (Some(y), None, None) => Period::year(y),
        (None, Some(f), Some(t)) => Period::new(parse_date(f, "--from")?, parse_date(t, "--to")?),
        (None, None, None) => Err(invalid!(
            "give a period: --year YYYY, or --from DATE --to DATE"
        )),
        _ => Err(invalid!("give either --year or both --from and --to")),
    }
}

pub fn report(db: &mut Db, a: ReportArgs) -> Result<()> {
    let format = Format::parse(&a.format)?;
    let mut opts = Options::new(period(&a.period)?);
    opts.interventions = a.period.interventions.clone();
    opts.lang = Lang::parse(&a.lang)
        .map_err(|_| invalid!("invalid --lang '{}': accepted are sv, en", a.lang))?;
    if let Some(b) = &a.age_bands {
        opts.age_bands = report::parse_age_bands(b)?;
    }
    if a.months_band == 0 || a.months_band > 120 {
        return Err(invalid!(
            "invalid --months-band '{}': expected a number of months from 1 to 120",
            a.months_band
        ));
    }
    opts.months_band = a.months_band;
    if let Some(n) = a.suppress_below {
        if n < 3 {
            return Err(invalid!(
                "invalid --suppress-below '{n}': expected 3 or more (below 3 a hidden count could only be 1)"
            ));
        }
        opts.suppress_below = Some(n);
    }
    if format.is_binary() && a.out.is_none() && std::io::stdout().is_terminal() {
        return Err(invalid!(
            "--format xlsx writes a binary file: give --out FILE.xlsx"
        ));
    }
    let path = db.path.clone();
    let r = db.write(|tx, actor| {
        let r = report::build_parallel(tx, &path, &opts)?;
        audit::record(
            tx,
            actor,
            "report",
            Some(&format!("{}..{}", opts.period.from, opts.period.to)),
            Some(&format!(
                "interventions {}",
                if opts.interventions.is_empty() {
                    "all".into()
                } else {
                    opts.interventions.join(",")
                }
            )),
        )?;
        Ok(r)
    })?;
    emit(a.out.as_deref(), &report::render::render(&r, format)?)
}

pub fn import(db: &mut Db, file: &Path, dry_run: bool) -> Result<()> {
    let bytes = std::fs::read(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => invalid!("no file {}", file.display()),
        _ => Error::Io(format!("cannot read {}: {e}", file.display())),
    })?;
    let opts = crate::import::Options {
        dry_run,
        today: super::today(),
        progress: std::io::stderr().is_terminal(),
    };
    match crate::import::import(db, &bytes, &opts) {
        Ok(s) if dry_run => {
            println!("dry run, nothing written: {s}");
            Ok(())
        }
        Ok(s) if s.rows > 0 && s.skipped == s.rows => {
            println!("nothing to do: all {} rows are already present", s.rows);
            Ok(())
        }
        Ok(s) => {
            println!("imported {}: {s}", file.display());
            Ok(())
        }
        Err(crate::import::Failure::Rows(errors)) => {
            for e in &errors {
                eprintln!("{e}");
            }
            Err(invalid!(
                "{} invalid row(s) in {}, listed above; nothing was imported",
                errors.len(),
                file.display()
            ))
        }
        Err(crate::import::Failure::Fatal(e)) => Err(e),
    }
}

pub fn export(db: &mut Db, a: ExportArgs) -> Result<()> {
    let opts = crate::export::ExportOptions {
        period: period(&a.period)?,
        interventions: a.period.interventions.clone(),
        key: match &a.key_file {
            Some(f) => crate::export::read_key(f)?,
            None => crate::export::ephemeral_key(),
        },
        k: a.k,
    };
    let path = db.path.clone();
    // The audit entry is committed before the output file is put in place,
    // so no export exists that the audit trail does not know of.
    let (summary, buf) = db.write(|tx, actor| {
        let mut buf = super::Output::new(a.out.as_deref())?;
        let summary = crate::export::export(tx, Some(&path), &opts, &mut buf)?;
        audit::record(
            tx,
            actor,
            "export",
            Some(&format!("{}..{}", opts.period.from, opts.period.to)),
            Some(&format!(
                "{} rows, k = {}, {} generalised, {} left out, {}",
                summary.rows,
                opts.k,
                summary.generalised,
                summary.left_out,
                if a.key_file.is_some() {
                    "stable pseudonyms (key file)"
                } else {
                    "one-off pseudonyms"
                }
            )),
        )?;
        Ok((summary, buf))
    })?;
    buf.finish()?;
    eprintln!(
        "exported {} rows; k = {}: municipality generalised to * in {} rows, {} rows left out",
        summary.rows, opts.k, summary.generalised, summary.left_out
    );
    Ok(())
}

pub fn keygen(file: &Path) -> Result<()> {
    crate::export::keygen(file)?;
    println!(
        "wrote a new key to {} (owner-only); keep it apart from the database",
        file.display()
    );
    Ok(())
}

pub fn demo(lang: &str, format: &str) -> Result<()> {
    let format = Format::parse(format)?;
    if format.is_binary() && std::io::stdout().is_terminal() {
        return Err(invalid!("--format xlsx writes a binary file: redirect the output, e.g. `sustrack demo --format xlsx > demo.xlsx`"));
    }
    let lang =
        Lang::parse(lang).map_err(|_| invalid!("invalid --lang '{lang}': accepted are sv, en"))?;
    eprintln!(
        "demo: sample data loaded into a temporary database (test KDF profile, removed afterwards)"
    );
    let r = crate::demo::report_2021(lang)?;
    emit(None, &report::render::render(&r, format)?)
}

pub fn generate(db: &Path, actor: &str, n: u64, seed: u64) -> Result<()> {
    if n == 0 || n > 20_000_000 {
        return Err(invalid!("invalid --enrolments {n}: expected 1 to 20000000"));
    }
    let g = crate::generate::generate(db, actor, n, seed)?;
    println!(
        "generated {} ({} interventions, {} persons, {} enrolments of which {} anonymous; seed {seed})",
        db.display(),
        g.interventions,
        g.persons,
        g.enrolments,
        g.anonymous
    );
    eprintln!(
        "warning: {} uses the test KDF profile: synthetic data only",
        db.display()
    );
    Ok(())
}
