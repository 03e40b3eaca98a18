// Bench-only probes of what the adapter can do, appended to gemm.wgsl (same bindings and `Gemm` block);
// benches/kernels.rs prints both beside the engine's own GEMM so "% of ceiling" is measured against the
// best plain matmul found for the adapter, not only against the engine's kernel.
//
// matmul_wide: a plain matmul with a 16×16 block of C per invocation (workgroup 8×8 → a 128×128 tile),
// columns 8 apart within a block so neighbouring invocations still read neighbouring addresses of B.
// On lavapipe (Mesa 22.3) an element loaded from a storage buffer costs far more than an FMA, and no less
// when loaded as part of a vec4 or from an address shared by the whole workgroup (measured side by side
// while writing this file), so the kernel's speed follows the FMAs per loaded element: 16·16 / (16 + 16) =
// 8 here against 2 for gemm.wgsl's 4×4 blocks. The engine keeps 4×4 blocks because its products are small
// (50 × 200 per model), where 128×128 tiles would be mostly padding. Written out rather than with arrays
// and loops: lavapipe ran the array-and-loop form of the same block 2× slower.
// Requires m and n to be multiples of 128 and ignores the model axis (the bench runs it on 1024³).
//
// fma_peak: the same 256 FMAs per invocation and step of k as matmul_wide, with no memory traffic in the
// loop: the adapter's arithmetic peak for comparison.

@compute @workgroup_size(8, 8, 1)
fn matmul_wide(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let a_base = p.a_off + (wg.y * 128u + lid.y) * p.a_row;
    let b_base = p.b_off + (wg.x * 128u + lid.x) * p.b_col;
    let a_step = 8u * p.a_row;
    let b_step = 8u * p.b_col;
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
    var c8_0 = vec4<f32>(0.0);
    var c8_1 = vec4<f32>(0.0);
    var c8_2 = vec4<f32>(0.0);
    var c8_3 = vec4<f32>(0.0);
    var c9_0 = vec4<f32>(0.0);
    var c9_1 = vec4<f32>(0.0);
    var c9_2 = vec4<f32>(0.0);
    var c9_3 = vec4<f32>(0.0);
    var c10_0 = vec4<f32>(0.0);
    var c10_1 = vec4<f32>(0.0);
    var c10_2 = vec4<f32>(0.0);
    var c10_3 = vec4<f32>(0.0);
    var c11_0 = vec4<f32>(0.0);
    var c11_1 = vec4<f32>(0.0);
    var c11_2 = vec4<f32>(0.0);
    var c11_3 = vec4<f32>(0.0);
    var c12_0 = vec4<f32>(0.0);
    var c12_1 = vec4<f32>(0.0);
    var c12_2 = vec4<f32>(0.0);
    var c12_3 = vec4<f32>(0.0);
    var c13_0 = vec4<f32>(0.0);
    var c13_1 = vec4<f32>(0.0);
    var c13_2 = vec4<f32>(0.0);
    var c13_3 = vec4<f32>(0.0);
    var c14_0 = vec4<f32>(0.0);
    var c14_1 = vec4<f32>(0.0);
    var c14_2 = vec4<f32>(0.0);
    var c14_3 = vec4<f32>(0.0);
    var c15_0 = vec4<f32>(0.0);
    var c15_1 = vec4<f32>(0.0);
    var c15_2 = vec4<f32>(0.0);
    var c15_3 = vec4<f32>(0.0);
    for (var k = 0u; k < p.k; k = k + 1u) {
        let ak = a_base + k * p.a_col;
        let bk = b_base + k * p.b_row;
        let b0 = vec4<f32>(b[bk + 0u * b_step], b[bk + 1u * b_step], b[bk + 2u * b_step], b[bk + 3u * b_step]);
        let b1 = vec4<f32>(b[bk + 4u * b_step], b[bk + 5u * b_step], b[bk + 6u * b_step], b[bk + 7u * b_step]);
        let b2 = vec4<f32>(b[bk + 8u * b_step], b[bk + 9u * b_step], b[bk + 10u * b_step], b[bk + 11u * b_step]);
        let b3 = vec4<f32>(b[bk + 12u * b_step], b[bk + 13u * b_step], b[bk + 14u * b_step], b[bk + 15u * b_step]);
        let a0 = vec4<f32>(a[ak + 0u * a_step]);
        c0_0 = fma(a0, b0, c0_0); c0_1 = fma(a0, b1, c0_1); c0_2 = fma(a0, b2, c0_2); c0_3 = fma(a0, b3, c0_3);
        let a1 = vec4<f32>(a[ak + 1u * a_step]);
        c1_0 = fma(a1, b0, c1_0); c1_1 = fma(a1, b1, c1_1); c1_2 = fma(a1, b2, c1_2); c1_3 = fma(a1, b3, c1_3);
        let a2 = vec4<f32>(a[ak + 2u * a_step]);
        c2_0 = fma(a2, b0, c2_0); c2_1 = fma(a2, b1, c2_1); c2_2 = fma(a2, b2, c2_2); c2_3 = fma(a2, b3, c2_3);
        let a3 = vec4<f32>(a[ak + 3u * a_step]);
        c3_0 = fma(a3, b0, c3_0); c3_1 = fma(a3, b1, c3_1); c3_2 = fma(a3, b2, c3_2); c3_3 = fma(a3, b3, c3_3);
        let a4 = vec4<f32>(a[ak + 4u * a_step]);
        c4_0 = fma(a4, b0, c4_0); c4_1 = fma(a4, b1, c4_1); c4_2 = fma(a4, b2, c4_2); c4_3 = fma(a4, b3, c4_3);
        let a5 = vec4<f32>(a[ak + 5u * a_step]);
        c5_0 = fma(a5, b0, c5_0); c5_1 = fma(a5, b1, c5_1); c5_2 = fma(a5, b2, c5_2); c5_3 = fma(a5, b3, c5_3);
        let a6 = vec4<f32>(a[ak + 6u * a_step]);
        c6_0 = fma(a6, b0, c6_0); c6_1 = fma(a6, b1, c6_1); c6_2 = fma(a6, b2, c6_2); c6_3 = fma(a6, b3, c6_3);
        let a7 = vec4<f32>(a[ak + 7u * a_step]);
        c7_0 = fma(a7, b0, c7_0); c7_1 = fma(a7, b1, c7_1); c7_2 = fma(a7, b2, c7_2); c7_3 = fma(a7, b3, c7_3);
        let a8 = vec4<f32>(a[ak + 8u * a_step]);
        c8_0 = fma(a8, b0, c8_0); c8_1 = fma(a8, b1, c8_1); c8_2 = fma(a8, b2, c8_2); c8_3 = fma(a8, b3, c8_3);
        let a9 = vec4<f32>(a[ak + 9u * a_step]);
        c9_0 = fma(a9, b0, c9_0); c9_1 = fma(a9, b1, c9_1); c9_2 = fma(a9, b2, c9_2); c9_3 = fma(a9, b3, c9_3);
        let a10 = vec4<f32>(a[ak + 10u * a_step]);
        c10_0 = fma(a10, b0, c10_0); c10_1 = fma(a10, b1, c10_1); c10_2 = fma(a10, b2, c10_2); c10_3 = fma(a10, b3, c10_3);
        let a11 = vec4<f32>(a[ak + 11u * a_step]);
        c11_0 = fma(a11, b0, c11_0); c11_1 = fma(a11, b1, c11_1); c11_2 = fma(a11, b2, c11_2); c11_3 = fma(a11, b3, c11_3);
        let a12 = vec4<f32>(a[ak + 12u * a_step]);
        c12_0 = fma(a12, b0, c12_0); c12_1 = fma(a12, b1, c12_1); c12_2 = fma(a12, b2, c12_2); c12_3 = fma(a12, b3, c12_3);
        let a13 = vec4<f32>(a[ak + 13u * a_step]);
        c13_0 = fma(a13, b0, c13_0); c13_1 = fma(a13, b1, c13_1); c13_2 = fma(a13, b2, c13_2); c13_3 = fma(a13, b3, c13_3);
        let a14 = vec4<f32>(a[ak + 14u * a_step]);
        c14_0 = fma(a14, b0, c14_0); c14_1 = fma(a14, b1, c14_1); c14_2 = fma(a14, b2, c14_2); c14_3 = fma(a14, b3, c14_3);
        let a15 = vec4<f32>(a[ak + 15u * a_step]);
        c15_0 = fma(a15, b0, c15_0); c15_1 = fma(a15, b1, c15_1); c15_2 = fma(a15, b2, c15_2); c15_3 = fma(a15, b3, c15_3);
    }
    let c_base = p.c_off + (wg.y * 128u + lid.y) * p.c_row + (wg.x * 128u + lid.x) * p.c_col;
    store4(c_base + 0u * 8u * p.c_row + 0u * 8u * p.c_col, c0_0); store4(c_base + 0u * 8u * p.c_row + 4u * 8u * p.c_col, c0_1); store4(c_base + 0u * 8u * p.c_row + 8u * 8u * p.c_col, c0_2); store4(c_base + 0u * 8u * p.c_row + 12u * 8u * p.c_col, c0_3);
    store4(c_base + 1u * 8u * p.c_row + 0u * 8u * p.c_col, c1_0); store4(c_base + 1u * 8u * p.c_row + 4u * 8u * p.c_col, c1_1); store4(c_base + 1u * 8u * p.c_row + 8u * 8u * p.c_col, c1_2); store4(c_base + 1u * 8u * p.c_row + 12u * 8u * p.c_col, c1_3);
    store4(c_base + 2u * 8u * p.c_row + 0u * 8u * p.c_col, c2_0); store4(c_base + 2u * 8u * p.c_row + 4u * 8u * p.c_col, c2_1); store4(c_base + 2u * 8u * p.c_row + 8u * 8u * p.c_col, c2_2); store4(c_base + 2u * 8u * p.c_row + 12u * 8u * p.c_col, c2_3);
    store4(c_base + 3u * 8u * p.c_row + 0u * 8u * p.c_col, c3_0); store4(c_base + 3u * 8u * p.c_row + 4u * 8u * p.c_col, c3_1); store4(c_base + 3u * 8u * p.c_row + 8u * 8u * p.c_col, c3_2); store4(c_base + 3u * 8u * p.c_row + 12u * 8u * p.c_col, c3_3);
    store4(c_base + 4u * 8u * p.c_row + 0u * 8u * p.c_col, c4_0); store4(c_base + 4u * 8u * p.c_row + 4u * 8u * p.c_col, c4_1); store4(c_base + 4u * 8u * p.c_row + 8u * 8u * p.c_col, c4_2); store4(c_base + 4u * 8u * p.c_row + 12u * 8u * p.c_col, c4_3);
    store4(c_base + 5u * 8u * p.c_row + 0u * 8u * p.c_col, c5_0); store4(c_base + 5u * 8u * p.c_row + 4u * 8u * p.c_col, c5_1); store4(c_base + 5u * 8u * p.c_row + 8u * 8u * p.c_col, c5_2); store4(c_base + 5u * 8u * p.c_row + 12u * 8u * p.c_col, c5_3);
    store4(c_base + 6u * 8u * p.c_row + 0u * 8u * p.c_col, c6_0); store4(c_base + 6u * 8u * p.c_row + 4u * 8u * p.c_col, c6_1); store4(c_base + 6u * 8u * p.c_row + 8u * 8u * p.c_col, c6_2); store4(c_base + 6u * 8u * p.c_row + 12u * 8u * p.c_col, c6_3);
    store4(c_base + 7u * 8u * p.c_row + 0u * 8u * p.c_col, c7_0); store4(c_base + 7u * 8u * p.c_row + 4u * 8u * p.c_col, c7_1); store4(c_base + 7u * 8u * p.c_row + 8u * 8u * p.c_col, c7_2); store4(c_base + 7u * 8u * p.c_row + 12u * 8u * p.c_col, c7_3);
    store4(c_base + 8u * 8u * p.c_row + 0u * 8u * p.c_col, c8_0); store4(c_base + 8u * 8u * p.c_row + 4u * 8u * p.c_col, c8_1); store4(c_base + 8u * 8u * p.c_row + 8u * 8u * p.c_col, c8_2); store4(c_base + 8u * 8u * p.c_row + 12u * 8u * p.c_col, c8_3);
    store4(c_base + 9u * 8u * p.c_row + 0u * 8u * p.c_col, c9_0); store4(c_base + 9u * 8u * p.c_row + 4u * 8u * p.c_col, c9_1); store4(c_base + 9u * 8u * p.c_row + 8u * 8u * p.c_col, c9_2); store4(c_base + 9u * 8u * p.c_row + 12u * 8u * p.c_col, c9_3);
    store4(c_base + 10u * 8u * p.c_row + 0u * 8u * p.c_col, c10_0); store4(c_base + 10u * 8u * p.c_row + 4u * 8u * p.c_col, c10_1); store4(c_base + 10u * 8u * p.c_row + 8u * 8u * p.c_col, c10_2); store4(c_base + 10u * 8u * p.c_row + 12u * 8u * p.c_col, c10_3);
    store4(c_base + 11u * 8u * p.c_row + 0u * 8u * p.c_col, c11_0); store4(c_base + 11u * 8u * p.c_row + 4u * 8u * p.c_col, c11_1); store4(c_base + 11u * 8u * p.c_row + 8u * 8u * p.c_col, c11_2); store4(c_base + 11u * 8u * p.c_row + 12u * 8u * p.c_col, c11_3);
    store4(c_base + 12u * 8u * p.c_row + 0u * 8u * p.c_col, c12_0); store4(c_base + 12u * 8u * p.c_row + 4u * 8u * p.c_col, c12_1); store4(c_base + 12u * 8u * p.c_row + 8u * 8u * p.c_col, c12_2); store4(c_base + 12u * 8u * p.c_row + 12u * 8u * p.c_col, c12_3);
    store4(c_base + 13u * 8u * p.c_row + 0u * 8u * p.c_col, c13_0); store4(c_base + 13u * 8u * p.c_row + 4u * 8u * p.c_col, c13_1); store4(c_base + 13u * 8u * p.c_row + 8u * 8u * p.c_col, c13_2); store4(c_base + 13u * 8u * p.c_row + 12u * 8u * p.c_col, c13_3);
    store4(c_base + 14u * 8u * p.c_row + 0u * 8u * p.c_col, c14_0); store4(c_base + 14u * 8u * p.c_row + 4u * 8u * p.c_col, c14_1); store4(c_base + 14u * 8u * p.c_row + 8u * 8u * p.c_col, c14_2); store4(c_base + 14u * 8u * p.c_row + 12u * 8u * p.c_col, c14_3);
    store4(c_base + 15u * 8u * p.c_row + 0u * 8u * p.c_col, c15_0); store4(c_base + 15u * 8u * p.c_row + 4u * 8u * p.c_col, c15_1); store4(c_base + 15u * 8u * p.c_row + 8u * 8u * p.c_col, c15_2); store4(c_base + 15u * 8u * p.c_row + 12u * 8u * p.c_col, c15_3);
}

// Four results 8 columns apart (the column layout of matmul_wide's vec4 groups).
fn store4(at: u32, v: vec4<f32>) {
    let step = 8u * p.c_col;
    c[at] = v.x;
    c[at + step] = v.y;
    c[at + 2u * step] = v.z;
    c[at + 3u * step] = v.w;
}

@compute @workgroup_size(8, 8, 1)
fn fma_peak(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    // Seeds from the inputs so the compiler cannot fold the loop away.
    let x = a[lid.x];
    let y = b[lid.y];
    let a0 = vec4<f32>(x + f32(0u));
    let a1 = vec4<f32>(x + f32(1u));
    let a2 = vec4<f32>(x + f32(2u));
    let a3 = vec4<f32>(x + f32(3u));
    let a4 = vec4<f32>(x + f32(4u));
    let a5 = vec4<f32>(x + f32(5u));
    let a6 = vec4<f32>(x + f32(6u));
    let a7 = vec4<f32>(x + f32(7u));
    let a8 = vec4<f32>(x + f32(8u));
    let a9 = vec4<f32>(x + f32(9u));
    let a10 = vec4<f32>(x + f32(10u));
    let a11 = vec4<f32>(x + f32(11u));
    let a12 = vec4<f32>(x + f32(12u));
    let a13 = vec4<f32>(x + f32(13u));
    let a14 = vec4<f32>(x + f32(14u));
    let a15 = vec4<f32>(x + f32(15u));
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
    var c8_0 = vec4<f32>(0.0);
    var c8_1 = vec4<f32>(0.0);
    var c8_2 = vec4<f32>(0.0);
    var c8_3 = vec4<f32>(0.0);
    var c9_0 = vec4<f32>(0.0);
    var c9_1 = vec4<f32>(0.0);
    var c9_2 = vec4<f32>(0.0);
    var c9_3 = vec4<f32>(0.0);
    var c10_0 = vec4<f32>(0.0);
    var c10_1 = vec4<f32>(0.0);
    var c10_2 = vec4<f32>(0.0);
    var c10_3 = vec4<f32>(0.0);
    var c11_0 = vec4<f32>(0.0);
    var c11_1 = vec4<f32>(0.0);
    var c11_2 = vec4<f32>(0.0);
    var c11_3 = vec4<f32>(0.0);
    var c12_0 = vec4<f32>(0.0);
    var c12_1 = vec4<f32>(0.0);
    var c12_2 = vec4<f32>(0.0);
    var c12_3 = vec4<f32>(0.0);
    var c13_0 = vec4<f32>(0.0);
    var c13_1 = vec4<f32>(0.0);
    var c13_2 = vec4<f32>(0.0);
    var c13_3 = vec4<f32>(0.0);
    var c14_0 = vec4<f32>(0.0);
    var c14_1 = vec4<f32>(0.0);
    var c14_2 = vec4<f32>(0.0);
    var c14_3 = vec4<f32>(0.0);
    var c15_0 = vec4<f32>(0.0);
    var c15_1 = vec4<f32>(0.0);
    var c15_2 = vec4<f32>(0.0);
    var c15_3 = vec4<f32>(0.0);
    for (var k = 0u; k < p.k; k = k + 1u) {
        c0_0 = fma(a0, b0, c0_0); c0_1 = fma(a0, b1, c0_1); c0_2 = fma(a0, b2, c0_2); c0_3 = fma(a0, b3, c0_3);
        c1_0 = fma(a1, b0, c1_0); c1_1 = fma(a1, b1, c1_1); c1_2 = fma(a1, b2, c1_2); c1_3 = fma(a1, b3, c1_3);
        c2_0 = fma(a2, b0, c2_0); c2_1 = fma(a2, b1, c2_1); c2_2 = fma(a2, b2, c2_2); c2_3 = fma(a2, b3, c2_3);
        c3_0 = fma(a3, b0, c3_0); c3_1 = fma(a3, b1, c3_1); c3_2 = fma(a3, b2, c3_2); c3_3 = fma(a3, b3, c3_3);
        c4_0 = fma(a4, b0, c4_0); c4_1 = fma(a4, b1, c4_1); c4_2 = fma(a4, b2, c4_2); c4_3 = fma(a4, b3, c4_3);
        c5_0 = fma(a5, b0, c5_0); c5_1 = fma(a5, b1, c5_1); c5_2 = fma(a5, b2, c5_2); c5_3 = fma(a5, b3, c5_3);
        c6_0 = fma(a6, b0, c6_0); c6_1 = fma(a6, b1, c6_1); c6_2 = fma(a6, b2, c6_2); c6_3 = fma(a6, b3, c6_3);
        c7_0 = fma(a7, b0, c7_0); c7_1 = fma(a7, b1, c7_1); c7_2 = fma(a7, b2, c7_2); c7_3 = fma(a7, b3, c7_3);
        c8_0 = fma(a8, b0, c8_0); c8_1 = fma(a8, b1, c8_1); c8_2 = fma(a8, b2, c8_2); c8_3 = fma(a8, b3, c8_3);
        c9_0 = fma(a9, b0, c9_0); c9_1 = fma(a9, b1, c9_1); c9_2 = fma(a9, b2, c9_2); c9_3 = fma(a9, b3, c9_3);
        c10_0 = fma(a10, b0, c10_0); c10_1 = fma(a10, b1, c10_1); c10_2 = fma(a10, b2, c10_2); c10_3 = fma(a10, b3, c10_3);
        c11_0 = fma(a11, b0, c11_0); c11_1 = fma(a11, b1, c11_1); c11_2 = fma(a11, b2, c11_2); c11_3 = fma(a11, b3, c11_3);
        c12_0 = fma(a12, b0, c12_0); c12_1 = fma(a12, b1, c12_1); c12_2 = fma(a12, b2, c12_2); c12_3 = fma(a12, b3, c12_3);
        c13_0 = fma(a13, b0, c13_0); c13_1 = fma(a13, b1, c13_1); c13_2 = fma(a13, b2, c13_2); c13_3 = fma(a13, b3, c13_3);
        c14_0 = fma(a14, b0, c14_0); c14_1 = fma(a14, b1, c14_1); c14_2 = fma(a14, b2, c14_2); c14_3 = fma(a14, b3, c14_3);
        c15_0 = fma(a15, b0, c15_0); c15_1 = fma(a15, b1, c15_1); c15_2 = fma(a15, b2, c15_2); c15_3 = fma(a15, b3, c15_3);
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
    t = t + c8_0 + c8_1 + c8_2 + c8_3;
    t = t + c9_0 + c9_1 + c9_2 + c9_3;
    t = t + c10_0 + c10_1 + c10_2 + c10_3;
    t = t + c11_0 + c11_1 + c11_2 + c11_3;
    t = t + c12_0 + c12_1 + c12_2 + c12_3;
    t = t + c13_0 + c13_1 + c13_2 + c13_3;
    t = t + c14_0 + c14_1 + c14_2 + c14_3;
    t = t + c15_0 + c15_1 + c15_2 + c15_3;
    // One result per invocation, so every FMA is live.
    c[p.c_off + (wg.y * groups.x + wg.x) * 64u + lid.y * 8u + lid.x] = t.x + t.y + t.z + t.w;
}
