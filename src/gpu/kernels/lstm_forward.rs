//! shaders/lstm_forward.wgsl: the LSTM recurrence over a whole sequence in one dispatch, after the input
//! projection (gemm `project`) has written x·W + b into `gates`.

use super::{active_states, twin, Common, Kernels, View};
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, CheckResult, Data, TOL_FORWARD};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::device_layout::{gate_col, keras_gate_order, round4, Block, BlockKind};
use crate::gpu::kernel::{submit, Cost, Launch};
use crate::gpu::shader_structs::{mirror, u32_of, ModelStateGpu, RunUniform};
use crate::gpu::tiles::{placement_variants, Product, Tile, TileLimits, Tiles};
use crate::reference;
use crate::reference::lstm::{lstm_forward, LstmDims};

pub const CPU_TWIN: &str = twin!(reference::lstm::lstm_forward);

bindings! {
    /// shaders/lstm_forward.wgsl's bindings.
    RecurrenceBindings {
        cfg: Uniform<RunUniform>,
        states: Read<ModelStateGpu>,
        p: Uniform<LstmParams>,
        params: Read<[f32; 4]>,
        gates: ReadWrite<[f32; 4]>,
        cell: ReadWrite<f32>,
        xa: ReadWrite<f32>,
    }
}

mirror! {
    LstmParams =>
    /// Mirrors `LstmParams` in shaders/lstm_forward.wgsl.
    pub struct LstmParams {
        pub units: u32,
        pub h4: u32,
        pub s4: u32,
        pub h4_off: u32,
        pub u_off4: u32,
        pub param_model4: u32,
        pub gates_model: u32,
        pub cell_model4: u32,
        pub xa_model4: u32,
        pub pad0: u32,
        pub pad1: u32,
        pub pad2: u32,
    }
}

/// One LSTM layer's recurrence: `params` holds the model's blocks (`param_stride` floats a model),
/// `gates` is [T·B][4U] (projection in, activations out), `cell` [T·B][U4], `xa` [(T+1)·B][S].
pub struct Recurrence<'a> {
    pub params: &'a wgpu::Buffer,
    pub param_stride: usize,
    pub block: &'a Block,
    pub gates: &'a View,
    pub cell: &'a View,
    pub xa: &'a View,
    pub batch: usize,
    pub steps: usize,
}

/// The LSTM sizes of a block.
pub fn lstm_sizes(block: &Block) -> (usize, usize) {
    match block.kind {
        BlockKind::Lstm { input, units } => (input, units),
        BlockKind::Dense { .. } => unreachable!("an LSTM launch is only built for an LSTM block"),
    }
}

impl Recurrence<'_> {
    pub fn product(&self) -> Product {
        Product::Recurrence {
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
        let product = self.product();
        let tile = tiles.tile(&product).ok_or_else(|| {
            GpuError::TooLarge(format!(
                "an LSTM of {} units over batches of {} needs a bigger workgroup than this adapter allows; \
                 use a smaller --batch-size or --backend cpu",
                lstm_sizes(self.block).1,
                self.batch
            ))
        })?;
        let units = lstm_sizes(self.block).1;
        let p = LstmParams {
            units: u32_of(units),
            h4: u32_of(round4(units) / 4),
            s4: u32_of(self.block.rows / 4),
            h4_off: u32_of(self.block.x_rows / 4),
            u_off4: u32_of((self.block.offset + self.block.x_rows * self.block.cols) / 4),
            param_model4: u32_of(self.param_stride / 4),
            gates_model: u32_of(self.gates.model / 4),
            cell_model4: u32_of(self.cell.model / 4),
            xa_model4: u32_of(self.xa.model / 4),
            ..Default::default()
        };
        let bg = RecurrenceBindings {
            cfg: &common.config,
            states: &common.states,
            p: &gpu.uniform("lstm params", &p),
            params: self.params,
            gates: &self.gates.buf,
            cell: &self.cell.buf,
            xa: &self.xa.buf,
        }
        .bind(gpu, &kernels.lstm_forward);
        // Projection in, activations out, cells, h out and back in; U once (kept on chip).
        let (tb, g4) = (self.steps * self.batch, 4 * units);
        let floats = 2 * tb * g4 + 3 * tb * units + units * g4;
        let pipeline = product.pipeline(&tile, gpu.subgroup_size.is_some());
        Ok(Launch::new(
            gpu,
            &kernels.lstm_forward,
            pipeline.entry,
            &pipeline.constants,
            bg,
            [u32_of(models), 1, 1],
        )?
        .costing(Cost::product(product, models, floats)))
    }
}

/// A random LSTM layer of `models` models in the device layout, for the recurrent kernels' checks.
#[derive(Clone)]
pub struct LstmCase {
    pub input: usize,
    pub units: usize,
    pub batch: usize,
    pub steps: usize,
    pub models: usize,
    pub block: Block,
    /// Keras-layout W [I][4U], U [U][4U], b [4U] per model.
    pub kernel: Vec<Vec<f64>>,
    pub recurrent: Vec<Vec<f64>>,
    pub bias: Vec<Vec<f64>>,
    /// x [T][B][I] per model.
    pub x: Vec<Vec<f64>>,
}

impl LstmCase {
    pub fn random(seed: u64) -> LstmCase {
        LstmCase::random_max_units(seed, 60)
    }

    pub fn random_max_units(seed: u64, max_units: usize) -> LstmCase {
        let mut d = Data(seed);
        let (input, units) = (1 + d.below(12), 1 + d.below(max_units));
        let (batch, steps, models) = (1 + d.below(24), 1 + d.below(12), 3);
        let (i4, u4) = (round4(input), round4(units));
        let block = Block {
            layer: 0,
            offset: 4 * d.below(3),
            rows: i4 + u4 + 4,
            cols: 4 * units,
            x_rows: i4,
            bias_row: i4 + u4,
            kind: BlockKind::Lstm { input, units },
        };
        let mut case = LstmCase {
            input,
            units,
            batch,
            steps,
            models,
            block,
            kernel: vec![],
            recurrent: vec![],
            bias: vec![],
            x: vec![],
        };
        for _ in 0..models {
            // Weights of a trained-looking size: |w| ≤ 0.5 keeps the gates off saturation.
            let scaled = |d: &mut Data, n: usize| d.vec(n).iter().map(|v| 0.5 * v).collect();
            case.kernel.push(scaled(&mut d, input * 4 * units));
            case.recurrent.push(scaled(&mut d, units * 4 * units));
            case.bias.push(scaled(&mut d, 4 * units));
            case.x.push(d.vec(steps * batch * input));
        }
        case
    }

    /// Floats per model of the parameter buffer.
    pub fn param_stride(&self) -> usize {
        round4(self.block.offset + self.block.len() + 3)
    }

    pub fn device_col(&self, j: usize) -> usize {
        gate_col(self.units, j)
    }

    /// The parameters of every model in the device layout, [models][param_stride].
    pub fn device_params(&self) -> Vec<f32> {
        let (b, stride) = (&self.block, self.param_stride());
        let g4 = 4 * self.units;
        let mut out = vec![0.0f32; self.models * stride];
        for m in 0..self.models {
            let at =
                |row: usize, j: usize| m * stride + b.offset + row * b.cols + self.device_col(j);
            for j in 0..g4 {
                for i in 0..self.input {
                    out[at(i, j)] = self.kernel[m][i * g4 + j] as f32;
                }
                for k in 0..self.units {
                    out[at(b.x_rows + k, j)] = self.recurrent[m][k * g4 + j] as f32;
                }
                out[at(b.bias_row, j)] = self.bias[m][j] as f32;
            }
        }
        out
    }

    /// x·W + b of every step in f64, interleaved like the device's `gates`: [models][T·B][4U].
    pub fn projection(&self) -> Vec<f32> {
        let g4 = 4 * self.units;
        let n = self.steps * self.batch;
        let mut out = vec![0.0f32; self.models * n * g4];
        for m in 0..self.models {
            for row in 0..n {
                for j in 0..g4 {
                    let mut z = self.bias[m][j];
                    for i in 0..self.input {
                        z += self.x[m][row * self.input + i] * self.kernel[m][i * g4 + j];
                    }
                    out[(m * n + row) * g4 + self.device_col(j)] = z as f32;
                }
            }
        }
        out
    }

    /// The recurrence's product (the BPTT's has the same sizes).
    pub fn product(&self) -> Product {
        Product::Recurrence {
            batch: self.batch,
            units: self.units,
            steps: self.steps,
        }
    }

    pub fn dims(&self) -> LstmDims {
        LstmDims {
            steps: self.steps,
            rows: self.batch,
            input: self.input,
            units: self.units,
        }
    }

    pub fn config(&self) -> RunUniform {
        RunUniform {
            models: u32_of(self.models),
            batch: u32_of(self.batch),
            steps: u32_of(self.steps),
            ..Default::default()
        }
    }

    /// A device `[T·B][4U]` tensor of model m back in Keras gate order.
    pub fn keras_gates(&self, device: &[f32]) -> Vec<f32> {
        keras_gate_order(device, self.units)
    }
}

/// The device buffers of an [`LstmCase`] after its forward pass ran.
pub struct LstmBuffers {
    pub params: wgpu::Buffer,
    pub gates: View,
    pub cell: View,
    pub xa: View,
    pub common: Common,
}

/// Runs the recurrence of `case` on the device (the projection computed on the CPU) and returns the
/// buffers.
pub fn run_case(gpu: &Gpu, case: &LstmCase, tiles: &Tiles) -> Result<LstmBuffers, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let (t, b, u4) = (case.steps, case.batch, round4(case.units));
    let common = Common::new(gpu, &case.config(), case.models);
    common.write_states(gpu, &active_states(case.models, b));
    let gates = View {
        buf: gpu.storage_init("gates", &case.projection()),
        off: 0,
        model: t * b * 4 * case.units,
        row: 4 * case.units,
        rows: t * b,
        width: 4 * case.units,
    };
    let cell = View::tight(gpu, "cell", case.models, t * b, u4);
    let s = case.block.rows;
    let xa = View::tight(gpu, "xa", case.models, (t + 1) * b, s);
    let params = gpu.storage_init("params", &case.device_params());
    let rec = Recurrence {
        params: &params,
        param_stride: case.param_stride(),
        block: &case.block,
        gates: &gates,
        cell: &cell,
        xa: &xa,
        batch: b,
        steps: t,
    };
    let launch = rec.launch(gpu, &kernels, &common, tiles, case.models)?;
    submit(gpu, &[&launch]);
    Ok(LstmBuffers {
        params,
        gates,
        cell,
        xa,
        common,
    })
}

/// The tiles a recurrent kernel's check runs with: every variant legal on this adapter for `product` —
/// h through memory or by subgroup shuffles, U from the parameters or kept in workgroup memory — each
/// with the default block.
pub fn check_tiles(gpu: &Gpu, product: &Product) -> Vec<(Tile, Tiles)> {
    let defaults = Tiles::defaults(gpu);
    let Some(tile) = defaults.tile(product) else {
        return Vec::new();
    };
    placement_variants(product, tile, TileLimits::of(gpu))
        .into_iter()
        .map(|legal| (legal, defaults.clone().with(product, legal)))
        .collect()
}

/// The standalone check: activated gates, cells and hidden states of every step against `lstm_forward`,
/// on two random layers (one small), with every variant of the kernel this adapter allows.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let mut out = Vec::new();
    // U kept on chip needs a layer small enough for the adapter's workgroup memory.
    for case in [
        LstmCase::random(seed),
        LstmCase::random_max_units(seed ^ 1, 40),
    ] {
        for (_, tiles) in check_tiles(gpu, &case.product()) {
            out.extend(check_case(gpu, &case, &tiles)?);
        }
    }
    Ok(out)
}

fn check_case(gpu: &Gpu, case: &LstmCase, tiles: &Tiles) -> Result<Vec<CheckResult>, GpuError> {
    let bufs = run_case(gpu, case, tiles)?;
    let (t, b, u) = (case.steps, case.batch, case.units);
    let gates = gpu.read_f32(&bufs.gates.buf, 0, case.models * t * b * 4 * u)?;
    let cell = gpu.read_f32(&bufs.cell.buf, 0, case.models * bufs.cell.model)?;
    let xa = gpu.read_f32(&bufs.xa.buf, 0, case.models * bufs.xa.model)?;
    let shape = format!(
        "I={} U={u} B={b} T={t}, tile {}",
        case.input,
        tiles
            .tile(&case.product())
            .map(|t| t.to_string())
            .unwrap_or_default()
    );
    let mut out = Vec::new();
    for m in 0..case.models {
        let want = lstm_forward(
            &case.dims(),
            &case.x[m],
            &case.kernel[m],
            &case.recurrent[m],
            &case.bias[m],
        );
        let g = case.keras_gates(&bufs.gates.extract(&gates, m));
        out.push(compare(
            "lstm_forward",
            &format!("gates, {shape}, model {m}"),
            &g,
            &want.gates,
            TOL_FORWARD,
        ));
        let c = bufs.cell.cols(0, u).extract(&cell, m);
        out.push(compare(
            "lstm_forward",
            &format!("cells, {shape}, model {m}"),
            &c,
            &want.c,
            TOL_FORWARD,
        ));
        let h = bufs
            .xa
            .cols(case.block.x_rows, u)
            .rows(0, (t + 1) * b)
            .extract(&xa, m);
        out.push(compare(
            "lstm_forward",
            &format!("hidden states, {shape}, model {m}"),
            &h,
            &want.h,
            TOL_FORWARD,
        ));
    }
    Ok(out)
}
