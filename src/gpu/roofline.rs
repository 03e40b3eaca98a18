//! The on-paper time of a step on named GPUs (not measured: no such GPU was available), launch by launch:
//! the pure roofline, max(FLOP / peak, bytes / bandwidth), and the same with waves and occupancy counted
//! — how many of a launch's workgroups a compute unit holds at once (from its threads and workgroup
//! memory), how many waves the grid takes, how many SIMD lanes of each workgroup are busy. The bench and
//! `gpulstm bench` print both with the assumptions below.

use super::kernel::{Cost, Workgroup};
use super::tiles::{AdapterClass, Product, TileLimits, Tiles};

/// A GPU for the on-paper estimates: FP32 FMA throughput (no tensor cores: WGSL has none), memory
/// bandwidth, and what one compute unit (an NVIDIA SM, an Apple GPU core) holds.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct PaperGpu {
    pub name: &'static str,
    /// Short name, for JSON keys.
    pub key: &'static str,
    pub flops: f64,
    pub bytes_per_second: f64,
    /// Compute units (SMs, cores).
    pub units: u32,
    /// SIMD width (warp, SIMD group).
    pub simd: u32,
    /// SIMD groups a unit issues per clock (schedulers): fewer resident ones leave lanes idle.
    pub schedulers: u32,
    /// Threads resident on a unit at once.
    pub threads_per_unit: u32,
    /// Workgroups resident on a unit at once.
    pub groups_per_unit: u32,
    /// Workgroup memory of a unit, bytes.
    pub shared_per_unit: u64,
    /// The adapter class whose default tiles the estimate gives its products, and the workgroup limits
    /// (invocations, workgroup memory, subgroup size) its Vulkan or Metal driver reports.
    #[serde(skip)]
    pub class: AdapterClass,
    pub invocations: u32,
    pub workgroup_bytes: u32,
    /// Where the figures come from.
    pub source: &'static str,
}

/// NVIDIA H100 SXM: 132 SMs × 128 FP32 lanes (4 schedulers of 32) at 1.98 GHz = 67 TFLOP/s FP32
/// (non-tensor), 3.35 TB/s HBM3; per SM at most 2048 resident threads, 32 blocks, 228 KB shared memory.
pub const H100: PaperGpu = PaperGpu {
    name: "NVIDIA H100 SXM",
    key: "h100",
    flops: 67e12,
    bytes_per_second: 3.35e12,
    units: 132,
    simd: 32,
    schedulers: 4,
    threads_per_unit: 2048,
    groups_per_unit: 32,
    shared_per_unit: 228 * 1024,
    class: AdapterClass::Discrete,
    invocations: 1024,
    workgroup_bytes: 49152,
    source: "vendor figures (Hopper tuning guide); Vulkan limits of NVIDIA's driver",
};

/// Apple M2, 10-core GPU: 10 cores × 128 FP32 lanes (4 SIMD groups of 32) at 1.4 GHz = 3.6 TFLOP/s, 100
/// GB/s unified memory, 32 KiB threadgroup memory. Apple does not publish residency: 1024 threads and 16
/// threadgroups per core are assumptions.
pub const M2: PaperGpu = PaperGpu {
    name: "Apple M2 (10-core GPU)",
    key: "m2",
    flops: 3.6e12,
    bytes_per_second: 100e9,
    units: 10,
    simd: 32,
    schedulers: 4,
    threads_per_unit: 1024,
    groups_per_unit: 16,
    shared_per_unit: 32 * 1024,
    class: AdapterClass::Integrated,
    invocations: 1024,
    workgroup_bytes: 32768,
    source: "vendor figures and Metal limits; residency per core assumed",
};

/// The GPUs every estimate is made for.
pub const PAPER_GPUS: [PaperGpu; 2] = [H100, M2];

/// What the estimate with waves assumes, printed beside it.
pub const ASSUMPTIONS: &str = "FP32 FMA peak and DRAM bandwidth as listed; every tensor a launch touches \
moves once (reuse stays on chip); every workgroup of a launch does equal work; a compute unit runs its \
resident workgroups together and reaches peak only with at least one SIMD group per scheduler; a wave \
lasts as long as its busiest unit; registers, launch overhead, barriers and the latency of the recurrent \
kernels' serial time steps are not counted, so both columns are lower bounds; product kernels get the tiles the engine would choose on that GPU (its class's defaults under its limits), the other kernels the workgroups measured here";

/// One launch on one paper GPU.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Estimate {
    /// max(FLOP / peak, bytes / bandwidth), ms.
    pub roofline_ms: f64,
    /// With waves, occupancy and idle lanes, ms.
    pub ms: f64,
    pub waves: u64,
    /// Workgroups resident per unit (0: the workgroup does not fit one unit).
    pub resident: u32,
    /// Busy share of the SIMD lanes a workgroup takes.
    pub lanes_busy: f64,
}

impl PaperGpu {
    /// The tiles the engine would choose on this GPU (its class's defaults under its limits).
    pub fn tiles(&self) -> Tiles {
        Tiles::new(
            self.class,
            TileLimits {
                invocations: self.invocations,
                size_x: self.invocations,
                size_y: self.invocations,
                workgroup_bytes: self.workgroup_bytes,
                subgroup_size: Some(self.simd),
            },
        )
    }

    /// The workgroups and their shape that compute `product` for `models` models here, by the engine's
    /// own tile rules; `None` where no tile is legal.
    pub fn launch_shape(&self, product: &Product, models: usize) -> Option<(u64, Workgroup)> {
        let tile = self.tiles().tile(product)?;
        let workgroup = Workgroup {
            threads: tile.wgx * tile.wgy,
            shared_bytes: product.tile_bytes(&tile),
        };
        Some(((product.workgroups(&tile) * models) as u64, workgroup))
    }
}

/// The pure roofline time of `cost` on `gpu`, ms: whichever of its FLOPs and its bytes takes longer.
pub fn roofline_ms(cost: &Cost, gpu: &PaperGpu) -> f64 {
    1e3 * (cost.flops / gpu.flops).max(cost.bytes / gpu.bytes_per_second)
}

/// `groups` workgroups of shape `wg` doing `cost` on `gpu`.
pub fn estimate(cost: &Cost, groups: u64, wg: Workgroup, gpu: &PaperGpu) -> Estimate {
    let roofline = roofline_ms(cost, gpu);
    let simd_groups = wg.threads.max(1).div_ceil(gpu.simd);
    let lanes_busy = wg.threads.max(1) as f64 / (simd_groups * gpu.simd) as f64;
    let by_threads = gpu.threads_per_unit / (simd_groups * gpu.simd);
    let by_memory = gpu
        .shared_per_unit
        .checked_div(wg.shared_bytes)
        .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX));
    let resident = gpu.groups_per_unit.min(by_threads).min(by_memory);
    if resident == 0 || groups == 0 || cost.flops == 0.0 {
        return Estimate {
            roofline_ms: roofline,
            ms: roofline,
            waves: u64::from(groups > 0),
            resident,
            lanes_busy,
        };
    }
    let slots = resident as u64 * gpu.units as u64;
    let waves = groups.div_ceil(slots);
    // The busiest unit of a wave runs this many workgroups together, at a share of its peak set by the
    // SIMD groups it has to issue from and the lanes they keep busy.
    let per_unit = (resident as u64).min(groups.div_ceil(gpu.units as u64));
    let issue = ((per_unit * simd_groups as u64) as f64 / gpu.schedulers as f64).min(1.0);
    let unit_rate = gpu.flops / gpu.units as f64 * issue * lanes_busy;
    let flops_per_group = cost.flops / groups as f64;
    let compute_ms = 1e3 * waves as f64 * per_unit as f64 * flops_per_group / unit_rate;
    Estimate {
        roofline_ms: roofline,
        ms: compute_ms.max(1e3 * cost.bytes / gpu.bytes_per_second),
        waves,
        resident,
        lanes_busy,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(flops: f64) -> Cost {
        Cost {
            flops,
            bytes: 0.0,
            product: None,
        }
    }

    #[test]
    fn a_full_launch_reaches_the_roofline() {
        // 132 SMs × 32 resident groups of 64 threads: one wave, all lanes and schedulers busy.
        let wg = Workgroup {
            threads: 64,
            shared_bytes: 0,
        };
        let e = estimate(&cost(1e12), 132 * 32, wg, &H100);
        assert_eq!((e.waves, e.resident), (1, 32));
        assert!((e.ms / e.roofline_ms - 1.0).abs() < 1e-12, "{e:?}");
    }

    #[test]
    fn idle_lanes_waves_and_workgroup_memory_cost_time() {
        // 39 threads take 2 warps: 61 % of lanes busy. 988 groups of 41.6 KB of workgroup memory: 5 per
        // SM (228 KB), 660 at once, 2 waves of which the second is half full.
        let wg = Workgroup {
            threads: 39,
            shared_bytes: 41_600,
        };
        let e = estimate(&cost(988e6), 988, wg, &H100);
        assert_eq!((e.resident, e.waves), (5, 2));
        assert!((e.lanes_busy - 39.0 / 64.0).abs() < 1e-12);
        // Per wave the busiest SM runs 5 groups of 1 MFLOP at 2·5/4 ≥ 1 of its issue rate.
        let want = 1e3 * 2.0 * 5.0 * 1e6 / (67e12 / 132.0 * (39.0 / 64.0));
        assert!((e.ms / want - 1.0).abs() < 1e-12, "{} against {want}", e.ms);
        assert!(e.ms > e.roofline_ms);
        // One small workgroup on a whole GPU: one SM, one warp of four schedulers.
        let one = estimate(
            &cost(1e6),
            1,
            Workgroup {
                threads: 32,
                shared_bytes: 0,
            },
            &H100,
        );
        let want = 1e3 * 1e6 / (67e12 / 132.0 / 4.0);
        assert!((one.ms / want - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bandwidth_bounds_it_from_below() {
        let c = Cost {
            flops: 1.0,
            bytes: 1e9,
            product: None,
        };
        let wg = Workgroup {
            threads: 64,
            shared_bytes: 0,
        };
        let e = estimate(&c, 1000, wg, &M2);
        assert!((e.ms - 10.0).abs() < 1e-9, "{e:?}");
    }
}
