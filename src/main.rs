//! The `crampcheck` binary: parse arguments, run one command, map the result
//! to an exit code (0 clean, 1 findings or unresolved names, 2 error).

use clap::Parser;
use crampcheck::cli::{Cli, Command};
use crampcheck::cmd;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: every start builds the KB index
/// from thousands of small strings, and allocation was a third of the
/// instructions of a whole `check` (callgrind: 41M → 31M instructions).
/// Built without transparent huge pages (Cargo feature `no_thp`): in `batch`,
/// memory freed on one thread and taken on another made the kernel zero a
/// fresh 2 MB page each time; without them a 1M-row Synthea run used 11 %
/// less CPU and half the peak memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Prints help and version as clap does; any other argument error becomes
/// one line on stderr and exit code 2.
fn usage_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        // Printing help can only fail on a closed pipe, which is not an error.
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    // The first paragraph, on one line: it names the argument at fault
    // (clap lists missing arguments on the lines under the first).
    let rendered = err.to_string();
    let first: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect();
    let first = match first.join(" ") {
        joined if joined.is_empty() => "invalid arguments".to_owned(),
        joined => joined.trim_start_matches("error: ").to_owned(),
    };
    eprintln!("crampcheck: error: {first} (see `crampcheck --help`)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    let db = cli.db.as_deref();
    let src = cli.src.as_deref();
    let result = match &cli.command {
        Command::Check(args) => cmd::check::run(args, db, src),
        Command::Suggest(args) => cmd::suggest::run(args, db, src),
        Command::Batch(args) => cmd::batch::run(args, db, src),
        Command::Kb(command) => cmd::kb::run(command, db, src),
        Command::Serve(args) => cmd::serve::run(args, db, src),
    };
    match result {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(err) => {
            // One line: the error and any cause it does not already spell out.
            let mut message = err.to_string();
            for cause in err.chain().skip(1) {
                let cause = cause.to_string();
                if !message.contains(&cause) {
                    message = format!("{message}: {cause}");
                }
            }
            eprintln!("crampcheck: error: {}", message.replace('\n', " "));
            ExitCode::from(2)
        }
    }
}
