//! The in-memory index of a knowledge base: every table read once from SQLite
//! into plain vectors and hash maps, so that resolution and checks never query
//! SQLite per medication or per row.

use super::error::KbError;
use super::names::{compact_key, name_key, split_aliases};
use crate::clinical::{Action, Evidence, Jurisdiction, Severity};
use std::collections::HashMap;

/// SNOMED CT semantic tags a condition's name may end with.
const SNOMED_TAGS: [&str; 4] = [
    "disorder",
    "finding",
    "situation",
    "morphologic abnormality",
];

/// Position of a drug in [`KbIndex::drugs`].
pub type DrugId = u32;
/// Position of a class in [`KbIndex::classes`].
pub type ClassId = u32;
/// Position of a condition in [`KbIndex::conditions`].
pub type ConditionId = u32;
/// Position of a source in [`KbIndex::sources`].
pub type SourceId = u32;

/// A cited document section.
#[derive(Debug, Clone)]
pub struct Source {
    /// Stable id used by content rows.
    pub id: String,
    /// Title, maker or author, year.
    pub citation: String,
    /// Label section or guideline part.
    pub section: String,
    /// Whose label or guideline it is (`US`, `UK`, `intl`, ...).
    pub jurisdiction: String,
    /// `label`, `guideline`, `study`, `review`, `compendium` or `vocabulary`.
    pub kind: String,
    /// Revision date of the document.
    pub date: String,
    /// Where it was read.
    pub url: String,
}

/// An ingredient the KB knows, under its canonical US generic name.
#[derive(Debug, Clone)]
pub struct Drug {
    /// Canonical lowercase US generic name.
    pub name: String,
    /// Short therapeutic category.
    pub category: String,
    /// Classes the drug belongs to.
    pub classes: Vec<ClassId>,
    /// Sources of the vocabulary row.
    pub sources: Vec<SourceId>,
}

/// A drug class (macrolides, CNS depressants, ...).
#[derive(Debug, Clone)]
pub struct Class {
    /// Class name as used in `class:NAME` references.
    pub name: String,
    /// What the class is for.
    pub description: String,
    /// Whether two members taken together count as duplicate therapy.
    pub duplicate_therapy: bool,
    /// Member drugs, sorted.
    pub members: Vec<DrugId>,
    /// Sources of the class definition.
    pub sources: Vec<SourceId>,
}

/// How a name in the KB relates to an ingredient; reported as `matched_by`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    /// The canonical generic name itself.
    Generic,
    /// An INN/BAN synonym, salt form or abbreviation.
    Synonym,
    /// A brand name.
    Brand,
}

/// What a name key points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameTarget {
    /// One ingredient.
    Drug(DrugId, NameKind),
    /// A combination product and its ingredients.
    Product(Vec<DrugId>),
    /// A class name: ambiguous on its own, its members are the candidates.
    Class(ClassId),
}

/// One side of a rule: a single drug or every member of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Party {
    /// A single ingredient.
    Drug(DrugId),
    /// Every member of a class.
    Class(ClassId),
}

/// A drug–drug interaction (or documented non-interaction) row.
#[derive(Debug, Clone)]
pub struct InteractionRule {
    /// Stable row id.
    pub id: String,
    /// The cramp-drug side.
    pub drug: Party,
    /// The other side.
    pub interacts_with: Party,
    /// How bad (`None` = documented non-interaction).
    pub severity: Severity,
    /// What to do.
    pub action: Action,
    /// How well documented.
    pub evidence: Evidence,
    /// Why it happens.
    pub mechanism: String,
    /// What happens, with magnitude where known.
    pub effect: String,
    /// What the pharmacist should do.
    pub management: String,
    /// Whose label the row comes from.
    pub jurisdiction: Jurisdiction,
    /// Cited sources.
    pub sources: Vec<SourceId>,
    /// Drugs of the row that must be given by a route for it to hold
    /// (dantrolene by infusion).
    pub routes: Vec<(DrugId, RouteNeed)>,
}

/// The route an interaction row needs one of its drugs given by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteNeed {
    /// Injected or infused.
    Parenteral,
    /// By mouth.
    Oral,
}

impl RouteNeed {
    /// Parses the KB spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "parenteral" => Some(RouteNeed::Parenteral),
            "oral" => Some(RouteNeed::Oral),
            _ => None,
        }
    }

    /// The KB spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteNeed::Parenteral => "parenteral",
            RouteNeed::Oral => "oral",
        }
    }

    /// Whether a medication written with `route` (the parser's spelling)
    /// may be given by this route; a route not written may be any.
    pub fn met_by(self, route: Option<&str>) -> bool {
        match (route, self) {
            (None, _) => true,
            (Some(route), RouteNeed::Parenteral) => matches!(
                route,
                "iv" | "im" | "subcutaneous" | "intrathecal" | "parenteral"
            ),
            (Some(route), RouteNeed::Oral) => route == "oral",
        }
    }
}

/// A drug–condition caution (contraindication, warning, Beers rule).
#[derive(Debug, Clone)]
pub struct ConditionRule {
    /// Stable row id.
    pub id: String,
    /// The drug (or class) the caution is about.
    pub drug: Party,
    /// The patient condition.
    pub condition: ConditionId,
    /// Applies only at or above this age (e.g. Beers: 65).
    pub min_age: Option<u32>,
    /// How bad.
    pub severity: Severity,
    /// What to do.
    pub action: Action,
    /// How well documented.
    pub evidence: Evidence,
    /// Short title.
    pub title: String,
    /// Why it matters.
    pub mechanism: String,
    /// What the pharmacist should do.
    pub management: String,
    /// Whose label the row comes from.
    pub jurisdiction: Jurisdiction,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// A rule on how many members of one class are taken together (Beers:
/// three or more CNS-active drugs in an older adult).
#[derive(Debug, Clone)]
pub struct ClassCountRule {
    /// Stable row id.
    pub id: String,
    /// The class whose members are counted.
    pub class: ClassId,
    /// Distinct members, the proposed drug among them, at which it applies.
    pub min_count: u32,
    /// Applies only at or above this age.
    pub min_age: Option<u32>,
    /// How bad.
    pub severity: Severity,
    /// What to do.
    pub action: Action,
    /// How well documented.
    pub evidence: Evidence,
    /// Short title.
    pub title: String,
    /// Why it matters.
    pub mechanism: String,
    /// What the pharmacist should do.
    pub management: String,
    /// Whose label or guideline the row comes from.
    pub jurisdiction: Jurisdiction,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// A boxed warning on a drug's label.
#[derive(Debug, Clone)]
pub struct BoxedWarning {
    /// The labelled drug.
    pub drug: DrugId,
    /// Warning title.
    pub title: String,
    /// Paraphrased content.
    pub summary: String,
    /// How bad, for the proposed use.
    pub severity: Severity,
    /// What to do.
    pub action: Action,
    /// Whose label.
    pub jurisdiction: Jurisdiction,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// A dosing rule (label dose, guideline titration, renal adjustment).
#[derive(Debug, Clone)]
pub struct DosingRule {
    /// Stable row id.
    pub id: String,
    /// The drug dosed.
    pub drug: DrugId,
    /// What it is dosed for (`cirrhosis`, `spasticity`, `malaria`, ...).
    pub indication: String,
    /// `any` or the condition code of the population.
    pub population: String,
    /// Starting daily dose in mg.
    pub start_mg_per_day: Option<f64>,
    /// Daily-dose increase per step in mg.
    pub step_mg_per_day: Option<f64>,
    /// Days between steps.
    pub step_every_days: Option<u32>,
    /// Maximum daily dose in mg.
    pub max_mg_per_day: Option<f64>,
    /// Human-readable schedule.
    pub schedule: String,
    /// Caveats.
    pub note: String,
    /// The route the maximum is for; `None` for any route.
    pub route: Option<RouteNeed>,
    /// Whose label or guideline.
    pub jurisdiction: Jurisdiction,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// The guideline standing of a cramp therapy for one indication.
#[derive(Debug, Clone)]
pub struct Therapy {
    /// The therapy.
    pub drug: DrugId,
    /// `idiopathic`, `cirrhosis`, `pregnancy`, ...
    pub indication: String,
    /// `recommended`, `possibly-effective`, ...
    pub standing: String,
    /// `A`, `B`, `C` or `U`.
    pub evidence_level: String,
    /// What the guideline says.
    pub summary: String,
    /// Whose guideline.
    pub jurisdiction: Jurisdiction,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// A drug dispensed under its own name that is a form of a cramp therapy
/// (each magnesium salt is the magnesium therapy).
#[derive(Debug, Clone)]
pub struct TherapyForm {
    /// The therapy, a drug with a row in the therapies table.
    pub therapy: DrugId,
    /// The drug or class of drugs that are forms of it.
    pub form: Party,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// A patient condition the rules can refer to.
#[derive(Debug, Clone)]
pub struct Condition {
    /// Stable code (`qt-prolongation`).
    pub code: String,
    /// Human name.
    pub name: String,
    /// Other accepted spellings.
    pub aliases: Vec<String>,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// A laboratory value the patient context can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lab {
    /// Estimated GFR, mL/min/1.73 m².
    Egfr,
    /// Corrected QT interval, ms.
    Qtc,
    /// Serum potassium, mmol/L.
    Potassium,
    /// Serum magnesium, mg/dL.
    Magnesium,
    /// Age in years (maps e.g. 65+ onto `older-adult` for Beers rules).
    Age,
}

impl Lab {
    /// Parses the KB spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "egfr" => Lab::Egfr,
            "qtc" => Lab::Qtc,
            "potassium" => Lab::Potassium,
            "magnesium" => Lab::Magnesium,
            "age" => Lab::Age,
            _ => return None,
        })
    }

    /// Display name with unit.
    pub fn label(self) -> &'static str {
        match self {
            Lab::Egfr => "eGFR",
            Lab::Qtc => "QTc",
            Lab::Potassium => "potassium",
            Lab::Magnesium => "magnesium",
            Lab::Age => "age",
        }
    }

    /// Every lab, in report order.
    pub const ALL: [Lab; 5] = [
        Lab::Egfr,
        Lab::Qtc,
        Lab::Potassium,
        Lab::Magnesium,
        Lab::Age,
    ];

    /// The values a patient can have, in [`Lab::unit`]: outside them a
    /// value is a typing error or a wrong unit, whether given for a patient
    /// or written as a KB threshold.
    pub fn plausible_range(self) -> (f64, f64) {
        match self {
            Lab::Egfr => (0.0, 200.0),
            Lab::Qtc => (200.0, 800.0),
            Lab::Potassium => (1.0, 10.0),
            Lab::Magnesium => (0.2, 10.0),
            Lab::Age => (0.0, 130.0),
        }
    }

    /// Unit of the value.
    pub fn unit(self) -> &'static str {
        match self {
            Lab::Egfr => "mL/min/1.73m2",
            Lab::Qtc => "ms",
            Lab::Potassium => "mmol/L",
            Lab::Magnesium => "mg/dL",
            Lab::Age => "years",
        }
    }
}

/// How a lab value is compared with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// Strictly below.
    Lt,
    /// At or below.
    Le,
    /// Strictly above.
    Gt,
    /// At or above.
    Ge,
}

impl Comparator {
    /// Parses the KB spelling (`lt`, `le`, `gt`, `ge`).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "lt" => Comparator::Lt,
            "le" => Comparator::Le,
            "gt" => Comparator::Gt,
            "ge" => Comparator::Ge,
            _ => return None,
        })
    }

    /// Whether `value` is on the flagged side of `threshold`.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparator::Lt => value < threshold,
            Comparator::Le => value <= threshold,
            Comparator::Gt => value > threshold,
            Comparator::Ge => value >= threshold,
        }
    }

    /// Mathematical symbol for messages.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
        }
    }
}

/// A condition that always includes another.
#[derive(Debug, Clone)]
pub struct ConditionImplication {
    /// The narrower condition (`severe-renal-impairment`).
    pub condition: ConditionId,
    /// The condition it includes (`renal-impairment`).
    pub implies: ConditionId,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// A lab threshold that maps a value onto a condition.
#[derive(Debug, Clone)]
pub struct LabThreshold {
    /// Which lab.
    pub lab: Lab,
    /// Comparison.
    pub comparator: Comparator,
    /// Threshold value in the lab's unit.
    pub value: f64,
    /// Condition implied when the comparison holds.
    pub condition: ConditionId,
    /// Cited sources.
    pub sources: Vec<SourceId>,
}

/// Version information shown in every report.
#[derive(Debug, Clone)]
pub struct KbMeta {
    /// Content version from `db/meta.csv`.
    pub version: String,
    /// Schema version (number of migrations).
    pub schema_version: i64,
    /// `embedded` or the path of the KB file / content directory.
    pub origin: String,
}

/// The whole knowledge base, indexed for lookups.
#[derive(Debug, Clone)]
pub struct KbIndex {
    /// Version information.
    pub meta: KbMeta,
    /// Cited documents.
    pub sources: Vec<Source>,
    /// Known ingredients, sorted by name.
    pub drugs: Vec<Drug>,
    /// Drug classes, sorted by name.
    pub classes: Vec<Class>,
    /// Every name key (generic, alias, product, class) → what it means.
    pub names: HashMap<String, NameTarget>,
    /// Known conditions, sorted by code.
    pub conditions: Vec<Condition>,
    /// Condition code or alias key → condition.
    pub condition_names: HashMap<String, ConditionId>,
    /// Lab → condition thresholds.
    pub lab_thresholds: Vec<LabThreshold>,
    /// Conditions that include others (severe renal impairment is renal
    /// impairment), so a stated condition meets the cautions of both.
    pub condition_implications: Vec<ConditionImplication>,
    /// Interaction rows.
    pub interactions: Vec<InteractionRule>,
    /// Rules indexed by each of their two parties.
    pub interactions_by_party: HashMap<Party, Vec<u32>>,
    /// Drug–condition rows.
    pub condition_rules: Vec<ConditionRule>,
    /// Class-count rows.
    pub class_count_rules: Vec<ClassCountRule>,
    /// Boxed warnings.
    pub boxed_warnings: Vec<BoxedWarning>,
    /// Dosing rules.
    pub dosing_rules: Vec<DosingRule>,
    /// Cramp therapies and their guideline standing.
    pub therapies: Vec<Therapy>,
    /// Drugs that are forms of a cramp therapy.
    pub therapy_forms: Vec<TherapyForm>,
    source_ids: HashMap<String, SourceId>,
    drug_ids: HashMap<String, DrugId>,
    class_ids: HashMap<String, ClassId>,
}

use super::tables::{Row, Tables};

fn text(row: &Row, i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

fn origin(row: &Row) -> String {
    row.last().cloned().flatten().unwrap_or_default()
}

fn invalid(row: &Row, message: String) -> KbError {
    KbError::Invalid {
        origin: origin(row),
        message,
    }
}

impl KbIndex {
    /// Indexes every table. Fails on the first row the index cannot use
    /// (unknown drug, bad enumeration); `kb verify` reports all such rows at once.
    pub fn from_tables(
        tables: &Tables,
        origin_label: &str,
        schema_version: i64,
    ) -> Result<Self, KbError> {
        let version = tables
            .rows("kb_meta")
            .iter()
            .find(|r| text(r, 0) == "kb_version")
            .map(|r| text(r, 1))
            .ok_or_else(|| KbError::Invalid {
                origin: "db/meta.csv".to_owned(),
                message: "no kb_version".to_owned(),
            })?;
        let mut kb = KbIndex {
            meta: KbMeta {
                version,
                schema_version,
                origin: origin_label.to_owned(),
            },
            sources: Vec::new(),
            drugs: Vec::new(),
            classes: Vec::new(),
            names: HashMap::new(),
            conditions: Vec::new(),
            condition_names: HashMap::new(),
            lab_thresholds: Vec::new(),
            condition_implications: Vec::new(),
            interactions: Vec::new(),
            interactions_by_party: HashMap::new(),
            condition_rules: Vec::new(),
            class_count_rules: Vec::new(),
            boxed_warnings: Vec::new(),
            dosing_rules: Vec::new(),
            therapies: Vec::new(),
            therapy_forms: Vec::new(),
            source_ids: HashMap::new(),
            drug_ids: HashMap::new(),
            class_ids: HashMap::new(),
        };
        kb.load_sources(tables)?;
        kb.load_vocabulary(tables)?;
        kb.load_conditions(tables)?;
        kb.load_rules(tables)?;
        Ok(kb)
    }

    fn load_sources(&mut self, tables: &Tables) -> Result<(), KbError> {
        let mut rows: Vec<&Row> = tables.rows("sources").iter().collect();
        rows.sort_by(|a, b| a[0].cmp(&b[0]));
        for row in rows {
            self.source_ids
                .insert(text(row, 0), self.sources.len() as SourceId);
            self.sources.push(Source {
                id: text(row, 0),
                citation: text(row, 1),
                section: text(row, 2),
                jurisdiction: text(row, 3),
                kind: text(row, 4),
                date: text(row, 5),
                url: text(row, 6),
            });
        }
        Ok(())
    }

    fn source_list(&self, row: &Row, i: usize) -> Result<Vec<SourceId>, KbError> {
        let field = text(row, i);
        let mut ids = Vec::new();
        for id in field.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            let sid = self
                .source_ids
                .get(id)
                .ok_or_else(|| invalid(row, format!("unknown source `{id}`")))?;
            if !ids.contains(sid) {
                ids.push(*sid);
            }
        }
        if ids.is_empty() {
            return Err(invalid(row, "row cites no source".to_owned()));
        }
        Ok(ids)
    }

    fn load_vocabulary(&mut self, tables: &Tables) -> Result<(), KbError> {
        let mut drug_rows: Vec<&Row> = tables.rows("drugs").iter().collect();
        drug_rows.sort_by(|a, b| a[0].cmp(&b[0]));
        for row in &drug_rows {
            let name = text(row, 0);
            let id = self.drugs.len() as DrugId;
            self.drug_ids.insert(name.clone(), id);
            self.drugs.push(Drug {
                name,
                category: text(row, 1),
                classes: Vec::new(),
                sources: self.source_list(row, 2)?,
            });
        }
        let mut class_rows: Vec<&Row> = tables.rows("classes").iter().collect();
        class_rows.sort_by(|a, b| a[0].cmp(&b[0]));
        for row in &class_rows {
            let name = text(row, 0);
            self.class_ids
                .insert(name.clone(), self.classes.len() as ClassId);
            self.classes.push(Class {
                name,
                description: text(row, 1),
                duplicate_therapy: text(row, 2) == "yes",
                members: Vec::new(),
                sources: self.source_list(row, 3)?,
            });
        }
        for row in tables.rows("class_members") {
            let class = self.class_id_of(row, &text(row, 0))?;
            let drug = self.drug_id_of(row, &text(row, 1))?;
            let members = &mut self.classes[class as usize].members;
            if !members.contains(&drug) {
                members.push(drug);
                self.drugs[drug as usize].classes.push(class);
            }
        }
        for class in &mut self.classes {
            class.members.sort_unstable();
        }
        for drug in &mut self.drugs {
            drug.classes.sort_unstable();
        }
        // Names: generic names first so that an alias can never shadow one.
        for (id, drug) in self.drugs.iter().enumerate() {
            insert_name(
                &mut self.names,
                &drug.name,
                NameTarget::Drug(id as DrugId, NameKind::Generic),
            );
        }
        for row in tables.rows("aliases") {
            let drug = self.drug_id_of(row, &text(row, 1))?;
            let kind = match text(row, 2).as_str() {
                "brand" => NameKind::Brand,
                _ => NameKind::Synonym,
            };
            insert_name(&mut self.names, &text(row, 0), NameTarget::Drug(drug, kind));
        }
        let mut products: Vec<(String, Vec<DrugId>)> = Vec::new();
        for row in tables.rows("products") {
            let drug = self.drug_id_of(row, &text(row, 1))?;
            let product = text(row, 0);
            match products.iter_mut().find(|(p, _)| *p == product) {
                Some((_, ingredients)) => ingredients.push(drug),
                None => products.push((product, vec![drug])),
            }
        }
        for (product, mut ingredients) in products {
            ingredients.sort_unstable();
            ingredients.dedup();
            insert_name(&mut self.names, &product, NameTarget::Product(ingredients));
        }
        for (id, class) in self.classes.iter().enumerate() {
            insert_name(
                &mut self.names,
                &class.name,
                NameTarget::Class(id as ClassId),
            );
        }
        Ok(())
    }

    fn load_conditions(&mut self, tables: &Tables) -> Result<(), KbError> {
        let mut rows: Vec<&Row> = tables.rows("conditions").iter().collect();
        rows.sort_by(|a, b| a[0].cmp(&b[0]));
        for row in &rows {
            let id = self.conditions.len() as ConditionId;
            let code = text(row, 0);
            let aliases = split_aliases(&text(row, 2));
            self.condition_names.insert(name_key(&code), id);
            self.condition_names.insert(name_key(&text(row, 1)), id);
            for alias in &aliases {
                self.condition_names.entry(name_key(alias)).or_insert(id);
            }
            self.conditions.push(Condition {
                code,
                name: text(row, 1),
                aliases,
                sources: self.source_list(row, 3)?,
            });
        }
        for row in tables.rows("lab_thresholds") {
            let lab = Lab::parse(&text(row, 0))
                .ok_or_else(|| invalid(row, format!("unknown lab `{}`", text(row, 0))))?;
            let comparator = Comparator::parse(&text(row, 1))
                .ok_or_else(|| invalid(row, format!("unknown comparator `{}`", text(row, 1))))?;
            let value = text(row, 2)
                .parse::<f64>()
                .map_err(|_| invalid(row, "threshold is not a number".to_owned()))?;
            let condition = self.condition_id_of(row, &text(row, 3))?;
            self.lab_thresholds.push(LabThreshold {
                lab,
                comparator,
                value,
                condition,
                sources: self.source_list(row, 4)?,
            });
        }
        for row in tables.rows("condition_implications") {
            let implication = ConditionImplication {
                condition: self.condition_id_of(row, &text(row, 0))?,
                implies: self.condition_id_of(row, &text(row, 1))?,
                sources: self.source_list(row, 2)?,
            };
            self.condition_implications.push(implication);
        }
        Ok(())
    }

    fn load_rules(&mut self, tables: &Tables) -> Result<(), KbError> {
        for row in tables.rows("interactions") {
            let rule = InteractionRule {
                id: text(row, 0),
                drug: self.party_of(row, &text(row, 1))?,
                interacts_with: self.party_of(row, &text(row, 2))?,
                severity: severity_of(row, 3)?,
                action: action_of(row, 4)?,
                evidence: evidence_of(row, 5)?,
                mechanism: text(row, 6),
                effect: text(row, 7),
                management: text(row, 8),
                jurisdiction: jurisdiction_of(row, 9)?,
                sources: self.source_list(row, 10)?,
                routes: Vec::new(),
            };
            let idx = self.interactions.len() as u32;
            self.interactions_by_party
                .entry(rule.drug)
                .or_default()
                .push(idx);
            if rule.interacts_with != rule.drug {
                self.interactions_by_party
                    .entry(rule.interacts_with)
                    .or_default()
                    .push(idx);
            }
            self.interactions.push(rule);
        }
        for row in tables.rows("interaction_routes") {
            let id = text(row, 0);
            let drug = self.drug_id_of(row, &text(row, 1))?;
            let need = RouteNeed::parse(&text(row, 2))
                .ok_or_else(|| invalid(row, format!("unknown route `{}`", text(row, 2))))?;
            let rule = self
                .interactions
                .iter_mut()
                .find(|r| r.id == id)
                .ok_or_else(|| invalid(row, format!("unknown interaction `{id}`")))?;
            rule.routes.push((drug, need));
        }
        for row in tables.rows("condition_cautions") {
            let min_age = match row.get(3).cloned().flatten() {
                None => None,
                Some(age) => Some(
                    age.parse::<u32>()
                        .map_err(|_| invalid(row, format!("bad min_age `{age}`")))?,
                ),
            };
            let rule = ConditionRule {
                id: text(row, 0),
                drug: self.party_of(row, &text(row, 1))?,
                condition: self.condition_id_of(row, &text(row, 2))?,
                min_age,
                severity: severity_of(row, 4)?,
                action: action_of(row, 5)?,
                evidence: evidence_of(row, 6)?,
                title: text(row, 7),
                mechanism: text(row, 8),
                management: text(row, 9),
                jurisdiction: jurisdiction_of(row, 10)?,
                sources: self.source_list(row, 11)?,
            };
            self.condition_rules.push(rule);
        }
        for row in tables.rows("class_count_rules") {
            let whole = |i: usize, what: &str| -> Result<Option<u32>, KbError> {
                match row.get(i).cloned().flatten() {
                    None => Ok(None),
                    Some(n) => n
                        .parse::<u32>()
                        .map(Some)
                        .map_err(|_| invalid(row, format!("bad {what} `{n}`"))),
                }
            };
            let rule = ClassCountRule {
                id: text(row, 0),
                class: self.class_id_of(row, &text(row, 1))?,
                min_count: whole(2, "min_count")?
                    .ok_or_else(|| invalid(row, "no min_count".to_owned()))?,
                min_age: whole(3, "min_age")?,
                severity: severity_of(row, 4)?,
                action: action_of(row, 5)?,
                evidence: evidence_of(row, 6)?,
                title: text(row, 7),
                mechanism: text(row, 8),
                management: text(row, 9),
                jurisdiction: jurisdiction_of(row, 10)?,
                sources: self.source_list(row, 11)?,
            };
            self.class_count_rules.push(rule);
        }
        for row in tables.rows("boxed_warnings") {
            let warning = BoxedWarning {
                drug: self.drug_id_of(row, &text(row, 0))?,
                title: text(row, 1),
                summary: text(row, 2),
                severity: severity_of(row, 3)?,
                action: action_of(row, 4)?,
                jurisdiction: jurisdiction_of(row, 5)?,
                sources: self.source_list(row, 6)?,
            };
            self.boxed_warnings.push(warning);
        }
        for row in tables.rows("dosing_rules") {
            let number = |i: usize| -> Result<Option<f64>, KbError> {
                match row.get(i).cloned().flatten() {
                    None => Ok(None),
                    Some(v) => v
                        .parse::<f64>()
                        .map(Some)
                        .map_err(|_| invalid(row, format!("`{v}` is not a number"))),
                }
            };
            let rule = DosingRule {
                id: text(row, 0),
                drug: self.drug_id_of(row, &text(row, 1))?,
                indication: text(row, 2),
                population: text(row, 3),
                start_mg_per_day: number(4)?,
                step_mg_per_day: number(5)?,
                step_every_days: number(6)?.map(|d| d as u32),
                max_mg_per_day: number(7)?,
                schedule: text(row, 8),
                note: text(row, 9),
                route: match text(row, 10).as_str() {
                    "any" => None,
                    route => Some(
                        RouteNeed::parse(route)
                            .ok_or_else(|| invalid(row, format!("unknown route `{route}`")))?,
                    ),
                },
                jurisdiction: jurisdiction_of(row, 11)?,
                sources: self.source_list(row, 12)?,
            };
            self.dosing_rules.push(rule);
        }
        for row in tables.rows("therapies") {
            let therapy = Therapy {
                drug: self.drug_id_of(row, &text(row, 0))?,
                indication: text(row, 1),
                standing: text(row, 2),
                evidence_level: text(row, 3),
                summary: text(row, 4),
                jurisdiction: jurisdiction_of(row, 5)?,
                sources: self.source_list(row, 6)?,
            };
            self.therapies.push(therapy);
        }
        for row in tables.rows("therapy_forms") {
            let form = TherapyForm {
                therapy: self.drug_id_of(row, &text(row, 0))?,
                form: self.party_of(row, &text(row, 1))?,
                sources: self.source_list(row, 2)?,
            };
            self.therapy_forms.push(form);
        }
        Ok(())
    }

    fn drug_id_of(&self, row: &Row, name: &str) -> Result<DrugId, KbError> {
        self.drug_ids
            .get(name)
            .copied()
            .ok_or_else(|| invalid(row, format!("unknown drug `{name}`")))
    }

    fn class_id_of(&self, row: &Row, name: &str) -> Result<ClassId, KbError> {
        self.class_ids
            .get(name)
            .copied()
            .ok_or_else(|| invalid(row, format!("unknown class `{name}`")))
    }

    fn condition_id_of(&self, row: &Row, code: &str) -> Result<ConditionId, KbError> {
        self.conditions
            .iter()
            .position(|c| c.code == code)
            .map(|i| i as ConditionId)
            .ok_or_else(|| invalid(row, format!("unknown condition `{code}`")))
    }

    fn party_of(&self, row: &Row, text: &str) -> Result<Party, KbError> {
        match text.strip_prefix("class:") {
            Some(class) => Ok(Party::Class(self.class_id_of(row, class)?)),
            None => Ok(Party::Drug(self.drug_id_of(row, text)?)),
        }
    }

    /// The drug with this canonical name, if known.
    pub fn drug_by_name(&self, name: &str) -> Option<DrugId> {
        self.drug_ids.get(name).copied()
    }

    /// The class with this name, if known.
    pub fn class_by_name(&self, name: &str) -> Option<ClassId> {
        self.class_ids.get(name).copied()
    }

    /// Canonical name of a drug.
    pub fn drug_name(&self, id: DrugId) -> &str {
        &self.drugs[id as usize].name
    }

    /// What a name means (generic, alias, product or class), tolerant of
    /// spacing and punctuation.
    pub fn lookup(&self, text: &str) -> Option<&NameTarget> {
        let key = name_key(text);
        self.names.get(&key).or_else(|| match key.contains(' ') {
            true => self.names.get(&compact_key(&key)),
            false => None,
        })
    }

    /// The condition a code, name or alias refers to, with or without a
    /// SNOMED CT semantic tag after it.
    pub fn condition_by_name(&self, text: &str) -> Option<ConditionId> {
        let found = |t: &str| self.condition_names.get(&name_key(t)).copied();
        found(text)
            .or_else(|| {
                // SNOMED CT names carry a semantic tag, as Synthea and EHR
                // Condition displays do: "Myasthenia gravis (disorder)".
                let (name, tag) = text.trim_end().strip_suffix(')')?.rsplit_once(" (")?;
                SNOMED_TAGS.contains(&tag).then(|| found(name)).flatten()
            })
            .or_else(|| found(&stage_apart(text)))
    }

    /// Whether `drug` is a cramp therapy: it has a row in the therapies
    /// table, or the therapy-forms table names it a form of one that has.
    pub fn is_cramp_therapy(&self, drug: DrugId) -> bool {
        let has_row = |d: DrugId| self.therapies.iter().any(|t| t.drug == d);
        has_row(drug)
            || self
                .therapy_forms
                .iter()
                .any(|f| has_row(f.therapy) && self.party_covers(f.form, drug))
    }

    /// Whether a combination product in the KB holds both drugs: such a
    /// pair is put together by design, not a co-prescription to check.
    pub fn combined_in_a_product(&self, a: DrugId, b: DrugId) -> bool {
        self.names.values().any(|target| {
            matches!(target, NameTarget::Product(ids) if ids.contains(&a) && ids.contains(&b))
        })
    }

    /// The parties a drug takes part in: itself and each of its classes.
    pub fn parties_of(&self, drug: DrugId) -> Vec<Party> {
        let mut parties = vec![Party::Drug(drug)];
        parties.extend(
            self.drugs[drug as usize]
                .classes
                .iter()
                .map(|c| Party::Class(*c)),
        );
        parties
    }

    /// Whether `party` covers `drug` (the drug itself or a class containing it).
    pub fn party_covers(&self, party: Party, drug: DrugId) -> bool {
        match party {
            Party::Drug(d) => d == drug,
            Party::Class(c) => self.drugs[drug as usize].classes.contains(&c),
        }
    }

    /// Display form of a party: the drug name or `class NAME`.
    pub fn party_name(&self, party: Party) -> String {
        match party {
            Party::Drug(d) => self.drug_name(d).to_owned(),
            Party::Class(c) => format!("class:{}", self.classes[c as usize].name),
        }
    }
}

fn insert_name(names: &mut HashMap<String, NameTarget>, name: &str, target: NameTarget) {
    let key = name_key(name);
    if key.contains(' ') {
        names
            .entry(compact_key(&key))
            .or_insert_with(|| target.clone());
    }
    names.entry(key).or_insert(target);
}

fn severity_of(row: &Row, i: usize) -> Result<Severity, KbError> {
    let value = text(row, i);
    Severity::parse(&value)
        .filter(|s| *s != Severity::Info)
        .ok_or_else(|| invalid(row, format!("unknown severity `{value}`")))
}

fn action_of(row: &Row, i: usize) -> Result<Action, KbError> {
    let value = text(row, i);
    Action::parse(&value).ok_or_else(|| invalid(row, format!("unknown action `{value}`")))
}

fn evidence_of(row: &Row, i: usize) -> Result<Evidence, KbError> {
    let value = text(row, i);
    Evidence::parse(&value).ok_or_else(|| invalid(row, format!("unknown evidence `{value}`")))
}

fn jurisdiction_of(row: &Row, i: usize) -> Result<Jurisdiction, KbError> {
    let value = text(row, i);
    Jurisdiction::parse(&value)
        .filter(|_| !value.is_empty())
        .ok_or_else(|| invalid(row, format!("unknown jurisdiction `{value}`")))
}

/// A stage number written against its letters set apart (`CKD4` →
/// `CKD 4`), as condition names write it.
fn stage_apart(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let mut previous: Option<char> = None;
    for c in text.chars() {
        if c.is_ascii_digit() && previous.is_some_and(|p| p.is_alphabetic()) {
            out.push(' ');
        }
        out.push(c);
        previous = Some(c);
    }
    out
}
