//! The knowledge base: content files (`db/`) and schema (`migrations/`) are
//! built into SQLite, checked by [`verify`], and read once into the
//! in-memory [`KbIndex`] that every check uses.

pub mod content;
pub mod error;
pub mod index;
pub mod names;
pub mod store;
pub mod tables;
pub mod verify;

pub use error::KbError;
pub use index::KbIndex;
pub use tables::Tables;

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

/// Reads a source's rows and its schema version: content is parsed straight
/// from CSV (no SQLite round trip, so start-up stays fast); a KB file is opened
/// read-only after its version is checked.
pub fn tables(source: &KbSource) -> Result<(Tables, i64), KbError> {
    match source {
        KbSource::Embedded => Ok((
            Tables::from_content(&content::embedded())?,
            store::schema_version(),
        )),
        KbSource::ContentDir(dir) => Ok((
            Tables::from_content(&content::from_dir(dir)?)?,
            store::schema_version(),
        )),
        KbSource::File(path) => {
            let conn = store::open_file(path)?;
            let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            let tables = Tables::from_sqlite(&conn)?;
            let changed = |message: &str| KbError::Content {
                origin: path.display().to_string(),
                message: message.to_owned(),
            };
            match tables.recorded_digest() {
                None => {
                    return Err(changed(
                        "no content digest: written by an older `kb build` or by something else \
                         (rebuild it from its content)",
                    ));
                }
                Some(recorded) if recorded != tables.content_digest() => {
                    return Err(changed(
                        "the rows do not match the digest `kb build` recorded: the file was \
                         changed after it was built (rebuild it from its content)",
                    ));
                }
                Some(_) => {}
            }
            Ok((tables, version))
        }
    }
}

/// Opens a source and loads it into the in-memory index. Content from a
/// directory or a file must pass `kb verify`: loaded as it is, a row that
/// verify refuses (an alias of two drugs, a condition name shared by two
/// conditions) would be read one way without a word. The embedded content
/// is verified when it is built and tested, not at every start.
pub fn load(source: &KbSource) -> Result<KbIndex, KbError> {
    let (tables, schema_version) = tables(source)?;
    if !matches!(source, KbSource::Embedded) {
        let problems = verify::verify(&tables);
        if let Some(first) = problems.first() {
            return Err(KbError::Content {
                origin: first.origin.clone(),
                message: format!(
                    "{} ({} problem(s) in all; `crampcheck kb verify` lists them)",
                    first.message,
                    problems.len()
                ),
            });
        }
    }
    KbIndex::from_tables(&tables, &source.label(), schema_version)
}
