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
//! Beyond participants (SPEC section 13): each förbund also has one or
//! two structural interventions (competence development, networks) with
//! activities through the years, tens of attendees each and mostly women;
//! a few individual and volume interventions hold information meetings.
//! Most enrolments are preceded by a referral with the same gender, birth
//! year, municipality and referrer (decided `started`, pointing at the
//! enrolment), and there are referrals that were declined, returned
//! (återremiss) or withdrawn, and some still undecided at the end of 2025.
//! Every intervention but the ESF parents has a budget for each year from
//! 2015 to 2026, sized by its participants, and an actual cost a few per
//! cent off it for the years up to 2024: the register reads as of the end
//! of 2025, so that year's accounts are not closed and 2026 is only
//! budgeted.
//!
//! There are no personnummer at all: persons get random fingerprints
//! directly, so generation is fast and nothing could ever be real. The
//! database uses the test KDF profile and says so.

use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use rand_chacha::rand_core::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::actor::Actor;
use crate::codes::{
    ActivityKind, Code, Decision, Education, Gender, InterventionKind, Outcome, QualityOfLife,
    Referrer, StepProgress, Support, YearsInSupport,
};
use crate::error::{Error, Field, Result};
use crate::identity::{Fingerprint, KdfProfile};
use crate::kommun::Municipality;
use crate::model::{Enrolment, ExitFacts, Intervention, StartFacts};
use crate::store::beyond::{self, Activity, Budget, Referral};
use crate::store::{audit, enrolments, interventions, volume, Store};

const FORBUND: usize = 75;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generated {
    pub interventions: usize,
    pub persons: u64,
    pub enrolments: u64,
    pub anonymous: u64,
    pub activities: u64,
    pub referrals: u64,
    pub budgets: u64,
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

/// The years the register covers: it reads as of the end of `LAST_YEAR`.
const FIRST_YEAR: i32 = 2015;
const LAST_YEAR: i32 = 2025;

/// A weekend day moved back to the Friday before: meetings are on weekdays.
fn weekday(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d - Duration::days(1),
        Weekday::Sun => d - Duration::days(2),
        _ => d,
    }
}

fn new_id(rng: &mut Stream) -> String {
    uuid::Builder::from_random_bytes(rng.bytes())
        .into_uuid()
        .to_string()
}

/// The referral an enrolment came from: a few days to a few months before
/// its start, decided `started` between the two. None when it would fall
/// before the register began.
fn referral_before(rng: &mut Stream, e: &Enrolment, epoch: NaiveDate) -> Option<Referral> {
    let lag = 3 + (rng.unit().powi(2) * 117.0) as i64;
    let decided = rng.int(0, lag);
    let date = e.start - Duration::days(lag);
    let id = new_id(rng);
    (date >= epoch).then(|| Referral {
        id,
        intervention: e.intervention.clone(),
        date,
        gender: e.gender,
        birth_year: e.birth_year,
        municipality: e.facts.municipality.clone(),
        referrer: e.facts.referrer,
        decision: Some(Decision::Started),
        decided: Some(date + Duration::days(decided)),
        enrolment: Some(e.id.clone()),
    })
}

/// A referral of someone else to `code` that did not become a start:
/// declined, returned (återremiss) or withdrawn after a few weeks, or not
/// yet decided when it came in the register's last months. None when its
/// date falls outside the register.
fn other_referral(
    rng: &mut Stream,
    code: &str,
    near: NaiveDate,
    munis: &[usize],
    kommuner: &[crate::kommun::Kommun],
    (epoch, last): (NaiveDate, NaiveDate),
) -> Option<Referral> {
    let date = near + Duration::days(rng.int(-90, 90));
    let gender = if rng.chance(0.6) {
        Gender::Woman
    } else {
        Gender::Man
    };
    let age = 16 + (rng.unit().powf(1.4) * 50.0) as i32;
    let birth_year = rng.chance(0.9).then_some(date.year() - age);
    let municipality = rng
        .chance(0.95)
        .then(|| Municipality::Kommun(kommuner[munis[rng.index(munis.len())]]));
    let referrer = rng
        .chance(0.97)
        .then(|| Referrer::ALL[weighted(rng, &[30, 20, 30, 12, 6, 2])]);
    let decision =
        [Decision::Declined, Decision::Returned, Decision::Withdrawn][weighted(rng, &[40, 35, 25])];
    let decided = date + Duration::days(rng.int(5, 60));
    let pending = decided > last || (last - date).num_days() < 90 && rng.chance(0.5);
    let id = new_id(rng);
    (epoch..=last).contains(&date).then(|| Referral {
        id,
        intervention: code.to_string(),
        date,
        gender,
        birth_year,
        municipality,
        referrer,
        decision: (!pending).then_some(decision),
        decided: (!pending).then_some(decided),
        enrolment: None,
    })
}

/// One occasion of `code` in `year` (weekdays, none in July), head counts
/// by kind: mostly women, as in the field; now and then gender was not
/// noted at all, or for a few; organisations for some.
fn activity(
    rng: &mut Stream,
    code: &str,
    year: i32,
    kind_w: &[u32; 5],
    last: NaiveDate,
) -> Activity {
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).expect("valid date");
    let days = NaiveDate::from_ymd_opt(year, 12, 31)
        .expect("valid date")
        .ordinal0() as i64;
    let mut date = jan1 + Duration::days(rng.int(0, days));
    if date.month() == 7 {
        date += Duration::days(31);
    }
    let date = weekday(date).max(jan1).min(last);
    let kind = ActivityKind::ALL[weighted(rng, kind_w)];
    let (lo, hi) = match kind {
        ActivityKind::Seminar if rng.chance(0.05) => (150, 400),
        ActivityKind::Seminar => (30, 120),
        ActivityKind::Training => (10, 35),
        ActivityKind::Network => (6, 25),
        ActivityKind::Information => (10, 50),
        ActivityKind::Other => (5, 30),
    };
    let total = rng.int(lo, hi) as u32;
    let (women, men, unknown) = if rng.chance(0.12) {
        (0, 0, total)
    } else {
        let unknown = if rng.chance(0.3) {
            (rng.int(1, 4) as u32).min(total)
        } else {
            0
        };
        let share = 0.65 + rng.unit() * 0.25;
        let women = ((f64::from(total - unknown)) * share).round() as u32;
        (women, total - unknown - women, unknown)
    };
    let organisations = match kind {
        ActivityKind::Seminar | ActivityKind::Network if rng.chance(0.6) => Some(rng.int(3, 15)),
        ActivityKind::Training if rng.chance(0.3) => Some(rng.int(2, 8)),
        _ => None,
    }
    .map(|n| n as u32);
    Activity {
        id: new_id(rng),
        intervention: code.to_string(),
        date,
        kind,
        women,
        men,
        unknown,
        organisations,
    }
}

/// A budget line of `code` for `year`, `planned` kronor rounded to tens of
/// thousands, with an actual cost a few per cent off it (mostly under)
/// for the years whose accounts are closed. `set_at` is when a
/// coordinator would have set it: the budget in the autumn before, the
/// actual cost in the February after.
fn budget_line(
    conn: &rusqlite::Connection,
    rng: &mut Stream,
    code: &str,
    year: i32,
    planned: f64,
) -> Result<()> {
    let budget = ((planned / 10_000.0).round() as u64).max(1) * 10_000;
    let actual =
        (year < LAST_YEAR).then(|| (budget as f64 * (0.95 + rng.unit() * 0.08)).round() as u64);
    let at = if actual.is_some() {
        format!("{}-02-{:02}T09:00:00Z", year + 1, rng.int(1, 28))
    } else {
        format!("{}-11-{:02}T09:00:00Z", year - 1, rng.int(1, 28))
    };
    beyond::put_budget(
        conn,
        &Budget {
            intervention: code.to_string(),
            year,
            budget,
            actual,
        },
        &at,
    )
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
    // Bulk loading only: a large page cache (1 GiB, used only as the file
    // grows: about the whole file at a million enrolments with their
    // referrals) keeps the random-order inserts cheap.
    conn.pragma_update(None, "cache_size", -1_048_576)?;
    let mut rng = Stream(ChaCha8Rng::seed_from_u64(seed));
    // SPEC 13's rows (activities, referrals, budgets) draw from a stream
    // of their own, so that adding them left a seed's enrolments as they
    // were.
    let mut more = Stream(ChaCha8Rng::seed_from_u64(seed));
    more.0.set_stream(13);
    let kommuner = crate::kommun::all();
    let tx = conn.transaction()?;

    // Interventions per förbund.
    let mut individual: Vec<(String, Vec<usize>)> = Vec::new(); // code, municipalities of its förbund
    let mut volume: Vec<String> = Vec::new();
    let mut structural: Vec<(String, i32)> = Vec::new(); // code, first year
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
            for s in 0..1 + usize::from(more.chance(0.5)) {
                let code = format!("F{f:02}-S{s}");
                let what =
                    ["kompetensutveckling", "samverkansnätverk", "kunskapsdagar"][(f + s) % 3];
                add(
                    &code,
                    format!("Förbund {f} {what}"),
                    None,
                    InterventionKind::Structural,
                    None,
                )?;
                structural.push((code, FIRST_YEAR + more.int(0, 5) as i32));
                count += 1;
            }
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
        // Participants active in each intervention and year, to size budgets.
        let mut active = vec![[0u32; (LAST_YEAR - FIRST_YEAR + 1) as usize]; individual.len()];
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
                let e = Enrolment {
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
                        referrer: Some(Referrer::ALL[weighted(&mut rng, &[30, 20, 30, 12, 6, 2])]),
                    },
                    outcome,
                    after: ExitFacts {
                        support_after: after,
                        step_progress: step,
                        quality_of_life: qol,
                    },
                };
                enrolments::insert(&tx, &e)?;
                // Most starts come from a referral; now and then someone
                // else's referral to the same intervention comes to nothing.
                if more.chance(0.85) {
                    if let Some(r) = referral_before(&mut more, &e, epoch) {
                        crate::store::beyond::insert_referral(&tx, &r)?;
                        out.referrals += 1;
                    }
                }
                if more.chance(0.25) {
                    let munis = &individual[iv].1;
                    let code = &individual[iv].0;
                    let r = other_referral(&mut more, code, start, munis, kommuner, (epoch, last));
                    if let Some(r) = r {
                        crate::store::beyond::insert_referral(&tx, &r)?;
                        out.referrals += 1;
                    }
                }
                for y in start.year()..=exit.map_or(LAST_YEAR, |x| x.year()) {
                    active[iv][(y - FIRST_YEAR) as usize] += 1;
                }
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

        // Activities: the structural interventions' from their first year,
        // and information meetings of a few others.
        let mut occasions: Vec<(&str, i32, u32, [u32; 5])> = Vec::new(); // code, from, per year, kinds
        for (code, from) in &structural {
            let per_year = more.int(4, 12) as u32;
            occasions.push((code, *from, per_year, [30, 30, 25, 10, 5]));
        }
        for (code, _) in &individual {
            if more.chance(0.2) {
                let from = FIRST_YEAR + more.int(0, 8) as i32;
                occasions.push((code, from, more.int(1, 3) as u32, [5, 0, 5, 85, 5]));
            }
        }
        for code in &volume {
            if more.chance(0.15) {
                let from = FIRST_YEAR + more.int(0, 8) as i32;
                occasions.push((code, from, more.int(1, 4) as u32, [0, 0, 10, 45, 45]));
            }
        }
        for (code, from, per_year, kinds) in occasions {
            for year in from..=LAST_YEAR {
                // Some years busier than others.
                let n = per_year / 2 + more.below(u64::from(per_year) + 1) as u32;
                for _ in 0..n {
                    let a = activity(&mut more, code, year, &kinds, last);
                    beyond::insert_activity(&tx, &a)?;
                    out.activities += 1;
                }
            }
        }

        // Budgets: a fixed part and a cost per participant active in the
        // year (volume and structural work by size alone), two per cent
        // dearer each year; 2026 is budgeted on 2025's participants.
        let dearer = |year: i32| 1.02f64.powi(year - FIRST_YEAR);
        for (i, (code, _)) in individual.iter().enumerate() {
            let fixed = more.int(400, 1200) as f64 * 1000.0;
            let per_head = more.int(25, 45) as f64 * 1000.0;
            for year in FIRST_YEAR..=LAST_YEAR + 1 {
                let heads = active[i][(year.min(LAST_YEAR) - FIRST_YEAR) as usize];
                let guess = f64::from(heads) * (0.9 + more.unit() * 0.2);
                let planned = (fixed + per_head * guess) * dearer(year);
                budget_line(&tx, &mut more, code, year, planned)?;
                out.budgets += 1;
            }
        }
        for (code, from, lo, hi) in volume
            .iter()
            .map(|c| (c, FIRST_YEAR, 300, 1500))
            .chain(structural.iter().map(|(c, y)| (c, *y, 150, 800)))
        {
            let size = more.int(lo, hi) as f64 * 1000.0;
            for year in from..=LAST_YEAR + 1 {
                budget_line(&tx, &mut more, code, year, size * dearer(year))?;
                out.budgets += 1;
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
