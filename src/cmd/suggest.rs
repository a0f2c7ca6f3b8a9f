//! `crampcheck suggest`: every cramp therapy in the KB, checked against one
//! patient's list with the `check` engine, ranked, with the steps that come
//! first. Exit 0 when every medication was checked, 1 when some could not be
//! (the suggestion is incomplete), 2 on bad input.

use super::{
    Outcome, RequestError, jurisdiction, load_kb, read_meds_file, reject_empty_meds,
    validated_patient, write_stdout,
};
use crate::cli::{Format, PatientArgs, SuggestArgs};
use crate::engine::dosing::DEFAULT_INDICATION;
use crate::engine::suggest::{SuggestRequest, indications, suggest, therapy_drugs};
use crate::kb::KbIndex;
use crate::kb::index::DrugId;
use crate::parse::{IngredientText, MedText, parse_med};
use crate::patient::PatientContext;
use crate::report::suggest::{IndicationJson, SuggestJson, suggest_json, write_suggest};
use crate::resolve::{Resolved, Resolver, Status};
use anyhow::{Result, bail};
use std::path::Path;

/// Patient conditions that imply the indication of the same code when
/// `--indication` is not given, in order of precedence.
const IMPLIED_INDICATIONS: [&str; 2] = ["cirrhosis", "pregnancy"];

/// The indication to rank for: `--indication` (which must be one the KB's
/// therapy rows use), else one implied by a patient condition, else the default.
fn choose_indication(
    kb: &KbIndex,
    given: Option<&str>,
    patient: &PatientContext,
) -> Result<IndicationJson> {
    if let Some(given) = given {
        let code = given.trim().to_lowercase();
        let known = indications(kb);
        if !known.contains(&code.as_str()) {
            bail!(
                "unknown indication `{given}` (the knowledge base has therapies for: {})",
                known.join(", ")
            );
        }
        return Ok(IndicationJson {
            code,
            basis: "stated",
        });
    }
    let has = |code: &str| {
        patient
            .conditions
            .iter()
            .any(|(c, _)| kb.conditions[*c as usize].code == code)
    };
    Ok(match IMPLIED_INDICATIONS.iter().find(|code| has(code)) {
        Some(code) => IndicationJson {
            code: (*code).to_owned(),
            basis: "condition",
        },
        None => IndicationJson {
            code: DEFAULT_INDICATION.to_owned(),
            basis: "default",
        },
    })
}

/// A therapy as the proposed drug: its canonical name resolved like any
/// typed name; should a name not resolve back to exactly this drug (a name
/// the parser reads as a dose, say), the drug is used directly.
fn resolve_therapy(resolver: &Resolver<'_>, drug: DrugId) -> Resolved {
    let name = resolver.kb().drug_name(drug);
    let resolved = resolver.resolve(parse_med(name));
    let exact = resolved.status == Status::Recognized
        && resolved.med.unparsed.is_empty()
        && matches!(resolved.ingredients.as_slice(), [only] if only.drug == drug);
    if exact {
        return resolved;
    }
    let med = MedText {
        input: name.to_owned(),
        ingredients: vec![IngredientText {
            name: name.to_owned(),
            strength: None,
        }],
        brand_hint: None,
        route: None,
        frequency: None,
        doses_per_day: None,
        units_per_dose: None,
        dose_ml: None,
        unparsed: Vec::new(),
    };
    Resolved {
        matched_by: Some(crate::resolve::MatchedBy::Generic),
        ingredients: vec![crate::resolve::ResolvedIngredient {
            drug,
            strength: None,
            piece: None,
        }],
        ..Resolved::new(med)
    }
}

/// One suggestion's inputs, as the CLI and the JSON API both take them.
#[derive(Debug, Clone)]
pub struct SuggestInput {
    /// The current medications, one string each, in input order.
    pub meds: Vec<String>,
    /// Labs, age, conditions and jurisdiction.
    pub patient: PatientArgs,
    /// What the cramps are treated as, if stated.
    pub indication: Option<String>,
}

/// Validates the inputs, resolves every name, ranks every therapy with the
/// check engine and builds the `crampcheck.suggest/1` document: the one path
/// shared by the CLI and `serve`. Errors name the field at fault.
pub fn run_document(kb: &KbIndex, input: &SuggestInput) -> Result<SuggestJson, RequestError> {
    // An indication that is also a condition (cirrhosis, pregnancy) is a fact
    // about the patient: the therapies are checked against it too.
    let mut patient_args = input.patient.clone();
    if let Some(given) = &input.indication
        && let Some(id) = kb.condition_by_name(given)
        && !patient_args
            .conditions
            .iter()
            .any(|c| kb.condition_by_name(c) == Some(id))
    {
        patient_args.conditions.push(given.clone());
    }
    let (patient, jurisdiction) = validated_patient(kb, &patient_args)?;
    reject_empty_meds(&input.meds)?;
    if kb.therapies.is_empty() {
        return Err(RequestError::Kb(
            "the knowledge base lists no cramp therapies (therapies.csv is empty)".to_owned(),
        ));
    }
    let indication = choose_indication(kb, input.indication.as_deref(), &patient)
        .map_err(|e| RequestError::input("indication", e.to_string()))?;
    let resolver = Resolver::new(kb);
    let meds: Vec<Resolved> = input
        .meds
        .iter()
        .map(|m| resolver.resolve(parse_med(m)))
        .collect();
    let therapies: Vec<Resolved> = therapy_drugs(kb)
        .into_iter()
        .map(|d| resolve_therapy(&resolver, d))
        .collect();
    let suggestion = suggest(
        kb,
        &SuggestRequest {
            therapies: &therapies,
            meds: &meds,
            patient: &patient,
            jurisdiction,
            indication: &indication.code,
        },
    );
    Ok(suggest_json(
        kb,
        &meds,
        &patient,
        jurisdiction,
        indication,
        &suggestion,
    ))
}

/// Runs the suggestion and prints the report.
pub fn run(args: &SuggestArgs, db: Option<&Path>, src: Option<&Path>) -> Result<Outcome> {
    if args.format == Format::Fhir {
        bail!("--format fhir is available for `check` only");
    }
    // Refuse a bad jurisdiction before the (slower) KB load.
    jurisdiction(&args.patient.jurisdiction)?;
    let kb = load_kb(db, src)?;
    let mut meds = args.meds.clone();
    if let Some(path) = &args.meds_file {
        meds.extend(read_meds_file(path)?);
    }
    let doc = run_document(
        &kb,
        &SuggestInput {
            meds,
            patient: args.patient.clone(),
            indication: args.indication.clone(),
        },
    )?;
    write_stdout(|out| match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        Format::Text | Format::Fhir => write_suggest(out, &doc),
    })?;
    Ok(if doc.complete {
        Outcome::Clean
    } else {
        Outcome::Flagged
    })
}
