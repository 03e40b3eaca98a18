//! Which SIMD path the CPU engine's kernels run, chosen once at run time.
//!
//! Every hot kernel is written once as plain Rust over fixed-size arrays (`[f32; NR]` accumulators,
//! straight loops) that LLVM turns into vector code, and compiled several times: inside a function
//! with `#[target_feature(enable = "avx512f,...")]`, one with AVX2+FMA, and a portable one (SSE2 on
//! x86-64, NEON on aarch64, where it is part of the base target). [`simd_dispatch!`] writes the
//! wrappers; [`Isa::detect`] picks the widest path the CPU has. Hand-written intrinsics would pin the
//! code to one instruction set; a BLAS crate would pack its operands on every call, which costs as much
//! as the per-time-step products of the recurrence themselves (10×50·50×200).
//!
//! The paths differ only in rounding: FMA paths fuse `a·b + c`, the portable path rounds twice.

use std::sync::OnceLock;

/// A SIMD path of the CPU engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// x86-64 with AVX-512F (16-lane f32 vectors, 32 registers).
    Avx512,
    /// x86-64 with AVX2 and FMA (8 lanes, 16 registers).
    Avx2,
    /// Whatever the base target has: SSE2 on x86-64, NEON on aarch64 (with fused multiply-add there).
    Portable,
}

impl Isa {
    /// The widest path this CPU runs. `GPULSTM_CPU_ISA=avx512|avx2|portable` asks for a narrower one
    /// (to compare paths, or to test the portable one); a path the CPU lacks is never chosen.
    pub fn detect() -> Isa {
        let best = Isa::best_available();
        match std::env::var("GPULSTM_CPU_ISA").ok().as_deref() {
            Some(name) => Isa::available()
                .into_iter()
                .find(|isa| isa.name() == name)
                .unwrap_or(best),
            None => best,
        }
    }

    /// Every path this CPU can run, widest first.
    pub fn available() -> Vec<Isa> {
        let mut out = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("fma")
            {
                out.push(Isa::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                out.push(Isa::Avx2);
            }
        }
        out.push(Isa::Portable);
        out
    }

    fn best_available() -> Isa {
        Isa::available()[0]
    }

    pub fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }
}

/// The path chosen for this process ([`Isa::detect`], once).
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(Isa::detect)
}

/// `a·b + c`, fused where the path has FMA (one rounding), else a multiply and an add.
#[inline(always)]
pub fn fmadd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Whether the portable path fuses multiply-adds: NEON always has FMA; baseline x86-64 does not (a
/// fused `mul_add` there is a library call).
pub const PORTABLE_FMA: bool = cfg!(target_arch = "aarch64");

/// Writes `pub fn $name(isa: Isa, args...)` calling `$generic::<consts>` compiled for each path, with the
/// const arguments given per path (`avx512: [..]`, `avx2: [..]`, `portable: [..]`).
macro_rules! simd_dispatch {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?
        => $generic:ident;
        avx512: [$($c512:expr),*], avx2: [$($c256:expr),*], portable: [$($cp:expr),*] $(,)?
    ) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name(isa: $crate::cpu::simd::Isa, $($arg: $ty),*) $(-> $ret)? {
            match isa {
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::simd::Isa::Avx512 => {
                    #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                    #[allow(clippy::too_many_arguments)]
                    fn run($($arg: $ty),*) $(-> $ret)? { $generic::<$($c512),*>($($arg),*) }
                    // SAFETY: `Isa::Avx512` exists only where `Isa::available` detected these features.
                    unsafe { run($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::simd::Isa::Avx2 => {
                    #[target_feature(enable = "avx2,fma")]
                    #[allow(clippy::too_many_arguments)]
                    fn run($($arg: $ty),*) $(-> $ret)? { $generic::<$($c256),*>($($arg),*) }
                    // SAFETY: `Isa::Avx2` exists only where `Isa::available` detected these features.
                    unsafe { run($($arg),*) }
                }
                _ => $generic::<$($cp),*>($($arg),*),
            }
        }
    };
}
pub(crate) use simd_dispatch;
