"""examples/workflow.py runs the six steps of the recipe end to end (its --quick budget: seconds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "workflow.py"


def test_workflow_example_runs_the_six_steps(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--quick", "--out", str(tmp_path / "out")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for header in ("== 1. initial loss ==", "== 2. overfit 16 samples ==", "== 3. LR range test ==",
                   "== 4-5. coarse-to-fine sweep ==", "== 6. final runs and their learning curves =="):
        assert header in out
    assert "initial loss: fine" in out and "initial loss: too_high" in out
    assert "LR sweep on val_loss" in out
    files = {p.name for p in (tmp_path / "out").iterdir()}
    assert {"workflow_range_test.png", "workflow_sweep.png", "workflow_schedules.png", "workflow_curves.png",
            "range_test.json", "sweep.json"} <= files
