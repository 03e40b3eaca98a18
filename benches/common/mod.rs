//! Shared by the benches.

/// The 1-minute load average and the whole `/proc/loadavg` line (zero and empty where there is none).
pub fn loadavg() -> (f64, String) {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let first = text
        .split_whitespace()
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0.0);
    (first, text.trim().to_string())
}
