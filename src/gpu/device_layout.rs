//! How a model's parameters and each layer's input sit in GPU memory: the Keras layout of
//! [`ParamLayout`] rearranged so every product reads whole, aligned vec4s.
//!
//! Each trainable layer owns one parameter *block*, a row-major matrix whose row `i` multiplies column
//! `i` of the layer's input row `[x | h | 1]` (ARCHITECTURE.md, "Device layout"):
//! - LSTM (`I` inputs, `U` units): input row `x (I4) | h (U4) | 1 | 0 0 0`, `S = I4 + U4 + 4` columns,
//!   where `I4`, `U4` are `I`, `U` rounded up to a multiple of 4 (the padding is zero). Block rows: `W`
//!   (`I` rows, then zero rows up to `I4`), `U` (then zero rows up to `U4`), the bias, three zero rows.
//!   Columns are the `4U` gates **interleaved per unit**: column `4u + g` is gate `g` (i, f, c, o) of unit
//!   `u`, so one vec4 holds a unit's four gates and the recurrence keeps a unit's cell update in one
//!   invocation.
//! - Dense (`I` in, `O` out): input row `x (I4) | 1 | 0 0 0`, `S = I4 + 4`; rows `W` (zero rows up to
//!   `I4`), the bias, three zero rows; `O4` columns (zero past `O`).
//!
//! So the gradient of a whole block is one product, (input rows)ᵀ · (output gradients), and the forward
//! product is the input's x section times the block's first `I4` rows plus the bias row.
//! Padding is zero in the weights, receives zero gradients and so stays zero under Adam.
//! Blocks start on multiples of 4 floats; a model's stride is a multiple of 64 floats (256 bytes).

use crate::model::{LayerPlan, ParamLayout};

/// Rounds `n` up to a multiple of 4.
pub fn round4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

/// The device column of Keras gate column `j` (`g·U + u`, gate g of unit u) of an LSTM of `units`
/// units: `4u + g`.
pub fn gate_col(units: usize, j: usize) -> usize {
    4 * (j % units) + j / units
}

/// Rows of interleaved gate columns (`4U` wide) back in Keras order.
pub fn keras_gate_order(device: &[f32], units: usize) -> Vec<f32> {
    let g4 = 4 * units;
    let mut out = vec![0.0f32; device.len()];
    for (row, chunk) in device.chunks(g4).enumerate() {
        for j in 0..g4 {
            out[row * g4 + j] = chunk[gate_col(units, j)];
        }
    }
    out
}

/// One trainable layer's block.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// Position of the layer in the layer list.
    pub layer: usize,
    /// First float of the block inside a model's parameters.
    pub offset: usize,
    /// `S`: rows of the block = columns of the layer's input row.
    pub rows: usize,
    /// Columns of the block (`4U` for an LSTM, `O4` for a dense layer).
    pub cols: usize,
    /// `I4`: the x section of the input row (the rows the forward product reads).
    pub x_rows: usize,
    /// Row of the bias.
    pub bias_row: usize,
    pub kind: BlockKind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BlockKind {
    Lstm { input: usize, units: usize },
    Dense { input: usize, units: usize },
}

impl Block {
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The device layout of a whole model.
#[derive(Clone, Debug)]
pub struct DeviceLayout {
    pub blocks: Vec<Block>,
    /// Floats per model (a multiple of 64).
    pub stride: usize,
    /// The Keras layout it mirrors.
    pub keras: ParamLayout,
}

impl DeviceLayout {
    pub fn new(layout: &ParamLayout) -> DeviceLayout {
        let mut blocks = Vec::new();
        let mut offset = 0;
        for (layer, plan) in layout.layers.iter().enumerate() {
            let block = match *plan {
                LayerPlan::Lstm { input, units, .. } => {
                    let (i4, u4) = (round4(input), round4(units));
                    Block {
                        layer,
                        offset,
                        rows: i4 + u4 + 4,
                        cols: 4 * units,
                        x_rows: i4,
                        bias_row: i4 + u4,
                        kind: BlockKind::Lstm { input, units },
                    }
                }
                LayerPlan::Dense { input, units, .. } => {
                    let i4 = round4(input);
                    Block {
                        layer,
                        offset,
                        rows: i4 + 4,
                        cols: round4(units),
                        x_rows: i4,
                        bias_row: i4,
                        kind: BlockKind::Dense { input, units },
                    }
                }
                LayerPlan::Dropout { .. } => continue,
            };
            offset += block.len();
            blocks.push(block);
        }
        DeviceLayout {
            blocks,
            stride: offset.div_ceil(64) * 64,
            keras: layout.clone(),
        }
    }

    /// The block of layer `layer`, if it is trainable.
    pub fn block(&self, layer: usize) -> Option<&Block> {
        self.blocks.iter().find(|b| b.layer == layer)
    }

    /// For every Keras parameter of one model, its position in the device layout.
    fn positions(&self) -> Vec<usize> {
        let mut pos = vec![0; self.keras.total];
        for block in &self.blocks {
            let at = |row: usize, col: usize| block.offset + row * block.cols + col;
            match (&self.keras.layers[block.layer], block.kind) {
                (
                    &LayerPlan::Lstm {
                        kernel,
                        recurrent,
                        bias,
                        ..
                    },
                    BlockKind::Lstm { input, units },
                ) => {
                    let col = |j: usize| gate_col(units, j);
                    let g4 = 4 * units;
                    for j in 0..g4 {
                        for i in 0..input {
                            pos[kernel + i * g4 + j] = at(i, col(j));
                        }
                        for k in 0..units {
                            pos[recurrent + k * g4 + j] = at(block.x_rows + k, col(j));
                        }
                        pos[bias + j] = at(block.bias_row, col(j));
                    }
                }
                (&LayerPlan::Dense { kernel, bias, .. }, BlockKind::Dense { input, units }) => {
                    for o in 0..units {
                        for i in 0..input {
                            pos[kernel + i * units + o] = at(i, o);
                        }
                        pos[bias + o] = at(block.bias_row, o);
                    }
                }
                _ => unreachable!("blocks are made from the layer plans they point at"),
            }
        }
        pos
    }

    /// One model's Keras-layout parameters in the device layout (padding zero).
    pub fn pack(&self, keras: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; self.stride];
        for (k, &p) in self.positions().iter().enumerate() {
            out[p] = keras[k];
        }
        out
    }

    /// Every model of `device` ([models][stride]) back in the Keras layout, models concatenated.
    pub fn unpack(&self, device: &[f32]) -> Vec<f32> {
        let pos = self.positions();
        device
            .chunks(self.stride)
            .flat_map(|model| pos.iter().map(|&p| model[p]).collect::<Vec<_>>())
            .collect()
    }
}
