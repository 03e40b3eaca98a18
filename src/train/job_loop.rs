//! The job loops the host backends (the CPU engine, the f64 reference) share: independent fits taken
//! from one queue by every core, and the seed protocol's one model fitted split after split. A backend
//! brings only how it fits one model; the queue, the progress reports and the split hook are here.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{FitJob, FitOutcome, Progress, ProgressFn, SequenceState, SplitHook};
use crate::fit::{FitReport, SplitWindows};

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

/// [`Trainer::fit_sequence`](super::Trainer::fit_sequence)'s loop: `fit(model, windows, best)` on each
/// window pair in order, with one early-stopping reference `best` for every split (the report's script
/// hands one EarlyStopping object to every fit, and Keras 3 before 3.7 never resets its `best`); a
/// "splits" progress report and `after_split` (offered `snapshot` of the model) after each, which may
/// stop the sequence. Returns the reports of the splits fitted.
pub fn fit_splits<M>(
    model: &mut M,
    best: &mut f64,
    windows: &[SplitWindows],
    progress: ProgressFn,
    after_split: SplitHook,
    mut fit: impl FnMut(&mut M, SplitWindows, &mut f64) -> FitReport,
    snapshot: impl Fn(&M, f64) -> SequenceState,
) -> anyhow::Result<Vec<FitReport>> {
    let mut reports = Vec::with_capacity(windows.len());
    for (i, &w) in windows.iter().enumerate() {
        let report = fit(model, w, best);
        progress(Progress {
            stage: "splits",
            done: i + 1,
            total: windows.len(),
            val_loss: report.history.last().map(|h| h.val),
        });
        let state = || -> anyhow::Result<SequenceState> { Ok(snapshot(model, *best)) };
        let stop = after_split(i, &report, Some(&state))?;
        reports.push(report);
        if stop {
            break;
        }
    }
    Ok(reports)
}
