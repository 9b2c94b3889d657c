//! Publishing a period (SPEC section 15): the period's report is stored
//! as published, every figure, in both languages, with when and by whom.
//! A later change that alters a published figure (a late exit, a
//! correction, a purge) is allowed; `report` for that period then says how
//! many figures differ, `check` lists them, and `report --published`
//! prints the figures as they were published.
//!
//! What is published is the whole register's report for the period with
//! the default bands and no suppression: the truth as it stood. Suppression
//! is a way of printing it and is applied when it is printed.

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::actor::{Action, Actor};
use crate::codes::Lang;
use crate::error::{Error, Field, Result};
use crate::register::require;
use crate::report::{self, Options, Period, Report};
use crate::store::{audit, rights as stored};

/// When and by whom a period was published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub at: String,
    pub by: String,
}

/// The report a publication stores: the whole register, default shape.
fn options(period: Period, lang: Lang) -> Options {
    let mut o = Options::new(period);
    o.lang = lang;
    o
}

/// Publish `period`. A period published before is refused unless `force`,
/// which stores a new version and keeps the earlier one. Returns the
/// earlier publication when there was one.
pub fn publish(
    conn: &Connection,
    actor: &Actor,
    period: Period,
    force: bool,
) -> Result<Option<Stamp>> {
    require(actor, Action::Publish)?;
    let earlier =
        stored::published(conn, period.from, period.to)?.map(|p| Stamp { at: p.at, by: p.by });
    if let (Some(e), false) = (&earlier, force) {
        return Err(Error::Conflict(format!(
            "the period {} to {} was published {} by {}; pass --force to publish it again (the earlier version is kept)",
            period.from, period.to, e.at, e.by
        )));
    }
    let sv = report::build(conn, &options(period, Lang::Sv))?;
    let en = report::build(conn, &options(period, Lang::En))?;
    let json = |r: &Report| serde_json::to_string(r).map_err(|e| Error::Database(e.to_string()));
    stored::insert_published(
        conn,
        period.from,
        period.to,
        &actor.login,
        &json(&sv)?,
        &json(&en)?,
    )?;
    audit::record(
        conn,
        actor,
        "publish",
        Some(&format!("{}..{}", period.from, period.to)),
        earlier
            .as_ref()
            .map(|e| format!("again; the version of {} is kept", e.at))
            .as_deref(),
    )?;
    Ok(earlier)
}

/// The newest published version of exactly `period`, in `lang`.
pub fn load(conn: &Connection, period: Period, lang: Lang) -> Result<Option<(Report, Stamp)>> {
    let Some(p) = stored::published(conn, period.from, period.to)? else {
        return Ok(None);
    };
    let text = match lang {
        Lang::Sv => &p.report_sv,
        Lang::En => &p.report_en,
    };
    let report: Report = serde_json::from_str(text).map_err(|e| {
        Error::Database(format!(
            "the published report of {} to {} cannot be read: {e}",
            p.from, p.to
        ))
    })?;
    Ok(Some((report, Stamp { at: p.at, by: p.by })))
}

/// `report --published`: the figures as published, for the roles that may
/// see the whole register's report. The published report is of the whole
/// register in the default shape, so a selection, a comparison or other
/// bands are refused; suppression applies as to any report. The read is
/// recorded.
pub fn published_report(
    conn: &Connection,
    actor: &Actor,
    opts: &Options,
) -> Result<(Report, Stamp)> {
    let scope = require(actor, Action::Report)?;
    if !matches!(scope, crate::actor::Scope::All) {
        return Err(Error::Forbidden(
            "the published report covers the whole register; your role reports on your own interventions".into(),
        ));
    }
    opts.validate()?;
    let shape = Options::new(opts.period);
    let refuse = |what: &str| {
        Err(Error::invalid(
            Field::Published,
            format!("cannot be combined with {what}: the published report is the whole register's, with the default bands"),
        ))
    };
    if !opts.interventions.is_empty() {
        return refuse("--intervention");
    }
    if opts.compare.is_some() {
        return refuse("--compare");
    }
    if opts.age_bands != shape.age_bands {
        return refuse("--age-bands");
    }
    if opts.months_band != shape.months_band {
        return refuse("--months-band");
    }
    let (mut r, stamp) = load(conn, opts.period, opts.lang)?.ok_or_else(|| {
        Error::NotFound(format!(
            "the period {} to {} has not been published (`sustrack publish` publishes a period)",
            opts.period.from, opts.period.to
        ))
    })?;
    if let Some(n) = opts.suppress_below {
        report::suppress::apply(&mut r, n);
    }
    audit::record(
        conn,
        actor,
        "report",
        Some(&format!("{}..{}", opts.period.from, opts.period.to)),
        Some(&format!(
            "published version of {}; {}",
            stamp.at,
            report::describe(opts, "published")
        )),
    )?;
    Ok((r, stamp))
}

/// One figure of a report, keyed so that the same figure of two reports
/// meets: `table/row/column`, `indicator/id/intervention/gender/part`,
/// `duration/intervention/part`.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Count(Option<u64>),
    /// Days, compared to two decimals.
    Days(Option<f64>),
}

impl Figure {
    fn same(&self, other: &Figure) -> bool {
        match (self, other) {
            (Figure::Count(a), Figure::Count(b)) => a.unwrap_or(0) == b.unwrap_or(0),
            (Figure::Days(a), Figure::Days(b)) => {
                a.map(|x| (x * 100.0).round() as i64) == b.map(|x| (x * 100.0).round() as i64)
            }
            _ => false,
        }
    }

    fn missing(&self) -> Figure {
        match self {
            Figure::Count(_) => Figure::Count(Some(0)),
            Figure::Days(_) => Figure::Days(None),
        }
    }

    pub fn show(&self) -> String {
        match self {
            Figure::Count(v) => v.map_or("–".into(), |v| v.to_string()),
            Figure::Days(v) => v.map_or("–".into(), |v| format!("{v:.2}")),
        }
    }
}

/// Every figure of a report (not its comparison period's).
pub fn figures(r: &Report) -> BTreeMap<String, Figure> {
    let mut out = BTreeMap::new();
    for t in &r.tables {
        for row in &t.rows {
            let key = if row.subtotal.is_some() {
                format!("{}/{} (subtotal)", t.id, row.key)
            } else {
                format!("{}/{}", t.id, row.key)
            };
            for (c, v) in t.column_keys.iter().zip(&row.values) {
                out.insert(format!("{key}/{c}"), Figure::Count(*v));
            }
        }
        for (c, v) in t.column_keys.iter().zip(&t.total) {
            out.insert(format!("{}/total/{c}", t.id), Figure::Count(*v));
        }
    }
    for i in &r.indicators {
        let key = format!(
            "indicator/{}/{}{}/{}",
            i.id,
            i.intervention.as_deref().unwrap_or("total"),
            if i.subtotal { " (subtotal)" } else { "" },
            i.gender.unwrap_or("all")
        );
        out.insert(format!("{key}/numerator"), Figure::Count(i.numerator));
        out.insert(format!("{key}/denominator"), Figure::Count(i.denominator));
    }
    for d in &r.durations {
        let key = format!(
            "duration/{}{}",
            d.intervention.as_deref().unwrap_or("total"),
            if d.subtotal { " (subtotal)" } else { "" }
        );
        out.insert(format!("{key}/exited"), Figure::Count(d.exited));
        out.insert(format!("{key}/mean_days"), Figure::Days(d.mean_days));
        out.insert(format!("{key}/median_days"), Figure::Days(d.median_days));
    }
    // SPEC section 13: the wait, reach and money.
    if let Some(w) = &r.waiting {
        out.insert("waiting/started".into(), Figure::Count(w.started));
        out.insert("waiting/median_days".into(), Figure::Days(w.median_days));
    }
    if let Some(x) = &r.reach {
        for (k, v) in [
            ("participants", x.participants),
            ("volume", x.volume),
            ("attendees", x.attendees),
            ("total", x.total),
        ] {
            out.insert(format!("reach/{k}"), Figure::Count(v));
        }
    }
    for c in &r.cost {
        let key = format!("cost/{}", c.intervention.as_deref().unwrap_or("total"));
        out.insert(format!("{key}/budget"), Figure::Count(Some(c.budget)));
        out.insert(format!("{key}/actual"), Figure::Count(c.actual));
        out.insert(format!("{key}/participants"), Figure::Count(c.participants));
        out.insert(format!("{key}/exits"), Figure::Count(c.exits));
    }
    out
}

/// A figure that differs: its key, as published, as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub key: String,
    pub published: String,
    pub now: String,
}

/// The figures of `now` that differ from `published`. A figure only one
/// of them has counts as zero (a count) or as no value (a time) in the
/// other.
pub fn differences(published: &Report, now: &Report) -> Vec<Difference> {
    let (a, mut b) = (figures(published), figures(now));
    // A report published before section 13's figures existed did not
    // leave them out: it could not have them. They are not compared.
    if !published.beyond {
        b.retain(|k, _| !crate::report::beyond::is_beyond_figure(k));
    }
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let (x, y) = match (a.get(k), b.get(k)) {
                (Some(x), Some(y)) => (x.clone(), y.clone()),
                (Some(x), None) => (x.clone(), x.missing()),
                (None, Some(y)) => (y.missing(), y.clone()),
                (None, None) => return None,
            };
            (!x.same(&y)).then(|| Difference {
                key: k.clone(),
                published: x.show(),
                now: y.show(),
            })
        })
        .collect()
}

/// What `report` says about a published period: when, by whom, and how
/// many figures differ now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub stamp: Stamp,
    pub differing: usize,
}

/// The notice for a report of `opts` (computed as `shown`), when its
/// period is published. The published report is the whole register's in
/// the default shape; when `shown` is not that, the register's is computed
/// for the comparison.
pub fn notice(conn: &Connection, opts: &Options, shown: &Report) -> Result<Option<Notice>> {
    let Some((published, stamp)) = load(conn, opts.period, Lang::Sv)? else {
        return Ok(None);
    };
    let plain = Options::new(opts.period);
    let same_shape = opts.interventions.is_empty()
        && opts.suppress_below.is_none()
        && opts.age_bands == plain.age_bands
        && opts.months_band == plain.months_band;
    let differing = if same_shape {
        differences(&published, shown).len()
    } else {
        differences(&published, &report::build(conn, &plain)?).len()
    };
    Ok(Some(Notice { stamp, differing }))
}

/// Every published period's differences from the register now (for
/// `check`), newest version of each.
pub fn all_differences(conn: &Connection) -> Result<Vec<(Period, Stamp, Vec<Difference>)>> {
    let mut out = Vec::new();
    for p in stored::all_published(conn)? {
        let period = Period::new(p.from, p.to)?;
        let (published, stamp) = load(conn, period, Lang::Sv)?.expect("listed just now");
        let now = report::build(conn, &Options::new(period))?;
        out.push((period, stamp, differences(&published, &now)));
    }
    Ok(out)
}
