//! Batch validation of prescription files: millions of CSV rows grouped by
//! patient and checked with the same engine as `check`, with every row
//! accounted for (checked or rejected with a reason).
//!
//! The reading thread ([`run`]) splits rows in its read buffer
//! ([`records`]), validates them, interns each distinct drug string once (the
//! resolution cache is keyed by its raw bytes) and groups rows by patient;
//! a thread of its own hashes the raw input. A patient's group is handed to
//! the checking thread as soon as another patient's row arrives, so memory
//! does not grow with the number of rows when each patient's rows are
//! contiguous. When the rows of many patients turn out to be scattered (and
//! always for stdin, which can be read only once), rows wait on disk instead
//! ([`spill`]), partitioned by a hash of the patient id, and are checked a
//! partition at a time after the last row, so memory follows the number of
//! patients, not rows; while they are read, a routing thread writes them
//! (the `router` module). A patient already checked whose rows turn up
//! again later has its early result dropped, and all its rows are gathered
//! in a second read of the file. The checking thread resolves new strings
//! and checks patient groups in parallel (rayon), renders each patient's
//! findings, and spools them so the output can be written sorted by patient
//! id: the same input gives the same bytes whatever the thread count.

pub mod atomic;
pub mod context;
pub mod frames;
pub mod group;
mod masks;
pub mod reader;
pub mod records;
mod router;
pub mod spill;
pub mod spool;
pub mod summary;

use crate::clinical::Jurisdiction;
use crate::kb::KbIndex;
use crate::resolve::Resolved;
use context::{ContextParser, PatientTable, RowContext};
use foldhash::{HashMap, HashMapExt};
use frames::Frames;
use group::{Group, PatientFindings, Row, Shared};
use reader::{ColumnNames, Day, HeaderMap, InputSource, Layout, Reject, RejectReason, RowChecker};
use records::{Fields, Record, RecordReader};
use router::{PatientState, Route, RowBatch, Seen};
use spill::Spill;
pub use spool::Spool;
use spool::{PatientOutput, RenderedPatients, SortedOutput};
use std::io;
use std::path::PathBuf;
use std::sync::{PoisonError, mpsc};
use std::time::Instant;
use summary::{Counts, Summary};
use thiserror::Error;

/// Why a batch run stopped before the end.
#[derive(Debug, Error)]
pub enum BatchError {
    /// The input file could not be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Reading or decompressing the input failed.
    #[error("cannot read {input}")]
    Read {
        /// The input label.
        input: String,
        /// Why.
        source: io::Error,
    },
    /// The CSV reader failed (an I/O error inside the reader).
    #[error("cannot read {input} at line {line}")]
    Csv {
        /// The input label.
        input: String,
        /// Line where reading stopped.
        line: u64,
        /// Why.
        source: csv::Error,
    },
    /// A requested column is not in the header.
    #[error("{input}: no column `{column}` (columns found: {}){hint}", found.join(", "))]
    MissingColumn {
        /// The input label.
        input: String,
        /// The column asked for.
        column: String,
        /// The header as read.
        found: Vec<String>,
        /// A likely cause (another delimiter), or empty.
        hint: String,
    },
    /// One column is named for two roles (`--start-col` and
    /// `--days-supply-col`): every row would be misread.
    #[error("{input}: column `{column}` is given for both {first} and {second}")]
    ColumnTwice {
        /// The input label.
        input: String,
        /// The column as written in the header.
        column: String,
        /// The first flag naming it.
        first: &'static str,
        /// The second flag naming it.
        second: &'static str,
    },
    /// A row of the `--patients` file cannot be used.
    #[error("{path}:{line}: column `{column}`: {message}")]
    PatientsFile {
        /// The file.
        path: String,
        /// Its line.
        line: u64,
        /// The column.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// Writing an output, the rejects or the spool failed.
    #[error("cannot write {what}")]
    Write {
        /// Which output.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
    /// The checking thread could not start or died.
    #[error("checking thread failed: {0}")]
    Worker(String),
}

/// What each patient is checked for.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Every cramp therapy a patient already takes is checked against the
    /// patient's other co-exposed medications and context.
    Existing,
    /// This drug is checked for every patient as if about to be prescribed.
    Propose(Box<Resolved>),
    /// The drug named in the `--propose-col` column is checked, per patient.
    ProposeColumn,
}

/// Validated options of one batch run.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Where the rows come from.
    pub input: InputSource,
    /// Columns asked for.
    pub columns: ColumnNames,
    /// Field delimiter.
    pub delimiter: u8,
    /// What is checked.
    pub mode: Mode,
    /// Only medications active on this day count.
    pub as_of: Option<Day>,
    /// Whose label facts apply.
    pub jurisdiction: Jurisdiction,
    /// Patient context read from a `--patients` file.
    pub patients: Option<PatientTable>,
    /// Longest accepted field, in bytes.
    pub max_field: usize,
    /// Worker threads (0 = one per core).
    pub threads: usize,
}

/// Where rejected rows and progress go while the run reads.
pub trait Hooks {
    /// One rejected row, in file order.
    fn reject(&mut self, reject: &Reject) -> io::Result<()>;
    /// Rows read so far (called every few thousand rows).
    fn progress(&mut self, rows: u64);
}

/// Writes one patient's findings (CSV or JSONL rows) as frames: text, and
/// references to pieces of text kept once by the renderer.
pub type Renderer<'a> =
    dyn Fn(&KbIndex, &PatientFindings<'_>, &mut Frames) -> io::Result<()> + Sync + 'a;

/// The result of a run: the summary, and the findings ready to be written
/// in patient-id order.
pub struct BatchRun {
    /// Accounting and statistics.
    pub summary: Summary,
    /// Rendered findings, sorted by patient id.
    pub output: SortedOutput,
}

/// Rows handed to the checking thread at once.
const BATCH_ROWS: usize = 1 << 15;
/// Rows between two progress calls.
const PROGRESS_EVERY: u64 = 1 << 16;
/// Rows that return to a closed patient before the reader stops checking
/// groups early (see [`ReadState::route`]), if they are also more than a
/// tenth of the patients or more than one row in [`SCATTERED_SHARE`].
const SCATTERED_MIN: usize = 1000;
/// One row in this many returning to a closed patient marks the rows as
/// scattered. When patients have few rows each, a tenth of the patients
/// comes back only after many groups were checked for nothing (a shuffled
/// file of 10M rows and 1M patients: after about 200,000 rows, against
/// about 45,000 this way, before the first hand-over).
const SCATTERED_SHARE: usize = 100;
/// Patients checked and rendered together by one worker, into one buffer.
const RENDER_CHUNK: usize = 32;
/// Bytes of frames room per patient of a chunk, to start with.
const RENDER_ROOM: usize = 1024;
/// Rows of closed groups held before the first hand-over.
const HOLD_ROWS: usize = 1 << 16;
/// New drug names sent ahead to be resolved while groups are held.
const EARLY_NAMES: usize = 64;
/// Marks a drug string whose bytes are not UTF-8 in the intern table.
const INVALID: u32 = u32::MAX;
/// Marks "no proposed drug" in a row.
pub(crate) const NO_MED: u32 = u32::MAX;
/// Marks a row that brings only its patient's context: the row itself was
/// rejected, but its lab values and conditions still describe the patient.
pub(crate) const CONTEXT_ONLY: u32 = u32::MAX - 1;

/// Distinct drug strings, each given a dense id the first time it is seen,
/// so each is resolved once however many rows carry it.
struct Interner {
    ids: HashMap<Box<[u8]>, u32>,
    fresh: Vec<Box<str>>,
    rows: Vec<u64>,
}

impl Interner {
    fn id(&mut self, bytes: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(bytes) {
            return id;
        }
        let id = match std::str::from_utf8(bytes) {
            Ok(text) => {
                let id = self.rows.len() as u32;
                self.fresh.push(text.into());
                self.rows.push(0);
                id
            }
            Err(_) => INVALID,
        };
        self.ids.insert(bytes.into(), id);
        id
    }
}

/// A valid row before it is routed to its patient.
struct ValidRow<'r> {
    patient: &'r [u8],
    row: Row,
    context: RowContext,
}

/// Everything the reading thread keeps.
struct ReadState<'a> {
    checker: RowChecker,
    context: ContextParser<'a>,
    meds: Interner,
    seen: Seen,
    current: Option<Group>,
    /// Closed groups waiting to be sent.
    ready: Vec<Group>,
    ready_rows: usize,
    /// Rows kept until the end (stdin, scattered files, and the rows
    /// gathered in the second read), on disk.
    spill: Option<Spill>,
    /// Input size, to size the spill (`None` for stdin).
    input_bytes: Option<u64>,
    /// Row buffers of checked groups, handed back to be filled again.
    recycled: RecycledRows,
    /// Rows routed to a patient whose group had been closed.
    reopened: usize,
    /// Valid rows routed so far.
    routed: usize,
    /// Rows routed when they were found scattered, if they were.
    scattered_after: Option<usize>,
    /// Patients first seen once rows waited on disk: numbered when the
    /// spill is read back, after those in `seen`.
    late_patients: usize,
    sent_any: bool,
    with_context: bool,
    /// `--as-of`: context on rows that start after it is not used (a lab
    /// taken later is not what was known that day).
    as_of: Option<Day>,
}

impl<'a> ReadState<'a> {
    /// Validates a row and interns its strings; the patient is not yet known.
    /// A row whose medication part is sound but whose context is not in full
    /// is still valid, with the context that could be used, and comes with
    /// its reject: losing its drug would hide the drug's findings.
    // Inlined into each per-row loop, as are the small steps after it: a
    // call hands back the row and its possible reject (about 200 bytes)
    // through memory, which cost the reading thread more than the checks
    // (0.3 s of 1.5 s on 10M shuffled rows).
    #[inline(always)]
    fn validate<'r>(
        &mut self,
        rec: &'r Record<'_>,
        line: u64,
        intern: bool,
    ) -> Result<(ValidRow<'r>, Option<Reject>), Reject> {
        let fields = self.checker.fields(rec, line)?;
        let mut lookup = |bytes: &[u8]| -> u32 {
            if intern {
                self.meds.id(bytes)
            } else {
                self.meds.ids.get(bytes).copied().unwrap_or(INVALID)
            }
        };
        let med = lookup(fields.drug);
        if med == INVALID {
            return Err(self
                .checker
                .invalid_utf8(self.checker.layout.drug, fields.drug, line));
        }
        let proposed = match (fields.propose, self.checker.layout.propose) {
            (Some(bytes), Some(col)) => {
                let id = lookup(bytes);
                if id == INVALID {
                    return Err(self.checker.invalid_utf8(col, bytes, line));
                }
                id
            }
            _ => NO_MED,
        };
        let mut partial = None;
        let context = if self.with_context {
            let context = match self.context.parse(rec, line) {
                Ok(context) => context,
                Err(fault) => {
                    let mut reject = fault.reject;
                    reject.detail.push_str(
                        "; its medication is still checked, with the rest of its patient context",
                    );
                    partial = Some(reject);
                    fault.usable
                }
            };
            match self.after_as_of(fields.start) {
                true => RowContext::default(),
                false => context,
            }
        } else {
            RowContext::default()
        };
        let valid = ValidRow {
            patient: fields.patient,
            row: Row {
                line,
                med,
                proposed,
                start: fields.start,
                end: fields.end,
            },
            context,
        };
        Ok((valid, partial))
    }

    /// What of a row can be used (validated, or salvaged when rejected) and
    /// its reject, if it has one: a row may have both.
    #[inline(always)]
    fn admit<'r>(
        &mut self,
        rec: &'r Record<'_>,
        line: u64,
        intern: bool,
    ) -> (Option<ValidRow<'r>>, Option<Reject>) {
        match self.validate(rec, line, intern) {
            Ok((valid, partial)) => (Some(valid), partial),
            Err(mut reject) => {
                let valid = self.salvage(rec, line, &mut reject);
                (valid, Some(reject))
            }
        }
    }

    /// The context of a row rejected for its medication part (no drug, a
    /// bad date or days' supply, text that is not UTF-8), as a row that
    /// brings only that context to its patient: a lab value on such a row
    /// still describes the patient. The reject says so. `None` when the
    /// row's shape, patient id or context is itself at fault, or it carries
    /// no context.
    fn salvage<'r>(
        &mut self,
        rec: &'r Record<'_>,
        line: u64,
        reject: &mut Reject,
    ) -> Option<ValidRow<'r>> {
        if !self.with_context
            || !matches!(
                reject.reason,
                RejectReason::EmptyDrug
                    | RejectReason::MissingDate
                    | RejectReason::BadDate
                    | RejectReason::BadValue
                    | RejectReason::InvalidUtf8
            )
            || reject
                .column
                .as_deref()
                .is_some_and(|column| self.context.reads(column))
        {
            return None;
        }
        let patient = reader::trim(rec.field(self.checker.layout.patient)?);
        if patient.is_empty() || std::str::from_utf8(patient).is_err() {
            return None;
        }
        let mut note = |note: String| {
            reject.detail = match reject.detail.is_empty() {
                true => note,
                false => format!("{}; {note}", reject.detail),
            };
        };
        let mut kept = "its patient context (lab values, conditions)";
        let context = match self.context.parse(rec, line) {
            Ok(context) => context,
            Err(bad) => {
                kept = "the rest of its patient context";
                // Said here too: the row is rejected once, for its first
                // fault.
                note(format!(
                    "its {} could not be used either: {}",
                    bad.reject.column.as_deref().unwrap_or("context"),
                    bad.reject.detail
                ));
                bad.usable
            }
        };
        if context.is_empty() {
            return None;
        }
        // Its start date, when it can be read, ranks its lab values among
        // the patient's (a lab row with no drug may be the latest).
        let start = self.checker.start_day(rec).unwrap_or(reader::OPEN_START);
        if self.after_as_of(start) {
            note("its patient context is dated after --as-of, so it was not used".to_owned());
            return None;
        }
        note(format!(
            "{kept} is kept for the patient's other rows, if any"
        ));
        Some(ValidRow {
            patient,
            row: Row {
                line,
                med: CONTEXT_ONLY,
                proposed: NO_MED,
                start,
                end: reader::OPEN_END,
            },
            context,
        })
    }

    /// Whether a row starting on `start` began after `--as-of`: its context
    /// was not known that day.
    fn after_as_of(&self, start: Day) -> bool {
        self.as_of.is_some_and(|day| start > day)
    }

    /// First read: route a valid row to its patient's group.
    fn route(&mut self, valid: ValidRow<'_>, tx: &Sender) -> Result<(), Reject> {
        if self
            .current
            .as_ref()
            .is_some_and(|g| g.id.as_bytes() == valid.patient)
        {
            self.count(&valid.row);
            if let Some(group) = &mut self.current {
                group.push(valid.row, &valid.context, self.context.conditions());
            }
            return Ok(());
        }
        if self.spill.is_some() {
            self.check_patient_id(&valid)?;
            self.count(&valid.row);
            self.spill_row(&valid);
            return Ok(());
        }
        let pid = match self.seen.get(valid.patient) {
            Some(pid) => pid,
            None => {
                let id = self.patient_id(&valid)?;
                let pid = self.seen.add(valid.patient);
                self.close_current(tx);
                let rows = self.recycled.take().unwrap_or_default();
                self.current = Some(Group::with_rows(pid, id.into(), 1, rows));
                pid
            }
        };
        self.count(&valid.row);
        if self.seen.state(pid) != PatientState::Open {
            self.reopened += 1;
            // Rows of many patients are scattered: from now on every row
            // waits on disk until the end instead of checking groups that
            // will come back. Groups not yet handed over wait too.
            if scattered(self.reopened, self.seen.len(), self.routed) {
                self.start_spill();
                self.spill_row(&valid);
                return Ok(());
            }
        }
        if self.seen.state(pid) == PatientState::Ready {
            // Not handed over yet: take the group back. Closing the current
            // group can hand the ready groups over first; the patient is
            // then closed, and handled as such below.
            self.close_current(tx);
            if let Some(at) = self.ready.iter().position(|g| g.pid == pid) {
                let group = self.ready.swap_remove(at);
                self.ready_rows -= group.rows.len();
                self.seen.set(pid, PatientState::Open);
                self.current = Some(group);
            }
        }
        match self.seen.state(pid) {
            // Ready here means handed over: a group taken back is Open.
            PatientState::Closed | PatientState::Ready => {
                self.seen.split(pid);
                self.close_current(tx);
            }
            PatientState::Split => self.close_current(tx),
            // A patient seen for the first time: its group is the current one.
            PatientState::Open => {}
        }
        if let Some(group) = &mut self.current
            && group.pid == pid
        {
            group.push(valid.row, &valid.context, self.context.conditions());
        }
        Ok(())
    }

    /// From now on every row waits on disk: the current group and the
    /// groups not yet handed over go there first.
    fn start_spill(&mut self) {
        let mut spill = Spill::new(self.input_bytes);
        for group in std::mem::take(&mut self.ready)
            .into_iter()
            .chain(self.current.take())
        {
            self.seen.set(group.pid, PatientState::Open);
            spill.push_group(group);
        }
        self.ready_rows = 0;
        self.spill = Some(spill);
        self.scattered_after = Some(self.routed);
    }

    /// The row's patient id as text; not UTF-8, the row is rejected.
    fn patient_id<'r>(&self, valid: &ValidRow<'r>) -> Result<&'r str, Reject> {
        std::str::from_utf8(valid.patient).map_err(|_| {
            self.checker
                .invalid_utf8(self.checker.layout.patient, valid.patient, valid.row.line)
        })
    }

    /// Whether the row's patient id is text (see [`ReadState::patient_id`]),
    /// for a row whose id is not kept here. Nearly every id is ASCII, which
    /// is tested inline word by word; `from_utf8` would be a call per row.
    #[inline(always)]
    fn check_patient_id(&self, valid: &ValidRow<'_>) -> Result<(), Reject> {
        match valid.patient.is_ascii() {
            true => Ok(()),
            false => self.patient_id(valid).map(|_| ()),
        }
    }

    /// Writes a row to the spill, unless its patient's group was handed
    /// over already (the patient is then split).
    fn spill_row(&mut self, valid: &ValidRow<'_>) {
        if let Some(spill) = &mut self.spill
            && let Route::Spill { known } = self.seen.route(valid.patient)
        {
            spill.push(valid.patient, &valid.row, &valid.context, known);
        }
    }

    /// Counts a routed row, and its drug strings for the summary.
    fn count(&mut self, row: &Row) {
        self.routed += 1;
        if row.med == CONTEXT_ONLY {
            return;
        }
        self.meds.rows[row.med as usize] += 1;
        if row.proposed != NO_MED {
            self.meds.rows[row.proposed as usize] += 1;
        }
    }

    fn close_current(&mut self, tx: &Sender) {
        let Some(group) = self.current.take() else {
            return;
        };
        self.seen.set(group.pid, PatientState::Ready);
        self.ready_rows += group.rows.len();
        self.ready.push(group);
        // The first groups are held longer, so a file whose patients are
        // scattered is noticed before any group is checked for nothing.
        let limit = if self.sent_any { BATCH_ROWS } else { HOLD_ROWS };
        if self.ready_rows >= limit {
            self.send(tx);
        } else if !self.sent_any && self.meds.fresh.len() >= EARLY_NAMES {
            // Meanwhile the names seen so far are resolved already.
            let fresh = std::mem::take(&mut self.meds.fresh);
            let _ = tx.send(Work {
                fresh,
                groups: Vec::new(),
            });
        }
    }

    fn send(&mut self, tx: &Sender) {
        for group in &self.ready {
            if self.seen.state(group.pid) == PatientState::Ready {
                self.seen.set(group.pid, PatientState::Closed);
            }
        }
        self.sent_any = true;
        let groups = std::mem::take(&mut self.ready);
        self.ready_rows = 0;
        let fresh = std::mem::take(&mut self.meds.fresh);
        // A send fails only when the checking thread has stopped; its error
        // is reported when it is joined.
        let _ = tx.send(Work { fresh, groups });
    }

    /// Hands over the spilled rows, one partition of patients at a time.
    /// Patients first seen once rows waited on disk are numbered here,
    /// after those seen before. Split patients' groups (gathered in the
    /// second read) are numbered read 2, so their first-read findings are
    /// dropped.
    fn drain_spill(&mut self, tx: &Sender) -> Result<(), BatchError> {
        let Some(spill) = self.spill.take() else {
            return Ok(());
        };
        let seen = &self.seen;
        let late = &mut self.late_patients;
        spill
            .drain(
                self.context.conditions(),
                |id, known| match known.then(|| seen.get(id)).flatten() {
                    Some(pid) if seen.state(pid) == PatientState::Split => (pid, 2),
                    Some(pid) => (pid, 1),
                    None => {
                        *late += 1;
                        ((seen.len() + *late - 1) as u32, 1)
                    }
                },
                |mut groups| {
                    // In hand-overs of about BATCH_ROWS rows, so that the
                    // channel holds little more than that.
                    while !groups.is_empty() {
                        let mut rows = 0;
                        let take = groups
                            .iter()
                            .take_while(|g| {
                                rows += g.rows.len();
                                rows <= BATCH_ROWS
                            })
                            .count()
                            .max(1);
                        let rest = groups.split_off(take);
                        let _ = tx.send(Work {
                            fresh: Vec::new(),
                            groups: std::mem::replace(&mut groups, rest),
                        });
                    }
                },
            )
            .map_err(|source| BatchError::Write {
                what: "the row spill",
                source,
            })
    }
}

/// Whether rows look scattered: `reopened` of the `routed` rows so far went
/// to one of `patients` whose group had already been closed.
fn scattered(reopened: usize, patients: usize, routed: usize) -> bool {
    reopened >= SCATTERED_MIN && (reopened * 10 > patients || reopened * SCATTERED_SHARE > routed)
}

/// Largest row buffer handed back for reuse (rows).
const RECYCLE_MAX_ROWS: usize = 4096;
/// Most row buffers waiting to be reused; more are freed (the reader takes
/// none while rows go to the spill).
const RECYCLE_MAX_BUFFERS: usize = 4096;

/// The checking thread's end of the row-buffer return path. Groups are
/// filled on the reading thread and dropped on the checking one; handing
/// their buffers back keeps the reader from asking the allocator for fresh
/// memory (and the kernel for fresh zeroed pages) for every patient.
struct RowBuffers(mpsc::SyncSender<Vec<Row>>);

impl RowBuffers {
    fn give(&self, rows: Vec<Row>) {
        if rows.capacity() <= RECYCLE_MAX_ROWS {
            // Emptied by `Group::with_rows` when reused. When enough wait
            // already, or the reader is done, the buffer is just freed.
            let _ = self.0.try_send(rows);
        }
    }
}

/// The reading thread's end of the row-buffer return path.
struct RecycledRows(mpsc::Receiver<Vec<Row>>);

impl RecycledRows {
    fn take(&self) -> Option<Vec<Row>> {
        self.0.try_recv().ok()
    }
}

/// Work for the checking thread: new strings to resolve, then groups.
struct Work {
    fresh: Vec<Box<str>>,
    groups: Vec<Group>,
}

type Sender = mpsc::SyncSender<Work>;

/// Lowers the calling thread's scheduling priority a little (nice +5). The
/// reading thread bounds the speed of a run; the threads it feeds (checking,
/// spooling, hashing) have slack, and when they share its core in equal
/// time slices the whole run waits. With a lower priority they take the
/// time the reader leaves, and a full hand-over channel still stops the
/// reader when they fall behind. Linux only; a refusal changes nothing.
pub(crate) fn defer_to_reader() {
    #[cfg(target_os = "linux")]
    {
        let tid = Some(rustix::thread::gettid());
        // Best effort: raising one's own nice value needs no privilege.
        if let Ok(nice) = rustix::process::getpriority_process(tid) {
            let _ = rustix::process::setpriority_process(tid, (nice + DEFER_BY).min(19));
        }
    }
}

/// How much lower the threads that serve the reader run (nice steps).
#[cfg(target_os = "linux")]
const DEFER_BY: i32 = 5;

fn record_reader(opts: &BatchOptions, mut input: reader::Input) -> RecordReader<reader::Input> {
    let tap = input.take_tap();
    RecordReader::new(input, opts.delimiter).tapped(tap)
}

/// Runs a whole batch: reads every row, checks every patient, and returns
/// the summary and the rendered findings in patient-id order. Findings are
/// rendered into `spool` (made by the caller, who knows where the output
/// goes and what header it starts with).
pub fn run(
    kb: &KbIndex,
    opts: &BatchOptions,
    render: &Renderer<'_>,
    spool: Spool,
    hooks: &mut dyn Hooks,
) -> Result<BatchRun, BatchError> {
    let started = Instant::now();
    let label = opts.input.label();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        // Named, so a profile tells the checking work from the reader's.
        .thread_name(|i| format!("crampcheck-pool{i}"))
        .start_handler(|_| defer_to_reader())
        .build()
        .map_err(|e| BatchError::Worker(e.to_string()))?;
    let threads = pool.current_num_threads();
    let mut rdr = record_reader(opts, opts.input.open()?);
    let header = match rdr.next_record() {
        Ok(Some((_, rec))) => HeaderMap::new(&rec),
        Ok(None) => HeaderMap::new(&csv::ByteRecord::new()),
        Err(e) => return Err(opts.input.read_error(e)),
    };
    let mut counts = Counts::default();
    if header.names().is_empty() || header.names() == [""] {
        counts
            .warnings
            .push("the input is empty: no header, no rows".to_owned());
        record_hash(rdr, &opts.input, &mut counts)?;
        let (output, stats) = spool.finish(&[], threads > 1).map_err(spool_error)?;
        return Ok(BatchRun {
            summary: Summary::build(kb, opts, counts, stats, &[], &[], started, threads),
            output,
        });
    }
    let layout = Layout::new(&header, &opts.columns, &label)?;
    for dup in &layout.duplicates {
        counts.warnings.push(format!(
            "column name `{dup}` occurs more than once in the header; the first one is used"
        ));
    }
    let with_context = opts.columns.context.any() && opts.patients.is_none();
    let (give_back, recycled) = mpsc::sync_channel(RECYCLE_MAX_BUFFERS);
    let give_back = RowBuffers(give_back);
    let mut state = ReadState {
        context: ContextParser::new(kb, &layout),
        checker: RowChecker::new(layout, opts.max_field),
        meds: Interner {
            ids: HashMap::new(),
            fresh: Vec::new(),
            rows: Vec::new(),
        },
        seen: Seen::default(),
        current: None,
        ready: Vec::new(),
        ready_rows: 0,
        spill: (!opts.input.rereadable()).then(|| Spill::new(None)),
        recycled: RecycledRows(recycled),
        input_bytes: match &opts.input {
            InputSource::File(path) => std::fs::metadata(path).ok().map(|m| m.len()),
            InputSource::Stdin | InputSource::Stream(_) => None,
        },
        reopened: 0,
        routed: 0,
        scattered_after: None,
        late_patients: 0,
        sent_any: false,
        with_context,
        as_of: opts.as_of,
    };
    let (tx, rx) = mpsc::sync_channel::<Work>(2);
    let worker_result = std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("crampcheck-check".to_owned())
            .spawn_scoped(scope, || {
                defer_to_reader();
                check_thread(kb, opts, &pool, render, spool, rx, give_back)
            })
            .map_err(|e| BatchError::Worker(e.to_string()));
        let worker = match worker {
            Ok(w) => w,
            Err(e) => return Err(e),
        };
        let read = read_all(&mut rdr, &mut state, &mut counts, hooks, &tx, &opts.input);
        let read = read.and_then(|()| {
            state.close_current(&tx);
            state.send(&tx);
            if !state.seen.split_patients().is_empty() {
                second_read(opts, &mut state)?;
            }
            state.drain_spill(&tx)
        });
        drop(tx);
        let checked = worker
            .join()
            .map_err(|_| BatchError::Worker("the checking thread panicked".to_owned()))
            .and_then(|r| r);
        read?;
        checked
    });
    let checked = worker_result?;
    record_hash(rdr, &opts.input, &mut counts)?;
    counts.warnings.extend(layout_warnings(&state));
    counts.patients = ((state.seen.len() + state.late_patients) as u64)
        .saturating_sub(checked.counted.empty_ids(state.seen.split_patients()));
    counts.patients_without_context = checked.counted.without_context;
    counts.patients_without_proposed_drug = checked
        .counted
        .unproposed_patients(state.seen.split_patients());
    counts.patients_with_conflicting_values = checked
        .counted
        .conflicting_patients(state.seen.split_patients());
    counts.warnings.extend(conflict_warning(
        &counts.patients_with_conflicting_values,
        opts.columns.start.is_some(),
    ));
    let (output, stats) = checked
        .spool
        .finish(state.seen.split_patients(), threads > 1)
        .map_err(spool_error)?;
    Ok(BatchRun {
        summary: Summary::build(
            kb,
            opts,
            counts,
            stats,
            &checked.meds,
            &state.meds.rows,
            started,
            threads,
        ),
        output,
    })
}

/// Patients whose rows gave two values of one lab: which value was used,
/// so that a stale value is not taken silently.
fn conflict_warning(by_lab: &[u64; 5], dated: bool) -> Option<String> {
    let patients: u64 = by_lab.iter().sum();
    if patients == 0 {
        return None;
    }
    let labs: Vec<String> = context::lab_names()
        .zip(by_lab)
        .filter(|(_, n)| **n > 0)
        .map(|(lab, n)| format!("{lab} {n}"))
        .collect();
    let rule = match dated {
        true => {
            "the value on the row with the latest start date was used (the later row when starts tie)"
        }
        false => "the value on the later row was used (give --start-col to use the latest by date)",
    };
    Some(format!(
        "patients whose rows disagree on a lab value ({}): {rule}; see patients_with_conflicting_values",
        labs.join(", ")
    ))
}

/// What the layout of the rows cost, for whoever prepares the file: rows
/// of many patients scattered, or patients checked early that came back.
fn layout_warnings(state: &ReadState<'_>) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(rows) = state.scattered_after {
        warnings.push(format!(
            "the rows of many patients are scattered (noticed after {rows} rows): from there on \
             rows waited on disk and were checked after the last one; a file grouped by patient \
             is checked faster and in less memory"
        ));
    }
    let split = state.seen.split_patients().len();
    if split > 0 {
        warnings.push(format!(
            "{split} patient(s) had rows again after their earlier rows were checked: the file \
             was read a second time to check each of them as one list"
        ));
    }
    warnings
}

/// Records the input's SHA-256 and size, once the reader has read it all.
fn record_hash(
    rdr: RecordReader<reader::Input>,
    input: &InputSource,
    counts: &mut Counts,
) -> Result<(), BatchError> {
    let (sha256, bytes) = rdr.into_inner().finish().map_err(|e| input.read_error(e))?;
    counts.sha256 = sha256;
    counts.bytes = bytes;
    Ok(())
}

/// A failed write to the output spool.
fn spool_error(source: io::Error) -> BatchError {
    BatchError::Write {
        what: "the output spool",
        source,
    }
}

/// The first read: every row validated and routed to its patient; once rows
/// wait on disk, the rest goes through [`read_spilled`].
fn read_all(
    rdr: &mut RecordReader<reader::Input>,
    state: &mut ReadState<'_>,
    counts: &mut Counts,
    hooks: &mut dyn Hooks,
    tx: &Sender,
    input: &InputSource,
) -> Result<(), BatchError> {
    while let Some((line, rec)) = rdr.next_record().map_err(|e| input.read_error(e))? {
        counts.rows_read += 1;
        let (valid, reject) = state.admit(&rec, line, true);
        let used = valid.is_some();
        let outcome = valid
            .map_or(Ok(()), |valid| state.route(valid, tx))
            .and_then(|()| counts.rejected_after_use(used, reject));
        settle(outcome, counts, hooks)?;
        if counts.rows_read.is_multiple_of(PROGRESS_EVERY) {
            hooks.progress(counts.rows_read);
        }
        if state.spill.is_some() {
            read_spilled(rdr, state, counts, hooks, input)?;
            break;
        }
    }
    hooks.progress(counts.rows_read);
    Ok(())
}

/// Counts a row as checked, or reports it as rejected.
#[inline(always)]
fn settle(
    outcome: Result<(), Reject>,
    counts: &mut Counts,
    hooks: &mut dyn Hooks,
) -> Result<(), BatchError> {
    match outcome {
        Ok(()) => counts.rows_checked += 1,
        Err(reject) => {
            counts.reject(reject.reason);
            hooks.reject(&reject).map_err(|source| BatchError::Write {
                what: "the rejects",
                source,
            })?;
        }
    }
    Ok(())
}

/// Rows handed to the routing thread at once.
const ROUTE_BATCH: usize = 4096;

/// Reads the rest of the input once every row waits on disk: this thread
/// parses and validates each row, and a routing thread
/// ([`router::route_batches`]) writes it, with its context, to the spill
/// (or splits its patient). The result is the same as routing each row
/// here, in the same order.
fn read_spilled(
    rdr: &mut RecordReader<reader::Input>,
    state: &mut ReadState<'_>,
    counts: &mut Counts,
    hooks: &mut dyn Hooks,
    input: &InputSource,
) -> Result<(), BatchError> {
    let Some(spill) = state.spill.take() else {
        return Ok(());
    };
    let seen = std::mem::take(&mut state.seen);
    let (to_router, batches) = mpsc::sync_channel::<RowBatch>(4);
    let (give_back, empties) = mpsc::sync_channel::<RowBatch>(4);
    std::thread::scope(|scope| {
        // The routing thread owns the table and the spill while it runs, so
        // they sit on its own stack: on this thread's, beside the reading
        // loop's variables, each of its reads of them was a cache line
        // taken back from the reading thread (false sharing).
        let router = std::thread::Builder::new()
            .name("crampcheck-route".to_owned())
            .spawn_scoped(scope, move || {
                let (mut seen, mut spill) = (seen, spill);
                router::route_batches(&mut seen, &mut spill, batches, &give_back);
                (seen, spill)
            })
            .map_err(|e| BatchError::Worker(e.to_string()))?;
        let mut batch = RowBatch::default();
        let mut read = || -> Result<(), BatchError> {
            while let Some((line, rec)) = rdr.next_record().map_err(|e| input.read_error(e))? {
                counts.rows_read += 1;
                let (valid, reject) = state.admit(&rec, line, true);
                let used = valid.is_some();
                let mut outcome = Ok(());
                if let Some(valid) = &valid {
                    // The routing thread writes ids without looking at
                    // them: they are checked here.
                    outcome = state.check_patient_id(valid);
                    if outcome.is_ok() {
                        state.count(&valid.row);
                        batch.push(valid.patient, &valid.row, &valid.context);
                    }
                }
                if outcome.is_ok() {
                    outcome = counts.rejected_after_use(used, reject);
                }
                settle(outcome, counts, hooks)?;
                if batch.len() >= ROUTE_BATCH {
                    let next = empties.try_recv().unwrap_or_default();
                    // A send fails only when the routing thread has
                    // stopped; its panic is reported when it is joined.
                    if to_router.send(std::mem::replace(&mut batch, next)).is_err() {
                        break;
                    }
                }
                if counts.rows_read.is_multiple_of(PROGRESS_EVERY) {
                    hooks.progress(counts.rows_read);
                }
            }
            Ok(())
        };
        let read = read();
        if batch.len() > 0 {
            let _ = to_router.send(batch);
        }
        drop(to_router);
        let (seen, spill) = router
            .join()
            .map_err(|_| BatchError::Worker("the routing thread panicked".to_owned()))?;
        state.seen = seen;
        state.spill = Some(spill);
        read
    })
}

/// Reads the file again, gathering every row of the patients whose rows
/// turned out to be far apart (into the spill); rows were counted (and
/// rejects reported) in the first read, so this one only groups.
fn second_read(opts: &BatchOptions, state: &mut ReadState<'_>) -> Result<(), BatchError> {
    let mut spill = state
        .spill
        .take()
        .unwrap_or_else(|| Spill::new(state.input_bytes));
    // Only the split patients are looked up, in a table of their own: the
    // table of all patients can be far larger than the processor's caches,
    // and this pass looks up every row.
    let split = state.seen.split_ids();
    let mut rdr = record_reader(opts, opts.input.reopen()?);
    let read_error = |e| opts.input.read_error(e);
    // The header.
    rdr.next_record().map_err(read_error)?;
    while let Some((line, rec)) = rdr.next_record().map_err(read_error)? {
        let Some(valid) = state.admit(&rec, line, false).0 else {
            continue;
        };
        if split.contains(valid.patient) {
            spill.push(valid.patient, &valid.row, &valid.context, true);
        }
    }
    state.spill = Some(spill);
    Ok(())
}

/// What the checking thread hands back.
struct Checked {
    spool: Spool,
    meds: Vec<Resolved>,
    counted: Counted,
}

/// Patients counted while checking, for the summary.
#[derive(Default)]
struct Counted {
    /// Patients without a row in the `--patients` file.
    without_context: u64,
    /// With `--propose-col`: first-read patients with no drug to propose on
    /// any row, by number (a patient gathered again in the second read is
    /// counted from that read instead).
    unproposed: Vec<u32>,
    /// With `--propose-col`: second-read patients with no drug to propose.
    unproposed_again: u64,
    /// First-read patients whose rows disagreed on a lab value, with the
    /// labs (a [`context::MergedContext`]'s `conflicts`), by number.
    conflicting: Vec<(u32, u8)>,
    /// Second-read patients whose rows disagreed on a lab value, by lab.
    conflicting_again: [u64; 5],
    /// First-read ids whose every row was rejected (a rejected row's
    /// context made them a group), by number: not patients.
    empty: Vec<u32>,
    /// Second-read ids whose every row was rejected.
    empty_again: u64,
}

impl Counted {
    fn add(&mut self, other: Counted) {
        self.without_context += other.without_context;
        self.unproposed.extend(other.unproposed);
        self.unproposed_again += other.unproposed_again;
        self.conflicting.extend(other.conflicting);
        self.empty.extend(other.empty);
        self.empty_again += other.empty_again;
        for (mine, theirs) in self
            .conflicting_again
            .iter_mut()
            .zip(other.conflicting_again)
        {
            *mine += theirs;
        }
    }

    /// Patients whose rows disagreed on a lab value, by lab: the first
    /// read's, less those gathered again (`split`), plus the second read's.
    fn conflicting_patients(&self, split: &[u32]) -> [u64; 5] {
        let split: foldhash::HashSet<u32> = split.iter().copied().collect();
        let mut by_lab = self.conflicting_again;
        for &(_, labs) in self.conflicting.iter().filter(|(p, _)| !split.contains(p)) {
            for (slot, n) in by_lab.iter_mut().enumerate() {
                *n += u64::from(labs >> slot & 1);
            }
        }
        by_lab
    }

    /// Patients for whom nothing was proposed: the first read's, less those
    /// gathered again (`split`), plus the second read's.
    fn unproposed_patients(&self, split: &[u32]) -> u64 {
        first_read_less_split(&self.unproposed, split) + self.unproposed_again
    }

    /// Ids with no usable row (see `empty`), counted as
    /// [`Counted::unproposed_patients`] counts.
    fn empty_ids(&self, split: &[u32]) -> u64 {
        first_read_less_split(&self.empty, split) + self.empty_again
    }
}

/// How many of the first read's patients `pids` were not gathered again
/// (`split`): a patient gathered again is counted from the second read.
fn first_read_less_split(pids: &[u32], split: &[u32]) -> u64 {
    let split: foldhash::HashSet<u32> = split.iter().copied().collect();
    pids.iter().filter(|p| !split.contains(p)).count() as u64
}

/// Chunks of patients being checked or waiting to be written, at most: the
/// rendered output held in memory is bounded by this many chunks.
const IN_FLIGHT_CHUNKS: u64 = 64;

fn check_thread(
    kb: &KbIndex,
    opts: &BatchOptions,
    pool: &rayon::ThreadPool,
    render: &Renderer<'_>,
    mut spool: Spool,
    rx: mpsc::Receiver<Work>,
    recycle: RowBuffers,
) -> Result<Checked, BatchError> {
    use rayon::prelude::*;
    let resolver = crate::resolve::Resolver::new(kb);
    let therapies = group::therapy_drugs(kb);
    let mut tables = std::sync::Arc::new(MedTables::default());
    let probes = group::ProbeCache::default();
    let mut counted = Counted::default();
    // Chunks go to the pool as soon as they arrive and are written in
    // order as they come back: no chunk waits for a slice's slowest one,
    // so both cores stay busy while the reader hands over more.
    let returned = Returned::default();
    let mut sent: u64 = 0;
    let (probes, recycle, returned) = (&probes, &recycle, &returned);
    pool.in_place_scope(|scope| -> Result<(), BatchError> {
        for mut work in rx {
            in_id_order(&mut work.groups);
            if !work.fresh.is_empty() {
                let resolved: Vec<Resolved> = pool.install(|| {
                    work.fresh
                        .par_iter()
                        .map(|text| resolver.resolve(crate::parse::parse_med(text)))
                        .collect()
                });
                // The tables grow only when no task reads them.
                returned.collect_until(0, sent, &mut spool, &mut counted)?;
                std::sync::Arc::make_mut(&mut tables).extend(resolved, &therapies);
            }
            let mut groups = work.groups.into_iter();
            loop {
                let chunk: Vec<Group> = groups.by_ref().take(RENDER_CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                let room = IN_FLIGHT_CHUNKS - 1;
                returned.collect_until(room, sent, &mut spool, &mut counted)?;
                let (seq, tables) = (sent, std::sync::Arc::clone(&tables));
                sent += 1;
                scope.spawn(move |_| {
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        let shared = Shared {
                            kb,
                            meds: &tables.meds,
                            therapy: &tables.therapy,
                            plain: &tables.plain,
                            mode: &opts.mode,
                            as_of: opts.as_of,
                            dated: opts.columns.start.is_some(),
                            jurisdiction: opts.jurisdiction,
                            patients: opts.patients.as_ref(),
                            probes,
                        };
                        check_and_render(kb, opts, &shared, &chunk, render)
                    }));
                    // Let go of the tables before the result is seen.
                    drop(tables);
                    for group in chunk {
                        recycle.give(group.rows);
                    }
                    returned.put(seq, result);
                });
            }
        }
        returned.collect_until(0, sent, &mut spool, &mut counted)
    })?;
    let tables = std::sync::Arc::try_unwrap(tables)
        .map_err(|_| BatchError::Worker("a checking task outlived the run".to_owned()))?;
    Ok(Checked {
        spool,
        meds: tables.meds,
        counted,
    })
}

/// Checked chunks on their way back from the pool to the checking thread,
/// which writes them in order. The thread is woken when a good number of
/// them can be written, not for each one: waking it for every chunk took a
/// core from a checking task thousands of times a run.
#[derive(Default)]
struct Returned {
    state: std::sync::Mutex<ReturnedState>,
    ready: std::sync::Condvar,
}

#[derive(Default)]
struct ReturnedState {
    order: InOrder<CheckedChunk>,
    /// The checking thread waits until the chunks before this one can all
    /// be written (`None`: it is not waiting).
    wake_at: Option<u64>,
}

/// When the checking thread must wait for room among the chunks in flight,
/// it waits for this many more than it needs (at most), so that it wakes
/// once for several chunks.
const WAKE_SLACK: u64 = 16;

impl Returned {
    /// Hands back chunk `seq`, waking the checking thread if it waits for
    /// it.
    fn put(&self, seq: u64, chunk: CheckedChunk) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.order.put(seq, chunk);
        if state
            .wake_at
            .is_some_and(|at| state.order.ready_until() >= at)
        {
            state.wake_at = None;
            self.ready.notify_one();
        }
    }

    /// Writes checked chunks to the spool as they come back, in order,
    /// until at most `limit` of the `sent` chunks are still out.
    fn collect_until(
        &self,
        limit: u64,
        sent: u64,
        spool: &mut Spool,
        counted: &mut Counted,
    ) -> Result<(), BatchError> {
        let mut ready = Vec::new();
        loop {
            {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if sent - state.order.next <= limit {
                    return Ok(());
                }
                let wanted = sent - limit.saturating_sub(WAKE_SLACK);
                while state.order.ready_until() < wanted {
                    state.wake_at = Some(wanted);
                    state = self
                        .ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                ready.extend(std::iter::from_fn(|| state.order.pop()));
            }
            for result in ready.drain(..) {
                let checked = result
                    .map_err(|_| BatchError::Worker("a checking task panicked".to_owned()))?;
                let (rendered, chunk) = checked.map_err(spool_error)?;
                counted.add(chunk);
                spool.push(rendered).map_err(spool_error)?;
            }
        }
    }
}

/// What every checking task reads: the resolved drug strings and their
/// flags. Shared by the tasks in flight; extended only when none is.
#[derive(Clone, Default)]
struct MedTables {
    meds: Vec<Resolved>,
    therapy: Vec<bool>,
    plain: Vec<bool>,
}

impl MedTables {
    /// Adds newly resolved strings, flagging the cramp therapies.
    fn extend(&mut self, resolved: Vec<Resolved>, therapies: &[crate::kb::index::DrugId]) {
        for r in &resolved {
            let is_therapy = r.ingredients.iter().any(|i| therapies.contains(&i.drug));
            self.therapy.push(is_therapy);
            self.plain.push(!is_therapy && r.is_exact());
        }
        self.meds.extend(resolved);
    }
}

/// One chunk of patients checked and rendered (or the panic that stopped
/// it).
type CheckedChunk = std::thread::Result<io::Result<(RenderedPatients, Counted)>>;

/// Items numbered 0, 1, 2, … that arrive in any order, given back in
/// number order: checked chunks come back from the pool as they finish and
/// are written in the order they were handed out.
struct InOrder<T> {
    /// The number of the next item to give back.
    next: u64,
    /// Items from `next` on; `None` for those not yet arrived.
    waiting: std::collections::VecDeque<Option<T>>,
    /// How many items from `next` on have all arrived.
    arrived: usize,
}

impl<T> Default for InOrder<T> {
    fn default() -> Self {
        InOrder {
            next: 0,
            waiting: std::collections::VecDeque::new(),
            arrived: 0,
        }
    }
}

impl<T> InOrder<T> {
    /// Takes item number `seq` (not given back yet).
    fn put(&mut self, seq: u64, item: T) {
        let at = (seq - self.next) as usize;
        if self.waiting.len() <= at {
            self.waiting.resize_with(at + 1, || None);
        }
        self.waiting[at] = Some(item);
        while matches!(self.waiting.get(self.arrived), Some(Some(_))) {
            self.arrived += 1;
        }
    }

    /// The next item in number order, once it has arrived.
    fn pop(&mut self) -> Option<T> {
        if self.arrived == 0 {
            return None;
        }
        self.arrived -= 1;
        self.next += 1;
        self.waiting.pop_front().flatten()
    }

    /// The number of the first item not yet arrived: those before it can
    /// all be given back.
    fn ready_until(&self) -> u64 {
        self.next + self.arrived as u64
    }
}

/// Puts a hand-over's groups in patient-id order (the patient number breaks
/// ties), so that the spool holds a run in id order per hand-over, copied
/// out through a window each, rather than one read per patient when a file
/// is grouped by patient but not sorted by id (a Synthea export).
fn in_id_order(groups: &mut [Group]) {
    if !groups.is_sorted_by(|a, b| a.id <= b.id) {
        groups.sort_unstable_by(|a, b| a.id.cmp(&b.id).then(a.pid.cmp(&b.pid)));
    }
}

/// Checks consecutive patients and renders their findings into one buffer;
/// also counts the patients without a row in the `--patients` file and,
/// with `--propose-col`, those with no drug to propose.
fn check_and_render(
    kb: &KbIndex,
    opts: &BatchOptions,
    shared: &Shared<'_>,
    groups: &[Group],
    render: &Renderer<'_>,
) -> io::Result<(RenderedPatients, Counted)> {
    // Room for a kilobyte of frames a patient (most of the text is pieces),
    // so the buffer is seldom moved.
    let mut frames = Frames::with_capacity(groups.len() * RENDER_ROOM);
    let mut patients = Vec::with_capacity(groups.len());
    let mut counted = Counted::default();
    for g in groups {
        if g.rows.is_empty() {
            // Only rejected rows brought this id context: no medication,
            // nothing to check, not a patient.
            match g.pass {
                1 => counted.empty.push(g.pid),
                _ => counted.empty_again += 1,
            }
            continue;
        }
        let (findings, has_context) = group::check_patient(shared, g);
        if !has_context && opts.patients.is_some() && g.pass == 1 {
            counted.without_context += 1;
        }
        let conflicts = g.context.as_ref().map_or(0, |c| c.conflicts);
        if conflicts != 0 {
            match g.pass {
                1 => counted.conflicting.push((g.pid, conflicts)),
                _ => {
                    for (slot, n) in counted.conflicting_again.iter_mut().enumerate() {
                        *n += u64::from(conflicts >> slot & 1);
                    }
                }
            }
        }
        if matches!(opts.mode, Mode::ProposeColumn) && g.rows.iter().all(|r| r.proposed == NO_MED) {
            match g.pass {
                1 => counted.unproposed.push(g.pid),
                _ => counted.unproposed_again += 1,
            }
        }
        if findings.is_empty() {
            continue;
        }
        let before = frames.len();
        render(
            kb,
            &PatientFindings {
                patient_id: &g.id,
                findings: &findings,
            },
            &mut frames,
        )?;
        frames.close();
        let len = frames.len() - before;
        patients.push(PatientOutput::new(
            g.pid,
            g.id.clone(),
            g.pass,
            len,
            &findings,
        ));
    }
    let out = RenderedPatients {
        bytes: frames.into_bytes(),
        patients,
    };
    Ok((out, counted))
}

#[cfg(test)]
mod tests {
    /// The row at which a stream of patient numbers is found scattered,
    /// counting as `route` does: a row whose patient was seen before, and
    /// is not the previous row's, returns to a closed group.
    fn found_scattered_at(patients: impl Iterator<Item = usize>) -> Option<usize> {
        let mut seen = std::collections::HashSet::new();
        let (mut reopened, mut previous) = (0, None);
        for (row, patient) in patients.enumerate() {
            if !seen.insert(patient) && previous != Some(patient) {
                reopened += 1;
            }
            previous = Some(patient);
            if super::scattered(reopened, seen.len(), row + 1) {
                return Some(row + 1);
            }
        }
        None
    }

    /// Patient numbers spread at random over `patients`, `rows` of them.
    fn shuffled(rows: usize, patients: usize) -> impl Iterator<Item = usize> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..rows).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % patients as u64) as usize
        })
    }

    #[test]
    fn scattered_rows_are_found_before_the_first_hand_over() {
        // Few rows a patient (10M rows of 1M patients) or many (33 each):
        // either way the rows wait on disk before any group is checked, so
        // no patient has to be gathered again in a second read.
        for patients in [1_000_000, 30_303] {
            let at = found_scattered_at(shuffled(super::HOLD_ROWS, patients));
            assert!(at.is_some(), "{patients} patients: not found scattered");
        }
    }

    #[test]
    fn contiguous_rows_with_a_few_patients_far_apart_are_not_scattered() {
        // 33 rows a patient in order, and every 20th patient's row again
        // at the end of the file: 1,516 rows return to closed patients,
        // more than SCATTERED_MIN but a small share of rows and patients.
        let contiguous = (0..30_303).flat_map(|p| std::iter::repeat_n(p, 33));
        let late = (0..30_303).step_by(20);
        assert_eq!(found_scattered_at(contiguous.chain(late)), None);
    }

    #[test]
    fn chunks_are_given_back_in_the_order_they_were_handed_out() {
        let mut order = super::InOrder::default();
        order.put(2, 'c');
        order.put(1, 'b');
        assert_eq!(order.pop(), None, "0 has not arrived");
        order.put(0, 'a');
        let mut out = Vec::new();
        while let Some(c) = order.pop() {
            out.push(c);
        }
        assert_eq!(out, ['a', 'b', 'c']);
        order.put(4, 'e');
        assert_eq!(order.pop(), None, "3 has not arrived");
        order.put(3, 'd');
        assert_eq!(
            (order.pop(), order.pop(), order.pop()),
            (Some('d'), Some('e'), None)
        );
    }

    #[test]
    fn the_items_ready_to_give_back_end_at_the_first_one_missing() {
        let mut order = super::InOrder::default();
        assert_eq!(order.ready_until(), 0);
        order.put(1, 'b');
        order.put(3, 'd');
        assert_eq!(order.ready_until(), 0, "0 has not arrived");
        order.put(0, 'a');
        assert_eq!(order.ready_until(), 2, "0 and 1, not 3 past the gap");
        assert_eq!(order.pop(), Some('a'));
        assert_eq!(order.ready_until(), 2);
        order.put(2, 'c');
        assert_eq!(order.ready_until(), 4);
        let rest: Vec<char> = std::iter::from_fn(|| order.pop()).collect();
        assert_eq!(rest, ['b', 'c', 'd']);
        assert_eq!((order.ready_until(), order.next), (4, 4));
    }

    #[test]
    fn a_hand_over_is_checked_in_patient_id_order() {
        let group = |pid: u32, id: &str| super::Group::with_rows(pid, id.into(), 1, Vec::new());
        let mut groups = vec![
            group(0, "c3f1"),
            group(1, "0a9e"),
            group(2, "b77d"),
            group(3, "0a9e"),
        ];
        super::in_id_order(&mut groups);
        let order: Vec<(u32, &str)> = groups.iter().map(|g| (g.pid, &*g.id)).collect();
        assert_eq!(order, [(1, "0a9e"), (3, "0a9e"), (2, "b77d"), (0, "c3f1")]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn threads_that_serve_the_reader_run_at_a_lower_priority() {
        let nice = || {
            rustix::process::getpriority_process(Some(rustix::thread::gettid()))
                .expect("getpriority")
        };
        let (before, after) = std::thread::spawn(move || {
            let before = nice();
            super::defer_to_reader();
            (before, nice())
        })
        .join()
        .expect("thread");
        assert_eq!(after, (before + super::DEFER_BY).min(19));
        // Only the calling thread changed.
        let here = nice();
        assert!(here <= before, "this thread went from {before} to {here}");
    }
}
