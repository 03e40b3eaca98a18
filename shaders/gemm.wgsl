// The engine's batched products, one model per workgroup row of the grid (wg.y):
//   project:     C[n][j] = Σ_k A[n][k]·B[k][j] (+ bias[j])   input projections, dense layers, and the
//                gradients for the layer below (A = dout, B = the transposed weights)
//   weight_grad: C[i][j] = Σ_n A[n][i]·D[n][j]               every weight gradient of a layer at once:
//                A is the layer's input [x | h_prev | 1], so rows of C are the rows of the layer's
//                parameter block (W, U and the bias)
//   transpose:   the transposed copy of a parameter block that `project` and the BPTT read as B.
// Operands are addressed in vec4 units as offset + model·model_stride + row·row_stride + vec4 column;
// offsets and strides come from the device parameter layout, which pads every row to whole vec4s.
//
// Blocking (blocks.wgsl): an invocation owns RB rows × CB vec4 columns of C, lanes along x taking columns
// WGX apart so neighbouring lanes read neighbouring vec4s of B. No workgroup memory, no barriers.

struct Gemm {
    rows: u32,        // rows of C
    cols4: u32,       // vec4 columns of C
    depth: u32,       // project: vec4s of the contraction; weight_grad: rows n of A and D
    flags: u32,       // 1: add the bias row (project)
    a_off: u32, a_model: u32, a_row: u32, bias_off: u32,
    b_off: u32, b_model: u32, b_row: u32, bias_model: u32,
    c_off: u32, c_model: u32, c_row: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> p: Gemm;
@group(0) @binding(1) var<storage, read> states: array<ModelState>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4<f32>>;

// The CB vec4 columns of B row `row` that this invocation owns.
fn load_b(row_base: u32, cols: ptr<function, array<u32, MAX_CB>>) -> Row {
    var v: Row;
    for (var ci = 0u; ci < CB; ci++) {
        v[ci] = b[row_base + (*cols)[ci]];
    }
    return v;
}

// Stores one row of C (rows past `rows` and columns past `cols4` are skipped).
fn store_row(row: u32, acc: ptr<function, Row>, c_base: u32, col0: u32) {
    if (row >= p.rows) {
        return;
    }
    for (var ci = 0u; ci < CB; ci++) {
        let j = col0 + ci * WGX;
        if (j < p.cols4) {
            c[c_base + row * p.c_row + j] = (*acc)[ci];
        }
    }
}

// Grid: x = row tiles × column tiles, y = model. Returns (first row, first column) of this invocation.
fn tile_origin(wg: vec3<u32>, lid: vec3<u32>) -> vec2<u32> {
    let col_tiles = (p.cols4 + WGX * CB - 1u) / (WGX * CB);
    let row_tile = wg.x / col_tiles;
    let col_tile = wg.x % col_tiles;
    return vec2<u32>((row_tile * WGY + lid.y) * RB, col_tile * WGX * CB + lid.x);
}

@compute @workgroup_size(WGX, WGY)
fn project(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.y;
    if (states[model].rows == 0u) {
        return; // the model has no batch this step (stopped early, or past its last batch)
    }
    let origin = tile_origin(wg, lid);
    let row0 = origin.x;
    var cols: array<u32, MAX_CB>;
    for (var ci = 0u; ci < CB; ci++) {
        cols[ci] = min(origin.y + ci * WGX, p.cols4 - 1u);
    }
    let a_base = p.a_off + model * p.a_model;
    let b_base = p.b_off + model * p.b_model;
    var init: Row;
    if ((p.flags & 1u) != 0u) {
        init = load_b(p.bias_off + model * p.bias_model, &cols);
    }
    let last = p.rows - 1u;
    let ar0 = a_base + min(row0, last) * p.a_row;        var acc0 = init;
    let ar1 = a_base + min(row0 + 1u, last) * p.a_row;   var acc1 = init;
    let ar2 = a_base + min(row0 + 2u, last) * p.a_row;   var acc2 = init;
    let ar3 = a_base + min(row0 + 3u, last) * p.a_row;   var acc3 = init;
    let ar4 = a_base + min(row0 + 4u, last) * p.a_row;   var acc4 = init;
    let ar5 = a_base + min(row0 + 5u, last) * p.a_row;   var acc5 = init;
    let ar6 = a_base + min(row0 + 6u, last) * p.a_row;   var acc6 = init;
    let ar7 = a_base + min(row0 + 7u, last) * p.a_row;   var acc7 = init;
    let ar8 = a_base + min(row0 + 8u, last) * p.a_row;   var acc8 = init;
    let ar9 = a_base + min(row0 + 9u, last) * p.a_row;   var acc9 = init;
    let ar10 = a_base + min(row0 + 10u, last) * p.a_row; var acc10 = init;
    let ar11 = a_base + min(row0 + 11u, last) * p.a_row; var acc11 = init;
    let ar12 = a_base + min(row0 + 12u, last) * p.a_row; var acc12 = init;
    let ar13 = a_base + min(row0 + 13u, last) * p.a_row; var acc13 = init;
    let ar14 = a_base + min(row0 + 14u, last) * p.a_row; var acc14 = init;
    let ar15 = a_base + min(row0 + 15u, last) * p.a_row; var acc15 = init;
    for (var kq = 0u; kq < p.depth; kq++) {
        let bk = b_base + 4u * kq * p.b_row;
        var b0 = load_b(bk, &cols);
        var b1 = load_b(bk + p.b_row, &cols);
        var b2 = load_b(bk + 2u * p.b_row, &cols);
        var b3 = load_b(bk + 3u * p.b_row, &cols);
        if (RB > 0u) { fma_row4(&acc0, a[ar0 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 1u) { fma_row4(&acc1, a[ar1 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 2u) { fma_row4(&acc2, a[ar2 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 3u) { fma_row4(&acc3, a[ar3 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 4u) { fma_row4(&acc4, a[ar4 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 5u) { fma_row4(&acc5, a[ar5 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 6u) { fma_row4(&acc6, a[ar6 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 7u) { fma_row4(&acc7, a[ar7 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 8u) { fma_row4(&acc8, a[ar8 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 9u) { fma_row4(&acc9, a[ar9 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 10u) { fma_row4(&acc10, a[ar10 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 11u) { fma_row4(&acc11, a[ar11 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 12u) { fma_row4(&acc12, a[ar12 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 13u) { fma_row4(&acc13, a[ar13 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 14u) { fma_row4(&acc14, a[ar14 + kq], &b0, &b1, &b2, &b3); }
        if (RB > 15u) { fma_row4(&acc15, a[ar15 + kq], &b0, &b1, &b2, &b3); }
    }
    let c_base = p.c_off + model * p.c_model;
    if (RB > 0u) { store_row(row0, &acc0, c_base, origin.y); }
    if (RB > 1u) { store_row(row0 + 1u, &acc1, c_base, origin.y); }
    if (RB > 2u) { store_row(row0 + 2u, &acc2, c_base, origin.y); }
    if (RB > 3u) { store_row(row0 + 3u, &acc3, c_base, origin.y); }
    if (RB > 4u) { store_row(row0 + 4u, &acc4, c_base, origin.y); }
    if (RB > 5u) { store_row(row0 + 5u, &acc5, c_base, origin.y); }
    if (RB > 6u) { store_row(row0 + 6u, &acc6, c_base, origin.y); }
    if (RB > 7u) { store_row(row0 + 7u, &acc7, c_base, origin.y); }
    if (RB > 8u) { store_row(row0 + 8u, &acc8, c_base, origin.y); }
    if (RB > 9u) { store_row(row0 + 9u, &acc9, c_base, origin.y); }
    if (RB > 10u) { store_row(row0 + 10u, &acc10, c_base, origin.y); }
    if (RB > 11u) { store_row(row0 + 11u, &acc11, c_base, origin.y); }
    if (RB > 12u) { store_row(row0 + 12u, &acc12, c_base, origin.y); }
    if (RB > 13u) { store_row(row0 + 13u, &acc13, c_base, origin.y); }
    if (RB > 14u) { store_row(row0 + 14u, &acc14, c_base, origin.y); }
    if (RB > 15u) { store_row(row0 + 15u, &acc15, c_base, origin.y); }
}

// Rows of C come in quads here: one vec4 load of A gives four rows' factors (A[n][i0..i0+3] is contiguous
// in the layer's input), so RB is a multiple of 4, at most 32.
@compute @workgroup_size(WGX, WGY)
fn weight_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.y;
    if (states[model].rows == 0u) {
        return;
    }
    let origin = tile_origin(wg, lid);
    let q0 = origin.x / 4u; // first vec4 of A's row
    var cols: array<u32, MAX_CB>;
    for (var ci = 0u; ci < CB; ci++) {
        cols[ci] = min(origin.y + ci * WGX, p.cols4 - 1u);
    }
    let a_base = p.a_off + model * p.a_model;
    let b_base = p.b_off + model * p.b_model;
    let last_q = (p.rows + 3u) / 4u - 1u;
    var acc0: Row;  var acc1: Row;
    var acc2: Row;  var acc3: Row;
    var acc4: Row;  var acc5: Row;
    var acc6: Row;  var acc7: Row;
    var acc8: Row;  var acc9: Row;
    var acc10: Row; var acc11: Row;
    var acc12: Row; var acc13: Row;
    var acc14: Row; var acc15: Row;
    var acc16: Row; var acc17: Row;
    var acc18: Row; var acc19: Row;
    var acc20: Row; var acc21: Row;
    var acc22: Row; var acc23: Row;
    var acc24: Row; var acc25: Row;
    var acc26: Row; var acc27: Row;
    var acc28: Row; var acc29: Row;
    var acc30: Row; var acc31: Row;
    for (var n = 0u; n < p.depth; n++) {
        var d = load_b(b_base + n * p.b_row, &cols);
        let an = a_base + n * p.a_row;
        if (RB > 0u) {
            let v = a[an + min(q0, last_q)];
            fma_row1(&acc0, v.x, &d); fma_row1(&acc1, v.y, &d); fma_row1(&acc2, v.z, &d); fma_row1(&acc3, v.w, &d);
        }
        if (RB > 4u) {
            let v = a[an + min(q0 + 1u, last_q)];
            fma_row1(&acc4, v.x, &d); fma_row1(&acc5, v.y, &d); fma_row1(&acc6, v.z, &d); fma_row1(&acc7, v.w, &d);
        }
        if (RB > 8u) {
            let v = a[an + min(q0 + 2u, last_q)];
            fma_row1(&acc8, v.x, &d); fma_row1(&acc9, v.y, &d); fma_row1(&acc10, v.z, &d); fma_row1(&acc11, v.w, &d);
        }
        if (RB > 12u) {
            let v = a[an + min(q0 + 3u, last_q)];
            fma_row1(&acc12, v.x, &d); fma_row1(&acc13, v.y, &d); fma_row1(&acc14, v.z, &d); fma_row1(&acc15, v.w, &d);
        }
        if (RB > 16u) {
            let v = a[an + min(q0 + 4u, last_q)];
            fma_row1(&acc16, v.x, &d); fma_row1(&acc17, v.y, &d); fma_row1(&acc18, v.z, &d); fma_row1(&acc19, v.w, &d);
        }
        if (RB > 20u) {
            let v = a[an + min(q0 + 5u, last_q)];
            fma_row1(&acc20, v.x, &d); fma_row1(&acc21, v.y, &d); fma_row1(&acc22, v.z, &d); fma_row1(&acc23, v.w, &d);
        }
        if (RB > 24u) {
            let v = a[an + min(q0 + 6u, last_q)];
            fma_row1(&acc24, v.x, &d); fma_row1(&acc25, v.y, &d); fma_row1(&acc26, v.z, &d); fma_row1(&acc27, v.w, &d);
        }
        if (RB > 28u) {
            let v = a[an + min(q0 + 7u, last_q)];
            fma_row1(&acc28, v.x, &d); fma_row1(&acc29, v.y, &d); fma_row1(&acc30, v.z, &d); fma_row1(&acc31, v.w, &d);
        }
    }
    let c_base = p.c_off + model * p.c_model;
    let r0 = origin.x;
    if (RB > 0u) {
        store_row(r0, &acc0, c_base, origin.y); store_row(r0 + 1u, &acc1, c_base, origin.y);
        store_row(r0 + 2u, &acc2, c_base, origin.y); store_row(r0 + 3u, &acc3, c_base, origin.y);
    }
    if (RB > 4u) {
        store_row(r0 + 4u, &acc4, c_base, origin.y); store_row(r0 + 5u, &acc5, c_base, origin.y);
        store_row(r0 + 6u, &acc6, c_base, origin.y); store_row(r0 + 7u, &acc7, c_base, origin.y);
    }
    if (RB > 8u) {
        store_row(r0 + 8u, &acc8, c_base, origin.y); store_row(r0 + 9u, &acc9, c_base, origin.y);
        store_row(r0 + 10u, &acc10, c_base, origin.y); store_row(r0 + 11u, &acc11, c_base, origin.y);
    }
    if (RB > 12u) {
        store_row(r0 + 12u, &acc12, c_base, origin.y); store_row(r0 + 13u, &acc13, c_base, origin.y);
        store_row(r0 + 14u, &acc14, c_base, origin.y); store_row(r0 + 15u, &acc15, c_base, origin.y);
    }
    if (RB > 16u) {
        store_row(r0 + 16u, &acc16, c_base, origin.y); store_row(r0 + 17u, &acc17, c_base, origin.y);
        store_row(r0 + 18u, &acc18, c_base, origin.y); store_row(r0 + 19u, &acc19, c_base, origin.y);
    }
    if (RB > 20u) {
        store_row(r0 + 20u, &acc20, c_base, origin.y); store_row(r0 + 21u, &acc21, c_base, origin.y);
        store_row(r0 + 22u, &acc22, c_base, origin.y); store_row(r0 + 23u, &acc23, c_base, origin.y);
    }
    if (RB > 24u) {
        store_row(r0 + 24u, &acc24, c_base, origin.y); store_row(r0 + 25u, &acc25, c_base, origin.y);
        store_row(r0 + 26u, &acc26, c_base, origin.y); store_row(r0 + 27u, &acc27, c_base, origin.y);
    }
    if (RB > 28u) {
        store_row(r0 + 28u, &acc28, c_base, origin.y); store_row(r0 + 29u, &acc29, c_base, origin.y);
        store_row(r0 + 30u, &acc30, c_base, origin.y); store_row(r0 + 31u, &acc31, c_base, origin.y);
    }
}

// C = transpose of the block A ([rows][cols4·4] → [cols4·4][rows]; rows is a multiple of 4 here).
// One invocation per vec4 of C, gathering its four floats from four rows of A: every vec4 has one writer
// (an invocation per float would have four invocations, in different workgroups, storing components of
// one vec4, which a backend may compile as load–insert–store of the whole vector). The blocks are small
// and this runs once per layer and step. Idle models keep their stale copy: a model's first active step
// refreshes it before anything reads it.
@compute @workgroup_size(64)
fn transpose(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wg: vec3<u32>) {
    let model = wg.y;
    let rows4 = p.rows / 4u;
    let o = gid.x;
    if (o >= rows4 * 4u * p.cols4 || states[model].rows == 0u) {
        return;
    }
    let j = o / rows4;       // row of C: column j of A
    let i = 4u * (o % rows4); // first of the four rows of A
    let src = p.a_off + model * p.a_model + i * p.cols4 + j / 4u;
    let e = j % 4u;
    let v = vec4<f32>(a[src][e], a[src + p.cols4][e], a[src + 2u * p.cols4][e], a[src + 3u * p.cols4][e]);
    c[p.c_off + model * p.c_model + o] = v;
}
