"""Start-up and throughput of ``lrfinder diagnose``.

    python benchmarks/diagnose_throughput.py            # 1,000 logs, 5 repeats of each start-up command
    python benchmarks/diagnose_throughput.py --n 200 --repeats 3

Generates ``--n`` training logs into a temporary folder (Keras CSVLogger CSV, Lightning metrics.csv, Hugging Face
trainer_state.json, YOLOv8 results.csv and Keras history JSON in turn; 30 to 150 epochs; smooth decays with noise,
some overfitting, some diverging), then times fresh processes of this checkout:

* ``python -c pass`` (the floor), ``python -c "import lrfinder"``, ``python -c "import numpy"`` (what reading
  any log needs),
* ``python -m lrfinder diagnose --help``, ``python -m lrfinder diagnose ONE.csv``,
* ``python -m lrfinder diagnose DIR -q`` over all the logs (and with ``--json``),

and, in this process, reading alone vs reading + diagnosing. Times are medians; compare them as ratios within
one run (the machine is shared).
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
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _curves(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    t = np.arange(n, dtype=float)
    start, floor, tau = rng.uniform(1.5, 3.0), rng.uniform(0.05, 0.6), rng.uniform(3, n / 3)
    train = floor + (start - floor) * np.exp(-t / tau) * (1 + 0.03 * rng.standard_normal(n))
    val = train * rng.uniform(1.0, 1.2) + 0.02 * rng.standard_normal(n)
    kind = rng.integers(4)
    if kind == 1:  # overfitting: val turns up after its minimum
        turn = int(n * rng.uniform(0.3, 0.6))
        val[turn:] += np.linspace(0, rng.uniform(0.2, 0.8), n - turn)
    elif kind == 2:  # diverging: NaN from some epoch on
        blow = int(n * rng.uniform(0.3, 0.9))
        train[blow:] = np.nan
        val[blow:] = np.nan
    acc = np.clip(1 - train / (start + 0.5), 0, 1)
    lr = np.where(t < n // 2, 1e-3, 1e-4)
    return {"train": train, "val": val, "acc": acc, "val_acc": np.clip(acc - 0.05, 0, 1), "lr": lr}


def _fmt(x: float) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.6g}"


def write_logs(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` logs in five formats; returns their paths."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        c = _curves(rng, int(rng.integers(30, 151)))
        e = len(c["train"])
        kind = i % 5
        if kind == 0:
            p = folder / f"keras_{i:04d}.csv"
            rows = ["epoch,accuracy,learning_rate,loss,val_accuracy,val_loss"]
            rows += [f"{k},{_fmt(c['acc'][k])},{c['lr'][k]:g},{_fmt(c['train'][k])},{_fmt(c['val_acc'][k])},"
                     f"{_fmt(c['val'][k])}" for k in range(e)]
            p.write_text("\n".join(rows) + "\n")
        elif kind == 1:
            p = folder / f"lightning_{i:04d}" / "metrics.csv"
            p.parent.mkdir()
            rows = ["epoch,lr-SGD,step,train_loss_epoch,train_loss_step,val_acc,val_loss"]
            for k in range(e):
                for s in range(2):
                    rows.append(f"{k},{c['lr'][k]:g},{4 * k + 2 * s + 1},,{_fmt(c['train'][k] * (1.05 - 0.1 * s))},,")
                rows.append(f"{k},,{4 * k + 3},,,{_fmt(c['val_acc'][k])},{_fmt(c['val'][k])}")
                rows.append(f"{k},,{4 * k + 3},{_fmt(c['train'][k])},,,")
            p.write_text("\n".join(rows) + "\n")
        elif kind == 2:
            p = folder / f"hf_{i:04d}" / "trainer_state.json"
            p.parent.mkdir()
            log = []
            for k in range(e):
                for s in (0.5, 1.0):
                    log.append({"epoch": k + s, "step": int(20 * (k + s)), "loss": float(c["train"][k]),
                                "learning_rate": float(c["lr"][k])})
                log.append({"epoch": k + 1.0, "step": 20 * (k + 1), "eval_loss": float(c["val"][k]),
                            "eval_accuracy": float(c["val_acc"][k])})
            p.write_text(json.dumps({"global_step": 20 * e, "log_history": log}))
        elif kind == 3:
            p = folder / f"yolo_{i:04d}.csv"
            names = ["epoch", "train/box_loss", "train/cls_loss", "train/dfl_loss", "metrics/mAP50(B)",
                     "val/box_loss", "val/cls_loss", "val/dfl_loss", "lr/pg0"]
            rows = [",".join("%23s" % x for x in names)]
            for k in range(e):
                tr, va = c["train"][k] / 3, c["val"][k] / 3
                vals = [k + 1, tr, tr, tr, c["val_acc"][k], va, va, va, c["lr"][k]]
                rows.append(",".join("%23s" % _fmt(v) for v in vals))
            p.write_text("\n".join(rows) + "\n")
        else:
            p = folder / f"history_{i:04d}.json"
            p.write_text(json.dumps({"loss": c["train"].tolist(), "val_loss": c["val"].tolist(),
                                     "accuracy": c["acc"].tolist(), "val_accuracy": c["val_acc"].tolist()}))
        paths.append(p)
    return paths


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _time(cmd: list[str], repeats: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env(), cwd=ROOT)
        times.append(time.perf_counter() - t0)
        code = p.returncode
        if code not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed ({code}): {p.stderr.decode()[-2000:]}")
    return statistics.median(times), code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="number of logs (default 1000)")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each start-up command (median)")
    args = ap.parse_args()

    from lrfinder.diagnose.readers import read_log
    from lrfinder.diagnose.rules import diagnose

    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_logs(folder, args.n)
        one = paths[0]
        rows = []
        base, _ = _time([py, "-c", "pass"], args.repeats)
        rows.append(("python -c pass", base, None))
        rows.append(("python -c 'import lrfinder'", _time([py, "-c", "import lrfinder"], args.repeats)[0], None))
        rows.append(("python -c 'import numpy'", _time([py, "-c", "import numpy"], args.repeats)[0], None))
        rows.append(("lrfinder diagnose --help", _time([py, "-m", "lrfinder", "diagnose", "--help"], args.repeats)[0], None))
        rows.append(("lrfinder diagnose ONE.csv", _time([py, "-m", "lrfinder", "diagnose", str(one)], args.repeats)[0], 1))
        batch, code = _time([py, "-m", "lrfinder", "diagnose", str(folder), "-q"], max(1, args.repeats // 2))
        rows.append((f"lrfinder diagnose DIR -q ({args.n} logs)", batch, args.n))
        batch_json, _ = _time([py, "-m", "lrfinder", "diagnose", str(folder), "--json"], max(1, args.repeats // 2))
        rows.append((f"lrfinder diagnose DIR --json ({args.n} logs)", batch_json, args.n))

        t0 = time.perf_counter()
        histories = [h for p in paths for h in read_log(p)]
        t_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        for h in histories:
            diagnose(h)
        t_diag = time.perf_counter() - t0
        points = sum(len(h) for h in histories)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; medians; ratio = time / (python -c pass)")
    print(f"{'command':<44} {'seconds':>8} {'ratio':>7} {'ms/log':>7}")
    for name, t, n in rows:
        per = f"{1000 * (t - base) / n:7.2f}" if n else ""
        print(f"{name:<44} {t:8.3f} {t / base:7.1f} {per:>7}")
    print(f"in-process, {len(histories)} logs ({points} points): read {t_read:.3f} s "
          f"({1000 * t_read / len(histories):.2f} ms/log), diagnose {t_diag:.3f} s "
          f"({1000 * t_diag / len(histories):.2f} ms/log); exit code of the batch run: {code}")


if __name__ == "__main__":
    main()
