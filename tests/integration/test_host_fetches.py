"""The GPU design, checked on CPU: the range test copies losses to the host once per ``check_every`` chunk, never per
step. Every Tensor method that makes a host copy (item, tolist, cpu, numpy, float(), bool(), int(), format) is
wrapped; calls made from lrfinder's own code are recorded with the number of training steps run so far.

On CUDA each such call is a host synchronisation; tests/gpu/test_cuda.py checks the real thing under
``torch.cuda.set_sync_debug_mode("error")``.
"""

from __future__ import annotations

import os
import sys

import pytest
import torch
from torch import nn

import lrfinder
import lrfinder.engine
from lrfinder import find_lr

LRFINDER_DIR = os.path.dirname(os.path.abspath(lrfinder.__file__))
HOST_FETCHES = ("item", "tolist", "cpu", "numpy", "__float__", "__bool__", "__int__", "__index__", "__format__")


def _loader(n=64, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    y = (x[:, 0] > 0).long()
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch)


@pytest.fixture
def recorder(monkeypatch):
    """Record (train steps so far, method) for every host fetch made by lrfinder code while the test trains."""
    record: dict = {"forwards": 0, "fetches": [], "fetch_calls": []}

    def wrap(name):
        original = getattr(torch.Tensor, name)

        def wrapper(self, *args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if os.path.abspath(caller).startswith(LRFINDER_DIR):
                record["fetches"].append((record["forwards"], name))
            return original(self, *args, **kwargs)

        return wrapper

    for name in HOST_FETCHES:
        monkeypatch.setattr(torch.Tensor, name, wrap(name))
    original_fetch = lrfinder.engine.fetch_losses

    def counting_fetch(train, val, ctx):
        record["fetch_calls"].append((record["forwards"], len(train)))
        return original_fetch(train, val, ctx)

    monkeypatch.setattr(lrfinder.engine, "fetch_losses", counting_fetch)
    return record


def _model(record):
    model = nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))

    def count(module, args):
        if module.training:  # training micro-batches only, not the val_loader's evaluation
            record["forwards"] += 1

    model.register_forward_pre_hook(count)
    return model


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"accumulation_steps": 2, "clip_grad_norm": 1.0, "val_loader": _loader(16, 8, seed=1), "amp": "bf16"},
    ],
    ids=["plain", "accum-clip-val-bf16"],
)
def test_losses_reach_the_host_once_per_check(recorder, options):
    accum = options.get("accumulation_steps", 1)
    model = _model(recorder)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    result = find_lr(
        model, _loader(), optimizer, nn.CrossEntropyLoss(), start_lr=1e-4, end_lr=1e-1, num_iter=20, check_every=5,
        diverge_threshold=None, progress=False, **options,
    )
    assert result.num_steps == 20
    steps_at_fetch = [(forwards // accum, n) for forwards, n in recorder["fetch_calls"]]
    # step 0 is checked at once (a non-finite start is a data problem), then every 5 steps, the new steps each time
    assert steps_at_fetch == [(1, 1), (5, 4), (10, 5), (15, 5), (20, 5)]
    # no other host copy of a tensor by lrfinder while training: one per check, none per step
    fetched_at = [f // accum for f, name in recorder["fetches"]]
    assert fetched_at == [1, 5, 10, 15, 20]
    assert {name for _, name in recorder["fetches"]} <= {"item", "tolist"}


def test_fetch_wrapper_sees_a_per_step_item(recorder, monkeypatch):
    """The recorder is not blind: a per-step ``.item()`` in lrfinder code would be caught."""
    original = lrfinder.engine._set_lr
    calls = []

    def set_lr_with_a_sync(opt, lr, ratios):
        calls.append(torch.zeros(()).item())  # the kind of per-step sync the design forbids
        return original(opt, lr, ratios)

    set_lr_with_a_sync.__code__ = set_lr_with_a_sync.__code__.replace(co_filename=lrfinder.engine.__file__)
    monkeypatch.setattr(lrfinder.engine, "_set_lr", set_lr_with_a_sync)
    model = _model(recorder)
    find_lr(model, _loader(), None, nn.CrossEntropyLoss(), num_iter=6, check_every=3,
            progress=False)
    items = [f for f, name in recorder["fetches"] if name == "item"]
    assert set(range(6)) <= set(items)  # one at the start of every step (steps 0 to 5 begin after 0 to 5 forwards)
