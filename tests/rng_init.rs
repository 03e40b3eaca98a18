//! The shared RNG (Philox known answers, uniforms, shuffles), the seeded Keras initialisation, the
//! parameter layout, and the `--layers` parser.

use gpulstm::model::{init_params, LayerPlan, LayerSpec, ModelSpec, ParamLayout, DEFAULT_LAYERS};
use gpulstm::rng::{
    dropout_purpose, philox4x32_10, random_u32, shuffle, uniform, PURPOSE_DROPOUT, PURPOSE_INIT,
    PURPOSE_SHUFFLE,
};

// ---------------------------------------------------------------------------------------------
// Philox and the derived draws
// ---------------------------------------------------------------------------------------------

/// Random123's published known-answer vectors for philox4x32_10 (kat_vectors).
#[test]
fn philox_matches_random123_known_answers() {
    assert_eq!(
        philox4x32_10([0, 0, 0, 0], [0, 0]),
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    );
    assert_eq!(
        philox4x32_10([0xffffffff; 4], [0xffffffff; 2]),
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
    );
    assert_eq!(
        philox4x32_10(
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0]
        ),
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
    );
}

/// The project word is Philox word 0 with counter [model, purpose, step, index] and key
/// [seed_lo, seed_hi]: checked against the third known-answer vector by choosing the arguments.
#[test]
fn random_u32_maps_arguments_to_counter_and_key() {
    let seed = (0x299f31d0_u64 << 32) | 0xa4093822;
    assert_eq!(
        random_u32(seed, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344),
        0xd16cfe09
    );
    assert_eq!(random_u32(0, 0, 0, 0, 0), 0x6627e8d5);
}

/// uniform = (u >> 8)·2^-24: in [0, 1), a multiple of 2^-24, and exactly representable in f32
/// (so the WGSL f32 value equals this f64 value).
#[test]
fn uniform_is_in_unit_interval_and_exact() {
    let mut min = 1.0_f64;
    let mut max = 0.0_f64;
    let mut sum = 0.0;
    let n = 20_000;
    for i in 0..n {
        let u = uniform(42, 3, PURPOSE_INIT, 7, i);
        let word = random_u32(42, 3, PURPOSE_INIT, 7, i);
        assert_eq!(u, f64::from(word >> 8) / 16_777_216.0);
        assert!((0.0..1.0).contains(&u));
        assert_eq!(f64::from(u as f32), u, "uniform not exact in f32");
        let scaled = u * 16_777_216.0;
        assert_eq!(scaled, scaled.trunc(), "uniform not a multiple of 2^-24");
        min = min.min(u);
        max = max.max(u);
        sum += u;
    }
    // Sanity of the distribution: 20 000 draws cover [0, 1) and average 1/2. The mean's standard
    // error is √(1/12)/√20000 ≈ 0.002, so 0.01 is a 5σ bound.
    assert!(min < 0.001 && max > 0.999, "min {min} max {max}");
    assert!((sum / f64::from(n) - 0.5).abs() < 0.01);
    // The largest possible value is 1 − 2^-24, never 1.
    assert_eq!(
        f64::from(u32::MAX >> 8) / 16_777_216.0,
        1.0 - 2f64.powi(-24)
    );
}

#[test]
fn purposes_have_the_documented_values() {
    assert_eq!(PURPOSE_INIT, 1);
    assert_eq!(PURPOSE_SHUFFLE, 2);
    assert_eq!(PURPOSE_DROPOUT, 3);
    assert_eq!(dropout_purpose(0), 3);
    assert_eq!(dropout_purpose(1), 0x103);
    assert_eq!(dropout_purpose(3), 0x303);
}

/// Fisher–Yates per ARCHITECTURE.md, written out independently for n = 4: i = 3, 2, 1 with
/// j = u(i) mod (i+1).
#[test]
fn shuffle_follows_the_documented_fisher_yates() {
    let (seed, model, epoch) = (9_u64, 2_u32, 5_u32);
    let mut expected = [0_u32, 1, 2, 3];
    for i in [3_u32, 2, 1] {
        let j = random_u32(seed, model, PURPOSE_SHUFFLE, epoch, i) % (i + 1);
        expected.swap(i as usize, j as usize);
    }
    assert_eq!(shuffle(4, seed, model, epoch), expected.to_vec());
}

#[test]
fn shuffle_is_a_deterministic_permutation_that_varies_by_epoch_model_and_seed() {
    let n = 200;
    let p = shuffle(n, 42, 0, 0);
    let mut sorted = p.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n as u32).collect::<Vec<_>>());
    assert_eq!(p, shuffle(n, 42, 0, 0));
    assert_ne!(p, (0..n as u32).collect::<Vec<_>>());
    assert_ne!(p, shuffle(n, 42, 0, 1), "same order in two epochs");
    assert_ne!(p, shuffle(n, 42, 1, 0), "same order for two models");
    assert_ne!(p, shuffle(n, 43, 0, 0), "same order for two seeds");
    assert_eq!(shuffle(0, 42, 0, 0), Vec::<u32>::new());
    assert_eq!(shuffle(1, 42, 0, 0), vec![0]);
}

/// Over 24 000 epochs, each of 4 samples comes first about 6000 times. Binomial σ = √(24000·¼·¾)
/// ≈ 67, so ±400 is a 6σ bound: a biased or broken swap would show far beyond it.
#[test]
fn shuffle_first_position_is_uniform() {
    let mut counts = [0_i64; 4];
    for epoch in 0..24_000 {
        counts[shuffle(4, 1, 0, epoch)[0] as usize] += 1;
    }
    for c in counts {
        assert!((c - 6000).abs() < 400, "counts {counts:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Layout and initialisation
// ---------------------------------------------------------------------------------------------

fn default_layout() -> ParamLayout {
    ParamLayout::new(&ModelSpec::parse(DEFAULT_LAYERS, 5).expect("default spec parses"))
}

/// Keras names, shapes and order; the total is Keras' `model.summary()` count for the reference model
/// with 5 features: LSTM 4·50·(5+50+1) = 11200, LSTM 4·50·(50+50+1) = 20200, Dense 50·25+25 = 1275,
/// Dense 25+1 = 26, total 32701.
#[test]
fn default_layout_has_keras_names_shapes_and_count() {
    let layout = default_layout();
    let expected: Vec<(&str, Vec<usize>)> = vec![
        ("lstm_1/kernel", vec![5, 200]),
        ("lstm_1/recurrent_kernel", vec![50, 200]),
        ("lstm_1/bias", vec![200]),
        ("lstm_2/kernel", vec![50, 200]),
        ("lstm_2/recurrent_kernel", vec![50, 200]),
        ("lstm_2/bias", vec![200]),
        ("dense_1/kernel", vec![50, 25]),
        ("dense_1/bias", vec![25]),
        ("dense_2/kernel", vec![25, 1]),
        ("dense_2/bias", vec![1]),
    ];
    assert_eq!(layout.tensors.len(), expected.len());
    let mut offset = 0;
    for (slot, (name, shape)) in layout.tensors.iter().zip(&expected) {
        assert_eq!(slot.name, *name);
        assert_eq!(&slot.shape, shape);
        assert_eq!(slot.offset, offset, "{name} not contiguous");
        assert_eq!(slot.len, shape.iter().product::<usize>());
        offset += slot.len;
    }
    assert_eq!(layout.total, 32701);
    assert_eq!(offset, layout.total);
    assert_eq!(
        layout.tensor("dense_1/bias").map(|t| t.offset),
        Some(32700 - 25 - 25)
    );
    assert!(layout.tensor("lstm_3/kernel").is_none());
    // Plans chain the widths and carry the dropout layer positions.
    assert_eq!(
        layout.layers[2],
        LayerPlan::Lstm {
            input: 50,
            units: 50,
            return_sequences: false,
            kernel: 11200,
            recurrent: 11200 + 10000,
            bias: 11200 + 20000,
        }
    );
    assert_eq!(
        layout.layers[3],
        LayerPlan::Dropout {
            rate: 0.2,
            layer_index: 3
        }
    );
}

/// Glorot uniform: every kernel element is exactly `(2u−1)·limit` with u from (init, tensor number,
/// element), so |w| < limit; the values fill the range and average ≈ 0.
#[test]
fn glorot_kernels_follow_the_rng_contract_and_bounds() {
    let layout = default_layout();
    let (seed, model) = (42, 0);
    let params = init_params(&layout, seed, model);
    for (k, slot) in layout.tensors.iter().enumerate() {
        if !slot.name.ends_with("/kernel") {
            continue;
        }
        let (fan_in, fan_out) = (slot.shape[0], slot.shape[1]);
        let limit = (6.0 / (fan_in + fan_out) as f64).sqrt();
        let w = &params[slot.offset..slot.offset + slot.len];
        for (e, &x) in w.iter().enumerate() {
            let u = uniform(seed, model, PURPOSE_INIT, k as u32, e as u32);
            assert_eq!(x, (2.0 * u - 1.0) * limit, "{} element {e}", slot.name);
            assert!(x.abs() < limit);
        }
        let n = w.len() as f64;
        let mean = w.iter().sum::<f64>() / n;
        let max = w.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
        // Uniform on (−L, L): σ = L/√3, so the mean's standard error is L/√(3n). The smallest kernel
        // here (dense_2, n = 25) gives 0.115 L; 0.5 L is > 4σ for it and far more for the others.
        println!(
            "{}: n {n}, mean/limit {:.4}, max/limit {:.4}",
            slot.name,
            mean / limit,
            max / limit
        );
        assert!(mean.abs() < 0.5 * limit, "{} mean {mean}", slot.name);
        if n >= 1000.0 {
            // n ≥ 1000: standard error ≤ 0.018 L, so 0.1 L is > 5σ.
            assert!(mean.abs() < 0.1 * limit, "{} mean {mean}", slot.name);
            assert!(max > 0.99 * limit, "{} does not fill its range", slot.name);
        }
    }
}

fn normal(seed: u64, model: u32, tensor: u32, e: u32) -> f64 {
    let u1 = uniform(seed, model, PURPOSE_INIT, tensor, 2 * e);
    let u2 = uniform(seed, model, PURPOSE_INIT, tensor, 2 * e + 1);
    (-2.0 * (1.0 - u1).ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Keras Orthogonal on [U][4U]: W·Wᵀ = I. Its rows are Q's columns for the QR of Aᵀ with R's diagonal
/// made positive, where A[r][c] is the Box–Muller normal of element r·4U+c. That fixes W uniquely:
/// row 0 is A's row 0 normalised, row j is orthogonal to A's rows 0..j−1, and W[j]·A[j] = R[j][j] > 0.
#[test]
fn recurrent_kernels_are_keras_orthogonal() {
    let layout = default_layout();
    let (seed, model) = (42, 0);
    let params = init_params(&layout, seed, model);
    for name in ["lstm_1/recurrent_kernel", "lstm_2/recurrent_kernel"] {
        let k = layout.tensors.iter().position(|t| t.name == name).unwrap() as u32;
        let slot = layout.tensor(name).unwrap();
        let (rows, cols) = (slot.shape[0], slot.shape[1]);
        let w = &params[slot.offset..slot.offset + slot.len];
        let a: Vec<f64> = (0..rows * cols)
            .map(|e| normal(seed, model, k, e as u32))
            .collect();
        let row = |m: &[f64], r: usize| m[r * cols..(r + 1) * cols].to_vec();
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>();
        // W·Wᵀ = I. Each entry is a 200-term dot product of O(0.07) numbers; rounding leaves ~1e-15,
        // so 1e-12 leaves three orders of margin while any real loss of orthogonality is ≫ 1e-12.
        let mut worst = 0.0_f64;
        for i in 0..rows {
            for j in 0..rows {
                let target = if i == j { 1.0 } else { 0.0 };
                worst = worst.max((dot(&row(w, i), &row(w, j)) - target).abs());
            }
        }
        println!("{name}: max |W·Wᵀ − I| = {worst:.3e}");
        assert!(worst < 1e-12);
        // Row 0 = A row 0 / |A row 0| (A's rows have norm ≈ √200 ≈ 14; 1e-14 is ~100 ulps).
        let a0 = row(&a, 0);
        let n0 = dot(&a0, &a0).sqrt();
        for c in 0..cols {
            assert!((w[c] - a0[c] / n0).abs() < 1e-14, "{name} row 0 col {c}");
        }
        // Triangular structure with positive diagonal. Dot products with A's rows (norm ≈ 14) carry
        // rounding ~1e-14; 1e-11 separates that from any structural violation (entries are O(1)).
        for j in 0..rows {
            let wj = row(w, j);
            for i in 0..j {
                assert!(dot(&wj, &row(&a, i)).abs() < 1e-11, "{name}: W[{j}]·A[{i}]");
            }
            assert!(
                dot(&wj, &row(&a, j)) > 0.0,
                "{name}: R[{j}][{j}] not positive"
            );
        }
    }
}

#[test]
fn biases_are_zero_except_the_lstm_forget_block() {
    let layout = default_layout();
    let params = init_params(&layout, 7, 1);
    for name in ["lstm_1/bias", "lstm_2/bias"] {
        let slot = layout.tensor(name).unwrap();
        let b = &params[slot.offset..slot.offset + slot.len];
        for (g, &x) in b.iter().enumerate() {
            // Gate blocks i, f, c, o of 50 each: forget is [50, 100).
            let expected = if (50..100).contains(&g) { 1.0 } else { 0.0 };
            assert_eq!(x, expected, "{name}[{g}]");
        }
    }
    for name in ["dense_1/bias", "dense_2/bias"] {
        let slot = layout.tensor(name).unwrap();
        assert!(params[slot.offset..slot.offset + slot.len]
            .iter()
            .all(|&x| x == 0.0));
    }
}

#[test]
fn init_is_deterministic_and_differs_across_models_and_seeds() {
    let layout = default_layout();
    let a = init_params(&layout, 42, 0);
    assert_eq!(a, init_params(&layout, 42, 0));
    for other in [init_params(&layout, 42, 1), init_params(&layout, 43, 0)] {
        // Every random tensor must change, not just one: compare tensor by tensor.
        for slot in &layout.tensors {
            if slot.name.ends_with("bias") {
                continue;
            }
            let (x, y) = (
                &a[slot.offset..][..slot.len],
                &other[slot.offset..][..slot.len],
            );
            let same = x.iter().zip(y).filter(|(p, q)| p == q).count();
            assert!(
                same < slot.len / 10 + 1,
                "{}: {same} equal elements",
                slot.name
            );
        }
    }
    // Seeds differing only in the high word reach a different key word.
    assert_ne!(a, init_params(&layout, 42 | (1 << 32), 0));
}

// ---------------------------------------------------------------------------------------------
// The `--layers` parser
// ---------------------------------------------------------------------------------------------

#[test]
fn default_spec_parses_and_round_trips() {
    let spec = ModelSpec::parse(DEFAULT_LAYERS, 5).unwrap();
    assert_eq!(spec.input_size, 5);
    assert_eq!(
        spec.layers,
        vec![
            LayerSpec::Lstm {
                units: 50,
                return_sequences: true
            },
            LayerSpec::Dropout { rate: 0.3 },
            LayerSpec::Lstm {
                units: 50,
                return_sequences: false
            },
            LayerSpec::Dropout { rate: 0.2 },
            LayerSpec::Dense { units: 25 },
            LayerSpec::Dense { units: 1 },
        ]
    );
    assert_eq!(spec.to_spec_string(), DEFAULT_LAYERS);
    assert!(spec.validate().is_ok());
    // Spaces around items (and fields) are accepted and normalised away.
    let spaced = ModelSpec::parse(" lstm:8:seq , dropout:0.25,lstm: 4 ,dense:1 ", 2).unwrap();
    assert_eq!(
        spaced.to_spec_string(),
        "lstm:8:seq,dropout:0.25,lstm:4,dense:1"
    );
    assert_eq!(
        ModelSpec::parse(&spaced.to_spec_string(), 2).unwrap(),
        spaced
    );
    // dropout:0 is allowed (the identity) and survives the round trip.
    let zero = ModelSpec::parse("lstm:3,dropout:0,dense:1", 1).unwrap();
    assert_eq!(ModelSpec::parse(&zero.to_spec_string(), 1).unwrap(), zero);
}

/// Parses `layers` expecting an error; returns its message.
fn error_of(layers: &str, input: usize) -> String {
    match ModelSpec::parse(layers, input) {
        Ok(spec) => panic!("`{layers}` parsed as {spec:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts the message names `--layers`, contains every fragment, and says what is allowed.
fn assert_message(message: &str, fragments: &[&str]) {
    assert!(message.contains("--layers"), "{message}");
    assert!(message.contains("lstm:UNITS[:seq]"), "{message}");
    for f in fragments {
        assert!(message.contains(f), "`{message}` lacks `{f}`");
    }
}

#[test]
fn spec_errors_name_the_item_and_the_rule() {
    let cases: Vec<(&str, usize, Vec<&str>)> = vec![
        ("", 5, vec!["empty"]),
        ("   ", 5, vec!["empty"]),
        ("lstm:4,,dense:1", 5, vec!["item 2", "empty item"]),
        ("lstm:4,dense:1,", 5, vec!["item 3", "empty item"]),
        (
            "lstm:4,gru:3,dense:1",
            5,
            vec!["item 2 `gru:3`", "unknown layer kind `gru`"],
        ),
        (
            "lstm,dense:1",
            5,
            vec!["item 1 `lstm`", "missing the number of units"],
        ),
        (
            "lstm:,dense:1",
            5,
            vec!["item 1", "missing the number of units"],
        ),
        (
            "lstm:4.5,dense:1",
            5,
            vec!["item 1 `lstm:4.5`", "not a whole number"],
        ),
        ("lstm:-3,dense:1", 5, vec!["item 1", "not a whole number"]),
        ("lstm:0,dense:1", 5, vec!["item 1 `lstm:0`", "at least 1"]),
        ("lstm:4,dense:0", 5, vec!["item 2 `dense:0`", "at least 1"]),
        (
            "lstm:100000,dense:1",
            5,
            vec!["item 1", "exceeds the maximum 8192"],
        ),
        (
            "lstm:4:all,dense:1",
            5,
            vec!["item 1", "unknown lstm option `all`"],
        ),
        (
            "lstm:4,dense:1:seq",
            5,
            vec!["item 2", "unexpected extra field `seq`"],
        ),
        (
            "lstm:4,dropout,dense:1",
            5,
            vec!["item 2 `dropout`", "missing the dropout rate"],
        ),
        (
            "lstm:4,dropout:abc,dense:1",
            5,
            vec!["item 2", "not a number"],
        ),
        (
            "lstm:4,dropout:1,dense:1",
            5,
            vec!["item 2 `dropout:1`", "outside [0, 1)"],
        ),
        (
            "lstm:4,dropout:-0.1,dense:1",
            5,
            vec!["item 2", "outside [0, 1)"],
        ),
        (
            "lstm:4,dropout:NaN,dense:1",
            5,
            vec!["item 2", "outside [0, 1)"],
        ),
        (
            "dense:4,dense:1",
            5,
            vec!["item 1 `dense:4`", "first layer must be an lstm"],
        ),
        (
            "dropout:0.2,lstm:4,dense:1",
            5,
            vec!["item 1", "first layer must be an lstm"],
        ),
        (
            "lstm:4,lstm:3,dense:1",
            5,
            vec!["item 2 `lstm:3`", "needs a sequence", "`lstm:4`"],
        ),
        (
            "lstm:4,dropout:0.1,lstm:3,dense:1",
            5,
            vec!["item 3 `lstm:3`", "needs a sequence"],
        ),
        (
            "lstm:4:seq,lstm:4,dense:2,lstm:3,dense:1",
            5,
            vec!["item 4 `lstm:3`", "needs a sequence", "`dense:2`"],
        ),
        (
            "lstm:4:seq,dense:1",
            5,
            vec!["item 2 `dense:1`", "needs a vector", "`lstm:4:seq`"],
        ),
        (
            "lstm:4:seq,dropout:0.2,dense:1",
            5,
            vec!["item 3 `dense:1`", "needs a vector"],
        ),
        (
            "lstm:4,dense:2",
            5,
            vec!["item 2 `dense:2`", "must be `dense:1`"],
        ),
        (
            "lstm:4,dense:1,dropout:0.1",
            5,
            vec!["item 3", "must be `dense:1`"],
        ),
        ("lstm:4", 5, vec!["item 1 `lstm:4`", "must be `dense:1`"]),
        ("lstm:4,dense:1", 0, vec!["0 features"]),
        (
            "lstm:4,dense:1",
            9000,
            vec!["9000 features", "at most 8192"],
        ),
    ];
    for (layers, input, fragments) in cases {
        assert_message(&error_of(layers, input), &fragments);
    }
}

#[test]
fn validate_rejects_hand_built_specs() {
    let bad_rate = ModelSpec {
        input_size: 2,
        layers: vec![
            LayerSpec::Lstm {
                units: 3,
                return_sequences: false,
            },
            LayerSpec::Dropout { rate: 1.5 },
            LayerSpec::Dense { units: 1 },
        ],
    };
    let message = bad_rate.validate().unwrap_err().to_string();
    assert!(
        message.contains("item 2 `dropout:1.5`") && message.contains("outside [0, 1)"),
        "{message}"
    );
    let zero_units = ModelSpec {
        input_size: 2,
        layers: vec![
            LayerSpec::Lstm {
                units: 0,
                return_sequences: false,
            },
            LayerSpec::Dense { units: 1 },
        ],
    };
    assert!(zero_units
        .validate()
        .unwrap_err()
        .to_string()
        .contains("between 1 and 8192"));
}
