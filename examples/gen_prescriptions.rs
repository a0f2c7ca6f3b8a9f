//! Writes a synthetic prescription file for benchmarking `crampcheck batch`.
//!
//! Two layouts: `synthea` (Synthea's `medications.csv` columns: START, STOP,
//! PATIENT, ENCOUNTER, CODE, DESCRIPTION, BASE_COST, PAYER_COVERAGE,
//! DISPENSES, TOTALCOST, REASONCODE, REASONDESCRIPTION; about 200 bytes a
//! row) and `short` (patient_id, drug, start, stop; about 70 bytes a row).
//! Drug strings are RxNorm-style descriptions; about 2 % of rows are cramp
//! therapies (quinine, baclofen and others in the KB's therapies table),
//! about 8 % are drugs that interact with them (opioids, macrolides,
//! rifampin, CNS depressants, QT-prolonging drugs), a few are names the KB
//! will not know, and one row in 20,000 has a broken date. Rows of one
//! patient are contiguous, as Synthea writes them, unless `--shuffle` is
//! given. The output depends only on the arguments (seeded generator).
//!
//! Run: `cargo run --release --example gen_prescriptions -- --rows 1000000
//! --patients 30000 --seed 1 --layout short --out /tmp/rx.csv`

use crampcheck::batch::reader::{Day, format_day};
use std::io::{BufWriter, Write};

/// (weight, RxNorm-style description, code).
const DRUGS: &[(u32, &str, &str)] = &[
    // Cramp therapies in the KB's therapies table (~2 % of rows, about the
    // share of baclofen, methocarbamol, diltiazem and the rest in claims).
    (3, "Quinine Sulfate 324 MG Oral Capsule", "1148107"),
    (8, "Baclofen 10 MG Oral Tablet", "197381"),
    (3, "Baclofen 20 MG Oral Tablet", "197382"),
    (4, "Methocarbamol 500 MG Oral Tablet", "197943"),
    (
        1,
        "Orphenadrine citrate 100 MG Extended Release Oral Tablet",
        "994521",
    ),
    (2, "Magnesium Oxide 400 MG Oral Tablet", "1099336"),
    (
        6,
        "24 HR Diltiazem Hydrochloride 120 MG Extended Release Oral Capsule",
        "830837",
    ),
    // Interacting drugs (~8 %).
    (
        30,
        "Acetaminophen 325 MG / oxyCODONE Hydrochloride 5 MG Oral Tablet",
        "1049221",
    ),
    (
        10,
        "Hydrocodone Bitartrate 10 MG / Acetaminophen 325 MG Oral Tablet",
        "857005",
    ),
    (8, "tramadol hydrochloride 50 MG Oral Tablet", "835603"),
    (8, "Clarithromycin 500 MG Oral Tablet", "197517"),
    (6, "Erythromycin 250 MG Oral Tablet", "686355"),
    (3, "Rifampin 300 MG Oral Capsule", "198202"),
    (10, "Diazepam 5 MG Oral Tablet", "197591"),
    (10, "Gabapentin 300 MG Oral Capsule", "310431"),
    (
        8,
        "Cyclobenzaprine Hydrochloride 10 MG Oral Tablet",
        "828320",
    ),
    (6, "Trazodone Hydrochloride 50 MG Oral Tablet", "856377"),
    (4, "Amiodarone hydrochloride 200 MG Oral Tablet", "833528"),
    (5, "Fluconazole 150 MG Oral Tablet", "197698"),
    // Everything else.
    (60, "Simvastatin 20 MG Oral Tablet", "312961"),
    (50, "lisinopril 10 MG Oral Tablet", "314076"),
    (50, "Hydrochlorothiazide 25 MG Oral Tablet", "310798"),
    (45, "amLODIPine 5 MG Oral Tablet", "197361"),
    (
        40,
        "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "860975",
    ),
    (30, "Furosemide 40 MG Oral Tablet", "310429"),
    (
        30,
        "Amoxicillin 250 MG / Clavulanate 125 MG Oral Tablet",
        "562251",
    ),
    (30, "Ibuprofen 200 MG Oral Tablet", "310965"),
    (25, "Naproxen sodium 220 MG Oral Tablet", "849574"),
    (20, "Clopidogrel 75 MG Oral Tablet", "309362"),
    (15, "Warfarin Sodium 5 MG Oral Tablet", "855332"),
    (10, "Digoxin 0.125 MG Oral Tablet", "197604"),
    (25, "Acetaminophen 500 MG Oral Tablet", "198440"),
    (20, "Amoxicillin 500 MG Oral Capsule", "308192"),
    (15, "Penicillin V Potassium 250 MG Oral Tablet", "834061"),
    (
        15,
        "Omeprazole 20 MG Delayed Release Oral Capsule",
        "198053",
    ),
    (15, "Atorvastatin 40 MG Oral Tablet", "259255"),
    (12, "Levothyroxine Sodium 0.075 MG Oral Tablet", "966222"),
    (10, "Sertraline 50 MG Oral Tablet", "312940"),
    (10, "Alendronic acid 70 MG Oral Tablet", "904419"),
    (8, "Donepezil hydrochloride 10 MG Oral Tablet", "997224"),
    (
        12,
        "NDA020503 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
        "2123111",
    ),
    (
        10,
        "120 ACTUAT Fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
        "895994",
    ),
    (8, "Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray", "705129"),
    (8, "Loratadine 5 MG Chewable Tablet", "665078"),
    // Names the KB may not know.
    (6, "Jolivette 28 Day Pack", "757594"),
    (4, "Mirena 52 MG Intrauterine System", "807283"),
    (3, "Zorblaxitol 10 MG Oral Tablet", "999999"),
];

const REASONS: &[(&str, &str)] = &[
    ("", ""),
    ("59621000", "Essential hypertension (disorder)"),
    ("55822004", "Hyperlipidemia (disorder)"),
    ("44054006", "Diabetes mellitus type 2 (disorder)"),
    ("10509002", "Acute bronchitis (disorder)"),
    ("195662009", "Acute viral pharyngitis (disorder)"),
    (
        "62106007",
        "Concussion with no loss of consciousness (disorder)",
    ),
];

/// A small, fast, seeded generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

struct Args {
    rows: u64,
    patients: u64,
    seed: u64,
    synthea: bool,
    shuffle: bool,
    out: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        rows: 1_000_000,
        patients: 30_000,
        seed: 1,
        synthea: true,
        shuffle: false,
        out: "-".to_owned(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--rows" => args.rows = value()?.parse().map_err(|e| format!("--rows: {e}"))?,
            "--patients" => {
                args.patients = value()?.parse().map_err(|e| format!("--patients: {e}"))?;
            }
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--layout" => {
                args.synthea = match value()?.as_str() {
                    "synthea" => true,
                    "short" => false,
                    other => return Err(format!("unknown layout {other}")),
                };
            }
            "--shuffle" => args.shuffle = true,
            "--out" => args.out = value()?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(args)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let mut rng = Rng(args.seed);
    let total: u64 = DRUGS.iter().map(|d| u64::from(d.0)).sum();
    let pick = |r: u64| -> usize {
        let mut r = r % total;
        for (i, d) in DRUGS.iter().enumerate() {
            if r < u64::from(d.0) {
                return i;
            }
            r -= u64::from(d.0);
        }
        0
    };
    let patients: Vec<String> = (0..args.patients)
        .map(|i| {
            if args.synthea {
                uuid(&mut rng)
            } else {
                format!("P{i:07}")
            }
        })
        .collect();
    // Rows per patient vary (1 to 2x the mean) and add up to --rows.
    let mean = (args.rows / args.patients.max(1)).max(1);
    let mut counts: Vec<u64> = (0..args.patients)
        .map(|_| 1 + rng.below(2 * mean))
        .collect();
    let sum: u64 = counts.iter().sum();
    let mut left = args.rows;
    for c in counts.iter_mut() {
        *c = (*c * args.rows / sum.max(1)).min(left);
        left -= *c;
    }
    let mut i = 0;
    while left > 0 {
        let n = counts.len();
        counts[i % n] += 1;
        left -= 1;
        i += 1;
    }
    let mut order: Vec<(u32, u32)> = Vec::with_capacity(args.rows as usize);
    for (p, c) in counts.iter().enumerate() {
        for k in 0..*c {
            order.push((p as u32, k as u32));
        }
    }
    if args.shuffle {
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
    }
    let out: Box<dyn Write> = if args.out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&args.out)?)
    };
    let mut out = BufWriter::with_capacity(1 << 20, out);
    if args.synthea {
        writeln!(
            out,
            "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION,BASE_COST,PAYER_COVERAGE,DISPENSES,TOTALCOST,REASONCODE,REASONDESCRIPTION"
        )?;
    } else {
        writeln!(out, "patient_id,drug,start,stop")?;
    }
    let base_day = 14_610; // 2010-01-01
    for (p, _) in order {
        let drug = &DRUGS[pick(rng.next())];
        let start = base_day + rng.below(5000) as Day;
        let stop = if rng.below(5) == 0 {
            String::new()
        } else {
            format_day(start + 7 + rng.below(360) as Day)
        };
        let mut start_text = format_day(start);
        if rng.below(20_000) == 0 {
            start_text = "2019-02-30".to_owned();
        }
        let id = &patients[p as usize];
        if args.synthea {
            let (code, reason) = REASONS[rng.below(REASONS.len() as u64) as usize];
            let cost = 1 + rng.below(40_000);
            let dispenses = 1 + rng.below(24);
            let stop_ts = if stop.is_empty() {
                String::new()
            } else {
                format!("{stop}T09:30:00Z")
            };
            writeln!(
                out,
                "{start_text}T09:30:00Z,{stop_ts},{id},{},{},{},{}.{:02},0.0,{dispenses},{}.{:02},{code},{reason}",
                uuid(&mut rng),
                drug.2,
                drug.1,
                cost / 100,
                cost % 100,
                cost * dispenses / 100,
                cost * dispenses % 100,
            )?;
        } else {
            writeln!(out, "{id},{},{start_text},{stop}", drug.1)?;
        }
    }
    out.flush()?;
    Ok(())
}
