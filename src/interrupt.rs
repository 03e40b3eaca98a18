//! SIGINT and SIGTERM (Ctrl-C, `kill`, a scheduler's preemption) during a run: the first asks the run to
//! stop at its next safe point (after the chunk of models in flight, whose results are then saved); a
//! second stops the process at once (exit 130), losing only the chunk in flight.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static MESSAGE: Mutex<String> = Mutex::new(String::new());
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Installs the handler once per process; `message` is printed on the first signal.
pub fn install(message: &str) -> anyhow::Result<()> {
    if let Ok(mut m) = MESSAGE.lock() {
        *m = message.to_string();
    }
    let installed = INSTALLED.get_or_init(|| {
        ctrlc::set_handler(|| {
            if REQUESTED.swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond interrupt: stopping now (the chunk in flight is lost)");
                std::process::exit(130);
            }
            let text = MESSAGE.lock().map(|m| m.clone()).unwrap_or_default();
            eprintln!("\n{text}");
        })
        .map_err(|e| e.to_string())
    });
    installed
        .clone()
        .map_err(|e| anyhow::anyhow!("cannot install the interrupt handler: {e}"))
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// For a host that handles signals itself (the Python package, whose own SIGINT handler raises
/// `KeyboardInterrupt`): no handler is installed by [`install`], and the host asks for the stop with
/// [`request`].
pub fn handled_by_host() {
    let _ = INSTALLED.set(Ok(()));
}

/// Asks the run in progress to stop at its next safe point, as a first signal does.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Forgets an earlier stop request, so that a host's next run starts afresh.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}
