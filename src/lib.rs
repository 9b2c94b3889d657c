//! sustrack: participant follow-up for Swedish samordningsförbund.
//!
//! One core, several front ends (SPEC section 14). Layers, from the outside in:
//! - front ends: `cli` (clap, dispatch, printing) and, as a front end over a
//!   file, `import`'s reading of spreadsheets. A front end parses, calls the
//!   domain and presents; it holds no rule and no SQL, and maps the domain's
//!   [`error::Field`] to its own words (a flag, a column, a form field).
//! - the domain: `register` (every rule of start/exit/edit/delete/erase,
//!   consent, ranges, and the audit of changes and of reads that show
//!   data), `report` (tables, indicators, suppression), `export`
//!   (pseudonyms, k-anonymity), `import` (applying rows through
//!   `register`), `check`, `generate`. Each call takes the [`actor::Actor`]
//!   it acts for.
//! - `identity`: where a personnummer is parsed and reduced to a
//!   fingerprint; nothing past it ever sees the number.
//! - `store`: the only SQL. Opens and migrates a file once
//!   ([`store::Store`]), hands out connections and consistent read
//!   snapshots, one function per query.
//!
//! `codes`, `kommun` and `model` hold the value types all layers share;
//! `error` the one error type; `parallel` the one helper for scans on all
//! cores.

pub mod accounts;
pub mod actor;
pub mod beyond;
pub mod check;
pub mod cli;
pub mod codes;
pub mod demo;
pub mod error;
pub mod export;
pub mod generate;
pub mod identity;
pub mod import;
pub mod kommun;
pub mod model;
pub mod parallel;
pub mod register;
pub mod report;
pub mod rights;
pub mod store;
pub mod web;
