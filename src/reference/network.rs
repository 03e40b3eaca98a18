//! The whole stack of a [`ParamLayout`], forward and backward, built from the per-layer pairs.
//!
//! Shapes between layers: the input `x` is `[T][R][F]`. A `seq` LSTM hands on `h[1..=T]` as
//! `[T][R][U]`; a last-step LSTM hands on `h[T]` as `[R][U]`; a dense hands on `[R][O]`. Dropout keeps
//! the shape of what it receives, so its mask is `[T][R][U]` after a `seq` LSTM and `[R][W]` (mask
//! time length 1) otherwise. The spec rules guarantee an LSTM always receives a sequence and a dense a
//! vector.

use super::dense::{dense_backward, dense_forward};
use super::dropout::{dropout_mask, DropoutKey};
use super::lstm::{lstm_backward, lstm_forward, LstmCache, LstmDims};
use crate::model::{LayerPlan, ParamLayout};

/// What one layer kept from the forward pass.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerCache {
    Lstm(LstmCache),
    /// The mask applied (scale included), or `None` in evaluation mode (identity).
    Dropout {
        mask: Option<Vec<f64>>,
    },
    Dense,
}

/// Everything the forward pass produced: the prediction and, per layer, its output and cache.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkCache {
    /// `[R]`: the output of the final `dense:1`.
    pub pred: Vec<f64>,
    pub steps: usize,
    pub rows: usize,
    /// `outputs[k]`: what layer `k` handed on (the input of layer `k+1`), shapes as in the module doc.
    pub outputs: Vec<Vec<f64>>,
    /// `layers[k]`: layer `k`'s cache.
    pub layers: Vec<LayerCache>,
}

/// Gradients of the whole network: parameters (flat, same layout as the parameters) and the input.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkGrads {
    pub params: Vec<f64>,
    /// `[T][R][F]`.
    pub dx: Vec<f64>,
}

/// Runs the stack on `x [T][R][F]`. With `dropout = Some(key)` the dropout layers apply their masks
/// (training); with `None` they are the identity (evaluation).
pub fn forward(
    layout: &ParamLayout,
    params: &[f64],
    x: &[f64],
    steps: usize,
    rows: usize,
    dropout: Option<&DropoutKey>,
) -> NetworkCache {
    assert_eq!(params.len(), layout.total, "forward: parameter count");
    assert_eq!(
        x.len(),
        steps * rows * layout.spec.input_size,
        "forward: x size"
    );
    let mut outputs: Vec<Vec<f64>> = Vec::with_capacity(layout.layers.len());
    let mut layers = Vec::with_capacity(layout.layers.len());
    // Shape of the current activation: time length (T for a sequence, 1 for a vector) and width.
    let mut time_len = steps;
    let mut width = layout.spec.input_size;
    for (k, plan) in layout.layers.iter().enumerate() {
        let input: &[f64] = if k == 0 { x } else { &outputs[k - 1] };
        let (output, cache) = match *plan {
            LayerPlan::Lstm {
                input: in_width,
                units,
                return_sequences,
                kernel,
                recurrent,
                bias,
            } => {
                assert!(
                    time_len == steps && width == in_width,
                    "forward: lstm {k} needs a [T][R][{in_width}] sequence (invalid spec)"
                );
                let dims = LstmDims {
                    steps,
                    rows,
                    input: in_width,
                    units,
                };
                let cache = lstm_forward(
                    &dims,
                    input,
                    &params[kernel..kernel + in_width * 4 * units],
                    &params[recurrent..recurrent + units * 4 * units],
                    &params[bias..bias + 4 * units],
                );
                let output = if return_sequences {
                    cache.h[rows * units..].to_vec() // h[1..=T]
                } else {
                    time_len = 1;
                    cache.h[steps * rows * units..].to_vec() // h[T]
                };
                width = units;
                (output, LayerCache::Lstm(cache))
            }
            LayerPlan::Dropout { rate, layer_index } => match dropout {
                Some(key) => {
                    let mask = dropout_mask(rate, layer_index, key, time_len, rows, width);
                    let output = input.iter().zip(&mask).map(|(a, m)| a * m).collect();
                    (output, LayerCache::Dropout { mask: Some(mask) })
                }
                None => (input.to_vec(), LayerCache::Dropout { mask: None }),
            },
            LayerPlan::Dense {
                input: in_width,
                units,
                kernel,
                bias,
            } => {
                assert!(
                    time_len == 1 && width == in_width,
                    "forward: dense {k} needs an [R][{in_width}] vector (invalid spec)"
                );
                let output = dense_forward(
                    rows,
                    in_width,
                    units,
                    input,
                    &params[kernel..kernel + in_width * units],
                    &params[bias..bias + units],
                );
                width = units;
                (output, LayerCache::Dense)
            }
        };
        outputs.push(output);
        layers.push(cache);
    }
    // A valid spec ends in dense:1, so the last output is [R][1] = [R].
    let pred = outputs.last().cloned().unwrap_or_default();
    assert_eq!(pred.len(), rows, "forward: the last layer must be dense:1");
    NetworkCache {
        pred,
        steps,
        rows,
        outputs,
        layers,
    }
}

/// Gradients of the loss with respect to every parameter and the input, given `dpred = dL/dpred [R]`.
pub fn backward_full(
    layout: &ParamLayout,
    params: &[f64],
    x: &[f64],
    cache: &NetworkCache,
    dpred: &[f64],
) -> NetworkGrads {
    let (steps, rows) = (cache.steps, cache.rows);
    assert_eq!(dpred.len(), rows, "backward: dpred size");
    let mut grads = vec![0.0; layout.total];
    // Gradient with respect to the current layer's output, walking from the top.
    let mut d = dpred.to_vec();
    for (k, plan) in layout.layers.iter().enumerate().rev() {
        let input: &[f64] = if k == 0 { x } else { &cache.outputs[k - 1] };
        d = match (plan, &cache.layers[k]) {
            (
                &LayerPlan::Dense {
                    input: in_width,
                    units,
                    kernel,
                    bias,
                },
                LayerCache::Dense,
            ) => {
                let g = dense_backward(
                    rows,
                    in_width,
                    units,
                    input,
                    &params[kernel..kernel + in_width * units],
                    &d,
                );
                grads[kernel..kernel + g.dkernel.len()].copy_from_slice(&g.dkernel);
                grads[bias..bias + g.dbias.len()].copy_from_slice(&g.dbias);
                g.dx
            }
            (LayerPlan::Dropout { .. }, LayerCache::Dropout { mask }) => match mask {
                // y = x ⊙ mask, so dx = dy ⊙ mask.
                Some(mask) => d.iter().zip(mask).map(|(g, m)| g * m).collect(),
                None => d,
            },
            (
                &LayerPlan::Lstm {
                    input: in_width,
                    units,
                    return_sequences,
                    kernel,
                    recurrent,
                    bias,
                },
                LayerCache::Lstm(lstm_cache),
            ) => {
                // Gradient with respect to each step's output: everything for a seq LSTM, only the
                // last step for a last-step LSTM (earlier outputs were not used above).
                let dh = if return_sequences {
                    d
                } else {
                    let mut dh = vec![0.0; steps * rows * units];
                    dh[(steps - 1) * rows * units..].copy_from_slice(&d);
                    dh
                };
                let dims = LstmDims {
                    steps,
                    rows,
                    input: in_width,
                    units,
                };
                let g = lstm_backward(
                    &dims,
                    input,
                    &params[kernel..kernel + in_width * 4 * units],
                    &params[recurrent..recurrent + units * 4 * units],
                    lstm_cache,
                    &dh,
                );
                grads[kernel..kernel + g.dkernel.len()].copy_from_slice(&g.dkernel);
                grads[recurrent..recurrent + g.drecurrent.len()].copy_from_slice(&g.drecurrent);
                grads[bias..bias + g.dbias.len()].copy_from_slice(&g.dbias);
                g.dx
            }
            _ => panic!("backward: cache of layer {k} does not match the layout"),
        };
    }
    NetworkGrads {
        params: grads,
        dx: d,
    }
}

/// Parameter gradients only (same layout as `params`); see [`backward_full`].
pub fn backward(
    layout: &ParamLayout,
    params: &[f64],
    x: &[f64],
    cache: &NetworkCache,
    dpred: &[f64],
) -> Vec<f64> {
    backward_full(layout, params, x, cache, dpred).params
}
