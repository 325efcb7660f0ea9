"""``lrfinder diagnose`` in-process (with a stand-in for the rules, so the exit codes do not depend on their
tuning) and as a subprocess (with the real rules)."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from lrfinder.cli import main
from lrfinder.diagnose import Finding, Report

LOGS = Path(__file__).parents[1] / "data" / "logs"
BAD = LOGS / "bad"
ROOT = Path(__file__).parents[2]
HAVE_RULES = importlib.util.find_spec("lrfinder.diagnose.rules") is not None


def fake_diagnose(history, *, num_classes=None):
    """diverged (error) on a non-finite loss; overfitting (warning) when val_loss ends >10% above its minimum;
    else still_improving (info, confidence 0.4)."""
    x = history.epochs
    findings = []
    for name in ("train_loss", "val_loss"):
        y = getattr(history, name)
        if y is not None and not np.isfinite(y).all() and not findings:
            findings.append(Finding("diverged", 0.95, "error", f"{name} is NaN/inf", "lower the LR",
                                    span=(float(x[0]), float(x[-1]))))
    v = history.val_loss
    if v is not None and np.isfinite(v).all() and v[-1] > 1.1 * v.min():
        i = int(np.argmin(v))
        findings.append(Finding("overfitting", 0.8, "warning", f"val_loss min {v[i]:.3g} at {x[i]:g}",
                                "regularise", span=(float(x[i]), float(x[-1])), numbers={"nan": float("nan")}))
    if not findings:
        findings.append(Finding("still_improving", 0.4, "info", "still falling", "train longer",
                                span=(float(x[-1]), float(x[-1]))))
    return Report(findings=tuple(findings), source=history.source, num_points=len(history), x_unit=history.x_unit)


@pytest.fixture
def rules(monkeypatch):
    """Stand in for lrfinder.diagnose.rules.diagnose (whether or not the real module exists yet)."""
    if HAVE_RULES:
        import lrfinder.diagnose.rules as module
    else:
        module = types.ModuleType("lrfinder.diagnose.rules")
        monkeypatch.setitem(sys.modules, "lrfinder.diagnose.rules", module)
    monkeypatch.setattr(module, "diagnose", fake_diagnose, raising=False)
    return module


def run_cli(capsys, *args):
    code = main(["diagnose", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


# -------------------------------------------------------------------------------------------------- in-process


def test_one_good_file_with_problems_exits_1(rules, capsys):
    code, out, err = run_cli(capsys, LOGS / "keras_csvlogger.csv")
    assert code == 1 and err == ""
    assert "overfitting [warning, confidence 0.80]: val_loss min 0.97 at 3" in out
    assert "-> regularise" in out and out.strip().endswith("exit 1")


def test_info_findings_do_not_fail_by_default(rules, capsys):
    code, out, _ = run_cli(capsys, LOGS / "records.json")
    assert code == 0 and "still_improving [info" in out
    assert run_cli(capsys, LOGS / "records.json", "--fail-on", "info")[0] == 1


def test_fail_on_codes_and_severities(rules, capsys):
    overfit = LOGS / "keras_csvlogger.csv"
    assert run_cli(capsys, overfit, "--fail-on", "diverged")[0] == 0
    assert run_cli(capsys, overfit, "--fail-on", "diverged,overfitting")[0] == 1
    assert run_cli(capsys, overfit, "--fail-on", "error")[0] == 0
    assert run_cli(capsys, LOGS / "keras_history.json", "--fail-on", "error")[0] == 1
    assert run_cli(capsys, overfit, "--fail-on", "never")[0] == 0
    code, out, err = run_cli(capsys, overfit, "--fail-on", "overfit")
    assert code == 2 and out == ""
    assert err.startswith("lrfinder: --fail-on 'overfit': unknown code(s) overfit; expected a severity (info, warning")
    assert len(err.strip().splitlines()) == 1


def test_min_confidence_hides_weak_findings(rules, capsys):
    code, out, _ = run_cli(capsys, LOGS / "records.json", "--fail-on", "info", "--min-confidence", "0.5")
    assert code == 0 and "still_improving" not in out
    assert run_cli(capsys, LOGS / "records.json", "--min-confidence", "2")[0] == 2


def test_directory_with_bad_files_reports_each_on_one_line_and_exits_2(rules, capsys):
    code, out, err = run_cli(capsys, LOGS)
    assert code == 2
    lines = err.strip().splitlines()
    bad_names = sorted(p.name for p in BAD.iterdir() if p.name not in ("not_a_log.json", "renamed_columns.csv"))
    assert len(lines) == len(bad_names)  # one line per unreadable file, nothing else (no traceback)
    for name in bad_names:
        assert sum(name in line for line in lines) == 1, name
    assert all(line.startswith("lrfinder: ") for line in lines)
    # the good files were still diagnosed, and the summary counts everything
    assert "keras_csvlogger.csv (8 epochs)" in out and "two_runs.json#run_b (3 epochs)" in out
    assert "FAIL         8  " in out and "ERROR        -  " in out
    assert "unreadable; skipped 3 file(s) that are not training logs; exit 2" in out


def test_a_named_file_that_is_not_a_log_is_an_error(rules, capsys):
    code, out, err = run_cli(capsys, BAD / "renamed_columns.csv", LOGS / "records.json")
    assert code == 2 and "no loss column found" in err and "records.json (3 epochs)" in out
    code, out, err = run_cli(capsys, BAD / "renamed_columns.csv", "--column", "train_loss=objective")
    assert code == 0 and "renamed_columns.csv (2 epochs)" in out and err == ""


def test_missing_path_and_empty_directory(rules, capsys, tmp_path):
    code, _, err = run_cli(capsys, tmp_path / "nope.csv", tmp_path)
    assert code == 2
    assert f"lrfinder: {tmp_path / 'nope.csv'}: no such file or directory" in err
    assert f"lrfinder: {tmp_path}: no training logs found" in err


def test_bad_options_exit_2(rules, capsys):
    for args in (["--column", "loss"], ["--column", "foo=bar"], ["--num-classes", "1"]):
        code, out, err = run_cli(capsys, LOGS / "records.json", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, args
    assert main(["diagnose"]) == 2  # argparse usage error: PATH is required


def test_json_output_parses_and_holds_reports_and_errors(rules, capsys):
    code, out, err = run_cli(capsys, LOGS / "keras_csvlogger.csv", BAD / "empty.csv", LOGS / "two_runs.json", "--json")
    assert code == 2
    doc = json.loads(out)  # strict JSON: the NaN in a finding's numbers became null
    assert doc["kind"] == "diagnose_run" and doc["exit_code"] == 2 and doc["fail_on"] == "warning"
    assert [r["path"].rsplit("/", 1)[-1] for r in doc["reports"]] == [
        "keras_csvlogger.csv", "two_runs.json#run_a", "two_runs.json#run_b"
    ]
    first = doc["reports"][0]
    assert first["failed"] and first["failing_codes"] == ["overfitting"] and first["format"] == "keras_csv"
    assert first["report"]["findings"][0]["numbers"] == {"nan": None}
    assert Report.from_dict(first["report"]).codes == ("overfitting",)
    assert len(doc["errors"]) == 1 and doc["errors"][0]["error"].endswith("the file is empty; expected a training "
                                                                          "log (CSV, JSON or TensorBoard events)")
    assert err.count("\n") == 1


def test_plot_writes_one_png_per_log(rules, capsys, tmp_path):
    out_dir = tmp_path / "plots"
    code, out, _ = run_cli(capsys, LOGS / "keras_csvlogger.csv", LOGS / "two_runs.json", "--plot", out_dir, "-q")
    assert code == 1
    pngs = sorted(p.name for p in out_dir.iterdir())
    assert len(pngs) == 3 and all(p.endswith(".png") for p in pngs)
    assert all((out_dir / p).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert "status  points  log" in out and "overfitting [warning" not in out  # -q: summary only


def test_debug_shows_the_traceback(rules, capsys):
    with pytest.raises(ValueError, match="the file is empty"):
        main(["diagnose", str(BAD / "empty.csv"), "--debug"])


def test_cli_constants_match_the_library():
    from lrfinder.diagnose import cli
    from lrfinder.diagnose._columns import ROLES
    from lrfinder.diagnose.readers import FORMATS

    assert cli._FORMATS == FORMATS and cli._ROLES == ROLES


# -------------------------------------------------------------------------------------------------- subprocess


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


@pytest.mark.skipif(not HAVE_RULES, reason="lrfinder.diagnose.rules not merged yet")
def test_subprocess_exit_codes_and_json(tmp_path):
    good = [LOGS / "keras_csvlogger.csv", LOGS / "hf_trainer_state.json", LOGS / "tb_torch"]
    cmd = [sys.executable, "-m", "lrfinder", "diagnose", *map(str, good), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=120)
    assert p.returncode in (0, 1), p.stderr
    doc = json.loads(p.stdout)
    assert len(doc["reports"]) == 3 and doc["errors"] == [] and doc["exit_code"] == p.returncode
    assert p.returncode == (1 if any(r["failed"] for r in doc["reports"]) else 0)
    for r in doc["reports"]:
        assert r["report"]["findings"], r["path"]

    cmd = [sys.executable, "-m", "lrfinder", "diagnose", str(BAD / "binary.csv"), str(LOGS / "records.json")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines() == [f"lrfinder: {BAD / 'binary.csv'}: not UTF-8 text: byte 0x89 at offset 0 "
                                             "(line 1); expected a CSV or JSON training log (a text log in another "
                                             "encoding: save it as UTF-8)"]
    assert "records.json (3 epochs)" in p.stdout

    out_dir = tmp_path / "png"
    cmd = [sys.executable, "-m", "lrfinder", "diagnose", str(LOGS / "yolov8_results.csv"), "--plot", str(out_dir)]
    p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=120)
    assert p.returncode in (0, 1) and [f.suffix for f in out_dir.iterdir()] == [".png"]


_PROBE = """
import importlib.util, sys, types
if importlib.util.find_spec("lrfinder.diagnose.rules") is None:  # before the rules are merged: a stand-in
    import lrfinder.diagnose as d
    stub = types.ModuleType("lrfinder.diagnose.rules")
    stub.diagnose = lambda h, num_classes=None: d.Report(findings=(), source=h.source, num_points=len(h))
    sys.modules["lrfinder.diagnose.rules"] = stub
from lrfinder.cli import main
code = main(sys.argv[1:])
print("MODULES", sorted(m for m in ("torch", "matplotlib") if m in sys.modules), code)
"""


@pytest.mark.parametrize("extra, expected", [([], "[]"), (["--plot", "PLOTDIR"], "['matplotlib']")])
def test_diagnose_imports_neither_torch_nor_matplotlib_unless_plotting(tmp_path, extra, expected):
    extra = [str(tmp_path) if a == "PLOTDIR" else a for a in extra]
    args = ["diagnose", str(LOGS / "keras_csvlogger.csv"), str(LOGS / "tb_keras"), "--fail-on", "never", *extra]
    p = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=_env(), timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == f"MODULES {expected} 0"


def test_help_is_light():
    """--help does not even import numpy (the diagnose package loads its names lazily)."""
    probe = "import sys\nfrom lrfinder.cli import main\ncode = main(['diagnose', '--help'])\n" \
            "print(sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules), code)"
    p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=_env(), timeout=120)
    assert "--fail-on SEVERITY|CODES" in p.stdout and p.stdout.strip().splitlines()[-1] == "[] 0"


def test_copied_directory_of_logs(rules, capsys, tmp_path):
    for name in ("keras_csvlogger.csv", "yolov5_results.csv"):
        shutil.copy(LOGS / name, tmp_path / name)
    code, out, _ = run_cli(capsys, tmp_path, "--fail-on", "never", "-q")
    assert code == 0 and "2 logs: 2 ok" in out
