//! `gpulstm train`: a new run (planned, then started in its directory) or `--resume DIR`.

use super::args::TrainArgs;
use super::common::Failure;
use super::{train_plan, train_run};

pub(super) fn train(args: &TrainArgs) -> Result<(), Failure> {
    match &args.resume {
        Some(dir) => train_run::resume(args, dir),
        None => {
            if let Some(out) = &args.out {
                train_run::refuse_unfinished(out, args.force)?;
            }
            let plan = train_plan::plan(args)?;
            let run_dir = train_run::start(args, &plan)?;
            train_run::execute(args, plan, run_dir)
        }
    }
}
