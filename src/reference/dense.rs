//! Linear (dense) layer: `y = x·W + b`, with `x [R][I]`, `kernel [I][O]`, `bias [O]`, `y [R][O]`.

/// Gradients of one dense call.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseGrads {
    /// `[R][I]`.
    pub dx: Vec<f64>,
    /// `[I][O]`, summed over rows.
    pub dkernel: Vec<f64>,
    /// `[O]`, summed over rows.
    pub dbias: Vec<f64>,
}

/// `y[r][o] = b[o] + Σ_i x[r][i]·W[i][o]`.
pub fn dense_forward(
    rows: usize,
    input: usize,
    units: usize,
    x: &[f64],
    kernel: &[f64],
    bias: &[f64],
) -> Vec<f64> {
    assert_eq!(x.len(), rows * input, "dense_forward: x size");
    assert_eq!(kernel.len(), input * units, "dense_forward: kernel size");
    assert_eq!(bias.len(), units, "dense_forward: bias size");
    let mut y = vec![0.0; rows * units];
    for r in 0..rows {
        for o in 0..units {
            let mut acc = bias[o];
            for i in 0..input {
                acc += x[r * input + i] * kernel[i * units + o];
            }
            y[r * units + o] = acc;
        }
    }
    y
}

/// Given `dy = dL/dy [R][O]`: `dx = dy·Wᵀ`, `dW = xᵀ·dy`, `db = Σ_r dy`.
pub fn dense_backward(
    rows: usize,
    input: usize,
    units: usize,
    x: &[f64],
    kernel: &[f64],
    dy: &[f64],
) -> DenseGrads {
    assert_eq!(x.len(), rows * input, "dense_backward: x size");
    assert_eq!(kernel.len(), input * units, "dense_backward: kernel size");
    assert_eq!(dy.len(), rows * units, "dense_backward: dy size");
    let mut dx = vec![0.0; rows * input];
    let mut dkernel = vec![0.0; input * units];
    let mut dbias = vec![0.0; units];
    for r in 0..rows {
        for o in 0..units {
            let g = dy[r * units + o];
            dbias[o] += g;
            for i in 0..input {
                dx[r * input + i] += g * kernel[i * units + o];
                dkernel[i * units + o] += x[r * input + i] * g;
            }
        }
    }
    DenseGrads { dx, dkernel, dbias }
}
