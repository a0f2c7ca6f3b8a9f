//! The clinical rating scales shared by every stage: severity, recommended
//! action and strength of evidence. Kept as closed enums so that a typo in the
//! knowledge base is caught by `kb verify` instead of silently matching nothing.

use serde::Serialize;
use std::fmt;

/// How bad a finding is, ordered from least to most severe so that `max()`
/// picks the worst. `None` marks a documented non-interaction; `Info` is used
/// for findings that carry information but no risk rating (unresolved names,
/// likely causes of cramps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Documented to need no change (a checked non-interaction).
    None,
    /// Informational: nothing to rate, but the pharmacist must see it.
    Info,
    /// Minor: usually no action needed.
    Minor,
    /// Moderate: monitor or adjust.
    Moderate,
    /// Major: avoid or manage actively.
    Major,
    /// Contraindicated: do not combine.
    Contraindicated,
}

impl Severity {
    /// All values, most severe first (the order used in reports).
    pub const DESCENDING: [Severity; 6] = [
        Severity::Contraindicated,
        Severity::Major,
        Severity::Moderate,
        Severity::Minor,
        Severity::Info,
        Severity::None,
    ];

    /// Parses the knowledge-base spelling (`contraindicated`, `major`, ...).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "contraindicated" => Severity::Contraindicated,
            "major" => Severity::Major,
            "moderate" => Severity::Moderate,
            "minor" => Severity::Minor,
            "info" => Severity::Info,
            "none" => Severity::None,
            _ => return None,
        })
    }

    /// The spelling used in the KB, JSON and CLI flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Contraindicated => "contraindicated",
            Severity::Major => "major",
            Severity::Moderate => "moderate",
            Severity::Minor => "minor",
            Severity::Info => "info",
            Severity::None => "none",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the pharmacist should do, ordered from least to most restrictive so
/// that merging rules keeps the most restrictive advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Nothing needs to change.
    NoAction,
    /// Keep both, watch for the named effect.
    Monitor,
    /// Space the doses apart (chelation, absorption).
    SeparateDoses,
    /// Change the dose of one of the drugs.
    AdjustDose,
    /// Do not combine; choose an alternative.
    Avoid,
    /// Check the input: a name or value could not be used.
    Review,
}

impl Action {
    /// Parses the knowledge-base spelling (`avoid`, `adjust-dose`, ...).
    /// `review` is produced by the engine only and is not accepted from the KB.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "avoid" => Action::Avoid,
            "adjust-dose" => Action::AdjustDose,
            "separate-doses" => Action::SeparateDoses,
            "monitor" => Action::Monitor,
            "no-action" => Action::NoAction,
            _ => return None,
        })
    }

    /// The spelling used in the KB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Avoid => "avoid",
            Action::AdjustDose => "adjust-dose",
            Action::SeparateDoses => "separate-doses",
            Action::Monitor => "monitor",
            Action::NoAction => "no-action",
            Action::Review => "review",
        }
    }
}

/// How well a fact is documented, ordered from weakest to strongest so that a
/// merged finding reports its best-documented basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Evidence {
    /// Expected from pharmacology, not observed.
    Theoretical,
    /// Individual case reports.
    CaseReport,
    /// Pharmacokinetic or clinical study.
    Study,
    /// A clinical practice guideline.
    Guideline,
    /// The product label (prescribing information / SmPC).
    Label,
}

impl Evidence {
    /// Parses the knowledge-base spelling (`label`, `case-report`, ...).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "label" => Evidence::Label,
            "guideline" => Evidence::Guideline,
            "study" => Evidence::Study,
            "case-report" => Evidence::CaseReport,
            "theoretical" => Evidence::Theoretical,
            _ => return None,
        })
    }

    /// The spelling used in the KB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Label => "label",
            Evidence::Guideline => "guideline",
            Evidence::Study => "study",
            Evidence::CaseReport => "case-report",
            Evidence::Theoretical => "theoretical",
        }
    }
}

/// Whose label a rule comes from. `Any` rows apply whatever the chosen label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Jurisdiction {
    /// United States (FDA labels).
    US,
    /// United Kingdom (SmPC, MHRA).
    UK,
    /// European Union (EMA, national SmPCs).
    EU,
    /// Canada.
    CA,
    /// Switzerland.
    CH,
    /// International guideline or study.
    #[serde(rename = "intl")]
    Intl,
    /// A rule that applies everywhere.
    #[serde(rename = "any")]
    Any,
}

impl Jurisdiction {
    /// Parses the KB spelling; case-insensitive so CLI input works too.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_lowercase().as_str() {
            "us" => Jurisdiction::US,
            "uk" | "gb" => Jurisdiction::UK,
            "eu" => Jurisdiction::EU,
            "ca" => Jurisdiction::CA,
            "ch" => Jurisdiction::CH,
            "intl" => Jurisdiction::Intl,
            "any" => Jurisdiction::Any,
            _ => return None,
        })
    }

    /// The spelling used in the KB and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Jurisdiction::US => "US",
            Jurisdiction::UK => "UK",
            Jurisdiction::EU => "EU",
            Jurisdiction::CA => "CA",
            Jurisdiction::CH => "CH",
            Jurisdiction::Intl => "intl",
            Jurisdiction::Any => "any",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_worst_last_and_round_trips() {
        assert!(Severity::Contraindicated > Severity::Major);
        assert!(Severity::Minor > Severity::Info);
        for s in Severity::DESCENDING {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(Severity::parse("severe"), None);
    }

    #[test]
    fn review_action_is_not_accepted_from_the_kb() {
        assert_eq!(Action::parse("review"), None);
        assert_eq!(Action::parse("adjust-dose"), Some(Action::AdjustDose));
        assert!(Action::Avoid > Action::Monitor);
    }
}
