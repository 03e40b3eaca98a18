//! Keras-compatible seeded initialisation (Keras 3 defaults for `LSTM` and `Dense`), drawn from the
//! shared counter-based RNG so the GPU host and the CPU reference start from identical weights.
//!
//! - kernels: Glorot uniform, `limit = √(6/(fan_in+fan_out))`, `w = (2u−1)·limit`, with
//!   `fan_in, fan_out` = the two dimensions of the `[in][out]` kernel (so `fan_out = 4U` for an LSTM);
//! - LSTM recurrent kernels: Keras' Orthogonal initializer over the whole `[U][4U]` matrix, gain 1;
//! - LSTM bias: zero except the forget-gate block `[U, 2U)` = 1 (Keras `unit_forget_bias=True`);
//! - dense bias: zero.
//!
//! Element `e` of tensor number `k` (its index in `layout.tensors`) uses
//! `uniform(seed, model, PURPOSE_INIT, k, e)`; the orthogonal initializer uses indices `2e`, `2e+1`
//! for element `e`'s Box–Muller pair (ARCHITECTURE.md, "Random numbers").

use super::params::{LayerPlan, ParamLayout};
use crate::rng::{uniform, PURPOSE_INIT};

/// Converts an element index to the u32 RNG index word. `MAX_UNITS` bounds every tensor so that
/// this cannot fail for a validated spec (see `spec::MAX_UNITS`).
fn index_word(index: usize) -> u32 {
    u32::try_from(index)
        .expect("RNG index exceeds u32: spec should have been rejected by MAX_UNITS")
}

/// Glorot-uniform values for a `[fan_in][fan_out]` kernel, element `e` from stream step `tensor`.
fn glorot_uniform(fan_in: usize, fan_out: usize, seed: u64, model: u32, tensor: u32) -> Vec<f64> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
    (0..fan_in * fan_out)
        .map(|e| {
            let u = uniform(seed, model, PURPOSE_INIT, tensor, index_word(e));
            (2.0 * u - 1.0) * limit
        })
        .collect()
}

/// Standard normal deviate for element `e`: Box–Muller on uniforms `2e` and `2e+1`,
/// `z = √(−2 ln(1−u1)) · cos(2π u2)`. `1−u1` lies in `(0, 1]`, so the logarithm is finite.
fn normal(seed: u64, model: u32, tensor: u32, e: usize) -> f64 {
    let u1 = uniform(seed, model, PURPOSE_INIT, tensor, index_word(2 * e));
    let u2 = uniform(seed, model, PURPOSE_INIT, tensor, index_word(2 * e + 1));
    (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Keras' Orthogonal initializer (gain 1) for a `[rows][cols]` matrix, as Keras computes it:
/// QR-factorise the normal matrix (transposed first when `rows < cols`, so the factorised matrix is
/// tall), flip each column of Q by the sign of R's diagonal, transpose back. The result has
/// orthonormal rows when `rows < cols`, orthonormal columns otherwise.
///
/// Flipping by `sign(diag R)` makes the factorisation the unique one whose R has a positive diagonal,
/// which is exactly what Gram–Schmidt produces (each R diagonal entry is a norm). So: orthonormalise,
/// in order, the vectors that become Q's columns — the rows of the normal matrix when `rows < cols`,
/// its columns otherwise — with modified Gram–Schmidt in f64.
fn orthogonal(rows: usize, cols: usize, seed: u64, model: u32, tensor: u32) -> Vec<f64> {
    // Normal matrix in the tensor's own row-major layout: element e = r*cols + c.
    let a: Vec<f64> = (0..rows * cols)
        .map(|e| normal(seed, model, tensor, e))
        .collect();
    let tall_by_rows = rows < cols;
    // The vectors to orthonormalise, each of length `len`.
    let (count, len) = if tall_by_rows {
        (rows, cols)
    } else {
        (cols, rows)
    };
    let mut vectors: Vec<Vec<f64>> = (0..count)
        .map(|v| {
            (0..len)
                .map(|k| {
                    if tall_by_rows {
                        a[v * cols + k] // row v of A
                    } else {
                        a[k * cols + v] // column v of A
                    }
                })
                .collect()
        })
        .collect();
    // Modified Gram–Schmidt: remove from vector v its component along each earlier q, using the
    // already-updated v (numerically stabler than classical GS), then normalise.
    for v in 0..count {
        for q in 0..v {
            let (done, rest) = vectors.split_at_mut(v);
            let dot: f64 = done[q].iter().zip(rest[0].iter()).map(|(x, y)| x * y).sum();
            for (x, qk) in rest[0].iter_mut().zip(done[q].iter()) {
                *x -= dot * qk;
            }
        }
        let norm = vectors[v].iter().map(|x| x * x).sum::<f64>().sqrt();
        // A zero norm would need the normal draws to be exactly linearly dependent; with count ≤ len
        // and continuous-looking 24-bit draws this does not happen for any spec the parser accepts.
        debug_assert!(norm > 0.0, "orthogonal init: degenerate normal matrix");
        for x in vectors[v].iter_mut() {
            *x /= norm;
        }
    }
    let mut w = vec![0.0; rows * cols];
    for (v, vector) in vectors.iter().enumerate() {
        for (k, &x) in vector.iter().enumerate() {
            if tall_by_rows {
                w[v * cols + k] = x;
            } else {
                w[k * cols + v] = x;
            }
        }
    }
    w
}

/// Tensor number (index in `layout.tensors`) of the tensor starting at flat offset `offset`.
/// Every tensor has at least one element, so offsets identify tensors uniquely.
fn tensor_number(layout: &ParamLayout, offset: usize) -> u32 {
    let k = layout
        .tensors
        .iter()
        .position(|t| t.offset == offset)
        .expect("layer plan offset not in the tensor list");
    index_word(k)
}

/// The initial flat parameter vector of model `model` under `seed`.
pub fn init_params(layout: &ParamLayout, seed: u64, model: u32) -> Vec<f64> {
    let mut params = vec![0.0; layout.total];
    for plan in &layout.layers {
        match *plan {
            LayerPlan::Lstm {
                input,
                units,
                kernel,
                recurrent,
                bias,
                ..
            } => {
                let w =
                    glorot_uniform(input, 4 * units, seed, model, tensor_number(layout, kernel));
                params[kernel..kernel + w.len()].copy_from_slice(&w);
                let r = orthogonal(
                    units,
                    4 * units,
                    seed,
                    model,
                    tensor_number(layout, recurrent),
                );
                params[recurrent..recurrent + r.len()].copy_from_slice(&r);
                // Gate order i, f, c, o: the forget block is the second U-wide block.
                for x in &mut params[bias + units..bias + 2 * units] {
                    *x = 1.0;
                }
            }
            LayerPlan::Dense {
                input,
                units,
                kernel,
                ..
            } => {
                let w = glorot_uniform(input, units, seed, model, tensor_number(layout, kernel));
                params[kernel..kernel + w.len()].copy_from_slice(&w);
                // The bias stays zero.
            }
            LayerPlan::Dropout { .. } => {}
        }
    }
    params
}
