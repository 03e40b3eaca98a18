// Epoch and batch bookkeeping, and the gather of a batch of look-back windows from the one copy of the raw
// series on the device. Every model scales with its own scaler (fitted on its own training window), so the
// windows are never materialised per model on the host.

@group(0) @binding(3) var<storage, read_write> perm: array<u32>;    // [M][perm_stride]
@group(0) @binding(4) var<storage, read> series: array<f32>;        // [rows][features] raw values
@group(0) @binding(5) var<storage, read> target_raw: array<f32>;    // [rows] raw target
@group(0) @binding(6) var<storage, read> scaler: array<f32>;        // [M][features + 1][2]: min, 1/range
@group(0) @binding(7) var<storage, read_write> x_out: array<f32>;   // the first layer's input [M][T+1][B][S]
@group(0) @binding(8) var<storage, read_write> y_out: array<f32>;   // [M][B]
@group(0) @binding(9) var<storage, read> lr_table: array<f32>;      // α of Adam steps 0, 1, 2, …

// Start of an epoch: a fresh Fisher–Yates shuffle of the training window (one invocation per model; the
// loop is sequential by definition and short).
@compute @workgroup_size(64)
fn shuffle(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= cfg.models || states[m].alive == 0u) {
        return;
    }
    let n = states[m].train_len;
    if (n < 2u) {
        states[m].epoch_serial = states[m].epoch_serial + 1u;
        states[m].train_sse = 0.0;
        perm[m * cfg.perm_stride] = 0u;
        return;
    }
    let base = m * cfg.perm_stride;
    for (var i = 0u; i < n; i = i + 1u) {
        perm[base + i] = i;
    }
    let serial = states[m].epoch_serial;
    let id = states[m].model_id;
    for (var i = n - 1u; i >= 1u; i = i - 1u) {
        let j = random_u32(seed_key(states[m]), id, PURPOSE_SHUFFLE, serial, i) % (i + 1u);
        let tmp = perm[base + i];
        perm[base + i] = perm[base + j];
        perm[base + j] = tmp;
    }
    states[m].epoch_serial = serial + 1u;
    states[m].train_sse = 0.0;
}

// Start of a training step: rows of this batch, whether the model steps, and the Adam step size
// α = lr·√(1−β2^t)/(1−β1^t), from the host's table (computed in f64: `1 − pow(β2, t)` in f32 makes the
// first steps ~6e-5 relatively too large). Past the table's end α equals lr to f32 precision.
@compute @workgroup_size(64)
fn begin_step(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= cfg.models) {
        return;
    }
    var s = states[m];
    let first = step.batch_index * cfg.batch;
    var rows = 0u;
    if (s.alive == 1u && first < s.train_len) {
        rows = min(cfg.batch, s.train_len - first);
    }
    s.rows = rows;
    s.step_active = select(0u, 1u, rows > 0u);
    s.dropout_step = s.adam_t;
    if (rows > 0u) {
        s.adam_t = s.adam_t + 1u;
        s.lr_t = lr_table[min(s.adam_t, cfg.lr_table_len - 1u)];
    }
    states[m] = s;
}

// Start of an evaluation chunk: `batch` consecutive samples of the validation or training window.
@compute @workgroup_size(64)
fn begin_eval(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= cfg.models) {
        return;
    }
    var s = states[m];
    var start = s.val_start;
    var len = s.val_len;
    if (step.eval_train_window == 1u) {
        start = s.train_start;
        len = s.train_len;
    }
    let first = step.chunk * cfg.batch;
    var rows = 0u;
    if (first < len && (step.only_alive == 0u || s.alive == 1u)) {
        rows = min(cfg.batch, len - first);
    }
    s.rows = rows;
    s.step_active = 0u;
    s.sample_base = start + first;
    if (step.chunk == 0u) {
        s.eval_sse = 0.0;
    }
    states[m] = s;
}

// x[m][t][r][f] = scaled series row (sample + t), written into the x section of the first layer's input,
// y[m][r] = scaled target of row (sample + T). Rows past the batch's end are zero, so they contribute
// nothing downstream (their loss gradient is zero too).
@compute @workgroup_size(256)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 256u;
    let f_count = cfg.features;
    let per_model = cfg.steps * cfg.batch * f_count;
    if (idx >= cfg.models * per_model) {
        return;
    }
    let m = idx / per_model;
    let rem = idx % per_model;
    let t = rem / (cfg.batch * f_count);
    let r = (rem / f_count) % cfg.batch;
    let f = rem % f_count;
    let rows = states[m].rows;
    var value = 0.0;
    var target_value = 0.0;
    if (r < rows) {
        var sample = states[m].sample_base + r;
        if (step.training == 1u) {
            sample = states[m].train_start + perm[m * cfg.perm_stride + step.batch_index * cfg.batch + r];
        }
        let sc = m * (f_count + 1u) * 2u;
        value = (series[(sample + t) * f_count + f] - scaler[sc + f * 2u]) * scaler[sc + f * 2u + 1u];
        target_value = (target_raw[sample + cfg.steps] - scaler[sc + f_count * 2u]) * scaler[sc + f_count * 2u + 1u];
    }
    x_out[m * cfg.x_model + (t * cfg.batch + r) * cfg.x_stride + f] = value;
    if (t == 0u && f == 0u) {
        y_out[m * cfg.batch + r] = target_value;
    }
}
