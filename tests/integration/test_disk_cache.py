"""cache="disk": the snapshot is streamed from the live tensors in bounded chunks, never copied whole into memory,
and restored bit for bit from several chunk files."""

from __future__ import annotations

import os
import sys

import pytest
import torch
from torch import nn

import lrfinder._state as state_module
from lrfinder import find_lr, preserved_state
from tests.helpers import assert_same_state, blobs, bn_mlp, full_state, loader

STATE_FILE = os.path.abspath(state_module.__file__)


def _trained_setup():
    x, y = blobs(n=96)
    dl = loader(x, y, batch_size=16)
    model = bn_mlp(hidden=32)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    xb, yb = next(iter(dl))
    nn.functional.cross_entropy(model(xb), yb).backward()
    opt.step()  # momentum state, and gradients left in place: both must come back
    return model, opt, dl


def test_restores_bit_for_bit_from_many_chunks(monkeypatch):
    monkeypatch.setattr(state_module, "_DISK_CHUNK_BYTES", 512)  # a few tensors per file
    model, opt, dl = _trained_setup()
    before = full_state(model, opt)
    with preserved_state(model, opt, cache="disk") as keeper:
        assert len(keeper.chunk_paths) >= 3
        assert all(os.path.exists(p) for p in keeper.chunk_paths)
        for _ in range(3):
            opt.zero_grad(set_to_none=True)
            xb, yb = next(iter(dl))
            nn.functional.cross_entropy(model(xb), yb).backward()
            opt.step()
        tmpdir = keeper.tmpdir
    assert_same_state(before, full_state(model, opt))
    assert not os.path.exists(tmpdir)
    # and through find_lr, diverging on the way
    result = find_lr(model, dl, opt, start_lr=1e-3, end_lr=100.0, num_iter=40, cache="disk", progress=False)
    assert result.stop_reason in ("diverged", "non_finite")
    assert_same_state(before, full_state(model, opt))


@pytest.fixture
def copies(monkeypatch):
    """Bytes of tensor data copied by lrfinder/_state.py (clone / .to(copy=True) / .cpu())."""
    record = {"bytes": 0}

    def wrap(name):
        original = getattr(torch.Tensor, name)

        def wrapper(self, *args, **kwargs):
            if os.path.abspath(sys._getframe(1).f_code.co_filename) == STATE_FILE:
                record["bytes"] += self.numel() * self.element_size()
            return original(self, *args, **kwargs)

        return wrapper

    for name in ("clone", "to", "cpu", "copy_"):
        monkeypatch.setattr(torch.Tensor, name, wrap(name))
    return record


def test_disk_snapshot_copies_nothing_into_memory(copies):
    model, opt, _ = _trained_setup()
    size = sum(t.numel() * t.element_size() for t in model.parameters())
    keeper = state_module._StateKeeper(model, opt, None, "disk")
    try:
        assert copies["bytes"] == 0
    finally:
        keeper.cleanup()
    keeper = state_module._StateKeeper(model, opt, None, "memory")  # the check sees copies when there are some
    assert copies["bytes"] >= 2 * size  # parameters and their gradients at least
