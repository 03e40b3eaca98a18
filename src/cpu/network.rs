//! The whole stack of a [`ParamLayout`] on the CPU engine: every layer's buffers allocated once for up to
//! `capacity` rows, the forward pass, the backward pass into one flat f32 gradient.
//!
//! Layers pass activations by copying the rows one writes into the buffer the next reads (an LSTM's
//! input lives in its `[x | h | 1]` rows, a dense layer's in its `[x | 1]` rows); a copy is `T·R·U`
//! floats against the `T·R·U·4U` multiply-adds of the layer that reads it. Shapes between layers are the
//! reference's ([`crate::reference::network`]).

use super::dense::{dense_backward, dense_forward, DenseBuffers};
use super::dropout::{dropout_mask, MaskShape};
use super::lstm::{lstm_backward, lstm_forward, padded, LstmBuffers, LstmParams, LstmShape};
use super::simd::Isa;
use crate::model::{LayerPlan, ParamLayout};
use crate::reference::dropout::DropoutKey;

/// Where rows sit in a buffer: row `(t, r)` of an `R`-row call starts at `offset + (t·R + r)·pitch`
/// and is `width` floats long; `time` steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rows {
    pub offset: usize,
    pub pitch: usize,
    pub width: usize,
    pub time: usize,
}

/// Copies `rows` rows per time step from `src` to `dst` (same width and time).
pub fn copy_rows(src: &[f32], s: Rows, dst: &mut [f32], d: Rows, rows: usize) {
    debug_assert!(s.width == d.width && s.time == d.time, "copy_rows: shapes");
    for n in 0..s.time * rows {
        let from = &src[s.offset + n * s.pitch..][..s.width];
        dst[d.offset + n * d.pitch..][..d.width].copy_from_slice(from);
    }
}

/// One layer's buffers and where its parameters are.
#[derive(Debug, Clone)]
enum Layer {
    Lstm {
        buf: LstmBuffers,
        kernel: usize,
        return_sequences: bool,
    },
    Dropout {
        rate: f64,
        layer_index: usize,
        time: usize,
        width: usize,
        input: Vec<f32>,
        mask: Vec<f32>,
        output: Vec<f32>,
        /// The gradient at the output, turned into the input's in place.
        grad: Vec<f32>,
    },
    Dense {
        buf: DenseBuffers,
        kernel: usize,
    },
}

impl Layer {
    /// The rows this layer reads its input from.
    fn input_rows(&self) -> Rows {
        match self {
            Layer::Lstm { buf, .. } => {
                let s = buf.shape;
                Rows {
                    offset: 0,
                    pitch: s.width(),
                    width: s.input,
                    time: s.steps,
                }
            }
            Layer::Dropout { time, width, .. } => Rows {
                offset: 0,
                pitch: *width,
                width: *width,
                time: *time,
            },
            Layer::Dense { buf, .. } => Rows {
                offset: 0,
                pitch: buf.input + 1,
                width: buf.input,
                time: 1,
            },
        }
    }

    fn input_mut(&mut self) -> &mut [f32] {
        match self {
            Layer::Lstm { buf, .. } => &mut buf.xh,
            Layer::Dropout { input, .. } => input,
            Layer::Dense { buf, .. } => &mut buf.x,
        }
    }

    /// The rows this layer hands on for an `rows`-row call.
    fn output(&self, rows: usize) -> (&[f32], Rows) {
        match self {
            Layer::Lstm {
                buf,
                return_sequences,
                ..
            } => {
                let s = buf.shape;
                let (w, t) = (s.width(), s.steps);
                // h_t sits in xh row t+1; a last-step layer hands on h_T only.
                let (first, time) = if *return_sequences { (1, t) } else { (t, 1) };
                let at = Rows {
                    offset: first * rows * w + s.input,
                    pitch: w,
                    width: s.units,
                    time,
                };
                (&buf.xh, at)
            }
            Layer::Dropout {
                time,
                width,
                output,
                ..
            } => (
                output,
                Rows {
                    offset: 0,
                    pitch: *width,
                    width: *width,
                    time: *time,
                },
            ),
            Layer::Dense { buf, .. } => (
                &buf.y,
                Rows {
                    offset: 0,
                    pitch: buf.units,
                    width: buf.units,
                    time: 1,
                },
            ),
        }
    }

    /// Where the gradient at this layer's output goes; an LSTM's steps that hand nothing on get 0.
    fn grad_out_mut(&mut self, rows: usize) -> (&mut [f32], Rows) {
        match self {
            Layer::Lstm {
                buf,
                return_sequences,
                ..
            } => {
                let s = buf.shape;
                let u = s.units;
                if *return_sequences {
                    (
                        &mut buf.dh,
                        Rows {
                            offset: 0,
                            pitch: u,
                            width: u,
                            time: s.steps,
                        },
                    )
                } else {
                    buf.dh[..s.steps * rows * u].fill(0.0);
                    let last = (s.steps - 1) * rows * u;
                    (
                        &mut buf.dh,
                        Rows {
                            offset: last,
                            pitch: u,
                            width: u,
                            time: 1,
                        },
                    )
                }
            }
            Layer::Dropout {
                time, width, grad, ..
            } => (
                grad,
                Rows {
                    offset: 0,
                    pitch: *width,
                    width: *width,
                    time: *time,
                },
            ),
            Layer::Dense { buf, .. } => (
                &mut buf.dy,
                Rows {
                    offset: 0,
                    pitch: buf.units,
                    width: buf.units,
                    time: 1,
                },
            ),
        }
    }

    /// The gradient at this layer's input after its backward pass.
    fn grad_in(&self) -> (&[f32], Rows) {
        match self {
            Layer::Lstm { buf, .. } => {
                let s = buf.shape;
                let p = padded(s.input);
                (
                    &buf.dx,
                    Rows {
                        offset: 0,
                        pitch: p,
                        width: s.input,
                        time: s.steps,
                    },
                )
            }
            Layer::Dropout {
                time, width, grad, ..
            } => (
                grad,
                Rows {
                    offset: 0,
                    pitch: *width,
                    width: *width,
                    time: *time,
                },
            ),
            Layer::Dense { buf, .. } => {
                let p = padded(buf.input);
                (
                    &buf.dx,
                    Rows {
                        offset: 0,
                        pitch: p,
                        width: buf.input,
                        time: 1,
                    },
                )
            }
        }
    }
}

/// The buffers of one model's forward and backward passes (one per worker thread, reused for every
/// model it trains).
#[derive(Debug, Clone)]
pub struct Network {
    pub isa: Isa,
    pub layout: ParamLayout,
    pub steps: usize,
    pub capacity: usize,
    layers: Vec<Layer>,
    /// The flat gradient, same layout as the parameters.
    pub grads: Vec<f32>,
    /// `[R]`: the gradient of the loss at the prediction.
    pub dpred: Vec<f32>,
}

impl Network {
    /// Buffers for `layout` over sequences of `steps` and up to `capacity` rows per call.
    pub fn new(isa: Isa, layout: &ParamLayout, steps: usize, capacity: usize) -> Network {
        let mut layers = Vec::with_capacity(layout.layers.len());
        let (mut time, mut width) = (steps, layout.spec.input_size);
        for plan in &layout.layers {
            layers.push(match *plan {
                LayerPlan::Lstm {
                    input,
                    units,
                    return_sequences,
                    kernel,
                    ..
                } => {
                    let shape = LstmShape {
                        steps,
                        input,
                        units,
                    };
                    time = if return_sequences { steps } else { 1 };
                    width = units;
                    Layer::Lstm {
                        buf: LstmBuffers::new(shape, capacity),
                        kernel,
                        return_sequences,
                    }
                }
                LayerPlan::Dropout { rate, layer_index } => {
                    let n = time * capacity * width;
                    Layer::Dropout {
                        rate,
                        layer_index,
                        time,
                        width,
                        input: vec![0.0; n],
                        mask: vec![0.0; n],
                        output: vec![0.0; n],
                        grad: vec![0.0; n],
                    }
                }
                LayerPlan::Dense {
                    input,
                    units,
                    kernel,
                    ..
                } => {
                    width = units;
                    Layer::Dense {
                        buf: DenseBuffers::new(input, units, capacity),
                        kernel,
                    }
                }
            });
        }
        Network {
            isa,
            layout: layout.clone(),
            steps,
            capacity,
            layers,
            grads: vec![0.0; layout.total],
            dpred: vec![0.0; capacity],
        }
    }

    /// The first layer's input rows and buffer (the batch is gathered straight into it).
    pub fn input_mut(&mut self) -> (&mut [f32], Rows) {
        let first = &mut self.layers[0];
        let rows = first.input_rows();
        (first.input_mut(), rows)
    }

    /// `[R]`: the prediction of the last forward pass.
    pub fn pred(&self, rows: usize) -> &[f32] {
        let (data, at) = self.layers[self.layers.len() - 1].output(rows);
        &data[at.offset..at.offset + rows]
    }

    /// The forward pass over `rows` rows already in [`Network::input_mut`]; dropout masks for `key`,
    /// or none (evaluation).
    pub fn forward(&mut self, params: &[f32], rows: usize, key: Option<DropoutKey>) {
        assert!(rows >= 1 && rows <= self.capacity, "forward: {rows} rows");
        for k in 0..self.layers.len() {
            layer_forward(self.isa, &mut self.layers[k], params, rows, key);
            if k + 1 < self.layers.len() {
                let (done, next) = self.layers.split_at_mut(k + 1);
                let (src, s) = done[k].output(rows);
                let d = next[0].input_rows();
                copy_rows(src, s, next[0].input_mut(), d, rows);
            }
        }
    }

    /// The backward pass after [`Network::forward`], from `dpred`, into `grads`.
    pub fn backward(&mut self, params: &[f32], rows: usize) {
        let last = self.layers.len() - 1;
        let (dst, d) = self.layers[last].grad_out_mut(rows);
        dst[d.offset..d.offset + rows].copy_from_slice(&self.dpred[..rows]);
        for k in (0..self.layers.len()).rev() {
            layer_backward(
                self.isa,
                &mut self.layers[k],
                params,
                &mut self.grads,
                rows,
                k > 0,
            );
            if k > 0 {
                let (below, this) = self.layers.split_at_mut(k);
                let (src, s) = this[0].grad_in();
                let (dst, d) = below[k - 1].grad_out_mut(rows);
                copy_rows(src, s, dst, d, rows);
            }
        }
    }
}

fn layer_forward(
    isa: Isa,
    layer: &mut Layer,
    params: &[f32],
    rows: usize,
    key: Option<DropoutKey>,
) {
    match layer {
        Layer::Lstm { buf, kernel, .. } => {
            let p = lstm_params(buf.shape, *kernel, params);
            lstm_forward(isa, buf, rows, p);
        }
        Layer::Dropout {
            rate,
            layer_index,
            time,
            width,
            input,
            mask,
            output,
            ..
        } => {
            let n = *time * rows * *width;
            match key {
                Some(key) => {
                    let shape = MaskShape {
                        time: *time,
                        rows,
                        width: *width,
                    };
                    dropout_mask(isa, *rate, *layer_index, key, shape, mask);
                    for ((o, &x), &m) in output[..n].iter_mut().zip(&input[..n]).zip(&mask[..n]) {
                        *o = x * m;
                    }
                }
                None => output[..n].copy_from_slice(&input[..n]),
            }
        }
        Layer::Dense { buf, kernel } => {
            let len = (buf.input + 1) * buf.units;
            dense_forward(isa, buf, rows, &params[*kernel..*kernel + len]);
        }
    }
}

fn layer_backward(
    isa: Isa,
    layer: &mut Layer,
    params: &[f32],
    grads: &mut [f32],
    rows: usize,
    want_dx: bool,
) {
    match layer {
        Layer::Lstm { buf, kernel, .. } => {
            let s = buf.shape;
            let p = lstm_params(s, *kernel, params);
            let len = s.width() * 4 * s.units;
            lstm_backward(
                isa,
                buf,
                rows,
                p,
                &mut grads[*kernel..*kernel + len],
                want_dx,
            );
        }
        Layer::Dropout {
            time,
            width,
            mask,
            grad,
            ..
        } => {
            // y = x ⊙ mask, so dx = dy ⊙ mask (in place). The forward ran with a key: training.
            let n = *time * rows * *width;
            for (g, &m) in grad[..n].iter_mut().zip(&mask[..n]) {
                *g *= m;
            }
        }
        Layer::Dense { buf, kernel } => {
            let len = (buf.input + 1) * buf.units;
            let (p, g) = (
                &params[*kernel..*kernel + len],
                &mut grads[*kernel..*kernel + len],
            );
            dense_backward(isa, buf, rows, p, g, want_dx);
        }
    }
}

fn lstm_params(s: LstmShape, kernel: usize, params: &[f32]) -> LstmParams<'_> {
    let g = 4 * s.units;
    let recurrent = kernel + s.input * g;
    let bias = recurrent + s.units * g;
    LstmParams {
        kernel: &params[kernel..recurrent],
        recurrent: &params[recurrent..bias],
        bias: &params[bias..bias + g],
    }
}
