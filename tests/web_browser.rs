//! The browser tests: real Chromium (Debian's `chromium`) driven by
//! playwright-core, with axe-core on every page, against the real binary's
//! `serve` (tests/browser/staff_flow.mjs holds the staff member's flow,
//! tests/browser/desk_flow.mjs the coordinator's, admin's and auditor's), or
//! the server run in this process against the real OpenID Provider of
//! tests/oidc/provider.mjs (tests/browser/eid_flow.mjs: the e-ID sign-in).
//! Screenshots are kept in target/screenshots/web/. Needs Node.js and
//! `npm ci`; under `CI=true` they fail rather than skip when something is
//! missing.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::oidc::{Provider, LOA3};
use common::web::{World, PASSWORD};
use common::Env;
use sustrack::actor::Role;

fn missing_tools() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("Node.js (apt-get install nodejs npm)".to_string());
    }
    for module in ["playwright-core", "axe-core"] {
        if !root.join("node_modules").join(module).exists() {
            missing.push(format!("node_modules/{module} (run `npm ci`)"));
        }
    }
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        missing.push(format!("{chromium} (apt-get install chromium)"));
    }
    missing
}

/// A synthetic personnummer with a valid check digit.
fn synthetic_pnr() -> String {
    let nine: Vec<u8> = "850615412".bytes().map(|b| b - b'0').collect();
    format!(
        "19850615-412{}",
        sustrack::identity::luhn_check_digit(&nine)
    )
}

fn link(out: &str) -> String {
    let at = out
        .find("/enrol/")
        .unwrap_or_else(|| panic!("no link in {out}"));
    out[at..].split_whitespace().next().unwrap().to_string()
}

/// Whether the browser test can run; under `CI=true` it must.
fn runnable() -> bool {
    let missing = missing_tools();
    if missing.is_empty() {
        return true;
    }
    let msg = format!("the browser test needs: {}", missing.join("; "));
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg} (under CI=true it must run)");
    }
    eprintln!("skipped: {msg}");
    false
}

/// `sustrack serve` on a free loopback port: the child and its base URL.
fn serve(env: &Env, extra: &[&str]) -> (Child, String) {
    let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut server = env
        .std_command(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base = first
        .trim()
        .strip_prefix("sustrack serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    (server, base)
}

/// Stop the server; what it wrote on stderr.
fn stop(mut server: Child) -> String {
    let _ = server.kill();
    let _ = server.wait();
    let mut server_err = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut server_err)
        .unwrap();
    server_err
}

#[test]
fn staff_register_a_start_and_an_exit_and_a_coordinator_sees_the_count() {
    if !runnable() {
        return;
    }
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Alla in"]);
    let staff = link(&env.ok(&[
        "user",
        "add",
        "eva",
        "--role",
        "staff",
        "--intervention",
        "ALLIN",
        "--name",
        "Eva Ek",
    ]));
    let coordinator = link(&env.ok(&["user", "add", "cecilia", "--role", "coordinator"]));

    let (server, base) = serve(&env, &[]);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots/web");
    let pnr = synthetic_pnr();
    let out = Command::new("node")
        .arg(root.join("tests/browser/staff_flow.mjs"))
        .current_dir(root)
        .env("BASE", &base)
        .env("STAFF_LINK", &staff)
        .env("COORD_LINK", &coordinator)
        .env("PNR", &pnr)
        .env("SHOTS", &shots)
        .output()
        .unwrap();
    let server_err = stop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser flow failed:\n{stdout}\n{stderr}\nserver:\n{server_err}"
    );
    assert!(stdout.contains("browser flow passed"), "{stdout}");
    // The server said nothing about the person.
    let digits: String = pnr.chars().filter(char::is_ascii_digit).collect();
    assert!(!server_err.contains(&digits[2..]), "{server_err}");
    assert!(!server_err.contains(&pnr), "{server_err}");
    // And the database file holds no trace of the number.
    let bytes = std::fs::read(&env.db).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains(&digits[2..]) && !text.contains(&pnr));
    // The start and the exit are in the register, by the signed-in login.
    let log = env.ok(&["log", "--limit", "100"]);
    assert!(
        log.contains("eva") && log.contains("start") && log.contains("exit"),
        "{log}"
    );
}

/// Registrations for `year`: `a` starts in A, half women, half men, all
/// in one age band and none exited (so that no count in A's report is
/// under 5 and none is hidden), and six starts in B, two of them exited
/// to studies; by local id.
fn registrations(year: i32, a: usize) -> String {
    let mut csv = String::from("event,intervention,local_id,gender,birth_year,date,outcome\n");
    for i in 1..=a {
        let gender = ["K", "M"][i % 2];
        let born = year - 36 - (i % 5) as i32;
        csv.push_str(&format!("start,A,L{i},{gender},{born},{year}-02-{i:02},\n"));
    }
    for i in 21..=26 {
        let gender = ["K", "M"][i % 2];
        let born = year - 30 - (i % 7) as i32;
        csv.push_str(&format!("start,B,L{i},{gender},{born},{year}-03-{i:02},\n"));
    }
    for i in 21..=22 {
        csv.push_str(&format!("exit,B,L{i},,,{year}-11-{i:02},studies\n"));
    }
    csv
}

#[test]
fn a_coordinator_an_admin_and_an_auditor_use_the_desk_pages() {
    use calamine::{open_workbook_auto, Data, Reader};
    use chrono::Datelike;

    if !runnable() {
        return;
    }
    let env = Env::new();
    env.ok(&["intervention", "add", "PAR", "--name", "Projektet Par"]);
    for (code, name) in [("A", "Del A"), ("B", "Del B")] {
        env.ok(&[
            "intervention",
            "add",
            code,
            "--name",
            name,
            "--parent",
            "PAR",
        ]);
    }
    // The server's "last year" is by its local clock.
    let year = chrono::Local::now().year() - 1;
    let starts_a = 12;
    let csv = env.path("registrations.csv");
    std::fs::write(&csv, registrations(year, starts_a)).unwrap();
    let out = env.ok(&["import", csv.to_str().unwrap()]);
    assert!(out.contains("18 starts, 2 exits"), "{out}");
    let coordinator = link(&env.ok(&["user", "add", "cecilia", "--role", "coordinator"]));
    let admin = link(&env.ok(&["user", "add", "adam", "--role", "admin"]));
    let auditor = link(&env.ok(&["user", "add", "astrid", "--role", "auditor"]));

    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let (server, base) = serve(&env, &["--backup-recipient", &recipient]);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots/web");
    let downloads = env.path("downloads");
    let out = Command::new("node")
        .arg(root.join("tests/browser/desk_flow.mjs"))
        .current_dir(root)
        .env("BASE", &base)
        .env("COORD_LINK", &coordinator)
        .env("ADMIN_LINK", &admin)
        .env("AUDIT_LINK", &auditor)
        .env("YEAR", year.to_string())
        .env("STARTS_A", starts_a.to_string())
        .env("SHOTS", &shots)
        .env("DOWNLOADS", &downloads)
        .output()
        .unwrap();
    let server_err = stop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser flow failed:\n{stdout}\n{stderr}\nserver:\n{server_err}"
    );
    assert!(stdout.contains("desk flow passed"), "{stdout}");

    // Every page looked at left its screenshot.
    let screenshots: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("screenshot: "))
        .collect();
    assert!(screenshots.len() >= 20, "{stdout}");
    for s in &screenshots {
        let size = std::fs::metadata(s).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "screenshot {s} is missing or empty");
    }

    // The downloaded report opens as a workbook, with A's count in A's row.
    let xlsx = downloads.join("report.xlsx");
    let mut book = open_workbook_auto(&xlsx)
        .unwrap_or_else(|e| panic!("{} does not open: {e}", xlsx.display()));
    let sheets = book.sheet_names().to_vec();
    assert!(!sheets.is_empty(), "no sheets in {}", xlsx.display());
    let number = |c: &Data| match c {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        Data::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let mut found = Vec::new();
    for name in &sheets {
        let range = book.worksheet_range(name).unwrap();
        for row in range.rows() {
            let label = row.first().map(|c| c.to_string()).unwrap_or_default();
            if label.starts_with("A ") && row.iter().any(|c| number(c) == Some(starts_a as f64)) {
                found.push(format!("{name}: {row:?}"));
            }
        }
    }
    assert!(
        !found.is_empty(),
        "no row of A with {starts_a} in the workbook's sheets {sheets:?}"
    );
    // The intervention added, edited and imported in the browser, and
    // the user added, are in the register.
    let list = env.ok(&["intervention", "list"]);
    for needle in ["NYC", "Ny insats under Par, ändrad", "IMP1", "IMP2"] {
        assert!(list.contains(needle), "{needle} not in\n{list}");
    }
    let users = env.ok(&["user", "list"]);
    assert!(users.contains("nils"), "{users}");
}

/// A server (in this process) whose e-ID broker is the test provider.
#[test]
fn a_staff_member_binds_her_e_id_an_admin_confirms_it_and_she_signs_in_with_it() {
    if !runnable() {
        return;
    }
    let Some(p) = Provider::start() else { return };
    let o = p.options();
    let w = World::configured(move |opts| opts.oidc = Some(o));
    let token = w.add_user("nora", Role::Staff, &["ALLIN"]);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shots = root.join("target/screenshots/web");
    let out = Command::new("node")
        .arg(root.join("tests/browser/eid_flow.mjs"))
        .current_dir(root)
        .env("BASE", &w.base)
        .env("ISSUER", &p.issuer)
        .env("ENROL_LINK", format!("/enrol/{token}"))
        .env("ADMIN_LOGIN", "adam")
        .env("ADMIN_PASSWORD", PASSWORD)
        .env("ADMIN_SECRET", w.secret("adam"))
        .env("ACR", LOA3)
        .env("SHOTS", &shots)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the e-ID browser flow failed:\n{stdout}\n{stderr}\nprovider:\n{}",
        p.stderr()
    );
    assert!(stdout.contains("e-ID flow passed"), "{stdout}");
    let screenshots: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("screenshot: "))
        .collect();
    assert!(screenshots.len() >= 9, "{stdout}");
    for s in &screenshots {
        let size = std::fs::metadata(s).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "screenshot {s} is missing or empty");
    }

    // What the browser did is in the file: nora's e-ID is bound and
    // confirmed by adam ...
    assert_eq!(
        w.count("SELECT count(*) FROM user_identity WHERE confirmed_at IS NOT NULL"),
        1
    );
    assert_eq!(
        w.count(
            "SELECT count(*) FROM user_identity i JOIN app_user u ON u.id = i.user_id \
             WHERE u.login = 'nora' AND i.confirmed_by = 'adam' AND i.name = 'Anna Andersson'"
        ),
        1
    );
    assert_eq!(w.audit_details("e-ID binding requested").len(), 1);
    let confirms = w.audit_details("user e-ID confirm");
    assert!(
        confirms.len() == 1 && confirms[0].starts_with("adam |"),
        "{confirms:?}"
    );
    // ... she signed in with it once, at the provider's issuer and acr ...
    let signs = w.audit_details("sign-in");
    let nora: Vec<&String> = signs.iter().filter(|d| d.starts_with("nora |")).collect();
    assert_eq!(nora.len(), 1, "{signs:?}");
    assert!(
        nora[0].contains(&format!("issuer {}", p.issuer))
            && nora[0].contains(&format!("acr {LOA3}")),
        "{}",
        nora[0]
    );
    // ... adam with his password, and the unknown e-ID (twice) and nora's
    // before the confirmation were refused.
    assert!(signs.iter().any(|d| d.starts_with("adam |")), "{signs:?}");
    let refused = w.audit_details("sign-in refused");
    assert_eq!(
        refused
            .iter()
            .filter(|d| d.contains("no account has this e-ID"))
            .count(),
        2,
        "{refused:?}"
    );
    assert!(
        refused.iter().any(|d| d.starts_with("nora |")),
        "{refused:?}"
    );
}
