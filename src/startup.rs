//! Time from the process's launch to the first training step, stage by stage: `main` marks the launch;
//! the GPU engine marks the device opened, its first engine built (kernels compiled, buffers allocated,
//! data uploaded) and its first training step submitted. `gpulstm bench` prints the stages and `run.json` records them, so a user can
//! see what a cold start costs and what the pipeline cache saves on a warm one.

use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static LAUNCH: OnceLock<Instant> = OnceLock::new();
static STAGES: Mutex<Vec<Stage>> = Mutex::new(Vec::new());

/// A stage reached, in ms since the launch.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stage {
    pub name: String,
    pub ms: f64,
}

/// Stage names, one meaning each.
pub const DEVICE_OPEN: &str = "device open";
pub const ENGINE_BUILT: &str = "engine built";
pub const FIRST_STEP: &str = "first training step";

/// Marks the launch (the first thing `main` does). Without it, the first stage marked stands for it.
pub fn mark_launch() {
    LAUNCH.get_or_init(Instant::now);
}

/// Records `name` the first time it is reached in this process.
pub fn mark(name: &str) {
    let launch = *LAUNCH.get_or_init(Instant::now);
    let ms = launch.elapsed().as_secs_f64() * 1e3;
    let mut stages = STAGES.lock().unwrap_or_else(|e| e.into_inner());
    if !stages.iter().any(|s| s.name == name) {
        stages.push(Stage {
            name: name.to_string(),
            ms,
        });
    }
}

/// The stages reached so far, in order (empty before any).
pub fn stages() -> Vec<Stage> {
    STAGES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The stages as one line: `device open 812 ms, engine built 2304 ms, ...`.
pub fn describe(stages: &[Stage]) -> String {
    stages
        .iter()
        .map(|s| format!("{} {:.0} ms", s.name, s.ms))
        .collect::<Vec<_>>()
        .join(", ")
}
