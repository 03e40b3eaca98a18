// Adam (Keras 3): m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; w −= α m / (√v + ε), with the per-model step
// size α computed once in begin_step. One invocation per parameter of every model; a model that is idle
// this step (early-stopped, or its epoch has fewer batches) is left untouched, moments included.

@group(0) @binding(3) var<storage, read_write> params: array<f32>;  // [M][P]
@group(0) @binding(4) var<storage, read> grads: array<f32>;         // [M][P]
@group(0) @binding(5) var<storage, read_write> moment1: array<f32>; // [M][P]
@group(0) @binding(6) var<storage, read_write> moment2: array<f32>; // [M][P]

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 256u;
    if (idx >= cfg.models * cfg.param_count) {
        return;
    }
    let m = idx / cfg.param_count;
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
