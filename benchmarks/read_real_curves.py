"""Read (and, with the rules, diagnose) every third-party log in ``../shared/real-curves``: none may fail.

    python benchmarks/read_real_curves.py [--shared DIR] [--no-diagnose]

``DIR`` defaults to the ``shared/`` folder beside the repository. Prints one line per file (points, x unit,
series found, verdict) and exits 1 if any file could not be read or diagnosed. The logs stay in ``../shared``:
they are never copied into the repository.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT / ".." / "shared", help="the shared/ folder")
    ap.add_argument("--no-diagnose", action="store_true", help="only read the files")
    args = ap.parse_args()

    from lrfinder.diagnose.readers import read_history

    diagnose = None
    if not args.no_diagnose:
        try:
            from lrfinder.diagnose.rules import diagnose
        except ImportError:
            print("note: lrfinder.diagnose.rules not available; reading only")
    folder = args.shared / "real-curves"
    files = sorted(p for p in folder.glob("*.json") if p.name != "INDEX.json")
    if not files:
        print(f"no real curves under {folder}")
        return 1
    failures = 0
    t0 = time.perf_counter()
    for p in files:
        try:
            h = read_history(p)
            series = ",".join(s for s in ("train_loss", "val_loss", "train_acc", "val_acc", "lr") if getattr(h, s) is not None)
            verdict = ""
            if diagnose is not None:
                report = diagnose(h)
                verdict = ", ".join(f"{f.code} {f.confidence:.2f}" for f in report.findings)
            print(f"ok    {p.name:<50} {len(h):>5} {h.x_unit:<5} {series:<40} {verdict}")
        except Exception as exc:  # report every failure, keep going
            failures += 1
            print(f"FAIL  {p.name:<50} {type(exc).__name__}: {exc}")
    took = time.perf_counter() - t0
    print(f"{len(files)} files, {failures} failed, {took:.2f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
