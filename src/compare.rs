//! Comparing an engine's output (a WGSL kernel's or a CPU-engine op's) with the f64 reference, and the
//! random test data the checks draw. A leaf module: every standalone check and whole-step check uses it.
//!
//! Comparisons follow numpy's `allclose`: element-wise |gpu − cpu| ≤ atol + rtol·|cpu|. The GPU computes in
//! f32 (unit round-off 6·10⁻⁸), the reference in f64, so each check's tolerance is set from how many f32
//! operations feed one element (see [`Tol`]); an indexing or math bug shows as an O(1) relative error,
//! orders of magnitude above every tolerance.

/// Element-wise tolerance: |gpu − cpu| ≤ abs + rel·|cpu|.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub abs: f64,
    pub rel: f64,
}

/// A k-term f32 dot product of values in [−1, 1] (Σ|ab| ≈ k/4) rounds with error growing like
/// √k·u·Σ|ab|; a result near zero then has no meaningful relative error, so the absolute part scales with
/// k: `abs = MATMUL_ABS_PER_TERM · k`. Over 50 random shapes the largest error seen was 4.5·10⁻⁸·k; the
/// bound below is 4× that. An indexing bug gives errors of order Σ|ab| itself.
pub const MATMUL_ABS_PER_TERM: f64 = 2e-7;
pub fn tol_matmul(k: usize) -> Tol {
    Tol {
        abs: MATMUL_ABS_PER_TERM * k.max(1) as f64,
        rel: 1e-4,
    }
}
/// LSTM states and gates are bounded by 1 and pass through ≤ 60 steps of f32 recurrences.
pub const TOL_FORWARD: Tol = Tol {
    abs: 2e-5,
    rel: 1e-4,
};
/// Exact: integer arithmetic (shuffles) or one multiply by the same mask.
pub const TOL_EXACT: Tol = Tol { abs: 0.0, rel: 0.0 };
/// Gradients chain T steps of BPTT and sums over T·B rows in f32; the absolute part is relative to the
/// tensor's largest gradient (set per tensor below).
pub const TOL_GRAD_REL: f64 = 1e-3;
pub const TOL_GRAD_ABS_FRACTION: f64 = 1e-3;
/// Predictions (scaled prices, O(1)) of weights trained for a few epochs in f32 vs f64: the restored
/// weights agree to ~1e-6 relative, which moves predictions by a few 1e-6; random shapes showed up to
/// 3.7e-6 where the prediction itself was ~1e-4, so the absolute part is 2e-5. A wrong window, scaler or
/// restored epoch moves predictions by ≥ 1e-2.
pub const TOL_PREDICTIONS: Tol = Tol {
    abs: 2e-5,
    rel: 2e-3,
};
/// Dropout multiplies by the same mask on both sides; only the f32 rounding of its input and of
/// 1/(1−rate) differ.
pub const TOL_EXACT_ISH: Tol = Tol {
    abs: 2e-5,
    rel: 1e-4,
};
/// One Adam update moves a weight by at most ~lr; f32 rounding of the update is ~1e-7 of it and of the
/// weight itself ~6e-8 relative.
pub const TOL_ADAM_STEP: Tol = Tol {
    abs: 1e-7,
    rel: 1e-6,
};
/// Weights restored after a few epochs of f32 training vs f64.
pub const TOL_RESTORED: Tol = Tol {
    abs: 1e-4,
    rel: 1e-3,
};
/// Losses after several epochs of f32 training vs f64: the trajectories drift apart slowly.
pub const TOL_TRAINING: Tol = Tol {
    abs: 1e-6,
    rel: 2e-3,
};

#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckResult {
    pub kernel: String,
    pub what: String,
    pub elements: usize,
    pub max_abs: f64,
    pub max_rel: f64,
    pub abs_tol: f64,
    pub rel_tol: f64,
    /// The largest error as a share of what its element was allowed (|engine − reference| ÷ (abs +
    /// rel·|reference|)): below 1 passes; 0.03 means 3 % of the allowance used.
    pub margin: f64,
    pub pass: bool,
}

/// Compares `gpu` with `cpu` element-wise.
pub fn compare(kernel: &str, what: &str, gpu: &[f32], cpu: &[f64], tol: Tol) -> CheckResult {
    let mut max_abs = 0.0f64;
    let mut max_rel = 0.0f64;
    let mut margin = 0.0f64;
    let mut pass = gpu.len() == cpu.len();
    for (&g, &c) in gpu.iter().zip(cpu) {
        let d = (g as f64 - c).abs();
        if d.is_nan() {
            pass = false;
            max_abs = f64::NAN;
            continue;
        }
        max_abs = max_abs.max(d);
        max_rel = max_rel.max(d / c.abs().max(1e-12));
        let allowed = tol.abs + tol.rel * c.abs();
        margin = margin.max(if d == 0.0 { 0.0 } else { d / allowed });
        if d > allowed {
            pass = false;
        }
    }
    CheckResult {
        kernel: kernel.into(),
        what: what.into(),
        elements: cpu.len(),
        max_abs,
        max_rel,
        abs_tol: tol.abs,
        rel_tol: tol.rel,
        margin: if max_abs.is_nan() { f64::NAN } else { margin },
        pass,
    }
}

/// A small deterministic generator for test data (not the model's RNG).
pub struct Data(pub u64);

impl Data {
    pub fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64) / ((1u64 << 53) as f64) * 2.0 - 1.0
    }
    pub fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.uniform()).collect()
    }
    /// A whole number in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.uniform() + 1.0) * 0.5 * n as f64) as usize % n.max(1)
    }
}

pub fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

pub fn to_f64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| x as f64).collect()
}

#[cfg(test)]
mod margin_tests {
    use super::*;

    /// The margin is the largest error over its allowance, and passing is exactly margin ≤ 1.
    #[test]
    fn margin_is_error_over_allowance() {
        let tol = Tol { abs: 1.0, rel: 0.5 };
        let r = compare("k", "w", &[2.5, 0.0], &[2.0, 0.0], tol); // 0.5 / (1 + 1)
        assert!(r.pass && (r.margin - 0.25).abs() < 1e-12, "{}", r.margin);
        let r = compare("k", "w", &[5.0], &[2.0], tol); // 3 / 2
        assert!(!r.pass && (r.margin - 1.5).abs() < 1e-12, "{}", r.margin);
    }
}
