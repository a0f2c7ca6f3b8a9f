//! CSV renderers of `crampcheck batch`: one row per finding (patient id,
//! proposed drug, kind, severity, action, drugs, title, sources and the input
//! lines behind it) and the rejects file (line, reason, column, detail).

use crate::batch::frames::{Frames, MAX_PIECE};
use crate::batch::group::PatientFindings;
use crate::batch::reader::Reject;
use crate::engine::Finding;
use crate::kb::KbIndex;
use foldhash::HashMap;
use std::borrow::Cow;
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

/// The fields of shared findings, rendered once.
#[derive(Debug, Default)]
struct Cache {
    /// By the finding's address: the finding (kept alive so that its
    /// address stays its own) and the index of its piece.
    index: HashMap<usize, (Arc<Finding>, u32)>,
    /// The rendered fields, in the order first met.
    pieces: Vec<Arc<[u8]>>,
}

/// A finding's fields from kind to rule_ids: a piece rendered before, or
/// the text of a finding no other patient shares.
enum Middle {
    Piece(u32),
    Text(Vec<u8>),
}

/// Renders findings as CSV rows. The fields that come from the finding
/// itself (kind to rule_ids) are rendered once per shared finding and
/// referred to as a piece for every patient who has it: a batch repeats a
/// few hundred distinct findings over millions of rows.
#[derive(Debug, Default)]
pub struct CsvRenderer {
    cache: RwLock<Cache>,
}

impl CsvRenderer {
    /// Appends one CSV row per finding of a patient.
    pub fn render_patient(
        &self,
        kb: &KbIndex,
        p: &PatientFindings<'_>,
        out: &mut Frames,
    ) -> io::Result<()> {
        let mut number = itoa::Buffer::new();
        let patient_id = csv_field(p.patient_id);
        // The proposed drug, as written, of the finding before: most of a
        // patient's findings share it.
        let mut proposed: Option<(&Arc<str>, Cow<'_, [u8]>)> = None;
        for bf in p.findings {
            out.text(&patient_id);
            out.text(b",");
            if proposed
                .as_ref()
                .is_none_or(|(last, _)| !Arc::ptr_eq(last, &bf.proposed))
            {
                proposed = Some((&bf.proposed, csv_field(&bf.proposed)));
            }
            if let Some((_, field)) = &proposed {
                out.text(field);
            }
            out.text(b",");
            match self.middle(kb, &bf.finding)? {
                Middle::Piece(index) => out.piece(index),
                Middle::Text(text) => out.text(&text),
            }
            out.text(b",");
            for (i, line) in bf.lines.iter().enumerate() {
                if i > 0 {
                    out.text(b";");
                }
                out.text(number.format(*line).as_bytes());
            }
            out.text(b"\n");
        }
        Ok(())
    }

    /// The pieces the rendered frames refer to, for writing the output.
    pub fn into_pieces(self) -> Vec<Arc<[u8]>> {
        self.cache
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .pieces
    }

    /// The `kind` to `rule_ids` fields of a finding, a piece when the
    /// finding is shared (held elsewhere too, so its address stays its own).
    fn middle(&self, kb: &KbIndex, f: &Arc<Finding>) -> io::Result<Middle> {
        let key = Arc::as_ptr(f) as usize;
        let shared = Arc::strong_count(f) > 1;
        if shared
            && let Some((_, index)) = self
                .cache
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .index
                .get(&key)
        {
            return Ok(Middle::Piece(*index));
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
        if !shared {
            return Ok(Middle::Text(bytes));
        }
        let mut cache = self.cache.write().unwrap_or_else(PoisonError::into_inner);
        let cache = &mut *cache;
        // Another worker may have rendered it meanwhile.
        if let Some((_, index)) = cache.index.get(&key) {
            return Ok(Middle::Piece(*index));
        }
        let Some(index) = u32::try_from(cache.pieces.len())
            .ok()
            .filter(|i| *i <= MAX_PIECE)
        else {
            return Ok(Middle::Text(bytes));
        };
        cache.pieces.push(bytes.into());
        cache.index.insert(key, (Arc::clone(f), index));
        Ok(Middle::Piece(index))
    }
}

/// One field as written, quoted as the csv crate quotes by default: only
/// when it holds a comma, a quote or a line break (quotes inside are
/// doubled).
fn csv_field(field: &str) -> Cow<'_, [u8]> {
    let bytes = field.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        return Cow::Borrowed(bytes);
    }
    let mut quoted = Vec::with_capacity(bytes.len() + 2);
    quoted.push(b'"');
    for &b in bytes {
        if b == b'"' {
            quoted.push(b'"');
        }
        quoted.push(b);
    }
    quoted.push(b'"');
    Cow::Owned(quoted)
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
