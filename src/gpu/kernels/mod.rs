//! One module per kernel family (one WGSL file each): its parameter block, its bindings
//! ([`binding_table`]), a launch builder with named operands, the CPU function it reproduces
//! ([`CPU_TWIN`](gemm::CPU_TWIN) in each, named with [`twin!`]), and its own standalone check against
//! that twin on random shapes.
//!
//! - [`gemm`]: input projections, dense layers, weight gradients, gradients for the layer below,
//!   transposed parameter blocks.
//! - [`lstm_forward`]: the recurrence over a whole sequence.
//! - [`lstm_backward`]: reverse-time BPTT over a whole sequence.
//! - [`dropout`], [`loss`], [`adam`], [`batch`] (shuffles, batch bookkeeping, gathering windows),
//!   [`early_stop`].

pub mod adam;
pub mod batch;
pub mod dropout;
pub mod early_stop;
pub mod gemm;
pub mod loss;
pub mod lstm_backward;
pub mod lstm_forward;

use super::bindings::Binding;
use super::context::{Gpu, GpuError};
use super::kernel::{Family, Slot};
use super::shader_structs::{Mirror, ModelStateGpu, RunUniform, StepParams};
use super::shaders;

/// Every kernel family of the engine, compiled once per device.
#[derive(Clone)]
pub struct Kernels {
    pub gemm: Family,
    pub lstm_forward: Family,
    pub lstm_backward: Family,
    pub batch: Family,
    pub dropout: Family,
    pub loss: Family,
    pub adam: Family,
    pub early_stop: Family,
}

/// The CPU function(s) a kernel reproduces, as `gpulstm check` prints them (`reference::adam::adam_step`;
/// `reference::loss::{mse, mse_grad}`; several paths separated by commas). Each path is also used as a
/// value, resolved where the macro is called, so a twin renamed or moved fails to compile.
macro_rules! twin {
    ($($m:ident)::+ :: {$f0:ident $(, $f:ident)* $(,)?}) => {{
        use $($m)::+::{$f0 $(, $f)*};
        let _ = $f0;
        $(let _ = $f;)*
        concat!($(stringify!($m), "::",)+ "{", stringify!($f0), $(", ", stringify!($f),)* "}")
    }};
    ($first:path $(, $rest:path)* $(,)?) => {{
        let _ = $first;
        $(let _ = $rest;)*
        concat!(stringify!($first) $(, ", ", stringify!($rest))*)
    }};
}
pub(crate) use twin;

/// Every family with bindings: the engine's, then the bench's and check's yardsticks.
pub const FAMILIES: [&str; 9] = [
    "gemm",
    "lstm_forward",
    "lstm_backward",
    "batch",
    "dropout",
    "loss",
    "adam",
    "early_stop",
    "yardsticks",
];

/// The bindings of family `name`'s group 0, in binding order; empty for a name not in [`FAMILIES`].
pub fn binding_table(name: &str) -> &'static [Binding] {
    match name {
        "gemm" => gemm::GemmBindings::TABLE,
        "lstm_forward" => lstm_forward::RecurrenceBindings::TABLE,
        "lstm_backward" => lstm_backward::BpttBindings::TABLE,
        "batch" => batch::BatchBindings::TABLE,
        "dropout" => dropout::DropoutBindings::TABLE,
        "loss" => loss::LossBindings::TABLE,
        "adam" => adam::AdamBindings::TABLE,
        "early_stop" => early_stop::EarlyStopBindings::TABLE,
        "yardsticks" => super::yardstick::YardstickBindings::TABLE,
        _ => &[],
    }
}

/// What sits at each binding number of family `name`'s group 0; empty for a name not in [`FAMILIES`].
pub fn slots(name: &str) -> Vec<Slot> {
    binding_table(name).iter().map(|b| b.slot).collect()
}

/// Every Rust mirror of a WGSL struct the kernels bind, for tests/shader_interface.rs.
pub fn mirrors() -> Vec<Mirror> {
    vec![
        ModelStateGpu::MIRROR,
        RunUniform::MIRROR,
        StepParams::MIRROR,
        gemm::GemmParams::MIRROR,
        lstm_forward::LstmParams::MIRROR,
        lstm_backward::LstmBackParams::MIRROR,
        dropout::DropoutParams::MIRROR,
        loss::LossParams::MIRROR,
        super::yardstick::MatParams::MIRROR,
    ]
}

/// Storage or uniform bindings, as the per-stage limits count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotKind {
    Storage,
    Uniform,
}

/// The most bindings of `kind` any family has, and that family: what the device's per-stage limit must
/// allow.
pub fn most_bindings(kind: SlotKind) -> (usize, &'static str) {
    FAMILIES
        .iter()
        .map(|&name| {
            let n = slots(name)
                .iter()
                .filter(|s| match kind {
                    SlotKind::Storage => matches!(s, Slot::Read | Slot::ReadWrite),
                    SlotKind::Uniform => matches!(s, Slot::Uniform),
                })
                .count();
            (n, name)
        })
        .max_by_key(|&(n, _)| n)
        .unwrap_or((0, ""))
}

impl Kernels {
    pub fn build(gpu: &Gpu) -> Result<Kernels, GpuError> {
        let family =
            |name: &'static str| Family::build(gpu, name, shaders::module(name), &slots(name));
        // The recurrent families with their subgroup entry points where the device has them.
        let recurrent = |name: &'static str| {
            let module = match gpu.subgroup_size {
                Some(_) => shaders::module(&format!("{name}+subgroup")),
                None => shaders::module(name),
            };
            Family::build(gpu, name, module, &slots(name))
        };
        Ok(Kernels {
            gemm: family("gemm")?,
            lstm_forward: recurrent("lstm_forward")?,
            lstm_backward: recurrent("lstm_backward")?,
            batch: family("batch")?,
            dropout: family("dropout")?,
            loss: family("loss")?,
            adam: family("adam")?,
            early_stop: family("early_stop")?,
        })
    }
}

/// The buffers shared by every training-loop kernel: the run's config, the step's parameters and the
/// per-model states.
#[derive(Clone)]
pub struct Common {
    pub config: wgpu::Buffer,
    pub step: wgpu::Buffer,
    pub states: wgpu::Buffer,
}

impl Common {
    pub fn new(gpu: &Gpu, config: &RunUniform, models: usize) -> Common {
        Common {
            config: gpu.uniform("run config", config),
            step: gpu.uniform("step params", &StepParams::default()),
            states: gpu.storage("states", models * std::mem::size_of::<ModelStateGpu>() / 4),
        }
    }

    /// The three common bindings followed by a family's own.
    pub fn with<'a>(&'a self, rest: &[&'a wgpu::Buffer]) -> Vec<&'a wgpu::Buffer> {
        let mut v = vec![&self.config, &self.step, &self.states];
        v.extend_from_slice(rest);
        v
    }

    pub fn write_states(&self, gpu: &Gpu, states: &[ModelStateGpu]) {
        gpu.queue
            .write_buffer(&self.states, 0, bytemuck::cast_slice(states));
    }

    pub fn write_step(&self, gpu: &Gpu, step: &StepParams) {
        gpu.queue
            .write_buffer(&self.step, 0, bytemuck::bytes_of(step));
    }
}

/// A tensor `[M][rows][width]` inside a buffer: element (m, n, j) is float
/// `off + m·model + n·row + j`. Sections of wider rows (an LSTM's h section, the next layer's x section)
/// are views with `row` > `width`.
#[derive(Clone, Debug)]
pub struct View {
    pub buf: wgpu::Buffer,
    pub off: usize,
    pub model: usize,
    pub row: usize,
    pub rows: usize,
    pub width: usize,
}

impl View {
    /// A tight `[M][rows][width]` buffer of its own.
    pub fn tight(gpu: &Gpu, label: &str, models: usize, rows: usize, width: usize) -> View {
        View {
            buf: gpu.storage(label, models * rows * width),
            off: 0,
            model: rows * width,
            row: width,
            rows,
            width,
        }
    }

    /// Rows `first .. first + rows` of this view.
    pub fn rows(&self, first: usize, rows: usize) -> View {
        View {
            off: self.off + first * self.row,
            rows,
            ..self.clone()
        }
    }

    /// Columns `first .. first + width` of this view.
    pub fn cols(&self, first: usize, width: usize) -> View {
        View {
            off: self.off + first,
            width,
            ..self.clone()
        }
    }

    /// Model `m`'s `[rows][width]` out of a readback of the whole buffer, as a tight vector.
    pub fn extract(&self, data: &[f32], m: usize) -> Vec<f32> {
        let mut out = Vec::with_capacity(self.rows * self.width);
        for n in 0..self.rows {
            let at = self.off + m * self.model + n * self.row;
            out.extend_from_slice(&data[at..at + self.width]);
        }
        out
    }
}

/// Model states with `rows` rows active and everything else zero: what a standalone check needs to run a
/// kernel outside a training step.
pub fn active_states(models: usize, rows: usize) -> Vec<ModelStateGpu> {
    (0..models)
        .map(|m| ModelStateGpu {
            model_id: m as u32,
            rows: rows as u32,
            step_active: 1,
            alive: 1,
            ..Default::default()
        })
        .collect()
}

/// A check's seed for model `m`: every model its own, differing in both 32-bit halves, so a kernel that
/// read one model's seed for another (or dropped the high word) fails the check.
pub fn model_seed(seed: u64, m: usize) -> u64 {
    seed ^ (m as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}
