//! The `crampcheck` binary: parse arguments, run one command, map the result
//! to an exit code (0 clean, 1 findings or unresolved names, 2 error).

use clap::Parser;
use crampcheck::cli::{Cli, Command};
use crampcheck::cmd;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let db = cli.db.as_deref();
    let src = cli.src.as_deref();
    let result = match &cli.command {
        Command::Check(args) => cmd::check::run(args, db, src),
        Command::Kb(command) => cmd::kb::run(command, db, src),
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
