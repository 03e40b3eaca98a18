"""The built wheel installs and imports in a fresh virtual environment."""

import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import REPO


def test_wheel_in_fresh_venv(tmp_path):
    wheels = sorted((REPO / "target" / "wheels").glob("gpulstm-*.whl"), key=lambda p: p.stat().st_mtime)
    if not wheels:
        pytest.skip(f"no wheel in {REPO / 'target' / 'wheels'} (maturin build -o target/wheels)")
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    py = env / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheels[-1])], check=True)
    out = subprocess.run(
        [str(py), "-c", "import gpulstm; print(gpulstm.__version__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    )
    assert out.stdout.strip() == "0.1.0"
