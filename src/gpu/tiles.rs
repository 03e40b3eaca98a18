//! Block shapes of the product kernels, chosen per adapter and product: a built-in table of defaults per
//! adapter class, the winners of `gpulstm tune` cached per adapter, driver and product shape in the user's
//! cache directory, and the rules every shape must obey (the adapter's workgroup limits; the recurrent
//! kernels' workgroup covering a whole batch and layer).
//!
//! A [`Tile`] reaches the kernels as the pipeline constants RB, CB, WGX, WGY of shaders/blocks.wgsl.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::context::Gpu;
use super::device_layout::round4;

/// Pipeline-constant values (WGSL `override`s) a pipeline is specialised with, by name.
pub type Constants = Vec<(&'static str, f64)>;

/// Most rows per invocation the kernels write out (blocks.wgsl); `weight_grad` takes rows in quads up to
/// twice that.
pub const MAX_ROWS: u32 = 16;
pub const MAX_ROWS_WEIGHT_GRAD: u32 = 32;
/// Most vec4 columns per invocation (blocks.wgsl `MAX_CB`).
pub const MAX_COLS: u32 = 8;

/// Per invocation `rows` × `cols` vec4s; workgroups of `wgx` × `wgy` invocations; for the recurrent
/// kernels, whether the recurrent kernel U (Uᵀ) stays in workgroup memory for the whole time loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tile {
    pub rows: u32,
    pub cols: u32,
    pub wgx: u32,
    pub wgy: u32,
    #[serde(default)]
    pub shared: bool,
    /// For the recurrent kernels, whether the workgroup is one subgroup that hands h (dz) between its
    /// lanes by shuffles instead of through memory and a barrier.
    #[serde(default)]
    pub subgroup: bool,
    /// For the recurrent kernels' memory variant, whether one step's h (forward; two copies) or dz (BPTT)
    /// of the whole batch stays in workgroup memory, so workgroup barriers order the time loop instead of
    /// device-scope storage barriers. Tiles cached before this field existed read `false`.
    #[serde(default)]
    pub step_tile: bool,
}

impl Tile {
    pub fn constants(&self) -> Constants {
        vec![
            ("RB", self.rows as f64),
            ("CB", self.cols as f64),
            ("WGX", self.wgx as f64),
            ("WGY", self.wgy as f64),
        ]
    }

    /// Rows and vec4 columns one workgroup covers.
    pub fn span(&self) -> (usize, usize) {
        (
            (self.rows * self.wgy) as usize,
            (self.cols * self.wgx) as usize,
        )
    }
}

impl std::fmt::Display for Tile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}×{} vec4 per invocation, workgroup {}×{}{}",
            self.rows,
            self.cols,
            self.wgx,
            self.wgy,
            if self.shared {
                ", U in workgroup memory"
            } else {
                ""
            }
        )?;
        if self.subgroup {
            write!(f, ", subgroup shuffles")?;
        }
        if self.step_tile {
            write!(f, ", the step's h/dz in workgroup memory")?;
        }
        Ok(())
    }
}

/// The product a kernel launch computes, per model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    /// gemm `project`: C [rows][cols4] = A [rows][4·depth4] · B (input projections, dense layers, the
    /// gradients for the layer below).
    Project {
        rows: usize,
        depth4: usize,
        cols4: usize,
    },
    /// gemm `weight_grad`: C [rows][cols4] = Aᵀ · D over `depth` rows of A and D.
    WeightGrad {
        rows: usize,
        depth: usize,
        cols4: usize,
    },
    /// lstm_forward: `steps` products [batch][U4] · [U4][4U] with the cell update between them.
    Recurrence {
        batch: usize,
        units: usize,
        steps: usize,
    },
    /// lstm_backward: `steps` products [batch][4U] · [4U][U4] with the gate gradients between them.
    Bptt {
        batch: usize,
        units: usize,
        steps: usize,
    },
}

impl Product {
    /// A stable text key for the tile cache (the look-back does not change the best tile of the
    /// recurrent kernels, so it is left out of their keys).
    pub fn key(&self) -> String {
        match *self {
            Product::Project {
                rows,
                depth4,
                cols4,
            } => format!("project {rows}x{}x{}", 4 * depth4, 4 * cols4),
            Product::WeightGrad { rows, depth, cols4 } => {
                format!("weight_grad {rows}x{depth}x{}", 4 * cols4)
            }
            Product::Recurrence { batch, units, .. } => format!("recurrence b{batch} u{units}"),
            Product::Bptt { batch, units, .. } => format!("bptt b{batch} u{units}"),
        }
    }

    /// Multiply-adds × 2 per model.
    pub fn flops(&self) -> f64 {
        let f = |a: usize, b: usize, c: usize| 2.0 * a as f64 * b as f64 * c as f64;
        match *self {
            Product::Project {
                rows,
                depth4,
                cols4,
            } => f(rows, 4 * depth4, 4 * cols4),
            Product::WeightGrad { rows, depth, cols4 } => f(rows, depth, 4 * cols4),
            Product::Recurrence {
                batch,
                units,
                steps,
            }
            | Product::Bptt {
                batch,
                units,
                steps,
            } => steps as f64 * f(batch, units, 4 * units),
        }
    }

    /// Bytes of workgroup memory the recurrent kernel (U or Uᵀ) takes when kept on chip; `None` for the
    /// other products.
    pub fn shared_bytes(&self) -> Option<u64> {
        match *self {
            // U4 rows of U vec4s (forward) or 4U rows of U4/4 vec4s (BPTT): U4·U vec4s either way.
            Product::Recurrence { units, .. } | Product::Bptt { units, .. } => {
                Some(16 * (round4(units) * units) as u64)
            }
            _ => None,
        }
    }

    /// Bytes of workgroup memory one step's state of the batch takes when kept on chip: two copies of h,
    /// [2][B][U4] floats (forward), or dz, [B][U] vec4s (BPTT); `None` for the other products.
    pub fn step_bytes(&self) -> Option<u64> {
        match *self {
            Product::Recurrence { batch, units, .. } => {
                Some(4 * 2 * (batch * round4(units)) as u64)
            }
            Product::Bptt { batch, units, .. } => Some(16 * (batch * units) as u64),
            _ => None,
        }
    }

    /// Workgroup memory `tile` declares for this product: U (Uᵀ) and the step's state where on chip.
    pub fn tile_bytes(&self, tile: &Tile) -> u64 {
        let part = |on: bool, bytes: Option<u64>| if on { bytes.unwrap_or(0) } else { 0 };
        part(tile.shared, self.shared_bytes()) + part(tile.step_tile, self.step_bytes())
    }

    /// Rows and vec4 columns a workgroup must cover whole (the recurrent kernels keep their state in
    /// registers across steps); `None` where the grid tiles the product freely.
    fn whole(&self) -> Option<(usize, usize)> {
        match *self {
            Product::Recurrence { batch, units, .. } => Some((batch, units)),
            Product::Bptt { batch, units, .. } => Some((batch, round4(units) / 4)),
            _ => None,
        }
    }

    fn max_rows(&self) -> u32 {
        match self {
            Product::WeightGrad { .. } => MAX_ROWS_WEIGHT_GRAD,
            _ => MAX_ROWS,
        }
    }

    /// Workgroups per model that compute this product with `tile`: one for the recurrent kernels (a
    /// workgroup covers the batch and layer), else row tiles × column tiles of C.
    pub fn workgroups(&self, tile: &Tile) -> usize {
        if self.whole().is_some() {
            return 1;
        }
        let (rows, cols4) = self.extent();
        let (span_rows, span_cols) = tile.span();
        rows.div_ceil(span_rows.max(1)) * cols4.div_ceil(span_cols.max(1))
    }

    /// Rows and vec4 columns of C.
    fn extent(&self) -> (usize, usize) {
        match *self {
            Product::Project { rows, cols4, .. } | Product::WeightGrad { rows, cols4, .. } => {
                (rows, cols4)
            }
            Product::Recurrence { batch, units, .. } => (batch, units),
            Product::Bptt { batch, units, .. } => (batch, round4(units) / 4),
        }
    }
}

/// The pipeline a product is computed by with a given tile: what `Launch::new` is given, and what
/// tests/shader_translation.rs translates for every variant.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    /// The module, by its name in [`shaders::modules`](super::shaders::modules).
    pub module: &'static str,
    pub entry: &'static str,
    pub constants: Constants,
}

impl Product {
    /// The module, entry point and pipeline constants computing this product with `tile`. `subgroups`:
    /// the device has subgroup operations, so the recurrent families are compiled with their subgroup
    /// entry points (`Kernels::build`).
    pub fn pipeline(&self, tile: &Tile, subgroups: bool) -> Pipeline {
        let recurrent =
            |plain: &'static str, with_subgroups: &'static str, product: &Product| Pipeline {
                module: if subgroups { with_subgroups } else { plain },
                entry: if tile.subgroup {
                    "main_subgroup"
                } else {
                    "main"
                },
                constants: recurrent_constants(tile, product),
            };
        match *self {
            Product::Project { .. } => Pipeline {
                module: "gemm",
                entry: "project",
                constants: tile.constants(),
            },
            Product::WeightGrad { .. } => Pipeline {
                module: "gemm",
                entry: "weight_grad",
                constants: tile.constants(),
            },
            Product::Recurrence { .. } => recurrent("lstm_forward", "lstm_forward+subgroup", self),
            Product::Bptt { .. } => recurrent("lstm_backward", "lstm_backward+subgroup", self),
        }
    }
}

/// The recurrent kernels' constants: the block constants plus where U lives, U_SHARED and U_VEC4S (the
/// vec4s of U, U4·U, that the workgroup keeps on chip; 1 when it does not), and where the step's state
/// lives, STEP_TILE and its length (forward STEP_FLOATS = 2·B·U4, BPTT STEP_VEC4S = B·U; 1 when off).
pub fn recurrent_constants(tile: &Tile, product: &Product) -> Constants {
    let mut c = tile.constants();
    let (batch, units, step_len) = match *product {
        Product::Recurrence { batch, units, .. } => {
            (batch, units, ("STEP_FLOATS", 2 * round4(units)))
        }
        Product::Bptt { batch, units, .. } => (batch, units, ("STEP_VEC4S", units)),
        _ => (0, 0, ("STEP_FLOATS", 0)),
    };
    let on_chip = |on: bool, len: usize| if on { len.max(1) } else { 1 } as f64;
    c.push(("U_SHARED", f64::from(u8::from(tile.shared))));
    c.push(("U_VEC4S", on_chip(tile.shared, round4(units) * units)));
    c.push(("STEP_TILE", f64::from(u8::from(tile.step_tile))));
    c.push((step_len.0, on_chip(tile.step_tile, batch * step_len.1)));
    c
}

/// What the defaults table is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterClass {
    /// A CPU rasteriser (lavapipe, SwiftShader, WARP): 8-wide SIMD per workgroup; every loaded element
    /// costs many FMAs, so big register blocks and 8-lane workgroups (measured on lavapipe).
    Cpu,
    /// Discrete GPUs: wide workgroups, small blocks per invocation (on paper: no such GPU was available).
    Discrete,
    /// Integrated and other GPUs: in between (on paper).
    Integrated,
}

impl AdapterClass {
    pub fn of(gpu: &Gpu) -> AdapterClass {
        match gpu.summary.device_type.as_str() {
            "Cpu" => AdapterClass::Cpu,
            "DiscreteGpu" => AdapterClass::Discrete,
            _ => AdapterClass::Integrated,
        }
    }
}

/// The workgroup limits a tile must respect.
#[derive(Clone, Copy, Debug)]
pub struct TileLimits {
    pub invocations: u32,
    pub size_x: u32,
    pub size_y: u32,
    /// Workgroup memory, bytes.
    pub workgroup_bytes: u32,
    /// The subgroup size where the device has subgroup operations and a fixed size.
    pub subgroup_size: Option<u32>,
}

impl TileLimits {
    pub fn of(gpu: &Gpu) -> TileLimits {
        let limits = &gpu.limits;
        TileLimits {
            invocations: limits.max_compute_invocations_per_workgroup,
            size_x: limits.max_compute_workgroup_size_x,
            size_y: limits.max_compute_workgroup_size_y,
            workgroup_bytes: limits.max_compute_workgroup_storage_size,
            subgroup_size: gpu.subgroup_size,
        }
    }
}

/// The built-in default for `product` on an adapter of `class` (before [`fit`]).
pub fn default_tile(class: AdapterClass, product: &Product) -> Tile {
    let (rows, cols4) = product.extent();
    let div = |a: usize, b: usize| a.div_ceil(b.max(1)) as u32;
    match (class, product) {
        (AdapterClass::Cpu, Product::WeightGrad { .. }) => {
            // Fewest row tiles of at most 32 rows, then rows split evenly among them.
            let tiles = rows.div_ceil(32).max(1);
            Tile {
                rows: round4(rows.div_ceil(tiles)) as u32,
                cols: div(cols4, 8).min(MAX_COLS),
                wgx: 8,
                wgy: 1,
                shared: false,
                subgroup: false,
                step_tile: false,
            }
        }
        (AdapterClass::Cpu, Product::Project { .. }) => Tile {
            rows: 16,
            cols: div(cols4, 8).min(MAX_COLS),
            wgx: 8,
            wgy: 1,
            shared: false,
            subgroup: false,
            step_tile: false,
        },
        (AdapterClass::Cpu, _) => {
            let cols = div(cols4, 8).min(MAX_COLS);
            // Workgroup memory is no faster than storage on a CPU rasteriser; a barrier is slow and subgroup
            // shuffles are fast there (both measured on lavapipe): the subgroup variant wherever legal.
            Tile {
                rows: (rows as u32).clamp(1, MAX_ROWS),
                cols,
                wgx: div(cols4, cols as usize),
                wgy: 1,
                shared: false,
                subgroup: true,
                step_tile: false,
            }
        }
        // GPUs: 4×2 vec4 blocks (32 floats of C, 8 loads of A and B per 4 steps of the contraction: well
        // under 255 registers with the loads in flight); 64-lane workgroups on discrete GPUs (two NVIDIA
        // warps, one AMD wave64) and 32 on integrated ones (one Apple/Intel SIMD group each).
        (_, Product::Project { .. }) | (_, Product::WeightGrad { .. }) => Tile {
            rows: 4,
            cols: 2,
            wgx: if class == AdapterClass::Discrete {
                16
            } else {
                8
            },
            wgy: 4,
            shared: false,
            subgroup: false,
            step_tile: false,
        },
        (_, Product::Recurrence { .. }) => {
            // One unit per lane along x (U = 50: 50 lanes), four rows per invocation along y (B = 10: 3
            // row groups, 150 threads, 5 warps of 32 or 3 waves of 64, 78 % of lanes busy). U on chip for
            // the whole time loop, and both copies of h beside it (41.6 + 4.2 KB for U = 50, B = 10: inside
            // the 48 KB NVIDIA's Vulkan driver allows), so each step ends in one workgroup barrier.
            // [`fit`] turns either off where the device has less workgroup memory.
            let wgx = (cols4 as u32).max(1);
            let wgy = div(rows, 4).min((super::shaders::FIXED_WORKGROUP_INVOCATIONS / wgx).max(1));
            Tile {
                rows: div(rows, wgy as usize),
                cols: 1,
                wgx,
                wgy,
                shared: true,
                subgroup: false,
                step_tile: true,
            }
        }
        (_, _) => {
            // BPTT: one quad of units per lane along x (U = 50: 13 lanes) and ONE row per invocation along
            // y (B = 10: 130 threads; four rows each left 39 threads, two warps with 61 % of lanes busy and
            // a quarter of the latency hiding). Uᵀ on chip first (41.6 KB for U = 50; it is read by every
            // row group at every step), dz of the step beside it where that fits too (8 KB more: on
            // devices with 64 KB or more, e.g. AMD and Intel; not in NVIDIA's 48 KB).
            let wgx = (cols4 as u32).max(1);
            let wgy = (rows as u32).clamp(
                1,
                (super::shaders::FIXED_WORKGROUP_INVOCATIONS / wgx).max(1),
            );
            Tile {
                rows: div(rows, wgy as usize),
                cols: 1,
                wgx,
                wgy,
                shared: true,
                subgroup: false,
                step_tile: true,
            }
        }
    }
}

/// `tile` made legal for `product` under `limits`: sizes in range, weight-gradient rows in quads, the
/// recurrent kernels' workgroup covering the whole batch and layer. `None` when no workgroup the adapter
/// allows can cover them (the caller names `--batch-size` or `--backend cpu`).
pub fn fit(product: &Product, tile: Tile, limits: TileLimits) -> Option<Tile> {
    let mut t = tile;
    t.rows = t.rows.clamp(1, product.max_rows());
    if matches!(product, Product::WeightGrad { .. }) {
        t.rows = (round4(t.rows as usize) as u32).min(MAX_ROWS_WEIGHT_GRAD);
    }
    t.cols = t.cols.clamp(1, MAX_COLS);
    t.wgx = t.wgx.max(1);
    t.wgy = t.wgy.max(1);
    if let Some((rows, cols4)) = product.whole() {
        // Grow the workgroup to cover, then shrink the block where that is cheaper.
        t.wgx = t.wgx.max(cols4.div_ceil(t.cols as usize) as u32);
        t.wgy = t.wgy.max(rows.div_ceil(t.rows as usize) as u32);
        t.cols = cols4.div_ceil(t.wgx as usize) as u32;
        t.rows = rows.div_ceil(t.wgy as usize) as u32;
        // No row group without a real row: one would read row b−1's gates (its loads are clamped into
        // the batch) while that row's owner overwrites them in the same step, a race between
        // invocations (lstm_forward.wgsl). The fewest row groups that cover the batch at this block.
        t.wgy = rows.div_ceil(t.rows as usize).max(1) as u32;
    }
    // Only the recurrent kernels can keep U on chip, and only where it fits.
    t.shared = t.shared
        && product
            .shared_bytes()
            .is_some_and(|b| b <= limits.workgroup_bytes as u64);
    // The subgroup variant: one subgroup of lanes along x covering the layer, every row in each lane;
    // where that cannot be, the memory variant.
    if t.subgroup {
        let one_subgroup = match (product.whole(), limits.subgroup_size) {
            (Some((rows, cols4)), Some(lanes)) if rows <= MAX_ROWS as usize => Some(Tile {
                rows: rows as u32,
                cols: cols4.div_ceil(lanes as usize) as u32,
                wgx: lanes,
                wgy: 1,
                ..t
            }),
            _ => None,
        };
        t = one_subgroup
            .filter(|s| s.cols <= MAX_COLS && s.wgx <= limits.size_x && s.wgx <= limits.invocations)
            .unwrap_or(Tile {
                subgroup: false,
                ..t
            });
    }
    // The step's state on chip: only in the memory variant, and only where it fits beside U.
    t.step_tile = t.step_tile
        && !t.subgroup
        && product.step_bytes().is_some()
        && product.tile_bytes(&t) <= limits.workgroup_bytes as u64;
    let ok = t.wgx <= limits.size_x
        && t.wgy <= limits.size_y
        && t.wgx * t.wgy <= limits.invocations
        && t.rows <= product.max_rows()
        && t.cols <= MAX_COLS;
    ok.then_some(t)
}

/// Every way of placing U (parameters or workgroup memory), h/dz between lanes (memory or subgroup
/// shuffles) and the step's state (storage or workgroup memory): (shared, subgroup, step_tile).
const PLACEMENTS: [(bool, bool, bool); 8] = [
    (false, false, false),
    (true, false, false),
    (false, true, false),
    (true, true, false),
    (false, false, true),
    (true, false, true),
    (false, true, true),
    (true, true, true),
];

/// `tile` with each way of placing U and h (U from the parameters or in workgroup memory; h through
/// memory or by subgroup shuffles), each made legal by [`fit`], duplicates dropped: what the recurrent
/// kernels' standalone checks run.
pub fn placement_variants(product: &Product, tile: Tile, limits: TileLimits) -> Vec<Tile> {
    let mut out: Vec<Tile> = Vec::new();
    for (shared, subgroup, step_tile) in PLACEMENTS {
        let variant = Tile {
            shared,
            subgroup,
            step_tile,
            ..tile
        };
        if let Some(legal) = fit(product, variant, limits) {
            if !out.contains(&legal) {
                out.push(legal);
            }
        }
    }
    out
}

/// Registers (floats) a GPU thread has before the compiler spills: 255 on NVIDIA, 256 VGPRs of a wave on
/// AMD; less the ~55 an invocation spends on indices, addresses and loop state (an estimate).
pub const GPU_BLOCK_REGISTERS: u32 = 200;

impl Product {
    /// Floats a `tile` invocation keeps live: RB·CB vec4 accumulators, the operands of one `fma_row4`
    /// (four rows of CB vec4s and a vec4), and what the recurrent kernels carry between steps (c: RB·CB
    /// floats; the BPTT's dh and dc: 2·RB·CB vec4s).
    pub fn block_registers(&self, tile: &Tile) -> u32 {
        let block = tile.rows * tile.cols;
        let carried = match self {
            Product::Recurrence { .. } => block,
            Product::Bptt { .. } => 8 * block,
            _ => 0,
        };
        4 * block + 16 * tile.cols + 4 + carried
    }
}

/// Every tile `gpulstm tune` tries for `product` (legal ones only, the default first): a few dozen at
/// most, so tuning a model takes minutes, not hours.
pub fn candidates(class: AdapterClass, product: &Product, limits: TileLimits) -> Vec<Tile> {
    let mut out: Vec<Tile> = Vec::new();
    // On GPUs only blocks that stay in registers; a CPU rasteriser keeps any block in its vector
    // registers and memory alike (measured on lavapipe: big blocks win there).
    let in_registers =
        |t: &Tile| class == AdapterClass::Cpu || product.block_registers(t) <= GPU_BLOCK_REGISTERS;
    let mut push = |t: Tile| {
        if let Some(t) = fit(product, t, limits).filter(in_registers) {
            if !out.contains(&t) {
                out.push(t);
            }
        }
    };
    push(default_tile(class, product));
    let (rows, cols4) = product.extent();
    // CPU rasterisers run 8 (AVX2) or 16 (AVX-512) lanes together; GPUs want wide workgroups.
    let shapes: &[(u32, u32)] = match class {
        AdapterClass::Cpu => &[(8, 1), (16, 1)],
        _ => &[(8, 4), (16, 4), (32, 2), (64, 1)],
    };
    let row_choices: &[u32] = match product {
        Product::WeightGrad { .. } => &[8, 16, 24, 28, 32],
        Product::Project { .. } => &[4, 8, 12, 16],
        _ => &[1, 2, 4, 8, 16],
    };
    let col_choices: &[u32] = match class {
        AdapterClass::Cpu => &[2, 4, 7, 8],
        _ => &[1, 2, 4],
    };
    // The recurrent kernels' workgroup covers the layer, so the block fixes the workgroup: on a CPU
    // rasteriser only blocks whose workgroup fits one of its SIMD widths; on GPUs every block up to 256
    // threads (1 to 8 warps of 32, 1 to 4 waves of 64), the one-row-per-thread shapes included.
    let fits_shape = |lanes_x: u32, lanes_y: u32| match class {
        AdapterClass::Cpu => shapes.iter().any(|&(x, y)| lanes_x <= x && lanes_y <= y),
        _ => lanes_x * lanes_y <= super::shaders::FIXED_WORKGROUP_INVOCATIONS,
    };
    for &(wgx, wgy) in shapes {
        for &r in row_choices {
            for &c in col_choices {
                if product.whole().is_some() {
                    let lanes_x = cols4.div_ceil(c as usize) as u32;
                    let lanes_y = rows.div_ceil(r as usize) as u32;
                    // Once per block, not once per shape.
                    if (wgx, wgy) == shapes[0] && fits_shape(lanes_x, lanes_y) {
                        for (shared, subgroup, step_tile) in PLACEMENTS {
                            push(Tile {
                                rows: r,
                                cols: c,
                                wgx: lanes_x,
                                wgy: lanes_y,
                                shared,
                                subgroup,
                                step_tile,
                            });
                        }
                    }
                } else {
                    push(Tile {
                        rows: r,
                        cols: c,
                        wgx,
                        wgy,
                        shared: false,
                        subgroup: false,
                        step_tile: false,
                    });
                }
            }
        }
    }
    out
}

/// One cached tuning result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CacheEntry {
    pub adapter: String,
    pub driver: String,
    pub product: String,
    pub tile: Tile,
    /// GFLOP/s of the winner and of the built-in default when tuned.
    pub gflops: f64,
    pub default_gflops: f64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TileCache {
    pub entries: Vec<CacheEntry>,
}

/// `$GPULSTM_CACHE_DIR`, else `$XDG_CACHE_HOME/gpulstm`, else `~/.cache/gpulstm`.
pub fn cache_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("GPULSTM_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("gpulstm"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache").join("gpulstm"))
}

pub fn cache_path() -> Option<PathBuf> {
    cache_dir().map(|d| d.join("tiles.json"))
}

impl TileCache {
    /// The cache file, or an empty cache when there is none. A file that cannot be parsed is reported
    /// and ignored: tiles only change speed, never results.
    pub fn load() -> TileCache {
        let Some(path) = cache_path() else {
            return TileCache::default();
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
                eprintln!(
                    "note: ignoring the tile cache {} ({e}); `gpulstm tune` rewrites it",
                    path.display()
                );
                TileCache::default()
            }),
            Err(_) => TileCache::default(),
        }
    }

    /// Writes the cache atomically (a temporary file renamed over the old one).
    pub fn save(&self) -> std::io::Result<PathBuf> {
        let path = cache_path().ok_or_else(|| {
            std::io::Error::other("no cache directory: set GPULSTM_CACHE_DIR or HOME")
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }

    pub fn get(&self, gpu: &Gpu, product: &Product) -> Option<Tile> {
        let key = product.key();
        self.entries
            .iter()
            .find(|e| {
                e.adapter == gpu.summary.name && e.driver == gpu.summary.driver && e.product == key
            })
            .map(|e| e.tile)
    }

    /// Adds or replaces the entry for the same adapter, driver and product.
    pub fn put(&mut self, entry: CacheEntry) {
        self.entries.retain(|e| {
            !(e.adapter == entry.adapter && e.driver == entry.driver && e.product == entry.product)
        });
        self.entries.push(entry);
    }
}

/// The tiles an engine uses: cached winners where `gpulstm tune` found some, else the class defaults.
#[derive(Clone, Debug)]
pub struct Tiles {
    pub class: AdapterClass,
    pub limits: TileLimits,
    cached: Vec<(String, Tile)>,
}

impl Tiles {
    /// The defaults for `gpu`, with the cache's entries for this adapter and driver.
    pub fn for_gpu(gpu: &Gpu) -> Tiles {
        let cache = TileCache::load();
        let cached = cache
            .entries
            .into_iter()
            .filter(|e| e.adapter == gpu.summary.name && e.driver == gpu.summary.driver)
            .map(|e| (e.product, e.tile))
            .collect();
        Tiles {
            class: AdapterClass::of(gpu),
            limits: TileLimits::of(gpu),
            cached,
        }
    }

    /// Defaults only (the checks, and `tune`'s reference point).
    pub fn defaults(gpu: &Gpu) -> Tiles {
        Tiles::new(AdapterClass::of(gpu), TileLimits::of(gpu))
    }

    /// The defaults of `class` under `limits`, without a device (plans made on paper).
    pub fn new(class: AdapterClass, limits: TileLimits) -> Tiles {
        Tiles {
            class,
            limits,
            cached: Vec::new(),
        }
    }

    /// Uses `tile` for `product` (tune and the bench try candidates this way).
    pub fn with(mut self, product: &Product, tile: Tile) -> Tiles {
        let key = product.key();
        self.cached.retain(|(k, _)| *k != key);
        self.cached.push((key, tile));
        self
    }

    /// Where the tile for `product` comes from: "cache" or "default".
    pub fn source(&self, product: &Product) -> &'static str {
        if self.cached.iter().any(|(k, _)| *k == product.key()) {
            "cache"
        } else {
            "default"
        }
    }

    /// The tile for `product`, legal under this device's limits: the cached or default one, else the
    /// first legal `tune` candidate, else the CPU-rasteriser default (the fewest lanes: the widest layer a
    /// workgroup can cover). Any legal tile computes the same numbers. `None` when none can be (see
    /// [`fit`]).
    pub fn tile(&self, product: &Product) -> Option<Tile> {
        let key = product.key();
        let chosen = self
            .cached
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, t)| *t)
            .unwrap_or_else(|| default_tile(self.class, product));
        fit(product, chosen, self.limits)
            .or_else(|| fit(product, default_tile(self.class, product), self.limits))
            .or_else(|| {
                candidates(self.class, product, self.limits)
                    .into_iter()
                    .next()
            })
            .or_else(|| {
                fit(
                    product,
                    default_tile(AdapterClass::Cpu, product),
                    self.limits,
                )
            })
    }
}
