//! Compute pipelines with explicit bind-group layouts (one layout per kernel family, shared by all its
//! entry points, so one bind group serves every entry point of a family), and the recording of dispatches.

use super::context::{Gpu, GpuError};

/// What sits at each binding number of a family's group 0.
#[derive(Clone, Copy, Debug)]
pub enum Slot {
    Uniform,
    Read,
    ReadWrite,
}

/// A WGSL module and its pipelines, one per entry point.
#[derive(Clone)]
pub struct Family {
    pub name: &'static str,
    pub layout: wgpu::BindGroupLayout,
    pipelines: Vec<(&'static str, wgpu::ComputePipeline)>,
}

impl Family {
    /// Compiles `source` (or returns the family compiled earlier on this device from the same source).
    pub fn build(
        gpu: &Gpu,
        name: &'static str,
        source: String,
        slots: &[Slot],
        entries: &[&'static str],
    ) -> Result<Family, GpuError> {
        // A poisoned lock only means another thread panicked mid-insert; the list itself is still valid.
        let cached = {
            let families = gpu.families.lock().unwrap_or_else(|e| e.into_inner());
            families
                .iter()
                .find(|(n, s, _)| n == name && *s == source)
                .map(|(_, _, f)| f.clone())
        };
        if let Some(family) = cached {
            return Ok(family);
        }
        let family = Self::compile(gpu, name, &source, slots, entries)?;
        gpu.families
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.to_string(), source, family.clone()));
        Ok(family)
    }

    fn compile(
        gpu: &Gpu,
        name: &'static str,
        source: &str,
        slots: &[Slot],
        entries: &[&'static str],
    ) -> Result<Family, GpuError> {
        gpu.checked(&format!("building the `{name}` kernels"), || {
            let module = gpu
                .device
                .create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(name),
                    source: wgpu::ShaderSource::Wgsl(source.to_string().into()),
                });
            let layout_entries: Vec<wgpu::BindGroupLayoutEntry> = slots
                .iter()
                .enumerate()
                .map(|(i, slot)| wgpu::BindGroupLayoutEntry {
                    binding: i as u32,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: match slot {
                            Slot::Uniform => wgpu::BufferBindingType::Uniform,
                            Slot::Read => wgpu::BufferBindingType::Storage { read_only: true },
                            Slot::ReadWrite => {
                                wgpu::BufferBindingType::Storage { read_only: false }
                            }
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
                    entries: &layout_entries,
                });
            let pipeline_layout =
                gpu.device
                    .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                        label: Some(name),
                        bind_group_layouts: &[Some(&layout)],
                        immediate_size: 0,
                    });
            let pipelines = entries
                .iter()
                .map(|entry| {
                    let pipeline =
                        gpu.device
                            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                                label: Some(entry),
                                layout: Some(&pipeline_layout),
                                module: &module,
                                entry_point: Some(entry),
                                compilation_options: Default::default(),
                                cache: None,
                            });
                    (*entry, pipeline)
                })
                .collect();
            Family {
                name,
                layout,
                pipelines,
            }
        })
    }

    pub fn pipeline(&self, entry: &str) -> &wgpu::ComputePipeline {
        // Entry names are compile-time constants of this crate; a miss is a programming error.
        &self
            .pipelines
            .iter()
            .find(|(e, _)| *e == entry)
            .unwrap_or_else(|| panic!("kernel family `{}` has no entry point `{entry}`", self.name))
            .1
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
            layout: &self.layout,
            entries: &entries,
        })
    }
}

/// One recorded dispatch: pipeline, bind group, grid. Built once per run, replayed every step.
#[derive(Clone)]
pub struct Launch {
    pub label: &'static str,
    pub pipeline: wgpu::ComputePipeline,
    pub bind_group: wgpu::BindGroup,
    pub grid: [u32; 3],
}

impl Launch {
    pub fn new(
        family: &Family,
        entry: &'static str,
        bind_group: wgpu::BindGroup,
        grid: [u32; 3],
    ) -> Launch {
        Launch {
            // Single-entry families are named by the family (dropout, loss, adam) in profiles.
            label: if entry == "main" { family.name } else { entry },
            pipeline: family.pipeline(entry).clone(),
            bind_group,
            grid,
        }
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
