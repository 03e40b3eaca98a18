//! The counter-based random generator shared bit for bit with `shaders/rng.wgsl`.
//!
//! Every random number in the project (initial weights, epoch shuffles, dropout masks) is
//! `philox4x32_10(counter = [model, purpose, step, index], key = [seed_lo, seed_hi])`, first output
//! word. A counter-based generator has no state to carry between calls, so the GPU can draw element
//! `index` of any stream in any order and still match this CPU code exactly (ARCHITECTURE.md,
//! "Random numbers").

/// Purpose value of the initial-weight stream (step = tensor number in layout order).
pub const PURPOSE_INIT: u32 = 1;
/// Purpose value of the per-epoch shuffle stream (step = the model's epoch serial).
pub const PURPOSE_SHUFFLE: u32 = 2;
/// Purpose value of a random sweep's draws (model = the draw, step = the key's position, index 0).
pub const PURPOSE_SWEEP: u32 = 4;
/// Purpose value of a sweep's bootstrap (model 0; step and index = the draw's number, high and low word).
pub const PURPOSE_BOOTSTRAP: u32 = 5;
/// Base purpose value of the dropout streams; the layer index goes in bits 8.. (see [`dropout_purpose`]).
pub const PURPOSE_DROPOUT: u32 = 3;

// Philox4x32 multipliers and Weyl key increments (Salmon et al., SC'11, "Parallel random numbers:
// as easy as 1, 2, 3"; the Random123 defaults).
const PHILOX_M0: u32 = 0xD251_1F53;
const PHILOX_M1: u32 = 0xCD9E_8D57;
const PHILOX_W0: u32 = 0x9E37_79B9;
const PHILOX_W1: u32 = 0xBB67_AE85;

/// Full 64-bit product of two 32-bit words, split into (high word, low word).
#[inline(always)] // the CPU engine's dropout loop vectorises through these
fn mul_hi_lo(a: u32, b: u32) -> (u32, u32) {
    let product = u64::from(a) * u64::from(b);
    ((product >> 32) as u32, product as u32)
}

/// One Philox round: two multiplications, the high halves mixed with the other two words and the key.
#[inline(always)] // the CPU engine's dropout loop vectorises through these
fn philox_round(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (hi0, lo0) = mul_hi_lo(PHILOX_M0, ctr[0]);
    let (hi1, lo1) = mul_hi_lo(PHILOX_M1, ctr[2]);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

/// Philox4x32 with 10 rounds. The key is bumped by the Weyl constants between rounds (nine bumps for
/// ten rounds), exactly as Random123's `philox4x32_R(10, ...)`.
#[inline(always)] // the CPU engine's dropout loop vectorises through these
pub fn philox4x32_10(counter: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let mut ctr = counter;
    let mut k = key;
    for round in 0..10 {
        ctr = philox_round(ctr, k);
        if round < 9 {
            k = [k[0].wrapping_add(PHILOX_W0), k[1].wrapping_add(PHILOX_W1)];
        }
    }
    ctr
}

/// The project's random word: first output word of Philox for counter `[model, purpose, step, index]`
/// and key `[seed_lo, seed_hi]`.
#[inline(always)] // the CPU engine's dropout loop vectorises through these
pub fn random_u32(seed: u64, model: u32, purpose: u32, step: u32, index: u32) -> u32 {
    let key = [seed as u32, (seed >> 32) as u32];
    philox4x32_10([model, purpose, step, index], key)[0]
}

/// Uniform in `[0, 1)`: the top 24 bits of the word times `2^-24`. 24 bits fit an f32 mantissa, so
/// the WGSL side produces the same value exactly in f32 and this f64 equals it.
pub fn uniform(seed: u64, model: u32, purpose: u32, step: u32, index: u32) -> f64 {
    let u = random_u32(seed, model, purpose, step, index);
    f64::from(u >> 8) * (1.0 / 16_777_216.0)
}

/// Purpose value of the dropout stream of the layer at 0-based position `layer_index` in the layer list:
/// `3 | (layer_index << 8)`, so different dropout layers never share a stream.
pub fn dropout_purpose(layer_index: usize) -> u32 {
    // Layer lists are a handful of entries long; a layer index that does not fit in 24 bits would be a
    // construction bug, not user input (the spec parser produces far fewer layers).
    debug_assert!(
        layer_index < (1 << 24),
        "layer index {layer_index} too large"
    );
    PURPOSE_DROPOUT | ((layer_index as u32) << 8)
}

/// The order in which an epoch visits the `n` samples of a training window: Fisher–Yates over
/// `perm = [0, n)`, for `i = n−1 down to 1`: `j = u(i) mod (i+1)`, swap `perm[i]` and `perm[j]`, where
/// `u(i)` is the word for (seed, model, [`PURPOSE_SHUFFLE`], `epoch_serial`, `i`).
///
/// `perm[k]` is the offset inside the training window of the k-th sample of the epoch. (The modulo has
/// a bias of at most `n / 2^32`, negligible for windows of a few thousand samples, and it keeps the
/// WGSL port a one-liner.)
pub fn shuffle(n: usize, seed: u64, model: u32, epoch_serial: u32) -> Vec<u32> {
    let mut perm = Vec::with_capacity(n);
    shuffle_into(&mut perm, n, seed, model, epoch_serial);
    perm
}

/// [`shuffle`] into a caller's buffer (no allocation once it has grown to `n`).
pub fn shuffle_into(perm: &mut Vec<u32>, n: usize, seed: u64, model: u32, epoch_serial: u32) {
    assert!(
        n <= u32::MAX as usize,
        "shuffle: window of {n} samples exceeds u32"
    );
    perm.clear();
    perm.extend(0..n as u32);
    for i in (1..n).rev() {
        let word = random_u32(seed, model, PURPOSE_SHUFFLE, epoch_serial, i as u32);
        let j = (word % (i as u32 + 1)) as usize;
        perm.swap(i, j);
    }
}
