//! A dense layer of the CPU engine, forward and backward. Its input rows carry a trailing 1
//! (`x [R][I+1]`), so `y = [x | 1]·[K; b]` and `[dK; db] = [x | 1]ᵀ·dy` are single products over the
//! parameters' own layout (`kernel [I][O]` then `bias [O]`, contiguous).

use super::lstm::padded;
use super::matmul::{matmul_impl, Shape, Strided, BLOCK_AVX2, BLOCK_AVX512, BLOCK_PORTABLE};
use super::simd::{simd_dispatch, PORTABLE_FMA};

/// A dense layer's buffers for up to `capacity` rows.
#[derive(Debug, Clone)]
pub struct DenseBuffers {
    pub input: usize,
    pub units: usize,
    pub capacity: usize,
    /// `[R][I+1]`, last column 1.
    pub x: Vec<f32>,
    /// `[R][O]`.
    pub y: Vec<f32>,
    /// `[R][O]`: the gradient arriving at the output.
    pub dy: Vec<f32>,
    /// `[O][pad(I)]`: `Kᵀ`.
    kt: Vec<f32>,
    /// `[R][pad(I)]`: the input gradient.
    pub dx: Vec<f32>,
}

impl DenseBuffers {
    pub fn new(input: usize, units: usize, capacity: usize) -> DenseBuffers {
        let mut x = vec![0.0; capacity * (input + 1)];
        for row in x.chunks_exact_mut(input + 1) {
            row[input] = 1.0;
        }
        DenseBuffers {
            input,
            units,
            capacity,
            x,
            y: vec![0.0; capacity * units],
            dy: vec![0.0; capacity * units],
            kt: vec![0.0; units * padded(input)],
            dx: vec![0.0; capacity * padded(input)],
        }
    }
}

simd_dispatch! {
    /// `y = x·K + b` for `rows` rows; `params` is `[K; b]` (`[I+1][O]`).
    pub fn dense_forward(buf: &mut DenseBuffers, rows: usize, params: &[f32]) => forward_impl;
    avx512: [true, { BLOCK_AVX512.0 }, { BLOCK_AVX512.1 }], avx2: [true, { BLOCK_AVX2.0 }, { BLOCK_AVX2.1 }],
    portable: [PORTABLE_FMA, { BLOCK_PORTABLE.0 }, { BLOCK_PORTABLE.1 }],
}

simd_dispatch! {
    /// `[dK; db] = [x | 1]ᵀ·dy` into `grads` (`[I+1][O]`) and, with `want_dx`, `dx = dy·Kᵀ`.
    pub fn dense_backward(buf: &mut DenseBuffers, rows: usize, params: &[f32], grads: &mut [f32], want_dx: bool) => backward_impl;
    avx512: [true, { BLOCK_AVX512.0 }, { BLOCK_AVX512.1 }], avx2: [true, { BLOCK_AVX2.0 }, { BLOCK_AVX2.1 }],
    portable: [PORTABLE_FMA, { BLOCK_PORTABLE.0 }, { BLOCK_PORTABLE.1 }],
}

#[inline(always)]
fn forward_impl<const FMA: bool, const MR: usize, const NR: usize>(
    buf: &mut DenseBuffers,
    rows: usize,
    params: &[f32],
) {
    let (i, o) = (buf.input, buf.units);
    assert!(rows >= 1 && rows <= buf.capacity, "dense_forward: rows");
    let s = Shape {
        m: rows,
        n: o,
        k: i + 1,
        ldb: o,
        ldc: o,
    };
    matmul_impl::<FMA, MR, NR>(s, Strided::rows(&buf.x, i + 1), params, &mut buf.y, false);
}

#[inline(always)]
fn backward_impl<const FMA: bool, const MR: usize, const NR: usize>(
    buf: &mut DenseBuffers,
    rows: usize,
    params: &[f32],
    grads: &mut [f32],
    want_dx: bool,
) {
    let (i, o) = (buf.input, buf.units);
    assert!(rows >= 1 && rows <= buf.capacity, "dense_backward: rows");
    let s = Shape {
        m: i + 1,
        n: o,
        k: rows,
        ldb: o,
        ldc: o,
    };
    matmul_impl::<FMA, MR, NR>(s, Strided::transposed(&buf.x, i + 1), &buf.dy, grads, false);
    if want_dx {
        let i_pad = padded(i);
        for (r, k_row) in params.chunks_exact(o).take(i).enumerate() {
            for (c, &v) in k_row.iter().enumerate() {
                buf.kt[c * i_pad + r] = v;
            }
        }
        let s = Shape {
            m: rows,
            n: i_pad,
            k: o,
            ldb: i_pad,
            ldc: i_pad,
        };
        matmul_impl::<FMA, MR, NR>(s, Strided::rows(&buf.dy, o), &buf.kt, &mut buf.dx, false);
    }
}
