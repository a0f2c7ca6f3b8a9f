//! Proposed drug × the whole list: rules on how many drugs of one class are
//! taken together (AGS Beers 2023: three or more CNS-active drugs in an
//! older adult). A pairwise check cannot see these: each pair may be
//! acceptable while the total is not.

use super::CheckRequest;
use super::finding::{Finding, FindingKind, RuleView, merge, select_jurisdiction};
use crate::clinical::Jurisdiction;
use crate::kb::KbIndex;
use crate::kb::index::{ClassId, DrugId};
use crate::patient::PatientContext;
use crate::resolve::Resolved;

/// The class-count findings of a `check` request.
pub fn check_counts(kb: &KbIndex, req: &CheckRequest<'_>) -> Vec<Finding> {
    count_findings(
        kb,
        req.proposed,
        req.meds.iter().enumerate(),
        req.patient,
        req.jurisdiction,
    )
}

/// One finding per counted class of which the proposed drug holds a
/// member, when the patient meets the rule's age and the distinct members
/// of the proposed drug and the `listed` medications (each with the index
/// it is reported by) reach the rule's count. Every ingredient counts once,
/// a combination product's each (olanzapine/fluoxetine is two).
pub fn count_findings<'m>(
    kb: &KbIndex,
    proposed: &Resolved,
    listed: impl Iterator<Item = (usize, &'m Resolved)> + Clone,
    patient: &PatientContext,
    jurisdiction: Jurisdiction,
) -> Vec<Finding> {
    let mut classes: Vec<ClassId> = Vec::new();
    for ingredient in &proposed.ingredients {
        for &class in &kb.drugs[ingredient.drug as usize].classes {
            let counted = kb.class_count_rules.iter().any(|r| r.class == class);
            if counted && !classes.contains(&class) {
                classes.push(class);
            }
        }
    }
    let mut findings = Vec::new();
    for class in classes {
        let rules: Vec<_> = kb
            .class_count_rules
            .iter()
            .filter(|r| r.class == class)
            .filter(|r| {
                r.min_age
                    .is_none_or(|min| patient.is_at_least(kb, f64::from(min)))
            })
            .collect();
        if rules.is_empty() {
            continue;
        }
        let member = |drug: DrugId| kb.drugs[drug as usize].classes.contains(&class);
        let mut members: Vec<DrugId> = Vec::new();
        for ingredient in &proposed.ingredients {
            if member(ingredient.drug) && !members.contains(&ingredient.drug) {
                members.push(ingredient.drug);
            }
        }
        let mut indices = Vec::new();
        for (index, med) in listed.clone() {
            for ingredient in med.ingredients.iter().filter(|i| member(i.drug)) {
                if !members.contains(&ingredient.drug) {
                    members.push(ingredient.drug);
                }
                if !indices.contains(&index) {
                    indices.push(index);
                }
            }
        }
        let count = members.len();
        let views: Vec<RuleView<'_>> = rules
            .into_iter()
            .filter(|r| count >= r.min_count as usize)
            .map(|r| RuleView {
                id: &r.id,
                severity: r.severity,
                action: r.action,
                evidence: r.evidence,
                mechanism: &r.mechanism,
                effect: "",
                management: &r.management,
                jurisdiction: r.jurisdiction,
                sources: &r.sources,
            })
            .collect();
        let views = select_jurisdiction(views, jurisdiction);
        let title = views
            .iter()
            .filter_map(|v| kb.class_count_rules.iter().find(|r| r.id == v.id))
            .max_by(|a, b| a.severity.cmp(&b.severity).then(b.id.cmp(&a.id)))
            .map(|r| r.title.clone());
        let Some(merged) = merge(views) else {
            continue;
        };
        let names: Vec<String> = members
            .iter()
            .map(|d| kb.drug_name(*d).to_owned())
            .collect();
        findings.push(Finding {
            kind: FindingKind::Interaction,
            severity: merged.severity,
            action: merged.action,
            evidence: Some(merged.evidence),
            drugs: names.clone(),
            condition: None,
            medication_indices: indices,
            title: title.unwrap_or_else(|| kb.classes[class as usize].description.clone()),
            mechanism: merged.mechanism,
            effect: String::new(),
            management: merged.management,
            sources: merged.sources,
            rule_ids: merged.rule_ids,
            basis: Some(format!(
                "{count} counted drugs, the proposed one included: {}",
                names.join(", ")
            )),
        });
    }
    findings
}
