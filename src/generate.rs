//! `sustrack generate`: a synthetic national register for training and
//! benchmarks, deterministic for a given seed.
//!
//! Shape (about a decade of every förbund in Sweden at 1M enrolments):
//! 75 förbund, each with a handful of interventions (some grouped under
//! an ESF-style parent, one volume intervention), Sweden's 290 kommuner
//! shared out among them, starts from 2015 to 2025, durations of one to
//! about thirty months, six in ten women, ages mostly 20-45, support and
//! outcome mixes like those in annual reports, about one in five people
//! enrolled more than once, three per cent anonymous.
//!
//! There are no personnummer at all: persons get random fingerprints
//! directly, so generation is fast and nothing could ever be real. The
//! database uses the test KDF profile and says so.

use std::path::Path;

use chrono::{Duration, NaiveDate};
use rand_chacha::rand_core::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::actor::Actor;
use crate::codes::{
    Code, Education, Gender, InterventionKind, Outcome, QualityOfLife, Referrer, StepProgress,
    Support, YearsInSupport,
};
use crate::error::{Error, Field, Result};
use crate::identity::{Fingerprint, KdfProfile};
use crate::kommun::Municipality;
use crate::model::{Enrolment, ExitFacts, Intervention, StartFacts};
use crate::store::{audit, enrolments, interventions, volume, Store};

const FORBUND: usize = 75;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    pub interventions: usize,
    pub persons: u64,
    pub enrolments: u64,
    pub anonymous: u64,
}

/// The generator's random stream. ChaCha8 (rand_chacha) documents its
/// output for a seed as stable across releases, and every value below is
/// derived from its raw words by this file's own arithmetic (not by
/// `rand`'s distributions, which may change between versions), so one seed
/// gives one register for as long as these lines stay as they are.
struct Stream(ChaCha8Rng);

impl Stream {
    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32
    /// for the small `n` used here).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.0.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of `len` elements.
    fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)` with 53 bits.
    fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.0.fill_bytes(&mut b);
        b
    }
}

/// Pick an index by weight.
fn weighted(rng: &mut Stream, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.below(u64::from(total)) as u32;
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Twenty times the benchmark register: more is no use for training or
/// measuring, and would only fill the disk.
pub const MAX_ENROLMENTS: u64 = 20_000_000;

/// `kdf` is the profile new registrations in the file will hash
/// personnummer with; the generated persons' fingerprints are random, so
/// it costs nothing here (the server's load benchmark needs `Default`).
pub fn generate(
    path: &Path,
    actor: &Actor,
    enrolments: u64,
    seed: u64,
    kdf: KdfProfile,
) -> Result<Generated> {
    if !(1..=MAX_ENROLMENTS).contains(&enrolments) {
        return Err(Error::invalid(
            Field::Enrolments,
            format!("{enrolments} is out of range: expected 1 to {MAX_ENROLMENTS}"),
        ));
    }
    let store = Store::create(path, kdf, actor)?;
    let mut conn = store.connect()?;
    // Bulk loading only: a large page cache keeps the random-order inserts cheap.
    conn.pragma_update(None, "cache_size", -262_144)?;
    let mut rng = Stream(ChaCha8Rng::seed_from_u64(seed));
    let kommuner = crate::kommun::all();
    let tx = conn.transaction()?;

    // Interventions per förbund.
    let mut individual: Vec<(String, Vec<usize>)> = Vec::new(); // code, municipalities of its förbund
    let mut volume: Vec<String> = Vec::new();
    let mut count = 0;
    {
        let add = |code: &str, name: String, parent, kind, target_work_studies| {
            interventions::insert(
                &tx,
                &Intervention {
                    code: code.to_string(),
                    name,
                    parent,
                    kind,
                    target_work_studies,
                    target_step: None,
                    target_qol: None,
                },
            )
        };
        for f in 0..FORBUND {
            // Neighbours in kommunkod order (mostly one län) form a förbund.
            let munis: Vec<usize> = (0..kommuner.len())
                .filter(|m| m * FORBUND / kommuner.len() == f)
                .collect();
            let n = rng.int(2, 6);
            let parent = format!("F{f:02}-ESF");
            interventions::insert(
                &tx,
                &Intervention {
                    code: parent.clone(),
                    name: format!("Förbund {f} ESF-projekt"),
                    parent: None,
                    kind: InterventionKind::Individual,
                    target_work_studies: Some(0.4),
                    target_step: Some(0.6),
                    target_qol: Some(0.5),
                },
            )?;
            count += 1;
            for i in 0..n {
                let code = format!("F{f:02}-I{i}");
                let p = (i < 2).then(|| parent.clone());
                let target = if rng.chance(0.7) {
                    Some(rng.int(3, 5) as f64 / 10.0)
                } else {
                    None
                };
                add(
                    &code,
                    format!("Förbund {f} insats {i}"),
                    p,
                    InterventionKind::Individual,
                    target,
                )?;
                individual.push((code, munis.clone()));
                count += 1;
            }
            let v = format!("F{f:02}-VOL");
            add(
                &v,
                format!("Förbund {f} öppen verksamhet"),
                None,
                InterventionKind::Volume,
                None,
            )?;
            volume.push(v);
            count += 1;
        }
    }

    let mut out = Generated {
        interventions: count,
        ..Generated::default()
    };
    let epoch = NaiveDate::from_ymd_opt(2015, 1, 1).expect("valid date");
    let last = NaiveDate::from_ymd_opt(2025, 12, 31).expect("valid date");
    let span = (last - epoch).num_days();
    let support_w = [14, 6, 5, 7, 26, 8, 12, 6, 3, 2, 6, 3, 2];
    let outcome_w = [20, 7, 20, 15, 12, 4, 3, 3, 12, 4];
    {
        let mut made = 0u64;
        // For each individual intervention, those of its förbund (the ones
        // drawing from the same kommuner), itself included.
        let same_forbund: Vec<Vec<usize>> = individual
            .iter()
            .map(|(_, ms)| {
                (0..individual.len())
                    .filter(|&j| individual[j].1 == *ms)
                    .collect()
            })
            .collect();
        while made < enrolments {
            let woman = rng.chance(0.6);
            let gender = if woman { Gender::Woman } else { Gender::Man };
            let age = 16 + (rng.unit().powf(1.4) * 50.0) as i32;
            let (home_iv, _) = &individual[rng.index(individual.len())];
            let home = individual
                .iter()
                .position(|(c, _)| c == home_iv)
                .unwrap_or(0);
            let municipality = {
                let ms = &individual[home].1;
                kommuner[ms[rng.index(ms.len())]]
            };
            let anonymous = rng.chance(0.03);
            let mut start = epoch + Duration::days(rng.int(0, span - 1));
            let birth_year = chrono::Datelike::year(&start) - age;
            let person_id = if anonymous {
                out.anonymous += 1;
                None
            } else {
                let fp: [u8; 32] = rng.bytes();
                let id =
                    enrolments::insert_person(&tx, &Fingerprint(fp), gender, birth_year, start)?;
                out.persons += 1;
                Some(id)
            };
            let stays = if anonymous {
                1
            } else {
                1 + weighted(&mut rng, &[80, 15, 5])
            };
            let mut iv = home;
            for _ in 0..stays {
                if made >= enrolments || start > last {
                    break;
                }
                let months = 1.0 + rng.unit().powf(1.6) * 30.0;
                let exit = start + Duration::days((months * 30.4375) as i64 - rng.int(0, 14));
                let exit = (exit <= last && rng.chance(0.95)).then_some(exit.max(start));
                let before = Support::ALL[weighted(&mut rng, &support_w)];
                let outcome = exit.map(|_| Outcome::ALL[weighted(&mut rng, &outcome_w)]);
                let after = outcome.map(|o| match o {
                    Outcome::Work => Support::Wage,
                    Outcome::Studies => Support::StudentFinance,
                    Outcome::SicknessCompensation => Support::SicknessCompensation,
                    _ if rng.chance(0.5) => before,
                    _ => Support::ALL[weighted(&mut rng, &support_w)],
                });
                let step = outcome.map(|_| StepProgress::ALL[weighted(&mut rng, &[55, 35, 10])]);
                let qol = outcome.map(|_| QualityOfLife::ALL[weighted(&mut rng, &[50, 30, 8, 12])]);
                let id = uuid::Builder::from_random_bytes(rng.bytes())
                    .into_uuid()
                    .to_string();
                // Fields are drawn in the order written: keep it, or the
                // register for a seed changes.
                enrolments::insert(
                    &tx,
                    &Enrolment {
                        id,
                        intervention: individual[iv].0.clone(),
                        person_id,
                        local_id: None,
                        gender,
                        birth_year: if anonymous && rng.chance(0.3) {
                            None
                        } else {
                            Some(birth_year)
                        },
                        start,
                        exit,
                        facts: StartFacts {
                            municipality: rng
                                .chance(0.97)
                                .then_some(Municipality::Kommun(municipality)),
                            support: Some(before),
                            years_in_support: Some(
                                YearsInSupport::ALL[weighted(&mut rng, &[20, 30, 20, 10, 12, 8])],
                            ),
                            education: Some(Education::ALL[weighted(&mut rng, &[10, 35, 40, 15])]),
                            referrer: Some(
                                Referrer::ALL[weighted(&mut rng, &[30, 20, 30, 12, 6, 2])],
                            ),
                        },
                        outcome,
                        after: ExitFacts {
                            support_after: after,
                            step_progress: step,
                            quality_of_life: qol,
                        },
                    },
                )?;
                made += 1;
                out.enrolments += 1;
                // A later enrolment starts after this one ends, in this or
                // another intervention of the same förbund: a förbund serves
                // the residents of its member kommuner, so nobody's later
                // enrolment lands in a förbund across the country.
                let Some(x) = exit else { break };
                start = x + Duration::days(rng.int(14, 399));
                if rng.chance(0.5) {
                    let same = &same_forbund[home];
                    iv = same[rng.index(same.len())];
                }
            }
        }
        for v in &volume {
            for year in 2015..=2025 {
                for month in 1..=12 {
                    let month = format!("{year}-{month:02}");
                    let women = rng.below(40) as u32;
                    volume::put(&tx, v, &month, women, rng.below(25) as u32)?;
                }
            }
        }
    }
    audit::record(
        &tx,
        actor,
        "generate",
        None,
        Some(&format!("{} enrolments, seed {seed}", out.enrolments)),
    )?;
    tx.commit()?;
    crate::store::analyze(&conn)?;
    Ok(out)
}
