//! Checkpoints: what `save` writes is what `load_models` / `load_params` read back, the file uses Keras
//! names and shapes, and every mismatch is refused with a message naming the file and the tensor.

use std::path::{Path, PathBuf};

use gpulstm::checkpoint::{load_models, load_params, save, Checkpoint, FORMAT};
use gpulstm::data::MinMax;
use gpulstm::model::{init_params, ModelSpec, ParamLayout, DEFAULT_LAYERS};
use gpulstm::train::protocol::{forecast, KeptModel};
use gpulstm::train::{RawData, Scaling};
use safetensors::SafeTensors;

fn layout(layers: &str, inputs: usize) -> ParamLayout {
    ParamLayout::new(&ModelSpec::parse(layers, inputs).expect("valid spec"))
}

fn names() -> Vec<String> {
    ["Close/Last", "Volume", "Open", "High", "Low"]
        .map(String::from)
        .to_vec()
}

/// Seeded Keras-default weights, rounded to f32 as the GPU holds them, so the f32 file is exact.
fn f32_params(layout: &ParamLayout, model: u32) -> Vec<f64> {
    init_params(layout, 7, model)
        .into_iter()
        .map(|v| v as f32 as f64)
        .collect()
}

/// A scaler with values that are awkward in decimal (`0.1 + 0.2`, a third), to test that the JSON
/// metadata gives back the same f64 bits, not merely close ones.
fn scaling(shift: f64) -> Scaling {
    Scaling {
        features: MinMax {
            min: vec![
                100.0 + shift,
                1.0e7,
                0.1 + 0.2,
                1.0 / 3.0,
                98.76543210987654,
            ],
            max: vec![200.0 + shift, 3.5e8, 250.125, 2.0 / 3.0, 199.99999999999997],
        },
        target: MinMax {
            min: vec![100.0 + shift],
            max: vec![200.0 + shift],
        },
        // Not the default, so the round trip shows the checkpoint records the transform.
        transform: gpulstm::data::TargetTransform::LogReturn,
    }
}

fn model(layout: &ParamLayout, id: u32) -> KeptModel {
    KeptModel {
        model_id: id,
        seed: 42,
        params: f32_params(layout, id),
        scaling: scaling(id as f64),
    }
}

/// A fresh directory under the target dir (not /tmp: it is shared with other builders).
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("checkpoint-{test}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn err_text(r: anyhow::Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", r.expect_err("expected an error"))
}

#[test]
fn walk_forward_round_trip_gives_identical_models_scalers_and_names() {
    let dir = scratch("round-trip");
    let path = dir.join("model.safetensors");
    let l = layout(DEFAULT_LAYERS, 5);
    let models: Vec<KeptModel> = [985, 986, 987].iter().map(|&id| model(&l, id)).collect();
    save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "walk-forward",
            models: &models,
            trained_through: None,
        },
        false,
    )
    .expect("save");

    let loaded = load_models(&path).expect("load");
    assert_eq!(loaded.layout, l);
    assert_eq!(loaded.lookback, 60);
    assert_eq!(loaded.feature_names, names());
    assert_eq!(loaded.target_name, "Close/Last");
    assert_eq!(loaded.protocol, "walk-forward");
    assert_eq!(loaded.gpulstm_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(loaded.models.len(), 3);
    for (a, b) in loaded.models.iter().zip(&models) {
        assert_eq!(a.model_id, b.model_id);
        // Bit-identical: f32 values survive f32 storage, and the scaler's f64s survive the JSON.
        assert_eq!(a.params, b.params, "model {}", b.model_id);
        assert_eq!(a.scaling, b.scaling, "model {}", b.model_id);
    }

    // `--init-weights` takes the newest model of the file (the last split's).
    assert_eq!(
        load_params(&path, &l).expect("load_params"),
        models[2].params
    );

    // The same weights give the same forecast before and after the trip.
    let rows = 80;
    let raw = RawData {
        x: (0..rows * 5)
            .map(|i| 120.0 + (i as f64 * 0.37).sin() * 30.0)
            .collect(),
        y: (0..rows)
            .map(|i| 150.0 + (i as f64 * 0.11).cos() * 20.0)
            .collect(),
        features: 5,
        lookback: 60,
        level: (0..rows)
            .map(|i| 150.0 + (i as f64 * 0.11).cos() * 20.0)
            .collect(),
        transform: Default::default(),
    };
    let before = forecast(&raw, &l, &models).expect("forecast");
    let after = forecast(&raw, &loaded.layout, &loaded.models).expect("forecast");
    assert_eq!(before.members, after.members);
}

#[test]
fn file_holds_keras_names_shapes_f32_and_metadata() {
    let dir = scratch("layout");
    let l = layout(DEFAULT_LAYERS, 5);

    let wf = dir.join("wf.safetensors");
    let models = vec![model(&l, 3), model(&l, 4)];
    save(
        &wf,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "walk-forward",
            models: &models,
            trained_through: None,
        },
        false,
    )
    .expect("save");
    let bytes = std::fs::read(&wf).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut got: Vec<(String, Vec<usize>)> = st
        .tensors()
        .into_iter()
        .map(|(n, v)| {
            assert_eq!(v.dtype(), safetensors::Dtype::F32, "{n}");
            (n, v.shape().to_vec())
        })
        .collect();
    got.sort();
    let mut want = Vec::new();
    for id in [3, 4] {
        for (name, shape) in [
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
        ] {
            want.push((format!("split_{id}/{name}"), shape));
        }
    }
    want.sort();
    assert_eq!(got, want);

    // Row-major Keras layout: element [r][c] of lstm_1/kernel is params[offset + r·4U + c].
    let view = st.tensor("split_4/lstm_1/kernel").unwrap();
    let k = l.tensor("lstm_1/kernel").unwrap();
    let e = 3 * 200 + 17;
    let stored = f32::from_le_bytes(view.data()[4 * e..4 * e + 4].try_into().unwrap());
    assert_eq!(stored as f64, models[1].params[k.offset + e]);

    let (_, meta) = SafeTensors::read_metadata(&bytes).unwrap();
    let meta = meta.metadata().clone().unwrap();
    assert_eq!(meta["format"], FORMAT);
    assert_eq!(meta["protocol"], "walk-forward");
    assert_eq!(meta["layers"], DEFAULT_LAYERS);
    assert_eq!(meta["lookback"], "60");
    assert_eq!(
        meta["feature_names"],
        r#"["Close/Last","Volume","Open","High","Low"]"#
    );
    assert_eq!(meta["target_name"], "Close/Last");
    assert_eq!(meta["model_ids"], "[3,4]");
    assert_eq!(meta["tensor_prefixes"], r#"["split_3/","split_4/"]"#);
    let scalers: serde_json::Value = serde_json::from_str(&meta["scalers"]).unwrap();
    assert_eq!(scalers[1]["target"]["min"][0], 104.0);

    // A seed-protocol file holds one model under bare Keras names.
    let seed = dir.join("seed.safetensors");
    save(
        &seed,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "seed",
            models: &[model(&l, 0)],
            trained_through: None,
        },
        false,
    )
    .expect("save");
    let bytes = std::fs::read(&seed).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut got = st.names();
    got.sort_unstable();
    let mut want: Vec<&str> = l.tensors.iter().map(|t| t.name.as_str()).collect();
    want.sort_unstable();
    assert_eq!(got, want);
    let loaded = load_models(&seed).unwrap();
    assert_eq!(loaded.models[0].params, f32_params(&l, 0));
    assert_eq!(loaded.protocol, "seed");
}

#[test]
fn f64_weights_are_stored_as_their_nearest_f32() {
    let dir = scratch("f64");
    let path = dir.join("m.safetensors");
    let l = layout("lstm:4,dense:1", 2);
    let params: Vec<f64> = (0..l.total).map(|i| 0.1 * i as f64 + 1e-9).collect();
    let m = KeptModel {
        model_id: 0,
        seed: 42,
        params: params.clone(),
        scaling: Scaling {
            features: MinMax {
                min: vec![0.0, 0.0],
                max: vec![1.0, 1.0],
            },
            target: MinMax {
                min: vec![0.0],
                max: vec![1.0],
            },
            transform: Default::default(),
        },
    };
    let feats = vec!["a".to_string(), "b".to_string()];
    save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 3,
            feature_names: &feats,
            target_name: "a",
            protocol: "seed",
            models: &[m],
            trained_through: None,
        },
        false,
    )
    .unwrap();
    let back = load_params(&path, &l).unwrap();
    let want: Vec<f64> = params.iter().map(|&v| v as f32 as f64).collect();
    assert_eq!(back, want);
}

#[test]
fn an_existing_file_is_kept_unless_overwrite_is_asked() {
    let dir = scratch("overwrite");
    let path = dir.join("model.safetensors");
    std::fs::write(&path, b"precious").unwrap();
    let l = layout(DEFAULT_LAYERS, 5);
    let msg = err_text(save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "seed",
            models: &[model(&l, 0)],
            trained_through: None,
        },
        false,
    ));
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("already exists"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), b"precious");

    save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "seed",
            models: &[model(&l, 0)],
            trained_through: None,
        },
        true,
    )
    .expect("overwrite");
    assert_eq!(load_params(&path, &l).unwrap(), f32_params(&l, 0));
}

#[test]
fn wrong_shapes_and_names_are_refused_naming_file_and_tensor() {
    let dir = scratch("mismatch");
    let path = dir.join("model.safetensors");
    let l = layout(DEFAULT_LAYERS, 5);
    save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "walk-forward",
            models: &[model(&l, 9)],
            trained_through: None,
        },
        false,
    )
    .unwrap();
    let file = path.display().to_string();

    // Wider first LSTM: shape mismatch on the very first tensor.
    let wide = layout(
        "lstm:64:seq,dropout:0.3,lstm:50,dropout:0.2,dense:25,dense:1",
        5,
    );
    let msg = err_text(load_params(&path, &wide));
    assert!(msg.starts_with(&file), "{msg}");
    assert!(msg.contains("`split_9/lstm_1/kernel`"), "{msg}");
    assert!(
        msg.contains("[5, 200]") && msg.contains("[5, 256]"),
        "{msg}"
    );

    // Fewer inputs than the file's model was trained on.
    let narrow = layout(DEFAULT_LAYERS, 4);
    let msg = err_text(load_params(&path, &narrow));
    assert!(
        msg.contains("`split_9/lstm_1/kernel`") && msg.contains("[4, 200]"),
        "{msg}"
    );

    // A deeper stack needs a tensor the file lacks.
    let deeper = layout("lstm:50:seq,lstm:50:seq,lstm:50,dense:25,dense:1", 5);
    let msg = err_text(load_params(&path, &deeper));
    assert!(msg.starts_with(&file), "{msg}");
    assert!(msg.contains("`split_9/lstm_3/kernel` not found"), "{msg}");

    // A shallower stack would silently ignore weights: refused too.
    let shallower = layout("lstm:50:seq,dropout:0.3,lstm:50,dropout:0.2,dense:1", 5);
    let msg = err_text(load_params(&path, &shallower));
    assert!(msg.starts_with(&file), "{msg}");
    assert!(msg.contains("`split_9/dense_1/kernel`"), "{msg}");

    // Dropout rates do not change the weights, so a different rate loads.
    let other_rates = layout(
        "lstm:50:seq,dropout:0.1,lstm:50,dropout:0,dense:25,dense:1",
        5,
    );
    assert_eq!(load_params(&path, &other_rates).unwrap(), f32_params(&l, 9));
}

#[test]
fn unreadable_and_foreign_files_name_the_file() {
    let dir = scratch("bad-files");
    let l = layout(DEFAULT_LAYERS, 5);

    let missing = dir.join("missing.safetensors");
    let msg = err_text(load_models(&missing));
    assert!(msg.starts_with(&missing.display().to_string()), "{msg}");

    let garbage = dir.join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a checkpoint").unwrap();
    let msg = err_text(load_params(&garbage, &l));
    assert!(msg.starts_with(&garbage.display().to_string()), "{msg}");
    assert!(msg.contains("not a valid safetensors file"), "{msg}");

    // Plain safetensors without gpulstm metadata: load_params reads bare Keras names,
    // load_models asks for the metadata it needs.
    let foreign = dir.join("foreign.safetensors");
    let tiny = layout("lstm:2,dense:1", 1);
    let bytes: Vec<Vec<u8>> = tiny
        .tensors
        .iter()
        .map(|t| (0..t.len).flat_map(|i| (i as f32).to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tiny
        .tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            let v =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, t.shape.clone(), b)
                    .unwrap();
            (t.name.clone(), v)
        })
        .collect();
    std::fs::write(&foreign, safetensors::serialize(views, None).unwrap()).unwrap();
    let params = load_params(&foreign, &tiny).unwrap();
    assert_eq!(params.len(), tiny.total);
    assert_eq!(params[tiny.tensor("lstm_1/bias").unwrap().offset + 3], 3.0);
    let msg = err_text(load_models(&foreign));
    assert!(msg.starts_with(&foreign.display().to_string()), "{msg}");
    assert!(msg.contains("`format` is missing"), "{msg}");
}

#[test]
fn save_refuses_models_that_do_not_fit_the_layout() {
    let dir = scratch("refuse");
    let l = layout(DEFAULT_LAYERS, 5);
    let path = dir.join("m.safetensors");
    let mut short = model(&l, 1);
    short.params.pop();
    let msg = err_text(save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "walk-forward",
            models: &[short],
            trained_through: None,
        },
        false,
    ));
    assert!(
        msg.starts_with(&path.display().to_string()) && msg.contains("parameters"),
        "{msg}"
    );
    let msg = err_text(save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names()[..4],
            target_name: "Close/Last",
            protocol: "seed",
            models: &[model(&l, 0)],
            trained_through: None,
        },
        false,
    ));
    assert!(msg.contains("4 feature names"), "{msg}");
    let msg = err_text(save(
        &path,
        &Checkpoint {
            layout: &l,
            lookback: 60,
            feature_names: &names(),
            target_name: "Close/Last",
            protocol: "seed",
            models: &[],
            trained_through: None,
        },
        false,
    ));
    assert!(msg.contains("no models"), "{msg}");
    assert!(
        !path.exists(),
        "nothing is written when the models are refused"
    );
}
