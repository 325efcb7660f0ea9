"""Sanity checks and schedules on a CUDA model (skipped without CUDA)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from lrfinder.sanity import check_initial_loss, overfit_small_batch
from lrfinder.schedules import one_cycle, one_cycle_lr
from tests.helpers import assert_same_state, blobs, bn_mlp, full_state, loader

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_sanity_checks_on_cuda_leave_the_model_untouched():
    x, y = blobs(n=256, d=8, classes=3)
    model = bn_mlp(d=8, classes=3).cuda()
    before = full_state(model)
    check = check_initial_loss(model, loader(x, y), nn.CrossEntropyLoss())
    assert check.verdict == "fine" and check.num_classes == 3
    fit = overfit_small_batch(model, loader(x, y, batch_size=64), nn.CrossEntropyLoss(), lr=1e-2, steps=300)
    assert fit.verdict == "fits"
    assert_same_state(before, full_state(model))
    assert next(model.parameters()).is_cuda


def test_one_cycle_on_a_cuda_optimizer_matches_its_closed_form():
    model = nn.Linear(4, 2).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = one_cycle(opt, 0.5, 50)
    for t in range(50):
        assert opt.param_groups[0]["lr"] == pytest.approx(one_cycle_lr(t, 0.5, 50), rel=1e-9)
        opt.step()
        if t < 49:
            sched.step()
