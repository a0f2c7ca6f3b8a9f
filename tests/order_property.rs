//! Property: the findings do not depend on the order of the medications.
//! Each case runs the real binary on a random permutation of a realistic list
//! and compares the findings, with medication indices mapped back to inputs.

mod common;

use proptest::prelude::*;
use serde_json::Value;

const LIST: &[&str] = &[
    "clarithromycin 500 mg bid",
    "warfarin 5 mg daily",
    "digoxin 0.125 mg daily",
    "rifampin 600 mg daily",
    "oxycodone 5 mg q6h",
    "amoxicillin 500 mg tid",
    "zorblax",
    "Paxlovid",
    "simvastatin 40 mg daily",
];

/// Findings with indices replaced by the medication text, sorted.
fn normalized(doc: &Value) -> Vec<String> {
    let meds: Vec<String> = doc["medications"]
        .as_array()
        .map(|a| a.iter().map(|m| m["input"].to_string()).collect())
        .unwrap_or_default();
    let mut out: Vec<String> = common::findings(doc)
        .iter()
        .map(|f| {
            let mut f = f.clone();
            let mut inputs: Vec<String> = f["medication_indices"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_u64)
                        .filter_map(|i| meds.get(i as usize).cloned())
                        .collect()
                })
                .unwrap_or_default();
            inputs.sort();
            f["medication_indices"] = serde_json::json!(inputs);
            f["medication_index"] = Value::Null;
            f["mechanism"] = Value::Null; // names the medication number
            f.to_string()
        })
        .collect();
    out.sort();
    out
}

fn run(proposed: &str, meds: &[&str]) -> Value {
    let mut args = vec!["--propose", proposed, "--egfr", "45", "--age", "70"];
    for m in meds {
        args.push("--med");
        args.push(m);
    }
    common::check_json(&args).1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    #[test]
    fn findings_do_not_depend_on_medication_order(
        perm in Just(LIST.to_vec()).prop_shuffle(),
        proposed in prop::sample::select(vec!["quinine", "baclofen"]),
    ) {
        let original = run(proposed, LIST);
        let shuffled = run(proposed, &perm);
        prop_assert_eq!(normalized(&original), normalized(&shuffled));
        prop_assert_eq!(&original["verdict"], &shuffled["verdict"]);
    }
}
