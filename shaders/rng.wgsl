// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the same function as
// src/rng.rs. Counter = (model, purpose, step, index), key = (seed_lo, seed_hi); ARCHITECTURE.md lists the
// purposes. WGSL has no 64-bit integers, so the 32x32→64 multiply is built from 16-bit halves.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;
const PURPOSE_SHUFFLE: u32 = 2u;
const PURPOSE_DROPOUT: u32 = 3u;

// Returns (high word, low word) of the 64-bit product a*b.
fn mul_hi_lo(a: u32, b: u32) -> vec2<u32> {
    let a_lo = a & 0xffffu;
    let a_hi = a >> 16u;
    let b_lo = b & 0xffffu;
    let b_hi = b >> 16u;
    let ll = a_lo * b_lo;
    let hl = a_hi * b_lo;
    let lh = a_lo * b_hi;
    let hh = a_hi * b_hi;
    // cross ≤ (2^16−1) + (2^16−1) + (2^16−1)^2 = 2^32 − 1: cannot overflow.
    let cross = (ll >> 16u) + (hl & 0xffffu) + lh;
    let hi = hh + (hl >> 16u) + (cross >> 16u);
    let lo = (cross << 16u) | (ll & 0xffffu);
    return vec2<u32>(hi, lo);
}

fn philox4x32_10(counter: vec4<u32>, key_in: vec2<u32>) -> vec4<u32> {
    var ctr = counter;
    var key = key_in;
    for (var round = 0u; round < 10u; round = round + 1u) {
        let p0 = mul_hi_lo(PHILOX_M0, ctr.x);
        let p1 = mul_hi_lo(PHILOX_M1, ctr.z);
        ctr = vec4<u32>(p1.x ^ ctr.y ^ key.x, p1.y, p0.x ^ ctr.w ^ key.y, p0.y);
        key = key + vec2<u32>(PHILOX_W0, PHILOX_W1);
    }
    return ctr;
}

fn random_u32(seed: vec2<u32>, model: u32, purpose: u32, step: u32, index: u32) -> u32 {
    return philox4x32_10(vec4<u32>(model, purpose, step, index), seed).x;
}

// (u >> 8) · 2^-24: 24 significant bits, so the value is exact in f32 and equals the f64 of the CPU.
fn random_uniform(seed: vec2<u32>, model: u32, purpose: u32, step: u32, index: u32) -> f32 {
    return f32(random_u32(seed, model, purpose, step, index) >> 8u) * (1.0 / 16777216.0);
}
