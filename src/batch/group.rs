//! One patient's rows → findings, through the same engine as `check`.
//!
//! A patient's medication list is their distinct drug strings in order of
//! first appearance (`medication_indices` in findings point into it; the
//! `lines` of a finding point into the file). Which rows count together is
//! the co-exposure rule: without dates every row of a patient is on one list;
//! with dates two rows count together only when their windows overlap, or,
//! with `--as-of`, when both are active on that day.
//!
//! Each medication is first checked alone against the proposed drug (memoized
//! per pair of distinct strings); only those that give a finding are passed to
//! the engine together. The engine's rules pair the proposed drug with one
//! listed medication at a time, so this gives the same findings as passing
//! the whole list, at a fraction of the cost on long lists.

use super::reader::Day;
use super::{Mode, NO_MED};
use crate::clinical::Jurisdiction;
use crate::engine::inputs::unresolved_findings;
use crate::engine::{CheckRequest, Finding, FindingKind, check};
use crate::kb::KbIndex;
use crate::kb::index::{ConditionId, DrugId};
use crate::patient::{PatientContext, PatientInput};
use crate::resolve::{Resolved, Status};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError, RwLock};

/// One usable row, as kept in memory until its patient is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// 1-based line where the row starts in the file.
    pub line: u64,
    /// Interned drug string.
    pub med: u32,
    /// Interned proposed-drug string (`--propose-col`), or none.
    pub proposed: u32,
    /// First day of exposure (inclusive).
    pub start: Day,
    /// End of exposure (exclusive).
    pub end: Day,
}

impl Row {
    fn active_on(&self, day: Option<Day>) -> bool {
        day.is_none_or(|d| self.start <= d && d < self.end)
    }

    fn overlaps(&self, other: &Row) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// A patient's rows (all of them, or those read so far).
#[derive(Debug, Clone)]
pub struct Group {
    /// Dense patient number, in order of first appearance.
    pub pid: u32,
    /// Patient id as written.
    pub id: Box<str>,
    /// Rows in file order.
    pub rows: Vec<Row>,
    /// Context merged from the rows' context columns.
    pub context: Option<Box<PatientInput>>,
    /// 1 = first read, 2 = gathered in the second read.
    pub pass: u8,
}

impl Group {
    /// An empty group.
    pub fn new(pid: u32, id: Box<str>, pass: u8) -> Self {
        Group {
            pid,
            id,
            rows: Vec::new(),
            context: None,
            pass,
        }
    }

    /// Adds a row and merges its context values.
    pub fn push(&mut self, row: Row, context: &super::context::RowContext, lists: &[Vec<String>]) {
        if !context.is_empty() {
            context.apply(self.context.get_or_insert_default(), lists);
        }
        self.rows.push(row);
    }
}

/// One finding for one patient, with the rows behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchFinding {
    /// The drug checked as proposed, as written (empty for findings about
    /// the list itself, e.g. unrecognized names).
    pub proposed: String,
    /// The engine's finding; `medication_indices` point into the patient's
    /// distinct medications in order of first appearance.
    pub finding: Finding,
    /// Input line numbers of the rows that triggered it, ascending.
    pub lines: Vec<u64>,
}

/// A patient's findings, as handed to a renderer.
#[derive(Debug, Clone, Copy)]
pub struct PatientFindings<'a> {
    /// Patient id as written.
    pub patient_id: &'a str,
    /// Findings, most severe first.
    pub findings: &'a [BatchFinding],
}

/// The drugs whose rows are checked in the default mode: those with a row in
/// the KB's therapies table, or quinine and baclofen when it is empty.
pub fn therapy_drugs(kb: &KbIndex) -> Vec<DrugId> {
    let mut drugs: Vec<DrugId> = kb.therapies.iter().map(|t| t.drug).collect();
    if drugs.is_empty() {
        drugs.extend(["quinine", "baclofen"].iter().filter_map(|n| kb.drug_by_name(n)));
    }
    drugs.sort_unstable();
    drugs.dedup();
    drugs
}

/// Key of the fixed `--propose` drug in the probe cache.
const FIXED_PROPOSED: u32 = u32::MAX - 1;

/// Memo of "does this medication alone give a finding with this proposed
/// drug", per condition set (conditions change dose limits).
#[derive(Debug, Default)]
pub struct ProbeCache {
    relevant: RwLock<HashMap<(u32, u32, u32), bool>>,
    condition_sets: Mutex<HashMap<Vec<ConditionId>, u32>>,
}

impl ProbeCache {
    fn condition_set(&self, context: &PatientContext) -> u32 {
        if context.conditions.is_empty() {
            return 0;
        }
        let key: Vec<ConditionId> = context.conditions.iter().map(|(c, _)| *c).collect();
        let mut sets = self
            .condition_sets
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let next = sets.len() as u32 + 1;
        *sets.entry(key).or_insert(next)
    }

    fn relevant(&self, s: &Shared<'_>, proposed: Proposed<'_>, med: u32, call: &Call<'_>) -> bool {
        let key = (proposed.key, med, call.condition_set);
        if let Some(&known) = self
            .relevant
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return known;
        }
        let probe_context = PatientContext {
            input: PatientInput::default(),
            conditions: call.context.conditions.clone(),
        };
        let result = check(
            s.kb,
            &CheckRequest {
                proposed: proposed.resolved,
                meds: std::slice::from_ref(&s.meds[med as usize]),
                patient: &probe_context,
                jurisdiction: s.jurisdiction,
            },
        );
        let relevant = result
            .findings
            .iter()
            .any(|f| f.kind != FindingKind::Unrecognized && f.medication_indices.contains(&0));
        self.relevant
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, relevant);
        relevant
    }
}

/// What every patient check reads.
pub struct Shared<'a> {
    /// The KB.
    pub kb: &'a KbIndex,
    /// Resolved drug strings, by interned id.
    pub meds: &'a [Resolved],
    /// Whether each interned string is a cramp therapy.
    pub therapy: &'a [bool],
    /// What is checked.
    pub mode: &'a Mode,
    /// Only rows active on this day count.
    pub as_of: Option<Day>,
    /// Whether rows carry dates.
    pub dated: bool,
    /// Whose label facts apply.
    pub jurisdiction: Jurisdiction,
    /// Context from a `--patients` file.
    pub patients: Option<&'a super::context::PatientTable>,
    /// The probe memo.
    pub probes: &'a ProbeCache,
}

#[derive(Clone, Copy)]
struct Proposed<'a> {
    resolved: &'a Resolved,
    key: u32,
}

/// The per-patient facts every engine call shares.
struct Call<'a> {
    context: &'a PatientContext,
    condition_set: u32,
    /// Distinct interned drug ids, first appearance first.
    distinct: &'a [u32],
}

/// Checks one patient. Returns the findings (deduplicated, most severe
/// first) and whether any context was known for the patient.
pub fn check_patient(s: &Shared<'_>, g: &Group) -> (Vec<BatchFinding>, bool) {
    let (context, has_context) = context_of(s, g);
    let mut distinct: Vec<u32> = Vec::new();
    let mut slots: HashMap<u32, u32> = HashMap::new();
    let row_slot: Vec<usize> = g
        .rows
        .iter()
        .map(|r| {
            *slots.entry(r.med).or_insert_with(|| {
                distinct.push(r.med);
                distinct.len() as u32 - 1
            }) as usize
        })
        .collect();
    let call = Call {
        context: &context,
        condition_set: s.probes.condition_set(&context),
        distinct: &distinct,
    };
    let mut out: Vec<BatchFinding> = Vec::new();
    match s.mode {
        Mode::Existing => {
            for (slot, &therapy) in distinct.iter().enumerate() {
                if !s.therapy[therapy as usize] {
                    continue;
                }
                let own: Vec<&Row> = g
                    .rows
                    .iter()
                    .filter(|r| r.med == therapy && r.active_on(s.as_of))
                    .collect();
                if own.is_empty() {
                    continue;
                }
                let mut exposure: Vec<Vec<u64>> = vec![Vec::new(); distinct.len()];
                for (row, &other) in g.rows.iter().zip(&row_slot) {
                    if other == slot || !row.active_on(s.as_of) {
                        continue;
                    }
                    let before = exposure[other].len();
                    exposure[other].extend(own.iter().filter(|t| t.overlaps(row)).map(|t| t.line));
                    if exposure[other].len() > before {
                        exposure[other].push(row.line);
                    }
                }
                let base: Vec<u64> = own.iter().map(|r| r.line).collect();
                let proposed = Proposed {
                    resolved: &s.meds[therapy as usize],
                    key: therapy,
                };
                check_one(s, &call, proposed, &exposure, &base, &mut out);
            }
        }
        Mode::Propose(resolved) => {
            let exposure = current_exposure(s, g, &row_slot, distinct.len(), &[]);
            let proposed = Proposed {
                resolved,
                key: FIXED_PROPOSED,
            };
            check_one(s, &call, proposed, &exposure, &[], &mut out);
        }
        Mode::ProposeColumn => {
            let mut seen: Vec<u32> = Vec::new();
            for row in &g.rows {
                if row.proposed != NO_MED && !seen.contains(&row.proposed) {
                    seen.push(row.proposed);
                }
            }
            for id in seen {
                let base: Vec<u64> = g
                    .rows
                    .iter()
                    .filter(|r| r.proposed == id)
                    .map(|r| r.line)
                    .collect();
                let resolved = &s.meds[id as usize];
                if resolved.status != Status::Recognized {
                    out.extend(unrecognized_proposed(resolved, &base));
                }
                if resolved.ingredients.is_empty() {
                    continue;
                }
                let exposure = current_exposure(s, g, &row_slot, distinct.len(), &base);
                let proposed = Proposed { resolved, key: id };
                check_one(s, &call, proposed, &exposure, &base, &mut out);
            }
        }
    }
    if distinct
        .iter()
        .any(|&m| s.meds[m as usize].status != Status::Recognized)
    {
        let list: Vec<Resolved> = distinct.iter().map(|&m| s.meds[m as usize].clone()).collect();
        for finding in unresolved_findings(&list) {
            let lines = g
                .rows
                .iter()
                .zip(&row_slot)
                .filter(|(_, slot)| finding.medication_indices.contains(slot))
                .map(|(r, _)| r.line)
                .collect();
            out.push(BatchFinding {
                proposed: String::new(),
                finding,
                lines,
            });
        }
    }
    (dedupe(out), has_context)
}

fn context_of(s: &Shared<'_>, g: &Group) -> (PatientContext, bool) {
    let empty = || PatientContext {
        input: PatientInput::default(),
        conditions: Vec::new(),
    };
    if let Some(table) = s.patients {
        return match table.get(g.id.as_bytes()) {
            Some(context) => (context.clone(), true),
            None => (empty(), false),
        };
    }
    match &g.context {
        // Every value was validated row by row, so this cannot fail; if it
        // did, the patient is checked without context rather than dropped.
        Some(input) => match (**input).clone().into_context(s.kb) {
            Ok(context) => (context, true),
            Err(_) => (empty(), false),
        },
        None => (empty(), false),
    }
}

/// For a drug about to be prescribed: the rows active on `--as-of`, or on
/// the patient's latest start date when rows are dated, or every row.
fn current_exposure(
    s: &Shared<'_>,
    g: &Group,
    row_slot: &[usize],
    n: usize,
    base: &[u64],
) -> Vec<Vec<u64>> {
    let day = s.as_of.or_else(|| {
        s.dated
            .then(|| g.rows.iter().map(|r| r.start).max())
            .flatten()
    });
    let mut exposure: Vec<Vec<u64>> = vec![Vec::new(); n];
    for (row, &slot) in g.rows.iter().zip(row_slot) {
        if row.active_on(day) {
            if exposure[slot].is_empty() {
                exposure[slot].extend_from_slice(base);
            }
            exposure[slot].push(row.line);
        }
    }
    exposure
}

/// Runs the engine for one proposed drug against the co-exposed
/// medications (`exposure[slot]` lists the lines behind each distinct
/// medication; empty = not co-exposed).
fn check_one(
    s: &Shared<'_>,
    call: &Call<'_>,
    proposed: Proposed<'_>,
    exposure: &[Vec<u64>],
    base: &[u64],
    out: &mut Vec<BatchFinding>,
) {
    let relevant: Vec<usize> = (0..call.distinct.len())
        .filter(|&slot| {
            !exposure[slot].is_empty()
                && s.probes
                    .relevant(s, proposed, call.distinct[slot], call)
        })
        .collect();
    let meds: Vec<Resolved> = relevant
        .iter()
        .map(|&slot| s.meds[call.distinct[slot] as usize].clone())
        .collect();
    let result = check(
        s.kb,
        &CheckRequest {
            proposed: proposed.resolved,
            meds: &meds,
            patient: call.context,
            jurisdiction: s.jurisdiction,
        },
    );
    let label = proposed.resolved.med.input.trim();
    for mut finding in result.findings {
        // Unrecognized names are reported once per patient, from the whole list.
        if finding.kind == FindingKind::Unrecognized {
            continue;
        }
        let slots: Vec<usize> = finding
            .medication_indices
            .iter()
            .filter_map(|&i| relevant.get(i).copied())
            .collect();
        let mut lines: Vec<u64> = if slots.is_empty() {
            base.to_vec()
        } else {
            slots
                .iter()
                .flat_map(|&slot| exposure[slot].iter().copied())
                .collect()
        };
        lines.sort_unstable();
        lines.dedup();
        finding.medication_indices = slots;
        out.push(BatchFinding {
            proposed: label.to_owned(),
            finding,
            lines,
        });
    }
}

/// The `unrecognized` finding for a proposed drug (from `--propose-col`)
/// that the KB does not know.
fn unrecognized_proposed(resolved: &Resolved, lines: &[u64]) -> Option<BatchFinding> {
    let mut finding = unresolved_findings(std::slice::from_ref(resolved))
        .into_iter()
        .next()?;
    finding.medication_indices.clear();
    finding.mechanism = format!(
        "The proposed drug `{}` could not be resolved to a known ingredient, so it was not checked.",
        resolved.med.input.trim()
    );
    Some(BatchFinding {
        proposed: resolved.med.input.trim().to_owned(),
        finding,
        lines: lines.to_vec(),
    })
}

/// Whether two findings say the same thing (so one is kept): a pair found
/// from both sides (quinine + baclofen, baclofen + quinine) is one finding.
fn same(a: &Finding, b: &Finding) -> bool {
    let pairwise = matches!(a.kind, FindingKind::Interaction | FindingKind::Duplicate)
        && a.drugs.len() == 2;
    fn sorted(v: &[String]) -> Vec<&str> {
        let mut v: Vec<&str> = v.iter().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
    a.kind == b.kind
        && a.severity == b.severity
        && a.action == b.action
        && a.condition == b.condition
        && sorted(&a.drugs) == sorted(&b.drugs)
        && sorted(&a.rule_ids) == sorted(&b.rule_ids)
        && (pairwise || (a.title == b.title && a.mechanism == b.mechanism))
}

/// Merges repeated findings (lines and medications united), then orders
/// most severe first, keeping the engine's order among equals.
fn dedupe(findings: Vec<BatchFinding>) -> Vec<BatchFinding> {
    let mut out: Vec<BatchFinding> = Vec::with_capacity(findings.len());
    for f in findings {
        match out.iter_mut().find(|e| same(&e.finding, &f.finding)) {
            Some(existing) => {
                existing.lines.extend(f.lines);
                existing.lines.sort_unstable();
                existing.lines.dedup();
                let indices = &mut existing.finding.medication_indices;
                indices.extend(f.finding.medication_indices);
                indices.sort_unstable();
                indices.dedup();
            }
            None => out.push(f),
        }
    }
    out.sort_by(|a, b| b.finding.severity.cmp(&a.finding.severity));
    out
}

