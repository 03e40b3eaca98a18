//! Inverted dropout masks from the shared RNG (ARCHITECTURE.md, "Random numbers"). The mask already
//! holds the scale: training multiplies activations by it forward and gradients by it backward.

use crate::rng::{dropout_purpose, uniform};

/// Which draw a mask comes from: the model's seed and number, and its Adam step count before the
/// update this forward pass feeds (0 for the first step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropoutKey {
    pub seed: u64,
    pub model: u32,
    pub step: u32,
}

/// Mask `[steps][rows][units]` of the dropout layer at position `layer_index` in the layer list.
///
/// mask element [t][r][u] = 1/(1-rate) if uniform(seed, model, dropout_purpose(layer_index), step, (r*steps+t)*units+u) >= rate else 0
///
/// The index is row-major over `[R][T][U]` (not the tensor's own time-major order) so a row's draws
/// do not depend on how many rows share the batch. `steps` is 1 for a last-step or dense output.
pub fn dropout_mask(
    rate: f64,
    layer_index: usize,
    key: &DropoutKey,
    steps: usize,
    rows: usize,
    units: usize,
) -> Vec<f64> {
    debug_assert!(
        (0.0..1.0).contains(&rate),
        "dropout rate {rate} outside [0, 1)"
    );
    let purpose = dropout_purpose(layer_index);
    let scale = 1.0 / (1.0 - rate);
    let mut mask = vec![0.0; steps * rows * units];
    for t in 0..steps {
        for r in 0..rows {
            for u in 0..units {
                // Batch sizes × steps × units stay far below 2^32 for any run this engine does
                // (units ≤ MAX_UNITS); a wrap here would be a caller bug, caught in debug builds.
                let index = (r * steps + t) * units + u;
                debug_assert!(index <= u32::MAX as usize, "dropout index exceeds u32");
                let draw = uniform(key.seed, key.model, purpose, key.step, index as u32);
                mask[(t * rows + r) * units + u] = if draw >= rate { scale } else { 0.0 };
            }
        }
    }
    mask
}
