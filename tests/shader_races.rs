//! A scan of every shader variant's naga IR — every module the engine, `gpulstm check`, `tune` and the
//! bench compile, with every pipeline-constant variant they can choose (`gpu::variants::all_variants`)
//! and every other entry point at its constants' defaults — for two things no CPU rasteriser shows:
//!
//! - a store to ONE component of a vector that lives in storage or workgroup memory
//!   (`v[i][k] = x`, `v[i].y = x`). Lanes that own neighbouring floats then write the same vector, and a
//!   backend may compile the store as load–insert–store of the whole vector (Metal's compiler is free
//!   to), losing its neighbours' floats. Lavapipe runs a workgroup's lanes in lock step and never shows
//!   it. Kernels bind a scalar view (`array<f32>`) where lanes write floats, or give each vec4 one owner.
//! - a float compared with itself (`x == x`, `x != x`), or with the largest finite float (an infinity
//!   test, `abs(x) <= 3.4e38`): WGSL lets an implementation assume no NaN or infinity, and wgpu builds
//!   Metal shaders with fast math on, so such a test may be folded to a constant. Kernels test the bits
//!   (`bitcast<u32>`).
//!
//! Needs no adapter. A control module written the old way proves each rule can fail.

mod common;

use common::naga_validate::validator;
use gpulstm::gpu::shaders;
use gpulstm::gpu::variants::{all_variants, Variant};
use naga::valid::ModuleInfo;
use naga::{
    AddressSpace, BinaryOperator, Block, Expression, Function, Handle, Literal, Module, ScalarKind,
    ShaderStage, Statement, TypeInner,
};

/// What one scan of one function found.
#[derive(Default)]
struct Findings {
    stores: usize,
    float_comparisons: usize,
    problems: Vec<String>,
}

impl Findings {
    fn add(&mut self, other: Findings) {
        self.stores += other.stores;
        self.float_comparisons += other.float_comparisons;
        self.problems.extend(other.problems);
    }
}

fn validate(module: &Module, subgroups: bool, resolved: bool) -> ModuleInfo {
    let mut v = validator(subgroups);
    let result = if resolved {
        v.validate_resolved_overrides(module)
    } else {
        v.validate(module)
    };
    result.unwrap_or_else(|e| panic!("validation: {e:?}"))
}

fn shared_space(space: AddressSpace) -> Option<&'static str> {
    match space {
        AddressSpace::Storage { .. } => Some("storage"),
        AddressSpace::WorkGroup => Some("workgroup"),
        _ => None,
    }
}

/// The scan of one function of `module`; `info` is naga's analysis of it, `name` how a failure names it.
fn scan(
    module: &Module,
    function: &Function,
    info: &naga::valid::FunctionInfo,
    name: &str,
) -> Findings {
    let ty = |e: Handle<Expression>| info[e].ty.inner_with(&module.types);
    let mut out = Findings::default();
    let mut stores = Vec::new();
    collect_stores(&function.body, &mut stores);
    for pointer in stores {
        out.stores += 1;
        let base = match function.expressions[pointer] {
            Expression::Access { base, .. } | Expression::AccessIndex { base, .. } => base,
            _ => continue,
        };
        // The store's target is one component when the access is into a pointer to a vector.
        let (into_vector, space) = match *ty(base) {
            TypeInner::Pointer { base: t, space } => (
                matches!(module.types[t].inner, TypeInner::Vector { .. }),
                space,
            ),
            TypeInner::ValuePointer {
                size: Some(_),
                space,
                ..
            } => (true, space),
            _ => (false, AddressSpace::Function),
        };
        if let (true, Some(space)) = (into_vector, shared_space(space)) {
            out.problems.push(format!(
                "{name}: a store to one component of a vector in {space} memory ({:?})",
                function.expressions[pointer]
            ));
        }
    }
    for (h, e) in function.expressions.iter() {
        let Expression::Binary { op, left, right } = *e else {
            continue;
        };
        use BinaryOperator::*;
        if !matches!(
            op,
            Equal | NotEqual | Less | LessEqual | Greater | GreaterEqual
        ) {
            continue;
        }
        let float = match *ty(left) {
            TypeInner::Scalar(s) | TypeInner::Vector { scalar: s, .. } => {
                s.kind == ScalarKind::Float
            }
            _ => false,
        };
        if !float {
            continue;
        }
        out.float_comparisons += 1;
        if same(function, left, right, 0) {
            out.problems.push(format!(
                "{name}: a float compared with itself ({op:?}, expression {h:?})"
            ));
        } else if [left, right]
            .iter()
            .any(|&x| at_float_max(module, function, x))
        {
            out.problems.push(format!(
                "{name}: a float compared with the largest float, an infinity test ({op:?}, expression {h:?})"
            ));
        }
    }
    out
}

fn collect_stores(block: &Block, out: &mut Vec<Handle<Expression>>) {
    for statement in block.iter() {
        match statement {
            Statement::Store { pointer, .. } => out.push(*pointer),
            Statement::Block(b) => collect_stores(b, out),
            Statement::If { accept, reject, .. } => {
                collect_stores(accept, out);
                collect_stores(reject, out);
            }
            Statement::Switch { cases, .. } => {
                for case in cases {
                    collect_stores(&case.body, out);
                }
            }
            Statement::Loop {
                body, continuing, ..
            } => {
                collect_stores(body, out);
                collect_stores(continuing, out);
            }
            _ => {}
        }
    }
}

/// Whether two expressions compute the same value by the same path (the same handle, or the same load of
/// the same variable by the same access chain).
fn same(f: &Function, a: Handle<Expression>, b: Handle<Expression>, depth: u32) -> bool {
    if a == b {
        return true;
    }
    if depth > 16 {
        return false;
    }
    let (x, y) = (&f.expressions[a], &f.expressions[b]);
    match (x, y) {
        (Expression::Load { pointer: p }, Expression::Load { pointer: q }) => {
            same(f, *p, *q, depth + 1)
        }
        (Expression::LocalVariable(u), Expression::LocalVariable(v)) => u == v,
        (Expression::GlobalVariable(u), Expression::GlobalVariable(v)) => u == v,
        (Expression::FunctionArgument(u), Expression::FunctionArgument(v)) => u == v,
        (Expression::Literal(u), Expression::Literal(v)) => u == v,
        (Expression::Constant(u), Expression::Constant(v)) => u == v,
        (
            Expression::AccessIndex { base: p, index: i },
            Expression::AccessIndex { base: q, index: j },
        ) => i == j && same(f, *p, *q, depth + 1),
        (Expression::Access { base: p, index: i }, Expression::Access { base: q, index: j }) => {
            same(f, *p, *q, depth + 1) && same(f, *i, *j, depth + 1)
        }
        _ => false,
    }
}

/// A float literal or constant at or beyond the largest finite f32 (3.4e38 rounds to it).
fn at_float_max(module: &Module, f: &Function, e: Handle<Expression>) -> bool {
    let big = |l: &Literal| match *l {
        Literal::F32(v) => v.abs() >= 3.4e38,
        Literal::F64(v) | Literal::AbstractFloat(v) => v.abs() >= 3.4e38,
        _ => false,
    };
    match &f.expressions[e] {
        Expression::Literal(l) => big(l),
        Expression::Constant(c) => match module.global_expressions[module.constants[*c].init] {
            Expression::Literal(ref l) => big(l),
            _ => false,
        },
        _ => false,
    }
}

/// Every function and entry point of `module` (as `info` analysed it), scanned.
fn scan_module(module: &Module, info: &ModuleInfo, what: &str) -> Findings {
    let mut out = Findings::default();
    for (h, f) in module.functions.iter() {
        let name = format!("{what}, fn {}", f.name.as_deref().unwrap_or("?"));
        out.add(scan(module, f, &info[h], &name));
    }
    for (i, ep) in module.entry_points.iter().enumerate() {
        let name = format!("{what}, entry {}", ep.name);
        out.add(scan(module, &ep.function, info.get_entry_point(i), &name));
    }
    out
}

/// A variant with its constants applied, as wgpu does before every backend, then scanned.
fn scan_variant(module: &Module, subgroups: bool, v: &Variant) -> Findings {
    let info = validate(module, subgroups, false);
    let mut constants = naga::back::PipelineConstants::default();
    for &(k, x) in &v.constants {
        constants.insert(k.to_string(), x);
    }
    let (resolved, _) = naga::back::pipeline_constants::process_overrides(
        module,
        &info,
        Some((ShaderStage::Compute, v.entry)),
        &constants,
    )
    .unwrap_or_else(|e| panic!("{}: pipeline constants: {e:?}", v.name()));
    let info = validate(&resolved, subgroups, true);
    scan_module(
        &resolved,
        &info,
        &format!("{} (from {})", v.name(), v.origin),
    )
}

#[test]
fn no_shader_variant_stores_a_shared_vector_component_or_compares_a_float_with_itself() {
    let mut parsed = Vec::new();
    for (name, source) in shaders::modules() {
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
        parsed.push((name, module, name.ends_with("+subgroup")));
    }
    let mut jobs: Vec<Variant> = all_variants();
    // Every entry point no variant names, at its constants' defaults.
    for (name, module, _) in &parsed {
        for ep in &module.entry_points {
            if !jobs.iter().any(|v| v.module == *name && v.entry == ep.name) {
                let entry: &'static str = Box::leak(ep.name.clone().into_boxed_str());
                jobs.push(Variant {
                    module: name,
                    entry,
                    constants: Vec::new(),
                    origin: "defaults".into(),
                });
            }
        }
    }
    let mut total = Findings::default();
    let mut per_module: Vec<(&str, usize, usize, usize, usize)> = Vec::new();
    for v in &jobs {
        let (_, module, subgroups) = parsed
            .iter()
            .find(|(n, _, _)| *n == v.module)
            .unwrap_or_else(|| panic!("{}: no such module", v.name()));
        let found = scan_variant(module, *subgroups, v);
        match per_module.iter_mut().find(|r| r.0 == v.module) {
            Some(r) => {
                r.1 += 1;
                r.2 += found.stores;
                r.3 += found.float_comparisons;
                r.4 += found.problems.len();
            }
            None => per_module.push((
                v.module,
                1,
                found.stores,
                found.float_comparisons,
                found.problems.len(),
            )),
        }
        total.add(found);
    }
    eprintln!("IR scan: module, variants, stores, float comparisons, problems");
    for (m, n, s, c, p) in &per_module {
        eprintln!("  {m:<24} {n:>5} {s:>8} {c:>6} {p:>5}");
    }
    eprintln!(
        "  {:<24} {:>5} {:>8} {:>6} {:>5}",
        "all",
        jobs.len(),
        total.stores,
        total.float_comparisons,
        total.problems.len()
    );
    let mut distinct = total.problems.clone();
    distinct.sort();
    distinct.dedup();
    assert!(
        total.problems.is_empty(),
        "{} problems; first ones:\n{}",
        total.problems.len(),
        distinct
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        total.stores > 0 && total.float_comparisons > 0,
        "the scan saw nothing"
    );
}

/// The rules fail on code written the old way: lanes storing components of a storage vec4 and of a
/// workgroup vec4, a float self-comparison in both spellings, an infinity bound; and pass its fixed twin.
#[test]
fn the_scan_catches_the_old_patterns() {
    let bad = r#"
@group(0) @binding(0) var<storage, read_write> xa: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> flags: array<u32>;
var<workgroup> tile: array<vec4<f32>, 16>;
fn diverged(x: f32) -> bool {
    var y = x;
    return !(x == x) || y != y || abs(x) <= 3.4e38;
}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) u: u32) {
    xa[u / 4u][u % 4u] = 1.0;
    xa[u].y = 2.0;
    tile[u / 4u][u % 4u] = 3.0;
    var local = vec4<f32>(0.0);
    local[u % 4u] = 4.0; // private to the invocation: allowed
    workgroupBarrier();
    xa[u] = tile[u / 4u] + local;
    flags[u] = u32(diverged(xa[u].x));
}
"#;
    let module = naga::front::wgsl::parse_str(bad).expect("control parses");
    let info = validate(&module, false, false);
    let found = scan_module(&module, &info, "control");
    for p in &found.problems {
        eprintln!("control: {p}");
    }
    let count = |needle: &str| found.problems.iter().filter(|p| p.contains(needle)).count();
    assert_eq!(count("vector in storage"), 2, "{:#?}", found.problems);
    assert_eq!(count("vector in workgroup"), 1, "{:#?}", found.problems);
    assert_eq!(count("compared with itself"), 2, "{:#?}", found.problems);
    assert_eq!(count("largest float"), 1, "{:#?}", found.problems);

    let good = r#"
@group(0) @binding(0) var<storage, read_write> xa: array<f32>;
@group(0) @binding(1) var<storage, read_write> flags: array<u32>;
fn not_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) u: u32) {
    xa[u] = 1.0;
    flags[u] = u32(not_finite(xa[u]));
}
"#;
    let module = naga::front::wgsl::parse_str(good).expect("fixed twin parses");
    let info = validate(&module, false, false);
    let found = scan_module(&module, &info, "fixed twin");
    assert!(found.problems.is_empty(), "{:#?}", found.problems);
}

/// `shaders::fixed_workgroup_sizes`, the text reading the on-paper estimates use for kernels without
/// block constants, agrees with naga's reading of every entry point of every module.
#[test]
fn fixed_workgroup_sizes_agree_with_naga() {
    let mut checked = 0;
    for (name, source) in shaders::modules() {
        let module = naga::front::wgsl::parse_str(&source).expect("parses");
        let ours = shaders::fixed_workgroup_sizes(&source);
        for ep in &module.entry_points {
            let fixed = ep.workgroup_size_overrides.is_none();
            let want = fixed.then(|| ep.workgroup_size.iter().product::<u32>());
            let got = ours.iter().find(|(e, _)| *e == ep.name).map(|&(_, n)| n);
            assert_eq!(got, want, "{name}::{}", ep.name);
            checked += 1;
        }
        assert_eq!(
            ours.len(),
            module
                .entry_points
                .iter()
                .filter(|e| e.workgroup_size_overrides.is_none())
                .count(),
            "{name}"
        );
    }
    assert!(checked > 20, "{checked} entry points");
}
