//! The job loops the host backends (the CPU engine, the f64 reference) share: independent fits taken
//! from one queue by every core, and the seed protocol's carried models fitted split after split. A backend
//! brings only how it fits one model; the queue, the progress reports and the split hook are here.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::{FitJob, FitOutcome, Progress, ProgressFn, SequenceState, SequenceStep, SplitHook};
use crate::fit::SplitWindows;

/// Runs `work(worker buffers, item)` for every item on every core, results in item order. Items differ
/// in cost (expanding windows, early stops), so workers take the next item from a shared counter and
/// all cores stay busy until the last one; each worker makes its buffers once with `make`.
pub fn on_all_cores<T: Send, S>(
    items: usize,
    make: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> T + Sync,
) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..items).map(|_| None).collect());
    let workers = rayon::current_num_threads().min(items).max(1);
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                let mut state = make();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= items {
                        break;
                    }
                    let out = work(&mut state, i);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(out);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.into_iter().flatten().collect()
}

/// [`Trainer::fit_many`](super::Trainer::fit_many) on every core: `fit(worker buffers, job)` for each
/// job, a "models" progress report as each finishes, outcomes in job order.
pub fn fit_jobs<S>(
    jobs: &[FitJob],
    make: impl Fn() -> S + Sync,
    fit: impl Fn(&mut S, &FitJob) -> FitOutcome + Sync,
    progress: ProgressFn,
) -> Vec<FitOutcome> {
    let done = AtomicUsize::new(0);
    on_all_cores(jobs.len(), make, |buffers, i| {
        let outcome = fit(buffers, &jobs[i]);
        let report = &outcome.report;
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress(Progress {
            stage: "models",
            done: n,
            total: jobs.len(),
            val_loss: report.history.get(report.best_epoch).map(|h| h.val),
        });
        outcome
    })
}

/// [`Trainer::fit_sequences`](super::Trainer::fit_sequences)'s loop: `step(chains, windows)` fits every
/// chain on each window pair in order; a "splits" progress report and `after_split` (offered
/// `snapshot` of the chains) after each, which may stop the sequence.
pub fn fit_splits<M>(
    chains: &mut M,
    windows: &[SplitWindows],
    progress: ProgressFn,
    after_split: SplitHook,
    mut step: impl FnMut(&mut M, SplitWindows) -> anyhow::Result<Vec<SequenceStep>>,
    snapshot: impl Fn(&M) -> anyhow::Result<Vec<SequenceState>>,
) -> anyhow::Result<()> {
    for (i, &w) in windows.iter().enumerate() {
        let steps = step(chains, w)?;
        let last: Vec<f64> = steps
            .iter()
            .filter_map(|s| s.report.history.last().map(|h| h.val))
            .collect();
        progress(Progress {
            stage: "splits",
            done: i + 1,
            total: windows.len(),
            val_loss: (!last.is_empty()).then(|| last.iter().sum::<f64>() / last.len() as f64),
        });
        let state = || snapshot(chains);
        if after_split(i, &steps, Some(&state))? {
            break;
        }
    }
    Ok(())
}

/// A chain's lock. A worker's panic leaves the scope with it, so a poisoned lock is never read on.
fn lock<T>(c: &Mutex<T>) -> MutexGuard<'_, T> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

/// One carried model of a host backend and early stopping's reference `best` for it: the report's
/// script hands one EarlyStopping object to every fit, and Keras 3 before 3.7 never resets its `best`.
pub struct HostChain<M> {
    pub model: M,
    pub best: f64,
}

/// [`fit_splits`] for the host backends: each split's chains fitted on every core (`fit(worker
/// buffers, chain index, chain, windows)`), the chains handed back at the end.
pub fn fit_host_chains<M: Send, S>(
    chains: Vec<HostChain<M>>,
    windows: &[SplitWindows],
    progress: ProgressFn,
    after_split: SplitHook,
    make: impl Fn() -> S + Sync,
    fit: impl Fn(&mut S, usize, &mut HostChain<M>, SplitWindows) -> SequenceStep + Sync,
    snapshot: impl Fn(&HostChain<M>) -> SequenceState,
) -> anyhow::Result<Vec<HostChain<M>>> {
    let mut chains: Vec<Mutex<HostChain<M>>> = chains.into_iter().map(Mutex::new).collect();
    fit_splits(
        &mut chains,
        windows,
        progress,
        after_split,
        |chains, w| {
            Ok(on_all_cores(chains.len(), &make, |buffers, k| {
                fit(buffers, k, &mut lock(&chains[k]), w)
            }))
        },
        |chains| Ok(chains.iter().map(|c| snapshot(&lock(c))).collect()),
    )?;
    Ok(chains
        .into_iter()
        .map(|c| c.into_inner().unwrap_or_else(|e| e.into_inner()))
        .collect())
}
