//! Panels and seed ensembles at the library level: a panel run is its series' single runs trained
//! together, an ensemble of K seeds is K single-seed runs, and the ensemble's prediction is their mean.

mod common;

use common::runs::{compare, spec};
use gpulstm::data::{load_sample, LoadOptions, NamedSeries, Series};
use gpulstm::train::cpu::CpuTrainer;
use gpulstm::train::protocol::{run, run_panel, NoJournal, Protocol, RunResult};
use gpulstm::train::reference::ReferenceTrainer;
use gpulstm::train::Trainer;

/// Rows `range` of the embedded sample as a series of its own.
fn slice(name: &str, range: std::ops::Range<usize>) -> NamedSeries {
    let s = load_sample(&LoadOptions::default()).expect("sample");
    NamedSeries {
        name: name.to_string(),
        series: Series {
            dates: s.dates[range.clone()].to_vec(),
            features: s.features[range.clone()].to_vec(),
            target: s.target[range].to_vec(),
            ..s
        },
    }
}

/// Three series of different lengths and price levels.
fn panel() -> Vec<NamedSeries> {
    vec![
        slice("early", 0..140),
        slice("middle", 1500..1660),
        slice("late", 3000..3270),
    ]
}

fn same_run(a: &RunResult, b: &RunResult, what: &str) {
    assert_eq!(a.splits.len(), b.splits.len(), "{what}: splits");
    for (x, y) in a.splits.iter().zip(&b.splits) {
        let i = x.split.index;
        assert_eq!(x.split, y.split, "{what}: split {i}");
        assert_eq!(x.history, y.history, "{what}: split {i} history");
        assert_eq!(
            x.train_pred, y.train_pred,
            "{what}: split {i} train predictions"
        );
        assert_eq!(
            x.val_pred, y.val_pred,
            "{what}: split {i} validation predictions"
        );
        assert_eq!(x.val_actual, y.val_actual, "{what}: split {i} targets");
    }
    assert_eq!(a.forecast.members, b.forecast.members, "{what}: forecast");
}

fn panel_equals_single_runs(trainer: &mut dyn Trainer) {
    let quiet = |_: gpulstm::train::Progress| {};
    let mut s = spec(Protocol::WalkForward, 4);
    s.max_models_per_chunk = Some(5); // chunks that mix series
    let series = panel();
    let together = run_panel(&series, &s, trainer, &quiet, &mut NoJournal).expect("panel run");
    assert_eq!(together.series.len(), 3);
    for (named, result) in series.iter().zip(&together.series) {
        assert_eq!(result.name, named.name);
        let alone = run(&named.series, &s, trainer, &quiet).expect("single run");
        same_run(&result.ensemble, &alone, &named.name);
    }
}

#[test]
fn a_panel_equals_its_series_run_one_by_one_on_the_cpu_engine() {
    panel_equals_single_runs(&mut CpuTrainer::new());
}

#[test]
fn a_panel_equals_its_series_run_one_by_one_on_the_reference() {
    panel_equals_single_runs(&mut ReferenceTrainer);
}

#[test]
fn seeds_equal_runs_with_the_corresponding_seeds_and_their_mean_is_the_prediction() {
    let quiet = |_: gpulstm::train::Progress| {};
    let mut s = spec(Protocol::WalkForward, 3);
    s.seeds = 3;
    let series = [slice("late", 3000..3270)];
    let result = run_panel(&series, &s, &mut ReferenceTrainer, &quiet, &mut NoJournal)
        .expect("ensemble run");
    let r = &result.series[0];
    assert_eq!(r.seeds.len(), 3);
    for (k, seeded) in r.seeds.iter().enumerate() {
        let mut one = s.clone();
        one.seeds = 1;
        one.hyper.seed = s.hyper.seed + k as u64;
        let alone = run(&series[0].series, &one, &mut ReferenceTrainer, &quiet).expect("run");
        same_run(seeded, &alone, &format!("seed {}", one.hyper.seed));
        assert!(seeded.splits.iter().all(|o| o.seed == one.hyper.seed));
    }
    for (pos, o) in r.ensemble.splits.iter().enumerate() {
        assert_eq!(o.members, 3);
        for (i, &mean) in o.val_pred.iter().enumerate() {
            let each: Vec<f64> = r.seeds.iter().map(|x| x.splits[pos].val_pred[i]).collect();
            let want = each.iter().sum::<f64>() / 3.0;
            assert!(
                (mean - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{mean} vs {want}"
            );
            let spread = o.val_spread[i];
            let lo = each.iter().copied().fold(f64::INFINITY, f64::min);
            assert_eq!(spread.min, lo);
        }
    }
    // The forecast covers every seed's kept models: 3 seeds × the last 3 splits.
    assert_eq!(r.ensemble.forecast.members.len(), 9);
}

#[test]
fn seeds_of_a_panel_train_in_one_gpu_batch_and_match_the_reference() {
    let Some(_) = common::gpu_or_skip("seeds_of_a_panel_train_in_one_gpu_batch") else {
        return;
    };
    let quiet = |_: gpulstm::train::Progress| {};
    let mut s = spec(Protocol::WalkForward, 3);
    s.seeds = 2;
    let series = vec![slice("middle", 1500..1660), slice("late", 3000..3270)];
    let mut gpu =
        gpulstm::train::gpu::GpuTrainer::new(std::env::var("GPULSTM_ADAPTER").ok().as_deref())
            .expect("adapter");
    let on_gpu = run_panel(&series, &s, &mut gpu, &quiet, &mut NoJournal).expect("gpu run");
    let reference = run_panel(&series, &s, &mut ReferenceTrainer, &quiet, &mut NoJournal)
        .expect("reference run");
    for (g, r) in on_gpu.series.iter().zip(&reference.series) {
        for (gs, rs) in g.seeds.iter().zip(&r.seeds) {
            compare(gs, rs);
        }
    }
}

#[test]
fn the_seed_protocol_refuses_panels() {
    let quiet = |_: gpulstm::train::Progress| {};
    let s = spec(Protocol::Seed, 3);
    let err = run_panel(&panel(), &s, &mut ReferenceTrainer, &quiet, &mut NoJournal)
        .expect_err("a panel");
    assert!(format!("{err:#}").contains("3 series"), "{err:#}");
}

#[test]
fn a_series_too_short_for_one_split_is_named() {
    let quiet = |_: gpulstm::train::Progress| {};
    let s = spec(Protocol::WalkForward, 3);
    let mut series = panel();
    series.push(slice("tiny", 10..40));
    let err = run_panel(&series, &s, &mut ReferenceTrainer, &quiet, &mut NoJournal)
        .expect_err("too short");
    assert!(format!("{err:#}").contains("series \"tiny\""), "{err:#}");
}

#[test]
fn two_adapters_split_the_models_and_agree_with_one() {
    let Some(_) = common::gpu_or_skip("two_adapters_split_the_models") else {
        return;
    };
    let quiet = |_: gpulstm::train::Progress| {};
    let filter = std::env::var("GPULSTM_ADAPTER").ok();
    let open = || gpulstm::train::gpu::GpuTrainer::new(filter.as_deref()).expect("adapter");
    let mut s = spec(Protocol::WalkForward, 3);
    s.seeds = 2;
    let series = panel();
    // The same adapter opened twice stands in for two GPUs: two devices, two threads.
    let mut two =
        gpulstm::train::multi_gpu::MultiGpuTrainer::new(vec![open(), open()]).expect("two");
    assert!(two.describe().starts_with("2 adapters"));
    let split = run_panel(&series, &s, &mut two, &quiet, &mut NoJournal).expect("two adapters");
    let whole = run_panel(&series, &s, &mut open(), &quiet, &mut NoJournal).expect("one adapter");
    for (a, b) in split.series.iter().zip(&whole.series) {
        for (x, y) in a.seeds.iter().zip(&b.seeds) {
            compare(x, y);
        }
    }
}
