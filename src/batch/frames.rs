//! How rendered findings are held in the spool: text that many patients
//! repeat (a finding's kind-to-rule-ids fields, rendered once per distinct
//! finding) is kept once, in a table of pieces, and the spool holds a
//! four-byte reference wherever it occurs; everything else is literal
//! text. A batch repeats a few hundred distinct findings over millions of
//! rows, so the spool, written and read back once to put the patients in
//! id order, is several times smaller than the output it stands for; the
//! output is put together from it as it is written ([`Expand`]).
//!
//! The encoding is a sequence of frames, each starting with a
//! little-endian `u32`: with the top bit clear it is a length, and that
//! many literal bytes follow; with it set, its other bits index a piece.

use std::io::{self, Write};
use std::sync::Arc;

/// The header bit that marks a reference to a piece.
const PIECE: u32 = 1 << 31;

/// The longest literal frame (a longer text takes several). Small in unit
/// tests, so that they cross frame boundaries.
const MAX_LITERAL: usize = if cfg!(test) { 16 } else { (PIECE - 1) as usize };

/// The largest piece index a reference can hold.
pub const MAX_PIECE: u32 = PIECE - 1;

/// Frames being written: text and references to pieces, in order.
#[derive(Debug, Default)]
pub struct Frames {
    bytes: Vec<u8>,
    /// Where the header of the literal frame still being added to sits.
    open: Option<usize>,
}

impl Frames {
    /// Empty frames with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Frames {
            bytes: Vec::with_capacity(capacity),
            open: None,
        }
    }

    /// Appends literal text.
    pub fn text(&mut self, mut text: &[u8]) {
        loop {
            let open = match self.open {
                Some(open) => open,
                None => {
                    let open = self.bytes.len();
                    self.bytes.extend_from_slice(&[0; 4]);
                    self.open = Some(open);
                    open
                }
            };
            let room = MAX_LITERAL - (self.bytes.len() - open - 4);
            if text.len() <= room {
                self.bytes.extend_from_slice(text);
                return;
            }
            let (now, rest) = text.split_at(room);
            self.bytes.extend_from_slice(now);
            self.close();
            text = rest;
        }
    }

    /// Appends a reference to piece `index` (at most [`MAX_PIECE`]).
    pub fn piece(&mut self, index: u32) {
        debug_assert!(index <= MAX_PIECE);
        self.close();
        self.bytes.extend_from_slice(&(index | PIECE).to_le_bytes());
    }

    /// Ends the literal frame being added to, so that the bytes so far are
    /// whole frames (done before they are measured or stored).
    pub fn close(&mut self) {
        if let Some(open) = self.open.take() {
            // At most MAX_LITERAL, which fits in 31 bits.
            let len = (self.bytes.len() - open - 4) as u32;
            self.bytes[open..open + 4].copy_from_slice(&len.to_le_bytes());
        }
    }

    /// Length of the frames so far, in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The encoded frames, closed.
    pub fn into_bytes(mut self) -> Vec<u8> {
        self.close();
        self.bytes
    }
}

impl Write for Frames {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.text(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes out the text that frames stand for, however the frames are cut
/// into the parts fed to it. The text is put together in a buffer and
/// written a buffer at a time: vectored writes straight from the frames
/// and pieces cost more in the kernel, per slice, than the copy saves,
/// whether into a pipe or a file.
pub struct Expand<'p, W: Write> {
    out: W,
    pieces: &'p [Arc<[u8]>],
    buf: Vec<u8>,
    /// Literal bytes still to come in the frame being read.
    literal: usize,
    /// The first bytes of a header cut off at the end of the last feed.
    header: [u8; 4],
    held: usize,
}

/// Bytes of text gathered before a write (a few in unit tests, so that
/// they write often).
const OUT_BUFFER: usize = if cfg!(test) { 8 } else { 256 * 1024 };

impl<'p, W: Write> Expand<'p, W> {
    /// Expands frames into `out`, with the pieces they refer to.
    pub fn new(out: W, pieces: &'p [Arc<[u8]>]) -> Self {
        Expand {
            out,
            pieces,
            buf: Vec::with_capacity(OUT_BUFFER),
            literal: 0,
            header: [0; 4],
            held: 0,
        }
    }

    /// Writes the text of the next bytes of frames.
    pub fn feed(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        loop {
            if self.literal > 0 && !bytes.is_empty() {
                let n = self.literal.min(bytes.len());
                let (text, rest) = bytes.split_at(n);
                self.emit(text)?;
                self.literal -= n;
                bytes = rest;
            }
            if bytes.is_empty() {
                return Ok(());
            }
            let take = (4 - self.held).min(bytes.len());
            self.header[self.held..self.held + take].copy_from_slice(&bytes[..take]);
            self.held += take;
            bytes = &bytes[take..];
            if self.held < 4 {
                return Ok(());
            }
            self.held = 0;
            let header = u32::from_le_bytes(self.header);
            if header & PIECE == 0 {
                self.literal = header as usize;
                continue;
            }
            let index = (header & !PIECE) as usize;
            let piece = self.pieces.get(index).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the output spool refers to piece {index}, which does not exist"),
                )
            })?;
            self.emit(piece)?;
        }
    }

    fn emit(&mut self, text: &[u8]) -> io::Result<()> {
        if text.len() >= OUT_BUFFER {
            // Long text (a field of megabytes) goes out as it is.
            self.out.write_all(&self.buf)?;
            self.buf.clear();
            return self.out.write_all(text);
        }
        self.buf.extend_from_slice(text);
        if self.buf.len() >= OUT_BUFFER {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// The writer, once every frame fed has ended and all text is written.
    pub fn finish(mut self) -> io::Result<W> {
        if self.literal > 0 || self.held > 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the output spool ends inside a frame",
            ));
        }
        self.out.write_all(&self.buf)?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces() -> Vec<Arc<[u8]>> {
        vec![
            Arc::from(&b"<first piece>"[..]),
            Arc::from(&b""[..]),
            Arc::from(&b"<a piece longer than one literal frame>"[..]),
        ]
    }

    fn sample() -> (Vec<u8>, Vec<u8>) {
        let mut frames = Frames::default();
        let mut expected = Vec::new();
        for (i, text) in ["p1,", "a literal longer than sixteen bytes,", "", "x\n"]
            .iter()
            .enumerate()
        {
            frames.text(text.as_bytes());
            expected.extend_from_slice(text.as_bytes());
            let index = (i % 3) as u32;
            frames.piece(index);
            expected.extend_from_slice(&pieces()[index as usize]);
        }
        frames.text(b"tail\n");
        expected.extend_from_slice(b"tail\n");
        (frames.into_bytes(), expected)
    }

    #[test]
    fn frames_expand_to_their_text_however_they_are_cut() {
        let (bytes, expected) = sample();
        let pieces = pieces();
        for cut in 1..=bytes.len() {
            let mut expand = Expand::new(Vec::new(), &pieces);
            for part in bytes.chunks(cut) {
                expand.feed(part).expect("feed");
            }
            let out = expand.finish().expect("whole frames");
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&expected),
                "fed {cut} bytes at a time"
            );
        }
    }

    #[test]
    fn text_is_cut_into_frames_no_longer_than_the_limit() {
        let text = vec![b'z'; MAX_LITERAL * 3 + 5];
        let mut frames = Frames::default();
        frames.text(&text);
        let bytes = frames.into_bytes();
        assert_eq!(bytes.len(), text.len() + 4 * 4, "four frames");
        let mut expand = Expand::new(Vec::new(), &[]);
        expand.feed(&bytes).expect("feed");
        assert_eq!(expand.finish().expect("whole"), text);
    }

    #[test]
    fn a_cut_frame_or_an_unknown_piece_is_an_error_not_missing_text() {
        let (bytes, _) = sample();
        let pieces = pieces();
        let mut expand = Expand::new(Vec::new(), &pieces);
        expand.feed(&bytes[..bytes.len() - 2]).expect("feed");
        assert_eq!(
            expand.finish().map_err(|e| e.kind()).err(),
            Some(io::ErrorKind::UnexpectedEof)
        );
        let mut frames = Frames::default();
        frames.piece(7);
        let mut expand = Expand::new(Vec::new(), &pieces);
        let err = expand.feed(&frames.into_bytes()).expect_err("no piece 7");
        assert!(err.to_string().contains("piece 7"), "{err}");
    }
}
