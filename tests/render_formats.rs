//! The publishable formats, checked as a coordinator would use them: the
//! HTML opens offline and shows every table with a chart (and, where
//! Chromium is installed, renders to an image), and the XLSX workbook reads
//! back cell by cell as the report's numbers.

use std::io::Cursor;
use std::path::Path;
use std::process::Command;

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use chrono::NaiveDate;
use sustrack::actor::Actor;
use sustrack::codes::{
    Education, Gender, InterventionKind, Lang, Outcome, QualityOfLife, Referrer, StepProgress,
    Support, YearsInSupport,
};
use sustrack::identity::KdfProfile;
use sustrack::model::{parse_municipality, ExitFacts, Intervention, StartFacts};
use sustrack::register::{self, ExitInput, ExitTarget, Participant, StartInput};
use sustrack::report::render::{
    cells, duration_cells, duration_header, durations_title, heading, indicator_cells,
    indicator_header, indicators_title,
};
use sustrack::report::{self, Options, Period, Report, Table};
use sustrack::store::Memory as Db;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn intervention(code: &str, name: &str, kind: InterventionKind) -> Intervention {
    Intervention {
        code: code.into(),
        name: name.into(),
        parent: None,
        kind,
        target_work_studies: Some(0.4),
        target_step: Some(0.5),
        target_qol: None,
    }
}

/// A small but varied year: two individual interventions, one volume
/// intervention, sixty enrolments of which two thirds exit.
fn sample_db() -> Db {
    let db = Db::open(KdfProfile::Test).unwrap();
    let c = &db.conn;
    let today = d(2022, 6, 30);
    register::intervention_add(
        c,
        &Actor::owner("test"),
        intervention(
            "ALLIN",
            "Arbetsinriktad insats",
            InterventionKind::Individual,
        ),
    )
    .unwrap();
    register::intervention_add(
        c,
        &Actor::owner("test"),
        intervention(
            "UNGA",
            "Unga vuxna <25 & nyanlända",
            InterventionKind::Individual,
        ),
    )
    .unwrap();
    register::intervention_add(
        c,
        &Actor::owner("test"),
        intervention("FRISK", "Friskvårdsgrupp", InterventionKind::Volume),
    )
    .unwrap();
    for m in 1..=6 {
        register::volume_add(
            c,
            &Actor::owner("test"),
            today,
            "FRISK",
            register::VolumeCounts {
                month: (2021, m),
                women: 3 + m,
                men: 2 * m,
            },
            false,
        )
        .unwrap();
    }
    let municipalities = ["Vänersborg", "Trollhättan", "Åmål", "Mellerud"];
    let supports = [
        Support::SocialAssistance,
        Support::SicknessBenefit,
        Support::ActivityCompensation,
        Support::None,
        Support::UnemploymentBenefit,
    ];
    let years = [
        YearsInSupport::UpTo1,
        YearsInSupport::From1To3,
        YearsInSupport::From3To6,
        YearsInSupport::Over9,
    ];
    let outcomes = [
        Outcome::Work,
        Outcome::JobSeeking,
        Outcome::Studies,
        Outcome::MedicalRehab,
        Outcome::Dropout,
    ];
    for i in 0..60u32 {
        let gender = if i % 5 < 3 {
            Gender::Woman
        } else {
            Gender::Man
        };
        let facts = StartFacts {
            municipality: (i % 11 != 0)
                .then(|| parse_municipality(municipalities[(i % 4) as usize]).unwrap()),
            support: Some(supports[(i % 5) as usize]),
            years_in_support: Some(years[(i % 4) as usize]),
            education: Some(
                [
                    Education::Compulsory,
                    Education::UpperSecondary,
                    Education::PostSecondary,
                ][(i % 3) as usize],
            ),
            referrer: Some([Referrer::Af, Referrer::Fk, Referrer::Municipality][(i % 3) as usize]),
        };
        let e = register::start(
            c,
            &Actor::owner("test"),
            today,
            StartInput {
                intervention: if i % 4 == 0 { "UNGA" } else { "ALLIN" }.into(),
                participant: Participant::Anonymous {
                    gender,
                    birth_year: Some(1962 + (i * 7 % 41) as i32),
                    local_id: None,
                },
                date: d(2021, 1 + i % 6, 1 + i % 27),
                facts,
            },
        )
        .unwrap();
        if i % 3 != 0 {
            register::exit(
                c,
                &Actor::owner("test"),
                today,
                &ExitTarget::Id(e.id.clone()),
                ExitInput {
                    date: d(2021, 7 + i % 6, 1 + i % 28),
                    outcome: outcomes[(i % 5) as usize],
                    after: ExitFacts {
                        support_after: Some(supports[((i + 1) % 5) as usize]),
                        step_progress: Some(if i % 2 == 0 {
                            StepProgress::Yes
                        } else {
                            StepProgress::No
                        }),
                        quality_of_life: Some(QualityOfLife::Improved),
                    },
                },
            )
            .unwrap();
        }
    }
    db
}

fn sample_report(lang: Lang) -> Report {
    let db = sample_db();
    let mut opts = Options::new(Period::year(2021).unwrap());
    opts.lang = lang;
    report::build(&db.conn, &opts).unwrap()
}

/// The tables a rendering shows: all but an empty volume table.
fn shown(r: &Report) -> Vec<&Table> {
    r.tables
        .iter()
        .filter(|t| !(t.id == "volume" && t.rows.is_empty()))
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    for banned in [
        "http://", "https://", "<script", "<link", "<img", "<iframe", "@import", "src=",
    ] {
        assert!(!lower.contains(banned), "html refers to {banned}");
    }
    for (n, _) in lower.match_indices("url(") {
        assert!(
            lower[n..].starts_with("url(#"),
            "only in-document url(#...) references are allowed: {}",
            &lower[n..(n + 40).min(lower.len())]
        );
    }
}

#[test]
fn html_is_self_contained_with_every_table_label_and_chart() {
    let r = sample_report(Lang::Sv);
    let html = report::render::html::render(&r);
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<html lang=\"sv\">"));
    assert_self_contained(&html);

    let tables = shown(&r);
    assert!(tables.iter().any(|t| t.id == "volume"), "sample has volume");
    for t in &tables {
        let section_start = html
            .find(&format!("id=\"table-{}\"", t.id))
            .unwrap_or_else(|| panic!("no section for {}", t.id));
        let section_end = section_start + html[section_start..].find("</section>").unwrap();
        let section = &html[section_start..section_end];
        assert!(
            section.contains(&format!(">{}</caption>", esc(&t.title))),
            "{}: caption",
            t.id
        );
        for c in &t.columns {
            assert!(
                section.contains(&format!(
                    "<th scope=\"col\" class=\"num\"><span>{}</span></th>",
                    esc(c)
                )),
                "{}: column {c}",
                t.id
            );
        }
        for row in &t.rows {
            assert!(
                section.contains(&format!("<th scope=\"row\">{}</th>", esc(&row.label))),
                "{}: row {}",
                t.id,
                row.label
            );
        }
        assert!(section.contains(&format!(
            "<tr class=\"total\"><th scope=\"row\">{}</th>",
            esc(&t.total_label)
        )));
        assert_eq!(section.matches("<svg").count(), 1, "{}: one chart", t.id);
        assert!(
            section.contains("role=\"img\""),
            "{}: chart is labelled",
            t.id
        );
    }
    assert_eq!(html.matches("<svg").count(), tables.len());
    // Escaped, never raw, markup from names.
    assert!(html.contains("Unga vuxna &lt;25 &amp; nyanlända"));
    assert!(!html.contains("<25 &"));
    // Headline and the indicator table.
    assert!(
        html.contains("till arbete eller studier</span> <span class=\"kpi-target\">— mål 4 av 10"),
        "headline block"
    );
    assert!(html.contains(&format!(">{}</caption>", esc(indicators_title(Lang::Sv)))));
    for i in &r.indicators {
        for cell in indicator_cells(i, &r) {
            assert!(html.contains(&esc(&cell)), "indicator cell {cell}");
        }
    }
    // Print layout.
    assert!(html.contains("@page { size: A4"));
    assert!(html.contains("break-inside: avoid"));
}

#[test]
fn html_in_english_uses_english_labels() {
    let r = sample_report(Lang::En);
    let html = report::render::html::render(&r);
    assert_self_contained(&html);
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains(">Women</span></th>") && html.contains(">Men</span></th>"));
    assert!(html.contains("to work or studies</span> <span class=\"kpi-target\">— target 4 in 10"));
    assert!(!html.contains("Kvinnor"));
}

#[test]
fn html_shows_suppressed_cells_as_dash_in_table_and_chart() {
    let mut r = sample_report(Lang::Sv);
    report::suppress::apply(&mut r, 3);
    let hidden: Vec<(&str, usize, usize)> = shown(&r)
        .iter()
        .flat_map(|t| {
            t.rows.iter().enumerate().flat_map(move |(n, row)| {
                row.values
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| v.is_none())
                    .map(move |(c, _)| (t.id, n, c))
            })
        })
        .collect();
    assert!(!hidden.is_empty(), "the sample has counts below 3");
    let html = report::render::html::render(&r);
    assert_self_contained(&html);
    assert!(html.contains("<td class=\"num suppressed\">–</td>"));
    assert!(html.contains("antal under 3 visas som –"));
    // Gender tables chart women and men: a hidden one of those is a dash label.
    let gender_hidden = hidden.iter().find(|(id, _, c)| {
        r.table(id).unwrap().column_keys[..2] == ["woman".to_string(), "man".to_string()] && *c < 2
    });
    if let Some((id, _, _)) = gender_hidden {
        let start = html.find(&format!("id=\"table-{id}\"")).unwrap();
        let svg = &html[start..];
        let svg = &svg[svg.find("<svg").unwrap()..svg.find("</svg>").unwrap()];
        assert!(
            svg.contains(">–</text>"),
            "{id}: chart labels the hidden bar"
        );
    }
}

#[test]
fn empty_volume_table_is_left_out() {
    let mut r = sample_report(Lang::Sv);
    for t in r.tables.iter_mut().filter(|t| t.id == "volume") {
        t.rows.clear();
    }
    let html = report::render::html::render(&r);
    assert!(!html.contains("id=\"table-volume\""));
    let sheets = read_xlsx(&report::render::xlsx::render(&r).unwrap());
    assert!(sheets.iter().all(|(name, _)| name != "volume"));
}

fn read_xlsx(bytes: &[u8]) -> Vec<(String, Range<Data>)> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("valid xlsx");
    wb.sheet_names()
        .into_iter()
        .map(|name| {
            let range = wb.worksheet_range(&name).unwrap();
            (name, range)
        })
        .collect()
}

fn cell(range: &Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

fn text(s: &str) -> Data {
    Data::String(s.to_string())
}

fn number(v: Option<u64>) -> Data {
    match v {
        Some(v) => Data::Float(v as f64),
        None => text("–"),
    }
}

fn share(v: Option<f64>) -> Data {
    match v {
        Some(v) => Data::Float(v),
        None => text("–"),
    }
}

/// Compare a cell, treating integers and floats with the same value alike.
fn check(range: &Range<Data>, sheet: &str, row: u32, col: u32, want: &Data) {
    let got = cell(range, row, col);
    let same = match (&got, want) {
        (Data::Int(a), Data::Float(b)) | (Data::Float(b), Data::Int(a)) => *a as f64 == *b,
        (Data::Float(a), Data::Float(b)) => (a - b).abs() < 1e-12,
        (Data::String(a), Data::Empty) | (Data::Empty, Data::String(a)) => a.is_empty(),
        (a, b) => a == b,
    };
    assert!(
        same,
        "{sheet}!R{}C{}: got {got:?}, want {want:?}",
        row + 1,
        col + 1
    );
}

/// Every cell of the workbook, sheet by sheet, against the report.
fn check_workbook(r: &Report, bytes: &[u8]) {
    assert_eq!(&bytes[..2], b"PK", "an xlsx is a zip file");
    let sheets = read_xlsx(bytes);
    let mut want_names: Vec<String> = shown(r).iter().map(|t| t.id.to_string()).collect();
    want_names.push("indicators".into());
    want_names.push("durations".into());
    // SPEC section 13's sections (wait, reach, cost), when the report has them.
    want_names.extend(
        sustrack::report::render::beyond_sections(r)
            .iter()
            .map(|s| s.0.to_string()),
    );
    let names: Vec<String> = sheets.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, want_names);
    let (title, sub) = heading(r);

    for (t, (name, range)) in shown(r).iter().zip(&sheets) {
        assert!(name.chars().count() <= 31);
        let (header, body) = cells(t, r);
        let width = header.len() as u32;
        let mut expect: Vec<Vec<Data>> = Vec::new();
        let mut first = vec![text(&t.title)];
        first.resize(width as usize, Data::Empty);
        expect.push(first);
        let mut head = vec![Data::Empty];
        head.extend(header[1..].iter().map(|h| text(h)));
        expect.push(head);
        for (row, line) in t.rows.iter().zip(&body) {
            let mut cells = vec![text(&line[0])];
            cells.extend(row.values.iter().map(|&v| number(v)));
            if let Some(shares) = &row.shares {
                cells.extend(shares.iter().map(|&s| share(s)));
            }
            if let Some(cmp) = &row.compare {
                cells.extend(cmp.iter().map(|&v| number(v)));
            }
            assert_eq!(cells.len() as u32, width, "{name}: row width");
            expect.push(cells);
        }
        let mut total = vec![text(&t.total_label)];
        total.extend(t.total.iter().map(|&v| number(v)));
        if t.rows.iter().any(|r| r.shares.is_some()) {
            total.extend(t.total.iter().map(|v| share(v.map(|_| 1.0))));
        }
        if let Some(cmp) = &t.compare_total {
            total.extend(cmp.iter().map(|&v| number(v)));
        }
        expect.push(total);
        expect.push(Vec::new());
        expect.push(vec![text(&title)]);
        expect.push(vec![text(&sub)]);
        check_grid(range, name, &expect);
    }

    let extra = sustrack::report::render::beyond_sections(r).len();
    let (name, range) = &sheets[sheets.len() - 2 - extra];
    let mut expect = vec![vec![text(indicators_title(r.lang))]];
    expect.push(indicator_header(r).iter().map(|h| text(h)).collect());
    for i in &r.indicators {
        let line = indicator_cells(i, r);
        let mut cells = vec![
            text(&line[0]),
            text(&line[1]),
            text(&line[2]),
            text(&line[3]),
            number(i.numerator),
            number(i.denominator),
            share(i.share),
            share(i.target),
            text(&line[8]),
        ];
        if let Some(c) = &i.compare {
            cells.extend([
                text(&line[9]),
                number(c.numerator),
                number(c.denominator),
                share(c.share),
            ]);
        }
        expect.push(cells);
    }
    expect.push(Vec::new());
    expect.push(vec![text(&title)]);
    expect.push(vec![text(&sub)]);
    check_grid(range, name, &expect);

    // Time in the intervention: counts and one-decimal numbers of weeks and months.
    let (name, range) = &sheets[sheets.len() - 1 - extra];
    let mut expect = vec![vec![text(durations_title(r.lang))]];
    expect.push(duration_header(r).iter().map(|h| text(h)).collect());
    let tenth = |days: Option<f64>, per: f64| match days {
        Some(d) => Data::Float((d / per * 10.0).round() / 10.0),
        None => text("–"),
    };
    for d in &r.durations {
        let line = duration_cells(d, r);
        let mut cells = vec![text(&line[0])];
        let mut blocks = vec![d];
        if let Some(c) = &d.compare {
            blocks.push(c);
        }
        for x in blocks {
            cells.push(number(x.exited));
            cells.push(tenth(x.mean_days, 7.0));
            cells.push(tenth(x.median_days, 7.0));
            cells.push(tenth(x.mean_days, 30.4375));
            cells.push(tenth(x.median_days, 30.4375));
        }
        expect.push(cells);
    }
    expect.push(Vec::new());
    expect.push(vec![text(&title)]);
    expect.push(vec![text(&sub)]);
    check_grid(range, name, &expect);
}

/// Check `expect` cell by cell, and that nothing lies outside it.
fn check_grid(range: &Range<Data>, sheet: &str, expect: &[Vec<Data>]) {
    let width = expect.iter().map(|r| r.len()).max().unwrap() as u32;
    for (row, line) in expect.iter().enumerate() {
        for col in 0..width {
            let want = line.get(col as usize).cloned().unwrap_or(Data::Empty);
            check(range, sheet, row as u32, col, &want);
        }
    }
    let (end_row, end_col) = range.end().unwrap();
    assert!(
        end_row < expect.len() as u32 && end_col < width,
        "{sheet}: cells beyond the table up to R{}C{}",
        end_row + 1,
        end_col + 1
    );
}

#[test]
fn xlsx_reads_back_cell_by_cell() {
    let r = sample_report(Lang::Sv);
    let bytes = report::render::xlsx::render(&r).unwrap();
    check_workbook(&r, &bytes);
}

#[test]
fn xlsx_in_english_with_suppression_reads_back_cell_by_cell() {
    let mut r = sample_report(Lang::En);
    report::suppress::apply(&mut r, 3);
    assert!(r.tables.iter().any(|t| t.total.iter().any(|v| v.is_none())
        || t.rows
            .iter()
            .any(|row| row.values.iter().any(|v| v.is_none()))));
    let bytes = report::render::xlsx::render(&r).unwrap();
    check_workbook(&r, &bytes);
    let sheets = read_xlsx(&bytes);
    let dashes = sheets
        .iter()
        .flat_map(|(_, range)| {
            range
                .used_cells()
                .map(|(_, _, c)| c.clone())
                .collect::<Vec<_>>()
        })
        .filter(|c| *c == Data::String("–".into()))
        .count();
    assert!(dashes > 0, "suppressed cells are the string –");
}

/// Render the HTML in headless Chromium as a user would open it, when
/// Chromium is installed. Set SUSTRACK_SCREENSHOT=path to keep the image.
#[test]
fn html_renders_in_headless_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        // In CI a browser test runs, never skips (.ci/run installs Chromium).
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but /usr/bin/chromium is not installed: the browser test must run in CI"
        );
        eprintln!(
            "SKIPPED html_renders_in_headless_chromium: /usr/bin/chromium is not installed (apt-get install -y chromium)"
        );
        return;
    }
    let mut r = sample_report(Lang::Sv);
    report::suppress::apply(&mut r, 3);
    let dir = tempfile::tempdir().unwrap();
    let html_path = dir.path().join("report.html");
    std::fs::write(&html_path, report::render::html::render(&r)).unwrap();
    let png = match std::env::var_os("SUSTRACK_SCREENSHOT") {
        Some(p) => std::path::PathBuf::from(p),
        None => dir.path().join("report.png"),
    };
    let profile = dir.path().join("profile");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,3000")
        .arg(&html_path)
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let image = std::fs::read(&png).expect("chromium wrote a screenshot");
    assert!(image.len() > 10_000, "screenshot is {} bytes", image.len());
    assert_eq!(&image[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn demo_report_renders_in_both_formats() {
    for lang in [Lang::Sv, Lang::En] {
        let r = sustrack::demo::report_2021(lang).unwrap();
        let html = report::render::html::render(&r);
        assert_self_contained(&html);
        assert_eq!(html.matches("<svg").count(), shown(&r).len());
        check_workbook(&r, &report::render::xlsx::render(&r).unwrap());
    }
}
