//! CSV renderers of `crampcheck batch`: one row per finding (patient id,
//! proposed drug, kind, severity, action, drugs, title, sources and the input
//! lines behind it) and the rejects file (line, reason, column, detail).

use crate::batch::group::PatientFindings;
use crate::batch::reader::Reject;
use crate::kb::KbIndex;
use std::io::{self, Write};

/// Column names of the findings CSV.
pub const FINDINGS_HEADER: [&str; 13] = [
    "patient_id",
    "proposed",
    "kind",
    "severity",
    "action",
    "evidence",
    "drugs",
    "condition",
    "title",
    "basis",
    "sources",
    "rule_ids",
    "lines",
];

/// Column names of the rejects CSV.
pub const REJECTS_HEADER: [&str; 4] = ["line", "reason", "column", "detail"];

fn to_io(err: csv::Error) -> io::Error {
    io::Error::other(err)
}

/// The findings header line.
pub fn findings_header() -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(FINDINGS_HEADER).map_err(to_io)?;
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Appends one CSV row per finding of a patient.
pub fn render_patient(kb: &KbIndex, p: &PatientFindings<'_>, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(&mut *buf);
    for bf in p.findings {
        let f = &bf.finding;
        let sources: Vec<String> = f
            .sources
            .iter()
            .map(|s| {
                let s = &kb.sources[*s as usize];
                format!("{}, {} ({})", s.citation, s.section, s.jurisdiction)
            })
            .collect();
        let lines: Vec<String> = bf.lines.iter().map(u64::to_string).collect();
        w.write_record([
            p.patient_id,
            &bf.proposed,
            f.kind.as_str(),
            f.severity.as_str(),
            f.action.as_str(),
            f.evidence.map_or("", |e| e.as_str()),
            &f.drugs.join(";"),
            f.condition.as_deref().unwrap_or_default(),
            &f.title,
            f.basis.as_deref().unwrap_or_default(),
            &sources.join(" | "),
            &f.rule_ids.join(";"),
            &lines.join(";"),
        ])
        .map_err(to_io)?;
    }
    w.flush()
}

/// Writes rejected rows as CSV, header first.
pub struct RejectsWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> RejectsWriter<W> {
    /// Starts the file with its header.
    pub fn new(out: W) -> io::Result<Self> {
        let mut inner = csv::Writer::from_writer(out);
        inner.write_record(REJECTS_HEADER).map_err(to_io)?;
        Ok(RejectsWriter { inner })
    }

    /// One rejected row.
    pub fn write(&mut self, r: &Reject) -> io::Result<()> {
        self.inner
            .write_record([
                r.line.to_string().as_str(),
                r.reason.as_str(),
                r.column.as_deref().unwrap_or_default(),
                &r.detail,
            ])
            .map_err(to_io)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> io::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))
    }
}
