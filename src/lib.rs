//! sustrack: participant follow-up for Swedish samordningsförbund.
//!
//! Layers, from the outside in:
//! - `cli`: clap definitions, dispatch and printing (no SQL, no rules);
//! - the domain: `register` (rules of start/exit/edit), `report`
//!   (tables and indicators), `import`, `export`, `check`, `generate`;
//! - `identity`: where a personnummer is parsed and reduced to a fingerprint;
//! - `store`: opening the database, migrations, plain data access.
//!
//! `codes`, `kommun` and `model` hold the value types all layers share.

pub mod actor;
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
pub mod store;
