//! WGSL sources, embedded at build time so the binary runs from anywhere, and their assembly into
//! modules: a kernel file is prefixed with the constants of its shapes and the shared files it uses.

pub const RNG: &str = include_str!("../../shaders/rng.wgsl");
pub const ACTIVATIONS: &str = include_str!("../../shaders/activations.wgsl");
pub const COMMON: &str = include_str!("../../shaders/common.wgsl");
pub const GEMM: &str = include_str!("../../shaders/gemm.wgsl");
pub const LSTM_FORWARD: &str = include_str!("../../shaders/lstm_forward.wgsl");
pub const LSTM_BACKWARD: &str = include_str!("../../shaders/lstm_backward.wgsl");
pub const BATCH: &str = include_str!("../../shaders/batch.wgsl");
pub const DROPOUT: &str = include_str!("../../shaders/dropout.wgsl");
pub const LOSS: &str = include_str!("../../shaders/loss.wgsl");
pub const ADAM: &str = include_str!("../../shaders/adam.wgsl");
pub const EARLY_STOP: &str = include_str!("../../shaders/early_stop.wgsl");
pub const BENCH_PROBES: &str = include_str!("../../shaders/bench_probes.wgsl");

/// `const NAME: u32 = value;` lines followed by the given sources, in order.
pub fn assemble(constants: &[(&str, u32)], parts: &[&str]) -> String {
    let mut s = String::new();
    for (name, value) in constants {
        s.push_str(&format!("const {name}: u32 = {value}u;\n"));
    }
    for part in parts {
        s.push_str(part);
        s.push('\n');
    }
    s
}
