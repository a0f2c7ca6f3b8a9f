//! Rows of patients that cannot be checked as they are read (standard
//! input, or a file whose patients' rows are scattered) wait on disk, not in
//! memory: each row is written, with its patient id and context, to one of
//! several anonymous temporary files chosen by a hash of the patient id, and
//! the files are read back one at a time at the end, each holding every row
//! of its patients. Rows are routed without a table of all patients (which
//! outgrows the processor's caches and costs a cache miss a row); each
//! partition's patients are told apart when it is read back, in a table
//! small enough to stay in cache. Memory then holds one partition, not every
//! row of the file.

use super::context::{MergedContext, RowContext, merge_later};
use super::group::{Group, Row};
use super::reader::{OPEN_END, OPEN_START};
use super::{CONTEXT_ONLY, NO_MED};
use foldhash::{HashMap, HashMapExt};
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

/// Bytes of a spilled row before its context and patient id: id length,
/// medication, proposed drug, start, end (4 bytes each), line (8 bytes;
/// little-endian) and whether the patient was numbered before rows waited
/// here (1 byte). The context ([`RowContext::encode`]) and the id's bytes
/// follow.
const FIXED: usize = 29;

/// Input bytes per partition for a file: a partition then holds about the
/// rows of this much input (2 MB of 67-byte rows is 31,000 rows, about
/// 1.2 MB once read back), so that its patients' table and groups stay in
/// the processor's caches while it is grouped. Files of more than 512 MB
/// get larger partitions, as their number is capped.
const INPUT_PER_PART: u64 = 2 << 20;
/// Partitions when the input size is unknown (standard input).
const UNKNOWN_SIZE_PARTS: usize = 256;
/// Seed of the hash that picks a row's partition: fixed, so a run reads the
/// partitions back in the same order every time.
const PART_SEED: u64 = 0x6372_616d_7063_6b31;

/// Rows waiting on disk, partitioned by a hash of the patient id.
pub struct Spill {
    parts: Vec<Option<BufWriter<File>>>,
    hasher: foldhash::fast::FixedState,
    /// One row being encoded.
    record: Vec<u8>,
    /// Context merged before the rows waited here (groups spilled whole),
    /// by patient number.
    contexts: Vec<Option<Box<MergedContext>>>,
    /// The first write error; later rows are not written.
    error: Option<io::Error>,
}

impl Spill {
    /// A spill sized for an input of `input_bytes` (`None`: unknown).
    pub fn new(input_bytes: Option<u64>) -> Self {
        let parts = match input_bytes {
            Some(bytes) => usize::try_from(bytes / INPUT_PER_PART + 1)
                .unwrap_or(UNKNOWN_SIZE_PARTS)
                .min(UNKNOWN_SIZE_PARTS),
            None => UNKNOWN_SIZE_PARTS,
        };
        Spill {
            parts: (0..parts).map(|_| None).collect(),
            hasher: foldhash::fast::FixedState::with_seed(PART_SEED),
            record: Vec::with_capacity(256),
            contexts: Vec::new(),
            error: None,
        }
    }

    /// Writes one row of patient `id`, with its context values; `known`
    /// tells whether the patient was numbered before rows waited here.
    pub fn push(&mut self, id: &[u8], row: &Row, context: &RowContext, known: bool) {
        if self.error.is_some() {
            return;
        }
        let Ok(id_len) = u32::try_from(id.len()) else {
            self.error = Some(io::Error::other("a patient id longer than 4 GiB"));
            return;
        };
        let part = (self.hasher.hash_one(id) % self.parts.len() as u64) as usize;
        let record = &mut self.record;
        record.clear();
        record.extend_from_slice(&id_len.to_le_bytes());
        record.extend_from_slice(&row.med.to_le_bytes());
        record.extend_from_slice(&row.proposed.to_le_bytes());
        record.extend_from_slice(&row.start.to_le_bytes());
        record.extend_from_slice(&row.end.to_le_bytes());
        record.extend_from_slice(&row.line.to_le_bytes());
        record.push(u8::from(known));
        context.encode(record);
        record.extend_from_slice(id);
        let file = match &mut self.parts[part] {
            Some(file) => Ok(file),
            slot @ None => tempfile::tempfile()
                .map(|file| slot.insert(BufWriter::with_capacity(16 * 1024, file))),
        };
        if let Err(e) = file.and_then(|file| file.write_all(record)) {
            self.error = Some(e);
        }
    }

    /// Spills a whole group: its rows, and the context merged from them. A
    /// group of context alone (its rows were rejected) is marked by a row
    /// that brings no medication, so the patient is read back.
    pub fn push_group(&mut self, group: Group) {
        for row in &group.rows {
            self.push(group.id.as_bytes(), row, &RowContext::default(), true);
        }
        if group.rows.is_empty() {
            let marker = Row {
                line: 0,
                med: CONTEXT_ONLY,
                proposed: NO_MED,
                start: OPEN_START,
                end: OPEN_END,
            };
            self.push(group.id.as_bytes(), &marker, &RowContext::default(), true);
        }
        if let Some(context) = group.context {
            let at = group.pid as usize;
            if self.contexts.len() <= at {
                self.contexts.resize_with(at + 1, || None);
            }
            self.contexts[at] = Some(context);
        }
    }

    /// Reads the partitions back one at a time; `each` gets the groups of
    /// one partition (patients in id order, rows in file order). Each
    /// patient is numbered once by `number` (patient number, read; given
    /// the id and whether it was known when pushed), in that order; row
    /// contexts are merged (conditions are indices into `lists`) after any
    /// context of a group spilled whole.
    pub fn drain(
        mut self,
        lists: &[Vec<String>],
        mut number: impl FnMut(&[u8], bool) -> (u32, u8),
        mut each: impl FnMut(Vec<Group>),
    ) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut bytes: Vec<u8> = Vec::new();
        for part in std::mem::take(&mut self.parts).into_iter().flatten() {
            let mut file = part.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.seek(SeekFrom::Start(0))?;
            bytes.clear();
            file.read_to_end(&mut bytes)?;
            let groups = group_partition(&bytes, lists)?
                .into_iter()
                .map(|(mut group, known)| {
                    (group.pid, group.pass) = number(group.id.as_bytes(), known);
                    let earlier = self
                        .contexts
                        .get_mut(group.pid as usize)
                        .and_then(Option::take);
                    group.context = match (earlier, group.context.take()) {
                        (Some(mut earlier), Some(later)) => {
                            merge_later(&mut earlier, &later);
                            Some(earlier)
                        }
                        (earlier, later) => earlier.or(later),
                    };
                    group
                })
                .collect();
            each(groups);
        }
        Ok(())
    }
}

/// The rows of one partition grouped by patient, in id order (rows in file
/// order, their contexts merged), each with whether its patient was known
/// when pushed; not yet numbered.
fn group_partition(bytes: &[u8], lists: &[Vec<String>]) -> io::Result<Vec<(Group, bool)>> {
    let mut groups: Vec<(Group, bool)> = Vec::new();
    let mut slots: HashMap<&[u8], usize> = HashMap::with_capacity(bytes.len() / 512);
    let mut rest = bytes;
    while !rest.is_empty() {
        let (spilled, tail) = decode(rest)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a row spill cut short"))?;
        rest = tail;
        let slot = *slots.entry(spilled.id).or_insert_with(|| {
            let id = String::from_utf8_lossy(spilled.id).into();
            groups.push((Group::with_rows(0, id, 1, Vec::new()), spilled.known));
            groups.len() - 1
        });
        groups[slot].0.push(spilled.row, &spilled.context, lists);
    }
    // In id order, so that the partition's findings are written in id order
    // too, and read out front to back (see `spool`).
    groups.sort_unstable_by(|a, b| a.0.id.cmp(&b.0.id));
    Ok(groups)
}

/// One row read back from the spill.
struct Spilled<'a> {
    id: &'a [u8],
    /// The patient was numbered before rows waited on disk.
    known: bool,
    row: Row,
    context: RowContext,
}

/// The spilled row at the start of `bytes`, and the bytes after it; `None`
/// if it is cut short.
fn decode(bytes: &[u8]) -> Option<(Spilled<'_>, &[u8])> {
    let (fixed, rest) = bytes.split_first_chunk::<FIXED>()?;
    let u32_at =
        |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
    let mut line = [0u8; 8];
    line.copy_from_slice(&fixed[20..28]);
    let row = Row {
        med: u32_at(4),
        proposed: u32_at(8),
        start: u32_at(12) as i32,
        end: u32_at(16) as i32,
        line: u64::from_le_bytes(line),
    };
    let known = fixed[28] != 0;
    // Most rows carry no context: one byte 0, not worth a call.
    let (context, rest) = match rest.first() {
        Some(0) => (RowContext::default(), &rest[1..]),
        _ => {
            let (context, used) = RowContext::decode(rest)?;
            (context, &rest[used..])
        }
    };
    let id_len = usize::try_from(u32_at(0)).ok()?;
    if rest.len() < id_len {
        return None;
    }
    let (id, rest) = rest.split_at(id_len);
    Some((
        Spilled {
            id,
            known,
            row,
            context,
        },
        rest,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patient::PatientInput;

    fn row(line: u64, med: u32) -> Row {
        Row {
            line,
            med,
            proposed: u32::MAX,
            start: -5,
            end: i32::MAX,
        }
    }

    /// One group read back: patient number, id, lines, context, read.
    type Drained = (u32, String, Vec<u64>, Option<PatientInput>, u8);

    /// Drains `spill`, numbering patients `P<n>` as n (read 2 for P3) and
    /// others from 101 on, sorted by patient number.
    fn drained(spill: Spill, lists: &[Vec<String>]) -> Vec<Drained> {
        let mut next = 100;
        let mut seen = Vec::new();
        let result = spill.drain(
            lists,
            |id, known| match std::str::from_utf8(id)
                .ok()
                .and_then(|t| t.strip_prefix('P')?.parse().ok())
            {
                Some(pid) if known => (pid, if pid == 3 { 2 } else { 1 }),
                _ => {
                    next += 1;
                    (next, 1)
                }
            },
            |groups| {
                assert!(groups.is_sorted_by(|a, b| a.id < b.id), "in id order");
                for g in groups {
                    assert!(g.rows.iter().all(|r| r.start == -5 && r.end == i32::MAX));
                    seen.push((
                        g.pid,
                        g.id.to_string(),
                        g.rows.iter().map(|r| r.line).collect(),
                        g.context.map(|c| c.input),
                        g.pass,
                    ));
                }
            },
        );
        assert!(result.is_ok());
        seen.sort_by_key(|s| s.0);
        seen
    }

    #[test]
    fn rows_come_back_grouped_by_patient_in_file_order() {
        let mut spill = Spill::new(Some(1));
        assert_eq!(spill.parts.len(), 1);
        let none = RowContext::default();
        for (line, id, known) in [
            (2, "P7", true),
            (3, "P1", true),
            (4, "P7", true),
            (5, "P1", true),
            (6, "P3", true),
            (7, "é, with a comma", false),
            (8, "P9", false),
        ] {
            spill.push(id.as_bytes(), &row(line, 10), &none, known);
        }
        let seen = drained(spill, &[]);
        let got: Vec<(u32, &str, &[u64], u8)> = seen
            .iter()
            .map(|(pid, id, lines, _, pass)| (*pid, id.as_str(), &lines[..], *pass))
            .collect();
        assert_eq!(
            got,
            [
                (1, "P1", &[3, 5][..], 1),
                (3, "P3", &[6], 2),
                (7, "P7", &[2, 4], 1),
                // Numbered in id order: "P9" sorts before "é".
                (101, "P9", &[8], 1),
                (102, "é, with a comma", &[7], 1),
            ]
        );
    }

    #[test]
    fn contexts_merge_after_the_context_of_a_group_spilled_whole() {
        let mut spill = Spill::new(Some(1));
        let mut group = Group::with_rows(7, "P7".into(), 1, Vec::new());
        group.rows.push(row(2, 1));
        // eGFR 50 and age 80 from a row of the same start as the later ones.
        let mut earlier = MergedContext::default();
        let row_context = RowContext {
            labs: [Some(50.0), None, Some(80.0), None, None],
            conditions: Some(0),
        };
        row_context.apply(&mut earlier, &[vec!["ckd".to_owned()]], -5, 2);
        group.context = Some(Box::new(earlier));
        spill.push_group(group);
        // eGFR 30 and the conditions list 0, as a row would carry them.
        let later = RowContext {
            labs: [Some(30.0), None, None, None, None],
            conditions: Some(0),
        };
        let lists = vec![vec!["ckd".to_owned(), "long_qt".to_owned()]];
        spill.push(b"P7", &row(9, 1), &later, true);
        spill.push(b"P1", &row(10, 1), &later, true);
        let seen = drained(spill, &lists);
        let contexts: Vec<(u32, Vec<u64>, Option<PatientInput>)> = seen
            .into_iter()
            .map(|(pid, _, lines, context, _)| (pid, lines, context))
            .collect();
        let merged = PatientInput {
            egfr: Some(30.0),
            age: Some(80.0),
            conditions: vec!["ckd".to_owned(), "long_qt".to_owned()],
            ..PatientInput::default()
        };
        let fresh = PatientInput {
            egfr: Some(30.0),
            conditions: vec!["ckd".to_owned(), "long_qt".to_owned()],
            ..PatientInput::default()
        };
        assert_eq!(
            contexts,
            [(1, vec![10], Some(fresh)), (7, vec![2, 9], Some(merged))]
        );
    }

    #[test]
    fn partitions_follow_the_input_size() {
        assert_eq!(Spill::new(Some(0)).parts.len(), 1);
        assert_eq!(Spill::new(Some(10 * INPUT_PER_PART)).parts.len(), 11);
        assert_eq!(Spill::new(None).parts.len(), UNKNOWN_SIZE_PARTS);
        assert_eq!(Spill::new(Some(u64::MAX)).parts.len(), UNKNOWN_SIZE_PARTS);
    }

    #[test]
    fn patients_spread_over_partitions_each_come_back_once() {
        let mut spill = Spill::new(None);
        let none = RowContext::default();
        for n in 0..1000u64 {
            let id = format!("id{n}");
            spill.push(id.as_bytes(), &row(n + 2, 1), &none, false);
            spill.push(id.as_bytes(), &row(n + 5000, 1), &none, false);
        }
        let used = spill.parts.iter().filter(|p| p.is_some()).count();
        assert!(used > 200, "the ids hash to {used} of 256 partitions");
        let mut ids: Vec<String> = Vec::new();
        let drained = spill.drain(
            &[],
            |_, _| (0, 1),
            |groups| {
                for g in groups {
                    assert_eq!(g.rows.len(), 2);
                    assert_eq!(g.rows[1].line, g.rows[0].line + 4998);
                    ids.push(g.id.to_string());
                }
            },
        );
        assert!(drained.is_ok());
        ids.sort_unstable();
        let mut expected: Vec<String> = (0..1000).map(|n| format!("id{n}")).collect();
        expected.sort_unstable();
        assert_eq!(ids, expected);
    }

    #[test]
    fn a_record_cut_short_is_an_error_not_a_row() {
        let mut spill = Spill::new(Some(1));
        spill.push(b"P1", &row(2, 1), &RowContext::default(), false);
        let mut record = spill.record.clone();
        assert!(decode(&record).is_some());
        record.pop();
        assert!(decode(&record).is_none());
        assert!(decode(&record[..FIXED]).is_none());
    }
}
