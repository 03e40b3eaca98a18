//! `gpulstm devices`: the GPU adapters wgpu can see and their limits.

use super::common::{bytes, say, Failure};
use crate::gpu::{self, AdapterSummary};

/// The `gpulstm devices` table (also used by tests through the binary).
pub fn devices_table(adapters: &[AdapterSummary]) -> String {
    if adapters.is_empty() {
        return "no adapters found: install a Vulkan, Metal or DX12 driver (on Linux without a GPU: \
                `apt-get install mesa-vulkan-drivers libvulkan1` for the lavapipe software adapter); \
                `gpulstm train --backend cpu` runs without one\n"
            .to_string();
    }
    let header = [
        "#",
        "name",
        "backend",
        "type",
        "max storage binding",
        "workgroup storage",
        "timestamps",
    ];
    let rows: Vec<[String; 7]> = adapters
        .iter()
        .enumerate()
        .map(|(i, a)| {
            [
                i.to_string(),
                a.name.clone(),
                a.backend.clone(),
                a.device_type.clone(),
                bytes(a.max_storage_buffer_binding_size),
                bytes(a.max_compute_workgroup_storage_size as u64),
                if a.timestamp_queries { "yes" } else { "no" }.to_string(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(header.to_vec());
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    if adapters.iter().any(|a| a.opt_in) {
        out.push_str(
            "GL adapters run only when named (--adapter gl): the default choice and --backend auto \
             use Vulkan, Metal or DX12\n",
        );
    }
    out
}

pub(super) fn devices() -> Result<(), Failure> {
    say(&devices_table(&gpu::list_adapters()));
    Ok(())
}
