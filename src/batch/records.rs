//! The records of a batch input, each with the line it starts on.
//!
//! Most lines of a prescription export hold no quote and no carriage return
//! but the one before the line feed. Such a line is one record whatever CSV
//! dialect details apply, and its fields are the bytes between delimiters:
//! it is split where it lies in the read buffer, with no copy. Every other
//! record (quoted fields, fields with line breaks, a lone CR ending a
//! record, a line longer than the buffer) is parsed by `csv_core`, the
//! parser under the `csv` crate, configured as `csv::Reader`'s defaults. A
//! property test checks that both paths together give what `csv::Reader`
//! gives.
//!
//! Parsing was the reading thread's largest cost, and that thread bounds the
//! speed of `batch` on two cores; lines are also counted here, exactly, as
//! they are consumed.

use super::masks::{Masks, WORD};
use memchr::memchr2_iter;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::{Arc, mpsc};

/// Size of the read buffer; a line that does not fit is parsed by
/// `csv_core` in pieces.
pub const BUFFER: usize = 256 * 1024;

/// One record's fields: views into the read buffer (or into the parser's
/// output for records it parsed).
pub struct Record<'a> {
    bytes: &'a [u8],
    bounds: &'a [(usize, usize)],
    /// A quoted field of this record was still open when the input ended:
    /// every line after its opening quote was read into it.
    unterminated: bool,
}

impl Record<'_> {
    /// Whether a quoted field was left open at the end of the input (a
    /// stray quote that swallowed the rest of the file into this record).
    pub fn unterminated(&self) -> bool {
        self.unterminated
    }
}

/// Access to a record's fields, the same for this module's records and for
/// `csv::ByteRecord` (the `--patients` file is read with the `csv` crate).
pub trait Fields {
    /// Number of fields.
    fn count(&self) -> usize;
    /// Field `i`, if there is one.
    fn field(&self, i: usize) -> Option<&[u8]>;
    /// Bytes of all fields together (no field is longer).
    fn total_len(&self) -> usize;
}

impl Fields for Record<'_> {
    fn count(&self) -> usize {
        self.bounds.len()
    }

    fn field(&self, i: usize) -> Option<&[u8]> {
        self.bounds.get(i).and_then(|&(s, e)| self.bytes.get(s..e))
    }

    fn total_len(&self) -> usize {
        self.bytes.len()
    }
}

impl Fields for csv::ByteRecord {
    fn count(&self) -> usize {
        self.len()
    }

    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i)
    }

    fn total_len(&self) -> usize {
        self.as_slice().len()
    }
}

/// Bytes `range` of `buf`, as a [`RecordReader`] read them.
pub struct Chunk {
    /// The reader's buffer at the time.
    pub buf: Arc<[u8]>,
    /// The bytes just read into it.
    pub range: Range<usize>,
}

/// Where a [`RecordReader`] sends each run of bytes it reads, so that
/// another thread (the SHA-256 of the input) sees the same bytes without a
/// second read of the file or a copy: the buffer itself is shared, and the
/// reader reads on into another one until the consumer hands it back.
pub struct Tap {
    chunks: mpsc::SyncSender<Chunk>,
    returned: mpsc::Receiver<Arc<[u8]>>,
    /// Buffers handed back, perhaps still the reader's current one.
    pool: Vec<Arc<[u8]>>,
    /// Buffers made so far (at most [`TAP_BUFFERS`]).
    made: usize,
}

/// The consumer's end of a [`Tap`]: chunks come in on `chunks`, and each
/// buffer goes back on `back` once its bytes are used.
pub struct TapEnd {
    /// The chunks, in the order they were read.
    pub chunks: mpsc::Receiver<Chunk>,
    /// Buffers handed back to the reader.
    pub back: mpsc::Sender<Arc<[u8]>>,
    /// Buffers this end is to make for the reader (see [`prefilled_tap`]):
    /// how many, and their size.
    spares: Option<(usize, usize)>,
}

/// Buffers a tapped reader cycles through: one being parsed, the others
/// waiting for the consumer (which is faster than parsing, so it rarely
/// holds more than one).
const TAP_BUFFERS: usize = 16;

/// A tap and its consumer's end.
pub fn tap() -> (Tap, TapEnd) {
    let (chunks, rx) = mpsc::sync_channel(TAP_BUFFERS);
    let (back, returned) = mpsc::channel();
    (
        Tap {
            chunks,
            returned,
            pool: Vec::new(),
            made: 0,
        },
        TapEnd {
            chunks: rx,
            back,
            spares: None,
        },
    )
}

/// A tap whose consumer makes the reader's buffers (of `capacity` bytes),
/// by [`TapEnd::make_spares`] before it takes any chunk. A fresh buffer's
/// pages are faulted in where it is first written, a few milliseconds for
/// all of them, and the reading thread is the one that bounds a run. The
/// reader makes none of its own unless the consumer is gone.
pub fn prefilled_tap(capacity: usize) -> (Tap, TapEnd) {
    let (mut tap, mut end) = tap();
    tap.made = TAP_BUFFERS;
    end.spares = Some((TAP_BUFFERS, capacity));
    (tap, end)
}

impl TapEnd {
    /// Makes the buffers a [`prefilled_tap`]'s reader waits for, one at a
    /// time so that the reader can start on the first.
    pub fn make_spares(&mut self) {
        if let Some((count, capacity)) = self.spares.take() {
            for _ in 0..count {
                let buf: Arc<[u8]> = vec![0; capacity].into();
                if self.back.send(buf).is_err() {
                    return;
                }
            }
        }
    }
}

impl Tap {
    /// A buffer of `capacity` bytes that nobody else holds: one handed back,
    /// a new one while fewer than [`TAP_BUFFERS`] exist, or else the next
    /// one the consumer hands back.
    fn spare(&mut self, capacity: usize) -> Arc<[u8]> {
        while let Ok(buf) = self.returned.try_recv() {
            self.pool.push(buf);
        }
        loop {
            if let Some(i) = self.pool.iter().position(|b| Arc::strong_count(b) == 1) {
                return self.pool.swap_remove(i);
            }
            if self.made < TAP_BUFFERS {
                self.made += 1;
                return vec![0; capacity].into();
            }
            match self.returned.recv() {
                Ok(buf) => self.pool.push(buf),
                // The consumer is gone (it panicked): reading goes on, and
                // its failure is reported when it is joined.
                Err(_) => return vec![0; capacity].into(),
            }
        }
    }
}

/// Reads records from a byte stream.
pub struct RecordReader<R> {
    input: R,
    /// Shared only with a [`Tap`]'s consumer; otherwise this reader's alone.
    buf: Arc<[u8]>,
    tap: Option<Tap>,
    /// Bytes `start..end` of `buf` are read and not yet consumed.
    start: usize,
    end: usize,
    eof: bool,
    /// Whether the stream's first bytes were checked for a byte-order mark.
    started: bool,
    delimiter: u8,
    /// Whether the fast path applies (not with a delimiter that is a quote
    /// or a line end).
    fast: bool,
    /// Position in `buf` of the next quote or CR at or after some earlier
    /// record start (`end` when there was none); reset when `buf` changes.
    special: Option<usize>,
    /// Where the delimiters, line feeds, quotes and CRs of `buf[..end]`
    /// are (fast path only).
    masks: Masks,
    /// Leading mask words whose bytes have not moved since they were marked.
    marked: usize,
    core: csv_core::Reader,
    /// Line ends consumed so far: an LF, a CR, or a CR and LF together
    /// (files saved with CR alone, as old Mac exports are, have lines too).
    lines: u64,
    /// Whether the last byte consumed was a CR, so that an LF right after it
    /// ends no second line.
    after_cr: bool,
    bounds: Vec<(usize, usize)>,
    /// Output of `csv_core` for the record it parsed last (the first
    /// `parsed_len` bytes).
    parsed: Vec<u8>,
    parsed_len: usize,
    ends: Vec<usize>,
    /// The record parsed last ended inside a quoted field, at the end of
    /// the input.
    unterminated: bool,
}

/// Where a record's bytes stand with respect to quoting, byte by byte, as
/// `csv_core` reads them: enough to tell a quoted field still open at the
/// end of the input.
#[derive(Clone, Copy, PartialEq)]
enum Quoting {
    /// At the start of a field.
    FieldStart,
    /// In a field that did not start with a quote.
    Unquoted,
    /// In a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field (it closes the field, or
    /// escapes the next quote).
    QuoteInQuoted,
}

impl Quoting {
    fn after(self, byte: u8, delimiter: u8) -> Quoting {
        let boundary = byte == delimiter || byte == b'\n' || byte == b'\r';
        match (self, byte) {
            (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
            (Quoting::Quoted, _) => Quoting::Quoted,
            (Quoting::QuoteInQuoted, b'"') => Quoting::Quoted,
            (Quoting::FieldStart, b'"') => Quoting::Quoted,
            _ if boundary => Quoting::FieldStart,
            _ => Quoting::Unquoted,
        }
    }
}

/// Where the current record's bytes are.
enum Held {
    /// `buf[from..to]`.
    Buffer(usize, usize),
    /// `parsed`.
    Parsed,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R: Read> RecordReader<R> {
    /// A reader of `input` with `delimiter` between fields.
    pub fn new(input: R, delimiter: u8) -> Self {
        Self::with_buffer(input, delimiter, BUFFER)
    }

    /// Same with a read buffer of `capacity` bytes (small ones make tests
    /// cross buffer boundaries).
    fn with_buffer(input: R, delimiter: u8, capacity: usize) -> Self {
        RecordReader {
            input,
            buf: vec![0; capacity.max(BOM.len())].into(),
            tap: None,
            start: 0,
            end: 0,
            eof: false,
            started: false,
            delimiter,
            fast: !matches!(delimiter, b'"' | b'\r' | b'\n'),
            special: None,
            masks: Masks::default(),
            marked: 0,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            lines: 0,
            after_cr: false,
            bounds: Vec::new(),
            parsed: vec![0; 1024],
            parsed_len: 0,
            ends: vec![0; 64],
            unterminated: false,
        }
    }

    /// Sends every run of bytes read from now on through `tap`.
    pub fn tapped(mut self, tap: Option<Tap>) -> Self {
        self.tap = tap;
        self
    }

    /// The underlying stream (the tap, if any, is closed: its consumer sees
    /// the end of the chunks).
    pub fn into_inner(self) -> R {
        self.input
    }

    /// The next record and the 1-based line it starts on; `None` at the end
    /// of the input. Blank lines are skipped, as the `csv` crate does.
    #[inline(always)]
    pub fn next_record(&mut self) -> io::Result<Option<(u64, Record<'_>)>> {
        if !self.skip_line_ends()? {
            return Ok(None);
        }
        let line = self.lines + 1;
        self.unterminated = false;
        let held = match self.split_line()? {
            Some(held) => held,
            None => self.parse()?,
        };
        let bytes = match held {
            Held::Buffer(from, to) => &self.buf[from..to],
            Held::Parsed => &self.parsed[..self.parsed_len],
        };
        Ok(Some((
            line,
            Record {
                bytes,
                bounds: &self.bounds,
                unterminated: self.unterminated,
            },
        )))
    }

    /// Consumes the line ends (and, at the very start, a UTF-8 byte-order
    /// mark) before a record; `false` when the input ends first.
    fn skip_line_ends(&mut self) -> io::Result<bool> {
        loop {
            if !self.started && self.end - self.start < BOM.len() && !self.eof {
                self.fill()?;
                continue;
            }
            if !self.started {
                self.started = true;
                if self.buf[self.start..self.end].starts_with(BOM) {
                    self.start += BOM.len();
                }
            }
            while self.start < self.end {
                match self.buf[self.start] {
                    b'\n' if self.after_cr => self.after_cr = false,
                    b'\n' => self.lines += 1,
                    b'\r' => {
                        self.lines += 1;
                        self.after_cr = true;
                    }
                    _ => {
                        self.after_cr = false;
                        return Ok(true);
                    }
                }
                self.start += 1;
            }
            if self.eof || !self.fill()? {
                return Ok(false);
            }
        }
    }

    /// The fast path: a whole line in the buffer with no quote and no CR
    /// but the one before its LF (or, at the end of the input, a last line
    /// without LF) is split in place. `None` sends the record to `csv_core`.
    fn split_line(&mut self) -> io::Result<Option<Held>> {
        if !self.fast {
            return Ok(None);
        }
        let (len, used) = loop {
            self.bounds.clear();
            match self.split_held() {
                Some(lf) => break (lf - self.start, lf - self.start + 1),
                None if self.eof => break (self.end - self.start, self.end - self.start),
                None => {
                    if self.start == 0 && self.end == self.buf.len() {
                        return Ok(None);
                    }
                    self.fill()?;
                }
            }
        };
        let from = self.start;
        let mut to = from + len;
        if used > len && to > from && self.buf[to - 1] == b'\r' {
            to -= 1;
        }
        // The next quote or CR: found once per stretch of input without
        // one, not once per line.
        let special = match self.special {
            Some(at) if at >= from => at,
            _ => {
                let at = self.masks.next_special(from).unwrap_or(self.end);
                self.special = Some(at);
                at
            }
        };
        if special < to {
            return Ok(None);
        }
        self.bounds.push((field_start_of(&self.bounds), to - from));
        self.start += used;
        if used > len {
            self.lines += 1;
        }
        Ok(Some(Held::Buffer(from, to)))
    }

    /// Records in `bounds` the delimiters of the line starting at `start`,
    /// and returns where its LF is; `None` when the held bytes end first.
    fn split_held(&mut self) -> Option<usize> {
        let from = self.start;
        let mut field_start = 0;
        let mut w = from / WORD;
        let mut bits = self.masks.ends.get(w)? & (u64::MAX << (from % WORD));
        loop {
            while bits != 0 {
                let at = w * WORD + bits.trailing_zeros() as usize;
                if self.buf[at] == b'\n' {
                    return Some(at);
                }
                self.bounds.push((field_start, at - from));
                field_start = at - from + 1;
                bits &= bits - 1;
            }
            w += 1;
            bits = *self.masks.ends.get(w)?;
        }
    }

    /// Counts the line ends in the next `len` bytes, which are being consumed.
    fn count_line_ends(&mut self, len: usize) {
        let bytes = &self.buf[self.start..self.start + len];
        let mut next = 0;
        for at in memchr2_iter(b'\r', b'\n', bytes) {
            if !(bytes[at] == b'\n' && self.after_cr && at == next) {
                self.lines += 1;
            }
            self.after_cr = bytes[at] == b'\r';
            next = at + 1;
        }
        if next < len {
            self.after_cr = false;
        }
    }

    /// The general path: one record parsed by `csv_core`, from a record
    /// boundary, reading more input as it needs.
    fn parse(&mut self) -> io::Result<Held> {
        self.core.reset();
        let (mut out, mut nends) = (0, 0);
        let mut quoting = Quoting::FieldStart;
        loop {
            let input = &self.buf[self.start..self.end];
            let (result, read, wrote, ended) =
                self.core
                    .read_record(input, &mut self.parsed[out..], &mut self.ends[nends..]);
            for &byte in &input[..read] {
                quoting = quoting.after(byte, self.delimiter);
            }
            self.count_line_ends(read);
            self.start += read;
            out += wrote;
            nends += ended;
            match result {
                csv_core::ReadRecordResult::InputEmpty => {
                    if !self.eof {
                        self.fill()?;
                    }
                }
                csv_core::ReadRecordResult::OutputFull => {
                    let len = self.parsed.len() * 2;
                    self.parsed.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => break,
            }
        }
        self.unterminated = quoting == Quoting::Quoted && self.eof && self.start == self.end;
        self.parsed_len = out;
        self.bounds.clear();
        let mut field_start = 0;
        for &end in &self.ends[..nends] {
            self.bounds.push((field_start, end));
            field_start = end;
        }
        Ok(Held::Parsed)
    }

    /// Brings the masks up to date with `buf[..end]` (fast path only).
    fn mark(&mut self) {
        if self.fast {
            self.masks
                .index(&self.buf[..self.end], self.marked, self.delimiter);
            self.marked = self.end / WORD;
        }
    }

    /// Reads more input after what is held, first moving the unconsumed
    /// bytes to the front when that frees room; `false` at the end of the
    /// input (or when the buffer is full).
    fn fill(&mut self) -> io::Result<bool> {
        self.special = None;
        let buf = match (&self.tap, Arc::get_mut(&mut self.buf)) {
            (None, Some(buf)) => buf,
            _ => return self.fill_fresh(),
        };
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.marked = 0;
        } else if self.start > 0 && buf.len() - self.end < buf.len() / 2 {
            buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            self.marked = 0;
        }
        if self.end == buf.len() {
            return Ok(false);
        }
        let n = read_into(&mut self.input, &mut buf[self.end..])?;
        self.end += n;
        self.eof = n == 0;
        // The held bytes may have moved.
        self.mark();
        Ok(n > 0)
    }

    /// [`RecordReader::fill`] into a buffer of nobody else's (the current
    /// one may be with the tap's consumer): the unconsumed bytes move to its
    /// front, the input is read after them, and what was read goes out
    /// through the tap.
    fn fill_fresh(&mut self) -> io::Result<bool> {
        let held = self.end - self.start;
        if held == self.buf.len() {
            return Ok(false);
        }
        let capacity = self.buf.len();
        let mut next = match self.tap.as_mut() {
            Some(tap) => tap.spare(capacity),
            None => vec![0; capacity].into(),
        };
        let n = match Arc::get_mut(&mut next) {
            Some(buf) => {
                buf[..held].copy_from_slice(&self.buf[self.start..self.end]);
                read_into(&mut self.input, &mut buf[held..])?
            }
            // A spare buffer is never shared.
            None => return Err(io::Error::other("the read buffer is shared")),
        };
        self.buf = next;
        self.start = 0;
        self.end = held + n;
        self.marked = 0;
        self.eof = n == 0;
        if n > 0
            && let Some(tap) = &self.tap
        {
            let chunk = Chunk {
                buf: Arc::clone(&self.buf),
                range: held..held + n,
            };
            if tap.chunks.send(chunk).is_err() {
                // The consumer is gone (only a panic can do that): its
                // join reports it.
                self.tap = None;
            }
        }
        self.mark();
        Ok(n > 0)
    }
}

/// One read, retried when interrupted; 0 at the end of the input.
fn read_into(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            done => return done,
        }
    }
}

/// Where the field after the last recorded delimiter starts.
fn field_start_of(bounds: &[(usize, usize)]) -> usize {
    bounds.last().map_or(0, |&(_, end)| end + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hands out at most `step` bytes a read, to make refills happen
    /// anywhere.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(self.step).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    type Parsed = Vec<(u64, Vec<Vec<u8>>)>;

    /// Our records of `data`; with `tapped`, read through a tap whose
    /// consumer must see every byte once, in order.
    fn ours(data: &[u8], delimiter: u8, capacity: usize, step: usize, tapped: bool) -> Parsed {
        let (tap, end) = tap();
        std::thread::scope(|scope| {
            let consumer = scope.spawn(move || {
                let mut seen = Vec::new();
                for chunk in end.chunks {
                    seen.extend_from_slice(&chunk.buf[chunk.range.clone()]);
                    let _ = end.back.send(chunk.buf);
                }
                seen
            });
            let mut rdr = RecordReader::with_buffer(Trickle { data, step }, delimiter, capacity)
                .tapped(tapped.then_some(tap));
            let mut out = Vec::new();
            while let Some((line, rec)) = rdr.next_record().expect("read") {
                let fields = (0..rec.count())
                    .map(|i| rec.field(i).unwrap_or_default().to_vec())
                    .collect();
                out.push((line, fields));
            }
            drop(rdr);
            let seen = consumer.join().expect("consumer");
            if tapped {
                assert_eq!(seen, data, "what the tap shared");
            }
            out
        })
    }

    /// Line ends in `bytes`, one byte at a time: LF, CR, or CR and LF.
    fn line_ends(bytes: &[u8]) -> u64 {
        let mut n = 0;
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'\r' || (*b == b'\n' && (i == 0 || bytes[i - 1] != b'\r')) {
                n += 1;
            }
        }
        n
    }

    /// What `csv::Reader` gives, each record with the line of its first
    /// byte: one plus the line ends before it, past the byte-order mark and
    /// the line ends where the previous record stopped.
    fn reference(data: &[u8], delimiter: u8) -> Parsed {
        let mut rdr = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        let mut rec = csv::ByteRecord::new();
        let mut out = Vec::new();
        while rdr.read_byte_record(&mut rec).expect("csv") {
            let mut at = rec.position().map_or(0, |p| p.byte()) as usize;
            if at == 0 && data.starts_with(BOM) {
                at = BOM.len();
            }
            while data.get(at).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
                at += 1;
            }
            let line = 1 + line_ends(&data[..at]);
            out.push((line, rec.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    #[test]
    fn a_carriage_return_alone_ends_a_line() {
        let data = b"id,drug\rP1,quinine\rP2,\"a\rb\"\r\rP3,x\r\nP4,y";
        for capacity in [4, 7, BUFFER] {
            for tapped in [false, true] {
                let got = ours(data, b',', capacity, 3, tapped);
                let lines: Vec<u64> = got.iter().map(|(l, _)| *l).collect();
                assert_eq!(lines, [1, 2, 3, 6, 7], "capacity {capacity}");
            }
        }
    }

    #[test]
    fn plain_lines_are_split_in_place_with_their_line_numbers() {
        let data = b"\xEF\xBB\xBFid,drug\r\n\r\nP1,baclofen\r\nP2,\"quinine, 324 mg\"\nP3,\"two\nlines\"\nP4,last";
        let got = ours(data, b',', BUFFER, usize::MAX, false);
        let lines: Vec<u64> = got.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [1, 3, 4, 5, 7]);
        assert_eq!(got[0].1, [b"id".to_vec(), b"drug".to_vec()]);
        assert_eq!(got[2].1[1], b"quinine, 324 mg");
        assert_eq!(got[3].1[1], b"two\nlines");
        assert_eq!(got[4].1[1], b"last");
    }

    #[test]
    fn a_line_longer_than_the_buffer_is_read_whole() {
        let long = "x".repeat(100);
        let data = format!("a,b\n{long},{long}\nc,d\n");
        for tapped in [false, true] {
            let got = ours(data.as_bytes(), b',', 16, 7, tapped);
            assert_eq!(got, reference(data.as_bytes(), b','));
            assert_eq!(got[1].1[0].len(), 100);
        }
    }

    /// The records of `data`, read in 16-byte buffers, 5 bytes a read,
    /// through `tap` (closed at the end, so its consumer sees the end).
    fn records_through(data: &str, tap: Tap) -> usize {
        let input = Trickle {
            data: data.as_bytes(),
            step: 5,
        };
        let mut rdr = RecordReader::with_buffer(input, b',', 16).tapped(Some(tap));
        let mut records = 0;
        while rdr.next_record().expect("read").is_some() {
            records += 1;
        }
        records
    }

    #[test]
    fn a_tapped_reader_shares_every_byte_while_its_consumer_lags() {
        // A consumer slower than the reader: every buffer a tap may make is
        // soon with it, and the reader waits for one to come back.
        let data: String = (0..300).map(|i| format!("p{i},drug {i}\n")).collect();
        let (tap, end) = tap();
        let (records, seen) = std::thread::scope(|scope| {
            let consumer = scope.spawn(move || {
                let mut seen = Vec::new();
                let mut held = Vec::new();
                for chunk in end.chunks {
                    seen.extend_from_slice(&chunk.buf[chunk.range.clone()]);
                    held.push(chunk.buf);
                    if held.len() == TAP_BUFFERS - 1 {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        for buf in held.drain(..) {
                            let _ = end.back.send(buf);
                        }
                    }
                }
                seen
            });
            let records = records_through(&data, tap);
            (records, consumer.join().expect("consumer"))
        });
        assert_eq!(records, 300);
        assert_eq!(seen, data.as_bytes());
    }

    #[test]
    fn a_prefilled_tap_reads_through_its_consumer_s_buffers_or_its_own_once_it_is_gone() {
        let data: String = (0..300).map(|i| format!("p{i},drug {i}\n")).collect();
        for consumer_stays in [true, false] {
            let (tap, mut end) = prefilled_tap(16);
            let (records, seen) = std::thread::scope(|scope| {
                let consumer = scope.spawn(move || {
                    let mut seen = Vec::new();
                    if !consumer_stays {
                        // Gone before making a buffer: the reader must not
                        // wait for one forever.
                        return seen;
                    }
                    end.make_spares();
                    for chunk in end.chunks {
                        assert_eq!(chunk.buf.len(), 16, "the buffers it made");
                        seen.extend_from_slice(&chunk.buf[chunk.range.clone()]);
                        let _ = end.back.send(chunk.buf);
                    }
                    seen
                });
                let records = records_through(&data, tap);
                (records, consumer.join().expect("consumer"))
            });
            assert_eq!(records, 300, "consumer stays: {consumer_stays}");
            if consumer_stays {
                assert_eq!(seen, data.as_bytes());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Both paths together read any input as `csv::Reader` does: the
        /// same records, fields and lines, whatever the buffer size and
        /// however the bytes arrive.
        #[test]
        fn reads_what_the_csv_crate_reads(
            pieces in proptest::collection::vec(
                prop_oneof![
                    Just(&b"a"[..]), Just(&b"bc"[..]), Just(&b","[..]), Just(&b";"[..]),
                    Just(&b"\""[..]), Just(&b"\r"[..]), Just(&b"\n"[..]), Just(&b"\r\n"[..]),
                    Just(&b" "[..]), Just(&b"\xC3\xA9"[..]), Just(&b"\xFF"[..]),
                ],
                0..80,
            ),
            bom in any::<bool>(),
            semicolon in any::<bool>(),
            capacity in 4usize..64,
            step in 1usize..40,
            tapped in any::<bool>(),
        ) {
            let mut data = if bom { BOM.to_vec() } else { Vec::new() };
            data.extend(pieces.concat());
            let delimiter = if semicolon { b';' } else { b',' };
            prop_assert_eq!(
                ours(&data, delimiter, capacity, step, tapped),
                reference(&data, delimiter)
            );
        }
    }
}
