//! Data-driven end-to-end tests: every quinine and baclofen interaction row
//! in the shipped KB, and every condition code, is exercised through the real
//! binary. A row whose drugs do not resolve, or whose finding is missing or
//! weaker than the row says, fails here.

mod common;

use common::{check_json, findings, rank};
use std::collections::BTreeMap;
use std::path::Path;

fn read_csv(file: &str) -> Vec<BTreeMap<String, String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("db").join(file);
    let mut reader = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let headers = reader
        .headers()
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{file}: {e}"));
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

/// The drugs a rule side stands for: the drug itself or every class member.
fn members(side: &str, classes: &[BTreeMap<String, String>]) -> Vec<String> {
    match side.strip_prefix("class:") {
        Some(class) => classes
            .iter()
            .filter(|m| m["class"] == class)
            .map(|m| m["drug"].clone())
            .collect(),
        None => vec![side.to_owned()],
    }
}

#[test]
fn every_quinine_and_baclofen_interaction_row_fires() {
    let classes = read_csv("class_members.csv");
    let rows: Vec<_> = read_csv("interactions.csv")
        .into_iter()
        .filter(|r| matches!(r["drug"].as_str(), "quinine" | "baclofen"))
        .collect();
    assert!(
        rows.len() >= 60,
        "expected the full label sections, got {}",
        rows.len()
    );
    for row in rows {
        let proposed = row["drug"].clone();
        let others: Vec<String> = members(&row["interacts_with"], &classes)
            .into_iter()
            .filter(|m| *m != proposed)
            .collect();
        assert!(!others.is_empty(), "{}: no members", row["id"]);
        let mut args = vec![
            "--propose".to_owned(),
            proposed.clone(),
            "--jurisdiction".to_owned(),
            "any".to_owned(),
        ];
        for m in &others {
            args.push("--med".to_owned());
            args.push(m.clone());
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (_, doc) = check_json(&args);
        for (i, m) in others.iter().enumerate() {
            let med = &doc["medications"][i];
            assert_eq!(
                med["status"], "recognized",
                "{}: `{m}` does not resolve",
                row["id"]
            );
            if row["severity"] == "none" {
                assert!(
                    !findings(&doc).iter().any(|f| f["kind"] == "interaction"
                        && f["drugs"] == serde_json::json!([proposed, m])),
                    "{}: documented non-interaction produced a finding",
                    row["id"]
                );
                continue;
            }
            let found = findings(&doc)
                .iter()
                .find(|f| {
                    matches!(f["kind"].as_str(), Some("interaction" | "duplicate"))
                        && f["drugs"] == serde_json::json!([proposed, m])
                })
                .unwrap_or_else(|| panic!("{}: no finding for {proposed} + {m}", row["id"]));
            assert!(
                rank(found["severity"].as_str().unwrap_or("")) >= rank(&row["severity"]),
                "{}: {proposed} + {m} is {} but the row says {}",
                row["id"],
                found["severity"],
                row["severity"]
            );
            let ids = found["rule_ids"].to_string();
            assert!(
                ids.contains(&row["id"]),
                "{}: not merged into {ids}",
                row["id"]
            );
        }
    }
}

/// A drug standing for a rule side: the drug itself, or the class member a
/// pharmacist would propose (a KB cramp therapy when the class has one).
fn representative(
    side: &str,
    classes: &[BTreeMap<String, String>],
    therapies: &[String],
) -> String {
    let all = members(side, classes);
    all.iter()
        .find(|m| therapies.contains(m))
        .or_else(|| all.iter().min())
        .cloned()
        .unwrap_or_else(|| panic!("{side}: no members"))
}

#[test]
fn every_interaction_row_of_the_other_therapies_fires() {
    let classes = read_csv("class_members.csv");
    let therapies: Vec<String> = read_csv("therapies.csv")
        .into_iter()
        .map(|t| t["drug"].clone())
        .collect();
    let rows: Vec<_> = read_csv("interactions.csv")
        .into_iter()
        .filter(|r| !matches!(r["drug"].as_str(), "quinine" | "baclofen"))
        .collect();
    assert!(!rows.is_empty());
    for row in rows {
        let proposed = representative(&row["drug"], &classes, &therapies);
        let other = members(&row["interacts_with"], &classes)
            .into_iter()
            .filter(|m| *m != proposed)
            .min()
            .unwrap_or_else(|| panic!("{}: no other member", row["id"]));
        let (_, doc) = check_json(&[
            "--propose",
            &proposed,
            "--med",
            &other,
            "--jurisdiction",
            "any",
        ]);
        assert_eq!(
            doc["medications"][0]["status"], "recognized",
            "{}: {other}",
            row["id"]
        );
        let pair = serde_json::json!([proposed, other]);
        let found = findings(&doc).iter().find(|f| f["drugs"] == pair);
        if row["severity"] == "none" {
            assert!(
                found.is_none(),
                "{}: non-interaction gave a finding",
                row["id"]
            );
            continue;
        }
        let found = found.unwrap_or_else(|| panic!("{}: no finding for {pair}", row["id"]));
        assert!(
            rank(found["severity"].as_str().unwrap_or("")) >= rank(&row["severity"]),
            "{}: {pair} is {} but the row says {}",
            row["id"],
            found["severity"],
            row["severity"]
        );
        assert!(
            found["rule_ids"].to_string().contains(&row["id"]),
            "{}",
            row["id"]
        );
    }
}

#[test]
fn every_condition_caution_row_fires() {
    let classes = read_csv("class_members.csv");
    let therapies: Vec<String> = read_csv("therapies.csv")
        .into_iter()
        .map(|t| t["drug"].clone())
        .collect();
    for row in read_csv("condition_cautions.csv") {
        let proposed = representative(&row["drug"], &classes, &therapies);
        let age = if row["min_age"].is_empty() {
            "50".to_owned()
        } else {
            row["min_age"].clone()
        };
        let (_, doc) = check_json(&[
            "--propose",
            &proposed,
            "--condition",
            &row["condition"],
            "--age",
            &age,
            "--jurisdiction",
            "any",
        ]);
        let f = findings(&doc)
            .iter()
            .find(|f| f["kind"] == "condition" && f["condition"] == row["condition"])
            .unwrap_or_else(|| panic!("{}: no finding for {proposed}", row["id"]));
        assert!(
            rank(f["severity"].as_str().unwrap_or("")) >= rank(&row["severity"]),
            "{}",
            row["id"]
        );
        assert!(
            f["rule_ids"].to_string().contains(&row["id"]),
            "{}: {f}",
            row["id"]
        );
    }
}

#[test]
fn every_condition_code_is_accepted_and_its_rules_fire() {
    let cautions = read_csv("condition_cautions.csv");
    for condition in read_csv("conditions.csv") {
        let code = &condition["code"];
        // A drug with a rule for this condition (quinine/baclofen first).
        let rule = cautions
            .iter()
            .filter(|r| r["condition"] == *code && !r["drug"].starts_with("class:"))
            .filter(|r| r["min_age"].is_empty())
            .min_by_key(|r| {
                (
                    !matches!(r["drug"].as_str(), "quinine" | "baclofen"),
                    r["id"].clone(),
                )
            });
        let proposed = rule.map_or("baclofen", |r| r["drug"].as_str());
        let (code_exit, doc) = check_json(&[
            "--propose",
            proposed,
            "--condition",
            code,
            "--jurisdiction",
            "any",
        ]);
        assert_ne!(code_exit, 2, "{code} rejected");
        // The stated condition, and any the KB says it includes.
        let stated = doc["patient"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            stated
                .iter()
                .any(|c| c["code"] == *code && c["basis"] == "stated"),
            "{code}: {stated:?}"
        );
        if let Some(rule) = rule {
            let f = findings(&doc)
                .iter()
                .find(|f| f["kind"] == "condition" && f["condition"] == *code)
                .unwrap_or_else(|| panic!("{code}: no finding for {proposed}"));
            assert!(rank(f["severity"].as_str().unwrap_or("")) >= rank(&rule["severity"]));
        }
        // Aliases resolve to the same code.
        for alias in condition["aliases"]
            .split(';')
            .filter(|a| !a.trim().is_empty())
        {
            let (exit, doc) = check_json(&["--propose", proposed, "--condition", alias.trim()]);
            assert_ne!(exit, 2, "alias `{alias}` of {code} rejected");
            assert!(
                doc["patient"]["conditions"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["code"] == *code)),
                "alias `{alias}` does not map to {code}"
            );
        }
    }
}

#[test]
fn quinine_contraindications_follow_the_current_us_label() {
    for code in [
        "qt-prolongation",
        "myasthenia-gravis",
        "optic-neuritis",
        "thrombocytopenia-history",
    ] {
        let (_, doc) = check_json(&["--propose", "quinine", "--condition", code]);
        let f = findings(&doc)
            .iter()
            .find(|f| f["condition"] == code)
            .unwrap_or_else(|| panic!("{code}: {doc}"));
        assert_eq!(f["severity"], "contraindicated", "{code}");
    }
    // G6PD deficiency left the US contraindications in 2019: a warning now.
    let (_, doc) = check_json(&["--propose", "quinine", "--condition", "g6pd-deficiency"]);
    let f = findings(&doc)
        .iter()
        .find(|f| f["condition"] == "g6pd-deficiency")
        .unwrap_or_else(|| panic!("g6pd: {doc}"));
    assert_eq!(f["severity"], "major");
}
