//! End-to-end tests of `crampcheck suggest` with realistic patients: the real
//! binary, the embedded KB, assertions on the `crampcheck.suggest/1` document
//! and the text table.

mod common;

use common::{check_json, crampcheck};
use serde_json::Value;

/// Runs `suggest --format json`; returns the exit code and the document.
fn suggest_json(args: &[&str]) -> (i32, Value) {
    common::run_json("suggest", args)
}

/// Runs `suggest` (text); returns the exit code and stdout.
fn suggest_text(args: &[&str]) -> (i32, String) {
    let out = crampcheck()
        .arg("suggest")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn therapies(doc: &Value) -> &Vec<Value> {
    doc["therapies"]
        .as_array()
        .unwrap_or_else(|| panic!("no therapies in {doc}"))
}

fn therapy<'a>(doc: &'a Value, drug: &str) -> &'a Value {
    therapies(doc)
        .iter()
        .find(|t| t["drug"] == drug)
        .unwrap_or_else(|| panic!("no therapy {drug} in {doc}"))
}

fn status(doc: &Value, drug: &str) -> String {
    therapy(doc, drug)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn step<'a>(doc: &'a Value, code: &str) -> Option<&'a Value> {
    doc["steps"]
        .as_array()
        .and_then(|steps| steps.iter().find(|s| s["code"] == code))
}

fn has_finding(t: &Value, kind: &str, pred: impl Fn(&Value) -> bool) -> bool {
    t["findings"]
        .as_array()
        .is_some_and(|fs| fs.iter().any(|f| f["kind"] == kind && pred(f)))
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

const CIRRHOSIS_ON_DIURETICS: [&str; 8] = [
    "--med",
    "spironolactone 100 mg daily",
    "--med",
    "furosemide 40 mg daily",
    "--condition",
    "cirrhosis",
    "--egfr",
    "70",
];

#[test]
fn cirrhosis_on_diuretics_gets_baclofen_preferred_with_weekly_titration() {
    let (code, doc) = suggest_json(&CIRRHOSIS_ON_DIURETICS);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["schema"], "crampcheck.suggest/1");
    assert_eq!(doc["indication"]["code"], "cirrhosis");
    assert_eq!(doc["indication"]["basis"], "condition");
    let first = &therapies(&doc)[0];
    assert_eq!(first["drug"], "baclofen", "{doc}");
    assert_eq!(first["status"], "preferred");
    assert_eq!(first["rank"], 1);
    assert_eq!(first["standing"]["standing"], "recommended");
    assert_eq!(first["evidence_level"], "B");
    let dosing = &first["dosing"];
    assert_eq!(dosing["start_mg_per_day"], 10.0);
    assert_eq!(dosing["max_mg_per_day"], 30.0);
    assert_eq!(dosing["flag"], Value::Null, "eGFR 70 flags nothing");
    let steps: Vec<(u64, Option<u64>, f64)> = dosing["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {dosing}"))
        .iter()
        .map(|s| {
            (
                s["from_day"].as_u64().unwrap_or(0),
                s["to_day"].as_u64(),
                s["mg_per_day"].as_f64().unwrap_or(0.0),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [(1, Some(7), 10.0), (8, Some(14), 20.0), (15, None, 30.0)]
    );
    assert!(
        !dosing["sources"].as_array().is_none_or(Vec::is_empty),
        "the plan cites its source"
    );
    // The diuretics are named as likely causes, with a source.
    let review = step(&doc, "review-cramp-causing-drugs")
        .unwrap_or_else(|| panic!("no review step in {doc}"));
    assert_eq!(names(&review["drugs"]), ["furosemide", "spironolactone"]);
    for f in review["findings"].as_array().into_iter().flatten() {
        assert_eq!(f["kind"], "cause");
        assert_eq!(f["severity"], "info");
        assert!(!f["sources"].as_array().is_none_or(Vec::is_empty), "{f}");
    }
    assert!(!review["sources"].as_array().is_none_or(Vec::is_empty));
}

#[test]
fn cirrhosis_text_shows_the_week_by_week_schedule() {
    let (code, text) = suggest_text(&CIRRHOSIS_ON_DIURETICS);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Cramp therapies for cirrhosis"), "{text}");
    assert!(
        text.contains("week 1: 10 mg/day; week 2: 20 mg/day; from week 3: 30 mg/day"),
        "{text}"
    );
    assert!(
        text.contains("Review drugs that may be causing the cramps: furosemide, spironolactone"),
        "{text}"
    );
    let table_row = text
        .lines()
        .find(|l| l.trim_start().starts_with("1  baclofen"))
        .unwrap_or_else(|| panic!("no table row for baclofen in {text}"));
    assert!(table_row.contains("preferred"), "{table_row}");
}

#[test]
fn each_therapy_carries_exactly_the_findings_check_reports() {
    let (_, doc) = suggest_json(&CIRRHOSIS_ON_DIURETICS);
    for drug in ["baclofen", "quinine", "magnesium"] {
        let mut args = vec!["--propose", drug];
        args.extend(CIRRHOSIS_ON_DIURETICS);
        let (_, checked) = check_json(&args);
        let about_therapy: Vec<&Value> = checked["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["kind"] != "cause" && f["kind"] != "unrecognized")
            .collect();
        let suggested: Vec<&Value> = therapy(&doc, drug)["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(suggested, about_therapy, "{drug}");
    }
}

#[test]
fn older_adult_with_low_egfr_on_oxycodone_avoids_baclofen_and_quinine() {
    let (code, doc) = suggest_json(&["--age", "80", "--egfr", "40", "--med", "oxycodone 5 mg q6h"]);
    assert_eq!(code, 0, "{doc}");
    let baclofen = therapy(&doc, "baclofen");
    assert_eq!(baclofen["status"], "avoid", "{baclofen}");
    assert!(
        has_finding(baclofen, "condition", |f| f["condition"]
            == "renal-impairment"
            && f["action"] == "avoid"
            && f["title"].as_str().is_some_and(|t| t.contains("Beers"))),
        "Beers renal rule: {baclofen}"
    );
    assert!(
        has_finding(baclofen, "interaction", |f| names(&f["drugs"])
            == ["baclofen", "oxycodone"]),
        "CNS depression with the opioid: {baclofen}"
    );
    let quinine = therapy(&doc, "quinine");
    assert_eq!(quinine["status"], "avoid");
    assert!(has_finding(quinine, "boxed_warning", |_| true), "{quinine}");
    let first = &therapies(&doc)[0];
    assert!(
        first["status"] == "preferred" || first["status"] == "acceptable",
        "a safer option comes first: {first}"
    );
    assert_ne!(first["drug"], "baclofen");
    assert_ne!(first["drug"], "quinine");
}

#[test]
fn baclofen_dose_is_flagged_when_the_renal_rule_applies() {
    let (_, older) = suggest_json(&["--condition", "cirrhosis", "--age", "80", "--egfr", "40"]);
    let dosing = &therapy(&older, "baclofen")["dosing"];
    assert_eq!(dosing["flag"], "avoid", "{dosing}");
    assert!(
        dosing["flag_reasons"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["condition"] == "renal-impairment")),
        "{dosing}"
    );
    // Under 65 the Beers rule does not apply; the label's caution asks for a
    // lower dose.
    let (_, younger) = suggest_json(&["--condition", "cirrhosis", "--age", "50", "--egfr", "40"]);
    let dosing = &therapy(&younger, "baclofen")["dosing"];
    assert_eq!(dosing["flag"], "reduce", "{dosing}");
}

#[test]
fn dialysis_under_us_facts_shows_the_foreign_end_stage_rows() {
    // The US label speaks of renal impairment in general (applied through
    // the implied renal-impairment); it says nothing of dialysis, so the
    // Canadian (about 5 mg a day) and German (contraindicated) rows for end-
    // stage disease must not be hidden by a copy of the general US row.
    for args in [
        &["--condition", "dialysis", "--condition", "cirrhosis"][..],
        &["--condition", "dialysis", "--age", "70"][..],
        &["--egfr", "10"][..],
    ] {
        let (_, doc) = suggest_json(args);
        assert_eq!(status(&doc, "baclofen"), "contraindicated", "{args:?}");
        let t = therapy(&doc, "baclofen");
        let severe = |f: &Value| f["condition"] == "end-stage-renal-disease";
        assert!(has_finding(t, "condition", severe), "{args:?}: {t}");
        let findings = t["findings"].as_array().cloned().unwrap_or_default();
        let rules: Vec<String> = findings
            .iter()
            .filter(|f| severe(f))
            .flat_map(|f| names(&f["rule_ids"]))
            .collect();
        assert!(
            rules.contains(&"bac-cc-dialysis-ca".to_owned())
                && rules.contains(&"bac-cc-esrd-eu".to_owned()),
            "{args:?}: {rules:?}"
        );
    }
}

#[test]
fn the_end_stage_contraindication_does_not_reach_egfr_15_to_29() {
    // The German label contraindicates baclofen in end-stage renal failure
    // and asks only for caution below that: eGFR 25 is not end-stage, in
    // any jurisdiction.
    for jurisdiction in ["US", "UK", "any"] {
        let (_, doc) = suggest_json(&["--egfr", "25", "--jurisdiction", jurisdiction]);
        let t = therapy(&doc, "baclofen");
        assert_ne!(status(&doc, "baclofen"), "contraindicated", "{t}");
        assert!(
            !has_finding(t, "condition", |f| f["severity"] == "contraindicated"),
            "{t}"
        );
        assert!(has_finding(t, "condition", |f| f["condition"] == "renal-impairment"));
    }
}

#[test]
fn clarithromycin_with_long_qtc_contraindicates_quinine() {
    let (_, doc) = suggest_json(&["--med", "clarithromycin 500 mg bid", "--qtc", "480"]);
    let quinine = therapy(&doc, "quinine");
    assert_eq!(quinine["status"], "contraindicated", "{quinine}");
    assert!(has_finding(quinine, "condition", |f| f["condition"]
        == "qt-prolongation"
        && f["severity"] == "contraindicated"));
    assert!(has_finding(quinine, "interaction", |f| names(&f["drugs"])
        == ["quinine", "clarithromycin"]));
    let last = therapies(&doc)
        .last()
        .unwrap_or_else(|| panic!("no therapies"));
    assert_eq!(last["status"], "contraindicated");
}

#[test]
fn simvastatin_40_puts_diltiazem_on_caution_naming_the_statin_limit() {
    let (_, doc) = suggest_json(&["--med", "simvastatin 40 mg daily"]);
    let diltiazem = therapy(&doc, "diltiazem");
    assert_eq!(diltiazem["status"], "caution", "{diltiazem}");
    assert!(
        has_finding(diltiazem, "interaction", |f| names(&f["drugs"])
            == ["diltiazem", "simvastatin"]
            && f["management"]
                .as_str()
                .is_some_and(|m| m.contains("simvastatin 10 mg"))),
        "{diltiazem}"
    );
    assert!(
        diltiazem["reason"]
            .as_str()
            .is_some_and(|r| r.contains("simvastatin")),
        "{diltiazem}"
    );
    // Simvastatin is also a likely cause of the cramps.
    let review = step(&doc, "review-cramp-causing-drugs").unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(names(&review["drugs"]), ["simvastatin"]);
}

#[test]
fn myasthenia_gravis_contraindicates_quinine_and_orphenadrine() {
    let (_, doc) = suggest_json(&["--condition", "myasthenia-gravis"]);
    for drug in ["quinine", "orphenadrine"] {
        let t = therapy(&doc, drug);
        assert_eq!(t["status"], "contraindicated", "{t}");
        assert!(has_finding(t, "condition", |f| f["condition"]
            == "myasthenia-gravis"
            && f["severity"] == "contraindicated"));
    }
}

#[test]
fn low_potassium_puts_the_correction_step_first() {
    let (_, doc) = suggest_json(&["--potassium", "3.0"]);
    let first = &doc["steps"][0];
    assert_eq!(first["code"], "correct-hypokalemia", "{doc}");
    assert!(
        first["basis"].as_str().is_some_and(|b| b.contains("3")),
        "{first}"
    );
    assert!(!first["sources"].as_array().is_none_or(Vec::is_empty));
    // The KB says low potassium raises quinine's QT risk; the step says so.
    assert!(
        names(&first["drugs"]).contains(&"quinine".to_owned()),
        "{first}"
    );
    let (_, text) = suggest_text(&["--potassium", "3.0"]);
    let first_step = text
        .lines()
        .find(|l| l.trim_start().starts_with("1. "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(first_step.contains("Correct low potassium first"), "{text}");
    // Normal potassium: no correction step.
    let (_, normal) = suggest_json(&["--potassium", "4.2"]);
    assert!(step(&normal, "correct-hypokalemia").is_none());
}

#[test]
fn low_magnesium_gets_its_own_correction_step() {
    let (_, doc) = suggest_json(&["--magnesium", "1.2 mg/dL"]);
    assert_eq!(doc["steps"][0]["code"], "correct-hypomagnesemia", "{doc}");
    // A bare 0.7 reads two ways (normal in mmol/L, severe in mg/dL): its
    // unit is asked for, in one line, with exit 2.
    let out = crampcheck()
        .args(["suggest", "--magnesium", "0.7"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("0.7 mmol/L"), "{stderr}");
}

#[test]
fn stretching_is_advised_with_its_guideline_source() {
    let (_, doc) = suggest_json(&[]);
    let stretching = step(&doc, "stretching").unwrap_or_else(|| panic!("{doc}"));
    let sources = stretching["sources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!sources.is_empty(), "{stretching}");
    for s in sources {
        let text = format!("{} {}", s["citation"], s["section"]).to_lowercase();
        assert!(text.contains("stretch"), "{s}");
    }
}

#[test]
fn unresolved_medication_makes_the_suggestion_incomplete() {
    let (code, doc) = suggest_json(&["--med", "zorblax 10 mg", "--med", "furosemide 40 mg"]);
    assert_eq!(code, 1);
    assert_eq!(doc["complete"], false);
    assert_eq!(names(&doc["unresolved"]), ["zorblax 10 mg"]);
    assert!(
        doc["medication_findings"]
            .as_array()
            .is_some_and(|fs| fs.iter().any(|f| f["kind"] == "unrecognized")),
        "{doc}"
    );
    let (code, text) = suggest_text(&["--med", "zorblax 10 mg"]);
    assert_eq!(code, 1);
    assert!(text.contains("INCOMPLETE"), "{text}");
    assert!(text.contains("`zorblax 10 mg`"), "{text}");
}

#[test]
fn bad_input_exits_2() {
    for args in [
        vec!["--indication", "gout"],
        vec!["--egfr", "900"],
        vec!["--condition", "nonsense-condition"],
        vec!["--jurisdiction", "mars"],
        vec!["--med", "  "],
    ] {
        let out = crampcheck()
            .arg("suggest")
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("run: {e}"));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn stated_indication_wins_over_the_implied_one_and_adds_its_condition() {
    let (_, doc) = suggest_json(&["--condition", "cirrhosis", "--indication", "idiopathic"]);
    assert_eq!(doc["indication"]["code"], "idiopathic");
    assert_eq!(doc["indication"]["basis"], "stated");
    let (_, doc) = suggest_json(&["--indication", "cirrhosis"]);
    assert!(
        doc["patient"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|x| x["code"] == "cirrhosis")),
        "{doc}"
    );
    let (_, doc) = suggest_json(&[]);
    assert_eq!(doc["indication"]["code"], "idiopathic");
    assert_eq!(doc["indication"]["basis"], "default");
}

#[test]
fn every_kb_therapy_is_listed_once_ranked_by_status() {
    let (_, doc) = suggest_json(&["--age", "80", "--egfr", "40", "--med", "oxycodone 5 mg q6h"]);
    let list = therapies(&doc);
    let mut drugs: Vec<&str> = list.iter().filter_map(|t| t["drug"].as_str()).collect();
    let count = drugs.len();
    drugs.sort_unstable();
    drugs.dedup();
    assert_eq!(drugs.len(), count, "no therapy twice");
    for expected in [
        "albumin",
        "baclofen",
        "diltiazem",
        "magnesium",
        "methocarbamol",
        "naftidrofuryl",
        "orphenadrine",
        "quinidine",
        "quinine",
        "vitamin b complex",
    ] {
        assert!(drugs.contains(&expected), "{expected} missing");
    }
    let order = |s: &str| {
        [
            "preferred",
            "acceptable",
            "caution",
            "avoid",
            "contraindicated",
        ]
        .iter()
        .position(|x| *x == s)
        .unwrap_or(9)
    };
    let statuses: Vec<usize> = list
        .iter()
        .map(|t| order(t["status"].as_str().unwrap_or_default()))
        .collect();
    assert!(statuses.windows(2).all(|w| w[0] <= w[1]), "{statuses:?}");
    let ranks: Vec<u64> = list.iter().filter_map(|t| t["rank"].as_u64()).collect();
    assert_eq!(ranks, (1..=count as u64).collect::<Vec<_>>());
    assert_eq!(
        names(&doc["ranking"]),
        ["status", "evidence_level", "cautions", "name"]
    );
}

#[test]
fn the_order_of_the_medication_list_does_not_change_the_ranking() {
    let forward = [
        "--med",
        "simvastatin 40 mg daily",
        "--med",
        "oxycodone 5 mg q6h",
        "--med",
        "furosemide 40 mg daily",
        "--age",
        "70",
    ];
    let backward = [
        "--med",
        "furosemide 40 mg daily",
        "--med",
        "oxycodone 5 mg q6h",
        "--med",
        "simvastatin 40 mg daily",
        "--age",
        "70",
    ];
    let summary = |doc: &Value| -> Vec<(String, String, String)> {
        therapies(doc)
            .iter()
            .map(|t| {
                (
                    t["drug"].to_string(),
                    t["status"].to_string(),
                    t["reason"].to_string(),
                )
            })
            .collect()
    };
    let (_, a) = suggest_json(&forward);
    let (_, b) = suggest_json(&backward);
    assert_eq!(summary(&a), summary(&b));
    let (_, again) = suggest_json(&forward);
    assert_eq!(a, again, "same input, same document");
}

#[test]
fn uk_label_facts_give_quinine_a_uk_cramp_dose() {
    let (_, doc) = suggest_json(&["--jurisdiction", "UK"]);
    assert_eq!(doc["jurisdiction"], "UK");
    let dosing = &therapy(&doc, "quinine")["dosing"];
    assert_eq!(dosing["jurisdiction"], "UK", "{dosing}");
    assert_eq!(dosing["max_mg_per_day"], 300.0);
    // US: the label gives no cramp dose.
    let (_, us) = suggest_json(&[]);
    let dosing = &therapy(&us, "quinine")["dosing"];
    assert_eq!(dosing["start_mg_per_day"], Value::Null, "{dosing}");
    assert!(dosing["steps"].as_array().is_some_and(Vec::is_empty));
    assert_eq!(status(&us, "quinine"), "avoid");
}

#[test]
fn a_therapy_a_guideline_advises_against_elsewhere_is_not_offered_where_none_speaks() {
    // Quinidine: no guideline for idiopathic cramps, and in cirrhosis its
    // toxicity outweighs its benefit. It ranks with the therapies to avoid,
    // not above them as a plain "caution".
    let (_, doc) = suggest_json(&["--age", "50"]);
    assert_eq!(status(&doc, "quinidine"), "avoid");
    assert!(
        therapy(&doc, "quinidine")["reason"]
            .as_str()
            .unwrap_or("")
            .contains("for cirrhosis"),
        "{doc}"
    );
    let rank = |drug: &str| therapies(&doc).iter().position(|t| t["drug"] == drug);
    assert!(rank("quinidine") > rank("baclofen"), "{doc}");
    // Baclofen, with no guideline against it anywhere, stays a caution.
    assert_eq!(status(&doc, "baclofen"), "caution");
}

#[test]
fn a_label_warning_that_is_no_boxed_warning_is_tagged_as_check_tags_it() {
    let (_, text) = suggest_text(&["--jurisdiction", "UK"]);
    let line = text
        .lines()
        .find(|l| l.contains("Label warning: UK position"))
        .unwrap_or_else(|| panic!("the UK quinine position is listed: {text}"));
    assert!(line.contains("[label warning · monitor]"), "{line}");
}
