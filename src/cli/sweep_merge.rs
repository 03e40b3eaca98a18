//! `gpulstm sweep --merge SHARD_DIR... --out OUT`: the N directories of a `sweep --shard I/N` joined
//! into the sweep an unsharded run writes. Each configuration's shard directories are merged as
//! `gpulstm merge` merges a `train` run's (the same checks: one run, every share once, every model
//! exactly once), then the sweep is scored and written as usual.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use clap::Parser;

use super::args::{Cli, Command, SweepArgs};
use super::common::{runtime, usage, Failure};
use super::merge::{check_set, collect_fits, read_shard, without_flags, ShardDir};
use super::sweep::{
    config_dir, config_record, configs, plan_all, read_record, save_record, write_all, Planned,
    SweepRecord,
};
use crate::run_dir::{RunDir, State};
use crate::train::walk_forward::PanelPlan;
use crate::train::{PanelResult, TrainedBy};

/// The shard directories' records: complete shards of one sweep, each share once.
fn read_shards(dirs: &[PathBuf]) -> Result<Vec<(PathBuf, SweepRecord)>, Failure> {
    let mut out = Vec::new();
    for d in dirs {
        let rec = read_record(d)?;
        let Some(shard) = rec.shard else {
            return Err(usage(anyhow!(
                "{}: not a sweep shard (no --shard I/N)",
                d.display()
            )));
        };
        if rec.state != State::Complete {
            return Err(usage(anyhow!(
                "{}: sweep shard {shard} is not complete; finish it with `gpulstm sweep --resume {}`",
                d.display(),
                d.display()
            )));
        }
        out.push((d.clone(), rec));
    }
    let strip = |r: &SweepRecord| without_flags(&r.argv, &["--shard", "--out"]);
    let first = &out[0];
    if let Some((d, _)) = out[1..].iter().find(|(_, r)| strip(r) != strip(&first.1)) {
        return Err(usage(anyhow!(
            "{} and {}: the shards were given different arguments; they are not shards of one sweep",
            first.0.display(),
            d.display()
        )));
    }
    Ok(out)
}

/// One configuration's merged result, from its directory in every shard.
fn merge_config(p: &Planned, shard_dirs: &[PathBuf], i: usize) -> Result<PanelResult, Failure> {
    let shards: Vec<ShardDir> = shard_dirs
        .iter()
        .map(|d| read_shard(&config_dir(d, i)))
        .collect::<Result<_, _>>()?;
    check_set(&shards)?;
    let spec = &p.plan.config.spec;
    let panel_plan = PanelPlan::new(&p.plan.panel, spec).map_err(usage)?;
    let fits = collect_fits(&shards, &panel_plan)?;
    let backend = TrainedBy {
        engines: shards
            .iter()
            .filter_map(|s| s.record.engine)
            .take(1)
            .collect(),
        description: format!("{} sweep shards merged", shards.len()),
    };
    panel_plan
        .assemble(spec, &fits, &backend, Instant::now())
        .map_err(runtime)
}

pub(super) fn merge(args: &SweepArgs, out: &Path) -> Result<(), Failure> {
    let started = Instant::now();
    let shards = read_shards(&args.merge)?;
    let shard_dirs: Vec<PathBuf> = shards
        .iter()
        .map(|(d, _)| d.canonicalize().unwrap_or_else(|_| d.clone()))
        .collect();
    let first = &shards[0].1;
    std::env::set_current_dir(&first.cwd).map_err(|e| {
        usage(anyhow!(
            "{}: cannot enter the sweep's directory {}: {e}",
            shards[0].0.display(),
            first.cwd.display()
        ))
    })?;
    let cli = Cli::try_parse_from(
        std::iter::once("gpulstm".to_string()).chain(first.argv.iter().cloned()),
    )
    .map_err(|e| {
        usage(anyhow!(
            "{}: the recorded arguments no longer parse: {e}",
            shards[0].0.display()
        ))
    })?;
    let Command::Sweep(mut recorded) = cli.command else {
        return Err(usage(anyhow!(
            "{}: the recorded command is not `sweep`",
            shards[0].0.display()
        )));
    };
    recorded.train.shard = None;
    recorded.train.force = true;
    let (list, default) = configs(&recorded)?;
    let planned = plan_all(&recorded, out, &list)?;
    std::fs::create_dir_all(out)
        .map_err(|e| runtime(anyhow!("cannot create {}: {e}", out.display())))?;
    let mut record = SweepRecord {
        argv: without_flags(&first.argv, &["--shard", "--out"]),
        shard: None,
        state: State::Running,
        ..first.clone()
    };
    record
        .argv
        .extend(["--out".to_string(), out.display().to_string()]);
    save_record(out, &record)?;
    let mut trained = Vec::with_capacity(planned.len());
    for (i, p) in planned.iter().enumerate() {
        let result = merge_config(p, &shard_dirs, i)?;
        crate::report::files::remove_outputs(&p.dir).map_err(runtime)?;
        let dir =
            RunDir::start(&p.dir, config_record(p, &record.argv, &record.cwd)).map_err(usage)?;
        trained.push((result, dir));
    }
    let summary = write_all(&recorded, out, &planned, trained, default, started)?;
    record.state = State::Complete;
    save_record(out, &record)?;
    super::common::say(&summary);
    Ok(())
}
