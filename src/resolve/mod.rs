//! Stage 2: names → ingredients. Each parsed medication ends in exactly one
//! status — recognized (and how: generic, brand, synonym, product, fuzzy),
//! ambiguous (with candidates) or unrecognized (with "did you mean"
//! suggestions) — so that nothing the pharmacist typed is silently dropped.

use crate::kb::KbIndex;
use crate::kb::index::{DrugId, NameKind, NameTarget};
use crate::kb::names::{compact_key, name_key};
use crate::parse::{MedText, Strength};
use serde::Serialize;
use std::sync::OnceLock;

/// The outcome of resolving one medication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every name part maps to known ingredients.
    Recognized,
    /// A name could mean several ingredients; candidates are listed.
    Ambiguous,
    /// A name part is not in the KB.
    Unrecognized,
}

impl Status {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Recognized => "recognized",
            Status::Ambiguous => "ambiguous",
            Status::Unrecognized => "unrecognized",
        }
    }
}

/// How a recognized name was matched, weakest last: a medication reports the
/// weakest match among its parts so a fuzzy match is never hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchedBy {
    /// The canonical generic name.
    Generic,
    /// A synonym, INN/BAN name, salt form or abbreviation.
    Synonym,
    /// A brand name.
    Brand,
    /// A combination product name.
    Product,
    /// A close spelling of a known name (one clear candidate).
    Fuzzy,
}

impl MatchedBy {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Generic => "generic",
            MatchedBy::Synonym => "synonym",
            MatchedBy::Brand => "brand",
            MatchedBy::Product => "product",
            MatchedBy::Fuzzy => "fuzzy",
        }
    }
}

/// One recognized ingredient and the strength written for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedIngredient {
    /// The ingredient.
    pub drug: DrugId,
    /// Strength written next to it, if any.
    pub strength: Option<Strength>,
    /// The piece of the text its dose is written in ([`Resolved::pieces`]),
    /// when the text names several drugs each with a dose of its own;
    /// `None`: the whole text's dose is its.
    pub piece: Option<usize>,
}

/// A piece of a text that names several drugs, each with a dose of its own
/// (`baclofen 30 mg tid, tizanidine 8 mg qid`), parsed on its own: the
/// schedule, tablets and route of its drug. Read as one text, the drugs
/// shared one schedule (`tid` and `qid` added up: baclofen 210 mg/day) and
/// the last route word (`baclofen 500 mcg/day intrathecal, oxybutynin 5 mg
/// po tid` was checked as oral).
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// The piece, parsed and read.
    pub med: MedText,
    /// The piece wrote no schedule and took another piece's (`baclofen 40
    /// mg and tizanidine 4 mg tid`: the `tid` may be both drugs'): its
    /// schedule, tablets and route may be another drug's.
    pub shared_sig: bool,
    /// How the piece's names resolved (an ambiguous piece is named in the
    /// finding, not the whole text).
    pub status: Status,
}

/// A medication after resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The parsed input.
    pub med: MedText,
    /// Exactly one status.
    pub status: Status,
    /// How the recognized parts matched (weakest), if any part did.
    pub matched_by: Option<MatchedBy>,
    /// Ingredients recognized, in order of appearance, without repeats.
    /// Partially recognized medications keep the parts that were known.
    pub ingredients: Vec<ResolvedIngredient>,
    /// For ambiguous names: the ingredients it could mean.
    pub candidates: Vec<String>,
    /// For unrecognized names: close known names.
    pub suggestions: Vec<String>,
    /// Name parts that could not be resolved.
    pub unresolved: Vec<String>,
    /// Connector words skipped inside a recognized name ("of", "with").
    /// Any other leftover word is listed in `unresolved` instead.
    pub ignored_words: Vec<String>,
    /// For fuzzy matches: (what was written, the name it was taken as).
    pub fuzzy: Vec<(String, String)>,
    /// The pieces of a text that names several drugs each with a dose of
    /// its own (empty for one drug, or several sharing one dose); each
    /// ingredient's `piece` points here.
    pub pieces: Vec<Piece>,
}

impl Resolved {
    /// Whether every name part was a name the KB knows: recognized, and not
    /// by a close spelling. A name taken by its spelling is checked as that
    /// drug, but may be another one the KB does not know (`Dridol`,
    /// droperidol, is one letter from Drisdol): it is reported like an
    /// unrecognized name, never passed as checked.
    pub fn is_exact(&self) -> bool {
        self.status == Status::Recognized && self.matched_by != Some(MatchedBy::Fuzzy)
    }

    /// What the words taken by their spelling were read as, for messages:
    /// `` `dridol` as `drisdol` ``, joined.
    pub fn spelling_reads(&self) -> String {
        self.fuzzy
            .iter()
            .map(|(written, matched)| format!("`{written}` as `{matched}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A medication with nothing resolved yet: recognized until a part
    /// fails. Also serves as a placeholder or a KB-built entry.
    pub fn new(med: MedText) -> Self {
        Resolved {
            med,
            status: Status::Recognized,
            matched_by: None,
            ingredients: Vec::new(),
            candidates: Vec::new(),
            suggestions: Vec::new(),
            unresolved: Vec::new(),
            ignored_words: Vec::new(),
            fuzzy: Vec::new(),
            pieces: Vec::new(),
        }
    }

    /// The piece `ingredient`'s dose is written in, if the text was read
    /// piece by piece.
    fn piece_of(&self, ingredient: &ResolvedIngredient) -> Option<&Piece> {
        ingredient.piece.and_then(|p| self.pieces.get(p))
    }

    /// The parsed text that holds `ingredient`'s dose: its piece, or the
    /// whole text.
    pub fn dose_text(&self, ingredient: &ResolvedIngredient) -> &MedText {
        match self.piece_of(ingredient) {
            Some(piece) => &piece.med,
            None => &self.med,
        }
    }

    /// Whether the route and schedule read for `ingredient` may be another
    /// drug's: one text with several drugs and one sig, or a piece that
    /// took another piece's schedule.
    pub fn sig_may_be_anothers(&self, ingredient: &ResolvedIngredient) -> bool {
        match self.piece_of(ingredient) {
            Some(piece) => piece.shared_sig,
            None => self.ingredients.len() > 1,
        }
    }

    /// Whether `ingredient`'s piece wrote no schedule and took another
    /// piece's (see [`Piece::shared_sig`]).
    pub fn sig_borrowed(&self, ingredient: &ResolvedIngredient) -> bool {
        self.piece_of(ingredient)
            .is_some_and(|piece| piece.shared_sig)
    }

    /// The text read for `drug`'s dose (its piece, or the whole input), to
    /// quote in a finding.
    pub fn dose_words(&self, ingredient: &ResolvedIngredient) -> &str {
        match self.piece_of(ingredient) {
            Some(piece) if !piece.shared_sig => piece.med.input.trim(),
            _ => self.med.input.trim(),
        }
    }

    /// The route written for `drug`: its piece's, or the whole text's.
    pub fn route_of(&self, drug: DrugId) -> Option<&str> {
        self.med_of(drug).route.as_deref()
    }

    /// Whether `drug` may meet another drug in the gut (see
    /// [`MedText::may_reach_gut`]), by its piece's route.
    pub fn reaches_gut(&self, drug: DrugId) -> bool {
        self.med_of(drug).may_reach_gut()
    }

    fn med_of(&self, drug: DrugId) -> &MedText {
        match self.ingredients.iter().find(|i| i.drug == drug) {
            Some(ingredient) => self.dose_text(ingredient),
            None => &self.med,
        }
    }
}

/// A proposed drug that did not resolve to known ingredients: there is
/// nothing to check, so every command treats it as an input error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("proposed drug `{input}` {reason}")]
pub struct UnresolvedProposed {
    /// What was given.
    pub input: String,
    /// Ambiguous or unrecognized.
    pub status: Status,
    /// "is unrecognized; did you mean ...?", "is ambiguous; it could mean
    /// ...", or "is read only in part: ..." naming the words not read.
    pub reason: String,
}

/// Words after a number that make it a count of tablets or doses, or a
/// strength, rather than part of a product name (`Tylenol 2 tabs`).
const COUNTED_WORDS: &[&str] = &[
    "tab", "tabs", "tablet", "tablets", "cap", "caps", "capsule", "capsules", "times", "x", "mg",
    "mcg", "g", "ml", "unit", "units", "hourly",
];

/// Whether `word` is one of [`COUNTED_WORDS`], in any case.
fn is_counted_word(word: &str) -> bool {
    COUNTED_WORDS.contains(&word.to_lowercase().as_str())
}

/// Words that join two names (`quinine and magnesium`, `Slow-Mag with
/// calcium`, `aspirin plus caffeine`), each then read on its own.
const JOINING_WORDS: &[&str] = &["and", "with", "plus"];

/// Words that join or qualify names without naming another drug ("insulin
/// regular, human"; "heparin sodium, porcine").
const CONNECTOR_WORDS: &[&str] = &[
    "of",
    "and",
    "with",
    "a",
    "the",
    "plus",
    "for",
    "in",
    "human",
    "porcine",
    "bovine",
    "recombinant",
];

/// A name key with British spellings of salt words in their US form
/// (`ferrous sulphate` → `ferrous sulfate`), as the KB names ingredients.
fn us_spelling(key: &str) -> String {
    key.split(' ')
        .map(|word| match word {
            "sulphate" => "sulfate",
            "bisulphate" => "bisulfate",
            "aluminium" => "aluminum",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Salt and ester words that do not change which ingredient is meant.
const SALT_WORDS: &[&str] = &[
    "hydrochloride",
    "hcl",
    "dihydrochloride",
    "hydrobromide",
    "hbr",
    "sulfate",
    "bisulfate",
    "sodium",
    "disodium",
    "potassium",
    "calcium",
    "magnesium",
    "citrate",
    "maleate",
    "tartrate",
    "bitartrate",
    "tart",
    "succinate",
    "succ",
    "besylate",
    "besilate",
    "mesylate",
    "mesilate",
    "fumarate",
    "hemifumarate",
    "acetate",
    "phosphate",
    "bromide",
    "chloride",
    "gluconate",
    "lactate",
    "carbonate",
    "hyclate",
    "monohydrate",
    "dihydrate",
    "trihydrate",
    "anhydrous",
    "xinafoate",
    "propionate",
    "dipropionate",
    "furoate",
    "valerate",
    "cypionate",
    "enanthate",
    "decanoate",
    "tromethamine",
    "erbumine",
    "napsylate",
    "pamoate",
    "stearate",
    "ethylsuccinate",
    "estolate",
    "lactobionate",
    "salicylate",
    "and",
    "with",
];

enum PartOutcome {
    Found {
        drugs: Vec<DrugId>,
        by: MatchedBy,
        ignored: Vec<String>,
        fuzzy: Option<String>,
    },
    Ambiguous(Vec<DrugId>),
    NotFound(Vec<String>),
}

/// Resolves names against one knowledge base. Holds the list of name keys
/// used for fuzzy matching so it is built once per run, not per medication.
pub struct Resolver<'kb> {
    kb: &'kb KbIndex,
    /// Built on first use: most lists never need a fuzzy match.
    fuzzy_keys: OnceLock<Vec<(&'kb str, &'kb NameTarget)>>,
}

impl<'kb> Resolver<'kb> {
    /// Prepares a resolver over `kb`.
    pub fn new(kb: &'kb KbIndex) -> Self {
        Resolver {
            kb,
            fuzzy_keys: OnceLock::new(),
        }
    }

    fn fuzzy_keys(&self) -> &[(&'kb str, &'kb NameTarget)] {
        self.fuzzy_keys.get_or_init(|| {
            let mut keys: Vec<(&str, &NameTarget)> = self
                .kb
                .names
                .iter()
                .filter(|(k, _)| k.len() >= 4)
                .map(|(k, t)| (k.as_str(), t))
                .collect();
            keys.sort_by(|a, b| a.0.cmp(b.0));
            keys
        })
    }

    /// A name key as a person writes it: the KB also keys every name of
    /// several words without its spaces (`mycophenolicacid`, so that a name
    /// typed run together is found), and a suggestion shows the spaced one.
    fn spelled_out(&self, key: &str, target: &NameTarget) -> String {
        if key.contains(' ') {
            return key.to_owned();
        }
        self.fuzzy_keys()
            .iter()
            .find(|(k, t)| k.contains(' ') && *t == target && compact_key(k) == key)
            .map_or(key, |(k, _)| k)
            .to_owned()
    }

    /// Whether the KB knows products named `base` and a number (`tylenol 3`
    /// for `tylenol`): then another number after that name is a product the
    /// KB does not know, not a count.
    fn has_numbered_products(&self, base: &str) -> bool {
        let prefix = format!("{base} ");
        let keys = self.fuzzy_keys();
        let from = keys.partition_point(|(k, _)| *k < prefix.as_str());
        keys[from..]
            .iter()
            .take_while(|(k, _)| k.starts_with(&prefix))
            .any(|(k, _)| k[prefix.len()..].chars().all(|c| c.is_ascii_digit()))
    }

    /// Resolves the drug about to be proposed; anything but a clear
    /// recognition is an error naming the candidates or close names.
    pub fn resolve_proposed(&self, text: &str) -> Result<Resolved, UnresolvedProposed> {
        let proposed = self.resolve(crate::parse::parse_med(text));
        if proposed.is_exact() {
            return Ok(proposed);
        }
        // Taken by its spelling only: the drug about to be prescribed is not
        // guessed at.
        if proposed.status == Status::Recognized {
            return Err(UnresolvedProposed {
                input: text.to_owned(),
                status: Status::Unrecognized,
                reason: format!(
                    "is not a name the KB knows (it would be read by its spelling: {}); write \
                     the exact name",
                    proposed.spelling_reads()
                ),
            });
        }
        let recognized: Vec<&str> = proposed
            .ingredients
            .iter()
            .map(|i| self.kb.drug_name(i.drug))
            .collect();
        let status = proposed.status.as_str();
        let reason = match proposed.status {
            Status::Ambiguous => format!(
                "is {status}; it could mean {}",
                proposed.candidates.join(", ")
            ),
            // A drug found with words left over: the suggestions would be for
            // the leftover words, and the drug itself was read.
            _ if !recognized.is_empty() && !proposed.unresolved.is_empty() => format!(
                "is read only in part: {} was recognized, but `{}` could not be read; \
                 remove or rewrite those words",
                recognized.join(" + "),
                proposed.unresolved.join("`, `")
            ),
            _ if !proposed.suggestions.is_empty() => format!(
                "is {status}; did you mean {}?",
                proposed.suggestions.join(", ")
            ),
            _ => format!("is {status}"),
        };
        Err(UnresolvedProposed {
            input: text.to_owned(),
            status: proposed.status,
            reason,
        })
    }

    /// A product number after a name (`Tylenol #3`, `Fiorinal #3`): the
    /// numbered product's ingredients when the KB knows it (a count or a
    /// list number before the name kept it from being read whole), else the
    /// number is reported — the product may hold another drug (codeine) —
    /// unless it only grades the codeine the name already holds.
    fn apply_product_number(&self, out: &mut Resolved, base: &str, number: u32) {
        if let Some(target) = self.kb.lookup(&format!("{base} #{number}"))
            && !matches!(target, NameTarget::Class(_))
        {
            add_drugs(out, self.target_drugs(target));
            out.matched_by = out.matched_by.max(Some(MatchedBy::Product));
            return;
        }
        let holds_codeine = out
            .ingredients
            .iter()
            .any(|i| self.kb.drug_name(i.drug) == "codeine");
        if self.has_numbered_products(base) || (codeine_grade(number) && !holds_codeine) {
            out.unresolved.push(format!("#{number}"));
        }
    }

    /// The one drug named by a word of `name` that `strength` is written
    /// right after in `whole` (`baclofen 30 mg` in `baclofen 30 mg tid,
    /// tizanidine`).
    fn drug_written_before(&self, whole: &str, name: &str, strength: &Strength) -> Option<DrugId> {
        let number = crate::parse::trim_number(strength.value);
        let lower = whole.to_lowercase();
        name.split(' ').find_map(|word| {
            let follows = lower.match_indices(word).any(|(at, _)| {
                let starts_word = lower[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_alphanumeric());
                let rest = lower[at + word.len()..].trim_start();
                // Its unit after it: `baclofen 2 tabs` holds no 2 mg.
                let unit_after = |after: &str| match strength.unit.as_deref() {
                    Some(unit) => unit
                        .chars()
                        .next()
                        .is_none_or(|c| after.trim_start().starts_with(c)),
                    None => true,
                };
                starts_word
                    && rest.starts_with(&number)
                    && !rest[number.len()..].starts_with(|c: char| c.is_ascii_digit() || c == '.')
                    && unit_after(&rest[number.len()..])
            });
            if !follows {
                return None;
            }
            match self.kb.lookup(word) {
                Some(target) if !matches!(target, NameTarget::Class(_)) => {
                    match self.target_drugs(target).as_slice() {
                        [only] => Some(*only),
                        _ => None,
                    }
                }
                _ => None,
            }
        })
    }

    /// The knowledge base this resolver reads.
    pub fn kb(&self) -> &'kb KbIndex {
        self.kb
    }

    /// Resolves every ingredient part of a parsed medication. A text that
    /// names several drugs each with a dose of its own is read piece by
    /// piece ([`Piece`]).
    pub fn resolve(&self, med: MedText) -> Resolved {
        match self.mark_joined_drugs(&med.input) {
            Some((marked, items)) => self.resolve_pieces(med, &marked, &items),
            None => self.resolve_whole(med, false),
        }
    }

    /// Reads each piece of a text marked where another drug with a dose of
    /// its own is joined, then puts the pieces together. The text is read
    /// whole instead (one sig) when two pieces name the same drug (one
    /// medication holds a drug once), or when a dose in a piece may be an
    /// earlier drug's (see [`dose_may_be_an_earlier_drugs`]).
    /// `med` is the whole text as parsed; `new_items[i]` says whether the
    /// `i`-th mark starts an item of its own (a numbered line, a sentence).
    fn resolve_pieces(&self, med: MedText, marked: &str, new_items: &[bool]) -> Resolved {
        let mut pieces: Vec<Resolved> = marked
            .split(crate::parse::DRUG_MARK)
            .map(|piece| self.resolve_whole(crate::parse::parse_med(piece.trim()), true))
            .collect();
        let mut drugs: Vec<DrugId> = pieces
            .iter()
            .flat_map(|p| p.ingredients.iter().map(|i| i.drug))
            .collect();
        let named = drugs.len();
        drugs.sort_unstable();
        drugs.dedup();
        if drugs.len() != named || dose_may_be_an_earlier_drugs(&pieces) {
            // Marks between list lines or sentences only split items: read
            // whole, the text is read as written (its numbers reported).
            let whole = match new_items.iter().any(|&item| item) {
                true => med,
                false => MedText {
                    input: med.input,
                    ..crate::parse::parse_med_marked(marked)
                },
            };
            return self.resolve_whole(whole, false);
        }
        let items: Vec<usize> = std::iter::once(0)
            .chain(new_items.iter().scan(0, |item, &new| {
                *item += usize::from(new);
                Some(*item)
            }))
            .collect();
        let shared = share_schedules(&mut pieces, &items);
        join_pieces(med.input, pieces, &shared)
    }

    /// Resolves a text read as one medication (one schedule and route);
    /// `in_list` when it is a piece of a list of drugs (see
    /// [`Resolver::numbered_name_then_sig`]).
    fn resolve_whole(&self, med: MedText, in_list: bool) -> Resolved {
        let input = crate::parse::without_list_number(&med.input);
        let whole = match input.find('[') {
            Some(bracket) => &input[..bracket],
            None => input,
        };
        let first = numbered_first(&med.input, whole);
        let mut out = self.read_names(med.clone(), whole, in_list);
        // `#4 Tylenol`: a list number, or Tylenol #4 written the other way
        // round? Only a name the KB has numbered products of makes it matter.
        if let Some((base, number)) = first
            && self.has_numbered_products(&base)
        {
            out.unresolved.push(format!("#{number}"));
            out.status = Status::Unrecognized;
        }
        out
    }

    /// Reads the names of `med`, whose text without a list number and a
    /// bracketed brand is `whole`.
    fn read_names(&self, med: MedText, whole: &str, in_list: bool) -> Resolved {
        let mut out = Resolved::new(med.clone());
        // A whole input that is itself a known name ("Tylenol #3", "milk of
        // magnesia") wins over splitting it into name, strength and form.
        if let Some(target) = self.kb.lookup(whole)
            && !matches!(target, NameTarget::Class(_))
        {
            let outcome = self.outcome_of(target, None, Vec::new());
            out.med.unparsed.clear();
            let mut ambiguous = false;
            self.apply(&mut out, whole.trim(), outcome, None, &mut ambiguous);
            return out;
        }
        if let Some(numbered) = self.numbered_name_then_sig(whole, &med, in_list) {
            return numbered;
        }
        let mut ambiguous = false;
        let named_parts: Vec<_> = med
            .ingredients
            .iter()
            .filter(|p| !name_key(&p.name).is_empty())
            .collect();
        // No name at all (e.g. "[Lanoxin] 0.25 mg"): fall back to the bracketed brand.
        if named_parts.is_empty() {
            match med.brand_hint.as_deref() {
                Some(brand) => self.apply(
                    &mut out,
                    brand,
                    self.resolve_part(brand),
                    None,
                    &mut ambiguous,
                ),
                None => {
                    out.unresolved.push(med.input.trim().to_owned());
                }
            }
        }
        // Strengths of parts whose name is not known, beside a known drug
        // (`baclofen 30 mg mane and additionally 60 mg nocte`): the dose may
        // be that drug's, so it is reported as not read, never dropped.
        let mut unknown_strengths = Vec::new();
        for part in named_parts {
            let mut outcome = self.resolve_part(&part.name);
            if let (PartOutcome::NotFound(_), Some(brand)) = (&outcome, med.brand_hint.as_deref()) {
                let by_brand = self.resolve_part(brand);
                if matches!(by_brand, PartOutcome::Found { .. }) {
                    outcome = by_brand;
                }
            }
            if let (PartOutcome::NotFound(_), Some(written)) = (&outcome, &part.strength) {
                unknown_strengths.push(written.as_written());
            }
            // Drugs joined in one name (`baclofen ... with a calcium`) share
            // a strength no one of them can be given: reported, as the
            // apply below gives a strength to a single drug only.
            let joined = name_key(&part.name)
                .split(' ')
                .any(|w| JOINING_WORDS.contains(&w));
            if let (true, Some(written), PartOutcome::Found { drugs, .. }) =
                (joined, &part.strength, &outcome)
                && drugs.len() > 1
            {
                out.med.unparsed.push(written.as_written());
            }
            // `tramadol 50 mg and Tylenol 3 1 tab`, `Tylenol 1`: a bare
            // number after a name the KB has numbered products of numbers
            // the product (read as a strength, `Tylenol 3` was acetaminophen
            // 3 and lost its codeine without a word; `Tylenol 1`, a codeine
            // product the KB does not know, still is).
            let base = name_key(&part.name);
            let product_number = part
                .strength
                .as_ref()
                .filter(|s| s.unit.is_none() && s.value.fract() == 0.0)
                .filter(|s| (1.0..=9.0).contains(&s.value))
                .filter(|s| number_follows(whole, &base, s.value as u32))
                .filter(|_| self.has_numbered_products(&base))
                .map(|s| s.value as u32);
            // Names listed with commas between them are read as one name
            // (`baclofen 30 mg tid, tizanidine, 4 mg qhs` as `baclofen
            // tizanidine`, 30 mg): a strength written right after one of
            // them is that drug's. Given to the whole name it was dropped
            // (baclofen's 90 mg/day went unchecked) or given to another drug
            // (`magnesium 400 mg, baclofen, 30 mg qid` as baclofen 400 mg).
            // A strength written after none (a day's doses added up) is read
            // as before.
            let listed = part
                .strength
                .as_ref()
                .filter(|_| product_number.is_none() && spans_a_list(whole, &base))
                .and_then(|s| Some((s.clone(), self.drug_written_before(whole, &base, s)?)));
            let strength = match (product_number, &listed) {
                (None, None) => part.strength.clone(),
                _ => None,
            };
            self.apply(&mut out, &part.name, outcome, strength, &mut ambiguous);
            if let Some(number) = product_number {
                self.apply_product_number(&mut out, &base, number);
            }
            if let Some((written, owner)) = listed {
                match out.ingredients.iter_mut().find(|i| i.drug == owner) {
                    Some(ingredient) if ingredient.strength.is_none() => {
                        ingredient.strength = Some(written);
                    }
                    Some(_) => out.med.unparsed.push(written.as_written()),
                    // A salt word read as the salt of the next name
                    // (`magnesium 400 mg, co-codamol`): the drug it names.
                    None => out.ingredients.push(ResolvedIngredient {
                        drug: owner,
                        strength: Some(written),
                        piece: None,
                    }),
                }
            }
        }
        for (base, number) in product_numbers(whole) {
            self.apply_product_number(&mut out, &base, number);
        }
        self.add_listed_salt_drugs(&mut out, whole);
        if !out.ingredients.is_empty() {
            out.med.unparsed.extend(unknown_strengths);
        }
        out.status = if !out.unresolved.is_empty() {
            Status::Unrecognized
        } else if ambiguous {
            Status::Ambiguous
        } else {
            Status::Recognized
        };
        out
    }

    /// A known name with a number in it (`Tylenol #3`, `PEG 3350`) followed
    /// by a dose or schedule: split into name, strength and form, its
    /// number would be read as a strength and the rest as another name
    /// (`Tylenol #3 1 tab q4h` lost its codeine). The longest such leading
    /// name wins; the words after it are read as the sig, and any name left
    /// in them is reported.
    fn numbered_name_then_sig(
        &self,
        whole: &str,
        med: &MedText,
        in_list: bool,
    ) -> Option<Resolved> {
        // Several ingredients (`vitamin B12 1000 mcg / folic acid 1 mg`) are
        // read part by part.
        if whole.contains(" / ") {
            return None;
        }
        // A count first (`2 tabs Tylenol 3 q6h`) belongs to the sig; so do
        // other sig words before the name (`1–2 tabs`, `1 1/2 tabs`, `2x`,
        // `please take`): the name is looked for after each of them.
        let all: Vec<&str> = whole.split_whitespace().collect();
        let counted = leading_count_words(&all);
        let sig_words = all.iter().take_while(|w| is_sig_prefix_word(w)).count();
        let starts = std::iter::once(counted).chain((0..=sig_words).filter(|&s| s != counted));
        let (lead, (name, target, rest)) = starts
            .filter(|&lead| lead < all.len())
            .find_map(|lead| Some((lead, self.numbered_name_at(&all, lead)?)))?;
        // `Tylenol 2 q6h`: the product `Tylenol 2`, or two `Tylenol`? Only
        // `#2` or `No. 2` says which; a bare number with a sig after it is
        // said to be ambiguous rather than guessed either way. In a list of
        // drugs (`gabapentin 300 mg tid, Tylenol 3 q6h prn`) it is the
        // product, as a bare number after a name in a list is: read as
        // ambiguous, the codeine and its interactions went unchecked.
        let last = name.rsplit(' ').next().unwrap_or("");
        // A count or strength right after it (`Tylenol 3 1 tab`, `Tylenol 3
        // 300/30 mg`) or before it (`2 tabs Tylenol 3`, `1–2 tabs`) says
        // the number is the product's.
        let counted_after = rest.starts_with(|c: char| c.is_ascii_digit());
        let counted_before = all[..lead].iter().any(is_count_word);
        if last.chars().all(|c| c.is_ascii_digit())
            && !in_list
            && !counted_after
            && !counted_before
            && let Some(without) = name.rsplit_once(' ').map(|(base, _)| base)
            && let Some(base) = self.kb.lookup(without)
            && !matches!(base, NameTarget::Class(_))
        {
            let mut out = Resolved::new(med.clone());
            let describe = |target: &NameTarget| -> String {
                self.target_drugs(target)
                    .iter()
                    .map(|d| self.kb.drug_name(*d))
                    .collect::<Vec<_>>()
                    .join(" + ")
            };
            out.candidates = vec![describe(target), describe(base)];
            out.status = Status::Ambiguous;
            return Some(out);
        }
        let sig = crate::parse::parse_med(&rest);
        let mut out = Resolved::new(MedText {
            input: med.input.clone(),
            ingredients: Vec::new(),
            brand_hint: med.brand_hint.clone(),
            route: sig.route,
            frequency: sig.frequency,
            doses_per_day: sig.doses_per_day,
            units_per_dose: sig.units_per_dose,
            dose_ml: sig.dose_ml,
            unparsed: all[..lead]
                .iter()
                .filter(|w| is_times_word(w))
                .map(|w| (*w).to_owned())
                .chain(sig.unparsed)
                .collect(),
        });
        // A strength written after a single drug's name is its strength; a
        // combination's strength cannot be split among its ingredients.
        let mut strength = None;
        // Another drug named after the sig (`Tylenol #3 2 tabs and
        // simvastatin`) is read as a drug, with its own strength.
        let mut others = Vec::new();
        for part in sig.ingredients {
            if !name_key(&part.name).is_empty() {
                others.push(part);
                continue;
            }
            if let Some(written) = part.strength {
                match target {
                    NameTarget::Drug(..) if strength.is_none() => strength = Some(written),
                    _ => out.med.unparsed.push(written.as_written()),
                }
            }
        }
        let mut ambiguous = false;
        let outcome = self.outcome_of(target, None, Vec::new());
        self.apply(&mut out, &name, outcome, strength, &mut ambiguous);
        for part in others {
            let outcome = self.resolve_part(&part.name);
            self.apply(&mut out, &part.name, outcome, part.strength, &mut ambiguous);
        }
        out.status = if !out.unresolved.is_empty() {
            Status::Unrecognized
        } else if ambiguous {
            Status::Ambiguous
        } else {
            Status::Recognized
        };
        Some(out)
    }

    /// `magnesium 400 mg daily and baclofen 100 mg daily`, `digoxin 0.25
    /// mg, magnesium 400 mg`, `tizanidine 4 mg mane with baclofen 60 mg
    /// nocte`: where a joining word or a comma after a dose is followed by
    /// a drug the KB knows that no word before it names, the text is marked
    /// ([`crate::parse::DRUG_MARK`]) to be read piece by piece, each drug
    /// with its own doses (see [`Resolver::resolve`]). A joining word
    /// before any other word (`25 mg, total 100 mg/day`, `30 mg mane and
    /// now 60 mg nocte`) or before the same drug again (`baclofen 30 mg mane
    /// and Lioresal 60 mg nocte`) joins one drug's doses. `None` when
    /// nothing is marked.
    fn mark_joined_drugs(&self, input: &str) -> Option<(String, Vec<bool>)> {
        let lower = input.to_lowercase();
        if lower.len() != input.len() {
            return None;
        }
        let drugs_of = |word: &str| -> Vec<DrugId> {
            if word.len() < 3 || !word.chars().all(|c| c.is_alphabetic() || c == '-') {
                return Vec::new();
            }
            match self.kb.lookup(word) {
                Some(target) if !matches!(target, NameTarget::Class(_)) => {
                    self.target_drugs(target)
                }
                _ => Vec::new(),
            }
        };
        let listing = [",", ";", " and ", " + ", " & ", " plus ", " with ", " w/"];
        // A full stop joins a sentence naming another drug (`baclofen 30 mg
        // qid. tizanidine 4 mg tid`), but lists nothing (`Tylenol No. 3`);
        // bullets and bars join the lines of a pasted list.
        // (Not ` - `, which also stands between a name and its own dose:
        // `baclofen - 25 mg qid`.)
        let items = [". ", " • ", "•", " | "];
        let joiners = [&listing[..], &items[..]].concat();
        // The number of a pasted list's next line (`1) baclofen 30 mg qid
        // 2) tizanidine 4 mg tid`) joins too; so does a joining word with
        // `then` or `also` after it (`magnesium 400 mg, then baclofen`).
        // A numbered line or a sentence is an item of its own.
        let numbered = list_lines(&lower)
            .into_iter()
            .map(|(at, end)| (at, end, true));
        let mut cuts: Vec<(usize, usize, bool)> = joiners
            .iter()
            .flat_map(|j| {
                lower
                    .match_indices(j)
                    .map(|(at, j)| (at, at + j.len(), items.contains(&j)))
            })
            .chain(numbered)
            .map(|(at, end, item)| {
                let rest = &lower[end..];
                let next = rest.trim_start();
                let skip = ["then ", "also "]
                    .iter()
                    .find(|w| next.starts_with(*w))
                    .map_or(0, |w| rest.len() - next.len() + w.len());
                (at, end + skip, item)
            })
            .filter(|&(at, end, _)| {
                let before = &lower[..at];
                let Some(word) = lower[end..].split_whitespace().next() else {
                    return false;
                };
                // `30 mg mane, magnesium oxide, 60 mg nocte`: a name with no
                // dose of its own, followed by a joining word and a dose, is
                // listed between the first drug's doses, not joined to the
                // dose after it (which stays the first drug's).
                let piece_end = listing
                    .iter()
                    .chain(items.iter().filter(|j| **j != ". "))
                    .filter_map(|j| {
                        lower[end..]
                            .find(j)
                            .map(|at| (end + at, end + at + j.len()))
                    })
                    .min();
                // After the piece, a number comes before the name of any drug
                // with a dose of its own (`, magnesium, and 60 mg nocte`,
                // `, magnesium, calcium, 60 mg nocte`): that dose is not the
                // listed name's. When unsure the text is left whole, and a
                // dose that cannot be placed is reported as not read.
                let sandwiched = piece_end.is_some_and(|(piece_end, next)| {
                    !lower[end..piece_end].contains(|c: char| c.is_ascii_digit())
                        && lower[next..]
                            .split_whitespace()
                            .find(|w| {
                                let listed_alone = w.ends_with([',', ';']);
                                let name = w.trim_matches(|c: char| !c.is_alphanumeric());
                                w.starts_with(|c: char| c.is_ascii_digit())
                                    || (!listed_alone && !drugs_of(name).is_empty())
                            })
                            .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()))
                });
                let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
                let joined = if sandwiched {
                    Vec::new()
                } else {
                    drugs_of(word)
                };
                let named_before = before
                    .split(|c: char| !c.is_alphanumeric())
                    .flat_map(drugs_of)
                    .any(|d| joined.contains(&d));
                // A sentence before a full stop names a drug of its own (not
                // a sig: `Take 1 tablet every 6 hours. Tylenol 3`), and the
                // next reads as a medication (not a note: `Magnesium level
                // 1.5.`).
                let sentence_of_a_drug = !lower[at..].starts_with(". ")
                    || (before
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| !drugs_of(w).is_empty())
                        && next_sentence_has_a_dose(&lower[end..]));
                sentence_of_a_drug
                    && before.contains(|c: char| c.is_ascii_digit())
                    && before.contains(char::is_alphabetic)
                    && !joined.is_empty()
                    && !named_before
            })
            .collect();
        if cuts.is_empty() {
            return None;
        }
        cuts.sort_unstable();
        let mut out = String::with_capacity(input.len() + 4 * cuts.len());
        let mut items = Vec::with_capacity(cuts.len());
        let mut last = 0;
        for (at, end, item) in cuts {
            if at < last {
                continue;
            }
            out.push_str(&input[last..at]);
            out.push(' ');
            out.push(crate::parse::DRUG_MARK);
            out.push(' ');
            items.push(item);
            last = end;
        }
        out.push_str(&input[last..]);
        Some((out, items))
    }

    /// `digoxin, magnesium`: a drug named by a salt word after a comma is
    /// another drug, not the salt of the name before it (read as one name,
    /// `digoxin magnesium`, it was dropped without a word). Each piece
    /// after a comma or semicolon is parsed on its own (`digoxin 0.25 mg,
    /// magnesium 400 mg daily`); its strength stays reported as not read.
    /// The piece before the first comma counts too (`magnesium, then
    /// tizanidine 4 mg nocte` had dropped the magnesium).
    fn add_listed_salt_drugs(&self, out: &mut Resolved, whole: &str) {
        if !whole.contains([',', ';']) {
            return;
        }
        for piece in whole.split([',', ';']) {
            let parsed = crate::parse::parse_med(piece);
            let Some(name) = parsed.ingredients.first().map(|part| part.name.as_str()) else {
                continue;
            };
            let key = name_key(name);
            let salt_first = key
                .split(' ')
                .next()
                .is_some_and(|first| SALT_WORDS.contains(&first));
            if !salt_first {
                continue;
            }
            if let PartOutcome::Found {
                drugs,
                by,
                fuzzy: None,
                ..
            } = self.resolve_part(name)
            {
                out.matched_by = Some(out.matched_by.map_or(by, |m| m.max(by)));
                add_drugs(out, drugs);
            }
        }
    }

    /// The longest known name with a number in it starting at word `lead`
    /// of `all` (`Tylenol 3`), its target, and the other words joined (the
    /// sig).
    fn numbered_name_at(
        &self,
        all: &[&str],
        lead: usize,
    ) -> Option<(String, &'kb NameTarget, String)> {
        let words = &all[lead..];
        (1..=words.len()).rev().find_map(|k| {
            let name = words[..k].join(" ");
            if !name.contains(|c: char| c.is_ascii_digit()) {
                return None;
            }
            // `Tylenol 2 tabs`, `Tylenol 3 times daily`: the number counts
            // tablets or doses; it is no part of the name.
            let counted = words[k - 1].chars().all(|c| c.is_ascii_digit())
                && words.get(k).is_some_and(|w| is_counted_word(w));
            if counted {
                return None;
            }
            let target = self.kb.lookup(&name)?;
            // `please`, `give`, `of` before the name say nothing the sig
            // reads (`take 2 tablets of Tylenol 3`).
            let said = all[..lead].iter().filter(|w| {
                !matches!(w.to_lowercase().as_str(), "please" | "give" | "of") && !is_times_word(w)
            });
            let rest = said.chain(&words[k..]).copied();
            (!matches!(target, NameTarget::Class(_)))
                .then(|| (name, target, rest.collect::<Vec<_>>().join(" ")))
        })
    }

    fn apply(
        &self,
        out: &mut Resolved,
        written: &str,
        outcome: PartOutcome,
        strength: Option<Strength>,
        ambiguous: &mut bool,
    ) {
        match outcome {
            PartOutcome::Found {
                drugs,
                by,
                ignored,
                fuzzy,
            } => {
                out.matched_by = Some(out.matched_by.map_or(by, |m| m.max(by)));
                let single = drugs.len() == 1;
                for drug in drugs {
                    match out.ingredients.iter().find(|i| i.drug == drug) {
                        None => out.ingredients.push(ResolvedIngredient {
                            drug,
                            strength: if single { strength.clone() } else { None },
                            piece: None,
                        }),
                        // The same drug named again with another strength
                        // (`baclofen 30 mg mane and Lioresal 60 mg nocte`,
                        // `baclofen 20 mg tid and baclofen 10 mg tid`): one
                        // medication holds one strength, so the second is
                        // reported, never dropped.
                        Some(first) => {
                            if let Some(written) = strength
                                .as_ref()
                                .filter(|s| single && first.strength.as_ref() != Some(*s))
                            {
                                out.med.unparsed.push(written.as_written());
                            }
                        }
                    }
                }
                // A leftover word inside a recognized name ("zorblax" in
                // "aspirin zorblax") may be another drug: never drop it silently.
                // A joining word with nothing after it joins nothing: `Sudafed
                // Plus`, `Advil Plus` name products with another drug in them.
                let dangling = name_key(written)
                    .rsplit(' ')
                    .next()
                    .filter(|last| *last == "plus" || *last == "with")
                    .map(str::to_owned);
                let (connectors, others): (Vec<String>, Vec<String>) =
                    ignored.into_iter().partition(|w| {
                        CONNECTOR_WORDS.contains(&w.as_str()) && dangling.as_deref() != Some(w)
                    });
                out.ignored_words.extend(connectors);
                // `with` is also a salt word (`with calcium`), so a trailing
                // one is dropped before the name is looked up: `Tylenol
                // with` is read as Tylenol with nothing left over.
                let others: Vec<String> = match dangling {
                    Some(word) if !others.contains(&word) => {
                        others.into_iter().chain([word]).collect()
                    }
                    _ => others,
                };
                for word in &others {
                    out.unresolved
                        .push(crate::parse::as_typed(word, &out.med.input));
                    if let PartOutcome::NotFound(suggestions) = self.fuzzy(word, &[word]) {
                        for s in suggestions {
                            if !out.suggestions.contains(&s) {
                                out.suggestions.push(s);
                            }
                        }
                    }
                }
                if let Some(target) = fuzzy {
                    out.fuzzy.push((written.to_owned(), target));
                }
            }
            PartOutcome::Ambiguous(candidates) => {
                *ambiguous = true;
                for c in candidates {
                    let name = self.kb.drug_name(c).to_owned();
                    if !out.candidates.contains(&name) {
                        out.candidates.push(name);
                    }
                }
            }
            PartOutcome::NotFound(suggestions) => {
                out.unresolved.push(written.to_owned());
                for s in suggestions {
                    if !out.suggestions.contains(&s) {
                        out.suggestions.push(s);
                    }
                }
            }
        }
    }

    fn exact(&self, key: &str) -> Option<PartOutcome> {
        let target = self.kb.lookup(key)?;
        Some(self.outcome_of(target, None, Vec::new()))
    }

    fn outcome_of(
        &self,
        target: &NameTarget,
        fuzzy: Option<String>,
        ignored: Vec<String>,
    ) -> PartOutcome {
        let fuzzy_by = |by: MatchedBy| {
            if fuzzy.is_some() {
                MatchedBy::Fuzzy
            } else {
                by
            }
        };
        match target {
            NameTarget::Drug(id, kind) => PartOutcome::Found {
                drugs: vec![*id],
                by: fuzzy_by(match kind {
                    NameKind::Generic => MatchedBy::Generic,
                    NameKind::Synonym => MatchedBy::Synonym,
                    NameKind::Brand => MatchedBy::Brand,
                }),
                ignored,
                fuzzy,
            },
            NameTarget::Product(ids) => PartOutcome::Found {
                drugs: ids.clone(),
                by: fuzzy_by(MatchedBy::Product),
                ignored,
                fuzzy,
            },
            NameTarget::Class(c) => {
                PartOutcome::Ambiguous(self.kb.classes[*c as usize].members.clone())
            }
        }
    }

    fn target_drugs(&self, target: &NameTarget) -> Vec<DrugId> {
        match target {
            NameTarget::Drug(id, _) => vec![*id],
            NameTarget::Product(ids) => ids.clone(),
            NameTarget::Class(c) => self.kb.classes[*c as usize].members.clone(),
        }
    }

    fn resolve_part(&self, name: &str) -> PartOutcome {
        let key = us_spelling(&name_key(name));
        if let Some(found) = self.exact(&key) {
            return found;
        }
        if let Some(found) = self.joined(name) {
            return found;
        }
        let words: Vec<&str> = key.split(' ').collect();
        let kept: Vec<&str> = words
            .iter()
            .copied()
            .filter(|w| !SALT_WORDS.contains(w))
            .collect();
        if !kept.is_empty()
            && kept.len() < words.len()
            && let Some(found) = self.exact(&kept.join(" "))
        {
            return found;
        }
        if let Some(found) = self.scan_words(&kept) {
            return found;
        }
        // An ingredient whose name is made of salt words (`magnesium oxide`,
        // `ferrous sulfate`, `potassium chloride`) is found among all the
        // words, with the other words reported, not the whole name lost.
        if kept.len() < words.len()
            && let Some(found) = self.scan_words(&words)
        {
            return found;
        }
        self.fuzzy(&key, &kept)
    }

    /// Names joined by `and`, `with` or `+` (`quinine and magnesium`,
    /// `Slow-Mag with calcium`), each read on its own: read as one name, a
    /// drug named by a salt word (magnesium, calcium, potassium) was taken
    /// for the salt of the name before it and dropped without a word.
    /// A side that is ambiguous or unknown is reported as words not read.
    /// `None` when the key joins nothing or no side is known (the whole is
    /// then read as before).
    fn joined(&self, name: &str) -> Option<PartOutcome> {
        let key = us_spelling(&name_key(&name.replace(['+', '&'], " and ")));
        let words: Vec<&str> = key.split(' ').collect();
        let sides: Vec<&[&str]> = words.split(|w| JOINING_WORDS.contains(w)).collect();
        if sides.len() < 2 || sides.iter().any(|side| side.is_empty()) {
            return None;
        }
        let mut drugs: Vec<DrugId> = Vec::new();
        let mut by = MatchedBy::Generic;
        let mut ignored = Vec::new();
        let mut fuzzy = None;
        let mut known = false;
        for side in sides {
            match self.resolve_part(&side.join(" ")) {
                PartOutcome::Found {
                    drugs: found,
                    by: side_by,
                    ignored: side_ignored,
                    fuzzy: side_fuzzy,
                } => {
                    known = true;
                    by = by.max(side_by);
                    for drug in found {
                        if !drugs.contains(&drug) {
                            drugs.push(drug);
                        }
                    }
                    ignored.extend(side_ignored);
                    fuzzy = fuzzy.or(side_fuzzy);
                }
                // `digoxin and macrolides`: the class is not guessed at; its
                // words are reported as not read, the other side checked.
                PartOutcome::Ambiguous(_) | PartOutcome::NotFound(_) => {
                    ignored.extend(side.iter().map(|w| (*w).to_owned()))
                }
            }
        }
        known.then_some(PartOutcome::Found {
            drugs,
            by,
            ignored,
            fuzzy,
        })
    }

    /// Finds the longest known names inside a multi-word name ("biaxin
    /// filmtab" → biaxin), reporting the words left over.
    fn scan_words(&self, words: &[&str]) -> Option<PartOutcome> {
        if words.len() < 2 {
            return None;
        }
        let mut used = vec![false; words.len()];
        let mut found: Vec<(usize, PartOutcome)> = Vec::new();
        for len in (1..words.len()).rev() {
            for start in 0..=words.len() - len {
                if used[start..start + len].iter().any(|u| *u) {
                    continue;
                }
                let phrase = words[start..start + len].join(" ");
                if phrase.len() < 3 {
                    continue;
                }
                if let Some(outcome) = self.exact(&phrase) {
                    used[start..start + len].iter_mut().for_each(|u| *u = true);
                    found.push((start, outcome));
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        found.sort_by_key(|(start, _)| *start);
        let ignored: Vec<String> = words
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(w, _)| (*w).to_owned())
            .collect();
        let mut drugs = Vec::new();
        let mut by = MatchedBy::Generic;
        let mut candidates = Vec::new();
        for (_, outcome) in found {
            match outcome {
                PartOutcome::Found {
                    drugs: d, by: b, ..
                } => {
                    by = by.max(b);
                    // A drug named twice (`baclofen (LIORESAL)`) is one.
                    for drug in d {
                        if !drugs.contains(&drug) {
                            drugs.push(drug);
                        }
                    }
                }
                PartOutcome::Ambiguous(c) => candidates.extend(c),
                PartOutcome::NotFound(_) => {}
            }
        }
        if drugs.is_empty() {
            return Some(PartOutcome::Ambiguous(candidates));
        }
        Some(PartOutcome::Found {
            drugs,
            by,
            ignored,
            fuzzy: None,
        })
    }

    /// Accepts a misspelling only when it is one edit (a letter added,
    /// dropped, changed, or two swapped) from a known name of five letters
    /// or more, and no name of other ingredients is within two edits: a
    /// real drug the KB does not know is often two or three edits from one
    /// it does (iproniazid and isoniazid, cloxacillin and dicloxacillin), and
    /// taking it for that drug would check the wrong medication without a
    /// word. Several equally close ingredients make the name ambiguous;
    /// otherwise the name is unrecognized with the closest names suggested.
    fn fuzzy(&self, key: &str, kept: &[&str]) -> PartOutcome {
        let query = kept.join(" ");
        let query = if query.is_empty() { key } else { &query };
        let limit = if query.chars().count() >= 5 { 1 } else { 0 };
        // Both measures cost the product of the lengths; skipped where the
        // lengths alone rule a name out (the edit distance is at least their
        // difference, and a Jaro-Winkler of 0.88 needs the shorter to be 0.4
        // of the longer), so a long line of text is not compared in full
        // with every name the KB knows.
        let query_len = query.chars().count();
        let mut scored: Vec<(usize, f64, &str, &NameTarget)> = self
            .fuzzy_keys()
            .iter()
            .map(|(k, t)| {
                let key_len = k.chars().count();
                let (short, long) = (query_len.min(key_len), query_len.max(key_len));
                let distance = if long - short <= 3 {
                    strsim::damerau_levenshtein(query, k)
                } else {
                    usize::MAX
                };
                let similarity = if short * 5 >= long * 2 {
                    strsim::jaro_winkler(query, k)
                } else {
                    0.0
                };
                (distance, similarity, *k, *t)
            })
            .collect();
        scored.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(b.2)));
        let mut suggestions: Vec<String> = Vec::new();
        for (_, _, k, t) in scored.iter().filter(|(d, jw, _, _)| *d <= 3 || *jw >= 0.88) {
            let shown = self.spelled_out(k, t);
            if !suggestions.contains(&shown) {
                suggestions.push(shown);
            }
            if suggestions.len() == 3 {
                break;
            }
        }
        let Some(&(best, _, best_key, best_target)) = scored.first() else {
            return PartOutcome::NotFound(suggestions);
        };
        // The known name must be five letters or more too: "somac" is one
        // letter from "soma" (carisoprodol) and is another drug.
        if limit == 0 || best > limit || best_key.chars().count() < 5 {
            return PartOutcome::NotFound(suggestions);
        }
        let mut distinct: Vec<Vec<DrugId>> = Vec::new();
        for (_, _, _, target) in scored.iter().take_while(|(d, _, _, _)| *d == best) {
            let drugs = self.target_drugs(target);
            if !distinct.contains(&drugs) {
                distinct.push(drugs);
            }
        }
        if distinct.len() > 1 {
            let mut candidates: Vec<DrugId> = distinct.into_iter().flatten().collect();
            candidates.sort_unstable();
            candidates.dedup();
            return PartOutcome::Ambiguous(candidates);
        }
        let close_to_another = |only: &Vec<DrugId>| {
            scored
                .iter()
                .take_while(|(d, _, _, _)| *d <= best + 1)
                .any(|(_, _, _, target)| self.target_drugs(target) != *only)
        };
        if distinct.first().is_none_or(close_to_another) {
            return PartOutcome::NotFound(suggestions);
        }
        self.outcome_of(best_target, Some(best_key.to_owned()), Vec::new())
    }
}

/// Each product number written `#N` right after a name (`Tylenol #1`, `2
/// tabs Tylenol #4 q6h`): the key of the name words just before it, and N.
/// A `#30` after a strength or a sig (`oxycodone 5 mg #30`) counts what is
/// dispensed and is no product number; a `#` with no name before it
/// numbers a list.
fn product_numbers(text: &str) -> Vec<(String, u32)> {
    text.match_indices('#')
        .filter_map(|(at, _)| {
            let digits: String = text[at + 1..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let number = digits.parse().ok()?;
            let mut name: Vec<&str> = text[..at]
                .split_whitespace()
                .rev()
                .take_while(|w| !w.contains(|c: char| c.is_ascii_digit()) && !is_counted_word(w))
                .collect();
            name.reverse();
            let base = name_key(&name.join(" "));
            (!base.is_empty()).then_some((base, number))
        })
        .collect()
}

/// A `#N` list number stripped from the front of `input`, with the key of
/// the name words after it (`#4 Tylenol` → `tylenol`, 4), when the rest
/// carries no product number of its own.
fn numbered_first(input: &str, rest: &str) -> Option<(String, u32)> {
    let digits: String = input
        .trim_start()
        .strip_prefix('#')?
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if rest.contains('#') || rest.len() == input.len() {
        return None;
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let name_len = words
        .iter()
        .take_while(|w| !w.contains(|c: char| c.is_ascii_digit()))
        .count();
    // `#2 Tylenol 3`: the product has its number; the first one is the
    // list's. A number that counts tablets (`#3 Tylenol 2 tabs`) is no
    // product number.
    let counts_units = words.get(name_len + 1).is_some_and(|w| is_counted_word(w));
    if words
        .get(name_len)
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()))
        && !counts_units
    {
        return None;
    }
    let base = name_key(&words[..name_len].join(" "));
    (!base.is_empty()).then_some((base, digits.parse().ok()?))
}

/// How many of the first words count what is taken (`2`, `2 tabs`, `1
/// cap`): the sig's, before a name (`2 tabs Tylenol 3 q6h`).
fn leading_count_words(words: &[&str]) -> usize {
    // `2`, `1-2`, `1/2`, `0.5`, `two`, `ii`: a count word, its digits
    // written plain (`2x` is not one here).
    let is_count = |w: &&str| {
        is_count_word(w)
            && (!w.starts_with(|c: char| c.is_ascii_digit())
                || w.chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.')))
    };
    // `take`, then a count, a range of counts (`1 to 2`, `1 - 2`, `one or
    // two`), a unit word and `of`: all the sig's.
    let mut at = usize::from(
        words
            .first()
            .is_some_and(|w| w.eq_ignore_ascii_case("take")),
    );
    if !words.get(at).is_some_and(is_count) {
        return 0;
    }
    at += 1;
    if words
        .get(at)
        .is_some_and(|w| matches!(w.to_lowercase().as_str(), "to" | "-" | "or" | "–"))
        && words.get(at + 1).is_some_and(is_count)
    {
        at += 2;
    }
    if words.get(at).is_some_and(|w| is_counted_word(w)) {
        at += 1;
        if words.get(at).is_some_and(|w| w.eq_ignore_ascii_case("of")) {
            at += 1;
        }
    }
    // A name must follow.
    match words.get(at) {
        Some(next) if !is_count(next) => at,
        _ => 0,
    }
}

/// Whether a piece after the first writes a dose that may be an earlier
/// drug's: a dose after its own schedule (`magnesium oxide 400 mg daily,
/// also 60 mg nocte`, `..., two tabs nocte`: its own piece gave it to the
/// magnesium, and the baclofen's 90 mg/day passed as 30), a word that
/// speaks of several drugs (`2 tabs each`, `both tid`), or, after a
/// joining word, an amount with no name before it (`doxycycline 100 mg,
/// 324 mg qhs` after quinine), or a tablet count with no name before it
/// when its own drug was listed with no dose (`baclofen 30 mg tid and
/// tizanidine and 2 tabs hs`) or an earlier drug has a dose at a time of
/// day the count may complete. A count after a drug's own strength is its
/// own (`Metoprolol 25 MG Oral Tablet, 0.5 tab bid`). The text is
/// then read whole, where such a dose is reported as not read. Even a dose
/// that looks like the rest of the piece's own day (`magnesium 400 mg
/// daily and baclofen 50 mg mane and 50 mg nocte`) is not given to it on a
/// guess: `orphenadrine 100 mg daily, tizanidine 4 mg mane, 200 mg nocte`
/// had become tizanidine 204 mg, and orphenadrine's 300 mg/day passed.
fn dose_may_be_an_earlier_drugs(pieces: &[Resolved]) -> bool {
    pieces.iter().enumerate().skip(1).any(|(at, piece)| {
        let text = &piece.med.input;
        let earlier_at_a_time = pieces[..at]
            .iter()
            .any(|p| crate::parse::has_dose_at_a_time(&p.med.input));
        crate::parse::dose_after_schedule(text)
            || crate::parse::names_several(text)
            || crate::parse::bare_dose_after_join(text).is_some_and(|bare| {
                bare.mass
                    || !bare.before.contains(|c: char| c.is_ascii_digit())
                    || earlier_at_a_time
            })
    })
}

/// Gives each piece that wrote a dose but no schedule the schedule of the
/// piece with the most doses a day (`baclofen 40 mg and tizanidine 4 mg
/// tid`: the `tid` may be both drugs'; read as one dose, 120 mg/day of
/// baclofen would pass): its frequency, its route when the piece wrote
/// none, and its tablets a dose when more than one. A name listed with no
/// dose takes none, and only pieces of one item share (`1) tizanidine 4 mg
/// tid 2) baclofen 40 mg`: a numbered line or a sentence is an item of its
/// own). Returns, per piece, whether it took another's.
fn share_schedules(pieces: &mut [Resolved], items: &[usize]) -> Vec<bool> {
    // The piece with the most doses a day in each item.
    let donor_of = |item: usize| {
        pieces
            .iter()
            .enumerate()
            .filter(|&(at, p)| items[at] == item && p.med.frequency.is_some())
            .max_by(|(_, a), (_, b)| {
                let per_day = |p: &Resolved| p.med.doses_per_day.unwrap_or(0.0);
                per_day(a).total_cmp(&per_day(b))
            })
            .map(|(_, p)| p.med.clone())
    };
    let donors: Vec<Option<MedText>> = items.iter().map(|&item| donor_of(item)).collect();
    pieces
        .iter_mut()
        .zip(donors)
        .map(|(piece, donor)| {
            let med = &mut piece.med;
            let dosed = med.units_per_dose.is_some()
                || med.dose_ml.is_some()
                || piece.ingredients.iter().any(|i| i.strength.is_some());
            let Some(sig) = donor.filter(|_| med.frequency.is_none() && dosed) else {
                return false;
            };
            med.frequency.clone_from(&sig.frequency);
            med.doses_per_day = sig.doses_per_day;
            // A volume with a schedule is the dose (`Fleqsuvy 5 mg/mL 5 mL`
            // before `qid`); alone, it was read as the bottle.
            if med.dose_ml.is_none()
                && let Some(frequency) = &sig.frequency
            {
                let with_schedule = format!("{} {}", med.input, frequency.replace(" + ", " and "));
                med.dose_ml = crate::parse::parse_med(&with_schedule).dose_ml;
            }
            if med.route.is_none() {
                med.route.clone_from(&sig.route);
            }
            if med.units_per_dose.is_none() && sig.units_per_dose.is_some_and(|u| u > 1.0) {
                med.units_per_dose = sig.units_per_dose;
            }
            true
        })
        .collect()
}

/// One medication of its read pieces: the ingredients in order, each
/// pointing at its piece, with every piece's names, unread words and the
/// worst status. The whole text's route and schedule are the pieces' when
/// they all agree.
fn join_pieces(input: String, pieces: Vec<Resolved>, shared: &[bool]) -> Resolved {
    fn agreed<T: PartialEq + Clone>(
        pieces: &[Resolved],
        field: impl Fn(&MedText) -> &Option<T>,
    ) -> Option<T> {
        let first = field(&pieces.first()?.med);
        pieces
            .iter()
            .all(|p| field(&p.med) == first)
            .then(|| first.clone())
            .flatten()
    }
    let med = MedText {
        input,
        route: agreed(&pieces, |m| &m.route),
        frequency: agreed(&pieces, |m| &m.frequency),
        doses_per_day: agreed(&pieces, |m| &m.doses_per_day),
        units_per_dose: agreed(&pieces, |m| &m.units_per_dose),
        dose_ml: agreed(&pieces, |m| &m.dose_ml),
        brand_hint: pieces.iter().find_map(|p| p.med.brand_hint.clone()),
        ..MedText::default()
    };
    let rank = |status: Status| match status {
        Status::Recognized => 0,
        Status::Ambiguous => 1,
        Status::Unrecognized => 2,
    };
    let mut out = Resolved::new(med);
    for (at, (piece, &shared_sig)) in pieces.into_iter().zip(shared).enumerate() {
        out.med
            .ingredients
            .extend(piece.med.ingredients.iter().cloned());
        out.med.unparsed.extend(piece.med.unparsed.iter().cloned());
        if rank(piece.status) > rank(out.status) {
            out.status = piece.status;
        }
        out.matched_by = match (out.matched_by, piece.matched_by) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        out.ingredients
            .extend(
                piece
                    .ingredients
                    .into_iter()
                    .map(|ingredient| ResolvedIngredient {
                        piece: Some(at),
                        ..ingredient
                    }),
            );
        out.candidates.extend(piece.candidates);
        out.suggestions.extend(piece.suggestions);
        out.unresolved.extend(piece.unresolved);
        out.ignored_words.extend(piece.ignored_words);
        out.fuzzy.extend(piece.fuzzy);
        out.pieces.push(Piece {
            med: piece.med,
            shared_sig,
            status: piece.status,
        });
    }
    out
}

/// The number of a pasted list's line (`2) `, `(3) `, `4. `, `5: `, `#6 `,
/// `7 - `), at the start of a text or after a space.
static LIST_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r"(?:^|\s)(?:\(([0-9]{1,2})\)|#([0-9]{1,2})[.):]?|([0-9]{1,2})(?:[.):]|\s-))\s",
    )
    .unwrap_or_else(|e| panic!("built-in regex: {e}"))
});

/// Where the numbers of a pasted list's later lines stand in `lower`: only
/// in a text that starts with a line's number (`1) baclofen ... 2)
/// tizanidine`, `9. ... 10. ...`), and only the numbers that follow on from
/// it. Elsewhere a number before a full stop is a product's or a count
/// (`Tylenol 3. lorazepam 1 mg`, `take 3. doxycycline`), and was lost as a
/// list number.
fn list_lines(lower: &str) -> Vec<(usize, usize)> {
    let text = lower.trim_start();
    let lead = lower.len() - text.len();
    let number = |c: &regex::Captures<'_>| -> Option<u32> {
        c.get(1).or(c.get(2)).or(c.get(3))?.as_str().parse().ok()
    };
    let mut lines = LIST_LINE.captures_iter(text);
    let Some(mut next) = lines
        .next()
        .filter(|c| c.get(0).is_some_and(|m| m.start() == 0))
        .and_then(|c| number(&c))
        .map(|n| n + 1)
    else {
        return Vec::new();
    };
    lines
        .filter_map(|c| {
            let whole = c.get(0)?;
            (number(&c)? == next).then(|| {
                next += 1;
                (lead + whole.start(), lead + whole.end())
            })
        })
        .collect()
}

/// Whether the sentence starting `rest` (up to the next full stop and
/// space) reads as a medication: a dose with a unit, a schedule, a tablet
/// count, or a name alone (`codeine.`), not a note (`Magnesium level
/// 1.5.`).
fn next_sentence_has_a_dose(rest: &str) -> bool {
    let sentence = rest.split(". ").next().unwrap_or(rest);
    let med = crate::parse::parse_med(sentence);
    med.frequency.is_some()
        || med.units_per_dose.is_some()
        || sentence.split_whitespace().count() <= 2
        || med
            .ingredients
            .iter()
            .any(|part| part.strength.as_ref().is_some_and(|s| s.unit.is_some()))
}

/// Whether the words of `name` (a name key) stand in `whole` with a comma
/// or semicolon between the first and the last: names of a list read as
/// one.
fn spans_a_list(whole: &str, name: &str) -> bool {
    let lower = whole.to_lowercase();
    let mut words = name.split(' ');
    let (Some(first), Some(last)) = (words.next(), name.rsplit(' ').next()) else {
        return false;
    };
    if first == last {
        return false;
    }
    let Some(start) = lower.find(first) else {
        return false;
    };
    lower[start..]
        .rfind(last)
        .is_some_and(|end| lower[start..start + end].contains([',', ';']))
}

/// Adds each of `drugs` not already among `out`'s ingredients, with no
/// strength (a product's ingredients, a drug listed by name alone).
fn add_drugs(out: &mut Resolved, drugs: Vec<DrugId>) {
    for drug in drugs {
        if !out.ingredients.iter().any(|i| i.drug == drug) {
            out.ingredients.push(ResolvedIngredient {
                drug,
                strength: None,
                piece: None,
            });
        }
    }
}

/// Whether `number` is written right after the name whose key is `base`
/// (`Tylenol 3`, not `2 Tylenol` or `Tylenol x 2`).
fn number_follows(whole: &str, base: &str, number: u32) -> bool {
    let key = name_key(whole);
    let words: Vec<&str> = key.split(' ').collect();
    let name: Vec<&str> = base.split(' ').collect();
    let number = number.to_string();
    words
        .windows(name.len() + 1)
        .any(|w| w[..name.len()] == name[..] && w[name.len()] == number)
}

/// Whether a word before a drug's name belongs to the sig (`1–2`, `1/2`,
/// `2x`, `tabs`, `take`, `please`, `of`), so the name may start after it.
fn is_sig_prefix_word(word: &&str) -> bool {
    let lower = word.to_lowercase();
    word.contains(|c: char| c.is_ascii_digit())
        || is_counted_word(word)
        || is_count_word(word)
        || matches!(
            lower.as_str(),
            "take" | "please" | "give" | "of" | "to" | "or" | "and" | "a" | "x" | "-" | "–" | "—"
        )
}

/// `2x` before a name: twice a day, or two tablets? Left out of the sig
/// and reported, not guessed either way.
fn is_times_word(word: &str) -> bool {
    word.len() > 1
        && word.to_lowercase().ends_with('x')
        && word[..word.len() - 1].chars().all(|c| c.is_ascii_digit())
}

/// Whether a word counts tablets or doses (`2`, `1–2`, `1/2`, `two`,
/// `half`, `ii`).
fn is_count_word(word: &&str) -> bool {
    let lower = word.to_lowercase();
    lower.starts_with(|c: char| c.is_ascii_digit())
        || matches!(
            lower.as_str(),
            "one" | "two" | "three" | "four" | "half" | "i" | "ii" | "iii"
        )
}

/// Whether `#n` may grade a codeine product (`Tylenol #3`, `Fiorinal #3`,
/// `Empirin #4`: No. 1 to 4 are codeine 7.5 to 60 mg).
fn codeine_grade(n: u32) -> bool {
    (1..=4).contains(&n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kb::{KbSource, load};

    #[test]
    fn a_word_with_a_capital_greek_mu_is_reported_as_written() {
        // `ΜG` (capital Mu) is no unit: reported as typed, not as the `μg`
        // the parser would read as micrograms.
        let med = resolved("levothyroxine 50 ΜG daily");
        assert_eq!(med.unresolved, ["ΜG"]);
        let med = resolved("levothyroxine 50ΜG daily");
        assert!(
            med.unresolved.iter().all(|w| !w.contains('\u{3bc}')),
            "{:?}",
            med.unresolved
        );
        // Other leftover words stay as read.
        assert_eq!(resolved("aspirin Zorblax").unresolved, ["zorblax"]);
    }

    fn resolved(text: &str) -> Resolved {
        let kb = load(&KbSource::Embedded).expect("embedded KB");
        Resolver::new(&kb).resolve(crate::parse::parse_med(text))
    }

    /// The frequency and doses a day read for `drug` in `med`.
    fn schedule_of(kb_name: &str, med: &Resolved) -> (Option<String>, Option<f64>, bool) {
        let kb = load(&KbSource::Embedded).expect("embedded KB");
        let ingredient = med
            .ingredients
            .iter()
            .find(|i| kb.drug_name(i.drug) == kb_name)
            .unwrap_or_else(|| panic!("{kb_name} not in {med:?}"));
        let sig = med.dose_text(ingredient);
        (
            sig.frequency.clone(),
            sig.doses_per_day,
            med.sig_may_be_anothers(ingredient),
        )
    }

    #[test]
    fn drugs_with_doses_of_their_own_keep_their_own_schedule_and_route() {
        let med = resolved("baclofen 30 mg tid, tizanidine 8 mg qid");
        assert_eq!(med.pieces.len(), 2);
        assert_eq!(
            schedule_of("baclofen", &med),
            (Some("tid".to_owned()), Some(3.0), false)
        );
        assert_eq!(
            schedule_of("tizanidine", &med),
            (Some("qid".to_owned()), Some(4.0), false)
        );
        // The whole text has no one schedule.
        assert_eq!(med.med.frequency, None);
        let med = resolved("baclofen 500 mcg/day intrathecal, oxybutynin 5 mg po tid");
        let kb = load(&KbSource::Embedded).expect("embedded KB");
        let drug = |name: &str| kb.drug_by_name(name).expect("known drug");
        assert_eq!(med.route_of(drug("baclofen")), Some("intrathecal"));
        assert_eq!(med.route_of(drug("oxybutynin")), Some("oral"));
        assert!(!med.reaches_gut(drug("baclofen")));
    }

    #[test]
    fn a_piece_without_a_schedule_takes_the_one_with_the_most_doses() {
        let med = resolved("baclofen 40 mg and tizanidine 4 mg tid");
        assert_eq!(
            schedule_of("baclofen", &med),
            (Some("tid".to_owned()), Some(3.0), true)
        );
        assert_eq!(
            schedule_of("tizanidine", &med),
            (Some("tid".to_owned()), Some(3.0), false)
        );
        // A name listed without a dose takes none.
        let med = resolved("baclofen 30 mg tid, tizanidine");
        assert_eq!(schedule_of("tizanidine", &med), (None, None, false));
    }

    #[test]
    fn a_dose_that_may_be_an_earlier_drugs_leaves_the_text_whole() {
        for text in [
            "baclofen 30 mg am, magnesium oxide 400 mg am, 60 mg pm",
            "baclofen 30 mg mane, magnesium 400 mg at noon, 60 mg nocte",
            "tizanidine 4 mg mane and baclofen 60 mg nocte and 40 mg mane",
        ] {
            let med = resolved(text);
            assert!(med.pieces.is_empty(), "{text}: {med:?}");
            assert!(!med.med.unparsed.is_empty(), "{text}: {med:?}");
        }
        // Even doses that look like the rest of the later drug's day.
        let med = resolved("magnesium 400 mg daily and baclofen 50 mg mane and 50 mg nocte");
        assert!(med.pieces.is_empty(), "{med:?}");
        // A piece with one dose of its own is a piece.
        let med = resolved("magnesium 400 mg daily and baclofen 50 mg nocte");
        assert_eq!(med.pieces.len(), 2);
        assert!(med.med.unparsed.is_empty(), "{med:?}");
    }

    #[test]
    fn the_same_drug_in_two_pieces_leaves_the_text_whole() {
        let med = resolved("baclofen 30 mg mane and Lioresal 60 mg nocte");
        assert!(med.pieces.is_empty(), "{med:?}");
        assert_eq!(med.ingredients.len(), 1);
    }
}
