//! `--adapter all`: several GPUs of one machine as one backend. Each `fit_many` call's models are dealt
//! out to the adapters in contiguous parts sized by what each adapter holds at once, and every adapter
//! trains its part on its own thread; fits are independent per model, so the split changes no result.
//! The seed protocol's carried models, and predictions, run on the first adapter.

use std::sync::Mutex;

use super::gpu::GpuTrainer;
use super::{
    Chain, Engine, FitJob, FitOutcome, Progress, ProgressFn, RawData, Scaling, SplitHook, Trainer,
};
use crate::fit::{Hyper, SplitWindows};
use crate::model::ParamLayout;

pub struct MultiGpuTrainer {
    gpus: Vec<GpuTrainer>,
}

impl MultiGpuTrainer {
    /// At least one adapter.
    pub fn new(gpus: Vec<GpuTrainer>) -> Option<MultiGpuTrainer> {
        (!gpus.is_empty()).then_some(MultiGpuTrainer { gpus })
    }

    /// `jobs` split into one contiguous part per adapter, in proportion to `capacity`.
    fn parts(n: usize, capacity: &[usize]) -> Vec<std::ops::Range<usize>> {
        let total: usize = capacity.iter().sum::<usize>().max(1);
        let mut out = Vec::with_capacity(capacity.len());
        let mut start = 0;
        let mut seen = 0;
        for &c in capacity {
            seen += c;
            let end = if seen == total { n } else { n * seen / total };
            out.push(start..end.max(start));
            start = end.max(start);
        }
        out
    }
}

impl Trainer for MultiGpuTrainer {
    fn engine(&self) -> Engine {
        Engine::Gpu
    }

    fn describe(&self) -> String {
        let names: Vec<String> = self.gpus.iter().map(|g| g.describe()).collect();
        format!("{} adapters: {}", self.gpus.len(), names.join("; "))
    }

    /// Every adapter full at once.
    fn chunk_models(&self, layout: &ParamLayout, hyper: &Hyper, lookback: usize) -> usize {
        self.gpus
            .iter()
            .map(|g| g.chunk_models(layout, hyper, lookback))
            .sum()
    }

    fn fit_many(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        jobs: &[FitJob],
        progress: ProgressFn,
    ) -> anyhow::Result<Vec<FitOutcome>> {
        let capacity: Vec<usize> = self
            .gpus
            .iter()
            .map(|g| g.chunk_models(layout, hyper, raw.lookback))
            .collect();
        let parts = Self::parts(jobs.len(), &capacity);
        // Each adapter's latest (done, total); the sum is reported.
        let state = Mutex::new(vec![(0usize, 0usize); parts.len()]);
        let results: Vec<anyhow::Result<Vec<FitOutcome>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .gpus
                .iter_mut()
                .zip(&parts)
                .enumerate()
                .map(|(k, (gpu, range))| {
                    let state = &state;
                    let part = &jobs[range.clone()];
                    scope.spawn(move || {
                        let report = |p: Progress| {
                            let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
                            s[k] = (p.done, p.total);
                            let (done, total) =
                                s.iter().fold((0, 0), |(a, b), &(d, t)| (a + d, b + t));
                            progress(Progress { done, total, ..p });
                        };
                        if part.is_empty() {
                            return Ok(Vec::new());
                        }
                        gpu.fit_many(raw, layout, hyper, part, &report)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a GPU worker thread panicked")))
                })
                .collect()
        });
        let mut out = Vec::with_capacity(jobs.len());
        for r in results {
            out.extend(r?);
        }
        Ok(out)
    }

    fn fit_sequences(
        &mut self,
        raw: &RawData,
        layout: &ParamLayout,
        hyper: &Hyper,
        scaling: &Scaling,
        chains: Vec<Chain>,
        windows: &[SplitWindows],
        progress: ProgressFn,
        after_split: SplitHook,
    ) -> anyhow::Result<Vec<Vec<f64>>> {
        self.gpus[0].fit_sequences(
            raw,
            layout,
            hyper,
            scaling,
            chains,
            windows,
            progress,
            after_split,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::MultiGpuTrainer;

    #[test]
    fn parts_cover_every_job_once_in_proportion() {
        let parts = MultiGpuTrainer::parts(10, &[3, 1]);
        assert_eq!(parts, vec![0..7, 7..10]);
        let parts = MultiGpuTrainer::parts(2, &[5, 5, 5]);
        assert_eq!(parts.iter().map(|r| r.len()).sum::<usize>(), 2);
        assert_eq!(parts.last().map(|r| r.end), Some(2));
        assert_eq!(MultiGpuTrainer::parts(0, &[4]), vec![0..0]);
    }
}
