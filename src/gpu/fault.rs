//! Fault injection for the GPU error paths' tests: with the `fault-injection` feature (which only the
//! test build turns on, through the crate's dev-dependency on itself), `GPULSTM_FAULT` names faults to
//! raise: `adapter` (the device request fails), `pipeline` (a pipeline or allocation fails validation),
//! `alloc` (a chunk of models exceeds the adapter's limits), `lost-at-chunk:N` (the device is lost
//! while the N-th chunk of models trains). Without the feature, nothing here reads the environment.

/// Whether `point` is switched on.
#[cfg(feature = "fault-injection")]
pub fn injected(point: &str) -> bool {
    std::env::var("GPULSTM_FAULT")
        .map(|v| v.split(',').any(|f| f.trim() == point))
        .unwrap_or(false)
}

#[cfg(not(feature = "fault-injection"))]
pub fn injected(_point: &str) -> bool {
    false
}

/// The chunk (1-based) during which the device is to be lost, if any.
#[cfg(feature = "fault-injection")]
pub fn lost_at_chunk() -> Option<usize> {
    let v = std::env::var("GPULSTM_FAULT").ok()?;
    v.split(',')
        .find_map(|f| f.trim().strip_prefix("lost-at-chunk:"))
        .and_then(|n| n.parse().ok())
}

#[cfg(not(feature = "fault-injection"))]
pub fn lost_at_chunk() -> Option<usize> {
    None
}
