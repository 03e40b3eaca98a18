//! Which backend trains a run: the policy behind `--backend`, decided from the adapters wgpu lists, so
//! it is tested without a GPU and without the binary.
//!
//! - `cpu`, `reference`: as asked.
//! - `gpu`: the GPU engine; no adapter is an error.
//! - `auto`: the GPU engine on a hardware adapter; the CPU engine, with a note saying why, when there is
//!   no adapter, when every adapter is a software rasteriser (lavapipe: the CPU engine is faster there),
//!   or when the adapter cannot be opened. With `--adapter`, the named adapter is tried whatever its
//!   type.

use super::cpu::CpuTrainer;
use super::gpu::GpuTrainer;
use super::multi_gpu::MultiGpuTrainer;
use super::reference::ReferenceTrainer;
use super::Trainer;
use crate::gpu::{AdapterSummary, Gpu, GpuError, LimitSet};

/// `--adapter all`: every hardware adapter, each training a share of every chunk.
pub const ALL_ADAPTERS: &str = "all";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Auto,
    Cpu,
    Gpu,
    Reference,
}

/// What to open, decided before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The GPU engine (on `auto`, falling back to the CPU engine if it cannot be opened).
    Gpu,
    /// The CPU engine; `note` says why when `auto` chose it.
    Cpu {
        note: Option<String>,
    },
    Reference,
}

/// The policy, from the adapters wgpu lists and the `--adapter` filter. Opt-in adapters (GL) count only
/// when named.
pub fn decide(backend: Backend, adapters: &[AdapterSummary], filter: Option<&str>) -> Decision {
    let chosen: Vec<&AdapterSummary> = adapters.iter().filter(|a| !a.opt_in).collect();
    let adapters = chosen.as_slice();
    match backend {
        Backend::Cpu => Decision::Cpu { note: None },
        Backend::Reference => Decision::Reference,
        Backend::Gpu => Decision::Gpu,
        Backend::Auto if filter.is_some() => Decision::Gpu,
        Backend::Auto if adapters.is_empty() => Decision::Cpu {
            note: Some(fallback_note(&GpuError::NoAdapter { filter: None })),
        },
        Backend::Auto if adapters.iter().all(|a| a.software) => {
            let names: Vec<&str> = adapters.iter().map(|a| a.name.as_str()).collect();
            Decision::Cpu {
                note: Some(format!(
                    "the only adapter is a software rasteriser ({}); use --backend gpu to run the WGSL \
                     kernels on it: running the CPU engine",
                    names.join(", ")
                )),
            }
        }
        Backend::Auto => Decision::Gpu,
    }
}

/// `auto`'s note when the GPU engine could not be opened.
pub fn fallback_note(e: &GpuError) -> String {
    let reason = match e {
        GpuError::NoAdapter { filter: Some(f) } => {
            format!("no GPU adapter matching --adapter \"{f}\"")
        }
        GpuError::NoAdapter { filter: None } => {
            "no GPU adapter (none found through Vulkan, Metal or DX12)".to_string()
        }
        other => format!("GPU unavailable ({other})"),
    };
    format!("{reason}: running the CPU engine")
}

/// Opens the backend the policy chooses; `auto`'s reason for the CPU engine is pushed to `notes`.
pub fn open(
    backend: Backend,
    filter: Option<&str>,
    limits: &LimitSet,
    notes: &mut Vec<String>,
) -> Result<Box<dyn Trainer>, GpuError> {
    let adapters = match backend {
        Backend::Auto if filter.is_none() => crate::gpu::list_adapters(),
        _ => Vec::new(),
    };
    match decide(backend, &adapters, filter) {
        Decision::Reference => Ok(Box::new(ReferenceTrainer)),
        Decision::Cpu { note } => {
            notes.extend(note);
            Ok(Box::new(CpuTrainer::new()))
        }
        Decision::Gpu if filter.is_some_and(|f| f.eq_ignore_ascii_case(ALL_ADAPTERS)) => {
            let (gpus, all_software) = Gpu::open_all(limits)?;
            if all_software {
                notes.push(format!(
                    "--adapter all: no hardware adapter, so the {} software one{} ({})",
                    gpus.len(),
                    if gpus.len() == 1 { "" } else { "s" },
                    gpus.iter()
                        .map(|g| g.summary.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let trainers = gpus.into_iter().map(GpuTrainer::on).collect();
            match MultiGpuTrainer::new(trainers) {
                Some(t) => Ok(Box::new(t)),
                None => Err(GpuError::NoAdapter {
                    filter: Some(ALL_ADAPTERS.into()),
                }),
            }
        }
        Decision::Gpu => match GpuTrainer::open(filter, limits) {
            Ok(t) => Ok(Box::new(t)),
            Err(e) if backend == Backend::Auto => {
                notes.push(fallback_note(&e));
                Ok(Box::new(CpuTrainer::new()))
            }
            Err(e) => Err(e),
        },
    }
}
