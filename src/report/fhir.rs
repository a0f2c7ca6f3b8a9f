//! FHIR R4 output: a `check` document as a `Bundle` (type `collection`) of
//! `DetectedIssue` resources, one per finding, for EHRs and other FHIR
//! systems (`check --format fhir`, and the API with `Accept:
//! application/fhir+json`). Written from the same [`CheckJson`] as the text
//! and JSON reports, so all of them say the same thing. No clock and no
//! random numbers are involved: identical input gives byte-identical output.
//!
//! Element names and cardinalities follow the R4 DetectedIssue resource
//! (<https://hl7.org/fhir/r4/detectedissue.html>): `status` 1..1, `code`
//! 0..1, `severity` 0..1 (`high` | `moderate` | `low`), `implicated` 0..*,
//! `evidence` 0..*, `detail` 0..1 string, `reference` 0..1 uri.

use super::json::{CheckJson, FindingJson};
use crate::engine::conditions::LABEL_WARNING;
use crate::engine::inputs::READ_BY_SPELLING;
use serde::Serialize;

/// The v3 ActCode code system, where DetectedIssue codes come from.
pub const ACT_CODE_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

/// The identifier system of KB rule ids (`identifier.system`).
pub const RULE_ID_SYSTEM: &str = "urn:crampcheck:kb-rule";

/// The MIME type of FHIR JSON.
pub const FHIR_JSON: &str = "application/fhir+json";

/// A FHIR R4 `Bundle`.
#[derive(Debug, Serialize)]
pub struct Bundle {
    /// Always `Bundle`.
    #[serde(rename = "resourceType")]
    pub resource_type: &'static str,
    /// Always `collection`: a set of resources, not a transaction.
    #[serde(rename = "type")]
    pub bundle_type: &'static str,
    /// One entry per finding, most severe first (absent when there are
    /// none: FHIR forbids empty arrays).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<Entry>,
}

/// One `Bundle.entry`.
#[derive(Debug, Serialize)]
pub struct Entry {
    /// `urn:uuid:` + the resource id.
    #[serde(rename = "fullUrl")]
    pub full_url: String,
    /// The DetectedIssue.
    pub resource: DetectedIssue,
}

/// A FHIR R4 `DetectedIssue`.
#[derive(Debug, Serialize)]
pub struct DetectedIssue {
    /// Always `DetectedIssue`.
    #[serde(rename = "resourceType")]
    pub resource_type: &'static str,
    /// A UUID derived from the finding's content (stable across runs).
    pub id: String,
    /// The KB rows merged into the finding.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifier: Vec<Identifier>,
    /// Always `final`: the check is complete when it is reported.
    pub status: &'static str,
    /// What kind of issue (v3 ActCode where one fits, else text only).
    pub code: CodeableConcept,
    /// `high` | `moderate` | `low`.
    pub severity: &'static str,
    /// crampcheck's own severity and action (`contraindicated` and `major`
    /// are both `high` in R4's value set; the action is in no R4 element).
    pub extension: Vec<Extension>,
    /// The medications involved (display-only references).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub implicated: Vec<Reference>,
    /// The patient fact behind a condition finding, and the cited sources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// Headline, mechanism, effect and management.
    pub detail: String,
    /// Where the first cited source can be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A FHIR `extension` carrying a code.
#[derive(Debug, Serialize)]
pub struct Extension {
    /// What the code means: [`SEVERITY_EXTENSION`] or [`ACTION_EXTENSION`].
    pub url: &'static str,
    /// The code, as in the JSON format.
    #[serde(rename = "valueCode")]
    pub value_code: &'static str,
}

/// Extension url of a finding's crampcheck severity (`contraindicated`,
/// `major`, `moderate`, `minor`, `info`).
pub const SEVERITY_EXTENSION: &str = "urn:crampcheck:extension:severity";
/// Extension url of a finding's action (`avoid`, `adjust-dose`, `monitor`, …).
pub const ACTION_EXTENSION: &str = "urn:crampcheck:extension:action";

/// A FHIR `Identifier`.
#[derive(Debug, Serialize)]
pub struct Identifier {
    /// Namespace of the value.
    pub system: &'static str,
    /// The KB rule id.
    pub value: String,
}

/// A FHIR `CodeableConcept`.
#[derive(Debug, Serialize)]
pub struct CodeableConcept {
    /// Codes, if a code system has one that fits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coding: Vec<Coding>,
    /// Plain-language meaning.
    pub text: String,
}

/// A FHIR `Coding`.
#[derive(Debug, Serialize)]
pub struct Coding {
    /// Code system URI.
    pub system: &'static str,
    /// The code.
    pub code: &'static str,
    /// Its display as the code system gives it.
    pub display: &'static str,
}

/// A FHIR `Reference` carrying only a display (there is no FHIR server
/// behind the medication strings to point at).
#[derive(Debug, Serialize)]
pub struct Reference {
    /// What is referred to, in words.
    pub display: String,
}

/// A `DetectedIssue.evidence` element.
#[derive(Debug, Serialize)]
pub struct Evidence {
    /// The patient fact (condition and its basis).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<CodeableConcept>,
    /// The cited sources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub detail: Vec<Reference>,
}

/// The ActCode concept for a finding kind, if one fits. Codes and displays
/// are from HL7's v3 ActCode system as listed in the
/// ActSuppliedItemDetectedIssueCode / AdministrationDetectedIssueCode value
/// sets (<https://hl7.org/fhir/uv/xver-r5.r4/0.1.0/lookup-vs-R5-v3-AdministrationDetectedIssueCode-for-R4.html>,
/// <https://hl7.org/fhir/uv/xver-r5.r4/0.0.1-snapshot-2/ValueSet-R5-v3-ActSuppliedItemDetectedIssueCode-for-R4.html>):
/// `DRG` "Drug Interaction Alert", `DUPTHPY` "Duplicate Therapy Alert",
/// `COND` "Condition Alert" (an ObservationAlert: "proposed therapy may be
/// inappropriate or contraindicated due to an existing/recent patient
/// condition or diagnosis",
/// <https://build.fhir.org/ig/HL7/UTG/ValueSet-v3-ObservationDetectedIssueCode.html>)
/// for drug–condition and drug–lab findings, and `DOSE` "Dosage problem".
/// A boxed warning, a cramp-causing medication and an unrecognized name have
/// no ActCode concept that says what they are, so they carry text only
/// (`DetectedIssue.code` is bound with strength *preferred*, not required).
pub fn act_code(kind: &str) -> Option<Coding> {
    let (code, display) = match kind {
        "interaction" => ("DRG", "Drug Interaction Alert"),
        "duplicate" => ("DUPTHPY", "Duplicate Therapy Alert"),
        "condition" => ("COND", "Condition Alert"),
        "dose" => ("DOSE", "Dosage problem"),
        _ => return None,
    };
    Some(Coding {
        system: ACT_CODE_SYSTEM,
        code,
        display,
    })
}

/// The R4 DetectedIssue severity of a crampcheck severity
/// (<https://hl7.org/fhir/r4/valueset-detectedissue-severity.html>).
pub fn fhir_severity(severity: &str) -> &'static str {
    match severity {
        "contraindicated" | "major" => "high",
        "moderate" => "moderate",
        _ => "low",
    }
}

fn kind_text(kind: &str) -> &'static str {
    match kind {
        "interaction" => "Drug interaction",
        "duplicate" => "Duplicate therapy",
        "condition" => "Drug–condition issue",
        "dose" => "Dose problem",
        "boxed_warning" => "Boxed warning",
        "cause" => "Medication that may cause cramps",
        _ => "Medication not recognized; not checked",
    }
}

/// A UUID-shaped id derived from `parts` (two FNV-1a 64-bit hashes), with
/// the version nibble set to 8 (custom) and the RFC 9562 variant bits, so
/// the same content always gets the same id without a clock or randomness.
pub fn stable_uuid(parts: &[&str]) -> String {
    let hash = |seed: u64| {
        let mut h = seed;
        for part in parts {
            for b in part.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    };
    let hi = hash(0xcbf2_9ce4_8422_2325);
    let lo = hash(0x8422_2325_cbf2_9ce4);
    let hi = (hi & !0xf000) | 0x8000;
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

fn detail_text(f: &FindingJson) -> String {
    let mut parts = vec![f.title.clone()];
    if let Some(basis) = &f.basis {
        parts.push(format!("Patient: {basis}"));
    }
    if !f.mechanism.is_empty() {
        parts.push(format!("Why: {}", f.mechanism));
    }
    if let Some(effect) = f.effect_beyond_title() {
        parts.push(format!("Effect: {effect}"));
    }
    if !f.management.is_empty() {
        parts.push(format!("Management: {}", f.management));
    }
    parts.join("\n")
}

fn issue(doc: &CheckJson, f: &FindingJson) -> DetectedIssue {
    let mut implicated = Vec::new();
    // A dose finding on a listed medication is about that order alone,
    // even when it is the same drug as the one proposed.
    let on_a_listed_order = f.kind == "dose" && !f.medication_indices.is_empty();
    let about_proposed = !matches!(f.kind, "cause" | "unrecognized")
        && !on_a_listed_order
        && f.drugs.iter().any(|d| doc.proposed.ingredients.contains(d));
    if about_proposed {
        implicated.push(Reference {
            display: format!(
                "{} (proposed: {})",
                doc.proposed.ingredients.join(" + "),
                doc.proposed.input.trim()
            ),
        });
    }
    for med in f
        .medication_indices
        .iter()
        .filter_map(|i| doc.medications.get(*i))
    {
        let display = if med.ingredients.is_empty() {
            med.input.trim().to_owned()
        } else {
            format!("{} ({})", med.ingredients.join(" + "), med.input.trim())
        };
        implicated.push(Reference { display });
    }
    let mut evidence = Vec::new();
    let code: Vec<CodeableConcept> = match (&f.condition, &f.basis) {
        (Some(c), Some(basis)) => vec![CodeableConcept {
            coding: Vec::new(),
            text: format!("{c} ({basis})"),
        }],
        (Some(c), None) => vec![CodeableConcept {
            coding: Vec::new(),
            text: c.clone(),
        }],
        _ => Vec::new(),
    };
    let cited: Vec<Reference> = f
        .sources
        .iter()
        .map(|s| Reference {
            display: format!(
                "{}, {} ({}, {})",
                s.citation,
                s.section,
                s.jurisdiction,
                if s.date.is_empty() {
                    "undated"
                } else {
                    &s.date
                }
            ),
        })
        .collect();
    if !code.is_empty() || !cited.is_empty() {
        evidence.push(Evidence {
            code,
            detail: cited,
        });
    }
    let indices: Vec<String> = f.medication_indices.iter().map(|i| i.to_string()).collect();
    let mut key = vec![
        doc.kb.version.as_str(),
        doc.proposed.input.as_str(),
        f.kind,
        f.title.as_str(),
    ];
    key.extend(f.rule_ids.iter().map(String::as_str));
    key.extend(f.drugs.iter().map(String::as_str));
    key.extend(indices.iter().map(String::as_str));
    key.extend(
        f.medication_indices
            .iter()
            .filter_map(|i| doc.medications.get(*i))
            .map(|m| m.input.as_str()),
    );
    DetectedIssue {
        resource_type: "DetectedIssue",
        id: stable_uuid(&key),
        identifier: f
            .rule_ids
            .iter()
            .map(|r| Identifier {
                system: RULE_ID_SYSTEM,
                value: r.clone(),
            })
            .collect(),
        status: "final",
        code: CodeableConcept {
            coding: act_code(f.kind).into_iter().collect(),
            text: if f.title.starts_with(LABEL_WARNING) {
                LABEL_WARNING.to_owned()
            } else if f.kind == "unrecognized" && f.title.ends_with(READ_BY_SPELLING) {
                "Medication name read by its spelling; confirm it".to_owned()
            } else {
                kind_text(f.kind).to_owned()
            },
        },
        severity: fhir_severity(f.severity),
        extension: vec![
            Extension {
                url: SEVERITY_EXTENSION,
                value_code: f.severity,
            },
            Extension {
                url: ACTION_EXTENSION,
                value_code: f.action,
            },
        ],
        implicated,
        evidence,
        detail: detail_text(f),
        reference: f
            .sources
            .iter()
            .map(|s| s.url.trim())
            .find(|u| u.starts_with("http://") || u.starts_with("https://"))
            .map(str::to_owned),
    }
}

/// The Bundle of DetectedIssues for a check document, in the document's
/// finding order (most severe first). An empty Bundle means no findings.
pub fn bundle(doc: &CheckJson) -> Bundle {
    Bundle {
        resource_type: "Bundle",
        bundle_type: "collection",
        entry: doc
            .findings
            .iter()
            .map(|f| {
                let resource = issue(doc, f);
                Entry {
                    full_url: format!("urn:uuid:{}", resource.id),
                    resource,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_uuid_is_uuid_shaped_and_deterministic() {
        let a = stable_uuid(&["quinine", "clarithromycin"]);
        assert_eq!(a, stable_uuid(&["quinine", "clarithromycin"]));
        assert_ne!(a, stable_uuid(&["quinineclarithromycin"]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn severity_mapping_follows_the_issue() {
        assert_eq!(fhir_severity("contraindicated"), "high");
        assert_eq!(fhir_severity("major"), "high");
        assert_eq!(fhir_severity("moderate"), "moderate");
        assert_eq!(fhir_severity("minor"), "low");
        assert_eq!(fhir_severity("info"), "low");
    }
}
