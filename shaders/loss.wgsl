// Mean squared error per model over the rows of the current batch, and its gradient 2(ŷ−y)/R.
// Training: adds the batch's Σ squared error to train_sse and writes dL/dŷ into column 0 of the last
// layer's output gradient (zero on padding rows and for idle models). Evaluation: adds to eval_sse and
// stores the chunk's predictions for the final metrics.
// One invocation per model: R is a batch (tens of rows), far below what would need a parallel reduction.

struct LossParams {
    pred_off: u32, pred_model: u32, pred_row: u32,    // ŷ: column 0 of [M][B][·]
    grad_model: u32, grad_row: u32,                   // dL/dŷ: column 0 of [M][B][·]
    pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(3) var<uniform> lp: LossParams;
@group(0) @binding(4) var<storage, read> pred: array<f32>;
@group(0) @binding(5) var<storage, read> targets: array<f32>;       // [M][B]
@group(0) @binding(6) var<storage, read_write> dpred: array<f32>;
@group(0) @binding(7) var<storage, read_write> eval_pred: array<f32>; // [M][eval_stride]

fn prediction(m: u32, r: u32) -> f32 {
    return pred[lp.pred_off + m * lp.pred_model + r * lp.pred_row];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= cfg.models) {
        return;
    }
    let rows = states[m].rows;
    var sse = 0.0;
    for (var r = 0u; r < rows; r++) {
        let e = prediction(m, r) - targets[m * cfg.batch + r];
        sse = sse + e * e;
    }
    if (step.training == 1u) {
        for (var r = 0u; r < cfg.batch; r++) {
            var g = 0.0;
            if (r < rows) {
                g = 2.0 * (prediction(m, r) - targets[m * cfg.batch + r]) / f32(rows);
            }
            dpred[m * lp.grad_model + r * lp.grad_row] = g;
        }
        if (rows > 0u) {
            states[m].train_sse = states[m].train_sse + sse;
        }
    } else {
        let first = step.chunk * cfg.batch;
        for (var r = 0u; r < rows; r++) {
            eval_pred[m * cfg.eval_stride + first + r] = prediction(m, r);
        }
        states[m].eval_sse = states[m].eval_sse + sse;
    }
}
