//! shaders/gemm.wgsl: the engine's batched products. `project` is a dense layer's forward pass (and, with
//! the transposed block as B, its input gradient); `weight_grad` is its weight and bias gradients at once,
//! from the input rows `[x | 1]` (an LSTM's `[x | h_prev | 1]`); `transpose` keeps the transposed copy of
//! a parameter block that `project` and the BPTT read.

use super::{active_states, twin, Common, Kernels, View};
use crate::gpu::bindings::bindings;
use crate::gpu::compare::{compare, tol_matmul, CheckResult, Data, TOL_EXACT};
use crate::gpu::context::{Gpu, GpuError};
use crate::gpu::kernel::{grid_1d, submit, Cost, Launch};
use crate::gpu::shader_structs::{mirror, u32_of, ModelStateGpu, RunUniform};
use crate::gpu::tiles::{Product, Tiles};
use crate::reference;
use crate::reference::dense::{dense_backward, dense_forward};

/// The CPU functions these kernels reproduce.
pub const CPU_TWIN: &str = twin!(reference::dense::{dense_forward, dense_backward});

bindings! {
    /// shaders/gemm.wgsl's bindings.
    GemmBindings {
        p: Uniform<GemmParams>,
        states: Read<ModelStateGpu>,
        a: Read<[f32; 4]>,
        b: Read<[f32; 4]>,
        c: ReadWrite<[f32; 4]>,
    }
}

mirror! {
    Gemm =>
    /// Mirrors `Gemm` in shaders/gemm.wgsl (offsets and strides in vec4s).
    pub struct GemmParams {
        pub rows: u32,
        pub cols4: u32,
        pub depth: u32,
        pub flags: u32,
        pub a_off: u32,
        pub a_model: u32,
        pub a_row: u32,
        pub bias_off: u32,
        pub b_off: u32,
        pub b_model: u32,
        pub b_row: u32,
        pub bias_model: u32,
        pub c_off: u32,
        pub c_model: u32,
        pub c_row: u32,
        pub pad0: u32,
    }
}

const ADD_BIAS: u32 = 1;

/// A view's offset, model stride and row stride in vec4s. Every view a product reads or writes is
/// vec4-aligned by construction of the device layout; a misaligned one is a bug in the caller.
fn vec4s(v: &View) -> (u32, u32, u32) {
    assert!(
        [v.off, v.model, v.row, v.width]
            .iter()
            .all(|x| x.is_multiple_of(4)),
        "gemm operand not vec4-aligned: {v:?}"
    );
    (u32_of(v.off / 4), u32_of(v.model / 4), u32_of(v.row / 4))
}

/// The parameter block of a product over `a`, `b` and `c` (offsets and strides; the caller sets the
/// sizes and flags).
fn operand_params(a: &View, b: &View, c: &View) -> GemmParams {
    let (a_off, a_model, a_row) = vec4s(a);
    let (b_off, b_model, b_row) = vec4s(b);
    let (c_off, c_model, c_row) = vec4s(c);
    GemmParams {
        cols4: u32_of(c.width / 4),
        a_off,
        a_model,
        a_row,
        b_off,
        b_model,
        b_row,
        c_off,
        c_model,
        c_row,
        ..Default::default()
    }
}

/// The launch of `product` (gemm's `project` or `weight_grad`, by [`Product::pipeline`]) with parameters
/// `p` over its three operands, on the tile `tiles` gives it; its cost counts each operand once.
#[allow(clippy::too_many_arguments)]
fn product_launch(
    gpu: &Gpu,
    (kernels, states): (&Kernels, &wgpu::Buffer),
    p: GemmParams,
    (a, b, c): (&View, &View, &View),
    product: Product,
    tiles: &Tiles,
    models: usize,
) -> Result<Launch, GpuError> {
    let tile = tiles.tile(&product).ok_or_else(|| no_tile(&product))?;
    let pipeline = product.pipeline(&tile, false);
    let bg = GemmBindings {
        p: &gpu.uniform(pipeline.entry, &p),
        states,
        a: &a.buf,
        b: &b.buf,
        c: &c.buf,
    }
    .bind(gpu, &kernels.gemm);
    let grid = [u32_of(product.workgroups(&tile)), u32_of(models), 1];
    // The grid's x is the tile count, bounded by the limits the device was opened with.
    let max = gpu.limits.max_compute_workgroups_per_dimension;
    if grid[0] > max || grid[1] > max {
        return Err(GpuError::TooLarge(format!(
            "the product {} takes {} × {} workgroups with {tile}; this device allows {max} per \
             dimension; use a smaller --batch-size or --lookback",
            product.key(),
            grid[0],
            grid[1]
        )));
    }
    let floats = a.rows * a.width + b.rows * b.width + c.rows * c.width;
    Ok(Launch::new(
        gpu,
        &kernels.gemm,
        pipeline.entry,
        &pipeline.constants,
        bg,
        grid,
    )?
    .costing(Cost::product(product, models, floats)))
}

fn no_tile(product: &Product) -> GpuError {
    GpuError::TooLarge(format!(
        "no workgroup this adapter allows fits the product {}",
        product.key()
    ))
}

/// C = A·B (+ the bias row): `a` [rows][4·depth4] (its x section), `b` [4·depth4][cols] (the first rows
/// of a parameter block, or of its transpose), `c` [rows][cols].
pub struct Project<'a> {
    pub a: &'a View,
    pub b: &'a View,
    /// One row with `b`'s model stride: the block's bias row.
    pub bias: Option<&'a View>,
    pub c: &'a View,
}

impl Project<'_> {
    pub fn product(&self) -> Product {
        Product::Project {
            rows: self.a.rows,
            depth4: self.a.width / 4,
            cols4: self.c.width / 4,
        }
    }

    pub fn launch(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        states: &wgpu::Buffer,
        tiles: &Tiles,
        models: usize,
    ) -> Result<Launch, GpuError> {
        let mut p = operand_params(self.a, self.b, self.c);
        p.rows = u32_of(self.a.rows);
        p.depth = u32_of(self.a.width / 4);
        if let Some(bias) = self.bias {
            let (off, model, _) = vec4s(bias);
            (p.flags, p.bias_off, p.bias_model) = (ADD_BIAS, off, model);
        }
        let operands = (self.a, self.b, self.c);
        let product = self.product();
        product_launch(gpu, (kernels, states), p, operands, product, tiles, models)
    }
}

/// C = Aᵀ·D: `a` [depth][rows] (a layer's input rows, all columns), `d` [depth][cols] (the gradients of
/// its outputs), `c` [rows][cols] (the gradient of its parameter block).
pub struct WeightGrad<'a> {
    pub a: &'a View,
    pub d: &'a View,
    pub c: &'a View,
}

impl WeightGrad<'_> {
    pub fn product(&self) -> Product {
        Product::WeightGrad {
            rows: self.a.width,
            depth: self.a.rows,
            cols4: self.c.width / 4,
        }
    }

    pub fn launch(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        states: &wgpu::Buffer,
        tiles: &Tiles,
        models: usize,
    ) -> Result<Launch, GpuError> {
        let mut p = operand_params(self.a, self.d, self.c);
        p.rows = u32_of(self.a.width);
        p.depth = u32_of(self.a.rows);
        let operands = (self.a, self.d, self.c);
        let product = self.product();
        product_launch(gpu, (kernels, states), p, operands, product, tiles, models)
    }
}

/// `dst` [cols][rows] = transpose of `src` [rows][cols] (a whole parameter block).
pub struct Transpose<'a> {
    pub src: &'a View,
    pub dst: &'a View,
}

impl Transpose<'_> {
    pub fn launch(
        &self,
        gpu: &Gpu,
        kernels: &Kernels,
        states: &wgpu::Buffer,
        models: usize,
    ) -> Result<Launch, GpuError> {
        let (a_off, a_model, _) = vec4s(self.src);
        let (c_off, c_model, _) = vec4s(self.dst);
        let p = GemmParams {
            rows: u32_of(self.src.rows),
            cols4: u32_of(self.src.width / 4),
            a_off,
            a_model,
            c_off,
            c_model,
            ..Default::default()
        };
        // The transpose reads only `a`; `b` is bound to the same buffer to fill the slot.
        let bg = GemmBindings {
            p: &gpu.uniform("transpose", &p),
            states,
            a: &self.src.buf,
            b: &self.src.buf,
            c: &self.dst.buf,
        }
        .bind(gpu, &kernels.gemm);
        // One invocation per vec4 of the transposed block (shaders/gemm.wgsl `transpose`).
        let vec4s = (self.src.rows * self.src.width / 4) as u64;
        let mut grid = grid_1d(vec4s, 64, u32::MAX);
        grid[1] = u32_of(models);
        Ok(Launch::new(gpu, &kernels.gemm, "transpose", &[], bg, grid)?
            .costing(Cost::moves(2 * models * self.src.rows * self.src.width)))
    }
}

/// A random `[M][rows][width]` tensor stored inside wider rows at an offset, as the engine's operands
/// are (sections of `[x | h | 1]` rows, blocks inside a model's parameters): returns the view and the
/// tight values per model.
fn section(
    gpu: &Gpu,
    data: &mut Data,
    models: usize,
    rows: usize,
    width: usize,
) -> (View, Vec<Vec<f64>>) {
    let (pad_row, off) = (4 * (1 + data.below(2)), 4 * data.below(3));
    let row = round4(width) + pad_row;
    let model = rows * row + 4 * data.below(3);
    let mut all = vec![0.0f32; off + models * model];
    let mut tight = Vec::new();
    for m in 0..models {
        let values = data.vec(rows * width);
        for n in 0..rows {
            for j in 0..width {
                all[off + m * model + n * row + j] = values[n * width + j] as f32;
            }
        }
        tight.push(values);
    }
    let view = View {
        buf: gpu.storage_init("check operand", &all),
        off,
        model,
        row,
        rows,
        width,
    };
    (view, tight)
}

fn round4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// The standalone check: on shapes drawn from `seed` (3 models, widths not multiples of the tiles, padded
/// strides), `project` with a bias against `dense_forward`, `weight_grad` over `[x | 1]` against
/// `dense_backward`'s dW and db, `project` with a transposed block against its dx, and `transpose` exactly.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let kernels = Kernels::build(gpu)?;
    let tiles = Tiles::defaults(gpu);
    let mut data = Data(seed ^ 0x9e37_79b9_7f4a_7c15);
    let models = 3;
    let (rows, input, units) = (1 + data.below(700), 1 + data.below(60), 1 + data.below(220));
    let (i4, o4) = (round4(input), round4(units));
    let common = Common::new(gpu, &RunUniform::default(), models);
    common.write_states(gpu, &active_states(models, 1));
    // x [rows][I4] (zero padding past `input`), the block [I4 + 4][O4] (W, zero rows, bias row, zero
    // rows), dy [rows][O4] (zero past `units`).
    let (x_view, x) = section(gpu, &mut data, models, rows, input);
    let x_view = View {
        width: i4,
        ..x_view
    };
    let mut block = vec![0.0f32; models * (i4 + 4) * o4];
    let (mut w, mut bias) = (Vec::new(), Vec::new());
    for m in 0..models {
        let (wm, bm) = (data.vec(input * units), data.vec(units));
        for i in 0..input {
            for o in 0..units {
                block[m * (i4 + 4) * o4 + i * o4 + o] = wm[i * units + o] as f32;
            }
        }
        for o in 0..units {
            block[m * (i4 + 4) * o4 + i4 * o4 + o] = bm[o] as f32;
        }
        w.push(wm);
        bias.push(bm);
    }
    let block_view = View {
        buf: gpu.storage_init("block", &block),
        off: 0,
        model: (i4 + 4) * o4,
        row: o4,
        rows: i4 + 4,
        width: o4,
    };
    let y = View::tight(gpu, "y", models, rows, o4);
    let project = Project {
        a: &x_view,
        b: &block_view.rows(0, i4),
        bias: Some(&block_view.rows(i4, 1)),
        c: &y,
    };
    let launch = project.launch(gpu, &kernels, &common.states, &tiles, models)?;
    submit(gpu, &[&launch]);
    let got = gpu.read_f32(&y.buf, 0, models * rows * o4)?;
    let mut out = Vec::new();
    let shape = format!("rows={rows} in={input} out={units}, {models} models");
    for m in 0..models {
        let want = dense_forward(rows, input, units, &x[m], &w[m], &bias[m]);
        let got_m: Vec<f32> = (0..rows)
            .flat_map(|n| got[m * rows * o4 + n * o4..][..units].to_vec())
            .collect();
        out.push(compare(
            "gemm::project",
            &format!("x·W + b, {shape}, model {m}"),
            &got_m,
            &want,
            tol_matmul(input),
        ));
    }

    // Weight gradient over [x | 1]: the input rows need the constant column, as the engine's do.
    let xa_width = i4 + 4;
    let mut xa = vec![0.0f32; models * rows * xa_width];
    for m in 0..models {
        for n in 0..rows {
            for i in 0..input {
                xa[(m * rows + n) * xa_width + i] = x[m][n * input + i] as f32;
            }
            xa[(m * rows + n) * xa_width + i4] = 1.0;
        }
    }
    let xa_view = View {
        buf: gpu.storage_init("xa", &xa),
        off: 0,
        model: rows * xa_width,
        row: xa_width,
        rows,
        width: xa_width,
    };
    let (dy_view, dy) = section(gpu, &mut data, models, rows, units);
    let dy_view = View {
        width: o4,
        ..dy_view
    };
    let grad = View::tight(gpu, "grad", models, xa_width, o4);
    let wg = WeightGrad {
        a: &xa_view,
        d: &dy_view,
        c: &grad,
    };
    let transposed = View::tight(gpu, "block t", models, o4, i4 + 4);
    let tr = Transpose {
        src: &block_view,
        dst: &transposed,
    };
    let dx = View::tight(gpu, "dx", models, rows, i4);
    let input_grad = Project {
        a: &dy_view,
        b: &transposed.cols(0, i4).rows(0, o4),
        bias: None,
        c: &dx,
    };
    let launches = [
        wg.launch(gpu, &kernels, &common.states, &tiles, models)?,
        tr.launch(gpu, &kernels, &common.states, models)?,
        input_grad.launch(gpu, &kernels, &common.states, &tiles, models)?,
    ];
    submit(gpu, &launches.iter().collect::<Vec<_>>());
    let got_grad = gpu.read_f32(&grad.buf, 0, models * xa_width * o4)?;
    let got_t = gpu.read_f32(&transposed.buf, 0, models * o4 * (i4 + 4))?;
    let got_dx = gpu.read_f32(&dx.buf, 0, models * rows * i4)?;
    for m in 0..models {
        let want = dense_backward(rows, input, units, &x[m], &w[m], &dy[m]);
        let pick = |r: usize| got_grad[m * xa_width * o4 + r * o4..][..units].to_vec();
        let dw: Vec<f32> = (0..input).flat_map(pick).collect();
        out.push(compare(
            "gemm::weight_grad",
            &format!("xᵀ·dy, {shape}, model {m}"),
            &dw,
            &want.dkernel,
            tol_matmul(rows),
        ));
        out.push(compare(
            "gemm::weight_grad",
            &format!("1ᵀ·dy (bias row), {shape}, model {m}"),
            &pick(i4),
            &want.dbias,
            tol_matmul(rows),
        ));
        let dx_m: Vec<f32> = (0..rows)
            .flat_map(|n| got_dx[m * rows * i4 + n * i4..][..input].to_vec())
            .collect();
        out.push(compare(
            "gemm::project",
            &format!("dy·Wᵀ (transposed block), {shape}, model {m}"),
            &dx_m,
            &want.dx,
            tol_matmul(units),
        ));
        let block_m = &block[m * (i4 + 4) * o4..(m + 1) * (i4 + 4) * o4];
        let want_t: Vec<f64> = (0..o4 * (i4 + 4))
            .map(|e| block_m[(e % (i4 + 4)) * o4 + e / (i4 + 4)] as f64)
            .collect();
        out.push(compare(
            "gemm::transpose",
            &format!("block [{}][{o4}], model {m}", i4 + 4),
            &got_t[m * o4 * (i4 + 4)..(m + 1) * o4 * (i4 + 4)],
            &want_t,
            TOL_EXACT,
        ));
    }
    Ok(out)
}
