//! Patient context in batch files: lab values, age and conditions read from
//! columns of the prescription file (merged per patient: a lab's value from
//! the row with the latest start date wins, the later row when starts tie or
//! are not given, and rows that disagree are counted; conditions accumulate)
//! or from a second CSV keyed by
//! patient id (`--patients`). Values are validated with the same rules as
//! `check` ([`PatientInput::into_context`]); a bad value rejects its row,
//! whose drug and other context values are still used.

use super::BatchError;
use super::reader::{Day, HeaderMap, LabField, Reject, RejectReason, trim};
use super::records::Fields;
use crate::kb::KbIndex;
use crate::kb::index::{ConditionId, Lab};
use crate::patient::{PatientContext, PatientInput};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

/// Context values of one row. Conditions are an index into the parser's
/// table of distinct condition lists.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RowContext {
    /// eGFR, QTc, age, potassium and magnesium, in that order.
    pub(super) labs: [Option<f64>; 5],
    /// Index of the row's list of conditions.
    pub(super) conditions: Option<u32>,
}

impl RowContext {
    /// Whether the row carries no context at all.
    pub fn is_empty(&self) -> bool {
        self.conditions.is_none() && self.labs.iter().all(Option::is_none)
    }

    /// Merges the row at `line`, which starts on `day` (the earliest day
    /// when it has no date or one that cannot be read), into a patient's
    /// context.
    pub fn apply(&self, target: &mut MergedContext, lists: &[Vec<String>], day: Day, line: u64) {
        for (i, (value, field)) in self.labs.iter().zip(LABS).enumerate() {
            if let Some(value) = value {
                target.take(i, field, *value, (day, line));
            }
        }
        if let Some(list) = self.conditions.and_then(|i| lists.get(i as usize)) {
            for code in list {
                target.state(code, line);
            }
        }
    }

    /// Sets the row's values in a patient's input (a `--patients` row,
    /// where a patient's values never disagree).
    fn fill(&self, target: &mut PatientInput, lists: &[Vec<String>]) {
        for (value, field) in self.labs.iter().zip(LABS) {
            if let Some(value) = value {
                *lab_mut(target, field) = Some(*value);
            }
        }
        if let Some(list) = self.conditions.and_then(|i| lists.get(i as usize)) {
            for code in list {
                if !target.conditions.contains(code) {
                    target.conditions.push(code.clone());
                }
            }
        }
    }

    /// Appends the context in the row spill's form: a byte marking which
    /// values are present, then each of them (little-endian). An empty
    /// context is the one byte 0.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.push(0);
        let mut present = 0u8;
        for (bit, value) in self.labs.iter().enumerate() {
            if let Some(value) = value {
                present |= 1 << bit;
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        if let Some(list) = self.conditions {
            present |= 1 << CONDITIONS_BIT;
            out.extend_from_slice(&list.to_le_bytes());
        }
        out[at] = present;
    }

    /// Reads a context written by [`RowContext::encode`] at the start of
    /// `bytes`, and how many bytes it took; `None` if they are cut short.
    pub fn decode(bytes: &[u8]) -> Option<(RowContext, usize)> {
        let (&present, mut rest) = bytes.split_first()?;
        let mut context = RowContext::default();
        for (bit, slot) in context.labs.iter_mut().enumerate() {
            if present & (1 << bit) != 0 {
                let (value, tail) = rest.split_first_chunk::<8>()?;
                *slot = Some(f64::from_le_bytes(*value));
                rest = tail;
            }
        }
        if present & (1 << CONDITIONS_BIT) != 0 {
            let (list, tail) = rest.split_first_chunk::<4>()?;
            context.conditions = Some(u32::from_le_bytes(*list));
            rest = tail;
        }
        Some((context, bytes.len() - rest.len()))
    }
}

/// The bit of [`RowContext::encode`]'s first byte marking a conditions list
/// (the labs take the bits below it).
const CONDITIONS_BIT: usize = 5;

/// A patient's context merged from their rows: the values used, the row
/// each came from (its start day and line), and the labs on which the rows
/// disagreed (reported in the summary, not silently settled).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergedContext {
    /// The values used.
    pub input: PatientInput,
    /// Per lab, in [`LABS`] order: the start day and line of the row its
    /// value came from.
    from: [(Day, u64); 5],
    /// The line of the first row stating each of `input.conditions`.
    condition_lines: Vec<u64>,
    /// A bit per lab, in [`LABS`] order: the patient's rows gave two
    /// different values.
    pub conflicts: u8,
}

impl MergedContext {
    /// Takes `value` for the lab at `slot` from the row `from` (start day,
    /// line): the latest start wins, the later row when starts tie.
    fn take(&mut self, slot: usize, field: LabField, value: f64, from: (Day, u64)) {
        let current = lab_mut(&mut self.input, field);
        match *current {
            Some(old) => {
                if old != value {
                    self.conflicts |= 1 << slot;
                }
                if from.0 >= self.from[slot].0 {
                    *current = Some(value);
                    self.from[slot] = from;
                }
            }
            None => {
                *current = Some(value);
                self.from[slot] = from;
            }
        }
    }

    /// Adds a condition stated on `line`, unless stated before.
    fn state(&mut self, code: &str, line: u64) {
        if !self.input.conditions.iter().any(|c| c == code) {
            self.input.conditions.push(code.to_owned());
            self.condition_lines.push(line);
        }
    }

    /// The lines of the rows that gave the patient `condition`, ascending: a
    /// row stating it, a row whose lab value meets one of its thresholds,
    /// and for a condition included in another the patient has (end-stage
    /// renal disease is severe renal impairment), that one's rows.
    pub fn lines_for(
        &self,
        kb: &KbIndex,
        has: &dyn Fn(ConditionId) -> bool,
        condition: ConditionId,
    ) -> Vec<u64> {
        let mut lines = Vec::new();
        self.gather(kb, has, condition, 0, &mut lines);
        lines.sort_unstable();
        lines.dedup();
        lines
    }

    fn gather(
        &self,
        kb: &KbIndex,
        has: &dyn Fn(ConditionId) -> bool,
        condition: ConditionId,
        depth: usize,
        lines: &mut Vec<u64>,
    ) {
        let Some(code) = kb
            .conditions
            .get(condition as usize)
            .map(|c| c.code.as_str())
        else {
            return;
        };
        if let Some(at) = self.input.conditions.iter().position(|c| c == code) {
            lines.extend(self.condition_lines.get(at));
        }
        for threshold in kb
            .lab_thresholds
            .iter()
            .filter(|t| t.condition == condition)
        {
            let Some(slot) = LABS.iter().position(|f| kb_lab(*f) == threshold.lab) else {
                continue;
            };
            if lab(&self.input, LABS[slot])
                .is_some_and(|v| threshold.comparator.holds(v, threshold.value))
            {
                lines.push(self.from[slot].1);
            }
        }
        // Implications chain (a few steps); the depth bounds a cycle.
        if depth < 8 {
            for implication in kb
                .condition_implications
                .iter()
                .filter(|m| m.implies == condition && has(m.condition))
            {
                self.gather(kb, has, implication.condition, depth + 1, lines);
            }
        }
    }
}

/// The labs' names in the order of a [`MergedContext`]'s `conflicts` bits
/// (and of counts kept by lab).
pub fn lab_names() -> impl Iterator<Item = &'static str> {
    LABS.into_iter().map(LabField::name)
}

/// Merges the context gathered from a patient's later rows over the one
/// gathered from earlier rows, as if the later rows were merged one by one:
/// each lab's value from the latest start (the later rows' on a tie),
/// disagreements kept, conditions accumulated in the order first seen.
pub fn merge_later(earlier: &mut MergedContext, later: &MergedContext) {
    for (slot, field) in LABS.into_iter().enumerate() {
        if let Some(value) = lab(&later.input, field) {
            earlier.take(slot, field, value, later.from[slot]);
        }
    }
    earlier.conflicts |= later.conflicts;
    for (code, line) in later.input.conditions.iter().zip(&later.condition_lines) {
        earlier.state(code, *line);
    }
}

const LABS: [LabField; 5] = [
    LabField::Egfr,
    LabField::Qtc,
    LabField::Age,
    LabField::Potassium,
    LabField::Magnesium,
];

/// The KB's lab for a context column.
fn kb_lab(field: LabField) -> Lab {
    match field {
        LabField::Egfr => Lab::Egfr,
        LabField::Qtc => Lab::Qtc,
        LabField::Age => Lab::Age,
        LabField::Potassium => Lab::Potassium,
        LabField::Magnesium => Lab::Magnesium,
    }
}

fn slot(field: LabField) -> usize {
    match field {
        LabField::Egfr => 0,
        LabField::Qtc => 1,
        LabField::Age => 2,
        LabField::Potassium => 3,
        LabField::Magnesium => 4,
    }
}

fn lab(input: &PatientInput, field: LabField) -> Option<f64> {
    match field {
        LabField::Egfr => input.egfr,
        LabField::Qtc => input.qtc,
        LabField::Age => input.age,
        LabField::Potassium => input.potassium,
        LabField::Magnesium => input.magnesium,
    }
}

fn lab_mut(input: &mut PatientInput, field: LabField) -> &mut Option<f64> {
    match field {
        LabField::Egfr => &mut input.egfr,
        LabField::Qtc => &mut input.qtc,
        LabField::Age => &mut input.age,
        LabField::Potassium => &mut input.potassium,
        LabField::Magnesium => &mut input.magnesium,
    }
}

/// A conditions field mapped to the list of the codes it names that the KB
/// knows, and why the rest could not be used.
#[derive(Debug, Clone)]
struct ConditionVerdict {
    /// Index of the list of known codes (`None` when it names none).
    known: Option<u32>,
    /// The first name that could not be used.
    fault: Option<(RejectReason, String)>,
}

/// A row's context that could not all be used.
#[derive(Debug)]
pub struct ContextFault {
    /// The first value at fault, as the row's reject.
    pub reject: Reject,
    /// Every value of the row that could be used.
    pub usable: RowContext,
}

/// A lab value read from its field and validated as `check` validates its
/// flag; each distinct value is validated once.
fn lab_value(
    kb: &KbIndex,
    verdicts: &mut HashMap<(usize, u64), Result<(), String>>,
    field: LabField,
    raw: &[u8],
) -> Result<f64, (RejectReason, String)> {
    let text = std::str::from_utf8(raw).map_err(|_| {
        (
            RejectReason::InvalidUtf8,
            String::from_utf8_lossy(raw).into_owned(),
        )
    })?;
    // A number, or one with its unit after it (`45 mL/min/1.73m2`, `82y`),
    // converted to the KB's unit: read as `check` reads its flags, so the
    // two accept the same values (not `4.5e1`).
    let value = crate::units::read_value(kb_lab(field), text)
        .map_err(|message| (RejectReason::BadValue, message))?;
    let verdict = verdicts
        .entry((slot(field), value.to_bits()))
        .or_insert_with(|| {
            let mut input = PatientInput::default();
            *lab_mut(&mut input, field) = Some(value);
            input
                .into_context(kb)
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    match verdict {
        Ok(()) => Ok(value),
        Err(message) => Err((RejectReason::BadValue, message.clone())),
    }
}

/// Reads context columns, remembering each distinct value's verdict so a
/// value repeated on many rows is validated once.
pub struct ContextParser<'kb> {
    kb: &'kb KbIndex,
    labs: Vec<(LabField, usize, String)>,
    conditions: Option<(usize, String)>,
    values: HashMap<(usize, u64), Result<(), String>>,
    condition_ids: HashMap<Box<[u8]>, ConditionVerdict>,
    lists: Vec<Vec<String>>,
}

impl<'kb> ContextParser<'kb> {
    /// Whether `column` (a header name) is one of the context columns: a
    /// reject naming it was for the row's context.
    pub fn reads(&self, column: &str) -> bool {
        self.labs.iter().any(|(_, _, name)| name == column)
            || self
                .conditions
                .as_ref()
                .is_some_and(|(_, name)| name == column)
    }

    /// A parser for the context columns of a prescription file.
    pub fn new(kb: &'kb KbIndex, layout: &super::reader::Layout) -> Self {
        Self::with_columns(
            kb,
            layout
                .labs
                .iter()
                .map(|(f, i)| (*f, *i, layout.name(*i).to_owned()))
                .collect(),
            layout.conditions.map(|i| (i, layout.name(i).to_owned())),
        )
    }

    fn with_columns(
        kb: &'kb KbIndex,
        labs: Vec<(LabField, usize, String)>,
        conditions: Option<(usize, String)>,
    ) -> Self {
        ContextParser {
            kb,
            labs,
            conditions,
            values: HashMap::new(),
            condition_ids: HashMap::new(),
            lists: Vec::new(),
        }
    }

    /// The distinct condition lists seen so far (indexed by [`RowContext`]).
    pub fn conditions(&self) -> &[Vec<String>] {
        &self.lists
    }

    fn reject(line: u64, reason: RejectReason, column: &str, detail: String) -> Reject {
        Reject {
            line,
            reason,
            column: Some(column.to_owned()),
            detail,
        }
    }

    /// Reads and validates the context values of one row. A value that
    /// cannot be used does not stop the others: the fault carries the
    /// first such value and every value that could be used (a row's drug
    /// and its other context are still worth checking).
    pub fn parse(&mut self, rec: &impl Fields, line: u64) -> Result<RowContext, Box<ContextFault>> {
        let mut out = RowContext::default();
        let mut first: Option<Reject> = None;
        for (field, col, name) in &self.labs {
            let raw = trim(rec.field(*col).unwrap_or_default());
            if raw.is_empty() {
                continue;
            }
            match lab_value(self.kb, &mut self.values, *field, raw) {
                Ok(value) => out.labs[slot(*field)] = Some(value),
                Err((reason, detail)) => {
                    first.get_or_insert_with(|| Self::reject(line, reason, name, detail));
                }
            }
        }
        if let Some(col) = self.conditions.as_ref().map(|(c, _)| *c) {
            let raw = trim(rec.field(col).unwrap_or_default());
            if !raw.is_empty() {
                let verdict = match self.condition_ids.get(raw) {
                    Some(v) => v.clone(),
                    None => {
                        let v = self.condition_list(raw);
                        self.condition_ids.insert(raw.into(), v.clone());
                        v
                    }
                };
                out.conditions = verdict.known;
                if let Some((reason, detail)) = verdict.fault {
                    let name = self.conditions.as_ref().map_or("", |(_, n)| n.as_str());
                    first.get_or_insert_with(|| Self::reject(line, reason, name, detail));
                }
            }
        }
        match first {
            None => Ok(out),
            Some(reject) => Err(Box::new(ContextFault {
                reject,
                usable: out,
            })),
        }
    }

    /// Splits a conditions field on `;` or `|` and maps each name onto a KB
    /// condition code.
    fn condition_list(&mut self, raw: &[u8]) -> ConditionVerdict {
        let Ok(text) = std::str::from_utf8(raw) else {
            return ConditionVerdict {
                known: None,
                fault: Some((
                    RejectReason::InvalidUtf8,
                    String::from_utf8_lossy(raw).into_owned(),
                )),
            };
        };
        let mut codes: Vec<String> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        for part in text
            .split([';', '|'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match self.kb.condition_by_name(part) {
                Some(id) => {
                    let code = &self.kb.conditions[id as usize].code;
                    if !codes.contains(code) {
                        codes.push(code.clone());
                    }
                }
                None => unknown.push(format!("`{part}`")),
            }
        }
        let fault = match unknown.len() {
            0 => None,
            1 => Some(format!("unknown condition {}", unknown[0])),
            _ => Some(format!("unknown conditions {}", unknown.join(", "))),
        }
        .map(|detail| (RejectReason::UnknownCondition, detail));
        let known = match (&fault, codes.is_empty()) {
            (Some(_), true) => None,
            _ => {
                self.lists.push(codes);
                Some(self.lists.len() as u32 - 1)
            }
        };
        ConditionVerdict { known, fault }
    }
}

/// Patient context read from a `--patients` file, keyed by patient id.
pub type PatientTable = HashMap<Box<[u8]>, PatientContext>;

/// Column names of a `--patients` file.
#[derive(Debug, Clone, Default)]
pub struct PatientsColumns {
    /// Patient id column.
    pub id: String,
    /// Context columns named by flags; `None` means "use the default name
    /// (egfr, qtc, age, potassium, magnesium, conditions) if present".
    pub context: super::reader::ContextColumns,
}

/// Reads a `--patients` file. Any unusable row is an error naming the file,
/// line, column and value: the file is configuration, not data to sample.
pub fn load_patients(
    kb: &KbIndex,
    path: &Path,
    delimiter: u8,
    cols: &PatientsColumns,
) -> Result<PatientTable, BatchError> {
    let label = path.display().to_string();
    let opened = std::fs::File::open(path).and_then(|file| {
        // Gzip is read transparently, as for the input.
        let mut buffered = std::io::BufReader::new(file);
        let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        Ok::<Box<dyn std::io::Read>, std::io::Error>(match gzip {
            true => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
            false => Box::new(buffered),
        })
    });
    let reader = opened.map_err(|source| BatchError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(reader);
    let header = HeaderMap::new(rdr.byte_headers().map_err(|source| BatchError::Csv {
        input: label.clone(),
        line: 1,
        source,
    })?);
    let id_col = header.require(&cols.id, &label)?;
    let pick =
        |flag: &Option<String>, default: &str| -> Result<Option<(usize, String)>, BatchError> {
            match flag {
                Some(name) => Ok(Some((header.require(name, &label)?, name.clone()))),
                None => Ok(header.find(default).map(|i| (i, default.to_owned()))),
            }
        };
    let mut labs = Vec::new();
    for (field, flag, default) in [
        (LabField::Egfr, &cols.context.egfr, "egfr"),
        (LabField::Qtc, &cols.context.qtc, "qtc"),
        (LabField::Age, &cols.context.age, "age"),
        (LabField::Potassium, &cols.context.potassium, "potassium"),
        (LabField::Magnesium, &cols.context.magnesium, "magnesium"),
    ] {
        if let Some((i, name)) = pick(flag, default)? {
            labs.push((field, i, name));
        }
    }
    let conditions = pick(&cols.context.conditions, "conditions")?;
    let width = header.names().len();
    let lab_columns: Vec<(LabField, String)> =
        labs.iter().map(|(f, _, name)| (*f, name.clone())).collect();
    let mut parser = ContextParser::with_columns(kb, labs, conditions);
    // Each patient's input, its last line, and the line each value came from.
    let mut inputs: HashMap<Box<[u8]>, (PatientInput, u64, [u64; 5])> = HashMap::new();
    let mut rec = csv::ByteRecord::new();
    let bad = |line: u64, column: &str, message: String| BatchError::PatientsFile {
        path: label.clone(),
        line,
        column: column.to_owned(),
        message,
    };
    while next_record(&mut rdr, &mut rec, &label)? {
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != width {
            return Err(bad(
                line,
                "",
                format!("{} fields, the header has {width}", rec.len()),
            ));
        }
        let id = trim(rec.get(id_col).unwrap_or_default());
        if id.is_empty() || std::str::from_utf8(id).is_err() {
            return Err(bad(line, &cols.id, "no readable patient id".to_owned()));
        }
        let row = parser.parse(&rec, line).map_err(|fault| {
            let r = fault.reject;
            bad(line, r.column.as_deref().unwrap_or_default(), r.detail)
        })?;
        let entry = inputs
            .entry(id.into())
            .or_insert_with(|| (PatientInput::default(), line, [0; 5]));
        // Two different values for one patient: which is current cannot be
        // told, and using either would be a guess. Conditions accumulate.
        for (value, field) in row.labs.iter().zip(LABS) {
            let (Some(value), Some(earlier)) = (value, *lab_mut(&mut entry.0, field)) else {
                continue;
            };
            if earlier != *value {
                let column = lab_columns
                    .iter()
                    .find(|(f, _)| *f == field)
                    .map_or("", |(_, name)| name.as_str());
                return Err(bad(
                    line,
                    column,
                    format!(
                        "patient {} has {column} {earlier} on line {} and {value} here; give one \
                         value per patient",
                        String::from_utf8_lossy(id),
                        entry.2[slot(field)]
                    ),
                ));
            }
        }
        for (value, field) in row.labs.iter().zip(LABS) {
            if value.is_some() {
                entry.2[slot(field)] = line;
            }
        }
        row.fill(&mut entry.0, parser.conditions());
        entry.1 = line;
    }
    let mut table = PatientTable::with_capacity(inputs.len());
    for (id, (input, line, _)) in inputs {
        let context = input
            .into_context(kb)
            .map_err(|e| bad(line, &cols.id, e.to_string()))?;
        table.insert(id, context);
    }
    Ok(table)
}

/// Reads the next record of the patients file into `rec`: `Ok(false)` at
/// the end; a CSV error names the file and the line.
fn next_record<R: std::io::Read>(
    rdr: &mut csv::Reader<R>,
    rec: &mut csv::ByteRecord,
    input: &str,
) -> Result<bool, BatchError> {
    rdr.read_byte_record(rec).map_err(|source| BatchError::Csv {
        input: input.to_owned(),
        line: rdr.position().line(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_context_reads_back_as_written_whatever_follows(
            labs in proptest::array::uniform5(proptest::option::of(any::<f64>())),
            conditions in proptest::option::of(any::<u32>()),
            tail in proptest::collection::vec(any::<u8>(), 0..8),
        ) {
            let context = RowContext { labs, conditions };
            let mut bytes = Vec::new();
            context.encode(&mut bytes);
            let used = bytes.len();
            bytes.extend_from_slice(&tail);
            let (back, took) = RowContext::decode(&bytes).expect("complete");
            prop_assert_eq!(took, used);
            prop_assert_eq!(back.conditions, conditions);
            for (a, b) in back.labs.iter().zip(&labs) {
                prop_assert_eq!(a.map(f64::to_bits), b.map(f64::to_bits));
            }
            prop_assert_eq!(back.is_empty(), used == 1);
            prop_assert!(RowContext::decode(&bytes[..used - 1]).is_none());
        }
    }
}
