//! Every path the server answers, in one table. The router is built from
//! it, and the HTTP tests walk it for every role: a route cannot exist
//! without saying who may use it.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, MethodRouter};
use axum::Router;

use super::app::Shared;
use super::{auth, forms, headers, pages, report, staff};

/// Which page a route serves (one handler each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Healthz,
    Stylesheet,
    Script,
    LoginForm,
    Login,
    Logout,
    EnrolForm,
    Enrol,
    Lang,
    Home,
    Intervention,
    StartForm,
    Start,
    Exit,
    Enrolment,
    ExitForm,
    EditForm,
    Edit,
    Reopen,
    DeleteForm,
    Delete,
    FindForm,
    Find,
    Report,
}

/// Who may use a route: the HTTP tests derive every expected status from
/// this (SPEC section 11's role table, as `Actor::scope` implements it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// No sign-in needed and no data shown.
    Anyone,
    /// Any signed-in user (their own home page, signing out, language).
    SignedIn,
    /// `Action::Register`: staff, in their own interventions.
    Register,
    /// `Action::ReadEnrolments`: coordinators, staff in their own.
    ReadEnrolments,
    /// `Action::Report`: coordinators, staff in their own.
    Report,
}

pub struct Route {
    pub page: Page,
    pub method: &'static str,
    /// `{id}` is an enrolment id, `{code}` an intervention code, `{token}`
    /// an enrolment link's token.
    pub path: &'static str,
    pub who: Who,
}

const fn r(page: Page, method: &'static str, path: &'static str, who: Who) -> Route {
    Route {
        page,
        method,
        path,
        who,
    }
}

pub const ROUTES: &[Route] = &[
    r(Page::Healthz, "GET", "/healthz", Who::Anyone),
    r(Page::Stylesheet, "GET", "/static/app.css", Who::Anyone),
    r(Page::Script, "GET", "/static/app.js", Who::Anyone),
    r(Page::LoginForm, "GET", "/login", Who::Anyone),
    r(Page::Login, "POST", "/login", Who::Anyone),
    r(Page::EnrolForm, "GET", "/enrol/{token}", Who::Anyone),
    r(Page::Enrol, "POST", "/enrol/{token}", Who::Anyone),
    r(Page::Lang, "POST", "/lang", Who::Anyone),
    r(Page::Logout, "POST", "/logout", Who::SignedIn),
    r(Page::Home, "GET", "/", Who::SignedIn),
    r(
        Page::Intervention,
        "GET",
        "/interventions/{code}",
        Who::ReadEnrolments,
    ),
    r(Page::StartForm, "GET", "/start", Who::Register),
    r(Page::Start, "POST", "/start", Who::Register),
    r(Page::Exit, "POST", "/exit", Who::Register),
    r(
        Page::Enrolment,
        "GET",
        "/enrolments/{id}",
        Who::ReadEnrolments,
    ),
    r(
        Page::ExitForm,
        "GET",
        "/enrolments/{id}/exit",
        Who::Register,
    ),
    r(
        Page::EditForm,
        "GET",
        "/enrolments/{id}/edit",
        Who::Register,
    ),
    r(Page::Edit, "POST", "/enrolments/{id}/edit", Who::Register),
    r(
        Page::Reopen,
        "POST",
        "/enrolments/{id}/reopen",
        Who::Register,
    ),
    r(
        Page::DeleteForm,
        "GET",
        "/enrolments/{id}/delete",
        Who::Register,
    ),
    r(
        Page::Delete,
        "POST",
        "/enrolments/{id}/delete",
        Who::Register,
    ),
    r(Page::FindForm, "GET", "/find", Who::Register),
    r(Page::Find, "POST", "/find", Who::Register),
    r(Page::Report, "GET", "/report", Who::Report),
];

fn handler(page: Page) -> MethodRouter<Shared> {
    match page {
        Page::Healthz => get(pages::healthz),
        Page::Stylesheet => get(pages::stylesheet),
        Page::Script => get(pages::script),
        Page::LoginForm => get(auth::login_form),
        Page::Login => post(auth::login),
        Page::Logout => post(auth::logout),
        Page::EnrolForm => get(auth::enrol_form),
        Page::Enrol => post(auth::enrol),
        Page::Lang => post(auth::lang),
        Page::Home => get(staff::home),
        Page::Intervention => get(staff::intervention),
        Page::StartForm => get(staff::start_form),
        Page::Start => post(staff::start),
        Page::Exit => post(staff::exit),
        Page::Enrolment => get(staff::enrolment),
        Page::ExitForm => get(staff::exit_form),
        Page::EditForm => get(staff::edit_form),
        Page::Edit => post(staff::edit),
        Page::Reopen => post(staff::reopen),
        Page::DeleteForm => get(staff::delete_form),
        Page::Delete => post(staff::delete),
        Page::FindForm => get(staff::find_form),
        Page::Find => post(staff::find),
        Page::Report => get(report::page),
    }
}

pub fn router(app: Shared) -> Router {
    let mut router: Router<Shared> = Router::new();
    let mut paths: Vec<&str> = ROUTES.iter().map(|r| r.path).collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let methods = ROUTES
            .iter()
            .filter(|r| r.path == path)
            .map(|r| handler(r.page))
            .reduce(MethodRouter::merge)
            .expect("a path comes from a route");
        router = router.route(path, methods.fallback(pages::method_not_allowed));
    }
    router
        .fallback(pages::not_found)
        // Bodies are read by `forms::Form`, which answers 413 past its
        // own limit; this is the transport's ceiling above it.
        .layer(DefaultBodyLimit::max(forms::FORM_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            headers::security,
        ))
        .with_state(app)
}
