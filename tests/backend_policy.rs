//! The `--backend` policy as a library function of the adapters found: no binary, no GPU needed.

use gpulstm::gpu::{AdapterSummary, GpuError};
use gpulstm::train::backend::{decide, fallback_note, Backend, Decision};

fn adapter(name: &str, software: bool) -> AdapterSummary {
    AdapterSummary {
        name: name.to_string(),
        backend: "Vulkan".to_string(),
        device_type: if software { "Cpu" } else { "DiscreteGpu" }.to_string(),
        software,
        driver: String::new(),
        max_storage_buffer_binding_size: 1 << 27,
        max_buffer_size: 1 << 28,
        max_compute_workgroup_storage_size: 16384,
        max_compute_invocations_per_workgroup: 256,
        max_compute_workgroups_per_dimension: 65535,
        max_storage_buffers_per_shader_stage: 8,
        timestamp_queries: false,
        opt_in: false,
    }
}

fn cpu_note(d: Decision) -> String {
    match d {
        Decision::Cpu { note: Some(n) } => n,
        other => panic!("expected the CPU engine with a note, got {other:?}"),
    }
}

#[test]
fn explicit_choices_are_taken_as_given() {
    let none: [AdapterSummary; 0] = [];
    assert_eq!(
        decide(Backend::Cpu, &none, None),
        Decision::Cpu { note: None }
    );
    assert_eq!(decide(Backend::Reference, &none, None), Decision::Reference);
    // `gpu` with no adapter still tries, so the user gets the adapter error.
    assert_eq!(decide(Backend::Gpu, &none, None), Decision::Gpu);
    let lavapipe = [adapter("llvmpipe", true)];
    assert_eq!(decide(Backend::Gpu, &lavapipe, None), Decision::Gpu);
}

#[test]
fn auto_takes_a_hardware_gpu_and_says_why_when_it_does_not() {
    let mixed = [adapter("llvmpipe", true), adapter("Radeon RX 7600", false)];
    assert_eq!(decide(Backend::Auto, &mixed, None), Decision::Gpu);
    let note = cpu_note(decide(Backend::Auto, &[], None));
    assert!(
        note.contains("no GPU adapter") && note.ends_with("running the CPU engine"),
        "{note}"
    );
    let note = cpu_note(decide(
        Backend::Auto,
        &[adapter("llvmpipe (LLVM 15)", true)],
        None,
    ));
    assert!(
        note.contains("software rasteriser (llvmpipe (LLVM 15))"),
        "{note}"
    );
    assert!(note.contains("--backend gpu"), "{note}");
    // A named adapter is tried whatever its type.
    assert_eq!(
        decide(Backend::Auto, &[adapter("llvmpipe", true)], Some("llvm")),
        Decision::Gpu
    );
}

#[test]
fn opt_in_adapters_count_only_when_named() {
    let mut gl = adapter("llvmpipe (GL)", false);
    gl.opt_in = true;
    let note = cpu_note(decide(Backend::Auto, &[gl.clone()], None));
    assert!(note.contains("no GPU adapter"), "{note}");
    assert_eq!(decide(Backend::Auto, &[gl], Some("gl")), Decision::Gpu);
}

#[test]
fn auto_falls_back_with_the_reason_the_adapter_gave() {
    let note = fallback_note(&GpuError::NoAdapter {
        filter: Some("radeon".into()),
    });
    assert_eq!(
        note,
        "no GPU adapter matching --adapter \"radeon\": running the CPU engine"
    );
    let note = fallback_note(&GpuError::Device {
        adapter: "X".into(),
        message: "lost".into(),
    });
    assert!(
        note.starts_with("GPU unavailable (could not open the GPU device on X: lost)"),
        "{note}"
    );
}
