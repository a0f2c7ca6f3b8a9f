//! The baseline of the batch benchmark: a bare CSV scan of a file with the
//! csv crate, counting rows into one reused `ByteRecord` (the fastest way
//! the csv crate reads). `crampcheck batch` is measured against it on the
//! same file.
//!
//! Run: `cargo run --release --example csv_count -- FILE`

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: csv_count FILE")?;
    let started = Instant::now();
    let bytes = std::fs::metadata(&path)?.len();
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(&path)?;
    let mut rec = csv::ByteRecord::new();
    let mut rows: u64 = 0;
    while rdr.read_byte_record(&mut rec)? {
        rows += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "rows {rows} seconds {secs:.3} rows_per_s {:.0} mb_per_s {:.1}",
        rows as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
    Ok(())
}
