//! Errors raised while building, opening or indexing a knowledge base. Every
//! message names the file (and line, where there is one) at fault.

use std::path::PathBuf;
use thiserror::Error;

/// Why a knowledge base could not be built, opened or indexed.
#[derive(Debug, Error)]
pub enum KbError {
    /// A content file could not be read from disk.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// A content row is malformed (wrong columns, bad number, CSV syntax).
    #[error("{origin}: {message}")]
    Content {
        /// `file:line` of the row.
        origin: String,
        /// What is wrong with it.
        message: String,
    },
    /// The file is not a crampcheck knowledge base at all.
    #[error("{path}: not a crampcheck knowledge base ({reason})")]
    NotAKb {
        /// The file given with `--db`.
        path: String,
        /// What was missing or unreadable.
        reason: String,
    },
    /// The KB was written by a newer crampcheck whose schema this one does not know.
    #[error(
        "{path}: knowledge-base schema version {found} is newer than this crampcheck supports ({supported}); upgrade crampcheck"
    )]
    TooNew {
        /// The file given with `--db`.
        path: String,
        /// Schema version found in the file.
        found: i64,
        /// Highest schema version this binary knows.
        supported: i64,
    },
    /// The KB uses an older schema that this binary would have to migrate.
    #[error(
        "{path}: knowledge-base schema version {found} is older than this crampcheck's ({supported}); rebuild it with `crampcheck kb build --out FILE`"
    )]
    TooOld {
        /// The file given with `--db`.
        path: String,
        /// Schema version found in the file.
        found: i64,
        /// Schema version this binary writes.
        supported: i64,
    },
    /// A row refers to something the index cannot use; `kb verify` lists them all.
    #[error("{origin}: {message} (run `crampcheck kb verify` for the full list)")]
    Invalid {
        /// `file:line` of the row.
        origin: String,
        /// What is wrong with it.
        message: String,
    },
    /// Applying the schema migrations failed.
    #[error("schema migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// SQLite reported an error.
    #[error("SQLite error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Writing the KB file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The target file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}
