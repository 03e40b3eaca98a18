// Inverted dropout. `forward`: in training steps draws the mask — 1/(1−rate) where
// uniform(seed, model, 3 | layer << 8, dropout_step, (r·T_l + t)·W + u) ≥ rate, else 0 (ARCHITECTURE.md)
// — stores it, and writes out = in ⊙ mask; in evaluation it copies. `backward`: out = in ⊙ mask with the
// stored mask (in = dL/d out, out = dL/d in), so each mask element is drawn once per step. Rows past the
// model's batch get mask 0. With rate 0 this is the plain copy the engine uses where an LSTM feeds a
// layer directly.
// Tensors are [M][T_l·B rows][W] at the given offsets and strides (floats): the source and destination
// are often a section of a wider row (an LSTM's h section, the next layer's x section).

struct DropoutParams {
    rows: u32,          // T_l · B
    width: u32,         // W
    steps: u32,         // T_l
    layer_index: u32,
    rate: f32,
    in_off: u32, in_model: u32, in_row: u32,
    out_off: u32, out_model: u32, out_row: u32,
    pad0: u32,
}

@group(0) @binding(3) var<uniform> d: DropoutParams;
@group(0) @binding(4) var<storage, read> src: array<f32>;
@group(0) @binding(5) var<storage, read_write> dst: array<f32>;
@group(0) @binding(6) var<storage, read_write> mask: array<f32>;   // [M][rows][W]

struct Element { model: u32, n: u32, u: u32, inside: bool }

fn element(gid: vec3<u32>, nwg: vec3<u32>) -> Element {
    let idx = gid.x + gid.y * nwg.x * 64u;
    let per_model = d.rows * d.width;
    let m = idx / per_model;
    let rem = idx % per_model;
    return Element(m, rem / d.width, rem % d.width, idx < cfg.models * per_model);
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = element(gid, nwg);
    if (!e.inside) {
        return;
    }
    let x = src[d.in_off + e.model * d.in_model + e.n * d.in_row + e.u];
    var scale = 1.0;
    // Only training steps with a real rate draw (and store) masks; the backward pass only follows those.
    if (step.training == 1u && d.rate > 0.0) {
        scale = 0.0;
        let r = e.n % cfg.batch;
        let t = e.n / cfg.batch;
        if (r < states[e.model].rows) {
            let purpose = PURPOSE_DROPOUT | (d.layer_index << 8u);
            let index = (r * d.steps + t) * d.width + e.u;
            let s = states[e.model];
            if (random_uniform(seed_key(s), s.model_id, purpose, s.dropout_step, index) >= d.rate) {
                scale = 1.0 / (1.0 - d.rate);
            }
        }
        mask[(e.model * d.rows + e.n) * d.width + e.u] = scale;
    }
    dst[d.out_off + e.model * d.out_model + e.n * d.out_row + e.u] = x * scale;
}

// With rate 0 (the engine's plain copies) there is no mask: the gradient passes through.
@compute @workgroup_size(64)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let e = element(gid, nwg);
    if (!e.inside) {
        return;
    }
    let g = src[d.in_off + e.model * d.in_model + e.n * d.in_row + e.u];
    var scale = 1.0;
    if (d.rate > 0.0) {
        scale = mask[(e.model * d.rows + e.n) * d.width + e.u];
    }
    dst[d.out_off + e.model * d.out_model + e.n * d.out_row + e.u] = g * scale;
}
