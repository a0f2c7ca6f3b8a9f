//! One file per subcommand, each with a `run` function that wires the stages
//! together; shared plumbing (opening the KB, reading medication lists,
//! validating the patient context) lives here, never in a command file.

pub mod batch;
pub mod check;
pub mod kb;
pub mod serve;
pub mod suggest;

use crate::cli::PatientArgs;
use crate::clinical::Jurisdiction;
use crate::kb::{KbIndex, KbSource};
use crate::patient::{PatientContext, PatientError, PatientInput};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, Write};
use std::path::Path;

/// What a successful command tells the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing at or above the threshold; every name resolved.
    Clean,
    /// Findings at or above the threshold, unresolved names, or a failed verify.
    Flagged,
}

impl Outcome {
    /// The process exit code (0 or 1; errors are 2).
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Flagged => 1,
        }
    }
}

/// Loads the KB chosen by `--db` / `--src` into the in-memory index.
pub fn load_kb(db: Option<&Path>, src: Option<&Path>) -> Result<KbIndex> {
    let source = KbSource::from_flags(db, src);
    Ok(crate::kb::load(&source)?)
}

/// Reads medication lines from a file or stdin (`-`): blank lines, comment
/// lines (`#` then anything but a number) and a leading byte-order mark are
/// skipped; every other line is one medication. `#2 warfarin 5 mg` is the
/// second entry of a numbered list, not a comment: skipping it would leave
/// warfarin unchecked without a word.
pub fn read_meds_file(path: &Path) -> Result<Vec<String>> {
    let reader: Box<dyn BufRead> = if path == Path::new("-") {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open medication file {}", path.display()))?;
        Box::new(std::io::BufReader::new(file))
    };
    let mut meds = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line =
            line.with_context(|| format!("{}:{}: cannot read line", path.display(), n + 1))?;
        // A byte-order mark (files saved by Windows editors) is no text.
        let line = match n {
            0 => line.strip_prefix('\u{feff}').unwrap_or(&line),
            _ => &line,
        };
        let trimmed = line.trim();
        let comment = trimmed
            .strip_prefix('#')
            .is_some_and(|rest| !rest.trim_start().starts_with(|c: char| c.is_ascii_digit()));
        if trimmed.is_empty() || comment {
            continue;
        }
        meds.push(trimmed.to_owned());
    }
    Ok(meds)
}

/// Why a check or suggestion request was refused. The message is the
/// CLI's error message word for word; the JSON API adds the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// An input value the engine cannot use.
    #[error("{message}")]
    Input {
        /// The input at fault as the JSON API spells it: `propose`,
        /// `medications[2]`, `egfr`, `conditions`, `jurisdiction`, ...
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The knowledge base cannot answer this request (e.g. it lists no
    /// cramp therapies).
    #[error("{0}")]
    Kb(String),
}

impl RequestError {
    /// An input error on `field`.
    pub fn input(field: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError::Input {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The patient context (labs, age, conditions) and the [`jurisdiction`] from
/// the patient arguments; an error names the field at fault, for callers
/// that report errors per field (the JSON API).
pub fn validated_patient(
    kb: &KbIndex,
    args: &PatientArgs,
) -> Result<(PatientContext, Jurisdiction), RequestError> {
    let chosen = jurisdiction(&args.jurisdiction)
        .map_err(|e| RequestError::input("jurisdiction", e.to_string()))?;
    let input = PatientInput {
        egfr: args.egfr,
        qtc: args.qtc,
        potassium: args.potassium,
        magnesium: args.magnesium,
        age: args.age,
        conditions: args.conditions.clone(),
    };
    let patient = input.into_context(kb).map_err(|e| {
        let field = match &e {
            PatientError::OutOfRange { what, .. } => what.to_lowercase(),
            PatientError::UnknownCondition { .. } => "conditions".to_owned(),
        };
        RequestError::input(field, e.to_string())
    })?;
    Ok((patient, chosen))
}

/// Refuses an empty medication (the first one, 1-based in the message as
/// the CLI counts, 0-based in the field as JSON indexes).
pub fn reject_empty_meds(meds: &[String]) -> Result<(), RequestError> {
    match meds.iter().position(|m| m.trim().is_empty()) {
        Some(i) => Err(RequestError::input(
            format!("medications[{i}]"),
            format!("medication {} is empty", i + 1),
        )),
        None => Ok(()),
    }
}

/// Parses `--jurisdiction`.
pub fn jurisdiction(text: &str) -> Result<Jurisdiction> {
    match Jurisdiction::parse(text) {
        Some(j @ (Jurisdiction::US | Jurisdiction::UK | Jurisdiction::Any)) => Ok(j),
        _ => bail!("unknown jurisdiction `{text}` (expected US, UK or any)"),
    }
}

/// Writes `text` to stdout, treating a closed pipe (`| head`) as success.
pub fn write_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = anstream::stdout().lock();
    match write(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
