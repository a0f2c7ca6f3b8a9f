//! Benchmarks for the core: building the embedded KB in memory, one whole
//! check of a 10-medication list in-process, and the whole `crampcheck check`
//! process (start-up, KB build, check, JSON output) as a user runs it.
//!
//! Run: `cargo bench --bench check`

use crampcheck::clinical::Jurisdiction;
use crampcheck::engine::{CheckRequest, check};
use crampcheck::kb::{KbSource, load};
use crampcheck::parse::parse_med;
use crampcheck::patient::PatientInput;
use crampcheck::resolve::Resolver;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::process::Command;

const MEDS: [&str; 10] = [
    "clarithromycin 500 mg PO BID",
    "Digoxin 0.25 MG Oral Tablet [Lanoxin]",
    "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet",
    "warfarin 5 mg daily",
    "carbidopa/levodopa 25/100 tid",
    "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
    "simvastatin 40 mg qhs",
    "furosemide 40 mg daily",
    "amoxicillin 500 mg tid",
    "Paxlovid",
];

fn benches(c: &mut Criterion) {
    c.bench_function("kb_build_embedded", |b| {
        b.iter(|| black_box(load(&KbSource::Embedded)))
    });

    let kb = match load(&KbSource::Embedded) {
        Ok(kb) => kb,
        Err(e) => panic!("embedded KB: {e}"),
    };
    let patient = match (PatientInput {
        egfr: Some(45.0),
        qtc: Some(470.0),
        age: Some(80.0),
        ..PatientInput::default()
    })
    .into_context(&kb)
    {
        Ok(p) => p,
        Err(e) => panic!("patient: {e}"),
    };
    c.bench_function("check_10_meds_in_process", |b| {
        b.iter(|| {
            let resolver = Resolver::new(&kb);
            let proposed = resolver.resolve(parse_med("quinine"));
            let meds: Vec<_> = MEDS
                .iter()
                .map(|m| resolver.resolve(parse_med(m)))
                .collect();
            let req = CheckRequest {
                proposed: &proposed,
                meds: &meds,
                patient: &patient,
                jurisdiction: Jurisdiction::US,
                being_written: true,
            };
            black_box(check(&kb, &req))
        })
    });

    let exe = env!("CARGO_BIN_EXE_crampcheck");
    let mut args = vec![
        "check",
        "--propose",
        "quinine",
        "--egfr",
        "45",
        "--qtc",
        "470",
        "--age",
        "80",
        "--format",
        "json",
    ];
    for m in MEDS {
        args.push("--med");
        args.push(m);
    }
    let mut group = c.benchmark_group("process");
    group.sample_size(30);
    group.bench_function("crampcheck_check_10_meds_whole_process", |b| {
        b.iter(|| {
            let out = Command::new(exe).args(&args).output();
            black_box(out.map(|o| o.status))
        })
    });
    group.finish();
}

criterion_group!(core, benches);
criterion_main!(core);
