// Batched strided matrix multiply, one model per z-slice of the dispatch:
//   C[model](i, j) (+)= Σ_k A[model](i, k) · B[model](k, j)  (+ bias[model](j))
// Every operand is addressed as offset + model·stride_model + row·stride_row + col·stride_col, so transposes,
// the "shifted by one step" hidden states of BPTT and column sums (A = a row of ones) are all this one kernel:
// the LSTM input projection, both weight gradients of an LSTM layer, dense forward/backward, and bias
// gradients.
//
// Tiling: a 16×16 output tile per workgroup, K consumed in 16-wide slabs staged in workgroup memory.
// Each slab is loaded so that consecutive invocations read consecutive addresses of whichever axis is
// contiguous in memory (the `a_k_major` / `b_k_major` flags, uniform across the dispatch, so no divergence).

const TILE: u32 = 16u;

struct Gemm {
    m: u32, n: u32, k: u32, flags: u32,          // flags: 1 = add bias, 2 = accumulate into C
    a_off: u32, a_model: u32, a_row: u32, a_col: u32,
    b_off: u32, b_model: u32, b_row: u32, b_col: u32,
    c_off: u32, c_model: u32, c_row: u32, c_col: u32,
    bias_off: u32, bias_model: u32, a_k_major: u32, b_k_major: u32,
}

@group(0) @binding(0) var<uniform> p: Gemm;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

var<workgroup> a_tile: array<f32, 256>; // [i][k]
var<workgroup> b_tile: array<f32, 256>; // [k][j]

fn load_a(i: u32, k: u32, model: u32) -> f32 {
    if (i < p.m && k < p.k) {
        return a[p.a_off + model * p.a_model + i * p.a_row + k * p.a_col];
    }
    return 0.0;
}

fn load_b(k: u32, j: u32, model: u32) -> f32 {
    if (k < p.k && j < p.n) {
        return b[p.b_off + model * p.b_model + k * p.b_row + j * p.b_col];
    }
    return 0.0;
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.z;
    let i0 = wg.y * TILE;
    let j0 = wg.x * TILE;
    var acc = 0.0;
    for (var k0 = 0u; k0 < p.k; k0 = k0 + TILE) {
        if (p.a_k_major == 1u) {
            // A's k axis is the contiguous one: let lid.x walk k.
            a_tile[lid.y * TILE + lid.x] = load_a(i0 + lid.y, k0 + lid.x, model);
        } else {
            // A's i axis is contiguous (a transposed operand): let lid.x walk i.
            a_tile[lid.x * TILE + lid.y] = load_a(i0 + lid.x, k0 + lid.y, model);
        }
        if (p.b_k_major == 1u) {
            b_tile[lid.x * TILE + lid.y] = load_b(k0 + lid.x, j0 + lid.y, model);
        } else {
            b_tile[lid.y * TILE + lid.x] = load_b(k0 + lid.y, j0 + lid.x, model);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < TILE; kk = kk + 1u) {
            acc = acc + a_tile[lid.y * TILE + kk] * b_tile[kk * TILE + lid.x];
        }
        workgroupBarrier();
    }
    let i = i0 + lid.y;
    let j = j0 + lid.x;
    if (i < p.m && j < p.n) {
        let at = p.c_off + model * p.c_model + i * p.c_row + j * p.c_col;
        var value = acc;
        if ((p.flags & 1u) != 0u) {
            value = value + bias[p.bias_off + model * p.bias_model + j];
        }
        if ((p.flags & 2u) != 0u) {
            value = value + c[at];
        }
        c[at] = value;
    }
}
