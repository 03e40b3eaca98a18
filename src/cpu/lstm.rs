//! One LSTM layer of the CPU engine, forward and backward, over buffers allocated once.
//!
//! Layout (time-major, `R` rows of the current call, `W = I + U + 1`):
//! - `xh [T+1][R][W]`: row `(t, r)` is `[x_t | h_{t−1} | 1]`. The forward writes `h_t` into row `t+1`,
//!   so one buffer is the input projection's `A`, the recurrence's `A` (its `h` part) and, transposed,
//!   the weight gradient's `A`: `[dW; dU; db] = xhᵀ·dz` is ONE product over all time steps whose rows
//!   are the parameters' own layout (`kernel [I][4U]`, `recurrent [U][4U]`, `bias [4U]`, contiguous).
//! - `gates [T][R][4U]` (i, f, g, o: pre-activations, then activations in place), `c`, `tc = tanh(c)`
//!   `[T][R][U]`; `dz [T][R][4U]`; `dh [T][R][U]` the gradient arriving at each step's output.
//!
//! Forward: `gates = b + x·W` for the whole sequence (one product), then per step
//! `gates_t += h_{t−1}·U` and the fused cell update. Backward: per step (reverse) the fused cell
//! gradient, then `dh_{t−1} = dz_t·Uᵀ` against a transposed copy of `U` (rows padded to 8 floats);
//! then the weight-gradient product and, when the layer below needs it, `dx = dz·Wᵀ`.

use super::math::{sigmoid, tanh};
use super::matmul::{matmul_impl, Shape, Strided, BLOCK_AVX2, BLOCK_AVX512, BLOCK_PORTABLE};
use super::simd::{fmadd, simd_dispatch, PORTABLE_FMA};

/// An LSTM layer's shape: `steps` (T), `input` (I) features per step, `units` (U).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmShape {
    pub steps: usize,
    pub input: usize,
    pub units: usize,
}

impl LstmShape {
    /// Width of an `xh` row: `[x | h | 1]`.
    pub fn width(&self) -> usize {
        self.input + self.units + 1
    }
    fn gates(&self) -> usize {
        4 * self.units
    }
}

/// Row pitch of the transposed copies: a multiple of 8 floats so the products never fall back to
/// their one-column tail.
pub(crate) fn padded(n: usize) -> usize {
    n.div_ceil(8) * 8
}

/// The layer's parameters, as slices of the flat parameter vector.
#[derive(Debug, Clone, Copy)]
pub struct LstmParams<'a> {
    pub kernel: &'a [f32],
    pub recurrent: &'a [f32],
    pub bias: &'a [f32],
}

/// Everything one LSTM layer keeps, for up to `capacity` rows.
#[derive(Debug, Clone)]
pub struct LstmBuffers {
    pub shape: LstmShape,
    pub capacity: usize,
    pub xh: Vec<f32>,
    pub gates: Vec<f32>,
    pub c: Vec<f32>,
    pub tc: Vec<f32>,
    pub dz: Vec<f32>,
    pub dh: Vec<f32>,
    /// `[R][U]`: the cell gradient carried to the previous step.
    dc: Vec<f32>,
    /// `[R][pad(U)]`: `dz_t·Uᵀ`, the hidden gradient carried to the previous step.
    dh_next: Vec<f32>,
    /// `[4U][pad(U)]` and `[4U][pad(I)]`: `Uᵀ`, `Wᵀ`.
    ut: Vec<f32>,
    wt: Vec<f32>,
    /// `[T][R][pad(I)]`: the input gradient.
    pub dx: Vec<f32>,
    zeros: Vec<f32>,
}

impl LstmBuffers {
    pub fn new(shape: LstmShape, capacity: usize) -> LstmBuffers {
        let (t, u, g, w) = (shape.steps, shape.units, shape.gates(), shape.width());
        let mut xh = vec![0.0; (t + 1) * capacity * w];
        // The constant 1 that carries the bias; rows are W wide whatever R is, so it stays put.
        for row in xh.chunks_exact_mut(w) {
            row[w - 1] = 1.0;
        }
        LstmBuffers {
            shape,
            capacity,
            xh,
            gates: vec![0.0; t * capacity * g],
            c: vec![0.0; t * capacity * u],
            tc: vec![0.0; t * capacity * u],
            dz: vec![0.0; t * capacity * g],
            dh: vec![0.0; t * capacity * u],
            dc: vec![0.0; capacity * u],
            dh_next: vec![0.0; capacity * padded(u)],
            ut: vec![0.0; g * padded(u)],
            wt: vec![0.0; g * padded(shape.input)],
            dx: vec![0.0; t * capacity * padded(shape.input)],
            zeros: vec![0.0; u],
        }
    }
}

simd_dispatch! {
    /// The forward pass over `rows` rows whose inputs are already in `xh`'s `x` part.
    pub fn lstm_forward(buf: &mut LstmBuffers, rows: usize, p: LstmParams) => forward_impl;
    avx512: [true, { BLOCK_AVX512.0 }, { BLOCK_AVX512.1 }], avx2: [true, { BLOCK_AVX2.0 }, { BLOCK_AVX2.1 }],
    portable: [PORTABLE_FMA, { BLOCK_PORTABLE.0 }, { BLOCK_PORTABLE.1 }],
}

simd_dispatch! {
    /// The backward pass after [`lstm_forward`], given `dh`: writes `[dW; dU; db]` into `grads`
    /// (`[W][4U]`, the layer's contiguous parameter slice) and, with `want_dx`, `dx`.
    pub fn lstm_backward(buf: &mut LstmBuffers, rows: usize, p: LstmParams, grads: &mut [f32], want_dx: bool) => backward_impl;
    avx512: [true, { BLOCK_AVX512.0 }, { BLOCK_AVX512.1 }], avx2: [true, { BLOCK_AVX2.0 }, { BLOCK_AVX2.1 }],
    portable: [PORTABLE_FMA, { BLOCK_PORTABLE.0 }, { BLOCK_PORTABLE.1 }],
}

#[inline(always)]
fn forward_impl<const FMA: bool, const MR: usize, const NR: usize>(
    buf: &mut LstmBuffers,
    rows: usize,
    p: LstmParams,
) {
    let s = buf.shape;
    let (t_len, i_len, u, g, w) = (s.steps, s.input, s.units, s.gates(), s.width());
    assert!(rows >= 1 && rows <= buf.capacity, "lstm_forward: rows");
    for r in 0..rows {
        buf.xh[r * w + i_len..][..u].fill(0.0); // h_{−1} = 0
    }
    let gates = &mut buf.gates[..t_len * rows * g];
    for row in gates.chunks_exact_mut(g) {
        row.copy_from_slice(p.bias);
    }
    let all_rows = Shape {
        m: t_len * rows,
        n: g,
        k: i_len,
        ldb: g,
        ldc: g,
    };
    matmul_impl::<FMA, MR, NR>(all_rows, Strided::rows(&buf.xh, w), p.kernel, gates, true);
    let step = Shape {
        m: rows,
        n: g,
        k: u,
        ldb: g,
        ldc: g,
    };
    for t in 0..t_len {
        let h_prev = Strided::rows(&buf.xh, w).at(t * rows * w + i_len);
        let z = &mut buf.gates[t * rows * g..][..rows * g];
        matmul_impl::<FMA, MR, NR>(step, h_prev, p.recurrent, z, true);
        for r in 0..rows {
            let at = (t * rows + r) * u;
            let (before, from_here) = buf.c.split_at_mut(at);
            let c_prev = if t == 0 {
                &buf.zeros[..]
            } else {
                &before[at - rows * u..]
            };
            cell_forward::<FMA>(
                &mut z[r * g..][..g],
                c_prev,
                &mut from_here[..u],
                &mut buf.tc[at..][..u],
                &mut buf.xh[((t + 1) * rows + r) * w + i_len..][..u],
            );
        }
    }
}

/// Lanes of the pointwise cell code: whole 16-float blocks through local arrays (which LLVM keeps in
/// vector registers whatever the slices alias), the tail through zero-padded copies.
const LANES: usize = 16;

/// `n` floats of `s` from `at` into a lane block (zeros past `n`).
#[inline(always)]
fn load(s: &[f32], at: usize, n: usize) -> [f32; LANES] {
    let mut a = [0.0; LANES];
    if n == LANES {
        a.copy_from_slice(&s[at..at + LANES]);
    } else {
        a[..n].copy_from_slice(&s[at..at + n]);
    }
    a
}

#[inline(always)]
fn store(a: &[f32; LANES], s: &mut [f32], at: usize, n: usize) {
    if n == LANES {
        s[at..at + LANES].copy_from_slice(a);
    } else {
        s[at..at + n].copy_from_slice(&a[..n]);
    }
}

/// Gate activations and the cell update of one row: `z` (pre-activations i, f, g, o) becomes the
/// activations; `c = f⊙c_prev + i⊙g`, `tc = tanh(c)`, `h = o⊙tc`.
#[inline(always)]
fn cell_forward<const FMA: bool>(
    z: &mut [f32],
    c_prev: &[f32],
    c: &mut [f32],
    tc: &mut [f32],
    h: &mut [f32],
) {
    let u = c.len();
    for at in (0..u).step_by(LANES) {
        let n = LANES.min(u - at);
        let (mut zi, mut zf) = (load(z, at, n), load(z, u + at, n));
        let (mut zg, mut zo) = (load(z, 2 * u + at, n), load(z, 3 * u + at, n));
        let cp = load(c_prev, at, n);
        let (mut cv, mut tv, mut hv) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
        for k in 0..LANES {
            let (ig, fg) = (sigmoid::<FMA>(zi[k]), sigmoid::<FMA>(zf[k]));
            let (gg, og) = (tanh::<FMA>(zg[k]), sigmoid::<FMA>(zo[k]));
            cv[k] = fmadd::<FMA>(fg, cp[k], ig * gg);
            tv[k] = tanh::<FMA>(cv[k]);
            hv[k] = og * tv[k];
            (zi[k], zf[k], zg[k], zo[k]) = (ig, fg, gg, og);
        }
        store(&zi, z, at, n);
        store(&zf, z, u + at, n);
        store(&zg, z, 2 * u + at, n);
        store(&zo, z, 3 * u + at, n);
        store(&cv, c, at, n);
        store(&tv, tc, at, n);
        store(&hv, h, at, n);
    }
}

/// `dst[j][i] = src[i][j]` for `src [rows][cols]`, `dst` rows `pitch` apart (padding left at 0).
fn transpose_into(src: &[f32], rows: usize, cols: usize, dst: &mut [f32], pitch: usize) {
    for (i, src_row) in src.chunks_exact(cols).take(rows).enumerate() {
        for (j, &v) in src_row.iter().enumerate() {
            dst[j * pitch + i] = v;
        }
    }
}

#[inline(always)]
fn backward_impl<const FMA: bool, const MR: usize, const NR: usize>(
    buf: &mut LstmBuffers,
    rows: usize,
    p: LstmParams,
    grads: &mut [f32],
    want_dx: bool,
) {
    let s = buf.shape;
    let (t_len, i_len, u, g, w) = (s.steps, s.input, s.units, s.gates(), s.width());
    let (u_pad, i_pad) = (padded(u), padded(i_len));
    assert!(rows >= 1 && rows <= buf.capacity, "lstm_backward: rows");
    assert_eq!(grads.len(), w * g, "lstm_backward: grads are [I+U+1][4U]");
    transpose_into(p.recurrent, u, g, &mut buf.ut, u_pad);
    buf.dc[..rows * u].fill(0.0);
    buf.dh_next[..rows * u_pad].fill(0.0);
    let carry = Shape {
        m: rows,
        n: u_pad,
        k: g,
        ldb: u_pad,
        ldc: u_pad,
    };
    for t in (0..t_len).rev() {
        for r in 0..rows {
            let at = (t * rows + r) * u;
            let c_prev = if t == 0 {
                &buf.zeros[..]
            } else {
                &buf.c[at - rows * u..][..u]
            };
            cell_backward::<FMA>(
                CellSaved {
                    gates: &buf.gates[(t * rows + r) * g..][..g],
                    c_prev,
                    tc: &buf.tc[at..][..u],
                    dh: &buf.dh[at..][..u],
                    dh_next: &buf.dh_next[r * u_pad..][..u],
                },
                &mut buf.dc[r * u..][..u],
                &mut buf.dz[(t * rows + r) * g..][..g],
            );
        }
        if t > 0 {
            let dz_t = Strided::rows(&buf.dz, g).at(t * rows * g);
            matmul_impl::<FMA, MR, NR>(carry, dz_t, &buf.ut, &mut buf.dh_next, false);
        }
    }
    let weights = Shape {
        m: w,
        n: g,
        k: t_len * rows,
        ldb: g,
        ldc: g,
    };
    matmul_impl::<FMA, MR, NR>(
        weights,
        Strided::transposed(&buf.xh, w),
        &buf.dz,
        grads,
        false,
    );
    if want_dx {
        transpose_into(p.kernel, i_len, g, &mut buf.wt, i_pad);
        let input = Shape {
            m: t_len * rows,
            n: i_pad,
            k: g,
            ldb: i_pad,
            ldc: i_pad,
        };
        matmul_impl::<FMA, MR, NR>(
            input,
            Strided::rows(&buf.dz, g),
            &buf.wt,
            &mut buf.dx,
            false,
        );
    }
}

/// What the cell gradient of one row reads: the forward's activations and cell states, and the
/// gradients arriving from above (`dh`) and from the next step (`dh_next`).
struct CellSaved<'a> {
    gates: &'a [f32],
    c_prev: &'a [f32],
    tc: &'a [f32],
    dh: &'a [f32],
    dh_next: &'a [f32],
}

/// One row of BPTT's pointwise part: `dc` carries the cell gradient (in: from step t+1, out: to t−1);
/// `dz` gets the pre-activation gradients (i, f, g, o).
#[inline(always)]
fn cell_backward<const FMA: bool>(s: CellSaved, dc: &mut [f32], dz: &mut [f32]) {
    let u = dc.len();
    for at in (0..u).step_by(LANES) {
        let n = LANES.min(u - at);
        let (gi, gf) = (load(s.gates, at, n), load(s.gates, u + at, n));
        let (gg, go) = (load(s.gates, 2 * u + at, n), load(s.gates, 3 * u + at, n));
        let (cp, tc) = (load(s.c_prev, at, n), load(s.tc, at, n));
        let (dh, dhn) = (load(s.dh, at, n), load(s.dh_next, at, n));
        let mut dcv = load(dc, at, n);
        let (mut di, mut df, mut dg, mut d_o) =
            ([0.0; LANES], [0.0; LANES], [0.0; LANES], [0.0; LANES]);
        for k in 0..LANES {
            let (i, f, gv, o, t) = (gi[k], gf[k], gg[k], go[k], tc[k]);
            let dht = dh[k] + dhn[k];
            let dct = fmadd::<FMA>(dht * o, 1.0 - t * t, dcv[k]);
            dcv[k] = dct * f;
            di[k] = dct * gv * (i * (1.0 - i));
            df[k] = dct * cp[k] * (f * (1.0 - f));
            dg[k] = dct * i * (1.0 - gv * gv);
            d_o[k] = dht * t * (o * (1.0 - o));
        }
        store(&dcv, dc, at, n);
        store(&di, dz, at, n);
        store(&df, dz, u + at, n);
        store(&dg, dz, 2 * u + at, n);
        store(&d_o, dz, 3 * u + at, n);
    }
}
