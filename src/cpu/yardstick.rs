//! Yardsticks for the CPU engine's bench, through the same SIMD paths as the engine: the machine's FMA
//! peak (independent multiply-add chains, no loads) and the plain products of a training step's shapes
//! (the engine's [`matmul`] alone, without the cells, dropout, copies and Adam around it).

use super::lstm::padded;
use super::matmul::{matmul, Shape, Strided};
use super::simd::{fmadd, simd_dispatch, Isa, PORTABLE_FMA};
use crate::model::{LayerPlan, ParamLayout};

/// Independent accumulator chains: enough to cover the FMA latency on two FMA ports.
const CHAINS: usize = 10;

simd_dispatch! {
    /// `iters` rounds of `acc = acc·a + b` on `CHAINS` vectors; returns a sum so nothing is optimised
    /// away. FLOPs: [`fma_peak_flops`].
    pub fn fma_peak(iters: usize) -> f32 => fma_impl;
    avx512: [true, 16], avx2: [true, 8], portable: [PORTABLE_FMA, 4],
}

/// FLOPs of one [`fma_peak`] call on `isa`.
pub fn fma_peak_flops(isa: Isa, iters: usize) -> f64 {
    let lanes = match isa {
        Isa::Avx512 => 16,
        Isa::Avx2 => 8,
        Isa::Portable => 4,
    };
    2.0 * (CHAINS * lanes * iters) as f64
}

#[inline(always)]
fn fma_impl<const FMA: bool, const LANES: usize>(iters: usize) -> f32 {
    // The matmul block's own pattern (a broadcast scalar times a lane array into an accumulator
    // array), without the loads: acc[r][q] = iters · x[r] · y[q].
    let x = std::hint::black_box([1.0e-3_f32; CHAINS]);
    let y = std::hint::black_box([1.0e-3_f32; LANES]);
    let mut acc = [[0.0f32; LANES]; CHAINS];
    for _ in 0..iters {
        for (r, chain) in acc.iter_mut().enumerate() {
            for q in 0..LANES {
                chain[q] = fmadd::<FMA>(x[r], y[q], chain[q]);
            }
        }
    }
    let mut sum = 0.0;
    for chain in &acc {
        for &v in chain {
            sum += v;
        }
    }
    sum
}

/// One product of a step and how many times a step runs it.
#[derive(Debug, Clone, Copy)]
pub struct StepProduct {
    pub shape: Shape,
    pub times: usize,
}

/// The products one training step of one model runs (batch `b`, look-back `t`), as the engine shapes
/// them: per LSTM layer the projection, `t` recurrence and `t − 1` BPTT carries, the weight gradient
/// and (above the first layer) the input gradient; per dense layer forward, weight and input gradients.
pub fn step_products(layout: &ParamLayout, t: usize, b: usize) -> Vec<StepProduct> {
    let mut out = Vec::new();
    let mut push = |m, n, k, times| {
        out.push(StepProduct {
            shape: Shape {
                m,
                n,
                k,
                ldb: n,
                ldc: n,
            },
            times,
        })
    };
    for (li, plan) in layout.layers.iter().enumerate() {
        match *plan {
            LayerPlan::Lstm { input, units, .. } => {
                let g = 4 * units;
                push(t * b, g, input, 1);
                push(b, g, units, t);
                push(b, padded(units), g, t - 1);
                push(input + units + 1, g, t * b, 1);
                if li > 0 {
                    push(t * b, padded(input), g, 1);
                }
            }
            LayerPlan::Dense { input, units, .. } => {
                push(b, units, input + 1, 1);
                push(input + 1, units, b, 1);
                if li > 0 {
                    push(b, padded(input), units, 1);
                }
            }
            LayerPlan::Dropout { .. } => {}
        }
    }
    out
}

/// Operands large enough for every product of [`step_products`].
pub struct ProductBuffers {
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
}

impl ProductBuffers {
    pub fn new(products: &[StepProduct]) -> ProductBuffers {
        let most = |f: fn(&Shape) -> usize| products.iter().map(|p| f(&p.shape)).max().unwrap_or(1);
        ProductBuffers {
            a: vec![0.5; most(|s| s.m * s.k)],
            b: vec![0.25; most(|s| s.k * s.n)],
            c: vec![0.0; most(|s| s.m * s.n)],
        }
    }

    /// Runs every product of one step once.
    pub fn run(&mut self, isa: Isa, products: &[StepProduct]) {
        for p in products {
            for _ in 0..p.times {
                let a = Strided::rows(&self.a, p.shape.k);
                matmul(isa, p.shape, a, &self.b, &mut self.c, false);
            }
        }
    }
}

/// FLOPs of [`step_products`] as they run (padded widths included).
pub fn products_flops(products: &[StepProduct]) -> f64 {
    products
        .iter()
        .map(|p| 2.0 * (p.shape.m * p.shape.n * p.shape.k * p.times) as f64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every accumulator ends at iters · 10⁻⁶.
    #[test]
    fn fma_peak_computes_the_closed_form() {
        for isa in Isa::available() {
            let lanes = fma_peak_flops(isa, 1) as usize / (2 * CHAINS);
            let want = (CHAINS * lanes) as f64 * 1000.0 * 1e-6;
            let got = f64::from(fma_peak(isa, 1000));
            assert!((got - want).abs() < 1e-3 * want, "{isa:?}: {got} vs {want}");
        }
    }
}
