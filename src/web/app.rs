//! The server's shared state and its lifecycle: options, the injectable
//! clock, a small pool of SQLite connections used off the request threads,
//! the bound on concurrent argon2id hashes, and starting and stopping.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Local, NaiveDate, Utc};
use rusqlite::Connection;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::store::Store;

/// The server's idea of now. The system clock, or (for tests of timeouts
/// and lockouts) the system clock shifted by a number of seconds that the
/// test moves forward.
#[derive(Clone, Default)]
pub struct Clock {
    shift: Option<Arc<AtomicI64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { shift: None }
    }

    /// A clock `shift` seconds ahead of the system clock; the caller keeps
    /// the handle and moves it.
    pub fn shifted(shift: Arc<AtomicI64>) -> Clock {
        Clock { shift: Some(shift) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        match &self.shift {
            Some(s) => now + chrono::Duration::seconds(s.load(Ordering::Relaxed)),
            None => now,
        }
    }

    /// Today where the förbund is (registrations are dated locally).
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Local).date_naive()
    }
}

/// How `serve` runs.
#[derive(Clone)]
pub struct Options {
    pub listen: SocketAddr,
    /// The address users reach, e.g. `https://sustrack.example.se` behind a
    /// reverse proxy. Decides secure cookies, HSTS and the allowed origin.
    pub public_url: Option<String>,
    pub tls: Option<(PathBuf, PathBuf)>,
    /// `serve --demo`: a banner, and demo users sign in with a password alone.
    pub demo: bool,
    pub clock: Clock,
    /// Argon2id hashes allowed at once (19 MiB each with the default KDF).
    pub hash_permits: usize,
    /// Where users report accessibility problems (the statement's contact).
    pub contact: Option<String>,
    /// The age recipient (`age1...`) web backups are encrypted to; without
    /// one the backup page offers nothing.
    pub backup_recipient: Option<String>,
    /// Sign-in with e-legitimation through the förbund's OpenID Connect
    /// broker (`serve --oidc-issuer ...`).
    pub oidc: Option<super::oidc::OidcOptions>,
}

impl Options {
    pub fn new(listen: SocketAddr) -> Options {
        Options {
            listen,
            public_url: None,
            tls: None,
            demo: false,
            contact: None,
            backup_recipient: None,
            oidc: None,
            clock: Clock::system(),
            hash_permits: crate::parallel::workers(4),
        }
    }

    /// Refuse what would expose the register: a non-loopback address
    /// without TLS, unless a reverse proxy terminates TLS (https public URL).
    pub fn validate(&self) -> Result<()> {
        if let Some(url) = &self.public_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 200 {
                return Err(Error::usage(format!(
                    "--public-url '{}' is not a URL: expected https://host[:port]",
                    crate::model::shown_text(url)
                )));
            }
        }
        let proxied_tls = self
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        if !self.listen.ip().is_loopback() && self.tls.is_none() && !proxied_tls {
            return Err(Error::usage(format!(
                "--listen {} is reachable from other machines but the server has no TLS: \
                 give --tls-cert and --tls-key, or put it behind a reverse proxy that \
                 terminates TLS and give --public-url https://...",
                self.listen
            )));
        }
        if self.demo && !self.listen.ip().is_loopback() {
            return Err(Error::usage(format!(
                "--demo listens on loopback only, not {}",
                self.listen
            )));
        }
        if let Some(r) = &self.backup_recipient {
            super::backup::recipient(r)?;
        }
        if let Some(o) = &self.oidc {
            o.validate()?;
            if self.public_url.is_none() && !self.listen.ip().is_loopback() {
                return Err(Error::usage(format!(
                    "--oidc-issuer needs --public-url when listening on {}: the redirect URI the broker knows is the public URL plus /login/oidc/callback",
                    self.listen
                )));
            }
            if self.demo {
                return Err(Error::usage(
                    "--demo signs in demo users with a password alone; it takes no --oidc-issuer"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Cookies get `Secure` and responses HSTS when users reach us over https.
    pub fn secure(&self) -> bool {
        self.tls.is_some()
            || self
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
    }
}

/// What every handler shares.
pub struct App {
    pub store: Store,
    pool: Mutex<Vec<Connection>>,
    hashing: Semaphore,
    heavy: Semaphore,
    pub clock: Clock,
    pub secure: bool,
    /// `scheme://host[:port]` users reach us at, when known.
    pub origin: Option<String>,
    pub demo: bool,
    /// Key for the CSRF token of pages shown before sign-in.
    pub csrf_key: [u8; 32],
    /// Forms sent after their session ended, kept (in memory only, never
    /// the personnummer) until the user has signed in again.
    pub parked: super::resume::Parked,
    /// Exports and uploaded imports waiting for their next step (memory
    /// only, per session).
    pub stash: super::stash::Stash,
    /// Each session's last confirmed import (a background job).
    pub jobs: super::import::Jobs,
    pub contact: Option<String>,
    pub backup_recipient: Option<String>,
    /// The e-ID broker, when configured.
    pub oidc: Option<super::oidc::Oidc>,
}

pub type Shared = Arc<App>;

impl App {
    fn new(store: Store, opts: &Options, addr: SocketAddr) -> Result<App> {
        // The redirect URI the förbund registers with its broker: the
        // public URL, or the address we listen on.
        let base = match &opts.public_url {
            Some(u) => origin_of(u).to_string(),
            None => format!(
                "{}://{addr}",
                if opts.tls.is_some() { "https" } else { "http" }
            ),
        };
        let oidc = match &opts.oidc {
            Some(o) => Some(super::oidc::Oidc::new(
                o.clone(),
                &base,
                opts.clock.clone(),
            )?),
            None => None,
        };
        let mut csrf_key = [0u8; 32];
        csrf_key.copy_from_slice(&crate::identity::random_bytes(32));
        Ok(App {
            store,
            pool: Mutex::new(Vec::new()),
            hashing: Semaphore::new(opts.hash_permits.max(1)),
            heavy: Semaphore::new(2),
            clock: opts.clock.clone(),
            secure: opts.secure(),
            origin: opts.public_url.as_deref().map(|u| origin_of(u).to_string()),
            demo: opts.demo,
            csrf_key,
            parked: Default::default(),
            stash: Default::default(),
            jobs: Default::default(),
            contact: opts.contact.clone(),
            backup_recipient: opts.backup_recipient.clone(),
            oidc,
        })
    }

    /// Run database work on the blocking pool with a pooled connection.
    pub async fn db<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || {
            let taken = app.pool.lock().map(|mut p| p.pop()).unwrap_or(None);
            let mut conn = match taken {
                Some(c) => c,
                None => {
                    let c = app.store.connect()?;
                    // A page reads a few rows: a small cache per pooled
                    // connection keeps 16 of them well under the memory
                    // budget (reports use snapshot connections of their own).
                    c.pragma_update(None, "cache_size", -2048)?;
                    c
                }
            };
            let out = f(&mut conn);
            // A connection left inside a transaction (a panic was caught
            // upstream) is dropped rather than reused.
            if conn.is_autocommit() {
                if let Ok(mut p) = app.pool.lock() {
                    if p.len() < 16 {
                        p.push(conn);
                    }
                }
            }
            out
        })
        .await
        .map_err(|e| Error::Database(format!("a request's database task failed: {e}")))?
    }

    /// Run work that hashes (argon2id: sign-in, enrolment, a personnummer)
    /// on the blocking pool, at most `hash_permits` at once, so a flood of
    /// requests cannot exhaust memory (19 MiB per hash with the default KDF).
    pub async fn hash<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|_| Error::Database("the server is shutting down".into()))?;
        self.db(f).await
    }

    /// Run heavy work (a report, an export, an import, a backup) on the
    /// blocking pool, at most two at once: each may use every core and
    /// hold a file in memory, and a queue of them must not starve pages.
    pub async fn heavy<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let _permit = self
            .heavy
            .acquire()
            .await
            .map_err(|_| Error::Database("the server is shutting down".into()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::Database(format!("a request's task failed: {e}")))?
    }
}

/// glibc gives each thread that allocates its own malloc arena, and after
/// the first large block is freed it raises its mmap threshold so later
/// ones come from the arenas and stay resident there. argon2id's 19 MiB
/// buffers, freed on whichever blocking thread hashed, then pile up (the
/// load benchmark measured 830 MB at 50 users). A few arenas and a fixed
/// threshold (large blocks always mapped and unmapped) bound that.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before
    // the server's threads start allocating.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// `https://host:port/path` → `https://host:port`.
pub fn origin_of(url: &str) -> &str {
    let after = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after..].find('/') {
        Some(i) => &url[..after + i],
        None => url,
    }
}

/// A server running on its own runtime thread; dropping it stops it.
pub struct Running {
    pub addr: SocketAddr,
    /// The redirect URI to register with the e-ID broker, when configured.
    pub eid_redirect: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Bind and start serving in the background.
    pub fn start(store: Store, opts: Options) -> Result<Running> {
        opts.validate()?;
        limit_malloc_arenas();
        // A backup's plain copy left by a server that died mid-download.
        crate::store::remove_stale_temp_dirs(store.path());
        let listener = TcpListener::bind(opts.listen)
            .map_err(|e| Error::io_text(format!("cannot listen on {}: {e}", opts.listen)))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| Error::io_text(format!("cannot listen on {}: {e}", opts.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::io_text(format!("cannot listen on {}: {e}", opts.listen)))?;
        let tls = match &opts.tls {
            Some((cert, key)) => Some(tls_config(cert, key)?),
            None => None,
        };
        let app = Arc::new(App::new(store, &opts, addr)?);
        let eid_redirect = app.oidc.as_ref().map(|o| o.redirect_uri().to_string());
        let router = super::routes::router(app);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("sustrack-web")
            .build()
            .map_err(|e| Error::io_text(format!("cannot start the server: {e}")))?;
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let service = router.into_make_service();
                match tls {
                    Some(config) => {
                        let handle = axum_server::Handle::new();
                        let h = handle.clone();
                        tokio::spawn(async move {
                            let _ = stopped.await;
                            h.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
                        });
                        let server = match axum_server::from_tcp_rustls(listener, config) {
                            Ok(s) => s,
                            Err(e) => {
                                eprintln!("sustrack serve: cannot serve TLS: {e}");
                                return;
                            }
                        };
                        if let Err(e) = server.handle(handle).serve(service).await {
                            eprintln!("sustrack serve: {e}");
                        }
                    }
                    None => {
                        let listener = match tokio::net::TcpListener::from_std(listener) {
                            Ok(l) => l,
                            Err(e) => {
                                eprintln!("sustrack serve: {e}");
                                return;
                            }
                        };
                        let served = axum::serve(listener, service).with_graceful_shutdown(async {
                            let _ = stopped.await;
                        });
                        if let Err(e) = served.await {
                            eprintln!("sustrack serve: {e}");
                        }
                    }
                }
            });
        });
        Ok(Running {
            addr,
            eid_redirect,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<axum_server::tls_rustls::RustlsConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<std::result::Result<_, _>>())
        .map_err(|e| Error::io(cert, format!("is not a PEM certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(Error::io(cert, "holds no certificate".to_string()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| Error::io(key, format!("is not a PEM private key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::io_text(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::io_text(format!("TLS certificate and key do not match: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(axum_server::tls_rustls::RustlsConfig::from_config(
        Arc::new(config),
    ))
}

/// `sustrack serve`: start, print where, serve until told to stop (Ctrl-C
/// or SIGTERM). The signal handlers are in place before the address is
/// printed, so whoever reads that line may stop the server at once.
pub fn serve(store: Store, opts: Options, banner: &str) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let scheme = if opts.tls.is_some() { "https" } else { "http" };
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io_text(format!("cannot start the server: {e}")))?;
    let (mut term, mut int) = signals
        .block_on(async {
            Ok::<_, std::io::Error>((
                signal(SignalKind::terminate())?,
                signal(SignalKind::interrupt())?,
            ))
        })
        .map_err(|e| Error::io_text(format!("cannot handle signals: {e}")))?;
    let mut running = Running::start(store, opts)?;
    println!(
        "sustrack serve: listening on {scheme}://{}{banner}",
        running.addr
    );
    if let Some(r) = &running.eid_redirect {
        println!(
            "sustrack serve: e-ID sign-in; the redirect URI registered with the broker must be {r}"
        );
    }
    use std::io::Write;
    let _ = std::io::stdout().flush();
    signals.block_on(async {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    });
    running.shutdown();
    Ok(())
}
