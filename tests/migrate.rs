//! Upgrades from a register of an earlier schema version (SPEC section 14):
//! a fixture written by that version's binary is opened by this one, and
//! everything in it survives, changed only as the migration says.
//!
//! `fixtures/schema_v1.db` was written at schema version 1 (municipality
//! free text) by `fixtures/make_schema_v1.sh`, which says what it holds.

mod common;

use std::collections::BTreeMap;

use common::Env;
use rusqlite::{Connection, OpenFlags};

fn v1() -> Env {
    let env = Env::empty();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema_v1.db");
    std::fs::copy(fixture, &env.db).unwrap();
    env
}

fn read(env: &Env) -> Connection {
    Connection::open_with_flags(&env.db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn user_version(env: &Env) -> i32 {
    read(env)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

/// start date -> stored municipality (start dates are unique in the fixture).
fn municipalities(env: &Env) -> BTreeMap<String, Option<String>> {
    let conn = read(env);
    let mut stmt = conn
        .prepare("SELECT start_date, municipality FROM enrolment")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Every row of every table with the enrolment's municipality left out:
/// what the migration must not touch.
fn all_but_municipality(env: &Env) -> Vec<String> {
    common::dump(&env.db)
        .lines()
        .filter(|l| !l.starts_with("audit: "))
        .map(|l| {
            if let Some(rest) = l.strip_prefix("enrolment: ") {
                let mut cells: Vec<&str> = rest.split(" | ").collect();
                cells.remove(8); // municipality
                format!("enrolment: {}", cells.join(" | "))
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// The audit trail as "id|action|subject|detail" lines.
fn audit(env: &Env) -> Vec<String> {
    let conn = read(env);
    let mut stmt = conn
        .prepare("SELECT id, action, subject, detail FROM audit ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| {
        Ok(format!(
            "{}|{}|{}|{}",
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            r.get::<_, Option<String>>(3)?.unwrap_or_default()
        ))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

#[test]
fn version_1_municipality_names_become_kommunkoder_and_the_rest_survives() {
    let env = v1();
    assert_eq!(user_version(&env), 1);
    let before = all_but_municipality(&env);
    let audit_before = audit(&env);
    let names_before = municipalities(&env);
    assert_eq!(names_before["2021-02-02"].as_deref(), Some("Vanersborg"));

    // Any command opens and upgrades; `check` then lists what is left.
    let out = env.run(&["check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        common::describe(&["check"], &out)
    );
    assert_eq!(user_version(&env), sustrack::store::SCHEMA_VERSION);

    let s = |v: &str| Some(v.to_string());
    let want: BTreeMap<String, Option<String>> = [
        ("2021-02-01", s("1487")),      // Vänersborg
        ("2021-02-02", s("1487")),      // Vanersborg
        ("2021-02-04", s("1487")),      // VÄNERSBORG, stored as Vänersborg
        ("2021-03-01", s("0114")),      // Upplands Väsby
        ("2021-03-02", s("2023")),      // Malung Sälen
        ("2021-03-03", s("0980")),      // Region Gotland
        ("2021-03-04", s("1480")),      // Göteborgs Stad
        ("2021-04-01", s("0643")),      // Habo
        ("2021-04-02", s("0305")),      // Håbo
        ("2021-04-03", s("Häbo")),      // Habo or Håbo: kept
        ("2021-05-01", s("Atlantis")),  // no kommun: kept
        ("2021-05-02", s("Vänersbrg")), // a typo: kept
        ("2021-05-03", None),
        ("2021-06-01", s("1488")), // Trollhättan
        ("2021-06-02", s("1462")), // Lilla Edet
    ]
    .into_iter()
    .map(|(d, m)| (d.to_string(), m))
    .collect();
    assert_eq!(municipalities(&env), want);
    assert_eq!(all_but_municipality(&env), before);

    // The audit trail is kept (less the values a later migration removes
    // from old entries) and says what the migration did, in counts.
    let audit_after = audit(&env);
    let without_values: Vec<String> = audit_before
        .iter()
        .map(|l| {
            let [id, action, subject, detail]: [&str; 4] =
                l.splitn(4, '|').collect::<Vec<_>>().try_into().unwrap();
            let detail = match sustrack::store::audit::without_values(action, Some(detail)) {
                Some(new) => new.unwrap_or_default(),
                None => detail.to_string(),
            };
            format!("{id}|{action}|{subject}|{detail}")
        })
        .collect();
    assert_eq!(audit_after[..audit_before.len()], without_values[..]);
    let added = &audit_after[audit_before.len()..];
    assert!(
        added.iter().any(|l| l.contains(
            "|migrate|schema 2|municipality names to kommunkod: \
            11 enrolments (10 spellings) mapped; 3 enrolments (3 names) kept as stored"
        )),
        "{added:?}"
    );
    assert!(
        added
            .iter()
            .any(|l| l.contains(&format!("schema 1 -> {}", sustrack::store::SCHEMA_VERSION))),
        "{added:?}"
    );
    assert!(!added.iter().any(|l| l.contains("Atlantis")), "{added:?}");

    // Opening again migrates nothing.
    env.ok(&["log"]);
    let migrations = |a: &[String]| a.iter().filter(|l| l.contains("|migrate|")).count();
    assert!(migrations(&audit_after) >= 2, "{audit_after:?}");
    assert_eq!(migrations(&audit(&env)), migrations(&audit_after));
}

#[test]
fn check_lists_kept_names_with_the_fix_and_the_fix_clears_them() {
    let env = v1();
    let out = env.run(&["check"]);
    let listed = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    let typo = lines
        .iter()
        .find(|l| l.contains("'Vänersbrg'"))
        .unwrap_or_else(|| panic!("{listed}"));
    let sid = typo
        .strip_prefix("enrolment ")
        .and_then(|l| l.split(':').next())
        .unwrap();
    assert_eq!(
        *typo,
        format!(
            "enrolment {sid}: municipality 'Vänersbrg' is not one of Sweden's kommuner: correct it with \
             `sustrack edit {sid} --municipality NAME` (NAME a kommun's name or kommunkod; did you mean Vänersborg (1487)?)"
        )
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("'Häbo'") && l.contains("it could be Håbo (0305) or Habo (0643)")),
        "{listed}"
    );
    assert!(lines.iter().any(|l| l.contains("'Atlantis'")), "{listed}");

    // Kept names are reported as stored, beside the kommuner.
    let v: serde_json::Value =
        serde_json::from_str(&env.ok(&["report", "--year", "2021", "--format", "json"])).unwrap();
    let rows = common::json_table(&v, "municipality")["rows"].clone();
    let row = |key: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("no row {key} in {rows}"))
            .clone()
    };
    assert_eq!(row("1487")["label"], "Vänersborg");
    assert_eq!(row("1487")["values"], serde_json::json!([1, 2, 3]));
    assert_eq!(row("Vänersbrg")["label"], "Vänersbrg");

    // The fix check suggests, and editing another field keeps a kept name.
    env.ok(&["edit", sid, "--municipality", "Vänersborg"]);
    let atlantis = lines.iter().find(|l| l.contains("'Atlantis'")).unwrap();
    let atlantis_id = &atlantis["enrolment ".len()..atlantis.find(':').unwrap()];
    env.ok(&["edit", atlantis_id, "--support", "wage"]);
    let listed = String::from_utf8(env.run(&["check"]).stdout).unwrap();
    assert!(!listed.contains("Vänersbrg"), "{listed}");
    assert!(listed.contains("'Atlantis'"), "{listed}");
    let show = env.ok(&["show", "--id", atlantis_id]);
    assert!(show.contains("Atlantis"), "{show}");
}

/// `fixtures/schema_v3.db` was written at schema version 3 (before the
/// server's accounts) by `fixtures/make_schema_v3.sh`.
#[test]
fn version_3_gains_the_accounts_tables_and_keeps_everything_else() {
    let env = Env::empty();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema_v3.db");
    std::fs::copy(fixture, &env.db).unwrap();
    assert_eq!(user_version(&env), 3);
    let before = common::dump(&env.db);
    let audit_before = audit(&env);
    assert!(!before.is_empty());

    assert_eq!(
        env.ok(&["user", "list"]),
        "no users yet; add one with `sustrack user add LOGIN --role ROLE`\n"
    );
    assert_eq!(user_version(&env), sustrack::store::SCHEMA_VERSION);
    // Every earlier row is as it was; the trail gains the migration only.
    let after = common::dump(&env.db);
    let kept: Vec<&str> = after
        .lines()
        .filter(|l| !l.starts_with("audit: "))
        .collect();
    let was: Vec<&str> = before
        .lines()
        .filter(|l| !l.starts_with("audit: "))
        .collect();
    assert_eq!(kept, was);
    let audit_after = audit(&env);
    assert_eq!(audit_after[..audit_before.len()], audit_before[..]);
    assert_eq!(audit_after.len(), audit_before.len() + 1, "{audit_after:?}");
    assert!(
        audit_after.last().unwrap().ends_with(&format!(
            "|migrate||schema 3 -> {}",
            sustrack::store::SCHEMA_VERSION
        )),
        "{audit_after:?}"
    );
    for table in [
        "app_user",
        "user_role",
        "user_grant",
        "enrol_token",
        "session",
        // Migration 7: e-ID bindings.
        "user_identity",
        // Migration 8: targets per year, the förbund's own indicators.
        "target",
        "indicator_def",
        // Migration 9: published reports, audit entries reduced to counts.
        "published",
        "audit_count",
        "audit_reduction",
        // Migration 10: activities, referrals, budgets.
        "activity",
        "referral",
        "budget",
    ] {
        let n: i64 = read(&env)
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
    // Migration 9 replaced the trail's delete trigger: it still refuses
    // outside a purge.
    {
        let conn = Connection::open(&env.db).unwrap();
        let err = conn.execute("DELETE FROM audit", []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }

    // Migration 10 rebuilt the intervention table for the kind
    // `structural`: every reference to it still holds (an enrolment of an
    // unknown intervention is refused), and the new kind is accepted.
    {
        let conn = Connection::open(&env.db).unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        let dangling: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(dangling, 0);
        let err = conn
            .execute(
                "INSERT INTO volume (intervention, month, women, men) VALUES ('NOPE', '2022-01', 1, 1)",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("FOREIGN KEY"), "{err}");
        let parent: String = conn
            .query_row(
                "SELECT parent FROM intervention WHERE code = 'ALLIN-UNG'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(parent, "ALLIN");
    }
    env.ok(&[
        "intervention",
        "add",
        "KOMP",
        "--name",
        "Kompetensutveckling",
        "--kind",
        "structural",
    ]);
    let out = env.ok(&[
        "activity",
        "add",
        "--intervention",
        "KOMP",
        "--date",
        "2022-05-01",
        "--kind",
        "seminar",
        "--women",
        "30",
        "--men",
        "4",
    ]);
    assert!(out.contains("34 attendee(s)"), "{out}");

    // The fixture's interventions can be granted; a grant on the top of
    // its tree reaches two levels down.
    let out = env.ok(&[
        "user",
        "add",
        "anna",
        "--role",
        "staff",
        "--intervention",
        "ESF",
    ]);
    assert!(out.contains("/enrol/"), "{out}");
    let conn = read(&env);
    let codes = sustrack::accounts::expand_grants(&conn, &["ESF".to_string()]).unwrap();
    assert_eq!(
        codes.into_iter().collect::<Vec<_>>(),
        ["ALLIN", "ALLIN-UNG", "ESF"]
    );
    env.ok(&["check"]);
    // Migration 7: the new user's e-ID column is there and empty, and
    // `check` passes over the new table.
    assert!(env
        .ok(&["user", "list"])
        .lines()
        .nth(2)
        .unwrap()
        .trim_end()
        .ends_with('-'));

    // Migration 5: the staff page's list finds an intervention's open
    // enrolments through the new index; the report's scan does not use it.
    let plan = |sql: &str| -> String {
        let conn = read(&env);
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.collect::<Result<Vec<_>, _>>().unwrap().join("; ")
    };
    let list = plan(
        "SELECT id FROM enrolment WHERE intervention = 'ALLIN' \
         AND (exit_date IS NULL OR exit_date >= '2022-01-01')",
    );
    assert!(list.contains("enrolment_by_intervention"), "{list}");
    let report = plan(
        "SELECT id FROM enrolment WHERE +start_date <= '2022-12-31' \
         AND (+exit_date IS NULL OR +exit_date >= '2022-01-01')",
    );
    assert!(!report.contains("enrolment_by_intervention"), "{report}");

    // Migration 6: the trail page's action filter uses its index.
    let by_action = plan("SELECT id FROM audit WHERE action = 'show' ORDER BY id DESC LIMIT 51");
    assert!(by_action.contains("audit_by_action"), "{by_action}");
}
