//! CSV renderers of `crampcheck batch`: one row per finding (patient id,
//! proposed drug, kind, severity, action, drugs, title, sources and the input
//! lines behind it) and the rejects file (line, reason, column, detail).

use crate::batch::group::PatientFindings;
use crate::batch::reader::Reject;
use crate::engine::Finding;
use crate::kb::KbIndex;
use foldhash::HashMap;
use std::io::{self, Write};
use std::sync::{Arc, PoisonError, RwLock};

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

/// A shared finding (kept alive so its address stays its own) and its
/// rendered fields.
type Rendered = (Arc<Finding>, Arc<[u8]>);

/// Renders findings as CSV rows. The fields that come from the finding
/// itself (kind to rule_ids) are rendered once per shared finding and reused
/// for every patient who has it: a batch repeats a few hundred distinct
/// findings over millions of rows.
#[derive(Debug, Default)]
pub struct CsvRenderer {
    cache: RwLock<HashMap<usize, Rendered>>,
}

impl CsvRenderer {
    /// Appends one CSV row per finding of a patient.
    pub fn render_patient(
        &self,
        kb: &KbIndex,
        p: &PatientFindings<'_>,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        let mut number = itoa::Buffer::new();
        for bf in p.findings {
            push_field(buf, p.patient_id);
            buf.push(b',');
            push_field(buf, &bf.proposed);
            buf.push(b',');
            buf.extend_from_slice(&self.middle(kb, &bf.finding)?);
            buf.push(b',');
            for (i, line) in bf.lines.iter().enumerate() {
                if i > 0 {
                    buf.push(b';');
                }
                buf.extend_from_slice(number.format(*line).as_bytes());
            }
            buf.push(b'\n');
        }
        Ok(())
    }

    /// The `kind` to `rule_ids` fields of a finding, cached when the
    /// finding is shared (held elsewhere too, so its address stays its own).
    fn middle(&self, kb: &KbIndex, f: &Arc<Finding>) -> io::Result<Arc<[u8]>> {
        let key = Arc::as_ptr(f) as usize;
        let shared = Arc::strong_count(f) > 1;
        if shared
            && let Some((_, bytes)) = self
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(&key)
        {
            return Ok(Arc::clone(bytes));
        }
        let sources: Vec<String> = f
            .sources
            .iter()
            .map(|s| {
                let s = &kb.sources[*s as usize];
                format!("{}, {} ({})", s.citation, s.section, s.jurisdiction)
            })
            .collect();
        // A small buffer: the default one (8 KB, zeroed) cost more than the
        // record it holds, once for each finding not shared by patients.
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .buffer_capacity(1024)
            .from_writer(Vec::with_capacity(1024));
        w.write_record([
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
        ])
        .map_err(to_io)?;
        let mut bytes = w
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        bytes.pop(); // the record terminator
        let bytes: Arc<[u8]> = bytes.into();
        if shared {
            self.cache
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(key, (Arc::clone(f), Arc::clone(&bytes)));
        }
        Ok(bytes)
    }
}

/// Appends one field, quoted as the csv crate quotes by default: only when
/// it holds a comma, a quote or a line break (quotes inside are doubled).
fn push_field(buf: &mut Vec<u8>, field: &str) {
    let bytes = field.as_bytes();
    if bytes
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        buf.push(b'"');
        for &b in bytes {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(bytes);
    }
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
