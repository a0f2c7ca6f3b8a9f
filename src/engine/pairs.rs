//! Proposed drug × medication list: interactions (both directions, through
//! classes and combination-product ingredients) and duplicate therapy, one
//! finding per (proposed ingredient, medication ingredient) pair.

use super::finding::{Finding, FindingKind, RuleView, merge, select_jurisdiction};
use super::{CheckRequest, PairCheck};
use crate::clinical::{Action, Evidence, Severity};
use crate::kb::KbIndex;
use crate::kb::index::{ClassId, DrugId, InteractionRule, RouteNeed, SourceId};
use std::collections::BTreeMap;

/// Every interaction row matching the pair (a, b) in either direction.
fn matching_rules(kb: &KbIndex, a: DrugId, b: DrugId) -> Vec<&InteractionRule> {
    let mut seen: Vec<u32> = Vec::new();
    for party in kb.parties_of(a) {
        let Some(rows) = kb.interactions_by_party.get(&party) else {
            continue;
        };
        for &idx in rows {
            let rule = &kb.interactions[idx as usize];
            let forward = kb.party_covers(rule.drug, a) && kb.party_covers(rule.interacts_with, b);
            let backward = kb.party_covers(rule.drug, b) && kb.party_covers(rule.interacts_with, a);
            if (forward || backward) && !seen.contains(&idx) {
                seen.push(idx);
            }
        }
    }
    seen.sort_unstable();
    seen.iter()
        .map(|idx| &kb.interactions[*idx as usize])
        .collect()
}

fn view(rule: &InteractionRule) -> RuleView<'_> {
    RuleView {
        id: &rule.id,
        severity: rule.severity,
        action: rule.action,
        evidence: rule.evidence,
        mechanism: &rule.mechanism,
        effect: &rule.effect,
        management: &rule.management,
        jurisdiction: rule.jurisdiction,
        sources: &rule.sources,
    }
}

/// Classes both drugs belong to that count as duplicate therapy.
fn shared_duplicate_classes(kb: &KbIndex, a: DrugId, b: DrugId) -> Vec<ClassId> {
    let classes_b = &kb.drugs[b as usize].classes;
    kb.drugs[a as usize]
        .classes
        .iter()
        .copied()
        .filter(|c| classes_b.contains(c) && kb.classes[*c as usize].duplicate_therapy)
        .collect()
}

/// Checks every proposed ingredient against every ingredient on the list.
/// Returns the findings and, per medication, what was found for it.
pub fn check_pairs(kb: &KbIndex, req: &CheckRequest<'_>) -> (Vec<Finding>, Vec<PairCheck>) {
    // (proposed ingredient, medication ingredient) → medications carrying it.
    let mut pairs: BTreeMap<(DrugId, DrugId), Vec<usize>> = BTreeMap::new();
    for (index, med) in req.meds.iter().enumerate() {
        for ingredient in &med.ingredients {
            for proposed in &req.proposed.ingredients {
                let entry = pairs.entry((proposed.drug, ingredient.drug)).or_default();
                if !entry.contains(&index) {
                    entry.push(index);
                }
            }
        }
    }
    let mut findings = Vec::new();
    let mut per_med = vec![PairCheck::NoneOnFile; req.meds.len()];
    for ((a, b), meds) in pairs {
        let found = if a == b {
            let routes: Vec<Option<&str>> = std::iter::once(req.proposed.route_of(a))
                .chain(meds.iter().map(|&m| req.meds[m].route_of(a)))
                .collect();
            vec![same_ingredient(kb, a, &meds, &routes)]
        } else {
            // A row that holds only for one route of one of its drugs
            // (diltiazem with dantrolene *infusion*) is left out when that
            // drug is written as given another way.
            let given = |drug: DrugId, need: RouteNeed| {
                if drug == a {
                    need.met_by(req.proposed.route_of(a))
                } else if drug == b {
                    meds.iter().any(|&m| need.met_by(req.meds[m].route_of(b)))
                } else {
                    true
                }
            };
            let in_gut_together =
                req.proposed.reaches_gut(a) && meds.iter().any(|&m| req.meds[m].reaches_gut(b));
            match pair_verdict(kb, req, (a, b), given, in_gut_together, &meds) {
                PairVerdict::Findings(found) => found,
                PairVerdict::NoneExpected(sources) => {
                    for &m in &meds {
                        per_med[m].record_none_expected(sources.clone());
                    }
                    Vec::new()
                }
                PairVerdict::NoneOnFile => Vec::new(),
            }
        };
        if !found.is_empty() {
            for &m in &meds {
                per_med[m] = PairCheck::Finding;
            }
            findings.extend(found);
        }
    }
    // A proposal's own pair found with the list too (`diltiazem +
    // simvastatin` with simvastatin listed) is said once, on the list.
    let own: Vec<Finding> = within_proposal(kb, req)
        .into_iter()
        .filter(|f| {
            !findings
                .iter()
                .any(|g| g.kind == f.kind && g.title == f.title && g.rule_ids == f.rule_ids)
        })
        .collect();
    findings.extend(own);
    (findings, per_med)
}

/// The ingredients of a proposal written as several drugs (`baclofen and
/// oxycodone`) against each other: each is about to be prescribed, so
/// their pair is as much a risk as a pair with the list. Left out: pairs
/// that a marketed product in the KB combines (Nuedexta's dextromethorphan
/// and quinidine are put together by design).
fn within_proposal(kb: &KbIndex, req: &CheckRequest<'_>) -> Vec<Finding> {
    let ingredients = &req.proposed.ingredients;
    let mut found = Vec::new();
    for (i, first) in ingredients.iter().enumerate() {
        for second in &ingredients[i + 1..] {
            let (a, b) = (first.drug, second.drug);
            if a == b || kb.combined_in_a_product(a, b) {
                continue;
            }
            // One text holds one route, the last written (`dantrolene iv
            // and diltiazem po`): which drug it belongs to is unknown, so
            // every row applies, whatever its route.
            let any_route = |_: DrugId, _: RouteNeed| true;
            if let PairVerdict::Findings(more) = pair_verdict(kb, req, (a, b), any_route, true, &[])
            {
                found.extend(more);
            }
        }
    }
    found
}

/// What the KB says about one pair of different drugs.
enum PairVerdict {
    /// Interaction or duplicate-therapy findings.
    Findings(Vec<Finding>),
    /// Rows saying no interaction is expected, with their sources.
    NoneExpected(Vec<SourceId>),
    /// No row at all.
    NoneOnFile,
}

/// The rows for the pair (a, b) under the request's jurisdiction, turned
/// into findings on the medications `meds`. `given` says whether a drug is
/// written as given by a route a row needs; `in_gut_together` whether both
/// may meet in the gut (else "separate the doses" rows do not apply).
fn pair_verdict(
    kb: &KbIndex,
    req: &CheckRequest<'_>,
    (a, b): (DrugId, DrugId),
    given: impl Fn(DrugId, RouteNeed) -> bool,
    in_gut_together: bool,
    meds: &[usize],
) -> PairVerdict {
    let rules: Vec<RuleView<'_>> = matching_rules(kb, a, b)
        .into_iter()
        .filter(|rule| rule.routes.iter().all(|&(drug, need)| given(drug, need)))
        .map(view)
        .collect();
    let mut rules = select_jurisdiction(rules, req.jurisdiction);
    // "Separate the doses" rows are about binding in the gut: they do not
    // apply when either drug is given another way (IV magnesium sulfate
    // with oral quinine).
    if !in_gut_together {
        rules.retain(|r| r.action != Action::SeparateDoses);
    }
    let (none_rows, risk_rows): (Vec<_>, Vec<_>) = rules
        .into_iter()
        .partition(|r| r.severity == Severity::None);
    let duplicate_classes = shared_duplicate_classes(kb, a, b);
    if risk_rows.is_empty() && duplicate_classes.is_empty() {
        return match merge(none_rows) {
            Some(merged) => PairVerdict::NoneExpected(merged.sources),
            None => PairVerdict::NoneOnFile,
        };
    }
    let names = (kb.drug_name(a), kb.drug_name(b));
    PairVerdict::Findings(pair_findings(
        kb,
        names,
        risk_rows,
        &duplicate_classes,
        meds,
    ))
}

/// The same ingredient proposed and listed. `routes` are the routes written
/// for it (proposed first): a dose into the spinal fluid (intrathecal
/// baclofen, in micrograms) does not add up with one taken by mouth or
/// injected, and that is said; doses by other routes do add up.
fn same_ingredient(kb: &KbIndex, drug: DrugId, meds: &[usize], routes: &[Option<&str>]) -> Finding {
    let name = kb.drug_name(drug).to_owned();
    let intrathecal = |r: &Option<&str>| *r == Some("intrathecal");
    let effect = if routes.iter().any(intrathecal) && !routes.iter().all(intrathecal) {
        "One is given into the spinal fluid (intrathecal) and one is not: their doses do not simply add up, and both regimens need review together.".to_owned()
    } else {
        "Taking both would add the doses together.".to_owned()
    };
    Finding {
        kind: FindingKind::Duplicate,
        severity: Severity::Major,
        action: Action::Avoid,
        evidence: None,
        drugs: vec![name.clone()],
        condition: None,
        medication_indices: meds.to_vec(),
        title: format!("{name} is already on the medication list"),
        mechanism: format!("The proposed {name} duplicates {name} the patient already takes."),
        effect,
        management: format!(
            "Do not add a second {name} order; review the current dose and regimen instead."
        ),
        sources: kb.drugs[drug as usize].sources.clone(),
        rule_ids: vec!["duplicate:same-ingredient".to_owned()],
        basis: None,
    }
}

/// The findings for one pair: the interaction its rows describe, and the
/// duplicate therapy when both drugs are members of one duplicate-therapy
/// class — two findings, so a program filtering on either kind sees it.
fn pair_findings(
    kb: &KbIndex,
    (name_a, name_b): (&str, &str),
    risk_rows: Vec<RuleView<'_>>,
    duplicate_classes: &[ClassId],
    meds: &[usize],
) -> Vec<Finding> {
    let mut found = Vec::new();
    if let Some(merged) = merge(risk_rows) {
        found.push(Finding {
            kind: FindingKind::Interaction,
            severity: merged.severity,
            action: merged.action,
            evidence: Some(merged.evidence),
            drugs: vec![name_a.to_owned(), name_b.to_owned()],
            condition: None,
            medication_indices: meds.to_vec(),
            title: format!("{name_a} + {name_b}"),
            mechanism: merged.mechanism,
            effect: merged.effect,
            management: merged.management,
            sources: merged.sources,
            rule_ids: merged.rule_ids,
            basis: None,
        });
    }
    if !duplicate_classes.is_empty() {
        let class_names: Vec<&str> = duplicate_classes
            .iter()
            .map(|c| kb.classes[*c as usize].name.as_str())
            .collect();
        let mut sources = Vec::new();
        for c in duplicate_classes {
            for s in &kb.classes[*c as usize].sources {
                if !sources.contains(s) {
                    sources.push(*s);
                }
            }
        }
        found.push(Finding {
            kind: FindingKind::Duplicate,
            severity: Severity::Moderate,
            action: Action::Avoid,
            evidence: Some(Evidence::Theoretical),
            drugs: vec![name_a.to_owned(), name_b.to_owned()],
            condition: None,
            medication_indices: meds.to_vec(),
            title: format!("{name_a} + {name_b}: duplicate therapy"),
            mechanism: format!(
                "Both are {} (duplicate therapy).",
                class_names.join(" and ")
            ),
            effect: "Two drugs of the same class add their effects and side effects.".to_owned(),
            management: format!("Review whether {name_b} should continue if {name_a} is started."),
            sources,
            rule_ids: class_names
                .iter()
                .map(|c| format!("duplicate:{c}"))
                .collect(),
            basis: None,
        });
    }
    found
}
