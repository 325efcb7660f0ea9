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
