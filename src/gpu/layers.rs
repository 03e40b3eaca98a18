//! Each layer of the engine as the buffers it owns and the launches of its forward and backward passes.
//!
//! Wiring, the same for every layer list: a trainable layer (LSTM, dense) owns its input rows
//! `[x | h | 1]` (device_layout.rs) and its output gradient `dout`; a dropout owns its mask and `dout`.
//! Forward, a layer writes its output straight into the next layer's x section when the next layer is
//! trainable (an LSTM, whose output stays in its own h section, adds a copy), else into a buffer of its
//! own that the next dropout reads. Backward, a layer writes the gradient of its input into the previous
//! layer's `dout`.

use super::context::{Gpu, GpuError};
use super::device_layout::{round4, Block, DeviceLayout};
use super::kernel::Launch;
use super::kernels::dropout::Dropout;
use super::kernels::gemm::{Project, Transpose, WeightGrad};
use super::kernels::lstm_backward::Bptt;
use super::kernels::lstm_forward::Recurrence;
use super::kernels::{Common, Kernels, View};
use super::tiles::Tiles;
use crate::model::LayerPlan;

/// What every layer builder needs: the device, kernels, tiles and the run's shared buffers.
pub struct Ctx<'a> {
    pub gpu: &'a Gpu,
    pub kernels: &'a Kernels,
    pub common: &'a Common,
    pub tiles: &'a Tiles,
    pub models: usize,
    pub batch: usize,
    pub steps: usize,
    pub layout: &'a DeviceLayout,
    pub params: &'a wgpu::Buffer,
    pub params_t: &'a wgpu::Buffer,
    pub grads: &'a wgpu::Buffer,
    /// Scratch for the gate gradients, room for [M][T·B][4·U_max], shared by the LSTM layers in turn.
    pub dgates: &'a wgpu::Buffer,
    /// The BPTT's initial-state gradients, [M][2][B][U4_max], shared likewise.
    pub dstate: &'a wgpu::Buffer,
}

impl Ctx<'_> {
    /// Rows `first .. first + rows` of a parameter-shaped buffer's block, as a `[rows][width]` view.
    fn block_rows(&self, buf: &wgpu::Buffer, block: &Block, first: usize, rows: usize) -> View {
        View {
            buf: buf.clone(),
            off: block.offset + first * block.cols,
            model: self.layout.stride,
            row: block.cols,
            rows,
            width: block.cols,
        }
    }

    /// The transposed block in `params_t`: [cols][rows].
    fn block_t(&self, block: &Block) -> View {
        View {
            buf: self.params_t.clone(),
            off: block.offset,
            model: self.layout.stride,
            row: block.rows,
            rows: block.cols,
            width: block.rows,
        }
    }

    fn tight(&self, label: &str, rows: usize, width: usize) -> View {
        View::tight(self.gpu, label, self.models, rows, width)
    }
}

/// The buffers a layer owns before any launch is built (the previous layer writes into `x`).
pub struct Slots {
    /// Trainable layers: the input rows `[x | h | 1]`, all of them.
    pub xa: Option<View>,
    /// The gradient of the layer's output, written by the next layer's backward pass (or the loss).
    pub dout: View,
    /// Dropout: its mask.
    pub mask: Option<wgpu::Buffer>,
}

impl Slots {
    /// `seq`: the layer's input is a sequence (T rows per batch row) rather than a vector; `width`: its
    /// input width.
    pub fn new(
        ctx: &Ctx,
        plan: &LayerPlan,
        block: Option<&Block>,
        seq: bool,
        width: usize,
    ) -> Slots {
        let (b, t) = (ctx.batch, ctx.steps);
        let in_rows = if seq { t * b } else { b };
        match (plan, block) {
            (
                &LayerPlan::Lstm {
                    units,
                    return_sequences,
                    ..
                },
                Some(block),
            ) => Slots {
                xa: Some(ones_column(ctx, "lstm input", (t + 1) * b, block)),
                dout: ctx.tight(
                    "lstm dh",
                    if return_sequences { t * b } else { b },
                    round4(units),
                ),
                mask: None,
            },
            (&LayerPlan::Dense { units, .. }, Some(block)) => Slots {
                xa: Some(ones_column(ctx, "dense input", b, block)),
                dout: ctx.tight("dense dy", b, round4(units)),
                mask: None,
            },
            _ => Slots {
                xa: None,
                dout: ctx.tight("dropout dy", in_rows, round4(width)),
                mask: Some(
                    ctx.gpu
                        .storage("dropout mask", ctx.models * in_rows * width),
                ),
            },
        }
    }

    /// Where the previous layer writes this layer's input, if this layer is trainable: the x section.
    pub fn x(&self, rows: usize, width: usize) -> Option<View> {
        self.xa.as_ref().map(|xa| xa.rows(0, rows).cols(0, width))
    }
}

/// Input rows `[rows][S]` with the constant 1 (which turns the bias into one more row of the weight
/// product) set once; everything else starts at zero.
fn ones_column(ctx: &Ctx, label: &str, rows: usize, block: &Block) -> View {
    let s = block.rows;
    let mut init = vec![0.0f32; ctx.models * rows * s];
    for r in 0..ctx.models * rows {
        init[r * s + block.bias_row] = 1.0;
    }
    View {
        buf: ctx.gpu.storage_init(label, &init),
        off: 0,
        model: rows * s,
        row: s,
        rows,
        width: s,
    }
}

/// A layer's launches and where its output is after its forward pass.
pub struct Built {
    pub forward: Vec<Launch>,
    pub backward: Vec<Launch>,
    pub output: View,
    /// Named views for the kernel checks (`gates`, `cell`, `hidden`, `out`).
    pub probes: Vec<(&'static str, View)>,
}

/// The neighbours' slots a layer writes into.
pub struct Wiring<'a> {
    /// The next layer's x section, when the next layer is trainable.
    pub next_x: Option<View>,
    /// The previous layer's `dout`, when there is a previous layer.
    pub prev_dout: Option<&'a View>,
}

pub fn lstm(
    ctx: &Ctx,
    block: &Block,
    seq_out: bool,
    slots: &Slots,
    wiring: &Wiring,
) -> Result<Built, GpuError> {
    let name = |what: &str| format!("layer {} lstm: {what}", block.layer);
    let (b, t, m) = (ctx.batch, ctx.steps, ctx.models);
    let (gpu, kernels, common, tiles) = (ctx.gpu, ctx.kernels, ctx.common, ctx.tiles);
    let Some(xa) = slots.xa.as_ref() else {
        unreachable!("an LSTM's slots hold its input rows")
    };
    let units = block.cols / 4;
    let x = xa.rows(0, t * b).cols(0, block.x_rows);
    let gates = ctx.tight("gates", t * b, block.cols);
    let cell = ctx.tight("cell", t * b, round4(units));
    let hidden = xa.cols(block.x_rows, units);
    let output = if seq_out {
        hidden.rows(b, t * b)
    } else {
        hidden.rows(t * b, b)
    };
    let mut forward = vec![
        Project {
            a: &x,
            b: &ctx.block_rows(ctx.params, block, 0, block.x_rows),
            bias: Some(&ctx.block_rows(ctx.params, block, block.bias_row, 1)),
            c: &gates,
        }
        .launch(gpu, kernels, &common.states, tiles, m)?
        .named(name("input projection")),
        Recurrence {
            params: ctx.params,
            param_stride: ctx.layout.stride,
            block,
            gates: &gates,
            cell: &cell,
            xa,
            batch: b,
            steps: t,
        }
        .launch(gpu, kernels, common, tiles, m)?
        .named(name("recurrence")),
    ];
    if let Some(next_x) = &wiring.next_x {
        forward.push(copy(ctx, &output, next_x)?);
    }
    // Packed per layer inside the scratch sized for the widest one: the same strides as `gates`.
    let dgates = View {
        buf: ctx.dgates.clone(),
        off: 0,
        model: t * b * block.cols,
        row: block.cols,
        rows: t * b,
        width: block.cols,
    };
    let block_t = ctx.block_t(block);
    let mut backward = vec![
        Transpose {
            src: &ctx.block_rows(ctx.params, block, 0, block.rows),
            dst: &block_t,
        }
        .launch(gpu, kernels, &common.states, m)?
        .named(name("transpose")),
        Bptt {
            params_t: ctx.params_t,
            param_stride: ctx.layout.stride,
            block,
            gates: &gates,
            cell: &cell,
            dh_in: &slots.dout,
            dh_every_step: seq_out,
            dgates: &dgates,
            dstate: ctx.dstate,
            batch: b,
            steps: t,
        }
        .launch(gpu, kernels, common, tiles, m)?
        .named(name("bptt")),
        WeightGrad {
            a: &xa.rows(0, t * b),
            d: &dgates,
            c: &ctx.block_rows(ctx.grads, block, 0, block.rows),
        }
        .launch(gpu, kernels, &common.states, tiles, m)?
        .named(name("weight gradient")),
    ];
    if let Some(prev) = wiring.prev_dout {
        backward.push(
            Project {
                a: &dgates,
                b: &block_t.cols(0, block.x_rows),
                bias: None,
                c: prev,
            }
            .launch(gpu, kernels, &common.states, tiles, m)?
            .named(name("input gradient")),
        );
    }
    Ok(Built {
        forward,
        backward,
        output,
        probes: vec![("gates", gates), ("cell", cell), ("hidden", hidden)],
    })
}

pub fn dense(ctx: &Ctx, block: &Block, slots: &Slots, wiring: &Wiring) -> Result<Built, GpuError> {
    let name = |what: &str| format!("layer {} dense: {what}", block.layer);
    let (b, m) = (ctx.batch, ctx.models);
    let (gpu, kernels, common, tiles) = (ctx.gpu, ctx.kernels, ctx.common, ctx.tiles);
    let Some(xa) = slots.xa.as_ref() else {
        unreachable!("a dense layer's slots hold its input rows")
    };
    let output = wiring
        .next_x
        .clone()
        .map(|x| x.cols(0, block.cols))
        .unwrap_or_else(|| ctx.tight("dense out", b, block.cols));
    let forward = vec![Project {
        a: &xa.cols(0, block.x_rows),
        b: &ctx.block_rows(ctx.params, block, 0, block.x_rows),
        bias: Some(&ctx.block_rows(ctx.params, block, block.bias_row, 1)),
        c: &output,
    }
    .launch(gpu, kernels, &common.states, tiles, m)?
    .named(name("forward"))];
    let mut backward = vec![WeightGrad {
        a: xa,
        d: &slots.dout,
        c: &ctx.block_rows(ctx.grads, block, 0, block.rows),
    }
    .launch(gpu, kernels, &common.states, tiles, m)?
    .named(name("weight gradient"))];
    if let Some(prev) = wiring.prev_dout {
        let block_t = ctx.block_t(block);
        backward.push(
            Transpose {
                src: &ctx.block_rows(ctx.params, block, 0, block.rows),
                dst: &block_t,
            }
            .launch(gpu, kernels, &common.states, m)?
            .named(name("transpose")),
        );
        backward.push(
            Project {
                a: &slots.dout,
                b: &block_t.cols(0, block.x_rows),
                bias: None,
                c: prev,
            }
            .launch(gpu, kernels, &common.states, tiles, m)?
            .named(name("input gradient")),
        );
    }
    Ok(Built {
        forward,
        backward,
        output: output.clone(),
        probes: vec![("out", output)],
    })
}

/// A dropout over `input` (the previous layer's output, `steps`·B rows).
pub fn dropout(
    ctx: &Ctx,
    (rate, layer_index): (f64, usize),
    input: &View,
    steps: usize,
    slots: &Slots,
    wiring: &Wiring,
) -> Result<Built, GpuError> {
    let (gpu, kernels, common, m) = (ctx.gpu, ctx.kernels, ctx.common, ctx.models);
    let Some(mask) = slots.mask.as_ref() else {
        unreachable!("a dropout's slots hold its mask")
    };
    let output = wiring
        .next_x
        .clone()
        .unwrap_or_else(|| ctx.tight("dropout out", input.rows, round4(input.width)))
        .cols(0, input.width);
    let layer = Dropout {
        mask,
        steps,
        layer_index,
        rate,
    };
    let name = |what: &str| format!("layer {layer_index} dropout: {what}");
    let forward = vec![layer
        .forward(gpu, kernels, common, input, &output, m)?
        .named(name("forward"))];
    let mut backward = Vec::new();
    if let Some(prev) = wiring.prev_dout {
        backward.push(
            layer
                .backward(
                    gpu,
                    kernels,
                    common,
                    &slots.dout.cols(0, input.width),
                    &prev.cols(0, input.width),
                    m,
                )?
                .named(name("backward")),
        );
    }
    Ok(Built {
        forward,
        backward,
        output: output.clone(),
        probes: vec![("out", output)],
    })
}

/// A plain copy (a dropout of rate 0) where an LSTM feeds a trainable layer directly.
fn copy(ctx: &Ctx, src: &View, dst: &View) -> Result<Launch, GpuError> {
    let none = ctx.gpu.storage("no mask", 1);
    Ok(Dropout {
        mask: &none,
        steps: 1,
        layer_index: 0,
        rate: 0.0,
    }
    .forward(
        ctx.gpu,
        ctx.kernels,
        ctx.common,
        src,
        &dst.cols(0, src.width),
        ctx.models,
    )?
    .named("copy"))
}
