// Batched strided matrix multiply, one model per z-slice of the dispatch:
//   C[model](i, j) (+)= Σ_k A[model](i, k) · B[model](k, j)  (+ bias[model](j))
// Every operand is addressed as offset + model·stride_model + row·stride_row + col·stride_col, so transposes,
// the "shifted by one step" hidden states of BPTT and column sums (A = a row of ones) are all this one kernel:
// the LSTM input projection, both weight gradients of an LSTM layer, dense forward/backward, and bias
// gradients.
//
// Blocking: a workgroup of 8×8 invocations owns a 32×32 tile of C; each invocation accumulates a 4×4
// block in registers, rows lid.y + 8·r and columns lid.x + 8·c, so neighbouring invocations read
// neighbouring addresses of B (and of A when it is transposed). No workgroup memory and no barriers:
// operands are small enough per model to live in cache, and software adapters (lavapipe) pay heavily
// for every barrier. An earlier 16×16 shared-memory tiling ran 4× slower on lavapipe (see benches/).
const BLOCK: u32 = 4u;
const THREADS: u32 = 8u;
const TILE: u32 = 32u; // BLOCK · THREADS

struct Gemm {
    m: u32, n: u32, k: u32, flags: u32,          // flags: 1 = add bias, 2 = accumulate into C
    a_off: u32, a_model: u32, a_row: u32, a_col: u32,
    b_off: u32, b_model: u32, b_row: u32, b_col: u32,
    c_off: u32, c_model: u32, c_row: u32, c_col: u32,
    bias_off: u32, bias_model: u32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Gemm;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.z;
    let a_base = p.a_off + model * p.a_model;
    let b_base = p.b_off + model * p.b_model;
    // Row and column offsets of this invocation's 4×4 block; out-of-range ones read row/column 0 and
    // are never written.
    var a_rows: array<u32, 4>;
    var b_cols: array<u32, 4>;
    for (var r = 0u; r < BLOCK; r = r + 1u) {
        let i = wg.y * TILE + lid.y + r * THREADS;
        a_rows[r] = a_base + select(0u, i, i < p.m) * p.a_row;
        let j = wg.x * TILE + lid.x + r * THREADS;
        b_cols[r] = b_base + select(0u, j, j < p.n) * p.b_col;
    }
    var acc: array<f32, 16>;
    for (var x = 0u; x < 16u; x = x + 1u) {
        acc[x] = 0.0;
    }
    for (var k = 0u; k < p.k; k = k + 1u) {
        let ak = k * p.a_col;
        let bk = k * p.b_row;
        let a0 = a[a_rows[0] + ak];
        let a1 = a[a_rows[1] + ak];
        let a2 = a[a_rows[2] + ak];
        let a3 = a[a_rows[3] + ak];
        for (var q = 0u; q < BLOCK; q = q + 1u) {
            let bv = b[b_cols[q] + bk];
            acc[q] = acc[q] + a0 * bv;
            acc[4u + q] = acc[4u + q] + a1 * bv;
            acc[8u + q] = acc[8u + q] + a2 * bv;
            acc[12u + q] = acc[12u + q] + a3 * bv;
        }
    }
    for (var r = 0u; r < BLOCK; r = r + 1u) {
        let i = wg.y * TILE + lid.y + r * THREADS;
        for (var q = 0u; q < BLOCK; q = q + 1u) {
            let j = wg.x * TILE + lid.x + q * THREADS;
            if (i < p.m && j < p.n) {
                let at = p.c_off + model * p.c_model + i * p.c_row + j * p.c_col;
                var value = acc[r * 4u + q];
                if ((p.flags & 1u) != 0u) {
                    value = value + bias[p.bias_off + model * p.bias_model + j];
                }
                if ((p.flags & 2u) != 0u) {
                    value = value + c[at];
                }
                c[at] = value;
            }
        }
    }
}

// Bias gradients: C[model](0, j) = Σ_k B[model](k, j), the product with a row of ones without the 31 idle
// rows a 32×32 tile would spend on it. One invocation per column, so consecutive invocations read
// consecutive addresses of B.
@compute @workgroup_size(64, 1, 1)
fn column_sum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let j = gid.x;
    let model = wg.z;
    if (j >= p.n) {
        return;
    }
    let base = p.b_off + model * p.b_model + j * p.b_col;
    var s = 0.0;
    for (var k = 0u; k < p.k; k = k + 1u) {
        s = s + b[base + k * p.b_row];
    }
    c[p.c_off + model * p.c_model + j * p.c_col] = s;
}
