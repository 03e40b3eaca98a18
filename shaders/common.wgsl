// The bindings every training-loop kernel (batch, dropout, loss, adam, early_stop) starts with; the
// structs are in state.wgsl.

@group(0) @binding(0) var<uniform> cfg: RunConfig;
@group(0) @binding(1) var<uniform> step: StepParams;
@group(0) @binding(2) var<storage, read_write> states: array<ModelState>;

fn seed_key(s: ModelState) -> vec2<u32> {
    return vec2<u32>(s.seed_lo, s.seed_hi);
}
