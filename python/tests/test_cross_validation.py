"""cross_validation: the CLI's numbers bit for bit, the neuralforecast shape, several series, polars."""

import csv

import numpy as np
import pytest

import gpulstm
from conftest import SMALL


def cli_predictions(tmp_path, df, **extra):
    """The same data through the command line's CSV path (`gpulstm train --data ...`), run by the
    crate's own CLI entry; returns predictions.csv's validation rows."""
    path = tmp_path / "long.csv"
    df.to_csv(path, index=False, date_format="%Y-%m-%d")
    out = tmp_path / "cli-run"
    args = [
        "train", "--data", str(path), "--id-column", "unique_id", "--date-column", "ds",
        "--target", "y", "--features", "y",
        "--lookback", str(SMALL["input_size"]), "--train-window", str(SMALL["train_window"]),
        "--val-window", str(SMALL["step_size"]), "--step", str(SMALL["step_size"]),
        "--last-splits", str(SMALL["n_windows"]), "--layers", SMALL["layers"],
        "--epochs", str(SMALL["max_epochs"]), "--batch-size", str(SMALL["batch_size"]),
        "--backend", "cpu", "--out", str(out), "--quiet",
    ]
    for k, v in extra.items():
        args += [k, v]
    gpulstm.cli(*args)
    with open(out / "predictions.csv", newline="") as f:
        return [r for r in csv.DictReader(f) if r["window"] == "val"]


def test_equals_cli_bit_for_bit(tmp_path, sample_pd):
    cv = gpulstm.cross_validation(sample_pd, **SMALL)
    rows = cli_predictions(tmp_path, sample_pd)
    assert len(cv) == len(rows) == SMALL["n_windows"] * SMALL["step_size"]
    rows.sort(key=lambda r: (r["series"], r["date"]))
    got = cv.sort_values(["unique_id", "ds"])
    assert list(got["ds"].dt.strftime("%Y-%m-%d")) == [r["date"] for r in rows]
    # Exact equality of the float64 bits, not a tolerance.
    assert np.array_equal(got["LSTM"].to_numpy(), np.array([float(r["predicted"]) for r in rows]))
    assert np.array_equal(got["y"].to_numpy(), np.array([float(r["actual"]) for r in rows]))
    assert np.array_equal(got["Naive"].to_numpy(), np.array([float(r["naive"]) for r in rows]))


def test_shape_and_cutoff(sample_pd):
    cv = gpulstm.cross_validation(sample_pd, **SMALL)
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "LSTM", "Naive", "y"]
    assert str(cv["ds"].dtype).startswith("datetime64")
    assert cv["cutoff"].dtype == cv["ds"].dtype
    assert cv["LSTM"].dtype == np.float64
    # Sorted by unique_id, cutoff, ds; cutoff is the date before each window's first forecast.
    assert cv.equals(cv.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True))
    dates = list(sample_pd["ds"])
    for cutoff, g in cv.groupby("cutoff"):
        assert len(g) == SMALL["step_size"]
        first = dates.index(g["ds"].min())
        assert dates[first - 1] == cutoff
    # Naive is the last observed value before ds.
    y = dict(zip(sample_pd["ds"], sample_pd["y"]))
    for ds, naive in zip(cv["ds"], cv["Naive"]):
        assert naive == y[dates[dates.index(ds) - 1]]


def test_levels_columns(sample_pd):
    # 95 % from K windows of 5 errors needs at least 19 errors (else the interval is infinite and
    # left out): K=4, so windows 5 and 6 have intervals.
    cv = gpulstm.cross_validation(sample_pd, levels=[80, 95], conformal=4, **{**SMALL, "n_windows": 6})
    assert list(cv.columns) == [
        "unique_id", "ds", "cutoff", "LSTM",
        "LSTM-lo-95", "LSTM-lo-80", "LSTM-hi-80", "LSTM-hi-95", "Naive", "y",
    ]
    later = cv[cv["LSTM-lo-95"].notna()]
    assert len(later) == 2 * 5 and cv["LSTM-lo-80"].isna().sum() == 4 * 5
    assert (later["LSTM-lo-95"] <= later["LSTM-lo-80"]).all()
    assert (later["LSTM-lo-80"] <= later["LSTM"]).all()
    assert (later["LSTM-hi-80"] <= later["LSTM-hi-95"]).all()


def test_three_series_long_frame(tmp_path, long_pd):
    cv = gpulstm.cross_validation(long_pd, **SMALL)
    ids = sorted(long_pd["unique_id"].unique())
    assert sorted(cv["unique_id"].unique()) == ids
    assert len(cv) == 3 * SMALL["n_windows"] * SMALL["step_size"]
    assert list(cv["unique_id"]) == sorted(cv["unique_id"])
    rows = cli_predictions(tmp_path, long_pd)
    rows.sort(key=lambda r: (r["series"], r["date"]))
    got = cv.sort_values(["unique_id", "ds"])
    assert list(got["unique_id"]) == [r["series"] for r in rows]
    assert np.array_equal(got["LSTM"].to_numpy(), np.array([float(r["predicted"]) for r in rows]))
    print(cv.head())
    print(cv.dtypes)


def test_expanding_window(sample_pd):
    cv = gpulstm.cross_validation(sample_pd, window="expanding", **SMALL)
    assert len(cv) == SMALL["n_windows"] * SMALL["step_size"]


def test_polars_in_polars_out(sample_pd):
    pl = pytest.importorskip("polars")
    df = pl.DataFrame(
        {
            "unique_id": sample_pd["unique_id"].to_numpy().astype(str),
            "ds": sample_pd["ds"].dt.date.tolist(),
            "y": sample_pd["y"].to_numpy(),
        }
    )
    assert df.schema["ds"] == pl.Date
    cv = gpulstm.cross_validation(df, **SMALL)
    assert isinstance(cv, pl.DataFrame)
    assert cv.columns == ["unique_id", "ds", "cutoff", "LSTM", "Naive", "y"]
    assert cv.schema["ds"] == pl.Date and cv.schema["cutoff"] == pl.Date
    ref = gpulstm.cross_validation(sample_pd, **SMALL)
    assert np.array_equal(cv["LSTM"].to_numpy(), ref["LSTM"].to_numpy())


def test_unsorted_ids_are_grouped(sample_pd):
    pd = pytest.importorskip("pandas")
    other = sample_pd.assign(unique_id="B", y=sample_pd["y"] * 2)
    mixed = pd.concat([sample_pd, other]).sort_values("ds", kind="stable").reset_index(drop=True)
    cv = gpulstm.cross_validation(mixed, **SMALL)
    assert sorted(cv["unique_id"].unique()) == ["AAPL", "B"]
