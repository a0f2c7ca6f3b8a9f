//! Raw command-line arguments (clap derive). These are turned into validated
//! options by each command in [`crate::cmd`] before any work starts.

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
    /// Build, verify and inspect the knowledge base.
    #[command(subcommand)]
    Kb(KbCommand),
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A pharmacist's summary.
    Text,
    /// The `crampcheck.check/1` JSON document.
    Json,
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

/// Patient context flags shared by `check` and `suggest`.
#[derive(Debug, Clone, Args)]
pub struct PatientArgs {
    /// eGFR in mL/min/1.73 m² (0–200).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub egfr: Option<f64>,
    /// QTc interval in ms (200–800).
    #[arg(long, value_name = "MS", allow_negative_numbers = true)]
    pub qtc: Option<f64>,
    /// Serum potassium in mmol/L (1–10).
    #[arg(long, value_name = "MMOL_L", allow_negative_numbers = true)]
    pub potassium: Option<f64>,
    /// Serum magnesium in mg/dL (0.2–10).
    #[arg(long, value_name = "MG_DL", allow_negative_numbers = true)]
    pub magnesium: Option<f64>,
    /// Age in years.
    #[arg(long, value_name = "YEARS", allow_negative_numbers = true)]
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
    #[arg(long = "med", value_name = "TEXT")]
    pub meds: Vec<String>,
    /// Read medications from a file, one per line (`-` for stdin).
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
    #[arg(long = "med", value_name = "TEXT")]
    pub meds: Vec<String>,
    /// Read medications from a file, one per line (`-` for stdin).
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
