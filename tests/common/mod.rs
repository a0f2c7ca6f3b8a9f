//! Shared helpers for the end-to-end tests: run the real binary and read its
//! JSON output.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;

/// The built `crampcheck` binary.
pub fn crampcheck() -> Command {
    let mut cmd = Command::cargo_bin("crampcheck").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `SUBCOMMAND ARGS --format json`; returns the exit code and the
/// parsed document.
pub fn run_json(subcommand: &str, args: &[&str]) -> (i32, Value) {
    let out = crampcheck()
        .arg(subcommand)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    let code = out.status.code().unwrap_or(-1);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); exit {code}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, doc)
}

/// Runs `check --format json` with the given extra arguments; returns the
/// exit code and the parsed document.
pub fn check_json(args: &[&str]) -> (i32, Value) {
    run_json("check", args)
}

/// The findings array.
pub fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings array in {doc}"))
}

/// The finding whose `drugs` equal `drugs` and whose kind is `kind`.
pub fn finding<'a>(doc: &'a Value, kind: &str, drugs: &[&str]) -> Option<&'a Value> {
    findings(doc).iter().find(|f| {
        f["kind"] == kind
            && f["drugs"].as_array().is_some_and(|d| {
                d.iter()
                    .map(|x| x.as_str().unwrap_or(""))
                    .eq(drugs.iter().copied())
            })
    })
}

/// Severity rank, worst highest, for comparisons.
pub fn rank(severity: &str) -> u8 {
    match severity {
        "contraindicated" => 5,
        "major" => 4,
        "moderate" => 3,
        "minor" => 2,
        "info" => 1,
        _ => 0,
    }
}
