//! End-to-end tests of `crampcheck kb`: build, --db round trip, refusals of
//! foreign or newer files, info, lookup, and `kb verify` catching each kind of
//! broken row in a deliberately broken copy of the content.

mod common;

use common::crampcheck;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn db_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("db")
}

/// Copies the real content to a temp dir so a test can break one thing.
fn content_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    for entry in std::fs::read_dir(db_dir()).unwrap_or_else(|e| panic!("read db: {e}")) {
        let path = entry.unwrap_or_else(|e| panic!("entry: {e}")).path();
        if path.extension().is_some_and(|e| e == "csv") {
            let target = dir.path().join(path.file_name().unwrap_or_default());
            std::fs::copy(&path, target).unwrap_or_else(|e| panic!("copy: {e}"));
        }
    }
    dir
}

fn append(dir: &Path, file: &str, line: &str) -> usize {
    let path = dir.join(file);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read: {e}"));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    std::fs::write(&path, &text).unwrap_or_else(|e| panic!("write: {e}"));
    text.lines().count()
}

fn verify_src(dir: &Path) -> (i32, String) {
    let out = crampcheck()
        .args(["kb", "verify", "--src"])
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn shipped_kb_passes_verify() {
    crampcheck()
        .args(["kb", "verify"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("ok: embedded"));
}

#[test]
fn verify_names_each_kind_of_broken_row() {
    // (file, row to append, text expected in the report)
    let cases: &[(&str, &str, &str)] = &[
        ("drugs.csv", "zzdrug,test drug,", "row without a source"),
        (
            "interactions.csv",
            "zz1,quinine,amoxicillin,severe,avoid,label,m,e,do this,US,voc-rxnorm",
            "unknown severity `severe`",
        ),
        (
            "interactions.csv",
            "zz2,quinine,amoxicillin,major,stop,label,m,e,do this,US,voc-rxnorm",
            "unknown action `stop`",
        ),
        (
            "interactions.csv",
            "zz3,quinine,amoxicillin,major,avoid,anecdote,m,e,do this,US,voc-rxnorm",
            "unknown evidence `anecdote`",
        ),
        (
            "aliases.csv",
            "biaxin,amoxicillin,brand,voc-rxnorm",
            "alias `biaxin` maps to different drugs",
        ),
        (
            "classes.csv",
            "zz-empty,A class with no members,no,voc-rxnorm",
            "empty class `zz-empty`",
        ),
        (
            "products.csv",
            "zzproduct,,voc-rxnorm",
            "product with no ingredient",
        ),
        (
            "class_members.csv",
            "macrolides,zorblax,voc-rxnorm",
            "unknown drug `zorblax`",
        ),
        (
            "interactions.csv",
            "zz4,quinine,class:nonexistent,major,avoid,label,m,e,do this,US,voc-rxnorm",
            "`class:nonexistent` is not a known drug or class",
        ),
        (
            "aliases.csv",
            "zzalias,quinine,brand,no-such-source",
            "unknown source `no-such-source`",
        ),
        (
            "therapy_forms.csv",
            "warfarin,class:macrolides,voc-rxnorm",
            "unknown therapy (a drug of therapies.csv) `warfarin`",
        ),
        (
            "therapy_forms.csv",
            "baclofen,zorblax,voc-rxnorm",
            "form `zorblax` is not a known drug or class",
        ),
        (
            "condition_implications.csv",
            "cirrhosis,no-such-condition,voc-rxnorm",
            "unknown condition `no-such-condition`",
        ),
        (
            "condition_implications.csv",
            "cirrhosis,cirrhosis,voc-rxnorm",
            "a condition cannot imply itself",
        ),
        (
            "interaction_routes.csv",
            "no-such-rule,dantrolene,parenteral,voc-rxnorm",
            "unknown interaction `no-such-rule`",
        ),
        (
            "interaction_routes.csv",
            "thr-ix-dtz-dantrolene,dantrolene,nasal,voc-rxnorm",
            "nasal",
        ),
        (
            "condition_cautions.csv",
            "zz5,quinine,cirrhosis,-5,major,avoid,label,t,m,do this,US,voc-rxnorm",
            "bad min_age `-5`",
        ),
        (
            "condition_cautions.csv",
            "zz6,quinine,cirrhosis,200,major,avoid,label,t,m,do this,US,voc-rxnorm",
            "bad min_age `200`",
        ),
    ];
    for (file, row, expected) in cases {
        let dir = content_copy();
        let line = append(dir.path(), file, row);
        let (code, report) = verify_src(dir.path());
        assert_eq!(code, 1, "{file}: {row}\n{report}");
        let wanted = format!("{file}:{line}");
        assert!(
            report
                .lines()
                .any(|l| l.contains(&wanted) && l.contains(expected)),
            "expected `{wanted}` with `{expected}` in:\n{report}"
        );
    }
}

#[test]
fn build_writes_a_kb_that_checks_like_the_embedded_one() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let file = dir.path().join("kb.sqlite");
    crampcheck()
        .args(["kb", "build", "--out"])
        .arg(&file)
        .assert()
        .code(0);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap_or_else(|e| panic!("read: {e}"))
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temp files left behind");
    let args = [
        "--propose",
        "quinine",
        "--med",
        "clarithromycin",
        "--egfr",
        "45",
    ];
    let (code_file, mut from_file) =
        common::check_json(&[&args[..], &["--db", &file.to_string_lossy()]].concat());
    let (code_embedded, mut embedded) = common::check_json(&args);
    assert_eq!(code_file, code_embedded);
    from_file["kb"]["origin"] = serde_json::Value::Null;
    embedded["kb"]["origin"] = serde_json::Value::Null;
    assert_eq!(from_file, embedded);
    crampcheck()
        .args(["kb", "verify", "--db"])
        .arg(&file)
        .assert()
        .code(0);
}

/// A KB file written by `kb build` in a temporary directory (kept alive
/// by the returned guard).
fn built_kb() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let file = dir.path().join("kb.sqlite");
    crampcheck()
        .args(["kb", "build", "--out"])
        .arg(&file)
        .assert()
        .code(0);
    (dir, file)
}

#[test]
fn a_newer_schema_or_a_foreign_file_is_refused_with_exit_2() {
    let (dir, file) = built_kb();
    {
        let conn = rusqlite::Connection::open(&file).unwrap_or_else(|e| panic!("open: {e}"));
        conn.pragma_update(None, "user_version", 99)
            .unwrap_or_else(|e| panic!("pragma: {e}"));
    }
    crampcheck()
        .args(["check", "--propose", "quinine", "--db"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "newer than this crampcheck supports",
        ));
    let foreign = dir.path().join("notes.txt");
    std::fs::write(&foreign, "not a database").unwrap_or_else(|e| panic!("write: {e}"));
    crampcheck()
        .args(["check", "--propose", "quinine", "--db"])
        .arg(&foreign)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a crampcheck knowledge base"));
    let other = dir.path().join("other.sqlite");
    {
        let conn = rusqlite::Connection::open(&other).unwrap_or_else(|e| panic!("open: {e}"));
        conn.execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;")
            .unwrap_or_else(|e| panic!("create: {e}"));
    }
    crampcheck()
        .args(["kb", "info", "--db"])
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a crampcheck knowledge base"));
}

#[test]
fn build_refuses_broken_content_and_leaves_no_file() {
    let dir = content_copy();
    append(dir.path(), "drugs.csv", "zzdrug,test drug,");
    let out = dir.path().join("kb.sqlite");
    crampcheck()
        .args(["kb", "build", "--src"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("row without a source"));
    assert!(!out.exists());
    // `-` is no file to write a SQLite KB to.
    crampcheck()
        .current_dir(dir.path())
        .args(["kb", "build", "--out", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a file"));
    assert!(!dir.path().join("-").exists());
}

#[test]
fn info_and_lookup_show_versions_rules_and_sources() {
    crampcheck()
        .args(["kb", "info"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("schema version: 6"))
        .stdout(predicate::str::contains("interactions"))
        .stdout(predicate::str::contains("sources ("));
    crampcheck()
        .args(["kb", "lookup", "Biaxin"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("recognized (matched by brand)"))
        .stdout(predicate::str::contains("clarithromycin"))
        .stdout(predicate::str::contains("classes:").and(predicate::str::contains("macrolides")))
        .stdout(predicate::str::contains(
            "interaction quinine + class:macrolides",
        ));
    crampcheck()
        .args(["kb", "lookup", "quinine"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("BOXED WARNING (US)"));
    // A name the KB does not know exits 1, as an unrecognized name in
    // `check` does; a class may be named as the content files write it.
    crampcheck()
        .args(["kb", "lookup", "zorblax"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`zorblax`: unrecognized"));
    crampcheck()
        .args(["kb", "lookup", "class:macrolides"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("class macrolides:"));
    // A condition's name is not also an unrecognized drug.
    crampcheck()
        .args(["kb", "lookup", "tachycardia"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("condition cardiac-arrhythmia"))
        .stdout(predicate::str::contains("unrecognized").not());
}

/// The records of one shipped content file.
fn read_db_csv(file: &str) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(db_dir().join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("{file}: {e}")))
        .collect()
}

#[test]
fn every_drug_of_a_class_category_is_a_member_of_the_class() {
    // Class rules (baclofen + opioids, diltiazem + beta blockers) reach a
    // drug only through class membership: a drug described as an opioid but
    // left out of `opioids` was checked against nothing.
    let read = read_db_csv;
    let members: std::collections::HashSet<(String, String)> = read("class_members.csv")
        .iter()
        .map(|r| (r[0].to_owned(), r[1].to_owned()))
        .collect();
    let class_of = |category: &str| match category {
        "opioid" | "opioid analgesic" | "opioid analgesic (withdrawn)" => Some("opioids"),
        c if c.ends_with("antipsychotic") => Some("antipsychotics"),
        "first-generation antihistamine" => Some("sedating-antihistamines"),
        "beta blocker" => Some("beta-blockers"),
        _ => None,
    };
    let mut missing = Vec::new();
    let mut checked = 0;
    for drug in read("drugs.csv") {
        if let Some(class) = class_of(&drug[1]) {
            checked += 1;
            if !members.contains(&(class.to_owned(), drug[0].to_owned())) {
                missing.push(format!("{} ({class})", &drug[0]));
            }
        }
    }
    assert!(
        checked >= 50,
        "only {checked} drugs matched a class category"
    );
    assert!(
        missing.is_empty(),
        "not members of their class: {missing:?}"
    );
}

#[test]
fn a_condition_name_shared_by_two_conditions_fails_verify_and_is_not_loaded() {
    // "long qt" also given to G6PD deficiency would take a QT patient there,
    // and quinine's QT contraindication with it.
    let dir = content_copy();
    let line = append(
        dir.path(),
        "conditions.csv",
        "g6pd-deficiency-2,G6PD deficiency (again),long qt,bac-voc-qualaquin-hl",
    );
    let (code, stdout) = verify_src(dir.path());
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!("conditions.csv:{line}"))
            && stdout.contains("`long qt` also names condition `qt-prolongation`"),
        "{stdout}"
    );
    // Content that fails verify is not used to answer a check.
    crampcheck()
        .args([
            "check",
            "--propose",
            "quinine",
            "--condition",
            "long qt",
            "--src",
        ])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("kb verify"));
}

#[test]
fn a_repeated_key_fails_verify_with_both_lines() {
    // A second quinine/idiopathic row that disagrees with the first: the
    // loader would keep one of the two without a word.
    assert_verify_refuses(
        "therapies.csv",
        "quinine,idiopathic,recommended,A,A second opinion.,US,thr-aan-2010",
        "repeats the key `quinine, idiopathic`",
    );
}

/// Appends `row` to a copy of the content's `file` and asserts that `kb
/// verify` fails, naming that line with `problem`.
fn assert_verify_refuses(file: &str, row: &str, problem: &str) {
    let dir = content_copy();
    let line = append(dir.path(), file, row);
    let (code, stdout) = verify_src(dir.path());
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains(&format!("{file}:{line}: {problem}")),
        "{stdout}"
    );
}

#[test]
fn verify_refuses_empty_rule_ids_and_dosing_plans_that_cannot_be_followed() {
    let dir = content_copy();
    let empty_id = append(
        dir.path(),
        "interactions.csv",
        ",quinine,warfarin,moderate,monitor,label,A mechanism.,An effect.,Monitor.,US,qui-us-pi-8",
    );
    let start_above_max = append(
        dir.path(),
        "dosing_rules.csv",
        "bac-dose-test,baclofen,cirrhosis,any,50,10,0,30,50 mg/day,,oral,US,bac-aasld-2021",
    );
    let (code, stdout) = verify_src(dir.path());
    assert_eq!(code, 1, "{stdout}");
    for expected in [
        format!("interactions.csv:{empty_id}: empty id"),
        format!(
            "dosing_rules.csv:{start_above_max}: start 50 mg/day is above the maximum 30 mg/day"
        ),
        format!("dosing_rules.csv:{start_above_max}: step_every_days must be a whole number"),
    ] {
        assert!(stdout.contains(&expected), "{expected} in {stdout}");
    }
}

/// Replaces the first line of `file` that starts with `prefix` by `line`;
/// returns its line number.
fn replace_line(dir: &Path, file: &str, prefix: &str, line: &str) -> usize {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read: {e}"));
    let mut at = 0;
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if at == 0 && l.starts_with(prefix) {
                at = i + 1;
                line.to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert!(at > 0, "no line starting with {prefix} in {file}");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap_or_else(|e| panic!("write: {e}"));
    at
}

#[test]
fn verify_refuses_rows_that_would_switch_a_check_off_silently() {
    // Each of these passed verify and then hid or changed check answers.
    let dir = content_copy();
    let d = dir.path();
    let nan_threshold = replace_line(
        d,
        "lab_thresholds.csv",
        "egfr,lt,60,",
        "egfr,lt,NaN,renal-impairment,bac-thr-kdigo-2012",
    );
    let inf_max = replace_line(
        d,
        "dosing_rules.csv",
        "bac-dose-spasticity-us,",
        "bac-dose-spasticity-us,baclofen,spasticity,any,15,15,3,inf,5 mg tid,,oral,US,bac-us-label",
    );
    let same_name = append(d, "drugs.csv", "st johns wort,herbal product,qui-us-di");
    let spaced_alias = append(d, "aliases.csv", "war farin,aspirin,brand,qui-us-di");
    let class_alias = append(d, "aliases.csv", "macrolides,aspirin,brand,qui-us-di");
    let cycle = append(
        d,
        "condition_implications.csv",
        "renal-impairment,severe-renal-impairment,bac-thr-kdigo-2012",
    );
    let no_action = replace_line(
        d,
        "interactions.csv",
        "qui-i-warfarin-us,",
        "qui-i-warfarin-us,quinine,warfarin,contraindicated,no-action,label,A mechanism.,An effect.,Nothing.,US,qui-us-pi-8",
    );
    let (code, stdout) = verify_src(d);
    assert_eq!(code, 1, "{stdout}");
    for expected in [
        format!("lab_thresholds.csv:{nan_threshold}: threshold `NaN` is outside"),
        format!("dosing_rules.csv:{inf_max}: max_mg_per_day `inf` must be a finite amount"),
        format!(
            "drugs.csv:{same_name}: drug `st johns wort` has the same name as drug `st. john's wort`"
        ),
        format!("aliases.csv:{spaced_alias}: alias `war farin` is the generic name of `warfarin`"),
        format!("aliases.csv:{class_alias}: `macrolides` is the name of a class"),
        format!("condition_implications.csv:{cycle}: implications form a cycle"),
        format!("interactions.csv:{no_action}: action `no-action` is for severity `none`"),
    ] {
        assert!(stdout.contains(&expected), "{expected} in {stdout}");
    }
    // A route row must name one of its rule's drugs, and a KB with no
    // interactions at all is no KB to check against.
    let dir = content_copy();
    let d = dir.path();
    let route = std::fs::read_to_string(d.join("interaction_routes.csv"))
        .unwrap_or_else(|e| panic!("read: {e}"))
        .replace(",dantrolene,parenteral,", ",warfarin,parenteral,");
    std::fs::write(d.join("interaction_routes.csv"), route).unwrap_or_else(|e| panic!("{e}"));
    let header = std::fs::read_to_string(d.join("interactions.csv"))
        .unwrap_or_else(|e| panic!("read: {e}"))
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let (_, stdout) = verify_src(d);
    assert!(
        stdout.contains(
            "interaction_routes.csv:2: drug `warfarin` is not one of the rule's two drugs"
        ),
        "{stdout}"
    );
    std::fs::write(d.join("interactions.csv"), header + "\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        d.join("interaction_routes.csv"),
        "rule,drug,route,sources\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, stdout) = verify_src(d);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("table `interactions` is empty"), "{stdout}");
}

#[test]
fn kb_info_refuses_content_that_fails_verify_like_every_command() {
    // It printed a KB with an alias of two drugs, exit 0.
    let dir = content_copy();
    append(
        dir.path(),
        "aliases.csv",
        "coumadin,aspirin,brand,qui-us-di",
    );
    let out = crampcheck()
        .args(["kb", "info", "--src"])
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("run: {e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("coumadin"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn verify_refuses_a_dosing_route_it_does_not_know() {
    assert_verify_refuses(
        "dosing_rules.csv",
        "bac-dose-it,baclofen,spasticity,any,,,,0.8,50 mcg test dose,,intrathecal,US,bac-aasld-2021",
        "unknown route `intrathecal`",
    );
}

#[test]
fn a_kb_file_changed_after_its_build_is_refused() {
    // A row deleted by hand passes `kb verify` (what is left is consistent);
    // the quinine + clarithromycin warning would have gone without a word.
    let (_dir, file) = built_kb();
    let conn = rusqlite::Connection::open(&file).unwrap_or_else(|e| panic!("open: {e}"));
    let deleted = conn
        .execute(
            "DELETE FROM interactions WHERE drug = 'quinine' AND interacts_with = 'clarithromycin'",
            [],
        )
        .unwrap_or_else(|e| panic!("delete: {e}"));
    assert_eq!(deleted, 1);
    drop(conn);
    for args in [
        &["check", "--propose", "quinine", "--med", "clarithromycin"][..],
        &["kb", "verify"][..],
    ] {
        crampcheck()
            .arg("--db")
            .arg(&file)
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "the rows do not match the digest `kb build` recorded",
            ));
    }
}

#[test]
fn a_class_count_rule_needs_a_known_class_and_two_members_or_more() {
    assert_verify_refuses(
        "class_count_rules.csv",
        "test-count,no-such-class,3,65,major,avoid,guideline,T,M,Do.,US,bac-beers-2023-t5",
        "dangling reference: unknown class `no-such-class`",
    );
    assert_verify_refuses(
        "class_count_rules.csv",
        "test-count,beers-cns-active,1,65,major,avoid,guideline,T,M,Do.,US,bac-beers-2023-t5",
        "bad min_count `1`",
    );
}

#[test]
fn every_drug_of_a_beers_cns_active_category_is_counted() {
    // The Beers count reaches a drug only through `beers-cns-active`: an
    // SSRI or an antiepileptic left out would make three CNS-active drugs
    // look like two.
    let read = read_db_csv;
    let counted: std::collections::HashSet<String> = read("class_members.csv")
        .iter()
        .filter(|r| &r[0] == "beers-cns-active")
        .map(|r| r[1].to_owned())
        .collect();
    let categories = [
        "antiepileptic",
        "antiseizure drug",
        "ssri antidepressant",
        "snri antidepressant",
    ];
    let missing: Vec<String> = read("drugs.csv")
        .iter()
        .filter(|d| categories.contains(&d[1].to_lowercase().as_str()))
        .filter(|d| !counted.contains(&d[0]))
        .map(|d| d[0].to_owned())
        .collect();
    assert!(counted.len() >= 100, "only {} counted", counted.len());
    assert!(missing.is_empty(), "not counted: {missing:?}");
    for member in [
        "baclofen",
        "sertraline",
        "gabapentin",
        "oxycodone",
        "zolpidem",
        "quetiapine",
    ] {
        assert!(counted.contains(member), "{member}");
    }
}
