"""gpulstm from Python: stacked-LSTM forecasters backtested on pandas or polars frames.

The functions here drive the ``gpulstm`` command line's own code (the crate, compiled into
``gpulstm._native``): the same planning, training, journal and report files, so a run started here
is a run directory the command line can read, and ``backend="cpu"`` gives bit for bit the numbers
``gpulstm train --backend cpu`` gives on the same data and settings.

- :func:`cross_validation`: a walk-forward backtest in neuralforecast's output shape
  (``unique_id, ds, cutoff, LSTM, y``, plus ``Naive`` and interval columns).
- :func:`train`: a full run (every file ``gpulstm train`` writes) as a :class:`Run`;
  ``train(resume=dir)`` continues an interrupted one.
- :func:`load`, :func:`predict`, :func:`sweep`, :func:`devices`, :func:`check`.

Data goes from the frame's own column arrays (NumPy buffers) into the crate; nothing is written to
a CSV file on the way in.
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _native

__version__: str = _native.__version__

__all__ = [
    "__version__",
    "Devices",
    "Interrupted",
    "Run",
    "Sweep",
    "check",
    "cross_validation",
    "devices",
    "load",
    "predict",
    "sweep",
    "train",
]

#: The command line's default layer stack (``gpulstm train --layers``).
DEFAULT_LAYERS = "lstm:50:seq,dropout:0.3,lstm:50,dropout:0.2,dense:25,dense:1"

#: Where a run started on a DataFrame keeps the frame's columns, so that ``train(resume=dir)``
#: continues it without being handed the frame again.
FRAME_FILE = "python_frame.npz"

_BACKENDS = ("auto", "cpu", "gpu", "reference")


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (``KeyboardInterrupt``) after the chunk of models in flight.

    Everything finished is saved in :attr:`dir`; ``gpulstm.train(resume=err.dir)`` continues it.
    It is a ``KeyboardInterrupt``, so code that does not catch it stops as it would on Ctrl-C.
    """

    def __init__(self, message: str, dir: Optional[str]) -> None:
        super().__init__(message)
        self.dir = dir


# --------------------------------------------------------------------------------------------------
# Frames in


def _kind(df: Any) -> str:
    mod = type(df).__module__
    if mod.startswith("pandas"):
        return "pandas"
    if mod.startswith("polars"):
        return "polars"
    raise TypeError(
        f"expected a pandas or polars DataFrame, got {type(df).__module__}.{type(df).__name__}"
    )


def _columns_of(df: Any, kind: str) -> List[str]:
    return [str(c) for c in df.columns]


def _need(df: Any, kind: str, name: str, role: str) -> None:
    cols = _columns_of(df, kind)
    if name not in cols:
        raise ValueError(
            f'column "{name}" ({role}) is not in the frame; its columns are '
            + ", ".join(f'"{c}"' for c in cols)
        )


def _numeric(df: Any, kind: str, name: str) -> np.ndarray:
    """A numeric column as float64 (missing values as NaN, which the crate reports by row)."""
    if kind == "pandas":
        import pandas as pd

        s = df[name]
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise ValueError(
                f'column "{name}" has dtype {s.dtype}; expected numbers (int or float)'
            )
        return s.to_numpy(dtype="float64", na_value=np.nan)
    import polars as pl

    s = df.get_column(name)
    if not s.dtype.is_numeric():
        raise ValueError(f'column "{name}" has dtype {s.dtype}; expected numbers (int or float)')
    return s.cast(pl.Float64).fill_null(float("nan")).to_numpy().astype("float64", copy=False)


def _days(df: Any, kind: str, name: str) -> Tuple[np.ndarray, Any]:
    """The date column as days since 1970-01-01 (int64), and its dtype (to give the output back in)."""
    if kind == "pandas":
        import pandas as pd

        s = df[name]
        dtype = s.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_localize(None)
        elif not pd.api.types.is_datetime64_any_dtype(dtype):
            if s.dtype == object and len(s) and all(
                isinstance(v, _dt.date) for v in s.head(100)
            ):
                s = pd.to_datetime(s)
            else:
                raise ValueError(
                    f'column "{name}" has dtype {dtype}; expected dates (datetime64 or date); '
                    f"convert it with pandas.to_datetime"
                )
        values = s.to_numpy(dtype="datetime64[ns]")
    else:
        import polars as pl

        s = df.get_column(name)
        dtype = s.dtype
        if dtype == pl.Date:
            values = s.cast(pl.Datetime("ns")).to_numpy()
        elif isinstance(dtype, pl.Datetime) or dtype == pl.Datetime:
            values = s.dt.replace_time_zone(None).cast(pl.Datetime("ns")).to_numpy()
        else:
            raise ValueError(
                f'column "{name}" has dtype {dtype}; expected dates (pl.Date or pl.Datetime); '
                f"convert it with str.to_date"
            )
    nat = np.isnat(values)
    if nat.any():
        row = int(np.flatnonzero(nat)[0])
        raise ValueError(f'row {row} (column "{name}"): missing date (NaT/null)')
    day = values.astype("datetime64[D]")
    off = values != day.astype(values.dtype)
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise ValueError(
            f'row {row} (column "{name}"): {values[row]} has a time of day; gpulstm models daily '
            f"series (one row per date)"
        )
    return day.astype("int64"), dtype


def _ids(df: Any, kind: str, name: str) -> Tuple[List[str], np.ndarray]:
    """Series names (sorted) and each row's index into them."""
    if kind == "pandas":
        col = df[name]
        missing = col.isna().to_numpy()
        raw = col.astype(str).to_numpy()
    else:
        col = df.get_column(name)
        missing = col.is_null().to_numpy()
        import polars as pl

        raw = col.cast(pl.Utf8).to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(f'row {row} (column "{name}"): missing id; every row needs its series\' id')
    names, codes = np.unique(raw.astype(str), return_inverse=True)
    return [str(n) for n in names], codes.astype("uint32")


def _frame_payload(
    df: Any,
    id_col: str,
    time_col: str,
    target_col: str,
    features: Optional[Sequence[str]],
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """What ``_native`` takes: the frame's columns as native-endian buffers. Returns the payload and
    what the output needs (the frame's kind and date dtype)."""
    kind = _kind(df)
    _need(df, kind, id_col, "id_col")
    _need(df, kind, time_col, "time_col")
    _need(df, kind, target_col, "target_col")
    feats = [target_col] if features is None else [str(f) for f in features]
    if not feats:
        raise ValueError("features: give at least one column (default: the target column alone)")
    for f in feats:
        _need(df, kind, f, "features")
    names, codes = _ids(df, kind, id_col)
    days, dtype = _days(df, kind, time_col)
    target = _numeric(df, kind, target_col)
    columns = {f: (target if f == target_col else _numeric(df, kind, f)) for f in feats}
    n = len(days)
    payload: Dict[str, Any] = {
        "id_column": id_col,
        "time_column": time_col,
        "names": names,
        "ids": codes.tobytes(),
        "days": days.tobytes(),
        "rows": np.arange(n, dtype="int64").tobytes(),
        "target": (target_col, target.tobytes()),
        "features": [(f, columns[f].tobytes()) for f in feats],
        "label": f"DataFrame ({n} rows, {len(names)} series)",
    }
    h = hashlib.blake2b(digest_size=8)
    for key in ("ids", "days"):
        h.update(payload[key])
    h.update(json.dumps([id_col, time_col, names, target_col, feats]).encode())
    for _, data in payload["features"]:
        h.update(data)
    h.update(payload["target"][1])
    payload["checksum"] = h.hexdigest()
    return payload, {"kind": kind, "time_dtype": dtype, "names": names}


def _save_payload(dir: Path, payload: Dict[str, Any]) -> None:
    meta = {k: payload[k] for k in ("id_column", "time_column", "names", "label", "checksum")}
    meta["target"] = payload["target"][0]
    meta["features"] = [f for f, _ in payload["features"]]
    arrays = {
        "meta": np.frombuffer(json.dumps(meta).encode(), dtype="uint8"),
        "ids": np.frombuffer(payload["ids"], dtype="uint32"),
        "days": np.frombuffer(payload["days"], dtype="int64"),
        "rows": np.frombuffer(payload["rows"], dtype="int64"),
        "target": np.frombuffer(payload["target"][1], dtype="float64"),
    }
    for i, (_, data) in enumerate(payload["features"]):
        arrays[f"feature_{i}"] = np.frombuffer(data, dtype="float64")
    tmp = dir / (FRAME_FILE + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, dir / FRAME_FILE)


def _load_payload(dir: Path) -> Optional[Dict[str, Any]]:
    path = dir / FRAME_FILE
    if not path.exists():
        return None
    with np.load(path) as z:
        meta = json.loads(bytes(z["meta"]).decode())
        payload = {k: meta[k] for k in ("id_column", "time_column", "names", "label", "checksum")}
        payload["ids"] = z["ids"].tobytes()
        payload["days"] = z["days"].tobytes()
        payload["rows"] = z["rows"].tobytes()
        payload["target"] = (meta["target"], z["target"].tobytes())
        payload["features"] = [
            (f, z[f"feature_{i}"].tobytes()) for i, f in enumerate(meta["features"])
        ]
    return payload


# --------------------------------------------------------------------------------------------------
# Progress


class _Progress:
    """Progress updates from the crate: a tqdm bar when tqdm is installed, a plain line every few
    seconds otherwise."""

    def __init__(self, desc: str) -> None:
        self.desc = desc
        self.bar: Any = None
        self.stage: Optional[str] = None
        self.last = 0.0
        self.start = time.monotonic()
        try:
            from tqdm.auto import tqdm

            self.tqdm: Any = tqdm
        except ImportError:
            self.tqdm = None

    def __call__(self, stage: str, done: int, total: int, val_loss: Optional[float]) -> None:
        if self.tqdm is not None:
            if self.bar is None or stage != self.stage:
                if self.bar is not None:
                    self.bar.close()
                self.bar = self.tqdm(total=total, desc=f"{self.desc} {stage}", leave=False)
                self.stage = stage
            if done > self.bar.n:
                self.bar.update(done - self.bar.n)
            if val_loss is not None and val_loss == val_loss:
                self.bar.set_postfix(val_loss=f"{val_loss:.3e}", refresh=False)
            return
        now = time.monotonic()
        if stage != self.stage or now - self.last >= 10 or done == total:
            self.stage = stage
            self.last = now
            loss = "" if val_loss is None else f", val loss {val_loss:.3e}"
            pct = 100.0 * done / total if total else 100.0
            print(
                f"[{now - self.start:.0f}s] {self.desc} {stage} {done}/{total} ({pct:.0f}%){loss}",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress_for(verbose: bool, progress: Any, desc: str) -> Optional[Callable[..., None]]:
    if progress is not None:
        return progress
    return _Progress(desc) if verbose else None


def _run_native(fn: Callable[..., str], *args: Any, progress: Any, **kw: Any) -> str:
    try:
        return fn(*args, progress=progress, **kw)
    except KeyboardInterrupt as e:
        text = str(e)
        dir = None
        marker = "saved in "
        if marker in text:
            dir = text.split(marker, 1)[1].split(";", 1)[0].strip()
        if not dir:
            # Not the engine's stop (that names its directory): a Ctrl-C that came as the run
            # completed, or one from elsewhere. It stays a plain KeyboardInterrupt.
            raise
        text += f"; from Python: gpulstm.train(resume={dir!r})"
        raise Interrupted(text, dir) from None
    finally:
        if isinstance(progress, _Progress):
            progress.close()


# --------------------------------------------------------------------------------------------------
# Arguments


def _flag(argv: List[str], name: str, value: Any) -> None:
    if value is None or value is False:
        return
    if value is True:
        argv.append(name)
    elif isinstance(value, (list, tuple)):
        argv += [name, ",".join(_num(v) for v in value)]
    else:
        argv += [name, _num(value)]


def _num(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (_dt.date, _dt.datetime)):
        return v.strftime("%Y-%m-%d")
    return str(v)


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(f"{name}={value!r}: expected one of " + ", ".join(map(repr, choices)))


def _abs(p: Union[str, os.PathLike]) -> str:
    return str(Path(p).expanduser().resolve())


def _default_out(protocol: str) -> Path:
    stem = time.strftime("%Y%m%d-%H%M%S") + "-" + protocol
    d = Path("runs") / stem
    n = 2
    while d.exists():
        d = Path("runs") / f"{stem}-{n}"
        n += 1
    return d


# --------------------------------------------------------------------------------------------------
# Runs


def _read_csv(path: Path) -> Tuple[List[str], List[List[str]]]:
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)


def _frame_from_csv(path: Path, kind: str) -> Any:
    """A result CSV as a DataFrame; numbers are parsed by Python's exact float()."""
    if kind == "polars":
        import polars as pl

        return pl.read_csv(path, try_parse_dates=True, infer_schema_length=None)
    import pandas as pd

    if int(pd.__version__.split(".")[0]) >= 3:
        return pd.read_csv(path)  # round-trip parsing is pandas 3's default
    return pd.read_csv(path, float_precision="round_trip")


class Run:
    """A run directory written by ``gpulstm train`` (or :func:`train`).

    Attributes: :attr:`dir` (``Path``), :attr:`report_path` (``report.md``), :attr:`metrics` (the
    ``metrics.json`` dict), and the DataFrames :attr:`splits`, :attr:`predictions`, :attr:`history`
    (``splits.csv``, ``predictions.csv``, ``history.csv``) and :attr:`forecast` (one row per series:
    the next-day forecast from ``metrics.json``). DataFrames are pandas unless the run was made from a
    polars frame (or ``load(path, frame="polars")``).
    """

    def __init__(self, dir: Union[str, os.PathLike], frame: str = "pandas") -> None:
        self.dir = Path(dir)
        self.report_path = self.dir / "report.md"
        self._kind = frame
        mj = self.dir / "metrics.json"
        if not mj.exists():
            state = ""
            rj = self.dir / "run.json"
            if rj.exists():
                rec = json.loads(rj.read_text())
                state = f" (its run.json says {rec.get('state')}: {rec.get('reason') or ''})"
            raise ValueError(f"{self.dir}: no metrics.json, so not a finished run{state}")
        self.metrics: Dict[str, Any] = json.loads(mj.read_text())
        self._cache: Dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"gpulstm.Run({str(self.dir)!r})"

    def _csv(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = _frame_from_csv(self.dir / name, self._kind)
        return self._cache[name]

    @property
    def splits(self) -> Any:
        """``splits.csv``: one row per series, split (and seed) with its windows and scores."""
        return self._csv("splits.csv")

    @property
    def predictions(self) -> Any:
        """``predictions.csv``: every prediction (training and validation rows of every split)."""
        return self._csv("predictions.csv")

    @property
    def history(self) -> Any:
        """``history.csv``: the training and validation loss of every epoch of every model."""
        return self._csv("history.csv")

    @property
    def forecast(self) -> Any:
        """The next-day forecast of every series (``metrics.json``'s ``forecast``), one row each:
        ``unique_id, ds`` (the next weekday), ``LSTM`` (the mean of the models used), ``min, max,
        std`` of those models and ``models`` (how many)."""
        rows = []
        for s in _series_entries(self.metrics):
            fc = s.get("forecast") or {}
            name = s.get("series")
            rows.append(
                {
                    "unique_id": name if isinstance(name, str) else None,
                    "ds": fc.get("next_trading_day"),
                    "LSTM": fc.get("mean"),
                    "min": fc.get("min"),
                    "max": fc.get("max"),
                    "std": fc.get("std"),
                    "models": len(fc.get("members") or []),
                }
            )
        return _make_frame(rows, self._kind)

    def predict(self, df: Any, id_col: str = "unique_id", time_col: str = "ds") -> Any:
        """The next-day forecast of each series of ``df`` by the models this run saved for it, in
        :attr:`forecast`'s shape (``unique_id, ds, LSTM, min, max, std, models``), one row per series.

        Args:
            df: a pandas or polars frame with ``time_col``, ``id_col`` (a panel run's series names;
                optional for a one-series run) and the columns the models read (features and target,
                by name), ending where the forecast starts.
            id_col: series column. Default ``"unique_id"``.
            time_col: date column. Default ``"ds"``.

        Returns:
            DataFrame: pandas or polars, as ``df``.

        Raises:
            ValueError: a series the run has no models for, more than one series for a one-series
                run, or a missing or bad column.
        """
        first = _series_entries(self.metrics)[0].get("series")
        name = first if isinstance(first, str) else "series"
        model = _native.run_model(_abs(self.dir), name, 1)
        payload = _predict_payload(model, df, id_col, time_col, name)
        rows = []
        for series, date, mean, lo, hi, std, models in _native.predict_run(_abs(self.dir), payload):
            rows.append({"unique_id": series, "ds": date, "LSTM": mean, "min": lo, "max": hi,
                         "std": std, "models": models})
        return _make_frame(rows, _kind(df))

    def cross_validation(self, time_dtype: Any = None) -> Any:
        """The validation predictions in neuralforecast's shape (see :func:`cross_validation`)."""
        return _cv_frame(self.dir / "predictions.csv", self._kind, time_dtype)


def _series_entries(metrics: Dict[str, Any]) -> List[Dict[str, Any]]:
    if isinstance(metrics.get("series"), list):
        return metrics["series"]
    return [metrics]


def _make_frame(rows: List[Dict[str, Any]], kind: str) -> Any:
    if kind == "polars":
        import polars as pl

        return pl.DataFrame(rows)
    import pandas as pd

    return pd.DataFrame(rows)


def _cv_frame(path: Path, kind: str, time_dtype: Any) -> Any:
    header, rows = _read_csv(path)
    col = {name: i for i, name in enumerate(header)}
    bands = [h for h in header if h.startswith("lo-") or h.startswith("hi-")]
    levels = sorted({b.split("-", 1)[1] for b in bands}, key=float)
    ordered = [f"lo-{l}" for l in reversed(levels)] + [f"hi-{l}" for l in levels]
    cutoff: Dict[Tuple[str, str], str] = {}
    val = []
    for r in rows:
        key = (r[col["series"]], r[col["split"]])
        if r[col["window"]] == "train":
            d = r[col["date"]]
            if key not in cutoff or d > cutoff[key]:
                cutoff[key] = d
        else:
            val.append(r)
    f = lambda s: float(s) if s != "" else float("nan")  # noqa: E731
    out: Dict[str, Any] = {
        "unique_id": [r[col["series"]] for r in val],
        "ds": np.array([r[col["date"]] for r in val], dtype="datetime64[D]"),
        "cutoff": np.array(
            [cutoff.get((r[col["series"]], r[col["split"]]), "NaT") for r in val],
            dtype="datetime64[D]",
        ),
        "LSTM": np.array([f(r[col["predicted"]]) for r in val], dtype="float64"),
    }
    for b in ordered:
        out[f"LSTM-{b}"] = np.array([f(r[col[b]]) for r in val], dtype="float64")
    out["Naive"] = np.array([f(r[col["naive"]]) for r in val], dtype="float64")
    out["y"] = np.array([f(r[col["actual"]]) for r in val], dtype="float64")
    order = np.lexsort((out["ds"], out["cutoff"], np.array(out["unique_id"], dtype=object)))
    if kind == "polars":
        import polars as pl

        df = pl.DataFrame(
            {
                k: (np.array(v, dtype=object)[order].tolist() if k == "unique_id" else v[order])
                for k, v in out.items()
            }
        )
        target = time_dtype if time_dtype is not None else pl.Date
        return df.with_columns(pl.col("ds").cast(target), pl.col("cutoff").cast(target))
    import pandas as pd

    df = pd.DataFrame(
        {k: (np.array(v, dtype=object)[order] if k == "unique_id" else v[order]) for k, v in out.items()}
    )
    df["unique_id"] = df["unique_id"].astype(str)
    unit = "datetime64[ns]"
    for c in ("ds", "cutoff"):
        df[c] = df[c].astype(unit)
        if time_dtype is not None:
            try:
                df[c] = df[c].astype(time_dtype)
            except (TypeError, ValueError):
                pass
    return df


def load(path: Union[str, os.PathLike], *, frame: str = "pandas") -> Run:
    """The finished run in ``path`` as a :class:`Run`.

    Args:
        path: a run directory (``gpulstm train --out``, or :attr:`Run.dir`).
        frame: ``"pandas"`` (default) or ``"polars"``: the kind of DataFrame the attributes return.
    """
    _check_choice("frame", frame, ("pandas", "polars"))
    return Run(path, frame)


def train(
    df: Any = None,
    *,
    data: Union[None, str, os.PathLike, Sequence[Union[str, os.PathLike]]] = None,
    out: Union[None, str, os.PathLike] = None,
    resume: Union[None, str, os.PathLike] = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    features: Optional[Sequence[str]] = None,
    lookback: int = 60,
    train_window: int = 200,
    val_window: int = 10,
    step: int = 1,
    window: str = "rolling",
    max_splits: Optional[int] = None,
    last_splits: Optional[int] = None,
    from_date: Union[None, str, _dt.date] = None,
    to_date: Union[None, str, _dt.date] = None,
    protocol: str = "walk-forward",
    scaler: Optional[str] = None,
    scaler_kind: str = "minmax",
    target_transform: str = "level",
    layers: str = DEFAULT_LAYERS,
    epochs: int = 10,
    batch_size: int = 10,
    lr: float = 0.001,
    patience: int = 5,
    early_stopping: Optional[str] = None,
    seed: int = 42,
    seeds: int = 1,
    ensemble_last: int = 1,
    levels: Optional[Sequence[float]] = None,
    conformal: int = 50,
    ridge_lambda: Optional[float] = None,
    cost_bps: Optional[float] = None,
    short: bool = False,
    init_weights: Union[None, str, os.PathLike] = None,
    backend: str = "auto",
    adapter: Optional[str] = None,
    max_models_per_chunk: Optional[int] = None,
    force: bool = False,
    verbose: bool = True,
    progress: Optional[Callable[[str, int, int, Optional[float]], None]] = None,
    extra_args: Sequence[str] = (),
) -> Run:
    """Train as ``gpulstm train`` does and return the finished :class:`Run`.

    The data is either ``df``, a long-format pandas or polars frame (one row per series and date),
    or ``data``, CSV path(s) or a directory as ``gpulstm train --data`` takes them. Every other
    argument is the command line flag of the same name (``--train-window`` is ``train_window``);
    None means the command line's default.

    Args:
        df: long-format DataFrame (pandas or polars): ``id_col``, ``time_col`` (dates, one row per
            series and date, sorted by date within each series), ``target_col`` and any ``features``.
            Default None (then ``data``, or the embedded AAPL sample when neither is given).
        data: CSV file(s) or a directory instead of ``df`` (``--data``). Default None.
        out: run directory (``--out``). Default None: ``runs/<YYYYmmdd-HHMMSS>-<protocol>``.
        resume: an interrupted run's directory: continue it with the configuration it recorded (a
            run started on a frame keeps the frame's columns in ``python_frame.npz``); then only
            ``backend``, ``verbose`` and ``progress`` are used. Default None.
        id_col: column naming each row's series. Default ``"unique_id"``.
        time_col: date column (datetime64, date, pl.Date or pl.Datetime at midnight). Default ``"ds"``.
        target_col: column to predict. Default ``"y"``.
        features: columns the model reads, in order. Default None: the target column alone.
        lookback: rows of history per sample (``--lookback``). Default 60.
        train_window: training samples per split. Default 200.
        val_window: validation samples per split. Default 10.
        step: samples between the starts of consecutive splits. Default 1.
        window: ``"rolling"`` or ``"expanding"``. Default ``"rolling"``.
        max_splits: only the first N splits. Default None (all).
        last_splits: only the newest N splits. Default None (all).
        from_date: only splits whose validation days fall on or after this date. Default None.
        to_date: only splits whose validation days fall on or before this date. Default None.
        protocol: ``"walk-forward"`` (a model per split) or ``"seed"``. Default ``"walk-forward"``.
        scaler: ``"train"`` or ``"global"``. Default None (train; global with the seed protocol).
        scaler_kind: ``"minmax"``, ``"standard"`` or ``"robust"``. Default ``"minmax"``.
        target_transform: ``"level"``, ``"diff"``, ``"return"`` or ``"log-return"``. Default ``"level"``.
        layers: layer stack (``--layers``). Default :data:`DEFAULT_LAYERS`.
        epochs: most epochs per split. Default 10.
        batch_size: samples per Adam step. Default 10.
        lr: Adam learning rate. Default 0.001.
        patience: early-stopping patience in epochs. Default 5.
        early_stopping: ``"keras-3.6"``, ``"keras-3.7"`` or ``"tf-keras-2"``. Default None
            (keras-3.7; keras-3.6 with the seed protocol).
        seed: seed of every random choice. Default 42.
        seeds: models per split, seeded ``seed``, ``seed+1``, ...; each split predicts their mean.
            Default 1.
        ensemble_last: the forecast is the mean of the last K splits' models. Default 1.
        levels: prediction-interval coverages in percent, e.g. ``[80, 95]``. Default None.
        conformal: splits whose errors give each split's interval half-width. Default 50.
        ridge_lambda: ridge baseline's penalty. Default None (the command line's, 1).
        cost_bps: trading view's cost per unit of turnover, basis points. Default None (the
            command line's).
        short: trading view goes short on a predicted fall. Default False.
        init_weights: start every model from this checkpoint. Default None.
        backend: ``"auto"``, ``"cpu"``, ``"gpu"`` or ``"reference"``. Default ``"auto"``.
        adapter: GPU adapter name substring (``--adapter``). Default None.
        max_models_per_chunk: models trained at a time (what Ctrl-C can lose). Default None.
        force: overwrite the results of an earlier run in ``out``. Default False.
        verbose: progress (a tqdm bar when tqdm is installed, plain lines otherwise) and the summary.
            Default True; False is silent.
        progress: callable ``(stage, done, total, val_loss)`` receiving every update instead of the
            bar. Default None. An exception it raises stops the run as Ctrl-C does, and is re-raised.
        extra_args: further ``gpulstm train`` flags, as strings. Default ().

    Returns:
        Run: the finished run.

    Raises:
        ValueError: bad input (a missing column, a wrong dtype, NaN, unsorted or duplicate dates, a
            series too short for one split, a bad setting), with the column and row.
        Interrupted: Ctrl-C stopped the run after the chunk in flight; ``train(resume=err.dir)``
            continues it.
        RuntimeError: training failed (a backend error, a file that cannot be written).
    """
    prog = _progress_for(verbose, progress, "train")
    if resume is not None:
        dir = Path(resume)
        payload = _load_payload(dir)
        _check_choice("backend", backend, _BACKENDS)
        kind = "pandas"
        meta = dir / "python_frame_kind.txt"
        if meta.exists():
            kind = meta.read_text().strip()
        got = _run_native(
            _native.resume,
            _abs(dir),
            payload,
            backend,
            progress=prog,
            verbose=verbose,
        )
        return Run(got, kind)
    _check_choice("backend", backend, _BACKENDS)
    _check_choice("window", window, ("rolling", "expanding"))
    argv = ["train"]
    kind = "pandas"
    payload = None
    if df is not None:
        if data is not None:
            raise ValueError("give df or data, not both")
        payload, info = _frame_payload(df, id_col, time_col, target_col, features)
        kind = info["kind"]
    elif data is not None:
        paths = [data] if isinstance(data, (str, os.PathLike)) else list(data)
        argv += ["--data", *[_abs(p) for p in paths]]
        _flag(argv, "--features", ",".join(features) if features else None)
    out_dir = Path(out) if out is not None else _default_out(protocol)
    for name, value in [
        ("--lookback", lookback),
        ("--train-window", train_window),
        ("--val-window", val_window),
        ("--step", step),
        ("--window", window),
        ("--max-splits", max_splits),
        ("--last-splits", last_splits),
        ("--from", from_date),
        ("--to", to_date),
        ("--protocol", protocol),
        ("--scaler", scaler),
        ("--scaler-kind", scaler_kind),
        ("--target-transform", target_transform),
        ("--layers", layers),
        ("--epochs", epochs),
        ("--batch-size", batch_size),
        ("--lr", lr),
        ("--patience", patience),
        ("--early-stopping", early_stopping),
        ("--seed", seed),
        ("--seeds", seeds),
        ("--ensemble-last", ensemble_last),
        ("--levels", list(levels) if levels is not None else None),
        ("--conformal", conformal),
        ("--ridge-lambda", ridge_lambda),
        ("--cost-bps", cost_bps),
        ("--short", short),
        ("--init-weights", _abs(init_weights) if init_weights is not None else None),
        ("--backend", backend),
        ("--adapter", adapter),
        ("--max-models-per-chunk", max_models_per_chunk),
        ("--force", force),
    ]:
        _flag(argv, name, value)
    argv += list(extra_args)
    argv += ["--out", _abs(out_dir)]
    if prog is not None or not verbose:
        argv.append("--quiet")
    if payload is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _save_payload(out_dir, payload)
        (out_dir / "python_frame_kind.txt").write_text(kind)
    got = _run_native(_native.train, argv, payload, progress=prog, verbose=verbose)
    return Run(got, kind)


def cross_validation(
    df: Any,
    *,
    h: int = 1,
    n_windows: Optional[int] = None,
    step_size: int = 1,
    val_size: Optional[int] = None,
    input_size: int = 60,
    train_window: int = 200,
    window: str = "rolling",
    id_col: str = "unique_id",
    time_col: str = "ds",
    target_col: str = "y",
    features: Optional[Sequence[str]] = None,
    layers: str = DEFAULT_LAYERS,
    max_epochs: int = 10,
    batch_size: int = 10,
    learning_rate: float = 0.001,
    early_stop_patience: int = 5,
    random_seed: int = 42,
    seeds: int = 1,
    levels: Optional[Sequence[float]] = None,
    conformal: int = 50,
    scaler_kind: str = "minmax",
    target_transform: str = "level",
    backend: str = "auto",
    max_models_per_chunk: Optional[int] = None,
    out: Union[None, str, os.PathLike] = None,
    verbose: bool = True,
    progress: Optional[Callable[[str, int, int, Optional[float]], None]] = None,
) -> Any:
    """Walk-forward backtest of a stacked LSTM on every series of ``df``, in neuralforecast's shape.

    Each window trains its own model (all windows' models in one batch) on the ``train_window``
    samples before its cutoff (``window="rolling"``), or on every sample before it
    (``"expanding"``, neuralforecast's only kind), then forecasts the next ``val_size`` dates one
    step ahead each (from the actual history up to the day before). Windows start ``step_size``
    samples apart, so with ``val_size == step_size`` (the default) they tile the test period; with
    ``h=1, step_size=1`` this is neuralforecast's ``cross_validation(h=1, step_size=1, refit=True)``.
    It is ``gpulstm train --protocol walk-forward`` (``input_size`` is ``--lookback``,
    ``step_size`` ``--step``, ``val_size`` ``--val-window``, ``n_windows`` ``--last-splits``,
    ``max_epochs`` ``--epochs``, ``learning_rate`` ``--lr``, ``early_stop_patience`` ``--patience``):
    with ``backend="cpu"`` the predictions equal the command line's bit for bit. As in the command
    line, early stopping watches the loss on each window's own validation rows (the Keras script's
    protocol the crate reproduces) and keeps the best epoch's weights.

    Args:
        df: long-format pandas or polars DataFrame: ``id_col``, ``time_col``, ``target_col`` (and
            ``features``); rows of each series in increasing date order, one row per date.
        h: forecast horizon. Default 1; only 1 is supported yet (ValueError otherwise): each
            forecast is one step ahead.
        n_windows: the newest N windows of each series. Default None: every window that fits.
        step_size: samples between consecutive windows' cutoffs. Default 1.
        val_size: forecasts per window. Default None: ``step_size``.
        input_size: rows of history each forecast reads (``--lookback``). Default 60.
        train_window: training samples per window (the rolling window's length; the first
            window's with ``"expanding"``). Default 200.
        window: ``"rolling"`` or ``"expanding"``. Default ``"rolling"``.
        id_col: series column. Default ``"unique_id"``.
        time_col: date column (datetime64 / date / pl.Date / pl.Datetime at midnight). Default ``"ds"``.
        target_col: value column. Default ``"y"``.
        features: columns the model reads, in order. Default None: ``[target_col]``.
        layers: layer stack (``gpulstm train --layers``). Default :data:`DEFAULT_LAYERS`.
        max_epochs: most epochs per window. Default 10.
        batch_size: samples per Adam step. Default 10.
        learning_rate: Adam learning rate. Default 0.001.
        early_stop_patience: epochs without improvement before stopping. Default 5.
        random_seed: seed of the initial weights, shuffles and dropout. Default 42.
        seeds: models per window (seeds ``random_seed`` ...), whose mean is ``LSTM``. Default 1.
        levels: interval coverages in percent, e.g. ``[80, 95]``: adds ``LSTM-lo-95, LSTM-lo-80,
            LSTM-hi-80, LSTM-hi-95`` (walk-forward conformal intervals: each window's half-width
            from the errors of the ``conformal`` most recent windows that ended before it began;
            NaN for the first windows). Default None.
        conformal: windows behind each interval. Default 50.
        scaler_kind: ``"minmax"``, ``"standard"`` or ``"robust"`` (fitted on each window's training
            rows). Default ``"minmax"``.
        target_transform: ``"level"``, ``"diff"``, ``"return"`` or ``"log-return"``. Default ``"level"``.
        backend: ``"auto"`` (a hardware GPU if found, else the CPU engine), ``"cpu"``, ``"gpu"`` or
            ``"reference"``. Default ``"auto"``.
        max_models_per_chunk: models trained at a time (bounds memory and what Ctrl-C loses).
            Default None.
        out: keep the run directory (every file ``gpulstm train`` writes) here. Default None: a
            temporary directory, removed afterwards (kept when interrupted, for
            ``gpulstm.train(resume=dir)``).
        verbose: progress bar (tqdm if installed, else plain lines). Default True.
        progress: callable ``(stage, done, total, val_loss)`` instead of the bar. Default None.

    Returns:
        DataFrame (pandas for pandas input, polars for polars input) with columns ``unique_id, ds,
        cutoff, LSTM`` [, ``LSTM-lo-<level>``, ``LSTM-hi-<level>`` ...], ``Naive, y``, sorted by
        ``unique_id, cutoff, ds``; ``cutoff`` is the last date of the window's training data and
        ``Naive`` the last observed value before ``ds``.

    Raises:
        ValueError: h != 1; a missing column; a wrong dtype; NaN/inf in a value column; dates
            unsorted or duplicated within a series; a series too short for one window; a bad
            setting. The message names the column and the row.
        Interrupted: Ctrl-C; the run directory is kept and named in the exception.
    """
    if h != 1:
        raise ValueError(
            f"h={h}: only one-step-ahead forecasts (h=1) are supported so far; each window "
            f"forecasts val_size dates one step ahead each"
        )
    _check_choice("window", window, ("rolling", "expanding"))
    _check_choice("backend", backend, _BACKENDS)
    if step_size < 1:
        raise ValueError(f"step_size={step_size}: must be at least 1")
    if n_windows is not None and n_windows < 1:
        raise ValueError(f"n_windows={n_windows}: must be at least 1")
    payload, info = _frame_payload(df, id_col, time_col, target_col, features)
    keep = out is not None
    dir = Path(out) if keep else Path(tempfile.mkdtemp(prefix="gpulstm-cv-"))
    argv = ["train"]
    for name, value in [
        ("--lookback", input_size),
        ("--train-window", train_window),
        ("--val-window", val_size if val_size is not None else step_size),
        ("--step", step_size),
        ("--window", window),
        ("--last-splits", n_windows),
        ("--layers", layers),
        ("--epochs", max_epochs),
        ("--batch-size", batch_size),
        ("--lr", learning_rate),
        ("--patience", early_stop_patience),
        ("--seed", random_seed),
        ("--seeds", seeds),
        ("--levels", list(levels) if levels is not None else None),
        ("--conformal", conformal if levels is not None else None),
        ("--scaler-kind", scaler_kind),
        ("--target-transform", target_transform),
        ("--backend", backend),
        ("--max-models-per-chunk", max_models_per_chunk),
    ]:
        _flag(argv, name, value)
    argv += ["--out", _abs(dir), "--quiet"]
    prog = _progress_for(verbose, progress, "cross_validation")
    interrupted = False
    try:
        dir.mkdir(parents=True, exist_ok=True)
        _save_payload(dir, payload)
        (dir / "python_frame_kind.txt").write_text(info["kind"])
        _run_native(_native.train, argv, payload, progress=prog, verbose=False)
        return _cv_frame(dir / "predictions.csv", info["kind"], info["time_dtype"])
    except Interrupted:
        interrupted = True
        raise
    finally:
        if not keep and not interrupted:
            shutil.rmtree(dir, ignore_errors=True)


def predict(model_path: Union[str, os.PathLike], df: Any = None, *, data: Any = None,
            id_col: str = "unique_id", time_col: str = "ds") -> Dict[str, Any]:
    """The next-day forecast of a saved model (``model.safetensors``) on one series.

    Args:
        model_path: a ``model.safetensors`` written by ``gpulstm train`` (``Run.dir /
            "model.safetensors"``, or ``series/<name>/model.safetensors`` in a panel run).
        df: a pandas or polars frame with ``time_col`` and the columns the model was trained on (its
            features and target, by name); with ``id_col``, one series only. Default None.
        data: a CSV file instead of ``df`` (as ``gpulstm predict --data``); prints the command
            line's text and returns None. Default None.
        id_col: series column, if the frame has one. Default ``"unique_id"``.
        time_col: date column. Default ``"ds"``.

    Returns:
        dict: ``date`` (the next weekday, ISO), ``forecast`` (mean of the models) and ``members``
        (each model's forecast).
    """
    if data is not None:
        _native.cli(["predict", "--model", _abs(model_path), "--data", _abs(data)])
        return None  # type: ignore[return-value]
    if df is None:
        raise ValueError("give df (a DataFrame) or data (a CSV path)")
    payload = _predict_payload(_abs(model_path), df, id_col, time_col, "series")
    date, mean, members = _native.predict(_abs(model_path), payload)
    return {"date": date, "forecast": mean, "members": list(members)}


def _predict_payload(model: str, df: Any, id_col: str, time_col: str, name: str) -> Dict[str, Any]:
    """The columns of ``df`` the models in ``model`` read; a frame without ``id_col`` is one series,
    called ``name``."""
    feats, target, _lookback = _native.model_inputs(model)
    kind = _kind(df)
    if id_col not in _columns_of(df, kind):
        if kind == "pandas":
            df = df.assign(**{id_col: name})
        else:
            import polars as pl

            df = df.with_columns(pl.lit(name).alias(id_col))
    payload, _ = _frame_payload(df, id_col, time_col, target, feats)
    return payload


class Sweep:
    """A sweep directory written by ``gpulstm sweep`` (:func:`sweep`): :attr:`dir`,
    :attr:`report_path` and the JSON summary as :attr:`metrics` when the sweep wrote one."""

    def __init__(self, dir: Union[str, os.PathLike]) -> None:
        self.dir = Path(dir)
        self.report_path = self.dir / "report.md"
        self.metrics: Optional[Dict[str, Any]] = None
        for name in ("sweep.json", "metrics.json"):
            p = self.dir / name
            if p.exists():
                self.metrics = json.loads(p.read_text())
                break

    def files(self) -> List[str]:
        """The files the sweep wrote."""
        return sorted(str(p.relative_to(self.dir)) for p in self.dir.rglob("*") if p.is_file())

    def __repr__(self) -> str:
        return f"gpulstm.Sweep({str(self.dir)!r})"


def sweep(
    data: Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]],
    *,
    grid: Union[Dict[str, Sequence[Any]], Sequence[str]],
    out: Union[str, os.PathLike],
    random: Optional[int] = None,
    backend: str = "auto",
    verbose: bool = True,
    progress: Optional[Callable[[str, int, int, Optional[float]], None]] = None,
    extra_args: Sequence[str] = (),
) -> Sweep:
    """``gpulstm sweep``: a grid of configurations over the same splits, one chosen per split
    without look-ahead, tested against naive.

    Args:
        data: CSV file(s) or directory (``--data``).
        grid: ``{"lr": [0.001, 0.01], "layers": ["lstm:32,dense:1", ...]}`` or the ``--grid``
            strings (``["lr=0.001,0.01"]``); ``layers`` and ``features`` alternatives are joined with
            ``|``.
        out: sweep directory (``--out``).
        random: draw N configurations instead of the product (``--random``). Default None.
        backend: ``"auto"``, ``"cpu"``, ``"gpu"`` or ``"reference"``. Default ``"auto"``.
        verbose: progress and summary. Default True.
        progress: callable ``(stage, done, total, val_loss)``. Default None.
        extra_args: any other ``gpulstm sweep`` / ``train`` flags as strings, e.g.
            ``["--epochs", "3", "--max-splits", "4"]``. Default ().

    Returns:
        Sweep: the sweep directory.
    """
    _check_choice("backend", backend, _BACKENDS)
    paths = [data] if isinstance(data, (str, os.PathLike)) else list(data)
    argv = ["sweep", "--data", *[_abs(p) for p in paths], "--out", _abs(out), "--backend", backend]
    items = (
        [f"{k}={('|' if k in ('layers', 'features') else ',').join(_num(v) for v in vs)}"
         for k, vs in grid.items()]
        if isinstance(grid, dict)
        else list(grid)
    )
    for g in items:
        argv += ["--grid", g]
    _flag(argv, "--random", random)
    argv += list(extra_args)
    prog = _progress_for(verbose, progress, "sweep")
    if prog is not None or not verbose:
        argv.append("--quiet")
    try:
        _native.cli(argv, progress=prog, verbose=verbose)
    except KeyboardInterrupt as e:
        raise Interrupted(str(e), _abs(out)) from None
    finally:
        if isinstance(prog, _Progress):
            prog.close()
    return Sweep(out)


class Devices(list):
    """The adapters wgpu sees, best first: a list of dicts (``name``, ``backend``, ``device_type``,
    ``software``, ``driver``, ``opt_in``, ``timestamp_queries`` and the ``max_*`` limits, in bytes or
    counts); ``str()`` (and ``print``) gives the table ``gpulstm devices`` prints, kept in
    :attr:`table`."""

    def __init__(self, adapters: List[Dict[str, Any]], table: str) -> None:
        super().__init__(adapters)
        self.table = table

    def __str__(self) -> str:
        return self.table


def devices() -> Devices:
    """The GPU adapters wgpu sees and their limits (:class:`Devices`): a list of dicts, one per
    adapter, that prints as the table ``gpulstm devices`` prints."""
    table, listed = _native.devices()
    return Devices(json.loads(listed), table)


def check(*, adapter: Optional[str] = None, seed: Optional[int] = None,
          verbose: bool = True) -> Dict[str, Any]:
    """``gpulstm check``: every CPU-engine op and GPU kernel against the f64 reference.

    Args:
        adapter: GPU adapter name substring. Default None (the first).
        seed: seed of the random shapes. Default None (a fresh one, in the result).
        verbose: print the command line's table as it goes. Default True.

    Returns:
        dict: ``seed``, ``checked`` (the CPU engine and the adapter, when there is one), ``passed``,
        ``failed`` and ``results``, one dict per check (``kernel``, ``what``, ``elements``,
        ``max_abs``, ``max_rel``, ``abs_tol``, ``rel_tol``, ``margin``, ``pass``).

    Raises:
        RuntimeError: a check is out of tolerance; the result dict is its ``report`` attribute.
        ValueError: ``adapter`` names no adapter.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "check.json")
        argv = ["check", "--json", path]
        _flag(argv, "--adapter", adapter)
        _flag(argv, "--seed", seed)
        try:
            _native.cli(argv, verbose=verbose)
        except RuntimeError as e:
            if os.path.exists(path):
                with open(path) as f:
                    e.report = json.load(f)  # type: ignore[attr-defined]
            raise
        with open(path) as f:
            return json.load(f)


def cli(*args: str) -> None:
    """Runs the command line in this process: ``gpulstm.cli("train", "--data", "x.csv")`` is
    ``gpulstm train --data x.csv``. Raises ValueError (exit 2), RuntimeError (exit 1) or
    KeyboardInterrupt (exit 130) where the command line would fail."""
    _native.cli(list(args))
