//! Every path the server answers, in one table. The router is built from
//! it, and the HTTP tests walk it for every role: a route cannot exist
//! without saying who may use it.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, MethodRouter};
use axum::Router;

use crate::actor::Action;

use super::app::Shared;
use super::{
    admin, auth, backup, beyond, desk, export, forms, headers, import, info, oidc, pages, records,
    report, staff, upload,
};

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
    EidStart,
    EidEnrol,
    EidCallback,
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
    Accessibility,
    Privacy,
    ExportForm,
    Export,
    ExportFile,
    ImportForm,
    Import,
    ImportConfirm,
    ImportStatus,
    Log,
    Interventions,
    InterventionAdd,
    InterventionForm,
    InterventionEdit,
    Users,
    UserAdd,
    UserAction,
    BackupForm,
    Backup,
    RightsForm,
    Rights,
    Records,
    Publish,
    Purge,
    PublishedFile,
    Quality,
    ActivitiesHome,
    Activities,
    ActivityAdd,
    ReferralAdd,
    ReferralForm,
    ReferralDecide,
    Budgets,
    BudgetSet,
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
    /// `Action::Export`: coordinators.
    Export,
    /// Staff (registrations of their own interventions) and those who
    /// manage interventions (interventions, targets and volumes files):
    /// [`may_import`].
    Import,
    /// `Action::ManageInterventions`: admins and coordinators.
    ManageInterventions,
    /// `Action::ManageUsers`: admins.
    ManageUsers,
    /// `Action::ReadAudit`: admins, coordinators and auditors.
    ReadAudit,
    /// `Action::Backup`: admins.
    Backup,
    /// `Action::Publish`: coordinators (publishing, retention).
    Publish,
    /// `Action::Beyond`: activities and referrals, coordinators all,
    /// staff their own.
    Beyond,
    /// `Action::Budget`: coordinators.
    Budget,
}

/// Whether the import page is open to this user: each row is then
/// checked by the domain as the CLI checks it (a registration needs
/// `Register` in its intervention, an intervention row
/// `ManageInterventions`).
pub fn may_import(actor: &crate::actor::Actor) -> bool {
    actor.may(Action::Register)
        || actor.may(Action::ManageInterventions)
        || actor.may(Action::Beyond)
        || actor.may(Action::Budget)
}

impl Who {
    /// Whether a signed-in user passes this route's gate. The domain
    /// checks again, per intervention, behind it.
    pub fn admits(self, actor: &crate::actor::Actor) -> bool {
        match self {
            Who::Anyone | Who::SignedIn => true,
            Who::Register => actor.may(Action::Register),
            Who::ReadEnrolments => actor.may(Action::ReadEnrolments),
            Who::Report => actor.may(Action::Report),
            Who::Export => actor.may(Action::Export),
            Who::Import => may_import(actor),
            Who::ManageInterventions => actor.may(Action::ManageInterventions),
            Who::ManageUsers => actor.may(Action::ManageUsers),
            Who::ReadAudit => actor.may(Action::ReadAudit),
            Who::Backup => actor.may(Action::Backup),
            Who::Publish => actor.may(Action::Publish),
            Who::Beyond => actor.may(Action::Beyond),
            Who::Budget => actor.may(Action::Budget),
        }
    }
}

pub struct Route {
    pub page: Page,
    pub method: &'static str,
    /// `{id}` is an enrolment id, `{code}` an intervention code, `{token}`
    /// an enrolment link's token, `{referral}` a referral id.
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
    r(Page::EidStart, "GET", "/login/oidc", Who::Anyone),
    r(Page::EidEnrol, "GET", "/enrol/{token}/oidc", Who::Anyone),
    r(
        Page::EidCallback,
        "GET",
        "/login/oidc/callback",
        Who::Anyone,
    ),
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
    r(Page::Accessibility, "GET", "/accessibility", Who::Anyone),
    r(Page::Privacy, "GET", "/privacy", Who::Anyone),
    r(Page::ExportForm, "GET", "/export", Who::Export),
    r(Page::Export, "POST", "/export", Who::Export),
    r(Page::ExportFile, "GET", "/export/file", Who::Export),
    r(Page::ImportForm, "GET", "/import", Who::Import),
    r(Page::Import, "POST", "/import", Who::Import),
    r(Page::ImportConfirm, "POST", "/import/confirm", Who::Import),
    r(Page::ImportStatus, "GET", "/import/status", Who::Import),
    r(Page::Log, "GET", "/log", Who::ReadAudit),
    r(
        Page::Interventions,
        "GET",
        "/admin/interventions",
        Who::ManageInterventions,
    ),
    r(
        Page::InterventionAdd,
        "POST",
        "/admin/interventions",
        Who::ManageInterventions,
    ),
    r(
        Page::InterventionForm,
        "GET",
        "/admin/interventions/{code}",
        Who::ManageInterventions,
    ),
    r(
        Page::InterventionEdit,
        "POST",
        "/admin/interventions/{code}",
        Who::ManageInterventions,
    ),
    r(Page::Users, "GET", "/admin/users", Who::ManageUsers),
    r(Page::UserAdd, "POST", "/admin/users", Who::ManageUsers),
    r(
        Page::UserAction,
        "POST",
        "/admin/users/{login}/{action}",
        Who::ManageUsers,
    ),
    r(Page::BackupForm, "GET", "/admin/backup", Who::Backup),
    r(Page::Backup, "POST", "/admin/backup", Who::Backup),
    r(Page::RightsForm, "GET", "/rights", Who::Register),
    r(Page::Rights, "POST", "/rights", Who::Register),
    r(Page::Records, "GET", "/records", Who::Publish),
    r(Page::Publish, "POST", "/records/publish", Who::Publish),
    r(Page::Purge, "POST", "/records/purge", Who::Publish),
    r(
        Page::PublishedFile,
        "GET",
        "/records/published",
        Who::Publish,
    ),
    r(Page::Quality, "GET", "/quality", Who::ReadEnrolments),
    r(Page::ActivitiesHome, "GET", "/activities", Who::Beyond),
    r(Page::Activities, "GET", "/activities/{code}", Who::Beyond),
    r(Page::ActivityAdd, "POST", "/activities/{code}", Who::Beyond),
    r(
        Page::ReferralAdd,
        "POST",
        "/activities/{code}/referrals",
        Who::Beyond,
    ),
    r(
        Page::ReferralForm,
        "GET",
        "/referrals/{referral}",
        Who::Beyond,
    ),
    r(
        Page::ReferralDecide,
        "POST",
        "/referrals/{referral}",
        Who::Beyond,
    ),
    r(Page::Budgets, "GET", "/budgets", Who::Budget),
    r(Page::BudgetSet, "POST", "/budgets", Who::Budget),
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
        Page::EidStart => get(oidc::start),
        Page::EidEnrol => get(oidc::enrol_start),
        Page::EidCallback => get(oidc::callback),
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
        Page::Accessibility => get(info::accessibility),
        Page::Privacy => get(info::privacy),
        Page::ExportForm => get(export::form),
        Page::Export => post(export::run).layer(DefaultBodyLimit::max(upload::UPLOAD_LIMIT)),
        Page::ExportFile => get(export::file),
        Page::ImportForm => get(import::form),
        Page::Import => post(import::dry_run).layer(DefaultBodyLimit::max(upload::UPLOAD_LIMIT)),
        Page::ImportConfirm => post(import::confirm),
        Page::ImportStatus => get(import::status),
        Page::Log => get(desk::page),
        Page::Interventions => get(admin::interventions),
        Page::InterventionAdd => post(admin::intervention_add),
        Page::InterventionForm => get(admin::intervention),
        Page::InterventionEdit => post(admin::intervention_edit),
        Page::Users => get(admin::users),
        Page::UserAdd => post(admin::user_add),
        Page::UserAction => post(admin::user_action),
        Page::BackupForm => get(backup::form),
        Page::Backup => post(backup::download),
        Page::RightsForm => get(records::rights_form),
        Page::Rights => post(records::rights),
        Page::Records => get(records::records),
        Page::Publish => post(records::publish_period),
        Page::Purge => post(records::purge_run),
        Page::PublishedFile => get(records::published_file),
        Page::Quality => get(records::quality),
        Page::ActivitiesHome => get(beyond::home),
        Page::Activities => get(beyond::page),
        Page::ActivityAdd => post(beyond::activity_add),
        Page::ReferralAdd => post(beyond::referral_add),
        Page::ReferralForm => get(beyond::referral),
        Page::ReferralDecide => post(beyond::decide),
        Page::Budgets => get(beyond::budgets),
        Page::BudgetSet => post(beyond::budget_set),
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
