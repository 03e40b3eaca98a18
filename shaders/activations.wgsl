// Activations written out so every backend computes them the same way: some drivers evaluate the built-in
// tanh as (e^2x − 1)/(e^2x + 1), which is NaN once e^2x overflows.

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

fn tanh_stable(x: f32) -> f32 {
    let e = exp(-2.0 * abs(x));
    let t = (1.0 - e) / (1.0 + e);
    return select(t, -t, x < 0.0);
}
