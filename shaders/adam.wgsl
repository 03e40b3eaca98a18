// Adam (Keras 3): m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; w −= α m / (√v + ε), with the model's step
// size α taken in begin_step from the host's f64 table. One invocation per vec4 of every model's
// parameters (the per-model stride is a multiple of 4); a model that is idle this step (early-stopped, or
// its epoch has fewer batches) is left untouched, moments included. Padding inside the parameter layout
// has zero gradients, so it stays zero.

@group(0) @binding(3) var<storage, read_write> params: array<vec4<f32>>;  // [M][P/4]
@group(0) @binding(4) var<storage, read> grads: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> moment1: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> moment2: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    let per_model = cfg.param_stride / 4u;
    if (idx >= cfg.models * per_model) {
        return;
    }
    let m = idx / per_model;
    if (states[m].step_active == 0u) {
        return;
    }
    let g = grads[idx];
    let m1 = cfg.beta1 * moment1[idx] + (1.0 - cfg.beta1) * g;
    let m2 = cfg.beta2 * moment2[idx] + (1.0 - cfg.beta2) * g * g;
    moment1[idx] = m1;
    moment2[idx] = m2;
    params[idx] = params[idx] - states[m].lr_t * m1 / (sqrt(m2) + cfg.epsilon);
}
