//! The tiny training problem the whole-step and whole-fit checks of both engines run (the GPU's in
//! [`crate::gpu::check`], the CPU engine's in [`crate::cpu::check`]): a synthetic price-like series,
//! a small stack, three models with their own windows and weights, and the series each model sees,
//! scaled as the GPU gather kernel scales it. Beside [`crate::compare`], which both checks compare with.

use crate::compare::{to_f32, to_f64, Data};
use crate::fit::{ScaledSeries, SplitWindows, Window};
use crate::model::{init_params, ModelSpec, ParamLayout};

/// A tiny problem for the whole-step checks: a synthetic price-like series and per-model windows.
pub struct Problem {
    pub layout: ParamLayout,
    pub lookback: usize,
    pub batch: usize,
    pub features: usize,
    pub raw: Vec<Vec<f64>>, // [rows][features]
    pub target: Vec<f64>,   // [rows]
    pub ids: Vec<u32>,
    pub windows: Vec<SplitWindows>,
    pub seed: u64,
}

impl Problem {
    /// A check problem with every shape drawn from `shape_seed`: features, layer widths, look-back,
    /// batch (above 16 the recurrent kernels split a model's rows over two workgroups), a training
    /// window that ends in a partial batch or not, three models with different windows and weights.
    pub fn random(shape_seed: u64) -> Problem {
        let mut data = Data(shape_seed);
        let features = 1 + data.below(6);
        let (u1, u2, d) = (2 + data.below(11), 2 + data.below(9), 1 + data.below(6));
        let layers = format!("lstm:{u1}:seq,dropout:0.3,lstm:{u2},dropout:0.2,dense:{d},dense:1");
        let spec = match ModelSpec::parse(&layers, features) {
            Ok(s) => s,
            Err(e) => unreachable!("generated check spec {layers} is valid: {e}"),
        };
        let layout = ParamLayout::new(&spec);
        let lookback = 3 + data.below(10);
        let batch = 3 + data.below(22);
        // More than one batch, so the first and the last step of an epoch differ.
        let train_len = batch + 1 + data.below(2 * batch);
        let val_len = 1 + data.below(12);
        let windows: Vec<SplitWindows> = (0..3)
            .map(|m| {
                let start = m * (1 + data.below(7));
                split(start, train_len, val_len)
            })
            .collect();
        let rows = windows
            .iter()
            .map(|w| w.val.start + w.val.len)
            .max()
            .unwrap_or(0)
            + lookback
            + 1;
        let mut price = 100.0;
        let mut raw = Vec::with_capacity(rows);
        let mut target = Vec::with_capacity(rows);
        for _ in 0..rows {
            price *= 1.0 + 0.02 * data.uniform();
            let row: Vec<f64> = (0..features)
                .map(|j| {
                    if j == 0 {
                        price
                    } else {
                        10f64.powi(j as i32) * (2.0 + data.uniform())
                    }
                })
                .collect();
            raw.push(row);
            target.push(price * (1.0 + 0.005 * data.uniform()));
        }
        Problem {
            layout,
            lookback,
            batch,
            features,
            raw,
            target,
            ids: vec![5, 6, 7],
            windows,
            seed: 1234 + shape_seed,
        }
    }

    /// The fixed problem the tests always run: a stack shaped like the report's, small; batch 20 so the
    /// recurrent kernels run two workgroups per model (16 + 4 rows); a training window of 45 ends in a
    /// partial batch.
    pub fn small() -> Problem {
        let features = 3;
        let spec = match ModelSpec::parse(
            "lstm:6:seq,dropout:0.3,lstm:5,dropout:0.2,dense:3,dense:1",
            features,
        ) {
            Ok(s) => s,
            Err(e) => unreachable!("the built-in check spec is valid: {e}"),
        };
        let rows = 90;
        let mut data = Data(11);
        let mut price = 100.0;
        let mut raw = Vec::with_capacity(rows);
        let mut target = Vec::with_capacity(rows);
        for _ in 0..rows {
            price *= 1.0 + 0.02 * data.uniform();
            raw.push(vec![
                price,
                1e6 * (2.0 + data.uniform()),
                price * (1.0 + 0.01 * data.uniform()),
            ]);
            target.push(price);
        }
        Problem {
            layout: ParamLayout::new(&spec),
            lookback: 7,
            batch: 20,
            features,
            raw,
            target,
            ids: vec![5, 6, 7],
            windows: vec![split(0, 45, 9), split(10, 45, 9), split(20, 45, 9)],
            seed: 1234,
        }
    }

    /// One line naming the shapes, printed with the results so a failure can be reproduced.
    pub fn describe(&self) -> String {
        let windows: Vec<String> = self
            .windows
            .iter()
            .map(|w| {
                format!(
                    "train {}+{}, val {}+{}",
                    w.train.start, w.train.len, w.val.start, w.val.len
                )
            })
            .collect();
        format!(
            "layers {}, {} features, lookback {}, batch {}, windows [{}]",
            self.layout.spec.to_spec_string(),
            self.features,
            self.lookback,
            self.batch,
            windows.join("; ")
        )
    }

    /// (min, 1/range) per feature then the target, fitted on the rows model `m`'s training samples touch.
    pub fn scaler(&self, m: usize) -> Vec<f32> {
        let w = self.windows[m].train;
        let rows = w.start..w.start + w.len + self.lookback;
        let mut out = Vec::new();
        let mut push = |col: &dyn Fn(usize) -> f64| {
            let lo = rows.clone().map(col).fold(f64::INFINITY, f64::min);
            let hi = rows.clone().map(col).fold(f64::NEG_INFINITY, f64::max);
            let range = if hi > lo { hi - lo } else { 1.0 };
            out.push(lo as f32);
            out.push((1.0 / range) as f32);
        };
        for f in 0..self.features {
            push(&|r| self.raw[r][f]);
        }
        push(&|r| self.target[r]);
        out
    }

    /// The series as model `m` sees it, scaled exactly as the gather kernel does (f32 raw and scaler).
    pub fn scaled(&self, m: usize) -> ScaledSeries {
        let sc = to_f64(&self.scaler(m));
        let f = self.features;
        let mut x = Vec::new();
        for row in &self.raw {
            for (j, &v) in row.iter().enumerate() {
                x.push(((v as f32) as f64 - sc[2 * j]) * sc[2 * j + 1]);
            }
        }
        let y = self
            .target
            .iter()
            .map(|&v| ((v as f32) as f64 - sc[2 * f]) * sc[2 * f + 1])
            .collect();
        ScaledSeries {
            x,
            y,
            features: f,
            lookback: self.lookback,
        }
    }

    pub fn initial_params(&self, m: usize) -> Vec<f64> {
        // Rounded through f32 so both sides start from identical weights.
        to_f64(&to_f32(&init_params(&self.layout, self.seed, self.ids[m])))
    }
}

fn split(start: usize, train: usize, val: usize) -> SplitWindows {
    SplitWindows {
        train: Window { start, len: train },
        val: Window {
            start: start + train,
            len: val,
        },
    }
}
