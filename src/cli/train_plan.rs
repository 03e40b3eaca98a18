//! What `train` decides before anything trains: the data, the run's specification, the notes to show
//! and where the results go. Every problem found here is the user's to fix (exit 2).

use std::path::{Path, PathBuf};

use anyhow::anyhow;

use super::args::{EarlyStopArg, ProtocolArg, ScalerArg, TrainArgs, WindowArg};
use super::common::{usage, Failure};
use crate::data::{DateSpan, NamedSeries, SplitConfig, SplitRule, WindowKind};
use crate::fit::{AdamConfig, EarlyStopRule, Hyper};
use crate::model::{ModelSpec, ParamLayout};
use crate::report::evaluate::{RunConfig, Scoring};
use crate::report::files;
use crate::report::intervals::IntervalSpec;
use crate::train::protocol::{check_seed_protocol, Protocol, RunSpec, ScalerMode};
use crate::train::walk_forward::PanelPlan;

/// Everything `train` decided before training.
pub(super) struct Plan {
    pub panel: Vec<NamedSeries>,
    pub config: RunConfig,
    pub out_dir: PathBuf,
    /// Splits over all series.
    pub split_count: usize,
    /// Models the run trains (of its shard, with `--shard`).
    pub model_count: usize,
}

pub(super) fn protocol_of(p: ProtocolArg) -> Protocol {
    match p {
        ProtocolArg::WalkForward => Protocol::WalkForward,
        ProtocolArg::Seed => Protocol::Seed,
    }
}

/// The scaler `--scaler` and `--protocol` imply, with a note when the protocol chose it.
fn scaler(
    args: &TrainArgs,
    protocol: Protocol,
    notes: &mut Vec<String>,
) -> Result<ScalerMode, Failure> {
    Ok(match (args.scaler, protocol) {
        // The seed protocol carries one model across the splits with one scaler fitted on the whole
        // series, so a per-split scaler would be reported but not used.
        (Some(ScalerArg::Train), Protocol::Seed) => {
            return Err(usage(anyhow!(
                "--scaler train is not available with --protocol seed: the seed protocol carries one \
                 model across the splits with one scaler fitted on the whole series; drop --scaler or \
                 use --protocol walk-forward"
            )))
        }
        (Some(ScalerArg::Train), Protocol::WalkForward) => ScalerMode::Train,
        (Some(ScalerArg::Global), _) => ScalerMode::Global,
        (None, Protocol::WalkForward) => ScalerMode::Train,
        (None, Protocol::Seed) => {
            notes.push(
                "--protocol seed uses the report's global scaler (fitted on the whole series, so every \
                 training window sees the future price range); --protocol walk-forward fits each split's scaler \
                 on its own training rows"
                    .to_string(),
            );
            ScalerMode::Global
        }
    })
}

fn run_spec(
    args: &TrainArgs,
    layout: ParamLayout,
    notes: &mut Vec<String>,
) -> Result<RunSpec, Failure> {
    let protocol = protocol_of(args.protocol);
    let init_weights = match &args.init_weights {
        Some(path) => Some(
            crate::checkpoint::load_params(path, &layout)
                .map_err(|e| usage(e.context("--init-weights")))?,
        ),
        None => None,
    };
    Ok(RunSpec {
        protocol,
        scaler: scaler(args, protocol, notes)?,
        scaler_kind: args.scaler_kind.kind(),
        target_transform: args.target_transform.transform(),
        layout,
        hyper: Hyper {
            epochs: args.epochs,
            batch_size: args.batch_size,
            patience: args.patience,
            adam: AdamConfig {
                lr: args.lr,
                ..AdamConfig::default()
            },
            seed: args.seed,
            stopping: match args.early_stopping {
                None => protocol.default_stopping(),
                Some(EarlyStopArg::Keras36) => EarlyStopRule::Keras36,
                Some(EarlyStopArg::Keras37) => EarlyStopRule::Keras37,
                Some(EarlyStopArg::TfKeras2) => EarlyStopRule::TfKeras2,
            },
        },
        splits: SplitConfig {
            lookback: args.lookback,
            train_window: args.train_window,
            val_window: args.val_window,
            step: args.step,
            kind: match args.window {
                WindowArg::Rolling => WindowKind::Rolling,
                WindowArg::Expanding => WindowKind::Expanding,
            },
            // The protocol sets the rule and resolves the dates per series.
            rule: SplitRule::AllThatFit,
            max_splits: args.max_splits,
            last_splits: args.last_splits,
            target_rows: None,
        },
        val_dates: DateSpan {
            from: args.from,
            to: args.to,
        },
        init_weights,
        ensemble_last: args.ensemble_last,
        seeds: args.seeds,
        max_models_per_chunk: args.max_models_per_chunk,
    })
}

pub(super) fn plan(args: &TrainArgs) -> Result<Plan, Failure> {
    let loaded = args.data.load_panel_noted(&args.data.options()?)?;
    plan_with(args, loaded)
}

/// [`plan`] for a panel already loaded (with the loader's notes), from files or from memory.
pub(super) fn plan_with(
    args: &TrainArgs,
    (panel, mut notes): (Vec<NamedSeries>, Vec<String>),
) -> Result<Plan, Failure> {
    let model =
        ModelSpec::parse(&args.layers, panel[0].series.feature_names.len()).map_err(usage)?;
    let spec = run_spec(args, ParamLayout::new(&model), &mut notes)?;
    if args.shard.is_some() && spec.protocol == Protocol::Seed {
        return Err(usage(anyhow!(
            "--shard splits the walk-forward models; the seed protocol's carried models train split after split and cannot be shared out"
        )));
    }
    check_seed_protocol(panel.len(), &spec).map_err(usage)?;
    distinct_dirs(&panel)?;
    // The protocol makes the same splits again; doing it here turns "too few rows" (naming the
    // series) into a usage error before any backend starts.
    let (split_count, model_count) = match spec.protocol {
        Protocol::WalkForward => {
            let p = PanelPlan::new(&panel, &spec).map_err(usage)?;
            let models = args.shard.map_or(p.models(), |s| p.models_of(s));
            (p.units(), models)
        }
        Protocol::Seed => {
            let n = crate::train::protocol::series_splits(&panel[0].series, &spec)
                .map_err(usage)?
                .len();
            (n, 1)
        }
    };
    let out_dir = match &args.out {
        Some(dir) => dir.clone(),
        None => files::default_out_dir(
            Path::new(""),
            chrono::Local::now().naive_local(),
            spec.protocol.as_str(),
        ),
    };
    files::check_out_dir(&out_dir, args.force).map_err(usage)?;
    Ok(Plan {
        panel,
        config: RunConfig {
            spec,
            init_weights: args.init_weights.clone(),
            notes,
            scoring: Scoring {
                ridge_lambda: args.ridge_lambda,
                cost_bps: args.cost_bps,
                short: args.short,
            },
            intervals: args.levels.as_ref().map(|levels| {
                let mut fractions: Vec<f64> = levels.iter().map(|p| p / 100.0).collect();
                fractions.sort_by(f64::total_cmp);
                fractions.dedup();
                IntervalSpec {
                    levels: fractions,
                    k: args.conformal,
                }
            }),
        },
        out_dir,
        split_count,
        model_count,
    })
}

/// Two series whose names differ only in characters a directory name cannot hold (`BRK/B`, `BRK_B`)
/// would write their plots and checkpoints into one directory.
fn distinct_dirs(panel: &[NamedSeries]) -> Result<(), Failure> {
    if panel.len() < 2 {
        return Ok(());
    }
    let mut seen: std::collections::HashMap<PathBuf, &str> = std::collections::HashMap::new();
    for s in panel {
        if let Some(other) = seen.insert(files::series_dir(&s.name), &s.name) {
            return Err(usage(anyhow!(
                "series \"{other}\" and \"{}\" would share the output directory {}; rename one",
                s.name,
                files::series_dir(&s.name).display()
            )));
        }
    }
    Ok(())
}
