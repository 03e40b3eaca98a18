//! Shared by the GPU tests: open the adapter, or skip with a printed reason, or fail loudly when
//! GPULSTM_REQUIRE_GPU=1 (CI sets it, so the GPU tests can never silently not run there).

pub mod naga_validate;
pub mod runs;

use gpulstm::gpu::{Gpu, LimitSet};

#[allow(dead_code)] // not every test crate opens an adapter
pub fn gpu_or_skip(test: &str) -> Option<Gpu> {
    gpu_or_skip_with(test, &LimitSet::Adapter)
}

/// [`gpu_or_skip`] with the device opened with the limits of `limits`.
#[allow(dead_code)]
pub fn gpu_or_skip_with(test: &str, limits: &LimitSet) -> Option<Gpu> {
    let required = std::env::var("GPULSTM_REQUIRE_GPU")
        .map(|v| v == "1")
        .unwrap_or(false);
    match Gpu::open(std::env::var("GPULSTM_ADAPTER").ok().as_deref(), limits) {
        Ok(gpu) => {
            eprintln!(
                "{test}: running on adapter \"{}\" ({}, {})",
                gpu.summary.name, gpu.summary.backend, gpu.summary.device_type
            );
            Some(gpu)
        }
        Err(e) if required => panic!("{test}: GPULSTM_REQUIRE_GPU=1 but no adapter: {e}"),
        Err(e) => {
            eprintln!("{test}: SKIPPED, no GPU adapter ({e}); set GPULSTM_REQUIRE_GPU=1 to make this a failure");
            None
        }
    }
}

/// A fresh, absent directory path under the system temp dir, unique to this test process, `suite` and
/// `name` (the tests create what they need in it).
#[allow(dead_code)] // not every test crate writes files
pub fn scratch(suite: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gpulstm-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}
