// LSTM recurrence over a whole sequence in ONE dispatch: a workgroup owns every row of one model's batch
// and loops over time, so dispatches per optimiser step do not grow with the look-back. Before it, the
// input projection x·W + b of every step was written into `gates` by one product (gemm.wgsl `project`).
// Step t adds h_{t−1}·U, applies the activations, writes them back (BPTT needs them) and runs the cell
// update: c = f⊙c_{t−1} + i⊙g, h = o⊙tanh(c).
//
// Layouts (src/gpu/device_layout.rs): gate columns are interleaved per unit, so `gates` is
// [T][B][U] vec4 (i, f, g, o of one unit) and a row of the recurrent kernel U is U vec4s; the layer's
// input xa is [T+1][B][S] with S = [x (I4) | h (U4) | 1 | pad]: row t holds x_t and h_{t−1} (h_{−1} = 0),
// and h_t goes into row t+1, where the next step and the weight gradient read it. `cell` is [T][B][U4].
// Neighbouring lanes own neighbouring units, so four lanes write the four floats of one vec4 of `cell` and
// of h: both are bound as plain f32 arrays here. A store to one component of a shared vec4 may compile to
// load–insert–store of the whole vector (Metal's compiler is free to), losing the other lanes' floats;
// tests/shader_races.rs rejects any such store.
//
// Blocking (blocks.wgsl): an invocation owns RB rows × CB units; the host makes WGX·CB cover the units and
// WGY·RB the batch, so each invocation keeps its cells' c in registers across the whole time loop. Per
// step and per four rows of U it loads RB vec4s of h and 4·CB vec4s of U for 4·RB·CB vec4 FMAs.
// Where the adapter's workgroup memory holds U (pipeline constant U_SHARED = 1, U_VEC4S = U4·U), the
// workgroup copies it there once and every step reads it on chip; otherwise each step reads it from the
// parameters (on a CPU rasteriser workgroup memory is no faster, so the defaults leave it off there).
// Where the workgroup memory also holds two copies of the batch's h (STEP_TILE = 1, STEP_FLOATS = 2·B·U4: the
// host turns it on wherever it fits beside U), step t reads h_{t−1} from copy t mod 2 and writes h_t into
// the other, so one workgroup barrier per step orders the recurrence: no device-scope storage barrier in
// the time loop, and the next step's projection is loaded before that barrier (it does not depend on it).
// h still goes to xa as well, where the weight gradient and the layer above read it after the dispatch.

struct LstmParams {
    units: u32,        // U
    h4: u32,           // vec4s of the h section (U4 / 4)
    s4: u32,           // vec4s of an xa row (S / 4)
    h4_off: u32,       // first vec4 of the h section in an xa row (I4 / 4)
    u_off4: u32,       // first vec4 of U's rows inside a model's parameters
    param_model4: u32, // vec4s per model of the parameters
    gates_model: u32,  // vec4s per model of `gates` (T·B·U)
    cell_model4: u32,  // vec4s per model of `cell` (T·B·U4 / 4)
    xa_model4: u32,    // vec4s per model of xa ((T+1)·B·S / 4)
    pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> cfg: RunConfig;
@group(0) @binding(1) var<storage, read> states: array<ModelState>;
@group(0) @binding(2) var<uniform> p: LstmParams;
@group(0) @binding(3) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> gates: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> cell: array<f32>;
@group(0) @binding(6) var<storage, read_write> xa: array<f32>;

override U_SHARED: u32 = 0u;
override U_VEC4S: u32 = 1u;
var<workgroup> u_tile: array<vec4<f32>, U_VEC4S>;
override STEP_TILE: u32 = 0u;
override STEP_FLOATS: u32 = 1u;
// [2][B][U4]; lanes own neighbouring units, so a scalar array (one writer per float).
var<workgroup> h_tile: array<f32, STEP_FLOATS>;

// This invocation's units (clamped for loads; stores test the unclamped unit) and its model's bases.
var<private> units: array<u32, MAX_CB>;
var<private> unit0: u32;
var<private> g_base: u32;
var<private> c_base: u32;
var<private> x_base: u32;

// The input projection of row n for this invocation's units: the starting value of z. Slots past the
// layer are left at zero rather than read from a clamped unit: that unit's owner overwrites it in this
// step (cell_update), a race however unused the value.
fn load_gates(n: u32) -> Row {
    var v: Row;
    for (var ci = 0u; ci < CB; ci++) {
        if (unit0 + ci * WGX < p.units) {
            v[ci] = gates[g_base + n * p.units + units[ci]];
        }
    }
    return v;
}

// Row k of U for this invocation's units.
fn load_u(k: u32, w_base: u32) -> Row {
    var v: Row;
    for (var ci = 0u; ci < CB; ci++) {
        if (U_SHARED == 1u) {
            v[ci] = u_tile[k * p.units + units[ci]];
        } else {
            v[ci] = params[w_base + k * p.units + units[ci]];
        }
    }
    return v;
}

// Floats 4·k4 … 4·k4+3 of h_{t−1} of batch row `row`.
fn h_prev(t: u32, row: u32, k4: u32) -> vec4<f32> {
    if (STEP_TILE == 1u) {
        let at = ((t % 2u) * cfg.batch + row) * 4u * p.h4 + 4u * k4;
        return vec4<f32>(h_tile[at], h_tile[at + 1u], h_tile[at + 2u], h_tile[at + 3u]);
    }
    let at = 4u * (x_base + (t * cfg.batch + row) * p.s4 + p.h4_off + k4);
    return vec4<f32>(xa[at], xa[at + 1u], xa[at + 2u], xa[at + 3u]);
}

// Activations and cell update of batch row `row` at step t; `cst` carries c between steps, `hst` receives
// h (the subgroup variant hands it to the other lanes from there).
fn cell_update(t: u32, row: u32, acc: ptr<function, Row>, cst: ptr<function, array<f32, MAX_CB>>,
               hst: ptr<function, array<f32, MAX_CB>>) {
    if (row >= cfg.batch) {
        return;
    }
    let n = t * cfg.batch + row;
    for (var ci = 0u; ci < CB; ci++) {
        let u = unit0 + ci * WGX;
        if (u < p.units) {
            let z = (*acc)[ci];
            let a = vec4<f32>(sigmoid(z.x), sigmoid(z.y), tanh_stable(z.z), sigmoid(z.w));
            gates[g_base + n * p.units + u] = a;
            let c = a.y * (*cst)[ci] + a.x * a.z;
            (*cst)[ci] = c;
            cell[4u * (c_base + n * p.h4) + u] = c;
            let h = a.w * tanh_stable(c);
            (*hst)[ci] = h;
            xa[4u * (x_base + (n + cfg.batch) * p.s4 + p.h4_off) + u] = h;
            if (STEP_TILE == 1u) {
                h_tile[(((t + 1u) % 2u) * cfg.batch + row) * 4u * p.h4 + u] = h;
            }
        }
    }
}

// Sets this invocation's units (lane `lane` of WGX) and its model's bases, and copies U on chip when it
// stays there; returns the first vec4 of the model's U.
fn setup(model: u32, lane: u32, flat: u32) -> u32 {
    unit0 = lane;
    for (var ci = 0u; ci < CB; ci++) {
        units[ci] = min(unit0 + ci * WGX, p.units - 1u);
    }
    g_base = model * p.gates_model;
    c_base = model * p.cell_model4;
    x_base = model * p.xa_model4;
    let w_base = model * p.param_model4 + p.u_off4;
    if (U_SHARED == 1u) {
        for (var i = flat; i < 4u * p.h4 * p.units; i += WGX * WGY) {
            u_tile[i] = params[w_base + i];
        }
    }
    if (STEP_TILE == 1u) {
        // h_{−1} = 0, and the padding units (which meet U's zero rows) stay 0, never NaN.
        for (var i = flat; i < STEP_FLOATS; i += WGX * WGY) {
            h_tile[i] = 0.0;
        }
    }
    if (U_SHARED == 1u || STEP_TILE == 1u) {
        workgroupBarrier();
    }
    return w_base;
}

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let model = wg.x;
    if (states[model].rows == 0u) {
        return; // idle this step: the whole workgroup leaves together
    }
    let w_base = setup(model, lid.x, lid.y * WGX + lid.x);
    let b = cfg.batch;
    let row0 = lid.y * RB;
    // Rows past the batch are clamped for loads; cell_update skips them.
    let r0 = min(row0, b - 1u);        let r1 = min(row0 + 1u, b - 1u);
    let r2 = min(row0 + 2u, b - 1u);   let r3 = min(row0 + 3u, b - 1u);
    let r4 = min(row0 + 4u, b - 1u);   let r5 = min(row0 + 5u, b - 1u);
    let r6 = min(row0 + 6u, b - 1u);   let r7 = min(row0 + 7u, b - 1u);
    let r8 = min(row0 + 8u, b - 1u);   let r9 = min(row0 + 9u, b - 1u);
    let r10 = min(row0 + 10u, b - 1u); let r11 = min(row0 + 11u, b - 1u);
    let r12 = min(row0 + 12u, b - 1u); let r13 = min(row0 + 13u, b - 1u);
    let r14 = min(row0 + 14u, b - 1u); let r15 = min(row0 + 15u, b - 1u);
    var c0: array<f32, MAX_CB>;  var c1: array<f32, MAX_CB>;  var c2: array<f32, MAX_CB>;
    var c3: array<f32, MAX_CB>;  var c4: array<f32, MAX_CB>;  var c5: array<f32, MAX_CB>;
    var c6: array<f32, MAX_CB>;  var c7: array<f32, MAX_CB>;  var c8: array<f32, MAX_CB>;
    var c9: array<f32, MAX_CB>;  var c10: array<f32, MAX_CB>; var c11: array<f32, MAX_CB>;
    var c12: array<f32, MAX_CB>; var c13: array<f32, MAX_CB>; var c14: array<f32, MAX_CB>;
    var c15: array<f32, MAX_CB>;
    var h: array<f32, MAX_CB>; // h goes back through memory here: this copy is unused
    // Step 0's projection; each later step's is loaded at the end of the step before.
    var a0: Row;  var a1: Row;  var a2: Row;  var a3: Row;  var a4: Row;  var a5: Row;
    var a6: Row;  var a7: Row;  var a8: Row;  var a9: Row;  var a10: Row; var a11: Row;
    var a12: Row; var a13: Row; var a14: Row; var a15: Row;
    if (RB > 0u) { a0 = load_gates(r0); }
    if (RB > 1u) { a1 = load_gates(r1); }
    if (RB > 2u) { a2 = load_gates(r2); }
    if (RB > 3u) { a3 = load_gates(r3); }
    if (RB > 4u) { a4 = load_gates(r4); }
    if (RB > 5u) { a5 = load_gates(r5); }
    if (RB > 6u) { a6 = load_gates(r6); }
    if (RB > 7u) { a7 = load_gates(r7); }
    if (RB > 8u) { a8 = load_gates(r8); }
    if (RB > 9u) { a9 = load_gates(r9); }
    if (RB > 10u) { a10 = load_gates(r10); }
    if (RB > 11u) { a11 = load_gates(r11); }
    if (RB > 12u) { a12 = load_gates(r12); }
    if (RB > 13u) { a13 = load_gates(r13); }
    if (RB > 14u) { a14 = load_gates(r14); }
    if (RB > 15u) { a15 = load_gates(r15); }
    for (var t = 0u; t < cfg.steps; t++) {
        let tb = t * b;
        for (var k4 = 0u; k4 < p.h4; k4++) {
            var w0 = load_u(4u * k4, w_base);
            var w1 = load_u(4u * k4 + 1u, w_base);
            var w2 = load_u(4u * k4 + 2u, w_base);
            var w3 = load_u(4u * k4 + 3u, w_base);
            if (RB > 0u) { fma_row4(&a0, h_prev(t, r0, k4), &w0, &w1, &w2, &w3); }
            if (RB > 1u) { fma_row4(&a1, h_prev(t, r1, k4), &w0, &w1, &w2, &w3); }
            if (RB > 2u) { fma_row4(&a2, h_prev(t, r2, k4), &w0, &w1, &w2, &w3); }
            if (RB > 3u) { fma_row4(&a3, h_prev(t, r3, k4), &w0, &w1, &w2, &w3); }
            if (RB > 4u) { fma_row4(&a4, h_prev(t, r4, k4), &w0, &w1, &w2, &w3); }
            if (RB > 5u) { fma_row4(&a5, h_prev(t, r5, k4), &w0, &w1, &w2, &w3); }
            if (RB > 6u) { fma_row4(&a6, h_prev(t, r6, k4), &w0, &w1, &w2, &w3); }
            if (RB > 7u) { fma_row4(&a7, h_prev(t, r7, k4), &w0, &w1, &w2, &w3); }
            if (RB > 8u) { fma_row4(&a8, h_prev(t, r8, k4), &w0, &w1, &w2, &w3); }
            if (RB > 9u) { fma_row4(&a9, h_prev(t, r9, k4), &w0, &w1, &w2, &w3); }
            if (RB > 10u) { fma_row4(&a10, h_prev(t, r10, k4), &w0, &w1, &w2, &w3); }
            if (RB > 11u) { fma_row4(&a11, h_prev(t, r11, k4), &w0, &w1, &w2, &w3); }
            if (RB > 12u) { fma_row4(&a12, h_prev(t, r12, k4), &w0, &w1, &w2, &w3); }
            if (RB > 13u) { fma_row4(&a13, h_prev(t, r13, k4), &w0, &w1, &w2, &w3); }
            if (RB > 14u) { fma_row4(&a14, h_prev(t, r14, k4), &w0, &w1, &w2, &w3); }
            if (RB > 15u) { fma_row4(&a15, h_prev(t, r15, k4), &w0, &w1, &w2, &w3); }
        }
        if (RB > 0u) { cell_update(t, row0, &a0, &c0, &h); }
        if (RB > 1u) { cell_update(t, row0 + 1u, &a1, &c1, &h); }
        if (RB > 2u) { cell_update(t, row0 + 2u, &a2, &c2, &h); }
        if (RB > 3u) { cell_update(t, row0 + 3u, &a3, &c3, &h); }
        if (RB > 4u) { cell_update(t, row0 + 4u, &a4, &c4, &h); }
        if (RB > 5u) { cell_update(t, row0 + 5u, &a5, &c5, &h); }
        if (RB > 6u) { cell_update(t, row0 + 6u, &a6, &c6, &h); }
        if (RB > 7u) { cell_update(t, row0 + 7u, &a7, &c7, &h); }
        if (RB > 8u) { cell_update(t, row0 + 8u, &a8, &c8, &h); }
        if (RB > 9u) { cell_update(t, row0 + 9u, &a9, &c9, &h); }
        if (RB > 10u) { cell_update(t, row0 + 10u, &a10, &c10, &h); }
        if (RB > 11u) { cell_update(t, row0 + 11u, &a11, &c11, &h); }
        if (RB > 12u) { cell_update(t, row0 + 12u, &a12, &c12, &h); }
        if (RB > 13u) { cell_update(t, row0 + 13u, &a13, &c13, &h); }
        if (RB > 14u) { cell_update(t, row0 + 14u, &a14, &c14, &h); }
        if (RB > 15u) { cell_update(t, row0 + 15u, &a15, &c15, &h); }
        // The next step's projection does not depend on the barrier: loaded before it.
        if (t + 1u < cfg.steps) {
            let next = tb + b;
            if (RB > 0u) { a0 = load_gates(next + r0); }
            if (RB > 1u) { a1 = load_gates(next + r1); }
            if (RB > 2u) { a2 = load_gates(next + r2); }
            if (RB > 3u) { a3 = load_gates(next + r3); }
            if (RB > 4u) { a4 = load_gates(next + r4); }
            if (RB > 5u) { a5 = load_gates(next + r5); }
            if (RB > 6u) { a6 = load_gates(next + r6); }
            if (RB > 7u) { a7 = load_gates(next + r7); }
            if (RB > 8u) { a8 = load_gates(next + r8); }
            if (RB > 9u) { a9 = load_gates(next + r9); }
            if (RB > 10u) { a10 = load_gates(next + r10); }
            if (RB > 11u) { a11 = load_gates(next + r11); }
            if (RB > 12u) { a12 = load_gates(next + r12); }
            if (RB > 13u) { a13 = load_gates(next + r13); }
            if (RB > 14u) { a14 = load_gates(next + r14); }
            if (RB > 15u) { a15 = load_gates(next + r15); }
        }
        // h_t of every row is written (in h_tile, or in xa) before any invocation starts step t+1.
        if (STEP_TILE == 1u) {
            workgroupBarrier();
        } else {
            storageBarrier();
        }
    }
}
