//! The CPU reference's backward passes against central finite differences of its own forward passes,
//! all in f64, and its forward passes against hand-computed values.
//!
//! Finite differences: the fourth-order central stencil
//! `n = (−L(p+2h) + 8L(p+h) − 8L(p−h) + L(p−2h)) / 12h` with `h = 2e-3`. Relative error is
//! `|a−n| / max(|a|, |n|, 1e-8)`, asserted `< 1e-6` for every element of every tensor.
//!
//! Why not the plain `(L(p+h) − L(p−h)) / 2h` with `h = 1e-6`: its rounding floor is
//! `ε·|L|/h ≈ 1e-16/1e-6 = 1e-10` absolute (measured: 1e-11..1.3e-10 on every element here), and
//! this network has correct gradients as small as 1e-6 (recurrent weights far from the output),
//! so it reports relative errors up to 2e-5 with no bug present. The fourth-order stencil's
//! truncation error is `h⁴·L⁽⁵⁾/30 ≈ 5e-13` and its rounding floor `1.5·ε·|L|/h ≈ 1e-13`, so at
//! h = 2e-3 the measured worst case is 3e-8 (printed with `--nocapture`): a 30× margin under 1e-6,
//! while a sign, index or missing-term bug gives O(1e-2..1) relative error.
use gpulstm::model::{init_params, ModelSpec, ParamLayout};
use gpulstm::reference::dense::{dense_backward, dense_forward};
use gpulstm::reference::dropout::{dropout_mask, DropoutKey};
use gpulstm::reference::loss::{mse, mse_grad};
use gpulstm::reference::lstm::{lstm_backward, lstm_forward, LstmDims};
use gpulstm::reference::network::{backward_full, forward, LayerCache};
use gpulstm::rng::uniform;

/// Step of the finite-difference stencil (see the module doc).
const H: f64 = 2e-3;
const TOLERANCE: f64 = 1e-6;

/// Test data in [−scale, scale) from the project RNG on a purpose no production stream uses.
fn random_vec(n: usize, stream: u32, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|e| (2.0 * uniform(2024, 0, 900, stream, e as u32) - 1.0) * scale)
        .collect()
}

fn relative_error(a: f64, n: f64) -> f64 {
    (a - n).abs() / a.abs().max(n.abs()).max(1e-8)
}

/// Max relative error between `analytic` and the fourth-order central difference of `loss` with
/// respect to each element of `values`; asserts it is below [`TOLERANCE`].
fn check(name: &str, values: &[f64], analytic: &[f64], loss: &dyn Fn(&[f64]) -> f64) {
    assert_eq!(values.len(), analytic.len(), "{name}: gradient size");
    let mut worst = 0.0_f64;
    let mut probe = values.to_vec();
    for k in 0..values.len() {
        let mut at = |delta: f64| {
            probe[k] = values[k] + delta;
            let l = loss(&probe);
            probe[k] = values[k];
            l
        };
        let numeric = (-at(2.0 * H) + 8.0 * at(H) - 8.0 * at(-H) + at(-2.0 * H)) / (12.0 * H);
        worst = worst.max(relative_error(analytic[k], numeric));
    }
    println!(
        "  {name:<28} {:>4} elements  max rel err {worst:.2e}",
        values.len()
    );
    assert!(worst < TOLERANCE, "{name}: max relative error {worst:.3e}");
}

// ---------------------------------------------------------------------------------------------
// Forward passes against hand computation
// ---------------------------------------------------------------------------------------------

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// One unit, one input, two steps, one row, with different weights per gate so a gate-order mix-up
/// changes the result. Gate order in every tensor: i, f, c, o.
#[test]
fn lstm_forward_matches_hand_computation() {
    let d = LstmDims {
        steps: 2,
        rows: 1,
        input: 1,
        units: 1,
    };
    let kernel = [0.5, -0.3, 0.8, 0.2]; // W_i, W_f, W_c, W_o
    let recurrent = [0.1, 0.4, -0.6, 0.7]; // U_i, U_f, U_c, U_o
    let bias = [0.05, 1.0, -0.1, 0.2];
    let x = [1.5, -0.7];
    let cache = lstm_forward(&d, &x, &kernel, &recurrent, &bias);

    // Step 0: h_prev = 0, c_prev = 0.
    let i0 = sigmoid(0.5 * 1.5 + 0.05);
    let f0 = sigmoid(-0.3 * 1.5 + 1.0);
    let g0 = (0.8 * 1.5 - 0.1_f64).tanh();
    let o0 = sigmoid(0.2 * 1.5 + 0.2);
    let c0 = f0 * 0.0 + i0 * g0;
    let h0 = o0 * c0.tanh();
    // Step 1.
    let i1 = sigmoid(0.5 * -0.7 + 0.1 * h0 + 0.05);
    let f1 = sigmoid(-0.3 * -0.7 + 0.4 * h0 + 1.0);
    let g1 = (0.8 * -0.7 - 0.6 * h0 - 0.1).tanh();
    let o1 = sigmoid(0.2 * -0.7 + 0.7 * h0 + 0.2);
    let c1 = f1 * c0 + i1 * g1;
    let h1 = o1 * c1.tanh();

    // Same formulas in the same order, so agreement is to rounding (a few ulps of O(1) values).
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    let expected_gates = [i0, f0, g0, o0, i1, f1, g1, o1];
    for (k, (&a, &b)) in cache.gates.iter().zip(&expected_gates).enumerate() {
        assert!(close(a, b), "gate {k}: {a} vs {b}");
    }
    assert!(close(cache.c[0], c0) && close(cache.c[1], c1));
    assert_eq!(cache.h.len(), 3);
    assert_eq!(cache.h[0], 0.0);
    assert!(close(cache.h[1], h0) && close(cache.h[2], h1));
    // And against values computed independently (Python `decimal`, 50 digits, same formulas typed
    // in separately); f64 evaluation of these O(1) expressions is good to ~1e-15, so 1e-13 is safe.
    let independent = [
        (cache.c[0], 0.552_323_897_182_451_8),
        (cache.h[1], 0.312_636_360_117_370_2),
        (cache.gates[5], 0.791_675_486_572_303_6), // f at step 1
        (cache.gates[6], -0.689_804_042_728_707),  // g at step 1
        (cache.c[1], 0.138_426_216_090_144_8),
        (cache.h[2], 0.078_301_448_646_334_45),
    ];
    for (k, (ours, theirs)) in independent.iter().enumerate() {
        assert!(
            (ours - theirs).abs() < 1e-13,
            "value {k}: {ours} vs {theirs}"
        );
    }
}

/// Time-major layout with two rows and two steps: row r of step t reads x[t][r] and writes
/// h[t+1][r]; rows do not interact.
#[test]
fn lstm_rows_are_independent_and_time_major() {
    let d = LstmDims {
        steps: 3,
        rows: 2,
        input: 2,
        units: 2,
    };
    let kernel = random_vec(2 * 8, 1, 0.5);
    let recurrent = random_vec(2 * 8, 2, 0.5);
    let bias = random_vec(8, 3, 0.5);
    let x = random_vec(3 * 2 * 2, 4, 1.0);
    let both = lstm_forward(&d, &x, &kernel, &recurrent, &bias);
    let one = LstmDims { rows: 1, ..d };
    for r in 0..2 {
        // Extract row r's sequence: x[t][r][:] for t = 0..3.
        let xr: Vec<f64> = (0..3)
            .flat_map(|t| x[(t * 2 + r) * 2..(t * 2 + r + 1) * 2].to_vec())
            .collect();
        let single = lstm_forward(&one, &xr, &kernel, &recurrent, &bias);
        for t in 0..=3 {
            for u in 0..2 {
                assert_eq!(
                    single.h[t * 2 + u],
                    both.h[(t * 2 + r) * 2 + u],
                    "h[{t}][{r}][{u}]"
                );
            }
        }
    }
}

#[test]
fn dense_forward_matches_hand_computation() {
    // x [2][3], W [3][2], b [2].
    let x = [1.0, 2.0, 3.0, -1.0, 0.5, 0.0];
    let w = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    let b = [0.01, -0.02];
    let y = dense_forward(2, 3, 2, &x, &w, &b);
    let expected = [
        0.01 + 1.0 * 0.1 + 2.0 * 0.3 + 3.0 * 0.5,
        -0.02 + 1.0 * 0.2 + 2.0 * 0.4 + 3.0 * 0.6,
        0.01 - 1.0 * 0.1 + 0.5 * 0.3,
        -0.02 - 1.0 * 0.2 + 0.5 * 0.4,
    ];
    for (a, e) in y.iter().zip(&expected) {
        assert!((a - e).abs() < 1e-15, "{a} vs {e}");
    }
}

#[test]
fn mse_and_gradient_match_hand_computation() {
    let pred = [1.0, 2.0, 4.0];
    let target = [1.5, 2.0, 3.0];
    // (0.25 + 0 + 1) / 3
    assert_eq!(mse(&pred, &target), 1.25 / 3.0);
    assert_eq!(mse_grad(&pred, &target), vec![-1.0 / 3.0, 0.0, 2.0 / 3.0]);
}

/// Mask values are exactly 0 or 1/(1−rate) from the documented index formula, and the kept fraction
/// is about 1 − rate.
#[test]
fn dropout_mask_follows_the_rng_contract() {
    let key = DropoutKey {
        seed: 11,
        model: 2,
        step: 17,
    };
    let (steps, rows, units, rate) = (7, 5, 30, 0.3);
    let mask = dropout_mask(rate, 1, &key, steps, rows, units);
    let scale = 1.0 / (1.0 - rate);
    let mut kept = 0;
    for t in 0..steps {
        for r in 0..rows {
            for u in 0..units {
                let index = ((r * steps + t) * units + u) as u32;
                let draw = uniform(11, 2, 3 | (1 << 8), 17, index);
                let expected = if draw >= rate { scale } else { 0.0 };
                assert_eq!(mask[(t * rows + r) * units + u], expected);
                kept += usize::from(expected != 0.0);
            }
        }
    }
    // 1050 Bernoulli(0.7) draws: σ of the kept fraction ≈ 0.014, so ±0.07 is a 5σ bound.
    let fraction = kept as f64 / mask.len() as f64;
    assert!((fraction - 0.7).abs() < 0.07, "kept fraction {fraction}");
    // Rate 0 keeps everything with scale 1.
    assert!(dropout_mask(0.0, 1, &key, 2, 2, 2)
        .iter()
        .all(|&m| m == 1.0));
}

// ---------------------------------------------------------------------------------------------
// Gradient checks
// ---------------------------------------------------------------------------------------------

/// (a) One LSTM with sequence output; loss `L = Σ w⊙h[1..=T]` with random `w`, so `dh = w`.
#[test]
fn lstm_backward_matches_finite_differences() {
    let d = LstmDims {
        steps: 5,
        rows: 3,
        input: 4,
        units: 3,
    };
    let g4 = 4 * d.units;
    let x = random_vec(d.steps * d.rows * d.input, 10, 1.0);
    let kernel = random_vec(d.input * g4, 11, 0.6);
    let recurrent = random_vec(d.units * g4, 12, 0.6);
    let bias = random_vec(g4, 13, 0.5);
    let w = random_vec(d.steps * d.rows * d.units, 14, 1.0);
    let loss = |x: &[f64], k: &[f64], r: &[f64], b: &[f64]| -> f64 {
        let cache = lstm_forward(&d, x, k, r, b);
        cache.h[d.rows * d.units..]
            .iter()
            .zip(&w)
            .map(|(h, w)| h * w)
            .sum()
    };
    let cache = lstm_forward(&d, &x, &kernel, &recurrent, &bias);
    let g = lstm_backward(&d, &x, &kernel, &recurrent, &cache, &w);
    println!("lstm alone (T=5, R=3, I=4, U=3):");
    check("x", &x, &g.dx, &|p| loss(p, &kernel, &recurrent, &bias));
    check("kernel", &kernel, &g.dkernel, &|p| {
        loss(&x, p, &recurrent, &bias)
    });
    check("recurrent_kernel", &recurrent, &g.drecurrent, &|p| {
        loss(&x, &kernel, p, &bias)
    });
    check("bias", &bias, &g.dbias, &|p| {
        loss(&x, &kernel, &recurrent, p)
    });
    // dgates are the gradients with respect to the pre-activations, so summed over steps and rows
    // they must equal dbias (z = ... + b).
    for gate in 0..g4 {
        let sum: f64 = (0..d.steps * d.rows)
            .map(|tr| g.dgates[tr * g4 + gate])
            .sum();
        assert!(
            (sum - g.dbias[gate]).abs() < 1e-14,
            "dgates sum vs dbias at {gate}"
        );
    }
}

/// (b) Dense alone; loss `L = Σ w⊙y`.
#[test]
fn dense_backward_matches_finite_differences() {
    let (rows, input, units) = (3, 4, 2);
    let x = random_vec(rows * input, 20, 1.0);
    let kernel = random_vec(input * units, 21, 0.7);
    let bias = random_vec(units, 22, 0.5);
    let w = random_vec(rows * units, 23, 1.0);
    let loss = |x: &[f64], k: &[f64], b: &[f64]| -> f64 {
        let y = dense_forward(rows, input, units, x, k, b);
        y.iter().zip(&w).map(|(y, w)| y * w).sum()
    };
    let g = dense_backward(rows, input, units, &x, &kernel, &w);
    println!("dense alone (R=3, I=4, O=2):");
    check("x", &x, &g.dx, &|p| loss(p, &kernel, &bias));
    check("kernel", &kernel, &g.dkernel, &|p| loss(&x, p, &bias));
    check("bias", &bias, &g.dbias, &|p| loss(&x, &kernel, p));
}

/// (c) The whole default-shaped stack at small size, loss = MSE against random targets, checked on
/// every parameter tensor and on the input, without dropout and with a fixed dropout key (the mask
/// is then a constant, so the loss is smooth in the parameters).
#[test]
fn network_backward_matches_finite_differences() {
    let spec = ModelSpec::parse(
        "lstm:4:seq,dropout:0.3,lstm:3,dropout:0.2,dense:2,dense:1",
        2,
    )
    .expect("test spec parses");
    let layout = ParamLayout::new(&spec);
    let (steps, rows) = (5, 3);
    // Keras-initialised weights, nudged so the biases are not all 0/1 (every bias path gets tested).
    let params: Vec<f64> = init_params(&layout, 5, 0)
        .iter()
        .zip(random_vec(layout.total, 30, 0.2))
        .map(|(p, n)| p + n)
        .collect();
    let x = random_vec(steps * rows * 2, 31, 1.0);
    let target = random_vec(rows, 32, 1.0);
    let key = DropoutKey {
        seed: 3,
        model: 1,
        step: 4,
    };
    for dropout in [None, Some(&key)] {
        let loss = |p: &[f64], x: &[f64]| -> f64 {
            mse(&forward(&layout, p, x, steps, rows, dropout).pred, &target)
        };
        let cache = forward(&layout, &params, &x, steps, rows, dropout);
        let dpred = mse_grad(&cache.pred, &target);
        let grads = backward_full(&layout, &params, &x, &cache, &dpred);
        match dropout {
            None => println!("network, dropout off:"),
            Some(_) => {
                // The check is only meaningful if the masks really drop something.
                let dropped: usize = cache
                    .layers
                    .iter()
                    .filter_map(|l| match l {
                        LayerCache::Dropout { mask: Some(m) } => {
                            Some(m.iter().filter(|&&v| v == 0.0).count())
                        }
                        _ => None,
                    })
                    .sum();
                println!("network, fixed dropout key ({dropped} activations dropped):");
                assert!(dropped > 0);
            }
        }
        for slot in &layout.tensors {
            let range = slot.offset..slot.offset + slot.len;
            check(
                &slot.name,
                &params[range.clone()],
                &grads.params[range.clone()],
                &|p: &[f64]| {
                    let mut full = params.clone();
                    full[range.clone()].copy_from_slice(p);
                    loss(&full, &x)
                },
            );
        }
        check("x", &x, &grads.dx, &|p| loss(&params, p));
    }
}
