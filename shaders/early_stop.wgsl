// Keras EarlyStopping(monitor="val_loss", patience, restore_best_weights=True) for every model at once,
// on the device: the host only reads the per-model `alive` flags and losses once per epoch.

@group(0) @binding(3) var<storage, read_write> params: array<vec4<f32>>;  // [M][P/4]
@group(0) @binding(4) var<storage, read_write> best: array<vec4<f32>>;    // [M][P/4]
@group(0) @binding(5) var<storage, read_write> history: array<f32>; // [M][max_epochs][2]: train, val

// fit::DIVERGED_VAL_LOSS, set by the host: a model whose loss is NaN or infinite, or whose validation loss
// passes it, stops at once (the host marks it diverged from its history, as for every backend).
override DIVERGED_VAL_LOSS: f32 = 100.0;

// NaN and infinity are tested on the bits (all exponent bits set), not by `x == x` or a bound on |x|:
// WGSL lets an implementation assume neither occurs, and wgpu builds Metal shaders with fast math on, so a
// float test of either may be compiled away and a diverged model train on for `patience` epochs.
fn not_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn diverged(train_loss: f32, val_loss: f32) -> bool {
    return not_finite(train_loss) || not_finite(val_loss) || val_loss > DIVERGED_VAL_LOSS;
}

// Start of a fit (a split, for the seed protocol's carried-over model): early-stopping state is reset;
// Adam moments, adam_t and epoch_serial carry over, as Keras' fit does with a compiled optimizer. With
// `step.carry_best` = 1 the best validation loss is kept: the report's script reused one EarlyStopping
// object, and Keras 3 before 3.7 never reset its `best` between fits.
@compute @workgroup_size(64)
fn begin_fit(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= cfg.models) {
        return;
    }
    states[m].alive = 1u;
    states[m].epochs_run = 0u;
    states[m].wait = 0u;
    states[m].best_epoch = 0u;
    states[m].stopped_early = 0u;
    states[m].improved = 0u;
    states[m].has_best = 0u;
    if (step.carry_best == 0u) {
        states[m].best_val = bitcast<f32>(0x7f800000u); // +inf
    }
}

// End of an epoch: record the losses, compare the validation loss with the best (strict improvement),
// count patience, end the fit at `max_epochs`.
@compute @workgroup_size(64)
fn end_epoch(@builtin(global_invocation_id) gid: vec3<u32>) {
    let m = gid.x;
    if (m >= cfg.models) {
        return;
    }
    var s = states[m];
    s.improved = 0u;
    if (s.alive == 1u) {
        let train_loss = s.train_sse / f32(s.train_len);
        let val_loss = s.eval_sse / f32(s.val_len);
        let at = (m * cfg.max_epochs + s.epochs_run) * 2u;
        history[at] = train_loss;
        history[at + 1u] = val_loss;
        // Keras 3 on_epoch_end: the first epoch's weights are the fallback best of this fit; then strict
        // improvement resets the wait; patience never stops the first epoch.
        if (s.has_best == 0u) {
            s.improved = 1u;
            s.has_best = 1u;
            s.best_epoch = s.epochs_run;
        }
        s.wait = s.wait + 1u;
        if (val_loss < s.best_val) {
            s.best_val = val_loss;
            s.best_epoch = s.epochs_run;
            s.wait = 0u;
            s.improved = 1u;
        } else if (s.wait >= cfg.patience && s.epochs_run > 0u) {
            s.alive = 0u;
            s.stopped_early = 1u;
        }
        s.epochs_run = s.epochs_run + 1u;
        if (s.epochs_run >= cfg.max_epochs || diverged(train_loss, val_loss)) {
            s.alive = 0u;
        }
    }
    states[m] = s;
}

// Copy the weights of every model whose epoch just improved (one invocation per vec4).
@compute @workgroup_size(64)
fn save_best(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    let per_model = cfg.param_stride / 4u;
    if (idx >= cfg.models * per_model) {
        return;
    }
    if (states[idx / per_model].improved == 1u) {
        best[idx] = params[idx];
    }
}

// End of a fit: restore the best weights. Keras 3 restores them whether or not it stopped early; tf.keras 2
// only when the patience ran out (cfg.restore_without_stop = 0), leaving a fit that ran all its epochs with
// its last epoch's weights.
@compute @workgroup_size(64)
fn restore_best(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    let per_model = cfg.param_stride / 4u;
    if (idx >= cfg.models * per_model) {
        return;
    }
    let s = states[idx / per_model];
    if (s.has_best == 1u && (s.stopped_early == 1u || cfg.restore_without_stop == 1u)) {
        params[idx] = best[idx];
    }
}
