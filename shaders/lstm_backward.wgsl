// Reverse-time BPTT of one LSTM layer in ONE dispatch: a workgroup owns RB rows of one model and walks
// t = T−1 … 0, carrying dh (through the recurrent kernel) and dc (through the forget gate) in workgroup
// memory. It writes the pre-activation gate gradients dgates [M][T][R][4U]; the weight gradients are then
// one GEMM each over all T·R rows (x^T·dgates, h_prev^T·dgates, 1^T·dgates), and the gradient for the layer
// below is dgates·W^T, so no per-step matmul dispatches exist.
// dh_in holds the gradient arriving from above: [M][T][R][U] when `dh_every_step` = 1 (a sequence output),
// else [M][R][U] for the last step only.
// Prelude constants: U, RB, WG as in lstm_forward.wgsl.

struct LstmBackParams {
    steps: u32, rows: u32, recurrent_off: u32, param_stride: u32,
    dh_every_step: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> p: LstmBackParams;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> gates: array<f32>;
@group(0) @binding(3) var<storage, read> cell: array<f32>;
@group(0) @binding(4) var<storage, read> dh_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgates: array<f32>;

var<workgroup> dh_next: array<f32, RB * U>;  // dL/dh_t through h_t·U of step t+1
var<workgroup> dc_next: array<f32, RB * U>;  // dL/dc_t through c_{t+1} = f_{t+1}⊙c_t + …
var<workgroup> dz: array<f32, RB * 4u * U>;  // this step's pre-activation gradients

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let model = wg.y;
    let r0 = wg.x * RB;
    let n_rows = min(RB, p.rows - r0);
    let g4 = 4u * U;
    let w_base = model * p.param_stride + p.recurrent_off;
    let gates_base = model * p.steps * p.rows * g4;
    let cell_base = model * p.steps * p.rows * U;

    for (var idx = lid; idx < RB * U; idx = idx + WG) {
        dh_next[idx] = 0.0;
        dc_next[idx] = 0.0;
    }
    for (var idx = lid; idx < RB * g4; idx = idx + WG) {
        dz[idx] = 0.0;
    }
    workgroupBarrier();

    for (var step = 0u; step < p.steps; step = step + 1u) {
        let t = p.steps - 1u - step;
        for (var idx = lid; idx < RB * U; idx = idx + WG) {
            let rr = idx / U;
            let u = idx % U;
            if (rr < n_rows) {
                let row = r0 + rr;
                var dh = dh_next[idx];
                if (p.dh_every_step == 1u) {
                    dh = dh + dh_in[model * p.steps * p.rows * U + (t * p.rows + row) * U + u];
                } else if (t == p.steps - 1u) {
                    dh = dh + dh_in[model * p.rows * U + row * U + u];
                }
                let g_at = gates_base + (t * p.rows + row) * g4;
                let gi = gates[g_at + u];
                let gf = gates[g_at + U + u];
                let gg = gates[g_at + 2u * U + u];
                let go = gates[g_at + 3u * U + u];
                let c = cell[cell_base + (t * p.rows + row) * U + u];
                var c_before = 0.0;
                if (t > 0u) {
                    c_before = cell[cell_base + ((t - 1u) * p.rows + row) * U + u];
                }
                let tc = tanh_stable(c);
                let dc = dc_next[idx] + dh * go * (1.0 - tc * tc);
                let di = dc * gg * gi * (1.0 - gi);
                let df = dc * c_before * gf * (1.0 - gf);
                let dg = dc * gi * (1.0 - gg * gg);
                let d_o = dh * tc * go * (1.0 - go);
                dc_next[idx] = dc * gf;
                dz[rr * g4 + u] = di;
                dz[rr * g4 + U + u] = df;
                dz[rr * g4 + 2u * U + u] = dg;
                dz[rr * g4 + 3u * U + u] = d_o;
                dgates[g_at + u] = di;
                dgates[g_at + U + u] = df;
                dgates[g_at + 2u * U + u] = dg;
                dgates[g_at + 3u * U + u] = d_o;
            }
        }
        workgroupBarrier();
        // dh_{t-1} from the recurrence: dz_t · U^T, register-blocked like the forward kernel (4 rows × 4
        // units per invocation, 16 multiply-adds per 8 loads). The whole U (4U² floats) is re-read every
        // step, so it stays in cache on a real GPU.
        let unit_blocks = (U + 3u) / 4u;
        let row_blocks = (RB + 3u) / 4u;
        for (var blk = lid; blk < unit_blocks * row_blocks; blk = blk + WG) {
            let u0 = (blk % unit_blocks) * 4u;
            let rb = (blk / unit_blocks) * 4u;
            var acc: array<f32, 16>;
            for (var x = 0u; x < 16u; x = x + 1u) {
                acc[x] = 0.0;
            }
            let r1 = min(rb + 1u, RB - 1u);
            let r2 = min(rb + 2u, RB - 1u);
            let r3 = min(rb + 3u, RB - 1u);
            for (var j = 0u; j < g4; j = j + 1u) {
                let d0 = dz[rb * g4 + j];
                let d1 = dz[r1 * g4 + j];
                let d2 = dz[r2 * g4 + j];
                let d3 = dz[r3 * g4 + j];
                for (var q = 0u; q < 4u; q = q + 1u) {
                    let w = params[w_base + min(u0 + q, U - 1u) * g4 + j];
                    acc[q] = acc[q] + d0 * w;
                    acc[4u + q] = acc[4u + q] + d1 * w;
                    acc[8u + q] = acc[8u + q] + d2 * w;
                    acc[12u + q] = acc[12u + q] + d3 * w;
                }
            }
            for (var i = 0u; i < 4u; i = i + 1u) {
                for (var q = 0u; q < 4u; q = q + 1u) {
                    if (rb + i < RB && u0 + q < U) {
                        dh_next[(rb + i) * U + u0 + q] = acc[i * 4u + q];
                    }
                }
            }
        }
        workgroupBarrier();
    }
}
