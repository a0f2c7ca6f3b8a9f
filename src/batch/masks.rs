//! Where the structural bytes of a read buffer are, one bit per byte.
//!
//! Splitting a plain line means finding its delimiters and its line feed.
//! Searching for each one separately costs a call and a setup per field;
//! marking all of them in one pass over the buffer, 16 bytes per compare,
//! leaves each field end one bit scan away. Quotes and carriage returns are
//! marked too, since a line holding one goes to the full parser.

/// Bytes covered by one mask word.
pub const WORD: usize = 64;

/// Bit `i` of word `w` describes byte `64 * w + i` of the buffer; bits past
/// the indexed bytes are clear.
#[derive(Default)]
pub struct Masks {
    /// Delimiters and line feeds: where a field of a plain line ends.
    pub ends: Vec<u64>,
    /// Quotes and carriage returns: bytes the plain split does not handle.
    pub special: Vec<u64>,
}

impl Masks {
    /// Marks `bytes` (the buffer's valid bytes, from its start), keeping
    /// the first `kept` words as they are: their bytes have not changed.
    pub fn index(&mut self, bytes: &[u8], kept: usize, delimiter: u8) {
        let words = bytes.len().div_ceil(WORD);
        self.ends.resize(words, 0);
        self.special.resize(words, 0);
        let (full, tail) = bytes.as_chunks::<WORD>();
        for (w, chunk) in full.iter().enumerate().skip(kept) {
            (self.ends[w], self.special[w]) = word_masks(chunk, delimiter);
        }
        if !tail.is_empty() && full.len() >= kept {
            (self.ends[full.len()], self.special[full.len()]) = scalar_masks(tail, delimiter);
        }
    }

    /// Position of the first quote or CR at or after `from`, if any.
    pub fn next_special(&self, from: usize) -> Option<usize> {
        let mut w = from / WORD;
        let mut bits = self.special.get(w)? & (u64::MAX << (from % WORD));
        while bits == 0 {
            w += 1;
            bits = *self.special.get(w)?;
        }
        Some(w * WORD + bits.trailing_zeros() as usize)
    }
}

/// The masks of 64 bytes, 16 bytes per SSE2 compare (part of the x86-64
/// baseline, so no run-time detection is needed).
#[cfg(target_arch = "x86_64")]
fn word_masks(chunk: &[u8; WORD], delimiter: u8) -> (u64, u64) {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let splat = |b: u8| set_splat_i8_m128i(i8::from_ne_bytes([b]));
    let (delim, lf, quote, cr) = (splat(delimiter), splat(b'\n'), splat(b'"'), splat(b'\r'));
    let (mut ends, mut special) = (0u64, 0u64);
    let (parts, _) = chunk.as_chunks::<16>();
    for (i, part) in parts.iter().enumerate() {
        let v = load_unaligned_m128i(part);
        let end = bitor_m128i(cmp_eq_mask_i8_m128i(v, delim), cmp_eq_mask_i8_m128i(v, lf));
        let odd = bitor_m128i(cmp_eq_mask_i8_m128i(v, quote), cmp_eq_mask_i8_m128i(v, cr));
        // The move masks are 16 bits wide, in the low half of the i32.
        ends |= u64::from(move_mask_i8_m128i(end) as u16) << (16 * i);
        special |= u64::from(move_mask_i8_m128i(odd) as u16) << (16 * i);
    }
    (ends, special)
}

/// Other targets mark a word byte by byte.
#[cfg(not(target_arch = "x86_64"))]
fn word_masks(chunk: &[u8; WORD], delimiter: u8) -> (u64, u64) {
    scalar_masks(chunk, delimiter)
}

/// The masks of up to 64 bytes, byte by byte.
fn scalar_masks(bytes: &[u8], delimiter: u8) -> (u64, u64) {
    let (mut ends, mut special) = (0u64, 0u64);
    for (i, &b) in bytes.iter().enumerate().take(WORD) {
        ends |= u64::from(b == delimiter || b == b'\n') << i;
        special |= u64::from(b == b'"' || b == b'\r') << i;
    }
    (ends, special)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The vector path marks exactly the bytes the byte-by-byte one does.
        #[test]
        fn word_masks_agree_with_the_bytewise_ones(
            // (kind, byte): kinds 0 to 4 are the bytes that matter, the
            // others any byte.
            picks in proptest::collection::vec((0u8..8, any::<u8>()), WORD),
            semicolon in any::<bool>(),
        ) {
            let mut chunk = [0u8; WORD];
            for (slot, (kind, byte)) in chunk.iter_mut().zip(picks) {
                *slot = match kind {
                    0 => b',',
                    1 => b';',
                    2 => b'\n',
                    3 => b'"',
                    4 => b'\r',
                    _ => byte,
                };
            }
            let delimiter = if semicolon { b';' } else { b',' };
            prop_assert_eq!(word_masks(&chunk, delimiter), scalar_masks(&chunk, delimiter));
        }
    }

    #[test]
    fn a_reindex_keeps_whole_words_and_redoes_the_partial_one() {
        let mut data = b"a,b\n".repeat(20);
        let mut masks = Masks::default();
        masks.index(&data[..70], 0, b',');
        assert_eq!(masks.ends.len(), 2);
        assert_eq!(masks.ends[1], 0b10_1010, "bits past byte 70 are clear");
        data[66] = b'"';
        masks.index(&data, 1, b',');
        assert_eq!(masks.ends.len(), 2);
        assert_eq!(masks.next_special(0), Some(66));
        assert_eq!(masks.next_special(67), None);
        assert_eq!(masks.ends[1].count_ones(), 8);
    }
}
