//! What the engine decides from the limits its device was opened with, before it allocates anything:
//! the products of a training step, the block shape of each, the models one engine holds; and which
//! limits and features those decisions rest on. `gpulstm check` prints all of it, so a report from any
//! GPU says what its plan was and why.

use super::context::{Gpu, LimitSet};
use super::device_layout::DeviceLayout;
use super::engine::{largest_per_model, max_models};
use super::kernels;
use super::shaders::FIXED_WORKGROUP_INVOCATIONS;
use super::tiles::{Product, Tile, Tiles};
use crate::model::{LayerPlan, ParamLayout};

/// The distinct products of one training step of `layout`, in step order (forward, then backward from
/// the last layer), as the engine's layer builders (layers.rs) launch them; equal to
/// [`tune::step_products`](super::tune::step_products) of a built engine (tests/gpu_kernels.rs pins
/// that), but known without a device.
pub fn step_products(layout: &ParamLayout, batch: usize, lookback: usize) -> Vec<Product> {
    let dl = DeviceLayout::new(layout);
    let (b, t) = (batch, lookback);
    let mut forward = Vec::new();
    let mut backward = Vec::new();
    for (li, plan) in layout.layers.iter().enumerate() {
        let Some(block) = dl.block(li) else {
            continue;
        };
        let has_prev = li > 0;
        match *plan {
            LayerPlan::Lstm { units, .. } => {
                forward.push(Product::Project {
                    rows: t * b,
                    depth4: block.x_rows / 4,
                    cols4: block.cols / 4,
                });
                forward.push(Product::Recurrence {
                    batch: b,
                    units,
                    steps: t,
                });
                let mut back = vec![
                    Product::Bptt {
                        batch: b,
                        units,
                        steps: t,
                    },
                    Product::WeightGrad {
                        rows: block.rows,
                        depth: t * b,
                        cols4: block.cols / 4,
                    },
                ];
                if has_prev {
                    back.push(Product::Project {
                        rows: t * b,
                        depth4: block.cols / 4,
                        cols4: block.x_rows / 4,
                    });
                }
                backward.push(back);
            }
            LayerPlan::Dense { .. } => {
                forward.push(Product::Project {
                    rows: b,
                    depth4: block.x_rows / 4,
                    cols4: block.cols / 4,
                });
                let mut back = vec![Product::WeightGrad {
                    rows: block.rows,
                    depth: b,
                    cols4: block.cols / 4,
                }];
                if has_prev {
                    back.push(Product::Project {
                        rows: b,
                        depth4: block.cols / 4,
                        cols4: block.x_rows / 4,
                    });
                }
                backward.push(back);
            }
            LayerPlan::Dropout { .. } => {}
        }
    }
    let mut out: Vec<Product> = Vec::new();
    for p in forward
        .into_iter()
        .chain(backward.into_iter().rev().flatten())
    {
        if !out.iter().any(|q| q.key() == p.key()) {
            out.push(p);
        }
    }
    out
}

/// One limit the engine's plan rests on: its value on the device, the adapter's own, and what it decides.
#[derive(Clone, Debug)]
pub struct LimitUse {
    pub name: &'static str,
    pub device: u64,
    pub adapter: u64,
    /// The value the kernels need at least, where they need a fixed amount.
    pub needs: Option<u64>,
    pub drives: String,
}

/// Every limit the engine requests or plans from, as `device` (the limits it was opened with) and
/// `adapter` (the adapter's own) give them.
pub fn limit_uses(device: &wgpu::Limits, adapter: &wgpu::Limits) -> Vec<LimitUse> {
    let (storage, storage_family) = kernels::most_bindings(kernels::SlotKind::Storage);
    let (uniform, uniform_family) = kernels::most_bindings(kernels::SlotKind::Uniform);
    let row = |name, device: u64, adapter: u64, needs: Option<u64>, drives: &str| LimitUse {
        name,
        device,
        adapter,
        needs,
        drives: drives.to_string(),
    };
    vec![
        row(
            "max_storage_buffer_binding_size",
            device.max_storage_buffer_binding_size,
            adapter.max_storage_buffer_binding_size,
            None,
            "models per chunk (the largest per-model buffer × models fits one binding, clamped to \
             4 GiB so every u32 index fits; so must the raw series and Adam's 128 KiB step-size table)",
        ),
        row(
            "max_buffer_size",
            device.max_buffer_size,
            adapter.max_buffer_size,
            None,
            "models per chunk (with the binding size)",
        ),
        row(
            "max_compute_workgroups_per_dimension",
            device.max_compute_workgroups_per_dimension.into(),
            adapter.max_compute_workgroups_per_dimension.into(),
            None,
            "models per chunk (one model per workgroup row); element-wise grids fold into y beyond it",
        ),
        row(
            "max_compute_invocations_per_workgroup",
            device.max_compute_invocations_per_workgroup.into(),
            adapter.max_compute_invocations_per_workgroup.into(),
            Some(FIXED_WORKGROUP_INVOCATIONS.into()),
            "block shapes (workgroup sizes); the element-wise kernels' fixed workgroups",
        ),
        row(
            "max_compute_workgroup_size_x",
            device.max_compute_workgroup_size_x.into(),
            adapter.max_compute_workgroup_size_x.into(),
            Some(FIXED_WORKGROUP_INVOCATIONS.into()),
            "block shapes (lanes along a layer's units)",
        ),
        row(
            "max_compute_workgroup_size_y",
            device.max_compute_workgroup_size_y.into(),
            adapter.max_compute_workgroup_size_y.into(),
            None,
            "block shapes (lanes along the batch)",
        ),
        row(
            "max_compute_workgroup_storage_size",
            device.max_compute_workgroup_storage_size.into(),
            adapter.max_compute_workgroup_storage_size.into(),
            None,
            "whether the recurrent kernels keep U in workgroup memory",
        ),
        row(
            "max_storage_buffers_per_shader_stage",
            device.max_storage_buffers_per_shader_stage.into(),
            adapter.max_storage_buffers_per_shader_stage.into(),
            Some(storage as u64),
            &format!("fixed: the `{storage_family}` kernels bind {storage}"),
        ),
        row(
            "max_uniform_buffers_per_shader_stage",
            device.max_uniform_buffers_per_shader_stage.into(),
            adapter.max_uniform_buffers_per_shader_stage.into(),
            Some(uniform as u64),
            &format!("fixed: the `{uniform_family}` kernels bind {uniform}"),
        ),
        row(
            "max_bind_groups",
            device.max_bind_groups.into(),
            adapter.max_bind_groups.into(),
            Some(1),
            "fixed: one bind group per kernel family",
        ),
    ]
}

/// What a device lacks for the engine's fixed needs, one line each (empty when nothing).
pub fn unmet(limits: &wgpu::Limits) -> Vec<String> {
    limit_uses(limits, limits)
        .into_iter()
        .filter_map(|u| {
            let needs = u.needs?;
            (u.device < needs)
                .then(|| format!("{} is {}, the kernels need {needs}", u.name, u.device))
        })
        .collect()
}

/// An optional feature the engine requests where the adapter has it.
#[derive(Clone, Debug)]
pub struct FeatureUse {
    pub name: &'static str,
    pub present: bool,
    pub used_for: String,
}

/// The features the engine requests, and what each changes.
pub fn feature_uses(gpu: &Gpu) -> Vec<FeatureUse> {
    let (min, max) = gpu.subgroup_sizes;
    let subgroup_note = match gpu.subgroup_size {
        Some(n) => format!(
            "subgroup size {n} (fixed): the recurrent kernels' shuffle variants where a layer fits one \
             subgroup"
        ),
        None if gpu.device.features().contains(wgpu::Features::SUBGROUP) => format!(
            "subgroup size varies ({min}..{max}): the shuffle variants need one fixed size, so unused"
        ),
        None => "absent: the recurrent kernels pass h through workgroup memory".to_string(),
    };
    vec![
        FeatureUse {
            name: "SUBGROUP",
            present: gpu.device.features().contains(wgpu::Features::SUBGROUP),
            used_for: subgroup_note,
        },
        FeatureUse {
            name: "TIMESTAMP_QUERY",
            present: gpu.timestamps,
            used_for: "timing kernels in `gpulstm tune` and the bench (not needed to train)".into(),
        },
    ]
}

/// The plan for one model on one device: models per engine and the tile of each product.
#[derive(Clone, Debug)]
pub struct Plan {
    pub per_model_bytes: u64,
    pub models_per_chunk: usize,
    /// Each product, its tile (`None`: no workgroup this device allows covers it) and where the tile came
    /// from ("cache" from `gpulstm tune`, or "default").
    pub tiles: Vec<(Product, Option<Tile>, &'static str)>,
}

/// The plan for `layout` at `batch` and `lookback` under `limits` with the tile choices of `tiles`.
pub fn plan(
    limits: &wgpu::Limits,
    tiles: &Tiles,
    layout: &ParamLayout,
    batch: usize,
    lookback: usize,
) -> Plan {
    Plan {
        per_model_bytes: 4 * largest_per_model(layout, batch, lookback) as u64,
        models_per_chunk: max_models(limits, layout, batch, lookback),
        tiles: step_products(layout, batch, lookback)
            .into_iter()
            .map(|p| (p, tiles.tile(&p), tiles.source(&p)))
            .collect(),
    }
}

/// How `gpulstm check` names the limits a device was opened with.
pub fn limit_set_note(set: &LimitSet) -> &'static str {
    match set {
        LimitSet::Adapter => "the adapter's own (--limits adapter)",
        LimitSet::WebGpu => "the WebGPU defaults, wgpu::Limits::default() (--limits webgpu)",
        LimitSet::Custom(_) => "custom",
    }
}
