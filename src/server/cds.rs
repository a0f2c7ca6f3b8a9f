//! The CDS Hooks 1.x service (<https://cds-hooks.hl7.org/>): discovery at
//! `GET /cds-services` and two services, `order-select` (a drug is picked)
//! and `order-sign` (orders are signed), at `POST /cds-services/{id}`.
//!
//! A hook request is turned into the CLI's inputs here and nowhere else:
//! - the proposed drugs are the draft `MedicationRequest`s in
//!   `context.draftOrders` (for `order-select`, those named in
//!   `context.selections`; the other drafts join the medication list);
//! - the medication list is every `MedicationRequest` / `MedicationStatement`
//!   found in `prefetch` that is not stopped, completed, cancelled,
//!   not taken or entered in error;
//! - labs are the latest final `Observation` with a LOINC code for eGFR,
//!   QTc, potassium or magnesium (units converted where they differ);
//! - conditions are active `Condition`s whose text or coding display is a
//!   KB condition name or alias; age comes from `Patient.birthDate`.
//!
//! Medication names come from `medicationCodeableConcept.text`, then each
//! `coding[].display`, then a referenced `Medication`'s code, the first that
//! the KB recognizes winning. The KB holds names, not RxNorm codes, so codes
//! are not used. Every drug is then checked by
//! [`crate::cmd::check::run_document`], exactly as `crampcheck check` would,
//! and the findings become cards ([`crate::report::cds`]).

use super::AppState;
use super::Limits;
use super::api::{checked_string, parse_object, type_name};
use super::error::ApiError;
use crate::cli::PatientArgs;
use crate::clinical::Severity;
use crate::cmd::RequestError;
use crate::cmd::check::{CheckInput, run_document};
use crate::kb::KbIndex;
use crate::kb::index::Lab;
use crate::parse::parse_med;
use crate::report::cds::{
    Card, CdsResponse, Unchecked, finding_card, md_escape, partly_read_card, several_dosages_card,
    spelling_card, summary_line, unchecked_card, unused_value_card,
};
use crate::resolve::{Resolver, Status};
use crate::units::in_kb_unit;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One CDS service.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// Its id (the URL path segment).
    pub id: &'static str,
    /// The hook it answers.
    pub hook: &'static str,
    /// Its title in discovery.
    pub title: &'static str,
    /// Its description in discovery.
    pub description: &'static str,
}

/// The services this server offers.
pub const SERVICES: [Service; 2] = [
    Service {
        id: "crampcheck-order-select",
        hook: "order-select",
        title: "crampcheck: cramp-drug interaction and safety check (order select)",
        description: "Checks a selected drug against the patient's active medications, \
                      labs (eGFR, QTc, potassium, magnesium) and conditions with an offline, \
                      sourced knowledge base of cramp therapies (quinine, baclofen and others).",
    },
    Service {
        id: "crampcheck-order-sign",
        hook: "order-sign",
        title: "crampcheck: cramp-drug interaction and safety check (order sign)",
        description: "Checks every drug about to be signed against the patient's active \
                      medications, labs and conditions with an offline, sourced knowledge base \
                      of cramp therapies.",
    },
];

/// LOINC codes read as eGFR (mL/min/1.73 m²): MDRD, CKD-EPI (2009 and
/// 2021) and unspecified-method estimates, as listed in HL7's CPG IG value
/// set (<https://hl7.org/fhir/uv/cpg/STU1/ValueSet-ckd-valueset-egfr.html>).
pub const LOINC_EGFR: [&str; 10] = [
    "33914-3", "48642-3", "48643-1", "50044-7", "62238-1", "69405-9", "76633-7", "77147-7",
    "88293-6", "98979-8",
];
/// LOINC codes read as QTc: unspecified method, Fridericia, Bazett.
pub const LOINC_QTC: [&str; 3] = ["8636-3", "76634-5", "76635-2"];
/// LOINC codes read as potassium in moles/volume (HL7 PDDI-CDS value set).
pub const LOINC_POTASSIUM: [&str; 2] = ["2823-3", "6298-4"];
/// LOINC codes read as magnesium: 19123-9 is mass/volume (mg/dL), 2601-3
/// moles/volume (mmol/L) (HL7 PDDI-CDS value set).
pub const LOINC_MAGNESIUM: [&str; 2] = ["19123-9", "2601-3"];

/// The prefetch templates each service asks for.
fn prefetch_templates() -> Value {
    let codes: Vec<String> = LOINC_EGFR
        .iter()
        .chain(&LOINC_QTC)
        .chain(&LOINC_POTASSIUM)
        .chain(&LOINC_MAGNESIUM)
        .map(|c| format!("http://loinc.org|{c}"))
        .collect();
    json!({
        "patient": "Patient/{{context.patientId}}",
        "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active",
        "medicationStatements": "MedicationStatement?patient={{context.patientId}}&status=active",
        "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
        "observations": format!(
            "Observation?patient={{{{context.patientId}}}}&code={}&_sort=-date",
            codes.join(",")
        ),
    })
}

/// `GET /cds-services`: the discovery document.
pub async fn discovery() -> Json<Value> {
    let services: Vec<Value> = SERVICES
        .iter()
        .map(|s| {
            json!({
                "hook": s.hook,
                "id": s.id,
                "title": s.title,
                "description": s.description,
                "prefetch": prefetch_templates(),
            })
        })
        .collect();
    Json(json!({ "services": services }))
}

/// A medication as the EHR sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct FhirMed {
    /// Names to try, best first.
    pub names: Vec<String>,
    /// `MedicationRequest/{id}`, when it has an id.
    pub reference: Option<String>,
    /// A frequency the parser reads (`bid`, `q4h`, `tid prn`, ...), from the
    /// dosage timing and `asNeededBoolean`.
    pub frequency: Option<String>,
    /// The amount given per dose, from the dosage's `doseQuantity`.
    pub dose: Option<DoseQuantity>,
    /// How many dosages (`dosageInstruction`, or a statement's `dosage`) the
    /// record holds. With more than one (a morning and a night dose) neither
    /// frequency nor dose is taken from them: one schedule would read the
    /// daily dose low, so it is said to be unchecked instead.
    pub dosage_count: usize,
}

/// A dosage's `doseQuantity` in a form the medication parser reads.
#[derive(Debug, Clone, PartialEq)]
pub enum DoseQuantity {
    /// Tablets or capsules per dose.
    Units(f64),
    /// Milligrams per dose.
    Milligrams(f64),
}

/// A hook request, reduced to what the check needs.
#[derive(Debug, Clone)]
pub struct HookRequest {
    /// `hookInstance`.
    pub hook_instance: String,
    /// The drugs being ordered.
    pub proposed: Vec<FhirMed>,
    /// Other draft orders and the active medications.
    pub others: Vec<FhirMed>,
    /// Whether prefetch held a medication list at all.
    pub has_med_list: bool,
    /// Prefetch records about another patient than the hook's (path and
    /// whose), left out of the check.
    pub foreign: Vec<String>,
    /// Draft orders about another patient than the hook's (path and whose),
    /// not checked.
    pub foreign_drafts: Vec<String>,
    /// `context.selections` that name no draft order, sorted.
    pub unmatched_selections: Vec<String>,
    /// Prefetch searches that failed or came back in part (key, what).
    pub gaps: Vec<(String, String)>,
    /// Labs, age and conditions (jurisdiction US).
    pub patient: PatientArgs,
    /// The number of medications, when it is more than the service checks
    /// in one request: nothing is checked, and one card says so.
    pub too_many: Option<usize>,
    /// Patient values sent but not used, and why (a unit crampcheck does not
    /// read, a birth date that is no date): each becomes a warning card.
    pub unused: Vec<(String, String)>,
}

/// A path into the request, for error messages.
fn at(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn opt_object<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(ApiError::bad_field(
            at(path, key),
            format!("expected an object, found {}", type_name(other)),
        )),
    }
}

fn opt_array<'a>(
    map: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(ApiError::bad_field(
            at(path, key),
            format!("expected an array, found {}", type_name(other)),
        )),
    }
}

fn opt_str(
    map: &Map<String, Value>,
    key: &str,
    path: &str,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => checked_string(v, &at(path, key), limits).map(Some),
    }
}

fn opt_number(map: &Map<String, Value>, key: &str, path: &str) -> Result<Option<f64>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().filter(|v| v.is_finite())),
        Some(other) => Err(ApiError::bad_field(
            at(path, key),
            format!("expected a number, found {}", type_name(other)),
        )),
    }
}

/// Names in a CodeableConcept: `text`, then each `coding[].display`.
fn concept_names(
    concept: &Map<String, Value>,
    path: &str,
    limits: &Limits,
) -> Result<Vec<String>, ApiError> {
    let mut names = Vec::new();
    names.extend(opt_str(concept, "text", path, limits)?);
    for (i, coding) in opt_array(concept, "coding", path)?.iter().enumerate() {
        let cpath = format!("{path}.coding[{i}]");
        let Value::Object(coding) = coding else {
            return Err(ApiError::bad_field(cpath, "expected an object"));
        };
        names.extend(opt_str(coding, "display", &cpath, limits)?);
    }
    names.retain(|n| !n.trim().is_empty());
    Ok(names)
}

/// Codes in a CodeableConcept whose `coding.system` (absent: `None`) is
/// accepted by `system`: one code system goes by several names.
fn concept_codes(
    concept: &Map<String, Value>,
    system: impl Fn(Option<&str>) -> bool,
    path: &str,
    limits: &Limits,
) -> Result<Vec<String>, ApiError> {
    let mut codes = Vec::new();
    for (i, coding) in opt_array(concept, "coding", path)?.iter().enumerate() {
        let cpath = format!("{path}.coding[{i}]");
        let Value::Object(coding) = coding else {
            return Err(ApiError::bad_field(cpath, "expected an object"));
        };
        if system(opt_str(coding, "system", &cpath, limits)?.as_deref()) {
            codes.extend(opt_str(coding, "code", &cpath, limits)?);
        }
    }
    Ok(codes)
}

/// LOINC, as FHIR names it and as records converted from other standards
/// (an OID, an `https` or trailing-slash form) name it.
fn is_loinc(system: Option<&str>) -> bool {
    let Some(system) = system else {
        return false;
    };
    let system = system.trim().trim_end_matches('/').to_ascii_lowercase();
    let host = system
        .strip_prefix("http://")
        .or_else(|| system.strip_prefix("https://"))
        .unwrap_or(&system);
    matches!(
        host.strip_prefix("www.").unwrap_or(host),
        "loinc.org" | "loinc" | "urn:oid:2.16.840.1.113883.6.1"
    )
}

/// Every resource of a prefetch value or Bundle, with its path.
fn resources<'a>(
    value: &'a Value,
    path: &str,
    out: &mut Vec<(String, &'a Map<String, Value>)>,
    limits: &Limits,
) -> Result<(), ApiError> {
    let Value::Object(resource) = value else {
        return match value {
            Value::Null => Ok(()),
            other => Err(ApiError::bad_field(
                path,
                format!("expected a FHIR resource, found {}", type_name(other)),
            )),
        };
    };
    if resource.get("resourceType").and_then(Value::as_str) == Some("Bundle") {
        for (i, entry) in opt_array(resource, "entry", path)?.iter().enumerate() {
            let epath = format!("{path}.entry[{i}]");
            let Value::Object(entry) = entry else {
                return Err(ApiError::bad_field(epath, "expected an object"));
            };
            if let Some(inner) = entry.get("resource") {
                resources(inner, &format!("{epath}.resource"), out, limits)?;
            }
        }
    } else {
        out.push((path.to_owned(), resource));
    }
    if out.len() > limits.max_resources {
        return Err(ApiError::bad_field(
            path,
            format!("more than {} resources", limits.max_resources),
        ));
    }
    Ok(())
}

fn resource_type(resource: &Map<String, Value>) -> &str {
    resource
        .get("resourceType")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// An object of a list (a dosage, a `doseAndRate` entry) and its path for error messages.
type Dosage<'a> = (&'a Map<String, Value>, String);

/// The entries of a list that say anything — objects with a value that is
/// not null — with their paths; a null entry or one with only nulls is no
/// entry, and an entry of another type fails the request naming it.
fn entries<'a>(items: &'a [Value], path: &str) -> Result<Vec<Dosage<'a>>, ApiError> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{path}[{i}]");
        match item {
            Value::Null => {}
            Value::Object(map) if map.values().all(Value::is_null) => {}
            Value::Object(map) => out.push((map, at)),
            other => {
                return Err(ApiError::bad_field(
                    at,
                    format!("expected an object, found {}", type_name(other)),
                ));
            }
        }
    }
    Ok(out)
}

/// A record's dosages that say anything, with their paths: a
/// MedicationStatement's `dosage` (FHIR R4), or, when that says nothing,
/// its or a MedicationRequest's `dosageInstruction`.
fn dosages<'a>(med: &'a Map<String, Value>, path: &str) -> Result<Vec<Dosage<'a>>, ApiError> {
    if resource_type(med) == "MedicationStatement" {
        let found = entries(opt_array(med, "dosage", path)?, &at(path, "dosage"))?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    entries(
        opt_array(med, "dosageInstruction", path)?,
        &at(path, "dosageInstruction"),
    )
}

/// The frequency of a dosage as the medication parser reads it: a word for
/// one to four doses a day or weekly, `qNh` for a whole number of hours
/// between doses (six a day is `q4h`), with ` prn` when it is as needed;
/// `None` when there is no timing, or one the parser cannot say (the dose
/// is then reported as not checked against the maximum).
fn frequency((dosage, dpath): &Dosage<'_>, limits: &Limits) -> Result<Option<String>, ApiError> {
    let as_needed = dosage.get("asNeededBoolean") == Some(&Value::Bool(true));
    let schedule = timing_word(dosage, dpath, limits)?;
    Ok(match (schedule, as_needed) {
        (Some(word), true) => Some(format!("{word} prn")),
        (Some(word), false) => Some(word),
        (None, true) => Some("prn".to_owned()),
        (None, false) => None,
    })
}

/// The fixed schedule of a dosage's timing (`timing.repeat`, else a
/// `timing.code` such as `TID`), as the parser's word.
fn timing_word(
    dosage: &Map<String, Value>,
    dpath: &str,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    let Some(timing) = opt_object(dosage, "timing", dpath)? else {
        return Ok(None);
    };
    let tpath = format!("{dpath}.timing");
    match repeat_word(timing, &tpath, limits)? {
        Some(word) => Ok(Some(word)),
        None => code_word(timing, &tpath, limits),
    }
}

/// HL7 v3 GTSAbbreviation: the code system of `Timing.code`.
const GTS_ABBREVIATION: &str = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";

/// A `timing.code` of a fixed schedule (`BID`, `TID`, `Q6H`, ...) as the
/// parser's word, for a timing sent without `repeat`.
fn code_word(
    timing: &Map<String, Value>,
    tpath: &str,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    let Some(code) = opt_object(timing, "code", tpath)? else {
        return Ok(None);
    };
    let codes = concept_codes(
        code,
        |system| system == Some(GTS_ABBREVIATION),
        &at(tpath, "code"),
        limits,
    )?;
    Ok(codes.iter().find_map(|code| {
        let word = match code.as_str() {
            "QD" | "AM" | "PM" => "daily",
            "BID" => "bid",
            "TID" => "tid",
            "QID" => "qid",
            "WK" => "weekly",
            hours => {
                let every: u32 = hours.strip_prefix('Q')?.strip_suffix('H')?.parse().ok()?;
                return (1..=24).contains(&every).then(|| format!("q{every}h"));
            }
        };
        Some(word.to_owned())
    }))
}

/// The fixed schedule of a `timing.repeat`, as the parser's word.
fn repeat_word(
    timing: &Map<String, Value>,
    tpath: &str,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    let Some(repeat) = opt_object(timing, "repeat", tpath)? else {
        return Ok(None);
    };
    let rpath = format!("{tpath}.repeat");
    // Up to `frequencyMax` doses a period: the most the patient may take.
    let times = opt_number(repeat, "frequency", &rpath)?
        .unwrap_or(1.0)
        .max(opt_number(repeat, "frequencyMax", &rpath)?.unwrap_or(0.0));
    let (Some(period), Some(unit)) = (
        opt_number(repeat, "period", &rpath)?,
        opt_str(repeat, "periodUnit", &rpath, limits)?,
    ) else {
        return Ok(None);
    };
    let hours = match unit.as_str() {
        "h" => period,
        "d" => period * 24.0,
        "wk" => period * 24.0 * 7.0,
        _ => return Ok(None),
    };
    if hours <= 0.0 || times <= 0.0 {
        return Ok(None);
    }
    let per_day = times * 24.0 / hours;
    let word = [
        (1.0 / 7.0, "weekly"),
        (1.0, "daily"),
        (2.0, "bid"),
        (3.0, "tid"),
        (4.0, "qid"),
    ]
    .iter()
    .find(|(n, _)| (per_day - n).abs() < 1e-9)
    .map(|(_, w)| (*w).to_owned());
    let every = 24.0 / per_day;
    Ok(word.or_else(|| {
        ((every - every.round()).abs() < 1e-9 && (1.0..=24.0).contains(&every))
            .then(|| format!("q{}h", every.round() as u32))
    }))
}

/// `Type/id` of a resource that has an id: how drafts, selections and
/// prefetched records name the same order.
fn reference_of(
    resource: &Map<String, Value>,
    path: &str,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    Ok(
        opt_str(resource, "id", path, limits)?
            .map(|id| format!("{}/{id}", resource_type(resource))),
    )
}

/// The id of the patient a record is about, from `Patient.id` or the
/// record's `subject.reference` (`Patient/123`, an absolute URL ending so,
/// with or without `/_history/n`); `None` when the record does not say.
fn subject_of(
    resource: &Map<String, Value>,
    path: &str,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    if resource_type(resource) == "Patient" {
        return opt_str(resource, "id", path, limits);
    }
    let Some(subject) = opt_object(resource, "subject", path)? else {
        return Ok(None);
    };
    let Some(reference) = opt_str(subject, "reference", &at(path, "subject"), limits)? else {
        return Ok(None);
    };
    let reference = match reference.find("/_history/") {
        Some(at) => &reference[..at],
        None => reference.as_str(),
    };
    let mut parts = reference.rsplit('/');
    Ok(match (parts.next(), parts.next()) {
        (Some(id), Some("Patient")) if !id.is_empty() => Some(id.to_owned()),
        _ => None,
    })
}

/// A MedicationRequest or MedicationStatement as a [`FhirMed`].
fn fhir_med(
    resource: &Map<String, Value>,
    path: &str,
    medications: &HashMap<String, Vec<String>>,
    limits: &Limits,
) -> Result<FhirMed, ApiError> {
    let mut names = Vec::new();
    if let Some(concept) = opt_object(resource, "medicationCodeableConcept", path)? {
        names.extend(concept_names(
            concept,
            &at(path, "medicationCodeableConcept"),
            limits,
        )?);
    }
    if let Some(reference) = opt_object(resource, "medicationReference", path)? {
        let rpath = at(path, "medicationReference");
        // A Medication elsewhere in the request (contained ones are below).
        if let Some(target) = opt_str(reference, "reference", &rpath, limits)?
            && let Some(found) = medications.get(&target)
        {
            names.extend(found.iter().cloned());
        }
        names.extend(opt_str(reference, "display", &rpath, limits)?);
    }
    for (i, contained) in opt_array(resource, "contained", path)?.iter().enumerate() {
        let cpath = format!("{path}.contained[{i}]");
        if let Value::Object(c) = contained
            && resource_type(c) == "Medication"
            && let Some(code) = opt_object(c, "code", &cpath)?
        {
            names.extend(concept_names(code, &at(&cpath, "code"), limits)?);
        }
    }
    let dosages = dosages(resource, path)?;
    let dosage_count = dosages.len();
    // Read from the one dosage there is; with several, from none.
    let (frequency, dose) = match dosages.as_slice() {
        [only] => (frequency(only, limits)?, dose_quantity(only, limits)?),
        _ => (None, None),
    };
    Ok(FhirMed {
        names,
        reference: reference_of(resource, path, limits)?,
        frequency,
        dose,
        dosage_count,
    })
}

/// The `doseQuantity` of a dosage's first `doseAndRate`, when its unit is a
/// mass or a count of tablets or capsules (UCUM or the words EHRs send);
/// any other unit is not used, and the dose is then read from the name.
fn dose_quantity(
    (dosage, dpath): &Dosage<'_>,
    limits: &Limits,
) -> Result<Option<DoseQuantity>, ApiError> {
    let rates = entries(
        opt_array(dosage, "doseAndRate", dpath)?,
        &at(dpath, "doseAndRate"),
    )?;
    let Some((rate, rpath)) = rates.into_iter().next() else {
        return Ok(None);
    };
    let Some(quantity) = opt_object(rate, "doseQuantity", &rpath)? else {
        return Ok(None);
    };
    let qpath = format!("{rpath}.doseQuantity");
    let Some(value) = opt_number(quantity, "value", &qpath)?.filter(|v| *v > 0.0) else {
        return Ok(None);
    };
    let unit = match opt_str(quantity, "code", &qpath, limits)? {
        Some(code) => code,
        None => opt_str(quantity, "unit", &qpath, limits)?.unwrap_or_default(),
    };
    let unit = unit
        .trim()
        .trim_matches(|c| c == '{' || c == '}')
        .to_lowercase();
    Ok(match unit.as_str() {
        "mg" => Some(DoseQuantity::Milligrams(value)),
        "g" => Some(DoseQuantity::Milligrams(value * 1000.0)),
        "ug" | "mcg" | "µg" => Some(DoseQuantity::Milligrams(value / 1000.0)),
        "tbl" | "tab" | "tabs" | "tablet" | "tablets" | "cap" | "caps" | "capsule" | "capsules" => {
            Some(DoseQuantity::Units(value))
        }
        _ => None,
    })
}

/// Whether a medication with this status is one the patient takes now.
fn current_status(status: Option<&str>) -> bool {
    !matches!(
        status,
        Some("cancelled" | "completed" | "entered-in-error" | "stopped" | "not-taken")
    )
}

/// The latest lab value of each kind, with when it was taken: the value in
/// the KB's unit, or why it cannot be used (a unit crampcheck does not
/// read, a value in words). An older number does not stand in for a newer
/// value that cannot be read: it may be stale, so the newer one is said.
#[derive(Debug, Default)]
struct Labs {
    egfr: Option<(Taken, LabValue)>,
    qtc: Option<(Taken, LabValue)>,
    potassium: Option<(Taken, LabValue)>,
    magnesium: Option<(Taken, LabValue)>,
}

/// A lab value in the KB's unit, or why it cannot be used.
type LabValue = Result<f64, String>;

impl Labs {
    /// Where the latest result of `lab` is kept; age comes from the Patient.
    fn slot(&mut self, lab: Lab) -> Option<&mut Option<(Taken, LabValue)>> {
        match lab {
            Lab::Egfr => Some(&mut self.egfr),
            Lab::Qtc => Some(&mut self.qtc),
            Lab::Potassium => Some(&mut self.potassium),
            Lab::Magnesium => Some(&mut self.magnesium),
            Lab::Age => None,
        }
    }

    /// The values to check with, and a (lab, reason) pair for each latest
    /// value that cannot be used.
    fn into_values(self, unused: &mut Vec<(String, String)>) -> [Option<f64>; 4] {
        let mut take = |lab: &str, slot: Option<(Taken, LabValue)>| match slot {
            Some((_, Ok(value))) => Some(value),
            Some((_, Err(reason))) => {
                unused.push((lab.to_owned(), reason));
                None
            }
            None => None,
        };
        [
            take("egfr", self.egfr),
            take("qtc", self.qtc),
            take("potassium", self.potassium),
            take("magnesium", self.magnesium),
        ]
    }
}

/// When a value was taken: the instant when the text reads as one, else the
/// text itself (compared as text only with other unreadable times).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Taken {
    Text(String),
    At(i64),
    /// Results that disagree could not be put in order: none is used, and
    /// no later result changes that (the unordered one may be the latest).
    Undecidable,
}

/// Keeps the latest result. Results that disagree where one has no
/// readable time, or where two share a time, cannot be ordered: which is
/// current is not guessed (an older number could stand in for a newer one).
fn keep_latest(slot: &mut Option<(Taken, LabValue)>, when: Taken, value: LabValue) {
    let Some((latest, kept)) = slot else {
        *slot = Some((when, value));
        return;
    };
    if *latest == Taken::Undecidable {
        return;
    }
    let unordered = matches!(latest, Taken::Text(_)) || matches!(when, Taken::Text(_));
    let agree = matches!((&*kept, &value), (Ok(a), Ok(b)) if a == b);
    if (unordered || *latest == when) && !agree {
        let reason = "results disagree and cannot be put in order (one has no readable time, \
                      or two share a time): which is current cannot be told";
        *slot = Some((Taken::Undecidable, Err(reason.to_owned())));
    } else if when > *latest {
        *slot = Some((when, value));
    }
}

/// Seconds since 1970 (UTC) of a FHIR date or dateTime, so that times
/// written with different offsets compare as the instants they are; a date
/// alone counts from its start. A time the EHR wrote loosely (a space for
/// `T`, an offset without its colon) is read too. `None` when the text is
/// no date.
fn instant(text: &str) -> Option<i64> {
    let text = text.trim();
    let cut = text.len().min(10);
    let (date, rest) = (text.get(..cut)?, text.get(cut..)?);
    let date = match date.len() {
        4 => format!("{date}-01-01"),
        7 => format!("{date}-01"),
        _ => date.to_owned(),
    };
    let day = crate::batch::reader::parse_day(date.as_bytes())?;
    let start = i64::from(day) * 86_400;
    if rest.is_empty() {
        return Some(start);
    }
    let time = rest.strip_prefix(['T', ' '])?;
    let (clock, offset) = match time.find(['Z', 'z', '+', '-', ' ']) {
        Some(at) => time.split_at(at),
        None => (time, ""),
    };
    let mut parts = clock.split(':');
    let number = |part: &str| {
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse::<i64>().ok())?
    };
    let hours = number(parts.next()?).filter(|h| *h <= 24)?;
    let minutes = number(parts.next()?).filter(|m| *m <= 59)?;
    let secs: f64 = match parts.next() {
        None => 0.0,
        Some(s) if s.starts_with(|c: char| c.is_ascii_digit()) => s.parse().ok()?,
        Some(_) => return None,
    };
    if parts.next().is_some() || !(0.0..61.0).contains(&secs) {
        return None;
    }
    let mut seconds = start + hours * 3_600 + minutes * 60 + secs as i64;
    let offset = offset.trim_start();
    if let Some(sign) = offset.chars().next().filter(|c| matches!(c, '+' | '-')) {
        let zone = &offset[1..];
        let (h, m) = zone
            .split_once(':')
            .unwrap_or((zone.get(..2)?, zone.get(2..)?));
        let m = if m.is_empty() { "0" } else { m };
        let shift = number(h).filter(|h| *h <= 14)? * 3_600 + number(m).filter(|m| *m <= 59)? * 60;
        seconds += if sign == '+' { -shift } else { shift };
    } else if !matches!(offset, "" | "Z" | "z") {
        return None;
    }
    Some(seconds)
}

fn observation(
    resource: &Map<String, Value>,
    path: &str,
    labs: &mut Labs,
    limits: &Limits,
) -> Result<(), ApiError> {
    let status = opt_str(resource, "status", path, limits)?;
    if !matches!(status.as_deref(), Some("final" | "amended" | "corrected")) {
        return Ok(());
    }
    let Some(code) = opt_object(resource, "code", path)? else {
        return Ok(());
    };
    let cpath = at(path, "code");
    let loinc = concept_codes(code, is_loinc, &cpath, limits)?;
    // A lab's LOINC code under no code system, or another, is most likely
    // that lab, but not surely: said as not used rather than used or passed
    // over.
    let unsystemed = concept_codes(code, |system| !is_loinc(system), &cpath, limits)?;
    let Some((lab, systemless)) = lab_of(&loinc)
        .map(|lab| (lab, false))
        .or_else(|| lab_of(&unsystemed).map(|lab| (lab, true)))
    else {
        return Ok(());
    };
    let Some(slot) = labs.slot(lab) else {
        return Ok(());
    };
    let mut when = String::new();
    for key in ["effectiveDateTime", "effectiveInstant", "issued"] {
        if let Some(w) = opt_str(resource, key, path, limits)? {
            when = w;
            break;
        }
    }
    if when.is_empty()
        && let Some(period) = opt_object(resource, "effectivePeriod", path)?
    {
        let ppath = at(path, "effectivePeriod");
        when = opt_str(period, "end", &ppath, limits)?
            .or(opt_str(period, "start", &ppath, limits)?)
            .unwrap_or_default();
    }
    // A time that cannot be read still has a day: ranked from its start,
    // not below every readable time.
    let taken = instant(&when)
        .or_else(|| when.get(..10).and_then(instant))
        .map_or(Taken::Text(when.clone()), Taken::At);
    let value = match systemless {
        true => {
            Err("its code is not under the LOINC code system (`coding.system`), so it may be another test".to_owned())
        }
        false => lab_value(resource, lab, path, limits)?,
    };
    // Said with its time, so the clinician can find the result meant.
    let value = value.map_err(|reason| match when.is_empty() {
        true => reason,
        false => format!("{reason} (result of {when})"),
    });
    keep_latest(slot, taken, value);
    Ok(())
}

/// The lab that one of these LOINC codes names, if any.
fn lab_of(codes: &[String]) -> Option<Lab> {
    let is = |set: &[&str]| codes.iter().any(|c| set.contains(&c.as_str()));
    [
        (&LOINC_EGFR[..], Lab::Egfr),
        (&LOINC_QTC[..], Lab::Qtc),
        (&LOINC_POTASSIUM[..], Lab::Potassium),
        (&LOINC_MAGNESIUM[..], Lab::Magnesium),
    ]
    .into_iter()
    .find_map(|(set, lab)| is(set).then_some(lab))
}

/// The value of a lab Observation in the KB's unit, or why it cannot be
/// used: a result given in words (`valueString` `<15`, a coded value), an
/// absent value, or a unit crampcheck does not read.
fn lab_value(
    resource: &Map<String, Value>,
    lab: Lab,
    path: &str,
    limits: &Limits,
) -> Result<LabValue, ApiError> {
    if let Some(number) = opt_number(resource, "valueInteger", path)? {
        return Ok(in_kb_unit(lab, number, ""));
    }
    let Some(quantity) = opt_object(resource, "valueQuantity", path)? else {
        if let Some(text) = opt_str(resource, "valueString", path, limits)? {
            return Ok(Err(format!("the result `{text}` is text, not a number")));
        }
        let reason = match resource.keys().find(|k| k.starts_with("value")) {
            Some(key) => format!("the result is a {key}, not a number"),
            None if resource.contains_key("dataAbsentReason") => {
                "the result is absent (dataAbsentReason)".to_owned()
            }
            None => "the result has no value".to_owned(),
        };
        return Ok(Err(reason));
    };
    let qpath = at(path, "valueQuantity");
    let Some(value) = opt_number(quantity, "value", &qpath)? else {
        return Ok(Err("the result has no value".to_owned()));
    };
    // A censored result (`<15`, `>90`) is a bound, not the value.
    if let Some(comparator) = opt_str(quantity, "comparator", &qpath, limits)? {
        return Ok(Err(format!(
            "the result `{comparator}{value}` is a bound, not a value"
        )));
    }
    // The UCUM code when there is one, else the unit as displayed; a code
    // from another system may not be UCUM, so the display is tried too.
    let units: Vec<String> = [
        opt_str(quantity, "code", &qpath, limits)?,
        opt_str(quantity, "unit", &qpath, limits)?,
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut read = units.iter().map(|unit| in_kb_unit(lab, value, unit));
    let first = read.next().unwrap_or_else(|| in_kb_unit(lab, value, ""));
    Ok(first.or_else(|refused| read.find_map(Result::ok).ok_or(refused)))
}

/// Age in whole years on `today` (y, m, d) for a FHIR date (`YYYY`,
/// `YYYY-MM` or `YYYY-MM-DD`); partial dates count from their first day.
pub fn age_on(birth: &str, today: (i64, u32, u32)) -> Option<f64> {
    let mut parts = birth.trim().splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next().map_or(Some(1), |m| m.parse().ok())?;
    let day: u32 = parts
        .next()
        .map_or(Some(1), |d| d.get(..2).unwrap_or(d).parse().ok())?;
    let mut age = today.0 - year;
    if (today.1, today.2) < (month, day) {
        age -= 1;
    }
    (0..=150).contains(&age).then_some(age as f64)
}

/// Today's civil date (UTC), from the system clock.
pub fn today_utc() -> (i64, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_from_days((secs / 86_400) as i64)
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Parses a hook request for `service`. Errors name the field at fault.
pub fn parse_hook_request(
    body: &[u8],
    service: &Service,
    kb: &KbIndex,
    limits: &Limits,
    today: (i64, u32, u32),
) -> Result<HookRequest, ApiError> {
    let map = parse_object(body)?;
    let hook =
        opt_str(&map, "hook", "", limits)?.ok_or_else(|| ApiError::bad_field("hook", "missing"))?;
    if hook != service.hook {
        return Err(ApiError::bad_field(
            "hook",
            format!(
                "service {} answers `{}`, not `{hook}`",
                service.id, service.hook
            ),
        ));
    }
    let hook_instance = opt_str(&map, "hookInstance", "", limits)?
        .ok_or_else(|| ApiError::bad_field("hookInstance", "missing"))?;
    let context = opt_object(&map, "context", "")?
        .ok_or_else(|| ApiError::bad_field("context", "missing"))?;
    let drafts_value = context
        .get("draftOrders")
        .ok_or_else(|| ApiError::bad_field("context.draftOrders", "missing"))?;
    let mut selections = HashSet::new();
    for (i, s) in opt_array(context, "selections", "context")?
        .iter()
        .enumerate()
    {
        selections.insert(checked_string(
            s,
            &format!("context.selections[{i}]"),
            limits,
        )?);
    }
    if service.hook == "order-select" && !context.contains_key("selections") {
        return Err(ApiError::bad_field("context.selections", "missing"));
    }
    // Required by the CDS Hooks order-select and order-sign hooks: without
    // it, records of several patients could not be told apart.
    let patient_id = opt_str(context, "patientId", "context", limits)?
        .ok_or_else(|| ApiError::bad_field("context.patientId", "missing"))?;
    // The spec sends the id (`123`); some EHRs send the reference
    // (`Patient/123`), which names the same patient.
    let patient_id = match patient_id.strip_prefix("Patient/") {
        Some(id) => id.to_owned(),
        None => patient_id,
    };
    let mut drafts = Vec::new();
    resources(drafts_value, "context.draftOrders", &mut drafts, limits)?;
    let mut prefetched = Vec::new();
    // A search the EHR could not run, or ran only in part, leaves records
    // out: said on a card, as the records it did send are still checked.
    let mut gaps: Vec<(String, String)> = Vec::new();
    if let Some(prefetch) = opt_object(&map, "prefetch", "")? {
        for (key, value) in prefetch {
            resources(value, &format!("prefetch.{key}"), &mut prefetched, limits)?;
            if let Some(gap) = prefetch_gap(value) {
                gaps.push((key.clone(), gap.to_owned()));
            }
        }
    }
    // Medication resources, for medicationReference.
    let mut medications: HashMap<String, Vec<String>> = HashMap::new();
    for (path, r) in drafts.iter().chain(&prefetched) {
        if resource_type(r) == "Medication"
            && let Some(id) = opt_str(r, "id", path, limits)?
            && let Some(code) = opt_object(r, "code", path)?
        {
            medications.insert(
                format!("Medication/{id}"),
                concept_names(code, &at(path, "code"), limits)?,
            );
        }
    }
    let mut proposed = Vec::new();
    let mut others = Vec::new();
    // One order sent twice (the same id) is one order, not duplicate
    // therapy; the same holds for a record repeated in prefetch.
    let mut orders_seen: HashSet<String> = HashSet::new();
    let mut draft_names: HashMap<String, Vec<String>> = HashMap::new();
    // A draft order for another patient is not this patient's order: not
    // checked, and said.
    let mut foreign_drafts = Vec::new();
    // Selections that name no draft order (of any resource type).
    let mut unmatched_selections = selections.clone();
    for (path, r) in &drafts {
        if let Some(reference) = reference_of(r, path, limits)? {
            unmatched_selections.remove(&reference);
        }
        if resource_type(r) == "MedicationRequest" {
            if let Some(subject) = subject_of(r, path, limits)?
                && subject != patient_id
            {
                foreign_drafts.push(format!("{path} (Patient/{subject})"));
                continue;
            }
            let med = fhir_med(r, path, &medications, limits)?;
            // The same id for another drug is a flawed request, not a
            // repeat: both drugs are checked.
            if let Some(reference) = &med.reference {
                if draft_names.get(reference) == Some(&med.names) {
                    continue;
                }
                draft_names
                    .entry(reference.clone())
                    .or_insert(med.names.clone());
                orders_seen.insert(reference.clone());
            }
            let selected = service.hook == "order-sign"
                || med
                    .reference
                    .as_ref()
                    .is_some_and(|reference| selections.contains(reference));
            if selected {
                proposed.push(med);
            } else {
                others.push(med);
            }
        }
    }
    if proposed.is_empty() && service.hook == "order-select" {
        // Selections that name no draft MedicationRequest: check them all
        // (a card names the selections).
        proposed = std::mem::take(&mut others);
    }
    let mut unmatched_selections: Vec<String> = unmatched_selections.into_iter().collect();
    unmatched_selections.sort();
    // A draft that the EHR also returns in the prefetch search is the same
    // order, not a second one (it would read as duplicate therapy).
    let draft_refs: HashSet<String> = proposed
        .iter()
        .chain(&others)
        .filter_map(|m| m.reference.clone())
        .collect();
    let mut has_med_list = false;
    let mut labs = Labs::default();
    let mut conditions: Vec<String> = Vec::new();
    let mut age = None;
    let mut unused = Vec::new();
    // A record about another patient is not this patient's: never used,
    // always said (the EHR's prefetch is at fault).
    let mut foreign = Vec::new();
    for (path, r) in &prefetched {
        if matches!(
            resource_type(r),
            "MedicationRequest" | "MedicationStatement" | "Observation" | "Condition" | "Patient"
        ) && let Some(subject) = subject_of(r, path, limits)?
            && subject != patient_id
        {
            foreign.push(format!("{path} (Patient/{subject})"));
            continue;
        }
        match resource_type(r) {
            "MedicationRequest" | "MedicationStatement" => {
                has_med_list = true;
                let status = opt_str(r, "status", path, limits)?;
                // A record not taken now is not read further: a flaw in it
                // must not cost the clinician every card.
                let reference = reference_of(r, path, limits)?;
                let is_draft = reference.as_ref().is_some_and(|r| draft_refs.contains(r));
                let repeated = reference.is_some_and(|r| !orders_seen.insert(r));
                if current_status(status.as_deref()) && !is_draft && !repeated {
                    others.push(fhir_med(r, path, &medications, limits)?);
                }
            }
            "Observation" => observation(r, path, &mut labs, limits)?,
            "Condition" => {
                if let Some(code) = condition_code(r, path, kb, limits)?
                    && !conditions.contains(&code)
                {
                    conditions.push(code);
                }
            }
            "Patient" => {
                if let Some(birth) = opt_str(r, "birthDate", path, limits)? {
                    age = age_on(&birth, today);
                    if age.is_none() {
                        unused.push((
                            "age".to_owned(),
                            format!("birth date `{birth}` is not a plausible date of birth"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    // An empty search Bundle still says "this patient takes nothing".
    has_med_list |= prefetch_has_med_bundle(&map);
    // Too many to check is said on a card: an error answer would show the
    // clinician nothing at all.
    let medications = proposed.len() + others.len();
    let too_many = (medications > limits.max_medications).then_some(medications);
    let [egfr, qtc, potassium, magnesium] = labs.into_values(&mut unused);
    Ok(HookRequest {
        too_many,
        hook_instance,
        proposed,
        others,
        has_med_list,
        foreign,
        foreign_drafts,
        unmatched_selections,
        gaps,
        patient: PatientArgs {
            egfr,
            qtc,
            potassium,
            magnesium,
            age,
            conditions,
            jurisdiction: "US".to_owned(),
        },
        unused,
    })
}

/// Why a prefetch value holds only part of what its search found: the
/// search failed (an `OperationOutcome`), or the Bundle is one page of a
/// longer result (a `next` link).
fn prefetch_gap(value: &Value) -> Option<&'static str> {
    let Value::Object(object) = value else {
        return None;
    };
    match resource_type(object) {
        "OperationOutcome" => Some("the search failed (OperationOutcome)"),
        "Bundle" => {
            let links = object.get("link").and_then(Value::as_array);
            let paged = links.is_some_and(|links| {
                links
                    .iter()
                    .any(|l| l.get("relation").and_then(Value::as_str) == Some("next"))
            });
            paged.then_some("only the first page of the search was sent (a `next` link)")
        }
        _ => None,
    }
}

/// Whether any prefetch value is a Bundle whose search was for
/// MedicationRequest or MedicationStatement (known by its link or by the
/// service's own prefetch keys), even if it has no entries.
fn prefetch_has_med_bundle(map: &Map<String, Value>) -> bool {
    let Some(Value::Object(prefetch)) = map.get("prefetch") else {
        return false;
    };
    ["medicationRequests", "medicationStatements"].iter().any(|k| {
        matches!(prefetch.get(*k), Some(Value::Object(bundle)) if resource_type(bundle) == "Bundle")
    })
}

/// The KB condition code of an active Condition, if the KB knows it.
fn condition_code(
    resource: &Map<String, Value>,
    path: &str,
    kb: &KbIndex,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    for (key, refused) in [
        ("clinicalStatus", &["inactive", "remission", "resolved"][..]),
        ("verificationStatus", &["refuted", "entered-in-error"][..]),
    ] {
        if let Some(status) = opt_object(resource, key, path)? {
            let standard = match key {
                "clinicalStatus" => "http://terminology.hl7.org/CodeSystem/condition-clinical",
                _ => "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            };
            // A status sent without its code system, or only as text, is
            // still a status: an entered-in-error record is not a fact.
            let mut codes = concept_codes(
                status,
                |system| system.is_none_or(|s| s == standard),
                &at(path, key),
                limits,
            )?;
            codes.extend(opt_str(status, "text", &at(path, key), limits)?);
            if codes
                .iter()
                .map(|c| c.trim().replace(' ', "-"))
                .any(|c| refused.iter().any(|r| c.eq_ignore_ascii_case(r)))
            {
                return Ok(None);
            }
        }
    }
    let Some(code) = opt_object(resource, "code", path)? else {
        return Ok(None);
    };
    let names = concept_names(code, &at(path, "code"), limits)?;
    Ok(names
        .iter()
        .find_map(|n| kb.condition_by_name(n))
        .map(|id| kb.conditions[id as usize].code.clone()))
}

/// The name to check for a medication: the first that the KB recognizes,
/// else the first given; with the dosage frequency when the name has none.
fn chosen_name(resolver: &Resolver<'_>, med: &FhirMed) -> Option<String> {
    // A name the KB knows exactly first, then one taken by its spelling.
    let resolved: Vec<_> = med
        .names
        .iter()
        .map(|n| (n, resolver.resolve(parse_med(n))))
        .collect();
    let recognized = resolved
        .iter()
        .find(|(_, r)| r.is_exact())
        .or_else(|| {
            resolved
                .iter()
                .find(|(_, r)| r.status == Status::Recognized)
        })
        .map(|(n, _)| *n);
    let name = recognized.or(med.names.first())?;
    let parsed = parse_med(name);
    let mut text = name.clone();
    // The structured dose: tablets as a count; a mass as a count of the
    // strength the name gives, or as the strength when it gives none.
    let strength_mg = match parsed.ingredients.as_slice() {
        [only] => only.strength.as_ref().and_then(|s| s.as_mg()),
        _ => None,
    };
    match (&med.dose, strength_mg) {
        (Some(DoseQuantity::Units(n)), _) => text.push_str(&format!(" {n} tablets")),
        (Some(DoseQuantity::Milligrams(mg)), Some(strength)) if strength > 0.0 => {
            text.push_str(&format!(" {} tablets", mg / strength));
        }
        (Some(DoseQuantity::Milligrams(mg)), None) if parsed.ingredients.len() == 1 => {
            text.push_str(&format!(" {mg} mg"));
        }
        _ => {}
    }
    match &med.frequency {
        Some(word) if parsed.frequency.is_none() => Some(format!("{text} {word}")),
        _ => Some(text),
    }
}

const LAB_FIELDS: [&str; 5] = ["egfr", "qtc", "potassium", "magnesium", "age"];

/// Checks every proposed drug and turns the findings at or above
/// `card_level` into cards, most severe first, each finding once; every
/// medication that could not be checked gets a warning card.
pub fn cards(kb: &KbIndex, req: &HookRequest, card_level: Severity) -> CdsResponse {
    if let Some(count) = req.too_many {
        return CdsResponse {
            cards: vec![too_many_card(&kb.meta.version, count, &req.hook_instance)],
        };
    }
    let resolver = Resolver::new(kb);
    let mut out: Vec<Card> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut unchecked: Vec<Unchecked> = Vec::new();
    let mut partly_read: Vec<(Unchecked, Vec<String>)> = Vec::new();
    // Medications taken for a known name by their spelling: (as written,
    // what they were read as).
    let mut spelled: Vec<(String, String)> = Vec::new();
    let mut patient = req.patient.clone();
    let mut unused: Vec<(String, String)> = req.unused.clone();
    let mut others: Vec<String> = Vec::new();
    for med in &req.others {
        match chosen_name(&resolver, med) {
            Some(name) => others.push(name),
            None => unchecked.push(Unchecked {
                name: med
                    .reference
                    .clone()
                    .unwrap_or_else(|| "a medication without a name".to_owned()),
                ordered: false,
                reason: "no medication name in the record".to_owned(),
                suggestions: Vec::new(),
            }),
        }
    }
    let drafts: Vec<Option<String>> = req
        .proposed
        .iter()
        .map(|med| chosen_name(&resolver, med))
        .collect();
    // A draft known only by its spelling is refused, and its card says it
    // was not checked: it is no list entry of the other drafts either,
    // where its guessed drug would be checked after all.
    let refused: Vec<bool> = drafts
        .iter()
        .map(|name| {
            name.as_deref().is_some_and(|n| {
                let read = resolver.resolve(parse_med(n));
                read.status == Status::Recognized && !read.is_exact()
            })
        })
        .collect();
    for (at, med) in req.proposed.iter().enumerate() {
        let Some(propose) = drafts[at].clone() else {
            unchecked.push(Unchecked {
                name: med
                    .reference
                    .clone()
                    .unwrap_or_else(|| "a draft order without a name".to_owned()),
                ordered: true,
                reason: "no medication name in the order".to_owned(),
                suggestions: Vec::new(),
            });
            continue;
        };
        // Drugs ordered together are checked against each other, and each
        // against the list; a draft is not checked against itself.
        let mut list: Vec<String> = others.clone();
        list.extend(
            drafts
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != at && !refused[*other])
                .filter_map(|(_, name)| name.clone()),
        );
        let mut input = CheckInput {
            propose: propose.clone(),
            meds: list,
            patient: patient.clone(),
        };
        // A drug read with words left over (`x30 days`) is checked without
        // them, and a card names the words: refusing it would hide every
        // card about the drug.
        let mut read_in_part: Option<(String, Vec<String>)> = None;
        let run = loop {
            match run_document(kb, &input) {
                Err(RequestError::Input { field, message })
                    if LAB_FIELDS.contains(&field.as_str()) =>
                {
                    // An implausible lab value is dropped, and said so.
                    match field.as_str() {
                        "egfr" => patient.egfr = None,
                        "qtc" => patient.qtc = None,
                        "potassium" => patient.potassium = None,
                        "magnesium" => patient.magnesium = None,
                        _ => patient.age = None,
                    }
                    input.patient = patient.clone();
                    unused.push((field, message));
                }
                Err(err) => {
                    if read_in_part.is_none()
                        && let Some((name, words)) = recognized_part(&resolver, &propose)
                    {
                        input.propose = name.clone();
                        read_in_part = Some((name, words));
                        continue;
                    }
                    break Err(err);
                }
                ok => break ok,
            }
        };
        if let (Ok(_), Some((name, words))) = (&run, &read_in_part) {
            partly_read.push((
                Unchecked {
                    name: propose.clone(),
                    ordered: true,
                    reason: format!("`{name}`"),
                    suggestions: Vec::new(),
                },
                words.clone(),
            ));
        }
        match run {
            Ok(run) => {
                for f in &run.doc.findings {
                    // A dose that could not be checked is a card whatever
                    // the level, as an unchecked medication is.
                    let unchecked_dose = f.kind == "dose" && f.severity == "info";
                    if f.kind == "unrecognized"
                        || !(unchecked_dose || severity_at_least(f.severity, card_level))
                    {
                        continue;
                    }
                    let mut drugs = f.drugs.clone();
                    drugs.sort();
                    // A pair of drafts is found from both sides, under titles
                    // that name them in either order: one card.
                    let title = match f.kind {
                        "interaction" | "duplicate" => "",
                        _ => f.title.as_str(),
                    };
                    let key = format!(
                        "{}|{}|{}|{title}",
                        f.kind,
                        drugs.join("+"),
                        f.condition.as_deref().unwrap_or(""),
                    );
                    if seen.insert(key) {
                        out.push(finding_card(&run.doc, f, &req.hook_instance));
                    }
                }
                for m in run
                    .doc
                    .medications
                    .iter()
                    .filter(|m| m.matched_by == Some("fuzzy"))
                {
                    // Named by the words read by their spelling, so one
                    // name written twice (`Dridol`, `dridol bid`) is one card.
                    let written: Vec<&str> =
                        m.fuzzy_matches.iter().map(|f| f.written.as_str()).collect();
                    let read: Vec<&str> =
                        m.fuzzy_matches.iter().map(|f| f.matched.as_str()).collect();
                    spelled.push((
                        written.join(", "),
                        format!("{} ({})", read.join(", "), m.ingredients.join(" + ")),
                    ));
                }
                for m in run
                    .doc
                    .medications
                    .iter()
                    .filter(|m| m.status != "recognized")
                {
                    // Checked in part: the drug found, without the words left.
                    if !m.ingredients.is_empty() && !m.unresolved.is_empty() {
                        partly_read.push((
                            Unchecked {
                                name: m.input.clone(),
                                ordered: false,
                                reason: m.ingredients.join(" + "),
                                suggestions: Vec::new(),
                            },
                            m.unresolved.clone(),
                        ));
                        continue;
                    }
                    let reason = if m.status == "ambiguous" {
                        format!("ambiguous: could be {}", m.candidates.join(", "))
                    } else {
                        "not recognized".to_owned()
                    };
                    unchecked.push(Unchecked {
                        name: m.input.clone(),
                        ordered: false,
                        reason,
                        suggestions: m.suggestions.clone(),
                    });
                }
            }
            Err(err) => {
                let resolved = resolver.resolve(parse_med(&propose));
                unchecked.push(Unchecked {
                    name: propose.clone(),
                    ordered: true,
                    reason: match resolved.status {
                        Status::Ambiguous => {
                            format!("ambiguous: could be {}", resolved.candidates.join(", "))
                        }
                        Status::Recognized => err.to_string(),
                        Status::Unrecognized => "not recognized".to_owned(),
                    },
                    suggestions: resolved.suggestions.clone(),
                });
            }
        }
    }
    // A draft named again as another draft's list entry is said as ordered,
    // whatever the order of the drafts.
    unchecked.sort_by_key(|u| !u.ordered);
    let mut named: HashSet<String> = HashSet::new();
    for u in &unchecked {
        if named.insert(u.name.clone()) {
            out.push(unchecked_card(&kb.meta.version, u, &req.hook_instance));
        }
    }
    for (u, words) in &partly_read {
        if named.insert(u.name.clone()) {
            out.push(partly_read_card(
                &kb.meta.version,
                u,
                words,
                &req.hook_instance,
            ));
        }
    }
    // One card per name, with the most dosages any record of it gave.
    let mut several: Vec<(&str, usize)> = Vec::new();
    for med in req.proposed.iter().chain(&req.others) {
        if med.dosage_count > 1 {
            let name = med
                .names
                .first()
                .or(med.reference.as_ref())
                .map_or("a medication", String::as_str);
            match several.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count = (*count).max(med.dosage_count),
                None => several.push((name, med.dosage_count)),
            }
        }
    }
    for (name, count) in several {
        out.push(several_dosages_card(
            &kb.meta.version,
            name,
            count,
            &req.hook_instance,
        ));
    }
    for (name, read) in &spelled {
        if named.insert(name.clone()) {
            out.push(spelling_card(
                &kb.meta.version,
                name,
                read,
                &req.hook_instance,
            ));
        }
    }
    let mut said: HashSet<&str> = HashSet::new();
    for (what, reason) in &unused {
        if said.insert(what) {
            out.push(unused_value_card(
                &kb.meta.version,
                what,
                reason,
                &req.hook_instance,
            ));
        }
    }
    for (key, what) in &req.gaps {
        out.push(prefetch_gap_card(
            &kb.meta.version,
            key,
            what,
            &req.hook_instance,
        ));
    }
    if !req.foreign.is_empty() {
        out.push(foreign_records_card(
            &kb.meta.version,
            Foreign::Prefetch,
            &req.foreign,
            &req.hook_instance,
        ));
    }
    if !req.foreign_drafts.is_empty() {
        out.push(foreign_records_card(
            &kb.meta.version,
            Foreign::Drafts,
            &req.foreign_drafts,
            &req.hook_instance,
        ));
    }
    if !req.unmatched_selections.is_empty() {
        out.push(unmatched_selections_card(
            &kb.meta.version,
            &req.unmatched_selections,
            &req.hook_instance,
        ));
    }
    if !req.has_med_list && !req.proposed.is_empty() {
        out.push(no_med_list_card(&kb.meta.version, &req.hook_instance));
    }
    let rank = |c: &Card| match c.indicator {
        "critical" => 0,
        "warning" => 1,
        _ => 2,
    };
    out.sort_by_key(rank);
    CdsResponse { cards: out }
}

/// The recognized part of a name read with words left over (`quinine 324
/// mg nightly x30 days` → `quinine 324 mg nightly` and `x30`, `days`), when
/// the name without them is recognized.
fn recognized_part(resolver: &Resolver<'_>, text: &str) -> Option<(String, Vec<String>)> {
    let resolved = resolver.resolve(parse_med(text));
    if resolved.status != Status::Unrecognized
        || resolved.ingredients.is_empty()
        || resolved.unresolved.is_empty()
    {
        return None;
    }
    let left = |token: &str| {
        let key = crate::kb::names::name_key(token);
        resolved.unresolved.contains(&key)
    };
    let name: Vec<&str> = text.split_whitespace().filter(|t| !left(t)).collect();
    let name = name.join(" ");
    (resolver.resolve(parse_med(&name)).status == Status::Recognized)
        .then_some((name, resolved.unresolved.clone()))
}

fn severity_at_least(severity: &str, level: Severity) -> bool {
    crate::clinical::Severity::parse(severity).is_some_and(|s| s >= level)
}

/// A card about the request itself rather than a finding (what was not
/// checked and why): `key` makes its uuid stable within the hook instance.
fn request_card(
    kb_version: &str,
    key: &[&str],
    summary: String,
    detail: String,
    indicator: &'static str,
) -> Card {
    Card {
        uuid: crate::report::fhir::stable_uuid(key),
        summary,
        detail,
        indicator,
        source: crate::report::cds::CardSource {
            label: format!("crampcheck KB {kb_version}"),
            url: None,
        },
        override_reasons: Vec::new(),
    }
}

fn too_many_card(kb_version: &str, count: usize, hook_instance: &str) -> Card {
    request_card(
        kb_version,
        &[hook_instance, "too-many-medications"],
        format!("Not checked: {count} medications, more than this service checks at once"),
        "crampcheck checked **nothing** in this request: the draft orders and the \
         medication list together are more than it takes in one request. Check the \
         order by hand."
            .to_owned(),
        "warning",
    )
}

/// Which records about another patient a card is about.
#[derive(Debug, Clone, Copy)]
enum Foreign {
    /// Prefetch records: left out of the medication list, labs, conditions.
    Prefetch,
    /// Draft orders: not checked at all.
    Drafts,
}

/// Up to five items in code spans, then how many more.
fn listed(items: &[String]) -> String {
    const LISTED: usize = 5;
    let mut listed: Vec<String> = items
        .iter()
        .take(LISTED)
        .map(|f| format!("`{}`", md_escape(f)))
        .collect();
    if items.len() > LISTED {
        listed.push(format!("and {} more", items.len() - LISTED));
    }
    listed.join(", ")
}

fn foreign_records_card(
    kb_version: &str,
    which: Foreign,
    foreign: &[String],
    hook_instance: &str,
) -> Card {
    let (key, summary, detail) = match which {
        Foreign::Prefetch => (
            "foreign-records",
            format!(
                "{} prefetch record(s) about another patient were not used",
                foreign.len()
            ),
            format!(
                "The request's `prefetch` held records whose subject is not this hook's patient: \
                 {}. crampcheck left them out. If they are this patient's, the medication list, \
                 labs or conditions checked are **incomplete**: check them by hand.",
                listed(foreign)
            ),
        ),
        Foreign::Drafts => (
            "foreign-drafts",
            format!(
                "{} draft order(s) about another patient were not checked",
                foreign.len()
            ),
            format!(
                "The request's `context.draftOrders` held orders whose subject is not this \
                 hook's patient: {}. crampcheck did **not** check them. Make sure the order is \
                 for the right patient, then check it by hand.",
                listed(foreign)
            ),
        ),
    };
    request_card(
        kb_version,
        &[hook_instance, key],
        summary,
        detail,
        "warning",
    )
}

fn unmatched_selections_card(kb_version: &str, selections: &[String], hook_instance: &str) -> Card {
    request_card(
        kb_version,
        &[hook_instance, "unmatched-selections"],
        summary_line(&format!(
            "Selected order(s) not among the draft orders: {}",
            selections.join(", ")
        )),
        format!(
            "`context.selections` named {}, which no draft order in `context.draftOrders` \
             is. When no selected medication order was found, every draft medication order \
             was checked as the order being placed. Check that the order selected is the one \
             checked.",
            listed(selections)
        ),
        "warning",
    )
}

fn prefetch_gap_card(kb_version: &str, key: &str, what: &str, hook_instance: &str) -> Card {
    request_card(
        kb_version,
        &[hook_instance, "prefetch-gap", key],
        summary_line(&format!("Prefetch `{key}` incomplete: {what}")),
        format!(
            "The request's `prefetch.{}`: {}. Its missing records were **not** checked, and \
             this service does not query the FHIR server: check the medication list, labs and \
             conditions by hand.",
            md_escape(key),
            md_escape(what)
        ),
        "warning",
    )
}

fn no_med_list_card(kb_version: &str, hook_instance: &str) -> Card {
    request_card(
        kb_version,
        &[hook_instance, "no-medication-list"],
        "No active medication list was sent: only the draft orders were checked".to_owned(),
        "The request's `prefetch` held no MedicationRequest or MedicationStatement \
         Bundle, and this service does not query the FHIR server. Interactions with \
         the patient's current medications were **not** checked."
            .to_owned(),
        "info",
    )
}

/// `POST /cds-services/{id}`: the cards for a hook request.
pub async fn hook(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CdsResponse>, ApiError> {
    let service = SERVICES
        .iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError {
            status: StatusCode::NOT_FOUND,
            field: None,
            message: "no such CDS service (see GET /cds-services)".to_owned(),
        })?;
    let body = body?;
    let checks = Arc::clone(&state.checks);
    super::off_the_runtime(&checks, move || {
        let req = parse_hook_request(&body, service, &state.kb, &state.limits, today_utc())?;
        Ok(Json(cards(&state.kb, &req, state.card_level)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn ages_from_birth_dates() {
        assert_eq!(age_on("1940-06-15", (2026, 6, 14)), Some(85.0));
        assert_eq!(age_on("1940-06-15", (2026, 6, 15)), Some(86.0));
        assert_eq!(age_on("1940", (2026, 1, 1)), Some(86.0));
        assert_eq!(age_on("not a date", (2026, 1, 1)), None);
    }

    #[test]
    fn times_compare_as_instants() {
        let day = 19_723 * 86_400;
        assert_eq!(instant("2024-01-01"), Some(day));
        assert_eq!(instant("2024"), Some(day));
        assert_eq!(instant("2024-01-01T01:30:00Z"), Some(day + 5_400));
        assert_eq!(instant("2024-01-01T01:30:00.250+01:00"), Some(day + 1_800));
        assert_eq!(instant("2023-12-31T23:00:00-05:00"), Some(day + 14_400));
        assert_eq!(instant("yesterday"), None);
        assert_eq!(instant("2024-01-01 01:30:00+0100"), Some(day + 1_800));
        assert_eq!(instant("2024-01-0\u{e9}1"), None);
        // A time of day out of range is no instant (the caller falls back
        // to the day): `T99:99` must not rank a result days later.
        for bad in [
            "2024-01-01T99:99:99Z",
            "2024-01-01T10:61:00Z",
            "2024-01-01T10:00:75Z",
            "2024-01-01T10:00:00+99:99",
            "2024-01-01T10:00:00ZZ",
            "2024-01-01T1",
            "2024-01-01T10:00:00:00Z",
            "2024-01-01T+1:00",
        ] {
            assert_eq!(instant(bad), None, "{bad}");
        }
        assert_eq!(instant("2024-01-01T24:00:00Z"), Some(day + 86_400));
    }
}
