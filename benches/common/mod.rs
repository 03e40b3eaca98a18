//! Shared by the benches.

/// The 1-minute load average and the whole `/proc/loadavg` line, as `gpulstm bench` reads it.
pub use gpulstm::gpu::bench::loadavg;
