//! Stage 1: turn input text into plain data. Medication strings become
//! [`MedText`]; nothing here knows what a name means.

pub mod med;
mod sig;

pub use sig::{
    BareDose, bare_dose_after_join, dose_after_schedule, has_dose_at_a_time, names_several,
};

pub use med::{
    DRUG_MARK, IngredientText, MedText, Strength, as_typed, fixed_doses_per_day, parse_med,
    parse_med_marked, trim_number, without_list_number,
};
