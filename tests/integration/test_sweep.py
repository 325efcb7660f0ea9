"""The sweep on a tiny real task: it must pick an LR inside the good range that brute force finds."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from lrfinder import find_lr
from lrfinder.diagnose.records import CurveHistory, Finding, Report
from lrfinder.sweep import lr_sweep

STEPS_PER_EPOCH = 8
FINE_EPOCHS = 6


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _task(seed: int = 0, n: int = 512, d: int = 8, classes: int = 4):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2 * n, d, generator=g)
    w = torch.randn(d, classes, generator=g)
    y = (x @ w + 0.5 * torch.randn(2 * n, classes, generator=g)).argmax(1)
    return (x[:n], y[:n]), (x[n:], y[n:])


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))


def make_train_fn(seed: int = 0, log_every: int = 2):
    """Train from scratch with SGD (momentum 0.9); the training loss averaged over every ``log_every`` steps, the
    validation loss after each epoch (NaN at the other points)."""
    (xt, yt), (xv, yv) = _task(seed)
    bs = xt.shape[0] // STEPS_PER_EPOCH

    def train_fn(lr: float, epochs: int) -> dict:
        model = _model(seed)
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        g = torch.Generator().manual_seed(seed)
        train, val, window = [], [], []
        for _ in range(epochs):
            perm = torch.randperm(xt.shape[0], generator=g)
            for i in range(STEPS_PER_EPOCH):
                idx = perm[i * bs:(i + 1) * bs]
                loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                window.append(loss.item())
                if len(window) == log_every:
                    train.append(sum(window) / len(window))
                    val.append(math.nan)
                    window = []
            with torch.no_grad():
                val[-1] = nn.functional.cross_entropy(model(xv), yv).item()
        return {"train_loss": train, "val_loss": val, "x_unit": "step", "num_classes": 4,
                "loss_kind": "cross_entropy"}

    return train_fn


def _final_val(history: dict) -> float:
    vals = [v for v in history["val_loss"] if not math.isnan(v)]
    return vals[-1] if vals and math.isfinite(vals[-1]) else math.inf


@pytest.fixture(scope="module")
def brute_force():
    """Final validation loss after FINE_EPOCHS on a grid of LRs a quarter decade apart, and the good range: the
    LRs within 15% of the best."""
    torch.set_num_threads(1)
    train_fn = make_train_fn()
    lrs = np.logspace(-2.5, 0.5, 13)
    finals = np.array([_final_val(train_fn(float(lr), FINE_EPOCHS)) for lr in lrs])
    good = lrs[finals <= 1.15 * finals.min()]
    return lrs, finals, (float(good.min()), float(good.max()))


@pytest.fixture(scope="module")
def range_test():
    torch.set_num_threads(1)
    (xt, yt), _ = _task()
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(xt, yt), batch_size=64, shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    return find_lr(model, loader, opt, start_lr=1e-4, end_lr=10.0, num_iter=80, progress=False)


def _passthrough(history: CurveHistory) -> Report:
    return Report(findings=(Finding("healthy", 0.5, "info", "not diagnosed", ""),), num_points=len(history))


def _check(result, brute):
    lrs, finals, (lo, hi) = brute
    assert result.chosen_lr is not None, result.summary()
    # inside the brute-force good range, with a quarter-decade grid's tolerance at its edges
    assert lo / 10**0.125 <= result.chosen_lr <= hi * 10**0.125, (result.chosen_lr, (lo, hi), result.table())


def test_brute_force_range_is_a_real_optimum(brute_force):
    lrs, finals, (lo, hi) = brute_force
    assert lrs[0] < lo <= hi < lrs[-1]  # the good range is interior: the task has an LR optimum to find
    assert hi / lo <= 10  # and it is narrow enough for the test to mean something


def test_sweep_around_the_range_test_picks_an_lr_in_the_good_range(brute_force, range_test):
    assert range_test.suggestion.ok
    result = lr_sweep(
        make_train_fn(), around=range_test, coarse_points=7, coarse_epochs=2, fine_points=3, fine_epochs=FINE_EPOCHS,
        diagnose_fn=_passthrough,
    )
    _check(result, brute_force)
    assert len(result.coarse) == 7 and len(result.fine) == 3


def test_sweep_with_the_real_diagnostics(brute_force, range_test):
    result = lr_sweep(
        make_train_fn(), around=range_test, coarse_points=7, coarse_epochs=2, fine_points=3, fine_epochs=FINE_EPOCHS,
    )
    _check(result, brute_force)
    assert any(r.report is not None and r.report.findings for r in result.runs)
