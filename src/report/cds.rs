//! CDS Hooks 1.x cards (<https://cds-hooks.hl7.org/>): the findings of a
//! `check` document as the cards an EHR shows when a drug is selected or
//! signed. One card per finding; `summary` under 140 characters, `detail` in
//! GitHub-flavoured Markdown, `indicator` `critical` for contraindicated and
//! major findings, `warning` for moderate, `info` below; `source.label`
//! names the KB and the finding's first citation. Medications that could not
//! be checked get a `warning` card of their own, never silence.
//!
//! Which findings become cards (threshold, de-duplication across several
//! draft orders) is decided by the caller, [`crate::server::cds`].

use super::fhir::stable_uuid;
use super::json::{CheckJson, FindingJson, SourceJson};
use serde::Serialize;

/// The longest `summary`, in characters (the specification says "<140").
pub const MAX_SUMMARY_CHARS: usize = 139;

/// The system of the override reasons offered on critical cards.
pub const OVERRIDE_SYSTEM: &str = "urn:crampcheck:cds:override-reason";

/// A CDS Hooks response.
#[derive(Debug, Serialize, Default)]
pub struct CdsResponse {
    /// The cards; empty when there is nothing to say.
    pub cards: Vec<Card>,
}

/// A CDS Hooks card.
#[derive(Debug, Serialize, Clone)]
pub struct Card {
    /// Stable id (derived from the hook instance and the finding), for feedback.
    pub uuid: String,
    /// One line, under 140 characters.
    pub summary: String,
    /// Markdown: why, effect, what to do, sources.
    pub detail: String,
    /// `critical` | `warning` | `info`.
    pub indicator: &'static str,
    /// Where the advice comes from.
    pub source: CardSource,
    /// Reasons a clinician may give for overriding (critical cards only).
    #[serde(rename = "overrideReasons", skip_serializing_if = "Vec::is_empty")]
    pub override_reasons: Vec<OverrideReason>,
}

/// A card's `source`.
#[derive(Debug, Serialize, Clone)]
pub struct CardSource {
    /// The KB and the first citation.
    pub label: String,
    /// Where the first citation can be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An override reason (a FHIR Coding; `display` is required).
#[derive(Debug, Serialize, Clone)]
pub struct OverrideReason {
    /// Code system.
    pub system: &'static str,
    /// Code.
    pub code: &'static str,
    /// What the clinician sees.
    pub display: &'static str,
}

const OVERRIDE_REASONS: [(&str, &str); 3] = [
    (
        "benefit-outweighs-risk",
        "Benefit outweighs the risk; will monitor",
    ),
    (
        "interacting-drug-stopped",
        "The interacting medication has been or will be stopped",
    ),
    ("not-applicable", "Not applicable to this patient"),
];

/// The card indicator of a crampcheck severity.
pub fn indicator(severity: &str) -> &'static str {
    match severity {
        "contraindicated" | "major" => "critical",
        "moderate" => "warning",
        _ => "info",
    }
}

/// `text` cut to at most [`MAX_SUMMARY_CHARS`] characters, ending in `…`
/// when cut.
pub fn summary_line(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_SUMMARY_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_SUMMARY_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// Escapes text that comes from outside (medication names from the EHR, KB
/// prose) so that Markdown renders it as written and no HTML gets through.
pub fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn kb_label(doc: &CheckJson) -> String {
    format!("crampcheck KB {}", doc.kb.version)
}

fn source_line(s: &SourceJson) -> String {
    let date = if s.date.is_empty() {
        "undated"
    } else {
        &s.date
    };
    let text = md_escape(&format!("{}, {}", s.citation, s.section));
    let url = s.url.trim();
    if url.starts_with("https://") || url.starts_with("http://") {
        format!(
            "- [{text}](<{}>) ({}, {date})",
            url.replace('>', "%3E"),
            s.jurisdiction
        )
    } else {
        format!("- {text} ({}, {date})", s.jurisdiction)
    }
}

/// The card for one finding of `doc`. `hook_instance` makes the uuid unique
/// per hook call.
pub fn finding_card(doc: &CheckJson, f: &FindingJson, hook_instance: &str) -> Card {
    let summary = summary_line(&format!(
        "{}: {} ({})",
        capitalize(f.severity),
        f.title,
        f.action.replace('-', " ")
    ));
    let mut detail = format!(
        "**Proposed:** {} · **Severity:** {} · **Action:** {}",
        md_escape(doc.proposed.input.trim()),
        f.severity,
        f.action
    );
    if let Some(evidence) = f.evidence {
        detail.push_str(&format!(" · **Evidence:** {evidence}"));
    }
    let from: Vec<String> = f
        .medication_indices
        .iter()
        .filter_map(|i| doc.medications.get(*i))
        .map(|m| md_escape(m.input.trim()))
        .collect();
    if !from.is_empty() {
        detail.push_str(&format!("\n\n**With:** {}", from.join(", ")));
    }
    if let Some(basis) = &f.basis {
        detail.push_str(&format!("\n\n**Patient:** {}", md_escape(basis)));
    }
    if !f.mechanism.is_empty() {
        detail.push_str(&format!("\n\n**Why:** {}", md_escape(&f.mechanism)));
    }
    if let Some(effect) = f.effect_beyond_title() {
        detail.push_str(&format!("\n\n**Effect:** {}", md_escape(effect)));
    }
    if !f.management.is_empty() {
        detail.push_str(&format!("\n\n**What to do:** {}", md_escape(&f.management)));
    }
    if !f.sources.is_empty() {
        detail.push_str("\n\n**Sources**\n");
        let lines: Vec<String> = f.sources.iter().map(source_line).collect();
        detail.push_str(&lines.join("\n"));
    }
    let label = match f.sources.first() {
        Some(s) => format!("{}: {}", kb_label(doc), s.citation),
        None => kb_label(doc),
    };
    let url = f
        .sources
        .iter()
        .map(|s| s.url.trim())
        .find(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_owned);
    let indicator = indicator(f.severity);
    let mut key = vec![hook_instance, f.kind, f.title.as_str()];
    key.extend(f.drugs.iter().map(String::as_str));
    key.extend(f.condition.as_deref());
    Card {
        uuid: stable_uuid(&key),
        summary,
        detail,
        indicator,
        source: CardSource { label, url },
        override_reasons: if indicator == "critical" {
            OVERRIDE_REASONS
                .iter()
                // "The interacting medication has been stopped" only where
                // another medication is involved, not for a boxed warning or
                // a condition.
                .filter(|(code, _)| {
                    *code != "interacting-drug-stopped" || !f.medication_indices.is_empty()
                })
                .map(|(code, display)| OverrideReason {
                    system: OVERRIDE_SYSTEM,
                    code,
                    display,
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// A medication that could not be checked, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    /// The name as the EHR sent it (or a description when it sent none).
    pub name: String,
    /// Whether it is a draft order (the drug being ordered) rather than one
    /// the patient already takes.
    pub ordered: bool,
    /// Why: "not recognized", "ambiguous: could be a, b", "no name", ...
    pub reason: String,
    /// Close names the KB knows.
    pub suggestions: Vec<String>,
}

impl Unchecked {
    /// How a card names it: the drug being ordered, or one on the list.
    fn role(&self) -> &'static str {
        if self.ordered {
            "Ordered drug"
        } else {
            "Medication"
        }
    }
}

/// The source of a card about how a medication's name was read.
fn name_resolution_source(kb_version: &str) -> CardSource {
    CardSource {
        label: format!("crampcheck KB {kb_version}: medication name resolution"),
        url: None,
    }
}

/// The `warning` card for a medication that could not be checked.
pub fn unchecked_card(kb_version: &str, u: &Unchecked, hook_instance: &str) -> Card {
    let role = u.role();
    let summary = summary_line(&format!(
        "{role} not checked for interactions: {} ({})",
        u.name, u.reason
    ));
    let mut detail = format!(
        "crampcheck could not check **{}** ({}). Interactions and cautions involving it are \
         **not** covered by the other cards: check it by hand.",
        md_escape(&u.name),
        md_escape(&u.reason)
    );
    if !u.suggestions.is_empty() {
        let names: Vec<String> = u.suggestions.iter().map(|s| md_escape(s)).collect();
        detail.push_str(&format!("\n\nDid you mean: {}?", names.join(", ")));
    }
    Card {
        uuid: stable_uuid(&[hook_instance, "unchecked", &u.name]),
        summary,
        detail,
        indicator: "warning",
        source: name_resolution_source(kb_version),
        override_reasons: Vec::new(),
    }
}

/// The `warning` card for a medication whose name was read only in part
/// (`quinine 324 mg nightly x30 days`): the drug found was checked, and the
/// words not read are named, as they may hold another drug or a dose.
pub fn partly_read_card(
    kb_version: &str,
    u: &Unchecked,
    words: &[String],
    hook_instance: &str,
) -> Card {
    let role = u.role();
    let listed: Vec<String> = words
        .iter()
        .map(|w| format!("`{}`", md_escape(w)))
        .collect();
    Card {
        uuid: stable_uuid(&[hook_instance, "partly-read", &u.name]),
        summary: summary_line(&format!(
            "{role} read in part: {} ({} not read)",
            u.name,
            words.join(", ")
        )),
        detail: format!(
            "crampcheck checked **{}** as {}, without the words {}. If those words name another \
             drug or change the dose, that part is **not** covered by the other cards: check it \
             by hand.",
            md_escape(&u.name),
            md_escape(&u.reason),
            listed.join(", ")
        ),
        indicator: "warning",
        source: name_resolution_source(kb_version),
        override_reasons: Vec::new(),
    }
}

/// The `warning` card for a patient value that was sent but not used (an
/// implausible number, a unit crampcheck does not read, a birth date that
/// is no date): the cautions that depend on it are not covered.
pub fn unused_value_card(kb_version: &str, what: &str, reason: &str, hook_instance: &str) -> Card {
    let name = match what {
        "egfr" => "eGFR",
        "qtc" => "QTc",
        other => other,
    };
    Card {
        uuid: stable_uuid(&[hook_instance, "unused", what]),
        summary: summary_line(&format!("Patient {name} not used: {reason}")),
        detail: format!(
            "crampcheck did not use the patient's **{}** ({}). Cautions that depend on it are \
             **not** covered by the other cards: check it by hand.",
            md_escape(name),
            md_escape(reason)
        ),
        indicator: "warning",
        source: CardSource {
            label: format!("crampcheck KB {kb_version}: patient values"),
            url: None,
        },
        override_reasons: Vec::new(),
    }
}

/// A medication taken for a known name by its spelling (`Dridol` read as
/// Drisdol): it was checked as that drug, which may not be the one meant.
pub fn spelling_card(kb_version: &str, name: &str, read: &str, hook_instance: &str) -> Card {
    Card {
        uuid: stable_uuid(&[hook_instance, "spelling", name]),
        summary: summary_line(&format!(
            "Check the name: {name} was read by its spelling as {read}"
        )),
        detail: format!(
            "**{}** is not a name crampcheck knows; it was checked as the closest known name \
             ({}). If it is another drug, that drug was **not** checked: confirm the medication.",
            md_escape(name),
            md_escape(read)
        ),
        indicator: "warning",
        source: CardSource {
            label: format!("crampcheck KB {kb_version}: medication names"),
            url: None,
        },
        override_reasons: Vec::new(),
    }
}

/// A medication whose record gives several dosage instructions (a morning
/// and a night dose): its daily dose was not read, so not checked against
/// the maximum.
pub fn several_dosages_card(
    kb_version: &str,
    name: &str,
    count: usize,
    hook_instance: &str,
) -> Card {
    Card {
        uuid: stable_uuid(&[hook_instance, "dosages", name]),
        summary: summary_line(&format!(
            "Dose of {name} not checked: {count} dosage instructions"
        )),
        detail: format!(
            "The record of **{}** gives {count} dosage instructions; crampcheck reads one \
             schedule per medication, so it neither added them up nor checked the daily dose \
             against the maximum. Interactions and cautions were checked; check the total dose \
             by hand.",
            md_escape(name)
        ),
        indicator: "warning",
        source: CardSource {
            label: format!("crampcheck KB {kb_version}: dose check"),
            url: None,
        },
        override_reasons: Vec::new(),
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_is_cut_under_140_characters() {
        let long = "é".repeat(300);
        let s = summary_line(&long);
        assert_eq!(s.chars().count(), MAX_SUMMARY_CHARS);
        assert!(s.ends_with('…'));
        assert_eq!(summary_line(" short "), "short");
    }

    #[test]
    fn markdown_escape_keeps_html_out() {
        assert_eq!(md_escape("<b>x*y</b>"), "\\<b\\>x\\*y\\</b\\>");
    }

    #[test]
    fn indicators_follow_the_issue() {
        assert_eq!(indicator("contraindicated"), "critical");
        assert_eq!(indicator("major"), "critical");
        assert_eq!(indicator("moderate"), "warning");
        assert_eq!(indicator("minor"), "info");
        assert_eq!(indicator("info"), "info");
    }
}
