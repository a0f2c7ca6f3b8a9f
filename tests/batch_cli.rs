//! End-to-end tests of `crampcheck batch`: the real binary on fixture files
//! in `tests/fixtures/batch/`, each run asserting that the accounting adds up
//! (rows read = rows checked + rows rejected, one rejects-file line per
//! rejected row) besides the specific findings, lines and reasons.

use assert_cmd::Command;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/batch")
        .join(name)
}

/// One finding row of the CSV output.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    patient: String,
    proposed: String,
    kind: String,
    severity: String,
    drugs: String,
    condition: String,
    lines: String,
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
    summary: Value,
    rejects: Vec<(u64, String, String)>,
}

impl Run {
    fn rows(&self) -> Vec<Row> {
        let mut rdr = csv::Reader::from_reader(self.stdout.as_slice());
        let headers = rdr.headers().expect("findings header").clone();
        assert_eq!(
            headers.iter().collect::<Vec<_>>(),
            [
                "patient_id",
                "proposed",
                "kind",
                "severity",
                "action",
                "evidence",
                "drugs",
                "condition",
                "title",
                "basis",
                "sources",
                "rule_ids",
                "lines"
            ]
        );
        rdr.records()
            .map(|r| {
                let r = r.expect("findings row");
                Row {
                    patient: r[0].to_owned(),
                    proposed: r[1].to_owned(),
                    kind: r[2].to_owned(),
                    severity: r[3].to_owned(),
                    drugs: r[6].to_owned(),
                    condition: r[7].to_owned(),
                    lines: r[12].to_owned(),
                }
            })
            .collect()
    }

    fn find(&self, patient: &str, kind: &str, drugs: &str) -> Option<Row> {
        self.rows()
            .into_iter()
            .find(|r| r.patient == patient && r.kind == kind && r.drugs == drugs)
    }

    fn count(&self, key: &str) -> u64 {
        self.summary[key]
            .as_u64()
            .unwrap_or_else(|| panic!("summary {key}"))
    }
}

/// Runs `crampcheck batch INPUT ARGS --rejects --summary-json --quiet` and
/// checks the accounting of every run.
fn batch_in(dir: &TempDir, input: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let summary_path = dir.path().join("summary.json");
    let rejects_path = dir.path().join("rejects.csv");
    let _ = std::fs::remove_file(&summary_path);
    let _ = std::fs::remove_file(&rejects_path);
    let mut cmd = Command::cargo_bin("crampcheck").expect("binary");
    cmd.arg("batch")
        .arg(input)
        .args(args)
        .arg("--rejects")
        .arg(&rejects_path)
        .arg("--summary-json")
        .arg(&summary_path)
        .arg("--quiet");
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes);
    }
    let out = cmd.output().expect("run");
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if code == 2 {
        return Run {
            code,
            stdout: out.stdout,
            stderr,
            summary: Value::Null,
            rejects: Vec::new(),
        };
    }
    let summary: Value = serde_json::from_slice(
        &std::fs::read(&summary_path).unwrap_or_else(|e| panic!("summary: {e}; {stderr}")),
    )
    .expect("summary JSON");
    let mut rdr = csv::Reader::from_path(&rejects_path).expect("rejects file");
    let rejects: Vec<(u64, String, String)> = rdr
        .records()
        .map(|r| {
            let r = r.expect("rejects row");
            (
                r[0].parse().expect("line number"),
                r[1].to_owned(),
                r[2].to_owned(),
            )
        })
        .collect();
    let run = Run {
        code,
        stdout: out.stdout,
        stderr,
        summary,
        rejects,
    };
    // The accounting every run must satisfy.
    let (read, checked, rejected) = (
        run.count("rows_read"),
        run.count("rows_checked"),
        run.count("rows_rejected"),
    );
    assert_eq!(read, checked + rejected, "rows read = checked + rejected");
    assert_eq!(
        run.rejects.len() as u64,
        rejected,
        "one rejects line per rejected row"
    );
    let by_reason: u64 = run.summary["rejected_by_reason"]
        .as_object()
        .expect("rejected_by_reason")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(by_reason, rejected);
    if run.stdout.starts_with(b"patient_id,") {
        assert_eq!(
            run.rows().len() as u64,
            run.count("findings"),
            "one row per finding"
        );
    }
    run
}

fn batch(input: &Path, args: &[&str]) -> Run {
    let dir = TempDir::new().expect("temp dir");
    batch_in(&dir, input, args, None)
}

const SYNTHEA: [&str; 8] = [
    "--patient-col",
    "PATIENT",
    "--drug-col",
    "DESCRIPTION",
    "--start-col",
    "START",
    "--stop-col",
    "STOP",
];
const PATIENT_A: &str = "1d604da9-9a81-4ba9-80c2-de3375d59b40";
const PATIENT_B: &str = "8c0d2b2e-6f5e-4a36-9b5d-3f1f6c7e2a11";
const PATIENT_C: &str = "f3e1a2b4-0c5d-4e6f-8a9b-1c2d3e4f5a6b";

#[test]
fn synthea_medications_run_with_column_flags_only() {
    let mut args = SYNTHEA.to_vec();
    args.extend(["--propose", "baclofen"]);
    let run = batch(&fixture("synthea_medications.csv"), &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.count("rows_read"), 9);
    assert_eq!(run.count("rows_rejected"), 0);
    assert_eq!(run.count("patients"), 3);
    assert_eq!(run.summary["co_exposure"]["rule"], "latest-start");
    // The RxNorm combination resolves to oxycodone, an opioid.
    let opioid = run
        .find(PATIENT_A, "interaction", "baclofen;oxycodone")
        .expect("baclofen + oxycodone");
    assert_eq!(opioid.severity, "major");
    assert_eq!(opioid.lines, "2");
    assert_eq!(opioid.proposed, "baclofen");
    let loop_diuretic = run
        .find(PATIENT_A, "interaction", "baclofen;furosemide")
        .expect("baclofen + furosemide");
    assert_eq!(loop_diuretic.lines, "4");
    // Unrecognized names are findings, not rejects, and are in the summary.
    let unknown = run
        .find(PATIENT_C, "unrecognized", "")
        .expect("unrecognized");
    assert_eq!(unknown.lines, "10");
    assert_eq!(run.summary["unrecognized"]["distinct_names"], 1);
    assert_eq!(
        run.summary["unrecognized"]["top"][0]["name"],
        "Zorblaxitol 10 MG Oral Tablet"
    );
    assert_eq!(run.summary["unrecognized"]["top"][0]["rows"], 1);
}

#[test]
fn existing_therapies_count_only_overlapping_windows() {
    let dated = batch(&fixture("synthea_medications.csv"), &SYNTHEA);
    assert_eq!(dated.summary["mode"], "existing-therapies");
    assert_eq!(dated.summary["co_exposure"]["rule"], "overlap");
    let macrolide = dated
        .find(PATIENT_B, "interaction", "quinine;clarithromycin")
        .expect("quinine + clarithromycin overlap in February 2020");
    assert_eq!(macrolide.lines, "5;6");
    assert_eq!(macrolide.proposed, "Quinine Sulfate 324 MG Oral Capsule");
    // Rifampin stopped in June 2019, before quinine started in 2020.
    assert_eq!(
        dated.find(PATIENT_B, "interaction", "quinine;rifampin"),
        None
    );
    // Patient A takes no cramp therapy: nothing to check.
    assert!(dated.rows().iter().all(|r| r.patient != PATIENT_A));

    // Without dates, all of a patient's rows are one list.
    let undated = batch(
        &fixture("synthea_medications.csv"),
        &["--patient-col", "PATIENT", "--drug-col", "DESCRIPTION"],
    );
    assert_eq!(undated.summary["co_exposure"]["rule"], "single-list");
    let inducer = undated
        .find(PATIENT_B, "interaction", "quinine;rifampin")
        .expect("quinine + rifampin on one list");
    assert_eq!(inducer.lines, "5;7");
}

#[test]
fn as_of_keeps_only_what_is_active_that_day() {
    let mut args = SYNTHEA.to_vec();
    args.extend(["--as-of", "2020-02-20"]);
    let after = batch(&fixture("synthea_medications.csv"), &args);
    assert_eq!(after.summary["co_exposure"]["rule"], "as-of");
    assert!(after.find(PATIENT_B, "boxed_warning", "quinine").is_some());
    assert_eq!(
        after.find(PATIENT_B, "interaction", "quinine;clarithromycin"),
        None
    );
    let mut args = SYNTHEA.to_vec();
    args.extend(["--as-of", "2020-02-05"]);
    let during = batch(&fixture("synthea_medications.csv"), &args);
    assert!(
        during
            .find(PATIENT_B, "interaction", "quinine;clarithromycin")
            .is_some()
    );
}

#[test]
fn jsonl_lines_are_the_check_finding_objects() {
    let run = batch(&fixture("basic.csv"), &["--format", "jsonl"]);
    let lines: Vec<Value> = run
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len() as u64, run.count("findings"));
    let batch_finding = lines
        .iter()
        .find(|l| l["patient_id"] == "p1" && l["kind"] == "interaction")
        .expect("p1 interaction");
    assert_eq!(batch_finding["lines"], serde_json::json!([2, 3]));
    assert_eq!(batch_finding["proposed"], "quinine 324 mg daily");
    let check = Command::cargo_bin("crampcheck")
        .expect("binary")
        .args([
            "check",
            "--propose",
            "quinine 324 mg daily",
            "--med",
            "clarithromycin 500 mg bid",
            "--format",
            "json",
        ])
        .output()
        .expect("check");
    let doc: Value = serde_json::from_slice(&check.stdout).expect("check JSON");
    let check_finding = doc["findings"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["kind"] == "interaction"))
        .expect("check interaction");
    // Same object: every key of the check finding, with the same values,
    // except that batch indices point into the patient's distinct
    // medications (quinine 0, clarithromycin 1) rather than the --med list.
    for (key, value) in check_finding.as_object().expect("object") {
        if key.starts_with("medication_ind") {
            continue;
        }
        assert_eq!(&batch_finding[key], value, "key {key}");
    }
    assert_eq!(batch_finding["medication_indices"], serde_json::json!([1]));
    assert_eq!(batch_finding["medication_index"], 1);
}

#[test]
fn unrecognized_names_are_findings_and_a_clean_file_exits_0() {
    let run = batch(&fixture("basic.csv"), &[]);
    assert_eq!(run.code, 1);
    let unknown = run.find("p2", "unrecognized", "").expect("p2 unrecognized");
    assert_eq!(unknown.lines, "5");
    assert_eq!(run.summary["findings_by_kind"]["unrecognized"], 1);
    let opioid = run
        .find("p3", "interaction", "baclofen;oxycodone")
        .expect("baclofen + oxycodone");
    assert_eq!(opioid.lines, "6;7");
    let clean = batch(&fixture("clean.csv"), &[]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    assert_eq!(clean.count("findings"), 0);
    assert_eq!(clean.count("patients"), 2);
}

#[test]
fn fail_on_threshold_sets_the_exit_code() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("moderate.csv");
    std::fs::write(
        &file,
        "patient_id,drug\np1,baclofen 10 mg tid\np1,furosemide 40 mg\n",
    )
    .expect("write");
    // baclofen + furosemide is moderate; furosemide as a cause is info.
    let run = batch(&file, &[]);
    assert_eq!(run.summary["findings_by_severity"]["moderate"], 1);
    assert_eq!(run.code, 0, "nothing at or above major");
    assert_eq!(batch(&file, &["--fail-on", "contraindicated"]).code, 0);
    assert_eq!(batch(&file, &["--fail-on", "moderate"]).code, 1);
    assert_eq!(batch(&file, &["--fail-on", "info"]).code, 1);
}

#[test]
fn missing_column_is_an_error_listing_the_columns_found() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("meds.csv");
    std::fs::write(&file, "patient,medication\np1,quinine\n").expect("write");
    let run = batch(&file, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no column `patient_id`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("columns found: patient, medication"),
        "{}",
        run.stderr
    );
    // A binary file: still one printable line, control bytes escaped.
    std::fs::write(&file, b"SQLite format 3\0\x01\x02,x\n\0\0\n").expect("write");
    let run = batch(&file, &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    assert!(
        !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        run.stderr
    );
    assert!(
        run.stderr.contains("SQLite format 3\\u{0}"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_flags_exit_2() {
    let input = fixture("synthea_medications.csv");
    let as_of_without_dates = batch(&input, &["--as-of", "2020-01-01"]);
    assert_eq!(as_of_without_dates.code, 2);
    let mut args = SYNTHEA.to_vec();
    args.extend(["--as-of", "yesterday"]);
    let bad_date = batch(&input, &args);
    assert_eq!(bad_date.code, 2);
    assert!(
        bad_date.stderr.contains("--as-of `yesterday`"),
        "{}",
        bad_date.stderr
    );
    let unknown_proposed = batch(&fixture("basic.csv"), &["--propose", "zorblaxitol"]);
    assert_eq!(unknown_proposed.code, 2);
    assert!(unknown_proposed.stderr.contains("zorblaxitol"));
    let unreadable = batch(&fixture("no-such-file.csv"), &[]);
    assert_eq!(unreadable.code, 2);
    assert!(
        unreadable.stderr.contains("cannot open"),
        "{}",
        unreadable.stderr
    );
    let delimiter = batch(&fixture("basic.csv"), &["--delimiter", "::"]);
    assert_eq!(delimiter.code, 2);
    // A thread count that would only exhaust the machine (it once ran for
    // minutes on a six-row file) is refused.
    let threads = batch(&fixture("basic.csv"), &["--threads", "100000"]);
    assert_eq!(threads.code, 2);
    assert!(threads.stderr.contains("--threads"), "{}", threads.stderr);
    // A missing argument is named on the one line.
    assert!(
        as_of_without_dates.stderr.contains("--start-col"),
        "{}",
        as_of_without_dates.stderr
    );
    assert_eq!(as_of_without_dates.stderr.lines().count(), 1);
}

#[test]
fn headers_match_case_insensitively_and_context_columns_apply() {
    let run = batch(
        &fixture("context.csv"),
        &[
            "--qtc-col",
            "qtc",
            "--egfr-col",
            "EGFR",
            "--age-col",
            "age",
            "--conditions-col",
            "conditions",
        ],
    );
    // QTc 480 ms implies a prolonged QT interval: quinine is contraindicated.
    let qt = run.find("p1", "condition", "quinine").expect("p1 QT");
    assert_eq!(
        (qt.severity.as_str(), qt.condition.as_str()),
        ("contraindicated", "qt-prolongation")
    );
    assert_eq!(qt.lines, "2");
    assert_eq!(run.find("p2", "condition", "quinine"), None);
    assert!(
        run.find("p3", "condition", "quinine").is_some(),
        "stated alias `long qt`"
    );
    assert_eq!(
        run.rejects,
        [
            (6, "bad_value".to_owned(), "QTc".to_owned()),
            (7, "unknown_condition".to_owned(), "Conditions".to_owned())
        ]
    );
    // A rejected context value does not take the row's drug with it.
    for (patient, line) in [("p4", "6"), ("p5", "7")] {
        let boxed = run.find(patient, "boxed_warning", "quinine");
        assert_eq!(boxed.map(|f| f.lines), Some(line.to_owned()), "{patient}");
    }
}

#[test]
fn a_row_with_unusable_context_keeps_its_drug_and_its_usable_context() {
    // Before, an unknown condition or an impossible lab value rejected the
    // whole row: the quinine on it, and so quinine + clarithromycin, went
    // unchecked.
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("partial.csv");
    std::fs::write(
        &file,
        "patient_id,drug,qtc,egfr,conditions\n\
         p1,quinine 324 mg daily,,,heart attack\n\
         p1,clarithromycin 500 mg bid,,,\n\
         p2,quinine 324 mg daily,,,long qt; no-such-condition | other-thing\n\
         p3,quinine 324 mg daily,9000,8,\n\
         p4,,,,long qt;foo\n\
         p4,quinine 324 mg daily,,,\n",
    )
    .expect("write");
    let args = [
        "--qtc-col",
        "qtc",
        "--egfr-col",
        "egfr",
        "--conditions-col",
        "conditions",
    ];
    let run = batch_in(&dir, &file, &args, None);
    let interaction = run
        .find("p1", "interaction", "quinine;clarithromycin")
        .expect("quinine + clarithromycin despite the unknown condition");
    assert_eq!(
        (interaction.severity.as_str(), interaction.lines.as_str()),
        ("major", "2;3")
    );
    // The known condition of a list that also names unknown ones is used.
    let qt = run.find("p2", "condition", "quinine").expect("p2 long QT");
    assert_eq!(
        (qt.condition.as_str(), qt.severity.as_str()),
        ("qt-prolongation", "contraindicated")
    );
    // An impossible QTc is not used; the eGFR beside it is.
    let p3: Vec<String> = run
        .rows()
        .into_iter()
        .filter(|r| r.patient == "p3" && r.kind == "condition")
        .map(|r| r.condition)
        .collect();
    assert!(p3.iter().any(|c| c == "severe-renal-impairment"), "{p3:?}");
    assert!(!p3.iter().any(|c| c == "qt-prolongation"), "{p3:?}");
    // Each row is still rejected once, saying what was kept.
    assert_eq!(
        run.rejects,
        [
            (2, "unknown_condition".to_owned(), "conditions".to_owned()),
            (4, "unknown_condition".to_owned(), "conditions".to_owned()),
            (5, "bad_value".to_owned(), "qtc".to_owned()),
            (6, "empty_drug".to_owned(), "drug".to_owned())
        ]
    );
    // A row with no drug gives the known part of its context.
    let p4 = run.find("p4", "condition", "quinine").expect("p4 long QT");
    assert_eq!(
        (p4.condition.as_str(), p4.lines.as_str()),
        ("qt-prolongation", "6;7")
    );
    let rejects = std::fs::read_to_string(dir.path().join("rejects.csv")).expect("rejects");
    assert!(
        rejects.contains("unknown conditions `no-such-condition`, `other-thing`"),
        "{rejects}"
    );
    assert_eq!(
        rejects.matches("its medication is still checked").count(),
        3,
        "{rejects}"
    );
    // The summary counts the rejected rows that were still used in part, the
    // same when the rows wait on disk (standard input).
    assert_eq!(run.count("rows_rejected_partly_used"), 4);
    let piped = batch_in(
        &dir,
        Path::new("-"),
        &args,
        Some(std::fs::read(&file).expect("read")),
    );
    assert_eq!(piped.count("rows_rejected_partly_used"), 4);
    assert_eq!(piped.rows(), run.rows());
}

#[test]
fn context_values_with_their_unit_are_read_and_bounds_are_rejected() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("units.csv");
    std::fs::write(
        &file,
        "patient_id,drug,egfr,qtc,age\n\
         p1,quinine 324 mg daily,45 mL/min/1.73m2,0.48 s,82 years\n\
         p2,quinine 324 mg daily,45,480,82\n\
         p3,quinine 324 mg daily,<15,,\n\
         p4,quinine 324 mg daily,45 furlongs,,\n\
         p5,quinine 324 mg daily,4.5e1,,\n",
    )
    .expect("write");
    let args = ["--egfr-col", "egfr", "--qtc-col", "qtc", "--age-col", "age"];
    let run = batch_in(&dir, &file, &args, None);
    let findings = |patient: &str| -> Vec<(String, String, String)> {
        run.rows()
            .into_iter()
            .filter(|r| r.patient == patient)
            .map(|r| (r.kind, r.condition, r.severity))
            .collect()
    };
    // 0.48 s is 480 ms: QT prolongation, as with the bare numbers.
    assert!(
        findings("p1").contains(&(
            "condition".to_owned(),
            "qt-prolongation".to_owned(),
            "contraindicated".to_owned()
        )),
        "{:?}",
        findings("p1")
    );
    assert_eq!(findings("p1"), findings("p2"));
    // A bound is not a value, and a unit it does not read is not guessed.
    assert_eq!(
        run.rejects,
        [
            (4, "bad_value".to_owned(), "egfr".to_owned()),
            (5, "bad_value".to_owned(), "egfr".to_owned()),
            // `check --egfr 4.5e1` refuses it too.
            (6, "bad_value".to_owned(), "egfr".to_owned())
        ]
    );
    let rejects = std::fs::read_to_string(dir.path().join("rejects.csv")).expect("rejects");
    assert!(rejects.contains("`<15` is not a number"), "{rejects}");
    assert!(
        rejects.contains("`furlongs` is not a unit crampcheck reads for eGFR"),
        "{rejects}"
    );
}

#[test]
fn magnesium_salts_are_checked_as_the_magnesium_therapy() {
    // Magnesium for cramps is dispensed as a salt with an ingredient name of
    // its own; the KB's therapy forms make such rows the magnesium therapy.
    let run = batch(&fixture("magnesium_salts.csv"), &["--egfr-col", "egfr"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let renal = run
        .rows()
        .into_iter()
        .find(|r| r.patient == "p1" && r.condition == "severe-renal-impairment")
        .expect("magnesium oxide at eGFR 20");
    assert_eq!(
        (
            renal.severity.as_str(),
            renal.drugs.as_str(),
            renal.lines.as_str()
        ),
        // The therapy's row, and the row whose eGFR was used (the later of
        // two that agree).
        ("contraindicated", "magnesium oxide", "2;3")
    );
    let chelation = run
        .find("p2", "interaction", "magnesium citrate;doxycycline")
        .expect("magnesium citrate with a tetracycline");
    assert_eq!(chelation.lines, "4;5");
    assert!(
        run.rows().iter().all(|r| r.patient != "p3"),
        "no therapy, no finding"
    );
    let therapies = run.summary["therapies"].as_array().expect("therapies");
    assert!(therapies.iter().any(|t| t == "magnesium oxide"));
}

#[test]
fn a_therapy_under_two_spellings_is_one_therapy_not_a_duplicate() {
    let run = batch(
        &fixture("same_therapy_spellings.csv"),
        &["--start-col", "start", "--stop-col", "stop"],
    );
    assert!(
        run.rows().iter().all(|r| r.kind != "duplicate"),
        "a refill written another way is not duplicate therapy: {:?}",
        run.rows()
    );
    let boxed = run.find("a", "boxed_warning", "quinine").expect("boxed");
    assert_eq!(boxed.lines, "2;3");
    let macrolide = run
        .find("a", "interaction", "quinine;clarithromycin")
        .expect("still checked against the other drug");
    assert_eq!(macrolide.lines, "3;4");
    assert!(
        run.rows().iter().all(|r| r.patient != "c"),
        "{:?}",
        run.rows()
    );
}

#[test]
fn patients_file_gives_the_same_context() {
    let run = batch(
        &fixture("context.csv"),
        &[
            "--patients",
            fixture("patients.csv").to_str().unwrap_or_default(),
        ],
    );
    assert!(run.find("p1", "condition", "quinine").is_some());
    assert!(run.find("p3", "condition", "quinine").is_some());
    assert_eq!(run.find("p2", "condition", "quinine"), None);
    // Context columns of the main file are ignored with --patients: p4's
    // QTc 9000 is not read, so nothing is rejected.
    assert_eq!(run.count("rows_rejected"), 0);
    assert_eq!(run.count("patients_without_context"), 2);
    // A gzipped patients file gives the same context.
    let dir = TempDir::new().expect("temp dir");
    let gz = dir.path().join("patients.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let plain = std::fs::read(fixture("patients.csv")).expect("read");
    std::io::Write::write_all(&mut enc, &plain).expect("compress");
    std::fs::write(&gz, enc.finish().expect("finish")).expect("write");
    let zipped = batch_in(
        &dir,
        &fixture("context.csv"),
        &["--patients", gz.to_str().unwrap_or_default()],
        None,
    );
    assert_eq!(zipped.stdout, run.stdout);
    assert_eq!(zipped.count("patients_without_context"), 2);
}

#[test]
fn a_patient_given_two_different_lab_values_in_the_patients_file_is_an_error() {
    let dir = TempDir::new().expect("temp dir");
    let input = dir.path().join("rx.csv");
    std::fs::write(&input, "patient_id,drug\np1,quinine 324 mg daily\n").expect("write");
    let patients = dir.path().join("patients.csv");
    // Which QTc is current cannot be told: 480 contraindicates quinine.
    std::fs::write(&patients, "patient_id,qtc,age\np1,480,70\np1,400,70\n").expect("write");
    let run = batch_in(
        &dir,
        &input,
        &["--patients", &patients.to_string_lossy()],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("patients.csv:3") && run.stderr.contains("480 on line 2"),
        "{}",
        run.stderr
    );
    // The same value twice, and conditions spread over rows, are one patient.
    std::fs::write(
        &patients,
        "patient_id,qtc,conditions\np1,480,\np1,480,myasthenia gravis\n",
    )
    .expect("write");
    let run = batch_in(
        &dir,
        &input,
        &["--patients", &patients.to_string_lossy()],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.find("p1", "condition", "quinine").is_some());
    let conditions: Vec<String> = run
        .rows()
        .iter()
        .filter(|r| r.kind == "condition")
        .map(|r| r.condition.clone())
        .collect();
    assert!(
        conditions.contains(&"qt-prolongation".to_owned()),
        "{conditions:?}"
    );
    assert!(
        conditions.contains(&"myasthenia-gravis".to_owned()),
        "{conditions:?}"
    );
}

#[test]
fn a_therapy_row_with_a_strength_and_no_schedule_is_not_a_dose_finding() {
    // Exports (RxNorm descriptions) carry no schedule: that is not news for
    // every row. A row that says "as needed" without a schedule is.
    let dir = TempDir::new().expect("temp dir");
    let input = dir.path().join("rx.csv");
    std::fs::write(
        &input,
        "patient_id,drug\np1,Baclofen 10 MG Oral Tablet\np1,oxycodone 5 mg\n\
         p2,baclofen 30 mg as needed\n",
    )
    .expect("write");
    let run = batch_in(&dir, &input, &[], None);
    assert!(
        run.find("p1", "interaction", "baclofen;oxycodone")
            .is_some()
    );
    let doses: Vec<String> = run
        .rows()
        .iter()
        .filter(|r| r.kind == "dose")
        .map(|r| r.patient.clone())
        .collect();
    assert_eq!(doses, ["p2"]);
    // A dose given with --propose is being written, as in `check`: with no
    // schedule, each patient is told it was not checked.
    let run = batch_in(&dir, &input, &["--propose", "baclofen 30 mg"], None);
    let unchecked: Vec<String> = run
        .rows()
        .iter()
        .filter(|r| r.kind == "dose" && r.severity == "info" && r.proposed == "baclofen 30 mg")
        .map(|r| r.patient.clone())
        .collect();
    // p1 lists no dose to report: its finding is the proposed one.
    assert_eq!(
        unchecked.first().map(String::as_str),
        Some("p1"),
        "{unchecked:?}"
    );
}

#[test]
fn out_dash_is_standard_output() {
    let dir = TempDir::new().expect("temp dir");
    let plain = batch_in(&dir, &fixture("basic.csv"), &[], None);
    let dashed = batch_in(&dir, &fixture("basic.csv"), &["--out", "-"], None);
    assert!(!plain.stdout.is_empty());
    assert_eq!(dashed.stdout, plain.stdout);
    assert!(!dir.path().join("-").exists() && !Path::new("-").exists());
}

#[test]
fn a_date_with_words_after_it_is_rejected_and_a_time_is_read_past() {
    let dir = TempDir::new().expect("temp dir");
    let input = dir.path().join("dates.csv");
    std::fs::write(
        &input,
        "patient_id,drug,start,stop\n\
         p1,quinine 324 mg daily,2024-01-01T08:00:00Z,\n\
         p1,clarithromycin 500 mg bid,2024-01-02 garbage,\n\
         p1,warfarin 5 mg daily,2024-01-03 00:00:00 UTC,2024-02-01\n",
    )
    .expect("write");
    let run = batch_in(
        &dir,
        &input,
        &["--start-col", "start", "--stop-col", "stop"],
        None,
    );
    assert_eq!(
        run.rejects
            .iter()
            .map(|(line, reason, _)| (*line, reason.as_str()))
            .collect::<Vec<_>>(),
        [(3, "bad_date")]
    );
    assert!(run.find("p1", "interaction", "quinine;warfarin").is_some());
}

#[test]
fn delimiter_flag_reads_semicolon_and_tab_files() {
    for (file, delimiter) in [("semicolon.csv", ";"), ("tab.tsv", "tab")] {
        let run = batch(&fixture(file), &["--delimiter", delimiter]);
        let found = run
            .find("p1", "interaction", "quinine;clarithromycin")
            .unwrap_or_else(|| panic!("{file}"));
        assert_eq!(found.lines, "2;3");
    }
    // The wrong delimiter reads the header as one column: the error says
    // which delimiter it holds.
    for (file, delimiter, hint) in [
        ("semicolon.csv", ",", "try --delimiter ';'"),
        ("basic.csv", ":", "try --delimiter ','"),
        ("tab.tsv", ";", "try --delimiter 'tab'"),
    ] {
        let run = batch(&fixture(file), &["--delimiter", delimiter]);
        assert_eq!(run.code, 2, "{file}");
        assert!(
            run.stderr.contains("no column `patient_id`"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(hint), "{file}: {}", run.stderr);
        assert_eq!(run.stderr.trim_end().lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn one_column_named_for_two_roles_is_refused() {
    let run = batch(
        &fixture("days_supply.csv"),
        &["--start-col", "fill_date", "--days-supply-col", "FILL_DATE"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("column `fill_date` is given for both --start-col and --days-supply-col"),
        "{}",
        run.stderr
    );
    let run = batch(&fixture("basic.csv"), &["--drug-col", "patient_id"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("both --patient-col and --drug-col"),
        "{}",
        run.stderr
    );
}

#[test]
fn propose_column_checks_each_patients_own_candidate() {
    let run = batch(&fixture("propose_col.csv"), &["--propose-col", "candidate"]);
    assert_eq!(run.summary["mode"], "propose-column");
    let opioid = run
        .find("p1", "interaction", "baclofen;oxycodone")
        .expect("p1");
    assert_eq!(
        (opioid.proposed.as_str(), opioid.lines.as_str()),
        ("baclofen", "2")
    );
    assert!(
        run.find("p2", "interaction", "quinine;clarithromycin")
            .is_some()
    );
    let unknown = run
        .find("p3", "unrecognized", "")
        .expect("p3 proposed unknown");
    assert_eq!(unknown.proposed, "zorblaxitol");
}

#[test]
fn patients_with_no_drug_to_propose_are_counted_as_not_checked() {
    // p4 has a candidate only after hundreds of thousands of other rows (its
    // first rows were checked already, and it is gathered again): it was
    // checked. p5 comes back the same way with no candidate still.
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("candidates.csv");
    let mut text = String::from(
        "patient_id,drug,candidate\np1,warfarin,quinine\np2,warfarin,\np2,lisinopril,\n\
         p3,amoxicillin 500 mg,\np4,warfarin,\np5,warfarin,\n",
    );
    for i in 0..300_000u32 {
        text.push_str(&format!("q{:05},amoxicillin 500 mg,baclofen\n", i / 30));
    }
    text.push_str("p4,amoxicillin 500 mg,quinine\np5,lisinopril,\n");
    std::fs::write(&file, &text).expect("write");
    let args = ["--propose-col", "candidate"];
    let run = batch_in(&dir, &file, &args, None);
    assert_eq!(run.count("patients"), 10_005);
    assert_eq!(
        run.count("patients_without_proposed_drug"),
        3,
        "{}",
        run.summary
    );
    assert!(run.find("p4", "interaction", "quinine;warfarin").is_some());
    let people = Command::cargo_bin("crampcheck")
        .expect("binary")
        .args(["batch", "--propose-col", "candidate", "--out"])
        .arg(dir.path().join("people.csv"))
        .arg(&file)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&people.stderr);
    assert!(
        stderr.contains("not checked  3 patients have no drug to propose on any row"),
        "{stderr}"
    );
    let piped = batch_in(&dir, Path::new("-"), &args, Some(text.into_bytes()));
    assert_eq!(piped.count("patients_without_proposed_drug"), 3);
    // Not a count the other modes have.
    let plain = batch_in(&dir, &file, &[], None);
    assert!(
        plain
            .summary
            .get("patients_without_proposed_drug")
            .is_none()
    );
}

#[test]
fn days_supply_windows_and_bad_dates() {
    let run = batch(
        &fixture("days_supply.csv"),
        &[
            "--start-col",
            "fill_date",
            "--days-supply-col",
            "days_supply",
        ],
    );
    // p1: quinine Jan 1 for 30 days overlaps clarithromycin from Jan 20.
    let overlap = run
        .find("p1", "interaction", "quinine;clarithromycin")
        .expect("p1");
    assert_eq!(overlap.lines, "2;3");
    // p2: clarithromycin starts Jan 31, the day after the 30-day supply ends.
    assert_eq!(
        run.find("p2", "interaction", "quinine;clarithromycin"),
        None
    );
    assert_eq!(
        run.rejects,
        [
            (6, "bad_date".to_owned(), "fill_date".to_owned()),
            (7, "bad_value".to_owned(), "days_supply".to_owned()),
            (8, "bad_value".to_owned(), "days_supply".to_owned())
        ]
    );
    // A supply of 0 days (a reversed claim) is no window: said, not
    // counted as a day.
    assert_eq!(
        run.find("p4", "interaction", "quinine;clarithromycin"),
        None
    );
}

// ---- bad input: each ends in output + rejects + summary that add up ----

fn quinine_clarithromycin(run: &Run) -> String {
    run.find("p1", "interaction", "quinine;clarithromycin")
        .expect("quinine + clarithromycin")
        .lines
}

#[test]
fn byte_order_mark_is_not_part_of_the_first_column_name() {
    let run = batch(&fixture("bom.csv"), &[]);
    assert_eq!(run.count("rows_read"), 2);
    assert_eq!(quinine_clarithromycin(&run), "2;3");
}

#[test]
fn crlf_line_ends_are_read_like_lf() {
    let run = batch(&fixture("crlf.csv"), &[]);
    assert_eq!(run.count("rows_read"), 3);
    assert_eq!(quinine_clarithromycin(&run), "2;3");
    let found = run
        .find("p1", "interaction", "quinine;clarithromycin")
        .expect("found");
    assert_eq!(
        found.proposed, "quinine 324 mg daily",
        "no carriage return left"
    );
}

#[test]
fn carriage_returns_alone_end_lines_and_number_them() {
    // Old Mac exports end lines with CR alone: rows and their line numbers
    // must be those an editor shows, not all "line 1".
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("cr.csv");
    std::fs::write(
        &file,
        "patient_id,drug\rp1,quinine 324 mg daily\rp2,amoxicillin\rp1,clarithromycin 500 mg bid\rp3,\r",
    )
    .expect("write");
    let run = batch_in(&dir, &file, &[], None);
    assert_eq!(run.count("rows_read"), 4);
    assert_eq!(quinine_clarithromycin(&run), "2;4");
    assert_eq!(
        run.rejects
            .iter()
            .map(|(line, reason, _)| (*line, reason.as_str()))
            .collect::<Vec<_>>(),
        [(5, "empty_drug")]
    );
}

#[test]
fn quoted_fields_with_commas_and_newlines() {
    let run = batch(&fixture("quoted.csv"), &[]);
    assert_eq!(run.count("rows_read"), 4);
    assert_eq!(run.count("rows_rejected"), 0);
    // Records start on lines 2, 3, 5 (after a two-line note) and 7.
    assert_eq!(quinine_clarithromycin(&run), "2;3");
    let rifampin = run
        .find("p1", "interaction", "quinine;rifampin")
        .expect("rifampin");
    assert_eq!(rifampin.lines, "2;5");
    assert_eq!(rifampin.proposed, "quinine 324 mg, one capsule");
}

#[test]
fn a_quote_never_closed_rejects_its_row_instead_of_swallowing_the_rest() {
    // The open quote on line 3 runs to the end of the input: patient u's
    // row was once read into t's drug, and u vanished without a trace.
    let dir = TempDir::new().expect("temp dir");
    let text =
        "patient_id,drug\nt,quinine 324 mg daily\nt,\"clarithromycin 500 mg bid\nu,warfarin\n";
    let file = dir.path().join("open-quote.csv");
    std::fs::write(&file, text).expect("write");
    for run in [
        batch_in(&dir, &file, &[], None),
        batch_in(&dir, Path::new("-"), &[], Some(text.as_bytes().to_vec())),
    ] {
        assert_eq!(run.count("rows_read"), 2);
        assert_eq!(run.count("rows_rejected"), 1);
        assert_eq!(
            run.rejects,
            [(3, "unterminated_quote".to_owned(), String::new())]
        );
        assert!(run.find("t", "interaction", "quinine;warfarin").is_none());
        assert_eq!(run.code, 1);
    }
}

#[test]
fn ragged_rows_are_rejected_with_their_line() {
    let run = batch(&fixture("ragged.csv"), &[]);
    assert_eq!(
        run.rejects,
        [
            (3, "ragged_row".to_owned(), String::new()),
            (4, "ragged_row".to_owned(), String::new())
        ]
    );
    assert_eq!(run.count("rows_read"), 4);
    assert_eq!(run.summary["rejected_by_reason"]["ragged_row"], 2);
    assert!(
        run.find("p1", "interaction", "quinine;clarithromycin")
            .is_none()
    );
    assert_eq!(run.code, 1, "rejected rows make the run incomplete");
}

#[test]
fn blank_lines_are_not_rows_and_keep_line_numbers() {
    let run = batch(&fixture("blank_lines.csv"), &[]);
    assert_eq!(run.count("rows_read"), 2);
    assert_eq!(quinine_clarithromycin(&run), "3;6");
}

#[test]
fn invalid_utf8_in_a_used_field_rejects_only_that_row() {
    let run = batch(&fixture("invalid_utf8.csv"), &[]);
    assert_eq!(
        run.rejects,
        [
            (3, "invalid_utf8".to_owned(), "drug".to_owned()),
            (5, "invalid_utf8".to_owned(), "patient_id".to_owned())
        ]
    );
    // Invalid bytes in a column that is not used do not matter.
    let rifampin = run
        .find("p1", "interaction", "quinine;rifampin")
        .expect("rifampin");
    assert_eq!(rifampin.lines, "2;4");
}

#[test]
fn a_ten_megabyte_field_is_rejected_and_the_rest_is_read() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("huge.csv");
    let mut f = std::fs::File::create(&file).expect("create");
    writeln!(f, "patient_id,drug").expect("write");
    writeln!(f, "p1,quinine 324 mg daily").expect("write");
    writeln!(f, "p1,\"{}\"", "x".repeat(10 * 1024 * 1024)).expect("write");
    writeln!(f, "p1,clarithromycin 500 mg bid").expect("write");
    drop(f);
    let run = batch_in(&dir, &file, &[], None);
    assert_eq!(
        run.rejects,
        [(3, "field_too_long".to_owned(), "drug".to_owned())]
    );
    assert_eq!(quinine_clarithromycin(&run), "2;4");
    assert!(run.stdout.len() < 100_000, "the field is not echoed");
}

#[test]
fn an_empty_file_gives_an_empty_report() {
    let run = batch(&fixture("empty.csv"), &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.count("rows_read"), 0);
    assert_eq!(run.rows(), []);
    assert!(
        run.summary["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("empty")
    );
    assert_eq!(
        run.summary["input"]["sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn a_header_only_file_has_no_rows() {
    let run = batch(&fixture("header_only.csv"), &[]);
    assert_eq!(run.code, 0);
    assert_eq!(run.count("rows_read"), 0);
    assert_eq!(run.count("patients"), 0);
    assert_eq!(run.rows(), []);
}

#[test]
fn duplicate_header_names_use_the_first_and_warn() {
    let run = batch(&fixture("duplicate_headers.csv"), &[]);
    assert_eq!(quinine_clarithromycin(&run), "2;3");
    // The second `Drug` column (simvastatin) is not read.
    assert!(run.rows().iter().all(|r| !r.drugs.contains("simvastatin")));
    assert!(
        run.summary["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("`Drug`")
    );
}

#[test]
fn a_patient_whose_rows_are_far_apart_is_checked_as_one() {
    let run = batch(&fixture("far_apart.csv"), &[]);
    assert_eq!(run.count("rows_read"), 82);
    assert_eq!(run.count("patients"), 41);
    assert_eq!(quinine_clarithromycin(&run), "2;83");
    assert_eq!(
        run.rows().iter().filter(|r| r.patient == "p1").count(),
        2,
        "boxed warning and interaction, each once"
    );
    // Read once from stdin (grouped in memory): the same bytes.
    let dir = TempDir::new().expect("temp dir");
    let bytes = std::fs::read(fixture("far_apart.csv")).expect("read");
    let piped = batch_in(&dir, Path::new("-"), &[], Some(bytes));
    assert_eq!(piped.stdout, run.stdout);
    assert_eq!(
        piped.summary["input"]["sha256"],
        run.summary["input"]["sha256"]
    );
}

#[test]
fn unsorted_patient_ids_come_out_sorted() {
    let run = batch(&fixture("unsorted.csv"), &[]);
    let patients: Vec<String> = run.rows().into_iter().map(|r| r.patient).collect();
    let mut sorted = patients.clone();
    sorted.sort();
    assert_eq!(patients, sorted);
    assert_eq!(patients.first().map(String::as_str), Some("p1"));
    assert!(
        run.find("p3", "interaction", "baclofen;oxycodone")
            .is_some()
    );
}

/// Temporary output files (`*.part`) left in `dir`.
fn part_files(dir: &TempDir) -> Vec<std::ffi::OsString> {
    std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|name| name.to_string_lossy().ends_with(".part"))
        .collect()
}

#[test]
fn an_output_file_holds_the_same_bytes_as_stdout_sorted_or_not() {
    // Sorted ids or not, the spool is written out in order to a temporary
    // file renamed onto the target: the file holds what stdout gets, and
    // nothing else is left in the folder.
    let dir = TempDir::new().expect("temp dir");
    for (name, args) in [
        ("unsorted.csv", &[][..]),
        ("basic.csv", &[][..]),
        ("basic.csv", &["--format", "jsonl"][..]),
    ] {
        let out = dir.path().join("findings.out");
        let to_stdout = batch_in(&dir, &fixture(name), args, None);
        let mut with_out = args.to_vec();
        with_out.extend(["--out", out.to_str().unwrap_or_default()]);
        let to_file = batch_in(&dir, &fixture(name), &with_out, None);
        assert!(to_file.stdout.is_empty());
        assert!(!to_stdout.stdout.is_empty(), "{name} {args:?}");
        assert_eq!(
            std::fs::read(&out).expect("read output"),
            to_stdout.stdout,
            "{name} {args:?}"
        );
        let parts = part_files(&dir);
        assert!(parts.is_empty(), "{parts:?}");
    }
}

// ---- determinism, atomic output, gzip, hashing ----

/// A shuffled file of many patients, written deterministically.
fn shuffled_file(dir: &TempDir) -> PathBuf {
    let meds = [
        "quinine 324 mg daily",
        "clarithromycin 500 mg bid",
        "rifampin 300 mg",
        "baclofen 10 mg tid",
        "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet",
        "simvastatin 20 mg",
        "furosemide 40 mg",
        "amoxicillin 500 mg",
        "zorblaxitol 5 mg",
    ];
    let mut rows = Vec::new();
    let mut x: u64 = 42;
    for i in 0..3000u64 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        rows.push(format!(
            "p{:04},{}",
            (x >> 33) % 400,
            meds[(i as usize + (x >> 40) as usize) % meds.len()]
        ));
    }
    let file = dir.path().join("shuffled.csv");
    std::fs::write(&file, format!("patient_id,drug\n{}\n", rows.join("\n"))).expect("write");
    file
}

#[test]
fn output_is_the_same_bytes_whatever_the_thread_count() {
    let dir = TempDir::new().expect("temp dir");
    let file = shuffled_file(&dir);
    let one = batch_in(&dir, &file, &["--threads", "1"], None);
    let two = batch_in(&dir, &file, &["--threads", "2"], None);
    let four = batch_in(&dir, &file, &["--threads", "4", "--format", "csv"], None);
    assert!(one.count("findings") > 100);
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stdout, four.stdout);
    let piped = batch_in(
        &dir,
        Path::new("-"),
        &[],
        Some(std::fs::read(&file).expect("read")),
    );
    assert_eq!(piped.stdout, one.stdout);
    assert_eq!(one.count("patients"), 400);
    let by_kind: BTreeMap<String, u64> =
        serde_json::from_value(one.summary["findings_by_kind"].clone()).expect("map");
    assert_eq!(by_kind.values().sum::<u64>(), one.count("findings"));
}

#[test]
fn outputs_are_written_atomically() {
    let dir = TempDir::new().expect("temp dir");
    let out = dir.path().join("findings.csv");
    std::fs::write(&out, "previous content\n").expect("write");
    // A failed run (missing column) leaves the target untouched and no
    // temporary file behind.
    let failed = batch_in(
        &dir,
        &fixture("basic.csv"),
        &[
            "--out",
            out.to_str().unwrap_or_default(),
            "--drug-col",
            "nope",
        ],
        None,
    );
    assert_eq!(failed.code, 2);
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "previous content\n"
    );
    let leftovers = part_files(&dir);
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A successful run replaces it, and prints nothing on stdout.
    let ok = batch_in(
        &dir,
        &fixture("basic.csv"),
        &["--out", out.to_str().unwrap_or_default()],
        None,
    );
    assert_eq!(ok.code, 1);
    assert!(ok.stdout.is_empty());
    let written = std::fs::read_to_string(&out).expect("read");
    assert!(written.starts_with("patient_id,proposed,kind"));
    assert_eq!(written.lines().count() as u64, ok.count("findings") + 1);
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_temporary_file_and_the_targets_as_they_were() {
    for signal in ["INT", "TERM"] {
        let dir = TempDir::new().expect("temp dir");
        let out = dir.path().join("findings.csv");
        let rejects = dir.path().join("rejects.csv");
        std::fs::write(&out, "previous content\n").expect("write");
        let binary = assert_cmd::cargo::cargo_bin("crampcheck");
        let mut child = std::process::Command::new(binary)
            .args(["batch", "-", "--quiet", "--out"])
            .arg(&out)
            .arg("--rejects")
            .arg(&rejects)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn");
        // Standard input stays open: the run is under way until the signal
        // comes, the rejects under a temporary name and the findings in an
        // anonymous spool (no name, so nothing to leave behind).
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(b"patient_id,drug\np1,quinine\np1,clarithromycin\n")
            .expect("write rows");
        let started = std::time::Instant::now();
        while part_files(&dir).is_empty() && started.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(part_files(&dir).len(), 1, "the rejects are being written");
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
        let done = child.wait_with_output().expect("wait");
        drop(stdin);
        assert_eq!(done.status.code(), Some(130), "SIG{signal}");
        assert!(String::from_utf8_lossy(&done.stderr).contains("interrupted"));
        assert!(part_files(&dir).is_empty(), "{:?}", part_files(&dir));
        assert_eq!(
            std::fs::read_to_string(&out).expect("read"),
            "previous content\n"
        );
        assert!(!rejects.exists());
    }
}

#[test]
fn an_output_that_would_overwrite_an_input_or_another_output_is_refused() {
    let dir = TempDir::new().expect("temp dir");
    let input = dir.path().join("in.csv");
    std::fs::copy(fixture("basic.csv"), &input).expect("copy");
    let original = std::fs::read(&input).expect("read");
    let in_dir = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let cases: [(&[&str], &str); 3] = [
        (&["--out", &in_dir("in.csv")], "--out"),
        // The same file under another spelling is still the same file.
        (
            &["--out", &in_dir("./x.csv"), "--rejects", &in_dir("x.csv")],
            "--rejects",
        ),
        (
            &[
                "--out",
                &in_dir("y.csv"),
                "--summary-json",
                &in_dir("y.csv"),
            ],
            "--summary-json",
        ),
    ];
    for (args, flag) in cases {
        let out = Command::cargo_bin("crampcheck")
            .expect("binary")
            .arg("batch")
            .arg(&input)
            .args(args)
            .arg("--quiet")
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("same file"),
            "{stderr}"
        );
    }
    assert_eq!(std::fs::read(&input).expect("read"), original);
    assert!(!dir.path().join("x.csv").exists() && !dir.path().join("y.csv").exists());
    // Devices may be shared.
    let shared = Command::cargo_bin("crampcheck")
        .expect("binary")
        .arg("batch")
        .arg(&input)
        .args(["--out", "/dev/null", "--rejects", "/dev/null", "--quiet"])
        .output()
        .expect("run");
    assert_eq!(shared.status.code(), Some(1));
}

#[cfg(target_os = "linux")]
#[test]
fn a_pipe_named_as_the_input_is_read_once_like_standard_input() {
    // `batch <(zcat x.gz)` or `batch /dev/stdin`: the path is a pipe, which
    // cannot be opened twice (once to read, once to hash) or read again.
    let bytes = std::fs::read(fixture("basic.csv")).expect("fixture");
    let dir = TempDir::new().expect("temp dir");
    let piped = batch_in(&dir, Path::new("/dev/stdin"), &[], Some(bytes.clone()));
    let file = batch(&fixture("basic.csv"), &[]);
    assert_eq!(piped.code, file.code, "{}", piped.stderr);
    assert_eq!(piped.stdout, file.stdout);
    assert_eq!(
        piped.summary["input"]["sha256"],
        file.summary["input"]["sha256"]
    );
    assert_eq!(piped.count("rows_read"), file.count("rows_read"));
}

#[cfg(target_os = "linux")]
#[test]
fn standard_input_from_a_file_is_not_overwritten_and_side_outputs_need_files() {
    let dir = TempDir::new().expect("temp dir");
    let input = dir.path().join("in.csv");
    std::fs::copy(fixture("basic.csv"), &input).expect("copy");
    let original = std::fs::read(&input).expect("read");
    let run = |args: &[&str]| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("crampcheck"))
            .arg("batch")
            .arg("-")
            .args(args)
            .arg("--quiet")
            .stdin(std::fs::File::open(&input).expect("open"))
            .output()
            .expect("run")
    };
    let out = run(&["--out", &input.to_string_lossy()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("same file as the input"));
    assert_eq!(std::fs::read(&input).expect("read"), original);
    for flag in ["--rejects", "--summary-json"] {
        let out = run(&[flag, "-"]);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is standard output"),
            "{flag}"
        );
    }
}

#[cfg(unix)]
#[test]
fn an_output_that_is_standard_output_under_another_name_is_refused() {
    let dir = TempDir::new().expect("temp dir");
    let findings = dir.path().join("findings.csv");
    let run = |stdout: std::process::Stdio, flag: &str, path: &Path| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("crampcheck"))
            .arg("batch")
            .arg(fixture("basic.csv"))
            .args([flag, &path.to_string_lossy(), "--quiet"])
            .stdout(stdout)
            .output()
            .expect("run")
    };
    // A pipe: `/dev/stdout` would mix the summary into the findings.
    for flag in ["--summary-json", "--rejects"] {
        let out = run(std::process::Stdio::piped(), flag, Path::new("/dev/stdout"));
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("is standard output"), "{stderr}");
        assert!(out.stdout.is_empty(), "{flag}");
    }
    // The file the shell sends standard output to: renaming the summary
    // onto it would lose the findings.
    std::fs::write(&findings, "").expect("write");
    let out = run(
        std::fs::File::create(&findings).expect("create").into(),
        "--summary-json",
        &findings,
    );
    assert_eq!(out.status.code(), Some(2));
    // Another file: runs.
    let summary = dir.path().join("summary.json");
    let out = run(
        std::fs::File::create(&findings).expect("create").into(),
        "--summary-json",
        &summary,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        std::fs::read_to_string(&findings)
            .expect("read")
            .contains("quinine")
    );
}

#[cfg(unix)]
#[test]
fn an_output_through_a_symbolic_link_replaces_the_file_not_the_link() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new().expect("temp dir");
    let real = dir.path().join("real.csv");
    std::fs::write(&real, "old\n").expect("write");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let run = batch_in(
        &dir,
        &fixture("basic.csv"),
        &["--out", &link.to_string_lossy()],
        None,
    );
    assert_eq!(run.code, 1);
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("stat")
            .file_type()
            .is_symlink()
    );
    let written = std::fs::read_to_string(&real).expect("read");
    assert!(written.starts_with("patient_id,proposed,kind"), "{written}");
    // The replaced file keeps its permissions; a new one is not private.
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&real), 0o640);
    assert_eq!(
        mode(&dir.path().join("rejects.csv")) & 0o044,
        0o044 & !umask_of_a_new_file(&dir)
    );
    // A link that leads nowhere is an error, not a file put in its place.
    let dangling = dir.path().join("dangling.csv");
    std::os::unix::fs::symlink(dir.path().join("missing/x.csv"), &dangling).expect("symlink");
    let run = batch_in(
        &dir,
        &fixture("basic.csv"),
        &["--out", &dangling.to_string_lossy()],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        std::fs::symlink_metadata(&dangling)
            .expect("stat")
            .file_type()
            .is_symlink()
    );
}

/// The permission bits the umask takes from a new file, seen on a file the
/// test process creates itself.
#[cfg(unix)]
fn umask_of_a_new_file(dir: &TempDir) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.path().join("probe");
    std::fs::write(&probe, "").expect("write");
    let mode = std::fs::metadata(&probe)
        .expect("stat")
        .permissions()
        .mode()
        & 0o777;
    0o666 & !mode
}

#[test]
fn gzip_input_is_read_and_its_raw_bytes_hashed() {
    let dir = TempDir::new().expect("temp dir");
    let plain = std::fs::read(fixture("synthea_medications.csv")).expect("read");
    let gz_path = dir.path().join("medications.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).expect("compress");
    let gz = enc.finish().expect("finish");
    std::fs::write(&gz_path, &gz).expect("write");
    let from_gz = batch_in(&dir, &gz_path, &SYNTHEA, None);
    let from_plain = batch(&fixture("synthea_medications.csv"), &SYNTHEA);
    assert_eq!(from_gz.stdout, from_plain.stdout);
    assert_eq!(from_gz.count("rows_read"), 9);
    let hex = |bytes: &[u8]| {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(from_gz.summary["input"]["sha256"], hex(&gz));
    assert_eq!(from_plain.summary["input"]["sha256"], hex(&plain));
    assert_eq!(from_gz.summary["input"]["bytes"], gz.len() as u64);
}

#[test]
fn summary_on_stderr_for_people() {
    let out = Command::cargo_bin("crampcheck")
        .expect("binary")
        .args(["batch"])
        .arg(fixture("ragged.csv"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("4 read = 2 checked + 2 rejected"),
        "{stderr}"
    );
    assert!(stderr.contains("ragged_row 2"), "{stderr}");
    // Not a terminal: no progress bar characters.
    assert!(!stderr.contains("rows read  "), "{stderr}");
}

#[test]
fn batch_finds_what_check_finds_on_a_long_list() {
    let meds = [
        "clarithromycin 500 mg bid",
        "Biaxin 250 mg",
        "rifampin 300 mg daily",
        "simvastatin 40 mg",
        "furosemide 40 mg daily",
        "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet",
        "baclofen 40 mg qid",
        "amoxicillin 500 mg tid",
        "quinine 324 mg",
    ];
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("one.csv");
    let mut text = String::from("patient_id,drug\n");
    for m in meds {
        text.push_str(&format!("p1,{m}\n"));
    }
    std::fs::write(&file, text).expect("write");
    let run = batch_in(
        &dir,
        &file,
        &["--propose", "quinine 324 mg tid", "--format", "jsonl"],
        None,
    );
    let from_batch: Vec<(String, String, String, String)> = run
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: Value = serde_json::from_slice(l).expect("JSON line");
            (
                v["kind"].to_string(),
                v["severity"].to_string(),
                v["drugs"].to_string(),
                v["title"].to_string(),
            )
        })
        .collect();
    let mut check = Command::cargo_bin("crampcheck").expect("binary");
    check.args([
        "check",
        "--propose",
        "quinine 324 mg tid",
        "--format",
        "json",
    ]);
    for m in meds {
        check.args(["--med", m]);
    }
    let doc: Value = serde_json::from_slice(&check.output().expect("check").stdout).expect("JSON");
    let from_check: Vec<(String, String, String, String)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].to_string(),
                f["severity"].to_string(),
                f["drugs"].to_string(),
                f["title"].to_string(),
            )
        })
        .collect();
    assert!(from_check.len() >= 6, "{from_check:?}");
    assert_eq!(from_batch, from_check);
}

/// Quinine for p1, then 300,000 rows of 10,000 other patients (30 rows
/// each, contiguous): more than the reader holds back before checking.
fn p1_then_300_000_rows() -> String {
    let mut text = String::from("patient_id,drug\np1,quinine 324 mg daily\n");
    for i in 0..300_000u32 {
        text.push_str(&format!("q{:05},amoxicillin 500 mg\n", i / 30));
    }
    text
}

#[test]
fn a_patient_back_after_hundreds_of_thousands_of_rows_is_gathered_again() {
    // More rows between the two visits than the reader holds back, so the
    // first part of p1 has been checked already and the file is read again.
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("long.csv");
    let mut text = p1_then_300_000_rows();
    text.push_str("p1,clarithromycin 500 mg bid\n");
    std::fs::write(&file, &text).expect("write");
    let run = batch_in(&dir, &file, &[], None);
    assert_eq!(run.count("rows_read"), 300_002);
    assert_eq!(run.count("patients"), 10_001);
    let found = run
        .find("p1", "interaction", "quinine;clarithromycin")
        .expect("quinine + clarithromycin");
    assert_eq!(found.lines, "2;300003");
    assert_eq!(run.rows().iter().filter(|r| r.patient == "p1").count(), 2);
    assert_eq!(
        run.summary["warnings"][0],
        "1 patient(s) had rows again after their earlier rows were checked: the file was read a \
         second time to check each of them as one list"
    );
    let piped = batch_in(&dir, Path::new("-"), &[], Some(text.into_bytes()));
    assert_eq!(piped.stdout, run.stdout);
}

#[test]
fn a_patient_back_just_as_held_groups_are_handed_over_keeps_every_row() {
    // p1's second row arrives when the groups held back fill a hand-over:
    // taking p1's group back must not lose the row (it once was counted as
    // checked and dropped, and the major interaction with it).
    let dir = TempDir::new().expect("temp dir");
    for between in [65_534u32, 65_535, 65_536] {
        let file = dir.path().join(format!("back-{between}.csv"));
        let mut text = String::from("patient_id,drug\np1,quinine 324 mg daily\n");
        for _ in 0..between {
            text.push_str("p2,amoxicillin 500 mg\n");
        }
        text.push_str("p1,clarithromycin 500 mg bid\n");
        std::fs::write(&file, &text).expect("write");
        let run = batch_in(&dir, &file, &[], None);
        assert_eq!(run.count("rows_read"), u64::from(between) + 2);
        assert_eq!(run.count("rows_checked"), u64::from(between) + 2);
        let found = run
            .find("p1", "interaction", "quinine;clarithromycin")
            .unwrap_or_else(|| panic!("{between} rows apart: quinine + clarithromycin lost"));
        assert_eq!(
            found.lines,
            format!("2;{}", between + 3),
            "{between} rows apart"
        );
    }
}

#[test]
fn writing_to_dev_null_keeps_it_a_device() {
    use std::os::unix::fs::FileTypeExt;
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/batch/basic.csv");
    let out = Command::cargo_bin("crampcheck")
        .unwrap_or_else(|e| panic!("binary: {e}"))
        .arg("batch")
        .arg(&fixture)
        .args([
            "--out",
            "/dev/null",
            "--summary-json",
            "/dev/null",
            "--quiet",
        ])
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = std::fs::metadata("/dev/null").unwrap_or_else(|e| panic!("stat: {e}"));
    assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
}

#[test]
fn scattered_rows_wait_on_disk_and_give_what_contiguous_rows_give() {
    // The same rows twice: each patient's rows together (checked as read),
    // and dealt out round by round (rows of 1,500 patients scattered, so
    // they wait in the spill until the end). Findings must be the same,
    // once the scattered file's line numbers are mapped back.
    let dir = TempDir::new().expect("temp dir");
    let meds = [
        "quinine 324 mg daily",
        "clarithromycin 500 mg bid",
        "baclofen 10 mg tid",
        "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet",
        "simvastatin 20 mg",
        "zorblaxitol 5 mg",
    ];
    let (patients, per_patient) = (1500usize, 4usize);
    let row = |p: usize, k: usize| -> String {
        let egfr = if k == 1 {
            format!("{}", 20 + p % 70)
        } else {
            String::new()
        };
        let conditions = if k == 2 && p.is_multiple_of(3) {
            "myasthenia gravis"
        } else {
            ""
        };
        format!(
            "p{p:04},{},{egfr},{conditions}",
            meds[(p * 7 + k * 3) % meds.len()]
        )
    };
    let header = "patient_id,drug,egfr,conditions\n";
    let mut contiguous = String::from(header);
    for p in 0..patients {
        for k in 0..per_patient {
            contiguous.push_str(&row(p, k));
            contiguous.push('\n');
        }
    }
    let mut scattered = String::from(header);
    for k in 0..per_patient {
        for p in 0..patients {
            scattered.push_str(&row(p, k));
            scattered.push('\n');
        }
    }
    let (a, b) = (dir.path().join("a.csv"), dir.path().join("b.csv"));
    std::fs::write(&a, &contiguous).expect("write");
    std::fs::write(&b, &scattered).expect("write");
    let args = ["--egfr-col", "egfr", "--conditions-col", "conditions"];
    let together = batch_in(&dir, &a, &args, None);
    let apart = batch_in(&dir, &b, &args, None);
    assert_eq!(apart.count("rows_read"), (patients * per_patient) as u64);
    // The file's layout is reported, so it can be grouped by patient next
    // time; standard input waits on disk whatever its layout, unreported.
    assert_eq!(together.summary["warnings"], serde_json::json!([]));
    let warning = apart.summary["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with("the rows of many patients are scattered (noticed after 2500 rows)"),
        "{warning}"
    );
    assert_eq!(apart.count("patients"), patients as u64);
    assert!(together.count("findings") > 1000);
    let back = |line: u64| -> u64 {
        let (k, p) = ((line - 2) / patients as u64, (line - 2) % patients as u64);
        2 + p * per_patient as u64 + k
    };
    let remapped = |run: &Run| -> Vec<Row> {
        run.rows()
            .into_iter()
            .map(|mut r| {
                let mut lines: Vec<u64> = r
                    .lines
                    .split(';')
                    .map(|l| back(l.parse().expect("line")))
                    .collect();
                lines.sort_unstable();
                r.lines = lines
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(";");
                r
            })
            .collect()
    };
    assert_eq!(remapped(&apart), together.rows());
    assert!(
        together
            .rows()
            .iter()
            .any(|r| r.kind == "condition" && r.condition == "myasthenia-gravis"),
        "the conditions column reached the check"
    );
    assert!(
        together
            .rows()
            .iter()
            .any(|r| r.kind == "condition" && r.condition == "renal-impairment"),
        "the eGFR column reached the check"
    );
    let piped = batch_in(
        &dir,
        Path::new("-"),
        &args,
        Some(scattered.clone().into_bytes()),
    );
    assert_eq!(piped.stdout, apart.stdout);
    assert_eq!(piped.summary["warnings"], serde_json::json!([]));
    // Without context columns, spilled rows are routed on a thread of
    // their own: the same findings again.
    let together = batch_in(&dir, &a, &[], None);
    let apart = batch_in(&dir, &b, &[], None);
    assert!(together.count("findings") >= 1000);
    assert_eq!(apart.count("rows_checked"), (patients * per_patient) as u64);
    assert_eq!(remapped(&apart), together.rows());
    let piped = batch_in(&dir, Path::new("-"), &[], Some(scattered.into_bytes()));
    assert_eq!(piped.stdout, apart.stdout);
}

#[test]
fn a_terminal_gets_a_progress_bar_with_rows_per_second_and_a_pipe_does_not() {
    // `script` (util-linux, on every Debian system) runs the binary on a
    // pseudo-terminal and copies what it draws to its own stdout.
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("many.csv");
    let mut text = String::from("patient_id,drug\n");
    for i in 0..200_000u32 {
        text.push_str(&format!("p{:05},amoxicillin 500 mg\n", i / 20));
    }
    std::fs::write(&file, &text).expect("write");
    let bin = assert_cmd::cargo::cargo_bin("crampcheck");
    let out = dir.path().join("findings.csv");
    let on_terminal = |extra: &str| -> String {
        let command = format!(
            "'{}' batch '{}' --out '{}' {extra}",
            bin.display(),
            file.display(),
            out.display()
        );
        // A terminal that can redraw a line (with TERM unset or `dumb`,
        // indicatif rightly draws nothing).
        let run = std::process::Command::new("script")
            .args(["-qefc", &command, "/dev/null"])
            .env("TERM", "xterm")
            .output()
            .expect("script (util-linux) runs");
        assert_eq!(run.status.code(), Some(0), "{run:?}");
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    let drawn = on_terminal("");
    assert!(drawn.contains("65,536 rows read"), "{drawn}");
    assert!(drawn.contains(" rows/s "), "{drawn}");
    assert!(drawn.contains("200,000 read = 200,000 checked + 0 rejected"));
    let quiet = on_terminal("--quiet");
    assert!(!quiet.contains("rows read"), "{quiet}");
    let piped = batch(&file, &[]);
    assert_eq!(piped.code, 0);
    let plain = Command::cargo_bin("crampcheck")
        .expect("binary")
        .arg("batch")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&plain.stderr);
    assert!(!stderr.contains("rows read"), "{stderr}");
    assert!(
        stderr.contains("200,000 read = 200,000 checked"),
        "{stderr}"
    );
}

#[test]
fn a_patient_checked_early_and_back_after_rows_start_to_scatter_is_gathered_again() {
    // p1 is checked with the first contiguous patients; then the rows of
    // 1,500 patients scatter (rows start waiting on disk); then p1 comes
    // back. Its early result must be dropped and all its rows checked
    // together, from the second read, through the spill.
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("mixed.csv");
    let mut text = p1_then_300_000_rows();
    for round in 0..2 {
        for p in 0..1500u32 {
            let drug = if round == 0 {
                "baclofen 10 mg tid"
            } else {
                "oxycodone 5 mg"
            };
            text.push_str(&format!("r{p:04},{drug}\n"));
        }
    }
    text.push_str("p1,clarithromycin 500 mg bid\n");
    std::fs::write(&file, &text).expect("write");
    let run = batch_in(&dir, &file, &[], None);
    assert_eq!(run.count("rows_read"), 303_002);
    assert_eq!(run.count("patients"), 11_501);
    let last_line = 303_003;
    let found = run
        .find("p1", "interaction", "quinine;clarithromycin")
        .expect("quinine + clarithromycin");
    assert_eq!(found.lines, format!("2;{last_line}"));
    // The early, single-row result of p1 is gone: one row per finding.
    let p1: Vec<Row> = run
        .rows()
        .into_iter()
        .filter(|r| r.patient == "p1")
        .collect();
    assert_eq!(
        p1.iter().filter(|r| r.kind == "interaction").count(),
        1,
        "{p1:?}"
    );
    let r7 = run
        .find("r0007", "interaction", "baclofen;oxycodone")
        .expect("baclofen + oxycodone for a scattered patient");
    assert_eq!(r7.lines, format!("{};{}", 300_002 + 8, 300_002 + 1500 + 8));
    let piped = batch_in(&dir, Path::new("-"), &[], Some(text.into_bytes()));
    assert_eq!(piped.stdout, run.stdout);
}

#[test]
fn a_dose_finding_is_reported_once_with_its_own_rows_when_a_patient_takes_two_therapies() {
    // Each therapy is checked as proposed, and beside every other therapy
    // it is a listed medication whose dose is checked again: one finding,
    // on the therapy's own rows, filed under the therapy.
    let run = batch(
        &fixture("two_therapies_doses.csv"),
        &["--jurisdiction", "UK"],
    );
    let doses: Vec<Row> = run
        .rows()
        .into_iter()
        .filter(|r| r.kind == "dose")
        .collect();
    let of = |patient: &str, drug: &str| -> Vec<&Row> {
        doses
            .iter()
            .filter(|r| r.patient == patient && r.drugs == drug)
            .collect()
    };
    let baclofen = of("p1", "baclofen");
    assert_eq!(baclofen.len(), 1, "{doses:#?}");
    assert_eq!(
        (baclofen[0].lines.as_str(), baclofen[0].proposed.as_str()),
        ("3", "baclofen 30 mg qid")
    );
    let quinine = of("p1", "quinine");
    assert_eq!(quinine.len(), 1, "{doses:#?}");
    assert_eq!(quinine[0].lines, "2");
    // A dose that could not be read is said once too.
    let unread = of("p2", "baclofen");
    assert_eq!(unread.len(), 1, "{doses:#?}");
    assert_eq!(
        (unread[0].lines.as_str(), unread[0].proposed.as_str()),
        ("6", "baclofen 10 mg tid x 5")
    );
    // p2's 324 mg of quinine a day is above the UK cramp maximum.
    assert_eq!(of("p2", "quinine").len(), 1, "{doses:#?}");
    assert_eq!(
        run.summary["findings_by_kind"]["dose"], 4,
        "{}",
        run.summary
    );
}

#[test]
fn a_lab_value_on_a_row_rejected_for_its_medication_still_applies_to_the_patient() {
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("labs.csv");
    std::fs::write(
        &file,
        "patient_id,drug,start,egfr\n\
         p1,,2024-01-01,25\n\
         p1,baclofen 10 mg tid,2024-01-01,\n\
         p2,oxycodone 5 mg,not a date,20\n\
         p2,baclofen 10 mg tid,2024-01-01,\n\
         p3,,2024-01-01,abc\n\
         p3,baclofen 10 mg tid,2024-01-01,\n\
         p5,,2024-01-01,30\n",
    )
    .expect("write");
    let run = batch_in(
        &dir,
        &file,
        &["--start-col", "start", "--egfr-col", "egfr"],
        None,
    );
    // The rows stay rejected, and say that their context was used. An id
    // whose every row was rejected is no patient: nothing to check.
    assert_eq!(run.count("rows_rejected"), 4);
    assert_eq!(run.count("patients"), 3);
    assert!(!run.rows().iter().any(|r| r.patient == "p5"));
    let rejects = std::fs::read_to_string(dir.path().join("rejects.csv")).expect("rejects");
    let detail = |line: &str| -> &str {
        rejects
            .lines()
            .find(|r| r.starts_with(&format!("{line},")))
            .unwrap_or_default()
    };
    assert!(
        detail("2").contains("is kept for the patient's other rows"),
        "{rejects}"
    );
    assert!(
        detail("4").contains("is kept for the patient's other rows"),
        "{rejects}"
    );
    // A bad value on a row without a drug: the row is rejected for its
    // first fault and says the second.
    assert!(detail("6").starts_with("6,empty_drug,drug,"), "{rejects}");
    assert!(
        detail("6").contains("its egfr could not be used either"),
        "{rejects}"
    );
    assert!(!detail("6").contains("is used with"), "{rejects}");
    let renal = |patient: &str| {
        run.rows()
            .into_iter()
            .any(|r| r.patient == patient && r.condition == "renal-impairment")
    };
    assert!(renal("p1") && renal("p2"), "{:#?}", run.rows());
    assert!(!renal("p3"));
    // The same when the rows are scattered (they wait on disk) and when they
    // come through standard input.
    let header = "patient_id,drug,egfr\n";
    let mut scattered = String::from(header);
    for round in 0..2 {
        for p in 0..1500u32 {
            match round {
                0 => scattered.push_str(&format!("q{p:04},,25\n")),
                _ => scattered.push_str(&format!("q{p:04},baclofen 10 mg tid,\n")),
            }
        }
    }
    let apart = dir.path().join("apart.csv");
    std::fs::write(&apart, &scattered).expect("write");
    let run = batch_in(&dir, &apart, &["--egfr-col", "egfr"], None);
    assert_eq!(run.count("rows_rejected"), 1500);
    let with_renal = run
        .rows()
        .iter()
        .filter(|r| r.condition == "renal-impairment")
        .count();
    assert_eq!(with_renal, 1500);
    let piped = batch_in(
        &dir,
        Path::new("-"),
        &["--egfr-col", "egfr"],
        Some(scattered.into_bytes()),
    );
    assert_eq!(piped.stdout, run.stdout);
    // With a drug proposed for every patient, an id whose every row was
    // rejected (the odd ones here) is still no patient, whatever the file's
    // layout; the others meet their context.
    let rows = |p: u32, round: u32| match (round, p % 2) {
        (0, _) => format!("s{p:04},,25\n"),
        (_, 0) => format!("s{p:04},amoxicillin 500 mg,\n"),
        _ => format!("s{p:04},,\n"),
    };
    let mut together = String::from(header);
    let mut apart = String::from(header);
    for p in 0..3000u32 {
        together.push_str(&rows(p, 0));
        together.push_str(&rows(p, 1));
    }
    for round in 0..2 {
        for p in 0..3000u32 {
            apart.push_str(&rows(p, round));
        }
    }
    let args = ["--egfr-col", "egfr", "--propose", "baclofen"];
    let mut outputs = Vec::new();
    for (name, text) in [("together.csv", together), ("apart.csv", apart)] {
        let file = dir.path().join(name);
        std::fs::write(&file, &text).expect("write");
        let run = batch_in(&dir, &file, &args, None);
        assert_eq!(run.count("patients"), 1500, "{name}");
        let scattered = run.summary["warnings"].to_string().contains("scattered");
        assert_eq!(scattered, name == "apart.csv", "{}", run.summary);
        let renal: Vec<String> = run
            .rows()
            .into_iter()
            .filter(|r| r.condition == "renal-impairment")
            .map(|r| r.patient)
            .collect();
        assert_eq!(renal.len(), 1500, "{name}");
        outputs.push(renal);
    }
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn rows_that_disagree_on_a_lab_value_are_counted_and_the_latest_by_date_is_used() {
    let dir = TempDir::new().expect("temp dir");
    // Each patient's newer eGFR (25, 2024) and older one (95, 2019), the
    // older one later in the file for even patients; then the same rows
    // scattered, so that they wait on disk.
    let row = |p: u32, newer: bool| match newer {
        true => format!("d{p:04},amoxicillin 500 mg,2024-06-01,25\n"),
        false => format!("d{p:04},metoprolol 50 mg bid,2019-01-01,95\n"),
    };
    let header = "patient_id,drug,start,egfr\n";
    let (mut together, mut apart) = (String::from(header), String::from(header));
    for p in 0..3000u32 {
        let even = p % 2 == 0;
        together.push_str(&row(p, even));
        together.push_str(&row(p, !even));
    }
    for round in 0..2 {
        for p in 0..3000u32 {
            apart.push_str(&row(p, (p % 2 == 0) == (round == 0)));
        }
    }
    let dated = [
        "--start-col",
        "start",
        "--egfr-col",
        "egfr",
        "--propose",
        "baclofen",
    ];
    for (name, text) in [("together.csv", &together), ("apart.csv", &apart)] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).expect("write");
        let run = batch_in(&dir, &file, &dated, None);
        assert_eq!(
            run.summary["patients_with_conflicting_values"],
            serde_json::json!({"egfr": 3000}),
            "{name}"
        );
        let warnings = run.summary["warnings"].to_string();
        assert!(
            warnings.contains("latest start date was used"),
            "{warnings}"
        );
        assert_eq!(
            warnings.contains("scattered"),
            name == "apart.csv",
            "{warnings}"
        );
        let renal = run
            .rows()
            .iter()
            .filter(|r| r.condition == "renal-impairment")
            .count();
        assert_eq!(renal, 3000, "{name}: the 2024 value is used");
    }
    // Without dates, the later row's value is used, and said so.
    let undated = dir.path().join("undated.csv");
    std::fs::write(
        &undated,
        "patient_id,drug,egfr\np1,amoxicillin,25\np1,clarithromycin,90\n",
    )
    .expect("write");
    let run = batch_in(
        &dir,
        &undated,
        &["--egfr-col", "egfr", "--propose", "baclofen"],
        None,
    );
    assert_eq!(
        run.summary["patients_with_conflicting_values"],
        serde_json::json!({"egfr": 1})
    );
    assert!(
        run.summary["warnings"]
            .to_string()
            .contains("the later row was used")
    );
    assert!(!run.rows().iter().any(|r| r.condition == "renal-impairment"));
    // A row rejected for its drug or days' supply keeps its start date: a
    // lab row with no drug can be the latest. A row whose date cannot be
    // read counts as the earliest.
    let dated = dir.path().join("dated.csv");
    for text in [
        "p1,baclofen 10 mg tid,2019-01-01,80\np1,,2024-06-01,12\n",
        "p1,baclofen 10 mg tid,2024-06-01,12\np1,,,80\n",
        "p1,baclofen 10 mg tid,2024-06-01,12\np1,,2024-13-01,80\n",
    ] {
        std::fs::write(&dated, format!("patient_id,drug,start,egfr\n{text}")).expect("write");
        let run = batch_in(
            &dir,
            &dated,
            &["--start-col", "start", "--egfr-col", "egfr"],
            None,
        );
        assert_eq!(
            run.summary["patients_with_conflicting_values"],
            serde_json::json!({"egfr": 1}),
            "{text}"
        );
        assert!(
            run.rows()
                .iter()
                .any(|r| r.condition == "end-stage-renal-disease"),
            "{text}: eGFR 12 is used: {:#?}",
            run.rows()
        );
    }
    // Rows that agree are no conflict.
    std::fs::write(
        &undated,
        "patient_id,drug,egfr\np1,amoxicillin,25\np1,clarithromycin,25\n",
    )
    .expect("write");
    let run = batch_in(&dir, &undated, &["--egfr-col", "egfr"], None);
    assert_eq!(
        run.summary["patients_with_conflicting_values"],
        serde_json::json!({})
    );
}

#[test]
fn a_condition_finding_lists_the_rows_that_gave_the_condition() {
    // p1's eGFR sits on a row with no drug (line 2), p2's condition on its
    // baclofen row, p3's eGFR 10 on line 6, p4's dialysis on line 7
    // (end-stage, so severe and plain renal impairment too).
    let args = ["--egfr-col", "egfr", "--conditions-col", "conditions"];
    let lines = |run: &Run, patient: &str, condition: &str| -> String {
        run.rows()
            .into_iter()
            .find(|r| r.patient == patient && r.kind == "condition" && r.condition == condition)
            .map(|r| r.lines)
            .unwrap_or_else(|| panic!("{patient} {condition}: {:#?}", run.rows()))
    };
    let existing = batch(&fixture("context_lines.csv"), &args);
    assert_eq!(lines(&existing, "p1", "renal-impairment"), "2;3");
    assert_eq!(lines(&existing, "p2", "seizure-disorder"), "4");
    let mut with_proposal = args.to_vec();
    with_proposal.extend(["--propose", "baclofen"]);
    let proposed = batch(&fixture("context_lines.csv"), &with_proposal);
    assert_eq!(lines(&proposed, "p1", "renal-impairment"), "2");
    assert_eq!(lines(&proposed, "p3", "end-stage-renal-disease"), "6");
    assert_eq!(lines(&proposed, "p3", "renal-impairment"), "6");
    assert_eq!(lines(&proposed, "p4", "end-stage-renal-disease"), "7");
    assert_eq!(lines(&proposed, "p4", "renal-impairment"), "7");
    // A rule that holds from an age on (Beers: 65 or more, eGFR below 60)
    // lists the row that gave the age as well as the eGFR's.
    let beers = batch(
        &fixture("age_row.csv"),
        &[
            "--egfr-col",
            "egfr",
            "--age-col",
            "age",
            "--propose",
            "baclofen",
        ],
    );
    assert_eq!(lines(&beers, "p1", "renal-impairment"), "3;4");
    // Age 60 on line 4 does not meet it; `elderly` stated on line 5 does.
    const AGE_CONTEXT: [&str; 8] = [
        "--egfr-col",
        "egfr",
        "--age-col",
        "age",
        "--conditions-col",
        "conditions",
        "--propose",
        "baclofen",
    ];
    let stated = batch(&fixture("stated_elderly.csv"), &AGE_CONTEXT);
    assert_eq!(lines(&stated, "p1", "renal-impairment"), "3;5");
    // An age of 10 makes the patient a child, not an older adult: its row
    // is not behind an age-from-65 rule.
    let young = batch(&fixture("stated_elderly_young_age.csv"), &AGE_CONTEXT);
    assert_eq!(lines(&young, "p1", "renal-impairment"), "3;5");
}

#[test]
fn as_of_does_not_use_lab_values_taken_after_that_day() {
    // The 2024 eGFR 12 was not known on 2022-01-01: as of then, the 2019
    // value (80) stands. Without --as-of the 2024 value is the latest.
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("asof.csv");
    std::fs::write(
        &file,
        "patient_id,drug,start,stop,egfr\n\
         P,baclofen 10 mg tid,2019-01-01,,80\n\
         P,,2024-06-01,,12\n\
         Q,baclofen 10 mg tid,2019-01-01,,80\n\
         Q,amoxicillin 500 mg,2024-06-01,2024-06-08,12\n",
    )
    .expect("write");
    let cols = [
        "--start-col",
        "start",
        "--stop-col",
        "stop",
        "--egfr-col",
        "egfr",
    ];
    let latest = batch_in(&dir, &file, &cols, None);
    let end_stage = |run: &Run, patient: &str| {
        run.rows()
            .iter()
            .any(|r| r.patient == patient && r.condition == "end-stage-renal-disease")
    };
    assert!(end_stage(&latest, "P") && end_stage(&latest, "Q"));
    let mut with_as_of = cols.to_vec();
    with_as_of.extend(["--as-of", "2022-01-01"]);
    let then = batch_in(&dir, &file, &with_as_of, None);
    assert!(
        !end_stage(&then, "P") && !end_stage(&then, "Q"),
        "{:#?}",
        then.rows()
    );
    let rejects = std::fs::read_to_string(dir.path().join("rejects.csv")).expect("rejects");
    assert!(
        rejects.contains("dated after --as-of, so it was not used"),
        "{rejects}"
    );
}

#[test]
fn a_name_read_by_its_spelling_is_an_unrecognized_finding_and_listed_in_the_summary() {
    let run = batch(&fixture("spelling.csv"), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let guessed = run
        .rows()
        .into_iter()
        .find(|r| r.kind == "unrecognized")
        .unwrap_or_else(|| panic!("{:#?}", run.rows()));
    assert_eq!(
        (guessed.patient.as_str(), guessed.lines.as_str()),
        ("p1", "3")
    );
    assert_eq!(
        run.summary["unrecognized"]["top"],
        serde_json::json!([{"name": "Dridol", "rows": 1, "status": "fuzzy"}])
    );
    // A drug to propose is never taken by its spelling: refused for the
    // whole file, and, from a column, an unrecognized finding, not checked.
    let refused = batch(&fixture("spelling.csv"), &["--propose", "Dridol"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let dir = TempDir::new().expect("temp dir");
    let file = dir.path().join("propose.csv");
    std::fs::write(
        &file,
        "patient_id,drug,propose\np1,clarithromycin 500 mg bid,Dridol\n",
    )
    .expect("write");
    let run = batch_in(&dir, &file, &["--propose-col", "propose"], None);
    let kinds: Vec<String> = run.rows().into_iter().map(|r| r.kind).collect();
    assert_eq!(kinds, ["unrecognized"], "{:#?}", run.rows());
}

#[test]
fn three_cns_active_drugs_in_an_older_patient_are_counted_over_the_whole_list() {
    // Batch checks a therapy against one medication at a time; the Beers
    // total (three or more CNS-active drugs at 65 or over) is counted over
    // all of them at once, as `check` counts it.
    let run = batch(&fixture("beers_cns.csv"), &["--age-col", "age"]);
    let total = |patient: &str, drugs: &str| run.find(patient, "interaction", drugs);
    let p1 = total("p1", "baclofen;gabapentin;sertraline")
        .unwrap_or_else(|| panic!("baclofen, gabapentin and sertraline at 80"));
    assert_eq!(p1.severity, "major");
    assert_eq!(p1.lines, "2;3;4");
    // At 64 it does not apply.
    assert!(
        run.rows()
            .iter()
            .all(|r| !(r.patient == "p2" && r.drugs.split(';').count() > 2))
    );
    // Counted from each of two therapies taken, it is one finding.
    let p3: Vec<_> = run
        .rows()
        .into_iter()
        .filter(|r| r.patient == "p3" && r.drugs.split(';').count() > 2)
        .collect();
    assert_eq!(p3.len(), 1, "{p3:?}");
    // Oxycodone in a product and alone is one drug: two in all, no total.
    assert!(
        run.rows()
            .iter()
            .all(|r| !(r.patient == "p4" && r.drugs.split(';').count() > 2))
    );
}

#[test]
fn rows_that_all_wait_in_the_spill_give_the_bytes_of_rows_checked_as_read() {
    // Standard input is read once, so every row of it waits in the on-disk
    // spill (written compactly: lines and start days as differences from
    // the row before, ends from starts); the same file read in place has
    // its patients checked as their rows end. Dates far apart and in any
    // order, open stops, lab values, conditions and proposed drugs must
    // come back exactly.
    let meds = [
        "baclofen 10 mg tid",
        "quinine 324 mg daily",
        "diltiazem 120 mg",
        "clarithromycin 500 mg bid",
        "zorblaxitol 5 mg",
        "simvastatin 20 mg",
    ];
    let dir = TempDir::new().expect("temp dir");
    let starts: Vec<&str> = "1901-03-04 2024-02-29 1999-12-31 2031-07-15 1970-01-01"
        .split(' ')
        .collect();
    let mut text = String::from("patient_id,drug,start,stop,egfr,conditions,candidate\n");
    for p in 0..400usize {
        for k in 0..5usize {
            let start = starts[(p + k) % starts.len()];
            // Some rows have no stop; others stop years after they start.
            let stop = match (p + 2 * k) % 4 {
                0 => String::new(),
                1 => start.to_owned(),
                _ => format!("{}-12-31", 2032 + (p % 5)),
            };
            let egfr = if k == 1 {
                format!("{}", 15 + p % 80)
            } else {
                String::new()
            };
            let conditions = if k == 3 && p % 4 == 0 {
                "myasthenia gravis"
            } else {
                ""
            };
            let candidate = if k == 0 && p % 3 == 0 { "quinine" } else { "" };
            text.push_str(&format!(
                "pt-{p:03},{},{start},{stop},{egfr},{conditions},{candidate}\n",
                meds[(p * 5 + k * 7) % meds.len()]
            ));
        }
    }
    let file = dir.path().join("dated.csv");
    std::fs::write(&file, &text).expect("write");
    let flags = "--start-col start --stop-col stop --egfr-col egfr --conditions-col conditions \
                 --propose-col candidate";
    let args: Vec<&str> = flags.split_whitespace().collect();
    let in_place = batch_in(&dir, &file, &args, None);
    let piped = batch_in(&dir, Path::new("-"), &args, Some(text.into_bytes()));
    assert!(in_place.count("findings") > 100, "{}", in_place.summary);
    assert_eq!(in_place.count("rows_checked"), 2000, "{}", in_place.summary);
    assert_eq!(
        String::from_utf8_lossy(&piped.stdout),
        String::from_utf8_lossy(&in_place.stdout)
    );
    for key in ["rows_checked", "patients", "findings"] {
        assert_eq!(piped.count(key), in_place.count(key), "{key}");
    }
}
