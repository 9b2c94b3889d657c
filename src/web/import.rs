//! The import page (staff for their own interventions' registrations,
//! activities and referrals; admins and coordinators for interventions,
//! targets, indicators, volumes and budgets): upload
//! a CSV, see a dry run with every refused row as `line N, column C:
//! reason`, then confirm. All-or-nothing as on the CLI (the same
//! `import::import_from`, the same rules, the signed-in user as actor).
//! The file stays in memory, tied to the session, between the dry run and
//! the confirmation (never on disk; gone after 15 minutes); the confirmed
//! import runs as a background job whose progress the page shows.

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::import::{Failure, RowError, Summary};

use super::app::Shared;
use super::forms::{Errors, Form};
use super::pages::{self, render, Frame};
use super::session::SignedIn;
use super::stash::{self, Kind};
use super::upload::Upload;

/// Where a confirmed import stands.
pub enum JobState {
    Running,
    Done(Summary),
    Failed(Vec<String>),
}

pub struct Job {
    /// When it started, then when it finished.
    at: Arc<Mutex<chrono::DateTime<chrono::Utc>>>,
    read: Arc<AtomicU64>,
    total: u64,
    state: Arc<Mutex<JobState>>,
    file: String,
}

/// The session's last confirmed import (memory only).
#[derive(Default)]
pub struct Jobs(Mutex<HashMap<(i64, String), Job>>);

fn key(who: &SignedIn) -> (i64, String) {
    (who.session.user_id, who.session.csrf.clone())
}

/// Forget a session's job (sign-out); a running one finishes unseen.
pub fn forget(app: &Shared, user_id: i64, csrf: &str) {
    if let Ok(mut jobs) = app.jobs.0.lock() {
        jobs.retain(|k, _| !(k.0 == user_id && k.1 == csrf));
    }
}

/// Counts the bytes the import has read, for the progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

pub struct Status {
    pub file: String,
    pub running: bool,
    pub percent: u64,
    pub done: Option<String>,
    pub failed: Vec<String>,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    frame: Frame,
    errors: Errors,
    /// Refused rows of a dry run.
    rows: Vec<String>,
    unlisted: u64,
    /// A dry run that passed: what the import will do, the file, and its
    /// id for the confirmation.
    ready: Option<(String, String, String)>,
    status: Option<Status>,
}

/// What an import did (or will do), in the page's language.
fn said(s: &Summary, lang: crate::codes::Lang) -> String {
    let mut parts = vec![format!("{} {}", s.rows, lang.pick("rader", "rows"))];
    for (n, sv, en) in [
        (s.starts, "starter", "starts"),
        (s.exits, "avslut", "exits"),
        (s.interventions, "insatser", "interventions"),
        (s.volumes, "volymmånader", "volume months"),
        (s.targets, "mål", "targets"),
        (s.indicators, "egna indikatorer", "own indicators"),
        (s.activities, "aktiviteter", "activities"),
        (s.referrals, "remisser", "referrals"),
        (s.decisions, "beslut", "decisions"),
        (s.budgets, "budgetrader", "budget lines"),
        (
            s.skipped,
            "fanns redan och hoppas över",
            "already present and skipped",
        ),
    ] {
        if n > 0 {
            parts.push(format!("{n} {}", lang.pick(sv, en)));
        }
    }
    parts.join(", ")
}

fn may(who: &SignedIn) -> bool {
    super::routes::may_import(&who.session.actor)
}

fn status_of(app: &Shared, who: &SignedIn) -> Option<Status> {
    let jobs = app.jobs.0.lock().ok()?;
    let j = jobs.get(&key(who)).filter(|j| fresh(j, app.clock.now()))?;
    let state = j.state.lock().ok()?;
    let read = j.read.load(Ordering::Relaxed);
    Some(Status {
        file: j.file.clone(),
        running: matches!(*state, JobState::Running),
        percent: (read * 100).checked_div(j.total).unwrap_or(100).min(100),
        done: match &*state {
            JobState::Done(s) => Some(said(s, who.lang)),
            _ => None,
        },
        failed: match &*state {
            JobState::Failed(e) => e.clone(),
            _ => Vec::new(),
        },
    })
}

/// What a dry run found: the refused rows (the first ones and a count of
/// the rest), or the import it would make.
#[derive(Default)]
struct DryRun {
    rows: Vec<String>,
    unlisted: u64,
    ready: Option<(String, String, String)>,
}

/// The import page: with the errors, with what a dry run found, and with
/// this session's last import job.
fn page(
    app: &Shared,
    who: &SignedIn,
    status: StatusCode,
    errors: Errors,
    found: DryRun,
) -> Response {
    let frame = Frame::signed_in(who, who.lang.pick("Import", "Import"), "/import");
    render(
        status,
        &ImportPage {
            frame,
            errors,
            rows: found.rows,
            unlisted: found.unlisted,
            ready: found.ready,
            status: status_of(app, who),
        },
    )
}

pub async fn form(State(app): State<Shared>, who: SignedIn) -> Response {
    if !may(&who) {
        return pages::forbidden(who.lang);
    }
    page(&app, &who, StatusCode::OK, Errors::new(), DryRun::default())
}

/// Progress for the page's script: `{"running":true,"percent":40}`.
pub async fn status(State(app): State<Shared>, who: SignedIn) -> Response {
    if !may(&who) {
        return pages::forbidden(who.lang);
    }
    let body = match status_of(&app, &who) {
        Some(s) => format!("{{\"running\":{},\"percent\":{}}}", s.running, s.percent),
        None => "{\"running\":false,\"percent\":0}".to_string(),
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn failure_lines(f: Failure) -> (Vec<String>, u64, Option<String>) {
    match f {
        Failure::Rows(errors) => {
            let unlisted = errors.unlisted;
            (
                errors
                    .into_iter()
                    .map(|e: RowError| e.to_string())
                    .collect(),
                unlisted,
                None,
            )
        }
        Failure::Fatal(e) => (Vec::new(), 0, Some(e.to_string())),
    }
}

/// Import `bytes` as `actor`: every personnummer hashed first, outside
/// any lock (`import::prehash`), then the rows applied in one write
/// transaction that holds up other writers only for the SQL.
fn run_import(
    app: &Shared,
    actor: &crate::actor::Actor,
    bytes: &[u8],
    today: chrono::NaiveDate,
    dry_run: bool,
    read: Option<Arc<AtomicU64>>,
) -> Result<Summary, Failure> {
    let kdf = app.store.kdf();
    let mut cache = match &read {
        Some(read) => crate::import::prehash(
            Counting {
                inner: bytes,
                read: read.clone(),
            },
            kdf,
            today,
        )?,
        None => crate::import::prehash(bytes, kdf, today)?,
    };
    let mut conn = app.store.connect()?;
    let opts = crate::import::Options {
        dry_run,
        today,
        progress: false,
    };
    let size = Some(bytes.len() as u64);
    match read {
        Some(read) => {
            let input = Counting { inner: bytes, read };
            crate::import::import_cached(&mut conn, kdf, actor, input, size, &opts, &mut cache)
        }
        None => crate::import::import_cached(&mut conn, kdf, actor, bytes, size, &opts, &mut cache),
    }
}

/// Errors that are the file's (shown) and the server's own (logged, a
/// plain 500 page): `None` when the failure is the server's.
fn user_failure(f: Failure) -> Result<Failure, crate::error::Error> {
    match f {
        Failure::Fatal(e @ (crate::error::Error::Database(_) | crate::error::Error::Io { .. })) => {
            Err(e)
        }
        f => Ok(f),
    }
}

/// The dry run of an uploaded file.
pub async fn dry_run(State(app): State<Shared>, who: SignedIn, req: Request) -> Response {
    let lang = who.lang;
    // The role first: a body is not read for someone who may not send it.
    if !may(&who) {
        return pages::forbidden(lang);
    }
    let mut upload = match Upload::from_request(req, &app).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !super::csrf::same(upload.form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    let mut errors = Errors::new();
    if upload.file.is_empty() {
        errors.add(
            "file",
            lang.pick(
                "Fil saknas: välj en CSV-fil med registreringar, insatser, volymer, mål, indikatorer, aktiviteter, remisser eller budgetar",
                "File is missing: choose a CSV file of registrations, interventions, volumes, targets, indicators, activities, referrals or budgets",
            ),
        );
        return page(
            &app,
            &who,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            DryRun::default(),
        );
    }
    // Moved, not copied: the file's personnummer are wiped when it is dropped.
    let bytes = std::mem::take(&mut upload.file);
    let name = crate::identity::scrub(&upload.file_name).into_owned();
    let actor = who.session.actor.clone();
    let today = app.clock.today();
    let app2 = app.clone();
    let result = app
        .heavy(move || {
            let r = run_import(&app2, &actor, &bytes, today, true, None);
            Ok(r.map(|s| (s, bytes)))
        })
        .await;
    let result = match result {
        Ok(Err(f)) => match user_failure(f) {
            Ok(f) => Ok(Err(f)),
            Err(e) => Err(e),
        },
        other => other,
    };
    match result {
        Ok(Ok((summary, bytes))) => {
            let Some(file_id) = stash::put(&app, &who, Kind::Import, bytes, name.clone()) else {
                errors.add(
                    "",
                    lang.pick(
                        "Servern har för mycket i minnet just nu. Försök igen om en stund.",
                        "The server holds too much in memory just now. Try again in a while.",
                    ),
                );
                return page(
                    &app,
                    &who,
                    StatusCode::SERVICE_UNAVAILABLE,
                    errors,
                    DryRun::default(),
                );
            };
            page(
                &app,
                &who,
                StatusCode::OK,
                errors,
                DryRun {
                    ready: Some((said(&summary, lang), name, file_id)),
                    ..DryRun::default()
                },
            )
        }
        Ok(Err(Failure::Fatal(crate::error::Error::Forbidden(_)))) => {
            errors.add(
                "file",
                lang.pick(
                    "Din roll får inte importera den här sortens fil. Registreringar bär personnummer och importeras bara av handläggare, för sina egna insatser, liksom aktiviteter och remisser; insatser, mål, volymer och budgetar importeras av samordnare och administratörer.",
                    "Your role may not import this kind of file. Registrations carry personnummer and are imported by staff only, for their own interventions, as are activities and referrals; interventions, targets, volumes and budgets by coordinators and admins.",
                ),
            );
            page(
                &app,
                &who,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                DryRun::default(),
            )
        }
        Ok(Err(f)) => {
            let (rows, unlisted, fatal) = failure_lines(f);
            errors.add(
                "file",
                match fatal {
                    Some(m) => m,
                    None => format!(
                        "{} {}",
                        rows.len() as u64 + unlisted,
                        lang.pick(
                            "rader kan inte importeras, se listan nedan; inget har sparats",
                            "rows cannot be imported, see the list below; nothing was saved"
                        )
                    ),
                },
            );
            page(
                &app,
                &who,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                DryRun {
                    rows,
                    unlisted,
                    ready: None,
                },
            )
        }
        Err(e) => pages::error(lang, &e),
    }
}

/// Whether this session has an import running.
fn running(app: &Shared, who: &SignedIn) -> bool {
    app.jobs.0.lock().is_ok_and(|jobs| {
        jobs.get(&key(who)).is_some_and(|j| {
            j.state
                .lock()
                .is_ok_and(|s| matches!(*s, JobState::Running))
        })
    })
}

/// Register a new job for this session; finished jobs older than 15
/// minutes are forgotten on the way.
type JobHandles = (
    Arc<AtomicU64>,
    Arc<Mutex<JobState>>,
    Arc<Mutex<chrono::DateTime<chrono::Utc>>>,
);

fn register_job(app: &Shared, who: &SignedIn, total: u64, file: String) -> JobHandles {
    let read = Arc::new(AtomicU64::new(0));
    let state = Arc::new(Mutex::new(JobState::Running));
    let now = app.clock.now();
    let at = Arc::new(Mutex::new(now));
    if let Ok(mut jobs) = app.jobs.0.lock() {
        jobs.retain(|_, j| fresh(j, now));
        jobs.insert(
            key(who),
            Job {
                at: at.clone(),
                read: read.clone(),
                // The file is read twice: once to hash, once to import.
                total: 2 * total,
                state: state.clone(),
                file,
            },
        );
    }
    (read, state, at)
}

/// A job still worth showing: running, or finished less than 15 minutes ago.
fn fresh(j: &Job, now: chrono::DateTime<chrono::Utc>) -> bool {
    j.state
        .lock()
        .is_ok_and(|s| matches!(*s, JobState::Running))
        || j.at
            .lock()
            .is_ok_and(|at| now - *at < chrono::Duration::minutes(15))
}

/// Confirm: the file of the dry run is imported by a background job.
pub async fn confirm(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    let lang = who.lang;
    if !super::csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    if !may(&who) {
        return pages::forbidden(lang);
    }
    // Checked before the file is taken, so a second click keeps it.
    if running(&app, &who) {
        let mut errors = Errors::new();
        errors.add(
            "",
            lang.pick(
                "En import pågår redan. Vänta tills den är klar.",
                "An import is already running. Wait until it is done.",
            ),
        );
        return page(&app, &who, StatusCode::CONFLICT, errors, DryRun::default());
    }
    let Some(item) = stash::take(&app, &who, Kind::Import, form.get("file_id")) else {
        let mut errors = Errors::new();
        errors.add(
            "file",
            lang.pick(
                "Det finns ingen provkörd fil att importera: den sparas i 15 minuter, och bara den senast provkörda filen kan importeras. Ladda upp filen igen.",
                "There is no dry-run file to import: it is kept for 15 minutes, and only the file dry-run last can be imported. Upload the file again.",
            ),
        );
        return page(
            &app,
            &who,
            StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            DryRun::default(),
        );
    };
    let (read, state, finished) =
        register_job(&app, &who, item.bytes.len() as u64, item.name.clone());
    let actor = who.session.actor.clone();
    let today = app.clock.today();
    let app2 = app.clone();
    tokio::spawn(async move {
        let app3 = app2.clone();
        let outcome = app2
            .heavy(move || {
                Ok(run_import(
                    &app3,
                    &actor,
                    &item.bytes,
                    today,
                    false,
                    Some(read),
                ))
            })
            .await
            .unwrap_or_else(|e| Err(Failure::Fatal(e)));
        let next = match outcome.map_err(user_failure) {
            Ok(s) => JobState::Done(s),
            Err(Ok(f)) => {
                let (mut rows, unlisted, fatal) = failure_lines(f);
                if let Some(m) = fatal {
                    rows.insert(0, m);
                }
                if unlisted > 0 {
                    rows.push(format!("… (+{unlisted})"));
                }
                JobState::Failed(rows)
            }
            // The server's own trouble: logged, and one plain line shown.
            Err(Err(e)) => {
                eprintln!("sustrack serve: an import failed: {e}");
                JobState::Failed(vec!["Serverfel / server error".into()])
            }
        };
        if let Ok(mut s) = state.lock() {
            *s = next;
        }
        if let Ok(mut t) = finished.lock() {
            *t = app2.clock.now();
        }
    });
    Redirect::to("/import").into_response()
}
