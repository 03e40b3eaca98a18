//! The `gpulstm` command line: [`args`] holds the clap definitions, one file per subcommand runs it, and
//! [`common`] holds what they share ([`Failure`] and its exit codes, printing). This file only declares
//! the modules and dispatches.

mod args;
mod bench;
mod check;
mod common;
mod devices;
pub mod embed;
mod merge;
mod predict;
mod sweep;
mod sweep_configs;
mod sweep_merge;
mod train;
mod train_plan;
mod train_run;
mod tune;

pub use args::{
    BackendArg, BenchArgs, CheckArgs, Cli, Command, DataArgs, EarlyStopArg, LimitsArg, MergeArgs,
    PredictArgs, ProtocolArg, ScalerArg, SweepArgs, TrainArgs, TuneArgs, WindowArg, MAX_BATCH_SIZE,
    MAX_EPOCHS,
};
pub use common::Failure;
pub use devices::devices_table;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Train(args) => train::train(&args),
        Command::Devices => devices::devices(),
        Command::Check(args) => check::check(&args),
        Command::Tune(args) => tune::tune(&args),
        Command::Predict(args) => predict::predict(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::Bench(args) => bench::bench(&args),
        Command::Sweep(args) => sweep::sweep(&args),
    }
}
