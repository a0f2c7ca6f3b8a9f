//! The engine's output: a [`Finding`] per (proposed ingredient, medication
//! ingredient) pair, per condition, per boxed warning and per input problem.
//! Several KB rows for the same pair merge into one finding (worst severity,
//! most restrictive action, best evidence, every mechanism and source) because
//! duplicate alerts for one pair are what makes pharmacists ignore checkers.

use crate::clinical::{Action, Evidence, Jurisdiction, Severity};
use crate::kb::KbIndex;
use crate::kb::index::SourceId;
use serde::Serialize;

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The proposed drug's boxed warning.
    BoxedWarning,
    /// Proposed drug vs a patient condition or lab value.
    Condition,
    /// Proposed drug vs a medication on the list.
    Interaction,
    /// The proposed drug or a same-class drug is already on the list.
    Duplicate,
    /// A dose above the KB's maximum, or a dose that could not be read.
    Dose,
    /// A medication on the list may be causing the cramps.
    Cause,
    /// A medication name that could not be checked.
    Unrecognized,
}

impl FindingKind {
    /// Every kind.
    pub const ALL: [FindingKind; 7] = [
        FindingKind::BoxedWarning,
        FindingKind::Condition,
        FindingKind::Interaction,
        FindingKind::Duplicate,
        FindingKind::Dose,
        FindingKind::Cause,
        FindingKind::Unrecognized,
    ];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::BoxedWarning => "boxed_warning",
            FindingKind::Condition => "condition",
            FindingKind::Interaction => "interaction",
            FindingKind::Duplicate => "duplicate",
            FindingKind::Dose => "dose",
            FindingKind::Cause => "cause",
            FindingKind::Unrecognized => "unrecognized",
        }
    }
}

/// One thing the pharmacist must see.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// What it is about.
    pub kind: FindingKind,
    /// How bad.
    pub severity: Severity,
    /// What to do.
    pub action: Action,
    /// How well documented (none for input problems).
    pub evidence: Option<Evidence>,
    /// Canonical ingredient names involved.
    pub drugs: Vec<String>,
    /// Condition code, for condition findings.
    pub condition: Option<String>,
    /// Input medications that triggered it (0-based, ascending).
    pub medication_indices: Vec<usize>,
    /// Short headline.
    pub title: String,
    /// Why it happens (every merged mechanism).
    pub mechanism: String,
    /// What happens, with magnitude where known.
    pub effect: String,
    /// What to do about it.
    pub management: String,
    /// Cited sources.
    pub sources: Vec<SourceId>,
    /// KB rows merged into this finding.
    pub rule_ids: Vec<String>,
    /// The patient fact behind a condition finding ("eGFR 45 ... < 60").
    pub basis: Option<String>,
}

/// The parts of a KB row that merging needs, whatever its table.
#[derive(Debug, Clone)]
pub struct RuleView<'a> {
    /// Row id.
    pub id: &'a str,
    /// Severity.
    pub severity: Severity,
    /// Action.
    pub action: Action,
    /// Evidence.
    pub evidence: Evidence,
    /// Mechanism text.
    pub mechanism: &'a str,
    /// Effect text.
    pub effect: &'a str,
    /// Management text.
    pub management: &'a str,
    /// Jurisdiction of the row.
    pub jurisdiction: Jurisdiction,
    /// Sources.
    pub sources: &'a [SourceId],
}

/// Keeps the rows that apply under the chosen jurisdiction: rows of that
/// jurisdiction (and `any`/`intl` rows) when it has any; otherwise every
/// row, so a fact documented only abroad is still shown (its sources say
/// where it comes from) rather than silently dropped, even beside a row
/// that belongs to no one jurisdiction.
pub fn select_jurisdiction<'a>(
    rules: Vec<RuleView<'a>>,
    chosen: Jurisdiction,
) -> Vec<RuleView<'a>> {
    prefer_jurisdiction(rules, chosen, |r| r.jurisdiction)
}

/// [`select_jurisdiction`] for any kind of KB row (dosing rules, therapy
/// rows): `jurisdiction_of` says whose document a row comes from.
pub fn prefer_jurisdiction<T>(
    rows: Vec<T>,
    chosen: Jurisdiction,
    jurisdiction_of: impl Fn(&T) -> Jurisdiction,
) -> Vec<T> {
    if chosen == Jurisdiction::Any {
        return rows;
    }
    // Rows of no one jurisdiction (`any`, `intl`) always apply; they do not
    // stand for the chosen label, so alone they do not hide a foreign row.
    if !rows.iter().any(|r| jurisdiction_of(r) == chosen) {
        return rows;
    }
    rows.into_iter()
        .filter(|r| {
            let j = jurisdiction_of(r);
            j == chosen || j == Jurisdiction::Any || j == Jurisdiction::Intl
        })
        .collect()
}

/// The merged rating of several rows for one pair or condition.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Worst severity.
    pub severity: Severity,
    /// Most restrictive action.
    pub action: Action,
    /// Best evidence.
    pub evidence: Evidence,
    /// Distinct mechanisms, most severe rows first, joined.
    pub mechanism: String,
    /// Distinct effects, joined.
    pub effect: String,
    /// Distinct management advice, joined.
    pub management: String,
    /// Union of sources.
    pub sources: Vec<SourceId>,
    /// Row ids.
    pub rule_ids: Vec<String>,
}

/// Merges rows (at least one) into one rating; `None` when `rules` is empty.
pub fn merge(mut rules: Vec<RuleView<'_>>) -> Option<Merged> {
    rules.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.action.cmp(&a.action))
            .then(a.id.cmp(b.id))
    });
    let first = rules.first()?;
    let mut merged = Merged {
        severity: first.severity,
        action: first.action,
        evidence: first.evidence,
        mechanism: String::new(),
        effect: String::new(),
        management: String::new(),
        sources: Vec::new(),
        rule_ids: Vec::new(),
    };
    let mut mechanisms: Vec<&str> = Vec::new();
    let mut effects: Vec<&str> = Vec::new();
    let mut managements: Vec<&str> = Vec::new();
    for rule in &rules {
        merged.severity = merged.severity.max(rule.severity);
        merged.action = merged.action.max(rule.action);
        merged.evidence = merged.evidence.max(rule.evidence);
        push_distinct(&mut mechanisms, rule.mechanism);
        push_distinct(&mut effects, rule.effect);
        push_distinct(&mut managements, rule.management);
        for s in rule.sources {
            if !merged.sources.contains(s) {
                merged.sources.push(*s);
            }
        }
        merged.rule_ids.push(rule.id.to_owned());
    }
    merged.mechanism = join_sentences(&mechanisms);
    merged.effect = join_sentences(&effects);
    merged.management = join_sentences(&managements);
    Some(merged)
}

fn push_distinct<'a>(list: &mut Vec<&'a str>, text: &'a str) {
    let text = text.trim();
    if !text.is_empty() && !list.contains(&text) {
        list.push(text);
    }
}

/// Joins texts into one paragraph, each ending with a full stop.
fn join_sentences(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.ends_with('.') || p.ends_with('!') || p.ends_with('?') {
                (*p).to_owned()
            } else {
                format!("{p}.")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Orders sources for display: US label facts first (the default
/// jurisdiction), then the other jurisdictions, each by citation and section.
pub fn sort_sources(kb: &KbIndex, sources: &mut [SourceId]) {
    sort_sources_preferring(kb, sources, Jurisdiction::US);
}

/// Orders sources with the chosen jurisdiction's first, so that a report or
/// a CDS card citing "the" source cites the label that applies.
pub fn sort_sources_preferring(kb: &KbIndex, sources: &mut [SourceId], chosen: Jurisdiction) {
    let rank = |j: &str| -> usize {
        if Jurisdiction::parse(j) == Some(chosen) {
            return 0;
        }
        1 + ["US", "UK", "EU", "CA", "CH", "intl"]
            .iter()
            .position(|x| *x == j)
            .unwrap_or(6)
    };
    sources.sort_by(|a, b| {
        let (sa, sb) = (&kb.sources[*a as usize], &kb.sources[*b as usize]);
        rank(&sa.jurisdiction)
            .cmp(&rank(&sb.jurisdiction))
            .then(sa.citation.cmp(&sb.citation))
            .then(sa.section.cmp(&sb.section))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: &str, severity: Severity, action: Action, j: Jurisdiction) -> RuleView<'_> {
        RuleView {
            id,
            severity,
            action,
            evidence: Evidence::Theoretical,
            mechanism: id,
            effect: "",
            management: "m",
            jurisdiction: j,
            sources: &[],
        }
    }

    #[test]
    fn merge_keeps_worst_severity_and_every_mechanism() {
        let merged = merge(vec![
            view("a", Severity::Moderate, Action::Monitor, Jurisdiction::US),
            view("b", Severity::Major, Action::Avoid, Jurisdiction::US),
        ])
        .unwrap_or_else(|| panic!("merge of two rows"));
        assert_eq!(merged.severity, Severity::Major);
        assert_eq!(merged.action, Action::Avoid);
        assert_eq!(merged.mechanism, "b. a.");
        assert_eq!(merged.management, "m.");
        assert_eq!(merged.rule_ids, ["b", "a"]);
    }

    #[test]
    fn chosen_jurisdiction_wins_and_foreign_rows_are_a_fallback() {
        let rows = vec![
            view("us", Severity::Major, Action::Monitor, Jurisdiction::US),
            view(
                "uk",
                Severity::Contraindicated,
                Action::Avoid,
                Jurisdiction::UK,
            ),
        ];
        let us = select_jurisdiction(rows.clone(), Jurisdiction::US);
        assert_eq!(us.len(), 1);
        assert_eq!(us[0].id, "us");
        assert_eq!(
            select_jurisdiction(rows.clone(), Jurisdiction::Any).len(),
            2
        );
        let only_uk = vec![rows[1].clone()];
        assert_eq!(select_jurisdiction(only_uk, Jurisdiction::US)[0].id, "uk");
    }

    #[test]
    fn all_holds_every_kind_in_declaration_order() {
        for (i, kind) in FindingKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i, "{kind:?}");
            // No wildcard: a new kind breaks this match until it is placed
            // here, and in ALL.
            let next = match kind {
                FindingKind::BoxedWarning => Some(FindingKind::Condition),
                FindingKind::Condition => Some(FindingKind::Interaction),
                FindingKind::Interaction => Some(FindingKind::Duplicate),
                FindingKind::Duplicate => Some(FindingKind::Dose),
                FindingKind::Dose => Some(FindingKind::Cause),
                FindingKind::Cause => Some(FindingKind::Unrecognized),
                FindingKind::Unrecognized => None,
            };
            assert_eq!(FindingKind::ALL.get(i + 1).copied(), next);
        }
    }
}
