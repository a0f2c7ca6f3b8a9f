//! The pharmacist's text summary: verdict first, then each medication's
//! status, then findings grouped by severity with the medication they came
//! from, why, what to do and the source. Colour is written as ANSI styles;
//! the caller's `anstream` stream strips it when piped or when `NO_COLOR` is set.

use super::json::{CheckJson, PatientJson};
use crate::engine::conditions::LABEL_WARNING;
use anstyle::{AnsiColor, Style};
use std::io::{self, Write};

fn severity_style(severity: &str) -> Style {
    let color = match severity {
        "contraindicated" => AnsiColor::Magenta,
        "major" => AnsiColor::Red,
        "moderate" => AnsiColor::Yellow,
        "minor" => AnsiColor::Cyan,
        _ => AnsiColor::Blue,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

fn verdict_style(verdict: &str) -> Style {
    let color = match verdict {
        "avoid" => AnsiColor::Red,
        "incomplete" => AnsiColor::Magenta,
        "caution" => AnsiColor::Yellow,
        _ => AnsiColor::Green,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

/// A one-line explanation of each verdict.
pub fn verdict_text(verdict: &str) -> &'static str {
    match verdict {
        "avoid" => "do not propose as is: a contraindication or an avoid-level finding",
        "incomplete" => "some medications could not be checked; findings may be missing",
        "caution" => {
            "findings to act on, none contraindicated or major-and-avoid: each says what to do"
        }
        _ => "every medication checked; nothing to act on (information only, if any)",
    }
}

/// Writes the "Labs:" line — every lab value and the age the check used,
/// with its unit — so a value that met no threshold is still seen to have
/// been read, and read in the unit meant.
fn write_labs_line(out: &mut dyn Write, patient: &PatientJson) -> io::Result<()> {
    let labs: Vec<String> = [
        ("eGFR", patient.egfr, "mL/min/1.73 m²"),
        ("QTc", patient.qtc, "ms"),
        ("potassium", patient.potassium, "mmol/L"),
        ("magnesium", patient.magnesium, "mg/dL"),
        ("age", patient.age, "years"),
    ]
    .into_iter()
    // As given, to the last digit (a rounded value could seem to sit on
    // the other side of a threshold); `-0` is 0.
    .filter_map(|(name, value, unit)| value.map(|v| format!("{name} {} {unit}", v + 0.0)))
    .collect();
    if labs.is_empty() {
        return Ok(());
    }
    writeln!(out, "Labs: {}", labs.join(", "))
}

/// Writes the "Labs:" line and the "Patient:" line — the conditions that
/// applied and why — when there are any.
pub fn write_patient_line(out: &mut dyn Write, patient: &PatientJson) -> io::Result<()> {
    write_labs_line(out, patient)?;
    if patient.conditions.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = patient
        .conditions
        .iter()
        .map(|c| match (&c.note, c.basis.as_str()) {
            (Some(note), basis) => format!("{} ({basis}, though {note})", c.code),
            (None, "stated") => c.code.clone(),
            (None, basis) => format!("{} ({basis})", c.code),
        })
        .collect();
    writeln!(out, "Patient: {}", list.join("; "))
}

/// Writes the text report for a check document.
pub fn write_check(out: &mut dyn Write, doc: &CheckJson) -> io::Result<()> {
    let vs = verdict_style(doc.verdict);
    writeln!(
        out,
        "{BOLD}Proposed: {}{BOLD:#} ({})  {vs}verdict: {}{vs:#} — {}",
        doc.proposed.ingredients.join(" + "),
        doc.proposed.input.trim(),
        doc.verdict.to_uppercase(),
        verdict_text(doc.verdict)
    )?;
    writeln!(
        out,
        "{DIM}KB {} (schema {}, {}), {} label facts{DIM:#}",
        doc.kb.version, doc.kb.schema_version, doc.kb.origin, doc.jurisdiction
    )?;
    write_patient_line(out, &doc.patient)?;
    writeln!(out)?;
    if !doc.medications.is_empty() {
        writeln!(out, "{BOLD}Medications{BOLD:#}")?;
    }
    for (i, med) in doc.medications.iter().enumerate() {
        let status = match med.status {
            "recognized" => {
                let how = med.matched_by.unwrap_or("generic");
                let fuzzy = med
                    .fuzzy_matches
                    .iter()
                    .map(|f| format!(" — read `{}` as {}", f.written, f.matched))
                    .collect::<String>();
                format!("{} [{how}]{fuzzy}", med.ingredients.join(" + "))
            }
            "ambiguous" => format!(
                "AMBIGUOUS — could be {}; not checked",
                med.candidates.join(", ")
            ),
            _ => {
                let known = if med.ingredients.is_empty() {
                    String::new()
                } else {
                    format!("{} recognized; ", med.ingredients.join(" + "))
                };
                let hint = if med.suggestions.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", med.suggestions.join(", "))
                };
                format!(
                    "{known}UNRECOGNIZED `{}`{hint}; not checked",
                    med.unresolved.join("`, `")
                )
            }
        };
        let check = match med.interaction_check {
            "finding" => "see findings".to_owned(),
            "none_expected" => format!(
                "checked: no interaction expected ({})",
                med.interaction_check_sources
                    .iter()
                    .map(|s| format!("{}, {}", s.citation, s.section))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            "none_on_file" => "no interaction on file".to_owned(),
            _ => "not checked".to_owned(),
        };
        writeln!(
            out,
            "  {}. {} → {status}  {DIM}{check}{DIM:#}",
            i + 1,
            med.input.trim()
        )?;
    }
    if !doc.medications.is_empty() {
        writeln!(out)?;
    }
    if doc.findings.is_empty() {
        writeln!(out, "No findings.")?;
        return Ok(());
    }
    writeln!(out, "{BOLD}Findings ({}){BOLD:#}", doc.findings.len())?;
    let mut current = "";
    for f in &doc.findings {
        if f.severity != current {
            current = f.severity;
            let st = severity_style(current);
            writeln!(out, "{st}{}{st:#}", current.to_uppercase())?;
        }
        let from = f
            .medication_indices
            .iter()
            .filter_map(|i| doc.medications.get(*i).map(|m| (i, m)))
            .map(|(i, m)| format!("#{} `{}`", i + 1, m.input.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let tags = [
            Some(kind_tag(f.kind, &f.title)),
            Some(f.action.to_owned()),
            f.evidence.map(str::to_owned),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
        writeln!(out, "  {BOLD}{}{BOLD:#}  {DIM}[{tags}]{DIM:#}", f.title)?;
        if !from.is_empty() {
            writeln!(out, "    From: {from}")?;
        }
        if let Some(basis) = &f.basis {
            writeln!(out, "    Patient: {basis}")?;
        }
        if !f.mechanism.is_empty() {
            writeln!(out, "    Why: {}", f.mechanism)?;
        }
        if let Some(effect) = f.effect_beyond_title() {
            writeln!(out, "    Effect: {effect}")?;
        }
        if !f.management.is_empty() {
            writeln!(out, "    Do: {}", f.management)?;
        }
        for s in &f.sources {
            let date = if s.date.is_empty() {
                "undated"
            } else {
                &s.date
            };
            writeln!(
                out,
                "    {DIM}Source: {}, {} ({}, {date}){DIM:#}",
                s.citation, s.section, s.jurisdiction
            )?;
        }
    }
    Ok(())
}

/// The kind of a finding as its tag shows it: a label's warning that is no
/// boxed warning (the UK quinine position on cramps) is tagged as what it
/// is, though its JSON `kind` stays `boxed_warning`.
pub fn kind_tag(kind: &str, title: &str) -> String {
    match title.starts_with(LABEL_WARNING) {
        true => LABEL_WARNING.to_lowercase(),
        false => kind.replace('_', " "),
    }
}
