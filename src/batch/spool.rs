//! Rendered findings wait in a temporary file, with a small index in memory
//! (patient id, offset, length, counts), until the run ends; they are then
//! put in patient-id order. Memory therefore grows with the number of
//! patients that have findings, not with the size of the output.
//!
//! The file holds the output's header, then each patient's findings, as
//! [`frames`](super::frames): text repeated from patient to patient is a
//! reference to a piece kept once, so the file is several times smaller
//! than the output, and the output is put together from it, in order, as
//! it is written. When the output is a file, the spool is an anonymous
//! temporary file in the same folder, so its space is taken where the
//! output goes.

use crate::clinical::Severity;
use crate::engine::FindingKind;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, mpsc};

use super::atomic::{self, AtomicFile};
use super::frames::{Expand, Frames};
use super::group::BatchFinding;

/// One patient's part of a [`RenderedPatients`] and what it counts.
#[derive(Debug)]
pub struct PatientOutput {
    /// Dense patient number.
    pub pid: u32,
    /// Patient id as written.
    pub id: Box<str>,
    /// Which read the group came from.
    pub pass: u8,
    /// Length of the patient's frames in the shared buffer.
    pub len: usize,
    /// (kind, severity) of each finding.
    pub counts: Vec<(FindingKind, Severity)>,
}

impl PatientOutput {
    /// Describes a patient whose `len` bytes of frames were just rendered.
    pub fn new(pid: u32, id: Box<str>, pass: u8, len: usize, findings: &[BatchFinding]) -> Self {
        PatientOutput {
            pid,
            id,
            pass,
            len,
            counts: findings
                .iter()
                .map(|f| (f.finding.kind, f.finding.severity))
                .collect(),
        }
    }
}

/// The rendered findings of consecutive patients in one buffer, so that
/// they reach the spool in one write, not one copy per patient.
#[derive(Debug, Default)]
pub struct RenderedPatients {
    /// Rendered rows as frames, patient after patient, each patient's
    /// frames whole.
    pub bytes: Vec<u8>,
    /// Each patient's part of `bytes`, in order.
    pub patients: Vec<PatientOutput>,
}

/// One patient with findings in the spool. Its id and finding counts sit in
/// the spool's shared buffers (`ids`, `counts`), not in allocations of
/// their own: the index is the memory that grows with patients.
struct Entry {
    offset: u64,
    len: u64,
    /// Where the id starts in `Spool::ids`.
    id_at: usize,
    /// Where the counts start in `Spool::counts`.
    counts_at: usize,
    id_len: u32,
    counts_len: u32,
    pid: u32,
    /// The run of patients in id order this one belongs to, counted in the
    /// order they were written (see [`Range::run`]).
    run: u32,
    pass: u8,
}

impl Entry {
    fn id<'a>(&self, ids: &'a [u8]) -> &'a [u8] {
        &ids[self.id_at..self.id_at + self.id_len as usize]
    }

    fn counts<'a>(&self, counts: &'a [(FindingKind, Severity)]) -> &'a [(FindingKind, Severity)] {
        &counts[self.counts_at..self.counts_at + self.counts_len as usize]
    }
}

/// A stretch of the spool to copy out.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Range {
    offset: u64,
    len: u64,
    /// The run of the range's first patient: patients written one after
    /// another in id order (each partition of rows that waited on disk
    /// gives one). Copied out in id order, a run's patients are read front
    /// to back, so each run is read through a window of its own, not one
    /// read per patient.
    run: u32,
}

/// The spool of rendered patients.
pub struct Spool {
    file: BufWriter<File>,
    /// Length of the header's frames at the start of the file.
    header: u64,
    written: u64,
    /// The patients with findings, in the order written, in chunks of
    /// [`CHUNK`]: a vector that doubles as it grows holds the index twice
    /// while it moves, and that set the peak memory of runs with many
    /// patients.
    chunks: Vec<Vec<Entry>>,
    /// The entries' patient ids, one after another.
    ids: Vec<u8>,
    /// The entries' (kind, severity) of each finding, one after another.
    counts: Vec<(FindingKind, Severity)>,
}

/// Counts over the patients whose findings are kept.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct OutputStats {
    /// Patients with at least one finding.
    pub patients_with_findings: u64,
    /// Patients by their worst finding's severity.
    pub by_worst: BTreeMap<Severity, u64>,
    /// Findings by kind.
    pub by_kind: BTreeMap<FindingKind, u64>,
    /// Findings by severity.
    pub by_severity: BTreeMap<Severity, u64>,
    /// All findings.
    pub findings: u64,
}

impl Spool {
    /// A spool in a new anonymous temporary file (in the system's folder for
    /// them), for output that goes to standard output or a device; it starts
    /// with `header`.
    pub fn new(header: &[u8]) -> io::Result<Self> {
        Self::with_file(tempfile::tempfile()?, header)
    }

    /// A spool in an anonymous temporary file in `target`'s folder; it
    /// starts with `header`. A target that is a device or a pipe gets one
    /// in the system's folder.
    pub fn beside(target: &Path, header: &[u8]) -> io::Result<Self> {
        if atomic::is_special(target) {
            return Self::new(header);
        }
        Self::with_file(tempfile::tempfile_in(atomic::folder_of(target))?, header)
    }

    fn with_file(file: File, header: &[u8]) -> io::Result<Self> {
        // Small: rendered patients arrive in buffers of tens of kilobytes,
        // which go to the file directly rather than through this one.
        let mut file = BufWriter::with_capacity(1 << 14, file);
        let mut frames = Frames::default();
        if !header.is_empty() {
            frames.text(header);
        }
        let header = frames.into_bytes();
        file.write_all(&header)?;
        Ok(Spool {
            file,
            header: header.len() as u64,
            written: header.len() as u64,
            chunks: Vec::new(),
            ids: Vec::new(),
            counts: Vec::new(),
        })
    }

    /// Stores rendered patients (patients without findings are not
    /// stored).
    pub fn push(&mut self, rendered: RenderedPatients) -> io::Result<()> {
        self.file.write_all(&rendered.bytes)?;
        for out in rendered.patients {
            let len = out.len as u64;
            if !out.counts.is_empty() {
                let id = out.id.as_bytes();
                let run = match self.chunks.last().and_then(|chunk| chunk.last()) {
                    Some(last) if id < last.id(&self.ids) => last.run + 1,
                    Some(last) => last.run,
                    None => 0,
                };
                let (Ok(id_len), Ok(counts_len)) =
                    (u32::try_from(id.len()), u32::try_from(out.counts.len()))
                else {
                    return Err(io::Error::other(format!(
                        "patient {} has an id or a number of findings beyond 4 billion",
                        out.id
                    )));
                };
                let entry = Entry {
                    offset: self.written,
                    len,
                    id_at: self.ids.len(),
                    counts_at: self.counts.len(),
                    id_len,
                    counts_len,
                    pid: out.pid,
                    run,
                    pass: out.pass,
                };
                match self.chunks.last_mut() {
                    Some(chunk) if chunk.len() < CHUNK => chunk.push(entry),
                    _ => {
                        let mut chunk = Vec::with_capacity(CHUNK);
                        chunk.push(entry);
                        self.chunks.push(chunk);
                    }
                }
                self.ids.extend_from_slice(id);
                self.counts.extend_from_slice(&out.counts);
            }
            self.written += len;
        }
        Ok(())
    }

    /// Drops the first-read results of patients gathered again in the
    /// second read (`split`), sorts by patient id and counts. With
    /// `parallel`, the chunks are sorted, and the output is later put
    /// together, on two threads.
    pub fn finish(self, split: &[u32], parallel: bool) -> io::Result<(SortedOutput, OutputStats)> {
        let file = self
            .file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        let split: HashSet<u32> = split.iter().copied().collect();
        let (ids, counts) = (self.ids, self.counts);
        let mut chunks = self.chunks;
        let mut tally = Tally::default();
        // The header is run 0, whether or not patients follow.
        let mut runs = 1;
        // Each chunk is sorted on its own (unstable: no scratch copy; ids
        // are unique, the patient number settles any tie all the same) and
        // the chunks are merged as the output is written.
        let sort = |chunks: &mut [Vec<Entry>]| {
            for chunk in chunks {
                chunk.retain(|e| !(e.pass == 1 && split.contains(&e.pid)));
                chunk.sort_unstable_by(|a, b| a.id(&ids).cmp(b.id(&ids)).then(a.pid.cmp(&b.pid)));
            }
        };
        if parallel && chunks.len() > 1 {
            let half = chunks.len() / 2;
            let (first, second) = chunks.split_at_mut(half);
            std::thread::scope(|scope| {
                scope.spawn(|| sort(second));
                sort(first);
            });
        } else {
            sort(&mut chunks);
        }
        for chunk in &chunks {
            for e in chunk.iter() {
                runs = runs.max(e.run as usize + 1);
                tally.patient(e.counts(&counts));
            }
        }
        let stats = tally.stats();
        drop(counts);
        chunks.retain(|chunk| !chunk.is_empty());
        Ok((
            SortedOutput {
                file,
                header: self.header,
                chunks,
                ids,
                runs,
                written: self.written,
                parallel,
            },
            stats,
        ))
    }
}

/// The counts of [`OutputStats`] kept in small arrays while the patients
/// are counted (a map update per finding cost more than the sort).
#[derive(Default)]
struct Tally {
    patients: u64,
    /// Findings by kind and severity.
    findings: [[u64; SEVERITIES]; KINDS],
    /// Patients by their worst finding's severity.
    worst: [u64; SEVERITIES],
}

/// Number of [`Severity`] values.
const SEVERITIES: usize = Severity::DESCENDING.len();
/// Number of [`FindingKind`] values.
const KINDS: usize = FindingKind::ALL.len();

impl Tally {
    fn patient(&mut self, counts: &[(FindingKind, Severity)]) {
        self.patients += 1;
        if let Some(worst) = counts.iter().map(|(_, s)| *s).max() {
            self.worst[worst as usize] += 1;
        }
        for (kind, severity) in counts {
            self.findings[*kind as usize][*severity as usize] += 1;
        }
    }

    fn stats(&self) -> OutputStats {
        let mut stats = OutputStats {
            patients_with_findings: self.patients,
            ..OutputStats::default()
        };
        for severity in Severity::DESCENDING {
            let worst = self.worst[severity as usize];
            if worst > 0 {
                stats.by_worst.insert(severity, worst);
            }
        }
        for kind in FindingKind::ALL {
            for severity in Severity::DESCENDING {
                let n = self.findings[kind as usize][severity as usize];
                if n > 0 {
                    *stats.by_kind.entry(kind).or_default() += n;
                    *stats.by_severity.entry(severity).or_default() += n;
                    stats.findings += n;
                }
            }
        }
        stats
    }
}

/// Rendered findings in patient-id order, ready to be written out.
pub struct SortedOutput {
    file: File,
    /// Length of the header's frames at the start of the file.
    header: u64,
    /// The kept patients, each chunk sorted by id.
    chunks: Vec<Vec<Entry>>,
    /// The patients' ids (see [`Entry::id`]).
    ids: Vec<u8>,
    /// Runs of patients written in id order (see [`Range::run`]).
    runs: usize,
    /// Length of the file.
    written: u64,
    /// Whether the output may be put together on two threads.
    parallel: bool,
}

impl SortedOutput {
    /// The stretches of the file to copy, in order: the header, then the
    /// patients in id order, adjacent ones joined.
    fn ranges(&self) -> InIdOrder<'_> {
        let heads = self
            .chunks
            .iter()
            .enumerate()
            .filter_map(|(chunk, entries)| {
                let e = entries.first()?;
                Some(Reverse((e.id(&self.ids), e.pid, chunk, 0)))
            })
            .collect();
        InIdOrder {
            chunks: &self.chunks,
            ids: &self.ids,
            heads,
            pending: Some(Range {
                offset: 0,
                len: self.header,
                run: 0,
            }),
        }
    }

    /// Writes the output to `target` atomically (a temporary file beside
    /// it, renamed onto it at the end), putting the text of the frames
    /// together with `pieces`.
    pub fn persist(self, target: &Path, pieces: &[Arc<[u8]>]) -> io::Result<()> {
        let out = self.copy_runs(AtomicFile::create(target)?, pieces)?;
        out.commit()
    }

    /// Writes the output to `out`, in patient-id order, putting the text of
    /// the frames together with `pieces`.
    pub fn write_to<W: Write>(self, out: &mut W, pieces: &[Arc<[u8]>]) -> io::Result<()> {
        self.copy_runs(out, pieces).map(drop)
    }

    /// Writes the ranges to `out` in order, expanded. With two threads
    /// one reads the spool while the other expands and writes: at the end
    /// of a run nothing else is left to do, and the two halves cost about
    /// the same.
    fn copy_runs<W: Write>(&self, out: W, pieces: &[Arc<[u8]>]) -> io::Result<W> {
        let mut out = Expand::new(out, pieces);
        if !self.parallel {
            self.gather(&mut |block| {
                out.feed(block)?;
                block.clear();
                Ok(())
            })?;
            return out.finish();
        }
        let (full, blocks) = mpsc::sync_channel::<Vec<u8>>(BLOCKS_AHEAD);
        let (back, empties) = mpsc::sync_channel::<Vec<u8>>(BLOCKS_AHEAD + 1);
        std::thread::scope(|scope| {
            let gatherer = scope.spawn(move || {
                self.gather(&mut |block| {
                    let empty = empties.try_recv().unwrap_or_default();
                    full.send(std::mem::replace(block, empty))
                        .map_err(|_| io::Error::other("the output writer stopped"))
                })
            });
            let fed = blocks.iter().try_for_each(|mut block| {
                out.feed(&block)?;
                block.clear();
                // When enough wait already the block is just freed.
                let _ = back.try_send(block);
                io::Result::Ok(())
            });
            // A failed write stops the reading thread at its next block.
            drop(blocks);
            let gathered = gatherer
                .join()
                .map_err(|_| io::Error::other("the output spool's reading thread panicked"))?;
            fed.and(gathered)
        })?;
        out.finish()
    }

    /// Reads the ranges in order and hands their frames to `emit` in
    /// blocks of about [`GATHER_BELOW`] bytes, each to be emptied by it.
    /// Short ranges (a patient or a few, when patients came out of id
    /// order) are gathered: one read per patient cost a system call each.
    /// They are read through a window per run ([`Windows`]), or one
    /// positioned read each when the runs are too many to give each a
    /// window. Long ranges are read a block at a time.
    fn gather(&self, emit: &mut dyn FnMut(&mut Vec<u8>) -> io::Result<()>) -> io::Result<()> {
        let short = || {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the output spool is shorter than written",
            )
        };
        let or_short = |e: io::Error| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                short()
            } else {
                e
            }
        };
        let mut emit = |block: &mut Vec<u8>| match block.is_empty() {
            true => Ok(()),
            false => emit(block),
        };
        let mut gathered: Vec<u8> = Vec::new();
        let mut windows = Windows::new(self.runs);
        for Range { offset, len, run } in self.ranges() {
            if offset + len > self.written {
                return Err(short());
            }
            if len < GATHER_BELOW {
                let read = match &mut windows {
                    Some(windows) => {
                        windows.read(&self.file, run, offset, len, self.written, &mut gathered)
                    }
                    None => {
                        let at = gathered.len();
                        gathered.resize(at + len as usize, 0);
                        read_exact_at(&self.file, &mut gathered[at..], offset)
                    }
                };
                read.map_err(or_short)?;
                if gathered.len() as u64 >= GATHER_BELOW {
                    emit(&mut gathered)?;
                }
                continue;
            }
            emit(&mut gathered)?;
            let mut at = offset;
            while at < offset + len {
                let n = (offset + len - at).min(GATHER_BELOW);
                gathered.resize(n as usize, 0);
                read_exact_at(&self.file, &mut gathered, at).map_err(or_short)?;
                emit(&mut gathered)?;
                at += n;
            }
        }
        emit(&mut gathered)
    }
}

/// Blocks read from the spool ahead of the one being expanded.
const BLOCKS_AHEAD: usize = 4;

/// A chunk's next entry in [`InIdOrder`]: id, patient number, chunk, place.
type Head<'a> = (&'a [u8], u32, usize, usize);

/// The ranges of a [`SortedOutput`] in id order: the chunks' sorted
/// entries merged through a heap of each chunk's next entry.
struct InIdOrder<'a> {
    chunks: &'a [Vec<Entry>],
    ids: &'a [u8],
    heads: BinaryHeap<Reverse<Head<'a>>>,
    /// The range being extended by adjacent patients.
    pending: Option<Range>,
}

impl Iterator for InIdOrder<'_> {
    type Item = Range;

    fn next(&mut self) -> Option<Range> {
        while let Some(Reverse((_, _, chunk, at))) = self.heads.pop() {
            let entries = &self.chunks[chunk];
            if let Some(e) = entries.get(at + 1) {
                self.heads
                    .push(Reverse((e.id(self.ids), e.pid, chunk, at + 1)));
            }
            let e = &entries[at];
            match &mut self.pending {
                Some(range) if range.offset + range.len == e.offset => range.len += e.len,
                pending => {
                    let next = Range {
                        offset: e.offset,
                        len: e.len,
                        run: e.run,
                    };
                    if let Some(done) = pending.replace(next) {
                        return Some(done);
                    }
                }
            }
        }
        self.pending.take()
    }
}

/// Entries per chunk of the spool's index.
const CHUNK: usize = 1 << 16;
/// Ranges shorter than this are gathered in memory (and expanded this
/// many bytes at a time); longer ones are read this many bytes at a time.
const GATHER_BELOW: u64 = 256 * 1024;
/// Memory for the windows of all runs together.
const WINDOWS_BUDGET: usize = 16 << 20;
/// The smallest window worth having: with more runs than fit this size in
/// [`WINDOWS_BUDGET`], each range is read on its own.
const MIN_WINDOW: usize = 16 << 10;
/// The largest window. Small enough that few runs (a short input) do not
/// take memory they do not need: every fresh page costs a page fault, and
/// the spool holds a sixth of the output (see [`super::frames`]).
const MAX_WINDOW: usize = 64 << 10;

/// A window of the spool per run, each refilled from where a range outside
/// it starts. A run's patients are copied out front to back, so one read
/// fills a window with the next many of them.
struct Windows {
    size: usize,
    /// Each run's window: where it starts in the file, and its bytes.
    of_run: Vec<(u64, Vec<u8>)>,
}

impl Windows {
    /// Windows for `runs` runs, if they are few enough to be worth one each.
    fn new(runs: usize) -> Option<Self> {
        let size = (WINDOWS_BUDGET / runs.max(1)).min(MAX_WINDOW);
        (size >= MIN_WINDOW).then(|| Windows {
            size,
            of_run: (0..runs).map(|_| (0, Vec::new())).collect(),
        })
    }

    /// Appends the `len` bytes at `offset` of `file` (of `file_len` bytes)
    /// to `out`, through the window of `run`.
    fn read(
        &mut self,
        file: &File,
        run: u32,
        offset: u64,
        len: u64,
        file_len: u64,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let (start, bytes) = &mut self.of_run[run as usize];
        let held = offset >= *start && offset + len <= *start + bytes.len() as u64;
        if !held {
            let room = (self.size as u64)
                .max(len)
                .min(file_len.saturating_sub(offset));
            bytes.resize(room as usize, 0);
            read_exact_at(file, bytes, offset)?;
            *start = offset;
        }
        let from = (offset - *start) as usize;
        let piece = bytes.get(from..from + len as usize).ok_or_else(|| {
            io::Error::new(io::ErrorKind::UnexpectedEof, "a range past the window")
        })?;
        out.extend_from_slice(piece);
        Ok(())
    }
}

/// Reads `buf.len()` bytes of `file` from `offset`, without moving its
/// position.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Reads `buf.len()` bytes of `file` from `offset`.
#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(pid: u32, id: &str, pass: u8, text: &str) -> RenderedPatients {
        let mut frames = Frames::default();
        frames.text(text.as_bytes());
        let bytes = frames.into_bytes();
        RenderedPatients {
            patients: vec![PatientOutput {
                pid,
                id: id.into(),
                pass,
                len: bytes.len(),
                counts: vec![(FindingKind::Interaction, Severity::Major)],
            }],
            bytes,
        }
    }

    /// Files left in `dir` other than `keep`.
    fn leftovers(dir: &Path, keep: &str) -> Vec<String> {
        std::fs::read_dir(dir)
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name != keep)
            .collect()
    }

    fn persisted(pushes: Vec<RenderedPatients>, split: &[u32]) -> (String, Vec<String>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.csv");
        let mut spool = Spool::beside(&target, b"h\n").expect("spool");
        for p in pushes {
            spool.push(p).expect("push");
        }
        let (output, _) = spool.finish(split, false).expect("finish");
        output.persist(&target, &[]).expect("persist");
        let text = std::fs::read_to_string(&target).expect("read output");
        (text, leftovers(dir.path(), "out.csv"))
    }

    #[test]
    fn the_spool_has_no_name_and_the_target_appears_only_at_the_end() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.csv");
        let mut spool = Spool::beside(&target, b"h\n").expect("spool");
        spool.push(patient(0, "A", 1, "a\n")).expect("push");
        spool.push(patient(1, "B", 1, "b\n")).expect("push");
        assert!(
            leftovers(dir.path(), "out.csv").is_empty(),
            "an anonymous spool: nothing to leave behind if the run is killed"
        );
        assert!(
            !target.exists(),
            "nothing under the target name before the end"
        );
        let (output, stats) = spool.finish(&[], true).expect("finish");
        output.persist(&target, &[]).expect("persist");
        assert_eq!(std::fs::read_to_string(&target).expect("read"), "h\na\nb\n");
        assert!(leftovers(dir.path(), "out.csv").is_empty());
        assert_eq!(stats.findings, 2);
    }

    #[test]
    fn pieces_shared_by_patients_are_written_out_where_each_refers_to_them() {
        let pieces: Vec<Arc<[u8]>> = vec![
            Arc::from(&b"<shared finding, rendered once and longer than a frame>"[..]),
            Arc::from(&b"<another>"[..]),
        ];
        let mut spool = Spool::new(b"header\n").expect("spool");
        let mut expected = std::collections::BTreeMap::new();
        for (pid, id) in ["C", "A", "D", "B"].iter().enumerate() {
            let mut frames = Frames::default();
            let mut text = String::new();
            for k in 0..=pid {
                frames.text(format!("{id},").as_bytes());
                frames.piece((k % 2) as u32);
                frames.text(b",line\n");
                text.push_str(&format!(
                    "{id},{},line\n",
                    String::from_utf8_lossy(&pieces[k % 2])
                ));
            }
            expected.insert(*id, text);
            let bytes = frames.into_bytes();
            spool
                .push(RenderedPatients {
                    patients: vec![PatientOutput {
                        pid: pid as u32,
                        id: (*id).into(),
                        pass: 1,
                        len: bytes.len(),
                        counts: vec![(FindingKind::Interaction, Severity::Major)],
                    }],
                    bytes,
                })
                .expect("push");
        }
        let (output, _) = spool.finish(&[], true).expect("finish");
        let mut out = Vec::new();
        output.write_to(&mut out, &pieces).expect("write");
        let want: String = std::iter::once("header\n".to_owned())
            .chain(expected.into_values())
            .collect();
        assert_eq!(String::from_utf8_lossy(&out), want);
    }

    #[test]
    fn patients_out_of_order_are_copied_out_sorted() {
        let (text, left) = persisted(
            vec![
                patient(0, "C", 1, "c\n"),
                patient(1, "A", 1, "a\n"),
                patient(2, "B", 1, "b\n"),
            ],
            &[],
        );
        assert_eq!(text, "h\na\nb\nc\n");
        assert!(left.is_empty(), "spool and copy are both gone: {left:?}");
    }

    #[test]
    fn long_and_short_runs_out_of_order_come_out_sorted_both_ways() {
        // Long runs go through the kernel, short ones through the gather
        // buffer, which fills past its size too; every byte must land in
        // order whichever way it went, to a file and to a writer.
        let long = |c: char| format!("{}\n", c.to_string().repeat(GATHER_BELOW as usize + 10));
        let short = |c: char| format!("{c}\n");
        let mut specs = vec![
            (0, "E".to_owned(), long('e')),
            (1, "A".to_owned(), short('a')),
        ];
        for i in 0..400u32 {
            // 400 patients of 1 KB: more than one gather buffer in a row.
            specs.push((2 + i, format!("C{i:03}"), format!("{}\n", "c".repeat(1023))));
        }
        specs.push((500, "D".to_owned(), long('d')));
        specs.push((501, "B".to_owned(), short('b')));
        let pushes = || {
            specs
                .iter()
                .map(|(pid, id, text)| patient(*pid, id, 1, text))
        };
        let mut expected = String::from("h\na\nb\n");
        expected.extend(std::iter::repeat_n(format!("{}\n", "c".repeat(1023)), 400));
        expected.push_str(&long('d'));
        expected.push_str(&long('e'));
        let mut spool = Spool::new(b"h\n").expect("spool");
        for p in pushes() {
            spool.push(p).expect("push");
        }
        let mut out = Vec::new();
        let (output, _) = spool.finish(&[], true).expect("finish");
        output.write_to(&mut out, &[]).expect("write");
        assert!(out == expected.as_bytes(), "written output differs");
        let (text, left) = persisted(pushes().collect(), &[]);
        assert!(text == expected, "persisted output differs");
        assert!(left.is_empty(), "spool and copy are both gone: {left:?}");
    }

    /// A writer that fails once `room` bytes were written.
    struct FailsAfter {
        room: usize,
    }

    impl Write for FailsAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.room {
                return Err(io::Error::other("disk full"));
            }
            self.room -= buf.len();
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_ends_the_copy_with_its_error_both_ways() {
        // Many blocks' worth of patients, so the reading side is still
        // busy when the writing side fails.
        for parallel in [true, false] {
            let mut spool = Spool::new(b"h\n").expect("spool");
            for i in 0..4000u32 {
                let text = format!("{}\n", "x".repeat(1000));
                spool
                    .push(patient(i, &format!("P{i:05}"), 1, &text))
                    .expect("push");
            }
            let (output, _) = spool.finish(&[], parallel).expect("finish");
            let err = output
                .write_to(&mut FailsAfter { room: 300_000 }, &[])
                .expect_err("the writer fails");
            assert_eq!(err.to_string(), "disk full", "parallel: {parallel}");
        }
    }

    #[test]
    fn runs_too_many_for_a_window_each_are_read_patient_by_patient() {
        // Patients in descending id order: each one a run of its own.
        let descending = |n: u32| {
            let mut spool = Spool::new(b"h\n").expect("spool");
            for i in (0..n).rev() {
                spool
                    .push(patient(n - i, &format!("P{i:05}"), 1, &format!("{i}\n")))
                    .expect("push");
            }
            let (output, _) = spool.finish(&[], true).expect("finish");
            let runs = output.ranges().map(|r| r.run).max().map_or(0, |r| r + 1);
            assert_eq!(runs as usize, output.runs);
            let mut out = Vec::new();
            output.write_to(&mut out, &[]).expect("write");
            (runs as usize, out)
        };
        for n in [40, 2000] {
            let (runs, out) = descending(n);
            assert_eq!(runs, n as usize);
            assert_eq!(Windows::new(runs).is_some(), n == 40);
            let expected: String = std::iter::once("h\n".to_owned())
                .chain((0..n).map(|i| format!("{i}\n")))
                .collect();
            assert!(out == expected.as_bytes(), "{n} runs: output differs");
        }
    }

    #[test]
    fn a_patient_checked_again_keeps_only_its_second_result() {
        let (text, left) = persisted(
            vec![
                patient(0, "A", 1, "a-first\n"),
                patient(1, "B", 1, "b\n"),
                patient(0, "A", 2, "a-all-rows\n"),
            ],
            &[0],
        );
        assert_eq!(text, "h\na-all-rows\nb\n");
        assert!(left.is_empty());
        // The first result is left out of the output.
        let mut spool = Spool::new(b"h\n").expect("spool");
        spool.push(patient(0, "A", 1, "a-first\n")).expect("push");
        spool.push(patient(0, "A", 2, "a-all\n")).expect("push");
        let (output, _) = spool.finish(&[0], true).expect("finish");
        let mut out = Vec::new();
        output.write_to(&mut out, &[]).expect("write");
        assert_eq!(out, b"h\na-all\n");
    }

    #[test]
    fn a_run_that_never_finishes_leaves_no_file_behind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.csv");
        let mut spool = Spool::beside(&target, b"h\n").expect("spool");
        spool.push(patient(0, "A", 1, "a\n")).expect("push");
        drop(spool);
        assert!(!target.exists());
        assert!(leftovers(dir.path(), "out.csv").is_empty());
    }

    #[test]
    fn patients_without_findings_are_not_written() {
        let mut spool = Spool::new(b"").expect("spool");
        let mut quiet = patient(0, "A", 1, "");
        quiet.patients[0].counts.clear();
        spool.push(quiet).expect("push");
        spool.push(patient(1, "B", 1, "b\n")).expect("push");
        let (output, stats) = spool.finish(&[], true).expect("finish");
        let mut out = Vec::new();
        output.write_to(&mut out, &[]).expect("write");
        assert_eq!(out, b"b\n");
        assert_eq!(stats.patients_with_findings, 1);
    }

    #[test]
    fn patients_rendered_together_are_sorted_apart() {
        let mut spool = Spool::new(b"h\n").expect("spool");
        let mut both = patient(0, "B", 1, "b1\nb2\n");
        let a = patient(1, "A", 1, "a\n");
        both.bytes.extend_from_slice(&a.bytes);
        both.patients.extend(a.patients);
        spool.push(both).expect("push");
        spool.push(patient(2, "C", 1, "c\n")).expect("push");
        let (output, stats) = spool.finish(&[], true).expect("finish");
        let mut out = Vec::new();
        output.write_to(&mut out, &[]).expect("write");
        assert_eq!(String::from_utf8_lossy(&out), "h\na\nb1\nb2\nc\n");
        assert_eq!(stats.patients_with_findings, 3);
    }

    #[test]
    fn counts_are_each_kept_patients_own() {
        let mut spool = Spool::new(b"h\n").expect("spool");
        let mut a = patient(0, "A", 1, "a1\na2\n");
        a.patients[0].counts = vec![
            (FindingKind::BoxedWarning, Severity::Major),
            (FindingKind::Unrecognized, Severity::Info),
        ];
        spool.push(a).expect("push");
        let mut b = patient(1, "B", 1, "b\n");
        b.patients[0].counts = vec![(FindingKind::Dose, Severity::Moderate)];
        spool.push(b).expect("push");
        // B's first result is dropped for its second: only the second counts.
        let mut again = patient(1, "B", 2, "b1\nb2\nb3\n");
        again.patients[0].counts = vec![
            (FindingKind::Interaction, Severity::Contraindicated),
            (FindingKind::Interaction, Severity::Minor),
            (FindingKind::Dose, Severity::Moderate),
        ];
        spool.push(again).expect("push");
        let (output, stats) = spool.finish(&[1], true).expect("finish");
        let mut out = Vec::new();
        output.write_to(&mut out, &[]).expect("write");
        assert_eq!(String::from_utf8_lossy(&out), "h\na1\na2\nb1\nb2\nb3\n");
        assert_eq!(stats.patients_with_findings, 2);
        assert_eq!(stats.findings, 5);
        assert_eq!(
            stats.by_worst,
            BTreeMap::from([(Severity::Major, 1), (Severity::Contraindicated, 1)])
        );
        assert_eq!(
            stats.by_kind,
            BTreeMap::from([
                (FindingKind::BoxedWarning, 1),
                (FindingKind::Interaction, 2),
                (FindingKind::Dose, 1),
                (FindingKind::Unrecognized, 1),
            ])
        );
        assert_eq!(
            stats.by_severity,
            BTreeMap::from([
                (Severity::Info, 1),
                (Severity::Minor, 1),
                (Severity::Moderate, 1),
                (Severity::Major, 1),
                (Severity::Contraindicated, 1),
            ])
        );
    }

    #[test]
    fn patients_over_several_chunks_come_out_merged_in_id_order() {
        // Ids written in a scrambled order over more than two chunks; every
        // seventh patient is checked again later and keeps only that result.
        let n: u32 = (CHUNK * 2 + CHUNK / 2) as u32;
        let scrambled = |i: u32| (i.wrapping_mul(7919)) % n;
        let mut spool = Spool::new(b"h\n").expect("spool");
        let mut split = Vec::new();
        for i in 0..n {
            let pid = scrambled(i);
            spool
                .push(patient(pid, &format!("P{pid:07}"), 1, &format!("{pid}\n")))
                .expect("push");
            if pid % 7 == 0 {
                split.push(pid);
            }
        }
        for &pid in &split {
            let again = format!("{pid} again\n");
            spool
                .push(patient(pid, &format!("P{pid:07}"), 2, &again))
                .expect("push");
        }
        assert_eq!(spool.chunks.len(), 3);
        let (output, stats) = spool.finish(&split, true).expect("finish");
        let mut out = Vec::new();
        output.write_to(&mut out, &[]).expect("write");
        let expected: String = std::iter::once("h\n".to_string())
            .chain((0..n).map(|pid| {
                if pid % 7 == 0 {
                    format!("{pid} again\n")
                } else {
                    format!("{pid}\n")
                }
            }))
            .collect();
        assert!(String::from_utf8_lossy(&out) == expected);
        assert_eq!(stats.patients_with_findings, u64::from(n));
    }

    #[test]
    fn a_spool_without_patients_gives_the_header_alone() {
        let spool = Spool::new(b"h\n").expect("spool");
        let (output, stats) = spool.finish(&[], true).expect("finish");
        let mut out = Vec::new();
        output.write_to(&mut out, &[]).expect("write");
        assert_eq!(out, b"h\n");
        assert_eq!(stats, OutputStats::default());
    }
}
