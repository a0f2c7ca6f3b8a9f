//! crampcheck: an offline drug-interaction and safety checker for drugs proposed
//! for refractory muscle cramps.
//!
//! Data flows one way through the stages, each its own module with plain data
//! types between them:
//! input text → [`parse`] → [`resolve`] (names → ingredients via the [`kb`]
//! index) → [`engine`] (rules over resolved medications and the
//! [`patient`] context) → [`report`] (text and JSON renderers).
//! The command-line wiring lives in [`cli`] and [`cmd`]; [`server`] puts the
//! same engine behind HTTP (web page, JSON API, CDS Hooks).
#![forbid(unsafe_code)]

pub mod batch;
pub mod cli;
pub mod clinical;
pub mod cmd;
pub mod engine;
pub mod kb;
pub mod parse;
pub mod patient;
pub mod report;
pub mod resolve;
pub mod server;
pub mod units;
