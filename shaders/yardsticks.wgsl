// Yardsticks for the bench (benches/kernels.rs) and `gpulstm tune`: what a plain kernel reaches on this
// adapter for a given product shape, so every engine kernel is judged against the same shape in the same
// run. `gpulstm check` tests both against the CPU.
//
// matmul: batched row-major C = A·B, A [rows][4·depth4], B [4·depth4][4·cols4], C [rows][4·cols4], with the
// same register blocking as the engine (blocks.wgsl) and nothing else: no strides, offsets, bias, idle
// models or transposes. Products come in groups that share B (grid y = product; model = product / group),
// so "one recurrence step of every model at every time step" is one dispatch whose B stays per model, as
// in the recurrence.
// fma_peak: 128 FMAs per invocation and step of the loop with no memory traffic in the loop: the adapter's
// arithmetic peak. 32 vec4 accumulators and 12 vec4 operands (176 floats) stay inside the 255 registers
// of an NVIDIA thread; 64 accumulators (an earlier version) would spill there and time the spills.

struct Mat {
    rows: u32, cols4: u32, depth4: u32, group: u32,
    a_prod: u32, b_model: u32, c_prod: u32, k: u32,   // k: fma_peak's loop count
}

@group(0) @binding(0) var<uniform> p: Mat;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;

fn load_b(row_base: u32, cols: ptr<function, array<u32, MAX_CB>>) -> Row {
    var v: Row;
    for (var ci = 0u; ci < CB; ci++) {
        v[ci] = b[row_base + (*cols)[ci]];
    }
    return v;
}

fn store_row(row: u32, acc: ptr<function, Row>, c_base: u32, col0: u32) {
    if (row >= p.rows) {
        return;
    }
    for (var ci = 0u; ci < CB; ci++) {
        let j = col0 + ci * WGX;
        if (j < p.cols4) {
            c[c_base + row * p.cols4 + j] = (*acc)[ci];
        }
    }
}

@compute @workgroup_size(WGX, WGY)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let product = wg.y;
    let col_tiles = (p.cols4 + WGX * CB - 1u) / (WGX * CB);
    let row0 = ((wg.x / col_tiles) * WGY + lid.y) * RB;
    let col0 = (wg.x % col_tiles) * WGX * CB + lid.x;
    var cols: array<u32, MAX_CB>;
    for (var ci = 0u; ci < CB; ci++) {
        cols[ci] = min(col0 + ci * WGX, p.cols4 - 1u);
    }
    let a_base = product * p.a_prod;
    let b_base = (product / p.group) * p.b_model;
    let last = p.rows - 1u;
    let ar0 = a_base + min(row0, last) * p.depth4;        var acc0: Row;
    let ar1 = a_base + min(row0 + 1u, last) * p.depth4;   var acc1: Row;
    let ar2 = a_base + min(row0 + 2u, last) * p.depth4;   var acc2: Row;
    let ar3 = a_base + min(row0 + 3u, last) * p.depth4;   var acc3: Row;
    let ar4 = a_base + min(row0 + 4u, last) * p.depth4;   var acc4: Row;
    let ar5 = a_base + min(row0 + 5u, last) * p.depth4;   var acc5: Row;
    let ar6 = a_base + min(row0 + 6u, last) * p.depth4;   var acc6: Row;
    let ar7 = a_base + min(row0 + 7u, last) * p.depth4;   var acc7: Row;
    let ar8 = a_base + min(row0 + 8u, last) * p.depth4;   var acc8: Row;
    let ar9 = a_base + min(row0 + 9u, last) * p.depth4;   var acc9: Row;
    let ar10 = a_base + min(row0 + 10u, last) * p.depth4; var acc10: Row;
    let ar11 = a_base + min(row0 + 11u, last) * p.depth4; var acc11: Row;
    let ar12 = a_base + min(row0 + 12u, last) * p.depth4; var acc12: Row;
    let ar13 = a_base + min(row0 + 13u, last) * p.depth4; var acc13: Row;
    let ar14 = a_base + min(row0 + 14u, last) * p.depth4; var acc14: Row;
    let ar15 = a_base + min(row0 + 15u, last) * p.depth4; var acc15: Row;
    for (var kq = 0u; kq < p.depth4; kq++) {
        let bk = b_base + 4u * kq * p.cols4;
        var b0 = load_b(bk, &cols);
        var b1 = load_b(bk + p.cols4, &cols);
        var b2 = load_b(bk + 2u * p.cols4, &cols);
        var b3 = load_b(bk + 3u * p.cols4, &cols);
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
    let c_base = product * p.c_prod;
    if (RB > 0u) { store_row(row0, &acc0, c_base, col0); }
    if (RB > 1u) { store_row(row0 + 1u, &acc1, c_base, col0); }
    if (RB > 2u) { store_row(row0 + 2u, &acc2, c_base, col0); }
    if (RB > 3u) { store_row(row0 + 3u, &acc3, c_base, col0); }
    if (RB > 4u) { store_row(row0 + 4u, &acc4, c_base, col0); }
    if (RB > 5u) { store_row(row0 + 5u, &acc5, c_base, col0); }
    if (RB > 6u) { store_row(row0 + 6u, &acc6, c_base, col0); }
    if (RB > 7u) { store_row(row0 + 7u, &acc7, c_base, col0); }
    if (RB > 8u) { store_row(row0 + 8u, &acc8, c_base, col0); }
    if (RB > 9u) { store_row(row0 + 9u, &acc9, c_base, col0); }
    if (RB > 10u) { store_row(row0 + 10u, &acc10, c_base, col0); }
    if (RB > 11u) { store_row(row0 + 11u, &acc11, c_base, col0); }
    if (RB > 12u) { store_row(row0 + 12u, &acc12, c_base, col0); }
    if (RB > 13u) { store_row(row0 + 13u, &acc13, c_base, col0); }
    if (RB > 14u) { store_row(row0 + 14u, &acc14, c_base, col0); }
    if (RB > 15u) { store_row(row0 + 15u, &acc15, c_base, col0); }
}

@compute @workgroup_size(8, 8, 1)
fn fma_peak(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    // Seeds from the inputs so the compiler cannot fold the loop away.
    let x = a[lid.x].x;
    let y = b[lid.y].x;
    let a0 = vec4<f32>(x + f32(0u));
    let a1 = vec4<f32>(x + f32(1u));
    let a2 = vec4<f32>(x + f32(2u));
    let a3 = vec4<f32>(x + f32(3u));
    let a4 = vec4<f32>(x + f32(4u));
    let a5 = vec4<f32>(x + f32(5u));
    let a6 = vec4<f32>(x + f32(6u));
    let a7 = vec4<f32>(x + f32(7u));
    let b0 = vec4<f32>(y, y * 0.5, y * 0.25, y * 0.125) + f32(0u);
    let b1 = vec4<f32>(y, y * 0.5, y * 0.25, y * 0.125) + f32(1u);
    let b2 = vec4<f32>(y, y * 0.5, y * 0.25, y * 0.125) + f32(2u);
    let b3 = vec4<f32>(y, y * 0.5, y * 0.25, y * 0.125) + f32(3u);
    var c0_0 = vec4<f32>(0.0);
    var c0_1 = vec4<f32>(0.0);
    var c0_2 = vec4<f32>(0.0);
    var c0_3 = vec4<f32>(0.0);
    var c1_0 = vec4<f32>(0.0);
    var c1_1 = vec4<f32>(0.0);
    var c1_2 = vec4<f32>(0.0);
    var c1_3 = vec4<f32>(0.0);
    var c2_0 = vec4<f32>(0.0);
    var c2_1 = vec4<f32>(0.0);
    var c2_2 = vec4<f32>(0.0);
    var c2_3 = vec4<f32>(0.0);
    var c3_0 = vec4<f32>(0.0);
    var c3_1 = vec4<f32>(0.0);
    var c3_2 = vec4<f32>(0.0);
    var c3_3 = vec4<f32>(0.0);
    var c4_0 = vec4<f32>(0.0);
    var c4_1 = vec4<f32>(0.0);
    var c4_2 = vec4<f32>(0.0);
    var c4_3 = vec4<f32>(0.0);
    var c5_0 = vec4<f32>(0.0);
    var c5_1 = vec4<f32>(0.0);
    var c5_2 = vec4<f32>(0.0);
    var c5_3 = vec4<f32>(0.0);
    var c6_0 = vec4<f32>(0.0);
    var c6_1 = vec4<f32>(0.0);
    var c6_2 = vec4<f32>(0.0);
    var c6_3 = vec4<f32>(0.0);
    var c7_0 = vec4<f32>(0.0);
    var c7_1 = vec4<f32>(0.0);
    var c7_2 = vec4<f32>(0.0);
    var c7_3 = vec4<f32>(0.0);
    for (var k = 0u; k < p.k; k = k + 1u) {
        c0_0 = fma(a0, b0, c0_0); c0_1 = fma(a0, b1, c0_1); c0_2 = fma(a0, b2, c0_2); c0_3 = fma(a0, b3, c0_3);
        c1_0 = fma(a1, b0, c1_0); c1_1 = fma(a1, b1, c1_1); c1_2 = fma(a1, b2, c1_2); c1_3 = fma(a1, b3, c1_3);
        c2_0 = fma(a2, b0, c2_0); c2_1 = fma(a2, b1, c2_1); c2_2 = fma(a2, b2, c2_2); c2_3 = fma(a2, b3, c2_3);
        c3_0 = fma(a3, b0, c3_0); c3_1 = fma(a3, b1, c3_1); c3_2 = fma(a3, b2, c3_2); c3_3 = fma(a3, b3, c3_3);
        c4_0 = fma(a4, b0, c4_0); c4_1 = fma(a4, b1, c4_1); c4_2 = fma(a4, b2, c4_2); c4_3 = fma(a4, b3, c4_3);
        c5_0 = fma(a5, b0, c5_0); c5_1 = fma(a5, b1, c5_1); c5_2 = fma(a5, b2, c5_2); c5_3 = fma(a5, b3, c5_3);
        c6_0 = fma(a6, b0, c6_0); c6_1 = fma(a6, b1, c6_1); c6_2 = fma(a6, b2, c6_2); c6_3 = fma(a6, b3, c6_3);
        c7_0 = fma(a7, b0, c7_0); c7_1 = fma(a7, b1, c7_1); c7_2 = fma(a7, b2, c7_2); c7_3 = fma(a7, b3, c7_3);
    }
    var t = vec4<f32>(0.0);
    t = t + c0_0 + c0_1 + c0_2 + c0_3;
    t = t + c1_0 + c1_1 + c1_2 + c1_3;
    t = t + c2_0 + c2_1 + c2_2 + c2_3;
    t = t + c3_0 + c3_1 + c3_2 + c3_3;
    t = t + c4_0 + c4_1 + c4_2 + c4_3;
    t = t + c5_0 + c5_1 + c5_2 + c5_3;
    t = t + c6_0 + c6_1 + c6_2 + c6_3;
    t = t + c7_0 + c7_1 + c7_2 + c7_3;
    // One result per invocation, so every FMA is live; a whole vec4 each (the sum in x), since
    // invocations storing components of one shared vec4 would race.
    let at = (wg.y * groups.x + wg.x) * 64u + lid.y * 8u + lid.x;
    c[at] = vec4<f32>(t.x + t.y + t.z + t.w, 0.0, 0.0, 0.0);
}
