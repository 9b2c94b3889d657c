//! The report page: the same report as `sustrack report`, for the options
//! in the query (SPEC section 11: `year`, `from`, `to`, `intervention`
//! repeated, `format`, `lang`, `suppress_below`, `age_bands`,
//! `months_band`), so a report URL can be bookmarked and shared. Without
//! `format` the report is shown inside the page (the HTML report's body,
//! charts included); with one it is a download, byte for byte what the CLI
//! writes for the same options. Staff see their own interventions only;
//! the domain enforces that and records the read before it is shown.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{Datelike, NaiveDate};

use crate::actor::Action;
use crate::codes::Lang;
use crate::error::{Error, Field};
use crate::model::{parse_date, Intervention};
use crate::report::{self, render::Format, Options, Period};

use super::app::Shared;
use super::forms::{Errors, Form};
use super::i18n::{self, Texts};
use super::pages::{self, render, Frame};
use super::session::SignedIn;

/// The threshold this page uses unless told otherwise: a table meant for
/// publication hides counts below 5 (SPEC section 6).
pub const DEFAULT_SUPPRESS_BELOW: u32 = 5;

/// One intervention check box, indented under its parent.
pub struct Pick {
    pub code: String,
    pub label: String,
    pub checked: bool,
    pub depth: usize,
    /// The parent's code, said to screen readers ("under PAR"): the
    /// indentation shows it only to the eye.
    pub parent: Option<String>,
}

impl Pick {
    /// The check boxes of `list` in tree order, those named in `selected`
    /// ticked.
    pub fn tree_of(list: &[Intervention], selected: &[String]) -> Vec<Pick> {
        tree(list)
            .into_iter()
            .map(|(depth, i)| Pick {
                checked: selected.iter().any(|s| s.eq_ignore_ascii_case(&i.code)),
                code: i.code.clone(),
                label: format!("{} {}", i.code, i.name),
                depth: depth.min(3),
                parent: i.parent.clone().filter(|_| depth > 0),
            })
            .collect()
    }
}

/// A link that fills in the period ("förra året").
pub struct Quick {
    pub label: &'static str,
    pub href: String,
}

pub struct Download {
    pub label: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    frame: Frame,
    errors: Errors,
    year: String,
    from: String,
    to: String,
    suppress_below: String,
    compare: String,
    langs: Vec<super::forms::Choice>,
    age_bands: String,
    months_band: String,
    picks: Vec<Pick>,
    quick: Vec<Quick>,
    downloads: Vec<Download>,
    body: String,
    heading: String,
    /// When the period is published: since when, by whom and how many
    /// figures differ now (coordinators only: the published report is the
    /// whole register's).
    published: String,
}

/// The interventions in tree order: each parent followed by its children,
/// siblings by code. A child whose parent the user cannot see starts a tree
/// of its own.
pub fn tree(list: &[Intervention]) -> Vec<(usize, &Intervention)> {
    fn visit<'a>(
        list: &'a [Intervention],
        node: &'a Intervention,
        depth: usize,
        out: &mut Vec<(usize, &'a Intervention)>,
    ) {
        out.push((depth, node));
        let mut children: Vec<&Intervention> = list
            .iter()
            .filter(|c| c.parent.as_deref() == Some(node.code.as_str()))
            .collect();
        children.sort_by(|a, b| a.code.cmp(&b.code));
        for c in children {
            visit(list, c, depth + 1, out);
        }
    }
    let mut roots: Vec<&Intervention> = list
        .iter()
        .filter(|i| {
            i.parent
                .as_deref()
                .is_none_or(|p| !list.iter().any(|o| o.code == p))
        })
        .collect();
    roots.sort_by(|a, b| a.code.cmp(&b.code));
    let mut out = Vec::with_capacity(list.len());
    for r in roots {
        visit(list, r, 0, &mut out);
    }
    out
}

/// The interventions the user may use for `action`, as ticked check boxes.
pub async fn picks(
    app: &Shared,
    who: &SignedIn,
    action: Action,
    selected: &[String],
) -> Result<Vec<Pick>, Response> {
    let actor = who.session.actor.clone();
    let visible = app
        .db(move |conn| crate::register::interventions_for(conn, &actor))
        .await
        .map_err(|e| pages::error(who.lang, &e))?;
    let mut visible = visible;
    visible.retain(|i| who.session.actor.may_in(action, &i.code));
    Ok(Pick::tree_of(&visible, selected))
}

/// The repeated `intervention` values, trimmed, empty ones dropped.
pub fn selected(form: &Form) -> Vec<String> {
    form.pairs()
        .iter()
        .filter(|(k, v)| k == "intervention" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// The period a form or query asks for: `from` and `to`, or `year`
/// (last year when neither is given). Refusals go to `errors`, named by
/// field, in the page's language where the domain's words are not used.
pub fn period(form: &Form, today: NaiveDate, t: &Texts, errors: &mut Errors) -> Option<Period> {
    let lang = t.lang();
    if form.opt("from").is_some() || form.opt("to").is_some() {
        let mut date = |name: &'static str, field: Field| match form.opt(name) {
            None => {
                errors.add(
                    name,
                    format!(
                        "{} {}",
                        i18n::label(t, name),
                        lang.pick(
                            "saknas: ange både från- och tilldatum, eller ett år",
                            "is missing: give both a from and a to date, or a year"
                        )
                    ),
                );
                None
            }
            Some(s) => match parse_date(s, field) {
                Ok(d) => Some(d),
                Err(e) => {
                    let _ = errors.domain(t, e);
                    None
                }
            },
        };
        let (from, to) = (date("from", Field::From), date("to", Field::To));
        let (from, to) = (from?, to?);
        return match Period::new(from, to) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.add(
                    "to",
                    format!(
                        "{} {to}: {}",
                        i18n::label(t, "to"),
                        lang.pick("är tidigare än Från", "is before the from date")
                    ),
                );
                drop(e);
                None
            }
        };
    }
    let year = form.get("year");
    let y = if year.is_empty() {
        Ok(today.year() - 1)
    } else {
        year.parse::<i32>()
    };
    match y.ok().and_then(|y| Period::year(y).ok()) {
        Some(p) => Some(p),
        None => {
            errors.refuse(
                "year",
                t.year,
                year,
                lang.pick("ange ett årtal med fyra siffror", "enter a four-digit year"),
            );
            None
        }
    }
}

/// A file name for a period and selection: `sustrack-2021.xlsx`,
/// `sustrack-2021-01-01_2021-08-31-VAGEN.csv`.
pub fn file_name(stem: &str, p: &Period, interventions: &[String], ext: &str) -> String {
    let whole_year = p.from.ordinal() == 1
        && p.to.month() == 12
        && p.to.day() == 31
        && p.from.year() == p.to.year();
    let mut name = if whole_year {
        format!("{stem}-{}", p.from.year())
    } else {
        format!("{stem}-{}_{}", p.from, p.to)
    };
    if !interventions.is_empty() && interventions.len() <= 3 {
        for c in interventions {
            name.push('-');
            name.push_str(&c.to_ascii_uppercase());
        }
    }
    format!("{name}.{ext}")
}

pub fn content_type(f: Format) -> (&'static str, &'static str) {
    match f {
        Format::Text => ("text/plain; charset=utf-8", "txt"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Md => ("text/markdown; charset=utf-8", "md"),
        Format::Json => ("application/json", "json"),
        Format::Html => ("text/html; charset=utf-8", "html"),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    }
}

/// A field's value, or the complaint that names it with what is accepted.
fn field_error(errors: &mut Errors, t: &Texts, e: Error) {
    if let Err(other) = errors.domain(t, e) {
        errors.add("", other.to_string());
    }
}

/// The options the query asks for, each refusal named by its field.
fn options(
    form: &Form,
    today: NaiveDate,
    ui: Lang,
    t: &Texts,
    errors: &mut Errors,
) -> Option<Options> {
    let period = period(form, today, t, errors);
    // A field's value parsed, its default when absent, or a refusal that
    // names the field, repeats the value and says what is accepted.
    fn field<T>(
        form: &Form,
        errors: &mut Errors,
        t: &Texts,
        name: &'static str,
        default: T,
        parse: impl Fn(&str) -> Option<T>,
        accepted: &str,
    ) -> Option<T> {
        match form.opt(name) {
            None => Some(default),
            Some(s) => parse(s).or_else(|| {
                errors.refuse(name, i18n::label(t, name), s, accepted);
                None
            }),
        }
    }
    let lang = field(
        form,
        errors,
        t,
        "lang",
        ui,
        |s| Lang::parse(s).ok(),
        ui.pick("ange sv eller en", "accepted are sv, en"),
    );
    // Below 3 a hidden count could only be 1 (the domain says so too;
    // checked here so it is named beside the other fields).
    let suppress_below = field(
        form,
        errors,
        t,
        "suppress_below",
        Some(DEFAULT_SUPPRESS_BELOW),
        |s| match s {
            "0" | "none" => Some(None),
            s => s.parse::<u32>().ok().filter(|&n| n >= 3).map(Some),
        },
        ui.pick(
            "ange ett heltal, 3 eller mer, eller 0 för att inte dölja något",
            "enter a whole number, 3 or more, or 0 for none",
        ),
    );
    let age_bands = field(
        form,
        errors,
        t,
        "age_bands",
        report::default_age_bands(),
        |s| report::parse_age_bands(s).ok(),
        ui.pick(
            "ange stigande band utan överlapp, till exempel 15-29,30-44,45-59,60-74",
            "enter ascending, non-overlapping bands like 15-29,30-44,45-59,60-74",
        ),
    );
    let months_band = field(
        form,
        errors,
        t,
        "months_band",
        6,
        |s| s.parse::<u32>().ok().filter(|n| (1..=120).contains(n)),
        ui.pick(
            "ange ett antal månader från 1 till 120",
            "enter a number of months from 1 to 120",
        ),
    );
    // A comparison year ("jmf 2020"): empty for none.
    let compare = field(
        form,
        errors,
        t,
        "compare",
        None,
        |s| {
            s.parse::<i32>()
                .ok()
                .and_then(|y| report::Period::year(y).ok())
                .map(Some)
        },
        ui.pick(
            "ange ett årtal, till exempel 2020, eller lämna tomt",
            "enter a year, for example 2020, or leave it empty",
        ),
    );
    let mut opts = Options::new(period?);
    opts.compare = compare?;
    opts.interventions = selected(form);
    opts.lang = lang?;
    opts.suppress_below = suppress_below?;
    opts.age_bands = age_bands?;
    opts.months_band = months_band?;
    if let Err(e) = opts.validate() {
        field_error(errors, t, e);
        return None;
    }
    Some(opts)
}

/// The query for these options (the form's own values, so a shared link
/// shows the same page), with `format` added for a download.
fn query(form: &Form, format: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = form
        .pairs()
        .iter()
        .filter(|(k, v)| k != "format" && !v.trim().is_empty())
        .map(|(k, v)| (k.as_str(), v.trim()))
        .collect();
    if let Some(f) = format {
        pairs.push(("format", f));
    }
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

fn quick_choices(form: &Form, today: NaiveDate, lang: Lang) -> Vec<Quick> {
    // The interventions and the other options stay; only the period changes.
    let keep: Vec<(&str, &str)> = form
        .pairs()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "year" | "from" | "to" | "format"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let link = |extra: Vec<(&str, String)>| {
        let mut pairs: Vec<(&str, String)> = extra;
        pairs.extend(keep.iter().map(|(k, v)| (*k, v.to_string())));
        format!(
            "/report?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let y = today.year();
    // January to August of the last year that has had its August.
    let aug_year = if today.month() > 8 { y } else { y - 1 };
    vec![
        Quick {
            label: lang.pick("Förra året", "Last year"),
            href: link(vec![("year", (y - 1).to_string())]),
        },
        Quick {
            label: lang.pick("I år hittills", "This year so far"),
            href: link(vec![
                ("from", format!("{y}-01-01")),
                ("to", today.to_string()),
            ]),
        },
        Quick {
            label: lang.pick("Januari–augusti", "January–August"),
            href: link(vec![
                ("from", format!("{aug_year}-01-01")),
                ("to", format!("{aug_year}-08-31")),
            ]),
        },
    ]
}

/// The `format` of a download, if one is asked for.
fn format(form: &Form, t: &Texts, errors: &mut Errors) -> Option<Format> {
    let f = form.opt("format")?;
    Format::parse(f)
        .map_err(|_| {
            // No field on the page: `format` comes only in a link.
            errors.refuse(
                "",
                i18n::label(t, "format"),
                f,
                t.lang().pick(
                    "giltiga format är text, csv, md, json, html och xlsx",
                    "accepted are text, csv, md, json, html, xlsx",
                ),
            )
        })
        .ok()
}

/// Run the report (recorded in the audit trail with the format it is
/// rendered in) and render it: the file for a download, else the HTML
/// report's body for the page, with its heading.
async fn run(
    app: &Shared,
    who: &SignedIn,
    opts: Options,
    format: Option<Format>,
) -> Result<
    (
        (String, String),
        Vec<u8>,
        Option<crate::rights::publish::Notice>,
    ),
    Error,
> {
    let actor = who.session.actor.clone();
    let app2 = app.clone();
    let audited = match format {
        None => "web",
        Some(Format::Text) => "text",
        Some(f) => content_type(f).1,
    };
    app.heavy(move || {
        let r = report::run(&app2.store, &actor, &opts, audited)?;
        let rendered = match format {
            Some(f) => report::render::render(&r, f)?,
            None => report::render::html::body(&r).into_bytes(),
        };
        let whole = matches!(actor.scope(Action::Report), Some(crate::actor::Scope::All));
        let notice = if format.is_none() && whole {
            crate::rights::publish::notice(&app2.store.connect()?, &opts, &r)?
        } else {
            None
        };
        Ok((report::render::heading(&r), rendered, notice))
    })
    .await
}

/// The report as a file in every format, each link this page's query plus
/// `format`.
fn downloads(form: &Form) -> Vec<Download> {
    [
        ("xlsx", "Excel (xlsx)"),
        ("csv", "CSV"),
        ("html", "HTML"),
        ("md", "Markdown"),
        ("json", "JSON"),
        ("text", "Text"),
    ]
    .into_iter()
    .map(|(f, label)| Download {
        label,
        href: format!("/report?{}", query(form, Some(f))),
    })
    .collect()
}

pub async fn page(State(app): State<Shared>, who: SignedIn, RawQuery(q): RawQuery) -> Response {
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !who.session.actor.may(Action::Report) {
        return pages::forbidden(lang);
    }
    let form = Form::from_query(q.as_deref());
    let today = app.clock.today();
    let mut errors = Errors::new();
    let opts = options(&form, today, lang, t, &mut errors);
    let format = format(&form, t, &mut errors);
    let (mut body, mut heading, mut published) = (String::new(), String::new(), String::new());
    if let (Some(opts), true) = (opts, errors.is_empty()) {
        let (period, interventions) = (opts.period, opts.interventions.clone());
        match (run(&app, &who, opts, format).await, format) {
            (Ok((_, bytes, _)), Some(f)) => {
                let (ctype, ext) = content_type(f);
                let name = file_name("sustrack", &period, &interventions, ext);
                return pages::attachment(bytes, ctype, &name);
            }
            (Ok(((title, sub), bytes, notice)), None) => {
                heading = format!("{title} ({sub})");
                if let Some(n) = notice {
                    published = published_notice(&n, lang);
                }
                body = String::from_utf8(bytes).unwrap_or_default();
            }
            (Err(e @ (Error::Invalid { .. } | Error::Conflict(_))), _) => {
                field_error(&mut errors, t, e)
            }
            // Unknown or outside the user's interventions: 404; the
            // server's own trouble: a plain 500, logged, no details shown.
            (Err(e), _) => return pages::error(lang, &e),
        }
    }
    let picks = match picks(&app, &who, Action::Report, &selected(&form)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let status = errors.status();
    let chosen_lang = form.opt("lang").unwrap_or(lang.pick("sv", "en"));
    render(
        status,
        &ReportPage {
            frame: Frame::signed_in(&who, t.report_title, "/report"),
            errors,
            year: year_shown(&form, today),
            from: form.get("from").to_string(),
            to: form.get("to").to_string(),
            suppress_below: form
                .opt("suppress_below")
                .map_or_else(|| DEFAULT_SUPPRESS_BELOW.to_string(), str::to_string),
            compare: form.get("compare").to_string(),
            langs: [("sv", "svenska"), ("en", "English")]
                .into_iter()
                .map(|(v, l)| super::forms::Choice {
                    value: v.into(),
                    label: l.into(),
                    selected: chosen_lang.eq_ignore_ascii_case(v),
                })
                .collect(),
            age_bands: form.opt("age_bands").map_or_else(
                || {
                    report::default_age_bands()
                        .iter()
                        .map(|(a, b)| format!("{a}-{b}"))
                        .collect::<Vec<_>>()
                        .join(",")
                },
                str::to_string,
            ),
            months_band: form.get("months_band").to_string(),
            picks,
            quick: quick_choices(&form, today, lang),
            downloads: if body.is_empty() {
                Vec::new()
            } else {
                downloads(&form)
            },
            body,
            heading,
            published,
        },
    )
}

/// "Published 2022-02-01 by cecilia; 3 figures differ now".
fn published_notice(n: &crate::rights::publish::Notice, lang: crate::codes::Lang) -> String {
    let when = n.stamp.at.get(..10).unwrap_or(&n.stamp.at);
    match (n.differing, lang) {
        (0, crate::codes::Lang::Sv) => format!(
            "Perioden publicerades {when} av {}. Alla siffror är som publicerade.",
            n.stamp.by
        ),
        (0, crate::codes::Lang::En) => format!(
            "The period was published {when} by {}. Every figure is as published.",
            n.stamp.by
        ),
        (d, crate::codes::Lang::Sv) => format!(
            "Perioden publicerades {when} av {}. {d} siffror skiljer sig nu från de publicerade (sena registreringar, rättelser eller gallring); de publicerade finns under Register och publicering.",
            n.stamp.by
        ),
        (d, crate::codes::Lang::En) => format!(
            "The period was published {when} by {}. {d} figures now differ from the published ones (late registrations, corrections or retention); the published ones are under Records and publishing.",
            n.stamp.by
        ),
    }
}

/// The year field as the form shows it: as given, empty when a from/to
/// period is given, else last year (what the page reports by default).
pub fn year_shown(form: &Form, today: NaiveDate) -> String {
    match form.opt("year") {
        Some(y) => y.to_string(),
        None if form.opt("from").is_some() || form.opt("to").is_some() => String::new(),
        None => (today.year() - 1).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(code: &str, parent: Option<&str>) -> Intervention {
        Intervention {
            code: code.into(),
            name: code.into(),
            parent: parent.map(Into::into),
            kind: crate::codes::InterventionKind::Individual,
            target_work_studies: None,
            target_step: None,
            target_qol: None,
        }
    }

    #[test]
    fn tree_puts_children_under_parents_at_any_depth() {
        let list = vec![
            iv("Z", None),
            iv("C2", Some("P")),
            iv("P", None),
            iv("G", Some("C2")),
            iv("C1", Some("P")),
            iv("ORPHAN", Some("HIDDEN")),
        ];
        let got: Vec<(usize, &str)> = tree(&list)
            .into_iter()
            .map(|(d, i)| (d, i.code.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, "ORPHAN"),
                (0, "P"),
                (1, "C1"),
                (1, "C2"),
                (2, "G"),
                (0, "Z")
            ]
        );
    }

    #[test]
    fn file_names_say_the_period() {
        let y = Period::year(2021).unwrap();
        assert_eq!(file_name("sustrack", &y, &[], "xlsx"), "sustrack-2021.xlsx");
        let p = Period::new(
            NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2021, 8, 31).unwrap(),
        )
        .unwrap();
        assert_eq!(
            file_name("sustrack", &p, &["vagen".into()], "csv"),
            "sustrack-2021-01-01_2021-08-31-VAGEN.csv"
        );
    }
}
