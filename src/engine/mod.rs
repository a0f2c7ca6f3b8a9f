//! Stage 3: rules over the resolved medications and the patient context.
//! [`check`] is the one engine every command uses (`check`, `suggest`,
//! `batch`): it returns plain [`Finding`]s and never prints.

pub mod conditions;
pub mod counts;
pub mod dosing;
pub mod finding;
pub mod inputs;
pub mod pairs;
pub mod suggest;

pub use finding::{Finding, FindingKind};

use crate::clinical::{Action, Jurisdiction, Severity};
use crate::kb::KbIndex;
use crate::kb::index::SourceId;
use crate::patient::PatientContext;
use crate::resolve::{Resolved, Status};
use serde::Serialize;

/// Everything one check needs.
#[derive(Debug, Clone, Copy)]
pub struct CheckRequest<'a> {
    /// The drug about to be prescribed, resolved.
    pub proposed: &'a Resolved,
    /// The patient's current medications, resolved, in input order.
    pub meds: &'a [Resolved],
    /// Labs, age and conditions.
    pub patient: &'a PatientContext,
    /// Whose label facts apply.
    pub jurisdiction: Jurisdiction,
    /// Whether the proposed drug is a prescription being written (`check`,
    /// `suggest`), whose dose should say how often it is taken: a strength
    /// without a schedule is then reported as not checked. False for a
    /// therapy read from an export (`batch`), where RxNorm descriptions
    /// carry a strength and never a schedule.
    pub being_written: bool,
}

/// What the check concluded about one listed medication's interactions with
/// the proposed drug: distinguishes "checked, none expected" from "nothing in
/// the KB" and from "could not check".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairCheck {
    /// At least one finding involves this medication.
    Finding,
    /// The KB documents that no interaction is expected (sources given).
    NoneExpected(Vec<SourceId>),
    /// Recognized, and the KB has no interaction on file.
    NoneOnFile,
    /// Not recognized, so not checked.
    NotChecked,
}

impl PairCheck {
    fn record_none_expected(&mut self, sources: Vec<SourceId>) {
        match self {
            PairCheck::NoneExpected(existing) => {
                for s in sources {
                    if !existing.contains(&s) {
                        existing.push(s);
                    }
                }
            }
            PairCheck::NoneOnFile => *self = PairCheck::NoneExpected(sources),
            PairCheck::Finding | PairCheck::NotChecked => {}
        }
    }

    /// The JSON spelling of the status.
    pub fn as_str(&self) -> &'static str {
        match self {
            PairCheck::Finding => "finding",
            PairCheck::NoneExpected(_) => "none_expected",
            PairCheck::NoneOnFile => "none_on_file",
            PairCheck::NotChecked => "not_checked",
        }
    }
}

/// The overall answer, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// A contraindication, or a major finding whose advice is to avoid.
    Avoid,
    /// Some names could not be checked, so the result may be missing findings.
    Incomplete,
    /// Findings to act on, none that says avoid.
    Caution,
    /// Every name checked and nothing to act on (information-only findings at most).
    Ok,
}

impl Verdict {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Avoid => "avoid",
            Verdict::Incomplete => "incomplete",
            Verdict::Caution => "caution",
            Verdict::Ok => "ok",
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone)]
pub struct CheckResult {
    /// Findings, most severe first, in a stable order.
    pub findings: Vec<Finding>,
    /// Per listed medication: what was found for it.
    pub pair_checks: Vec<PairCheck>,
    /// The overall answer.
    pub verdict: Verdict,
    /// Whether every name (proposed and listed) was resolved.
    pub complete: bool,
}

impl CheckResult {
    /// The worst severity among findings, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Runs every rule for one proposed drug against the list and the patient.
pub fn check(kb: &KbIndex, req: &CheckRequest<'_>) -> CheckResult {
    let (mut findings, mut pair_checks) = pairs::check_pairs(kb, req);
    findings.extend(conditions::check_boxed_warnings(kb, req));
    findings.extend(conditions::check_conditions(kb, req));
    // A medication counted toward a class total is in a finding too.
    for finding in counts::check_counts(kb, req) {
        for &index in &finding.medication_indices {
            if let Some(check) = pair_checks.get_mut(index) {
                *check = PairCheck::Finding;
            }
        }
        findings.push(finding);
    }
    findings.extend(dosing::check_doses(kb, req));
    findings.extend(inputs::cramp_cause_findings(kb, req.meds));
    findings.extend(inputs::unresolved_findings(req.meds));
    for (check, med) in pair_checks.iter_mut().zip(req.meds) {
        if med.ingredients.is_empty() {
            *check = PairCheck::NotChecked;
        }
    }
    for finding in &mut findings {
        finding.medication_indices.sort_unstable();
        finding.medication_indices.dedup();
        finding::sort_sources_preferring(kb, &mut finding.sources, req.jurisdiction);
    }
    sort_findings(&mut findings, req.meds);
    let complete =
        req.proposed.status == Status::Recognized && req.meds.iter().all(Resolved::is_exact);
    let verdict = verdict_of(&findings, complete);
    CheckResult {
        findings,
        pair_checks,
        verdict,
        complete,
    }
}

fn verdict_of(findings: &[Finding], complete: bool) -> Verdict {
    let avoid = findings.iter().any(|f| {
        f.severity == Severity::Contraindicated
            || (f.severity == Severity::Major && f.action == Action::Avoid)
    });
    if avoid {
        Verdict::Avoid
    } else if !complete {
        Verdict::Incomplete
    } else if findings
        .iter()
        .any(|f| f.severity >= Severity::Minor || f.kind == FindingKind::Dose)
    {
        Verdict::Caution
    } else {
        Verdict::Ok
    }
}

/// Most severe first; ties broken by content, never by input position, so
/// the same list in another order gives the same findings in the same order.
fn sort_findings(findings: &mut [Finding], meds: &[Resolved]) {
    let first_input = |f: &Finding| -> String {
        let mut inputs: Vec<&str> = f
            .medication_indices
            .iter()
            .filter_map(|i| meds.get(*i))
            .map(|m| m.med.input.as_str())
            .collect();
        inputs.sort_unstable();
        inputs.join("\u{1}")
    };
    findings.sort_by(|a, b| report_order(a, b, || first_input(a).cmp(&first_input(b))));
}

/// The order findings are reported in, shared by `check` and `batch`: most
/// severe first, then kind, drugs, condition, the medications involved (as
/// compared by `by_inputs`, called only on a tie) and title.
pub fn report_order(
    a: &Finding,
    b: &Finding,
    by_inputs: impl FnOnce() -> std::cmp::Ordering,
) -> std::cmp::Ordering {
    // Each step only on a tie: batch sorts every patient's findings.
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.kind.cmp(&b.kind))
        .then_with(|| a.drugs.cmp(&b.drugs))
        .then_with(|| a.condition.cmp(&b.condition))
        .then_with(by_inputs)
        .then_with(|| a.title.cmp(&b.title))
}
