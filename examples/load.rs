//! Load generator for `sustrack serve` (BENCHMARKS.md, "the server under
//! load"): a closed loop of N simulated staff, each signed in once and then,
//! with about one second of think time (±20 %), viewing pages (90 %: home,
//! their intervention's list, an enrolment) or registering (10 %: a start
//! with a personnummer, or an exit through its form). Prints throughput,
//! p50/p99 per kind, errors, and the CPU this generator itself used.
//!
//!     load enrol BASE LINKS_FILE USERS_FILE   # enrol users from `user add` links
//!     load run BASE USERS_FILE N SECONDS [SERVER_PID]
//!
//! LINKS_FILE lines: `login intervention /enrol/TOKEN`; USERS_FILE lines:
//! `login intervention password totp-secret`.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use reqwest::blocking::Client;

const PASSWORD: &str = "a-long-password-for-load-tests";

fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let at = html.find(start)? + start.len();
    Some(&html[at..at + html[at..].find(end)?])
}

fn csrf(html: &str) -> String {
    between(html, "name=\"csrf\" value=\"", "\"")
        .unwrap_or_default()
        .to_string()
}

fn code(secret: &str, at: std::time::SystemTime) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let t = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    totp_rs::Builder::new()
        .with_secret(secret)
        .build()
        .unwrap()
        .generate(t)
        .to_string()
}

fn enrol(base: &str, links: &str, users: &str) {
    let mut out = std::fs::File::create(users).unwrap();
    for line in std::fs::read_to_string(links).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (login, intervention, link) = (f[0], f[1], f[2]);
        let c = client();
        let page = c
            .get(format!("{base}{link}"))
            .send()
            .unwrap()
            .text()
            .unwrap();
        let secret = between(&page, "<code id=\"totp-secret\">", "<")
            .unwrap()
            .to_string();
        let res = c
            .post(format!("{base}{link}"))
            .form(&[
                ("csrf", csrf(&page).as_str()),
                ("password", PASSWORD),
                ("password_again", PASSWORD),
                ("code", &code(&secret, std::time::SystemTime::now())),
            ])
            .send()
            .unwrap();
        assert_eq!(res.status(), 303, "enrolling {login}");
        writeln!(out, "{login} {intervention} {PASSWORD} {secret}").unwrap();
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    SignIn,
    Page,
    Register,
}

struct Sample {
    kind: Kind,
    ms: f64,
    ok: bool,
    at: Instant,
}

/// A synthetic personnummer with a valid check digit (never a real one:
/// serials 900-999 on random dates are as good as any for a load test,
/// and the file is thrown away).
fn pnr(rng: &mut impl rand::Rng) -> String {
    let year = rng.random_range(1960..2000);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let serial = rng.random_range(900..1000);
    let nine = format!("{:02}{month:02}{day:02}{serial:03}", year % 100);
    let digits: Vec<u8> = nine.bytes().map(|b| b - b'0').collect();
    let check = sustrack::identity::luhn_check_digit(&digits);
    format!("{year}{month:02}{day:02}-{serial:03}{check}")
}

/// The open enrolments on an intervention page (the first table; the
/// recent exits follow under their own heading).
fn ids_on(html: &str) -> Vec<String> {
    let open = html.split("<h2>Avslutade").next().unwrap_or("");
    open.split("href=\"/enrolments/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|s| s.len() == 36)
        .map(str::to_string)
        .collect()
}

/// Sign in with the code of a TOTP step `attempt + 1` steps ahead (the
/// server accepts ±1 step, and a code once).
fn sign_in(
    c: &Client,
    base: &str,
    login: &str,
    password: &str,
    secret: &str,
    attempt: u64,
) -> bool {
    let page = c
        .get(format!("{base}/login"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let at = std::time::SystemTime::now() + Duration::from_secs(30 * (attempt + 1));
    let res = c
        .post(format!("{base}/login"))
        .form(&[
            ("csrf", csrf(&page).as_str()),
            ("login", login),
            ("password", password),
            ("code", &code(secret, at)),
        ])
        .send()
        .unwrap();
    res.status() == 303
}

/// The report page's time for each query, as a client on loopback sees
/// it: the median and the slowest of `runs` requests after one warm-up.
fn report(base: &str, users: &str, runs: usize, queries: &[String]) {
    let line = std::fs::read_to_string(users).unwrap();
    let user: Vec<&str> = line.lines().next().unwrap().split_whitespace().collect();
    let c = client();
    assert!(
        (0..3).any(|a| sign_in(&c, base, user[0], user[2], user[3], a)),
        "{} signs in",
        user[0]
    );
    for q in queries {
        let url = format!("{base}/report?{q}");
        let fetch = || {
            let t = Instant::now();
            let res = c.get(&url).send().unwrap();
            let status = res.status();
            let bytes = res.bytes().unwrap().len();
            assert_eq!(status, 200, "{url}");
            (t.elapsed().as_secs_f64() * 1000.0, bytes)
        };
        fetch();
        let mut ms: Vec<f64> = (0..runs).map(|_| fetch().0).collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "GET /report?{q}: median {:.1} ms, slowest {:.1} ms ({runs} runs, {} bytes)",
            ms[ms.len() / 2],
            ms[ms.len() - 1],
            fetch().1
        );
    }
}

fn user_loop(
    base: String,
    user: Vec<String>,
    until: Instant,
    samples: Arc<Mutex<Vec<Sample>>>,
    seed: u64,
) {
    let (login, intervention, password, secret) = (&user[0], &user[1], &user[2], &user[3]);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let c = client();
    let record = |kind: Kind, t: Instant, ok: bool| {
        samples.lock().unwrap().push(Sample {
            kind,
            ms: t.elapsed().as_secs_f64() * 1000.0,
            ok,
            at: Instant::now(),
        });
    };
    // Spread the sign-ins over the first seconds, as people arrive.
    std::thread::sleep(Duration::from_millis(rng.random_range(0..2000)));
    // A code is accepted once: a user signed in by an earlier run may have
    // spent this step's code, so on refusal wait for the next step.
    for attempt in 0..3 {
        let t = Instant::now();
        let ok = sign_in(&c, &base, login, password, secret, attempt);
        record(Kind::SignIn, t, ok);
        if ok {
            break;
        }
        std::thread::sleep(Duration::from_secs(31));
    }
    let list_path = format!("{base}/interventions/{intervention}");
    let mut open: Vec<String> = ids_on(&c.get(&list_path).send().unwrap().text().unwrap());
    while Instant::now() < until {
        let think = rng.random_range(800..1200);
        std::thread::sleep(Duration::from_millis(think));
        let t = Instant::now();
        if rng.random_bool(0.9) {
            let path = match rng.random_range(0..3) {
                0 => format!("{base}/"),
                1 => list_path.clone(),
                _ => match open.get(rng.random_range(0..open.len().max(1))) {
                    Some(id) => format!("{base}/enrolments/{id}"),
                    None => list_path.clone(),
                },
            };
            let res = c.get(&path).send();
            let ok = res.as_ref().is_ok_and(|r| r.status() == 200);
            if path == list_path {
                if let Ok(r) = res {
                    open = ids_on(&r.text().unwrap_or_default());
                }
            } else if let Ok(r) = res {
                let _ = r.bytes();
            }
            record(Kind::Page, t, ok);
        } else if rng.random_bool(0.5) || open.is_empty() {
            let form = c
                .get(format!("{base}/start?intervention={intervention}"))
                .send()
                .unwrap()
                .text()
                .unwrap();
            let t = Instant::now();
            let res = c
                .post(format!("{base}/start"))
                .form(&[
                    ("csrf", csrf(&form).as_str()),
                    ("intervention", intervention),
                    ("pnr", &pnr(&mut rng)),
                    ("consent", "yes"),
                    ("date", "2025-06-01"),
                    ("support", "sickness_benefit"),
                ])
                .send();
            let ok = res.as_ref().is_ok_and(|r| r.status() == 303);
            if !ok && std::env::var_os("LOAD_DEBUG").is_some() {
                if let Ok(r) = res {
                    let status = r.status();
                    let body = r.text().unwrap_or_default();
                    eprintln!(
                        "start: {status} {}",
                        between(&body, "<ul>", "</ul>").unwrap_or("").trim()
                    );
                }
                continue;
            }
            if let Ok(r) = res {
                if let Some(id) = r
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| l.strip_prefix("/enrolments/"))
                {
                    open.push(id[..36].to_string());
                }
            }
            record(Kind::Register, t, ok);
        } else {
            let id = open.swap_remove(rng.random_range(0..open.len()));
            let form = c
                .get(format!("{base}/enrolments/{id}/exit"))
                .send()
                .unwrap()
                .text()
                .unwrap();
            let t = Instant::now();
            let res = c
                .post(format!("{base}/exit"))
                .form(&[
                    ("csrf", csrf(&form).as_str()),
                    ("enrolment", id.as_str()),
                    ("date", &chrono::Local::now().date_naive().to_string()),
                    ("outcome", "work"),
                ])
                .send();
            let ok = match res {
                Ok(r) if r.status() == 303 => true,
                Ok(r) => {
                    if std::env::var_os("LOAD_DEBUG").is_some() {
                        let status = r.status();
                        let body = r.text().unwrap_or_default();
                        let summary = between(&body, "<ul>", "</ul>")
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        eprintln!("exit of {id}: {status} {summary}");
                    }
                    false
                }
                Err(_) => false,
            };
            record(Kind::Register, t, ok);
        }
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct we pass; all-zero is a valid start.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn run(base: &str, users: &str, n: usize, seconds: u64, server_pid: Option<&str>) {
    let lines: Vec<Vec<String>> = std::fs::read_to_string(users)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    assert!(
        lines.len() >= n,
        "{n} users asked for, {} enrolled",
        lines.len()
    );
    let samples = Arc::new(Mutex::new(Vec::new()));
    let warmup = Duration::from_secs(5);
    let start = Instant::now();
    let until = start + warmup + Duration::from_secs(seconds);
    let cpu0 = cpu_seconds();
    let threads: Vec<_> = lines
        .into_iter()
        .take(n)
        .enumerate()
        .map(|(i, u)| {
            let (b, s) = (base.to_string(), samples.clone());
            // A new stream of personnummer every run: a number registered
            // by an earlier run would meet the overlap rule.
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                ^ (i as u64) << 48;
            std::thread::spawn(move || user_loop(b, u, until, s, seed))
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let cpu = cpu_seconds() - cpu0;
    let wall = start.elapsed().as_secs_f64();
    let samples = samples.lock().unwrap();
    let measured: Vec<&Sample> = samples.iter().filter(|s| s.at >= start + warmup).collect();
    let window = (wall - warmup.as_secs_f64()).max(1.0);
    println!(
        "users {n}, {seconds} s measured after {} s warm-up",
        warmup.as_secs()
    );
    println!("kind        requests  per s   p50 ms   p99 ms   max ms  errors");
    for (kind, name) in [
        (Kind::Page, "page view"),
        (Kind::Register, "register"),
        (Kind::SignIn, "sign-in"),
    ] {
        let all: Vec<&Sample> = if kind == Kind::SignIn {
            samples.iter().filter(|s| s.kind == kind).collect()
        } else {
            measured
                .iter()
                .copied()
                .filter(|s| s.kind == kind)
                .collect()
        };
        let mut ms: Vec<f64> = all.iter().map(|s| s.ms).collect();
        ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let errors = all.iter().filter(|s| !s.ok).count();
        println!(
            "{name:<10} {:>9} {:>6.1} {:>8.1} {:>8.1} {:>8.1} {:>7}",
            all.len(),
            if kind == Kind::SignIn {
                f64::NAN
            } else {
                all.len() as f64 / window
            },
            pct(&ms, 0.5),
            pct(&ms, 0.99),
            ms.last().copied().unwrap_or(f64::NAN),
            errors
        );
    }
    println!(
        "load generator CPU: {cpu:.1} s over {wall:.0} s wall ({:.0} % of one core)",
        100.0 * cpu / wall
    );
    if let Some(pid) = server_pid {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        for l in status
            .lines()
            .filter(|l| l.starts_with("VmHWM") || l.starts_with("VmRSS"))
        {
            println!("server {l}");
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("enrol") => enrol(&args[2], &args[3], &args[4]),
        Some("report") => report(
            &args[2],
            &args[3],
            args[4].parse().unwrap(),
            &args[5..],
        ),
        Some("run") => run(
            &args[2],
            &args[3],
            args[4].parse().unwrap(),
            args[5].parse().unwrap(),
            args.get(6).map(String::as_str),
        ),
        _ => eprintln!(
            "usage: load enrol BASE LINKS USERS | load run BASE USERS N SECONDS [SERVER_PID] | load report BASE USERS RUNS QUERY..."
        ),
    }
}
