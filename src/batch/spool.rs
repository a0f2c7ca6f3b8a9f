//! Rendered findings wait in an anonymous temporary file, with a small index
//! in memory (patient id, offset, length, counts), until the run ends; they
//! are then copied out in patient-id order. Memory therefore grows with the
//! number of patients that have findings, not with the size of the output,
//! and a file whose patients arrive sorted is copied without a single seek.

use crate::clinical::Severity;
use crate::engine::FindingKind;
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::group::BatchFinding;

/// One patient's rendered findings and what they count.
#[derive(Debug)]
pub struct PatientOutput {
    /// Dense patient number.
    pub pid: u32,
    /// Patient id as written.
    pub id: Box<str>,
    /// Which read the group came from.
    pub pass: u8,
    /// Rendered rows.
    pub bytes: Vec<u8>,
    /// (kind, severity) of each finding.
    pub counts: Vec<(FindingKind, Severity)>,
}

impl PatientOutput {
    /// Wraps a rendered patient.
    pub fn new(
        pid: u32,
        id: Box<str>,
        pass: u8,
        bytes: Vec<u8>,
        findings: &[BatchFinding],
    ) -> Self {
        PatientOutput {
            pid,
            id,
            pass,
            bytes,
            counts: findings
                .iter()
                .map(|f| (f.finding.kind, f.finding.severity))
                .collect(),
        }
    }
}

struct Entry {
    id: Box<str>,
    pid: u32,
    pass: u8,
    offset: u64,
    len: u64,
    counts: Vec<(FindingKind, Severity)>,
}

/// The spool of rendered patients.
pub struct Spool {
    file: BufWriter<File>,
    written: u64,
    entries: Vec<Entry>,
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
    /// An empty spool in a new anonymous temporary file.
    pub fn new() -> io::Result<Self> {
        Ok(Spool {
            file: BufWriter::with_capacity(1 << 16, tempfile::tempfile()?),
            written: 0,
            entries: Vec::new(),
        })
    }

    /// Stores a patient's rendered findings (patients without any are not
    /// stored).
    pub fn push(&mut self, out: PatientOutput) -> io::Result<()> {
        if out.counts.is_empty() {
            return Ok(());
        }
        self.file.write_all(&out.bytes)?;
        let len = out.bytes.len() as u64;
        self.entries.push(Entry {
            id: out.id,
            pid: out.pid,
            pass: out.pass,
            offset: self.written,
            len,
            counts: out.counts,
        });
        self.written += len;
        Ok(())
    }

    /// Drops the first-read results of patients gathered again in the
    /// second read (`split`), sorts by patient id and counts.
    pub fn finish(self, split: &[u32]) -> io::Result<(SortedOutput, OutputStats)> {
        let file = self
            .file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        let split: HashSet<u32> = split.iter().copied().collect();
        let mut entries = self.entries;
        entries.retain(|e| !(e.pass == 1 && split.contains(&e.pid)));
        entries.sort_by(|a, b| a.id.as_bytes().cmp(b.id.as_bytes()));
        let mut stats = OutputStats::default();
        for e in &entries {
            stats.patients_with_findings += 1;
            if let Some(worst) = e.counts.iter().map(|(_, s)| *s).max() {
                *stats.by_worst.entry(worst).or_default() += 1;
            }
            for (kind, severity) in &e.counts {
                *stats.by_kind.entry(*kind).or_default() += 1;
                *stats.by_severity.entry(*severity).or_default() += 1;
                stats.findings += 1;
            }
        }
        Ok((
            SortedOutput {
                file,
                ranges: entries.iter().map(|e| (e.offset, e.len)).collect(),
            },
            stats,
        ))
    }
}

/// Rendered findings in patient-id order, ready to be copied out.
pub struct SortedOutput {
    file: File,
    ranges: Vec<(u64, u64)>,
}

impl SortedOutput {
    /// Copies every patient's findings to `out`, in patient-id order.
    pub fn write_to(self, out: &mut dyn Write) -> io::Result<()> {
        let mut file = self.file;
        file.seek(SeekFrom::Start(0))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut pos = 0u64;
        for (offset, len) in self.ranges {
            if offset != pos {
                reader.seek(SeekFrom::Start(offset))?;
            }
            let copied = io::copy(&mut (&mut reader).take(len), out)?;
            if copied != len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the output spool is shorter than written",
                ));
            }
            pos = offset + len;
        }
        Ok(())
    }
}
