"""Faults injected into a range test: whatever happens, the state comes back bit for bit, the snapshot directory
is gone, the message is clear and the partial record is available."""

from __future__ import annotations

import math
import os
import random
import stat
import tempfile

import numpy as np
import pytest
import torch
from torch import nn

from lrfinder import find_lr
from lrfinder._state import preserved_state
from tests.helpers import assert_same_state, blobs, bn_mlp, full_state, loader

CACHES = ["memory", "disk"]


def _snapshots(tmp):
    """lrfinder's snapshot directories left in ``tmp`` (torch may put its own caches there)."""
    return [d for d in os.listdir(tmp) if d.startswith("lrfinder-")]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Point tempfile at an empty directory so a leftover snapshot directory would show."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


class FaultyModel(nn.Module):
    """A BatchNorm MLP with tied weights, a frozen layer and a non-persistent buffer that raises or returns NaN on
    demand at a chosen forward call."""

    def __init__(self, fault: str | None = None, at_call: int = -1):
        super().__init__()
        self.inp = nn.Linear(8, 16)
        self.bn = nn.BatchNorm1d(16)
        self.hidden = nn.Linear(16, 16)
        self.tied = nn.Linear(16, 16)
        self.tied.weight = self.hidden.weight  # shared parameter
        self.frozen = nn.Linear(16, 16)
        self.frozen.requires_grad_(False)
        self.out = nn.Linear(16, 3)
        self.register_buffer("calls_seen", torch.zeros(1), persistent=False)
        self.fault, self.at_call, self.calls = fault, at_call, 0

    def forward(self, x):
        self.calls += 1
        self.calls_seen += 1
        if self.calls == self.at_call:
            if self.fault == "raise":
                raise RuntimeError("user model failed")
            if self.fault == "interrupt":
                raise KeyboardInterrupt
            if self.fault == "oom":
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (simulated)")
        h = torch.relu(self.bn(self.inp(x)))
        h = torch.relu(self.tied(torch.relu(self.hidden(h))))
        out = self.out(self.frozen(h))
        if self.calls >= self.at_call and self.fault in ("nan", "inf"):
            out = out * (math.nan if self.fault == "nan" else math.inf)
        return out


def _setup(model):
    x, y = blobs()
    dl = loader(x, y)
    groups = [
        {"params": list(model.inp.parameters()) + list(model.bn.parameters()), "lr": 0.01},
        {"params": [p for n, p in model.named_parameters() if not n.startswith(("inp", "bn")) and p.requires_grad],
         "lr": 0.1},
    ]
    opt = torch.optim.Adam(groups, lr=0.1)
    crit = nn.CrossEntropyLoss()
    fault, model.fault = model.fault, None
    for xb, yb in list(dl)[:2]:  # real optimizer state before the test
        opt.zero_grad()
        crit(model(xb), yb).backward()
        opt.step()
    model.calls, model.fault = 0, fault
    return dl, opt


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("fault", ["raise", "interrupt", "oom"])
@pytest.mark.parametrize("seed", [0, 1])
def test_exceptions_at_a_random_step(fault, seed, cache, private_tmp):
    at = random.Random(seed).randrange(2, 40)
    model = FaultyModel(fault, at_call=at)
    dl, opt = _setup(model)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3)  # a scheduler already attached
    sched_state = sched.state_dict()
    before = full_state(model, opt)
    expected = {"raise": RuntimeError, "interrupt": KeyboardInterrupt, "oom": torch.OutOfMemoryError}[fault]
    with pytest.raises(expected) as info:
        find_lr(model, dl, opt, num_iter=50, cache=cache, progress=False)
    assert_same_state(before, full_state(model, opt))
    assert sched.state_dict() == sched_state
    assert _snapshots(private_tmp) == []
    partial = info.value.partial_result
    assert partial.num_steps == at - 1
    assert partial.stop_reason == ("interrupted" if fault == "interrupt" else "error")
    notes = " ".join(getattr(info.value, "__notes__", []))
    if hasattr(info.value, "add_note"):
        assert f"stopped at step {at - 1}" in notes and "restored" in notes
        if fault == "oom":
            assert "accumulation_steps" in notes


@pytest.mark.parametrize("cache", CACHES)
@pytest.mark.parametrize("fault", ["nan", "inf"])
@pytest.mark.parametrize("where", ["middle", "last"])
def test_non_finite_losses_stop_the_test_and_keep_the_record(fault, where, cache, private_tmp):
    at = 20 if where == "middle" else 30
    model = FaultyModel(fault, at_call=at)
    dl, opt = _setup(model)
    before = full_state(model, opt)
    result = find_lr(model, dl, opt, start_lr=1e-5, end_lr=1e-3, num_iter=30, cache=cache, progress=False)
    assert_same_state(before, full_state(model, opt))
    assert result.stop_reason == "non_finite" and result.stop_step == at - 1
    assert np.isfinite(result.losses[: at - 1]).all() and not np.isfinite(result.losses[at - 1])
    assert _snapshots(private_tmp) == []
    assert result.suggestion.ok or result.suggestion.reason  # an answer or a reason, never an exception


@pytest.mark.parametrize("fault", ["nan", "inf"])
def test_non_finite_at_the_first_step_is_a_clear_error(fault, private_tmp):
    model = FaultyModel(fault, at_call=1)
    dl, opt = _setup(model)
    before = full_state(model, opt)
    with pytest.raises(ValueError, match=r"loss at step 0 .* is (nan|inf).*check the data"):
        find_lr(model, dl, opt, cache="disk", progress=False)
    assert_same_state(before, full_state(model, opt))
    assert _snapshots(private_tmp) == []


class RaisingLoader:
    def __init__(self, dl, fail_at):
        self.dl, self.fail_at = dl, fail_at

    def __iter__(self):
        for i, b in enumerate(self.dl):
            if i == self.fail_at:
                raise OSError("disk read failed (simulated)")
            yield b


@pytest.mark.parametrize("cache", CACHES)
def test_loader_that_raises(cache, private_tmp):
    model = FaultyModel()
    dl, opt = _setup(model)
    before = full_state(model, opt)
    with pytest.raises(OSError, match="disk read failed") as info:
        find_lr(model, RaisingLoader(dl, 5), opt, num_iter=30, cache=cache, progress=False)
    assert_same_state(before, full_state(model, opt))
    assert info.value.partial_result.num_steps == 5
    assert _snapshots(private_tmp) == []


def test_val_loader_that_raises(private_tmp):
    model = FaultyModel()
    dl, opt = _setup(model)
    before = full_state(model, opt)
    with pytest.raises(OSError):
        find_lr(model, dl, opt, val_loader=RaisingLoader(dl, 1), num_iter=10, progress=False)
    assert_same_state(before, full_state(model, opt))
    assert model.training


class ExplodingOptimizer(torch.optim.SGD):
    def __init__(self, params, fail_at, **kw):
        super().__init__(params, **kw)
        self.fail_at, self.n = fail_at, 0

    def step(self, closure=None):
        self.n += 1
        if self.n == self.fail_at:
            raise RuntimeError("optimizer step failed")
        return super().step(closure)


def test_optimizer_step_that_raises():
    model = bn_mlp()
    x, y = blobs()
    opt = ExplodingOptimizer(model.parameters(), fail_at=4, lr=0.1, momentum=0.9)
    before = full_state(model, opt)
    before_n = opt.n
    with pytest.raises(RuntimeError, match="optimizer step failed"):
        find_lr(model, loader(x, y), opt, num_iter=10, progress=False)
    assert_same_state(before, full_state(model, opt))
    assert opt.n == before_n + 4  # our own counter is user state we do not own; the optimizer's state is restored


def test_backward_hook_that_raises():
    model = bn_mlp()
    x, y = blobs()
    calls = {"n": 0}

    def hook(grad):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("backward failed")
        return grad

    handle = model[0].weight.register_hook(hook)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    before = full_state(model, opt)
    try:
        with pytest.raises(RuntimeError, match="backward failed"):
            find_lr(model, loader(x, y), opt, num_iter=10, progress=False)
    finally:
        handle.remove()
    assert_same_state(before, full_state(model, opt))


def test_disk_snapshot_is_private_and_loaded_without_code(private_tmp, monkeypatch):
    model = bn_mlp()
    seen = {}
    real_load = torch.load

    def spy_load(*args, **kwargs):
        seen["weights_only"] = kwargs.get("weights_only")
        (d,) = _snapshots(private_tmp)
        seen["mode"] = stat.S_IMODE(os.stat(private_tmp / d).st_mode)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy_load)
    before = full_state(model)
    with preserved_state(model, cache="disk"):
        with torch.no_grad():
            model[0].weight.add_(1.0)
    assert_same_state(before, full_state(model))
    assert seen == {"weights_only": True, "mode": 0o700}
    assert _snapshots(private_tmp) == []


def test_frozen_shared_and_nonpersistent_state_is_restored():
    model = FaultyModel()
    dl, opt = _setup(model)
    before = full_state(model, opt)
    frozen_before = [p.requires_grad for p in model.parameters()]
    find_lr(model, dl, opt, num_iter=20, progress=False)
    assert_same_state(before, full_state(model, opt))
    assert [p.requires_grad for p in model.parameters()] == frozen_before
    assert model.tied.weight is model.hidden.weight
    assert torch.equal(model.calls_seen, before["buffers"]["calls_seen"])


def test_default_optimizer_leaves_frozen_parameters_alone():
    model = FaultyModel()
    x, y = blobs()
    result = find_lr(model, loader(x, y), num_iter=10, progress=False)
    assert result.optimizer_created
    with pytest.raises(ValueError, match="no trainable parameters"):
        find_lr(nn.Linear(8, 3).requires_grad_(False), loader(x, y), num_iter=10, progress=False)
