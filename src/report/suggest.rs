//! The `crampcheck.suggest/1` JSON document and the pharmacist's text table
//! written from it (so both always say the same thing). Fields are only ever
//! added; struct field order fixes the key order, so identical input gives
//! byte-identical output. Findings are the same [`FindingJson`] objects that
//! `check` emits.

use super::json::{FindingJson, KbJson, MedicationJson, PatientJson, SourceJson, medication_json};
use crate::clinical::Jurisdiction;
use crate::engine::suggest::{
    DoseStep, DosingPlan, Step, Suggestion, TherapySuggestion, caution_counts,
};
use crate::kb::KbIndex;
use crate::parse::trim_number;
use crate::patient::PatientContext;
use crate::resolve::Resolved;
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::io::{self, Write};

/// The schema id of `suggest --format json`.
pub const SUGGEST_SCHEMA: &str = "crampcheck.suggest/1";

/// The ranking keys, in the order they are applied.
pub const RANKING: [&str; 4] = ["status", "evidence_level", "cautions", "name"];

/// The indication the suggestion is for, and why.
#[derive(Debug, Serialize)]
pub struct IndicationJson {
    /// The `therapies.csv` indication code.
    pub code: String,
    /// `stated` (`--indication`), `condition` (implied by a patient
    /// condition of the same code) or `default`.
    pub basis: &'static str,
}

/// A cause-first or non-drug step.
#[derive(Debug, Serialize)]
pub struct StepJson {
    /// `correct-hypokalemia` | `correct-hypomagnesemia` |
    /// `review-cramp-causing-drugs` | `stretching`.
    pub code: String,
    /// Headline.
    pub title: String,
    /// What to do and why.
    pub detail: String,
    /// The patient fact behind it.
    pub basis: Option<String>,
    /// Drugs it concerns.
    pub drugs: Vec<String>,
    /// Cited sources; empty for general advice the KB has no source for.
    pub sources: Vec<SourceJson>,
    /// The `check` findings behind it (`cause` findings).
    pub findings: Vec<FindingJson>,
}

/// A therapy's guideline row.
#[derive(Debug, Serialize)]
pub struct StandingJson {
    /// Indication of the row.
    pub indication: String,
    /// recommended | possibly-effective | effective-avoid-routine |
    /// insufficient-evidence | not-recommended.
    pub standing: String,
    /// A | B | C | U.
    pub evidence_level: String,
    /// What the guideline says.
    pub summary: String,
    /// Whose guideline.
    pub jurisdiction: &'static str,
    /// Cited sources.
    pub sources: Vec<SourceJson>,
}

/// Findings per severity, as used by the ranking.
#[derive(Debug, Serialize)]
pub struct CautionsJson {
    /// Contraindicated findings.
    pub contraindicated: usize,
    /// Major findings.
    pub major: usize,
    /// Moderate findings.
    pub moderate: usize,
    /// Minor findings.
    pub minor: usize,
}

/// One step of a dosing schedule.
#[derive(Debug, Serialize)]
pub struct DoseStepJson {
    /// First day (1-based).
    pub from_day: u32,
    /// Last day, inclusive; null for the maintenance step.
    pub to_day: Option<u32>,
    /// Total daily dose in mg.
    pub mg_per_day: f64,
}

/// A condition finding that flags the dose.
#[derive(Debug, Serialize)]
pub struct FlagReasonJson {
    /// Condition code.
    pub condition: Option<String>,
    /// adjust-dose | avoid.
    pub action: &'static str,
    /// The finding's title.
    pub title: String,
    /// The finding's management advice.
    pub management: String,
}

/// A dosing plan.
#[derive(Debug, Serialize)]
pub struct DosingJson {
    /// KB dosing rule id.
    pub rule_id: String,
    /// Indication of the rule.
    pub indication: String,
    /// `any` or the patient condition the rule is specific to.
    pub population: String,
    /// Starting daily dose, mg.
    pub start_mg_per_day: Option<f64>,
    /// Daily-dose increase per step, mg.
    pub step_mg_per_day: Option<f64>,
    /// Days between steps.
    pub step_every_days: Option<u32>,
    /// Maximum daily dose, mg.
    pub max_mg_per_day: Option<f64>,
    /// The schedule as the source words it.
    pub schedule: String,
    /// Caveats.
    pub note: String,
    /// The route the maximum is for: `oral`, `parenteral` or `any`.
    pub route: &'static str,
    /// Whose label or guideline.
    pub jurisdiction: &'static str,
    /// Cited sources.
    pub sources: Vec<SourceJson>,
    /// The schedule as data.
    pub steps: Vec<DoseStepJson>,
    /// reduce | avoid | null: what the patient's conditions mean for the dose.
    pub flag: Option<&'static str>,
    /// The condition findings behind the flag.
    pub flag_reasons: Vec<FlagReasonJson>,
}

/// One therapy.
#[derive(Debug, Serialize)]
pub struct TherapyJson {
    /// Position in the ranking, from 1.
    pub rank: usize,
    /// Canonical ingredient name.
    pub drug: String,
    /// preferred | acceptable | caution | avoid | contraindicated.
    pub status: &'static str,
    /// Why it has that status.
    pub reason: String,
    /// The guideline row for the indication; null when the KB has none.
    pub standing: Option<StandingJson>,
    /// A | B | C | U | null (no row).
    pub evidence_level: Option<&'static str>,
    /// Findings per severity.
    pub cautions: CautionsJson,
    /// The `check` findings for this therapy, most severe first.
    pub findings: Vec<FindingJson>,
    /// The dosing plan for the indication; null when the KB has no rule.
    pub dosing: Option<DosingJson>,
}

/// The whole `crampcheck.suggest/1` document.
#[derive(Debug, Serialize)]
pub struct SuggestJson {
    /// Always `crampcheck.suggest/1`.
    pub schema: &'static str,
    /// KB identification.
    pub kb: KbJson,
    /// Whose label facts applied.
    pub jurisdiction: &'static str,
    /// The indication ranked for.
    pub indication: IndicationJson,
    /// Whether every listed medication was resolved.
    pub complete: bool,
    /// Medications that could not be checked, as typed.
    pub unresolved: Vec<String>,
    /// The listed medications; `interaction_check` is aggregated over every
    /// therapy (`finding` when any therapy has a finding with it).
    pub medications: Vec<MedicationJson>,
    /// The patient context.
    pub patient: PatientJson,
    /// Steps before any drug, in order.
    pub steps: Vec<StepJson>,
    /// The ranking keys, in order.
    pub ranking: [&'static str; 4],
    /// Every therapy, best first.
    pub therapies: Vec<TherapyJson>,
    /// Findings about the list that are not steps (unrecognized names,
    /// dose problems of listed medications).
    pub medication_findings: Vec<FindingJson>,
}

fn sources(kb: &KbIndex, ids: &[u32]) -> Vec<SourceJson> {
    let mut ids = ids.to_vec();
    crate::engine::finding::sort_sources(kb, &mut ids);
    ids.iter().map(|s| SourceJson::of(kb, *s)).collect()
}

fn step_json(kb: &KbIndex, step: &Step) -> StepJson {
    StepJson {
        code: step.code.clone(),
        title: step.title.clone(),
        detail: step.detail.clone(),
        basis: step.basis.clone(),
        drugs: step.drugs.clone(),
        sources: sources(kb, &step.sources),
        findings: step
            .findings
            .iter()
            .map(|f| FindingJson::of(kb, f))
            .collect(),
    }
}

fn steps_json(steps: &[DoseStep]) -> Vec<DoseStepJson> {
    steps
        .iter()
        .map(|s| DoseStepJson {
            from_day: s.from_day,
            to_day: s.to_day,
            mg_per_day: s.mg_per_day,
        })
        .collect()
}

fn dosing_json(kb: &KbIndex, plan: &DosingPlan<'_>, t: &TherapySuggestion<'_>) -> DosingJson {
    let rule = plan.rule;
    DosingJson {
        rule_id: rule.id.clone(),
        indication: rule.indication.clone(),
        population: rule.population.clone(),
        start_mg_per_day: rule.start_mg_per_day,
        step_mg_per_day: rule.step_mg_per_day,
        step_every_days: rule.step_every_days,
        max_mg_per_day: rule.max_mg_per_day,
        schedule: rule.schedule.clone(),
        note: rule.note.clone(),
        route: rule.route.map_or("any", |r| r.as_str()),
        jurisdiction: rule.jurisdiction.as_str(),
        sources: sources(kb, &rule.sources),
        steps: steps_json(&plan.steps),
        flag: plan.flag.map(|f| f.as_str()),
        flag_reasons: plan
            .flag_findings
            .iter()
            .filter_map(|i| t.findings.get(*i))
            .map(|f| FlagReasonJson {
                condition: f.condition.clone(),
                action: f.action.as_str(),
                title: f.title.clone(),
                management: f.management.clone(),
            })
            .collect(),
    }
}

fn therapy_json(kb: &KbIndex, rank: usize, t: &TherapySuggestion<'_>) -> TherapyJson {
    let [contraindicated, major, moderate, minor] = caution_counts(&t.findings);
    TherapyJson {
        rank,
        drug: t.name.clone(),
        status: t.status.as_str(),
        reason: t.reason.clone(),
        standing: t.standing.map(|row| StandingJson {
            indication: row.indication.clone(),
            standing: row.standing.clone(),
            evidence_level: row.evidence_level.clone(),
            summary: row.summary.clone(),
            jurisdiction: row.jurisdiction.as_str(),
            sources: sources(kb, &row.sources),
        }),
        evidence_level: t.evidence_level.map(|l| l.as_str()),
        cautions: CautionsJson {
            contraindicated,
            major,
            moderate,
            minor,
        },
        findings: t.findings.iter().map(|f| FindingJson::of(kb, f)).collect(),
        dosing: t.dosing.as_ref().map(|plan| dosing_json(kb, plan, t)),
    }
}

/// Builds the suggest document.
pub fn suggest_json(
    kb: &KbIndex,
    meds: &[Resolved],
    patient: &PatientContext,
    jurisdiction: Jurisdiction,
    indication: IndicationJson,
    suggestion: &Suggestion<'_>,
) -> SuggestJson {
    SuggestJson {
        schema: SUGGEST_SCHEMA,
        kb: KbJson::of(kb),
        jurisdiction: jurisdiction.as_str(),
        indication,
        complete: suggestion.complete,
        unresolved: meds
            .iter()
            .filter(|m| !m.is_exact())
            .map(|m| m.med.input.trim().to_owned())
            .collect(),
        medications: meds
            .iter()
            .zip(&suggestion.pair_checks)
            .map(|(m, c)| medication_json(kb, m, Some(c)))
            .collect(),
        patient: PatientJson::of(kb, patient),
        steps: suggestion.steps.iter().map(|s| step_json(kb, s)).collect(),
        ranking: RANKING,
        therapies: suggestion
            .therapies
            .iter()
            .enumerate()
            .map(|(i, t)| therapy_json(kb, i + 1, t))
            .collect(),
        medication_findings: suggestion
            .list_findings
            .iter()
            .map(|f| FindingJson::of(kb, f))
            .collect(),
    }
}

const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

fn status_style(status: &str) -> Style {
    let color = match status {
        "contraindicated" => AnsiColor::Magenta,
        "avoid" => AnsiColor::Red,
        "caution" => AnsiColor::Yellow,
        _ => AnsiColor::Green,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

/// "week 1", "weeks 3-4", "from week 3" when the steps fall on whole weeks,
/// otherwise "days 1-3", "from day 4".
fn step_label(step: &DoseStepJson) -> String {
    let week = |day: u32| day.saturating_sub(1) / 7 + 1;
    let whole_weeks = step.from_day.saturating_sub(1).is_multiple_of(7)
        && step.to_day.is_none_or(|d| d.is_multiple_of(7));
    match (step.to_day, whole_weeks) {
        (Some(to), true) if week(to) == week(step.from_day) => {
            format!("week {}", week(step.from_day))
        }
        (Some(to), true) => format!("weeks {}-{}", week(step.from_day), week(to)),
        (None, true) => format!("from week {}", week(step.from_day)),
        (Some(to), false) => format!("days {}-{to}", step.from_day),
        (None, false) => format!("from day {}", step.from_day),
    }
}

/// The schedule of a plan on one line, e.g. "week 1: 10 mg/day; week 2:
/// 20 mg/day; from week 3: 30 mg/day".
pub fn schedule_line(steps: &[DoseStepJson]) -> String {
    match steps {
        [only] if only.from_day == 1 && only.to_day.is_none() => {
            format!("{} mg/day", trim_number(only.mg_per_day))
        }
        _ => steps
            .iter()
            .map(|s| format!("{}: {} mg/day", step_label(s), trim_number(s.mg_per_day)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

fn write_sources(out: &mut dyn Write, indent: &str, list: &[SourceJson]) -> io::Result<()> {
    for s in list {
        let date = if s.date.is_empty() {
            String::new()
        } else {
            format!(", {}", s.date)
        };
        writeln!(
            out,
            "{indent}{DIM}Source: {}, {} ({}{date}){DIM:#}",
            s.citation, s.section, s.jurisdiction
        )?;
    }
    Ok(())
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

/// Writes the text report: the indication, the steps before any drug, the
/// ranked table, then each therapy's findings and dosing plan.
pub fn write_suggest(out: &mut dyn Write, doc: &SuggestJson) -> io::Result<()> {
    let basis = match doc.indication.basis {
        "stated" => "as stated".to_owned(),
        "condition" => format!("patient has condition {}", doc.indication.code),
        _ => "default".to_owned(),
    };
    writeln!(
        out,
        "{BOLD}Cramp therapies for {}{BOLD:#} ({basis})",
        doc.indication.code
    )?;
    writeln!(
        out,
        "{DIM}KB {} (schema {}, {}), {} label facts; ranked by {}{DIM:#}",
        doc.kb.version,
        doc.kb.schema_version,
        doc.kb.origin,
        doc.jurisdiction,
        doc.ranking.join(", then ")
    )?;
    super::text::write_patient_line(out, &doc.patient)?;
    if !doc.complete {
        let st = status_style("contraindicated");
        writeln!(
            out,
            "{st}INCOMPLETE{st:#}: not checked, or read only by their spelling: {} — findings for these may be missing",
            doc.unresolved
                .iter()
                .map(|u| format!("`{u}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{BOLD}First{BOLD:#}")?;
    for (n, step) in doc.steps.iter().enumerate() {
        writeln!(out, "  {}. {BOLD}{}{BOLD:#}", n + 1, step.title)?;
        if let Some(basis) = &step.basis {
            writeln!(out, "     Patient: {basis}")?;
        }
        writeln!(out, "     {}", step.detail)?;
        for f in &step.findings {
            let from: Vec<String> = f
                .medication_indices
                .iter()
                .filter_map(|i| doc.medications.get(*i))
                .map(|m| format!("`{}`", m.input.trim()))
                .collect();
            writeln!(out, "     - {} ({})", f.title, from.join(", "))?;
        }
        write_sources(out, "     ", &step.sources)?;
    }
    for f in &doc.medication_findings {
        writeln!(out, "  ! {} — {}", f.title, f.management)?;
    }
    writeln!(out)?;
    write_table(out, doc)?;
    for t in &doc.therapies {
        if t.findings.is_empty() && t.dosing.is_none() && t.standing.is_none() {
            continue;
        }
        writeln!(out)?;
        let st = status_style(t.status);
        writeln!(
            out,
            "{BOLD}{}. {}{BOLD:#} — {st}{}{st:#}: {}",
            t.rank, t.drug, t.status, t.reason
        )?;
        if let Some(s) = &t.standing {
            writeln!(
                out,
                "   Guideline: {} (level {}): {}",
                s.standing, s.evidence_level, s.summary
            )?;
            write_sources(out, "   ", &s.sources)?;
        }
        for f in &t.findings {
            writeln!(
                out,
                "   {} {}  {DIM}[{} · {}]{DIM:#}",
                f.severity.to_uppercase(),
                f.title,
                super::text::kind_tag(f.kind, &f.title),
                f.action
            )?;
            if let Some(basis) = &f.basis {
                writeln!(out, "     Patient: {basis}")?;
            }
            if !f.management.is_empty() {
                writeln!(out, "     Do: {}", f.management)?;
            }
            write_sources(out, "     ", &f.sources)?;
        }
        if let Some(d) = &t.dosing {
            write_dosing(out, d)?;
        }
    }
    Ok(())
}

fn write_table(out: &mut dyn Write, doc: &SuggestJson) -> io::Result<()> {
    let name_width = doc
        .therapies
        .iter()
        .map(|t| t.drug.len())
        .max()
        .unwrap_or(0)
        .max("Therapy".len());
    writeln!(
        out,
        "{BOLD} #  {}  {}  Level  {}  Cautions  Why{BOLD:#}",
        pad("Therapy", name_width),
        pad("Status", 15),
        pad("Standing", 23),
    )?;
    for t in &doc.therapies {
        let st = status_style(t.status);
        let c = &t.cautions;
        let cautions = format!(
            "{}/{}/{}/{}",
            c.contraindicated, c.major, c.moderate, c.minor
        );
        writeln!(
            out,
            "{:>2}  {}  {st}{}{st:#}  {}  {}  {}  {}",
            t.rank,
            pad(&t.drug, name_width),
            pad(t.status, 15),
            pad(t.evidence_level.unwrap_or("-"), 5),
            pad(t.standing.as_ref().map_or("-", |s| s.standing.as_str()), 23),
            pad(&cautions, 8),
            t.reason
        )?;
    }
    writeln!(
        out,
        "{DIM}Cautions: contraindicated/major/moderate/minor findings.{DIM:#}"
    )
}

fn write_dosing(out: &mut dyn Write, d: &DosingJson) -> io::Result<()> {
    let max = d.max_mg_per_day.map_or(String::new(), |m| {
        format!(" (max {} mg/day)", trim_number(m))
    });
    if d.steps.is_empty() {
        writeln!(out, "   Dose: {}{max}", d.schedule)?;
    } else {
        writeln!(out, "   Dose: {}{max}", schedule_line(&d.steps))?;
        writeln!(out, "     As written: {}", d.schedule)?;
    }
    if d.population != "any" {
        writeln!(out, "     For patients with {}", d.population)?;
    }
    if !d.note.is_empty() {
        writeln!(out, "     Note: {}", d.note)?;
    }
    if let Some(flag) = d.flag {
        let st = status_style(if flag == "avoid" { "avoid" } else { "caution" });
        let reasons: Vec<&str> = d.flag_reasons.iter().map(|r| r.title.as_str()).collect();
        writeln!(
            out,
            "     {st}Dose flag: {}{st:#} — {}",
            flag.to_uppercase(),
            reasons.join("; ")
        )?;
    }
    write_sources(out, "     ", &d.sources)
}
