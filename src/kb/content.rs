//! The knowledge-base content files (`db/*.csv`): which tables exist, which
//! columns each file must have, and where the text comes from — compiled into
//! the binary (the default KB) or read from a directory (`--src DIR`) so a
//! pharmacist can extend the KB and rebuild it.

use super::error::KbError;
use std::path::Path;

/// How a column is stored in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Free text (may be empty).
    Text,
    /// A number; an empty field becomes NULL.
    Real,
    /// A whole number; an empty field becomes NULL.
    Integer,
}

/// One content table: its file name and its columns in file order.
#[derive(Debug)]
pub struct TableSpec {
    /// SQLite table name (also the file stem under `db/`).
    pub table: &'static str,
    /// Columns in the order the CSV header must list them.
    pub columns: &'static [(&'static str, ColumnType)],
}

use ColumnType::{Integer, Real, Text};

/// Every content table, in load order.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        table: "kb_meta",
        columns: &[("key", Text), ("value", Text)],
    },
    TableSpec {
        table: "sources",
        columns: &[
            ("id", Text),
            ("citation", Text),
            ("section", Text),
            ("jurisdiction", Text),
            ("kind", Text),
            ("date", Text),
            ("url", Text),
        ],
    },
    TableSpec {
        table: "drugs",
        columns: &[("name", Text), ("category", Text), ("sources", Text)],
    },
    TableSpec {
        table: "aliases",
        columns: &[
            ("alias", Text),
            ("drug", Text),
            ("kind", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "products",
        columns: &[("product", Text), ("ingredient", Text), ("sources", Text)],
    },
    TableSpec {
        table: "classes",
        columns: &[
            ("class", Text),
            ("description", Text),
            ("duplicate_therapy", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "class_members",
        columns: &[("class", Text), ("drug", Text), ("sources", Text)],
    },
    TableSpec {
        table: "conditions",
        columns: &[
            ("code", Text),
            ("name", Text),
            ("aliases", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "lab_thresholds",
        columns: &[
            ("lab", Text),
            ("comparator", Text),
            ("value", Real),
            ("condition", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "interactions",
        columns: &[
            ("id", Text),
            ("drug", Text),
            ("interacts_with", Text),
            ("severity", Text),
            ("action", Text),
            ("evidence", Text),
            ("mechanism", Text),
            ("effect", Text),
            ("management", Text),
            ("jurisdiction", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "condition_cautions",
        columns: &[
            ("id", Text),
            ("drug", Text),
            ("condition", Text),
            ("min_age", Integer),
            ("severity", Text),
            ("action", Text),
            ("evidence", Text),
            ("title", Text),
            ("mechanism", Text),
            ("management", Text),
            ("jurisdiction", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "boxed_warnings",
        columns: &[
            ("drug", Text),
            ("title", Text),
            ("summary", Text),
            ("severity", Text),
            ("action", Text),
            ("jurisdiction", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "dosing_rules",
        columns: &[
            ("id", Text),
            ("drug", Text),
            ("indication", Text),
            ("population", Text),
            ("start_mg_per_day", Real),
            ("step_mg_per_day", Real),
            ("step_every_days", Integer),
            ("max_mg_per_day", Real),
            ("schedule", Text),
            ("note", Text),
            ("route", Text),
            ("jurisdiction", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "therapies",
        columns: &[
            ("drug", Text),
            ("indication", Text),
            ("standing", Text),
            ("evidence_level", Text),
            ("summary", Text),
            ("jurisdiction", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "therapy_forms",
        columns: &[("therapy", Text), ("form", Text), ("sources", Text)],
    },
    TableSpec {
        table: "condition_implications",
        columns: &[("condition", Text), ("implies", Text), ("sources", Text)],
    },
    TableSpec {
        table: "interaction_routes",
        columns: &[
            ("rule", Text),
            ("drug", Text),
            ("route", Text),
            ("sources", Text),
        ],
    },
    TableSpec {
        table: "class_count_rules",
        columns: &[
            ("id", Text),
            ("class", Text),
            ("min_count", Integer),
            ("min_age", Integer),
            ("severity", Text),
            ("action", Text),
            ("evidence", Text),
            ("title", Text),
            ("mechanism", Text),
            ("management", Text),
            ("jurisdiction", Text),
            ("sources", Text),
        ],
    },
];

impl TableSpec {
    /// The content file name under `db/` (`kb_meta` lives in `meta.csv`).
    pub fn file_name(&self) -> &'static str {
        match self.table {
            "kb_meta" => "meta.csv",
            "sources" => "sources.csv",
            "drugs" => "drugs.csv",
            "aliases" => "aliases.csv",
            "products" => "products.csv",
            "classes" => "classes.csv",
            "class_members" => "class_members.csv",
            "conditions" => "conditions.csv",
            "lab_thresholds" => "lab_thresholds.csv",
            "interactions" => "interactions.csv",
            "condition_cautions" => "condition_cautions.csv",
            "boxed_warnings" => "boxed_warnings.csv",
            "dosing_rules" => "dosing_rules.csv",
            "therapies" => "therapies.csv",
            "therapy_forms" => "therapy_forms.csv",
            "condition_implications" => "condition_implications.csv",
            "interaction_routes" => "interaction_routes.csv",
            _ => "class_count_rules.csv",
        }
    }
}

/// The text of one content file, with the name used in error messages.
#[derive(Debug, Clone)]
pub struct ContentFile {
    /// Which table it fills.
    pub spec: &'static TableSpec,
    /// Name shown in messages, e.g. `db/aliases.csv`.
    pub display_name: String,
    /// The CSV text.
    pub text: String,
}

macro_rules! embedded {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/db/", $file))
    };
}

/// The content compiled into the binary, in [`TABLES`] order.
const EMBEDDED: [&str; 18] = [
    embedded!("meta.csv"),
    embedded!("sources.csv"),
    embedded!("drugs.csv"),
    embedded!("aliases.csv"),
    embedded!("products.csv"),
    embedded!("classes.csv"),
    embedded!("class_members.csv"),
    embedded!("conditions.csv"),
    embedded!("lab_thresholds.csv"),
    embedded!("interactions.csv"),
    embedded!("condition_cautions.csv"),
    embedded!("boxed_warnings.csv"),
    embedded!("dosing_rules.csv"),
    embedded!("therapies.csv"),
    embedded!("therapy_forms.csv"),
    embedded!("condition_implications.csv"),
    embedded!("interaction_routes.csv"),
    embedded!("class_count_rules.csv"),
];

/// The default content, compiled into the binary from `db/`.
pub fn embedded() -> Vec<ContentFile> {
    TABLES
        .iter()
        .zip(EMBEDDED)
        .map(|(spec, text)| ContentFile {
            spec,
            display_name: format!("db/{}", spec.file_name()),
            text: text.to_owned(),
        })
        .collect()
}

/// Content read from a directory laid out like `db/` (every file required).
pub fn from_dir(dir: &Path) -> Result<Vec<ContentFile>, KbError> {
    TABLES
        .iter()
        .map(|spec| {
            let path = dir.join(spec.file_name());
            let text = std::fs::read_to_string(&path).map_err(|source| KbError::Read {
                path: path.clone(),
                source,
            })?;
            Ok(ContentFile {
                spec,
                display_name: path.display().to_string(),
                text,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_a_distinct_file() {
        let mut names: Vec<_> = TABLES.iter().map(TableSpec::file_name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        assert_eq!(EMBEDDED.len(), TABLES.len());
    }
}
