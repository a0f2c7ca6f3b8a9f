//! Reading a prescription CSV: opening the input (file, stdin, gzip) while
//! hashing every raw byte, mapping column names onto positions, and turning
//! one record into a validated [`RowFields`] or a [`Reject`] with
//! its reason. Nothing here allocates per row: fields are borrowed from the
//! reused record, and dates are parsed straight from bytes.

use super::BatchError;
use super::records::{self, Fields, Record};
use flate2::bufread::MultiGzDecoder;
use sha2::{Digest, Sha256};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Where the prescription rows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputSource {
    /// Standard input (`-`): read once, so rows are grouped in memory.
    Stdin,
    /// A file; gzip files are recognized by their magic bytes.
    File(PathBuf),
    /// A path that is no regular file (a named pipe, `/dev/stdin`, a shell's
    /// `<(zcat x.gz)`): read once, like standard input.
    Stream(PathBuf),
}

impl InputSource {
    /// `-` means stdin; anything else is a path.
    pub fn from_arg(path: &Path) -> Self {
        if path == Path::new("-") {
            InputSource::Stdin
        } else if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            InputSource::Stream(path.to_path_buf())
        } else {
            InputSource::File(path.to_path_buf())
        }
    }

    /// Whether the input can be read a second time (needed when a patient's
    /// rows turn out to be far apart in the file).
    pub fn rereadable(&self) -> bool {
        matches!(self, InputSource::File(_))
    }

    /// How the input is named in the summary and in errors.
    pub fn label(&self) -> String {
        match self {
            InputSource::Stdin => "-".to_owned(),
            InputSource::File(path) | InputSource::Stream(path) => path.display().to_string(),
        }
    }

    /// Opens the input: raw bytes are hashed as they are read, then
    /// decompressed when they start with the gzip magic number. The record
    /// reader must be given [`Input::take_tap`].
    pub fn open(&self) -> Result<Input, BatchError> {
        self.open_hashed(true)
    }

    /// Opens a file again, for a second read: nothing is hashed.
    pub fn reopen(&self) -> Result<Input, BatchError> {
        self.open_hashed(false)
    }

    fn open_hashed(&self, hash: bool) -> Result<Input, BatchError> {
        let open = |path: &PathBuf| {
            std::fs::File::open(path).map_err(|source| BatchError::Open {
                path: path.clone(),
                source,
            })
        };
        let raw: Box<dyn Read> = match self {
            InputSource::Stdin => Box::new(io::stdin().lock()),
            InputSource::File(path) | InputSource::Stream(path) => Box::new(open(path)?),
        };
        let hasher = match hash {
            true => HashThread::Pending(Vec::new()),
            false => HashThread::Skipped,
        };
        // Small: it only holds the first bytes, to look for the gzip magic
        // number. The record reader's own buffer is larger, so its reads
        // then bypass this one and the bytes are copied once, not twice.
        let mut buffered = BufReader::with_capacity(
            SNIFF_BYTES,
            Hashing {
                inner: raw,
                hasher,
                bytes: 0,
            },
        );
        let head = buffered.fill_buf().map_err(|e| self.read_error(e))?;
        let gzip = head.starts_with(&[0x1f, 0x8b]);
        let hashing = buffered.get_mut();
        let mut tap = None;
        if let HashThread::Pending(head) = &mut hashing.hasher {
            let head = std::mem::take(head);
            let mut hasher = match (gzip, self) {
                // The record reader reads the very bytes to hash: it shares
                // them with the hashing thread as it reads them (the bytes
                // read so far are still in `buffered`, to be read).
                (false, _) => {
                    let (t, end) = records::prefilled_tap(records::BUFFER);
                    let hasher = HashThread::tapped(end);
                    if matches!(hasher, HashThread::Tapped(_)) {
                        tap = Some(t);
                    }
                    hasher
                }
                // It reads decompressed bytes; the raw ones are hashed below
                // the decompressor: a file by a read of its own, a stream
                // by copies of what passes.
                (true, InputSource::File(path)) => HashThread::of_file(open(path)?),
                (true, _) => HashThread::fed(),
            };
            // A hasher that sees what passes through here has missed the
            // bytes read so far.
            if matches!(hasher, HashThread::Fed { .. } | HashThread::Inline(_)) {
                hasher.update(&head);
            }
            hashing.hasher = hasher;
        }
        Ok(Input {
            inner: if gzip {
                Decoded::Gzip(Box::new(MultiGzDecoder::new(buffered)))
            } else {
                Decoded::Plain(buffered)
            },
            tap,
        })
    }

    pub(crate) fn read_error(&self, source: io::Error) -> BatchError {
        BatchError::Read {
            input: self.label(),
            source,
        }
    }
}

/// Capacity of the buffer the input's first bytes are sniffed in; well
/// below the record reader's buffer ([`super::records::BUFFER`]), so that
/// its reads bypass this one.
const SNIFF_BYTES: usize = 16 * 1024;

/// Counts every byte that passes through, and hashes it (or has it hashed).
struct Hashing {
    inner: Box<dyn Read>,
    hasher: HashThread,
    bytes: u64,
}

impl Read for Hashing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// SHA-256 of the raw input, computed on a thread of its own so hashing
/// does not slow the thread that parses rows (it was a tenth of its time).
enum HashThread {
    /// Until the input's first bytes tell whether it is gzip: what passes
    /// is kept, to be hashed once that is known.
    Pending(Vec<u8>),
    /// The record reader shares each buffer it reads with the thread
    /// (uncompressed input): one read of the input, no copy, and the digest
    /// is of exactly the bytes parsed.
    Tapped(std::thread::JoinHandle<(Sha256, u64)>),
    /// A gzip file: the thread reads the raw file through a handle of its
    /// own; the parsing thread neither copies nor sends anything, it only
    /// counts bytes, and the two counts must agree at the end.
    OwnRead(std::thread::JoinHandle<io::Result<(Sha256, u64)>>),
    /// A gzip stream (standard input, a pipe), which can be read once: raw
    /// chunks travel to the thread in buffers that come back to be filled
    /// again.
    Fed {
        chunks: Option<mpsc::SyncSender<Vec<u8>>>,
        spare: mpsc::Receiver<Vec<u8>>,
        worker: std::thread::JoinHandle<Sha256>,
    },
    /// No thread could be started: the parsing thread hashes.
    Inline(Box<Sha256>),
    /// A second read of a file already hashed.
    Skipped,
}

/// Bytes the hashing thread reads at once from its own file handle.
const HASH_CHUNK: usize = 256 * 1024;

impl HashThread {
    fn spawn<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<std::thread::JoinHandle<T>> {
        std::thread::Builder::new()
            .name("crampcheck-sha256".to_owned())
            .spawn(move || {
                super::defer_to_reader();
                work()
            })
    }

    /// Hashes `file` (a second handle on the input) on the thread.
    fn of_file(mut file: std::fs::File) -> Self {
        let worker = Self::spawn(move || {
            let mut hasher = Sha256::new();
            let mut buf = vec![0; HASH_CHUNK];
            let mut total = 0u64;
            loop {
                match file.read(&mut buf) {
                    Ok(0) => return Ok((hasher, total)),
                    Ok(n) => {
                        hasher.update(&buf[..n]);
                        total += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        });
        match worker {
            Ok(worker) => HashThread::OwnRead(worker),
            Err(_) => HashThread::Inline(Box::new(Sha256::new())),
        }
    }

    /// Hashes the chunks a record reader's tap shares with it.
    fn tapped(mut end: records::TapEnd) -> Self {
        let worker = Self::spawn(move || {
            end.make_spares();
            let mut hasher = Sha256::new();
            let mut total = 0u64;
            for chunk in end.chunks {
                let bytes = chunk.buf.get(chunk.range).unwrap_or_default();
                hasher.update(bytes);
                total += bytes.len() as u64;
                // The reader may be done; the buffer is then freed.
                let _ = end.back.send(chunk.buf);
            }
            (hasher, total)
        });
        match worker {
            Ok(worker) => HashThread::Tapped(worker),
            Err(_) => HashThread::Inline(Box::new(Sha256::new())),
        }
    }

    /// Hashes the chunks it is fed.
    fn fed() -> Self {
        let (chunks, todo) = mpsc::sync_channel::<Vec<u8>>(4);
        let (back, spare) = mpsc::channel::<Vec<u8>>();
        let worker = Self::spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in todo {
                hasher.update(&chunk);
                // The reader may be done; the buffer is then freed.
                let _ = back.send(chunk);
            }
            hasher
        });
        match worker {
            Ok(worker) => HashThread::Fed {
                chunks: Some(chunks),
                spare,
                worker,
            },
            Err(_) => HashThread::Inline(Box::new(Sha256::new())),
        }
    }

    /// Bytes the parsing thread has just read.
    fn update(&mut self, bytes: &[u8]) {
        match self {
            HashThread::OwnRead(_) | HashThread::Tapped(_) | HashThread::Skipped => {}
            HashThread::Pending(head) => head.extend_from_slice(bytes),
            HashThread::Inline(hasher) => hasher.update(bytes),
            HashThread::Fed { chunks, spare, .. } => {
                if bytes.is_empty() {
                    return;
                }
                let mut chunk = spare.try_recv().unwrap_or_default();
                chunk.clear();
                chunk.extend_from_slice(bytes);
                let sent = chunks.as_ref().map(|tx| tx.send(chunk));
                if !matches!(sent, Some(Ok(()))) {
                    // The thread is gone (only a panic can do that): stop
                    // sending; `finish` then reports the failure instead of
                    // a wrong digest.
                    *chunks = None;
                }
            }
        }
    }

    /// The digest of the `read` bytes the parsing thread read.
    fn finish(self, read: u64) -> io::Result<Sha256> {
        let failed = || io::Error::other("the hashing thread failed");
        match self {
            HashThread::Inline(hasher) => Ok(*hasher),
            HashThread::Skipped | HashThread::Pending(_) => {
                Err(io::Error::other("this read of the input is not hashed"))
            }
            HashThread::Fed { chunks, worker, .. } => {
                drop(chunks);
                worker.join().map_err(|_| failed())
            }
            HashThread::Tapped(worker) => {
                let (hasher, hashed) = worker.join().map_err(|_| failed())?;
                if hashed != read {
                    return Err(io::Error::other(format!(
                        "{read} bytes were read but {hashed} hashed"
                    )));
                }
                Ok(hasher)
            }
            HashThread::OwnRead(worker) => {
                let (hasher, hashed) = worker.join().map_err(|_| failed())??;
                if hashed != read {
                    return Err(io::Error::other(format!(
                        "the file changed while it was read ({read} bytes read, {hashed} hashed)"
                    )));
                }
                Ok(hasher)
            }
        }
    }
}

enum Decoded {
    Plain(BufReader<Hashing>),
    Gzip(Box<MultiGzDecoder<BufReader<Hashing>>>),
}

/// An opened input: decoded bytes for the record reader; [`Input::finish`]
/// gives the SHA-256 and size of the raw bytes.
pub struct Input {
    inner: Decoded,
    /// For the record reader to share what it reads with the hashing
    /// thread ([`Input::take_tap`]).
    tap: Option<records::Tap>,
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Decoded::Plain(r) => r.read(buf),
            Decoded::Gzip(r) => r.read(buf),
        }
    }
}

impl Input {
    /// The tap through which the record reader must share every byte it
    /// reads, when the input is hashed that way (uncompressed input, first
    /// read); the digest is wrong if it reads without it.
    pub fn take_tap(&mut self) -> Option<records::Tap> {
        self.tap.take()
    }

    /// Reads whatever the record reader left (trailing bytes after a gzip
    /// stream) so the hash covers the whole input, then returns the
    /// lowercase hex SHA-256 and the number of raw bytes.
    pub fn finish(self) -> io::Result<(String, u64)> {
        // A tap never taken ends here, so the hashing thread stops (and the
        // byte counts then disagree) rather than waiting for it forever.
        drop(self.tap);
        let mut buffered = match self.inner {
            Decoded::Plain(r) => r,
            Decoded::Gzip(r) => r.into_inner(),
        };
        io::copy(&mut buffered, &mut io::sink())?;
        let hashing = buffered.into_inner();
        let digest = hashing.hasher.finish(hashing.bytes)?.finalize();
        let mut hex = String::with_capacity(64);
        for byte in digest.iter() {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Ok((hex, hashing.bytes))
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The column names asked for (flags or defaults).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnNames {
    /// Patient id column (required).
    pub patient: String,
    /// Medication text column (required).
    pub drug: String,
    /// Start date column.
    pub start: Option<String>,
    /// Stop date column (empty = ongoing).
    pub stop: Option<String>,
    /// Days' supply column (window = start + days).
    pub days_supply: Option<String>,
    /// Column holding the drug to propose, per row.
    pub propose: Option<String>,
    /// Per-patient context columns in the main file.
    pub context: ContextColumns,
}

/// Names of the patient-context columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextColumns {
    /// eGFR, mL/min/1.73 m².
    pub egfr: Option<String>,
    /// QTc, ms.
    pub qtc: Option<String>,
    /// Age, years.
    pub age: Option<String>,
    /// Potassium, mmol/L.
    pub potassium: Option<String>,
    /// Magnesium, mg/dL.
    pub magnesium: Option<String>,
    /// Conditions, separated by `;` or `|`.
    pub conditions: Option<String>,
}

impl ContextColumns {
    /// Whether any context column was asked for.
    pub fn any(&self) -> bool {
        self.egfr.is_some()
            || self.qtc.is_some()
            || self.age.is_some()
            || self.potassium.is_some()
            || self.magnesium.is_some()
            || self.conditions.is_some()
    }
}

/// A numeric patient-context value and the field of `PatientInput` it fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabField {
    /// eGFR.
    Egfr,
    /// QTc.
    Qtc,
    /// Age.
    Age,
    /// Potassium.
    Potassium,
    /// Magnesium.
    Magnesium,
}

impl LabField {
    /// The flag that names its column.
    pub fn flag(self) -> &'static str {
        match self {
            LabField::Egfr => "--egfr-col",
            LabField::Qtc => "--qtc-col",
            LabField::Age => "--age-col",
            LabField::Potassium => "--potassium-col",
            LabField::Magnesium => "--magnesium-col",
        }
    }

    /// Its name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            LabField::Egfr => "egfr",
            LabField::Qtc => "qtc",
            LabField::Age => "age",
            LabField::Potassium => "potassium",
            LabField::Magnesium => "magnesium",
        }
    }
}

/// Column positions, resolved once from the header.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Number of header fields; a row with another count is ragged.
    pub width: usize,
    /// The header as read (for messages).
    pub header: Vec<String>,
    /// Patient id.
    pub patient: usize,
    /// Medication text.
    pub drug: usize,
    /// Start date.
    pub start: Option<usize>,
    /// Stop date.
    pub stop: Option<usize>,
    /// Days' supply.
    pub days_supply: Option<usize>,
    /// Proposed drug per row.
    pub propose: Option<usize>,
    /// Numeric context columns.
    pub labs: Vec<(LabField, usize)>,
    /// Conditions column.
    pub conditions: Option<usize>,
    /// Header names that occur more than once (first one is used).
    pub duplicates: Vec<String>,
}

/// Finds columns by name, ignoring case and surrounding spaces.
pub struct HeaderMap {
    names: Vec<String>,
    keys: Vec<String>,
}

impl HeaderMap {
    /// Reads the header record (a UTF-8 byte-order mark is already gone).
    pub fn new(record: &impl Fields) -> Self {
        let names: Vec<String> = (0..record.count())
            .filter_map(|i| record.field(i))
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        let keys = names.iter().map(|n| n.trim().to_lowercase()).collect();
        HeaderMap { names, keys }
    }

    /// The first column called `name` (case-insensitive).
    pub fn find(&self, name: &str) -> Option<usize> {
        let key = name.trim().to_lowercase();
        self.keys.iter().position(|k| *k == key)
    }

    /// Like [`HeaderMap::find`] but a missing column is an error listing
    /// the columns found.
    pub fn require(&self, name: &str, input: &str) -> Result<usize, BatchError> {
        self.find(name).ok_or_else(|| BatchError::MissingColumn {
            input: input.to_owned(),
            column: name.to_owned(),
            hint: self.delimiter_hint(),
            // Control characters (a binary file read as CSV) are shown
            // escaped, so the error stays one printable line.
            found: self
                .names
                .iter()
                .map(|n| {
                    n.chars()
                        .flat_map(|c| match c.is_control() {
                            true => c.escape_default().collect::<Vec<_>>(),
                            false => vec![c],
                        })
                        .collect()
                })
                .collect(),
        })
    }

    /// When the header read as one column holds a common delimiter (a
    /// `;` file read with `,`, or `--delimiter` mistyped), which
    /// `--delimiter` would split it; else empty.
    fn delimiter_hint(&self) -> String {
        let [only] = self.names.as_slice() else {
            return String::new();
        };
        [(',', ","), (';', ";"), ('\t', "tab"), ('|', "|")]
            .iter()
            .find(|(c, _)| only.contains(*c))
            .map_or_else(String::new, |(c, flag)| {
                format!(
                    "; the header was read as one column, and it holds `{}`: try --delimiter '{flag}'",
                    c.escape_default()
                )
            })
    }

    /// Header names used more than once.
    pub fn duplicates(&self) -> Vec<String> {
        let mut seen: Vec<&str> = Vec::new();
        let mut dups: Vec<String> = Vec::new();
        for (key, name) in self.keys.iter().zip(&self.names) {
            if seen.contains(&key.as_str()) {
                if !dups.iter().any(|d| d.trim().eq_ignore_ascii_case(key)) {
                    dups.push(name.trim().to_owned());
                }
            } else {
                seen.push(key);
            }
        }
        dups
    }

    /// The header fields as read.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl Layout {
    /// Resolves every requested column against the header.
    pub fn new(header: &HeaderMap, cols: &ColumnNames, input: &str) -> Result<Self, BatchError> {
        let optional = |name: &Option<String>| -> Result<Option<usize>, BatchError> {
            name.as_deref()
                .map(|n| header.require(n, input))
                .transpose()
        };
        let mut labs = Vec::new();
        for (field, name) in [
            (LabField::Egfr, &cols.context.egfr),
            (LabField::Qtc, &cols.context.qtc),
            (LabField::Age, &cols.context.age),
            (LabField::Potassium, &cols.context.potassium),
            (LabField::Magnesium, &cols.context.magnesium),
        ] {
            if let Some(i) = optional(name)? {
                labs.push((field, i));
            }
        }
        let layout = Layout {
            width: header.names().len(),
            header: header.names().to_vec(),
            patient: header.require(&cols.patient, input)?,
            drug: header.require(&cols.drug, input)?,
            start: optional(&cols.start)?,
            stop: optional(&cols.stop)?,
            days_supply: optional(&cols.days_supply)?,
            propose: optional(&cols.propose)?,
            conditions: optional(&cols.context.conditions)?,
            labs,
            duplicates: header.duplicates(),
        };
        layout.each_column_once(input)?;
        Ok(layout)
    }

    /// Refuses a column named for two roles: its values would be read as
    /// both (a date column as days' supply rejects every row).
    fn each_column_once(&self, input: &str) -> Result<(), BatchError> {
        let mut roles: Vec<(&'static str, usize)> =
            vec![("--patient-col", self.patient), ("--drug-col", self.drug)];
        for (flag, col) in [
            ("--start-col", self.start),
            ("--stop-col", self.stop),
            ("--days-supply-col", self.days_supply),
            ("--propose-col", self.propose),
            ("--conditions-col", self.conditions),
        ] {
            roles.extend(col.map(|c| (flag, c)));
        }
        roles.extend(self.labs.iter().map(|(field, c)| (field.flag(), *c)));
        for (i, (second, col)) in roles.iter().enumerate() {
            if let Some((first, _)) = roles[..i].iter().find(|(_, c)| c == col) {
                return Err(BatchError::ColumnTwice {
                    input: input.to_owned(),
                    column: self.name(*col).to_owned(),
                    first,
                    second,
                });
            }
        }
        Ok(())
    }

    /// Name of column `i` as written in the header.
    pub fn name(&self, i: usize) -> &str {
        self.header.get(i).map_or("", |s| s.trim())
    }

    /// Every column a row must have readable: over-long or non-UTF-8 text in
    /// one of these makes the row unusable.
    fn used(&self) -> impl Iterator<Item = usize> + '_ {
        [self.patient, self.drug]
            .into_iter()
            .chain(self.start)
            .chain(self.stop)
            .chain(self.days_supply)
            .chain(self.propose)
            .chain(self.labs.iter().map(|(_, i)| *i))
            .chain(self.conditions)
    }
}

/// Why a row could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// More or fewer fields than the header.
    RaggedRow,
    /// A used field longer than the limit.
    FieldTooLong,
    /// A used field that is not UTF-8.
    InvalidUtf8,
    /// No patient id.
    EmptyPatientId,
    /// No medication text.
    EmptyDrug,
    /// A date column given but empty (start date, or as-of restrictions).
    MissingDate,
    /// A date that could not be read, or a stop before the start.
    BadDate,
    /// Days' supply or a lab value that is not a number or out of range.
    BadValue,
    /// A condition name the KB does not know.
    UnknownCondition,
    /// A quoted field never closed: the rest of the input was read into it.
    UnterminatedQuote,
}

impl RejectReason {
    /// The spelling used in the rejects file and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::RaggedRow => "ragged_row",
            RejectReason::FieldTooLong => "field_too_long",
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::EmptyPatientId => "empty_patient_id",
            RejectReason::EmptyDrug => "empty_drug",
            RejectReason::MissingDate => "missing_date",
            RejectReason::BadDate => "bad_date",
            RejectReason::BadValue => "bad_value",
            RejectReason::UnknownCondition => "unknown_condition",
            RejectReason::UnterminatedQuote => "unterminated_quote",
        }
    }
}

/// A row that could not be used, with where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// 1-based line of the file where the row starts.
    pub line: u64,
    /// Why.
    pub reason: RejectReason,
    /// The column at fault, if one.
    pub column: Option<String>,
    /// Human detail (the value, shortened).
    pub detail: String,
}

/// A day as a count of days since 1970-01-01.
pub type Day = i32;
/// A window that is always open (no dates, or no stop date).
pub const OPEN_START: Day = Day::MIN;
/// See [`OPEN_START`].
pub const OPEN_END: Day = Day::MAX;

/// The usable parts of a valid row, borrowed from the record.
#[derive(Debug)]
pub struct RowFields<'r> {
    /// Patient id bytes (UTF-8, non-empty).
    pub patient: &'r [u8],
    /// Medication text bytes (non-empty, not yet UTF-8 checked: the
    /// resolution cache does that once per distinct string).
    pub drug: &'r [u8],
    /// Proposed drug text bytes, when the column is given and non-empty.
    pub propose: Option<&'r [u8]>,
    /// First day of exposure (inclusive).
    pub start: Day,
    /// End of exposure (exclusive).
    pub end: Day,
}

/// Longest detail kept in a reject message.
const DETAIL_MAX: usize = 120;

fn shorten(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(DETAIL_MAX)]);
    if bytes.len() > DETAIL_MAX {
        format!("{text}…")
    } else {
        text.into_owned()
    }
}

/// Validates rows against one [`Layout`].
pub struct RowChecker {
    /// The layout.
    pub layout: Layout,
    /// Longest accepted field in bytes.
    pub max_field: usize,
    used: Vec<usize>,
}

impl RowChecker {
    /// Prepares the checker.
    pub fn new(layout: Layout, max_field: usize) -> Self {
        let used = layout.used().collect();
        RowChecker {
            layout,
            max_field,
            used,
        }
    }

    fn reject(
        &self,
        line: u64,
        reason: RejectReason,
        col: Option<usize>,
        detail: String,
    ) -> Reject {
        Reject {
            line,
            reason,
            column: col.map(|i| self.layout.name(i).to_owned()),
            detail,
        }
    }

    /// Checks the shape of a row and reads its patient id, drug, proposed
    /// drug and exposure window. Inlined into the loops that read rows: its
    /// result, returned through memory, stalled the reading thread on every
    /// row.
    #[inline(always)]
    pub fn fields<'r>(&self, rec: &'r Record<'_>, line: u64) -> Result<RowFields<'r>, Reject> {
        // Checked first: the lines the open quote swallowed may even make
        // the field count right.
        if rec.unterminated() {
            return Err(self.reject(
                line,
                RejectReason::UnterminatedQuote,
                None,
                "a quote opened in this row is never closed: every line after it, to the end of \
                 the input, was read into this row"
                    .to_owned(),
            ));
        }
        if rec.count() != self.layout.width {
            return Err(self.reject(
                line,
                RejectReason::RaggedRow,
                None,
                format!(
                    "{} fields, the header has {}",
                    rec.count(),
                    self.layout.width
                ),
            ));
        }
        let field = |i: usize| rec.field(i).unwrap_or_default();
        // No field can be too long when the whole row is not.
        let fits = rec.total_len() <= self.max_field;
        for &i in self.used.iter().filter(|_| !fits) {
            if field(i).len() > self.max_field {
                return Err(self.reject(
                    line,
                    RejectReason::FieldTooLong,
                    Some(i),
                    format!("{} bytes, the limit is {}", field(i).len(), self.max_field),
                ));
            }
        }
        let patient = trim(field(self.layout.patient));
        if patient.is_empty() {
            return Err(self.reject(
                line,
                RejectReason::EmptyPatientId,
                Some(self.layout.patient),
                String::new(),
            ));
        }
        let drug = trim(field(self.layout.drug));
        if drug.is_empty() {
            return Err(self.reject(
                line,
                RejectReason::EmptyDrug,
                Some(self.layout.drug),
                String::new(),
            ));
        }
        let (start, end) = self.window(rec, line)?;
        let propose = self
            .layout
            .propose
            .map(|i| trim(field(i)))
            .filter(|p| !p.is_empty());
        Ok(RowFields {
            patient,
            drug,
            propose,
            start,
            end,
        })
    }

    /// The row's start date, when the file has a start column and the date
    /// can be read (a row rejected for its stop date or days' supply still
    /// has one).
    pub fn start_day(&self, rec: &Record<'_>) -> Option<Day> {
        parse_day(trim(rec.field(self.layout.start?)?))
    }

    /// Inlined into [`RowChecker::fields`], for the same reason.
    #[inline(always)]
    fn window(&self, rec: &Record<'_>, line: u64) -> Result<(Day, Day), Reject> {
        let Some(start_col) = self.layout.start else {
            return Ok((OPEN_START, OPEN_END));
        };
        let field = |i: usize| trim(rec.field(i).unwrap_or_default());
        let raw = field(start_col);
        if raw.is_empty() {
            return Err(self.reject(
                line,
                RejectReason::MissingDate,
                Some(start_col),
                "no start date".to_owned(),
            ));
        }
        let start = parse_day(raw).ok_or_else(|| {
            self.reject(line, RejectReason::BadDate, Some(start_col), shorten(raw))
        })?;
        if let Some(stop_col) = self.layout.stop {
            let raw = field(stop_col);
            if raw.is_empty() {
                return Ok((start, OPEN_END));
            }
            let stop = parse_day(raw).ok_or_else(|| {
                self.reject(line, RejectReason::BadDate, Some(stop_col), shorten(raw))
            })?;
            if stop < start {
                return Err(self.reject(
                    line,
                    RejectReason::BadDate,
                    Some(stop_col),
                    format!("stop {} is before start", shorten(raw)),
                ));
            }
            // A stop on the start day still means one day of exposure.
            return Ok((start, stop.max(start.saturating_add(1))));
        }
        if let Some(days_col) = self.layout.days_supply {
            let raw = field(days_col);
            let days = std::str::from_utf8(raw)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                // 0 covers no day (often a reversed claim): not a window.
                .filter(|d| d.is_finite() && *d > 0.0 && *d <= 36_500.0)
                .ok_or_else(|| {
                    let detail = if raw.is_empty() {
                        "no days' supply".to_owned()
                    } else {
                        format!(
                            "days' supply {} is not a number above 0 and at most 36500",
                            shorten(raw)
                        )
                    };
                    self.reject(line, RejectReason::BadValue, Some(days_col), detail)
                })?;
            let days = days.ceil() as Day;
            return Ok((start, start.saturating_add(days)));
        }
        Ok((start, OPEN_END))
    }

    /// A reject for a used field whose bytes are not UTF-8.
    pub fn invalid_utf8(&self, col: usize, bytes: &[u8], line: u64) -> Reject {
        self.reject(line, RejectReason::InvalidUtf8, Some(col), shorten(bytes))
    }

    /// A reject for a context value, naming its column.
    pub fn bad_context(
        &self,
        line: u64,
        reason: RejectReason,
        col: usize,
        detail: String,
    ) -> Reject {
        self.reject(line, reason, Some(col), detail)
    }
}

/// Strips ASCII spaces and tabs around a field.
pub fn trim(bytes: &[u8]) -> &[u8] {
    let blank = |b: &u8| matches!(b, b' ' | b'\t');
    if !bytes.first().is_some_and(blank) && !bytes.last().is_some_and(blank) {
        return bytes;
    }
    let start = bytes
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// Parses `YYYY-MM-DD` (optionally followed by a time, as in
/// `2010-05-12T08:30:00Z`) or `YYYYMMDD` into a day number.
pub fn parse_day(bytes: &[u8]) -> Option<Day> {
    if let Some(day) = iso_day_fast(bytes) {
        return Some(day);
    }
    let digits = |b: &[u8]| -> Option<i32> {
        b.iter().try_fold(0i32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
        })
    };
    let (y, m, d) = if bytes.len() >= 10 && bytes[4] == b'-' && bytes[7] == b'-' {
        if !is_time_tail(&bytes[10..]) {
            return None;
        }
        (
            digits(&bytes[0..4])?,
            digits(&bytes[5..7])?,
            digits(&bytes[8..10])?,
        )
    } else if bytes.len() == 8 {
        (
            digits(&bytes[0..4])?,
            digits(&bytes[4..6])?,
            digits(&bytes[6..8])?,
        )
    } else {
        return None;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&d) || !(1000..=9999).contains(&y) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Whether what follows a `YYYY-MM-DD` date may stand after one: nothing,
/// or `T` or a space and a time of day (`08:15:38Z`, `10:00`,
/// `08:15:38.5+01:00`), then perhaps up to three space-separated parts of
/// what exports write after a time: an offset (`+0000`, `-05:00`), a short
/// word (`UTC`, `am`), a bracketed zone (`[Europe/Paris]`). Anything else
/// after the date (`2024-01-01 garbage`) makes the field no date rather
/// than a date with words after it.
fn is_time_tail(rest: &[u8]) -> bool {
    // The usual export timestamp, `T08:15:38Z`, without the general walk.
    if let [b'T', h, hh, b':', m, mm, b':', s, ss, b'Z'] = rest {
        return [h, hh, m, mm, s, ss].iter().all(|c| c.is_ascii_digit())
            && two_digits(*h, *hh) <= 24
            && two_digits(*m, *mm) <= 59
            && two_digits(*s, *ss) <= 60;
    }
    let [b'T' | b't' | b' ', first, ..] = rest else {
        return rest.is_empty();
    };
    if !first.is_ascii_digit() {
        return false;
    }
    // A table rather than a test per byte: this runs twice a row.
    let clock = rest[1..]
        .iter()
        .position(|&c| !CLOCK_BYTES[usize::from(c)])
        .map_or(rest.len(), |at| at + 1);
    let Some(hours) = clock_hours(&rest[1..clock]) else {
        return false;
    };
    let mut tail = &rest[clock..];
    if let [b'[', .., b']'] = tail {
        return is_zone_name(&tail[1..tail.len() - 1]);
    }
    for _ in 0..3 {
        let [b' ', after @ ..] = tail else {
            return tail.is_empty();
        };
        let end = after.iter().position(|&c| c == b' ').unwrap_or(after.len());
        let part = &after[..end];
        let offset = is_offset(part);
        // `13:00 pm` is no time of day.
        let half_day = part.eq_ignore_ascii_case(b"am") || part.eq_ignore_ascii_case(b"pm");
        let word = (1..=5).contains(&part.len())
            && part.iter().all(u8::is_ascii_alphabetic)
            && (!half_day || (1..=12).contains(&hours));
        let zone = matches!(part, [b'[', .., b']'] if is_zone_name(&part[1..part.len() - 1]));
        if !(offset || word || zone) {
            return false;
        }
        tail = &after[end..];
    }
    tail.is_empty()
}

/// The number two ASCII digits write.
fn two_digits(tens: u8, units: u8) -> u8 {
    (tens - b'0') * 10 + (units - b'0')
}

/// The hour of a time of day with its offset, written with the bytes of
/// [`CLOCK_BYTES`]: `H:MM` or `HH:MM`, then perhaps `:SS` and a fraction,
/// then perhaps `Z` or an offset. `None` when it is not one (`99:99`,
/// `10:61`, `1`, `10:00ZZ`, `10:00+99:99`).
fn clock_hours(clock: &[u8]) -> Option<u8> {
    let digits = |from: usize| {
        clock[from.min(clock.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let hour_len = digits(0);
    let hours = match clock[..hour_len] {
        [h] => h - b'0',
        [h, hh] => two_digits(h, hh),
        _ => return None,
    };
    let [b':', m, mm, rest @ ..] = &clock[hour_len..] else {
        return None;
    };
    if hours > 24 || !m.is_ascii_digit() || !mm.is_ascii_digit() || two_digits(*m, *mm) > 59 {
        return None;
    }
    let mut rest = rest;
    if let [b':', s, ss, after @ ..] = rest {
        if !s.is_ascii_digit() || !ss.is_ascii_digit() || two_digits(*s, *ss) > 60 {
            return None;
        }
        rest = after;
        if let [b'.', after @ ..] = rest {
            let fraction = after.iter().take_while(|c| c.is_ascii_digit()).count();
            if fraction == 0 {
                return None;
            }
            rest = &after[fraction..];
        }
    }
    match rest {
        [] | [b'Z' | b'z'] => Some(hours),
        offset if is_offset(offset) => Some(hours),
        _ => None,
    }
}

/// A UTC offset: `+HH`, `+HHMM` or `+HH:MM` (or `-`), hours at most 14 and
/// minutes at most 59.
fn is_offset(part: &[u8]) -> bool {
    let ([b'+' | b'-', h, hh] | [b'+' | b'-', h, hh, b':', _, _] | [b'+' | b'-', h, hh, _, _]) =
        part
    else {
        return false;
    };
    let minutes = match part.len() {
        3 => None,
        6 => Some((part[4], part[5])),
        _ => Some((part[3], part[4])),
    };
    h.is_ascii_digit()
        && hh.is_ascii_digit()
        && two_digits(*h, *hh) <= 14
        && minutes.is_none_or(|(m, mm)| {
            m.is_ascii_digit() && mm.is_ascii_digit() && two_digits(m, mm) <= 59
        })
}

/// A time-zone name as written in brackets: `Europe/Paris`, `UTC`.
fn is_zone_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'_' | b'+' | b'-'))
}

/// The bytes of a time of day and its offset: digits, `:`, `.`, `+`, `-`,
/// `Z`.
static CLOCK_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = b'0';
    while c <= b'9' {
        table[c as usize] = true;
        c += 1;
    }
    table[b':' as usize] = true;
    table[b'.' as usize] = true;
    table[b'+' as usize] = true;
    table[b'-' as usize] = true;
    table[b'Z' as usize] = true;
    table[b'z' as usize] = true;
    table
};

/// The common case of [`parse_day`] without its generality (a measured hot
/// spot: two dates a row): `YYYY-MM-DD`, alone or before a time, with a
/// year in the table. The ten bytes are checked and read as two words
/// rather than byte by byte. Anything else gives `None` and takes the
/// general path, which gives the same answer for these.
fn iso_day_fast(bytes: &[u8]) -> Option<Day> {
    let (date, rest) = bytes.split_first_chunk::<10>()?;
    if !is_time_tail(rest) {
        return None;
    }
    let (head, _) = date.split_first_chunk::<8>()?;
    // Digits become 0 to 9 and the dashes 0; any other byte is either above
    // 9 (a high bit after adding 0x76) or has its high bit set already.
    let t = u64::from_le_bytes(*head) ^ u64::from_le_bytes(*b"0000-00-");
    let u = u16::from_le_bytes([date[8], date[9]]) ^ u16::from_le_bytes(*b"00");
    if (t | t.wrapping_add(0x7676_7676_7676_7676)) & 0x8080_8080_8080_8080 != 0
        || (u | u.wrapping_add(0x7676)) & 0x8080 != 0
        || t & 0xFF00_00FF_0000_0000 != 0
    {
        return None;
    }
    // Each byte times ten plus the next: byte 0 holds the century, byte 2
    // the year in it, byte 5 the month (no byte exceeds 99, so no carry).
    let pairs = t * 10 + (t >> 8);
    let year = (pairs & 0xFF) as i32 * 100 + ((pairs >> 16) & 0xFF) as i32;
    let month = ((pairs >> 40) & 0xFF) as usize;
    let day = i32::from(u & 0xFF) * 10 + i32::from(u >> 8);
    if !(1..=12).contains(&month) {
        return None;
    }
    let at = usize::try_from(year - TABLE_FROM).ok()? * 12 + month - 1;
    let &(first, length) = MONTHS.get(at)?;
    (1..=length).contains(&day).then(|| first + day - 1)
}

/// First year of [`MONTHS`].
const TABLE_FROM: i32 = 1900;
/// Years in [`MONTHS`], 1900 to 2199.
const TABLE_YEARS: usize = 300;
/// Each month from January 1900 to December 2199: the day number of its
/// first day and its length in days.
static MONTHS: [(Day, i32); TABLE_YEARS * 12] = {
    let mut table = [(0, 0); TABLE_YEARS * 12];
    let mut i = 0;
    while i < TABLE_YEARS * 12 {
        let (y, m) = (TABLE_FROM + (i / 12) as i32, (i % 12) as i32 + 1);
        let first = days_from_civil(y, m, 1);
        let next = if m == 12 {
            days_from_civil(y + 1, 1, 1)
        } else {
            days_from_civil(y, m + 1, 1)
        };
        table[i] = (first, next - first);
        i += 1;
    }
    table
};

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm).
const fn days_from_civil(y: i32, m: i32, d: i32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_day(day: Day) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(hasher: Sha256) -> String {
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn a_file_hashed_through_its_own_handle_gives_the_digest_of_its_bytes() {
        let mut file = tempfile::tempfile().expect("temp file");
        let data = b"patient_id,drug\nP1,quinine\n".repeat(20_000);
        std::io::Write::write_all(&mut file, &data).expect("write");
        let reopen = || {
            let mut f = file.try_clone().expect("clone");
            std::io::Seek::rewind(&mut f).expect("rewind");
            f
        };
        let fed = {
            let mut thread = HashThread::fed();
            for chunk in data.chunks(1000) {
                thread.update(chunk);
            }
            hex(thread.finish(data.len() as u64).expect("fed digest"))
        };
        let own = hex(HashThread::of_file(reopen())
            .finish(data.len() as u64)
            .expect("own digest"));
        assert_eq!(own, fed);
        assert_eq!(own, hex(Sha256::new_with_prefix(&data)));
        // The parsing thread read fewer bytes than the file now holds.
        let err = HashThread::of_file(reopen())
            .finish(data.len() as u64 - 1)
            .expect_err("counts differ");
        assert!(
            err.to_string().contains("changed while it was read"),
            "{err}"
        );
    }

    #[test]
    fn a_plain_file_is_hashed_through_the_record_readers_tap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("rows.csv");
        let data = b"patient_id,drug\nP1,quinine\n".repeat(20_000);
        std::fs::write(&path, &data).expect("write");
        let source = InputSource::File(path);
        let mut input = source.open().expect("open");
        let tap = input.take_tap();
        assert!(tap.is_some(), "a plain file is tapped");
        let mut rdr = records::RecordReader::new(input, b',').tapped(tap);
        let mut rows = 0;
        while rdr.next_record().expect("read").is_some() {
            rows += 1;
        }
        assert_eq!(rows, 40_000);
        let (digest, bytes) = rdr.into_inner().finish().expect("digest");
        assert_eq!(digest, hex(Sha256::new_with_prefix(&data)));
        assert_eq!(bytes, data.len() as u64);
        // Read without its tap, the input cannot give a digest: it says so
        // instead of waiting or giving a wrong one.
        let mut input = source.open().expect("open");
        std::io::copy(&mut input, &mut std::io::sink()).expect("read");
        let err = input.finish().expect_err("nothing was hashed");
        assert!(err.to_string().contains("hashed"), "{err}");
    }

    #[test]
    fn iso_dates_and_timestamps_parse_to_the_same_day() {
        let day = parse_day(b"2010-05-12").unwrap_or_default();
        assert_eq!(parse_day(b"2010-05-12T08:30:00Z"), Some(day));
        assert_eq!(parse_day(b"20100512"), Some(day));
        assert_eq!(format_day(day), "2010-05-12");
        assert_eq!(parse_day(b"1970-01-01"), Some(0));
        assert_eq!(
            format_day(parse_day(b"2024-02-29").unwrap_or_default()),
            "2024-02-29"
        );
    }

    #[test]
    fn the_month_table_agrees_with_the_formula() {
        for (y, m, d) in [
            (1900, 3, 1),
            (2000, 2, 29),
            (2000, 3, 1),
            (2199, 12, 31),
            (2023, 12, 31),
        ] {
            let text = format!("{y:04}-{m:02}-{d:02}");
            assert_eq!(
                parse_day(text.as_bytes()),
                Some(days_from_civil(y, m, d)),
                "{text}"
            );
            assert_eq!(format_day(days_from_civil(y, m, d)), text);
        }
        assert_eq!(parse_day(b"2200-01-01"), Some(days_from_civil(2200, 1, 1)));
        assert_eq!(
            parse_day(b"1899-12-31"),
            Some(days_from_civil(1899, 12, 31))
        );
    }

    #[test]
    fn the_fast_path_agrees_with_the_general_one_for_every_day_it_takes() {
        let mut taken = 0;
        for day in days_from_civil(1899, 12, 1)..days_from_civil(2201, 1, 1) {
            let text = format_day(day);
            for form in [
                text.clone(),
                format!("{text}T09:30:00Z"),
                format!("{text} 10:00"),
            ] {
                if let Some(fast) = iso_day_fast(form.as_bytes()) {
                    taken += 1;
                    assert_eq!(fast, day, "{form}");
                }
                assert_eq!(parse_day(form.as_bytes()), Some(day), "{form}");
            }
        }
        // Every form of every day from 1900 to 2199.
        let days = days_from_civil(2200, 1, 1) - days_from_civil(1900, 1, 1);
        assert_eq!(taken, 3 * days, "{taken}");
        for bad in [
            &b"2010-13-01"[..],
            b"2010-00-10",
            b"2010-1a-01",
            b"2010-05-12x",
            b"2010-02-29",
            b"2011-04-31",
            b"2011-04-00",
            b"2010/05/12",
            b"2010-05-1\xB9",
            b"2010-05\xAD12",
        ] {
            assert_eq!(iso_day_fast(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(parse_day(b"2012-02-29"), Some(days_from_civil(2012, 2, 29)));
    }

    proptest::proptest! {
        /// A date with any one byte changed: a day the fast path reads is
        /// the day the bytes spell.
        #[test]
        fn the_fast_path_reads_only_what_the_bytes_spell(
            day in days_from_civil(1890, 1, 1)..days_from_civil(2210, 1, 1),
            at in 0usize..11,
            byte in proptest::prelude::any::<u8>(),
        ) {
            let mut bytes = format_day(day).into_bytes();
            bytes.push(b'T');
            bytes[at] = byte;
            if let Some(read) = iso_day_fast(&bytes) {
                let text = format_day(read);
                proptest::prop_assert_eq!(text.as_bytes(), &bytes[..10]);
            }
        }
    }

    #[test]
    fn impossible_dates_are_refused() {
        for bad in [
            &b"2023-02-29"[..],
            b"2010-13-01",
            b"12/05/2010",
            b"2010-05-1x",
            b"soon",
            b"2024-01-01 garbage",
            b"2024-01-01T",
            b"2024-01-01T08:00 afterwards",
            b"2024-01-01 08:00 UTC 2 3 4",
            b"2024-01-01 08:00 [not a zone]",
            b"2024-01-10T99:99:99",
            b"2024-01-10T99:99:99Z",
            b"2024-01-10 10:61",
            b"2024-01-10 13:00 pm",
            b"2024-01-10 0:30 AM",
            b"2024-01-10T10:00:00+99:99",
            b"2024-01-10T10:00:00ZZ",
            b"2024-01-10T1",
            b"2024-01-10T10:00:00.",
            b"2024-01-10 10:00 +2500",
            b"2024-01-10 10:00:00-05:60",
        ] {
            assert_eq!(parse_day(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_time_of_day_after_the_date_is_read_past() {
        let day = days_from_civil(2024, 1, 1);
        for form in [
            &b"2024-01-01"[..],
            b"2024-01-01T08:15:38Z",
            b"2024-01-01 08:15",
            b"2024-01-01T08:15:38.123+01:00",
            b"2024-01-01 00:00:00 UTC",
            b"2024-01-01 12:00 AM",
            b"2024-01-01 8:15 am",
            b"2024-01-01 08:15:38 +0000",
            b"2024-01-01 08:15:38.0000000 +00:00",
            b"2024-01-01 08:15:38 +0000 UTC",
            b"2024-01-01T08:15+01:00[Europe/Paris]",
            b"2024-01-01T08:15:38.123456-05:00",
            b"2024-01-01T23:59:60Z",
            b"2024-01-01T24:00",
            b"2024-01-01 12:30 pm",
            b"2024-01-01 08:15 -0500",
            b"2024-01-01 08:15 +05",
            b"2024-01-01T08:15+0530",
        ] {
            assert_eq!(
                parse_day(form),
                Some(day),
                "{}",
                String::from_utf8_lossy(form)
            );
        }
    }

    #[test]
    fn trim_strips_spaces_only() {
        assert_eq!(trim(b"  p1 \t"), b"p1");
        assert_eq!(trim(b"   "), b"");
    }
}
