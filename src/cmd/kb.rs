//! `crampcheck kb build|verify|info|lookup`: write, check and inspect the
//! knowledge base.

use super::{Outcome, write_stdout};
use crate::cli::KbCommand;
use crate::kb::content::TABLES;
use crate::kb::index::{NameTarget, Party};
use crate::kb::names::compact_key;
use crate::kb::verify::verify;
use crate::kb::{KbIndex, KbSource, store, tables};
use crate::parse::parse_med;
use crate::resolve::Resolver;
use anyhow::{Result, bail};
use std::path::Path;

/// Runs a `kb` subcommand.
pub fn run(command: &KbCommand, db: Option<&Path>, src: Option<&Path>) -> Result<Outcome> {
    let source = KbSource::from_flags(db, src);
    match command {
        KbCommand::Build { out } => build(&source, out),
        KbCommand::Verify => run_verify(&source),
        KbCommand::Info => info(&source),
        KbCommand::Lookup { name } => lookup(&source, name),
    }
}

fn build(source: &KbSource, out: &Path) -> Result<Outcome> {
    if matches!(source, KbSource::File(_)) {
        bail!("kb build reads content (embedded or --src DIR), not --db");
    }
    // `-` is standard output elsewhere; a SQLite file cannot go there.
    if out == Path::new("-") {
        bail!("kb build --out needs a file: a SQLite KB cannot be written to standard output");
    }
    let (content, schema_version) = tables(source)?;
    let problems = verify(&content);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{}: {}", p.origin, p.message);
        }
        bail!(
            "refusing to write {}: the KB has {} integrity problem(s)",
            out.display(),
            problems.len()
        );
    }
    KbIndex::from_tables(&content, &source.label(), schema_version)?;
    let conn = store::build_in_memory(&content)?;
    store::write_file(&conn, out)?;
    eprintln!("wrote {}", out.display());
    Ok(Outcome::Clean)
}

fn run_verify(source: &KbSource) -> Result<Outcome> {
    let (content, schema_version) = tables(source)?;
    let problems = verify(&content);
    if problems.is_empty() {
        // Also prove the index loads: verify and the loader must agree.
        let kb = KbIndex::from_tables(&content, &source.label(), schema_version)?;
        write_stdout(|out| {
            writeln!(
                out,
                "ok: {} ({} drugs, {} interactions, {} cautions, {} sources) passes every check",
                source.label(),
                kb.drugs.len(),
                kb.interactions.len(),
                kb.condition_rules.len(),
                kb.sources.len()
            )
        })?;
        return Ok(Outcome::Clean);
    }
    write_stdout(|out| {
        for p in &problems {
            writeln!(out, "{}: {}", p.origin, p.message)?;
        }
        writeln!(out, "{} problem(s) found", problems.len())
    })?;
    Ok(Outcome::Flagged)
}

fn info(source: &KbSource) -> Result<Outcome> {
    // Loaded as every command loads it: content that fails verify is refused.
    let kb = crate::kb::load(source)?;
    let (content, _) = tables(source)?;
    let counts: Vec<(&str, usize)> = TABLES
        .iter()
        .map(|spec| (spec.table, content.rows(spec.table).len()))
        .collect();
    write_stdout(|out| {
        writeln!(out, "KB version:     {}", kb.meta.version)?;
        writeln!(out, "schema version: {}", kb.meta.schema_version)?;
        writeln!(out, "origin:         {}", kb.meta.origin)?;
        writeln!(out, "content digest: {}", content.content_digest())?;
        writeln!(out, "rows:")?;
        for (table, n) in &counts {
            writeln!(out, "  {table:<22} {n}")?;
        }
        writeln!(out, "sources ({}):", kb.sources.len())?;
        for s in &kb.sources {
            writeln!(
                out,
                "  {:<28} {}, {} ({}, {}, {})",
                s.id, s.citation, s.section, s.jurisdiction, s.kind, s.date
            )?;
        }
        Ok(())
    })?;
    Ok(Outcome::Clean)
}

fn cite(kb: &KbIndex, sources: &[u32]) -> String {
    sources
        .iter()
        .map(|s| kb.sources[*s as usize].id.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

fn lookup(source: &KbSource, name: &str) -> Result<Outcome> {
    let kb = crate::kb::load(source)?;
    let mut lines: Vec<String> = Vec::new();
    // A name that is no condition, class or recognized drug exits 1, as
    // `check` does for an unrecognized name, so a script can tell.
    let mut known = false;
    if let Some(c) = kb.condition_by_name(name) {
        known = true;
        let cond = &kb.conditions[c as usize];
        lines.push(format!(
            "condition {} ({}); aliases: {}",
            cond.code,
            cond.name,
            cond.aliases.join(", ")
        ));
        for t in kb.lab_thresholds.iter().filter(|t| t.condition == c) {
            lines.push(format!(
                "  implied by {} {} {} [{}]",
                t.lab.label(),
                t.comparator.symbol(),
                t.value,
                cite(&kb, &t.sources)
            ));
        }
        for r in kb.condition_rules.iter().filter(|r| r.condition == c) {
            lines.push(format!(
                "  {} → {} / {} ({}): {} [{}]",
                kb.party_name(r.drug),
                r.severity,
                r.action.as_str(),
                r.jurisdiction.as_str(),
                r.title,
                cite(&kb, &r.sources)
            ));
        }
    }
    // `class:NAME`, as the content files write a class, names it too.
    let class = match kb.lookup(name.strip_prefix("class:").unwrap_or(name)) {
        Some(NameTarget::Class(c)) => Some(*c),
        _ => None,
    };
    if let Some(c) = class {
        known = true;
        let class = &kb.classes[c as usize];
        let members: Vec<&str> = class.members.iter().map(|m| kb.drug_name(*m)).collect();
        lines.push(format!(
            "class {}: {} [{}]",
            class.name,
            class.description,
            cite(&kb, &class.sources)
        ));
        lines.push(format!("  members: {}", members.join(", ")));
        push_rules(&kb, &mut lines, &[Party::Class(c)]);
    } else {
        let resolver = Resolver::new(&kb);
        let resolved = resolver.resolve(parse_med(name));
        let is_drug = resolved.status == crate::resolve::Status::Recognized;
        // A condition's name is not also reported as an unrecognized drug.
        if is_drug || !known {
            describe_resolved(&kb, name, &resolved, &mut lines);
        }
        known |= is_drug;
    }
    write_stdout(|out| {
        for line in &lines {
            writeln!(out, "{line}")?;
        }
        Ok(())
    })?;
    Ok(if known {
        Outcome::Clean
    } else {
        Outcome::Flagged
    })
}

/// How a name resolved, and each drug it names.
fn describe_resolved(
    kb: &KbIndex,
    name: &str,
    resolved: &crate::resolve::Resolved,
    lines: &mut Vec<String>,
) {
    let how = resolved.matched_by.map(|m| m.as_str()).unwrap_or("-");
    lines.push(format!(
        "`{name}`: {} (matched by {how})",
        resolved.status.as_str()
    ));
    if !resolved.candidates.is_empty() {
        lines.push(format!("  candidates: {}", resolved.candidates.join(", ")));
    }
    if !resolved.suggestions.is_empty() {
        lines.push(format!(
            "  did you mean: {}",
            resolved.suggestions.join(", ")
        ));
    }
    for ingredient in &resolved.ingredients {
        describe_drug(kb, ingredient.drug, lines);
    }
}

fn describe_drug(kb: &KbIndex, drug: u32, lines: &mut Vec<String>) {
    let d = &kb.drugs[drug as usize];
    lines.push(format!(
        "{} — {} [{}]",
        d.name,
        d.category,
        cite(kb, &d.sources)
    ));
    let aliases = names_where(kb, |t| matches!(t, NameTarget::Drug(id, _) if *id == drug))
        .into_iter()
        .filter(|k| *k != d.name)
        .collect::<Vec<_>>();
    if !aliases.is_empty() {
        lines.push(format!("  names: {}", aliases.join(", ")));
    }
    let products = names_where(
        kb,
        |t| matches!(t, NameTarget::Product(ids) if ids.contains(&drug)),
    );
    if !products.is_empty() {
        lines.push(format!("  in products: {}", products.join(", ")));
    }
    let classes: Vec<&str> = d
        .classes
        .iter()
        .map(|c| kb.classes[*c as usize].name.as_str())
        .collect();
    if !classes.is_empty() {
        lines.push(format!("  classes: {}", classes.join(", ")));
    }
    for w in kb.boxed_warnings.iter().filter(|w| w.drug == drug) {
        lines.push(format!(
            "  BOXED WARNING ({}): {} — {} [{}]",
            w.jurisdiction.as_str(),
            w.title,
            w.summary,
            cite(kb, &w.sources)
        ));
    }
    push_rules(kb, lines, &kb.parties_of(drug));
    for r in kb.dosing_rules.iter().filter(|r| r.drug == drug) {
        lines.push(format!(
            "  dosing {} ({}, population {}, route {}): {} [{}]",
            r.id,
            r.indication,
            r.population,
            r.route.map_or("any", |route| route.as_str()),
            r.schedule,
            cite(kb, &r.sources)
        ));
    }
    for t in kb.therapies.iter().filter(|t| t.drug == drug) {
        lines.push(format!(
            "  cramp therapy ({}): {} (level {}) — {} [{}]",
            t.indication,
            t.standing,
            t.evidence_level,
            t.summary,
            cite(kb, &t.sources)
        ));
    }
}

/// Name keys whose target satisfies `pred`, sorted, without the space-less
/// twins the index keeps for tolerant lookup.
fn names_where(kb: &KbIndex, pred: impl Fn(&NameTarget) -> bool) -> Vec<&str> {
    let mut keys: Vec<&str> = kb
        .names
        .iter()
        .filter(|(_, t)| pred(t))
        .map(|(k, _)| k.as_str())
        .collect();
    let compact: Vec<String> = keys
        .iter()
        .filter(|k| k.contains(' '))
        .map(|k| compact_key(k))
        .collect();
    keys.retain(|k| !compact.iter().any(|c| c == k));
    keys.sort_unstable();
    keys
}

fn push_rules(kb: &KbIndex, lines: &mut Vec<String>, parties: &[Party]) {
    for r in kb
        .interactions
        .iter()
        .filter(|r| parties.contains(&r.drug) || parties.contains(&r.interacts_with))
    {
        lines.push(format!(
            "  interaction {} + {}: {} / {} / {} ({}) — {} [{}]",
            kb.party_name(r.drug),
            kb.party_name(r.interacts_with),
            r.severity,
            r.action.as_str(),
            r.evidence.as_str(),
            r.jurisdiction.as_str(),
            r.effect,
            cite(kb, &r.sources)
        ));
    }
    for r in kb
        .condition_rules
        .iter()
        .filter(|r| parties.contains(&r.drug))
    {
        let age = r
            .min_age
            .map(|a| format!(", age >= {a}"))
            .unwrap_or_default();
        lines.push(format!(
            "  caution {} + {}{age}: {} / {} ({}) — {} [{}]",
            kb.party_name(r.drug),
            kb.conditions[r.condition as usize].code,
            r.severity,
            r.action.as_str(),
            r.jurisdiction.as_str(),
            r.title,
            cite(kb, &r.sources)
        ));
    }
}
