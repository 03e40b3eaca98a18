//! WGSL sources, embedded at build time so the binary runs from anywhere, and the module each kernel
//! family compiles: its own file after the shared files it uses. Shapes reach the kernels as pipeline
//! constants (WGSL `override`) and uniforms, never by editing the source.

pub const RNG: &str = include_str!("../../shaders/rng.wgsl");
pub const ACTIVATIONS: &str = include_str!("../../shaders/activations.wgsl");
pub const STATE: &str = include_str!("../../shaders/state.wgsl");
pub const COMMON: &str = include_str!("../../shaders/common.wgsl");
pub const BLOCKS: &str = include_str!("../../shaders/blocks.wgsl");
pub const GEMM: &str = include_str!("../../shaders/gemm.wgsl");
pub const LSTM_FORWARD: &str = include_str!("../../shaders/lstm_forward.wgsl");
pub const LSTM_BACKWARD: &str = include_str!("../../shaders/lstm_backward.wgsl");
pub const LSTM_FORWARD_SUBGROUP: &str = include_str!("../../shaders/lstm_forward_subgroup.wgsl");
pub const LSTM_BACKWARD_SUBGROUP: &str = include_str!("../../shaders/lstm_backward_subgroup.wgsl");
pub const BATCH: &str = include_str!("../../shaders/batch.wgsl");
pub const DROPOUT: &str = include_str!("../../shaders/dropout.wgsl");
pub const LOSS: &str = include_str!("../../shaders/loss.wgsl");
pub const ADAM: &str = include_str!("../../shaders/adam.wgsl");
pub const EARLY_STOP: &str = include_str!("../../shaders/early_stop.wgsl");
pub const YARDSTICKS: &str = include_str!("../../shaders/yardsticks.wgsl");

/// The largest fixed `@workgroup_size` in the shaders (batch.wgsl `gather`; the other element-wise
/// kernels use 64): a device must allow this many invocations, and this many along x.
pub const FIXED_WORKGROUP_INVOCATIONS: u32 = 256;

/// The given sources, in order, as one module.
pub fn assemble(parts: &[&str]) -> String {
    parts.join("\n")
}

/// A recurrent kernel family's module: with its subgroup entry point (`main_subgroup`) where the device
/// has subgroup operations, which naga refuses to compile elsewhere.
pub fn recurrent_module(kernel: &str, subgroup_part: Option<&str>) -> String {
    let mut parts = vec![STATE, BLOCKS, ACTIVATIONS, kernel];
    parts.extend(subgroup_part);
    assemble(&parts)
}

/// Every module the engine, the checks and the bench compile, by family name (for tests that translate
/// them all); the recurrent families twice, with and without their subgroup entry points.
pub fn modules() -> Vec<(&'static str, String)> {
    let training = |k: &str| assemble(&[RNG, STATE, COMMON, k]);
    vec![
        ("gemm", assemble(&[STATE, BLOCKS, GEMM])),
        ("lstm_forward", recurrent_module(LSTM_FORWARD, None)),
        ("lstm_backward", recurrent_module(LSTM_BACKWARD, None)),
        (
            "lstm_forward+subgroup",
            recurrent_module(LSTM_FORWARD, Some(LSTM_FORWARD_SUBGROUP)),
        ),
        (
            "lstm_backward+subgroup",
            recurrent_module(LSTM_BACKWARD, Some(LSTM_BACKWARD_SUBGROUP)),
        ),
        ("batch", training(BATCH)),
        ("dropout", training(DROPOUT)),
        ("loss", training(LOSS)),
        ("adam", training(ADAM)),
        ("early_stop", training(EARLY_STOP)),
        ("yardsticks", assemble(&[BLOCKS, YARDSTICKS])),
    ]
}

/// Each entry point of `source` whose `@workgroup_size` is written as numbers, with its invocations (the
/// product of the sizes); entry points sized by pipeline constants are left out. tests/shader_races.rs
/// checks this against naga's reading of every module.
pub fn fixed_workgroup_sizes(source: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (at, _) in source.match_indices("@workgroup_size(") {
        let rest = &source[at + "@workgroup_size(".len()..];
        let Some(close) = rest.find(')') else {
            continue;
        };
        let sizes: Option<Vec<u32>> = rest[..close]
            .split(',')
            .map(|x| x.trim().trim_end_matches('u').parse().ok())
            .collect();
        let name = rest[close..]
            .split_once("fn ")
            .and_then(|(_, f)| f.split('(').next())
            .map(|n| n.trim().to_string());
        if let (Some(sizes), Some(name)) = (sizes, name) {
            out.push((name, sizes.iter().product()));
        }
    }
    out
}

/// The module of family `name`.
pub fn module(name: &str) -> String {
    modules()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| s)
        .unwrap_or_default()
}
