//! The evaluator export (coordinators): period, interventions, k and an
//! optional key file uploaded with the form. The key is used in memory for
//! this export only and never stored. The CSV is what `sustrack export`
//! writes for the same options; the page shows its counts (rows
//! generalised and left out) and offers the file, kept for this session
//! for 15 minutes (`stash`).

use askama::Template;
use axum::extract::{FromRequest, Request, State};
use axum::response::Response;

use crate::actor::Action;
use crate::error::Error;

use super::app::Shared;
use super::forms::{Errors, Form};
use super::i18n;
use super::pages::{self, render, Frame};
use super::report::{self, Pick};
use super::session::SignedIn;
use super::stash::{self, Kind};
use super::upload::Upload;

pub struct Done {
    pub rows: u64,
    pub coarsened: u64,
    pub generalised: u64,
    pub left_out: u64,
    pub key_kept: bool,
    pub file_name: String,
}

#[derive(Template)]
#[template(path = "export.html")]
struct ExportPage {
    frame: Frame,
    errors: Errors,
    year: String,
    from: String,
    to: String,
    k: String,
    picks: Vec<Pick>,
    done: Option<Done>,
}

async fn show(
    app: &Shared,
    who: &SignedIn,
    form: &Form,
    errors: Errors,
    done: Option<Done>,
) -> Response {
    let picks = match report::picks(app, who, Action::Export, &report::selected(form)).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let year = report::year_shown(form, app.clock.today());
    let status = errors.status();
    render(
        status,
        &ExportPage {
            frame: Frame::signed_in(who, who.lang.pick("Export", "Export"), "/export"),
            errors,
            year,
            from: form.get("from").to_string(),
            to: form.get("to").to_string(),
            k: form.opt("k").unwrap_or("5").to_string(),
            picks,
            done,
        },
    )
}

pub async fn form(State(app): State<Shared>, who: SignedIn) -> Response {
    if !who.session.actor.may(Action::Export) {
        return pages::forbidden(who.lang);
    }
    show(&app, &who, &Form::empty(), Errors::new(), None).await
}

pub async fn run(State(app): State<Shared>, who: SignedIn, req: Request) -> Response {
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    // The role first: a body is not read for someone who may not send it.
    if !who.session.actor.may(Action::Export) {
        return pages::forbidden(lang);
    }
    let upload = match Upload::from_request(req, &app).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !super::csrf::same(upload.form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    let form = &upload.form;
    let mut errors = Errors::new();
    let period = report::period(form, app.clock.today(), t, &mut errors);
    let k = match form.opt("k").unwrap_or("5").parse::<u32>() {
        Ok(k) if k >= 1 => Some(k),
        _ => {
            errors.refuse(
                "k",
                i18n::label(t, "k"),
                form.get("k"),
                lang.pick(
                    "ange ett heltal, 1 eller mer (5 rekommenderas)",
                    "enter a whole number, 1 or more (5 recommended)",
                ),
            );
            None
        }
    };
    let key = if upload.file.is_empty() {
        None
    } else {
        match crate::export::parse_key(&upload.file) {
            Some(k) => Some(k),
            None => {
                errors.add(
                    "key_file",
                    format!(
                        "{}: {}",
                        i18n::label(t, "key_file"),
                        lang.pick(
                            "är inte en nyckelfil från sustrack (64 hexadecimala tecken, som sustrack keygen skriver)",
                            "is not a sustrack key file (64 hex digits, as written by sustrack keygen)"
                        )
                    ),
                );
                None
            }
        }
    };
    let (Some(period), Some(k), true) = (period, k, errors.is_empty()) else {
        return show(&app, &who, form, errors, None).await;
    };
    let interventions = report::selected(form);
    let key_kept = key.is_some();
    let opts = crate::export::ExportOptions {
        period,
        interventions: interventions.clone(),
        key: key.unwrap_or_else(crate::export::ephemeral_key),
        key_is_kept: key_kept,
        k,
    };
    let actor = who.session.actor.clone();
    let app2 = app.clone();
    let result = app
        .heavy(move || {
            let mut out = Vec::new();
            crate::export::run(&app2.store, &actor, &opts, &mut out).map(|s| (s, out))
        })
        .await;
    match result {
        Ok((s, csv)) => {
            let file_name = report::file_name("sustrack-export", &period, &interventions, "csv");
            if stash::put(
                &app,
                &who,
                Kind::Export,
                zeroize::Zeroizing::new(csv),
                file_name.clone(),
            )
            .is_none()
            {
                errors.add(
                    "",
                    lang.pick(
                        "Exporten kan inte hållas för nedladdning just nu: servern håller redan många filer, eller din del av minnet är full. Försök igen om en stund, välj en kortare period, eller gör exporten med sustrack export på servern.",
                        "The export cannot be kept for download just now: the server already holds many files, or your share of its memory is full. Try again in a while, choose a shorter period, or make the export with sustrack export on the server.",
                    ),
                );
                return show(&app, &who, form, errors, None).await;
            }
            let done = Done {
                rows: s.rows,
                coarsened: s.coarsened,
                generalised: s.generalised,
                left_out: s.left_out,
                key_kept,
                file_name,
            };
            show(&app, &who, form, errors, Some(done)).await
        }
        Err(e @ (Error::Invalid { .. } | Error::Conflict(_))) => {
            if let Err(other) = errors.domain(t, e) {
                return pages::error(lang, &other);
            }
            show(&app, &who, form, errors, None).await
        }
        Err(e) => pages::error(lang, &e),
    }
}

/// The CSV of this session's last export.
pub async fn file(State(app): State<Shared>, who: SignedIn) -> Response {
    if !who.session.actor.may(Action::Export) {
        return pages::forbidden(who.lang);
    }
    match stash::copy(&app, &who, Kind::Export) {
        Some((bytes, name)) => pages::attachment(bytes, "text/csv; charset=utf-8", &name),
        None => pages::export_gone(who.lang),
    }
}
