"""Type stubs of ``gpulstm`` (the docstrings in ``__init__.py`` say every argument and default)."""

import datetime as _dt
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

__version__: str
DEFAULT_LAYERS: str
FRAME_FILE: str

_Path = Union[str, os.PathLike]
_Progress = Callable[[str, int, int, Optional[float]], Any]
_Frame = Any  # pandas.DataFrame or polars.DataFrame

class Interrupted(KeyboardInterrupt):
    dir: Optional[str]
    def __init__(self, message: str, dir: Optional[str]) -> None: ...

class Run:
    dir: Path
    report_path: Path
    metrics: Dict[str, Any]
    def __init__(self, dir: _Path, frame: str = ...) -> None: ...
    @property
    def splits(self) -> _Frame: ...
    @property
    def predictions(self) -> _Frame: ...
    @property
    def history(self) -> _Frame: ...
    @property
    def forecast(self) -> _Frame: ...
    def predict(self, df: Any, id_col: str = ..., time_col: str = ...) -> _Frame: ...
    def cross_validation(self, time_dtype: Any = ...) -> _Frame: ...

class Sweep:
    dir: Path
    report_path: Path
    metrics: Optional[Dict[str, Any]]
    def __init__(self, dir: _Path) -> None: ...
    def files(self) -> List[str]: ...

def load(path: _Path, *, frame: str = "pandas") -> Run: ...
def train(
    df: Optional[_Frame] = None,
    *,
    data: Union[None, _Path, Sequence[_Path]] = None,
    out: Optional[_Path] = None,
    resume: Optional[_Path] = None,
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
    layers: str = ...,
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
    init_weights: Optional[_Path] = None,
    backend: str = "auto",
    adapter: Optional[str] = None,
    max_models_per_chunk: Optional[int] = None,
    force: bool = False,
    verbose: bool = True,
    progress: Optional[_Progress] = None,
    extra_args: Sequence[str] = (),
) -> Run: ...
def cross_validation(
    df: _Frame,
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
    layers: str = ...,
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
    out: Optional[_Path] = None,
    verbose: bool = True,
    progress: Optional[_Progress] = None,
) -> _Frame: ...
def predict(
    model_path: _Path,
    df: Optional[_Frame] = None,
    *,
    data: Optional[_Path] = None,
    id_col: str = "unique_id",
    time_col: str = "ds",
) -> Dict[str, Any]: ...
def sweep(
    data: Union[_Path, Sequence[_Path]],
    *,
    grid: Union[Dict[str, Sequence[Any]], Sequence[str]],
    out: _Path,
    random: Optional[int] = None,
    backend: str = "auto",
    verbose: bool = True,
    progress: Optional[_Progress] = None,
    extra_args: Sequence[str] = (),
) -> Sweep: ...
class Devices(List[Dict[str, Any]]):
    table: str

def devices() -> Devices: ...
def check(*, adapter: Optional[str] = None, seed: Optional[int] = None, verbose: bool = True) -> Dict[str, Any]: ...
def cli(*args: str) -> None: ...
