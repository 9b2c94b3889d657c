//! The browser test: real Chromium (Debian's `chromium`) driven by
//! playwright-core, with axe-core on every page, against the real binary's
//! `serve` (tests/browser/staff_flow.mjs holds the flow). Screenshots are
//! kept in target/screenshots/web/. Needs Node.js and `npm ci`; under
//! `CI=true` it fails rather than skips when something is missing.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use common::Env;

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

#[test]
fn staff_register_a_start_and_an_exit_and_a_coordinator_sees_the_count() {
    let missing = missing_tools();
    if !missing.is_empty() {
        let msg = format!("the browser test needs: {}", missing.join("; "));
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg} (under CI=true it must run)");
        }
        eprintln!("skipped: {msg}");
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

    let mut server = env
        .std_command(&["serve", "--listen", "127.0.0.1:0"])
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
    let _ = server.kill();
    let _ = server.wait();
    let mut server_err = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut server_err)
        .unwrap();
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
