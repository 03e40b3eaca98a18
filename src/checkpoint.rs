//! Model checkpoints in the safetensors format (`DIR/model.safetensors`).
//!
//! The file holds one or more models with the same layer spec. Tensors are f32, in Keras layout and
//! Keras names (ARCHITECTURE.md, "Parameters"): `lstm_1/kernel [in, 4U]`, `lstm_1/recurrent_kernel
//! [U, 4U]`, `lstm_1/bias [4U]`, `dense_1/kernel [in, out]`, `dense_1/bias [out]`, ... A seed-protocol
//! file holds its single model under those bare names; any other file prefixes every name with the
//! model's split, `split_<id>/lstm_1/kernel`, so a walk-forward ensemble keeps its members apart and
//! says which split each came from; when the file holds models of several seeds (`--seeds`), the
//! prefix also names the seed: `split_<id>_seed_<seed>/`.
//!
//! Metadata (the safetensors string map), enough to rebuild the models and their inputs:
//!
//! | key | value |
//! |---|---|
//! | `format` | `gpulstm.checkpoint.v1` |
//! | `gpulstm_version` | crate version that wrote the file |
//! | `protocol` | `seed` or `walk-forward` (as the run named it) |
//! | `layers` | the `--layers` text of the spec |
//! | `lookback` | rows per input sequence |
//! | `feature_names` | JSON list, in input order |
//! | `target_name` | the predicted column |
//! | `model_ids` | JSON list of split indices (model ids), in file order |
//! | `seeds` | JSON list of each model's seed (optional: files of version 0.1 before `--seeds` lack it) |
//! | `tensor_prefixes` | JSON list, the name prefix of each model (`""` or `"split_<id>/"`) |
//! | `scalers` | JSON list of each model's min–max scalers (`{"features":{"min":[..],"max":[..]},"target":{..}}`) |
//!
//! Weights are trained in f32 on the GPU, so a GPU model survives the round trip exactly; the CPU
//! reference trains in f64 and its weights are rounded to the nearest f32 when saved.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::model::{ModelSpec, ParamLayout};
use crate::train::protocol::KeptModel;
use crate::train::Scaling;

/// Value of the `format` metadata key; bumped if the layout of the file ever changes.
pub const FORMAT: &str = "gpulstm.checkpoint.v1";

/// Metadata keys, shared by the writer and the reader so they cannot drift apart.
const KEY_FORMAT: &str = "format";
const KEY_VERSION: &str = "gpulstm_version";
const KEY_PROTOCOL: &str = "protocol";
const KEY_LAYERS: &str = "layers";
const KEY_LOOKBACK: &str = "lookback";
const KEY_FEATURES: &str = "feature_names";
const KEY_TARGET: &str = "target_name";
const KEY_MODEL_IDS: &str = "model_ids";
const KEY_SEEDS: &str = "seeds";
const KEY_PREFIXES: &str = "tensor_prefixes";
const KEY_SCALERS: &str = "scalers";
/// The last date any of the run's splits trained or validated on (optional: older files lack it).
const KEY_TRAINED_THROUGH: &str = "trained_through";

/// The models of a checkpoint and what is needed to feed them.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub layout: ParamLayout,
    pub lookback: usize,
    pub feature_names: Vec<String>,
    pub target_name: String,
    /// In file order (ascending split for walk-forward).
    pub models: Vec<KeptModel>,
    /// The protocol the models were trained with, as written by [`save`].
    pub protocol: String,
    /// Version of gpulstm that wrote the file.
    pub gpulstm_version: String,
    /// The last date the run's models trained or validated on (ISO), when the file records it.
    pub trained_through: Option<String>,
}

/// Name prefix of model `id`. Only a seed-protocol file with one model uses bare Keras names: that is
/// the single model the report trained, and bare names load directly in tools that expect one model.
fn prefix_for(protocol: &str, models: &[KeptModel], m: &KeptModel) -> String {
    let several_seeds = models.iter().any(|o| o.seed != m.seed);
    if protocol == "seed" && models.len() == 1 {
        String::new()
    } else if several_seeds {
        format!("split_{}_seed_{}/", m.model_id, m.seed)
    } else {
        format!("split_{}/", m.model_id)
    }
}

/// What a checkpoint file holds: the models and what is needed to feed them (the metadata table above).
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<'a> {
    /// The layer layout every model has.
    pub layout: &'a ParamLayout,
    /// Rows per input sequence.
    pub lookback: usize,
    /// Feature columns, in input order.
    pub feature_names: &'a [String],
    /// The predicted column.
    pub target_name: &'a str,
    /// `seed` or `walk-forward`, as the run named it.
    pub protocol: &'a str,
    pub models: &'a [KeptModel],
    /// The last date any of the run's splits trained or validated on.
    pub trained_through: Option<&'a str>,
}

/// Writes `checkpoint` to `path`. Fails, naming the file, when the file exists and `overwrite` is false,
/// or when a model does not fit the layout or the feature list.
pub fn save(path: &Path, checkpoint: &Checkpoint, overwrite: bool) -> anyhow::Result<()> {
    let file = path.display();
    checkpoint.validate(path)?;
    let &Checkpoint {
        layout,
        models,
        protocol,
        ..
    } = checkpoint;
    let prefixes: Vec<String> = models
        .iter()
        .map(|m| prefix_for(protocol, models, m))
        .collect();
    // The f32 bytes must outlive the views handed to the serialiser, so they are built first.
    let mut blobs: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (m, prefix) in models.iter().zip(&prefixes) {
        for slot in &layout.tensors {
            let bytes: Vec<u8> = m.params[slot.offset..slot.offset + slot.len]
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect();
            blobs.push((format!("{prefix}{}", slot.name), slot.shape.clone(), bytes));
        }
    }
    let mut views = Vec::with_capacity(blobs.len());
    for (name, shape, bytes) in &blobs {
        let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
            .map_err(|e| anyhow!("{file}: tensor `{name}`: {e}"))?;
        views.push((name.clone(), view));
    }
    let metadata = checkpoint.metadata(&prefixes)?;
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| anyhow!("{file}: cannot encode the checkpoint: {e}"))?;

    // Written whole under a temporary name; without `overwrite`, published only under a name not taken.
    let tmp = crate::atomic::partial_path(path);
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .with_context(|| format!("{file}: cannot write the checkpoint"))?;
    if overwrite {
        return crate::atomic::commit(path);
    }
    crate::atomic::commit_new(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow!("{file}: already exists; not overwriting it")
        } else {
            anyhow!("{file}: cannot create the file: {e}")
        }
    })
}

impl Checkpoint<'_> {
    /// Every model fits the layout and the feature list, and each (model id, seed) appears once.
    fn validate(&self, path: &Path) -> anyhow::Result<()> {
        let &Checkpoint {
            layout,
            feature_names,
            models,
            ..
        } = self;
        let file = path.display();
        if models.is_empty() {
            bail!("{file}: no models to save");
        }
        if feature_names.len() != layout.spec.input_size {
            bail!(
                "{file}: {} feature names given for a model with {} inputs",
                feature_names.len(),
                layout.spec.input_size
            );
        }
        let mut seen = BTreeSet::new();
        for m in models {
            if !seen.insert((m.model_id, m.seed)) {
                bail!(
                    "{file}: model id {} with seed {} appears twice",
                    m.model_id,
                    m.seed
                );
            }
            if m.params.len() != layout.total {
                bail!(
                    "{file}: model {} has {} parameters but the layout `{}` has {}",
                    m.model_id,
                    m.params.len(),
                    layout.spec.to_spec_string(),
                    layout.total
                );
            }
            if m.scaling.features.width() != feature_names.len() || m.scaling.target.width() != 1 {
                bail!(
                    "{file}: model {} has scalers for {} features and {} targets, expected {} and 1",
                    m.model_id,
                    m.scaling.features.width(),
                    m.scaling.target.width(),
                    feature_names.len()
                );
            }
        }
        Ok(())
    }

    /// The metadata table (module docs), with each model's tensor name prefix.
    fn metadata(&self, prefixes: &[String]) -> anyhow::Result<HashMap<String, String>> {
        let &Checkpoint {
            layout,
            lookback,
            feature_names,
            target_name,
            protocol,
            models,
            trained_through,
        } = self;
        let ids: Vec<u32> = models.iter().map(|m| m.model_id).collect();
        let seeds: Vec<u64> = models.iter().map(|m| m.seed).collect();
        let scalers: Vec<&Scaling> = models.iter().map(|m| &m.scaling).collect();
        let mut metadata = HashMap::from([
            (KEY_FORMAT.to_string(), FORMAT.to_string()),
            (
                KEY_VERSION.to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            (KEY_PROTOCOL.to_string(), protocol.to_string()),
            (KEY_LAYERS.to_string(), layout.spec.to_spec_string()),
            (KEY_LOOKBACK.to_string(), lookback.to_string()),
            (
                KEY_FEATURES.to_string(),
                serde_json::to_string(feature_names)?,
            ),
            (KEY_TARGET.to_string(), target_name.to_string()),
            (KEY_MODEL_IDS.to_string(), serde_json::to_string(&ids)?),
            (KEY_SEEDS.to_string(), serde_json::to_string(&seeds)?),
            (KEY_PREFIXES.to_string(), serde_json::to_string(prefixes)?),
            (KEY_SCALERS.to_string(), serde_json::to_string(&scalers)?),
        ]);
        if let Some(date) = trained_through {
            metadata.insert(KEY_TRAINED_THROUGH.to_string(), date.to_string());
        }
        Ok(metadata)
    }
}

/// Everything in a checkpoint file: its models, layout and input description.
pub fn load_models(path: &Path) -> anyhow::Result<Loaded> {
    let file = path.display();
    let bytes = read(path)?;
    let st = parse(path, &bytes)?;
    let meta = metadata(path, &bytes)?;

    let format = required(&meta, KEY_FORMAT, path)?;
    if format != FORMAT {
        bail!("{file}: checkpoint format `{format}` is not the supported `{FORMAT}`");
    }
    let feature_names: Vec<String> = json(&meta, KEY_FEATURES, path)?;
    let layers = required(&meta, KEY_LAYERS, path)?;
    let spec = ModelSpec::parse(layers, feature_names.len())
        .map_err(|e| anyhow!("{file}: metadata `{KEY_LAYERS}`: {e}"))?;
    let layout = ParamLayout::new(&spec);
    let lookback_text = required(&meta, KEY_LOOKBACK, path)?;
    let lookback: usize = lookback_text
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            anyhow!("{file}: metadata `{KEY_LOOKBACK}` = `{lookback_text}` is not a positive whole number")
        })?;
    let ids: Vec<u32> = json(&meta, KEY_MODEL_IDS, path)?;
    let prefixes: Vec<String> = json(&meta, KEY_PREFIXES, path)?;
    let scalers: Vec<Scaling> = json(&meta, KEY_SCALERS, path)?;
    // Files written before `--seeds` name no seeds; their models' seed is not known, 0 stands in.
    let seeds: Vec<u64> = if meta.contains_key(KEY_SEEDS) {
        json(&meta, KEY_SEEDS, path)?
    } else {
        vec![0; ids.len()]
    };
    if seeds.len() != ids.len() {
        bail!(
            "{file}: metadata lists {} model ids and {} seeds; expected one seed per model",
            ids.len(),
            seeds.len()
        );
    }
    if ids.is_empty() || prefixes.len() != ids.len() || scalers.len() != ids.len() {
        bail!(
            "{file}: metadata lists {} model ids, {} tensor prefixes and {} scalers; expected the same \
             number (at least 1) of each",
            ids.len(),
            prefixes.len(),
            scalers.len()
        );
    }

    let mut models = Vec::with_capacity(ids.len());
    for (((&model_id, &seed), prefix), scaling) in
        ids.iter().zip(&seeds).zip(&prefixes).zip(scalers)
    {
        if scaling.features.width() != feature_names.len() || scaling.target.width() != 1 {
            bail!(
                "{file}: the scaler of model {model_id} covers {} features and {} targets, expected {} and 1",
                scaling.features.width(),
                scaling.target.width(),
                feature_names.len()
            );
        }
        models.push(KeptModel {
            model_id,
            seed,
            params: read_params(path, &st, &layout, prefix)?,
            scaling,
        });
    }
    // A tensor no model claims means the metadata and the tensors disagree; loading the rest would
    // silently drop weights.
    let claimed: BTreeSet<String> = prefixes
        .iter()
        .flat_map(|p| layout.tensors.iter().map(move |t| format!("{p}{}", t.name)))
        .collect();
    if let Some(extra) = st.names().into_iter().find(|n| !claimed.contains(*n)) {
        bail!(
            "{file}: tensor `{extra}` belongs to no model of the layout `{}` (models {:?})",
            layout.spec.to_spec_string(),
            ids
        );
    }

    Ok(Loaded {
        layout,
        lookback,
        feature_names,
        target_name: required(&meta, KEY_TARGET, path)?.to_string(),
        models,
        protocol: required(&meta, KEY_PROTOCOL, path)?.to_string(),
        gpulstm_version: required(&meta, KEY_VERSION, path)?.to_string(),
        trained_through: meta.get(KEY_TRAINED_THROUGH).cloned(),
    })
}

/// The newest model's weights — the last one the file lists, which for a walk-forward checkpoint is the
/// last split's model — checked tensor by tensor against `layout` (for `--init-weights`).
/// The file's layer spec is not required to match textually: only the weight tensors matter, so a
/// checkpoint can seed a model with different dropout rates.
pub fn load_params(path: &Path, layout: &ParamLayout) -> anyhow::Result<Vec<f64>> {
    let file = path.display();
    let bytes = read(path)?;
    let st = parse(path, &bytes)?;
    let meta = metadata(path, &bytes)?;
    // A file written by another tool may have no gpulstm metadata; bare Keras names are then assumed.
    let prefix = match meta.get(KEY_PREFIXES) {
        Some(_) => json::<Vec<String>>(&meta, KEY_PREFIXES, path)?
            .into_iter()
            .last()
            .ok_or_else(|| anyhow!("{file}: metadata `{KEY_PREFIXES}` lists no model"))?,
        None => String::new(),
    };
    let params = read_params(path, &st, layout, &prefix)?;
    // Tensors of the chosen model that the layout has no place for mean a different (deeper) stack.
    let expected: BTreeSet<String> = layout
        .tensors
        .iter()
        .map(|t| format!("{prefix}{}", t.name))
        .collect();
    let is_chosen_model = |name: &str| {
        if prefix.is_empty() {
            !name.starts_with("split_")
        } else {
            name.starts_with(prefix.as_str())
        }
    };
    if let Some(extra) = st
        .names()
        .into_iter()
        .find(|n| is_chosen_model(n) && !expected.contains(*n))
    {
        bail!(
            "{file}: tensor `{extra}` has no place in the model `{}`; the checkpoint was saved with \
             different --layers{}",
            layout.spec.to_spec_string(),
            saved_layers(&meta)
        );
    }
    Ok(params)
}

/// " (`lstm:..`)" when the file says which layers it was saved with, for error messages.
fn saved_layers(meta: &HashMap<String, String>) -> String {
    meta.get(KEY_LAYERS)
        .map(|l| format!(" (`{l}`)"))
        .unwrap_or_default()
}

/// One model's flat parameter vector: every tensor of `layout`, named with `prefix`, checked for
/// presence, dtype and shape.
fn read_params(
    path: &Path,
    st: &SafeTensors<'_>,
    layout: &ParamLayout,
    prefix: &str,
) -> anyhow::Result<Vec<f64>> {
    let file = path.display();
    let mut params = vec![0.0; layout.total];
    for slot in &layout.tensors {
        let name = format!("{prefix}{}", slot.name);
        let view = st.tensor(&name).map_err(|_| {
            anyhow!(
                "{file}: tensor `{name}` not found; the model `{}` needs it (the file has {})",
                layout.spec.to_spec_string(),
                list_names(st)
            )
        })?;
        if view.shape() != slot.shape.as_slice() {
            bail!(
                "{file}: tensor `{name}` has shape {:?} but the model `{}` with {} inputs needs {:?}",
                view.shape(),
                layout.spec.to_spec_string(),
                layout.spec.input_size,
                slot.shape
            );
        }
        let out = &mut params[slot.offset..slot.offset + slot.len];
        let data = view.data();
        match view.dtype() {
            Dtype::F32 => {
                for (o, b) in out.iter_mut().zip(data.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64;
                }
            }
            // Accepted so weights prepared in numpy's default float64 load without conversion.
            Dtype::F64 => {
                for (o, b) in out.iter_mut().zip(data.chunks_exact(8)) {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(b);
                    *o = f64::from_le_bytes(word);
                }
            }
            other => bail!("{file}: tensor `{name}` is {other:?}; only F32 and F64 are supported"),
        }
        if let Some(bad) = out.iter().position(|v| !v.is_finite()) {
            bail!("{file}: tensor `{name}` element {bad} is not finite");
        }
    }
    Ok(params)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow!("{}: cannot read the checkpoint: {e}", path.display()))
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> anyhow::Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes)
        .map_err(|e| anyhow!("{}: not a valid safetensors file: {e}", path.display()))
}

fn metadata(path: &Path, bytes: &[u8]) -> anyhow::Result<HashMap<String, String>> {
    let (_, meta) = SafeTensors::read_metadata(bytes)
        .map_err(|e| anyhow!("{}: not a valid safetensors file: {e}", path.display()))?;
    Ok(meta.metadata().clone().unwrap_or_default())
}

fn required<'m>(
    meta: &'m HashMap<String, String>,
    key: &str,
    path: &Path,
) -> anyhow::Result<&'m str> {
    meta.get(key).map(String::as_str).ok_or_else(|| {
        anyhow!(
            "{}: metadata key `{key}` is missing (not a gpulstm checkpoint?)",
            path.display()
        )
    })
}

fn json<T: serde::de::DeserializeOwned>(
    meta: &HashMap<String, String>,
    key: &str,
    path: &Path,
) -> anyhow::Result<T> {
    let text = required(meta, key, path)?;
    serde_json::from_str(text)
        .map_err(|e| anyhow!("{}: metadata `{key}` is not valid: {e}", path.display()))
}

/// The file's tensor names, sorted, shortened for an error message.
fn list_names(st: &SafeTensors<'_>) -> String {
    let mut names = st.names();
    names.sort_unstable();
    const SHOWN: usize = 8;
    let more = names.len().saturating_sub(SHOWN);
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    if text.is_empty() {
        text = "no tensors".to_string();
    }
    text
}
