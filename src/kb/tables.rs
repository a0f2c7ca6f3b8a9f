//! The knowledge base as plain rows, whatever its storage: parsed from the
//! content CSV files (the embedded default and `--src DIR`) or read from a
//! SQLite KB file (`--db`). The index and `kb verify` both read these rows,
//! so there is one loading path, and the embedded KB starts without a
//! round trip through SQLite.

use super::content::{ColumnType, ContentFile, TABLES, TableSpec};
use super::error::KbError;
use rusqlite::Connection;
use std::collections::HashMap;

/// One row: the spec's columns in order (None = SQL NULL / empty number),
/// then the `file:line` it came from.
pub type Row = Vec<Option<String>>;

/// The `kb_meta` key of the content digest a KB file carries.
pub const DIGEST_KEY: &str = "content_sha256";

/// Every content table's rows.
#[derive(Debug, Clone, Default)]
pub struct Tables {
    rows: HashMap<&'static str, Vec<Row>>,
}

impl Tables {
    /// The rows of `table` (empty if the table has none).
    pub fn rows(&self, table: &str) -> &[Row] {
        self.rows.get(table).map(Vec::as_slice).unwrap_or_default()
    }

    /// Parses content files, checking headers and numeric columns.
    pub fn from_content(files: &[ContentFile]) -> Result<Self, KbError> {
        let mut tables = Tables::default();
        for file in files {
            tables.rows.insert(file.spec.table, parse_file(file)?);
        }
        Ok(tables)
    }

    /// SHA-256 (hex) of every row of every table, its `file:line` origin
    /// left out and rows in any order, but for the digest's own `kb_meta`
    /// row. `kb build` records it ([`DIGEST_KEY`]); a KB file whose rows
    /// no longer add up to it was changed after the build (a row deleted
    /// by hand would pass `kb verify`, and its fact would be gone without
    /// a word).
    pub fn content_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for spec in TABLES {
            hasher.update(spec.table.as_bytes());
            hasher.update([0x1d]);
            let mut encoded: Vec<Vec<u8>> = self
                .rows(spec.table)
                .iter()
                .filter(|row| {
                    spec.table != "kb_meta"
                        || row.first().cloned().flatten().as_deref() != Some(DIGEST_KEY)
                })
                .map(|row| {
                    let mut bytes = Vec::new();
                    for value in &row[..row.len().saturating_sub(1)] {
                        match value {
                            Some(v) => {
                                bytes.push(1);
                                bytes.extend_from_slice(v.as_bytes());
                            }
                            None => bytes.push(0),
                        }
                        bytes.push(0x1f);
                    }
                    bytes
                })
                .collect();
            encoded.sort_unstable();
            for row in encoded {
                hasher.update(&row);
                hasher.update([0x1e]);
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The content digest `kb build` recorded in a KB file, if any.
    pub fn recorded_digest(&self) -> Option<&str> {
        self.rows("kb_meta")
            .iter()
            .find(|row| row.first().cloned().flatten().as_deref() == Some(DIGEST_KEY))
            .and_then(|row| row.get(1))
            .and_then(|value| value.as_deref())
    }

    /// Reads every table of a KB database.
    pub fn from_sqlite(conn: &Connection) -> Result<Self, KbError> {
        let mut tables = Tables::default();
        for spec in TABLES {
            tables.rows.insert(spec.table, read_sqlite(conn, spec)?);
        }
        Ok(tables)
    }

    /// Writes every row into the (already migrated) database.
    pub fn insert_into(&self, conn: &Connection) -> Result<(), KbError> {
        for spec in TABLES {
            let is_meta = spec.table == "kb_meta";
            let mut columns: Vec<&str> = spec.columns.iter().map(|(n, _)| *n).collect();
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
            for row in self.rows(spec.table) {
                let origin = row.last().cloned().flatten().unwrap_or_default();
                let n = if is_meta { row.len() - 1 } else { row.len() };
                let values = row[..n]
                    .iter()
                    .zip(spec.columns.iter().chain([&("origin", ColumnType::Text)]))
                    .map(|(value, (_, kind))| sql_value(*kind, value.as_deref()));
                stmt.execute(rusqlite::params_from_iter(values))
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
        }
        Ok(())
    }
}

fn sql_value(kind: ColumnType, value: Option<&str>) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match (kind, value) {
        (_, None) => Value::Null,
        (ColumnType::Text, Some(v)) => Value::Text(v.to_owned()),
        // Numbers were validated when the content was parsed.
        (ColumnType::Real, Some(v)) => v.parse().map_or(Value::Null, Value::Real),
        (ColumnType::Integer, Some(v)) => v.parse().map_or(Value::Null, Value::Integer),
    }
}

/// Parses one CSV content file, checking its header and numeric fields.
fn parse_file(file: &ContentFile) -> Result<Vec<Row>, KbError> {
    let spec = file.spec;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
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
    let found: Vec<&str> = headers.iter().map(str::trim).collect();
    if found != expected {
        return Err(header_err(format!(
            "header is `{}`, expected `{}`",
            found.join(","),
            expected.join(",")
        )));
    }
    let mut rows = Vec::new();
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
        // Fields are trimmed here rather than by the reader, which would
        // re-allocate every record.
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut row: Row = Vec::with_capacity(expected.len() + 1);
        for ((name, kind), field) in spec.columns.iter().zip(record.iter().map(str::trim)) {
            let value = match kind {
                ColumnType::Text => Some(field.to_owned()),
                _ if field.is_empty() => None,
                ColumnType::Real if field.parse::<f64>().is_ok() => Some(field.to_owned()),
                ColumnType::Integer if field.parse::<i64>().is_ok() => Some(field.to_owned()),
                _ => {
                    return Err(KbError::Content {
                        origin,
                        message: format!("column `{name}`: `{field}` is not a number"),
                    });
                }
            };
            row.push(value);
        }
        row.push(Some(origin));
        rows.push(row);
    }
    Ok(rows)
}

fn read_sqlite(conn: &Connection, spec: &TableSpec) -> Result<Vec<Row>, KbError> {
    let names: Vec<&str> = spec.columns.iter().map(|(n, _)| *n).collect();
    let origin = if spec.table == "kb_meta" {
        "'kb_meta'"
    } else {
        "origin"
    };
    let sql = format!(
        "SELECT {}, {origin} FROM {} ORDER BY rowid",
        names.join(", "),
        spec.table
    );
    let mut stmt = conn.prepare(&sql)?;
    let n = names.len() + 1;
    let rows = stmt.query_map([], |row| {
        (0..n)
            .map(|i| {
                let value: rusqlite::types::Value = row.get(i)?;
                Ok(match value {
                    rusqlite::types::Value::Null => None,
                    rusqlite::types::Value::Integer(v) => Some(v.to_string()),
                    rusqlite::types::Value::Real(v) => Some(v.to_string()),
                    rusqlite::types::Value::Text(s) => Some(s),
                    rusqlite::types::Value::Blob(_) => Some(String::new()),
                })
            })
            .collect::<Result<Row, _>>()
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
