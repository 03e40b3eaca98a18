//! `gpulstm tune`: times the GPU kernels' block shapes for a model's products on one adapter and caches
//! the fastest.

use anyhow::anyhow;

use super::args::TuneArgs;
use super::common::{gpu_failure, runtime, say, usage, Failure};
use crate::fit::AdamConfig;
use crate::gpu::{self, GpuError};
use crate::model::{ModelSpec, ParamLayout};

/// Opens the adapter `filter` names.
fn open_gpu(filter: Option<&str>) -> Result<gpu::Gpu, Failure> {
    gpu::Gpu::new(filter).map_err(gpu_failure)
}

pub(super) fn tune(args: &TuneArgs) -> Result<(), Failure> {
    let started = std::time::Instant::now();
    let series = args.data.load(&args.data.options()?)?;
    let spec = ModelSpec::parse(&args.layers, series.feature_names.len())
        .map_err(|e| usage(anyhow!("--layers: {e}")))?;
    let layout = ParamLayout::new(&spec);
    let gpu = open_gpu(args.adapter.as_deref())?;
    let per_engine =
        gpu::engine::max_models_per_engine(&gpu, &layout, args.batch_size, args.lookback);
    let models = args
        .models
        .unwrap_or(per_engine.min(64))
        .min(per_engine)
        .max(1);
    let products = tune_products(&gpu, &layout, args).map_err(runtime)?;
    say(&format!(
        "tuning {} products of {} (batch {}, look-back {}) for {models} models on {} ({}, driver {})\n",
        products.len(),
        spec.to_spec_string(),
        args.batch_size,
        args.lookback,
        gpu.summary.name,
        gpu.summary.device_type,
        gpu.summary.driver
    ));
    let tuned = gpu::tune::tune(&gpu, &products, models, |t| {
        let rate = |ms: f64| t.product.flops() * t.models as f64 / ms / 1e6;
        say(&format!(
            "{:<28} {:>3} tried  default {} {:.2} ms ({:.2} GFLOP/s)  best {} {:.2} ms ({:.2} GFLOP/s)\n",
            t.product.key(),
            t.tried,
            t.default.0,
            t.default.1,
            rate(t.default.1),
            t.best.0,
            t.best.1,
            rate(t.best.1)
        ));
    })
    .map_err(runtime)?;
    let path = gpu::tune::save(&gpu, &tuned)
        .map_err(|e| runtime(anyhow!("writing the tile cache: {e}")))?;
    say(&format!(
        "cached the winners in {} ({:.1} s); `gpulstm train --backend gpu` on this adapter uses them\n",
        path.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

/// The distinct products of a training step of `layout`, from a two-model engine built for it.
fn tune_products(
    gpu: &gpu::Gpu,
    layout: &ParamLayout,
    args: &TuneArgs,
) -> Result<Vec<gpu::tiles::Product>, GpuError> {
    let f = layout.spec.input_size;
    let rows = args.lookback + 2;
    let shape = gpu::EngineShape {
        models: 2,
        batch: args.batch_size,
        lookback: args.lookback,
        features: f,
        max_train_len: 1,
        max_eval_len: 1,
        epochs: 1,
    };
    let optim = gpu::Optim {
        adam: AdamConfig::default(),
        patience: 1,
        stopping: crate::fit::EarlyStopRule::Keras37,
    };
    let engine = gpu::BatchEngine::new(
        gpu,
        layout,
        shape,
        &optim,
        &gpu::tiles::Tiles::defaults(gpu),
        (&vec![0.0; rows * f], &vec![0.0; rows]),
    )?;
    Ok(gpu::tune::step_products(&engine))
}
