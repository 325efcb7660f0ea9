"""Start-up cost of lrfinder: ``import lrfinder`` vs ``import torch``, and the CLI paths that must stay light.

Each command runs in a fresh interpreter; the commands are interleaved over several rounds and the median wall time
is reported. For every command it also reports which heavy modules (torch, matplotlib, tqdm, scipy, numpy) it imported.
``lrfinder diagnose`` is measured when it exists (``--help``, and diagnosing one CSV written here).

Usage:
  python benchmarks/startup.py               # 15 rounds
  python benchmarks/startup.py --repeats 5 --json startup.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAVY = ("torch", "matplotlib", "tqdm", "scipy", "numpy")

# name -> python source run by `python -c`; CLI commands run lrfinder.cli.main the way `python -m lrfinder` does
_CLI = "import sys; from lrfinder.cli import main; sys.argv = ['lrfinder', *{argv!r}]; code = main({argv!r})"


def commands(csv_path: str) -> dict[str, str]:
    return {
        "python (nothing)": "pass",
        "import torch": "import torch",
        "import lrfinder": "import lrfinder",
        "import lrfinder; lrfinder.find_lr": "import lrfinder; lrfinder.find_lr",
        "lrfinder --help": _CLI.format(argv=["--help"]),
        "lrfinder diagnose --help": _CLI.format(argv=["diagnose", "--help"]),
        "lrfinder diagnose run.csv": _CLI.format(argv=["diagnose", csv_path]),
    }


def _write_csv(directory: str) -> str:
    path = os.path.join(directory, "run.csv")
    with open(path, "w") as f:
        f.write("step,train_loss,val_loss\n")
        for i in range(200):
            f.write(f"{i},{2.0 * 0.99**i + 0.1:.5f},{2.0 * 0.99**i + 0.2 + (i / 400) ** 2:.5f}\n")
    return path


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run(code: str, env: dict[str, str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True)
    return time.perf_counter() - t0, proc.returncode


_MARK = "STARTUP-PROBE "


def _heavy_modules(code: str, env: dict[str, str]) -> tuple[list[str], int | None, str]:
    """Run ``code`` and report the heavy modules it imported, its exit code (``None``: it crashed) and the error."""
    probe = (
        "import sys, json\ncode, error = 0, ''\ntry:\n"
        + "".join(f"    {line}\n" for line in code.split("; "))
        + "except SystemExit as exc:\n    code = exc.code or 0\n"
        + "except Exception as exc:\n    code, error = None, f'{type(exc).__name__}: {exc}'\n"
        + f"print({_MARK!r} + json.dumps([[m for m in {HEAVY!r} if m in sys.modules], code, error]), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    for line in reversed(proc.stderr.splitlines()):
        if line.startswith(_MARK):
            mods, rc, error = json.loads(line[len(_MARK):])
            return mods, rc, error
    return [], None, proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"


_IN_PROCESS = (
    "import time, torch\nt = time.perf_counter()\nimport lrfinder\nlrfinder.find_lr\nprint(time.perf_counter() - t)"
)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--json", metavar="PATH")
    args = p.parse_args(argv)
    env = _env()
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(_write_csv(tmp))
        info = {name: _heavy_modules(code, env) for name, code in cmds.items()}
        runnable = {name: code for name, code in cmds.items() if info[name][1] in (0, 1)}
        times: dict[str, list[float]] = {name: [] for name in runnable}
        after_torch: list[float] = []  # import lrfinder + find_lr in a process that has imported torch already
        for rep in range(args.repeats + 1):
            for name, code in runnable.items():
                t, _ = _run(code, env)
                if rep:  # round 0 warms the file cache
                    times[name].append(t)
            out = subprocess.run([sys.executable, "-c", _IN_PROCESS], env=env, capture_output=True, text=True)
            if rep and out.returncode == 0:
                after_torch.append(float(out.stdout.strip()))
    med = {name: statistics.median(v) for name, v in times.items()}
    torch_s = med["import torch"]
    print(f"python {sys.version.split()[0]}, {args.repeats} interleaved rounds, median wall time of a fresh process")
    print(f"{'command':<36}{'median s':>9}{'vs import torch':>17}  heavy modules imported")
    report = {"repeats": args.repeats, "python": sys.version.split()[0], "commands": {}}
    for name in cmds:
        mods, rc, err = info[name]
        if name not in runnable:
            print(f"{name:<36}{'-':>9}{'-':>17}  not available ({err[:70] if err else f'exit {rc}'})")
            report["commands"][name] = {"available": False, "exit": rc}
            continue
        print(f"{name:<36}{med[name]:9.3f}{med[name] - torch_s:+17.3f}  {', '.join(mods) or '-'}")
        report["commands"][name] = {"available": True, "median_s": med[name], "minus_import_torch_s": med[name] - torch_s,
                                    "heavy_modules": mods, "exit": rc}
    if after_torch:
        report["lrfinder_after_torch_s"] = statistics.median(after_torch)
        print(f"import lrfinder + lrfinder.find_lr after import torch, timed in-process: "
              f"{report['lrfinder_after_torch_s']:.3f} s (median)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
