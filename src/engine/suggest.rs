//! `suggest`: every cramp therapy in the KB, checked against one patient by
//! the same [`check`] engine, given a status, ranked, and paired with a dosing
//! plan where the KB has one for the indication — plus the cause-first steps
//! that come before any drug (correct low potassium or magnesium, review
//! drugs that may be causing the cramps, stretching).
//!
//! Nothing here is a second rule engine: each therapy's findings are exactly
//! the findings [`check`] returns when that therapy is the proposed drug. This
//! module only decides what those findings mean for the choice between
//! therapies ([`status_of`]) and in which order to show them ([`rank_key`]).

use super::dosing::rule_for_indication;
use super::finding::prefer_jurisdiction;
use super::{CheckRequest, Finding, FindingKind, PairCheck, check};
use crate::clinical::{Action, Jurisdiction, Severity};
use crate::kb::KbIndex;
use crate::kb::index::{DosingRule, DrugId, SourceId, Therapy};
use crate::patient::PatientContext;
use crate::resolve::Resolved;
use std::cmp::Ordering;

/// How a therapy stands for this patient, best first (the derived order is
/// the ranking order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TherapyStatus {
    /// Guideline first choice for the indication, nothing at major or above.
    Preferred,
    /// Nothing at minor or above, but not a guideline first choice.
    Acceptable,
    /// Findings to act on, none that says avoid.
    Caution,
    /// A major finding whose advice is to avoid, or a guideline that advises
    /// against routine use.
    Avoid,
    /// A contraindication for this patient.
    Contraindicated,
}

impl TherapyStatus {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TherapyStatus::Preferred => "preferred",
            TherapyStatus::Acceptable => "acceptable",
            TherapyStatus::Caution => "caution",
            TherapyStatus::Avoid => "avoid",
            TherapyStatus::Contraindicated => "contraindicated",
        }
    }
}

/// A guideline's standing for a therapy (`therapies.csv` `standing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standing {
    /// The guideline recommends it.
    Recommended,
    /// Possibly effective; may be considered.
    PossiblyEffective,
    /// Not enough evidence to say.
    InsufficientEvidence,
    /// Effective, but not for routine use (quinine: toxicity).
    EffectiveAvoidRoutine,
    /// The guideline advises against it.
    NotRecommended,
}

impl Standing {
    /// Parses the KB spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "recommended" => Standing::Recommended,
            "possibly-effective" => Standing::PossiblyEffective,
            "insufficient-evidence" => Standing::InsufficientEvidence,
            "effective-avoid-routine" => Standing::EffectiveAvoidRoutine,
            "not-recommended" => Standing::NotRecommended,
            _ => return None,
        })
    }

    /// The KB and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Recommended => "recommended",
            Standing::PossiblyEffective => "possibly-effective",
            Standing::InsufficientEvidence => "insufficient-evidence",
            Standing::EffectiveAvoidRoutine => "effective-avoid-routine",
            Standing::NotRecommended => "not-recommended",
        }
    }

    /// Whether the guideline advises against (routine) use.
    pub fn advises_against(self) -> bool {
        matches!(
            self,
            Standing::EffectiveAvoidRoutine | Standing::NotRecommended
        )
    }

    /// Whether the guideline supports using it.
    pub fn supports_use(self) -> bool {
        matches!(self, Standing::Recommended | Standing::PossiblyEffective)
    }
}

/// A guideline evidence level (`therapies.csv` `evidence_level`), strongest
/// first so that the derived order is the ranking order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EvidenceLevel {
    /// Established (at least two Class I studies).
    A,
    /// Probable.
    B,
    /// Possible.
    C,
    /// Data inadequate or conflicting.
    U,
}

impl EvidenceLevel {
    /// Parses the KB spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "A" => EvidenceLevel::A,
            "B" => EvidenceLevel::B,
            "C" => EvidenceLevel::C,
            "U" => EvidenceLevel::U,
            _ => return None,
        })
    }

    /// The KB and JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceLevel::A => "A",
            EvidenceLevel::B => "B",
            EvidenceLevel::C => "C",
            EvidenceLevel::U => "U",
        }
    }
}

/// Everything one suggestion needs.
#[derive(Debug, Clone, Copy)]
pub struct SuggestRequest<'a> {
    /// The cramp therapies, one recognized ingredient each (see
    /// [`therapy_drugs`]).
    pub therapies: &'a [Resolved],
    /// The patient's current medications, resolved, in input order.
    pub meds: &'a [Resolved],
    /// Labs, age and conditions.
    pub patient: &'a PatientContext,
    /// Whose label facts apply.
    pub jurisdiction: Jurisdiction,
    /// The `therapies.csv` indication (`idiopathic`, `cirrhosis`, ...).
    pub indication: &'a str,
}

/// A dose step of a plan: from `from_day` (1-based) to `to_day` inclusive,
/// or onwards when `to_day` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseStep {
    /// First day of the step.
    pub from_day: u32,
    /// Last day of the step; `None` for the maintenance step.
    pub to_day: Option<u32>,
    /// Total daily dose in mg.
    pub mg_per_day: f64,
}

/// What the patient's conditions mean for the dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DoseFlag {
    /// A condition finding says to adjust the dose (e.g. renal impairment).
    Reduce,
    /// A condition finding says to avoid the drug (e.g. Beers, eGFR < 60).
    Avoid,
}

impl DoseFlag {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DoseFlag::Reduce => "reduce",
            DoseFlag::Avoid => "avoid",
        }
    }
}

/// A dosing plan as data, from one KB dosing rule.
#[derive(Debug, Clone)]
pub struct DosingPlan<'kb> {
    /// The rule the plan comes from.
    pub rule: &'kb DosingRule,
    /// Whether the rule is specific to one of the patient's conditions
    /// (e.g. a reduced dose in severe renal impairment).
    pub population_specific: bool,
    /// The schedule: one step per titration step (start, start + step, ...,
    /// max), or a single step when the rule gives no titration; empty when
    /// the rule gives no starting dose.
    pub steps: Vec<DoseStep>,
    /// Reduce or avoid, when a condition finding for this therapy says so.
    pub flag: Option<DoseFlag>,
    /// The condition findings behind the flag (indices into the therapy's
    /// findings).
    pub flag_findings: Vec<usize>,
}

/// One therapy, checked and rated.
#[derive(Debug, Clone)]
pub struct TherapySuggestion<'kb> {
    /// The therapy's ingredient.
    pub drug: DrugId,
    /// Its canonical name.
    pub name: String,
    /// The status, see [`status_of`].
    pub status: TherapyStatus,
    /// One sentence saying why it has that status.
    pub reason: String,
    /// The guideline row for the indication, if the KB has one.
    pub standing: Option<&'kb Therapy>,
    /// The row's evidence level, if any.
    pub evidence_level: Option<EvidenceLevel>,
    /// The findings of `check` about this therapy (see [`is_list_finding`]
    /// for the ones moved to the suggestion level).
    pub findings: Vec<Finding>,
    /// The dosing plan, when the KB has a dosing rule for the indication.
    pub dosing: Option<DosingPlan<'kb>>,
}

/// A step that comes before any drug.
#[derive(Debug, Clone)]
pub struct Step {
    /// `correct-hypokalemia`, `correct-hypomagnesemia`,
    /// `review-cramp-causing-drugs` or `stretching`.
    pub code: String,
    /// Headline.
    pub title: String,
    /// What to do and why.
    pub detail: String,
    /// The patient fact behind it, if any.
    pub basis: Option<String>,
    /// Drugs it concerns: the listed drugs to review, or the therapies whose
    /// risk an electrolyte disturbance raises.
    pub drugs: Vec<String>,
    /// Cited sources (empty for general advice the KB holds no source for).
    pub sources: Vec<SourceId>,
    /// The `check` findings behind it (the `cause` findings).
    pub findings: Vec<Finding>,
}

/// The whole suggestion.
#[derive(Debug, Clone)]
pub struct Suggestion<'kb> {
    /// Cause-first and non-drug steps, in the order to do them.
    pub steps: Vec<Step>,
    /// Every therapy, ranked best first.
    pub therapies: Vec<TherapySuggestion<'kb>>,
    /// Findings about the medication list itself that are not steps:
    /// unrecognized names and dose problems of listed medications.
    pub list_findings: Vec<Finding>,
    /// Per listed medication, what was found for it across every therapy.
    pub pair_checks: Vec<PairCheck>,
    /// Whether every listed medication was resolved.
    pub complete: bool,
}

/// The distinct drugs of the KB's therapy rows, by name.
pub fn therapy_drugs(kb: &KbIndex) -> Vec<DrugId> {
    let mut drugs: Vec<DrugId> = kb.therapies.iter().map(|t| t.drug).collect();
    drugs.sort_by(|a, b| kb.drug_name(*a).cmp(kb.drug_name(*b)));
    drugs.dedup();
    drugs
}

/// The distinct indications of the KB's therapy rows, sorted.
pub fn indications(kb: &KbIndex) -> Vec<&str> {
    let mut list: Vec<&str> = kb.therapies.iter().map(|t| t.indication.as_str()).collect();
    list.sort_unstable();
    list.dedup();
    list
}

/// The guideline row for `drug` and `indication`: rows of the chosen
/// jurisdiction (and `any`/`intl` rows) win, other jurisdictions are a
/// fallback; among several, the most restrictive standing wins (a drug is
/// never shown as better than its most cautious applicable guideline).
pub fn standing_for<'kb>(
    kb: &'kb KbIndex,
    drug: DrugId,
    indication: &str,
    jurisdiction: Jurisdiction,
) -> Option<&'kb Therapy> {
    let rows: Vec<&Therapy> = kb
        .therapies
        .iter()
        .filter(|t| t.drug == drug && t.indication == indication)
        .collect();
    prefer_jurisdiction(rows, jurisdiction, |t| t.jurisdiction)
        .into_iter()
        .max_by(|a, b| {
            Standing::parse(&a.standing)
                .cmp(&Standing::parse(&b.standing))
                .then(b.jurisdiction.cmp(&a.jurisdiction))
        })
}

/// A guideline row advising against `drug` for some indication (the first
/// by indication, so the choice is deterministic).
fn advised_against_elsewhere(kb: &KbIndex, drug: DrugId) -> Option<&Therapy> {
    kb.therapies
        .iter()
        .filter(|t| t.drug == drug)
        .filter(|t| Standing::parse(&t.standing).is_some_and(Standing::advises_against))
        .min_by(|a, b| a.indication.cmp(&b.indication))
}

/// Whether a `check` finding is about the medication list rather than the
/// therapy: likely causes of the cramps, unrecognized names, and dose
/// problems of listed medications. These are the same for every therapy, so
/// the suggestion reports them once.
pub fn is_list_finding(finding: &Finding) -> bool {
    match finding.kind {
        FindingKind::Cause | FindingKind::Unrecognized => true,
        FindingKind::Dose => !finding.medication_indices.is_empty(),
        _ => false,
    }
}

/// The status of a therapy from its findings and guideline standing. The
/// first rule that matches decides:
///
/// 1. `contraindicated` — any finding with severity `contraindicated`;
/// 2. `avoid` — any `major` finding whose action is `avoid` (e.g. a boxed
///    warning, a Beers rule, an opioid interaction), or a guideline standing
///    of `not-recommended` or `effective-avoid-routine`;
/// 3. `preferred` — the guideline standing is `recommended`, or
///    `possibly-effective` at the best evidence level (`best`) among the
///    indication's therapies that a guideline supports; and no finding is
///    `major`, and no finding of `minor` or above says `avoid`. Moderate and
///    minor findings (e.g. "monitor blood pressure with diuretics") do not
///    demote a first-line option: they say how to use it, and they still
///    count in the ranking;
/// 4. `caution` — any finding of severity `minor` or above, or no guideline
///    row for the indication at all (not an established option for it);
/// 5. `acceptable` — everything else.
///
/// Returns the status and one sentence saying why.
pub fn status_of(
    findings: &[Finding],
    standing: Option<Standing>,
    level: Option<EvidenceLevel>,
    best: Option<EvidenceLevel>,
) -> (TherapyStatus, String) {
    let worst_first = |pred: &dyn Fn(&Finding) -> bool| {
        findings
            .iter()
            .filter(|f| pred(f))
            .max_by(|a, b| a.severity.cmp(&b.severity).then(b.title.cmp(&a.title)))
    };
    if let Some(f) = worst_first(&|f| f.severity == Severity::Contraindicated) {
        return (
            TherapyStatus::Contraindicated,
            format!("contraindicated: {}", f.title),
        );
    }
    if let Some(f) = worst_first(&|f| f.severity == Severity::Major && f.action == Action::Avoid) {
        return (TherapyStatus::Avoid, format!("major, avoid: {}", f.title));
    }
    let level_text = level.map_or(String::new(), |l| format!(", level {}", l.as_str()));
    if let Some(s) = standing.filter(|s| s.advises_against()) {
        return (
            TherapyStatus::Avoid,
            format!("guideline standing {}{level_text}", s.as_str()),
        );
    }
    let acting = findings
        .iter()
        .filter(|f| f.severity >= Severity::Minor)
        .count();
    let first_line = match standing {
        Some(Standing::Recommended) => true,
        Some(Standing::PossiblyEffective) => level.is_some() && level == best,
        _ => false,
    };
    let blocks_first_line = worst_first(&|f| {
        f.severity >= Severity::Major
            || (f.severity >= Severity::Minor && f.action == Action::Avoid)
    });
    if let (true, None, Some(s)) = (first_line, blocks_first_line, standing) {
        let manage = match acting {
            0 => String::new(),
            1 => "; 1 finding to manage".to_owned(),
            n => format!("; {n} findings to manage"),
        };
        return (
            TherapyStatus::Preferred,
            format!("guideline standing {}{level_text}{manage}", s.as_str()),
        );
    }
    if let Some(f) = worst_first(&|f| f.severity >= Severity::Minor) {
        let more = match acting {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        return (
            TherapyStatus::Caution,
            format!("{}: {}{more}", f.severity.as_str(), f.title),
        );
    }
    match standing {
        Some(s) => (
            TherapyStatus::Acceptable,
            format!("no findings; guideline standing {}{level_text}", s.as_str()),
        ),
        // No guideline supports it for this indication (e.g. albumin or
        // quinidine for idiopathic cramps): never offered as a plain option.
        None => (
            TherapyStatus::Caution,
            "no findings, but no guideline supports it for this indication".to_owned(),
        ),
    }
}

/// Counts of findings per severity, worst first: contraindicated, major,
/// moderate, minor.
pub fn caution_counts(findings: &[Finding]) -> [usize; 4] {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    [
        count(Severity::Contraindicated),
        count(Severity::Major),
        count(Severity::Moderate),
        count(Severity::Minor),
    ]
}

/// The ranking order: status (preferred first), then evidence level for the
/// indication (A, B, C, U, none last), then the cautions compared worst
/// severity first (fewer contraindicated, then fewer major, moderate, minor
/// findings), then the name. No weights: each key only breaks ties of the
/// one before.
pub fn rank_key(a: &TherapySuggestion<'_>, b: &TherapySuggestion<'_>) -> Ordering {
    let level = |t: &TherapySuggestion<'_>| t.evidence_level.map_or(4, |l| l as u8);
    a.status
        .cmp(&b.status)
        .then(level(a).cmp(&level(b)))
        .then(caution_counts(&a.findings).cmp(&caution_counts(&b.findings)))
        .then(a.name.cmp(&b.name))
}

/// The titration schedule of a rule: from the starting dose, up by the step
/// every `step_every_days`, to the maximum (kept from then on). A rule
/// without a step or maximum gives one step at the starting dose; a rule
/// without a starting dose gives no steps.
pub fn titration(rule: &DosingRule) -> Vec<DoseStep> {
    /// Guards against a KB row with a tiny step: a titration longer than a
    /// year is not a plan anyone would print.
    const MAX_STEPS: usize = 52;
    let Some(start) = rule.start_mg_per_day else {
        return Vec::new();
    };
    let titrated = match (
        rule.step_mg_per_day,
        rule.step_every_days,
        rule.max_mg_per_day,
    ) {
        (Some(step), Some(every), Some(max)) if step > 0.0 && every > 0 && start < max => {
            Some((step, every, max))
        }
        _ => None,
    };
    let Some((step, every, max)) = titrated else {
        return vec![DoseStep {
            from_day: 1,
            to_day: None,
            mg_per_day: start,
        }];
    };
    let mut steps = Vec::new();
    let mut dose = start;
    let mut day = 1;
    while dose < max - 1e-9 && steps.len() < MAX_STEPS {
        steps.push(DoseStep {
            from_day: day,
            to_day: Some(day + every - 1),
            mg_per_day: dose,
        });
        day += every;
        dose = (dose + step).min(max);
    }
    steps.push(DoseStep {
        from_day: day,
        to_day: None,
        mg_per_day: dose,
    });
    steps
}

fn dosing_plan<'kb>(
    kb: &'kb KbIndex,
    drug: DrugId,
    req: &SuggestRequest<'_>,
    conditions: &[String],
    findings: &[Finding],
) -> Option<DosingPlan<'kb>> {
    let rule = rule_for_indication(kb, drug, req.indication, conditions, req.jurisdiction)?;
    let flag_findings: Vec<usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.kind == FindingKind::Condition
                && matches!(f.action, Action::AdjustDose | Action::Avoid)
        })
        .map(|(i, _)| i)
        .collect();
    let flag = flag_findings
        .iter()
        .map(|i| match findings[*i].action {
            Action::Avoid => DoseFlag::Avoid,
            _ => DoseFlag::Reduce,
        })
        .max();
    Some(DosingPlan {
        rule,
        population_specific: rule.population != "any",
        steps: titration(rule),
        flag,
        flag_findings,
    })
}

fn electrolyte_steps(
    kb: &KbIndex,
    patient: &PatientContext,
    therapies: &[TherapySuggestion<'_>],
) -> Vec<Step> {
    const ELECTROLYTES: [(&str, &str); 2] = [
        ("hypokalemia", "potassium"),
        ("hypomagnesemia", "magnesium"),
    ];
    let mut steps = Vec::new();
    for (code, what) in ELECTROLYTES {
        let Some((id, basis)) = patient
            .conditions
            .iter()
            .find(|(c, _)| kb.conditions[*c as usize].code == code)
        else {
            continue;
        };
        let condition = &kb.conditions[*id as usize];
        let mut sources = condition.sources.clone();
        for t in kb.lab_thresholds.iter().filter(|t| t.condition == *id) {
            for s in &t.sources {
                if !sources.contains(s) {
                    sources.push(*s);
                }
            }
        }
        super::finding::sort_sources(kb, &mut sources);
        let drugs: Vec<String> = therapies
            .iter()
            .filter(|t| {
                t.findings
                    .iter()
                    .any(|f| f.condition.as_deref() == Some(code))
            })
            .map(|t| t.name.clone())
            .collect();
        let raises = if drugs.is_empty() {
            String::new()
        } else {
            format!(
                " The knowledge base also flags it as a risk with {} (see their findings).",
                drugs.join(", ")
            )
        };
        steps.push(Step {
            code: format!("correct-{code}"),
            title: format!("Correct low {what} first"),
            detail: format!(
                "{} is present: correct it and recheck {what} before adding a cramp drug.{raises}",
                condition.name
            ),
            basis: Some(basis.describe(&condition.name)),
            drugs,
            sources,
            findings: Vec::new(),
        });
    }
    steps
}

fn review_step(kb: &KbIndex, causes: Vec<Finding>) -> Option<Step> {
    if causes.is_empty() {
        return None;
    }
    let drugs: Vec<String> = causes.iter().flat_map(|f| f.drugs.clone()).collect();
    let mut sources: Vec<SourceId> = Vec::new();
    for s in causes.iter().flat_map(|f| &f.sources) {
        if !sources.contains(s) {
            sources.push(*s);
        }
    }
    super::finding::sort_sources(kb, &mut sources);
    Some(Step {
        code: "review-cramp-causing-drugs".to_owned(),
        title: format!("Review drugs that may be causing the cramps: {}", drugs.join(", ")),
        detail: "These medications are known to cause or worsen muscle cramps; stopping, reducing or changing one may relieve the cramps without adding a drug.".to_owned(),
        basis: None,
        drugs,
        sources,
        findings: causes,
    })
}

/// Stretching is general advice; it cites a KB source only when one of the
/// KB's sources is about stretching (its section or citation says so).
fn stretching_step(kb: &KbIndex) -> Step {
    let mut sources: Vec<SourceId> = kb
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.section.to_lowercase().contains("stretch")
                || s.citation.to_lowercase().contains("stretch")
        })
        .map(|(i, _)| i as SourceId)
        .collect();
    super::finding::sort_sources(kb, &mut sources);
    let detail = if sources.is_empty() {
        "Stretching is common general advice; the knowledge base holds no source for it."
    } else {
        "Stretch the cramping muscle during a cramp; for night-time calf cramps, regular calf-stretching exercises."
    };
    Step {
        code: "stretching".to_owned(),
        title: "Stretching".to_owned(),
        detail: detail.to_owned(),
        basis: None,
        drugs: Vec::new(),
        sources,
        findings: Vec::new(),
    }
}

fn aggregate_pair_check(into: &mut PairCheck, other: &PairCheck) {
    match (&*into, other) {
        (PairCheck::Finding | PairCheck::NotChecked, _) => {}
        (_, PairCheck::Finding) => *into = PairCheck::Finding,
        (_, PairCheck::NotChecked) => *into = PairCheck::NotChecked,
        (_, PairCheck::NoneExpected(sources)) => into.record_none_expected(sources.clone()),
        (_, PairCheck::NoneOnFile) => {}
    }
}

/// Checks every therapy against the patient and ranks them.
pub fn suggest<'kb>(kb: &'kb KbIndex, req: &SuggestRequest<'_>) -> Suggestion<'kb> {
    let conditions = req.patient.condition_codes(kb);
    // The best evidence level among the rows that apply (those
    // `standing_for` picks), over every therapy a guideline supports.
    let best = therapy_drugs(kb)
        .into_iter()
        .filter_map(|drug| standing_for(kb, drug, req.indication, req.jurisdiction))
        .filter(|t| Standing::parse(&t.standing).is_some_and(Standing::supports_use))
        .filter_map(|t| EvidenceLevel::parse(&t.evidence_level))
        .min();
    let mut list_findings: Vec<Finding> = Vec::new();
    let mut pair_checks = vec![PairCheck::NoneOnFile; req.meds.len()];
    let mut therapies = Vec::new();
    for proposed in req.therapies {
        let [ingredient] = proposed.ingredients.as_slice() else {
            continue;
        };
        let drug = ingredient.drug;
        let result = check(
            kb,
            &CheckRequest {
                proposed,
                meds: req.meds,
                patient: req.patient,
                jurisdiction: req.jurisdiction,
                being_written: true,
            },
        );
        for (into, other) in pair_checks.iter_mut().zip(&result.pair_checks) {
            aggregate_pair_check(into, other);
        }
        let (listed, findings): (Vec<Finding>, Vec<Finding>) =
            result.findings.into_iter().partition(is_list_finding);
        for f in listed {
            if !list_findings.contains(&f) {
                list_findings.push(f);
            }
        }
        let standing = standing_for(kb, drug, req.indication, req.jurisdiction);
        let evidence_level = standing.and_then(|t| EvidenceLevel::parse(&t.evidence_level));
        let (mut status, mut reason) = status_of(
            &findings,
            standing.and_then(|t| Standing::parse(&t.standing)),
            evidence_level,
            best,
        );
        // No guideline for this indication, and one that advises against it
        // for another (quinidine: toxicity outweighs benefit in cirrhosis):
        // its risks are its own, whatever the cramps.
        if let (None, Some(elsewhere)) = (standing, advised_against_elsewhere(kb, drug))
            && status < TherapyStatus::Avoid
        {
            status = TherapyStatus::Avoid;
            reason = format!(
                "no guideline supports it for this indication; for {} a guideline standing is {}",
                elsewhere.indication, elsewhere.standing
            );
        }
        let dosing = dosing_plan(kb, drug, req, &conditions, &findings);
        therapies.push(TherapySuggestion {
            drug,
            name: kb.drug_name(drug).to_owned(),
            status,
            reason,
            standing,
            evidence_level,
            findings,
            dosing,
        });
    }
    therapies.sort_by(rank_key);
    let (causes, list_findings): (Vec<Finding>, Vec<Finding>) = list_findings
        .into_iter()
        .partition(|f| f.kind == FindingKind::Cause);
    let mut steps = electrolyte_steps(kb, req.patient, &therapies);
    steps.extend(review_step(kb, causes));
    steps.push(stretching_step(kb));
    Suggestion {
        steps,
        therapies,
        list_findings,
        pair_checks,
        complete: req.meds.iter().all(Resolved::is_exact),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clinical::Evidence;

    fn finding(severity: Severity, action: Action, title: &str) -> Finding {
        Finding {
            kind: FindingKind::Interaction,
            severity,
            action,
            evidence: Some(Evidence::Label),
            drugs: Vec::new(),
            condition: None,
            medication_indices: Vec::new(),
            title: title.to_owned(),
            mechanism: String::new(),
            effect: String::new(),
            management: String::new(),
            sources: Vec::new(),
            rule_ids: Vec::new(),
            basis: None,
        }
    }

    fn therapy(
        name: &str,
        status: TherapyStatus,
        level: Option<EvidenceLevel>,
        findings: Vec<Finding>,
    ) -> TherapySuggestion<'static> {
        TherapySuggestion {
            drug: 0,
            name: name.to_owned(),
            status,
            reason: String::new(),
            standing: None,
            evidence_level: level,
            findings,
            dosing: None,
        }
    }

    fn ranked(mut list: Vec<TherapySuggestion<'static>>) -> Vec<String> {
        list.sort_by(rank_key);
        list.into_iter().map(|t| t.name).collect()
    }

    #[test]
    fn status_outranks_evidence_level() {
        use EvidenceLevel::*;
        use TherapyStatus::*;
        let names = ranked(vec![
            therapy("quinine", Avoid, Some(A), Vec::new()),
            therapy("albumin", Acceptable, None, Vec::new()),
            therapy("diltiazem", Preferred, Some(C), Vec::new()),
            therapy("orphenadrine", Contraindicated, Some(B), Vec::new()),
            therapy("magnesium", Caution, Some(B), Vec::new()),
        ]);
        assert_eq!(
            names,
            [
                "diltiazem",
                "albumin",
                "magnesium",
                "quinine",
                "orphenadrine"
            ]
        );
    }

    #[test]
    fn evidence_level_then_cautions_then_name_break_ties() {
        use TherapyStatus::Caution;
        let moderate = || finding(Severity::Moderate, Action::Monitor, "m");
        let major = || finding(Severity::Major, Action::Monitor, "M");
        let names = ranked(vec![
            therapy("zeta", Caution, None, vec![moderate()]),
            therapy("beta", Caution, Some(EvidenceLevel::C), vec![major()]),
            therapy(
                "alpha",
                Caution,
                Some(EvidenceLevel::C),
                vec![moderate(), moderate()],
            ),
            therapy(
                "gamma",
                Caution,
                Some(EvidenceLevel::C),
                vec![moderate(), moderate()],
            ),
            therapy(
                "delta",
                Caution,
                Some(EvidenceLevel::B),
                vec![major(), major()],
            ),
        ]);
        // B before C; among C, two moderates before one major; then by name;
        // no evidence level last.
        assert_eq!(names, ["delta", "alpha", "gamma", "beta", "zeta"]);
    }

    #[test]
    fn ranking_ignores_input_order() {
        use TherapyStatus::Acceptable;
        let make = || {
            vec![
                therapy("b", Acceptable, None, Vec::new()),
                therapy("a", Acceptable, None, Vec::new()),
                therapy("c", Acceptable, Some(EvidenceLevel::U), Vec::new()),
            ]
        };
        let mut reversed = make();
        reversed.reverse();
        assert_eq!(ranked(make()), ranked(reversed));
        assert_eq!(ranked(make()), ["c", "a", "b"]);
    }

    #[test]
    fn contraindication_beats_everything_and_standing_can_say_avoid() {
        let (status, why) = status_of(
            &[
                finding(Severity::Major, Action::Avoid, "boxed"),
                finding(Severity::Contraindicated, Action::Avoid, "myasthenia"),
            ],
            Some(Standing::Recommended),
            Some(EvidenceLevel::A),
            Some(EvidenceLevel::A),
        );
        assert_eq!(status, TherapyStatus::Contraindicated);
        assert!(why.contains("myasthenia"), "{why}");
        let (status, why) = status_of(
            &[],
            Some(Standing::EffectiveAvoidRoutine),
            Some(EvidenceLevel::A),
            Some(EvidenceLevel::C),
        );
        assert_eq!(status, TherapyStatus::Avoid);
        assert!(why.contains("effective-avoid-routine"), "{why}");
    }

    #[test]
    fn moderate_findings_do_not_demote_a_first_line_option_but_major_ones_do() {
        let moderate = [finding(Severity::Moderate, Action::AdjustDose, "bp")];
        let recommended = Some(Standing::Recommended);
        let b = Some(EvidenceLevel::B);
        assert_eq!(
            status_of(&moderate, recommended, b, b).0,
            TherapyStatus::Preferred
        );
        let major = [finding(Severity::Major, Action::AdjustDose, "statin")];
        assert_eq!(
            status_of(&major, recommended, b, b).0,
            TherapyStatus::Caution
        );
        // Possibly effective counts as first line only at the best level.
        let possibly = Some(Standing::PossiblyEffective);
        let c = Some(EvidenceLevel::C);
        assert_eq!(status_of(&[], possibly, c, c).0, TherapyStatus::Preferred);
        assert_eq!(status_of(&[], possibly, c, b).0, TherapyStatus::Acceptable);
        assert_eq!(
            status_of(&moderate, possibly, c, b).0,
            TherapyStatus::Caution
        );
        // No guideline row for the indication: never a plain option.
        assert_eq!(status_of(&[], None, None, b).0, TherapyStatus::Caution);
    }

    #[test]
    fn titration_steps_up_weekly_to_the_maximum() {
        let rule = DosingRule {
            id: "r".to_owned(),
            drug: 0,
            indication: "cirrhosis".to_owned(),
            population: "any".to_owned(),
            start_mg_per_day: Some(10.0),
            step_mg_per_day: Some(10.0),
            step_every_days: Some(7),
            max_mg_per_day: Some(30.0),
            schedule: String::new(),
            note: String::new(),
            route: Some(crate::kb::index::RouteNeed::Oral),
            jurisdiction: Jurisdiction::US,
            sources: Vec::new(),
        };
        let steps = titration(&rule);
        let plan: Vec<(u32, Option<u32>, f64)> = steps
            .iter()
            .map(|s| (s.from_day, s.to_day, s.mg_per_day))
            .collect();
        assert_eq!(
            plan,
            [(1, Some(7), 10.0), (8, Some(14), 20.0), (15, None, 30.0)]
        );
        let fixed = DosingRule {
            step_mg_per_day: None,
            ..rule.clone()
        };
        assert_eq!(titration(&fixed).len(), 1);
        let none = DosingRule {
            start_mg_per_day: None,
            ..rule
        };
        assert!(titration(&none).is_empty());
    }
}
