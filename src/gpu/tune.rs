//! `gpulstm tune`: time every candidate block shape of each product a run's model computes, on the chosen
//! adapter, and cache the winners per adapter, driver and product shape (tiles.rs), so `train` picks them
//! up. Each product runs on scratch buffers of its real shapes for the given number of models; results
//! only change speed, never values (every tile computes the same sums in the same order).

use super::context::{Gpu, GpuError};
use super::device_layout::{round4, Block, BlockKind};
use super::kernel::{submit, Launch};
use super::kernels::gemm::{Project, WeightGrad};
use super::kernels::lstm_backward::Bptt;
use super::kernels::lstm_forward::Recurrence;
use super::kernels::{active_states, Common, Kernels, View};
use super::profile::{launch_ms, median};
use super::shader_structs::{u32_of, RunUniform};
use super::tiles::{
    candidates, AdapterClass, CacheEntry, Product, Tile, TileCache, TileLimits, Tiles,
};

/// What tuning found for one product.
#[derive(Clone, Debug)]
pub struct Tuned {
    pub product: Product,
    pub models: usize,
    pub tried: usize,
    pub default: (Tile, f64),
    pub best: (Tile, f64),
}

/// Scratch buffers for one product and a launch of it with a given tile.
struct Bed {
    kernels: Kernels,
    common: Common,
    product: Product,
    models: usize,
    views: Vec<View>,
    block: Option<Block>,
    params: wgpu::Buffer,
    dstate: wgpu::Buffer,
}

impl Bed {
    fn new(gpu: &Gpu, product: Product, models: usize) -> Result<Bed, GpuError> {
        let kernels = Kernels::build(gpu)?;
        let (batch, steps, units) = match product {
            Product::Recurrence {
                batch,
                steps,
                units,
            }
            | Product::Bptt {
                batch,
                steps,
                units,
            } => (batch, steps, units),
            _ => (1, 1, 1),
        };
        let config = RunUniform {
            models: u32_of(models),
            batch: u32_of(batch),
            steps: u32_of(steps),
            ..Default::default()
        };
        let common = Common::new(gpu, &config, models);
        common.write_states(gpu, &active_states(models, batch));
        let tight =
            |label: &str, rows: usize, width: usize| View::tight(gpu, label, models, rows, width);
        let (views, block) = match product {
            Product::Project {
                rows,
                depth4,
                cols4,
            } => (
                vec![
                    tight("a", rows, 4 * depth4),
                    tight("b", 4 * depth4, 4 * cols4),
                    tight("c", rows, 4 * cols4),
                ],
                None,
            ),
            Product::WeightGrad { rows, depth, cols4 } => (
                vec![
                    tight("a", depth, rows),
                    tight("d", depth, 4 * cols4),
                    tight("c", rows, 4 * cols4),
                ],
                None,
            ),
            Product::Recurrence { units, .. } | Product::Bptt { units, .. } => {
                let u4 = round4(units);
                let block = Block {
                    layer: 0,
                    offset: 0,
                    rows: u4 + u4 + 4,
                    cols: 4 * units,
                    x_rows: u4,
                    bias_row: 2 * u4,
                    kind: BlockKind::Lstm {
                        input: units,
                        units,
                    },
                };
                let tb = steps * batch;
                (
                    vec![
                        tight("gates", tb, 4 * units),
                        tight("cell", tb, u4),
                        tight("xa", tb + batch, block.rows),
                        tight("dh", tb, u4),
                        tight("dgates", tb, 4 * units),
                    ],
                    Some(block),
                )
            }
        };
        let stride = block.as_ref().map(|b| b.len()).unwrap_or(4);
        Ok(Bed {
            params: gpu.storage("params", models * stride),
            dstate: gpu.storage("dstate", models * 2 * batch * round4(units)),
            kernels,
            common,
            product,
            models,
            views,
            block,
        })
    }

    fn launch(&self, gpu: &Gpu, tiles: &Tiles) -> Result<Launch, GpuError> {
        let (k, c, m, v) = (&self.kernels, &self.common, self.models, &self.views);
        match (self.product, &self.block) {
            (Product::Project { .. }, _) => Project {
                a: &v[0],
                b: &v[1],
                bias: None,
                c: &v[2],
            }
            .launch(gpu, k, &c.states, tiles, m),
            (Product::WeightGrad { .. }, _) => WeightGrad {
                a: &v[0],
                d: &v[1],
                c: &v[2],
            }
            .launch(gpu, k, &c.states, tiles, m),
            (Product::Recurrence { batch, steps, .. }, Some(block)) => Recurrence {
                params: &self.params,
                param_stride: block.len(),
                block,
                gates: &v[0],
                cell: &v[1],
                xa: &v[2],
                batch,
                steps,
            }
            .launch(gpu, k, c, tiles, m),
            (Product::Bptt { batch, steps, .. }, Some(block)) => Bptt {
                params_t: &self.params,
                param_stride: block.len(),
                block,
                gates: &v[0],
                cell: &v[1],
                dh_in: &v[3],
                dh_every_step: true,
                dgates: &v[4],
                dstate: &self.dstate,
                batch,
                steps,
            }
            .launch(gpu, k, c, tiles, m),
            _ => unreachable!("recurrent products get a block"),
        }
    }
}

/// Median GPU milliseconds of `launch` over `rounds` runs after one warm-up.
fn time(gpu: &Gpu, launch: &Launch, rounds: usize) -> Result<f64, GpuError> {
    submit(gpu, &[launch]);
    let mut ms = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        ms.push(launch_ms(gpu, &[launch])?[0]);
    }
    Ok(median(&ms))
}

/// The distinct products of one training step of `engine`, in step order: what `tune` times.
pub fn step_products(engine: &super::engine::BatchEngine) -> Vec<Product> {
    let mut out: Vec<Product> = Vec::new();
    for l in engine.step_launches() {
        if let Some((p, _)) = l.cost.product {
            if !out.iter().any(|q| q.key() == p.key()) {
                out.push(p);
            }
        }
    }
    out
}

/// Tunes every product in `products` for `models` models: each candidate tile timed (median of 3), the
/// fastest kept. `on_product` hears about each result as it comes.
pub fn tune(
    gpu: &Gpu,
    products: &[Product],
    models: usize,
    mut on_product: impl FnMut(&Tuned),
) -> Result<Vec<Tuned>, GpuError> {
    let class = AdapterClass::of(gpu);
    let limits = TileLimits::of(gpu);
    let defaults = Tiles::defaults(gpu);
    let mut out = Vec::new();
    for &product in products {
        let bed = Bed::new(gpu, product, models)?;
        let mut results = Vec::new();
        for tile in candidates(class, &product, limits) {
            let tiles = Tiles::defaults(gpu).with(&product, tile);
            let launch = bed.launch(gpu, &tiles)?;
            results.push((tile, time(gpu, &launch, 3)?));
        }
        let default_tile = defaults.tile(&product).unwrap_or(results[0].0);
        let default_ms = results
            .iter()
            .find(|(t, _)| *t == default_tile)
            .map(|r| r.1)
            .unwrap_or(f64::NAN);
        let best = results
            .iter()
            .copied()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((default_tile, default_ms));
        let tuned = Tuned {
            product,
            models,
            tried: results.len(),
            default: (default_tile, default_ms),
            best,
        };
        on_product(&tuned);
        out.push(tuned);
    }
    Ok(out)
}

/// Writes the winners into the user's tile cache; returns where.
pub fn save(gpu: &Gpu, tuned: &[Tuned]) -> std::io::Result<std::path::PathBuf> {
    let mut cache = TileCache::load();
    for t in tuned {
        let rate = |ms: f64| t.product.flops() * t.models as f64 / ms / 1e6;
        cache.put(CacheEntry {
            adapter: gpu.summary.name.clone(),
            driver: gpu.summary.driver.clone(),
            product: t.product.key(),
            tile: t.best.0,
            gflops: rate(t.best.1),
            default_gflops: rate(t.default.1),
        });
    }
    cache.save()
}
