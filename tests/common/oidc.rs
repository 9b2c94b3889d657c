//! A real OpenID Provider for the sign-in tests: tests/oidc/provider.mjs,
//! run by Node — the unmodified `oidc-provider` package behind a small proxy
//! whose URL is the issuer and which can alter the provider's answers
//! (`mode`) for the negative cases.
//!
//! Client `sustrack` / secret `sustrack-test-secret` (client_secret_basic),
//! redirect URI `http://127.0.0.1:<any port>/login/oidc/callback` (or
//! `localhost`), scopes `openid profile`, PKCE S256 required. Its login page
//! (`/interaction/<uid>`) has one form: `login` (any name is an account:
//! anna → Anna Andersson, bertil → Bertil Berg, cecilia → Cecilia Carlsson,
//! mallory → Mallory Mört, utan-namn → no name claims at all, otherwise the
//! name capitalised) and `acr` (loa2,
//! loa3 default, loa4 under `http://id.elegnamnden.se/loa/1.0/`), button
//! "Logga in"; a second form posts to `/interaction/<uid>/abort` ("Avbryt",
//! error access_denied). Every authorization request shows the page.
//!
//! Modes (they change the token answer's `id_token` only): `pass`, `tamper`
//! (payload altered, signature kept), `expired`, `aud`, `nonce`, `iss`
//! (re-signed by the proxy key with that claim wrong), `stale_auth`
//! (`auth_time` an hour ago, re-signed), `replay` (the
//! previous genuine ID token), `alg_none`, `resign` (unchanged claims,
//! proxy key: must be accepted), `rotate` (signed by a key the JWKS
//! publishes only from the moment this mode is first set), `unknown_key`
//! (signed by a key never published); and `down` (connections reset) and
//! `hang` (never answers) for every request. The JWKS always carries the
//! proxy key too.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const CLIENT_ID: &str = "sustrack";
pub const CLIENT_SECRET: &str = "sustrack-test-secret";
pub const LOA2: &str = "http://id.elegnamnden.se/loa/1.0/loa2";
pub const LOA3: &str = "http://id.elegnamnden.se/loa/1.0/loa3";
pub const LOA4: &str = "http://id.elegnamnden.se/loa/1.0/loa4";

/// How long the provider may take to print its ready line.
const READY: Duration = Duration::from_secs(20);

pub struct Provider {
    /// `http://127.0.0.1:<port>`: the proxy, which is the issuer.
    pub issuer: String,
    control: String,
    child: Child,
    stderr: Arc<Mutex<String>>,
}

/// What is missing to run the provider (empty when nothing is).
fn missing() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        missing.push("Node.js (`node` on PATH)".to_string());
    }
    for module in ["oidc-provider", "jose"] {
        if !root.join("node_modules").join(module).exists() {
            missing.push(format!("node_modules/{module} (run `npm ci`)"));
        }
    }
    missing
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("control client")
}

impl Provider {
    /// The provider, started and ready. None when Node or the npm packages
    /// are missing and CI is not set (it says why on stderr; the test then
    /// returns); under `CI=true` it panics instead.
    pub fn start() -> Option<Provider> {
        let missing = missing();
        if !missing.is_empty() {
            let msg = format!("the OpenID Provider needs: {}", missing.join("; "));
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{msg} (under CI=true it must run)");
            }
            eprintln!("skipped: {msg}");
            return None;
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // stdin stays a pipe held by `child`: when this process ends, however
        // it ends, the pipe closes and the provider exits.
        let mut child = Command::new("node")
            .arg(root.join("tests/oidc/provider.mjs"))
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node tests/oidc/provider.mjs");

        // Drain both pipes on threads so the provider never blocks on them.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(out).lines();
            let _ = tx.send(lines.next());
            for _ in lines {}
        });

        let line = rx.recv_timeout(READY);
        let fail = |child: &mut Child, why: String| -> ! {
            let _ = child.kill();
            let _ = child.wait();
            std::thread::sleep(Duration::from_millis(100)); // let stderr drain
            panic!(
                "tests/oidc/provider.mjs: {why}\n--- its stderr ---\n{}",
                stderr.lock().unwrap()
            );
        };
        let line = match line {
            Ok(Some(Ok(line))) => line,
            Ok(other) => fail(&mut child, format!("no ready line ({other:?})")),
            Err(_) => fail(&mut child, format!("no ready line within {READY:?}")),
        };
        let ready: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => fail(&mut child, format!("ready line {line:?}: {e}")),
        };
        let field = |name: &str| ready[name].as_str().map(str::to_string);
        let (Some(issuer), Some(control)) = (field("issuer"), field("control")) else {
            fail(
                &mut child,
                format!("ready line {line:?} lacks issuer/control"),
            )
        };
        Some(Provider {
            issuer,
            control,
            child,
            stderr,
        })
    }

    /// sustrack's options for this provider (its client, 5 s time limit).
    pub fn options(&self) -> sustrack::web::OidcOptions {
        sustrack::web::OidcOptions {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
            extra_params: Vec::new(),
            acr: Vec::new(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Switches the proxy's mode (`pass`, `tamper`, `expired`, `aud`,
    /// `nonce`, `iss`, `replay`, `alg_none`, `resign`, `down`, `hang`).
    pub fn mode(&self, m: &str) {
        let res = client()
            .post(format!("{}/mode", self.control))
            .header("content-type", "text/plain")
            .body(format!("mode={m}"))
            .send()
            .unwrap_or_else(|e| panic!("set proxy mode {m}: {e}"));
        let status = res.status();
        let body = res.text().unwrap_or_default();
        assert!(
            status == reqwest::StatusCode::OK,
            "set proxy mode {m}: {status} {body}"
        );
    }

    /// The last genuine ID token the proxy passed on (before any alteration).
    pub fn last_id_token(&self) -> Option<String> {
        let res = client()
            .get(format!("{}/last-id-token", self.control))
            .send()
            .expect("GET /__proxy/last-id-token");
        match res.status() {
            reqwest::StatusCode::OK => Some(res.text().expect("last id token")),
            reqwest::StatusCode::NOT_FOUND => None,
            other => panic!("GET /__proxy/last-id-token: {other}"),
        }
    }

    /// What the provider has written on stderr so far (for failure messages).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
