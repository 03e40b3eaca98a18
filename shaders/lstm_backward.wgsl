// Reverse-time BPTT of one LSTM layer in ONE dispatch: a workgroup owns every row of one model's batch and
// walks t = T−1 … 0, carrying dh (through the recurrent kernel) and dc (through the forget gate) in
// registers. It writes the pre-activation gate gradients dgates [T][B][U] vec4 (di, df, dg, do of one
// unit); all weight gradients of the layer are then one product over [x | h_prev | 1] (gemm.wgsl
// `weight_grad`), and the gradient for the layer below is dgates·Wᵀ (gemm.wgsl `project`).
// Last, it writes the gradients with respect to the initial state (dh, dc of h_{−1}, c_{−1}) to `dstate`
// [2][B][U4]: nothing downstream needs them, the kernel check compares them with the reference.
//
// dh_{t−1} = dz_t·Uᵀ reads Uᵀ from the transposed copy of the parameter block (`params_t`, [4U][S] with
// the h part at h4_off), so neighbouring lanes read neighbouring vec4s; per unit of the contraction an
// invocation loads RB vec4s of dgates and 4·CB vec4s of Uᵀ for 4·RB·CB vec4 FMAs.
// Blocking (blocks.wgsl): an invocation owns RB rows × CB quads of units (a vec4 of four units' dh and dc);
// the host makes WGX·CB cover the U4/4 quads and WGY·RB the batch. With U_SHARED = 1 the workgroup keeps
// Uᵀ (U_VEC4S = 4U·U4/4 vec4s) in workgroup memory for the whole loop, as the forward kernel keeps U.
// Where the workgroup memory also holds one step's dz of the whole batch (STEP_TILE = 1, STEP_VEC4S = B·U;
// the host turns it on wherever it fits beside Uᵀ), gate_grads writes dz there too and the contraction
// reads it on chip: two workgroup barriers per step (dz written before it is read; read before the next
// step overwrites it) and no device-scope storage barrier in the time loop. Each (row, unit) has one
// owner, which writes its whole vec4. Every load after the first barrier reads dz, so nothing moves ahead
// of it (Uᵀ, the other operand, is on chip or in the parameters and needs no ordering).
// dh_in: the gradient arriving from above, [T][B][U4] when `dh_every_step` = 1 (a sequence output), else
// [B][U4] for the last step only.

struct LstmBackParams {
    units: u32,        // U
    h4: u32,           // quads of units (U4 / 4)
    s4: u32,           // vec4s of a row of the transposed block (S / 4)
    h4_off: u32,       // first vec4 of the h part in such a row (I4 / 4)
    block_off4: u32,   // first vec4 of the (transposed) block inside a model's parameters
    param_model4: u32, // vec4s per model of the parameters
    gates_model: u32,  // vec4s per model of `gates` and `dgates` (T·B·U)
    cell_model4: u32,  // vec4s per model of `cell` (T·B·U4 / 4)
    dh_model4: u32,    // vec4s per model of `dh_in`
    dh_every_step: u32,
    pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> cfg: RunConfig;
@group(0) @binding(1) var<storage, read> states: array<ModelState>;
@group(0) @binding(2) var<uniform> p: LstmBackParams;
@group(0) @binding(3) var<storage, read> params_t: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> gates: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> cell: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> dh_in: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dgates: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> dstate: array<vec4<f32>>;

override U_SHARED: u32 = 0u;
override U_VEC4S: u32 = 1u;
var<workgroup> ut_tile: array<vec4<f32>, U_VEC4S>;
override STEP_TILE: u32 = 0u;
override STEP_VEC4S: u32 = 1u;
var<workgroup> dz_tile: array<vec4<f32>, STEP_VEC4S>; // [B][U]

var<private> quads: array<u32, MAX_CB>;
var<private> quad0: u32;
var<private> g_base: u32;
var<private> c_base: u32;
var<private> dh_base: u32;
var<private> model_id: u32;

// A row's gate gradients for this invocation's units: unit 4·q + e of quad slot ci at [4·ci + e].
alias Dz = array<vec4<f32>, 4u * MAX_CB>;

// Pointwise part of step t for batch row `row`: from dL/dh_t (from above and from step t+1) and the carried
// dL/dc to the four gate gradients of each unit; `dh` holds dh_t on entry, `dc` the carry; the gradients
// go to `dgates` and to `dz` (the subgroup variant hands them to the other lanes from there).
fn gate_grads(t: u32, row: u32, dh: ptr<function, Row>, dc: ptr<function, Row>, dz: ptr<function, Dz>) {
    if (row >= cfg.batch) {
        return;
    }
    let n = t * cfg.batch + row;
    for (var ci = 0u; ci < CB; ci++) {
        let q = quad0 + ci * WGX;
        if (q >= p.h4) {
            continue;
        }
        var dh4 = (*dh)[ci];
        if (p.dh_every_step == 1u) {
            dh4 = dh4 + dh_in[dh_base + n * p.h4 + q];
        } else if (t == cfg.steps - 1u) {
            dh4 = dh4 + dh_in[dh_base + row * p.h4 + q];
        }
        let c4 = cell[c_base + n * p.h4 + q];
        var c_before = vec4<f32>(0.0);
        if (t > 0u) {
            c_before = cell[c_base + (n - cfg.batch) * p.h4 + q];
        }
        var carry = vec4<f32>(0.0);
        for (var e = 0u; e < 4u; e++) {
            let u = 4u * q + e;
            if (u < p.units) {
                let g = gates[g_base + n * p.units + u]; // i, f, g, o
                let tc = tanh_stable(c4[e]);
                let dct = (*dc)[ci][e] + dh4[e] * g.w * (1.0 - tc * tc);
                carry[e] = dct * g.y;
                let dzu = vec4<f32>(
                    dct * g.z * g.x * (1.0 - g.x),
                    dct * c_before[e] * g.y * (1.0 - g.y),
                    dct * g.x * (1.0 - g.z * g.z),
                    dh4[e] * tc * g.w * (1.0 - g.w),
                );
                (*dz)[4u * ci + e] = dzu;
                dgates[g_base + n * p.units + u] = dzu;
                if (STEP_TILE == 1u) {
                    dz_tile[row * p.units + u] = dzu;
                }
            }
        }
        (*dc)[ci] = carry;
    }
}

// Row j of Uᵀ (the U part of row j of the transposed block) for this invocation's quads.
fn load_ut(j: u32, t_base: u32) -> Row {
    var v: Row;
    for (var ci = 0u; ci < CB; ci++) {
        if (U_SHARED == 1u) {
            v[ci] = ut_tile[j * p.h4 + quads[ci]];
        } else {
            v[ci] = params_t[t_base + j * p.s4 + p.h4_off + quads[ci]];
        }
    }
    return v;
}

// dz of unit u, batch row `row`, at the step whose rows start at tb.
fn dz(tb: u32, row: u32, u: u32) -> vec4<f32> {
    if (STEP_TILE == 1u) {
        return dz_tile[row * p.units + u];
    }
    return dgates[g_base + (tb + row) * p.units + u];
}

fn store_state(row: u32, dh: ptr<function, Row>, dc: ptr<function, Row>) {
    if (row >= cfg.batch) {
        return;
    }
    for (var ci = 0u; ci < CB; ci++) {
        let q = quad0 + ci * WGX;
        if (q < p.h4) {
            let at = model_id * 2u * cfg.batch * p.h4 + row * p.h4 + q;
            dstate[at] = (*dh)[ci];
            dstate[at + cfg.batch * p.h4] = (*dc)[ci];
        }
    }
}

// Sets this invocation's quads (lane `lane` of WGX) and its model's bases, and copies Uᵀ on chip when it
// stays there; returns the first vec4 of the model's transposed block.
fn setup(model: u32, lane: u32, flat: u32) -> u32 {
    model_id = model;
    quad0 = lane;
    for (var ci = 0u; ci < CB; ci++) {
        quads[ci] = min(quad0 + ci * WGX, p.h4 - 1u);
    }
    g_base = model * p.gates_model;
    c_base = model * p.cell_model4;
    dh_base = model * p.dh_model4;
    let t_base = model * p.param_model4 + p.block_off4;
    if (U_SHARED == 1u) {
        for (var i = flat; i < 4u * p.units * p.h4; i += WGX * WGY) {
            ut_tile[i] = params_t[t_base + (i / p.h4) * p.s4 + p.h4_off + i % p.h4];
        }
        workgroupBarrier();
    }
    return t_base;
}

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.x;
    if (states[model].rows == 0u) {
        return;
    }
    let t_base = setup(model, lid.x, lid.y * WGX + lid.x);
    let b = cfg.batch;
    let row0 = lid.y * RB;
    let r0 = min(row0, b - 1u);        let r1 = min(row0 + 1u, b - 1u);
    let r2 = min(row0 + 2u, b - 1u);   let r3 = min(row0 + 3u, b - 1u);
    let r4 = min(row0 + 4u, b - 1u);   let r5 = min(row0 + 5u, b - 1u);
    let r6 = min(row0 + 6u, b - 1u);   let r7 = min(row0 + 7u, b - 1u);
    let r8 = min(row0 + 8u, b - 1u);   let r9 = min(row0 + 9u, b - 1u);
    let r10 = min(row0 + 10u, b - 1u); let r11 = min(row0 + 11u, b - 1u);
    let r12 = min(row0 + 12u, b - 1u); let r13 = min(row0 + 13u, b - 1u);
    let r14 = min(row0 + 14u, b - 1u); let r15 = min(row0 + 15u, b - 1u);
    // dh of this step (on entry: through the recurrence from step t+1) and the dc carry, per row.
    var h0: Row;  var h1: Row;  var h2: Row;  var h3: Row;  var h4: Row;  var h5: Row;
    var h6: Row;  var h7: Row;  var h8: Row;  var h9: Row;  var h10: Row; var h11: Row;
    var h12: Row; var h13: Row; var h14: Row; var h15: Row;
    var d0: Row;  var d1: Row;  var d2: Row;  var d3: Row;  var d4: Row;  var d5: Row;
    var d6: Row;  var d7: Row;  var d8: Row;  var d9: Row;  var d10: Row; var d11: Row;
    var d12: Row; var d13: Row; var d14: Row; var d15: Row;
    var dz_unused: Dz; // the gate gradients go back through memory here
    for (var s = 0u; s < cfg.steps; s++) {
        let t = cfg.steps - 1u - s;
        if (RB > 0u) { gate_grads(t, row0, &h0, &d0, &dz_unused); }
        if (RB > 1u) { gate_grads(t, row0 + 1u, &h1, &d1, &dz_unused); }
        if (RB > 2u) { gate_grads(t, row0 + 2u, &h2, &d2, &dz_unused); }
        if (RB > 3u) { gate_grads(t, row0 + 3u, &h3, &d3, &dz_unused); }
        if (RB > 4u) { gate_grads(t, row0 + 4u, &h4, &d4, &dz_unused); }
        if (RB > 5u) { gate_grads(t, row0 + 5u, &h5, &d5, &dz_unused); }
        if (RB > 6u) { gate_grads(t, row0 + 6u, &h6, &d6, &dz_unused); }
        if (RB > 7u) { gate_grads(t, row0 + 7u, &h7, &d7, &dz_unused); }
        if (RB > 8u) { gate_grads(t, row0 + 8u, &h8, &d8, &dz_unused); }
        if (RB > 9u) { gate_grads(t, row0 + 9u, &h9, &d9, &dz_unused); }
        if (RB > 10u) { gate_grads(t, row0 + 10u, &h10, &d10, &dz_unused); }
        if (RB > 11u) { gate_grads(t, row0 + 11u, &h11, &d11, &dz_unused); }
        if (RB > 12u) { gate_grads(t, row0 + 12u, &h12, &d12, &dz_unused); }
        if (RB > 13u) { gate_grads(t, row0 + 13u, &h13, &d13, &dz_unused); }
        if (RB > 14u) { gate_grads(t, row0 + 14u, &h14, &d14, &dz_unused); }
        if (RB > 15u) { gate_grads(t, row0 + 15u, &h15, &d15, &dz_unused); }
        // Every row's dgates of step t are written before anyone reads them for dh_{t−1}.
        if (STEP_TILE == 1u) {
            workgroupBarrier();
        } else {
            storageBarrier();
        }
        let tb = t * b;
        var a0: Row;  var a1: Row;  var a2: Row;  var a3: Row;  var a4: Row;  var a5: Row;
        var a6: Row;  var a7: Row;  var a8: Row;  var a9: Row;  var a10: Row; var a11: Row;
        var a12: Row; var a13: Row; var a14: Row; var a15: Row;
        for (var u = 0u; u < p.units; u++) {
            var w0 = load_ut(4u * u, t_base);
            var w1 = load_ut(4u * u + 1u, t_base);
            var w2 = load_ut(4u * u + 2u, t_base);
            var w3 = load_ut(4u * u + 3u, t_base);
            if (RB > 0u) { fma_row4(&a0, dz(tb, r0, u), &w0, &w1, &w2, &w3); }
            if (RB > 1u) { fma_row4(&a1, dz(tb, r1, u), &w0, &w1, &w2, &w3); }
            if (RB > 2u) { fma_row4(&a2, dz(tb, r2, u), &w0, &w1, &w2, &w3); }
            if (RB > 3u) { fma_row4(&a3, dz(tb, r3, u), &w0, &w1, &w2, &w3); }
            if (RB > 4u) { fma_row4(&a4, dz(tb, r4, u), &w0, &w1, &w2, &w3); }
            if (RB > 5u) { fma_row4(&a5, dz(tb, r5, u), &w0, &w1, &w2, &w3); }
            if (RB > 6u) { fma_row4(&a6, dz(tb, r6, u), &w0, &w1, &w2, &w3); }
            if (RB > 7u) { fma_row4(&a7, dz(tb, r7, u), &w0, &w1, &w2, &w3); }
            if (RB > 8u) { fma_row4(&a8, dz(tb, r8, u), &w0, &w1, &w2, &w3); }
            if (RB > 9u) { fma_row4(&a9, dz(tb, r9, u), &w0, &w1, &w2, &w3); }
            if (RB > 10u) { fma_row4(&a10, dz(tb, r10, u), &w0, &w1, &w2, &w3); }
            if (RB > 11u) { fma_row4(&a11, dz(tb, r11, u), &w0, &w1, &w2, &w3); }
            if (RB > 12u) { fma_row4(&a12, dz(tb, r12, u), &w0, &w1, &w2, &w3); }
            if (RB > 13u) { fma_row4(&a13, dz(tb, r13, u), &w0, &w1, &w2, &w3); }
            if (RB > 14u) { fma_row4(&a14, dz(tb, r14, u), &w0, &w1, &w2, &w3); }
            if (RB > 15u) { fma_row4(&a15, dz(tb, r15, u), &w0, &w1, &w2, &w3); }
        }
        // Every read of this step's dz is done before the next step's gate_grads overwrites it.
        if (STEP_TILE == 1u) {
            workgroupBarrier();
        }
        h0 = a0; h1 = a1; h2 = a2; h3 = a3; h4 = a4; h5 = a5; h6 = a6; h7 = a7;
        h8 = a8; h9 = a9; h10 = a10; h11 = a11; h12 = a12; h13 = a13; h14 = a14; h15 = a15;
    }
    if (RB > 0u) { store_state(row0, &h0, &d0); }
    if (RB > 1u) { store_state(row0 + 1u, &h1, &d1); }
    if (RB > 2u) { store_state(row0 + 2u, &h2, &d2); }
    if (RB > 3u) { store_state(row0 + 3u, &h3, &d3); }
    if (RB > 4u) { store_state(row0 + 4u, &h4, &d4); }
    if (RB > 5u) { store_state(row0 + 5u, &h5, &d5); }
    if (RB > 6u) { store_state(row0 + 6u, &h6, &d6); }
    if (RB > 7u) { store_state(row0 + 7u, &h7, &d7); }
    if (RB > 8u) { store_state(row0 + 8u, &h8, &d8); }
    if (RB > 9u) { store_state(row0 + 9u, &h9, &d9); }
    if (RB > 10u) { store_state(row0 + 10u, &h10, &d10); }
    if (RB > 11u) { store_state(row0 + 11u, &h11, &d11); }
    if (RB > 12u) { store_state(row0 + 12u, &h12, &d12); }
    if (RB > 13u) { store_state(row0 + 13u, &h13, &d13); }
    if (RB > 14u) { store_state(row0 + 14u, &h14, &d14); }
    if (RB > 15u) { store_state(row0 + 15u, &h15, &d15); }
}
