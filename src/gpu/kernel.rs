//! Kernel families (one WGSL module, one bind-group layout shared by all its entry points, so one bind
//! group serves every entry point), their pipelines per entry point and pipeline-constant values, and
//! the recording of dispatches.

use std::sync::{Arc, Mutex};

use super::context::{Gpu, GpuError};
use super::pipeline_cache::CompiledFamily;
use super::tiles::Product;

/// What sits at each binding number of a family's group 0.
#[derive(Clone, Copy, Debug)]
pub enum Slot {
    Uniform,
    Read,
    ReadWrite,
}

/// A kernel family: its name and its compiled module, layouts and pipelines.
#[derive(Clone)]
pub struct Family {
    pub name: &'static str,
    compiled: CompiledFamily,
    /// The entry points whose `@workgroup_size` is fixed in the source, and its invocations.
    fixed_sizes: Arc<Vec<(String, u32)>>,
}

/// One workgroup of a launch, as the on-paper estimates see it ([`super::roofline`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Workgroup {
    pub threads: u32,
    /// Workgroup memory it declares, bytes.
    pub shared_bytes: u64,
}

/// Workgroup memory the recurrent kernels declare under their constants: U (U_SHARED, U_VEC4S vec4s)
/// and the step's state (STEP_TILE; STEP_FLOATS floats forward, STEP_VEC4S vec4s in the BPTT).
fn on_chip_bytes(constant: &dyn Fn(&str) -> Option<f64>) -> u64 {
    let part = |flag: &str, len: &str, bytes: u64| match (constant(flag), constant(len)) {
        (Some(1.0), Some(n)) => bytes * n as u64,
        _ => 0,
    };
    part("U_SHARED", "U_VEC4S", 16)
        + part("STEP_TILE", "STEP_FLOATS", 4)
        + part("STEP_TILE", "STEP_VEC4S", 16)
}

impl Workgroup {
    /// The workgroup of `entry` of `family` under `constants`: the block kernels' WGX × WGY and their
    /// workgroup memory ([`on_chip_bytes`]), else the entry's fixed size from the source.
    fn of(family: &Family, entry: &str, constants: &[(&'static str, f64)]) -> Workgroup {
        let constant = |k: &str| constants.iter().find(|(n, _)| *n == k).map(|&(_, v)| v);
        match (constant("WGX"), constant("WGY")) {
            (Some(x), y) => Workgroup {
                threads: (x * y.unwrap_or(1.0)) as u32,
                shared_bytes: on_chip_bytes(&constant),
            },
            _ => Workgroup {
                threads: family
                    .fixed_sizes
                    .iter()
                    .find(|(e, _)| e == entry)
                    .map_or(1, |&(_, n)| n),
                shared_bytes: 0,
            },
        }
    }
}

impl Family {
    /// Compiles `source` (or returns the family compiled earlier on this device from the same source).
    pub fn build(
        gpu: &Gpu,
        name: &'static str,
        source: String,
        slots: &[Slot],
    ) -> Result<Family, GpuError> {
        let fixed_sizes = Arc::new(super::shaders::fixed_workgroup_sizes(&source));
        if let Some(compiled) = gpu.families.get(name, &source) {
            return Ok(Family {
                name,
                compiled,
                fixed_sizes,
            });
        }
        let compiled = gpu.checked(&format!("compiling the `{name}` kernels"), || {
            Self::compile(gpu, name, &source, slots)
        })?;
        gpu.families.insert(name, source, compiled.clone());
        Ok(Family {
            name,
            compiled,
            fixed_sizes,
        })
    }

    fn compile(gpu: &Gpu, name: &'static str, source: &str, slots: &[Slot]) -> CompiledFamily {
        let module = gpu.shader_module(name, source);
        let entries: Vec<wgpu::BindGroupLayoutEntry> = slots
            .iter()
            .enumerate()
            .map(|(i, slot)| wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: match slot {
                        Slot::Uniform => wgpu::BufferBindingType::Uniform,
                        Slot::Read => wgpu::BufferBindingType::Storage { read_only: true },
                        Slot::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                    },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            })
            .collect();
        let layout = gpu
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(name),
                entries: &entries,
            });
        let pipeline_layout = gpu
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(name),
                bind_group_layouts: &[Some(&layout)],
                immediate_size: 0,
            });
        CompiledFamily {
            module,
            layout,
            pipeline_layout,
            pipelines: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// The pipeline of `entry` specialised with `constants`, created on first use.
    pub fn pipeline(
        &self,
        gpu: &Gpu,
        entry: &'static str,
        constants: &[(&'static str, f64)],
    ) -> Result<wgpu::ComputePipeline, GpuError> {
        let key = format!("{entry}{constants:?}");
        let mut pipelines = self
            .compiled
            .pipelines
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((_, p)) = pipelines.iter().find(|(k, _)| *k == key) {
            return Ok(p.clone());
        }
        let pipeline = gpu.checked(
            &format!("building `{}::{entry}` with {constants:?}", self.name),
            || {
                gpu.device
                    .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                        label: Some(entry),
                        layout: Some(&self.compiled.pipeline_layout),
                        module: &self.compiled.module,
                        entry_point: Some(entry),
                        compilation_options: wgpu::PipelineCompilationOptions {
                            constants,
                            // Kernels fill their workgroup memory before reading it.
                            zero_initialize_workgroup_memory: false,
                        },
                        cache: gpu.driver_cache.as_ref().map(|c| &c.cache),
                    })
            },
        )?;
        if let Some(c) = &gpu.driver_cache {
            c.touched();
        }
        pipelines.push((key, pipeline.clone()));
        Ok(pipeline)
    }

    /// A bind group over whole buffers, in slot order.
    pub fn bind(&self, gpu: &Gpu, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.as_entire_binding(),
            })
            .collect();
        gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.name),
            layout: &self.compiled.layout,
            entries: &entries,
        })
    }
}

/// What a launch does for all its models, counted from its shapes (the bench's FLOP, byte and roofline
/// columns). `bytes` counts every tensor the launch reads or writes once: the traffic of a kernel that
/// keeps everything it reuses on chip.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cost {
    pub flops: f64,
    pub bytes: f64,
    /// The product it computes per model, and for how many models.
    pub product: Option<(Product, usize)>,
}

impl Cost {
    /// A product of `models` models: its FLOPs, and `floats` floats moved per model.
    pub fn product(product: Product, models: usize, floats: usize) -> Cost {
        Cost {
            flops: product.flops() * models as f64,
            bytes: 4.0 * (floats * models) as f64,
            product: Some((product, models)),
        }
    }

    /// An element-wise kernel moving `floats` floats in all.
    pub fn moves(floats: usize) -> Cost {
        Cost {
            bytes: 4.0 * floats as f64,
            ..Default::default()
        }
    }
}

/// One recorded dispatch: pipeline, bind group, grid. Built once per run, replayed every step.
#[derive(Clone)]
pub struct Launch {
    /// The kernel, for profiles: `family::entry`, or a caller's more specific name.
    pub label: String,
    pub pipeline: wgpu::ComputePipeline,
    pub bind_group: wgpu::BindGroup,
    pub grid: [u32; 3],
    pub workgroup: Workgroup,
    pub cost: Cost,
}

impl Launch {
    pub fn new(
        gpu: &Gpu,
        family: &Family,
        entry: &'static str,
        constants: &[(&'static str, f64)],
        bind_group: wgpu::BindGroup,
        grid: [u32; 3],
    ) -> Result<Launch, GpuError> {
        Ok(Launch {
            label: format!("{}::{entry}", family.name),
            pipeline: family.pipeline(gpu, entry, constants)?,
            bind_group,
            grid,
            workgroup: Workgroup::of(family, entry, constants),
            cost: Cost::default(),
        })
    }

    pub fn costing(mut self, cost: Cost) -> Launch {
        self.cost = cost;
        self
    }

    /// The same launch under a more specific name (`lstm 2 recurrence`).
    pub fn named(mut self, label: impl Into<String>) -> Launch {
        self.label = label.into();
        self
    }

    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(self.grid[0], self.grid[1], self.grid[2]);
    }
}

/// Records launches into one compute pass of a new encoder and submits it; returns the dispatch count.
pub fn submit(gpu: &Gpu, launches: &[&Launch]) -> usize {
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        for l in launches {
            l.record(&mut pass);
        }
    }
    gpu.queue.submit(Some(encoder.finish()));
    launches.len()
}

/// A 1-D grid of `total` invocations at `per_group` each, folded into y when x would exceed the
/// per-dimension limit (shaders index as gid.x + gid.y·groups_x·per_group).
pub fn grid_1d(total: u64, per_group: u32, max_per_dim: u32) -> [u32; 3] {
    let groups = total.div_ceil(per_group as u64).max(1);
    if groups <= max_per_dim as u64 {
        [groups as u32, 1, 1]
    } else {
        let y = groups.div_ceil(max_per_dim as u64);
        let x = groups.div_ceil(y);
        [x as u32, y as u32, 1]
    }
}
