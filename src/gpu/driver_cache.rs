//! The driver's compiled pipelines kept on disk between runs (a wgpu `PipelineCache`), where the backend
//! offers one (Vulkan): `pipelines-<adapter key>.bin` in the user's cache directory beside the tile cache
//! ([`super::tiles::cache_dir`]). Loaded when the device opens, handed to every pipeline created, and
//! written back (atomically) when the device closes if any pipeline was created, so a second run on the
//! same adapter and driver has the driver compile nothing. wgpu checks the data's header (adapter,
//! driver, wgpu version) and starts an empty cache instead where it does not match; WGSL is still
//! translated by naga on every run, the driver's compilation is what the cache saves.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// An open pipeline cache and where it lives.
pub struct DriverCache {
    pub cache: wgpu::PipelineCache,
    pub path: PathBuf,
    /// Bytes read from `path` when the device opened (0: a cold start).
    pub loaded_bytes: usize,
    dirty: AtomicBool,
}

impl DriverCache {
    /// The cache for `adapter` on `device` (opened with `wgpu::Features::PIPELINE_CACHE`), or `None`
    /// where the backend has none or there is no cache directory.
    pub fn open(adapter: &wgpu::Adapter, device: &wgpu::Device) -> Option<DriverCache> {
        if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let key = wgpu::util::pipeline_cache_key(&adapter.get_info())?;
        let path = super::tiles::cache_dir()?.join(format!("{key}.bin"));
        let data = std::fs::read(&path).ok();
        // SAFETY: the data is what `get_data` returned on an earlier run (this file is only written by
        // `save` below); wgpu validates its header and, with `fallback`, starts empty where it does not
        // match this adapter, driver or wgpu version, so a stale or foreign file costs a recompile only.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("gpulstm pipelines"),
                data: data.as_deref(),
                fallback: true,
            })
        };
        Some(DriverCache {
            cache,
            path,
            loaded_bytes: data.map_or(0, |d| d.len()),
            dirty: AtomicBool::new(false),
        })
    }

    /// A pipeline was created through the cache: write it back when the device closes.
    pub fn touched(&self) {
        self.dirty.store(true, Ordering::Relaxed);
    }

    /// Writes the cache's data if a pipeline was created since it opened. A failure to write only costs
    /// the next run its compile time, so it is reported, not fatal.
    pub fn save(&self) {
        if !self.dirty.swap(false, Ordering::Relaxed) {
            return;
        }
        let Some(data) = self.cache.get_data() else {
            return;
        };
        let written = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(anyhow::Error::from)
            .and_then(|()| crate::atomic::write(&self.path, &data));
        if let Err(e) = written {
            eprintln!(
                "note: could not keep the pipeline cache {} ({e:#}); the next run compiles its kernels again",
                self.path.display()
            );
        }
    }

    /// One line for `check`, `bench` and reports.
    pub fn describe(cache: Option<&DriverCache>) -> String {
        match cache {
            Some(c) if c.loaded_bytes > 0 => {
                format!("{} bytes loaded from {}", c.loaded_bytes, c.path.display())
            }
            Some(c) => format!("empty (cold start); kept in {}", c.path.display()),
            None => "none (the backend offers no pipeline cache)".into(),
        }
    }
}

impl Drop for DriverCache {
    fn drop(&mut self) {
        self.save();
    }
}
