"""train() → Run; Ctrl-C (KeyboardInterrupt) stops at the next chunk and train(resume=dir) finishes
the run with the numbers an uninterrupted run gets; load, predict, devices."""

import _thread
import json
import sys

import numpy as np
import pytest

import gpulstm

TRAIN = dict(
    lookback=10, train_window=40, val_window=5, step=5, last_splits=6, layers="lstm:8,dense:1",
    epochs=2, batch_size=8, backend="cpu",
)


def test_train_run_attributes(tmp_path, sample_pd):
    run = gpulstm.train(sample_pd, out=tmp_path / "run", verbose=False, **TRAIN)
    assert run.dir == tmp_path / "run"
    assert run.report_path.exists()
    assert isinstance(run.metrics, dict)
    assert len(run.splits) == 6
    assert set(run.predictions["window"]) == {"train", "val"}
    assert len(run.history) > 0
    fc = run.forecast
    assert len(fc) == 1 and np.isfinite(fc["LSTM"][0])
    again = gpulstm.load(run.dir)
    assert again.metrics == run.metrics
    cv = run.cross_validation()
    assert len(cv) == 6 * 5


@pytest.fixture
def sigint_raises():
    """Python's own SIGINT handler, whatever the runner inherited: a process started in the
    background (`cmd &`) ignores SIGINT, and `_thread.interrupt_main` then does nothing."""
    import signal

    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_interrupt_then_resume(tmp_path, sample_pd, sigint_raises):
    whole = gpulstm.train(sample_pd, out=tmp_path / "whole", verbose=False, **TRAIN)
    seen = []

    def ctrl_c_once(stage, done, total, loss):
        # The first update: as if the user pressed Ctrl-C while the first chunk trains.
        if not seen:
            _thread.interrupt_main()
        seen.append(done)

    out = tmp_path / "cut"
    with pytest.raises(gpulstm.Interrupted) as info:
        gpulstm.train(sample_pd, out=out, max_models_per_chunk=1, progress=ctrl_c_once, **TRAIN)
    assert isinstance(info.value, KeyboardInterrupt)
    assert info.value.dir == str(out.resolve())
    assert "resume" in str(info.value)
    rec = json.loads((out / "run.json").read_text())
    assert rec["state"] == "interrupted"
    assert not (out / "metrics.json").exists()
    # The frame is not needed again: the run kept its columns.
    run = gpulstm.train(resume=out, verbose=False)
    assert json.loads((out / "run.json").read_text())["state"] == "complete"
    a = run.predictions
    b = whole.predictions
    assert np.array_equal(a["predicted"].to_numpy(), b["predicted"].to_numpy())


def test_progress_callback_and_gil(tmp_path, sample_pd):
    import threading

    ticks = []
    stop = threading.Event()

    def other_thread():
        # Runs while training does: the GIL is released.
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.005)

    t = threading.Thread(target=other_thread)
    t.start()
    updates = []
    try:
        gpulstm.train(sample_pd, out=tmp_path / "r", progress=lambda *a: updates.append(a), **TRAIN)
    finally:
        stop.set()
        t.join()
    assert updates and updates[-1][1] == updates[-1][2]
    assert len(ticks) > 5


def test_predict_from_frame(tmp_path, sample_pd):
    run = gpulstm.train(sample_pd, out=tmp_path / "run", verbose=False, **TRAIN)
    got = gpulstm.predict(run.dir / "model.safetensors", sample_pd)
    fc = run.forecast
    assert got["forecast"] == pytest.approx(float(fc["LSTM"][0]), rel=0, abs=0)
    assert got["date"] == str(fc["ds"][0])


def test_devices_and_version():
    import os

    found = gpulstm.devices()
    assert isinstance(found, list) and str(found) == found.table
    if os.environ.get("GPULSTM_REQUIRE_GPU") == "1":
        assert found, found.table
    if not found:
        assert "no adapters found" in found.table
    for i, a in enumerate(found):
        assert {"name", "backend", "device_type", "software", "max_storage_buffer_binding_size",
                "max_compute_workgroup_storage_size", "timestamp_queries", "opt_in"} <= set(a)
        # The table's row i is this adapter.
        row = [line for line in found.table.splitlines() if line.split()[:1] == [str(i)]]
        assert row and a["name"] in row[0] and a["backend"] in row[0], found.table
        assert a["max_storage_buffer_binding_size"] > 0
    assert gpulstm.__version__ == "0.1.0"


def _arg_entries(doc):
    """Each argument's text in a Google-style ``Args:`` section: from ``    name:`` to the next."""
    import re

    section = doc.split("Args:", 1)[1].split("\n\nReturns:", 1)[0]
    parts = re.split(r"\n    (\w+):", "\n" + section.strip("\n"))
    return dict(zip(parts[1::2], parts[2::2]))


def test_docstrings_say_every_argument_and_its_default():
    import inspect

    for fn in (gpulstm.cross_validation, gpulstm.train):
        entries = _arg_entries(inspect.getdoc(fn))
        for name, p in inspect.signature(fn).parameters.items():
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                continue
            assert name in entries, f"{fn.__name__}: {name} is not in the docstring"
            if p.default is inspect.Parameter.empty:
                continue
            text = " ".join(entries[name].split())
            assert "Default" in text, f"{fn.__name__}: {name}'s default is not stated"
            if isinstance(p.default, (bool, int, float, str)) or p.default is None:
                said = text.split("Default", 1)[1]
                assert str(p.default) in said or name == "layers", (
                    f"{fn.__name__}: {name} defaults to {p.default!r}, the docstring says {said!r}"
                )


def test_ctrl_c_on_the_last_update_is_not_lost(tmp_path, sample_pd, sigint_raises):
    # Before each update became a rendezvous this Ctrl-C could be seen after the run returned and
    # be swallowed; now it is handled before the worker goes on.
    def ctrl_c_at_the_end(stage, done, total, loss):
        if done == total:
            _thread.interrupt_main()

    out = tmp_path / "late"
    with pytest.raises(KeyboardInterrupt) as info:
        gpulstm.train(sample_pd, out=out, max_models_per_chunk=1, progress=ctrl_c_at_the_end, **TRAIN)
    # The run had finished its last chunk: it is complete, and the Ctrl-C still reaches the caller,
    # as the plain KeyboardInterrupt, not the resumable Interrupted.
    assert not isinstance(info.value, gpulstm.Interrupted)
    assert json.loads((out / "run.json").read_text())["state"] == "complete"
    assert (out / "metrics.json").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="hides the GPU by naming Metal, absent on Linux")
def test_check_returns_every_result(monkeypatch):
    # The CPU engine's checks only (wgpu shown no backend but Metal): the GPU's take minutes on
    # lavapipe and run in the Rust suite and `gpulstm check`.
    monkeypatch.setenv("WGPU_BACKEND", "metal")
    got = gpulstm.check(seed=7, verbose=False)
    assert got["seed"] == 7 and got["checked"] == ["the CPU engine"]
    assert got["failed"] == 0 and got["passed"] == len(got["results"]) > 20
    for r in got["results"]:
        assert r["pass"] and 0 <= r["margin"] < 1 and r["elements"] > 0, r
    assert {r["kernel"].split("/")[-1] for r in got["results"]} >= {"matmul"}
    with pytest.raises(ValueError, match="no-such-adapter"):
        gpulstm.check(adapter="no-such-adapter", verbose=False)


def test_run_predict_gives_each_series_its_own_models(tmp_path, long_pd):
    run = gpulstm.train(long_pd, out=tmp_path / "panel", verbose=False, **TRAIN)
    got = run.predict(long_pd)
    want = run.forecast
    # On the data it was trained on, a run predicts what its report forecast, series by series.
    assert list(got["unique_id"]) == sorted(long_pd["unique_id"].unique()) == list(want["unique_id"])
    for col in ("ds", "LSTM", "min", "max", "std", "models"):
        assert list(got[col]) == list(want[col]), col
    # One series alone, and with its last day dropped: that series' models, a day earlier.
    name = got["unique_id"][1]
    one = long_pd[long_pd["unique_id"] == name]
    alone = run.predict(one)
    assert list(alone["LSTM"]) == [got["LSTM"][1]]
    earlier = run.predict(one.iloc[:-1])
    assert earlier["ds"][0] < got["ds"][1] and earlier["LSTM"][0] != got["LSTM"][1]
    # A series the run never saw is named.
    stranger = one.assign(unique_id="NOT_TRAINED")
    with pytest.raises(ValueError, match="NOT_TRAINED"):
        run.predict(stranger)


def test_a_one_series_run_predicts_one_series(tmp_path, sample_pd, long_pd):
    run = gpulstm.train(sample_pd, out=tmp_path / "one", verbose=False, **TRAIN)
    got = run.predict(sample_pd)
    assert list(got["LSTM"]) == list(run.forecast["LSTM"])
    assert list(got["ds"]) == list(run.forecast["ds"])
    with pytest.raises(ValueError, match="one-series run"):
        run.predict(long_pd)
