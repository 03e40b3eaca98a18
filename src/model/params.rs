//! The flat parameter layout: where every weight tensor of a spec lives in one `Vec` per model.
//!
//! Tensors are concatenated in layer order, Keras layout and names (ARCHITECTURE.md, "Parameters"):
//! LSTM `kernel [in][4U]`, `recurrent_kernel [U][4U]`, `bias [4U]`; dense `kernel [in][out]`,
//! `bias [out]`. Gradients, Adam moments and best-weight copies reuse this layout.

use super::spec::{LayerSpec, ModelSpec};

/// One named tensor inside the flat vector: elements `offset .. offset + len`, row-major `shape`.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSlot {
    pub name: String,
    pub shape: Vec<usize>,
    pub offset: usize,
    pub len: usize,
}

/// What one spec layer computes, with its sizes resolved and its tensors' offsets into the flat vector.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerPlan {
    /// `input` features per step in, `units` out; `kernel`, `recurrent`, `bias` are flat offsets.
    Lstm {
        input: usize,
        units: usize,
        return_sequences: bool,
        kernel: usize,
        recurrent: usize,
        bias: usize,
    },
    /// `layer_index` is the 0-based position in the layer list (it selects the dropout RNG stream).
    Dropout { rate: f64, layer_index: usize },
    /// `input` features in, `units` out; `kernel`, `bias` are flat offsets.
    Dense {
        input: usize,
        units: usize,
        kernel: usize,
        bias: usize,
    },
}

/// The layout of a whole model: tensors in order, one plan per layer, and the total parameter count.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamLayout {
    pub spec: ModelSpec,
    pub tensors: Vec<TensorSlot>,
    pub layers: Vec<LayerPlan>,
    pub total: usize,
}

/// Appends a tensor at the current end of the layout and returns its offset.
fn push_tensor(
    tensors: &mut Vec<TensorSlot>,
    total: &mut usize,
    name: String,
    shape: Vec<usize>,
) -> usize {
    let len = shape.iter().product();
    let offset = *total;
    tensors.push(TensorSlot {
        name,
        shape,
        offset,
        len,
    });
    *total += len;
    offset
}

impl ParamLayout {
    /// Multiply-adds × 2 of one optimiser step of one model (look-back `t`, batch `b`), counted from the
    /// unpadded layer sizes (products only; pointwise work is O(T·B·U)): the work a step must do,
    /// whatever padding an engine adds. Both engines' benches report GFLOP/s against this.
    pub fn step_flops(&self, t: usize, b: usize) -> f64 {
        let (t, b) = (t as f64, b as f64);
        let mut total = 0.0;
        for (li, plan) in self.layers.iter().enumerate() {
            match *plan {
                LayerPlan::Lstm { input, units, .. } => {
                    let (i, u) = (input as f64, units as f64);
                    let fwd = 2.0 * t * b * (i + u) * 4.0 * u;
                    // dW, dU, dh through the recurrence, and dx for the layer below.
                    let mut bwd = 2.0 * t * b * (i + u) * 4.0 * u + 2.0 * t * b * 4.0 * u * u;
                    if li > 0 {
                        bwd += 2.0 * t * b * 4.0 * u * i;
                    }
                    total += fwd + bwd;
                }
                LayerPlan::Dense { input, units, .. } => {
                    total += 3.0 * 2.0 * b * input as f64 * units as f64
                }
                LayerPlan::Dropout { .. } => {}
            }
        }
        total
    }
    /// Lays out the parameters of `spec`, which must be valid (as [`ModelSpec::parse`] returns it, or
    /// checked with [`ModelSpec::validate`]); layer widths are chained from `spec.input_size`.
    pub fn new(spec: &ModelSpec) -> ParamLayout {
        debug_assert!(
            spec.validate().is_ok(),
            "ParamLayout::new on an invalid spec"
        );
        let mut tensors = Vec::new();
        let mut layers = Vec::new();
        let mut total = 0;
        // Width of what the previous layer hands on (per time step for sequences).
        let mut width = spec.input_size;
        // Keras numbers layers per type from 1: lstm_1, lstm_2, dense_1, ...
        let mut lstm_count = 0;
        let mut dense_count = 0;
        for (layer_index, layer) in spec.layers.iter().enumerate() {
            match *layer {
                LayerSpec::Lstm {
                    units,
                    return_sequences,
                } => {
                    lstm_count += 1;
                    let name = format!("lstm_{lstm_count}");
                    let kernel = push_tensor(
                        &mut tensors,
                        &mut total,
                        format!("{name}/kernel"),
                        vec![width, 4 * units],
                    );
                    let recurrent = push_tensor(
                        &mut tensors,
                        &mut total,
                        format!("{name}/recurrent_kernel"),
                        vec![units, 4 * units],
                    );
                    let bias = push_tensor(
                        &mut tensors,
                        &mut total,
                        format!("{name}/bias"),
                        vec![4 * units],
                    );
                    layers.push(LayerPlan::Lstm {
                        input: width,
                        units,
                        return_sequences,
                        kernel,
                        recurrent,
                        bias,
                    });
                    width = units;
                }
                LayerSpec::Dropout { rate } => {
                    layers.push(LayerPlan::Dropout { rate, layer_index });
                }
                LayerSpec::Dense { units } => {
                    dense_count += 1;
                    let name = format!("dense_{dense_count}");
                    let kernel = push_tensor(
                        &mut tensors,
                        &mut total,
                        format!("{name}/kernel"),
                        vec![width, units],
                    );
                    let bias = push_tensor(
                        &mut tensors,
                        &mut total,
                        format!("{name}/bias"),
                        vec![units],
                    );
                    layers.push(LayerPlan::Dense {
                        input: width,
                        units,
                        kernel,
                        bias,
                    });
                    width = units;
                }
            }
        }
        ParamLayout {
            spec: spec.clone(),
            tensors,
            layers,
            total,
        }
    }

    /// The tensor called `name` (e.g. `"lstm_1/recurrent_kernel"`), if the model has one.
    pub fn tensor(&self, name: &str) -> Option<&TensorSlot> {
        self.tensors.iter().find(|t| t.name == name)
    }
}
