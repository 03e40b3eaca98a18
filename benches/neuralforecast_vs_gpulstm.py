"""gpulstm.cross_validation against neuralforecast's LSTM with refitting, on the CPU, same windows.

    pip install neuralforecast gpulstm   # or: pip install target/wheels/gpulstm-*.whl
    python benches/neuralforecast_vs_gpulstm.py [--data ../shared/data/AAPL_5y_nasdaq.csv]

The same series (AAPL_5y), the same 200 one-step-ahead forecasts in 20 windows of 10 days: each
window's model is trained on data up to the window's cutoff and forecasts the next 10 days, each
from the actual history up to the day before (h=1). gpulstm trains the 20 windows' models in one
batch; neuralforecast refits its LSTM every 10 windows (``cross_validation(h=1, n_windows=200,
step_size=1, refit=10)``: 20 fits, the refit=True semantics at one fit per 10 one-day windows).

Comparable training (printed with the results):
- inputs: 60 days of the close (input_size 60), min-max scaled on the training data;
- model: gpulstm ``lstm:50:seq,dropout:0.3,lstm:50,dropout:0.2,dense:25,dense:1`` (the CLI's
  default); neuralforecast LSTM encoder 2 layers x 50 units, encoder dropout 0.3, MLP decoder
  25 units x 2 layers;
- training: Adam lr 0.001, MSE loss, batches of 10 samples, at most 200 Adam steps per model
  (gpulstm: 10 epochs x 20 batches of its 200 training samples; neuralforecast: max_steps 200 with
  windows_batch_size 10), early stopping with patience 5 (gpulstm: epochs, on the window's own
  validation days, the crate's Keras protocol; neuralforecast: checks every 20 steps on the 10
  days before the cutoff, val_size=10);
- what differs: neuralforecast always trains on the whole history before the cutoff (expanding;
  it has no rolling window), and samples random windows per step where gpulstm shuffles its
  samples per epoch; the rolling row therefore compares gpulstm's 200-sample rolling window with
  neuralforecast's expanding one, and the expanding row (gpulstm expanding from 200 samples) is the
  like-for-like one. neuralforecast is run once; its numbers stand in both rows.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import gpulstm

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "AAPL_5y_nasdaq.csv"
WINDOWS, DAYS, INPUT = 20, 10, 60


def load(path: Path) -> pd.DataFrame:
    rows = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            m, d, y = r["Date"].split("/")
            rows.append((dt.date(int(y), int(m), int(d)), float(r["Close/Last"].lstrip("$"))))
    rows.sort()
    return pd.DataFrame(
        {"unique_id": "AAPL_5y", "ds": pd.to_datetime([d for d, _ in rows]), "y": [v for _, v in rows]}
    )


def load_avg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "n/a"


def scores(pred: np.ndarray, y: np.ndarray, naive: np.ndarray) -> tuple[float, float, float]:
    rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
    naive_rmse = float(np.sqrt(np.mean((naive - y) ** 2)))
    return rmse, naive_rmse, 1.0 - rmse / naive_rmse


def run_gpulstm(df: pd.DataFrame, window: str) -> tuple[pd.DataFrame, float, str]:
    before = load_avg()
    t = time.perf_counter()
    cv = gpulstm.cross_validation(
        df, h=1, n_windows=WINDOWS, step_size=DAYS, input_size=INPUT, train_window=200,
        window=window, max_epochs=10, batch_size=10, learning_rate=0.001, early_stop_patience=5,
        backend="cpu", verbose=False,
    )
    return cv, time.perf_counter() - t, before


def run_neuralforecast(df: pd.DataFrame) -> tuple[pd.DataFrame, float, str]:
    from neuralforecast import NeuralForecast
    from neuralforecast.losses.pytorch import MSE
    from neuralforecast.models import LSTM

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    # Trading days are irregular (holidays): an integer time index, one step per row.
    idx = df.assign(ds=np.arange(len(df)))
    model = LSTM(
        h=1, input_size=INPUT, encoder_n_layers=2, encoder_hidden_size=50, encoder_dropout=0.3,
        decoder_hidden_size=25, decoder_layers=2, loss=MSE(), max_steps=200, learning_rate=0.001,
        batch_size=1, windows_batch_size=10, early_stop_patience_steps=5, val_check_steps=20,
        scaler_type="minmax", random_seed=42, accelerator="cpu", enable_progress_bar=False,
        logger=False, enable_model_summary=False, enable_checkpointing=False,
    )
    nf = NeuralForecast(models=[model], freq=1)
    before = load_avg()
    t = time.perf_counter()
    cv = nf.cross_validation(idx, n_windows=WINDOWS * DAYS, step_size=1, refit=DAYS, val_size=DAYS)
    took = time.perf_counter() - t
    cv = cv.assign(ds=df["ds"].to_numpy()[cv["ds"].to_numpy()])
    return cv, took, before


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    df = load(args.data)
    print(f"gpulstm {gpulstm.__version__}; {args.data.name}: {len(df)} rows; CPU cores: {os.cpu_count()}")

    results = {}
    for window in ("rolling", "expanding"):
        cv, took, before = run_gpulstm(df, window)
        results[window] = (cv, took, before, load_avg())
    # neuralforecast forecasts the same days: the series cut after gpulstm's last forecast day.
    days = results["rolling"][0]["ds"]
    assert set(days) == set(results["expanding"][0]["ds"])
    cut = df[df["ds"] <= days.max()].reset_index(drop=True)
    nf_cv, nf_took, nf_before = run_neuralforecast(cut)
    nf_after = load_avg()
    if set(nf_cv["ds"]) != set(days):
        raise SystemExit("neuralforecast's forecast days differ from gpulstm's")
    y_of = dict(zip(df["ds"], df["y"]))
    prev = dict(zip(df["ds"].iloc[1:], df["y"].iloc[:-1]))
    nf_pred = nf_cv.sort_values("ds")
    nf_y = np.array([y_of[d] for d in nf_pred["ds"]])
    nf_naive = np.array([prev[d] for d in nf_pred["ds"]])
    nf_rmse, nf_naive_rmse, nf_skill = scores(nf_pred["LSTM"].to_numpy(), nf_y, nf_naive)

    print()
    print(
        "| window | gpulstm s | neuralforecast s | speed-up | gpulstm RMSE | NF RMSE | naive RMSE "
        "| gpulstm skill | NF skill | load before/after gpulstm | load before/after NF |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for window in ("rolling", "expanding"):
        cv, took, before, after = results[window]
        cv = cv.sort_values("ds")
        g_rmse, naive_rmse, g_skill = scores(cv["LSTM"].to_numpy(), cv["y"].to_numpy(), cv["Naive"].to_numpy())
        assert abs(naive_rmse - nf_naive_rmse) < 1e-9
        print(
            f"| {window} | {took:.2f} | {nf_took:.2f} | {nf_took / took:.1f}x | {g_rmse:.3f} | {nf_rmse:.3f} "
            f"| {naive_rmse:.3f} | {g_skill:+.3f} | {nf_skill:+.3f} | {before} / {after} | {nf_before} / {nf_after} |"
        )
    print()
    print(
        f"{WINDOWS} windows x {DAYS} days = {len(days)} one-step forecasts "
        f"({days.min().date()} .. {days.max().date()}); neuralforecast: one run (always expanding), "
        "shown in both rows; skill = 1 - RMSE / naive RMSE."
    )


if __name__ == "__main__":
    main()
