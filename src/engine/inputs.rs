//! Findings about the medication list itself: names that could not be
//! checked (a check with unresolved names is incomplete, never clean) and
//! medications that may be causing the cramps.

use super::finding::{Finding, FindingKind};
use crate::clinical::{Action, Evidence, Severity};
use crate::kb::KbIndex;
use crate::resolve::{Resolved, Status};

/// The KB class whose members are known to cause or worsen muscle cramps.
pub const CRAMP_CAUSING_CLASS: &str = "cramp-causing-drugs";

/// One `unrecognized` finding per medication that is not fully recognized.
pub fn unresolved_findings(meds: &[Resolved]) -> Vec<Finding> {
    meds.iter()
        .enumerate()
        .filter(|(_, m)| !m.is_exact())
        .map(|(index, med)| {
            let input = med.med.input.trim();
            if med.status == Status::Recognized {
                return spelling_finding(index, med);
            }
            // In a text read piece by piece, the ambiguous pieces; the
            // others were checked.
            let ambiguous: Vec<&str> = med
                .pieces
                .iter()
                .filter(|p| p.status == Status::Ambiguous)
                .map(|p| p.med.input.trim())
                .collect();
            let (ambiguous, what) = match ambiguous.is_empty() {
                true => (input.to_owned(), format!("Medication {} (`{input}`)", index + 1)),
                false => {
                    let pieces = ambiguous.join("`, `");
                    let what = format!("`{pieces}` in medication {} (`{input}`)", index + 1);
                    (pieces, what)
                }
            };
            let (title, management) = match med.status {
                Status::Ambiguous => (
                    format!("`{ambiguous}` is ambiguous and was not checked"),
                    format!(
                        "It could mean: {}. Write the ingredient name.",
                        med.candidates.join(", ")
                    ),
                ),
                _ => (
                    format!(
                        "`{}` is not recognized and was not checked",
                        med.unresolved.join("`, `")
                    ),
                    if med.suggestions.is_empty() {
                        "Check the spelling, or add the name to the knowledge base (db/aliases.csv)."
                            .to_owned()
                    } else {
                        format!(
                            "Did you mean: {}? Check the spelling and run the check again.",
                            med.suggestions.join(", ")
                        )
                    },
                ),
            };
            Finding {
                kind: FindingKind::Unrecognized,
                severity: Severity::Info,
                action: Action::Review,
                evidence: None,
                drugs: med.candidates.clone(),
                condition: None,
                medication_indices: vec![index],
                title,
                mechanism: format!("{what} could not be resolved to a known ingredient, so it was not checked for interactions."),
                effect: String::new(),
                management,
                sources: Vec::new(),
                rule_ids: Vec::new(),
                basis: None,
            }
        })
        .collect()
}

/// How the title of a name taken by its spelling ends, for reports that
/// name the finding.
pub const READ_BY_SPELLING: &str = "it was read by its spelling";

/// The `unrecognized` finding of a name taken for a known one by its
/// spelling: it was checked as that drug, which may not be the one meant.
fn spelling_finding(index: usize, med: &Resolved) -> Finding {
    let input = med.med.input.trim();
    Finding {
        kind: FindingKind::Unrecognized,
        severity: Severity::Info,
        action: Action::Review,
        evidence: None,
        drugs: Vec::new(),
        condition: None,
        medication_indices: vec![index],
        title: format!("`{input}` is not a name the KB knows; {READ_BY_SPELLING}"),
        mechanism: format!(
            "Medication {} (`{input}`) was checked as the closest known name ({}), which may be another drug: a drug the KB does not know is then not checked.",
            index + 1,
            med.spelling_reads()
        ),
        effect: String::new(),
        management: "Confirm the drug. If it is not the one read, write its exact name, or add the name to the knowledge base (db/aliases.csv), and run the check again.".to_owned(),
        sources: Vec::new(),
        rule_ids: Vec::new(),
        basis: None,
    }
}

/// One `cause` finding per listed ingredient that may be causing the cramps.
pub fn cramp_cause_findings(kb: &KbIndex, meds: &[Resolved]) -> Vec<Finding> {
    let Some(class) = kb.class_by_name(CRAMP_CAUSING_CLASS) else {
        return Vec::new();
    };
    let class_sources = &kb.classes[class as usize].sources;
    let mut findings: Vec<Finding> = Vec::new();
    for (index, med) in meds.iter().enumerate() {
        for ingredient in &med.ingredients {
            if !kb.drugs[ingredient.drug as usize].classes.contains(&class) {
                continue;
            }
            let name = kb.drug_name(ingredient.drug).to_owned();
            if let Some(existing) = findings.iter_mut().find(|f| f.drugs[0] == name) {
                existing.medication_indices.push(index);
                continue;
            }
            findings.push(Finding {
                kind: FindingKind::Cause,
                severity: Severity::Info,
                action: Action::Monitor,
                evidence: Some(Evidence::Study),
                drugs: vec![name.clone()],
                condition: None,
                medication_indices: vec![index],
                title: format!("{name} may be causing or worsening the cramps"),
                mechanism: format!(
                    "{name} is listed among drugs that can cause muscle cramps ({}).",
                    kb.drugs[ingredient.drug as usize].category
                ),
                effect: String::new(),
                management: format!(
                    "Before adding a cramp drug, review whether {name} is needed or can be changed."
                ),
                sources: class_sources.clone(),
                rule_ids: vec![format!("class:{CRAMP_CAUSING_CLASS}")],
                basis: None,
            });
        }
    }
    findings
}
