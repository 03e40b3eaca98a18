//! Every shader module, with every pipeline-constant variant the engine, its checks, `gpulstm tune` and
//! the bench can choose (`gpu::variants::all_variants`), and every other entry point with the constants'
//! defaults, through naga — the translator wgpu itself runs — to MSL (Metal), HLSL (DX12), SPIR-V
//! (Vulkan) and GLSL ES (GL): proof, short of the hardware, that the kernels compile for any of them.
//!
//! Each module is validated with the fewest capabilities the engine needs (none; subgroup shuffles for
//! the `+subgroup` modules) and every validation check on; pipeline constants are applied with naga's
//! `process_overrides` (as wgpu does before every backend), and the result validated again the same way.
//! The lowest language versions the kernels need are targeted: MSL 2.0 (2.1 with subgroups), HLSL shader
//! model 5.1 (6.0 with subgroups), SPIR-V 1.0 (1.3 with subgroups) allowing only the SPIR-V capabilities
//! the kernels use, GLSL ES 3.10 (the GL backend has no subgroups, so the `+subgroup` modules are not
//! translated to GLSL). naga enforces the capability sets and subgroup operations; it does not check every
//! rule of a language version. Bounds checks are on (as `Gpu::shader_module` asks) and loop bounding off.
//! A failure names the module, the entry point and constants, where the variant came from, and the target.

mod common;

use std::collections::BTreeMap;

use common::naga_validate::{capabilities, validator};
use gpulstm::gpu::shaders;
use gpulstm::gpu::variants::{all_variants, catalog, Variant};
use naga::back::{glsl, hlsl, msl, spv};
use naga::proc::{BoundsCheckPolicies, BoundsCheckPolicy};
use naga::valid::ModuleInfo;
use naga::{Module, ShaderStage};

/// The backends, by the name a failure gives.
const TARGETS: [&str; 4] = ["msl", "hlsl", "spirv", "glsl"];

/// A module as the engine compiles it: parsed once, with what it needs.
struct Parsed {
    name: &'static str,
    module: Module,
    subgroups: bool,
}

/// A validator allowing only what the engine needs: every check, no capabilities beyond subgroups where
/// the module uses them, and of subgroup operations only shuffles, in compute shaders only.
fn validate(module: &Module, subgroups: bool, resolved: bool) -> Result<ModuleInfo, String> {
    let mut v = validator(subgroups);
    let result = if resolved {
        v.validate_resolved_overrides(module)
    } else {
        v.validate(module)
    };
    result.map_err(|e| format!("{e:?}"))
}

fn policies() -> BoundsCheckPolicies {
    BoundsCheckPolicies {
        index: BoundsCheckPolicy::Restrict,
        buffer: BoundsCheckPolicy::Restrict,
        image_load: BoundsCheckPolicy::Restrict,
        binding_array: BoundsCheckPolicy::Unchecked,
    }
}

/// The resource bindings of a module's globals, in binding order.
fn bindings(module: &Module) -> Vec<(naga::ResourceBinding, bool)> {
    let mut out: Vec<(naga::ResourceBinding, bool)> = module
        .global_variables
        .iter()
        .filter_map(|(_, g)| {
            let mutable = matches!(
                g.space,
                naga::AddressSpace::Storage { access } if access.contains(naga::StorageAccess::STORE)
            );
            g.binding.map(|b| (b, mutable))
        })
        .collect();
    out.sort_by_key(|(b, _)| (b.group, b.binding));
    out
}

fn to_msl(module: &Module, info: &ModuleInfo, entry: &str, subgroups: bool) -> Result<(), String> {
    let mut resources = msl::EntryPointResources::default();
    let mut slot = 0;
    for (binding, mutable) in bindings(module) {
        resources.resources.insert(
            binding,
            msl::BindTarget {
                buffer: Some(slot),
                mutable,
                ..Default::default()
            },
        );
        slot += 1;
    }
    // Runtime-sized arrays under bounds checks read their lengths from a sizes buffer, as on Metal.
    resources.sizes_buffer = Some(slot);
    let options = msl::Options {
        lang_version: if subgroups { (2, 1) } else { (2, 0) },
        per_entry_point_map: BTreeMap::from([(entry.to_string(), resources)]),
        bounds_check_policies: policies(),
        zero_initialize_workgroup_memory: false,
        force_loop_bounding: false,
        ..Default::default()
    };
    let pipeline = msl::PipelineOptions {
        entry_point: Some((ShaderStage::Compute, entry.to_string())),
        ..Default::default()
    };
    msl::write_string(module, info, &options, &pipeline)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

fn to_hlsl(module: &Module, info: &ModuleInfo, entry: &str, subgroups: bool) -> Result<(), String> {
    let binding_map = bindings(module)
        .into_iter()
        .map(|(b, _)| {
            (
                b,
                hlsl::BindTarget {
                    space: b.group as u8,
                    register: b.binding,
                    binding_array_size: None,
                    dynamic_storage_buffer_offsets_index: None,
                    restrict_indexing: true,
                },
            )
        })
        .collect();
    let options = hlsl::Options {
        shader_model: if subgroups {
            hlsl::ShaderModel::V6_0
        } else {
            hlsl::ShaderModel::V5_1
        },
        binding_map,
        restrict_indexing: true,
        zero_initialize_workgroup_memory: false,
        force_loop_bounding: false,
        ..Default::default()
    };
    let pipeline = hlsl::PipelineOptions {
        entry_point: Some((ShaderStage::Compute, entry.to_string())),
    };
    let mut out = String::new();
    hlsl::Writer::new(&mut out, &options, &pipeline)
        .write(module, info, None)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

fn to_spirv(
    module: &Module,
    info: &ModuleInfo,
    entry: &str,
    subgroups: bool,
) -> Result<(), String> {
    use spv::Capability as C;
    let mut allowed = naga::FastHashSet::default();
    allowed.insert(C::Shader);
    if subgroups {
        allowed.extend([C::GroupNonUniform, C::GroupNonUniformShuffle]);
    }
    let options = spv::Options {
        lang_version: if subgroups { (1, 3) } else { (1, 0) },
        capabilities: Some(allowed),
        bounds_check_policies: policies(),
        zero_initialize_workgroup_memory: spv::ZeroInitializeWorkgroupMemoryMode::None,
        force_loop_bounding: false,
        ..Default::default()
    };
    let pipeline = spv::PipelineOptions {
        shader_stage: ShaderStage::Compute,
        entry_point: entry.to_string(),
    };
    spv::write_vec(module, info, &options, Some(&pipeline))
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

fn to_glsl(module: &Module, info: &ModuleInfo, entry: &str) -> Result<(), String> {
    let options = glsl::Options {
        version: glsl::Version::new_gles(310),
        zero_initialize_workgroup_memory: false,
        ..Default::default()
    };
    let pipeline = glsl::PipelineOptions {
        shader_stage: ShaderStage::Compute,
        entry_point: entry.to_string(),
        multiview: None,
    };
    let mut out = String::new();
    glsl::Writer::new(&mut out, module, info, &options, &pipeline, policies())
        .and_then(|mut w| w.write())
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// One variant through every target; the failures, each naming what failed.
fn translate(parsed: &Parsed, variant: &Variant) -> (usize, Vec<String>) {
    let what = format!("{} (from {})", variant.name(), variant.origin);
    let mut constants = naga::back::PipelineConstants::default();
    for &(k, v) in &variant.constants {
        constants.insert(k.to_string(), v);
    }
    let Ok(info) = validate(&parsed.module, parsed.subgroups, false) else {
        return (0, vec![format!("{what}: the module does not validate")]);
    };
    let entry = variant.entry;
    let (module, info) = match naga::back::pipeline_constants::process_overrides(
        &parsed.module,
        &info,
        Some((ShaderStage::Compute, entry)),
        &constants,
    ) {
        Ok(processed) => processed,
        Err(e) => return (0, vec![format!("{what}: pipeline constants: {e:?}")]),
    };
    if let Err(e) = validate(&module, parsed.subgroups, true) {
        return (
            0,
            vec![format!("{what}: after the constants, validation: {e}")],
        );
    }
    let mut done = 0;
    let mut failures = Vec::new();
    for target in TARGETS {
        // wgpu's GL backend offers no subgroup operations, so the engine never builds these there.
        if target == "glsl" && parsed.subgroups {
            continue;
        }
        let result = match target {
            "msl" => to_msl(&module, &info, entry, parsed.subgroups),
            "hlsl" => to_hlsl(&module, &info, entry, parsed.subgroups),
            "spirv" => to_spirv(&module, &info, entry, parsed.subgroups),
            _ => to_glsl(&module, &info, entry),
        };
        match result {
            Ok(()) => done += 1,
            Err(e) => failures.push(format!("{what} → {target}: {e}")),
        }
    }
    (done, failures)
}

#[test]
fn every_shader_variant_translates_to_every_backend() {
    let started = std::time::Instant::now();
    let mut parsed = Vec::new();
    for (name, source) in shaders::modules() {
        let module = naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| {
            panic!("{name}: WGSL does not parse: {}", e.emit_to_string(&source))
        });
        let subgroups = name.ends_with("+subgroup");
        if let Err(e) = validate(&module, subgroups, false) {
            panic!(
                "{name}: does not validate with capabilities {:?}: {e}",
                capabilities(subgroups)
            );
        }
        // Each backend must support what the module needs.
        for (target, supported) in [
            ("msl", msl::supported_capabilities()),
            ("hlsl", hlsl::supported_capabilities()),
            ("spirv", spv::supported_capabilities()),
        ] {
            assert!(
                supported.contains(capabilities(subgroups)),
                "{name}: {target} lacks {:?}",
                capabilities(subgroups)
            );
        }
        parsed.push(Parsed {
            name,
            module,
            subgroups,
        });
    }
    for (model, products) in catalog() {
        assert!(
            !products.is_empty(),
            "catalog entry {model}: its spec does not parse"
        );
    }

    // The listed variants, then every entry point no variant names, with the constants' defaults.
    let mut jobs: Vec<(usize, Variant)> = Vec::new();
    for v in all_variants() {
        let at = parsed
            .iter()
            .position(|p| p.name == v.module)
            .unwrap_or_else(|| panic!("{}: no module {}", v.name(), v.module));
        assert!(
            parsed[at]
                .module
                .entry_points
                .iter()
                .any(|e| e.name == v.entry),
            "{}: module {} has no entry point {}",
            v.name(),
            v.module,
            v.entry
        );
        jobs.push((at, v));
    }
    for (at, p) in parsed.iter().enumerate() {
        for ep in &p.module.entry_points {
            let named = jobs.iter().any(|(i, v)| *i == at && v.entry == ep.name);
            if !named {
                let entry: &'static str = Box::leak(ep.name.clone().into_boxed_str());
                jobs.push((
                    at,
                    Variant {
                        module: p.name,
                        entry,
                        constants: Vec::new(),
                        origin: "an entry point launched without constants".into(),
                    },
                ));
            }
        }
    }

    // Translation is independent per variant: spread over the cores.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = jobs.len().div_ceil(threads).max(1);
    let results: Vec<(usize, Vec<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                let parsed = &parsed;
                s.spawn(move || {
                    part.iter()
                        .map(|(at, v)| translate(&parsed[*at], v))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a translation thread panicked"))
            .collect()
    });

    let translations: usize = results.iter().map(|(n, _)| n).sum();
    let failures: Vec<&String> = results.iter().flat_map(|(_, f)| f).collect();
    let mut per_module: BTreeMap<&str, usize> = BTreeMap::new();
    for (at, _) in &jobs {
        *per_module.entry(parsed[*at].name).or_default() += 1;
    }
    for (module, n) in &per_module {
        eprintln!("  {module:<24} {n} pipelines");
    }
    eprintln!(
        "{} modules × {} pipelines (entry point and constants) × targets {} (GLSL without the subgroup \
         modules) = {translations} translations, {} failed, in {:.1} s",
        parsed.len(),
        jobs.len(),
        TARGETS.join("/"),
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    for f in failures.iter().take(20) {
        eprintln!("FAILED: {f}");
    }
    assert!(
        failures.is_empty(),
        "{} translations failed (first: {})",
        failures.len(),
        failures[0]
    );
}
