// Mean squared error per model over the rows of the current batch, and its gradient 2(ŷ−y)/R.
// Training: adds the batch's Σ squared error to train_sse and writes dL/dŷ (zero on padding rows and for
// idle models). Evaluation: adds to eval_sse and stores the predictions of the chunk for the final metrics.
// One invocation per model: R is a batch (tens of rows), far below what would need a parallel reduction.

@group(0) @binding(3) var<storage, read> pred: array<f32>;          // [M][B]
@group(0) @binding(4) var<storage, read> targets: array<f32>;        // [M][B]
@group(0) @binding(5) var<storage, read_write> dpred: array<f32>;   // [M][B]
@group(0) @binding(6) var<storage, read_write> eval_pred: array<f32>; // [M][eval_stride]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= cfg.models) {
        return;
    }
    let rows = states[m].rows;
    var sse = 0.0;
    for (var r = 0u; r < rows; r = r + 1u) {
        let e = pred[m * cfg.batch + r] - targets[m * cfg.batch + r];
        sse = sse + e * e;
    }
    if (step.training == 1u) {
        for (var r = 0u; r < cfg.batch; r = r + 1u) {
            var g = 0.0;
            if (r < rows) {
                g = 2.0 * (pred[m * cfg.batch + r] - targets[m * cfg.batch + r]) / f32(rows);
            }
            dpred[m * cfg.batch + r] = g;
        }
        if (rows > 0u) {
            states[m].train_sse = states[m].train_sse + sse;
        }
    } else {
        let first = step.chunk * cfg.batch;
        for (var r = 0u; r < rows; r = r + 1u) {
            eval_pred[m * cfg.eval_stride + first + r] = pred[m * cfg.batch + r];
        }
        states[m].eval_sse = states[m].eval_sse + sse;
    }
}
