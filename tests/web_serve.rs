//! `sustrack serve` through the real binary: what it refuses before it
//! listens, the lock beside the file, TLS with rustls, and `--demo`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::sync::Arc;

use common::Env;

/// A server process that is killed when the test ends.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `sustrack serve ARGS` and read the address from its first line.
fn serve(env: &Env, args: &[&str]) -> Server {
    let mut cmd = env.std_command(&[&["serve"], args].concat());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn sustrack serve");
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout"))
        .read_line(&mut first)
        .expect("read the first line");
    let addr = first
        .trim()
        .rsplit("://")
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        first.starts_with("sustrack serve: listening on http"),
        "unexpected first line: {first:?}"
    );
    Server { child, addr }
}

/// One plain HTTP/1.1 GET; returns the whole response as text.
fn get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_non_loopback_address_without_tls_is_refused() {
    let env = Env::new();
    let err = env.fails(&["serve", "--listen", "0.0.0.0:0"], 2);
    assert!(
        err.contains("--tls-cert") && err.contains("--public-url https://"),
        "{err}"
    );
    // Behind a TLS-terminating proxy it is allowed to start; a bad URL is not.
    let err = env.fails(
        &["serve", "--listen", "0.0.0.0:0", "--public-url", "ftp://x"],
        2,
    );
    assert!(err.contains("--public-url"), "{err}");
    let err = env.fails(&["serve", "--listen", "localhost"], 2);
    assert!(
        err.contains("--listen 'localhost' is not an address"),
        "{err}"
    );
}

/// The binary without the `--db` the harness always adds.
fn bare(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_sustrack"));
    c.env_remove("SUSTRACK_DB").args(args);
    c
}

#[test]
fn demo_refuses_a_database_and_a_public_address() {
    let env = Env::new();
    // The harness passes --db: the demo refuses it.
    let err = env.fails(&["serve", "--demo"], 2);
    assert!(err.contains("--demo") && err.contains("--db"), "{err}");
    let out = bare(&[
        "serve",
        "--demo",
        "--listen",
        "0.0.0.0:0",
        "--public-url",
        "https://x.example",
    ])
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--demo listens on loopback only"), "{err}");
}

#[test]
fn one_server_per_file_and_no_migration_under_it() {
    let env = Env::new();
    let server = serve(&env, &["--listen", "127.0.0.1:0"]);
    let health = get(&server.addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("content-security-policy"), "{health}");
    let err = env.fails(&["serve", "--listen", "127.0.0.1:0"], 2);
    assert!(err.contains("already serving"), "{err}");
    drop(server);

    // An old file under a running server: the CLI does not upgrade it.
    let old = env.path("old.db");
    std::fs::copy("tests/fixtures/schema_v3.db", &old).unwrap();
    let lock = sustrack::store::serve_lock::ServeLock::acquire(&old).unwrap();
    let out = bare(&["--db", old.to_str().unwrap(), "log"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("stop the server first"), "{err}");
    let before = std::fs::read(&old).unwrap();
    assert_eq!(
        before,
        std::fs::read("tests/fixtures/schema_v3.db").unwrap()
    );
    drop(lock);
    let out = bare(&["--db", old.to_str().unwrap(), "log"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn serves_tls_itself_with_hsts() {
    let env = Env::new();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_file, key_file) = (env.path("cert.pem"), env.path("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let mut child = env
        .std_command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert_file.to_str().unwrap(),
            "--tls-key",
            key_file.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut first)
        .unwrap();
    let server = Server {
        addr: first.trim().rsplit("://").next().unwrap().to_string(),
        child,
    };
    assert!(
        first.starts_with("sustrack serve: listening on https://"),
        "{first}"
    );

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = std::net::TcpStream::connect(&server.addr).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).to_lowercase();
    assert!(out.starts_with("http/1.1 200"), "{out}");
    assert!(out.contains("strict-transport-security: max-age="), "{out}");
    assert!(
        out.contains("; secure"),
        "cookies are Secure over TLS: {out}"
    );

    // Plain HTTP on the TLS port gets no page.
    let plain = std::panic::catch_unwind(|| get(&server.addr, "/login")).unwrap_or_default();
    assert!(!plain.contains("<html"), "{plain}");
}

#[test]
fn demo_prints_a_user_per_role_and_leaves_nothing_behind() {
    let env = Env::empty();
    let tmp = env.path("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut child = bare(&["serve", "--demo", "--listen", "127.0.0.1:0"])
        .current_dir(env.dir.path())
        .env("TMPDIR", &tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    for _ in 0..8 {
        out.read_line(&mut text).unwrap();
    }
    for login in ["admin", "samordnare", "handlaggare", "granskare"] {
        assert!(text.contains(login), "{text}");
    }
    assert!(
        std::fs::read_dir(&tmp).unwrap().count() > 0,
        "the demo works in TMPDIR"
    );
    // SIGTERM: the server stops and removes its temporary database.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "nothing left on disk"
    );
}

#[test]
fn the_e_id_options_are_checked_before_it_listens_and_name_the_redirect_uri() {
    let env = Env::new();
    let secret = env.dir.path().join("oidc-secret");
    std::fs::write(&secret, "s3cret-from-the-broker\n").unwrap();
    let secret = secret.to_str().unwrap();
    let empty = env.dir.path().join("empty-secret");
    std::fs::write(&empty, "\n").unwrap();
    let with = |issuer: &str, more: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--oidc-issuer",
            issuer,
            "--oidc-client-id",
            "sustrack",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(more.iter().map(|s| s.to_string()));
        a
    };
    let refused = |args: Vec<String>, says: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let err = env.fails(&args, 2);
        assert!(err.contains(says), "{args:?}: {err}");
    };
    let good = "https://broker.example.se/oidc";
    refused(
        with(
            "http://broker.example.se",
            &["--oidc-client-secret-file", secret],
        ),
        "must be https",
    );
    refused(
        with(good, &["--oidc-client-secret-file", "/nonexistent/secret"]),
        "--oidc-client-secret-file",
    );
    refused(
        with(
            good,
            &["--oidc-client-secret-file", empty.to_str().unwrap()],
        ),
        "holds no secret",
    );
    refused(
        with(
            good,
            &[
                "--oidc-client-secret-file",
                secret,
                "--oidc-extra-params",
                "state=mine",
            ],
        ),
        "'state' is set by sustrack itself",
    );
    refused(
        with(
            good,
            &["--oidc-client-secret-file", secret, "--oidc-timeout", "0"],
        ),
        "--oidc-timeout 0 is out of range",
    );
    // Half a configuration is refused by the parser.
    let err = env.fails(&["serve", "--oidc-issuer", good], 2);
    assert!(err.contains("--oidc-client-id"), "{err}");

    // A good one starts even though the broker is not reachable (it is
    // asked at the first sign-in) and says what to register with it.
    let args = with(
        good,
        &[
            "--oidc-client-secret-file",
            secret,
            "--oidc-acr",
            "http://id.elegnamnden.se/loa/1.0/loa3",
            "--public-url",
            "https://sustrack.example.se",
        ],
    );
    let args: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let mut cmd = env.std_command(&[&["serve"], &args[..]].concat());
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn sustrack serve");
    let mut server = Server {
        child,
        addr: String::new(),
    };
    let mut lines = BufReader::new(server.child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("sustrack serve: listening on http://127.0.0.1:"),
        "{first}"
    );
    let second = lines.next().unwrap().unwrap();
    assert_eq!(
        second,
        "sustrack serve: e-ID sign-in; the redirect URI registered with the broker must be https://sustrack.example.se/login/oidc/callback"
    );
    server.addr = first.rsplit("://").next().unwrap().to_string();
    let page = get(&server.addr, "/login");
    assert!(page.contains("href=\"/login/oidc\""), "{page}");
}

#[test]
fn e_id_off_loopback_needs_the_public_url_its_redirect_uri_is_made_of() {
    let mut opts = sustrack::web::Options::new("0.0.0.0:8443".parse().unwrap());
    opts.tls = Some(("cert.pem".into(), "key.pem".into()));
    opts.oidc = Some(sustrack::web::OidcOptions {
        issuer: "https://broker.example.se".into(),
        client_id: "sustrack".into(),
        client_secret: "s".into(),
        extra_params: Vec::new(),
        acr: Vec::new(),
        timeout: std::time::Duration::from_secs(10),
    });
    let err = opts.validate().unwrap_err().to_string();
    assert!(err.contains("--oidc-issuer needs --public-url"), "{err}");
    opts.public_url = Some("https://sustrack.example.se".into());
    opts.validate().unwrap();
}
