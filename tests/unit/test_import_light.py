"""``import lrfinder`` and ``lrfinder --help`` must not pull in torch, matplotlib or tqdm (start-up time).

Each check runs a fresh interpreter and lists which heavy modules ended up in ``sys.modules``. The ``diagnose``
paths are checked in tests/integration/test_diagnose_cli.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ("torch", "matplotlib", "tqdm")


def _heavy_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_lrfinder_imports_no_torch_matplotlib_or_tqdm():
    assert _heavy_after("import lrfinder; lrfinder.__version__; dir(lrfinder)") == []


def test_probe_sees_heavy_imports():
    """The probe is not blind: touching a torch-backed name does import torch."""
    assert "torch" in _heavy_after("import lrfinder; lrfinder.find_lr")


def test_cli_help_imports_neither_torch_nor_matplotlib():
    code = "import contextlib, io\nfrom lrfinder.cli import main\nwith contextlib.redirect_stdout(io.StringIO()):\n    assert main(['--help']) == 0"
    assert set(_heavy_after(code)) & {"torch", "matplotlib"} == set()
