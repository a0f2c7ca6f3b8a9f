//! Proposed drug × the whole list: rules on how many drugs of one class are
//! taken together (AGS Beers 2023: three or more CNS-active drugs in an
//! older adult). A pairwise check cannot see these: each pair may be
//! acceptable while the total is not.

use super::CheckRequest;
use super::finding::{Finding, FindingKind, RuleView, merge, select_jurisdiction};
use crate::kb::KbIndex;
use crate::kb::index::DrugId;

/// One finding per proposed ingredient that is a member of a counted class
/// when the patient takes enough distinct members, the proposed one among
/// them, and meets the rule's age.
pub fn check_counts(kb: &KbIndex, req: &CheckRequest<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for proposed in &req.proposed.ingredients {
        let drug = proposed.drug;
        for class in &kb.drugs[drug as usize].classes {
            let rules: Vec<_> = kb
                .class_count_rules
                .iter()
                .filter(|r| r.class == *class)
                .filter(|r| {
                    r.min_age
                        .is_none_or(|min| req.patient.is_at_least(kb, f64::from(min)))
                })
                .collect();
            if rules.is_empty() {
                continue;
            }
            // Distinct members on the list, with the medications carrying
            // them; the proposed drug counts once, listed or not.
            let mut members: Vec<DrugId> = vec![drug];
            let mut indices = Vec::new();
            for (index, med) in req.meds.iter().enumerate() {
                for ingredient in &med.ingredients {
                    if kb.drugs[ingredient.drug as usize].classes.contains(class) {
                        if !members.contains(&ingredient.drug) {
                            members.push(ingredient.drug);
                        }
                        if !indices.contains(&index) {
                            indices.push(index);
                        }
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
                    effect: &r.title,
                    management: &r.management,
                    jurisdiction: r.jurisdiction,
                    sources: &r.sources,
                })
                .collect();
            let title = views
                .iter()
                .max_by(|a, b| a.severity.cmp(&b.severity).then(b.id.cmp(a.id)))
                .map(|r| r.effect.to_owned());
            let Some(merged) = merge(select_jurisdiction(views, req.jurisdiction)) else {
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
                title: title.unwrap_or_else(|| kb.classes[*class as usize].name.clone()),
                mechanism: merged.mechanism,
                effect: merged.effect,
                management: merged.management,
                sources: merged.sources,
                rule_ids: merged.rule_ids,
                basis: Some(format!(
                    "{count} drugs of class `{}`, the proposed one included: {}",
                    kb.classes[*class as usize].name,
                    names.join(", ")
                )),
            });
        }
    }
    findings
}
