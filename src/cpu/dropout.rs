//! Inverted dropout of the CPU engine: the same Philox draws as [`crate::reference::dropout`], in f32,
//! into a buffer allocated once. Element `(t, r, u)` of a `[time][R][width]` mask uses Philox index
//! `(r·time + t)·width + u`; it is kept when its draw `(word >> 8)/2²⁴ ≥ rate`, i.e. when
//! `word >> 8 ≥ ⌈rate·2²⁴⌉` (exact: `rate·2²⁴` is a power-of-two scaling), so masks are bit-identical to
//! the reference's.

use super::simd::{simd_dispatch, PORTABLE_FMA};
use crate::reference::dropout::DropoutKey;
use crate::rng::{dropout_purpose, random_u32};

/// The mask's shape: `time` steps (1 after a vector layer), `rows`, `width` units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskShape {
    pub time: usize,
    pub rows: usize,
    pub width: usize,
}

simd_dispatch! {
    /// Writes the `[time][rows][width]` mask (0 or `1/(1−rate)`) of layer `layer_index` for `key`.
    pub fn dropout_mask(rate: f64, layer_index: usize, key: DropoutKey, shape: MaskShape, mask: &mut [f32]) => mask_impl;
    avx512: [true], avx2: [true], portable: [PORTABLE_FMA],
}

#[inline(always)]
fn mask_impl<const FMA: bool>(
    rate: f64,
    layer_index: usize,
    key: DropoutKey,
    shape: MaskShape,
    mask: &mut [f32],
) {
    let MaskShape { time, rows, width } = shape;
    assert!(
        (0.0..1.0).contains(&rate),
        "dropout rate {rate} outside [0, 1)"
    );
    assert!(
        time * rows * width <= u32::MAX as usize,
        "dropout index exceeds u32"
    );
    let purpose = dropout_purpose(layer_index);
    let threshold = (rate * 16_777_216.0).ceil() as u32;
    let scale = (1.0 / (1.0 - rate)) as f32;
    for t in 0..time {
        for r in 0..rows {
            let base = ((r * time + t) * width) as u32;
            let out = &mut mask[(t * rows + r) * width..][..width];
            for (u, m) in out.iter_mut().enumerate() {
                let word = random_u32(key.seed, key.model, purpose, key.step, base + u as u32);
                *m = if word >> 8 >= threshold { scale } else { 0.0 };
            }
        }
    }
}
