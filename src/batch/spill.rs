//! Rows of patients that cannot be checked as they are read (standard
//! input, or a file whose patients' rows are scattered) wait on disk, not in
//! memory: each row is written, with its patient id and context, to one of
//! several anonymous temporary files chosen by a hash of the patient id, and
//! the files are read back one at a time at the end, each holding every row
//! of its patients. Rows are routed without a table of all patients (which
//! outgrows the processor's caches and costs a cache miss a row); each
//! partition's patients are told apart when it is read back, in a table
//! small enough to stay in cache. Memory then holds one partition, not every
//! row of the file. Rows are written compactly (about 17 bytes for a short
//! row, against 38 with fixed-width fields): the bytes are written and read
//! back once more, and the reading thread decodes every one of them.

use super::context::{MergedContext, RowContext, merge_later};
use super::group::{Group, Row};
use super::reader::{Day, OPEN_END, OPEN_START};
use super::{CONTEXT_ONLY, NO_MED};
use foldhash::{HashMap, HashMapExt};
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes a partition holds before they are written to its file.
const PART_BUFFER: usize = 16 * 1024;

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
    parts: Vec<Part>,
    hasher: foldhash::fast::FixedState,
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
            parts: (0..parts).map(|_| Part::default()).collect(),
            hasher: foldhash::fast::FixedState::with_seed(PART_SEED),
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
        let at = (self.hasher.hash_one(id) % self.parts.len() as u64) as usize;
        let part = &mut self.parts[at];
        if part.pending.capacity() == 0 {
            part.pending.reserve(PART_BUFFER + 256);
        }
        encode(&mut part.pending, &mut part.last, id, row, context, known);
        if part.pending.len() >= PART_BUFFER
            && let Err(e) = part.write_out()
        {
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
        let mut read: Vec<u8> = Vec::new();
        let mut scratch = Scratch::default();
        for mut part in std::mem::take(&mut self.parts) {
            let bytes: &[u8] = match part.file.is_some() {
                true => {
                    let file = part.write_out()?;
                    file.seek(SeekFrom::Start(0))?;
                    read.clear();
                    file.read_to_end(&mut read)?;
                    &read
                }
                false => &part.pending,
            };
            if bytes.is_empty() {
                continue;
            }
            let groups = group_partition(bytes, lists, &mut scratch)?
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
/// when pushed; not yet numbered. The rows are decoded and counted per
/// patient first, so each patient's rows get a buffer of the right size at
/// once (a patient of 33 rows would otherwise grow its buffer twice).
fn group_partition(
    bytes: &[u8],
    lists: &[Vec<String>],
    scratch: &mut Scratch,
) -> io::Result<Vec<(Group, bool)>> {
    let Scratch { rows, contexts } = scratch;
    rows.clear();
    contexts.clear();
    // Per patient, in order of first row: id, known, rows.
    let mut patients: Vec<(&[u8], bool, u32)> = Vec::new();
    let mut slots: HashMap<IdKey<'_>, u32> = HashMap::with_capacity(bytes.len() / 256);
    let mut rest = bytes;
    let mut last = Cursor::default();
    while !rest.is_empty() {
        let (spilled, tail) = decode(rest, &mut last)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a row spill cut short"))?;
        rest = tail;
        let slot = *slots.entry(IdKey(spilled.id)).or_insert_with(|| {
            patients.push((spilled.id, spilled.known, 0));
            (patients.len() - 1) as u32
        });
        if spilled.row.med != CONTEXT_ONLY {
            patients[slot as usize].2 += 1;
        }
        if !spilled.context.is_empty() {
            contexts.push((rows.len(), spilled.context));
        }
        rows.push((slot, spilled.row));
    }
    // In id order, so that the partition's findings are written in id order
    // too, and read out front to back (see `spool`). Ids are compared by
    // their first eight bytes first, without a call.
    let mut order: Vec<(u64, u32)> = patients
        .iter()
        .enumerate()
        .map(|(slot, (id, ..))| (prefix(id), slot as u32))
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| patients[a.1 as usize].0.cmp(patients[b.1 as usize].0))
    });
    let mut place = vec![0u32; patients.len()];
    let mut groups: Vec<(Group, bool)> = Vec::with_capacity(patients.len());
    for (at, &(_, slot)) in order.iter().enumerate() {
        place[slot as usize] = at as u32;
        let (id, known, count) = patients[slot as usize];
        let id = String::from_utf8_lossy(id).into();
        let buffer = Vec::with_capacity(count as usize);
        groups.push((Group::with_rows(0, id, 1, buffer), known));
    }
    let none = RowContext::default();
    let mut contexts = contexts.iter().peekable();
    for (at, (slot, row)) in rows.iter().enumerate() {
        let context = contexts
            .next_if(|(row_at, _)| *row_at == at)
            .map_or(&none, |(_, context)| context);
        groups[place[*slot as usize] as usize]
            .0
            .push(*row, context, lists);
    }
    Ok(groups)
}

/// Buffers reused from one partition to the next: its rows decoded, with
/// their patient's place, and the contexts of those that carry any.
#[derive(Default)]
struct Scratch {
    rows: Vec<(u32, Row)>,
    contexts: Vec<(usize, RowContext)>,
}

/// A patient id as a table key, compared inline: ids are a few words long,
/// and a call to `memcmp` per row costs more than the comparison.
#[derive(Clone, Copy, Hash)]
struct IdKey<'a>(&'a [u8]);

impl PartialEq for IdKey<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.0, other.0);
        let n = a.len();
        if n != b.len() {
            return false;
        }
        match n {
            // Two words that may overlap cover the id.
            8..=16 => word(&a[..8]) == word(&b[..8]) && word(&a[n - 8..]) == word(&b[n - 8..]),
            _ => a == b,
        }
    }
}

impl Eq for IdKey<'_> {}

/// Eight bytes as a number.
#[inline]
fn word(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes);
    u64::from_ne_bytes(word)
}

/// The first eight bytes of an id (zeros after a shorter one), as a number
/// that sorts as the bytes do.
fn prefix(id: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = id.len().min(8);
    word[..n].copy_from_slice(&id[..n]);
    u64::from_be_bytes(word)
}

/// One row read back from the spill.
struct Spilled<'a> {
    id: &'a [u8],
    /// The patient was numbered before rows waited on disk.
    known: bool,
    row: Row,
    context: RowContext,
}

/// One partition: rows encoded since its file was last written to, the
/// file once anything was written (a partition that never fills its buffer
/// needs none), and what its next row is encoded against.
#[derive(Default)]
struct Part {
    pending: Vec<u8>,
    file: Option<File>,
    last: Cursor,
}

impl Part {
    /// Writes the pending rows to the partition's file, and gives the file.
    fn write_out(&mut self) -> io::Result<&mut File> {
        let file = match &mut self.file {
            Some(file) => file,
            slot @ None => slot.insert(tempfile::tempfile()?),
        };
        file.write_all(&self.pending)?;
        self.pending.clear();
        Ok(file)
    }
}

/// The line and start day of a partition's previous row: rows come in
/// file order, so a row's line (and, less often, its start) is written as
/// a small difference from the row before.
#[derive(Debug, Default, Clone, Copy)]
struct Cursor {
    line: u64,
    start: Day,
}

/// Flags of a spilled row's first byte.
const KNOWN: u8 = 1;
/// The row names a proposed drug (`--propose-col`).
const PROPOSED: u8 = 2;
/// The row carries context values ([`RowContext::encode`]).
const CONTEXT: u8 = 4;
/// The row's window has no start.
const NO_START: u8 = 8;
/// The row's window has no end.
const NO_END: u8 = 16;

/// Appends one row of patient `id` to `out`: a flags byte (whether the
/// patient was numbered before rows waited here, and which parts follow),
/// then variable-length integers: the line's difference from the previous
/// row's, the medication, the proposed drug, the start's difference from
/// the previous start, the end's from the start; the context, and the id
/// after its length.
fn encode(
    out: &mut Vec<u8>,
    last: &mut Cursor,
    id: &[u8],
    row: &Row,
    context: &RowContext,
    known: bool,
) {
    let has_context = !context.is_empty();
    let flags = [
        (known, KNOWN),
        (row.proposed != NO_MED, PROPOSED),
        (has_context, CONTEXT),
        (row.start == OPEN_START, NO_START),
        (row.end == OPEN_END, NO_END),
    ]
    .iter()
    .filter(|(set, _)| *set)
    .fold(0u8, |flags, (_, bit)| flags | bit);
    // The numbers are put together here and copied once: pushing byte by
    // byte onto `out` costs a length check and store per byte.
    let mut head = Head::default();
    head.put(u64::from(flags));
    head.put(zigzag(row.line.wrapping_sub(last.line) as i64));
    last.line = row.line;
    head.put(u64::from(row.med));
    if row.proposed != NO_MED {
        head.put(u64::from(row.proposed));
    }
    let mut base = 0;
    if row.start != OPEN_START {
        head.put(zigzag(i64::from(row.start) - i64::from(last.start)));
        last.start = row.start;
        base = i64::from(row.start);
    }
    if row.end != OPEN_END {
        head.put(zigzag(i64::from(row.end) - base));
    }
    if has_context {
        out.extend_from_slice(head.bytes());
        context.encode(out);
        head = Head::default();
    }
    head.put(id.len() as u64);
    out.extend_from_slice(head.bytes());
    out.extend_from_slice(id);
}

/// Up to seven numbers written by [`Head::put`], before they are copied
/// out together.
struct Head {
    bytes: [u8; 70],
    len: usize,
}

impl Default for Head {
    fn default() -> Self {
        Head {
            bytes: [0; 70],
            len: 0,
        }
    }
}

impl Head {
    /// Appends `value` in 7-bit groups, low first, the high bit marking that
    /// more follow (LEB128).
    fn put(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes[self.len] = value as u8 | 0x80;
            self.len += 1;
            value >>= 7;
        }
        self.bytes[self.len] = value as u8;
        self.len += 1;
    }

    fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The spilled row at the start of `bytes` (see [`encode`]), and the bytes
/// after it; `None` if it is cut short or out of range.
fn decode<'a>(bytes: &'a [u8], last: &mut Cursor) -> Option<(Spilled<'a>, &'a [u8])> {
    let (&flags, rest) = bytes.split_first()?;
    let mut rest = Taker(rest);
    let line = last.line.wrapping_add(unzigzag(rest.varint()?) as u64);
    let med = u32::try_from(rest.varint()?).ok()?;
    let proposed = match flags & PROPOSED {
        0 => NO_MED,
        _ => u32::try_from(rest.varint()?).ok()?,
    };
    let (start, base) = match flags & NO_START {
        0 => {
            let start = i64::from(last.start) + unzigzag(rest.varint()?);
            (Day::try_from(start).ok()?, start)
        }
        _ => (OPEN_START, 0),
    };
    let end = match flags & NO_END {
        0 => Day::try_from(base + unzigzag(rest.varint()?)).ok()?,
        _ => OPEN_END,
    };
    let context = match flags & CONTEXT {
        0 => RowContext::default(),
        _ => {
            let (context, used) = RowContext::decode(rest.0)?;
            rest.take(used)?;
            context
        }
    };
    let id_len = usize::try_from(rest.varint()?).ok()?;
    let id = rest.take(id_len)?;
    last.line = line;
    if start != OPEN_START {
        last.start = start;
    }
    let row = Row {
        line,
        med,
        proposed,
        start,
        end,
    };
    let spilled = Spilled {
        id,
        known: flags & KNOWN != 0,
        row,
        context,
    };
    Some((spilled, rest.0))
}

/// A signed difference as an unsigned number small when the difference is
/// small either way.
fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// The inverse of [`zigzag`].
fn unzigzag(value: u64) -> i64 {
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

/// Bytes being decoded, taken from the front.
struct Taker<'a>(&'a [u8]);

impl<'a> Taker<'a> {
    /// A number written by [`Head::put`].
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for (i, &byte) in self.0.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return Some(value);
            }
        }
        None
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }
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
        let used = spill.parts.iter().filter(|p| !p.pending.is_empty()).count();
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
        let mut record = Vec::new();
        let context = RowContext {
            labs: [Some(50.0), None, None, None, None],
            conditions: Some(3),
        };
        encode(
            &mut record,
            &mut Cursor::default(),
            b"P1",
            &row(2, 1),
            &context,
            false,
        );
        assert!(decode(&record, &mut Cursor::default()).is_some());
        for len in 0..record.len() {
            assert!(
                decode(&record[..len], &mut Cursor::default()).is_none(),
                "{len} bytes"
            );
        }
    }

    #[test]
    fn rows_decode_as_encoded_whatever_their_values() {
        let rows = [
            (5, 0, NO_MED, OPEN_START, OPEN_END),
            (2, 7, 3, -5, i32::MAX - 1),
            (u64::MAX, CONTEXT_ONLY, u32::MAX - 2, i32::MIN + 1, i32::MAX),
            (9, 1, NO_MED, i32::MAX - 1, i32::MIN + 1),
            (3, 2, NO_MED, OPEN_START, 17),
            (10, 200_000, NO_MED, 19_000, 19_030),
        ];
        let contexts = [
            RowContext::default(),
            RowContext {
                labs: [None, Some(480.0), None, None, Some(0.7)],
                conditions: None,
            },
        ];
        let mut bytes = Vec::new();
        let mut last = Cursor::default();
        let mut expected = Vec::new();
        for (i, &(line, med, proposed, start, end)) in rows.iter().enumerate() {
            let row = Row {
                proposed,
                start,
                end,
                ..row(line, med)
            };
            let id = format!("id-{i}").repeat(i * 40);
            let context = contexts[i % 2];
            encode(
                &mut bytes,
                &mut last,
                id.as_bytes(),
                &row,
                &context,
                i % 3 == 0,
            );
            expected.push((id, row, context, i % 3 == 0));
        }
        let mut rest = &bytes[..];
        let mut last = Cursor::default();
        for (id, row, context, known) in expected {
            let Some((spilled, tail)) = decode(rest, &mut last) else {
                panic!("row {} cut short", row.line);
            };
            assert_eq!(spilled.id, id.as_bytes());
            assert_eq!(
                (spilled.row, spilled.context, spilled.known),
                (row, context, known)
            );
            rest = tail;
        }
        assert!(rest.is_empty());
    }

    #[test]
    fn ids_are_equal_only_when_every_byte_is() {
        for len in 0..24u8 {
            let a: Vec<u8> = (0..len).map(|i| b'a' + i).collect();
            assert!(IdKey(&a) == IdKey(&a.clone()));
            for at in 0..usize::from(len) {
                let mut b = a.clone();
                b[at] ^= 1;
                assert!(IdKey(&a) != IdKey(&b), "{len} bytes, differing at {at}");
            }
            let mut longer = a.clone();
            longer.push(b'z');
            assert!(IdKey(&a) != IdKey(&longer));
        }
    }

    #[test]
    fn ids_ordered_by_their_first_word_keep_the_byte_order() {
        let ids: [&[u8]; 9] = [
            b"P1",
            b"P1\0",
            b"P10",
            b"P0488166",
            b"P04881660",
            b"P0488165z",
            b"",
            b"\xff",
            b"P0",
        ];
        let mut by_prefix = ids.to_vec();
        by_prefix.sort_by(|a, b| prefix(a).cmp(&prefix(b)).then_with(|| a.cmp(b)));
        let mut by_bytes = ids.to_vec();
        by_bytes.sort();
        assert_eq!(by_prefix, by_bytes);
    }

    #[test]
    fn a_short_row_spills_in_few_bytes() {
        let mut bytes = Vec::new();
        let mut last = Cursor::default();
        for (line, start) in [(1_000, 15_000), (1_300, 13_000)] {
            let row = Row {
                line,
                med: 90,
                proposed: NO_MED,
                start,
                end: start + 90,
            };
            bytes.clear();
            encode(
                &mut bytes,
                &mut last,
                b"P0488166",
                &row,
                &RowContext::default(),
                false,
            );
        }
        // Flags, line (2), medication, start (2), end (2), id length, id.
        assert_eq!(bytes.len(), 1 + 2 + 1 + 2 + 2 + 1 + 8);
    }
}
