"""Type stubs of the native bridge (``python/src/lib.rs``); use the functions of ``gpulstm``."""

from typing import Any, Callable, Dict, List, Optional, Tuple

__version__: str

_Progress = Callable[[str, int, int, Optional[float]], Any]

def train(
    argv: List[str],
    frame: Optional[Dict[str, Any]] = None,
    progress: Optional[_Progress] = None,
    verbose: bool = True,
) -> str: ...
def resume(
    dir: str,
    frame: Optional[Dict[str, Any]] = None,
    backend: Optional[str] = None,
    progress: Optional[_Progress] = None,
    verbose: bool = True,
) -> str: ...
def cli(argv: List[str], progress: Optional[_Progress] = None, verbose: bool = True) -> None: ...
def check_frame(frame: Dict[str, Any]) -> List[Tuple[str, int]]: ...
def predict(model: str, frame: Dict[str, Any]) -> Tuple[str, float, List[float]]: ...
def model_inputs(model: str) -> Tuple[List[str], str, int]: ...
def devices() -> Tuple[str, str]: ...
