// Register blocking shared by the product kernels (gemm, lstm_forward, lstm_backward, yardsticks).
// Pipeline constants, chosen per adapter and product shape (src/gpu/tiles.rs): an invocation owns RB rows
// × CB vec4 columns of its product; a workgroup is WGX × WGY invocations.
//
// Kernels write their rows out one by one, each behind an `RB > r` test that the pipeline constant makes
// constant, and keep each row's CB columns in a small array: drivers then keep the whole block in
// registers. A loop over rows indexing one flat accumulator array made lavapipe keep it in memory and
// run 2.2× slower (a 1024³ product: 13 against 29 GFLOP/s, measured side by side).

override RB: u32 = 16u;
override CB: u32 = 4u;
override WGX: u32 = 8u;
override WGY: u32 = 1u;
const MAX_CB: u32 = 8u;

alias Row = array<vec4<f32>, MAX_CB>;

// acc += a.x·b0 + a.y·b1 + a.z·b2 + a.w·b3: one row of a block over four steps of the contraction.
fn fma_row4(acc: ptr<function, Row>, av: vec4<f32>, b0: ptr<function, Row>, b1: ptr<function, Row>,
            b2: ptr<function, Row>, b3: ptr<function, Row>) {
    for (var ci = 0u; ci < CB; ci++) {
        (*acc)[ci] = fma(vec4<f32>(av.x), (*b0)[ci], fma(vec4<f32>(av.y), (*b1)[ci],
                     fma(vec4<f32>(av.z), (*b2)[ci], fma(vec4<f32>(av.w), (*b3)[ci], (*acc)[ci]))));
    }
}

// acc += s·d: one row of a block over one step of the contraction.
fn fma_row1(acc: ptr<function, Row>, s: f32, d: ptr<function, Row>) {
    for (var ci = 0u; ci < CB; ci++) {
        (*acc)[ci] = fma(vec4<f32>(s), (*d)[ci], (*acc)[ci]);
    }
}
