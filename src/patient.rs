//! The patient context a check runs against: labs, age and conditions,
//! validated once before any work starts (out-of-range values are errors, not
//! silently ignored) and mapped onto condition codes by the KB's thresholds.

use crate::kb::KbIndex;
use crate::kb::index::{Comparator, ConditionId, Lab};
use thiserror::Error;

/// Why a patient context was refused.
#[derive(Debug, Error, PartialEq)]
pub enum PatientError {
    /// A lab or age value outside what is physiologically possible.
    #[error("{what} {value} is out of range ({min} to {max} {unit})")]
    OutOfRange {
        /// Which value.
        what: &'static str,
        /// What was given.
        value: f64,
        /// Smallest accepted.
        min: f64,
        /// Largest accepted.
        max: f64,
        /// Its unit.
        unit: &'static str,
    },
    /// A condition code that the KB does not know.
    #[error("unknown condition `{given}`{hint}")]
    UnknownCondition {
        /// What was given.
        given: String,
        /// " (did you mean ...?)" or empty.
        hint: String,
    },
}

/// Labs and age as given on the command line or in a batch row.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientInput {
    /// eGFR in mL/min/1.73 m².
    pub egfr: Option<f64>,
    /// QTc in ms.
    pub qtc: Option<f64>,
    /// Potassium in mmol/L.
    pub potassium: Option<f64>,
    /// Magnesium in mg/dL.
    pub magnesium: Option<f64>,
    /// Age in years.
    pub age: Option<f64>,
    /// Condition codes or aliases.
    pub conditions: Vec<String>,
}

/// Why a condition applies to this patient.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionBasis {
    /// Given explicitly (`--condition`).
    Stated,
    /// Implied by a lab value crossing a KB threshold, e.g. "eGFR 45 < 60".
    Lab(String),
    /// Included in another condition the patient has, e.g. renal impairment
    /// in a stated "dialysis": the other condition's code and its own basis.
    Implied(String),
}

impl ConditionBasis {
    /// Why the condition applies, as shown beside it.
    pub fn describe(&self, name: &str) -> String {
        match self {
            ConditionBasis::Stated => format!("{name} (stated)"),
            ConditionBasis::Lab(text) => text.clone(),
            ConditionBasis::Implied(by) => format!("{name} (implied by {by})"),
        }
    }
}

/// A validated patient context, conditions resolved to KB ids.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientContext {
    /// The validated input values.
    pub input: PatientInput,
    /// Conditions that apply, each with why, sorted by id, no repeats.
    pub conditions: Vec<(ConditionId, ConditionBasis)>,
}

impl PatientContext {
    /// Whether the patient is known to be at least `years` old: by the age
    /// given, or by a stated condition the KB defines by age (`older-adult`
    /// is 65 or more), so that "elderly" without an age still meets age-bound
    /// rules such as Beers'. When the two disagree the rule applies: a
    /// missed caution costs more than one too many.
    pub fn is_at_least(&self, kb: &KbIndex, years: f64) -> bool {
        self.input.age.is_some_and(|age| age >= years)
            || kb.lab_thresholds.iter().any(|t| {
                t.lab == Lab::Age
                    && matches!(t.comparator, Comparator::Ge | Comparator::Gt)
                    && t.value >= years
                    && self
                        .conditions
                        .iter()
                        .any(|(c, basis)| *c == t.condition && *basis == ConditionBasis::Stated)
            })
    }

    /// For a stated condition that the KB defines by a lab threshold, when
    /// the lab value given does not meet it (`--condition ckd --egfr 75`):
    /// what the value says instead. The stated condition still applies (a
    /// missed caution costs more than one too many), but not silently.
    pub fn unsupported(&self, kb: &KbIndex, condition: ConditionId) -> Option<String> {
        let stated = self
            .conditions
            .iter()
            .any(|(c, basis)| *c == condition && *basis == ConditionBasis::Stated);
        if !stated {
            return None;
        }
        let mut given = kb
            .lab_thresholds
            .iter()
            .filter(|t| t.condition == condition)
            .filter_map(|t| self.input.lab(t.lab).map(|value| (t, value)))
            .peekable();
        given.peek()?;
        let mut against = None;
        for (t, value) in given {
            if t.comparator.holds(value, t.value) {
                return None;
            }
            against.get_or_insert_with(|| {
                format!(
                    "{} {} {} is not {} {}",
                    t.lab.label(),
                    shown(value, |v| !t.comparator.holds(v, t.value)),
                    t.lab.unit(),
                    t.comparator.symbol(),
                    t.value
                )
            });
        }
        against
    }

    /// The codes of the conditions that apply, in id order.
    pub fn condition_codes(&self, kb: &KbIndex) -> Vec<String> {
        self.conditions
            .iter()
            .map(|(c, _)| kb.conditions[*c as usize].code.clone())
            .collect()
    }
}

impl PatientInput {
    fn lab(&self, lab: Lab) -> Option<f64> {
        match lab {
            Lab::Egfr => self.egfr,
            Lab::Qtc => self.qtc,
            Lab::Potassium => self.potassium,
            Lab::Magnesium => self.magnesium,
            Lab::Age => self.age,
        }
    }

    /// Validates the values and maps labs and stated conditions onto the
    /// KB's conditions.
    pub fn into_context(self, kb: &KbIndex) -> Result<PatientContext, PatientError> {
        for lab in Lab::ALL {
            let (min, max) = lab.plausible_range();
            if let Some(value) = self.lab(lab)
                && !(min..=max).contains(&value)
            {
                return Err(PatientError::OutOfRange {
                    what: lab.label(),
                    value,
                    min,
                    max,
                    unit: lab.unit(),
                });
            }
        }
        let mut conditions: Vec<(ConditionId, ConditionBasis)> = Vec::new();
        for given in &self.conditions {
            let id = kb
                .condition_by_name(given)
                .ok_or_else(|| unknown_condition(kb, given))?;
            // The same condition under two spellings is still one condition.
            if !conditions.iter().any(|(c, _)| *c == id) {
                conditions.push((id, ConditionBasis::Stated));
            }
        }
        for threshold in &kb.lab_thresholds {
            if let Some(value) = self.lab(threshold.lab)
                && threshold.comparator.holds(value, threshold.value)
                && !conditions.iter().any(|(c, _)| *c == threshold.condition)
            {
                conditions.push((
                    threshold.condition,
                    ConditionBasis::Lab(format!(
                        "{} {} {} {} {}",
                        threshold.lab.label(),
                        shown(value, |v| threshold.comparator.holds(v, threshold.value)),
                        threshold.lab.unit(),
                        threshold.comparator.symbol(),
                        threshold.value
                    )),
                ));
            }
        }
        // Conditions included in those found: until nothing is added, as
        // one implication can lead to another.
        let mut i = 0;
        while i < conditions.len() {
            let (from, basis) = conditions[i].clone();
            for implication in kb
                .condition_implications
                .iter()
                .filter(|m| m.condition == from)
            {
                if !conditions.iter().any(|(c, _)| *c == implication.implies) {
                    let why = match &basis {
                        ConditionBasis::Stated => "stated".to_owned(),
                        ConditionBasis::Lab(text) | ConditionBasis::Implied(text) => text.clone(),
                    };
                    let code = &kb.conditions[from as usize].code;
                    conditions.push((
                        implication.implies,
                        ConditionBasis::Implied(format!("{code}: {why}")),
                    ));
                }
            }
            i += 1;
        }
        conditions.sort_by_key(|(c, _)| *c);
        Ok(PatientContext {
            input: self,
            conditions,
        })
    }
}

/// A lab value as a person reads it: two decimals at most (a converted
/// 0.6 mmol/L is `1.46 mg/dL`, not `1.4583`), more only where rounding
/// would make the comparison shown beside it false (`1.6999 < 1.7`, not
/// `1.7 < 1.7`); never `-0`.
fn shown(value: f64, holds: impl Fn(f64) -> bool) -> String {
    let trimmed = |text: String| -> String {
        let text = match text.contains('.') {
            true => text.trim_end_matches('0').trim_end_matches('.').to_owned(),
            false => text,
        };
        if text == "-0" { "0".to_owned() } else { text }
    };
    (2..=6)
        .map(|decimals| trimmed(format!("{value:.decimals$}")))
        .find(|text| text.parse().is_ok_and(&holds))
        .unwrap_or_else(|| trimmed(value.to_string()))
}

fn unknown_condition(kb: &KbIndex, given: &str) -> PatientError {
    let mut scored: Vec<(f64, &str)> = kb
        .conditions
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&given.to_lowercase(), &c.code),
                c.code.as_str(),
            )
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    let close: Vec<&str> = scored
        .iter()
        .filter(|(s, _)| *s >= 0.8)
        .take(3)
        .map(|(_, c)| *c)
        .collect();
    let hint = if close.is_empty() {
        format!(
            " (known: {})",
            kb.conditions
                .iter()
                .map(|c| c.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        format!(" (did you mean {}?)", close.join(", "))
    };
    PatientError::UnknownCondition {
        given: given.to_owned(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn lab_values_are_shown_as_read_and_never_contradict_their_comparison() {
        let below = |limit: f64| move |v: f64| v < limit;
        // 0.6 mmol/L magnesium converted to mg/dL.
        assert_eq!(shown(0.6 * 2.4305, below(1.7)), "1.46");
        assert_eq!(shown(45.0, below(60.0)), "45");
        assert_eq!(shown(1.6999, below(1.7)), "1.6999");
        assert_eq!(shown(-0.0, below(16.0)), "0");
        assert_eq!(shown(0.5, |v| v <= 0.5), "0.5");
    }
}
