//! The one product the CPU engine is built on: `C (=|+=) A·B` with `B` and `C` row-major and `A` read
//! through strides, so `A` may be a transpose (`Xᵀ` in a weight gradient) or a column slice (the `h`
//! part of `[x | h | 1]`) without a copy.
//!
//! Register blocking: each block keeps `MR` rows × `NR` columns of `C` in registers (20 vector
//! accumulators on AVX-512: 10 rows × 32 columns) and walks `k`, loading one `NR`-wide row of `B` and
//! broadcasting `MR` elements of `A` per step: `MR·NR` multiply-adds per `NR + MR` loads ([`BLOCK_AVX512`] and the others). Columns left
//! over are done 16, then 8, then 1 wide; rows left over re-read the block's last row and drop the results,
//! so every block runs the same straight code.

use super::simd::{fmadd, simd_dispatch, PORTABLE_FMA};

/// `A`: element `(i, p)` at `data[offset + i·row_stride + p·col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct Strided<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> Strided<'a> {
    /// A row-major matrix whose rows are `ld` apart.
    pub fn rows(data: &'a [f32], ld: usize) -> Strided<'a> {
        Strided {
            data,
            offset: 0,
            row_stride: ld,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major matrix whose rows are `ld` apart.
    pub fn transposed(data: &'a [f32], ld: usize) -> Strided<'a> {
        Strided {
            data,
            offset: 0,
            row_stride: 1,
            col_stride: ld,
        }
    }

    pub fn at(self, offset: usize) -> Strided<'a> {
        Strided { offset, ..self }
    }
}

/// The shape of `C = A·B`: `m × n`, inner dimension `k`; `ldb`, `ldc` the row pitches of `B` and `C`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub ldb: usize,
    pub ldc: usize,
}

/// Register blocks per path (rows × columns of `C` held in registers): AVX-512 has 32 vector registers,
/// 20 of them accumulators at 10 × 32 (10 × 32 measured 16 % faster than 5 × 32 on the training step, and
/// the report's batch of 10 rows is one block); AVX2 has 16 registers, 10 accumulators at 5 × 16.
pub const BLOCK_AVX512: (usize, usize) = (10, 32);
pub const BLOCK_AVX2: (usize, usize) = (5, 16);
pub const BLOCK_PORTABLE: (usize, usize) = (4, 8);

simd_dispatch! {
    /// `C = A·B` (or `C += A·B` with `accumulate`). Panics if a slice is too short for the shape.
    pub fn matmul(s: Shape, a: Strided, b: &[f32], c: &mut [f32], accumulate: bool) => matmul_impl;
    avx512: [true, { BLOCK_AVX512.0 }, { BLOCK_AVX512.1 }], avx2: [true, { BLOCK_AVX2.0 }, { BLOCK_AVX2.1 }],
    portable: [PORTABLE_FMA, { BLOCK_PORTABLE.0 }, { BLOCK_PORTABLE.1 }],
}

#[inline(always)]
pub(crate) fn matmul_impl<const FMA: bool, const MR: usize, const NR: usize>(
    s: Shape,
    a: Strided,
    b: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    if s.m == 0 || s.n == 0 {
        return;
    }
    check_bounds(&s, &a, b, c);
    let mut j = 0;
    while j < s.n {
        let left = s.n - j;
        let width = if left >= NR {
            NR
        } else if left >= 16 {
            16
        } else if left >= 8 {
            8
        } else {
            1
        };
        let mut i = 0;
        while i < s.m {
            let rows = MR.min(s.m - i);
            let block = Block {
                rows,
                a_rows: a.offset + i * a.row_stride,
                c_at: i * s.ldc + j,
            };
            // SAFETY: `check_bounds` proved every index the blocks read or write is inside the slices.
            unsafe {
                match width {
                    w if w == NR => {
                        block_kernel::<FMA, MR, NR>(&s, &a, b, c, &block, j, accumulate)
                    }
                    16 => block_kernel::<FMA, MR, 16>(&s, &a, b, c, &block, j, accumulate),
                    8 => block_kernel::<FMA, MR, 8>(&s, &a, b, c, &block, j, accumulate),
                    _ => block_kernel::<FMA, MR, 1>(&s, &a, b, c, &block, j, accumulate),
                }
            }
            i += MR;
        }
        j += width;
    }
}

/// The largest index each operand is read or written at must be inside it.
fn check_bounds(s: &Shape, a: &Strided, b: &[f32], c: &mut [f32]) {
    let a_last = a.offset + (s.m - 1) * a.row_stride + s.k.saturating_sub(1) * a.col_stride;
    assert!(
        s.k == 0 || a_last < a.data.len(),
        "matmul: A too short ({} < {})",
        a.data.len(),
        a_last + 1
    );
    assert!(
        s.k == 0 || (s.k - 1) * s.ldb + s.n <= b.len(),
        "matmul: B too short"
    );
    assert!(
        s.n <= s.ldb && s.n <= s.ldc,
        "matmul: n exceeds a row pitch"
    );
    assert!((s.m - 1) * s.ldc + s.n <= c.len(), "matmul: C too short");
}

struct Block {
    rows: usize,
    a_rows: usize,
    c_at: usize,
}

/// One `MR × W` block of `C` at column `j`.
///
/// # Safety
/// Every index below must be in bounds: [`check_bounds`] for the whole product, `j + W ≤ n`.
#[inline(always)]
unsafe fn block_kernel<const FMA: bool, const MR: usize, const W: usize>(
    s: &Shape,
    a: &Strided,
    b: &[f32],
    c: &mut [f32],
    blk: &Block,
    j: usize,
    accumulate: bool,
) {
    let (a_ptr, b_ptr, c_ptr) = (a.data.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    // Rows past the end of A re-read its last row; their results are dropped below.
    let row_at: [usize; MR] =
        std::array::from_fn(|r| blk.a_rows + r.min(blk.rows - 1) * a.row_stride);
    let mut acc = [[0.0f32; W]; MR];
    for p in 0..s.k {
        let b_row: [f32; W] = std::ptr::read_unaligned(b_ptr.add(p * s.ldb + j) as *const [f32; W]);
        let a_col = p * a.col_stride;
        for r in 0..MR {
            let av = *a_ptr.add(row_at[r] + a_col);
            for q in 0..W {
                acc[r][q] = fmadd::<FMA>(av, b_row[q], acc[r][q]);
            }
        }
    }
    for (r, acc_row) in acc.iter().enumerate().take(blk.rows) {
        let out = c_ptr.add(blk.c_at + r * s.ldc);
        for (q, &v) in acc_row.iter().enumerate() {
            let prev = if accumulate { *out.add(q) } else { 0.0 };
            *out.add(q) = prev + v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::simd::Isa;

    /// Every path against a plain triple loop, for shapes that exercise the row and column tails.
    #[test]
    fn matches_a_plain_product_on_every_path() {
        for isa in Isa::available() {
            for &(m, n, k) in &[
                (1, 1, 1),
                (10, 200, 50),
                (7, 41, 13),
                (56, 200, 30),
                (3, 9, 0),
            ] {
                let a: Vec<f32> = (0..m * k)
                    .map(|v| ((v * 7 % 13) as f32 - 6.0) / 8.0)
                    .collect();
                let b: Vec<f32> = (0..k * n)
                    .map(|v| ((v * 5 % 11) as f32 - 5.0) / 4.0)
                    .collect();
                let mut c = vec![1.0f32; m * n];
                let shape = Shape {
                    m,
                    n,
                    k,
                    ldb: n,
                    ldc: n,
                };
                // Aᵀ stored row-major [k][m], read transposed.
                let at: Vec<f32> = (0..k * m).map(|v| a[(v % m) * k + v / m]).collect();
                matmul(isa, shape, Strided::transposed(&at, m), &b, &mut c, true);
                for i in 0..m {
                    for j in 0..n {
                        let want: f32 =
                            1.0 + (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum::<f32>();
                        let got = c[i * n + j];
                        assert!(
                            (got - want).abs() <= 1e-4 * (1.0 + want.abs()),
                            "{isa:?} {m}x{n}x{k} ({i},{j}): {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
