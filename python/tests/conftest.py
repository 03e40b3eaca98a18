"""Shared fixtures: small frames from the repository's sample and from ../shared/data, and the
settings that keep every test to seconds (tiny model, few splits, few epochs)."""

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "AAPL_2000_2013_yahoo.csv"
SHARED = REPO.parent / "shared" / "data"

#: Small and fast: a one-layer LSTM of 8 units, 3 windows of 5 days, 2 epochs.
SMALL = dict(
    input_size=10,
    train_window=40,
    step_size=5,
    n_windows=3,
    layers="lstm:8,dense:1",
    max_epochs=2,
    batch_size=8,
    backend="cpu",
    verbose=False,
)


def read_close(path, rows=None):
    """(dates, closes) of a Yahoo or Nasdaq CSV, oldest first (Nasdaq files are newest first)."""
    import datetime as dt

    with open(path, newline="") as f:
        r = csv.DictReader(f)
        out = []
        for row in r:
            d = row["Date"]
            if "/" in d:
                m, day, y = d.split("/")
                d = f"{y}-{m}-{day}"
            v = row.get("Close") or row.get("Close/Last")
            out.append((dt.date.fromisoformat(d), float(v.replace("$", "").replace(",", ""))))
    out.sort()
    if rows is not None:
        out = out[-rows:]
    return [d for d, _ in out], [v for _, v in out]


@pytest.fixture
def sample_pd():
    pd = pytest.importorskip("pandas")
    dates, ys = read_close(SAMPLE, rows=120)
    return pd.DataFrame({"unique_id": "AAPL", "ds": pd.to_datetime(dates), "y": ys})


@pytest.fixture
def shared_files():
    files = [SHARED / n for n in ("AAPL_5y_nasdaq.csv", "AAPL_10y_nasdaq.csv", "AAPL_2000_2013_yahoo.csv")]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        pytest.skip(f"the shared data files are not here: {', '.join(missing)}")
    return files


@pytest.fixture
def long_pd(shared_files):
    pd = pytest.importorskip("pandas")
    parts = []
    for f in shared_files:
        dates, ys = read_close(f, rows=150)
        parts.append(pd.DataFrame({"unique_id": f.stem, "ds": pd.to_datetime(dates), "y": ys}))
    return pd.concat(parts, ignore_index=True)
