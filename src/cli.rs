//! Raw command-line arguments (clap derive). These are turned into validated
//! options by each command in [`crate::cmd`] before any work starts.

use crate::kb::index::Lab;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Offline drug-interaction and safety checker for drugs proposed for
/// refractory muscle cramps. A decision aid, not a replacement for a
/// pharmacist's judgment.
#[derive(Debug, Parser)]
#[command(name = "crampcheck", version, about, long_about = None)]
pub struct Cli {
    /// Use this KB file (written by `kb build`) instead of the embedded KB.
    #[arg(long, global = true, value_name = "FILE")]
    pub db: Option<PathBuf>,
    /// Build the KB from this content directory (laid out like `db/`).
    #[arg(long, global = true, value_name = "DIR", conflicts_with = "db")]
    pub src: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a proposed drug against a medication list and patient context.
    Check(CheckArgs),
    /// Rank every cramp therapy in the KB for this patient, with the steps
    /// that come first and a dosing plan.
    Suggest(SuggestArgs),
    /// Validate a prescription CSV file: every patient's cramp therapies (or
    /// a proposed drug) against their other medications, every row accounted for.
    Batch(Box<BatchArgs>),
    /// Build, verify and inspect the knowledge base.
    #[command(subcommand)]
    Kb(KbCommand),
    /// Serve the web page, the JSON API and a CDS Hooks service over HTTP.
    Serve(ServeArgs),
}

/// Output formats of `check` and `suggest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A pharmacist's summary.
    Text,
    /// The JSON document (`crampcheck.check/1` from check, `crampcheck.suggest/1` from suggest).
    Json,
    /// A FHIR R4 Bundle of DetectedIssue resources (`check` only).
    Fhir,
}

/// Severity thresholds accepted by `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Only contraindications.
    Contraindicated,
    /// Major and above (default).
    Major,
    /// Moderate and above.
    Moderate,
    /// Minor and above.
    Minor,
    /// Any finding at all.
    Info,
}

/// Reads a lab flag's value: a number in the KB's unit, or a number with
/// its unit after it (`0.8 mmol/L`), converted as batch and CDS convert.
fn lab_flag(lab: Lab) -> impl Fn(&str) -> Result<f64, String> + Clone + Send + Sync + 'static {
    move |text| {
        if lab == Lab::Magnesium
            && let Some(refused) = crate::units::bare_magnesium_reads_two_ways(text)
        {
            return Err(refused);
        }
        crate::units::read_value(lab, text)
    }
}

/// Patient context flags shared by `check` and `suggest`.
#[derive(Debug, Clone, Args)]
pub struct PatientArgs {
    /// eGFR in mL/min/1.73 m² (0–200), or with its unit (`0.5 mL/s`).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = lab_flag(Lab::Egfr))]
    pub egfr: Option<f64>,
    /// QTc interval in ms (200–800), or with its unit (`0.48 s`).
    #[arg(long, value_name = "MS", allow_negative_numbers = true, value_parser = lab_flag(Lab::Qtc))]
    pub qtc: Option<f64>,
    /// Serum potassium in mmol/L (1–10); `mEq/L` may follow.
    #[arg(long, value_name = "MMOL_L", allow_negative_numbers = true, value_parser = lab_flag(Lab::Potassium))]
    pub potassium: Option<f64>,
    /// Serum magnesium in mg/dL (0.2–10), or with its unit: `0.8 mmol/L`
    /// (UK reports), `mEq/L`, `mg/L`; under 1.5 the unit must be written.
    #[arg(long, value_name = "MG_DL", allow_negative_numbers = true, value_parser = lab_flag(Lab::Magnesium))]
    pub magnesium: Option<f64>,
    /// Age in years.
    #[arg(long, value_name = "YEARS", allow_negative_numbers = true, value_parser = lab_flag(Lab::Age))]
    pub age: Option<f64>,
    /// A condition code or alias (repeatable), e.g. `qt-prolongation`, `cirrhosis`.
    #[arg(long = "condition", value_name = "CODE")]
    pub conditions: Vec<String>,
    /// Whose label facts apply: US (default), UK, or any (show all).
    #[arg(long, default_value = "US", value_name = "US|UK|any")]
    pub jurisdiction: String,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The drug about to be proposed (name, brand or product; a dose may follow).
    #[arg(long, value_name = "DRUG")]
    pub propose: String,
    /// A current medication (repeatable), e.g. "clarithromycin 500 mg bid".
    #[arg(long = "med", value_name = "TEXT", allow_hyphen_values = true)]
    pub meds: Vec<String>,
    /// Read medications from a file, one per line (`-` for stdin); blank lines and lines starting with `#` are skipped.
    #[arg(long, value_name = "FILE|-")]
    pub meds_file: Option<PathBuf>,
    /// Patient context.
    #[command(flatten)]
    pub patient: PatientArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Major)]
    pub fail_on: FailOn,
}

/// Arguments of `suggest`.
#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// A current medication (repeatable), e.g. "furosemide 40 mg daily".
    #[arg(long = "med", value_name = "TEXT", allow_hyphen_values = true)]
    pub meds: Vec<String>,
    /// Read medications from a file, one per line (`-` for stdin); blank lines and lines starting with `#` are skipped.
    #[arg(long, value_name = "FILE|-")]
    pub meds_file: Option<PathBuf>,
    /// Patient context.
    #[command(flatten)]
    pub patient: PatientArgs,
    /// What the cramps are treated as: an indication of the KB's therapy
    /// rows (cirrhosis, idiopathic, pregnancy, ...). Default: cirrhosis when
    /// the patient has condition cirrhosis, else pregnancy when pregnant,
    /// else idiopathic.
    #[arg(long, value_name = "INDICATION")]
    pub indication: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `kb` subcommands.
#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Write the KB (embedded, or `--src DIR`) to a SQLite file.
    Build {
        /// Target file; written atomically.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Check integrity; exit 1 naming every broken row.
    Verify,
    /// Print version, schema version, row counts and sources.
    Info,
    /// Show what the KB knows about a name.
    Lookup {
        /// A drug, brand, product, class or condition name.
        name: String,
    },
}

/// Output formats of `batch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BatchFormat {
    /// One CSV row per finding.
    Csv,
    /// One JSON object per finding (the `check --format json` finding object).
    Jsonl,
}

/// Arguments of `batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// Prescription CSV file (`-` for stdin; gzip is read transparently).
    #[arg(value_name = "INPUT")]
    pub input: PathBuf,
    /// Write findings to this file (atomically) instead of stdout (`-` is stdout).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Findings format.
    #[arg(long, value_enum, default_value_t = BatchFormat::Csv)]
    pub format: BatchFormat,
    /// Write every rejected row (line, reason, column, detail) to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Write the machine-readable summary (crampcheck.batch-summary/1) here.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Column holding the patient id (header names match case-insensitively).
    #[arg(long, default_value = "patient_id", value_name = "COL")]
    pub patient_col: String,
    /// Column holding the medication text.
    #[arg(long, default_value = "drug", value_name = "COL")]
    pub drug_col: String,
    /// Column holding the start date (YYYY-MM-DD, ISO timestamp or YYYYMMDD).
    #[arg(long, value_name = "COL")]
    pub start_col: Option<String>,
    /// Column holding the stop date (empty = ongoing).
    #[arg(long, value_name = "COL", requires = "start_col")]
    pub stop_col: Option<String>,
    /// Column holding the days' supply (exposure = start + days).
    #[arg(
        long,
        value_name = "COL",
        requires = "start_col",
        conflicts_with = "stop_col"
    )]
    pub days_supply_col: Option<String>,
    /// Only medications active on this day (YYYY-MM-DD) count.
    #[arg(long, value_name = "DATE", requires = "start_col")]
    pub as_of: Option<String>,
    /// Column holding eGFR (mL/min/1.73 m²).
    #[arg(long, value_name = "COL")]
    pub egfr_col: Option<String>,
    /// Column holding QTc (ms).
    #[arg(long, value_name = "COL")]
    pub qtc_col: Option<String>,
    /// Column holding age (years).
    #[arg(long, value_name = "COL")]
    pub age_col: Option<String>,
    /// Column holding serum potassium (mmol/L).
    #[arg(long, value_name = "COL")]
    pub potassium_col: Option<String>,
    /// Column holding serum magnesium (mg/dL; a value may carry its unit,
    /// `0.8 mmol/L`).
    #[arg(long, value_name = "COL")]
    pub magnesium_col: Option<String>,
    /// Column holding condition codes, separated by `;` or `|`.
    #[arg(long, value_name = "COL")]
    pub conditions_col: Option<String>,
    /// Read patient context from this CSV, keyed by patient id (the context
    /// column flags then name its columns; by default egfr, qtc, age,
    /// potassium, magnesium and conditions are used when present).
    #[arg(long, value_name = "FILE")]
    pub patients: Option<PathBuf>,
    /// Patient id column of the --patients file (default: --patient-col).
    #[arg(long, value_name = "COL", requires = "patients")]
    pub patients_id_col: Option<String>,
    /// Field delimiter: `,` (default), `;`, `|` or `tab`.
    #[arg(long, default_value = ",", value_name = "CHAR")]
    pub delimiter: String,
    /// Check this drug for every patient as if about to be prescribed.
    #[arg(long, value_name = "DRUG", conflicts_with = "propose_col")]
    pub propose: Option<String>,
    /// Check the drug named in this column for each patient.
    #[arg(long, value_name = "COL")]
    pub propose_col: Option<String>,
    /// Whose label facts apply: US (default), UK, or any (show all).
    #[arg(long, default_value = "US", value_name = "US|UK|any")]
    pub jurisdiction: String,
    /// Exit with 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Major)]
    pub fail_on: FailOn,
    /// Longest accepted field in bytes; a longer field in a column batch reads rejects its row.
    #[arg(long, default_value_t = 65_536, value_name = "BYTES")]
    pub max_field_len: usize,
    /// Worker threads (0 = one per core, at most 256); the output does not depend on it.
    #[arg(long, default_value_t = 0, value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=256))]
    pub threads: usize,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// A severity level (the lowest that counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// Contraindications only.
    Contraindicated,
    /// Major and above.
    Major,
    /// Moderate and above.
    Moderate,
    /// Minor and above.
    Minor,
    /// Everything, including information.
    Info,
}

/// Arguments of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR:PORT")]
    pub bind: std::net::SocketAddr,
    /// Allow a non-loopback `--bind`: anyone who can reach the address can
    /// use the service (no authentication, no TLS).
    #[arg(long)]
    pub allow_remote: bool,
    /// The lowest severity that becomes a CDS Hooks card (unchecked
    /// medications always do).
    #[arg(long, value_enum, default_value_t = Level::Moderate, value_name = "LEVEL")]
    pub card_level: Level,
    /// Do not log requests to stderr.
    #[arg(long, short)]
    pub quiet: bool,
}
