//! shaders/lstm_backward.wgsl: reverse-time BPTT of one LSTM layer over a whole sequence in one dispatch,
//! writing the gate gradients (and the gradients of the initial state) for the weight-gradient and
//! input-gradient products.

use super::lstm_forward::{check_tiles, lstm_sizes, LstmCase};
use super::{active_states, twin, Common, Kernels, View};
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, CheckResult, Data, Tol, TOL_GRAD_ABS_FRACTION, TOL_GRAD_REL};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::device_layout::{round4, Block};
use crate::gpu::kernel::{submit, Cost, Launch};
use crate::gpu::shader_structs::{mirror, u32_of, ModelStateGpu, RunUniform};
use crate::gpu::tiles::{Product, Tiles};
use crate::reference;
use crate::reference::lstm::{lstm_backward, lstm_forward};

pub const CPU_TWIN: &str = twin!(reference::lstm::lstm_backward);

bindings! {
    /// shaders/lstm_backward.wgsl's bindings.
    BpttBindings {
        cfg: Uniform<RunUniform>,
        states: Read<ModelStateGpu>,
        p: Uniform<LstmBackParams>,
        params_t: Read<[f32; 4]>,
        gates: Read<[f32; 4]>,
        cell: Read<[f32; 4]>,
        dh_in: Read<[f32; 4]>,
        dgates: ReadWrite<[f32; 4]>,
        dstate: ReadWrite<[f32; 4]>,
    }
}

mirror! {
    LstmBackParams =>
    /// Mirrors `LstmBackParams` in shaders/lstm_backward.wgsl.
    pub struct LstmBackParams {
        pub units: u32,
        pub h4: u32,
        pub s4: u32,
        pub h4_off: u32,
        pub block_off4: u32,
        pub param_model4: u32,
        pub gates_model: u32,
        pub cell_model4: u32,
        pub dh_model4: u32,
        pub dh_every_step: u32,
        pub pad0: u32,
        pub pad1: u32,
    }
}

/// One LSTM layer's BPTT: `params_t` holds the transposed blocks, `gates` the activations and `cell` the
/// cells of the forward pass, `dh_in` the gradient from above ([T·B][U4] for a sequence output, else
/// [B][U4]), `dgates` receives [T·B][4U], `dstate` [2][B][U4] (dh and dc of the initial state).
pub struct Bptt<'a> {
    pub params_t: &'a wgpu::Buffer,
    pub param_stride: usize,
    pub block: &'a Block,
    pub gates: &'a View,
    pub cell: &'a View,
    pub dh_in: &'a View,
    pub dh_every_step: bool,
    pub dgates: &'a View,
    pub dstate: &'a wgpu::Buffer,
    pub batch: usize,
    pub steps: usize,
}

impl Bptt<'_> {
    pub fn product(&self) -> Product {
        Product::Bptt {
            batch: self.batch,
            units: lstm_sizes(self.block).1,
            steps: self.steps,
        }
    }

    pub fn launch(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        common: &Common,
        tiles: &Tiles,
        models: usize,
    ) -> Result<Launch, GpuError> {
        let units = lstm_sizes(self.block).1;
        assert_eq!(
            (self.dgates.model, self.dgates.row),
            (self.gates.model, self.gates.row),
            "the BPTT addresses gates and dgates alike"
        );
        let product = self.product();
        let tile = tiles.tile(&product).ok_or_else(|| {
            GpuError::TooLarge(format!(
                "the BPTT of an LSTM of {units} units over batches of {} needs a bigger workgroup than \
                 this adapter allows; use a smaller --batch-size or --backend cpu",
                self.batch
            ))
        })?;
        let p = LstmBackParams {
            units: u32_of(units),
            h4: u32_of(round4(units) / 4),
            s4: u32_of(self.block.rows / 4),
            h4_off: u32_of(self.block.x_rows / 4),
            block_off4: u32_of(self.block.offset / 4),
            param_model4: u32_of(self.param_stride / 4),
            gates_model: u32_of(self.gates.model / 4),
            cell_model4: u32_of(self.cell.model / 4),
            dh_model4: u32_of(self.dh_in.model / 4),
            dh_every_step: u32::from(self.dh_every_step),
            ..Default::default()
        };
        let bg = BpttBindings {
            cfg: &common.config,
            states: &common.states,
            p: &gpu.uniform("lstm back params", &p),
            params_t: self.params_t,
            gates: &self.gates.buf,
            cell: &self.cell.buf,
            dh_in: &self.dh_in.buf,
            dgates: &self.dgates.buf,
            dstate: self.dstate,
        }
        .bind(gpu, &kernels.lstm_backward);
        // Gates, cells, dh from above, dgates out; Uᵀ once (kept on chip).
        let (tb, g4) = (self.steps * self.batch, 4 * units);
        let floats = 2 * tb * g4 + tb * units + self.dh_in.rows * units + units * g4;
        let pipeline = product.pipeline(&tile, gpu.subgroup_size.is_some());
        Ok(Launch::new(
            gpu,
            &kernels.lstm_backward,
            pipeline.entry,
            &pipeline.constants,
            bg,
            [u32_of(models), 1, 1],
        )?
        .costing(Cost::product(product, models, floats)))
    }
}

/// The standalone check, for a sequence output (dh from above at every step) and a last-step output, with
/// every variant of the kernel this adapter allows: the forward cache of the f64 reference is uploaded
/// (so only the backward pass differs), and dgates, dh and dc of the initial state are compared with
/// `lstm_backward`.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let mut out = Vec::new();
    // Both kinds of gradient from above on a random layer; every variant this adapter allows on it and
    // on a layer small enough to keep Uᵀ in workgroup memory.
    let cases = [
        (LstmCase::random(seed), true),
        (LstmCase::random(seed ^ 3), false),
        (LstmCase::random_max_units(seed ^ 2, 40), true),
    ];
    for (case, every_step) in cases {
        let product = Product::Bptt {
            batch: case.batch,
            units: case.units,
            steps: case.steps,
        };
        for (_, tiles) in check_tiles(gpu, &product) {
            out.extend(check_one(gpu, &case, &tiles, every_step)?);
        }
    }
    Ok(out)
}

fn check_one(
    gpu: &Gpu,
    case: &LstmCase,
    tiles: &Tiles,
    every_step: bool,
) -> Result<Vec<CheckResult>, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let (t, b, u, models) = (case.steps, case.batch, case.units, case.models);
    let (u4, g4) = (round4(u), 4 * u);
    let mut data = Data(case.units as u64 * 31 + case.steps as u64 * 7 + u64::from(every_step));
    let common = Common::new(gpu, &case.config(), models);
    common.write_states(gpu, &active_states(models, b));
    let dh_rows = if every_step { t * b } else { b };
    let mut gates = vec![0.0f32; models * t * b * g4];
    let mut cell = vec![0.0f32; models * t * b * u4];
    let mut dh_in = vec![0.0f32; models * dh_rows * u4];
    let mut wants = Vec::new();
    for m in 0..models {
        let fwd = lstm_forward(
            &case.dims(),
            &case.x[m],
            &case.kernel[m],
            &case.recurrent[m],
            &case.bias[m],
        );
        for row in 0..t * b {
            for j in 0..g4 {
                gates[(m * t * b + row) * g4 + case.device_col(j)] = fwd.gates[row * g4 + j] as f32;
            }
            for k in 0..u {
                cell[(m * t * b + row) * u4 + k] = fwd.c[row * u + k] as f32;
            }
        }
        // The gradient from above, [T][B][U] for the reference (zero before the last step when only the
        // last step's output is used).
        let dh = data.vec(dh_rows * u);
        let mut dh_full = vec![0.0; t * b * u];
        let first = if every_step { 0 } else { (t - 1) * b };
        dh_full[first * u..].copy_from_slice(&dh);
        for row in 0..dh_rows {
            for k in 0..u {
                dh_in[(m * dh_rows + row) * u4 + k] = dh[row * u + k] as f32;
            }
        }
        wants.push(lstm_backward(
            &case.dims(),
            &case.x[m],
            &case.kernel[m],
            &case.recurrent[m],
            &fwd,
            &dh_full,
        ));
    }
    // The transposed block: row j of [4U][S] is column j of the block.
    let params = case.device_params();
    let (stride, blk) = (case.param_stride(), &case.block);
    let mut params_t = vec![0.0f32; params.len()];
    for m in 0..models {
        for i in 0..blk.rows {
            for j in 0..blk.cols {
                params_t[m * stride + blk.offset + j * blk.rows + i] =
                    params[m * stride + blk.offset + i * blk.cols + j];
            }
        }
    }
    let tight = |label: &str, values: &[f32], rows: usize, width: usize| View {
        buf: gpu.storage_init(label, values),
        off: 0,
        model: rows * width,
        row: width,
        rows,
        width,
    };
    let gates_v = tight("gates", &gates, t * b, g4);
    let cell_v = tight("cell", &cell, t * b, u4);
    let dh_v = tight("dh_in", &dh_in, dh_rows, u4);
    let dgates = View::tight(gpu, "dgates", models, t * b, g4);
    let dstate = gpu.storage("dstate", models * 2 * b * u4);
    let params_t_buf = gpu.storage_init("params_t", &params_t);
    let bptt = Bptt {
        params_t: &params_t_buf,
        param_stride: stride,
        block: blk,
        gates: &gates_v,
        cell: &cell_v,
        dh_in: &dh_v,
        dh_every_step: every_step,
        dgates: &dgates,
        dstate: &dstate,
        batch: b,
        steps: t,
    };
    let launch = bptt.launch(gpu, &kernels, &common, tiles, models)?;
    submit(gpu, &[&launch]);
    let got = gpu.read_f32(&dgates.buf, 0, models * t * b * g4)?;
    let got_state = gpu.read_f32(&dstate, 0, models * 2 * b * u4)?;
    let tile = tiles
        .tile(&bptt.product())
        .map_or_else(|| "no tile".to_string(), |t| t.to_string());
    let shape = format!(
        "I={} U={u} B={b} T={t}, dh from above {}, tile {tile}",
        case.input,
        if every_step {
            "every step"
        } else {
            "last step"
        }
    );
    let mut out = Vec::new();
    for (m, want) in wants.iter().enumerate() {
        // Gradients chain T steps of f32 arithmetic; the absolute part is relative to the tensor's
        // largest element (as for every gradient check).
        let tol = |v: &[f64]| Tol {
            abs: TOL_GRAD_ABS_FRACTION * v.iter().fold(0.0f64, |a, x| a.max(x.abs())),
            rel: TOL_GRAD_REL,
        };
        let g = case.keras_gates(&dgates.extract(&got, m));
        out.push(compare(
            "lstm_backward",
            &format!("dgates, {shape}, model {m}"),
            &g,
            &want.dgates,
            tol(&want.dgates),
        ));
        let state = |which: usize| -> Vec<f32> {
            (0..b)
                .flat_map(|r| {
                    let at = ((m * 2 + which) * b + r) * u4;
                    got_state[at..at + u].to_vec()
                })
                .collect()
        };
        out.push(compare(
            "lstm_backward",
            &format!("dh of the initial state, {shape}, model {m}"),
            &state(0),
            &want.dh0,
            tol(&want.dh0),
        ));
        out.push(compare(
            "lstm_backward",
            &format!("dc of the initial state, {shape}, model {m}"),
            &state(1),
            &want.dc0,
            tol(&want.dc0),
        ));
    }
    Ok(out)
}
