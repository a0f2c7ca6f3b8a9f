//! Medication strings as people and systems write them — `clarithromycin 500 mg
//! PO BID`, RxNorm descriptions such as `Acetaminophen 325 MG / oxyCODONE
//! Hydrochloride 5 MG Oral Tablet`, `carbidopa/levodopa 25/100 tid`,
//! `Digoxin 0.25 MG Oral Tablet [Lanoxin]` — split into ingredient names,
//! strengths, route and frequency. The parser never guesses what a name
//! means (that is [`crate::resolve`]); it only separates the name words from
//! the words it understands, and reports what it could not read.

use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// A strength as written: a number and, where given, its unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strength {
    /// The number.
    pub value: f64,
    /// Normalized unit (`mg`, `mcg`, `g`, `ml`, `unit`, `meq`, `%`, `mg/ml`), if written.
    pub unit: Option<String>,
}

impl Strength {
    /// The strength as a sig writes it (`30mg`, `5mg/5ml`, `3`), for a
    /// message naming words that were not read.
    pub fn as_written(&self) -> String {
        format!("{}{}", self.value, self.unit.as_deref().unwrap_or(""))
    }

    /// The milligrams in `ml` of a per-volume strength (`5 mg/5ml`, `1
    /// mg/ml`); `None` for any other strength.
    pub fn mg_in_volume(&self, ml: f64) -> Option<f64> {
        let (mass, volume) = self.unit.as_deref()?.split_once('/')?;
        let per_ml: f64 = match volume.strip_suffix("ml")? {
            "" => 1.0,
            n => n.parse().ok().filter(|n: &f64| *n > 0.0)?,
        };
        let mass = Strength {
            value: self.value,
            unit: Some(mass.to_owned()),
        };
        Some(mass.as_mg()? * ml / per_ml)
    }

    /// The strength in milligrams, when the unit allows converting.
    pub fn as_mg(&self) -> Option<f64> {
        match self.unit.as_deref() {
            Some("mg") => Some(self.value),
            Some("g") => Some(self.value * 1000.0),
            Some("mcg") => Some(self.value / 1000.0),
            _ => None,
        }
    }
}

/// One ingredient part of a medication string.
#[derive(Debug, Clone, PartialEq)]
pub struct IngredientText {
    /// The name words, lowercase, form and salt words kept (resolution decides).
    pub name: String,
    /// Its strength, if written.
    pub strength: Option<Strength>,
}

/// A parsed medication string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MedText {
    /// The input exactly as given.
    pub input: String,
    /// Ingredient parts (one for most strings, several for combinations).
    pub ingredients: Vec<IngredientText>,
    /// A brand written in square brackets (RxNorm style), lowercase.
    pub brand_hint: Option<String>,
    /// Normalized route (`oral`, `iv`, ...), if written; `parenteral` for
    /// an injection or infusion whose route is not written.
    pub route: Option<String>,
    /// Normalized frequency (`bid`, `daily`, `q8h`, ...), if written.
    pub frequency: Option<String>,
    /// Doses per day implied by the frequency, when it is a fixed schedule.
    pub doses_per_day: Option<f64>,
    /// Tablets or capsules taken per dose (`2 tabs`, `1-2 caps`: 2), when
    /// written; each holds the strength, so a dose is strength × this.
    pub units_per_dose: Option<f64>,
    /// The volume of one dose in mL, when written after a per-volume
    /// strength (`5 mg/5 mL 10 mL tds`): the dose is then that much of the
    /// solution.
    pub dose_ml: Option<f64>,
    /// Tokens that looked like a dose or schedule but could not be read.
    pub unparsed: Vec<String>,
}

impl MedText {
    /// Whether the drug may meet another in the gut: taken by mouth, or by a
    /// route not written (assumed oral). False for a route that bypasses
    /// it (injected, infused, applied, inhaled), where an interaction by
    /// binding in the gut cannot happen.
    pub fn may_reach_gut(&self) -> bool {
        !matches!(
            self.route.as_deref(),
            Some(
                "iv" | "im"
                    | "subcutaneous"
                    | "intrathecal"
                    | "parenteral"
                    | "transdermal"
                    | "topical"
                    | "inhaled"
                    | "nasal"
                    | "ophthalmic"
            )
        )
    }
}

static LIST_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^\s*(?:\(\s*[0-9]{1,3}\s*\)|#\s*[0-9]{1,3}(?:\s*[.):,-])?|[0-9]{1,3}(?:\.\)|\s*[.):]|\s+-))\s*",
    )
});

/// The medication after the number of a pasted list's line (`1. Tylenol
/// #3`, `2) baclofen 10 mg`, `(3) warfarin`, `4: digoxin`, `5 - aspirin`,
/// `#1 Tylenol 3`, `#1. Tylenol #4`). That number belongs to the list: read
/// as a strength or a product number it changes the drug (`1. Tylenol #3`
/// lost its codeine). Only a name may follow: a number with a unit or a
/// decimal after it (`1.5 mg lorazepam`, `2) 10 mg baclofen`) is kept.
pub fn without_list_number(input: &str) -> &str {
    match LIST_NUMBER.find(input) {
        Some(m) if input[m.end()..].starts_with(|c: char| c.is_alphabetic()) => &input[m.end()..],
        _ => input,
    }
}

static BRACKET: LazyLock<Regex> = LazyLock::new(|| compile(r"\[([^\]]*)\]"));

/// The `w/` (with) and `w/o` (without) of US sigs and product names, and
/// the word after them: `w/ food`, `w/codeine`; `w/v` and `w/w` are no
/// such abbreviation (weight per volume, per weight).
static WITH_SLASH: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u:\b)w/ *([a-z]*)"));
static NUMBER_UNIT: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?P<num>[0-9]+(?:\.[0-9]+)?(?:/[0-9]+(?:\.[0-9]+)?)*)(?P<unit>mg/ml|mg/5ml|mcg/hr|mg/day|mcg/day|g/day|mg/d|mg/24hr?|mcg/24hr?|micrograms?|milligrams?|grams?|mgs|mg|mcg|µg|ug|g|gm|ml|units?|iu|meq|%)?$",
    )
});
/// A number that reads as a decimal with trailing zeros or as thousands
/// written with a dot (`1.500`, `2.250`, `12.000`).
static THOUSANDS_DOT: LazyLock<Regex> = LazyLock::new(|| compile(r"^[1-9][0-9]{0,2}\.[0-9]{2}0$"));
/// A count of doses in a short course, `x1` (a one-off dose) to `x9`: no
/// schedule (`x 3 daily` is read as one before this). `x30` (a quantity,
/// or 30 days) is not read past.
static COURSE_COUNT: LazyLock<Regex> = LazyLock::new(|| compile(r"^x[1-9]$"));
static APPLICATION_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(?:nda|anda|bla)[0-9]{5,7}$"));
pub(super) static QH: LazyLock<Regex> = LazyLock::new(|| compile(r"^q([0-9]{1,2})(?:h|hr|hrs)$"));

fn has_digit(tok: &str) -> bool {
    tok.bytes().any(|b| b.is_ascii_digit())
}

/// Compiles a built-in pattern. Patterns use ASCII classes (`[0-9]`, not
/// `\d`): Unicode classes cost milliseconds to compile at every start-up.
pub(super) fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("built-in regex {pattern}: {e}"))
}

const UNITS: &[&str] = &[
    "mg",
    "mgs",
    "mcg",
    "µg",
    "ug",
    "g",
    "gm",
    "ml",
    "unit",
    "units",
    "unt",
    "iu",
    "meq",
    "%",
    // Spelled out, as the BNF and UK prescriptions write them.
    "microgram",
    "micrograms",
    "milligram",
    "milligrams",
    "gram",
    "grams",
];

/// Concentration and rate units such as `mg/ml`, `unt/ml`, `mcg/actuat`.
/// A dose range (`10-20`, `10-20mg`): read as its upper bound, the most the
/// patient may take, so the daily maximum is checked against it.
static DOSE_RANGE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^[0-9]+(?:\.[0-9]+)?-(?P<upper>[0-9]+(?:\.[0-9]+)?[a-zµ%/0-9]*)$"));
static RATIO_UNIT: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^(?:mg|mcg|µg|ug|g|unt|unit|units|iu|meq|mmol)/(?:[0-9]*(?:ml|l)|g|actuat|actuation|[0-9]*(?:hr|h)|day|kg|dose|spray)$",
    )
});

/// Words after a bare number that make it a duration or a count, not a strength.
const QUANTITY_WORDS: &[&str] = &[
    "hr",
    "hour",
    "hrs",
    "actuat",
    "actuation",
    "actuations",
    "puff",
    "puffs",
    "tablet",
    "tablets",
    "tab",
    "tabs",
    "capsule",
    "capsules",
    "cap",
    "caps",
    "drop",
    "drops",
    "spray",
    "sprays",
    "day",
    "days",
    "week",
    "weeks",
    "wk",
    "wks",
    "month",
    "months",
];

/// Count words of solid dose units: "2 tablets" is two of the strength per dose.
pub(super) const DOSE_UNIT_WORDS: &[&str] = &[
    "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap", "caps",
];

/// Words after which a number is a day or a length of time (`day 1-3`).
const DAY_WORDS: &[&str] = &[
    "day", "days", "week", "weeks", "wk", "wks", "month", "months",
];

/// The most tablets or capsules read as taken in one dose; a larger count
/// ("28 tablets") is a pack quantity or a slip, and is reported unread.
const MAX_UNITS_PER_DOSE: f64 = 10.0;

/// A count such as `2`, `1.5` or `1/2`, above zero.
pub(super) fn count_value(num: &str) -> Option<f64> {
    let value = match num.split_once('/') {
        Some((a, b)) => a.parse::<f64>().ok()? / b.parse::<f64>().ok()?,
        None => num.parse().ok()?,
    };
    (value.is_finite() && value > 0.0).then_some(value)
}

/// Dosage-form and release words: dropped from names ("Biaxin XL", "Extended
/// Release Oral Tablet").
const FORM_WORDS: &[&str] = &[
    "tablet",
    "tablets",
    "tab",
    "tabs",
    "capsule",
    "capsules",
    "cap",
    "caps",
    "solution",
    "suspension",
    "injection",
    "injectable",
    "infusion",
    "syrup",
    "elixir",
    "liquid",
    "cream",
    "ointment",
    "gel",
    "lotion",
    "pump",
    "bath",
    "soak",
    "patch",
    "film",
    "coated",
    "chewable",
    "disintegrating",
    "dispersible",
    "effervescent",
    "extended",
    "delayed",
    "release",
    "released",
    "modified",
    "sustained",
    "controlled",
    "immediate",
    "er",
    "xr",
    "xl",
    "sr",
    "cr",
    "dr",
    "la",
    "cd",
    "ir",
    "odt",
    "ec",
    "hr",
    "hour",
    "granules",
    "packet",
    "powder",
    "spray",
    "inhaler",
    "inhalation",
    "aerosol",
    "metered",
    "drops",
    "pen",
    "prefilled",
    "syringe",
    "vial",
    "kit",
    "pack",
    "concentrate",
    "suppository",
    "lozenge",
    "troche",
    "filmtab",
    "oral",
    "orally",
    "dose",
    "dry",
    "mucosal",
    "system",
    "intrauterine",
    "vaginal",
    "implant",
    "drug",
    "injector",
    "auto",
    "cartridge",
    "otic",
    "buccal",
    "strip",
    "enema",
    "irrigation",
    "mouthwash",
    "toothpaste",
    "shampoo",
    "foam",
    "gum",
    "chewing",
    "medicated",
    "ring",
    "porcine",
];

/// Form words of medicines taken by mouth.
const ORAL_FORMS: &[&str] = &[
    "tablet", "tablets", "tab", "tabs", "capsule", "capsules", "cap", "caps", "caplet", "caplets",
    "syrup", "elixir",
];

/// Form words that say a drug is injected or infused, whatever the route
/// (`parenteral` when no route word is written).
const PARENTERAL_FORMS: &[&str] = &["injection", "injectable", "infusion"];

/// Form words that say a drug goes on the skin, whatever the route
/// (`topical` when no route word is written): magnesium in a cream or an
/// Epsom salt bath does not meet a drug in the gut. Not `gel` (antacid gels
/// are swallowed) nor `spray` or `oil` (nasal sprays, fish oil).
const SKIN_FORMS: &[&str] = &["cream", "ointment", "lotion", "bath", "soak"];

/// The route a form word or instruction implies (`injection`: parenteral;
/// `cream`, `apply`: topical), if any.
fn route_implied_by(word: &str) -> Option<&'static str> {
    if PARENTERAL_FORMS.contains(&word) {
        Some("parenteral")
    } else if SKIN_FORMS.contains(&word) || matches!(word, "apply" | "applied") {
        Some("topical")
    } else {
        None
    }
}

/// Route words and their normalized form.
pub(super) const ROUTES: &[(&str, &str)] = &[
    ("po", "oral"),
    ("oral", "oral"),
    ("orally", "oral"),
    ("iv", "iv"),
    ("intravenous", "iv"),
    ("im", "im"),
    ("intramuscular", "im"),
    ("sc", "subcutaneous"),
    ("sq", "subcutaneous"),
    ("subq", "subcutaneous"),
    ("subcutaneous", "subcutaneous"),
    ("sl", "sublingual"),
    ("sublingual", "sublingual"),
    ("topical", "topical"),
    ("topically", "topical"),
    ("transdermal", "transdermal"),
    ("inhaled", "inhaled"),
    ("inh", "inhaled"),
    ("pr", "rectal"),
    ("rectal", "rectal"),
    ("nasal", "nasal"),
    ("intrathecal", "intrathecal"),
    ("intrathecally", "intrathecal"),
    ("itb", "intrathecal"),
    ("ophthalmic", "ophthalmic"),
];

/// Frequency words, their normalized form and doses per day (None = as needed
/// or not a fixed daily schedule).
pub(super) const FREQUENCIES: &[(&str, &str, Option<f64>)] = &[
    ("od", "daily", Some(1.0)),
    ("qd", "daily", Some(1.0)),
    ("daily", "daily", Some(1.0)),
    ("once daily", "daily", Some(1.0)),
    ("once a day", "daily", Some(1.0)),
    ("every day", "daily", Some(1.0)),
    ("each day", "daily", Some(1.0)),
    ("qam", "daily", Some(1.0)),
    ("qpm", "daily", Some(1.0)),
    ("qhs", "nightly", Some(1.0)),
    ("hs", "nightly", Some(1.0)),
    ("nightly", "nightly", Some(1.0)),
    ("at bedtime", "nightly", Some(1.0)),
    ("bid", "bid", Some(2.0)),
    ("twice daily", "bid", Some(2.0)),
    ("twice a day", "bid", Some(2.0)),
    ("tid", "tid", Some(3.0)),
    ("three times daily", "tid", Some(3.0)),
    ("three times a day", "tid", Some(3.0)),
    ("qid", "qid", Some(4.0)),
    ("four times daily", "qid", Some(4.0)),
    ("four times a day", "qid", Some(4.0)),
    ("prn", "prn", None),
    ("as needed", "prn", None),
    ("weekly", "weekly", Some(1.0 / 7.0)),
    ("once weekly", "weekly", Some(1.0 / 7.0)),
    // UK and Latin forms (ISMP and BNF abbreviations).
    ("bd", "bid", Some(2.0)),
    ("tds", "tid", Some(3.0)),
    ("qds", "qid", Some(4.0)),
    ("mane", "daily", Some(1.0)),
    ("om", "daily", Some(1.0)),
    ("every morning", "daily", Some(1.0)),
    ("each morning", "daily", Some(1.0)),
    ("in the morning", "daily", Some(1.0)),
    ("nocte", "nightly", Some(1.0)),
    ("every night", "nightly", Some(1.0)),
    ("each night", "nightly", Some(1.0)),
    ("every evening", "nightly", Some(1.0)),
    ("once nightly", "nightly", Some(1.0)),
    ("at night", "nightly", Some(1.0)),
    ("per day", "daily", Some(1.0)),
    ("a day", "daily", Some(1.0)),
    // Every other day: half a dose a day.
    ("qod", "qod", Some(0.5)),
    ("every other day", "qod", Some(0.5)),
    ("on alternate days", "qod", Some(0.5)),
    ("alternate days", "qod", Some(0.5)),
];

/// The schedule read so far from a sig: the frequency as shown, the doses
/// a day it adds up to, and the times of day of its once-a-day words, so a
/// second once-a-day word can be told apart as another dose (`mane and
/// nocte`) or the same one said again (`nocte at night`).
#[derive(Debug, Default)]
struct Schedule {
    frequency: Option<String>,
    doses_per_day: Option<f64>,
    times: Vec<&'static str>,
}

/// When in the day a once-a-day schedule word is taken (`mane`: morning,
/// `qhs`: night); `any` for a word that names no time (`daily`, `od`).
fn time_of_day(word: &str) -> &'static str {
    match word {
        "qam" | "mane" | "om" | "every morning" | "each morning" | "in the morning" => "morning",
        "qpm" | "every evening" => "evening",
        "qhs" | "hs" | "nightly" | "at bedtime" | "nocte" | "every night" | "each night"
        | "once nightly" | "at night" | "on" => "night",
        _ => "any",
    }
}

impl Schedule {
    /// Records a frequency: `word` as written, `norm` its normalized form.
    /// "As needed" joined to a fixed schedule (`tid prn`) keeps the
    /// schedule's doses a day, the most the patient may take, so the daily
    /// total is still checked. Two schedules are added (see
    /// [`Schedule::adds_to`]); one said again is one.
    fn add(&mut self, word: &str, norm: &str, per_day: Option<f64>) {
        let as_needed = |f: &str| f == "prn" || f.ends_with(" prn");
        let time = (per_day == Some(1.0)).then(|| time_of_day(word));
        match (self.frequency.as_deref(), per_day) {
            // "tid prn as needed": said twice, still as needed on that schedule.
            (Some(current), None) if norm == "prn" && as_needed(current) => {}
            (Some(fixed), None)
                if norm == "prn" && !as_needed(fixed) && self.doses_per_day.is_some() =>
            {
                self.frequency = Some(format!("{fixed} prn"));
            }
            (Some("prn"), Some(_)) => {
                self.frequency = Some(format!("{norm} prn"));
                self.doses_per_day = per_day;
            }
            // The same time of day again (`nocte at night`, `daily ... once
            // a day`): one dose said twice.
            (Some(_), Some(_)) if time.is_some_and(|t| self.times.contains(&t)) => {}
            (Some(current), Some(new_per_day)) if self.adds_to(new_per_day, time) => {
                self.frequency = Some(format!("{current} + {norm}"));
                self.doses_per_day = self.doses_per_day.map(|d| d + new_per_day);
            }
            _ => {
                self.frequency = Some(norm.to_owned());
                self.doses_per_day = per_day;
            }
        }
        self.times.extend(time);
    }

    /// Whether a schedule of `per_day` doses (at `time` of day, for one a
    /// day) is another dose on top of the one read, not the same said
    /// again. Two fixed schedules of different doses a day (`3 times daily.
    /// Take 2 tablets at bedtime`) are both taken; so are two once-a-day
    /// schedules at different times (`qam and qpm`, `mane and nocte`,
    /// `daily and at bedtime`): a total is never read lower than written
    /// (with the larger tablet count, it may be read higher). One schedule
    /// restated (`bid (twice daily)`, `tid three times a day`) is one.
    fn adds_to(&self, per_day: f64, time: Option<&str>) -> bool {
        let differs = self
            .doses_per_day
            .is_some_and(|d| (d - per_day).abs() > 1e-9);
        let another_time = time.is_some() && !self.times.is_empty();
        differs || another_time
    }

    /// Records "every `hours` hours" (`qNh`); `false` when that is no number
    /// of hours above zero.
    fn add_every_hours(&mut self, hours: &str) -> bool {
        let per_dose: f64 = hours.parse().unwrap_or(0.0);
        if per_dose <= 0.0 {
            return false;
        }
        let norm = format!("q{hours}h");
        self.add(&norm, &norm, Some(24.0 / per_dose));
        true
    }
}

/// The tablets or capsules a dose, from the counts read in a sig.
#[derive(Debug, Default)]
struct Counts {
    units: Option<f64>,
    /// Whether a count was a bare number (`20 mg 2 qds`, `2 x 20 mg`).
    bare: bool,
}

impl Counts {
    /// Records a count; `bare` for a number with no `tabs` or `caps` word.
    /// Two `N tabs` counts (`1 tablet tid. 2 tablets at bedtime`) keep the
    /// larger, as their schedules are added. A bare number beside another
    /// count (`2 tabs 3 a day`: 3 tablets, or 3 times a day?) cannot be
    /// told apart: `false`, for the caller to report it. Taking the larger
    /// read `2 tabs 3 a day` as 3 tablets once a day, lower than written.
    fn add(&mut self, count: f64, bare: bool) -> bool {
        if self.units.is_some() && (bare || self.bare) {
            return false;
        }
        self.units = Some(self.units.map_or(count, |u| u.max(count)));
        self.bare |= bare;
        true
    }
}

/// The doses a day of one schedule as [`Schedule::add`] writes it (`tid`,
/// `q6h`, `5 times daily`, `tid prn`), when fixed.
/// The doses a day of the fixed schedules in a frequency with doses as
/// needed on top (`tid + prn` → 3): the least taken on a day, which alone
/// may already be above a maximum. `None` when no part is fixed.
pub fn fixed_doses_per_day(frequency: &str) -> Option<f64> {
    let fixed: Vec<f64> = frequency
        .split(" + ")
        .filter(|part| *part != "prn")
        .filter_map(per_day_of)
        .collect();
    (!fixed.is_empty()).then(|| fixed.iter().sum())
}

fn per_day_of(norm: &str) -> Option<f64> {
    let norm = norm.trim_end_matches(" prn");
    if let Some((_, _, per_day)) = FREQUENCIES.iter().find(|(_, n, _)| *n == norm) {
        return *per_day;
    }
    if let Some(caps) = QH.captures(norm) {
        return caps[1]
            .parse::<f64>()
            .ok()
            .filter(|h| *h > 0.0)
            .map(|h| 24.0 / h);
    }
    norm.strip_suffix(" times daily")?.parse().ok()
}

/// Words people add that carry no drug meaning.
const FILLER_WORDS: &[&str] = &[
    "take", "by", "mouth", "x", "every", "per", "day", "for", "then", "pc", "ac", "thinly", "to",
    "affected", "area", "areas", "skin", "sliding", "scale",
];

/// "3 times daily", "2x a day", "4 times per day", "x 4 daily".
static TIMES_A_DAY: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?-u:\b)(?:([1-6]) *(?:x|times)|x *([1-6])) *(?:daily|a day|per day|/day)(?-u:\b)")
});
/// `and prn`, `plus as needed`, `and 1/2 tab prn`, `, 1 tab prn` after a
/// schedule: doses beyond it (a half tablet as needed is no count of the
/// fixed doses; after a comma, a whole count stays the doses' count too, so
/// `20 mg tid, 2 tabs prn` is read at 2 tablets a dose, never lower).
static AND_AS_NEEDED: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?:(?:(?-u:\b)(?:and|plus)|\+|&) +(?:[0-9]+(?:[./][0-9]+)? *(?:tabs?|tablets?|caps?|capsules?) +)?|[,;] *(?:extra +|additional +)?(?:0?\.[0-9]+|[0-9]+/[0-9]+|(?P<whole>[1-9])) *(?:tabs?|tablets?|caps?|capsules?) +)(?:prn|as needed)(?-u:\b)",
    )
});
/// A digit group after a thousands comma: `1,000`.
static THOUSANDS: LazyLock<Regex> = LazyLock::new(|| compile(r"([0-9]),([0-9]{3})(?:\b|$)"));
/// A number with a decimal comma after a lone zero (`0,125 mg`).
static ZERO_COMMA: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(^|[^0-9.,])(0(?:,[0-9]+)+(?: *(?:mg/ml|mg|mcg|µg|ug|gm|g|ml|units?|iu|meq)(?-u:\b)| *%)?)",
    )
});
/// A comma between digits that is not a thousands separator (`1,5`: a
/// decimal comma, or a slip): unreadable as a dose.
static DIGIT_COMMA: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"[0-9]+(?:,[0-9]+)+(?: *(?:mg/ml|mg|mcg|µg|ug|gm|g|ml|units?|iu|meq)(?-u:\b)| *%)?")
});
/// Dotted abbreviations: `t.i.d.`, `b.i.d`, `q.h.s.`.
static DOTTED: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)(?:[a-z]\.){1,3}[a-z]?\.?(?:\s|$)"));
/// A per-volume strength written with a space, `5 mg/5 mL`: the volume is
/// joined to its ratio (`mg/5ml`), as labels of oral solutions write it.
static PER_VOLUME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"/\s*([0-9]+(?:\.[0-9]+)?)\s+(ml|l)\b"));
/// "for leg cramps", "(for spasticity)": an indication note after the dose,
/// up to the first number (see [`without_for_note`]).
static FOR_NOTE: LazyLock<Regex> = LazyLock::new(|| compile(r"(?:^|[\s(])for\s+[^0-9]*"));
/// A hold parameter a nurse reads (`hold if HR<60`, `hold for SBP < 90`,
/// `hold if sedated`): a vital sign or lab and its limit, or a state. Only
/// these: a hold note naming a drug (`hold if on sildenafil`) keeps its
/// words, so the drug is not lost.
static HOLD_NOTE: LazyLock<Regex> = LazyLock::new(|| {
    let vital = "hr|heart rate|pulse|sbp|dbp|bp|blood pressure|systolic bp|systolic|map|rr|bs|bg|cbg|blood sugar|glucose|k|potassium|inr|plt|platelets|qtc";
    let limit = r"(?:<=|>=|<|>|≤|≥|under|over|below|above|less than|greater than)? *[0-9]+(?:\.[0-9]+)? *(?:bpm|mmhg|mg/dl|mmol/l|ms)?";
    let state = "sedated|drowsy|somnolent|npo|hypotensive|bradycardic";
    compile(&format!(
        r"(?-u:\b)(?:hold|omit|withhold) +(?:if|for|when) +(?:(?:{vital}) *{limit}(?: *(?:or|and|,) *(?:{vital}) *{limit})*|(?:{state})(?-u:\b))"
    ))
});
/// A schedule written with a number (`q6h`, `3 times`, `3x`, `x 3`,
/// `every 4 hours`), for [`schedule_start`].
static NUMBERED_SCHEDULE: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?-u:\b)(?:q[0-9]{1,2}(?:h|hr|hrs)|[1-6] *(?:x|times)|x *[1-6]|every +[0-9])(?-u:\b)")
});

/// The sig without its `for ...` indication note. A note is read past when
/// it ends the sig or a schedule follows it, which is kept: `30 mg for
/// spasticity qid` is qid, `for leg cramps at night` nightly (cut to the
/// end, the schedule was lost, and a listed drug went unchecked). A note
/// with a dose after it (`for spasticity 2 tabs qid`) is left as written,
/// its words reported.
fn without_for_note(text: &str) -> String {
    for note in FOR_NOTE.find_iter(text) {
        let schedule = schedule_start(&text[note.start()..]).map(|at| note.start() + at);
        let end = match schedule {
            Some(at) if at <= note.end() => at,
            _ if note.end() == text.len() => note.end(),
            _ => continue,
        };
        // `for spasm ii tabs tds`, `for night cramps, two at night`: a count
        // in words is a dose, not part of the note; cut, it was lost and the
        // dose read lower than written.
        let says_a_dose = text[note.start()..end]
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| COUNT_WORDS.contains(&word));
        if says_a_dose {
            continue;
        }
        return format!("{} {}", &text[..note.start()], &text[end..]);
    }
    text.to_owned()
}

/// A segment cut where another drug is joined after a strength (`baclofen
/// 30 mg tid + magnesium 400 mg`, `baclofen 30 mg and magnesium`): each
/// drug keeps its own strength. Read as one name, the two drugs' strength
/// could not be given to either, and the over-maximum baclofen dose went
/// unchecked. A joining word before any number (`acetaminophen and
/// codeine 300/30`) joins one product's names, and stays.
fn split_joined(segment: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = segment;
    loop {
        let marked = rest.find(DRUG_MARK);
        let cut = [" + ", " and ", " with ", " & "]
            .iter()
            .filter_map(|joiner| {
                rest.match_indices(joiner).find_map(|(at, _)| {
                    let before = &rest[..at];
                    let after = rest[at + joiner.len()..].trim_start();
                    // A count or an article first (`and 1 aspirin 81 mg`,
                    // `with a calcium tablet`, `and a tab at night`): the
                    // word after it says whether a drug is named.
                    let mut words = after.split_whitespace();
                    let mut first = words.next().unwrap_or_default();
                    let counted = first.chars().all(|c| c.is_ascii_digit())
                        || matches!(first, "a" | "an" | "one" | "two" | "three");
                    if counted && !first.is_empty() {
                        first = words.next().unwrap_or_default();
                    }
                    (before.contains(|c: char| c.is_ascii_digit())
                        && first.starts_with(|c: char| c.is_alphabetic())
                        && !is_sig_word(first))
                    .then_some((at, joiner.len()))
                })
            })
            .chain(marked.map(|at| (at, DRUG_MARK.len_utf8())))
            .min();
        match cut {
            Some((at, len)) => {
                parts.push(rest[..at].to_owned());
                rest = &rest[at + len..];
            }
            None => {
                parts.push(rest.to_owned());
                return parts;
            }
        }
    }
}

/// Whether the route word at `tokens[i]` is no route of this medication:
/// a stage or grade (`CKD stage IV`, `grade IV spasticity`), a negation
/// (`do not give IV`, `not for IM use`) or a note (`IV access`).
fn route_word_in_a_note(tokens: &[String], i: usize) -> bool {
    let before = |k: usize| {
        i.checked_sub(k)
            .and_then(|at| tokens.get(at))
            .map(String::as_str)
    };
    let staged = before(1).is_some_and(|w| {
        matches!(
            w,
            "stage" | "grade" | "class" | "type" | "ckd" | "nyha" | "dr" | "phase" | "level"
        )
    });
    let negated = [before(1), before(2), before(3)]
        .into_iter()
        .flatten()
        .any(|w| {
            matches!(
                w,
                "no" | "not" | "never" | "avoid" | "dont" | "don't" | "without"
            )
        });
    // `IV access`, `IV line in place`: a note; `IV line q6h`, `via IV port`:
    // the route.
    let after = |k: usize| tokens.get(i + k).map(String::as_str);
    let noted = matches!(after(1), Some("access" | "site" | "cannula"))
        || (matches!(after(1), Some("line" | "port"))
            && matches!(
                after(2),
                Some("in" | "placed" | "present" | "inserted" | "removed" | "out")
            ));
    staged || negated || noted
}

/// Formats a dose or a count without a trailing `.0` (`2`, `0.5`).
pub fn trim_number(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// Whether `word` belongs to a sig (`on` at night, `tabs`, `po`, `at`):
/// after a joining word it goes on with the dose, it names no drug.
fn is_sig_word(word: &str) -> bool {
    const SIG_WORDS: &[&str] = &[
        "at",
        "in",
        "on",
        "every",
        "each",
        "then",
        "as",
        "per",
        "by",
        "po",
        "iv",
        "im",
        "sc",
        "orally",
        "mouth",
        "x",
        "take",
        "prn",
        "up",
        "max",
        "maximum",
        "one",
        "two",
        "three",
        "four",
        "half",
        "ii",
        "or",
        "water",
        "juice",
        "food",
        "meals",
        "meal",
        "glass",
        "increase",
        "increasing",
        "titrate",
        "titrating",
        "repeat",
        "reduce",
        "taper",
        "if",
        "when",
        "without",
        "after",
        "before",
        "breakfast",
        "lunch",
        "dinner",
        "supper",
        "dose",
        "doses",
    ];
    let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
    SIG_WORDS.contains(&word)
        || UNITS.contains(&word)
        || DOSE_UNIT_WORDS.contains(&word)
        || QUANTITY_WORDS.contains(&word)
        || FREQUENCIES.iter().any(|(f, _, _)| *f == word)
}

/// Words that count tablets or doses: inside a `for ...` note they say the
/// note is no mere indication.
const COUNT_WORDS: &[&str] = &[
    "one", "two", "three", "four", "five", "six", "half", "double", "triple", "dozen", "twice",
    "thrice", "couple", "pair", "ii", "iii", "iv", "tab", "tabs", "tablet", "tablets", "cap",
    "caps", "capsule", "capsules", "dose", "doses",
];

/// Where the first schedule (`qid`, `at night`, `as needed`, `q6h`, `3
/// times a day`) begins in `text`, if any.
fn schedule_start(text: &str) -> Option<usize> {
    let numbered = NUMBERED_SCHEDULE.find(text).map(|m| m.start());
    FREQUENCIES
        .iter()
        .filter_map(|(phrase, _, _)| find_phrase(text, phrase))
        .chain(numbered)
        .min()
}

/// Rewrites what a prescriber writes around a dose into the forms the
/// parser reads: dotted abbreviations lose their dots, a thousands comma
/// goes, a "for ..." indication note is dropped (not a schedule after it);
/// a comma between digits that is no thousands separator is listed as
/// unread.
fn normalize_sig(text: &str, unparsed: &mut Vec<String>) -> String {
    let mut text = DOTTED
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let word = caps[0].trim_end();
            format!("{} ", word.replace('.', ""))
        })
        .into_owned();
    // `0,125 mg` has a decimal comma: no thousands start with a lone zero
    // (read as thousands, digoxin 0,125 mg was 125 mg).
    for found in ZERO_COMMA.captures_iter(&text.clone()) {
        unparsed.push(found[2].to_owned());
    }
    text = ZERO_COMMA.replace_all(&text, "$1 ").into_owned();
    while THOUSANDS.is_match(&text) {
        text = THOUSANDS.replace_all(&text, "$1$2").into_owned();
    }
    for found in DIGIT_COMMA.find_iter(&text.clone()) {
        unparsed.push(found.as_str().to_owned());
    }
    text = DIGIT_COMMA.replace_all(&text, " ").into_owned();
    text = PER_VOLUME.replace_all(&text, "/${1}${2}").into_owned();
    text = DAY_WORD_BESIDE_SCHEDULE
        .replace_all(&text, |c: &regex::Captures<'_>| {
            match (c.name("after"), c.name("before"), c.name("prn")) {
                (Some(schedule), _, _) | (None, Some(schedule), None) => {
                    schedule.as_str().to_owned()
                }
                _ => c[0].to_owned(),
            }
        })
        .into_owned();
    text = SPACED_RANGE
        .replace_all(&text, |c: &regex::Captures<'_>| {
            // Written high to low (`30 to 20 mg`), the larger is still the
            // upper bound read.
            let (a, b) = (&c[1], &c[2]);
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) if x > y => format!("{b}-{a}"),
                _ => format!("{a}-{b}"),
            }
        })
        .into_owned();
    text = HOLD_NOTE.replace_all(&text, " ").into_owned();
    text = super::sig::sig_forms(&text);
    without_for_note(&text)
}

/// A schedule of several doses with a day word right before or after it
/// (`tid daily`, `bid, daily`, `every 6 hrs every day`, `each day q8h`):
/// that schedule, every day, not one more dose. Only `and` adds one (`bid
/// and 1 tab daily`, `1 tab every day and 1 tab bid`).
static DAY_WORD_BESIDE_SCHEDULE: LazyLock<Regex> = LazyLock::new(|| {
    let schedule = concat!(
        r"(?:bid|bd|tid|tds|qid|qds|q *[0-9]{1,2} *(?:hrs|hr|h)",
        r"|every +[0-9]{1,2} *(?:hours|hour|hrs|hr|h)",
        r"|twice (?:a day|daily)|(?:three|four) times (?:a day|daily))"
    );
    let day = r"daily|a day|per day|every +day|each +day";
    // `bid prn every day` is one schedule; `daily, tid prn` is a daily dose
    // and doses as needed: the `prn` is left out of the second form.
    compile(&format!(
        r"(?-u:\b)(?:(?P<after>{schedule}(?: +prn)?)(?-u:\b) *[,(]? *(?:{day})|(?:every +day|each +day|daily) *,? *(?P<before>{schedule})(?P<prn> +prn)?)(?-u:\b)"
    ))
});

/// A range written with spaces or `to` (`5 - 10 mg`, `5 – 10 mg`, `1 to 2
/// tabs`), joined as a range is written (`5-10 mg`), whose upper bound is
/// read. Apart, its lower number looked like a tablet count before the
/// strength: `5 - 10 mg tid` was read as 150 mg/day.
static SPACED_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"([0-9]+(?:\.[0-9]+)?) *(?:-|–|(?-u:\b)to(?-u:\b)) *([0-9]+(?:\.[0-9]+)?)")
});

/// Marks where the resolver found another drug joined after a dose
/// (`magnesium 400 mg daily and baclofen 100 mg daily`): the sig is cut
/// there, and doses on either side are not added up as one drug's. Only the
/// resolver, which knows the names, writes it ([`parse_med_marked`]); it is
/// taken out of any input.
pub const DRUG_MARK: char = '\u{1f}';

/// A word the parser left over (lowercase), as `input` wrote it when
/// lowercasing changed how it looks: a capital Greek Mu (`ΜG`, which is no
/// unit) lowercases to the small mu of `μg`, a unit the parser reads, so the
/// lowercase word would report as unread a unit it understands. Any other
/// word is given back as read.
pub fn as_typed(word: &str, input: &str) -> String {
    // Every small mu becomes the micro sign before the text is lowercased:
    // one left in a word came from a capital Mu.
    if !word.contains('\u{3bc}') {
        return word.to_owned();
    }
    input
        .split(|c: char| !c.is_alphanumeric())
        .find(|token| token.to_lowercase() == word)
        .map_or_else(|| word.replace('\u{3bc}', "\u{39c}"), str::to_owned)
}

/// Parses one medication string. Never fails: anything it cannot read is
/// kept in the name (for resolution to judge) or listed in `unparsed`.
pub fn parse_med(input: &str) -> MedText {
    let mut med = parse_med_marked(&input.replace(DRUG_MARK, " "));
    med.input = input.to_owned();
    med
}

/// [`parse_med`] of a text the resolver has marked with [`DRUG_MARK`] where
/// another drug is joined.
pub fn parse_med_marked(input: &str) -> MedText {
    let mut brand_hint = None;
    // The Greek small mu (`μg`, as typed on Greek keyboards or pasted from
    // some EHRs) is read as the micro sign the unit patterns know; a capital
    // Mu is not (`ΜG` looks just like `MG`, and is reported, not read as
    // micrograms).
    let mut text = without_list_number(&input.replace('\u{3bc}', "\u{b5}")).to_lowercase();
    text = WITH_SLASH
        .replace_all(&text, |caps: &regex::Captures<'_>| match &caps[1] {
            "o" => "without ".to_owned(),
            "v" | "w" => caps[0].to_owned(),
            word => format!("with {word}"),
        })
        .into_owned();
    // Steps (`bid x 3 days then tid`) or a ceiling (`tid, max qid`): two
    // schedules that are never taken on the same day.
    let one_at_a_time = [" then ", "max", "up to"].iter().any(|w| text.contains(w));
    if let Some(caps) = BRACKET.captures(&text) {
        let inner = caps.get(1).map_or("", |m| m.as_str()).trim().to_owned();
        if !inner.is_empty() {
            brand_hint = Some(inner);
        }
        text = BRACKET.replace_all(&text, " ").into_owned();
    }
    let mut route = None;
    let mut schedule = Schedule::default();
    let mut counts = Counts::default();
    // Volumes written after a per-volume strength.
    let mut volumes: Vec<f64> = Vec::new();
    let mut daily_total = false;
    // Whether a day total was read as a joined drug's amount.
    let mut joined_total = false;
    // Daily totals written beside a strength a dose, with the index of
    // their ingredient.
    let mut stated_totals: Vec<(usize, (String, Option<String>))> = Vec::new();
    let mut unparsed = Vec::new();
    text = normalize_sig(&text, &mut unparsed);
    // `tid and prn`: doses on top of the schedule, as many as needed.
    let beyond_schedule = AND_AS_NEEDED.is_match(&text);
    if beyond_schedule {
        text = AND_AS_NEEDED
            .replace_all(&text, |caps: &regex::Captures<'_>| {
                match caps.name("whole") {
                    Some(count) => format!(" {} tab ", count.as_str()),
                    None => " ".to_owned(),
                }
            })
            .into_owned();
    }
    if let Some(caps) = TIMES_A_DAY.captures(&text.clone()) {
        // One to four a day have their words; six is every 4 hours.
        // `3 times daily`, `3x daily`, or `x 3 daily`.
        let times = caps.get(1).or(caps.get(2)).map_or("", |m| m.as_str());
        let word = match times {
            "1" => Some(("daily".to_owned(), 1.0)),
            "2" => Some(("bid".to_owned(), 2.0)),
            "3" => Some(("tid".to_owned(), 3.0)),
            "4" => Some(("qid".to_owned(), 4.0)),
            "5" => Some(("5 times daily".to_owned(), 5.0)),
            "6" => Some(("q4h".to_owned(), 6.0)),
            _ => None,
        };
        if let (Some((word, per_day)), Some(m)) = (word, caps.get(0)) {
            schedule.add(&word, &word, Some(per_day));
            text.replace_range(m.range(), " ");
        }
    }

    // Multi-word frequencies first, so "twice daily" is not split into words
    // ("three times daily as needed" holds two).
    for (phrase, norm, per_day) in FREQUENCIES.iter().filter(|(p, _, _)| p.contains(' ')) {
        if let Some(pos) = find_phrase(&text, phrase) {
            schedule.add(phrase, norm, *per_day);
            text.replace_range(pos..pos + phrase.len(), " ");
        }
    }
    // "every 8 hours" (or "hour", as sigs also write it) → q8h, whatever
    // was read before it (`every 6 hrs every day`).
    static EVERY_HOURS: LazyLock<Regex> =
        LazyLock::new(|| compile(r"(?-u:\b)every +([0-9]{1,2}) *(?:hours|hour|hrs|hr|h)(?-u:\b)"));
    if let Some(caps) = EVERY_HOURS.captures(&text.clone()) {
        schedule.add_every_hours(&caps[1]);
        if let Some(m) = caps.get(0) {
            text.replace_range(m.range(), " ");
        }
    }
    // "every 2 days", "every three days": one dose in that many days, held
    // whole to a day's maximum like `qod` (left unread, a listed drug so
    // written had no frequency and no word about it).
    static EVERY_DAYS: LazyLock<Regex> = LazyLock::new(|| {
        compile(r"(?-u:\b)every +([0-9]{1,2}|two|three|four|five|six|seven) *(?:days|day)(?-u:\b)")
    });
    // Beside another schedule it is a titration or review interval (`tid,
    // titrate every 3 days`), not when the doses are taken.
    let other_schedule = |text: &str, at: std::ops::Range<usize>| {
        let mut rest = text.to_owned();
        rest.replace_range(at, " ");
        schedule_start(&rest).is_some()
    };
    if let Some(caps) = EVERY_DAYS.captures(&text.clone()).filter(|c| {
        schedule.frequency.is_none() && c.get(0).is_some_and(|m| !other_schedule(&text, m.range()))
    }) {
        let days = match &caps[1] {
            "two" => "2",
            "three" => "3",
            "four" => "4",
            "five" => "5",
            "six" => "6",
            "seven" => "7",
            digits => digits,
        };
        let read = days
            .parse::<u32>()
            .is_ok_and(|d| d > 0 && schedule.add_every_hours(&(d * 24).to_string()));
        if let Some(m) = caps.get(0) {
            if !read {
                unparsed.push(m.as_str().to_owned());
            }
            text.replace_range(m.range(), " ");
        }
    }

    // "over 20 min" is how long an infusion runs, not a dose or schedule.
    static OVER_DURATION: LazyLock<Regex> = LazyLock::new(|| {
        compile(
            r"(?-u:\b)over +[0-9]+(?:\.[0-9]+)? *(?:minutes|minute|mins|min|hours|hour|hrs|hr|h)(?-u:\b)",
        )
    });
    if text.contains("over") {
        text = OVER_DURATION.replace_all(&text, " ").into_owned();
    }

    // RxNorm multi-ingredient strings separate ingredients with " / ".
    let segments: Vec<String> = text
        .split(" / ")
        .flat_map(split_joined)
        .map(|s| s.replace(',', " "))
        .collect();
    // Drugs joined in one sig (`baclofen 30 mg tid with calcium 1200
    // mg/day`) share its one schedule: a day's total written for one of them
    // cannot be the schedule of all, and is reported instead.
    let joined_drugs = segments.len() > text.split(" / ").count();

    let mut ingredients = Vec::new();
    for segment in &segments {
        let tokens = tokenize(segment);
        let mut names: Vec<String> = Vec::new();
        let mut strength_tokens: Vec<(String, Option<String>)> = Vec::new();
        // Daily totals (`120 mg/day`), kept apart from the strength a dose.
        let mut totals: Vec<(String, Option<String>)> = Vec::new();
        // A schedule word read in this segment: a bare number after it is
        // no tablet count (`tid x 5`, `tid 2`).
        let mut schedule_seen = false;
        let mut i = 0;
        while i < tokens.len() {
            let upper = DOSE_RANGE
                .captures(&tokens[i])
                .map(|c| c["upper"].to_owned());
            let tok = upper.as_deref().unwrap_or(tokens[i].as_str());
            let next = tokens.get(i + 1).map(String::as_str);
            if let Some(caps) = NUMBER_UNIT.captures(tok) {
                let num = caps["num"].to_owned();
                let after_in = i > 0 && tokens[i - 1] == "in";
                let mut unit = caps.name("unit").map(|m| normalize_unit(m.as_str()));
                // "24 HR" / "12 hour" is a release duration, and "120 ACTUAT" /
                // "1 tablet" / "2 puffs" a quantity: neither is a strength.
                if unit.is_none() && next.is_some_and(|n| QUANTITY_WORDS.contains(&n)) {
                    if let Some(word) = next.filter(|n| DOSE_UNIT_WORDS.contains(n)) {
                        let count = count_value(&num).filter(|c| *c <= MAX_UNITS_PER_DOSE);
                        if !count.is_some_and(|c| counts.add(c, false)) {
                            unparsed.push(format!("{} {word}", tokens[i]));
                        }
                    }
                    i += 2;
                    continue;
                }
                if unit.is_none()
                    && let Some(n) = next
                    && (UNITS.contains(&n) || RATIO_UNIT.is_match(n))
                {
                    unit = Some(normalize_unit(n));
                    i += 1;
                }
                // `1.500 mg`: 1.5 mg with a trailing zero, or 1,500 mg with
                // a European thousands dot? A thousandfold apart: reported,
                // never guessed (ISMP lists trailing zeros as error-prone).
                // So are units (`50.000 IU` of vitamin D may be 50,000).
                // `30.000 mg` (30,000 mg is no dose) is read as 30.
                let thousands_possible = unit.as_deref() == Some("unit")
                    || (num.split('.').next().is_some_and(|whole| whole.len() == 1)
                        && !unit
                            .as_deref()
                            .is_some_and(|u| u.contains('/') && u.ends_with("ml")));
                if unit.is_some() && thousands_possible && THOUSANDS_DOT.is_match(&num) {
                    unparsed.push(format!("{num} {}", unit.as_deref().unwrap_or_default()));
                    i += 1;
                    continue;
                }
                // "200 mg/day" is the day's total (see [`settle_daily_totals`]).
                let mut is_total = false;
                if let Some(base) = unit.as_deref().and_then(|u| {
                    ["/day", "/d", "/24h", "/24hr"]
                        .iter()
                        .find_map(|per_day| u.strip_suffix(per_day))
                }) {
                    unit = Some(normalize_unit(base));
                    is_total = true;
                }
                // A volume after a per-volume strength (`5 mg/5 mL 10 mL`)
                // is the dose of the solution, not a pack size.
                let per_volume_before = strength_tokens.iter().any(|(_, u)| {
                    u.as_deref()
                        .is_some_and(|u| u.contains('/') && u.ends_with("ml"))
                });
                if unit.as_deref() == Some("ml") && per_volume_before {
                    match num.parse::<f64>().ok().filter(|v| *v > 0.0) {
                        Some(ml) => volumes.push(ml),
                        None => unparsed.push(format!("{num}ml")),
                    }
                    i += 1;
                    continue;
                }
                // A volume after a strength that is a mass (`5 mg 25 mL
                // qds`) is a dose in mL with no strength per mL: reported,
                // not dropped as a pack size (the mass was read as the
                // dose). `4 g in 100 mL` says what the dose is in.
                let mass_before = strength_tokens
                    .iter()
                    .any(|(_, u)| matches!(u.as_deref(), Some("mg" | "mcg" | "g")));
                if unit.as_deref() == Some("ml") && mass_before && !after_in {
                    unparsed.push(format!("{num}ml"));
                    i += 1;
                    continue;
                }
                // A bare number after a strength (`20 mg 2 qds`, `20 mg 1-2
                // qds`) or before `x` and a strength (`2 x 20 mg`) is the
                // number of tablets a dose, as UK prescriptions write it.
                let after_strength = strength_tokens.iter().any(|(_, u)| !is_quantity_unit(u));
                let before_times = next == Some("x")
                    && tokens
                        .get(i + 2)
                        .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit()));
                if unit.is_none() && (after_strength || before_times) {
                    let previous = i.checked_sub(1).and_then(|p| tokens.get(p));
                    let fraction = num.split_once('/');
                    // `2/52`, `3/7`, `1/12`: weeks, days, months (UK), a
                    // duration and not a dose.
                    let duration = fraction.is_some_and(|(_, d)| matches!(d, "7" | "12" | "52"));
                    // Half or a quarter tablet; any other fraction (a date
                    // such as `6/15`) is no count.
                    let count_like =
                        fraction.is_none_or(|f| matches!(f, ("1", "2") | ("1", "4") | ("3", "4")));
                    let after_day_word = previous.is_some_and(|p| DAY_WORDS.contains(&p.as_str()));
                    if duration {
                    } else if schedule_seen || after_day_word || !count_like {
                        unparsed.push(tokens[i].clone());
                    } else {
                        let count = count_value(&num).filter(|c| *c <= MAX_UNITS_PER_DOSE);
                        if !count.is_some_and(|c| counts.add(c, true)) {
                            unparsed.push(tokens[i].clone());
                        }
                    }
                    i += 1;
                    continue;
                }
                if unit.is_none() && !after_strength {
                    match leading_count(&tokens, i, &num) {
                        Leading::Count(count) => {
                            if !counts.add(count, true) {
                                unparsed.push(tokens[i].clone());
                            }
                            i += 1;
                            continue;
                        }
                        Leading::Unsure => {
                            unparsed.push(tokens[i].clone());
                            i += 1;
                            continue;
                        }
                        Leading::No => {}
                    }
                }
                match is_total {
                    true => totals.push((num, unit)),
                    false => strength_tokens.push((num, unit)),
                }
            } else if let Some(caps) = QH.captures(tok) {
                schedule_seen = true;
                if !schedule.add_every_hours(&caps[1]) {
                    unparsed.push(tok.to_owned());
                }
            } else if let Some((_, norm, per_day)) = FREQUENCIES.iter().find(|(w, _, _)| *w == tok)
            {
                schedule_seen = true;
                schedule.add(tok, norm, *per_day);
            } else if tok == "on" && i + 1 == tokens.len() && !strength_tokens.is_empty() {
                // The UK "ON" (omni nocte: at night) ending a sig after its
                // dose, `quinine sulphate 300 mg ON`; elsewhere "on" is a word.
                schedule.add("on", "nightly", Some(1.0));
            } else if let Some((_, norm)) = ROUTES.iter().find(|(w, _)| *w == tok)
                && !(tok == "oral" && route.is_some())
            {
                // "oral" also reads as a form word; record it once as the
                // route. One in a note (`CKD stage IV`) is passed over, and an
                // `IV line` or `port` after a route already read (`po, IV
                // line`) does not override it.
                let line_after_route = route.is_some()
                    && matches!(tokens.get(i + 1).map(String::as_str), Some("line" | "port"));
                if !route_word_in_a_note(&tokens, i) && !line_after_route {
                    route = Some((*norm).to_owned());
                }
            } else if COURSE_COUNT.is_match(tok)
                && !tokens.get(i + 1).is_some_and(|next| {
                    DOSE_UNIT_WORDS.contains(&next.as_str()) || DAY_WORDS.contains(&next.as_str())
                })
            {
                // "x1": once, no schedule to read. Not `x2 tabs` (a count
                // of tablets) nor `x30 days` (a length of time), left unread
                // as before.
            } else if APPLICATION_NUMBER.is_match(tok) {
                // "NDA020800" (an FDA application number in RxNorm names).
            } else if let Some(implied) = route_implied_by(tok) {
                // "Injectable Solution", "cream", "apply to affected area":
                // the route, when no route word says otherwise.
                if route.is_none() {
                    route = Some(implied.to_owned());
                }
            } else if FORM_WORDS.contains(&tok)
                || (tok.contains('-') && tok.split('-').all(|p| FORM_WORDS.contains(&p)))
                || FILLER_WORDS.contains(&tok)
                || RATIO_UNIT.is_match(tok)
            {
                // Dropped: dosage form, release or filler word.
            } else if has_digit(tok)
                && (!tok.chars().any(char::is_alphabetic) || looks_like_dose(tok))
            {
                unparsed.push(tok.to_owned());
            } else {
                names.push(tok.to_owned());
            }
            i += 1;
        }
        // A name such as "carbidopa/levodopa" holds several ingredients; a
        // strength such as "25/100" gives one value each.
        let name_text = names.join(" ");
        let parts: Vec<&str> = if name_text.contains('/') {
            name_text
                .split('/')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        } else {
            vec![name_text.as_str()]
        };
        // With no strength a dose, the total is the strength: one "dose" a
        // day. Beside one, it is settled against the schedule below.
        if !totals.is_empty() && strength_tokens.iter().all(|(_, u)| is_quantity_unit(u)) {
            // In a sig of joined drugs the total is that drug's amount, not
            // the shared schedule (`magnesium 400 mg/day and baclofen 30 mg
            // tid`): with the schedule the sig has, it is read higher than
            // written, never lower; with none it is checked as one dose.
            daily_total |= !joined_drugs;
            joined_total |= joined_drugs;
            strength_tokens.append(&mut totals);
        }
        let strengths = split_strengths(&strength_tokens, parts.len(), &mut unparsed);
        match parts.len() {
            1 => stated_totals.extend(totals.into_iter().map(|t| (ingredients.len(), t))),
            _ => unparsed.extend(totals.iter().map(written_total)),
        }
        for (k, part) in parts.iter().enumerate() {
            if part.is_empty() && strengths.get(k).cloned().flatten().is_none() {
                continue;
            }
            ingredients.push(IngredientText {
                name: (*part).to_owned(),
                strength: strengths.get(k).cloned().flatten(),
            });
        }
    }
    if ingredients.is_empty() {
        ingredients.push(IngredientText {
            name: String::new(),
            strength: None,
        });
    }
    let Schedule {
        mut frequency,
        mut doses_per_day,
        ..
    } = schedule;
    let mut units_per_dose = counts.units;
    // `30 mg tid and 1/2 tab at night`: a part of a tablet with one of two
    // schedules is that schedule's; given to every dose, it halved the
    // day's total (105 mg passed as 60). Each dose is then read as a whole
    // tablet (higher than written, never lower) and the count reported.
    if frequency.as_deref().is_some_and(|f| f.contains(" + "))
        && let Some(count) = units_per_dose.filter(|c| *c < 1.0)
    {
        unparsed.push(format!("{} tab", trim_number(count)));
        units_per_dose = None;
    }
    // Drugs joined in one sig share its one schedule, but a tablet count is
    // one drug's (`baclofen 30 mg tid, lisinopril 10 mg half tab daily`):
    // a part of a tablet, given to all, halved the baclofen. It is reported
    // instead.
    // A count above one, given to all, reads the others higher than
    // written, never lower, and stays.
    if joined_drugs && let Some(count) = units_per_dose.filter(|c| *c < 1.0) {
        unparsed.push(format!("{} tab", trim_number(count)));
        units_per_dose = None;
    }
    if one_at_a_time
        && let Some(most) = frequency
            .as_deref()
            .and_then(|f| f.split(" + ").filter_map(per_day_of).max_by(f64::total_cmp))
    {
        doses_per_day = Some(most);
    }
    // One volume with a schedule is the dose (`5 mg/5 mL 10 mL tds`); one
    // with none is the bottle (`473 mL`); two cannot be told apart.
    let dose_ml = match volumes.as_slice() {
        [ml] if frequency.is_some() => Some(*ml),
        [_] | [] => None,
        several => {
            unparsed.extend(several.iter().map(|ml| format!("{ml}ml")));
            None
        }
    };
    // A tablet, capsule or syrup is taken by mouth, though `po` is not
    // written (`Dantrium 50 mg caps tds`).
    if route.is_none()
        && text
            .split_whitespace()
            .any(|w| ORAL_FORMS.contains(&w.trim_matches(|c: char| !c.is_alphanumeric())))
    {
        route = Some("oral".to_owned());
    }
    if let Some(ingredient) = stated_totals
        .first()
        .and_then(|(k, _)| ingredients.get_mut(*k))
    {
        let totals: Vec<_> = stated_totals.into_iter().map(|(_, t)| t).collect();
        let reading = (doses_per_day, units_per_dose);
        daily_total |= settle_daily_totals(ingredient, &totals, reading, &mut unparsed);
    }
    if beyond_schedule {
        // `tid and prn`: not at most tid, as `tid prn` is; the day's total
        // has no bound, so it is not checked (and said so).
        frequency = Some(match frequency {
            Some(fixed) => format!("{fixed} + prn"),
            None => "prn".to_owned(),
        });
        doses_per_day = None;
    }
    // A joined drug's day total is never taken in part: a half tablet of
    // the other drug (`and magnesium 400 mg half tab daily`) would halve it.
    if joined_total && units_per_dose.is_some_and(|u| u < 1.0) {
        units_per_dose = None;
    }
    if daily_total {
        // The strength is already the day's total: one "dose" a day.
        frequency.get_or_insert_with(|| "daily".to_owned());
        doses_per_day = Some(1.0);
        units_per_dose = None;
    }
    MedText {
        input: input.to_owned(),
        ingredients,
        brand_hint,
        route,
        frequency,
        doses_per_day,
        units_per_dose,
        dose_ml,
        unparsed,
    }
}

/// What a bare number before the strength is.
#[derive(Debug, PartialEq)]
enum Leading {
    /// The tablets a dose: `2 20 mg tabs`, `take 2 20mg tablets`, `2
    /// baclofen 20 mg`.
    Count(f64),
    /// A count, or the thousands of the number after it written with a
    /// space (`2 250 mg`: 2 x 250 mg, or 2250 mg?): reported.
    Unsure,
    /// No count: the next number is no mass (`1 ML ... 150 MG/ML`, a
    /// package), or it is above ten.
    No,
}

/// Reads the bare number `num` at `tokens[i]`, written before any
/// strength. Dropped as a package quantity, `2 20 mg tabs tid` was read as
/// one tablet, half the dose written.
fn leading_count(tokens: &[String], i: usize, num: &str) -> Leading {
    let Some(count) = count_value(num).filter(|c| *c <= MAX_UNITS_PER_DOSE) else {
        return Leading::No;
    };
    let Some(j) =
        (i + 1..tokens.len()).find(|&j| tokens[j].starts_with(|c: char| c.is_ascii_digit()))
    else {
        return Leading::No;
    };
    let Some(caps) = NUMBER_UNIT.captures(&tokens[j]) else {
        return Leading::No;
    };
    let unit = caps
        .name("unit")
        .map(|m| m.as_str())
        .or(tokens.get(j + 1).map(String::as_str))
        .map(normalize_unit);
    if !matches!(unit.as_deref(), Some("mg" | "mcg" | "g")) {
        return Leading::No;
    }
    let digits = |n: &str| n.bytes().all(|b| b.is_ascii_digit());
    let thousands = j == i + 1 && digits(num) && caps["num"].len() == 3 && digits(&caps["num"]);
    match thousands {
        true => Leading::Unsure,
        false => Leading::Count(count),
    }
}

/// A daily total as written, `120mg/day`, to report it.
fn written_total((num, unit): &(String, Option<String>)) -> String {
    format!("{num}{}/day", unit.as_deref().unwrap_or(""))
}

/// Daily totals written beside a strength a dose (`40 mg tid (120 mg/day)`,
/// `10 mg tablets: 100 mg/day`), for `ingredient`, given the `(doses a
/// day, tablets a dose)` read. With a schedule, the strength a dose and the
/// schedule stand: a total that agrees restates them, one that does not is
/// reported. With no schedule, the first total is the day's amount and
/// becomes the strength: `true`. (Every total had made the strength a dose
/// the day's amount, throwing the schedule away: `40 mg tid (120 mg/day)`
/// was 40 mg/day.)
fn settle_daily_totals(
    ingredient: &mut IngredientText,
    totals: &[(String, Option<String>)],
    (doses_per_day, units): (Option<f64>, Option<f64>),
    unparsed: &mut Vec<String>,
) -> bool {
    let as_strength = |(num, unit): &(String, Option<String>)| {
        let value = num.parse::<f64>().ok()?;
        Some(Strength {
            value,
            unit: unit.clone(),
        })
    };
    let Some(per_day) = doses_per_day else {
        let Some((first, rest)) = totals.split_first() else {
            return false;
        };
        match as_strength(first) {
            Some(total) => ingredient.strength = Some(total),
            None => unparsed.push(written_total(first)),
        }
        unparsed.extend(rest.iter().map(written_total));
        return true;
    };
    let read = ingredient
        .strength
        .as_ref()
        .and_then(Strength::as_mg)
        .map(|mg| mg * units.unwrap_or(1.0) * per_day);
    for total in totals {
        let stated = as_strength(total).as_ref().and_then(Strength::as_mg);
        let agrees = read
            .zip(stated)
            .is_some_and(|(read, stated)| (read - stated).abs() <= 1e-6 * stated.max(1.0));
        if !agrees {
            unparsed.push(written_total(total));
        }
    }
    false
}

/// Splits the text into tokens on white space, keeping "/" inside tokens.
fn tokenize(text: &str) -> Vec<String> {
    // Glue "500 mg" style pairs later; here only separate on spaces and
    // detach a trailing unit glued with a space-less slash (rare).
    text.split_whitespace()
        .map(|t| {
            let t = t.trim_matches(|c: char| matches!(c, '(' | ')' | ';' | ':' | '"'));
            // `300mg.` or `10 mg. tid.` ending a sentence; a name keeps its
            // dots (`no.`).
            let bare = t.trim_end_matches('.');
            let sig_word = UNITS.contains(&bare)
                || DOSE_UNIT_WORDS.contains(&bare)
                || FREQUENCIES.iter().any(|(f, _, _)| *f == bare);
            match t.starts_with(|c: char| c.is_ascii_digit()) || sig_word {
                true => bare.to_owned(),
                false => t.to_owned(),
            }
        })
        // A `+` or `&` alone joins two names (`quinine + magnesium`): kept as the
        // word that says so, for the resolver to read each name.
        .map(|t| {
            if t == "+" || t == "&" {
                "and".to_owned()
            } else {
                t
            }
        })
        // A full stop or dash left alone between words says nothing.
        .filter(|t| t.chars().any(char::is_alphanumeric) || UNITS.contains(&t.as_str()) || t == "/")
        .collect()
}

fn normalize_unit(unit: &str) -> String {
    match unit {
        "µg" | "ug" | "microgram" | "micrograms" => "mcg",
        "milligram" | "milligrams" | "mgs" => "mg",
        "gm" | "gram" | "grams" => "g",
        "units" | "iu" | "unt" => "unit",
        other => other,
    }
    .to_owned()
}

/// A token mixing digits and letters that is not a known unit form, e.g.
/// `500mgg` or `10x`: a dose the parser cannot read.
fn looks_like_dose(tok: &str) -> bool {
    tok.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// Whether a number with this unit (none, or mL) is a quantity rather than
/// a strength when a real strength is written too: `1 ML Depo-Provera 150
/// MG/ML`.
fn is_quantity_unit(unit: &Option<String>) -> bool {
    matches!(unit.as_deref(), None | Some("ml"))
}

/// Assigns strengths to `n` ingredient parts: "25/100" gives one value per
/// part; a single strength goes to a single part.
fn split_strengths(
    tokens: &[(String, Option<String>)],
    n: usize,
    unparsed: &mut Vec<String>,
) -> Vec<Option<Strength>> {
    let mut out = vec![None; n.max(1)];
    // "1 ML Depo-Provera 150 MG/ML": a volume or bare count before a real
    // strength is the package quantity.
    let tokens: Vec<&(String, Option<String>)> = if tokens.len() > 1 {
        let real: Vec<_> = tokens
            .iter()
            .filter(|(_, u)| !is_quantity_unit(u))
            .collect();
        if real.is_empty() {
            tokens.iter().collect()
        } else {
            real
        }
    } else {
        tokens.iter().collect()
    };
    let Some((num, unit)) = tokens.first().copied() else {
        return out;
    };
    for extra in tokens.iter().skip(1) {
        unparsed.push(match &extra.1 {
            Some(u) => format!("{}{u}", extra.0),
            None => extra.0.clone(),
        });
    }
    let values: Vec<f64> = num.split('/').filter_map(|v| v.parse().ok()).collect();
    // `1 000 mg` (a space between thousands) leaves `000 mg`: a strength of
    // nothing is no strength, and is reported.
    if values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        unparsed.push(match unit {
            Some(u) => format!("{num}{u}"),
            None => num.clone(),
        });
        return out;
    }
    if values.len() == n {
        for (slot, value) in out.iter_mut().zip(values) {
            *slot = Some(Strength {
                value,
                unit: unit.clone(),
            });
        }
    } else if values.len() == 1 && n >= 1 {
        out[0] = Some(Strength {
            value: values[0],
            unit: unit.clone(),
        });
    } else {
        unparsed.push(num.clone());
    }
    out
}

/// Finds a whole-word phrase in `text`, returning its byte position.
fn find_phrase(text: &str, phrase: &str) -> Option<usize> {
    let mut start = 0;
    while let Some(found) = text[start..].find(phrase) {
        let pos = start + found;
        let before_ok = pos == 0 || !text.as_bytes()[pos - 1].is_ascii_alphanumeric();
        let end = pos + phrase.len();
        let after_ok = end == text.len() || !text.as_bytes()[end].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return Some(pos);
        }
        start = pos + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(m: &MedText) -> Vec<&str> {
        m.ingredients.iter().map(|i| i.name.as_str()).collect()
    }

    /// Asserts that `text` is baclofen read in full with this schedule and
    /// tablet count.
    fn assert_reads(text: &str, frequency: &str, per_day: f64, units: Option<f64>) {
        let m = parse_med(text);
        assert_eq!(m.frequency.as_deref(), Some(frequency), "{text}");
        assert_eq!(m.doses_per_day, Some(per_day), "{text}");
        assert_eq!(m.units_per_dose, units, "{text}");
        assert_eq!(names(&m), ["baclofen"], "{text}");
        assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
    }

    #[test]
    fn a_list_number_is_passed_over_but_a_leading_strength_is_not() {
        for (input, rest) in [
            ("1. Tylenol #3", "Tylenol #3"),
            (" 12) baclofen 10 mg", "baclofen 10 mg"),
            ("#1 Tylenol 3", "Tylenol 3"),
            ("# 2 warfarin", "warfarin"),
            ("(3) warfarin", "warfarin"),
            ("4: digoxin", "digoxin"),
            ("5 - aspirin", "aspirin"),
            ("1.) Tylenol #3", "Tylenol #3"),
            ("#1. Tylenol #4", "Tylenol #4"),
            ("#1 - Tylenol #4", "Tylenol #4"),
            ("1.5 mg lorazepam", "1.5 mg lorazepam"),
            ("2) 10 mg baclofen", "2) 10 mg baclofen"),
            ("5 - 10 mg", "5 - 10 mg"),
            ("1 Tylenol #3", "1 Tylenol #3"),
            ("2 tabs baclofen", "2 tabs baclofen"),
            ("1. 5 mg", "1. 5 mg"),
            ("1234. baclofen", "1234. baclofen"),
        ] {
            assert_eq!(without_list_number(input), rest, "{input}");
        }
        let m = parse_med("2. baclofen 10 mg tid");
        assert_eq!(names(&m), vec!["baclofen"]);
        assert_eq!(
            m.ingredients[0].strength.as_ref().map(|s| s.value),
            Some(10.0)
        );
    }

    #[test]
    fn micrograms_are_read_with_the_micro_sign_or_the_greek_mu() {
        for text in [
            "baclofen 50 µg intrathecal daily",
            "baclofen 50 μg intrathecal daily",
            "BACLOFEN 50 µG INTRATHECAL DAILY",
        ] {
            let m = parse_med(text);
            let strength = m.ingredients[0].strength.as_ref();
            assert_eq!(
                strength.map(|s| (s.value, s.unit.as_deref())),
                Some((50.0, Some("mcg"))),
                "{text}"
            );
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
        // As typed in messages: the lowercase word would read as `μg`.
        assert_eq!(as_typed("μg", "BACLOFEN 30 ΜG QID"), "ΜG");
        assert_eq!(as_typed("30μg", "baclofen 30ΜG qid"), "30ΜG");
        assert_eq!(as_typed("μg", "no such word"), "Μg");
        assert_eq!(as_typed("zorblax", "aspirin Zorblax"), "zorblax");
        // A capital Greek Mu looks like the M of MG: it is no unit read (the
        // resolver reports the word), not 30 micrograms.
        let m = parse_med("BACLOFEN 30 ΜG QID");
        let strength = m.ingredients[0].strength.as_ref();
        assert_eq!(strength.map(|s| s.unit.as_deref()), Some(None));
    }

    #[test]
    fn numbers_that_are_no_tablet_count_are_not_read_as_one() {
        // A duration (UK `2/52`: two weeks) is no dose; a date is reported.
        let m = parse_med("baclofen 30 mg qds 2/52");
        assert_eq!((m.units_per_dose, m.unparsed.len()), (None, 0));
        let m = parse_med("baclofen 20 mg qid 6/15");
        assert_eq!(
            (m.units_per_dose, m.unparsed.clone()),
            (None, vec!["6/15".to_owned()])
        );
        // After a schedule or a day word a number is no count: reported.
        for (text, unread) in [
            ("baclofen 10 mg tid x 5", "5"),
            ("baclofen 10 mg tid 2", "2"),
            ("baclofen 10 mg day 1-3 then qid", "3"),
        ] {
            let m = parse_med(text);
            assert_eq!(m.units_per_dose, None, "{text}");
            assert_eq!(m.unparsed, [unread], "{text}");
        }
        // Mixed numbers are whole.
        for text in [
            "baclofen 20 mg 1½ tabs qds",
            "baclofen 20 mg 1 1/2 tabs qds",
            "baclofen 20 mg one and a half tabs qds",
        ] {
            assert_eq!(parse_med(text).units_per_dose, Some(1.5), "{text}");
        }
        // A decimal before a half is no mixed number; `½-1` is up to one.
        let m = parse_med("Madopar 62.5 1/2 cap tds");
        assert!(
            !m.unparsed.iter().any(|u| u.contains("62.5.5")),
            "{:?}",
            m.unparsed
        );
        assert_eq!(
            parse_med("baclofen 10 mg ½-1 tab tds").units_per_dose,
            Some(1.0)
        );
        // The multiplication sign is an `x`.
        assert_eq!(
            parse_med("baclofen 2 × 20 mg qds").units_per_dose,
            Some(2.0)
        );
        // `x 4 daily` is four times a day, not four tablets.
        let m = parse_med("baclofen 20 mg 2 tabs x 4 daily");
        assert_eq!((m.units_per_dose, m.doses_per_day), (Some(2.0), Some(4.0)));
        // A range of schedules or hours counts its most doses, either way round.
        for (text, frequency) in [
            ("baclofen 30 mg tid or bid", "tid"),
            ("baclofen 20 mg qid-tid", "qid"),
            ("baclofen 10 mg 4 - 6 hourly", "q4h"),
            ("baclofen 10 mg every 4 to 6 hours", "q4h"),
            ("baclofen 10 mg. 2 tabs tid.", "tid"),
        ] {
            assert_eq!(
                parse_med(text).frequency.as_deref(),
                Some(frequency),
                "{text}"
            );
        }
        // Epic's sig: the total in brackets and the spelled-out count.
        let m = parse_med(
            "baclofen 10 mg tablet Take 1 tablet (10 mg total) by mouth 3 (three) times daily.",
        );
        assert_eq!((m.frequency.as_deref(), m.unparsed.len()), (Some("tid"), 0));
        assert_eq!(names(&m), ["baclofen"]);
    }

    #[test]
    fn doses_at_several_times_of_day_add_up() {
        let mg_a_day = |text: &str| {
            let m = parse_med(text);
            let mg = m.ingredients[0]
                .strength
                .as_ref()
                .and_then(Strength::as_mg)?;
            Some(mg * m.units_per_dose.unwrap_or(1.0) * m.doses_per_day?)
        };
        assert_eq!(
            mg_a_day("baclofen 20 mg 1 tab mane and 2 tabs nocte"),
            Some(60.0)
        );
        assert_eq!(
            mg_a_day("baclofen 10mg 1 tab om 1 tab midday 2 tabs on"),
            Some(40.0)
        );
        assert_eq!(mg_a_day("baclofen 40 mg mane 50 mg nocte"), Some(90.0));
        assert_eq!(mg_a_day("magnesium 400 mg am and 400 mg pm"), Some(800.0));
        // Two schedules in one sig: both shown, their doses added, so the
        // total is never read lower than written.
        let m = parse_med(
            "baclofen 20 mg Take 1 tablet 3 (three) times daily. Take 2 tablets at bedtime.",
        );
        assert_eq!(m.frequency.as_deref(), Some("tid + nightly"));
        assert_eq!(m.doses_per_day, Some(4.0));
        // As needed on a schedule, and another schedule: both counted.
        let m = parse_med("baclofen 10 mg tid prn and 2 tabs at night");
        assert_eq!(m.frequency.as_deref(), Some("nightly + tid prn"));
        assert_eq!(m.doses_per_day, Some(4.0));
        // One schedule said twice over is one.
        for text in [
            "baclofen 10 mg q8h (three times daily)",
            "baclofen 10 mg daily at bedtime",
            "baclofen 10 mg bid (twice daily)",
        ] {
            assert!(
                !parse_med(text).frequency.unwrap_or_default().contains('+'),
                "{text}"
            );
        }
        // A fraction is a count; bedtime, qhs and every night are times.
        assert_eq!(
            mg_a_day("baclofen 20 mg 1/2 tab mane and 5 tabs nocte"),
            Some(110.0)
        );
        assert_eq!(
            mg_a_day("baclofen 10 mg 2 tabs mane, 2 tabs midday, 5 tabs at bedtime"),
            Some(90.0)
        );
        assert_eq!(
            mg_a_day("baclofen 10 mg 1 tab qam and 2 tabs qhs"),
            Some(30.0)
        );
        assert_eq!(
            mg_a_day("baclofen 10 mg 1 tab every morning and 1 tab every night"),
            Some(20.0)
        );
        assert_eq!(
            mg_a_day("baclofen 10 mg 1 tablet daily and 1 tablet at bedtime"),
            Some(20.0)
        );
        // Steps and ceilings are never taken on one day: the most counts.
        assert_eq!(mg_a_day("baclofen 20 mg bid x 3 days then tid"), Some(60.0));
        assert_eq!(mg_a_day("baclofen 20 mg tid, max qid"), Some(80.0));
        assert_eq!(
            mg_a_day("baclofen 10 mg 1 tab daily x 7 days then 2 tabs daily"),
            Some(20.0)
        );
        // A schedule restated in brackets is one schedule.
        assert_eq!(
            mg_a_day("baclofen 20 mg 1 tab qid (with meals and at bedtime)"),
            Some(80.0)
        );
        // Ranges of hours keep the shorter interval, whatever their form.
        for text in [
            "baclofen 10 mg 1 tab every 2-3 hours",
            "baclofen 10 mg 2-3 hourly",
        ] {
            assert_eq!(parse_med(text).frequency.as_deref(), Some("q2h"), "{text}");
        }
        // One time of day is one dose.
        assert_eq!(mg_a_day("baclofen 10 mg 2 tabs nocte"), Some(20.0));
    }

    #[test]
    fn two_once_a_day_times_are_two_doses() {
        let per_day = |text: &str| parse_med(text).doses_per_day;
        for text in [
            "baclofen 50 mg qam and qpm",
            "baclofen 50 mg mane and nocte",
            "baclofen 50 mg om and on",
            "baclofen 50 mg in the morning and at night",
            "baclofen 50 mg daily and at bedtime",
            "baclofen 45 mg qam and qhs",
            "quinine 200 mg every morning and every night",
            "baclofen 45 mg nocte and 1 tab mane",
            "baclofen 25 mg daily, 3 tabs at bedtime",
        ] {
            assert_eq!(per_day(text), Some(2.0), "{text}");
        }
        assert_eq!(
            parse_med("baclofen 50 mg mane and nocte")
                .frequency
                .as_deref(),
            Some("daily + nightly")
        );
        // One time of day said twice, or a daily dose said with its time,
        // is one dose; a schedule restated is one schedule.
        for text in [
            "baclofen 10 mg daily at bedtime",
            "baclofen 10 mg once daily in the morning",
            "baclofen 10 mg qhs daily",
            "baclofen 10 mg nocte at night",
            "baclofen 10 mg qhs (at bedtime)",
        ] {
            assert_eq!(per_day(text), Some(1.0), "{text}");
        }
        for (text, doses) in [
            ("baclofen 10 mg bid (twice daily)", 2.0),
            ("baclofen 10 mg tid three times a day", 3.0),
            ("baclofen 10 mg twice daily at bedtime", 3.0),
        ] {
            assert_eq!(per_day(text), Some(doses), "{text}");
        }
    }

    #[test]
    fn every_day_each_day_and_every_n_hour_are_read() {
        for (sig, frequency, per_day, units) in [
            ("every day", "daily", 1.0, None),
            ("each day", "daily", 1.0, None),
            ("2 tabs every day", "daily", 1.0, Some(2.0)),
            ("every day at bedtime", "nightly", 1.0, None),
            ("every 4 hour", "q4h", 6.0, None),
            ("q 6 hour", "q6h", 4.0, None),
            ("every six hour", "q6h", 4.0, None),
            ("every 4-6 hour", "q4h", 6.0, None),
        ] {
            assert_reads(&format!("baclofen 30 mg {sig}"), frequency, per_day, units);
        }
    }

    #[test]
    fn a_schedule_after_an_indication_note_is_kept() {
        for (text, frequency, per_day) in [
            ("baclofen 30 mg for spasticity qid", "qid", Some(4.0)),
            (
                "baclofen 30 mg for spasticity three times a day",
                "tid",
                Some(3.0),
            ),
            (
                "baclofen 30 mg for spasticity every 6 hours",
                "q6h",
                Some(4.0),
            ),
            ("baclofen 30 mg for spasticity q6h", "q6h", Some(4.0)),
            (
                "baclofen 10 mg for leg cramps at night",
                "nightly",
                Some(1.0),
            ),
            ("baclofen 10 mg (for spasticity) bid", "bid", Some(2.0)),
            ("baclofen 10 mg for spasms as needed", "prn", None),
            // A trailing note is read past, as before.
            ("baclofen 10 mg tid for leg cramps", "tid", Some(3.0)),
        ] {
            let m = parse_med(text);
            assert_eq!(names(&m), ["baclofen"], "{text}");
            assert_eq!(m.frequency.as_deref(), Some(frequency), "{text}");
            assert_eq!(m.doses_per_day, per_day, "{text}");
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
        // A dose after the note: the note is left, to be reported.
        let m = parse_med("baclofen 30 mg for spasticity 2 tabs qid");
        assert_eq!(names(&m), ["baclofen spasticity"]);
    }

    #[test]
    fn a_second_count_beside_a_bare_one_is_reported() {
        for (text, units, unread) in [
            ("baclofen 20 mg 2 tabs 3 a day", 2.0, "3"),
            ("baclofen 20 mg 2 tabs 3 per day", 2.0, "3"),
            ("baclofen 20 mg 2 tabs 3 daily", 2.0, "3"),
            ("baclofen 20 mg 3 a day 2 tabs", 3.0, "2 tabs"),
        ] {
            let m = parse_med(text);
            assert_eq!(m.units_per_dose, Some(units), "{text}");
            assert_eq!(m.unparsed, [unread], "{text}");
        }
        // Two counts with their unit words, each with its schedule: the
        // larger, as before.
        let m = parse_med("baclofen 10 mg 1 tab tid and 2 tabs at night");
        assert_eq!((m.units_per_dose, m.unparsed.len()), (Some(2.0), 0));
    }

    #[test]
    fn a_bare_count_before_the_strength_is_read_or_reported() {
        for text in [
            "baclofen 2 20 mg tabs tid",
            "baclofen take 2 20mg tablets three times daily",
            "2 baclofen 20 mg tabs tid",
        ] {
            let m = parse_med(text);
            assert_eq!(m.units_per_dose, Some(2.0), "{text}");
            assert_eq!(names(&m), ["baclofen"], "{text}");
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
        // `2 250 mg`: 2 x 250 mg, or 2250 mg written with a space?
        let m = parse_med("methocarbamol 2 250 mg qid");
        assert_eq!(
            (m.units_per_dose, m.unparsed.clone()),
            (None, vec!["2".to_owned()])
        );
        // A count with its word, and another before the strength: reported.
        let m = parse_med("baclofen 2 20 mg 1 tab tid");
        assert_eq!(m.unparsed, ["1 tab"]);
        // A package before a strength per volume is no count.
        let m = parse_med("1 ML Depo-Provera 150 MG/ML Injection");
        assert_eq!((m.units_per_dose, m.unparsed.len()), (None, 0));
    }

    #[test]
    fn a_volume_after_a_mass_strength_is_reported() {
        for (text, unread) in [
            ("baclofen 5 mg 25 mL qds", "25ml"),
            ("baclofen 10 mg, 20 ml tid", "20ml"),
        ] {
            let m = parse_med(text);
            assert_eq!(m.unparsed, [unread], "{text}");
            assert_eq!(m.dose_ml, None, "{text}");
        }
        // What the mass is in: the mass is the dose, as before.
        let m = parse_med("magnesium sulfate 4 g in 100 mL IV");
        assert_eq!(
            m.ingredients[0].strength.as_ref().and_then(Strength::as_mg),
            Some(4000.0)
        );
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
    }

    #[test]
    fn a_daily_total_beside_a_schedule_keeps_the_schedule() {
        let mg_a_day = |m: &MedText| {
            let mg = m.ingredients[0]
                .strength
                .as_ref()
                .and_then(Strength::as_mg)?;
            Some(mg * m.units_per_dose.unwrap_or(1.0) * m.doses_per_day?)
        };
        for text in [
            "baclofen 40 mg tid (120 mg/day)",
            "baclofen 40 mg tid = 120 mg/day",
            "baclofen 20 mg 2 tabs tid (120 mg/day)",
        ] {
            let m = parse_med(text);
            assert_eq!(m.frequency.as_deref(), Some("tid"), "{text}");
            assert_eq!(mg_a_day(&m), Some(120.0), "{text}");
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
        // A total that disagrees with the schedule is reported.
        let m = parse_med("baclofen 40 mg tid (150 mg/day)");
        assert_eq!(
            (mg_a_day(&m), m.unparsed.clone()),
            (Some(120.0), vec!["150mg/day".to_owned()])
        );
        // With no schedule, the total is the day's amount.
        let m = parse_med("baclofen 10 mg tablets: 50 mg mane, 50 mg nocte");
        assert_eq!(mg_a_day(&m), Some(100.0));
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
        // A total alone, with or without a schedule, is the day's amount.
        assert_eq!(mg_a_day(&parse_med("baclofen 200mg/day tid")), Some(200.0));
    }

    #[test]
    fn a_dose_added_to_a_schedule_is_not_read_as_a_restatement_or_a_limit() {
        let m = parse_med("baclofen 25 mg tid (and at night)");
        assert_eq!(m.frequency.as_deref(), Some("nightly + tid"));
        assert_eq!(m.doses_per_day, Some(4.0));
        // Said again in brackets, as before: one schedule.
        let m = parse_med("baclofen 20 mg qid (with meals and at bedtime)");
        assert_eq!(m.doses_per_day, Some(4.0));
        for text in [
            "baclofen 20 mg tid and prn",
            "baclofen 20 mg tid plus as needed",
        ] {
            let m = parse_med(text);
            assert_eq!(m.frequency.as_deref(), Some("tid + prn"), "{text}");
            assert_eq!(m.doses_per_day, None, "{text}");
            assert_eq!(names(&m), ["baclofen"], "{text}");
        }
        // `tid prn` is at most tid, as before.
        assert_eq!(parse_med("baclofen 20 mg tid prn").doses_per_day, Some(3.0));
    }

    #[test]
    fn a_bottle_is_not_a_dose() {
        // One volume with a schedule is the dose; with none, the bottle.
        assert_eq!(
            parse_med("baclofen 5 mg per 5 mL 30 mL qid").dose_ml,
            Some(30.0)
        );
        // Two measures a dose: a count and a volume.
        let m = parse_med("baclofen 5 mg/5 mL 2 x 15 mL qds");
        assert_eq!((m.dose_ml, m.units_per_dose), (Some(15.0), Some(2.0)));
        assert_eq!(
            parse_med("baclofen 5 mg/5 mL 7 1/2 mL tds").dose_ml,
            Some(7.5)
        );
        assert_eq!(parse_med("Ozobax 5 mg/5 mL 473 mL").dose_ml, None);
        // Two volumes cannot be told apart: reported.
        let m = parse_med("baclofen 5 mg/5 mL 150 mL take 10 mL tid");
        assert_eq!(m.dose_ml, None);
        assert_eq!(m.unparsed, ["150ml", "10ml"]);
    }

    #[test]
    fn a_volume_after_a_per_volume_strength_is_the_dose() {
        let m = parse_med("baclofen 5 mg/5 mL 30 mL qid");
        assert_eq!(m.dose_ml, Some(30.0));
        let strength = m.ingredients[0].strength.clone();
        assert_eq!(strength.and_then(|s| s.mg_in_volume(30.0)), Some(30.0));
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
        // A volume before the strength is the pack (RxNorm).
        assert_eq!(
            parse_med("1 ML Depo-Provera 150 MG/ML Injection").dose_ml,
            None
        );
        // A tablet strength has no mass in a volume.
        let tablet = Strength {
            value: 10.0,
            unit: Some("mg".to_owned()),
        };
        assert_eq!(tablet.mg_in_volume(5.0), None);
    }

    #[test]
    fn other_ways_of_writing_a_schedule_or_count_are_read() {
        for (sig, frequency, per_day, units) in [
            ("i bd", "bid", 2.0, Some(1.0)),
            ("tab ii po tid", "tid", 3.0, Some(2.0)),
            ("qod", "qod", 0.5, None),
            ("every other day", "qod", 0.5, None),
            ("6 hourly", "q6h", 4.0, None),
            ("6-hourly", "q6h", 4.0, None),
            ("q 6 h", "q6h", 4.0, None),
            ("q6 hrs", "q6h", 4.0, None),
            ("every six hours", "q6h", 4.0, None),
            ("q4-6h", "q4h", 6.0, None),
            ("tid-qid", "qid", 4.0, None),
            ("three to four times daily", "qid", 4.0, None),
            ("up to qid", "qid", 4.0, None),
            ("5 times daily", "5 times daily", 5.0, None),
            ("five times a day", "5 times daily", 5.0, None),
            ("two tabs bd", "bid", 2.0, Some(2.0)),
            ("one to two tabs tds", "tid", 3.0, Some(2.0)),
            ("one or two tablets qds", "qid", 4.0, Some(2.0)),
            ("i-ii tds", "tid", 3.0, Some(2.0)),
            ("1 or 2 tabs qds", "qid", 4.0, Some(2.0)),
            ("½ tab od", "daily", 1.0, Some(0.5)),
            ("qds pc", "qid", 4.0, None),
            ("tid with food", "tid", 3.0, None),
        ] {
            assert_reads(&format!("baclofen 20 mg {sig}"), frequency, per_day, units);
        }
        // The reason for an as-needed dose is not a name; a schedule after
        // it is kept, and one of several words is never cut in half.
        for (text, frequency) in [
            ("baclofen 10 mg prn muscle spasm", "prn"),
            ("baclofen 10 mg prn spasm tid", "tid prn"),
            ("baclofen 10 mg prn twice daily", "bid prn"),
            ("baclofen 10 mg up to 4 times daily", "qid"),
        ] {
            let m = parse_med(text);
            assert_eq!(
                (names(&m), m.frequency.as_deref()),
                (vec!["baclofen"], Some(frequency)),
                "{text}"
            );
        }
        let m = parse_med("baclofen 10 mg prn cramps twice daily");
        assert_eq!(m.frequency.as_deref(), Some("bid prn"));
        assert_eq!(names(&m), ["baclofen cramps"], "the reason is reported");
        // `300 mgs`, `.3 g`, and a full stop after the dose.
        for text in [
            "quinine 300 mgs nocte",
            "quinine .3 g nocte",
            "quinine 300mg. nocte",
        ] {
            let mg = parse_med(text).ingredients[0]
                .strength
                .as_ref()
                .and_then(Strength::as_mg);
            assert_eq!(mg, Some(300.0), "{text}");
        }
        // `iv` stays a route, not a count.
        assert_eq!(
            parse_med("magnesium sulfate 2 g iv").route.as_deref(),
            Some("iv")
        );
    }

    #[test]
    fn a_bare_count_beside_a_strength_is_tablets_a_dose() {
        for (text, count) in [
            ("baclofen 2 x 20mg qid", 2.0),
            ("baclofen 20mg x 2 qid", 2.0),
            ("baclofen 20 mg, 2 qid", 2.0),
            ("baclofen 20mg 2 qds", 2.0),
            ("baclofen 20mg 1-2 qds", 2.0),
            ("quinine sulfate 200 mg 2 nocte", 2.0),
        ] {
            let m = parse_med(text);
            assert_eq!(m.units_per_dose, Some(count), "{text}");
            assert_eq!(
                m.ingredients[0].strength.as_ref().and_then(Strength::as_mg),
                Some(if text.starts_with("quinine") {
                    200.0
                } else {
                    20.0
                }),
                "{text}"
            );
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
        // A duration is not a count; a count beyond ten is reported unread.
        let m = parse_med("baclofen 10 mg tid x 2 weeks");
        assert_eq!((m.units_per_dose, m.unparsed.len()), (None, 0));
        let m = parse_med("baclofen 20mg 30 qds");
        assert_eq!(m.units_per_dose, None);
        assert_eq!(m.unparsed, ["30"]);
        // A bare number before the strength is still a pack quantity.
        let m = parse_med("1 ML Depo-Provera 150 MG/ML Injection");
        assert_eq!(m.units_per_dose, None);
    }

    #[test]
    fn injections_and_infusions_are_not_taken_by_mouth() {
        let m = parse_med("Magnesium Sulfate 500 MG/ML Injectable Solution");
        assert_eq!(m.route.as_deref(), Some("parenteral"));
        assert!(!m.may_reach_gut());
        // The written route wins over the form word; the infusion time is
        // not a dose.
        let m = parse_med("magnesium sulfate 4 g IV infusion over 20 min");
        assert_eq!(m.route.as_deref(), Some("iv"));
        assert_eq!(m.ingredients[0].name, "magnesium sulfate");
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
        for oral in [
            "magnesium oxide 400 mg po",
            "magnesium oxide 400 mg",
            "Mag-Tab SR 1 tab bid",
        ] {
            assert!(parse_med(oral).may_reach_gut(), "{oral}");
        }
    }

    #[test]
    fn sig_style_string() {
        let m = parse_med("clarithromycin 500 mg PO BID");
        assert_eq!(names(&m), ["clarithromycin"]);
        let s = m.ingredients[0].strength.clone();
        assert_eq!(
            s,
            Some(Strength {
                value: 500.0,
                unit: Some("mg".into())
            })
        );
        assert_eq!(m.route.as_deref(), Some("oral"));
        assert_eq!(m.frequency.as_deref(), Some("bid"));
        assert_eq!(m.doses_per_day, Some(2.0));
        assert!(m.unparsed.is_empty());
    }

    #[test]
    fn rxnorm_combination_with_salt_and_form() {
        let m = parse_med("Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet");
        assert_eq!(names(&m), ["acetaminophen", "oxycodone hydrochloride"]);
        assert_eq!(
            m.ingredients[1].strength.as_ref().map(|s| s.value),
            Some(5.0)
        );
        assert_eq!(m.route.as_deref(), Some("oral"));
    }

    #[test]
    fn slash_combination_splits_names_and_strengths() {
        let m = parse_med("carbidopa/levodopa 25/100 tid");
        assert_eq!(names(&m), ["carbidopa", "levodopa"]);
        assert_eq!(
            m.ingredients[1].strength.as_ref().map(|s| s.value),
            Some(100.0)
        );
        assert_eq!(m.doses_per_day, Some(3.0));
    }

    #[test]
    fn brand_in_brackets_and_release_duration() {
        let m = parse_med("Digoxin 0.25 MG Oral Tablet [Lanoxin]");
        assert_eq!(names(&m), ["digoxin"]);
        assert_eq!(m.brand_hint.as_deref(), Some("lanoxin"));
        let m = parse_med("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet");
        assert_eq!(names(&m), ["metformin hydrochloride"]);
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
    }

    #[test]
    fn glued_units_and_brand_suffixes() {
        let m = parse_med("RIFAMPIN 300MG CAP");
        assert_eq!(names(&m), ["rifampin"]);
        assert_eq!(
            m.ingredients[0].strength.as_ref().and_then(Strength::as_mg),
            Some(300.0)
        );
        let m = parse_med("Biaxin XL 500mg daily");
        assert_eq!(names(&m), ["biaxin"]);
        assert_eq!(m.frequency.as_deref(), Some("daily"));
        let m = parse_med("Rifampicin 600mg od");
        assert_eq!(names(&m), ["rifampicin"]);
    }

    #[test]
    fn quantities_are_not_strengths() {
        let m = parse_med("120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler");
        assert_eq!(names(&m), ["fluticasone propionate"]);
        assert_eq!(
            m.ingredients[0].strength.as_ref().map(|s| s.value),
            Some(0.044)
        );
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
        let m = parse_med("take 1 tablet of aspirin 81 mg daily");
        assert_eq!(
            m.ingredients[0].strength.as_ref().map(|s| s.value),
            Some(81.0)
        );
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
    }

    #[test]
    fn package_volume_and_application_numbers_are_not_doses_or_names() {
        let m = parse_med("NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector");
        assert_eq!(names(&m), ["epinephrine"]);
        assert_eq!(
            m.ingredients[0].strength.as_ref().map(|s| s.value),
            Some(1.0)
        );
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
        let m = parse_med("1 ML Depo-Provera 150 MG/ML Injection");
        assert_eq!(names(&m), ["depo-provera"]);
        assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
    }

    #[test]
    fn concentration_units_are_not_names() {
        let m = parse_med("insulin glargine 100 UNT/ML Injection");
        assert_eq!(names(&m), ["insulin glargine"]);
        assert_eq!(
            m.ingredients[0]
                .strength
                .as_ref()
                .and_then(|s| s.unit.clone()),
            Some("unt/ml".to_owned())
        );
    }

    #[test]
    fn unreadable_dose_is_reported_not_dropped() {
        let m = parse_med("baclofen 10mgg tid");
        assert_eq!(names(&m), ["baclofen"]);
        assert_eq!(m.unparsed, ["10mgg"]);
        let m = parse_med("baclofen every 8 hours 10 mg");
        assert_eq!(m.frequency.as_deref(), Some("q8h"));
        assert_eq!(m.doses_per_day, Some(3.0));
    }

    #[test]
    fn a_dose_range_is_read_as_its_upper_bound() {
        for text in ["baclofen 10-20 mg tid", "baclofen 10-20mg tid"] {
            let m = parse_med(text);
            assert_eq!(names(&m), ["baclofen"], "{text}");
            assert_eq!(
                m.ingredients[0].strength.as_ref().map(|s| s.value),
                Some(20.0),
                "{text}"
            );
            assert_eq!(m.doses_per_day, Some(3.0), "{text}");
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
    }

    #[test]
    fn as_needed_keeps_a_fixed_schedule_written_with_it() {
        for text in [
            "baclofen 30 mg tid prn",
            "baclofen 30 mg prn tid",
            "baclofen 30 mg three times daily as needed",
            "baclofen 30 mg tid prn as needed",
        ] {
            let m = parse_med(text);
            assert_eq!(names(&m), ["baclofen"], "{text}");
            assert_eq!(m.frequency.as_deref(), Some("tid prn"), "{text}");
            assert_eq!(m.doses_per_day, Some(3.0), "{text}");
        }
        let m = parse_med("baclofen 10 mg prn every 4 hours");
        assert_eq!(m.frequency.as_deref(), Some("q4h prn"));
        assert_eq!(m.doses_per_day, Some(6.0));
        let m = parse_med("baclofen 10 mg as needed");
        assert_eq!(m.frequency.as_deref(), Some("prn"));
        assert_eq!(m.doses_per_day, None);
    }

    #[test]
    fn uk_latin_and_dotted_schedules_and_notes_are_read() {
        for (text, frequency, per_day) in [
            ("baclofen 10 mg tds", "tid", 3.0),
            ("baclofen 10 mg bd", "bid", 2.0),
            ("baclofen 10 mg qds", "qid", 4.0),
            ("baclofen 10 mg t.i.d.", "tid", 3.0),
            ("baclofen 10 mg b.i.d", "bid", 2.0),
            ("baclofen 10 mg mane", "daily", 1.0),
            ("baclofen 10 mg nocte", "nightly", 1.0),
            ("baclofen 10mg ON", "nightly", 1.0),
            ("baclofen 10 mg o.n.", "nightly", 1.0),
            ("baclofen 10 mg every night", "nightly", 1.0),
            ("baclofen 10 mg 3 times daily", "tid", 3.0),
            ("baclofen 10 mg 2x a day", "bid", 2.0),
            ("baclofen 10 mg 6 times a day", "q4h", 6.0),
            ("baclofen 10 mg a day for 7 days", "daily", 1.0),
            ("baclofen 10 mg tid for leg cramps", "tid", 3.0),
            ("baclofen 10 mg tid (for spasticity)", "tid", 3.0),
        ] {
            let m = parse_med(text);
            assert_eq!(names(&m), ["baclofen"], "{text}");
            assert_eq!(m.frequency.as_deref(), Some(frequency), "{text}");
            assert_eq!(m.doses_per_day, Some(per_day), "{text}");
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
        // "on" is a schedule only when it ends the sig after a dose.
        let m = parse_med("baclofen 10 mg on alternate days");
        assert_eq!(m.frequency.as_deref(), Some("qod"));
        assert_eq!(parse_med("baclofen on").frequency, None);
        // An alias that holds a filler-like word keeps it.
        assert_eq!(
            names(&parse_med("milk of magnesia 30 ml nocte")),
            ["milk of magnesia"]
        );
    }

    #[test]
    fn thousands_commas_and_daily_totals_are_read_and_decimal_commas_are_not() {
        let m = parse_med("baclofen 1,000 mg tid");
        assert_eq!(
            m.ingredients[0].strength.as_ref().map(|s| s.value),
            Some(1000.0)
        );
        let m = parse_med("vitamin d 1,000,000 units weekly");
        assert_eq!(
            m.ingredients[0].strength.as_ref().map(|s| s.value),
            Some(1_000_000.0)
        );
        for text in [
            "baclofen 200 mg/day",
            "baclofen 200mg/day tid",
            "baclofen 0.2 g/day",
            // A patch's rate over 24 hours is its daily amount.
            "baclofen 200 mg/24h",
            "baclofen 200mg/24hr",
            // Units spelled out, as UK prescriptions write them.
            "baclofen 200 milligrams daily",
            "baclofen 200000 micrograms daily",
            "baclofen 0.2 grams daily",
        ] {
            let m = parse_med(text);
            let strength = m.ingredients[0].strength.clone();
            assert_eq!(strength.and_then(|s| s.as_mg()), Some(200.0), "{text}");
            assert_eq!(m.doses_per_day, Some(1.0), "{text}");
        }
        let m = parse_med("baclofen 1,5 mg tid");
        assert_eq!(names(&m), ["baclofen"]);
        assert_eq!(m.ingredients[0].strength, None);
        assert_eq!(m.unparsed, ["1,5 mg"]);
    }

    #[test]
    fn a_per_volume_strength_written_with_a_space_is_one_strength() {
        for text in [
            "baclofen 5 mg/5 mL",
            "baclofen 5mg/5ml",
            "baclofen 5 mg/ 5 ml",
        ] {
            let m = parse_med(text);
            assert_eq!(names(&m), ["baclofen"], "{text}");
            let strength = m.ingredients[0].strength.clone();
            assert_eq!(
                strength.map(|s| (s.value, s.unit)),
                Some((5.0, Some("mg/5ml".to_owned()))),
                "{text}"
            );
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
    }

    #[test]
    fn tablets_per_dose_are_read_and_pack_counts_are_not() {
        for (text, units) in [
            ("baclofen 10 mg 3 tablets qid", Some(3.0)),
            ("Take 2 tabs baclofen 20 mg tid", Some(2.0)),
            ("baclofen 10 mg 1-2 caps tid", Some(2.0)),
            ("baclofen 10mg 1/2 tab tid", Some(0.5)),
            ("baclofen 10 mg tid", None),
            ("Baclofen 10 MG Oral Tablet", None),
            (
                "120 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
                None,
            ),
        ] {
            let m = parse_med(text);
            assert_eq!(names(&m).len(), 1, "{text}");
            assert_eq!(m.units_per_dose, units, "{text}");
            assert!(m.unparsed.is_empty(), "{text}: {:?}", m.unparsed);
        }
        let m = parse_med("baclofen 10 mg 28 tablets tid");
        assert_eq!(m.units_per_dose, None);
        assert_eq!(m.unparsed, ["28 tablets"]);
        assert_eq!(
            m.ingredients[0].strength.as_ref().map(|s| s.value),
            Some(10.0)
        );
    }
}
