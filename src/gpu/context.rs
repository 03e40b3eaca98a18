//! The wgpu device: what it is opened with (the adapter, its limits: the adapter's own or the WebGPU
//! defaults), its health, buffers, validation scopes and a blocking readback helper. Which adapter
//! and whether its limits suffice is decided in [`super::adapters`].

use std::sync::mpsc;

use bytemuck::Pod;
use wgpu::util::DeviceExt;

use thiserror::Error;

use super::driver_cache::DriverCache;
use super::pipeline_cache::FamilyCache;

/// Why the GPU backend could not start or failed; every message says what the user can do.
#[derive(Debug, Error)]
pub enum GpuError {
    #[error("{}", no_adapter(.filter.as_deref()))]
    NoAdapter { filter: Option<String> },
    #[error("could not open the GPU device on {adapter}: {message}")]
    Device { adapter: String, message: String },
    #[error(
        "GPU {what} failed on {adapter}: {message}; run with --backend cpu, and please report it with \
         the output of `gpulstm check`"
    )]
    Validation {
        adapter: String,
        what: String,
        message: String,
    },
    #[error(
        "the model does not fit this adapter: {0}; train fewer models at once (--max-models-per-chunk N) \
         or use --backend cpu"
    )]
    TooLarge(String),
    #[error(
        "the GPU device {adapter} was lost mid-run ({message}); the splits finished before are saved: \
         continue with `gpulstm train --resume DIR`, adding --backend cpu if the GPU stays unavailable"
    )]
    DeviceLost { adapter: String, message: String },
    #[error("reading results back from the GPU failed: {0}")]
    Readback(String),
}

/// What to install when no adapter matches `filter`: a GL driver through EGL for `--adapter gl`, else a
/// Vulkan/Metal/DX12 one.
fn no_adapter(filter: Option<&str>) -> String {
    let matching = filter
        .map(|f| format!(" matching --adapter \"{f}\""))
        .unwrap_or_default();
    if filter.is_some_and(|f| f.eq_ignore_ascii_case("gl")) {
        format!(
            "no GPU adapter found{matching}; wgpu's GL backend needs libEGL and a GL or GLES driver (on \
             Linux: `apt-get install libegl1 libgles2 libegl-mesa0` for Mesa's llvmpipe)"
        )
    } else {
        format!(
            "no GPU adapter found{matching}; install a Vulkan/Metal/DX12 driver (on Linux without a GPU: \
             `apt-get install mesa-vulkan-drivers libvulkan1` for the lavapipe software adapter) or use \
             `--backend cpu`"
        )
    }
}

/// A short description of one adapter, for `gpulstm devices` and for reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    /// A CPU rasteriser (lavapipe, WARP, SwiftShader) rather than a GPU.
    pub software: bool,
    pub driver: String,
    pub max_storage_buffer_binding_size: u64,
    pub max_buffer_size: u64,
    pub max_compute_workgroup_storage_size: u32,
    pub max_compute_invocations_per_workgroup: u32,
    pub max_compute_workgroups_per_dimension: u32,
    pub max_storage_buffers_per_shader_stage: u32,
    pub timestamp_queries: bool,
    /// Reached only when `--adapter` names it: wgpu's GL backend (a downlevel API whose compute support
    /// varies by driver), so the default choice, `--backend auto` and the tests stay on Vulkan, Metal and
    /// DX12 as before.
    pub opt_in: bool,
}

impl AdapterSummary {
    pub(super) fn of(adapter: &wgpu::Adapter) -> AdapterSummary {
        let info = adapter.get_info();
        let limits = adapter.limits();
        AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            software: info.device_type == wgpu::DeviceType::Cpu,
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_string(),
            max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
            max_buffer_size: limits.max_buffer_size,
            max_compute_workgroup_storage_size: limits.max_compute_workgroup_storage_size,
            max_compute_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
            max_compute_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            max_storage_buffers_per_shader_stage: limits.max_storage_buffers_per_shader_stage,
            timestamp_queries: adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY),
            opt_in: info.backend == wgpu::Backend::Gl,
        }
    }
}

/// Which limits the device is opened with; the engine plans its tiles and chunks from these alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitSet {
    /// The adapter's own limits (the default): on a GPU far above the WebGPU defaults, so 988 models fit
    /// one storage binding instead of needless chunks.
    Adapter,
    /// `wgpu::Limits::default()`, the WebGPU defaults every conformant Vulkan, Metal and DX12 adapter
    /// offers (16 KiB workgroup storage, 256 invocations, 128 MiB storage bindings, 8 storage buffers
    /// per stage): what a run needs on any such GPU.
    WebGpu,
    /// Given limits (tests lower one to see the plan change); each must be within the adapter's.
    Custom(Box<wgpu::Limits>),
}

impl LimitSet {
    /// `--limits`' spelling.
    pub fn name(&self) -> &'static str {
        match self {
            LimitSet::Adapter => "adapter",
            LimitSet::WebGpu => "webgpu",
            LimitSet::Custom(_) => "custom",
        }
    }

    pub(super) fn resolve(&self, adapter: &wgpu::Limits) -> wgpu::Limits {
        match self {
            LimitSet::Adapter => adapter.clone(),
            LimitSet::WebGpu => wgpu::Limits::default(),
            LimitSet::Custom(limits) => (**limits).clone(),
        }
    }
}

/// An open device with the limits of a [`LimitSet`] (the adapter's own by default).
pub struct Gpu {
    /// The driver's compiled pipelines on disk, where the backend offers a cache (declared first, so it
    /// is written back before the device goes).
    pub driver_cache: Option<DriverCache>,
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The adapter as wgpu describes it, with the adapter's own limits.
    pub summary: AdapterSummary,
    /// The limits the device was opened with and enforces: every plan (tiles, models per chunk, grids)
    /// is made from these, never from the adapter's own.
    pub limits: wgpu::Limits,
    /// Which limits those are.
    pub limit_set: LimitSet,
    /// The adapter's own limits (what `--limits adapter` would have asked for).
    pub adapter_limits: wgpu::Limits,
    /// The adapter's subgroup sizes (wgpu reports 4..128 where it does not know them).
    pub subgroup_sizes: (u32, u32),
    pub timestamps: bool,
    /// The subgroup size, where the device has subgroup operations and one fixed subgroup size (the
    /// recurrent kernels' subgroup variants need a workgroup that is exactly one subgroup).
    pub subgroup_size: Option<u32>,
    /// Kernel families already compiled on this device, so every engine of a run reuses them.
    pub(crate) families: FamilyCache,
    /// What wgpu reported outside any error scope: a lost device, an uncaptured error. Recorded by
    /// callbacks (wgpu's default would panic) and turned into errors at the next wait or readback.
    health: std::sync::Arc<Health>,
}

#[derive(Debug, Default)]
struct Health {
    lost: std::sync::Mutex<Option<String>>,
    uncaptured: std::sync::Mutex<Option<String>>,
}

impl Health {
    fn set(slot: &std::sync::Mutex<Option<String>>, message: String) {
        if let Ok(mut s) = slot.lock() {
            s.get_or_insert(message);
        }
    }
    fn get(slot: &std::sync::Mutex<Option<String>>) -> Option<String> {
        slot.lock().ok().and_then(|s| s.clone())
    }
}

impl Gpu {
    /// A device on `adapter` with `limits` (those of `limit_set`, already checked against the adapter's
    /// and the engine's needs by [`super::adapters`]), with its optional features where the adapter has
    /// them and callbacks that record a lost device or an uncaptured error.
    pub(super) fn on_adapter(
        adapter: wgpu::Adapter,
        limit_set: &LimitSet,
        wanted: wgpu::Limits,
    ) -> Result<Gpu, GpuError> {
        let summary = AdapterSummary::of(&adapter);
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        let subgroups = adapter.features().contains(wgpu::Features::SUBGROUP);
        let info = adapter.get_info();
        let subgroup_size = (subgroups && info.subgroup_min_size == info.subgroup_max_size)
            .then_some(info.subgroup_min_size)
            .filter(|&n| n > 0);
        let mut features = wgpu::Features::empty();
        if timestamps {
            features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        if subgroups {
            features |= wgpu::Features::SUBGROUP;
        }
        if adapter.features().contains(wgpu::Features::PIPELINE_CACHE) {
            features |= wgpu::Features::PIPELINE_CACHE;
        }
        if super::fault::injected("adapter") {
            return Err(GpuError::Device {
                adapter: summary.name.clone(),
                message: "injected fault: the device request failed".into(),
            });
        }
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("gpulstm"),
            required_features: features,
            required_limits: wanted,
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| GpuError::Device {
            adapter: summary.name.clone(),
            message: e.to_string(),
        })?;
        let health = std::sync::Arc::new(Health::default());
        let on_lost = health.clone();
        device.set_device_lost_callback(move |reason, message| {
            Health::set(&on_lost.lost, format!("{reason:?}: {message}"));
        });
        let on_error = health.clone();
        device.on_uncaptured_error(std::sync::Arc::new(move |e: wgpu::Error| {
            Health::set(&on_error.uncaptured, e.to_string());
        }));
        // What the device enforces (the limits requested, as wgpu took them).
        let limits = device.limits();
        let driver_cache = DriverCache::open(&adapter, &device);
        crate::startup::mark(crate::startup::DEVICE_OPEN);
        Ok(Gpu {
            driver_cache,
            device,
            queue,
            summary,
            limits,
            limit_set: limit_set.clone(),
            adapter_limits: adapter.limits(),
            subgroup_sizes: (info.subgroup_min_size, info.subgroup_max_size),
            timestamps,
            subgroup_size,
            families: FamilyCache::default(),
            health,
        })
    }

    /// A lost device or an error wgpu reported outside every scope, as an error naming the adapter.
    pub fn check_health(&self) -> Result<(), GpuError> {
        if let Some(message) = Health::get(&self.health.lost) {
            return Err(GpuError::DeviceLost {
                adapter: self.summary.name.clone(),
                message,
            });
        }
        match Health::get(&self.health.uncaptured) {
            Some(message) => Err(GpuError::Validation {
                adapter: self.summary.name.clone(),
                what: "operation".into(),
                message,
            }),
            None => Ok(()),
        }
    }

    /// Marks the device lost as wgpu's callback would (the fault-injection tests' lost device).
    pub fn simulate_device_lost(&self, message: &str) {
        Health::set(&self.health.lost, message.to_string());
    }

    /// Runs `f` (which creates pipelines or resources) inside a validation error scope, so a bad shader
    /// or an over-limit buffer becomes an error instead of wgpu's default panic.
    pub fn checked<T>(&self, what: &str, f: impl FnOnce() -> T) -> Result<T, GpuError> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = f();
        let injected = super::fault::injected("pipeline").then(|| "injected fault".to_string());
        match pollster::block_on(scope.pop())
            .map(|e| e.to_string())
            .or(injected)
        {
            None => Ok(out),
            Some(message) => Err(GpuError::Validation {
                adapter: self.summary.name.clone(),
                what: what.to_string(),
                message,
            }),
        }
    }

    /// Compiles WGSL. Every loop in this project's shaders is bounded by a value from a uniform or a
    /// pipeline constant, so wgpu's forced loop bounding (a counter added to each loop against infinite
    /// loops) is switched off: it keeps drivers from unrolling the register blocks' loops, which cost
    /// lavapipe 15 % on a 1024³ product (measured side by side). Bounds checks and integer-division
    /// checks stay on.
    pub fn shader_module(&self, label: &str, source: &str) -> wgpu::ShaderModule {
        let checks = wgpu::ShaderRuntimeChecks {
            force_loop_bounding: false,
            ..wgpu::ShaderRuntimeChecks::checked()
        };
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(label),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        };
        // SAFETY: `create_shader_module_trusted` requires that the shader has no infinite loop when
        // loop bounding is off; see above. Validation still runs.
        unsafe { self.device.create_shader_module_trusted(desc, checks) }
    }

    /// Blocks until the GPU has finished all submitted work.
    pub fn wait(&self) -> Result<(), GpuError> {
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: None,
                timeout: None,
            })
            .map(|_| ())
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        self.check_health()
    }

    /// Copies `len` bytes of `src` from `offset` into a fresh staging buffer and returns them: the only
    /// way results come back, used once per epoch at most.
    pub fn read_bytes(
        &self,
        src: &wgpu::Buffer,
        offset: u64,
        len: u64,
    ) -> Result<Vec<u8>, GpuError> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: len,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = self.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(src, offset, &staging, 0, len);
        self.queue.submit(Some(encoder.finish()));
        let (tx, rx) = mpsc::channel();
        staging.map_async(wgpu::MapMode::Read, .., move |r| {
            let _ = tx.send(r);
        });
        self.wait()?;
        rx.recv()
            .map_err(|e| GpuError::Readback(e.to_string()))?
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let view = staging
            .get_mapped_range(..)
            .map_err(|e| GpuError::Readback(e.to_string()))?;
        let bytes = view.to_vec();
        drop(view);
        staging.unmap();
        Ok(bytes)
    }

    pub fn read_f32(
        &self,
        src: &wgpu::Buffer,
        offset_elems: u64,
        len: usize,
    ) -> Result<Vec<f32>, GpuError> {
        let bytes = self.read_bytes(src, offset_elems * 4, len as u64 * 4)?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }

    /// A zeroed storage buffer of `elems` 4-byte elements (at least one, as wgpu needs).
    pub fn storage(&self, label: &str, elems: usize) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (elems.max(1) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A storage buffer holding `data`.
    pub fn storage_init<T: Pod>(&self, label: &str, data: &[T]) -> wgpu::Buffer {
        let mut bytes: Vec<u8> = bytemuck::cast_slice(data).to_vec();
        if bytes.is_empty() {
            bytes.extend_from_slice(&[0; 4]);
        }
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &bytes,
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST,
            })
    }

    /// A uniform buffer holding `value`.
    pub fn uniform<T: Pod>(&self, label: &str, value: &T) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::bytes_of(value),
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            })
    }
}
