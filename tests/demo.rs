//! The demo through the real binary, and snapshots of its text and csv
//! renderings. To accept an intended change: `UPDATE_SNAPSHOTS=1 cargo test --test demo`.

mod common;

fn demo(args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("sustrack")
        .unwrap()
        .current_dir(dir.path())
        .arg("demo")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::describe(args, &out));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("test KDF profile"),
        "the demo says it uses the test profile: {err}"
    );
    // Nothing is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    out.stdout
}

fn snapshot(name: &str, actual: &[u8]) {
    let path = format!("{}/tests/snapshots/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("no snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
    if expected != actual {
        panic!(
            "{name} differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept)\n--- actual ---\n{}",
            String::from_utf8_lossy(actual)
        );
    }
}

#[test]
fn demo_text_matches_its_snapshot() {
    let out = demo(&[]);
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.contains("Uppföljning av deltagare 2021-01-01 – 2021-12-31"),
        "{text}"
    );
    assert!(text.contains("till arbete eller studier"), "{text}");
    snapshot("demo.txt", &out);
}

#[test]
fn demo_csv_matches_its_snapshot() {
    snapshot("demo.csv", &demo(&["--format", "csv"]));
}

#[test]
fn demo_in_english_and_json() {
    let text = String::from_utf8(demo(&["--lang", "en"])).unwrap();
    assert!(
        text.contains("Age band") && text.contains("to work or studies"),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_slice(&demo(&["--format", "json"])).unwrap();
    let participation = common::json_table(&v, "participation");
    let active = participation["total"][0].as_u64().unwrap();
    assert!((100..200).contains(&active), "{active}");
}
