//! `crampcheck batch`: validate a prescription CSV file of any size. The
//! flags are validated into [`BatchOptions`] (columns, dates, the proposed
//! drug resolved, the `--patients` file read) before any row is read; the
//! run itself is [`crate::batch::run`]; outputs are written atomically.

use super::check::fail_threshold;
use super::{Outcome, jurisdiction, load_kb};
use crate::batch::Spool;
use crate::batch::atomic::{self, AtomicFile};
use crate::batch::context::{PatientsColumns, load_patients};
use crate::batch::frames::Frames;
use crate::batch::reader::{ColumnNames, ContextColumns, InputSource, Reject, parse_day};
use crate::batch::summary::Summary;
use crate::batch::{BatchOptions, Hooks, Mode, Renderer};
use crate::cli::{BatchArgs, BatchFormat};
use crate::clinical::Severity;
use crate::report::{batch_csv, batch_jsonl, batch_summary};
use crate::resolve::Resolver;
use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Parses `--delimiter`: one ASCII character, or `tab`.
fn delimiter(text: &str) -> Result<u8> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        t if t.len() == 1 && t.is_ascii() && t != "\"" && t != "\n" => Ok(t.as_bytes()[0]),
        _ => bail!("--delimiter must be one ASCII character or `tab`, not `{text}`"),
    }
}

fn proposed_mode(kb: &crate::kb::KbIndex, args: &BatchArgs) -> Result<Mode> {
    let Some(text) = &args.propose else {
        return Ok(if args.propose_col.is_some() {
            Mode::ProposeColumn
        } else {
            Mode::Existing
        });
    };
    let proposed = Resolver::new(kb).resolve_proposed(text)?;
    Ok(Mode::Propose(Box::new(proposed)))
}

/// Validates the flags into options (reads the `--patients` file).
fn options(kb: &crate::kb::KbIndex, args: &BatchArgs) -> Result<BatchOptions> {
    let delimiter = delimiter(&args.delimiter)?;
    let as_of = match &args.as_of {
        Some(text) => Some(
            parse_day(text.trim().as_bytes())
                .with_context(|| format!("--as-of `{text}` is not a date (expected YYYY-MM-DD)"))?,
        ),
        None => None,
    };
    let context = ContextColumns {
        egfr: args.egfr_col.clone(),
        qtc: args.qtc_col.clone(),
        age: args.age_col.clone(),
        potassium: args.potassium_col.clone(),
        magnesium: args.magnesium_col.clone(),
        conditions: args.conditions_col.clone(),
    };
    let patients = match &args.patients {
        Some(path) => Some(load_patients(
            kb,
            path,
            delimiter,
            &PatientsColumns {
                id: args
                    .patients_id_col
                    .clone()
                    .unwrap_or_else(|| args.patient_col.clone()),
                context: context.clone(),
            },
        )?),
        None => None,
    };
    Ok(BatchOptions {
        input: InputSource::from_arg(&args.input),
        columns: ColumnNames {
            patient: args.patient_col.clone(),
            drug: args.drug_col.clone(),
            start: args.start_col.clone(),
            stop: args.stop_col.clone(),
            days_supply: args.days_supply_col.clone(),
            propose: args.propose_col.clone(),
            // With --patients, the context flags name that file's columns.
            context: if patients.is_some() {
                ContextColumns::default()
            } else {
                context
            },
        },
        delimiter,
        mode: proposed_mode(kb, args)?,
        as_of,
        jurisdiction: jurisdiction(&args.jurisdiction)?,
        patients,
        max_field: args.max_field_len.max(1),
        threads: args.threads,
    })
}

/// Rejects go to the file (if any) and the progress bar ticks.
struct CliHooks {
    rejects: Option<batch_csv::RejectsWriter<AtomicFile>>,
    progress: Option<ProgressBar>,
}

impl Hooks for CliHooks {
    fn reject(&mut self, reject: &Reject) -> std::io::Result<()> {
        match &mut self.rejects {
            Some(w) => w.write(reject),
            None => Ok(()),
        }
    }

    fn progress(&mut self, rows: u64) {
        if let Some(bar) = &self.progress {
            bar.set_position(rows);
        }
    }
}

fn progress_bar(args: &BatchArgs) -> Option<ProgressBar> {
    if args.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
    let style = ProgressStyle::with_template(
        "{spinner} {human_pos} rows read  {rate} rows/s  {elapsed_precise}",
    )
    .map(|style| {
        style.with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{}", indicatif::HumanCount(state.per_sec() as u64));
            },
        )
    })
    .unwrap_or_else(|_| ProgressStyle::default_spinner());
    bar.set_style(style);
    Some(bar)
}

/// Writes data (CSV or JSONL) to stdout, unfiltered (no colour handling to
/// scan it for), treating a closed pipe (`| head`) as success. The stream
/// is handed over unbuffered: the findings come from a file in large runs
/// that the kernel can copy straight to a pipe or file.
fn write_data_stdout(
    write: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn label(path: &Path) -> String {
    path.display().to_string()
}

/// The output paths with symbolic links followed, once it is sure that no
/// output would overwrite an input or another output: either would lose data
/// without a word.
fn output_paths(args: &BatchArgs) -> Result<[Option<PathBuf>; 3]> {
    let resolve = |path: &Option<PathBuf>| -> Result<Option<PathBuf>> {
        path.as_deref()
            .map(|p| {
                atomic::resolve_target(p).with_context(|| format!("cannot create {}", label(p)))
            })
            .transpose()
    };
    // `--out -` is standard output, as for the input; the other outputs
    // need files, as standard output carries the findings.
    let out = args.out.clone().filter(|p| p != Path::new("-"));
    for (flag, path) in [
        ("--rejects", &args.rejects),
        ("--summary-json", &args.summary_json),
    ] {
        let Some(path) = path.as_deref() else {
            continue;
        };
        if path == Path::new("-") || (out.is_none() && atomic::is_stdout(path)) {
            bail!(
                "{flag} {} is standard output, which carries the findings: name a file",
                label(path)
            );
        }
    }
    let outputs = [
        ("--out", resolve(&out)?),
        ("--rejects", resolve(&args.rejects)?),
        ("--summary-json", resolve(&args.summary_json)?),
    ];
    // Standard input redirected from a file is that file (`/dev/stdin`
    // leads to it on Linux), which an output must not replace either.
    let input = if args.input == Path::new("-") {
        PathBuf::from("/dev/stdin")
    } else {
        args.input.clone()
    };
    let inputs = [
        ("the input", Some(input)),
        ("--patients", args.patients.clone()),
    ];
    let mut taken: Vec<(&str, PathBuf)> = inputs
        .iter()
        .filter_map(|(flag, path)| Some((*flag, atomic::identity(path.as_deref()?)?)))
        .collect();
    for (flag, path) in &outputs {
        let Some(path) = path else { continue };
        let Some(id) = atomic::identity(path) else {
            continue;
        };
        if let Some((other, _)) = taken.iter().find(|(_, taken)| *taken == id) {
            bail!(
                "{flag} {} is the same file as {other}: it would be overwritten",
                label(path)
            );
        }
        taken.push((flag, id));
    }
    let [(_, out), (_, rejects), (_, summary)] = outputs;
    Ok([out, rejects, summary])
}

/// Exit code of a run ended by a signal (128 + SIGINT, as shells report it).
const INTERRUPTED: i32 = 130;

/// Runs the batch and writes findings, rejects and summaries.
pub fn run(args: &BatchArgs, db: Option<&Path>, src: Option<&Path>) -> Result<Outcome> {
    let [out_path, rejects_path, summary_path] = output_paths(args)?;
    let kb = load_kb(db, src)?;
    let opts = options(&kb, args)?;
    let csv = batch_csv::CsvRenderer::default();
    let csv_render = |kb: &crate::kb::KbIndex,
                      p: &crate::batch::group::PatientFindings<'_>,
                      out: &mut Frames| { csv.render_patient(kb, p, out) };
    let render: &Renderer<'_> = match args.format {
        BatchFormat::Csv => &csv_render,
        BatchFormat::Jsonl => &batch_jsonl::render_patient,
    };
    let header = match args.format {
        BatchFormat::Csv => batch_csv::findings_header()?,
        BatchFormat::Jsonl => Vec::new(),
    };
    // Interrupted (Ctrl-C, SIGTERM, SIGHUP): no temporary output is left
    // behind, and the targets keep what they held before the run.
    ctrlc::set_handler(|| {
        crate::batch::atomic::remove_temporary_files();
        eprintln!("crampcheck: batch interrupted; unfinished outputs were removed");
        std::process::exit(INTERRUPTED);
    })
    .context("cannot install the interrupt handler")?;
    // Every output target is opened before the run so a bad path fails fast.
    // Findings wait in a spool that, for an output file, sits beside it and
    // becomes it by a rename when it is already in order.
    let spool = match &out_path {
        Some(path) => Spool::beside(path, &header)
            .with_context(|| format!("cannot create {}", label(path)))?,
        None => Spool::new(&header).context("cannot create the output spool")?,
    };
    let summary_file = match &summary_path {
        Some(path) => Some(
            AtomicFile::create(path).with_context(|| format!("cannot create {}", label(path)))?,
        ),
        None => None,
    };
    let rejects = match &rejects_path {
        Some(path) => Some(
            AtomicFile::create(path)
                .and_then(batch_csv::RejectsWriter::new)
                .with_context(|| format!("cannot create {}", label(path)))?,
        ),
        None => None,
    };
    let mut hooks = CliHooks {
        rejects,
        progress: progress_bar(args),
    };
    let result = crate::batch::run(&kb, &opts, render, spool, &mut hooks);
    if let Some(bar) = &hooks.progress {
        bar.finish_and_clear();
    }
    let batch = result?;
    // The text the rendered frames refer to (JSON lines refer to none).
    let pieces = match args.format {
        BatchFormat::Csv => csv.into_pieces(),
        BatchFormat::Jsonl => Vec::new(),
    };
    match &out_path {
        Some(path) => batch
            .output
            .persist(path, &pieces)
            .with_context(|| format!("cannot write {}", label(path)))?,
        None => write_data_stdout(|out| batch.output.write_to(out, &pieces))?,
    }
    if let Some(writer) = hooks.rejects {
        let file = writer.finish()?;
        let target = label(file.target());
        file.commit()
            .with_context(|| format!("cannot write {target}"))?;
    }
    let summary = batch.summary;
    if let Some(mut file) = summary_file {
        serde_json::to_writer_pretty(&mut file, &summary)?;
        writeln!(file)?;
        let target = label(file.target());
        file.commit()
            .with_context(|| format!("cannot write {target}"))?;
    }
    if !args.quiet {
        let rejects = args.rejects.as_deref().map(label);
        let mut err = anstream::stderr().lock();
        batch_summary::write_summary(&mut err, &summary, rejects.as_deref())?;
    }
    Ok(outcome(&summary, args))
}

/// 1 when a finding reaches `--fail-on`, a name was not recognized, or a row
/// was rejected (the run could not check everything); 0 otherwise.
fn outcome(summary: &Summary, args: &BatchArgs) -> Outcome {
    let threshold = fail_threshold(args.fail_on);
    let severe = Severity::DESCENDING
        .iter()
        .filter(|s| **s >= threshold)
        .any(|s| summary.findings_by_severity.contains_key(s.as_str()));
    let unresolved = summary.findings_by_kind.contains_key("unrecognized");
    if severe || unresolved || summary.rows_rejected > 0 {
        Outcome::Flagged
    } else {
        Outcome::Clean
    }
}
