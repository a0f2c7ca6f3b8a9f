//! Other ways of writing a sig, rewritten into the forms the medication
//! parser reads: ranges and ceilings of schedules and counts, UK and Epic
//! phrasings, number words and Roman numerals, mixed numbers, doses at
//! several times of day. Each rewrite keeps what the prescriber wrote; none
//! guesses (a form that could mean two things is left to be reported).

use super::med::{DOSE_UNIT_WORDS, DRUG_MARK, FREQUENCIES, QH, ROUTES, compile, count_value};
use regex::Regex;
use std::sync::LazyLock;

/// Number words as sigs write them before `times` or a dose unit.
static NUMBER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(one|two|three|four|five|six|half a|half|½) +(times|tabs?|tablets?|caps?|capsules?)(?-u:\b)",
    )
});
/// `6 hourly`, `6-hourly` (UK).
static HOURLY: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)([0-9]{1,2}) *-? *hourly(?-u:\b)"));
/// `q 6 h`, `q6 hrs`: every N hours written apart.
static Q_SPACED_HOURS: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)q *([0-9]{1,2}) +(?:h|hr|hrs|hour|hours)(?-u:\b)"));
/// `every six hours`: the hours in words.
static EVERY_WORD_HOURS: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)every +(two|three|four|six|eight|twelve) +hours?(?-u:\b)"));
/// A range of hours between doses, `q4-6h`: the shorter interval, the most
/// doses the patient may take.
static Q_HOURS_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?-u:\b)q *([0-9]{1,2}) *(?:-|to) *[0-9]{1,2} *(?:h|hr|hrs|hour|hours)(?-u:\b)")
});
/// Two schedules as a range (`tid-qid`, `bd/tds`, `tid or bid`): the one
/// with more doses a day.
static SCHEDULE_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(od|qd|daily|bid|bd|tid|tds|qid|qds) *(?:-|/|to|or) *(od|qd|daily|bid|bd|tid|tds|qid|qds)(?-u:\b)",
    )
});
/// A range of times a day (`three to four times daily`, `2-3 times`): the
/// larger.
static TIMES_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)([1-6]|one|two|three|four|five|six) *(?:-|to|or) *([1-6]|one|two|three|four|five|six) +times(?-u:\b)",
    )
});
/// `4-6 hourly`, `4 - 6 hourly`: the shorter interval.
static HOURLY_RANGE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)([0-9]{1,2}) *(?:-|to) *[0-9]{1,2} *-? *hourly(?-u:\b)"));
/// `every 4-6 hours`, `every 4 to 6 hours`.
static EVERY_HOURS_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?-u:\b)every +([0-9]{1,2}) *(?:-|to) *[0-9]{1,2} *(?:hours|hour|hrs|hr|h)(?-u:\b)")
});
/// `1½`, `1 1/2`, `one and a half`.
static MIXED_HALF: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(^|[^0-9.])([0-9]+|one|two|three) *(?:½|1/2|and a half)([^0-9/]|$)")
});
/// Epic sigs: `(10 mg total)`, the dose of one administration again.
static EPIC_TOTAL: LazyLock<Regex> =
    LazyLock::new(|| compile(r"\( *[0-9]+(?:\.[0-9]+)? *(?:mg|mcg|g|ml|units?) +total *\)"));
/// Epic sigs: a count spelled out after its digits, `3 (three) times`.
static EPIC_SPELLED: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"([0-9]+) *\((?:one|two|three|four|five|six|seven|eight|nine|ten)\)")
});
/// `5 mg per 5 mL`, `1 mg per mL`.
static PER_WORD_VOLUME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(mg|mcg|g) +per +([0-9]+(?:\.[0-9]+)?)? *ml(?-u:\b)"));
/// `5 mg in 5 mL`: a mass in a volume, as UK labels and the BNF write a
/// strength per volume.
static MASS_IN_VOLUME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(mg|mcg|g) +in +([0-9]+(?:\.[0-9]+)?) *ml(?-u:\b)"));
/// A volume written with its number (`25 mL`, `25ml`).
static VOLUME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?-u:\b)[0-9]+(?:\.[0-9]+)? *ml(?-u:\b)"));
/// A range of counts in words or numerals before a dose unit or a
/// schedule (`one to two tabs`, `i-ii tds`, `1 or 2 tabs`).
static COUNT_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(?:one|two|three|[1-3]|i|ii) *(?:-|to|or) *(two|three|four|[2-4]|ii|iii)(?-u:\b)",
    )
});
/// A dose scheme of three counts or more, one for each time of day (`1-0-1`,
/// `2-2-2`, `1 - 2 - 1`): no range.
static DOSE_SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?-u:\b)[0-9]+(?:\.[0-9]+)?(?: *- *[0-9]+(?:\.[0-9]+)?){2,}(?-u:\b)")
});
/// A dose and the time of day it is taken: `2 tabs nocte`, `5 mg mane`.
static TIMED_DOSE: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(^|[^0-9./])([0-9]+(?:\.[0-9]+)?(?:/[0-9]+)?) *(mg|tabs?|tablets?|caps?|capsules?) +(?:in the morning|in the afternoon|in the evening|every morning|every night|every evening|at bedtime|at night|at midday|at noon|at lunchtime|at lunch|mane|nocte|bedtime|qhs|hs|qam|qpm|om|on|am|pm|midday|noon|afternoon|evening|morning|nightly|night|daily)(?-u:\b)",
    )
});
/// Words that name a time of day in a sig, for a cheap test before
/// [`TIMED_DOSE`].
const TIMES_OF_DAY: &[&str] = &[
    "mane",
    "nocte",
    "morning",
    "night",
    "evening",
    "midday",
    "lunch",
    "bedtime",
    "noon",
    "afternoon",
    "daily",
    "hs",
    " om",
    " on",
    " am",
    " pm",
    "qam",
    "qpm",
];

/// A once-a-day schedule said with its time of day, either way round
/// (`daily at bedtime`, `once a day in the morning`, `qhs daily`, `daily,
/// at bedtime`, `daily (in the morning)`): one dose, at that time. Only
/// `and` between them adds a dose (`daily and at bedtime`). The word before
/// is taken too, so that `twice daily at bedtime` (two schedules) is told
/// apart and left as written.
static ONCE_A_DAY_AT: LazyLock<Regex> = LazyLock::new(|| {
    let once = "once daily|once a day|every day|each day|daily|od|qd";
    let at = "qam|qpm|qhs|hs|nightly|at bedtime|mane|om|every morning|each morning|in the morning|nocte|every night|each night|every evening|once nightly|at night";
    compile(&format!(
        r"(?:(\S+) +)?(?-u:\b)(?:(?:{once})(?: *[,(] *| +)({at})|({at})(?: *[,(] *| +)(?:{once}))(?-u:\b)"
    ))
});
/// Words in brackets that only restate when a dose is taken. Not when
/// they begin with `and`: `tid (and at night)` adds a dose.
static RESTATED_SCHEDULE: LazyLock<Regex> = LazyLock::new(|| {
    let when = "with|before|after|at|meals?|food|breakfast|lunch|dinner|supper|bedtime|night|morning|evening";
    compile(&format!(r"\( *(?:{when})(?: *(?:{when}|and|,))* *\)"))
});
/// A ceiling (`up to qid`, `max qds`, `up to 4 times`): the most doses a
/// day, read as that schedule.
static CEILING: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(?:up to|max|maximum) +(od|qd|daily|bid|bd|tid|tds|qid|qds|[1-6] *(?:x|times))(?-u:\b)",
    )
});
/// A leading-dot decimal, `.3 g`.
static BARE_DECIMAL: LazyLock<Regex> = LazyLock::new(|| compile(r"(^|[\s(])\.([0-9])"));
/// "with food", "after meals", "with a full glass of water", "without
/// regard to meals": how to take it, not what. Not milk: "with milk of
/// magnesia" names a drug.
static WITH_FOOD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(?:with|after|before|without(?: +regard +to)?) +(?:(?:a +)?(?:full +)?(?:glass +of +)?water|food|meals?)(?-u:\b)",
    )
});
/// "prn muscle spasm": the reason for an as-needed dose, no number in it.
static PRN_REASON: LazyLock<Regex> = LazyLock::new(|| compile(r"(?-u:\b)prn +[^0-9]*$"));

/// The number a number word names.
fn number_word(word: &str) -> &'static str {
    match word {
        "one" => "1",
        "two" => "2",
        "three" => "3",
        "four" => "4",
        "five" => "5",
        "six" => "6",
        "eight" => "8",
        "twelve" => "12",
        _ => "0.5",
    }
}

/// Rewrites other ways of writing a schedule or count into the forms the
/// parser reads: `every other day` is read as a frequency word; these are
/// rewritten (`6 hourly` → `q6h`, `tid-qid` → `qid`, `two tabs` → `2
/// tabs`, `ii tds` → `2 tab tds`).
pub(super) fn sig_forms(text: &str) -> String {
    // Each pattern is compiled on its first use: a cheap test first keeps
    // the usual sig (`500 mg bid`) from compiling them all at start-up.
    let has = |text: &str, words: &[&str]| words.iter().any(|w| text.contains(w));
    // `2 × 20 mg` is `2 x 20 mg`.
    let mut text = text.replace('×', " x ");
    // Mixed numbers first: `1½`, `1 1/2`, `one and a half` are 1.5.
    if has(&text, &["½", "1/2", "half"]) {
        text = MIXED_HALF
            .replace_all(&text, |c: &regex::Captures<'_>| {
                let whole = &c[2];
                let whole = if whole.starts_with(|ch: char| ch.is_ascii_digit()) {
                    whole
                } else {
                    number_word(whole)
                };
                format!("{}{whole}.5{}", &c[1], &c[3])
            })
            .into_owned();
        // `½-1 tab` is a range from a half.
        text = text.replace("½-", "0.5-").replace('½', " 0.5 ");
    }
    // Epic's `(10 mg total)` repeats the dose; `3 (three) times` the count.
    if text.contains('(') {
        text = EPIC_TOTAL.replace_all(&text, " ").into_owned();
        text = EPIC_SPELLED.replace_all(&text, "${1}").into_owned();
    }
    // `5 mg per 5 mL` is `5 mg/5 mL`.
    if text.contains("per") {
        text = PER_WORD_VOLUME
            .replace_all(&text, "${1}/${2}ml")
            .into_owned();
    }
    if text.contains(" in ") {
        text = mass_in_volume(&text);
    }
    if text.contains('.') {
        text = BARE_DECIMAL.replace_all(&text, "${1}0.${2}").into_owned();
    }
    if text.contains("hourly") {
        text = HOURLY_RANGE.replace_all(&text, "q${1}h").into_owned();
        text = HOURLY.replace_all(&text, "q${1}h").into_owned();
    }
    if text.contains('q') && text.contains('h') {
        text = Q_HOURS_RANGE.replace_all(&text, "q${1}h").into_owned();
        text = Q_SPACED_HOURS.replace_all(&text, "q${1}h").into_owned();
    }
    if text.contains("every") {
        text = EVERY_HOURS_RANGE.replace_all(&text, "q${1}h").into_owned();
        text = EVERY_WORD_HOURS
            .replace_all(&text, |c: &regex::Captures<'_>| {
                format!("q{}h", number_word(&c[1]))
            })
            .into_owned();
    }
    // `one to two tabs`, `i-ii tds`, `1 or 2 tabs`: a range of counts is
    // its upper end (after the ranges of hours above, whose upper end is
    // the fewer doses).
    if has(&text, &[" to ", " or ", "-"]) {
        text = count_ranges(&text);
    }
    if has(
        &text,
        &["one", "two", "three", "four", "five", "six", "half"],
    ) {
        text = NUMBER_WORD
            .replace_all(&text, |c: &regex::Captures<'_>| {
                format!("{} {}", number_word(&c[1]), &c[2])
            })
            .into_owned();
    }
    if has(&text, &["-", "/", " to ", " or "]) {
        text = SCHEDULE_RANGE
            .replace_all(&text, |c: &regex::Captures<'_>| {
                let per_day = |w: &str| {
                    FREQUENCIES
                        .iter()
                        .find(|(word, _, _)| *word == w)
                        .and_then(|(_, _, per_day)| *per_day)
                        .unwrap_or(0.0)
                };
                let most = if per_day(&c[1]) >= per_day(&c[2]) {
                    &c[1]
                } else {
                    &c[2]
                };
                most.to_owned()
            })
            .into_owned();
    }
    if text.contains("times") {
        text = TIMES_RANGE
            .replace_all(&text, |c: &regex::Captures<'_>| {
                let read = |n: &str| -> u32 {
                    let n = if n.starts_with(|ch: char| ch.is_ascii_digit()) {
                        n
                    } else {
                        number_word(n)
                    };
                    n.parse().unwrap_or(0)
                };
                format!("{} times", read(&c[1]).max(read(&c[2])))
            })
            .into_owned();
    }
    // A schedule restated in brackets, `qid (with meals and at bedtime)`,
    // is no second schedule.
    if text.contains('(') {
        text = RESTATED_SCHEDULE.replace_all(&text, " ").into_owned();
    }
    if has(&text, &["daily", "od", "qd", " day"]) {
        text = ONCE_A_DAY_AT
            .replace_all(&text, |c: &regex::Captures<'_>| once_a_day_at(c))
            .into_owned();
    }
    // Steps (`1 tab daily then 2 tabs daily`) are not taken on one day.
    // Only with two times of day or more: one (`40 mg daily`) is one dose.
    let times_of_day: usize = TIMES_OF_DAY.iter().map(|w| text.matches(w).count()).sum();
    if !text.contains(" then ") && times_of_day >= 2 {
        text = split_doses(&text);
    }
    if has(&text, &["up to", "max"]) {
        text = CEILING.replace_all(&text, "${1}").into_owned();
    }
    // Not "water pills": a diuretic, reported as written.
    if has(&text, &["food", "meal", "water"]) && !text.contains("water pill") {
        text = WITH_FOOD.replace_all(&text, " ").into_owned();
    }
    // The schedule words after it are kept (`prn spasm tid` is `prn tid`);
    // a schedule of several words (`twice daily`) leaves it all as written,
    // to be read or reported.
    let in_phrase = |w: &str| {
        FREQUENCIES
            .iter()
            .any(|(f, _, _)| f.contains(' ') && f.split(' ').any(|p| p == w))
    };
    if text.contains("prn")
        && let Some(found) = PRN_REASON.find(&text)
        && !found.as_str().split_whitespace().skip(1).any(in_phrase)
    {
        let schedule: Vec<&str> = found
            .as_str()
            .split_whitespace()
            .skip(1)
            .filter(|w| FREQUENCIES.iter().any(|(f, _, _)| f == w) || QH.is_match(w))
            .collect();
        let kept = std::iter::once("prn")
            .chain(schedule)
            .collect::<Vec<_>>()
            .join(" ");
        text.replace_range(found.range(), &kept);
    }
    roman_counts(&text)
}

/// What [`ONCE_A_DAY_AT`] leaves of its match: the time of day alone, as
/// one dose; the whole match when the word before makes `daily` part of
/// another schedule (`twice daily`, `3 times daily`, `2x daily`).
fn once_a_day_at(c: &regex::Captures<'_>) -> String {
    let before = c.get(1).map_or("", |m| m.as_str());
    let counted = ["times", "twice", "thrice", "x"].contains(&before)
        || before.ends_with('x') && before.starts_with(|ch: char| ch.is_ascii_digit())
        || before.ends_with('/');
    let time = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
    match (counted, c.get(1)) {
        (true, _) => c[0].to_owned(),
        (false, Some(_)) => format!("{before} {time}"),
        (false, None) => time.to_owned(),
    }
}

/// `5 mg in 5 mL 25 mL qds` is `5 mg/5 mL 25 mL qds`: with a volume after
/// it (the dose), a mass in a volume is the strength per volume. Alone
/// (`magnesium sulfate 4 g in 100 mL`), the mass is the dose, and it is
/// left as written. Read as a tablet strength, `5 mg in 5 mL 25 mL` was 5
/// mg a dose, not 25.
fn mass_in_volume(text: &str) -> String {
    let Some(found) = MASS_IN_VOLUME.captures(text) else {
        return text.to_owned();
    };
    let Some(whole) = found.get(0) else {
        return text.to_owned();
    };
    if !VOLUME.is_match(&text[whole.end()..]) {
        return text.to_owned();
    }
    format!(
        "{}{}/{}ml{}",
        &text[..whole.start()],
        &found[1],
        &found[2],
        &text[whole.end()..]
    )
}

/// Reads each range of counts ([`COUNT_RANGE`]) as its upper end, but
/// leaves a dose scheme ([`DOSE_SCHEME`]) whole, written without spaces,
/// for the parser to report: read as a range, `2-2-2 daily` was 2 tablets
/// once a day (6 were written) and `1-2-1` was 1.
fn count_ranges(text: &str) -> String {
    let text = DOSE_SCHEME.replace_all(text, |c: &regex::Captures<'_>| c[0].replace(' ', ""));
    let schemes: Vec<std::ops::Range<usize>> =
        DOSE_SCHEME.find_iter(&text).map(|m| m.range()).collect();
    COUNT_RANGE
        .replace_all(&text, |c: &regex::Captures<'_>| {
            let range = c.get(0).map_or(0..0, |m| m.range());
            let in_scheme = schemes
                .iter()
                .any(|s| s.start < range.end && range.start < s.end);
            match in_scheme {
                true => c[0].to_owned(),
                false => c[1].to_owned(),
            }
        })
        .into_owned()
}

/// A dose at each time of day (`1 tab mane and 2 tabs nocte`, `5 mg mane,
/// 10 mg nocte`): the day's total, as `3 tab daily` or `15 mg/day`. Doses
/// in different units are left as written, to be read or reported.
fn split_doses(text: &str) -> String {
    let parts: Vec<regex::Captures<'_>> = TIMED_DOSE.captures_iter(text).collect();
    if parts.len() < 2 {
        return text.to_owned();
    }
    let unit_of = |c: &regex::Captures<'_>| match &c[3] {
        "mg" => "mg",
        _ => "tab",
    };
    let unit = unit_of(&parts[0]);
    if parts.iter().any(|c| unit_of(c) != unit) {
        return text.to_owned();
    }
    // `magnesium 400 mg daily and baclofen 100 mg daily`: where the
    // resolver found another drug joined (it marks the place), the doses
    // are two drugs', each its own; added up, the baclofen was left with
    // no strength and its dose went unchecked. Doses with anything else
    // between them (`/`, `extra`, the drug's brand) are one drug's.
    let named_between = parts
        .windows(2)
        .any(|pair| match (pair[0].get(0), pair[1].get(0)) {
            (Some(first), Some(second)) => text
                .get(first.end()..second.start() + pair[1][1].len())
                .is_some_and(|between| between.contains(DRUG_MARK)),
            _ => false,
        });
    if named_between {
        return text.to_owned();
    }
    let total: f64 = parts.iter().filter_map(|c| count_value(&c[2])).sum();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (k, c) in parts.iter().enumerate() {
        let Some(whole) = c.get(0) else {
            continue;
        };
        out.push_str(&text[last..whole.start()]);
        // What the pattern took before the number (a space or a comma).
        out.push_str(&c[1]);
        if k == 0 {
            out.push_str(&match unit {
                "mg" => format!("{total} mg/day"),
                _ => format!("{total} tab daily"),
            });
        }
        last = whole.end();
    }
    out.push_str(&text[last..]);
    out
}

/// Whether `text` writes a dose at a time of day other than `daily` (`30
/// mg mane`, `1 tab at night`): a dose written later at another time may
/// be the rest of its day.
pub fn has_dose_at_a_time(text: &str) -> bool {
    TIMED_DOSE
        .captures_iter(&text.to_lowercase())
        .any(|c| !c[0].ends_with("daily"))
}

/// A dose with no name before it, written after a joining word
/// (`magnesium 400 mg am, 60 mg pm`, `metoprolol 25 mg, 0.5 tab bid`).
#[derive(Debug, PartialEq)]
pub struct BareDose {
    /// The words before it, lowercase.
    pub before: String,
    /// Whether it is an amount (`60 mg`) rather than a count of tablets or
    /// a volume of the drug's solution (`25 mL`).
    pub mass: bool,
}

/// The first dose with no name before it that `text` writes after a
/// joining word, if it writes one.
pub fn bare_dose_after_join(text: &str) -> Option<BareDose> {
    let mut lower = text.to_lowercase();
    // Not ` - `: it also stands between a name and its own dose
    // (`baclofen - 25 mg qid`).
    let (at, dose) = [
        ",", ";", " and ", " then ", " + ", " & ", " plus ", " • ", " | ",
    ]
    .iter()
    .flat_map(|j| lower.match_indices(j).map(|(at, j)| at + j.len()))
    .filter_map(|end| {
        BARE_DOSE
            .find(&lower[end..])
            .map(|m| (end, m.as_str().to_owned()))
    })
    .min_by_key(|(end, _)| *end)?;
    let mass = !["tab", "cap", "ml", "pill"]
        .iter()
        .any(|count| dose.contains(count));
    lower.truncate(at);
    Some(BareDose {
        before: lower,
        mass,
    })
}

/// Whether `text` writes a number after its first schedule or time word
/// (`400 mg daily, also 60 mg nocte`, `400 mg daily, two tabs nocte`, `...,
/// 60 nocte`, `400 mg q.a.m. / 2 x 30 mg q.h.s.`): a dose at another time,
/// which in a list may be another drug's (or a duration, `x 7 days`: the
/// text is then read whole, which costs nothing but the piece reading).
pub fn dose_after_schedule(text: &str) -> bool {
    let lower = text.to_lowercase();
    SCHEDULE_WORD.find(&lower).is_some_and(|first| {
        // A duration or a ceiling (`x 7 days`, `max 4 doses/day`) is no dose.
        let rest = DURATION.replace_all(&lower[first.end()..], " ");
        rest.contains(|c: char| c.is_ascii_digit())
            || QUANTITY.is_match(&rest)
            || NUMBER_NAME.is_match(&rest)
    })
}

/// A number of days, weeks, doses or hours (`x 7 days`, `4 doses/day`,
/// `q6h`), which says how long or how often, not how much.
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?:q ?)?[0-9]+ ?(?:days?|d|weeks?|wks?|months?|doses?|times|refills?|hours?|hrs?|h)(?-u:\b)",
    )
});

/// A number written as a word.
static NUMBER_NAME: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|half|[a-z]+ty|[a-z]+teen)(?-u:\b)",
    )
});

/// Whether `text` has a word that speaks of several drugs at once (`2 tabs
/// each`, `both tid`, `all po`).
pub fn names_several(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| ["each", "both", "all"].contains(&w.to_lowercase().as_str()))
}

/// A schedule or time-of-day word (dots and spaces in abbreviations
/// allowed: `q.a.m.`, `t.i.d.`).
static SCHEDULE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"(?-u:\b)(?:daily|qd|od|o\.d\.|b\.?i\.?d|bd|t\.?i\.?d|tds|q\.?i\.?d|qds|q\.? ?[0-9]+ ?h(?:rs?|ours?)?|q\.?a\.?m|q\.?p\.?m|q\.?h\.?s|hs|mane|nocte|am|pm|morning|evening|night|nightly|noon|midday|bedtime|weekly|prn|once|twice|times)(?-u:\b)",
    )
});

/// A dose: a number, a number word or a Roman count, and a mass, volume or
/// count unit (`60 mg`, `two tabs`, `ii tabs`, `sixty mg`, `one more
/// tab`).
static QUANTITY: LazyLock<Regex> =
    LazyLock::new(|| compile(&format!(r"(?:^|[^0-9a-z.]){DOSE_WORDS}")));

/// A number (digits, a fraction, a number word or a Roman count), maybe
/// `more`, and a mass, volume or count unit.
const DOSE_WORDS: &str = r"(?:[0-9]+(?:\.[0-9]+)?(?: ?½| [0-9]/[0-9])?|½|[0-9]/[0-9]|one|two|three|four|five|six|half|a|an|i|ii|iii|iv|[a-z]+ty(?:-[a-z]+)?)(?: (?:more|further|extra|additional))? ?(?:mg|mcg|g|milligrams?|micrograms?|grams?|units?|iu|ml|tabs?|tablets?|caps?|capsules?)(?-u:\b)";

/// A dose at the start of a text: a number and a mass or a tablet count.
static BARE_DOSE: LazyLock<Regex> = LazyLock::new(|| compile(&format!(r"^ *{DOSE_WORDS}")));

/// `i`, `ii` or `iii` as a count of tablets (`ii tds`, `tab ii po tid`):
/// only beside a dose-unit word or before a schedule or route word, as
/// `i` elsewhere may be part of a name.
fn roman_counts(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let is_schedule = |w: Option<&&str>| {
        w.is_some_and(|w| {
            FREQUENCIES.iter().any(|(f, _, _)| f == w)
                || ROUTES.iter().any(|(r, _)| r == w)
                || QH.is_match(w)
        })
    };
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, word) in words.iter().enumerate() {
        let count = match *word {
            "i" => "1",
            "ii" => "2",
            "iii" => "3",
            _ => {
                out.push((*word).to_owned());
                continue;
            }
        };
        let after_unit = i > 0 && DOSE_UNIT_WORDS.contains(&words[i - 1]);
        if after_unit {
            // `tab ii`: the unit word is already there; put the count first.
            if let Some(unit) = out.pop() {
                out.push(format!("{count} {unit}"));
            }
        } else if is_schedule(words.get(i + 1)) {
            out.push(format!("{count} tab"));
        } else {
            out.push((*word).to_owned());
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::med::parse_med;
    use super::*;

    #[test]
    fn a_mass_in_a_volume_with_a_dose_volume_after_it_is_per_volume() {
        assert_eq!(
            mass_in_volume("baclofen 5 mg in 5 ml 25 ml qds"),
            "baclofen 5 mg/5ml 25 ml qds"
        );
        assert_eq!(
            mass_in_volume("magnesium sulfate 4 g in 100 ml iv"),
            "magnesium sulfate 4 g in 100 ml iv"
        );
        for sig in [
            "baclofen 5 mg in 5 mL 25 mL qds",
            "baclofen oral solution 5 mg in 5 mL, 25 mL qds",
            "baclofen 5mg in 5ml oral solution 25ml qds",
        ] {
            let m = parse_med(sig);
            assert_eq!(m.dose_ml, Some(25.0), "{sig}");
            let strength = m.ingredients[0].strength.clone();
            let mg = strength.and_then(|s| s.mg_in_volume(25.0));
            assert_eq!(mg, Some(25.0), "{sig}");
            assert!(m.unparsed.is_empty(), "{sig}: {:?}", m.unparsed);
        }
    }

    #[test]
    fn a_dose_scheme_is_no_range_and_is_reported() {
        assert_eq!(count_ranges("25 mg 2-2-2 daily"), "25 mg 2-2-2 daily");
        assert_eq!(count_ranges("25 mg 1 - 2 - 1 daily"), "25 mg 1-2-1 daily");
        // A range of two counts is still its upper end.
        assert_eq!(count_ranges("1-2 tabs tds"), "2 tabs tds");
        for (sig, unread) in [
            ("baclofen 25 mg 2-2-2 daily", "2-2-2"),
            ("baclofen 25 mg 1-2-1 daily", "1-2-1"),
            ("baclofen 25 mg 1-2-2 tabs daily", "1-2-2"),
            ("baclofen 25 mg 1 - 2 - 1", "1-2-1"),
            ("baclofen 25 mg 1-1-1", "1-1-1"),
        ] {
            let m = parse_med(sig);
            assert_eq!(m.unparsed, [unread], "{sig}");
            assert_eq!(m.units_per_dose, None, "{sig}");
        }
    }

    #[test]
    fn a_dose_at_a_time_of_day_may_be_completed_and_a_bare_dose_is_found() {
        assert!(has_dose_at_a_time("baclofen 30 mg am"));
        assert!(has_dose_at_a_time("Baclofen 1 tab at night"));
        // A daily dose or a schedule is a whole day.
        assert!(!has_dose_at_a_time("magnesium 400 mg daily"));
        assert!(!has_dose_at_a_time("baclofen 30 mg tid"));
        let bare = |before: &str, mass: bool| {
            Some(BareDose {
                before: before.to_owned(),
                mass,
            })
        };
        assert_eq!(
            bare_dose_after_join("magnesium oxide 400 mg am, 60 mg pm"),
            bare("magnesium oxide 400 mg am,", true)
        );
        assert_eq!(
            bare_dose_after_join("tizanidine and magnesium and two tabs hs"),
            bare("tizanidine and magnesium and ", false)
        );
        // A count after a comma is a dose too; words are not.
        assert_eq!(
            bare_dose_after_join("Metoprolol 25 MG Oral Tablet, 0.5 tab bid"),
            bare("metoprolol 25 mg oral tablet,", false)
        );
        assert_eq!(
            bare_dose_after_join("magnesium 400 mg daily, with food"),
            None
        );
        assert_eq!(bare_dose_after_join("baclofen 30 mg tid, 2 weeks"), None);
        // After the first schedule word, any number may be another dose.
        assert!(dose_after_schedule(
            "magnesium oxide 400 mg daily, 60 nocte"
        ));
        assert!(dose_after_schedule(
            "magnesium oxide 400 mg daily, eight tabs nocte"
        ));
        assert!(!dose_after_schedule(
            "Metoprolol 25 MG Oral Tablet, 0.5 tab bid"
        ));
        assert!(!dose_after_schedule("doxycycline 100 mg bid x 7 days"));
        assert!(!dose_after_schedule(
            "baclofen 30 mg prn, max 4 doses/day q6h"
        ));
    }
}
