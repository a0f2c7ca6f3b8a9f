//! The SQLite side of the knowledge base: the embedded schema migrations,
//! loading content files into tables, opening a KB file read-only with version
//! checks, and writing a KB file atomically.

use super::content::{ColumnType, ContentFile};
use super::error::KbError;
use rusqlite::{Connection, OpenFlags, params_from_iter, types::Value};
use rusqlite_migration::{M, Migrations};
use std::path::Path;

/// The schema migrations, append-only; the schema version is their count and
/// is recorded in SQLite's `user_version`.
const MIGRATIONS: &[&str] = &[include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/migrations/0001_initial.sql"
))];

/// The schema version this binary writes and reads.
pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

/// Creates an in-memory database with the current schema and loads `files`.
pub fn build_in_memory(files: &[ContentFile]) -> Result<Connection, KbError> {
    let mut conn = Connection::open_in_memory()?;
    migrations().to_latest(&mut conn)?;
    let tx = conn.transaction()?;
    for file in files {
        load_file(&tx, file)?;
    }
    tx.commit()?;
    Ok(conn)
}

/// Loads one CSV content file into its table, recording `file:line` of every
/// row in the `origin` column so that `kb verify` can name it.
fn load_file(conn: &Connection, file: &ContentFile) -> Result<(), KbError> {
    let spec = file.spec;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(file.text.as_bytes());
    let header_err = |message: String| KbError::Content {
        origin: format!("{}:1", file.display_name),
        message,
    };
    let headers = reader
        .headers()
        .map_err(|e| header_err(format!("cannot read header: {e}")))?
        .clone();
    let expected: Vec<&str> = spec.columns.iter().map(|(name, _)| *name).collect();
    let found: Vec<&str> = headers.iter().collect();
    if found != expected {
        return Err(header_err(format!(
            "header is `{}`, expected `{}`",
            found.join(","),
            expected.join(",")
        )));
    }
    let is_meta = spec.table == "kb_meta";
    // kb_meta has no origin column: it is one key/value list, not sourced rows.
    let mut columns = expected.clone();
    if !is_meta {
        columns.push("origin");
    }
    let placeholders = vec!["?"; columns.len()].join(", ");
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({placeholders})",
        spec.table,
        columns.join(", ")
    );
    let mut stmt = conn.prepare(&sql)?;
    for record in reader.records() {
        let record = record.map_err(|e| KbError::Content {
            origin: format!(
                "{}:{}",
                file.display_name,
                e.position().map_or(0, |p| p.line())
            ),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let origin = format!("{}:{line}", file.display_name);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let mut values = Vec::with_capacity(expected.len() + 1);
        for ((name, kind), field) in spec.columns.iter().zip(record.iter()) {
            values.push(typed_value(*kind, field).ok_or_else(|| KbError::Content {
                origin: origin.clone(),
                message: format!("column `{name}`: `{field}` is not a number"),
            })?);
        }
        if !is_meta {
            values.push(Value::Text(origin.clone()));
        }
        stmt.execute(params_from_iter(values))
            .map_err(|e| KbError::Content {
                origin,
                message: match e {
                    rusqlite::Error::SqliteFailure(f, _)
                        if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        "duplicate key: this row repeats an earlier one".to_owned()
                    }
                    other => other.to_string(),
                },
            })?;
    }
    Ok(())
}

fn typed_value(kind: ColumnType, field: &str) -> Option<Value> {
    match kind {
        ColumnType::Text => Some(Value::Text(field.to_owned())),
        _ if field.is_empty() => Some(Value::Null),
        ColumnType::Real => field.parse::<f64>().ok().map(Value::Real),
        ColumnType::Integer => field.parse::<i64>().ok().map(Value::Integer),
    }
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
