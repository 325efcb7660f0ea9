"""The suggestion benchmark's ground truth (benchmarks/suggestion_quality.py): band, regret and the split-half check,
on hand-made sweep caches (no training)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "suggestion_quality.py"


@pytest.fixture(scope="module")
def sq():
    spec = importlib.util.spec_from_file_location("suggestion_quality_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _task(sq, kind="cls"):
    return sq.Task(name="hand_made", kind=kind, make_data=None, make_model=None, make_opt=None, opt_desc="SGD",
                   sweep_lrs=(1e-3, 1e-2, 1e-1, 1.0))


def _cache(task, per_seed: dict[int, list[float]]) -> dict:
    scores = {f"{lr:.6g}": {str(s): row[i] for s, row in per_seed.items()} for i, lr in enumerate(task.sweep_lrs)}
    return {task.key(): {"task": task.name, "scores": scores}}


@pytest.fixture
def no_training(sq, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the hand-made cache should answer every (lr, seed)")

    monkeypatch.setattr(sq, "train_score", refuse)


def test_band_by_hand(sq, no_training):
    # mean score 50, 80, 90, 60 at lr 1e-3 .. 1: within 1 point of 90 between 10**-1.1 and 10**(-1 + 1/30)
    task = _task(sq)
    truth = sq.Truth(*sq.sweep(task, _cache(task, {0: [50, 80, 90, 60], 1: [50, 80, 90, 60]}), seeds=(0, 1)), "cls")
    assert truth.best_lr == pytest.approx(0.1) and truth.best == pytest.approx(90)
    lo, hi = truth.band()
    assert math.log10(lo) == pytest.approx(-1.1, abs=0.01)
    assert math.log10(hi) == pytest.approx(-1 + 1 / 30, abs=0.01)
    assert truth.regret(0.01) == pytest.approx(10.0)  # 10 accuracy points below the best
    assert truth.regret(None) == math.inf


def test_truth_check_halves_disagree(sq, no_training):
    # seeds 0, 1 peak at lr 0.1; seeds 2, 3 at lr 0.01: each best scores 10 points under the other's best
    task = _task(sq)
    cache = _cache(task, {0: [50, 80, 90, 60], 1: [50, 80, 90, 60], 2: [50, 90, 80, 60], 3: [50, 90, 80, 60]})
    check = sq.truth_check(task, cache, seeds=(0, 1, 2, 3))
    assert check["first"].best_lr == pytest.approx(0.1)
    assert check["second"].best_lr == pytest.approx(0.01)
    assert check["agree"] == [False, False]


def test_truth_check_halves_agree_within_tolerance(sq, no_training):
    # regression (MSE, lower is better): the halves' best LRs differ, but each is within 5% of the other's best
    task = _task(sq, kind="reg")
    cache = _cache(task, {0: [1.0, 0.50, 0.51, 0.9], 1: [1.0, 0.50, 0.51, 0.9],
                          2: [1.0, 0.51, 0.50, 0.9], 3: [1.0, 0.51, 0.50, 0.9]})
    check = sq.truth_check(task, cache, seeds=(0, 1, 2, 3))
    assert (check["first"].best_lr, check["second"].best_lr) == (pytest.approx(0.01), pytest.approx(0.1))
    assert check["agree"] == [True, True]


def test_where_the_misses_come_from_by_hand(sq, no_training, capsys):
    # task a: band around 0.1 (10**-1.1 .. 10**-0.97), its three LRs are all 10x too low; task b: band around 0.01
    # (10**-2.025 .. 10**-1.9), two LRs in it, one 10x too low (seed noise). One factor for all: x10 (a's three and
    # b's stray one: 4, against 2 with x1); each task's own factor: a x10 (3) + b x1 (2) = 5.
    a = sq.Task(name="a", kind="cls", make_data=None, make_model=None, make_opt=None, opt_desc="SGD",
                sweep_lrs=(1e-3, 1e-2, 1e-1, 1.0))
    b = sq.Task(name="b", kind="cls", make_data=None, make_model=None, make_opt=None, opt_desc="SGD",
                sweep_lrs=(1e-3, 1e-2, 1e-1, 1.0))
    truths = {"a": sq.Truth(*sq.sweep(a, _cache(a, {0: [50, 80, 90, 60]}), seeds=(0,)), "cls"),
              "b": sq.Truth(*sq.sweep(b, _cache(b, {0: [50, 90, 80, 60]}), seeds=(0,)), "cls")}
    lrs = [("a", 0.01), ("a", 0.01), ("a", 0.01), ("b", 0.01), ("b", 0.01), ("b", 0.001), ("b", None)]
    rows = [{"task": t, "lr": {"m": lr}, "regret": {"m": truths[t].regret(lr)}} for t, lr in lrs]
    assert sq._shift_counts(rows, "m", truths) == (4, pytest.approx(10.0), 5)
    sq.print_error_sources(rows, ["m"], truths)
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| m |")][0]
    # 7 runs, 1 without an LR, 2 in band; seed sd: a 0, b sd of (-2, -2, -3) = 0.577, median of the two 0.29
    assert line.startswith("| m | 7 | 1 | 2 (29%) | 4 (57%; x10) | 5 (71%) | 0.29 |")


def test_longer_budget_by_hand(sq, no_training, monkeypatch, capsys):
    # 300 steps: best lr 0.1 (band 10**-1.1 .. 10**-0.97); 1000 steps: best 0.01 (band 10**-2.025 .. 10**-1.9).
    # An LR of 0.1 is in band at 300 steps and 10 points off at 1000; 0.01 the other way round.
    task = _task(sq)
    monkeypatch.setattr(sq, "TASKS", {task.name: task})
    monkeypatch.setattr(sq, "LONG_SEEDS", (0, 1))
    cache = {**_cache(task, {0: [50, 80, 90, 60]}),
             **_cache(sq.long_budget(task), {0: [50, 90, 80, 60], 1: [50, 90, 80, 60]})}
    assert sq.long_budget(task).steps == sq.LONG_STEPS and sq.long_budget(task).key() != task.key()
    assert sq.long_sweep_cached(task, cache) and not sq.long_sweep_cached(task, _cache(task, {0: [1, 2, 3, 4]}))
    truths = {task.name: sq.Truth(*sq.sweep(task, cache, seeds=(0,)), "cls")}
    rows = [{"task": task.name, "lr": {"m": lr}, "regret": {"m": truths[task.name].regret(lr)}} for lr in (0.1, 0.01)]
    sq.print_long_budget([task.name], cache, rows, truths, ["m"])
    out = capsys.readouterr().out
    assert "lower in 1 of 1 tasks, higher in 0 (median ratio 0.1)" in out
    assert "bands overlap in 0 of 1 tasks" in out and "**2 of 2** (100%)" in out
    assert "| m | 50% | 50% | 5.00 | 100% |" in out  # median regret at 1000 steps: of 10 and 0


def test_save_keeps_the_long_budget_sweep(sq, tmp_path):
    # the cache is pruned of tasks that no longer exist; the 1000-step entries of current tasks must survive it
    task = next(iter(sq.TASKS.values()))
    cache = {task.key(): {"task": task.name, "scores": {}},
             sq.long_budget(task).key(): {"task": task.name, "scores": {"0.1": {"0": 1.0}}},
             "0000000000": {"task": "gone", "scores": {}}}
    path = tmp_path / "sweep.json"
    sq._save(str(path), cache)
    assert set(sq._load(str(path))) == {task.key(), sq.long_budget(task).key()}


def test_interval_table_by_hand(sq, no_training, capsys):
    # band around 0.1 (10**-1.1 .. 10**-0.97); one interval around it, one a decade below, one run without an LR
    task = _task(sq)
    truths = {task.name: sq.Truth(*sq.sweep(task, _cache(task, {0: [50, 80, 90, 60]}), seeds=(0,)), "cls")}
    runs = [(0.1, (0.05, 0.2)), (0.01, (0.005, 0.02)), (None, None)]
    rows = [{"task": task.name, "regret": {"m": truths[task.name].regret(lr)}, "interval": {"m": iv}}
            for lr, iv in runs]
    sq.print_intervals(rows, truths, ["m"])
    # 2 runs with an LR, each interval 4x wide (0.60 decades); the first in band, reaching it, holding the best LR
    assert "| m | 2 | 0.60 | 50% | 50% | 50% |" in capsys.readouterr().out
