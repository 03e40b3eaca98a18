//! The Keras 3 Adam update (ARCHITECTURE.md, "Layer math"):
//! `t += 1; m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; α = lr·√(1−β2^t)/(1−β1^t);
//! w −= α·m/(√v + ε)`. Keras folds the bias corrections into `α` and adds ε to `√v` un-corrected,
//! which differs slightly from the paper's `m̂/(√v̂ + ε)`; we follow Keras.

use crate::fit::AdamConfig;

/// Moments in the parameter layout and the number of steps taken so far.
#[derive(Debug, Clone, PartialEq)]
pub struct AdamState {
    pub m: Vec<f64>,
    pub v: Vec<f64>,
    pub t: u32,
}

impl AdamState {
    /// Zero moments for `n` parameters, no step taken.
    pub fn new(n: usize) -> AdamState {
        AdamState {
            m: vec![0.0; n],
            v: vec![0.0; n],
            t: 0,
        }
    }
}

/// One Adam step over every parameter.
pub fn adam_step(cfg: &AdamConfig, state: &mut AdamState, params: &mut [f64], grads: &[f64]) {
    assert_eq!(params.len(), grads.len(), "adam_step: params/grads length");
    assert_eq!(state.m.len(), params.len(), "adam_step: state size");
    assert_eq!(state.v.len(), params.len(), "adam_step: state size");
    state.t += 1;
    let alpha = cfg.step_size(state.t);
    for k in 0..params.len() {
        let g = grads[k];
        state.m[k] = cfg.beta1 * state.m[k] + (1.0 - cfg.beta1) * g;
        state.v[k] = cfg.beta2 * state.v[k] + (1.0 - cfg.beta2) * g * g;
        params[k] -= alpha * state.m[k] / (state.v[k].sqrt() + cfg.epsilon);
    }
}
