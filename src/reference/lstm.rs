//! One LSTM layer over a time-major batch, forward and backward (backpropagation through time).
//!
//! Layouts (ARCHITECTURE.md): `x [T][R][I]`, `kernel [I][4U]`, `recurrent [U][4U]`, `bias [4U]`,
//! gates `[T][R][4U]` in order i, f, c(g), o, `c [T][R][U]`, `h [T+1][R][U]` with `h[0] = 0`.
//!
//! Step `t`, row `r`:
//! `z = x_t·W + h_t·U + b`; `i = σ(z_i)`, `f = σ(z_f)`, `g = tanh(z_c)`, `o = σ(z_o)`;
//! `c_t = f⊙c_{t−1} + i⊙g` (with `c_{−1} = 0`); `h_{t+1} = o⊙tanh(c_t)`.

/// Sizes of one LSTM call: `steps` T, `rows` R (batch), `input` I features per step, `units` U.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LstmDims {
    pub steps: usize,
    pub rows: usize,
    pub input: usize,
    pub units: usize,
}

/// What the forward pass keeps for the backward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct LstmCache {
    /// Activated gates `[T][R][4U]`: i, f, g, o blocks.
    pub gates: Vec<f64>,
    /// Cell states `[T][R][U]`.
    pub c: Vec<f64>,
    /// Hidden states `[T+1][R][U]`; `h[0] = 0`, `h[t+1]` is the output of step `t`.
    pub h: Vec<f64>,
}

/// Gradients of one LSTM call.
#[derive(Debug, Clone, PartialEq)]
pub struct LstmGrads {
    /// `[T][R][I]`.
    pub dx: Vec<f64>,
    /// `[I][4U]`, summed over steps and rows.
    pub dkernel: Vec<f64>,
    /// `[U][4U]`, summed over steps and rows.
    pub drecurrent: Vec<f64>,
    /// `[4U]`, summed over steps and rows.
    pub dbias: Vec<f64>,
    /// Gradient with respect to the gate pre-activations `z`, `[T][R][4U]` (kept for kernel checks).
    pub dgates: Vec<f64>,
    /// Gradients with respect to the initial states `h[0]` and `c_{−1}` (both zero), `[R][U]`: nothing
    /// trains them; the GPU kernel check compares them.
    pub dh0: Vec<f64>,
    pub dc0: Vec<f64>,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Runs the layer over all `T` steps from zero initial states.
pub fn lstm_forward(
    d: &LstmDims,
    x: &[f64],
    kernel: &[f64],
    recurrent: &[f64],
    bias: &[f64],
) -> LstmCache {
    let (t_len, rows, input, units) = (d.steps, d.rows, d.input, d.units);
    let g4 = 4 * units;
    assert_eq!(x.len(), t_len * rows * input, "lstm_forward: x size");
    assert_eq!(kernel.len(), input * g4, "lstm_forward: kernel size");
    assert_eq!(recurrent.len(), units * g4, "lstm_forward: recurrent size");
    assert_eq!(bias.len(), g4, "lstm_forward: bias size");

    let mut gates = vec![0.0; t_len * rows * g4];
    let mut c = vec![0.0; t_len * rows * units];
    let mut h = vec![0.0; (t_len + 1) * rows * units];
    let mut z = vec![0.0; g4];
    for t in 0..t_len {
        for r in 0..rows {
            let x_row = &x[(t * rows + r) * input..][..input];
            let h_prev = &h[(t * rows + r) * units..][..units]; // h[t] = previous output
                                                                // Pre-activations z = b + x·W + h_prev·U.
            z.copy_from_slice(bias);
            for (i, &xi) in x_row.iter().enumerate() {
                for (zg, &w) in z.iter_mut().zip(&kernel[i * g4..(i + 1) * g4]) {
                    *zg += xi * w;
                }
            }
            for (k, &hk) in h_prev.iter().enumerate() {
                for (zg, &w) in z.iter_mut().zip(&recurrent[k * g4..(k + 1) * g4]) {
                    *zg += hk * w;
                }
            }
            let gate_row = (t * rows + r) * g4;
            for u in 0..units {
                let ig = sigmoid(z[u]);
                let fg = sigmoid(z[units + u]);
                let gg = z[2 * units + u].tanh();
                let og = sigmoid(z[3 * units + u]);
                gates[gate_row + u] = ig;
                gates[gate_row + units + u] = fg;
                gates[gate_row + 2 * units + u] = gg;
                gates[gate_row + 3 * units + u] = og;
                let c_prev = if t == 0 {
                    0.0
                } else {
                    c[((t - 1) * rows + r) * units + u]
                };
                let ct = fg * c_prev + ig * gg;
                c[(t * rows + r) * units + u] = ct;
                h[((t + 1) * rows + r) * units + u] = og * ct.tanh();
            }
        }
    }
    LstmCache { gates, c, h }
}

/// Backpropagation through time. `dh [T][R][U]` is the loss gradient with respect to each step's
/// output `h[t+1]` coming from above (all zero except the last step for a last-step LSTM).
pub fn lstm_backward(
    d: &LstmDims,
    x: &[f64],
    kernel: &[f64],
    recurrent: &[f64],
    cache: &LstmCache,
    dh: &[f64],
) -> LstmGrads {
    let (t_len, rows, input, units) = (d.steps, d.rows, d.input, d.units);
    let g4 = 4 * units;
    assert_eq!(x.len(), t_len * rows * input, "lstm_backward: x size");
    assert_eq!(kernel.len(), input * g4, "lstm_backward: kernel size");
    assert_eq!(recurrent.len(), units * g4, "lstm_backward: recurrent size");
    assert_eq!(dh.len(), t_len * rows * units, "lstm_backward: dh size");

    let mut dx = vec![0.0; t_len * rows * input];
    let mut dkernel = vec![0.0; input * g4];
    let mut drecurrent = vec![0.0; units * g4];
    let mut dbias = vec![0.0; g4];
    let mut dgates = vec![0.0; t_len * rows * g4];
    // Gradients flowing back from step t+1 into step t's h and c, per row: [R][U].
    let mut dh_next = vec![0.0; rows * units];
    let mut dc_next = vec![0.0; rows * units];

    for t in (0..t_len).rev() {
        for r in 0..rows {
            let gate_row = (t * rows + r) * g4;
            // Pointwise part: from dL/dh_t (above + recurrent) to dL/dz.
            for u in 0..units {
                let ig = cache.gates[gate_row + u];
                let fg = cache.gates[gate_row + units + u];
                let gg = cache.gates[gate_row + 2 * units + u];
                let og = cache.gates[gate_row + 3 * units + u];
                let ct = cache.c[(t * rows + r) * units + u];
                let c_prev = if t == 0 {
                    0.0
                } else {
                    cache.c[((t - 1) * rows + r) * units + u]
                };
                let tanh_c = ct.tanh();
                let dht = dh[(t * rows + r) * units + u] + dh_next[r * units + u];
                // h = o·tanh(c): both o and c receive gradient; c also gets the carry from step t+1.
                let d_o = dht * tanh_c;
                let dct = dht * og * (1.0 - tanh_c * tanh_c) + dc_next[r * units + u];
                // c = f·c_prev + i·g.
                let d_i = dct * gg;
                let d_f = dct * c_prev;
                let d_g = dct * ig;
                dc_next[r * units + u] = dct * fg;
                // Through the activations: σ' = s(1−s), tanh' = 1−g².
                dgates[gate_row + u] = d_i * ig * (1.0 - ig);
                dgates[gate_row + units + u] = d_f * fg * (1.0 - fg);
                dgates[gate_row + 2 * units + u] = d_g * (1.0 - gg * gg);
                dgates[gate_row + 3 * units + u] = d_o * og * (1.0 - og);
            }
            // Matrix part: z = x·W + h_prev·U + b.
            let dz = &dgates[gate_row..gate_row + g4];
            let x_row = &x[(t * rows + r) * input..][..input];
            let h_prev = &cache.h[(t * rows + r) * units..][..units];
            for i in 0..input {
                let w_row = &kernel[i * g4..(i + 1) * g4];
                dx[(t * rows + r) * input + i] = dz.iter().zip(w_row).map(|(a, b)| a * b).sum();
                for (dw, &g) in dkernel[i * g4..(i + 1) * g4].iter_mut().zip(dz) {
                    *dw += x_row[i] * g;
                }
            }
            for k in 0..units {
                let u_row = &recurrent[k * g4..(k + 1) * g4];
                // Gradient into h_prev (= h[t]) flows to step t−1 as its dh_next.
                dh_next[r * units + k] = dz.iter().zip(u_row).map(|(a, b)| a * b).sum();
                for (du, &g) in drecurrent[k * g4..(k + 1) * g4].iter_mut().zip(dz) {
                    *du += h_prev[k] * g;
                }
            }
            for (db, &g) in dbias.iter_mut().zip(dz) {
                *db += g;
            }
        }
    }
    LstmGrads {
        dx,
        dkernel,
        drecurrent,
        dbias,
        dgates,
        dh0: dh_next,
        dc0: dc_next,
    }
}
