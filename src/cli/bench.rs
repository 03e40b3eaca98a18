//! `gpulstm bench`: the kernel profile of `cargo bench --bench kernels` ([`crate::gpu::bench`]) from the
//! installed binary, so a user with a real GPU can profile it without a Rust toolchain and send the JSON.

use anyhow::anyhow;

use super::args::BenchArgs;
use super::common::{gpu_failure, runtime, say, usage, warn, Failure};
use crate::gpu::bench::{self, BenchConfig};
use crate::gpu::tiles::Tiles;
use crate::gpu::Gpu;

pub(super) fn bench(args: &BenchArgs) -> Result<(), Failure> {
    if let Some(path) = &args.json {
        if path.exists() && !args.force {
            return Err(usage(anyhow!(
                "--json {}: the file exists; choose another path or add --force to replace it",
                path.display()
            )));
        }
    }
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
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| runtime(anyhow!("the profile as JSON: {e}")))?;
        std::fs::write(path, text)
            .map_err(|e| runtime(anyhow!("writing --json {}: {e}", path.display())))?;
        say(&format!("wrote {}\n", path.display()));
    }
    Ok(())
}
