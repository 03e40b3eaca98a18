//! `gpulstm merge OUT SHARD_DIR...`: joins the shard directories of one `--shard I/N` run into the run
//! directory an unsharded run would have written. It checks that the shards are complete, belong to one
//! configuration and one data set, and together hold every model exactly once; then it assembles the
//! results from their journals (nothing is trained again) and writes them as `train` does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;

use super::args::MergeArgs;
use super::common::{runtime, usage, Failure};
use super::train_plan::plan;
use super::train_run::{config_checksum, recorded_args, refuse_unfinished, write_results};
use crate::report::files;
use crate::run_dir::{journal_fits, RunDir, RunRecord, State, RUN_JSON};
use crate::train::walk_forward::{PanelPlan, Shard};
use crate::train::FitOutcome;
use crate::train::{Engine, TrainedBy};

/// One shard directory, read.
pub(super) struct ShardDir {
    pub path: PathBuf,
    pub record: RunRecord,
    pub shard: Shard,
}

pub(super) fn read_shard(path: &Path) -> Result<ShardDir, Failure> {
    let file = path.join(RUN_JSON);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        usage(anyhow!(
            "{}: cannot read the run record ({e}); is this a shard directory?",
            file.display()
        ))
    })?;
    let record: RunRecord = serde_json::from_str(&text)
        .map_err(|e| usage(anyhow!("{}: not a run record: {e}", file.display())))?;
    let shard = record.shard.ok_or_else(|| {
        usage(anyhow!(
            "{}: not a shard (it was not trained with --shard I/N)",
            path.display()
        ))
    })?;
    if record.state != State::Complete {
        return Err(usage(anyhow!(
            "{}: shard {shard} is {:?}, not complete; finish it with `gpulstm train --resume {}`",
            path.display(),
            record.state,
            path.display()
        )));
    }
    Ok(ShardDir {
        path: path.to_path_buf(),
        record,
        shard,
    })
}

/// The shards must be one run's: same version, data and configuration, same N, each index once, none
/// missing.
pub(super) fn check_set(shards: &[ShardDir]) -> Result<(), Failure> {
    let first = &shards[0];
    for s in &shards[1..] {
        let same = [
            (
                "gpulstm version",
                &first.record.gpulstm_version,
                &s.record.gpulstm_version,
            ),
            ("data", &first.record.data_checksum, &s.record.data_checksum),
            (
                "configuration",
                &first.record.config_checksum,
                &s.record.config_checksum,
            ),
        ];
        for (what, a, b) in same {
            if a != b {
                return Err(usage(anyhow!(
                    "{} and {}: the shards differ in their {what} ({a} vs {b}); they are not shards of one run",
                    first.path.display(),
                    s.path.display()
                )));
            }
        }
        if s.shard.count != first.shard.count {
            return Err(usage(anyhow!(
                "{} is shard {} but {} is shard {}: they split the run differently",
                first.path.display(),
                first.shard,
                s.path.display(),
                s.shard
            )));
        }
    }
    let n = first.shard.count;
    let mut by_index: BTreeMap<usize, &Path> = BTreeMap::new();
    for s in shards {
        if let Some(other) = by_index.insert(s.shard.index, &s.path) {
            return Err(usage(anyhow!(
                "{} and {} are both shard {}: each share must be given once",
                other.display(),
                s.path.display(),
                s.shard
            )));
        }
    }
    let missing: Vec<String> = (0..n)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(usage(anyhow!(
            "shard{} {} of the run missing: merge needs all {n}",
            if missing.len() == 1 { " is" } else { "s are" },
            missing.join(", ")
        )));
    }
    Ok(())
}

/// Every shard's models, each checked to be its shard's own and present exactly once.
pub(super) fn collect_fits(
    shards: &[ShardDir],
    plan: &PanelPlan,
) -> Result<BTreeMap<usize, FitOutcome>, Failure> {
    let mut fits: BTreeMap<usize, (FitOutcome, &Path)> = BTreeMap::new();
    for s in shards {
        for (i, fit) in journal_fits(&s.path).map_err(runtime)? {
            if i >= plan.models() || !plan.in_shard(s.shard, i) {
                return Err(usage(anyhow!(
                    "{}: holds model {i}, which is not shard {}'s",
                    s.path.display(),
                    s.shard
                )));
            }
            if let Some((_, other)) = fits.insert(i, (fit, &s.path)) {
                return Err(usage(anyhow!(
                    "{} and {} both hold model {i}",
                    other.display(),
                    s.path.display()
                )));
            }
        }
    }
    if let Some(i) = (0..plan.models()).find(|i| !fits.contains_key(i)) {
        let owner = shards
            .iter()
            .find(|s| plan.in_shard(s.shard, i))
            .map_or_else(String::new, |s| {
                format!(" (shard {}: {})", s.shard, s.path.display())
            });
        return Err(usage(anyhow!(
            "model {i} of {} is in no shard{owner}; was its journal removed?",
            plan.models()
        )));
    }
    Ok(fits.into_iter().map(|(i, (f, _))| (i, f)).collect())
}

pub(super) fn merge(args: &MergeArgs) -> Result<(), Failure> {
    let started = Instant::now();
    let mut shards: Vec<ShardDir> = args
        .shards
        .iter()
        .map(|p| read_shard(p))
        .collect::<Result<_, _>>()?;
    check_set(&shards)?;
    shards.sort_by_key(|s| s.shard.index);
    // Writing OUT starts a run there, which would drop a shard's journal: never one of the inputs.
    let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y);
    if let Some(s) = shards.iter().find(|s| same(&s.path, &args.out)) {
        return Err(usage(anyhow!(
            "{}: OUT is shard {}'s own directory; merge into another directory",
            args.out.display(),
            s.shard
        )));
    }
    refuse_unfinished(&args.out, args.force)?;
    let first = &shards[0].record;
    // The run as the shards recorded it, without --shard, written to OUT.
    let mut train = recorded_args(&first.argv, &shards[0].path)?;
    std::env::set_current_dir(&first.cwd).map_err(|e| {
        usage(anyhow!(
            "{}: cannot enter the run's directory {}: {e}",
            shards[0].path.display(),
            first.cwd.display()
        ))
    })?;
    train.shard = None;
    train.out = Some(args.out.clone());
    train.force = args.force;
    train.quiet = true;
    let run = plan(&train)?;
    if config_checksum(&run.config.spec) != first.config_checksum {
        return Err(usage(anyhow!(
            "{}: the configuration no longer resolves to the one the shards trained (was --init-weights \
             or the gpulstm version changed?)",
            shards[0].path.display()
        )));
    }
    let panel_plan = PanelPlan::new(&run.panel, &run.config.spec).map_err(usage)?;
    let fits = collect_fits(&shards, &panel_plan)?;
    if args.force {
        files::remove_outputs(&args.out).map_err(runtime)?;
    }
    let mut record = first.clone();
    record.shard = None;
    record.models = panel_plan.models();
    record.argv = without_flags(&record.argv, &["--shard", "--out"]);
    record
        .argv
        .extend(["--out".to_string(), args.out.display().to_string()]);
    let run_dir = RunDir::start(&args.out, record).map_err(usage)?;
    let backends: Vec<String> = shards
        .iter()
        .map(|s| {
            let on = s.record.backend.as_deref().unwrap_or("unknown backend");
            format!("shard {} on {on}", s.shard)
        })
        .collect();
    let trained: f64 = shards.iter().map(|s| run_seconds(&s.record)).sum();
    let mut engines: Vec<Engine> = Vec::new();
    for e in shards.iter().filter_map(|s| s.record.engine) {
        if !engines.contains(&e) {
            engines.push(e);
        }
    }
    let backend = TrainedBy {
        engines,
        description: format!(
            "{} shards merged ({}); wall time summed over the shards",
            shards.len(),
            backends.join(", ")
        ),
    };
    let mut result = panel_plan
        .assemble(&run.config.spec, &fits, &backend, started)
        .map_err(runtime)?;
    result.wall_seconds = trained;
    for s in &mut result.series {
        for r in s.seeds.iter_mut().chain(std::iter::once(&mut s.ensemble)) {
            r.wall_seconds = trained;
        }
    }
    write_results(&args.out, &run.panel, &run.config, &result).map_err(runtime)?;
    run_dir.finish().map_err(runtime)
}

/// `argv` without the given flags and their values (`--flag V` or `--flag=V`).
pub(super) fn without_flags(argv: &[String], flags: &[&str]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut skip_value = false;
    for a in argv {
        if skip_value {
            skip_value = false;
            continue;
        }
        let name = a.split('=').next().unwrap_or(a);
        if flags.contains(&name) {
            skip_value = !a.contains('=');
            continue;
        }
        out.push(a.clone());
    }
    out
}

/// How long a shard's run took, from its record's timestamps (0 when they do not parse).
fn run_seconds(record: &RunRecord) -> f64 {
    let parse = |t: &str| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok();
    match (parse(&record.started), parse(&record.updated)) {
        (Some(a), Some(b)) => (b - a).num_milliseconds().max(0) as f64 / 1000.0,
        _ => 0.0,
    }
}
