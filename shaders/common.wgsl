// The bindings every training-loop kernel (batch, dropout, loss, adam, early_stop) starts with; the
// structs are in state.wgsl.

@group(0) @binding(0) var<uniform> cfg: RunConfig;
@group(0) @binding(1) var<uniform> step: StepParams;
@group(0) @binding(2) var<storage, read_write> states: array<ModelState>;

fn seed_key() -> vec2<u32> {
    return vec2<u32>(cfg.seed_lo, cfg.seed_hi);
}
