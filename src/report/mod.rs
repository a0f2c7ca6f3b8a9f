//! Stage 4: renderers — the only code that formats output. The engine's
//! findings become the JSON contract ([`json`]) and the pharmacist's text
//! summary ([`text`]) is written from that same document, so both always say
//! the same thing.

pub mod batch_csv;
pub mod batch_jsonl;
pub mod batch_summary;
pub mod cds;
pub mod fhir;
pub mod json;
pub mod suggest;
pub mod text;
