//! The human summary of `crampcheck batch`, written to stderr: the row
//! accounting first (read = checked + rejected), then patients, findings,
//! unrecognized names, the co-exposure rule, the KB and the speed.

use crate::batch::summary::Summary;
use crate::clinical::Severity;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Formats a count with thousands separators.
fn n(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn by_severity(map: &BTreeMap<&'static str, u64>) -> String {
    Severity::DESCENDING
        .iter()
        .filter_map(|s| {
            map.get(s.as_str())
                .map(|c| format!("{} {}", s.as_str(), n(*c)))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn listed(map: &BTreeMap<&'static str, u64>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k} {}", n(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes the summary for people. `rejects` names the rejects file, if any.
pub fn write_summary(out: &mut dyn Write, s: &Summary, rejects: Option<&str>) -> io::Result<()> {
    writeln!(
        out,
        "crampcheck batch: {} ({} bytes, sha256 {})",
        s.input.path,
        n(s.input.bytes),
        s.input.sha256
    )?;
    writeln!(
        out,
        "  rows         {} read = {} checked + {} rejected",
        n(s.rows_read),
        n(s.rows_checked),
        n(s.rows_rejected)
    )?;
    if s.rows_rejected > 0 {
        let whereto = rejects.map_or_else(
            || " (use --rejects FILE to list them)".to_owned(),
            |f| format!(" (listed in {f})"),
        );
        let partly = match s.rows_rejected_partly_used {
            0 => String::new(),
            k => format!("; {} of them still used in part", n(k)),
        };
        writeln!(
            out,
            "  rejected     {}{whereto}{partly}",
            listed(&s.rejected_by_reason)
        )?;
    }
    let mode = match &s.proposed {
        Some(p) => format!("{} {p}", s.mode),
        None => format!("{} ({})", s.mode, s.therapies.join(", ")),
    };
    writeln!(
        out,
        "  checked      {mode}; jurisdiction {}",
        s.jurisdiction
    )?;
    writeln!(
        out,
        "  co-exposure  {}: {}",
        s.co_exposure.rule, s.co_exposure.description
    )?;
    let worst = by_severity(&s.patients_by_worst_severity);
    writeln!(
        out,
        "  patients     {}; with findings {}{}",
        n(s.patients),
        n(s.patients_with_findings),
        if worst.is_empty() {
            String::new()
        } else {
            format!(" (worst: {worst})")
        }
    )?;
    if s.patients_without_context > 0 {
        writeln!(
            out,
            "  no context   {} patients are not in the --patients file",
            n(s.patients_without_context)
        )?;
    }
    if let Some(unproposed) = s.patients_without_proposed_drug.filter(|&u| u > 0) {
        writeln!(
            out,
            "  not checked  {} patients have no drug to propose on any row (--propose-col)",
            n(unproposed)
        )?;
    }
    writeln!(out, "  findings     {}", n(s.findings))?;
    if s.findings > 0 {
        writeln!(out, "    by kind      {}", listed(&s.findings_by_kind))?;
        writeln!(
            out,
            "    by severity  {}",
            by_severity(&s.findings_by_severity)
        )?;
    }
    if s.unrecognized.distinct_names > 0 {
        writeln!(
            out,
            "  unrecognized {} rows, {} distinct names; most frequent:",
            n(s.unrecognized.rows),
            n(s.unrecognized.distinct_names)
        )?;
        for name in s.unrecognized.top.iter().take(10) {
            let how = match name.status {
                "unrecognized" => String::new(),
                other => format!("  ({other})"),
            };
            writeln!(out, "    {:>8}  {}{how}", n(name.rows), name.name)?;
        }
    }
    writeln!(out, "  KB           {} ({})", s.kb.version, s.kb.origin)?;
    writeln!(
        out,
        "  time         {:.2} s, {} rows/s, {} threads",
        s.elapsed_seconds,
        n(s.rows_per_second.round() as u64),
        s.threads
    )?;
    for w in &s.warnings {
        writeln!(out, "  warning: {w}")?;
    }
    Ok(())
}
