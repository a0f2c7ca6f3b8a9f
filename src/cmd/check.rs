//! `crampcheck check`: one proposed drug against one patient's list.

use super::{Outcome, jurisdiction, load_kb, patient_context, read_meds_file, write_stdout};
use crate::cli::{CheckArgs, FailOn, Format};
use crate::clinical::Severity;
use crate::engine::{CheckRequest, check};
use crate::parse::parse_med;
use crate::report::{json, text};
use crate::resolve::{Resolver, Status};
use anyhow::{Result, bail};
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

/// Runs the check and prints the report.
pub fn run(args: &CheckArgs, db: Option<&Path>, src: Option<&Path>) -> Result<Outcome> {
    let jurisdiction = jurisdiction(&args.patient.jurisdiction)?;
    let kb = load_kb(db, src)?;
    let patient = patient_context(&kb, &args.patient)?;
    let mut inputs = args.meds.clone();
    if let Some(path) = &args.meds_file {
        inputs.extend(read_meds_file(path)?);
    }
    if let Some(empty) = inputs.iter().position(|m| m.trim().is_empty()) {
        bail!("medication {} is empty", empty + 1);
    }
    let resolver = Resolver::new(&kb);
    let proposed = resolver.resolve(parse_med(&args.propose));
    if proposed.status != Status::Recognized {
        let hint = match proposed.status {
            Status::Ambiguous => format!("; it could mean {}", proposed.candidates.join(", ")),
            _ if !proposed.suggestions.is_empty() => {
                format!("; did you mean {}?", proposed.suggestions.join(", "))
            }
            _ => String::new(),
        };
        bail!(
            "proposed drug `{}` is {}{hint}",
            args.propose,
            proposed.status.as_str()
        );
    }
    let meds: Vec<_> = inputs
        .iter()
        .map(|m| resolver.resolve(parse_med(m)))
        .collect();
    let req = CheckRequest {
        proposed: &proposed,
        meds: &meds,
        patient: &patient,
        jurisdiction,
    };
    let result = check(&kb, &req);
    let doc = json::check_json(&kb, &proposed, &meds, &patient, jurisdiction, &result);
    write_stdout(|out| match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &doc)?;
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
