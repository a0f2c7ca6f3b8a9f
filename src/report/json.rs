//! The `crampcheck.check/1` JSON document: a public contract that other
//! programs read. Field names follow the contract exactly; fields are
//! only ever added. Struct field order fixes the key order, so identical input
//! gives byte-identical output.

use crate::engine::{CheckResult, Finding};
use crate::kb::KbIndex;
use crate::kb::index::SourceId;
use crate::parse::Strength;
use crate::patient::{ConditionBasis, PatientContext};
use crate::resolve::Resolved;
use serde::Serialize;

/// The schema id of `check --format json`.
pub const CHECK_SCHEMA: &str = "crampcheck.check/1";

/// KB identification.
#[derive(Debug, Serialize)]
pub struct KbJson {
    /// Content version.
    pub version: String,
    /// Schema version.
    pub schema_version: i64,
    /// `embedded` or the KB path.
    pub origin: String,
}

impl KbJson {
    /// Identification of `kb`.
    pub fn of(kb: &KbIndex) -> Self {
        KbJson {
            version: kb.meta.version.clone(),
            schema_version: kb.meta.schema_version,
            origin: kb.meta.origin.clone(),
        }
    }
}

/// The proposed drug as resolved.
#[derive(Debug, Serialize)]
pub struct ProposedJson {
    /// As typed.
    pub input: String,
    /// recognized | ambiguous | unrecognized.
    pub status: &'static str,
    /// How it matched.
    pub matched_by: Option<&'static str>,
    /// Canonical ingredient names.
    pub ingredients: Vec<String>,
    /// Strength written with it, if one ingredient.
    pub strength: Option<StrengthJson>,
    /// Frequency written with it.
    pub frequency: Option<String>,
}

/// A strength.
#[derive(Debug, Serialize, Clone)]
pub struct StrengthJson {
    /// Number.
    pub value: f64,
    /// Unit, if written.
    pub unit: Option<String>,
}

impl From<&Strength> for StrengthJson {
    fn from(s: &Strength) -> Self {
        StrengthJson {
            value: s.value,
            unit: s.unit.clone(),
        }
    }
}

/// A strength tied to one ingredient of a combination.
#[derive(Debug, Serialize)]
pub struct IngredientStrengthJson {
    /// Canonical ingredient.
    pub ingredient: String,
    /// Number.
    pub value: f64,
    /// Unit, if written.
    pub unit: Option<String>,
}

/// One listed medication as resolved.
#[derive(Debug, Serialize)]
pub struct MedicationJson {
    /// As typed.
    pub input: String,
    /// recognized | ambiguous | unrecognized.
    pub status: &'static str,
    /// generic | brand | synonym | product | fuzzy.
    pub matched_by: Option<&'static str>,
    /// Canonical ingredient names recognized.
    pub ingredients: Vec<String>,
    /// The strength, when the medication has one ingredient.
    pub strength: Option<StrengthJson>,
    /// Route, if written.
    pub route: Option<String>,
    /// Frequency, if written.
    pub frequency: Option<String>,
    /// For ambiguous names: what it could mean.
    pub candidates: Vec<String>,
    /// For unrecognized names: close known names.
    pub suggestions: Vec<String>,
    /// Name parts that could not be resolved.
    pub unresolved: Vec<String>,
    /// Fuzzy matches: what was written and what it was taken as.
    pub fuzzy_matches: Vec<FuzzyJson>,
    /// Per-ingredient strengths (combinations).
    pub strengths: Vec<IngredientStrengthJson>,
    /// finding | none_expected | none_on_file | not_checked.
    pub interaction_check: &'static str,
    /// Sources of a documented non-interaction.
    pub interaction_check_sources: Vec<SourceJson>,
}

/// A fuzzy match.
#[derive(Debug, Serialize)]
pub struct FuzzyJson {
    /// As written.
    pub written: String,
    /// Taken as.
    pub matched: String,
}

/// A cited source.
#[derive(Debug, Serialize)]
pub struct SourceJson {
    /// Title, maker, year.
    pub citation: String,
    /// Section.
    pub section: String,
    /// Whose document.
    pub jurisdiction: String,
    /// KB source id.
    pub id: String,
    /// Document date.
    pub date: String,
    /// Where it was read.
    pub url: String,
}

impl SourceJson {
    /// The JSON form of KB source `id`.
    pub fn of(kb: &KbIndex, id: SourceId) -> Self {
        let s = &kb.sources[id as usize];
        SourceJson {
            citation: s.citation.clone(),
            section: s.section.clone(),
            jurisdiction: s.jurisdiction.clone(),
            id: s.id.clone(),
            date: s.date.clone(),
            url: s.url.clone(),
        }
    }
}

/// One finding.
#[derive(Debug, Serialize)]
pub struct FindingJson {
    /// interaction | condition | boxed_warning | duplicate | dose | cause | unrecognized.
    pub kind: &'static str,
    /// contraindicated | major | moderate | minor | info.
    pub severity: &'static str,
    /// What to do.
    pub action: &'static str,
    /// How well documented.
    pub evidence: Option<&'static str>,
    /// Canonical ingredient names involved.
    pub drugs: Vec<String>,
    /// Condition code, for condition findings.
    pub condition: Option<String>,
    /// First input medication that triggered it.
    pub medication_index: Option<usize>,
    /// Every input medication that triggered it.
    pub medication_indices: Vec<usize>,
    /// Headline.
    pub title: String,
    /// Why.
    pub mechanism: String,
    /// What happens.
    pub effect: String,
    /// What to do.
    pub management: String,
    /// Cited sources.
    pub sources: Vec<SourceJson>,
    /// The patient fact behind a condition finding.
    pub basis: Option<String>,
    /// KB rows merged into it.
    pub rule_ids: Vec<String>,
}

impl FindingJson {
    /// The effect, when it says more than the title: a condition finding's
    /// effect is its rows' titles as sentences, which would repeat the
    /// headline word for word.
    pub fn effect_beyond_title(&self) -> Option<&str> {
        let effect = self.effect.trim_end_matches('.');
        (!effect.is_empty() && effect != self.title.trim_end_matches('.')).then_some(&self.effect)
    }

    /// The JSON form of a finding.
    pub fn of(kb: &KbIndex, f: &Finding) -> Self {
        FindingJson {
            kind: f.kind.as_str(),
            severity: f.severity.as_str(),
            action: f.action.as_str(),
            evidence: f.evidence.map(|e| e.as_str()),
            drugs: f.drugs.clone(),
            condition: f.condition.clone(),
            medication_index: f.medication_indices.first().copied(),
            medication_indices: f.medication_indices.clone(),
            title: f.title.clone(),
            mechanism: f.mechanism.clone(),
            effect: f.effect.clone(),
            management: f.management.clone(),
            sources: f.sources.iter().map(|s| SourceJson::of(kb, *s)).collect(),
            basis: f.basis.clone(),
            rule_ids: f.rule_ids.clone(),
        }
    }
}

/// The patient context echoed back, so a stored report says what it assumed.
#[derive(Debug, Serialize)]
pub struct PatientJson {
    /// eGFR.
    pub egfr: Option<f64>,
    /// QTc.
    pub qtc: Option<f64>,
    /// Potassium.
    pub potassium: Option<f64>,
    /// Magnesium.
    pub magnesium: Option<f64>,
    /// Age.
    pub age: Option<f64>,
    /// Conditions that applied and why.
    pub conditions: Vec<ConditionJson>,
}

/// A condition that applied.
#[derive(Debug, Serialize)]
pub struct ConditionJson {
    /// Code.
    pub code: String,
    /// `stated` or the lab comparison.
    pub basis: String,
    /// For a stated condition the lab value given does not support: what
    /// the value says (`eGFR 75 mL/min/1.73m2 is not < 60`); the condition
    /// still applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl PatientJson {
    /// The JSON form of a patient context.
    pub fn of(kb: &KbIndex, p: &PatientContext) -> Self {
        PatientJson {
            egfr: p.input.egfr,
            qtc: p.input.qtc,
            potassium: p.input.potassium,
            magnesium: p.input.magnesium,
            age: p.input.age,
            conditions: p
                .conditions
                .iter()
                .map(|(c, basis)| ConditionJson {
                    code: kb.conditions[*c as usize].code.clone(),
                    basis: match basis {
                        ConditionBasis::Stated => "stated".to_owned(),
                        ConditionBasis::Lab(text) => text.clone(),
                        ConditionBasis::Implied(by) => format!("implied by {by}"),
                    },
                    note: p.unsupported(kb, *c),
                })
                .collect(),
        }
    }
}

/// The whole `crampcheck.check/1` document.
#[derive(Debug, Serialize)]
pub struct CheckJson {
    /// Always `crampcheck.check/1`.
    pub schema: &'static str,
    /// KB identification.
    pub kb: KbJson,
    /// Whose label facts applied.
    pub jurisdiction: &'static str,
    /// The proposed drug.
    pub proposed: ProposedJson,
    /// The listed medications, in input order.
    pub medications: Vec<MedicationJson>,
    /// The patient context.
    pub patient: PatientJson,
    /// Findings, most severe first.
    pub findings: Vec<FindingJson>,
    /// avoid | incomplete | caution | ok.
    pub verdict: &'static str,
    /// Whether every name was resolved.
    pub complete: bool,
}

/// The JSON form of a resolved medication, with what the check found for it.
pub fn medication_json(
    kb: &KbIndex,
    med: &Resolved,
    check: Option<&crate::engine::PairCheck>,
) -> MedicationJson {
    let names: Vec<String> = med
        .ingredients
        .iter()
        .map(|i| kb.drug_name(i.drug).to_owned())
        .collect();
    let (interaction_check, interaction_check_sources) = match check {
        Some(c) => (
            c.as_str(),
            match c {
                crate::engine::PairCheck::NoneExpected(sources) => {
                    let mut sources = sources.clone();
                    crate::engine::finding::sort_sources(kb, &mut sources);
                    sources.iter().map(|s| SourceJson::of(kb, *s)).collect()
                }
                _ => Vec::new(),
            },
        ),
        None => ("not_checked", Vec::new()),
    };
    MedicationJson {
        input: med.med.input.clone(),
        status: med.status.as_str(),
        matched_by: med.matched_by.map(|m| m.as_str()),
        strength: match med.ingredients.as_slice() {
            [only] => only.strength.as_ref().map(StrengthJson::from),
            _ => None,
        },
        route: med.med.route.clone(),
        frequency: med.med.frequency.clone(),
        candidates: med.candidates.clone(),
        suggestions: med.suggestions.clone(),
        unresolved: med.unresolved.clone(),
        fuzzy_matches: med
            .fuzzy
            .iter()
            .map(|(written, matched)| FuzzyJson {
                written: written.clone(),
                matched: matched.clone(),
            })
            .collect(),
        strengths: med
            .ingredients
            .iter()
            .filter_map(|i| {
                i.strength.as_ref().map(|s| IngredientStrengthJson {
                    ingredient: kb.drug_name(i.drug).to_owned(),
                    value: s.value,
                    unit: s.unit.clone(),
                })
            })
            .collect(),
        ingredients: names,
        interaction_check,
        interaction_check_sources,
    }
}

/// Builds the check document.
pub fn check_json(
    kb: &KbIndex,
    proposed: &Resolved,
    meds: &[Resolved],
    patient: &PatientContext,
    jurisdiction: crate::clinical::Jurisdiction,
    result: &CheckResult,
) -> CheckJson {
    CheckJson {
        schema: CHECK_SCHEMA,
        kb: KbJson::of(kb),
        jurisdiction: jurisdiction.as_str(),
        proposed: ProposedJson {
            input: proposed.med.input.clone(),
            status: proposed.status.as_str(),
            matched_by: proposed.matched_by.map(|m| m.as_str()),
            ingredients: proposed
                .ingredients
                .iter()
                .map(|i| kb.drug_name(i.drug).to_owned())
                .collect(),
            strength: match proposed.ingredients.as_slice() {
                [only] => only.strength.as_ref().map(StrengthJson::from),
                _ => None,
            },
            frequency: proposed.med.frequency.clone(),
        },
        medications: meds
            .iter()
            .zip(&result.pair_checks)
            .map(|(m, c)| medication_json(kb, m, Some(c)))
            .collect(),
        patient: PatientJson::of(kb, patient),
        findings: result
            .findings
            .iter()
            .map(|f| FindingJson::of(kb, f))
            .collect(),
        verdict: result.verdict.as_str(),
        complete: result.complete,
    }
}
