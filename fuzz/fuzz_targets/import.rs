//! Fuzz the import reader: any bytes, as a file handed to `sustrack import`.
//!
//! Each input is imported into a fresh in-memory database that already
//! holds the sample interventions (so inputs mutated from the sample
//! registrations reach the registration rules) plus `T` (individual) and
//! `V` (volume). Besides "never panic", it checks the import contract: a
//! failed import or a dry run leaves the database exactly as it was, and
//! a successful one stores as many enrolments as it reports starts.
//!
//! The first byte picks a dry run (odd) or a real one (even).

#![no_main]

use libfuzzer_sys::fuzz_target;

use sustrack::codes::InterventionKind;
use sustrack::identity::KdfProfile;
use sustrack::import::{decode, import, sniff_delimiter, Failure, Options};
use sustrack::model::Intervention;
use sustrack::actor::Actor;
use sustrack::store::Memory as Db;

const SAMPLE_INTERVENTIONS: &[u8] = include_bytes!("../../sample_data/interventions.csv");

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
}

fn fresh_db() -> Db {
    let mut db = Db::open(KdfProfile::Test).expect("in-memory database");
    for (code, kind) in [
        ("T", InterventionKind::Individual),
        ("V", InterventionKind::Volume),
    ] {
        sustrack::register::intervention_add(
            &db.conn,
            &Actor::owner("fuzz"),
            Intervention {
                code: code.into(),
                name: format!("fuzz {code}"),
                parent: None,
                kind,
                target_work_studies: None,
                target_step: None,
                target_qol: None,
            },
        )
        .expect("add intervention");
    }
    let opts = Options {
        dry_run: false,
        today: today(),
        progress: false,
    };
    import(&mut db.conn, &db.kdf, &Actor::owner("fuzz"), SAMPLE_INTERVENTIONS, &opts)
        .unwrap_or_else(|_| panic!("sample interventions import"));
    db
}

/// Row counts of every table an import may write.
fn state(db: &Db) -> [i64; 5] {
    ["enrolment", "person", "volume", "intervention", "audit"].map(|t| {
        db.conn
            .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
            .expect("count")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let text = decode(bytes);
    assert!([b',', b';', b'\t'].contains(&sniff_delimiter(&text)));

    let mut db = fresh_db();
    let before = state(&db);
    let dry_run = mode % 2 == 1;
    let opts = Options {
        dry_run,
        today: today(),
        progress: false,
    };
    match import(&mut db.conn, &db.kdf, &Actor::owner("fuzz"), bytes, &opts) {
        Ok(summary) if !dry_run => {
            let after = state(&db);
            assert_eq!(
                (after[0] - before[0]) as u64,
                summary.starts,
                "enrolments stored vs starts reported"
            );
        }
        Ok(_) => assert_eq!(state(&db), before, "a dry run wrote something"),
        Err(Failure::Rows(rows)) => {
            assert!(!rows.is_empty());
            assert_eq!(state(&db), before, "a failed import wrote something");
        }
        Err(Failure::Fatal(_)) => {
            assert_eq!(state(&db), before, "a failed import wrote something");
        }
    }
});
