//! `sustrack demo`: the sample data of `sample_data/`, loaded through the
//! ordinary import into a temporary database, and its 2021 report. The
//! files are compiled into the binary, so the demo works from anywhere and
//! leaves nothing behind (the temporary directory is removed on return).

use crate::actor::Actor;
use crate::codes::Lang;
use crate::error::{Error, Result};
use crate::identity::KdfProfile;
use crate::import::{self, Failure};
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
    let opts = import::Options {
        dry_run: false,
        today: chrono::Local::now().date_naive(),
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
