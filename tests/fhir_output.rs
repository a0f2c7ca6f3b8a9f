//! `check --format fhir`: the output is a FHIR R4 Bundle of DetectedIssue
//! resources, validated here against the R4 element rules this project
//! relies on (https://hl7.org/fhir/r4/bundle.html,
//! https://hl7.org/fhir/r4/detectedissue.html): required elements and
//! cardinalities, the value sets of `Bundle.type`, `DetectedIssue.status`
//! and `DetectedIssue.severity`, the ActCode codes used, data type shapes,
//! and no element R4 does not define.

mod common;

use common::crampcheck;
use serde_json::{Map, Value};

const BUNDLE_ELEMENTS: [&str; 9] = [
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "identifier",
    "type",
    "timestamp",
    "entry",
];
const BUNDLE_TYPES: [&str; 9] = [
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
];
/// R4 DetectedIssue elements (DomainResource elements included).
const ISSUE_ELEMENTS: [&str; 21] = [
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "identifier",
    "status",
    "code",
    "severity",
    "patient",
    "identifiedDateTime",
    "identifiedPeriod",
    "author",
    "implicated",
    "evidence",
    "detail",
    "reference",
];
/// R4 DetectedIssue.status is bound (required) to ObservationStatus.
const ISSUE_STATUS: [&str; 8] = [
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
];
const ISSUE_SEVERITY: [&str; 3] = ["high", "moderate", "low"];
const ACT_CODE: &str = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
/// The ActCode concepts crampcheck emits, with their displays.
const ACT_CODES: [(&str, &str); 4] = [
    ("DRG", "Drug Interaction Alert"),
    ("DUPTHPY", "Duplicate Therapy Alert"),
    ("COND", "Condition Alert"),
    ("DOSE", "Dosage problem"),
];

fn object<'a>(value: &'a Value, what: &str) -> &'a Map<String, Value> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("{what} is not an object: {value}"))
}

fn only_known(map: &Map<String, Value>, known: &[&str], what: &str) {
    for key in map.keys() {
        assert!(
            known.contains(&key.as_str()),
            "{what}: `{key}` is not an R4 element"
        );
    }
    for (key, value) in map {
        // FHIR forbids empty objects, arrays and strings, and nulls.
        let empty = match value {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            _ => false,
        };
        assert!(!empty, "{what}.{key} is empty or null");
    }
}

fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

fn check_reference(value: &Value, what: &str) {
    let r = object(value, what);
    only_known(r, &["reference", "type", "identifier", "display"], what);
    assert!(
        r.contains_key("reference") || r.contains_key("identifier") || r.contains_key("display"),
        "{what}: a Reference needs reference, identifier or display"
    );
}

fn check_codeable_concept(value: &Value, what: &str) {
    let cc = object(value, what);
    only_known(cc, &["coding", "text"], what);
    for (i, coding) in cc
        .get("coding")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let c = object(coding, &format!("{what}.coding[{i}]"));
        only_known(
            c,
            &["system", "version", "code", "display", "userSelected"],
            what,
        );
        let system = c["system"].as_str().unwrap_or("");
        assert!(
            system.starts_with("http://") || system.starts_with("urn:"),
            "{what}: system uri"
        );
        let code = c["code"].as_str().unwrap_or("");
        assert!(
            !code.is_empty() && !code.contains(char::is_whitespace),
            "{what}: code"
        );
        if system == ACT_CODE {
            let display = c["display"].as_str().unwrap_or("");
            assert!(
                ACT_CODES.contains(&(code, display)),
                "{what}: ActCode {code} \"{display}\" is not one crampcheck documents"
            );
        }
    }
}

/// Validates a Bundle of DetectedIssues; returns the issues.
fn validate(bundle: &Value) -> Vec<Map<String, Value>> {
    let b = object(bundle, "Bundle");
    assert_eq!(b["resourceType"], "Bundle");
    only_known(b, &BUNDLE_ELEMENTS, "Bundle");
    let kind = b["type"]
        .as_str()
        .unwrap_or_else(|| panic!("Bundle.type is required"));
    assert!(BUNDLE_TYPES.contains(&kind));
    assert_eq!(kind, "collection");
    let mut urls = std::collections::HashSet::new();
    let mut issues = Vec::new();
    for (i, entry) in b
        .get("entry")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let what = format!("Bundle.entry[{i}]");
        let e = object(entry, &what);
        only_known(e, &["fullUrl", "resource"], &what);
        let url = e["fullUrl"].as_str().unwrap_or("");
        assert!(url.starts_with("urn:uuid:"), "{what}.fullUrl");
        assert!(urls.insert(url.to_owned()), "bdl-7: fullUrl must be unique");
        let r = object(&e["resource"], &format!("{what}.resource"));
        assert_eq!(r["resourceType"], "DetectedIssue");
        only_known(r, &ISSUE_ELEMENTS, "DetectedIssue");
        let id = r["id"].as_str().unwrap_or("");
        assert!(valid_id(id), "id {id}");
        assert_eq!(url, format!("urn:uuid:{id}"));
        let status = r["status"]
            .as_str()
            .unwrap_or_else(|| panic!("status is 1..1"));
        assert!(ISSUE_STATUS.contains(&status));
        if let Some(severity) = r.get("severity") {
            assert!(ISSUE_SEVERITY.contains(&severity.as_str().unwrap_or("")));
        }
        if let Some(code) = r.get("code") {
            check_codeable_concept(code, "DetectedIssue.code");
        }
        for (j, implicated) in r
            .get("implicated")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            check_reference(implicated, &format!("DetectedIssue.implicated[{j}]"));
        }
        for (j, evidence) in r
            .get("evidence")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let what = format!("DetectedIssue.evidence[{j}]");
            let ev = object(evidence, &what);
            only_known(ev, &["code", "detail"], &what);
            for code in ev
                .get("code")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                check_codeable_concept(code, &what);
            }
            for detail in ev
                .get("detail")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                check_reference(detail, &what);
            }
        }
        if let Some(detail) = r.get("detail") {
            assert!(detail.is_string(), "detail is a string");
        }
        if let Some(reference) = r.get("reference") {
            let uri = reference.as_str().unwrap_or("");
            assert!(
                uri.starts_with("http://") || uri.starts_with("https://"),
                "reference uri"
            );
        }
        for (j, identifier) in r
            .get("identifier")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let what = format!("DetectedIssue.identifier[{j}]");
            only_known(
                object(identifier, &what),
                &["use", "type", "system", "value", "period", "assigner"],
                &what,
            );
        }
        issues.push(r.clone());
    }
    issues
}

fn fhir(args: &[&str]) -> Value {
    let out = crampcheck()
        .args(["check", "--format", "fhir"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

fn json_doc(args: &[&str]) -> Value {
    common::check_json(args).1
}

#[test]
fn interaction_condition_and_boxed_warning_become_valid_detected_issues() {
    let args = [
        "--propose",
        "quinine 324 mg bid",
        "--med",
        "clarithromycin 500 mg bid",
        "--med",
        "simvastatin 40 mg",
        "--qtc",
        "480",
        "--egfr",
        "25",
    ];
    let bundle = fhir(&args);
    let issues = validate(&bundle);
    let doc = json_doc(&args);
    let findings = doc["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        issues.len(),
        findings.len(),
        "one DetectedIssue per finding"
    );
    for (issue, finding) in issues.iter().zip(&findings) {
        let expected = match finding["severity"].as_str().unwrap_or("") {
            "contraindicated" | "major" => "high",
            "moderate" => "moderate",
            _ => "low",
        };
        assert_eq!(issue["severity"], expected, "{finding}");
        // R4 has one `high` for contraindicated and major, and no action:
        // both are carried as extensions.
        let extensions: Vec<(&str, &str)> = issue["extension"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e["url"].as_str()?, e["valueCode"].as_str()?)))
            .collect();
        assert_eq!(
            extensions,
            [
                (
                    "urn:crampcheck:extension:severity",
                    finding["severity"].as_str().unwrap_or("")
                ),
                (
                    "urn:crampcheck:extension:action",
                    finding["action"].as_str().unwrap_or("")
                ),
            ],
            "{issue:?}"
        );
        assert_eq!(issue["status"], "final");
        let detail = issue["detail"].as_str().unwrap_or("");
        if let Some(m) = finding["mechanism"].as_str().filter(|m| !m.is_empty()) {
            assert!(detail.contains(m), "detail holds the mechanism");
        }
        if let Some(m) = finding["management"].as_str().filter(|m| !m.is_empty()) {
            assert!(detail.contains(m), "detail holds the management");
        }
        let codes: Vec<&str> = issue["code"]["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["code"].as_str())
            .collect();
        let kind = finding["kind"].as_str().unwrap_or("");
        match kind {
            "interaction" => assert_eq!(codes, ["DRG"]),
            "condition" => assert_eq!(codes, ["COND"]),
            "duplicate" => assert_eq!(codes, ["DUPTHPY"]),
            "dose" => assert_eq!(codes, ["DOSE"]),
            _ => assert!(codes.is_empty() && issue["code"]["text"].is_string()),
        }
        if let Some(url) = finding["sources"][0]["url"].as_str() {
            assert_eq!(issue["reference"], url);
        }
    }
    let interaction = issues
        .iter()
        .find(|i| {
            i["code"]["coding"][0]["code"] == "DRG"
                && i["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("clarithromycin"))
        })
        .unwrap_or_else(|| panic!("no DRG issue: {bundle:#}"));
    let implicated: Vec<&str> = interaction["implicated"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["display"].as_str())
        .collect();
    assert_eq!(implicated.len(), 2, "{implicated:?}");
    assert!(implicated[0].contains("proposed: quinine 324 mg bid"));
    assert!(implicated[1].contains("clarithromycin 500 mg bid"));
    let qt = issues
        .iter()
        .find(|i| {
            i["code"]["coding"][0]["code"] == "COND"
                && i["detail"].as_str().is_some_and(|d| d.contains("QT"))
        })
        .unwrap_or_else(|| panic!("no COND issue"));
    assert_eq!(qt["severity"], "high");
    assert!(
        qt["evidence"][0]["code"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("QTc 480"))
    );
}

#[test]
fn a_listed_order_s_dose_problem_implicates_that_order_alone() {
    // Under UK facts the listed quinine 2,400 mg/day is over the maximum;
    // the proposed quinine 200 mg nightly is not, and was implicated too.
    let bundle = fhir(&[
        "--propose",
        "quinine 200 mg nightly",
        "--med",
        "quinine 600 mg qid",
        "--jurisdiction",
        "UK",
    ]);
    let issues = validate(&bundle);
    let dose = issues
        .iter()
        .find(|i| i["code"]["coding"][0]["code"] == "DOSE")
        .unwrap_or_else(|| panic!("{bundle:#}"));
    let implicated: Vec<&str> = dose["implicated"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["display"].as_str())
        .collect();
    assert_eq!(implicated, ["quinine (quinine 600 mg qid)"], "{dose:?}");
}

#[test]
fn duplicate_therapy_and_unrecognized_names_are_valid_too() {
    let bundle = fhir(&[
        "--propose",
        "baclofen",
        "--med",
        "tizanidine 4 mg",
        "--med",
        "qwxyzzy",
    ]);
    let issues = validate(&bundle);
    assert!(!issues.is_empty());
    let unrecognized = issues
        .iter()
        .find(|i| i["code"]["text"] == "Medication not recognized; not checked")
        .unwrap_or_else(|| panic!("{bundle:#}"));
    assert_eq!(unrecognized["severity"], "low");
    assert!(
        unrecognized["implicated"][0]["display"]
            .as_str()
            .is_some_and(|d| d.contains("qwxyzzy"))
    );
    // Its reason is a reason, as in the text report: not a "mechanism".
    let detail = unrecognized["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("\nWhy: Medication 2"), "{detail}");
    assert!(!detail.contains("Mechanism:"), "{detail}");
}

#[test]
fn no_findings_is_an_empty_valid_bundle_and_output_is_deterministic() {
    let a = crampcheck()
        .args(["check", "--format", "fhir", "--propose", "magnesium oxide"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let b = crampcheck()
        .args(["check", "--format", "fhir", "--propose", "magnesium oxide"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(a.stdout, b.stdout, "byte-identical");
    let bundle: Value = serde_json::from_slice(&a.stdout).unwrap_or_else(|e| panic!("{e}"));
    validate(&bundle);
}

#[test]
fn suggest_refuses_fhir() {
    let out = crampcheck()
        .args(["suggest", "--format", "fhir"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("check` only"));
}
