//! The kernel families already compiled on one device, so every engine of a run (one per chunk of
//! models, the prediction engines) reuses their modules and pipelines instead of recompiling. Plain
//! wgpu objects, below both the device ([`super::context::Gpu`] owns the cache) and the families
//! ([`super::kernel::Family`] fills and reads it).

use std::sync::{Arc, Mutex};

/// A compiled WGSL module, the bind-group and pipeline layouts shared by all its entry points, and the
/// pipelines made from it so far (by entry point and constants; shared by every clone).
#[derive(Clone)]
pub struct CompiledFamily {
    pub module: wgpu::ShaderModule,
    pub layout: wgpu::BindGroupLayout,
    pub pipeline_layout: wgpu::PipelineLayout,
    pub pipelines: Arc<Mutex<Vec<(String, wgpu::ComputePipeline)>>>,
}

/// The families compiled on one device, by name and full source.
#[derive(Default)]
pub struct FamilyCache {
    families: Mutex<Vec<(String, String, CompiledFamily)>>,
}

impl FamilyCache {
    /// The family compiled earlier from the same name and source.
    pub fn get(&self, name: &str, source: &str) -> Option<CompiledFamily> {
        // A poisoned lock only means another thread panicked mid-insert; the list itself is still valid.
        let families = self.families.lock().unwrap_or_else(|e| e.into_inner());
        families
            .iter()
            .find(|(n, s, _)| n == name && s == source)
            .map(|(_, _, f)| f.clone())
    }

    pub fn insert(&self, name: &str, source: String, family: CompiledFamily) {
        self.families
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.to_string(), source, family));
    }
}
