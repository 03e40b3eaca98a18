//! Yardsticks (shaders/yardsticks.wgsl): the plain row-major product of a given shape with the engine's
//! register blocking and nothing else, and the adapter's FMA peak. The bench judges every kernel against
//! the yardstick of its own product shape measured in the same run; `gpulstm check` tests both against
//! the CPU so the numbers come from kernels that compute what they claim.

use super::bindings::bindings;
use super::compare::{compare, to_f32, tol_matmul, CheckResult, Data, Tol};
use super::context::{Gpu, GpuError};
use super::kernel::{submit, Family, Launch};
use super::shader_structs::{mirror, u32_of};
use super::shaders;
use super::tiles::{
    AdapterClass, Product, Tile, TileLimits, GPU_BLOCK_REGISTERS, MAX_COLS, MAX_ROWS,
};

mirror! {
    Mat =>
    /// Mirrors `Mat` in shaders/yardsticks.wgsl (strides in vec4s).
    pub(crate) struct MatParams {
        rows: u32,
        cols4: u32,
        depth4: u32,
        group: u32,
        a_prod: u32,
        b_model: u32,
        c_prod: u32,
        k: u32,
    }
}

bindings! {
    /// shaders/yardsticks.wgsl's bindings.
    YardstickBindings {
        p: Uniform<MatParams>,
        a: Read<[f32; 4]>,
        b: Read<[f32; 4]>,
        c: ReadWrite<[f32; 4]>,
    }
}

/// `products` products C [rows][cols] = A [rows][depth] · B [depth][cols]; every `group` consecutive
/// products share one B. `depth` and `cols` are multiples of 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatShape {
    pub products: usize,
    pub group: usize,
    pub rows: usize,
    pub depth: usize,
    pub cols: usize,
}

impl MatShape {
    /// The bench's yardstick product: one n×n by n×n (`matmul_1024_vec4` at n = 1024).
    pub fn square(n: usize) -> MatShape {
        MatShape {
            products: 1,
            group: 1,
            rows: n,
            depth: n,
            cols: n,
        }
    }

    pub fn flops(&self) -> f64 {
        2.0 * self.products as f64 * self.rows as f64 * self.depth as f64 * self.cols as f64
    }
}

fn family(gpu: &Gpu) -> Result<Family, GpuError> {
    Family::build(
        gpu,
        "yardsticks",
        shaders::module("yardsticks"),
        &super::kernels::slots("yardsticks"),
    )
}

/// A yardstick product: its buffers (filled with test data) and a launch for a given tile.
pub struct Yardstick {
    pub shape: MatShape,
    family: Family,
    bind_group: wgpu::BindGroup,
    a: Vec<f32>,
    b: Vec<f32>,
    c: wgpu::Buffer,
}

impl Yardstick {
    pub fn new(gpu: &Gpu, shape: MatShape, seed: u64) -> Result<Yardstick, GpuError> {
        let family = family(gpu)?;
        let mut data = Data(seed);
        let n_b = shape.products.div_ceil(shape.group);
        let a = to_f32(&data.vec(shape.products * shape.rows * shape.depth));
        let b = to_f32(&data.vec(n_b * shape.depth * shape.cols));
        let c = gpu.storage("yardstick c", shape.products * shape.rows * shape.cols);
        let p = MatParams {
            rows: u32_of(shape.rows),
            cols4: u32_of(shape.cols / 4),
            depth4: u32_of(shape.depth / 4),
            group: u32_of(shape.group),
            a_prod: u32_of(shape.rows * shape.depth / 4),
            b_model: u32_of(shape.depth * shape.cols / 4),
            c_prod: u32_of(shape.rows * shape.cols / 4),
            k: 0,
        };
        let bind_group = YardstickBindings {
            p: &gpu.uniform("yardstick", &p),
            a: &gpu.storage_init("yardstick a", &a),
            b: &gpu.storage_init("yardstick b", &b),
            c: &c,
        }
        .bind(gpu, &family);
        Ok(Yardstick {
            shape,
            family,
            bind_group,
            a,
            b,
            c,
        })
    }

    /// The product with `tile`'s blocking.
    pub fn launch(&self, gpu: &Gpu, tile: Tile) -> Result<Launch, GpuError> {
        let s = self.shape;
        let (span_rows, span_cols) = tile.span();
        let tiles = s.rows.div_ceil(span_rows) * (s.cols / 4).div_ceil(span_cols);
        let grid = [u32_of(tiles), u32_of(s.products), 1];
        Ok(Launch::new(
            gpu,
            &self.family,
            "matmul",
            &tile.constants(),
            self.bind_group.clone(),
            grid,
        )?
        .named(format!(
            "yardstick {}×{}×{} ({tile})",
            s.rows, s.depth, s.cols
        )))
    }

    /// Runs `launch` once and compares the first two products with the CPU.
    pub fn check(&self, gpu: &Gpu, launch: &Launch) -> Result<CheckResult, GpuError> {
        submit(gpu, &[launch]);
        let s = self.shape;
        let n = s.products.min(2);
        let got = gpu.read_f32(&self.c, 0, n * s.rows * s.cols)?;
        let mut want = vec![0.0f64; n * s.rows * s.cols];
        for p in 0..n {
            let (a, b) = (p * s.rows * s.depth, (p / s.group) * s.depth * s.cols);
            for i in 0..s.rows {
                for k in 0..s.depth {
                    let av = self.a[a + i * s.depth + k] as f64;
                    for j in 0..s.cols {
                        want[(p * s.rows + i) * s.cols + j] +=
                            av * self.b[b + k * s.cols + j] as f64;
                    }
                }
            }
        }
        Ok(compare(
            "yardsticks::matmul",
            &format!("{} ({} products)", launch.label, s.products),
            &got,
            &want,
            tol_matmul(s.depth),
        ))
    }
}

/// Tiles worth trying for a plain product of `shape` (the fastest is the yardstick): on a CPU rasteriser
/// 8-lane workgroups (its SIMD width) with big blocks; on GPUs 32- and 64-lane workgroups (a warp, an
/// Apple/Intel SIMD group, an AMD wave64, and twice those) with blocks that stay in registers.
pub fn candidate_tiles(shape: &MatShape, class: AdapterClass, limits: TileLimits) -> Vec<Tile> {
    let cols4 = shape.cols / 4;
    let (shapes, row_choices, col_choices): (&[(u32, u32)], &[u32], &[u32]) = match class {
        AdapterClass::Cpu => (&[(8, 1)], &[4, 8, 10, 12, 16], &[2, 4, 7, 8]),
        _ => (&[(32, 1), (8, 4), (64, 1), (16, 4)], &[2, 4, 8], &[1, 2, 4]),
    };
    let mut out = Vec::new();
    for &(wgx, wgy) in shapes {
        for &rows in row_choices {
            for &cols in col_choices {
                let rows = rows.min(shape.rows as u32).min(MAX_ROWS);
                let cols = cols
                    .min(cols4.div_ceil(wgx as usize) as u32)
                    .clamp(1, MAX_COLS);
                let t = Tile {
                    rows,
                    cols,
                    wgx,
                    wgy,
                    shared: false,
                    subgroup: false,
                    step_tile: false,
                };
                let product = Product::Project {
                    rows: shape.rows,
                    depth4: shape.depth / 4,
                    cols4,
                };
                let legal = t.wgx <= limits.size_x
                    && t.wgy <= limits.size_y
                    && t.wgx * t.wgy <= limits.invocations;
                let in_registers = class == AdapterClass::Cpu
                    || product.block_registers(&t) <= GPU_BLOCK_REGISTERS;
                if legal && in_registers && !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// The FMA-only kernel: `groups` 8×8 workgroups, each invocation 128 FMAs per step of a `k`-step loop.
pub struct FmaPeak {
    pub launch: Launch,
    pub flops: f64,
    c: wgpu::Buffer,
    xa: Vec<f32>,
    yb: Vec<f32>,
    k: usize,
    groups: usize,
}

impl FmaPeak {
    pub fn new(gpu: &Gpu, groups: usize, k: usize, seed: u64) -> Result<FmaPeak, GpuError> {
        let f = family(gpu)?;
        let mut data = Data(seed);
        let xa = to_f32(&data.vec(8));
        let yb = to_f32(&data.vec(8));
        // The kernel reads the x component of vec4s a[lid.x] and b[lid.y].
        let as_vec4 =
            |v: &[f32]| -> Vec<f32> { v.iter().flat_map(|&x| [x, 0.0, 0.0, 0.0]).collect() };
        // One vec4 per invocation, the result in x (shaders/yardsticks.wgsl `fma_peak`).
        let c = gpu.storage("fma c", groups * 64 * 4);
        let p = MatParams {
            k: u32_of(k),
            ..Default::default()
        };
        let bg = YardstickBindings {
            p: &gpu.uniform("fma", &p),
            a: &gpu.storage_init("fma a", &as_vec4(&xa)),
            b: &gpu.storage_init("fma b", &as_vec4(&yb)),
            c: &c,
        }
        .bind(gpu, &f);
        let launch = Launch::new(gpu, &f, "fma_peak", &[], bg, [u32_of(groups), 1, 1])?;
        Ok(FmaPeak {
            launch,
            flops: 2.0 * 128.0 * 64.0 * (groups * k) as f64,
            c,
            xa,
            yb,
            k,
            groups,
        })
    }

    /// Runs once and compares with the closed form: invocation (x, y) holds a_r = a[x] + r (r < 8) and
    /// b_g = (b[y], b[y]/2, b[y]/4, b[y]/8) + g (g < 4), adds a_r·b_g to each of its 32 vec4 accumulators
    /// k times and writes the sum of all components.
    pub fn check(&self, gpu: &Gpu) -> Result<CheckResult, GpuError> {
        submit(gpu, &[&self.launch]);
        let got: Vec<f32> = gpu
            .read_f32(&self.c, 0, self.groups * 64 * 4)?
            .into_iter()
            .step_by(4)
            .collect();
        let mut want = Vec::new();
        let mut magnitude = 0.0f64;
        for _group in 0..self.groups {
            for &y in &self.yb {
                for &x in &self.xa {
                    let (mut sum, mut abs) = (0.0f64, 0.0f64);
                    for r in 0..8 {
                        let ar = (x + r as f32) as f64;
                        for g in 0..4 {
                            for e in 0..4 {
                                let be = (y / (1 << e) as f32 + g as f32) as f64;
                                sum += self.k as f64 * ar * be;
                                abs += self.k as f64 * (ar * be).abs();
                            }
                        }
                    }
                    want.push(sum);
                    magnitude = magnitude.max(abs);
                }
            }
        }
        // Each accumulator is a chain of k f32 FMAs (rounding ≤ k·u of its magnitude) and the result a sum
        // of 128 of them (≤ 128·u more), u = 2⁻²⁴; twice that bound. An indexing mistake moves the result
        // by whole terms k·a_r·b_g, of order 1/128 of the magnitude, far above it for the k used here.
        let u = f32::EPSILON as f64 / 2.0;
        Ok(compare(
            "yardsticks::fma_peak",
            &format!("closed form, {} groups, k={}", self.groups, self.k),
            &got,
            &want,
            Tol {
                abs: 2.0 * (self.k + 128) as f64 * u * magnitude,
                rel: 0.0,
            },
        ))
    }
}

/// Every tile the check draws from: any block up to the largest, on 8 × 1 or 8 × 2 workgroups.
pub fn check_tiles() -> Vec<Tile> {
    let mut out = Vec::new();
    for rows in 1..=MAX_ROWS {
        for cols in 1..=MAX_COLS {
            for wgy in 1..=2 {
                out.push(Tile {
                    rows,
                    cols,
                    wgx: 8,
                    wgy,
                    shared: false,
                    subgroup: false,
                    step_tile: false,
                });
            }
        }
    }
    out
}

/// `gpulstm check`'s part: a random plain product with a random tile, and the FMA peak's closed form.
pub fn check(gpu: &Gpu, seed: u64) -> Result<Vec<CheckResult>, GpuError> {
    let mut d = Data(seed ^ 0x6a09_e667_f3bc_c908);
    let shape = MatShape {
        products: 1 + d.below(5),
        group: 1 + d.below(3),
        rows: 1 + d.below(100),
        depth: 4 * (1 + d.below(40)),
        cols: 4 * (1 + d.below(60)),
    };
    let tiles = check_tiles();
    let tile = tiles[d.below(tiles.len())];
    let y = Yardstick::new(gpu, shape, seed)?;
    Ok(vec![
        y.check(gpu, &y.launch(gpu, tile)?)?,
        FmaPeak::new(gpu, 2, 1 + d.below(60), seed)?.check(gpu)?,
    ])
}
