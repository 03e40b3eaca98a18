//! The tile rules make a recurrent kernel's workgroup a race-free shape whatever it is asked for: every
//! row group owns at least one real row of the batch. A row group without one clamps its loads to row
//! b−1 and reads that row's gates while their owner overwrites them in the same step
//! (shaders/lstm_forward.wgsl). Checked on every tile the engine can end up with: the defaults, `tune`'s
//! candidates, and any tile a cache file could hold (a sweep of requested shapes through `fit` and
//! `Tiles::tile`), under every limit profile the shader-translation test uses. Needs no adapter.

use gpulstm::gpu::tiles::{candidates, default_tile, fit, AdapterClass, Product, Tile, Tiles};
use gpulstm::gpu::variants::{catalog, limit_profiles};

/// `Some(reason)` when `tile` leaves a row group of `product` without a real row or fails to cover it.
fn idle_row_group(product: &Product, tile: &Tile) -> Option<String> {
    let batch = match *product {
        Product::Recurrence { batch, .. } | Product::Bptt { batch, .. } => batch as u32,
        _ => return None,
    };
    let (rows, wgy) = (tile.rows, tile.wgy);
    if rows * wgy < batch {
        return Some(format!(
            "{wgy} groups of {rows} rows do not cover a batch of {batch}"
        ));
    }
    ((wgy - 1) * rows >= batch).then(|| {
        format!(
            "row group {} starts at row {}, past a batch of {batch}",
            wgy - 1,
            (wgy - 1) * rows
        )
    })
}

/// Recurrent products for every batch from 1 to 40 (and the catalogue's), two layer widths.
fn recurrent_products() -> Vec<Product> {
    let mut out = Vec::new();
    for batch in 1..=40 {
        for units in [3, 50] {
            out.push(Product::Recurrence {
                batch,
                units,
                steps: 5,
            });
            out.push(Product::Bptt {
                batch,
                units,
                steps: 5,
            });
        }
    }
    for (_, products) in catalog() {
        out.extend(
            products
                .into_iter()
                .filter(|p| matches!(p, Product::Recurrence { .. } | Product::Bptt { .. })),
        );
    }
    out
}

#[test]
fn no_tile_the_engine_can_choose_has_an_idle_row_group() {
    let classes = [
        AdapterClass::Cpu,
        AdapterClass::Discrete,
        AdapterClass::Integrated,
    ];
    let sources = ["default", "tune candidate", "requested (a cache entry)"];
    let (mut checked, mut bad) = ([0usize; 3], [0usize; 3]);
    let mut first = Vec::new();
    for limits in limit_profiles() {
        for product in recurrent_products() {
            let mut tiles: Vec<(usize, Tile)> = Vec::new();
            for class in classes {
                tiles.extend(fit(&product, default_tile(class, &product), limits).map(|t| (0, t)));
                tiles.extend(
                    candidates(class, &product, limits)
                        .into_iter()
                        .map(|t| (1, t)),
                );
                // What a tile cache could hold: any requested shape, made legal by the rules.
                for rows in 1..=16 {
                    for wgy in 1..=16 {
                        let asked = Tile {
                            rows,
                            cols: 1,
                            wgx: 8,
                            wgy,
                            shared: false,
                            subgroup: false,
                            step_tile: wgy % 2 == 0,
                        };
                        tiles.extend(fit(&product, asked, limits).map(|t| (2, t)));
                        let cached = Tiles::new(class, limits).with(&product, asked);
                        tiles.extend(cached.tile(&product).map(|t| (2, t)));
                    }
                }
            }
            for (source, tile) in tiles {
                checked[source] += 1;
                if let Some(why) = idle_row_group(&product, &tile) {
                    bad[source] += 1;
                    if first.len() < 5 {
                        first.push(format!(
                            "{} ({}): {tile}: {why}",
                            product.key(),
                            sources[source]
                        ));
                    }
                }
            }
        }
    }
    for i in 0..3 {
        eprintln!(
            "{:<26} {:>8} tiles, {:>8} with an idle row group",
            sources[i], checked[i], bad[i]
        );
    }
    assert_eq!(bad, [0; 3], "first: {first:#?}");
}
