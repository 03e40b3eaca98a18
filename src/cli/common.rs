//! What every subcommand shares: [`Failure`] (which exit code a failure gets), and printing to stdout
//! and stderr.
//!
//! Exit codes: 0 success; 2 for anything the user can fix in the command or the input (a bad flag value,
//! a malformed CSV cell, an output directory that already holds results, no GPU adapter when one is
//! required); 1 for failures while running (a backend error, a file that cannot be written, a failed
//! GPU check). [`Failure`] carries the distinction to `main`, which prints the message.

use std::io::Write;

use crate::gpu::{GpuError, LimitSet};
use crate::train::backend::{self, Backend};
use crate::train::Trainer;

/// Why a command failed, and so which exit code it gets.
#[derive(Debug)]
pub enum Failure {
    /// The user's command or input is wrong (exit 2).
    Usage(anyhow::Error),
    /// Running failed (exit 1).
    Runtime(anyhow::Error),
    /// Stopped by SIGINT/SIGTERM at a safe point; resumable (exit 130, as a shell reports a Ctrl-C).
    Interrupted(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Runtime(_) => 1,
            Failure::Interrupted(_) => 130,
        }
    }

    pub fn error(&self) -> &anyhow::Error {
        match self {
            Failure::Usage(e) | Failure::Runtime(e) | Failure::Interrupted(e) => e,
        }
    }

    /// The error and its causes on one line, "what we did: why it failed". A cause whose text the
    /// message already contains is skipped: several error types (the data loader's I/O error among
    /// them) put their source into their own message and would otherwise print it twice.
    pub fn message(&self) -> String {
        let mut message = String::new();
        for cause in self.error().chain() {
            let text = cause.to_string();
            if message.contains(&text) {
                continue;
            }
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        message
    }
}

pub(super) fn usage(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Usage(e.into())
}

pub(super) fn runtime(e: impl Into<anyhow::Error>) -> Failure {
    Failure::Runtime(e.into())
}

/// A GPU that could not be had: no adapter is the user's to fix, anything else a runtime failure.
pub(super) fn gpu_failure(e: GpuError) -> Failure {
    match e {
        GpuError::NoAdapter { .. } => usage(e),
        other => runtime(other),
    }
}

/// Set by a host that wants no summary on stdout (the Python package with `verbose=False`).
static SILENT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub(super) fn set_silent(silent: bool) {
    SILENT.store(silent, std::sync::atomic::Ordering::SeqCst);
}

/// Prints to stdout; a closed stdout (`gpulstm devices | head -1`) is not an error worth a panic.
pub(super) fn say(text: &str) {
    if SILENT.load(std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Prints one line to stderr, ignoring a closed stderr.
pub(super) fn warn(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// A byte count in the unit that reads best (`devices`' and `check`'s tables).
pub(super) fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    if n >= KIB * KIB * KIB && n.is_multiple_of(KIB * KIB * KIB) {
        format!("{} GiB", n / (KIB * KIB * KIB))
    } else if n >= KIB * KIB {
        format!("{:.0} MiB", n as f64 / (KIB * KIB) as f64)
    } else if n >= KIB {
        format!("{:.0} KiB", n as f64 / KIB as f64)
    } else {
        format!("{n} B")
    }
}

/// The backend `--backend` asks for, by the library's policy ([`crate::train::backend`]); `auto`'s
/// reason for the CPU engine is printed and added to `notes`.
pub(super) fn pick_trainer(
    choice: Backend,
    (adapter, limits): (Option<&str>, &LimitSet),
    notes: &mut Vec<String>,
    quiet: bool,
) -> Result<Box<dyn Trainer>, Failure> {
    let before = notes.len();
    let trainer = backend::open(choice, adapter, limits, notes).map_err(gpu_failure)?;
    if !quiet {
        for note in &notes[before..] {
            warn(note);
        }
    }
    Ok(trainer)
}

/// Refuses to continue a run (or sweep) in `dir` that another version of gpulstm, `recorded`, began:
/// the two halves' numbers would not be comparable.
pub(super) fn same_version(dir: &std::path::Path, recorded: &str) -> Result<(), Failure> {
    let this = env!("CARGO_PKG_VERSION");
    if recorded != this {
        return Err(usage(anyhow::anyhow!(
            "{}: recorded by gpulstm {recorded}, this is {this}; results would not be comparable",
            dir.display()
        )));
    }
    Ok(())
}

/// Refuses a `--json FILE` that exists unless `--force`: a file a user wrote is not replaced unasked.
/// Checked before the work, so a long run does not end in the refusal.
pub(super) fn json_path_free(path: Option<&std::path::Path>, force: bool) -> Result<(), Failure> {
    match path {
        Some(p) if p.exists() && !force => Err(usage(anyhow::anyhow!(
            "--json {}: the file exists; choose another path or add --force to replace it",
            p.display()
        ))),
        _ => Ok(()),
    }
}

/// Writes `value` as pretty JSON to the `--json` file `path` and says so.
pub(super) fn write_json(
    path: &std::path::Path,
    value: &impl serde::Serialize,
) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| runtime(anyhow::anyhow!("--json {}: {e}", path.display())))?;
    std::fs::write(path, text)
        .map_err(|e| runtime(anyhow::anyhow!("writing --json {}: {e}", path.display())))?;
    say(&format!("wrote {}\n", path.display()));
    Ok(())
}
