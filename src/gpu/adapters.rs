//! Which adapter a run gets and whether it can run the engine: the adapters wgpu sees (Vulkan, Metal,
//! DX12, then the opt-in GL), best first; `--adapter`'s matching; and opening one with the limits of a
//! [`LimitSet`], refused with every limit it falls short on (the adapter's own, and the engine's fixed
//! needs from [`super::plan::unmet`]) before a device is requested.

use super::context::{AdapterSummary, Gpu, GpuError, LimitSet};
use super::plan::unmet;

/// Vulkan, Metal, DX12 and GL, or the backends wgpu's own `WGPU_BACKEND` variable names (`vulkan`, `gl`,
/// ...), so a user can hide a backend whose driver misbehaves.
fn instance() -> wgpu::Instance {
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    desc.backends = (wgpu::Backends::VULKAN
        | wgpu::Backends::METAL
        | wgpu::Backends::DX12
        | wgpu::Backends::GL)
        .with_env();
    wgpu::Instance::new(desc)
}

/// Every adapter wgpu sees, in the order they are preferred: Vulkan, Metal and DX12 adapters before GL
/// ones, each group best device type first.
fn adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| {
        let info = a.get_info();
        (
            info.backend == wgpu::Backend::Gl,
            preference(info.device_type),
        )
    });
    adapters
}

/// Every adapter wgpu can see (Vulkan, Metal, DX12, then GL), best first.
pub fn list_adapters() -> Vec<AdapterSummary> {
    adapters(&instance())
        .iter()
        .map(AdapterSummary::of)
        .collect()
}

/// Whether `--adapter filter` names this adapter: a backend's name (`vulkan`, `metal`, `dx12`, `gl`)
/// picks that backend, anything else is a case-insensitive substring of the adapter's name. Without a
/// filter, every adapter but the opt-in (GL) ones.
fn matches(filter: Option<&str>, info: &wgpu::AdapterInfo) -> bool {
    let Some(f) = filter.map(str::to_lowercase) else {
        return info.backend != wgpu::Backend::Gl;
    };
    let backends = [
        wgpu::Backend::Vulkan,
        wgpu::Backend::Metal,
        wgpu::Backend::Dx12,
        wgpu::Backend::Gl,
    ];
    if backends.iter().any(|b| b.to_str() == f) {
        info.backend.to_str() == f
    } else {
        info.name.to_lowercase().contains(&f)
    }
}

/// Lower is better: a discrete GPU first, a CPU rasteriser (lavapipe) last.
fn preference(kind: wgpu::DeviceType) -> u8 {
    match kind {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

impl Gpu {
    /// Opens the preferred adapter, or the first `filter` names (see [`matches`]), with its own limits.
    pub fn new(filter: Option<&str>) -> Result<Gpu, GpuError> {
        Gpu::open(filter, &LimitSet::Adapter)
    }

    /// Opens the preferred adapter, or the first `filter` names, with the limits of `limit_set`; an
    /// adapter that cannot offer them is an error naming each limit it falls short on.
    pub fn open(filter: Option<&str>, limit_set: &LimitSet) -> Result<Gpu, GpuError> {
        let instance = instance();
        let adapter = adapters(&instance)
            .into_iter()
            .find(|a| matches(filter, &a.get_info()))
            .ok_or_else(|| GpuError::NoAdapter {
                filter: filter.map(str::to_string),
            })?;
        Gpu::open_adapter(adapter, limit_set)
    }

    /// `--adapter all`: a device on every hardware adapter (Vulkan, Metal, DX12), or, where there is
    /// none, on every software one, so the path runs on a machine without a GPU too. The flag says
    /// which.
    pub fn open_all(limit_set: &LimitSet) -> Result<(Vec<Gpu>, bool), GpuError> {
        let usable: Vec<wgpu::Adapter> = adapters(&instance())
            .into_iter()
            .filter(|a| matches(None, &a.get_info()))
            .collect();
        let software = |a: &wgpu::Adapter| a.get_info().device_type == wgpu::DeviceType::Cpu;
        let all_software = usable.iter().all(software);
        let chosen: Vec<wgpu::Adapter> = usable
            .into_iter()
            .filter(|a| all_software || !software(a))
            .collect();
        if chosen.is_empty() {
            return Err(GpuError::NoAdapter {
                filter: Some("all".into()),
            });
        }
        let gpus = chosen
            .into_iter()
            .map(|a| Gpu::open_adapter(a, limit_set))
            .collect::<Result<Vec<Gpu>, GpuError>>()?;
        Ok((gpus, all_software))
    }

    /// `adapter` with the limits of `limit_set`, after checking them against what the adapter offers
    /// and what the kernels need.
    fn open_adapter(adapter: wgpu::Adapter, limit_set: &LimitSet) -> Result<Gpu, GpuError> {
        let summary = AdapterSummary::of(&adapter);
        let wanted = limit_set.resolve(&adapter.limits());
        let mut short = Vec::new();
        wanted.check_limits_with_fail_fn(&adapter.limits(), false, |name, want, has| {
            short.push(format!(
                "{name}: asked for {want}, the adapter offers {has}"
            ))
        });
        // Below the engine's fixed needs (a GL driver can be): an error now rather than a failed
        // pipeline later.
        short.extend(unmet(&wanted));
        if !short.is_empty() {
            return Err(GpuError::Device {
                adapter: summary.name.clone(),
                message: format!(
                    "with the {} limits: {}{}",
                    limit_set.name(),
                    short.join("; "),
                    match limit_set {
                        LimitSet::Adapter => "",
                        _ => "; run with --limits adapter",
                    }
                ),
            });
        }
        Gpu::on_adapter(adapter, limit_set, wanted)
    }
}
