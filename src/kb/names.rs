//! How names are compared: one normalization used both when the index is
//! built and when input is resolved, so "Co-Trimoxazole", "co trimoxazole" and
//! "St. John's Wort" find the same entries.

/// The aliases of a `;`-separated list (a condition's `aliases` column),
/// trimmed, empty ones left out.
pub fn split_aliases(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Normalizes a drug, brand, product, class or condition name into its lookup
/// key: lowercase, apostrophes dropped, other punctuation turned into spaces,
/// runs of spaces collapsed.
pub fn name_key(text: &str) -> String {
    if text.is_ascii() {
        return ascii_name_key(text.as_bytes());
    }
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ch == '\'' || ch == '\u{2019}' {
            continue;
        }
        if ch.is_alphanumeric() || ch == '%' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// [`name_key`] for ASCII text (nearly every name), byte by byte.
fn ascii_name_key(text: &[u8]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for &b in text {
        if b == b'\'' {
            continue;
        }
        if b.is_ascii_alphanumeric() || b == b'%' {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(char::from(b.to_ascii_lowercase()));
        } else {
            pending_space = true;
        }
    }
    out
}

/// The key with spaces removed, so "hydro chlorothiazide" style splits and
/// "cotrimoxazole" still meet "co-trimoxazole".
pub fn compact_key(key: &str) -> String {
    key.chars().filter(|c| *c != ' ').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuation_case_and_apostrophes_do_not_matter() {
        assert_eq!(name_key("St. John's  Wort"), "st johns wort");
        assert_eq!(name_key("Co-Trimoxazole"), "co trimoxazole");
        assert_eq!(compact_key(&name_key("co-trimoxazole")), "cotrimoxazole");
        assert_eq!(name_key("  RIFAMPIN "), "rifampin");
        assert_eq!(name_key("Ré-Actif"), "ré actif");
    }
}
