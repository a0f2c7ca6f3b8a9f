//! Stage 1: turn input text into plain data. Medication strings become
//! [`MedText`]; nothing here knows what a name means.

pub mod med;
mod sig;

pub use med::{
    IngredientText, MedText, Strength, fixed_doses_per_day, parse_med, without_list_number,
};
