//! The SQLite side of the knowledge base: the embedded schema migrations,
//! loading content files into tables, opening a KB file read-only with version
//! checks, and writing a KB file atomically.

use super::error::KbError;
use super::tables::Tables;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use std::path::Path;

/// The schema migrations, append-only; the schema version is their count and
/// is recorded in SQLite's `user_version`.
const MIGRATIONS: &[&str] = &[
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/0001_initial.sql"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/0002_therapy_forms.sql"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/0003_condition_implications.sql"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/0004_interaction_routes.sql"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/0005_dosing_routes.sql"
    )),
    include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/migrations/0006_class_count_rules.sql"
    )),
];

/// The schema version this binary writes and reads.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// Creates an in-memory database with the current schema holding `tables`
/// (what `kb build` writes to a file).
pub fn build_in_memory(tables: &Tables) -> Result<Connection, KbError> {
    let mut conn = Connection::open_in_memory()?;
    migrations().to_latest(&mut conn)?;
    let tx = conn.transaction()?;
    tables.insert_into(&tx)?;
    // The digest of the rows as a reader of the file will see them (numbers
    // as SQLite gives them back), recorded beside the version.
    let digest = Tables::from_sqlite(&tx)?.content_digest();
    tx.execute(
        "INSERT OR REPLACE INTO kb_meta (key, value) VALUES (?1, ?2)",
        [super::tables::DIGEST_KEY, digest.as_str()],
    )?;
    tx.commit()?;
    Ok(conn)
}

/// Opens a KB file read-only, refusing files that are not crampcheck KBs or
/// whose schema version differs from this binary's.
pub fn open_file(path: &Path) -> Result<Connection, KbError> {
    let shown = path.display().to_string();
    if !path.is_file() {
        return Err(KbError::NotAKb {
            path: shown,
            reason: "no such file".to_owned(),
        });
    }
    let not_kb = |reason: String| KbError::NotAKb {
        path: shown.clone(),
        reason,
    };
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| not_kb(e.to_string()))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| not_kb(e.to_string()))?;
    let has_meta: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kb_meta')",
            [],
            |row| row.get(0),
        )
        .map_err(|e| not_kb(e.to_string()))?;
    if !has_meta || version == 0 {
        return Err(not_kb("no kb_meta table or schema version".to_owned()));
    }
    let supported = schema_version();
    if version > supported {
        return Err(KbError::TooNew {
            path: shown,
            found: version,
            supported,
        });
    }
    if version < supported {
        return Err(KbError::TooOld {
            path: shown,
            found: version,
            supported,
        });
    }
    Ok(conn)
}

/// Writes the database to `out` atomically: a temporary file beside the
/// target is filled first and renamed over it only when complete.
pub fn write_file(conn: &Connection, out: &Path) -> Result<(), KbError> {
    let write_err = |source| KbError::Write {
        path: out.to_path_buf(),
        source,
    };
    // Renaming over a device or pipe (`--out /dev/null`) would replace it
    // with a plain file.
    if std::fs::metadata(out).is_ok_and(|m| !m.is_file()) {
        return Err(write_err(std::io::Error::other(
            "the target exists and is not a regular file",
        )));
    }
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".crampcheck-kb-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(write_err)?;
    // VACUUM INTO refuses an existing file, so reserve the name, then free it.
    let tmp_path = tmp.into_temp_path();
    std::fs::remove_file(&tmp_path).map_err(write_err)?;
    conn.execute("VACUUM INTO ?1", [tmp_path.to_string_lossy()])?;
    tmp_path.persist(out).map_err(|e| write_err(e.error))?;
    Ok(())
}
