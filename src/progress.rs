//! Training progress on stderr: an indicatif bar when stderr is a terminal, a plain line every few
//! seconds otherwise (logs, CI, pipes), nothing with `--quiet`.
//!
//! Progress goes to stderr so stdout carries only the summary: `gpulstm train > summary.txt` still shows
//! the bar on the terminal. Backends call [`Reporter::update`] from worker threads, possibly out of
//! order (two threads finishing together), so the reporter only ever moves forward.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::train::Progress;

/// How often the plain mode prints a line (besides the first and the last update).
const PLAIN_EVERY: Duration = Duration::from_secs(10);

/// Something besides the reporter that wants every update (the Python package's progress bar).
pub type Observer = Arc<dyn Fn(&Progress) + Send + Sync>;

static OBSERVER: RwLock<Option<Observer>> = RwLock::new(None);

/// Sends every later [`Reporter::update`] to `observer` too (`None`: no longer).
pub fn set_observer(observer: Option<Observer>) {
    let mut slot = OBSERVER.write().unwrap_or_else(|e| e.into_inner());
    *slot = observer;
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Quiet,
    Bar,
    Plain,
}

impl Mode {
    /// `Quiet` if asked, `Bar` when stderr is a terminal, `Plain` otherwise.
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Plain
        }
    }
}

struct PlainState {
    /// Highest `done` seen per stage, so late out-of-order updates are dropped.
    stage: &'static str,
    done: usize,
    last_print: Option<Instant>,
}

enum Inner {
    Quiet,
    Bar(ProgressBar),
    Plain(Mutex<PlainState>),
}

/// Receives [`Progress`] updates from a backend and shows them.
pub struct Reporter {
    inner: Inner,
    started: Instant,
}

/// What the loss shown after each update is (scaled MSE), by the stage reporting it.
fn loss_label(stage: &str) -> &'static str {
    match stage {
        "models" => "val MSE of the model just finished",
        "epochs" => "mean val MSE of the models still training",
        _ => "val MSE of the split just fitted",
    }
}

/// The time left, once there is enough behind to estimate it from (5 % of the work and 5 s); before
/// that an estimate swings by minutes (the first models include start-up, chunks end unevenly).
pub fn eta(elapsed: f64, done: usize, total: usize) -> Option<String> {
    let enough = done * 20 >= total && elapsed >= 5.0;
    (enough && done > 0 && done < total)
        .then(|| crate::report::format::duration(elapsed / done as f64 * (total - done) as f64))
}

impl Reporter {
    pub fn new(mode: Mode) -> Reporter {
        let inner = match mode {
            Mode::Quiet => Inner::Quiet,
            Mode::Plain => Inner::Plain(Mutex::new(PlainState {
                stage: "",
                done: 0,
                last_print: None,
            })),
            Mode::Bar => {
                let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                // The template is a constant; if indicatif ever rejected it, the default style is fine.
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix:>7} [{bar:32}] {pos}/{len} [{elapsed_precise}] {msg}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                Inner::Bar(bar)
            }
        };
        Reporter {
            inner,
            started: Instant::now(),
        }
    }

    /// Shows one update. Safe to call from several threads at once.
    pub fn update(&self, p: Progress) {
        let observer = OBSERVER.read().map(|o| o.clone()).unwrap_or(None);
        if let Some(observe) = observer {
            observe(&p);
        }
        let loss = p
            .val_loss
            .filter(|v| v.is_finite())
            .map(|v| format!("{} {v:.3e}", loss_label(p.stage)))
            .unwrap_or_default();
        let elapsed = self.started.elapsed().as_secs_f64();
        let eta = eta(elapsed, p.done, p.total);
        match &self.inner {
            Inner::Quiet => {}
            Inner::Bar(bar) => {
                if bar.length() != Some(p.total as u64) {
                    bar.set_length(p.total as u64);
                }
                bar.set_prefix(p.stage);
                // Never move backwards when a slower thread reports an older count.
                if p.done as u64 >= bar.position() {
                    bar.set_position(p.done as u64);
                    let eta = eta.map(|e| format!("ETA {e}; ")).unwrap_or_default();
                    bar.set_message(format!("{eta}{loss}"));
                }
            }
            Inner::Plain(state) => {
                // A poisoned lock only means another reporting thread panicked; keep reporting.
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                if st.stage == p.stage && p.done <= st.done {
                    return;
                }
                if st.stage != p.stage {
                    st.stage = p.stage;
                    st.last_print = None;
                }
                st.done = p.done;
                let now = Instant::now();
                let due = st
                    .last_print
                    .is_none_or(|t| now.duration_since(t) >= PLAIN_EVERY);
                if !(due || p.done == p.total) {
                    return;
                }
                st.last_print = Some(now);
                let eta = eta.map(|e| format!(", ETA {e}")).unwrap_or_default();
                let pct = if p.total > 0 {
                    100.0 * p.done as f64 / p.total as f64
                } else {
                    100.0
                };
                let loss = if loss.is_empty() {
                    loss
                } else {
                    format!(", {loss}")
                };
                // A closed stderr must not stop training.
                let _ = writeln!(
                    std::io::stderr(),
                    "[{}] {} {}/{} ({pct:.0}%){loss}{eta}",
                    crate::report::format::duration(elapsed),
                    p.stage,
                    p.done,
                    p.total
                );
            }
        }
    }

    /// Removes the bar (the summary follows on stdout).
    pub fn finish(&self) {
        if let Inner::Bar(bar) = &self.inner {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No estimate from the first few models or seconds; then the straight-line one.
    #[test]
    fn eta_waits_until_it_means_something() {
        assert_eq!(eta(2.0, 50, 100), None, "under 5 s");
        assert_eq!(eta(30.0, 4, 100), None, "under 5 % of the work");
        assert_eq!(eta(30.0, 10, 100).as_deref(), Some("4m30s"));
        assert_eq!(eta(30.0, 100, 100), None, "done");
    }
}
