//! `sustrack demo`: the sample data of `sample_data/`, loaded through the
//! ordinary import into a temporary database, and its 2021 report. The
//! files are compiled into the binary, so the demo works from anywhere and
//! leaves nothing behind (the temporary directory is removed on return).
//!
//! SPEC section 13's registers are added through their domain calls (the
//! same rules and audit as the CLI): a structural intervention with a few
//! activities, a referral before most starts from 2019-02 on and referrals
//! declined, returned, withdrawn and still open in 2021, and budgets with
//! actual costs for 2020 and 2021. Every value is fixed or derived from the
//! sample registrations, so the report is the same on every run.

use chrono::{Datelike, Duration, NaiveDate};

use crate::actor::Actor;
use crate::beyond::{self, ActivityInput, BudgetInput, DecisionInput, ReferralInput};
use crate::codes::{ActivityKind, Decision, Gender, InterventionKind, Lang, Referrer};
use crate::error::{Error, Result};
use crate::identity::KdfProfile;
use crate::import::{self, Failure};
use crate::model::Intervention;
use crate::report::{self, Options, Period, Report};
use crate::store::Store;

pub const INTERVENTIONS: &str = include_str!("../sample_data/interventions.csv");
pub const VOLUME: &str = include_str!("../sample_data/volume.csv");
pub const REGISTRATIONS: &str = include_str!("../sample_data/registrations.csv");
pub const TARGETS: &str = include_str!("../sample_data/targets.csv");
pub const INDICATORS: &str = include_str!("../sample_data/indicators.csv");

/// Load the sample data into the store.
pub fn load(store: &Store, actor: &Actor) -> Result<()> {
    let mut conn = store.connect()?;
    let today = chrono::Local::now().date_naive();
    let opts = import::Options {
        dry_run: false,
        today,
        progress: false,
    };
    for (name, text) in [
        ("interventions", INTERVENTIONS),
        ("volume", VOLUME),
        ("registrations", REGISTRATIONS),
        ("targets", TARGETS),
        ("indicators", INDICATORS),
    ] {
        import::import(&mut conn, store.kdf(), actor, text.as_bytes(), &opts).map_err(
            |f| match f {
                Failure::Fatal(e) => e,
                Failure::Rows(rows) => Error::Database(format!(
                    "the built-in sample {name} did not import: {}",
                    rows.iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
            },
        )?;
    }
    let tx = conn.transaction()?;
    beyond_participants(&tx, actor, today)?;
    tx.commit()?;
    Ok(())
}

fn date(s: &str) -> NaiveDate {
    s.parse().expect("a valid sample date")
}

/// The structural intervention, activities, referrals and budgets of the
/// sample (SPEC section 13).
fn beyond_participants(conn: &rusqlite::Connection, actor: &Actor, today: NaiveDate) -> Result<()> {
    crate::register::intervention_add(
        conn,
        actor,
        Intervention {
            code: "KOMPETENS".into(),
            name: "Kompetensutveckling för handläggare".into(),
            parent: None,
            kind: InterventionKind::Structural,
            target_work_studies: None,
            target_step: None,
            target_qol: None,
        },
    )?;

    // Activities: competence days and networks, and an information
    // meeting of an individual intervention. (women, men, unknown,
    // organisations)
    use ActivityKind::*;
    for (code, on, kind, women, men, unknown, organisations) in [
        ("KOMPETENS", "2020-10-15", Seminar, 41, 12, 0, Some(7)),
        ("KOMPETENS", "2021-03-18", Seminar, 52, 17, 3, Some(9)),
        ("KOMPETENS", "2021-05-06", Training, 21, 6, 0, None),
        ("KOMPETENS", "2021-09-23", Network, 11, 4, 0, Some(6)),
        ("KOMPETENS", "2021-10-21", Training, 18, 5, 1, None),
        ("KOMPETENS", "2021-11-11", Information, 0, 0, 38, Some(4)),
        ("ARBTEAM", "2021-02-10", Information, 14, 5, 0, None),
    ] {
        beyond::activity_add(
            conn,
            actor,
            today,
            ActivityInput {
                intervention: code.into(),
                date: date(on),
                kind,
                women,
                men,
                unknown,
                organisations,
            },
        )?;
    }

    // A referral before every start from February 2019 that names a
    // referrer, with the enrolment's gender, birth year, municipality and
    // referrer, a few days to a few months earlier (by the start's day of
    // the year, so the same on every run), decided `started` in between.
    let starts: Vec<crate::model::Enrolment> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT {} FROM enrolment WHERE start_date >= '2019-02-01' AND referrer IS NOT NULL ORDER BY start_date, intervention, id",
            crate::store::enrolments::COLUMNS
        ))?;
        let rows = stmt.query_map([], crate::store::enrolments::from_row)?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for e in starts {
        let lag = 5 + i64::from(e.start.ordinal() * 37 % 80);
        let r = beyond::referral_add(
            conn,
            actor,
            today,
            ReferralInput {
                intervention: e.intervention.clone(),
                date: e.start - Duration::days(lag),
                gender: e.gender,
                birth_year: e.birth_year,
                municipality: e.facts.municipality.clone(),
                referrer: e.facts.referrer,
            },
        )?;
        beyond::referral_decide(
            conn,
            actor,
            today,
            DecisionInput {
                referral: r.id,
                decision: Decision::Started,
                date: e.start - Duration::days(lag / 2),
                enrolment: Some(e.id),
            },
        )?;
    }

    // Referrals that did not become starts: each decision, and two still
    // open at the end of the year.
    let kommun = |name: &str| crate::model::parse_municipality(name);
    for (code, on, gender, born, muni, referrer, decision, decided) in [
        (
            "ARBTEAM",
            "2021-02-03",
            Gender::Woman,
            1979,
            "Vänersborg",
            Referrer::Fk,
            Some(Decision::Declined),
            "2021-02-24",
        ),
        (
            "ARBTEAM",
            "2021-04-12",
            Gender::Man,
            1968,
            "Mellerud",
            Referrer::Af,
            Some(Decision::Returned),
            "2021-04-30",
        ),
        (
            "ARBTEAM",
            "2021-09-06",
            Gender::Woman,
            1990,
            "Trollhättan",
            Referrer::Municipality,
            Some(Decision::Returned),
            "2021-09-20",
        ),
        (
            "HALSA",
            "2021-03-01",
            Gender::Woman,
            1985,
            "Vänersborg",
            Referrer::Region,
            Some(Decision::Declined),
            "2021-03-15",
        ),
        (
            "HALSA",
            "2021-06-14",
            Gender::Man,
            1974,
            "Trollhättan",
            Referrer::Region,
            Some(Decision::Withdrawn),
            "2021-08-16",
        ),
        (
            "VAGEN-UNG",
            "2021-05-10",
            Gender::Man,
            2001,
            "Vänersborg",
            Referrer::Municipality,
            Some(Decision::Declined),
            "2021-05-31",
        ),
        (
            "VAGEN-NY",
            "2021-10-04",
            Gender::Woman,
            1992,
            "Mellerud",
            Referrer::Af,
            Some(Decision::Withdrawn),
            "2021-10-25",
        ),
        (
            "VAGEN-SJUK",
            "2021-12-06",
            Gender::Woman,
            1971,
            "Vänersborg",
            Referrer::Fk,
            None,
            "",
        ),
        (
            "ARBTEAM",
            "2021-12-13",
            Gender::Man,
            1983,
            "Trollhättan",
            Referrer::SelfReferral,
            None,
            "",
        ),
    ] {
        let r = beyond::referral_add(
            conn,
            actor,
            today,
            ReferralInput {
                intervention: code.into(),
                date: date(on),
                gender,
                birth_year: Some(born),
                municipality: Some(kommun(muni)?),
                referrer: Some(referrer),
            },
        )?;
        if let Some(decision) = decision {
            beyond::referral_decide(
                conn,
                actor,
                today,
                DecisionInput {
                    referral: r.id,
                    decision,
                    date: date(decided),
                    enrolment: None,
                },
            )?;
        }
    }

    // Budgets and actual costs, in kronor. ARBTEAM's 2021 line is
    // Arbetsrehabteamet ÅKA's in Vänersborg/Mellerud's annual report.
    for (code, year, budget, actual) in [
        ("VAGEN-UNG", 2020, 1_450_000, Some(1_411_260)),
        ("VAGEN-UNG", 2021, 1_500_000, Some(1_538_912)),
        ("VAGEN-NY", 2020, 1_100_000, Some(1_062_480)),
        ("VAGEN-NY", 2021, 1_150_000, Some(1_104_355)),
        ("VAGEN-SJUK", 2020, 950_000, Some(921_700)),
        ("VAGEN-SJUK", 2021, 1_000_000, Some(978_064)),
        ("ARBTEAM", 2020, 2_600_000, Some(2_512_930)),
        ("ARBTEAM", 2021, 2_700_000, Some(2_341_704)),
        ("HALSA", 2020, 1_300_000, Some(1_327_410)),
        ("HALSA", 2021, 1_350_000, Some(1_302_118)),
        ("FRAMTID", 2021, 600_000, Some(583_240)),
        ("KOMPETENS", 2021, 350_000, Some(362_875)),
        ("KOMPETENS", 2022, 400_000, None),
    ] {
        beyond::budget_set(
            conn,
            actor,
            today,
            BudgetInput {
                intervention: code.into(),
                year,
                budget,
                actual,
            },
        )?;
    }
    Ok(())
}

/// The 2021 report of the sample data, computed in a temporary database.
pub fn report_2021(lang: Lang) -> Result<Report> {
    let dir = tempfile::tempdir()?;
    let actor = Actor::owner("demo");
    let store = Store::create(&dir.path().join("demo.db"), KdfProfile::Test, &actor)?;
    load(&store, &actor)?;
    let mut opts = Options::new(Period::year(2021)?);
    opts.lang = lang;
    let r = report::build(&store.connect()?, &opts)?;
    drop(store);
    dir.close()?;
    Ok(r)
}
