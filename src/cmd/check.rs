//! `crampcheck check`: one proposed drug against one patient's list.

use super::{
    Outcome, RequestError, jurisdiction, load_kb, read_meds_file, reject_empty_meds,
    validated_patient, write_stdout,
};
use crate::cli::{CheckArgs, FailOn, Format, PatientArgs};
use crate::clinical::Severity;
use crate::engine::{CheckRequest, CheckResult, check};
use crate::kb::KbIndex;
use crate::parse::parse_med;
use crate::report::json::CheckJson;
use crate::report::{fhir, json, text};
use crate::resolve::Resolver;
use anyhow::Result;
use std::path::Path;

/// The lowest severity that makes the exit code 1.
pub fn fail_threshold(fail_on: FailOn) -> Severity {
    match fail_on {
        FailOn::Contraindicated => Severity::Contraindicated,
        FailOn::Major => Severity::Major,
        FailOn::Moderate => Severity::Moderate,
        FailOn::Minor => Severity::Minor,
        FailOn::Info => Severity::Info,
    }
}

/// One check's inputs, as the CLI and the JSON API both take them.
#[derive(Debug, Clone)]
pub struct CheckInput {
    /// The drug about to be proposed, as typed.
    pub propose: String,
    /// The current medications, one string each, in input order.
    pub meds: Vec<String>,
    /// Labs, age, conditions and jurisdiction.
    pub patient: PatientArgs,
}

/// What one check produced: the `crampcheck.check/1` document and the
/// engine's result (for exit codes and thresholds).
#[derive(Debug)]
pub struct CheckRun {
    /// The document every renderer writes from.
    pub doc: CheckJson,
    /// The engine's result.
    pub result: CheckResult,
}

/// Validates the inputs, resolves every name and runs the engine: the one
/// path from inputs to a `crampcheck.check/1` document, shared by the CLI
/// and `serve`. Errors name the field at fault.
pub fn run_document(kb: &KbIndex, input: &CheckInput) -> Result<CheckRun, RequestError> {
    let (patient, jurisdiction) = validated_patient(kb, &input.patient)?;
    reject_empty_meds(&input.meds)?;
    let resolver = Resolver::new(kb);
    let proposed = resolver
        .resolve_proposed(&input.propose)
        .map_err(|e| RequestError::input("propose", e.to_string()))?;
    let meds: Vec<_> = input
        .meds
        .iter()
        .map(|m| resolver.resolve(parse_med(m)))
        .collect();
    let req = CheckRequest {
        proposed: &proposed,
        meds: &meds,
        patient: &patient,
        jurisdiction,
        being_written: true,
    };
    let result = check(kb, &req);
    let doc = json::check_json(kb, &proposed, &meds, &patient, jurisdiction, &result);
    Ok(CheckRun { doc, result })
}

/// Runs the check and prints the report.
pub fn run(args: &CheckArgs, db: Option<&Path>, src: Option<&Path>) -> Result<Outcome> {
    // Refuse a bad jurisdiction before the (slower) KB load.
    jurisdiction(&args.patient.jurisdiction)?;
    let kb = load_kb(db, src)?;
    let mut meds = args.meds.clone();
    if let Some(path) = &args.meds_file {
        meds.extend(read_meds_file(path)?);
    }
    let CheckRun { doc, result } = run_document(
        &kb,
        &CheckInput {
            propose: args.propose.clone(),
            meds,
            patient: args.patient.clone(),
        },
    )?;
    write_stdout(|out| match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Fhir => {
            serde_json::to_writer_pretty(&mut *out, &fhir::bundle(&doc))?;
            writeln!(out)
        }
        Format::Text => text::write_check(out, &doc),
    })?;
    let threshold = fail_threshold(args.fail_on);
    let flagged = !result.complete || result.findings.iter().any(|f| f.severity >= threshold);
    Ok(if flagged {
        Outcome::Flagged
    } else {
        Outcome::Clean
    })
}
