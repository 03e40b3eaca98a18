//! Every op of the CPU engine against the f64 reference, on every SIMD path this CPU runs, at shapes
//! drawn from a seed (so a failure can be reproduced with `gpulstm check --seed S`). Run by the tests
//! and by `gpulstm check`. Tolerances are the GPU kernels' ([`crate::compare`]): both engines compute in
//! f32 against the same f64 oracle, and the reasons given there hold for both.

use super::adam::{adam_step, Moments};
use super::dense::{dense_backward, dense_forward, DenseBuffers};
use super::dropout::{dropout_mask, MaskShape};
use super::loss::mse_and_grad;
use super::lstm::{lstm_backward, lstm_forward, padded, LstmBuffers, LstmParams, LstmShape};
use super::matmul::{matmul, Shape, Strided};
use super::network::Network;
use super::simd::Isa;
use super::train_loop::{fit_from_best, predict, CpuModel, CpuSeries, Scratch};
use crate::check_problem::Problem;
use crate::compare::{
    compare, to_f32, to_f64, tol_matmul, CheckResult, Data, Tol, TOL_ADAM_STEP, TOL_EXACT,
    TOL_FORWARD, TOL_GRAD_ABS_FRACTION, TOL_GRAD_REL, TOL_PREDICTIONS, TOL_RESTORED, TOL_TRAINING,
};
use crate::fit::{AdamConfig, EarlyStopRule, Hyper};
use crate::reference;
use crate::reference::dropout::DropoutKey;

/// An op's check: name, its twin in the reference, the check on one path for one seed.
pub type OpCheck = (&'static str, &'static str, fn(Isa, u64) -> Vec<CheckResult>);

/// Every op's check, in the order `gpulstm check` prints them.
pub fn op_checks() -> Vec<OpCheck> {
    vec![
        ("matmul", "a plain f64 product", check_matmul),
        (
            "lstm_forward",
            "reference::lstm::lstm_forward",
            check_lstm_forward,
        ),
        (
            "lstm_backward",
            "reference::lstm::lstm_backward",
            check_lstm_backward,
        ),
        ("dropout", "reference::dropout::dropout_mask", check_dropout),
        (
            "dense",
            "reference::dense::{dense_forward, dense_backward}",
            check_dense,
        ),
        ("loss", "reference::loss::{mse, mse_grad}", check_loss),
        ("adam", "reference::adam::adam_step", check_adam),
        (
            "fit",
            "reference::train_loop::fit (whole fits, early stopping)",
            check_fit,
        ),
    ]
}

/// Every op on every path this CPU has; each result's name says the path.
pub fn run_all(seed: u64) -> Vec<CheckResult> {
    let mut out = Vec::new();
    for isa in Isa::available() {
        for (_, _, check) in op_checks() {
            for mut r in check(isa, seed) {
                r.kernel = format!("cpu/{}/{}", isa.name(), r.kernel);
                out.push(r);
            }
        }
    }
    out
}

/// Gradient tolerance for one tensor: relative, with an absolute floor set by its largest element.
fn tol_grad(want: &[f64]) -> Tol {
    let scale = want.iter().fold(0.0f64, |a, &v| a.max(v.abs()));
    Tol {
        abs: TOL_GRAD_ABS_FRACTION * scale.max(1e-30),
        rel: TOL_GRAD_REL,
    }
}

fn check_matmul(isa: Isa, seed: u64) -> Vec<CheckResult> {
    let mut d = Data(seed ^ 0x6d61);
    let mut out = Vec::new();
    for _ in 0..4 {
        let (m, n, k) = (1 + d.below(23), 1 + d.below(90), 1 + d.below(70));
        let a = d.vec(m * k);
        let b = d.vec(k * n);
        let c0 = d.vec(m * n);
        let mut got = to_f32(&c0);
        // A stored transposed ([k][m]) half the time: both ways the engine reads it.
        let transposed = d.below(2) == 1;
        let a32: Vec<f32> = if transposed {
            (0..k * m).map(|v| a[(v % m) * k + v / m] as f32).collect()
        } else {
            to_f32(&a)
        };
        let view = if transposed {
            Strided::transposed(&a32, m)
        } else {
            Strided::rows(&a32, k)
        };
        matmul(
            isa,
            Shape {
                m,
                n,
                k,
                ldb: n,
                ldc: n,
            },
            view,
            &to_f32(&b),
            &mut got,
            true,
        );
        let want: Vec<f64> = (0..m * n)
            .map(|e| {
                c0[e]
                    + (0..k)
                        .map(|p| a[(e / n) * k + p] * b[p * n + e % n])
                        .sum::<f64>()
            })
            .collect();
        let what = format!("{m}x{n}x{k}{}", if transposed { " (Aᵀ)" } else { "" });
        out.push(compare("matmul", &what, &got, &want, tol_matmul(k + 1)));
    }
    out
}

/// A random LSTM layer and its input, as both sides see it (weights rounded through f32).
struct RandomLstmLayer {
    dims: reference::lstm::LstmDims,
    x: Vec<f64>,
    kernel: Vec<f64>,
    recurrent: Vec<f64>,
    bias: Vec<f64>,
}

fn random_lstm_layer(seed: u64) -> RandomLstmLayer {
    let mut d = Data(seed ^ 0x6c73);
    let dims = reference::lstm::LstmDims {
        steps: 1 + d.below(12),
        rows: 1 + d.below(13),
        input: 1 + d.below(9),
        units: 1 + d.below(70),
    };
    let g = 4 * dims.units;
    let mut round = |n: usize, scale: f64| {
        to_f64(&to_f32(
            &d.vec(n).iter().map(|v| v * scale).collect::<Vec<_>>(),
        ))
    };
    RandomLstmLayer {
        x: round(dims.steps * dims.rows * dims.input, 1.0),
        kernel: round(dims.input * g, 0.5),
        recurrent: round(dims.units * g, 0.5),
        bias: round(g, 0.5),
        dims,
    }
}

/// The engine's buffers after a forward pass of `case` (capacity above the rows, as in training).
fn engine_forward(isa: Isa, case: &RandomLstmLayer, flat: &[f32]) -> LstmBuffers {
    let dm = case.dims;
    let shape = LstmShape {
        steps: dm.steps,
        input: dm.input,
        units: dm.units,
    };
    let mut buf = LstmBuffers::new(shape, dm.rows + 2);
    let w = shape.width();
    for (n, row) in case.x.chunks_exact(dm.input).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            buf.xh[n * w + j] = v as f32;
        }
    }
    lstm_forward(isa, &mut buf, dm.rows, lstm_params(&case.dims, flat));
    buf
}

/// `kernel | recurrent | bias` as the engine's flat f32 slices.
fn lstm_params<'a>(dims: &reference::lstm::LstmDims, flat: &'a [f32]) -> LstmParams<'a> {
    let g = 4 * dims.units;
    let (k, r) = (dims.input * g, dims.units * g);
    LstmParams {
        kernel: &flat[..k],
        recurrent: &flat[k..k + r],
        bias: &flat[k + r..k + r + g],
    }
}

fn flat(case: &RandomLstmLayer) -> Vec<f32> {
    to_f32(
        &[
            case.kernel.clone(),
            case.recurrent.clone(),
            case.bias.clone(),
        ]
        .concat(),
    )
}

fn describe(dims: &reference::lstm::LstmDims) -> String {
    format!(
        "T{} R{} I{} U{}",
        dims.steps, dims.rows, dims.input, dims.units
    )
}

fn check_lstm_forward(isa: Isa, seed: u64) -> Vec<CheckResult> {
    let case = random_lstm_layer(seed);
    let dm = case.dims;
    let want =
        reference::lstm::lstm_forward(&dm, &case.x, &case.kernel, &case.recurrent, &case.bias);
    let buf = engine_forward(isa, &case, &flat(&case));
    let (n, w) = (dm.steps * dm.rows, dm.input + dm.units + 1);
    let h: Vec<f32> = (dm.rows..(dm.steps + 1) * dm.rows)
        .flat_map(|row| buf.xh[row * w + dm.input..][..dm.units].to_vec())
        .collect();
    let what = describe(&dm);
    vec![
        compare(
            "lstm_forward",
            &format!("{what}: gates"),
            &buf.gates[..n * 4 * dm.units],
            &want.gates,
            TOL_FORWARD,
        ),
        compare(
            "lstm_forward",
            &format!("{what}: c"),
            &buf.c[..n * dm.units],
            &want.c,
            TOL_FORWARD,
        ),
        compare(
            "lstm_forward",
            &format!("{what}: h"),
            &h,
            &want.h[dm.rows * dm.units..],
            TOL_FORWARD,
        ),
    ]
}

fn check_lstm_backward(isa: Isa, seed: u64) -> Vec<CheckResult> {
    let case = random_lstm_layer(seed);
    let dm = case.dims;
    let (g, n) = (4 * dm.units, dm.steps * dm.rows);
    let dh = to_f64(&to_f32(&Data(seed ^ 0x6468).vec(n * dm.units)));
    let cache =
        reference::lstm::lstm_forward(&dm, &case.x, &case.kernel, &case.recurrent, &case.bias);
    let want =
        reference::lstm::lstm_backward(&dm, &case.x, &case.kernel, &case.recurrent, &cache, &dh);
    let params = flat(&case);
    let mut buf = engine_forward(isa, &case, &params);
    buf.dh[..n * dm.units].copy_from_slice(&to_f32(&dh));
    let mut grads = vec![0.0f32; params.len()];
    lstm_backward(
        isa,
        &mut buf,
        dm.rows,
        lstm_params(&dm, &params),
        &mut grads,
        true,
    );
    let (k, r) = (dm.input * g, dm.units * g);
    let p = padded(dm.input);
    let dx: Vec<f32> = (0..n)
        .flat_map(|row| buf.dx[row * p..][..dm.input].to_vec())
        .collect();
    let what = describe(&dm);
    let mut out = Vec::new();
    for (name, got, want) in [
        ("dgates", &buf.dz[..n * g], &want.dgates[..]),
        ("dkernel", &grads[..k], &want.dkernel[..]),
        ("drecurrent", &grads[k..k + r], &want.drecurrent[..]),
        ("dbias", &grads[k + r..], &want.dbias[..]),
        ("dx", &dx[..], &want.dx[..]),
    ] {
        out.push(compare(
            "lstm_backward",
            &format!("{what}: {name}"),
            got,
            want,
            tol_grad(want),
        ));
    }
    out
}

fn check_dropout(isa: Isa, seed: u64) -> Vec<CheckResult> {
    let mut d = Data(seed ^ 0x6470);
    let shape = MaskShape {
        time: 1 + d.below(9),
        rows: 1 + d.below(12),
        width: 1 + d.below(60),
    };
    let rate = [0.0, 0.2, 0.3, 0.5, 0.9][d.below(5)];
    let key = DropoutKey {
        seed: seed.wrapping_mul(7919),
        model: d.below(1000) as u32,
        step: d.below(500) as u32,
    };
    let layer = d.below(6);
    let want =
        reference::dropout::dropout_mask(rate, layer, &key, shape.time, shape.rows, shape.width);
    let mut got = vec![0.0f32; want.len()];
    dropout_mask(isa, rate, layer, key, shape, &mut got);
    // The f32 scale is the reference's f64 scale rounded once: compare against that rounding, exactly.
    let want32 = to_f64(&to_f32(&want));
    let what = format!(
        "rate {rate} layer {layer} [{}][{}][{}]",
        shape.time, shape.rows, shape.width
    );
    vec![compare("dropout", &what, &got, &want32, TOL_EXACT)]
}

fn check_dense(isa: Isa, seed: u64) -> Vec<CheckResult> {
    let mut d = Data(seed ^ 0x6465);
    let (rows, input, units) = (1 + d.below(13), 1 + d.below(70), 1 + d.below(40));
    let x = to_f64(&to_f32(&d.vec(rows * input)));
    let kernel = to_f64(&to_f32(&d.vec(input * units)));
    let bias = to_f64(&to_f32(&d.vec(units)));
    let dy = to_f64(&to_f32(&d.vec(rows * units)));
    let mut buf = DenseBuffers::new(input, units, rows + 1);
    for (r, row) in x.chunks_exact(input).enumerate() {
        buf.x[r * (input + 1)..][..input].copy_from_slice(&to_f32(row));
    }
    let params = to_f32(&[kernel.clone(), bias.clone()].concat());
    dense_forward(isa, &mut buf, rows, &params);
    let y = buf.y[..rows * units].to_vec();
    buf.dy[..rows * units].copy_from_slice(&to_f32(&dy));
    let mut grads = vec![0.0f32; params.len()];
    dense_backward(isa, &mut buf, rows, &params, &mut grads, true);
    let p = padded(input);
    let dx: Vec<f32> = (0..rows)
        .flat_map(|r| buf.dx[r * p..][..input].to_vec())
        .collect();
    let want_y = reference::dense::dense_forward(rows, input, units, &x, &kernel, &bias);
    let want = reference::dense::dense_backward(rows, input, units, &x, &kernel, &dy);
    let what = format!("R{rows} I{input} O{units}");
    vec![
        compare(
            "dense",
            &format!("{what}: y"),
            &y,
            &want_y,
            tol_matmul(input + 1),
        ),
        compare(
            "dense",
            &format!("{what}: dkernel"),
            &grads[..input * units],
            &want.dkernel,
            tol_matmul(rows),
        ),
        compare(
            "dense",
            &format!("{what}: dbias"),
            &grads[input * units..],
            &want.dbias,
            tol_matmul(rows),
        ),
        compare(
            "dense",
            &format!("{what}: dx"),
            &dx,
            &want.dx,
            tol_matmul(units),
        ),
    ]
}

fn check_loss(_isa: Isa, seed: u64) -> Vec<CheckResult> {
    let mut d = Data(seed ^ 0x6c6f);
    let rows = 1 + d.below(40);
    let pred = to_f64(&to_f32(&d.vec(rows)));
    let target = to_f64(&to_f32(&d.vec(rows)));
    let mut grad = vec![0.0f32; rows];
    let loss = mse_and_grad(&to_f32(&pred), &to_f32(&target), &mut grad);
    let what = format!("{rows} rows");
    vec![
        compare(
            "loss",
            &format!("{what}: mse"),
            &[loss as f32],
            &[reference::loss::mse(&pred, &target)],
            TOL_FORWARD,
        ),
        compare(
            "loss",
            &format!("{what}: dL/dŷ"),
            &grad,
            &reference::loss::mse_grad(&pred, &target),
            TOL_FORWARD,
        ),
    ]
}

fn check_adam(isa: Isa, seed: u64) -> Vec<CheckResult> {
    let mut d = Data(seed ^ 0x6164);
    let n = 1 + d.below(3000);
    let round = |v: Vec<f64>| to_f64(&to_f32(&v));
    let params = round(d.vec(n));
    let grads = round(d.vec(n).iter().map(|g| g * 0.1).collect());
    // Moments as Adam leaves them (earlier steps with random gradients), not drawn independently:
    // independent m and v can make |m|/√v, and so one update, orders of magnitude larger than Adam
    // ever produces, outside what the tolerance is set for.
    let cfg = AdamConfig::default();
    let mut earlier = reference::adam::AdamState::new(n);
    let mut scratch_params = vec![0.0; n];
    for _ in 0..d.below(200) {
        let g: Vec<f64> = d.vec(n).iter().map(|g| g * 0.1).collect();
        reference::adam::adam_step(&cfg, &mut earlier, &mut scratch_params, &g);
    }
    let (m, v, t) = (round(earlier.m), round(earlier.v), earlier.t);
    let mut want = params.clone();
    let mut state = reference::adam::AdamState {
        m: m.clone(),
        v: v.clone(),
        t,
    };
    reference::adam::adam_step(&cfg, &mut state, &mut want, &grads);
    let mut got = to_f32(&params);
    let mut moments = Moments {
        m: to_f32(&m),
        v: to_f32(&v),
        t,
    };
    adam_step(isa, &cfg, &mut moments, &mut got, &to_f32(&grads));
    vec![compare(
        "adam",
        &format!("{n} weights after step {}", t + 1),
        &got,
        &want,
        TOL_ADAM_STEP,
    )]
}

/// Whole fits of the check problem's three models (3 epochs, patience 2): losses per epoch, epochs run
/// and best epoch, restored weights, validation predictions.
fn check_fit(isa: Isa, seed: u64) -> Vec<CheckResult> {
    let pb = Problem::random(seed);
    let hyper = Hyper {
        epochs: 3,
        batch_size: pb.batch,
        patience: 2,
        adam: AdamConfig::default(),
        seed: pb.seed,
        stopping: EarlyStopRule::Keras37,
    };
    let mut net = Network::new(isa, &pb.layout, pb.lookback, pb.batch + 3);
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    for (m, &id) in pb.ids.iter().enumerate() {
        let (windows, scaled) = (pb.windows[m], pb.scaled(m));
        let mut want_state = reference::train_loop::ReferenceModel::new(&pb.layout, pb.seed, id);
        want_state.params = pb.initial_params(m);
        let want =
            reference::train_loop::fit(&pb.layout, &hyper, id, &mut want_state, &scaled, windows);
        let series = CpuSeries::new(&scaled);
        let mut state = CpuModel::new(&pb.initial_params(m));
        let mut best = f64::INFINITY;
        let got = fit_from_best(
            &mut net,
            &hyper,
            id,
            &mut state,
            &series,
            windows,
            &mut best,
            &mut scratch,
        );
        let losses = |h: &[crate::fit::EpochLoss]| {
            h.iter()
                .flat_map(|e| [e.train, e.val])
                .collect::<Vec<f64>>()
        };
        let mut r = compare(
            "fit",
            &format!("model {id}: train/val loss per epoch"),
            &to_f32(&losses(&got.history)),
            &losses(&want.history),
            TOL_TRAINING,
        );
        if got.history.len() != want.history.len() || got.best_epoch != want.best_epoch {
            r.pass = false;
            r.what = format!(
                "{} (epochs run {} vs {}, best epoch {} vs {})",
                r.what,
                got.history.len(),
                want.history.len(),
                got.best_epoch,
                want.best_epoch
            );
        }
        out.push(r);
        out.push(compare(
            "fit",
            &format!("model {id}: restored weights"),
            &state.params,
            &want_state.params,
            TOL_RESTORED,
        ));
        let pred = predict(&mut net, &state.params, &series, windows.val, &mut scratch);
        let want_pred =
            reference::train_loop::predict(&pb.layout, &want_state.params, &scaled, windows.val);
        out.push(compare(
            "fit",
            &format!("model {id}: validation predictions"),
            &to_f32(&pred),
            &want_pred,
            TOL_PREDICTIONS,
        ));
    }
    out
}
