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

    first = find_lr(model, batches, opt, retries=0, **kw)
    assert first.suggestion.lr is None and "retry_start_lr" in first.suggestion.details
    assert "tip: find_lr(..., retries=1), the default, runs the range test" in first.summary()
    start, end, steps = advised_range(first, 1e-7, 10.0, 100)
    by_hand = find_lr(model, batches, opt, start_lr=start, end_lr=end, num_iter=steps, retries=0, **kw)
    assert_same_state(before, full_state(model, opt))

    assert len(out.attempts) == 1
    np.testing.assert_array_equal(out.attempts[0].losses, first.losses)
    np.testing.assert_array_equal(out.lrs, by_hand.lrs)
    np.testing.assert_array_equal(out.losses, by_hand.losses)
    assert (out.config["start_lr"], out.config["end_lr"], out.config["num_iter"]) == (start, end, steps)
    assert out.config["retries"] == 1 and out.config["after_no_fall"] is True  # the first test learned nothing
    assert out.notes[0].startswith("retry 1: the range test on lr 1e-07..10 in 100 steps gave no LR")
    assert "retry 1:" in out.summary() and "tip:" not in out.summary()


def test_the_default_is_one_retry():
    model, batches, opt = _wobble_setup()
    before = full_state(model, opt)
    default = find_lr(model, batches, opt, step_fn=_step, progress=False)
    assert_same_state(before, full_state(model, opt))
    once = find_lr(model, batches, opt, step_fn=_step, progress=False, retries=1)
    assert len(default.attempts) == 1 and default.config["retries"] == 1
    np.testing.assert_array_equal(default.attempts[0].losses, once.attempts[0].losses)
    np.testing.assert_array_equal(default.losses, once.losses)


def test_a_one_shot_iterator_used_up_by_the_first_test_ends_the_retries_with_a_note():
    model, batches, opt = _wobble_setup()
    before = full_state(model, opt)
    first = find_lr(model, batches, opt, step_fn=_step, progress=False, retries=0)
    many = batches * 3  # 150 batches: the first test takes at most 100, the advised retry needs 186
    out = find_lr(model, iter(many), opt, step_fn=_step, progress=False)
    assert_same_state(before, full_state(model, opt))
    np.testing.assert_array_equal(out.losses, first.losses)  # the first test, returned as it was
    assert out.attempts == () and out.config["retries"] == 1 and out.suggestion.lr is None
    assert "retry 1 on lr" in out.notes[0] and "the loader yielded no more batches" in out.notes[0]
    assert "tip:" not in out.summary()
    with pytest.raises(ValueError, match="loader was exhausted after"):  # asked for by hand, it is an error
        find_lr(model, iter(batches[:40]), opt, step_fn=_step, progress=False, retries=0, num_iter=60)


def test_a_retry_whose_first_loss_is_not_finite_ends_the_retries_with_a_note():
    model, batches, opt = _wobble_setup()
    calls = {"n": 0}

    def counting(m, batch):
        calls["n"] += 1
        return m(batch[0])

    first = find_lr(model, batches, opt, step_fn=counting, progress=False, retries=0)
    used = calls["n"]
    before = full_state(model, opt)

    def broken_after_the_first_test(m, batch):  # e.g. a data pipeline that starts to yield NaN
        calls["n"] += 1
        loss = m(batch[0])
        return loss * float("nan") if calls["n"] > used else loss

    calls["n"] = 0
    out = find_lr(model, batches, opt, step_fn=broken_after_the_first_test, progress=False)
    assert_same_state(before, full_state(model, opt))
    np.testing.assert_array_equal(out.losses, first.losses)
    assert out.attempts == () and "its loss was not finite at step 0" in out.notes[0]


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
    plain = find_lr(model, loader(x, y, seed=3), opt, nn.CrossEntropyLoss(), retries=0, **kw)
    assert out.suggestion.lr is not None
    assert out.attempts == () and "retries" not in out.config
    np.testing.assert_array_equal(out.losses, plain.losses)


@pytest.mark.parametrize("bad", [-1, True, 0.5])
def test_bad_retries(bad):
    model, batches, opt = _wobble_setup()
    with pytest.raises(ValueError, match="retries must be an integer >= 0"):
        find_lr(model, batches, opt, step_fn=_step, retries=bad, num_iter=5, progress=False)
