//! The second real backend: wgpu's GL backend (on Linux, Mesa's llvmpipe through headless EGL). Where
//! wgpu finds no GL adapter or cannot open or compile on it, the test prints wgpu's exact error and
//! skips: GL is an extra backend, reached only with `--adapter gl`, so it never fails the suite for want
//! of a driver (GPULSTM_REQUIRE_GPU=1 is about the default adapter). Where it runs, the kernel families
//! must match their CPU twins.
//!
//! The recurrent kernels are left out by default: Mesa's GL compiler takes tens of seconds to minutes per
//! recurrent pipeline when its shader cache is cold (a training step of the check's small problem: 166 s;
//! the BPTT family's standalone check: 865 s), where lavapipe's Vulkan takes seconds. With
//! `GPULSTM_GL_FULL=1` this test adds a training step and whole fits against the reference; `gpulstm
//! check --adapter gl` and `GPULSTM_ADAPTER=gl cargo test` run everything on GL.

use std::sync::Mutex;

use gpulstm::check_problem::Problem;
use gpulstm::gpu::check;
use gpulstm::gpu::{Gpu, GpuError, LimitSet};

/// wgpu's log lines about the GL backend: where wgpu says why it did not start (no libEGL, no display,
/// no GLES context), which it reports only there.
struct GlLog(Mutex<Vec<String>>);

impl log::Log for GlLog {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.target().starts_with("wgpu")
    }
    fn log(&self, record: &log::Record) {
        let text = record.args().to_string();
        let about_gl = ["Gl", "GL", "EGL", "egl", "gles"]
            .iter()
            .any(|w| text.contains(w));
        if self.enabled(record.metadata()) && about_gl {
            if let Ok(mut lines) = self.0.lock() {
                lines.push(format!("{}: {text}", record.level()));
            }
        }
    }
    fn flush(&self) {}
}

static LOG: GlLog = GlLog(Mutex::new(Vec::new()));

/// The value, or `None` (skip) after printing why the GL backend could not produce it, with what wgpu
/// logged about GL.
fn or_skip<T>(what: &str, result: Result<T, GpuError>) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("gl: SKIPPED at {what}: wgpu's GL backend cannot run it here: {e}");
            for line in LOG.0.lock().map(|l| l.clone()).unwrap_or_default() {
                eprintln!("gl: wgpu said: {line}");
            }
            None
        }
    }
}

#[test]
fn the_gl_backend_runs_the_kernels_or_says_why_not() {
    // Only this test runs in this binary, so the logger sees every instance it creates.
    if log::set_logger(&LOG).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    let Some(gpu) = or_skip(
        "opening the adapter",
        Gpu::open(Some("gl"), &LimitSet::Adapter),
    ) else {
        return;
    };
    eprintln!(
        "gl: running on \"{}\" ({}, {}), driver {}",
        gpu.summary.name, gpu.summary.backend, gpu.summary.device_type, gpu.summary.driver
    );
    let full = std::env::var("GPULSTM_GL_FULL").as_deref() == Ok("1");
    let mut results = Vec::new();
    for (family, _, check) in check::kernel_checks() {
        if family.starts_with("lstm_") && !full {
            eprintln!("gl: {family} left out (slow to compile on GL; GPULSTM_GL_FULL=1 runs it)");
            continue;
        }
        let Some(r) = or_skip(family, check(&gpu, 1)) else {
            return;
        };
        results.extend(r);
    }
    if full {
        let pb = Problem::small();
        let Some(step) = or_skip("a training step", check::check_training_step(&gpu, &pb)) else {
            return;
        };
        results.extend(step);
        let Some(fit) = or_skip("whole fits", check::check_fit(&gpu, &pb, 3)) else {
            return;
        };
        results.extend(fit);
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.pass)
        .map(|r| format!("{} {}: max_abs {:.3e}", r.kernel, r.what, r.max_abs))
        .collect();
    eprintln!("gl: {} checks, {} failed", results.len(), failed.len());
    assert!(failed.is_empty(), "on GL: {failed:#?}");
}
