//! One patient's rows → findings, through the same engine as `check`.
//!
//! A patient's medication list is their distinct drug strings in order of
//! first appearance (`medication_indices` in findings point into it; the
//! `lines` of a finding point into the file). Which rows count together is
//! the co-exposure rule: without dates every row of a patient is on one list;
//! with dates two rows count together only when their windows overlap, or,
//! with `--as-of`, when both are active on that day.
//!
//! The engine is run per (proposed drug, medication) pair and per proposed
//! drug alone, each memoized ([`ProbeCache`]), and a patient's findings are
//! the union of those, with repeats merged. The engine's rules pair the
//! proposed drug with one listed medication at a time, so this gives the
//! findings of one engine call on the whole list (a test compares the two on
//! a long list) while the engine runs once per distinct pair, not once per
//! patient.

use super::context::MergedContext;
use super::reader::Day;
use super::{CONTEXT_ONLY, Mode, NO_MED};
use crate::clinical::Jurisdiction;
use crate::engine::counts::count_findings;
use crate::engine::inputs::unresolved_findings;
use crate::engine::{CheckRequest, Finding, FindingKind, check, report_order};
use crate::kb::KbIndex;
use crate::kb::index::{Comparator, ConditionId, DrugId, Lab};
use crate::patient::{PatientContext, PatientInput};
use crate::resolve::{Resolved, Status};
use foldhash::HashMap;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

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
    pub context: Option<Box<MergedContext>>,
    /// 1 = first read, 2 = gathered in the second read.
    pub pass: u8,
}

impl Group {
    /// An empty group filling `rows` (emptied first): a buffer handed back
    /// by the checking thread is reused rather than allocated anew.
    pub fn with_rows(pid: u32, id: Box<str>, pass: u8, mut rows: Vec<Row>) -> Self {
        rows.clear();
        if rows.capacity() == 0 {
            rows.reserve(16);
        }
        Group {
            pid,
            id,
            rows,
            context: None,
            pass,
        }
    }

    /// Adds a row and merges its context values; a row that brings only
    /// context ([`CONTEXT_ONLY`]) adds no medication.
    pub fn push(&mut self, row: Row, context: &super::context::RowContext, lists: &[Vec<String>]) {
        if !context.is_empty() {
            context.apply(
                self.context.get_or_insert_default(),
                lists,
                row.start,
                row.line,
            );
        }
        if row.med != CONTEXT_ONLY {
            self.rows.push(row);
        }
    }
}

/// One finding for one patient, with the rows behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchFinding {
    /// The drug checked as proposed, as written (empty for findings about
    /// the list itself, e.g. unrecognized names).
    pub proposed: Arc<str>,
    /// The engine's finding, shared by every patient for whom the engine
    /// was given the same input. Its own `medication_indices` refer to that
    /// engine call; use [`BatchFinding::medication_indices`].
    pub finding: Arc<Finding>,
    /// The patient's medications behind the finding: indices into their
    /// distinct medications in order of first appearance, ascending.
    pub medication_indices: Vec<usize>,
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
/// the KB's therapies table (or quinine and baclofen when it is empty), and
/// every drug the therapy-forms table names as a form of one of them, so a
/// row of `magnesium oxide` is checked as the magnesium therapy it is.
pub fn therapy_drugs(kb: &KbIndex) -> Vec<DrugId> {
    if kb.therapies.is_empty() {
        let mut drugs: Vec<DrugId> = ["quinine", "baclofen"]
            .iter()
            .filter_map(|n| kb.drug_by_name(n))
            .collect();
        drugs.sort_unstable();
        return drugs;
    }
    (0..kb.drugs.len() as DrugId)
        .filter(|d| kb.is_cramp_therapy(*d))
        .collect()
}

/// (proposed key, interned medication, condition set) → findings.
type PairMemo = HashMap<(u32, u32, u32), Findings>;

/// Key of the fixed `--propose` drug in the probe cache.
const FIXED_PROPOSED: u32 = u32::MAX - 1;

/// The engine's findings for one input, shared.
type Findings = Arc<Vec<Arc<Finding>>>;

/// Memo of engine results. The engine pairs the proposed drug with one
/// listed medication at a time (interactions, duplicates, doses, causes), so
/// a patient's findings are the findings about the proposed drug alone plus,
/// for each co-exposed medication, what the engine says about that one
/// medication; both are memoized, per condition set where conditions matter
/// (dose limits), so the engine runs once per distinct (proposed drug,
/// medication) pair rather than once per patient.
#[derive(Debug)]
pub struct ProbeCache {
    /// Tells this run's entries in the per-thread memo from another run's.
    run: u64,
    /// (proposed key, interned medication, condition set) → the findings
    /// that involve that medication.
    pairs: RwLock<PairMemo>,
    /// Proposed key → findings about the proposed drug alone, for patients
    /// without context.
    alone: RwLock<HashMap<u32, Findings>>,
    condition_sets: Mutex<HashMap<Vec<ConditionId>, u32>>,
    /// One shared copy of each distinct finding, so that repeated
    /// findings are found by pointer.
    canonical: Mutex<Vec<Arc<Finding>>>,
}

impl Default for ProbeCache {
    fn default() -> Self {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        ProbeCache {
            run: RUNS.fetch_add(1, Ordering::Relaxed),
            pairs: RwLock::default(),
            alone: RwLock::default(),
            condition_sets: Mutex::default(),
            canonical: Mutex::default(),
        }
    }
}

/// One thread's copy of what it has used of the memo for one proposed drug
/// and condition set: the findings alone (when the patient has no context)
/// and, by interned medication id, the findings of each pair.
#[derive(Default)]
struct LocalProbes {
    alone: Option<Findings>,
    pairs: Vec<Option<Findings>>,
    /// The proposed drug as written, shared by the findings about it.
    label: Option<Arc<str>>,
}

/// (proposed key, condition set) → what this thread has used of the memo.
type LocalMemo = HashMap<(u32, u32), LocalProbes>;

thread_local! {
    /// Each thread's copy of the memo it has used (run, entries by proposed
    /// key and condition set): the shared memo's lock is taken once per
    /// distinct pair and thread, not once per patient (two threads taking
    /// one lock for every lookup spent more time moving its cache line
    /// between cores than looking up), and a patient's pairs are found by
    /// index, not by hashing each.
    static LOCAL: RefCell<(u64, LocalMemo)> =
        RefCell::new((u64::MAX, HashMap::default()));
}

impl ProbeCache {
    /// The engine's findings, each replaced by the shared copy of an equal
    /// finding seen before (a memo miss: rare).
    fn intern(&self, findings: Vec<Finding>) -> Findings {
        let mut canonical = self
            .canonical
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::new(
            findings
                .into_iter()
                .map(|f| match canonical.iter().find(|c| ***c == f) {
                    Some(c) => Arc::clone(c),
                    None => {
                        let f = Arc::new(f);
                        canonical.push(Arc::clone(&f));
                        f
                    }
                })
                .collect(),
        )
    }

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

    /// Takes this thread's memo for a proposed drug and condition set, to be
    /// handed back with [`ProbeCache::put_local`].
    fn take_local(&self, proposed: u32, condition_set: u32) -> LocalProbes {
        LOCAL.with_borrow_mut(|(run, memo)| {
            if *run != self.run {
                *run = self.run;
                memo.clear();
            }
            memo.remove(&(proposed, condition_set)).unwrap_or_default()
        })
    }

    fn put_local(&self, proposed: u32, condition_set: u32, local: LocalProbes) {
        LOCAL.with_borrow_mut(|(_, memo)| memo.insert((proposed, condition_set), local));
    }

    /// What the engine finds for the proposed drug and this one medication
    /// (only findings that involve the medication).
    fn pair<'l>(
        &self,
        local: &'l mut LocalProbes,
        s: &Shared<'_>,
        proposed: Proposed<'_>,
        med: u32,
        call: &Call<'_>,
    ) -> &'l Findings {
        let at = med as usize;
        if local.pairs.len() <= at {
            local.pairs.resize(at + 1, None);
        }
        local.pairs[at].get_or_insert_with(|| {
            let key = (proposed.key, med, call.condition_set);
            self.shared_pair(s, proposed, med, call, key)
        })
    }

    fn shared_pair(
        &self,
        s: &Shared<'_>,
        proposed: Proposed<'_>,
        med: u32,
        call: &Call<'_>,
        key: (u32, u32, u32),
    ) -> Findings {
        if let Some(known) = self
            .pairs
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(known);
        }
        // Only the conditions matter for findings about a medication (they
        // choose dose limits); labs and age act on the proposed drug alone.
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
                being_written: false,
            },
        );
        let findings = self.intern(
            result
                .findings
                .into_iter()
                .filter(|f| f.kind != FindingKind::Unrecognized && f.medication_indices == [0])
                .collect(),
        );
        self.pairs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, Arc::clone(&findings));
        findings
    }

    /// What the engine finds for the proposed drug with an empty list and
    /// this patient's context (boxed warnings, conditions, its own dose).
    fn alone(
        &self,
        local: &mut LocalProbes,
        s: &Shared<'_>,
        proposed: Proposed<'_>,
        call: &Call<'_>,
    ) -> Findings {
        let memo =
            call.context.conditions.is_empty() && call.context.input == PatientInput::default();
        if memo && let Some(known) = &local.alone {
            return Arc::clone(known);
        }
        if memo
            && let Some(known) = self
                .alone
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&proposed.key)
        {
            local.alone = Some(Arc::clone(known));
            return Arc::clone(known);
        }
        let result = check(
            s.kb,
            &CheckRequest {
                proposed: proposed.resolved,
                meds: &[],
                patient: call.context,
                jurisdiction: s.jurisdiction,
                // A drug to propose (`--propose`, `--propose-col`) is being
                // written, so a dose it cannot check is said; a therapy
                // read from an export is not.
                being_written: !matches!(s.mode, Mode::Existing),
            },
        );
        let findings = self.intern(result.findings);
        if memo {
            self.alone
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(proposed.key, Arc::clone(&findings));
            local.alone = Some(Arc::clone(&findings));
        }
        findings
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
    /// Whether each interned string is a name the KB knows exactly and no
    /// cramp therapy: in the default mode a patient of only these has
    /// nothing to check (a flag per string, as reading each `Resolved`
    /// for every row cost a cache miss).
    pub plain: &'a [bool],
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
    /// Each condition of the patient's (by code) with the lines of the rows
    /// that gave it (a lab value, a stated condition), ascending.
    condition_lines: &'a [(&'a str, Vec<u64>)],
    /// The lines that made the patient an older adult (the age row when
    /// the age meets it, the row stating it), for rules that hold from an
    /// age on (Beers).
    age_lines: Vec<u64>,
}

/// Checks one patient. Returns the findings (deduplicated, most severe
/// first) and whether any context was known for the patient.
pub fn check_patient(s: &Shared<'_>, g: &Group) -> (Vec<BatchFinding>, bool) {
    let (context, has_context) = context_of(s, g);
    // In the default mode a patient who takes no cramp therapy, and whose
    // names the KB all knows, has nothing to check: most patients of an
    // export, spared the work below.
    if matches!(s.mode, Mode::Existing) && g.rows.iter().all(|r| s.plain[r.med as usize]) {
        return (Vec::new(), has_context);
    }
    let mut index = PATIENT_INDEX.take();
    let mut distinct = std::mem::take(&mut index.distinct);
    distinct_meds(g, s.meds.len(), &mut distinct, &mut index.row_slot);
    let slots = Slots::build(
        &index.row_slot,
        distinct.len(),
        &mut index.starts,
        &mut index.next,
        &mut index.rows,
    );
    let condition_lines = condition_lines(s.kb, g, &context);
    let call = Call {
        context: &context,
        condition_set: s.probes.condition_set(&context),
        distinct: &distinct,
        condition_lines: &condition_lines,
        age_lines: age_lines(s.kb, &condition_lines),
    };
    let mut out: Vec<BatchFinding> = Vec::new();
    match s.mode {
        Mode::Existing => {
            for (slot, &therapy) in distinct.iter().enumerate() {
                if !s.therapy[therapy as usize] {
                    continue;
                }
                let own: Vec<Row> = slots
                    .rows_of(slot)
                    .iter()
                    .map(|&i| g.rows[i])
                    .filter(|r| r.active_on(s.as_of))
                    .collect();
                if own.is_empty() {
                    continue;
                }
                let base: Vec<u64> = own.iter().map(|r| r.line).collect();
                let span = union_of(&own);
                // The same therapy under another spelling (`Quinine Sulfate
                // 324 MG Oral Capsule` and `quinine 324 mg daily`) is a
                // refill, not a second drug to check it against.
                let own_slots: Vec<usize> = distinct
                    .iter()
                    .enumerate()
                    .filter(|(other, m)| {
                        *other == slot
                            || (s.therapy[**m as usize]
                                && same_drugs(&s.meds[**m as usize], &s.meds[therapy as usize]))
                    })
                    .map(|(other, _)| other)
                    .collect();
                let exposure = Exposure::Overlap {
                    own: &own,
                    span: &span,
                    own_slots: &own_slots,
                    as_of: s.as_of,
                };
                let proposed = Proposed {
                    resolved: &s.meds[therapy as usize],
                    key: therapy,
                };
                check_one(s, &call, proposed, g, &slots, &exposure, &base, &mut out);
            }
        }
        Mode::Propose(resolved) => {
            let exposure = Exposure::Active {
                day: reference_day(s, g),
                with: &[],
            };
            let proposed = Proposed {
                resolved,
                key: FIXED_PROPOSED,
            };
            check_one(s, &call, proposed, g, &slots, &exposure, &[], &mut out);
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
                if !resolved.is_exact() {
                    out.extend(unrecognized_proposed(resolved, &base));
                }
                // A drug to prescribe taken only by its spelling is not
                // guessed at (as `check --propose` refuses it).
                let by_spelling = resolved.status == Status::Recognized && !resolved.is_exact();
                if resolved.ingredients.is_empty() || by_spelling {
                    continue;
                }
                let exposure = Exposure::Active {
                    day: reference_day(s, g),
                    with: &base,
                };
                let proposed = Proposed { resolved, key: id };
                check_one(s, &call, proposed, g, &slots, &exposure, &base, &mut out);
            }
        }
    }
    if distinct.iter().any(|&m| !s.meds[m as usize].is_exact()) {
        // Recognized entries only hold places in the list (the findings
        // number medications by position): empty ones cost no allocation.
        let list: Vec<Resolved> = distinct
            .iter()
            .map(|&m| {
                let med = &s.meds[m as usize];
                if med.is_exact() {
                    placeholder()
                } else {
                    med.clone()
                }
            })
            .collect();
        let none: Arc<str> = "".into();
        for finding in unresolved_findings(&list) {
            // In row order, as the rows were given.
            let mut rows: Vec<usize> = finding
                .medication_indices
                .iter()
                .flat_map(|&slot| slots.rows_of(slot))
                .copied()
                .collect();
            rows.sort_unstable();
            rows.dedup();
            let lines = rows.iter().map(|&row| g.rows[row].line).collect();
            out.push(BatchFinding {
                proposed: Arc::clone(&none),
                medication_indices: finding.medication_indices.clone(),
                finding: Arc::new(finding),
                lines,
            });
        }
    }
    let out = dedupe(out, s.meds, &distinct);
    index.distinct = distinct;
    PATIENT_INDEX.set(index);
    (out, has_context)
}

/// Whether two resolved medications hold the same ingredients: two
/// spellings of one drug.
fn same_drugs(a: &Resolved, b: &Resolved) -> bool {
    match (a.ingredients.as_slice(), b.ingredients.as_slice()) {
        ([x], [y]) => x.drug == y.drug,
        (xs, ys) => {
            let set = |list: &[crate::resolve::ResolvedIngredient]| {
                let mut drugs: Vec<DrugId> = list.iter().map(|i| i.drug).collect();
                drugs.sort_unstable();
                drugs.dedup();
                drugs
            };
            set(xs) == set(ys)
        }
    }
}

thread_local! {
    /// Interned drug id → slot in the current patient's list (`u32::MAX` =
    /// none): a table per thread, reset after each patient, so numbering a
    /// patient's medications neither hashes nor allocates per row.
    static SLOTS: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// The patient's distinct drugs in order of first appearance (into
/// `distinct`), and each row's slot among them (into `row_slot`).
fn distinct_meds(g: &Group, n_meds: usize, distinct: &mut Vec<u32>, row_slot: &mut Vec<usize>) {
    distinct.clear();
    row_slot.clear();
    SLOTS.with_borrow_mut(|slots| {
        if slots.len() < n_meds {
            slots.resize(n_meds, u32::MAX);
        }
        row_slot.extend(g.rows.iter().map(|r| {
            let slot = &mut slots[r.med as usize];
            if *slot == u32::MAX {
                *slot = distinct.len() as u32;
                distinct.push(r.med);
            }
            *slot as usize
        }));
        for &m in distinct.iter() {
            slots[m as usize] = u32::MAX;
        }
    })
}

/// The buffers a patient's medications are numbered and indexed in, kept
/// per thread and reused from patient to patient: five allocations a
/// patient otherwise.
#[derive(Default)]
struct PatientIndex {
    distinct: Vec<u32>,
    row_slot: Vec<usize>,
    starts: Vec<usize>,
    next: Vec<usize>,
    rows: Vec<usize>,
}

thread_local! {
    static PATIENT_INDEX: RefCell<PatientIndex> = RefCell::default();
}

/// Each slot's rows (a slot is the place of a medication among the
/// patient's distinct medications), in input order: the rows behind one
/// medication then cost that medication's rows, not a pass over the
/// patient's whole list (patients with hundreds of rows were slow).
struct Slots<'a> {
    /// Slot `s` holds `rows[starts[s]..starts[s + 1]]` (row indices).
    starts: &'a [usize],
    rows: &'a [usize],
}

impl<'a> Slots<'a> {
    /// From each row's slot (`of_row`) and the number of slots, in the
    /// buffers given (`next` is scratch).
    fn build(
        of_row: &[usize],
        slots: usize,
        starts: &'a mut Vec<usize>,
        next: &mut Vec<usize>,
        rows: &'a mut Vec<usize>,
    ) -> Self {
        starts.clear();
        starts.resize(slots + 1, 0);
        for &slot in of_row {
            starts[slot + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        next.clear();
        next.extend_from_slice(starts);
        rows.clear();
        rows.resize(of_row.len(), 0);
        for (row, &slot) in of_row.iter().enumerate() {
            rows[next[slot]] = row;
            next[slot] += 1;
        }
        Slots { starts, rows }
    }

    fn rows_of(&self, slot: usize) -> &'a [usize] {
        match (self.starts.get(slot), self.starts.get(slot + 1)) {
            (Some(&from), Some(&to)) => &self.rows[from..to],
            _ => &[],
        }
    }
}

/// Each of the patient's conditions with the lines of the rows that gave it,
/// when the context came from the rows (not from a `--patients` file, whose
/// lines are another file's).
fn condition_lines<'kb>(
    kb: &'kb KbIndex,
    g: &Group,
    context: &PatientContext,
) -> Vec<(&'kb str, Vec<u64>)> {
    let Some(merged) = &g.context else {
        return Vec::new();
    };
    let has = |c: ConditionId| context.conditions.iter().any(|(id, _)| *id == c);
    context
        .conditions
        .iter()
        .filter_map(|(id, _)| {
            let code = kb.conditions.get(*id as usize)?.code.as_str();
            Some((code, merged.lines_for(kb, &has, *id)))
        })
        .collect()
}

/// The lines behind the patient's conditions that the KB defines by age
/// (`older-adult`), united.
fn age_lines(kb: &KbIndex, condition_lines: &[(&str, Vec<u64>)]) -> Vec<u64> {
    // Most patients carry no condition: nothing to look up.
    if condition_lines.is_empty() {
        return Vec::new();
    }
    let by_age: Vec<&str> = kb
        .lab_thresholds
        .iter()
        // Conditions of old age (`older-adult`: 65 or more), not youth.
        .filter(|t| t.lab == Lab::Age && matches!(t.comparator, Comparator::Ge | Comparator::Gt))
        .filter_map(|t| kb.conditions.get(t.condition as usize))
        .map(|c| c.code.as_str())
        .collect();
    condition_lines
        .iter()
        .filter(|(code, _)| by_age.contains(code))
        .fold(Vec::new(), |all, (_, lines)| union_sorted(&all, lines))
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
        Some(merged) => match merged.input.clone().into_context(s.kb) {
            Ok(context) => (context, true),
            Err(_) => (empty(), false),
        },
        None => (empty(), false),
    }
}

/// For a drug about to be prescribed: the day whose active rows count —
/// `--as-of`, or the patient's latest start date when rows are dated, or
/// none (every row counts).
fn reference_day(s: &Shared<'_>, g: &Group) -> Option<Day> {
    s.as_of.or_else(|| {
        s.dated
            .then(|| g.rows.iter().map(|r| r.start).max())
            .flatten()
    })
}

/// The union of the rows' windows: sorted, disjoint spans.
fn union_of(rows: &[Row]) -> Vec<(Day, Day)> {
    let mut windows: Vec<(Day, Day)> = rows.iter().map(|r| (r.start, r.end)).collect();
    windows.sort_unstable();
    let mut spans: Vec<(Day, Day)> = Vec::with_capacity(windows.len());
    for (start, end) in windows {
        match spans.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => spans.push((start, end)),
        }
    }
    spans
}

/// Whether a row's window shares a day with the union `spans`.
fn meets(spans: &[(Day, Day)], row: &Row) -> bool {
    // The first span that ends after the row starts is the only candidate:
    // every later one starts later still.
    let at = spans.partition_point(|&(_, end)| end <= row.start);
    spans.get(at).is_some_and(|&(start, _)| start < row.end)
}

/// Which rows count together with the drug checked as proposed.
enum Exposure<'a> {
    /// A therapy the patient takes (`own` rows; `own_slots` are it and its other spellings): another row
    /// counts when it overlaps one of them (and is active on `as_of`).
    Overlap {
        own: &'a [Row],
        /// The union of the `own` windows, to test a row against in one
        /// search rather than against each (patients with hundreds of rows
        /// hold a therapy on many).
        span: &'a [(Day, Day)],
        own_slots: &'a [usize],
        as_of: Option<Day>,
    },
    /// A drug about to be prescribed: rows active on `day` count (all rows
    /// when none); `with` are the lines of the rows that propose it.
    Active { day: Option<Day>, with: &'a [u64] },
}

impl Exposure<'_> {
    fn counts(&self, row: &Row, slot: usize) -> bool {
        match self {
            Exposure::Overlap {
                span,
                own_slots,
                as_of,
                ..
            } => !own_slots.contains(&slot) && row.active_on(*as_of) && meets(span, row),
            Exposure::Active { day, .. } => row.active_on(*day),
        }
    }

    /// The lines of the medication at `slot` whose rows count, ascending.
    fn counted_lines(&self, g: &Group, slots: &Slots, slot: usize) -> Vec<u64> {
        slots
            .rows_of(slot)
            .iter()
            .map(|&i| &g.rows[i])
            .filter(|row| self.counts(row, slot))
            .map(|row| row.line)
            .collect()
    }

    /// The lines behind the co-exposure of the medication at `slot`,
    /// ascending: its rows that count and, for a therapy taken, the
    /// therapy's rows that overlap one of them.
    fn lines(&self, g: &Group, slots: &Slots, slot: usize) -> Vec<u64> {
        let rows = slots.rows_of(slot);
        let counted = rows
            .iter()
            .map(|&i| &g.rows[i])
            .filter(|row| self.counts(row, slot));
        match self {
            Exposure::Overlap { own, .. } => {
                let counted: Vec<Row> = counted.copied().collect();
                let theirs: Vec<u64> = counted.iter().map(|row| row.line).collect();
                let ours: Vec<u64> = if own.len() <= FEW_OWN_ROWS {
                    own.iter()
                        .filter(|t| counted.iter().any(|row| t.overlaps(row)))
                        .map(|t| t.line)
                        .collect()
                } else {
                    // An own row overlaps one of theirs exactly when it
                    // meets the union of their windows: one search per own
                    // row, not a comparison with each of theirs (a patient's
                    // rows can number in the hundreds of thousands).
                    let their_span = union_of(&counted);
                    own.iter()
                        .filter(|t| meets(&their_span, t))
                        .map(|t| t.line)
                        .collect()
                };
                union_sorted(&theirs, &ours)
            }
            Exposure::Active { with, .. } => {
                let theirs: Vec<u64> = counted.map(|row| row.line).collect();
                union_sorted(&theirs, with)
            }
        }
    }
}

/// Up to this many rows of a therapy, each is compared with the other
/// drug's rows directly; with more, against the union of their windows.
const FEW_OWN_ROWS: usize = 16;

/// The union of two ascending line lists, ascending and without repeats.
/// Rows are kept in file order, so every line list is built ascending and
/// two of them merge in one pass instead of a sort.
fn union_sorted(a: &[u64], b: &[u64]) -> Vec<u64> {
    debug_assert!(a.is_sorted() && b.is_sorted(), "line lists are ascending");
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The engine's findings for one proposed drug against the co-exposed
/// medications. Findings about the proposed drug alone point at the `base`
/// lines; line lists are built only for medications that give a finding.
#[allow(clippy::too_many_arguments)]
fn check_one(
    s: &Shared<'_>,
    call: &Call<'_>,
    proposed: Proposed<'_>,
    g: &Group,
    slots: &Slots,
    exposure: &Exposure<'_>,
    base: &[u64],
    out: &mut Vec<BatchFinding>,
) {
    let mut local = s.probes.take_local(proposed.key, call.condition_set);
    let label = Arc::clone(
        local
            .label
            .get_or_insert_with(|| proposed.resolved.med.input.trim().into()),
    );
    for finding in s.probes.alone(&mut local, s, proposed, call).iter() {
        // A condition finding also points at the rows that gave the
        // condition (the eGFR, the stated diagnosis).
        let given = finding
            .condition
            .as_deref()
            .filter(|_| finding.kind == FindingKind::Condition)
            .and_then(|code| call.condition_lines.iter().find(|(c, _)| *c == code));
        let mut lines = match given {
            Some((_, lines)) => union_sorted(base, lines),
            None => base.to_vec(),
        };
        // A rule that holds from an age on: the rows that made the patient
        // old enough too.
        if finding.kind == FindingKind::Condition
            && !call.age_lines.is_empty()
            && finding.rule_ids.iter().any(|id| {
                s.kb.condition_rules
                    .iter()
                    .any(|r| r.id == *id && r.min_age.is_some())
            })
        {
            lines = union_sorted(&lines, &call.age_lines);
        }
        out.push(BatchFinding {
            proposed: Arc::clone(&label),
            finding: Arc::clone(finding),
            medication_indices: Vec::new(),
            lines,
        });
    }
    // A medication is co-exposed when one of its rows counts: the search
    // stops at the first. It is made only for a medication the memo gives
    // findings with (most give none) and for class totals that need it.
    let exposed = |slot: usize| {
        slots
            .rows_of(slot)
            .iter()
            .any(|&i| exposure.counts(&g.rows[i], slot))
    };
    for slot in 0..call.distinct.len() {
        let findings = s
            .probes
            .pair(&mut local, s, proposed, call.distinct[slot], call);
        if findings.is_empty() || !exposed(slot) {
            continue;
        }
        let mut lines = exposure.lines(g, slots, slot);
        // The last finding that takes the co-exposure's lines takes the
        // list itself; those before it, copies.
        let last = findings.iter().rposition(|f| f.kind != FindingKind::Dose);
        for (at, finding) in findings.iter().enumerate() {
            // A dose finding is about the medication's own dose: its rows,
            // not the proposed drug's.
            let lines = match finding.kind {
                FindingKind::Dose => exposure.counted_lines(g, slots, slot),
                _ if Some(at) == last => std::mem::take(&mut lines),
                _ => lines.clone(),
            };
            out.push(BatchFinding {
                proposed: Arc::clone(&label),
                finding: Arc::clone(finding),
                medication_indices: vec![slot],
                lines,
            });
        }
    }
    s.probes.put_local(proposed.key, call.condition_set, local);
    // Class totals (Beers: three or more CNS-active drugs) over everything
    // co-exposed at once, which the pairs above cannot see; the lines are
    // every counted row's and the rows that made the patient old enough.
    let listed = (0..call.distinct.len())
        .filter(|&slot| exposed(slot))
        .map(|slot| (slot, &s.meds[call.distinct[slot] as usize]));
    for finding in count_findings(
        s.kb,
        proposed.resolved,
        listed,
        call.context,
        s.jurisdiction,
    ) {
        let mut lines = union_sorted(base, &call.age_lines);
        for &slot in &finding.medication_indices {
            lines = union_sorted(&lines, &exposure.lines(g, slots, slot));
        }
        out.push(BatchFinding {
            proposed: Arc::clone(&label),
            medication_indices: finding.medication_indices.clone(),
            finding: Arc::new(finding),
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
    let input = resolved.med.input.trim();
    if resolved.status == Status::Recognized {
        // Close to a known name only: a drug to prescribe is not guessed at.
        finding.title = format!("`{input}` is not a name the KB knows and was not checked");
    }
    finding.mechanism = format!(
        "The proposed drug `{input}` could not be resolved to a known ingredient, so it was not checked."
    );
    Some(BatchFinding {
        proposed: resolved.med.input.trim().into(),
        finding: Arc::new(finding),
        medication_indices: Vec::new(),
        lines: lines.to_vec(),
    })
}

/// Whether two findings are one pair found from both sides (quinine +
/// baclofen when baclofen is checked, baclofen + quinine when quinine is):
/// the same kind, rating and rows, the two drugs swapped; or one class
/// total counted from two of its drugs (the same drugs in another order).
fn mirrored(a: &Finding, b: &Finding) -> bool {
    /// Same elements in any order (the lists are a few names long).
    fn same_set(a: &[String], b: &[String]) -> bool {
        a.len() == b.len() && a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
    }
    // Ratings first: they tell most pairs apart without comparing names.
    if a.kind != b.kind || a.severity != b.severity || a.action != b.action {
        return false;
    }
    let pair = matches!(a.kind, FindingKind::Interaction | FindingKind::Duplicate)
        && a.drugs.len() == 2
        && b.drugs.len() == 2
        && a.drugs[0] == b.drugs[1]
        && a.drugs[1] == b.drugs[0];
    // A class total (three CNS-active drugs) found from each therapy taken:
    // the same drugs, counted from another one of them.
    let total =
        a.kind == FindingKind::Interaction && a.drugs.len() > 2 && same_set(&a.drugs, &b.drugs);
    // The shape first: it rules out almost every pair of a long list's
    // findings without comparing rule ids.
    (pair || total) && same_set(&a.rule_ids, &b.rule_ids)
}

/// Whether two findings are one medication's dose found twice: once when it
/// was checked as the drug proposed, once beside another therapy (or beside
/// two), the engine calls differing only in where the medication stood.
fn same_dose(a: &Finding, b: &Finding) -> bool {
    a.kind == FindingKind::Dose
        && b.kind == FindingKind::Dose
        && a.drugs == b.drugs
        && a.title == b.title
        && a.severity == b.severity
        && a.action == b.action
        && a.rule_ids == b.rule_ids
        && a.basis == b.basis
        && a.mechanism == b.mechanism
        && a.management == b.management
}

/// Merges repeated findings (lines and medications united; engine findings
/// are interned, so a repeat is the same pointer, a [`mirrored`] pair or
/// class total, or one medication's dose from two engine calls
/// ([`same_dose`]);
/// `unrecognized` ones are one per medication and never repeat), keeping the
/// first in input order, then orders them as the engine does
/// ([`report_order`]), the proposed drug breaking the last ties.
fn dedupe(findings: Vec<BatchFinding>, meds: &[Resolved], distinct: &[u32]) -> Vec<BatchFinding> {
    let mut out: Vec<BatchFinding> = Vec::with_capacity(findings.len());
    for f in findings {
        match out.iter_mut().find(|e| {
            Arc::ptr_eq(&e.finding, &f.finding)
                || mirrored(&e.finding, &f.finding)
                || same_dose(&e.finding, &f.finding)
        }) {
            Some(existing) => {
                // A dose found when its drug was the one checked is filed
                // under that drug, whichever call came first.
                if f.finding.kind == FindingKind::Dose && f.medication_indices.is_empty() {
                    existing.proposed = Arc::clone(&f.proposed);
                }
                existing.lines = union_sorted(&existing.lines, &f.lines);
                let indices = &mut existing.medication_indices;
                indices.extend(f.medication_indices);
                indices.sort_unstable();
                indices.dedup();
            }
            None => out.push(f),
        }
    }
    let inputs = |f: &BatchFinding| -> Vec<&str> {
        let mut inputs: Vec<&str> = f
            .medication_indices
            .iter()
            .filter_map(|&slot| distinct.get(slot))
            .map(|&m| meds[m as usize].med.input.as_str())
            .collect();
        inputs.sort_unstable();
        inputs
    };
    out.sort_by(|a, b| {
        report_order(&a.finding, &b.finding, || inputs(a).cmp(&inputs(b)))
            .then_with(|| a.proposed.cmp(&b.proposed))
    });
    out
}

/// A recognized medication with nothing in it: holds a place in a list.
fn placeholder() -> Resolved {
    Resolved::new(crate::parse::MedText::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::reader::{OPEN_END, OPEN_START};
    use crate::kb::{KbSource, load};

    proptest::proptest! {
        /// A row meets the union of some windows exactly when it overlaps
        /// one of them.
        #[test]
        fn the_union_of_windows_meets_what_one_of_them_overlaps(
            windows in proptest::collection::vec((0i32..60, 1i32..15), 0..12),
            row in (0i32..70, 1i32..15),
        ) {
            let at = |(start, len): (i32, i32), line: u64| Row {
                line,
                med: 0,
                proposed: NO_MED,
                start,
                end: start + len,
            };
            let own: Vec<Row> = windows.iter().map(|&w| at(w, 1)).collect();
            let row = at(row, 2);
            proptest::prop_assert_eq!(
                meets(&union_of(&own), &row),
                own.iter().any(|t| t.overlaps(&row))
            );
        }

        /// Merging two ascending line lists gives what sorting their
        /// concatenation and dropping repeats gives.
        #[test]
        fn merged_line_lists_are_the_sorted_union(
            a in proptest::collection::btree_set(0u64..40, 0..12),
            b in proptest::collection::btree_set(0u64..40, 0..12),
        ) {
            let a: Vec<u64> = a.into_iter().collect();
            let b: Vec<u64> = b.into_iter().collect();
            let mut expected: Vec<u64> = a.iter().chain(&b).copied().collect();
            expected.sort_unstable();
            expected.dedup();
            proptest::prop_assert_eq!(union_sorted(&a, &b), expected);
        }
    }

    #[test]
    fn each_slot_lists_its_own_rows_in_input_order() {
        let (mut starts, mut next, mut rows) = (Vec::new(), vec![9; 7], vec![9; 2]);
        let slots = Slots::build(&[1, 0, 1, 2, 1], 3, &mut starts, &mut next, &mut rows);
        assert_eq!(slots.rows_of(0), [1]);
        assert_eq!(slots.rows_of(1), [0, 2, 4]);
        assert_eq!(slots.rows_of(2), [3]);
        assert!(slots.rows_of(3).is_empty());
    }
    use crate::parse::parse_med;
    use crate::resolve::Resolver;

    fn drugs_of(findings: &[BatchFinding]) -> Vec<Vec<String>> {
        findings.iter().map(|f| f.finding.drugs.clone()).collect()
    }

    #[test]
    fn without_a_therapy_only_unknown_names_are_found_in_the_default_mode() {
        let kb = load(&KbSource::Embedded).expect("embedded KB");
        let resolver = Resolver::new(&kb);
        let therapies = therapy_drugs(&kb);
        let meds: Vec<Resolved> = ["clarithromycin 500 mg bid", "warfarin", "zorblaxitol 5 mg"]
            .map(|m| resolver.resolve(parse_med(m)))
            .into();
        let therapy: Vec<bool> = meds
            .iter()
            .map(|r| r.ingredients.iter().any(|i| therapies.contains(&i.drug)))
            .collect();
        assert_eq!(therapy, [false, false, false]);
        let plain: Vec<bool> = meds.iter().map(Resolved::is_exact).collect();
        assert_eq!(plain, [true, true, false]);
        let probes = ProbeCache::default();
        let shared = Shared {
            kb: &kb,
            meds: &meds,
            therapy: &therapy,
            plain: &plain,
            mode: &Mode::Existing,
            as_of: None,
            dated: false,
            jurisdiction: Jurisdiction::US,
            patients: None,
            probes: &probes,
        };
        let patient = |meds: &[u32]| Group {
            pid: 0,
            id: "p1".into(),
            rows: meds
                .iter()
                .enumerate()
                .map(|(i, &med)| Row {
                    line: i as u64 + 2,
                    med,
                    proposed: NO_MED,
                    start: OPEN_START,
                    end: OPEN_END,
                })
                .collect(),
            context: None,
            pass: 1,
        };
        // Two known drugs that interact, but no cramp therapy: nothing.
        assert!(check_patient(&shared, &patient(&[0, 1])).0.is_empty());
        // A name the KB does not know is said even then, with its row.
        let (findings, _) = check_patient(&shared, &patient(&[0, 2]));
        let found: Vec<(FindingKind, &[u64])> = findings
            .iter()
            .map(|f| (f.finding.kind, f.lines.as_slice()))
            .collect();
        assert_eq!(found, [(FindingKind::Unrecognized, &[3u64][..])]);
    }

    #[test]
    fn a_later_run_on_the_same_thread_does_not_reuse_an_earlier_runs_memo() {
        // The fixed `--propose` drug has the same memo key in every run, so
        // a per-thread memo left over from a run proposing quinine must not
        // answer for a run proposing baclofen.
        let kb = load(&KbSource::Embedded).expect("embedded KB");
        let resolver = Resolver::new(&kb);
        let meds = vec![resolver.resolve(parse_med("clarithromycin 500 mg bid"))];
        let therapy = vec![false];
        let group = Group {
            pid: 0,
            id: "p1".into(),
            rows: vec![Row {
                line: 2,
                med: 0,
                proposed: NO_MED,
                start: OPEN_START,
                end: OPEN_END,
            }],
            context: None,
            pass: 1,
        };
        let run = |proposed: &str| -> Vec<Vec<String>> {
            let mode = Mode::Propose(Box::new(resolver.resolve(parse_med(proposed))));
            let probes = ProbeCache::default();
            let shared = Shared {
                kb: &kb,
                meds: &meds,
                therapy: &therapy,
                plain: &[false],
                mode: &mode,
                as_of: None,
                dated: false,
                jurisdiction: Jurisdiction::US,
                patients: None,
                probes: &probes,
            };
            drugs_of(&check_patient(&shared, &group).0)
        };
        let quinine = run("quinine");
        assert!(
            quinine.contains(&vec!["quinine".to_owned(), "clarithromycin".to_owned()]),
            "{quinine:?}"
        );
        let baclofen = run("baclofen");
        assert!(
            baclofen
                .iter()
                .all(|drugs| !drugs.contains(&"quinine".to_owned())),
            "{baclofen:?}"
        );
        assert_eq!(run("quinine"), quinine);
    }
}
