//! Rows of patients that cannot be checked as they are read (standard
//! input, or a file whose patients' rows are scattered) wait on disk, not in
//! memory: each row is written as a fixed-size record to one of several
//! anonymous temporary files, chosen by patient number, and the files are
//! read back one at a time at the end, each holding every row of its
//! patients. Memory then holds the per-patient tables and one partition,
//! instead of every row of the file.

use super::context::RowContext;
use super::group::{Group, Row};
use crate::patient::PatientInput;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// Bytes of one spilled row: patient, medication, proposed drug, start, end
/// (4 bytes each), 4 bytes of padding, line (8 bytes); little-endian.
const RECORD: usize = 32;

/// Input bytes per partition for a file: a partition then holds about the
/// rows of this much input (16 MB of 67-byte rows is 250,000 rows, 8 MB
/// once read back).
const INPUT_PER_PART: u64 = 16 << 20;
/// Partitions when the input size is unknown (standard input).
const UNKNOWN_SIZE_PARTS: usize = 256;

/// Rows waiting on disk, partitioned by patient number.
pub struct Spill {
    parts: Vec<Option<BufWriter<File>>>,
    /// Patient context gathered from the rows, by patient number.
    contexts: Vec<Option<Box<PatientInput>>>,
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
            contexts: Vec::new(),
            error: None,
        }
    }

    /// Writes one row of patient `pid`.
    pub fn push(&mut self, pid: u32, row: &Row) {
        if self.error.is_some() {
            return;
        }
        let part = pid as usize % self.parts.len();
        let file = match &mut self.parts[part] {
            Some(file) => Ok(file),
            slot @ None => tempfile::tempfile()
                .map(|file| slot.insert(BufWriter::with_capacity(16 * 1024, file))),
        };
        let written = file.and_then(|file| file.write_all(&encode(pid, row)));
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    /// Writes one row of patient `pid` and merges its context values (whose
    /// conditions are indices into `lists`).
    pub fn push_row(&mut self, pid: u32, row: &Row, context: &RowContext, lists: &[Vec<String>]) {
        self.push(pid, row);
        if !context.is_empty() {
            context.apply(self.context(pid), lists);
        }
    }

    /// The context gathered so far for patient `pid`, to merge a row into.
    pub fn context(&mut self, pid: u32) -> &mut PatientInput {
        self.context_slot(pid).get_or_insert_default()
    }

    fn context_slot(&mut self, pid: u32) -> &mut Option<Box<PatientInput>> {
        let at = pid as usize;
        if self.contexts.len() <= at {
            self.contexts.resize_with(at + 1, || None);
        }
        &mut self.contexts[at]
    }

    /// Spills a whole group (its rows and context).
    pub fn push_group(&mut self, group: Group) {
        for row in &group.rows {
            self.push(group.pid, row);
        }
        if let Some(context) = group.context {
            *self.context_slot(group.pid) = Some(context);
        }
    }

    /// Reads the partitions back one at a time; `each` gets the groups of
    /// one partition (rows in file order, patients by number), named by
    /// `name` and numbered by `pass`.
    pub fn drain(
        mut self,
        name: impl Fn(u32) -> Box<str>,
        pass: impl Fn(u32) -> u8,
        mut each: impl FnMut(Vec<Group>),
    ) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        let mut records: Vec<(u32, Row)> = Vec::new();
        let parts = self.parts.len();
        let taken = std::mem::take(&mut self.parts);
        for (part_no, part) in taken.into_iter().enumerate() {
            let Some(part) = part else {
                continue;
            };
            let mut file = part.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.seek(SeekFrom::Start(0))?;
            let mut reader = BufReader::with_capacity(64 * 1024, file);
            let mut buf = [0u8; RECORD];
            records.clear();
            loop {
                match reader.read_exact(&mut buf) {
                    Ok(()) => records.push(decode(&buf)),
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                    Err(e) => return Err(e),
                }
            }
            // Patients of one partition are numbered `part + k * parts`:
            // count each one's rows, then hand each row to its group in
            // file order (no sort; a patient's rows stay in file order).
            let mut counts: Vec<u32> = Vec::new();
            for (pid, _) in &records {
                let k = *pid as usize / parts;
                if counts.len() <= k {
                    counts.resize(k + 1, 0);
                }
                counts[k] += 1;
            }
            let mut slots: Vec<u32> = vec![u32::MAX; counts.len()];
            let mut groups: Vec<Group> = Vec::new();
            for (k, &n) in counts.iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let pid = (k * parts + part_no) as u32;
                slots[k] = groups.len() as u32;
                let mut group =
                    Group::with_rows(pid, name(pid), pass(pid), Vec::with_capacity(n as usize));
                group.context = self.contexts.get_mut(pid as usize).and_then(Option::take);
                groups.push(group);
            }
            for (pid, row) in records.drain(..) {
                let k = pid as usize / parts;
                groups[slots[k] as usize].rows.push(row);
            }
            each(groups);
        }
        Ok(())
    }
}

fn encode(pid: u32, row: &Row) -> [u8; RECORD] {
    let mut out = [0u8; RECORD];
    out[0..4].copy_from_slice(&pid.to_le_bytes());
    out[4..8].copy_from_slice(&row.med.to_le_bytes());
    out[8..12].copy_from_slice(&row.proposed.to_le_bytes());
    out[12..16].copy_from_slice(&row.start.to_le_bytes());
    out[16..20].copy_from_slice(&row.end.to_le_bytes());
    out[24..32].copy_from_slice(&row.line.to_le_bytes());
    out
}

fn decode(buf: &[u8; RECORD]) -> (u32, Row) {
    let u32_at = |i: usize| u32::from_le_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
    let mut line = [0u8; 8];
    line.copy_from_slice(&buf[24..32]);
    (
        u32_at(0),
        Row {
            med: u32_at(4),
            proposed: u32_at(8),
            start: u32_at(12) as i32,
            end: u32_at(16) as i32,
            line: u64::from_le_bytes(line),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(line: u64, med: u32) -> Row {
        Row {
            line,
            med,
            proposed: u32::MAX,
            start: -5,
            end: i32::MAX,
        }
    }

    #[test]
    fn rows_come_back_grouped_by_patient_in_file_order() {
        let mut spill = Spill::new(Some(1));
        assert_eq!(spill.parts.len(), 1);
        for (line, pid) in [(2, 7), (3, 1), (4, 7), (5, 1), (6, 3)] {
            spill.push(pid, &row(line, pid * 10));
        }
        spill.context(7).egfr = Some(40.0);
        let mut seen: Vec<(u32, Vec<u64>, Option<f64>, u8)> = Vec::new();
        let drained = spill.drain(
            |pid| format!("P{pid}").into(),
            |pid| if pid == 3 { 2 } else { 1 },
            |groups| {
                for g in groups {
                    assert_eq!(&*g.id, format!("P{}", g.pid));
                    assert!(g.rows.iter().all(|r| r.med == g.pid * 10));
                    assert!(g.rows.iter().all(|r| r.start == -5 && r.end == i32::MAX));
                    seen.push((
                        g.pid,
                        g.rows.iter().map(|r| r.line).collect(),
                        g.context.and_then(|c| c.egfr),
                        g.pass,
                    ));
                }
            },
        );
        assert!(drained.is_ok());
        assert_eq!(
            seen,
            vec![
                (1, vec![3, 5], None, 1),
                (3, vec![6], None, 2),
                (7, vec![2, 4], Some(40.0), 1),
            ]
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
        for pid in 0..1000u32 {
            spill.push(pid, &row(u64::from(pid) + 2, 1));
            spill.push(pid, &row(u64::from(pid) + 5000, 1));
        }
        let mut pids: Vec<u32> = Vec::new();
        let drained = spill.drain(
            |_| "".into(),
            |_| 1,
            |groups| {
                for g in groups {
                    assert_eq!(g.rows.len(), 2);
                    assert!(g.rows[0].line < g.rows[1].line);
                    pids.push(g.pid);
                }
            },
        );
        assert!(drained.is_ok());
        pids.sort_unstable();
        assert_eq!(pids, (0..1000).collect::<Vec<_>>());
    }
}
