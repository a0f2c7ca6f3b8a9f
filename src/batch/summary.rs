//! The accounting of a batch run (`crampcheck.batch-summary/1`): every row
//! read is either checked or rejected (`rows_read = rows_checked +
//! rows_rejected`), with counts by reason, patients and findings by severity,
//! the unrecognized names worth adding to the KB, which co-exposure rule was
//! applied, and what was read (SHA-256) with which KB.

use super::reader::{Reject, RejectReason, format_day};
use super::spool::OutputStats;
use super::{BatchOptions, Mode};
use crate::kb::KbIndex;
use crate::resolve::{Resolved, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// The schema id of `--summary-json`.
pub const SUMMARY_SCHEMA: &str = "crampcheck.batch-summary/1";
/// How many unrecognized names the summary lists.
pub const TOP_NAMES: usize = 20;

/// Counters kept while reading.
#[derive(Debug, Default, Clone)]
pub struct Counts {
    /// Data rows read (the header and blank lines are not rows).
    pub rows_read: u64,
    /// Rows used.
    pub rows_checked: u64,
    /// Rows rejected, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Rejected rows of which a part was still used: the medication of a
    /// row whose context could not be, or the context of a row whose
    /// medication could not be.
    pub rejected_partly_used: u64,
    /// Distinct patients with at least one usable row (an id whose every
    /// row was rejected is not one).
    pub patients: u64,
    /// Patients missing from the `--patients` file.
    pub patients_without_context: u64,
    /// With `--propose-col`: patients with no drug to propose on any usable
    /// row, so nothing was checked for them.
    pub patients_without_proposed_drug: u64,
    /// Patients whose rows gave two different values of a lab, by lab
    /// (eGFR, QTc, age, potassium, magnesium).
    pub patients_with_conflicting_values: [u64; 5],
    /// SHA-256 of the raw input bytes, lowercase hex.
    pub sha256: String,
    /// Raw input size.
    pub bytes: u64,
    /// Things worth knowing that did not stop the run.
    pub warnings: Vec<String>,
}

impl Counts {
    /// A row's reject, if any, once its usable part (`used`) was handed on:
    /// a rejected row with such a part counts as used in part.
    #[inline(always)]
    pub fn rejected_after_use(&mut self, used: bool, reject: Option<Reject>) -> Result<(), Reject> {
        match reject {
            None => Ok(()),
            Some(reject) => {
                self.rejected_partly_used += u64::from(used);
                Err(reject)
            }
        }
    }

    /// Counts one rejected row.
    pub fn reject(&mut self, reason: RejectReason) {
        *self.rejected.entry(reason).or_default() += 1;
    }
}

/// What was read.
#[derive(Debug, Clone, Serialize)]
pub struct InputSummary {
    /// Path, or `-` for stdin.
    pub path: String,
    /// SHA-256 of the raw bytes (before gzip decoding).
    pub sha256: String,
    /// Raw size in bytes.
    pub bytes: u64,
}

/// Which KB was used.
#[derive(Debug, Clone, Serialize)]
pub struct KbSummary {
    /// Content version.
    pub version: String,
    /// Schema version.
    pub schema_version: i64,
    /// `embedded` or the KB path.
    pub origin: String,
}

/// Which rows counted together.
#[derive(Debug, Clone, Serialize)]
pub struct CoExposure {
    /// `single-list`, `overlap`, `as-of` or `latest-start`.
    pub rule: &'static str,
    /// The rule in words.
    pub description: String,
}

/// An unrecognized name and how many rows carry it.
#[derive(Debug, Clone, Serialize)]
pub struct NameCount {
    /// The drug text as written.
    pub name: String,
    /// Rows carrying it.
    pub rows: u64,
    /// `unrecognized`, `ambiguous`, or `fuzzy` (taken for a known name by
    /// its spelling, and checked as that drug).
    pub status: &'static str,
}

/// Unrecognized names, to extend the KB.
#[derive(Debug, Clone, Serialize)]
pub struct UnrecognizedSummary {
    /// Rows whose drug (or proposed drug) was not recognized.
    pub rows: u64,
    /// Distinct such names.
    pub distinct_names: u64,
    /// The most frequent names, most rows first.
    pub top: Vec<NameCount>,
}

/// The whole summary.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Always `crampcheck.batch-summary/1`.
    pub schema: &'static str,
    /// What was read.
    pub input: InputSummary,
    /// Which KB.
    pub kb: KbSummary,
    /// `existing-therapies`, `propose` or `propose-column`.
    pub mode: &'static str,
    /// The proposed drug (or the column naming it).
    pub proposed: Option<String>,
    /// The cramp therapies looked for in `existing-therapies` mode.
    pub therapies: Vec<String>,
    /// Whose label facts applied.
    pub jurisdiction: &'static str,
    /// Which rows counted together.
    pub co_exposure: CoExposure,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows used.
    pub rows_checked: u64,
    /// Rows rejected (see the rejects file).
    pub rows_rejected: u64,
    /// Rejected rows by reason.
    pub rejected_by_reason: BTreeMap<&'static str, u64>,
    /// Rejected rows of which a part was still used (a row's medication when
    /// its context could not be used, or its context when its medication
    /// could not be); each one's reject says which. Counted in
    /// `rows_rejected`, not in `rows_checked`.
    pub rows_rejected_partly_used: u64,
    /// Distinct patients with at least one usable row (an id whose every
    /// row was rejected is not one).
    pub patients: u64,
    /// Patients with at least one finding.
    pub patients_with_findings: u64,
    /// Patients by their worst finding.
    pub patients_by_worst_severity: BTreeMap<&'static str, u64>,
    /// Patients not found in the `--patients` file.
    pub patients_without_context: u64,
    /// With `--propose-col`: patients with no drug to propose on any usable
    /// row (nothing was checked for them); absent in the other modes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patients_without_proposed_drug: Option<u64>,
    /// Patients whose rows gave two different values of a lab (`egfr`,
    /// `qtc`, `age`, `potassium`, `magnesium`; only labs with any), so one
    /// was chosen (see `warnings`).
    pub patients_with_conflicting_values: BTreeMap<&'static str, u64>,
    /// All findings.
    pub findings: u64,
    /// Findings by kind.
    pub findings_by_kind: BTreeMap<&'static str, u64>,
    /// Findings by severity.
    pub findings_by_severity: BTreeMap<&'static str, u64>,
    /// Names that could not be checked.
    pub unrecognized: UnrecognizedSummary,
    /// Things worth knowing that did not stop the run.
    pub warnings: Vec<String>,
    /// Worker threads used.
    pub threads: usize,
    /// Wall time.
    pub elapsed_seconds: f64,
    /// Rows read per second of wall time.
    pub rows_per_second: f64,
}

impl Summary {
    /// Assembles the summary at the end of a run.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        kb: &KbIndex,
        opts: &BatchOptions,
        counts: Counts,
        stats: OutputStats,
        meds: &[Resolved],
        med_rows: &[u64],
        started: Instant,
        threads: usize,
    ) -> Self {
        let elapsed = started.elapsed().as_secs_f64();
        let rows_rejected: u64 = counts.rejected.values().sum();
        let mut names: Vec<NameCount> = meds
            .iter()
            .zip(med_rows)
            .filter(|(m, _)| !m.is_exact())
            .map(|(m, rows)| NameCount {
                name: m.med.input.clone(),
                rows: *rows,
                status: match m.status {
                    Status::Recognized => "fuzzy",
                    other => other.as_str(),
                },
            })
            .collect();
        names.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.name.cmp(&b.name)));
        let unrecognized = UnrecognizedSummary {
            rows: names.iter().map(|n| n.rows).sum(),
            distinct_names: names.len() as u64,
            top: names.into_iter().take(TOP_NAMES).collect(),
        };
        let (mode, proposed) = match &opts.mode {
            Mode::Existing => ("existing-therapies", None),
            Mode::Propose(p) => ("propose", Some(p.med.input.clone())),
            Mode::ProposeColumn => ("propose-column", opts.columns.propose.clone()),
        };
        Summary {
            schema: SUMMARY_SCHEMA,
            input: InputSummary {
                path: opts.input.label(),
                sha256: counts.sha256,
                bytes: counts.bytes,
            },
            kb: KbSummary {
                version: kb.meta.version.clone(),
                schema_version: kb.meta.schema_version,
                origin: kb.meta.origin.clone(),
            },
            mode,
            proposed,
            therapies: match opts.mode {
                Mode::Existing => super::group::therapy_drugs(kb)
                    .into_iter()
                    .map(|d| kb.drug_name(d).to_owned())
                    .collect(),
                _ => Vec::new(),
            },
            jurisdiction: opts.jurisdiction.as_str(),
            co_exposure: co_exposure(opts),
            rows_read: counts.rows_read,
            rows_checked: counts.rows_checked,
            rows_rejected,
            rows_rejected_partly_used: counts.rejected_partly_used,
            rejected_by_reason: counts
                .rejected
                .iter()
                .map(|(r, n)| (r.as_str(), *n))
                .collect(),
            patients: counts.patients,
            patients_with_findings: stats.patients_with_findings,
            patients_by_worst_severity: stats
                .by_worst
                .iter()
                .map(|(s, n)| (s.as_str(), *n))
                .collect(),
            patients_without_context: counts.patients_without_context,
            patients_without_proposed_drug: matches!(opts.mode, Mode::ProposeColumn)
                .then_some(counts.patients_without_proposed_drug),
            patients_with_conflicting_values: super::context::lab_names()
                .zip(counts.patients_with_conflicting_values)
                .filter(|(_, n)| *n > 0)
                .collect(),
            findings: stats.findings,
            findings_by_kind: stats
                .by_kind
                .iter()
                .map(|(k, n)| (k.as_str(), *n))
                .collect(),
            findings_by_severity: stats
                .by_severity
                .iter()
                .map(|(s, n)| (s.as_str(), *n))
                .collect(),
            unrecognized,
            warnings: counts.warnings,
            threads,
            elapsed_seconds: elapsed,
            rows_per_second: if elapsed > 0.0 {
                counts.rows_read as f64 / elapsed
            } else {
                0.0
            },
        }
    }
}

fn co_exposure(opts: &BatchOptions) -> CoExposure {
    let cols = &opts.columns;
    let Some(start) = &cols.start else {
        return CoExposure {
            rule: "single-list",
            description: "no date columns: all of a patient's rows form one medication list"
                .to_owned(),
        };
    };
    let window = match (&cols.stop, &cols.days_supply) {
        (Some(stop), _) => {
            format!("each row is exposed from {start} up to {stop} (an empty {stop} means ongoing)")
        }
        (None, Some(days)) => format!("each row is exposed from {start} for {days} days"),
        (None, None) => format!("each row is exposed from {start} onward"),
    };
    match (opts.as_of, &opts.mode) {
        (Some(day), _) => CoExposure {
            rule: "as-of",
            description: format!("only rows active on {}; {window}", format_day(day)),
        },
        (None, Mode::Existing) => CoExposure {
            rule: "overlap",
            description: format!("two rows count together only if their windows overlap; {window}"),
        },
        (None, _) => CoExposure {
            rule: "latest-start",
            description: format!(
                "the proposed drug is checked against the rows active on the patient's latest {start} date; {window}"
            ),
        },
    }
}
