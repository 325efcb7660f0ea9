"""How well do lrfinder's diagnostics label real learning curves?

Scores ``lrfinder.diagnose`` on labelled sets (per-label precision / recall / F1, macro-F1, exact-match rate) and
diagnoses every public log in ../shared/real-curves (which must all be read without error) for a gallery.

Run from the repository root:

    python benchmarks/diagnose_quality.py                 # dev-curves, our induced set (tune / holdout), independent set
    python benchmarks/diagnose_quality.py --errors        # also list every mislabelled curve
    python benchmarks/diagnose_quality.py --markdown      # tables for docs/diagnostics-quality.md
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lrfinder.diagnose import diagnose, read_history  # noqa: E402

LABELS = ["healthy", "still_improving", "bad_init", "lr_too_high", "early_decay", "overfitting", "diverged",
          "underfitting", "plateau"]
DEV = ROOT / "tests" / "data" / "dev-curves"
INDUCED = ROOT / "benchmarks" / "data" / "induced"
INDEPENDENT = ROOT / "benchmarks" / "data" / "independent"
INDEPENDENT_TUNING = ROOT / "benchmarks" / "data" / "independent-tuning"  # regenerated, not committed
SECOND = ROOT / "benchmarks" / "data" / "independent-2"
HOLDOUT = ROOT / "benchmarks" / "data" / "independent-3"
REAL = ROOT.parent / "shared" / "real-curves"


def labelled(folder: Path, ids: set[str] | None = None) -> Iterable[tuple[str, set[str], dict]]:
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or "labels" not in data or (ids is not None and data.get("id") not in ids):
            continue
        hidden = ("labels", "induced", "relabel_note", "check", "split")
        yield str(data.get("id", path.stem)), set(data["labels"]), {k: v for k, v in data.items() if k not in hidden}


def score(curves: Iterable[tuple[str, set[str], dict]]) -> dict:
    tp = dict.fromkeys(LABELS, 0)
    fp = dict.fromkeys(LABELS, 0)
    fn = dict.fromkeys(LABELS, 0)
    errors, exact, n, seconds = [], 0, 0, 0.0
    for cid, truth, record in curves:
        history = read_history(record)
        t0 = time.perf_counter()
        report = diagnose(history)
        seconds += time.perf_counter() - t0
        pred = set(report.codes) - {"insufficient_data"}
        n += 1
        exact += pred == truth
        for label in LABELS:
            tp[label] += label in pred and label in truth
            fp[label] += label in pred and label not in truth
            fn[label] += label not in pred and label in truth
        if pred != truth:
            errors.append((cid, sorted(truth), sorted(pred), report.findings[0].evidence))
    rows = {}
    for label in LABELS:
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else 0.0
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows[label] = dict(precision=p, recall=r, f1=f1, support=tp[label] + fn[label])
    present = [x for x in LABELS if rows[x]["support"] > 0]
    macro = sum(rows[x]["f1"] for x in present) / max(len(present), 1)
    return dict(rows=rows, macro_f1=macro, exact=exact, n=n, errors=errors, ms_per_curve=1e3 * seconds / max(n, 1))


def table(name: str, s: dict) -> str:
    lines = [f"### {name}: macro-F1 {s['macro_f1']:.3f}, exact match {s['exact']}/{s['n']}", "",
             "| label | precision | recall | F1 | curves |", "|---|---|---|---|---|"]
    for label, r in s["rows"].items():
        if r["support"] or r["precision"]:
            lines.append(f"| {label} | {r['precision']:.2f} | {r['recall']:.2f} | {r['f1']:.2f} | {r['support']} |")
    return "\n".join(lines)


def gallery() -> str:
    index = json.loads((REAL / "INDEX.json").read_text())["curves"]
    lines = ["| log | x unit | task | verdict | top evidence |", "|---|---|---|---|---|"]
    for name in sorted(index):
        history = read_history(REAL / name)  # raises on any reader failure: every file must be read
        report = diagnose(history)
        top = report.findings[0].evidence.replace("|", "/")
        lines.append(f"| {name} | {index[name].get('x_unit', '')} | {index[name].get('task', '')[:50]} | "
                     f"{', '.join(report.codes)} | {top[:120]} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--errors", action="store_true", help="list mislabelled curves")
    ap.add_argument("--markdown", action="store_true", help="print markdown tables and the real-curves gallery")
    ap.add_argument("--holdout", action="store_true",
                    help="also score the third held-out set (benchmarks/data/independent-3): the clean estimate, "
                         "kept out of every choice of the rules")
    args = ap.parse_args()
    sets = [("dev-curves (68 curves, used to develop the rules)", list(labelled(DEV)))]
    split_file = INDUCED / "split.json"
    if split_file.exists():
        split = json.loads(split_file.read_text())
        sets.append(("induced, tuning part", list(labelled(INDUCED, set(split["tune"])))))
        sets.append(("induced, HELD-OUT part", list(labelled(INDUCED, set(split["holdout"])))))
    if INDEPENDENT.exists():
        sets.append(("independent set, first hold-out (108 curves; used for tuning in round 3)",
                     list(labelled(INDEPENDENT))))
    if INDEPENDENT_TUNING.exists():
        sets.append(("independent generator, tuning set (regenerated by make_independent_curves.py)",
                     list(labelled(INDEPENDENT_TUNING))))
    if SECOND.exists():
        sets.append(("independent set, second hold-out (108 curves; scored once in round 4, then used for tuning)",
                     list(labelled(SECOND))))
    if args.holdout and HOLDOUT.exists():
        sets.append(("independent set, third hold-out (108 curves, never used for tuning)", list(labelled(HOLDOUT))))
    for name, curves in sets:
        s = score(curves)
        print(table(name, s))
        print(f"\n({s['ms_per_curve']:.2f} ms per curve to diagnose)\n")
        if args.errors:
            for cid, truth, pred, ev in s["errors"]:
                print(f"  {cid}: truth {truth} predicted {pred} :: {ev[:110]}")
            print()
    if REAL.exists():
        g = gallery()
        print(f"real-curves: {g.count(chr(10)) - 1} logs read and diagnosed without error")
        if args.markdown:
            print(g)


if __name__ == "__main__":
    main()
