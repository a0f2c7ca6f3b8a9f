//! Lab values in the units the KB's thresholds are written in (eGFR
//! mL/min/1.73 m², QTc ms, potassium mmol/L, magnesium mg/dL, age years),
//! from a value and the unit a lab system or an export wrote it in. A unit
//! not known for the lab is refused rather than taken as the KB's: that
//! could turn a low value normal or a normal one alarming.

use crate::kb::index::Lab;

/// Below this, a magnesium value typed with no unit reads two ways: up to
/// about 1.5 it may be mmol/L (0.7–1.0 normal, above that high, as UK
/// reports give it) or mg/dL (low, the KB's unit). Taken as mg/dL, a UK
/// value would raise a false deficit, even in a patient whose magnesium is
/// high.
pub const BARE_MAGNESIUM_MIN: f64 = 1.5;

/// Why a magnesium value typed with no unit (`text`) must be given its
/// unit, or `None` when it reads one way only: at or above
/// [`BARE_MAGNESIUM_MIN`], or outside the plausible range (which its own
/// error reports). For a typed flag: a file's column is in its documented
/// unit, mg/dL.
pub fn bare_magnesium_reads_two_ways(text: &str) -> Option<String> {
    let value: f64 = text.trim().parse().ok()?;
    let (low, _) = Lab::Magnesium.plausible_range();
    (low..BARE_MAGNESIUM_MIN).contains(&value).then(|| {
        format!(
            "magnesium {value} has no unit and reads two ways: normal or high in mmol/L (UK \
             reports) or low in mg/dL; write its unit (`{value} mmol/L` or `{value} mg/dL`)"
        )
    })
}

/// `value` written in `unit`, in the KB's unit for `lab`; no unit at all is
/// taken as the KB's. The error says what was refused.
pub fn in_kb_unit(lab: Lab, value: f64, unit: &str) -> Result<f64, String> {
    // Spellings seen in lab systems: `mL/min/{1.73_m2}`, `mL/min/1.73m*2`,
    // `ml/min/1,73m²`, `mL/min per 1.73 m2`, `mL/min/1.73 sq m`.
    let key: String = unit
        .chars()
        .filter(|c| !matches!(c, ' ' | '{' | '}' | '_' | '^' | '*'))
        .flat_map(char::to_lowercase)
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    let key = key
        .replace("per", "/")
        .replace("sqm", "m2")
        .replace("//", "/");
    let factor = match (lab, key.as_str()) {
        (_, "") => Some(1.0),
        (Lab::Egfr, "ml/min/1.73m2" | "ml/min/1.73m²" | "ml/min") => Some(1.0),
        (Lab::Egfr, "ml/s/1.73m2" | "ml/s/1.73m²" | "ml/s") => Some(60.0),
        (Lab::Qtc, "ms" | "msec") => Some(1.0),
        (Lab::Qtc, "s" | "sec") => Some(1000.0),
        (Lab::Potassium, "mmol/l" | "meq/l") => Some(1.0),
        (Lab::Magnesium, "mg/dl") => Some(1.0),
        // 1 mmol/L = 2.4305 mg/dL, 1 mEq/L = 1.2153 mg/dL, 1 mg/L = 0.1 mg/dL.
        (Lab::Magnesium, "mmol/l") => Some(2.4305),
        (Lab::Magnesium, "meq/l") => Some(1.215_25),
        (Lab::Magnesium, "mg/l") => Some(0.1),
        (Lab::Age, "y" | "yr" | "yrs" | "year" | "years") => Some(1.0),
        _ => None,
    };
    factor
        .map(|f| value * f)
        .ok_or_else(|| format!("{value} `{unit}` is not a unit crampcheck reads"))
}

/// A value written as text, a number with or without its unit after it
/// (`45`, `45 mL/min/1.73m2`, `0.46 s`, `82y`), in the KB's unit for `lab`.
/// A bound (`<15`, `>90`) or words are refused: they are not a value.
pub fn read_value(lab: Lab, text: &str) -> Result<f64, String> {
    let text = text.trim();
    let number_end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && matches!(c, '-' | '+'))))
        .map_or(text.len(), |(i, _)| i);
    let (number, unit) = text.split_at(number_end);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    in_kb_unit(lab, value, unit.trim()).map_err(|_| {
        format!(
            "`{text}`: `{}` is not a unit crampcheck reads for {}",
            unit.trim(),
            lab.label()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_magnesium_value_that_reads_two_ways_needs_its_unit() {
        let refused = bare_magnesium_reads_two_ways("0.7").unwrap_or_default();
        assert!(
            refused.contains("mmol/L") && refused.contains("mg/dL"),
            "{refused}"
        );
        assert!(bare_magnesium_reads_two_ways("1.49").is_some());
        for one_way in ["1.5", "1.8", "0.7 mg/dL", "0.5 mmol/L", "0", "-1", "0.1"] {
            assert_eq!(bare_magnesium_reads_two_ways(one_way), None, "{one_way}");
        }
        // A column (batch, CDS) is read in its documented unit, mg/dL.
        assert_eq!(read_value(Lab::Magnesium, "1.2"), Ok(1.2));
    }

    #[test]
    fn values_are_read_in_the_kb_unit_or_refused() {
        let read = |lab, text| read_value(lab, text);
        assert_eq!(read(Lab::Egfr, "45"), Ok(45.0));
        assert_eq!(read(Lab::Egfr, " 45 mL/min/1.73m2 "), Ok(45.0));
        assert_eq!(read(Lab::Egfr, "45 mL/min/{1.73_m2}"), Ok(45.0));
        assert_eq!(read(Lab::Egfr, "0.5 mL/s"), Ok(30.0));
        assert_eq!(read(Lab::Qtc, "460ms"), Ok(460.0));
        assert_eq!(read(Lab::Qtc, "0.46 s"), Ok(460.0));
        assert_eq!(read(Lab::Age, "82y"), Ok(82.0));
        assert_eq!(read(Lab::Age, "82 years"), Ok(82.0));
        assert_eq!(read(Lab::Magnesium, "0.5 mmol/L"), Ok(0.5 * 2.4305));
        assert_eq!(read(Lab::Potassium, "-3"), Ok(-3.0));
        // Bounds and words are not values; a unit of another lab is refused.
        for (lab, text) in [
            (Lab::Egfr, "<15"),
            (Lab::Egfr, ">90 mL/min"),
            (Lab::Egfr, "normal"),
            (Lab::Egfr, "45 mg/dL"),
            (Lab::Qtc, "460 mmol/L"),
            (Lab::Age, "82 months"),
            (Lab::Egfr, "4.5.1"),
            (Lab::Egfr, ""),
        ] {
            assert!(read(lab, text).is_err(), "{text}");
        }
        assert_eq!(
            read(Lab::Egfr, "45 furlongs"),
            Err("`45 furlongs`: `furlongs` is not a unit crampcheck reads for eGFR".to_owned())
        );
    }

    #[test]
    fn lab_units_convert_or_are_refused() {
        assert_eq!(in_kb_unit(Lab::Egfr, 0.75, "mL/s/{1.73_m2}"), Ok(45.0));
        assert_eq!(in_kb_unit(Lab::Egfr, 45.0, "mL/min/{1.73_m2}"), Ok(45.0));
        assert_eq!(in_kb_unit(Lab::Qtc, 0.45, "s"), Ok(450.0));
        assert_eq!(in_kb_unit(Lab::Magnesium, 9.0, "mg/L"), Ok(0.9));
        assert_eq!(in_kb_unit(Lab::Potassium, 4.0, ""), Ok(4.0));
        assert!(in_kb_unit(Lab::Potassium, 4.0, "mg/dL").is_err());
        assert!(in_kb_unit(Lab::Egfr, 45.0, "%").is_err());
        for spelling in [
            "mL/min/1.73m*2",
            "ml/min/1,73m²",
            "mL/min per 1.73 m2",
            "mL/min/1.73 sq m",
        ] {
            assert_eq!(
                in_kb_unit(Lab::Egfr, 45.0, spelling),
                Ok(45.0),
                "{spelling}"
            );
        }
    }
}
