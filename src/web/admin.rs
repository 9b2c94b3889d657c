//! The admin's and coordinator's desk: interventions and their targets
//! (admins and coordinators), users (admins), and the backup (admins).
//! Every rule is the domain's (`register::intervention_add/_edit`,
//! `accounts`); a handler turns a form into its input and a refusal into
//! the form again with the field named.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use crate::accounts::{self, NewUser, User};
use crate::actor::{Action, Role};
use crate::codes::{Code, InterventionKind};
use crate::error::{Error, Field};
use crate::model::{parse_percent, Intervention};
use crate::store;

use super::app::Shared;
use super::csrf;
use super::forms::{Choice, Errors, Form};
use super::i18n;
use super::pages::{self, render, Frame};
use super::report::tree;
use super::session::SignedIn;

// ---- Interventions ----

pub struct TreeRow {
    pub depth: usize,
    pub i: Intervention,
    pub targets: String,
}

#[derive(Template)]
#[template(path = "admin_interventions.html")]
struct InterventionsPage {
    frame: Frame,
    errors: Errors,
    rows: Vec<TreeRow>,
    /// The add form (or, on the edit page, the edit form).
    f: InterventionForm,
    editing: bool,
}

pub struct InterventionForm {
    pub code: String,
    pub name: String,
    pub parents: Vec<Choice>,
    pub kinds: Vec<Choice>,
    pub target_work_studies: String,
    pub target_step: String,
    pub target_qol: String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{}", (x * 1000.0).round() / 10.0))
        .unwrap_or_default()
}

fn intervention_form(
    lang: crate::codes::Lang,
    all: &[Intervention],
    form: &Form,
    editing: Option<&Intervention>,
) -> InterventionForm {
    let pick = |name: &str, old: String| {
        if form.pairs().iter().any(|(k, _)| k == name) {
            form.get(name).to_string()
        } else {
            old
        }
    };
    let parent = pick(
        "parent",
        editing.and_then(|i| i.parent.clone()).unwrap_or_default(),
    );
    let kind = pick(
        "kind",
        editing.map_or("individual", |i| i.kind.code()).to_string(),
    );
    let mut parents = vec![Choice {
        value: String::new(),
        label: lang.pick("Ingen (högsta nivån)", "None (top level)").into(),
        selected: parent.is_empty(),
    }];
    // Under itself or under one of its own children is no choice: the
    // tree must stay a tree.
    let inside = |code: &str| {
        let Some(e) = editing else { return false };
        let mut at = Some(code.to_string());
        while let Some(c) = at {
            if c == e.code {
                return true;
            }
            at = all
                .iter()
                .find(|x| x.code == c)
                .and_then(|x| x.parent.clone());
        }
        false
    };
    for (depth, i) in tree(all) {
        if inside(&i.code) {
            continue;
        }
        parents.push(Choice {
            value: i.code.clone(),
            label: format!("{}{} {}", "– ".repeat(depth), i.code, i.name),
            selected: parent.eq_ignore_ascii_case(&i.code),
        });
    }
    let mut kinds = super::forms::choices::<InterventionKind>(lang, &kind, false);
    if kinds.iter().all(|c| !c.selected) {
        if let Some(c) = kinds.first_mut() {
            c.selected = true;
        }
    }
    InterventionForm {
        code: pick("code", editing.map(|i| i.code.clone()).unwrap_or_default()),
        name: pick("name", editing.map(|i| i.name.clone()).unwrap_or_default()),
        parents,
        kinds,
        target_work_studies: pick(
            "target_work_studies",
            pct(editing.and_then(|i| i.target_work_studies)),
        ),
        target_step: pick("target_step", pct(editing.and_then(|i| i.target_step))),
        target_qol: pick("target_qol", pct(editing.and_then(|i| i.target_qol))),
    }
}

async fn interventions_page(
    app: &Shared,
    who: &SignedIn,
    form: &Form,
    errors: Errors,
    editing: Option<String>,
) -> Response {
    let lang = who.lang;
    let all = match app.db(|conn| store::interventions::all(conn)).await {
        Ok(a) => a,
        Err(e) => return pages::error(lang, &e),
    };
    let current = match &editing {
        Some(code) => match all.iter().find(|i| i.code.eq_ignore_ascii_case(code)) {
            Some(i) => Some(i.clone()),
            None => return pages::not_found_page(lang),
        },
        None => None,
    };
    let rows = tree(&all)
        .into_iter()
        .map(|(depth, i)| TreeRow {
            depth: depth.min(3),
            targets: [
                (
                    lang.pick("arbete/studier", "work/studies"),
                    i.target_work_studies,
                ),
                (lang.pick("steg", "step"), i.target_step),
                (lang.pick("livskvalitet", "quality of life"), i.target_qol),
            ]
            .iter()
            .filter_map(|(n, v)| v.map(|v| format!("{n} {} %", pct(Some(v)))))
            .collect::<Vec<_>>()
            .join(", "),
            i: i.clone(),
        })
        .collect();
    let f = intervention_form(lang, &all, form, current.as_ref());
    let status = errors.status();
    let title = match &current {
        Some(i) => format!("{} {}", lang.pick("Ändra", "Edit"), i.code),
        None => lang.pick("Insatser", "Interventions").to_string(),
    };
    let back = match &current {
        Some(i) => format!("/admin/interventions/{}", i.code),
        None => "/admin/interventions".into(),
    };
    render(
        status,
        &InterventionsPage {
            frame: Frame::signed_in(who, title, &back).with_notice(saved_notice(form, lang)),
            errors,
            rows,
            f,
            editing: current.is_some(),
        },
    )
}

fn saved_notice(form: &Form, lang: crate::codes::Lang) -> Option<&'static str> {
    match form.opt("saved") {
        Some("add") => Some(lang.pick("Insatsen är tillagd.", "The intervention was added.")),
        Some("edit") => Some(lang.pick("Ändringen är sparad.", "The change was saved.")),
        Some("grant") => Some(lang.pick("Insatsen är tilldelad.", "The intervention was granted.")),
        Some("revoke") => Some(lang.pick("Tilldelningen är borttagen.", "The grant was revoked.")),
        Some("disable") => Some(lang.pick(
            "Kontot är avstängt och dess sessioner avslutade.",
            "The account is disabled and its sessions ended.",
        )),
        Some("eid-confirm") => Some(lang.pick(
            "E-legitimationen är bekräftad. Användaren kan nu logga in med den.",
            "The e-ID is confirmed. The user can now sign in with it.",
        )),
        Some("eid-remove") => Some(lang.pick(
            "E-legitimationen är borttagen från kontot och dess sessioner avslutade. Användaren behöver en ny inloggningslänk (Stäng av eller ny länk) för att koppla en e-legitimation igen.",
            "The e-ID was removed from the account and its sessions ended. The user needs a new enrolment link (Disable or new link) to link an e-ID again.",
        )),
        _ => None,
    }
}

pub async fn interventions(
    State(app): State<Shared>,
    who: SignedIn,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    if !who.session.actor.may(Action::ManageInterventions) {
        return pages::forbidden(who.lang);
    }
    interventions_page(
        &app,
        &who,
        &Form::from_query(q.as_deref()),
        Errors::new(),
        None,
    )
    .await
}

pub async fn intervention(
    State(app): State<Shared>,
    who: SignedIn,
    Path(code): Path<String>,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    if !who.session.actor.may(Action::ManageInterventions) {
        return pages::forbidden(who.lang);
    }
    interventions_page(
        &app,
        &who,
        &Form::from_query(q.as_deref()),
        Errors::new(),
        Some(code),
    )
    .await
}

/// The intervention a form describes; field refusals go to `errors`.
fn parse_intervention(
    form: &Form,
    code: String,
    t: &i18n::Texts,
    errors: &mut Errors,
) -> Intervention {
    let mut target = |name: &'static str, field: Field| {
        form.opt(name).and_then(|s| match parse_percent(s, field) {
            Ok(v) => Some(v),
            Err(e) => {
                let _ = errors.domain(t, e);
                None
            }
        })
    };
    let (tw, ts, tq) = (
        target("target_work_studies", Field::TargetWorkStudies),
        target("target_step", Field::TargetStep),
        target("target_qol", Field::TargetQol),
    );
    let kind = match InterventionKind::parse(form.get("kind")) {
        Ok(k) => k,
        Err(e) => {
            errors.refuse("kind", i18n::label(t, "kind"), &e.value, &e.accepted);
            InterventionKind::Individual
        }
    };
    Intervention {
        code,
        name: form.get("name").to_string(),
        parent: form.opt("parent").map(str::to_string),
        kind,
        target_work_studies: tw,
        target_step: ts,
        target_qol: tq,
    }
}

/// A domain refusal on the intervention form: the field named, or the
/// form's own message (an unknown parent is the parent field's).
fn intervention_refusal(errors: &mut Errors, t: &i18n::Texts, e: Error) -> Result<(), Error> {
    match e {
        Error::NotFound(m) if m.starts_with("parent: ") => {
            errors.add(
                "parent",
                format!("{} {}", i18n::label(t, "parent"), &m[8..]),
            );
            Ok(())
        }
        Error::Invalid {
            field: Some(Field::Code),
            reason,
        } => {
            errors.add(
                "code",
                format!(
                    "{} {reason}",
                    if t.lang_code == "sv" { "Kod" } else { "Code" }
                ),
            );
            Ok(())
        }
        e => errors.domain(t, e),
    }
}

pub async fn intervention_add(State(app): State<Shared>, who: SignedIn, form: Form) -> Response {
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    if !who.session.actor.may(Action::ManageInterventions) {
        return pages::forbidden(lang);
    }
    let mut errors = Errors::new();
    let i = parse_intervention(&form, form.get("code").to_string(), t, &mut errors);
    if !errors.is_empty() {
        return interventions_page(&app, &who, &form, errors, None).await;
    }
    let actor = who.session.actor.clone();
    let code = i.code.clone();
    match app
        .db(move |conn| store::write(conn, |tx| crate::register::intervention_add(tx, &actor, i)))
        .await
    {
        Ok(()) => Redirect::to(&format!(
            "/admin/interventions?saved=add#row-{}",
            code.trim().to_ascii_uppercase()
        ))
        .into_response(),
        Err(e) => match intervention_refusal(&mut errors, t, e) {
            Ok(()) => interventions_page(&app, &who, &form, errors, None).await,
            Err(e) => pages::error(lang, &e),
        },
    }
}

pub async fn intervention_edit(
    State(app): State<Shared>,
    who: SignedIn,
    Path(code): Path<String>,
    form: Form,
) -> Response {
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    if !who.session.actor.may(Action::ManageInterventions) {
        return pages::forbidden(lang);
    }
    let mut errors = Errors::new();
    let i = parse_intervention(&form, code.clone(), t, &mut errors);
    if !errors.is_empty() {
        return interventions_page(&app, &who, &form, errors, Some(code)).await;
    }
    let actor = who.session.actor.clone();
    match app
        .db(move |conn| store::write(conn, |tx| crate::register::intervention_edit(tx, &actor, i)))
        .await
    {
        Ok(()) => Redirect::to(&format!(
            "/admin/interventions/{}?saved=edit",
            code.trim().to_ascii_uppercase()
        ))
        .into_response(),
        Err(e) => match intervention_refusal(&mut errors, t, e) {
            Ok(()) => interventions_page(&app, &who, &form, errors, Some(code)).await,
            Err(e) => pages::error(lang, &e),
        },
    }
}

// ---- Users ----

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    frame: Frame,
    errors: Errors,
    users: Vec<User>,
    login: String,
    full_name: String,
    roles: Vec<Choice>,
    picks: Vec<super::report::Pick>,
    /// The enrolment link just made, shown once.
    link: Option<(String, String)>,
    /// Grants are offered to staff only.
    staff_role: Role,
    /// The signed-in admin (no disable or reset of oneself).
    me: String,
}

impl UsersPage {
    fn role_name(&self, r: &Role) -> &'static str {
        role_label(*r, self.frame.t.lang())
    }
}

fn role_label(r: Role, lang: crate::codes::Lang) -> &'static str {
    match r {
        Role::Owner => lang.pick("ägare", "owner"),
        Role::Admin => lang.pick("administratör", "admin"),
        Role::Coordinator => lang.pick("samordnare", "coordinator"),
        Role::Staff => lang.pick("handläggare (deltagaransvarig)", "staff"),
        Role::Auditor => lang.pick("granskare", "auditor"),
    }
}

/// The server's own address for the enrolment link: the public URL when
/// given, else the address this request came to.
fn base_url(app: &Shared, headers: &HeaderMap) -> String {
    if let Some(o) = &app.origin {
        return o.clone();
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '-' | '[' | ']'))
        })
        .unwrap_or("localhost");
    format!("{}://{host}", if app.secure { "https" } else { "http" })
}

async fn users_page(
    app: &Shared,
    who: &SignedIn,
    form: &Form,
    errors: Errors,
    link: Option<(String, String)>,
) -> Response {
    let lang = who.lang;
    let actor = who.session.actor.clone();
    let users = match app.db(move |conn| accounts::list(conn, &actor)).await {
        Ok(u) => u,
        Err(e) => return pages::error(lang, &e),
    };
    let all = match app.db(|conn| store::interventions::all(conn)).await {
        Ok(a) => a,
        Err(e) => return pages::error(lang, &e),
    };
    let sel = super::report::selected(form);
    let picks = super::report::Pick::tree_of(&all, &sel);
    let chosen: Vec<&str> = form
        .pairs()
        .iter()
        .filter(|(k, _)| k == "role")
        .map(|(_, v)| v.as_str())
        .collect();
    let roles = Role::USER_ROLES
        .iter()
        .map(|r| Choice {
            value: r.code().into(),
            label: role_label(*r, lang).into(),
            selected: chosen.contains(&r.code()),
        })
        .collect();
    let status = errors.status();
    render(
        status,
        &UsersPage {
            frame: Frame::signed_in(who, lang.pick("Användare", "Users"), "/admin/users")
                .with_notice(saved_notice(form, lang)),
            errors,
            users,
            login: if link.is_some() {
                String::new()
            } else {
                form.get("login").to_string()
            },
            full_name: if link.is_some() {
                String::new()
            } else {
                form.get("name").to_string()
            },
            roles,
            picks,
            link,
            staff_role: Role::Staff,
            me: who.session.actor.login.clone(),
        },
    )
}

pub async fn users(
    State(app): State<Shared>,
    who: SignedIn,
    axum::extract::RawQuery(q): axum::extract::RawQuery,
) -> Response {
    if !who.session.actor.may(Action::ManageUsers) {
        return pages::forbidden(who.lang);
    }
    users_page(
        &app,
        &who,
        &Form::from_query(q.as_deref()),
        Errors::new(),
        None,
    )
    .await
}

/// Map an account refusal to the users form.
fn user_refusal(errors: &mut Errors, t: &i18n::Texts, e: Error) -> Result<(), Error> {
    match e {
        Error::Invalid {
            field: Some(Field::Role),
            reason,
        } => {
            errors.add("role", format!("{} {reason}", i18n::label(t, "role")));
            Ok(())
        }
        Error::Invalid {
            field: Some(Field::Login),
            reason,
        } => {
            errors.add("login", format!("{} {reason}", t.login));
            Ok(())
        }
        Error::Forbidden(m) => {
            errors.add("", m);
            Ok(())
        }
        Error::NotFound(m) => {
            errors.add("intervention", m);
            Ok(())
        }
        e => errors.domain(t, e),
    }
}

pub async fn user_add(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    form: Form,
) -> Response {
    let (lang, t) = (who.lang, i18n::texts(who.lang));
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    if !who.session.actor.may(Action::ManageUsers) {
        return pages::forbidden(lang);
    }
    let mut errors = Errors::new();
    let mut roles = Vec::new();
    for (k, v) in form.pairs() {
        if k == "role" {
            match Role::parse(v) {
                Some(r) if !roles.contains(&r) => roles.push(r),
                Some(_) => {}
                None => errors.refuse(
                    "role",
                    i18n::label(t, "role"),
                    v,
                    lang.pick(
                        "giltiga roller är admin, coordinator, staff och auditor",
                        "accepted are admin, coordinator, staff, auditor",
                    ),
                ),
            }
        }
    }
    let login = match accounts::parse_login(form.get("login")) {
        Ok(l) => l,
        Err(e) => {
            let _ = user_refusal(&mut errors, t, e);
            String::new()
        }
    };
    if !errors.is_empty() {
        return users_page(&app, &who, &form, errors, None).await;
    }
    let u = NewUser {
        login: login.clone(),
        name: form.opt("name").map(str::to_string),
        roles,
        grants: super::report::selected(&form),
    };
    let actor = who.session.actor.clone();
    let now = app.clock.now();
    match app
        .db(move |conn| store::write(conn, |tx| accounts::add(tx, &actor, now, u)))
        .await
    {
        Ok((user, token)) => {
            let link = format!("{}/enrol/{}", base_url(&app, &headers), token.0);
            users_page(&app, &who, &Form::empty(), errors, Some((user.login, link))).await
        }
        Err(e) => match user_refusal(&mut errors, t, e) {
            Ok(()) => users_page(&app, &who, &form, errors, None).await,
            Err(e) => pages::error(lang, &e),
        },
    }
}

/// One of the account actions on the users page (`disable`, `reset`,
/// `grant`, `revoke`), named in the path.
pub async fn user_action(
    State(app): State<Shared>,
    who: SignedIn,
    headers: HeaderMap,
    Path((login, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    let lang = who.lang;
    if !csrf::same(form.csrf(), &who.session.csrf) {
        return pages::forbidden_csrf(lang);
    }
    if !who.session.actor.may(Action::ManageUsers) {
        return pages::forbidden(lang);
    }
    let actor = who.session.actor.clone();
    let now = app.clock.now();
    let code = form.get("intervention").to_string();
    // The e-ID binding the admin saw (its time), so that a confirmation
    // confirms that one and no other.
    let seen = form.get("asserted_at").to_string();
    let l2 = login.clone();
    let result = match action.as_str() {
        "disable" => app
            .db(move |conn| store::write(conn, |tx| accounts::disable(tx, &actor, &l2)))
            .await
            .map(|()| None),
        "reset" => app
            .db(move |conn| store::write(conn, |tx| accounts::reset(tx, &actor, now, &l2)))
            .await
            .map(Some),
        "grant" => app
            .db(move |conn| store::write(conn, |tx| accounts::grant(tx, &actor, &l2, &code)))
            .await
            .map(|()| None),
        "revoke" => app
            .db(move |conn| store::write(conn, |tx| accounts::revoke(tx, &actor, &l2, &code)))
            .await
            .map(|()| None),
        "eid-confirm" => app
            .db(move |conn| {
                store::write(conn, |tx| {
                    accounts::eid::confirm(tx, &actor, now, &l2, Some(seen.as_str()))
                })
            })
            .await
            .map(|()| None),
        "eid-remove" => app
            .db(move |conn| store::write(conn, |tx| accounts::eid::remove(tx, &actor, &l2)))
            .await
            .map(|()| None),
        _ => return pages::not_found_page(lang),
    };
    let mut errors = Errors::new();
    match result {
        Ok(Some(token)) => {
            let link = format!("{}/enrol/{}", base_url(&app, &headers), token.0);
            users_page(&app, &who, &Form::empty(), errors, Some((login, link))).await
        }
        Ok(None) => Redirect::to(&format!("/admin/users?saved={action}")).into_response(),
        Err(Error::NotFound(m))
            if ["revoke", "grant", "eid-confirm", "eid-remove"].contains(&action.as_str()) =>
        {
            errors.add("", crate::identity::scrub(&m).into_owned());
            users_page(&app, &who, &Form::empty(), errors, None).await
        }
        Err(e @ Error::NotFound(_)) => pages::error(lang, &e),
        // The refusal is about the row acted on, not the add form's
        // fields: a message for the page, with the user it concerns.
        Err(Error::Invalid { reason, .. } | Error::Conflict(reason) | Error::Forbidden(reason)) => {
            errors.add("", format!("{login}: {}", crate::identity::scrub(&reason)));
            users_page(&app, &who, &Form::empty(), errors, None).await
        }
        Err(e) => pages::error(lang, &e),
    }
}
