"""The examples run as a user would run them (subprocess, CPU, seconds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("script", ["cnn.py", "dict_batches.py"])
def test_example_runs(script, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "suggestion:" in proc.stdout
