// Inverted dropout, forward and backward: out = in ⊙ mask, mask = 1/(1−rate) where
// uniform(seed, model, 3 | layer << 8, dropout_step, (r·T_l + t)·U + u) ≥ rate, else 0. The mask is
// regenerated from the counter-based generator instead of stored, so the backward pass (in = dL/d out,
// out = dL/d in) and the CPU reference see the very same mask. In evaluation steps it is the identity.
// Tensors are [M][T_l][B][U] at the given offsets and per-model strides.

struct DropoutParams {
    steps: u32, units: u32, layer_index: u32, rate: f32,
    in_off: u32, in_model: u32, out_off: u32, out_model: u32,
}

@group(0) @binding(3) var<uniform> d: DropoutParams;
@group(0) @binding(4) var<storage, read> src: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 256u;
    let per_model = d.steps * cfg.batch * d.units;
    if (idx >= cfg.models * per_model) {
        return;
    }
    let m = idx / per_model;
    let rem = idx % per_model;
    let t = rem / (cfg.batch * d.units);
    let r = (rem / d.units) % cfg.batch;
    let u = rem % d.units;
    let x = src[d.in_off + m * d.in_model + rem];
    var y = x;
    if (step.training == 1u && d.rate > 0.0) {
        y = 0.0;
        if (r < states[m].rows) {
            let purpose = PURPOSE_DROPOUT | (d.layer_index << 8u);
            let index = (r * d.steps + t) * d.units + u;
            let draw = random_uniform(seed_key(), states[m].model_id, purpose, states[m].dropout_step, index);
            if (draw >= d.rate) {
                y = x / (1.0 - d.rate);
            }
        }
    }
    dst[d.out_off + m * d.out_model + rem] = y;
}
