//! Proposed drug × patient: condition cautions (stated conditions and those
//! implied by labs, with age limits such as the Beers rules) and boxed
//! warnings. One finding per (proposed ingredient, condition).

use super::CheckRequest;
use super::finding::{Finding, FindingKind, RuleView, merge, select_jurisdiction};
use crate::clinical::Jurisdiction;
use crate::kb::KbIndex;

/// Condition findings for every proposed ingredient.
pub fn check_conditions(kb: &KbIndex, req: &CheckRequest<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for proposed in &req.proposed.ingredients {
        let drug = proposed.drug;
        for (condition, basis) in &req.patient.conditions {
            let rules: Vec<RuleView<'_>> = kb
                .condition_rules
                .iter()
                .filter(|r| r.condition == *condition && kb.party_covers(r.drug, drug))
                .filter(|r| {
                    r.min_age
                        .is_none_or(|min| req.patient.is_at_least(kb, f64::from(min)))
                })
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
            let rules = select_jurisdiction(rules, req.jurisdiction);
            let title = rules
                .iter()
                .max_by(|a, b| a.severity.cmp(&b.severity).then(b.id.cmp(a.id)))
                .map(|r| r.effect.to_owned());
            // An age-bound rule met only through a stated older adult while
            // the age given is lower (`--condition elderly --age 60`): it
            // applies, and says why.
            let below_age = rules.iter().find_map(|r| {
                let min = kb.condition_rules.iter().find(|c| c.id == r.id)?.min_age?;
                let age = req.patient.input.age.filter(|age| *age < f64::from(min))?;
                Some(format!(
                    "applied for a stated older adult, though age {age} years is below {min}"
                ))
            });
            let Some(merged) = merge(rules) else {
                continue;
            };
            let cond = &kb.conditions[*condition as usize];
            // One note is enough when the condition is the stated old age
            // itself.
            let basis = match (req.patient.unsupported(kb, *condition), below_age) {
                (Some(note), _) => format!("{}, though {note}", basis.describe(&cond.name)),
                (None, Some(note)) => format!("{}; {note}", basis.describe(&cond.name)),
                (None, None) => basis.describe(&cond.name),
            };
            findings.push(Finding {
                kind: FindingKind::Condition,
                severity: merged.severity,
                action: merged.action,
                evidence: Some(merged.evidence),
                drugs: vec![kb.drug_name(drug).to_owned()],
                condition: Some(cond.code.clone()),
                medication_indices: Vec::new(),
                title: title.unwrap_or_else(|| cond.name.clone()),
                mechanism: merged.mechanism,
                effect: merged.effect,
                management: merged.management,
                sources: merged.sources,
                rule_ids: merged.rule_ids,
                basis: Some(basis),
            });
        }
    }
    findings
}

/// The heading of a `boxed_warning` finding whose label has no box (a UK
/// SmPC's warning): reports name it so, not "Boxed warning".
pub const LABEL_WARNING: &str = "Label warning";

/// Boxed-warning findings for every proposed ingredient.
pub fn check_boxed_warnings(kb: &KbIndex, req: &CheckRequest<'_>) -> Vec<Finding> {
    let mut findings = Vec::new();
    for proposed in &req.proposed.ingredients {
        let warnings: Vec<_> = kb
            .boxed_warnings
            .iter()
            .enumerate()
            .filter(|(_, w)| w.drug == proposed.drug)
            .collect();
        let ids: Vec<String> = warnings
            .iter()
            .map(|(i, _)| format!("boxed:{}:{i}", kb.drug_name(proposed.drug)))
            .collect();
        let rules: Vec<RuleView<'_>> = warnings
            .iter()
            .zip(&ids)
            .map(|((_, w), id)| RuleView {
                id,
                severity: w.severity,
                action: w.action,
                evidence: crate::clinical::Evidence::Label,
                mechanism: &w.summary,
                effect: &w.title,
                management: "",
                jurisdiction: w.jurisdiction,
                sources: &w.sources,
            })
            .collect();
        let rules = select_jurisdiction(rules, req.jurisdiction);
        let title = rules
            .iter()
            .max_by(|a, b| a.severity.cmp(&b.severity).then(b.id.cmp(a.id)))
            .map(|r| r.effect.to_owned());
        // A boxed warning is a US (and Canadian) label device; a UK SmPC's
        // position on the same risk is a warning of the label, not a box.
        let boxed = rules
            .iter()
            .any(|r| matches!(r.jurisdiction, Jurisdiction::US | Jurisdiction::CA));
        let (heading, weigh) = match boxed {
            true => ("Boxed warning", "the boxed warning"),
            false => (LABEL_WARNING, "the label's warning"),
        };
        let Some(merged) = merge(rules) else {
            continue;
        };
        let name = kb.drug_name(proposed.drug).to_owned();
        findings.push(Finding {
            kind: FindingKind::BoxedWarning,
            severity: merged.severity,
            action: merged.action,
            evidence: Some(merged.evidence),
            drugs: vec![name.clone()],
            condition: None,
            medication_indices: Vec::new(),
            title: format!("{heading}: {}", title.unwrap_or_default()),
            mechanism: merged.mechanism,
            effect: String::new(),
            management: format!(
                "Weigh {weigh} before proposing {name}; prefer an alternative where the label says the risk outweighs the benefit."
            ),
            sources: merged.sources,
            rule_ids: merged.rule_ids,
            basis: None,
        });
    }
    findings
}
