//! The evaluator export (SPEC section 8) and keygen.

mod common;

use std::collections::HashMap;

use common::{pnr, Env};
use proptest::prelude::*;

fn populated() -> (Env, Vec<String>) {
    let env = Env::new();
    env.ok(&["intervention", "add", "ALLIN", "--name", "Allin"]);
    let mut csv = String::from("event,intervention,pnr,consent,date,municipality,outcome\n");
    let mut pnrs = Vec::new();
    for i in 0..24u32 {
        let p = pnr(
            &format!("198{}0{}1{}", i % 3, 1 + i % 9, i % 10),
            200 + i * 3,
        );
        let place = if i < 20 { "Vänersborg" } else { "Åmål" };
        csv.push_str(&format!(
            "start,ALLIN,{p},ja,2021-0{}-1{},{place},\n",
            1 + i % 6,
            i % 10
        ));
        if i % 2 == 0 {
            csv.push_str(&format!("exit,ALLIN,{p},,2021-11-2{},,work\n", i % 10));
        }
        pnrs.push(p);
    }
    let file = env.path("reg.csv");
    std::fs::write(&file, csv).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    (env, pnrs)
}

fn export(env: &Env, extra: &[&str]) -> (Vec<HashMap<String, String>>, String, String) {
    let mut args = vec!["export", "--year", "2021"];
    args.extend_from_slice(extra);
    let out = env.run(&args);
    assert!(out.status.success(), "{}", common::describe(&args, &out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    let rows = r
        .records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect();
    (rows, text, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn no_identity_or_exact_date_in_the_export() {
    let (env, pnrs) = populated();
    let (rows, text, stderr) = export(&env, &["--k", "1"]);
    assert_eq!(rows.len(), 24);
    assert_eq!(
        text.lines().next().unwrap(),
        sustrack::export::HEADER.join(",")
    );
    for p in &pnrs {
        let digits = p.replace('-', "");
        for needle in [p.as_str(), &digits, &digits[2..], &p[..8], &p[2..8]] {
            assert!(!text.contains(needle), "the export contains {needle}");
        }
    }
    assert!(
        !text.contains("2021-11-2") && !text.contains("2021-01-1"),
        "an exact date leaked"
    );
    assert!(!text.contains("198"), "a birth year leaked");
    for r in &rows {
        assert_eq!(r["start_month"].len(), 7);
        assert!(
            r["age_band"] == "30-44" || r["age_band"] == "other",
            "{r:?}"
        );
        assert_eq!(r["pseudonym"].len(), 16);
    }
    // No fingerprint either: compare with the stored ones.
    let conn = rusqlite::Connection::open(&env.db).unwrap();
    let mut stmt = conn.prepare("SELECT fingerprint FROM person").unwrap();
    let fps: Vec<Vec<u8>> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(fps.len(), 24);
    for fp in fps {
        let hex: String = fp.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!text.to_lowercase().contains(&hex[..16]));
    }
    assert!(stderr.contains("exported 24 rows"), "{stderr}");
    assert!(env.ok(&["log"]).contains("export"));
}

#[test]
fn pseudonyms_are_stable_with_a_key_and_unlinkable_without() {
    let (env, _) = populated();
    let key = env.path("k.key");
    env.ok(&["keygen", key.to_str().unwrap()]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let err = env.fails(&["keygen", key.to_str().unwrap()], 2);
    assert!(err.contains("never overwrites"), "{err}");

    let pseudonyms = |extra: &[&str]| {
        let (rows, _, _) = export(&env, extra);
        let mut p: Vec<String> = rows.iter().map(|r| r["pseudonym"].clone()).collect();
        p.sort();
        p
    };
    let k = key.to_str().unwrap();
    let a = pseudonyms(&["--k", "1", "--key-file", k]);
    let b = pseudonyms(&["--k", "1", "--key-file", k]);
    assert_eq!(a, b);
    let c = pseudonyms(&["--k", "1"]);
    let d = pseudonyms(&["--k", "1"]);
    assert!(a.iter().all(|x| !c.contains(x)));
    assert!(c.iter().all(|x| !d.contains(x)));
    std::fs::write(env.path("bad.key"), "nope").unwrap();
    let err = env.fails(
        &[
            "export",
            "--year",
            "2021",
            "--key-file",
            env.path("bad.key").to_str().unwrap(),
        ],
        2,
    );
    assert!(err.contains("not a sustrack key file"), "{err}");
}

#[test]
fn small_groups_are_generalised_then_left_out() {
    let (env, _) = populated();
    // Ages: birth years 1980-1982, starts 2021: ages 39-41, band 30-44. Genders vary.
    let (rows, _, stderr) = export(&env, &["--k", "5"]);
    let mut groups: HashMap<(String, String, String, String), usize> = HashMap::new();
    for r in &rows {
        *groups
            .entry((
                r["intervention"].clone(),
                r["gender"].clone(),
                r["age_band"].clone(),
                r["municipality"].clone(),
            ))
            .or_default() += 1;
    }
    assert!(groups.values().all(|&n| n >= 5), "{groups:?}");
    // The municipality column holds the kommunkod: Vänersborg is 1487.
    assert!(rows.iter().any(|r| r["municipality"] == "1487"), "{rows:?}");
    // The four Åmål (1492) rows are too few alone: generalised (or left out), never shown.
    assert!(rows.iter().all(|r| r["municipality"] != "1492"));
    assert!(
        stderr.contains("generalised") && stderr.contains("left out"),
        "{stderr}"
    );
}

/// The k-anonymity rule as a property over random data: every group of the
/// export has at least k rows, and rows are only ever generalised or dropped.
fn random_register(n: usize, seed: u64) -> Env {
    let env = Env::new();
    env.ok(&["intervention", "add", "P", "--name", "P"]);
    env.ok(&["intervention", "add", "Q", "--name", "Q"]);
    let mut csv = String::from("event,intervention,local_id,gender,birth_year,date,municipality\n");
    let mut x = seed;
    let mut next = |m: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) % m
    };
    for i in 0..n {
        let iv = if next(2) == 0 { "P" } else { "Q" };
        let g = if next(2) == 0 { "K" } else { "M" };
        let by = 1950 + next(50);
        let place = ["Ale", "Borås", "Åmål", "Kil"][next(4) as usize];
        csv.push_str(&format!(
            "start,{iv},L{i},{g},{by},2021-0{}-01,{place}\n",
            1 + next(9)
        ));
    }
    let file = env.path("r.csv");
    std::fs::write(&file, csv).unwrap();
    env.ok(&["import", file.to_str().unwrap()]);
    env
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]
    #[test]
    fn every_export_group_holds_at_least_k_rows(n in 0usize..120, seed in any::<u64>(), k in 1u32..7) {
        let env = random_register(n, seed);
        let (rows, _, stderr) = export(&env, &["--k", &k.to_string()]);
        let mut groups: HashMap<(String, String, String, String), usize> = HashMap::new();
        for r in &rows {
            *groups.entry((r["intervention"].clone(), r["gender"].clone(), r["age_band"].clone(), r["municipality"].clone())).or_default() += 1;
        }
        prop_assert!(groups.values().all(|&c| c >= k as usize), "{:?}", groups);
        let left_out: usize = stderr.split(", ").find_map(|s| s.strip_suffix(" rows left out\n")).unwrap().trim().parse().unwrap();
        prop_assert_eq!(rows.len() + left_out, n);
    }
}
