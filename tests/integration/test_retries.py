"""find_lr(..., retries=n) end to end: the retry is the range test a user would run by hand, and nothing is lost."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lrfinder import RangeTestResult, find_lr
from lrfinder.retries import advised_range
from tests.helpers import Wobble, assert_same_state, blobs, bn_mlp, full_state, loader


def _wobble_setup():
    torch.manual_seed(0)
    batches = [(torch.randn(4),) for _ in range(50)]
    model = Wobble()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    # real momentum state, so the restore has something to lose
    for (g,) in batches[:3]:
        opt.zero_grad()
        model(g).backward()
        opt.step()
    return model, batches, opt


def _step(model, batch):
    return model(batch[0])


def test_one_retry_is_the_range_test_the_advice_names():
    model, batches, opt = _wobble_setup()
    before = full_state(model, opt)
    kw = dict(step_fn=_step, progress=False)
    out = find_lr(model, batches, opt, retries=1, **kw)
    assert_same_state(before, full_state(model, opt))

    first = find_lr(model, batches, opt, **kw)
    assert first.suggestion.lr is None and "retry_start_lr" in first.suggestion.details
    start, end, steps = advised_range(first, 1e-7, 10.0, 100)
    by_hand = find_lr(model, batches, opt, start_lr=start, end_lr=end, num_iter=steps, **kw)
    assert_same_state(before, full_state(model, opt))

    assert len(out.attempts) == 1
    np.testing.assert_array_equal(out.attempts[0].losses, first.losses)
    np.testing.assert_array_equal(out.lrs, by_hand.lrs)
    np.testing.assert_array_equal(out.losses, by_hand.losses)
    assert (out.config["start_lr"], out.config["end_lr"], out.config["num_iter"]) == (start, end, steps)
    assert out.config["retries"] == 1
    assert out.notes[0].startswith("retry 1: the range test on lr 1e-07..10 in 100 steps gave no LR")
    assert "retry 1:" in out.summary()


def test_retries_with_repeats_retry_the_averaged_test():
    model, batches, opt = _wobble_setup()
    before = full_state(model, opt)
    out = find_lr(model, batches, opt, step_fn=_step, progress=False, repeats=2, retries=1, num_iter=60)
    assert_same_state(before, full_state(model, opt))
    assert len(out.attempts) == 1
    assert out.attempts[0].repeat_losses.shape[0] == 2 and out.repeat_losses.shape[0] == 2
    assert out.config["repeats"] == 2 and out.config["retries"] == 1
    start, end, steps = advised_range(out.attempts[0], 1e-7, 10.0, 60)  # the retry ran on the averaged test's advice
    assert (out.config["start_lr"], out.config["end_lr"], out.config["num_iter"]) == (start, end, steps)
    back = RangeTestResult.from_json_str(out.to_json_str())
    np.testing.assert_array_equal(back.attempts[0].repeat_losses, out.attempts[0].repeat_losses)


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_an_interrupted_retry_restores_everything_and_keeps_the_first_test(exc_type):
    model, batches, opt = _wobble_setup()
    before = full_state(model, opt)
    calls = {"n": 0}

    def step_fn(m, batch):
        calls["n"] += 1
        if calls["n"] == 130:  # the first test stops by step 100; this is inside the retry
            raise exc_type("stop")
        return m(batch[0])

    with pytest.raises(exc_type) as info:
        find_lr(model, batches, opt, step_fn=step_fn, progress=False, retries=2)
    assert_same_state(before, full_state(model, opt))
    partial = info.value.partial_result
    assert len(partial.attempts) == 1 and partial.attempts[0].suggestion.lr is None
    assert 0 < partial.num_steps < 130 and partial.lrs[0] == advised_range(partial.attempts[0], 1e-7, 10.0, 100)[0]


def test_a_model_that_learns_is_tested_once():
    torch.manual_seed(0)
    x, y = blobs()
    model = bn_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    kw = dict(num_iter=80, start_lr=1e-5, progress=False)
    dl = loader(x, y, seed=3)
    out = find_lr(model, dl, opt, nn.CrossEntropyLoss(), retries=3, **kw)
    plain = find_lr(model, loader(x, y, seed=3), opt, nn.CrossEntropyLoss(), **kw)
    assert out.suggestion.lr is not None
    assert out.attempts == () and "retries" not in out.config
    np.testing.assert_array_equal(out.losses, plain.losses)


@pytest.mark.parametrize("bad", [-1, True, 0.5])
def test_bad_retries(bad):
    model, batches, opt = _wobble_setup()
    with pytest.raises(ValueError, match="retries must be an integer >= 0"):
        find_lr(model, batches, opt, step_fn=_step, retries=bad, num_iter=5, progress=False)
