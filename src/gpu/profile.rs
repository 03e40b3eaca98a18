//! Timing kernels on the adapter (for the bench, `gpulstm bench` and `gpulstm tune`) and the yardstick
//! shape of each engine product (the on-paper estimates are in [`super::roofline`]).

use std::time::Instant;

use super::context::{Gpu, GpuError};
use super::device_layout::round4;
use super::kernel::{submit, Launch};
use super::tiles::Product;
use super::yardstick::MatShape;

/// GPU milliseconds of each launch, each in a compute pass of its own with timestamp queries, all in one
/// submission; where the adapter has no timestamps, wall-clock milliseconds of each launch submitted and
/// waited for alone.
pub fn launch_ms(gpu: &Gpu, launches: &[&Launch]) -> Result<Vec<f64>, GpuError> {
    if !gpu.timestamps {
        return launches
            .iter()
            .map(|l| {
                let t0 = Instant::now();
                submit(gpu, &[l]);
                gpu.wait()?;
                Ok(t0.elapsed().as_secs_f64() * 1e3)
            })
            .collect();
    }
    let count = (launches.len() * 2) as u32;
    let qs = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
        label: Some("kernel timestamps"),
        ty: wgpu::QueryType::Timestamp,
        count,
    });
    let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("timestamps"),
        size: count as u64 * 8,
        usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let mut encoder = gpu.device.create_command_encoder(&Default::default());
    for (i, l) in launches.iter().enumerate() {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(&l.label),
            timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                query_set: &qs,
                beginning_of_pass_write_index: Some(2 * i as u32),
                end_of_pass_write_index: Some(2 * i as u32 + 1),
            }),
        });
        l.record(&mut pass);
    }
    encoder.resolve_query_set(&qs, 0..count, &resolve, 0);
    gpu.queue.submit(Some(encoder.finish()));
    let bytes = gpu.read_bytes(&resolve, 0, count as u64 * 8)?;
    let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&bytes);
    let period = gpu.queue.get_timestamp_period() as f64;
    Ok((0..launches.len())
        .map(|i| ticks[2 * i + 1].saturating_sub(ticks[2 * i]) as f64 * period / 1e6)
        .collect())
}

/// Median of `v` (0 when empty).
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return 0.0;
    }
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        0.5 * (s[n / 2 - 1] + s[n / 2])
    }
}

/// The plain row-major product a yardstick runs for `product` over `models` models: the same rows,
/// depth and columns, one product per model (per model and step for the recurrent kernels, B shared by
/// a model's steps as U is).
pub fn yardstick_shape(product: &Product, models: usize) -> MatShape {
    match *product {
        Product::Project {
            rows,
            depth4,
            cols4,
        } => MatShape {
            products: models,
            group: 1,
            rows,
            depth: 4 * depth4,
            cols: 4 * cols4,
        },
        Product::WeightGrad { rows, depth, cols4 } => MatShape {
            products: models,
            group: 1,
            rows,
            depth: round4(depth),
            cols: 4 * cols4,
        },
        Product::Recurrence {
            batch,
            units,
            steps,
        } => MatShape {
            products: models * steps,
            group: steps,
            rows: batch,
            depth: round4(units),
            cols: 4 * units,
        },
        Product::Bptt {
            batch,
            units,
            steps,
        } => MatShape {
            products: models * steps,
            group: steps,
            rows: batch,
            depth: 4 * units,
            cols: round4(units),
        },
    }
}
