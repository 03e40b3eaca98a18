//! `gpulstm bench`: the kernel profile of `cargo bench --bench kernels` ([`crate::gpu::bench`]) from the
//! installed binary, so a user with a real GPU can profile it without a Rust toolchain and send the JSON.

use super::args::BenchArgs;
use super::common::{gpu_failure, json_path_free, runtime, say, warn, write_json, Failure};
use crate::gpu::bench::{self, BenchConfig};
use crate::gpu::tiles::Tiles;
use crate::gpu::Gpu;

pub(super) fn bench(args: &BenchArgs) -> Result<(), Failure> {
    json_path_free(args.json.as_deref(), args.force)?;
    let config = BenchConfig {
        models: args
            .models
            .clone()
            .unwrap_or_else(|| BenchConfig::DEFAULT_MODELS.to_vec()),
        rounds: args.rounds,
    };
    let gpu = Gpu::new(args.adapter.as_deref()).map_err(gpu_failure)?;
    let tiles = Tiles::for_gpu(&gpu);
    let report = bench::run(&gpu, &tiles, &config, &mut |stage| warn(stage)).map_err(runtime)?;
    say(&report.render());
    if let Some(path) = &args.json {
        write_json(path, &report.to_json())?;
    }
    Ok(())
}
