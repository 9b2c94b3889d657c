//! The web front end (`sustrack serve`, SPEC section 11). No SQL and no
//! rule lives here: a handler parses a form into the domain's typed input,
//! calls `register`, `accounts` or `report` with the signed-in [`Actor`],
//! and maps a domain [`Field`](crate::error::Field) to its form field.
//!
//! One concern per file: `app` (shared state, the database and hashing off
//! the request threads), `routes` (the one table of paths), `headers`
//! (security headers on every response), `session` (the cookie and the
//! signed-in extractor), `csrf`, `forms` (parsing bodies and error
//! summaries), `i18n` (Swedish and English texts), `pages` (the shared page
//! frame and error pages), `resume` (a form sent after its session ended),
//! then one file per page group: `auth`, `staff`, `report`, `beyond`
//! (activities, referrals and budgets), and the others.
//!
//! [`Actor`]: crate::actor::Actor

mod admin;
mod app;
mod auth;
mod backup;
mod beyond;
mod csrf;
mod desk;
mod export;
mod forms;
mod headers;
mod i18n;
mod import;
mod info;
mod oidc;
mod pages;
mod records;
mod report;
mod resume;
mod routes;
mod session;
mod staff;
mod stash;
mod upload;

pub use app::{serve, Clock, Options, Running};
pub use oidc::OidcOptions;
pub use routes::{Page, Route, Who, ROUTES};
