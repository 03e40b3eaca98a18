//! Walk-forward over a panel: every (series, split, seed) is one independent model, and every model of
//! every series goes to the backend in the same chunks. The series' rows are laid end to end in one
//! [`RawData`], each model's windows offset to its series' rows, so a backend sees one batch of models
//! and never needs to know about series; each model keeps its own series' scaler.
//!
//! Models are numbered series by series, split by split, seed by seed: model `(u · K) + k` is seed `k`
//! of unit `u`, the `u`-th (series, split) pair of the panel. With one series and one seed the model
//! number is the split index, as in the run journals of earlier versions. A [`Shard`] owns whole units,
//! so a split's seeds always train together.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{anyhow, Context};

use super::run_types::{
    diverged, forecast, raw_data, series_splits, targets, Interrupted, Journal, KeptModel,
    PanelResult, RunResult, RunSpec, ScalerMode, SeriesResult, SplitOutcome, Spread,
};
use super::TrainedBy;
use super::{FitJob, FitOutcome, Progress, ProgressFn, RawData, Scaling, Trainer};
use crate::data::{scaler_rows, NamedSeries, Split};
use crate::fit::{SplitWindows, Window};
use crate::model::init_params;

/// `--shard I/N`: the units `u` with `u mod N = I` (0-based `I`, as array jobs number their tasks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with `0 ≤ I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad =
            || format!("\"{text}\" is not I/N with 0 ≤ I < N (e.g. 0/4 for the first of four)");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    pub fn owns(&self, unit: usize) -> bool {
        unit % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One series of the plan: where its rows start in the panel's raw data, and its splits.
struct SeriesPlan<'a> {
    named: &'a NamedSeries,
    raw: RawData,
    row_offset: usize,
    splits: Vec<Split>,
    /// Number of the series' first unit.
    first_unit: usize,
}

/// Every model of a walk-forward run over a panel.
pub struct PanelPlan<'a> {
    series: Vec<SeriesPlan<'a>>,
    raw: RawData,
    seeds: usize,
}

impl<'a> PanelPlan<'a> {
    /// The splits of every series; fails naming the series when one cannot be split or does not have
    /// the features of the first.
    pub fn new(panel: &'a [NamedSeries], spec: &RunSpec) -> anyhow::Result<PanelPlan<'a>> {
        anyhow::ensure!(!panel.is_empty(), "the panel has no series");
        let lookback = spec.splits.lookback;
        let width = panel[0].series.feature_names.len();
        let mut raw = RawData {
            x: Vec::new(),
            y: Vec::new(),
            features: width,
            lookback,
            level: Vec::new(),
            transform: spec.target_transform,
        };
        let mut series = Vec::with_capacity(panel.len());
        let mut units = 0;
        for named in panel {
            let s = &named.series;
            anyhow::ensure!(
                s.feature_names.len() == width,
                "series \"{}\" ({}) has {} features, series \"{}\" has {}: a panel's models share their \
                 input width",
                named.name,
                s.source,
                s.feature_names.len(),
                panel[0].name,
                width
            );
            let splits = series_splits(s, spec)
                .with_context(|| format!("series \"{}\" ({})", named.name, s.source))?;
            let own = raw_data(s, lookback, spec.target_transform);
            let row_offset = raw.rows();
            raw.x.extend_from_slice(&own.x);
            raw.y.extend_from_slice(&own.y);
            raw.level.extend_from_slice(&own.level);
            series.push(SeriesPlan {
                named,
                raw: own,
                row_offset,
                first_unit: units,
                splits,
            });
            units += series.last().map_or(0, |p| p.splits.len());
        }
        Ok(PanelPlan {
            series,
            raw,
            seeds: spec.seeds.max(1),
        })
    }

    /// (series, split) pairs.
    pub fn units(&self) -> usize {
        self.series.iter().map(|s| s.splits.len()).sum()
    }

    /// Models: units × seeds.
    pub fn models(&self) -> usize {
        self.units() * self.seeds
    }

    /// Models a shard trains.
    pub fn models_of(&self, shard: Shard) -> usize {
        (0..self.models())
            .filter(|&i| self.in_shard(shard, i))
            .count()
    }

    /// Whether model `index` is `shard`'s: its unit is (all seeds of a unit go together).
    pub fn in_shard(&self, shard: Shard, index: usize) -> bool {
        shard.owns(index / self.seeds)
    }

    /// The series and split position of a unit.
    fn locate(&self, unit: usize) -> (&SeriesPlan<'a>, usize) {
        let j = self
            .series
            .partition_point(|s| s.first_unit + s.splits.len() <= unit);
        let s = &self.series[j];
        (s, unit - s.first_unit)
    }

    fn scaling(spec: &RunSpec, s: &SeriesPlan, split: &Split) -> Scaling {
        match spec.scaler {
            ScalerMode::Global => Scaling::fit(&s.raw, 0..s.raw.rows(), spec.scaler_kind),
            ScalerMode::Train => Scaling::fit(
                &s.raw,
                scaler_rows(split, spec.splits.lookback),
                spec.scaler_kind,
            ),
        }
    }

    /// Model `index`'s fit, its windows moved to its series' rows of the panel's raw data.
    fn job(&self, spec: &RunSpec, index: usize) -> FitJob {
        let (s, pos) = self.locate(index / self.seeds);
        let split = &s.splits[pos];
        let seed = spec.seed_of(index % self.seeds);
        let shift = |w: Window| Window {
            start: w.start + s.row_offset,
            len: w.len,
        };
        let SplitWindows { train, val } = split.windows();
        FitJob {
            model_id: split.index as u32,
            seed,
            scaling: Self::scaling(spec, s, split),
            windows: SplitWindows {
                train: shift(train),
                val: shift(val),
            },
            init: match &spec.init_weights {
                Some(w) => w.clone(),
                None => init_params(&spec.layout, seed, split.index as u32),
            },
        }
    }

    /// Whether model `index` is one of its series' last `--ensemble-last` splits, whose weights are kept
    /// for the forecast.
    fn kept(&self, spec: &RunSpec, index: usize) -> bool {
        let (s, pos) = self.locate(index / self.seeds);
        let n = s.splits.len();
        pos >= n.saturating_sub(spec.ensemble_last.clamp(1, n.max(1)))
    }

    /// Fits the models `journal` does not hold yet (of `shard` only, when given) a chunk at a time
    /// ([`Trainer::chunk_models`]), saving each chunk to it; stops between chunks when asked to, with
    /// [`Interrupted`]. Fits are independent per model, so the chunking changes no result.
    pub fn fit(
        &self,
        spec: &RunSpec,
        trainer: &mut dyn Trainer,
        progress: ProgressFn,
        journal: &mut dyn Journal,
        shard: Option<Shard>,
    ) -> anyhow::Result<BTreeMap<usize, FitOutcome>> {
        let total = self.models();
        let mut done: BTreeMap<usize, FitOutcome> = journal
            .finished()?
            .into_iter()
            .filter(|(i, _)| *i < total)
            .collect();
        let mine = |i: &usize| shard.is_none_or(|s| self.in_shard(s, *i));
        let pending: Vec<usize> = (0..total)
            .filter(|i| mine(i) && !done.contains_key(i))
            .collect();
        let share = (0..total).filter(mine).count();
        let chunk = trainer
            .chunk_models(&spec.layout, &spec.hyper, self.raw.lookback)
            .min(spec.max_models_per_chunk.unwrap_or(usize::MAX))
            .max(1);
        for part in pending.chunks(chunk) {
            let before = done.keys().filter(|i| mine(i)).count();
            if journal.stop_requested() {
                return Err(Interrupted {
                    done: before,
                    total: share,
                }
                .into());
            }
            let shifted = |p: Progress| {
                let (done, total) = if p.stage == "models" {
                    (before + p.done, share)
                } else {
                    (p.done, p.total)
                };
                progress(Progress { done, total, ..p })
            };
            let jobs: Vec<FitJob> = part.iter().map(|&i| self.job(spec, i)).collect();
            let fits = trainer
                .fit_many(&self.raw, &spec.layout, &spec.hyper, &jobs, &shifted)
                .context("training the walk-forward models")?;
            let saved: Vec<(usize, &FitOutcome, bool)> = part
                .iter()
                .zip(&fits)
                .map(|(&i, f)| (i, f, self.kept(spec, i)))
                .collect();
            journal.record(&saved)?;
            done.extend(part.iter().copied().zip(fits));
        }
        Ok(done)
    }

    /// Every series' results from every model's fit: per seed, and the seeds' ensemble.
    pub fn assemble(
        &self,
        spec: &RunSpec,
        fits: &BTreeMap<usize, FitOutcome>,
        backend: &TrainedBy,
        started: Instant,
    ) -> anyhow::Result<PanelResult> {
        let mut series = Vec::with_capacity(self.series.len());
        for s in &self.series {
            let seeds = (0..self.seeds)
                .map(|k| self.seed_run(spec, s, k, fits, backend, started))
                .collect::<anyhow::Result<Vec<RunResult>>>()?;
            let ensemble = if seeds.len() == 1 {
                seeds[0].clone()
            } else {
                ensemble(spec, &s.raw, &seeds)?
            };
            series.push(SeriesResult {
                name: s.named.name.clone(),
                seeds,
                ensemble,
            });
        }
        Ok(PanelResult {
            protocol: spec.protocol,
            backend: backend.clone(),
            series,
            wall_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Seed `k`'s models on one series: exactly what a run of that series with that seed gives.
    fn seed_run(
        &self,
        spec: &RunSpec,
        s: &SeriesPlan,
        k: usize,
        fits: &BTreeMap<usize, FitOutcome>,
        backend: &TrainedBy,
        started: Instant,
    ) -> anyhow::Result<RunResult> {
        let lookback = spec.splits.lookback;
        let mut outcomes = Vec::with_capacity(s.splits.len());
        let mut kept = Vec::new();
        for (pos, split) in s.splits.iter().enumerate() {
            let index = (s.first_unit + pos) * self.seeds + k;
            let fit = fits.get(&index).ok_or_else(|| {
                anyhow!(
                    "model {index} (series \"{}\", split {}, seed {}) was never trained",
                    s.named.name,
                    split.index,
                    spec.seed_of(k)
                )
            })?;
            let scaling = Self::scaling(spec, s, split);
            let scaled = scaling.apply(&s.raw);
            let w = split.windows();
            let bad = diverged(&fit.report, &fit.val_pred);
            let seed = spec.seed_of(k);
            if self.kept(spec, index) && !bad {
                kept.push(KeptModel {
                    model_id: split.index as u32,
                    seed,
                    params: fit.params.clone(),
                    scaling: scaling.clone(),
                });
            }
            outcomes.push(SplitOutcome {
                split: *split,
                model_id: split.index as u32,
                seed,
                members: 1,
                history: fit.report.history.clone(),
                best_epoch: fit.report.best_epoch,
                stopped_early: fit.report.stopped_early,
                diverged: bad,
                scaling,
                train_pred: fit.train_pred.clone(),
                val_pred: fit.val_pred.clone(),
                train_actual: targets(&scaled.y, lookback, w.train),
                val_actual: targets(&scaled.y, lookback, w.val),
                train_spread: Vec::new(),
                val_spread: Vec::new(),
            });
        }
        Ok(RunResult {
            protocol: spec.protocol,
            backend: backend.clone(),
            splits: outcomes,
            forecast: forecast(&s.raw, &spec.layout, &kept)?,
            forecast_models: kept,
            wall_seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// The seeds' ensemble on one series: per split, the mean of the predictions of the seeds that did not
/// diverge (the split diverged when all did), their spread, and a forecast from every seed's kept models.
pub(super) fn ensemble(
    spec: &RunSpec,
    raw: &RawData,
    seeds: &[RunResult],
) -> anyhow::Result<RunResult> {
    let first = &seeds[0];
    let mut splits = Vec::with_capacity(first.splits.len());
    for (pos, base) in first.splits.iter().enumerate() {
        let sound: Vec<&SplitOutcome> = seeds
            .iter()
            .map(|r| &r.splits[pos])
            .filter(|o| !o.diverged)
            .collect();
        let pool = if sound.is_empty() {
            seeds.iter().map(|r| &r.splits[pos]).collect()
        } else {
            sound.clone()
        };
        let mean_of = |pick: fn(&SplitOutcome) -> &Vec<f64>| -> (Vec<f64>, Vec<Spread>) {
            (0..pick(base).len())
                .map(|i| Spread::of(&pool.iter().map(|o| pick(o)[i]).collect::<Vec<_>>()))
                .unzip()
        };
        let (train_pred, train_spread) = mean_of(|o| &o.train_pred);
        let (val_pred, val_spread) = mean_of(|o| &o.val_pred);
        splits.push(SplitOutcome {
            members: sound.len(),
            history: Vec::new(),
            best_epoch: 0,
            stopped_early: false,
            diverged: sound.is_empty(),
            train_pred,
            val_pred,
            train_spread,
            val_spread,
            ..base.clone()
        });
    }
    let kept: Vec<KeptModel> = seeds
        .iter()
        .flat_map(|r| r.forecast_models.iter().cloned())
        .collect();
    Ok(RunResult {
        protocol: first.protocol,
        backend: first.backend.clone(),
        splits,
        forecast: forecast(raw, &spec.layout, &kept)?,
        forecast_models: kept,
        wall_seconds: seeds.iter().map(|r| r.wall_seconds).fold(0.0, f64::max),
    })
}
