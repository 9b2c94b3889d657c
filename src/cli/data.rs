//! `import`, `report`, `export`, `keygen`, `demo`, `generate`.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::codes::Lang;
use crate::error::{Error, Result};
use crate::identity::scrub_path;
use crate::identity::KdfProfile;
use crate::invalid;
use crate::model::parse_date;
use crate::report::{self, render::Format, Options, Period};

use super::{emit, ExportArgs, Output, PeriodArgs, ReportArgs};

pub fn period(a: &PeriodArgs) -> Result<Period> {
    period_of(a.year, &a.from, &a.to)
}

/// `--year Y` or `--from D --to D`, for every command that takes a period.
pub fn period_of(year: Option<i32>, from: &Option<String>, to: &Option<String>) -> Result<Period> {
    match (year, from, to) {
        (Some(y), None, None) => Period::year(y),
        (None, Some(f), Some(t)) => Period::new(
            parse_date(f, crate::error::Field::From)?,
            parse_date(t, crate::error::Field::To)?,
        ),
        (None, None, None) => Err(invalid!(
            "give a period: --year YYYY, or --from DATE --to DATE"
        )),
        _ => Err(invalid!("give either --year or both --from and --to")),
    }
}

/// `--compare YEAR` or `--compare-from/--compare-to`.
pub fn compare_period(
    year: Option<i32>,
    from: &Option<String>,
    to: &Option<String>,
) -> Result<Option<Period>> {
    use crate::error::{Error, Field};
    Ok(match (year, from, to) {
        (Some(y), None, None) => Some(Period::year(y).map_err(|_| {
            Error::invalid(
                Field::Compare,
                format!("{y} is not a year: expected a four-digit year, e.g. 2020"),
            )
        })?),
        (None, Some(f), Some(t)) => {
            let (f, t) = (
                parse_date(f, Field::CompareFrom)?,
                parse_date(t, Field::CompareTo)?,
            );
            Some(Period::new(f, t).map_err(|_| {
                Error::invalid(
                    Field::CompareTo,
                    format!("{t} is before --compare-from {f}: the period must run forwards"),
                )
            })?)
        }
        (None, None, None) => None,
        _ => {
            return Err(invalid!(
                "give either --compare YEAR or both --compare-from and --compare-to"
            ))
        }
    })
}

pub fn report(db: &mut super::Ctx, a: ReportArgs) -> Result<()> {
    let format = Format::parse(&a.format)?;
    let mut opts = Options::new(period(&a.period)?);
    opts.interventions = a.period.interventions.clone();
    opts.lang = Lang::parse(&a.lang)
        .map_err(|_| invalid!("invalid --lang '{}': accepted are sv, en", a.lang))?;
    if let Some(b) = &a.age_bands {
        opts.age_bands = report::parse_age_bands(b)?;
    }
    opts.months_band = a.months_band;
    opts.suppress_below = a.suppress_below;
    opts.compare = compare_period(a.compare, &a.compare_from, &a.compare_to)?;
    let to_stdout = a.out.as_deref().is_none_or(|p| p.as_os_str() == "-");
    if format.is_binary() && to_stdout && std::io::stdout().is_terminal() {
        return Err(invalid!(
            "--format xlsx writes a binary file: give --out FILE.xlsx"
        ));
    }
    // Refused before the report runs: nothing is recorded, nothing replaced.
    let mut out = Output::new(a.out.as_deref(), a.force, Some(db.store.path()))?;
    if a.published {
        let (r, stamp) =
            db.write(|tx, actor| crate::rights::publish::published_report(tx, actor, &opts))?;
        out.write_all(&report::render::render(&r, format)?)?;
        out.finish()?;
        tell!("the figures as published {} by {}", stamp.at, stamp.by);
        return Ok(());
    }
    let r = report::run(&db.store, &db.actor, &opts, &a.format.to_ascii_lowercase())?;
    out.write_all(&report::render::render(&r, format)?)?;
    out.finish()?;
    if let Some(n) = crate::rights::publish::notice(&db.conn, &opts, &r)? {
        if n.differing > 0 {
            tell!(
                "note: {} figure(s) differ from the report published {} by {}; `sustrack report --published` prints the figures as published, `sustrack check` lists the differences",
                n.differing,
                n.stamp.at,
                n.stamp.by
            );
        } else {
            tell!(
                "the figures are as published {} by {}",
                n.stamp.at,
                n.stamp.by
            );
        }
    }
    Ok(())
}

pub fn import(db: &mut super::Ctx, file: &Path, dry_run: bool) -> Result<()> {
    let f = std::fs::File::open(file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => invalid!("no file {}", scrub_path(file)),
        _ => Error::io_text(format!("cannot read {}: {e}", scrub_path(file))),
    })?;
    let meta = f
        .metadata()
        .map_err(|e| Error::io_text(format!("cannot read {}: {e}", scrub_path(file))))?;
    if meta.is_dir() {
        return Err(invalid!(
            "{} is a directory: give a CSV file to import",
            scrub_path(file)
        ));
    }
    let opts = crate::import::Options {
        dry_run,
        today: super::today(),
        progress: std::io::stderr().is_terminal(),
    };
    // Streamed: the file is never held whole (a device or a pipe works too).
    let size = meta.is_file().then_some(meta.len());
    match crate::import::import_from(&mut db.conn, db.store.kdf(), &db.actor, f, size, &opts) {
        Ok(s) if dry_run => {
            say!("dry run, nothing written: {s}")
        }
        Ok(s) if s.rows > 0 && s.skipped == s.rows => {
            say!("nothing to do: all {} rows are already present", s.rows)
        }
        Ok(s) => {
            say!("imported {}: {s}", scrub_path(file))
        }
        Err(crate::import::Failure::Rows(errors)) => {
            for e in &errors {
                tell!("{e}");
            }
            if errors.unlisted > 0 {
                tell!(
                    "... and {} more invalid row(s), not listed",
                    errors.unlisted
                );
            }
            Err(invalid!(
                "{} invalid row(s) in {}, {}; nothing was imported",
                errors.total(),
                scrub_path(file),
                if errors.unlisted > 0 {
                    format!("the first {} listed above", errors.len())
                } else {
                    "listed above".to_string()
                }
            ))
        }
        Err(crate::import::Failure::Fatal(e)) => Err(e),
    }
}

/// Below this k an exported group is small enough that SPEC section 8's
/// protection is weak; allowed (an evaluator may need it) but warned about.
const RECOMMENDED_MIN_K: u32 = 5;

pub fn export(db: &mut super::Ctx, a: ExportArgs) -> Result<()> {
    let opts = crate::export::ExportOptions {
        period: period(&a.period)?,
        interventions: a.period.interventions.clone(),
        key: match &a.key_file {
            Some(f) => crate::export::read_key(f)?,
            None => crate::export::ephemeral_key(),
        },
        key_is_kept: a.key_file.is_some(),
        k: a.k,
    };
    let path = db.store.path().to_path_buf();
    // Refused before anything is read or recorded.
    let mut buf = Output::new(a.out.as_deref(), a.force, Some(&path))?;
    if (1..RECOMMENDED_MIN_K).contains(&a.k) {
        tell!(
            "warning: --k {} is below {RECOMMENDED_MIN_K}: groups this small let a reader who knows a participant's gender, age and municipality pick out their row",
            a.k
        );
    }
    // The export records itself in the audit trail before returning; the
    // output file is put in place only after that.
    let summary = crate::export::run(&db.store, &db.actor, &opts, &mut buf)?;
    buf.finish()?;
    tell!(
        "exported {} rows; k = {} persons: start and exit coarser than a month in {} rows, \
         municipality generalised to * in {} rows, {} rows left out",
        summary.rows,
        opts.k,
        summary.coarsened,
        summary.generalised,
        summary.left_out
    );
    Ok(())
}

pub fn keygen(file: &Path) -> Result<()> {
    crate::export::keygen(file)?;
    say!(
        "wrote a new key to {} (owner-only); keep it apart from the database",
        scrub_path(file)
    )
}

pub fn demo(lang: &str, format: &str) -> Result<()> {
    let format = Format::parse(format)?;
    if format.is_binary() && std::io::stdout().is_terminal() {
        return Err(invalid!("--format xlsx writes a binary file: redirect the output, e.g. `sustrack demo --format xlsx > demo.xlsx`"));
    }
    let lang =
        Lang::parse(lang).map_err(|_| invalid!("invalid --lang '{lang}': accepted are sv, en"))?;
    tell!(
        "demo: sample data loaded into a temporary database (test KDF profile, removed afterwards)"
    );
    let r = crate::demo::report_2021(lang)?;
    emit(None, &report::render::render(&r, format)?)
}

pub fn generate(
    db: &Path,
    actor: &crate::actor::Actor,
    n: u64,
    seed: u64,
    kdf: &str,
) -> Result<()> {
    let profile = KdfProfile::parse(kdf).expect("clap checks the profile");
    let g = crate::generate::generate(db, actor, n, seed, profile)?;
    say!(
        "generated {} ({} interventions, {} persons, {} enrolments of which {} anonymous; seed {seed})",
        scrub_path(db),
        g.interventions,
        g.persons,
        g.enrolments,
        g.anonymous
    )?;
    if profile == KdfProfile::Test {
        tell!(
            "warning: {} uses the test KDF profile: synthetic data only",
            scrub_path(db)
        );
    }
    Ok(())
}
