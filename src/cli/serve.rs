//! `sustrack serve` and `serve --demo`: open (or, for the demo, create)
//! the database, hold the serve lock, and run the web front end.

use std::net::SocketAddr;
use std::path::Path;

use crate::accounts;
use crate::actor::{Actor, Role};
use crate::error::{Error, Result};
use crate::identity::KdfProfile;
use crate::store::serve_lock::ServeLock;
use crate::store::{self, Store};
use crate::web;

use super::ServeArgs;

fn listen_addr(s: &str) -> Result<SocketAddr> {
    s.parse().map_err(|_| {
        Error::usage(format!(
            "--listen '{}' is not an address: expected IP:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free one)",
            crate::model::shown_text(s)
        ))
    })
}

fn options(a: &ServeArgs) -> Result<web::Options> {
    let mut opts = web::Options::new(listen_addr(&a.listen)?);
    opts.public_url = a.public_url.clone();
    opts.tls = match (&a.tls_cert, &a.tls_key) {
        (Some(c), Some(k)) => Some((c.clone(), k.clone())),
        (None, None) => None,
        _ => return Err(Error::usage("--tls-cert and --tls-key go together".into())),
    };
    opts.demo = a.demo;
    opts.contact = a.contact.clone().filter(|c| !c.trim().is_empty());
    opts.backup_recipient = a.backup_recipient.clone();
    opts.oidc = oidc_options(a)?;
    Ok(opts)
}

/// `--oidc-*`: the e-ID broker. The client secret comes from a file (its
/// first line), so it is not in the process list or a shell's history.
fn oidc_options(a: &ServeArgs) -> Result<Option<web::OidcOptions>> {
    let (Some(issuer), Some(client_id), Some(secret_file)) = (
        &a.oidc_issuer,
        &a.oidc_client_id,
        &a.oidc_client_secret_file,
    ) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(secret_file).map_err(|e| {
        Error::usage(format!(
            "--oidc-client-secret-file {}: {e}",
            crate::identity::scrub_path(secret_file)
        ))
    })?;
    let client_secret = text.lines().next().unwrap_or("").trim().to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(secret_file) {
            if m.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "warning: --oidc-client-secret-file {} can be read by others than its owner: chmod 600 it",
                    crate::identity::scrub_path(secret_file)
                );
            }
        }
    }
    if !(1..=60).contains(&a.oidc_timeout) {
        return Err(Error::usage(format!(
            "--oidc-timeout {} is out of range: 1 to 60 seconds",
            a.oidc_timeout
        )));
    }
    let o = web::OidcOptions {
        issuer: issuer.trim().to_string(),
        client_id: client_id.trim().to_string(),
        client_secret,
        extra_params: match &a.oidc_extra_params {
            Some(p) => web::OidcOptions::parse_extra(p)?,
            None => Vec::new(),
        },
        acr: a.oidc_acr.iter().map(|s| s.trim().to_string()).collect(),
        timeout: std::time::Duration::from_secs(a.oidc_timeout),
    };
    o.validate()?;
    Ok(Some(o))
}

/// Was `--db` given (on the command line or in the environment)?
fn db_given() -> bool {
    std::env::var_os("SUSTRACK_DB").is_some()
        || std::env::args_os().any(|a| {
            let a = a.to_string_lossy();
            a == "--db" || a.starts_with("--db=")
        })
}

pub fn serve(db: &Path, actor: &Actor, a: ServeArgs) -> Result<()> {
    let opts = options(&a)?;
    opts.validate()?;
    if a.demo {
        if db_given() {
            return Err(Error::usage(
                "--demo runs on sample data in a temporary database and takes no --db (nor SUSTRACK_DB)".into(),
            ));
        }
        return demo(actor, opts);
    }
    let store = Store::open(db, actor)?;
    if store.read_only() {
        return Err(Error::Database(format!(
            "{} is read-only: the server records every read and change, so it needs write access",
            crate::identity::scrub_path(db)
        )));
    }
    let _lock = ServeLock::acquire(db)?;
    if store.kdf().profile == KdfProfile::Test {
        eprintln!(
            "warning: this database uses the test KDF profile (weak hashing): never for real data"
        );
    }
    web::serve(store, opts, "")
}

/// Sample data in a temporary directory that is removed when the server
/// stops; a demo user per role with a fresh password, printed once.
fn demo(actor: &Actor, opts: web::Options) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo.db");
    let store = Store::create(&path, KdfProfile::Test, actor)?;
    crate::demo::load(&store, actor)?;
    let mut conn = store.connect()?;
    let staff_grants = vec!["VAGEN".to_string(), "ARBTEAM".to_string()];
    let users: [(&str, Vec<Role>, Vec<String>); 4] = [
        ("admin", vec![Role::Admin], vec![]),
        ("samordnare", vec![Role::Coordinator], vec![]),
        ("handlaggare", vec![Role::Staff], staff_grants),
        ("granskare", vec![Role::Auditor], vec![]),
    ];
    let mut lines = Vec::new();
    for (login, roles, grants) in users {
        let password = data_encoding::BASE64URL_NOPAD.encode(&crate::identity::random_bytes(12));
        let role_names: Vec<&str> = roles.iter().map(|r| r.code()).collect();
        let granted = if grants.is_empty() {
            String::new()
        } else {
            format!(" ({})", grants.join(", "))
        };
        store::write(&mut conn, |tx| {
            accounts::add_demo(
                tx,
                store.kdf(),
                login,
                roles.clone(),
                grants.clone(),
                &password,
            )
        })?;
        lines.push(format!(
            "  {login:<12} {password}   {}{granted}",
            role_names.join(", ")
        ));
    }
    drop(conn);
    let banner = format!(
        "\nDEMO: sample data in a temporary database, removed when the server stops.\n\
         Demo users sign in with the password alone (no authenticator):\n{}\n\
         Stop with Ctrl-C.",
        lines.join("\n")
    );
    let result = web::serve(store, opts, &banner);
    drop(dir);
    result
}
