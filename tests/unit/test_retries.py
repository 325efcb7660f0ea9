"""retries: following a declined suggestion's advice, on hand-made curves and a stand-in for the engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

from lrfinder.records import RangeTestResult
from lrfinder.retries import advised_range, retry_range_test
from lrfinder.suggesters import default
from tests.unit.test_suggest import curves

DECADE_STEPS = 99 / 8  # the classic ramp: 100 LRs over 1e-7..10


def _ramp(start: float, end: float, num_iter: int) -> np.ndarray:
    return np.logspace(math.log10(start), math.log10(end), num_iter)


def flat_then_rise(start: float, end: float, num_iter: int, rise_at: float = 1.0) -> RangeTestResult:
    """Learned nothing: flat at 1, then rising 3 per decade above ``rise_at``."""
    lrs = _ramp(start, end, num_iter)
    return RangeTestResult(lrs=lrs, losses=np.where(lrs < rise_at, 1.0, 1.0 + 3 * np.log10(lrs / (0.9 * rise_at))))


def parabola(start: float, end: float, num_iter: int) -> RangeTestResult:
    """A clear dip at lr=0.01: the default gives an LR."""
    lrs = _ramp(start, end, num_iter)
    return RangeTestResult(lrs=lrs, losses=1 + (np.log10(lrs) + 2) ** 2 / 10)


def test_advised_range_reads_the_declined_suggestions_details():
    first = flat_then_rise(1e-7, 10.0, 100)
    s = first.suggestion
    assert s.lr is None
    # by hand: the raw loss leaves 1 at step 87 (lr 10^(-7 + 8 * 87 / 99) = 1.07); the smoothed one a step earlier
    # (its window straddles the kink), at lr 10^(-7 + 8 * 86 / 99) = 0.89. The advice is 4 decades below that to
    # 1 above, with 3x the 12.4 steps per decade over those 5 decades
    rise = 10 ** (-7 + 8 * 86 / 99)
    assert first.losses[86] == 1.0 < first.losses[87]
    assert advised_range(first, 1e-7, 10.0, 100) == (
        float(f"{rise / 1e4:.2g}"), float(f"{rise * 10:.2g}"), math.ceil(3 * DECADE_STEPS * 5))
    assert (s.details["retry_start_lr"], s.details["retry_end_lr"]) == advised_range(first, 1e-7, 10.0, 100)[:2]


def test_advice_that_names_only_start_lr_keeps_the_rest():
    lrs = _ramp(1e-7, 10.0, 100)
    rising = RangeTestResult(lrs=lrs, losses=1.0 + np.log10(lrs / 1e-7))
    assert advised_range(rising, 1e-7, 10.0, 100) == (1e-10, 10.0, 100)
    assert advised_range(rising, 1e-7, 3.0, 80) == (1e-10, 3.0, 80)


def test_the_summary_points_a_declined_test_to_retries():
    tip = "tip: find_lr(..., retries=1), the default, runs the range test this advises for you"
    assert tip in flat_then_rise(1e-7, 10.0, 100).summary()
    assert tip not in parabola(1e-7, 10.0, 100).summary()
    retried = retry_range_test(FakeEngine(flat_then_rise), KWARGS, retries=1)  # declined again: it was retried
    assert tip not in retried.summary() and "retry 1:" in retried.summary()


@pytest.mark.parametrize("curve", [parabola(1e-7, 10.0, 100),
                                   RangeTestResult(lrs=_ramp(1e-7, 10.0, 100), losses=np.ones(100))])
def test_no_advised_range_when_there_is_an_lr_or_no_range_named(curve):
    assert advised_range(curve, 1e-7, 10.0, 100) is None


class FakeEngine:
    """Stands in for find_lr: answers each call with ``answers[i](start_lr, end_lr, num_iter)``, records calls."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        answer = self.answers[min(len(self.calls), len(self.answers)) - 1]
        return answer(kwargs["start_lr"], kwargs["end_lr"], kwargs["num_iter"])


KWARGS = {"start_lr": 1e-7, "end_lr": 10.0, "num_iter": 100, "progress": False}


def test_a_retry_runs_on_the_advised_range_and_keeps_the_first_test():
    engine = FakeEngine(flat_then_rise, parabola)
    out = retry_range_test(engine, KWARGS, retries=3)
    first = flat_then_rise(1e-7, 10.0, 100)
    start, end, steps = advised_range(first, 1e-7, 10.0, 100)
    assert len(engine.calls) == 2  # the second test gave an LR: no third
    assert engine.calls[0] == {**KWARGS, "retries": 0}
    assert engine.calls[1] == {**KWARGS, "start_lr": start, "end_lr": end, "num_iter": steps, "retries": 0}
    assert out.suggestion.lr is not None
    assert out.num_steps == steps and out.lrs[0] == pytest.approx(start)
    assert len(out.attempts) == 1
    np.testing.assert_array_equal(out.attempts[0].losses, first.losses)
    assert out.config["retries"] == 3
    assert out.notes[0].startswith("retry 1: the range test on lr 1e-07..10 in 100 steps gave no LR (the loss "
                                   "stayed flat")
    assert f"ran again on lr {start:.2g}..{end:.2g} in {steps} steps" in out.notes[0]
    assert not any("lr_sweep" in n for n in out.notes)  # the retry gave an LR


def test_a_retry_after_a_test_that_learned_nothing_suggests_1_5x_higher():
    out = retry_range_test(FakeEngine(flat_then_rise, parabola), KWARGS, retries=1)
    assert out.config["after_no_fall"] is True
    plain = default(out.lrs, out.losses)  # the same curve, read as a first test
    assert out.suggestion.lr == pytest.approx(1.5 * plain.lr)
    assert out.suggestion.details["factor"] == pytest.approx(plain.details["factor"] / 1.5)
    assert out.suggestion.details["after_no_fall_factor"] == 1.5
    assert "1.5x smaller because the test before this one learned nothing" in out.suggestion.evidence
    assert out.suggest("default").lr == out.suggestion.lr  # the plot and `lrfinder suggest` read it so too
    assert out.suggest("default", after_no_fall=False).lr == plain.lr
    back = RangeTestResult.from_json_str(out.to_json_str())
    assert back.suggestion.lr == out.suggestion.lr
    assert "after_no_fall_factor" not in plain.details and "after_no_fall" not in out.attempts[0].config


def test_retries_follow_the_advice_each_time_up_to_the_limit():
    engine = FakeEngine(lambda a, b, n: flat_then_rise(a, b, n, rise_at=b / 10))  # always declines, a new range
    out = retry_range_test(engine, KWARGS, retries=2)
    assert len(engine.calls) == 3
    assert len(out.attempts) == 2 and len(out.notes) == 3
    # each call ran on the range its predecessor advised
    for before, call in zip(out.attempts, engine.calls[1:], strict=True):
        advice = advised_range(before, 0, 0, 0)
        assert (call["start_lr"], call["end_lr"], call["num_iter"]) == advice
    assert out.suggestion.lr is None  # still declined: the reason is the last test's
    start, end, _ = advised_range(out, 0, 0, 0)
    assert out.notes[2] == (
        "after 3 range tests the loss still did not fall: a range test gives each LR too few steps for this model "
        "to start learning, and more retries did not help in the suggestion benchmark; train a few constant LRs "
        f"for longer instead, e.g. lrfinder.lr_sweep(train_fn, lrs=lrfinder.lr_grid({start:.2g}, {end:.2g}, 6)) "
        "(the range the last test advises)")


def test_a_range_that_starts_too_high_is_retried_lower_without_the_sweep_advice():
    def rising(a, b, n):  # rose from the first step: the advice is a lower start_lr, nothing about steps
        lrs = _ramp(a, b, n)
        return RangeTestResult(lrs=lrs, losses=1.0 + np.log10(lrs / a))

    engine = FakeEngine(rising)
    out = retry_range_test(engine, KWARGS, retries=1)
    assert [c["start_lr"] for c in engine.calls] == [1e-7, 1e-10]
    assert [(c["end_lr"], c["num_iter"]) for c in engine.calls] == [(10.0, 100)] * 2
    assert len(out.notes) == 1 and "lower start_lr" in out.suggestion.reason  # its own reason says what to do
    assert "after_no_fall" not in out.config  # the first test did learn (it rose): no 1.5x for its retry


def test_retries_stop_when_the_advice_repeats_a_range_already_tried():
    fixed = flat_then_rise(1e-7, 10.0, 100)
    engine = FakeEngine(lambda a, b, n: fixed)  # whatever it is asked, the same curve and the same advice
    out = retry_range_test(engine, KWARGS, retries=5)
    assert len(engine.calls) == 2
    assert len(out.attempts) == 1


def test_no_retry_when_the_first_test_gives_an_lr_or_retries_is_zero():
    engine = FakeEngine(parabola)
    out = retry_range_test(engine, KWARGS, retries=2)
    assert len(engine.calls) == 1 and out.attempts == () and "retries" not in out.config
    engine = FakeEngine(flat_then_rise)
    out = retry_range_test(engine, KWARGS, retries=0)
    assert len(engine.calls) == 1 and out.attempts == () and out.suggestion.lr is None


@pytest.mark.parametrize("bad", [-1, True, 1.5, "2", None])
def test_bad_retries_are_named(bad):
    engine = FakeEngine(parabola)
    with pytest.raises(ValueError, match=r"retries must be an integer >= 0, got retries="):
        retry_range_test(engine, KWARGS, retries=bad)
    assert engine.calls == []


def test_an_exception_in_a_retry_carries_the_earlier_attempts():
    partial = flat_then_rise(1e-5, 1.0, 30)

    def boom(a, b, n):
        exc = KeyboardInterrupt()
        exc.partial_result = partial
        raise exc

    engine = FakeEngine(flat_then_rise, boom)
    with pytest.raises(KeyboardInterrupt) as info:
        retry_range_test(engine, KWARGS, retries=1)
    got = info.value.partial_result
    np.testing.assert_array_equal(got.losses, partial.losses)
    assert len(got.attempts) == 1
    np.testing.assert_array_equal(got.attempts[0].losses, flat_then_rise(1e-7, 10.0, 100).losses)


def test_attempts_round_trip_through_json():
    out = retry_range_test(FakeEngine(flat_then_rise, parabola), KWARGS, retries=1)
    back = RangeTestResult.from_json_str(out.to_json_str())
    assert len(back.attempts) == 1
    np.testing.assert_array_equal(back.attempts[0].losses, out.attempts[0].losses)
    np.testing.assert_array_equal(back.losses, out.losses)
    assert back.notes == out.notes and back.config == out.config
    # a record written before attempts existed reads as having none
    data = parabola(1e-7, 10.0, 100).to_dict()
    del data["attempts"]
    assert RangeTestResult.from_dict(data).attempts == ()


def test_malformed_attempts_are_refused():
    data = parabola(1e-7, 10.0, 100).to_dict()
    with pytest.raises(ValueError, match="'attempts' in a range_test record must be a list"):
        RangeTestResult.from_dict({**data, "attempts": {"lrs": []}})
    with pytest.raises(ValueError, match="a range_test record must be a JSON object, got int"):
        RangeTestResult.from_dict({**data, "attempts": [3]})
    with pytest.raises(TypeError, match="attempts must hold RangeTestResult records, got dict at index 0"):
        RangeTestResult(lrs=[1e-3, 1e-2], losses=[1.0, 0.5], attempts=({},))


def test_the_plot_draws_the_earlier_attempts_behind():
    out = retry_range_test(FakeEngine(flat_then_rise, parabola), KWARGS, retries=1)
    ax = out.plot()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[0] == "attempt 1: no LR, retried"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), out.attempts[0].lrs)
    assert "attempt 1: no LR, retried" not in [line.get_label() for line in out.plot(show_attempts=False).get_lines()]
    import matplotlib.pyplot as plt

    plt.close("all")


@settings(deadline=None)
@given(curves())
def test_any_curve_advises_a_valid_range_or_none(curve):
    lrs, losses = curve
    if lrs.size < 2:
        return
    result = RangeTestResult(lrs=lrs, losses=losses)
    advice = advised_range(result, float(lrs[0]), float(lrs[-1]), int(lrs.size))
    s = result.suggestion
    if s.lr is not None or "retry_start_lr" not in s.details:
        assert advice is None
    else:  # a range find_lr accepts: positive, increasing, at least one step
        assert advice is not None
        start, end, steps = advice
        assert 0 < start < end and math.isfinite(end)
        assert isinstance(steps, int) and steps >= 1
