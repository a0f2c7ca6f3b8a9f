//! The CDS Hooks service over real HTTP on loopback: discovery, and hook
//! requests modelled on the CDS Hooks specification's `order-select` and
//! `order-sign` examples (tests/fixtures/cds/), answered with cards.

mod serve_support;

use crampcheck::clinical::Severity;
use serde_json::{Value, json};
use serve_support::{TestServer, get, post, post_json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/cds/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cards(server: &TestServer, service: &str, request: &Value) -> Vec<Value> {
    let answer = post_json(&server.url(&format!("/cds-services/{service}")), request);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    let cards = body["cards"]
        .as_array()
        .unwrap_or_else(|| panic!("no cards array: {body}"))
        .clone();
    for card in &cards {
        assert_card_is_valid(card);
    }
    cards
}

/// The CDS Hooks 1.x card rules this service promises.
fn assert_card_is_valid(card: &Value) {
    let summary = card["summary"]
        .as_str()
        .unwrap_or_else(|| panic!("summary: {card}"));
    assert!(
        !summary.is_empty() && summary.chars().count() < 140,
        "{summary}"
    );
    let indicator = card["indicator"].as_str().unwrap_or("");
    assert!(
        ["info", "warning", "critical"].contains(&indicator),
        "{card}"
    );
    let label = card["source"]["label"].as_str().unwrap_or("");
    assert!(label.starts_with("crampcheck KB "), "{card}");
    assert!(
        card["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{card}"
    );
    assert!(
        card["uuid"].as_str().is_some_and(|u| u.len() == 36),
        "{card}"
    );
    match card.get("overrideReasons") {
        Some(reasons) => {
            assert_eq!(
                indicator, "critical",
                "override reasons only on critical cards"
            );
            for r in reasons.as_array().unwrap_or(&Vec::new()) {
                assert!(r["display"].as_str().is_some_and(|d| !d.is_empty()), "{r}");
                assert!(r["code"].is_string() && r["system"].is_string(), "{r}");
            }
        }
        None => assert_ne!(
            indicator, "critical",
            "critical cards offer override reasons"
        ),
    }
}

fn find<'a>(cards: &'a [Value], needle: &str) -> Option<&'a Value> {
    cards
        .iter()
        .find(|c| c["summary"].as_str().is_some_and(|s| s.contains(needle)))
}

#[test]
fn discovery_lists_order_select_and_order_sign_services() {
    let server = TestServer::start();
    let answer = get(&server.url("/cds-services"));
    assert_eq!(answer.status, 200);
    let services = answer.json()["services"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let hooks: Vec<&str> = services.iter().filter_map(|s| s["hook"].as_str()).collect();
    assert_eq!(hooks, ["order-select", "order-sign"]);
    for s in &services {
        assert!(s["id"].is_string() && s["description"].is_string() && s["title"].is_string());
        let prefetch = &s["prefetch"];
        for key in [
            "patient",
            "medicationRequests",
            "medicationStatements",
            "conditions",
            "observations",
        ] {
            assert!(
                prefetch[key]
                    .as_str()
                    .is_some_and(|t| t.contains("{{context.patientId}}")),
                "{key}"
            );
        }
        assert!(
            prefetch["observations"]
                .as_str()
                .is_some_and(|t| t.contains("http://loinc.org|8636-3"))
        );
    }
}

#[test]
fn order_select_quinine_with_clarithromycin_gives_a_critical_interaction_card() {
    let server = TestServer::start();
    let cards = cards(
        &server,
        "crampcheck-order-select",
        &fixture("order-select-quinine.json"),
    );
    let card = find(&cards, "quinine + clarithromycin")
        .unwrap_or_else(|| panic!("no interaction card: {cards:#?}"));
    assert_eq!(card["indicator"], "critical");
    assert!(
        card["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Major: "))
    );
    let detail = card["detail"].as_str().unwrap_or("");
    for part in [
        "**Why:**",
        "**What to do:**",
        "**Sources**",
        "Clarithromycin 500 MG Oral Tablet bid",
    ] {
        assert!(detail.contains(part), "detail lacks {part}: {detail}");
    }
    let label = card["source"]["label"].as_str().unwrap_or("");
    assert!(label.contains(": "), "label names the citation: {label}");
    assert!(
        card["source"]["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http"))
    );
    assert!(find(&cards, "Boxed warning").is_some_and(|c| c["indicator"] == "critical"));
    // Entered in error, completed: not the patient's medications now.
    assert!(cards.iter().all(|c| !c.to_string().contains("simvastatin")));
    assert!(cards.iter().all(|c| !c.to_string().contains("amiodarone")));
    // The latest eGFR (72) wins over the older one (20): no renal card.
    assert!(find(&cards, "renal impairment").is_none(), "{cards:#?}");
    // Critical first.
    let order: Vec<&str> = cards
        .iter()
        .filter_map(|c| c["indicator"].as_str())
        .collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|i| ["critical", "warning", "info"].iter().position(|x| x == i));
    assert_eq!(order, sorted);
}

#[test]
fn order_sign_with_an_unknown_medication_warns_that_it_was_not_checked() {
    let server = TestServer::start();
    let cards = cards(
        &server,
        "crampcheck-order-sign",
        &fixture("order-sign-baclofen.json"),
    );
    let unchecked = find(&cards, "Zorblax 5 mg").unwrap_or_else(|| panic!("no card: {cards:#?}"));
    assert_eq!(unchecked["indicator"], "warning");
    assert!(
        unchecked["summary"]
            .as_str()
            .is_some_and(|s| s.contains("not checked"))
    );
    // The drug came through medicationReference → Medication; eGFR 25 from
    // LOINC 33914-3 makes the renal caution moderate → warning (25 is not
    // end-stage: no contraindication).
    let renal = find(&cards, "Renal impairment: baclofen")
        .unwrap_or_else(|| panic!("no renal card: {cards:#?}"));
    assert_eq!(renal["indicator"], "warning");
    assert!(renal.get("overrideReasons").is_none());
}

#[test]
fn nothing_to_say_is_an_empty_card_list() {
    let server = TestServer::start();
    let answer = post_json(
        &server.url("/cds-services/crampcheck-order-select"),
        &fixture("order-select-nothing.json"),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json(), json!({"cards": []}));
}

#[test]
fn labs_conditions_and_units_come_from_prefetch() {
    let server = TestServer::start();
    let cards = cards(
        &server,
        "crampcheck-order-select",
        &fixture("order-select-labs.json"),
    );
    let myasthenia = find(&cards, "Myasthenia gravis").unwrap_or_else(|| panic!("{cards:#?}"));
    assert_eq!(myasthenia["indicator"], "critical");
    assert!(
        myasthenia["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Contraindicated: "))
    );
    assert!(find(&cards, "Hypokalemia").is_some_and(|c| c["indicator"] == "warning"));
    // 0.5 mmol/L magnesium = 1.2 mg/dL, below the KB's 1.7 mg/dL.
    assert!(find(&cards, "Hypomagnesemia").is_some_and(|c| c["indicator"] == "warning"));
    // QTc: the final 0.43 s (430 ms) counts; the preliminary 0.52 s and the
    // resolved "QT prolongation" condition do not.
    assert!(find(&cards, "QT interval").is_none(), "{cards:#?}");
    // An empty medication search is a list: no "no medication list" card.
    assert!(find(&cards, "No active medication list").is_none());
}

#[test]
fn the_card_level_is_configurable() {
    let server = TestServer::start_with(|state| state.card_level = Severity::Major);
    let cards = cards(
        &server,
        "crampcheck-order-select",
        &fixture("order-select-labs.json"),
    );
    assert!(find(&cards, "Hypokalemia").is_none(), "{cards:#?}");
    assert!(find(&cards, "Myasthenia gravis").is_some());
}

#[test]
fn a_missing_medication_list_and_an_unnamed_order_are_said_not_silenced() {
    let server = TestServer::start();
    let mut request = fixture("order-select-nothing.json");
    request["prefetch"] = Value::Null;
    request["context"]["draftOrders"]["entry"][0]["resource"]
        .as_object_mut()
        .map(|r| r.remove("medicationCodeableConcept"));
    let cards = cards(&server, "crampcheck-order-select", &request);
    let unnamed = find(&cards, "MedicationRequest/200").unwrap_or_else(|| panic!("{cards:#?}"));
    assert_eq!(unnamed["indicator"], "warning");
    assert!(find(&cards, "No active medication list").is_some_and(|c| c["indicator"] == "info"));
}

#[test]
fn bad_hook_requests_get_400_naming_the_field() {
    let server = TestServer::start();
    let url = server.url("/cds-services/crampcheck-order-select");
    let base = fixture("order-select-quinine.json");
    let mut wrong_hook = base.clone();
    wrong_hook["hook"] = json!("order-sign");
    let mut no_drafts = base.clone();
    no_drafts["context"]
        .as_object_mut()
        .map(|c| c.remove("draftOrders"));
    let mut bad_text = base.clone();
    bad_text["prefetch"]["medicationRequests"]["entry"][0]["resource"]["medicationCodeableConcept"]
        ["text"] = json!(42);
    let mut bad_selections = base.clone();
    bad_selections["context"]["selections"] = json!("MedicationRequest/103");
    // Without it, the records of several patients could not be told apart.
    let mut no_patient = base.clone();
    no_patient["context"]
        .as_object_mut()
        .map(|c| c.remove("patientId"));
    for (request, field) in [
        (wrong_hook, "hook"),
        (no_drafts, "context.draftOrders"),
        (
            bad_text,
            "prefetch.medicationRequests.entry[0].resource.medicationCodeableConcept.text",
        ),
        (bad_selections, "context.selections"),
        (no_patient, "context.patientId"),
    ] {
        let answer = post_json(&url, &request);
        assert_eq!(answer.status, 400, "{}", answer.text());
        assert_eq!(answer.json()["field"], field);
    }
    let answer = post(&url, b"{\"hook\": ", &[]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["field"], Value::Null);
    let missing = post_json(&server.url("/cds-services/no-such-service"), &base);
    assert_eq!(missing.status, 404);
}

/// A draft order of `text` with `timing` (`frequency` doses per `period`
/// `unit`), as a draftOrders entry.
fn draft(id: &str, text: &str, timing: Option<(u32, u32, &str)>, as_needed: bool) -> Value {
    let mut dosage = json!({});
    if let Some((frequency, period, unit)) = timing {
        dosage["timing"] =
            json!({"repeat": {"frequency": frequency, "period": period, "periodUnit": unit}});
    }
    if as_needed {
        dosage["asNeededBoolean"] = json!(true);
    }
    json!({"resource": {"resourceType": "MedicationRequest", "id": id, "status": "draft",
        "intent": "order", "medicationCodeableConcept": {"text": text},
        "dosageInstruction": [dosage]}})
}

/// An order-sign request for quinine 324 mg daily (draft `q1`) for a
/// patient born in 1950, with an empty medication list.
fn quinine_order() -> Value {
    order_sign(
        vec![draft("q1", "quinine 324 mg", Some((1, 1, "d")), false)],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    )
}

/// An active MedicationRequest of `text`, as a prefetch Bundle entry.
fn active(id: &str, text: &str) -> Value {
    json!({"resource": {"resourceType": "MedicationRequest", "id": id, "status": "active",
        "intent": "order", "medicationCodeableConcept": {"text": text}}})
}

/// An order-sign request with these drafts and an empty medication list.
fn order_sign(drafts: Vec<Value>, observations: Vec<Value>, patient: Value) -> Value {
    json!({"hookInstance": "0c8a3f1e-2b4d-4e6f-8a1b-3c5d7e9f1a2b", "hook": "order-sign",
        "context": {"userId": "Practitioner/1", "patientId": "1",
            "draftOrders": {"resourceType": "Bundle", "entry": drafts}},
        "prefetch": {"patient": patient,
            "medicationRequests": {"resourceType": "Bundle", "type": "searchset", "entry": []},
            "observations": {"resourceType": "Bundle", "type": "searchset",
                "entry": observations.into_iter().map(|o| json!({"resource": o})).collect::<Vec<_>>()}}})
}

fn lab(loinc: &str, value: f64, unit: &str, when: &str) -> Value {
    json!({"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "effectiveDateTime": when, "valueQuantity": {"value": value, "unit": unit}})
}

#[test]
fn drugs_ordered_together_are_checked_against_each_other() {
    let server = TestServer::start();
    let request = order_sign(
        vec![
            draft("1", "quinine 324 mg", Some((1, 1, "d")), false),
            draft("2", "clarithromycin 500 mg", Some((2, 1, "d")), false),
        ],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    let pair: Vec<&Value> = got
        .iter()
        .filter(|c| {
            let s = c["summary"].as_str().unwrap_or("");
            s.contains("quinine") && s.contains("clarithromycin")
        })
        .collect();
    assert_eq!(pair.len(), 1, "one card for the pair: {got:#?}");
    assert_eq!(pair[0]["indicator"], "critical");
}

#[test]
fn lab_units_are_converted_or_the_value_is_refused_with_a_card() {
    let server = TestServer::start();
    let patient = json!({"resourceType": "Patient", "birthDate": "1950-01-01"});
    let quinine = || vec![draft("1", "quinine 324 mg", Some((1, 1, "d")), false)];
    // 9 mg/L is 0.9 mg/dL: hypomagnesemia, not a normal 9 mg/dL.
    let request = order_sign(
        quinine(),
        vec![lab("19123-9", 9.0, "mg/L", "2025-01-01")],
        patient.clone(),
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "Hypomagnesemia").is_some(), "{got:#?}");
    // A unit it does not read: not used, and said so.
    let request = order_sign(
        quinine(),
        vec![lab("2823-3", 3.0, "furlongs", "2025-01-01")],
        patient.clone(),
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    let card = find(&got, "Patient potassium not used").unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(card["indicator"], "warning");
    assert!(find(&got, "Hypokalemia").is_none(), "{got:#?}");
    // The later instant wins, offsets included: 23:00 at -05:00 is after
    // 01:00Z the same night.
    let request = order_sign(
        vec![draft("1", "baclofen 10 mg", Some((3, 1, "d")), false)],
        vec![
            lab("62238-1", 72.0, "mL/min/{1.73_m2}", "2025-06-02T01:00:00Z"),
            lab(
                "62238-1",
                20.0,
                "mL/min/{1.73_m2}",
                "2025-06-01T23:00:00-05:00",
            ),
        ],
        patient,
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        find(&got, "avoid baclofen in older adults with eGFR below 60").is_some(),
        "{got:#?}"
    );
}

#[test]
fn schedules_beyond_four_a_day_and_as_needed_are_dose_checked() {
    let server = TestServer::start();
    let patient = json!({"resourceType": "Patient", "birthDate": "1950-01-01"});
    for (timing, as_needed, total) in [
        (Some((6, 1, "d")), false, "180 mg/day"),
        (Some((1, 4, "h")), false, "180 mg/day"),
        (Some((3, 1, "d")), true, "90 mg/day"),
    ] {
        let request = order_sign(
            vec![draft("1", "baclofen 30 mg", timing, as_needed)],
            Vec::new(),
            patient.clone(),
        );
        let got = cards(&server, "crampcheck-order-sign", &request);
        assert!(
            find(&got, total).is_some(),
            "{timing:?} {as_needed}: {got:#?}"
        );
    }
    // A timing sent as a code alone (HL7 GTSAbbreviation) is read too.
    let gts = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";
    for (code, total) in [("QID", "120 mg/day"), ("Q4H", "180 mg/day")] {
        let mut order = draft("1", "baclofen 30 mg", None, false);
        order["resource"]["dosageInstruction"][0]["timing"] =
            json!({"code": {"coding": [{"system": gts, "code": code}]}});
        let got = cards(
            &server,
            "crampcheck-order-sign",
            &order_sign(vec![order], Vec::new(), patient.clone()),
        );
        assert!(find(&got, total).is_some(), "{code}: {got:#?}");
    }
    // No timing, or a code that is no fixed schedule: the dose is not
    // checked, and a card says so whatever the level.
    let mut as_needed_code = draft("1", "baclofen 30 mg", None, false);
    as_needed_code["resource"]["dosageInstruction"][0]["timing"] =
        json!({"code": {"coding": [{"system": gts, "code": "PRN"}]}});
    // A dose in mL, of a name with no strength: not checked, and said.
    let mut in_ml = draft("1", "baclofen", Some((4, 1, "d")), false);
    in_ml["resource"]["dosageInstruction"][0]["doseAndRate"] =
        json!([{"doseQuantity": {"value": 30, "unit": "mL", "code": "mL"}}]);
    for order in [
        draft("1", "baclofen 30 mg", None, false),
        as_needed_code,
        in_ml,
    ] {
        let request = order_sign(vec![order], Vec::new(), patient.clone());
        let got = cards(&server, "crampcheck-order-sign", &request);
        assert!(find(&got, "not checked against").is_some(), "{got:#?}");
    }
}

#[test]
fn the_dose_quantity_and_frequency_max_are_dose_checked() {
    let server = TestServer::start();
    let patient = json!({"resourceType": "Patient", "birthDate": "1950-01-01"});
    // baclofen 10 mg tablets, four times a day: 3 tablets or 30 mg a dose;
    // or 3 tablets once a day, up to three times: all above 80 mg/day.
    for (quantity, frequency_max, total) in [
        (
            json!({"value": 3, "unit": "tablet", "code": "{tbl}"}),
            None,
            "120 mg/day",
        ),
        (
            json!({"value": 30, "unit": "mg", "code": "mg"}),
            None,
            "120 mg/day",
        ),
        (json!({"value": 3, "unit": "TAB"}), Some(3), "90 mg/day"),
    ] {
        let mut order = draft("1", "baclofen 10 MG Oral Tablet", Some((4, 1, "d")), false);
        let dosage = &mut order["resource"]["dosageInstruction"][0];
        dosage["doseAndRate"] = json!([{"doseQuantity": quantity}]);
        if let Some(max) = frequency_max {
            dosage["timing"]["repeat"]["frequency"] = json!(1);
            dosage["timing"]["repeat"]["frequencyMax"] = json!(max);
        }
        let request = order_sign(vec![order], Vec::new(), patient.clone());
        let got = cards(&server, "crampcheck-order-sign", &request);
        assert!(
            find(&got, total).is_some(),
            "{quantity} {frequency_max:?}: {got:#?}"
        );
    }
}

#[test]
fn a_failed_prefetch_or_an_implausible_birth_date_is_said_not_silenced() {
    let server = TestServer::start();
    let mut request = order_sign(
        vec![draft("1", "amoxicillin 500 mg", Some((3, 1, "d")), false)],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "2030-01-01"}),
    );
    request["prefetch"]["medicationRequests"] = json!({"resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}]});
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        find(&got, "No active medication list").is_some(),
        "{got:#?}"
    );
    assert!(find(&got, "Patient age not used").is_some(), "{got:#?}");
}

#[test]
fn a_draft_also_returned_by_the_prefetch_search_is_one_order() {
    let server = TestServer::start();
    let mut request = quinine_order();
    request["prefetch"]["medicationRequests"]["entry"] =
        json!([draft("q1", "quinine 324 mg", Some((1, 1, "d")), false)]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        got.iter().all(|c| !c["summary"]
            .as_str()
            .unwrap_or("")
            .contains("already on the medication list")),
        "{got:#?}"
    );
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");
}

#[test]
fn a_flawed_record_not_taken_now_does_not_cost_the_cards_and_an_unknown_draft_is_said_as_ordered() {
    let server = TestServer::start();
    let patient = json!({"resourceType": "Patient", "birthDate": "1950-01-01"});
    let mut request = order_sign(
        vec![draft("q1", "quinine 324 mg", Some((1, 1, "d")), false)],
        Vec::new(),
        patient.clone(),
    );
    request["prefetch"]["medicationRequests"]["entry"] = json!([{"resource": {
        "resourceType": "MedicationRequest", "id": "old", "status": "entered-in-error",
        "medicationCodeableConcept": {"text": "warfarin"}, "dosageInstruction": {"oops": 1}}}]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");
    for order in [["q1", "z1"], ["z1", "q1"]] {
        let drafts = order
            .iter()
            .map(|id| match *id {
                "q1" => draft("q1", "quinine 324 mg", Some((1, 1, "d")), false),
                _ => draft("z1", "zorblaxin 5 mg", Some((1, 1, "d")), false),
            })
            .collect();
        let got = cards(
            &server,
            "crampcheck-order-sign",
            &order_sign(drafts, Vec::new(), patient.clone()),
        );
        assert!(
            find(&got, "Ordered drug not checked").is_some(),
            "{order:?}: {got:#?}"
        );
        assert!(
            find(&got, "Medication not checked").is_none(),
            "{order:?}: {got:#?}"
        );
    }
}

#[test]
fn more_medications_than_the_service_checks_is_one_warning_card_not_an_error() {
    let server = TestServer::start();
    let mut request = quinine_order();
    let list: Vec<Value> = (0..200)
        .map(|i| {
            json!({"resource": {"resourceType": "MedicationRequest", "id": format!("m{i}"),
                "status": "active", "medicationCodeableConcept": {"text": "amoxicillin 500 mg"}}})
        })
        .collect();
    request["prefetch"]["medicationRequests"]["entry"] = json!(list);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["indicator"], "warning");
    assert!(
        find(&got, "Not checked: 201 medications").is_some(),
        "{got:#?}"
    );
}

#[test]
fn a_lab_result_in_words_or_as_a_bound_is_said_not_used_and_no_older_number_stands_in() {
    let server = TestServer::start();
    let patient = json!({"resourceType": "Patient", "birthDate": "1950-01-01"});
    let baclofen = || vec![draft("1", "baclofen 10 mg", Some((3, 1, "d")), false)];
    let renal = "avoid baclofen in older adults with eGFR below 60";
    let mut words = lab("62238-1", 0.0, "mL/min/{1.73_m2}", "2025-06-02");
    words
        .as_object_mut()
        .map(|o| o.remove("valueQuantity"))
        .expect("an object");
    words["valueString"] = json!("<15");
    let mut bound = lab("62238-1", 60.0, "mL/min/{1.73_m2}", "2025-06-02");
    bound["valueQuantity"]["comparator"] = json!("<");
    for (newest, said) in [(words, "`<15` is text"), (bound, "`<60` is a bound")] {
        // An older number (20: renal impairment) must not stand in for the
        // newer result that cannot be read.
        let request = order_sign(
            baclofen(),
            vec![
                lab("62238-1", 20.0, "mL/min/{1.73_m2}", "2025-01-01"),
                newest,
            ],
            patient.clone(),
        );
        let got = cards(&server, "crampcheck-order-sign", &request);
        let card = find(&got, "Patient eGFR not used").unwrap_or_else(|| panic!("{got:#?}"));
        assert!(
            card["summary"].as_str().unwrap_or("").contains(said)
                || card["detail"].as_str().unwrap_or("").contains(said),
            "{card:#}"
        );
        assert!(find(&got, renal).is_none(), "{got:#?}");
    }
    // The number newer than the words is used, and nothing is said.
    let mut words = lab("62238-1", 0.0, "", "2025-01-01");
    words
        .as_object_mut()
        .map(|o| o.remove("valueQuantity"))
        .expect("an object");
    words["valueString"] = json!(">90");
    let request = order_sign(
        baclofen(),
        vec![
            words,
            lab("62238-1", 20.0, "mL/min/{1.73_m2}", "2025-06-02"),
        ],
        patient,
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, renal).is_some(), "{got:#?}");
    assert!(find(&got, "Patient eGFR not used").is_none(), "{got:#?}");
}

#[test]
fn prefetch_records_about_another_patient_are_left_out_and_said() {
    let server = TestServer::start();
    let mut request = order_sign(
        vec![draft("q1", "quinine 324 mg", Some((1, 1, "d")), false)],
        Vec::new(),
        json!({"resourceType": "Patient", "id": "1", "birthDate": "1950-01-01"}),
    );
    let clarithromycin = |id: &str, subject: &str| {
        let mut order = active(id, "clarithromycin 500 mg bid");
        order["resource"]["subject"] = json!({ "reference": subject });
        order
    };
    // `context.patientId` as a reference rather than an id: the same
    // patient.
    request["context"]["patientId"] = json!("Patient/1");
    request["prefetch"]["medicationRequests"]["entry"] = json!([clarithromycin("m0", "Patient/1")]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "clarithromycin").is_some(), "{got:#?}");
    assert!(find(&got, "another patient").is_none(), "{got:#?}");
    request["context"]["patientId"] = json!("1");
    // This patient's, written as an absolute URL with a version: used.
    request["prefetch"]["medicationRequests"]["entry"] = json!([clarithromycin(
        "m1",
        "https://ehr.example.org/fhir/Patient/1/_history/3"
    )]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "clarithromycin").is_some(), "{got:#?}");
    assert!(find(&got, "another patient").is_none(), "{got:#?}");
    // Another patient's: not used, and said with whose it is.
    request["prefetch"]["medicationRequests"]["entry"] = json!([clarithromycin("m2", "Patient/2")]);
    request["prefetch"]["observations"]["entry"] = json!([{"resource": {
        "resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/2"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "8636-3"}]},
        "effectiveDateTime": "2025-01-01", "valueQuantity": {"value": 560, "unit": "ms"}}}]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "clarithromycin").is_none(), "{got:#?}");
    assert!(find(&got, "QT").is_none(), "{got:#?}");
    let card = find(
        &got,
        "2 prefetch record(s) about another patient were not used",
    )
    .unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(card["indicator"], "warning");
    assert!(
        card["detail"].as_str().unwrap_or("").contains("Patient/2"),
        "{card:#}"
    );
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");
}

#[test]
fn only_a_card_with_another_medication_offers_that_it_was_stopped() {
    let server = TestServer::start();
    let mut request = quinine_order();
    request["prefetch"]["medicationRequests"]["entry"] =
        json!([active("m1", "clarithromycin 500 mg bid")]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    let codes = |card: &Value| -> Vec<String> {
        card["overrideReasons"]
            .as_array()
            .map(|reasons| {
                reasons
                    .iter()
                    .filter_map(|r| r["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let boxed = find(&got, "Boxed warning").unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(boxed["indicator"], "critical");
    assert!(
        !codes(boxed).contains(&"interacting-drug-stopped".to_owned()),
        "{boxed:#}"
    );
    assert!(
        codes(boxed).contains(&"benefit-outweighs-risk".to_owned()),
        "{boxed:#}"
    );
    let pair = find(&got, "clarithromycin").unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(pair["indicator"], "critical");
    assert!(
        codes(pair).contains(&"interacting-drug-stopped".to_owned()),
        "{pair:#}"
    );
}

#[test]
fn an_order_read_in_part_is_checked_and_the_words_not_read_are_named() {
    let server = TestServer::start();
    let mut request = order_sign(
        vec![draft("q1", "quinine 324 mg nightly x30 days", None, false)],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    );
    request["prefetch"]["medicationRequests"]["entry"] =
        json!([active("m1", "clarithromycin 500 mg bid zorblax")]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    // The drug was checked: its boxed warning and the interaction show.
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");
    let pair = find(&got, "clarithromycin").unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(pair["indicator"], "critical");
    // And the words not read are said, for the order and the list entry.
    let order = find(&got, "Ordered drug read in part").unwrap_or_else(|| panic!("{got:#?}"));
    assert!(
        order["summary"].as_str().unwrap_or("").contains("x30"),
        "{order:#}"
    );
    assert_eq!(order["indicator"], "warning");
    let listed = find(&got, "Medication read in part").unwrap_or_else(|| panic!("{got:#?}"));
    assert!(
        listed["summary"].as_str().unwrap_or("").contains("zorblax"),
        "{listed:#}"
    );
    // Nothing went unchecked but the US cramp dose, which no US label gives.
    let unchecked: Vec<&str> = got
        .iter()
        .filter_map(|c| c["summary"].as_str())
        .filter(|s| s.contains("not checked"))
        .collect();
    assert!(
        unchecked
            .iter()
            .all(|s| s.contains("not checked for cramps")),
        "{got:#?}"
    );
}

#[test]
fn lab_results_that_cannot_be_put_in_order_are_not_guessed_between() {
    let server = TestServer::start();
    let patient = json!({"resourceType": "Patient", "birthDate": "1950-01-01"});
    let baclofen = || vec![draft("1", "baclofen 10 mg", Some((3, 1, "d")), false)];
    let egfr = |value: f64, when: &str| lab("62238-1", value, "mL/min/{1.73_m2}", when);
    let mut undated = egfr(30.0, "");
    undated
        .as_object_mut()
        .map(|o| o.remove("effectiveDateTime"))
        .expect("an object");
    for results in [
        // eGFR 30 may be the newer: 80 must not stand in for it.
        vec![egfr(80.0, "2025-01-01"), egfr(30.0, "garbage")],
        vec![undated.clone(), egfr(80.0, "2025-01-01")],
        // Two results at one instant that disagree.
        vec![
            egfr(80.0, "2025-01-01T08:00:00Z"),
            egfr(30.0, "2025-01-01T08:00:00Z"),
        ],
    ] {
        let request = order_sign(baclofen(), results, patient.clone());
        let got = cards(&server, "crampcheck-order-sign", &request);
        let card = find(&got, "Patient eGFR not used").unwrap_or_else(|| panic!("{got:#?}"));
        assert!(
            card["summary"]
                .as_str()
                .unwrap_or("")
                .contains("cannot be put in order")
                || card["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("cannot be put in order"),
            "{card:#}"
        );
    }
    // The same value twice, one of them undated: no doubt, it is used.
    let request = order_sign(baclofen(), vec![egfr(30.0, "2025-01-01"), undated], patient);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "Patient eGFR not used").is_none(), "{got:#?}");
    assert!(
        find(&got, "avoid baclofen in older adults with eGFR below 60").is_some(),
        "{got:#?}"
    );
}

#[test]
fn one_order_sent_twice_is_one_order_not_duplicate_therapy() {
    let server = TestServer::start();
    let quinine = || draft("q1", "quinine 324 mg", Some((1, 1, "d")), false);
    let mut request = order_sign(
        vec![quinine(), quinine()],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    );
    let warfarin = active("w1", "warfarin 5 mg daily");
    request["prefetch"]["medicationRequests"]["entry"] = json!([warfarin.clone(), warfarin]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        find(&got, "already on the medication list").is_none(),
        "{got:#?}"
    );
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");
    let pairs = got
        .iter()
        .filter(|c| c["summary"].as_str().unwrap_or("").contains("warfarin"))
        .count();
    assert_eq!(pairs, 1, "{got:#?}");
    // One id for two different drugs is no repeat: both are checked.
    let request = order_sign(
        vec![
            quinine(),
            draft("q1", "clarithromycin 500 mg", Some((2, 1, "d")), false),
        ],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "clarithromycin").is_some(), "{got:#?}");
}

#[test]
fn a_failed_or_paged_prefetch_search_is_said_even_when_another_list_came() {
    let server = TestServer::start();
    let mut request = quinine_order();
    // The statements came; the requests search failed.
    request["prefetch"]["medicationStatements"] =
        json!({"resourceType": "Bundle", "type": "searchset", "entry": []});
    request["prefetch"]["medicationRequests"] = json!({"resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "timeout"}]});
    // And the observations are one page of more.
    request["prefetch"]["observations"]["link"] =
        json!([{"relation": "next", "url": "https://ehr.example.org/fhir/Observation?page=2"}]);
    let got = cards(&server, "crampcheck-order-sign", &request);
    let failed = find(&got, "Prefetch `medicationRequests` incomplete")
        .unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(failed["indicator"], "warning");
    assert!(
        find(&got, "Prefetch `observations` incomplete").is_some(),
        "{got:#?}"
    );
    assert!(
        find(&got, "Prefetch `medicationStatements`").is_none(),
        "{got:#?}"
    );
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");
}

#[test]
fn a_condition_entered_in_error_is_not_used_however_its_status_is_written() {
    let server = TestServer::start();
    let with_condition = |status: Value| {
        let mut request = order_sign(
            vec![draft("o1", "orphenadrine 100 mg", Some((2, 1, "d")), false)],
            Vec::new(),
            json!({"resourceType": "Patient", "birthDate": "1970-01-01"}),
        );
        let mut condition = json!({"resourceType": "Condition", "code": {"text": "Myasthenia gravis"},
            "clinicalStatus": {"coding": [{"system":
                "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]}});
        if !status.is_null() {
            condition["verificationStatus"] = status;
        }
        request["prefetch"]["conditions"] =
            json!({"resourceType": "Bundle", "entry": [{"resource": condition}]});
        cards(&server, "crampcheck-order-sign", &request)
    };
    // Confirmed: the contraindication is said.
    let got = with_condition(Value::Null);
    assert!(find(&got, "yasthenia").is_some(), "{got:#?}");
    for status in [
        json!({"coding": [{"system":
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "entered-in-error"}]}),
        json!({"coding": [{"code": "entered-in-error"}]}),
        json!({"text": "Entered in error"}),
        json!({"text": "entered-in-error"}),
        json!({"coding": [{"code": "refuted"}]}),
    ] {
        let got = with_condition(status.clone());
        assert!(find(&got, "yasthenia").is_none(), "{status}: {got:#?}");
    }
}

#[test]
fn a_lab_coded_with_another_name_of_loinc_is_used_and_one_with_no_system_is_said() {
    let server = TestServer::start();
    let baclofen_with = |coding: Value| {
        let observation = json!({"resourceType": "Observation", "status": "final",
            "code": {"coding": [coding]}, "effectiveDateTime": "2025-06-01",
            "valueQuantity": {"value": 40, "unit": "mL/min/{1.73_m2}"}});
        let request = order_sign(
            vec![draft("1", "baclofen 10 mg", Some((3, 1, "d")), false)],
            vec![observation],
            json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
        );
        cards(&server, "crampcheck-order-sign", &request)
    };
    let beers = "avoid baclofen in older adults with eGFR below 60";
    for system in [
        "http://loinc.org",
        "urn:oid:2.16.840.1.113883.6.1",
        "https://loinc.org",
        "http://loinc.org/",
        "LOINC",
        "http://LOINC.org",
        "http://www.loinc.org",
        "http://loinc.org ",
    ] {
        let got = baclofen_with(json!({"system": system, "code": "62238-1"}));
        assert!(find(&got, beers).is_some(), "{system}: {got:#?}");
        assert!(find(&got, "eGFR not used").is_none(), "{system}: {got:#?}");
    }
    // No system, or another one: maybe that lab, maybe not. Not used, and
    // said.
    for coding in [
        json!({"code": "62238-1"}),
        json!({"system": "http://example.org/local-labs", "code": "62238-1"}),
    ] {
        let got = baclofen_with(coding.clone());
        assert!(find(&got, beers).is_none(), "{coding}: {got:#?}");
        let card = find(&got, "eGFR not used").unwrap_or_else(|| panic!("{coding}: {got:#?}"));
        assert!(
            card["detail"]
                .as_str()
                .unwrap_or("")
                .contains("not under the LOINC code system"),
            "{card:#}"
        );
    }
    // A code that is none of the labs read: nothing to say.
    let got = baclofen_with(json!({"system": "http://loinc.org", "code": "2345-7"}));
    assert!(find(&got, "not used").is_none(), "{got:#?}");
}

#[test]
fn a_draft_order_for_another_patient_is_not_checked_and_a_selection_naming_no_draft_is_said() {
    let server = TestServer::start();
    let mut request = order_sign(
        vec![
            draft("q1", "quinine 324 mg", Some((1, 1, "d")), false),
            draft("c1", "clarithromycin 500 mg", Some((2, 1, "d")), false),
        ],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    );
    request["context"]["draftOrders"]["entry"][1]["resource"]["subject"] =
        json!({"reference": "Patient/7"});
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(find(&got, "clarithromycin").is_none(), "{got:#?}");
    let card = find(
        &got,
        "1 draft order(s) about another patient were not checked",
    )
    .unwrap_or_else(|| panic!("{got:#?}"));
    assert_eq!(card["indicator"], "warning");
    assert!(
        card["detail"].as_str().unwrap_or("").contains("Patient/7"),
        "{card:#}"
    );
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");

    // order-select naming a draft that is not there: the drafts present are
    // checked, and the selection is named.
    let mut request = fixture("order-select-quinine.json");
    request["context"]["selections"] = json!(["MedicationRequest/zzz"]);
    let got = cards(&server, "crampcheck-order-select", &request);
    let card = find(&got, "Selected order(s) not among the draft orders")
        .unwrap_or_else(|| panic!("{got:#?}"));
    assert!(
        card["summary"]
            .as_str()
            .unwrap_or("")
            .contains("MedicationRequest/zzz"),
        "{card:#}"
    );
    assert!(find(&got, "Boxed warning").is_some(), "{got:#?}");
    // The fixture as sent: no such card.
    let got = cards(
        &server,
        "crampcheck-order-select",
        &fixture("order-select-quinine.json"),
    );
    assert!(
        find(&got, "not among the draft orders").is_none(),
        "{got:#?}"
    );
}

#[test]
fn an_order_with_several_dosage_instructions_says_its_dose_was_not_checked() {
    // 10 mg three times a day and 2 tablets more at night: reading only the
    // first instruction would put the day at 30 mg, under the maximum.
    let server = TestServer::start();
    let mut request = fixture("order-sign-baclofen.json");
    let draft = &mut request["context"]["draftOrders"]["entry"][0]["resource"];
    assert_eq!(draft["resourceType"], "MedicationRequest");
    let single = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        find(&single, "dosage instructions").is_none(),
        "{single:#?}"
    );
    let draft = &mut request["context"]["draftOrders"]["entry"][0]["resource"];
    if let Some(list) = draft["dosageInstruction"].as_array_mut() {
        list.push(json!({
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet"}}]
        }));
    }
    let several = cards(&server, "crampcheck-order-sign", &request);
    let card = find(
        &several,
        "Dose of baclofen 10 MG Oral Tablet not checked: 2 dosage instructions",
    )
    .unwrap_or_else(|| panic!("{several:#?}"));
    assert_eq!(card["indicator"], "warning");
    // The interaction and condition cards are still there.
    assert!(several.len() > 1, "{several:#?}");
}

#[test]
fn a_medication_statement_s_dosage_is_read_and_two_of_them_are_said() {
    // FHIR R4 MedicationStatement keeps its dosages in `dosage`, not
    // `dosageInstruction`: methocarbamol 1500 mg six times a day (9 g a day)
    // is above its maximum; given as two dosages, it is said to be unchecked.
    let server = TestServer::start();
    let mut request = fixture("order-sign-baclofen.json");
    let statement = json!({
        "resourceType": "MedicationStatement", "id": "s2", "status": "active",
        "medicationCodeableConcept": {"text": "methocarbamol 750 mg tablet"},
        "subject": {"reference": "Patient/example"},
        "dosage": [{
            "timing": {"repeat": {"frequency": 6, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet"}}]
        }]
    });
    if let Some(entries) = request["prefetch"]["medicationStatements"]["entry"].as_array_mut() {
        entries.push(json!({"resource": statement}));
    }
    let read = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        find(&read, "methocarbamol 9000 mg/day").is_some(),
        "{read:#?}"
    );
    if let Some(dosages) =
        request["prefetch"]["medicationStatements"]["entry"][1]["resource"]["dosage"].as_array_mut()
    {
        let again = dosages[0].clone();
        dosages.push(again);
    }
    let several = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        find(
            &several,
            "Dose of methocarbamol 750 mg tablet not checked: 2 dosage instructions"
        )
        .is_some(),
        "{several:#?}"
    );
    assert!(find(&several, "methocarbamol 9000 mg/day").is_none());
}

#[test]
fn dosages_that_say_nothing_are_passed_over() {
    // A null or empty dosage is no dosage: the one real schedule is read
    // (baclofen 10 mg, 4 tablets four times a day: 160 mg/day), and no card
    // claims several dosages.
    let server = TestServer::start();
    let mut request = fixture("order-sign-baclofen.json");
    let real = json!({
        "timing": {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}},
        "doseAndRate": [{"doseQuantity": {"value": 4, "unit": "tablet"}}]
    });
    for list in [json!([null, real.clone()]), json!([{}, real.clone()])] {
        request["context"]["draftOrders"]["entry"][0]["resource"]["dosageInstruction"] = list;
        let read = cards(&server, "crampcheck-order-sign", &request);
        assert!(find(&read, "baclofen 160 mg/day").is_some(), "{read:#?}");
        assert!(find(&read, "dosage instructions").is_none(), "{read:#?}");
    }
    // A statement sent with `dosageInstruction` (and no `dosage`) is read as
    // before; a `dosage` that is not a list, or an entry that is not an
    // object, fails the request naming it, as any malformed field of a
    // record that is checked.
    let statement = |key: &str, dosage: Value| {
        let mut s = json!({
            "resourceType": "MedicationStatement", "id": "s3", "status": "active",
            "medicationCodeableConcept": {"text": "methocarbamol 750 mg tablet"},
            "subject": {"reference": "Patient/example"}
        });
        s[key] = dosage;
        s
    };
    let six_a_day = json!({
        "timing": {"repeat": {"frequency": 6, "period": 1, "periodUnit": "d"}},
        "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet"}}]
    });
    let with = |record: Value| {
        let mut request = fixture("order-sign-baclofen.json");
        if let Some(entries) = request["prefetch"]["medicationStatements"]["entry"].as_array_mut() {
            entries.push(json!({"resource": record}));
        }
        request
    };
    let read = cards(
        &server,
        "crampcheck-order-sign",
        &with(statement("dosageInstruction", json!([six_a_day.clone()]))),
    );
    assert!(
        find(&read, "methocarbamol 9000 mg/day").is_some(),
        "{read:#?}"
    );
    let mut empty_dosage = statement("dosageInstruction", json!([six_a_day.clone()]));
    empty_dosage["dosage"] = json!([null, {}]);
    let read = cards(&server, "crampcheck-order-sign", &with(empty_dosage));
    assert!(
        find(&read, "methocarbamol 9000 mg/day").is_some(),
        "{read:#?}"
    );
    for (key, bad, field) in [
        ("dosage", six_a_day.clone(), "dosage"),
        (
            "dosage",
            json!(["3 tablets a day", six_a_day.clone()]),
            "dosage[0]",
        ),
    ] {
        let answer = post_json(
            &server.url("/cds-services/crampcheck-order-sign"),
            &with(statement(key, bad)),
        );
        assert_eq!(answer.status, 400, "{}", answer.text());
        assert!(answer.text().contains(field), "{}", answer.text());
    }
}

#[test]
fn a_medication_read_by_its_spelling_gets_a_card() {
    let server = TestServer::start();
    let mut request = fixture("order-sign-baclofen.json");
    request["prefetch"]["medicationStatements"]["entry"][0]["resource"]["medicationCodeableConcept"] =
        json!({"text": "Dridol"});
    let read = cards(&server, "crampcheck-order-sign", &request);
    let card = find(
        &read,
        "Check the name: dridol was read by its spelling as drisdol (ergocalciferol)",
    )
    .unwrap_or_else(|| panic!("{read:#?}"));
    assert_eq!(card["indicator"], "warning");
}

#[test]
fn a_draft_refused_for_its_spelling_is_not_checked_as_another_draft_s_list_entry() {
    // `Dolantin` (pethidine) is one letter from Dilantin (phenytoin). As a
    // drug ordered it is refused; the other draft's run must not check it
    // as phenytoin after all, under a card saying it was not checked.
    let server = TestServer::start();
    let request = order_sign(
        vec![
            draft("1", "quinine 324 mg", Some((1, 1, "d")), false),
            draft("2", "Dolantin 50 mg", Some((4, 1, "d")), false),
        ],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    let summaries: Vec<&str> = got.iter().filter_map(|c| c["summary"].as_str()).collect();
    assert!(
        summaries.iter().all(|s| !s.contains("phenytoin")),
        "{summaries:#?}"
    );
    let refused = summaries
        .iter()
        .find(|s| s.contains("Dolantin"))
        .unwrap_or_else(|| panic!("{summaries:#?}"));
    assert!(refused.contains("not checked"), "{summaries:#?}");
    // Drafts the KB knows exactly are still checked against each other.
    let request = order_sign(
        vec![
            draft("1", "quinine 324 mg", Some((1, 1, "d")), false),
            draft("2", "phenytoin 100 mg", Some((3, 1, "d")), false),
        ],
        Vec::new(),
        json!({"resourceType": "Patient", "birthDate": "1950-01-01"}),
    );
    let got = cards(&server, "crampcheck-order-sign", &request);
    assert!(
        got.iter().any(|c| c["summary"]
            .as_str()
            .is_some_and(|s| s.contains("phenytoin"))),
        "{got:#?}"
    );
}
