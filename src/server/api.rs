//! The JSON API: `POST /api/check`, `POST /api/suggest`, `GET /api/kb`,
//! `GET /healthz`.
//!
//! Requests take the CLI's inputs as JSON, one key per flag:
//! `{"propose": "quinine", "medications": ["clarithromycin 500 mg bid"],
//! "egfr": 45, "qtc": 470, "potassium": 3.4, "magnesium": 1.9, "age": 82,
//! "conditions": ["cirrhosis"], "jurisdiction": "US"}` (`suggest` takes
//! `indication` instead of `propose`). The request parser is hand-written
//! over `serde_json::Value` so that every error names its field
//! (`medications[2]: expected a string, found a number`), unknown keys are
//! refused (a typo must not silently drop a lab value), and limits are
//! checked before any work. Answers are the CLI's documents, byte for byte.

use super::AppState;
use super::Limits;
use super::error::ApiError;
use crate::cli::PatientArgs;
use crate::cmd::check::{CheckInput, run_document as check_document};
use crate::cmd::suggest::{SuggestInput, run_document as suggest_document};
use crate::engine::suggest::{indications, therapy_drugs};
use crate::report::fhir::{self, FHIR_JSON};
use crate::report::json::{KbJson, SourceJson};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Keys a check request may have.
const CHECK_KEYS: [&str; 9] = [
    "propose",
    "medications",
    "egfr",
    "qtc",
    "potassium",
    "magnesium",
    "age",
    "conditions",
    "jurisdiction",
];

/// Keys a suggest request may have.
const SUGGEST_KEYS: [&str; 9] = [
    "medications",
    "egfr",
    "qtc",
    "potassium",
    "magnesium",
    "age",
    "conditions",
    "jurisdiction",
    "indication",
];

/// The JSON type of a value, for error messages.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a body that must be one JSON object. A leading byte-order mark,
/// which some Windows clients write, is passed over (RFC 8259 section 8.1
/// lets a parser ignore it).
pub fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let malformed = |e: serde_json::Error| ApiError::bad_request(format!("malformed JSON: {e}"));
    let mut reader = serde_json::Deserializer::from_slice(body);
    let value = UniqueKeys.deserialize(&mut reader).map_err(malformed)?;
    reader.end().map_err(malformed)?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ApiError::bad_request(format!(
            "expected a JSON object, found {}",
            type_name(&other)
        ))),
    }
}

/// Reads a JSON value whose objects repeat no key. A key given twice is
/// otherwise read as its last value without a word: `"medications"` twice
/// would drop the first list from the check.
struct UniqueKeys;

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(UniqueKeys)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("key `{key}` appears twice")));
            }
            let value = map.next_value_seed(UniqueKeys)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn refuse_unknown_keys(map: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(ApiError::bad_field(
            key.clone(),
            format!("unknown field (expected one of: {})", allowed.join(", ")),
        )),
        None => Ok(()),
    }
}

/// A string of at most `limits.max_field_chars` characters.
pub fn checked_string(value: &Value, field: &str, limits: &Limits) -> Result<String, ApiError> {
    match value {
        Value::String(s) if s.chars().count() > limits.max_field_chars => Err(ApiError::bad_field(
            field,
            format!("longer than {} characters", limits.max_field_chars),
        )),
        Value::String(s) => Ok(s.clone()),
        other => Err(ApiError::bad_field(
            field,
            format!("expected a string, found {}", type_name(other)),
        )),
    }
}

fn opt_string(
    map: &Map<String, Value>,
    key: &str,
    limits: &Limits,
) -> Result<Option<String>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => checked_string(value, key, limits).map(Some),
    }
}

fn string_list(
    map: &Map<String, Value>,
    key: &str,
    max_items: usize,
    limits: &Limits,
) -> Result<Vec<String>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() > max_items => Err(ApiError::bad_field(
            key,
            format!("more than {max_items} items ({})", items.len()),
        )),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| checked_string(item, &format!("{key}[{i}]"), limits))
            .collect(),
        Some(other) => Err(ApiError::bad_field(
            key,
            format!("expected an array of strings, found {}", type_name(other)),
        )),
    }
}

fn opt_number(map: &Map<String, Value>, key: &str) -> Result<Option<f64>, ApiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| ApiError::bad_field(key, "not a representable number")),
        Some(other) => Err(ApiError::bad_field(
            key,
            format!("expected a number, found {}", type_name(other)),
        )),
    }
}

fn patient_args(map: &Map<String, Value>, limits: &Limits) -> Result<PatientArgs, ApiError> {
    Ok(PatientArgs {
        egfr: opt_number(map, "egfr")?,
        qtc: opt_number(map, "qtc")?,
        potassium: opt_number(map, "potassium")?,
        magnesium: opt_number(map, "magnesium")?,
        age: opt_number(map, "age")?,
        conditions: string_list(map, "conditions", limits.max_conditions, limits)?,
        jurisdiction: opt_string(map, "jurisdiction", limits)?.unwrap_or_else(|| "US".to_owned()),
    })
}

/// Parses a `POST /api/check` body into the CLI's check inputs.
pub fn parse_check_request(body: &[u8], limits: &Limits) -> Result<CheckInput, ApiError> {
    let map = parse_object(body)?;
    refuse_unknown_keys(&map, &CHECK_KEYS)?;
    let propose = opt_string(&map, "propose", limits)?
        .ok_or_else(|| ApiError::bad_field("propose", "missing (the drug to check)"))?;
    Ok(CheckInput {
        propose,
        meds: string_list(&map, "medications", limits.max_medications, limits)?,
        patient: patient_args(&map, limits)?,
    })
}

/// Parses a `POST /api/suggest` body into the CLI's suggest inputs.
pub fn parse_suggest_request(body: &[u8], limits: &Limits) -> Result<SuggestInput, ApiError> {
    let map = parse_object(body)?;
    refuse_unknown_keys(&map, &SUGGEST_KEYS)?;
    Ok(SuggestInput {
        meds: string_list(&map, "medications", limits.max_medications, limits)?,
        patient: patient_args(&map, limits)?,
        indication: opt_string(&map, "indication", limits)?,
    })
}

/// `value` as the CLI prints it (`to_writer_pretty` and a newline), with
/// `content_type`.
fn pretty_json(value: &impl Serialize, content_type: &'static str) -> Result<Response, ApiError> {
    let mut body = serde_json::to_vec_pretty(value).map_err(|e| ApiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        field: None,
        message: format!("cannot write the answer: {e}"),
    })?;
    body.push(b'\n');
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response())
}

/// Whether the client asked for FHIR (`Accept: application/fhir+json`).
fn wants_fhir(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains(FHIR_JSON))
}

/// `POST /api/check`: the `crampcheck.check/1` document, or with `Accept:
/// application/fhir+json` the FHIR Bundle of DetectedIssues.
pub async fn check(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let fhir = wants_fhir(&headers);
    let checks = Arc::clone(&state.checks);
    super::off_the_runtime(&checks, move || {
        let input = parse_check_request(&body, &state.limits)?;
        let run = check_document(&state.kb, &input)?;
        if fhir {
            pretty_json(&fhir::bundle(&run.doc), FHIR_JSON)
        } else {
            pretty_json(&run.doc, "application/json")
        }
    })
    .await
}

/// `POST /api/suggest`: the `crampcheck.suggest/1` document.
pub async fn suggest(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body?;
    let checks = Arc::clone(&state.checks);
    super::off_the_runtime(&checks, move || {
        let input = parse_suggest_request(&body, &state.limits)?;
        let doc = suggest_document(&state.kb, &input)?;
        pretty_json(&doc, "application/json")
    })
    .await
}

/// A condition the KB knows.
#[derive(Debug, Serialize)]
struct ConditionInfo<'a> {
    code: &'a str,
    name: &'a str,
}

/// The `GET /api/kb` answer.
#[derive(Debug, Serialize)]
struct KbInfo<'a> {
    schema: &'static str,
    kb: KbJson,
    therapies: Vec<&'a str>,
    indications: Vec<&'a str>,
    conditions: Vec<ConditionInfo<'a>>,
    sources: Vec<SourceJson>,
}

/// `GET /api/kb`: KB version, the cramp therapies, indications and
/// condition codes it knows (the page's pick lists) and every source.
pub async fn kb_info(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let kb = &state.kb;
    let info = KbInfo {
        schema: "crampcheck.kb/1",
        kb: KbJson::of(kb),
        therapies: therapy_drugs(kb)
            .into_iter()
            .map(|d| kb.drug_name(d))
            .collect(),
        indications: indications(kb),
        conditions: kb
            .conditions
            .iter()
            .map(|c| ConditionInfo {
                code: &c.code,
                name: &c.name,
            })
            .collect(),
        sources: (0..kb.sources.len())
            .filter_map(|i| u32::try_from(i).ok())
            .map(|i| SourceJson::of(kb, i))
            .collect(),
    };
    pretty_json(&info, "application/json")
}

/// `GET /healthz`: 200 with the KB version while the server runs.
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(serde_json::json!({"status": "ok", "kb": state.kb.meta.version})).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn wrong_type_names_the_field() {
        let err =
            parse_check_request(br#"{"propose":"quinine","medications":["a",3]}"#, &limits()).err();
        let err = err.map(|e| (e.field, e.message));
        assert_eq!(
            err,
            Some((
                Some("medications[1]".to_owned()),
                "expected a string, found a number".to_owned()
            ))
        );
        let err = parse_check_request(br#"{"propose":"quinine","egfr":"45"}"#, &limits()).err();
        assert_eq!(err.and_then(|e| e.field), Some("egfr".to_owned()));
    }

    #[test]
    fn a_byte_order_mark_before_the_json_is_passed_over() {
        let body = b"\xEF\xBB\xBF{\"propose\":\"quinine\"}";
        let input = parse_check_request(body, &limits()).map(|i| i.propose);
        assert_eq!(input.ok().as_deref(), Some("quinine"));
        // Only at the start: one inside the text is still malformed.
        let body = b"{\"propose\":\"quinine\"}\xEF\xBB\xBF";
        assert!(parse_check_request(body, &limits()).is_err());
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        let err = parse_check_request(br#"{"medications":[]}"#, &limits()).err();
        assert_eq!(err.and_then(|e| e.field), Some("propose".to_owned()));
        let err = parse_check_request(br#"{"propose":"quinine","egrf":30}"#, &limits()).err();
        assert_eq!(err.and_then(|e| e.field), Some("egrf".to_owned()));
    }

    #[test]
    fn limits_are_enforced() {
        let small = Limits {
            max_medications: 2,
            max_field_chars: 5,
            ..Limits::default()
        };
        let err =
            parse_check_request(br#"{"propose":"q","medications":["a","b","c"]}"#, &small).err();
        assert_eq!(err.and_then(|e| e.field), Some("medications".to_owned()));
        let err = parse_check_request(br#"{"propose":"quinine"}"#, &small).err();
        assert_eq!(err.and_then(|e| e.field), Some("propose".to_owned()));
    }

    #[test]
    fn a_full_request_parses() {
        let input = parse_check_request(
            br#"{"propose":"quinine","medications":["clarithromycin"],"egfr":45,
                "conditions":["cirrhosis"],"jurisdiction":"UK","age":null}"#,
            &limits(),
        );
        let input = input.ok();
        assert_eq!(input.as_ref().map(|i| i.propose.as_str()), Some("quinine"));
        assert_eq!(input.as_ref().and_then(|i| i.patient.egfr), Some(45.0));
        assert_eq!(
            input.as_ref().map(|i| i.patient.jurisdiction.as_str()),
            Some("UK")
        );
    }
}
