//! `exp`, `σ` and `tanh` in f32 written so that a loop over them vectorises: no library calls, no
//! branches, integer tricks instead of float→int conversions. The library `expf` is a scalar call of
//! some 20 ns; the LSTM cell needs five of them per unit per row per time step, more than the
//! products themselves would cost.
//!
//! `exp`: `x = n·ln2 + r` with `|r| ≤ ln2/2`, `eʳ` by the Cephes `expf` polynomial, `2ⁿ` built in the
//! exponent bits. Relative error ≤ 2 ulp on `[-87, 88]`; inputs are clamped to that range (so `σ` and
//! `tanh` saturate cleanly) and NaN stays NaN. `tanh(x) = 1 − 2/(e²ˣ + 1)`: absolute error ≤ 2e-7
//! (relative error is larger near 0, which the LSTM never divides by).

use super::simd::fmadd;

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// 1.5·2²³: adding it rounds to an integer held in the low mantissa bits.
const ROUND: f32 = 12_582_912.0;

#[inline(always)]
pub fn exp<const FMA: bool>(x: f32) -> f32 {
    // `clamp` keeps a NaN a NaN (min/max would replace it).
    let x = x.clamp(-87.0, 88.0);
    let t = fmadd::<FMA>(x, LOG2E, ROUND);
    let n = t - ROUND;
    let r = fmadd::<FMA>(n, -LN2_LO, fmadd::<FMA>(n, -LN2_HI, x));
    let mut p = 1.987_569_2e-4f32;
    p = fmadd::<FMA>(p, r, 1.398_2e-3);
    p = fmadd::<FMA>(p, r, 8.333_452e-3);
    p = fmadd::<FMA>(p, r, 4.166_579_6e-2);
    p = fmadd::<FMA>(p, r, 1.666_666_5e-1);
    p = fmadd::<FMA>(p, r, 0.5);
    let er = fmadd::<FMA>(p, r * r, r) + 1.0;
    // t's bits are 0x4B40_0000 + n; 2ⁿ has exponent bits n + 127.
    let scale = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127) << 23);
    er * scale
}

#[inline(always)]
pub fn sigmoid<const FMA: bool>(x: f32) -> f32 {
    1.0 / (1.0 + exp::<FMA>(-x))
}

#[inline(always)]
pub fn tanh<const FMA: bool>(x: f32) -> f32 {
    1.0 - 2.0 / (exp::<FMA>(2.0 * x) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_sigmoid_tanh_match_f64_over_their_range() {
        let mut worst = [0.0f64; 3];
        for step in -200_000..=200_000 {
            let x = step as f32 * 4.35e-4; // [-87, 87]
            let xd = f64::from(x);
            let e = f64::from(exp::<true>(x));
            worst[0] = worst[0].max(((e - xd.exp()) / xd.exp()).abs());
            let s = f64::from(sigmoid::<false>(x));
            worst[1] = worst[1].max((s - 1.0 / (1.0 + (-xd).exp())).abs());
            let t = f64::from(tanh::<true>(x));
            worst[2] = worst[2].max((t - xd.tanh()).abs());
        }
        assert!(worst[0] < 3.0e-7, "exp relative error {:e}", worst[0]);
        assert!(worst[1] < 1.2e-7, "sigmoid absolute error {:e}", worst[1]);
        assert!(worst[2] < 2.5e-7, "tanh absolute error {:e}", worst[2]);
        assert!(exp::<true>(f32::NAN).is_nan() && tanh::<false>(f32::NAN).is_nan());
        assert_eq!(sigmoid::<true>(-1e30), 0.0f32.max(sigmoid::<true>(-1e30)));
        assert_eq!(tanh::<true>(1e30), 1.0);
        assert_eq!(tanh::<true>(-1e30), -1.0);
    }
}
