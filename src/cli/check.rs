//! `gpulstm check`: every CPU-engine op and every GPU kernel run against the f64 reference, with what the
//! GPU engine relies on (limits, features, the main job's plan) printed first.

use anyhow::anyhow;
use clap::Parser;

use super::args::{CheckArgs, Cli, Command};
use super::common::{bytes, json_path_free, runtime, say, usage, warn, write_json, Failure};
use crate::compare::CheckResult;
use crate::gpu::{self, GpuError};
use crate::model::{ModelSpec, ParamLayout};

/// What the engine rests on for `gpu`: every limit it plans from (on the device, on the adapter, what the
/// kernels need, what it decides), the features it uses, and the plan for the main job (the report's
/// model at `train`'s defaults on the embedded sample). A report from any GPU carries all of it.
fn relied_on(gpu: &gpu::Gpu) -> Result<String, Failure> {
    let mut out = format!(
        "limits the device was opened with: {}\n",
        gpu::plan::limit_set_note(&gpu.limit_set)
    );
    let uses = gpu::plan::limit_uses(&gpu.limits, &gpu.adapter_limits);
    let name_w = uses.iter().map(|u| u.name.len()).max().unwrap_or(0);
    let show = |name: &str, v: u64| {
        if name.ends_with("_size") && v >= 1024 {
            bytes(v)
        } else {
            v.to_string()
        }
    };
    out.push_str(&format!(
        "  {:<name_w$}  {:>10}  {:>10}  {:>6}  decides\n",
        "limit", "device", "adapter", "needs"
    ));
    for u in &uses {
        out.push_str(&format!(
            "  {:<name_w$}  {:>10}  {:>10}  {:>6}  {}\n",
            u.name,
            show(u.name, u.device),
            show(u.name, u.adapter),
            u.needs.map(|n| n.to_string()).unwrap_or_else(|| "-".into()),
            u.drives
        ));
    }
    out.push_str("features the engine requests where present:\n");
    for f in gpu::plan::feature_uses(gpu) {
        out.push_str(&format!(
            "  {:<name_w$}  {:>10}  {}\n",
            f.name,
            if f.present { "yes" } else { "no" },
            f.used_for
        ));
    }
    // The main job's shapes from `train`'s own defaults, so this stays what `gpulstm train` runs.
    let defaults = match Cli::try_parse_from(["gpulstm", "train"]).map(|c| c.command) {
        Ok(Command::Train(t)) => t,
        _ => return Err(runtime(anyhow!("train's defaults do not parse"))),
    };
    let series = defaults.data.load(&defaults.data.options()?)?;
    let spec = ModelSpec::parse(&defaults.layers, series.feature_names.len()).map_err(runtime)?;
    let layout = ParamLayout::new(&spec);
    let tiles = gpu::tiles::Tiles::for_gpu(gpu);
    let plan = gpu::plan::plan(
        &gpu.limits,
        &tiles,
        &layout,
        defaults.batch_size,
        defaults.lookback,
    );
    out.push_str(&format!(
        "plan for the main job ({}, batch {}, look-back {}, {} features; {:?} block shapes):\n  \
         {} models per chunk ({} per model in the largest buffer)\n",
        spec.to_spec_string(),
        defaults.batch_size,
        defaults.lookback,
        series.feature_names.len(),
        tiles.class,
        plan.models_per_chunk,
        bytes(plan.per_model_bytes)
    ));
    let key_w = plan
        .tiles
        .iter()
        .map(|(p, _, _)| p.key().len())
        .max()
        .unwrap_or(0);
    for (product, tile, source) in &plan.tiles {
        out.push_str(&format!(
            "  {:<key_w$}  {:<7}  {}\n",
            product.key(),
            source,
            tile.map(|t| t.to_string())
                .unwrap_or_else(|| "no workgroup this device allows covers it".into())
        ));
    }
    Ok(out)
}

pub(super) fn check(args: &CheckArgs) -> Result<(), Failure> {
    json_path_free(args.json.as_deref(), args.force)?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() % 100_000)
            .unwrap_or(0)
    });
    say(&format!(
        "shapes (--seed {seed}): {}\n",
        crate::check_problem::Problem::random(seed).describe()
    ));
    let paths: Vec<&str> = crate::cpu::simd::Isa::available()
        .iter()
        .map(|i| i.name())
        .collect();
    let twins: Vec<String> = crate::cpu::check::op_checks()
        .iter()
        .map(|(op, twin, _)| format!("  {op:<14} against {twin}"))
        .collect();
    say(&format!(
        "CPU engine ops (on every SIMD path of this CPU: {}) and their reference twins:\n{}\n",
        paths.join(", "),
        twins.join("\n")
    ));
    let mut results = crate::cpu::check::run_all(seed);
    let mut checked = vec!["the CPU engine".to_string()];
    match gpu::Gpu::open(args.adapter.as_deref(), &args.limits.set()) {
        Ok(gpu) => {
            say(&format!(
                "adapter: {} ({}, {}), driver {}\n",
                gpu.summary.name, gpu.summary.backend, gpu.summary.device_type, gpu.summary.driver
            ));
            say(&relied_on(&gpu)?);
            let twins: Vec<String> = gpu::check::kernel_checks()
                .iter()
                .map(|(family, twin, _)| format!("  {family:<14} against {twin}"))
                .collect();
            say(&format!(
                "kernel families and their CPU twins:\n{}\n",
                twins.join("\n")
            ));
            let started = std::time::Instant::now();
            let progress = |what: &str| {
                warn(&format!(
                    "[{:>6.1} s] checking {what} ...",
                    started.elapsed().as_secs_f64()
                ))
            };
            results.extend(gpu::check::run_all(&gpu, seed, &progress).map_err(runtime)?);
            checked.push(gpu.summary.name.clone());
        }
        Err(e @ GpuError::NoAdapter { filter: Some(_) }) => return Err(usage(e)),
        Err(GpuError::NoAdapter { filter: None }) => {
            say("no GPU adapter: the WGSL kernels were not checked\n");
        }
        Err(other) => return Err(runtime(other)),
    }
    let (text, failed) = results_table(&results);
    say(&text);
    if let Some(path) = &args.json {
        let report = serde_json::json!({
            "seed": seed,
            "checked": checked,
            "passed": results.len() - failed,
            "failed": failed,
            "results": results,
        });
        write_json(path, &report)?;
    }
    if failed > 0 {
        return Err(runtime(anyhow!(
            "{failed} of {} checks failed on {}",
            results.len(),
            checked.join(" and ")
        )));
    }
    Ok(())
}

/// The checks' table, one line per check under the pass rule, and how many failed.
fn results_table(results: &[CheckResult]) -> (String, usize) {
    // Column widths from the longest entry, so the numbers line up whatever the check names are.
    let kernel_w = results
        .iter()
        .map(|r| r.kernel.chars().count())
        .max()
        .unwrap_or(0);
    let what_w = results
        .iter()
        .map(|r| r.what.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::from(
        "pass rule (numpy allclose): every element |engine − f64 reference| ≤ abs + rel·|reference|; \
         margin = the largest error ÷ its allowance (< 1 passes)\n",
    );
    for r in results {
        text.push_str(&format!(
            "{:<4} {:<kernel_w$}  {:<what_w$}  n={:<7} margin {:<8} max_abs {:<9} (allowed abs {:.0e} + rel {:.0e})\n",
            if r.pass { "ok" } else { "FAIL" },
            r.kernel,
            r.what,
            r.elements,
            format!("{:.3}", r.margin),
            format!("{:.2e}", r.max_abs),
            r.abs_tol,
            r.rel_tol
        ));
    }
    let failed = results.iter().filter(|r| !r.pass).count();
    text.push_str(&format!(
        "{} passed, {failed} failed\n",
        results.len() - failed
    ));
    (text, failed)
}
