//! The `gpulstm` binary: parse the command line, run it, map the outcome to an exit code
//! (0 success, 2 usage or input error, 1 runtime failure; see `gpulstm::cli`).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use gpulstm::cli::{self, Cli};

fn main() -> ExitCode {
    gpulstm::startup::mark_launch();
    gpulstm::runtime_dir::ensure();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own exit code: 0 for --help/--version, 2 for usage errors.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let _ = writeln!(std::io::stderr(), "error: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}
