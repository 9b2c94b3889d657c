//! The coordinator's, admin's and auditor's desk over HTTP, against a real
//! server on a loopback port and, for comparison, the real binary on the
//! same file: a report downloaded from the web is the CLI's report byte
//! for byte, an export with the same key file has the same pseudonyms, an
//! import with bad rows writes nothing, and every change is the domain's.

mod common;

use common::web::*;
use reqwest::blocking::multipart;
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;

/// The CLI on the world's file; its standard output.
fn cli(w: &World, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("sustrack"))
        .args(args)
        .arg("--db")
        .arg(&w.path)
        .env_remove("SUSTRACK_DB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sustrack {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The year most of a generated register's enrolments start in.
fn busy_year(w: &World) -> String {
    let conn = w.store.connect().unwrap();
    conn.query_row(
        "SELECT substr(start_date, 1, 4) AS y FROM enrolment GROUP BY y ORDER BY count(*) DESC LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// A parent intervention (one with children) of a generated register.
fn a_parent(w: &World) -> String {
    let conn = w.store.connect().unwrap();
    conn.query_row(
        "SELECT parent FROM intervention WHERE parent IS NOT NULL ORDER BY parent LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn body(res: Response) -> (StatusCode, String) {
    let s = res.status();
    (s, res.text().unwrap())
}

/// The value of a hidden field on a page.
fn field_value(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + name.len()
        + 15;
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

fn disposition(res: &Response) -> String {
    res.headers()
        .get("content-disposition")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn report_downloads_are_the_clis_bytes_for_the_same_options() {
    let w = World::generated(3000, 11);
    let cecilia = w.sign_in("cecilia");
    let year = busy_year(&w);
    let parent = a_parent(&w);
    let cases: Vec<(String, Vec<String>)> = vec![
        // Suppression over hundreds of tiny interventions is slow in a
        // debug build: the suppressed cases take one subtree.
        (
            format!("year={year}&suppress_below=5&intervention={parent}"),
            vec![
                "--year".into(),
                year.clone(),
                "--suppress-below".into(),
                "5".into(),
                "--intervention".into(),
                parent.clone(),
            ],
        ),
        (
            format!("year={year}&suppress_below=0&lang=en"),
            vec!["--year".into(), year.clone(), "--lang".into(), "en".into()],
        ),
        (
            format!(
                "from={year}-01-01&to={year}-08-31&suppress_below=3&age_bands=18-39,40-66&months_band=3&intervention={parent}"
            ),
            vec![
                "--intervention".into(),
                parent.clone(),
                "--from".into(),
                format!("{year}-01-01"),
                "--to".into(),
                format!("{year}-08-31"),
                "--suppress-below".into(),
                "3".into(),
                "--age-bands".into(),
                "18-39,40-66".into(),
                "--months-band".into(),
                "3".into(),
            ],
        ),
    ];
    for (query, args) in &cases {
        for format in ["csv", "json", "md", "text"] {
            let res = w.get(&cecilia, &format!("/report?{query}&format={format}"));
            assert_eq!(res.status(), StatusCode::OK, "{query} {format}");
            let name = disposition(&res);
            assert!(
                name.starts_with("attachment; filename=\"sustrack-"),
                "{name}"
            );
            let web = res.bytes().unwrap().to_vec();
            let mut a: Vec<&str> = vec!["report", "--format", format];
            a.extend(args.iter().map(String::as_str));
            let ours = cli(&w, &a);
            assert!(
                web == ours,
                "{query} {format}: the web's download differs from the CLI's\nweb:\n{}\ncli:\n{}",
                String::from_utf8_lossy(&web),
                String::from_utf8_lossy(&ours)
            );
        }
    }
    // The year's file names, and the binary and HTML formats.
    let res = w.get(
        &cecilia,
        &format!("/report?year={year}&format=xlsx&suppress_below=0"),
    );
    assert_eq!(
        disposition(&res),
        format!("attachment; filename=\"sustrack-{year}.xlsx\"")
    );
    let xlsx = res.bytes().unwrap();
    let book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(xlsx.to_vec())).unwrap();
    assert!(!calamine::Reader::sheet_names(&book).is_empty());
    let res = w.get(
        &cecilia,
        &format!("/report?year={year}&format=html&intervention={parent}"),
    );
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/html; charset=utf-8"
    );
    let html = res.text().unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<svg"),
        "{html}"
    );
    // Each download is a report read, recorded with its format.
    assert!(w.count("SELECT count(*) FROM audit WHERE action = 'report' AND detail LIKE '%format xlsx%' AND actor = 'cecilia'") >= 1);
}

#[test]
fn the_report_page_shows_the_report_with_charts_and_names_each_bad_option() {
    let w = World::generated(800, 5);
    let cecilia = w.sign_in("cecilia");
    let year = busy_year(&w);
    let parent = a_parent(&w);
    // The default suppression (5) over hundreds of tiny interventions is
    // slow in a debug build (BENCHMARKS.md, issue 16): one subtree.
    let (status, html) = body(w.get(
        &cecilia,
        &format!("/report?year={year}&intervention={parent}"),
    ));
    assert_eq!(status, StatusCode::OK);
    for needle in [
        "class=\"report-doc\"",
        "<svg",
        "<caption",
        &format!("/report?year={year}&#38;intervention={parent}&#38;format=xlsx"),
        "Förra året",
        "Januari–augusti",
        "name=\"suppress_below\" type=\"text\" value=\"5\"",
    ] {
        assert!(html.contains(needle), "missing {needle} in {html}");
    }
    // The page's CSP allows no inline style: nothing in it carries one.
    assert!(
        !html.contains("style="),
        "an inline style on the report page"
    );
    assert!(
        !html.contains("<style"),
        "a style element on the report page"
    );

    let bad = "/report?year=20x1&suppress_below=1&age_bands=40-30&months_band=0&lang=fi&format=pdf";
    let (status, html) = body(w.get(&cecilia, bad));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // `format` comes only in a link, so it is named in the summary alone.
    assert!(html.contains("giltiga format är"), "{html}");
    for field in ["year", "age_bands", "months_band", "lang"] {
        assert!(
            html.contains(&format!("href=\"#{field}\"")),
            "{field} is not named in the error summary:\n{html}"
        );
    }
    // From without to; to before from.
    let (status, html) = body(w.get(&cecilia, "/report?from=2021-01-01"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#to\""), "{html}");
    let (status, html) = body(w.get(&cecilia, "/report?from=2021-05-01&to=2021-04-01"));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#to\""), "{html}");
    // A threshold that protects nothing is the domain's refusal, named.
    let (status, html) = body(w.get(&cecilia, &format!("/report?year={year}&suppress_below=2")));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#suppress_below\""), "{html}");
    // A download with bad options is no file: the form with its errors.
    let res = w.get(&cecilia, "/report?year=abc&format=csv");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(disposition(&res).is_empty());
}

fn export_form(w: &World, c: &Client, fields: &[(&str, &str)], key: Option<Vec<u8>>) -> Response {
    let mut form = multipart::Form::new().text("csrf", w.csrf(c));
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    if let Some(k) = key {
        form = form.part(
            "key_file",
            multipart::Part::bytes(k).file_name("evaluator.key"),
        );
    }
    c.post(w.url("/export")).multipart(form).send().unwrap()
}

/// The counts the page shows, in its order: rows, coarsened,
/// generalised, left out.
fn counts(html: &str) -> Vec<u64> {
    html.split("<strong>")
        .skip(1)
        .filter_map(|s| s.split("</strong>").next()?.parse().ok())
        .collect()
}

#[test]
fn export_with_a_key_file_is_the_clis_file_and_without_one_the_same_rows() {
    let w = World::generated(2000, 3);
    let year = busy_year(&w);
    let key_file = w.path.with_file_name("evaluator.key");
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("sustrack"))
        .arg("keygen")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let key = std::fs::read(&key_file).unwrap();
    let cecilia = w.sign_in("cecilia");

    // k = 2: the generated register is small, and k = 5 leaves out most
    // of its rows (the comparison needs rows).
    let (status, html) = body(export_form(
        &w,
        &cecilia,
        &[("year", &year), ("k", "2")],
        Some(key.clone()),
    ));
    assert_eq!(status, StatusCode::OK, "{html}");
    let shown = counts(&html);
    let res = w.get(&cecilia, "/export/file");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        disposition(&res),
        format!("attachment; filename=\"sustrack-export-{year}.csv\"")
    );
    let web = res.bytes().unwrap().to_vec();
    let ours = cli(
        &w,
        &[
            "export",
            "--year",
            &year,
            "--k",
            "2",
            "--key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(
        web == ours,
        "the web export differs from the CLI's with the same key"
    );
    let rows = web.iter().filter(|&&b| b == b'\n').count() as u64 - 1;
    assert_eq!(
        shown.first(),
        Some(&rows),
        "the page's row count: {shown:?}"
    );
    // The key is never stored: not in the file, not in the trail.
    let hex = String::from_utf8(key.clone()).unwrap();
    let raw = std::fs::read(&w.path).unwrap();
    assert!(!raw
        .windows(hex.trim().len())
        .any(|win| win == hex.trim().as_bytes()));

    // Without a key: one-off pseudonyms, but the same rows otherwise.
    let (status, html) = body(export_form(
        &w,
        &cecilia,
        &[("year", &year), ("k", "2")],
        None,
    ));
    assert_eq!(status, StatusCode::OK);
    assert!(rows > 20, "too few rows to compare: {rows}");
    let unkeyed = counts(&html);
    assert_eq!(unkeyed.first(), Some(&rows), "{unkeyed:?} vs {shown:?}");
    let web = w.get(&cecilia, "/export/file").text().unwrap();
    let strip = |csv: &str| {
        let mut lines: Vec<String> = csv
            .lines()
            .skip(1)
            .map(|l| l.split_once(',').map(|x| x.1).unwrap_or("").to_string())
            .collect();
        lines.sort();
        lines
    };
    let keyed = String::from_utf8(ours).unwrap();
    assert_ne!(web, keyed, "one-off pseudonyms differ from the key's");
    assert_eq!(strip(&web), strip(&keyed));

    // A bad key file and a bad k are named; nothing is exported.
    let exports = w.count("SELECT count(*) FROM audit WHERE action = 'export'");
    let (status, html) = body(export_form(
        &w,
        &cecilia,
        &[("year", &year), ("k", "zero")],
        Some(b"not a key".to_vec()),
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("href=\"#key_file\"") && html.contains("href=\"#k\""),
        "{html}"
    );
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'export'"),
        exports
    );
    // Staff may not export; nothing is read for them.
    let eva = w.sign_in("eva");
    // (An urlencoded post: the refusal comes before the body is read, so a
    // streamed multipart body could be cut off mid-send and the client
    // report a broken connection instead of the page.)
    let res = w.post(&eva, "/export", &[("csrf", &w.csrf(&eva)), ("year", &year)]);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Another session does not get this session's file.
    let other = w.sign_in("cecilia");
    assert_eq!(w.get(&other, "/export/file").status(), StatusCode::GONE);
    // A session that signs out takes its file with it (a new session
    // never sees an old one's: the file is keyed by session).
    let (status, _) = body(export_form(
        &w,
        &other,
        &[("year", &year), ("k", "2")],
        None,
    ));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(w.get(&other, "/export/file").status(), StatusCode::OK);
    let res = w.post(&other, "/logout", &[("csrf", &w.csrf(&other))]);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // After 15 minutes the file is gone.
    w.pass(16 * 60);
    let cecilia = w.sign_in("cecilia");
    assert_eq!(w.get(&cecilia, "/export/file").status(), StatusCode::GONE);
}

fn upload(w: &World, c: &Client, csv: &str) -> Response {
    let form = multipart::Form::new().text("csrf", w.csrf(c)).part(
        "file",
        multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("rader.csv"),
    );
    c.post(w.url("/import")).multipart(form).send().unwrap()
}

#[test]
fn an_import_with_bad_rows_writes_nothing_and_lists_them_and_a_good_one_runs_after_confirming() {
    let w = World::new();
    let eva = w.sign_in("eva");
    let before = w.state();
    let year = chrono::Local::now().date_naive().format("%Y").to_string();
    let bad = format!(
        "event,intervention,local_id,gender,date\n\
         start,ALLIN,L1,K,{year}-01-02\n\
         start,ALLIN,L2,X,{year}-01-02\n\
         start,BETA,L3,M,{year}-01-02\n\
         start,ALLIN,L4,M,{year}-13-01\n"
    );
    let (status, html) = body(upload(&w, &eva, &bad));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    for needle in [
        "line 3, column gender",
        "line 4, column intervention",
        "line 5, column date",
    ] {
        assert!(html.contains(needle), "missing {needle}:\n{html}");
    }
    assert!(!html.contains("line 2,"), "a good row listed:\n{html}");
    assert_eq!(w.state(), before, "a refused import wrote something");

    // A good file: the dry run writes nothing, the confirmation does.
    let good = format!(
        "event,intervention,local_id,gender,date\n\
         start,ALLIN,L1,K,{year}-01-02\n\
         start,ALLIN,L2,M,{year}-01-03\n"
    );
    let (status, html) = body(upload(&w, &eva, &good));
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("2 starter"), "{html}");
    assert_eq!(w.state(), before, "a dry run wrote something");
    let file_id = field_value(&html, "file_id");
    let enrolments = w.count("SELECT count(*) FROM enrolment");
    // A confirmation from another page (another file's dry run) imports
    // nothing.
    let res = w.post(
        &eva,
        "/import/confirm",
        &[("csrf", &w.csrf(&eva)), ("file_id", "another-page")],
    );
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.state(), before);
    let res = w.post(
        &eva,
        "/import/confirm",
        &[("csrf", &w.csrf(&eva)), ("file_id", &file_id)],
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mut html = String::new();
    for _ in 0..100 {
        html = w.get(&eva, "/import").text().unwrap();
        if !html.contains("import-progress") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(html.contains("Klar"), "{html}");
    assert_eq!(w.count("SELECT count(*) FROM enrolment"), enrolments + 2);
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'import' AND actor = 'eva'"),
        1
    );
    // The file was dropped with the confirmation: a second one has nothing.
    let res = w.post(
        &eva,
        "/import/confirm",
        &[("csrf", &w.csrf(&eva)), ("file_id", &file_id)],
    );
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.count("SELECT count(*) FROM enrolment"), enrolments + 2);
    // Staff may not import interventions or volumes, nor learn a stored
    // count from the answer.
    for file in [
        "code,name\nNYSTAFF,Ny\n",
        "intervention,month,women,men\nOTHER,2024-01,3,4\n",
    ] {
        let (status, html) = body(upload(&w, &eva, file));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert!(html.contains("Din roll får inte importera"), "{html}");
    }

    // A coordinator imports interventions, not registrations (they carry
    // personnummer, SPEC section 11).
    // Nor may its answer ("already present") tell them who is enrolled.
    let cecilia = w.sign_in("cecilia");
    let (status, html) = body(upload(&w, &cecilia, &good));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("Din roll får inte importera"), "{html}");
    assert!(!html.contains("already present"), "{html}");
    let (status, html) = body(upload(
        &w,
        &cecilia,
        "code,name,parent\nNYA,Ny insats,PAR\n",
    ));
    assert_eq!(status, StatusCode::OK, "{html}");
    // An upload over 20 MiB is refused before it is read whole.
    // The server answers 413 as soon as it sees the declared length and
    // closes the connection; the client may notice that as a broken send.
    let big = "x".repeat(21 * 1024 * 1024);
    let form = multipart::Form::new().text("csrf", w.csrf(&cecilia)).part(
        "file",
        multipart::Part::bytes(big.into_bytes()).file_name("big.csv"),
    );
    match cecilia.post(w.url("/import")).multipart(form).send() {
        Ok(res) => assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    let cecilia = w.sign_in("cecilia");
    assert_eq!(w.get(&cecilia, "/import").status(), StatusCode::OK);
    // The auditor has no import page.
    let greta = w.sign_in("greta");
    assert_eq!(w.get(&greta, "/import").status(), StatusCode::FORBIDDEN);
}

#[test]
fn interventions_are_added_and_edited_and_the_tree_stays_a_tree() {
    let w = World::new();
    let cecilia = w.sign_in("cecilia");
    let csrf = w.csrf(&cecilia);
    let res = w.post(
        &cecilia,
        "/admin/interventions",
        &[
            ("csrf", &csrf),
            ("code", "nya"),
            ("name", "Ny insats"),
            ("parent", "ALLIN"),
            ("kind", "individual"),
            ("target_work_studies", "40"),
        ],
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let conn = w.store.connect().unwrap();
    let (parent, target): (String, f64) = conn
        .query_row(
            "SELECT parent, target_work_studies FROM intervention WHERE code = 'NYA'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((parent.as_str(), target), ("ALLIN", 0.4));
    let (_, html) = body(w.get(&cecilia, "/admin/interventions"));
    // In tree order: PAR, then ALLIN, then its child NYA, then BETA.
    let at = |s: &str| html.find(&format!("id=\"row-{s}\"")).unwrap();
    assert!(at("PAR") < at("ALLIN") && at("ALLIN") < at("NYA") && at("NYA") < at("BETA"));

    // A parent under itself is refused, named, and nothing changes.
    let before = w.state();
    let res = w.post(
        &cecilia,
        "/admin/interventions/PAR",
        &[
            ("csrf", &csrf),
            ("name", "Paraply"),
            ("parent", "NYA"),
            ("kind", "individual"),
        ],
    );
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().unwrap().contains("href=\"#parent\""));
    assert_eq!(w.state(), before);
    // A bad target, an unknown parent: named.
    let (status, html) = body(w.post(
        &cecilia,
        "/admin/interventions/PAR",
        &[
            ("csrf", &csrf),
            ("name", "Paraply"),
            ("parent", "NOPE"),
            ("kind", "individual"),
            ("target_step", "140"),
        ],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#target_step\""), "{html}");
    // A change of kind while enrolments exist is refused.
    let (status, html) = body(w.post(
        &cecilia,
        "/admin/interventions/ALLIN",
        &[
            ("csrf", &csrf),
            ("name", "Alla in"),
            ("parent", "PAR"),
            ("kind", "volume"),
        ],
    ));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("href=\"#kind\""), "{html}");
    // A good edit: the name, and the audit names the field only.
    let res = w.post(
        &cecilia,
        "/admin/interventions/PAR",
        &[
            ("csrf", &csrf),
            ("name", "Paraplyprojekt"),
            ("parent", ""),
            ("kind", "individual"),
        ],
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'intervention edit' AND subject = 'PAR' AND detail = 'name'"),
        1
    );
    // Staff see no admin page.
    let eva = w.sign_in("eva");
    assert_eq!(
        w.get(&eva, "/admin/interventions").status(),
        StatusCode::FORBIDDEN
    );
}

#[test]
fn an_admin_adds_users_sees_the_link_once_and_cannot_grant_themselves() {
    let w = World::new();
    let adam = w.sign_in("adam");
    let csrf = w.csrf(&adam);
    let res = w.post(
        &adam,
        "/admin/users",
        &[
            ("csrf", &csrf),
            ("login", "nils"),
            ("name", "Nils N"),
            ("role", "staff"),
            ("intervention", "ALLIN"),
        ],
    );
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().unwrap();
    let at = html.find("/enrol/").expect("the link is shown");
    let token = &html[at + 7..at + 7 + html[at + 7..].find('<').unwrap()];
    // Once: the list page does not show it again.
    assert!(!w.get(&adam, "/admin/users").text().unwrap().contains(token));
    // The link works (the enrolment page opens for nils).
    let fresh = w.browser();
    assert_eq!(
        w.get(&fresh, &format!("/enrol/{token}")).status(),
        StatusCode::OK
    );

    // Admin together with staff is refused; an existing login too.
    let before = w.state();
    for form in [
        vec![("login", "olle"), ("role", "admin"), ("role", "staff")],
        vec![("login", "nils"), ("role", "auditor")],
        vec![("login", "Bad Login!"), ("role", "auditor")],
        vec![("login", "pia"), ("role", "chief")],
    ] {
        let mut f = form.clone();
        f.push(("csrf", &csrf));
        let res = w.post(&adam, "/admin/users", &f);
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{form:?}");
    }
    assert_eq!(w.state(), before);
    // An admin cannot grant interventions to themselves.
    let res = w.post(
        &adam,
        "/admin/users/adam/grant",
        &[("csrf", &csrf), ("intervention", "ALLIN")],
    );
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(w.count("SELECT count(*) FROM user_grant g JOIN app_user u ON u.id = g.user_id WHERE u.login = 'adam'"), 0);
    // Grant, revoke and disable take effect at once.
    let res = w.post(
        &adam,
        "/admin/users/eva/grant",
        &[("csrf", &csrf), ("intervention", "OTHER")],
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let eva = w.sign_in("eva");
    assert_eq!(w.get(&eva, "/interventions/OTHER").status(), StatusCode::OK);
    let res = w.post(
        &adam,
        "/admin/users/eva/revoke",
        &[("csrf", &csrf), ("intervention", "OTHER")],
    );
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        w.get(&eva, "/interventions/OTHER").status(),
        StatusCode::NOT_FOUND
    );
    let res = w.post(&adam, "/admin/users/eva/disable", &[("csrf", &csrf)]);
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(w.get(&eva, "/").status(), StatusCode::SEE_OTHER);
    // A coordinator has no users page.
    let cecilia = w.sign_in("cecilia");
    assert_eq!(
        w.get(&cecilia, "/admin/users").status(),
        StatusCode::FORBIDDEN
    );
}

#[test]
fn the_audit_trail_filters_pages_downloads_and_never_takes_a_personnummer() {
    let w = World::new();
    for _ in 0..3 {
        w.sign_in("eva");
    }
    let greta = w.sign_in("greta");
    let (status, html) = body(w.get(&greta, "/log?login=eva&action=sign-in"));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(html.matches("<td>sign-in</td>").count(), 3, "{html}");
    assert!(!html.contains("<td>cecilia</td>"));
    // By subject: the enrolment's 8-character prefix.
    let prefix = &w.in_a[..8];
    let (_, html) = body(w.get(&greta, &format!("/log?enrolment={prefix}")));
    assert!(html.contains(&w.in_a), "{html}");
    assert!(!html.contains(&w.in_b));
    // A page that showed the enrolment records its short id: the full id
    // finds that entry too.
    let cecilia = w.sign_in("cecilia");
    assert_eq!(
        w.get(&cecilia, &format!("/enrolments/{}", w.in_a)).status(),
        StatusCode::OK
    );
    let (_, html) = body(w.get(&greta, &format!("/log?enrolment={}&action=show", w.in_a)));
    assert!(html.contains("<td>show</td>"), "{html}");
    // Paged: 50 a page, then older ones.
    for _ in 0..55 {
        w.get(&greta, "/log?action=log");
    }
    let (_, html) = body(w.get(&greta, "/log?action=log"));
    assert_eq!(html.matches("<td>log</td>").count(), 50);
    let next = html
        .split("href=\"")
        .find(|s| s.contains("before="))
        .map(|s| s[..s.find('"').unwrap()].replace("&#38;", "&"))
        .expect("a link to older entries");
    let (_, older) = body(w.get(&greta, &next));
    assert!(older.matches("<td>log</td>").count() >= 1);
    // CSV: every match, with a header.
    let res = w.get(&greta, "/log?login=eva&format=csv");
    assert_eq!(
        disposition(&res),
        "attachment; filename=\"sustrack-log.csv\""
    );
    let csv = res.text().unwrap();
    assert!(
        csv.starts_with("id,at,actor,action,subject,detail\n"),
        "{csv}"
    );
    assert_eq!(
        csv.lines().filter(|l| l.contains(",eva,sign-in,")).count(),
        3
    );
    // A personnummer in the subject filter is refused, and not recorded.
    let (status, html) = body(w.get(&greta, &format!("/log?enrolment={}", w.anna.ten)));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!html.contains(&w.anna.ten));
    assert_eq!(
        w.count(&format!(
            "SELECT count(*) FROM audit WHERE detail LIKE '%{}%'",
            w.anna.ten
        )),
        0
    );
    // A personnummer or a made-up value in the other filters: refused,
    // not recorded.
    for q in [
        format!("/log?login={}", w.anna.dashed),
        "/log?action=%3Dcmd".to_string(),
    ] {
        let (status, html) = body(w.get(&greta, &q));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert!(!html.contains(&w.anna.dashed));
    }
    assert_eq!(
        w.count(&format!(
            "SELECT count(*) FROM audit WHERE detail LIKE '%{}%' OR detail LIKE '%=cmd%'",
            w.anna.dashed
        )),
        0
    );
    // A sign-in refused for a login typed as a formula is recorded as
    // typed, and the CSV keeps a spreadsheet from running it.
    let c = w.browser();
    w.try_sign_in(&c, "=HYPERLINK(\"http://x\")", PASSWORD, false);
    let csv = w.get(&greta, "/log?format=csv").text().unwrap();
    let lower = csv.to_lowercase();
    assert!(lower.contains(",\"'=hyperlink("), "{csv}");
    assert!(
        !lower.contains(",\"=hyperlink(") && !lower.contains(",=hyperlink("),
        "{csv}"
    );
    // Staff have no trail.
    let eva = w.sign_in("eva");
    assert_eq!(w.get(&eva, "/log").status(), StatusCode::FORBIDDEN);
}

#[test]
fn the_backup_is_the_register_encrypted_to_the_recovery_key() {
    let w = World::new();
    let adam = w.sign_in("adam");
    let (status, html) = body(w.get(&adam, "/admin/backup"));
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("age1"), "the recipient is shown");
    let res = w.post(&adam, "/admin/backup", &[("csrf", &w.csrf(&adam))]);
    assert_eq!(res.status(), StatusCode::OK);
    assert!(disposition(&res).contains("sustrack-backup-"));
    let sealed = res.bytes().unwrap().to_vec();
    assert!(
        !sealed.windows(15).any(|x| x == b"SQLite format 3"),
        "not encrypted"
    );
    let key = recovery_key();
    let plain = age::decrypt(&key, &sealed).unwrap();
    let copy = w.path.with_file_name("restored.db");
    std::fs::write(&copy, plain).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM enrolment", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, w.count("SELECT count(*) FROM enrolment"));
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'backup' AND actor = 'adam'"),
        1
    );
    // Nothing plain is left beside the database.
    let left: Vec<_> = std::fs::read_dir(w.path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".sustrack-tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Only the admin.
    let cecilia = w.sign_in("cecilia");
    let res = w.post(&cecilia, "/admin/backup", &[("csrf", &w.csrf(&cecilia))]);
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[test]
fn the_accessibility_statement_and_privacy_page_are_public() {
    let w = World::new();
    let c = w.browser();
    let greta = w.sign_in("greta");
    for (path, needle) in [
        ("/accessibility", "Tillgänglighetsredogörelse"),
        ("/privacy", "personnummer"),
    ] {
        let (status, html) = body(w.get(&c, path));
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(html.contains(needle), "{path}");
        assert!(html.contains("<h1"), "{path}");
        assert!(
            !html.contains("action=\"/logout\""),
            "{path}: a visitor's page"
        );
        // Signed in, the page keeps the menu and the sign-out form.
        let (status, html) = body(w.get(&greta, path));
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            html.contains("action=\"/logout\"") && html.contains("href=\"/log\""),
            "{path}: signed in"
        );
    }
}
