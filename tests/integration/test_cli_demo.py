"""`lrfinder demo` and `lrfinder suggest`, in-process and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

from lrfinder.cli import main
from lrfinder.records import RangeTestResult


def test_demo_as_a_subprocess_writes_plot_and_json_and_prints_a_suggestion(tmp_path):
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "lrfinder", "demo", "--out", str(out), "--num-iter", "80", "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "suggestion: default: lr=" in proc.stdout
    assert (out / "range_test.png").stat().st_size > 10_000
    result = RangeTestResult.from_json(out / "range_test.json")
    assert result.num_steps > 10 and result.suggestion.ok
    assert 1e-5 <= result.suggestion.lr <= 10.0


def test_suggest_reanalyses_a_saved_result(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--num-iter", "60", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["suggest", str(out / "range_test.json"), "--json", "--plot", str(tmp_path / "p.png")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "default" in data and "steepest" in data
    assert (tmp_path / "p.png").exists()


def test_user_errors_are_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.json"
    assert main(["suggest", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lrfinder: ") and err.count("\n") == 1 and "nope.json" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 99, "lrs": [], "losses": []}')
    assert main(["suggest", str(bad)]) == 2
    assert "unsupported schema_version 99" in capsys.readouterr().err
    assert main(["demo", "--num-iter", "1", "--out", str(tmp_path / "x")]) == 2
    assert "num_iter must be >= 2" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: lrfinder" in capsys.readouterr().err
