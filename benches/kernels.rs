//! `cargo bench --bench kernels`: the kernel profile of [`gpulstm::gpu::bench`] (the report's model on the
//! wgpu adapter, every kernel beside a yardstick of its own product shape, on-paper estimates for named
//! GPUs), as `gpulstm bench` runs it from the installed binary.
//!
//! `GPULSTM_BENCH_MODELS=1,10` overrides the model counts (default 1, 10, 100, 988),
//! `GPULSTM_BENCH_ROUNDS` the interleaved rounds (default 5), `GPULSTM_ADAPTER` the adapter. Writes
//! `target/bench/kernels.json`.

use gpulstm::gpu::bench::{self, BenchConfig};
use gpulstm::gpu::tiles::Tiles;
use gpulstm::gpu::Gpu;

fn main() {
    // `cargo test` also runs bench targets' main with --bench absent; do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    gpulstm::startup::mark_launch();
    let gpu = match Gpu::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref()) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("bench skipped: {e}");
            return;
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let defaults = BenchConfig::default();
    let config = BenchConfig {
        models: env("GPULSTM_BENCH_MODELS")
            .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or(defaults.models),
        rounds: env("GPULSTM_BENCH_ROUNDS")
            .and_then(|s| s.parse().ok())
            .unwrap_or(defaults.rounds),
    };
    let report = bench::run(&gpu, &Tiles::for_gpu(&gpu), &config, &mut |stage| {
        eprintln!("{stage}")
    })
    .expect("bench");
    print!("{}", report.render());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench");
    std::fs::create_dir_all(&dir).expect("target/bench");
    let path = dir.join("kernels.json");
    let json = serde_json::to_string_pretty(&report.to_json()).expect("json");
    std::fs::write(&path, json).expect("write json");
    println!("wrote {}", path.display());
}
