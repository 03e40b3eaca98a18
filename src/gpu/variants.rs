//! Every pipeline the engine, `gpulstm check`, `gpulstm tune` and the bench can create — module, entry
//! point, pipeline constants — for tests/shader_translation.rs, which translates each for Metal, DX12,
//! Vulkan and GL. The list is made by the engine's own rules (the tile defaults, `tune`'s candidates, the
//! checks' placement variants, [`Product::pipeline`]), so a new candidate or kernel variant is tested
//! without editing the test. Entry points that take no constants are not listed: the test translates
//! every entry point of every module in [`shaders::modules`](super::shaders::modules) anyway.
//!
//! Tile choices depend on the model's shapes, which are the user's; the list covers the shapes of
//! [`catalog`] under every adapter class and a spread of limits ([`limit_profiles`]).

use super::kernels::early_stop::DIVERGENCE;
use super::plan::step_products;
use super::profile::yardstick_shape;
use super::tiles::{
    candidates, default_tile, fit, placement_variants, AdapterClass, Constants, Product,
    TileLimits, Tiles,
};
use super::yardstick::{candidate_tiles, MatShape};
use crate::model::{ModelSpec, ParamLayout, DEFAULT_LAYERS};

/// One pipeline: what `Family::pipeline` is given.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    /// The module, by its name in `shaders::modules()`.
    pub module: &'static str,
    pub entry: &'static str,
    pub constants: Constants,
    /// Where the first instance came from, for failure messages.
    pub origin: String,
}

impl Variant {
    /// `module::entry` and its constants, as a failure names it.
    pub fn name(&self) -> String {
        let constants: Vec<String> = self
            .constants
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}::{} [{}]", self.module, self.entry, constants.join(" "))
    }
}

/// Limits the tile rules are run under: the WebGPU defaults and a GPU's usual ones, with workgroup memory
/// from 16 to 64 KiB, and without subgroups or with each fixed subgroup size an adapter reports.
pub fn limit_profiles() -> Vec<TileLimits> {
    let mut out = Vec::new();
    for (invocations, workgroup_bytes) in
        [(256, 16384), (1024, 32768), (1024, 49152), (1024, 65536)]
    {
        for subgroup_size in [None, Some(8), Some(16), Some(32), Some(64)] {
            out.push(TileLimits {
                invocations,
                size_x: invocations,
                size_y: invocations,
                workgroup_bytes,
                subgroup_size,
            });
        }
    }
    out
}

/// The model shapes the list covers, by name: the main job (the report's model at `train`'s defaults,
/// the embedded sample's 5 features), the fixed problem `gpulstm check` and the tests run, and edge
/// shapes that reach the ends of the tile rules (one row and unit; batches past one workgroup's 16 rows;
/// layers wider than a subgroup and than the WebGPU workgroup memory holds).
pub fn catalog() -> Vec<(String, Vec<Product>)> {
    let mut out = Vec::new();
    // A spec that does not parse leaves its entry without products, which the test reports.
    let mut model = |name: String, layers: &str, features: usize, batch: usize, lookback: usize| {
        let products = ModelSpec::parse(layers, features)
            .map(|spec| step_products(&ParamLayout::new(&spec), batch, lookback))
            .unwrap_or_default();
        out.push((name, products));
    };
    model("main job".into(), DEFAULT_LAYERS, 5, 10, 60);
    let small = crate::check_problem::Problem::small();
    model(
        "check's fixed problem".into(),
        &small.layout.spec.to_spec_string(),
        small.features,
        small.batch,
        small.lookback,
    );
    for (batch, units) in [(1, 1), (17, 8), (64, 37), (3, 200), (16, 33)] {
        model(
            format!("edge: batch {batch}, {units} units"),
            &format!("lstm:{units}:seq,lstm:{units},dense:{units},dense:1"),
            3,
            batch,
            5,
        );
    }
    out
}

/// Every pipeline with constants that the engine, its checks, `tune` and the bench can create for the
/// shapes of [`catalog`], each once (the first origin kept).
pub fn all_variants() -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::new();
    let mut push = |v: Variant| {
        if !out
            .iter()
            .any(|w| w.module == v.module && w.entry == v.entry && w.constants == v.constants)
        {
            out.push(v);
        }
    };
    let classes = [
        AdapterClass::Cpu,
        AdapterClass::Discrete,
        AdapterClass::Integrated,
    ];
    for (model, products) in catalog() {
        for &class in &classes {
            for limits in limit_profiles() {
                let subgroups = limits.subgroup_size.is_some();
                for product in &products {
                    // The engine's default, `tune`'s candidates (the default among them), and the
                    // placements the recurrent checks try on the default.
                    let mut tiles = candidates(class, product, limits);
                    if let Some(default) = fit(product, default_tile(class, product), limits) {
                        tiles.extend(placement_variants(product, default, limits));
                    }
                    for tile in tiles {
                        let pipeline = product.pipeline(&tile, subgroups);
                        push(Variant {
                            module: pipeline.module,
                            entry: pipeline.entry,
                            constants: pipeline.constants,
                            origin: format!(
                                "{model}: {} on a {class:?} adapter, {} invocations, {} B workgroup \
                                 memory, subgroups {:?}: {tile}",
                                product.key(),
                                limits.invocations,
                                limits.workgroup_bytes,
                                limits.subgroup_size
                            ),
                        });
                    }
                }
            }
        }
        // The bench's yardsticks of each product, and the engine's own tile beside them.
        for product in &products {
            let limits = limit_profiles()[0];
            let shape = yardstick_shape(product, 1);
            let mut tiles = Vec::new();
            for class in [
                AdapterClass::Cpu,
                AdapterClass::Discrete,
                AdapterClass::Integrated,
            ] {
                tiles.extend(candidate_tiles(&shape, class, limits));
                tiles.extend(Tiles::new(class, limits).tile(product));
            }
            for tile in tiles {
                push(yardstick(
                    tile,
                    format!("{model}: bench yardstick of {}", product.key()),
                ));
            }
        }
    }
    let square = MatShape::square(1024);
    let classes = [
        AdapterClass::Cpu,
        AdapterClass::Discrete,
        AdapterClass::Integrated,
    ];
    for tile in classes
        .into_iter()
        .flat_map(|class| candidate_tiles(&square, class, limit_profiles()[0]))
    {
        push(yardstick(tile, "bench: the 1024³ product".into()));
    }
    for tile in super::yardstick::check_tiles() {
        push(yardstick(
            tile,
            "gpulstm check: a random yardstick tile".into(),
        ));
    }
    push(Variant {
        module: "early_stop",
        entry: "end_epoch",
        constants: DIVERGENCE.to_vec(),
        origin: "the engine's early stopping".into(),
    });
    out
}

fn yardstick(tile: super::tiles::Tile, origin: String) -> Variant {
    Variant {
        module: "yardsticks",
        entry: "matmul",
        constants: tile.constants(),
        origin,
    }
}
