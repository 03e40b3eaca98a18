//! The Keras 3 Adam update of [`crate::reference::adam`] in f32 over the flat parameter vector; the
//! bias-corrected step size `α_t` is computed in f64 ([`AdamConfig::step_size`]) and rounded once.

use super::simd::{fmadd, simd_dispatch, PORTABLE_FMA};
use crate::fit::AdamConfig;

/// Adam's moments and step count for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Moments {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    pub t: u32,
}

impl Moments {
    pub fn new(n: usize) -> Moments {
        Moments {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }
}

/// One Adam step: `t += 1`, then the update of every parameter.
pub fn adam_step(
    isa: super::simd::Isa,
    cfg: &AdamConfig,
    state: &mut Moments,
    params: &mut [f32],
    grads: &[f32],
) {
    assert!(
        params.len() == grads.len()
            && state.m.len() == params.len()
            && state.v.len() == params.len(),
        "adam_step: sizes"
    );
    state.t += 1;
    let coef = Coefficients {
        alpha: cfg.step_size(state.t) as f32,
        beta1: cfg.beta1 as f32,
        beta2: cfg.beta2 as f32,
        epsilon: cfg.epsilon as f32,
    };
    adam_update(isa, coef, params, &mut state.m, &mut state.v, grads);
}

#[derive(Debug, Clone, Copy)]
pub struct Coefficients {
    pub alpha: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub epsilon: f32,
}

simd_dispatch! {
    /// `m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; w −= α·m/(√v + ε)`.
    pub fn adam_update(c: Coefficients, params: &mut [f32], m: &mut [f32], v: &mut [f32], grads: &[f32]) => update_impl;
    avx512: [true], avx2: [true], portable: [PORTABLE_FMA],
}

#[inline(always)]
fn update_impl<const FMA: bool>(
    c: Coefficients,
    params: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grads: &[f32],
) {
    let n = params.len();
    let (m, v, grads) = (&mut m[..n], &mut v[..n], &grads[..n]);
    for k in 0..n {
        let g = grads[k];
        m[k] = fmadd::<FMA>(c.beta1, m[k], (1.0 - c.beta1) * g);
        v[k] = fmadd::<FMA>(c.beta2, v[k], (1.0 - c.beta2) * g * g);
        params[k] -= c.alpha * m[k] / (v[k].sqrt() + c.epsilon);
    }
}
