//! The interface between the Rust side and the WGSL, checked without an adapter: every shader module the
//! engine builds (`gpu::shaders::modules`, the list tests/shader_translation.rs translates) is parsed and
//! validated by naga, and its reflection compared with what the Rust side declares.
//!
//! - Bindings: for each entry point, every global it uses — group and binding number, variable name,
//!   address space (uniform, storage read, storage read_write) and the type it holds — against its
//!   family's binding table (`gpu::kernels::binding_table`, which is also the order `bind` receives the
//!   buffers in) and `gpu::kernels::slots` (the bind-group layout); and every Rust slot declared in WGSL.
//! - Structs: every WGSL struct with a Rust mirror (`gpu::kernels::mirrors`) — size, member names in
//!   order, offsets, sizes and types — against the mirror's table, built by `offset_of!` from the Rust
//!   struct itself; every struct a binding holds has a mirror, and every mirror a WGSL struct.
//!
//! Pipeline constants do not change bindings or struct layouts (no struct or binding is sized by an
//! `override`), so each module is checked once, not per variant. A failure names the module and entry
//! point, the binding (group, number, variable) or the struct and field.

mod common;

use common::naga_validate::validator;
use gpulstm::gpu::bindings::Binding;
use gpulstm::gpu::kernels::{binding_table, mirrors, slots, FAMILIES};
use gpulstm::gpu::shader_structs::Mirror;
use gpulstm::gpu::shaders;
use naga::valid::ModuleInfo;
use naga::{AddressSpace, Handle, Module, StorageAccess, Type, TypeInner};

/// A module parsed and validated as the engine compiles it (subgroup shuffles for `+subgroup` ones).
fn parse(name: &str, source: &str) -> (Module, ModuleInfo) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name}: WGSL does not parse: {}", e.emit_to_string(source)));
    let info = validator(name.ends_with("+subgroup"))
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: does not validate: {e:?}"));
    (module, info)
}

/// The kernel family a module belongs to (the `+subgroup` modules add entry points, not bindings).
fn family(module: &str) -> &str {
    module.trim_end_matches("+subgroup")
}

fn scalar_name(s: naga::Scalar) -> String {
    use naga::ScalarKind::*;
    match s.kind {
        Bool => "bool".into(),
        Uint => format!("u{}", 8 * s.width),
        Sint => format!("i{}", 8 * s.width),
        Float => format!("f{}", 8 * s.width),
        other => format!("{other:?}"),
    }
}

/// A type as WGSL spells it.
fn wgsl_name(module: &Module, ty: Handle<Type>) -> String {
    let t = &module.types[ty];
    match &t.inner {
        TypeInner::Scalar(s) => scalar_name(*s),
        TypeInner::Vector { size, scalar } => {
            format!("vec{}<{}>", *size as u8, scalar_name(*scalar))
        }
        TypeInner::Array { base, .. } => format!("array<{}>", wgsl_name(module, *base)),
        TypeInner::Struct { .. } => t.name.clone().unwrap_or_else(|| "<struct>".into()),
        other => format!("{other:?}"),
    }
}

/// What a binding holds, as the Rust table names it: a storage array's element, a uniform's type.
fn held(module: &Module, ty: Handle<Type>) -> Handle<Type> {
    match module.types[ty].inner {
        TypeInner::Array { base, .. } => base,
        _ => ty,
    }
}

/// The address space as the Rust `Slot` names it.
fn slot_of(space: AddressSpace) -> String {
    match space {
        AddressSpace::Uniform => "Uniform".into(),
        AddressSpace::Storage { access } if access.contains(StorageAccess::STORE) => {
            "ReadWrite".into()
        }
        AddressSpace::Storage { .. } => "Read".into(),
        other => format!("{other:?}"),
    }
}

/// Every used global of every entry point against the family's Rust table, and every Rust slot against
/// the module's declarations.
fn check_bindings(name: &str, module: &Module, info: &ModuleInfo, failures: &mut Vec<String>) {
    let fam = family(name);
    let table: &[Binding] = binding_table(fam);
    let layout = slots(fam);
    if table.is_empty() {
        failures.push(format!(
            "{name}: family `{fam}` has no Rust binding table (gpu::kernels::binding_table)"
        ));
        return;
    }
    for (i, ep) in module.entry_points.iter().enumerate() {
        for (h, g) in module.global_variables.iter() {
            let (Some(rb), false) = (g.binding, info.get_entry_point(i)[h].is_empty()) else {
                continue;
            };
            let var = g.name.as_deref().unwrap_or("?");
            let at = format!(
                "{name}::{}: binding (group {}, {}) `{var}`",
                ep.name, rb.group, rb.binding
            );
            if rb.group != 0 {
                failures.push(format!("{at}: the Rust side binds group 0 only"));
                continue;
            }
            let Some(rust) = table.get(rb.binding as usize) else {
                failures.push(format!(
                    "{at}: the Rust side has no slot {} (it binds {} slots: {:?})",
                    rb.binding,
                    table.len(),
                    table.iter().map(|b| b.name).collect::<Vec<_>>()
                ));
                continue;
            };
            if rust.name != var {
                failures.push(format!(
                    "{at}: the Rust bind order has `{}` at binding {}",
                    rust.name, rb.binding
                ));
            }
            let (wgsl_slot, rust_slot) = (
                slot_of(g.space),
                format!("{:?}", layout[rb.binding as usize]),
            );
            if wgsl_slot != rust_slot {
                failures.push(format!(
                    "{at}: WGSL declares it {wgsl_slot} ({:?}), gpu::kernels::slots says {rust_slot}",
                    g.space
                ));
            }
            let ty = wgsl_name(module, held(module, g.ty));
            if ty != rust.ty {
                failures.push(format!(
                    "{at}: WGSL holds {} (element {ty}), the Rust table says {}",
                    wgsl_name(module, g.ty),
                    rust.ty
                ));
            }
        }
    }
    for (n, b) in table.iter().enumerate() {
        let declared = module.global_variables.iter().any(|(_, g)| {
            g.binding
                .is_some_and(|rb| rb.group == 0 && rb.binding as usize == n)
        });
        if !declared {
            failures.push(format!(
                "{name}: Rust binding (group 0, {n}) `{}` ({:?}) is not declared in the WGSL",
                b.name, b.slot
            ));
        }
    }
}

/// The first difference between a WGSL struct and its Rust mirror, member by member.
fn check_members(
    at: &str,
    module: &Module,
    wgsl: &[naga::StructMember],
    rust: &Mirror,
) -> Option<String> {
    for i in 0..wgsl.len().max(rust.fields.len()) {
        match (wgsl.get(i), rust.fields.get(i)) {
            (Some(w), Some(r)) => {
                let w_name = w.name.as_deref().unwrap_or("?");
                let w_size = module.types[w.ty].inner.size(module.to_ctx()) as usize;
                let w_ty = wgsl_name(module, w.ty);
                if w_name != r.name
                    || w.offset as usize != r.offset
                    || w_size != r.size
                    || w_ty != r.ty
                {
                    return Some(format!(
                        "{at}: member {i}: WGSL `{w_name}: {w_ty}` at offset {} ({w_size} B), Rust \
                         `{}: {}` at offset {} ({} B)",
                        w.offset, r.name, r.ty, r.offset, r.size
                    ));
                }
            }
            (Some(w), None) => {
                return Some(format!(
                    "{at}: WGSL member `{}` at offset {} has no Rust field",
                    w.name.as_deref().unwrap_or("?"),
                    w.offset
                ))
            }
            (None, Some(r)) => {
                return Some(format!(
                    "{at}: Rust field `{}` at offset {} has no WGSL member",
                    r.name, r.offset
                ))
            }
            (None, None) => {}
        }
    }
    None
}

/// Every mirrored struct of the module against its mirror; every struct a binding holds mirrored.
/// Returns the WGSL names of the structs it compared.
fn check_structs(name: &str, module: &Module, failures: &mut Vec<String>) -> Vec<&'static str> {
    let mirrors = mirrors();
    let mut seen = Vec::new();
    for (_, t) in module.types.iter() {
        let (TypeInner::Struct { members, span }, Some(wgsl)) = (&t.inner, &t.name) else {
            continue;
        };
        let Some(m) = mirrors.iter().find(|m| m.wgsl == wgsl) else {
            continue;
        };
        seen.push(m.wgsl);
        let at = format!("{name}: struct `{wgsl}` (Rust `{}`)", m.rust);
        if *span as usize != m.size {
            failures.push(format!("{at}: size {span} B in WGSL, {} B in Rust", m.size));
        }
        failures.extend(check_members(&at, module, members, m));
    }
    for (_, g) in module.global_variables.iter() {
        let ty = held(module, g.ty);
        if g.binding.is_some() && matches!(module.types[ty].inner, TypeInner::Struct { .. }) {
            let wgsl = wgsl_name(module, ty);
            if !mirrors.iter().any(|m| m.wgsl == wgsl) {
                failures.push(format!(
                    "{name}: `{}` holds struct `{wgsl}`, which has no Rust mirror in \
                     gpu::kernels::mirrors",
                    g.name.as_deref().unwrap_or("?")
                ));
            }
        }
    }
    seen
}

#[test]
fn every_binding_and_mirrored_struct_matches_the_rust_side() {
    let mut failures = Vec::new();
    let mut mirrored = Vec::new();
    let (mut modules, mut entry_points) = (0, 0);
    for (name, source) in shaders::modules() {
        let (module, info) = parse(name, &source);
        if !FAMILIES.contains(&family(name)) {
            failures.push(format!("{name}: not in gpu::kernels::FAMILIES"));
        }
        check_bindings(name, &module, &info, &mut failures);
        mirrored.extend(check_structs(name, &module, &mut failures));
        modules += 1;
        entry_points += module.entry_points.len();
    }
    for m in mirrors() {
        if !mirrored.contains(&m.wgsl) {
            failures.push(format!(
                "Rust `{}` mirrors `{}`, which no shader module declares",
                m.rust, m.wgsl
            ));
        }
    }
    eprintln!(
        "{modules} modules, {entry_points} entry points, {} mirrors: {} mismatches",
        mirrors().len(),
        failures.len()
    );
    for f in &failures {
        eprintln!("MISMATCH: {f}");
    }
    assert!(
        failures.is_empty(),
        "{} mismatches between the WGSL and the Rust side (first: {})",
        failures.len(),
        failures[0]
    );
}
