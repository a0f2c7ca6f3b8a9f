//! The knowledge base: content files (`db/`) and schema (`migrations/`) are
//! built into SQLite, checked by [`verify`], and read once into the
//! in-memory [`KbIndex`] that every check uses.

pub mod content;
pub mod error;
pub mod index;
pub mod names;
pub mod store;
pub mod verify;

pub use error::KbError;
pub use index::KbIndex;

use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// Where a knowledge base comes from.
#[derive(Debug, Clone)]
pub enum KbSource {
    /// The content compiled into the binary (the default).
    Embedded,
    /// A content directory laid out like `db/`.
    ContentDir(PathBuf),
    /// A SQLite file written by `kb build`, opened read-only.
    File(PathBuf),
}

impl KbSource {
    /// Chooses the source from the `--db` and `--src` flags.
    pub fn from_flags(db: Option<&Path>, src: Option<&Path>) -> Self {
        match (db, src) {
            (Some(path), _) => KbSource::File(path.to_path_buf()),
            (None, Some(dir)) => KbSource::ContentDir(dir.to_path_buf()),
            (None, None) => KbSource::Embedded,
        }
    }

    /// Text used in reports to say which KB was used.
    pub fn label(&self) -> String {
        match self {
            KbSource::Embedded => "embedded".to_owned(),
            KbSource::ContentDir(dir) => dir.display().to_string(),
            KbSource::File(path) => path.display().to_string(),
        }
    }
}

/// Opens the SQLite database for a source: built in memory from content, or
/// the file opened read-only after its version is checked.
pub fn connect(source: &KbSource) -> Result<Connection, KbError> {
    match source {
        KbSource::Embedded => store::build_in_memory(&content::embedded()),
        KbSource::ContentDir(dir) => store::build_in_memory(&content::from_dir(dir)?),
        KbSource::File(path) => store::open_file(path),
    }
}

/// Opens a source and loads it into the in-memory index.
pub fn load(source: &KbSource) -> Result<KbIndex, KbError> {
    let conn = connect(source)?;
    KbIndex::load(&conn, &source.label())
}
