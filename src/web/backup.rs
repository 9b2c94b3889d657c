//! The admin's backup download: a consistent copy of the whole register
//! (`register::backup`, VACUUM INTO, recorded in the audit trail first),
//! encrypted to the förbund's recovery key, an age recipient given to
//! `serve --backup-recipient` (SPEC section 11). The admin sees no
//! participants, and cannot read them from the backup either: only the
//! holder of the recovery key's private half (kept offline, for example by
//! the dataskyddsombud) can. The plain copy lives only for the request,
//! in an owner-only temporary directory beside the database (the same
//! disk and permissions as the database itself), and is removed at once.

use std::io::Write;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::actor::Action;
use crate::error::{Error, Result};

use super::app::Shared;
use super::csrf;
use super::forms::Form;
use super::pages::{self, render, Frame};
use super::session::SignedIn;

#[derive(Template)]
#[template(path = "backup.html")]
struct BackupPage {
    frame: Frame,
    recipient: String,
}

pub async fn form(State(app): State<Shared>, who: SignedIn) -> Response {
    if !who.session.actor.may(Action::Backup) {
        return pages::forbidden(who.lang);
    }
    render(
        StatusCode::OK,
        &BackupPage {
            frame: Frame::signed_in(
                &who,
                who.lang.pick("Säkerhetskopia", "Backup"),
                "/admin/backup",
            ),
            recipient: app.backup_recipient.clone().unwrap_or_default(),
        },
    )
}

/// Parse the configured recipient (checked when the server starts).
pub fn recipient(s: &str) -> Result<age::x25519::Recipient> {
    s.trim().parse().map_err(|_| {
        Error::usage(
            "--backup-recipient: expected an age public key (age1...), as `age-keygen` prints it"
                .into(),
        )
    })
}

/// Encrypt `plain` to `to`.
pub fn encrypt(plain: &[u8], to: &age::x25519::Recipient) -> Result<Vec<u8>> {
    let fail = |e: &dyn std::fmt::Display| Error::Database(format!("encrypting the backup: {e}"));
    let enc = age::Encryptor::with_recipients(std::iter::once(to as &dyn age::Recipient))
        .map_err(|e| fail(&e))?;
    let mut out = Vec::with_capacity(plain.len() + 1024);
    let mut w = enc.wrap_output(&mut out).map_err(|e| fail(&e))?;
    w.write_all(plain).map_err(|e| fail(&e))?;
    w.finish().map_err(|e| fail(&e))?;
    Ok(out)
}

pub async fn download(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    let lang = who.lang;
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    if !who.session.actor.may(Action::Backup) {
        return pages::forbidden(lang);
    }
    let Some(to) = app
        .backup_recipient
        .as_deref()
        .and_then(|r| recipient(r).ok())
    else {
        return pages::not_found_page(lang);
    };
    let actor = who.session.actor.clone();
    let day = app.clock.today();
    let app2 = app.clone();
    let result = app
        .heavy(move || {
            let mut conn = app2.store.connect()?;
            let conn = &mut conn;
            let dir = crate::store::private_temp_dir(conn)?;
            let file = dir.path().join("backup.sqlite");
            crate::register::backup(conn, &actor, &file)?;
            let plain = zeroize::Zeroizing::new(
                std::fs::read(&file)
                    .map_err(|e| Error::io(&file, format!("reading the copy: {e}")))?,
            );
            drop(dir);
            encrypt(&plain, &to)
        })
        .await;
    match result {
        Ok(bytes) => pages::attachment(
            bytes,
            "application/octet-stream",
            &format!("sustrack-backup-{day}.sqlite.age"),
        ),
        Err(e) => pages::error(lang, &e),
    }
}
