//! End-to-end tests of `crampcheck check`: the real binary on the embedded KB.

mod common;

use common::{check_json, crampcheck, finding, findings, rank};
use predicates::prelude::*;
use serde_json::Value;

fn med(doc: &Value, i: usize) -> &Value {
    &doc["medications"][i]
}

fn ingredients(v: &Value) -> Vec<String> {
    v["ingredients"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_documented_name_form_resolves() {
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "clarithromycin 500 mg PO BID",
            &["clarithromycin"],
            "generic",
        ),
        (
            "Clarithromycin 500 MG Oral Tablet",
            &["clarithromycin"],
            "generic",
        ),
        (
            "Digoxin 0.25 MG Oral Tablet [Lanoxin]",
            &["digoxin"],
            "generic",
        ),
        (
            "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet",
            &["acetaminophen", "oxycodone"],
            "generic",
        ),
        (
            "carbidopa/levodopa 25/100 tid",
            &["carbidopa", "levodopa"],
            "generic",
        ),
        ("RIFAMPIN 300MG CAP", &["rifampin"], "generic"),
        (
            "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
            &["metformin"],
            "generic",
        ),
        ("Biaxin XL 500mg daily", &["clarithromycin"], "brand"),
        ("Rifampicin 600mg od", &["rifampin"], "synonym"),
        ("Paxlovid", &["nirmatrelvir", "ritonavir"], "product"),
        ("clarithromicin", &["clarithromycin"], "fuzzy"),
        // A Synthea description that used to come out unrecognized.
        ("Jolivette 28 Day Pack", &["norethindrone"], "brand"),
        // Magnesium as pharmacists write it (these came out unrecognized).
        ("Mg oxide 400 mg daily", &["magnesium oxide"], "synonym"),
        ("MgO 400 mg", &["magnesium oxide"], "synonym"),
        ("Slow-Mag 2 tablets daily", &["magnesium"], "brand"),
        ("Mag-Tab SR 1 tab bid", &["magnesium lactate"], "brand"),
        // British spellings of salt words.
        (
            "ferrous sulphate 200 mg tds",
            &["ferrous sulfate"],
            "generic",
        ),
        ("magnesium sulphate", &["magnesium sulfate"], "generic"),
        // UK names.
        (
            "co-codamol 30/500",
            &["acetaminophen", "codeine"],
            "product",
        ),
        ("Madopar 125 tds", &["benserazide", "levodopa"], "product"),
        ("Buscopan 10mg tds", &["butylscopolamine"], "brand"),
        (
            "hyoscine butylbromide 20 mg",
            &["butylscopolamine"],
            "synonym",
        ),
        ("zopiclone 7.5 mg nocte", &["zopiclone"], "generic"),
        ("Klaricid 500mg bd", &["clarithromycin"], "brand"),
        // A brand one letter from another drug's brand (Norflex).
        ("Norflox 400 mg bd", &["norfloxacin"], "brand"),
    ];
    let mut args = vec!["--propose", "baclofen"];
    for (input, _, _) in cases {
        args.push("--med");
        args.push(input);
    }
    let (_, doc) = check_json(&args);
    for (i, (input, expected, matched_by)) in cases.iter().enumerate() {
        let m = med(&doc, i);
        assert_eq!(m["input"], *input);
        assert_eq!(m["status"], "recognized", "{input}: {m}");
        assert_eq!(ingredients(m), *expected, "{input}");
        assert_eq!(m["matched_by"], *matched_by, "{input}");
    }
    // Strength, route and frequency are parsed, not just the name.
    let first = med(&doc, 0);
    assert_eq!(first["strength"]["value"], 500.0);
    assert_eq!(first["strength"]["unit"], "mg");
    assert_eq!(first["route"], "oral");
    assert_eq!(first["frequency"], "bid");
    // The fuzzy match says what it was taken as.
    assert_eq!(
        med(&doc, 10)["fuzzy_matches"][0]["matched"],
        "clarithromycin"
    );
}

#[test]
fn clarithromycin_with_quinine_is_one_merged_major_finding() {
    let (code, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "clarithromycin 500 mg bid",
        "--med",
        "Biaxin XL 500mg daily",
    ]);
    assert_eq!(code, 1);
    let pair: Vec<&Value> = findings(&doc)
        .iter()
        .filter(|f| f["drugs"] == serde_json::json!(["quinine", "clarithromycin"]))
        .collect();
    assert_eq!(pair.len(), 1, "one finding per pair: {pair:?}");
    let f = pair[0];
    assert_eq!(f["kind"], "interaction");
    assert!(rank(f["severity"].as_str().unwrap_or("")) >= rank("major"));
    assert_eq!(f["action"], "avoid");
    assert_eq!(f["medication_index"], 0);
    assert_eq!(f["medication_indices"], serde_json::json!([0, 1]));
    assert!(
        f["rule_ids"].as_array().is_some_and(|r| r.len() >= 2),
        "specific and class rows merge: {f}"
    );
    assert!(f["sources"].as_array().is_some_and(|s| !s.is_empty()));
    assert!(!f["mechanism"].as_str().unwrap_or("").is_empty());
    assert_eq!(doc["verdict"], "avoid");
    assert_eq!(doc["schema"], "crampcheck.check/1");
    assert!(doc["kb"]["schema_version"].as_i64().is_some());
}

#[test]
fn quinine_always_carries_its_boxed_warning() {
    let (code, doc) = check_json(&["--propose", "Qualaquin"]);
    assert_eq!(
        code, 1,
        "boxed warning is major: exit 1 at the default --fail-on"
    );
    let f = finding(&doc, "boxed_warning", &["quinine"])
        .unwrap_or_else(|| panic!("no boxed warning in {doc}"));
    assert_eq!(f["severity"], "major");
    assert_eq!(f["sources"][0]["jurisdiction"], "US");
    assert_eq!(doc["proposed"]["matched_by"], "brand");
}

#[test]
fn documented_non_interactions_give_no_finding_but_say_checked() {
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "theophylline 300 mg bid",
        "--med",
        "amoxicillin 500 mg tid",
    ]);
    assert!(finding(&doc, "interaction", &["quinine", "theophylline"]).is_none());
    assert_eq!(med(&doc, 0)["interaction_check"], "none_expected");
    assert!(
        med(&doc, 0)["interaction_check_sources"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(med(&doc, 1)["interaction_check"], "none_on_file");
}

#[test]
fn a_word_left_beside_an_ingredient_named_by_salt_words_keeps_the_ingredient_checked() {
    // `magnesium` and `sulfate` are salt words; the ingredient was once lost
    // with the whole name when another word stood beside it.
    let (code, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "magnesium oxide 400 mg once",
        "--med",
        "ferrous sulfate 325 mg with zorblax",
    ]);
    assert_eq!(code, 1);
    assert_eq!(ingredients(med(&doc, 0)), ["magnesium oxide"]);
    assert_eq!(med(&doc, 0)["unresolved"], serde_json::json!(["once"]));
    assert_eq!(ingredients(med(&doc, 1)), ["ferrous sulfate"]);
    assert!(finding(&doc, "interaction", &["quinine", "magnesium oxide"]).is_some());
    assert_eq!(doc["verdict"], "avoid");
    assert_eq!(doc["complete"], false);
}

#[test]
fn unknown_name_is_reported_and_makes_the_check_incomplete() {
    let (code, doc) = check_json(&["--propose", "baclofen", "--med", "zorblax 10 mg"]);
    assert_eq!(code, 1, "unresolved names exit 1");
    assert_eq!(med(&doc, 0)["status"], "unrecognized");
    assert_eq!(doc["verdict"], "incomplete");
    assert_eq!(doc["complete"], false);
    let f = findings(&doc)
        .iter()
        .find(|f| f["kind"] == "unrecognized")
        .unwrap_or_else(|| panic!("no unrecognized finding: {doc}"));
    assert_eq!(f["medication_index"], 0);
    assert!(f["title"].as_str().unwrap_or("").contains("zorblax"));
}

#[test]
fn a_capital_greek_mu_is_quoted_as_typed_not_as_the_micro_unit() {
    // `ΜG` with a capital Mu looks like MG but is no unit: it is reported,
    // and quoted as typed, not as the `μg` the parser reads as micrograms.
    for (text, kind, quoted) in [
        ("levothyroxine 50 ΜG daily", "unrecognized", "`ΜG`"),
        ("levothyroxine 50ΜG daily", "dose", "`50ΜG`"),
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", text]);
        let f = findings(&doc)
            .iter()
            .find(|f| f["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} finding for {text}: {doc}"));
        let title = f["title"].as_str().unwrap_or("");
        assert!(title.contains(quoted), "{text}: {title}");
        assert!(!title.contains('\u{3bc}'), "{text}: {title}");
    }
}

#[test]
fn a_class_name_is_ambiguous_with_candidates() {
    let (code, doc) = check_json(&["--propose", "baclofen", "--med", "macrolides"]);
    assert_eq!(code, 1);
    let m = med(&doc, 0);
    assert_eq!(m["status"], "ambiguous");
    let candidates = m["candidates"].as_array().map(Vec::len).unwrap_or(0);
    assert!(candidates >= 3, "{m}");
}

#[test]
fn clean_list_exits_zero_and_fail_on_moves_the_threshold() {
    let (code, doc) = check_json(&["--propose", "baclofen", "--med", "amoxicillin"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["verdict"], "ok");
    let (code, doc) = check_json(&["--propose", "baclofen", "--med", "oxycodone 5 mg q6h"]);
    let f = finding(&doc, "interaction", &["baclofen", "oxycodone"])
        .unwrap_or_else(|| panic!("baclofen + opioid: {doc}"));
    assert!(rank(f["severity"].as_str().unwrap_or("")) >= rank("moderate"));
    let expected = if rank(f["severity"].as_str().unwrap_or("")) >= rank("major") {
        1
    } else {
        0
    };
    assert_eq!(code, expected);
    let (code, _) = check_json(&[
        "--propose",
        "baclofen",
        "--med",
        "oxycodone 5 mg q6h",
        "--fail-on",
        "contraindicated",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn labs_map_to_conditions_by_kb_thresholds() {
    let (_, doc) = check_json(&["--propose", "quinine", "--qtc", "490"]);
    let f = finding(&doc, "condition", &["quinine"])
        .filter(|f| f["condition"] == "qt-prolongation")
        .unwrap_or_else(|| panic!("QTc 490 → qt-prolongation: {doc}"));
    assert_eq!(f["severity"], "contraindicated");
    assert!(f["basis"].as_str().unwrap_or("").contains("490"));
    let (_, doc) = check_json(&["--propose", "baclofen", "--egfr", "45"]);
    assert!(
        findings(&doc)
            .iter()
            .any(|f| f["kind"] == "condition" && f["condition"] == "renal-impairment"),
        "eGFR 45 → baclofen renal rule: {doc}"
    );
    // Age below 16: the US label has no pediatric safety data for quinine.
    let under_16 = |age: &str| {
        let (_, doc) = check_json(&["--propose", "quinine", "--age", age]);
        finding(&doc, "condition", &["quinine"])
            .filter(|f| f["condition"] == "pediatric-under-16")
            .cloned()
    };
    let child = under_16("12").unwrap_or_else(|| panic!("age 12 → pediatric-under-16"));
    assert_eq!(child["severity"], "moderate");
    assert!(under_16("16").is_none());
}

#[test]
fn lab_flags_take_a_unit_as_batch_and_cds_do() {
    let low_magnesium = |value: &str| {
        let (_, doc) = check_json(&["--propose", "quinine", "--magnesium", value]);
        finding(&doc, "condition", &["quinine"])
            .filter(|f| f["condition"] == "hypomagnesemia")
            .cloned()
    };
    // A UK report's 0.6 mmol/L is 1.46 mg/dL: low. A bare 1.6 is mg/dL (low);
    // 0.9 mmol/L (2.19 mg/dL) is normal, and a bare 0.9 is refused below.
    let low = low_magnesium("0.6 mmol/L").unwrap_or_else(|| panic!("0.6 mmol/L is low"));
    assert_eq!(
        low["basis"], "magnesium 1.46 mg/dL < 1.7",
        "shown as read, not 1.4583: {low}"
    );
    assert!(low_magnesium("1.6").is_some());
    assert!(low_magnesium("0.9 mmol/L").is_none());
    let (_, doc) = check_json(&["--propose", "quinine", "--qtc", "0.49 s"]);
    assert!(
        finding(&doc, "condition", &["quinine"])
            .is_some_and(|f| f["condition"] == "qt-prolongation"),
        "{doc}"
    );
    // A unit it does not read, a bound, or a bare value that reads two ways
    // (normal in mmol/L, severely low in mg/dL) is refused on one line.
    for bad in ["0.7 furlongs", "<0.7", "0.9"] {
        let out = crampcheck()
            .args(["check", "--propose", "quinine", "--magnesium", bad])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--magnesium"), "{stderr}");
    }
}

#[test]
fn beers_renal_rule_needs_age_65() {
    let (_, young) = check_json(&["--propose", "baclofen", "--egfr", "45", "--age", "40"]);
    let (_, old) = check_json(&["--propose", "baclofen", "--egfr", "45", "--age", "80"]);
    let renal = |doc: &Value| -> Value {
        findings(doc)
            .iter()
            .find(|f| f["condition"] == "renal-impairment")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let (y, o) = (renal(&young), renal(&old));
    assert!(
        o["rule_ids"].as_array().map(Vec::len) > y["rule_ids"].as_array().map(Vec::len),
        "the Beers row applies only at 65+: young {y} old {o}"
    );
    assert_eq!(o["action"], "avoid");
}

#[test]
fn bad_input_is_a_one_line_error_with_exit_2() {
    let cases: &[&[&str]] = &[
        &["--propose", "quinine", "--egfr", "-5"],
        &["--propose", "quinine", "--qtc", "5000"],
        &["--propose", "quinine", "--potassium", "40"],
        &["--propose", "quinine", "--age", "300"],
        &["--propose", "quinine", "--condition", "qt-prolongaton"],
        &["--propose", "zorblax"],
        &[
            "--propose",
            "quinine",
            "--meds-file",
            "/nonexistent/meds.txt",
        ],
        &["--propose", "quinine", "--jurisdiction", "FR"],
        &["--propose", "quinine", "--db", "/nonexistent/kb.sqlite"],
        &["--propose", "quinine", "--med", "  "],
        &["--propose", "quinine", "--fail-on", "severe"],
    ];
    for args in cases {
        let out = crampcheck()
            .arg("check")
            .args(*args)
            .output()
            .unwrap_or_else(|e| panic!("run: {e}"));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("crampcheck: error:"), "{stderr}");
        assert!(out.stdout.is_empty(), "nothing on stdout for {args:?}");
    }
}

#[test]
fn a_condition_given_twice_gives_one_finding() {
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--condition",
        "myasthenia-gravis",
        "--condition",
        "myasthenia gravis",
    ]);
    let n = findings(&doc)
        .iter()
        .filter(|f| f["condition"] == "myasthenia-gravis")
        .count();
    assert_eq!(n, 1, "{doc}");
    assert_eq!(
        doc["patient"]["conditions"].as_array().map(Vec::len),
        Some(1)
    );
}

#[test]
fn misspelt_condition_suggests_the_right_code() {
    crampcheck()
        .args([
            "check",
            "--propose",
            "quinine",
            "--condition",
            "qt-prolongaton",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean qt-prolongation"));
}

#[test]
fn conditions_are_read_as_clinicians_write_them_and_mg_is_not_guessed() {
    let codes = |condition: &str| {
        let (_, doc) = check_json(&["--propose", "quinine", "--condition", condition]);
        doc["patient"]["conditions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|c| c["basis"] == "stated")
                    .filter_map(|c| c["code"].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    for (written, code) in [
        ("CKD stage IV", "severe-renal-impairment"),
        ("ckd 3b", "renal-impairment"),
        ("2nd degree AV block", "heart-block"),
        ("torsades de pointes", "qt-prolongation"),
        ("Child-Pugh C", "hepatic-impairment"),
    ] {
        assert_eq!(codes(written), [code], "{written}");
    }
    // `mg` is magnesium as often as myasthenia gravis (a quinine
    // contraindication): it is refused, naming both, not guessed.
    crampcheck()
        .args(["check", "--propose", "quinine", "--condition", "mg"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("myasthenia-gravis")
                .and(predicate::str::contains("hypomagnesemia")),
        );
}

#[test]
fn the_same_drug_by_two_routes_is_not_said_to_add_up() {
    let effect = |listed: &str| {
        let (_, doc) = check_json(&["--propose", "baclofen 10 mg tid", "--med", listed]);
        finding(&doc, "duplicate", &["baclofen"])
            .map(|f| f["effect"].as_str().unwrap_or("").to_owned())
            .unwrap_or_else(|| panic!("a duplicate finding: {doc}"))
    };
    // Micrograms in the spine and milligrams by mouth do not add up.
    let intrathecal = effect("baclofen 500 mcg/day intrathecal");
    assert!(
        intrathecal.contains("do not simply add up"),
        "{intrathecal}"
    );
    assert!(
        !intrathecal.contains("add the doses together"),
        "{intrathecal}"
    );
    assert_eq!(
        effect("baclofen 20 mg tid po"),
        "Taking both would add the doses together."
    );
    // Injected doses do add up with oral ones.
    let (_, doc) = check_json(&[
        "--propose",
        "orphenadrine 60 mg IM",
        "--med",
        "orphenadrine 100 mg bid",
    ]);
    let f = finding(&doc, "duplicate", &["orphenadrine"]).unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(f["effect"], "Taking both would add the doses together.");
}

#[test]
fn suggestions_for_an_unknown_name_are_spelled_as_written() {
    let (_, doc) = check_json(&["--propose", "quinine", "--med", "mycophenolate 1 g bid"]);
    let suggestions = med(&doc, 0)["suggestions"].to_string();
    // The KB keys names run together too (`mycophenolicacid`), but suggests
    // them with their spaces, each once.
    assert!(
        suggestions.contains("mycophenolate mofetil"),
        "{suggestions}"
    );
    assert!(!suggestions.contains("mycophenolicacid"), "{suggestions}");
}

#[test]
fn three_cns_active_drugs_in_an_older_adult_are_flagged_by_the_beers_count() {
    let beers = |proposed: &str, meds: &[&str], age: &str| {
        let mut args = vec!["--propose", proposed, "--age", age];
        for m in meds {
            args.extend(["--med", m]);
        }
        let (_, doc) = check_json(&args);
        findings(&doc)
            .iter()
            .find(|f| f["rule_ids"].to_string().contains("beers-cns-active-3"))
            .cloned()
    };
    let two = ["sertraline 100 mg daily", "quetiapine 25 mg hs"];
    let f = beers("baclofen 10 mg tid", &two, "80")
        .unwrap_or_else(|| panic!("baclofen, sertraline and quetiapine at 80"));
    assert_eq!(
        (f["severity"].as_str(), f["action"].as_str()),
        (Some("major"), Some("avoid"))
    );
    assert_eq!(
        f["drugs"],
        serde_json::json!(["baclofen", "sertraline", "quetiapine"])
    );
    assert_eq!(f["medication_indices"], serde_json::json!([0, 1]));
    // Under 65, with two CNS-active drugs in all, or when the proposed drug
    // is none (diltiazem), the count does not apply.
    assert!(beers("baclofen 10 mg tid", &two, "60").is_none());
    assert!(beers("baclofen 10 mg tid", &two[..1], "80").is_none());
    assert!(
        beers(
            "diltiazem 30 mg qhs",
            &[
                "oxycodone 5 mg q6h",
                "sertraline 100 mg daily",
                "quetiapine 25 mg hs"
            ],
            "80"
        )
        .is_none()
    );
}

#[test]
fn identical_input_gives_byte_identical_json() {
    let run = || {
        crampcheck()
            .args([
                "check",
                "--propose",
                "quinine",
                "--med",
                "clarithromycin 500 mg bid",
                "--med",
                "warfarin 5 mg daily",
                "--med",
                "digoxin 0.125 mg daily",
                "--egfr",
                "45",
                "--format",
                "json",
            ])
            .output()
            .unwrap_or_else(|e| panic!("run: {e}"))
            .stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn meds_file_and_stdin_are_read_line_by_line() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("meds.txt");
    // Saved with a byte-order mark, as Windows editors do: not part of the
    // first medication.
    std::fs::write(
        &path,
        "\u{feff}clarithromycin 500 mg bid\n# current list\n\nwarfarin 5 mg\n#3 digoxin\n",
    )
    .unwrap_or_else(|e| panic!("write: {e}"));
    let path = path.to_string_lossy().into_owned();
    let (_, doc) = check_json(&["--propose", "quinine", "--meds-file", &path]);
    // `#3 digoxin` numbers a list: it is a medication, not a comment.
    assert_eq!(doc["medications"].as_array().map(Vec::len), Some(3));
    assert_eq!(med(&doc, 0)["input"], "clarithromycin 500 mg bid");
    assert!(
        finding(&doc, "interaction", &["quinine", "digoxin"]).is_some(),
        "{doc}"
    );
    let out = crampcheck()
        .args([
            "check",
            "--propose",
            "quinine",
            "--meds-file",
            "-",
            "--format",
            "json",
        ])
        .write_stdin("rifampin 600 mg daily\n")
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        finding(&doc, "interaction", &["quinine", "rifampin"]).is_some(),
        "{doc}"
    );
}

#[test]
fn text_report_names_verdict_medication_and_source_without_colour_when_piped() {
    let out = crampcheck()
        .args([
            "check",
            "--propose",
            "quinine",
            "--med",
            "clarithromycin 500 mg bid",
            "--med",
            "zorblax",
        ])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("verdict: AVOID"), "{text}");
    assert!(text.contains("quinine + clarithromycin"), "{text}");
    assert!(
        text.contains("From: #1 `clarithromycin 500 mg bid`"),
        "{text}"
    );
    assert!(text.contains("Source: "), "{text}");
    assert!(text.contains("UNRECOGNIZED `zorblax`"), "{text}");
    assert!(!text.contains('\u{1b}'), "no ANSI escapes when piped");
}

#[test]
fn duplicate_therapy_is_flagged() {
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "Lioresal 10 mg tid"]);
    let f = finding(&doc, "duplicate", &["baclofen"])
        .unwrap_or_else(|| panic!("same ingredient already listed: {doc}"));
    assert_eq!(f["medication_index"], 0);
    // Two muscle relaxants: the interaction and the duplicate therapy are
    // each a finding of their own kind, so a filter on either sees it.
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "tizanidine"]);
    let pair = ["baclofen", "tizanidine"];
    let duplicate = finding(&doc, "duplicate", &pair)
        .unwrap_or_else(|| panic!("two skeletal muscle relaxants: {doc}"));
    assert_eq!(
        duplicate["rule_ids"],
        serde_json::json!(["duplicate:skeletal-muscle-relaxants"])
    );
    assert_eq!(duplicate["action"], "avoid");
    let interaction =
        finding(&doc, "interaction", &pair).unwrap_or_else(|| panic!("label interaction: {doc}"));
    assert!(
        interaction["rule_ids"].as_array().is_some_and(|ids| ids
            .iter()
            .all(|id| !id.as_str().unwrap_or("").starts_with("duplicate:"))),
        "{interaction}"
    );
}

#[test]
fn dose_above_the_label_maximum_and_unreadable_doses_are_reported() {
    let (_, doc) = check_json(&["--propose", "baclofen 30 mg qid"]);
    let f = finding(&doc, "dose", &["baclofen"])
        .unwrap_or_else(|| panic!("120 mg/day exceeds the maximum: {doc}"));
    assert!(
        f["title"].as_str().unwrap_or("").contains("120 mg/day"),
        "{f}"
    );
    // Tablets per dose count: 10 mg × 3 tablets × 4 a day.
    let (_, doc) = check_json(&["--propose", "baclofen 10 mg 3 tablets qid"]);
    let f = finding(&doc, "dose", &["baclofen"])
        .unwrap_or_else(|| panic!("3 tablets of 10 mg 4 times a day is 120 mg/day: {doc}"));
    assert!(
        f["title"].as_str().unwrap_or("").contains("120 mg/day"),
        "{f}"
    );
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "warfarin 5mgg daily"]);
    assert!(
        findings(&doc)
            .iter()
            .any(|f| f["kind"] == "dose" && f["title"].as_str().unwrap_or("").contains("5mgg")),
        "{doc}"
    );
}

#[test]
fn combination_products_are_checked_through_their_ingredients() {
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "Paxlovid",
        "--med",
        "Rifamate",
    ]);
    let ritonavir = finding(&doc, "interaction", &["quinine", "ritonavir"])
        .unwrap_or_else(|| panic!("Paxlovid contains ritonavir: {doc}"));
    assert!(rank(ritonavir["severity"].as_str().unwrap_or("")) >= rank("moderate"));
    assert_eq!(ritonavir["medication_index"], 0);
    let rifampin = finding(&doc, "interaction", &["quinine", "rifampin"])
        .unwrap_or_else(|| panic!("Rifamate contains rifampin: {doc}"));
    assert_eq!(rifampin["severity"], "major");
    assert_eq!(rifampin["action"], "avoid");
    assert_eq!(rifampin["medication_index"], 1);
    assert_eq!(med(&doc, 1)["matched_by"], "product");
}

#[test]
fn colour_is_written_only_when_forced_or_on_a_terminal() {
    let coloured = crampcheck()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["check", "--propose", "quinine"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert!(String::from_utf8_lossy(&coloured.stdout).contains('\u{1b}'));
    let plain = crampcheck()
        .env("CLICOLOR_FORCE", "1")
        .args(["check", "--propose", "quinine"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert!(
        !String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'),
        "NO_COLOR wins"
    );
}

#[test]
fn leftover_words_are_reported_and_whole_names_win() {
    let (code, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--med",
        "aspirin zorblax",
        "--med",
        "Tylenol #3",
        "--med",
        "Vitamin D 1000 IU",
        "--med",
        "milk of magnesia",
    ]);
    assert_eq!(code, 1);
    // A word left over inside a recognized name is never dropped silently.
    let m = med(&doc, 0);
    assert_eq!(m["status"], "unrecognized");
    assert_eq!(ingredients(m), ["aspirin"]);
    assert_eq!(m["unresolved"], serde_json::json!(["zorblax"]));
    // "Tylenol #3" is a product name, not "Tylenol" plus an unreadable "#3".
    assert_eq!(ingredients(med(&doc, 1)), ["acetaminophen", "codeine"]);
    assert!(finding(&doc, "interaction", &["baclofen", "codeine"]).is_some());
    assert!(!findings(&doc).iter().any(|f| f["kind"] == "dose"));
    // "Vitamin D" does not say which: ambiguous between the two.
    assert_eq!(med(&doc, 2)["status"], "ambiguous");
    assert_eq!(
        med(&doc, 2)["candidates"],
        serde_json::json!(["cholecalciferol", "ergocalciferol"])
    );
    assert_eq!(med(&doc, 3)["status"], "recognized");
    assert_eq!(ingredients(med(&doc, 3)), ["magnesium hydroxide"]);
}

#[test]
fn with_and_without_written_w_slash_read_as_the_words() {
    let (code, doc) = check_json(&[
        "--propose",
        "quinine 300 mg qhs w/ a full glass of water",
        "--med",
        "Tylenol w/codeine #3",
        "--med",
        "baclofen 10 mg tid w/o regard to meals",
        "--med",
        "lidocaine 2% w/v",
        "--med",
        "tizanidine 4 mg mane w/ baclofen 60 mg nocte",
    ]);
    assert_eq!(code, 1);
    // `w/codeine` is the product's `with codeine`: its codeine is checked.
    assert_eq!(med(&doc, 0)["status"], "recognized");
    assert_eq!(ingredients(med(&doc, 0)), ["acetaminophen", "codeine"]);
    // How to take a dose is no drug, and leaves nothing unread.
    assert_eq!(med(&doc, 1)["status"], "recognized");
    assert_eq!(doc["proposed"]["status"], "recognized");
    // `w/v` (weight per volume) is no `with`: it stays as written, reported.
    assert_eq!(med(&doc, 2)["unresolved"], serde_json::json!(["w", "v"]));
    // `w/` joins two drugs as `with` does: each keeps its own strength.
    let strengths: Vec<(String, f64)> = med(&doc, 3)["strengths"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let name = s["ingredient"].as_str().unwrap_or("").to_owned();
                    (name, s["value"].as_f64().unwrap_or(0.0))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        strengths,
        [
            ("tizanidine".to_owned(), 4.0),
            ("baclofen".to_owned(), 60.0)
        ]
    );
}

#[test]
fn cyp3a4_inhibitor_cramp_drugs_flag_oxycodone() {
    let (_, doc) = check_json(&["--propose", "diltiazem", "--med", "oxycodone 5 mg q6h"]);
    let f = finding(&doc, "interaction", &["diltiazem", "oxycodone"])
        .unwrap_or_else(|| panic!("diltiazem is a moderate CYP3A4 inhibitor: {doc}"));
    assert_eq!(f["severity"], "major");
    assert_eq!(f["action"], "adjust-dose");
}

#[test]
fn the_chosen_jurisdictions_source_is_cited_first() {
    for (jurisdiction, first) in [("US", "US"), ("UK", "UK")] {
        let (_, doc) = check_json(&[
            "--propose",
            "quinine",
            "--med",
            "clarithromycin",
            "--jurisdiction",
            jurisdiction,
        ]);
        let f = finding(&doc, "interaction", &["quinine", "clarithromycin"])
            .unwrap_or_else(|| panic!("{jurisdiction}: {doc}"));
        assert_eq!(f["sources"][0]["jurisdiction"], first, "{f}");
    }
}

#[test]
fn a_real_drug_two_edits_from_a_known_one_is_not_taken_for_it() {
    // Iproniazid (an MAOI) is two edits from isoniazid; cloxacillin two
    // from dicloxacillin. Taking either for the known drug would check the
    // wrong medication and call the list complete.
    // Somac (pantoprazole) is one letter from Soma (carisoprodol): a known
    // name of four letters is no ground for a match either.
    for (written, near) in [
        ("iproniazid", "isoniazid"),
        ("cloxacillin", "dicloxacillin"),
        ("Somac 40 mg daily", "soma"),
    ] {
        let (code, doc) = check_json(&["--propose", "baclofen", "--med", written]);
        let m = med(&doc, 0);
        assert_eq!(m["status"], "unrecognized", "{written}: {m}");
        assert!(ingredients(m).is_empty(), "{written}: {m}");
        assert!(
            m["suggestions"]
                .as_array()
                .is_some_and(|s| s.iter().any(|x| x == near)),
            "{written} should suggest {near}: {m}"
        );
        assert_eq!(doc["complete"], false);
        assert_eq!(code, 1, "an unresolved name exits 1");
    }
    // One edit from a single known name is still a clear near miss.
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "amiodarrone"]);
    assert_eq!(med(&doc, 0)["matched_by"], "fuzzy");
    assert_eq!(ingredients(med(&doc, 0)), ["amiodarone"]);
}

#[test]
fn stating_an_older_adult_without_an_age_meets_the_beers_rules() {
    let (_, doc) = check_json(&["--propose", "orphenadrine", "--condition", "elderly"]);
    let f = finding(&doc, "condition", &["orphenadrine"])
        .unwrap_or_else(|| panic!("Beers row for a stated older adult: {doc}"));
    assert_eq!(f["condition"], "older-adult");
    assert_eq!(f["action"], "avoid");
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--condition",
        "elderly",
        "--egfr",
        "50",
    ]);
    let renal = findings(&doc)
        .iter()
        .find(|f| f["condition"] == "renal-impairment")
        .cloned()
        .unwrap_or_else(|| panic!("renal finding: {doc}"));
    assert_eq!(renal["action"], "avoid", "{renal}");
}

#[test]
fn a_proposed_dose_is_held_to_the_cramp_maximum_and_prn_keeps_its_schedule() {
    // UK quinine for cramps: at most 300 mg/day, not the malaria dose.
    let (_, doc) = check_json(&[
        "--jurisdiction",
        "UK",
        "--propose",
        "quinine 600 mg at bedtime",
    ]);
    let f = finding(&doc, "dose", &["quinine"])
        .unwrap_or_else(|| panic!("600 mg/day is above the UK cramp maximum: {doc}"));
    assert!(
        f["title"].as_str().unwrap_or("").contains("300 mg/day"),
        "{f}"
    );
    // "tid prn" is up to three doses a day.
    let (_, doc) = check_json(&["--propose", "baclofen 30 mg tid prn"]);
    assert_eq!(doc["proposed"]["frequency"], "tid prn");
    let f = finding(&doc, "dose", &["baclofen"])
        .unwrap_or_else(|| panic!("90 mg/day is above 80: {doc}"));
    assert!(
        f["title"].as_str().unwrap_or("").contains("90 mg/day"),
        "{f}"
    );
    // As needed with no schedule: the total cannot be checked, and it says so.
    let (_, doc) = check_json(&["--propose", "baclofen 30 mg as needed"]);
    let f = finding(&doc, "dose", &["baclofen"])
        .unwrap_or_else(|| panic!("an unchecked daily dose is reported: {doc}"));
    assert_eq!(f["severity"], "info");
    assert!(
        f["title"].as_str().unwrap_or("").contains("not checked"),
        "{f}"
    );
}

#[test]
fn a_us_cramp_dose_of_quinine_is_never_passed_by_the_malaria_maximum() {
    let rule_ids = |f: &Value| f["rule_ids"].to_string();
    // 1944 mg/day is the malaria regimen: for cramps, not checked, and said.
    let (_, doc) = check_json(&["--propose", "quinine 648 mg tid"]);
    let f = finding(&doc, "dose", &["quinine"])
        .unwrap_or_else(|| panic!("a US cramp dose is reported as unchecked: {doc}"));
    assert_eq!(
        (f["severity"].as_str(), f["action"].as_str()),
        (Some("info"), Some("review"))
    );
    assert!(
        f["title"]
            .as_str()
            .unwrap_or("")
            .contains("not checked for cramps"),
        "{f}"
    );
    assert!(
        f["mechanism"]
            .as_str()
            .unwrap_or("")
            .contains("1944 mg/day"),
        "{f}"
    );
    // The UK cramp dose is given for reference, with its source.
    assert!(
        f["management"]
            .as_str()
            .unwrap_or("")
            .contains("maximum 300 mg"),
        "{f}"
    );
    assert!(rule_ids(f).contains("qui-dose-us-cramps"), "{f}");
    assert!(rule_ids(f).contains("qui-dose-uk-cramps"), "{f}");
    // Above the malaria maximum it is flagged, saying whose maximum that is.
    let (_, doc) = check_json(&["--propose", "quinine 648 mg q6h"]);
    let f = finding(&doc, "dose", &["quinine"])
        .unwrap_or_else(|| panic!("2592 mg/day is above every maximum: {doc}"));
    assert_eq!(f["severity"], "moderate");
    assert!(
        f["mechanism"]
            .as_str()
            .unwrap_or("")
            .contains("no dose for cramps"),
        "{f}"
    );
    assert!(
        !f["management"].as_str().unwrap_or("").contains("7 days"),
        "{f}"
    );
    // With no strength, the advice is no malaria regimen either.
    let (_, doc) = check_json(&["--propose", "quinine 2 tabs qhs"]);
    let f = finding(&doc, "dose", &["quinine"]).unwrap_or_else(|| panic!("{doc}"));
    assert!(
        !f["management"].as_str().unwrap_or("").contains("7 days"),
        "{f}"
    );
    // A listed quinine (maybe for malaria) is held to the label's maximum only.
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "quinine 648 mg tid"]);
    assert!(finding(&doc, "dose", &["quinine"]).is_none(), "{doc}");
}

#[test]
fn a_quinidine_allergy_contraindicates_quinidine_as_it_does_quinine() {
    for drug in ["quinidine", "quinine"] {
        let (code, doc) = check_json(&["--propose", drug, "--condition", "quinidine allergy"]);
        let f = finding(&doc, "condition", &[drug])
            .unwrap_or_else(|| panic!("{drug} with a quinidine allergy: {doc}"));
        assert_eq!(f["severity"], "contraindicated");
        assert_eq!(f["condition"], "quinine-hypersensitivity");
        assert_eq!(code, 1);
    }
}

/// The title of the one dose finding about `drug`, or a panic naming the input.
fn dose_title(propose: &str, drug: &str) -> String {
    let (_, doc) = check_json(&["--propose", propose]);
    finding(&doc, "dose", &[drug])
        .and_then(|f| f["title"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no dose finding for `{propose}`: {doc}"))
}

#[test]
fn doses_as_prescribers_write_them_are_read_or_said_unchecked() {
    // Each of these is above baclofen's 80 mg/day maximum.
    for (written, total) in [
        ("baclofen 1,000 mg tid", "3000 mg/day"),
        ("baclofen 200 mg/day", "200 mg/day"),
        ("baclofen 100 mg per day", "100 mg/day"),
        ("baclofen 30mg TDS", "90 mg/day"),
        ("baclofen 25 mg q.i.d.", "100 mg/day"),
        ("Lioresal 30 mg 3 times daily (for spasticity)", "90 mg/day"),
        ("baclofen 20 mg 1-2 tabs qid", "160 mg/day"),
        ("baclofen 200 mg", "200 mg in one dose"),
    ] {
        let title = dose_title(written, "baclofen");
        assert!(title.contains(total), "{written}: {title}");
    }
    // Read, and within the maximum: no dose finding at all.
    for written in ["quinine sulphate 300mg nocte", "baclofen 30 mg/day tid"] {
        let (_, doc) = check_json(&["--propose", written]);
        assert_eq!(doc["proposed"]["status"], "recognized", "{written}");
        assert!(finding(&doc, "dose", &["baclofen"]).is_none(), "{doc}");
    }
    // A maximum for cirrhosis holds only with cirrhosis.
    let title = dose_title("orphenadrine 100 mg tid", "orphenadrine");
    assert!(title.contains("(musculoskeletal-pain)"), "{title}");
    let (_, doc) = check_json(&["--propose", "baclofen 20 mg tid"]);
    assert!(finding(&doc, "dose", &["baclofen"]).is_none(), "{doc}");
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen 20 mg tid",
        "--condition",
        "cirrhosis",
    ]);
    let f = finding(&doc, "dose", &["baclofen"]).unwrap_or_else(|| panic!("{doc}"));
    assert!(
        f["title"]
            .as_str()
            .unwrap_or("")
            .contains("30 mg/day maximum (cirrhosis)")
    );
    // Not checked, and said so.
    for (written, drug, said) in [
        (
            "quinidine 200 mg tid",
            "quinidine",
            "no maximum daily dose on file",
        ),
        (
            "Ozobax 40 mL qid",
            "baclofen",
            "not checked against the 80 mg/day",
        ),
        ("baclofen 1,5 mg tid", "baclofen", "Dose not read"),
        (
            "diltiazem 3000 mg daily",
            "diltiazem",
            "no maximum daily dose on file",
        ),
        // A count of tablets of no stated strength was once checked by
        // nobody and said by nobody.
        (
            "baclofen 3 tablets qid",
            "baclofen",
            "not checked against the 80 mg/day",
        ),
        // A therapy with no maximum on file, whatever the dose is written
        // in (a count, a percentage, mL): said, not passed as checked.
        (
            "Slow-Mag 2 tabs bd",
            "magnesium",
            "no maximum daily dose on file",
        ),
        (
            "albumin 25% 100 ml weekly",
            "albumin",
            "no maximum daily dose on file",
        ),
        // A solution's dose in mL, after its strength per mL: 30 mL of
        // 5 mg/5 mL four times a day is 120 mg.
        (
            "baclofen 5 mg/5 mL 30 mL qid",
            "baclofen",
            "120 mg/day is above the 80 mg/day maximum",
        ),
    ] {
        let title = dose_title(written, drug);
        assert!(title.contains(said), "{written}: {title}");
    }
    // A bare name writes no dose: nothing to say about one.
    let (_, doc) = check_json(&["--propose", "baclofen"]);
    assert!(finding(&doc, "dose", &["baclofen"]).is_none(), "{doc}");
}

#[test]
fn an_insulin_not_named_is_an_antidiabetic_and_named_ones_keep_their_name() {
    // Before, a list saying only `insulin` was unrecognized, and quinine +
    // insulin (hypoglycaemia) went unchecked.
    let (_, doc) = check_json(&["--propose", "quinine", "--med", "insulin 10 units tid"]);
    assert_eq!(ingredients(med(&doc, 0)), ["insulin"]);
    let f = finding(&doc, "interaction", &["quinine", "insulin"])
        .unwrap_or_else(|| panic!("quinine + insulin: {doc}"));
    assert_eq!(f["severity"], "moderate");
    for (written, ingredient) in [
        ("insulin glargine 20 units", "insulin glargine"),
        ("Lantus", "insulin glargine"),
        ("NPH insulin 10 units bid", "insulin human"),
        // RxNorm's NPH, either word order: not bare insulin and a word left.
        (
            "Insulin Isophane, Human 70 UNT/ML / Insulin, Regular, Human 30 UNT/ML Injectable Suspension [Humulin]",
            "insulin human",
        ),
        (
            "insulin human, isophane 100 UNT/ML Injectable Suspension",
            "insulin human",
        ),
    ] {
        let (_, doc) = check_json(&["--propose", "quinine", "--med", written]);
        assert_eq!(ingredients(med(&doc, 0)), [ingredient], "{written}");
    }
}

#[test]
fn orphenadrine_meets_the_uk_contraindications_that_had_no_condition_code() {
    for (written, code, severity) in [
        ("urinary retention", "urinary-retention", "contraindicated"),
        (
            "acute intermittent porphyria",
            "porphyria",
            "contraindicated",
        ),
        (
            "tardive dyskinesia",
            "tardive-dyskinesia",
            "contraindicated",
        ),
        ("hyperthyroidism", "thyrotoxicosis", "moderate"),
    ] {
        let (_, doc) = check_json(&["--propose", "orphenadrine", "--condition", written]);
        let found = doc["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["kind"] == "condition" && f["condition"] == code)
            .unwrap_or_else(|| panic!("{written}: {doc}"));
        assert_eq!(found["severity"], severity, "{written}");
    }
    // Breastfeeding: LactMed's G6PD advice for quinine.
    let (_, doc) = check_json(&["--propose", "quinine", "--condition", "breastfeeding"]);
    let found = findings(&doc)
        .iter()
        .find(|f| f["kind"] == "condition" && f["condition"] == "lactation")
        .unwrap_or_else(|| panic!("quinine lactation: {doc}"));
    assert!(
        found["management"].as_str().unwrap_or("").contains("G6PD"),
        "{found}"
    );
    // Baclofen's label says porphyria may be made worse: a caution.
    let (_, doc) = check_json(&["--propose", "baclofen", "--condition", "porphyria"]);
    let found = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["kind"] == "condition" && f["condition"] == "porphyria")
        .unwrap_or_else(|| panic!("baclofen porphyria: {doc}"));
    assert_eq!(found["severity"], "moderate");
}

#[test]
fn severe_renal_impairment_under_uk_facts_gives_the_uk_advice_not_the_us_malaria_regimen() {
    let renal = |jurisdiction: &str| -> Value {
        let (_, doc) = check_json(&[
            "--propose",
            "quinine 300 mg nocte",
            "--egfr",
            "20",
            "--jurisdiction",
            jurisdiction,
        ]);
        findings(&doc)
            .iter()
            .find(|f| f["kind"] == "condition" && f["condition"] == "severe-renal-impairment")
            .cloned()
            .unwrap_or_else(|| panic!("{jurisdiction}: {doc}"))
    };
    // A UK pharmacist proposing 300 mg at night was told the US 648 mg
    // loading dose for malaria.
    let uk = renal("UK");
    let text = |f: &Value| f["management"].as_str().unwrap_or("").to_owned();
    assert!(!text(&uk).contains("648"), "{uk}");
    assert!(text(&uk).contains("300 mg at most"), "{uk}");
    assert_eq!(uk["rule_ids"], serde_json::json!(["qui-cc-renal-sev-uk"]));
    // Under US facts the label's regimen stays, said to be for malaria.
    let us = renal("US");
    assert!(text(&us).contains("for malaria"), "{us}");
}

#[test]
fn discharge_list_notes_are_read_past_but_a_drug_in_a_note_is_kept() {
    // Each of these made the check "incomplete" with words such as `hold`,
    // `hr`, `pump`, `succ` or `x1` reported as unrecognized names.
    for (written, ingredient) in [
        ("2) Digoxin 0.125mg daily - hold if HR<60", "digoxin"),
        (
            "metoprolol tartrate 25 mg bid hold for SBP < 90 or HR < 55",
            "metoprolol",
        ),
        ("oxycodone 5 mg q4h prn pain, hold if sedated", "oxycodone"),
        ("Gablofen intrathecal pump 300 mcg/day", "baclofen"),
        ("metoprolol succ ER 25mg daily", "metoprolol"),
        ("Diflucan 150 mg x1", "fluconazole"),
        ("insulin lispro per sliding scale qid", "insulin lispro"),
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", written]);
        let m = med(&doc, 0);
        assert_eq!(m["status"], "recognized", "{written}: {m}");
        assert_eq!(ingredients(m), [ingredient], "{written}");
    }
    // Only vital signs and states are read past: a hold note that names a
    // drug keeps it (and its leftover words are reported).
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "nitroglycerin 0.4 mg SL prn, hold if on sildenafil",
    ]);
    assert_eq!(ingredients(med(&doc, 0)), ["nitroglycerin", "sildenafil"]);
    // `x2 tabs` is a count of tablets, not a course: still reported.
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "magnesium oxide 400 mg, x2 tabs nocte",
    ]);
    assert_eq!(med(&doc, 0)["unresolved"], serde_json::json!(["x2"]));
}

#[test]
fn a_medication_pasted_with_its_list_dash_is_read() {
    // `--med "- baclofen 10 mg tid"` was refused by the argument parser
    // (a value starting with a dash), though a meds file reads it.
    let (code, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "- clarithromycin 500 mg bid",
    ]);
    assert_eq!(code, 1);
    assert_eq!(ingredients(med(&doc, 0)), ["clarithromycin"]);
    assert!(finding(&doc, "interaction", &["quinine", "clarithromycin"]).is_some());
    // A flag where a value is missing is still an error.
    crampcheck()
        .args(["check", "--propose", "quinine", "--med", "--egfr", "45"])
        .assert()
        .code(2);
}

#[test]
fn magnesium_on_the_skin_does_not_meet_quinine_in_the_gut() {
    // The quinine + magnesium rule is about antacids binding quinine in the
    // gut: a cream, a lotion or an Epsom salt bath cannot.
    for written in [
        "magnesium sulfate cream, apply to affected area bid",
        "magnesium lotion",
        "epsom salt bath",
    ] {
        let (_, doc) = check_json(&["--propose", "quinine", "--med", written]);
        assert_eq!(med(&doc, 0)["route"], "topical", "{written}");
        assert_eq!(med(&doc, 0)["status"], "recognized", "{written}");
        let interactions = doc["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["kind"] == "interaction")
            .count();
        assert_eq!(interactions, 0, "{written}: {doc}");
    }
    // Swallowed, it does; an oral gel keeps its route.
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "magnesium oxide 400 mg daily",
    ]);
    assert!(finding(&doc, "interaction", &["quinine", "magnesium oxide"]).is_some());
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "miconazole oral gel apply qid",
    ]);
    assert_eq!(med(&doc, 0)["route"], "oral");
}

#[test]
fn mag_ox_is_magnesium_oxide_and_meets_the_quinine_antacid_rule() {
    let (_, doc) = check_json(&["--propose", "Mag-Ox 400", "--med", "quinine"]);
    assert_eq!(ingredients(&doc["proposed"]), ["magnesium oxide"]);
    let f = finding(&doc, "interaction", &["magnesium oxide", "quinine"])
        .unwrap_or_else(|| panic!("antacid + quinine: {doc}"));
    assert_eq!(f["severity"], "moderate");
}

#[test]
fn baclofen_meets_every_opioid_and_sedating_drug_through_its_class() {
    for (med, severity) in [
        ("Nucynta 50 mg", "major"),
        ("nalbuphine", "major"),
        ("ziprasidone", "moderate"),
        ("meclizine", "moderate"),
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        let f = findings(&doc)
            .iter()
            .find(|f| f["kind"] == "interaction")
            .unwrap_or_else(|| panic!("baclofen + {med}: {doc}"));
        assert_eq!(f["severity"], severity, "baclofen + {med}: {f}");
    }
}

#[test]
fn cirrhosis_meets_the_hepatic_impairment_cautions_of_the_cramp_drugs() {
    for drug in ["orphenadrine", "diltiazem", "naftidrofuryl", "baclofen"] {
        let (_, doc) = check_json(&["--propose", drug, "--condition", "decompensated cirrhosis"]);
        let f = finding(&doc, "condition", &[drug])
            .unwrap_or_else(|| panic!("{drug} in cirrhosis: {doc}"));
        assert_eq!(f["condition"], "cirrhosis", "{f}");
        assert_eq!(f["severity"], "moderate", "{f}");
    }
}

#[test]
fn a_condition_named_with_its_snomed_tag_is_recognized() {
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--condition",
        "Myasthenia gravis (disorder)",
    ]);
    let f = finding(&doc, "condition", &["quinine"])
        .unwrap_or_else(|| panic!("myasthenia gravis: {doc}"));
    assert_eq!(f["condition"], "myasthenia-gravis");
    assert_eq!(f["severity"], "contraindicated");
}

#[test]
fn separate_the_doses_applies_only_when_both_drugs_pass_through_the_gut() {
    let pair = |magnesium: &str| {
        let (_, doc) = check_json(&["--propose", "quinine", "--med", magnesium]);
        assert_eq!(med(&doc, 0)["status"], "recognized", "{magnesium}: {doc}");
        finding(&doc, "interaction", &["quinine", "magnesium sulfate"])
            .or_else(|| finding(&doc, "interaction", &["quinine", "magnesium oxide"]))
            .cloned()
    };
    assert!(pair("magnesium oxide 400 mg po daily").is_some());
    assert!(
        pair("magnesium sulfate 1 g daily").is_some(),
        "no route: taken as oral"
    );
    for injected in [
        "magnesium sulfate 2 g IV",
        "magnesium sulfate 4 g IV infusion over 20 min",
        "Magnesium Sulfate 500 MG/ML Injectable Solution",
    ] {
        assert_eq!(pair(injected), None, "{injected}");
    }
    // A row about something other than the gut still applies to IV
    // magnesium: loop diuretics raise its loss in urine.
    let (_, doc) = check_json(&[
        "--propose",
        "magnesium sulfate 2 g IV",
        "--med",
        "furosemide 40 mg daily",
        "--med",
        "ciprofloxacin 500 mg bid",
    ]);
    assert!(finding(&doc, "interaction", &["magnesium sulfate", "furosemide"]).is_some());
    assert!(finding(&doc, "interaction", &["magnesium sulfate", "ciprofloxacin"]).is_none());
}

#[test]
fn a_proposed_drug_read_in_part_names_the_words_not_read_not_other_drugs() {
    let out = crampcheck()
        .args(["check", "--propose", "quinine 324 mg nightly x30 days"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "read only in part: quinine was recognized, but `x30`, `days` could not be read"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("did you mean"), "{stderr}");
    // batch --propose says the same.
    let out = crampcheck()
        .args(["batch", "-", "--propose", "quinine x30", "--quiet"])
        .write_stdin("patient_id,drug\np1,warfarin\n")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`x30` could not be read"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_tablet_count_written_as_a_bare_number_counts_in_the_daily_dose() {
    for written in [
        "baclofen 20mg 2 qds",
        "baclofen 2 x 20mg qid",
        "baclofen 20mg 1-2 qds",
    ] {
        let (_, doc) = check_json(&["--propose", written]);
        let dose = findings(&doc)
            .iter()
            .find(|f| f["kind"] == "dose")
            .unwrap_or_else(|| panic!("{written}: {doc}"));
        assert!(
            dose["title"].as_str().unwrap_or("").contains("160 mg/day"),
            "{written}: {dose}"
        );
    }
}

#[test]
fn a_product_named_with_a_number_keeps_its_ingredients_when_a_sig_follows() {
    for written in [
        "Tylenol #3 1 tab q4h prn",
        "Tylenol #3",
        "Tylenol #4 1 tab q6h",
        "Tylenol No. 4 q4h prn",
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", written]);
        assert_eq!(
            ingredients(med(&doc, 0)),
            ["acetaminophen", "codeine"],
            "{written}: {doc}"
        );
        assert_eq!(med(&doc, 0)["status"], "recognized", "{written}");
        assert!(
            finding(&doc, "interaction", &["baclofen", "codeine"]).is_some(),
            "{written}: {doc}"
        );
    }
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "Tylenol #3 1 tab q4h prn"]);
    assert_eq!(med(&doc, 0)["frequency"], "q4h prn", "{doc}");
    // A number that counts tablets or doses is no part of the name:
    // `Tylenol 2 tabs` is two acetaminophen tablets, not Tylenol #2.
    for plain in [
        "Tylenol 2 tabs q6h prn",
        "Tylenol 3 times daily",
        "Tylenol 4 hourly prn",
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", plain]);
        assert_eq!(
            ingredients(med(&doc, 0)),
            ["acetaminophen"],
            "{plain}: {doc}"
        );
    }
    // A count or strength after the number says it is the product's.
    for product in ["Tylenol 3 1 tab q4h", "Tylenol 3 300/30 mg q4h"] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", product]);
        assert_eq!(
            ingredients(med(&doc, 0)),
            ["acetaminophen", "codeine"],
            "{product}: {doc}"
        );
    }
    // A bare number with a sig after it could be either: said, not guessed.
    let (code, doc) = check_json(&["--propose", "baclofen", "--med", "Tylenol 3 q6h prn"]);
    assert_eq!(med(&doc, 0)["status"], "ambiguous", "{doc}");
    assert_eq!(code, 1, "an ambiguous name makes the check incomplete");
    assert_eq!(
        med(&doc, 0)["candidates"],
        serde_json::json!(["acetaminophen + codeine", "acetaminophen"]),
        "{doc}"
    );
    // The brand named beside its generic is one drug, and the strength
    // stays (Epic writes `baclofen (LIORESAL) 20 MG tablet`).
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen (LIORESAL) 20 MG tablet Take 2 tablets (40 mg total) by mouth 3 (three) times daily.",
    ]);
    let dose = finding(&doc, "dose", &["baclofen"]).unwrap_or_else(|| panic!("{doc}"));
    assert!(
        dose["title"].as_str().unwrap_or("").contains("120 mg/day"),
        "{dose}"
    );
    // Several ingredients are read part by part.
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "Theo-24 300 mg / clarithromycin 500 mg",
    ]);
    assert_eq!(
        ingredients(med(&doc, 0)),
        ["theophylline", "clarithromycin"]
    );
    assert!(finding(&doc, "interaction", &["quinine", "clarithromycin"]).is_some());
    // A word after the name that is no sig is still reported.
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "tylenol #3 zorblax"]);
    assert_eq!(med(&doc, 0)["status"], "unrecognized");
    assert!(finding(&doc, "interaction", &["baclofen", "codeine"]).is_some());
}

#[test]
fn drugs_are_members_of_the_classes_their_rules_name() {
    // Tapentadol is an opioid: a CNS depressant with methocarbamol.
    let (_, doc) = check_json(&["--propose", "methocarbamol", "--med", "Palexia 50 mg bd"]);
    assert!(
        finding(&doc, "interaction", &["methocarbamol", "tapentadol"]).is_some(),
        "{doc}"
    );
    // Bendroflumethiazide, the UK's usual thiazide: an antihypertensive
    // with baclofen (UK), and a thiazide with magnesium.
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--med",
        "bendroflumethiazide 2.5mg od",
        "--jurisdiction",
        "UK",
    ]);
    assert!(
        finding(&doc, "interaction", &["baclofen", "bendroflumethiazide"]).is_some(),
        "{doc}"
    );
    let (_, doc) = check_json(&[
        "--propose",
        "magnesium",
        "--med",
        "bendroflumethiazide 2.5mg od",
    ]);
    assert!(
        finding(&doc, "interaction", &["magnesium", "bendroflumethiazide"]).is_some(),
        "{doc}"
    );
}

#[test]
fn a_stated_severe_renal_condition_is_also_renal_impairment() {
    // eGFR 20 gives both conditions; a stated dialysis must too.
    let renal = |args: &[&str]| {
        let mut all = vec!["--propose", "albumin"];
        all.extend(args);
        let (_, doc) = check_json(&all);
        finding(&doc, "condition", &["albumin"])
            .filter(|f| f["condition"] == "renal-impairment")
            .cloned()
    };
    assert!(renal(&["--egfr", "20"]).is_some());
    let stated = renal(&["--condition", "dialysis"]).unwrap_or_else(|| panic!("dialysis"));
    assert!(
        stated["basis"]
            .as_str()
            .unwrap_or("")
            .contains("implied by severe-renal-impairment: end-stage-renal-disease: stated"),
        "{stated}"
    );
    assert!(renal(&["--condition", "kidney failure"]).is_some());
    // The patient context says why, step by step.
    let (_, doc) = check_json(&["--propose", "albumin", "--condition", "esrd"]);
    let conditions = doc["patient"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let basis = |code: &str| {
        conditions
            .iter()
            .find(|c| c["code"] == code)
            .map(|c| c["basis"].clone())
    };
    assert_eq!(
        basis("end-stage-renal-disease"),
        Some("stated".into()),
        "{doc}"
    );
    assert_eq!(
        basis("severe-renal-impairment"),
        Some("implied by end-stage-renal-disease: stated".into()),
        "{doc}"
    );
    assert_eq!(
        basis("renal-impairment"),
        Some("implied by severe-renal-impairment: end-stage-renal-disease: stated".into()),
        "{doc}"
    );
    // Stage 4 is severe but not end-stage.
    let (_, doc) = check_json(&["--propose", "albumin", "--condition", "ckd 4"]);
    let codes: Vec<&str> = doc["patient"]["conditions"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        codes,
        ["renal-impairment", "severe-renal-impairment"],
        "{doc}"
    );
}

#[test]
fn a_row_of_no_one_jurisdiction_does_not_hide_a_stricter_foreign_row() {
    // US has no row of its own for baclofen in peptic ulcer: the UK
    // contraindication shows beside the international row.
    let (_, doc) = check_json(&["--propose", "baclofen", "--condition", "peptic ulcer"]);
    let f = finding(&doc, "condition", &["baclofen"])
        .filter(|f| f["condition"] == "peptic-ulcer")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(f["severity"], "contraindicated", "{f}");
    // UK has no row of its own for quinine + troleandomycin: the US
    // "avoid" shows beside the `any` row.
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "troleandomycin",
        "--jurisdiction",
        "UK",
    ]);
    let f = finding(&doc, "interaction", &["quinine", "troleandomycin"])
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(
        (f["severity"].as_str(), f["action"].as_str()),
        (Some("major"), Some("avoid")),
        "{f}"
    );
}

#[test]
fn a_row_about_one_route_of_a_drug_holds_only_for_that_route() {
    // Diltiazem with dantrolene is about the dantrolene infusion.
    let pair = |dantrolene: &str| {
        let (_, doc) = check_json(&["--propose", "diltiazem 30 mg nocte", "--med", dantrolene]);
        finding(&doc, "interaction", &["diltiazem", "dantrolene"]).cloned()
    };
    assert_eq!(pair("dantrolene 25 mg po qid"), None);
    assert_eq!(
        pair("Dantrium 50mg caps tds"),
        None,
        "capsules are taken by mouth"
    );
    for infused_or_unknown in ["dantrolene 1 mg/kg IV", "dantrolene 25 mg qid"] {
        let f = pair(infused_or_unknown).unwrap_or_else(|| panic!("{infused_or_unknown}"));
        assert_eq!(f["severity"], "contraindicated", "{infused_or_unknown}");
    }
}

#[test]
fn partner_labels_that_forbid_quinidine_quinine_or_diltiazem_are_contraindications() {
    // Each partner's own label forbids the combination (ritonavir, the
    // azoles, pimozide, lomitapide); before KB 2026.11.26.5 quinidine with
    // ritonavir or an azole said nothing at all.
    for (propose, med, partner) in [
        ("quinidine", "Paxlovid", "ritonavir"),
        ("quinidine", "Kaletra", "ritonavir"),
        ("quinidine", "ketoconazole 200 mg daily", "ketoconazole"),
        ("quinidine", "Sporanox", "itraconazole"),
        ("quinidine", "voriconazole", "voriconazole"),
        ("quinidine", "Noxafil", "posaconazole"),
        ("quinidine", "Orap", "pimozide"),
        ("quinine", "pimozide 2 mg", "pimozide"),
        ("diltiazem", "Juxtapid 5 mg", "lomitapide"),
    ] {
        let (code, doc) = check_json(&["--propose", propose, "--med", med]);
        assert_eq!(code, 1, "{propose} + {med}: {doc}");
        let f = finding(&doc, "interaction", &[propose, partner])
            .unwrap_or_else(|| panic!("{propose} + {med}: {doc}"));
        assert_eq!(f["severity"], "contraindicated", "{propose} + {med}: {f}");
        assert_eq!(f["action"], "avoid", "{propose} + {med}: {f}");
    }
}

#[test]
fn a_stated_condition_that_a_lab_value_contradicts_still_applies_and_says_so() {
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--egfr",
        "75",
        "--condition",
        "ckd",
    ]);
    let conditions = doc["patient"]["conditions"].clone();
    assert_eq!(
        conditions,
        serde_json::json!([{
            "code": "renal-impairment",
            "basis": "stated",
            "note": "eGFR 75 mL/min/1.73m2 is not < 60"
        }]),
        "{doc}"
    );
    let f = finding(&doc, "condition", &["baclofen"]).unwrap_or_else(|| panic!("{doc}"));
    assert!(
        f["basis"]
            .as_str()
            .is_some_and(|b| b.ends_with("(stated), though eGFR 75 mL/min/1.73m2 is not < 60")),
        "{f}"
    );
    // A value that supports it, or none, adds nothing.
    for egfr in [&["--egfr", "45"][..], &[][..]] {
        let mut args = vec!["--propose", "baclofen", "--condition", "ckd"];
        args.extend(egfr);
        let (_, doc) = check_json(&args);
        assert!(
            doc["patient"]["conditions"][0].get("note").is_none(),
            "{doc}"
        );
    }
    let text = crampcheck()
        .args([
            "check",
            "--propose",
            "baclofen",
            "--age",
            "50",
            "--condition",
            "elderly",
        ])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("Patient: older-adult (stated, though age 50 years is not >= 65)"),
        "{text}"
    );
}

#[test]
fn an_age_bound_rule_met_only_by_a_stated_older_adult_says_so() {
    // Beers (65 or more, eGFR below 60: avoid) applies to a stated older
    // adult whose age is given as 60 — a missed caution costs more — and
    // the finding says why.
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--egfr",
        "45",
        "--age",
        "60",
        "--condition",
        "elderly",
    ]);
    let f = finding(&doc, "condition", &["baclofen"]).unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(f["severity"], "major", "{f}");
    assert!(
        f["basis"]
            .as_str()
            .is_some_and(|b| b
                .ends_with("; applied for a stated older adult, though age 60 years is below 65")),
        "{f}"
    );
    let (_, doc) = check_json(&["--propose", "baclofen", "--egfr", "45", "--age", "70"]);
    let f = finding(&doc, "condition", &["baclofen"]).unwrap_or_else(|| panic!("{doc}"));
    assert!(
        !f["basis"].as_str().unwrap_or("").contains("applied for"),
        "{f}"
    );
    // When the finding is about the stated old age itself, one note says it.
    let (_, doc) = check_json(&[
        "--propose",
        "orphenadrine",
        "--condition",
        "elderly",
        "--age",
        "60",
    ]);
    let f = finding(&doc, "condition", &["orphenadrine"])
        .filter(|f| f["condition"] == "older-adult")
        .unwrap_or_else(|| panic!("{doc}"));
    let basis = f["basis"].as_str().unwrap_or("");
    assert_eq!(basis.matches("age 60 years").count(), 1, "{basis}");
}

#[test]
fn the_uk_position_on_quinine_is_a_label_warning_not_a_boxed_warning() {
    // UK SmPCs have no boxed warnings; the finding keeps its kind (a public
    // field) and says what it is.
    for (jurisdiction, heading) in [("US", "Boxed warning: "), ("UK", "Label warning: ")] {
        let (_, doc) = check_json(&["--propose", "quinine", "--jurisdiction", jurisdiction]);
        let f = finding(&doc, "boxed_warning", &["quinine"]).unwrap_or_else(|| panic!("{doc}"));
        assert!(
            f["title"].as_str().is_some_and(|t| t.starts_with(heading)),
            "{jurisdiction}: {f}"
        );
    }
    // The text report's tag and the FHIR DetectedIssue say the same.
    let text = crampcheck()
        .args(["check", "--propose", "quinine", "--jurisdiction", "UK"])
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("[label warning · monitor · label]"), "{text}");
    let fhir = crampcheck()
        .args([
            "check",
            "--propose",
            "quinine",
            "--jurisdiction",
            "UK",
            "--format",
            "fhir",
        ])
        .output()
        .expect("run");
    let fhir = String::from_utf8_lossy(&fhir.stdout);
    assert!(fhir.contains("\"text\": \"Label warning\""), "{fhir}");
    assert!(!fhir.contains("Boxed warning"), "{fhir}");
}

#[test]
fn a_name_read_by_its_spelling_is_reported_not_passed_as_checked() {
    // `Dridol` (droperidol, unknown to the KB) is one letter from Drisdol
    // (ergocalciferol): it is checked as that, and said to be a guess, so
    // the check is not complete and exits 1.
    let (code, doc) = check_json(&["--propose", "baclofen", "--med", "Dridol"]);
    assert_eq!(code, 1, "{doc}");
    assert_eq!(doc["complete"], false, "{doc}");
    assert_eq!(doc["verdict"], "incomplete", "{doc}");
    let f = finding(&doc, "unrecognized", &[]).unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(
        f["title"],
        "`Dridol` is not a name the KB knows; it was read by its spelling"
    );
    assert!(
        f["mechanism"]
            .as_str()
            .is_some_and(|m| m.contains("`dridol` as `drisdol`")),
        "{f}"
    );
    // The drug about to be prescribed is not guessed at: exit 2, saying
    // what it would have been read as.
    let out = crampcheck()
        .args(["check", "--propose", "Dridol", "--med", "warfarin"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`dridol` as `drisdol`"), "{stderr}");
    // An exact name is no guess.
    let (code, doc) = check_json(&["--propose", "baclofen", "--med", "ergocalciferol"]);
    assert_eq!(
        (code, doc["complete"].clone()),
        (0, serde_json::json!(true)),
        "{doc}"
    );
}

#[test]
fn a_product_number_or_a_dangling_plus_the_kb_does_not_know_is_reported() {
    // `Tylenol #1` and `Fiorinal #3` hold codeine; `Sudafed Plus` another
    // drug. Read as the plain brand, the codeine or the other drug would be
    // missed without a word.
    for (med, word) in [
        ("Tylenol #1", "#1"),
        ("#2 Tylenol #1", "#1"),
        ("Fiorinal #3", "#3"),
        ("Fioricet #3", "#3"),
        ("Sudafed Plus", "plus"),
        ("Tylenol with", "with"),
        ("codeine with", "with"),
    ] {
        let (code, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        assert_eq!(code, 1, "{doc}");
        let m = &doc["medications"][0];
        assert_eq!(m["status"], "unrecognized", "{m}");
        assert_eq!(m["unresolved"], serde_json::json!([word]), "{m}");
    }
    // The numbered product the KB knows, and a joining word that joins.
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "Tylenol #3"]);
    assert_eq!(
        doc["medications"][0]["ingredients"],
        serde_json::json!(["acetaminophen", "codeine"])
    );
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "aspirin plus caffeine"]);
    assert_eq!(doc["medications"][0]["status"], "recognized", "{doc}");
    // A number that grades the codeine a name already says.
    for med in ["Fiorinal with Codeine #3", "Tylenol with Codeine #3"] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        let m = &doc["medications"][0];
        assert_eq!(m["status"], "recognized", "{med}: {m}");
        assert!(
            m["ingredients"]
                .as_array()
                .is_some_and(|i| i.contains(&serde_json::json!("codeine"))),
            "{med}: {m}"
        );
    }
    // A leading `#3` numbers a list; a `#30` after a strength counts what is
    // dispensed.
    for med in [
        "#3 warfarin 5 mg",
        "oxycodone 5 mg #30",
        "Percocet 5/325 #20",
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        assert_eq!(
            doc["medications"][0]["status"], "recognized",
            "{med}: {doc}"
        );
    }
    // As the drug proposed, a dispensed count is no obstacle either.
    let (code, doc) = check_json(&["--propose", "oxycodone 5 mg #30", "--med", "baclofen"]);
    assert_eq!(code, 1, "{doc}");
}

#[test]
fn a_pasted_list_number_is_not_read_as_a_strength_or_product_number() {
    // `1. Tylenol #3` was read as Tylenol (acetaminophen) of strength 1,
    // and the codeine the baclofen check must see was lost.
    for med in [
        "1. Tylenol #3",
        "2) Tylenol #3",
        "#1 Tylenol 3",
        "#1 Tylenol #3",
        "#1. Tylenol #4",
        "#1 - Tylenol #4",
        "(1) Tylenol #3",
        "1: Tylenol #3",
        "#2 (Tylenol #2)",
        "2 tabs Tylenol #4 q6h",
    ] {
        let (code, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        let m = &doc["medications"][0];
        assert_eq!(
            (m["status"].as_str(), m["ingredients"].clone()),
            (
                Some("recognized"),
                serde_json::json!(["acetaminophen", "codeine"])
            ),
            "{med}: {m}"
        );
        assert_eq!(m["strengths"], serde_json::json!([]), "{med}: {m}");
        assert_eq!(code, 1, "baclofen + codeine is major: {doc}");
        assert_eq!(m["input"], med, "the input is reported as written");
    }
    // `#4 Tylenol` may be Tylenol #4 written the other way round: said,
    // not guessed; a list number before a name with no numbered products
    // is only a list number.
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "#4 Tylenol"]);
    assert_eq!(
        doc["medications"][0]["unresolved"],
        serde_json::json!(["#4"])
    );
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "#1 warfarin"]);
    assert_eq!(doc["medications"][0]["status"], "recognized", "{doc}");
    // A number after a name that holds codeine grades it.
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "co-codamol #3"]);
    assert_eq!(doc["medications"][0]["status"], "recognized", "{doc}");
    // The strength after a list number is the drug's; a leading decimal
    // is a strength, not a list number.
    for (med, drug, value) in [
        ("2. baclofen 10 mg tid", "baclofen", 10.0),
        ("1.5 mg lorazepam", "lorazepam", 1.5),
    ] {
        let (_, doc) = check_json(&["--propose", "quinine", "--med", med]);
        let m = &doc["medications"][0];
        assert_eq!(m["ingredients"], serde_json::json!([drug]), "{med}: {m}");
        assert_eq!(m["strengths"][0]["value"], value, "{med}: {m}");
    }
}

#[test]
fn a_line_extension_is_read_as_its_own_ingredient() {
    // Sudafed PE is phenylephrine; the bare brand is pseudoephedrine.
    for (med, drug) in [
        ("Sudafed PE", "phenylephrine"),
        ("Sudafed", "pseudoephedrine"),
    ] {
        let (_, doc) = check_json(&["--propose", "quinine", "--med", med]);
        let m = &doc["medications"][0];
        assert_eq!(
            (m["status"].as_str(), m["ingredients"].clone()),
            (Some("recognized"), serde_json::json!([drug])),
            "{med}: {m}"
        );
    }
}

#[test]
fn product_names_once_read_by_their_spelling_are_known_names() {
    // Refused as guesses once spelling matches stopped passing as checked;
    // they are names of the KB's therapies.
    for (propose, drug) in [
        ("Epsom salts", "magnesium"),
        ("Albuminar-5", "albumin"),
        ("Albuminar-20", "albumin"),
    ] {
        let (code, doc) = check_json(&["--propose", propose]);
        assert_ne!(code, 2, "{propose}: {doc}");
        assert_eq!(
            doc["proposed"]["ingredients"],
            serde_json::json!([drug]),
            "{doc}"
        );
    }
}

#[test]
fn every_way_of_stating_liver_disease_meets_methocarbamol_s_hepatic_caution() {
    // The row was on cirrhosis only: hepatic impairment, liver failure and
    // hepatic encephalopathy (which stated nothing at all) passed as OK.
    for condition in [
        "cirrhosis",
        "hepatic impairment",
        "liver failure",
        "hepatic encephalopathy",
    ] {
        let (code, doc) = check_json(&["--propose", "methocarbamol", "--condition", condition]);
        let f = finding(&doc, "condition", &["methocarbamol"])
            .unwrap_or_else(|| panic!("{condition}: {doc}"));
        assert_eq!(f["severity"], "moderate", "{condition}: {f}");
        assert_eq!(doc["verdict"], "caution", "{condition}: {doc}");
        assert_eq!(code, 0, "moderate is below the default --fail-on");
    }
    // Hepatic encephalopathy is advanced liver disease: quinine's hepatic
    // contraindication-level row applies through it.
    let (code, doc) = check_json(&["--propose", "quinine", "--condition", "hepatic coma"]);
    let hepatic = findings(&doc)
        .iter()
        .find(|f| f["condition"] == "hepatic-impairment")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(
        (hepatic["severity"].as_str(), hepatic["action"].as_str()),
        (Some("major"), Some("avoid"))
    );
    assert_eq!(code, 1);
}

#[test]
fn pimozide_s_uk_label_forbids_quinine_and_quinidine_under_uk_facts_too() {
    // The contraindication was a US-label row, so under UK facts the UK
    // quinine QT row (moderate, monitor) hid it and the check exited 0.
    for proposed in ["quinine", "quinidine"] {
        for jurisdiction in ["US", "UK"] {
            let (code, doc) = check_json(&[
                "--propose",
                proposed,
                "--med",
                "pimozide 2 mg daily",
                "--jurisdiction",
                jurisdiction,
            ]);
            let f = finding(&doc, "interaction", &[proposed, "pimozide"])
                .unwrap_or_else(|| panic!("{proposed} {jurisdiction}: {doc}"));
            assert_eq!(
                f["severity"], "contraindicated",
                "{proposed} {jurisdiction}: {f}"
            );
            assert_eq!(code, 1, "{proposed} {jurisdiction}");
        }
    }
}

#[test]
fn a_proposal_of_several_drugs_is_checked_within_itself() {
    // Each drug named is about to be prescribed: "baclofen and oxycodone"
    // was OK with exit 0, though the pair is major/avoid as a list entry.
    for (proposal, pair, kind, severity) in [
        (
            "baclofen and oxycodone",
            ["baclofen", "oxycodone"],
            "interaction",
            "major",
        ),
        (
            "baclofen/oxycodone 10/5 mg tid",
            ["baclofen", "oxycodone"],
            "interaction",
            "major",
        ),
        (
            "diltiazem + simvastatin",
            ["diltiazem", "simvastatin"],
            "interaction",
            "major",
        ),
        (
            "quinine and quinidine",
            ["quinine", "quinidine"],
            "duplicate",
            "moderate",
        ),
        // The text's one route is the last written: every row applies.
        (
            "dantrolene iv and diltiazem po",
            ["dantrolene", "diltiazem"],
            "interaction",
            "contraindicated",
        ),
        // A drug named by a salt word is not the salt of the one before.
        (
            "quinine + magnesium",
            ["quinine", "magnesium"],
            "interaction",
            "moderate",
        ),
    ] {
        let (code, doc) = check_json(&["--propose", proposal]);
        let f = finding(&doc, kind, &pair).unwrap_or_else(|| panic!("{proposal}: {doc}"));
        assert_eq!(f["severity"], severity, "{proposal}: {f}");
        assert_eq!(f["medication_indices"], serde_json::json!([]), "{f}");
        assert_eq!(code, 1, "{proposal}");
    }
    // A pair with a drug also on the list is that list pair, said once.
    let (_, doc) = check_json(&[
        "--propose",
        "diltiazem + simvastatin",
        "--med",
        "simvastatin 40 mg",
    ]);
    let pairs = findings(&doc)
        .iter()
        .filter(|f| f["kind"] == "interaction" && f["title"] == "diltiazem + simvastatin")
        .count();
    assert_eq!(pairs, 1, "{doc}");
    // A marketed combination puts its ingredients together by design:
    // Nuedexta's quinidine raises its dextromethorphan on purpose.
    let (_, doc) = check_json(&["--propose", "Nuedexta"]);
    assert!(
        finding(&doc, "interaction", &["dextromethorphan", "quinidine"]).is_none()
            && finding(&doc, "interaction", &["quinidine", "dextromethorphan"]).is_none(),
        "{doc}"
    );
}

#[test]
fn a_condition_finding_does_not_repeat_its_title_as_its_effect() {
    // A condition finding's effect is its rows' titles as sentences: the
    // text, FHIR and CDS formats printed the headline twice.
    let out = crampcheck()
        .args([
            "check",
            "--propose",
            "methocarbamol",
            "--condition",
            "elderly",
        ])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let title = "Beers 2023: skeletal muscle relaxant in an older adult";
    assert_eq!(text.matches(title).count(), 1, "{text}");
    assert!(!text.contains("Effect: "), "{text}");
    // An effect that says more than the title is still printed.
    let out = crampcheck()
        .args(["check", "--propose", "quinine", "--med", "clarithromycin"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Effect: "));
}

#[test]
fn the_text_report_shows_every_lab_value_it_used() {
    // A value that meets no threshold (magnesium 4.8 mg/dL: the KB has only
    // a low one) was shown nowhere in the text report.
    let out = crampcheck()
        .args([
            "check",
            "--propose",
            "magnesium oxide 400 mg bid",
            "--magnesium",
            "4.8",
            "--egfr",
            "45",
            "--age",
            "70",
        ])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Labs: eGFR 45 mL/min/1.73 m², magnesium 4.8 mg/dL, age 70 years"),
        "{text}"
    );
}

#[test]
fn a_ckd_stage_written_against_its_letters_is_that_stage() {
    // `CKD4` was refused while `ckd 4` and `CKD-4` were read.
    for (written, code) in [
        ("CKD4", "severe-renal-impairment"),
        ("ckd5", "end-stage-renal-disease"),
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--condition", written]);
        let stated: Vec<&str> = doc["patient"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["basis"] == "stated")
            .filter_map(|c| c["code"].as_str())
            .collect();
        assert_eq!(stated, [code], "{written}: {doc}");
    }
}

#[test]
fn a_proposal_s_own_route_bound_pair_stands_beside_a_listed_drug_by_another_route() {
    // The listed oral dantrolene meets no parenteral-only row; the proposed
    // IV dantrolene does, and its contraindication with diltiazem was lost.
    let (_, doc) = check_json(&[
        "--propose",
        "diltiazem and dantrolene iv",
        "--med",
        "dantrolene 25 mg po daily",
    ]);
    let f = finding(&doc, "interaction", &["diltiazem", "dantrolene"])
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(f["severity"], "contraindicated", "{f}");
}

#[test]
fn review_regressions_a_count_before_a_numbered_product_and_joined_names() {
    // `2 tabs Tylenol 3` is two Tylenol No. 3: its codeine was lost.
    for med in ["2 tabs Tylenol 3 q6h", "1 tab Tylenol 3"] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        assert_eq!(
            doc["medications"][0]["ingredients"],
            serde_json::json!(["acetaminophen", "codeine"]),
            "{med}: {doc}"
        );
    }
    let (_, doc) = check_json(&["--propose", "baclofen", "--med", "#3 Tylenol 2 tabs q6h"]);
    assert_eq!(
        doc["medications"][0]["unresolved"],
        serde_json::json!(["#3"])
    );
    // `&` and `plus` join names too; a side that is a class is reported,
    // not dropped.
    for med in ["digoxin & magnesium", "digoxin plus magnesium"] {
        let (_, doc) = check_json(&["--propose", "quinine", "--med", med]);
        assert_eq!(
            doc["medications"][0]["ingredients"],
            serde_json::json!(["digoxin", "magnesium"]),
            "{med}: {doc}"
        );
    }
    let (code, doc) = check_json(&["--propose", "quinine", "--med", "digoxin and macrolides"]);
    assert_eq!(
        doc["medications"][0]["unresolved"],
        serde_json::json!(["macrolides"]),
        "{doc}"
    );
    assert_eq!(code, 1);
}

#[test]
fn review_3_regressions_a_drug_after_a_numbered_product_and_counts_in_words() {
    // After `2 tabs Tylenol #3`, simvastatin was reported as not read and
    // its interaction with diltiazem lost.
    let (_, doc) = check_json(&[
        "--propose",
        "diltiazem",
        "--med",
        "2 tabs Tylenol #3 and simvastatin",
    ]);
    assert_eq!(
        doc["medications"][0]["ingredients"],
        serde_json::json!(["acetaminophen", "codeine", "simvastatin"]),
        "{doc}"
    );
    assert!(
        finding(&doc, "interaction", &["diltiazem", "simvastatin"]).is_some(),
        "{doc}"
    );
    for med in [
        "1-2 tabs Tylenol 3 q6h",
        "two tabs Tylenol 3",
        "1/2 tab Tylenol 3",
        "1 to 2 tabs Tylenol 3 q4h",
        "take 2 tabs Tylenol 3",
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        assert_eq!(
            doc["medications"][0]["ingredients"],
            serde_json::json!(["acetaminophen", "codeine"]),
            "{med}: {doc}"
        );
    }
}

#[test]
fn session_14_sig_words_before_a_numbered_product_and_drugs_listed_with_commas() {
    // A range with an en dash, a mixed number, `2x` or `take ... of` before
    // `Tylenol 3` had lost its codeine (read as acetaminophen of strength 3).
    for med in [
        "1–2 tabs Tylenol 3 q6h",
        "1 1/2 tabs Tylenol 3 q6h",
        "2x Tylenol 3",
        "take 2 tablets of Tylenol 3",
    ] {
        let (_, doc) = check_json(&["--propose", "baclofen", "--med", med]);
        assert_eq!(
            doc["medications"][0]["ingredients"],
            serde_json::json!(["acetaminophen", "codeine"]),
            "{med}: {doc}"
        );
    }
    // With no count before it, `Tylenol 3` stays ambiguous (three Tylenol,
    // or Tylenol No. 3?), as it is alone.
    let (code, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--med",
        "please take Tylenol 3 q6h",
    ]);
    assert_eq!(doc["medications"][0]["status"], "ambiguous", "{doc}");
    assert_eq!(code, 1);
    // A drug named by a salt word after a comma is a drug of its own, not
    // the salt of the name before it: the magnesium was dropped silently.
    for med in [
        "digoxin, magnesium",
        "digoxin 0.25 mg, magnesium 400 mg daily",
    ] {
        let (_, doc) = check_json(&["--propose", "quinine", "--med", med]);
        assert_eq!(
            doc["medications"][0]["ingredients"],
            serde_json::json!(["digoxin", "magnesium"]),
            "{med}: {doc}"
        );
        assert!(
            finding(&doc, "interaction", &["quinine", "magnesium"]).is_some(),
            "{med}: {doc}"
        );
    }
    // `2x` before it (twice a day, or two tablets?) is reported as not read.
    let (_, doc) = check_json(&["--propose", "quinine", "--med", "2x Tylenol 3 daily"]);
    let titles: Vec<&str> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"Dose not read in `2x Tylenol 3 daily`: `2x`"),
        "{titles:?}"
    );
    // A semicolon lists drugs as a comma does.
    let (_, doc) = check_json(&["--propose", "quinine", "--med", "digoxin; magnesium"]);
    assert_eq!(
        doc["medications"][0]["ingredients"],
        serde_json::json!(["digoxin", "magnesium"]),
        "{doc}"
    );
    // A comma with no space after it lists the next drug too (tramadol had
    // been lost), and a count before a name is no product number (`take 2
    // Tylenol` is two tablets of acetaminophen, no codeine).
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "baclofen 10mg,tramadol 50mg",
    ]);
    assert_eq!(
        doc["medications"][0]["ingredients"],
        serde_json::json!(["baclofen", "tramadol"]),
        "{doc}"
    );
    let (_, doc) = check_json(&["--propose", "quinine", "--med", "take 2 Tylenol q6h"]);
    assert_eq!(
        doc["medications"][0]["ingredients"],
        serde_json::json!(["acetaminophen"]),
        "{doc}"
    );
    // In a list, `Tylenol 3` after another drug keeps its codeine.
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "tramadol 50 mg, Tylenol 3 1 tab q6h",
    ]);
    assert_eq!(
        doc["medications"][0]["ingredients"],
        serde_json::json!(["tramadol", "acetaminophen", "codeine"]),
        "{doc}"
    );
    // A salt written after a comma that is no drug of its own stays the
    // name's (`heparin sodium, porcine`).
    let (_, doc) = check_json(&["--propose", "quinine", "--med", "heparin sodium, porcine"]);
    assert_eq!(
        doc["medications"][0]["ingredients"],
        serde_json::json!(["heparin"]),
        "{doc}"
    );
}

#[test]
fn a_route_written_for_one_drug_of_a_list_is_that_drugs_alone() {
    // The IV dantrolene row was dropped when a later `po` was taken as the
    // route of the whole text.
    let (_, doc) = check_json(&[
        "--propose",
        "diltiazem",
        "--med",
        "dantrolene 70 mg IV, metoprolol 25 mg po bid",
    ]);
    assert!(
        finding(&doc, "interaction", &["diltiazem", "dantrolene"]).is_some(),
        "{doc}"
    );
}

#[test]
fn an_ambiguous_piece_of_a_list_is_named_and_the_rest_is_checked() {
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "vitamin D 1000 units daily, baclofen 30 mg qid",
    ]);
    let titles: Vec<&str> = findings(&doc)
        .iter()
        .filter_map(|f| f["title"].as_str())
        .collect();
    assert!(
        titles.contains(&"`vitamin D 1000 units daily` is ambiguous and was not checked"),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"baclofen 120 mg/day is above the 80 mg/day maximum (spasticity)"),
        "{titles:?}"
    );
    assert_eq!(med(&doc, 0)["status"], "ambiguous");
}

#[test]
fn a_product_number_the_kb_does_not_know_and_a_salt_drug_listed_first_are_reported() {
    // `Tylenol 1` (a codeine product) had been acetaminophen of strength 1.
    let (_, doc) = check_json(&["--propose", "quinine", "--med", "Tylenol 1"]);
    assert_eq!(med(&doc, 0)["status"], "unrecognized", "{doc}");
    assert_eq!(med(&doc, 0)["unresolved"][0], "#1", "{doc}");
    // A salt word alone before a comma is a drug (it was dropped as the
    // salt of the name after it).
    let (_, doc) = check_json(&[
        "--propose",
        "quinine",
        "--med",
        "magnesium, then tizanidine 4 mg nocte",
    ]);
    assert_eq!(
        ingredients(med(&doc, 0)),
        ["tizanidine", "magnesium"],
        "{doc}"
    );
}

#[test]
fn a_numbered_product_with_a_schedule_in_a_list_is_the_product() {
    // Read on its own, `Tylenol 3 q6h prn` is ambiguous (3 tablets?); in a
    // list it is Tylenol #3, as it was when the list was read as one text:
    // the codeine and its major interaction had gone unchecked.
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--med",
        "gabapentin 300 mg tid, Tylenol 3 q6h prn",
    ]);
    assert_eq!(med(&doc, 0)["status"], "recognized", "{doc}");
    assert!(
        finding(&doc, "interaction", &["baclofen", "codeine"]).is_some(),
        "{doc}"
    );
}

#[test]
fn a_product_number_before_a_full_stop_keeps_the_product() {
    // `Tylenol 3.` ends a sentence: the 3 is the product's (it was taken
    // for the number of a list's next line and the codeine was lost).
    let (_, doc) = check_json(&[
        "--propose",
        "baclofen",
        "--med",
        "gabapentin 300 mg tid, Tylenol 3. lorazepam 1 mg",
    ]);
    assert!(
        finding(&doc, "interaction", &["baclofen", "codeine"]).is_some(),
        "{doc}"
    );
}
