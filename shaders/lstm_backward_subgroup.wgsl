// BPTT with the gate gradients handed between lanes by subgroup shuffles instead of memory and a
// barrier, for adapters whose workgroup can be exactly one subgroup (the host checks WGX is the subgroup
// size, WGY = 1 and RB covers the batch). Appended to lstm_backward.wgsl, whose bindings and helpers it
// uses; compiled only where the device has subgroup operations.
//
// Lane s owns quads of units s, s + WGX, … for every row and keeps their gate gradients in registers;
// dh_{t−1} = dz_t·Uᵀ takes dz(row, u) from its owner (lane (u/4) mod WGX) by a shuffle.

@compute @workgroup_size(WGX, 1)
fn main_subgroup(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
    let model = wg.x;
    if (states[model].rows == 0u) {
        return;
    }
    let t_base = setup(model, lane, lane);
    var h0: Row;  var h1: Row;  var h2: Row;  var h3: Row;  var h4: Row;  var h5: Row;
    var h6: Row;  var h7: Row;  var h8: Row;  var h9: Row;  var h10: Row; var h11: Row;
    var h12: Row; var h13: Row; var h14: Row; var h15: Row;
    var d0: Row;  var d1: Row;  var d2: Row;  var d3: Row;  var d4: Row;  var d5: Row;
    var d6: Row;  var d7: Row;  var d8: Row;  var d9: Row;  var d10: Row; var d11: Row;
    var d12: Row; var d13: Row; var d14: Row; var d15: Row;
    var z0: Dz;  var z1: Dz;  var z2: Dz;  var z3: Dz;  var z4: Dz;  var z5: Dz;
    var z6: Dz;  var z7: Dz;  var z8: Dz;  var z9: Dz;  var z10: Dz; var z11: Dz;
    var z12: Dz; var z13: Dz; var z14: Dz; var z15: Dz;
    for (var s = 0u; s < cfg.steps; s++) {
        let t = cfg.steps - 1u - s;
        if (RB > 0u) { gate_grads(t, 0u, &h0, &d0, &z0); }
        if (RB > 1u) { gate_grads(t, 1u, &h1, &d1, &z1); }
        if (RB > 2u) { gate_grads(t, 2u, &h2, &d2, &z2); }
        if (RB > 3u) { gate_grads(t, 3u, &h3, &d3, &z3); }
        if (RB > 4u) { gate_grads(t, 4u, &h4, &d4, &z4); }
        if (RB > 5u) { gate_grads(t, 5u, &h5, &d5, &z5); }
        if (RB > 6u) { gate_grads(t, 6u, &h6, &d6, &z6); }
        if (RB > 7u) { gate_grads(t, 7u, &h7, &d7, &z7); }
        if (RB > 8u) { gate_grads(t, 8u, &h8, &d8, &z8); }
        if (RB > 9u) { gate_grads(t, 9u, &h9, &d9, &z9); }
        if (RB > 10u) { gate_grads(t, 10u, &h10, &d10, &z10); }
        if (RB > 11u) { gate_grads(t, 11u, &h11, &d11, &z11); }
        if (RB > 12u) { gate_grads(t, 12u, &h12, &d12, &z12); }
        if (RB > 13u) { gate_grads(t, 13u, &h13, &d13, &z13); }
        if (RB > 14u) { gate_grads(t, 14u, &h14, &d14, &z14); }
        if (RB > 15u) { gate_grads(t, 15u, &h15, &d15, &z15); }
        var a0: Row;  var a1: Row;  var a2: Row;  var a3: Row;  var a4: Row;  var a5: Row;
        var a6: Row;  var a7: Row;  var a8: Row;  var a9: Row;  var a10: Row; var a11: Row;
        var a12: Row; var a13: Row; var a14: Row; var a15: Row;
        // dh(row, quads) = Σ_u dz(row, u)·Uᵀ[4u..4u+4][quads]; dz(row, u) lives in lane q mod WGX,
        // slot 4·(q / WGX) + u mod 4, where q = u / 4.
        for (var cq = 0u; cq < CB; cq++) {
            for (var l = 0u; l < WGX; l++) {
                for (var e = 0u; e < 4u; e++) {
                    let u = 4u * (cq * WGX + l) + e;
                    if (u >= p.units) {
                        break;
                    }
                    var w0 = load_ut(4u * u, t_base);
                    var w1 = load_ut(4u * u + 1u, t_base);
                    var w2 = load_ut(4u * u + 2u, t_base);
                    var w3 = load_ut(4u * u + 3u, t_base);
                    let slot = 4u * cq + e;
                    if (RB > 0u) { fma_row4(&a0, subgroupShuffle(z0[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 1u) { fma_row4(&a1, subgroupShuffle(z1[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 2u) { fma_row4(&a2, subgroupShuffle(z2[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 3u) { fma_row4(&a3, subgroupShuffle(z3[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 4u) { fma_row4(&a4, subgroupShuffle(z4[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 5u) { fma_row4(&a5, subgroupShuffle(z5[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 6u) { fma_row4(&a6, subgroupShuffle(z6[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 7u) { fma_row4(&a7, subgroupShuffle(z7[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 8u) { fma_row4(&a8, subgroupShuffle(z8[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 9u) { fma_row4(&a9, subgroupShuffle(z9[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 10u) { fma_row4(&a10, subgroupShuffle(z10[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 11u) { fma_row4(&a11, subgroupShuffle(z11[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 12u) { fma_row4(&a12, subgroupShuffle(z12[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 13u) { fma_row4(&a13, subgroupShuffle(z13[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 14u) { fma_row4(&a14, subgroupShuffle(z14[slot], l), &w0, &w1, &w2, &w3); }
                    if (RB > 15u) { fma_row4(&a15, subgroupShuffle(z15[slot], l), &w0, &w1, &w2, &w3); }
                }
            }
        }
        h0 = a0; h1 = a1; h2 = a2; h3 = a3; h4 = a4; h5 = a5; h6 = a6; h7 = a7;
        h8 = a8; h9 = a9; h10 = a10; h11 = a11; h12 = a12; h13 = a13; h14 = a14; h15 = a15;
    }
    if (RB > 0u) { store_state(0u, &h0, &d0); }
    if (RB > 1u) { store_state(1u, &h1, &d1); }
    if (RB > 2u) { store_state(2u, &h2, &d2); }
    if (RB > 3u) { store_state(3u, &h3, &d3); }
    if (RB > 4u) { store_state(4u, &h4, &d4); }
    if (RB > 5u) { store_state(5u, &h5, &d5); }
    if (RB > 6u) { store_state(6u, &h6, &d6); }
    if (RB > 7u) { store_state(7u, &h7, &d7); }
    if (RB > 8u) { store_state(8u, &h8, &d8); }
    if (RB > 9u) { store_state(9u, &h9, &d9); }
    if (RB > 10u) { store_state(10u, &h10, &d10); }
    if (RB > 11u) { store_state(11u, &h11, &d11); }
    if (RB > 12u) { store_state(12u, &h12, &d12); }
    if (RB > 13u) { store_state(13u, &h13, &d13); }
    if (RB > 14u) { store_state(14u, &h14, &d14); }
    if (RB > 15u) { store_state(15u, &h15, &d15); }
}
