//! Doses: a daily dose (strength × doses per day) above the KB's maximum for
//! this patient, and any dose text the parser could not read — an unreadable
//! dose is reported, never assumed safe.

use super::CheckRequest;
use super::finding::{Finding, FindingKind};
use crate::clinical::{Action, Evidence, Jurisdiction, Severity};
use crate::kb::KbIndex;
use crate::kb::index::{DosingRule, DrugId};
use crate::parse::{MedText, trim_number};
use crate::resolve::Resolved;

/// The indication a drug is proposed for when no patient condition implies
/// another (cirrhosis, pregnancy): idiopathic cramps.
pub const DEFAULT_INDICATION: &str = "idiopathic";

/// The rule that sets the daily maximum for `drug` in this patient: a rule
/// for one of the patient's conditions first (renal impairment, cirrhosis);
/// for the proposed drug, which is proposed for cramps, then the maximum
/// for idiopathic cramps (UK quinine: 300 mg/day, not the malaria dose);
/// otherwise the highest general maximum, as a listed medication may be
/// taken for any of its indications.
pub fn applicable_max<'kb>(
    kb: &'kb KbIndex,
    drug: DrugId,
    patient_conditions: &[String],
    jurisdiction: Jurisdiction,
    proposed: bool,
) -> Option<&'kb DosingRule> {
    let rules: Vec<&DosingRule> = kb
        .dosing_rules
        .iter()
        .filter(|r| r.drug == drug && r.max_mg_per_day.is_some())
        .collect();
    let rules = super::finding::prefer_jurisdiction(rules, jurisdiction, |r| r.jurisdiction);
    let lowest = |rules: &mut dyn Iterator<Item = &&'kb DosingRule>| {
        rules.copied().min_by(|a, b| {
            a.max_mg_per_day
                .unwrap_or(f64::MAX)
                .total_cmp(&b.max_mg_per_day.unwrap_or(f64::MAX))
                .then(a.id.cmp(&b.id))
        })
    };
    let specific = lowest(&mut rules.iter().filter(|r| {
        patient_conditions.contains(&r.population) || patient_conditions.contains(&r.indication)
    }));
    let for_cramps =
        || {
            lowest(&mut rules.iter().filter(|r| {
                proposed && r.population == "any" && r.indication == DEFAULT_INDICATION
            }))
        };
    // A rule for an indication that is itself a condition (baclofen or
    // quinidine in cirrhosis) speaks for patients with that condition only.
    let for_condition = |r: &DosingRule| kb.conditions.iter().any(|c| c.code == r.indication);
    specific.or_else(for_cramps).or_else(|| {
        rules
            .iter()
            .filter(|r| r.population == "any" && !for_condition(r))
            .max_by(|a, b| {
                a.max_mg_per_day
                    .unwrap_or(0.0)
                    .total_cmp(&b.max_mg_per_day.unwrap_or(0.0))
                    .then(b.id.cmp(&a.id))
            })
            .copied()
    })
}

/// For a drug proposed for cramps, the rule by which the chosen label gives
/// no cramp dose at all (US quinine: cramps are no approved use), when the
/// maximum found instead is for another indication (the malaria regimen):
/// that maximum must not pass a cramp dose as checked. With it, the cramp
/// maximum of another label, if the KB has one, for reference.
fn no_cramp_dose<'kb>(
    kb: &'kb KbIndex,
    drug: DrugId,
    used: &DosingRule,
    jurisdiction: Jurisdiction,
) -> Option<(&'kb DosingRule, Option<&'kb DosingRule>)> {
    if used.indication == DEFAULT_INDICATION
        || kb.conditions.iter().any(|c| c.code == used.indication)
    {
        return None;
    }
    let for_cramps: Vec<&DosingRule> = kb
        .dosing_rules
        .iter()
        .filter(|r| r.drug == drug && r.indication == DEFAULT_INDICATION && r.population == "any")
        .collect();
    let chosen =
        super::finding::prefer_jurisdiction(for_cramps.clone(), jurisdiction, |r| r.jurisdiction);
    let gap = chosen
        .iter()
        .copied()
        .filter(|r| r.max_mg_per_day.is_none())
        .min_by(|a, b| a.id.cmp(&b.id))?;
    if chosen.iter().any(|r| r.max_mg_per_day.is_some()) {
        return None;
    }
    let elsewhere = for_cramps
        .into_iter()
        .filter(|r| r.max_mg_per_day.is_some())
        .min_by(|a, b| {
            a.max_mg_per_day
                .unwrap_or(f64::MAX)
                .total_cmp(&b.max_mg_per_day.unwrap_or(f64::MAX))
                .then(a.id.cmp(&b.id))
        });
    Some((gap, elsewhere))
}

/// Dose findings for the proposed drug and every listed medication.
pub fn check_doses(kb: &KbIndex, req: &CheckRequest<'_>) -> Vec<Finding> {
    let conditions = req.patient.condition_codes(kb);
    let mut findings = Vec::new();
    let meds = std::iter::once((None, req.proposed))
        .chain(req.meds.iter().enumerate().map(|(i, m)| (Some(i), m)));
    for (index, med) in meds {
        findings.extend(unreadable_dose(kb, med, index));
        // Without a fixed number of doses a day the total cannot be checked.
        // That is said for a dose being written, or one that says "as
        // needed"; a medication read from a list or an export without any
        // frequency is not reported: RxNorm descriptions never carry one.
        for ingredient in &med.ingredients {
            // The text of this drug's dose: its own piece of a text naming
            // several drugs with doses of their own, or the whole text.
            let dose = DoseText {
                words: med.dose_words(ingredient),
                sig: med.dose_text(ingredient),
                may_be_anothers: med.sig_may_be_anothers(ingredient),
                borrowed: med.sig_borrowed(ingredient),
            };
            let per_day = dose.sig.doses_per_day;
            let say_unchecked = per_day.is_none()
                && (dose.sig.frequency.is_some() || (index.is_none() && req.being_written));
            let units = dose.sig.units_per_dose.unwrap_or(1.0);
            let fixed = fixed_part(dose.sig);
            let name = kb.drug_name(ingredient.drug).to_owned();
            let rule_for = || {
                applicable_max(
                    kb,
                    ingredient.drug,
                    &conditions,
                    req.jurisdiction,
                    index.is_none(),
                )
            };
            // A finding on the proposed drug held to another indication's
            // maximum, where the chosen label gives no cramp dose: says so.
            let for_cramps = |mut found: Finding, rule: &DosingRule, max: f64| {
                let gap = index
                    .is_none()
                    .then(|| no_cramp_dose(kb, ingredient.drug, rule, req.jurisdiction))
                    .flatten();
                if let Some((gap, elsewhere)) = gap {
                    let name = kb.drug_name(ingredient.drug);
                    say_no_cramp_dose(&mut found, name, rule, max, gap, elsewhere);
                }
                found
            };
            let Some(strength) = ingredient.strength.as_ref() else {
                // A schedule or a tablet count without a strength (`baclofen
                // 3 tablets qid`): a dose was written but its amount is
                // unknown. A bare name (`--propose baclofen`) writes no dose.
                // (A dose that could not be read is said once, above.)
                let dose_written =
                    dose.sig.frequency.is_some() || dose.sig.units_per_dose.is_some();
                if !dose_written
                    || !dose.sig.unparsed.is_empty()
                    || (index.is_none() && !req.being_written)
                {
                    continue;
                }
                match rule_for().and_then(|r| Some((r, r.max_mg_per_day?))) {
                    Some((rule, max)) => {
                        let why = "no strength is written, so the amount in a dose is unknown";
                        let found = unchecked(&dose, index, name, rule, max, why.to_owned());
                        findings.push(for_cramps(found, rule, max));
                    }
                    // `Slow-Mag 2 tabs bd` proposed: no maximum to check it
                    // against, said as for a dose with a strength.
                    None if index.is_none() && kb.is_cramp_therapy(ingredient.drug) => {
                        findings.push(no_maximum(med, name));
                    }
                    None => {}
                }
                continue;
            };
            let (rule, max) = match rule_for().and_then(|r| Some((r, r.max_mg_per_day?))) {
                Some(found) => found,
                None => {
                    // A cramp therapy's dose being written, and the KB has
                    // no maximum for it: saying nothing would read as checked.
                    if index.is_none() && req.being_written && kb.is_cramp_therapy(ingredient.drug)
                    {
                        findings.push(no_maximum(med, name));
                    }
                    continue;
                }
            };
            // Intrathecal baclofen, a methocarbamol injection: the KB's
            // maximum is for another route. A dose above it is still flagged
            // (whatever the route, more than the oral day's maximum is worth
            // a look); one below it is said to be unchecked, not passed (500
            // mcg/day intrathecal "passed" the oral 80 mg/day). A text of
            // several drugs has one route word for all, which may be another
            // drug's (`baclofen 25 mg qid and heparin 5000 units sc`): that
            // is said as such.
            let off_route = rule
                .route
                .filter(|need| !need.met_by(dose.sig.route.as_deref()));
            let found_before = findings.len();
            // A mass a tablet, or the mass in the dose's volume of a
            // solution (`5 mg/5 mL 10 mL`).
            let in_volume = dose.sig.dose_ml.and_then(|ml| strength.mg_in_volume(ml));
            let mg = match (strength.as_mg(), in_volume) {
                (Some(mg), _) => mg * units,
                // `2 x 15 mL`: two measures of the solution a dose.
                (None, Some(mg)) => mg * units,
                (None, None) => {
                    if dose.sig.frequency.is_some() || (index.is_none() && req.being_written) {
                        let unit = strength.unit.as_deref().unwrap_or("no unit");
                        let why = format!("the dose is written in {unit}, not as a mass");
                        let found = unchecked(&dose, index, name, rule, max, why);
                        findings.push(for_cramps(found, rule, max));
                    }
                    continue;
                }
            };
            let cramp_gap = index
                .is_none()
                .then(|| no_cramp_dose(kb, ingredient.drug, rule, req.jurisdiction))
                .flatten();
            match per_day {
                Some(per_day) if on_a_dosing_day(mg, per_day) > max + 1e-9 => {
                    let daily = on_a_dosing_day(mg, per_day);
                    let one_dose = per_day < 1.0;
                    findings.push(above_max(
                        kb, &dose, index, name, rule, daily, max, one_dose,
                    ));
                }
                // No schedule: one dose alone above the day's maximum.
                None if mg > max + 1e-9 => {
                    findings.push(above_max(kb, &dose, index, name, rule, mg, max, true));
                }
                // `tid and 1 tab prn`: the fixed doses alone are the least
                // taken; above the maximum, that is said, not "not checked".
                None if fixed.is_some_and(|d| mg * d > max + 1e-9) => {
                    let daily = mg * fixed.unwrap_or(1.0);
                    findings.push(above_max(kb, &dose, index, name, rule, daily, max, false));
                }
                None if say_unchecked => {
                    let why = match dose.sig.frequency.as_deref() {
                        Some(frequency) => {
                            format!("`{frequency}` gives no fixed number of doses a day")
                        }
                        None => "no frequency is written".to_owned(),
                    };
                    findings.push(unchecked(&dose, index, name, rule, max, why));
                }
                _ => {}
            }
            // Below the other indication's maximum is no pass for cramps;
            // above it, the finding says whose maximum that was.
            if let Some((gap, elsewhere)) = cramp_gap {
                if let Some(need) = off_route
                    && findings.len() == found_before
                {
                    let name = kb.drug_name(ingredient.drug).to_owned();
                    findings.push(other_route(&dose, index, name, rule, max, need));
                }
                let daily = per_day.map(|d| on_a_dosing_day(mg, d));
                match findings.get_mut(found_before..) {
                    Some([found]) => {
                        say_no_cramp_dose(
                            found,
                            kb.drug_name(ingredient.drug),
                            rule,
                            max,
                            gap,
                            elsewhere,
                        );
                    }
                    // Said for a dose being written (`check`), not for a
                    // therapy a batch patient already takes, which may be
                    // for another indication.
                    _ if !req.being_written && !say_unchecked => {}
                    _ => findings.push(not_checked_for_cramps(
                        &dose,
                        kb.drug_name(ingredient.drug),
                        daily,
                        rule,
                        max,
                        gap,
                        elsewhere,
                    )),
                }
                continue;
            }
            if let Some(need) = off_route
                && findings.len() == found_before
            {
                let name = kb.drug_name(ingredient.drug).to_owned();
                findings.push(other_route(&dose, index, name, rule, max, need));
            }
        }
    }
    findings
}

/// The doses a day of a frequency's fixed part when doses as needed come
/// on top of it (`tid + prn`).
fn fixed_part(sig: &MedText) -> Option<f64> {
    crate::parse::fixed_doses_per_day(sig.frequency.as_deref()?)
}

/// What a finding about one drug's dose quotes and reads: the words of its
/// dose, their parse, and whether its route and schedule may be another
/// drug's (one sig for several drugs).
struct DoseText<'a> {
    words: &'a str,
    sig: &'a MedText,
    may_be_anothers: bool,
    /// The drug wrote no schedule; the one read is another drug's of the
    /// same text (`baclofen 40 mg and tizanidine 4 mg tid`).
    borrowed: bool,
}

/// The mg taken on a day a dose is taken, `mg` a dose at `per_day` doses a
/// day. With fewer than one dose a day (`qod`, `weekly`, `q72h`) that day
/// holds the whole dose: averaged over the days between (150 mg qod as 75
/// mg/day), a dose above the day's maximum would pass.
fn on_a_dosing_day(mg: f64, per_day: f64) -> f64 {
    mg * per_day.max(1.0)
}

/// A daily dose above the rule's maximum; `one_dose` when a single dose is
/// already above it (no schedule written, or fewer than one dose a day).
#[allow(clippy::too_many_arguments)]
fn above_max(
    kb: &KbIndex,
    dose: &DoseText<'_>,
    index: Option<usize>,
    name: String,
    rule: &DosingRule,
    daily: f64,
    max: f64,
    one_dose: bool,
) -> Finding {
    let evidence = rule
        .sources
        .first()
        .map(|s| kb.sources[*s as usize].kind.as_str())
        .and_then(Evidence::parse)
        .unwrap_or(Evidence::Label);
    Finding {
        kind: FindingKind::Dose,
        severity: Severity::Moderate,
        action: Action::AdjustDose,
        evidence: Some(evidence),
        drugs: vec![name.clone()],
        condition: (rule.population != "any").then(|| rule.population.clone()),
        medication_indices: index.into_iter().collect(),
        title: format!(
            "{name} {} mg{} is above the {} mg/day maximum ({})",
            trim_number(daily),
            if one_dose { " in one dose" } else { "/day" },
            trim_number(max),
            rule_scope(rule)
        ),
        mechanism: if one_dose {
            format!(
                "{} as written gives {} mg in a single dose, more than the maximum for a whole day.",
                dose.words,
                trim_number(daily)
            )
        } else {
            format!(
                "{} as written gives {} mg/day{}.",
                dose.words,
                trim_number(daily),
                if dose.borrowed {
                    ", taking the schedule written for another drug of the text as this drug's too"
                } else {
                    ""
                }
            )
        },
        effect: rule.note.clone(),
        management: format!("Keep within: {}.", rule.schedule.trim_end_matches('.')),
        sources: rule.sources.clone(),
        rule_ids: vec![rule.id.clone()],
        basis: None,
    }
}

/// What a dosing rule's maximum is for, as a title says it: the indication,
/// and the population when the rule is for one (`malaria,
/// severe-renal-impairment`).
fn rule_scope(rule: &DosingRule) -> String {
    match rule.population.as_str() {
        "any" => rule.indication.clone(),
        population => format!("{}, {population}", rule.indication),
    }
}

/// A dose the daily maximum could not be checked against (`30 mg prn`, a
/// `30 mg` being prescribed with no frequency, `40 mL qid`). `why` says
/// what kept it from being checked.
fn unchecked(
    dose: &DoseText<'_>,
    index: Option<usize>,
    name: String,
    rule: &DosingRule,
    max: f64,
    why: String,
) -> Finding {
    Finding {
        condition: (rule.population != "any").then(|| rule.population.clone()),
        sources: rule.sources.clone(),
        rule_ids: vec![rule.id.clone()],
        ..dose_review(
            vec![name.clone()],
            index,
            format!(
                "Daily dose of {name} not checked against the {} mg/day maximum ({})",
                trim_number(max),
                rule_scope(rule)
            ),
            format!("In `{}` {why}.", dose.words),
            format!(
                "Write the dose in mg with the most doses a day (e.g. `10 mg tid prn`) and check again; keep within: {}.",
                rule.schedule.trim_end_matches('.')
            ),
        )
    }
}

/// A dose given by a route the rule's maximum is not for (`need`).
fn other_route(
    dose: &DoseText<'_>,
    index: Option<usize>,
    name: String,
    rule: &DosingRule,
    max: f64,
    need: crate::kb::index::RouteNeed,
) -> Finding {
    let given = match dose.sig.route.as_deref() {
        Some("iv") => "intravenously",
        Some("im") => "intramuscularly",
        Some("subcutaneous") => "subcutaneously",
        Some("intrathecal") => "intrathecally",
        Some("parenteral") => "by injection or infusion",
        Some("sublingual") => "under the tongue",
        Some("topical") | Some("transdermal") => "on the skin",
        Some("rectal") => "rectally",
        Some("inhaled") => "by inhalation",
        Some("nasal") => "nasally",
        Some("ophthalmic") => "in the eye",
        _ => "by another route",
    };
    let why = if !dose.may_be_anothers {
        format!(
            "the dose is given {given}, and the maximum is for {} use",
            need.as_str()
        )
    } else {
        format!(
            "a route is written ({given}) that may be this drug's or another's, and the maximum is for {} use",
            need.as_str()
        )
    };
    let mut finding = unchecked(dose, index, name.clone(), rule, max, why);
    finding.management = format!(
        "Check this dose of {name} against the label of the product given {given}; the knowledge base has no maximum for that route."
    );
    finding
}

/// Turns a finding held to another indication's maximum (`used`) into one
/// that says the chosen label gives no cramp dose (`gap`), with what to do
/// instead of keeping within the other indication's regimen.
fn say_no_cramp_dose(
    found: &mut Finding,
    name: &str,
    used: &DosingRule,
    max: f64,
    gap: &DosingRule,
    elsewhere: Option<&DosingRule>,
) {
    found.mechanism.push(' ');
    found
        .mechanism
        .push_str(&no_cramp_dose_said(used, max, gap));
    let advice = cramp_advice(name, elsewhere);
    found.management = if found.severity == Severity::Info {
        // Not checked: against no maximum at all, as no cramp maximum
        // applies. What kept it from being checked is still said (write
        // the dose in mg, see the label of the route), not the regimen of
        // the other indication.
        found.title = format!(
            "Daily dose of {name} not checked: the {} label gives no cramp dose",
            gap.jurisdiction.as_str()
        );
        let first = found.management.split("; keep within").next().unwrap_or("");
        format!("{}. {advice}", first.trim_end_matches('.'))
    } else {
        advice
    };
    for cited in std::iter::once(gap).chain(elsewhere) {
        cite(found, cited);
    }
}

/// Why the maximum of another indication is no cramp maximum.
fn no_cramp_dose_said(used: &DosingRule, max: f64, gap: &DosingRule) -> String {
    format!(
        "The {} label gives no dose for cramps; its {} mg/day maximum is for {}.",
        gap.jurisdiction.as_str(),
        trim_number(max),
        rule_scope(used)
    )
}

/// A dose proposed for cramps under a label that gives no cramp dose, and
/// not above the maximum it gives for another indication: not checked, and
/// said, with another label's cramp maximum when the KB has one.
fn not_checked_for_cramps(
    dose: &DoseText<'_>,
    name: &str,
    daily: Option<f64>,
    used: &DosingRule,
    max: f64,
    gap: &DosingRule,
    elsewhere: Option<&DosingRule>,
) -> Finding {
    let gives = match daily {
        Some(daily) => format!("`{}` gives {} mg/day. ", dose.words, trim_number(daily)),
        None => String::new(),
    };
    let mut finding = Finding {
        effect: gap.note.clone(),
        ..dose_review(
            vec![name.to_owned()],
            None,
            format!(
                "Dose of {name} not checked for cramps: the {} label gives no cramp dose",
                gap.jurisdiction.as_str()
            ),
            format!("{gives}{}", no_cramp_dose_said(used, max, gap)),
            cramp_advice(name, elsewhere),
        )
    };
    for cited in std::iter::once(gap).chain(elsewhere) {
        cite(&mut finding, cited);
    }
    finding
}

/// Adds a rule and its sources to a finding's, each once.
fn cite(finding: &mut Finding, rule: &DosingRule) {
    if !finding.rule_ids.contains(&rule.id) {
        finding.rule_ids.push(rule.id.clone());
    }
    for source in &rule.sources {
        if !finding.sources.contains(source) {
            finding.sources.push(*source);
        }
    }
}

/// What to do with a cramp dose no label of the chosen jurisdiction gives:
/// ask, and see the cramp dose of a label that gives one.
fn cramp_advice(name: &str, elsewhere: Option<&DosingRule>) -> String {
    let ask =
        "Confirm the indication and the dose with the prescriber before proposing it for cramps";
    match elsewhere {
        Some(other) => format!(
            "{ask}; the {} label, which doses {name} for cramps, gives: {}.",
            other.jurisdiction.as_str(),
            other.schedule.trim_end_matches('.')
        ),
        None => format!("{ask}."),
    }
}

/// A dose being written for a drug with no maximum in the KB.
fn no_maximum(med: &Resolved, name: String) -> Finding {
    dose_review(
        vec![name.clone()],
        None,
        format!("Dose of {name} not checked: no maximum daily dose on file"),
        format!(
            "The knowledge base has no dosing rule with a maximum for {name}, so `{}` was not checked against one.",
            med.med.input.trim()
        ),
        format!("Check the dose of {name} against its label."),
    )
}

fn unreadable_dose(kb: &KbIndex, med: &Resolved, index: Option<usize>) -> Option<Finding> {
    if med.med.unparsed.is_empty() {
        return None;
    }
    let words: Vec<String> = med
        .med
        .unparsed
        .iter()
        .map(|word| crate::parse::as_typed(word, &med.med.input))
        .collect();
    let words = words.join("`, `");
    Some(dose_review(
        med.ingredients
            .iter()
            .map(|i| kb.drug_name(i.drug).to_owned())
            .collect(),
        index,
        format!("Dose not read in `{}`: `{words}`", med.med.input.trim()),
        "The dose or schedule could not be parsed, so it was not checked.".to_owned(),
        "Rewrite the dose as e.g. `10 mg tid` and check again.".to_owned(),
    ))
}

/// A dose finding that asks for review: nothing was found wrong, but the
/// dose could not be checked, and saying nothing would read as checked.
fn dose_review(
    drugs: Vec<String>,
    index: Option<usize>,
    title: String,
    mechanism: String,
    management: String,
) -> Finding {
    Finding {
        kind: FindingKind::Dose,
        severity: Severity::Info,
        action: Action::Review,
        evidence: None,
        drugs,
        condition: None,
        medication_indices: index.into_iter().collect(),
        title,
        mechanism,
        effect: String::new(),
        management,
        sources: Vec::new(),
        rule_ids: Vec::new(),
        basis: None,
    }
}

/// The dosing rule for `drug` used for `indication` (a `therapies.csv`
/// indication such as `cirrhosis`) in this patient: a rule whose population is
/// one of the patient's conditions first (e.g. `severe-renal-impairment`),
/// otherwise the rule for population `any`. Rows of the chosen jurisdiction
/// (and `any`/`intl` rows) win; rows of other jurisdictions are a fallback
/// ([`super::finding::prefer_jurisdiction`]). Among equals, a rule that gives
/// a starting dose wins, then the lowest id, so the choice is deterministic.
pub fn rule_for_indication<'kb>(
    kb: &'kb KbIndex,
    drug: DrugId,
    indication: &str,
    patient_conditions: &[String],
    jurisdiction: Jurisdiction,
) -> Option<&'kb DosingRule> {
    let rules: Vec<&DosingRule> = kb
        .dosing_rules
        .iter()
        .filter(|r| r.drug == drug && r.indication == indication)
        .collect();
    let rules = super::finding::prefer_jurisdiction(rules, jurisdiction, |r| r.jurisdiction);
    let best = |population: &dyn Fn(&str) -> bool| {
        rules
            .iter()
            .copied()
            .filter(|r| population(&r.population))
            .min_by(|a, b| {
                b.start_mg_per_day
                    .is_some()
                    .cmp(&a.start_mg_per_day.is_some())
                    .then(a.id.cmp(&b.id))
            })
    };
    best(&|p| patient_conditions.iter().any(|c| c == p)).or_else(|| best(&|p| p == "any"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dose_taken_less_than_daily_counts_whole_on_its_day() {
        // qod, weekly, q72h: the one dose, not its average over the days.
        assert_eq!(on_a_dosing_day(150.0, 0.5), 150.0);
        assert_eq!(on_a_dosing_day(100.0, 1.0 / 7.0), 100.0);
        assert_eq!(on_a_dosing_day(300.0, 24.0 / 72.0), 300.0);
        // One dose a day or more: every dose of the day.
        assert_eq!(on_a_dosing_day(50.0, 1.0), 50.0);
        assert_eq!(on_a_dosing_day(40.0, 3.0), 120.0);
    }
}
