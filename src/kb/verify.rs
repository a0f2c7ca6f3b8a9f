//! `kb verify`: integrity checks over a loaded knowledge base. Unlike the
//! index loader, which stops at the first unusable row, this reports every
//! problem with the `file:line` of the row at fault, so a reviewer can fix a
//! content change in one pass.

use super::content::{TABLES, TableSpec};
use super::index::Lab;
use super::names::{compact_key, name_key, split_aliases};
use super::tables::Tables;
use crate::clinical::{Action, Evidence, Severity};
use regex::Regex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

/// One integrity problem, tied to the row that has it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// `file:line` of the row (or the table name for table-level problems).
    pub origin: String,
    /// What is wrong.
    pub message: String,
}

type Row = HashMap<&'static str, String>;

const SOURCE_JURISDICTIONS: &[&str] = &["US", "UK", "EU", "CA", "CH", "intl"];
const RULE_JURISDICTIONS: &[&str] = &["US", "UK", "EU", "CA", "CH", "intl", "any"];
const SOURCE_KINDS: &[&str] = &[
    "label",
    "guideline",
    "study",
    "review",
    "compendium",
    "vocabulary",
];
const ALIAS_KINDS: &[&str] = &["brand", "synonym", "salt", "abbreviation"];
const STANDINGS: &[&str] = &[
    "recommended",
    "possibly-effective",
    "effective-avoid-routine",
    "insufficient-evidence",
    "not-recommended",
];
const EVIDENCE_LEVELS: &[&str] = &["A", "B", "C", "U"];
const LABS: &[&str] = &["egfr", "qtc", "potassium", "magnesium", "age"];
const COMPARATORS: &[&str] = &["lt", "le", "gt", "ge"];
const ROUTE_NEEDS: &[&str] = &["parenteral", "oral"];

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{4}(-\d{2}(-\d{2})?)?$").unwrap_or_else(|e| panic!("date regex: {e}"))
});

/// Each table's key columns, as the schema declares them, plus the pairs
/// that make a membership or a product ingredient.
const KEYS: [(&str, &[&str]); 16] = [
    ("kb_meta", &["key"]),
    ("sources", &["id"]),
    ("drugs", &["name"]),
    ("classes", &["class"]),
    ("class_members", &["class", "drug"]),
    ("products", &["product", "ingredient"]),
    ("conditions", &["code"]),
    ("interactions", &["id"]),
    ("condition_cautions", &["id"]),
    ("dosing_rules", &["id"]),
    ("therapies", &["drug", "indication"]),
    ("therapy_forms", &["therapy", "form"]),
    ("condition_implications", &["condition", "implies"]),
    ("interaction_routes", &["rule", "drug"]),
    ("class_count_rules", &["id"]),
    ("aliases", &["alias", "drug"]),
];

fn read_rows(tables: &Tables, spec: &TableSpec) -> Vec<Row> {
    let mut names: Vec<&'static str> = spec.columns.iter().map(|(n, _)| *n).collect();
    names.push("origin");
    tables
        .rows(spec.table)
        .iter()
        .map(|row| {
            names
                .iter()
                .zip(row.iter())
                .map(|(name, value)| (*name, value.clone().unwrap_or_default()))
                .collect()
        })
        .collect()
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn report(&mut self, row: &Row, message: String) {
        self.problems.push(Problem {
            origin: row.get("origin").cloned().unwrap_or_default(),
            message,
        });
    }

    fn one_of(&mut self, row: &Row, column: &str, allowed: &[&str]) {
        let value = row.get(column).map(String::as_str).unwrap_or_default();
        if !allowed.contains(&value) {
            self.report(
                row,
                format!(
                    "unknown {column} `{value}` (expected one of: {})",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A dosing plan that can be followed: finite amounts above zero, no
    /// start above the maximum, a step that raises the dose, a whole number
    /// of days between steps. A maximum of `NaN` or `inf` would pass every
    /// dose without a word.
    fn dose_plan(&mut self, row: &Row) {
        let number = |column: &str| row.get(column).and_then(|v| v.parse::<f64>().ok());
        for column in ["start_mg_per_day", "max_mg_per_day"] {
            if let Some(value) = number(column)
                && !(value.is_finite() && value > 0.0)
            {
                self.report(
                    row,
                    format!("{column} `{value}` must be a finite amount above zero"),
                );
            }
        }
        if let (Some(start), Some(max)) = (number("start_mg_per_day"), number("max_mg_per_day"))
            && start > max
        {
            self.report(
                row,
                format!("start {start} mg/day is above the maximum {max} mg/day"),
            );
        }
        if number("step_mg_per_day").is_some_and(|step| !(step.is_finite() && step > 0.0)) {
            self.report(row, "step_mg_per_day must be above zero".to_owned());
        }
        if number("step_every_days")
            .is_some_and(|days| !(1.0..=3650.0).contains(&days) || days.fract() != 0.0)
        {
            self.report(
                row,
                "step_every_days must be a whole number of days, from 1 to 3650".to_owned(),
            );
        }
    }

    /// A rule row with an age limit and texts (condition cautions, class
    /// counts): the age is one a patient can have (the CLI refuses other
    /// ages), else the rule could never apply; no text is empty.
    fn age_rule_text(&mut self, row: &Row) {
        if let Some(age) = row.get("min_age").filter(|a| !a.is_empty())
            && !age.parse::<u32>().is_ok_and(|a| a <= 130)
        {
            let message = format!("bad min_age `{age}` (expected whole years from 0 to 130)");
            self.report(row, message);
        }
        for column in ["id", "title", "mechanism", "management"] {
            self.non_empty(row, column);
        }
    }

    fn non_empty(&mut self, row: &Row, column: &str) {
        if row.get(column).is_none_or(|v| v.is_empty()) {
            self.report(row, format!("empty {column}"));
        }
    }

    /// A condition that implies itself says nothing: a slip for another code.
    fn implication(&mut self, row: &Row) {
        if row.get("condition") == row.get("implies") {
            self.report(row, "a condition cannot imply itself".to_owned());
        }
    }

    fn known(&mut self, row: &Row, column: &str, set: &HashSet<String>, what: &str) {
        let value = row.get(column).cloned().unwrap_or_default();
        if !set.contains(&value) {
            self.report(row, format!("dangling reference: unknown {what} `{value}`"));
        }
    }

    fn party(
        &mut self,
        row: &Row,
        column: &str,
        drugs: &HashSet<String>,
        classes: &HashSet<String>,
    ) {
        let value = row.get(column).cloned().unwrap_or_default();
        let ok = match value.strip_prefix("class:") {
            Some(class) => classes.contains(class),
            None => drugs.contains(&value),
        };
        if !ok {
            self.report(
                row,
                format!("dangling reference: {column} `{value}` is not a known drug or class"),
            );
        }
    }

    fn rule_enums(&mut self, row: &Row) {
        let severity = row.get("severity").cloned().unwrap_or_default();
        match Severity::parse(&severity) {
            Some(Severity::Info) | None => self.report(
                row,
                format!(
                    "unknown severity `{severity}` (expected contraindicated, major, moderate, minor or none)"
                ),
            ),
            Some(Severity::None) if row.get("action").map(String::as_str) != Some("no-action") => {
                self.report(row, "severity `none` needs action `no-action`".to_owned())
            }
            Some(level)
                if level != Severity::None
                    && row.get("action").map(String::as_str) == Some("no-action") =>
            {
                self.report(
                row,
                    format!("action `no-action` is for severity `none`, not `{severity}`"),
                )
            }
            Some(_) => {}
        }
        let action = row.get("action").cloned().unwrap_or_default();
        if Action::parse(&action).is_none() {
            self.report(
                row,
                format!(
                    "unknown action `{action}` (expected avoid, adjust-dose, separate-doses, monitor or no-action)"
                ),
            );
        }
        if let Some(evidence) = row.get("evidence")
            && Evidence::parse(evidence).is_none()
        {
            self.report(
                row,
                format!(
                    "unknown evidence `{evidence}` (expected label, guideline, study, case-report or theoretical)"
                ),
            );
        }
        self.one_of(row, "jurisdiction", RULE_JURISDICTIONS);
    }
}

/// The implication rows that lie on a cycle (`a` implies `b`, which implies
/// `a`): a patient with the milder condition would be given the graver one.
fn implication_cycles(rows: &[Row]) -> Vec<&Row> {
    let edge = |r: &Row| {
        (
            r.get("condition").cloned().unwrap_or_default(),
            r.get("implies").cloned().unwrap_or_default(),
        )
    };
    let reaches = |from: &str, to: &str| {
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(at) = stack.pop() {
            if at == to {
                return true;
            }
            if seen.insert(at.clone()) {
                stack.extend(
                    rows.iter()
                        .map(edge)
                        .filter(|(c, _)| *c == at)
                        .map(|(_, i)| i),
                );
            }
        }
        false
    };
    rows.iter()
        .filter(|r| {
            let (condition, implies) = edge(r);
            condition != implies && reaches(&implies, &condition)
        })
        .collect()
}

/// Checks every integrity rule and returns the problems found, sorted by row.
/// An empty list means the KB is sound.
pub fn verify(content: &Tables) -> Vec<Problem> {
    let mut tables: BTreeMap<&'static str, Vec<Row>> = BTreeMap::new();
    for spec in TABLES {
        tables.insert(spec.table, read_rows(content, spec));
    }
    let get = |name: &str| tables.get(name).map(Vec::as_slice).unwrap_or_default();
    let mut c = Checker {
        problems: Vec::new(),
    };

    if !get("kb_meta")
        .iter()
        .any(|r| r.get("key").map(String::as_str) == Some("kb_version"))
    {
        c.problems.push(Problem {
            origin: "db/meta.csv".to_owned(),
            message: "missing kb_version".to_owned(),
        });
    }

    let column_set = |table: &str, column: &str| -> HashSet<String> {
        get(table)
            .iter()
            .filter_map(|r| r.get(column).cloned())
            .collect()
    };
    // The keys of the schema (`migrations/`): a repeated key passes the
    // loader, which keeps one row without a word, and `kb build` refuses
    // it, so verify names it first. Repeated memberships are as wrong.
    for (table, columns) in KEYS {
        let mut first: HashMap<Vec<String>, String> = HashMap::new();
        for row in get(table) {
            let key: Vec<String> = columns
                .iter()
                .map(|c| row.get(c).cloned().unwrap_or_default())
                .collect();
            let origin = row.get("origin").cloned().unwrap_or_default();
            match first.get(&key) {
                Some(earlier) => c.report(
                    row,
                    format!("repeats the key `{}` of {earlier}", key.join(", ")),
                ),
                None => {
                    first.insert(key, origin);
                }
            }
        }
    }

    let source_ids = column_set("sources", "id");
    let drugs = column_set("drugs", "name");
    let classes = column_set("classes", "class");
    let conditions = column_set("conditions", "code");

    for row in get("sources") {
        for column in ["id", "citation", "section", "url"] {
            c.non_empty(row, column);
        }
        c.one_of(row, "jurisdiction", SOURCE_JURISDICTIONS);
        c.one_of(row, "kind", SOURCE_KINDS);
        // An undated web copy of a label keeps an empty date rather than a guess.
        let date = row.get("date").cloned().unwrap_or_default();
        if !date.is_empty() && !DATE.is_match(&date) {
            c.report(
                row,
                format!("date `{date}` is not YYYY, YYYY-MM or YYYY-MM-DD"),
            );
        }
    }

    // Every row of every content table cites at least one known source.
    for spec in TABLES
        .iter()
        .filter(|t| !matches!(t.table, "kb_meta" | "sources"))
    {
        for row in get(spec.table) {
            let field = row.get("sources").cloned().unwrap_or_default();
            let ids: Vec<&str> = field
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if ids.is_empty() {
                c.report(row, "row without a source".to_owned());
            }
            for id in ids {
                if !source_ids.contains(id) {
                    c.report(row, format!("dangling reference: unknown source `{id}`"));
                }
            }
        }
    }

    for row in get("drugs") {
        let name = row.get("name").cloned().unwrap_or_default();
        if name.is_empty() || name != name.trim().to_lowercase() {
            c.report(
                row,
                format!("drug name `{name}` must be lowercase and trimmed"),
            );
        }
    }

    // Name keys of generic names, to detect clashing aliases; two drugs
    // whose names differ only in case, punctuation or spaces are one name
    // to the resolver, which would keep one of them.
    let mut generic_keys: HashMap<String, String> = HashMap::new();
    let mut compact_generics: HashMap<String, String> = HashMap::new();
    for row in get("drugs") {
        let name = row.get("name").cloned().unwrap_or_default();
        for (keys, key) in [
            (&mut generic_keys, name_key(&name)),
            (&mut compact_generics, compact_key(&name_key(&name))),
        ] {
            match keys.get(&key) {
                Some(other) if *other != name => c.report(
                    row,
                    format!("drug `{name}` has the same name as drug `{other}` to the resolver"),
                ),
                Some(_) => {}
                None => {
                    keys.insert(key, name.clone());
                }
            }
        }
    }
    // A class name (`macrolides`) is reported as ambiguous with its
    // members; a drug, alias or product of that name would hide that.
    let class_keys: HashSet<String> = classes.iter().map(|c| compact_key(&name_key(c))).collect();
    for (table, column) in [
        ("drugs", "name"),
        ("aliases", "alias"),
        ("products", "product"),
    ] {
        for row in get(table) {
            let name = row.get(column).cloned().unwrap_or_default();
            if class_keys.contains(&compact_key(&name_key(&name))) {
                c.report(row, format!("`{name}` is the name of a class"));
            }
        }
    }
    let mut alias_targets: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in get("aliases") {
        c.known(row, "drug", &drugs, "drug");
        c.one_of(row, "kind", ALIAS_KINDS);
        let alias = row.get("alias").cloned().unwrap_or_default();
        let drug = row.get("drug").cloned().unwrap_or_default();
        let key = name_key(&alias);
        if key.is_empty() {
            c.report(row, "empty alias".to_owned());
            continue;
        }
        if let Some(generic) = generic_keys
            .get(&key)
            .or_else(|| compact_generics.get(&compact_key(&key)))
            && *generic != drug
        {
            c.report(
                row,
                format!("alias `{alias}` is the generic name of `{generic}` but maps to `{drug}`"),
            );
        }
        // The resolver also reads a name without its spaces (`co
        // trimoxazole`, `cotrimoxazole`): aliases are grouped that way too.
        alias_targets
            .entry(compact_key(&key))
            .or_default()
            .push((drug, row.get("origin").cloned().unwrap_or_default()));
    }
    for (alias, targets) in &alias_targets {
        let distinct: HashSet<&String> = targets.iter().map(|(d, _)| d).collect();
        if distinct.len() > 1 {
            let mut listed: Vec<String> =
                targets.iter().map(|(d, o)| format!("{d} ({o})")).collect();
            listed.sort();
            c.problems.push(Problem {
                origin: targets[0].1.clone(),
                message: format!(
                    "alias `{alias}` maps to different drugs: {}",
                    listed.join(", ")
                ),
            });
        }
    }

    for row in get("products") {
        c.non_empty(row, "product");
        if row.get("ingredient").is_none_or(|v| v.is_empty()) {
            c.report(row, "product with no ingredient".to_owned());
        } else {
            c.known(row, "ingredient", &drugs, "drug");
        }
        let key = name_key(row.get("product").map(String::as_str).unwrap_or_default());
        if let Some(generic) = generic_keys.get(&key) {
            c.report(
                row,
                format!("product name clashes with the generic name `{generic}`"),
            );
        }
        if alias_targets.contains_key(&compact_key(&key)) {
            c.report(
                row,
                "product name is also an alias of a single drug".to_owned(),
            );
        }
    }

    let members: HashSet<String> = column_set("class_members", "class");
    for row in get("classes") {
        c.one_of(row, "duplicate_therapy", &["yes", "no"]);
        c.non_empty(row, "description");
        let class = row.get("class").cloned().unwrap_or_default();
        if !members.contains(&class) {
            c.report(row, format!("empty class `{class}`: it has no members"));
        }
    }
    for row in get("class_members") {
        c.known(row, "class", &classes, "class");
        c.known(row, "drug", &drugs, "drug");
    }

    // Every code, name and alias of a condition names that condition alone:
    // "long qt" shared with another condition would take it there, and a
    // contraindication would go with it.
    let mut condition_keys: BTreeMap<String, String> = BTreeMap::new();
    for row in get("conditions") {
        c.non_empty(row, "code");
        c.non_empty(row, "name");
        let code = row.get("code").cloned().unwrap_or_default();
        let names = [row.get("code"), row.get("name")]
            .into_iter()
            .flatten()
            .cloned()
            .chain(split_aliases(row.get("aliases").map_or("", String::as_str)))
            .filter(|n| !n.is_empty());
        for name in names {
            match condition_keys.get(&name_key(&name)) {
                Some(other) if *other != code => c.report(
                    row,
                    format!("condition name `{name}` also names condition `{other}`"),
                ),
                Some(_) => {}
                None => {
                    condition_keys.insert(name_key(&name), code.clone());
                }
            }
        }
    }
    for row in get("lab_thresholds") {
        c.one_of(row, "lab", LABS);
        c.one_of(row, "comparator", COMPARATORS);
        c.known(row, "condition", &conditions, "condition");
        // A threshold a patient's value can never meet (`NaN`, `inf`, an
        // eGFR of -60, an age of 650) would switch its condition off.
        let value = row.get("value").cloned().unwrap_or_default();
        if let Some(lab) = row.get("lab").and_then(|l| Lab::parse(l)) {
            let (min, max) = lab.plausible_range();
            if !value.parse::<f64>().is_ok_and(|v| (min..=max).contains(&v)) {
                c.report(
                    row,
                    format!(
                        "threshold `{value}` is outside the values a patient can have ({min} to {max} {})",
                        lab.unit()
                    ),
                );
            }
        }
    }
    let interaction_ids = column_set("interactions", "id");
    let in_class = |drug: &str, class: &str| {
        get("class_members").iter().any(|m| {
            m.get("class").map(String::as_str) == Some(class)
                && m.get("drug").map(String::as_str) == Some(drug)
        })
    };
    for row in get("interaction_routes") {
        c.known(row, "rule", &interaction_ids, "interaction");
        c.known(row, "drug", &drugs, "drug");
        c.one_of(row, "route", ROUTE_NEEDS);
        // The route is that of one of the rule's two drugs; any other drug
        // is never in the pair, and the restriction would say nothing.
        let drug = row.get("drug").cloned().unwrap_or_default();
        let rule = get("interactions")
            .iter()
            .find(|r| r.get("id") == row.get("rule"));
        if let Some(rule) = rule {
            let covers = |party: Option<&String>| {
                party.is_some_and(|p| match p.strip_prefix("class:") {
                    Some(class) => in_class(&drug, class),
                    None => *p == drug,
                })
            };
            if !covers(rule.get("drug")) && !covers(rule.get("interacts_with")) {
                c.report(
                    row,
                    format!("drug `{drug}` is not one of the rule's two drugs"),
                );
            }
        }
    }
    for row in get("condition_implications") {
        c.known(row, "condition", &conditions, "condition");
        c.known(row, "implies", &conditions, "condition");
        c.implication(row);
    }
    for cycle_row in implication_cycles(get("condition_implications")) {
        c.report(
            cycle_row,
            "implications form a cycle: a condition would imply conditions that include it"
                .to_owned(),
        );
    }
    // A KB without any of its rules answers "nothing found" for every
    // patient, under its version as usual.
    for table in [
        "interactions",
        "condition_cautions",
        "boxed_warnings",
        "dosing_rules",
        "therapies",
        "conditions",
        "lab_thresholds",
    ] {
        if get(table).is_empty() {
            c.problems.push(Problem {
                origin: table.to_owned(),
                message: format!("table `{table}` is empty: every check would find nothing in it"),
            });
        }
    }

    for row in get("interactions") {
        c.party(row, "drug", &drugs, &classes);
        c.party(row, "interacts_with", &drugs, &classes);
        c.rule_enums(row);
        for column in ["id", "mechanism", "effect", "management"] {
            c.non_empty(row, column);
        }
    }
    for row in get("condition_cautions") {
        c.party(row, "drug", &drugs, &classes);
        c.known(row, "condition", &conditions, "condition");
        c.rule_enums(row);
        c.age_rule_text(row);
    }
    for row in get("class_count_rules") {
        c.known(row, "class", &classes, "class");
        c.rule_enums(row);
        // Two members at least: one drug alone is no combination.
        let count = row.get("min_count").cloned().unwrap_or_default();
        if !count.parse::<u32>().is_ok_and(|n| n >= 2) {
            c.report(
                row,
                format!("bad min_count `{count}` (expected a whole number, 2 or more)"),
            );
        }
        c.age_rule_text(row);
    }
    for row in get("boxed_warnings") {
        c.known(row, "drug", &drugs, "drug");
        c.rule_enums(row);
        c.non_empty(row, "title");
        c.non_empty(row, "summary");
    }
    for row in get("dosing_rules") {
        c.known(row, "drug", &drugs, "drug");
        c.one_of(row, "jurisdiction", RULE_JURISDICTIONS);
        c.one_of(row, "route", &["oral", "parenteral", "any"]);
        let population = row.get("population").cloned().unwrap_or_default();
        if population != "any" && !conditions.contains(&population) {
            c.report(
                row,
                format!(
                    "dangling reference: population `{population}` is not `any` or a condition"
                ),
            );
        }
        for column in ["id", "indication", "schedule"] {
            c.non_empty(row, column);
        }
        c.dose_plan(row);
    }
    for row in get("therapies") {
        c.known(row, "drug", &drugs, "drug");
        c.one_of(row, "standing", STANDINGS);
        c.one_of(row, "evidence_level", EVIDENCE_LEVELS);
        c.one_of(row, "jurisdiction", RULE_JURISDICTIONS);
        c.non_empty(row, "indication");
        c.non_empty(row, "summary");
    }
    let therapy_drugs = column_set("therapies", "drug");
    for row in get("therapy_forms") {
        c.known(
            row,
            "therapy",
            &therapy_drugs,
            "therapy (a drug of therapies.csv)",
        );
        c.party(row, "form", &drugs, &classes);
    }

    c.problems.sort();
    c.problems.dedup();
    c.problems
}
