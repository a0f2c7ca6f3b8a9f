//! `crampcheck serve`'s JSON API and page over real HTTP on loopback: the
//! API answers with exactly the CLI's documents, bad input gets a JSON error
//! naming the field, limits hold, and the log carries no patient data.

mod common;
mod serve_support;

use common::crampcheck;
use serde_json::{Value, json};
use serve_support::{TestServer, get, post, post_json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn cli_stdout(args: &[&str]) -> Vec<u8> {
    let out = crampcheck()
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    out.stdout
}

#[test]
fn api_check_answers_the_cli_json_document_byte_for_byte() {
    let server = TestServer::start();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            json!({"propose": "quinine", "medications": ["clarithromycin 500 mg bid", "furosemid"], "egfr": 25}),
            vec![
                "--propose",
                "quinine",
                "--med",
                "clarithromycin 500 mg bid",
                "--med",
                "furosemid",
                "--egfr",
                "25",
            ],
        ),
        (
            json!({"propose": "baclofen 10 mg tid", "medications": ["oxycodone 5 mg q6h", "zzzfoo"], "age": 82,
                   "conditions": ["cirrhosis"], "jurisdiction": "UK"}),
            vec![
                "--propose",
                "baclofen 10 mg tid",
                "--med",
                "oxycodone 5 mg q6h",
                "--med",
                "zzzfoo",
                "--age",
                "82",
                "--condition",
                "cirrhosis",
                "--jurisdiction",
                "UK",
            ],
        ),
        (json!({"propose": "quinine"}), vec!["--propose", "quinine"]),
    ];
    for (body, args) in cases {
        let answer = post_json(&server.url("/api/check"), &body);
        assert_eq!(answer.status, 200, "{}", answer.text());
        assert_eq!(answer.content_type, "application/json");
        let mut cli = vec!["check", "--format", "json"];
        cli.extend(args);
        assert_eq!(answer.text(), String::from_utf8_lossy(&cli_stdout(&cli)));
        assert_eq!(answer.json()["schema"], "crampcheck.check/1");
    }
}

#[test]
fn api_suggest_answers_the_cli_json_document_byte_for_byte() {
    let server = TestServer::start();
    let body = json!({"medications": ["furosemide 40 mg daily", "simvastatin 40 mg"], "potassium": 3.1,
                      "qtc": 480, "indication": "cirrhosis"});
    let answer = post_json(&server.url("/api/suggest"), &body);
    assert_eq!(answer.status, 200, "{}", answer.text());
    let cli = cli_stdout(&[
        "suggest",
        "--format",
        "json",
        "--med",
        "furosemide 40 mg daily",
        "--med",
        "simvastatin 40 mg",
        "--potassium",
        "3.1",
        "--qtc",
        "480",
        "--indication",
        "cirrhosis",
    ]);
    assert_eq!(answer.text(), String::from_utf8_lossy(&cli));
    assert_eq!(answer.json()["schema"], "crampcheck.suggest/1");
}

#[test]
fn api_check_with_fhir_accept_answers_the_cli_fhir_bundle() {
    let server = TestServer::start();
    let body = json!({"propose": "quinine", "medications": ["clarithromycin"]});
    let answer = post(
        &server.url("/api/check"),
        body.to_string().as_bytes(),
        &[("accept", "application/fhir+json")],
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.content_type, "application/fhir+json");
    let cli = cli_stdout(&[
        "check",
        "--format",
        "fhir",
        "--propose",
        "quinine",
        "--med",
        "clarithromycin",
    ]);
    assert_eq!(answer.text(), String::from_utf8_lossy(&cli));
    assert_eq!(answer.json()["resourceType"], "Bundle");
}

#[test]
fn malformed_json_and_wrong_types_get_400_naming_the_field() {
    let server = TestServer::start();
    let url = server.url("/api/check");
    let cases: [(&[u8], Option<&str>); 7] = [
        (b"{not json", None),
        (b"[1,2]", None),
        (br#"{"medications": []}"#, Some("propose")),
        (br#"{"propose": 7}"#, Some("propose")),
        (
            br#"{"propose": "quinine", "medications": "clarithromycin"}"#,
            Some("medications"),
        ),
        (
            br#"{"propose": "quinine", "medications": ["a", null]}"#,
            Some("medications[1]"),
        ),
        (br#"{"propose": "quinine", "eGFR": 30}"#, Some("eGFR")),
    ];
    for (body, field) in cases {
        let answer = post(&url, body, &[]);
        assert_eq!(answer.status, 400, "{}", String::from_utf8_lossy(body));
        let error = answer.json();
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
        assert_eq!(error["field"].as_str(), field, "{error}");
    }
    let answer = post(&server.url("/api/suggest"), br#"{"qtc": "long"}"#, &[]);
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["field"], "qtc");
    // A key given twice would be read as its last value: the first list of
    // medications would go unchecked.
    let twice = br#"{"propose": "quinine", "medications": ["clarithromycin"], "medications": []}"#;
    let answer = post(&url, twice, &[]);
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("`medications` appears twice")),
        "{}",
        answer.text()
    );
}

#[test]
fn values_the_engine_refuses_get_422_naming_the_field() {
    let server = TestServer::start();
    let url = server.url("/api/check");
    for (body, field) in [
        (json!({"propose": "quinine", "egfr": 900}), "egfr"),
        (
            json!({"propose": "quinine", "conditions": ["martian flu"]}),
            "conditions",
        ),
        (json!({"propose": "xqzzyv"}), "propose"),
        (
            json!({"propose": "quinine", "jurisdiction": "FR"}),
            "jurisdiction",
        ),
        (
            json!({"propose": "quinine", "medications": ["ok", "  "]}),
            "medications[1]",
        ),
    ] {
        let answer = post_json(&url, &body);
        assert_eq!(answer.status, 422, "{body}: {}", answer.text());
        assert_eq!(answer.json()["field"], field);
    }
    let answer = post_json(
        &server.url("/api/suggest"),
        &json!({"indication": "hiccups"}),
    );
    assert_eq!(answer.status, 422);
    assert_eq!(answer.json()["field"], "indication");
}

#[test]
fn limits_on_body_size_medication_count_and_field_length_hold() {
    let server = TestServer::start();
    let url = server.url("/api/check");
    let huge = format!(
        r#"{{"propose": "quinine", "medications": ["{}"]}}"#,
        "a".repeat(70_000)
    );
    let answer = post(&url, huge.as_bytes(), &[]);
    assert_eq!(answer.status, 413);
    assert!(
        answer.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("too large"))
    );
    let many: Vec<String> = (0..201).map(|i| format!("med{i}")).collect();
    let answer = post_json(&url, &json!({"propose": "quinine", "medications": many}));
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["field"], "medications");
    let long = "b".repeat(501);
    let answer = post_json(
        &url,
        &json!({"propose": "quinine", "medications": ["x", long]}),
    );
    assert_eq!(answer.status, 400);
    assert_eq!(answer.json()["field"], "medications[1]");
}

#[test]
fn kb_info_health_and_unknown_paths() {
    let server = TestServer::start();
    let kb = get(&server.url("/api/kb"));
    assert_eq!(kb.status, 200);
    let kb = kb.json();
    assert_eq!(kb["schema"], "crampcheck.kb/1");
    assert!(kb["kb"]["version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(
        kb["therapies"]
            .as_array()
            .is_some_and(|t| t.iter().any(|d| d == "quinine"))
    );
    assert!(kb["sources"].as_array().is_some_and(|s| s.len() > 10));
    let health = get(&server.url("/healthz"));
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let missing = get(&server.url("/no/such/page"));
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "not found");
}

#[test]
fn the_page_and_its_assets_are_embedded_and_load_nothing_from_the_network() {
    let server = TestServer::start();
    let page = get(&server.url("/"));
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    let html = page.text();
    for needle in [
        "<label for=\"meds\"",
        "<label for=\"propose\"",
        "Which cramp drug?",
        "/app.js",
        "/style.css",
    ] {
        assert!(html.contains(needle), "page lacks {needle}");
    }
    for (path, kind) in [("/app.js", "text/javascript"), ("/style.css", "text/css")] {
        let asset = get(&server.url(path));
        assert_eq!(asset.status, 200);
        assert!(asset.content_type.starts_with(kind));
        // No external fetches, fonts, imports or scripts.
        let text = asset.text();
        assert!(
            !text.contains("@import") && !text.contains("url(http"),
            "{path}"
        );
        assert!(!text.contains("fetch(\"http"), "{path}");
    }
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
}

#[test]
fn responses_forbid_caching_and_foreign_content() {
    let server = TestServer::start();
    let page = get(&server.url("/"));
    assert!(
        page.header("content-security-policy")
            .starts_with("default-src 'none'")
    );
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
}

#[test]
fn non_loopback_bind_needs_allow_remote() {
    let out = crampcheck()
        .args(["serve", "--bind", "0.0.0.0:0"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert!(stderr.contains("no authentication"), "{stderr}");
}

#[test]
fn binary_logs_no_patient_data_and_stops_gracefully_on_sigterm() {
    let bin = assert_cmd::cargo::cargo_bin("crampcheck");
    let mut child = Command::new(bin)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let mut lines = BufReader::new(stderr).lines();
    let first = lines
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no start line"));
    let base = first
        .split("listening on ")
        .nth(1)
        .and_then(|rest| rest.split('/').nth(2))
        .map(|host| format!("http://{host}"))
        .unwrap_or_else(|| panic!("no address in {first}"));
    let answer = post_json(
        &format!("{base}/api/check"),
        &json!({"propose": "quinine", "medications": ["clarithromycin 500 mg bid"], "egfr": 27.5}),
    );
    assert_eq!(answer.status, 200);
    let _ = get(&format!("{base}/patients/jane-doe-quinine?name=jane"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(status.success());
    let exit = child.wait().unwrap_or_else(|e| panic!("wait: {e}"));
    assert_eq!(exit.code(), Some(0), "graceful shutdown exits 0");
    let log: Vec<String> = lines.map_while(Result::ok).collect();
    let log = log.join("\n");
    assert!(log.contains("POST /api/check 200 "), "{log}");
    assert!(log.contains("GET - 404 "), "{log}");
    assert!(log.contains("stopped"), "{log}");
    for secret in ["clarithromycin", "quinine", "jane", "27.5"] {
        assert!(!log.contains(secret), "log leaks {secret}: {log}");
    }
}

#[test]
fn a_request_that_stalls_is_cut_off_by_the_timeout() {
    use std::io::{Read, Write};
    let server = TestServer::start_with(|state| {
        state.limits.timeout = std::time::Duration::from_millis(300);
    });
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connect: {e}"));
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("timeout: {e}"));
    // Promise 100 bytes of body, send 10, then stall.
    let head = format!(
        "POST /api/check HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"propose\""
    );
    stream
        .write_all(head.as_bytes())
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "errors are JSON: {answer}"
    );
}

#[test]
fn a_method_a_path_does_not_take_is_a_json_405() {
    let server = TestServer::start();
    let answer = get(&server.url("/api/check"));
    assert_eq!(answer.status, 405);
    assert_eq!(
        answer.json()["error"],
        "this path does not take that method"
    );
    assert!(
        answer.header("allow").contains("POST"),
        "{}",
        answer.header("allow")
    );
}
