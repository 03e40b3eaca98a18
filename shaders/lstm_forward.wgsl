// LSTM recurrence for a whole sequence in ONE dispatch: a workgroup owns RB rows of one model and loops over
// time inside the kernel, so dispatches per optimizer step do not grow with the sequence length.
// Before this kernel the input projection x·W + b of every step was written into `gates` by one GEMM; here
// each step adds h_{t-1}·U, applies the gate activations (in place: `gates` then holds i, f, g, o
// activated, which BPTT needs), and runs the pointwise cell update.
// Prelude constants (set by the host when it builds the pipeline): U units, RB rows per workgroup,
// WG invocations per workgroup.
// Layouts (ARCHITECTURE.md): gates [M][T][R][4U], cell [M][T][R][U], hidden [M][T+1][R][U] with hidden[0] = 0.

struct LstmParams {
    steps: u32, rows: u32, recurrent_off: u32, param_stride: u32,
}

@group(0) @binding(0) var<uniform> p: LstmParams;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read_write> gates: array<f32>;
@group(0) @binding(3) var<storage, read_write> cell: array<f32>;
@group(0) @binding(4) var<storage, read_write> hidden: array<f32>;

var<workgroup> h_prev: array<f32, RB * U>;
var<workgroup> c_prev: array<f32, RB * U>;
var<workgroup> act: array<f32, RB * 4u * U>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let model = wg.y;
    let r0 = wg.x * RB;
    let n_rows = min(RB, p.rows - r0);
    let g4 = 4u * U;
    let w_base = model * p.param_stride + p.recurrent_off;
    let gates_base = model * p.steps * p.rows * g4;
    let cell_base = model * p.steps * p.rows * U;
    let hidden_base = model * (p.steps + 1u) * p.rows * U;

    for (var idx = lid; idx < RB * U; idx = idx + WG) {
        h_prev[idx] = 0.0;
        c_prev[idx] = 0.0;
        let rr = idx / U;
        if (rr < n_rows) {
            hidden[hidden_base + (r0 + rr) * U + idx % U] = 0.0;
        }
    }
    workgroupBarrier();

    for (var t = 0u; t < p.steps; t = t + 1u) {
        // Gate pre-activations h_prev·U, register-blocked: each invocation owns a block of 4 rows × 4
        // columns, so every value it loads (4 of h_prev, 4 of U) feeds 16 multiply-adds. Rows and columns
        // past the end are clamped on load and skipped on store.
        let col_blocks = (g4 + 3u) / 4u;
        let row_blocks = (RB + 3u) / 4u;
        for (var blk = lid; blk < col_blocks * row_blocks; blk = blk + WG) {
            let j0 = (blk % col_blocks) * 4u;
            let rb = (blk / col_blocks) * 4u;
            var acc: array<f32, 16>;
            for (var x = 0u; x < 16u; x = x + 1u) {
                acc[x] = 0.0;
            }
            let r1 = min(rb + 1u, RB - 1u);
            let r2 = min(rb + 2u, RB - 1u);
            let r3 = min(rb + 3u, RB - 1u);
            for (var k = 0u; k < U; k = k + 1u) {
                let h0 = h_prev[rb * U + k];
                let h1 = h_prev[r1 * U + k];
                let h2 = h_prev[r2 * U + k];
                let h3 = h_prev[r3 * U + k];
                let w_row = w_base + k * g4;
                for (var q = 0u; q < 4u; q = q + 1u) {
                    let w = params[w_row + min(j0 + q, g4 - 1u)];
                    acc[q] = acc[q] + h0 * w;
                    acc[4u + q] = acc[4u + q] + h1 * w;
                    acc[8u + q] = acc[8u + q] + h2 * w;
                    acc[12u + q] = acc[12u + q] + h3 * w;
                }
            }
            for (var i = 0u; i < 4u; i = i + 1u) {
                let rr = rb + i;
                for (var q = 0u; q < 4u; q = q + 1u) {
                    let j = j0 + q;
                    if (rr < n_rows && j < g4) {
                        let at = gates_base + (t * p.rows + r0 + rr) * g4 + j;
                        let z = gates[at] + acc[i * 4u + q];
                        var a = sigmoid(z);
                        if (j >= 2u * U && j < 3u * U) {
                            a = tanh_stable(z);
                        }
                        gates[at] = a;
                        act[rr * g4 + j] = a;
                    }
                }
            }
        }
        workgroupBarrier();
        // Pointwise cell update: c = f⊙c_prev + i⊙g, h = o⊙tanh(c).
        for (var idx = lid; idx < RB * U; idx = idx + WG) {
            let rr = idx / U;
            let u = idx % U;
            if (rr < n_rows) {
                let gi = act[rr * g4 + u];
                let gf = act[rr * g4 + U + u];
                let gg = act[rr * g4 + 2u * U + u];
                let go = act[rr * g4 + 3u * U + u];
                let c = gf * c_prev[idx] + gi * gg;
                let h = go * tanh_stable(c);
                c_prev[idx] = c;
                h_prev[idx] = h;
                cell[cell_base + (t * p.rows + r0 + rr) * U + u] = c;
                hidden[hidden_base + ((t + 1u) * p.rows + r0 + rr) * U + u] = h;
            }
        }
        workgroupBarrier();
    }
}
