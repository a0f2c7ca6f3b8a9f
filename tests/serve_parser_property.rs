//! Property tests over `serve`'s request parsers: arbitrary bytes and
//! arbitrary JSON (including JSON shaped like real requests with wrong types
//! in every place) never panic; every refusal is a 4xx that says what is
//! wrong; accepted requests then run through the engine without panicking.

use crampcheck::clinical::Severity;
use crampcheck::kb::{KbIndex, KbSource, load};
use crampcheck::server::Limits;
use crampcheck::server::api::{parse_check_request, parse_suggest_request};
use crampcheck::server::cds::{SERVICES, cards, parse_hook_request};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

static KB: LazyLock<KbIndex> =
    LazyLock::new(|| load(&KbSource::Embedded).unwrap_or_else(|e| panic!("KB: {e}")));

const TODAY: (i64, u32, u32) = (2026, 1, 1);

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-z0-9 /.-]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("quinine"),
            Just("clarithromycin 500 mg bid"),
            Just("baclofen"),
            Just("Bundle"),
            Just("MedicationRequest"),
            Just("MedicationStatement"),
            Just("Observation"),
            Just("Condition"),
            Just("Patient"),
            Just("final"),
            Just("order-select"),
            Just("http://loinc.org"),
            Just("8636-3"),
            Just("2601-3"),
            Just("cirrhosis"),
            Just("1940-02-30"),
            Just("MedicationRequest/1"),
            Just("Medication/m"),
            Just("s"),
            Just("mmol/L"),
            Just("d"),
            Just("h"),
            Just("")
        ]
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    let keys = prop_oneof![
        Just("propose"),
        Just("medications"),
        Just("egfr"),
        Just("qtc"),
        Just("potassium"),
        Just("magnesium"),
        Just("age"),
        Just("conditions"),
        Just("jurisdiction"),
        Just("indication"),
        Just("hook"),
        Just("hookInstance"),
        Just("context"),
        Just("draftOrders"),
        Just("selections"),
        Just("prefetch"),
        Just("resourceType"),
        Just("entry"),
        Just("resource"),
        Just("id"),
        Just("status"),
        Just("medicationCodeableConcept"),
        Just("medicationReference"),
        Just("reference"),
        Just("text"),
        Just("coding"),
        Just("display"),
        Just("code"),
        Just("system"),
        Just("valueQuantity"),
        Just("value"),
        Just("unit"),
        Just("birthDate"),
        Just("clinicalStatus"),
        Just("dosageInstruction"),
        Just("timing"),
        Just("repeat"),
        Just("frequency"),
        Just("period"),
        Just("periodUnit"),
        Just("contained"),
        Just("effectiveDateTime"),
        Just("asNeededBoolean"),
        Just("other")
    ];
    leaf.prop_recursive(6, 96, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..8).prop_map(|pairs| {
                let mut map = Map::new();
                for (k, v) in pairs {
                    map.insert(k.to_owned(), v);
                }
                Value::Object(map)
            }),
        ]
    })
}

/// A well-formed hook request with `value` put somewhere inside it.
fn hook_with(value: Value, slot: usize) -> Value {
    let mut request = json!({
        "hook": "order-select",
        "hookInstance": "x",
        "context": {
            "selections": ["MedicationRequest/1"],
            "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": {
                "resourceType": "MedicationRequest", "id": "1", "status": "draft",
                "medicationCodeableConcept": {"text": "quinine"}}}]}
        },
        "prefetch": {"medicationRequests": {"resourceType": "Bundle", "entry": [{"resource": {
            "resourceType": "MedicationRequest", "status": "active",
            "medicationCodeableConcept": {"text": "clarithromycin"}}}]}}
    });
    let target = match slot % 6 {
        0 => &mut request["context"]["draftOrders"]["entry"][0]["resource"],
        1 => {
            &mut request["context"]["draftOrders"]["entry"][0]["resource"]["medicationCodeableConcept"]
        }
        2 => &mut request["prefetch"]["medicationRequests"]["entry"][0]["resource"],
        3 => &mut request["prefetch"],
        4 => &mut request["context"],
        _ => &mut request,
    };
    if let (Value::Object(target), Value::Object(extra)) = (target, value.clone()) {
        target.extend(extra);
        request
    } else {
        value
    }
}

fn check_refusal(err: &crampcheck::server::error::ApiError) {
    assert!((400..500).contains(&err.status.as_u16()), "{err:?}");
    assert!(!err.message.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let limits = Limits::default();
        if let Err(e) = parse_check_request(&bytes, &limits) { check_refusal(&e); }
        if let Err(e) = parse_suggest_request(&bytes, &limits) { check_refusal(&e); }
        for service in &SERVICES {
            if let Err(e) = parse_hook_request(&bytes, service, &KB, &limits, TODAY) {
                check_refusal(&e);
            }
        }
    }

    #[test]
    fn arbitrary_json_api_requests_never_panic(value in arb_json()) {
        let limits = Limits::default();
        let body = value.to_string();
        match parse_check_request(body.as_bytes(), &limits) {
            Ok(input) => {
                let _ = crampcheck::cmd::check::run_document(&KB, &input);
            }
            Err(e) => check_refusal(&e),
        }
        match parse_suggest_request(body.as_bytes(), &limits) {
            Ok(input) => {
                let _ = crampcheck::cmd::suggest::run_document(&KB, &input);
            }
            Err(e) => check_refusal(&e),
        }
    }

    #[test]
    fn arbitrary_json_in_hook_requests_never_panics(value in arb_json(), slot in 0usize..6) {
        let limits = Limits::default();
        let body = hook_with(value, slot).to_string();
        for service in &SERVICES {
            match parse_hook_request(body.as_bytes(), service, &KB, &limits, TODAY) {
                Ok(request) => {
                    let response = cards(&KB, &request, Severity::Info);
                    for card in &response.cards {
                        prop_assert!(card.summary.chars().count() < 140);
                    }
                }
                Err(e) => check_refusal(&e),
            }
        }
    }
}
